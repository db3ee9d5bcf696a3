//! Two agents joined by a plain wire (no NAT): the agent's own rules — nomination, role
//! conflicts, lite, trickle order, authentication, consent, restart — in virtual time.
//! The NAT matrix and TURN run in `netsim.rs`.

// The virtual clock's origin is the one real clock read.
#![allow(clippy::disallowed_methods)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use weft_ice::{
    Agent, AgentConfig, Candidate, CandidateKind, ConnectionState, Event, Output, Received, Role,
    StateReason,
};

/// A wire with a fixed one-way delay and optional seeded loss, delivering to the agent that
/// owns the destination address.
struct Wire {
    now: Instant,
    start: Instant,
    delay: Duration,
    loss_percent: u64,
    rng: u64,
    in_flight: VecDeque<(Instant, SocketAddr, SocketAddr, Vec<u8>)>,
    /// Cut: datagrams are dropped.
    cut: bool,
    /// Extra one-way delay for datagrams to these addresses.
    slow: Vec<(SocketAddr, Duration)>,
    /// Addresses whose path died: datagrams from or to them are dropped.
    dead: Vec<SocketAddr>,
}

struct Side {
    agent: Agent,
    addr: SocketAddr,
    /// Further host addresses (multi-homed, dual-stack).
    extra: Vec<SocketAddr>,
    events: Vec<(Duration, Event)>,
    data: Vec<Vec<u8>>,
    candidates: Vec<Candidate>,
}

impl Wire {
    fn new(delay_ms: u64) -> Self {
        let now = Instant::now();
        Wire {
            now,
            start: now,
            delay: Duration::from_millis(delay_ms),
            loss_percent: 0,
            rng: 0x9E37_79B9_7F4A_7C15,
            in_flight: VecDeque::new(),
            cut: false,
            slow: Vec::new(),
            dead: Vec::new(),
        }
    }

    fn lost(&mut self) -> bool {
        // xorshift64*: deterministic loss.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.cut || self.rng % 100 < self.loss_percent
    }

    fn drain(&mut self, side: &mut Side) {
        let t = self.now.duration_since(self.start);
        while let Some(o) = side.agent.poll_output() {
            match o {
                Output::Transmit(tx) => {
                    assert!(
                        tx.src == side.addr || side.extra.contains(&tx.src),
                        "sent from a socket the agent was given"
                    );
                    let dead = self.dead.contains(&tx.src) || self.dead.contains(&tx.dst);
                    if !self.lost() && !dead {
                        let extra = self
                            .slow
                            .iter()
                            .find(|(a, _)| *a == tx.dst)
                            .map_or(Duration::ZERO, |(_, d)| *d);
                        self.in_flight.push_back((
                            self.now + self.delay + extra,
                            tx.src,
                            tx.dst,
                            tx.bytes,
                        ));
                    }
                }
                Output::Event(Event::LocalCandidate(c)) => {
                    side.candidates.push(c.clone());
                    side.events.push((t, Event::LocalCandidate(c)));
                }
                Output::Event(e) => side.events.push((t, e)),
            }
        }
    }

