//! The send side: messages cut into chunks waiting for a TSN, the in-flight queue (a ring
//! indexed by TSN offset from the cumulative ack point), SACK processing (RFC 9260
//! §6.2.1), retransmission marks, RTT and RTO (§6.3), congestion control (§7.2).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{seq_gt, seq_lt};
use crate::wire::Sack;

/// Bytes of a DATA chunk header (RFC 9260 §3.3.1).
pub(super) const DATA_HEADER: usize = 16;
/// Chunks in flight at most: the peer's gap blocks count TSNs in 16 bits.
pub(super) const MAX_IN_FLIGHT_CHUNKS: usize = 16_384;

/// A chunk of a message, before and after it gets a TSN.
pub(super) struct OutChunk {
    pub stream: u16,
    pub ssn: u16,
    pub ppid: u32,
    /// B, E, U flags.
    pub flags: u8,
    pub data: Bytes,
}

impl OutChunk {
    /// The size congestion control counts: header and payload.
    pub fn size(&self) -> usize {
        DATA_HEADER + self.data.len()
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
}

/// What one SACK did, for the engine's statistics and timers.
#[derive(Debug, Default)]
pub(super) struct SackOutcome {
    pub cum_advanced: bool,
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
    /// Waiting for a TSN.
    pub queue: VecDeque<OutChunk>,
    pub queued_bytes: usize,
    /// Next SSN per ordered stream.
    ssn: BTreeMap<u16, u16>,
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
}

impl Tx {
    pub fn new(mtu: usize, initial_tsn: u32) -> Tx {
        Tx {
            mtu,
            queue: VecDeque::new(),
            queued_bytes: 0,
            ssn: BTreeMap::new(),
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
        }
    }

    /// The peer's a_rwnd from INIT / INIT ACK: the initial ssthresh too (§7.2.1).
    pub fn set_peer_rwnd(&mut self, a_rwnd: u32) {
        self.peer_rwnd = a_rwnd as usize;
        self.last_a_rwnd = a_rwnd as usize;
        self.ssthresh = a_rwnd as usize;
    }

    /// Cuts a message into chunks of at most `max_payload` bytes (RFC 9260 §6.9).
    pub fn push_message(
        &mut self,
        stream: u16,
        ppid: u32,
        unordered: bool,
        data: Bytes,
        max_payload: usize,
    ) {
        let ssn = if unordered {
            0
        } else {
            let next = self.ssn.entry(stream).or_insert(0);
            let ssn = *next;
            *next = next.wrapping_add(1);
            ssn
        };
        let u = if unordered {
            crate::wire::Data::UNORDERED
        } else {
            0
        };
        let len = data.len();
        self.queued_bytes += len;
        if len == 0 {
            // Nothing will be acknowledged for it: no per-stream bytes either.
            // RFC 9260 §6.2 forbids empty DATA; callers send one byte (RFC 8831 §6.6).
            return;
        }
        *self.stream_bytes.entry(stream).or_insert(0) += len;
        let mut at = 0;
        while at < len {
            let end = (at + max_payload.max(1)).min(len);
            let mut flags = u;
            if at == 0 {
                flags |= crate::wire::Data::BEGINNING;
            }
            if end == len {
                flags |= crate::wire::Data::ENDING;
            }
            self.queue.push_back(OutChunk {
                stream,
                ssn,
                ppid,
                flags,
                data: data.slice(at..end),
            });
            at = end;
        }
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
    }

