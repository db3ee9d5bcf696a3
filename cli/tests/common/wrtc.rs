//! webrtc-rs (the `webrtc` crate, 0.21) peers that follow the "WebRTC echo" convention, for
//! the interop tests of `weft echo serve` and `weft echo client`:
//! - [`serve`]: an axum `POST /offer` handler whose answer comes from a webrtc-rs
//!   `PeerConnection` that echoes every data channel message and every RTP packet (on a
//!   `TrackLocalStaticRTP` of the same kind, as webrtc-rs's own `reflect` example does);
//! - [`client`]: a webrtc-rs client peer for test 0 (Opus and VP8 samples out, echoed RTP
//!   counted) and test 1 (one random string echoed on a data channel).

#![allow(dead_code)]
// Test harness code: real sockets, real deadlines.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes as AxumBytes;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use bytes::{Bytes, BytesMut};
use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{watch, Mutex};
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::media_stream::Track;
use webrtc::peer_connection::{
    register_default_interceptors, MediaEngine, PeerConnection, PeerConnectionBuilder,
    PeerConnectionEventHandler, RTCConfigurationBuilder, RTCIceGatheringState,
    RTCPeerConnectionState, RTCSessionDescription, Registry,
};
use webrtc::rtp_transceiver::RtpSender;

/// RTP packets received per kind.
#[derive(Default)]
pub struct Counts {
    pub audio: AtomicU64,
    pub video: AtomicU64,
    pub messages: AtomicU64,
}

/// What a webrtc-rs peer does with what it receives.
#[derive(Clone)]
struct Handler {
    gathered: Arc<watch::Sender<bool>>,
    state: Arc<watch::Sender<RTCPeerConnectionState>>,
    /// Server: echo data channel messages.
    echo_channels: bool,
    /// Server: the output track of each kind RTP is echoed on; client: none (count only).
    outputs: Arc<Mutex<HashMap<RtpCodecKind, Arc<dyn TrackLocal>>>>,
    counts: Arc<Counts>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.send_replace(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.state.send_replace(state);
    }

