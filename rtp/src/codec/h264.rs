//! H.264 (RFC 6184): single NAL unit packets, STAP-A aggregation and FU-A fragmentation, in
//! packetization mode 1 (non-interleaved) or mode 0 (single NAL unit only).
//!
//! Frames are access units as an Annex-B byte stream (each NAL unit after a `00 00 01` or
//! `00 00 00 01` start code). The depacketizer writes every NAL unit after a four-octet start
//! code.
//!
//! ```text
//! RFC 6184 §5.3 NAL unit header      RFC 6184 §5.8 FU indicator and FU header
//! +---------------+                  +---------------+---------------+
//! |0|1|2|3|4|5|6|7|                  |F|NRI|  28     |S|E|R| Type    |
//! |F|NRI|  Type   |                  +---------------+---------------+
//! +---------------+
//!
//! RFC 6184 §5.7.1 STAP-A: |F|NRI| 24 | size (16) | NAL unit | size (16) | NAL unit | ...
//! ```
//!
//! STAP-B, MTAP16, MTAP24 and FU-B exist only in the interleaved mode (RFC 6184 §6.3) and are
//! refused with [`Error::UnsupportedNalType`], as are the reserved types 0, 30 and 31.

use super::{Depacketizer, Error, Packetizer};

/// RFC 6184 §5.2: NAL unit type 24, single-time aggregation packet A.
const STAP_A: u8 = 24;
/// RFC 6184 §5.2: NAL unit type 28, fragmentation unit A.
const FU_A: u8 = 28;
/// H.264 NAL unit type of an IDR slice.
const IDR: u8 = 5;
/// H.264 NAL unit type of a sequence parameter set.
const SPS: u8 = 7;
const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// RFC 6184 §6: how NAL units may be carried, from the `packetization-mode` fmtp parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PacketizationMode {
    /// Mode 0: one NAL unit per packet, no aggregation or fragmentation (RFC 6184 §6.2).
    SingleNalUnit,
    /// Mode 1: single NAL unit, STAP-A and FU-A packets (RFC 6184 §6.3).
    #[default]
    NonInterleaved,
}

/// The NAL units of an Annex-B byte stream, without start codes and without the zero octets
/// before the next start code (H.264 Annex B: trailing_zero_8bits, or the first octet of a
/// four-octet start code). Bytes before the first start code are skipped.
#[derive(Debug, Clone)]
pub struct AnnexB<'a> {
    rest: &'a [u8],
}

impl<'a> AnnexB<'a> {
    /// The NAL units of `stream`.
    pub fn new(stream: &'a [u8]) -> AnnexB<'a> {
        let rest = match find_start_code(stream) {
            Some(at) => stream.get(at + 3..).unwrap_or_default(),
            None => &[],
        };
        AnnexB { rest }
    }
}

/// The first `00 00 01` in `s`.
fn find_start_code(s: &[u8]) -> Option<usize> {
    find_zero_zero(s, |b| b == 1)
}

/// The first `i` with `s[i] == 0`, `s[i + 1] == 0` and `third(s[i + 2])`. Eight octets are
/// tested for a zero at once (a word-wide zero-byte test); only words holding one are looked
/// at octet by octet, so slice data, where zeros are rare, goes by at a word per step.
fn find_zero_zero(s: &[u8], third: impl Fn(u8) -> bool) -> Option<usize> {
    let at = |i: usize| matches!(s.get(i..i + 3), Some(&[0, 0, c]) if third(c));
    let mut words = s.chunks_exact(8);
    let mut base = 0;
    for w in words.by_ref() {
        let v = u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or([1; 8]));
        let has_zero = v.wrapping_sub(0x0101_0101_0101_0101) & !v & 0x8080_8080_8080_8080;
        if has_zero != 0 {
            if let Some(i) = (base..base + 8).find(|&i| at(i)) {
                return Some(i);
            }
        }
        base += 8;
    }
    (base..s.len()).find(|&i| at(i))
}

impl<'a> Iterator for AnnexB<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while !self.rest.is_empty() {
            let (nal, rest) = match find_start_code(self.rest) {
                Some(at) => (
                    self.rest.get(..at).unwrap_or_default(),
                    self.rest.get(at + 3..).unwrap_or_default(),
                ),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            let end = nal.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            let nal = nal.get(..end).unwrap_or_default();
            if !nal.is_empty() {
                return Some(nal);
            }
        }
        None
    }
}

/// Checks the NAL unit header of a unit to send or received whole: F=0 (RFC 6184 §5.3) and a
/// type a single NAL unit packet may carry (1..=23, RFC 6184 §5.2 Table 1).
fn check_nal_header(h: u8) -> Result<(), Error> {
    if h & 0x80 != 0 {
        return Err(Error::ForbiddenBit);
    }
    match h & 0x1f {
        1..=23 => Ok(()),
        t => Err(Error::UnsupportedNalType(t)),
    }
}

