//! # weft-rtp
//!
//! RTP and RTCP for WebRTC: a validated zero-copy RTP view and a writer into caller buffers
//! ([`packet`]), RFC 8285 header extensions with typed values for the ones WebRTC uses
//! ([`ext`]), RTCP compound packets as typed views and builders for receiver feedback
//! ([`rtcp`]: SR, RR, SDES, BYE, APP, XR receiver reference time and DLRR, generic NACK,
//! PLI, FIR, REMB, each read and built; other XR block types read as raw blocks),
//! transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
//! extensions-01) as a validated view, a builder and a bounded receive-side recorder that
//! turns arrival times into feedback packets ([`twcc`]), packetizers and depacketizers for
//! Opus, G.711, G.722, VP8, VP9, H.264, H.265 and AV1 ([`codec`]), sequence-number and
//! timestamp unwrapping ([`seq`]), frame assembly under reordering and loss ([`sample`]), a
//! jitter buffer with a target delay ([`jitter`]), generic NACK generation and a bounded send
//! history answering it ([`nack`]), RTX (RFC 4588) wrap and unwrap ([`rtx`]), and receiver
//! statistics for report blocks (RFC 3550 §6.4.1, §A.1, §A.3, §A.8: [`stats`]).
//! Sans-IO: time is an argument, never read; no allocation on the RTP or RTCP parse paths.
//!
//! Not here yet (issue 7 continues): typed views and builders for XR block types other than
//! RRTR and DLRR (RFC 3611 §4.1-§4.3, §4.6, §4.7), H.264 interleaved
//! mode, H.265 DONL/PACI, VP9 SVC packetization of several spatial layers in one call, AV1
//! dependency descriptor, a send-side consumer of transport-wide feedback (bandwidth
//! estimation).

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

pub mod codec;
pub mod ext;
pub mod jitter;
pub mod nack;
pub mod packet;
pub mod rtcp;
pub mod rtx;
pub mod sample;
pub mod seq;
pub mod stats;
pub mod twcc;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use packet::{write_rtp, RtpHeader, RtpPacket};

/// Why bytes are not a valid RTP or RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Shorter than its headers say.
    TooShort,
    /// Version other than 2 (RFC 3550 §5.1).
    BadVersion(u8),
    /// The header extension runs past the packet.
    BadExtensionLength,
    /// The padding count is zero or larger than the payload (RFC 3550 §5.1).
    BadPadding,
    /// A field value the writer cannot encode.
    BadValue,
    /// The output buffer is too small.
    BufferTooSmall,
    /// Longer than the limit of what keeps it (e.g. the NACK history's `max_packet_len`).
    TooLarge,
    /// Transport-wide feedback whose packet status chunks end before its packet status
    /// count is reached (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
    TwccChunksShort,
    /// Transport-wide feedback whose receive deltas run past the packet (§3.1.5).
    TwccDeltasShort,
    /// Transport-wide feedback reporting a packet with the reserved status symbol `11`
    /// (§3.1.1).
    TwccReservedSymbol,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::TooShort => f.write_str("packet too short"),
            Error::BadVersion(v) => write!(f, "RTP version {v}, not 2"),
            Error::BadExtensionLength => f.write_str("header extension runs past the packet"),
            Error::BadPadding => f.write_str("bad padding count"),
            Error::BadValue => f.write_str("field value out of range"),
            Error::BufferTooSmall => f.write_str("output buffer too small"),
            Error::TooLarge => f.write_str("packet larger than the limit"),
            Error::TwccChunksShort => {
                f.write_str("transport-wide feedback: chunks end before the status count")
            }
            Error::TwccDeltasShort => {
                f.write_str("transport-wide feedback: receive deltas run past the packet")
            }
            Error::TwccReservedSymbol => {
                f.write_str("transport-wide feedback: reserved packet status symbol")
            }
        }
    }
}

impl std::error::Error for Error {}