    /// Runs both agents until `until` of virtual time.
    fn run(&mut self, a: &mut Side, b: &mut Side, until: Duration) {
        let end = self.start + until;
        let mut spins = 0u32;
        let mut last = self.now;
        loop {
            self.drain(a);
            self.drain(b);
            let next = [
                a.agent.poll_timeout(),
                b.agent.poll_timeout(),
                self.in_flight.iter().map(|f| f.0).min(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else { break };
            if next > end {
                break;
            }
            let next = next.max(self.now);
            if next == last {
                spins += 1;
                assert!(
                    spins < 10_000,
                    "no progress at {:?}: a={:?} b={:?}",
                    next - self.start,
                    a.agent.poll_timeout().map(|t| t - self.start),
                    b.agent.poll_timeout().map(|t| t - self.start)
                );
            } else {
                spins = 0;
                last = next;
            }
            self.now = next;
            // Deliver what is due, in order.
            let mut due = Vec::new();
            self.in_flight.retain(|f| {
                if f.0 <= next {
                    due.push(f.clone());
                    false
                } else {
                    true
                }
            });
            for (_, src, dst, bytes) in due {
                let side = if dst == a.addr || a.extra.contains(&dst) {
                    &mut *a
                } else if dst == b.addr || b.extra.contains(&dst) {
                    &mut *b
                } else {
                    continue;
                };
                if let Received::Data { payload, .. } =
                    side.agent.handle_receive(next, dst, src, &bytes)
                {
                    side.data.push(payload.to_vec());
                }
            }
            for side in [&mut *a, &mut *b] {
                if side.agent.poll_timeout().is_some_and(|t| t <= next) {
                    side.agent.handle_timeout(next);
                }
            }
        }
        self.now = self.now.max(end);
    }
}

fn side(role: Role, addr: &str, seed: u8, lite: bool) -> Side {
    let config = AgentConfig {
        role,
        lite,
        ..AgentConfig::default()
    };
    Side {
        agent: Agent::new(config, [seed; 32]),
        addr: addr.parse().unwrap(),
        extra: Vec::new(),
        events: Vec::new(),
        data: Vec::new(),
        candidates: Vec::new(),
    }
}

/// Exchange credentials and candidates both ways, as signalling would.
fn signal(w: &mut Wire, a: &mut Side, b: &mut Side) {
    let now = w.now;
    a.agent
        .set_remote_credentials(now, b.agent.local_credentials().clone());
    b.agent
        .set_remote_credentials(now, a.agent.local_credentials().clone());
    for c in b.agent.local_candidates() {
        a.agent.add_remote_candidate(now, c);
    }
    for c in a.agent.local_candidates() {
        b.agent.add_remote_candidate(now, c);
    }
    a.agent.end_of_remote_candidates(now);
    b.agent.end_of_remote_candidates(now);
}

fn pair(w: &mut Wire, lite_b: bool) -> (Side, Side) {
    let mut a = side(Role::Controlling, "192.0.2.1:4000", 1, false);
    let mut b = side(Role::Controlled, "198.51.100.2:5000", 2, lite_b);
    let now = w.now;
    assert!(a.agent.add_host_address(now, a.addr));
    assert!(b.agent.add_host_address(now, b.addr));
    if lite_b {
        a.agent.set_remote_lite(true);
    }
    (a, b)
}

fn states(s: &Side) -> Vec<ConnectionState> {
    s.events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::ConnectionState { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

fn first_selected(s: &Side) -> Option<Duration> {
    s.events
        .iter()
        .find(|(_, e)| matches!(e, Event::SelectedPair { .. }))
        .map(|(t, _)| *t)
}

#[test]
fn host_to_host_connects_completes_and_carries_data() {
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(3));
    use ConnectionState::*;
    assert_eq!(states(&a), vec![Checking, Connected, Completed]);
    assert_eq!(states(&b), vec![Checking, Connected, Completed]);
    let sa = a.agent.selected_pair().unwrap();
    let sb = b.agent.selected_pair().unwrap();
    assert_eq!(sa.local.addr, a.addr);
    assert_eq!(sa.remote.addr, b.addr);
    assert_eq!(sb.remote.addr, a.addr);
    assert!(sa.nominated && sb.nominated);
    // One pair, 50 ms RTT: check + response, then the nominating check: about 2 RTT.
    let t = first_selected(&a).unwrap();
    assert!(
        t >= Duration::from_millis(100) && t <= Duration::from_millis(200),
        "{t:?}"
    );
    // Data both ways over the selected pair.
    a.agent.send(w.now, b"hello from a").unwrap();
    b.agent.send(w.now, b"hello from b").unwrap();
    w.run(&mut a, &mut b, Duration::from_secs(4));
    assert_eq!(b.data, vec![b"hello from a".to_vec()]);
    assert_eq!(a.data, vec![b"hello from b".to_vec()]);
}

#[test]
fn consent_keeps_the_connection_for_minutes() {
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(120));
    assert_eq!(a.agent.connection_state(), ConnectionState::Completed);
    assert_eq!(b.agent.connection_state(), ConnectionState::Completed);
    // RFC 7675 §5.1: about one consent check every 2.5 s (×0.8..1.2) on each side.
    let n = a.agent.stats().consent_checks;
    assert!((38..=60).contains(&n), "{n} consent checks in 120 s");
}

#[test]
fn consent_loss_then_recovery() {
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(5));
    w.cut = true;
    w.run(&mut a, &mut b, Duration::from_secs(15));
    assert_eq!(a.agent.connection_state(), ConnectionState::Disconnected);
    w.cut = false;
    w.run(&mut a, &mut b, Duration::from_secs(25));
    // Back to connected, and at once to completed: nothing else is left to check.
    assert_eq!(a.agent.connection_state(), ConnectionState::Completed);
    assert_eq!(
        &states(&a)[3..],
        &[
            ConnectionState::Disconnected,
            ConnectionState::Connected,
            ConnectionState::Completed
        ]
    );
    a.agent.send(w.now, b"still here").unwrap();
    w.run(&mut a, &mut b, Duration::from_secs(26));
    assert_eq!(b.data, vec![b"still here".to_vec()]);
    let reasons: Vec<StateReason> = a
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::ConnectionState { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect();
    assert!(reasons.contains(&StateReason::ConsentStale));
    assert!(reasons.contains(&StateReason::ConsentRestored));
}

#[test]
fn consent_loss_then_failure_after_30_s() {
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(5));
    w.cut = true;
    w.run(&mut a, &mut b, Duration::from_secs(60));
    assert_eq!(a.agent.connection_state(), ConnectionState::Failed);
    let failed_at = a
        .events
        .iter()
        .find(|(_, e)| {
            matches!(
                e,
                Event::ConnectionState {
                    state: ConnectionState::Failed,
                    reason: StateReason::ConsentExpired
                }
            )
        })
        .map(|(t, _)| *t)
        .unwrap();
    // The last consent answer came before the cut at 5 s; 30 s later it expires.
    assert!(failed_at > Duration::from_secs(32) && failed_at <= Duration::from_secs(35));
    assert!(
        a.agent.send(w.now, b"x").is_err(),
        "no data after consent expired"
    );
}

#[test]
fn role_conflict_both_controlling_resolves_by_tie_breaker() {
    let mut w = Wire::new(25);
    let mut a = side(Role::Controlling, "192.0.2.1:4000", 1, false);
    let mut b = side(Role::Controlling, "198.51.100.2:5000", 2, false);
    a.agent.add_host_address(w.now, a.addr);
    b.agent.add_host_address(w.now, b.addr);
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(5));
    assert_ne!(
        a.agent.role(),
        b.agent.role(),
        "exactly one stays controlling"
    );
    let winner_is_a = a.agent.tie_breaker() >= b.agent.tie_breaker();
    assert_eq!(a.agent.role() == Role::Controlling, winner_is_a);
    assert_eq!(a.agent.connection_state(), ConnectionState::Completed);
    assert_eq!(b.agent.connection_state(), ConnectionState::Completed);
    let loser = if winner_is_a { &b } else { &a };
    assert!(loser
        .events
        .iter()
        .any(|(_, e)| *e == Event::RoleChanged(Role::Controlled)));
}

