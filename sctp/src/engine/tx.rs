//! The send side: messages cut into chunks waiting for a TSN, the in-flight queue (a ring
//! indexed by TSN offset from the cumulative ack point), SACK processing (RFC 9260
//! §6.2.1), retransmission marks, RTT and RTO (§6.3), congestion control (§7.2), and the
//! sender half of partial reliability (RFC 3758 §3.5): abandoning messages and the
//! Advanced.Peer.Ack.Point a FORWARD TSN carries.
//!
//! Partial reliability costs reliable traffic a flag test: a chunk knows whether its message
//! has a limit (`OutChunk::limited`), and the limits live in a side list of such messages
//! only (`Tx::limited`), looked up by message number when a limited chunk is marked for
//! retransmission or is about to get its TSN.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::sched::{data_header, OutQueue};
use super::{seq_gt, seq_lt};
use crate::wire::Sack;

/// Bytes of a DATA chunk header (RFC 9260 §3.3.1).
pub(super) const DATA_HEADER: usize = 16;
/// Bytes of an I-DATA chunk header (RFC 8260 §2.1).
pub(super) const I_DATA_HEADER: usize = 20;
/// Chunks in flight at most: the peer's gap blocks count TSNs in 16 bits.
pub(super) const MAX_IN_FLIGHT_CHUNKS: usize = 16_384;

/// A chunk of a message, before and after it gets a TSN.
pub(super) struct OutChunk {
    pub stream: u16,
    /// SSN (DATA, low 16 bits) or MID (I-DATA): given with the TSN of the message's first
    /// chunk (so a message dropped before it was sent leaves no hole in its stream).
    pub mid: u32,
    /// Fragment Sequence Number (I-DATA), given with the chunk's TSN.
    pub fsn: u32,
    pub ppid: u32,
    /// B, E, U flags.
    pub flags: u8,
    /// Its message has a [`Limit`] (an entry in `Tx::limited`).
    pub limited: bool,
    /// Sent as I-DATA (RFC 8260), not DATA.
    pub idata: bool,
    /// Number of its message (wrapping), given by `push_message` in sending order: chunks
    /// of one message share it. Each stream's queue holds messages in increasing numbers;
    /// the in-flight ring does too under DATA, not under I-DATA (interleaved).
    pub msg: u32,
    pub data: Bytes,
}

/// When a message is given up ("abandoned", RFC 3758 §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Limit {
    /// RFC 7496 §3.2 (limited retransmissions): a chunk sent this many times plus once is
    /// abandoned rather than retransmitted.
    Retransmits(u32),
    /// RFC 3758 §4.1 (timed reliability): from this instant on the message is abandoned
    /// rather than given a TSN (TR3) or sent again (TR4).
    Until(Instant),
}

/// A message with a [`Limit`], queued or in flight.
struct Limited {
    msg: u32,
    stream: u16,
    limit: Limit,
    abandoned: bool,
    /// TSNs of its first chunk and, once it has one, its last.
    first_tsn: Option<u32>,
    last_tsn: Option<u32>,
}

impl OutChunk {
    /// The size congestion control counts: header and payload.
    pub fn size(&self) -> usize {
        data_header(self.idata) + self.data.len()
    }
}

pub(super) struct Sent {
    pub chunk: OutChunk,
    pub sent_at: Instant,
    pub transmissions: u32,
    /// Reported in a gap block.
    pub acked: bool,
    /// Counted in the flight size.
    pub in_flight: bool,
    /// Marked for retransmission (its TSN is in the retransmit queue).
    pub marked: bool,
    pub misses: u8,
    /// Once fast retransmitted: the highest TSN sent at that moment. A later SACK that
    /// newly acknowledges a TSN above it is evidence that the retransmission was lost too.
    pub fast_retransmitted: Option<u32>,
    /// Given up (RFC 3758 §3.5 A2): neither outstanding nor to be sent again, its bytes
    /// released; it waits in the ring for the peer's cumulative ack to pass it.
    pub abandoned: bool,
}

/// What one SACK did, for the engine's statistics and timers.
#[derive(Debug, Default)]
pub(super) struct SackOutcome {
    /// The cumulative ack newly acknowledged data (abandoned chunks do not count).
    pub cum_advanced: bool,
    /// The cumulative ack moved at all (over abandoned chunks too).
    pub cum_moved: bool,
    /// Some TSN was newly acknowledged, cumulatively or in a gap block.
    pub newly_acked: bool,
    pub fast_retransmits: u32,
    pub rtt: Option<Duration>,
}

/// The SACK acknowledges a TSN never sent (RFC 9260 §6.2.1 rule D).
#[derive(Debug)]
pub(super) struct AckedUnsent;

