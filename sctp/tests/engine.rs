//! weft's own SCTP engine (`weft_sctp::engine`) against sctp-proto and against itself, over
//! weft-netsim on the virtual clock: setup in both roles and with simultaneous INITs,
//! ordered and unordered messages of 1 byte to 64 KiB at 0, 5 and 10 % loss with jitter,
//! reordering and duplication, shutdown, hostile input, and a goodput comparison.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sctp_proto as sp;
use weft_netsim::{LinkConfig, Network};
use weft_sctp::engine::{Engine, EngineConfig, EngineEvent, EngineState};

const PPID_BINARY: u32 = 53;

/// One end of the association, whichever stack it runs.
trait Side {
    fn name(&self) -> &'static str;
    fn connect(&mut self, now: Instant);
    fn handle(&mut self, now: Instant, packet: &[u8]);
    fn transmit(&mut self, now: Instant, out: &mut Vec<Vec<u8>>);
    fn poll_timeout(&self) -> Option<Instant>;
    fn handle_timeout(&mut self, now: Instant);
    fn send(&mut self, stream: u16, unordered: bool, data: &[u8]) -> bool;
    /// Messages received so far: (stream, data).
    fn received(&mut self) -> &mut Vec<(u16, Vec<u8>)>;
    fn established(&self) -> bool;
    fn closed(&self) -> bool;
    fn shutdown(&mut self, now: Instant);
    fn buffered(&mut self) -> usize;
    fn stats(&self) -> String {
        String::new()
    }
    /// Resets an outgoing stream (RFC 6525), as closing a data channel does.
    fn reset(&mut self, stream: u16);
    /// Streams the peer reset, and ours the peer reset for us.
    fn resets(&self) -> (Vec<u16>, Vec<u16>);
}

struct EngineSide {
    e: Engine,
    incoming_reset: Vec<u16>,
    outgoing_reset: Vec<u16>,
    got: Vec<(u16, Vec<u8>)>,
    established: bool,
    closed: bool,
}

impl EngineSide {
    fn new(now: Instant, seed: u64) -> EngineSide {
        EngineSide::with_config(now, seed, EngineConfig::default())
    }
    fn with_config(now: Instant, seed: u64, config: EngineConfig) -> EngineSide {
        EngineSide {
            e: Engine::new(config, now, seed),
            incoming_reset: Vec::new(),
            outgoing_reset: Vec::new(),
            got: Vec::new(),
            established: false,
            closed: false,
        }
    }
    fn drain(&mut self) {
        while let Some(ev) = self.e.poll_event() {
            match ev {
                EngineEvent::Established => self.established = true,
                EngineEvent::Message { stream, data, .. } => self.got.push((stream, data)),
                EngineEvent::Closed(_) => self.closed = true,
                EngineEvent::IncomingStreamsReset(s) => self.incoming_reset.extend(s),
                EngineEvent::OutgoingStreamsReset(s) => self.outgoing_reset.extend(s),
                _ => {}
            }
        }
    }
}

impl Side for EngineSide {
    fn name(&self) -> &'static str {
        "engine"
    }
    fn connect(&mut self, now: Instant) {
        self.e.connect(now);
    }
    fn handle(&mut self, now: Instant, packet: &[u8]) {
        self.e.handle_packet(now, packet);
        self.drain();
    }
    fn transmit(&mut self, now: Instant, out: &mut Vec<Vec<u8>>) {
        while let Some(p) = self.e.poll_transmit(now) {
            assert!(p.len() <= self.e.config().mtu, "packet over the MTU");
            out.push(p);
        }
        self.drain();
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.e.poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.e.handle_timeout(now);
        self.drain();
    }
    fn send(&mut self, stream: u16, unordered: bool, data: &[u8]) -> bool {
        self.e.send(stream, PPID_BINARY, unordered, data).is_ok()
    }
    fn received(&mut self) -> &mut Vec<(u16, Vec<u8>)> {
        &mut self.got
    }
    fn established(&self) -> bool {
        self.established
    }
    fn closed(&self) -> bool {
        self.closed && self.e.state() == EngineState::Closed
    }
    fn shutdown(&mut self, now: Instant) {
        self.e.shutdown(now);
    }
    fn buffered(&mut self) -> usize {
        self.e.buffered_amount()
    }
    fn stats(&self) -> String {
        format!("{:?}", self.e.stats())
    }
    fn reset(&mut self, stream: u16) {
        self.e.reset_streams(&[stream]).unwrap();
    }
    fn resets(&self) -> (Vec<u16>, Vec<u16>) {
        (self.incoming_reset.clone(), self.outgoing_reset.clone())
    }
}

const PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5000);

struct ProtoSide {
    endpoint: sp::Endpoint,
    assoc: Option<(sp::AssociationHandle, sp::Association)>,
    got: Vec<(u16, Vec<u8>)>,
    established: bool,
    closed: bool,
    opened: Vec<u16>,
    pending: VecDeque<(u16, bool, Bytes)>,
    incoming_reset: Vec<u16>,
    outgoing_reset: Vec<u16>,
}

fn proto_transport() -> Arc<sp::TransportConfig> {
    Arc::new(
        sp::TransportConfig::default()
            .with_max_receive_buffer_size(8 * 1024 * 1024)
            .with_max_send_message_size(256 * 1024)
            .with_max_receive_message_size(256 * 1024)
            .with_max_init_retransmits(None)
            .with_max_data_retransmits(None)
            .with_rto_initial_ms(1000)
            .with_rto_min_ms(400)
            .with_rto_max_ms(10_000),
    )
}

impl ProtoSide {
    fn new(server: bool) -> ProtoSide {
        let mut ec = sp::EndpointConfig::new();
        ec.max_payload_size(1200);
        let server_config = server.then(|| {
            let mut s = sp::ServerConfig::new();
            s.transport = proto_transport();
            Arc::new(s)
        });
        ProtoSide {
            endpoint: sp::Endpoint::new(Arc::new(ec), server_config),
            assoc: None,
            got: Vec::new(),
            established: false,
            closed: false,
            opened: Vec::new(),
            pending: VecDeque::new(),
            incoming_reset: Vec::new(),
            outgoing_reset: Vec::new(),
        }
    }
    fn drain(&mut self) {
        let Some((_, a)) = &mut self.assoc else {
            return;
        };
        while a.poll_endpoint_event().is_some() {}
        while let Some(ev) = a.poll() {
            match ev {
                sp::Event::Connected => self.established = true,
                sp::Event::AssociationLost { .. } | sp::Event::HandshakeFailed { .. } => {
                    self.closed = true
                }
                sp::Event::Stream(sp::StreamEvent::Finished { id }) => {
                    self.incoming_reset.push(id);
                    self.opened.retain(|s| *s != id);
                }
                sp::Event::Stream(sp::StreamEvent::ResetComplete { id }) => {
                    self.outgoing_reset.push(id);
                    self.opened.retain(|s| *s != id);
                }
                sp::Event::Stream(sp::StreamEvent::Opened { .. }) => {
                    while a.accept_stream().is_some() {}
                }
                sp::Event::Stream(sp::StreamEvent::Readable { id }) => loop {
                    let Ok(Some(chunks)) = a.stream(id).and_then(|mut s| s.read_sctp()) else {
                        break;
                    };
                    let mut buf = vec![0; chunks.len()];
                    let n = chunks.read(&mut buf).unwrap();
                    buf.truncate(n);
                    self.got.push((id, buf));
                },
                _ => {}
            }
        }
        if a.is_closed() {
            self.closed = true;
        }
        // Push queued messages while sctp-proto has room.
        while let Some((stream, unordered, data)) = self.pending.pop_front() {
            // A stream reset (either way) may have removed it.
            if a.stream(stream).is_err() {
                self.opened.retain(|s| *s != stream);
            }
            if !self.opened.contains(&stream) {
                if a.open_stream(stream, sp::PayloadProtocolIdentifier::Binary)
                    .is_err()
                {
                    self.pending.push_front((stream, unordered, data));
                    break;
                }
                self.opened.push(stream);
            }
            let Ok(mut s) = a.stream(stream) else {
                self.pending.push_front((stream, unordered, data));
                break;
            };
            s.set_reliability_params(unordered, sp::ReliabilityType::Reliable, 0)
                .unwrap();
            let full = s.buffered_amount().unwrap_or(0) > 4 * 1024 * 1024;
            let r = if full {
                Ok(0)
            } else {
                s.write_sctp(&data, sp::PayloadProtocolIdentifier::Binary)
            };
            if full || r.is_err() {
                self.pending.push_front((stream, unordered, data));
                break;
            }
        }
    }
}

