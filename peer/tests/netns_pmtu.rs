//! Data channel path MTU discovery (RFC 8899) over real sockets whose route carries less
//! than the 1500 bytes weft probes for: two tokio `PeerConnection`s over weft's SCTP engine
//! on the loopback of a network namespace this test makes, with the loopback MTU set to
//! 1280. quinn-udp's IP_PMTUDISC_PROBE makes the kernel refuse (EMSGSIZE) rather than
//! fragment anything larger, so the probes above 1280 are lost at the sender; the search
//! must settle on the largest SCTP packet that fits 1280 bytes of IPv4, UDP and DTLS, and
//! data must flow at that size.
//!
//! Needs root and iproute2 (as the project's machines and CI have): the test re-runs itself
//! inside the namespace with `ip netns exec`.

#![cfg(feature = "tokio")]
// The parent process drives `ip`; the child is the tokio test.
#![allow(clippy::disallowed_methods)]

use std::future::Future;
use std::process::Command;
use std::time::Duration;

use weft_peer::{
    ChannelOptions, DataChannel, PeerConfig, PeerConnection, PeerEvent, RtcConfig, SharedSocket,
    Stats,
};

/// Set in the child, which runs inside the namespace.
const CHILD: &str = "WEFT_NETNS_PMTU_CHILD";
const LINK_MTU: usize = 1280;
/// 1280 - 20 (IPv4) - 8 (UDP) - 37 (DTLS 1.2 AES-GCM record) = 1215, probed in steps of 4.
const EXPECTED: u32 = 1212;

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("iproute2 `ip`");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Deletes the namespace however the test ends.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

#[test]
fn data_channel_plpmtu_settles_below_a_1280_byte_loopback_in_a_namespace() {
    in_netns(
        "data_channel_plpmtu_settles_below_a_1280_byte_loopback_in_a_namespace",
        false,
    );
}

/// The same with the answering side on a `SharedSocket`: its socket has the same
/// IP_PMTUDISC_PROBE (no fragmentation by this host), and its GSO sends and batched reads
/// carry the probes like an own socket's.
#[test]
fn data_channel_plpmtu_settles_on_a_shared_socket_in_a_namespace() {
    in_netns(
        "data_channel_plpmtu_settles_on_a_shared_socket_in_a_namespace",
        true,
    );
}

/// Runs the test `name` again inside a new namespace whose loopback carries 1280 bytes.
fn in_netns(name: &str, shared: bool) {
    if std::env::var_os(CHILD).is_some() {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(child(shared));
        return;
    }
    let ns = Netns(format!(
        "weft-pmtu-{}-{}",
        std::process::id(),
        u8::from(shared)
    ));
    ip(&["netns", "add", &ns.0]);
    ip(&[
        "-n",
        &ns.0,
        "link",
        "set",
        "lo",
        "mtu",
        &LINK_MTU.to_string(),
        "up",
    ]);
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(exe)
        .args(["--exact", name, "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{log}");
    assert!(out.status.success(), "the test inside the namespace failed");
    // The child ran the test (not zero tests by a wrong filter).
    assert!(log.contains("1 passed"), "{log}");
}

/// A hang guard, not a measurement.
async fn within<T>(secs: u64, what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(secs), f).await {
        Ok(t) => t,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// A connection on its own loopback socket, or on `shared`.
async fn peer(shared: Option<SharedSocket>) -> PeerConnection {
    let mut rtc = RtcConfig::new(PeerConfig::generate_certificate().unwrap());
    rtc.sctp_engine = weft_sctp::EngineKind::Weft;
    PeerConnection::new(PeerConfig {
        rtc: Some(rtc),
        shared,
        ..PeerConfig::loopback()
    })
    .await
    .unwrap()
}

async fn sctp_packet_size(pc: &PeerConnection) -> Option<u32> {
    pc.with_rtc(|rtc| {
        rtc.stats().into_iter().find_map(|s| match s {
            Stats::Transport(t) => t.sctp_packet_size,
            _ => None,
        })
    })
    .await
    .unwrap()
}

async fn child(shared: bool) {
    let socket = if shared {
        Some(
            SharedSocket::bind("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap(),
        )
    } else {
        None
    };
    let a = peer(None).await;
    let b = peer(socket).await;
    let ours = a
        .create_data_channel("pmtu", ChannelOptions::default())
        .await
        .unwrap();
    let offer = a.create_offer().await.unwrap();
    a.set_local_description(offer).await.unwrap();
    within(10, "gathering", a.gathering_complete())
        .await
        .unwrap();
    b.set_remote_description(a.local_description().await.unwrap().unwrap())
        .await
        .unwrap();
    let answer = b.create_answer().await.unwrap();
    b.set_local_description(answer).await.unwrap();
    within(10, "gathering", b.gathering_complete())
        .await
        .unwrap();
    a.set_remote_description(b.local_description().await.unwrap().unwrap())
        .await
        .unwrap();
    let theirs: DataChannel = within(20, "datachannel", async {
        loop {
            match b.next_event().await {
                Some(PeerEvent::DataChannel(dc)) => return dc,
                Some(_) => {}
                None => panic!("connection ended"),
            }
        }
    })
    .await;
    within(20, "open", ours.opened()).await.unwrap();

    // Probes of 1432, 1316, 1256 and 1228 bytes fail MAX_PROBES times each (EMSGSIZE), one
    // PROBE_TIMER (1 s) apart; 1212 passes (about 12 s here); 1220 and 1216 fail after it.
    within(120, "the search to settle", async {
        loop {
            let (x, y) = (sctp_packet_size(&a).await, sctp_packet_size(&b).await);
            assert!(x <= Some(EXPECTED) && y <= Some(EXPECTED), "{x:?} {y:?}");
            if x == Some(EXPECTED) && y == Some(EXPECTED) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;

    // Messages cut into chunks that fill 1212-byte packets all arrive.
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    for _ in 0..5 {
        ours.send_binary(big.clone()).await.unwrap();
    }
    for _ in 0..5 {
        let m = within(30, "message", theirs.recv()).await.unwrap();
        assert_eq!(&m.data[..], &big[..]);
    }
    assert_eq!(sctp_packet_size(&a).await, Some(EXPECTED));
    a.close().await;
    b.close().await;
}