pub(super) struct Tx {
    pub mtu: usize,
    /// Waiting for a TSN, per stream, with the stream scheduler.
    pub queue: OutQueue,
    pub queued_bytes: usize,
    /// I-DATA and I-FORWARD-TSN are used (RFC 8260 §2.2.1, §2.3).
    pub idata: bool,
    pub next_tsn: u32,
    /// The peer's Cumulative TSN Ack; `in_flight[i]` has TSN `cum_ack + 1 + i`.
    pub cum_ack: u32,
    pub in_flight: VecDeque<Sent>,
    /// Payload bytes in `in_flight` (for the buffered amount).
    pub in_flight_bytes: usize,
    /// Payload bytes queued or in flight, per stream (a data channel's buffered amount).
    stream_bytes: BTreeMap<u16, usize>,
    /// RFC 9260 §6.1 flight size: bytes sent and neither acked nor marked lost.
    pub flight_size: usize,
    /// TSNs to send again, in marking order (stale entries are skipped).
    pub rtx: VecDeque<u32>,
    /// One packet of fast retransmission may go out regardless of cwnd (§7.2.4 rule 3).
    pub fast_rtx_now: bool,
    pub cwnd: usize,
    pub ssthresh: usize,
    partial_bytes_acked: usize,
    /// Fast Recovery exit point (§7.2.4).
    recover: Option<u32>,
    pub peer_rwnd: usize,
    last_a_rwnd: usize,
    /// The flight size the current output burst may reach: the flight when the caller
    /// last drained the output plus Max.Burst packets (RFC 9260 §6.1 D); `None` before
    /// the first drain.
    pub burst_limit: Option<usize>,
    /// Data was waiting when cwnd stopped the last transmission.
    pub cwnd_limited: bool,
    /// The TSN timed for an RTT measurement (one at a time, §6.3.1).
    rtt_probe: Option<(u32, Instant)>,
    /// Number of the next message `push_message` takes.
    next_msg: u32,
    /// The peer takes FORWARD TSN (RFC 3758 §3.3.2): only then is anything abandoned.
    pub pr_enabled: bool,
    /// Messages with a limit still queued or in flight, in message order.
    limited: VecDeque<Limited>,
    /// The earliest lifetime end of a limited message still queued (earlier when that
    /// message has gone in flight meanwhile: then `expire_queued` finds nothing to do).
    pub expiry_due: Option<Instant>,
    /// RFC 3758 §3.5 A1: Advanced.Peer.Ack.Point.
    pub adv_ack: u32,
    /// A FORWARD TSN is to go in the next packet.
    pub fwd_pending: bool,
    /// The last FORWARD TSN sent: its New Cumulative TSN and when.
    fwd_sent: Option<(u32, Instant)>,
    /// Messages abandoned.
    pub messages_abandoned: u64,
    /// TSNs of limited chunks just marked for retransmission, to check against their
    /// limits (kept to reuse its allocation).
    check: Vec<u32>,
    /// The gap blocks of the SACK being processed that count (ascending, disjoint), as
    /// (start, end) offsets (kept to reuse its allocation).
    blocks: Vec<(u32, u32)>,
}

impl Tx {
    pub fn new(mtu: usize, initial_tsn: u32) -> Tx {
        Tx {
            mtu,
            queue: OutQueue::default(),
            queued_bytes: 0,
            idata: false,
            next_tsn: initial_tsn,
            cum_ack: initial_tsn.wrapping_sub(1),
            in_flight: VecDeque::new(),
            in_flight_bytes: 0,
            stream_bytes: BTreeMap::new(),
            flight_size: 0,
            rtx: VecDeque::new(),
            fast_rtx_now: false,
            // RFC 9260 §7.2.1: initial cwnd min(4*MTU, max(2*MTU, 4380)).
            cwnd: (4 * mtu).min((2 * mtu).max(4380)),
            ssthresh: usize::MAX,
            partial_bytes_acked: 0,
            recover: None,
            peer_rwnd: 0,
            last_a_rwnd: 0,
            rtt_probe: None,
            cwnd_limited: false,
            burst_limit: None,
            next_msg: 0,
            pr_enabled: false,
            limited: VecDeque::new(),
            expiry_due: None,
            adv_ack: initial_tsn.wrapping_sub(1),
            fwd_pending: false,
            fwd_sent: None,
            messages_abandoned: 0,
            check: Vec::new(),
            blocks: Vec::new(),
        }
    }

    /// The peer's a_rwnd from INIT / INIT ACK: the initial ssthresh too (§7.2.1).
    pub fn set_peer_rwnd(&mut self, a_rwnd: u32) {
        self.peer_rwnd = a_rwnd as usize;
        self.last_a_rwnd = a_rwnd as usize;
        self.ssthresh = a_rwnd as usize;
    }

