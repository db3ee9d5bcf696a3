//! Two weft DTLS endpoints across `weft-netsim` in virtual time: handshakes under loss,
//! reordering and duplication; fingerprint mismatch fails closed; tampered and replayed
//! records are dropped; a flood of spoofed ClientHellos leaves the server stateless.
//! Failures print their seed.

// The virtual clock's origin is the one real clock read.
#![allow(clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use weft_dtls_srtp::cert::{Certificate, FingerprintAlg, Validity};
use weft_dtls_srtp::{Config, Endpoint, Error, Output, Role};
use weft_netsim::{LinkConfig, Network};

const A: &str = "192.0.2.1:5000";
const B: &str = "198.51.100.1:6000";

fn certs() -> &'static (Certificate, Certificate) {
    static C: OnceLock<(Certificate, Certificate)> = OnceLock::new();
    C.get_or_init(|| {
        let rng = ring::rand::SystemRandom::new();
        (
            Certificate::generate_self_signed("client", Validity::default(), &rng).unwrap(),
            Certificate::generate_self_signed("server", Validity::default(), &rng).unwrap(),
        )
    })
}

struct Side {
    ep: Endpoint,
    addr: SocketAddr,
    peer: SocketAddr,
    outputs: Vec<Output>,
    sent: Vec<Vec<u8>>,
}

struct Run {
    net: Network,
    sides: [Side; 2],
}

fn configs(fingerprints_ok: bool) -> (Config, Config) {
    let (cc, sc) = certs();
    let mut client = Config::new(Role::Client, cc.clone().into());
    let mut server = Config::new(Role::Server, sc.clone().into());
    client.remote_fingerprints = vec![sc.fingerprint(FingerprintAlg::Sha256)];
    server.remote_fingerprints = if fingerprints_ok {
        vec![cc.fingerprint(FingerprintAlg::Sha256)]
    } else {
        vec![sc.fingerprint(FingerprintAlg::Sha256)]
    };
    (client, server)
}

impl Run {
    fn new(seed: u64, link: LinkConfig, fingerprints_ok: bool) -> Self {
        let start = Instant::now();
        let mut net = Network::new(seed, start);
        // The faults sit on A's access link: the path loses `loss` of the datagrams in each
        // direction (not twice that).
        let clean = LinkConfig::with_delay(link.delay);
        net.add_host(A.parse::<SocketAddr>().unwrap().ip(), link);
        net.add_host(B.parse::<SocketAddr>().unwrap().ip(), clean);
        let (client, server) = configs(fingerprints_ok);
        let mut s1 = [0u8; 32];
        s1[..8].copy_from_slice(&seed.to_le_bytes());
        let mut s2 = s1;
        s2[31] = 1;
        let a = Side {
            ep: Endpoint::new(start, client, s1),
            addr: A.parse().unwrap(),
            peer: B.parse().unwrap(),
            outputs: Vec::new(),
            sent: Vec::new(),
        };
        let b = Side {
            ep: Endpoint::new(start, server, s2),
            addr: B.parse().unwrap(),
            peer: A.parse().unwrap(),
            outputs: Vec::new(),
            sent: Vec::new(),
        };
        Run { net, sides: [a, b] }
    }

