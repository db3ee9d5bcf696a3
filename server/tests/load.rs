//! The load figure: offers answered per second, and memory per live session, against the
//! real binary. The test suite runs a small version (20 offers, 10 sessions) that checks
//! every session starts and memory per session stays bounded; the full figure:
//!
//! ```text
//! WEFT_LOAD_FULL=1 cargo test --release -p weft-server --test load -- --nocapture
//! ```

#![allow(clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use common::{connect, request, spawn_server, wait_event, Client};

/// VmRSS of a process, in KiB (Linux `/proc/PID/status`).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_per_second_and_memory_per_session() {
    let full = std::env::var("WEFT_LOAD_FULL").is_ok_and(|v| v == "1");
    let sequential: usize = if full { 200 } else { 20 };
    let steps: &[usize] = if full { &[10, 100, 250, 500] } else { &[10] };
    let env = [
        ("WEFT_IDLE_TIMEOUT_SEC", "600"),
        ("WEFT_MAX_SESSIONS", "2000"),
    ];

    // Offers answered per second: one weft client process, one offer after another. The
    // client closes each connection once answered (its session then ends on the server).
    let (server, addr, _logs) = spawn_server(&env, true);
    let mut post_total = Duration::ZERO;
    let t0 = Instant::now();
    for _ in 0..sequential {
        let t = Instant::now();
        let c = connect(addr).await.expect("client");
        post_total += t.elapsed();
        c.pc.close().await;
    }
    let wall = t0.elapsed();
    println!(
        "LOAD sequential offers: {sequential} in {:.2} s = {:.1} offers/s (client offer + POST + answer applied, mean {:.1} ms each)",
        wall.as_secs_f64(),
        sequential as f64 / wall.as_secs_f64(),
        post_total.as_secs_f64() * 1000.0 / sequential as f64,
    );
    drop(server);

    // Memory per live session: a fresh server, sessions added in steps, each one connected
    // with its channel open (session_started received).
    let (server, addr, _logs) = spawn_server(&env, true);
    let pid = server.0.id();
    // One session first, closed again, so the runtime's one-off allocations are in the
    // baseline.
    let warm = connect(addr).await.expect("warm-up client");
    wait_event(&warm.dc, "session_started", Duration::from_secs(10))
        .await
        .expect("warm-up");
    warm.pc.close().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let base = rss_kib(pid);
    println!("LOAD baseline RSS: {base} KiB");
    let mut clients: Vec<Client> = Vec::new();
    for &target in steps {
        let t = Instant::now();
        while clients.len() < target {
            let batch = (target - clients.len()).min(50);
            let tasks: Vec<_> = (0..batch)
                .map(|_| {
                    tokio::spawn(async move {
                        let c = connect(addr).await?;
                        wait_event(&c.dc, "session_started", Duration::from_secs(60)).await?;
                        Ok::<_, String>(c)
                    })
                })
                .collect();
            for task in tasks {
                clients.push(task.await.expect("join").expect("client"));
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (_, _, body) = request(addr, "GET", "/healthz", Vec::new())
            .await
            .expect("healthz");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let rss = rss_kib(pid);
        let live = v["sessions"].as_u64().unwrap_or(target as u64).max(1);
        // Offers answered with this many sessions live: 20 sequential offers (each client
        // closed once answered; those sessions end when their ICE fails, so the next step
        // counts them in `live` until then).
        let t_offers = Instant::now();
        for _ in 0..20 {
            let c = connect(addr).await.expect("client");
            c.pc.close().await;
        }
        let rate = 20.0 / t_offers.elapsed().as_secs_f64();
        println!(
            "LOAD {target} connected sessions ({live} live on the server): RSS {rss} KiB, +{} KiB over baseline = {:.1} KiB per live session (added in {:.2} s); then {rate:.0} offers/s",
            rss.saturating_sub(base),
            rss.saturating_sub(base) as f64 / live as f64,
            t.elapsed().as_secs_f64(),
        );
        // A bound that catches a leak or a runaway buffer, not a tuned figure: a data-only
        // session measured 81–107 KiB.
        assert!(
            rss.saturating_sub(base) / live < 1024,
            "{} KiB per live session",
            rss.saturating_sub(base) / live
        );
        assert_eq!(clients.len(), target);
    }
    for c in &clients {
        c.pc.close().await;
    }
}
