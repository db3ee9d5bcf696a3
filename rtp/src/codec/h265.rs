//! H.265 (RFC 7798): single NAL unit packets, aggregation packets (AP) and fragmentation
//! units (FU), without DONL (`sprop-max-don-diff` 0, as WebRTC uses).
//!
//! Frames are access units as an Annex-B byte stream, as for H.264; the depacketizer writes
//! every NAL unit after a four-octet start code.
//!
//! ```text
//! RFC 7798 §1.1.4 NAL unit header    RFC 7798 §4.4.3 FU header
//! +---------------+---------------+  +---------------+
//! |F|   Type    |  LayerId  | TID |  |S|E|  FuType   |
//! +---------------+---------------+  +---------------+
//!
//! RFC 7798 §4.4.2 AP: | header (Type 48) | size (16) | NAL unit | size (16) | NAL unit | ...
//! ```
//!
//! PACI packets (type 50) and the unspecified types 51..=63 are refused with
//! [`Error::UnsupportedNalType`]; so are DONL fields, which only exist when
//! `sprop-max-don-diff` is above 0 and which this depacketizer cannot tell from data.

use super::h264::{aggregate, check_no_start_code, AnnexB, Deferred};
use super::{Depacketizer, Error, Packetizer};

/// RFC 7798 §4.4.2: aggregation packet.
const AP: u8 = 48;
/// RFC 7798 §4.4.3: fragmentation unit.
const FU: u8 = 49;
const START_CODE: [u8; 4] = [0, 0, 0, 1];

fn nal_type(h0: u8) -> u8 {
    (h0 >> 1) & 0x3f
}

/// Checks the header of a NAL unit sent or received whole: two octets, F=0 (RFC 7798
/// §1.1.4), a type below 48 (48..=63 are payload structures or unspecified), TID not 0
/// (H.265 §7.4.2.2: nuh_temporal_id_plus1 is never 0).
fn check_nal_header(nal: &[u8]) -> Result<(), Error> {
    let [h0, h1, ..] = nal else {
        return Err(Error::Truncated);
    };
    if h0 & 0x80 != 0 {
        return Err(Error::ForbiddenBit);
    }
    let t = nal_type(*h0);
    if t >= AP {
        return Err(Error::UnsupportedNalType(t));
    }
    if h1 & 0x07 == 0 {
        return Err(Error::BadHeader);
    }
    Ok(())
}

/// Whether NAL unit type `t` marks a key frame: an IRAP picture (BLA, IDR, CRA: 16..=21,
/// H.265 §7.4.2.2) or a VPS or SPS (32, 33).
fn key_type(t: u8) -> bool {
    (16..=21).contains(&t) || t == 32 || t == 33
}

/// The type of the first NAL unit in a payload and the octet after its header (the start
/// of a slice header), as far as the payload shows.
fn first_unit(payload: &[u8]) -> Option<(u8, Option<u8>)> {
    let h0 = *payload.first()?;
    match nal_type(h0) {
        AP => {
            let unit = payload.get(4..)?;
            let len = usize::from(u16::from_be_bytes([*payload.get(2)?, *payload.get(3)?]));
            let unit = unit.get(..len)?;
            Some((nal_type(*unit.first()?), unit.get(2).copied()))
        }
        FU => {
            let fu = *payload.get(2)?;
            (fu & 0x80 != 0).then(|| (fu & 0x3f, payload.get(3).copied()))
        }
        t => Some((t, payload.get(2).copied())),
    }
}

/// Whether `payload` holds an IRAP picture's first unit or a VPS or SPS: whole, first in an
/// AP, or the start of an FU.
pub fn is_keyframe(payload: &[u8]) -> bool {
    let Some(&h0) = payload.first() else {
        return false;
    };
    match nal_type(h0) {
        AP => {
            let mut rest = payload.get(2..).unwrap_or_default();
            while let [a, b, tail @ ..] = rest {
                let len = usize::from(u16::from_be_bytes([*a, *b]));
                let (Some(unit), Some(next)) = (tail.get(..len), tail.get(len..)) else {
                    return false;
                };
                if unit.first().is_some_and(|u| key_type(nal_type(*u))) {
                    return true;
                }
                rest = next;
            }
            false
        }
        _ => first_unit(payload).is_some_and(|(t, _)| key_type(t)),
    }
}

