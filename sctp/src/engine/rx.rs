//! The receive side: which TSNs arrived (the cumulative point and sorted gap ranges, no
//! hashing), the chunks held until their message is whole (DATA: a ring indexed by TSN;
//! I-DATA: per message, fragments joined in FSN order as they come), ordered delivery per
//! stream (a ring indexed by SSN or MID), and when to SACK (RFC 9260 §6.2).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::{seq_gt, seq_lt, EngineEvent};
use crate::wire::{Data, ForwardTsn, GapBlock, IData, IForwardTsn};

/// Highest TSN accepted above the cumulative point: gap block offsets are 16-bit (RFC 9260
/// §3.3.4), and this bounds the rings.
pub(super) const MAX_TSN_AHEAD: u32 = 32_768;
/// Gap ranges kept; a chunk that would need more is dropped (the peer retransmits it).
const MAX_GAPS: usize = 256;
/// Duplicate TSNs reported in the next SACK.
const MAX_DUPS: usize = 16;
/// Complete ordered messages waiting for an earlier SSN, over all streams.
const MAX_READY: usize = 131_072;
/// Chunk buffers kept for reuse.
const POOL_MAX: usize = 1024;
/// I-DATA fragments held in incomplete messages, at most (as the DATA ring holds at most
/// `2 * MAX_TSN_AHEAD`); a fragment beyond is dropped unacknowledged. This bounds the
/// number of incomplete messages too.
const MAX_HELD_FRAGMENTS: usize = 2 * MAX_TSN_AHEAD as usize;

/// One received DATA chunk held until its message is whole.
struct Slot {
    stream: u16,
    ssn: u16,
    ppid: u32,
    flags: u8,
    data: Vec<u8>,
}

/// A whole message waiting for its turn on an ordered stream.
struct Ready {
    ppid: u32,
    data: Vec<u8>,
}

/// An I-DATA message being reassembled (RFC 8260 §2.1): fragments in FSN order.
#[derive(Default)]
struct Partial {
    /// From the first fragment (B set, FSN 0).
    ppid: Option<u32>,
    /// Fragments `0..next_fsn`, in order (buffers from the pool; joined once, into a
    /// buffer of the message's size, when the message is whole).
    run: Vec<Vec<u8>>,
    next_fsn: u32,
    /// Fragments past a missing FSN.
    later: BTreeMap<u32, Vec<u8>>,
    /// FSN of the last fragment (E set), once seen.
    last: Option<u32>,
    /// Bytes held.
    bytes: usize,
}

impl Partial {
    /// Fragments held.
    fn frags(&self) -> usize {
        self.run.len() + self.later.len()
    }
}

#[derive(Default)]
struct InStream {
    /// Next SSN (DATA, compared in 16 bits) or MID (I-DATA) to deliver.
    next_ssn: u32,
    /// Index i holds the message `next_ssn + i`.
    ready: VecDeque<Option<Ready>>,
}

impl InStream {
    /// Hands up the whole messages waiting at the head of the stream, in SSN order
    /// (RFC 9260 §6.6).
    fn deliver_in_order(&mut self, stream: u16, ready_count: &mut usize, mut up: Up<'_>) {
        while let Some(Some(_)) = self.ready.front() {
            if let Some(Some(r)) = self.ready.pop_front() {
                *ready_count = ready_count.saturating_sub(1);
                self.next_ssn = self.next_ssn.wrapping_add(1);
                up.message(stream, r);
            }
        }
    }
}

/// Where a whole ordered message goes up: out of what is held, into the events.
struct Up<'a> {
    held: &'a mut usize,
    event_bytes: &'a mut usize,
    events: &'a mut VecDeque<EngineEvent>,
}

impl Up<'_> {
    fn message(&mut self, stream: u16, r: Ready) {
        *self.held = self.held.saturating_sub(r.data.len());
        *self.event_bytes = self.event_bytes.saturating_add(r.data.len());
        self.events.push_back(EngineEvent::Message {
            stream,
            ppid: r.ppid,
            unordered: false,
            data: r.data,
        });
    }
}

/// What became of one DATA chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DataOutcome {
    /// Taken.
    New,
    /// Already had it.
    Duplicate,
    /// No room: not acknowledged, the peer sends it again.
    Dropped,
}

