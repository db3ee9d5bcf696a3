//! What an agent is told before it starts.

use std::net::SocketAddr;
use std::time::Duration;

use weft_stun::TransactionConfig;

/// The agent's role (RFC 8445 §6.1.1). The offerer starts controlling (RFC 8445 §6.1.1,
/// RFC 8829 §5.1.1 via JSEP); a role conflict may switch it (RFC 8445 §7.3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Nominates.
    Controlling,
    /// Follows the controlling agent's nominations.
    Controlled,
}

/// Which local candidates take part (W3C `RTCIceTransportPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CandidatePolicy {
    /// Every candidate.
    #[default]
    All,
    /// Relayed candidates only: host and server-reflexive ones are neither signalled nor
    /// paired, and checks arriving outside the relay are dropped.
    Relay,
}

/// ICE username fragment and password (RFC 8445 §5.3, RFC 8839 §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Credentials {
    /// `ice-ufrag`: at least 4 characters of ice-char.
    pub ufrag: String,
    /// `ice-pwd`: at least 22 characters of ice-char.
    pub pwd: String,
}

impl Credentials {
    /// Credentials from the two strings.
    pub fn new(ufrag: impl Into<String>, pwd: impl Into<String>) -> Self {
        Credentials {
            ufrag: ufrag.into(),
            pwd: pwd.into(),
        }
    }

    /// Random credentials from the agent's RNG: 8 ufrag and 24 password characters of
    /// ice-char (RFC 8839 §5.4 asks for at least 24 bits and 128 bits of randomness).
    pub(crate) fn random(rng: &mut impl FnMut() -> u64) -> Self {
        const ICE_CHARS: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut pick = |n: usize| -> String {
            (0..n)
                .map(|_| {
                    let i = (rng() % ICE_CHARS.len() as u64) as usize;
                    char::from(ICE_CHARS.get(i).copied().unwrap_or(b'A'))
                })
                .collect()
        };
        let ufrag = pick(8);
        let pwd = pick(24);
        Credentials { ufrag, pwd }
    }
}

/// A TURN server and the long-term credentials to allocate on it (RFC 8656 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnServer {
    /// Where to send Allocate (UDP).
    pub addr: SocketAddr,
    /// Long-term credential user name.
    pub username: String,
    /// Long-term credential password.
    pub password: String,
}

/// The agent's configuration. [`AgentConfig::default`] matches what Chromium does where the
/// RFCs leave a choice.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The starting role.
    pub role: Role,
    /// ICE-lite (RFC 8445 §2.5): host candidates only, never sends checks, always
    /// controlled; for servers with a public address.
    pub lite: bool,
    /// Which candidates take part.
    pub policy: CandidatePolicy,
    /// STUN servers for server-reflexive candidates.
    pub stun_servers: Vec<SocketAddr>,
    /// TURN servers for relayed candidates.
    pub turn_servers: Vec<TurnServer>,
    /// Ta: the pacing of new connectivity checks (RFC 8445 §14.2, default 50 ms).
    pub ta: Duration,
    /// Retransmission of checks, gathering and TURN requests (RFC 8489 §6.2.1).
    pub transactions: TransactionConfig,
    /// The controlling agent nominates the best valid pair once no better pair is still
    /// being checked, or this long after the first valid pair, whichever comes first. A
    /// better pair that succeeds later is nominated in its turn (the controlled agent
    /// follows the latest nomination).
    pub nomination_delay: Duration,
    /// Consent checks on the selected pair (RFC 7675 §5.1), randomized ×0.8..1.2. They are
    /// the keepalives too (RFC 8445 §11).
    pub consent_interval: Duration,
    /// `disconnected` after this long without a consent response (RFC 7675 leaves the
    /// value open; Chromium reports disconnected after a few seconds).
    pub disconnected_timeout: Duration,
    /// `failed` after this long without a consent response (RFC 7675 §5.1: 30 s).
    pub consent_timeout: Duration,
    /// `failed` this long after both sides ended their candidates with no candidate pair
    /// at all (every remote candidate was an mDNS name or TCP): meanwhile the peer's checks
    /// can still make a peer-reflexive pair. Firefox offers only mDNS candidates and
    /// `a=end-of-candidates`.
    pub no_pairs_timeout: Duration,
    /// Remote candidates kept per generation, signalled and peer-reflexive together
    /// (further ones are dropped and counted).
    pub max_remote_candidates: usize,
    /// Candidate pairs kept (RFC 8445 §6.1.2.5 suggests 100).
    pub max_pairs: usize,
    /// The TURN allocation lifetime asked for (RFC 8656 §7.2, default 600 s).
    pub turn_lifetime: Duration,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            role: Role::Controlling,
            lite: false,
            policy: CandidatePolicy::All,
            stun_servers: Vec::new(),
            turn_servers: Vec::new(),
            ta: Duration::from_millis(50),
            transactions: TransactionConfig::WEBRTC,
            nomination_delay: Duration::from_millis(500),
            consent_interval: Duration::from_millis(2500),
            disconnected_timeout: Duration::from_secs(5),
            consent_timeout: Duration::from_secs(30),
            no_pairs_timeout: Duration::from_secs(10),
            max_remote_candidates: 100,
            max_pairs: 100,
            turn_lifetime: Duration::from_secs(600),
        }
    }
}
