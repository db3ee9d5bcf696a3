//! The `weft` binary on real Chromium descriptions and on malformed input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/sdp")
        .join(name)
}

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

#[test]
fn check_summarises_a_chromium_offer() {
    let path = fixture("chromium_av_datachannel_offer.sdp");
    let (code, out, err) = weft(&["sdp", "check", path.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    for needle in [
        "group     BUNDLE 0 1 2",
        "media     3 section(s)",
        "[0] audio port 46355 UDP/TLS/RTP/SAVPF  mid 0  sendrecv",
        "111 opus/48000/2  fmtp minptime=10;useinbandfec=1  fb transport-cc",
        "102 H264/90000  fmtp level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
        "97 rtx/90000  fmtp apt=96",
        "ice         ufrag fUn2  pwd hT/8qbkpotYnKAFZ7+WwkT02  options trickle",
        "fingerprint sha-256 F4:BD:84:73:76:F8:35:CA:8F:A9:B2:09:64:B1:C1:D7:FC:27:52:B9:BF:D0:AD:68:12:B9:9C:76:10:A1:1F:16",
        "setup       actpass",
        "host  udp [fd00::2]:60895",
        "tcptype active",
        "[2] application port",
        "datachannel sctp-port 5000  max-message-size 262144",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}

#[test]
fn check_reads_standard_input() {
    let text = std::fs::read(fixture("chromium_datachannel_offer.sdp")).unwrap();
    let (code, out, _) = weft(&["sdp", "check", "-"], Some(&text));
    assert_eq!(code, 0);
    assert!(out.contains("datachannel sctp-port 5000"), "{out}");
}

#[test]
fn check_json_prints_the_typed_model() {
    let path = fixture("chromium_simulcast_offer.sdp");
    let (code, out, err) = weft(&["sdp", "check", "--json", path.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["origin"]["session_id"], 2526536497776680881u64);
    let attrs = v["media"][0]["attributes"].as_array().unwrap();
    let rids: Vec<&str> = attrs
        .iter()
        .filter_map(|a| a.get("Rid"))
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rids, ["q", "h", "f"]);
    assert!(attrs.iter().any(|a| a.get("Simulcast").is_some()));
}

#[test]
fn malformed_input_exits_1_with_line_and_column() {
    let bad = b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n";
    let (code, out, err) = weft(&["sdp", "check"], Some(bad));
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(err.trim(), "line 5, column 9: expected a port (0-65535)");

    let (code, _, err) = weft(&["sdp", "fmt", "-"], Some(b"o=- 1 2 IN IP4 127.0.0.1\r\n"));
    assert_eq!(code, 1);
    assert!(err.starts_with("line 1, column 1: "), "{err}");
}

#[test]
fn fmt_prints_canonical_text() {
    let path = fixture("chromium_av_datachannel_answer.sdp");
    let original = std::fs::read_to_string(&path).unwrap();
    let (code, out, _) = weft(&["sdp", "fmt", path.to_str().unwrap()], None);
    assert_eq!(code, 0);
    assert_eq!(out, original);
    // LF input comes out as canonical CRLF.
    let lf = original.replace("\r\n", "\n");
    let (code, out, _) = weft(&["sdp", "fmt"], Some(lf.as_bytes()));
    assert_eq!(code, 0);
    assert_eq!(out, original);
}

#[test]
fn rtp_and_rtcp_decode() {
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args([
            "rtp",
            "decode",
            "906f0001000000640000abcdbede00013201020300",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("RTP pt 111 seq 1 ts 100 ssrc 0x0000abcd"),
        "{text}"
    );
    assert!(text.contains("id 3: 010203"), "{text}");
    assert!(text.contains("transport_cc: None"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["rtcp", "decode", "81ce000200000005 00000006"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Pli { sender: 5, media: 6 }"), "{text}");
    let bad = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["rtp", "decode", "40000000"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
#[allow(clippy::disallowed_methods)] // the wall clock, as `weft token` reads it
fn token_mints_what_the_server_verifies() {
    let (code, out, err) = weft(
        &[
            "token", "--secret", "s3cret", "--sub", "alice", "--room", "r", "--ttl", "60",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let t = out.trim();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = weft_signal::token::verify(b"s3cret", t, now).expect("verifies");
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.room.as_deref(), Some("r"));
    assert!(claims.exp > now && claims.exp <= now + 60);
    assert!(weft_signal::token::verify(b"other", t, now).is_err());
    // No secret: refused.
    let (code, _, _) = weft(&["token", "--sub", "alice"], None);
    assert_ne!(code, 0);
}
