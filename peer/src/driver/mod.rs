//! The tokio driver: an async [`PeerConnection`] over the sans-IO [`Rtc`].
//!
//! One tokio task per peer connection owns the `Rtc` and its UDP sockets; it waits on the
//! sockets, on the core's next timeout and on commands from the handles, and after each
//! drains the core: datagrams go out with `send_to`, events to async streams. The handles
//! talk to it over an mpsc channel with oneshot replies; nothing is shared behind a lock
//! and no callback is registered, so there are no reference cycles to leak.
//!
//! - Events of the connection come from [`PeerConnection::next_event`]; messages of a data
//!   channel from [`DataChannel::recv`]. Both are unbounded queues: events not taken
//!   accumulate (frames too), so an application that holds a `PeerConnection` should take
//!   its events.
//! - [`PeerConnection::close`] closes the core (SCTP shutdown and DTLS close_notify go
//!   out), releases the sockets and ends the task before it returns. Dropping the
//!   `PeerConnection` does the same in the background. [`DataChannel`] handles do not keep
//!   the task alive.
//!
//! ```no_run
//! # async fn demo() -> Result<(), weft_peer::RtcError> {
//! use weft_peer::{ChannelOptions, PeerConfig, PeerConnection};
//! let a = PeerConnection::new(PeerConfig::loopback()).await?;
//! let b = PeerConnection::new(PeerConfig::loopback()).await?;
//! let chat = a.create_data_channel("chat", ChannelOptions::default()).await?;
//! // Non-trickle: wait for the candidates, then signal the whole description.
//! let offer = a.create_offer().await?;
//! a.set_local_description(offer).await?;
//! a.gathering_complete().await?;
//! b.set_remote_description(a.local_description().await?.ok_or(weft_peer::RtcError::Unknown)?).await?;
//! let answer = b.create_answer().await?;
//! b.set_local_description(answer).await?;
//! b.gathering_complete().await?;
//! a.set_remote_description(b.local_description().await?.ok_or(weft_peer::RtcError::Unknown)?).await?;
//! chat.opened().await?;
//! chat.send_text("hello").await?;
//! # Ok(()) }
//! ```

mod channel;
mod shared;
mod task;
mod track;
mod udp;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch, Mutex};
use tokio::task::JoinHandle;
use weft_dtls_srtp::cert::{Certificate, Validity};

pub use channel::{DataChannel, DataChannelMessage};
pub use shared::SharedSocket;
use task::{Command, Core, SharedLink};
pub use track::RemoteTrack;

use crate::{
    ChannelOptions, Direction, Event, Frame, IceCandidateInit, IceConnectionState,
    IceGatheringState, MediaCounters, MediaKind, OfferOptions, PeerConnectionState, Rtc, RtcConfig,
    RtcError, SessionDescription, SignalingState, TransceiverId,
};

/// How a [`PeerConnection`] is set up.
#[derive(Clone, Default)]
pub struct PeerConfig {
    /// The core's configuration; `None`: [`RtcConfig::new`] around a fresh self-signed
    /// certificate ([`PeerConfig::generate_certificate`]).
    pub rtc: Option<RtcConfig>,
    /// The addresses to bind a UDP socket on (port chosen by the system), one host
    /// candidate each. Empty: every interface address of the host (IPv4 and IPv6, not
    /// loopback nor IPv6 link-local), or loopback when there is none.
    pub bind: Vec<IpAddr>,
    /// With an empty `bind`: bind loopback (127.0.0.1) as well as the interfaces.
    pub include_loopback: bool,
    /// The seed of every random choice of the core; `None`: drawn from the system RNG.
    pub seed: Option<[u8; 32]>,
    /// Use this shared socket instead of binding (`bind` is then ignored): many
    /// connections on one address and port, told apart by ICE ufrag and remote address.
    pub shared: Option<SharedSocket>,
}

impl std::fmt::Debug for PeerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConfig")
            .field("rtc", &self.rtc.as_ref().map(|_| ".."))
            .field("bind", &self.bind)
            .field("include_loopback", &self.include_loopback)
            .field("seed", &self.seed.map(|_| ".."))
            .field("shared", &self.shared.as_ref().map(|s| s.local_addr()))
            .finish()
    }
}

impl PeerConfig {
    /// Binds on 127.0.0.1 only: two peers in one process, tests.
    pub fn loopback() -> PeerConfig {
        PeerConfig {
            bind: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            ..PeerConfig::default()
        }
    }

