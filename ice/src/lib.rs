//! # weft-ice
//!
//! A sans-IO ICE agent (RFC 8445) for WebRTC: one component over UDP, with trickle
//! (RFC 8838), consent freshness (RFC 7675), ICE restart (RFC 8445 §9), ICE-lite
//! (RFC 8445 §2.5) and a TURN client (RFC 8656, UDP to the server). Messages are
//! `weft-stun`'s; the agent owns no socket, reads no clock and draws randomness only from
//! the seed it is given. The calling contract is on [`Agent`].
//!
//! ## Coverage
//! - Candidates: host (addresses handed in), server-reflexive (STUN servers), relayed
//!   (TURN servers), peer-reflexive (learned from checks, both directions); priorities and
//!   foundations per RFC 8445 §5.1.2 and §5.1.1.3, IPv6 preferred over IPv4 and earlier
//!   interfaces over later ones; redundant candidates eliminated (§5.1.3).
//! - Check list: pairing (§6.1.2.2), pair priority (§6.1.2.3), pruning of server-reflexive
//!   locals to their base (§6.1.2.4), the pair limit (§6.1.2.5), Frozen/Waiting/
//!   In-Progress/Succeeded/Failed (§6.1.2.6), Ta pacing and the triggered-check queue
//!   (§6.1.4), retransmissions by `weft-stun` transactions, role conflicts (§7.3.1.1,
//!   §7.2.5.1), regular nomination (§8.1.1) with renomination of a better pair that
//!   succeeds later, USE-CANDIDATE on the controlled side (§7.3.1.5).
//! - States as W3C names them ([`ConnectionState`], [`GatheringState`]), each change an
//!   [`Event`] with its [`StateReason`].
//! - Consent (RFC 7675): checks on the selected pair every ~2.5 s (randomized),
//!   `disconnected` after 5 s without an answer, `failed` after 30 s.
//! - TURN (RFC 8656): Allocate with long-term credentials (401, 438), Refresh before
//!   expiry, CreatePermission, ChannelBind for the selected peer, Send/Data indications and
//!   ChannelData, deallocation on [`Agent::close`].
//!
//! ## Choices and non-goals
//! - **mDNS candidates** (`<uuid>.local`, as browsers send them) are not resolved here.
//!   [`Agent::add_remote_candidate`] takes IP addresses only; the path to a browser that
//!   hides its addresses is found from its own checks, as a peer-reflexive candidate
//!   (RFC 8445 §7.3.1.3). That covers every case where one side can reach the other; it
//!   leaves out two browsers on one LAN that both hide their addresses, which needs
//!   multicast DNS on the real LAN (a driver concern, not a protocol state machine's).
//! - Unauthenticated checks are dropped and counted, never answered (no error response):
//!   the agent sends nothing in answer to a datagram that fails authentication.
//! - TURN over TCP and TLS (RFC 6062 framing, `turns:`) is not built yet; nor is
//!   aggressive nomination (deprecated by RFC 8445).

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

mod agent;
pub mod candidate;
mod config;
mod event;
mod turn;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use agent::{Agent, NotConnected, PairInfo, PairState};
pub use candidate::{Candidate, CandidateKind};
pub use config::{AgentConfig, CandidatePolicy, Credentials, Role, TurnServer};
pub use event::{
    ConnectionState, DropReason, Event, GatheringState, Output, Received, StateReason, Stats,
    Transmit,
};
pub use weft_stun::TransactionConfig;
