//! weft-peer against a real headless Chromium (Debian `chromium`, driven by
//! `tests/browser/peer.mjs`): both offer/answer directions, mDNS host-candidate hiding on and
//! off. The page sends its fake camera (VP8) and microphone and 1000 data channel messages;
//! weft reassembles the frames, counts key frames, echoes every message and every frame
//! back, and the page must decode weft's video (`inbound-rtp` framesDecoded > 0).

// The test is the I/O driver: it reads the real clock.
#![allow(clippy::disallowed_methods)]

#[path = "common/browser.rs"]
mod browser;
#[path = "common/sim.rs"]
mod sim;

use std::net::{SocketAddr, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use browser::{run_browser_args, spawn_browser, BrowserRun, Signal};
use weft_peer::{
    ChannelRef, Event, Input, MediaCounters, MediaKind, MessageKind, Output, Rtc, RtcConfig,
    SessionDescription, TransceiverId,
};
use weft_sctp::EngineKind;

/// What the weft side saw.
#[derive(Debug, Default)]
struct WeftReport {
    echoed: usize,
    video: MediaCounters,
    audio: MediaCounters,
    keyframe_requests: usize,
    dtls_cipher: Option<String>,
    srtp_cipher: Option<String>,
    /// The SCTP association's counters, last seen while it lived.
    sctp: Option<weft_sctp::AssociationStats>,
    /// The largest SCTP packet size seen (weft's engine: the probed PLPMTU).
    sctp_packet_size: Option<u32>,
    /// Channels open, in the order they opened.
    opened: Vec<ChannelRef>,
    /// Messages received, in arrival order.
    received: Vec<(ChannelRef, Vec<u8>)>,
}

struct Weft {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    video: Option<TransceiverId>,
    audio: Option<TransceiverId>,
    /// Messages are echoed back (the default).
    echo: bool,
    report: WeftReport,
}

impl Weft {
    fn new() -> Weft {
        Weft::with_sctp(EngineKind::SctpProto)
    }

    /// Over the SCTP engine `sctp_engine`.
    fn with_sctp(sctp_engine: EngineKind) -> Weft {
        // A receive buffer as large as the system allows (as weft-peer's driver sets its
        // own): Chromium sends in bursts, and this loop is a debug build.
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        let _ = socket.set_recv_buffer_size(4 << 20);
        socket
            .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        let socket: UdpSocket = socket.into();
        let local = socket.local_addr().unwrap();
        let cfg = RtcConfig {
            sctp_engine,
            ..RtcConfig::new(sim::certificate())
        };
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(local.port() as u64).to_le_bytes());
        let mut rtc = Rtc::new(Instant::now(), cfg, seed);
        rtc.add_host_address(local);
        Weft {
            rtc,
            socket,
            local,
            video: None,
            audio: None,
            echo: true,
            report: WeftReport::default(),
        }
    }

    /// weft offers through `signal` (non-trickle) and takes the browser's answer.
    fn offer_through(&mut self, signal: &Signal) {
        let offer = self.rtc.create_offer(Default::default()).unwrap();
        self.rtc.set_local_description(offer).unwrap();
        self.drain();
        signal.provide_offer(&self.rtc.local_description().unwrap().sdp);
        let answer = signal
            .wait_answer(Duration::from_secs(60))
            .expect("the browser's answer");
        self.rtc
            .set_remote_description(SessionDescription::answer(answer))
            .unwrap();
        self.drain();
    }

    /// weft answers the browser's offer through `signal`.
    fn answer_through(&mut self, signal: &Signal) {
        let offer = signal
            .wait_offer(Duration::from_secs(60))
            .expect("the browser's offer");
        self.rtc
            .set_remote_description(SessionDescription::offer(offer))
            .unwrap();
        let answer = self.rtc.create_answer().unwrap();
        self.rtc.set_local_description(answer).unwrap();
        self.drain();
        signal.reply_answer(&self.rtc.local_description().unwrap().sdp);
    }

    /// Sends what the core produced and acts on its events: echo messages and frames.
    fn drain(&mut self) {
        while let Some(o) = self.rtc.poll_output() {
            match o {
                Output::Transmit(t) => {
                    let _ = self.socket.send_to(&t.bytes, t.dst);
                }
                Output::Event(e) => self.on_event(e),
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::ChannelOpen(channel) => self.report.opened.push(channel),
            Event::ChannelMessage {
                channel,
                kind,
                data,
            } => {
                self.report.received.push((channel, data.to_vec()));
                if self.echo && self.rtc.send(channel, kind, &data).is_ok() {
                    self.report.echoed += 1;
                }
            }
            Event::Frame { transceiver, frame } => {
                // Echo the frame on the same transceiver (it is sendrecv).
                let _ = self.rtc.write_frame(
                    Instant::now(),
                    transceiver,
                    Some(frame.payload_type),
                    frame.timestamp,
                    &frame.data,
                );
            }
            Event::KeyframeRequest { transceiver } => {
                // The page asks us for a key frame: ask the page's camera for one.
                self.report.keyframe_requests += 1;
                let _ = self.rtc.request_keyframe(transceiver);
            }
            Event::Track {
                transceiver, kind, ..
            } => match kind {
                MediaKind::Video => self.video = Some(transceiver),
                MediaKind::Audio => self.audio = Some(transceiver),
            },
            _ => {}
        }
    }

    /// Runs the core over the socket until the browser run ends.
    fn run(&mut self, browser: &JoinHandle<BrowserRun>, limit: Duration) {
        self.run_with(browser, limit, |_| {});
    }

    /// As [`run`](Self::run), calling `step` after each turn of the loop.
    fn run_with(
        &mut self,
        browser: &JoinHandle<BrowserRun>,
        limit: Duration,
        mut step: impl FnMut(&mut Weft),
    ) {
        let end = Instant::now() + limit;
        let mut buf = vec![0u8; 2048];
        let mut stats_at = Instant::now();
        while !browser.is_finished() && Instant::now() < end {
            step(self);
            let now = Instant::now();
            let wait = self
                .rtc
                .poll_timeout()
                .map(|t| t.saturating_duration_since(now))
                .unwrap_or(Duration::from_millis(50))
                .clamp(Duration::from_millis(1), Duration::from_millis(50));
            self.socket.set_read_timeout(Some(wait)).unwrap();
            // Everything queued on the socket is read before the next turn: one datagram
            // per turn let the kernel's receive buffer overflow under Chromium's bursts
            // ("receive buffer errors" in `netstat -su`), and Chromium resent what it took
            // for lost.
            let mut got = self.socket.recv_from(&mut buf).ok();
            self.socket.set_nonblocking(true).unwrap();
            let mut batch = 0;
            while let Some((n, src)) = got {
                self.rtc.handle_input(
                    Instant::now(),
                    Input::Receive {
                        local: self.local,
                        src,
                        bytes: &buf[..n],
                    },
                );
                batch += 1;
                got = if batch < 256 {
                    self.socket.recv_from(&mut buf).ok()
                } else {
                    None
                };
            }
            self.socket.set_nonblocking(false).unwrap();
            let now = Instant::now();
            if self.rtc.poll_timeout().is_some_and(|t| t <= now) {
                self.rtc.handle_timeout(now);
            }
            self.drain();
            if now < stats_at {
                continue;
            }
            stats_at = now + Duration::from_millis(20);
            if let Some(s) = self.rtc.sctp_stats() {
                self.report.sctp = Some(s);
            }
            // The association goes when the page closes: its packet size is read while it
            // runs, the largest kept (a later fall back to the base after losses on a
            // loaded machine does not undo what a probe proved).
            for s in self.rtc.stats() {
                if let weft_peer::Stats::Transport(t) = s {
                    if t.sctp_packet_size > self.report.sctp_packet_size {
                        self.report.sctp_packet_size = t.sctp_packet_size;
                    }
                }
            }
        }
        for s in self.rtc.stats() {
            if let weft_peer::Stats::Transport(t) = s {
                self.report.dtls_cipher = t.dtls_cipher;
                self.report.srtp_cipher = t.srtp_cipher;
            }
        }
        if let Some(v) = self.video {
            self.report.video = self.rtc.media_counters(v).unwrap();
        }
        if let Some(a) = self.audio {
            self.report.audio = self.rtc.media_counters(a).unwrap();
        }
    }
}

fn check(run: &BrowserRun, weft: &WeftReport) {
    eprintln!("browser: {}", run.json);
    eprintln!("weft: {weft:?}");
    assert!(run.ok, "browser run failed: {}\n{}", run.json, run.stderr);
    let j = &run.json;
    assert_eq!(j["connectionState"], "connected", "{j}");
    assert_eq!(j["echoed"], 1000, "{j}");
    // The page decoded weft's echo of its own camera.
    let decoded = j["inbound"]["video"]["framesDecoded"].as_u64().unwrap_or(0);
    assert!(decoded > 0, "the page decoded no video from weft: {j}");
    // weft reassembled the camera's VP8 into frames, key frames among them.
    assert!(weft.video.frames_received > 0, "{weft:?}");
    assert!(weft.video.keyframes_received > 0, "{weft:?}");
    assert!(weft.audio.frames_received > 0, "{weft:?}");
    assert!(weft.echoed >= 1000, "{weft:?}");
    // Both ends agree on what DTLS negotiated (W3C transport stats on each side).
    assert_eq!(
        j["transport"]["dtlsCipher"].as_str(),
        weft.dtls_cipher.as_deref(),
        "{j}"
    );
    assert_eq!(
        j["transport"]["srtpCipher"].as_str(),
        weft.srtp_cipher.as_deref(),
        "{j}"
    );
}

/// Over weft's SCTP engine, path MTU discovery (RFC 8899) raised the packet size above the
/// 1200-byte base: Chromium's SCTP acknowledged a HEARTBEAT + PAD probe over loopback. The
/// cap for IPv4 is 1500 - 20 - 8 - 37 (DTLS AES-GCM) = 1435, probed as 1432.
fn check_sctp_packet_size(sctp: EngineKind, weft: &WeftReport) {
    if sctp == EngineKind::Weft {
        let size = weft.sctp_packet_size.expect("an SCTP association");
        assert!(size > 1200, "PLPMTU {size}");
        assert!(size <= 1432, "PLPMTU {size}");
    } else {
        assert_eq!(weft.sctp_packet_size, Some(1200));
    }
}

/// Chromium offers (data channel + camera + microphone); weft answers, adding its own
/// tracks to the offered transceivers to echo the media back.
fn chromium_offers(mdns: bool, sctp: EngineKind) {
    let signal = Signal::start();
    let Some(browser) = spawn_browser(&signal.url(), "offer", mdns, 1000, "video", 60) else {
        return;
    };
    let mut weft = Weft::with_sctp(sctp);
    let offer = signal
        .wait_offer(Duration::from_secs(60))
        .expect("the browser's offer");
    weft.rtc
        .set_remote_description(SessionDescription::offer(offer))
        .unwrap();
    weft.drain();
    let (video, audio) = (weft.video.expect("video track"), weft.audio.expect("audio"));
    assert_eq!(
        weft.rtc.add_track(MediaKind::Video, "weft", "echo-video"),
        video
    );
    assert_eq!(
        weft.rtc.add_track(MediaKind::Audio, "weft", "echo-audio"),
        audio
    );
    let answer = weft.rtc.create_answer().unwrap();
    weft.rtc.set_local_description(answer).unwrap();
    weft.drain();
    let answer = weft.rtc.local_description().unwrap();
    signal.reply_answer(&answer.sdp);
    weft.run(&browser, Duration::from_secs(90));
    let run = browser.join().unwrap();
    check(&run, &weft.report);
    check_engine(&weft, sctp);
    check_sctp_packet_size(sctp, &weft.report);
}

/// Over weft's SCTP engine: the engine's view of the association with Chromium's dcsctp:
/// no packet of Chromium's dropped (bad checksum, tag, malformed), data acknowledged.
fn check_engine(weft: &Weft, sctp: EngineKind) {
    if sctp != EngineKind::Weft {
        return;
    }
    let stats = weft.report.sctp.clone().expect("an SCTP association");
    let e = stats.engine.expect("weft's engine counters");
    eprintln!("weft engine with Chromium: {e:?}");
    assert_eq!(e.packets_dropped, 0, "{e:?}");
    assert!(e.packets_received > 0 && e.sacks_received > 0, "{e:?}");
    // Chromium resent little: with this loop reading one datagram per turn from a default
    // receive buffer, the kernel dropped bursts and 80 % of the chunks came twice or more.
    assert!(e.duplicates_received * 2 < e.data_chunks_received, "{e:?}");
    assert!(
        e.data_chunks_sent > 0 && e.data_chunks_received > 0,
        "{e:?}"
    );
}

/// weft offers (data channel `echo`, a sendrecv audio and video transceiver); Chromium
/// answers with its camera and microphone.
fn weft_offers(mdns: bool, sctp: EngineKind) {
    let signal = Signal::start();
    let Some(browser) = spawn_browser(&signal.url(), "answer", mdns, 1000, "video", 60) else {
        return;
    };
    let mut weft = Weft::with_sctp(sctp);
    weft.audio = Some(weft.rtc.add_track(MediaKind::Audio, "weft", "echo-audio"));
    weft.video = Some(weft.rtc.add_track(MediaKind::Video, "weft", "echo-video"));
    weft.rtc
        .create_data_channel("echo", Default::default())
        .unwrap();
    weft.offer_through(&signal);
    weft.run(&browser, Duration::from_secs(90));
    let run = browser.join().unwrap();
    check(&run, &weft.report);
    check_engine(&weft, sctp);
    check_sctp_packet_size(sctp, &weft.report);
}

#[test]
fn chromium_offers_weft_answers_mdns_off() {
    chromium_offers(false, EngineKind::SctpProto);
}

#[test]
fn chromium_offers_weft_answers_mdns_on() {
    chromium_offers(true, EngineKind::SctpProto);
}

#[test]
fn weft_offers_chromium_answers_mdns_off() {
    weft_offers(false, EngineKind::SctpProto);
}

#[test]
fn weft_offers_chromium_answers_mdns_on() {
    weft_offers(true, EngineKind::SctpProto);
}

/// The data channel over weft's own SCTP engine (issue 12), Chromium offering.
#[test]
fn chromium_offers_weft_answers_over_the_weft_sctp_engine() {
    chromium_offers(false, EngineKind::Weft);
}

/// The data channel over weft's own SCTP engine (issue 12), weft offering.
#[test]
fn weft_offers_chromium_answers_over_the_weft_sctp_engine() {
    weft_offers(false, EngineKind::Weft);
}

/// Chromium with its message interleaving on (field trial
/// WebRTC-DataChannelMessageInterleaving) declares I-DATA and I-FORWARD-TSN (RFC 8260);
/// weft's engine does too, so the association runs on I-DATA. Chromium offers a
/// data-channel-only session and sends 1000 messages; weft echoes each; nothing of
/// Chromium's is dropped.
#[test]
fn chromium_and_weft_talk_idata_when_chromium_interleaves() {
    let Some((run, weft)) = chromium_offers_data_only(&["--interleaving"]) else {
        return;
    };
    assert_eq!(run.json["echoed"], 1000, "{}", run.json);
    assert_eq!(weft.report.echoed, 1000);
    let e = weft.report.sctp.clone().unwrap().engine.unwrap();
    eprintln!("weft engine with Chromium (I-DATA): {e:?}");
    assert!(e.interleaving, "{e:?}");
    assert_eq!(e.packets_dropped, 0, "{e:?}");
    assert!(
        e.data_chunks_received >= 1000 && e.data_chunks_sent >= 1000,
        "{e:?}"
    );
}

/// Chromium offers with no media and `extra` flags for peer.mjs; weft answers over its own
/// SCTP engine and echoes. `None` when the browser is missing outside CI.
fn chromium_offers_data_only(extra: &[&str]) -> Option<(BrowserRun, Weft)> {
    let signal = Signal::start();
    let url = signal.url();
    if browser::browser_missing().is_some() && std::env::var("CI").as_deref() != Ok("true") {
        eprintln!("skipping: no browser (run scripts/setup)");
        return None;
    }
    let mut args: Vec<String> = [
        "--role",
        "offer",
        "--mdns",
        "off",
        "--media",
        "off",
        "--messages",
        "1000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let browser = std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_browser_args(&url, &args, 60).expect("browser present (checked above)")
    });
    let mut weft = Weft::with_sctp(EngineKind::Weft);
    weft.answer_through(&signal);
    weft.run(&browser, Duration::from_secs(90));
    let run = browser.join().unwrap();
    eprintln!("browser: {}", run.json);
    assert!(run.ok, "browser run failed: {}\n{}", run.json, run.stderr);
    Some((run, weft))
}

