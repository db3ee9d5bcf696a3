//! The built-in STUN server: Binding answers carry the source it sees, which behind a NAT
//! is the NAT's mapping (the server-reflexive address of RFC 8445 §5.1.1.2).

mod util;

use std::time::Duration;

use util::{addr, binding_request, exchange, mapped_address, message, one_reply, request, start};
use weft_netsim::{LinkConfig, NatConfig, NatId, Network};
use weft_stun::attr::{ErrorCode, UnknownAttributes};
use weft_stun::{Class, Message, MessageType, Method};

const STUN1: &str = "198.51.100.1:3478";
const STUN2: &str = "198.51.100.2:3478";
const INTERNAL: &str = "192.168.0.2:5000";

fn behind_nat(seed: u64, config: NatConfig) -> (Network, NatId) {
    let mut net = Network::new(seed, start());
    let nat = net.add_nat(
        "203.0.113.1".parse().unwrap(),
        config,
        LinkConfig::default(),
    );
    net.add_host_behind(
        nat,
        addr(INTERNAL).ip(),
        LinkConfig::with_delay(Duration::from_millis(2)),
    );
    net.add_stun_server(
        addr(STUN1),
        LinkConfig::with_delay(Duration::from_millis(20)),
    );
    net.add_stun_server(
        addr(STUN2),
        LinkConfig::with_delay(Duration::from_millis(30)),
    );
    (net, nat)
}

#[test]
fn binding_answer_is_the_nats_public_mapping() {
    let (mut net, nat) = behind_nat(1, NatConfig::port_restricted_cone());
    let reply = one_reply(&mut net, addr(INTERNAL), addr(STUN1), &binding_request(1));
    assert_eq!(reply.src, addr(STUN1));
    assert_eq!(reply.dst, addr(INTERNAL));
    let mapped = mapped_address(&reply.bytes);
    assert_eq!(net.nat_mappings(nat), vec![(addr(INTERNAL), mapped)]);
    assert_eq!(
        mapped.ip(),
        "203.0.113.1".parse::<std::net::IpAddr>().unwrap()
    );
    let msg = Message::parse(&reply.bytes).unwrap();
    assert_eq!(msg.transaction_id().0, [1; 12]);
    assert_eq!(net.stats().stun_requests, 1);
}

#[test]
fn endpoint_independent_mapping_shows_one_address_to_two_servers() {
    let (mut net, _) = behind_nat(2, NatConfig::port_restricted_cone());
    let a = mapped_address(
        &one_reply(&mut net, addr(INTERNAL), addr(STUN1), &binding_request(1)).bytes,
    );
    let b = mapped_address(
        &one_reply(&mut net, addr(INTERNAL), addr(STUN2), &binding_request(2)).bytes,
    );
    assert_eq!(a, b);
}

#[test]
fn symmetric_nat_shows_two_servers_two_addresses() {
    let (mut net, _) = behind_nat(3, NatConfig::symmetric());
    let a = mapped_address(
        &one_reply(&mut net, addr(INTERNAL), addr(STUN1), &binding_request(1)).bytes,
    );
    let b = mapped_address(
        &one_reply(&mut net, addr(INTERNAL), addr(STUN2), &binding_request(2)).bytes,
    );
    assert_eq!(a.ip(), b.ip());
    assert_ne!(a.port(), b.port());
    assert_eq!(net.stats().stun_requests, 2);
}

#[test]
fn a_public_host_sees_its_own_address() {
    let mut net = Network::new(4, start());
    net.add_host("192.0.2.10".parse().unwrap(), LinkConfig::default());
    net.add_stun_server(addr(STUN1), LinkConfig::default());
    let reply = one_reply(
        &mut net,
        addr("192.0.2.10:9"),
        addr(STUN1),
        &binding_request(9),
    );
    assert_eq!(mapped_address(&reply.bytes), addr("192.0.2.10:9"));
}

#[test]
fn round_trip_time_is_the_sum_of_the_links() {
    let (mut net, _) = behind_nat(5, NatConfig::full_cone());
    let t0 = net.now();
    net.send(addr(INTERNAL), addr(STUN1), &binding_request(1));
    // Up: host 2 ms + NAT 0 + server 20 ms; back the same.
    assert_eq!(net.poll_timeout(), Some(t0 + Duration::from_millis(2)));
    net.advance(t0 + Duration::from_millis(43));
    assert_eq!(net.poll_receive(), None);
    net.advance(t0 + Duration::from_millis(44));
    assert!(net.poll_receive().is_some());
}

#[test]
fn unknown_comprehension_required_attribute_gets_420() {
    let (mut net, _) = behind_nat(6, NatConfig::full_cone());
    let req = request(Method::BINDING, 7, None, |b| b.add_raw(0x7f00, b"????"));
    let reply = one_reply(&mut net, addr(INTERNAL), addr(STUN1), &req);
    let msg = Message::parse(&reply.bytes).unwrap();
    assert_eq!(msg.get::<ErrorCode>().unwrap().unwrap().code, 420);
    let unknown: Vec<u16> = msg
        .get::<UnknownAttributes>()
        .unwrap()
        .unwrap()
        .types()
        .collect();
    assert_eq!(unknown, vec![0x7f00]);
    // Comprehension-optional ones are ignored.
    let req = request(Method::BINDING, 8, None, |b| b.add_raw(0x8f00, b"fine"));
    let reply = one_reply(&mut net, addr(INTERNAL), addr(STUN1), &req);
    mapped_address(&reply.bytes);
}

#[test]
fn garbage_and_non_requests_are_dropped_and_counted() {
    let (mut net, _) = behind_nat(7, NatConfig::full_cone());
    let mut bad_fingerprint = binding_request(1);
    let last = bad_fingerprint.len() - 1;
    bad_fingerprint[last] ^= 1;
    let response = message(MessageType::BINDING_SUCCESS, 2, None, |_| Ok(()));
    // A Binding indication is a keepalive: dropped without a count.
    let indication = message(
        MessageType::new(Method::BINDING, Class::Indication),
        3,
        None,
        |_| Ok(()),
    );
    for bytes in [
        &b""[..],
        b"\x00",
        b"hello, world, this is not STUN at all",
        &bad_fingerprint,
        &response,
    ] {
        assert!(exchange(&mut net, addr(INTERNAL), addr(STUN1), bytes).is_empty());
    }
    assert!(exchange(&mut net, addr(INTERNAL), addr(STUN1), &indication).is_empty());
    assert_eq!(net.stats().server_malformed, 5);
    assert_eq!(net.stats().stun_requests, 0);
    // An unknown method gets 400.
    let req = request(weft_stun::Method(0x0ff), 4, None, |_| Ok(()));
    let reply = one_reply(&mut net, addr(INTERNAL), addr(STUN1), &req);
    let msg = Message::parse(&reply.bytes).unwrap();
    assert_eq!(msg.get::<ErrorCode>().unwrap().unwrap().code, 400);
}

#[test]
fn stun_to_a_port_nobody_listens_on_has_no_route() {
    let (mut net, _) = behind_nat(8, NatConfig::full_cone());
    assert!(exchange(
        &mut net,
        addr(INTERNAL),
        addr("198.51.100.1:3479"),
        &binding_request(1)
    )
    .is_empty());
    assert_eq!(net.stats().dropped_no_route, 1);
}