    /// A self-signed ECDSA P-256 certificate for DTLS (RFC 8827 §6.5), made with the
    /// system RNG. Make one and keep it to keep the fingerprint across connections.
    pub fn generate_certificate() -> Result<Arc<Certificate>, RtcError> {
        Certificate::generate_self_signed("weft", Validity::default(), &SystemRandom::new())
            .map(Arc::new)
            .map_err(|e| RtcError::InvalidState(cert_error(&e)))
    }
}

fn cert_error(_: &weft_dtls_srtp::cert::CertError) -> &'static str {
    "certificate generation failed"
}

/// Receive buffer asked of the kernel for each socket: weft's SCTP advertises a 1 MiB
/// window, and a burst that fills it must not overflow the socket first (Linux defaults to
/// about 208 KiB; the kernel caps the request at `net.core.rmem_max`).
const RECV_BUFFER: usize = 1 << 20;

/// A non-blocking UDP socket bound to `addr`, with [`RECV_BUFFER`], on tokio; and its
/// batched I/O state (quinn-udp: GSO, GRO, recvmmsg), none where the kernel refuses it.
pub(crate) fn bind_udp(
    addr: SocketAddr,
) -> Result<(UdpSocket, Option<quinn_udp::UdpSocketState>), RtcError> {
    let err = |_| RtcError::InvalidState("cannot bind a UDP socket");
    let domain = socket2::Domain::for_address(addr);
    let s = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))
        .map_err(err)?;
    // A smaller buffer than asked is not an error: the kernel's limit applies.
    let _ = s.set_recv_buffer_size(RECV_BUFFER);
    s.set_nonblocking(true).map_err(err)?;
    s.bind(&addr.into()).map_err(err)?;
    // quinn-udp 0.6 sets IP_MTU_DISCOVER = IP_PMTUDISC_PROBE (and for IPv6 sockets
    // IPV6_MTU_DISCOVER = IPV6_PMTUDISC_PROBE and IPV6_DONTFRAG) on Linux when it makes its
    // state for a socket: datagrams go with DF set and are never fragmented by this host,
    // as path MTU probes must be (RFC 8899 §3 item 2); one larger than the interface MTU
    // fails with EMSGSIZE, which the driver drops like any lost datagram. It turns UDP_GRO
    // on too, so every reader of the socket must split super-datagrams at their stride
    // ([`udp::recv_batch`]). Made here once for own and shared sockets alike.
    let state = quinn_udp::UdpSocketState::new(quinn_udp::UdpSockRef::from(&s)).ok();
    let sock = UdpSocket::from_std(s.into()).map_err(err)?;
    Ok((sock, state))
}

/// The host's interface addresses (RFC 8445 §5.1.1.1: a host candidate per interface
/// address): every non-loopback address except IPv6 link-local ones, and loopback too when
/// `loopback` is set, or when there is nothing else.
fn interface_addresses(loopback: bool) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| match ip {
            IpAddr::V4(_) => !ip.is_loopback(),
            // fe80::/10 needs a scope id to be reachable; browsers leave it out too.
            IpAddr::V6(v6) => !ip.is_loopback() && (v6.segments()[0] & 0xffc0) != 0xfe80,
        })
        .collect();
    out.dedup();
    if loopback || out.is_empty() {
        out.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    out
}

/// An event of a [`PeerConnection`] (W3C event names in Rust case). Data channel traffic
/// goes to each [`DataChannel`]'s own stream.
#[derive(Debug)]
#[non_exhaustive]
pub enum PeerEvent {
    /// `signalingstatechange`.
    SignalingState(SignalingState),
    /// `icegatheringstatechange`.
    IceGatheringState(IceGatheringState),
    /// `iceconnectionstatechange`.
    IceConnectionState(IceConnectionState),
    /// `connectionstatechange`.
    ConnectionState(PeerConnectionState),
    /// `icecandidate`: a local candidate to trickle, `None` at the end of candidates.
    IceCandidate(Option<IceCandidateInit>),
    /// `negotiationneeded`.
    NegotiationNeeded,
    /// `datachannel`: the peer opened a channel.
    DataChannel(DataChannel),
    /// `track`: a transceiver will receive media.
    Track {
        /// The transceiver.
        transceiver: TransceiverId,
        /// Its mid.
        mid: String,
        /// Audio or video.
        kind: MediaKind,
    },
    /// A whole frame arrived on a transceiver that has no [`RemoteTrack`] stream
    /// ([`PeerConnection::remote_track`]).
    Frame {
        /// The transceiver.
        transceiver: TransceiverId,
        /// The frame.
        frame: Frame,
    },
    /// The peer asked for a key frame of what we send on a transceiver.
    KeyframeRequest {
        /// The transceiver.
        transceiver: TransceiverId,
    },
    /// Any other event of the core (selected pair, DTLS connected, raw RTP ...).
    Other(Event),
}