pub(super) struct Rx {
    /// Cumulative TSN: every TSN up to here arrived.
    pub cum: u32,
    /// Arrived TSN ranges above `cum + 1`, sorted, disjoint, not adjacent.
    gaps: Vec<(u32, u32)>,
    dups: Vec<u32>,
    /// `slots[i]` holds TSN `base + i`; `base <= cum + 1`.
    slots: VecDeque<Option<Slot>>,
    base: u32,
    streams: BTreeMap<u16, InStream>,
    ready_count: usize,
    pool: Vec<Vec<u8>>,
    /// Bytes held: chunks, waiting messages.
    pub held: usize,
    pub inbound_streams: u16,
    /// DATA packets since the last SACK.
    packets_unacked: u32,
    pub ack_now: bool,
    pub delayed_ack_at: Option<Instant>,
    /// Largest message taken.
    pub max_message: usize,
    /// A message outgrew `max_message` or the receive window: the engine aborts.
    pub overrun: bool,
    /// I-DATA was negotiated (RFC 8260): MIDs are 32-bit and reassembly is per message.
    idata: bool,
    /// I-DATA messages being reassembled, by (stream, unordered, MID).
    partial: BTreeMap<(u16, bool, u32), Partial>,
    /// Fragments held in `partial`, over all its messages.
    partial_frags: usize,
}

impl Rx {
    pub fn new(peer_initial_tsn: u32, inbound_streams: u16, max_message: usize, idata: bool) -> Rx {
        let cum = peer_initial_tsn.wrapping_sub(1);
        Rx {
            cum,
            gaps: Vec::new(),
            dups: Vec::new(),
            slots: VecDeque::new(),
            base: peer_initial_tsn,
            streams: BTreeMap::new(),
            ready_count: 0,
            pool: Vec::new(),
            held: 0,
            inbound_streams,
            packets_unacked: 0,
            ack_now: false,
            delayed_ack_at: None,
            max_message,
            overrun: false,
            idata,
            partial: BTreeMap::new(),
            partial_frags: 0,
        }
    }

    fn seen(&self, tsn: u32) -> bool {
        if !seq_gt(tsn, self.cum) {
            return true;
        }
        self.gaps
            .iter()
            .any(|&(a, b)| !seq_lt(tsn, a) && !seq_gt(tsn, b))
    }

    /// Records `tsn` as arrived; false when there is no room for another gap range.
    fn mark(&mut self, tsn: u32) -> bool {
        if tsn == self.cum.wrapping_add(1) {
            self.cum = tsn;
            if let Some(&(a, b)) = self.gaps.first() {
                if a == self.cum.wrapping_add(1) {
                    self.cum = b;
                    self.gaps.remove(0);
                }
            }
            return true;
        }
        // Find the first range that ends at or after tsn - 1.
        let i = self
            .gaps
            .iter()
            .position(|&(_, b)| !seq_lt(b.wrapping_add(1), tsn))
            .unwrap_or(self.gaps.len());
        let joins_prev = i < self.gaps.len()
            && self
                .gaps
                .get(i)
                .is_some_and(|&(a, b)| b.wrapping_add(1) == tsn && !seq_gt(a, tsn));
        let joins_next_at = if joins_prev { i + 1 } else { i };
        let joins_next = self
            .gaps
            .get(joins_next_at)
            .is_some_and(|&(a, _)| a == tsn.wrapping_add(1));
        match (joins_prev, joins_next) {
            (true, true) => {
                let end = self.gaps.get(i + 1).map_or(tsn, |g| g.1);
                if let Some(g) = self.gaps.get_mut(i) {
                    g.1 = end;
                }
                self.gaps.remove(i + 1);
            }
            (true, false) => {
                if let Some(g) = self.gaps.get_mut(i) {
                    g.1 = tsn;
                }
            }
            (false, true) => {
                if let Some(g) = self.gaps.get_mut(i) {
                    g.0 = tsn;
                }
            }
            (false, false) => {
                if self.gaps.len() >= MAX_GAPS {
                    return false;
                }
                self.gaps.insert(i, (tsn, tsn));
            }
        }
        true
    }

    /// A bare DATA chunk: checked and stored; whole messages go to `events`.
    /// `rwnd` is the receive buffer the engine offers.
    pub fn on_data(
        &mut self,
        d: &Data<'_>,
        rwnd_limit: usize,
        events: &mut VecDeque<EngineEvent>,
        event_bytes: &mut usize,
    ) -> DataOutcome {
        let tsn = d.tsn;
        let valid_stream = match self.accept(
            tsn,
            d.stream_id,
            d.payload.len(),
            rwnd_limit,
            *event_bytes,
            false,
        ) {
            Ok(valid) => valid,
            Err(outcome) => return outcome,
        };
        let index = tsn.wrapping_sub(self.base) as usize;
        if valid_stream {
            let mut buf = self.pool.pop().unwrap_or_default();
            buf.clear();
            buf.extend_from_slice(d.payload);
            self.held = self.held.saturating_add(buf.len());
            while self.slots.len() <= index {
                self.slots.push_back(None);
            }
            if let Some(s) = self.slots.get_mut(index) {
                *s = Some(Slot {
                    stream: d.stream_id,
                    ssn: d.ssn,
                    ppid: d.ppid,
                    flags: d.flags,
                    data: buf,
                });
            }
            self.try_assemble(index, events, event_bytes);
        }
        self.trim();
        DataOutcome::New
    }

