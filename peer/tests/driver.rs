//! The tokio driver over real loopback UDP: two `PeerConnection`s in one process,
//! non-trickle negotiation, a data channel echo, audio and video both ways, close seen by
//! the other side, and a leak check over 200 connect/close cycles.

#![cfg(feature = "tokio")]
// The test measures wall time per connect/close cycle.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

#[path = "common/pc.rs"]
mod pc;

use pc::{negotiate, remote_channel, within};
use weft_peer::{
    ChannelOptions, ChannelState, DataChannel, MediaKind, MessageKind, PeerConfig, PeerConnection,
    PeerConnectionState, PeerEvent, RtcError, TransceiverId,
};

/// The leak check counts the process's file descriptors: the tests of this binary run one
/// at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn pair() -> (PeerConnection, PeerConnection) {
    let a = PeerConnection::new(PeerConfig::loopback()).await.unwrap();
    let b = PeerConnection::new(PeerConfig::loopback()).await.unwrap();
    (a, b)
}

#[tokio::test]
async fn data_channel_opens_echoes_and_closes() {
    let _serial = SERIAL.lock().await;
    let (a, b) = pair().await;
    let ours = a
        .create_data_channel("chat", ChannelOptions::default())
        .await
        .unwrap();
    assert_eq!(ours.label(), "chat");
    assert_eq!(ours.state(), ChannelState::Connecting);
    negotiate(&a, &b).await;
    let theirs = remote_channel(&b).await;
    assert_eq!(theirs.label(), "chat");
    within(10, "our channel open", ours.opened()).await.unwrap();
    within(10, "their channel open", theirs.opened())
        .await
        .unwrap();
    assert_eq!(a.connection_state(), PeerConnectionState::Connected);
    within(5, "b connected", b.connected()).await.unwrap();

    // b echoes whatever arrives until its channel closes.
    let echo = tokio::spawn(async move {
        let mut n = 0;
        while let Some(m) = theirs.recv().await {
            n += 1;
            if theirs.send(m.kind, m.data).await.is_err() {
                break;
            }
        }
        (n, theirs)
    });
    for i in 0..100u32 {
        if i % 2 == 0 {
            ours.send_binary(i.to_be_bytes().to_vec()).await.unwrap();
        } else {
            ours.send_text(&format!("m{i}")).await.unwrap();
        }
    }
    for i in 0..100u32 {
        let m = within(10, "echo", ours.recv()).await.unwrap();
        if i % 2 == 0 {
            assert_eq!(m.kind, MessageKind::Binary);
            assert_eq!(&m.data[..], &i.to_be_bytes()[..]);
        } else {
            assert_eq!(m.text(), Some(format!("m{i}").as_str()));
        }
    }

    // a closes: SCTP shutdown and close_notify reach b, whose channel closes, so the
    // echo loop ends; a's own channel handle reports closed.
    a.close().await;
    assert_eq!(a.connection_state(), PeerConnectionState::Closed);
    assert_eq!(ours.state(), ChannelState::Closed);
    assert!(matches!(
        ours.send_text("late").await,
        Err(RtcError::InvalidState(_))
    ));
    let (n, theirs) = within(10, "b sees the channel closed", echo).await.unwrap();
    assert_eq!(n, 100);
    assert_eq!(theirs.state(), ChannelState::Closed);
    b.close().await;
}

/// A VP8 "frame" whose payload header says key frame (RFC 6386 §9.1), then a counter.
fn vp8_frame(i: u32, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[0] = 0x10;
    f[1..5].copy_from_slice(&i.to_be_bytes());
    f
}

#[derive(Default, Debug)]
struct Received {
    video: Vec<Vec<u8>>,
    audio: usize,
}

/// Takes `pc`'s events until `video` video and `audio` audio frames arrived.
async fn take_frames(
    pc: &PeerConnection,
    v: TransceiverId,
    a: TransceiverId,
    video: usize,
    audio: usize,
) -> Received {
    let mut got = Received::default();
    let r = tokio::time::timeout(Duration::from_secs(10), async {
        while got.video.len() < video || got.audio < audio {
            match pc.next_event().await {
                Some(PeerEvent::Frame { transceiver, frame }) if transceiver == v => {
                    got.video.push(frame.data)
                }
                Some(PeerEvent::Frame { transceiver, .. }) if transceiver == a => got.audio += 1,
                Some(_) => {}
                None => break,
            }
        }
    })
    .await;
    if r.is_err() {
        eprintln!(
            "timed out with {} video, {} audio",
            got.video.len(),
            got.audio
        );
    }
    got
}