    /// RFC 6525 §5.2.4: the stream's next SSN is 0 again.
    pub fn reset_ssn(&mut self, stream: u16) {
        self.ssn.remove(&stream);
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
        let chunk = self.queue.pop_front()?;
        let size = chunk.size();
        self.queued_bytes = self.queued_bytes.saturating_sub(chunk.data.len());
        self.in_flight_bytes += chunk.data.len();
        let tsn = self.next_tsn;
        self.next_tsn = tsn.wrapping_add(1);
        self.in_flight.push_back(Sent {
            chunk,
            sent_at: now,
            transmissions: 1,
            acked: false,
            in_flight: true,
            marked: false,
            misses: 0,
            fast_retransmitted: None,
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

    /// Writes the DATA chunk of in-flight `tsn` (a first send or a retransmission) into
    /// the packet being built.
    pub fn emit_data<B: crate::wire::WireBuf>(&self, tsn: u32, out: &mut B) {
        if let Some(s) = self.get(tsn) {
            let c = &s.chunk;
            // The caller checked the room; a chunk too long for its length field cannot
            // have been queued (messages are fragmented to the MTU).
            let _ = crate::wire::Data {
                flags: c.flags,
                tsn,
                stream_id: c.stream,
                ssn: c.ssn,
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
    pub fn next_rtx(&mut self, room: usize) -> Option<u32> {
        while let Some(&tsn) = self.rtx.front() {
            match self.get(tsn) {
                Some(s) if s.marked && !s.acked && seq_gt(tsn, self.cum_ack) => {
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
    pub fn next_rtx_oversized(&mut self, limit: usize) -> Option<u32> {
        self.next_rtx(usize::MAX)
            .filter(|&tsn| self.get(tsn).is_some_and(|s| s.chunk.size() > limit))
    }

    /// Cuts again the queued chunks (no TSN yet, so still free to cut, RFC 9260 §6.9)
    /// whose payload exceeds `max_payload`, after the PLPMTU fell.
    pub fn refragment(&mut self, max_payload: usize) {
        let max_payload = max_payload.max(1);
        if self.queue.iter().all(|c| c.data.len() <= max_payload) {
            return;
        }
        let old = std::mem::take(&mut self.queue);
        for c in old {
            let len = c.data.len();
            if len <= max_payload {
                self.queue.push_back(c);
                continue;
            }
            let keep = c.flags & crate::wire::Data::UNORDERED;
            let mut at = 0;
            while at < len {
                let end = (at + max_payload).min(len);
                let mut flags = keep;
                if at == 0 {
                    flags |= c.flags & crate::wire::Data::BEGINNING;
                }
                if end == len {
                    flags |= c.flags & crate::wire::Data::ENDING;
                }
                self.queue.push_back(OutChunk {
                    stream: c.stream,
                    ssn: c.ssn,
                    ppid: c.ppid,
                    flags,
                    data: c.data.slice(at..end),
                });
                at = end;
            }
        }
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
        let mut acked_by_cum = 0usize;
        let mut newly_acked = 0usize;
        while seq_lt(self.cum_ack, cum) {
            let Some(s) = self.in_flight.pop_front() else {
                break;
            };
            self.cum_ack = self.cum_ack.wrapping_add(1);
            let size = s.chunk.size();
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
        for g in sack.gap_blocks.iter() {
            let (start, end) = (u32::from(g.start), u32::from(g.end));
            if start == 0 || end < start || start <= prev_end {
                continue;
            }
            prev_end = end;
            // Offsets from cum: TSN cum + k sits at index k - 1.
            let last = end.min(len);
            for k in start..=last {
                let Some(s) = self.in_flight.get_mut((k - 1) as usize) else {
                    break;
                };
                if s.acked {
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
        // acknowledged (the HTNA rule).
        if let Some(h) = highest_newly_acked {
            let n = h.wrapping_sub(cum).saturating_sub(1) as usize;
            let mut lost = false;
            for i in 0..n {
                let Some(s) = self.in_flight.get_mut(i) else {
                    break;
                };
                if s.acked || s.marked {
                    continue;
                }
                // A chunk already fast retransmitted counts misses again only from TSNs
                // sent after its retransmission (beyond RFC 9260 §7.2.4, which leaves a
                // lost retransmission to T3; the same evidence RFC 8985 uses for TCP).
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
                    self.rtx
                        .push_back(cum.wrapping_add(1).wrapping_add(i as u32));
                    out.fast_retransmits += 1;
                    lost = true;
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
                    self.cwnd += acked_by_cum.min(self.mtu);
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
        Ok(out)
    }

    /// RFC 9260 §6.3.3 and §7.2.3: T3-rtx expired; everything outstanding is marked.
    pub fn on_t3(&mut self) {
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.partial_bytes_acked = 0;
        self.recover = None;
        self.rtx.clear();
        let base = self.cum_ack.wrapping_add(1);
        for (i, s) in self.in_flight.iter_mut().enumerate() {
            if s.acked {
                continue;
            }
            s.in_flight = false;
            s.marked = true;
            s.misses = 0;
            self.rtx.push_back(base.wrapping_add(i as u32));
        }
        self.flight_size = 0;
        self.rtt_probe = None;
        self.peer_rwnd = self.last_a_rwnd;
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
        tx.push_message(3, 51, true, Bytes::from(msg.clone()), 1444);
        tx.push_message(3, 51, false, Bytes::from_static(b"small"), 1444);
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
        let last = tx.queue.back().unwrap();
        assert_eq!(&last.data[..], b"small");
        assert_eq!(last.flags, Data::BEGINNING | Data::ENDING);
    }
}
