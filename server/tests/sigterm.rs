//! The real binary: started with its settings from environment variables, three weft
//! clients connected, SIGTERM: every client gets `session_ended` (reason `shutdown`) and
//! sees its channel close (SCTP shutdown, DTLS close_notify), and the process exits 0
//! within 5 s.

#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{connect, wait_event};

/// Starts `weft-server` on loopback ports the system picks; its HTTP address (read from
/// its log) and a channel of its further log lines.
fn spawn_server() -> (Child, SocketAddr, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft-server"))
        .env("WEFT_PORT", "0")
        .env("WEFT_BIND", "127.0.0.1")
        .env("WEFT_MEDIA_IP", "127.0.0.1")
        .env("WEFT_MEDIA_PORT", "0")
        .env("WEFT_IDLE_TIMEOUT_SEC", "60")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start weft-server");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[weft-server] {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("no 'listening on' line from weft-server");
        if let Some(i) = line.find("listening on http://") {
            let rest = &line[i + "listening on http://".len()..];
            let addr = rest.split('/').next().expect("address");
            return (child, addr.parse().expect("socket address"), rx);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_every_session_and_exits_zero() {
    let (mut child, addr, _logs) = spawn_server();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let c = connect(addr).await.expect("client");
        wait_event(&c.dc, "session_started", Duration::from_secs(10))
            .await
            .expect("session_started");
        clients.push(c);
    }
    let (status, _, body) = common::request(addr, "GET", "/sessions", Vec::new())
        .await
        .expect("sessions");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["sessions"].as_array().map(Vec::len), Some(3));

    let t0 = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());

    for (i, c) in clients.iter().enumerate() {
        let ended = wait_event(&c.dc, "session_ended", Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("client {i}: {e}"));
        assert_eq!(ended["reason"], "shutdown");
        tokio::time::timeout(Duration::from_secs(5), c.dc.closed())
            .await
            .unwrap_or_else(|_| panic!("client {i}: channel still open 5 s after SIGTERM"));
    }
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("weft-server still running 5 s after SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("exited {status} {:?} after SIGTERM", t0.elapsed());
    assert_eq!(status.code(), Some(0));
    for c in &clients {
        c.pc.close().await;
    }
}