impl Side for ProtoSide {
    fn name(&self) -> &'static str {
        "sctp-proto"
    }
    fn connect(&mut self, _now: Instant) {
        let mut c = sp::ClientConfig::new();
        c.transport = proto_transport();
        self.assoc = Some(self.endpoint.connect(c, PEER).unwrap());
    }
    fn handle(&mut self, now: Instant, packet: &[u8]) {
        match self
            .endpoint
            .handle(now, PEER, None, None, Bytes::copy_from_slice(packet))
        {
            Some((h, sp::DatagramEvent::NewAssociation(a))) if self.assoc.is_none() => {
                self.assoc = Some((h, a));
                self.endpoint.reject_new_associations();
            }
            Some((h, sp::DatagramEvent::AssociationEvent(ev))) => {
                if let Some((mine, a)) = &mut self.assoc {
                    if *mine == h {
                        a.handle_event(ev);
                    }
                }
            }
            _ => {}
        }
        self.drain();
    }
    fn transmit(&mut self, now: Instant, out: &mut Vec<Vec<u8>>) {
        self.drain();
        let mut push = |t: sp::Transmit| {
            if let sp::Payload::RawEncode(ps) = t.payload {
                out.extend(ps.into_iter().map(|p| p.to_vec()));
            }
        };
        if let Some((_, a)) = &mut self.assoc {
            while let Some(t) = a.poll_transmit(now) {
                push(t);
            }
        }
        while let Some(t) = self.endpoint.poll_transmit() {
            push(t);
        }
        // sctp-proto leaves the side that sent SHUTDOWN COMPLETE open (RFC 9260 §9.2
        // closes it); weft's wrapper closes it the same way.
        if out.iter().any(|p| p.get(12) == Some(&14)) {
            self.closed = true;
        }
        self.drain();
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.assoc.as_ref().and_then(|(_, a)| a.poll_timeout())
    }
    fn handle_timeout(&mut self, now: Instant) {
        if let Some((_, a)) = &mut self.assoc {
            a.handle_timeout(now);
        }
        self.drain();
    }
    fn send(&mut self, stream: u16, unordered: bool, data: &[u8]) -> bool {
        self.pending
            .push_back((stream, unordered, Bytes::copy_from_slice(data)));
        self.drain();
        true
    }
    fn received(&mut self) -> &mut Vec<(u16, Vec<u8>)> {
        &mut self.got
    }
    fn established(&self) -> bool {
        self.established
    }
    fn closed(&self) -> bool {
        self.closed
    }
    fn shutdown(&mut self, _now: Instant) {
        if let Some((_, a)) = &mut self.assoc {
            let _ = a.shutdown();
        }
    }
    fn reset(&mut self, stream: u16) {
        // sctp-proto may have closed the stream already when the peer reset it.
        if let Some((_, a)) = &mut self.assoc {
            if let Ok(mut s) = a.stream(stream) {
                s.close().unwrap();
            }
        }
    }
    fn resets(&self) -> (Vec<u16>, Vec<u16>) {
        (self.incoming_reset.clone(), self.outgoing_reset.clone())
    }
    fn buffered(&mut self) -> usize {
        let pending: usize = self.pending.iter().map(|p| p.2.len()).sum();
        let Some((_, a)) = &mut self.assoc else {
            return pending;
        };
        let ids = a.stream_ids();
        pending
            + ids
                .into_iter()
                .map(|id| a.stream(id).and_then(|s| s.buffered_amount()).unwrap_or(0))
                .sum::<usize>()
    }
}

struct Sim {
    net: Network,
    a: Box<dyn Side>,
    b: Box<dyn Side>,
    a_addr: SocketAddr,
    b_addr: SocketAddr,
    seed: u64,
}

impl Sim {
    fn new(
        seed: u64,
        link: LinkConfig,
        a: impl FnOnce(Instant) -> Box<dyn Side>,
        b: impl FnOnce(Instant) -> Box<dyn Side>,
    ) -> Sim {
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let mut net = Network::new(seed, start);
        net.add_host("10.0.0.1".parse().unwrap(), link.clone());
        net.add_host("10.0.0.2".parse().unwrap(), link);
        Sim {
            net,
            a: a(start),
            b: b(start),
            a_addr: "10.0.0.1:9".parse().unwrap(),
            b_addr: "10.0.0.2:9".parse().unwrap(),
            seed,
        }
    }

    fn now(&self) -> Instant {
        self.net.now()
    }

    fn flush(&mut self) {
        let now = self.now();
        let mut out = Vec::new();
        self.a.transmit(now, &mut out);
        for p in out.drain(..) {
            self.net.send(self.a_addr, self.b_addr, &p);
        }
        self.b.transmit(now, &mut out);
        for p in out.drain(..) {
            self.net.send(self.b_addr, self.a_addr, &p);
        }
    }

    fn step(&mut self) -> bool {
        let next = [
            self.net.poll_timeout(),
            self.a.poll_timeout(),
            self.b.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(t) = next else { return false };
        let t = t.max(self.net.now());
        self.net.advance(t);
        while let Some(d) = self.net.poll_receive() {
            if d.dst == self.a_addr {
                self.a.handle(t, &d.bytes);
            } else {
                self.b.handle(t, &d.bytes);
            }
        }
        if self.a.poll_timeout().is_some_and(|x| x <= t) {
            self.a.handle_timeout(t);
        }
        if self.b.poll_timeout().is_some_and(|x| x <= t) {
            self.b.handle_timeout(t);
        }
        self.flush();
        true
    }

    fn run_until(&mut self, limit: Duration, what: &str, mut done: impl FnMut(&mut Sim) -> bool) {
        let deadline = self.now() + limit;
        loop {
            self.flush();
            if done(self) {
                return;
            }
            self.flush();
            assert!(
                self.now() <= deadline,
                "{what}: virtual time limit passed ({} -> {}, seed {})",
                self.a.name(),
                self.b.name(),
                self.seed
            );
            if !self.step() {
                let (ra, rb) = (self.a.received().len(), self.b.received().len());
                panic!(
                    "{what}: nothing pending (seed {}); {} has {ra} messages, {} has {rb}; \
                     buffered {} / {}",
                    self.seed,
                    self.a.name(),
                    self.b.name(),
                    self.a.buffered(),
                    self.b.buffered()
                );
            }
        }
    }

    fn connect(&mut self) {
        let now = self.now();
        self.a.connect(now);
        self.run_until(Duration::from_secs(60), "connect", |s| {
            s.a.established() && s.b.established()
        });
    }

    fn shutdown(&mut self) {
        let now = self.now();
        self.a.shutdown(now);
        self.run_until(Duration::from_secs(120), "shutdown", |s| {
            s.a.closed() && s.b.closed()
        });
    }
}

fn link(loss: f64, delay_ms: u64) -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(delay_ms),
        jitter: Duration::from_millis(if loss > 0.0 { 4 } else { 0 }),
        loss,
        duplicate: if loss > 0.0 { 0.02 } else { 0.0 },
        reorder: if loss > 0.0 { 0.05 } else { 0.0 },
        reorder_delay: Duration::from_millis(15),
        mtu: 1500,
        ..LinkConfig::default()
    }
}