#[test]
fn role_conflict_both_controlled() {
    let mut w = Wire::new(25);
    let mut a = side(Role::Controlled, "192.0.2.1:4000", 3, false);
    let mut b = side(Role::Controlled, "198.51.100.2:5000", 4, false);
    a.agent.add_host_address(w.now, a.addr);
    b.agent.add_host_address(w.now, b.addr);
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(5));
    assert_ne!(a.agent.role(), b.agent.role());
    assert_eq!(a.agent.connection_state(), ConnectionState::Completed);
    assert_eq!(b.agent.connection_state(), ConnectionState::Completed);
}

#[test]
fn full_agent_with_a_lite_remote() {
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, true);
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(5));
    assert_eq!(a.agent.role(), Role::Controlling);
    assert_eq!(b.agent.role(), Role::Controlled);
    assert_eq!(a.agent.connection_state(), ConnectionState::Completed);
    assert!(matches!(
        b.agent.connection_state(),
        ConnectionState::Connected | ConnectionState::Completed
    ));
    // The lite agent never sent a check of its own.
    assert_eq!(b.agent.stats().checks_started, 0);
    assert_eq!(b.agent.stats().transactions_started, 0);
    b.agent.send(w.now, b"lite data").unwrap();
    w.run(&mut a, &mut b, Duration::from_secs(6));
    assert_eq!(a.data, vec![b"lite data".to_vec()]);
}

#[test]
fn lite_agent_is_controlled_even_when_configured_controlling() {
    let config = AgentConfig {
        role: Role::Controlling,
        lite: true,
        ..AgentConfig::default()
    };
    let agent = Agent::new(config, [9; 32]);
    assert_eq!(agent.role(), Role::Controlled);
}

