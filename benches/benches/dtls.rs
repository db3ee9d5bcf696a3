//! DTLS 1.2: a full handshake (client and server CPU together) and the AEAD record layer,
//! with weft-dtls-srtp beside webrtc-rs's `dtls` crate (the 0.17 line; earlier published as
//! `webrtc-dtls`), on the same certificates and keys in the same run.
//!
//! Both stacks negotiate TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 with the same ECDSA P-256
//! certificates (made once, by rcgen inside webrtc-rs, and loaded into weft), mutual
//! authentication (the server asks for the client's certificate, as in WebRTC), the
//! extended master secret required, and use_srtp offered (AEAD_AES_128_GCM, then
//! AES128_CM_HMAC_SHA1_80). Each side checks the peer certificate's SHA-256 fingerprint.
//! Both run the cookie round trip (HelloVerifyRequest), so a handshake is 6 flights.
//!
//! - weft: two sans-IO `Endpoint`s in one loop, each `Output::Transmit` handed straight to
//!   the other's `handle_input`, all at one fixed `Instant`, until both report
//!   `Output::Connected`. A clean handshake retransmits nothing; if a side drops a datagram
//!   and the exchange stalls, the clock moves to the next retransmission timer (and the
//!   bench says so on stderr before measuring, since the time then includes it).
//! - webrtc-rs: `DTLSConn::new` for client and server, joined on a tokio current-thread
//!   runtime (built once) over webrtc-util's in-memory `conn_pipe` (tokio channels), so
//!   both sides' CPU is on one thread as for weft. The time runs from before the two
//!   `DTLSConn::new` calls until both return connected; closing them is not timed.
//!
//! Records: 1200 bytes of application data, epoch 1, AES-128-GCM under the same key and IV
//! on both stacks.
//! - seal: weft's record path as the endpoint writes a record (`RecordCipher::seal` then
//!   `Record::write` of header and fragment); `weft_seal_append` writes the header first and
//!   seals behind it in one buffer. webrtc-rs: `CryptoGcm::encrypt` on the marshalled
//!   record, as its record layer calls it (it draws the explicit nonce from `rand::rng()`).
//! - open: weft parses the header (`Record::read`) and `RecordCipher::open`s the fragment;
//!   `weft_open_in_place` decrypts a copy in a reused buffer. webrtc-rs: `CryptoGcm::decrypt`
//!   on the whole record (it parses the header itself).

// The handshake bench times each webrtc-rs iteration itself (`iter_custom`), to leave the
// closing of its connections out; benches are not sans-IO code.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ring::rand::SystemRandom;
use weft_dtls_srtp::cert::{Certificate, FingerprintAlg};
use weft_dtls_srtp::crypto::{key_block, CipherSuite, RecordCipher};
use weft_dtls_srtp::wire::record::{ContentType, Record, DTLS_1_2, HEADER_LEN};
use weft_dtls_srtp::wire::Reader;
use weft_dtls_srtp::{Config, Endpoint, Output, Role, SrtpProfile};

use dtls::cipher_suite::CipherSuiteId;
use dtls::config::{ClientAuthType, ExtendedMasterSecretType};
use dtls::conn::DTLSConn;
use dtls::crypto::crypto_gcm::CryptoGcm;
use dtls::extension::extension_use_srtp::SrtpProtectionProfile;
use dtls::record_layer::record_layer_header::{RecordLayerHeader, PROTOCOL_VERSION1_2};
use webrtc_util::conn::conn_pipe::pipe;
use webrtc_util::conn::Conn;

const RECORD_LEN: usize = 1200;

/// The client's and the server's certificate, in both stacks' types.
struct Certs {
    client: dtls::crypto::Certificate,
    server: dtls::crypto::Certificate,
    weft_client: Arc<Certificate>,
    weft_server: Arc<Certificate>,
}

impl Certs {
    /// Two self-signed ECDSA P-256 certificates (rcgen's default key type, through
    /// webrtc-rs), loaded into weft from their DER and PKCS#8.
    fn new() -> Self {
        let rng = SystemRandom::new();
        let client = dtls::crypto::Certificate::generate_self_signed(vec!["client".into()])
            .expect("webrtc-rs certificate");
        let server = dtls::crypto::Certificate::generate_self_signed(vec!["server".into()])
            .expect("webrtc-rs certificate");
        let to_weft = |c: &dtls::crypto::Certificate| {
            Arc::new(
                Certificate::from_der(
                    c.certificate[0].as_ref(),
                    &c.private_key.serialized_der,
                    &rng,
                )
                .expect("weft loads the rcgen P-256 certificate"),
            )
        };
        let weft_client = to_weft(&client);
        let weft_server = to_weft(&server);
        assert_eq!(
            weft_client.signature_scheme(),
            0x0403,
            "ecdsa_secp256r1_sha256"
        );
        Certs {
            client,
            server,
            weft_client,
            weft_server,
        }
    }
}

