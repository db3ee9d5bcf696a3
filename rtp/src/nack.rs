//! Retransmission requests (RFC 4585 §6.2.1 generic NACK): the receiver's [`NackGenerator`]
//! and the sender's [`NackResponder`], a bounded history of sent packets.
//!
//! # The contract
//!
//! Receiver: call [`NackGenerator::on_packet`] for every packet received on the media SSRC
//! (retransmissions too, after RTX unwrapping), then [`NackGenerator::poll_nack`] (or
//! [`NackGenerator::write_nack`]) until it returns `None`, and again at
//! [`NackGenerator::poll_timeout`]. Each missing sequence number is asked for at most
//! `max_retries` times, `retry_interval` (or the RTT given to
//! [`NackGenerator::set_rtt`]) apart, and given up after that, or when it falls more than
//! `max_age` sequence numbers behind the newest. A gap too large to ask for
//! (`max_missing`) is given up at once and [`NackGenerator::take_keyframe_request`] turns
//! true: ask for a key frame (PLI) instead.
//!
//! Sender: hand every packet sent to [`NackResponder::on_sent`]; on a NACK for the stream,
//! [`NackResponder::on_nack`] gives back each packet still in the history, not older than
//! `max_age`, and not already resent within `min_resend_interval`. Wrap them for RTX with
//! [`crate::rtx::RtxSender`] when RTX is negotiated.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::rtcp::{self, RtcpPacket};
use crate::seq::SeqUnwrapper;
use crate::{Error, RtpPacket};

/// Settings of a [`NackGenerator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackConfig {
    /// NACKs per missing packet at most. Default 10.
    pub max_retries: u32,
    /// Time between NACKs for one packet when no RTT is known. Default 100 ms.
    pub retry_interval: Duration,
    /// Time between NACKs for one packet at least, whatever the RTT. Default 10 ms.
    pub min_retry_interval: Duration,
    /// Time before the first NACK for a packet, for reordering to settle. Default 0.
    pub reorder_delay: Duration,
    /// Missing packets more than this many sequence numbers behind the newest are given
    /// up. Default 1000.
    pub max_age: u16,
    /// Missing packets tracked at most; a larger gap is given up. Default 500.
    pub max_missing: usize,
    /// Sequence numbers per [`NackGenerator::poll_nack`] at most. Default 200.
    pub max_per_nack: usize,
}

impl Default for NackConfig {
    fn default() -> Self {
        NackConfig {
            max_retries: 10,
            retry_interval: Duration::from_millis(100),
            min_retry_interval: Duration::from_millis(10),
            reorder_delay: Duration::ZERO,
            max_age: 1000,
            max_missing: 500,
            max_per_nack: 200,
        }
    }
}

/// What [`NackGenerator::on_packet`] made of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// The newest so far (any gap before it is now missing).
    New,
    /// One that was missing: a retransmission or a late packet.
    Recovered,
    /// Older than the newest and not missing: a duplicate, or given up already.
    Old,
}

/// Counters of a [`NackGenerator`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NackStats {
    /// Sequence numbers found missing.
    pub missing: u64,
    /// Missing ones that came after all.
    pub recovered: u64,
    /// Missing ones given up (retries spent, too old, or too many).
    pub given_up: u64,
    /// Sequence numbers put in NACKs, retries counted.
    pub requested: u64,
}

#[derive(Debug, Clone, Copy)]
struct Missing {
    sends: u32,
    next: Instant,
}

/// The receiver side: finds gaps and asks for them (see the module docs).
#[derive(Debug, Clone)]
pub struct NackGenerator {
    config: NackConfig,
    unwrap: SeqUnwrapper,
    highest: Option<i64>,
    missing: BTreeMap<i64, Missing>,
    rtt: Option<Duration>,
    keyframe_request: bool,
    stats: NackStats,
}

impl NackGenerator {
    /// A generator with `config`.
    pub fn new(config: NackConfig) -> NackGenerator {
        let mut config = config;
        config.max_per_nack = config.max_per_nack.max(1);
        NackGenerator {
            config,
            unwrap: SeqUnwrapper::new(),
            highest: None,
            missing: BTreeMap::new(),
            rtt: None,
            keyframe_request: false,
            stats: NackStats::default(),
        }
    }