/// Whether `payload` holds an IDR slice (type 5) or a sequence parameter set (type 7): whole,
/// inside a STAP-A, or as the start of an FU-A.
pub fn is_keyframe(payload: &[u8]) -> bool {
    let key = |t: u8| t == IDR || t == SPS;
    let Some(&h) = payload.first() else {
        return false;
    };
    match h & 0x1f {
        STAP_A => {
            let mut rest = payload.get(1..).unwrap_or_default();
            while let [a, b, tail @ ..] = rest {
                let len = usize::from(u16::from_be_bytes([*a, *b]));
                let (Some(unit), Some(next)) = (tail.get(..len), tail.get(len..)) else {
                    return false;
                };
                if unit.first().is_some_and(|u| key(u & 0x1f)) {
                    return true;
                }
                rest = next;
            }
            false
        }
        FU_A => payload
            .get(1)
            .is_some_and(|fu| fu & 0x80 != 0 && key(fu & 0x1f)),
        t => key(t),
    }
}

/// Whether `payload` starts an access unit. Its first NAL unit (the first of a STAP-A, the
/// fragmented one of an FU-A with the S bit) must be one that H.264 §7.4.1.2.3 puts only
/// before the first slice of an access unit (access unit delimiter, SPS, PPS, SEI, types
/// 14..=18), or the first slice of a picture: a slice or data partition A whose
/// first_mb_in_slice is 0, that is whose slice header starts with a 1 bit (ue(v) of 0).
/// Arbitrary slice order (Baseline profile, not Constrained Baseline) would defeat the slice
/// rule: such a stream may start a picture with another slice.
pub fn starts_access_unit(payload: &[u8]) -> bool {
    let Some(&h) = payload.first() else {
        return false;
    };
    let (t, next) = match h & 0x1f {
        STAP_A => match payload.get(1..) {
            Some([_, _, unit @ ..]) => match unit.first() {
                Some(u) => (u & 0x1f, unit.get(1)),
                None => return false,
            },
            _ => return false,
        },
        FU_A => match payload.get(1) {
            Some(&fu) if fu & 0x80 != 0 => (fu & 0x1f, payload.get(2)),
            _ => return false,
        },
        t => (t, payload.get(1)),
    };
    match t {
        6..=9 | 14..=18 => true,
        1 | 2 | 5 => next.is_some_and(|b| b & 0x80 != 0),
        _ => false,
    }
}

/// Splits H.264 access units (Annex-B) into RTP payloads.
///
/// In [`PacketizationMode::NonInterleaved`], consecutive NAL units that fit together go into
/// one STAP-A (typically SPS, PPS and a small slice), a NAL unit that fits alone goes as a
/// single NAL unit packet, and a larger one is cut into FU-A fragments of near-equal size. In
/// [`PacketizationMode::SingleNalUnit`] every NAL unit is its own packet, and one larger than
/// `mtu` is [`Error::FrameTooLarge`].
#[derive(Debug, Clone, Default)]
pub struct H264Packetizer {
    /// The packetization mode negotiated in SDP.
    pub mode: PacketizationMode,
    cur: Vec<u8>,
    prev: Vec<u8>,
}

impl H264Packetizer {
    /// A packetizer for `mode`.
    pub fn new(mode: PacketizationMode) -> H264Packetizer {
        H264Packetizer {
            mode,
            ..H264Packetizer::default()
        }
    }
}

/// Holds back the last finished payload so that the final one can carry the marker.
pub(super) struct Deferred<'a, 'e> {
    pub(super) cur: &'a mut Vec<u8>,
    pub(super) prev: &'a mut Vec<u8>,
    pub(super) held: bool,
    pub(super) emit: &'e mut dyn FnMut(&[u8], bool),
}

impl Deferred<'_, '_> {
    /// `cur` holds a finished payload.
    pub(super) fn finish(&mut self) {
        if self.held {
            (self.emit)(self.prev, false);
        }
        std::mem::swap(self.cur, self.prev);
        self.cur.clear();
        self.held = true;
    }

    pub(super) fn last(self) {
        if self.held {
            (self.emit)(self.prev, true);
        }
    }
}

