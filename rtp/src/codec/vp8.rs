//! VP8 (RFC 7741): a payload descriptor before each piece of the frame.
//!
//! ```text
//! RFC 7741 §4.2
//!       0 1 2 3 4 5 6 7
//!      +-+-+-+-+-+-+-+-+
//!      |X|R|N|S|R| PID | (REQUIRED)
//!      +-+-+-+-+-+-+-+-+
//! X:   |I|L|T|K| RSV   | (OPTIONAL)
//!      +-+-+-+-+-+-+-+-+
//! I:   |M| PictureID   | (OPTIONAL, a second octet when M=1)
//!      +-+-+-+-+-+-+-+-+
//! L:   |   TL0PICIDX   | (OPTIONAL)
//!      +-+-+-+-+-+-+-+-+
//! T/K: |TID|Y| KEYIDX  | (OPTIONAL)
//!      +-+-+-+-+-+-+-+-+
//! ```
//!
//! The packetizer is not partition-aware: S=1 and PID=0 on the first packet of a frame, S=0
//! on the others, which RFC 7741 §4.4 allows. The depacketizer takes a frame as starting at
//! S=1 with PID=0 and ending at the marker.

use super::{Depacketizer, Error, Packetizer};

/// A VP8 PictureID as sent: 7 bits (M=0) or 15 bits (M=1) (RFC 7741 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureId {
    /// One octet, 0..=127.
    Short(u8),
    /// Two octets, 0..=32767.
    Long(u16),
}

impl PictureId {
    /// The next picture's ID, wrapping in its width.
    #[must_use]
    pub fn next(self) -> PictureId {
        match self {
            PictureId::Short(v) => PictureId::Short(v.wrapping_add(1) & 0x7f),
            PictureId::Long(v) => PictureId::Long(v.wrapping_add(1) & 0x7fff),
        }
    }
}

/// The VP8 payload descriptor (RFC 7741 §4.2) as a value: [`Vp8Descriptor::parse`] reads it
/// off the front of a payload, [`Vp8Descriptor::emit`] writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp8Descriptor {
    /// N: the frame is not used as a reference.
    pub non_reference: bool,
    /// S: the payload starts a VP8 partition.
    pub start_of_partition: bool,
    /// PID: the index of the partition the payload starts in, 0..=7.
    pub partition_index: u8,
    /// I (and M): the PictureID.
    pub picture_id: Option<PictureId>,
    /// L: TL0PICIDX, the running index of base-layer frames.
    pub tl0_pic_idx: Option<u8>,
    /// T: TID (0..=3) and the Y (layer sync) bit.
    pub temporal: Option<(u8, bool)>,
    /// K: KEYIDX, 0..=31.
    pub key_idx: Option<u8>,
}

impl Vp8Descriptor {
    /// Reads the descriptor at the front of `payload`; returns it and its length. Reserved
    /// bits are ignored (RFC 7741 §4.2: "MUST be ignored by the receiver").
    pub fn parse(payload: &[u8]) -> Result<(Vp8Descriptor, usize), Error> {
        let mut at = 0usize;
        let mut next = || -> Result<u8, Error> {
            let b = *payload.get(at).ok_or(Error::Truncated)?;
            at += 1;
            Ok(b)
        };
        let b0 = next()?;
        let mut d = Vp8Descriptor {
            non_reference: b0 & 0x20 != 0,
            start_of_partition: b0 & 0x10 != 0,
            partition_index: b0 & 0x07,
            ..Vp8Descriptor::default()
        };
        if b0 & 0x80 != 0 {
            let x = next()?;
            if x & 0x80 != 0 {
                let p = next()?;
                d.picture_id = Some(if p & 0x80 != 0 {
                    let lo = next()?;
                    PictureId::Long(u16::from(p & 0x7f) << 8 | u16::from(lo))
                } else {
                    PictureId::Short(p)
                });
            }
            if x & 0x40 != 0 {
                d.tl0_pic_idx = Some(next()?);
            }
            if x & 0x30 != 0 {
                let tk = next()?;
                if x & 0x20 != 0 {
                    d.temporal = Some((tk >> 6, tk & 0x20 != 0));
                }
                if x & 0x10 != 0 {
                    d.key_idx = Some(tk & 0x1f);
                }
            }
        }
        Ok((d, at))
    }

    /// The descriptor's length on the wire.
    pub fn buffer_len(&self) -> usize {
        let ext = self.picture_id.is_some()
            || self.tl0_pic_idx.is_some()
            || self.temporal.is_some()
            || self.key_idx.is_some();
        let pid = match self.picture_id {
            None => 0,
            Some(PictureId::Short(_)) => 1,
            Some(PictureId::Long(_)) => 2,
        };
        1 + usize::from(ext)
            + pid
            + usize::from(self.tl0_pic_idx.is_some())
            + usize::from(self.temporal.is_some() || self.key_idx.is_some())
    }

