//! AV1 (RTP Payload Format for AV1, AOM, v1.0, §4): an aggregation header, then OBU
//! elements, each preceded by its length, the first and last possibly fragments.
//!
//! ```text
//! AV1 RTP §4.4 aggregation header
//!  0 1 2 3 4 5 6 7
//! +-+-+-+-+-+-+-+-+
//! |Z|Y| W |N|-|-|-|
//! +-+-+-+-+-+-+-+-+
//! Z: the first OBU element continues an OBU from the previous packet
//! Y: the last OBU element continues in the next packet
//! W: 0 = every element has a leb128 length; 1..=3 = that many elements, the last without
//! N: the packet starts a new coded video sequence
//! ```
//!
//! Frames are temporal units in the AV1 low-overhead bitstream format (AV1 §5.2: OBUs with
//! `obu_has_size_field` = 1), as `ffmpeg -f obu` writes them. The packetizer drops temporal
//! delimiter, tile list and padding OBUs (AV1 RTP §5: SHOULD be removed), sends each OBU
//! without its size field, always with W=0, and sets N on a temporal unit that holds a
//! sequence header and a key frame. The depacketizer writes a temporal delimiter, then each
//! OBU with a size field; it drops reserved OBU types.

use super::{Depacketizer, Error, Packetizer};

/// AV1 §6.2.2 obu_type values.
const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_TEMPORAL_DELIMITER: u8 = 2;
const OBU_FRAME_HEADER: u8 = 3;
const OBU_FRAME: u8 = 6;
const OBU_TILE_LIST: u8 = 8;
const OBU_PADDING: u8 = 15;

/// Reads a leb128 value (AV1 §4.10.5: at most 8 octets, value below 2^32); returns it and
/// its length.
pub fn read_leb128(b: &[u8]) -> Result<(u32, usize), Error> {
    let mut v: u64 = 0;
    for i in 0..8 {
        let byte = *b.get(i).ok_or(Error::Truncated)?;
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return u32::try_from(v)
                .map(|v| (v, i + 1))
                .map_err(|_| Error::BadHeader);
        }
    }
    Err(Error::BadHeader)
}

/// Appends `v` as leb128 in the fewest octets.
pub fn write_leb128(mut v: u32, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn leb128_len(v: usize) -> usize {
    let mut n = 1;
    let mut v = v >> 7;
    while v > 0 {
        n += 1;
        v >>= 7;
    }
    n
}

/// One OBU: its header octets (with `obu_has_size_field` as found) and its payload.
struct Obu<'a> {
    header: &'a [u8],
    payload: &'a [u8],
}

impl Obu<'_> {
    fn obu_type(&self) -> u8 {
        self.header.first().map_or(0, |h| (h >> 3) & 0x0f)
    }
}

/// Splits an OBU element (header, optional extension, optional size, payload) or an OBU of
/// a low-overhead stream (`whole` false: the size field must be present and is followed by
/// more OBUs). Returns the OBU and the octets used.
fn split_obu(b: &[u8], whole: bool) -> Result<(Obu<'_>, usize), Error> {
    let &h = b.first().ok_or(Error::Truncated)?;
    // AV1 §6.2.1: obu_forbidden_bit.
    if h & 0x80 != 0 {
        return Err(Error::ForbiddenBit);
    }
    let header_len = if h & 0x04 != 0 { 2 } else { 1 };
    let header = b.get(..header_len).ok_or(Error::Truncated)?;
    let rest = b.get(header_len..).unwrap_or_default();
    if h & 0x02 != 0 {
        let (size, n) = read_leb128(rest)?;
        let size = size as usize;
        let payload = rest.get(n..n + size).ok_or(Error::Truncated)?;
        if whole && n + size != rest.len() {
            return Err(Error::BadAggregation);
        }
        Ok((Obu { header, payload }, header_len + n + size))
    } else if whole {
        Ok((
            Obu {
                header,
                payload: rest,
            },
            b.len(),
        ))
    } else {
        Err(Error::BadHeader)
    }
}

