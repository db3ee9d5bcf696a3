//! Two weft agents with the relay-only policy connect through a real TURN server nobody
//! here wrote: Debian's coturn on 127.0.0.1 (started by the test, user `test:test`). Each
//! allocates a relayed candidate (401 challenge, then success), the candidates are trickled,
//! checks run through Send/Data indications, the selected relay/relay pair gets a channel,
//! and application data crosses coturn both ways. Real sockets, real time.
//!
//! Without `turnserver` the test is skipped with a message, except under CI (`CI=true`),
//! where it fails; `scripts/setup` installs coturn.

// This test is the I/O driver: it reads the real clock and owns real sockets.
#![allow(clippy::disallowed_methods)]

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use weft_ice::{
    Agent, AgentConfig, CandidateKind, CandidatePolicy, ConnectionState, Event, GatheringState,
    Output, Received, Role, TurnServer,
};

struct Side {
    agent: Agent,
    sock: UdpSocket,
    addr: SocketAddr,
    data: Vec<Vec<u8>>,
    events: Vec<Event>,
    /// Every destination the agent sent to.
    sent_to: Vec<SocketAddr>,
}

fn side(role: Role, turn: SocketAddr, seed: u8) -> Side {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_nonblocking(true).unwrap();
    let addr = sock.local_addr().unwrap();
    let config = AgentConfig {
        role,
        policy: CandidatePolicy::Relay,
        turn_servers: vec![TurnServer {
            addr: turn,
            username: "test".into(),
            password: "test".into(),
        }],
        ..AgentConfig::default()
    };
    let mut agent = Agent::new(config, [seed; 32]);
    agent.add_host_address(Instant::now(), addr);
    Side {
        agent,
        sock,
        addr,
        data: Vec::new(),
        events: Vec::new(),
        sent_to: Vec::new(),
    }
}

/// Moves bytes and events for both sides until `done` holds or `limit` passes.
fn pump(sides: &mut [Side; 2], limit: Duration, done: impl Fn(&[Side; 2]) -> bool) -> bool {
    let end = Instant::now() + limit;
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        let now = Instant::now();
        for i in 0..2 {
            while let Some(o) = sides[i].agent.poll_output() {
                match o {
                    Output::Transmit(t) => {
                        assert_eq!(t.src, sides[i].addr);
                        sides[i].sock.send_to(&t.bytes, t.dst).unwrap();
                        sides[i].sent_to.push(t.dst);
                    }
                    Output::Event(e) => {
                        match &e {
                            Event::LocalCandidate(c) => {
                                sides[1 - i].agent.add_remote_candidate(now, c.clone());
                            }
                            Event::GatheringState(GatheringState::Complete) => {
                                sides[1 - i].agent.end_of_remote_candidates(now);
                            }
                            _ => {}
                        }
                        sides[i].events.push(e);
                    }
                }
            }
        }
        if done(sides) {
            return true;
        }
        let mut idle = true;
        for s in sides.iter_mut() {
            while let Ok((n, from)) = s.sock.recv_from(&mut buf) {
                idle = false;
                let now = Instant::now();
                if let Received::Data { payload, .. } =
                    s.agent.handle_receive(now, s.addr, from, &buf[..n])
                {
                    s.data.push(payload.to_vec());
                }
            }
            let now = Instant::now();
            if s.agent.poll_timeout().is_some_and(|t| t <= now) {
                s.agent.handle_timeout(now);
                idle = false;
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    done(sides)
}

#[test]
fn two_agents_connect_relay_only_through_coturn() {
    let Some(mut server) = weft_testkit::start_coturn() else {
        return;
    };
    // coturn needs a moment to bind; the agents' Allocate retransmissions cover it.
    let mut sides = [
        side(Role::Controlling, server.addr, 1),
        side(Role::Controlled, server.addr, 2),
    ];
    let now = Instant::now();
    let (ca, cb) = (
        sides[0].agent.local_credentials().clone(),
        sides[1].agent.local_credentials().clone(),
    );
    sides[0].agent.set_remote_credentials(now, cb);
    sides[1].agent.set_remote_credentials(now, ca);
    let connected = pump(&mut sides, Duration::from_secs(15), |s| {
        s.iter()
            .all(|x| x.agent.connection_state() == ConnectionState::Completed)
    });
    if let Some(status) = server.exited() {
        panic!("turnserver exited with {status}:\n{}", server.log());
    }
    assert!(
        connected,
        "not connected: {:?} / {:?}\n{:#?}\ncoturn log:\n{}",
        sides[0].agent.connection_state(),
        sides[1].agent.connection_state(),
        sides[0].events,
        server.log()
    );
    for s in &sides {
        let p = s.agent.selected_pair().unwrap();
        assert_eq!(p.local.kind, CandidateKind::Relayed);
        assert_eq!(p.local.addr.ip(), server.addr.ip());
        // The relayed address is coturn's, not our socket.
        assert_ne!(p.local.addr, s.addr);
        assert_eq!(
            p.local.related,
            Some(s.addr),
            "XOR-MAPPED-ADDRESS of the Allocate"
        );
        println!("{} selected {} -> {}", s.addr, p.local, p.remote);
    }
    // Data both ways, several datagrams, through coturn (first Send/Data indications,
    // then the channel bound for the selected pair).
    for i in 0..20u8 {
        let now = Instant::now();
        sides[0].agent.send(now, &[0x80, i, 1, 2, 3]).unwrap();
        sides[1].agent.send(now, &[0x80, i, 9, 9]).unwrap();
        pump(&mut sides, Duration::from_millis(20), |_| false);
    }
    pump(&mut sides, Duration::from_secs(2), |s| {
        s.iter().all(|x| x.data.len() >= 20)
    });
    assert_eq!(sides[1].data.len(), 20, "A to B through coturn");
    assert_eq!(sides[0].data.len(), 20, "B to A through coturn");
    assert_eq!(sides[1].data[7], vec![0x80, 7, 1, 2, 3]);
    assert_eq!(sides[0].data[19], vec![0x80, 19, 9, 9]);
    // Relay-only: every datagram either agent sent went to coturn, none to the other.
    for s in &sides {
        assert!(s.sent_to.iter().all(|d| *d == server.addr));
    }
    // Close deletes the allocations (Refresh with LIFETIME 0) and ends all timers.
    let now = Instant::now();
    for s in &mut sides {
        let before = s.sent_to.len();
        s.agent.close(now);
        assert_eq!(s.agent.connection_state(), ConnectionState::Closed);
        assert_eq!(s.agent.poll_timeout(), None);
        let mut dealloc = 0;
        while let Some(o) = s.agent.poll_output() {
            if let Output::Transmit(t) = o {
                assert_eq!(t.dst, server.addr);
                let m = weft_stun::Message::parse(&t.bytes).unwrap();
                assert_eq!(m.method(), weft_stun::Method::REFRESH);
                assert_eq!(m.get::<weft_stun::attr::Lifetime>().unwrap().unwrap().0, 0);
                s.sock.send_to(&t.bytes, t.dst).unwrap();
                dealloc += 1;
            }
        }
        assert_eq!(dealloc, 1, "one Refresh(0) after {before} datagrams");
    }
}
