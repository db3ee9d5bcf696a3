//! A session whose path dies (no close, no goodbye: the client's packets stop) is removed
//! when ICE consent fails (RFC 7675 §5.1: no consent response for the consent timeout,
//! here shortened to 3 s): W3C connectionState "failed" ends it, reason
//! `connection_failed`, and it leaves the registry.
//!
//! The client talks to the server through a UDP relay in the test, which goes silent on
//! command: the candidates of both descriptions are rewritten to the relay's address.

#![allow(clippy::disallowed_methods)]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{request, wait_event};
use tokio::net::UdpSocket;
use weft_peer::{ChannelOptions, PeerConfig, PeerConnection, SessionDescription};
use weft_server::Config;

/// Forwards datagrams between one client and `server` while `open`.
async fn relay(server: SocketAddr, open: Arc<AtomicBool>) -> SocketAddr {
    let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("relay socket"));
    let addr = sock.local_addr().expect("relay address");
    tokio::spawn(async move {
        let mut client: Option<SocketAddr> = None;
        let mut buf = vec![0u8; 65536];
        while let Ok((n, src)) = sock.recv_from(&mut buf).await {
            if !open.load(Ordering::Relaxed) {
                continue;
            }
            let dst = if src == server {
                match client {
                    Some(c) => c,
                    None => continue,
                }
            } else {
                client = Some(src);
                server
            };
            let _ = sock.send_to(&buf[..n], dst).await;
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_failure_removes_the_session() {
    let running = weft_server::start_with(Config::loopback(), |rtc| {
        rtc.ice.disconnected_timeout = Duration::from_secs(1);
        rtc.ice.consent_timeout = Duration::from_secs(3);
    })
    .await
    .expect("start");
    let media = running.server().media_addr();
    let open = Arc::new(AtomicBool::new(true));
    let via = relay(media, open.clone()).await;

    let pc = PeerConnection::new(PeerConfig::loopback())
        .await
        .expect("pc");
    let dc = pc
        .create_data_channel("detections", ChannelOptions::default())
        .await
        .expect("channel");
    let offer = pc.create_offer().await.expect("offer");
    pc.set_local_description(offer).await.expect("local");
    pc.gathering_complete().await.expect("gathering");
    let offer = pc.local_description().await.expect("sdp").expect("sdp");
    // Both candidates name the relay, so no direct path exists besides it.
    let client = pc.local_addrs()[0];
    let mine = format!("{} {} typ host", client.ip(), client.port());
    assert!(offer.sdp.contains(&mine), "{}", offer.sdp);
    let to = format!("{} {} typ host", via.ip(), via.port());
    let offer_sdp = offer.sdp.replace(&mine, &to);
    let body = serde_json::json!({ "type": "offer", "sdp": offer_sdp }).to_string();
    let (status, _, body) = request(running.http_addr(), "POST", "/offer", body.into_bytes())
        .await
        .expect("POST /offer");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let sdp = v["sdp"].as_str().expect("sdp");
    let from = format!("{} {} typ host", media.ip(), media.port());
    let to = format!("{} {} typ host", via.ip(), via.port());
    assert!(
        sdp.contains(&from),
        "the answer has no candidate {from}: {sdp}"
    );
    let sdp = sdp.replace(&from, &to);
    pc.set_remote_description(SessionDescription::answer(sdp))
        .await
        .expect("remote");
    wait_event(&dc, "session_started", Duration::from_secs(10))
        .await
        .expect("session_started through the relay");
    assert_eq!(running.server().registry().len(), 1);

    // The path dies.
    open.store(false, Ordering::Relaxed);
    let t0 = Instant::now();
    while !running.server().registry().is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "the session is still live {:?} after its path died",
            t0.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("session removed {:?} after the path died", t0.elapsed());
    assert!(t0.elapsed() >= Duration::from_secs(2), "removed too early");
    running
        .shutdown(Duration::from_secs(1))
        .await
        .expect("shutdown");
    pc.close().await;
}
