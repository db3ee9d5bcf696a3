//! Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
//! extensions-01 §3.1): a validated zero-copy view of the feedback packet
//! ([`TransportFeedback`]), a builder ([`write_transport_cc`]) and a sans-IO recorder on the
//! media receiver that turns `(transport-wide sequence number, arrival time)` into feedback
//! packets ([`TwccRecorder`]).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V=2|P|  FMT=15 |    PT=205     |           length              |
//! |                     SSRC of packet sender                     |
//! |                      SSRC of media source                     |
//! |      base sequence number     |      packet status count      |
//! |                 reference time                | fb pkt. count |
//! |          packet chunk         |         packet chunk          |
//! .                              ...                              .
//! |         packet chunk          |  recv delta   |  recv delta   |
//! .                              ...                              .
//! |           recv delta          |  recv delta   | zero padding  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Packet status chunks are either a run (`0 | S S | run length (13 bits)`) or a status
//! vector (`1 | 0 |` fourteen 1-bit symbols, or `1 | 1 |` seven 2-bit symbols). Symbols:
//! `00` not received, `01` received with a 1-byte delta, `10` received with a 2-byte signed
//! delta, `11` reserved. Deltas count 250 µs; the first is from the reference time (in 64 ms
//! units), each next one from the previous received packet.
//!
//! The view checks at parse that the chunks cover `packet status count` statuses, that no
//! counted symbol is the reserved one and that the deltas they announce are present, so its
//! iterator cannot fail. Bytes after the last delta (padding) are ignored.

use std::collections::VecDeque;
use std::time::Instant;

use crate::rtcp::pt;
use crate::Error;

/// The receive status of one packet in a feedback packet (draft-holmer-rmcat-transport-
/// wide-cc-extensions-01 §3.1.1, §3.1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketStatus {
    /// Not received (symbol `00`).
    NotReceived,
    /// Received, with a delta of 0..=255 × 250 µs (symbol `01`, one byte).
    SmallDelta(u8),
    /// Received, with a signed delta of ±8192 ms in 250 µs steps (symbol `10`, two bytes).
    LargeDelta(i16),
}

impl PacketStatus {
    /// The status for a received packet `ticks` × 250 µs after the previous one (or after the
    /// reference time): small when it fits a byte, large when it fits an `i16`, else `None`.
    #[inline]
    pub fn received(ticks: i64) -> Option<PacketStatus> {
        if let Ok(t) = u8::try_from(ticks) {
            Some(PacketStatus::SmallDelta(t))
        } else {
            i16::try_from(ticks).ok().map(PacketStatus::LargeDelta)
        }
    }

    /// The receive delta in 250 µs ticks, if received.
    #[inline]
    pub fn delta_ticks(self) -> Option<i64> {
        match self {
            PacketStatus::NotReceived => None,
            PacketStatus::SmallDelta(d) => Some(i64::from(d)),
            PacketStatus::LargeDelta(d) => Some(i64::from(d)),
        }
    }

    /// The 2-bit symbol.
    fn symbol(self) -> u8 {
        match self {
            PacketStatus::NotReceived => 0,
            PacketStatus::SmallDelta(_) => 1,
            PacketStatus::LargeDelta(_) => 2,
        }
    }
}

/// The largest run a run-length chunk carries (13 bits, §3.1.3).
const MAX_RUN: u16 = 0x1fff;
/// Bytes before the first chunk: RTCP header, two SSRCs, base/count, reference/fb count.
const FIXED_LEN: usize = 20;
/// Microseconds in a reference time unit (§3.1: multiples of 64 ms).
const REFERENCE_UNIT_US: i64 = 64_000;
/// Microseconds in a delta tick (§3.1.5: multiples of 250 µs).
const TICK_US: i64 = 250;

/// How many symbols `chunk` holds and the symbol at `i` (`i` below that count).
#[inline]
fn chunk_len(chunk: u16) -> u16 {
    match chunk >> 14 {
        0 | 1 => chunk & MAX_RUN, // §3.1.3 run length chunk
        2 => 14,                  // §3.1.4 status vector, 1-bit symbols
        _ => 7,                   // §3.1.4 status vector, 2-bit symbols
    }
}

