//! # weft-sctp
//!
//! WebRTC data channels: RFC 8831 channels and the RFC 8832 Data Channel Establishment
//! Protocol over one SCTP association carried in DTLS (RFC 8261). Sans-IO: SCTP packets
//! and time in, SCTP packets and events out; the calling contract is on [`Association`].
//!
//! - [`dcep`]: DATA_CHANNEL_OPEN / ACK parsing and writing, channel types.
//! - [`Association`]: roles and stream ids from the DTLS role, channels of every type
//!   (reliable, unordered, partial reliability by retransmits or lifetime, negotiated),
//!   messages of every PPID up to the negotiated maximum (RFC 8841), close by stream reset
//!   (RFC 6525), buffered amount with a low-threshold event, statistics.
//!
//! The SCTP engine underneath is chosen by [`Config::engine`]: weft's own [`engine`]
//! (issue 12; the default) or `sctp-proto` 0.10 (the baseline and differential oracle, an
//! implementation detail: nothing of it appears in this crate's API).
//!
//! [`wire`] is the SCTP wire format of weft's engine: packets, chunks, parameters and
//! error causes, parsed zero-copy and written into a caller's buffer.
//!
//! [`engine`] is weft's own association engine built on [`wire`]: setup with a state
//! cookie, reliable ordered and unordered DATA, SACK, congestion control, partial
//! reliability (FORWARD TSN sent and received, RFC 3758 §3.5-3.6), stream reset (RFC
//! 6525), zero checksum over DTLS (RFC 9653), shutdown and abort, HEARTBEAT (RFC 9260
//! §8.3), path MTU discovery (RFC 8899, up to [`Config::max_mtu`]), and I-DATA with
//! I-FORWARD-TSN (RFC 8260) when the peer declares them ([`Config::interleaving`]): the
//! channels then take turns per chunk, so a large message does not hold back the others.
//! Tested against sctp-proto, itself, webrtc-rs and Chromium (DATA, and I-DATA with
//! Chromium's interleaving field trial).
//!
//! The deprecated partial-message PPIDs 52 and 54 (RFC 8831 §8) are accepted on receive:
//! weft maps them before the engine sees the packet and joins the pieces (one ambiguity:
//! a piece that is exactly the byte 0 reads as an empty message). weft never sends them.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

mod association;
pub mod dcep;
pub mod engine;
pub mod wire;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use association::{
    Association, AssociationStats, ChannelId, ChannelInfo, ChannelOptions, ChannelState,
    ChannelStats, CloseReason, Config, EngineKind, Error, Event, MessageKind, Output, Role,
    Violation, DEFAULT_MAX_MESSAGE_SIZE, MAX_CHANNEL_ID, SDP_DEFAULT_MAX_MESSAGE_SIZE,
};
pub use dcep::{Policy, Reliability};
