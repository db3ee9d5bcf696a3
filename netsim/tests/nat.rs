//! NAT behaviour, observed from outside the way RFC 4787 defines it and RFC 5780 tests it:
//! does the mapping change with the destination, which outside endpoints get back in,
//! hairpinning, idle expiry and its refresh, port allocation, private networks.

mod util;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use util::{addr, drain, exchange, settle, start, step};
use weft_netsim::{Behaviour, HostId, LinkConfig, NatConfig, NatId, Network};

const NAT_IP: &str = "203.0.113.1";
const INTERNAL: &str = "192.168.0.2:5000";
/// RFC 5780 §3: a server with two addresses and two ports. Here two public hosts, the
/// first listening on two ports.
const S1_A: &str = "198.51.100.1:3478";
const S1_B: &str = "198.51.100.1:3479";
const S2_A: &str = "198.51.100.2:3478";

struct Setup {
    net: Network,
    nat: NatId,
    inside: HostId,
    s1: HostId,
    s2: HostId,
}

fn setup(seed: u64, config: NatConfig) -> Setup {
    let mut net = Network::new(seed, start());
    let nat = net.add_nat(NAT_IP.parse().unwrap(), config, LinkConfig::default());
    let inside = net.add_host_behind(
        nat,
        addr(INTERNAL).ip(),
        LinkConfig::with_delay(Duration::from_millis(1)),
    );
    let s1 = net.add_host(
        addr(S1_A).ip(),
        LinkConfig::with_delay(Duration::from_millis(10)),
    );
    let s2 = net.add_host(
        addr(S2_A).ip(),
        LinkConfig::with_delay(Duration::from_millis(10)),
    );
    Setup {
        net,
        nat,
        inside,
        s1,
        s2,
    }
}

/// The source address `to` sees for a datagram from `from`.
fn seen_from(net: &mut Network, from: SocketAddr, to: SocketAddr) -> SocketAddr {
    let got = exchange(net, from, to, b"probe");
    assert_eq!(got.len(), 1, "seed {}: {got:?}", net.seed());
    assert_eq!(got[0].dst, to);
    got[0].src
}

/// RFC 5780 §4.3: the mapping behaviour, from the external addresses seen by S1:A, S1:B
/// (same IP, other port) and S2:A (other IP).
fn observe_mapping(seed: u64, config: NatConfig) -> Behaviour {
    let mut s = setup(seed, config);
    let to_s1a = seen_from(&mut s.net, addr(INTERNAL), addr(S1_A));
    let to_s1b = seen_from(&mut s.net, addr(INTERNAL), addr(S1_B));
    let to_s2a = seen_from(&mut s.net, addr(INTERNAL), addr(S2_A));
    for seen in [to_s1a, to_s1b, to_s2a] {
        assert_eq!(seen.ip(), NAT_IP.parse::<IpAddr>().unwrap());
    }
    if to_s1a == to_s2a {
        assert_eq!(to_s1a, to_s1b);
        Behaviour::EndpointIndependent
    } else if to_s1a == to_s1b {
        Behaviour::AddressDependent
    } else {
        assert_ne!(to_s1b, to_s2a);
        Behaviour::AddressAndPortDependent
    }
}

/// RFC 5780 §4.4: the filtering behaviour. The inside host sends to S1:A only; then S2:A
/// (other IP) and S1:B (same IP, other port) try to reach the address S1:A saw.
fn observe_filtering(seed: u64, config: NatConfig) -> Behaviour {
    let mut s = setup(seed, config);
    let external = seen_from(&mut s.net, addr(INTERNAL), addr(S1_A));

    // The endpoint it sent to always gets back in.
    let back = exchange(&mut s.net, addr(S1_A), external, b"reply");
    assert_eq!(back.len(), 1, "seed {}", s.net.seed());
    assert_eq!(back[0].host, s.inside);
    assert_eq!(back[0].src, addr(S1_A));
    assert_eq!(back[0].dst, addr(INTERNAL));

    let filtered_before = s.net.stats().dropped_nat_filter;
    let from_other_ip = exchange(&mut s.net, addr(S2_A), external, b"other ip");
    let from_other_port = exchange(&mut s.net, addr(S1_B), external, b"other port");
    let filtered = s.net.stats().dropped_nat_filter - filtered_before;
    assert_eq!(
        filtered as usize,
        2 - from_other_ip.len() - from_other_port.len()
    );
    match (from_other_ip.len(), from_other_port.len()) {
        (1, 1) => Behaviour::EndpointIndependent,
        (0, 1) => Behaviour::AddressDependent,
        (0, 0) => Behaviour::AddressAndPortDependent,
        other => panic!("no RFC 4787 filtering behaviour admits {other:?}"),
    }
}

