//! The DTLS 1.2 endpoint: handshake state machine (client and server) and record layer.
//!
//! ```text
//! client                                         server
//! ClientHello (no cookie)            -------->                       flight 1
//!                                    <-------- HelloVerifyRequest    flight 2 (stateless)
//! ClientHello (cookie)               -------->                       flight 3
//!                                              ServerHello           flight 4
//!                                              Certificate
//!                                              ServerKeyExchange
//!                                              CertificateRequest
//!                                    <-------- ServerHelloDone
//! Certificate, ClientKeyExchange,
//! CertificateVerify, [ChangeCipherSpec],
//! Finished                           -------->                       flight 5
//!                                    <-------- [ChangeCipherSpec]    flight 6
//!                                              Finished
//! Application data                   <------->  Application data
//! ```
//! Flights are retransmitted with back-off until the next flight arrives (RFC 6347
//! §4.2.4); the last flight is sent again when the peer's previous flight comes again.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use ring::rand::SystemRandom;

use crate::cert::{fingerprint_of, matches_any, Certificate, Fingerprint, FingerprintAlg};
use crate::crypto::{
    self, CipherSuite, EphemeralKey, HashAlg, NamedGroup, RecordCipher, Transcript,
};
use crate::wire::handshake::{
    self as hs, ext, msg, ClientHello, Fragment, Reassembly, ServerHello,
};
use crate::wire::record::{ContentType, Record, ReplayWindow, DTLS_1_0, DTLS_1_2, HEADER_LEN};
use crate::wire::{DecodeError, Reader};

/// Which side of the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends the ClientHello (WebRTC: `a=setup:active`).
    Client,
    /// Answers it (WebRTC: `a=setup:passive`).
    Server,
}

/// SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    /// SRTP_AES128_CM_HMAC_SHA1_80 (0x0001).
    Aes128CmSha1_80,
    /// SRTP_AES128_CM_HMAC_SHA1_32 (0x0002).
    Aes128CmSha1_32,
    /// SRTP_AEAD_AES_128_GCM (0x0007).
    AeadAes128Gcm,
    /// SRTP_AEAD_AES_256_GCM (0x0008).
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// The wire value.
    pub fn to_u16(self) -> u16 {
        match self {
            SrtpProfile::Aes128CmSha1_80 => 0x0001,
            SrtpProfile::Aes128CmSha1_32 => 0x0002,
            SrtpProfile::AeadAes128Gcm => 0x0007,
            SrtpProfile::AeadAes256Gcm => 0x0008,
        }
    }

    /// From the wire value.
    pub fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            0x0001 => SrtpProfile::Aes128CmSha1_80,
            0x0002 => SrtpProfile::Aes128CmSha1_32,
            0x0007 => SrtpProfile::AeadAes128Gcm,
            0x0008 => SrtpProfile::AeadAes256Gcm,
            _ => return None,
        })
    }

    /// The IANA "DTLS-SRTP Protection Profiles" name (RFC 5764 §4.1.2, RFC 7714 §14.2), as
    /// W3C `srtpCipher` reports it.
    pub fn iana_name(self) -> &'static str {
        match self {
            SrtpProfile::Aes128CmSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
            SrtpProfile::Aes128CmSha1_32 => "SRTP_AES128_CM_HMAC_SHA1_32",
            SrtpProfile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            SrtpProfile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }

    /// Bytes of keying material to export: 2 × (key + salt) (RFC 5764 §4.2, RFC 7714 §12).
    pub fn keying_material_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmSha1_80 | SrtpProfile::Aes128CmSha1_32 => 2 * (16 + 14),
            SrtpProfile::AeadAes128Gcm => 2 * (16 + 12),
            SrtpProfile::AeadAes256Gcm => 2 * (32 + 12),
        }
    }
}

/// Endpoint configuration.
#[derive(Clone)]
pub struct Config {
    /// Client or server.
    pub role: Role,
    /// Our certificate (both sides authenticate in WebRTC).
    pub certificate: Arc<Certificate>,
    /// Acceptable peer certificate fingerprints from the remote SDP; empty accepts any
    /// (the event still reports the peer's fingerprint).
    pub remote_fingerprints: Vec<Fingerprint>,
    /// SRTP profiles in our order of preference; empty: no use_srtp.
    pub srtp_profiles: Vec<SrtpProfile>,
    /// Cipher suites in our order of preference.
    pub cipher_suites: Vec<CipherSuite>,
    /// Largest datagram we send (RFC 6347 §4.1.1.1), default 1200.
    pub mtu: usize,
    /// First retransmission timeout (RFC 6347 §4.2.4.1 says 1 s; WebRTC stacks use less).
    pub initial_timeout: Duration,
    /// The back-off ceiling.
    pub max_timeout: Duration,
    /// Give up on a handshake after this long.
    pub handshake_timeout: Duration,
}

impl Config {
    /// Defaults for WebRTC around a certificate.
    pub fn new(role: Role, certificate: Arc<Certificate>) -> Self {
        Config {
            role,
            certificate,
            remote_fingerprints: Vec::new(),
            srtp_profiles: vec![
                SrtpProfile::AeadAes128Gcm,
                SrtpProfile::Aes128CmSha1_80,
                SrtpProfile::AeadAes256Gcm,
                SrtpProfile::Aes128CmSha1_32,
            ],
            cipher_suites: vec![
                CipherSuite::EcdheEcdsaAes128GcmSha256,
                CipherSuite::EcdheEcdsaAes256GcmSha384,
                CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
                CipherSuite::EcdheRsaAes128GcmSha256,
                CipherSuite::EcdheRsaAes256GcmSha384,
                CipherSuite::EcdheRsaChacha20Poly1305Sha256,
            ],
            mtu: 1200,
            initial_timeout: Duration::from_millis(400),
            max_timeout: Duration::from_secs(8),
            handshake_timeout: Duration::from_secs(30),
        }
    }
}

