//! RTX (RFC 4588): retransmissions on their own SSRC and payload type, each carrying the
//! original sequence number before the original payload.
//!
//! ```text
//! RFC 4588 §4
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         RTP Header                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            OSN                |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
//! |                  Original RTP Packet Payload                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! RFC 4588 §4: the retransmission keeps the original's timestamp and marker bit and takes
//! the RTX stream's payload type, SSRC and its own sequence number. Here the CSRC list and
//! header extension block are copied unchanged both ways; padding is not carried.

use crate::{Error, RtpPacket};

/// Writes `original` as an RTX packet into `out`; returns its length.
pub fn write_rtx(
    original: &RtpPacket<'_>,
    rtx_payload_type: u8,
    rtx_ssrc: u32,
    rtx_seq: u16,
    out: &mut [u8],
) -> Result<usize, Error> {
    let osn = original.sequence_number().to_be_bytes();
    rewrite(
        original,
        rtx_payload_type,
        rtx_ssrc,
        rtx_seq,
        &osn,
        original.payload(),
        out,
    )
}

/// Reads the original packet back out of an RTX packet (RFC 4588 §4) into `out`, with the
/// original stream's payload type and SSRC; returns its length. An RTX packet without the
/// two-octet OSN (e.g. padding only, as sent for bandwidth probing) is
/// [`Error::TooShort`].
pub fn read_rtx(
    rtx: &RtpPacket<'_>,
    payload_type: u8,
    ssrc: u32,
    out: &mut [u8],
) -> Result<usize, Error> {
    let (osn, payload) = original_seq(rtx).ok_or(Error::TooShort)?;
    rewrite(rtx, payload_type, ssrc, osn, &[], payload, out)
}

/// The original sequence number of an RTX packet and the original payload after it.
pub fn original_seq<'a>(rtx: &RtpPacket<'a>) -> Option<(u16, &'a [u8])> {
    match rtx.payload() {
        [a, b, rest @ ..] => Some((u16::from_be_bytes([*a, *b]), rest)),
        _ => None,
    }
}

/// Copies `p`'s header with another payload type, SSRC and sequence number, the padding bit
/// cleared, then `prefix` and `payload`.
fn rewrite(
    p: &RtpPacket<'_>,
    payload_type: u8,
    ssrc: u32,
    seq: u16,
    prefix: &[u8],
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, Error> {
    if payload_type > 127 {
        return Err(Error::BadValue);
    }
    let header = p.as_bytes().get(..p.header_len()).ok_or(Error::TooShort)?;
    let total = header.len() + prefix.len() + payload.len();
    let out = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
    let (h, body) = out.split_at_mut(header.len());
    h.copy_from_slice(header);
    let (pre, rest) = body.split_at_mut(prefix.len());
    pre.copy_from_slice(prefix);
    rest.copy_from_slice(payload);
    if let [b0, b1, s0, s1, _, _, _, _, c0, c1, c2, c3, ..] = h {
        *b0 &= !0x20;
        *b1 = (*b1 & 0x80) | payload_type;
        [*s0, *s1] = seq.to_be_bytes();
        [*c0, *c1, *c2, *c3] = ssrc.to_be_bytes();
    }
    Ok(total)
}

/// The sending end of an RTX stream: its payload type, SSRC and next sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtxSender {
    /// The RTX payload type (the `apt` of its `a=fmtp` line names the original's).
    pub payload_type: u8,
    /// The RTX SSRC.
    pub ssrc: u32,
    /// The sequence number of the next RTX packet.
    pub next_seq: u16,
}

impl RtxSender {
    /// Wraps the original packet `original` (as sent, e.g. from
    /// [`crate::nack::NackResponder`]) into `out`; returns the length. The sequence number
    /// advances only on success.
    pub fn wrap(&mut self, original: &[u8], out: &mut [u8]) -> Result<usize, Error> {
        let p = RtpPacket::parse(original)?;
        let n = write_rtx(&p, self.payload_type, self.ssrc, self.next_seq, out)?;
        self.next_seq = self.next_seq.wrapping_add(1);
        Ok(n)
    }
}
