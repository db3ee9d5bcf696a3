//! The send queue: chunks waiting for their TSN, per outgoing stream, and the order the
//! streams take turns in (the stream scheduler of RFC 8260 §3).
//!
//! - With DATA, first come first served, one whole message at a time: a message's
//!   fragments take consecutive TSNs (RFC 9260 §6.9), so nothing else can go between them.
//! - With I-DATA (RFC 8260 §2.1), weighted round robin per chunk over the streams with
//!   something queued (the round-robin scheduler of §3.2, with user message interleaving,
//!   weighted as §3.6 weighs streams): a large message on one stream no longer holds back
//!   a small one on another. A stream's weight is its data channel's priority (RFC 8831
//!   §6.4: 128 below normal, 256 normal, 512 high, 1024 extra high), and each turn it
//!   sends weight/256 chunks: one for a normal stream, two for a high one, one every
//!   second turn for a low one. Equal weights make it plain round robin per chunk.
//!
//! Within a stream, messages keep the order they were sent in. A message gets its SSN
//! (DATA) or MID (I-DATA) together with the TSN of its first chunk, and each chunk its
//! FSN with its own TSN, so a message dropped before it was sent (RFC 3758 §4.1 TR3)
//! leaves no hole in either sequence, and a chunk cut again (a smaller PLPMTU) is numbered
//! as it goes.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;

use super::tx::{OutChunk, DATA_HEADER, I_DATA_HEADER};
use crate::wire::Data;

/// One outgoing stream.
#[derive(Default)]
struct OutStream {
    chunks: VecDeque<OutChunk>,
    /// Next SSN (low 16 bits, DATA) or MID (I-DATA) of an ordered message.
    next_ordered: u32,
    /// Next MID of an unordered message (I-DATA; RFC 8260 §2.1 keeps two counters).
    next_unordered: u32,
    /// The SSN or MID of the message whose chunks are getting TSNs, and its next FSN.
    mid: u32,
    fsn: u32,
    /// Priority (RFC 8831 §6.4); 0 until set, taken as normal.
    weight: u16,
    /// Credit for chunks in this turn, in 1/256 of a chunk (I-DATA).
    deficit: u32,
}

/// Credit one chunk costs.
const CHUNK_CREDIT: u32 = 256;

impl OutStream {
    /// The credit a turn gives: the priority, normal when unset, within 16..=4096 (a
    /// turn of a sixteenth of a chunk at least, so the scheduler settles quickly).
    fn quantum(&self) -> u32 {
        match self.weight {
            0 => CHUNK_CREDIT,
            w => u32::from(w).clamp(16, 4096),
        }
    }
}

/// Chunks waiting for a TSN, and whose turn it is.
#[derive(Default)]
pub(super) struct OutQueue {
    streams: BTreeMap<u16, OutStream>,
    /// DATA: the queued messages in the order they were sent, as (stream, message
    /// number); the front one is being sent.
    order: VecDeque<(u16, u32)>,
    /// I-DATA: the streams with chunks queued, the next to send first.
    ring: VecDeque<u16>,
    interleave: bool,
    /// Chunks queued.
    len: usize,
}

impl OutQueue {
    /// Nothing queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Chunks queued.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether messages are interleaved (I-DATA was negotiated).
    #[cfg(test)]
    pub fn interleaving(&self) -> bool {
        self.interleave
    }

    /// Switches to round robin per chunk (I-DATA negotiated, RFC 8260 §2.2.1): what is
    /// queued takes turns from now on, streams in the order their first message came.
    pub fn enable_interleaving(&mut self) {
        if self.interleave {
            return;
        }
        self.interleave = true;
        for (stream, _) in std::mem::take(&mut self.order) {
            if !self.ring.contains(&stream) {
                self.ring.push_back(stream);
            }
        }
        self.settle();
    }

    /// Sets `stream`'s weight: its data channel's priority (RFC 8831 §6.4).
    pub fn set_weight(&mut self, stream: u16, weight: u16) {
        self.streams.entry(stream).or_default().weight = weight;
    }