    fn run_for(&mut self, d: Duration) {
        let end = self.net.now() + d;
        loop {
            for i in 0..2 {
                while let Some(o) = self.sides[i].ep.poll_output() {
                    match o {
                        Output::Transmit(bytes) => {
                            let s = &mut self.sides[i];
                            s.sent.push(bytes.clone());
                            self.net.send(s.addr, s.peer, &bytes);
                        }
                        other => self.sides[i].outputs.push(other),
                    }
                }
            }
            let next = [
                self.sides[0].ep.poll_timeout(),
                self.sides[1].ep.poll_timeout(),
                self.net.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else { break };
            if next > end {
                break;
            }
            let next = next.max(self.net.now());
            self.net.advance(next);
            while let Some(d) = self.net.poll_receive() {
                let i = usize::from(d.dst != self.sides[0].addr);
                self.sides[i].ep.handle_input(next, &d.bytes);
            }
            for s in &mut self.sides {
                if s.ep.poll_timeout().is_some_and(|t| t <= next) {
                    s.ep.handle_timeout(next);
                }
            }
        }
        if self.net.now() < end {
            self.net.advance(end);
        }
    }

    fn connected(&self, i: usize) -> bool {
        self.sides[i]
            .outputs
            .iter()
            .any(|o| matches!(o, Output::Connected(_)))
    }
}

fn lossy(loss: f64) -> LinkConfig {
    LinkConfig {
        loss,
        duplicate: 0.05,
        reorder: 0.2,
        reorder_delay: Duration::from_millis(30),
        jitter: Duration::from_millis(5),
        ..LinkConfig::with_delay(Duration::from_millis(12))
    }
}

#[test]
fn handshakes_complete_under_loss_reordering_and_duplication() {
    for (loss, seeds) in [(0.0, 0..5u64), (0.1, 100..110), (0.3, 200..215)] {
        for seed in seeds {
            let mut r = Run::new(seed, lossy(loss), true);
            r.run_for(Duration::from_secs(60));
            assert!(
                r.connected(0) && r.connected(1),
                "loss {loss}, seed {seed}: {:?} / {:?}",
                r.sides[0].outputs,
                r.sides[1].outputs
            );
            let k0 = r.sides[0]
                .ep
                .export_keying_material("EXTRACTOR-dtls_srtp", 60)
                .unwrap();
            let k1 = r.sides[1]
                .ep
                .export_keying_material("EXTRACTOR-dtls_srtp", 60)
                .unwrap();
            assert_eq!(k0, k1, "loss {loss}, seed {seed}");
            // Application data both ways.
            r.sides[0].ep.send(b"ping").unwrap();
            r.sides[1].ep.send(b"pong").unwrap();
            r.run_for(Duration::from_secs(1));
            if loss == 0.0 && r.net.stats().duplicated == 0 {
                // A clean path: six flights, not one of them sent twice.
                for (i, side) in r.sides.iter().enumerate() {
                    assert_eq!(
                        side.ep.stats().retransmits,
                        0,
                        "seed {seed}: side {i} retransmitted"
                    );
                    assert_eq!(
                        side.ep.stats().records_dropped,
                        0,
                        "seed {seed}: side {i} dropped"
                    );
                }
            }
            if loss == 0.0 {
                assert!(r.sides[1].outputs.contains(&Output::Data(b"ping".to_vec())));
                assert!(r.sides[0].outputs.contains(&Output::Data(b"pong".to_vec())));
            }
        }
    }
}

#[test]
fn fingerprint_mismatch_fails_closed_naming_both() {
    let mut r = Run::new(7, LinkConfig::with_delay(Duration::from_millis(10)), false);
    r.run_for(Duration::from_secs(10));
    assert!(!r.connected(1));
    let failed = r.sides[1].outputs.iter().find_map(|o| match o {
        Output::Failed(e) => Some(e.clone()),
        _ => None,
    });
    let Some(Error::FingerprintMismatch { expected, actual }) = failed else {
        panic!("{:?}", r.sides[1].outputs);
    };
    assert_eq!(actual, certs().0.fingerprint(FingerprintAlg::Sha256));
    assert_eq!(
        expected,
        vec![certs().1.fingerprint(FingerprintAlg::Sha256)]
    );
    // The client hears the bad_certificate alert (42) and fails too.
    assert!(r.sides[0]
        .outputs
        .contains(&Output::Failed(Error::PeerAlert(42))));
    assert!(r.sides[0]
        .ep
        .export_keying_material("EXTRACTOR-dtls_srtp", 60)
        .is_none());
}

#[test]
fn flipped_bit_and_replayed_records_are_dropped_not_fatal() {
    let mut r = Run::new(9, LinkConfig::with_delay(Duration::from_millis(10)), true);
    r.run_for(Duration::from_secs(5));
    assert!(r.connected(0) && r.connected(1));
    r.sides[0].ep.send(b"first").unwrap();
    r.run_for(Duration::from_secs(1));
    let data_record = r.sides[0].sent.last().unwrap().clone();
    // Replay it: dropped by the window (RFC 6347 §4.1.2.6).
    let now = r.net.now();
    r.sides[1].ep.handle_input(now, &data_record);
    assert_eq!(r.sides[1].ep.stats().replays, 1);
    // Flip a bit in the ciphertext of a fresh record: dropped, connection intact.
    r.sides[0].ep.send(b"second").unwrap();
    let Some(Output::Transmit(mut fresh)) = r.sides[0].ep.poll_output() else {
        panic!()
    };
    let last = fresh.len() - 1;
    fresh[last] ^= 1;
    let before = r.sides[1].ep.stats().records_dropped;
    r.sides[1].ep.handle_input(now, &fresh);
    assert_eq!(r.sides[1].ep.stats().records_dropped, before + 1);
    // Garbage and a forged plaintext fatal alert do not tear it down.
    r.sides[1]
        .ep
        .handle_input(now, &[21, 254, 253, 0, 0, 0, 0, 0, 0, 0, 99, 0, 2, 2, 40]);
    r.sides[1].ep.handle_input(now, b"\x17\xfe\xfd garbage");
    r.sides[0].ep.send(b"third").unwrap();
    r.run_for(Duration::from_secs(1));
    let data: Vec<&Output> = r.sides[1]
        .outputs
        .iter()
        .filter(|o| matches!(o, Output::Data(_)))
        .collect();
    assert_eq!(
        data,
        vec![
            &Output::Data(b"first".to_vec()),
            &Output::Data(b"third".to_vec())
        ]
    );
    assert!(r.sides[1].ep.is_connected());
}

#[test]
fn client_hello_flood_keeps_the_server_stateless() {
    // 10,000 ClientHellos from spoofed sources: each gets a HelloVerifyRequest of bounded
    // size and the server stays waiting for a hello with a valid cookie.
    let (client, server) = configs(true);
    let now = Instant::now();
    let mut srv = Endpoint::new(now, server, [3; 32]);
    let mut cli = Endpoint::new(now, client, [5; 32]);
    let Some(Output::Transmit(hello)) = cli.poll_output() else {
        panic!()
    };
    let mut answers = 0;
    for i in 0..10_000u32 {
        let mut h = hello.clone();
        // A different client random each time (offset: 13 record + 12 handshake + 2).
        h[27..31].copy_from_slice(&i.to_be_bytes());
        srv.handle_input(now, &h);
        while let Some(o) = srv.poll_output() {
            let Output::Transmit(d) = o else {
                panic!("{o:?}")
            };
            assert!(
                d.len() <= h.len(),
                "no amplification: {} > {}",
                d.len(),
                h.len()
            );
            answers += 1;
        }
    }
    assert_eq!(answers, 10_000);
    assert_eq!(srv.stats().cookies_sent, 10_000);
    assert!(!srv.is_connected());
    // No retransmission timer: nothing is remembered of any of them.
    assert_eq!(srv.poll_timeout(), Some(now + Duration::from_secs(30)));
    assert_eq!(srv.stats().retransmits, 0);
}

#[test]
fn every_ecdsa_suite_and_srtp_profile_completes() {
    use weft_dtls_srtp::crypto::CipherSuite;
    use weft_dtls_srtp::SrtpProfile;
    let suites = [
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        CipherSuite::EcdheEcdsaAes256GcmSha384,
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
    ];
    let profiles = [
        SrtpProfile::Aes128CmSha1_80,
        SrtpProfile::Aes128CmSha1_32,
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
    ];
    for (i, suite) in suites.iter().enumerate() {
        for (j, profile) in profiles.iter().enumerate() {
            let mut r = Run::new(
                300 + (i * 4 + j) as u64,
                LinkConfig::with_delay(Duration::from_millis(5)),
                true,
            );
            // Only the client narrows its offer; the server picks from it.
            let (mut client, server) = configs(true);
            client.cipher_suites = vec![*suite];
            client.srtp_profiles = vec![*profile];
            let now = r.net.now();
            r.sides[0].ep = Endpoint::new(now, client, [11; 32]);
            r.sides[1].ep = Endpoint::new(now, server, [12; 32]);
            r.run_for(Duration::from_secs(5));
            let c = r.sides[1].outputs.iter().find_map(|o| match o {
                Output::Connected(c) => Some(c.clone()),
                _ => None,
            });
            let c = c.unwrap_or_else(|| panic!("{suite:?} {profile:?}: {:?}", r.sides[1].outputs));
            assert_eq!(c.cipher_suite, *suite);
            assert_eq!(c.srtp_profile, Some(*profile));
            let len = profile.keying_material_len();
            let k0 = r.sides[0]
                .ep
                .export_keying_material("EXTRACTOR-dtls_srtp", len);
            assert_eq!(
                k0,
                r.sides[1]
                    .ep
                    .export_keying_material("EXTRACTOR-dtls_srtp", len)
            );
            assert_eq!(k0.map(|k| k.len()), Some(len));
            r.sides[0].ep.send(b"x").unwrap();
            r.run_for(Duration::from_secs(1));
            assert!(
                r.sides[1].outputs.contains(&Output::Data(b"x".to_vec())),
                "{suite:?}"
            );
        }
    }
}

#[test]
fn renegotiation_is_refused_with_a_warning_and_the_connection_goes_on() {
    use weft_dtls_srtp::wire::handshake::{msg, Fragment};
    use weft_dtls_srtp::wire::record::{ContentType, Record};
    let mut r = Run::new(21, LinkConfig::with_delay(Duration::from_millis(5)), true);
    r.run_for(Duration::from_secs(2));
    assert!(r.connected(0) && r.connected(1));
    // An unauthenticated (epoch 0) ClientHello after the handshake: the server ignores it
    // as a stray retransmission or answers no_renegotiation; either way no new handshake.
    let mut frag = Vec::new();
    Fragment::write(&mut frag, msg::CLIENT_HELLO, 4, 50, 0, &[254, 253, 0, 0]);
    let mut d = Vec::new();
    Record::write(&mut d, ContentType::Handshake, [254, 253], 0, 99, &frag);
    let now = r.net.now();
    r.sides[1].ep.handle_input(now, &d);
    while let Some(o) = r.sides[1].ep.poll_output() {
        let Output::Transmit(t) = o else {
            panic!("{o:?}")
        };
        let rec = Record::parse_all(&t).next().unwrap().unwrap();
        assert_eq!(
            rec.content_type,
            ContentType::Alert,
            "only an alert, never a ServerHello"
        );
        assert_eq!(rec.epoch, 1);
    }
    assert!(r.sides[1].ep.is_connected());
    r.sides[0].ep.send(b"still").unwrap();
    r.run_for(Duration::from_secs(1));
    assert!(r.sides[1]
        .outputs
        .contains(&Output::Data(b"still".to_vec())));
}

#[test]
fn clean_path_handshake_sends_every_flight_once() {
    for seed in 0..5 {
        let mut r = Run::new(
            400 + seed,
            LinkConfig::with_delay(Duration::from_millis(10)),
            true,
        );
        r.run_for(Duration::from_secs(3));
        assert!(r.connected(0) && r.connected(1), "seed {seed}");
        for (i, side) in r.sides.iter().enumerate() {
            let s = side.ep.stats();
            assert_eq!(s.retransmits, 0, "seed {seed}: side {i} retransmitted");
            assert_eq!(
                s.records_dropped, 0,
                "seed {seed}: side {i} dropped records"
            );
            assert_eq!(
                s.replays, 0,
                "seed {seed}: side {i} saw a record number twice"
            );
        }
        // Flights 1, 3, 5 from the client; 2, 4, 6 from the server: one datagram each at a
        // 1200-byte MTU with P-256 certificates.
        assert_eq!(r.sides[0].sent.len(), 3, "client datagrams");
        assert_eq!(r.sides[1].sent.len(), 3, "server datagrams");
    }
}

#[test]
fn dtls_exported_keys_drive_srtp_both_ways() {
    use weft_dtls_srtp::srtp::{Context, ContextConfig, MasterKey};
    use weft_dtls_srtp::SrtpProfile;
    for profile in [SrtpProfile::AeadAes128Gcm, SrtpProfile::Aes128CmSha1_80] {
        let mut r = Run::new(31, LinkConfig::with_delay(Duration::from_millis(5)), true);
        let (mut client, server) = configs(true);
        client.srtp_profiles = vec![profile];
        let now = r.net.now();
        r.sides[0].ep = Endpoint::new(now, client, [13; 32]);
        r.sides[1].ep = Endpoint::new(now, server, [14; 32]);
        r.run_for(Duration::from_secs(2));
        let len = profile.keying_material_len();
        let export = |i: usize| {
            r.sides[i]
                .ep
                .export_keying_material("EXTRACTOR-dtls_srtp", len)
                .unwrap()
        };
        // RFC 5764 §4.2: the client protects with the client keys, the server with its own.
        let (c_tx, c_rx) = MasterKey::from_dtls_export(profile, &export(0), true).unwrap();
        let (s_tx, s_rx) = MasterKey::from_dtls_export(profile, &export(1), false).unwrap();
        let cfg = ContextConfig::default();
        let (mut ctx_c_tx, mut ctx_s_rx) = (
            Context::new(&c_tx, cfg).unwrap(),
            Context::new(&s_rx, cfg).unwrap(),
        );
        let (mut ctx_s_tx, mut ctx_c_rx) = (
            Context::new(&s_tx, cfg).unwrap(),
            Context::new(&c_rx, cfg).unwrap(),
        );
        let rtp = [0x80u8, 96, 0, 1, 0, 0, 0, 9, 0, 0, 0, 42, 1, 2, 3, 4, 5];
        for (tx, rx) in [
            (&mut ctx_c_tx, &mut ctx_s_rx),
            (&mut ctx_s_tx, &mut ctx_c_rx),
        ] {
            let mut buf = rtp.to_vec();
            buf.resize(rtp.len() + 16, 0);
            let n = tx.protect_rtp(&mut buf, rtp.len()).unwrap();
            buf.truncate(n);
            let m = rx.unprotect_rtp(&mut buf).unwrap();
            assert_eq!(&buf[..m], &rtp[..], "{profile:?}");
        }
    }
}