/// Message sizes from 1 byte to 64 KiB, seeded.
fn sizes(seed: u64, n: usize) -> Vec<usize> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (x >> 33) as usize;
            match i % 4 {
                0 => 1 + r % 100,
                1 => 1000 + r % 4000,
                2 => 1 + r % 65_536,
                _ => 65_536 - r % 16,
            }
        })
        .collect()
}

fn message(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
}

/// Sends `n` messages each way on stream 1 and checks they all arrive whole and in order.
fn exchange(sim: &mut Sim, n: usize, unordered: bool) {
    let sz = sizes(sim.seed, n);
    for (i, &len) in sz.iter().enumerate() {
        assert!(sim.a.send(1, unordered, &message(i, len)));
        assert!(sim.b.send(1, unordered, &message(i + 1000, len)));
    }
    sim.run_until(Duration::from_secs(600), "exchange", |s| {
        s.a.received().len() >= n && s.b.received().len() >= n
    });
    let mut want_b: Vec<Vec<u8>> = sz.iter().enumerate().map(|(i, &l)| message(i, l)).collect();
    let mut want_a: Vec<Vec<u8>> = sz
        .iter()
        .enumerate()
        .map(|(i, &l)| message(i + 1000, l))
        .collect();
    let mut got_b: Vec<Vec<u8>> = sim
        .b
        .received()
        .drain(..)
        .map(|(s, d)| {
            assert_eq!(s, 1);
            d
        })
        .collect();
    let mut got_a: Vec<Vec<u8>> = sim.a.received().drain(..).map(|(_, d)| d).collect();
    if unordered {
        for v in [&mut want_a, &mut want_b, &mut got_a, &mut got_b] {
            v.sort();
        }
    }
    assert_eq!(got_b.len(), n, "seed {}", sim.seed);
    assert!(
        got_b == want_b,
        "{} -> {}: messages differ (seed {})",
        sim.a.name(),
        sim.b.name(),
        sim.seed
    );
    assert!(
        got_a == want_a,
        "{} -> {}: messages differ (seed {})",
        sim.b.name(),
        sim.a.name(),
        sim.seed
    );
}

fn engine(seed: u64) -> impl FnOnce(Instant) -> Box<dyn Side> {
    move |now| Box::new(EngineSide::new(now, seed)) as Box<dyn Side>
}

fn proto(server: bool) -> impl FnOnce(Instant) -> Box<dyn Side> {
    move |_| Box::new(ProtoSide::new(server)) as Box<dyn Side>
}

#[test]
fn engine_client_sctp_proto_server_ordered_at_0_5_10_percent_loss() {
    for (seed, loss) in [(1u64, 0.0), (2, 0.05), (3, 0.10)] {
        let mut sim = Sim::new(seed, link(loss, 10), engine(seed), proto(true));
        sim.connect();
        exchange(&mut sim, 40, false);
        sim.shutdown();
    }
}

#[test]
fn sctp_proto_client_engine_server_ordered_at_0_5_10_percent_loss() {
    for (seed, loss) in [(11u64, 0.0), (12, 0.05), (13, 0.10)] {
        let mut sim = Sim::new(seed, link(loss, 10), proto(false), engine(seed));
        sim.connect();
        exchange(&mut sim, 40, false);
        sim.shutdown();
    }
}

#[test]
fn engine_unordered_both_ways_with_sctp_proto() {
    for (seed, loss) in [(21u64, 0.0), (22, 0.05)] {
        let mut sim = Sim::new(seed, link(loss, 10), engine(seed), proto(true));
        sim.connect();
        exchange(&mut sim, 30, true);
        let mut sim = Sim::new(seed + 100, link(loss, 10), proto(false), engine(seed));
        sim.connect();
        exchange(&mut sim, 30, true);
    }
}

#[test]
fn engine_to_engine_at_0_5_10_percent_loss() {
    for (seed, loss) in [(31u64, 0.0), (32, 0.05), (33, 0.10)] {
        let mut sim = Sim::new(seed, link(loss, 10), engine(seed), engine(seed + 1000));
        sim.connect();
        exchange(&mut sim, 40, false);
        exchange(&mut sim, 20, true);
        sim.shutdown();
    }
}

#[test]
fn engine_to_engine_simultaneous_init() {
    // WebRTC: both ends send INIT at once (RFC 9260 §5.2.1, §5.2.4 case D).
    for (seed, loss) in [(41u64, 0.0), (42, 0.1)] {
        let mut sim = Sim::new(seed, link(loss, 10), engine(seed), engine(seed + 1));
        let now = sim.now();
        sim.b.connect(now);
        sim.connect();
        exchange(&mut sim, 10, false);
        sim.shutdown();
    }
}

#[test]
fn engine_shutdown_from_either_side_with_sctp_proto() {
    // The sctp-proto side starts the shutdown here (the other tests start it on `a`).
    let mut sim = Sim::new(51, link(0.0, 10), proto(false), engine(51));
    sim.connect();
    exchange(&mut sim, 4, false);
    sim.shutdown();
    let mut sim = Sim::new(52, link(0.0, 10), engine(52), proto(true));
    sim.connect();
    exchange(&mut sim, 4, false);
    let now = sim.now();
    sim.b.shutdown(now);
    sim.run_until(Duration::from_secs(60), "shutdown", |s| {
        s.a.closed() && s.b.closed()
    });
}

/// RFC 6525 outgoing stream reset, as WebRTC closes a channel: each side resets stream 1
/// after messages on it, the other side sees the reset, and the stream carries messages
/// again from SSN 0 afterwards.
#[test]
fn stream_reset_with_sctp_proto_and_engine() {
    type Make = fn(Instant) -> Box<dyn Side>;
    let pairs: [(u64, Make, Make); 3] = [
        (61, |now| engine(61)(now), |now| proto(true)(now)),
        (62, |now| proto(false)(now), |now| engine(62)(now)),
        (63, |now| engine(63)(now), |now| engine(64)(now)),
    ];
    for (seed, a, b) in pairs.into_iter().rev() {
        let mut sim = Sim::new(seed, link(0.05, 10), a, b);
        sim.connect();
        exchange(&mut sim, 6, false);
        sim.a.reset(1);
        // The engine reports its outgoing reset performed; sctp-proto's event for that is
        // not checked.
        sim.run_until(Duration::from_secs(60), "a resets", |s| {
            (s.a.name() == "sctp-proto" || s.a.resets().1 == [1]) && s.b.resets().0 == [1]
        });
        sim.b.reset(1);
        sim.run_until(Duration::from_secs(60), "b resets", |s| {
            s.a.resets().0 == [1]
        });
        // The stream again, from SSN 0: the engine's messages on it arrive in order. (Our
        // harness cannot write on a stream sctp-proto has reset both ways; engine↔engine
        // covers both directions.)
        if sim.a.name() == "engine" && sim.b.name() == "engine" {
            exchange(&mut sim, 6, false);
        } else {
            let from_a = sim.a.name() == "engine";
            let want: Vec<Vec<u8>> = (0..6).map(|i| message(i, 3000 + i)).collect();
            for m in &want {
                let sender = if from_a { &mut sim.a } else { &mut sim.b };
                assert!(sender.send(1, false, m));
            }
            sim.run_until(Duration::from_secs(60), "after reset", |s| {
                let r = if from_a { &mut s.b } else { &mut s.a };
                r.received().len() >= 6
            });
            let r = if from_a { &mut sim.b } else { &mut sim.a };
            let got: Vec<Vec<u8>> = r.received().drain(..).map(|m| m.1).collect();
            assert!(got == want, "seed {seed}");
        }
    }
}