    /// The checks every DATA and I-DATA chunk passes (duplicate, window, room), then its
    /// TSN marked as arrived: `Ok(valid stream)`, or what became of the chunk.
    /// `holds`: an I-DATA fragment that may wait for others (not a whole message).
    #[allow(clippy::too_many_arguments)]
    fn accept(
        &mut self,
        tsn: u32,
        stream: u16,
        len: usize,
        rwnd_limit: usize,
        event_bytes: usize,
        holds: bool,
    ) -> Result<bool, DataOutcome> {
        if self.seen(tsn) {
            if self.dups.len() < MAX_DUPS {
                self.dups.push(tsn);
            }
            self.ack_now = true;
            return Err(DataOutcome::Duplicate);
        }
        let ahead = tsn.wrapping_sub(self.cum);
        let index = tsn.wrapping_sub(self.base) as usize;
        // RFC 9260 §6.2: with no room, drop what is above the cumulative point's next TSN
        // (the next in order is taken if it fits at all, so delivery can progress).
        let full =
            self.held.saturating_add(event_bytes).saturating_add(len) > rwnd_limit && ahead != 1;
        if ahead > MAX_TSN_AHEAD || index >= 2 * MAX_TSN_AHEAD as usize || full {
            return Err(DataOutcome::Dropped);
        }
        // The next TSN in order is taken even without room; beyond a window plus a whole
        // message no message can complete in what is held.
        if self.held.saturating_add(len) > rwnd_limit.saturating_add(self.max_message) {
            self.overrun = true;
            return Err(DataOutcome::Dropped);
        }
        if holds && self.partial_frags >= MAX_HELD_FRAGMENTS {
            return Err(DataOutcome::Dropped);
        }
        // RFC 9260 §6.5: an invalid stream is acknowledged and reported, not delivered.
        let valid_stream = stream < self.inbound_streams;
        if !self.mark(tsn) {
            return Err(DataOutcome::Dropped);
        }
        // RFC 9260 §6.7: SACK at once while there are gaps.
        if !self.gaps.is_empty() {
            self.ack_now = true;
        }
        Ok(valid_stream)
    }

    /// An I-DATA chunk (RFC 8260 §2.1): checked and stored; whole messages go to
    /// `events`. Fragments of one message are found by stream, U flag and MID, and put in
    /// order by FSN; other messages' chunks may lie between them in TSN order.
    pub fn on_idata(
        &mut self,
        d: &IData<'_>,
        rwnd_limit: usize,
        events: &mut VecDeque<EngineEvent>,
        event_bytes: &mut usize,
    ) -> DataOutcome {
        match self.accept(
            d.tsn,
            d.stream_id,
            d.payload.len(),
            rwnd_limit,
            *event_bytes,
            !(d.beginning() && d.ending()),
        ) {
            Ok(true) => {}
            Ok(false) => {
                self.trim();
                return DataOutcome::New;
            }
            Err(outcome) => return outcome,
        }
        self.trim();
        let (stream, unordered, mid) = (d.stream_id, d.unordered(), d.mid);
        if !unordered {
            // A message already delivered or skipped (a late copy of an abandoned one).
            let next = self.streams.get(&stream).map_or(0, |st| st.next_ssn);
            if mid.wrapping_sub(next) >= 1 << 31 {
                return DataOutcome::New;
            }
        }
        if d.beginning() && d.ending() {
            let data = d.payload.to_vec();
            let ppid = d.ppid_or_fsn;
            self.complete(stream, unordered, mid, ppid, data, events, event_bytes);
            return DataOutcome::New;
        }
        let fsn = d.fsn();
        let key = (stream, unordered, mid);
        let p = self.partial.entry(key).or_default();
        let duplicate = fsn < p.next_fsn
            || p.later.contains_key(&fsn)
            || p.last.is_some_and(|l| fsn > l)
            || (fsn == 0 && !d.beginning());
        if duplicate {
            // A second chunk for a fragment we hold, or one past the message's end: the
            // payload is not taken (the TSN is, as the peer sent it).
            if p.frags() == 0 {
                self.partial.remove(&key);
            }
            return DataOutcome::New;
        }
        if d.beginning() {
            p.ppid = Some(d.ppid_or_fsn);
        }
        if d.ending() {
            p.last = Some(fsn);
            // Fragments claimed to lie past the end are not part of it.
            let past: Vec<u32> = p
                .later
                .range(fsn.saturating_add(1)..)
                .map(|(&k, _)| k)
                .collect();
            for k in past {
                if let Some(v) = p.later.remove(&k) {
                    p.bytes -= v.len();
                    self.held = self.held.saturating_sub(v.len());
                    self.partial_frags -= 1;
                }
            }
        }
        p.bytes += d.payload.len();
        self.partial_frags += 1;
        self.held = self.held.saturating_add(d.payload.len());
        let mut buf = self.pool.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(d.payload);
        if fsn == p.next_fsn {
            p.run.push(buf);
            p.next_fsn += 1;
            while let Some(v) = p.later.remove(&p.next_fsn) {
                p.run.push(v);
                p.next_fsn += 1;
            }
        } else {
            p.later.insert(fsn, buf);
        }
        if p.bytes > self.max_message {
            self.overrun = true;
            return DataOutcome::New;
        }
        let whole = p.ppid.is_some() && p.last.is_some_and(|l| l.wrapping_add(1) == p.next_fsn);
        if whole {
            if let Some(p) = self.partial.remove(&key) {
                self.held = self.held.saturating_sub(p.bytes);
                self.partial_frags -= p.frags();
                let mut data = Vec::with_capacity(p.bytes);
                for v in p.run {
                    data.extend_from_slice(&v);
                    if self.pool.len() < POOL_MAX {
                        self.pool.push(v);
                    }
                }
                let ppid = p.ppid.unwrap_or(0);
                self.complete(stream, unordered, mid, ppid, data, events, event_bytes);
            }
        }
        DataOutcome::New
    }