// --- weft -----------------------------------------------------------------------------

fn weft_configs(certs: &Certs) -> (Config, Config) {
    let configure = |role, ours: &Arc<Certificate>, theirs: &Arc<Certificate>| {
        let mut c = Config::new(role, ours.clone());
        c.remote_fingerprints = vec![theirs.fingerprint(FingerprintAlg::Sha256)];
        c.cipher_suites = vec![CipherSuite::EcdheEcdsaAes128GcmSha256];
        c.srtp_profiles = vec![SrtpProfile::AeadAes128Gcm, SrtpProfile::Aes128CmSha1_80];
        c
    };
    (
        configure(Role::Client, &certs.weft_client, &certs.weft_server),
        configure(Role::Server, &certs.weft_server, &certs.weft_client),
    )
}

/// Hands every queued output of `from` to `to`; returns whether anything was sent, and
/// notes `Connected`.
fn weft_pump(now: Instant, from: &mut Endpoint, to: &mut Endpoint, connected: &mut bool) -> bool {
    let mut sent = false;
    while let Some(o) = from.poll_output() {
        match o {
            Output::Transmit(d) => {
                to.handle_input(now, &d);
                sent = true;
            }
            Output::Connected(c) => {
                debug_assert_eq!(c.cipher_suite, CipherSuite::EcdheEcdsaAes128GcmSha256);
                debug_assert_eq!(c.srtp_profile, Some(SrtpProfile::AeadAes128Gcm));
                *connected = true;
            }
            other => panic!("weft handshake: unexpected {other:?}"),
        }
    }
    sent
}

