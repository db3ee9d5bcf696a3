//! Two data channel associations joined by a weft-netsim link, on the virtual clock.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use weft_netsim::{LinkConfig, Network};
use weft_sctp::{Association, Config, EngineKind, Event, Output, Role};

pub struct Sim {
    pub net: Network,
    /// The DTLS client side.
    pub a: Association,
    /// The DTLS server side.
    pub b: Association,
    pub a_addr: SocketAddr,
    pub b_addr: SocketAddr,
    pub events_a: Vec<Event>,
    pub events_b: Vec<Event>,
}

/// Every test's configuration: weft's defaults for `role` over the `engine` chosen, with
/// a fixed seed for weft's engine so that a run replays bit for bit.
pub fn config(engine: EngineKind, role: Role) -> Config {
    Config {
        engine,
        rng_seed: Some(if role == Role::Client { 1 } else { 2 }),
        interleaving: !DATA_ONLY.with(|d| d.get()),
        ..Config::new(role)
    }
}

thread_local! {
    /// This test's weft engines do not declare I-DATA, so two of them talk DATA (each
    /// test runs on its own thread).
    pub static DATA_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `$name(kind: EngineKind)` as one test per SCTP engine: `$name::sctp_proto` and
/// `$name::weft`. For tests between two of our associations, `both_engines!(with_data:
/// ...)` adds `$name::weft_data`, where the weft engines do not declare I-DATA, so they
/// talk DATA (as with peers that lack it) where `$name::weft` interleaves in I-DATA (RFC
/// 8260).
#[allow(unused_macros)]
macro_rules! both_engines {
    (with_data: $($name:ident),* $(,)?) => {
        $(
            both_engines!(@mod $name,
                #[test]
                fn weft_data() {
                    crate::common::DATA_ONLY.with(|d| d.set(true));
                    super::$name(weft_sctp::EngineKind::Weft)
                }
            );
        )*
    };
    (@mod $name:ident, $($extra:item)*) => {
        mod $name {
            #[test]
            fn sctp_proto() {
                super::$name(weft_sctp::EngineKind::SctpProto)
            }
            #[test]
            fn weft() {
                super::$name(weft_sctp::EngineKind::Weft)
            }
            $($extra)*
        }
    };
    ($($name:ident),* $(,)?) => {
        $( both_engines!(@mod $name,); )*
    };
}

/// `$name(kind: EngineKind)` as a test over sctp-proto only, for what weft's engine
/// lacks (the caller names it in a comment).
#[allow(unused_macros)]
macro_rules! sctp_proto_only {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sctp_proto() {
                    super::$name(weft_sctp::EngineKind::SctpProto)
                }
            }
        )*
    };
}

impl Sim {
    pub fn new(engine: EngineKind, seed: u64, link: LinkConfig) -> Sim {
        Sim::with_configs(
            seed,
            link,
            config(engine, Role::Client),
            config(engine, Role::Server),
        )
    }

    pub fn with_configs(seed: u64, link: LinkConfig, ca: Config, cb: Config) -> Sim {
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let mut net = Network::new(seed, start);
        net.add_host("10.0.0.1".parse().unwrap(), link.clone());
        net.add_host("10.0.0.2".parse().unwrap(), link);
        let mut sim = Sim {
            a: Association::new(start, ca),
            b: Association::new(start, cb),
            net,
            a_addr: "10.0.0.1:9".parse().unwrap(),
            b_addr: "10.0.0.2:9".parse().unwrap(),
            events_a: Vec::new(),
            events_b: Vec::new(),
        };
        sim.flush();
        sim
    }

    pub fn now(&self) -> Instant {
        self.net.now()
    }

    /// Sends what both sides have queued and collects their events.
    pub fn flush(&mut self) {
        while let Some(o) = self.a.poll_output() {
            match o {
                Output::Transmit(p) => self.net.send(self.a_addr, self.b_addr, &p),
                Output::Event(e) => self.events_a.push(e),
            }
        }
        while let Some(o) = self.b.poll_output() {
            match o {
                Output::Transmit(p) => self.net.send(self.b_addr, self.a_addr, &p),
                Output::Event(e) => self.events_b.push(e),
            }
        }
    }

    /// Advances to the next network delivery or timer; false when nothing is pending.
    pub fn step(&mut self) -> bool {
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
                self.a.handle_input(t, &d.bytes);
            } else {
                self.b.handle_input(t, &d.bytes);
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

    /// Steps until `done` holds; panics when `limit` of virtual time passes first.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Sim) -> bool) {
        let deadline = self.net.now() + limit;
        loop {
            self.flush();
            if done(self) {
                return;
            }
            assert!(self.net.now() <= deadline, "virtual time limit passed");
            assert!(
                self.step(),
                "nothing pending and the condition does not hold"
            );
        }
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let deadline = self.net.now() + d;
        self.flush();
        while self.step() && self.net.now() < deadline {}
    }

    pub fn connect(&mut self) {
        self.run_until(Duration::from_secs(120), |s| {
            s.a.is_established() && s.b.is_established()
        });
        // Two weft engines use I-DATA unless the test turned it off (RFC 8260 §2.2.1).
        let mode = |x: &Association| x.stats().engine.map(|e| e.interleaving);
        if let (Some(a), Some(b)) = (mode(&self.a), mode(&self.b)) {
            let want = !DATA_ONLY.with(|d| d.get());
            assert_eq!((a, b), (want, want), "I-DATA negotiated");
        }
    }
}

pub fn lossy(loss: f64) -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(10),
        jitter: Duration::from_millis(4),
        loss,
        duplicate: if loss > 0.0 { 0.02 } else { 0.0 },
        reorder: if loss > 0.0 { 0.05 } else { 0.0 },
        reorder_delay: Duration::from_millis(15),
        mtu: 1500,
        ..LinkConfig::default()
    }
}

/// Every message delivered on `id` so far, in order.
pub fn messages(events: &[Event], id: u16) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message { id: i, data, .. } if *i == id => Some(data.to_vec()),
            _ => None,
        })
        .collect()
}

/// The ids the peer opened, in order.
pub fn remote_opens(events: &[Event]) -> Vec<u16> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChannelOpen { id, remote: true } => Some(*id),
            _ => None,
        })
        .collect()
}

/// A message whose bytes say which one it is: `n` as 4 bytes, then a pattern.
pub fn numbered(n: u32, len: usize) -> Vec<u8> {
    let mut m = n.to_be_bytes().to_vec();
    m.extend((0..len.saturating_sub(4)).map(|i| (i as u32 ^ n) as u8));
    m
}

pub fn number_of(m: &[u8]) -> u32 {
    u32::from_be_bytes([m[0], m[1], m[2], m[3]])
}