    /// Appends the descriptor to `out`. Values wider than their fields are masked.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let ext = self.buffer_len() > 1;
        out.push(
            u8::from(ext) << 7
                | u8::from(self.non_reference) << 5
                | u8::from(self.start_of_partition) << 4
                | (self.partition_index & 0x07),
        );
        if !ext {
            return;
        }
        out.push(
            u8::from(self.picture_id.is_some()) << 7
                | u8::from(self.tl0_pic_idx.is_some()) << 6
                | u8::from(self.temporal.is_some()) << 5
                | u8::from(self.key_idx.is_some()) << 4,
        );
        match self.picture_id {
            None => {}
            Some(PictureId::Short(v)) => out.push(v & 0x7f),
            Some(PictureId::Long(v)) => {
                out.push(0x80 | ((v >> 8) as u8 & 0x7f));
                out.push(v as u8);
            }
        }
        if let Some(t) = self.tl0_pic_idx {
            out.push(t);
        }
        if self.temporal.is_some() || self.key_idx.is_some() {
            let (tid, y) = self.temporal.unwrap_or((0, false));
            out.push((tid & 0x03) << 6 | u8::from(y) << 5 | (self.key_idx.unwrap_or(0) & 0x1f));
        }
    }
}

/// Whether `payload`, the first payload of a frame, starts a key frame: S=1, PID=0 and the
/// P bit of the VP8 payload header 0 (RFC 7741 §4.3: "P: Inverse key frame flag").
pub fn is_keyframe(payload: &[u8]) -> bool {
    match Vp8Descriptor::parse(payload) {
        Ok((d, n)) => {
            d.start_of_partition
                && d.partition_index == 0
                && payload.get(n).is_some_and(|b| b & 0x01 == 0)
        }
        Err(_) => false,
    }
}

/// Splits VP8 frames into payloads, each a descriptor plus a piece of the frame.
///
/// `template` gives N, TL0PICIDX, TID/Y and KEYIDX for the next frame; the caller updates
/// them per frame if it uses temporal layers. When `template.picture_id` is set, it is sent
/// on every packet of the frame and advanced by one after the frame (RFC 7741 §4.2).
#[derive(Debug, Clone, Default)]
pub struct Vp8Packetizer {
    /// The descriptor fields of the next frame; S and PID are set by the packetizer.
    pub template: Vp8Descriptor,
    scratch: Vec<u8>,
}

impl Vp8Packetizer {
    /// A packetizer sending a 15-bit PictureID starting at `first & 0x7fff`, as browsers do.
    pub fn with_picture_id(first: u16) -> Vp8Packetizer {
        Vp8Packetizer {
            template: Vp8Descriptor {
                picture_id: Some(PictureId::Long(first & 0x7fff)),
                ..Vp8Descriptor::default()
            },
            scratch: Vec::new(),
        }
    }
}

impl Packetizer for Vp8Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<(), Error> {
        if frame.is_empty() {
            return Err(Error::Empty);
        }
        let mut d = self.template;
        d.partition_index = 0;
        let room = mtu
            .checked_sub(d.buffer_len())
            .filter(|r| *r > 0)
            .ok_or(Error::MtuTooSmall)?;
        // Equal-sized pieces rather than full ones and a runt.
        let count = frame.len().div_ceil(room);
        let piece = frame.len().div_ceil(count);
        let mut pieces = frame.chunks(piece).peekable();
        let mut first = true;
        while let Some(p) = pieces.next() {
            d.start_of_partition = first;
            first = false;
            self.scratch.clear();
            d.emit(&mut self.scratch);
            self.scratch.extend_from_slice(p);
            emit(&self.scratch, pieces.peek().is_none());
        }
        if let Some(id) = self.template.picture_id {
            self.template.picture_id = Some(id.next());
        }
        Ok(())
    }
}

/// Reassembles VP8 frames: from a payload with S=1 and PID=0 to the payload with the marker.
#[derive(Debug, Clone, Default)]
pub struct Vp8Depacketizer {
    frame: Vec<u8>,
    in_frame: bool,
    picture_id: Option<PictureId>,
}

impl Vp8Depacketizer {
    fn fail(&mut self, e: Error) -> Result<Option<Vec<u8>>, Error> {
        self.frame.clear();
        self.in_frame = false;
        Err(e)
    }
}

impl Depacketizer for Vp8Depacketizer {
    fn push(&mut self, payload: &[u8], marker: bool) -> Result<Option<Vec<u8>>, Error> {
        let (d, n) = match Vp8Descriptor::parse(payload) {
            Ok(v) => v,
            Err(e) => return self.fail(e),
        };
        let body = payload.get(n..).unwrap_or_default();
        if body.is_empty() {
            return self.fail(Error::Empty);
        }
        let starts_frame = d.start_of_partition && d.partition_index == 0;
        if starts_frame && self.in_frame {
            return self.fail(Error::Unfinished);
        }
        if !starts_frame && !self.in_frame {
            return self.fail(Error::MissingStart);
        }
        if starts_frame {
            self.in_frame = true;
            self.picture_id = d.picture_id;
        } else if d.picture_id != self.picture_id {
            // RFC 7741 §4.2: the PictureID is the same on every packet of a picture.
            return self.fail(Error::BadHeader);
        }
        self.frame.extend_from_slice(body);
        if marker {
            self.in_frame = false;
            return Ok(Some(std::mem::take(&mut self.frame)));
        }
        Ok(None)
    }

    fn starts_frame(&self, payload: &[u8]) -> Option<bool> {
        Some(
            Vp8Descriptor::parse(payload)
                .is_ok_and(|(d, _)| d.start_of_partition && d.partition_index == 0),
        )
    }

    fn is_keyframe(&self, payload: &[u8]) -> bool {
        is_keyframe(payload)
    }
}
