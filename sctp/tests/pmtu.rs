//! weft's SCTP engine sends HEARTBEATs (RFC 9260 §8.3) and discovers the path MTU with
//! HEARTBEAT + PAD probes (RFC 8899 §6.2.1.2), two engines over weft-netsim on the
//! virtual clock. Links are IPv4: an SCTP packet of n bytes is an IP datagram of n + 28.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use weft_netsim::{HostId, LinkConfig, Network};
use weft_sctp::engine::{CloseReason, Engine, EngineConfig, EngineEvent};
use weft_sctp::wire::{
    chunk_type as ct, write_chunk, Checksum, CommonHeader, Packet, PacketWriter, Param,
    ParseOptions,
};

const PPID_BINARY: u32 = 53;
/// IPv4 and UDP headers the link counts on top of the SCTP packet.
const IP_UDP: usize = 28;

struct Pair {
    net: Network,
    a: Engine,
    b: Engine,
    host_a: HostId,
    host_b: HostId,
    a_addr: SocketAddr,
    b_addr: SocketAddr,
    /// Every packet `a` sent, in order.
    sent_a: Vec<Vec<u8>>,
    /// Messages `b` received.
    got_b: Vec<Vec<u8>>,
    closed_a: Option<CloseReason>,
    closed_b: Option<CloseReason>,
    /// Packets from `a` that are not given to the network, by this rule.
    drop_a: fn(&[u8]) -> bool,
}

fn config(max_mtu: usize, heartbeat: Option<Duration>) -> EngineConfig {
    let mut c = EngineConfig::default();
    c.max_mtu = max_mtu;
    c.heartbeat_interval = heartbeat;
    c
}

fn link(mtu: usize) -> LinkConfig {
    LinkConfig {
        mtu,
        ..LinkConfig::with_delay(Duration::from_millis(10))
    }
}

fn chunk_types(p: &[u8]) -> Vec<u8> {
    Packet::parse(p, &ParseOptions::default())
        .map(|p| p.chunks().map(|c| c.chunk_type).collect())
        .unwrap_or_default()
}

fn has_chunk(p: &[u8], t: u8) -> bool {
    chunk_types(p).contains(&t)
}

fn keep_all(_: &[u8]) -> bool {
    false
}

impl Pair {
    fn new(link: LinkConfig, ca: EngineConfig, cb: EngineConfig) -> Pair {
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let mut net = Network::new(7, start);
        let host_a = net.add_host("10.0.0.1".parse().unwrap(), link.clone());
        let host_b = net.add_host("10.0.0.2".parse().unwrap(), link);
        let mut p = Pair {
            a: Engine::new(ca, start, 11),
            b: Engine::new(cb, start, 12),
            net,
            host_a,
            host_b,
            a_addr: "10.0.0.1:5000".parse().unwrap(),
            b_addr: "10.0.0.2:5000".parse().unwrap(),
            sent_a: Vec::new(),
            got_b: Vec::new(),
            closed_a: None,
            closed_b: None,
            drop_a: keep_all,
        };
        p.a.connect(start);
        p.flush();
        p
    }

    fn now(&self) -> Instant {
        self.net.now()
    }

    fn set_links(&mut self, link: LinkConfig) {
        self.net.set_link(self.host_a, link.clone());
        self.net.set_link(self.host_b, link);
    }

    fn flush(&mut self) {
        let now = self.now();
        while let Some(p) = self.a.poll_transmit(now) {
            // RFC 8899 §3 item 1: nothing but a probe exceeds the PLPMTU.
            assert!(
                p.len() <= self.a.stats().plpmtu || chunk_types(&p) == [ct::HEARTBEAT, ct::PAD],
                "a {}-byte packet over the PLPMTU {}",
                p.len(),
                self.a.stats().plpmtu
            );
            if !(self.drop_a)(&p) {
                self.net.send(self.a_addr, self.b_addr, &p);
            }
            self.sent_a.push(p);
        }
        while let Some(p) = self.b.poll_transmit(now) {
            self.net.send(self.b_addr, self.a_addr, &p);
        }
        while let Some(e) = self.a.poll_event() {
            if let EngineEvent::Closed(r) = e {
                self.closed_a = Some(r);
            }
        }
        while let Some(e) = self.b.poll_event() {
            match e {
                EngineEvent::Message { data, .. } => self.got_b.push(data),
                EngineEvent::Closed(r) => self.closed_b = Some(r),
                _ => {}
            }
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
                self.a.handle_packet(t, &d.bytes);
            } else {
                self.b.handle_packet(t, &d.bytes);
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

    /// Steps until `done`; panics when `limit` of virtual time passes first.
    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Pair) -> bool) {
        let deadline = self.now() + limit;
        loop {
            self.flush();
            if done(self) {
                return;
            }
            assert!(self.now() <= deadline, "virtual time limit passed");
            assert!(self.step(), "nothing pending");
        }
    }

