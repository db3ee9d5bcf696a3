//! Receiver statistics for RTCP reception reports (RFC 3550 §6.4.1): the sequence-number
//! bookkeeping of RFC 3550 §A.1, loss per §A.3 and interarrival jitter per §A.8.
//!
//! # The contract
//!
//! One [`ReceiverStats`] per received SSRC. Call [`ReceiverStats::on_packet`] for each
//! packet with its arrival time, [`ReceiverStats::on_sender_report`] for each SR from that
//! source, and [`ReceiverStats::report_block`] when writing an SR or RR; each report block
//! starts a new interval for the fraction lost.
//!
//! As RFC 3550 §A.1 describes, a source is valid after `MIN_SEQUENTIAL` (2) packets in
//! sequence, and the count starts from the second of them; a jump of `MAX_DROPOUT` (3000)
//! or more is taken as a restart only when the packet after it follows it in sequence.
//! Retransmissions should not be fed here: they would count twice.

use std::time::{Duration, Instant};

use crate::rtcp::ReportBlock;

/// RFC 3550 §A.1.
const MIN_SEQUENTIAL: u32 = 2;
/// RFC 3550 §A.1.
const MAX_DROPOUT: u32 = 3000;
/// RFC 3550 §A.1.
const MAX_MISORDER: u32 = 100;
/// RFC 3550 §A.1.
const SEQ_MOD: u32 = 1 << 16;

/// What a receiver knows about one source, for its report block.
#[derive(Debug, Clone)]
pub struct ReceiverStats {
    ssrc: u32,
    clock_rate: u32,
    started: bool,
    max_seq: u16,
    /// Shifted count of sequence-number cycles (multiples of 65536).
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    epoch: Option<Instant>,
    transit: Option<u32>,
    /// Jitter times 16 (RFC 3550 §A.8).
    jitter_q4: u32,
    last_sr: Option<(u32, Instant)>,
}

impl ReceiverStats {
    /// Statistics for source `ssrc` whose RTP clock runs at `clock_rate` Hz.
    pub fn new(ssrc: u32, clock_rate: u32) -> ReceiverStats {
        ReceiverStats {
            ssrc,
            clock_rate: clock_rate.max(1),
            started: false,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: SEQ_MOD + 1,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            epoch: None,
            transit: None,
            jitter_q4: 0,
            last_sr: None,
        }
    }

    /// The source.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// RFC 3550 §A.1 `update_seq`: whether the packet counts.
    fn update_seq(&mut self, seq: u16) -> bool {
        let udelta = u32::from(seq.wrapping_sub(self.max_seq));
        if self.probation > 0 {
            // Packets must be in sequence to leave probation.
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return true;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return false;
        }
        if udelta < MAX_DROPOUT {
            // In order, with a permissible gap.
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(SEQ_MOD);
            }
            self.max_seq = seq;
        } else if udelta <= SEQ_MOD - MAX_MISORDER {
            // A very large jump: a restart if the next packet follows it.
            if u32::from(seq) == self.bad_seq {
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (SEQ_MOD - 1);
                return false;
            }
        }
        // Otherwise a duplicate or reordered packet: counted, the maximum unchanged.
        self.received = self.received.wrapping_add(1);
        true
    }

    /// Takes a received packet; returns whether it counts (RFC 3550 §A.1: not during
    /// probation, not a lone large jump).
    pub fn on_packet(&mut self, seq: u16, timestamp: u32, now: Instant) -> bool {
        if !self.started {
            self.started = true;
            self.init_seq(seq);
            self.max_seq = seq.wrapping_sub(1);
            self.probation = MIN_SEQUENTIAL;
        }
        if !self.update_seq(seq) {
            return false;
        }
        // RFC 3550 §A.8: arrival and timestamp in the same units; J += (|D| - J) / 16.
        let epoch = *self.epoch.get_or_insert(now);
        let ticks = now.saturating_duration_since(epoch).as_nanos() * u128::from(self.clock_rate)
            / 1_000_000_000;
        let arrival = ticks as u32;
        let transit = arrival.wrapping_sub(timestamp);
        if let Some(prev) = self.transit {
            let d = (transit.wrapping_sub(prev) as i32).unsigned_abs();
            self.jitter_q4 = self
                .jitter_q4
                .wrapping_add(d)
                .wrapping_sub((self.jitter_q4 + 8) >> 4);
        }
        self.transit = Some(transit);
        true
    }

    /// Takes a sender report from the source: its NTP timestamp, for LSR and DLSR.
    pub fn on_sender_report(&mut self, ntp: u64, now: Instant) {
        // RFC 3550 §6.4.1: LSR is the middle 32 bits of the NTP timestamp.
        self.last_sr = Some(((ntp >> 16) as u32, now));
    }

    /// The extended highest sequence number received (RFC 3550 §6.4.1).
    pub fn extended_highest(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected so far (RFC 3550 §A.3).
    pub fn expected(&self) -> u32 {
        self.extended_highest()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Packets counted so far.
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Cumulative packets lost, clamped to 24 bits signed (RFC 3550 §A.3); negative when
    /// duplicates outnumber losses.
    pub fn cumulative_lost(&self) -> i32 {
        let lost = i64::from(self.expected()) - i64::from(self.received);
        lost.clamp(-0x80_0000, 0x7f_ffff) as i32
    }

    /// The interarrival jitter in RTP timestamp units (RFC 3550 §A.8).
    pub fn jitter(&self) -> u32 {
        self.jitter_q4 >> 4
    }

    /// The report block about this source at `now`, or `None` before it is valid
    /// (RFC 3550 §A.1 probation). Starts a new interval for the fraction lost.
    pub fn report_block(&mut self, now: Instant) -> Option<ReportBlock> {
        if !self.started || self.probation > 0 {
            return None;
        }
        // RFC 3550 §A.3.
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        let (lsr, dlsr) = match self.last_sr {
            Some((lsr, at)) => (lsr, to_1_65536(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        Some(ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost(),
            highest_seq: self.extended_highest(),
            jitter: self.jitter(),
            lsr,
            dlsr,
        })
    }
}

/// A duration in units of 1/65536 s (RFC 3550 §6.4.1 DLSR), saturating.
fn to_1_65536(d: Duration) -> u32 {
    let v = d.as_nanos() * 65536 / 1_000_000_000;
    u32::try_from(v).unwrap_or(u32::MAX)
}