/// W3C `RTCPeerConnection` on tokio: the handle to the task that owns the sans-IO [`Rtc`]
/// and its sockets. Every method is a command to that task.
///
/// Dropping it ends the task (closing the core as [`close`](Self::close) does) and
/// releases its sockets.
pub struct PeerConnection {
    cmd: mpsc::Sender<Command>,
    events: Mutex<mpsc::UnboundedReceiver<PeerEvent>>,
    state: watch::Receiver<PeerConnectionState>,
    gathering: watch::Receiver<IceGatheringState>,
    local_addrs: Vec<SocketAddr>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConnection")
            .field("local_addrs", &self.local_addrs)
            .field("state", &self.connection_state())
            .finish()
    }
}

impl PeerConnection {
    /// Binds the sockets and starts the task (on the current tokio runtime; outside one,
    /// an error).
    pub async fn new(config: PeerConfig) -> Result<PeerConnection, RtcError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| RtcError::InvalidState("no tokio runtime"))?;
        let rtc_config = match config.rtc {
            Some(c) => c,
            None => RtcConfig::new(PeerConfig::generate_certificate()?),
        };
        let seed = match config.seed {
            Some(s) => s,
            None => {
                let mut s = [0u8; 32];
                SystemRandom::new()
                    .fill(&mut s)
                    .map_err(|_| RtcError::InvalidState("system RNG failed"))?;
                s
            }
        };
        let mut sockets = Vec::new();
        // Batched I/O where the kernel has it; if any socket refuses, none has it.
        let mut batch = Vec::new();
        let mut link = None;
        match &config.shared {
            Some(shared) => {
                sockets.push((shared.local, shared.socket.clone()));
                batch.push(shared.batch.clone());
            }
            None => {
                let bind = if config.bind.is_empty() {
                    interface_addresses(config.include_loopback)
                } else {
                    config.bind
                };
                for ip in bind {
                    let (s, state) = bind_udp(SocketAddr::new(ip, 0))?;
                    let a = s
                        .local_addr()
                        .map_err(|_| RtcError::InvalidState("cannot bind a UDP socket"))?;
                    sockets.push((a, Arc::new(s)));
                    batch.push(state.map(Arc::new));
                }
            }
        }
        let local_addrs: Vec<SocketAddr> = sockets.iter().map(|(a, _)| *a).collect();
        let mut rtc = Rtc::new(task::now(), rtc_config, seed);
        for a in &local_addrs {
            rtc.add_host_address(*a);
        }
        if let Some(shared) = &config.shared {
            let key = shared.next_key();
            let ufrag = rtc.ice_agent().local_credentials().ufrag.clone();
            let (tx, rx) = mpsc::channel(shared::QUEUE);
            shared
                .cmd
                .send(shared::RouterCmd::Register {
                    key,
                    ufrag: ufrag.clone(),
                    tx,
                })
                .map_err(|_| RtcError::InvalidState("shared socket closed"))?;
            link = Some(SharedLink {
                key,
                cmd: shared.cmd.clone(),
                inbox: Some(rx),
                ufrags: vec![ufrag],
            });
        }
        let (cmd_tx, cmd_rx) = mpsc::channel(64);
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (state_tx, state_rx) = watch::channel(rtc.connection_state());
        let (gather_tx, gather_rx) = watch::channel(rtc.ice_gathering_state());
        let batch = batch.into_iter().collect::<Option<Vec<_>>>();
        let core = Core::new(
            rtc,
            sockets,
            batch.unwrap_or_default(),
            link,
            ev_tx,
            state_tx,
            gather_tx,
            cmd_tx.downgrade(),
        );
        let task = runtime.spawn(task::run(core, cmd_rx));
        Ok(PeerConnection {
            cmd: cmd_tx,
            events: Mutex::new(ev_rx),
            state: state_rx,
            gathering: gather_rx,
            local_addrs,
            task: std::sync::Mutex::new(Some(task)),
        })
    }

    /// Runs `f` on the task's core and returns its answer.
    async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core) -> R + Send + 'static,
    ) -> Result<R, RtcError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(Command::Call(Box::new(move |core| {
                let r = f(core);
                core.drain();
                let _ = tx.send(r);
            })))
            .await
            .map_err(|_| RtcError::InvalidState("closed"))?;
        rx.await.map_err(|_| RtcError::InvalidState("closed"))
    }

    /// The local socket addresses (one host candidate each).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The next event, or `None` once the connection is closed and every event was
    /// taken. Cancel-safe.
    pub async fn next_event(&self) -> Option<PeerEvent> {
        self.events.lock().await.recv().await
    }

    /// W3C `connectionState`, as last reported by the task.
    pub fn connection_state(&self) -> PeerConnectionState {
        if self.state.has_changed().is_err() {
            return PeerConnectionState::Closed;
        }
        *self.state.borrow()
    }

    /// Waits until the connection state is `connected`; an error if it becomes `failed`
    /// or `closed` first.
    pub async fn connected(&self) -> Result<(), RtcError> {
        let mut rx = self.state.clone();
        let s = rx
            .wait_for(|s| {
                matches!(
                    s,
                    PeerConnectionState::Connected
                        | PeerConnectionState::Failed
                        | PeerConnectionState::Closed
                )
            })
            .await
            .map(|s| *s)
            .map_err(|_| RtcError::InvalidState("closed"))?;
        match s {
            PeerConnectionState::Connected => Ok(()),
            PeerConnectionState::Failed => Err(RtcError::InvalidState("failed")),
            _ => Err(RtcError::InvalidState("closed")),
        }
    }

    /// W3C `iceGatheringState`, as last reported by the task.
    pub fn ice_gathering_state(&self) -> IceGatheringState {
        *self.gathering.borrow()
    }

    /// Waits until ICE gathering is complete: then
    /// [`local_description`](Self::local_description) has every candidate, as servers
    /// without trickle need. Gathering starts with `set_local_description`.
    pub async fn gathering_complete(&self) -> Result<(), RtcError> {
        let mut rx = self.gathering.clone();
        rx.wait_for(|s| *s == IceGatheringState::Complete)
            .await
            .map(|_| ())
            .map_err(|_| RtcError::InvalidState("closed"))
    }

    /// W3C `signalingState`.
    pub async fn signaling_state(&self) -> Result<SignalingState, RtcError> {
        self.call(|c| c.rtc.signaling_state()).await
    }

    /// W3C `iceConnectionState`.
    pub async fn ice_connection_state(&self) -> Result<IceConnectionState, RtcError> {
        self.call(|c| c.rtc.ice_connection_state()).await
    }

    /// W3C `createOffer`.
    pub async fn create_offer(&self) -> Result<SessionDescription, RtcError> {
        self.create_offer_with(OfferOptions::default()).await
    }

    /// W3C `createOffer` with options (ICE restart).
    pub async fn create_offer_with(
        &self,
        options: OfferOptions,
    ) -> Result<SessionDescription, RtcError> {
        self.call(move |c| c.rtc.create_offer(options)).await?
    }

    /// W3C `createAnswer`.
    pub async fn create_answer(&self) -> Result<SessionDescription, RtcError> {
        self.call(|c| c.rtc.create_answer()).await?
    }

    /// W3C `setLocalDescription` (gathering starts here).
    pub async fn set_local_description(&self, desc: SessionDescription) -> Result<(), RtcError> {
        self.call(move |c| c.rtc.set_local_description(desc))
            .await?
    }

    /// W3C `setRemoteDescription`.
    pub async fn set_remote_description(&self, desc: SessionDescription) -> Result<(), RtcError> {
        self.call(move |c| c.rtc.set_remote_description(desc))
            .await?
    }

    /// W3C `localDescription`, with the candidates gathered so far.
    pub async fn local_description(&self) -> Result<Option<SessionDescription>, RtcError> {
        self.call(|c| c.rtc.local_description()).await
    }

    /// W3C `remoteDescription`.
    pub async fn remote_description(&self) -> Result<Option<SessionDescription>, RtcError> {
        self.call(|c| c.rtc.remote_description()).await
    }

    /// W3C `addIceCandidate` (an empty candidate: end of candidates).
    pub async fn add_ice_candidate(&self, candidate: IceCandidateInit) -> Result<(), RtcError> {
        self.call(move |c| c.rtc.add_ice_candidate(candidate))
            .await?
    }

    /// W3C `createDataChannel`.
    pub async fn create_data_channel(
        &self,
        label: &str,
        options: ChannelOptions,
    ) -> Result<DataChannel, RtcError> {
        let label = label.to_owned();
        self.call(move |c| c.create_data_channel(&label, options))
            .await?
    }

    /// W3C `addTrack(track, stream)`: a transceiver that sends (and receives) `kind`.
    pub async fn add_track(
        &self,
        kind: MediaKind,
        stream_id: &str,
        track_id: &str,
    ) -> Result<TransceiverId, RtcError> {
        let (s, t) = (stream_id.to_owned(), track_id.to_owned());
        self.call(move |c| c.rtc.add_track(kind, &s, &t)).await
    }

    /// W3C `addTransceiver(kind, {direction})`.
    pub async fn add_transceiver(
        &self,
        kind: MediaKind,
        direction: Direction,
    ) -> Result<TransceiverId, RtcError> {
        self.call(move |c| c.rtc.add_transceiver(kind, direction))
            .await
    }

    /// A transceiver's mid, once negotiated.
    pub async fn mid(&self, t: TransceiverId) -> Result<Option<String>, RtcError> {
        self.call(move |c| c.rtc.mid(t).map(str::to_owned)).await
    }

    /// W3C `currentDirection` of a transceiver.
    pub async fn current_direction(&self, t: TransceiverId) -> Result<Option<Direction>, RtcError> {
        self.call(move |c| c.rtc.current_direction(t)).await
    }

    /// Sends one encoded frame: packetized for the negotiated codec (the first, or
    /// `payload_type`), with RTP timestamp `timestamp`.
    pub async fn write_frame(
        &self,
        t: TransceiverId,
        payload_type: Option<u8>,
        timestamp: u32,
        frame: impl Into<Bytes>,
    ) -> Result<(), RtcError> {
        let frame = frame.into();
        self.call(move |c| {
            c.rtc
                .write_frame(task::now(), t, payload_type, timestamp, &frame)
        })
        .await?
    }

    /// Sends one RTP payload with the given header fields.
    pub async fn write_rtp(
        &self,
        t: TransceiverId,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: impl Into<Bytes>,
    ) -> Result<(), RtcError> {
        let payload = payload.into();
        self.call(move |c| {
            c.rtc
                .write_rtp(task::now(), t, payload_type, marker, timestamp, &payload)
        })
        .await?
    }

    /// The frames of a transceiver as a stream of their own (W3C `RTCRtpReceiver.track`):
    /// from this call on they come out of [`RemoteTrack::recv`] instead of the
    /// connection's [`PeerEvent::Frame`]; once the handle is dropped, they go back there.
    pub async fn remote_track(&self, t: TransceiverId) -> Result<RemoteTrack, RtcError> {
        self.call(move |c| c.remote_track(t)).await?
    }

    /// Asks the peer for a key frame of what a transceiver receives (PLI).
    pub async fn request_keyframe(&self, t: TransceiverId) -> Result<(), RtcError> {
        self.call(move |c| c.rtc.request_keyframe(t)).await?
    }

    /// Counters of a transceiver.
    pub async fn media_counters(&self, t: TransceiverId) -> Result<MediaCounters, RtcError> {
        self.call(move |c| c.rtc.media_counters(t))
            .await?
            .ok_or(RtcError::Unknown)
    }

    /// Runs `f` on the sans-IO core inside the task, for what this handle does not wrap
    /// (the ICE agent's pairs, codecs, stats). Outputs it causes are sent as usual.
    pub async fn with_rtc<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Rtc) -> R + Send + 'static,
    ) -> Result<R, RtcError> {
        self.call(move |c| f(&mut c.rtc)).await
    }

    /// W3C `close()`: SCTP shutdown and DTLS close_notify go out, every data channel
    /// closes, the sockets are released and the task has ended when this returns.
    /// Closing twice is fine.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.cmd.send(Command::Close(tx)).await.is_ok() {
            let _ = rx.await;
        }
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = task {
            let _ = t.await;
        }
    }
}