    /// Runs until `d` of virtual time has passed, exactly.
    fn run_for(&mut self, d: Duration) {
        let deadline = self.now() + d;
        self.flush();
        loop {
            let next = [
                self.net.poll_timeout(),
                self.a.poll_timeout(),
                self.b.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            if next.is_none_or(|t| t > deadline) {
                self.net.advance(deadline);
                return;
            }
            self.step();
        }
    }

    fn connect(&mut self) {
        self.run_until(Duration::from_secs(10), |p| {
            p.a.is_established() && p.b.is_established()
        });
    }

    /// Sends `messages` from `a` (keeping at most 256 KiB buffered) until `b` has them all.
    fn transfer(&mut self, messages: &[Vec<u8>], limit: Duration) {
        let deadline = self.now() + limit;
        let start = self.got_b.len();
        let mut next = 0;
        loop {
            while next < messages.len() && self.a.buffered_amount() < 256 * 1024 {
                self.a
                    .send(1, PPID_BINARY, false, &messages[next])
                    .expect("send");
                next += 1;
            }
            self.flush();
            if self.got_b.len() - start == messages.len() {
                break;
            }
            assert!(
                self.now() <= deadline,
                "transfer stuck: {} of {} delivered, {:?}",
                self.got_b.len() - start,
                messages.len(),
                self.a.stats()
            );
            assert!(self.step(), "nothing pending");
        }
        assert_eq!(
            &self.got_b[start..],
            messages,
            "delivered out of order or altered"
        );
    }
}

fn numbered(n: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i ^ n.wrapping_mul(31)) as u8).collect()
}

#[test]
fn plpmtu_rises_to_max_mtu_over_a_1500_byte_link_and_data_fills_it() {
    let max = 1500 - IP_UDP;
    let mut p = Pair::new(link(1500), config(max, None), config(max, None));
    p.connect();
    let up = p.now();
    assert_eq!(
        p.a.stats().plpmtu,
        1200,
        "starts at BASE_PLPMTU, the configured mtu"
    );
    p.run_until(Duration::from_secs(1), |p| p.a.stats().plpmtu == max);
    let took = p.now() - up;
    // One probe at MAX_PLPMTU as `a` comes up, acknowledged one round trip later (40 ms:
    // 10 ms on each host's link, each way).
    assert_eq!(p.a.stats().pmtu_probes_sent, 1);
    assert_eq!(took, Duration::from_millis(40));
    p.run_until(Duration::from_secs(1), |p| p.b.stats().plpmtu == max);
    assert_eq!(p.b.stats().pmtu_probes_sent, 1);
    assert!(
        p.a.stats().srtt.is_some(),
        "the probe's HEARTBEAT ACK gives an RTT"
    );
    let first = p.sent_a.len();
    let messages: Vec<Vec<u8>> = (0..20).map(|n| numbered(n, 20_000)).collect();
    p.transfer(&messages, Duration::from_secs(30));
    let data: Vec<usize> = p.sent_a[first..]
        .iter()
        // DATA, or I-DATA (two weft engines negotiate it, RFC 8260).
        .filter(|x| has_chunk(x, ct::DATA) || has_chunk(x, ct::I_DATA))
        .map(|x| x.len())
        .collect();
    let full = data.iter().filter(|&&n| n > 1400).count();
    assert!(data.iter().all(|&n| n <= max));
    // 400 kB in chunks of up to 1440 bytes: all packets but each message's last are full.
    assert!(
        full >= 260,
        "{full} of {} DATA packets over 1400 bytes",
        data.len()
    );
    assert_eq!(p.net.stats().dropped_mtu, 0);
}

#[test]
fn plpmtu_settles_at_the_largest_size_a_1280_byte_link_carries() {
    let max = 1500 - IP_UDP;
    let fits = 1280 - IP_UDP;
    let mut p = Pair::new(link(1280), config(max, None), config(max, None));
    p.connect();
    let up = p.now();
    // Probes of 1472, 1336, 1268 and 1256 bytes fail MAX_PROBES (3) times each; 1232,
    // 1248 and 1252 pass.
    p.run_until(Duration::from_secs(60), |p| {
        p.a.stats().pmtu_probes_sent == 15 && p.a.stats().plpmtu == fits
    });
    let took = p.now() - up;
    assert!(took < Duration::from_secs(14), "took {took:?}");
    let probes_dropped = p.net.stats().dropped_mtu;
    // And then no more probes until PMTU_RAISE_TIMER (600 s).
    p.run_for(Duration::from_secs(30));
    assert_eq!(p.a.stats().pmtu_probes_sent, 15);
    assert_eq!(p.b.stats().plpmtu, fits);
    let messages: Vec<Vec<u8>> = (0..50).map(|n| numbered(n, 1 + n * 997 % 9000)).collect();
    p.transfer(&messages, Duration::from_secs(30));
    assert_eq!(
        p.net.stats().dropped_mtu,
        probes_dropped,
        "only probes ever exceeded the link"
    );
    assert_eq!(p.a.stats().t3_timeouts, 0);
    // RFC 8899 §5.1.1: after PMTU_RAISE_TIMER (600 s) a new search starts from the PLPMTU:
    // 1472, 1360, 1304, 1276, 1264 and 1256 fail three times each; 1252 stays.
    p.run_for(Duration::from_secs(600));
    let s = p.a.stats();
    assert_eq!((s.pmtu_probes_sent, s.plpmtu), (15 + 18, fits), "{s:?}");
}