    /// Weighted round robin (I-DATA): brings to the front of the ring a stream with credit
    /// for its next chunk. The one in front without it gets its turn's credit, and waits
    /// behind the others when that is still short of a chunk.
    fn settle(&mut self) {
        // Each stream's credit grows by 16 at least per pass: bounded.
        for _ in 0..(self.ring.len() + 1) * 17 {
            let Some(&stream) = self.ring.front() else {
                return;
            };
            let Some(st) = self.streams.get_mut(&stream) else {
                self.ring.pop_front();
                continue;
            };
            if st.chunks.is_empty() {
                st.deficit = 0;
                self.ring.pop_front();
                continue;
            }
            if st.deficit >= CHUNK_CREDIT {
                return;
            }
            st.deficit += st.quantum();
            if st.deficit >= CHUNK_CREDIT {
                return;
            }
            self.ring.rotate_left(1);
        }
    }

    /// Queues message `msg` on `stream`, cut into chunks of at most `max_payload` bytes
    /// (RFC 9260 §6.9); `flags` carries U, and `idata` the chunk type.
    #[allow(clippy::too_many_arguments)]
    pub fn push_message(
        &mut self,
        stream: u16,
        ppid: u32,
        unordered: bool,
        data: Bytes,
        max_payload: usize,
        limited: bool,
        msg: u32,
        idata: bool,
    ) {
        let st = self.streams.entry(stream).or_default();
        let was_empty = st.chunks.is_empty();
        let u = if unordered { Data::UNORDERED } else { 0 };
        let proto = OutChunk {
            stream,
            mid: 0,
            fsn: 0,
            ppid,
            flags: u | Data::BEGINNING | Data::ENDING,
            limited,
            idata,
            msg,
            data,
        };
        self.len += cut(proto, max_payload, &mut st.chunks);
        if self.interleave {
            if was_empty {
                st.deficit = 0;
                self.ring.push_back(stream);
                if self.ring.len() == 1 {
                    self.settle();
                }
            }
        } else {
            self.order.push_back((stream, msg));
        }
    }

    /// The chunk [`pop`](Self::pop) would take.
    pub fn front(&self) -> Option<&OutChunk> {
        let stream = if self.interleave {
            *self.ring.front()?
        } else {
            self.order.front()?.0
        };
        self.streams.get(&stream)?.chunks.front()
    }

    /// Takes the next chunk, numbered: SSN or MID, and FSN.
    pub fn pop(&mut self) -> Option<OutChunk> {
        let stream = if self.interleave {
            *self.ring.front()?
        } else {
            self.order.front()?.0
        };
        let st = self.streams.get_mut(&stream)?;
        let mut c = st.chunks.pop_front()?;
        self.len -= 1;
        if self.interleave {
            // Its turn goes on while it has credit; then it waits behind the others, or
            // leaves the ring with nothing more to send.
            st.deficit = st.deficit.saturating_sub(CHUNK_CREDIT);
            if st.chunks.is_empty() {
                st.deficit = 0;
                self.ring.pop_front();
            } else if st.deficit < CHUNK_CREDIT {
                self.ring.rotate_left(1);
            }
        } else if c.flags & Data::ENDING != 0 {
            self.order.pop_front();
        }
        if c.flags & Data::BEGINNING != 0 {
            let unordered = c.flags & Data::UNORDERED != 0;
            st.mid = if !unordered {
                let m = st.next_ordered;
                st.next_ordered = m.wrapping_add(1);
                m
            } else if self.interleave {
                let m = st.next_unordered;
                st.next_unordered = m.wrapping_add(1);
                m
            } else {
                // DATA: an unordered message has no SSN (RFC 9260 §3.3.1).
                0
            };
            st.fsn = 0;
        }
        c.mid = st.mid;
        c.fsn = st.fsn;
        st.fsn = st.fsn.wrapping_add(1);
        if self.interleave {
            self.settle();
        }
        Some(c)
    }