/// Whether a frame or frame header OBU payload starts a key frame: show_existing_frame 0 and
/// frame_type KEY_FRAME (AV1 §5.9.2; not for reduced still picture headers).
fn frame_obu_is_key(payload: &[u8]) -> bool {
    payload.first().is_some_and(|b| b & 0xe0 == 0)
}

/// Whether `payload`, the first payload of a temporal unit, starts a new coded video
/// sequence (N=1), which is a key frame.
pub fn is_keyframe(payload: &[u8]) -> bool {
    payload.first().is_some_and(|h| h & 0x08 != 0)
}

/// Splits AV1 temporal units (low-overhead OBUs) into RTP payloads.
#[derive(Debug, Clone, Default)]
pub struct Av1Packetizer {
    elements: Vec<(usize, usize)>,
    scratch: Vec<u8>,
    elem: Vec<u8>,
}

impl Packetizer for Av1Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<(), Error> {
        if frame.is_empty() {
            return Err(Error::Empty);
        }
        // Check the whole temporal unit first: on error nothing is emitted. The OBUs to
        // send are written as elements into `elem`, each an (offset, length) in
        // `elements`.
        self.elements.clear();
        self.elem.clear();
        let mut at = 0;
        let (mut seq_header, mut key) = (false, false);
        while at < frame.len() {
            let (obu, used) = split_obu(frame.get(at..).unwrap_or_default(), false)?;
            match obu.obu_type() {
                OBU_TEMPORAL_DELIMITER | OBU_TILE_LIST | OBU_PADDING => {}
                t => {
                    seq_header |= t == OBU_SEQUENCE_HEADER;
                    if (t == OBU_FRAME || t == OBU_FRAME_HEADER) && !key {
                        key = frame_obu_is_key(obu.payload);
                    }
                    let start = self.elem.len();
                    self.elem.extend_from_slice(obu.header);
                    // Sent without obu_size (AV1 RTP §4.3).
                    if let Some(h) = self.elem.get_mut(start) {
                        *h &= !0x02;
                    }
                    self.elem.extend_from_slice(obu.payload);
                    self.elements.push((start, self.elem.len() - start));
                }
            }
            at += used;
        }
        if self.elements.is_empty() {
            return Err(Error::Empty);
        }
        // The aggregation header, a length octet and one octet of data at least.
        if mtu < 3 {
            return Err(Error::MtuTooSmall);
        }
        let new_cvs = seq_header && key;
        let mut first_packet = true;
        let mut continuing = false;
        let mut elems = self.elements.iter().peekable();
        let mut cur: Option<(usize, usize)> = None;
        loop {
            // One packet.
            self.scratch.clear();
            let z = continuing;
            self.scratch
                .push(u8::from(z) << 7 | u8::from(new_cvs && first_packet) << 3);
            first_packet = false;
            let mut y = false;
            loop {
                let (start, len) = match cur.take() {
                    Some(c) => c,
                    None => match elems.next() {
                        Some(&(s, l)) => (s, l),
                        None => break,
                    },
                };
                let room = mtu - self.scratch.len();
                if leb128_len(len) + len <= room {
                    write_leb128(len as u32, &mut self.scratch);
                    self.scratch
                        .extend_from_slice(self.elem.get(start..start + len).unwrap_or_default());
                    continue;
                }
                // A fragment: as much as fits with its length field.
                let mut piece = room.saturating_sub(1);
                while piece > 0 && leb128_len(piece) + piece > room {
                    piece -= 1;
                }
                if piece == 0 {
                    cur = Some((start, len));
                    break;
                }
                write_leb128(piece as u32, &mut self.scratch);
                self.scratch
                    .extend_from_slice(self.elem.get(start..start + piece).unwrap_or_default());
                cur = Some((start + piece, len - piece));
                y = true;
                break;
            }
            if self.scratch.len() == 1 {
                // Nothing fitted after the header: cannot happen with mtu >= 3.
                return Err(Error::MtuTooSmall);
            }
            if let Some(h) = self.scratch.first_mut() {
                *h |= u8::from(y) << 6;
            }
            continuing = y;
            let last = cur.is_none() && elems.peek().is_none();
            emit(&self.scratch, last);
            if last {
                return Ok(());
            }
        }
    }
}

