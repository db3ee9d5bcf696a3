//! `weft echo client`: the client peer of both echo tests; exits 0 on success, 1 on
//! failure or timeout.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ring::rand::{SecureRandom, SystemRandom};
use weft_peer::{
    ChannelOptions, Direction, MediaKind, PeerConfig, PeerConnection, SdpType, TransceiverId,
};

use super::http::{offer_url, post_json};
use super::{description_json, ms, parse_description, Transport};

/// How long candidate gathering may take before the offer goes out anyway.
const GATHER_LIMIT: Duration = Duration::from_secs(5);
/// Packets that must come back on every transceiver the server sends on (test 0).
const ECHOED_PACKETS: u64 = 3;
/// Audio pacing: a 20 ms Opus frame (RFC 7587) every tick; a video frame every other.
const TICK: Duration = Duration::from_millis(20);

/// What the summary line reports.
#[derive(Default)]
struct Report {
    connected: Option<Duration>,
    rtt: Option<Duration>,
    /// (kind, packets sent, packets echoed) per transceiver, test 0.
    media: Vec<(MediaKind, u64, u64)>,
}

/// Runs one test against `server` (`http://HOST:PORT` or the full offer URL).
pub fn run(server: &str, test: u8, timeout: Duration) -> Result<(), String> {
    if test > 1 {
        return Err(format!(
            "unknown test type {test} (0: peer connection, 1: data channel echo)"
        ));
    }
    let url = offer_url(server)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        // A loopback server is reached from loopback; any other from the host's primary
        // addresses.
        let host = url.host().unwrap_or("");
        let bind = match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) if ip.is_loopback() => vec![ip],
            _ if host == "localhost" => vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            _ => Vec::new(),
        };
        let config = PeerConfig {
            bind,
            ..PeerConfig::default()
        };
        let pc = Arc::new(
            PeerConnection::new(config)
                .await
                .map_err(|e| format!("peer connection: {e}"))?,
        );
        // The events nobody else takes (states, frames, key frame requests).
        let events = pc.clone();
        tokio::spawn(async move { while events.next_event().await.is_some() {} });
        let mut report = Report::default();
        let result =
            match tokio::time::timeout(timeout, exchange(&pc, &url, test, &mut report)).await {
                Ok(r) => r,
                Err(_) => Err(format!("timeout after {} s", timeout.as_secs_f64())),
            };
        let transport = Transport::of(&pc).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), pc.close()).await;
        let mut line = format!(
            "weft echo client: test={test} result={} {} connected_ms={}",
            if result.is_ok() { "ok" } else { "fail" },
            transport.fields(),
            report.connected.map_or_else(|| "-".to_owned(), ms),
        );
        match test {
            1 => line.push_str(&format!(
                " echo_rtt_ms={}",
                report.rtt.map_or_else(|| "-".to_owned(), ms)
            )),
            _ => {
                for (kind, sent, echoed) in &report.media {
                    let k = match kind {
                        MediaKind::Audio => "audio",
                        MediaKind::Video => "video",
                    };
                    line.push_str(&format!(" {k}_sent={sent} {k}_echoed={echoed}"));
                }
            }
        }
        if let Err(e) = &result {
            line.push_str(&format!(" error={e:?}"));
        }
        println!("{line}");
        result
    })
}