#[inline]
fn chunk_symbol(chunk: u16, i: u16) -> u8 {
    match chunk >> 14 {
        0 | 1 => ((chunk >> 13) & 3) as u8,
        2 => ((chunk >> (13 - i.min(13))) & 1) as u8,
        _ => ((chunk >> (12 - 2 * i.min(6))) & 3) as u8,
    }
}

fn delta_len(symbol: u8) -> usize {
    usize::from(symbol)
}

/// A validated view of a transport-wide feedback packet (RTPFB, FMT 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportFeedback<'a> {
    /// SSRC of the packet sender.
    pub sender: u32,
    /// SSRC of the media source (unused by the draft; senders often put the first media
    /// SSRC here).
    pub media: u32,
    /// The transport-wide sequence number of the first packet reported.
    pub base_seq: u16,
    /// How many packets are reported, from `base_seq` on.
    pub status_count: u16,
    /// Reference time, 24 bits, in multiples of 64 ms in the feedback sender's time base.
    pub reference_time: u32,
    /// Feedback packet count, incremented per feedback packet sent (wraps).
    pub fb_count: u8,
    chunks: &'a [u8],
    deltas: &'a [u8],
}

impl<'a> TransportFeedback<'a> {
    /// Parses the body of an RTPFB FMT 15 packet: everything after the 4-byte RTCP header,
    /// padding already removed.
    pub fn parse(body: &'a [u8]) -> Result<Self, Error> {
        let fixed = body.get(..16).ok_or(Error::TooShort)?;
        let be32 = |at: usize| {
            u32::from_be_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]])
        };
        let status_count = u16::from_be_bytes([fixed[10], fixed[11]]);
        let rest = &body[16..];
        // Walk the chunks until they cover status_count statuses, summing the delta bytes the
        // received ones announce.
        let mut left = status_count;
        let mut at = 0usize;
        let mut delta_bytes = 0usize;
        while left > 0 {
            let c = rest.get(at..at + 2).ok_or(Error::TwccChunksShort)?;
            let chunk = u16::from_be_bytes([c[0], c[1]]);
            at += 2;
            let n = chunk_len(chunk).min(left);
            if chunk >> 15 == 0 {
                let s = chunk_symbol(chunk, 0);
                if s == 3 && n > 0 {
                    return Err(Error::TwccReservedSymbol);
                }
                delta_bytes += usize::from(n) * delta_len(s);
            } else {
                for i in 0..n {
                    let s = chunk_symbol(chunk, i);
                    if s == 3 {
                        return Err(Error::TwccReservedSymbol);
                    }
                    delta_bytes += delta_len(s);
                }
            }
            left -= n;
        }
        let deltas = rest
            .get(at..at + delta_bytes)
            .ok_or(Error::TwccDeltasShort)?;
        Ok(TransportFeedback {
            sender: be32(0),
            media: be32(4),
            base_seq: u16::from_be_bytes([fixed[8], fixed[9]]),
            status_count,
            reference_time: be32(12) >> 8,
            fb_count: fixed[15],
            chunks: &rest[..at],
            deltas,
        })
    }

    /// The packet status chunks, exactly those covering `status_count`.
    pub fn chunks(&self) -> &'a [u8] {
        self.chunks
    }

    /// The receive deltas, exactly those the chunks announce.
    pub fn deltas(&self) -> &'a [u8] {
        self.deltas
    }

    /// The reference time in microseconds of the feedback sender's time base.
    pub fn reference_time_us(&self) -> i64 {
        i64::from(self.reference_time) * REFERENCE_UNIT_US
    }

    /// Every reported packet in order: `(transport-wide sequence number, status)`.
    #[inline]
    pub fn packets(&self) -> FeedbackPackets<'a> {
        FeedbackPackets {
            chunks: self.chunks,
            deltas: self.deltas,
            seq: self.base_seq,
            left: self.status_count,
            chunk: 0,
            in_chunk: 0,
            chunk_len: 0,
        }
    }

    /// Every received packet in order: `(transport-wide sequence number, arrival time in
    /// microseconds of the feedback sender's time base)` (§3.1.5: deltas accumulate from the
    /// reference time).
    pub fn arrivals(&self) -> impl Iterator<Item = (u16, i64)> + 'a {
        let mut t = self.reference_time_us();
        self.packets().filter_map(move |(seq, s)| {
            let d = s.delta_ticks()?;
            t += d * TICK_US;
            Some((seq, t))
        })
    }
}