    /// Cuts a message into chunks of at most `max_payload` bytes (RFC 9260 §6.9); `limit`
    /// says when it may be abandoned.
    pub fn push_message(
        &mut self,
        stream: u16,
        ppid: u32,
        unordered: bool,
        data: Bytes,
        max_payload: usize,
        limit: Option<Limit>,
    ) {
        let len = data.len();
        self.queued_bytes += len;
        if len == 0 {
            // Nothing will be acknowledged for it: no per-stream bytes either.
            // RFC 9260 §6.2 forbids empty DATA; callers send one byte (RFC 8831 §6.6).
            return;
        }
        let msg = self.next_msg;
        self.next_msg = msg.wrapping_add(1);
        if let Some(limit) = limit {
            self.limited.push_back(Limited {
                msg,
                stream,
                limit,
                abandoned: false,
                first_tsn: None,
                last_tsn: None,
            });
            if let Limit::Until(t) = limit {
                self.expiry_due = Some(self.expiry_due.map_or(t, |d| d.min(t)));
            }
        }
        *self.stream_bytes.entry(stream).or_insert(0) += len;
        let idata = self.idata;
        self.queue.push_message(
            stream,
            ppid,
            unordered,
            data,
            max_payload,
            limit.is_some(),
            msg,
            idata,
        );
    }

    /// Bytes of a chunk header now: DATA or I-DATA.
    pub fn data_header(&self) -> usize {
        data_header(self.idata)
    }

    /// I-DATA was negotiated (RFC 8260 §2.2.1): from now on every chunk is I-DATA, and
    /// the streams take turns per chunk. What is queued becomes I-DATA too, cut to
    /// `max_payload`.
    pub fn use_idata(&mut self, max_payload: usize) {
        self.idata = true;
        self.queue.enable_interleaving();
        self.queue.refragment(max_payload, true);
    }

    /// Bytes of `stream` queued or in flight.
    pub fn stream_bytes(&self, stream: u16) -> usize {
        self.stream_bytes.get(&stream).copied().unwrap_or(0)
    }

    fn release_stream_bytes(&mut self, stream: u16, len: usize) {
        if let Some(b) = self.stream_bytes.get_mut(&stream) {
            *b = b.saturating_sub(len);
            if *b == 0 {
                self.stream_bytes.remove(&stream);
            }
        }
    }

    /// The initial TSN, before anything was sent (a server takes it from its cookie).
    pub fn set_initial_tsn(&mut self, tsn: u32) {
        self.next_tsn = tsn;
        self.cum_ack = tsn.wrapping_sub(1);
        self.adv_ack = self.cum_ack;
    }

    /// RFC 6525 §5.2.4: the stream's next SSN (or MIDs) are 0 again.
    pub fn reset_ssn(&mut self, stream: u16) {
        self.queue.reset_stream(stream);
    }

    /// Whether the next queued chunk may go now (cwnd §7.2, rwnd §6.1 rules A-B).
    pub fn may_send_new(&self) -> bool {
        let Some(next) = self.queue.front() else {
            return false;
        };
        if self.in_flight.len() >= MAX_IN_FLIGHT_CHUNKS {
            return false;
        }
        if self.flight_size == 0 {
            // §6.1 rule A: one chunk may probe a zero window; cwnd allows at least one.
            return true;
        }
        self.flight_size < self.window() && next.size() <= self.peer_rwnd
    }

    /// What the flight size may reach now: cwnd, capped by the burst limit.
    pub fn window(&self) -> usize {
        self.cwnd
            .min(self.burst_limit.unwrap_or(self.flight_size + 4 * self.mtu))
    }

    /// Gives the next queued chunk its TSN and moves it in flight; returns its TSN.
    pub fn take_new(&mut self, now: Instant) -> Option<u32> {
        let chunk = self.queue.pop()?;
        let size = chunk.size();
        self.queued_bytes = self.queued_bytes.saturating_sub(chunk.data.len());
        self.in_flight_bytes += chunk.data.len();
        let tsn = self.next_tsn;
        self.next_tsn = tsn.wrapping_add(1);
        if chunk.limited {
            // Where its message lies in the ring, for abandoning it whole.
            let last = chunk.flags & crate::wire::Data::ENDING != 0;
            if let Some(l) = self
                .limited_index(chunk.msg)
                .and_then(|i| self.limited.get_mut(i))
            {
                l.first_tsn.get_or_insert(tsn);
                if last {
                    l.last_tsn = Some(tsn);
                }
            }
        }
        self.in_flight.push_back(Sent {
            chunk,
            sent_at: now,
            transmissions: 1,
            acked: false,
            in_flight: true,
            marked: false,
            misses: 0,
            fast_retransmitted: None,
            abandoned: false,
        });
        self.flight_size += size;
        self.peer_rwnd = self.peer_rwnd.saturating_sub(size);
        if self.rtt_probe.is_none() {
            self.rtt_probe = Some((tsn, now));
        }
        Some(tsn)
    }

    pub fn get(&self, tsn: u32) -> Option<&Sent> {
        let i = tsn.wrapping_sub(self.cum_ack.wrapping_add(1)) as usize;
        self.in_flight.get(i)
    }

