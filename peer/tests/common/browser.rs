//! The browser side of weft-peer's interop tests: a real headless Debian Chromium, driven by
//! `tests/browser/peer.mjs` (node + playwright-core), and [`Signal`], a tiny blocking HTTP
//! signalling server on loopback where the Rust test is the other party.
//!
//! Signalling is non-trickle, one SDP each way, with the endpoints of `tests/browser/selftest.mjs`:
//! - browser offers: it POSTs `{"type":"offer","sdp":..}` to `/offer`; the test reads it with
//!   [`Signal::wait_offer`] and answers with [`Signal::reply_answer`], which becomes the body of
//!   the response to that POST.
//! - browser answers: the test puts its offer up with [`Signal::provide_offer`] (served on
//!   `GET /offer`, which blocks until then); the browser POSTs its answer to `/answer`, read with
//!   [`Signal::wait_answer`].
//!
//! `scripts/setup` installs Chromium and `tests/browser/node_modules`. When they are missing the
//! browser tests are skipped ([`run_browser`] returns `None`), except under `CI=true`, where a
//! skipped browser test is a failure and they panic.

#![allow(dead_code)]
// Test harness code: real sockets, real processes, real deadlines.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The browser Chromium binary (Debian's `chromium` package).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// What one `peer.mjs` run reported.
#[derive(Debug)]
pub struct BrowserRun {
    /// `peer.mjs` exited 0 and its JSON said `"ok": true`: connected, every message echoed,
    /// and the expected inbound media seen.
    pub ok: bool,
    /// The one JSON line `peer.mjs` printed (`Value::Null` when it printed none): `connectionState`,
    /// `echoed`, `echoMs`, `inbound`, `outbound`, `pair`, `transport`, `localCandidates`,
    /// `remoteCandidates`, `error`, ...
    pub json: Value,
    /// Its progress log (and the page's console), for failure messages.
    pub stderr: String,
}

/// `CARGO_MANIFEST_DIR/tests/browser`.
pub fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("browser")
}

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// Why the browser tests cannot run here, if they cannot.
pub fn browser_missing() -> Option<String> {
    if !std::path::Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing"));
    }
    let node_ok = Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !node_ok {
        return Some("node is not on PATH".to_string());
    }
    let pw = browser_dir()
        .join("node_modules")
        .join("playwright-core")
        .join("package.json");
    if !pw.exists() {
        return Some(format!("{} is missing", pw.display()));
    }
    None
}

/// `None` when the browser tests may run; otherwise prints why and returns `Some(())` (skip),
/// or panics under `CI=true`.
fn skip_browser() -> Option<()> {
    let why = browser_missing()?;
    if in_ci() {
        panic!(
            "browser interop test cannot run: {why}; run scripts/setup (CI=true: a skipped \
             browser test is a failure)"
        );
    }
    eprintln!("skipping browser interop test: {why} (run scripts/setup)");
    Some(())
}

/// Runs one browser peer to the end (blocking: run the Rust peer on another thread, or use
/// [`spawn_browser`]). `role` is `offer` or `answer`; `mdns: false` passes
/// `--disable-features=WebRtcHideLocalIpsWithMdns`; the page sends `messages` messages on the
/// data channel `echo` and expects each back in order; `expect_media` is `video`, `audio`, `any`
/// or `none`; `timeout_secs` bounds the whole run (the browser is killed after it).
pub fn run_browser(
    signal_url: &str,
    role: &str,
    mdns: bool,
    messages: u32,
    expect_media: &str,
    timeout_secs: u64,
) -> Option<BrowserRun> {
    let messages = messages.to_string();
    let args = [
        "--role",
        role,
        "--mdns",
        if mdns { "on" } else { "off" },
        "--messages",
        &messages,
        "--expect-media",
        expect_media,
    ];
    run_browser_args(signal_url, &args, timeout_secs)
}