    /// A whole message: up at once when unordered, else in its turn on the stream (RFC
    /// 9260 §6.6). `seq` is its SSN (DATA) or MID (I-DATA).
    #[allow(clippy::too_many_arguments)]
    fn complete(
        &mut self,
        stream: u16,
        unordered: bool,
        seq: u32,
        ppid: u32,
        data: Vec<u8>,
        events: &mut VecDeque<EngineEvent>,
        event_bytes: &mut usize,
    ) {
        if unordered {
            *event_bytes = event_bytes.saturating_add(data.len());
            events.push_back(EngineEvent::Message {
                stream,
                ppid,
                unordered: true,
                data,
            });
            return;
        }
        let idata = self.idata;
        let st = self.streams.entry(stream).or_default();
        let offset = if idata {
            seq.wrapping_sub(st.next_ssn) as usize
        } else {
            (seq as u16).wrapping_sub(st.next_ssn as u16) as usize
        };
        if offset >= 32_768 || self.ready_count >= MAX_READY {
            // A sequence number already delivered, or more waiting than we keep: not
            // deliverable.
            return;
        }
        while st.ready.len() <= offset {
            st.ready.push_back(None);
            self.ready_count += 1;
        }
        self.held = self.held.saturating_add(data.len());
        if let Some(r) = st.ready.get_mut(offset) {
            *r = Some(Ready { ppid, data });
        }
        let up = Up {
            held: &mut self.held,
            event_bytes,
            events,
        };
        st.deliver_in_order(stream, &mut self.ready_count, up);
    }

    /// Joins the message around `index` if all its fragments are here (RFC 9260 §6.9:
    /// fragments of one message carry consecutive TSNs).
    fn try_assemble(
        &mut self,
        index: usize,
        events: &mut VecDeque<EngineEvent>,
        event_bytes: &mut usize,
    ) {
        let Some(Some(me)) = self.slots.get(index) else {
            return;
        };
        let (stream, ssn, unordered) = (me.stream, me.ssn, me.flags & Data::UNORDERED != 0);
        let same = |s: &Slot| {
            s.stream == stream
                && (s.flags & Data::UNORDERED != 0) == unordered
                && (unordered || s.ssn == ssn)
        };
        let mut first = index;
        let mut total = 0usize;
        loop {
            match self.slots.get(first) {
                Some(Some(s)) if same(s) => {
                    total = total.saturating_add(s.data.len());
                    if s.flags & Data::BEGINNING != 0 {
                        break;
                    }
                    if first == 0 {
                        return;
                    }
                    first -= 1;
                }
                _ => return,
            }
        }
        let mut last = index;
        loop {
            match self.slots.get(last) {
                Some(Some(s)) if same(s) => {
                    if last != index {
                        total = total.saturating_add(s.data.len());
                    }
                    if s.flags & Data::ENDING != 0 {
                        break;
                    }
                    last += 1;
                }
                _ => return,
            }
        }
        if total > self.max_message {
            self.overrun = true;
            return;
        }
        let mut data = Vec::with_capacity(total);
        let mut ppid = 0;
        for i in first..=last {
            if let Some(slot) = self.slots.get_mut(i).and_then(Option::take) {
                if i == first {
                    ppid = slot.ppid;
                }
                data.extend_from_slice(&slot.data);
                self.held = self.held.saturating_sub(slot.data.len());
                if self.pool.len() < POOL_MAX {
                    self.pool.push(slot.data);
                }
            }
        }
        self.complete(
            stream,
            unordered,
            u32::from(ssn),
            ppid,
            data,
            events,
            event_bytes,
        );
    }

