//! Two agents across `weft-netsim`: every pair of NAT types (RFC 4787) with a STUN and a
//! TURN server on the public network, the outcome RFC 4787 predicts, and the TURN client
//! against the simulated TURN server (401, 438, permissions, channels, refresh, close).
//! Every failure prints its seed.

// The virtual clock's origin is the one real clock read.
#![allow(clippy::disallowed_methods)]

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use weft_ice::{
    Agent, AgentConfig, CandidateKind, CandidatePolicy, ConnectionState, Event, GatheringState,
    Output, Received, Role, TurnServer,
};
use weft_netsim::{HostId, LinkConfig, NatConfig, Network};

const STUN: &str = "192.0.2.10:3478";
const TURN: &str = "192.0.2.20:3478";
const RELAY_IP: &str = "192.0.2.21";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nat {
    None,
    FullCone,
    Restricted,
    PortRestricted,
    Symmetric,
}

impl Nat {
    const ALL: [Nat; 5] = [
        Nat::None,
        Nat::FullCone,
        Nat::Restricted,
        Nat::PortRestricted,
        Nat::Symmetric,
    ];

    fn config(self) -> Option<NatConfig> {
        match self {
            Nat::None => None,
            Nat::FullCone => Some(NatConfig::full_cone()),
            Nat::Restricted => Some(NatConfig::restricted_cone()),
            Nat::PortRestricted => Some(NatConfig::port_restricted_cone()),
            Nat::Symmetric => Some(NatConfig::symmetric()),
        }
    }

    fn endpoint_independent_mapping(self) -> bool {
        !matches!(self, Nat::Symmetric)
    }
}

/// RFC 4787 prediction: a direct path exists unless one side maps per destination
/// (address-and-port-dependent mapping) and the other filters on address and port (or
/// maps per destination too), or both do: then the port a side learns from a STUN server or
/// a peer's check is not the one the other side's filter or mapping will accept.
fn predicted_direct(a: Nat, b: Nat) -> bool {
    let blocks = |sym: Nat, other: Nat| {
        !sym.endpoint_independent_mapping() && matches!(other, Nat::PortRestricted | Nat::Symmetric)
    };
    !(blocks(a, b) || blocks(b, a))
}

struct Peer {
    agent: Agent,
    host: HostId,
    addr: SocketAddr,
    events: Vec<(Duration, Event)>,
    data: Vec<Vec<u8>>,
}

struct Sim {
    net: Network,
    peers: [Peer; 2],
    /// STUN transactions both agents had started when A first selected a pair.
    txns_at_selection: Option<u64>,
}

struct Setup {
    seed: u64,
    nats: [Nat; 2],
    policy: CandidatePolicy,
    one_way_ms: u64,
    loss: f64,
}

fn config(role: Role, policy: CandidatePolicy) -> AgentConfig {
    AgentConfig {
        role,
        policy,
        stun_servers: vec![STUN.parse().unwrap()],
        turn_servers: vec![TurnServer {
            addr: TURN.parse().unwrap(),
            username: "user".into(),
            password: "secret".into(),
        }],
        ..AgentConfig::default()
    }
}