/// Real packets of a session, for the hostile-input tests.
fn recorded_packets() -> Vec<Vec<u8>> {
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let mut a = Engine::new(EngineConfig::default(), start, 7);
    let mut b = Engine::new(EngineConfig::default(), start, 8);
    let mut all = Vec::new();
    a.connect(start);
    let _ = a.send(1, PPID_BINARY, false, &[1; 5000]);
    let _ = a.send(2, PPID_BINARY, true, &[2; 10]);
    let mut now = start;
    for round in 0..20 {
        now += Duration::from_millis(50);
        if round == 10 {
            a.shutdown(now);
        }
        while let Some(p) = a.poll_transmit(now) {
            all.push(p.clone());
            b.handle_packet(now, &p);
        }
        while let Some(p) = b.poll_transmit(now) {
            all.push(p.clone());
            a.handle_packet(now, &p);
        }
        if let Some(t) = a.poll_timeout().filter(|t| *t <= now) {
            a.handle_timeout(t);
        }
        if let Some(t) = b.poll_timeout().filter(|t| *t <= now) {
            b.handle_timeout(t);
        }
    }
    assert!(a.is_closed() && b.is_closed(), "{a:?} {b:?}");
    all
}

/// Two engines up, talking DATA (neither declares I-DATA).
fn established_pair(start: Instant) -> (Engine, Engine) {
    established_pair_with(start, false)
}

/// Two engines up; with `interleaving` both declare I-DATA (RFC 8260), so they use it.
fn established_pair_with(start: Instant, interleaving: bool) -> (Engine, Engine) {
    let mut config = EngineConfig::default();
    config.interleaving = interleaving;
    let mut a = Engine::new(config.clone(), start, 7);
    let mut b = Engine::new(config, start, 8);
    a.connect(start);
    for _ in 0..4 {
        while let Some(p) = a.poll_transmit(start) {
            b.handle_packet(start, &p);
        }
        while let Some(p) = b.poll_transmit(start) {
            a.handle_packet(start, &p);
        }
    }
    assert!(a.is_established() && b.is_established());
    (a, b)
}

#[test]
fn hostile_truncations_and_garbage_never_panic() {
    let packets = recorded_packets();
    assert!(packets.len() >= 8);
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let mut x: u64 = 0x1234_5678;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for (n, p) in packets.iter().enumerate() {
        for fresh in [false, true] {
            let (mut a, mut b) = established_pair(start);
            let mut l = Engine::new(EngineConfig::default(), start, 9);
            for cut in 0..=p.len() {
                let mut q = p[..cut].to_vec();
                // With the checksum refilled too, so truncated chunks reach the parser.
                if fresh {
                    weft_sctp::wire::fill_checksum(&mut q, weft_sctp::wire::Checksum::Crc32c);
                }
                for e in [&mut a, &mut b, &mut l] {
                    e.handle_packet(start, &q);
                    while e.poll_transmit(start).is_some() {}
                    while e.poll_event().is_some() {}
                }
            }
            // Flipped bytes, checksum refilled.
            for _ in 0..200 {
                let mut q = p.clone();
                let i = (rnd() as usize) % q.len();
                q[i] ^= (rnd() as u8) | 1;
                weft_sctp::wire::fill_checksum(&mut q, weft_sctp::wire::Checksum::Crc32c);
                for e in [&mut a, &mut b, &mut l] {
                    e.handle_packet(start, &q);
                    while e.poll_transmit(start).is_some() {}
                    while e.poll_event().is_some() {}
                }
            }
            let _ = n;
        }
    }
    // Random garbage with a valid header and checksum.
    let (mut a, _) = established_pair(start);
    for _ in 0..20_000 {
        let len = 12 + (rnd() as usize) % 200;
        let mut q: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
        q[0..4].copy_from_slice(&[0x13, 0x88, 0x13, 0x88]);
        weft_sctp::wire::fill_checksum(&mut q, weft_sctp::wire::Checksum::Crc32c);
        a.handle_packet(start, &q);
        while a.poll_transmit(start).is_some() {}
        while a.poll_event().is_some() {}
    }
}

#[test]
fn packets_never_exceed_the_mtu_and_bundle_small_messages() {
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let (mut a, mut b) = established_pair(start);
    for i in 0..100u8 {
        a.send(3, PPID_BINARY, false, &[i; 10]).unwrap();
    }
    let mut packets = 0;
    let mut now = start;
    for _ in 0..50 {
        now += Duration::from_millis(10);
        for e in [&mut a, &mut b] {
            if e.poll_timeout().is_some_and(|t| t <= now) {
                e.handle_timeout(now);
            }
        }
        while let Some(p) = a.poll_transmit(now) {
            assert!(p.len() <= 1200);
            packets += 1;
            b.handle_packet(now, &p);
        }
        while let Some(p) = b.poll_transmit(now) {
            a.handle_packet(now, &p);
        }
    }
    let mut got = 0;
    while let Some(e) = b.poll_event() {
        if let EngineEvent::Message { data, .. } = e {
            assert_eq!(data[0] as usize, got);
            got += 1;
        }
    }
    assert_eq!(got, 100);
    // 100 chunks of 28 bytes bundle into a few packets, not 100.
    assert!(packets < 10, "{packets} packets");
    assert_eq!(a.buffered_amount(), 0);
}

/// Virtual-time goodput over a 50 ms RTT (12.5 ms on each host's link, so ~2 % loss on
/// the path at 1 % per link), engine↔engine against sctp-proto↔sctp-proto on the same
/// link and seed; also without loss, where only the windows limit. The links have no
/// bandwidth limit. Prints; asserts delivery only.
#[test]
fn goodput_engine_vs_sctp_proto_rtt_50ms_1_percent_loss() {
    for loss in [0.01, 0.0] {
        let e = goodput(
            "engine <-> engine",
            loss,
            Box::new(engine(5)),
            Box::new(engine(6)),
        );
        let p = goodput(
            "sctp-proto <-> sctp-proto",
            loss,
            Box::new(proto(false)),
            Box::new(proto(true)),
        );
        println!("loss {loss} per link: engine / sctp-proto = {:.2}", e / p);
    }
}

type MakeSide = Box<dyn FnOnce(Instant) -> Box<dyn Side>>;

fn goodput(name: &str, loss: f64, a: MakeSide, b: MakeSide) -> f64 {
    let total: usize = 32 * 1024 * 1024;
    let msg = 64 * 1024;
    let n = total / msg;
    let mut l = link(loss, 0);
    l.delay = Duration::from_micros(12_500);
    l.jitter = Duration::ZERO;
    l.duplicate = 0.0;
    l.reorder = 0.0;
    let mut sim = Sim::new(77, l, a, b);
    sim.connect();
    let t0 = sim.now();
    let data = vec![0xab; msg];
    let mut sent = 0;
    let mut next_trace = t0;
    sim.run_until(Duration::from_secs(3600), "goodput", |s| {
        while sent < n && s.a.buffered() < 8 * 1024 * 1024 {
            assert!(s.a.send(1, false, &data));
            sent += 1;
        }
        if std::env::var("ENGINE_TRACE").is_ok() && s.now() >= next_trace {
            next_trace = s.now() + Duration::from_millis(500);
            println!("{:?} {}", s.now() - t0, s.a.stats());
        }
        s.b.received().len() >= n
    });
    let secs = (sim.now() - t0).as_secs_f64();
    let got: usize = sim.b.received().iter().map(|m| m.1.len()).sum();
    assert_eq!(got, total);
    let mbit = got as f64 * 8.0 / secs / 1e6;
    if name.starts_with("engine") {
        println!("  sender {}", sim.a.stats());
    }
    println!(
        "goodput {name}, loss {loss} per link: {} MiB in {secs:.2} s virtual = {mbit:.1} Mbit/s",
        total >> 20
    );
    mbit
}