#[test]
fn a_black_hole_mid_transfer_falls_back_to_base_and_the_transfer_completes() {
    let max = 1500 - IP_UDP;
    let mut p = Pair::new(link(1500), config(max, None), config(max, None));
    p.connect();
    p.run_until(Duration::from_secs(1), |p| p.a.stats().plpmtu == max);
    // 400-byte messages: three DATA chunks bundle into 1260-byte packets at the PLPMTU,
    // which a 1280-byte link (1252 bytes of SCTP) no longer carries.
    let messages: Vec<Vec<u8>> = (0..3000).map(|n| numbered(n, 400)).collect();
    for m in &messages[..1000] {
        p.a.send(1, PPID_BINARY, false, m).unwrap();
    }
    p.run_for(Duration::from_millis(50));
    assert!(p.got_b.len() < 1000, "the route changes mid-transfer");
    p.set_links(link(1280));
    p.run_until(Duration::from_secs(60), |p| p.got_b.len() == 1000);
    assert_eq!(p.a.stats().pmtu_black_holes, 1);
    let rest = messages[1000..].to_vec();
    p.transfer(&rest, Duration::from_secs(120));
    assert_eq!(p.got_b, messages);
    // The search after the black hole found what the new route carries.
    p.run_until(Duration::from_secs(60), |p| {
        p.a.stats().plpmtu == 1280 - IP_UDP
    });
    assert!(p.closed_a.is_none());
}

#[test]
fn an_idle_association_sends_heartbeats_whose_acks_measure_the_rtt() {
    // 50 ms each way; no path MTU probes (max_mtu is the mtu), so only HEARTBEATs time
    // the path.
    let slow = LinkConfig::with_delay(Duration::from_millis(50));
    let hb = Some(Duration::from_secs(30));
    let mut p = Pair::new(slow, config(1200, hb), config(1200, hb));
    p.connect();
    assert_eq!(p.a.stats().srtt, None);
    let up = p.now();
    p.run_until(Duration::from_secs(60), |p| {
        p.a.stats().heartbeat_acks_received == 1
    });
    // RTO (1 s before any sample) + 30 s, jitter ±0.5 s, then one round trip.
    let took = p.now() - up;
    assert!(
        took >= Duration::from_millis(30_500) && took <= Duration::from_millis(31_700),
        "first HEARTBEAT answered after {took:?}"
    );
    let srtt = p.a.stats().srtt.expect("an RTT sample");
    assert!(
        srtt >= Duration::from_millis(200) && srtt <= Duration::from_millis(205),
        "srtt {srtt:?}"
    );
    let hbs = p
        .sent_a
        .iter()
        .filter(|x| chunk_types(x) == [ct::HEARTBEAT])
        .count();
    assert_eq!(hbs, 1);
    p.run_for(Duration::from_secs(300));
    let s = p.a.stats();
    assert!((9..=10).contains(&s.heartbeats_sent), "{s:?}");
    assert_eq!(s.heartbeat_acks_received, s.heartbeats_sent);
    assert!(p.closed_a.is_none() && p.closed_b.is_none());
}

#[test]
fn no_heartbeat_while_data_flows() {
    let hb = Some(Duration::from_secs(5));
    let mut p = Pair::new(link(1500), config(1200, hb), config(1200, hb));
    p.connect();
    // A message every 500 ms for 60 s: never idle for an HB.interval.
    for n in 0..120 {
        p.a.send(1, PPID_BINARY, false, &numbered(n, 300)).unwrap();
        p.run_for(Duration::from_millis(500));
    }
    assert_eq!(p.got_b.len(), 120);
    assert_eq!(p.a.stats().heartbeats_sent, 0);
    // Idle from here: the next one goes within RTO + 5 s (+ jitter).
    p.run_for(Duration::from_secs(7));
    assert_eq!(p.a.stats().heartbeats_sent, 1);
}

