//! Interop with a DTLS 1.2 implementation nobody here wrote: OpenSSL 3 `s_server` and
//! `s_client` on loopback, over real UDP, with weft in both roles. Both sides export the
//! SRTP keying material (RFC 5764 §4.2, `EXTRACTOR-dtls_srtp`) and the bytes must be
//! identical; both fingerprints are checked the way SDP would carry them.
//!
//! Without `openssl` the tests are skipped with a message, except under CI (`CI=true`),
//! where they fail.

// This test is the I/O driver: it reads the real clock and owns real sockets.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_dtls_srtp::cert::{fingerprint_of, Certificate, FingerprintAlg, Validity};
use weft_dtls_srtp::{Config, Endpoint, Output, Role, SrtpProfile};

struct Peer {
    child: Child,
    _stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    dir: PathBuf,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("openssl is not installed");
        }
        println!("SKIPPED: openssl not installed");
    }
    ok
}

/// A fresh P-256 certificate and key for OpenSSL, in a temp dir.
fn openssl_cert(tag: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("weft-dtls-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (key, cert) = (dir.join("k.pem"), dir.join("c.pem"));
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=openssl"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    (dir, key, cert)
}

fn spawn(args: &[String], dir: PathBuf) -> Peer {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let (tx, rx) = mpsc::channel();
    for pipe in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    Peer {
        child,
        _stdin: stdin,
        lines: rx,
        dir,
    }
}

/// Reads OpenSSL's output until "Keying material: HEX" (or the deadline).
fn keying_material(p: &Peer, seen: &mut Vec<String>, deadline: Instant) -> Option<Vec<u8>> {
    while Instant::now() < deadline {
        if let Ok(line) = p.lines.recv_timeout(Duration::from_millis(50)) {
            seen.push(line.clone());
            if let Some(hex) = line.trim().strip_prefix("Keying material: ") {
                return Some(
                    (0..hex.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                        .collect(),
                );
            }
        }
    }
    None
}

/// Drives a weft endpoint over `sock` until connected; returns the export and the
/// negotiated profile.
fn drive(
    ep: &mut Endpoint,
    sock: &UdpSocket,
    mut peer: Option<std::net::SocketAddr>,
) -> (Vec<u8>, Option<SrtpProfile>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    let mut connected = None;
    sock.set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    while Instant::now() < deadline {
        while let Some(o) = ep.poll_output() {
            match o {
                Output::Transmit(d) => {
                    if let Some(p) = peer {
                        sock.send_to(&d, p).unwrap();
                    }
                }
                Output::Connected(c) => connected = Some(c),
                Output::Failed(e) => panic!("weft failed: {e}"),
                _ => {}
            }
        }
        if let Some(c) = &connected {
            let len = c.srtp_profile.map_or(60, |p| p.keying_material_len());
            return (
                ep.export_keying_material("EXTRACTOR-dtls_srtp", len)
                    .unwrap(),
                c.srtp_profile,
            );
        }
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            peer.get_or_insert(from);
            ep.handle_input(Instant::now(), &buf[..n]);
        }
        if ep.poll_timeout().is_some_and(|t| t <= Instant::now()) {
            ep.handle_timeout(Instant::now());
        }
    }
    panic!("weft did not connect");
}

fn weft_config(role: Role, profile: SrtpProfile, openssl_pem: &PathBuf) -> Config {
    let rng = ring::rand::SystemRandom::new();
    let cert =
        Arc::new(Certificate::generate_self_signed("weft", Validity::default(), &rng).unwrap());
    let mut c = Config::new(role, cert);
    c.srtp_profiles = vec![profile];
    // The remote fingerprint, as SDP would carry it.
    let pem = std::fs::read_to_string(openssl_pem).unwrap();
    let der = pem_to_der(&pem);
    c.remote_fingerprints = vec![fingerprint_of(&der, FingerprintAlg::Sha256)];
    c
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64_decode(&b64)
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => 0,
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| *c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().fold(0u32, |a, c| a << 6 | val(*c)) << (6 * (4 - chunk.len()));
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..chunk.len()]);
    }
    out
}

