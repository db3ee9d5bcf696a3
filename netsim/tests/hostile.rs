//! Hostile input to the built-in servers: seeded garbage and mutations of valid messages,
//! to the STUN server, the TURN server and a relayed address. Nothing may panic, malformed
//! datagrams are counted, and a legitimate allocation keeps working throughout.

mod util;

use std::net::SocketAddr;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use util::{addr, exchange, one_reply, request, settle, start};
use weft_netsim::{LinkConfig, NatConfig, Network};
use weft_stun::attr::{ChannelNumber, Data, Lifetime, RequestedTransport, XorPeerAddress};
use weft_stun::{ChannelData, Class, Framing, LongTermCredentials, Message, MessageType, Method};

const STUN: &str = "198.51.100.1:3478";
const TURN: &str = "198.51.100.10:3478";
const CLIENT: &str = "192.168.0.2:5000";
const ATTACKER: &str = "192.0.2.66:6666";

/// A client with an allocation, a permission and channel 0x4000 for the attacker's
/// address (so that mutated traffic reaches the deepest code), and the relayed address.
fn world(seed: u64) -> (Network, LongTermCredentials, SocketAddr) {
    let mut net = Network::new(seed, start());
    let nat = net.add_nat(
        "203.0.113.1".parse().unwrap(),
        NatConfig::full_cone().with_mapping_timeout(Duration::from_secs(86_400)),
        LinkConfig::default(),
    );
    // Jumbo links, to reach the servers' size limits.
    let jumbo = LinkConfig {
        mtu: 70_000,
        ..LinkConfig::default()
    };
    net.set_nat_link(nat, jumbo.clone());
    net.add_host_behind(nat, addr(CLIENT).ip(), jumbo.clone());
    net.add_host(addr(ATTACKER).ip(), jumbo.clone());
    net.add_stun_server(addr(STUN), LinkConfig::default());
    net.add_turn_server(
        addr(TURN),
        addr(TURN).ip(),
        "weft.test",
        &[("alice", "secret")],
        jumbo,
    );
    let mut creds = LongTermCredentials::new("alice", "secret");
    let udp = |b: &mut weft_stun::MessageBuilder<'_>| b.add(&RequestedTransport::UDP);
    let challenge = one_reply(
        &mut net,
        addr(CLIENT),
        addr(TURN),
        &request(Method::ALLOCATE, 1, None, udp),
    );
    assert!(creds
        .on_challenge(&Message::parse(&challenge.bytes).unwrap())
        .unwrap());
    let ok = one_reply(
        &mut net,
        addr(CLIENT),
        addr(TURN),
        &request(Method::ALLOCATE, 2, Some(&creds), udp),
    );
    let relay = Message::parse(&ok.bytes)
        .unwrap()
        .get::<weft_stun::attr::XorRelayedAddress>()
        .unwrap()
        .unwrap()
        .0;
    let bind = request(Method::CHANNEL_BIND, 3, Some(&creds), |b| {
        b.add(&ChannelNumber(0x4000))?;
        b.add(&XorPeerAddress(addr(ATTACKER)))
    });
    let reply = one_reply(&mut net, addr(CLIENT), addr(TURN), &bind);
    assert_eq!(
        Message::parse(&reply.bytes).unwrap().class(),
        Class::SuccessResponse
    );
    (net, creds, relay)
}

/// Valid messages of every kind the servers handle, to mutate.
fn seeds(creds: &LongTermCredentials) -> Vec<Vec<u8>> {
    let mut frame = vec![0u8; 64];
    let n = ChannelData {
        channel: 0x4000,
        data: b"channel payload",
    }
    .encode(Framing::Udp, &mut frame)
    .unwrap();
    frame.truncate(n);
    vec![
        util::binding_request(9),
        request(Method::ALLOCATE, 10, Some(creds), |b| {
            b.add(&RequestedTransport::UDP)
        }),
        request(Method::REFRESH, 11, Some(creds), |b| b.add(&Lifetime(600))),
        request(Method::CREATE_PERMISSION, 12, Some(creds), |b| {
            b.add(&XorPeerAddress(addr(ATTACKER)))
        }),
        request(Method::CHANNEL_BIND, 13, Some(creds), |b| {
            b.add(&ChannelNumber(0x4000))?;
            b.add(&XorPeerAddress(addr(ATTACKER)))
        }),
        util::message(
            MessageType::new(Method::SEND, Class::Indication),
            14,
            None,
            |b| {
                b.add(&XorPeerAddress(addr(ATTACKER)))?;
                b.add(&Data(b"send payload"))
            },
        ),
        frame,
    ]
}