#[test]
fn mdns_hidden_candidates_and_late_credentials_are_found_as_peer_reflexive() {
    // B never learns A's candidates (as with a browser's `.local` mDNS names, which weft
    // leaves unresolved: see the crate docs) and
    // A's credentials reach B late: B answers A's checks, learns A as peer-reflexive, and
    // its triggered checks wait for the password.
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    let now = w.now;
    a.agent
        .set_remote_credentials(now, b.agent.local_credentials().clone());
    for c in b.agent.local_candidates() {
        a.agent.add_remote_candidate(now, c);
    }
    w.run(&mut a, &mut b, Duration::from_millis(700));
    assert!(b
        .agent
        .remote_candidates()
        .iter()
        .any(|c| c.kind == CandidateKind::PeerReflexive && c.addr == a.addr));
    assert_eq!(b.agent.stats().checks_started, 0, "no password, no checks");
    let creds = a.agent.local_credentials().clone();
    b.agent.set_remote_credentials(w.now, creds);
    w.run(&mut a, &mut b, Duration::from_secs(4));
    assert!(b.agent.selected_pair().is_some());
    assert!(a.agent.selected_pair().is_some());
    assert_eq!(
        b.agent.selected_pair().unwrap().remote.kind,
        CandidateKind::PeerReflexive
    );
}

#[test]
fn late_trickled_candidate_connects() {
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    let now = w.now;
    a.agent
        .set_remote_credentials(now, b.agent.local_credentials().clone());
    b.agent
        .set_remote_credentials(now, a.agent.local_credentials().clone());
    // Nothing to check for two seconds.
    w.run(&mut a, &mut b, Duration::from_secs(2));
    assert_eq!(a.agent.connection_state(), ConnectionState::New);
    for c in b.agent.local_candidates() {
        a.agent.add_remote_candidate(w.now, c);
    }
    w.run(&mut a, &mut b, Duration::from_secs(4));
    assert!(a.agent.selected_pair().is_some());
    // Without end-of-candidates the state stays connected, not completed (RFC 8838 §8).
    assert_eq!(a.agent.connection_state(), ConnectionState::Connected);
    a.agent.end_of_remote_candidates(w.now);
    b.agent.end_of_remote_candidates(w.now);
    w.run(&mut a, &mut b, Duration::from_secs(5));
    assert_eq!(a.agent.connection_state(), ConnectionState::Completed);
}

#[test]
fn checks_survive_30_percent_loss() {
    for seed in 0..10u64 {
        let mut w = Wire::new(25);
        w.loss_percent = 30;
        w.rng ^= seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let (mut a, mut b) = pair(&mut w, false);
        signal(&mut w, &mut a, &mut b);
        w.run(&mut a, &mut b, Duration::from_secs(10));
        assert!(
            a.agent.selected_pair().is_some() && b.agent.selected_pair().is_some(),
            "seed {seed}: not connected under 30% loss"
        );
    }
}

#[test]
fn nothing_reachable_fails_after_end_of_candidates() {
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    w.cut = true;
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(30));
    assert_eq!(a.agent.connection_state(), ConnectionState::Failed);
    assert!(a.events.iter().any(|(_, e)| matches!(
        e,
        Event::ConnectionState {
            state: ConnectionState::Failed,
            reason: StateReason::AllPairsFailed
        }
    )));
}