impl Packetizer for H264Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<(), Error> {
        // Check everything first: on error nothing is emitted.
        let mut any = false;
        for nal in AnnexB::new(frame) {
            any = true;
            check_nal_header(nal.first().copied().unwrap_or(0))?;
            // The depacketizer refuses these; refuse them on the way in too.
            check_no_start_code(nal)?;
            if nal.len() > mtu && self.mode == PacketizationMode::SingleNalUnit {
                return Err(Error::FrameTooLarge);
            }
        }
        if !any {
            return Err(Error::NoNalUnit);
        }
        // An FU-A needs its two header octets and one of data.
        if mtu < 3 {
            return Err(Error::MtuTooSmall);
        }
        self.cur.clear();
        let mut out = Deferred {
            cur: &mut self.cur,
            prev: &mut self.prev,
            held: false,
            emit,
        };
        if self.mode == PacketizationMode::SingleNalUnit {
            for nal in AnnexB::new(frame) {
                out.cur.extend_from_slice(nal);
                out.finish();
            }
            out.last();
            return Ok(());
        }
        aggregate(frame, mtu, &mut out, 1, stap_a_header, fragment);
        out.last();
        Ok(())
    }
}

/// RFC 6184 §5.7.1: the STAP-A NAL unit header: F is the OR of the units' F bits, NRI their
/// maximum.
fn stap_a_header(units: std::iter::Take<AnnexB<'_>>, cur: &mut Vec<u8>) {
    let (mut f, mut nri) = (0u8, 0u8);
    for nal in units {
        let h = nal.first().copied().unwrap_or(0);
        f |= h & 0x80;
        nri = nri.max(h & 0x60);
    }
    cur.push(f | nri | STAP_A);
}