    /// Drops the queued chunks of message `msg` on `stream`; returns their payload bytes
    /// and, when `in_progress` (the message's first chunks have TSNs), a chunk that stands
    /// for the dropped rest: numbered as the next fragment would have been, E set, no data.
    pub fn remove_message(
        &mut self,
        stream: u16,
        msg: u32,
        in_progress: bool,
    ) -> (usize, Option<OutChunk>) {
        let Some(st) = self.streams.get_mut(&stream) else {
            return (0, None);
        };
        let Some(base) = st.chunks.front().map(|c| c.msg) else {
            return (0, None);
        };
        // A stream's chunks are in message order: the message is one run of them.
        let key = msg.wrapping_sub(base);
        let a = st
            .chunks
            .partition_point(|c| c.msg.wrapping_sub(base) < key);
        let b = st
            .chunks
            .partition_point(|c| c.msg.wrapping_sub(base) <= key);
        if a == b {
            return (0, None);
        }
        let mut bytes = 0;
        let mut rest = None;
        for c in st.chunks.drain(a..b) {
            bytes += c.data.len();
            if in_progress && rest.is_none() {
                rest = Some(OutChunk {
                    mid: st.mid,
                    fsn: st.fsn,
                    flags: (c.flags & Data::UNORDERED) | Data::ENDING,
                    data: Bytes::new(),
                    ..c
                });
            }
        }
        if rest.is_some() {
            st.fsn = st.fsn.wrapping_add(1);
        }
        self.len -= b - a;
        let now_empty = st.chunks.is_empty();
        if self.interleave {
            if now_empty {
                st.deficit = 0;
                self.ring.retain(|&s| s != stream);
                self.settle();
            }
        } else if let Some(i) = self.order.iter().position(|&e| e == (stream, msg)) {
            self.order.remove(i);
        }
        (bytes, rest)
    }

    /// RFC 6525 §5.2.4 (RFC 8260 §2.3.3 for MIDs): the stream's sequences restart at 0.
    pub fn reset_stream(&mut self, stream: u16) {
        if let Some(st) = self.streams.get_mut(&stream) {
            st.next_ordered = 0;
            st.next_unordered = 0;
        }
    }

    /// Cuts again the queued chunks longer than `max_payload` (no TSN yet, so still free
    /// to cut, RFC 9260 §6.9), and makes every queued chunk DATA or I-DATA as `idata`
    /// says.
    pub fn refragment(&mut self, max_payload: usize, idata: bool) {
        let max_payload = max_payload.max(1);
        for st in self.streams.values_mut() {
            if st
                .chunks
                .iter()
                .all(|c| c.data.len() <= max_payload && c.idata == idata)
            {
                continue;
            }
            let old = std::mem::take(&mut st.chunks);
            for mut c in old {
                c.idata = idata;
                self.len -= 1;
                self.len += cut(c, max_payload, &mut st.chunks);
            }
        }
    }

    /// The queued chunks, stream by stream.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &OutChunk> {
        self.streams.values().flat_map(|s| s.chunks.iter())
    }
}

/// Appends `c` to `out` cut into pieces of at most `max_payload` bytes; the B and E flags
/// of `c` go to the first and the last piece. Returns the number of pieces.
fn cut(c: OutChunk, max_payload: usize, out: &mut VecDeque<OutChunk>) -> usize {
    let max_payload = max_payload.max(1);
    let len = c.data.len();
    if len <= max_payload {
        out.push_back(c);
        return 1;
    }
    let keep = c.flags & !(Data::BEGINNING | Data::ENDING);
    let mut at = 0;
    let mut n = 0;
    while at < len {
        let end = (at + max_payload).min(len);
        let mut flags = keep;
        if at == 0 {
            flags |= c.flags & Data::BEGINNING;
        }
        if end == len {
            flags |= c.flags & Data::ENDING;
        }
        out.push_back(OutChunk {
            flags,
            data: c.data.slice(at..end),
            ..c
        });
        at = end;
        n += 1;
    }
    n
}

