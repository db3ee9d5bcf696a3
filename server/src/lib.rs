//! # weft-server
//!
//! The streaming session server: browsers open its page, stream camera and microphone to
//! it over a weft [`PeerConnection`], and receive events on a data channel labelled
//! `detections`.
//!
//! - `GET /`: the bundled page (plain HTML and JS).
//! - `POST /offer`: a JSON `RTCSessionDescriptionInit` offer in, the answer out
//!   (non-trickle: the answer holds the server's candidates, RFC 8829 §5.3 after gathering
//!   completes). Each accepted offer is a [`Session`]; refusals are [`OfferError`]s.
//! - `GET /sessions`: the live sessions; `GET /healthz`: liveness.
//!
//! Every session's media and data go through one UDP socket ([`SharedSocket`]), so a
//! server needs one UDP port. Sessions are independent of each other: a replica behind a
//! load balancer owns the sessions it answered.
//!
//! - `GET /ws?token=`: WebSocket signalling ([`ws`]): rooms whose members relay offers,
//!   answers and trickled candidates to each other (mesh), the server taking part itself.
//!
//! Both signalling transports end in [`Server::answer_offer`]: an offer in, the answer and
//! the new session id out, whatever carried the offer.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]
// The server does I/O: it reads the clock (ARCHITECTURE.md: only peer's driver, signal,
// server and cli may).
#![allow(clippy::disallowed_methods)]

pub mod config;
pub mod event;
pub mod h264;
pub mod http;
pub mod offer;
pub mod registry;
pub mod session;
pub mod vp8;
pub mod ws;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};
use uuid::Uuid;
use weft_peer::{
    PeerConfig, PeerConnection, RtcConfig, RtcError, SessionDescription, SharedSocket,
};

pub use config::{Config, SessionConfig};
pub use offer::OfferError;
pub use registry::Registry;
pub use session::Session;

/// How long candidate gathering may take before the answer goes out with what it has.
const GATHER_LIMIT: Duration = Duration::from_secs(5);

/// Why the server could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerError {
    /// The DTLS certificate could not be made.
    Certificate(String),
    /// A socket could not be bound.
    Bind(String),
    /// The HTTP server stopped with an error.
    Serve(String),
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerError::Certificate(e) => write!(f, "certificate: {e}"),
            ServerError::Bind(e) => write!(f, "bind: {e}"),
            ServerError::Serve(e) => write!(f, "serve: {e}"),
        }
    }
}

impl std::error::Error for ServerError {}

/// An accepted offer.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The new session.
    pub session_id: Uuid,
    /// The answer, with the server's candidates.
    pub answer: SessionDescription,
}

/// The server's state: configuration, the peer connection template (one DTLS certificate
/// for all sessions), the shared UDP socket and the registry of live sessions.
pub struct Server {
    config: Config,
    rtc: RtcConfig,
    socket: SharedSocket,
    registry: Arc<Registry>,
    hub: ws::Hub,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("media", &self.socket.local_addr())
            .field("sessions", &self.registry.len())
            .finish()
    }
}