#[test]
fn forged_and_unauthenticated_checks_are_dropped_and_never_answered() {
    use weft_stun::attr::{IceControlled, Priority, Username};
    use weft_stun::{MessageBuilder, MessageType, TransactionId};
    let w = Wire::new(25);
    let (mut a, b) = pair(&mut { w }, false);
    let now = Instant::now();
    a.agent
        .set_remote_credentials(now, b.agent.local_credentials().clone());
    while a.agent.poll_output().is_some() {}
    let ours = a.agent.local_credentials().clone();
    let attacker: SocketAddr = "203.0.113.66:666".parse().unwrap();
    let build = |user: &str, pwd: Option<&str>, fp: bool| {
        let mut buf = [0u8; 200];
        let mut m = MessageBuilder::new(
            &mut buf,
            MessageType::BINDING_REQUEST,
            TransactionId([7; 12]),
        )
        .unwrap();
        m.add(&Username(user)).unwrap();
        m.add(&Priority(1)).unwrap();
        m.add(&IceControlled(1)).unwrap();
        if let Some(p) = pwd {
            m.add_message_integrity(p.as_bytes()).unwrap();
        }
        if fp {
            m.add_fingerprint().unwrap();
        }
        m.finish().to_vec()
    };
    let cases = [
        (
            build(
                &format!("{}:x", ours.ufrag),
                Some("wrong password 12345678"),
                true,
            ),
            "bad MI",
        ),
        (build(&format!("{}:x", ours.ufrag), None, true), "no MI"),
        (build("nobody:x", Some(&ours.pwd), true), "wrong user"),
        (
            build(&format!("{}:x", ours.ufrag), Some(&ours.pwd), false),
            "no FINGERPRINT",
        ),
    ];
    for (bytes, what) in &cases {
        let r = a.agent.handle_receive(now, a.addr, attacker, bytes);
        assert!(matches!(r, Received::Dropped(_)), "{what}: {r:?}");
        assert!(a.agent.poll_output().is_none(), "{what}: answered");
    }
    let s = a.agent.stats();
    assert_eq!(s.dropped_bad_integrity, 2);
    assert_eq!(s.dropped_wrong_username, 1);
    assert_eq!(s.dropped_bad_fingerprint, 1);
    assert_eq!(s.response_bytes, 0);
    assert!(a
        .agent
        .remote_candidates()
        .iter()
        .all(|c| c.addr != attacker));
    // Data from a stranger is not passed up.
    let r = a
        .agent
        .handle_receive(now, a.addr, attacker, &[23, 254, 253, 0, 0]);
    assert!(matches!(r, Received::Dropped(_)));
    // A valid check is answered, and the answer is no bigger than the check.
    let good = build(&format!("{}:x", ours.ufrag), Some(&ours.pwd), true);
    let r = a.agent.handle_receive(now, a.addr, attacker, &good);
    assert_eq!(r, Received::Handled);
    let mut answered = false;
    while let Some(o) = a.agent.poll_output() {
        if let Output::Transmit(t) = o {
            if t.dst == attacker {
                answered = true;
                assert!(t.bytes.len() <= good.len());
            }
        }
    }
    assert!(answered);
}

#[test]
fn remote_candidate_limit_caps_state() {
    let config = AgentConfig {
        max_remote_candidates: 10,
        max_pairs: 8,
        ..AgentConfig::default()
    };
    let mut agent = Agent::new(config, [5; 32]);
    let now = Instant::now();
    agent.add_host_address(now, "192.0.2.1:4000".parse().unwrap());
    let mut accepted = 0;
    for i in 0..100u16 {
        let addr: SocketAddr = format!("198.51.100.{}:{}", i % 250 + 1, 1000 + i)
            .parse()
            .unwrap();
        if agent.add_remote_candidate(now, Candidate::remote_host(addr, "1")) {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 10);
    assert_eq!(agent.remote_candidates().len(), 10);
    assert!(agent.pairs().len() <= 8);
    assert!(agent.stats().dropped_limit >= 90);
}

#[test]
fn ice_restart_while_data_flows() {
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(3));
    let old = a.agent.local_credentials().clone();
    // Restart: A makes new credentials; B answers with its own (JSEP offer/answer).
    let now = w.now;
    let na = a.agent.restart(now, None);
    assert_ne!(na, old);
    b.agent.set_remote_credentials(now, na);
    let nb = b.agent.restart(now, None);
    a.agent.set_remote_credentials(now, nb);
    // Data keeps flowing on the old pair while the new generation is checked.
    a.agent.send(now, b"during restart").unwrap();
    w.run(&mut a, &mut b, Duration::from_millis(3100));
    assert_eq!(b.data, vec![b"during restart".to_vec()]);
    let before = a
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::SelectedPair { .. }))
        .count();
    for c in b.agent.local_candidates() {
        a.agent.add_remote_candidate(w.now, c);
    }
    for c in a.agent.local_candidates() {
        b.agent.add_remote_candidate(w.now, c);
    }
    a.agent.end_of_remote_candidates(w.now);
    b.agent.end_of_remote_candidates(w.now);
    w.run(&mut a, &mut b, Duration::from_secs(6));
    let after = a
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::SelectedPair { .. }))
        .count();
    assert_eq!(
        after,
        before + 1,
        "a new pair of the new generation was selected"
    );
    assert_eq!(a.agent.connection_state(), ConnectionState::Completed);
    assert!(!states(&a).contains(&ConnectionState::Disconnected));
    a.agent.send(w.now, b"after restart").unwrap();
    w.run(&mut a, &mut b, Duration::from_secs(7));
    assert_eq!(b.data.last().unwrap(), b"after restart");
    // Checks with the old credentials are no longer answered.
    assert_eq!(
        a.agent.local_credentials().ufrag,
        a.agent.local_credentials().ufrag
    );
}