/// Reassembles AV1 temporal units from RTP payloads; the payload with the marker ends one.
#[derive(Debug, Clone, Default)]
pub struct Av1Depacketizer {
    frame: Vec<u8>,
    /// The OBU element being reassembled from fragments.
    fragment: Vec<u8>,
    open: bool,
    obus: usize,
}

impl Av1Depacketizer {
    fn fail(&mut self, e: Error) -> Result<Option<Vec<u8>>, Error> {
        self.frame.clear();
        self.fragment.clear();
        self.open = false;
        self.obus = 0;
        Err(e)
    }

    /// Appends a complete OBU element to the temporal unit, with a size field.
    fn finish(&mut self, element: &[u8]) -> Result<(), Error> {
        let (obu, _) = split_obu(element, true)?;
        match obu.obu_type() {
            OBU_TEMPORAL_DELIMITER | OBU_TILE_LIST | OBU_PADDING | 0 | 9..=14 => return Ok(()),
            _ => {}
        }
        if self.frame.is_empty() {
            // AV1 §7.5: a temporal unit starts with a temporal delimiter.
            self.frame
                .extend_from_slice(&[OBU_TEMPORAL_DELIMITER << 3 | 0x02, 0]);
        }
        let start = self.frame.len();
        self.frame.extend_from_slice(obu.header);
        if let Some(h) = self.frame.get_mut(start) {
            *h |= 0x02;
        }
        write_leb128(
            u32::try_from(obu.payload.len()).map_err(|_| Error::FrameTooLarge)?,
            &mut self.frame,
        );
        self.frame.extend_from_slice(obu.payload);
        self.obus += 1;
        Ok(())
    }

    fn take(&mut self, payload: &[u8]) -> Result<(), Error> {
        let (&agg, mut rest) = payload.split_first().ok_or(Error::Empty)?;
        let (z, y, w) = (agg & 0x80 != 0, agg & 0x40 != 0, (agg >> 4) & 0x03);
        if z && !self.open {
            return Err(Error::MissingStart);
        }
        if !z && self.open {
            return Err(Error::Unfinished);
        }
        if rest.is_empty() {
            return Err(Error::Empty);
        }
        let mut index = 0u8;
        while !rest.is_empty() {
            index += 1;
            let element = if w != 0 && index == w {
                std::mem::take(&mut rest)
            } else {
                let (len, n) = read_leb128(rest)?;
                let len = len as usize;
                let e = rest.get(n..n + len).ok_or(Error::BadAggregation)?;
                rest = rest.get(n + len..).unwrap_or_default();
                e
            };
            if element.is_empty() || (w != 0 && index > w) {
                return Err(Error::BadAggregation);
            }
            let first = index == 1;
            let last = rest.is_empty();
            if first && z {
                self.fragment.extend_from_slice(element);
                if !(last && y) {
                    let whole = std::mem::take(&mut self.fragment);
                    self.open = false;
                    self.finish(&whole)?;
                }
            } else if last && y {
                self.fragment.clear();
                self.fragment.extend_from_slice(element);
            } else {
                self.finish(element)?;
            }
        }
        if w != 0 && index < w {
            return Err(Error::BadAggregation);
        }
        self.open = y;
        Ok(())
    }
}

impl Depacketizer for Av1Depacketizer {
    fn push(&mut self, payload: &[u8], marker: bool) -> Result<Option<Vec<u8>>, Error> {
        if let Err(e) = self.take(payload) {
            return self.fail(e);
        }
        if marker {
            if self.open {
                return self.fail(Error::Unfinished);
            }
            if self.obus == 0 {
                return self.fail(Error::Empty);
            }
            self.obus = 0;
            return Ok(Some(std::mem::take(&mut self.frame)));
        }
        Ok(None)
    }

    fn starts_frame(&self, payload: &[u8]) -> Option<bool> {
        // Z=1 continues an OBU; Z=0 may still be inside a temporal unit.
        match payload.first() {
            Some(agg) if agg & 0x80 != 0 => Some(false),
            Some(agg) if agg & 0x08 != 0 => Some(true),
            _ => None,
        }
    }

    fn is_keyframe(&self, payload: &[u8]) -> bool {
        is_keyframe(payload)
    }
}