/// One full handshake; returns both endpoints, connected.
///
/// Everything happens at `start`, so no retransmission timer fires in a clean handshake.
/// Should the datagrams in flight run out before both sides connect (a datagram dropped by
/// the receiver), the clock moves to the earliest retransmission timer, as a real driver's
/// would, and on; `handshake` reports any retransmission before the bench runs.
fn weft_handshake(start: Instant, client: &Config, server: &Config) -> (Endpoint, Endpoint) {
    let mut c = Endpoint::new(start, client.clone(), [1; 32]);
    let mut s = Endpoint::new(start, server.clone(), [2; 32]);
    let (mut c_done, mut s_done) = (false, false);
    let mut now = start;
    loop {
        let moved = weft_pump(now, &mut c, &mut s, &mut c_done)
            | weft_pump(now, &mut s, &mut c, &mut s_done);
        if c_done && s_done {
            return (c, s);
        }
        if !moved {
            now = [c.poll_timeout(), s.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .expect("weft handshake stalled with no timer");
            for ep in [&mut c, &mut s] {
                if ep.poll_timeout().is_some_and(|t| t <= now) {
                    ep.handle_timeout(now);
                }
            }
        }
    }
}

// --- webrtc-rs ------------------------------------------------------------------------

fn webrtc_rs_config(
    ours: &dtls::crypto::Certificate,
    theirs: &dtls::crypto::Certificate,
    is_client: bool,
) -> dtls::config::Config {
    // The peer is authenticated by its fingerprint (RFC 8122), as weft does: no chain
    // validation, a callback that compares the SHA-256 of the certificate.
    let expected = ring::digest::digest(&ring::digest::SHA256, theirs.certificate[0].as_ref())
        .as_ref()
        .to_vec();
    dtls::config::Config {
        certificates: vec![ours.clone()],
        cipher_suites: vec![CipherSuiteId::Tls_Ecdhe_Ecdsa_With_Aes_128_Gcm_Sha256],
        srtp_protection_profiles: vec![
            SrtpProtectionProfile::Srtp_Aead_Aes_128_Gcm,
            SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_80,
        ],
        extended_master_secret: ExtendedMasterSecretType::Require,
        // What webrtc-rs's own DTLS transport sets: ask for the client's certificate, check
        // it by fingerprint, not by chain.
        client_auth: if is_client {
            ClientAuthType::NoClientCert
        } else {
            ClientAuthType::RequireAnyClientCert
        },
        insecure_skip_verify: true,
        verify_peer_certificate: Some(Arc::new(move |certs: &[Vec<u8>], _| {
            let first = certs.first().ok_or(dtls::Error::ErrNoCertificates)?;
            let got = ring::digest::digest(&ring::digest::SHA256, first);
            if got.as_ref() == expected.as_slice() {
                Ok(())
            } else {
                Err(dtls::Error::Other("fingerprint mismatch".into()))
            }
        })),
        server_name: "server".into(),
        ..Default::default()
    }
}

/// One full handshake over an in-memory pipe; returns both connections, connected.
async fn webrtc_rs_handshake(
    client: dtls::config::Config,
    server: dtls::config::Config,
) -> (DTLSConn, DTLSConn) {
    let (a, b) = pipe();
    let a: Arc<dyn Conn + Send + Sync> = Arc::new(a);
    let b: Arc<dyn Conn + Send + Sync> = Arc::new(b);
    let (c, s) = tokio::join!(
        DTLSConn::new(a, client, true, None),
        DTLSConn::new(b, server, false, None)
    );
    (
        c.expect("webrtc-rs client handshake"),
        s.expect("webrtc-rs server handshake"),
    )
}

fn handshake(c: &mut Criterion) {
    let certs = Certs::new();
    let now = Instant::now();
    let (wc, ws) = weft_configs(&certs);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime");
    let rc = webrtc_rs_config(&certs.client, &certs.server, true);
    let rs = webrtc_rs_config(&certs.server, &certs.client, false);

    // Both connect and agree on what the bench claims.
    let (a, b) = weft_handshake(now, &wc, &ws);
    assert!(a.is_connected() && b.is_connected());
    let (ca, sa) = (a.stats(), b.stats());
    if ca.retransmits + sa.retransmits > 0 {
        // A clean in-memory handshake needs none; say so loudly, since the time below then
        // includes them.
        eprintln!(
            "dtls_handshake/weft: the handshake at a fixed clock needed retransmissions \
             (client {ca:?}, server {sa:?}); the weft time includes them"
        );
    }
    rt.block_on(async {
        let (a, b) = webrtc_rs_handshake(rc.clone(), rs.clone()).await;
        assert_eq!(
            a.selected_srtpprotection_profile(),
            SrtpProtectionProfile::Srtp_Aead_Aes_128_Gcm
        );
        // Each side saw the other's certificate (the only suite offered is AES-128-GCM).
        assert_eq!(
            a.connection_state().await.peer_certificates[0],
            certs.server.certificate[0].as_ref()
        );
        assert_eq!(
            b.connection_state().await.peer_certificates[0],
            certs.client.certificate[0].as_ref()
        );
        a.close().await.expect("close");
        b.close().await.expect("close");
    });

    let mut g = c.benchmark_group("dtls_handshake");
    g.bench_function("weft", |b| {
        b.iter(|| weft_handshake(now, black_box(&wc), black_box(&ws)))
    });
    g.bench_function("dtls_webrtc-rs", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (client, server) = (rc.clone(), rs.clone());
                    let start = Instant::now();
                    let (a, b) = webrtc_rs_handshake(client, server).await;
                    total += start.elapsed();
                    a.close().await.expect("close");
                    b.close().await.expect("close");
                }
                total
            })
        })
    });
    g.finish();
}

// --- records --------------------------------------------------------------------------

/// The key and IV both stacks protect records with: the client's write key and IV of a
/// key block (weft's PRF; any 16 + 4 bytes would do).
fn record_keys() -> (Vec<u8>, Vec<u8>) {
    let kb = key_block(
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        &[0x4d; 48],
        &[0x43; 32],
        &[0x53; 32],
    );
    (kb.client_key, kb.client_iv)
}

const EPOCH: u16 = 1;
const SEQ: u64 = 7;

fn payload() -> Vec<u8> {
    (0..RECORD_LEN).map(|i| (i * 7) as u8).collect()
}

/// weft's record as the endpoint writes it: seal the fragment, then header and fragment.
fn weft_seal(cipher: &RecordCipher, plain: &[u8]) -> Vec<u8> {
    let frag = cipher
        .seal(
            EPOCH,
            SEQ,
            ContentType::ApplicationData.to_u8(),
            DTLS_1_2,
            plain,
        )
        .unwrap();
    let mut out = Vec::with_capacity(HEADER_LEN + frag.len());
    Record::write(
        &mut out,
        ContentType::ApplicationData,
        DTLS_1_2,
        EPOCH,
        SEQ,
        &frag,
    );
    out
}