    /// Drops empty slots at or below the cumulative point.
    fn trim(&mut self) {
        while seq_lt(self.base, self.cum.wrapping_add(1)) {
            match self.slots.front() {
                Some(None) => {
                    self.slots.pop_front();
                    self.base = self.base.wrapping_add(1);
                }
                Some(Some(_)) => break,
                None => {
                    self.base = self.cum.wrapping_add(1);
                    break;
                }
            }
        }
    }

    /// RFC 3758 §3.6: the peer abandoned every TSN up to `new_cum_tsn`. They count as
    /// received, their partial messages are dropped, each listed ordered stream skips past
    /// its SSN (delivering what that releases), and a SACK goes at once.
    pub fn on_forward_tsn(
        &mut self,
        f: &ForwardTsn<'_>,
        events: &mut VecDeque<EngineEvent>,
        event_bytes: &mut usize,
    ) {
        if !self.skip_tsns(f.new_cum_tsn) {
            return;
        }
        for e in f.streams.iter() {
            let next = self.streams.get(&e.stream_id).map_or(0, |st| st.next_ssn);
            let ahead = e.ssn.wrapping_add(1).wrapping_sub(next as u16);
            if ahead < 32_768 {
                self.skip_ordered(e.stream_id, u32::from(ahead), events, event_bytes);
            }
        }
    }

    /// RFC 8260 §2.3.2: as FORWARD TSN, with each entry naming a stream, ordered or
    /// unordered, and the highest MID skipped on it: the fragments held of those messages
    /// go, and an ordered stream moves past the MID.
    pub fn on_iforward_tsn(
        &mut self,
        f: &IForwardTsn<'_>,
        events: &mut VecDeque<EngineEvent>,
        event_bytes: &mut usize,
    ) {
        if !self.skip_tsns(f.new_cum_tsn) {
            return;
        }
        for e in f.entries.iter() {
            // Partial messages of this stream and kind at or before the MID.
            let lo = (e.stream_id, e.unordered, 0);
            let hi = (e.stream_id, e.unordered, u32::MAX);
            let gone: Vec<u32> = self
                .partial
                .range(lo..=hi)
                .map(|(&(_, _, m), _)| m)
                .filter(|&m| !seq_gt(m, e.mid))
                .collect();
            for m in gone {
                if let Some(p) = self.partial.remove(&(e.stream_id, e.unordered, m)) {
                    self.held = self.held.saturating_sub(p.bytes);
                    self.partial_frags -= p.frags();
                }
            }
            if !e.unordered {
                let next = self.streams.get(&e.stream_id).map_or(0, |st| st.next_ssn);
                let ahead = e.mid.wrapping_add(1).wrapping_sub(next);
                if ahead < 32_768 {
                    self.skip_ordered(e.stream_id, ahead, events, event_bytes);
                }
            }
        }
    }

    /// The TSN part of (I-)FORWARD TSN: every TSN up to `new_cum` counts as received, DATA
    /// fragments held at or below it are dropped, and a SACK goes at once. False when the
    /// point is behind ours, or past what could have been sent.
    fn skip_tsns(&mut self, new_cum: u32) -> bool {
        self.ack_now = true;
        // Past what we could have been sent (gap offsets are 16-bit): a peer's error,
        // ignored rather than let it skip data we never saw.
        if !seq_gt(new_cum, self.cum) || new_cum.wrapping_sub(self.cum) > MAX_TSN_AHEAD {
            return false;
        }
        // Held fragments at or below the new point belong to abandoned messages.
        let upto = new_cum.wrapping_sub(self.base) as usize;
        for i in 0..=upto.min(self.slots.len().saturating_sub(1)) {
            if let Some(slot) = self.slots.get_mut(i).and_then(Option::take) {
                self.held = self.held.saturating_sub(slot.data.len());
                if self.pool.len() < POOL_MAX {
                    self.pool.push(slot.data);
                }
            }
        }
        self.cum = new_cum;
        // Gap ranges now at or below the point go; one touching it joins it.
        self.gaps.retain(|&(_, b)| seq_gt(b, new_cum));
        if let Some(g) = self.gaps.first_mut() {
            if !seq_gt(g.0, new_cum) {
                g.0 = new_cum.wrapping_add(1);
            }
        }
        if let Some(&(a, b)) = self.gaps.first() {
            if a == self.cum.wrapping_add(1) {
                self.cum = b;
                self.gaps.remove(0);
            }
        }
        self.trim();
        true
    }