const ALL: [Behaviour; 3] = [
    Behaviour::EndpointIndependent,
    Behaviour::AddressDependent,
    Behaviour::AddressAndPortDependent,
];

#[test]
fn every_mapping_and_filtering_behaviour_classifies_as_configured() {
    let mut seed = 100;
    for mapping in ALL {
        for filtering in ALL {
            for port_preservation in [false, true] {
                seed += 1;
                let config = NatConfig {
                    mapping,
                    filtering,
                    port_preservation,
                    ..NatConfig::full_cone()
                };
                assert_eq!(
                    observe_mapping(seed, config.clone()),
                    mapping,
                    "seed {seed}: {config:?}"
                );
                assert_eq!(
                    observe_filtering(seed, config.clone()),
                    filtering,
                    "seed {seed}: {config:?}"
                );
            }
        }
    }
}

#[test]
fn presets_are_the_classic_nat_types() {
    use Behaviour::*;
    let cases = [
        (
            NatConfig::full_cone(),
            EndpointIndependent,
            EndpointIndependent,
        ),
        (
            NatConfig::restricted_cone(),
            EndpointIndependent,
            AddressDependent,
        ),
        (
            NatConfig::port_restricted_cone(),
            EndpointIndependent,
            AddressAndPortDependent,
        ),
        (
            NatConfig::symmetric(),
            AddressAndPortDependent,
            AddressAndPortDependent,
        ),
    ];
    for (config, mapping, filtering) in cases {
        assert_eq!(config.mapping, mapping);
        assert_eq!(config.filtering, filtering);
        assert_eq!(config.mapping_timeout, Duration::from_secs(120));
        assert_eq!(observe_mapping(1, config.clone()), mapping);
        assert_eq!(observe_filtering(1, config), filtering);
    }
}

#[test]
fn unsolicited_inbound_has_no_mapping() {
    let mut s = setup(3, NatConfig::full_cone());
    let got = exchange(&mut s.net, addr(S1_A), addr("203.0.113.1:5000"), b"hello?");
    assert!(got.is_empty());
    assert_eq!(s.net.stats().dropped_nat_filter, 1);
    assert!(s.net.nat_mappings(s.nat).is_empty());
}

#[test]
fn port_preservation_keeps_the_internal_port_when_free() {
    let mut s = setup(4, NatConfig::full_cone().with_port_preservation(true));
    let other = s
        .net
        .add_host_behind(s.nat, "192.168.0.3".parse().unwrap(), LinkConfig::default());
    let first = seen_from(&mut s.net, addr(INTERNAL), addr(S1_A));
    assert_eq!(first, addr("203.0.113.1:5000"));
    // The same internal port on another host: 5000 is taken, a random port is drawn.
    let second = seen_from(&mut s.net, addr("192.168.0.3:5000"), addr(S1_A));
    assert_eq!(second.ip(), first.ip());
    assert_ne!(second.port(), 5000);
    assert!(second.port() >= 1024);
    let mappings = s.net.nat_mappings(s.nat);
    assert_eq!(mappings.len(), 2);
    assert!(mappings.contains(&(addr(INTERNAL), first)));
    assert!(mappings.contains(&(addr("192.168.0.3:5000"), second)));
    let _ = other;
}

#[test]
fn without_port_preservation_ports_come_from_the_seeded_rng() {
    let ports: Vec<u16> = (0..8)
        .map(|seed| {
            let mut s = setup(seed, NatConfig::full_cone());
            seen_from(&mut s.net, addr(INTERNAL), addr(S1_A)).port()
        })
        .collect();
    assert!(ports.iter().all(|&p| p >= 1024));
    // Different seeds, different ports (8 draws from 64512 ports all colliding would be a
    // broken RNG).
    let mut distinct = ports.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 1, "{ports:?}");
    // And the same seed, the same port.
    let mut again = setup(0, NatConfig::full_cone());
    assert_eq!(
        seen_from(&mut again.net, addr(INTERNAL), addr(S1_A)).port(),
        ports[0]
    );
}

/// Two hosts behind one NAT; `b` has a mapping towards S1. Returns (a's external, b's
/// external).
fn hairpin_setup(config: NatConfig) -> (Setup, HostId, SocketAddr, SocketAddr) {
    let mut s = setup(5, config);
    let b = s
        .net
        .add_host_behind(s.nat, "192.168.0.3".parse().unwrap(), LinkConfig::default());
    let a_ext = seen_from(&mut s.net, addr(INTERNAL), addr(S1_A));
    let b_ext = seen_from(&mut s.net, addr("192.168.0.3:6000"), addr(S1_A));
    (s, b, a_ext, b_ext)
}

