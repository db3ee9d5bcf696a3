//! The built-in TURN server (RFC 8656), driven by a client made of weft-stun parts
//! (`MessageBuilder`, `LongTermCredentials`, `ChannelData`) from behind a NAT, with a peer
//! on the public network.

mod util;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use util::{addr, drain, exchange, mapped_address, one_reply, request, settle, start, step};
use weft_netsim::{Datagram, LinkConfig, NatConfig, Network};
use weft_stun::attr::{
    AddressFamily, ChannelNumber, Data, ErrorCode, Lifetime, Nonce, Realm, RequestedAddressFamily,
    RequestedTransport, UnknownAttributes, XorMappedAddress, XorPeerAddress, XorRelayedAddress,
};
use weft_stun::{
    ChannelData, Class, Error, Framing, LongTermCredentials, Message, MessageBuilder, Method,
};

const TURN: &str = "198.51.100.10:3478";
const REALM: &str = "weft.test";
const CLIENT: &str = "192.168.0.2:5000";
const CLIENT2: &str = "192.168.0.3:5000";
const PEER: &str = "192.0.2.50:7000";
const NAT_IP: &str = "203.0.113.1";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A client behind a port-restricted NAT (idle timeout 1 hour, so that the long waits
/// below test the TURN server's timers, not the NAT's), a TURN server relaying on
/// `relay_ip`, and a public peer.
fn world(seed: u64, relay_ip: &str) -> Network {
    let mut net = Network::new(seed, start());
    let nat_config =
        NatConfig::port_restricted_cone().with_mapping_timeout(Duration::from_secs(3600));
    let nat = net.add_nat(ip(NAT_IP), nat_config, LinkConfig::default());
    let lan = LinkConfig::with_delay(Duration::from_millis(1));
    net.add_host_behind(nat, addr(CLIENT).ip(), lan.clone());
    net.add_host_behind(nat, addr(CLIENT2).ip(), lan);
    net.add_host(
        addr(PEER).ip(),
        LinkConfig::with_delay(Duration::from_millis(15)),
    );
    net.add_turn_server(
        addr(TURN),
        ip(relay_ip),
        REALM,
        &[("alice", "secret"), ("bob", "hunter2")],
        LinkConfig::with_delay(Duration::from_millis(10)),
    );
    net
}

struct Client {
    local: SocketAddr,
    creds: LongTermCredentials,
    txid: u8,
}

impl Client {
    fn new(local: &str, user: &str, password: &str) -> Self {
        Client {
            local: addr(local),
            creds: LongTermCredentials::new(user, password),
            txid: 0,
        }
    }

    /// Sends a request with whatever credentials the last challenge gave (none before
    /// one) and returns the single response.
    fn send(
        &mut self,
        net: &mut Network,
        method: Method,
        body: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), Error>,
    ) -> Vec<u8> {
        self.txid += 1;
        let creds = self.creds.key().is_some().then_some(&self.creds);
        let req = request(method, self.txid, creds, body);
        let reply = one_reply(net, self.local, addr(TURN), &req);
        assert_eq!(reply.src, addr(TURN));
        let msg = Message::parse(&reply.bytes).unwrap();
        msg.verify_fingerprint().unwrap();
        assert_eq!(msg.transaction_id().0, [self.txid; 12]);
        assert_eq!(msg.method(), method);
        reply.bytes
    }

    /// Checks an authenticated response's MESSAGE-INTEGRITY with our key.
    fn verify(&self, bytes: &[u8]) {
        let msg = Message::parse(bytes).unwrap();
        msg.verify_message_integrity(self.creds.key().unwrap().as_ref())
            .unwrap();
    }

    /// A request expected to succeed; returns the verified response.
    fn ok(
        &mut self,
        net: &mut Network,
        method: Method,
        body: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), Error>,
    ) -> Vec<u8> {
        let bytes = self.send(net, method, body);
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(
            msg.class(),
            Class::SuccessResponse,
            "seed {}: {:?}",
            net.seed(),
            msg.get::<ErrorCode>()
        );
        self.verify(&bytes);
        bytes
    }

    /// A request expected to fail with `code`; returns the response.
    fn fails(
        &mut self,
        net: &mut Network,
        method: Method,
        code: u16,
        body: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), Error>,
    ) -> Vec<u8> {
        let bytes = self.send(net, method, body);
        assert_eq!(error_code(&bytes), Some(code));
        bytes
    }

    /// RFC 8656 §7.1: Allocate, challenged first. Returns (relayed, mapped, lifetime).
    fn allocate(&mut self, net: &mut Network) -> (SocketAddr, SocketAddr, u32) {
        if self.creds.key().is_none() {
            let challenge = self.fails(net, Method::ALLOCATE, 401, udp);
            let msg = Message::parse(&challenge).unwrap();
            assert!(self.creds.on_challenge(&msg).unwrap());
        }
        let bytes = self.ok(net, Method::ALLOCATE, udp);
        let msg = Message::parse(&bytes).unwrap();
        let XorRelayedAddress(relay) = msg.get().unwrap().unwrap();
        let XorMappedAddress(mapped) = msg.get().unwrap().unwrap();
        let Lifetime(lifetime) = msg.get().unwrap().unwrap();
        (relay, mapped, lifetime)
    }

    fn create_permission(&mut self, net: &mut Network, peer: SocketAddr) {
        self.ok(net, Method::CREATE_PERMISSION, |b| {
            b.add(&XorPeerAddress(peer))
        });
    }

    fn send_indication(&self, net: &mut Network, peer: SocketAddr, data: &[u8]) {
        let ind = util::message(
            weft_stun::MessageType::new(Method::SEND, Class::Indication),
            0xaa,
            None,
            |b| {
                b.add(&XorPeerAddress(peer))?;
                b.add(&Data(data))
            },
        );
        net.send(self.local, addr(TURN), &ind);
    }

    fn channel_data(&self, net: &mut Network, channel: u16, data: &[u8]) {
        let frame = ChannelData { channel, data };
        let mut buf = vec![0u8; frame.encoded_len(Framing::Udp)];
        frame.encode(Framing::Udp, &mut buf).unwrap();
        net.send(self.local, addr(TURN), &buf);
    }
}