/// The statuses of a [`TransportFeedback`], from [`TransportFeedback::packets`].
#[derive(Debug, Clone)]
pub struct FeedbackPackets<'a> {
    chunks: &'a [u8],
    deltas: &'a [u8],
    seq: u16,
    left: u16,
    chunk: u16,
    in_chunk: u16,
    chunk_len: u16,
}

impl Iterator for FeedbackPackets<'_> {
    type Item = (u16, PacketStatus);

    #[inline]
    fn next(&mut self) -> Option<(u16, PacketStatus)> {
        if self.left == 0 {
            return None;
        }
        while self.in_chunk >= self.chunk_len {
            let (c, rest) = self.chunks.split_first_chunk::<2>()?;
            self.chunks = rest;
            self.chunk = u16::from_be_bytes(*c);
            self.chunk_len = chunk_len(self.chunk);
            self.in_chunk = 0;
        }
        let status = match chunk_symbol(self.chunk, self.in_chunk) {
            0 => PacketStatus::NotReceived,
            1 => {
                let (d, rest) = self.deltas.split_first()?;
                self.deltas = rest;
                PacketStatus::SmallDelta(*d)
            }
            _ => {
                let (d, rest) = self.deltas.split_first_chunk::<2>()?;
                self.deltas = rest;
                PacketStatus::LargeDelta(i16::from_be_bytes(*d))
            }
        };
        self.in_chunk += 1;
        self.left -= 1;
        let seq = self.seq;
        self.seq = seq.wrapping_add(1);
        Some((seq, status))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::from(self.left), Some(usize::from(self.left)))
    }
}

/// Packs status symbols into chunks (§3.1.3, §3.1.4): a run while the symbols are equal,
/// else a 1-bit vector of 14 when none needs a large delta, else 2-bit vectors of 7.
#[derive(Debug, Clone, Copy, Default)]
struct ChunkEncoder {
    /// The first pending symbols (only the first counts while they are all equal).
    syms: [u8; 14],
    len: u16,
    all_same: bool,
    has_large: bool,
}

impl ChunkEncoder {
    fn can_add(&self, s: u8) -> bool {
        self.len < 7
            || (self.len < 14 && !self.has_large && s != 2)
            || (self.all_same && s == self.syms[0] && self.len < MAX_RUN)
    }

    fn add(&mut self, s: u8) {
        if self.len == 0 {
            self.all_same = true;
        } else if s != self.syms[0] {
            self.all_same = false;
        }
        if let Some(slot) = self.syms.get_mut(usize::from(self.len)) {
            *slot = s;
        }
        self.has_large |= s == 2;
        self.len += 1;
    }

    fn push(&mut self, s: u8, emit: &mut impl FnMut(u16)) {
        if !self.can_add(s) {
            self.emit_full(emit);
        }
        self.add(s);
    }

    /// Emits a chunk when the pending symbols cannot take another one; keeps what is left.
    fn emit_full(&mut self, emit: &mut impl FnMut(u16)) {
        if self.all_same {
            emit(run_chunk(self.syms[0], self.len));
            self.len = 0;
        } else if self.len >= 14 {
            emit(one_bit_chunk(&self.syms));
            self.len = 0;
        } else {
            // 7..=13 mixed symbols with a large one among or coming: seven go as 2-bit.
            emit(two_bit_chunk(&self.syms[..7]));
            let rest = self.syms;
            let n = self.len - 7;
            self.len = 0;
            self.has_large = false;
            for &s in rest.get(7..7 + usize::from(n)).unwrap_or_default() {
                self.add(s);
            }
        }
    }