/// The host's primary address: the source address the system picks for a route to a
/// public address (connecting a UDP socket sends nothing); 127.0.0.1 without a route.
pub fn primary_address() -> IpAddr {
    let probes: [(IpAddr, IpAddr); 2] = [
        (
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        ),
        (
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        ),
    ];
    for (any, public) in probes {
        let Ok(s) = StdUdpSocket::bind(SocketAddr::new(any, 0)) else {
            continue;
        };
        if s.connect(SocketAddr::new(public, 9)).is_err() {
            continue;
        }
        if let Ok(a) = s.local_addr() {
            if !a.ip().is_unspecified() {
                return a.ip();
            }
        }
    }
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

impl Server {
    /// Makes the certificate and binds the shared UDP socket (on the current tokio
    /// runtime).
    pub async fn new(config: Config) -> Result<Arc<Server>, ServerError> {
        Server::with_rtc(config, |_| {}).await
    }

    /// [`Server::new`] with the template of every session's peer connection adjusted by
    /// `tune` (ICE timers, codecs, MTU), e.g. a short consent timeout in tests.
    pub async fn with_rtc(
        config: Config,
        tune: impl FnOnce(&mut RtcConfig),
    ) -> Result<Arc<Server>, ServerError> {
        let certificate = PeerConfig::generate_certificate()
            .map_err(|e| ServerError::Certificate(e.to_string()))?;
        let ip = match config.media_ip {
            Some(ip) => ip,
            None if !config.bind.is_unspecified() => config.bind,
            None => primary_address(),
        };
        let port = config.media_port.unwrap_or(config.port);
        let media = SocketAddr::new(ip, port);
        let socket = SharedSocket::bind(media)
            .await
            .map_err(|e| ServerError::Bind(format!("UDP {media}: {e}")))?;
        let mut rtc = RtcConfig::new(certificate);
        tune(&mut rtc);
        let secret = match &config.ws_secret {
            Some(s) => s.as_bytes().to_vec(),
            None => {
                warn!("no --ws-secret (WEFT_WS_SECRET): WebSocket tokens are checked against a random secret nobody knows, so /ws refuses everyone");
                // 2 × 122 random bits from the OS RNG (UUID v4, RFC 9562 §5.4).
                [Uuid::new_v4().into_bytes(), Uuid::new_v4().into_bytes()].concat()
            }
        };
        let hub = ws::Hub::new(secret, config.ws_max_members, &config.ws_name);
        Ok(Arc::new(Server {
            config,
            rtc,
            socket,
            registry: Arc::default(),
            hub,
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The address of the shared UDP socket (the server's ICE host candidate).
    pub fn media_addr(&self) -> SocketAddr {
        self.socket.local_addr()
    }

    /// The registry of live sessions.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The WebSocket signalling relay.
    pub fn hub(&self) -> &ws::Hub {
        &self.hub
    }

    /// The HTTP routes ([`http::router`]).
    pub fn router(self: &Arc<Self>) -> axum::Router {
        http::router(self.clone())
    }

    /// Answers an offer: a new peer connection on the shared socket takes the offer,
    /// answers it (receiving the offered audio and video: no local tracks, so the answer's
    /// directions are `recvonly`, RFC 8829 §5.3.1), waits for its candidates, and becomes
    /// a live [`Session`]. On any error the connection is closed and no session exists.
    pub async fn answer_offer(&self, offer: SessionDescription) -> Result<Answered, OfferError> {
        self.answer_offer_live(offer).await.map(|(a, _)| a)
    }

    /// [`Server::answer_offer`], also handing out the session's connection (for trickled
    /// candidates). The session ends on its own terms whoever holds it; holding it past
    /// the session's end keeps only a closed handle.
    pub async fn answer_offer_live(
        &self,
        offer: SessionDescription,
    ) -> Result<(Answered, Arc<PeerConnection>), OfferError> {
        let slot = self
            .registry
            .try_reserve(self.config.max_sessions)
            .ok_or(OfferError::TooManySessions)?;
        let pc = PeerConnection::new(PeerConfig {
            rtc: Some(self.rtc.clone()),
            shared: Some(self.socket.clone()),
            ..PeerConfig::default()
        })
        .await
        .map_err(|e| OfferError::Internal(e.to_string()))?;
        let pc = Arc::new(pc);
        let answer = match answer(&pc, offer).await {
            Ok(a) => a,
            Err(e) => {
                pc.close().await;
                return Err(match e {
                    RtcError::SdpSyntax(m) | RtcError::InvalidDescription(m) => {
                        OfferError::InvalidDescription(m)
                    }
                    e => OfferError::Internal(e.to_string()),
                });
            }
        };
        let session = Session::new(self.config.session.clone());
        let session_id = session.id();
        self.registry.insert(session.clone());
        info!(%session_id, live = self.registry.len(), "session created");
        tokio::spawn(session::run(
            session,
            pc.clone(),
            self.registry.clone(),
            slot,
        ));
        Ok((Answered { session_id, answer }, pc))
    }

    /// Ends every session (each sends `session_ended` and closes its connection: SCTP
    /// shutdown and DTLS close_notify) and waits for them, at most `limit`.
    pub async fn close_all(&self, limit: Duration) {
        let n = self.registry.len();
        let left = self.registry.close_all(limit).await;
        if left > 0 {
            warn!(
                closed = n - left.min(n),
                left, "sessions still closing at the limit"
            );
        } else {
            info!(closed = n, "every session closed");
        }
    }
}

/// Applies the offer, answers and waits for the candidates (non-trickle).
async fn answer(
    pc: &PeerConnection,
    offer: SessionDescription,
) -> Result<SessionDescription, RtcError> {
    pc.set_remote_description(offer).await?;
    let answer = pc.create_answer().await?;
    pc.set_local_description(answer).await?;
    // Past the limit the answer goes out with the candidates gathered so far.
    let _ = tokio::time::timeout(GATHER_LIMIT, pc.gathering_complete()).await;
    pc.local_description()
        .await?
        .ok_or(RtcError::InvalidState("no local description"))
}

/// A running server: HTTP listening, sessions being served.
#[derive(Debug)]
pub struct Running {
    server: Arc<Server>,
    http: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
}

impl Running {
    /// The HTTP address (`http://{addr}/`).
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// The server.
    pub fn server(&self) -> &Arc<Server> {
        &self.server
    }

    /// Stops: HTTP stops taking connections, every session ends and closes (at most
    /// `limit`), and the HTTP server is given the rest of a second to finish.
    pub async fn shutdown(self, limit: Duration) -> Result<(), ServerError> {
        self.stop.send_replace(true);
        self.server.hub.shutdown();
        self.server.close_all(limit).await;
        match tokio::time::timeout(Duration::from_secs(1), self.task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(ServerError::Serve(e.to_string())),
            // Connections that stay open (a page's keep-alive) do not hold the exit.
            Err(_) => Ok(()),
        }
    }
}

/// Starts the server: the shared UDP socket, then HTTP on `bind:port`.
pub async fn start(config: Config) -> Result<Running, ServerError> {
    start_with(config, |_| {}).await
}

/// [`start`] with every session's peer connection adjusted by `tune` ([`Server::with_rtc`]).
pub async fn start_with(
    config: Config,
    tune: impl FnOnce(&mut RtcConfig),
) -> Result<Running, ServerError> {
    let http = SocketAddr::new(config.bind, config.port);
    let server = Server::with_rtc(config, tune).await?;
    let listener = tokio::net::TcpListener::bind(http)
        .await
        .map_err(|e| ServerError::Bind(format!("TCP {http}: {e}")))?;
    let http = listener
        .local_addr()
        .map_err(|e| ServerError::Bind(format!("TCP {http}: {e}")))?;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let app = server.router();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|v| *v).await;
            })
            .await
            .map_err(|e| ServerError::Serve(e.to_string()))
    });
    info!(http = %http, media = %server.media_addr(), "listening on http://{http}/");
    Ok(Running {
        server,
        http,
        stop,
        task,
    })
}

/// Runs the server until `signal` completes, then shuts down (sessions closed within
/// `limit`).
pub async fn run_until(
    config: Config,
    signal: impl Future<Output = ()>,
    limit: Duration,
) -> Result<(), ServerError> {
    let running = start(config).await?;
    signal.await;
    info!("shutting down");
    running.shutdown(limit).await
}
