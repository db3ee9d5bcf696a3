//! Frame assembly: RTP packets in any order in, whole frames out, in order.
//!
//! # The contract
//!
//! [`SampleBuilder::push`] takes each received packet of one stream (one SSRC, one payload
//! format) with the time it arrived. After each push, and whenever the time from
//! [`SampleBuilder::poll_timeout`] comes, call [`SampleBuilder::poll_sample`] until it
//! returns `None`. Frames come out in sequence order, each exactly once, and only whole:
//!
//! - A frame is a run of packets with consecutive sequence numbers and the same timestamp
//!   (RFC 3550 §5.1), from a packet that starts a frame to one that ends it.
//! - A packet ends a frame when it has the marker bit (RFC 3551 §4.1 for video), when the
//!   payload format has one frame per payload (audio), or when the next packet has another
//!   timestamp.
//! - A packet starts a frame when the packet before it ended one or had another timestamp.
//!   When the packet before was lost, only the payload format can tell
//!   ([`Depacketizer::starts_frame`]); a packet it cannot vouch for is dropped.
//! - The packets of a whole frame go through the [`Depacketizer`], in order, the marker on
//!   the last. A frame it refuses is dropped; it never comes out corrupt.
//! - A missing packet is waited for until a packet after it has waited `max_wait`, or until
//!   the window of `max_packets` sequence numbers or `max_bytes` of payload is full; then the
//!   frame at the head is given up and the builder moves on.
//! - With `keyframe_required`, nothing comes out before the first key frame, nor after a lost
//!   or dropped frame until the next key frame ([`SampleBuilder::needs_keyframe`] says when
//!   to ask for one, e.g. with a PLI).
//!
//! Memory is bounded by `max_packets` and `max_bytes`; payload buffers are reused, so a
//! steady stream allocates only the frames it returns.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::codec::Depacketizer;
use crate::seq::SeqUnwrapper;
use crate::RtpPacket;

/// Payload buffers kept for reuse, at most this many.
const POOL_MAX: usize = 256;
/// Payload buffers larger than this are not kept for reuse.
const POOL_BUF_MAX: usize = 2048;

/// Limits and policy of a [`SampleBuilder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleBuilderConfig {
    /// The window: how many sequence numbers, from the oldest one not yet consumed, can be
    /// held (1..=32768). Default 1024.
    pub max_packets: usize,
    /// Payload octets held at most. Default 8 MiB.
    pub max_bytes: usize,
    /// Frames larger than this are dropped. Default 4 MiB.
    pub max_frame_bytes: usize,
    /// How long a packet waits for a missing one before it is given up. Default 100 ms.
    pub max_wait: Duration,
    /// Emit nothing before a key frame, nor after a lost frame until the next key frame.
    /// Default true.
    pub keyframe_required: bool,
}

impl Default for SampleBuilderConfig {
    fn default() -> Self {
        SampleBuilderConfig {
            max_packets: 1024,
            max_bytes: 8 << 20,
            max_frame_bytes: 4 << 20,
            max_wait: Duration::from_millis(100),
            keyframe_required: true,
        }
    }
}

/// One whole frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The frame, as the depacketizer returns it.
    pub data: Vec<u8>,
    /// Its RTP timestamp.
    pub timestamp: u32,
    /// The sequence number of its first packet.
    pub first_seq: u16,
    /// The sequence number of its last packet.
    pub last_seq: u16,
    /// Whether the depacketizer calls it a key frame.
    pub keyframe: bool,
    /// When its last packet arrived.
    pub arrival: Instant,
    /// A frame was lost or dropped between the previous sample and this one.
    pub discontinuity: bool,
}

/// What [`SampleBuilder::push`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Held until its frame is whole.
    Accepted,
    /// Its sequence number is already held.
    Duplicate,
    /// Its sequence number is older than the oldest one still held: its frame was already
    /// emitted or given up.
    Late,
    /// Its payload alone is larger than `max_frame_bytes` or `max_bytes`.
    TooLarge,
}