    /// Writes the DATA or I-DATA chunk of in-flight `tsn` (a first send or a
    /// retransmission) into the packet being built.
    pub fn emit_data<B: crate::wire::WireBuf>(&self, tsn: u32, out: &mut B) {
        let Some(s) = self.get(tsn) else { return };
        let c = &s.chunk;
        // The caller checked the room; a chunk too long for its length field cannot
        // have been queued (messages are fragmented to the MTU).
        if c.idata {
            // RFC 8260 §2.1: the first fragment carries the PPID, the others their FSN.
            let begins = c.flags & crate::wire::Data::BEGINNING != 0;
            let _ = crate::wire::IData {
                flags: c.flags,
                tsn,
                stream_id: c.stream,
                mid: c.mid,
                ppid_or_fsn: if begins { c.ppid } else { c.fsn },
                payload: &c.data,
            }
            .emit(out);
        } else {
            let _ = crate::wire::Data {
                flags: c.flags,
                tsn,
                stream_id: c.stream,
                ssn: c.mid as u16,
                ppid: c.ppid,
                payload: &c.data,
            }
            .emit(out);
        }
    }

    fn get_mut(&mut self, tsn: u32) -> Option<&mut Sent> {
        let i = tsn.wrapping_sub(self.cum_ack.wrapping_add(1)) as usize;
        self.in_flight.get_mut(i)
    }

    /// The next marked TSN still needing retransmission, if its size fits in `room`.
    pub fn next_rtx(&mut self, room: usize, now: Instant) -> Option<u32> {
        while let Some(&tsn) = self.rtx.front() {
            match self.get(tsn) {
                Some(s) if s.marked && !s.acked && seq_gt(tsn, self.cum_ack) => {
                    // RFC 3758 §4.1 TR4: the lifetime is checked before a retransmission.
                    if s.chunk.limited && self.gives_up(s, now) {
                        let msg = s.chunk.msg;
                        self.abandon(msg, now);
                        self.rtx.pop_front();
                        continue;
                    }
                    return (s.chunk.size() <= room).then_some(tsn);
                }
                _ => {
                    self.rtx.pop_front();
                }
            }
        }
        None
    }

    /// The next marked TSN if its chunk is larger than `limit`: cut for a PLPMTU that a
    /// black hole took away, it can only go alone (RFC 8899 §4.3).
    pub fn next_rtx_oversized(&mut self, limit: usize, now: Instant) -> Option<u32> {
        self.next_rtx(usize::MAX, now)
            .filter(|&tsn| self.get(tsn).is_some_and(|s| s.chunk.size() > limit))
    }

    /// Cuts again the queued chunks (no TSN yet, so still free to cut, RFC 9260 §6.9)
    /// whose payload exceeds `max_payload`, after the PLPMTU fell.
    pub fn refragment(&mut self, max_payload: usize) {
        self.queue.refragment(max_payload, self.idata);
    }

    /// Marks `tsn` (from `next_rtx`) as sent again.
    pub fn resent(&mut self, tsn: u32, now: Instant) {
        self.rtx.pop_front();
        let mut size = 0;
        if let Some(s) = self.get_mut(tsn) {
            s.marked = false;
            s.in_flight = true;
            s.transmissions = s.transmissions.saturating_add(1);
            s.sent_at = now;
            size = s.chunk.size();
        }
        self.flight_size += size;
        // Karn: no RTT sample from a retransmitted chunk.
        if self.rtt_probe.is_some_and(|(p, _)| p == tsn) {
            self.rtt_probe = None;
        }
    }

    pub fn rtx_pending(&self) -> bool {
        !self.rtx.is_empty()
    }