fn mutate(rng: &mut ChaCha8Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    match rng.random_range(0..4) {
        // Pure noise, opening like STUN, like ChannelData, or anything.
        0 => {
            let len = rng.random_range(0..120);
            let mut b: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            if let Some(first) = b.first_mut() {
                *first = match rng.random_range(0..3) {
                    0 => rng.random_range(0..=3),
                    1 => rng.random_range(0x40..=0x4f),
                    _ => *first,
                };
            }
            b
        }
        // A valid message with a few bytes flipped (integrity and fingerprint then fail;
        // without FINGERPRINT, ChannelData and Send reach the relay logic).
        1 => {
            let mut b = seeds[rng.random_range(0..seeds.len())].clone();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..b.len());
                b[i] ^= 1 << rng.random_range(0..8);
            }
            b
        }
        // Truncated or extended.
        2 => {
            let mut b = seeds[rng.random_range(0..seeds.len())].clone();
            if rng.random() {
                b.truncate(rng.random_range(0..b.len()));
            } else {
                b.extend((0..rng.random_range(1..9)).map(|_| rng.random::<u8>()));
            }
            b
        }
        // A STUN header that parses, then attribute garbage.
        _ => {
            let body: Vec<u8> = (0..rng.random_range(0..16) * 4)
                .map(|_| rng.random())
                .collect();
            let mut b = vec![0x00, 0x03];
            b[1] = [0x01, 0x03, 0x04, 0x08, 0x09, 0x16][rng.random_range(0..6)];
            b.extend_from_slice(&(body.len() as u16).to_be_bytes());
            b.extend_from_slice(&weft_stun::MAGIC_COOKIE.to_be_bytes());
            b.extend((0..12).map(|_| rng.random::<u8>()));
            b.extend_from_slice(&body);
            b
        }
    }
}

#[test]
fn seeded_garbage_never_panics_and_is_counted() {
    let (mut net, creds, relay) = world(1);
    let seeds = seeds(&creds);
    let mut rng = ChaCha8Rng::seed_from_u64(0xbad);
    for round in 0..20_000u32 {
        let bytes = mutate(&mut rng, &seeds);
        let (from, to) = match round % 5 {
            0 => (addr(CLIENT), addr(STUN)),
            1 | 2 => (addr(CLIENT), addr(TURN)),
            3 => (addr(ATTACKER), addr(TURN)),
            _ => (addr(ATTACKER), relay),
        };
        net.send(from, to, &bytes);
        if round % 100 == 99 {
            settle(&mut net);
            while net.poll_receive().is_some() {}
        }
    }
    settle(&mut net);
    while net.poll_receive().is_some() {}
    let stats = net.stats().clone();
    assert!(stats.server_malformed > 5_000, "{stats:?}");
    assert!(
        stats.turn_requests > 0 && stats.stun_requests > 0,
        "{stats:?}"
    );

    // The client's allocation survived (a mutated Refresh cannot delete it: integrity),
    // and ChannelData still flows both ways. (Two flips of one bit restore a valid
    // request, so the attacker may hold a replayed allocation of its own: the nonce is
    // still fresh, as on a real server.)
    assert!(
        net.turn_allocations(addr(TURN))
            .iter()
            .any(|(_, r)| *r == relay),
        "{:?}",
        net.turn_allocations(addr(TURN))
    );
    let frame = *b"\x40\x00\x00\x05alive";
    let got = exchange(&mut net, addr(CLIENT), addr(TURN), &frame);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].src, got[0].bytes.as_slice()),
        (relay, &b"alive"[..])
    );
    let got = exchange(&mut net, addr(ATTACKER), relay, b"back");
    assert_eq!(ChannelData::decode(&got[0].bytes).unwrap().data, b"back");
}

#[test]
fn datagrams_at_the_udp_size_limit_are_dropped_not_panicked() {
    let (mut net, _, relay) = world(2);
    // Through the channel: 4 + 65,000 bytes fits a ChannelData frame and an IP datagram.
    let big = vec![7u8; 65_000];
    let got = exchange(&mut net, addr(ATTACKER), relay, &big);
    assert_eq!(got.len(), 1);
    assert_eq!(
        ChannelData::decode(&got[0].bytes).unwrap().data.len(),
        65_000
    );
    // The largest IPv4 UDP payload, from a permitted address without a channel: its Data
    // indication (36 bytes more) no longer fits an IP datagram and is dropped on the
    // server's link.
    let mtu_before = net.stats().dropped_mtu;
    let largest = vec![7u8; 65_535 - 28];
    assert!(exchange(&mut net, addr("192.0.2.66:6667"), relay, &largest).is_empty());
    assert_eq!(net.stats().dropped_mtu, mtu_before + 1);
    // Past the limit, even a jumbo link refuses it at the sender.
    assert!(exchange(&mut net, addr(ATTACKER), relay, &vec![7u8; 65_535 - 27]).is_empty());
    assert_eq!(net.stats().dropped_mtu, mtu_before + 2);
}

#[test]
fn malformed_framing_edge_cases_are_counted() {
    let (mut net, _, _) = world(3);
    let before = net.stats().server_malformed;
    let cases: [&[u8]; 6] = [
        b"\x40\x00\x00\x10short",            // ChannelData longer than the datagram
        b"\x40",                             // one byte
        b"\x00\x01\x00\x00\x21\x12\xa4\x42", // STUN header cut short
        b"\x00\x01\x00\x04\x21\x12\xa4\x42abcdefghijkl", // length says 4, none follow
        b"\x80\x00\x00\x00",                 // RTP-ish
        b"",                                 // empty
    ];
    for c in cases {
        assert!(exchange(&mut net, addr(CLIENT), addr(TURN), c).is_empty());
    }
    assert_eq!(net.stats().server_malformed, before + 6);
}
