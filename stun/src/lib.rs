//! # weft-stun
//!
//! STUN as WebRTC uses it: RFC 8489 messages and attributes, the ICE attributes of
//! RFC 8445, the TURN attributes and ChannelData framing of RFC 8656, and client
//! transactions with retransmission. Sans-IO: no socket, no clock, no RNG inside.
//!
//! ```
//! use weft_stun::{attr, Message, MessageBuilder, MessageType, TransactionId};
//! // An ICE connectivity check (RFC 8445 §7.2.2), built in a stack buffer.
//! let mut buf = [0u8; 256];
//! let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId([1; 12]))?;
//! b.add(&attr::Username("lcJE:1iql"))?;
//! b.add(&attr::IceControlling(0x1d5a_fb57_63a5_ec72))?;
//! b.add(&attr::Priority(1_853_759_231))?;
//! b.add(&attr::UseCandidate)?;
//! b.add_message_integrity(b"DLjCJC1FqA32OaSgEv/TeyKp")?;
//! b.add_fingerprint()?;
//! let bytes = b.finish();
//!
//! // The receiving agent: validate, verify, read.
//! let msg = Message::parse(bytes)?;
//! msg.verify_fingerprint()?;
//! msg.verify_message_integrity(b"DLjCJC1FqA32OaSgEv/TeyKp")?;
//! assert_eq!(msg.get::<attr::Username>()?, Some(attr::Username("lcJE:1iql")));
//! assert!(msg.has(attr::USE_CANDIDATE));
//! # Ok::<(), weft_stun::Error>(())
//! ```
//!
//! ## What it guarantees
//! - **Zero-copy, allocation-free hot path.** [`Message::parse`] validates a datagram in one
//!   pass and borrows it; attribute reads, integrity and fingerprint checks allocate nothing
//!   (a counting-allocator test holds this). [`MessageBuilder`] writes into the caller's
//!   buffer and fills MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT in place.
//! - **Input never panics.** Every malformed input is a typed [`Error`]; parser modules deny
//!   `unwrap`, `expect`, indexing and `panic!`; fuzz targets run decode and decode→encode.
//! - **Constant-time integrity checks**, keys from [`credentials`] (short-term: the password;
//!   long-term: MD5 or SHA-256 of `username:realm:password`).
//!
//! ## Coverage
//! RFC 8489 §5 (header), §6.2.1 (retransmission, [`transaction`]), §7 (FINGERPRINT demux),
//! §9.1/§9.2 (short-term and long-term credentials, nonce and realm, password algorithms),
//! §14 (every attribute); RFC 8445 §16.1 (PRIORITY, USE-CANDIDATE, ICE-CONTROLLED,
//! ICE-CONTROLLING); RFC 8656 §12 (ChannelData) and §18 (TURN attributes); RFC 7983 §7
//! ([`demux::classify`]); test vectors of RFC 5769.
//!
//! ## Non-goals
//! Server transactions and TURN allocation state live in `weft-ice` and the TURN client;
//! OpaqueString (RFC 8265) preparation of credentials is the caller's; STUN over TCP framing
//! beyond [`Message::parse_prefix`]; the classic RFC 3489 protocol without magic cookie.

#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![warn(missing_docs)]

pub mod attr;
mod builder;
mod bytes;
pub mod channel_data;
pub mod credentials;
mod crypto;
pub mod demux;
mod error;
mod message;
pub mod transaction;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use builder::MessageBuilder;
pub use channel_data::{ChannelData, Framing};
pub use credentials::{long_term_key, IntegrityKey, LongTermCredentials, LongTermKey};
pub use error::Error;
pub use message::{
    is_stun, Attributes, Class, Message, MessageType, Method, RawAttribute, TransactionId,
    FINGERPRINT_XOR, HEADER_LEN, MAGIC_COOKIE,
};
pub use transaction::{ClientTransactions, TransactionConfig, TransactionEvent};