/// RFC 9260 §8.5 and §8.4: a wrong verification tag is dropped; a packet for no
/// association is answered with ABORT (T bit, the packet's own tag), SHUTDOWN ACK with
/// SHUTDOWN COMPLETE (T bit); an ABORT is taken only with the right tag.
#[test]
fn verification_tags_and_out_of_the_blue() {
    use weft_sctp::wire::{fill_checksum, Checksum, Packet};
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let (mut a, mut b) = established_pair(start);
    while b.poll_event().is_some() {}
    a.send(1, PPID_BINARY, false, b"hello").unwrap();
    let data = a.poll_transmit(start).unwrap();
    let tag = u32::from_be_bytes(data[4..8].try_into().unwrap());
    // Wrong tag: dropped.
    let mut bad = data.clone();
    bad[4] ^= 0x55;
    fill_checksum(&mut bad, Checksum::Crc32c);
    let dropped = b.stats().packets_dropped;
    b.handle_packet(start, &bad);
    assert_eq!(b.stats().packets_dropped, dropped + 1);
    assert!(b.poll_event().is_none());
    // The right one is delivered.
    b.handle_packet(start, &data);
    assert!(matches!(b.poll_event(), Some(EngineEvent::Message { .. })));
    // Out of the blue: ABORT with T set and the packet's tag.
    let mut l = Engine::new(EngineConfig::default(), start, 99);
    l.handle_packet(start, &data);
    let abort = l.poll_transmit(start).expect("ABORT");
    let p = Packet::parse_without_checksum(&abort).unwrap();
    assert_eq!(p.header().verification_tag, tag);
    let c = p.chunks().next().unwrap();
    assert_eq!((c.chunk_type, c.flags & 1), (6, 1));
    assert!(l.poll_transmit(start).is_none());
    // SHUTDOWN ACK out of the blue: SHUTDOWN COMPLETE with T set.
    let mut sack = data[..12].to_vec();
    sack.extend_from_slice(&[8, 0, 0, 4]);
    fill_checksum(&mut sack, Checksum::Crc32c);
    l.handle_packet(start, &sack);
    let done = l.poll_transmit(start).expect("SHUTDOWN COMPLETE");
    let p = Packet::parse_without_checksum(&done).unwrap();
    let c = p.chunks().next().unwrap();
    assert_eq!((c.chunk_type, c.flags & 1), (14, 1));
    assert_eq!(l.state(), EngineState::Listen);
    // ABORT with the wrong tag is ignored; with b's own tag it ends the association.
    let mut abort = data[..12].to_vec();
    abort.extend_from_slice(&[6, 0, 0, 4]);
    abort[4] ^= 1;
    fill_checksum(&mut abort, Checksum::Crc32c);
    b.handle_packet(start, &abort);
    assert!(b.is_established());
    abort[4] ^= 1;
    fill_checksum(&mut abort, Checksum::Crc32c);
    b.handle_packet(start, &abort);
    assert!(b.is_closed());
    assert!(matches!(b.poll_event(), Some(EngineEvent::Closed(_))));
    assert!(
        b.poll_transmit(start).is_none(),
        "an ABORT is never answered"
    );
}

/// RFC 9653: with zero checksum configured on both ends, packets after the handshake
/// carry a zero checksum and the association works; INIT keeps its CRC32c.
#[test]
fn zero_checksum_engine_to_engine() {
    let mut config = EngineConfig::default();
    config.zero_checksum = true;
    let c2 = config.clone();
    let mut sim = Sim::new(
        71,
        link(0.05, 10),
        move |now| Box::new(EngineSide::with_config(now, 71, config)) as Box<dyn Side>,
        move |now| Box::new(EngineSide::with_config(now, 72, c2)) as Box<dyn Side>,
    );
    sim.connect();
    exchange(&mut sim, 10, false);
    sim.shutdown();
    // The packets themselves: INIT with a CRC32c, DATA with zero.
    let mut config = EngineConfig::default();
    config.zero_checksum = true;
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let mut a = Engine::new(config.clone(), start, 1);
    let mut b = Engine::new(config, start, 2);
    a.connect(start);
    let init = a.poll_transmit(start).unwrap();
    assert_ne!(&init[8..12], &[0; 4]);
    b.handle_packet(start, &init);
    for _ in 0..3 {
        while let Some(p) = b.poll_transmit(start) {
            a.handle_packet(start, &p);
        }
        while let Some(p) = a.poll_transmit(start) {
            b.handle_packet(start, &p);
        }
    }
    assert!(a.is_established() && b.is_established());
    a.send(1, PPID_BINARY, false, b"x").unwrap();
    let data = a.poll_transmit(start).unwrap();
    assert_eq!(&data[8..12], &[0; 4]);
    // Without it on one side, the CRC32c stays.
    let mut c = Engine::new(EngineConfig::default(), start, 3);
    let mut zc = EngineConfig::default();
    zc.zero_checksum = true;
    let mut d = Engine::new(zc, start, 4);
    c.connect(start);
    for _ in 0..4 {
        while let Some(p) = c.poll_transmit(start) {
            d.handle_packet(start, &p);
        }
        while let Some(p) = d.poll_transmit(start) {
            c.handle_packet(start, &p);
        }
    }
    assert!(c.is_established() && d.is_established());
    d.send(1, PPID_BINARY, false, b"x").unwrap();
    let data = d.poll_transmit(start).unwrap();
    assert_ne!(&data[8..12], &[0; 4]);
}

/// Messages queued before the association is up (on the side that connects and on the
/// side that waits) go out once it is.
#[test]
fn messages_queued_before_setup_are_sent() {
    let mut sim = Sim::new(81, link(0.0, 10), engine(81), engine(82));
    assert!(sim.a.send(1, false, b"early from the client"));
    assert!(sim.b.send(2, false, b"early from the server"));
    sim.connect();
    sim.run_until(Duration::from_secs(10), "early messages", |s| {
        !s.a.received().is_empty() && !s.b.received().is_empty()
    });
    assert_eq!(sim.b.received()[0], (1, b"early from the client".to_vec()));
    assert_eq!(sim.a.received()[0], (2, b"early from the server".to_vec()));
}

// ---- partial reliability: the sender half (RFC 3758 §3.5) ----

/// What one packet carries: its DATA chunks as (TSN, stream, SSN, unordered, payload
/// length), its FORWARD TSN chunks as (New Cumulative TSN, [(stream, SSN)]), its I-DATA
/// chunks as (TSN, stream, MID, FSN, unordered, payload length) and its I-FORWARD-TSN
/// chunks as (New Cumulative TSN, [(stream, unordered, MID)]).
#[derive(Default, Debug)]
struct Seen {
    data: Vec<(u32, u16, u16, bool, usize)>,
    fwd: Vec<(u32, Vec<(u16, u16)>)>,
    idata: Vec<(u32, u16, u32, u32, bool, usize)>,
    ifwd: Vec<(u32, Vec<IfwdEntry>)>,
}

/// An I-FORWARD-TSN entry: (stream, unordered, MID).
type IfwdEntry = (u16, bool, u32);

fn seen(packet: &[u8]) -> Seen {
    use weft_sctp::wire::{Chunk, Packet};
    let p = Packet::parse_without_checksum(packet).unwrap();
    let mut s = Seen::default();
    for raw in p.chunks() {
        match raw.parse().unwrap() {
            Chunk::Data(d) => s.data.push((
                d.tsn,
                d.stream_id,
                d.ssn,
                d.flags & weft_sctp::wire::Data::UNORDERED != 0,
                d.payload.len(),
            )),
            Chunk::ForwardTsn(f) => s.fwd.push((
                f.new_cum_tsn,
                f.streams.iter().map(|e| (e.stream_id, e.ssn)).collect(),
            )),
            Chunk::IData(d) => s.idata.push((
                d.tsn,
                d.stream_id,
                d.mid,
                d.fsn(),
                d.unordered(),
                d.payload.len(),
            )),
            Chunk::IForwardTsn(f) => s.ifwd.push((
                f.new_cum_tsn,
                f.entries
                    .iter()
                    .map(|e| (e.stream_id, e.unordered, e.mid))
                    .collect(),
            )),
            _ => {}
        }
    }
    s
}

