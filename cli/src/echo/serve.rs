//! `weft echo serve`: the server peer of both echo tests. Each `POST /offer` makes a new
//! weft peer connection that answers; it then echoes every RTP stream it receives (on the
//! same transceiver, made sendrecv before the answer) and every data channel message.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use weft_dtls_srtp::cert::Certificate;
use weft_peer::{
    Event, MediaKind, PeerConfig, PeerConnection, PeerConnectionState, PeerEvent, RtcConfig,
    RtcError, SdpType, TransceiverId,
};
use weft_rtp::RtpPacket;

use super::{description_json, ms, parse_description, Transport};

/// How long candidate gathering may take before the answer goes out anyway.
const GATHER_LIMIT: Duration = Duration::from_secs(5);
/// A session whose connection never comes up is dropped after this.
const CONNECT_LIMIT: Duration = Duration::from_secs(30);
/// Sessions alive at once; past it an offer gets 503 (each binds UDP sockets and a task).
const MAX_SESSIONS: u64 = 256;

struct Server {
    certificate: Arc<Certificate>,
    /// The addresses peer connections bind (empty: the host's primary addresses).
    bind: Vec<IpAddr>,
    sessions: AtomicU64,
    /// Sessions alive now.
    active: Arc<AtomicU64>,
}

/// Counts a session alive until dropped.
struct Active(Arc<AtomicU64>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs the server until the process is stopped.
pub fn run(bind: SocketAddr) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(serve(bind))
}

async fn serve(bind: SocketAddr) -> Result<(), String> {
    let certificate =
        PeerConfig::generate_certificate().map_err(|e| format!("certificate: {e}"))?;
    let server = Arc::new(Server {
        certificate,
        // 0.0.0.0 or [::]: every primary address of the host; one address: that one.
        bind: if bind.ip().is_unspecified() {
            Vec::new()
        } else {
            vec![bind.ip()]
        },
        sessions: AtomicU64::new(0),
        active: Arc::default(),
    });
    let app = Router::new()
        .route("/offer", post(offer).options(preflight))
        .with_state(server);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot bind {bind}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot bind {bind}: {e}"))?;
    println!("weft echo serve: listening on http://{local}/offer");
    axum::serve(listener, app)
        .await
        .map_err(|e| format!("server: {e}"))
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    let msg = msg.into();
    eprintln!("weft echo serve: {status}: {msg}");
    cors((status, Json(json!({ "error": msg }))).into_response())
}

/// Browser clients of the convention POST from another origin.
fn cors(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    r
}

async fn preflight() -> Response {
    cors(StatusCode::NO_CONTENT.into_response())
}