impl Sim {
    fn new(s: &Setup) -> Self {
        let start = Instant::now();
        let mut net = Network::new(s.seed, start);
        // One way between the agents: host link + NAT uplink on each side.
        let half = Duration::from_micros(s.one_way_ms * 1000 / 4);
        // Loss on the first agent's access link only: every path of the call (to the
        // other agent, to the STUN and TURN servers) loses `loss` of its datagrams in each
        // direction.
        let lossy = LinkConfig {
            loss: s.loss,
            ..LinkConfig::with_delay(half)
        };
        net.add_stun_server(STUN.parse().unwrap(), LinkConfig::with_delay(half));
        net.add_turn_server(
            TURN.parse().unwrap(),
            RELAY_IP.parse().unwrap(),
            "weft.test",
            &[("user", "secret")],
            LinkConfig::with_delay(half),
        );
        let mut peers = Vec::new();
        for (i, nat) in s.nats.iter().enumerate() {
            let link = if i == 0 {
                lossy.clone()
            } else {
                LinkConfig::with_delay(half)
            };
            let public: IpAddr = format!("203.0.113.{}", 10 + i).parse().unwrap();
            let private: IpAddr = format!("10.{}.0.2", i + 1).parse().unwrap();
            let (host, ip) = match nat.config() {
                None => {
                    // Public host: its own link carries both halves of the delay.
                    let l = LinkConfig {
                        delay: half * 2,
                        ..link.clone()
                    };
                    (net.add_host(public, l), public)
                }
                Some(c) => {
                    let n = net.add_nat(public, c, LinkConfig::with_delay(half));
                    (net.add_host_behind(n, private, link.clone()), private)
                }
            };
            let addr = SocketAddr::new(ip, 5000 + i as u16);
            let role = if i == 0 {
                Role::Controlling
            } else {
                Role::Controlled
            };
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&s.seed.to_le_bytes());
            seed[8] = i as u8;
            let mut agent = Agent::new(config(role, s.policy), seed);
            agent.add_host_address(start, addr);
            peers.push(Peer {
                agent,
                host,
                addr,
                events: Vec::new(),
                data: Vec::new(),
            });
        }
        let [a, b]: [Peer; 2] = peers.try_into().ok().unwrap();
        let mut sim = Sim {
            net,
            peers: [a, b],
            txns_at_selection: None,
        };
        let (ca, cb) = (
            sim.peers[0].agent.local_credentials().clone(),
            sim.peers[1].agent.local_credentials().clone(),
        );
        sim.peers[0].agent.set_remote_credentials(start, cb);
        sim.peers[1].agent.set_remote_credentials(start, ca);
        sim
    }

    fn elapsed(&self) -> Duration {
        self.net.now() - self.net.start()
    }

    /// Drains both agents: transmits into the network, candidates trickled to the other
    /// side at once (signalling without delay), end-of-candidates when gathering completes.
    fn drain(&mut self) {
        let now = self.net.now();
        let t = self.elapsed();
        for i in 0..2 {
            while let Some(o) = self.peers[i].agent.poll_output() {
                match o {
                    Output::Transmit(tx) => {
                        assert_eq!(tx.src, self.peers[i].addr);
                        self.net.send(tx.src, tx.dst, &tx.bytes);
                    }
                    Output::Event(e) => {
                        match &e {
                            Event::LocalCandidate(c) => {
                                self.peers[1 - i].agent.add_remote_candidate(now, c.clone());
                            }
                            Event::GatheringState(GatheringState::Complete) => {
                                self.peers[1 - i].agent.end_of_remote_candidates(now);
                            }
                            Event::SelectedPair { .. }
                                if i == 0 && self.txns_at_selection.is_none() =>
                            {
                                self.txns_at_selection = Some(
                                    self.peers[0].agent.stats().transactions_started
                                        + self.peers[1].agent.stats().transactions_started,
                                );
                            }
                            _ => {}
                        }
                        self.peers[i].events.push((t, e));
                    }
                }
            }
        }
    }

    fn run_for(&mut self, d: Duration) {
        let end = self.net.now() + d;
        loop {
            self.drain();
            let next = [
                self.peers[0].agent.poll_timeout(),
                self.peers[1].agent.poll_timeout(),
                self.net.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else { break };
            if next > end {
                break;
            }
            let next = next.max(self.net.now());
            self.net.advance(next);
            while let Some(d) = self.net.poll_receive() {
                let i = if d.host == self.peers[0].host { 0 } else { 1 };
                let p = &mut self.peers[i];
                if let Received::Data { payload, .. } =
                    p.agent.handle_receive(next, d.dst, d.src, &d.bytes)
                {
                    p.data.push(payload.to_vec());
                }
            }
            for p in &mut self.peers {
                if p.agent.poll_timeout().is_some_and(|t| t <= next) {
                    p.agent.handle_timeout(next);
                }
            }
        }
        if self.net.now() < end {
            self.net.advance(end);
        }
    }

    fn first_selected(&self, i: usize) -> Option<Duration> {
        self.peers[i]
            .events
            .iter()
            .find(|(_, e)| matches!(e, Event::SelectedPair { .. }))
            .map(|(t, _)| *t)
    }
}