/// The header first, then the sealed fragment behind it in the same buffer, the length
/// filled in last.
fn weft_seal_append(cipher: &RecordCipher, plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + plain.len() + cipher.overhead());
    Record::write(
        &mut out,
        ContentType::ApplicationData,
        DTLS_1_2,
        EPOCH,
        SEQ,
        &[],
    );
    cipher
        .seal_append(
            EPOCH,
            SEQ,
            ContentType::ApplicationData.to_u8(),
            DTLS_1_2,
            plain,
            &mut out,
        )
        .unwrap();
    let len = (out.len() - HEADER_LEN) as u16;
    out[HEADER_LEN - 2..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    out
}

fn weft_open(cipher: &RecordCipher, record: &[u8]) -> Vec<u8> {
    let rec = Record::read(&mut Reader::new(record)).unwrap();
    cipher
        .open(
            rec.epoch,
            rec.seq,
            rec.content_type.to_u8(),
            rec.version,
            rec.fragment,
        )
        .unwrap()
}

fn weft_open_in_place(cipher: &RecordCipher, record: &[u8], buf: &mut Vec<u8>) -> usize {
    let rec = Record::read(&mut Reader::new(record)).unwrap();
    buf.clear();
    buf.extend_from_slice(rec.fragment);
    cipher
        .open_in_place(
            rec.epoch,
            rec.seq,
            rec.content_type.to_u8(),
            rec.version,
            buf,
        )
        .unwrap()
        .len()
}

fn webrtc_rs_header() -> RecordLayerHeader {
    RecordLayerHeader {
        content_type: dtls::content::ContentType::ApplicationData,
        protocol_version: PROTOCOL_VERSION1_2,
        epoch: EPOCH,
        sequence_number: SEQ,
        content_len: RECORD_LEN as u16,
    }
}

/// The marshalled plaintext record (header and payload) that webrtc-rs's record layer
/// hands its cipher.
fn webrtc_rs_raw(h: &RecordLayerHeader, plain: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(HEADER_LEN + plain.len());
    h.marshal(&mut raw).unwrap();
    raw.extend_from_slice(plain);
    raw
}

fn records(c: &mut Criterion) {
    let (key, iv) = record_keys();
    let weft = RecordCipher::new(CipherSuite::EcdheEcdsaAes128GcmSha256, &key, &iv).unwrap();
    let webrtc = CryptoGcm::new(&key, &iv, &key, &iv);
    let plain = payload();
    let h = webrtc_rs_header();
    let raw = webrtc_rs_raw(&h, &plain);

    // Same record format: each stack opens the other's.
    let w = weft_seal(&weft, &plain);
    assert_eq!(w.len(), HEADER_LEN + 8 + RECORD_LEN + 16);
    assert_eq!(weft_seal_append(&weft, &plain), w);
    let r = webrtc.encrypt(&h, &raw).unwrap();
    assert_eq!(r.len(), w.len());
    assert_eq!(weft_open(&weft, &r), plain);
    assert_eq!(webrtc.decrypt(&w).unwrap()[HEADER_LEN..], plain[..]);
    let mut scratch = Vec::with_capacity(w.len());
    assert_eq!(weft_open_in_place(&weft, &w, &mut scratch), RECORD_LEN);

    let mut g = c.benchmark_group("dtls_record_seal");
    g.throughput(Throughput::Bytes(RECORD_LEN as u64));
    g.bench_function("weft", |b| b.iter(|| weft_seal(&weft, black_box(&plain))));
    g.bench_function("weft_seal_append", |b| {
        b.iter(|| weft_seal_append(&weft, black_box(&plain)))
    });
    g.bench_function("dtls_webrtc-rs", |b| {
        b.iter(|| webrtc.encrypt(black_box(&h), black_box(&raw)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("dtls_record_open");
    g.throughput(Throughput::Bytes(RECORD_LEN as u64));
    g.bench_function("weft", |b| b.iter(|| weft_open(&weft, black_box(&w))));
    g.bench_function("weft_open_in_place", |b| {
        b.iter(|| weft_open_in_place(&weft, black_box(&w), &mut scratch))
    });
    g.bench_function("dtls_webrtc-rs", |b| {
        b.iter(|| webrtc.decrypt(black_box(&w)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, handshake, records);
criterion_main!(benches);
