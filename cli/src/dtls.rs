//! `weft dtls decode | connect | listen`: read DTLS records, or run a DTLS 1.2 client or
//! server over UDP like `openssl s_client` / `s_server`.

use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use weft_dtls_srtp::cert::{Certificate, Fingerprint, FingerprintAlg, Validity};
use weft_dtls_srtp::crypto::CipherSuite;
use weft_dtls_srtp::wire::handshake::{self as hs, msg, ClientHello, Fragment, ServerHello};
use weft_dtls_srtp::wire::record::{ContentType, Record};
use weft_dtls_srtp::wire::Reader;
use weft_dtls_srtp::{Config, Endpoint, Output, Role, SrtpProfile};

fn msg_name(t: u8) -> &'static str {
    match t {
        msg::HELLO_REQUEST => "HelloRequest",
        msg::CLIENT_HELLO => "ClientHello",
        msg::SERVER_HELLO => "ServerHello",
        msg::HELLO_VERIFY_REQUEST => "HelloVerifyRequest",
        msg::CERTIFICATE => "Certificate",
        msg::SERVER_KEY_EXCHANGE => "ServerKeyExchange",
        msg::CERTIFICATE_REQUEST => "CertificateRequest",
        msg::SERVER_HELLO_DONE => "ServerHelloDone",
        msg::CERTIFICATE_VERIFY => "CertificateVerify",
        msg::CLIENT_KEY_EXCHANGE => "ClientKeyExchange",
        msg::FINISHED => "Finished",
        _ => "unknown",
    }
}

fn ext_name(t: u16) -> String {
    match t {
        0 => "server_name".into(),
        10 => "supported_groups".into(),
        11 => "ec_point_formats".into(),
        13 => "signature_algorithms".into(),
        14 => "use_srtp".into(),
        16 => "alpn".into(),
        23 => "extended_master_secret".into(),
        35 => "session_ticket".into(),
        43 => "supported_versions".into(),
        45 => "psk_key_exchange_modes".into(),
        51 => "key_share".into(),
        0xff01 => "renegotiation_info".into(),
        other => format!("unknown({other})"),
    }
}

/// The suite's IANA name, or its code.
pub fn suite_name(v: u16) -> String {
    match CipherSuite::from_u16(v) {
        Some(CipherSuite::EcdheEcdsaAes128GcmSha256) => {
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".into()
        }
        Some(CipherSuite::EcdheEcdsaAes256GcmSha384) => {
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384".into()
        }
        Some(CipherSuite::EcdheEcdsaChacha20Poly1305Sha256) => {
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256".into()
        }
        Some(CipherSuite::EcdheRsaAes128GcmSha256) => {
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()
        }
        Some(CipherSuite::EcdheRsaAes256GcmSha384) => {
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into()
        }
        Some(CipherSuite::EcdheRsaChacha20Poly1305Sha256) => {
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".into()
        }
        // DTLS 1.3 suites, seen in hellos (RFC 8446 §B.4).
        None if v == 0x1301 => "TLS_AES_128_GCM_SHA256".into(),
        None if v == 0x1302 => "TLS_AES_256_GCM_SHA384".into(),
        None if v == 0x1303 => "TLS_CHACHA20_POLY1305_SHA256".into(),
        _ => format!("0x{v:04X}"),
    }
}

fn profile_name(p: SrtpProfile) -> &'static str {
    match p {
        SrtpProfile::Aes128CmSha1_80 => "SRTP_AES128_CM_SHA1_80",
        SrtpProfile::Aes128CmSha1_32 => "SRTP_AES128_CM_SHA1_32",
        SrtpProfile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
        SrtpProfile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
    }
}

/// `--srtp-profiles` as OpenSSL names them, colon or comma separated.
pub fn parse_profiles(s: &str) -> Result<Vec<SrtpProfile>, String> {
    s.split([':', ','])
        .filter(|x| !x.is_empty())
        .map(|name| {
            [
                SrtpProfile::AeadAes128Gcm,
                SrtpProfile::AeadAes256Gcm,
                SrtpProfile::Aes128CmSha1_80,
                SrtpProfile::Aes128CmSha1_32,
            ]
            .into_iter()
            .find(|p| profile_name(*p).eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("unknown SRTP profile {name:?}"))
        })
        .collect()
}