    /// An ordered stream skips `ahead` sequence numbers (1..32768): the whole messages
    /// among them still go up, in order; then the stream waits for the one after, and
    /// delivers what is waiting from there.
    fn skip_ordered(
        &mut self,
        stream: u16,
        ahead: u32,
        events: &mut VecDeque<EngineEvent>,
        event_bytes: &mut usize,
    ) {
        if stream >= self.inbound_streams || ahead == 0 {
            return;
        }
        // A stream whose every message so far was abandoned has no entry yet.
        let st = self.streams.entry(stream).or_default();
        for _ in 0..ahead {
            if let Some(r) = st.ready.pop_front() {
                self.ready_count = self.ready_count.saturating_sub(1);
                if let Some(r) = r {
                    Up {
                        held: &mut self.held,
                        event_bytes: &mut *event_bytes,
                        events: &mut *events,
                    }
                    .message(stream, r);
                }
            } else {
                break;
            }
        }
        st.next_ssn = st.next_ssn.wrapping_add(ahead);
        let up = Up {
            held: &mut self.held,
            event_bytes,
            events,
        };
        st.deliver_in_order(stream, &mut self.ready_count, up);
    }

    /// RFC 6525 §5.2.2: the streams' next SSN is 0 again (none listed: all streams).
    pub fn reset_streams(&mut self, streams: &[u16]) {
        let reset = |st: &mut InStream, count: &mut usize| {
            st.next_ssn = 0;
            *count = count.saturating_sub(st.ready.len());
            st.ready.clear();
        };
        if streams.is_empty() {
            for st in self.streams.values_mut() {
                reset(st, &mut self.ready_count);
            }
        } else {
            for s in streams {
                if let Some(st) = self.streams.get_mut(s) {
                    reset(st, &mut self.ready_count);
                }
            }
        }
    }

    /// After a packet that carried DATA: when to SACK (RFC 9260 §6.2: at least every
    /// second packet, within 200 ms).
    pub fn after_data_packet(&mut self, now: Instant, delay: Duration, immediate: bool) {
        self.packets_unacked += 1;
        if self.packets_unacked >= 2 || immediate {
            self.ack_now = true;
        } else if self.delayed_ack_at.is_none() {
            self.delayed_ack_at = Some(now + delay);
        }
    }

    /// Whether a SACK should go out now, or may ride along with data.
    pub fn sack_wanted(&self, piggyback: bool) -> bool {
        self.ack_now || (piggyback && self.delayed_ack_at.is_some())
    }

    /// Writes a SACK (RFC 9260 §3.3.4) with as many gap blocks as `room` bytes allow.
    pub fn write_sack(&mut self, out: &mut Vec<u8>, a_rwnd: u32, room: usize) {
        let fixed = 16;
        let dups_n = self.dups.len().min(room.saturating_sub(fixed) / 4);
        let gaps_n = self
            .gaps
            .len()
            .min(room.saturating_sub(fixed + 4 * dups_n) / 4);
        let cum = self.cum;
        let gaps = self.gaps.iter().take(gaps_n).map(|&(a, b)| GapBlock {
            start: a.wrapping_sub(cum) as u16,
            end: b.wrapping_sub(cum) as u16,
        });
        let dups = self.dups.iter().take(dups_n).copied();
        let _ = crate::wire::Sack::write(out, cum, a_rwnd, gaps, dups);
        self.dups.clear();
        self.packets_unacked = 0;
        self.ack_now = false;
        self.delayed_ack_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(tsn: u32, flags: u8, ssn: u16, payload: &[u8]) -> Data<'_> {
        Data {
            flags,
            tsn,
            stream_id: 1,
            ssn,
            ppid: 53,
            payload,
        }
    }

    const BE: u8 = Data::BEGINNING | Data::ENDING;

    #[test]
    fn gaps_merge_and_cum_advances() {
        let mut rx = Rx::new(100, 10, 1 << 20, false);
        let mut ev = VecDeque::new();
        let mut eb = 0;
        for tsn in [102, 104, 103, 106, 101, 100, 105] {
            assert_eq!(
                rx.on_data(
                    &data(tsn, BE, (tsn - 100) as u16, b"x"),
                    1 << 20,
                    &mut ev,
                    &mut eb
                ),
                DataOutcome::New
            );
        }
        assert_eq!(rx.cum, 106);
        assert!(rx.gaps.is_empty());
        assert_eq!(ev.len(), 7);
        let ssns: Vec<u8> = ev
            .iter()
            .map(|e| match e {
                EngineEvent::Message { data, .. } => data[0],
                _ => 0,
            })
            .collect();
        assert_eq!(ssns, vec![b'x'; 7]);
        assert_eq!(
            rx.on_data(&data(103, BE, 3, b"x"), 1 << 20, &mut ev, &mut eb),
            DataOutcome::Duplicate
        );
        assert!(rx.slots.is_empty());
    }

