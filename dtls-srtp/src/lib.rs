//! # weft-dtls-srtp
//!
//! DTLS 1.2 for WebRTC, built on ring: RFC 6347 records and handshake with ECDHE
//! (RFC 8422), extended master secret (RFC 7627), use_srtp and the SRTP keying material
//! exporter (RFC 5764, RFC 5705); self-signed certificates and their SDP fingerprints
//! (RFC 8122). Sans-IO: datagrams and time in, datagrams and events out. The calling
//! contract is on [`Endpoint`].
//!
//! ## Layers
//! - [`wire`]: records, handshake fragments and messages: borrowed, bounds-checked parsing.
//! - [`crypto`]: every cryptographic call of the crate (ARCHITECTURE.md): PRF, key
//!   schedule, exporter, AEAD record protection, ECDHE, signatures.
//! - [`cert`]: certificates and fingerprints.
//! - [`Endpoint`]: the handshake state machine, client and server, and the record layer.
//!
//! DTLS 1.3 (RFC 9147) is not here yet: the record layer keeps epochs and sequence numbers
//! per direction and the handshake is a separate state machine over reassembled messages,
//! so a 1.3 handshake and its unified header can be added beside them.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

pub mod cert;
pub mod crypto;
mod endpoint;
pub mod srtp;
pub mod wire;

pub use endpoint::{Config, Connected, Endpoint, Error, Output, Role, SrtpProfile, Stats};

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
