//! Datagram Packetization Layer Path MTU Discovery for SCTP (RFC 8899 §5, SCTP in §6.2).
//!
//! ```text
//!           established (max > base)
//! Disabled ------------------------> Searching --probe acked at max, or the search
//!   (max <= base)                      ^   |      range closed--> SearchComplete
//!                                      |   |                          |
//!                                      |   +--black hole: PLPMTU = base, search again
//!                                      +---PMTU_RAISE_TIMER (PLPMTU < max)-+
//! ```
//!
//! The PLPMTU starts at BASE_PLPMTU, the configured packet size (1200 always passes over
//! WebRTC, RFC 8831 §5), so the BASE state of §5.2 is left at once. A probe is a
//! HEARTBEAT bundled with a PAD chunk filling the packet to the probed size (§6.2.1.2,
//! RFC 4820); its HEARTBEAT ACK confirms the size (§4.2). The search tries MAX_PLPMTU
//! first, then halves the range between the PLPMTU and the smallest size that failed
//! MAX_PROBES times (§5.3.1). Sizes are multiples of 4, as every SCTP packet is.
//!
//! Probes are not sent under the congestion controller and are not counted in the flight
//! size; one probe is outstanding at a time, so consecutive probes are at least one RTT
//! apart, and a lost probe is no congestion signal (RFC 8899 §3 item 7). A lost probe does
//! not count in the association's error counter either: it says nothing about the path
//! carrying packets of the PLPMTU.
//!
//! This module is pure bookkeeping; the engine writes the probe packets and feeds acks,
//! timers and black-hole evidence in.

use std::time::{Duration, Instant};

/// RFC 8899 §5.1.2: MAX_PROBES.
pub(super) const MAX_PROBES: u32 = 3;
/// RFC 8899 §5.1.1: PMTU_RAISE_TIMER, 600 s.
pub(super) const PMTU_RAISE_TIMER: Duration = Duration::from_secs(600);
/// RFC 8899 §5.1.1: the PROBE_TIMER MUST NOT be below 1 second.
const MIN_PROBE_TIMER: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// MAX_PLPMTU is not above BASE_PLPMTU: nothing to discover.
    Disabled,
    /// Not established yet.
    Idle,
    Searching,
    SearchComplete,
}

/// A probe in flight.
#[derive(Debug, Clone, Copy)]
pub(super) struct Probe {
    pub nonce: u64,
    pub size: usize,
    pub sent_at: Instant,
}

pub(super) struct Plpmtud {
    base: usize,
    max: usize,
    /// The confirmed PLPMTU: the size DATA packets are built to.
    pub plpmtu: usize,
    phase: Phase,
    /// Smallest size that failed MAX_PROBES times in this search (`max + 4` before any).
    too_big: usize,
    /// Consecutive losses at the size being probed (PROBE_COUNT).
    probe_count: u32,
    /// A probe packet of `probe_size()` is to be written.
    pub probe_due: bool,
    pub outstanding: Option<Probe>,
    /// PROBE_TIMER while a probe is out, PMTU_RAISE_TIMER in SearchComplete.
    pub timer: Option<Instant>,
    /// Probe packets sent, for the statistics.
    pub probes_sent: u64,
    /// Black holes detected.
    pub black_holes: u64,
}

/// `n` rounded down to a multiple of 4.
fn align4(n: usize) -> usize {
    n & !3
}

impl Plpmtud {
    pub fn new(base: usize, max: usize) -> Plpmtud {
        let max = align4(max);
        let phase = if max > base {
            Phase::Idle
        } else {
            Phase::Disabled
        };
        Plpmtud {
            base,
            max,
            plpmtu: base,
            phase,
            too_big: max + 4,
            probe_count: 0,
            probe_due: false,
            outstanding: None,
            timer: None,
            probes_sent: 0,
            black_holes: 0,
        }
    }

    /// BASE_PLPMTU.
    pub fn base(&self) -> usize {
        self.base
    }