fn udp(b: &mut MessageBuilder<'_>) -> Result<(), Error> {
    b.add(&RequestedTransport::UDP)
}

fn error_code(bytes: &[u8]) -> Option<u16> {
    let msg = Message::parse(bytes).unwrap();
    msg.get::<ErrorCode>().unwrap().map(|e| e.code)
}

/// The one datagram delivered after settling.
fn delivered(net: &mut Network) -> Vec<Datagram> {
    settle(net);
    drain(net)
}

/// A Data indication's (XOR-PEER-ADDRESS, DATA).
fn data_indication(d: &Datagram) -> (SocketAddr, Vec<u8>) {
    assert_eq!(d.src, addr(TURN));
    let msg = Message::parse(&d.bytes).unwrap();
    assert_eq!(msg.method(), Method::DATA);
    assert_eq!(msg.class(), Class::Indication);
    msg.verify_fingerprint().unwrap();
    let XorPeerAddress(peer) = msg.get().unwrap().unwrap();
    let Data(data) = msg.get().unwrap().unwrap();
    (peer, data.to_vec())
}

#[test]
fn allocate_is_challenged_then_succeeds() {
    let mut net = world(1, "198.51.100.10");
    let mut alice = Client::new(CLIENT, "alice", "secret");

    let challenge = alice.fails(&mut net, Method::ALLOCATE, 401, udp);
    let msg = Message::parse(&challenge).unwrap();
    assert_eq!(msg.get::<Realm>().unwrap(), Some(Realm(REALM)));
    let Nonce(nonce) = msg.get().unwrap().unwrap();
    assert!(!nonce.is_empty());
    assert!(
        !msg.has_message_integrity(),
        "RFC 8489 §9.2.4: no integrity on a 401"
    );
    assert!(alice.creds.on_challenge(&msg).unwrap());

    let (relay, mapped, lifetime) = alice.allocate(&mut net);
    assert_eq!(relay.ip(), ip("198.51.100.10"));
    assert!(relay.port() >= 49152, "{relay}");
    assert_ne!(relay, addr(TURN));
    assert_eq!(
        mapped.ip(),
        ip(NAT_IP),
        "XOR-MAPPED-ADDRESS is the NAT's mapping"
    );
    assert_eq!(lifetime, 600);
    assert_eq!(net.turn_allocations(addr(TURN)), vec![(mapped, relay)]);
    assert_eq!(net.stats().turn_requests, 2);
    assert_eq!(net.stats().turn_errors, 1);

    // A second client gets its own relayed address.
    let mut bob = Client::new(CLIENT2, "bob", "hunter2");
    let (relay2, mapped2, _) = bob.allocate(&mut net);
    assert_ne!(relay2, relay);
    assert_ne!(mapped2, mapped);
    assert_eq!(net.turn_allocations(addr(TURN)).len(), 2);
}