fn is_relayed(sim: &Sim, i: usize) -> Option<bool> {
    let p = sim.peers[i].agent.selected_pair()?;
    Some(p.local.kind == CandidateKind::Relayed || p.remote.kind == CandidateKind::Relayed)
}

#[test]
fn nat_matrix_outcomes_match_rfc4787_predictions() {
    let mut report = String::from(
        "\nNAT A / NAT B                  outcome  predicted  A's pair local/remote  first nomination  STUN txns A+B by then\n",
    );
    let mut failures = Vec::new();
    for (k, a) in Nat::ALL.iter().enumerate() {
        for (l, b) in Nat::ALL.iter().enumerate() {
            let seed = 1000 + (k * 5 + l) as u64;
            let setup = Setup {
                seed,
                nats: [*a, *b],
                policy: CandidatePolicy::All,
                one_way_ms: 25,
                loss: 0.0,
            };
            let mut sim = Sim::new(&setup);
            sim.run_for(Duration::from_secs(15));
            let direct = predicted_direct(*a, *b);
            let relayed = [is_relayed(&sim, 0), is_relayed(&sim, 1)];
            let sel = sim.peers[0].agent.selected_pair();
            let kinds = sel
                .as_ref()
                .map(|p| format!("{}/{}", p.local.kind, p.remote.kind))
                .unwrap_or_else(|| "-".into());
            let outcome = match relayed {
                [Some(false), Some(false)] => "direct",
                [Some(true), Some(true)] => "relay",
                _ => "FAILED",
            };
            let txns = sim.txns_at_selection.unwrap_or(0);
            report.push_str(&format!(
                "{:<30} {:<8} {:<10} {:<22} {:>13.0} ms  {}\n",
                format!("{a:?}/{b:?}"),
                outcome,
                if direct { "direct" } else { "relay" },
                kinds,
                sim.first_selected(0)
                    .map_or(f64::NAN, |t| t.as_secs_f64() * 1000.0),
                txns
            ));
            let ok = relayed == [Some(!direct), Some(!direct)]
                && sim.peers.iter().all(|p| {
                    matches!(
                        p.agent.connection_state(),
                        ConnectionState::Connected | ConnectionState::Completed
                    )
                });
            if !ok {
                failures.push(format!("{a:?}/{b:?} (seed {seed}): {outcome}"));
            }
            // RFC 8445 §5.1.3: a public host's server-reflexive candidate equals its host
            // candidate and is not signalled; behind an endpoint-independent NAT the STUN
            // server and the TURN server (its Allocate's XOR-MAPPED-ADDRESS) see one mapping,
            // kept once; behind a symmetric NAT they see two.
            for (i, nat) in [a, b].into_iter().enumerate() {
                let srflx = sim.peers[i]
                    .agent
                    .local_candidates()
                    .iter()
                    .filter(|c| c.kind == CandidateKind::ServerReflexive)
                    .count();
                let expected = match nat {
                    Nat::None => 0,
                    Nat::Symmetric => 2,
                    _ => 1,
                };
                if srflx != expected {
                    failures.push(format!(
                        "{a:?}/{b:?} (seed {seed}): side {i} has {srflx} srflx"
                    ));
                }
            }
        }
    }
    eprintln!("{report}");
    assert!(failures.is_empty(), "mismatches: {failures:#?}{report}");
}

