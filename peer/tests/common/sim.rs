//! Two weft peer connections joined by a weft-netsim network, on the virtual clock.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ring::rand::SystemRandom;
use weft_dtls_srtp::cert::{Certificate, Validity};
use weft_netsim::{LinkConfig, Network};
use weft_peer::{Event, Output, Rtc, RtcConfig, SessionDescription};

pub fn certificate() -> Arc<Certificate> {
    Arc::new(
        Certificate::generate_self_signed("weft", Validity::default(), &SystemRandom::new())
            .unwrap(),
    )
}

pub struct Peer {
    pub rtc: Rtc,
    pub addr: SocketAddr,
    pub events: Vec<Event>,
}

pub struct Sim {
    pub net: Network,
    pub a: Peer,
    pub b: Peer,
}

impl Sim {
    pub fn new(seed: u64, link: LinkConfig) -> Sim {
        Sim::with_config(seed, link, |_| {})
    }

    pub fn with_config(seed: u64, link: LinkConfig, tweak: impl Fn(&mut RtcConfig)) -> Sim {
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let mut net = Network::new(seed, start);
        net.add_host("10.0.0.1".parse().unwrap(), link.clone());
        net.add_host("10.0.0.2".parse().unwrap(), link);
        let mk = |n: u8| {
            let mut cfg = RtcConfig::new(certificate());
            tweak(&mut cfg);
            let mut seed_bytes = [n; 32];
            seed_bytes[1] = seed as u8;
            let addr: SocketAddr = format!("10.0.0.{n}:5000").parse().unwrap();
            let mut rtc = Rtc::new(start, cfg, seed_bytes);
            rtc.add_host_address(addr);
            Peer {
                rtc,
                addr,
                events: Vec::new(),
            }
        };
        let mut sim = Sim {
            net,
            a: mk(1),
            b: mk(2),
        };
        sim.flush();
        sim
    }

    pub fn now(&self) -> Instant {
        self.net.now()
    }

    fn flush_one(net: &mut Network, p: &mut Peer) {
        while let Some(o) = p.rtc.poll_output() {
            match o {
                Output::Transmit(t) => net.send(t.src, t.dst, &t.bytes),
                Output::Event(e) => p.events.push(e),
            }
        }
    }

    pub fn flush(&mut self) {
        Self::flush_one(&mut self.net, &mut self.a);
        Self::flush_one(&mut self.net, &mut self.b);
    }

    /// One step: deliver what is due, fire timers, or advance the clock to the next event.
    pub fn step(&mut self) {
        self.flush();
        if let Some(d) = self.net.poll_receive() {
            let now = self.net.now();
            let p = if d.dst == self.a.addr {
                &mut self.a
            } else {
                &mut self.b
            };
            p.rtc.handle_input(
                now,
                weft_peer::Input::Receive {
                    local: d.dst,
                    src: d.src,
                    bytes: &d.bytes,
                },
            );
            self.flush();
            return;
        }
        let next = [
            self.net.poll_timeout(),
            self.a.rtc.poll_timeout(),
            self.b.rtc.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let now = self.net.now();
        let t = next.unwrap_or(now + Duration::from_millis(10)).max(now);
        self.net.advance(t);
        for p in [&mut self.a, &mut self.b] {
            if p.rtc.poll_timeout().is_some_and(|x| x <= t) {
                p.rtc.handle_timeout(t);
            }
        }
        self.flush();
    }

    /// Steps until `done` holds or `limit` of virtual time passes; returns whether it held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Sim) -> bool) -> bool {
        let end = self.now() + limit;
        while self.now() < end {
            if done(self) {
                return true;
            }
            self.step();
        }
        done(self)
    }

    /// Non-trickle offer/answer: a offers, b answers, each description with its
    /// candidates.
    pub fn negotiate(&mut self) {
        let offer = self.a.rtc.create_offer(Default::default()).unwrap();
        self.a.rtc.set_local_description(offer).unwrap();
        let offer = self.a.rtc.local_description().unwrap();
        self.b.rtc.set_remote_description(offer).unwrap();
        let answer = self.b.rtc.create_answer().unwrap();
        self.b.rtc.set_local_description(answer).unwrap();
        let answer = self.b.rtc.local_description().unwrap();
        self.a.rtc.set_remote_description(answer).unwrap();
        self.flush();
    }

    pub fn swap(&mut self) {
        std::mem::swap(&mut self.a, &mut self.b);
    }
}

pub fn sdp(d: &Option<SessionDescription>) -> &str {
    &d.as_ref().unwrap().sdp
}