    /// RFC 9260 §6.2.1: processes a SACK.
    pub fn on_sack(&mut self, sack: &Sack<'_>, now: Instant) -> Result<SackOutcome, AckedUnsent> {
        let mut out = SackOutcome::default();
        let cum = sack.cum_tsn_ack;
        // Rule D i: an older cumulative ack is out of date.
        if seq_lt(cum, self.cum_ack) {
            return Ok(out);
        }
        if !seq_lt(cum, self.next_tsn) {
            return Err(AckedUnsent);
        }
        let flight_before = self.flight_size;
        let cum_before = self.cum_ack;
        let mut acked_by_cum = 0usize;
        let mut newly_acked = 0usize;
        while seq_lt(self.cum_ack, cum) {
            let Some(s) = self.in_flight.pop_front() else {
                break;
            };
            self.cum_ack = self.cum_ack.wrapping_add(1);
            let size = s.chunk.size();
            if s.abandoned {
                // RFC 3758 §3.5 A2: released when abandoned, and no credit to cwnd.
                continue;
            }
            self.in_flight_bytes = self.in_flight_bytes.saturating_sub(s.chunk.data.len());
            self.release_stream_bytes(s.chunk.stream, s.chunk.data.len());
            if s.in_flight {
                self.flight_size = self.flight_size.saturating_sub(size);
            }
            if !s.acked {
                acked_by_cum += size;
                newly_acked += size;
            }
            if let Some((p, at)) = self.rtt_probe {
                if p == self.cum_ack {
                    self.rtt_probe = None;
                    if s.transmissions == 1 {
                        out.rtt = Some(now.saturating_duration_since(at));
                    }
                }
            }
        }
        out.cum_moved = seq_gt(cum, cum_before);
        self.cum_ack = cum;
        out.cum_advanced = acked_by_cum > 0;
        if self
            .rtt_probe
            .is_some_and(|(p, _)| !seq_gt(p, self.cum_ack))
        {
            self.rtt_probe = None;
        }
        // Gap blocks: only ascending, non-overlapping blocks count, so the work is bounded
        // by the in-flight queue whatever the peer sends.
        let mut highest_newly_acked: Option<u32> = None;
        let mut prev_end: u32 = 0;
        let len = self.in_flight.len() as u32;
        let mut blocks = std::mem::take(&mut self.blocks);
        blocks.clear();
        for g in sack.gap_blocks.iter() {
            let (start, end) = (u32::from(g.start), u32::from(g.end));
            if start == 0 || end < start || start <= prev_end {
                continue;
            }
            prev_end = end;
            blocks.push((start, end));
            // Offsets from cum: TSN cum + k sits at index k - 1.
            let last = end.min(len);
            for k in start..=last {
                let Some(s) = self.in_flight.get_mut((k - 1) as usize) else {
                    break;
                };
                if s.acked || s.abandoned {
                    continue;
                }
                s.acked = true;
                if s.in_flight {
                    s.in_flight = false;
                    self.flight_size = self.flight_size.saturating_sub(s.chunk.size());
                }
                newly_acked += s.chunk.size();
                let tsn = cum.wrapping_add(k);
                highest_newly_acked = Some(tsn);
                if let Some((p, at)) = self.rtt_probe {
                    if p == tsn {
                        self.rtt_probe = None;
                        if s.transmissions == 1 {
                            out.rtt = Some(now.saturating_duration_since(at));
                        }
                    }
                }
            }
        }
        // RFC 9260 §7.2.4: miss indications for what is below the highest TSN newly
        // acknowledged (the HTNA rule). Only the holes between this SACK's gap blocks can
        // hold such chunks (everything in a block is acknowledged now), so the walk costs
        // the holes, not the whole window.
        if let Some(h) = highest_newly_acked {
            let n = h.wrapping_sub(cum).saturating_sub(1) as usize;
            let mut lost = false;
            // TSN cum + k sits at index k - 1: block (start, end) covers the indices
            // start - 1 ..= end - 1, so the hole before it ends (exclusive) at start - 1 and
            // the next one begins at end.
            let mut lo = 0usize;
            let bounds = blocks
                .iter()
                .map(|&(start, end)| (start as usize - 1, end as usize))
                .chain(std::iter::once((n, n)));
            for (hole_end, next_lo) in bounds {
                for i in lo..hole_end.min(n) {
                    let Some(s) = self.in_flight.get_mut(i) else {
                        break;
                    };
                    if s.acked || s.marked || s.abandoned {
                        continue;
                    }
                    // A chunk already fast retransmitted counts misses again only from
                    // TSNs sent after its retransmission (beyond RFC 9260 §7.2.4, which
                    // leaves a lost retransmission to T3; the same evidence RFC 8985 uses
                    // for TCP).
                    if s.fast_retransmitted.is_some_and(|mark| !seq_gt(h, mark)) {
                        continue;
                    }
                    s.misses = s.misses.saturating_add(1);
                    if s.misses >= 3 {
                        s.misses = 0;
                        s.fast_retransmitted = Some(self.next_tsn.wrapping_sub(1));
                        s.marked = true;
                        if s.in_flight {
                            s.in_flight = false;
                            self.flight_size = self.flight_size.saturating_sub(s.chunk.size());
                        }
                        let tsn = cum.wrapping_add(1).wrapping_add(i as u32);
                        self.rtx.push_back(tsn);
                        if s.chunk.limited {
                            self.check.push(tsn);
                        }
                        out.fast_retransmits += 1;
                        lost = true;
                    }
                }
                lo = next_lo;
                if lo >= n {
                    break;
                }
            }
            if lost {
                self.fast_rtx_now = true;
                if self.recover.is_none() {
                    // §7.2.4 rule 2 / §7.2.3: enter Fast Recovery.
                    self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
                    self.cwnd = self.ssthresh;
                    self.partial_bytes_acked = 0;
                    self.recover = Some(self.next_tsn.wrapping_sub(1));
                }
            }
        }
        // RFC 3758 §3.5 F5: the loss counted for congestion control above; a chunk at its
        // limit is abandoned instead of retransmitted.
        self.abandon_checked(now);
        if let Some(r) = self.recover {
            if !seq_lt(self.cum_ack, r) {
                self.recover = None;
            }
        }
        // §7.2.1 / §7.2.2: grow cwnd on a cumulative ack advance, not in Fast Recovery.
        let fully_used = self.cwnd_limited || flight_before + self.mtu >= self.cwnd;
        if out.cum_advanced && self.recover.is_none() {
            if self.cwnd <= self.ssthresh {
                if fully_used {
                    // RFC 9260 §7.2.1 caps the growth per SACK at one MTU; with a SACK
                    // every second packet (§6.2) that grows cwnd by half per round trip.
                    // weft counts up to two MTUs, as TCP's Appropriate Byte Counting does
                    // with delayed acks (RFC 3465 §2.3, L = 2*SMSS): doubling per round
                    // trip, the slow start the RFC intends (measured: sctp_netsim bench).
                    self.cwnd += acked_by_cum.min(2 * self.mtu);
                }
            } else {
                self.partial_bytes_acked += newly_acked;
                if self.partial_bytes_acked >= self.cwnd && fully_used {
                    self.partial_bytes_acked -= self.cwnd;
                    self.cwnd += self.mtu;
                }
            }
        }
        out.newly_acked = newly_acked > 0;
        if self.flight_size == 0 {
            self.partial_bytes_acked = 0;
        }
        // §6.2.1 rule C: rwnd is a_rwnd less what is still outstanding.
        self.last_a_rwnd = sack.a_rwnd as usize;
        self.peer_rwnd = self.last_a_rwnd.saturating_sub(self.flight_size);
        self.trim_limited();
        self.blocks = blocks;
        Ok(out)
    }

