//! End to end in a real browser: headless Chromium (fake camera and microphone) opens the
//! server's own page, which offers, gets the answer, connects, opens `detections`, gets
//! `session_started` within 100 ms of the open with a UUID v4 session id, and then `stats`
//! events that count video and audio frames.
//!
//! Needs `/usr/bin/chromium`, node and playwright-core (`scripts/setup` installs them into
//! `peer/tests/browser/node_modules`). Without them the test is skipped, except under
//! `CI=true`, where it fails.

#![allow(clippy::disallowed_methods)]

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::is_uuid_v4;
use serde_json::Value;
use weft_server::Config;

const CHROMIUM: &str = "/usr/bin/chromium";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Why the browser cannot run here, if it cannot.
fn browser_missing() -> Option<String> {
    if !Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing"));
    }
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.map(|s| s.success()).unwrap_or(false) {
        return Some("node is not on PATH".into());
    }
    let pw = repo().join("peer/tests/browser/node_modules/playwright-core/package.json");
    if !pw.exists() {
        return Some(format!("{} is missing", pw.display()));
    }
    None
}

/// Runs `page.mjs --url URL`: its JSON line and its log.
fn run_page(url: &str, timeout_secs: u64) -> (Value, String, bool) {
    run_script("page.mjs", &["--url", url], timeout_secs)
}

/// Runs `tests/browser/SCRIPT ARGS --timeout T`: its JSON line, its log, its success.
fn run_script(script: &str, args: &[&str], timeout_secs: u64) -> (Value, String, bool) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser")
        .join(script);
    let mut child = Command::new("node")
        .arg(&script)
        .args(args)
        .args(["--timeout", &timeout_secs.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let mut err = child.stderr.take().expect("stderr");
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut out = String::new();
    let _ = child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out);
    let status = child.wait().expect("wait node");
    let log = errs.join().unwrap_or_default();
    let json = out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    (json, log, status.success())
}

