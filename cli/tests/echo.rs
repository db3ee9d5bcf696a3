//! `weft echo serve` and `weft echo client` (the "WebRTC echo" interop convention) as real
//! processes on loopback: against each other, against headless Chromium
//! (`peer/tests/browser/peer.mjs` as the client peer), and against webrtc-rs peers built
//! from the `webrtc` crate (`common/wrtc.rs`), in both roles and both test types.

// Test harness code: real processes, real deadlines.
#![allow(clippy::disallowed_methods)]

#[path = "../../peer/tests/common/browser.rs"]
mod browser;
#[path = "../src/echo/http.rs"]
mod http;
#[path = "common/wrtc.rs"]
mod wrtc;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One test at a time: each runs two full stacks (or a browser) on a 2-core machine.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running `weft echo serve --bind 127.0.0.1:0`; killed on drop.
struct Serve {
    child: Child,
    url: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    fn start() -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
            .args(["echo", "serve", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("weft echo serve starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let url = first
            .trim()
            .strip_prefix("weft echo serve: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .trim_end_matches("/offer")
            .to_owned();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                eprintln!("[serve] {line}");
                l.lock().unwrap().push(line);
            }
        });
        Serve { child, url, lines }
    }

    /// Waits up to `limit` for a line of the server containing `needle`.
    fn wait_line(&self, needle: &str, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return Some(l.clone());
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct ClientOut {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `weft echo client -s URL -t N --timeout T` to the end.
fn client(url: &str, test: u8, timeout: u32) -> ClientOut {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args([
            "echo",
            "client",
            "-s",
            url,
            "-t",
            &test.to_string(),
            "--timeout",
            &timeout.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft echo client starts");
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    let out = ClientOut {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
        elapsed: started.elapsed(),
    };
    eprintln!("[client -t {test}] {}{}", out.stdout, out.stderr);
    out
}

/// The `key=value` field of a summary line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// Checks a successful client summary: the pair is a loopback host pair, DTLS and SRTP
/// were negotiated, the time to connected is there.
fn check_summary(line: &str, test: u8) {
    assert!(line.contains(&format!("test={test} result=ok")), "{line}");
    let pair = field(line, "pair").unwrap();
    assert!(
        pair.starts_with("127.0.0.1:") && pair.contains("(host)->127.0.0.1:"),
        "{line}"
    );
    assert!(field(line, "dtls").unwrap().starts_with("TLS_"), "{line}");
    assert!(field(line, "srtp").unwrap().starts_with("SRTP_"), "{line}");
    assert!(
        field(line, "connected_ms").unwrap().parse::<f64>().is_ok(),
        "{line}"
    );
    if test == 1 {
        assert!(
            field(line, "echo_rtt_ms").unwrap().parse::<f64>().is_ok(),
            "{line}"
        );
    } else {
        for k in ["audio_echoed", "video_echoed"] {
            let n: u64 = field(line, k).unwrap().parse().unwrap();
            assert!(n >= 3, "{line}");
        }
    }
}

// --- weft against weft -------------------------------------------------------------------

#[test]
fn weft_client_against_weft_serve_data_channel_echo() {
    let _one = serial();
    let serve = Serve::start();
    let out = client(&serve.url, 1, 30);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    check_summary(out.stdout.trim(), 1);
    let line = serve
        .wait_line("state=connected", Duration::from_secs(5))
        .expect("the server reports the session connected");
    assert!(field(&line, "dtls").unwrap().starts_with("TLS_"), "{line}");
    let closed = serve
        .wait_line("state=closed", Duration::from_secs(10))
        .expect("the server ends the session when the client closes DTLS");
    assert_eq!(field(&closed, "messages_echoed"), Some("1"), "{closed}");
}

#[test]
fn weft_client_against_weft_serve_peer_connection() {
    let _one = serial();
    let serve = Serve::start();
    let out = client(&serve.url, 0, 30);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    check_summary(out.stdout.trim(), 0);
    let closed = serve
        .wait_line("state=closed", Duration::from_secs(10))
        .expect("the server ends the session when the client closes DTLS");
    let echoed: u64 = field(&closed, "rtp_echoed").unwrap().parse().unwrap();
    assert!(echoed >= 6, "{closed}");
}

#[test]
fn client_against_nobody_fails_within_its_timeout() {
    let _one = serial();
    // A port that was free a moment ago: nobody answers.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = client(&format!("http://127.0.0.1:{port}"), 1, 3);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
    assert!(out.stdout.contains("result=fail"), "{}", out.stdout);

    // A server that answers but never connects: the client's own timeout ends it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = thread::spawn(move || {
        let conn = listener.accept();
        thread::sleep(Duration::from_secs(6));
        drop(conn);
    });
    let out = client(&format!("http://{addr}"), 1, 2);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.elapsed < Duration::from_secs(8), "{:?}", out.elapsed);
    assert!(out.stdout.contains("timeout"), "{}", out.stdout);
    hold.join().unwrap();

    // Unknown test type.
    let out = client(&format!("http://{addr}"), 7, 2);
    assert_eq!(out.code, 1);
}

#[test]
fn serve_answers_bad_input_with_400() {
    let _one = serial();
    let serve = Serve::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let uri = http::offer_url(&serve.url).unwrap();
    for (body, why) in [
        ("not json", "body is not JSON"),
        (
            r#"{"type":"answer","sdp":"v=0"}"#,
            "expected \\\"type\\\": \\\"offer\\\"",
        ),
        (r#"{"type":"offer"}"#, "no \\\"sdp\\\" string"),
        (
            r#"{"type":"offer","sdp":"v=0\r\nthis is not sdp\r\n"}"#,
            "SDP syntax",
        ),
    ] {
        let r = rt.block_on(http::post_json(&uri, body.to_owned()));
        let e = r.expect_err(body);
        assert!(e.contains("400 Bad Request"), "{body}: {e}");
        assert!(e.contains("\"error\""), "{body}: {e}");
        assert!(e.contains(why), "{body}: {e}");
    }
    // Still serving.
    let out = client(&serve.url, 1, 30);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

// --- Chromium as the client peer ---------------------------------------------------------

#[test]
fn chromium_client_against_weft_serve() {
    let _one = serial();
    let serve = Serve::start();
    let Some(run) = browser::run_browser_args(
        &serve.url,
        &[
            "--role",
            "offer",
            "--messages",
            "100",
            "--expect-media",
            "video",
        ],
        60,
    ) else {
        return;
    };
    eprintln!("chromium: {}", run.json);
    assert!(run.ok, "browser run failed: {}\n{}", run.json, run.stderr);
    assert_eq!(run.json["echoed"], 100, "{}", run.json);
    let frames = run.json["inbound"]["video"]["framesDecoded"]
        .as_u64()
        .unwrap_or(0);
    assert!(frames > 0, "no echoed video decoded: {}", run.json);
    serve
        .wait_line("state=connected", Duration::from_secs(5))
        .expect("the server reports the session connected");
}

// --- webrtc-rs ---------------------------------------------------------------------------

fn wrtc_server_against_weft_client(test: u8) {
    let _one = serial();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, peers) = rt.block_on(wrtc::serve());
    let out = client(&url, test, 30);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    check_summary(out.stdout.trim(), test);
    let peers = peers.lock().unwrap();
    assert_eq!(peers.len(), 1);
    if test == 1 {
        assert_eq!(
            peers[0]
                .counts
                .messages
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
    }
}

#[test]
fn wrtc_server_against_weft_client_data_channel_echo() {
    wrtc_server_against_weft_client(1);
}

#[test]
fn wrtc_server_against_weft_client_peer_connection() {
    wrtc_server_against_weft_client(0);
}

fn wrtc_client_against_weft_serve(test: u8) {
    let _one = serial();
    let serve = Serve::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let run = rt
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(30), wrtc::client(&serve.url, test)).await
        })
        .expect("webrtc-rs client within 30 s")
        .unwrap_or_else(|e| panic!("webrtc-rs client: {e}"));
    eprintln!("[webrtc-rs client -t {test}] {run:?}");
    assert!(run.connected.is_some());
    if test == 1 {
        assert!(run.rtt.is_some());
    }
    serve
        .wait_line("state=connected", Duration::from_secs(5))
        .expect("the server reports the session connected");
}

#[test]
fn wrtc_client_against_weft_serve_data_channel_echo() {
    wrtc_client_against_weft_serve(1);
}

#[test]
fn wrtc_client_against_weft_serve_peer_connection() {
    wrtc_client_against_weft_serve(0);
}