    /// The round-trip time, which then spaces the retries (no closer than
    /// `min_retry_interval`).
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.rtt = Some(rtt);
    }

    /// The counters.
    pub fn stats(&self) -> &NackStats {
        &self.stats
    }

    /// Sequence numbers missing and still asked for, oldest first.
    pub fn missing(&self) -> impl Iterator<Item = u16> + '_ {
        self.missing.keys().map(|&s| s as u16)
    }

    /// Whether packets were given up since the last call, so that the receiver should ask
    /// for a key frame; the flag is cleared.
    pub fn take_keyframe_request(&mut self) -> bool {
        std::mem::take(&mut self.keyframe_request)
    }

    fn interval(&self) -> Duration {
        self.rtt
            .unwrap_or(self.config.retry_interval)
            .max(self.config.min_retry_interval)
    }

    fn give_up(&mut self, n: usize) {
        if n > 0 {
            self.stats.given_up += n as u64;
            self.keyframe_request = true;
        }
    }

    /// Takes the sequence number of a received packet.
    pub fn on_packet(&mut self, seq: u16, now: Instant) -> Received {
        let ext = self.unwrap.unwrap(seq);
        let Some(highest) = self.highest else {
            self.highest = Some(ext);
            return Received::New;
        };
        if ext <= highest {
            if self.missing.remove(&ext).is_some() {
                self.stats.recovered += 1;
                return Received::Recovered;
            }
            return Received::Old;
        }
        self.highest = Some(ext);
        let gap = ext - highest - 1;
        if gap > 0 {
            self.stats.missing += gap as u64;
            if gap > self.config.max_missing as i64 {
                let n = self.missing.len() + gap as usize;
                self.missing.clear();
                self.give_up(n);
                return Received::New;
            }
            let first = now.checked_add(self.config.reorder_delay).unwrap_or(now);
            for s in highest + 1..ext {
                self.missing.insert(
                    s,
                    Missing {
                        sends: 0,
                        next: first,
                    },
                );
            }
        }
        // Too old, then too many.
        let oldest = ext - i64::from(self.config.max_age);
        let keep = self.missing.split_off(&oldest);
        let old = std::mem::replace(&mut self.missing, keep).len();
        self.give_up(old);
        let mut over = 0;
        while self.missing.len() > self.config.max_missing {
            self.missing.pop_first();
            over += 1;
        }
        self.give_up(over);
        Received::New
    }

    /// The sequence numbers to ask for at `now`, at most `max_per_nack`, oldest first; call
    /// again until `None`. Each one returned counts as one retry.
    pub fn poll_nack(&mut self, now: Instant) -> Option<Vec<u16>> {
        let interval = self.interval();
        let mut out = Vec::new();
        let mut spent = Vec::new();
        for (&s, m) in self.missing.iter_mut() {
            if m.next > now {
                continue;
            }
            if m.sends >= self.config.max_retries {
                spent.push(s);
                continue;
            }
            if out.len() == self.config.max_per_nack {
                break;
            }
            m.sends += 1;
            m.next = now.checked_add(interval).unwrap_or(now);
            out.push(s as u16);
        }
        for s in &spent {
            self.missing.remove(s);
        }
        self.give_up(spent.len());
        self.stats.requested += out.len() as u64;
        (!out.is_empty()).then_some(out)
    }

    /// [`NackGenerator::poll_nack`] written as a generic NACK from `sender` about `media`
    /// (RFC 4585 §6.2.1) appended to `out`; false when there is nothing to ask for.
    pub fn write_nack(&mut self, now: Instant, sender: u32, media: u32, out: &mut Vec<u8>) -> bool {
        match self.poll_nack(now) {
            Some(lost) => {
                rtcp::write_nack(out, sender, media, &lost);
                true
            }
            None => false,
        }
    }

    /// When [`NackGenerator::poll_nack`] next has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.missing.values().map(|m| m.next).min()
    }
}

/// Settings of a [`NackResponder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackResponderConfig {
    /// Packets kept, rounded up to a power of two, 1..=32768. Default 1024.
    pub capacity: usize,
    /// Packets longer than this are not kept. Default 1500.
    pub max_packet_len: usize,
    /// Packets sent longer ago than this are not resent. Default 1 s.
    pub max_age: Duration,
    /// A packet is resent at most once per this interval. Default 10 ms.
    pub min_resend_interval: Duration,
}

impl Default for NackResponderConfig {
    fn default() -> Self {
        NackResponderConfig {
            capacity: 1024,
            max_packet_len: 1500,
            max_age: Duration::from_secs(1),
            min_resend_interval: Duration::from_millis(10),
        }
    }
}