    #[test]
    fn fragments_join_out_of_order() {
        let mut rx = Rx::new(1, 10, 1 << 20, false);
        let mut ev = VecDeque::new();
        let mut eb = 0;
        rx.on_data(&data(3, Data::ENDING, 0, b"c"), 1 << 20, &mut ev, &mut eb);
        rx.on_data(
            &data(1, Data::BEGINNING, 0, b"a"),
            1 << 20,
            &mut ev,
            &mut eb,
        );
        assert!(ev.is_empty());
        assert_eq!(rx.gaps, vec![(3, 3)]);
        rx.on_data(&data(2, 0, 0, b"b"), 1 << 20, &mut ev, &mut eb);
        match ev.pop_front() {
            Some(EngineEvent::Message { data, .. }) => assert_eq!(data, b"abc"),
            other => panic!("{other:?}"),
        }
        assert_eq!(rx.held, 0);
    }

    fn idata(tsn: u32, stream: u16, mid: u32, flags: u8, fsn: u32, payload: &[u8]) -> IData<'_> {
        IData {
            flags,
            tsn,
            stream_id: stream,
            mid,
            ppid_or_fsn: if flags & Data::BEGINNING != 0 {
                53
            } else {
                fsn
            },
            payload,
        }
    }

    fn messages(ev: &mut VecDeque<EngineEvent>) -> Vec<(u16, Vec<u8>)> {
        ev.drain(..)
            .filter_map(|e| match e {
                EngineEvent::Message { stream, data, .. } => Some((stream, data)),
                _ => None,
            })
            .collect()
    }

    /// RFC 8260 §2.1: fragments of one message are found by stream, U and MID and joined
    /// in FSN order, whatever their TSNs and whatever lies between them; ordered messages
    /// still go up in MID order.
    #[test]
    fn idata_fragments_join_by_fsn_with_other_messages_between() {
        let mut rx = Rx::new(1, 10, 1 << 20, true);
        let (mut ev, mut eb) = (VecDeque::new(), 0);
        let w = 1 << 20;
        // Stream 1 MID 0 "abc" in TSNs 1, 3, 5; stream 2 MID 0 "x" at TSN 2; stream 1 MID 1
        // "y" at TSN 4. Arrival: 5, 4, 2, 1, 3.
        rx.on_idata(&idata(5, 1, 0, Data::ENDING, 2, b"c"), w, &mut ev, &mut eb);
        rx.on_idata(&idata(4, 1, 1, BE, 0, b"y"), w, &mut ev, &mut eb);
        rx.on_idata(&idata(2, 2, 0, BE, 0, b"x"), w, &mut ev, &mut eb);
        assert_eq!(messages(&mut ev), [(2, b"x".to_vec())]);
        rx.on_idata(
            &idata(1, 1, 0, Data::BEGINNING, 0, b"a"),
            w,
            &mut ev,
            &mut eb,
        );
        assert!(ev.is_empty());
        rx.on_idata(&idata(3, 1, 0, 0, 1, b"b"), w, &mut ev, &mut eb);
        assert_eq!(
            messages(&mut ev),
            [(1, b"abc".to_vec()), (1, b"y".to_vec())]
        );
        assert_eq!((rx.held, rx.partial_frags, rx.partial.len()), (0, 0, 0));
        assert_eq!(rx.cum, 5);
    }

    /// Hostile fragments: a second copy of a fragment under another TSN, one past the
    /// message's end, a non-first fragment claiming FSN 0: none of them changes the
    /// message; it completes with the right bytes.
    #[test]
    fn idata_conflicting_fragments_do_not_change_the_message() {
        let mut rx = Rx::new(1, 10, 1 << 20, true);
        let (mut ev, mut eb) = (VecDeque::new(), 0);
        let w = 1 << 20;
        let u = Data::UNORDERED;
        rx.on_idata(
            &idata(1, 1, 7, u | Data::ENDING, 2, b"c"),
            w,
            &mut ev,
            &mut eb,
        );
        rx.on_idata(&idata(2, 1, 7, u, 5, b"past"), w, &mut ev, &mut eb);
        rx.on_idata(&idata(3, 1, 7, u, 1, b"b"), w, &mut ev, &mut eb);
        rx.on_idata(&idata(4, 1, 7, u, 1, b"B"), w, &mut ev, &mut eb);
        rx.on_idata(&idata(5, 1, 7, u, 0, b"0"), w, &mut ev, &mut eb);
        assert!(ev.is_empty());
        rx.on_idata(
            &idata(6, 1, 7, u | Data::BEGINNING, 0, b"a"),
            w,
            &mut ev,
            &mut eb,
        );
        assert_eq!(messages(&mut ev), [(1, b"abc".to_vec())]);
        assert_eq!((rx.held, rx.partial_frags, rx.partial.len()), (0, 0, 0));
    }

    /// Messages that never complete cannot pile up: past MAX_HELD_FRAGMENTS fragments
    /// held, more are dropped unacknowledged; an I-FORWARD-TSN naming them frees them all
    /// (RFC 8260 §2.3.2).
    #[test]
    fn idata_incomplete_messages_are_bounded_and_freed_by_iforward_tsn() {
        let mut rx = Rx::new(1, 10, 1 << 20, true);
        let (mut ev, mut eb) = (VecDeque::new(), 0);
        let w = 1 << 24;
        let u = Data::UNORDERED | Data::BEGINNING;
        let mut dropped = 0;
        for i in 0..(MAX_HELD_FRAGMENTS as u32 + 100) {
            let out = rx.on_idata(&idata(1 + i, 3, i, u, 0, b"z"), w, &mut ev, &mut eb);
            if out == DataOutcome::Dropped {
                dropped += 1;
            }
        }
        assert_eq!(dropped, 100);
        assert_eq!(rx.partial_frags, MAX_HELD_FRAGMENTS);
        assert_eq!(rx.held, MAX_HELD_FRAGMENTS);
        // A whole message is never held as a fragment: it still goes through.
        let next = MAX_HELD_FRAGMENTS as u32 + 1;
        let whole = idata(next, 3, 1 << 20, Data::UNORDERED | BE, 0, b"whole");
        assert_eq!(rx.on_idata(&whole, w, &mut ev, &mut eb), DataOutcome::New);
        assert_eq!(messages(&mut ev), [(3, b"whole".to_vec())]);
        let mut body = Vec::new();
        body.extend_from_slice(&3u16.to_be_bytes());
        body.extend_from_slice(&[0, 1]);
        body.extend_from_slice(&(MAX_HELD_FRAGMENTS as u32 - 1).to_be_bytes());
        // Past the cumulative point (one TSN the sender gave up before sending it, as it
        // does for a message's unsent rest); one at or below it is out of date (RFC 3758
        // §3.6) and changes nothing.
        let stale = IForwardTsn {
            new_cum_tsn: next,
            entries: crate::wire::List::new(&body),
        };
        rx.on_iforward_tsn(&stale, &mut ev, &mut eb);
        assert_eq!(rx.partial_frags, MAX_HELD_FRAGMENTS);
        let f = IForwardTsn {
            new_cum_tsn: next + 1,
            entries: crate::wire::List::new(&body),
        };
        rx.on_iforward_tsn(&f, &mut ev, &mut eb);
        assert_eq!((rx.held, rx.partial_frags, rx.partial.len()), (0, 0, 0));
        assert!(ev.is_empty());
    }

    /// I-FORWARD-TSN on an ordered stream: the held fragments of the skipped MID go, the
    /// complete message after it is released, and a late fragment of the skipped message
    /// is not kept.
    #[test]
    fn idata_iforward_tsn_skips_an_ordered_mid() {
        let mut rx = Rx::new(1, 10, 1 << 20, true);
        let (mut ev, mut eb) = (VecDeque::new(), 0);
        let w = 1 << 20;
        // MID 0: first fragment only (TSN 1); TSN 2 lost; MID 1 whole at TSN 3.
        rx.on_idata(
            &idata(1, 4, 0, Data::BEGINNING, 0, b"a"),
            w,
            &mut ev,
            &mut eb,
        );
        rx.on_idata(&idata(3, 4, 1, BE, 0, b"next"), w, &mut ev, &mut eb);
        assert!(ev.is_empty());
        let mut body = Vec::new();
        body.extend_from_slice(&4u16.to_be_bytes());
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&0u32.to_be_bytes());
        let f = IForwardTsn {
            new_cum_tsn: 2,
            entries: crate::wire::List::new(&body),
        };
        rx.on_iforward_tsn(&f, &mut ev, &mut eb);
        assert_eq!(messages(&mut ev), [(4, b"next".to_vec())]);
        assert_eq!(rx.cum, 3);
        // A late copy of MID 0's end under a new TSN is acknowledged, not kept.
        rx.on_idata(&idata(4, 4, 0, Data::ENDING, 1, b"b"), w, &mut ev, &mut eb);
        assert!(ev.is_empty());
        assert_eq!((rx.held, rx.partial_frags, rx.partial.len()), (0, 0, 0));
    }
}
