//! Sessions with real weft clients over loopback: 100 concurrent offers get 100 sessions
//! and 100 working `detections` channels; a session with nothing arriving ends with
//! `session_ended` after `idle_timeout_sec`; only the `detections` label is bound.

#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{connect, connect_label, is_uuid_v4, request, wait_event};
use weft_server::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_offers_get_hundred_sessions() {
    const N: usize = 100;
    let running = weft_server::start(Config::loopback()).await.expect("start");
    let addr = running.http_addr();
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            tokio::spawn(async move {
                let c = connect(addr)
                    .await
                    .map_err(|e| format!("client {i}: {e}"))?;
                let ev = wait_event(&c.dc, "session_started", Duration::from_secs(60))
                    .await
                    .map_err(|e| format!("client {i}: {e}"))?;
                let id = ev["session_id"].as_str().unwrap_or_default().to_owned();
                Ok::<_, String>((id, c))
            })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut clients = Vec::new();
    for t in tasks {
        let (id, c) = t.await.expect("join").expect("client");
        assert!(is_uuid_v4(&id), "{id}");
        ids.insert(id);
        clients.push(c);
    }
    eprintln!("{N} sessions started in {:?}", t0.elapsed());
    assert_eq!(ids.len(), N, "session ids are not distinct");
    assert_eq!(running.server().registry().len(), N);
    // Every channel works both ways: a message in is counted by the session.
    for c in &clients {
        c.dc.send_text("{\"hello\":1}").await.expect("send");
    }
    let (status, _, body) = request(addr, "GET", "/sessions", Vec::new())
        .await
        .expect("sessions");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let listed: HashSet<String> = v["sessions"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["session_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(listed, ids);
    running
        .shutdown(Duration::from_secs(3))
        .await
        .expect("shutdown");
    for c in &clients {
        c.pc.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_session_ends_with_session_ended() {
    let mut config = Config::loopback();
    config.session.idle_timeout_sec = 2;
    let running = weft_server::start(config).await.expect("start");
    let c = connect(running.http_addr()).await.expect("client");
    let started = wait_event(&c.dc, "session_started", Duration::from_secs(10))
        .await
        .expect("session_started");
    assert_eq!(started["config"]["idle_timeout_sec"], 2);
    let t0 = Instant::now();
    // No media and no message from here on: stats events come, then session_ended.
    let ended = wait_event(&c.dc, "session_ended", Duration::from_secs(6))
        .await
        .expect("session_ended");
    let waited = t0.elapsed();
    assert_eq!(ended["reason"], "idle_timeout", "{ended}");
    assert_eq!(ended["session_id"], started["session_id"]);
    assert_eq!(ended["summary"]["session_id"], started["session_id"]);
    assert_eq!(ended["summary"]["video_frames"], 0);
    assert!(
        ended["summary"]["duration_ms"]
            .as_u64()
            .is_some_and(|d| d >= 2000),
        "{ended}"
    );
    assert!(
        waited <= Duration::from_millis(2500),
        "ended after {waited:?}"
    );
    // The session is gone from the registry and its channel closes.
    tokio::time::timeout(Duration::from_secs(5), c.dc.closed())
        .await
        .expect("channel closed after session_ended");
    let deadline = Instant::now() + Duration::from_secs(2);
    while !running.server().registry().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(running.server().registry().is_empty());
    running
        .shutdown(Duration::from_secs(1))
        .await
        .expect("shutdown");
    c.pc.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_keep_a_session_alive_and_other_labels_are_not_bound() {
    let mut config = Config::loopback();
    config.session.idle_timeout_sec = 1;
    let running = weft_server::start(config).await.expect("start");
    let c = connect(running.http_addr()).await.expect("client");
    wait_event(&c.dc, "session_started", Duration::from_secs(10))
        .await
        .expect("session_started");
    // A message every 300 ms for 2.5 s: longer than the idle timeout, never idle.
    for _ in 0..8 {
        c.dc.send_text("ping").await.expect("send");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        running.server().registry().len(),
        1,
        "session ended while messages came"
    );
    // Stats queued earlier come first; the newest counts all eight messages.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let stats = wait_event(&c.dc, "stats", left).await.expect("stats");
        if stats["messages_in"] == 8 {
            break;
        }
    }
    // "Detections" is not "detections": the channel opens (the peer connection takes it)
    // but the session never speaks on it.
    let other = connect_label(running.http_addr(), "Detections")
        .await
        .expect("client");
    other.dc.opened().await.expect("open");
    let got = tokio::time::timeout(Duration::from_millis(1500), other.dc.recv()).await;
    // (It may close meanwhile: with nothing bound, that session idles out after 1 s.)
    assert!(
        !matches!(got, Ok(Some(_))),
        "a message on a channel that is not `detections`: {got:?}"
    );
    running
        .shutdown(Duration::from_secs(1))
        .await
        .expect("shutdown");
    c.pc.close().await;
    other.pc.close().await;
}
