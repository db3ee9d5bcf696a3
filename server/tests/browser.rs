//! End to end in real browsers: headless Chromium and Firefox ESR (fake camera and
//! microphone) open the server's own page, which offers, gets the answer, connects, opens
//! `detections`, gets `session_started` within 100 ms of the open with a UUID v4 session id,
//! and then `stats` events that count video and audio frames. And WebSocket rooms: two
//! Chromium pages, or Chromium and Firefox, meet through the relay with trickle ICE.
//!
//! Needs `/usr/bin/chromium`, `/usr/bin/firefox-esr`, node, playwright-core and
//! puppeteer-core (`scripts/setup` installs them; the node packages into
//! `peer/tests/browser/node_modules`). Without them the tests are skipped, except under
//! `CI=true`, where they fail.

#![allow(clippy::disallowed_methods)]

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::is_uuid_v4;
use serde_json::Value;
use weft_server::Config;

/// A browser of these tests: its executable and the node package that drives it (both
/// installed by `scripts/setup`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Browser {
    /// Debian's Chromium through playwright-core.
    Chromium,
    /// Debian's Firefox ESR through puppeteer-core (WebDriver BiDi).
    Firefox,
}

impl Browser {
    fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
        }
    }

    fn executable(self) -> &'static str {
        match self {
            Browser::Chromium => "/usr/bin/chromium",
            Browser::Firefox => "/usr/bin/firefox-esr",
        }
    }

    fn driver(self) -> &'static str {
        match self {
            Browser::Chromium => "playwright-core",
            Browser::Firefox => "puppeteer-core",
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Why `b` cannot run here, if it cannot.
fn browser_missing(b: Browser) -> Option<String> {
    if !Path::new(b.executable()).exists() {
        return Some(format!("{} is missing", b.executable()));
    }
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.map(|s| s.success()).unwrap_or(false) {
        return Some("node is not on PATH".into());
    }
    let pkg = repo()
        .join("peer/tests/browser/node_modules")
        .join(b.driver())
        .join("package.json");
    if !pkg.exists() {
        return Some(format!("{} is missing", pkg.display()));
    }
    None
}

/// Runs `page.mjs --url URL --browser B`: its JSON line and its log.
fn run_page(url: &str, b: Browser, timeout_secs: u64) -> (Value, String, bool) {
    run_script(
        "page.mjs",
        &["--url", url, "--browser", b.name()],
        timeout_secs,
    )
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

/// Whether the browsers can run; without them the test is skipped, except under `CI=true`.
fn browser_ready(browsers: &[Browser]) -> bool {
    let Some(why) = browsers.iter().find_map(|b| browser_missing(*b)) else {
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
    if browser_ready(&[Browser::Chromium]) {
        streams_to_the_server_page(Browser::Chromium).await;
    }
}

/// Firefox ESR hides its host addresses behind mDNS names and ends its candidates in the
/// offer (`a=end-of-candidates`): weft must wait for its checks and take it as
/// peer-reflexive. Firefox does not pair its addresses with a loopback one, so the server's
/// media address is the host's primary address here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_streams_to_the_server_page() {
    if browser_ready(&[Browser::Firefox]) {
        streams_to_the_server_page(Browser::Firefox).await;
    }
}

/// The host's primary address (the media address a browser that refuses loopback pairs
/// can reach).
fn media_config() -> Config {
    Config {
        media_ip: Some(weft_server::primary_address()),
        ..Config::loopback()
    }
}

async fn streams_to_the_server_page(b: Browser) {
    let config = match b {
        Browser::Chromium => Config::loopback(),
        Browser::Firefox => media_config(),
    };
    let running = weft_server::start(config).await.expect("start");
    let url = format!("http://{}/", running.http_addr());
    let (json, log, ok) = tokio::task::spawn_blocking(move || run_page(&url, b, 60))
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
    if browser_ready(&[Browser::Chromium]) {
        meet_in_a_room(Browser::Chromium, Browser::Chromium).await;
    }
}

/// The same with Firefox ESR as the second member: Chromium and Firefox connect to each
/// other through weft's relay, and Firefox calls the server too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_and_firefox_meet_in_a_websocket_room() {
    if browser_ready(&[Browser::Chromium, Browser::Firefox]) {
        meet_in_a_room(Browser::Chromium, Browser::Firefox).await;
    }
}

async fn meet_in_a_room(first: Browser, second: Browser) {
    let secret = "room test secret";
    let config = Config {
        ws_secret: Some(secret.into()),
        ..media_config()
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
        let args = [
            "--url-a",
            &a,
            "--url-b",
            &b,
            "--browser-a",
            first.name(),
            "--browser-b",
            second.name(),
        ];
        run_script("room.mjs", &args, 60)
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
    // Two sessions with the server, one per page, each announced in the answer
    // (`sessionId`) and in `session_started`. (Not counted in the registry: a browser
    // that closes its page ends its session at once, and the pages are closed by now.)
    let ids: Vec<&str> = ["a", "b"]
        .iter()
        .map(|p| {
            let server = &json[*p]["peers"]["server"];
            assert_eq!(
                server["sessionId"],
                server["sessionStarted"]["session_id"],
                "{}",
                ctx()
            );
            server["sessionId"].as_str().unwrap_or_default()
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    running
        .shutdown(Duration::from_secs(3))
        .await
        .expect("shutdown");
}