/// Why the connection failed. Each maps to the alert sent (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A handshake message did not parse (decode_error, 50).
    Decode(DecodeError),
    /// The peer sent something out of order (unexpected_message, 10).
    Unexpected(&'static str),
    /// No common parameters (handshake_failure, 40).
    NoCommon(&'static str),
    /// A signature or Finished did not verify (decrypt_error, 51).
    BadSignature(&'static str),
    /// The peer's certificate is not the one signalled (bad_certificate, 42).
    FingerprintMismatch {
        /// What SDP said.
        expected: Vec<Fingerprint>,
        /// What the peer presented (sha-256).
        actual: Fingerprint,
    },
    /// The peer's certificate did not parse (bad_certificate, 42).
    BadCertificate,
    /// A cryptographic operation failed (internal_error, 80).
    Crypto(String),
    /// The peer sent a fatal alert.
    PeerAlert(u8),
    /// The handshake took longer than `handshake_timeout`.
    Timeout,
}

impl Error {
    fn alert(&self) -> Option<u8> {
        Some(match self {
            Error::Decode(_) => 50,
            Error::Unexpected(_) => 10,
            Error::NoCommon(_) => 40,
            Error::BadSignature(_) => 51,
            Error::FingerprintMismatch { .. } | Error::BadCertificate => 42,
            Error::Crypto(_) => 80,
            Error::PeerAlert(_) | Error::Timeout => return None,
        })
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Decode(e) => write!(f, "decode error: {e}"),
            Error::Unexpected(w) => write!(f, "unexpected message: {w}"),
            Error::NoCommon(w) => write!(f, "no common {w}"),
            Error::BadSignature(w) => write!(f, "{w} does not verify"),
            Error::FingerprintMismatch { expected, actual } => {
                write!(f, "peer certificate {actual} matches none of")?;
                for e in expected {
                    write!(f, " {e}")?;
                }
                Ok(())
            }
            Error::BadCertificate => f.write_str("bad peer certificate"),
            Error::Crypto(e) => write!(f, "crypto: {e}"),
            Error::PeerAlert(a) => write!(f, "peer sent fatal alert {a}"),
            Error::Timeout => f.write_str("handshake timed out"),
        }
    }
}

impl std::error::Error for Error {}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<crypto::CryptoError> for Error {
    fn from(e: crypto::CryptoError) -> Self {
        Error::Crypto(e.to_string())
    }
}

/// What the handshake agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// The cipher suite.
    pub cipher_suite: CipherSuite,
    /// The SRTP profile, if use_srtp was negotiated.
    pub srtp_profile: Option<SrtpProfile>,
    /// The peer certificate's sha-256 fingerprint.
    pub peer_fingerprint: Fingerprint,
    /// The peer certificate (DER).
    pub peer_certificate: Vec<u8>,
}

/// Something for the caller.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this datagram to the peer.
    Transmit(Vec<u8>),
    /// The handshake finished.
    Connected(Connected),
    /// Application data received.
    Data(Vec<u8>),
    /// The connection failed (an alert was sent when the error has one).
    Failed(Error),
    /// The peer closed (close_notify).
    Closed,
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records dropped: malformed, failed authentication, replayed, or of an unknown epoch.
    pub records_dropped: u64,
    /// Records dropped as replays (RFC 6347 §4.1.2.6).
    pub replays: u64,
    /// Flights retransmitted.
    pub retransmits: u64,
    /// HelloVerifyRequests sent.
    pub cookies_sent: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Client: waits for HelloVerifyRequest or ServerHello. Server: for a ClientHello.
    ExpectHello,
    /// Client: waits for the server's flight 4 to end with ServerHelloDone.
    ExpectServerHelloDone,
    /// Server: waits for the client's flight 5.
    ExpectClientFlight,
    /// Waits for the peer's Finished.
    ExpectFinished,
    Connected,
    Failed,
    Closed,
}

/// A handshake message to (re)send in a flight, with its epoch.
#[derive(Debug, Clone)]
enum FlightItem {
    Handshake {
        epoch: u16,
        msg_type: u8,
        seq: u16,
        body: Vec<u8>,
    },
    ChangeCipherSpec,
}

/// A sans-IO DTLS 1.2 endpoint for one peer.
///
/// # Calling contract
/// - [`Endpoint::new`] with a [`Config`] and a seed (randoms, cookie secret); a client
///   sends its ClientHello at once (drain [`poll_output`](Self::poll_output)).
/// - Every datagram from the peer goes to [`handle_input`](Self::handle_input);
///   [`handle_timeout`](Self::handle_timeout) when the clock reaches
///   [`poll_timeout`](Self::poll_timeout).
/// - After every call, drain [`poll_output`](Self::poll_output): transmits, then
///   `Connected`, data, `Failed` or `Closed`.
/// - After `Connected`: [`send`](Self::send) application data,
///   [`export_keying_material`](Self::export_keying_material) for SRTP, [`close`](Self::close).
/// - Never: a panic on any datagram; per-peer state on a server before the cookie round
///   trip (the server keeps only its secret until a ClientHello proves its address);
///   a teardown by an unauthenticated alert or record once connected.
///
/// Randomness: hello randoms and the cookie secret come from the seeded ChaCha20 RNG; the
/// ECDHE private key and ECDSA signature nonces come from ring's `SystemRandom`, because
/// ring accepts no other source (its `SecureRandom` is sealed).
pub struct Endpoint {
    config: Config,
    rng: ChaCha20Rng,
    sysrand: SystemRandom,
    state: State,
    started: Option<Instant>,
    cookie_secret: [u8; 32],
    // Handshake.
    client_random: [u8; 32],
    server_random: [u8; 32],
    cookie: Vec<u8>,
    suite: Option<CipherSuite>,
    srtp: Option<SrtpProfile>,
    ems: bool,
    group: Option<NamedGroup>,
    eph: Option<EphemeralKey>,
    peer_cert: Option<Vec<u8>>,
    peer_schemes: Vec<u16>,
    cert_requested: bool,
    /// Client: our ECDHE public key and the pre-master secret, between ServerKeyExchange
    /// and ServerHelloDone.
    pending_client_kx: Option<(Vec<u8>, Vec<u8>)>,
    /// Record sequence number of the last ClientHello seen before the cookie round trip.
    hello_record_seq: u64,
    /// The last flight was already re-sent for the datagram being handled.
    resent: bool,
    transcript: Vec<u8>,
    master: Option<[u8; 48]>,
    send_msg_seq: u16,
    recv_msg_seq: u16,
    reassembly: Vec<Reassembly>,
    // Records.
    write_epoch: u16,
    write_seq: [u64; 2],
    write_cipher: Option<RecordCipher>,
    read_cipher: Option<RecordCipher>,
    read_epoch: u16,
    replay: [ReplayWindow; 2],
    early_epoch1: Vec<Vec<u8>>,
    // Flights.
    flight: Vec<FlightItem>,
    timer: Option<Instant>,
    timeout: Duration,
    out: VecDeque<Output>,
    stats: Stats,
}