#[test]
fn dual_stack_multi_homed_prefers_ipv6_then_the_first_interface() {
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    let now = w.now;
    for (side, extra) in [
        (&mut a, ["[2001:db8::1]:4000", "192.0.2.99:4001"]),
        (&mut b, ["[2001:db8::2]:5000", "198.51.100.99:5001"]),
    ] {
        for e in extra {
            let addr: SocketAddr = e.parse().unwrap();
            assert!(side.agent.add_host_address(now, addr));
            side.extra.push(addr);
        }
        assert!(
            !side.agent.add_host_address(now, side.addr),
            "duplicate refused"
        );
    }
    let cands = a.agent.local_candidates();
    assert_eq!(cands.len(), 3);
    // RFC 8445 §5.1.1.3: one foundation per base IP for host candidates.
    let mut f: Vec<&str> = cands.iter().map(|c| c.foundation.as_str()).collect();
    f.dedup();
    assert_eq!(f.len(), 3);
    let prio = |addr: &str| {
        let addr: SocketAddr = addr.parse().unwrap();
        cands.iter().find(|c| c.addr == addr).unwrap().priority
    };
    // IPv6 first, then the first IPv4 interface handed in, then the second.
    assert!(prio("[2001:db8::1]:4000") > prio("192.0.2.1:4000"));
    assert!(prio("192.0.2.1:4000") > prio("192.0.2.99:4001"));
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(8));
    // Pairs only within a family: 2×2 IPv4 + 1×1 IPv6.
    assert_eq!(a.agent.pairs().len(), 5);
    let sel = a.agent.selected_pair().unwrap();
    assert!(
        sel.local.addr.is_ipv6() && sel.remote.addr.is_ipv6(),
        "{sel:?}"
    );
    assert_eq!(a.agent.connection_state(), ConnectionState::Completed);
    b.agent.send(w.now, b"over v6").unwrap();
    w.run(&mut a, &mut b, Duration::from_secs(9));
    assert_eq!(a.data, vec![b"over v6".to_vec()]);
}

#[test]
fn a_better_pair_that_succeeds_later_is_nominated_in_its_turn() {
    // The IPv6 path (the highest-priority pair) has 1.5 s of extra delay: the IPv4 pair is
    // nominated after `nomination_delay`, then the IPv6 pair succeeds and takes over.
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    let now = w.now;
    let a6: SocketAddr = "[2001:db8::1]:4000".parse().unwrap();
    let b6: SocketAddr = "[2001:db8::2]:5000".parse().unwrap();
    a.agent.add_host_address(now, a6);
    a.extra.push(a6);
    b.agent.add_host_address(now, b6);
    b.extra.push(b6);
    w.slow = vec![
        (a6, Duration::from_millis(1500)),
        (b6, Duration::from_millis(1500)),
    ];
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(10));
    for s in [&a, &b] {
        let selected: Vec<(Duration, SocketAddr)> = s
            .events
            .iter()
            .filter_map(|(t, e)| match e {
                Event::SelectedPair { local, .. } => Some((*t, local.addr)),
                _ => None,
            })
            .collect();
        assert_eq!(selected.len(), 2, "{selected:?}");
        assert!(
            selected[0].1.is_ipv4() && selected[1].1.is_ipv6(),
            "{selected:?}"
        );
        assert!(selected[0].0 < Duration::from_secs(1), "{selected:?}");
    }
    assert_eq!(a.agent.connection_state(), ConnectionState::Completed);
    assert!(a.agent.selected_pair().unwrap().local.addr.is_ipv6());
}