/// Whether `payload` starts an access unit: its first NAL unit is one H.265 §7.4.2.4.4
/// puts only before the first slice (AUD 35, VPS 32, SPS 33, PPS 34, prefix SEI 39, types
/// 41..=44), or a slice segment (types 0..=21) with first_slice_segment_in_pic_flag set.
pub fn starts_access_unit(payload: &[u8]) -> bool {
    match first_unit(payload) {
        Some((32..=35 | 39 | 41..=44, _)) => true,
        Some((0..=21, next)) => next.is_some_and(|b| b & 0x80 != 0),
        _ => false,
    }
}

/// Splits H.265 access units (Annex-B) into RTP payloads: NAL units that fit together go
/// into one AP, one that fits alone as a single NAL unit packet, a larger one into FUs of
/// near-equal size.
#[derive(Debug, Clone, Default)]
pub struct H265Packetizer {
    cur: Vec<u8>,
    prev: Vec<u8>,
}

impl Packetizer for H265Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<(), Error> {
        let mut any = false;
        for nal in AnnexB::new(frame) {
            any = true;
            check_nal_header(nal)?;
            check_no_start_code(nal)?;
        }
        if !any {
            return Err(Error::NoNalUnit);
        }
        // An FU needs three header octets and one of data.
        if mtu < 4 {
            return Err(Error::MtuTooSmall);
        }
        self.cur.clear();
        let mut out = Deferred {
            cur: &mut self.cur,
            prev: &mut self.prev,
            held: false,
            emit,
        };
        aggregate(frame, mtu, &mut out, 2, ap_header, fragment);
        out.last();
        Ok(())
    }
}

/// RFC 7798 §4.4.2: the AP payload header: F is the OR of the units' F bits, LayerId and
/// TID their lowest.
fn ap_header(units: std::iter::Take<AnnexB<'_>>, cur: &mut Vec<u8>) {
    let (mut f, mut layer, mut tid) = (0u8, u8::MAX, u8::MAX);
    for nal in units {
        let (h0, h1) = (nal[0], nal[1]);
        f |= h0 & 0x80;
        layer = layer.min((h0 & 0x01) << 5 | h1 >> 3);
        tid = tid.min(h1 & 0x07);
    }
    cur.push(f | AP << 1 | layer >> 5);
    cur.push((layer & 0x1f) << 3 | tid);
}

/// RFC 7798 §4.4.3: cuts `nal` (longer than `mtu`) into FUs. The payload header is the NAL
/// unit header with type 49; the FU header carries S, E and the original type.
fn fragment(nal: &[u8], mtu: usize, out: &mut Deferred<'_, '_>) {
    let [h0, h1, data @ ..] = nal else {
        return;
    };
    let room = mtu - 3;
    let count = data.len().div_ceil(room).max(1);
    let piece = data.len().div_ceil(count).max(1);
    let last = count - 1;
    let t = nal_type(*h0);
    for (i, chunk) in data.chunks(piece).enumerate() {
        let s = if i == 0 { 0x80 } else { 0 };
        let e = if i == last { 0x40 } else { 0 };
        out.cur.push((h0 & 0x81) | FU << 1);
        out.cur.push(*h1);
        out.cur.push(s | e | t);
        out.cur.extend_from_slice(chunk);
        out.finish();
    }
}

/// Reassembles H.265 access units, as Annex-B with four-octet start codes, from single NAL
/// unit, AP and FU payloads; the payload with the marker ends the access unit
/// (RFC 7798 §4.1).
#[derive(Debug, Clone, Default)]
pub struct H265Depacketizer {
    frame: Vec<u8>,
    /// The NAL unit type of the FU in progress.
    fu_type: Option<u8>,
    fu_start: usize,
}