    fn finish(&mut self, emit: &mut impl FnMut(u16)) {
        let n = usize::from(self.len);
        if n == 0 {
        } else if self.all_same {
            emit(run_chunk(self.syms[0], self.len));
        } else if !self.has_large {
            emit(one_bit_chunk(self.syms.get(..n).unwrap_or_default()));
        } else {
            // Mixed with a large delta: never more than 7 pending (see `can_add`).
            emit(two_bit_chunk(self.syms.get(..n).unwrap_or_default()));
        }
        self.len = 0;
    }
}

fn run_chunk(s: u8, n: u16) -> u16 {
    (u16::from(s) << 13) | (n & MAX_RUN)
}

fn one_bit_chunk(syms: &[u8]) -> u16 {
    syms.iter()
        .take(14)
        .enumerate()
        .fold(0x8000, |c, (i, &s)| c | (u16::from(s & 1) << (13 - i)))
}

fn two_bit_chunk(syms: &[u8]) -> u16 {
    syms.iter()
        .take(7)
        .enumerate()
        .fold(0xc000, |c, (i, &s)| c | (u16::from(s & 3) << (12 - 2 * i)))
}

/// Appends a transport-wide feedback packet (RTPFB FMT 15) reporting `statuses` for the
/// sequence numbers from `base_seq` on. Deltas are written as given (use
/// [`PacketStatus::received`] to pick their size). The packet is padded to 32 bits with the
/// P bit set (RFC 3550 §6.4.1 padding). `BadValue` if `reference_time` exceeds 24 bits or
/// the packet would not fit the 16-bit RTCP length; nothing is appended then.
pub fn write_transport_cc(
    out: &mut Vec<u8>,
    sender: u32,
    media: u32,
    base_seq: u16,
    reference_time: u32,
    fb_count: u8,
    statuses: &[PacketStatus],
) -> Result<(), Error> {
    let status_count = u16::try_from(statuses.len()).map_err(|_| Error::BadValue)?;
    if reference_time > 0x00ff_ffff {
        return Err(Error::BadValue);
    }
    // Size first, so nothing is written for a packet that cannot be sent.
    let mut chunk_count = 0usize;
    let mut enc = ChunkEncoder::default();
    for s in statuses {
        enc.push(s.symbol(), &mut |_| chunk_count += 1);
    }
    enc.finish(&mut |_| chunk_count += 1);
    let delta_bytes: usize = statuses.iter().map(|s| delta_len(s.symbol())).sum();
    let unpadded = FIXED_LEN + 2 * chunk_count + delta_bytes;
    let total = unpadded.div_ceil(4) * 4;
    let words = u16::try_from(total / 4 - 1).map_err(|_| Error::BadValue)?;
    let pad = total - unpadded;
    out.reserve(total);
    // §3.1 header: V=2, P, FMT=15, PT=205.
    let p_bit = if pad > 0 { 0x20 } else { 0 };
    out.push(0x80 | p_bit | 15);
    out.push(pt::RTPFB);
    out.extend_from_slice(&words.to_be_bytes());
    out.extend_from_slice(&sender.to_be_bytes());
    out.extend_from_slice(&media.to_be_bytes());
    out.extend_from_slice(&base_seq.to_be_bytes());
    out.extend_from_slice(&status_count.to_be_bytes());
    out.extend_from_slice(&((reference_time << 8) | u32::from(fb_count)).to_be_bytes());
    let mut enc = ChunkEncoder::default();
    for s in statuses {
        enc.push(s.symbol(), &mut |c| out.extend_from_slice(&c.to_be_bytes()));
    }
    enc.finish(&mut |c| out.extend_from_slice(&c.to_be_bytes()));
    // §3.1.5 receive deltas, in packet order.
    for s in statuses {
        match *s {
            PacketStatus::NotReceived => {}
            PacketStatus::SmallDelta(d) => out.push(d),
            PacketStatus::LargeDelta(d) => out.extend_from_slice(&d.to_be_bytes()),
        }
    }
    if pad > 0 {
        out.extend(std::iter::repeat_n(0, pad - 1));
        out.push(pad as u8);
    }
    Ok(())
}