    async fn on_data_channel(&self, dc: Arc<dyn DataChannel>) {
        if !self.echo_channels {
            return;
        }
        let counts = self.counts.clone();
        tokio::spawn(async move {
            while let Some(e) = dc.poll().await {
                if let DataChannelEvent::OnMessage(m) = e {
                    let r = if m.is_string {
                        dc.send_text(&String::from_utf8_lossy(&m.data)).await
                    } else {
                        dc.send(BytesMut::from(&m.data[..])).await
                    };
                    if r.is_err() {
                        break;
                    }
                    counts.messages.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let kind = track.kind().await;
        let output = self.outputs.lock().await.get(&kind).cloned();
        let counts = self.counts.clone();
        tokio::spawn(async move {
            let out_ssrc = match &output {
                Some(o) => o.ssrcs().await.first().copied(),
                None => None,
            };
            while let Some(e) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(mut p) = e {
                    match kind {
                        RtpCodecKind::Audio => counts.audio.fetch_add(1, Ordering::Relaxed),
                        _ => counts.video.fetch_add(1, Ordering::Relaxed),
                    };
                    if let (Some(o), Some(ssrc)) = (&output, out_ssrc) {
                        p.header.ssrc = ssrc;
                        let _ = o.write_rtp(p).await;
                    }
                }
            }
        });
    }
}

/// A webrtc-rs peer connection on `127.0.0.1:<ephemeral>`.
pub struct Wrtc {
    pub pc: Arc<dyn PeerConnection>,
    gathered: watch::Receiver<bool>,
    pub state: watch::Receiver<RTCPeerConnectionState>,
    outputs: Arc<Mutex<HashMap<RtpCodecKind, Arc<dyn TrackLocal>>>>,
    pub counts: Arc<Counts>,
}

fn codec(kind: RtpCodecKind) -> RTCRtpCodec {
    match kind {
        RtpCodecKind::Audio => RTCRtpCodec {
            mime_type: MIME_TYPE_OPUS.to_owned(),
            clock_rate: 48000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
            rtcp_feedback: vec![],
        },
        _ => RTCRtpCodec {
            mime_type: MIME_TYPE_VP8.to_owned(),
            clock_rate: 90000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        },
    }
}

fn stream_track(kind: RtpCodecKind, ssrc: u32) -> MediaStreamTrack {
    MediaStreamTrack::new(
        "wrtc-stream".to_owned(),
        format!("wrtc-{kind}"),
        format!("wrtc-{kind}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: codec(kind),
            ..Default::default()
        }],
    )
}

impl Wrtc {
    pub async fn new(echo: bool) -> Wrtc {
        let mut media = MediaEngine::default();
        media.register_default_codecs().unwrap();
        let registry = register_default_interceptors(Registry::new(), &mut media).unwrap();
        let settings = SettingEngineBuilder::new()
            .with_include_loopback_candidate(true)
            .with_network_types(vec![NetworkType::Udp4])
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .build();
        let (gathered_tx, gathered) = watch::channel(false);
        let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
        let outputs = Arc::new(Mutex::new(HashMap::new()));
        let counts = Arc::new(Counts::default());
        let pc = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .with_handler(Arc::new(Handler {
                gathered: Arc::new(gathered_tx),
                state: Arc::new(state_tx),
                echo_channels: echo,
                outputs: outputs.clone(),
                counts: counts.clone(),
            }))
            .with_udp_addrs(vec!["127.0.0.1:0"])
            .build()
            .await
            .unwrap();
        Wrtc {
            pc: Arc::new(pc),
            gathered,
            state,
            outputs,
            counts,
        }
    }

    /// Server: an RTP output track of `kind` that echoes what arrives on that kind.
    async fn add_echo_output(&self, kind: RtpCodecKind, ssrc: u32) {
        let out: Arc<dyn TrackLocal> = Arc::new(TrackLocalStaticRTP::new(stream_track(kind, ssrc)));
        self.pc.add_track(Arc::clone(&out)).await.unwrap();
        self.outputs.lock().await.insert(kind, out);
    }

    /// Applies a local description, waits for gathering (non-trickle) and returns it.
    async fn set_local_and_gather(&mut self, desc: RTCSessionDescription) -> RTCSessionDescription {
        self.pc.set_local_description(desc).await.unwrap();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.gathered.wait_for(|g| *g)).await;
        self.pc.local_description().await.unwrap()
    }

    pub async fn connected(&mut self) -> bool {
        self.state
            .wait_for(|s| {
                matches!(
                    s,
                    RTCPeerConnectionState::Connected
                        | RTCPeerConnectionState::Failed
                        | RTCPeerConnectionState::Closed
                )
            })
            .await
            .map(|s| *s == RTCPeerConnectionState::Connected)
            .unwrap_or(false)
    }
}

// --- the server peer -------------------------------------------------------------------

/// The webrtc-rs peers a server made (kept alive until the server is dropped).
pub type Peers = Arc<std::sync::Mutex<Vec<Wrtc>>>;

/// Serves `POST /offer` on `127.0.0.1:0` with webrtc-rs echo peers; returns the base URL
/// and the peers made so far.
pub async fn serve() -> (String, Peers) {
    let peers: Peers = Arc::default();
    let p = peers.clone();
    let app = Router::new().route(
        "/offer",
        post(move |body: AxumBytes| {
            let peers = p.clone();
            async move {
                let offer: RTCSessionDescription = match serde_json::from_slice(&body) {
                    Ok(o) => o,
                    Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()),
                };
                let mut w = Wrtc::new(true).await;
                // As webrtc-rs's `reflect` example: output tracks first, then the offer
                // (the offered transceivers take them, sendrecv).
                if offer.sdp.contains("m=audio") {
                    w.add_echo_output(RtpCodecKind::Audio, 0x2000_0001).await;
                }
                if offer.sdp.contains("m=video") {
                    w.add_echo_output(RtpCodecKind::Video, 0x2000_0002).await;
                }
                if let Err(e) = w.pc.set_remote_description(offer).await {
                    return (StatusCode::BAD_REQUEST, e.to_string());
                }
                let answer = w.pc.create_answer(None).await.unwrap();
                let answer = w.set_local_and_gather(answer).await;
                peers.lock().unwrap().push(w);
                (StatusCode::OK, serde_json::to_string(&answer).unwrap())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), peers)
}

// --- the client peer -------------------------------------------------------------------

/// What a webrtc-rs client run measured.
#[derive(Debug, Default)]
pub struct ClientRun {
    pub connected: Option<Duration>,
    pub rtt: Option<Duration>,
    pub audio_echoed: u64,
    pub video_echoed: u64,
}

async fn post_offer(
    url: &str,
    offer: &RTCSessionDescription,
) -> Result<RTCSessionDescription, String> {
    let uri = crate::http::offer_url(url)?;
    let body = crate::http::post_json(&uri, serde_json::to_string(offer).unwrap()).await?;
    serde_json::from_slice(&body).map_err(|e| format!("answer: {e}"))
}

async fn write_sample(
    track: &TrackLocalStaticSample,
    sender: &Arc<dyn RtpSender>,
    data: Vec<u8>,
    d: Duration,
) {
    let pt = sender
        .get_parameters()
        .await
        .unwrap()
        .rtp_parameters
        .codecs
        .first()
        .expect("negotiated codec")
        .payload_type;
    let ssrc = track.ssrcs().await[0];
    track
        .sample_writer(ssrc, pt)
        .write_sample(&Sample {
            data: Bytes::from(data),
            duration: d,
            ..Sample::new(Instant::now())
        })
        .await
        .unwrap();
}

/// Runs one echo test as a webrtc-rs client against `url`; `Err` says what failed.
pub async fn client(url: &str, test: u8) -> Result<ClientRun, String> {
    let mut w = Wrtc::new(false).await;
    let mut run = ClientRun::default();
    let mut dc = None;
    let mut tracks = Vec::new();
    if test == 1 {
        dc = Some(w.pc.create_data_channel("echo", None).await.unwrap());
    } else {
        for (kind, ssrc) in [
            (RtpCodecKind::Audio, 0x3000_0001),
            (RtpCodecKind::Video, 0x3000_0002),
        ] {
            let track = Arc::new(
                TrackLocalStaticSample::new(Instant::now(), stream_track(kind, ssrc)).unwrap(),
            );
            let sender =
                w.pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
                    .await
                    .unwrap();
            tracks.push((kind, track, sender));
        }
    }
    let started = Instant::now();
    let offer = w.pc.create_offer(None).await.unwrap();
    let offer = w.set_local_and_gather(offer).await;
    let answer = post_offer(url, &offer).await?;
    w.pc.set_remote_description(answer)
        .await
        .map_err(|e| format!("setRemoteDescription: {e}"))?;
    if !w.connected().await {
        return Err(format!("not connected: {:?}", *w.state.borrow()));
    }
    run.connected = Some(started.elapsed());
    if let Some(dc) = dc {
        loop {
            match dc.poll().await {
                Some(DataChannelEvent::OnOpen) => break,
                Some(_) => {}
                None => return Err("channel closed before open".into()),
            }
        }
        let text = format!("wrtc-{:x}", started.elapsed().as_nanos());
        let sent = Instant::now();
        dc.send_text(&text).await.map_err(|e| e.to_string())?;
        loop {
            match dc.poll().await {
                Some(DataChannelEvent::OnMessage(m))
                    if m.is_string && m.data[..] == *text.as_bytes() =>
                {
                    run.rtt = Some(sent.elapsed());
                    break;
                }
                Some(_) => {}
                None => return Err("channel closed before the echo".into()),
            }
        }
    } else {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for i in 0u32..500 {
            tick.tick().await;
            for (kind, track, sender) in &tracks {
                match kind {
                    RtpCodecKind::Audio => {
                        let mut f = vec![0xfc];
                        f.extend_from_slice(&i.to_be_bytes());
                        f.resize(60, 0x55);
                        write_sample(track, sender, f, Duration::from_millis(20)).await;
                    }
                    _ if i % 2 == 0 => {
                        let mut f = vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a];
                        f.resize(1500, i as u8);
                        write_sample(track, sender, f, Duration::from_millis(40)).await;
                    }
                    _ => {}
                }
            }
            run.audio_echoed = w.counts.audio.load(Ordering::Relaxed);
            run.video_echoed = w.counts.video.load(Ordering::Relaxed);
            if run.audio_echoed >= 3 && run.video_echoed >= 3 {
                break;
            }
        }
        if run.audio_echoed < 3 || run.video_echoed < 3 {
            return Err(format!("too little echoed: {run:?}"));
        }
    }
    let _ = w.pc.close().await;
    Ok(run)
}
