//! `weft dtls`: decoding the captured Chromium handshake, and a weft client and a weft server
//! (two processes) agreeing on the SRTP keying material and echoing a line.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn weft() -> Command {
    Command::new(env!("CARGO_BIN_EXE_weft"))
}

fn chromium_hex(n: usize) -> String {
    let d = weft_testkit::chromium_call_datagrams()
        .into_iter()
        .filter(|d| d.bytes.starts_with(&[0x16, 0xfe]))
        .nth(n)
        .unwrap();
    d.bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn decode_prints_the_chromium_client_hello_fragment() {
    let out = weft()
        .args(["dtls", "decode", &chromium_hex(0)])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("record 1: Handshake version 254.255 epoch 0 seq 0"),
        "{text}"
    );
    assert!(
        text.contains("ClientHello (type 1) message_seq 0 length 1413 fragment 0..1175"),
        "{text}"
    );
    let out = weft()
        .args(["dtls", "decode", &chromium_hex(2)])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("cipher suite TLS_AES_128_GCM_SHA256"),
        "{text}"
    );
    assert!(text.contains("extension supported_versions"), "{text}");
    let bad = weft()
        .args(["dtls", "decode", "16fefd00"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn connect_and_listen_agree_on_keys_and_echo() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = weft()
        .args([
            "dtls",
            "listen",
            &addr,
            "--srtp-profiles",
            "SRTP_AEAD_AES_128_GCM",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut client = weft()
        .args([
            "dtls",
            "connect",
            &addr,
            "--srtp-profiles",
            "SRTP_AEAD_AES_128_GCM",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let read_block = |child: &mut std::process::Child| -> Vec<String> {
        let out = child.stdout.as_mut().unwrap();
        let mut r = BufReader::new(out);
        let mut lines = Vec::new();
        for _ in 0..5 {
            let mut l = String::new();
            r.read_line(&mut l).unwrap();
            lines.push(l.trim_end().to_owned());
        }
        lines
    };
    let s = read_block(&mut server);
    let c = read_block(&mut client);
    assert_eq!(s[0], "version: DTLS 1.2");
    assert_eq!(
        s[1],
        "cipher suite: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    );
    assert_eq!(s[2], "srtp profile: SRTP_AEAD_AES_128_GCM");
    assert!(s[4].starts_with("keying material (EXTRACTOR-dtls_srtp, 56 bytes): "));
    assert_eq!(s[4], c[4], "both sides export the same keys");
    client
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"hello server\n")
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "hello server\n");
    let _ = client.kill();
    let _ = server.kill();
    let _ = client.wait();
    let _ = server.wait();
}