const MAX_EARLY: usize = 16;
const MAX_REASSEMBLY: usize = 8;

impl Endpoint {
    /// A new endpoint; a client's first flight is queued at once.
    pub fn new(now: Instant, config: Config, seed: [u8; 32]) -> Self {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let mut cookie_secret = [0u8; 32];
        rng.fill_bytes(&mut cookie_secret);
        let mut e = Endpoint {
            timeout: config.initial_timeout,
            config,
            rng,
            sysrand: SystemRandom::new(),
            state: State::ExpectHello,
            started: Some(now),
            cookie_secret,
            client_random: [0; 32],
            server_random: [0; 32],
            cookie: Vec::new(),
            suite: None,
            srtp: None,
            ems: false,
            group: None,
            eph: None,
            peer_cert: None,
            peer_schemes: Vec::new(),
            cert_requested: false,
            pending_client_kx: None,
            hello_record_seq: 0,
            resent: false,
            transcript: Vec::new(),
            master: None,
            send_msg_seq: 0,
            recv_msg_seq: 0,
            reassembly: Vec::new(),
            write_epoch: 0,
            write_seq: [0; 2],
            write_cipher: None,
            read_cipher: None,
            read_epoch: 0,
            replay: [ReplayWindow::default(), ReplayWindow::default()],
            early_epoch1: Vec::new(),
            flight: Vec::new(),
            timer: None,
            out: VecDeque::new(),
            stats: Stats::default(),
        };
        if e.config.role == Role::Client {
            e.rng.fill_bytes(&mut e.client_random);
            e.send_client_hello(now);
        }
        e
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether the handshake finished.
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Failed | State::Closed => None,
            _ => {
                let give_up = match self.state {
                    State::Connected => None,
                    _ => self.started.map(|s| s + self.config.handshake_timeout),
                };
                [self.timer, give_up].into_iter().flatten().min()
            }
        }
    }

    /// Retransmits the current flight with back-off (RFC 6347 §4.2.4.1), or gives up.
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.state, State::Failed | State::Closed) {
            return;
        }
        if self.state != State::Connected
            && self
                .started
                .is_some_and(|s| now >= s + self.config.handshake_timeout)
        {
            self.fail(Error::Timeout);
            return;
        }
        if self.timer.is_some_and(|t| t <= now) {
            self.timeout = (self.timeout * 2).min(self.config.max_timeout);
            self.stats.retransmits += 1;
            self.send_flight(now);
        }
    }

    /// Sends application data (RFC 6347 §4.1: one record per datagram here).
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.state != State::Connected {
            return Err(Error::Unexpected(
                "application data before the handshake finished",
            ));
        }
        let mut d = Vec::with_capacity(data.len() + 64);
        self.write_record(&mut d, ContentType::ApplicationData, data)?;
        self.out.push_back(Output::Transmit(d));
        Ok(())
    }

    /// Sends close_notify (RFC 5246 §7.2.1) and stops.
    pub fn close(&mut self) {
        if self.state == State::Connected {
            let mut d = Vec::new();
            if self
                .write_record(&mut d, ContentType::Alert, &[1, 0])
                .is_ok()
            {
                self.out.push_back(Output::Transmit(d));
            }
        }
        self.state = State::Closed;
        self.timer = None;
    }

    /// RFC 5705 exporter, e.g. `EXTRACTOR-dtls_srtp` for the SRTP master keys
    /// (RFC 5764 §4.2). Only after the handshake.
    pub fn export_keying_material(&self, label: &str, len: usize) -> Option<Vec<u8>> {
        if self.state != State::Connected {
            return None;
        }
        let master = self.master.as_ref()?;
        let mut out = vec![0u8; len];
        crypto::export_keying_material(
            self.suite?.hash(),
            master,
            &self.client_random,
            &self.server_random,
            label.as_bytes(),
            None,
            &mut out,
        )
        .ok()?;
        Some(out)
    }

    // --- receiving -------------------------------------------------------------------

    /// A datagram from the peer.
    pub fn handle_input(&mut self, now: Instant, datagram: &[u8]) {
        if matches!(self.state, State::Failed | State::Closed) {
            return;
        }
        self.resent = false;
        for rec in Record::parse_all(datagram) {
            let Ok(rec) = rec else {
                // RFC 6347 §4.1.2.7: drop the rest of a malformed datagram.
                self.stats.records_dropped += 1;
                return;
            };
            if let Err(e) = self.handle_record(now, &rec) {
                self.fail(e);
                return;
            }
            if matches!(self.state, State::Failed | State::Closed) {
                return;
            }
        }
        // Records of epoch 1 that overtook the key schedule, now readable.
        if self.read_cipher.is_some() && !self.early_epoch1.is_empty() {
            for d in std::mem::take(&mut self.early_epoch1) {
                self.handle_input(now, &d);
            }
        }
    }

    fn handle_record(&mut self, now: Instant, rec: &Record<'_>) -> Result<(), Error> {
        let plain: Vec<u8> = match rec.epoch {
            0 if self.config.role == Role::Server && self.state == State::ExpectHello => {
                // Stateless until the cookie round trip: no replay window either
                // (RFC 6347 §4.2.1); the HelloVerifyRequest echoes the record number.
                self.hello_record_seq = rec.seq;
                rec.fragment.to_vec()
            }
            0 => {
                if !self.replay[0].check(rec.seq) {
                    self.stats.replays += 1;
                    self.stats.records_dropped += 1;
                    return Ok(());
                }
                // Once keys are in use, epoch 0 carries only handshake retransmissions.
                if self.state == State::Connected && rec.content_type != ContentType::Handshake {
                    self.stats.records_dropped += 1;
                    return Ok(());
                }
                self.replay[0].mark(rec.seq);
                rec.fragment.to_vec()
            }
            1 => {
                let Some(cipher) = &self.read_cipher else {
                    // Reordered ahead of ChangeCipherSpec: keep a few for later.
                    if self.early_epoch1.len() < MAX_EARLY {
                        let mut d = Vec::new();
                        Record::write(
                            &mut d,
                            rec.content_type,
                            rec.version,
                            rec.epoch,
                            rec.seq,
                            rec.fragment,
                        );
                        self.early_epoch1.push(d);
                    }
                    return Ok(());
                };
                if !self.replay[1].check(rec.seq) {
                    self.stats.replays += 1;
                    self.stats.records_dropped += 1;
                    return Ok(());
                }
                match cipher.open(
                    rec.epoch,
                    rec.seq,
                    rec.content_type.to_u8(),
                    rec.version,
                    rec.fragment,
                ) {
                    Ok(p) => {
                        self.replay[1].mark(rec.seq);
                        p
                    }
                    Err(_) => {
                        // RFC 6347 §4.1.2.7: a bad record is dropped, not fatal.
                        self.stats.records_dropped += 1;
                        return Ok(());
                    }
                }
            }
            _ => {
                self.stats.records_dropped += 1;
                return Ok(());
            }
        };
        match rec.content_type {
            ContentType::Handshake => self.handle_handshake_record(now, rec.epoch, &plain),
            ContentType::ChangeCipherSpec => {
                // Keys switch when our key schedule says so; the CCS itself is a marker.
                if plain != [1] {
                    return Err(Error::Unexpected("ChangeCipherSpec body"));
                }
                Ok(())
            }
            ContentType::Alert => {
                let (level, desc) = match plain.as_slice() {
                    [l, d] => (*l, *d),
                    _ => {
                        self.stats.records_dropped += 1;
                        return Ok(());
                    }
                };
                // An unauthenticated alert never tears down an established connection.
                if rec.epoch == 0 && self.state == State::Connected {
                    self.stats.records_dropped += 1;
                    return Ok(());
                }
                if desc == 0 {
                    self.state = State::Closed;
                    self.timer = None;
                    self.out.push_back(Output::Closed);
                } else if level == 2 {
                    self.state = State::Failed;
                    self.timer = None;
                    self.out.push_back(Output::Failed(Error::PeerAlert(desc)));
                }
                Ok(())
            }
            ContentType::ApplicationData => {
                if rec.epoch == 1 && self.state == State::Connected {
                    self.out.push_back(Output::Data(plain));
                } else {
                    self.stats.records_dropped += 1;
                }
                Ok(())
            }
        }
    }

    fn handle_handshake_record(
        &mut self,
        now: Instant,
        epoch: u16,
        plain: &[u8],
    ) -> Result<(), Error> {
        let mut r = Reader::new(plain);
        while !r.is_empty() {
            let f = Fragment::read(&mut r)?;
            if f.message_seq < self.recv_msg_seq {
                // RFC 6347 §4.2.4: the peer retransmitted its previous flight: ours was
                // lost; send it again (at most once per timer period is plenty here).
                if !self.flight.is_empty() && self.state != State::ExpectHello && !self.resent {
                    // Once per received datagram, not once per repeated message.
                    self.resent = true;
                    self.stats.retransmits += 1;
                    self.send_flight_now();
                }
                continue;
            }
            if f.message_seq > self.recv_msg_seq.saturating_add(MAX_REASSEMBLY as u16) {
                continue;
            }
            // The server's first ClientHello is answered statelessly.
            if self.config.role == Role::Server && self.state == State::ExpectHello && epoch == 0 {
                if f.msg_type != msg::CLIENT_HELLO
                    || f.offset != 0
                    || f.body.len() as u32 != f.length
                {
                    // A fragmented ClientHello: reassemble it (Chromium's 1413-byte hello).
                    self.add_fragment(&f)?;
                } else {
                    self.on_client_hello_bytes(now, f.message_seq, f.body)?;
                    continue;
                }
            } else {
                self.add_fragment(&f)?;
            }
            self.process_reassembled(now)?;
        }
        Ok(())
    }

    fn add_fragment(&mut self, f: &Fragment<'_>) -> Result<(), Error> {
        match self
            .reassembly
            .iter_mut()
            .find(|r| r.message_seq == f.message_seq)
        {
            Some(r) => r.add(f)?,
            None => {
                if self.reassembly.len() >= MAX_REASSEMBLY {
                    return Ok(());
                }
                let mut r = Reassembly::new(f);
                r.add(f)?;
                self.reassembly.push(r);
            }
        }
        Ok(())
    }

    fn process_reassembled(&mut self, now: Instant) -> Result<(), Error> {
        loop {
            // A server before the cookie round trip takes whichever ClientHello is whole
            // (its message_seq is the client's to choose); afterwards, messages in order.
            let hello = self.config.role == Role::Server && self.state == State::ExpectHello;
            let pos = if hello {
                self.reassembly
                    .iter()
                    .position(|r| r.msg_type == msg::CLIENT_HELLO && r.complete().is_some())
            } else {
                let seq = self.recv_msg_seq;
                self.reassembly.iter().position(|r| r.message_seq == seq)
            };
            let Some(pos) = pos else {
                return Ok(());
            };
            let seq = self.reassembly.get(pos).map_or(0, |r| r.message_seq);
            let Some(body) = self
                .reassembly
                .get(pos)
                .and_then(|r| r.complete())
                .map(<[u8]>::to_vec)
            else {
                return Ok(());
            };
            let msg_type = self.reassembly.get(pos).map_or(0, |r| r.msg_type);
            self.reassembly.swap_remove(pos);
            if hello {
                self.on_client_hello_bytes(now, seq, &body)?;
                if self.state != State::ExpectHello {
                    // Leftovers of earlier hellos.
                    self.reassembly
                        .retain(|r| r.message_seq >= self.recv_msg_seq);
                }
            } else {
                self.recv_msg_seq = seq.wrapping_add(1);
                self.on_message(now, msg_type, seq, &body)?;
            }
            if matches!(self.state, State::Failed | State::Closed) {
                return Ok(());
            }
        }
    }

    fn add_transcript(&mut self, msg_type: u8, seq: u16, body: &[u8]) {
        // RFC 6347 §4.2.6: hashed as if unfragmented, with the DTLS header.
        Fragment::write(
            &mut self.transcript,
            msg_type,
            body.len() as u32,
            seq,
            0,
            body,
        );
    }

    fn hash(&self) -> HashAlg {
        self.suite.map_or(HashAlg::Sha256, |s| s.hash())
    }

    fn transcript_hash(&self) -> Vec<u8> {
        let mut t = Transcript::new(self.hash());
        t.update(&self.transcript);
        t.current()
    }

    // --- server --------------------------------------------------------------------

    fn cookie_for(&self, ch: &ClientHello<'_>) -> [u8; 32] {
        // RFC 6347 §4.2.1: a MAC over the client's parameters, no per-client state.
        let suites: Vec<u8> = ch
            .cipher_suites
            .iter()
            .flat_map(|s| s.to_be_bytes())
            .collect();
        crypto::cookie_mac(&self.cookie_secret, &[&ch.random, ch.session_id, &suites])
    }

    fn on_client_hello_bytes(&mut self, now: Instant, seq: u16, body: &[u8]) -> Result<(), Error> {
        let ch = ClientHello::parse(body)?;
        let expected = self.cookie_for(&ch);
        if ch.cookie.is_empty() || !crypto::ct_eq(ch.cookie, &expected) {
            // Flight 2: HelloVerifyRequest, sent and forgotten.
            let hvr = hs::emit_hello_verify_request(&expected);
            let mut frag = Vec::new();
            Fragment::write(
                &mut frag,
                msg::HELLO_VERIFY_REQUEST,
                hvr.len() as u32,
                seq,
                0,
                &hvr,
            );
            let mut d = Vec::new();
            Record::write(
                &mut d,
                ContentType::Handshake,
                DTLS_1_0,
                0,
                self.hello_record_seq,
                &frag,
            );
            self.stats.cookies_sent += 1;
            self.out.push_back(Output::Transmit(d));
            return Ok(());
        }
        // The cookie proves the address: from here on there is state.
        self.recv_msg_seq = seq.wrapping_add(1);
        self.send_msg_seq = seq;
        // RFC 6347 §4.2.1: the HelloVerifyRequest echoed the hello's record number; our
        // records continue from the cookie hello's, so the client's replay window never
        // sees record 0 twice.
        self.write_seq[0] = self.write_seq[0].max(self.hello_record_seq);
        self.started = Some(now);
        self.client_random = ch.random;
        // RFC 6347 §4.2.1: the ClientHello with the cookie starts the transcript.
        self.add_transcript(msg::CLIENT_HELLO, seq, body);
        self.choose(&ch)?;
        self.send_server_flight(now)
    }

    fn choose(&mut self, ch: &ClientHello<'_>) -> Result<(), Error> {
        // Version: DTLS 1.2 (supported_versions offering 1.3 is simply not taken).
        if ch.version[0] != 254 || ch.version[1] > 253 {
            return Err(Error::NoCommon("protocol version"));
        }
        let ecdsa = self.config.certificate.signature_scheme() != 0x0401
            && self.config.certificate.signature_scheme() != 0x0804;
        self.suite = self
            .config
            .cipher_suites
            .iter()
            .copied()
            .filter(|s| s.is_ecdsa() == ecdsa)
            .find(|s| ch.cipher_suites.contains(&s.to_u16()));
        if self.suite.is_none() {
            return Err(Error::NoCommon("cipher suite"));
        }
        // RFC 7627 §5.1: we require the extended master secret.
        self.ems = hs::find_ext(&ch.extensions, ext::EXTENDED_MASTER_SECRET).is_some();
        if !self.ems {
            return Err(Error::NoCommon("extended_master_secret"));
        }
        let groups = match hs::find_ext(&ch.extensions, ext::SUPPORTED_GROUPS) {
            Some(g) => hs::read_u16_list(g, "supported_groups")?,
            None => vec![23],
        };
        self.group = if groups.contains(&29) {
            Some(NamedGroup::X25519)
        } else if groups.contains(&23) {
            Some(NamedGroup::Secp256r1)
        } else {
            return Err(Error::NoCommon("group"));
        };
        if let Some(s) = hs::find_ext(&ch.extensions, ext::USE_SRTP) {
            let offered = hs::parse_use_srtp(s)?;
            self.srtp = self
                .config
                .srtp_profiles
                .iter()
                .copied()
                .find(|p| offered.contains(&p.to_u16()));
        }
        Ok(())
    }

    fn send_server_flight(&mut self, now: Instant) -> Result<(), Error> {
        self.rng.fill_bytes(&mut self.server_random);
        let suite = self.suite.ok_or(Error::NoCommon("cipher suite"))?;
        let mut exts: Vec<(u16, Vec<u8>)> = vec![
            (ext::EXTENDED_MASTER_SECRET, vec![]),
            (ext::RENEGOTIATION_INFO, vec![0]),
            (ext::EC_POINT_FORMATS, vec![1, 0]),
        ];
        if let Some(p) = self.srtp {
            exts.push((ext::USE_SRTP, hs::emit_use_srtp(&[p.to_u16()])));
        }
        let sh = ServerHello::emit(&self.server_random, suite.to_u16(), &exts);
        let cert = hs::emit_certificate(Some(self.config.certificate.der()));
        let group = self.group.ok_or(Error::NoCommon("group"))?;
        let eph = EphemeralKey::generate(group, &self.sysrand)?;
        let params = hs::ServerKeyExchange::emit_params(group_id(group), eph.public_key());
        self.eph = Some(eph);
        let mut signed = Vec::with_capacity(64 + params.len());
        signed.extend_from_slice(&self.client_random);
        signed.extend_from_slice(&self.server_random);
        signed.extend_from_slice(&params);
        let sig = self
            .config
            .certificate
            .sign(&signed, &self.sysrand)
            .map_err(|e| Error::Crypto(e.to_string()))?;
        let ske =
            hs::ServerKeyExchange::emit(&params, self.config.certificate.signature_scheme(), &sig);
        let creq = hs::emit_certificate_request(&[0x0403, 0x0503, 0x0804, 0x0401]);
        self.flight.clear();
        for (t, body) in [
            (msg::SERVER_HELLO, sh),
            (msg::CERTIFICATE, cert),
            (msg::SERVER_KEY_EXCHANGE, ske),
            (msg::CERTIFICATE_REQUEST, creq),
            (msg::SERVER_HELLO_DONE, Vec::new()),
        ] {
            self.queue_message(0, t, body);
        }
        self.state = State::ExpectClientFlight;
        self.start_flight(now);
        Ok(())
    }

    // --- client --------------------------------------------------------------------

    fn send_client_hello(&mut self, now: Instant) {
        let mut exts: Vec<(u16, Vec<u8>)> = vec![
            (ext::EXTENDED_MASTER_SECRET, vec![]),
            (ext::RENEGOTIATION_INFO, vec![0]),
            (ext::SUPPORTED_GROUPS, hs::u16_list(&[29, 23])),
            (ext::EC_POINT_FORMATS, vec![1, 0]),
            (
                ext::SIGNATURE_ALGORITHMS,
                hs::u16_list(&[0x0403, 0x0503, 0x0804, 0x0401]),
            ),
        ];
        if !self.config.srtp_profiles.is_empty() {
            let p: Vec<u16> = self
                .config
                .srtp_profiles
                .iter()
                .map(|p| p.to_u16())
                .collect();
            exts.push((ext::USE_SRTP, hs::emit_use_srtp(&p)));
        }
        let suites: Vec<u16> = self
            .config
            .cipher_suites
            .iter()
            .map(|s| s.to_u16())
            .collect();
        let body = ClientHello::emit(&self.client_random, &self.cookie, &suites, &exts);
        self.flight.clear();
        self.transcript.clear();
        self.queue_message(0, msg::CLIENT_HELLO, body);
        self.start_flight(now);
    }

    fn on_message(
        &mut self,
        now: Instant,
        msg_type: u8,
        seq: u16,
        body: &[u8],
    ) -> Result<(), Error> {
        match (self.config.role, self.state, msg_type) {
            (Role::Client, State::ExpectHello, msg::HELLO_VERIFY_REQUEST) => {
                let cookie = hs::parse_hello_verify_request(body)?;
                self.cookie = cookie.to_vec();
                // RFC 6347 §4.2.2: the second ClientHello has message_seq 1; the HVR is
                // not in the transcript.
                self.send_msg_seq = 1;
                self.send_client_hello(now);
                Ok(())
            }
            (Role::Client, State::ExpectHello, msg::SERVER_HELLO) => {
                let sh = ServerHello::parse(body)?;
                if sh.version != DTLS_1_2 {
                    return Err(Error::NoCommon("protocol version"));
                }
                let suite = CipherSuite::from_u16(sh.cipher_suite)
                    .filter(|s| self.config.cipher_suites.contains(s))
                    .ok_or(Error::NoCommon("cipher suite"))?;
                self.suite = Some(suite);
                self.server_random = sh.random;
                self.ems = hs::find_ext(&sh.extensions, ext::EXTENDED_MASTER_SECRET).is_some();
                if !self.ems {
                    return Err(Error::NoCommon("extended_master_secret"));
                }
                if let Some(s) = hs::find_ext(&sh.extensions, ext::USE_SRTP) {
                    let p = hs::parse_use_srtp(s)?;
                    let chosen = p
                        .first()
                        .and_then(|v| SrtpProfile::from_u16(*v))
                        .filter(|v| self.config.srtp_profiles.contains(v) && p.len() == 1)
                        .ok_or(Error::NoCommon("SRTP profile"))?;
                    self.srtp = Some(chosen);
                }
                // The transcript starts with the ClientHello that carried the cookie.
                let ch = self.flight.iter().find_map(|f| match f {
                    FlightItem::Handshake {
                        msg_type: msg::CLIENT_HELLO,
                        seq,
                        body,
                        ..
                    } => Some((*seq, body.clone())),
                    _ => None,
                });
                if let Some((s, b)) = ch {
                    self.add_transcript(msg::CLIENT_HELLO, s, &b);
                }
                self.add_transcript(msg_type, seq, body);
                self.timer = None;
                self.state = State::ExpectServerHelloDone;
                Ok(())
            }
            (Role::Client, State::ExpectServerHelloDone, msg::CERTIFICATE) => {
                self.add_transcript(msg_type, seq, body);
                self.on_peer_certificate(body)
            }
            (Role::Client, State::ExpectServerHelloDone, msg::SERVER_KEY_EXCHANGE) => {
                self.add_transcript(msg_type, seq, body);
                let ske = hs::ServerKeyExchange::parse(body)?;
                let cert = self
                    .peer_cert
                    .as_deref()
                    .ok_or(Error::Unexpected("ServerKeyExchange before Certificate"))?;
                let mut signed = Vec::with_capacity(64 + ske.params.len());
                signed.extend_from_slice(&self.client_random);
                signed.extend_from_slice(&self.server_random);
                signed.extend_from_slice(ske.params);
                crypto::verify_signature(cert, ske.scheme, &signed, ske.signature)
                    .map_err(|_| Error::BadSignature("ServerKeyExchange"))?;
                let group = match ske.group {
                    29 => NamedGroup::X25519,
                    23 => NamedGroup::Secp256r1,
                    _ => return Err(Error::NoCommon("group")),
                };
                let eph = EphemeralKey::generate(group, &self.sysrand)?;
                let public = eph.public_key().to_vec();
                let pre_master = eph.agree(ske.public)?;
                self.group = Some(group);
                self.eph = None;
                // Stash the pre-master until the transcript reaches ClientKeyExchange.
                self.master = None;
                self.pending_client_kx = Some((public, pre_master));
                Ok(())
            }
            (Role::Client, State::ExpectServerHelloDone, msg::CERTIFICATE_REQUEST) => {
                self.add_transcript(msg_type, seq, body);
                self.peer_schemes = hs::parse_certificate_request(body)?;
                self.cert_requested = true;
                Ok(())
            }
            (Role::Client, State::ExpectServerHelloDone, msg::SERVER_HELLO_DONE) => {
                self.add_transcript(msg_type, seq, body);
                self.send_client_flight(now)
            }
            (Role::Server, State::ExpectClientFlight, msg::CERTIFICATE) => {
                self.add_transcript(msg_type, seq, body);
                self.on_peer_certificate(body)
            }
            (Role::Server, State::ExpectClientFlight, msg::CLIENT_KEY_EXCHANGE) => {
                self.add_transcript(msg_type, seq, body);
                let public = hs::parse_client_key_exchange(body)?;
                let eph = self
                    .eph
                    .take()
                    .ok_or(Error::Unexpected("ClientKeyExchange twice"))?;
                let pre_master = eph.agree(public)?;
                self.derive_keys(&pre_master)?;
                Ok(())
            }
            (Role::Server, State::ExpectClientFlight, msg::CERTIFICATE_VERIFY) => {
                let (scheme, sig) = hs::parse_signed(body)?;
                let cert = self
                    .peer_cert
                    .as_deref()
                    .ok_or(Error::Unexpected("CertificateVerify without Certificate"))?;
                crypto::verify_signature(cert, scheme, &self.transcript, sig)
                    .map_err(|_| Error::BadSignature("CertificateVerify"))?;
                self.add_transcript(msg_type, seq, body);
                self.state = State::ExpectFinished;
                Ok(())
            }
            (_, State::ExpectFinished, msg::FINISHED) => {
                let master = self
                    .master
                    .ok_or(Error::Unexpected("Finished before keys"))?;
                let label: &[u8] = match self.config.role {
                    Role::Server => b"client finished",
                    Role::Client => b"server finished",
                };
                let expected =
                    crypto::verify_data(self.hash(), &master, label, &self.transcript_hash());
                if !crypto::ct_eq(body, &expected) {
                    return Err(Error::BadSignature("Finished"));
                }
                self.add_transcript(msg_type, seq, body);
                if self.config.role == Role::Server {
                    let fin = crypto::verify_data(
                        self.hash(),
                        &master,
                        b"server finished",
                        &self.transcript_hash(),
                    );
                    self.flight.clear();
                    self.flight.push(FlightItem::ChangeCipherSpec);
                    self.queue_message(1, msg::FINISHED, fin.to_vec());
                    self.send_flight_now();
                    // The last flight is kept to answer a retransmitted flight 5.
                    self.timer = None;
                } else {
                    self.timer = None;
                    self.flight.clear();
                }
                self.connected();
                Ok(())
            }
            (_, State::Connected, msg::CLIENT_HELLO | msg::HELLO_REQUEST) => {
                // RFC 5746 §4.2/§4.4 and WebRTC (RFC 8827 §6.5): renegotiation is refused
                // with a warning no_renegotiation alert; the connection goes on.
                let mut d = Vec::new();
                if self
                    .write_record(&mut d, ContentType::Alert, &[1, 100])
                    .is_ok()
                {
                    self.out.push_back(Output::Transmit(d));
                }
                Ok(())
            }
            (_, State::Connected, _) => Ok(()),
            _ => Err(Error::Unexpected("handshake message out of order")),
        }
    }

    fn on_peer_certificate(&mut self, body: &[u8]) -> Result<(), Error> {
        let chain = hs::parse_certificate(body)?;
        let leaf = chain.first().ok_or(Error::BadCertificate)?.to_vec();
        if !self.config.remote_fingerprints.is_empty()
            && !matches_any(&leaf, &self.config.remote_fingerprints)
        {
            return Err(Error::FingerprintMismatch {
                expected: self.config.remote_fingerprints.clone(),
                actual: fingerprint_of(&leaf, FingerprintAlg::Sha256),
            });
        }
        self.peer_cert = Some(leaf);
        Ok(())
    }

    fn send_client_flight(&mut self, now: Instant) -> Result<(), Error> {
        let (public, pre_master) = self.pending_client_kx.take().ok_or(Error::Unexpected(
            "ServerHelloDone without ServerKeyExchange",
        ))?;
        self.flight.clear();
        if self.cert_requested {
            // RFC 5246 §7.4.8: CertificateVerify must use a scheme the server listed.
            let scheme = self.config.certificate.signature_scheme();
            if !self.peer_schemes.is_empty() && !self.peer_schemes.contains(&scheme) {
                return Err(Error::NoCommon("signature scheme for CertificateVerify"));
            }
            let cert = hs::emit_certificate(Some(self.config.certificate.der()));
            self.queue_message(0, msg::CERTIFICATE, cert);
        }
        let cke = hs::emit_client_key_exchange(&public);
        self.queue_message(0, msg::CLIENT_KEY_EXCHANGE, cke);
        // RFC 7627 §4: the session hash covers the transcript through ClientKeyExchange.
        self.derive_keys(&pre_master)?;
        if self.cert_requested {
            let sig = self
                .config
                .certificate
                .sign(&self.transcript, &self.sysrand)
                .map_err(|e| Error::Crypto(e.to_string()))?;
            let cv = hs::emit_signed(self.config.certificate.signature_scheme(), &sig);
            self.queue_message(0, msg::CERTIFICATE_VERIFY, cv);
        }
        self.flight.push(FlightItem::ChangeCipherSpec);
        let master = self.master.ok_or(Error::Unexpected("no master secret"))?;
        let fin = crypto::verify_data(
            self.hash(),
            &master,
            b"client finished",
            &self.transcript_hash(),
        );
        self.queue_message(1, msg::FINISHED, fin.to_vec());
        self.state = State::ExpectFinished;
        self.start_flight(now);
        Ok(())
    }

    fn derive_keys(&mut self, pre_master: &[u8]) -> Result<(), Error> {
        let suite = self.suite.ok_or(Error::NoCommon("cipher suite"))?;
        let session_hash = self.transcript_hash();
        let master = crypto::extended_master_secret(suite.hash(), pre_master, &session_hash);
        let kb = crypto::key_block(suite, &master, &self.client_random, &self.server_random);
        let (wk, wiv, rk, riv) = match self.config.role {
            Role::Client => (&kb.client_key, &kb.client_iv, &kb.server_key, &kb.server_iv),
            Role::Server => (&kb.server_key, &kb.server_iv, &kb.client_key, &kb.client_iv),
        };
        self.write_cipher = Some(RecordCipher::new(suite, wk, wiv)?);
        self.read_cipher = Some(RecordCipher::new(suite, rk, riv)?);
        self.read_epoch = 1;
        self.master = Some(master);
        Ok(())
    }

    fn connected(&mut self) {
        self.state = State::Connected;
        let Some(cert) = self.peer_cert.clone() else {
            self.fail(Error::BadCertificate);
            return;
        };
        let Some(suite) = self.suite else { return };
        self.out.push_back(Output::Connected(Connected {
            cipher_suite: suite,
            srtp_profile: self.srtp,
            peer_fingerprint: fingerprint_of(&cert, FingerprintAlg::Sha256),
            peer_certificate: cert,
        }));
    }

    // --- flights and records -----------------------------------------------------------

    fn queue_message(&mut self, epoch: u16, msg_type: u8, body: Vec<u8>) {
        let seq = self.send_msg_seq;
        self.send_msg_seq = self.send_msg_seq.wrapping_add(1);
        // Our own messages enter the transcript when queued (a Finished after its
        // verify_data was computed), except a client's ClientHello: which one counts is
        // known only when ServerHello arrives (RFC 6347 §4.2.6).
        if !(self.config.role == Role::Client && msg_type == msg::CLIENT_HELLO) {
            self.add_transcript(msg_type, seq, &body);
        }
        self.flight.push(FlightItem::Handshake {
            epoch,
            msg_type,
            seq,
            body,
        });
    }

    fn start_flight(&mut self, now: Instant) {
        self.timeout = self.config.initial_timeout;
        self.send_flight(now);
    }

    fn send_flight(&mut self, now: Instant) {
        self.send_flight_now();
        self.timer = Some(now + self.timeout);
    }

    /// Packs the flight into datagrams of at most `mtu` bytes (RFC 6347 §4.1.1.1),
    /// fragmenting handshake messages as needed (§4.2.3).
    fn send_flight_now(&mut self) {
        let mtu = self.config.mtu.max(256);
        let items = self.flight.clone();
        let mut datagram: Vec<u8> = Vec::with_capacity(mtu);
        for item in items {
            match item {
                FlightItem::ChangeCipherSpec => {
                    self.push_record(&mut datagram, mtu, 0, ContentType::ChangeCipherSpec, &[1]);
                    self.write_epoch = 1;
                }
                FlightItem::Handshake {
                    epoch,
                    msg_type,
                    seq,
                    body,
                } => {
                    let overhead = HEADER_LEN
                        + hs::HEADER_LEN
                        + if epoch == 1 {
                            self.write_cipher.as_ref().map_or(0, |c| c.overhead())
                        } else {
                            0
                        };
                    let room = mtu.saturating_sub(overhead).max(64);
                    let mut offset = 0usize;
                    loop {
                        let n = room.min(body.len() - offset);
                        let mut frag = Vec::with_capacity(n + hs::HEADER_LEN);
                        Fragment::write(
                            &mut frag,
                            msg_type,
                            body.len() as u32,
                            seq,
                            offset as u32,
                            &body[offset..offset + n],
                        );
                        self.push_record(&mut datagram, mtu, epoch, ContentType::Handshake, &frag);
                        offset += n;
                        if offset >= body.len() {
                            break;
                        }
                    }
                }
            }
        }
        if !datagram.is_empty() {
            self.out.push_back(Output::Transmit(datagram));
        }
    }

    fn push_record(
        &mut self,
        datagram: &mut Vec<u8>,
        mtu: usize,
        epoch: u16,
        ct: ContentType,
        plain: &[u8],
    ) {
        let mut rec = Vec::with_capacity(plain.len() + 64);
        let saved = self.write_epoch;
        self.write_epoch = epoch;
        let ok = self.write_record(&mut rec, ct, plain).is_ok();
        self.write_epoch = saved.max(epoch);
        if !ok {
            return;
        }
        if datagram.len() + rec.len() > mtu && !datagram.is_empty() {
            self.out
                .push_back(Output::Transmit(std::mem::take(datagram)));
        }
        datagram.extend_from_slice(&rec);
    }

    fn write_record(
        &mut self,
        out: &mut Vec<u8>,
        ct: ContentType,
        plain: &[u8],
    ) -> Result<(), Error> {
        let epoch = self.write_epoch;
        let idx = usize::from(epoch.min(1));
        let seq = self.write_seq[idx];
        self.write_seq[idx] += 1;
        if epoch == 0 {
            Record::write(out, ct, DTLS_1_2, 0, seq, plain);
        } else {
            let c = self
                .write_cipher
                .as_ref()
                .ok_or(Error::Unexpected("no write keys"))?;
            // The header first, the protected fragment sealed straight behind it, then the
            // length filled in: no intermediate buffer.
            let start = out.len();
            Record::write(out, ct, DTLS_1_2, epoch, seq, &[]);
            c.seal_append(epoch, seq, ct.to_u8(), DTLS_1_2, plain, out)?;
            let len = u16::try_from(out.len() - start - HEADER_LEN)
                .map_err(|_| Error::Crypto("record too long".into()))?;
            if let Some(l) = out.get_mut(start + HEADER_LEN - 2..start + HEADER_LEN) {
                l.copy_from_slice(&len.to_be_bytes());
            }
        }
        Ok(())
    }

    fn fail(&mut self, e: Error) {
        if let Some(alert) = e.alert() {
            let mut d = Vec::new();
            if self
                .write_record(&mut d, ContentType::Alert, &[2, alert])
                .is_ok()
            {
                self.out.push_back(Output::Transmit(d));
            }
        }
        self.state = State::Failed;
        self.timer = None;
        self.out.push_back(Output::Failed(e));
    }
}

fn group_id(g: NamedGroup) -> u16 {
    match g {
        NamedGroup::X25519 => 29,
        NamedGroup::Secp256r1 => 23,
    }
}
