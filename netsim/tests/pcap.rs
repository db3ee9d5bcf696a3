//! The pcap capture: a classic libpcap file (LINKTYPE_RAW) of what crossed the public
//! network, addresses after NAT, timestamps from the virtual clock.

mod util;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use util::{addr, binding_request, exchange, one_reply, start};
use weft_netsim::{LinkConfig, NatConfig, Network, LINKTYPE_RAW, PCAP_MAGIC};

struct Record {
    ts: Duration,
    packet: Vec<u8>,
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u16be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(b[at..at + 2].try_into().unwrap())
}

/// Parses a whole capture: the global header, then every record to the last byte.
fn parse(file: &[u8]) -> Vec<Record> {
    assert_eq!(
        &file[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian microsecond magic"
    );
    assert_eq!(u32le(file, 0), PCAP_MAGIC);
    assert_eq!(&file[4..8], &[2, 0, 4, 0], "version 2.4");
    assert_eq!(u32le(file, 16), 65_535, "snaplen");
    assert_eq!(u32le(file, 20), LINKTYPE_RAW);
    let mut records = Vec::new();
    let mut at = 24;
    while at < file.len() {
        let secs = u32le(file, at);
        let micros = u32le(file, at + 4);
        let incl = u32le(file, at + 8) as usize;
        let orig = u32le(file, at + 12) as usize;
        assert_eq!(incl, orig);
        assert!(micros < 1_000_000);
        let packet = file[at + 16..at + 16 + incl].to_vec();
        records.push(Record {
            ts: Duration::from_secs(secs.into()) + Duration::from_micros(micros.into()),
            packet,
        });
        at += 16 + incl;
    }
    assert_eq!(at, file.len(), "no trailing bytes");
    records
}

/// (src ip, src port, dst ip, dst port, UDP payload) of an IPv4 or IPv6 UDP packet.
fn udp(p: &[u8]) -> (IpAddr, u16, IpAddr, u16, &[u8]) {
    match p[0] >> 4 {
        4 => {
            assert_eq!(p[0], 0x45);
            assert_eq!(usize::from(u16be(p, 2)), p.len(), "IPv4 total length");
            assert_eq!(p[9], 17, "UDP");
            let src: [u8; 4] = p[12..16].try_into().unwrap();
            let dst: [u8; 4] = p[16..20].try_into().unwrap();
            let u = &p[20..];
            assert_eq!(usize::from(u16be(u, 4)), u.len(), "UDP length");
            (
                Ipv4Addr::from(src).into(),
                u16be(u, 0),
                Ipv4Addr::from(dst).into(),
                u16be(u, 2),
                &u[8..],
            )
        }
        6 => {
            assert_eq!(
                usize::from(u16be(p, 4)),
                p.len() - 40,
                "IPv6 payload length"
            );
            assert_eq!(p[6], 17, "UDP");
            let src: [u8; 16] = p[8..24].try_into().unwrap();
            let dst: [u8; 16] = p[24..40].try_into().unwrap();
            let u = &p[40..];
            (
                Ipv6Addr::from(src).into(),
                u16be(u, 0),
                Ipv6Addr::from(dst).into(),
                u16be(u, 2),
                &u[8..],
            )
        }
        v => panic!("IP version {v}"),
    }
}

#[test]
fn capture_holds_what_crossed_the_public_network() {
    let mut net = Network::new(1, start());
    let nat = net.add_nat(
        "203.0.113.1".parse().unwrap(),
        NatConfig::full_cone().with_port_preservation(true),
        LinkConfig::with_delay(Duration::from_millis(3)),
    );
    let host_link = LinkConfig::with_delay(Duration::from_millis(2));
    net.add_host_behind(nat, "192.168.0.2".parse().unwrap(), host_link.clone());
    net.add_host_behind(nat, "192.168.0.3".parse().unwrap(), host_link);
    let v6 = net.add_host("2001:db8::1".parse().unwrap(), LinkConfig::default());
    net.add_address(v6, "2001:db8::1:1".parse().unwrap()); // a second address
    net.add_host("2001:db8::2".parse().unwrap(), LinkConfig::default());
    net.add_stun_server(
        addr("198.51.100.1:3478"),
        LinkConfig::with_delay(Duration::from_millis(20)),
    );
    assert!(net.pcap_bytes().is_empty(), "nothing before enable_pcap");
    net.enable_pcap();

    // 1, 2: a Binding request and its answer, both crossing the public network.
    let request = binding_request(1);
    one_reply(
        &mut net,
        addr("192.168.0.2:5000"),
        addr("198.51.100.1:3478"),
        &request,
    );
    // Not captured: LAN traffic behind the NAT.
    assert_eq!(
        exchange(
            &mut net,
            addr("192.168.0.2:5000"),
            addr("192.168.0.3:5000"),
            b"lan"
        )
        .len(),
        1
    );
    // 3: IPv6 between two public hosts.
    assert_eq!(
        exchange(
            &mut net,
            addr("[2001:db8::1:1]:1"),
            addr("[2001:db8::2]:2"),
            b"six"
        )
        .len(),
        1
    );
    // 4: to nowhere (captured on the public network, then dropped).
    assert!(exchange(
        &mut net,
        addr("[2001:db8::1]:1"),
        addr("[2001:db8::99]:2"),
        b"void"
    )
    .is_empty());
    // Not captured: lost on the sender's link before it reached the public network.
    net.set_link(v6, LinkConfig::down());
    assert!(exchange(
        &mut net,
        addr("[2001:db8::1]:1"),
        addr("[2001:db8::2]:2"),
        b"lost"
    )
    .is_empty());

    let file = net.pcap_bytes();
    let records = parse(&file);
    assert_eq!(records.len(), 4);
    assert_eq!(net.pcap_record_count(), 4);

    // The request left the NAT translated, 2 ms + 3 ms after it was sent at 0.
    let (src, sport, dst, dport, payload) = udp(&records[0].packet);
    assert_eq!((src, sport), ("203.0.113.1".parse().unwrap(), 5000));
    assert_eq!((dst, dport), ("198.51.100.1".parse().unwrap(), 3478));
    assert_eq!(payload, &request[..]);
    assert_eq!(records[0].ts, Duration::from_millis(5));
    // The answer, on its way back through the server's 20 ms link twice.
    let (src, _, dst, dport, payload) = udp(&records[1].packet);
    assert_eq!(src, "198.51.100.1".parse::<IpAddr>().unwrap());
    assert_eq!((dst, dport), ("203.0.113.1".parse().unwrap(), 5000));
    assert_eq!(util::mapped_address(payload), addr("203.0.113.1:5000"));
    assert_eq!(records[1].ts, Duration::from_millis(45));
    // IPv6, with the source the host chose; then the one to nowhere.
    let (src, sport, _, _, payload) = udp(&records[2].packet);
    assert_eq!((src, sport), ("2001:db8::1:1".parse().unwrap(), 1));
    assert_eq!(payload, b"six");
    assert_eq!(udp(&records[3].packet).4, b"void");
    assert!(records.windows(2).all(|w| w[0].ts <= w[1].ts));
}

#[test]
fn a_failing_test_can_leave_its_capture_behind() {
    let mut net = Network::new(77, start());
    net.add_host("192.0.2.1".parse().unwrap(), LinkConfig::default());
    net.add_host("192.0.2.2".parse().unwrap(), LinkConfig::default());
    let mut net = util::PcapOnFailure::new(net, "left-behind");
    let path = net.path();
    let _ = std::fs::remove_file(&path);
    exchange(&mut net, addr("192.0.2.1:1"), addr("192.0.2.2:2"), b"x");
    let expected = net.pcap_bytes();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _net = net;
        panic!("a failing assertion");
    }));
    assert!(result.is_err());
    let written = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(written, expected);
    assert_eq!(parse(&written).len(), 1);
}
