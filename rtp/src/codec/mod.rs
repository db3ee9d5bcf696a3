//! Packetizers and depacketizers: frames to RTP payloads and back, one module per codec.
//!
//! # The contract
//!
//! A [`Packetizer`] takes one encoded frame (for H.264, one access unit as an Annex-B byte
//! stream) and a maximum payload size `mtu` (payload bytes per RTP packet, after the RTP
//! header and extensions), and hands each payload to a closure in send order with the RTP
//! marker bit: `true` on the last payload of the frame for video, `true` never for audio (the
//! audio marker means "first packet of a talkspurt", which is the caller's to know, RFC 3551
//! §4.1). Every payload is at most `mtu` bytes. A frame that cannot be carried under the
//! settings (an Opus frame larger than `mtu`, an H.264 NAL unit larger than `mtu` in
//! packetization mode 0) is an [`Error`], and nothing has been emitted.
//!
//! A [`Depacketizer`] takes the payloads of one stream in sequence order together with each
//! packet's marker bit, and returns a whole frame when one is complete: for audio every
//! payload is a frame; for video the packet with the marker ends the frame. It assumes the
//! payloads of a frame arrive complete and in order (reordering and loss are the sample
//! builder's problem), and refuses with a typed [`Error`] any payload that is malformed or out
//! of place (a continuation without a start, a fragment that never ends) instead of ever
//! emitting a corrupt frame. After an error the frame in progress is dropped and the
//! depacketizer waits for the start of a new frame. It never panics.
//!
//! Video codecs also have an `is_keyframe(payload)` that looks at the first payload of a
//! frame only.
//!
//! | codec | module | covers |
//! |---|---|---|
//! | Opus | [`opus`] | RFC 7587: one frame per packet |
//! | G.711 µ-law/A-law | [`g711`] | RFC 3551 §4.5.14: samples split at `mtu` |
//! | G.722 | [`g722`] | RFC 3551 §4.5.2: octets split at `mtu` |
//! | VP8 | [`vp8`] | RFC 7741: payload descriptor with X/N/S/PID, PictureID, TL0PICIDX, TID/Y/KEYIDX |
//! | VP9 | [`vp9`] | RFC 9628: flexible and non-flexible descriptors, layer indices, scalability structure; pictures of several layer frames joined as a superframe |
//! | H.264 | [`h264`] | RFC 6184: single NAL unit, STAP-A, FU-A; packetization modes 0 and 1 |
//! | H.265 | [`h265`] | RFC 7798: single NAL unit, AP, FU; no DONL (`sprop-max-don-diff` 0) |
//! | AV1 | [`av1`] | AV1 RTP payload format v1.0: aggregation header, OBU elements, fragments across packets |

pub mod av1;
pub mod g711;
pub mod g722;
pub mod h264;
pub mod h265;
pub mod opus;
pub mod vp8;
pub mod vp9;