/// Counters of a [`SampleBuilder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleBuilderStats {
    /// Frames emitted.
    pub samples: u64,
    /// Sequence numbers given up as lost.
    pub lost_packets: u64,
    /// Packets consumed without becoming part of a sample.
    pub dropped_packets: u64,
    /// Frames given up before they were whole.
    pub incomplete_frames: u64,
    /// Whole frames the depacketizer refused, or larger than `max_frame_bytes`.
    pub corrupt_frames: u64,
    /// Whole frames dropped while waiting for a key frame.
    pub non_key_frames: u64,
    /// Packets refused as [`Push::Late`].
    pub late_packets: u64,
    /// Packets refused as [`Push::Duplicate`].
    pub duplicate_packets: u64,
}

#[derive(Debug)]
struct Slot {
    ts: u32,
    marker: bool,
    payload: Vec<u8>,
    arrival: Instant,
}

enum Step {
    Sample(Sample),
    Progress,
    Blocked,
    Idle,
}

/// Reorders the packets of one stream and assembles whole frames (see the module docs for
/// the contract).
#[derive(Debug)]
pub struct SampleBuilder<D> {
    depacketizer: D,
    config: SampleBuilderConfig,
    unwrap: SeqUnwrapper,
    /// The extended sequence number of `slots[0]`, once a packet came.
    head: Option<i64>,
    slots: VecDeque<Option<Slot>>,
    present: usize,
    bytes: usize,
    /// The packet just before `head`, when it was received: its timestamp and whether it
    /// ended a frame. `None` at the start and after a loss.
    prev: Option<(u32, bool)>,
    consumed_any: bool,
    waiting_for_keyframe: bool,
    discontinuity: bool,
    pool: Vec<Vec<u8>>,
    stats: SampleBuilderStats,
}

impl<D: Depacketizer> SampleBuilder<D> {
    /// A builder feeding `depacketizer`.
    pub fn new(depacketizer: D, config: SampleBuilderConfig) -> SampleBuilder<D> {
        let mut config = config;
        config.max_packets = config.max_packets.clamp(1, 1 << 15);
        SampleBuilder {
            depacketizer,
            config,
            unwrap: SeqUnwrapper::new(),
            head: None,
            slots: VecDeque::new(),
            present: 0,
            bytes: 0,
            prev: None,
            consumed_any: false,
            waiting_for_keyframe: config.keyframe_required,
            discontinuity: false,
            pool: Vec::new(),
            stats: SampleBuilderStats::default(),
        }
    }

    /// The limits in force (`max_packets` clamped to 1..=32768).
    pub fn config(&self) -> &SampleBuilderConfig {
        &self.config
    }

    /// Changes how long packets wait for missing ones.
    pub fn set_max_wait(&mut self, max_wait: Duration) {
        self.config.max_wait = max_wait;
    }

    /// The counters.
    pub fn stats(&self) -> &SampleBuilderStats {
        &self.stats
    }

    /// Packets held.
    pub fn packets_held(&self) -> usize {
        self.present
    }

    /// Payload octets held.
    pub fn bytes_held(&self) -> usize {
        self.bytes
    }

    /// Whether frames are being dropped for want of a key frame that the sender should be
    /// asked for: true after a loss while `keyframe_required`, until a key frame comes out.
    /// False before anything was received.
    pub fn needs_keyframe(&self) -> bool {
        self.waiting_for_keyframe && (self.consumed_any || self.present > 0)
    }

    /// The depacketizer.
    pub fn depacketizer(&self) -> &D {
        &self.depacketizer
    }

    /// Takes a received packet.
    pub fn push_packet(&mut self, packet: &RtpPacket<'_>, now: Instant) -> Push {
        self.push(
            packet.sequence_number(),
            packet.timestamp(),
            packet.marker(),
            packet.payload(),
            now,
        )
    }