/// Rounds of `a` → `b` (losing what `drop` picks) and `b` → `a`, 50 ms apart with the
/// timers run, until `a` has nothing buffered and no timer left (200 rounds at most);
/// `sent` sees each packet `a` sent.
fn rounds(
    now: &mut Instant,
    a: &mut Engine,
    b: &mut Engine,
    mut drop: impl FnMut(&Seen) -> bool,
    mut sent: impl FnMut(Seen),
) {
    for _ in 0..200 {
        for s in hop(now, a, b, &mut drop) {
            sent(s);
        }
        hop(now, b, a, |_| false);
        *now += Duration::from_millis(50);
        fire(*now, a);
        fire(*now, b);
        if a.buffered_amount() == 0 && a.poll_timeout().is_none() {
            break;
        }
    }
}

/// Moves `from`'s packets to `to` one hop later, unless `drop` says no; returns what went.
fn hop(
    now: &mut Instant,
    from: &mut Engine,
    to: &mut Engine,
    mut drop: impl FnMut(&Seen) -> bool,
) -> Vec<Seen> {
    let mut out = Vec::new();
    let mut packets = Vec::new();
    while let Some(p) = from.poll_transmit(*now) {
        packets.push(p);
    }
    *now += Duration::from_millis(10);
    for p in packets {
        let s = seen(&p);
        if !drop(&s) {
            to.handle_packet(*now, &p);
        }
        out.push(s);
    }
    out
}

fn fire(now: Instant, e: &mut Engine) {
    if e.poll_timeout().is_some_and(|t| t <= now) {
        e.handle_timeout(now);
    }
}

fn delivered(e: &mut Engine) -> Vec<(u16, Vec<u8>)> {
    let mut got = Vec::new();
    while let Some(ev) = e.poll_event() {
        if let EngineEvent::Message { stream, data, .. } = ev {
            got.push((stream, data));
        }
    }
    got
}

/// RFC 3758 §3.5 A2-A3, C1-C4 and RFC 7496 §3.2: a message whose chunks are lost more
/// often than its retransmission limit allows is abandoned whole (every fragment), and
/// the FORWARD TSN that follows carries the New Cumulative TSN past it and the ordered
/// stream's SSN, not the unordered one's. The ordered stream goes on after it.
#[test]
fn a_message_lost_past_its_retransmission_limit_is_abandoned_by_forward_tsn() {
    use weft_sctp::engine::SendPolicy;
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let (mut a, mut b) = established_pair(start);
    delivered(&mut b);
    let mut now = start;
    let once = SendPolicy::MaxRetransmits(1);
    a.send(1, PPID_BINARY, false, b"first").unwrap();
    // Two fragments at MTU 1200.
    a.send_with(now, 1, PPID_BINARY, false, &[7; 2000], once)
        .unwrap();
    a.send_with(now, 2, PPID_BINARY, true, b"unordered", once)
        .unwrap();
    a.send(3, PPID_BINARY, false, b"other stream").unwrap();
    let buffered = a.buffered_amount();
    let mut sends: BTreeMap<u32, u32> = BTreeMap::new();
    let mut limited = BTreeSet::new();
    let mut fwd = Vec::new();
    // Every packet with a chunk of a limited message is lost; the rest arrive.
    let lost = |s: &Seen| s.data.iter().any(|d| (d.1 == 1 && d.4 > 100) || d.1 == 2);
    rounds(&mut now, &mut a, &mut b, lost, |s| {
        for d in &s.data {
            *sends.entry(d.0).or_default() += 1;
            if (d.1 == 1 && d.4 > 100) || d.1 == 2 {
                limited.insert(d.0);
            }
        }
        fwd.extend(s.fwd);
    });
    // Three limited chunks, each sent twice (once and one retransmission), never more.
    assert_eq!(limited.len(), 3, "{sends:?}");
    for tsn in &limited {
        assert_eq!(sends[tsn], 2, "TSN {tsn}: {sends:?}");
    }
    let first = *sends.keys().next().unwrap();
    assert_eq!(
        limited.iter().copied().collect::<Vec<_>>(),
        [first + 1, first + 2, first + 3]
    );
    // The two fragments are abandoned first, the unordered message after them; each time
    // a FORWARD TSN skips past what is abandoned. Only ordered stream 1 is listed, at
    // SSN 1; the unordered message's stream never is.
    assert_eq!(
        fwd,
        [(first + 2, vec![(1, 1)]), (first + 3, vec![(1, 1)])],
        "first TSN {first}"
    );
    let got = delivered(&mut b);
    assert_eq!(got, [(1, b"first".to_vec()), (3, b"other stream".to_vec())]);
    let stats = a.stats();
    assert_eq!(stats.messages_abandoned, 2, "{stats:?}");
    assert!(stats.forward_tsns_sent >= 1);
    assert_eq!(a.buffered_amount(), 0, "was {buffered}");
    assert_eq!(a.buffered_amount_of(1), 0);
    // Stream 1 goes on at SSN 2: the peer skipped SSN 1.
    a.send(1, PPID_BINARY, false, b"after").unwrap();
    let sent = hop(&mut now, &mut a, &mut b, |_| false);
    assert_eq!(sent[0].data[0].2, 2);
    assert_eq!(delivered(&mut b), [(1, b"after".to_vec())]);
}

/// RFC 3758 §4.1 TR3/TR5: a message whose lifetime ends while it waits for the window is
/// dropped without a TSN (so without FORWARD TSN), its bytes leave the buffered amount at
/// the time `poll_timeout` named, and its ordered stream loses no SSN.
#[test]
fn a_queued_message_past_its_lifetime_is_dropped_without_a_tsn() {
    use weft_sctp::engine::SendPolicy;
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let (mut a, mut b) = established_pair(start);
    delivered(&mut b);
    let mut now = start;
    // 20 KB reliable fill the initial window; the timed message waits behind them.
    a.send(1, PPID_BINARY, false, &[1; 20_000]).unwrap();
    let life = Duration::from_millis(50);
    a.send_with(
        now,
        2,
        PPID_BINARY,
        false,
        &[2; 300],
        SendPolicy::Lifetime(life),
    )
    .unwrap();
    let mut first_burst = Vec::new();
    while let Some(p) = a.poll_transmit(now) {
        first_burst.push(seen(&p));
    }
    assert!(first_burst.iter().all(|s| s.data.iter().all(|d| d.1 == 1)));
    assert_eq!(a.buffered_amount(), 20_300);
    assert_eq!(a.poll_timeout(), Some(start + life));
    now = start + life;
    a.handle_timeout(now);
    assert_eq!(a.buffered_amount(), 20_000);
    assert_eq!(a.buffered_amount_of(2), 0);
    assert_eq!(a.stats().messages_abandoned, 1);
    // The rest goes; nothing on stream 2, TSNs without a hole, no FORWARD TSN.
    let mut all: Vec<Seen> = first_burst;
    // The first burst was never delivered: T3 brings it again.
    for _ in 0..100 {
        all.extend(hop(&mut now, &mut a, &mut b, |_| false));
        hop(&mut now, &mut b, &mut a, |_| false);
        now += Duration::from_millis(50);
        fire(now, &mut a);
        fire(now, &mut b);
        if a.buffered_amount() == 0 {
            break;
        }
    }
    assert_eq!(a.buffered_amount(), 0);
    assert!(all.iter().all(|s| s.fwd.is_empty()));
    assert!(all.iter().all(|s| s.data.iter().all(|d| d.1 == 1)));
    let tsns: BTreeSet<u32> = all
        .iter()
        .flat_map(|s| s.data.iter().map(|d| d.0))
        .collect();
    let (lo, hi) = (*tsns.first().unwrap(), *tsns.last().unwrap());
    assert_eq!(tsns.len() as u32, hi - lo + 1);
    assert_eq!(a.stats().forward_tsns_sent, 0);
    // Stream 2's first message still has SSN 0, and arrives.
    a.send(2, PPID_BINARY, false, b"next").unwrap();
    let sent = hop(&mut now, &mut a, &mut b, |_| false);
    assert_eq!(sent[0].data[0].1, 2);
    assert_eq!(sent[0].data[0].2, 0);
    let got = delivered(&mut b);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1], (2, b"next".to_vec()));
}