    /// The association is up: the search starts (RFC 8899 §5.2, leaving BASE).
    pub fn start(&mut self, now: Instant) {
        if self.phase == Phase::Idle {
            self.search(now);
        }
    }

    /// Starts a search from the current PLPMTU up to MAX_PLPMTU.
    fn search(&mut self, now: Instant) {
        self.phase = Phase::Searching;
        self.too_big = self.max + 4;
        self.probe_count = 0;
        self.outstanding = None;
        self.timer = None;
        self.next_probe(now);
    }

    /// RFC 8899 §5.3.1: the next PROBED_SIZE: MAX_PLPMTU first, then the middle of what
    /// is left; the search is complete when nothing is left between.
    fn next_probe(&mut self, now: Instant) {
        if self.probe_size() <= self.plpmtu {
            self.complete(now);
        } else {
            self.probe_due = true;
        }
    }

    fn complete(&mut self, now: Instant) {
        self.phase = Phase::SearchComplete;
        self.probe_due = false;
        self.outstanding = None;
        // RFC 8899 §5.3: after PMTU_RAISE_TIMER, search for a larger size again.
        self.timer = (self.plpmtu < self.max).then_some(now + PMTU_RAISE_TIMER);
    }

    /// The size of the probe to send now.
    pub fn probe_size(&self) -> usize {
        if self.too_big > self.max {
            self.max
        } else {
            align4((self.plpmtu + self.too_big) / 2)
        }
    }

    /// A probe packet of `size` went out now.
    pub fn on_probe_sent(&mut self, now: Instant, nonce: u64, size: usize, rto: Duration) {
        self.probe_due = false;
        self.probes_sent += 1;
        self.outstanding = Some(Probe {
            nonce,
            size,
            sent_at: now,
        });
        // RFC 8899 §5.1.1 asks for at least 1 s (and suggests over 15 s for paths without
        // an RTT estimate); a HEARTBEAT ACK is due within one RTO (RFC 9260 §8.3).
        self.timer = Some(now + rto.max(MIN_PROBE_TIMER));
    }

    /// A HEARTBEAT ACK carrying `nonce`: whether it answered our probe (then the RTT is
    /// measured from its send time, returned).
    pub fn on_ack(&mut self, now: Instant, nonce: u64) -> Option<Probe> {
        let p = self.outstanding.filter(|p| p.nonce == nonce)?;
        self.outstanding = None;
        self.timer = None;
        self.probe_count = 0;
        // RFC 8899 §4.2: the acknowledged size is the PLPMTU.
        if p.size > self.plpmtu {
            self.plpmtu = p.size;
        }
        if self.phase == Phase::Searching {
            self.next_probe(now);
        }
        Some(p)
    }

    /// The timer fired at `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        if self.timer.is_none_or(|t| t > now) {
            return;
        }
        self.timer = None;
        match self.phase {
            Phase::Searching => {
                // RFC 8899 §5.3.1: PROBE_TIMER expired; PROBE_COUNT grows; MAX_PROBES
                // losses mean the size does not pass.
                let Some(p) = self.outstanding.take() else {
                    return;
                };
                self.probe_count += 1;
                if self.probe_count >= MAX_PROBES {
                    self.probe_count = 0;
                    self.too_big = p.size;
                    self.next_probe(now);
                } else {
                    self.probe_due = true;
                }
            }
            Phase::SearchComplete => self.search(now),
            Phase::Disabled | Phase::Idle => {}
        }
    }

    /// RFC 8899 §4.3: packets of the PLPMTU are being lost (a black hole): back to
    /// BASE_PLPMTU, and search again.
    pub fn black_hole(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Disabled | Phase::Idle) || self.plpmtu <= self.base {
            return;
        }
        self.black_holes += 1;
        self.plpmtu = self.base;
        self.search(now);
    }

    /// Whether the association is closed: no more probing.
    pub fn stop(&mut self) {
        self.probe_due = false;
        self.outstanding = None;
        self.timer = None;
        if self.phase != Phase::Disabled {
            self.phase = Phase::Idle;
        }
    }
}