#[test]
fn hairpin_loops_back_with_the_senders_external_address() {
    // RFC 4787 §6, REQ-9b: the hairpinned packet's source is the sender's mapping.
    let (mut s, b, a_ext, b_ext) = hairpin_setup(NatConfig::full_cone().with_hairpin(true));
    let got = exchange(&mut s.net, addr(INTERNAL), b_ext, b"hairpin");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].host, b);
    assert_eq!(got[0].src, a_ext);
    assert_eq!(got[0].dst, addr("192.168.0.3:6000"));
    assert_eq!(got[0].bytes, b"hairpin");
    assert_eq!(s.net.stats().dropped_hairpin, 0);
}

#[test]
fn without_hairpin_the_packet_is_dropped() {
    let (mut s, _, _, b_ext) = hairpin_setup(NatConfig::full_cone().with_hairpin(false));
    let got = exchange(&mut s.net, addr(INTERNAL), b_ext, b"hairpin");
    assert!(got.is_empty());
    assert_eq!(s.net.stats().dropped_hairpin, 1);
}

#[test]
fn hairpin_meets_the_destination_mappings_filter() {
    let config = NatConfig::port_restricted_cone().with_hairpin(true);
    let (mut s, b, a_ext, b_ext) = hairpin_setup(config);
    // b has only sent to S1: a's external address is filtered.
    assert!(exchange(&mut s.net, addr(INTERNAL), b_ext, b"1").is_empty());
    assert_eq!(s.net.stats().dropped_nat_filter, 1);
    // b answers a's external address: that opens b's filter, and gets through a's, since
    // a's mapping sent to b's external address on the line above.
    let got = exchange(&mut s.net, addr("192.168.0.3:6000"), a_ext, b"2");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].src, b_ext);
    let got = exchange(&mut s.net, addr(INTERNAL), b_ext, b"3");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].host, b);
}

#[test]
fn mapping_expires_after_the_timeout_without_outbound_traffic() {
    // Zero-delay links, so the NAT sees each packet at the instant it is sent.
    let mut net = Network::new(6, start());
    let config = NatConfig::full_cone().with_mapping_timeout(Duration::from_secs(30));
    let nat = net.add_nat(NAT_IP.parse().unwrap(), config, LinkConfig::default());
    net.add_host_behind(nat, addr(INTERNAL).ip(), LinkConfig::default());
    net.add_host(addr(S1_A).ip(), LinkConfig::default());

    let external = seen_from(&mut net, addr(INTERNAL), addr(S1_A)); // t = 0; now 1 s
    step(&mut net, Duration::from_secs(27)); // 28 s
    assert_eq!(exchange(&mut net, addr(S1_A), external, b"a").len(), 1); // at 28 s
                                                                         // Inbound traffic does not refresh (RFC 4787 §4.3): at 29 s it was still live,
    assert_eq!(exchange(&mut net, addr(S1_A), external, b"b").len(), 1); // at 29 s
                                                                         // and at 30 s, 30 s after the last outbound packet, it is gone.
    assert!(exchange(&mut net, addr(S1_A), external, b"c").is_empty()); // at 30 s
    assert_eq!(net.stats().dropped_nat_filter, 1);
    assert!(net.nat_mappings(nat).is_empty());
}

#[test]
fn outbound_traffic_refreshes_the_mapping() {
    let mut net = Network::new(7, start());
    let config = NatConfig::full_cone().with_mapping_timeout(Duration::from_secs(30));
    let nat = net.add_nat(NAT_IP.parse().unwrap(), config, LinkConfig::default());
    net.add_host_behind(nat, addr(INTERNAL).ip(), LinkConfig::default());
    net.add_host(addr(S1_A).ip(), LinkConfig::default());

    let external = seen_from(&mut net, addr(INTERNAL), addr(S1_A)); // t = 0
    step(&mut net, Duration::from_secs(19));
    // At 20 s, an outbound keepalive refreshes it: same mapping.
    assert_eq!(seen_from(&mut net, addr(INTERNAL), addr(S1_A)), external);
    step(&mut net, Duration::from_secs(27)); // 48 s: 28 s after the refresh
    assert_eq!(exchange(&mut net, addr(S1_A), external, b"late").len(), 1);
    assert_eq!(net.nat_mappings(nat), vec![(addr(INTERNAL), external)]);
    step(&mut net, Duration::from_secs(1)); // 50 s: 30 s after the refresh
    assert!(exchange(&mut net, addr(S1_A), external, b"too late").is_empty());
}