/// Limits of a [`TwccRecorder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwccRecorderConfig {
    /// Largest feedback packet to build, in bytes (at least 32 is used). Default 1200.
    pub max_feedback_len: usize,
    /// Sequence numbers kept, from the oldest to the highest received: a packet further
    /// ahead pushes the oldest out (unreported ones are counted in
    /// [`TwccRecorder::dropped`]); one older than the oldest kept is dropped and counted.
    /// Default 4096.
    pub window: usize,
    /// Reported sequence numbers kept behind the next one to report, so a late packet among
    /// them is reported again with its neighbours. Default 512.
    pub keep_reported: usize,
}

impl Default for TwccRecorderConfig {
    fn default() -> Self {
        TwccRecorderConfig {
            max_feedback_len: 1200,
            window: 4096,
            keep_reported: 512,
        }
    }
}

/// Marks a sequence number not received in [`TwccRecorder`]'s window.
const NOT_RECEIVED: u64 = u64::MAX;

/// Records transport-wide sequence numbers and their arrival times on the media receiver and
/// builds the feedback packets that report them (draft-holmer-rmcat-transport-wide-cc-
/// extensions-01 §3.1). Sans-IO: arrival times are arguments.
///
/// Calling contract:
/// - [`handle_packet`](Self::handle_packet) for every RTP packet carrying the
///   transport-wide-cc header extension, with its sequence number and arrival time, in
///   arrival order (sequence numbers may be reordered, duplicated or wrap).
/// - When feedback is due (the caller's timer; browsers send it every 50-100 ms),
///   [`poll_feedback`](Self::poll_feedback) until it returns `false`: each call appends one
///   feedback packet of at most `max_feedback_len` bytes reporting the next sequence numbers.
/// - A packet arriving after its sequence number was reported as not received makes the next
///   feedback start again from it (as a receiver cannot unsay a loss, the sender sees the
///   packet twice, first lost, then received).
///
/// Memory is bounded by `window` (8 bytes each) and the feedback being built.
#[derive(Debug, Clone)]
pub struct TwccRecorder {
    config: TwccRecorderConfig,
    unwrapper: crate::seq::SeqUnwrapper,
    /// Arrival times are kept as microseconds since the first one.
    epoch: Option<Instant>,
    /// Unwrapped sequence number of `arrivals[0]`.
    start: i64,
    /// Microseconds since `epoch`, or `NOT_RECEIVED`.
    arrivals: VecDeque<u64>,
    /// The first unwrapped sequence number not yet reported.
    next: i64,
    fb_count: u8,
    dropped: u64,
    scratch: Vec<PacketStatus>,
}

impl TwccRecorder {
    /// A recorder that has seen nothing.
    pub fn new(config: TwccRecorderConfig) -> TwccRecorder {
        TwccRecorder {
            config: TwccRecorderConfig {
                max_feedback_len: config.max_feedback_len.max(32),
                window: config.window.max(1),
                keep_reported: config.keep_reported,
            },
            unwrapper: crate::seq::SeqUnwrapper::new(),
            epoch: None,
            start: 0,
            arrivals: VecDeque::new(),
            next: 0,
            fb_count: 0,
            scratch: Vec::new(),
            dropped: 0,
        }
    }

    /// Packets not reported because they fell out of the window (too late, or pushed out
    /// before feedback was polled).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Whether recorded packets wait to be reported.
    pub fn has_feedback(&self) -> bool {
        self.next < self.start + self.arrivals.len() as i64
    }