/// Prints every record of a datagram, and the handshake messages of plaintext ones.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let mut out = String::new();
    for (i, rec) in Record::parse_all(bytes).enumerate() {
        let rec = rec.map_err(|e| format!("record {}: {e}", i + 1))?;
        let _ = writeln!(
            out,
            "record {}: {:?} version {}.{} epoch {} seq {} length {}",
            i + 1,
            rec.content_type,
            rec.version[0],
            rec.version[1],
            rec.epoch,
            rec.seq,
            rec.fragment.len()
        );
        if rec.epoch != 0 {
            let _ = writeln!(out, "  (protected)");
            continue;
        }
        match rec.content_type {
            ContentType::Handshake => {
                let mut r = Reader::new(rec.fragment);
                while !r.is_empty() {
                    let f = Fragment::read(&mut r).map_err(|e| format!("handshake: {e}"))?;
                    let _ = writeln!(
                        out,
                        "  {} (type {}) message_seq {} length {} fragment {}..{}",
                        msg_name(f.msg_type),
                        f.msg_type,
                        f.message_seq,
                        f.length,
                        f.offset,
                        f.offset as usize + f.body.len()
                    );
                    if f.offset != 0 || f.body.len() as u32 != f.length {
                        let _ = writeln!(out, "    (fragment of a larger message)");
                        continue;
                    }
                    describe(&mut out, f.msg_type, f.body);
                }
            }
            ContentType::Alert => {
                let _ = writeln!(out, "  alert {:?}", rec.fragment);
            }
            ContentType::ChangeCipherSpec => {
                let _ = writeln!(out, "  ChangeCipherSpec");
            }
            ContentType::ApplicationData => {
                let _ = writeln!(out, "  {} bytes", rec.fragment.len());
            }
        }
    }
    if out.is_empty() {
        return Err("no DTLS record".into());
    }
    Ok(out)
}

fn describe(out: &mut String, t: u8, body: &[u8]) {
    let exts = |out: &mut String, exts: &[(u16, &[u8])]| {
        for (t, d) in exts {
            let _ = writeln!(out, "    extension {} ({} bytes)", ext_name(*t), d.len());
        }
    };
    match t {
        msg::CLIENT_HELLO => {
            if let Ok(ch) = ClientHello::parse(body) {
                let _ = writeln!(
                    out,
                    "    version {:?} cookie {} bytes",
                    ch.version,
                    ch.cookie.len()
                );
                for s in &ch.cipher_suites {
                    let _ = writeln!(out, "    cipher suite {}", suite_name(*s));
                }
                exts(out, &ch.extensions);
            }
        }
        msg::SERVER_HELLO => {
            if let Ok(sh) = ServerHello::parse(body) {
                let _ = writeln!(
                    out,
                    "    version {:?} cipher suite {}",
                    sh.version,
                    suite_name(sh.cipher_suite)
                );
                exts(out, &sh.extensions);
            }
        }
        msg::HELLO_VERIFY_REQUEST => {
            if let Ok(c) = hs::parse_hello_verify_request(body) {
                let _ = writeln!(out, "    cookie {} bytes", c.len());
            }
        }
        msg::CERTIFICATE => {
            if let Ok(chain) = hs::parse_certificate(body) {
                for c in chain {
                    let fp = weft_dtls_srtp::cert::fingerprint_of(c, FingerprintAlg::Sha256);
                    let _ = writeln!(out, "    certificate {} bytes, {fp}", c.len());
                }
            }
        }
        _ => {}
    }
}

/// Options of `connect` and `listen`.
pub struct Options {
    pub srtp_profiles: Option<String>,
    pub cert: Option<std::path::PathBuf>,
    pub key: Option<std::path::PathBuf>,
    pub expect_fingerprint: Vec<String>,
}

fn config(role: Role, o: &Options) -> Result<Config, String> {
    let rng = ring_rng();
    let cert = match (&o.cert, &o.key) {
        (Some(c), Some(k)) => {
            let c = std::fs::read_to_string(c).map_err(|e| format!("{}: {e}", c.display()))?;
            let k = std::fs::read_to_string(k).map_err(|e| format!("{}: {e}", k.display()))?;
            Certificate::from_pem(&c, &k, &rng).map_err(|e| e.to_string())?
        }
        (None, None) => Certificate::generate_self_signed("weft", Validity::default(), &rng)
            .map_err(|e| e.to_string())?,
        _ => return Err("--cert and --key go together".into()),
    };
    let mut c = Config::new(role, cert.into());
    if let Some(p) = &o.srtp_profiles {
        c.srtp_profiles = parse_profiles(p)?;
    }
    c.remote_fingerprints = o
        .expect_fingerprint
        .iter()
        .map(|s| s.parse::<Fingerprint>().map_err(|e| format!("{s:?}: {e}")))
        .collect::<Result<_, _>>()?;
    Ok(c)
}