fn openssl_profile(p: SrtpProfile) -> &'static str {
    match p {
        SrtpProfile::Aes128CmSha1_80 => "SRTP_AES128_CM_SHA1_80",
        SrtpProfile::Aes128CmSha1_32 => "SRTP_AES128_CM_SHA1_32",
        SrtpProfile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
        SrtpProfile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
    }
}

fn weft_client_against_s_server(profile: SrtpProfile) {
    if !have_openssl() {
        return;
    }
    let (dir, key, cert) = openssl_cert(&format!("srv-{profile:?}"));
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let len = profile.keying_material_len();
    let args: Vec<String> = [
        "s_server",
        "-dtls1_2",
        "-accept",
        &format!("127.0.0.1:{port}"),
        "-cert",
        cert.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
        "-use_srtp",
        openssl_profile(profile),
        "-keymatexport",
        "EXTRACTOR-dtls_srtp",
        "-keymatexportlen",
        &len.to_string(),
        "-verify",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let server = spawn(&args, dir);
    std::thread::sleep(Duration::from_millis(300));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut ep = Endpoint::new(
        Instant::now(),
        weft_config(Role::Client, profile, &cert),
        [1; 32],
    );
    let (ours, negotiated) = drive(
        &mut ep,
        &sock,
        Some(format!("127.0.0.1:{port}").parse().unwrap()),
    );
    assert_eq!(negotiated, Some(profile));
    let mut seen = Vec::new();
    let theirs = keying_material(&server, &mut seen, Instant::now() + Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no keying material from s_server:\n{}", seen.join("\n")));
    assert_eq!(ours.len(), len);
    assert_eq!(ours, theirs, "exported SRTP keying material differs");
    // Application data reaches OpenSSL.
    ep.send(b"hello openssl\n").unwrap();
    while let Some(Output::Transmit(d)) = ep.poll_output() {
        sock.send_to(&d, format!("127.0.0.1:{port}")).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut got = false;
    while Instant::now() < deadline && !got {
        if let Ok(l) = server.lines.recv_timeout(Duration::from_millis(50)) {
            got = l.contains("hello openssl");
            seen.push(l);
        }
    }
    assert!(got, "s_server did not print our data:\n{}", seen.join("\n"));
}

fn weft_server_against_s_client(profile: SrtpProfile) {
    if !have_openssl() {
        return;
    }
    let (dir, key, cert) = openssl_cert(&format!("cli-{profile:?}"));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let len = profile.keying_material_len();
    let args: Vec<String> = [
        "s_client",
        "-dtls1_2",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-cert",
        cert.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
        "-use_srtp",
        openssl_profile(profile),
        "-keymatexport",
        "EXTRACTOR-dtls_srtp",
        "-keymatexportlen",
        &len.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut ep = Endpoint::new(
        Instant::now(),
        weft_config(Role::Server, profile, &cert),
        [2; 32],
    );
    let client = spawn(&args, dir);
    let (ours, negotiated) = drive(&mut ep, &sock, None);
    assert_eq!(negotiated, Some(profile));
    assert!(ep.stats().cookies_sent >= 1, "the cookie exchange ran");
    let mut seen = Vec::new();
    let theirs = keying_material(&client, &mut seen, Instant::now() + Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no keying material from s_client:\n{}", seen.join("\n")));
    assert_eq!(ours, theirs, "exported SRTP keying material differs");
}

#[test]
fn weft_client_with_openssl_server_aes128_cm_sha1_80() {
    weft_client_against_s_server(SrtpProfile::Aes128CmSha1_80);
}

#[test]
fn weft_client_with_openssl_server_aead_aes_128_gcm() {
    weft_client_against_s_server(SrtpProfile::AeadAes128Gcm);
}

#[test]
fn weft_server_with_openssl_client_aes128_cm_sha1_80() {
    weft_server_against_s_client(SrtpProfile::Aes128CmSha1_80);
}

#[test]
fn weft_server_with_openssl_client_aead_aes_128_gcm() {
    weft_server_against_s_client(SrtpProfile::AeadAes128Gcm);
}
