//! # weft-signal
//!
//! The session layer of weft, sans-IO like the protocol crates:
//! - [`session`]: `PeerSession`, one call between two peers as a state machine
//!   (Idle → OutgoingInit / IncomingInit → Negotiating → Active → Ending → Ended) over a
//!   weft `Rtc`, driven by a [`session::Signaller`] that only transports call init, accept,
//!   reject, hangup, offer, answer and candidates;
//! - [`message`]: the WebSocket JSON messages `{type, room, data, from}` and their
//!   mapping to signals;
//! - [`room`]: the relay of a room's messages between its members (mesh);
//! - [`token`]: HS256 room tokens (JWT-shaped) a WebSocket must present.
//!
//! The HTTP offer/answer exchange of `weft-server` is the other signaller: one offer in,
//! one answer out, candidates inside the descriptions.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

pub mod message;
pub mod room;
pub mod session;
pub mod token;

pub use message::{MessageError, WsMessage};
pub use room::{ClientId, Delivery, JoinError, Rooms, SERVER};
pub use session::{
    CallState, PeerSession, SessionError, SessionEvent, SessionOutput, Signal, Signaller,
};
pub use token::{Claims, TokenError};