/// Packs the NAL units of an Annex B `frame` for H.264 (STAP-A, RFC 6184 §5.7.1) and H.265
/// (AP, RFC 7798 §4.4.2): consecutive units that fit `mtu` together go in one aggregation
/// packet (its `header_len`-octet payload header from `header`, then each unit after its
/// 16-bit size), a unit alone goes as it is, a unit longer than `mtu` through `fragment`.
pub(super) fn aggregate(
    frame: &[u8],
    mtu: usize,
    out: &mut Deferred<'_, '_>,
    header_len: usize,
    header: fn(std::iter::Take<AnnexB<'_>>, &mut Vec<u8>),
    fragment: fn(&[u8], usize, &mut Deferred<'_, '_>),
) {
    // The units waiting for an aggregation packet: the scanner positioned at the first,
    // and how many; `cur` is only written when they are flushed.
    let mut pending: Option<(AnnexB<'_>, usize)> = None;
    let mut len = header_len;
    let flush = |out: &mut Deferred<'_, '_>, pending: &mut Option<(AnnexB<'_>, usize)>| {
        let Some((at, count)) = pending.take() else {
            return;
        };
        let units = at.take(count);
        if count == 1 {
            for nal in units {
                out.cur.extend_from_slice(nal);
            }
        } else {
            header(units.clone(), out.cur);
            for nal in units {
                out.cur.extend_from_slice(&(nal.len() as u16).to_be_bytes());
                out.cur.extend_from_slice(nal);
            }
        }
        out.finish();
    };
    let mut nals = AnnexB::new(frame);
    loop {
        let before = nals.clone();
        let Some(nal) = nals.next() else {
            break;
        };
        if nal.len() > mtu {
            flush(out, &mut pending);
            fragment(nal, mtu, out);
            continue;
        }
        match &mut pending {
            // The 16-bit unit sizes cap an aggregation packet at 65535 octets too.
            Some((_, count)) if len + 2 + nal.len() <= mtu.min(0xffff) => {
                *count += 1;
                len += 2 + nal.len();
            }
            _ => {
                flush(out, &mut pending);
                pending = Some((before, 1));
                len = header_len + 2 + nal.len();
            }
        }
    }
    flush(out, &mut pending);
}

/// RFC 6184 §5.8: cuts `nal` (longer than `mtu`, so at least two fragments) into FU-A
/// payloads; the NAL unit header travels split between FU indicator and FU header.
fn fragment(nal: &[u8], mtu: usize, out: &mut Deferred<'_, '_>) {
    let Some((&h, data)) = nal.split_first() else {
        return;
    };
    let room = mtu - 2;
    let count = data.len().div_ceil(room);
    let piece = data.len().div_ceil(count);
    let last = count.saturating_sub(1);
    for (i, chunk) in data.chunks(piece).enumerate() {
        let s = if i == 0 { 0x80 } else { 0 };
        let e = if i == last { 0x40 } else { 0 };
        out.cur.push((h & 0xe0) | FU_A);
        out.cur.push(s | e | (h & 0x1f));
        out.cur.extend_from_slice(chunk);
        out.finish();
    }
}

/// Reassembles H.264 access units, as Annex-B with four-octet start codes, from single NAL
/// unit, STAP-A and FU-A payloads; the payload with the marker ends the access unit
/// (RFC 6184 §5.1).
#[derive(Debug, Clone, Default)]
pub struct H264Depacketizer {
    frame: Vec<u8>,
    /// The NAL unit type of the FU-A in progress.
    fu_type: Option<u8>,
    /// Where the NAL unit of the FU-A in progress starts in `frame`.
    fu_start: usize,
}

/// H.264 §7.4.1: no byte-aligned 0x000000, 0x000001 or 0x000002 inside a NAL unit (the
/// encoder inserts emulation prevention bytes); a unit holding one cannot be written as
/// Annex-B without turning into other units.
pub(super) fn check_no_start_code(nal: &[u8]) -> Result<(), Error> {
    // `00 00 0x` with x <= 2 anywhere.
    match find_zero_zero(nal, |b| b <= 2) {
        Some(_) => Err(Error::StartCodeEmulation),
        None => Ok(()),
    }
}

impl H264Depacketizer {
    fn fail(&mut self, e: Error) -> Result<Option<Vec<u8>>, Error> {
        self.frame.clear();
        self.fu_type = None;
        Err(e)
    }

    fn take(&mut self, payload: &[u8]) -> Result<(), Error> {
        let &h = payload.first().ok_or(Error::Empty)?;
        if h & 0x80 != 0 {
            return Err(Error::ForbiddenBit);
        }
        let t = h & 0x1f;
        if t != FU_A && self.fu_type.is_some() {
            return Err(Error::Unfinished);
        }
        match t {
            1..=23 => {
                check_no_start_code(payload)?;
                self.frame.extend_from_slice(&START_CODE);
                self.frame.extend_from_slice(payload);
            }
            STAP_A => {
                // Check all lengths before writing anything.
                let units = payload.get(1..).unwrap_or_default();
                let mut rest = units;
                if rest.is_empty() {
                    return Err(Error::BadAggregation);
                }
                while !rest.is_empty() {
                    let [a, b, tail @ ..] = rest else {
                        return Err(Error::BadAggregation);
                    };
                    let len = usize::from(u16::from_be_bytes([*a, *b]));
                    let (Some(unit), Some(next)) = (tail.get(..len), tail.get(len..)) else {
                        return Err(Error::BadAggregation);
                    };
                    check_nal_header(*unit.first().ok_or(Error::BadAggregation)?)?;
                    check_no_start_code(unit)?;
                    rest = next;
                }
                rest = units;
                while let [a, b, tail @ ..] = rest {
                    let len = usize::from(u16::from_be_bytes([*a, *b]));
                    self.frame.extend_from_slice(&START_CODE);
                    self.frame
                        .extend_from_slice(tail.get(..len).unwrap_or_default());
                    rest = tail.get(len..).unwrap_or_default();
                }
            }
            FU_A => {
                let (&fu, data) = payload
                    .get(1..)
                    .and_then(<[u8]>::split_first)
                    .ok_or(Error::Truncated)?;
                if data.is_empty() {
                    return Err(Error::Truncated);
                }
                let (start, end, ty) = (fu & 0x80 != 0, fu & 0x40 != 0, fu & 0x1f);
                // RFC 6184 §5.8: "A Start bit and an End bit MUST NOT both be set to one in
                // the same FU header."
                if start && end {
                    return Err(Error::BadHeader);
                }
                match (start, self.fu_type) {
                    (true, Some(_)) => return Err(Error::Unfinished),
                    (false, None) => return Err(Error::MissingStart),
                    (false, Some(open)) if open != ty => return Err(Error::BadHeader),
                    (true, None) => {
                        let header = (h & 0xe0) | ty;
                        check_nal_header(header)?;
                        self.frame.extend_from_slice(&START_CODE);
                        self.fu_start = self.frame.len();
                        self.frame.push(header);
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

impl Depacketizer for H264Depacketizer {
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

#[cfg(test)]
mod scan_tests {
    use super::{check_no_start_code, find_start_code};

    /// The word-at-a-time scans agree with the plain windowed ones on dense small-alphabet
    /// input.
    #[test]
    fn word_scans_match_the_windowed_definition() {
        let mut x: u32 = 0x1234_5678;
        for len in 0..400usize {
            for _ in 0..20 {
                let s: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        // Mostly small octets, so start codes and emulations occur.
                        [0, 0, 0, 1, 2, 3, 0x80][(x % 7) as usize]
                    })
                    .collect();
                assert_eq!(
                    find_start_code(&s),
                    s.windows(3).position(|w| w == [0, 0, 1])
                );
                assert_eq!(
                    check_no_start_code(&s).is_err(),
                    s.windows(3).any(|w| w[0] == 0 && w[1] == 0 && w[2] <= 2)
                );
            }
        }
    }
}