#[tokio::test]
async fn audio_and_video_both_ways() {
    let _serial = SERIAL.lock().await;
    let (a, b) = pair().await;
    let a_audio = a.add_track(MediaKind::Audio, "s", "a-audio").await.unwrap();
    let a_video = a.add_track(MediaKind::Video, "s", "a-video").await.unwrap();
    negotiate(&a, &b).await;
    // b's transceivers come from the offer (`track` events); b adds its own tracks to
    // them and renegotiates as the offerer.
    let (mut b_audio, mut b_video) = (None, None);
    within(5, "track events", async {
        while b_audio.is_none() || b_video.is_none() {
            match b.next_event().await {
                Some(PeerEvent::Track {
                    transceiver, kind, ..
                }) => match kind {
                    MediaKind::Audio => b_audio = Some(transceiver),
                    MediaKind::Video => b_video = Some(transceiver),
                },
                Some(_) => {}
                None => panic!("connection ended"),
            }
        }
    })
    .await;
    let (b_audio, b_video) = (b_audio.unwrap(), b_video.unwrap());
    assert_eq!(
        b.add_track(MediaKind::Audio, "t", "b-audio").await.unwrap(),
        b_audio
    );
    assert_eq!(
        b.add_track(MediaKind::Video, "t", "b-video").await.unwrap(),
        b_video
    );
    negotiate(&b, &a).await;
    within(10, "a connected", a.connected()).await.unwrap();
    within(10, "b connected", b.connected()).await.unwrap();

    // 2 s of 25 fps video (3000-byte frames, 3 packets each) and 50 pps Opus both ways,
    // paced in real time.
    const FRAMES: u32 = 50;
    let mut tick = tokio::time::interval(Duration::from_millis(40));
    for i in 0..FRAMES {
        tick.tick().await;
        let v = vp8_frame(i, 3000);
        a.write_frame(a_video, None, i * 3600, v.clone())
            .await
            .unwrap();
        b.write_frame(b_video, None, i * 3600, v).await.unwrap();
        for k in 0..2u8 {
            let opus = vec![0xfc, i as u8, k];
            let ts = (2 * i + u32::from(k)) * 960;
            a.write_frame(a_audio, None, ts, opus.clone())
                .await
                .unwrap();
            b.write_frame(b_audio, None, ts, opus).await.unwrap();
        }
    }
    let n = FRAMES as usize;
    let at_b = take_frames(&b, b_video, b_audio, n, 2 * n).await;
    let at_a = take_frames(&a, a_video, a_audio, n, 2 * n).await;
    eprintln!(
        "video frames a {} b {}, audio frames a {} b {}",
        at_a.video.len(),
        at_b.video.len(),
        at_a.audio,
        at_b.audio
    );
    for (i, f) in at_a.video.iter().chain(&at_b.video).enumerate() {
        assert_eq!(f.len(), 3000, "frame {i}");
        assert_eq!(f[0], 0x10);
    }
    let order: Vec<u32> = at_b
        .video
        .iter()
        .map(|f| u32::from_be_bytes([f[1], f[2], f[3], f[4]]))
        .collect();
    assert_eq!(order, (0..FRAMES).collect::<Vec<_>>());
    assert_eq!(
        (at_a.video.len(), at_b.video.len(), at_a.audio, at_b.audio),
        (n, n, 2 * n, 2 * n)
    );
    let counters = a.media_counters(a_video).await.unwrap();
    assert_eq!(counters.frames_sent, u64::from(FRAMES));
    a.request_keyframe(a_video).await.unwrap();
    within(5, "keyframe request", async {
        loop {
            match b.next_event().await {
                Some(PeerEvent::KeyframeRequest { transceiver }) if transceiver == b_video => break,
                Some(_) => {}
                None => panic!("connection ended"),
            }
        }
    })
    .await;
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn dropping_the_connection_ends_its_task() {
    let _serial = SERIAL.lock().await;
    let base = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let pc = PeerConnection::new(PeerConfig::loopback()).await.unwrap();
    let dc = pc
        .create_data_channel("orphan", ChannelOptions::default())
        .await
        .unwrap();
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        base + 1
    );
    drop(pc);
    // The channel handle does not keep the task alive: it sees the channel closed.
    within(5, "channel closed", dc.closed()).await;
    assert_eq!(dc.state(), ChannelState::Closed);
    assert!(matches!(
        dc.send_text("x").await,
        Err(RtcError::InvalidState(_))
    ));
    assert!(dc.recv().await.is_none());
    within(5, "task ended", async {
        while tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
            > base
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

/// Open sockets of this process (`/proc/self/fd` entries that link to `socket:[..]`).
/// Only sockets: the test harness starts the next test's tokio runtime (its epoll and
/// eventfd descriptors) while this one runs.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|l| l.to_string_lossy().starts_with("socket:"))
        .count()
}

/// The socket count once connections an earlier test dropped have finished closing in
/// the background (it stops changing).
async fn settled_sockets() -> usize {
    let mut last = open_fds();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = open_fds();
        if now == last {
            return now;
        }
        last = now;
    }
    last
}

/// Resident set size of this process (`/proc/self/statm`, pages of 4 KiB).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[tokio::test]
async fn no_socket_or_task_leaks_over_200_connections() {
    let _serial = SERIAL.lock().await;
    // 200 in the test suite; `WEFT_LEAK_CYCLES=1000` for the full issue-11 figure.
    let cycles: usize = std::env::var("WEFT_LEAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    const WARMUP: usize = 20;
    let fds0 = settled_sockets().await;
    let tasks0 = alive_tasks();
    let mut rss_warm = 0;
    let start = Instant::now();
    let mut peak = (fds0, tasks0);
    for i in 0..cycles {
        if i == WARMUP {
            rss_warm = rss_kib();
        }
        let (a, b) = pair().await;
        let ours = a
            .create_data_channel("leak", ChannelOptions::default())
            .await
            .unwrap();
        negotiate(&a, &b).await;
        let theirs = remote_channel(&b).await;
        within(10, "channel open", ours.opened()).await.unwrap();
        ours.send_text("ping").await.unwrap();
        let m = within(10, "ping", theirs.recv()).await.unwrap();
        assert_eq!(m.text(), Some("ping"));
        peak = (peak.0.max(open_fds()), peak.1.max(alive_tasks()));
        // Half the cycles close both sides, half close one and drop the other.
        a.close().await;
        if i % 2 == 0 {
            b.close().await;
        } else {
            drop(b);
        }
    }
    let elapsed = start.elapsed();
    // Dropped connections end their tasks in the background.
    let settle = Instant::now();
    while (open_fds() > fds0 || alive_tasks() > tasks0) && settle.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (fds1, tasks1, rss1) = (open_fds(), alive_tasks(), rss_kib());
    eprintln!(
        "{cycles} connect/close cycles in {elapsed:?} ({:?} each); open sockets {fds0} -> peak {} -> {fds1}; \
         alive tasks {tasks0} -> peak {} -> {tasks1}; RSS after {WARMUP} cycles {rss_warm} KiB -> \
         after all {rss1} KiB",
        elapsed / cycles as u32,
        peak.0,
        peak.1
    );
    assert_eq!(fds1, fds0, "file descriptors leaked");
    assert_eq!(tasks1, tasks0, "tasks leaked");
    // Memory: after the allocator's warm-up, the resident size stays flat (a leak of even
    // 10 KiB per connection would add 1.8 MB over 180 cycles).
    assert!(
        rss1 <= rss_warm + 1024,
        "resident memory grew from {rss_warm} KiB to {rss1} KiB"
    );
}

/// The handles move between tasks and threads (multi-threaded runtimes, `tokio::spawn`).
#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<PeerConnection>();
    send_sync::<DataChannel>();
    send_sync::<PeerEvent>();
}

/// Twenty server-side connections on one `SharedSocket` (one address and port), each
/// with its own client: every channel echoes its own message; afterwards every socket
/// is released.
#[tokio::test]
async fn twenty_connections_share_one_server_socket() {
    let _serial = SERIAL.lock().await;
    let fds0 = settled_sockets().await;
    let shared = weft_peer::SharedSocket::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let server_addr = shared.local_addr();
    let mut pairs = Vec::new();
    for _ in 0..20 {
        let server = PeerConnection::new(PeerConfig {
            shared: Some(shared.clone()),
            ..PeerConfig::default()
        })
        .await
        .unwrap();
        assert_eq!(server.local_addrs(), [server_addr]);
        let client = PeerConnection::new(PeerConfig::loopback()).await.unwrap();
        let ch = client
            .create_data_channel("shared", ChannelOptions::default())
            .await
            .unwrap();
        negotiate(&client, &server).await;
        pairs.push((client, server, ch));
    }
    for (i, (_, server, ch)) in pairs.iter().enumerate() {
        let theirs = remote_channel(server).await;
        within(10, "open", ch.opened()).await.unwrap();
        ch.send_text(&format!("to {i}")).await.unwrap();
        let m = within(10, "message", theirs.recv()).await.unwrap();
        assert_eq!(m.text(), Some(format!("to {i}").as_str()));
        theirs.send_text(&format!("from {i}")).await.unwrap();
        let back = within(10, "echo", ch.recv()).await.unwrap();
        assert_eq!(back.text(), Some(format!("from {i}").as_str()));
    }
    for (client, server, _) in pairs {
        client.close().await;
        server.close().await;
    }
    drop(shared);
    let settle = Instant::now();
    while open_fds() > fds0 && settle.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        open_fds(),
        fds0,
        "the shared socket and the clients' are released"
    );
}