/// One message on each of two channels weft opens, in this order: (label, priority,
/// message). Chromium answers with `--echo` (and `--interleaving` when asked), echoes
/// both and reports the order they reached it in. Returns Chromium's run and weft's side
/// (the echoes in `report.received`), with the channels' refs; `None` when skipped.
fn race(
    interleaving: bool,
    first: (&str, u16, &[u8]),
    second: (&str, u16, &[u8]),
) -> Option<(BrowserRun, Weft, [ChannelRef; 2])> {
    let signal = Signal::start();
    let url = signal.url();
    if browser::browser_missing().is_some() && std::env::var("CI").as_deref() != Ok("true") {
        eprintln!("skipping: no browser (run scripts/setup)");
        return None;
    }
    let browser = std::thread::spawn(move || {
        let mut args = vec![
            "--role",
            "answer",
            "--mdns",
            "off",
            "--media",
            "off",
            "--echo",
            "--messages",
            "2",
        ];
        if interleaving {
            args.push("--interleaving");
        }
        run_browser_args(&url, &args, 60).expect("browser present (checked above)")
    });
    let mut weft = Weft::with_sctp(EngineKind::Weft);
    weft.echo = false;
    let mut open = |(label, priority, _): (&str, u16, &[u8])| {
        let options = weft_peer::ChannelOptions {
            priority,
            ..Default::default()
        };
        weft.rtc.create_data_channel(label, options).unwrap()
    };
    let refs = [open(first), open(second)];
    weft.offer_through(&signal);
    let mut sent = false;
    weft.run_with(&browser, Duration::from_secs(90), |w| {
        if !sent && refs.iter().all(|r| w.report.opened.contains(r)) {
            w.rtc.send(refs[0], MessageKind::Binary, first.2).unwrap();
            w.rtc.send(refs[1], MessageKind::Binary, second.2).unwrap();
            w.drain();
            sent = true;
        }
    });
    let run = browser.join().unwrap();
    eprintln!("browser: {}", run.json);
    assert!(run.ok, "browser run failed: {}\n{}", run.json, run.stderr);
    let e = weft.report.sctp.clone().unwrap().engine.unwrap();
    eprintln!("weft engine: {e:?}");
    assert_eq!(e.interleaving, interleaving, "{e:?}");
    assert_eq!(e.packets_dropped, 0, "{e:?}");
    Some((run, weft, refs))
}