    /// RFC 9260 §6.3.3 and §7.2.3: T3-rtx expired; everything outstanding is marked (or
    /// abandoned, at its limit).
    pub fn on_t3(&mut self, now: Instant) {
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.partial_bytes_acked = 0;
        self.recover = None;
        self.rtx.clear();
        let base = self.cum_ack.wrapping_add(1);
        for (i, s) in self.in_flight.iter_mut().enumerate() {
            if s.acked || s.abandoned {
                continue;
            }
            s.in_flight = false;
            s.marked = true;
            s.misses = 0;
            let tsn = base.wrapping_add(i as u32);
            self.rtx.push_back(tsn);
            if s.chunk.limited {
                self.check.push(tsn);
            }
        }
        self.flight_size = 0;
        self.rtt_probe = None;
        self.peer_rwnd = self.last_a_rwnd;
        self.abandon_checked(now);
        // RFC 3758 §3.5 A5: the point is advanced as after a SACK, and a FORWARD TSN the
        // peer has not acted on goes again (C5 keeps T3 running for it).
        self.advance_ack_point();
        if seq_gt(self.adv_ack, self.cum_ack) {
            self.fwd_pending = true;
        }
    }

    /// Whether `s`, of a limited message, has reached its limit (RFC 3758 §3.4).
    fn gives_up(&self, s: &Sent, now: Instant) -> bool {
        if !self.pr_enabled || !s.chunk.limited {
            return false;
        }
        match self.limit_of(s.chunk.msg) {
            Some(Limit::Retransmits(n)) => s.transmissions > n,
            Some(Limit::Until(t)) => now >= t,
            None => false,
        }
    }

    /// Index of message `msg` in `limited` (binary search: it is in message order).
    fn limited_index(&self, msg: u32) -> Option<usize> {
        let base = self.limited.front()?.msg;
        let key = msg.wrapping_sub(base);
        let i = self
            .limited
            .partition_point(|l| l.msg.wrapping_sub(base) < key);
        self.limited
            .get(i)
            .filter(|l| l.msg == msg && !l.abandoned)
            .map(|_| i)
    }

    fn limit_of(&self, msg: u32) -> Option<Limit> {
        let i = self.limited_index(msg)?;
        self.limited.get(i).map(|l| l.limit)
    }

    /// Abandons what `check` holds that reached its limit.
    fn abandon_checked(&mut self, now: Instant) {
        if self.check.is_empty() {
            return;
        }
        let mut check = std::mem::take(&mut self.check);
        for &tsn in &check {
            let i = tsn.wrapping_sub(self.cum_ack.wrapping_add(1)) as usize;
            let Some(s) = self.in_flight.get(i) else {
                continue;
            };
            if !s.abandoned && self.gives_up(s, now) {
                let msg = s.chunk.msg;
                self.abandon(msg, now);
            }
        }
        check.clear();
        self.check = check;
    }