#[test]
fn hosts_behind_one_nat_talk_by_private_address() {
    let mut s = setup(8, NatConfig::symmetric());
    let b = s
        .net
        .add_host_behind(s.nat, "192.168.0.3".parse().unwrap(), LinkConfig::default());
    let got = exchange(&mut s.net, addr(INTERNAL), addr("192.168.0.3:7000"), b"lan");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].host, b);
    assert_eq!(got[0].src, addr(INTERNAL));
    assert!(s.net.nat_mappings(s.nat).is_empty(), "no NAT on the LAN");
}

#[test]
fn private_addresses_behind_another_nat_are_unreachable() {
    let mut s = setup(9, NatConfig::full_cone());
    let other = s.net.add_nat(
        "203.0.113.2".parse().unwrap(),
        NatConfig::full_cone(),
        LinkConfig::default(),
    );
    s.net
        .add_host_behind(other, "10.0.0.2".parse().unwrap(), LinkConfig::default());
    assert!(exchange(&mut s.net, addr(INTERNAL), addr("10.0.0.2:5000"), b"x").is_empty());
    assert_eq!(s.net.stats().dropped_no_route, 1);
    // Nor from the public network.
    assert!(exchange(&mut s.net, addr(S1_A), addr("10.0.0.2:5000"), b"x").is_empty());
    assert_eq!(s.net.stats().dropped_no_route, 2);
}

#[test]
fn two_nats_meet_through_their_mappings() {
    // Both behind full-cone NATs, each learns the other's mapping (via S1 here), then they
    // talk directly: the situation ICE's server-reflexive candidates exist for.
    let mut s = setup(10, NatConfig::port_restricted_cone());
    let other = s.net.add_nat(
        "203.0.113.2".parse().unwrap(),
        NatConfig::port_restricted_cone(),
        LinkConfig::with_delay(Duration::from_millis(3)),
    );
    let peer = s
        .net
        .add_host_behind(other, "10.0.0.2".parse().unwrap(), LinkConfig::default());
    let a_ext = seen_from(&mut s.net, addr(INTERNAL), addr(S1_A));
    let b_ext = seen_from(&mut s.net, addr("10.0.0.2:4000"), addr(S1_A));
    // The first packet each way opens the sender's filter; the first to arrive is dropped.
    assert!(exchange(&mut s.net, addr(INTERNAL), b_ext, b"1").is_empty());
    let got = exchange(&mut s.net, addr("10.0.0.2:4000"), a_ext, b"2");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].src, b_ext);
    let got = exchange(&mut s.net, addr(INTERNAL), b_ext, b"3");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].host, peer);
    assert_eq!(got[0].src, a_ext);
}

#[test]
fn the_other_ip_family_passes_a_nat_untranslated() {
    let mut s = setup(11, NatConfig::symmetric());
    let v6: IpAddr = "2001:db8::2".parse().unwrap();
    s.net.add_address(s.inside, v6);
    let public_v6 = s
        .net
        .add_host("2001:db8:1::1".parse().unwrap(), LinkConfig::default());
    // Unsolicited inbound IPv6 reaches the host (no NAT66, no filter).
    let got = exchange(
        &mut s.net,
        addr("[2001:db8:1::1]:443"),
        addr("[2001:db8::2]:5000"),
        b"v6 in",
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].host, s.inside);
    // Outbound IPv6 keeps its source.
    let got = exchange(
        &mut s.net,
        addr("[2001:db8::2]:5000"),
        addr("[2001:db8:1::1]:443"),
        b"v6 out",
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].host, public_v6);
    assert_eq!(got[0].src, addr("[2001:db8::2]:5000"));
    assert!(s.net.nat_mappings(s.nat).is_empty());
}

#[test]
fn unknown_destinations_and_mixed_families_have_no_route() {
    let mut s = setup(12, NatConfig::full_cone());
    assert!(exchange(&mut s.net, addr(S1_A), addr("192.0.2.99:1"), b"x").is_empty());
    assert!(exchange(&mut s.net, addr(S1_A), addr("[2001:db8::9]:1"), b"x").is_empty());
    assert_eq!(s.net.stats().dropped_no_route, 2);
    assert_eq!(s.net.stats().sent, 2);
    let _ = (s.s1, s.s2);
}

#[test]
fn a_public_host_reaches_another_and_hears_back() {
    let mut s = setup(13, NatConfig::full_cone());
    let got = exchange(&mut s.net, addr(S1_A), addr(S2_A), b"ping");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].host, s.s2);
    let got = exchange(&mut s.net, got[0].dst, got[0].src, b"pong");
    assert_eq!(got[0].host, s.s1);
    assert_eq!(got[0].bytes, b"pong");
    settle(&mut s.net);
    assert!(drain(&mut s.net).is_empty());
}
