//! A jitter buffer: whole frames out at a steady pace, a configurable time after the media
//! was sent.
//!
//! # The contract
//!
//! [`JitterBuffer::push`] takes each received packet with its arrival time; call
//! [`JitterBuffer::poll`] after each push and at [`JitterBuffer::poll_timeout`], until it
//! returns `None`. The clock is the caller's: `now` never moves backwards and the buffer
//! never reads a clock of its own.
//!
//! Frames are assembled by a [`SampleBuilder`] (reordering, loss, key frames: see
//! [`crate::sample`]) and each is released at its playout time:
//!
//! ```text
//! playout(ts) = epoch + (ts + offset) / clock_rate + target_delay
//! offset      = min over recent packets of (arrival - epoch) * clock_rate - ts
//! ```
//!
//! that is, `target_delay` after the time the least-delayed recent packet says the frame's
//! media was due. The minimum is taken over two windows of `offset_window`, so it follows a
//! path whose delay grows, or clocks that drift, within two windows. Playout times never go
//! backwards. A packet still missing when its frame's playout is `target_delay` past its
//! arrival is given up (the builder's `max_wait` is `target_delay`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::codec::Depacketizer;
use crate::sample::{Push, Sample, SampleBuilder, SampleBuilderConfig, SampleBuilderStats};
use crate::seq::TimestampUnwrapper;
use crate::RtpPacket;

/// Settings of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterBufferConfig {
    /// The RTP clock rate of the payload format, in Hz (e.g. 90000 for video, 48000 for
    /// Opus). Zero is taken as 90000.
    pub clock_rate: u32,
    /// How long after the least-delayed arrival a frame plays. Default 50 ms.
    pub target_delay: Duration,
    /// Frames held ready at most; beyond it the oldest is dropped. Default 256.
    pub max_frames: usize,
    /// The window over which the minimum delay is taken. Default 2 s.
    pub offset_window: Duration,
    /// The frame assembly limits; `max_wait` is replaced by `target_delay`.
    pub builder: SampleBuilderConfig,
}

impl Default for JitterBufferConfig {
    fn default() -> Self {
        JitterBufferConfig {
            clock_rate: 90_000,
            target_delay: Duration::from_millis(50),
            max_frames: 256,
            offset_window: Duration::from_secs(2),
            builder: SampleBuilderConfig::default(),
        }
    }
}

/// Whole frames released at their playout time (see the module docs for the contract).
#[derive(Debug)]
pub struct JitterBuffer<D> {
    builder: SampleBuilder<D>,
    config: JitterBufferConfig,
    ts: TimestampUnwrapper,
    epoch: Option<Instant>,
    window_start: Option<Instant>,
    min_cur: Option<i64>,
    min_prev: Option<i64>,
    ready: VecDeque<(Instant, Sample)>,
    last_playout: Option<Instant>,
    overflow: u64,
}

impl<D: Depacketizer> JitterBuffer<D> {
    /// A jitter buffer feeding `depacketizer`.
    pub fn new(depacketizer: D, config: JitterBufferConfig) -> JitterBuffer<D> {
        let mut config = config;
        if config.clock_rate == 0 {
            config.clock_rate = 90_000;
        }
        config.max_frames = config.max_frames.max(1);
        let mut b = config.builder;
        b.max_wait = config.target_delay;
        JitterBuffer {
            builder: SampleBuilder::new(depacketizer, b),
            config,
            ts: TimestampUnwrapper::new(),
            epoch: None,
            window_start: None,
            min_cur: None,
            min_prev: None,
            ready: VecDeque::new(),
            last_playout: None,
            overflow: 0,
        }
    }

    /// The target delay.
    pub fn target_delay(&self) -> Duration {
        self.config.target_delay
    }

    /// Changes the target delay; frames already assembled keep their playout time.
    pub fn set_target_delay(&mut self, d: Duration) {
        self.config.target_delay = d;
        self.builder.set_max_wait(d);
    }

    /// The frame assembly counters.
    pub fn builder_stats(&self) -> &SampleBuilderStats {
        self.builder.stats()
    }

    /// Frames dropped because more than `max_frames` were ready.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// Whether the sender should be asked for a key frame ([`SampleBuilder::needs_keyframe`]).
    pub fn needs_keyframe(&self) -> bool {
        self.builder.needs_keyframe()
    }

    /// Frames assembled and waiting for their playout time.
    pub fn frames_ready(&self) -> usize {
        self.ready.len()
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

    /// Takes a received packet as its fields.
    pub fn push(
        &mut self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        now: Instant,
    ) -> Push {
        let r = self.builder.push(seq, timestamp, marker, payload, now);
        if r == Push::Accepted {
            let epoch = *self.epoch.get_or_insert(now);
            let ts = self.ts.unwrap(timestamp);
            let offset = self.ticks(now.saturating_duration_since(epoch)) - ts;
            let start = *self.window_start.get_or_insert(now);
            if now.saturating_duration_since(start) >= self.config.offset_window {
                self.min_prev = self.min_cur.take();
                self.window_start = Some(now);
            }
            self.min_cur = Some(self.min_cur.map_or(offset, |m| m.min(offset)));
        }
        r
    }

    /// The next frame whose playout time has come at `now`.
    pub fn poll(&mut self, now: Instant) -> Option<Sample> {
        while let Some(s) = self.builder.poll_sample(now) {
            let at = self.playout(s.timestamp, s.arrival);
            self.ready.push_back((at, s));
            if self.ready.len() > self.config.max_frames {
                self.ready.pop_front();
                self.overflow += 1;
            }
        }
        match self.ready.front() {
            Some((at, _)) if *at <= now => self.ready.pop_front().map(|(_, s)| s),
            _ => None,
        }
    }

    /// When [`JitterBuffer::poll`] next has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ready = self.ready.front().map(|(at, _)| *at);
        match (ready, self.builder.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn ticks(&self, d: Duration) -> i64 {
        let t = d.as_nanos() * u128::from(self.config.clock_rate) / 1_000_000_000;
        i64::try_from(t).unwrap_or(i64::MAX)
    }

    fn playout(&mut self, timestamp: u32, arrival: Instant) -> Instant {
        // Samples only come after a packet was accepted, so the epoch is set.
        let epoch = self.epoch.unwrap_or(arrival);
        let offset = match (self.min_cur, self.min_prev) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(0),
        };
        let due = self.ts.peek(timestamp).saturating_add(offset).max(0);
        let nanos =
            u128::try_from(due).unwrap_or(0) * 1_000_000_000 / u128::from(self.config.clock_rate);
        let since = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        let mut at = epoch
            .checked_add(since)
            .and_then(|t| t.checked_add(self.config.target_delay))
            .unwrap_or(epoch);
        if let Some(last) = self.last_playout {
            at = at.max(last);
        }
        self.last_playout = Some(at);
        at
    }
}