/// Signalling, connection and the test itself.
async fn exchange(
    pc: &PeerConnection,
    url: &hyper::Uri,
    test: u8,
    report: &mut Report,
) -> Result<(), String> {
    let mut channel = None;
    let mut tracks = Vec::new();
    if test == 1 {
        channel = Some(
            pc.create_data_channel("echo", ChannelOptions::default())
                .await
                .map_err(err("createDataChannel"))?,
        );
    } else {
        for kind in [MediaKind::Audio, MediaKind::Video] {
            let name = match kind {
                MediaKind::Audio => "audio",
                MediaKind::Video => "video",
            };
            let t = pc
                .add_track(kind, "weft-echo", &format!("weft-{name}"))
                .await
                .map_err(err("addTrack"))?;
            tracks.push((kind, t));
        }
    }
    let started = Instant::now();
    let offer = pc.create_offer().await.map_err(err("createOffer"))?;
    pc.set_local_description(offer)
        .await
        .map_err(err("setLocalDescription"))?;
    // Non-trickle: the offer goes out with its candidates (past the limit, with those
    // gathered so far).
    let _ = tokio::time::timeout(GATHER_LIMIT, pc.gathering_complete()).await;
    let offer = pc
        .local_description()
        .await
        .map_err(err("localDescription"))?
        .ok_or("no local description")?;
    let body = post_json(url, description_json(&offer).to_string()).await?;
    let answer = parse_description(&body, SdpType::Answer).map_err(|e| format!("answer: {e}"))?;
    pc.set_remote_description(answer)
        .await
        .map_err(err("setRemoteDescription"))?;
    pc.connected().await.map_err(err("connection"))?;
    report.connected = Some(started.elapsed());

    if let Some(dc) = channel {
        dc.opened().await.map_err(err("data channel"))?;
        let text = random_text()?;
        let sent_at = Instant::now();
        dc.send_text(&text).await.map_err(err("send"))?;
        loop {
            let m = dc
                .recv()
                .await
                .ok_or("the data channel closed before the echo came back")?;
            if m.text() == Some(text.as_str()) {
                report.rtt = Some(sent_at.elapsed());
                return Ok(());
            }
        }
    }
    send_until_echoed(pc, &tracks, report).await
}

/// Test 0: sends fake Opus and VP8 frames until every transceiver the server sends on has
/// echoed packets back.
async fn send_until_echoed(
    pc: &PeerConnection,
    tracks: &[(MediaKind, TransceiverId)],
    report: &mut Report,
) -> Result<(), String> {
    let mut echoing = Vec::new();
    for &(kind, t) in tracks {
        let dir = pc
            .current_direction(t)
            .await
            .map_err(|e| format!("currentDirection: {e}"))?;
        // The answer says whether the server sends on it (RFC 8829 §5.3.1).
        if dir == Some(Direction::SendRecv) {
            echoing.push((kind, t));
        }
    }
    if echoing.is_empty() {
        return Err("the answer sends no media back (no sendrecv transceiver)".to_owned());
    }
    let mut tick = tokio::time::interval(TICK);
    let mut i: u32 = 0;
    loop {
        tick.tick().await;
        for &(kind, t) in &echoing {
            let frame = match kind {
                MediaKind::Audio => Some((i.wrapping_mul(960), opus_frame(i))),
                // Fake VP8 frames: first byte 0x10 (RFC 6386 §9.1: P bit clear, a key frame).
                MediaKind::Video if i.is_multiple_of(2) => {
                    Some((i.wrapping_mul(1800), vp8_frame(i)))
                }
                MediaKind::Video => None,
            };
            if let Some((ts, data)) = frame {
                pc.write_frame(t, None, ts, data)
                    .await
                    .map_err(|e| format!("writeFrame: {e}"))?;
            }
        }
        i = i.wrapping_add(1);
        report.media.clear();
        let mut done = true;
        for &(kind, t) in &echoing {
            let c = pc
                .media_counters(t)
                .await
                .map_err(|e| format!("counters: {e}"))?;
            report
                .media
                .push((kind, c.packets_sent, c.packets_received));
            done &= c.packets_received >= ECHOED_PACKETS;
        }
        if done {
            return Ok(());
        }
    }
}

/// Maps an API error to the message of the step that failed.
fn err(what: &'static str) -> impl Fn(weft_peer::RtcError) -> String {
    move |e| format!("{what}: {e}")
}

fn opus_frame(i: u32) -> Vec<u8> {
    // TOC 0xfc: CELT-only fullband 20 ms, one frame (RFC 6716 §3.1); the rest is filler.
    let mut f = vec![0xfc];
    f.extend_from_slice(&i.to_be_bytes());
    f.resize(60, 0x55);
    f
}

fn vp8_frame(i: u32) -> Vec<u8> {
    let mut f = vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a];
    f.extend_from_slice(&i.to_be_bytes());
    f.resize(1500, (i & 0xff) as u8);
    f
}

/// A short random string (the convention's payload): 12 random bytes as hex.
fn random_text() -> Result<String, String> {
    let mut b = [0u8; 12];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| "system RNG failed".to_owned())?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}