/// [`run_browser`] on a thread; `None` when skipped. Join the handle for the result.
pub fn spawn_browser(
    signal_url: &str,
    role: &str,
    mdns: bool,
    messages: u32,
    expect_media: &str,
    timeout_secs: u64,
) -> Option<thread::JoinHandle<BrowserRun>> {
    if skip_browser().is_some() {
        return None;
    }
    let (url, role, media) = (
        signal_url.to_string(),
        role.to_string(),
        expect_media.to_string(),
    );
    Some(thread::spawn(move || {
        run_browser(&url, &role, mdns, messages, &media, timeout_secs)
            .expect("browser availability checked before the thread started")
    }))
}

/// Runs `peer.mjs --signal URL --timeout T` with any other flags of its own (`--echo`,
/// `--media off`, `--linger-ms`, ...; see the top of `peer.mjs`).
pub fn run_browser_args(signal_url: &str, args: &[&str], timeout_secs: u64) -> Option<BrowserRun> {
    if skip_browser().is_some() {
        return None;
    }
    let script = browser_dir().join("peer.mjs");
    let timeout = timeout_secs.to_string();
    let mut child = Command::new("node")
        .arg(&script)
        .args(["--signal", signal_url, "--timeout", &timeout])
        .args(args)
        .current_dir(browser_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start node {}: {e}", script.display()));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    // peer.mjs enforces `timeout` itself (and kills Chromium); this is the backstop for a node
    // that hangs anyway.
    let deadline = Instant::now() + Duration::from_secs(timeout_secs + 20);
    let mut killed = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                killed = true;
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(_) => break None,
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let mut stderr = err_reader.join().unwrap_or_default();
    if killed {
        stderr.push_str(&format!(
            "\n[browser.rs] node killed after {} s\n",
            timeout_secs + 20
        ));
    }
    let json = out
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or(Value::Null);
    let ok = status.map(|s| s.success()).unwrap_or(false) && json["ok"] == Value::Bool(true);
    Some(BrowserRun { ok, json, stderr })
}

#[derive(Default)]
struct State {
    /// SDP of the offer the browser POSTed to /offer.
    posted_offer: Option<String>,
    /// SDP of the answer to send back on that POST.
    reply: Option<String>,
    /// SDP of the offer served on GET /offer.
    provided_offer: Option<String>,
    /// SDP of the answer the browser POSTed to /answer.
    posted_answer: Option<String>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    /// Waits until `f` gives a value, the server stops, or `timeout` passes.
    fn wait_for<T>(
        &self,
        timeout: Duration,
        mut f: impl FnMut(&mut State) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(v) = f(&mut st) {
                return Some(v);
            }
            let now = Instant::now();
            if self.stop.load(Ordering::SeqCst) || now >= deadline {
                return None;
            }
            st = self
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.notify_all();
    }
}

/// How long a browser's request may stay blocked waiting for the Rust side.
const HOLD: Duration = Duration::from_secs(300);

/// A blocking HTTP signalling server on `127.0.0.1:0`, one thread per request; stops on drop.
pub struct Signal {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Signal {
    pub fn start() -> Signal {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the signalling server");
        let addr = listener.local_addr().expect("its address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                thread::spawn(move || handle(conn, &s));
            }
        });
        Signal {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`, for `peer.mjs --signal`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The SDP of the offer the browser POSTed to `/offer`.
    pub fn wait_offer(&self, timeout: Duration) -> Option<String> {
        self.shared.wait_for(timeout, |st| st.posted_offer.clone())
    }

    /// The answer SDP returned to the browser as the response to its `POST /offer`.
    pub fn reply_answer(&self, sdp: &str) {
        self.shared.update(|st| st.reply = Some(sdp.to_string()));
    }

    /// The offer SDP served to the browser on `GET /offer`.
    pub fn provide_offer(&self, sdp: &str) {
        self.shared
            .update(|st| st.provided_offer = Some(sdp.to_string()));
    }

    /// The SDP of the answer the browser POSTed to `/answer`.
    pub fn wait_answer(&self, timeout: Duration) -> Option<String> {
        self.shared.wait_for(timeout, |st| st.posted_answer.clone())
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        // Wakes the accept loop so that it sees `stop`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Reads one HTTP/1.1 request: request line, headers up to the empty line, and a
/// `Content-Length` body (chunked bodies are refused).
fn read_request(conn: &TcpStream) -> Result<Request, (u16, String)> {
    let bad = |m: &str| (400, m.to_string());
    let mut r = BufReader::new(conn);
    let mut head_len = 0usize;
    let mut line = String::new();
    let mut read_line =
        |r: &mut BufReader<&TcpStream>, line: &mut String| -> Result<(), (u16, String)> {
            line.clear();
            let n = r.read_line(line).map_err(|e| bad(&format!("read: {e}")))?;
            head_len += n;
            if n == 0 {
                return Err(bad("connection closed inside the request head"));
            }
            if head_len > MAX_HEAD {
                return Err((431, "request head too large".to_string()));
            }
            Ok(())
        };
    read_line(&mut r, &mut line)?;
    let mut parts = line.trim_end_matches(['\r', '\n']).split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(bad("not HTTP/1.x"));
    }
    let method = method.to_string();
    let path = target.split(['?', '#']).next().unwrap_or("").to_string();
    let mut content_length = 0usize;
    loop {
        read_line(&mut r, &mut line)?;
        let h = line.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let Some((name, value)) = h.split_once(':') else {
            return Err(bad("malformed header line"));
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().map_err(|_| bad("bad Content-Length"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && !value.eq_ignore_ascii_case("identity")
        {
            return Err((411, "send a Content-Length body".to_string()));
        }
    }
    if content_length > MAX_BODY {
        return Err((413, "body too large".to_string()));
    }
    let mut body = vec![0; content_length];
    r.read_exact(&mut body)
        .map_err(|e| bad(&format!("short body: {e}")))?;
    Ok(Request { method, path, body })
}

fn respond(mut conn: &TcpStream, status: u16, body: &Value) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    };
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body.as_bytes());
    let _ = conn.flush();
}

/// The `sdp` of a `{"type": want, "sdp": ...}` body.
fn sdp_of(body: &[u8], want: &str) -> Result<String, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    if v["type"] != want {
        return Err(format!("expected \"type\": \"{want}\", got {}", v["type"]));
    }
    v["sdp"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "no \"sdp\" string".to_string())
}

fn handle(conn: TcpStream, s: &Shared) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let req = match read_request(&conn) {
        Ok(req) => req,
        Err((status, msg)) => return respond(&conn, status, &json!({ "error": msg })),
    };
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/offer") => {
            let sdp = match sdp_of(&req.body, "offer") {
                Ok(sdp) => sdp,
                Err(e) => return respond(&conn, 400, &json!({ "error": e })),
            };
            s.update(|st| st.posted_offer = Some(sdp));
            match s.wait_for(HOLD, |st| st.reply.clone()) {
                Some(answer) => respond(&conn, 200, &json!({ "type": "answer", "sdp": answer })),
                None => respond(
                    &conn,
                    503,
                    &json!({ "error": "no answer from the Rust peer" }),
                ),
            }
        }
        ("GET", "/offer") => match s.wait_for(HOLD, |st| st.provided_offer.clone()) {
            Some(offer) => respond(&conn, 200, &json!({ "type": "offer", "sdp": offer })),
            None => respond(
                &conn,
                503,
                &json!({ "error": "no offer from the Rust peer" }),
            ),
        },
        ("POST", "/answer") => match sdp_of(&req.body, "answer") {
            Ok(sdp) => {
                s.update(|st| st.posted_answer = Some(sdp));
                respond(&conn, 200, &json!({}));
            }
            Err(e) => respond(&conn, 400, &json!({ "error": e })),
        },
        _ => respond(&conn, 404, &json!({ "error": "not found" })),
    }
}