    /// RFC 3758 §3.5 A2-A3: gives up message `msg`, every chunk of it. Those in flight
    /// (between the TSNs of its first and last chunk; with I-DATA other messages' chunks
    /// lie between them) count as acknowledged and no longer outstanding; those without a
    /// TSN leave the queue (§4.1 TR3). Their bytes leave the buffered amount. False when
    /// `msg` has no limit or was abandoned already.
    ///
    /// A message abandoned part sent, part queued, also takes one more TSN for its unsent
    /// rest, abandoned at once and never sent: the (I-)FORWARD TSN then reaches past it,
    /// so the peer drops the fragments it holds (otherwise they would stay for ever when
    /// they are all below the peer's cumulative TSN, and with DATA block the peer's
    /// reassembly ring). dcsctp does the same.
    pub fn abandon(&mut self, msg: u32, now: Instant) -> bool {
        let Some(l) = self
            .limited_index(msg)
            .and_then(|i| self.limited.get_mut(i))
        else {
            return false;
        };
        l.abandoned = true;
        let (stream, first, last) = (l.stream, l.first_tsn, l.last_tsn);
        self.messages_abandoned += 1;
        let mut released = 0usize;
        if let Some(first) = first {
            let base = self.cum_ack.wrapping_add(1);
            let index = |t: u32| {
                if seq_lt(t, base) {
                    0
                } else {
                    t.wrapping_sub(base) as usize
                }
            };
            let start = index(first);
            // Up to its last chunk, or to the end of the ring while some are queued.
            let end = match last {
                Some(t) if seq_lt(t, base) => 0,
                Some(t) => index(t) + 1,
                None => self.in_flight.len(),
            };
            for i in start..end.min(self.in_flight.len()) {
                let Some(s) = self.in_flight.get_mut(i) else {
                    break;
                };
                if s.chunk.msg != msg || s.abandoned {
                    continue;
                }
                s.abandoned = true;
                s.marked = false;
                if s.in_flight {
                    s.in_flight = false;
                    self.flight_size = self.flight_size.saturating_sub(s.chunk.size());
                }
                released += s.chunk.data.len();
                let tsn = base.wrapping_add(i as u32);
                if self.rtt_probe.is_some_and(|(p, _)| p == tsn) {
                    self.rtt_probe = None;
                }
            }
            self.in_flight_bytes = self.in_flight_bytes.saturating_sub(released);
        }
        let in_progress = first.is_some() && last.is_none();
        let (queued, rest) = self.queue.remove_message(stream, msg, in_progress);
        self.queued_bytes = self.queued_bytes.saturating_sub(queued);
        released += queued;
        if let Some(chunk) = rest {
            let tsn = self.next_tsn;
            self.next_tsn = tsn.wrapping_add(1);
            self.in_flight.push_back(Sent {
                chunk,
                sent_at: now,
                transmissions: 0,
                acked: false,
                in_flight: false,
                marked: false,
                misses: 0,
                fast_retransmitted: None,
                abandoned: true,
            });
        }
        self.release_stream_bytes(stream, released);
        self.advance_ack_point();
        self.trim_limited();
        true
    }

    /// RFC 3758 §3.5 C1-C2: the Advanced.Peer.Ack.Point is at least the cumulative ack and
    /// moves over abandoned chunks; a FORWARD TSN is due when it is new and ahead.
    fn advance_ack_point(&mut self) {
        if seq_lt(self.adv_ack, self.cum_ack) {
            self.adv_ack = self.cum_ack;
        }
        while self
            .get(self.adv_ack.wrapping_add(1))
            .is_some_and(|s| s.abandoned)
        {
            self.adv_ack = self.adv_ack.wrapping_add(1);
        }
        if seq_gt(self.adv_ack, self.cum_ack) && self.fwd_sent.map(|f| f.0) != Some(self.adv_ack) {
            self.fwd_pending = true;
        }
    }

    /// RFC 3758 §3.5 C1-C3 after a SACK: while the peer's cumulative ack is behind the
    /// point, a FORWARD TSN goes again, but the same one at most once per `wait` (an RTT,
    /// the implementation note of F2: SACKs sent before the peer saw it say nothing new).
    pub fn after_sack(&mut self, now: Instant, wait: Duration) {
        if !self.pr_enabled {
            return;
        }
        self.advance_ack_point();
        if seq_gt(self.adv_ack, self.cum_ack) {
            match self.fwd_sent {
                Some((p, at)) if p == self.adv_ack && now < at + wait => {}
                _ => self.fwd_pending = true,
            }
        }
    }