#[test]
fn unanswered_heartbeats_close_the_association_after_max_retrans() {
    let mut ca = config(1200, Some(Duration::from_secs(5)));
    ca.max_retrans = Some(4);
    let mut p = Pair::new(link(1500), ca, config(1200, None));
    p.connect();
    let up = p.now();
    // Every HEARTBEAT from `a` is lost.
    p.drop_a = |x| has_chunk(x, ct::HEARTBEAT);
    p.run_until(Duration::from_secs(600), |p| p.closed_a.is_some());
    assert_eq!(p.closed_a, Some(CloseReason::Unreachable));
    // Association.Max.Retrans 4: the fifth unanswered one closes it.
    assert_eq!(p.a.stats().heartbeats_sent, 5);
    let took = p.now() - up;
    // Each round: HB.interval 5 s + RTO/2 + jitter, then an RTO for the ack, the RTO
    // doubling from 1 s to 10 s.
    assert!(
        took > Duration::from_secs(40) && took < Duration::from_secs(90),
        "closed after {took:?}"
    );
}

#[test]
fn a_heartbeat_ack_with_forged_info_is_ignored() {
    let hb = Some(Duration::from_secs(5));
    let mut p = Pair::new(link(1500), config(1200, hb), config(1200, None));
    p.connect();
    // `a`'s HEARTBEATs never reach `b`: the test answers them itself.
    p.drop_a = |x| has_chunk(x, ct::HEARTBEAT);
    p.run_until(Duration::from_secs(10), |p| {
        p.a.stats().heartbeats_sent == 1
    });
    let hb_packet = p
        .sent_a
        .iter()
        .rev()
        .find(|x| has_chunk(x, ct::HEARTBEAT))
        .unwrap()
        .clone();
    let packet = Packet::parse(&hb_packet, &ParseOptions::default()).unwrap();
    let header = *packet.header();
    let raw = packet
        .chunks()
        .find(|c| c.chunk_type == ct::HEARTBEAT)
        .unwrap();
    let info: Vec<u8> = match raw.parse().unwrap() {
        weft_sctp::wire::Chunk::Heartbeat(params) => params
            .iter()
            .find_map(|p| match p {
                Param::HeartbeatInfo(i) => Some(i.to_vec()),
                _ => None,
            })
            .unwrap(),
        c => panic!("{c:?}"),
    };
    // `a`'s tag is the one `b` puts on its packets; the answer travels b -> a.
    let answer = |info: &[u8]| {
        let mut out = Vec::new();
        let h = CommonHeader {
            src_port: header.dst_port,
            dst_port: header.src_port,
            verification_tag: 0,
            checksum: 0,
        };
        let mut w = PacketWriter::new(&mut out, &h);
        write_chunk(w.buf(), ct::HEARTBEAT_ACK, 0, |o| {
            Param::HeartbeatInfo(info).emit(o)
        })
        .unwrap();
        w.finish(Checksum::Crc32c);
        out
    };
    let tag_of_a = a_tag_from(&mut p);
    let now = p.now();
    let mut forged = info.clone();
    forged[0] ^= 1;
    let mut pkt = answer(&forged);
    set_tag(&mut pkt, tag_of_a);
    p.a.handle_packet(now, &pkt);
    assert_eq!(p.a.stats().heartbeat_acks_received, 0);
    assert_eq!(p.a.stats().srtt, None, "a forged ack gives no RTT sample");
    // A too-short info is no better.
    let mut pkt = answer(&info[..8]);
    set_tag(&mut pkt, tag_of_a);
    p.a.handle_packet(now, &pkt);
    assert_eq!(p.a.stats().heartbeat_acks_received, 0);
    // The genuine info echoed is taken.
    let mut pkt = answer(&info);
    set_tag(&mut pkt, tag_of_a);
    p.a.handle_packet(now, &pkt);
    assert_eq!(p.a.stats().heartbeat_acks_received, 1);
    assert!(p.a.stats().srtt.is_some());
    // And only once.
    p.a.handle_packet(now, &pkt);
    assert_eq!(p.a.stats().heartbeat_acks_received, 1);
}

/// `a`'s verification tag: what `b` writes on its packets to `a`.
fn a_tag_from(p: &mut Pair) -> u32 {
    let now = p.now();
    p.b.send(1, PPID_BINARY, false, b"x").unwrap();
    let out = p.b.poll_transmit(now).expect("b sends DATA");
    let tag = u32::from_be_bytes([out[4], out[5], out[6], out[7]]);
    p.net.send(p.b_addr, p.a_addr, &out);
    tag
}

fn set_tag(pkt: &mut [u8], tag: u32) {
    pkt[4..8].copy_from_slice(&tag.to_be_bytes());
    weft_sctp::wire::fill_checksum(pkt, Checksum::Crc32c);
}