#[test]
fn wrong_password_and_unknown_user_get_401() {
    let mut net = world(2, "198.51.100.10");
    for (user, password) in [("alice", "wrong"), ("mallory", "secret")] {
        let mut c = Client::new(CLIENT, user, password);
        let challenge = c.fails(&mut net, Method::ALLOCATE, 401, udp);
        assert!(c
            .creds
            .on_challenge(&Message::parse(&challenge).unwrap())
            .unwrap());
        let reply = c.fails(&mut net, Method::ALLOCATE, 401, udp);
        assert!(!Message::parse(&reply).unwrap().has_message_integrity());
    }
    assert!(net.turn_allocations(addr(TURN)).is_empty());
}

#[test]
fn send_and_data_indications_relay_both_ways_with_a_permission() {
    let mut net = world(3, "198.51.100.10");
    let mut alice = Client::new(CLIENT, "alice", "secret");
    let (relay, _, _) = alice.allocate(&mut net);

    // No permission yet: nothing is relayed either way (RFC 8656 §9).
    assert!(exchange(&mut net, addr(PEER), relay, b"early").is_empty());
    alice.send_indication(&mut net, addr(PEER), b"too soon");
    assert!(delivered(&mut net).is_empty());
    assert_eq!(net.stats().turn_relay_denied, 2);
    assert_eq!(net.stats().turn_relayed, 0);

    alice.create_permission(&mut net, addr(PEER));

    alice.send_indication(&mut net, addr(PEER), b"hello peer");
    let got = delivered(&mut net);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].src, relay, "the peer sees the relayed address");
    assert_eq!(got[0].dst, addr(PEER));
    assert_eq!(got[0].bytes, b"hello peer");

    let got = exchange(&mut net, addr(PEER), relay, b"hello alice");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].dst, addr(CLIENT));
    assert_eq!(
        data_indication(&got[0]),
        (addr(PEER), b"hello alice".to_vec())
    );

    // Permissions are per IP address: another port of the peer gets through too.
    let got = exchange(&mut net, addr("192.0.2.50:7001"), relay, b"other port");
    assert_eq!(data_indication(&got[0]).0, addr("192.0.2.50:7001"));
    // Another IP does not.
    net.add_host(ip("192.0.2.51"), LinkConfig::default());
    assert!(exchange(&mut net, addr("192.0.2.51:7000"), relay, b"stranger").is_empty());
    assert_eq!(net.stats().turn_relay_denied, 3);
    assert_eq!(net.stats().turn_relayed, 3);
}

#[test]
fn channel_data_flows_both_ways_after_channel_bind() {
    let mut net = world(4, "198.51.100.10");
    let mut alice = Client::new(CLIENT, "alice", "secret");
    let (relay, _, _) = alice.allocate(&mut net);

    // ChannelBind installs the permission too (RFC 8656 §11).
    alice.ok(&mut net, Method::CHANNEL_BIND, |b| {
        b.add(&ChannelNumber(0x4000))?;
        b.add(&XorPeerAddress(addr(PEER)))
    });

    alice.channel_data(&mut net, 0x4000, b"over the channel");
    let got = delivered(&mut net);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].src, got[0].dst), (relay, addr(PEER)));
    assert_eq!(got[0].bytes, b"over the channel");

    let got = exchange(&mut net, addr(PEER), relay, b"and back");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].src, addr(TURN));
    let frame = ChannelData::decode(&got[0].bytes).unwrap();
    assert_eq!(frame.channel, 0x4000);
    assert_eq!(frame.data, b"and back");

    // The same IP on another port has the permission but no channel: a Data indication.
    let got = exchange(&mut net, addr("192.0.2.50:7001"), relay, b"no channel");
    assert_eq!(data_indication(&got[0]).1, b"no channel");

    // An unbound channel relays nothing.
    alice.channel_data(&mut net, 0x4001, b"unbound");
    assert!(delivered(&mut net).is_empty());
    assert_eq!(net.stats().turn_relay_denied, 1);
}