impl H265Depacketizer {
    fn fail(&mut self, e: Error) -> Result<Option<Vec<u8>>, Error> {
        self.frame.clear();
        self.fu_type = None;
        Err(e)
    }

    fn take(&mut self, payload: &[u8]) -> Result<(), Error> {
        let [h0, h1, body @ ..] = payload else {
            return Err(if payload.is_empty() {
                Error::Empty
            } else {
                Error::Truncated
            });
        };
        if h0 & 0x80 != 0 {
            return Err(Error::ForbiddenBit);
        }
        let t = nal_type(*h0);
        if t != FU && self.fu_type.is_some() {
            return Err(Error::Unfinished);
        }
        match t {
            0..=47 => {
                check_nal_header(payload)?;
                check_no_start_code(payload)?;
                self.frame.extend_from_slice(&START_CODE);
                self.frame.extend_from_slice(payload);
            }
            AP => {
                // Check every unit before writing any (RFC 7798 §4.4.2: at least two).
                let mut rest = body;
                let mut n = 0;
                while !rest.is_empty() {
                    let [a, b, tail @ ..] = rest else {
                        return Err(Error::BadAggregation);
                    };
                    let len = usize::from(u16::from_be_bytes([*a, *b]));
                    let (Some(unit), Some(next)) = (tail.get(..len), tail.get(len..)) else {
                        return Err(Error::BadAggregation);
                    };
                    if unit.is_empty() {
                        return Err(Error::BadAggregation);
                    }
                    check_nal_header(unit)?;
                    check_no_start_code(unit)?;
                    rest = next;
                    n += 1;
                }
                if n < 2 {
                    return Err(Error::BadAggregation);
                }
                rest = body;
                while let [a, b, tail @ ..] = rest {
                    let len = usize::from(u16::from_be_bytes([*a, *b]));
                    self.frame.extend_from_slice(&START_CODE);
                    self.frame
                        .extend_from_slice(tail.get(..len).unwrap_or_default());
                    rest = tail.get(len..).unwrap_or_default();
                }
            }
            FU => {
                let [fu, data @ ..] = body else {
                    return Err(Error::Truncated);
                };
                if data.is_empty() {
                    return Err(Error::Truncated);
                }
                let (start, end, ty) = (fu & 0x80 != 0, fu & 0x40 != 0, fu & 0x3f);
                // RFC 7798 §4.4.3: S and E MUST NOT both be set.
                if start && end {
                    return Err(Error::BadHeader);
                }
                match (start, self.fu_type) {
                    (true, Some(_)) => return Err(Error::Unfinished),
                    (false, None) => return Err(Error::MissingStart),
                    (false, Some(open)) if open != ty => return Err(Error::BadHeader),
                    (true, None) => {
                        let header = [(h0 & 0x81) | ty << 1, *h1];
                        check_nal_header(&header)?;
                        self.frame.extend_from_slice(&START_CODE);
                        self.fu_start = self.frame.len();
                        self.frame.extend_from_slice(&header);
                        self.fu_type = Some(ty);
                    }
                    (false, Some(_)) => {}
                }
                self.frame.extend_from_slice(data);
                if end {
                    self.fu_type = None;
                    check_no_start_code(self.frame.get(self.fu_start..).unwrap_or_default())?;
                }
            }
            t => return Err(Error::UnsupportedNalType(t)),
        }
        Ok(())
    }
}

impl Depacketizer for H265Depacketizer {
    fn push(&mut self, payload: &[u8], marker: bool) -> Result<Option<Vec<u8>>, Error> {
        if let Err(e) = self.take(payload) {
            return self.fail(e);
        }
        if marker {
            if self.fu_type.is_some() {
                return self.fail(Error::Unfinished);
            }
            return Ok(Some(std::mem::take(&mut self.frame)));
        }
        Ok(None)
    }

    fn starts_frame(&self, payload: &[u8]) -> Option<bool> {
        Some(starts_access_unit(payload))
    }

    fn is_keyframe(&self, payload: &[u8]) -> bool {
        is_keyframe(payload)
    }
}