/// Relayed candidates through a real TURN server (coturn on loopback): both connections
/// take only relay candidates (`CandidatePolicy::Relay`), gather them from coturn, and
/// the data channel runs relay to relay.
#[tokio::test]
async fn relay_only_through_coturn() {
    let _serial = SERIAL.lock().await;
    let Some(coturn) = weft_testkit::start_coturn() else {
        return;
    };
    // coturn needs a moment to listen.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mk = || {
        let mut rtc = weft_peer::RtcConfig::new(PeerConfig::generate_certificate().unwrap());
        rtc.ice.policy = weft_ice::CandidatePolicy::Relay;
        rtc.ice.turn_servers = vec![weft_ice::TurnServer {
            addr: coturn.addr,
            username: coturn.user.0.into(),
            password: coturn.user.1.into(),
        }];
        PeerConfig {
            rtc: Some(rtc),
            ..PeerConfig::loopback()
        }
    };
    let a = PeerConnection::new(mk()).await.unwrap();
    let b = PeerConnection::new(mk()).await.unwrap();
    let ours = a
        .create_data_channel("relayed", ChannelOptions::default())
        .await
        .unwrap();
    negotiate(&a, &b).await;
    let offer = a.local_description().await.unwrap().unwrap().sdp;
    assert!(offer.contains("typ relay"), "{offer}");
    assert!(!offer.contains("typ host"), "relay policy: {offer}");
    let theirs = remote_channel(&b).await;
    within(10, "open", ours.opened()).await.unwrap();
    ours.send_text("through the relay").await.unwrap();
    let m = within(10, "message", theirs.recv()).await.unwrap();
    assert_eq!(m.text(), Some("through the relay"));
    let pair = a
        .with_rtc(|rtc| rtc.ice_agent().selected_pair())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pair.local.kind, weft_ice::CandidateKind::Relayed);
    a.close().await;
    b.close().await;
}

