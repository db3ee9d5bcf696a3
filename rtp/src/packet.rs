//! RTP packets (RFC 3550 §5.1): a validated zero-copy view and a writer into caller buffers.

use crate::ext::{ExtensionProfile, Extensions};
use crate::Error;

/// Fixed header length.
pub const FIXED_HEADER_LEN: usize = 12;

/// A validated view of an RTP packet.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
/// |                           timestamp                           |
/// |           synchronization source (SSRC) identifier            |
/// |            contributing source (CSRC) identifiers             |
/// |      defined by profile       |            length             | (X)
/// |                        header extension                       | (X)
/// |                            payload ...                        |
/// |                               | padding ...   | padding count | (P)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    bytes: &'a [u8],
    header_len: usize,
    payload_end: usize,
    ext: Option<(u16, usize, usize)>,
}

fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

impl<'a> RtpPacket<'a> {
    /// Validates version, CSRC count, extension length and padding (RFC 3550 §5.1,
    /// §A.1).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let b0 = *bytes.first().ok_or(Error::TooShort)?;
        if bytes.len() < FIXED_HEADER_LEN {
            return Err(Error::TooShort);
        }
        if b0 >> 6 != 2 {
            return Err(Error::BadVersion(b0 >> 6));
        }
        let mut header_len = FIXED_HEADER_LEN + 4 * usize::from(b0 & 0x0f);
        if header_len > bytes.len() {
            return Err(Error::TooShort);
        }
        let mut ext = None;
        if b0 & 0x10 != 0 {
            if header_len + 4 > bytes.len() {
                return Err(Error::TooShort);
            }
            let profile = be16(bytes, header_len);
            let words = usize::from(be16(bytes, header_len + 2));
            let start = header_len + 4;
            let end = start + 4 * words;
            if end > bytes.len() {
                return Err(Error::BadExtensionLength);
            }
            ext = Some((profile, start, end));
            header_len = end;
        }
        let mut payload_end = bytes.len();
        if b0 & 0x20 != 0 {
            // RFC 3550 §5.1: the last octet counts the padding, itself included.
            let pad = usize::from(*bytes.last().ok_or(Error::TooShort)?);
            if pad == 0 || header_len + pad > bytes.len() {
                return Err(Error::BadPadding);
            }
            payload_end -= pad;
        }
        Ok(RtpPacket {
            bytes,
            header_len,
            payload_end,
            ext,
        })
    }

    /// The whole packet.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Marker bit.
    pub fn marker(&self) -> bool {
        self.bytes.get(1).is_some_and(|b| b & 0x80 != 0)
    }

    /// Payload type.
    pub fn payload_type(&self) -> u8 {
        self.bytes.get(1).map_or(0, |b| b & 0x7f)
    }

    /// Sequence number.
    pub fn sequence_number(&self) -> u16 {
        be16(self.bytes, 2)
    }

    /// Timestamp.
    pub fn timestamp(&self) -> u32 {
        be32(self.bytes, 4)
    }

    /// SSRC.
    pub fn ssrc(&self) -> u32 {
        be32(self.bytes, 8)
    }

    /// CSRC identifiers.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let n = usize::from(self.bytes.first().map_or(0, |b| b & 0x0f));
        let bytes = self.bytes;
        (0..n).map(move |i| be32(bytes, 12 + 4 * i))
    }

    /// Whether padding was present.
    pub fn has_padding(&self) -> bool {
        self.payload_end != self.bytes.len()
    }

    /// Header length (fixed, CSRCs, extension).
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The header extension block: profile id and data, if present.
    pub fn extension_block(&self) -> Option<(u16, &'a [u8])> {
        let (p, s, e) = self.ext?;
        Some((p, self.bytes.get(s..e)?))
    }

    /// The RFC 8285 extension elements (one-byte or two-byte form), if the block uses one
    /// of them.
    pub fn extensions(&self) -> Option<Extensions<'a>> {
        let (p, data) = self.extension_block()?;
        Extensions::new(ExtensionProfile::from_u16(p)?, data)
    }

    /// The payload, without padding.
    pub fn payload(&self) -> &'a [u8] {
        self.bytes
            .get(self.header_len..self.payload_end)
            .unwrap_or_default()
    }
}

/// Header fields for [`write_rtp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader<'a> {
    /// Marker bit.
    pub marker: bool,
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// SSRC.
    pub ssrc: u32,
    /// CSRCs (at most 15).
    pub csrcs: &'a [u32],
    /// RFC 8285 extension elements `(id, value)`: one-byte form when every id is 1-14 and
    /// every value 1-16 bytes, else two-byte form.
    pub extensions: &'a [(u8, &'a [u8])],
}

/// Writes an RTP packet (header, extensions, payload) into `out`; returns its length.
pub fn write_rtp(h: &RtpHeader<'_>, payload: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    if h.csrcs.len() > 15
        || h.payload_type > 127
        || h.extensions.iter().any(|(id, v)| *id == 0 || v.len() > 255)
    {
        return Err(Error::BadValue);
    }
    let one_byte = h
        .extensions
        .iter()
        .all(|(id, v)| (1..=14).contains(id) && (1..=16).contains(&v.len()));
    let ext_body: usize = h
        .extensions
        .iter()
        .map(|(_, v)| v.len() + if one_byte { 1 } else { 2 })
        .sum();
    let ext_len = if h.extensions.is_empty() {
        0
    } else {
        4 + ext_body.div_ceil(4) * 4
    };
    let total = FIXED_HEADER_LEN + 4 * h.csrcs.len() + ext_len + payload.len();
    let out = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
    // Zero the header (for the extension block's padding); the payload is copied over whole.
    out[..total - payload.len()].fill(0);
    let x = if ext_len > 0 { 0x10 } else { 0 };
    out[0] = 0x80 | x | h.csrcs.len() as u8;
    out[1] = (u8::from(h.marker) << 7) | h.payload_type;
    out[2..4].copy_from_slice(&h.sequence_number.to_be_bytes());
    out[4..8].copy_from_slice(&h.timestamp.to_be_bytes());
    out[8..12].copy_from_slice(&h.ssrc.to_be_bytes());
    let mut at = 12;
    for c in h.csrcs {
        out[at..at + 4].copy_from_slice(&c.to_be_bytes());
        at += 4;
    }
    if ext_len > 0 {
        // RFC 8285 §4.2 (0xBEDE) and §4.3 (0x1000 with the appbits zero).
        let profile: u16 = if one_byte { 0xBEDE } else { 0x1000 };
        out[at..at + 2].copy_from_slice(&profile.to_be_bytes());
        out[at + 2..at + 4].copy_from_slice(&(((ext_len - 4) / 4) as u16).to_be_bytes());
        at += 4;
        for (id, v) in h.extensions {
            if one_byte {
                out[at] = (id << 4) | (v.len() as u8 - 1);
                at += 1;
            } else {
                out[at] = *id;
                out[at + 1] = v.len() as u8;
                at += 2;
            }
            out[at..at + v.len()].copy_from_slice(v);
            at += v.len();
        }
        at = FIXED_HEADER_LEN + 4 * h.csrcs.len() + ext_len;
    }
    out[at..at + payload.len()].copy_from_slice(payload);
    Ok(total)
}