/// `POST /offer`: 200 with the answer, 400 for a body that is not an offer or whose SDP
/// does not apply, 500 when the peer connection cannot be made.
async fn offer(State(server): State<Arc<Server>>, body: Bytes) -> Response {
    let offer = match parse_description(&body, SdpType::Offer) {
        Ok(o) => o,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    if server.active.fetch_add(1, Ordering::Relaxed) >= MAX_SESSIONS {
        server.active.fetch_sub(1, Ordering::Relaxed);
        return error(StatusCode::SERVICE_UNAVAILABLE, "too many sessions");
    }
    let active = Active(server.active.clone());
    let n = server.sessions.fetch_add(1, Ordering::Relaxed) + 1;
    let started = Instant::now();
    let mut rtc = RtcConfig::new(server.certificate.clone());
    rtc.raw_rtp = true;
    let config = PeerConfig {
        rtc: Some(rtc),
        bind: server.bind.clone(),
        ..PeerConfig::default()
    };
    let pc = match PeerConnection::new(config).await {
        Ok(pc) => pc,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    match answer(&pc, offer).await {
        Ok(answer) => {
            tokio::spawn(async move {
                session(n, pc, started).await;
                drop(active);
            });
            cors(Json(description_json(&answer)).into_response())
        }
        Err(e @ (RtcError::SdpSyntax(_) | RtcError::InvalidDescription(_))) => {
            pc.close().await;
            error(StatusCode::BAD_REQUEST, e.to_string())
        }
        Err(e) => {
            pc.close().await;
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

/// Applies the offer, makes every offered audio and video transceiver send too (W3C
/// `addTrack` reuses a transceiver made by the remote offer, RFC 8829 §4.1.2), answers
/// and waits for the candidates (non-trickle).
async fn answer(
    pc: &PeerConnection,
    offer: weft_peer::SessionDescription,
) -> Result<weft_peer::SessionDescription, RtcError> {
    pc.set_remote_description(offer).await?;
    pc.with_rtc(|rtc| {
        let mut i = 0;
        while let Some(codecs) = rtc.codecs(TransceiverId(i)) {
            let kind = codecs.first().map(|c| c.name.kind());
            if let Some(kind) = kind {
                let name = match kind {
                    MediaKind::Audio => "audio",
                    MediaKind::Video => "video",
                };
                rtc.add_track(kind, "weft-echo", &format!("echo-{name}-{i}"));
            }
            i += 1;
        }
    })
    .await?;
    let answer = pc.create_answer().await?;
    pc.set_local_description(answer).await?;
    // Past the limit the answer goes out with the candidates gathered so far.
    let _ = tokio::time::timeout(GATHER_LIMIT, pc.gathering_complete()).await;
    pc.local_description()
        .await?
        .ok_or(RtcError::InvalidState("no local description"))
}

/// Counters of one session, for its closing line.
#[derive(Default)]
struct Counts {
    rtp_echoed: AtomicU64,
    messages_echoed: AtomicU64,
    channels: AtomicU64,
}

/// One session: echoes until the connection fails or closes.
async fn session(n: u64, pc: PeerConnection, started: Instant) {
    let pc = Arc::new(pc);
    let counts = Arc::new(Counts::default());
    let mut connected_at = None;
    // Once a second: has the client closed DTLS (close_notify)? Then the session is over
    // (RFC 5246 §7.2.1: no more data on this connection), without waiting for ICE consent
    // to expire (RFC 7675 §5.1, 30 s).
    let mut check = tokio::time::interval(Duration::from_secs(1));
    loop {
        let wait = match connected_at {
            None => CONNECT_LIMIT.saturating_sub(started.elapsed()),
            Some(_) => Duration::from_secs(3600),
        };
        let next = tokio::select! {
            ev = tokio::time::timeout(wait, pc.next_event()) => Some(ev),
            _ = check.tick() => None,
        };
        let ev = match next {
            Some(Ok(Some(ev))) => ev,
            Some(Ok(None)) => break,
            Some(Err(_)) => {
                eprintln!("weft echo serve: session {n}: not connected within {CONNECT_LIMIT:?}");
                break;
            }
            None => {
                if connected_at.is_some() && dtls_closed(&pc).await {
                    eprintln!("weft echo serve: session {n}: the client closed DTLS");
                    break;
                }
                continue;
            }
        };
        match ev {
            PeerEvent::Other(Event::Rtp {
                transceiver,
                packet,
            }) => {
                // Sent back on the same transceiver: payload type, marker and timestamp
                // kept, SSRC and sequence numbers ours (RFC 3550 §7.2: a translator that
                // re-originates a stream uses its own SSRC).
                let Ok(p) = RtpPacket::parse(&packet) else {
                    continue;
                };
                let sent = pc
                    .write_rtp(
                        transceiver,
                        p.payload_type(),
                        p.marker(),
                        p.timestamp(),
                        bytes::Bytes::copy_from_slice(p.payload()),
                    )
                    .await;
                if sent.is_ok() {
                    counts.rtp_echoed.fetch_add(1, Ordering::Relaxed);
                }
            }
            // The receiver of the echo wants a key frame: ask the sender of what we echo
            // (RFC 4585 §6.3.1 PLI, same transceiver).
            PeerEvent::KeyframeRequest { transceiver } => {
                let _ = pc.request_keyframe(transceiver).await;
            }
            PeerEvent::DataChannel(dc) => {
                counts.channels.fetch_add(1, Ordering::Relaxed);
                let counts = counts.clone();
                tokio::spawn(async move {
                    while let Some(m) = dc.recv().await {
                        if dc.send(m.kind, m.data).await.is_err() {
                            break;
                        }
                        counts.messages_echoed.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            PeerEvent::ConnectionState(PeerConnectionState::Connected)
                if connected_at.is_none() =>
            {
                let t = started.elapsed();
                connected_at = Some(t);
                let tr = Transport::of(&pc).await;
                println!(
                    "weft echo serve: session={n} state=connected {} connected_ms={}",
                    tr.fields(),
                    ms(t)
                );
            }
            PeerEvent::ConnectionState(
                s @ (PeerConnectionState::Failed | PeerConnectionState::Closed),
            ) => {
                eprintln!("weft echo serve: session {n}: {s:?}");
                break;
            }
            _ => {}
        }
    }
    pc.close().await;
    println!(
        "weft echo serve: session={n} state=closed channels={} messages_echoed={} rtp_echoed={}",
        counts.channels.load(Ordering::Relaxed),
        counts.messages_echoed.load(Ordering::Relaxed),
        counts.rtp_echoed.load(Ordering::Relaxed),
    );
}

/// Whether the DTLS transport is closed (W3C `RTCDtlsTransportState` "closed").
async fn dtls_closed(pc: &PeerConnection) -> bool {
    pc.with_rtc(|rtc| {
        rtc.stats().iter().any(|s| match s {
            weft_peer::Stats::Transport(t) => t.dtls_state == "closed",
            _ => false,
        })
    })
    .await
    .unwrap_or(true)
}
