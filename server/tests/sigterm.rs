//! The real binary: started with its settings from environment variables, three weft
//! clients connected, SIGTERM: every client gets `session_ended` (reason `shutdown`) and
//! sees its channel close (SCTP shutdown, DTLS close_notify), and the process exits 0
//! within 5 s.

#![allow(clippy::disallowed_methods)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{connect, spawn_server, wait_event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_every_session_and_exits_zero() {
    let (mut child, addr, _logs) = spawn_server(&[("WEFT_IDLE_TIMEOUT_SEC", "60")], false);
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
        .args(["-TERM", &child.0.id().to_string()])
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
        if let Some(s) = child.0.try_wait().expect("wait") {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(5) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_json_writes_one_json_object_per_line() {
    let (mut child, addr, logs) = spawn_server(&[("WEFT_LOG_JSON", "true")], true);
    let c = connect(addr).await.expect("client");
    wait_event(&c.dc, "session_started", Duration::from_secs(10))
        .await
        .expect("session_started");
    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill");
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().expect("wait") {
            break s;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(0));
    let lines: Vec<String> = logs.try_iter().collect();
    assert!(lines.len() >= 3, "{lines:?}");
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(
            v["level"].is_string() && v["fields"]["message"].is_string(),
            "{l}"
        );
    }
    assert!(
        lines.iter().any(|l| l.contains("session_started sent")),
        "{lines:?}"
    );
    c.pc.close().await;
}