    /// Records the arrival of the packet with transport-wide sequence number `seq` at `now`.
    /// A duplicate keeps its first arrival time.
    pub fn handle_packet(&mut self, seq: u16, now: Instant) {
        let epoch = *self.epoch.get_or_insert(now);
        let us = now.checked_duration_since(epoch).map_or(0, |d| {
            u64::try_from(d.as_micros()).unwrap_or(NOT_RECEIVED - 1)
        });
        let s = self.unwrapper.unwrap(seq);
        if self.arrivals.is_empty() {
            self.start = s;
            self.next = s;
        }
        let window = self.config.window as i64;
        if s < self.start {
            // Older than the window: only kept when the window can grow back to it.
            let back = self.start - s;
            if back + self.arrivals.len() as i64 > window {
                self.dropped += 1;
                return;
            }
            for _ in 0..back {
                self.arrivals.push_front(NOT_RECEIVED);
            }
            self.start = s;
        }
        let end = self.start + self.arrivals.len() as i64;
        if s >= self.start + window {
            // Too far ahead: the oldest go, reported or not.
            let new_start = s - window + 1;
            let gone = (new_start - self.start).min(self.arrivals.len() as i64);
            for i in 0..gone {
                let unreported = self.start + i >= self.next;
                if unreported && self.arrivals.front() != Some(&NOT_RECEIVED) {
                    self.dropped += 1;
                }
                self.arrivals.pop_front();
            }
            self.start = new_start;
            self.next = self.next.max(new_start);
        }
        let end = end.max(self.start);
        for _ in end..=s {
            self.arrivals.push_back(NOT_RECEIVED);
        }
        let idx = (s - self.start) as usize;
        if let Some(slot) = self.arrivals.get_mut(idx) {
            if *slot == NOT_RECEIVED {
                *slot = us;
                if s < self.next {
                    self.next = s;
                }
            }
        }
    }

    /// Appends one feedback packet to `out` reporting the next unreported sequence numbers
    /// (up to the highest received); `false` when there is nothing to report.
    pub fn poll_feedback(&mut self, sender: u32, media: u32, out: &mut Vec<u8>) -> bool {
        if !self.has_feedback() {
            return false;
        }
        let first = (self.next - self.start) as usize;
        // The reference time comes from the first received packet (§3.1).
        let Some(first_us) = self
            .arrivals
            .range(first..)
            .copied()
            .find(|&t| t != NOT_RECEIVED)
        else {
            return false;
        };
        let reference = first_us as i64 / REFERENCE_UNIT_US;
        let mut prev_tick = reference * (REFERENCE_UNIT_US / TICK_US);
        self.scratch.clear();
        let budget = self.config.max_feedback_len;
        let mut enc = ChunkEncoder::default();
        let mut chunk_bytes = 0usize;
        let mut delta_bytes = 0usize;
        for &t in self.arrivals.range(first..) {
            if self.scratch.len() == usize::from(u16::MAX) {
                break;
            }
            let status = if t == NOT_RECEIVED {
                PacketStatus::NotReceived
            } else {
                let tick = t as i64 / TICK_US;
                match PacketStatus::received(tick - prev_tick) {
                    Some(s) => s,
                    // §3.1.5: a gap no delta can carry ends this feedback packet.
                    None => break,
                }
            };
            // Room for it: the chunks emitted so far, at most two for the pending symbols,
            // the deltas and the padding.
            let mut trial = enc;
            let mut emitted = 0;
            trial.push(status.symbol(), &mut |_| emitted += 1);
            let d = delta_len(status.symbol());
            if FIXED_LEN + chunk_bytes + 2 * emitted + 4 + delta_bytes + d + 3 > budget {
                break;
            }
            enc = trial;
            chunk_bytes += 2 * emitted;
            delta_bytes += d;
            if let Some(tick) = status.delta_ticks() {
                prev_tick += tick;
            }
            self.scratch.push(status);
        }
        if self.scratch.is_empty() {
            return false;
        }
        let base_seq = self.next as u16;
        let reference_time = (reference as u32) & 0x00ff_ffff;
        if write_transport_cc(
            out,
            sender,
            media,
            base_seq,
            reference_time,
            self.fb_count,
            &self.scratch,
        )
        .is_err()
        {
            return false;
        }
        self.fb_count = self.fb_count.wrapping_add(1);
        self.next += self.scratch.len() as i64;
        // Forget what lies further back than keep_reported behind the next to report.
        let keep_from = self.next - self.config.keep_reported as i64;
        while self.start < keep_from && !self.arrivals.is_empty() {
            self.arrivals.pop_front();
            self.start += 1;
        }
        true
    }
}