/// Counters of a [`NackResponder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NackResponderStats {
    /// Sequence numbers asked for.
    pub requested: u64,
    /// Packets given back for resending.
    pub resent: u64,
    /// Asked for but no longer (or never) in the history, or too old.
    pub missing: u64,
    /// Asked for again within `min_resend_interval`.
    pub throttled: u64,
}

#[derive(Debug)]
struct Stored {
    seq: u16,
    sent: Instant,
    resent: Option<Instant>,
    bytes: Vec<u8>,
}

/// The sender side: a bounded history of sent RTP packets that answers NACKs (see the
/// module docs). Memory is at most `capacity × max_packet_len`; buffers are reused.
#[derive(Debug)]
pub struct NackResponder {
    config: NackResponderConfig,
    slots: Vec<Option<Stored>>,
    stats: NackResponderStats,
}

impl NackResponder {
    /// An empty history.
    pub fn new(config: NackResponderConfig) -> NackResponder {
        let mut config = config;
        config.capacity = config.capacity.clamp(1, 1 << 15).next_power_of_two();
        NackResponder {
            config,
            slots: Vec::new(),
            stats: NackResponderStats::default(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> &NackResponderStats {
        &self.stats
    }

    /// The settings in force (`capacity` rounded).
    pub fn config(&self) -> &NackResponderConfig {
        &self.config
    }

    /// Keeps a copy of a sent RTP packet, replacing the one `capacity` sequence numbers
    /// before it.
    pub fn on_sent(&mut self, packet: &[u8], now: Instant) -> Result<(), Error> {
        let p = RtpPacket::parse(packet)?;
        if packet.len() > self.config.max_packet_len {
            return Err(Error::TooLarge);
        }
        if self.slots.is_empty() {
            self.slots.resize_with(self.config.capacity, || None);
        }
        let seq = p.sequence_number();
        let i = usize::from(seq) & (self.config.capacity - 1);
        let Some(slot) = self.slots.get_mut(i) else {
            return Err(Error::BadValue);
        };
        match slot {
            Some(s) => {
                s.seq = seq;
                s.sent = now;
                s.resent = None;
                s.bytes.clear();
                s.bytes.extend_from_slice(packet);
            }
            None => {
                *slot = Some(Stored {
                    seq,
                    sent: now,
                    resent: None,
                    bytes: packet.to_vec(),
                });
            }
        }
        Ok(())
    }

    /// The kept packet with sequence number `seq`.
    pub fn get(&self, seq: u16) -> Option<&[u8]> {
        let i = usize::from(seq) & (self.config.capacity - 1);
        match self.slots.get(i) {
            Some(Some(s)) if s.seq == seq => Some(&s.bytes),
            _ => None,
        }
    }

    /// Answers a NACK for `lost`: calls `emit` with each packet to send again, in the order
    /// asked; returns how many.
    pub fn on_nack(&mut self, lost: &[u16], now: Instant, emit: &mut dyn FnMut(&[u8])) -> usize {
        self.answer(lost.iter().copied(), now, emit)
    }

    fn answer(
        &mut self,
        lost: impl Iterator<Item = u16>,
        now: Instant,
        emit: &mut dyn FnMut(&[u8]),
    ) -> usize {
        let mut n = 0;
        for seq in lost {
            self.stats.requested += 1;
            let i = usize::from(seq) & (self.config.capacity - 1);
            let Some(Some(s)) = self.slots.get_mut(i) else {
                self.stats.missing += 1;
                continue;
            };
            if s.seq != seq || now.saturating_duration_since(s.sent) > self.config.max_age {
                self.stats.missing += 1;
                continue;
            }
            if s.resent
                .is_some_and(|t| now.saturating_duration_since(t) < self.config.min_resend_interval)
            {
                self.stats.throttled += 1;
                continue;
            }
            s.resent = Some(now);
            emit(&s.bytes);
            self.stats.resent += 1;
            n += 1;
        }
        n
    }

    /// Answers every generic NACK about `media_ssrc` in an RTCP compound (RFC 4585
    /// §6.2.1); returns how many packets were given back. The compound is read up to its
    /// first malformed packet.
    pub fn handle_rtcp(
        &mut self,
        compound: &[u8],
        media_ssrc: u32,
        now: Instant,
        emit: &mut dyn FnMut(&[u8]),
    ) -> usize {
        let mut n = 0;
        for p in rtcp::parse_compound(compound) {
            match p {
                Ok(RtcpPacket::Nack { media, lost, .. }) if media == media_ssrc => {
                    n += self.answer(lost.seqs(), now, emit);
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        n
    }
}