#[test]
fn channel_bind_rules() {
    let mut net = world(5, "198.51.100.10");
    let mut alice = Client::new(CLIENT, "alice", "secret");
    alice.allocate(&mut net);
    let bind = |channel: u16, peer: &'static str| {
        move |b: &mut MessageBuilder<'_>| {
            b.add(&ChannelNumber(channel))?;
            b.add(&XorPeerAddress(addr(peer)))
        }
    };
    // RFC 8656 §12: 0x4000 through 0x4FFF only.
    alice.fails(&mut net, Method::CHANNEL_BIND, 400, bind(0x3fff, PEER));
    alice.fails(&mut net, Method::CHANNEL_BIND, 400, bind(0x5000, PEER));
    alice.ok(&mut net, Method::CHANNEL_BIND, bind(0x4000, PEER));
    // RFC 8656 §11.2: not the same channel to another peer, nor another channel to the peer.
    alice.fails(
        &mut net,
        Method::CHANNEL_BIND,
        400,
        bind(0x4000, "192.0.2.60:1"),
    );
    alice.fails(&mut net, Method::CHANNEL_BIND, 400, bind(0x4001, PEER));
    // Rebinding the same pair refreshes it.
    alice.ok(&mut net, Method::CHANNEL_BIND, bind(0x4000, PEER));
    // Errors after authentication carry MESSAGE-INTEGRITY.
    let reply = alice.fails(&mut net, Method::CHANNEL_BIND, 400, |b| {
        b.add(&XorPeerAddress(addr(PEER)))
    });
    alice.verify(&reply);
    // An IPv6 peer on an IPv4 relay: 443.
    alice.fails(
        &mut net,
        Method::CHANNEL_BIND,
        443,
        bind(0x4002, "[2001:db8::1]:9"),
    );
}

#[test]
fn permissions_expire_after_five_minutes() {
    let mut net = world(6, "198.51.100.10");
    let mut alice = Client::new(CLIENT, "alice", "secret");
    let (relay, _, _) = alice.allocate(&mut net);
    alice.create_permission(&mut net, addr(PEER)); // installed about now
    step(&mut net, Duration::from_secs(297));
    assert_eq!(exchange(&mut net, addr(PEER), relay, b"in time").len(), 1);
    step(&mut net, Duration::from_secs(2)); // 300 s and a few ms after it was installed
    assert!(exchange(&mut net, addr(PEER), relay, b"too late").is_empty());
    assert_eq!(net.stats().turn_relay_denied, 1);
    // Refreshing it brings the peer back.
    alice.create_permission(&mut net, addr(PEER));
    assert_eq!(exchange(&mut net, addr(PEER), relay, b"again").len(), 1);
}