/// Interleaving seen from outside (RFC 8260 §3): weft opens two channels and sends a
/// 200 KB message on the first, then a 5-byte one on the second; Chromium echoes both and
/// reports the order they reached it in. With I-DATA on both sides the small message
/// passes the large one; without it (Chromium's default, DATA) a message's fragments take
/// consecutive TSNs, and the large one, sent first, arrives first. The echoes come back
/// whole. (Their order says nothing of weft: Chromium's own scheduler sends the smaller
/// first either way.)
fn small_message_passes_a_large_one(interleaving: bool) {
    let large: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let Some((run, weft, [big, small])) =
        race(interleaving, ("big", 256, &large), ("small", 256, b"small"))
    else {
        return;
    };
    let want = if interleaving {
        serde_json::json!([["small", 5], ["big", 200_000]])
    } else {
        serde_json::json!([["big", 200_000], ["small", 5]])
    };
    assert_eq!(
        run.json["arrivals"], want,
        "what reached Chromium, in order"
    );
    let mut got = weft.report.received.clone();
    got.sort_by_key(|m| m.1.len());
    assert_eq!(got, [(small, b"small".to_vec()), (big, large)]);
}

/// Channel priorities (RFC 8831 §6.4) weigh the turns of weft's I-DATA scheduler: weft
/// sends a 200 KB message on a normal channel, then one on a channel of `urgent` priority;
/// Chromium (interleaving on) reports which arrived first. At 1024 (extra high) the second
/// one takes four chunks per turn against one and arrives first; at 256 (equal) the first
/// one stays ahead.
fn priority_decides_which_large_message_arrives_first(urgent: u16) {
    let large = vec![7u8; 200_000];
    let Some((run, _, _)) = race(true, ("bulk", 256, &large), ("urgent", urgent, &large)) else {
        return;
    };
    let want = if urgent > 256 {
        serde_json::json!([["urgent", 200_000], ["bulk", 200_000]])
    } else {
        serde_json::json!([["bulk", 200_000], ["urgent", 200_000]])
    };
    assert_eq!(
        run.json["arrivals"], want,
        "what reached Chromium, in order"
    );
}