/// Reliable traffic never abandons nor sends FORWARD TSN, lost packets and all.
#[test]
fn a_reliable_transfer_with_loss_sends_no_forward_tsn() {
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let (mut a, mut b) = established_pair(start);
    delivered(&mut b);
    let mut now = start;
    for i in 0..60u8 {
        a.send(
            u16::from(i % 3),
            PPID_BINARY,
            i.is_multiple_of(2),
            &vec![i; 700],
        )
        .unwrap();
    }
    let mut n = 0u32;
    let mut fwd = 0;
    let mut got = Vec::new();
    for _ in 0..400 {
        for s in hop(&mut now, &mut a, &mut b, |_| {
            n += 1;
            n.is_multiple_of(4)
        }) {
            fwd += s.fwd.len();
        }
        hop(&mut now, &mut b, &mut a, |_| false);
        got.extend(delivered(&mut b));
        now += Duration::from_millis(20);
        fire(now, &mut a);
        fire(now, &mut b);
        if got.len() == 60 && a.buffered_amount() == 0 {
            break;
        }
    }
    assert_eq!(got.len(), 60);
    let stats = a.stats();
    assert!(stats.retransmits > 0, "no loss: {stats:?}");
    assert_eq!(fwd, 0);
    assert_eq!((stats.forward_tsns_sent, stats.messages_abandoned), (0, 0));
}

/// RFC 3758 §3.5 C3 and the F2 implementation note: a lost FORWARD TSN goes again after a
/// SACK that still shows the peer behind the Advanced.Peer.Ack.Point (once an RTT has
/// passed since it was sent), and not in every packet meanwhile.
#[test]
fn a_lost_forward_tsn_is_sent_again_after_a_sack_behind_the_point() {
    use weft_sctp::engine::SendPolicy;
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let (mut a, mut b) = established_pair(start);
    delivered(&mut b);
    let mut now = start;
    // An RTT sample of 120 ms first (b acks every 2nd packet at once).
    for _ in 0..2 {
        a.send(3, PPID_BINARY, false, &[3; 1000]).unwrap();
    }
    hop(&mut now, &mut a, &mut b, |_| false);
    now += Duration::from_millis(100);
    hop(&mut now, &mut b, &mut a, |_| false);
    assert_eq!(a.stats().srtt, Some(Duration::from_millis(120)));
    assert_eq!(a.buffered_amount(), 0);
    assert_eq!(delivered(&mut b).len(), 2);
    // X (sent once at most) and Y go in two packets: X is lost, Y arrives.
    a.send_with(
        now,
        1,
        PPID_BINARY,
        false,
        &[1; 1000],
        SendPolicy::MaxRetransmits(0),
    )
    .unwrap();
    a.send(1, PPID_BINARY, false, &[2; 1000]).unwrap();
    let sent = hop(&mut now, &mut a, &mut b, |s| {
        s.data.iter().any(|d| d.4 == 1000 && d.2 == 0)
    });
    assert_eq!(sent.len(), 2);
    let x = sent[0].data[0].0;
    hop(&mut now, &mut b, &mut a, |_| false);
    // T3: X is abandoned; the FORWARD TSN (to X, stream 1 SSN 0) is lost too.
    let t3 = a.poll_timeout().unwrap();
    now = t3;
    a.handle_timeout(now);
    let sent = hop(&mut now, &mut a, &mut b, |_| true);
    let fwds: Vec<_> = sent.iter().flat_map(|s| s.fwd.clone()).collect();
    assert_eq!(fwds, [(x, vec![(1, 0)])]);
    assert_eq!(a.stats().messages_abandoned, 1);
    // New data at once: the SACK for it, 20 ms later (before an RTT passed), brings no
    // second FORWARD TSN, and neither does the DATA packet itself.
    a.send(2, PPID_BINARY, false, b"z1").unwrap();
    let sent = hop(&mut now, &mut a, &mut b, |_| false);
    assert!(sent.iter().all(|s| s.fwd.is_empty()));
    hop(&mut now, &mut b, &mut a, |_| false);
    let sent = hop(&mut now, &mut a, &mut b, |_| false);
    assert!(sent.iter().all(|s| s.fwd.is_empty()), "{sent:?}");
    // After an RTT, the next SACK still behind the point brings it again.
    now += Duration::from_millis(300);
    a.send(2, PPID_BINARY, false, b"z2").unwrap();
    hop(&mut now, &mut a, &mut b, |_| false);
    hop(&mut now, &mut b, &mut a, |_| false);
    let sent = hop(&mut now, &mut a, &mut b, |_| false);
    let fwds: Vec<_> = sent.iter().flat_map(|s| s.fwd.clone()).collect();
    assert_eq!(fwds, [(x, vec![(1, 0)])]);
    // The peer skips X: Y (SSN 1), held until now, follows both z; nothing is left.
    hop(&mut now, &mut b, &mut a, |_| false);
    let got: Vec<(u16, usize)> = delivered(&mut b)
        .into_iter()
        .map(|m| (m.0, m.1.len()))
        .collect();
    assert_eq!(got, [(2, 2), (2, 2), (1, 1000)]);
    assert_eq!(a.buffered_amount(), 0);
}

// ---- I-DATA and I-FORWARD-TSN (RFC 8260) ----

/// RFC 8260 §2.2.1, §3: two engines that both declare I-DATA use it for every message,
/// and the streams take turns per chunk: a small message sent after a 20 KB one, on
/// another stream, is delivered first, where DATA makes it wait for the whole large
/// message. The large one's fragments carry one MID and FSNs 0, 1, 2, ...
#[test]
fn idata_lets_a_small_message_pass_a_large_one_on_another_stream() {
    for interleaving in [true, false] {
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let (mut a, mut b) = established_pair_with(start, interleaving);
        assert_eq!(a.stats().interleaving, interleaving);
        assert_eq!(b.stats().interleaving, interleaving);
        delivered(&mut b);
        let mut now = start;
        let large: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
        a.send(1, PPID_BINARY, false, &large).unwrap();
        a.send(2, PPID_BINARY, false, b"small").unwrap();
        let mut sent = Vec::new();
        let mut got = Vec::new();
        for _ in 0..50 {
            sent.extend(hop(&mut now, &mut a, &mut b, |_| false));
            hop(&mut now, &mut b, &mut a, |_| false);
            got.extend(delivered(&mut b));
            if got.len() == 2 {
                break;
            }
        }
        assert_eq!(got.len(), 2);
        let order: Vec<u16> = got.iter().map(|m| m.0).collect();
        assert_eq!(got.iter().find(|m| m.0 == 1).unwrap().1, large);
        if interleaving {
            assert_eq!(order, [2, 1]);
            assert!(sent.iter().all(|s| s.data.is_empty()));
            let frags: Vec<(u32, u32)> = sent
                .iter()
                .flat_map(|s| s.idata.iter())
                .filter(|d| d.1 == 1)
                .map(|d| (d.2, d.3))
                .collect();
            let n = frags.len() as u32;
            assert!(n >= 17, "{frags:?}");
            assert_eq!(frags, (0..n).map(|f| (0, f)).collect::<Vec<_>>());
            // The small message went in the first burst, right after the first fragment.
            let tsns: Vec<(u32, u16)> = sent
                .iter()
                .flat_map(|s| s.idata.iter())
                .map(|d| (d.0, d.1))
                .collect();
            assert_eq!(tsns[1].1, 2, "{tsns:?}");
        } else {
            assert_eq!(order, [1, 2]);
            assert!(sent.iter().all(|s| s.idata.is_empty()));
        }
    }
}