    /// Takes a received packet as its sequence number, timestamp, marker bit and payload
    /// (an empty payload, e.g. padding, only fills its sequence number).
    pub fn push(
        &mut self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        now: Instant,
    ) -> Push {
        if payload.len() > self.config.max_frame_bytes.min(self.config.max_bytes) {
            return Push::TooLarge;
        }
        let ext = self.unwrap.unwrap(seq);
        let mut head = *self.head.get_or_insert(ext);
        if ext < head {
            let back = usize::try_from(head - ext).unwrap_or(usize::MAX);
            // Before anything is consumed, the start may still move back within the window.
            if self.consumed_any || back.saturating_add(self.slots.len()) > self.config.max_packets
            {
                self.stats.late_packets += 1;
                return Push::Late;
            }
            for _ in 0..back {
                self.slots.push_front(None);
            }
            head = ext;
            self.head = Some(ext);
        }
        // Make room: the window, then the octets.
        let window = self.config.max_packets as i64;
        while ext - head >= window {
            if self.present == 0 {
                let new_head = ext - window + 1;
                self.skip_missing(new_head - head);
                self.slots.clear();
                head = new_head;
                self.head = Some(head);
            } else {
                self.give_up_head();
                head = self.head.unwrap_or(ext);
            }
        }
        while self.bytes + payload.len() > self.config.max_bytes && self.present > 0 {
            self.give_up_head();
            head = self.head.unwrap_or(ext);
        }
        if ext < head {
            self.stats.late_packets += 1;
            return Push::Late;
        }
        let idx = usize::try_from(ext - head).unwrap_or(usize::MAX);
        if idx >= self.slots.len() {
            self.slots.resize_with(idx + 1, || None);
        }
        let Some(slot) = self.slots.get_mut(idx) else {
            return Push::Late;
        };
        if slot.is_some() {
            self.stats.duplicate_packets += 1;
            return Push::Duplicate;
        }
        let mut buf = self.pool.pop().unwrap_or_default();
        buf.extend_from_slice(payload);
        *slot = Some(Slot {
            ts: timestamp,
            marker,
            payload: buf,
            arrival: now,
        });
        self.present += 1;
        self.bytes += payload.len();
        Push::Accepted
    }

    /// The next whole frame, if one is ready at `now`. Gives up missing packets that were
    /// waited for long enough.
    pub fn poll_sample(&mut self, now: Instant) -> Option<Sample> {
        loop {
            match self.step() {
                Step::Sample(s) => return Some(s),
                Step::Progress => {}
                Step::Idle => return None,
                Step::Blocked => match self.poll_timeout() {
                    Some(at) if now >= at => self.give_up_head(),
                    _ => return None,
                },
            }
        }
    }

