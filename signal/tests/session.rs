//! Two PeerSessions, each over a weft Rtc, joined by weft-netsim for datagrams and by a
//! queue for signals (as a WebSocket relay would carry them, through the JSON messages).

#![allow(clippy::disallowed_methods)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ring::rand::SystemRandom;
use weft_dtls_srtp::cert::{Certificate, Validity};
use weft_netsim::{LinkConfig, Network};
use weft_peer::{ChannelOptions, Input, Rtc, RtcConfig};
use weft_signal::{CallState, PeerSession, SessionEvent, SessionOutput, Signal, WsMessage};

struct Side {
    s: PeerSession,
    addr: SocketAddr,
    events: Vec<SessionEvent>,
    /// Signals to the other side, through their JSON form.
    outbox: VecDeque<Signal>,
}

fn side(start: Instant, n: u8, tie: u64, trickle: bool) -> Side {
    let cert = Arc::new(
        Certificate::generate_self_signed("weft", Validity::default(), &SystemRandom::new())
            .unwrap(),
    );
    let addr: SocketAddr = format!("10.0.0.{n}:5000").parse().unwrap();
    let mut rtc = Rtc::new(start, RtcConfig::new(cert), [n; 32]);
    rtc.add_host_address(addr);
    rtc.create_data_channel("chat", ChannelOptions::default())
        .unwrap();
    Side {
        s: PeerSession::new(rtc, tie, trickle),
        addr,
        events: Vec::new(),
        outbox: VecDeque::new(),
    }
}

struct World {
    net: Network,
    a: Side,
    b: Side,
}

impl World {
    fn new(trickle: bool, tie_a: u64, tie_b: u64) -> World {
        let start = Instant::now();
        let mut net = Network::new(1, start);
        let link = LinkConfig::with_delay(Duration::from_millis(5));
        net.add_host("10.0.0.1".parse().unwrap(), link.clone());
        net.add_host("10.0.0.2".parse().unwrap(), link);
        World {
            a: side(start, 1, tie_a, trickle),
            b: side(start, 2, tie_b, trickle),
            net,
        }
    }

    fn drain(net: &mut Network, x: &mut Side) {
        while let Some(o) = x.s.poll_output() {
            match o {
                SessionOutput::Transmit(t) => net.send(t.src, t.dst, &t.bytes),
                SessionOutput::Signal(s) => x.outbox.push_back(s),
                SessionOutput::Event(e) => x.events.push(e),
            }
        }
    }

    /// Signals cross as WebSocket JSON and back.
    fn relay(from: &mut Side, to: &mut Side) {
        while let Some(sig) = from.outbox.pop_front() {
            let text = WsMessage::from_signal("room", "peer", &sig).to_text();
            let back = WsMessage::parse(&text).unwrap().to_signal().unwrap();
            assert_eq!(back, sig);
            let _ = to.s.handle_signal(back);
        }
    }

    fn step(&mut self) {
        Self::drain(&mut self.net, &mut self.a);
        Self::drain(&mut self.net, &mut self.b);
        Self::relay(&mut self.a, &mut self.b);
        Self::relay(&mut self.b, &mut self.a);
        Self::drain(&mut self.net, &mut self.a);
        Self::drain(&mut self.net, &mut self.b);
        if let Some(d) = self.net.poll_receive() {
            let now = self.net.now();
            let x = if d.dst == self.a.addr {
                &mut self.a
            } else {
                &mut self.b
            };
            x.s.handle_input(
                now,
                Input::Receive {
                    local: d.dst,
                    src: d.src,
                    bytes: &d.bytes,
                },
            );
            return;
        }
        let now = self.net.now();
        let next = [
            self.net.poll_timeout(),
            self.a.s.poll_timeout(),
            self.b.s.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(now + Duration::from_millis(10))
        .max(now);
        self.net.advance(next);
        for x in [&mut self.a, &mut self.b] {
            if x.s.poll_timeout().is_some_and(|t| t <= next) {
                x.s.handle_timeout(next);
            }
        }
    }

    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&World) -> bool) -> bool {
        let end = self.net.now() + limit;
        while self.net.now() < end {
            Self::drain(&mut self.net, &mut self.a);
            Self::drain(&mut self.net, &mut self.b);
            if done(self) {
                return true;
            }
            self.step();
        }
        Self::drain(&mut self.net, &mut self.a);
        Self::drain(&mut self.net, &mut self.b);
        done(self)
    }
}

fn states(events: &[SessionEvent]) -> Vec<CallState> {
    events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::State(s) => Some(*s),
            _ => None,
        })
        .collect()
}

fn call_and_hang_up(trickle: bool) {
    let mut w = World::new(trickle, 1, 2);
    w.a.s.call().unwrap();
    assert!(w.run_until(Duration::from_secs(1), |w| w.b.s.state()
        == CallState::IncomingInit));
    w.b.s.accept().unwrap();
    assert!(w.run_until(Duration::from_secs(10), |w| w.a.s.state()
        == CallState::Active
        && w.b.s.state() == CallState::Active));
    assert!(w.a.events.contains(&SessionEvent::AttachMedia));
    assert!(w.b.events.contains(&SessionEvent::AttachMedia));
    w.a.s.hangup();
    assert!(w.run_until(Duration::from_secs(2), |w| w.b.s.state()
        == CallState::Ended));
    use CallState::*;
    assert_eq!(
        states(&w.a.events),
        [OutgoingInit, Negotiating, Active, Ending, Ended]
    );
    assert_eq!(
        states(&w.b.events),
        [IncomingInit, Negotiating, Active, Ending, Ended]
    );
    assert!(w.a.events.contains(&SessionEvent::DetachMedia));
    assert!(w.b.events.contains(&SessionEvent::DetachMedia));
}

#[test]
fn a_call_with_candidates_in_the_descriptions() {
    call_and_hang_up(false);
}

/// Trickle: the descriptions carry no candidates; they follow as signals, some before
/// the description they belong to (queued).
#[test]
fn a_call_with_trickled_candidates() {
    call_and_hang_up(true);
}

#[test]
fn a_rejected_call_ends_both_sides() {
    let mut w = World::new(false, 1, 2);
    w.a.s.call().unwrap();
    assert!(w.run_until(Duration::from_secs(1), |w| w.b.s.state()
        == CallState::IncomingInit));
    w.b.s.reject("busy").unwrap();
    assert!(w.run_until(Duration::from_secs(1), |w| w.a.s.state()
        == CallState::Ended));
    assert!(w.a.events.contains(&SessionEvent::Rejected("busy".into())));
    assert!(!w.a.events.contains(&SessionEvent::AttachMedia));
    // Nothing fits an ended call.
    assert!(w.a.s.accept().is_err());
}

/// Both call at once: the higher tie-breaker stays the caller, the other accepts.
#[test]
fn crossing_calls_resolve_by_tie_breaker() {
    let mut w = World::new(false, 7, 3);
    w.a.s.call().unwrap();
    w.b.s.call().unwrap();
    assert!(w.run_until(Duration::from_secs(10), |w| w.a.s.state()
        == CallState::Active
        && w.b.s.state() == CallState::Active));
    use CallState::*;
    assert_eq!(states(&w.a.events), [OutgoingInit, Negotiating, Active]);
    assert_eq!(
        states(&w.b.events),
        [OutgoingInit, IncomingInit, Negotiating, Active]
    );
}