    /// RFC 3758 §4.1 TR3: the next queued chunk's message is checked for its lifetime
    /// before it gets a TSN; expired messages are dropped.
    pub fn expire_front(&mut self, now: Instant) {
        while let Some(c) = self.queue.front() {
            if !c.limited || !self.pr_enabled {
                return;
            }
            let msg = c.msg;
            match self.limit_of(msg) {
                Some(Limit::Until(t)) if now >= t => {
                    if !self.abandon(msg, now) {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    /// RFC 3758 §4.1 TR5: limited messages whose lifetime ended while (partly) queued are
    /// dropped at `expiry_due`, so the buffered amount falls without waiting for a send.
    /// Messages wholly in flight are judged when marked for retransmission (TR4), not
    /// here: abandoning what may still arrive would shrink the flight size under a
    /// full network.
    pub fn expire_queued(&mut self, now: Instant) {
        self.expiry_due = None;
        if !self.pr_enabled {
            return;
        }
        let mut check = std::mem::take(&mut self.check);
        let mut due: Option<Instant> = None;
        for l in &self.limited {
            // Only messages with chunks still queued (the last has no TSN yet).
            if l.abandoned || l.last_tsn.is_some() {
                continue;
            }
            if let Limit::Until(t) = l.limit {
                if now >= t {
                    check.push(l.msg);
                } else {
                    due = Some(due.map_or(t, |d| d.min(t)));
                }
            }
        }
        for &msg in &check {
            self.abandon(msg, now);
        }
        check.clear();
        self.check = check;
        self.expiry_due = due;
    }

    /// Drops the leading entries of `limited` for messages abandoned or wholly
    /// acknowledged.
    fn trim_limited(&mut self) {
        let cum = self.cum_ack;
        while self
            .limited
            .front()
            .is_some_and(|l| l.abandoned || l.last_tsn.is_some_and(|t| !seq_gt(t, cum)))
        {
            self.limited.pop_front();
        }
    }

    /// RFC 3758 §3.2, §3.5 C4: the FORWARD TSN due, if any: its New Cumulative TSN, with
    /// the streams skipped written to `entries` (at most `max_entries`; with more, the
    /// point is lowered to what fits). DATA: the ordered streams and their highest skipped
    /// SSN (4 bytes each). I-DATA (RFC 8260 §2.3.1): for I-FORWARD-TSN, each stream and
    /// U flag with its highest skipped MID (8 bytes each).
    pub fn forward_tsn(
        &mut self,
        now: Instant,
        max_entries: usize,
        entries: &mut Vec<u8>,
    ) -> Option<u32> {
        if !std::mem::take(&mut self.fwd_pending) || !seq_gt(self.adv_ack, self.cum_ack) {
            return None;
        }
        let n = self.adv_ack.wrapping_sub(self.cum_ack) as usize;
        let mut streams: BTreeMap<(u16, bool), u32> = BTreeMap::new();
        let mut new_cum = self.cum_ack;
        for s in self.in_flight.iter().take(n) {
            let c = &s.chunk;
            let unordered = c.flags & crate::wire::Data::UNORDERED != 0;
            if !unordered || self.idata {
                let key = (c.stream, unordered);
                if streams.len() == max_entries && !streams.contains_key(&key) {
                    break;
                }
                // A stream's messages take TSNs in their order: the last one is the
                // highest.
                streams.insert(key, c.mid);
            }
            new_cum = new_cum.wrapping_add(1);
        }
        if new_cum == self.cum_ack {
            self.fwd_pending = true;
            return None;
        }
        self.adv_ack = new_cum;
        entries.clear();
        for ((stream, unordered), mid) in streams {
            entries.extend_from_slice(&stream.to_be_bytes());
            if self.idata {
                entries.extend_from_slice(&[0, u8::from(unordered)]);
                entries.extend_from_slice(&mid.to_be_bytes());
            } else {
                entries.extend_from_slice(&(mid as u16).to_be_bytes());
            }
        }
        self.fwd_sent = Some((new_cum, now));
        Some(new_cum)
    }

    /// Nothing queued and nothing unacknowledged.
    pub fn idle(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_empty()
    }

    /// Anything sent and not acknowledged by the cumulative point (T3 runs).
    pub fn outstanding(&self) -> bool {
        !self.in_flight.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Data;

    #[test]
    fn refragment_cuts_queued_chunks_again_keeping_flags_and_bytes() {
        let mut tx = Tx::new(1472, 1);
        let msg: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        tx.push_message(3, 51, true, Bytes::from(msg.clone()), 1444, None);
        tx.push_message(3, 51, false, Bytes::from_static(b"small"), 1444, None);
        assert_eq!(tx.queue.len(), 5);
        tx.refragment(1172);
        // 5000 bytes in pieces of at most 1172: 1172, 272 (from 1444), ... as cut before.
        let pieces: Vec<&OutChunk> = tx.queue.iter().filter(|c| c.data.len() > 5).collect();
        assert!(pieces.iter().all(|c| c.data.len() <= 1172));
        let joined: Vec<u8> = pieces.iter().flat_map(|c| c.data.iter().copied()).collect();
        assert_eq!(joined, msg);
        let flags: Vec<u8> = pieces.iter().map(|c| c.flags).collect();
        assert_eq!(flags.first(), Some(&(Data::UNORDERED | Data::BEGINNING)));
        assert_eq!(flags.last(), Some(&(Data::UNORDERED | Data::ENDING)));
        assert!(flags[1..flags.len() - 1]
            .iter()
            .all(|&f| f == Data::UNORDERED));
        let last = tx.queue.iter().last().unwrap();
        assert_eq!(&last.data[..], b"small");
        assert_eq!(last.flags, Data::BEGINNING | Data::ENDING);
    }
}