#[test]
fn refresh_extends_the_allocation_and_lifetime_zero_deletes_it() {
    let mut net = world(7, "198.51.100.10");
    let mut alice = Client::new(CLIENT, "alice", "secret");
    let (relay, _, _) = alice.allocate(&mut net);
    step(&mut net, Duration::from_secs(500));
    let reply = alice.ok(&mut net, Method::REFRESH, |b| b.add(&Lifetime(600)));
    assert_eq!(
        Message::parse(&reply).unwrap().get::<Lifetime>().unwrap(),
        Some(Lifetime(600))
    );
    step(&mut net, Duration::from_secs(500)); // 1000 s: past the first lifetime
    assert_eq!(net.turn_allocations(addr(TURN)).len(), 1);
    alice.create_permission(&mut net, addr(PEER));
    assert_eq!(exchange(&mut net, addr(PEER), relay, b"alive").len(), 1);

    // RFC 8656 §7.3: the lifetime is clamped to the maximum and raised to the default.
    let lifetime = |bytes: Vec<u8>| Message::parse(&bytes).unwrap().get::<Lifetime>().unwrap();
    let long = alice.ok(&mut net, Method::REFRESH, |b| b.add(&Lifetime(100_000)));
    assert_eq!(lifetime(long), Some(Lifetime(3600)));
    let short = alice.ok(&mut net, Method::REFRESH, |b| b.add(&Lifetime(30)));
    assert_eq!(lifetime(short), Some(Lifetime(600)));

    let gone = alice.ok(&mut net, Method::REFRESH, |b| b.add(&Lifetime(0)));
    assert_eq!(lifetime(gone), Some(Lifetime(0)));
    assert!(net.turn_allocations(addr(TURN)).is_empty());
    let before = net.stats().dropped_no_route;
    assert!(exchange(&mut net, addr(PEER), relay, b"anyone?").is_empty());
    assert_eq!(net.stats().dropped_no_route, before + 1);
    // No allocation left to refresh: 437, with integrity.
    let reply = alice.fails(&mut net, Method::REFRESH, 437, |_| Ok(()));
    alice.verify(&reply);
}

#[test]
fn allocation_expires_at_its_lifetime_on_the_virtual_clock() {
    let mut net = world(8, "198.51.100.10");
    let mut alice = Client::new(CLIENT, "alice", "secret");
    let t0 = net.now();
    let (relay, _, lifetime) = alice.allocate(&mut net);
    alice.create_permission(&mut net, addr(PEER));
    // Nothing in flight: the next thing due is the allocation's expiry, 600 s after the
    // server made it (the second Allocate reached it after 1 s + 11 ms).
    let expiry = net.poll_timeout().unwrap();
    let expected = t0
        + Duration::from_secs(1)
        + Duration::from_millis(11)
        + Duration::from_secs(u64::from(lifetime));
    assert_eq!(expiry, expected);
    // Permissions last 300 s: renew it near the end.
    net.advance(expiry - Duration::from_secs(60));
    alice.create_permission(&mut net, addr(PEER));
    net.advance(expiry - Duration::from_millis(30));
    assert_eq!(net.turn_allocations(addr(TURN)).len(), 1);
    // Reaches the server 5 ms before the expiry; exchange() then runs on for a second,
    // through the expiry timer.
    assert_eq!(
        exchange(&mut net, addr(PEER), relay, b"just in time").len(),
        1
    );
    assert!(net.now() > expiry);
    assert!(net.turn_allocations(addr(TURN)).is_empty());
    assert_eq!(net.poll_timeout(), None);
    assert!(exchange(&mut net, addr(PEER), relay, b"gone").is_empty());
    // The 5-tuple is free again: a new Allocate succeeds (no 437).
    let (relay2, _, _) = alice.allocate(&mut net);
    assert_ne!(relay2, relay);
}

#[test]
fn stale_nonce_gets_438_and_a_retry_with_the_new_one_succeeds() {
    let mut net = world(9, "198.51.100.10");
    net.set_turn_nonce_lifetime(addr(TURN), Duration::from_secs(30));
    let mut alice = Client::new(CLIENT, "alice", "secret");
    alice.allocate(&mut net);
    let old_nonce = alice.creds.nonce().unwrap().to_owned();
    step(&mut net, Duration::from_secs(31));

    let stale = alice.fails(&mut net, Method::CREATE_PERMISSION, 438, |b| {
        b.add(&XorPeerAddress(addr(PEER)))
    });
    let msg = Message::parse(&stale).unwrap();
    assert_eq!(msg.get::<Realm>().unwrap(), Some(Realm(REALM)));
    assert!(alice.creds.on_challenge(&msg).unwrap());
    assert_ne!(alice.creds.nonce().unwrap(), old_nonce);

    alice.create_permission(&mut net, addr(PEER));
    assert_eq!(net.stats().turn_errors, 2); // the first 401 and the 438
}