    /// When [`SampleBuilder::poll_sample`] would next give up waiting, if it is waiting.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let first = self.slots.iter().flatten().next()?;
        Some(
            first
                .arrival
                .checked_add(self.config.max_wait)
                .unwrap_or(first.arrival),
        )
    }

    fn release(&mut self, slot: Slot) {
        self.present -= 1;
        self.bytes -= slot.payload.len();
        let mut buf = slot.payload;
        if self.pool.len() < POOL_MAX && buf.capacity() <= POOL_BUF_MAX {
            buf.clear();
            self.pool.push(buf);
        }
    }

    /// Pops the slot at the head.
    fn pop(&mut self) -> Option<Slot> {
        let slot = self.slots.pop_front()?;
        self.head = self.head.map(|h| h + 1);
        self.consumed_any = true;
        slot
    }

    fn lost_something(&mut self) {
        self.discontinuity = true;
        if self.config.keyframe_required {
            self.waiting_for_keyframe = true;
        }
    }

    fn skip_missing(&mut self, n: i64) {
        if n <= 0 {
            return;
        }
        self.stats.lost_packets += n as u64;
        self.prev = None;
        self.consumed_any = true;
        self.lost_something();
    }

    /// Gives up the frame at the head: the missing packets there, or every packet with the
    /// head's timestamp up to the first packet with another.
    fn give_up_head(&mut self) {
        match self.slots.front() {
            None => {}
            Some(None) => {
                let mut n = 0;
                while let Some(None) = self.slots.front() {
                    self.pop();
                    n += 1;
                }
                self.skip_missing(n);
            }
            Some(Some(s)) => {
                let ts = s.ts;
                self.stats.incomplete_frames += 1;
                self.lost_something();
                loop {
                    match self.slots.front() {
                        Some(None) => {
                            self.pop();
                            self.skip_missing(1);
                        }
                        Some(Some(s)) if s.ts == ts => {
                            self.prev = Some((ts, s.marker));
                            if let Some(slot) = self.pop() {
                                self.release(slot);
                            }
                            self.stats.dropped_packets += 1;
                        }
                        _ => break,
                    }
                }
            }
        }
    }

    fn step(&mut self) -> Step {
        let Some(front) = self.slots.front() else {
            return Step::Idle;
        };
        let Some(first) = front else {
            return Step::Blocked;
        };
        if first.payload.is_empty() {
            // Padding only: it takes its sequence number and nothing else.
            if let Some(slot) = self.pop() {
                self.release(slot);
            }
            return Step::Progress;
        }
        let ts = first.ts;
        let start = match self.prev {
            Some((pts, pmarker)) => pmarker || pts != ts || self.depacketizer.payload_is_frame(),
            None => match self.depacketizer.starts_frame(&first.payload) {
                Some(true) => true,
                // Before anything is consumed an earlier packet may still come.
                _ if !self.consumed_any => return Step::Blocked,
                _ => false,
            },
        };
        if !start {
            // The rest of a frame whose start is gone.
            self.prev = Some((ts, first.marker));
            if let Some(slot) = self.pop() {
                self.release(slot);
            }
            self.stats.dropped_packets += 1;
            self.lost_something();
            return Step::Progress;
        }
        let per_payload = self.depacketizer.payload_is_frame();
        let mut end = None;
        let mut size = 0usize;
        for (i, slot) in self.slots.iter().enumerate() {
            let Some(s) = slot else {
                return Step::Blocked;
            };
            if s.ts != ts {
                end = i.checked_sub(1);
                break;
            }
            size += s.payload.len();
            if s.marker || per_payload {
                end = Some(i);
                break;
            }
        }
        let Some(end) = end else {
            return Step::Blocked;
        };
        let mut frame = None;
        let mut keyframe = false;
        let mut arrival = first.arrival;
        if size <= self.config.max_frame_bytes {
            let last = (0..=end)
                .rev()
                .find(|&i| {
                    self.slots
                        .get(i)
                        .is_some_and(|s| s.as_ref().is_some_and(|s| !s.payload.is_empty()))
                })
                .unwrap_or(0);
            for (i, s) in self.slots.iter().take(end + 1).flatten().enumerate() {
                if s.payload.is_empty() {
                    continue;
                }
                keyframe |= self.depacketizer.is_keyframe(&s.payload);
                arrival = arrival.max(s.arrival);
                match self.depacketizer.push(&s.payload, i == last) {
                    Ok(None) if i != last => {}
                    Ok(Some(f)) if i == last => frame = Some(f),
                    _ => break,
                }
            }
        }
        let first_seq = self.head.unwrap_or(0) as u16;
        let count = end + 1;
        for _ in 0..count {
            if let Some(slot) = self.pop() {
                self.release(slot);
            }
        }
        self.prev = Some((ts, true));
        let Some(data) = frame.filter(|f| !f.is_empty()) else {
            self.stats.corrupt_frames += 1;
            self.stats.dropped_packets += count as u64;
            self.lost_something();
            return Step::Progress;
        };
        if self.waiting_for_keyframe && !keyframe {
            self.stats.non_key_frames += 1;
            self.stats.dropped_packets += count as u64;
            return Step::Progress;
        }
        self.waiting_for_keyframe = false;
        self.stats.samples += 1;
        Step::Sample(Sample {
            data,
            timestamp: ts,
            first_seq,
            last_seq: first_seq.wrapping_add(end as u16),
            keyframe,
            arrival,
            discontinuity: std::mem::take(&mut self.discontinuity),
        })
    }
}