/// Whether the browser can run; without it the test is skipped, except under `CI=true`.
fn browser_ready() -> bool {
    let Some(why) = browser_missing() else {
        return true;
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("browser test cannot run: {why}; run scripts/setup (CI=true: a skipped browser test is a failure)");
    }
    eprintln!("skipping the browser test: {why} (run scripts/setup)");
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_streams_to_the_server_page() {
    if !browser_ready() {
        return;
    }
    let running = weft_server::start(Config::loopback()).await.expect("start");
    let url = format!("http://{}/", running.http_addr());
    let (json, log, ok) = tokio::task::spawn_blocking(move || run_page(&url, 60))
        .await
        .expect("join");
    let s = &json["state"];
    let ctx = || format!("page.mjs said {json:#}\n--- its log ---\n{log}");
    assert!(ok, "{}", ctx());
    assert_eq!(s["answerReceived"], true, "{}", ctx());
    assert_eq!(s["iceConnected"], true, "{}", ctx());
    assert_eq!(s["connected"], true, "{}", ctx());
    assert!(
        s["channelOpenedAt"].is_number(),
        "detections never opened: {}",
        ctx()
    );
    let started = &s["sessionStarted"];
    assert_eq!(started["event_type"], "session_started", "{}", ctx());
    let id = started["session_id"].as_str().unwrap_or_default();
    assert!(is_uuid_v4(id), "not a UUID v4: {id:?}");
    assert_eq!(started["config"]["max_resolution"], "1280x720");
    assert_eq!(started["config"]["confidence_threshold"], 0.5);
    assert_eq!(started["config"]["idle_timeout_sec"], 30);
    let delay = s["sessionStartedDelayMs"].as_f64().expect("delay measured");
    eprintln!("session_started {delay:.1} ms after the channel opened");
    assert!(delay < 100.0, "session_started {delay} ms after open");
    let stats = &s["lastStats"];
    assert_eq!(stats["session_id"], id);
    assert!(
        stats["video_frames"].as_u64().is_some_and(|n| n > 0),
        "{stats}"
    );
    assert!(
        stats["audio_frames"].as_u64().is_some_and(|n| n > 0),
        "{stats}"
    );
    assert!(
        stats["keyframes"].as_u64().is_some_and(|n| n > 0),
        "{stats}"
    );
    eprintln!("last stats: {stats}");
    running
        .shutdown(Duration::from_secs(3))
        .await
        .expect("shutdown");
}

/// Two pages of headless Chromium join one WebSocket room (`GET /room` signalling over
/// `GET /ws`): they connect to each other through the relay with trickle ICE (offers sent
/// without candidates, candidates one message each), exchange a chat message each way,
/// and each also calls the server (a member of every room), whose session sends
/// `session_started` on `detections`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_chromium_pages_meet_in_a_websocket_room() {
    if !browser_ready() {
        return;
    }
    let secret = "room test secret";
    let config = Config {
        ws_secret: Some(secret.into()),
        ..Config::loopback()
    };
    let running = weft_server::start(config).await.expect("start");
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 600;
    let url = |who: &str| {
        let t = weft_signal::token::sign(
            secret.as_bytes(),
            &weft_signal::Claims {
                sub: who.into(),
                room: Some("meet".into()),
                exp,
            },
        );
        format!("http://{}/room?room=meet&token={t}", running.http_addr())
    };
    let (a, b) = (url("alice"), url("bob"));
    let (json, log, ok) = tokio::task::spawn_blocking(move || {
        run_script("room.mjs", &["--url-a", &a, "--url-b", &b], 60)
    })
    .await
    .expect("join");
    let ctx = || format!("room.mjs said {json:#}\n--- its log ---\n{log}");
    assert!(ok, "{}", ctx());
    for (me, other) in [("a", "bob"), ("b", "alice")] {
        let s = &json[me];
        let p = &s["peers"][other];
        assert_eq!(p["connectionState"], "connected", "{}", ctx());
        // Trickle: the offer left without candidates; they went one message each.
        if p["offerCandidates"].is_number() {
            assert_eq!(p["offerCandidates"], 0, "{}", ctx());
        }
        assert!(
            p["candidatesSent"].as_u64().is_some_and(|n| n > 0),
            "{}",
            ctx()
        );
        assert!(
            p["candidatesReceived"].as_u64().is_some_and(|n| n > 0),
            "{}",
            ctx()
        );
        assert!(
            s["received"]["webrtc.iceCandidate"]
                .as_u64()
                .is_some_and(|n| n > 0),
            "{}",
            ctx()
        );
        let hello = format!("hello from {other}");
        assert!(
            p["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == hello.as_str())),
            "{}",
            ctx()
        );
        let started = &s["peers"]["server"]["sessionStarted"];
        assert_eq!(started["event_type"], "session_started", "{}", ctx());
        assert!(is_uuid_v4(
            started["session_id"].as_str().unwrap_or_default()
        ));
    }
    eprintln!(
        "room: alice sent {} candidates to bob, got {}; bob sent {}, got {}; {} ms in all",
        json["a"]["peers"]["bob"]["candidatesSent"],
        json["a"]["peers"]["bob"]["candidatesReceived"],
        json["b"]["peers"]["alice"]["candidatesSent"],
        json["b"]["peers"]["alice"]["candidatesReceived"],
        json["totalMs"]
    );
    // bob offered to alice (he joined later); both called the server.
    assert_eq!(
        json["b"]["peers"]["alice"]["offerCandidates"],
        0,
        "{}",
        ctx()
    );
    assert!(
        json["a"]["peers"]["bob"]["offerCandidates"].is_null(),
        "{}",
        ctx()
    );
    assert_eq!(json["a"]["received"]["webrtc.offer"], 1, "{}", ctx());
    assert_eq!(
        running.server().registry().len(),
        2,
        "two room sessions with the server"
    );
    running
        .shutdown(Duration::from_secs(3))
        .await
        .expect("shutdown");
}
