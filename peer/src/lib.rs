//! # weft-peer
//!
//! The peer connection: weft's protocol crates composed into a W3C `RTCPeerConnection`
//! that talks to browsers. The core, [`Rtc`], is sans-IO like every weft crate: datagrams
//! and time in, datagrams and events out, with the calling contract on the type.
//!
//! ## What the core does
//! - JSEP (RFC 8829): offers and answers built with `weft-sdp`'s typed model; pending and
//!   current descriptions and the signaling states as W3C defines them; rollback, explicit
//!   and implicit (an offer taken in `have-local-offer`, as perfect negotiation needs);
//!   renegotiation and `negotiationneeded`; ICE restart.
//! - One transport (max-bundle, rtcp-mux, RFC 8843, RFC 5761), demultiplexed per RFC 7983:
//!   STUN to `weft-ice`, DTLS to `weft-dtls-srtp` (role from `a=setup`, RFC 8842; the
//!   peer certificate checked against `a=fingerprint`), SCTP data channels over DTLS
//!   (`weft-sctp`), SRTP keyed by the DTLS exporter (RFC 5764).
//! - Media: transceivers with directions, codec negotiation (Opus, PCMU/PCMA, VP8, VP9,
//!   H.264 with profile matching, AV1, RTX), the MID header extension, frames packetized
//!   out and reassembled in (`weft-rtp`'s sample builder), PLI/FIR, NACK answered from
//!   history through RTX, sender and receiver reports.
//! - States: signaling, ICE gathering, ICE connection and the aggregate connection state,
//!   each change an [`Event`].

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

pub mod codec;
#[cfg(feature = "tokio")]
mod driver;
mod event;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod media;
pub mod mux;
mod rtc;
mod sdp_build;
pub mod stats;

pub use codec::{Codec, CodecName, MediaKind};
#[cfg(feature = "tokio")]
pub use driver::{
    DataChannel, DataChannelMessage, PeerConfig, PeerConnection, PeerEvent, RemoteTrack,
    SharedSocket,
};
pub use event::*;
pub use rtc::{Input, MediaCounters, OfferOptions, Output, Rtc, RtcConfig, RtcError, Transmit};
pub use stats::Stats;
pub use weft_sctp::{
    ChannelInfo, ChannelOptions, ChannelState, EngineKind as SctpEngineKind, MessageKind, Policy,
    Reliability,
};
pub use weft_sdp::Direction;