/// RFC 8260 §2.3 with RFC 3758 §3.5: abandoned messages go by I-FORWARD-TSN, which names
/// each stream with its U flag and the highest MID skipped, ordered and unordered alike;
/// the receiver drops what it held of them and the ordered stream goes on after the MID.
#[test]
fn idata_abandoned_messages_go_by_iforward_tsn_with_their_mids() {
    use weft_sctp::engine::SendPolicy;
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let (mut a, mut b) = established_pair_with(start, true);
    delivered(&mut b);
    let mut now = start;
    let once = SendPolicy::MaxRetransmits(0);
    a.send(1, PPID_BINARY, false, b"first").unwrap();
    // Two fragments each: the first of each arrives, the second is lost.
    a.send_with(now, 1, PPID_BINARY, false, &[7; 2000], once)
        .unwrap();
    a.send_with(now, 2, PPID_BINARY, true, &[8; 2000], once)
        .unwrap();
    let mut ifwd = Vec::new();
    let mut lost = BTreeSet::new();
    let second = |s: &Seen| s.idata.iter().any(|d| d.5 > 100 && d.3 == 1);
    rounds(&mut now, &mut a, &mut b, second, |s| {
        for d in &s.idata {
            if d.5 > 100 && d.3 == 1 {
                lost.insert(d.0);
            }
        }
        ifwd.extend(s.ifwd);
    });
    assert_eq!(lost.len(), 2);
    assert!(!ifwd.is_empty());
    let (new_cum, entries) = ifwd.last().unwrap();
    assert_eq!(*new_cum, *lost.last().unwrap());
    let entries: BTreeSet<_> = entries.iter().copied().collect();
    assert!(entries.contains(&(1, false, 1)), "{ifwd:?}");
    assert!(entries.contains(&(2, true, 0)), "{ifwd:?}");
    assert_eq!(a.stats().messages_abandoned, 2);
    assert_eq!(a.buffered_amount(), 0);
    assert_eq!(delivered(&mut b), [(1, b"first".to_vec())]);
    // Stream 1 goes on at MID 2: the peer skipped MID 1.
    a.send(1, PPID_BINARY, false, b"after").unwrap();
    let sent = hop(&mut now, &mut a, &mut b, |_| false);
    assert_eq!(sent[0].idata[0].2, 2);
    assert_eq!(delivered(&mut b), [(1, b"after".to_vec())]);
    assert_eq!(b.stats().packets_dropped, 0);
}

/// RFC 8260 §2.2.1: once I-DATA is negotiated, a DATA chunk from the peer ends the
/// association with a Protocol Violation ABORT.
#[test]
fn data_after_idata_was_negotiated_is_a_protocol_violation() {
    use weft_sctp::engine::CloseReason;
    use weft_sctp::wire::{Checksum, Data, Packet, PacketWriter};
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let (mut a, mut b) = established_pair_with(start, true);
    delivered(&mut b);
    a.send(1, PPID_BINARY, false, b"x").unwrap();
    let p = a.poll_transmit(start).unwrap();
    let header = *Packet::parse_without_checksum(&p).unwrap().header();
    let mut forged = Vec::new();
    let mut w = PacketWriter::new(&mut forged, &header);
    Data {
        flags: Data::BEGINNING | Data::ENDING,
        tsn: 12345,
        stream_id: 1,
        ssn: 0,
        ppid: PPID_BINARY,
        payload: b"x",
    }
    .emit(w.buf())
    .unwrap();
    w.finish(Checksum::Crc32c);
    b.handle_packet(start, &forged);
    assert!(b.is_closed());
    let closed = std::iter::from_fn(|| b.poll_event())
        .find_map(|e| match e {
            EngineEvent::Closed(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        closed,
        CloseReason::ProtocolViolation(weft_sctp::wire::cause_code::PROTOCOL_VIOLATION)
    );
}

/// RFC 3758 §3.5 A3 for a message abandoned half sent: its first fragments reached the
/// peer and were acknowledged, its lifetime ended while the rest waited in the queue. The
/// sender gives the unsent rest one TSN, abandoned at once, so the (I-)FORWARD TSN reaches
/// past it and the peer drops the fragments it held: at the end the peer's window is
/// whole again, and the stream goes on. Both with DATA and with I-DATA.
#[test]
fn a_message_abandoned_half_sent_leaves_nothing_held_at_the_peer() {
    use weft_sctp::engine::SendPolicy;
    for interleaving in [false, true] {
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let (mut a, mut b) = established_pair_with(start, interleaving);
        delivered(&mut b);
        let mut now = start;
        let life = Duration::from_millis(100);
        a.send_with(
            now,
            1,
            PPID_BINARY,
            false,
            &[5; 30_000],
            SendPolicy::Lifetime(life),
        )
        .unwrap();
        // The first window goes and is acknowledged; the rest waits for the window to
        // grow, past the lifetime: b's SACKs are held back until then.
        let first = hop(&mut now, &mut a, &mut b, |_| false);
        let sent: usize = first.iter().map(|s| s.data.len() + s.idata.len()).sum();
        assert!((1..25).contains(&sent), "{sent} chunks in the first window");
        let mut acks = Vec::new();
        while let Some(p) = b.poll_transmit(now) {
            acks.push(p);
        }
        now = start + life;
        fire(now, &mut a);
        for p in acks {
            a.handle_packet(now, &p);
        }
        assert_eq!(a.stats().messages_abandoned, 1);
        let mut fwd = 0;
        for _ in 0..50 {
            for s in hop(&mut now, &mut a, &mut b, |_| false) {
                fwd += s.fwd.len() + s.ifwd.len();
            }
            hop(&mut now, &mut b, &mut a, |_| false);
            now += Duration::from_millis(50);
            fire(now, &mut a);
            fire(now, &mut b);
            if a.buffered_amount() == 0 && a.poll_timeout().is_none_or(|t| t > now + life) {
                break;
            }
        }
        assert!(fwd >= 1, "interleaving {interleaving}");
        assert!(delivered(&mut b).is_empty());
        assert_eq!(a.buffered_amount(), 0);
        // Nothing outstanding, so the peer's rwnd is its whole advertised window: it holds
        // none of the abandoned message's fragments.
        let s = a.stats();
        assert_eq!(s.flight_size, 0);
        assert_eq!(s.peer_rwnd, 8 * 1024 * 1024, "interleaving {interleaving}");
        a.send(1, PPID_BINARY, false, b"after").unwrap();
        hop(&mut now, &mut a, &mut b, |_| false);
        assert_eq!(delivered(&mut b), [(1, b"after".to_vec())]);
    }
}

/// RFC 8260 §3 with RFC 8831 §6.4 priorities: under I-DATA a stream sends priority/256
/// chunks per turn, so a 20 KB message on an extra-high stream (1024), sent after one on a
/// normal stream (256), arrives first; with equal priorities the first sent arrives first.
/// Under DATA priorities change nothing (first come, first served).
#[test]
fn priorities_weigh_the_turns_under_idata() {
    for (interleaving, urgent, first) in [(true, 1024, 2), (true, 256, 1), (false, 1024, 1)] {
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let (mut a, mut b) = established_pair_with(start, interleaving);
        delivered(&mut b);
        let mut now = start;
        a.set_stream_priority(1, 256);
        a.set_stream_priority(2, urgent);
        a.send(1, PPID_BINARY, false, &[1; 20_000]).unwrap();
        a.send(2, PPID_BINARY, false, &[2; 20_000]).unwrap();
        let mut got = Vec::new();
        for _ in 0..50 {
            hop(&mut now, &mut a, &mut b, |_| false);
            hop(&mut now, &mut b, &mut a, |_| false);
            got.extend(delivered(&mut b).into_iter().map(|m| m.0));
            if got.len() == 2 {
                break;
            }
        }
        assert_eq!(
            got[0], first,
            "interleaving {interleaving}, priority {urgent}: {got:?}"
        );
    }
}