/// A remote track is a stream of its own: the frames of its transceiver come out of
/// `RemoteTrack::recv`, in order, while the handle is held.
#[tokio::test]
async fn remote_track_streams_its_frames() {
    let _serial = SERIAL.lock().await;
    let (a, b) = pair().await;
    let video = a.add_track(MediaKind::Video, "s", "v").await.unwrap();
    negotiate(&a, &b).await;
    let t = within(5, "track event", async {
        loop {
            match b.next_event().await {
                Some(PeerEvent::Track { transceiver, .. }) => return transceiver,
                Some(_) => {}
                None => panic!("connection ended"),
            }
        }
    })
    .await;
    let track = b.remote_track(t).await.unwrap();
    assert_eq!(track.kind(), MediaKind::Video);
    within(10, "connected", a.connected()).await.unwrap();
    for i in 0..20u32 {
        let mut f = vec![0x10u8; 2000];
        f[1..5].copy_from_slice(&i.to_be_bytes());
        a.write_frame(video, None, i * 3000, f).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for i in 0..20u32 {
        let f = within(5, "frame", track.recv()).await.unwrap();
        assert_eq!(f.timestamp, i * 3000);
        assert_eq!(f.data[1..5], i.to_be_bytes());
    }
}

/// With no `bind` list the connection binds every interface address of the host (one host
/// candidate each), loopback only when asked.
#[tokio::test]
async fn binds_the_host_interfaces() {
    let _serial = SERIAL.lock().await;
    let pc = PeerConnection::new(PeerConfig::default()).await.unwrap();
    let addrs = pc.local_addrs().to_vec();
    assert!(!addrs.is_empty());
    let real: Vec<_> = addrs.iter().filter(|a| !a.ip().is_loopback()).collect();
    // On a host with no interface but loopback, loopback is used instead.
    assert!(real.len() == addrs.len() || addrs.len() == 1, "{addrs:?}");
    let with_lo = PeerConnection::new(PeerConfig {
        include_loopback: true,
        ..PeerConfig::default()
    })
    .await
    .unwrap();
    assert!(with_lo
        .local_addrs()
        .iter()
        .any(|a| a.ip() == std::net::IpAddr::from([127, 0, 0, 1])));
    assert_eq!(with_lo.local_addrs().len(), real.len() + 1);
    pc.create_data_channel("c", ChannelOptions::default())
        .await
        .unwrap();
    let offer = pc.create_offer().await.unwrap();
    pc.set_local_description(offer).await.unwrap();
    let sdp = pc.local_description().await.unwrap().unwrap().sdp;
    for a in &addrs {
        assert!(
            sdp.contains(&format!(" {} {} typ host", a.ip(), a.port())),
            "{sdp}"
        );
    }
}
