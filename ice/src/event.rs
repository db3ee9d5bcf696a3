//! What the agent reports.

use std::net::SocketAddr;

use crate::candidate::Candidate;
use crate::config::Role;

/// W3C `RTCIceConnectionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Nothing checked yet.
    New,
    /// Checks are running and no pair is selected.
    Checking,
    /// A pair is selected; checks may still run or candidates still arrive.
    Connected,
    /// A pair is selected, every check has finished, and both sides have finished
    /// gathering (end-of-candidates received).
    Completed,
    /// Every pair failed after end-of-candidates, or consent expired (RFC 7675 §5.1).
    Failed,
    /// The selected pair stopped answering consent checks; may recover.
    Disconnected,
    /// [`crate::Agent::close`] was called.
    Closed,
}

/// Why the connection state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StateReason {
    /// The first connectivity check went out, or a check arrived.
    ChecksStarted,
    /// A pair was nominated and selected.
    PairSelected,
    /// No check is left to run, and both sides ended their candidates.
    ChecksFinished,
    /// Every pair failed and no more candidates can come.
    AllPairsFailed,
    /// No consent response for `disconnected_timeout`.
    ConsentStale,
    /// A consent response came back after the connection was disconnected.
    ConsentRestored,
    /// No consent response for `consent_timeout` (RFC 7675 §5.1).
    ConsentExpired,
    /// An ICE restart began (RFC 8445 §9).
    Restarted,
    /// The application closed the agent.
    Closed,
}

/// W3C `RTCIceGatheringState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatheringState {
    /// Nothing gathered yet.
    New,
    /// STUN or TURN requests are in flight.
    Gathering,
    /// Every server answered or timed out; the end of local candidates (RFC 8838 §8.2).
    Complete,
}

/// An event for the application or the peer connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A local candidate to signal (trickle, RFC 8838 §8.1).
    LocalCandidate(Candidate),
    /// The gathering state changed; `Complete` means end-of-candidates can be signalled.
    GatheringState(GatheringState),
    /// The connection state changed.
    ConnectionState {
        /// The new state.
        state: ConnectionState,
        /// Why.
        reason: StateReason,
    },
    /// The pair data goes over changed.
    SelectedPair {
        /// Our candidate.
        local: Candidate,
        /// Theirs.
        remote: Candidate,
    },
    /// A role conflict switched our role (RFC 8445 §7.3.1.1, §7.2.5.1).
    RoleChanged(Role),
}

/// A datagram to send from one of the host addresses the driver gave the agent.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local socket address to send from.
    pub src: SocketAddr,
    /// Where to.
    pub dst: SocketAddr,
    /// The UDP payload.
    pub bytes: Vec<u8>,
}

/// One output of [`crate::Agent::poll_output`].
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this datagram.
    Transmit(Transmit),
    /// Tell the application.
    Event(Event),
}

/// What became of a datagram given to [`crate::Agent::handle_receive`].
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received<'a> {
    /// A STUN or TURN message the agent consumed.
    Handled,
    /// Application data (DTLS, SRTP, ...) from an authenticated remote, unwrapped from
    /// TURN framing when it came through a relay.
    Data {
        /// The remote transport address it came from.
        from: SocketAddr,
        /// The payload (borrowed from the datagram).
        payload: &'a [u8],
    },
    /// Dropped and counted in [`crate::Stats`].
    Dropped(DropReason),
}

/// Why a datagram was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// Not STUN, and not from a remote address that passed a check.
    UnknownSource,
    /// STUN that does not parse, or an indication or response nobody waits for.
    Malformed,
    /// USERNAME is not ours (RFC 8445 §7.3).
    WrongUsername,
    /// MESSAGE-INTEGRITY missing or wrong (RFC 8445 §7.3, §7.2.5.2).
    BadIntegrity,
    /// FINGERPRINT missing or wrong (RFC 8445 §7.3: every check carries one).
    BadFingerprint,
    /// A response from somewhere its request did not go (RFC 8445 §7.2.5.2.1).
    NonSymmetric,
    /// The candidate or pair limit was reached.
    Limit,
    /// The relay-only policy refuses this path.
    Policy,
    /// The agent is closed.
    Closed,
}

/// Counters a researcher can read at any time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// STUN transactions started (checks, consent, gathering, TURN).
    pub transactions_started: u64,
    /// STUN requests sent, retransmissions included.
    pub requests_sent: u64,
    /// Connectivity checks started (not consent checks).
    pub checks_started: u64,
    /// Consent checks started.
    pub consent_checks: u64,
    /// Checks answered.
    pub checks_answered: u64,
    /// Transactions that timed out.
    pub timeouts: u64,
    /// Datagrams dropped: wrong USERNAME.
    pub dropped_wrong_username: u64,
    /// Datagrams dropped: bad or missing MESSAGE-INTEGRITY.
    pub dropped_bad_integrity: u64,
    /// Datagrams dropped: bad or missing FINGERPRINT.
    pub dropped_bad_fingerprint: u64,
    /// Datagrams dropped: malformed or unexpected STUN.
    pub dropped_malformed: u64,
    /// Datagrams dropped: data from unknown sources.
    pub dropped_unknown_source: u64,
    /// Datagrams dropped: non-symmetric responses.
    pub dropped_non_symmetric: u64,
    /// Remote candidates or pairs refused at the limits.
    pub dropped_limit: u64,
    /// Datagrams dropped by the relay-only policy.
    pub dropped_policy: u64,
    /// Bytes the agent sent in answer to received requests.
    pub response_bytes: u64,
}