#[test]
fn an_extra_high_priority_channel_overtakes_a_normal_one_at_chromium() {
    priority_decides_which_large_message_arrives_first(1024);
}

#[test]
fn equal_priority_channels_keep_their_order_at_chromium() {
    priority_decides_which_large_message_arrives_first(256);
}

#[test]
fn with_idata_a_small_message_passes_a_large_one_through_chromium() {
    small_message_passes_a_large_one(true);
}

#[test]
fn with_data_a_small_message_waits_for_a_large_one_through_chromium() {
    small_message_passes_a_large_one(false);
}

/// Without the media permission Chromium hides its host addresses behind `<uuid>.local`
/// names (mDNS on, its default) and offers no loopback candidate. weft does not resolve the
/// names; it finds the path from Chromium's own checks, as a peer-reflexive candidate
/// (RFC 8445 §7.3.1.3), and the data channel works.
#[test]
fn chromium_hides_addresses_behind_mdns_data_channel_only() {
    let signal = Signal::start();
    let url = signal.url();
    if browser::browser_missing().is_some() && std::env::var("CI").as_deref() != Ok("true") {
        eprintln!("skipping: no browser (run scripts/setup)");
        return;
    }
    let browser = std::thread::spawn(move || {
        let args = [
            "--role",
            "offer",
            "--mdns",
            "on",
            "--media",
            "off",
            "--messages",
            "1000",
        ];
        run_browser_args(&url, &args, 60).expect("browser present (checked above)")
    });
    let mut weft = Weft::new();
    let offer = signal
        .wait_offer(Duration::from_secs(60))
        .expect("the browser's offer");
    // The offer's host candidates are mDNS names, never IP addresses.
    let candidates: Vec<&str> = offer
        .lines()
        .filter(|l| l.starts_with("a=candidate:") && l.contains(" udp "))
        .collect();
    assert!(!candidates.is_empty(), "{offer}");
    assert!(
        candidates.iter().all(|c| c.contains(".local")),
        "{candidates:?}"
    );
    weft.rtc
        .set_remote_description(SessionDescription::offer(offer))
        .unwrap();
    let answer = weft.rtc.create_answer().unwrap();
    weft.rtc.set_local_description(answer).unwrap();
    weft.drain();
    signal.reply_answer(&weft.rtc.local_description().unwrap().sdp);
    weft.run(&browser, Duration::from_secs(90));
    let run = browser.join().unwrap();
    eprintln!("browser: {}", run.json);
    assert!(run.ok, "browser run failed: {}\n{}", run.json, run.stderr);
    assert_eq!(run.json["echoed"], 1000);
    assert_eq!(weft.report.echoed, 1000);
    // The pair weft selected uses the address Chromium's checks came from.
    let pair = weft
        .rtc
        .ice_agent()
        .selected_pair()
        .expect("a selected pair");
    eprintln!("weft selected pair: {pair:?}");
    assert_eq!(pair.remote.kind, weft_ice::CandidateKind::PeerReflexive);
}