/// Bytes of a chunk header: DATA or I-DATA.
pub(super) fn data_header(idata: bool) -> usize {
    if idata {
        I_DATA_HEADER
    } else {
        DATA_HEADER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(interleave: bool) -> OutQueue {
        let mut q = OutQueue::default();
        if interleave {
            q.enable_interleaving();
        }
        q
    }

    fn push(q: &mut OutQueue, stream: u16, msg: u32, len: usize, unordered: bool) {
        let idata = q.interleaving();
        let data = Bytes::from(vec![msg as u8; len]);
        q.push_message(stream, 51, unordered, data, 100, false, msg, idata);
    }

    fn drain(q: &mut OutQueue) -> Vec<(u16, u32, u32, u32)> {
        std::iter::from_fn(|| q.pop().map(|c| (c.stream, c.msg, c.mid, c.fsn))).collect()
    }

    #[test]
    fn data_sends_whole_messages_first_come_first_served() {
        let mut q = q(false);
        push(&mut q, 1, 0, 250, false);
        push(&mut q, 2, 1, 50, false);
        push(&mut q, 1, 2, 50, false);
        let out = drain(&mut q);
        assert_eq!(
            out,
            vec![
                (1, 0, 0, 0),
                (1, 0, 0, 1),
                (1, 0, 0, 2),
                (2, 1, 0, 0),
                (1, 2, 1, 0)
            ]
        );
        assert!(q.is_empty());
    }

    #[test]
    fn idata_takes_turns_per_chunk_and_numbers_each_sequence() {
        let mut q = q(true);
        push(&mut q, 1, 0, 300, false);
        push(&mut q, 2, 1, 50, false);
        push(&mut q, 2, 2, 50, true);
        push(&mut q, 2, 3, 50, false);
        let out = drain(&mut q);
        // Stream 2's small messages go between the fragments of stream 1's large one;
        // ordered and unordered MIDs count apart (RFC 8260 §2.1).
        assert_eq!(
            out,
            vec![
                (1, 0, 0, 0),
                (2, 1, 0, 0),
                (1, 0, 0, 1),
                (2, 2, 0, 0),
                (1, 0, 0, 2),
                (2, 3, 1, 0),
            ]
        );
    }

    #[test]
    fn removing_a_message_leaves_its_neighbours_and_the_turns() {
        for interleave in [false, true] {
            let mut q = q(interleave);
            push(&mut q, 1, 0, 150, false);
            push(&mut q, 2, 1, 150, false);
            push(&mut q, 1, 2, 50, false);
            assert_eq!(q.remove_message(2, 1, false).0, 150);
            assert_eq!(q.remove_message(2, 1, false).0, 0);
            let out = drain(&mut q);
            // Message 2 gets SSN/MID 1: message 1, removed, was on another stream.
            assert_eq!(out, vec![(1, 0, 0, 0), (1, 0, 0, 1), (1, 2, 1, 0)]);
        }
    }

    #[test]
    fn switching_to_interleaving_keeps_what_is_queued() {
        let mut q = q(false);
        push(&mut q, 3, 0, 150, false);
        push(&mut q, 4, 1, 50, false);
        q.enable_interleaving();
        q.refragment(100, true);
        assert!(q.iter().all(|c| c.idata));
        let out = drain(&mut q);
        assert_eq!(out, vec![(3, 0, 0, 0), (4, 1, 0, 0), (3, 0, 0, 1)]);
    }

    #[test]
    fn a_reset_stream_counts_from_zero_again() {
        let mut q = q(true);
        push(&mut q, 1, 0, 10, false);
        push(&mut q, 1, 1, 10, true);
        drain(&mut q);
        q.reset_stream(1);
        push(&mut q, 1, 2, 10, false);
        push(&mut q, 1, 3, 10, true);
        assert_eq!(drain(&mut q), vec![(1, 2, 0, 0), (1, 3, 0, 0)]);
    }

    /// Weighted round robin: per turn a stream sends weight/256 chunks, so over 8 chunks
    /// of each, a high-priority stream (512) gets two for each of a normal one's (256),
    /// and a low one (128) one every second turn.
    #[test]
    fn idata_turns_follow_the_streams_priorities() {
        let mut q = q(true);
        q.set_weight(1, 512);
        q.set_weight(2, 256);
        q.set_weight(3, 128);
        push(&mut q, 1, 0, 800, false);
        push(&mut q, 2, 1, 800, false);
        push(&mut q, 3, 2, 800, false);
        let streams: Vec<u16> = drain(&mut q).iter().map(|c| c.0).collect();
        assert_eq!(
            &streams[..12],
            [1, 1, 2, 1, 1, 2, 3, 1, 1, 2, 1, 1],
            "{streams:?}"
        );
        assert_eq!(streams.len(), 24);
        // Equal (or unset) priorities: plain round robin per chunk.
        let mut r = super::tests::q(true);
        r.set_weight(5, 256);
        push(&mut r, 5, 0, 300, false);
        push(&mut r, 6, 1, 300, false);
        let streams: Vec<u16> = drain(&mut r).iter().map(|c| c.0).collect();
        assert_eq!(streams, [5, 6, 5, 6, 5, 6]);
    }
}