#[test]
fn relay_only_policy_connects_through_turn_and_carries_data() {
    let setup = Setup {
        seed: 77,
        nats: [Nat::FullCone, Nat::None],
        policy: CandidatePolicy::Relay,
        one_way_ms: 25,
        loss: 0.0,
    };
    let mut sim = Sim::new(&setup);
    sim.run_for(Duration::from_secs(5));
    for i in 0..2 {
        let p = sim.peers[i]
            .agent
            .selected_pair()
            .unwrap_or_else(|| panic!("seed {}: side {i} not connected", setup.seed));
        assert_eq!(p.local.kind, CandidateKind::Relayed, "seed {}", setup.seed);
        assert!(sim.peers[i]
            .agent
            .local_candidates()
            .iter()
            .all(|c| c.kind == CandidateKind::Relayed));
    }
    let now = sim.net.now();
    sim.peers[0].agent.send(now, b"through the relay").unwrap();
    sim.peers[1].agent.send(now, b"and back").unwrap();
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.peers[1].data, vec![b"through the relay".to_vec()]);
    assert_eq!(sim.peers[0].data, vec![b"and back".to_vec()]);
    // After selection the data path uses a channel (RFC 8656 §12): four bytes of framing.
    let allocs = sim.net.turn_allocations(TURN.parse().unwrap());
    assert_eq!(allocs.len(), 2);
    // Close: both allocations are deleted on the server.
    let now = sim.net.now();
    for p in &mut sim.peers {
        p.agent.close(now);
    }
    sim.run_for(Duration::from_secs(1));
    assert!(sim.net.turn_allocations(TURN.parse().unwrap()).is_empty());
}

#[test]
fn turn_allocation_outlives_its_lifetime_by_refreshing() {
    let setup = Setup {
        seed: 5,
        nats: [Nat::PortRestricted, Nat::Symmetric],
        policy: CandidatePolicy::Relay,
        one_way_ms: 25,
        loss: 0.0,
    };
    let mut sim = Sim::new(&setup);
    // Ten minutes of lifetime, 25 minutes of call: two refreshes, permission and channel
    // refreshes every few minutes, consent all along.
    sim.run_for(Duration::from_secs(25 * 60));
    for p in &sim.peers {
        assert_eq!(
            p.agent.connection_state(),
            ConnectionState::Completed,
            "seed {}",
            setup.seed
        );
    }
    assert_eq!(sim.net.turn_allocations(TURN.parse().unwrap()).len(), 2);
    let now = sim.net.now();
    sim.peers[0].agent.send(now, b"late").unwrap();
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.peers[1].data, vec![b"late".to_vec()]);
}

#[test]
fn stale_nonce_is_followed() {
    let setup = Setup {
        seed: 9,
        nats: [Nat::None, Nat::None],
        policy: CandidatePolicy::Relay,
        one_way_ms: 25,
        loss: 0.0,
    };
    let mut sim = Sim::new(&setup);
    // Nonces expire after 2 s: every later request meets 438 first (RFC 8489 §9.2.4).
    sim.net
        .set_turn_nonce_lifetime(TURN.parse().unwrap(), Duration::from_secs(2));
    sim.run_for(Duration::from_secs(8 * 60));
    for p in &sim.peers {
        assert_eq!(p.agent.connection_state(), ConnectionState::Completed);
    }
    assert_eq!(sim.net.turn_allocations(TURN.parse().unwrap()).len(), 2);
}

#[test]
fn nat_matrix_survives_30_percent_loss() {
    for seed in 0..6 {
        let setup = Setup {
            seed: 500 + seed,
            nats: [Nat::PortRestricted, Nat::Restricted],
            policy: CandidatePolicy::All,
            one_way_ms: 25,
            loss: 0.3,
        };
        let mut sim = Sim::new(&setup);
        sim.run_for(Duration::from_secs(20));
        for (i, p) in sim.peers.iter().enumerate() {
            assert!(
                p.agent.selected_pair().is_some(),
                "seed {}: side {i} not connected under 30% loss",
                setup.seed
            );
        }
    }
}

#[test]
fn same_seed_same_run() {
    let run = |seed| {
        let setup = Setup {
            seed,
            nats: [Nat::Symmetric, Nat::Restricted],
            policy: CandidatePolicy::All,
            one_way_ms: 25,
            loss: 0.1,
        };
        let mut sim = Sim::new(&setup);
        sim.run_for(Duration::from_secs(10));
        (sim.peers[0].events.clone(), sim.net.stats().clone())
    };
    let (e1, s1) = run(42);
    let (e2, s2) = run(42);
    assert_eq!(e1, e2);
    assert_eq!(format!("{s1:?}"), format!("{s2:?}"));
}
