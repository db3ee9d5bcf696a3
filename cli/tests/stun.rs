//! `weft stun decode` on RFC 5769 vectors and a real Chromium check, with and without the
//! password, and on broken input.

use std::io::Write;
use std::process::{Command, Stdio};

fn weft(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft runs");
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(data) = stdin {
            pipe.write_all(data).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// RFC 5769 §2.1 Sample Request.
fn sample_request() -> String {
    // The §2.1 bytes, from the same text the RFC prints.
    "00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
     80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
     00 24 00 04 6e 00 01 ff
     80 29 00 08 93 2f f9 b1 51 26 3b 36
     00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
     00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
     80 28 00 04 e5 7a 3b cf"
        .split_whitespace()
        .collect()
}

/// RFC 5769 §2.4 Sample Request with Long-Term Authentication.
fn long_term_request() -> String {
    "00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
     00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
     00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46
                 53 54 76 79 36 34 73 41
     00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
     00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66"
        .split_whitespace()
        .collect()
}

#[test]
fn decode_prints_every_attribute() {
    let (code, out, err) = weft(&["stun", "decode", &sample_request()], None);
    assert_eq!(code, 0, "{err}");
    for needle in [
        "Binding request  (108 bytes)",
        "transaction b7e7a701bc34d686fa87dfae",
        "SOFTWARE: \"STUN test client\"",
        "PRIORITY: 1845494271",
        "ICE-CONTROLLED: tie-breaker 0x932ff9b151263b36",
        "USERNAME: \"evtj:h6vY\"",
        "MESSAGE-INTEGRITY: 9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2",
        "FINGERPRINT: 0xe57a3bcf",
        "fingerprint ok",
        "integrity   not checked (no --password)",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}

#[test]
fn password_verifies_integrity_or_fails() {
    let req = sample_request();
    let (code, out, _) = weft(
        &[
            "stun",
            "decode",
            &req,
            "--password",
            "VOkJxbRl1RmTxUk/WvJxBt",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("integrity   ok (short-term credentials)"),
        "{out}"
    );

    let (code, out, err) = weft(&["stun", "decode", &req, "--password", "wrong"], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("integrity   FAILED"), "{out}");
    assert!(err.contains("verification failed"), "{err}");
}

#[test]
fn long_term_credentials_come_from_the_message() {
    let (code, out, err) = weft(
        &["stun", "decode", "-", "--password", "TheMatrIX"],
        Some(long_term_request().as_bytes()),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("REALM: \"example.org\""), "{out}");
    assert!(
        out.contains("integrity   ok (long-term credentials)"),
        "{out}"
    );
    assert!(out.contains("fingerprint absent"), "{out}");
}

#[test]
fn a_changed_byte_fails_the_fingerprint() {
    let mut req = sample_request();
    // Change a byte of SOFTWARE ("S" -> "T").
    req.replace_range(48..50, "54");
    let (code, out, _) = weft(&["stun", "decode", &req], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("fingerprint FAILED"), "{out}");
    assert!(out.contains("SOFTWARE: \"TTUN test client\""), "{out}");
}

#[test]
fn chromium_check_from_a_file() {
    // The first datagram of the real Chromium call: a check from the answerer (lcJE) to the
    // offerer (1iql), verified with the receiver's, the offerer's, a=ice-pwd.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/wire/chromium_call_datagrams.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let hex = text
        .lines()
        .find(|l| !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().nth(5))
        .unwrap();
    let file = std::env::temp_dir().join(format!("weft-stun-cli-{}.hex", std::process::id()));
    std::fs::write(&file, hex).unwrap();
    let (code, out, err) = weft(
        &[
            "stun",
            "decode",
            file.to_str().unwrap(),
            "--password",
            "QFHc6y0902y6HZZxEHslXo23",
        ],
        None,
    );
    // Raw bytes in a file work too.
    let raw: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    std::fs::write(&file, &raw).unwrap();
    let (code2, out2, _) = weft(&["stun", "decode", file.to_str().unwrap()], None);
    let _ = std::fs::remove_file(&file);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("USERNAME: \"1iql:lcJE\""), "{out}");
    assert!(out.contains("0xc057: (4 bytes) 00020000"), "{out}");
    assert!(
        out.contains("integrity   ok (short-term credentials)"),
        "{out}"
    );
    assert_eq!(code2, 0);
    assert!(out2.contains("Binding request  (96 bytes)"), "{out2}");
}

#[test]
fn malformed_input_exits_1() {
    let (code, _, err) = weft(&["stun", "decode", "0001000421"], None);
    assert_eq!(code, 1);
    assert!(err.contains("not a valid STUN message"), "{err}");
    let (code, _, err) = weft(&["stun", "decode", "zz-not-hex"], None);
    assert_eq!(code, 1);
    assert!(err.contains("neither a file nor hex"), "{err}");
}

#[test]
fn channel_data_is_recognised() {
    let (code, out, _) = weft(&["stun", "decode", "40010005 68656c6c6f 000000"], None);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("TURN ChannelData  channel 0x4001  5 bytes of data"),
        "{out}"
    );
}