/// Why a frame cannot be packetized or a payload cannot be depacketized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An empty frame or an empty payload.
    Empty,
    /// `mtu` leaves no room for the payload header and one byte of media.
    MtuTooSmall,
    /// The frame (or one NAL unit of it) needs more than `mtu` bytes and this format or mode
    /// cannot split it: Opus frames, H.264 packetization mode 0 (RFC 6184 §6.2).
    FrameTooLarge,
    /// The payload ends inside its payload header or descriptor.
    Truncated,
    /// H.264: the input has no NAL unit after a start code, or no start code.
    NoNalUnit,
    /// H.264: the forbidden_zero_bit is set (RFC 6184 §5.3).
    ForbiddenBit,
    /// H.264: a NAL unit type this depacketizer does not take: STAP-B, MTAP, FU-B are only
    /// for the interleaved mode (RFC 6184 §6.3), 0, 30 and 31 are reserved (§5.2).
    UnsupportedNalType(u8),
    /// An aggregation packet whose unit lengths do not add up to the payload, or hold a
    /// zero-length unit (RFC 6184 §5.7.1).
    BadAggregation,
    /// A continuation (a VP8 packet without S=1/PID=0, an FU-A without the S bit) where a
    /// frame or a fragmented unit should start.
    MissingStart,
    /// A start where the previous frame or fragmented unit had not ended: the frame with the
    /// marker, or the FU-A with the E bit, never came.
    Unfinished,
    /// A field combination the payload format forbids, e.g. an FU header with both S and E
    /// set (RFC 6184 §5.8), an FU-A whose type changes between fragments, or a VP8
    /// PictureID that changes inside a frame.
    BadHeader,
    /// An H.264 NAL unit holding 0x000000, 0x000001 or 0x000002, which H.264 §7.4.1 forbids
    /// inside a NAL unit: written as Annex-B it would split into other, corrupt units.
    StartCodeEmulation,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Empty => f.write_str("empty frame or payload"),
            Error::MtuTooSmall => f.write_str("MTU too small for the payload header"),
            Error::FrameTooLarge => f.write_str("frame larger than the MTU and not splittable"),
            Error::Truncated => f.write_str("payload ends inside its header"),
            Error::NoNalUnit => f.write_str("no NAL unit in the Annex-B input"),
            Error::ForbiddenBit => f.write_str("forbidden_zero_bit set"),
            Error::UnsupportedNalType(t) => write!(f, "unsupported NAL unit type {t}"),
            Error::BadAggregation => f.write_str("aggregation unit lengths do not fit"),
            Error::MissingStart => f.write_str("continuation without a start"),
            Error::Unfinished => f.write_str("new start before the previous one ended"),
            Error::BadHeader => f.write_str("invalid payload header"),
            Error::StartCodeEmulation => f.write_str("start code emulation inside a NAL unit"),
        }
    }
}

impl std::error::Error for Error {}

/// Splits frames into RTP payloads.
pub trait Packetizer {
    /// Splits `frame` into payloads of at most `mtu` bytes and calls `emit(payload, marker)`
    /// for each, in send order. On `Err` nothing has been emitted.
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<(), Error>;

    /// [`Packetizer::packetize`] into owned payloads; the marker is set on the last one for
    /// video.
    fn packetize_to_vec(&mut self, frame: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, Error> {
        let mut out = Vec::new();
        self.packetize(frame, mtu, &mut |p, _| out.push(p.to_vec()))?;
        Ok(out)
    }
}

/// Reassembles frames from RTP payloads given in sequence order.
pub trait Depacketizer {
    /// Takes the next payload and its packet's marker bit; returns the frame it completes,
    /// if any. On `Err` the frame in progress is dropped.
    fn push(&mut self, payload: &[u8], marker: bool) -> Result<Option<Vec<u8>>, Error>;

    /// Whether `payload` starts a frame, as far as the payload alone tells: `Some(true)` or
    /// `Some(false)` when the format says, `None` when it cannot. The sample builder asks
    /// this after a loss, when the packet before is gone and cannot tell it.
    fn starts_frame(&self, payload: &[u8]) -> Option<bool> {
        let _ = payload;
        None
    }

    /// Whether `payload`, one payload of a frame, shows that the frame is one a decoder can
    /// begin with (a key frame). Audio frames always are. The sample builder asks it of
    /// every payload of a frame.
    fn is_keyframe(&self, payload: &[u8]) -> bool {
        let _ = payload;
        false
    }

    /// Whether every payload is a whole frame (audio), so that a frame ends without the
    /// marker bit.
    fn payload_is_frame(&self) -> bool {
        false
    }
}

/// Audio formats whose payload is the frame itself, whole (Opus) or split at `mtu` on
/// sample boundaries of one octet (G.711, G.722).
fn packetize_audio(
    frame: &[u8],
    mtu: usize,
    splittable: bool,
    emit: &mut dyn FnMut(&[u8], bool),
) -> Result<(), Error> {
    if frame.is_empty() {
        return Err(Error::Empty);
    }
    if mtu == 0 {
        return Err(Error::MtuTooSmall);
    }
    if frame.len() > mtu && !splittable {
        return Err(Error::FrameTooLarge);
    }
    for chunk in frame.chunks(mtu) {
        emit(chunk, false);
    }
    Ok(())
}

fn depacketize_audio(payload: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    if payload.is_empty() {
        return Err(Error::Empty);
    }
    Ok(Some(payload.to_vec()))
}