#[test]
fn a_second_allocate_on_the_same_five_tuple_is_437_a_retransmission_is_not() {
    let mut net = world(10, "198.51.100.10");
    let mut alice = Client::new(CLIENT, "alice", "secret");
    let challenge = alice.fails(&mut net, Method::ALLOCATE, 401, udp);
    alice
        .creds
        .on_challenge(&Message::parse(&challenge).unwrap())
        .unwrap();
    let req = request(Method::ALLOCATE, 77, Some(&alice.creds), udp);
    let first = one_reply(&mut net, addr(CLIENT), addr(TURN), &req);
    let again = one_reply(&mut net, addr(CLIENT), addr(TURN), &req);
    let relayed = |d: &Datagram| {
        Message::parse(&d.bytes)
            .unwrap()
            .get::<XorRelayedAddress>()
            .unwrap()
            .unwrap()
    };
    assert_eq!(relayed(&first), relayed(&again));

    let reply = alice.fails(&mut net, Method::ALLOCATE, 437, udp);
    alice.verify(&reply);
    assert_eq!(net.turn_allocations(addr(TURN)).len(), 1);
}

#[test]
fn allocate_checks_transport_family_and_attributes() {
    let mut net = world(11, "198.51.100.10");
    let mut alice = Client::new(CLIENT, "alice", "secret");
    let challenge = alice.fails(&mut net, Method::ALLOCATE, 401, udp);
    alice
        .creds
        .on_challenge(&Message::parse(&challenge).unwrap())
        .unwrap();
    // RFC 8656 §7.2: REQUESTED-TRANSPORT is required, and only UDP is relayed.
    alice.fails(&mut net, Method::ALLOCATE, 400, |_| Ok(()));
    alice.fails(&mut net, Method::ALLOCATE, 442, |b| {
        b.add(&RequestedTransport(6))
    });
    // An IPv6 relay from an IPv4-only server: 440.
    alice.fails(&mut net, Method::ALLOCATE, 440, |b| {
        udp(b)?;
        b.add(&RequestedAddressFamily(AddressFamily::Ipv6))
    });
    // An unknown comprehension-required attribute: 420, with integrity.
    let reply = alice.fails(&mut net, Method::ALLOCATE, 420, |b| {
        udp(b)?;
        b.add_raw(0x7ffe, &[1, 2, 3, 4])
    });
    alice.verify(&reply);
    let msg = Message::parse(&reply).unwrap();
    let unknown: Vec<u16> = msg
        .get::<UnknownAttributes>()
        .unwrap()
        .unwrap()
        .types()
        .collect();
    assert_eq!(unknown, vec![0x7ffe]);
    assert!(net.turn_allocations(addr(TURN)).is_empty());
    // Another user on a 5-tuple with an allocation: 441 (RFC 8656 §5).
    alice.allocate(&mut net);
    let mut bob = Client::new(CLIENT, "bob", "hunter2");
    let challenge = bob.fails(&mut net, Method::REFRESH, 401, |_| Ok(()));
    bob.creds
        .on_challenge(&Message::parse(&challenge).unwrap())
        .unwrap();
    bob.fails(&mut net, Method::REFRESH, 441, |_| Ok(()));
}

#[test]
fn relayed_addresses_can_live_on_their_own_ip() {
    let mut net = world(12, "198.51.100.11");
    let mut alice = Client::new(CLIENT, "alice", "secret");
    let (relay, _, _) = alice.allocate(&mut net);
    assert_eq!(relay.ip(), ip("198.51.100.11"));
    alice.create_permission(&mut net, addr(PEER));
    alice.send_indication(&mut net, addr(PEER), b"from the relay ip");
    let got = delivered(&mut net);
    assert_eq!(got[0].src, relay);
    let got = exchange(&mut net, addr(PEER), relay, b"to the relay ip");
    assert_eq!(data_indication(&got[0]).1, b"to the relay ip");
}

#[test]
fn the_turn_server_answers_binding_requests() {
    let mut net = world(13, "198.51.100.10");
    let reply = one_reply(
        &mut net,
        addr(CLIENT),
        addr(TURN),
        &util::binding_request(5),
    );
    assert_eq!(mapped_address(&reply.bytes).ip(), ip(NAT_IP));
    assert_eq!(net.stats().stun_requests, 1);
    assert_eq!(net.stats().turn_requests, 0);
}