#[test]
fn end_of_candidates_with_no_pair_waits_for_the_peers_checks() {
    // What Firefox offers: credentials, only `.local` mDNS candidates (which weft leaves
    // unresolved, so B gets none) and a=end-of-candidates. B must not fail at once: A's
    // checks make a peer-reflexive pair.
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    let now = w.now;
    b.agent
        .set_remote_credentials(now, a.agent.local_credentials().clone());
    b.agent.end_of_remote_candidates(now);
    w.run(&mut a, &mut b, Duration::from_secs(3));
    assert_ne!(b.agent.connection_state(), ConnectionState::Failed);
    let now = w.now;
    a.agent
        .set_remote_credentials(now, b.agent.local_credentials().clone());
    for c in b.agent.local_candidates() {
        a.agent.add_remote_candidate(now, c);
    }
    a.agent.end_of_remote_candidates(now);
    w.run(&mut a, &mut b, Duration::from_secs(7));
    let sel = b.agent.selected_pair().expect("B connected");
    assert_eq!(sel.remote.kind, CandidateKind::PeerReflexive);
    assert!(a.agent.selected_pair().is_some());
    // And the wait does not fail it later (`run` goes to a time since the wire's start).
    w.run(&mut a, &mut b, Duration::from_secs(15));
    assert!(matches!(
        b.agent.connection_state(),
        ConnectionState::Connected | ConnectionState::Completed
    ));
}

#[test]
fn end_of_candidates_with_no_pair_fails_after_the_wait() {
    let mut w = Wire::new(25);
    let (mut a, mut b) = pair(&mut w, false);
    let now = w.now;
    b.agent
        .set_remote_credentials(now, a.agent.local_credentials().clone());
    b.agent.end_of_remote_candidates(now);
    let wait = AgentConfig::default().no_pairs_timeout;
    // (`run` goes to a time since the wire's start.)
    w.run(&mut a, &mut b, wait - Duration::from_millis(100));
    assert_ne!(b.agent.connection_state(), ConnectionState::Failed);
    w.run(&mut a, &mut b, wait + Duration::from_millis(100));
    assert_eq!(b.agent.connection_state(), ConnectionState::Failed);
    assert!(b.events.iter().any(|(_, e)| matches!(
        e,
        Event::ConnectionState {
            state: ConnectionState::Failed,
            reason: StateReason::AllPairsFailed
        }
    )));
}

#[test]
fn selected_path_dies_beside_a_live_one() {
    // A has two interfaces; the selected pair goes through the first, which then dies. The
    // second pair was checked and works: the controlling agent nominates it when the
    // selected one goes quiet, and both sides move there and stay connected.
    let mut w = Wire::new(25);
    let config = |role| AgentConfig {
        role,
        consent_interval: Duration::from_millis(500),
        disconnected_timeout: Duration::from_secs(1),
        consent_timeout: Duration::from_secs(3),
        ..AgentConfig::default()
    };
    let mut a = side(Role::Controlling, "192.0.2.1:4000", 1, false);
    a.agent = Agent::new(config(Role::Controlling), [1; 32]);
    let mut b = side(Role::Controlled, "198.51.100.2:5000", 2, false);
    b.agent = Agent::new(config(Role::Controlled), [2; 32]);
    let now = w.now;
    assert!(a.agent.add_host_address(now, a.addr));
    let second: SocketAddr = "192.0.2.99:4001".parse().unwrap();
    assert!(a.agent.add_host_address(now, second));
    a.extra.push(second);
    assert!(b.agent.add_host_address(now, b.addr));
    signal(&mut w, &mut a, &mut b);
    w.run(&mut a, &mut b, Duration::from_secs(5));
    let sel = a.agent.selected_pair().unwrap();
    assert_eq!(sel.local.addr, a.addr);
    w.dead.push(a.addr);
    w.run(&mut a, &mut b, Duration::from_secs(25));
    for (name, s) in [("A", &a), ("B", &b)] {
        let state = s.agent.connection_state();
        assert!(
            matches!(
                state,
                ConnectionState::Connected | ConnectionState::Completed
            ),
            "{name}: {state:?}"
        );
        let sel = s.agent.selected_pair().expect("a selected pair");
        assert!(
            sel.local.addr == second || sel.remote.addr == second,
            "{name} moved to the live path: {sel:?}"
        );
        // It went through `disconnected` and came back.
        assert!(s.events.iter().any(|(_, e)| matches!(
            e,
            Event::ConnectionState {
                state: ConnectionState::Disconnected,
                ..
            }
        )));
    }
    // Data flows on the new path.
    a.agent.send(w.now, b"after the move").unwrap();
    w.run(&mut a, &mut b, Duration::from_secs(26));
    assert_eq!(
        b.data.last().map(Vec::as_slice),
        Some(&b"after the move"[..])
    );
}