fn ring_rng() -> ring::rand::SystemRandom {
    ring::rand::SystemRandom::new()
}

fn seed() -> [u8; 32] {
    let mut s = [0u8; 32];
    let _ = ring::rand::SecureRandom::fill(&ring_rng(), &mut s);
    s
}

/// Runs a client (`connect`) or a server (`listen`) until the peer closes or stdin ends.
pub fn run(role: Role, addr: SocketAddr, o: &Options) -> Result<(), String> {
    let config = config(role, o)?;
    let local_fp = config.certificate.fingerprint(FingerprintAlg::Sha256);
    let sock = match role {
        Role::Client => UdpSocket::bind(if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        }),
        Role::Server => UdpSocket::bind(addr),
    }
    .map_err(|e| format!("bind: {e}"))?;
    sock.set_read_timeout(Some(Duration::from_millis(10)))
        .map_err(|e| e.to_string())?;
    eprintln!("local fingerprint: {local_fp}");
    let mut peer = (role == Role::Client).then_some(addr);
    let mut ep = Endpoint::new(Instant::now(), config, seed());
    let (tx, rx) = mpsc::channel::<Option<String>>();
    let mut stdin_started = false;
    let mut buf = vec![0u8; 65536];
    let stdout = std::io::stdout();
    loop {
        while let Some(o) = ep.poll_output() {
            match o {
                Output::Transmit(d) => {
                    if let Some(p) = peer {
                        sock.send_to(&d, p).map_err(|e| format!("send: {e}"))?;
                    }
                }
                Output::Connected(c) => {
                    let mut out = stdout.lock();
                    let _ = writeln!(out, "version: DTLS 1.2");
                    let _ = writeln!(out, "cipher suite: {}", suite_name(c.cipher_suite.to_u16()));
                    let _ = writeln!(
                        out,
                        "srtp profile: {}",
                        c.srtp_profile.map_or("none", profile_name)
                    );
                    let _ = writeln!(out, "peer fingerprint: {}", c.peer_fingerprint);
                    let len = c.srtp_profile.map_or(60, |p| p.keying_material_len());
                    if let Some(k) = ep.export_keying_material("EXTRACTOR-dtls_srtp", len) {
                        let hex: String = k.iter().map(|b| format!("{b:02X}")).collect();
                        let _ = writeln!(
                            out,
                            "keying material (EXTRACTOR-dtls_srtp, {len} bytes): {hex}"
                        );
                    }
                    let _ = out.flush();
                    if !stdin_started {
                        stdin_started = true;
                        let tx = tx.clone();
                        std::thread::spawn(move || {
                            for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                                if tx.send(Some(line + "\n")).is_err() {
                                    return;
                                }
                            }
                            let _ = tx.send(None);
                        });
                    }
                }
                Output::Data(d) => {
                    let mut out = stdout.lock();
                    let _ = out.write_all(&d);
                    let _ = out.flush();
                }
                Output::Failed(e) => return Err(format!("DTLS failed: {e}")),
                Output::Closed => return Ok(()),
            }
        }
        while let Ok(line) = rx.try_recv() {
            match line {
                Some(l) => ep.send(l.as_bytes()).map_err(|e| e.to_string())?,
                None => {
                    ep.close();
                    while let Some(Output::Transmit(d)) = ep.poll_output() {
                        if let Some(p) = peer {
                            let _ = sock.send_to(&d, p);
                        }
                    }
                    return Ok(());
                }
            }
        }
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            if peer.is_none() || peer == Some(from) {
                peer = Some(from);
                ep.handle_input(Instant::now(), buf.get(..n).unwrap_or_default());
            }
        }
        let now = Instant::now();
        if ep.poll_timeout().is_some_and(|t| t <= now) {
            ep.handle_timeout(now);
        }
    }
}
