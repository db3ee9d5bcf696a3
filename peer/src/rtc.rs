//! The sans-IO peer connection.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use weft_dtls_srtp::cert::{Certificate, Fingerprint as DtlsFingerprint, FingerprintAlg};
use weft_dtls_srtp::srtp::{Context as SrtpContext, ContextConfig, MasterKey};
use weft_dtls_srtp::{Endpoint as DtlsEndpoint, Role as DtlsRole};
use weft_ice::{Agent, AgentConfig, Credentials, Received, Role as IceRole};
use weft_rtp::rtcp::{self, RtcpPacket};
use weft_rtp::{RtpHeader, RtpPacket};
use weft_sctp::{Association, ChannelId, ChannelInfo, ChannelOptions, MessageKind};
use weft_sdp::{Attribute, Direction, MediaKind as SdpKind, SessionDescription as Sdp, Setup};

use crate::codec::{self, Codec, MediaKind};
use crate::event::*;
use crate::media::{self, Receiver, Transceiver, MID_URI};
use crate::sdp_build::{self, RtpSection, TransportAttrs};
use crate::stats::Stats;

pub use weft_ice::Transmit;

/// How a peer connection is set up.
#[derive(Clone)]
pub struct RtcConfig {
    /// The DTLS certificate (RFC 8827 §6.5); its fingerprint goes into every description.
    pub certificate: Arc<Certificate>,
    /// ICE: STUN/TURN servers, timers, lite mode. The role is JSEP's to set.
    pub ice: AgentConfig,
    /// Audio codecs offered, in order of preference.
    pub audio_codecs: Vec<Codec>,
    /// Video codecs offered, in order of preference.
    pub video_codecs: Vec<Codec>,
    /// Largest data channel message taken (`a=max-message-size`).
    pub max_message_size: u32,
    /// Also report every received RTP packet as [`Event::Rtp`].
    pub raw_rtp: bool,
    /// Largest UDP payload sent (RTP packets are cut to fit, SRTP tag included).
    pub mtu: usize,
    /// How often RTCP reports go out (RFC 3550 §6.2; WebRTC stacks use about a second).
    pub rtcp_interval: Duration,
    /// The SCTP engine under the data channels: weft's own (the default; issue 12) or
    /// sctp-proto.
    pub sctp_engine: weft_sctp::EngineKind,
    /// With weft's SCTP engine: the largest IP packet data channel path MTU discovery
    /// (RFC 8899) probes for, IP, UDP and DTLS headers included; 1500 (Ethernet) by
    /// default. SCTP packets start at 1200 bytes and grow only as far as probes confirm
    /// the path carries; 0 turns probing off.
    pub max_ip_mtu: usize,
    /// With weft's SCTP engine: declare I-DATA (RFC 8260), so that with a peer that
    /// declares it too the channels take turns per chunk (a large message does not hold
    /// back the others). On by default; Chromium declares it only with its field trial
    /// WebRTC-DataChannelMessageInterleaving.
    pub sctp_interleaving: bool,
}

impl RtcConfig {
    /// Defaults around a certificate.
    pub fn new(certificate: Arc<Certificate>) -> RtcConfig {
        RtcConfig {
            certificate,
            ice: AgentConfig::default(),
            audio_codecs: Codec::defaults(MediaKind::Audio),
            video_codecs: Codec::defaults(MediaKind::Video),
            max_message_size: 256 * 1024,
            raw_rtp: false,
            mtu: 1200,
            rtcp_interval: Duration::from_secs(1),
            sctp_engine: weft_sctp::EngineKind::Weft,
            max_ip_mtu: 1500,
            sctp_interleaving: true,
        }
    }
}

/// The largest SCTP packet that fits an IP packet of `ip_mtu` bytes as one DTLS 1.2
/// record in one UDP datagram: less the IP header (20 bytes for IPv4, 40 for IPv6), UDP
/// (8) and the record overhead of the costliest suite offered, AES-GCM (RFC 6347 §4.1
/// header 13, RFC 5288 §3 explicit nonce 8 and tag 16; ChaCha20-Poly1305 needs 29).
pub(crate) fn sctp_max_mtu(ip_mtu: usize, ipv4: bool) -> u32 {
    let ip = if ipv4 { 20 } else { 40 };
    ip_mtu.saturating_sub(ip + 8 + 13 + 8 + 16).min(65_535) as u32
}

/// Input to [`Rtc::handle_input`].
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A UDP datagram that arrived on local socket `local` from `src`.
    Receive {
        /// The local socket address (one given to [`Rtc::add_host_address`]).
        local: SocketAddr,
        /// The sender.
        src: SocketAddr,
        /// The payload.
        bytes: &'a [u8],
    },
}

/// Output of [`Rtc::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Output {
    /// Send a datagram.
    Transmit(Transmit),
    /// Tell the application.
    Event(Event),
}

/// Why an API call was refused (W3C names the DOMException where it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcError {
    /// `InvalidStateError`: the call does not fit the signaling state, or the connection
    /// is closed.
    InvalidState(&'static str),
    /// The SDP did not parse (line, column and what).
    SdpSyntax(String),
    /// `InvalidAccessError`/`OperationError`: the description does not fit, e.g. no
    /// fingerprint, no ICE credentials, an answer that does not answer our offer.
    InvalidDescription(String),
    /// An unknown channel or transceiver.
    Unknown,
    /// The data channel refused (closed, too big, ...).
    Channel(weft_sctp::Error),
    /// Nothing negotiated to send with, or the packetizer refused the frame.
    Media(String),
}

impl std::fmt::Display for RtcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RtcError::InvalidState(w) => write!(f, "invalid state: {w}"),
            RtcError::SdpSyntax(e) => write!(f, "SDP syntax: {e}"),
            RtcError::InvalidDescription(e) => write!(f, "invalid description: {e}"),
            RtcError::Unknown => f.write_str("unknown channel or transceiver"),
            RtcError::Channel(e) => write!(f, "data channel: {e:?}"),
            RtcError::Media(e) => write!(f, "media: {e}"),
        }
    }
}

impl std::error::Error for RtcError {}

/// Options of [`Rtc::create_offer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OfferOptions {
    /// New ICE credentials (RFC 8445 §9, RFC 8829 §5.2.1 `IceRestart`).
    pub ice_restart: bool,
}

/// A description as applied: the text the application sees and its parse.
#[derive(Clone)]
struct Applied {
    sdp_type: SdpType,
    model: Sdp<'static>,
}

/// What a media line of the bundle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Rtp(usize),
    Data,
}

/// A data channel slot.
struct Channel {
    r: ChannelRef,
    id: Option<ChannelId>,
    label: String,
    options: ChannelOptions,
    open: bool,
    closed: bool,
}

/// The DTLS/SCTP/SRTP half of the transport, once negotiation picked the DTLS role.
struct Secure {
    role: DtlsRole,
    remote_fingerprints: Vec<DtlsFingerprint>,
    dtls: Option<DtlsEndpoint>,
    connected: bool,
    failed: bool,
    srtp_tx: Option<SrtpContext>,
    srtp_rx: Option<SrtpContext>,
    sctp: Option<Association>,
    /// What the handshake agreed on (cipher, SRTP profile, peer certificate).
    info: Option<weft_dtls_srtp::Connected>,
    closed: bool,
}

/// Datagram counters of the one transport.
#[derive(Debug, Clone, Copy, Default)]
struct Traffic {
    packets_sent: u64,
    bytes_sent: u64,
    packets_received: u64,
    bytes_received: u64,
}

/// A WebRTC peer connection as a sans-IO state machine (W3C `RTCPeerConnection` over one
/// BUNDLEd ICE/DTLS transport with rtcp-mux, RFC 8829, RFC 8843, RFC 7983).
///
/// # Calling contract
/// - Give it the host's socket addresses with [`add_host_address`](Self::add_host_address)
///   (a driver binds them) before or after [`Rtc::new`]; candidates are reported once a
///   local description is set (W3C gathering starts there).
/// - Signalling is the application's: [`create_offer`](Self::create_offer) /
///   [`create_answer`](Self::create_answer), [`set_local_description`](Self::set_local_description),
///   [`set_remote_description`](Self::set_remote_description),
///   [`add_ice_candidate`](Self::add_ice_candidate), with W3C semantics.
/// - Every datagram goes to [`handle_input`](Self::handle_input);
///   [`handle_timeout`](Self::handle_timeout) when the clock reaches
///   [`poll_timeout`](Self::poll_timeout); `now` never goes backwards.
/// - After every call (input, timeout or API), drain [`poll_output`](Self::poll_output):
///   transmits and events in order. A datagram handed to `handle_input` only queues work;
///   `poll_output` does it, so a driver may hand in every datagram already waiting on its
///   socket and then drain once (one pass over the layers, one SCTP poll, per burst).
/// - API calls that take no `now` (data channel sends, descriptions, candidates) happen at
///   the time of the last `handle_input`/`handle_timeout`. A driver that has been idle
///   calls [`handle_timeout`](Self::handle_timeout) with the current time first: calling
///   it before [`poll_timeout`](Self::poll_timeout) is allowed and fires nothing early.
/// - The core reads no clock, opens no socket and spawns nothing; randomness comes from
///   the seed (and ring's system RNG inside DTLS key exchange, which ring requires).
pub struct Rtc {
    config: RtcConfig,
    rng: ChaCha20Rng,
    now: Instant,
    start: Instant,
    fingerprint: DtlsFingerprint,
    cname: String,
    session_id: u64,
    session_version: u64,
    signaling: SignalingState,
    pending_local: Option<Applied>,
    current_local: Option<Applied>,
    pending_remote: Option<Applied>,
    current_remote: Option<Applied>,
    /// The bundle, in m-line order (mids are assigned when a line joins).
    lines: Vec<(String, Line)>,
    /// Our DTLS setup in the last answer we made or took, reused in later offers
    /// (RFC 8842 §5.5: a later offer keeps the role; weft offers actpass only first).
    negotiated_setup: Option<Setup>,
    ice: Agent,
    gathering: IceGatheringState,
    gathering_started: bool,
    local_candidates: Vec<weft_ice::Candidate>,
    remote_candidates_pending: Vec<IceCandidateInit>,
    ice_state: IceConnectionState,
    conn_state: PeerConnectionState,
    secure: Option<Secure>,
    early_dtls: Vec<Vec<u8>>,
    transceivers: Vec<Transceiver>,
    data_wanted: bool,
    remote_max_message_size: u32,
    remote_sctp_port: u16,
    channels: Vec<Channel>,
    next_channel: u32,
    negotiation_needed: bool,
    next_rtcp: Option<Instant>,
    last_pli: Vec<(u32, Instant)>,
    out: VecDeque<Output>,
    /// Input arrived since the layers' outputs last moved (see `poll_output`).
    dirty: bool,
    traffic: Traffic,
    closed: bool,
}

fn random_string(rng: &mut ChaCha20Rng, n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| char::from(ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()]))
        .collect()
}

impl Rtc {
    /// A peer connection at time `now`; every random choice is drawn from `seed`.
    pub fn new(now: Instant, config: RtcConfig, seed: [u8; 32]) -> Rtc {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let mut ice_seed = [0u8; 32];
        rng.fill_bytes(&mut ice_seed);
        let ice = Agent::new(config.ice.clone(), ice_seed);
        let fingerprint = config.certificate.fingerprint(FingerprintAlg::Sha256);
        let cname = random_string(&mut rng, 16);
        // RFC 8829 §5.2.1: a session id below 2^63.
        let session_id = rng.next_u64() >> 2;
        Rtc {
            config,
            rng,
            now,
            start: now,
            fingerprint,
            cname,
            session_id,
            session_version: 1,
            signaling: SignalingState::Stable,
            pending_local: None,
            current_local: None,
            pending_remote: None,
            current_remote: None,
            lines: Vec::new(),
            negotiated_setup: None,
            ice,
            gathering: IceGatheringState::New,
            gathering_started: false,
            local_candidates: Vec::new(),
            remote_candidates_pending: Vec::new(),
            ice_state: IceConnectionState::New,
            conn_state: PeerConnectionState::New,
            secure: None,
            early_dtls: Vec::new(),
            transceivers: Vec::new(),
            data_wanted: false,
            remote_max_message_size: weft_sctp::SDP_DEFAULT_MAX_MESSAGE_SIZE,
            remote_sctp_port: 5000,
            channels: Vec::new(),
            next_channel: 0,
            negotiation_needed: false,
            next_rtcp: None,
            last_pli: Vec::new(),
            out: VecDeque::new(),
            dirty: false,
            traffic: Traffic::default(),
            closed: false,
        }
    }

    // --- getters ---------------------------------------------------------------------

    /// W3C `signalingState`.
    pub fn signaling_state(&self) -> SignalingState {
        self.signaling
    }

    /// W3C `iceConnectionState`.
    pub fn ice_connection_state(&self) -> IceConnectionState {
        self.ice_state
    }

    /// W3C `iceGatheringState`.
    pub fn ice_gathering_state(&self) -> IceGatheringState {
        self.gathering
    }

    /// W3C `connectionState`.
    pub fn connection_state(&self) -> PeerConnectionState {
        self.conn_state
    }

    /// Our certificate's fingerprint.
    pub fn fingerprint(&self) -> &DtlsFingerprint {
        &self.fingerprint
    }

    /// The ICE agent, for researchers (pairs, stats).
    pub fn ice_agent(&self) -> &Agent {
        &self.ice
    }

    /// W3C `localDescription`: the pending one if any, else the current one, with the
    /// candidates gathered so far (and end-of-candidates once gathering is complete).
    pub fn local_description(&self) -> Option<SessionDescription> {
        let a = self
            .pending_local
            .as_ref()
            .or(self.current_local.as_ref())?;
        Some(self.with_candidates(a))
    }

    /// W3C `currentLocalDescription`.
    pub fn current_local_description(&self) -> Option<SessionDescription> {
        self.current_local.as_ref().map(|a| self.with_candidates(a))
    }

    /// W3C `pendingLocalDescription`.
    pub fn pending_local_description(&self) -> Option<SessionDescription> {
        self.pending_local.as_ref().map(|a| self.with_candidates(a))
    }

    /// W3C `remoteDescription`.
    pub fn remote_description(&self) -> Option<SessionDescription> {
        let a = self
            .pending_remote
            .as_ref()
            .or(self.current_remote.as_ref())?;
        Some(text(a))
    }

    /// W3C `currentRemoteDescription`.
    pub fn current_remote_description(&self) -> Option<SessionDescription> {
        self.current_remote.as_ref().map(text)
    }

    /// W3C `pendingRemoteDescription`.
    pub fn pending_remote_description(&self) -> Option<SessionDescription> {
        self.pending_remote.as_ref().map(text)
    }

    fn with_candidates(&self, a: &Applied) -> SessionDescription {
        let mut model = a.model.clone();
        let ufrag = self.ice.local_credentials().ufrag.clone();
        if let Some(first) = model.media.iter_mut().find(|m| m.port != 0) {
            for c in &self.local_candidates {
                first
                    .attributes
                    .push(Attribute::Candidate(Box::new(sdp_build::candidate(
                        c, &ufrag,
                    ))));
            }
            if self.gathering == IceGatheringState::Complete {
                first.attributes.push(Attribute::EndOfCandidates);
            }
        }
        SessionDescription {
            sdp_type: a.sdp_type,
            sdp: model.to_sdp_string(),
        }
    }

    // --- set-up ----------------------------------------------------------------------

    /// A local socket the driver bound: a host candidate (and the start of STUN/TURN
    /// gathering from it).
    pub fn add_host_address(&mut self, addr: SocketAddr) {
        self.ice.add_host_address(self.now, addr);
        self.pump();
    }

    /// W3C `createDataChannel`: the channel opens once the transport is up (negotiation
    /// adds the data section if there is none yet: `negotiationneeded`).
    pub fn create_data_channel(
        &mut self,
        label: &str,
        options: ChannelOptions,
    ) -> Result<ChannelRef, RtcError> {
        if self.closed {
            return Err(RtcError::InvalidState("closed"));
        }
        let r = ChannelRef(self.next_channel);
        self.next_channel += 1;
        let mut ch = Channel {
            r,
            id: None,
            label: label.to_owned(),
            options,
            open: false,
            closed: false,
        };
        if let Some(sctp) = self.secure.as_mut().and_then(|s| s.sctp.as_mut()) {
            ch.id = Some(
                sctp.open_channel(label, ch.options.clone())
                    .map_err(RtcError::Channel)?,
            );
        }
        self.channels.push(ch);
        if !self.data_wanted {
            self.data_wanted = true;
            if !self.lines.iter().any(|(_, l)| *l == Line::Data) {
                self.need_negotiation();
            }
        }
        self.pump();
        Ok(r)
    }

    /// W3C `addTransceiver(kind, {direction})`.
    pub fn add_transceiver(&mut self, kind: MediaKind, direction: Direction) -> TransceiverId {
        let stream = format!("weft-{}", random_string(&mut self.rng, 8));
        let track = random_string(&mut self.rng, 12);
        let id = self.new_transceiver(kind, direction, stream, track);
        self.need_negotiation();
        id
    }

    /// W3C `addTrack`: reuses a transceiver of the same kind that the remote offered and
    /// that sends nothing yet, else adds a sendrecv one.
    pub fn add_track(&mut self, kind: MediaKind, stream_id: &str, track_id: &str) -> TransceiverId {
        if let Some(i) = self.transceivers.iter().position(|t| {
            t.kind == kind
                && !t.stopped
                && t.mid.is_some()
                && !media::can_send(t.direction)
                && t.track_id.starts_with("remote-")
        }) {
            let t = &mut self.transceivers[i];
            t.direction = media::from_flags(true, media::can_recv(t.direction));
            t.stream_id = stream_id.to_owned();
            t.track_id = track_id.to_owned();
            self.need_negotiation();
            return TransceiverId(i);
        }
        let id = self.new_transceiver(kind, Direction::SendRecv, stream_id.into(), track_id.into());
        self.need_negotiation();
        id
    }

    fn new_transceiver(
        &mut self,
        kind: MediaKind,
        direction: Direction,
        stream: String,
        track: String,
    ) -> TransceiverId {
        let codecs = match kind {
            MediaKind::Audio => self.config.audio_codecs.clone(),
            MediaKind::Video => self.config.video_codecs.clone(),
        };
        let ids = [
            self.rng.next_u32(),
            self.rng.next_u32(),
            self.rng.next_u32(),
            self.rng.next_u32(),
        ];
        self.transceivers.push(Transceiver::new(
            kind, direction, codecs, ids, stream, track,
        ));
        self.need_negotiation();
        TransceiverId(self.transceivers.len() - 1)
    }

    /// W3C `transceiver.direction = d` (renegotiation follows).
    pub fn set_direction(&mut self, t: TransceiverId, d: Direction) -> Result<(), RtcError> {
        let tr = self.transceivers.get_mut(t.0).ok_or(RtcError::Unknown)?;
        if tr.direction != d {
            tr.direction = d;
            self.need_negotiation();
        }
        Ok(())
    }

    /// A transceiver's mid, once negotiated.
    pub fn mid(&self, t: TransceiverId) -> Option<&str> {
        self.transceivers.get(t.0)?.mid.as_deref()
    }

    /// Audio or video.
    pub fn media_kind(&self, t: TransceiverId) -> Option<MediaKind> {
        self.transceivers.get(t.0).map(|t| t.kind)
    }

    /// The negotiated codecs of a transceiver (ours before negotiation).
    pub fn codecs(&self, t: TransceiverId) -> Option<&[Codec]> {
        self.transceivers.get(t.0).map(|t| t.codecs.as_slice())
    }

    /// The negotiated direction of a transceiver (W3C `currentDirection`).
    pub fn current_direction(&self, t: TransceiverId) -> Option<Direction> {
        self.transceivers.get(t.0)?.current_direction
    }

    /// W3C §4.7.3 "update the negotiation-needed flag" after an API change: in `stable`,
    /// `negotiationneeded` fires when the flag turns on; in other states the check waits
    /// for the return to `stable`.
    fn need_negotiation(&mut self) {
        if self.closed || self.signaling != SignalingState::Stable {
            return;
        }
        let needed = self.negotiation_needed_now();
        if needed && !self.negotiation_needed {
            self.out.push_back(Output::Event(Event::NegotiationNeeded));
        }
        self.negotiation_needed = needed;
    }

    /// W3C §4.7.3 "check if negotiation is needed".
    fn negotiation_needed_now(&self) -> bool {
        if self
            .transceivers
            .iter()
            .any(|t| !t.stopped && t.mid.is_none())
        {
            return true;
        }
        if self.data_wanted && !self.lines.iter().any(|(_, l)| *l == Line::Data) {
            return true;
        }
        let (Some(cl), Some(cr)) = (&self.current_local, &self.current_remote) else {
            return !self.lines.is_empty();
        };
        for t in self.transceivers.iter().filter(|t| !t.stopped) {
            let Some(mid) = t.mid.as_deref() else {
                continue;
            };
            let (Some(lm), Some(rm)) = (cl.model.media_by_mid(mid), cr.model.media_by_mid(mid))
            else {
                return true;
            };
            let ours = cl.model.direction(lm);
            let theirs = cr.model.direction(rm);
            let changed = if cl.sdp_type == SdpType::Offer {
                ours != t.direction && media::answer_direction(t.direction, theirs) != ours
            } else {
                ours != media::answer_direction(t.direction, theirs)
            };
            if changed {
                return true;
            }
        }
        false
    }

    // --- JSEP ------------------------------------------------------------------------

    fn transport_attrs(&self, setup: Setup) -> (String, String, DtlsFingerprint, Setup) {
        let c = self.ice.local_credentials();
        (
            c.ufrag.clone(),
            c.pwd.clone(),
            self.fingerprint.clone(),
            setup,
        )
    }

    fn next_mid(&self) -> String {
        let mut n = self.lines.len();
        loop {
            let m = n.to_string();
            if !self.lines.iter().any(|(mid, _)| *mid == m) {
                return m;
            }
            n += 1;
        }
    }

    /// W3C `createOffer` (RFC 8829 §5.2): every transceiver and the data section, in the
    /// bundle order of earlier negotiations, new ones appended.
    pub fn create_offer(&mut self, options: OfferOptions) -> Result<SessionDescription, RtcError> {
        if self.closed {
            return Err(RtcError::InvalidState("closed"));
        }
        if !matches!(
            self.signaling,
            SignalingState::Stable | SignalingState::HaveLocalOffer
        ) {
            return Err(RtcError::InvalidState(
                "createOffer needs stable or have-local-offer",
            ));
        }
        if options.ice_restart {
            self.ice.restart(self.now, None);
            self.local_candidates.clear();
            self.gathering_started = false;
            self.gathering = IceGatheringState::New;
        }
        // Lines not yet in the bundle join it now.
        for i in 0..self.transceivers.len() {
            if self.transceivers[i].mid.is_none() && !self.transceivers[i].stopped {
                let mid = self.next_mid();
                self.transceivers[i].mid = Some(mid.clone());
                self.lines.push((mid, Line::Rtp(i)));
            }
        }
        if self.data_wanted && !self.lines.iter().any(|(_, l)| *l == Line::Data) {
            let mid = self.next_mid();
            self.lines.push((mid, Line::Data));
        }
        // RFC 8842 §5.2: actpass in an initial offer; later offers keep the role taken.
        let setup = match self.negotiated_setup {
            Some(s) if self.secure.is_some() => s,
            _ => Setup::ActPass,
        };
        let model = self.build(setup, None);
        self.session_version += 1;
        Ok(SessionDescription {
            sdp_type: SdpType::Offer,
            sdp: model.to_sdp_string(),
        })
    }

    /// W3C `createAnswer` (RFC 8829 §5.3): answers the pending remote offer.
    pub fn create_answer(&mut self) -> Result<SessionDescription, RtcError> {
        if self.closed {
            return Err(RtcError::InvalidState("closed"));
        }
        if !matches!(
            self.signaling,
            SignalingState::HaveRemoteOffer | SignalingState::HaveLocalPranswer
        ) {
            return Err(RtcError::InvalidState(
                "createAnswer needs have-remote-offer",
            ));
        }
        let offer = self
            .pending_remote
            .as_ref()
            .map(|a| a.model.clone())
            .ok_or(RtcError::InvalidState("no remote offer"))?;
        // RFC 8842 §5.1 and RFC 8829 §5.3.1: answer actpass with active (we are the DTLS
        // client); answer active with passive and passive with active.
        let first = offer.media.iter().find(|m| m.port != 0);
        let setup = match (self.negotiated_setup, first.and_then(|m| offer.setup(m))) {
            (Some(s), _) if self.secure.is_some() => s,
            (_, Some(Setup::Active)) => Setup::Passive,
            _ => Setup::Active,
        };
        let model = self.build(setup, Some(&offer));
        self.session_version += 1;
        Ok(SessionDescription {
            sdp_type: SdpType::Answer,
            sdp: model.to_sdp_string(),
        })
    }

    /// Builds our description for every line; `offer` is the remote offer when answering.
    fn build(&mut self, setup: Setup, offer: Option<&Sdp<'static>>) -> Sdp<'static> {
        let (ufrag, pwd, fingerprint, setup) = self.transport_attrs(setup);
        let t = TransportAttrs {
            ufrag: &ufrag,
            pwd: &pwd,
            fingerprint: &fingerprint,
            setup,
        };
        let mut desc = Sdp::new(self.session_id, self.session_version);
        let mut bundle = Vec::new();
        for (mid, line) in &self.lines {
            let remote = offer.and_then(|o| o.media_by_mid(mid));
            let m = match *line {
                Line::Data => {
                    let rejected = remote.is_some_and(|r| r.port == 0);
                    sdp_build::data_section(mid, &t, self.config.max_message_size, rejected)
                }
                Line::Rtp(i) => {
                    let tr = &self.transceivers[i];
                    let (direction, codecs, mid_ext) = match (offer, remote) {
                        (Some(o), Some(r)) => {
                            let offered = codec::from_section(r);
                            let codecs =
                                codec::intersect(&tr.codecs_offered(&self.config), &offered);
                            let dir = media::answer_direction(tr.direction, o.direction(r));
                            let ext = r.extmap_id(MID_URI).and_then(|id| u8::try_from(id).ok());
                            (dir, codecs, ext)
                        }
                        _ => (
                            tr.direction,
                            tr.codecs.clone(),
                            Some(tr.mid_ext.unwrap_or(9)),
                        ),
                    };
                    let rejected =
                        tr.stopped || codecs.is_empty() || remote.is_some_and(|r| r.port == 0);
                    let sends = media::can_send(direction);
                    let rtx = codecs.iter().any(|c| c.rtx.is_some());
                    sdp_build::rtp_section(
                        &RtpSection {
                            kind: tr.kind,
                            mid,
                            direction,
                            codecs: &codecs,
                            mid_ext,
                            stream_id: &tr.stream_id,
                            track_id: &tr.track_id,
                            cname: &self.cname,
                            ssrcs: sends
                                .then_some((tr.sender.ssrc, rtx.then_some(tr.sender.rtx_ssrc))),
                        },
                        &t,
                        rejected,
                    )
                }
            };
            if m.port != 0 {
                bundle.push(mid.clone());
            }
            desc.media.push(m);
        }
        desc.attributes = sdp_build::session_attributes(&bundle);
        desc
    }

    /// W3C `setLocalDescription` with a description from `create_offer`/`create_answer`
    /// (or a rollback).
    pub fn set_local_description(&mut self, desc: SessionDescription) -> Result<(), RtcError> {
        if self.closed {
            return Err(RtcError::InvalidState("closed"));
        }
        if desc.sdp_type == SdpType::Rollback {
            return self.rollback(true);
        }
        let model = parse(&desc.sdp)?;
        let applied = Applied {
            sdp_type: desc.sdp_type,
            model,
        };
        match (desc.sdp_type, self.signaling) {
            (SdpType::Offer, SignalingState::Stable | SignalingState::HaveLocalOffer) => {
                self.pending_local = Some(applied);
                self.set_signaling(SignalingState::HaveLocalOffer);
                // RFC 8829 §5.1.1: the offerer is ICE-controlling.
                self.ice.set_role(IceRole::Controlling);
            }
            (
                SdpType::Answer | SdpType::Pranswer,
                SignalingState::HaveRemoteOffer | SignalingState::HaveLocalPranswer,
            ) => {
                let pranswer = desc.sdp_type == SdpType::Pranswer;
                if pranswer {
                    self.pending_local = Some(applied);
                    self.set_signaling(SignalingState::HaveLocalPranswer);
                } else {
                    self.current_local = Some(applied);
                    self.current_remote = self.pending_remote.take();
                    self.pending_local = None;
                    self.negotiated(false)?;
                    self.set_signaling(SignalingState::Stable);
                }
            }
            _ => {
                return Err(RtcError::InvalidState(
                    "setLocalDescription type does not fit the signaling state",
                ))
            }
        }
        self.start_gathering();
        self.pump();
        Ok(())
    }

    /// W3C `setRemoteDescription`. An offer in `have-local-offer` rolls our offer back
    /// first (the implicit rollback perfect negotiation relies on).
    pub fn set_remote_description(&mut self, desc: SessionDescription) -> Result<(), RtcError> {
        if self.closed {
            return Err(RtcError::InvalidState("closed"));
        }
        if desc.sdp_type == SdpType::Rollback {
            return self.rollback(false);
        }
        let model = parse(&desc.sdp)?;
        validate(&model)?;
        let applied = Applied {
            sdp_type: desc.sdp_type,
            model,
        };
        match (desc.sdp_type, self.signaling) {
            (SdpType::Offer, SignalingState::Stable | SignalingState::HaveRemoteOffer) => {}
            (SdpType::Offer, SignalingState::HaveLocalOffer) => self.rollback(true)?,
            (
                SdpType::Answer | SdpType::Pranswer,
                SignalingState::HaveLocalOffer | SignalingState::HaveRemotePranswer,
            ) => {}
            _ => {
                return Err(RtcError::InvalidState(
                    "setRemoteDescription type does not fit the signaling state",
                ))
            }
        }
        if desc.sdp_type == SdpType::Offer && self.remote_ufrag_changed(&applied.model) {
            // RFC 8839 §4.4.1.1.1: an answer to an ICE restart has new credentials too.
            self.ice.restart(self.now, None);
            self.local_candidates.clear();
            self.gathering_started = false;
            self.gathering = IceGatheringState::New;
        }
        self.apply_remote_transport(&applied.model);
        match desc.sdp_type {
            SdpType::Offer => {
                self.take_remote_lines(&applied.model);
                self.pending_remote = Some(applied);
                self.ice.set_role(IceRole::Controlled);
                self.set_signaling(SignalingState::HaveRemoteOffer);
                self.fire_tracks();
            }
            SdpType::Pranswer => {
                self.pending_remote = Some(applied);
                self.set_signaling(SignalingState::HaveRemotePranswer);
            }
            _ => {
                self.current_remote = Some(applied);
                self.current_local = self.pending_local.take();
                self.pending_remote = None;
                self.negotiated(true)?;
                self.set_signaling(SignalingState::Stable);
                self.fire_tracks();
            }
        }
        let queued = std::mem::take(&mut self.remote_candidates_pending);
        for c in queued {
            let _ = self.add_ice_candidate(c);
        }
        self.pump();
        Ok(())
    }

    fn rollback(&mut self, local: bool) -> Result<(), RtcError> {
        // What stays in the bundle: the lines of the current local description.
        let keep: Vec<String> = self
            .current_local
            .as_ref()
            .map(|a| {
                a.model
                    .media
                    .iter()
                    .filter_map(|m| m.mid().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        match (self.signaling, local) {
            // Our offer is withdrawn: lines it added leave the bundle again.
            (SignalingState::HaveLocalOffer | SignalingState::HaveRemotePranswer, true)
            | (SignalingState::HaveLocalOffer, false) => self.unbundle(&keep, false),
            // The remote offer is withdrawn: W3C §4.4.1.5, transceivers it created go away.
            (SignalingState::HaveRemoteOffer | SignalingState::HaveLocalPranswer, _) => {
                self.unbundle(&keep, true)
            }
            _ => return Err(RtcError::InvalidState("nothing to roll back")),
        }
        self.pending_local = None;
        self.pending_remote = None;
        self.set_signaling(SignalingState::Stable);
        Ok(())
    }

    /// Lines not in `keep` leave the bundle and their transceivers lose their mid; with
    /// `stop_remote`, transceivers a remote offer created are stopped too.
    fn unbundle(&mut self, keep: &[String], stop_remote: bool) {
        self.lines.retain(|(mid, _)| keep.contains(mid));
        for t in &mut self.transceivers {
            if t.mid.as_ref().is_some_and(|m| !keep.contains(m)) {
                t.mid = None;
                if stop_remote && t.track_id.starts_with("remote-") {
                    t.stopped = true;
                }
            }
        }
    }

    fn set_signaling(&mut self, s: SignalingState) {
        if self.signaling != s {
            self.signaling = s;
            self.out.push_back(Output::Event(Event::SignalingState(s)));
            if s == SignalingState::Stable {
                // W3C §4.4.1.6: back in stable, the flag is updated and, if set, fires.
                self.negotiation_needed = self.negotiation_needed_now();
                if self.negotiation_needed {
                    self.out.push_back(Output::Event(Event::NegotiationNeeded));
                }
            }
        }
    }

    /// The remote offer's media lines: match ours by mid, create transceivers for new
    /// audio/video lines (W3C §4.4.1.6 step "create an RTCRtpTransceiver"), adopt a data
    /// section.
    fn take_remote_lines(&mut self, offer: &Sdp<'static>) {
        for m in &offer.media {
            let Some(mid) = m.mid() else { continue };
            if self.lines.iter().any(|(l, _)| l == mid) {
                continue;
            }
            let line = match m.kind {
                SdpKind::Application => Line::Data,
                SdpKind::Audio | SdpKind::Video => {
                    let kind = if m.kind == SdpKind::Audio {
                        MediaKind::Audio
                    } else {
                        MediaKind::Video
                    };
                    // An unassociated transceiver of ours of this kind takes the line
                    // (JSEP §5.10), else a new recvonly one.
                    let i = match self
                        .transceivers
                        .iter()
                        .position(|t| t.kind == kind && t.mid.is_none() && !t.stopped)
                    {
                        Some(i) => i,
                        None => {
                            let track = format!("remote-{}", random_string(&mut self.rng, 8));
                            let stream = format!("weft-{}", random_string(&mut self.rng, 8));
                            let id = self.new_transceiver(kind, Direction::RecvOnly, stream, track);
                            id.0
                        }
                    };
                    self.transceivers[i].mid = Some(mid.to_owned());
                    Line::Rtp(i)
                }
                _ => continue,
            };
            if line == Line::Data && self.lines.iter().any(|(_, l)| *l == Line::Data) {
                continue;
            }
            self.lines.push((mid.to_owned(), line));
        }
    }

    /// Whether a remote description's ICE ufrag differs from the one of the current remote
    /// description: the remote restarts ICE (RFC 8445 §9).
    fn remote_ufrag_changed(&self, model: &Sdp<'static>) -> bool {
        let ufrag = |d: &Sdp<'static>| {
            let m = d.media.iter().find(|m| m.port != 0)?;
            d.ice_credentials(m).map(|c| c.ufrag.to_owned())
        };
        match self.current_remote.as_ref().and_then(|c| ufrag(&c.model)) {
            Some(old) => ufrag(model).is_some_and(|new| new != old),
            None => false,
        }
    }

    /// ICE credentials and candidates of a remote description (RFC 8839 §5.4), the same for
    /// every bundled section: the first accepted section's are used.
    fn apply_remote_transport(&mut self, model: &Sdp<'static>) {
        let Some(m) = model.media.iter().find(|m| m.port != 0) else {
            return;
        };
        if let Some(c) = model.ice_credentials(m) {
            self.ice
                .set_remote_credentials(self.now, Credentials::new(c.ufrag, c.pwd));
        }
        self.ice.set_remote_lite(model.is_ice_lite());
        for mm in &model.media {
            for c in mm.candidates() {
                if let Some(cand) = sdp_build::ice_candidate(c) {
                    self.ice.add_remote_candidate(self.now, cand);
                }
            }
            if mm.end_of_candidates() {
                self.ice.end_of_remote_candidates(self.now);
            }
        }
    }

    /// Both descriptions of a round are applied: settle every line, start DTLS.
    fn negotiated(&mut self, remote_is_answer: bool) -> Result<(), RtcError> {
        let (Some(local), Some(remote)) = (&self.current_local, &self.current_remote) else {
            return Ok(());
        };
        let (local, remote) = (local.model.clone(), remote.model.clone());
        let answer = if remote_is_answer { &remote } else { &local };
        for (mid, line) in self.lines.clone() {
            let (Some(lm), Some(rm)) = (local.media_by_mid(&mid), remote.media_by_mid(&mid)) else {
                continue;
            };
            match line {
                Line::Data => {
                    if rm.port != 0 && lm.port != 0 {
                        self.remote_sctp_port = rm.sctp_port().unwrap_or(5000);
                        self.remote_max_message_size = rm
                            .max_message_size()
                            .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
                            .unwrap_or(weft_sctp::SDP_DEFAULT_MAX_MESSAGE_SIZE);
                    }
                }
                Line::Rtp(i) => {
                    let am = answer.media_by_mid(&mid).unwrap_or(lm);
                    let codecs = codec::from_section(am);
                    let rejected = lm.port == 0 || rm.port == 0;
                    let tr = &mut self.transceivers[i];
                    // W3C currentDirection: our answer's direction, or the reverse of
                    // the remote answer's.
                    tr.current_direction = Some(if rejected {
                        Direction::Inactive
                    } else if remote_is_answer {
                        media::reverse(remote.direction(rm))
                    } else {
                        local.direction(lm)
                    });
                    if !codecs.is_empty() {
                        // The answer's payload types, with our feedback view.
                        tr.codecs = codecs;
                    }
                    tr.mid_ext = am.extmap_id(MID_URI).and_then(|id| u8::try_from(id).ok());
                    tr.remote_ssrcs.clear();
                    tr.remote_rtx.clear();
                    for a in rm.ssrc_attributes() {
                        if !tr.remote_ssrcs.contains(&a.ssrc) {
                            tr.remote_ssrcs.push(a.ssrc);
                        }
                    }
                    for g in rm.ssrc_groups() {
                        if g.semantics == "FID" && g.ssrcs.len() == 2 {
                            tr.remote_rtx.push((g.ssrcs[1], g.ssrcs[0]));
                        }
                    }
                }
            }
        }
        // The DTLS role (RFC 8842 §5.1): from our own setup in the answer or offer.
        let first = local.media.iter().find(|m| m.port != 0);
        let ours = first.and_then(|m| local.setup(m));
        let theirs = remote
            .media
            .iter()
            .find(|m| m.port != 0)
            .and_then(|m| remote.setup(m));
        let role = match (ours, theirs) {
            (Some(Setup::Active), _) => DtlsRole::Client,
            (Some(Setup::Passive), _) => DtlsRole::Server,
            (_, Some(Setup::Active)) => DtlsRole::Server,
            (_, Some(Setup::Passive)) => DtlsRole::Client,
            _ => return Err(RtcError::InvalidDescription("no usable a=setup".into())),
        };
        self.negotiated_setup = Some(if role == DtlsRole::Client {
            Setup::Active
        } else {
            Setup::Passive
        });
        let fps: Vec<DtlsFingerprint> = remote
            .media
            .iter()
            .find(|m| m.port != 0)
            .map(|m| {
                remote
                    .fingerprints(m)
                    .filter_map(|f| {
                        format!("{} {}", f.hash.as_str(), crate::stats::hex_colon(&f.bytes))
                            .parse()
                            .ok()
                    })
                    .collect()
            })
            .unwrap_or_default();
        if fps.is_empty() {
            return Err(RtcError::InvalidDescription(
                "no usable a=fingerprint".into(),
            ));
        }
        if self.secure.is_none() {
            self.secure = Some(Secure {
                role,
                remote_fingerprints: fps,
                dtls: None,
                connected: false,
                failed: false,
                srtp_tx: None,
                srtp_rx: None,
                sctp: None,
                info: None,
                closed: false,
            });
            self.maybe_start_dtls();
        }
        self.maybe_start_sctp();
        Ok(())
    }

    fn fire_tracks(&mut self) {
        let Some(remote) = self
            .pending_remote
            .as_ref()
            .or(self.current_remote.as_ref())
        else {
            return;
        };
        let model = remote.model.clone();
        for (i, t) in self.transceivers.iter_mut().enumerate() {
            let Some(mid) = t.mid.clone() else { continue };
            let Some(m) = model.media_by_mid(&mid) else {
                continue;
            };
            if m.port != 0 && media::can_send(model.direction(m)) && !t.track_fired {
                t.track_fired = true;
                self.out.push_back(Output::Event(Event::Track {
                    transceiver: TransceiverId(i),
                    mid,
                    kind: t.kind,
                }));
            }
        }
    }

    fn start_gathering(&mut self) {
        if self.gathering_started {
            return;
        }
        self.gathering_started = true;
        self.set_gathering(IceGatheringState::Gathering);
        let ufrag = self.ice.local_credentials().ufrag.clone();
        let (mid, index) = self.first_mid();
        for c in self.ice.local_candidates() {
            if !self.local_candidates.contains(&c) {
                self.local_candidates.push(c.clone());
            }
            self.out
                .push_back(Output::Event(Event::IceCandidate(Some(IceCandidateInit {
                    candidate: c.to_sdp(),
                    sdp_mid: mid.clone(),
                    sdp_m_line_index: index,
                    username_fragment: Some(ufrag.clone()),
                }))));
        }
        self.check_gathering_done();
    }

    fn first_mid(&self) -> (Option<String>, Option<u16>) {
        match self.lines.first() {
            Some((mid, _)) => (Some(mid.clone()), Some(0)),
            None => (None, None),
        }
    }

    fn check_gathering_done(&mut self) {
        if self.gathering_started
            && self.gathering == IceGatheringState::Gathering
            && self.ice.gathering_state() != IceGatheringState::Gathering
        {
            self.set_gathering(IceGatheringState::Complete);
            self.out.push_back(Output::Event(Event::IceCandidate(None)));
        }
    }

    fn set_gathering(&mut self, g: IceGatheringState) {
        if self.gathering != g {
            self.gathering = g;
            self.out
                .push_back(Output::Event(Event::IceGatheringState(g)));
        }
    }

    /// W3C `addIceCandidate`: a trickled remote candidate, or end-of-candidates when
    /// `candidate` is empty. Before a remote description exists it is queued.
    pub fn add_ice_candidate(&mut self, c: IceCandidateInit) -> Result<(), RtcError> {
        if self.closed {
            return Err(RtcError::InvalidState("closed"));
        }
        if self.pending_remote.is_none() && self.current_remote.is_none() {
            self.remote_candidates_pending.push(c);
            return Ok(());
        }
        if c.candidate.trim().is_empty() {
            self.ice.end_of_remote_candidates(self.now);
        } else {
            let parsed = weft_sdp::parse_candidate(c.candidate.trim())
                .map_err(|e| RtcError::SdpSyntax(e.to_string()))?;
            // mDNS names and TCP candidates are dropped: checks find the path.
            if let Some(cand) = sdp_build::ice_candidate(&parsed) {
                self.ice.add_remote_candidate(self.now, cand);
            }
        }
        self.pump();
        Ok(())
    }

    // --- data channels ---------------------------------------------------------------

    /// What is known of a channel.
    pub fn channel(&self, r: ChannelRef) -> Option<ChannelInfo> {
        let ch = self.channels.iter().find(|c| c.r == r)?;
        let from_sctp = ch.id.and_then(|id| {
            self.secure
                .as_ref()
                .and_then(|s| s.sctp.as_ref())
                .and_then(|a| a.channel(id).cloned())
        });
        Some(from_sctp.unwrap_or(ChannelInfo {
            id: ch.id.unwrap_or(u16::MAX),
            label: ch.label.clone(),
            protocol: ch.options.protocol.clone(),
            reliability: ch.options.reliability,
            priority: ch.options.priority,
            negotiated: ch.options.negotiated.is_some(),
            remote: false,
            state: if ch.closed {
                weft_sctp::ChannelState::Closed
            } else {
                weft_sctp::ChannelState::Connecting
            },
            stats: Default::default(),
            buffered_amount_low_threshold: 0,
        }))
    }

    /// The association and SCTP stream id of a channel that has one.
    fn open_channel_sctp(
        &mut self,
        r: ChannelRef,
    ) -> Result<(&mut Association, ChannelId), RtcError> {
        let id = self
            .channels
            .iter()
            .find(|c| c.r == r)
            .ok_or(RtcError::Unknown)?
            .id
            .ok_or(RtcError::InvalidState("channel not open"))?;
        let sctp = self
            .secure
            .as_mut()
            .and_then(|s| s.sctp.as_mut())
            .ok_or(RtcError::InvalidState("channel not open"))?;
        Ok((sctp, id))
    }

    /// Sends a message on an open channel.
    pub fn send(&mut self, r: ChannelRef, kind: MessageKind, data: &[u8]) -> Result<(), RtcError> {
        let (sctp, id) = self.open_channel_sctp(r)?;
        sctp.send(id, kind, data).map_err(RtcError::Channel)?;
        self.pump();
        Ok(())
    }

    /// `bufferedAmount` of a channel.
    pub fn buffered_amount(&mut self, r: ChannelRef) -> usize {
        let Some(id) = self.channels.iter().find(|c| c.r == r).and_then(|c| c.id) else {
            return 0;
        };
        self.secure
            .as_mut()
            .and_then(|s| s.sctp.as_mut())
            .map_or(0, |a| a.buffered_amount(id))
    }

    /// W3C `bufferedAmountLowThreshold`: [`Event::BufferedAmountLow`] fires when the
    /// channel's buffered amount falls to it.
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        r: ChannelRef,
        threshold: usize,
    ) -> Result<(), RtcError> {
        let (sctp, id) = self.open_channel_sctp(r)?;
        sctp.set_buffered_amount_low_threshold(id, threshold)
            .map_err(RtcError::Channel)
    }

    /// Closes a channel (RFC 8831 §6.7: its stream is reset).
    pub fn close_channel(&mut self, r: ChannelRef) -> Result<(), RtcError> {
        let ch = self
            .channels
            .iter_mut()
            .find(|c| c.r == r)
            .ok_or(RtcError::Unknown)?;
        if ch.closed {
            return Ok(());
        }
        match (ch.id, self.secure.as_mut().and_then(|s| s.sctp.as_mut())) {
            // The stream reset runs; `ChannelClosed` follows when it is done (W3C: the
            // closing side gets its `close` event too).
            (Some(id), Some(sctp)) => sctp.close_channel(id).map_err(RtcError::Channel)?,
            // Never opened: closed at once.
            _ => {
                ch.closed = true;
                self.out.push_back(Output::Event(Event::ChannelClosed(r)));
            }
        }
        self.pump();
        Ok(())
    }

    // --- media -----------------------------------------------------------------------

    /// Sends one encoded frame on a transceiver: packetized for the negotiated codec (the
    /// first, or `payload_type`), RTP timestamp `timestamp`, SRTP-protected.
    pub fn write_frame(
        &mut self,
        now: Instant,
        t: TransceiverId,
        payload_type: Option<u8>,
        timestamp: u32,
        frame: &[u8],
    ) -> Result<(), RtcError> {
        self.now = now;
        let mtu = self.config.mtu;
        let tr = self.transceivers.get_mut(t.0).ok_or(RtcError::Unknown)?;
        if !tr.sends() {
            return Err(RtcError::Media("transceiver does not send".into()));
        }
        let codec = match payload_type {
            Some(pt) => tr.codec(pt),
            None => tr.codecs.first(),
        }
        .cloned()
        .ok_or_else(|| RtcError::Media("no negotiated codec".into()))?;
        if tr.sender.packetizer.as_ref().map(|(n, _)| *n) != Some(codec.name) {
            tr.sender.packetizer = Some((codec.name, media::packetizer(codec.name)));
        }
        // RTP header 12 + MID extension 8 + SRTP tag 16.
        let room = mtu.saturating_sub(12 + 8 + 16);
        let mut payloads: Vec<(Vec<u8>, bool)> = Vec::new();
        if let Some((_, p)) = tr.sender.packetizer.as_mut() {
            p.packetize(frame, room, &mut |b, m| payloads.push((b.to_vec(), m)))
                .map_err(|e| RtcError::Media(e.to_string()))?;
        }
        let audio = codec.name.kind() == MediaKind::Audio;
        let n = payloads.len();
        tr.sender.frames += 1;
        for (i, (payload, marker)) in payloads.into_iter().enumerate() {
            let marker = if audio { marker } else { marker || i + 1 == n };
            self.send_rtp(t.0, codec.payload_type, marker, timestamp, &payload)?;
        }
        self.pump();
        Ok(())
    }

    /// Sends one RTP payload with the given header fields (the SSRC, sequence number and
    /// MID extension are the transceiver's).
    pub fn write_rtp(
        &mut self,
        now: Instant,
        t: TransceiverId,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<(), RtcError> {
        self.now = now;
        let tr = self.transceivers.get(t.0).ok_or(RtcError::Unknown)?;
        if !tr.sends() {
            return Err(RtcError::Media("transceiver does not send".into()));
        }
        self.send_rtp(t.0, payload_type, marker, timestamp, payload)?;
        self.pump();
        Ok(())
    }

    fn send_rtp(
        &mut self,
        i: usize,
        pt: u8,
        marker: bool,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<(), RtcError> {
        let now = self.now;
        // Split borrows: the MID extension borrows the mid while the sender counts.
        let Transceiver {
            mid,
            mid_ext,
            sender,
            ..
        } = &mut self.transceivers[i];
        let mid = mid.as_deref().unwrap_or_default().as_bytes();
        let ext_one;
        let ext: &[(u8, &[u8])] = match *mid_ext {
            Some(id) => {
                ext_one = [(id, mid)];
                &ext_one
            }
            None => &[],
        };
        let seq = sender.seq;
        sender.seq = seq.wrapping_add(1);
        let header = RtpHeader {
            marker,
            payload_type: pt,
            sequence_number: seq,
            timestamp,
            ssrc: sender.ssrc,
            csrcs: &[],
            extensions: ext,
        };
        // Room for the header, the extension and the SRTP tag added in place later.
        let mut buf = vec![0u8; payload.len() + 64 + 12 + mid.len()];
        let len = weft_rtp::write_rtp(&header, payload, &mut buf)
            .map_err(|e| RtcError::Media(format!("{e:?}")))?;
        let _ = sender.nack.on_sent(&buf[..len], now);
        sender.packets += 1;
        sender.bytes += payload.len() as u64;
        sender.last = Some((timestamp, now));
        buf.truncate(len);
        self.send_srtp(buf);
        Ok(())
    }

    fn send_srtp(&mut self, mut buf: Vec<u8>) {
        let Some(tx) = self.secure.as_mut().and_then(|s| s.srtp_tx.as_mut()) else {
            return;
        };
        let len = buf.len();
        buf.resize(len + 16, 0);
        if let Ok(n) = tx.protect_rtp(&mut buf, len) {
            buf.truncate(n);
            let _ = self.ice.send(self.now, &buf);
        }
    }

    fn send_srtcp(&mut self, mut buf: Vec<u8>) {
        let Some(tx) = self.secure.as_mut().and_then(|s| s.srtp_tx.as_mut()) else {
            return;
        };
        let len = buf.len();
        buf.resize(len + 32, 0);
        if let Ok(n) = tx.protect_rtcp(&mut buf, len) {
            buf.truncate(n);
            let _ = self.ice.send(self.now, &buf);
        }
    }

    /// Asks the sender of what a transceiver receives for a key frame (RFC 4585 §6.3.1 PLI).
    pub fn request_keyframe(&mut self, t: TransceiverId) -> Result<(), RtcError> {
        let tr = self.transceivers.get_mut(t.0).ok_or(RtcError::Unknown)?;
        let packets: Vec<Vec<u8>> = (0..tr.receivers.len())
            .map(|r| keyframe_request(tr, r))
            .collect();
        for p in packets {
            self.send_srtcp(p);
        }
        self.pump();
        Ok(())
    }

    /// Counters of a transceiver: (packets sent, frames sent, packets received, frames
    /// received, key frames received).
    pub fn media_counters(&self, t: TransceiverId) -> Option<MediaCounters> {
        let tr = self.transceivers.get(t.0)?;
        Some(MediaCounters {
            packets_sent: tr.sender.packets,
            bytes_sent: tr.sender.bytes,
            frames_sent: tr.sender.frames,
            packets_received: tr.receivers.iter().map(|r| r.packets).sum(),
            bytes_received: tr.receivers.iter().map(|r| r.bytes).sum(),
            frames_received: tr.receivers.iter().map(|r| r.frames).sum(),
            keyframes_received: tr.receivers.iter().map(|r| r.keyframes).sum(),
        })
    }

    // --- stats -----------------------------------------------------------------------

    /// The SCTP association's counters (and, over weft's engine, its congestion state),
    /// once the association exists.
    pub fn sctp_stats(&self) -> Option<weft_sctp::AssociationStats> {
        self.secure
            .as_ref()
            .and_then(|s| s.sctp.as_ref())
            .map(Association::stats)
    }

    /// W3C `getStats()`: the transport, candidate pairs and candidates, certificates, data
    /// channels, and the RTP streams, each with a stable id.
    pub fn stats(&self) -> Vec<Stats> {
        use crate::stats::*;
        const TRANSPORT: &str = "T01";
        let mut out = Vec::new();
        let cand_id = |remote: bool, c: &weft_ice::Candidate| {
            format!("I{}{}", if remote { "R" } else { "L" }, c.addr)
        };
        let local_cert = format!("CF{}", hex_colon(&self.fingerprint.bytes));
        out.push(Stats::Certificate(CertificateStats {
            id: local_cert.clone(),
            fingerprint: hex_colon(&self.fingerprint.bytes),
            fingerprint_algorithm: self.fingerprint.alg.name().to_owned(),
            base64_certificate: base64(self.config.certificate.der()),
        }));
        let info = self.secure.as_ref().and_then(|s| s.info.as_ref());
        let remote_cert = info.map(|i| {
            let id = format!("CF{}", hex_colon(&i.peer_fingerprint.bytes));
            out.push(Stats::Certificate(CertificateStats {
                id: id.clone(),
                fingerprint: hex_colon(&i.peer_fingerprint.bytes),
                fingerprint_algorithm: i.peer_fingerprint.alg.name().to_owned(),
                base64_certificate: base64(&i.peer_certificate),
            }));
            id
        });
        let selected = self.ice.selected_pair();
        let pair_id = |p: &weft_ice::PairInfo| format!("CP{}_{}", p.local.addr, p.remote.addr);
        let mut seen: Vec<String> = Vec::new();
        for p in self.ice.pairs() {
            for (remote, c) in [(false, &p.local), (true, &p.remote)] {
                let id = cand_id(remote, c);
                if seen.contains(&id) {
                    continue;
                }
                seen.push(id.clone());
                out.push(Stats::Candidate(CandidateStats {
                    id,
                    remote,
                    transport_id: TRANSPORT.into(),
                    address: c.addr.ip().to_string(),
                    port: c.addr.port(),
                    protocol: "udp",
                    candidate_type: c.kind.as_str(),
                    priority: c.priority,
                    foundation: c.foundation.clone(),
                }));
            }
            out.push(Stats::CandidatePair(CandidatePairStats {
                id: pair_id(&p),
                transport_id: TRANSPORT.into(),
                local_candidate_id: cand_id(false, &p.local),
                remote_candidate_id: cand_id(true, &p.remote),
                state: match p.state {
                    weft_ice::PairState::Frozen => "frozen",
                    weft_ice::PairState::Waiting => "waiting",
                    weft_ice::PairState::InProgress => "in-progress",
                    weft_ice::PairState::Succeeded => "succeeded",
                    weft_ice::PairState::Failed => "failed",
                },
                nominated: p.nominated,
                priority: p.priority,
            }));
        }
        let dtls_state = match &self.secure {
            None => "new",
            Some(s) if s.failed => "failed",
            Some(s) if s.closed || self.closed => "closed",
            Some(s) if s.connected => "connected",
            Some(s) if s.dtls.is_some() => "connecting",
            Some(_) => "new",
        };
        out.push(Stats::Transport(TransportStats {
            id: TRANSPORT.into(),
            packets_sent: self.traffic.packets_sent,
            packets_received: self.traffic.packets_received,
            bytes_sent: self.traffic.bytes_sent,
            bytes_received: self.traffic.bytes_received,
            ice_role: match self.ice.role() {
                IceRole::Controlling => "controlling",
                IceRole::Controlled => "controlled",
            },
            ice_local_username_fragment: self.ice.local_credentials().ufrag.clone(),
            ice_state: ice_state_name(self.ice_state),
            dtls_state,
            dtls_role: match self.secure.as_ref().map(|s| s.role) {
                Some(DtlsRole::Client) => "client",
                Some(DtlsRole::Server) => "server",
                None => "unknown",
            },
            dtls_cipher: info.map(|i| i.cipher_suite.iana_name().to_owned()),
            srtp_cipher: info
                .and_then(|i| i.srtp_profile)
                .map(|p| p.iana_name().to_owned()),
            tls_version: info.map(|_| "FEFD".to_owned()),
            selected_candidate_pair_id: selected.as_ref().map(pair_id),
            local_certificate_id: local_cert,
            remote_certificate_id: remote_cert,
            sctp_packet_size: self
                .secure
                .as_ref()
                .and_then(|s| s.sctp.as_ref())
                .map(|a| a.stats().plpmtu),
        }));
        for ch in &self.channels {
            let info = self.channel(ch.r);
            let st = info.as_ref().map(|i| i.stats).unwrap_or_default();
            out.push(Stats::DataChannel(DataChannelStats {
                id: format!("D{}", ch.r.0),
                label: ch.label.clone(),
                protocol: ch.options.protocol.clone(),
                data_channel_identifier: ch.id,
                state: match info.map(|i| i.state) {
                    Some(weft_sctp::ChannelState::Open) => "open",
                    Some(weft_sctp::ChannelState::Closing) => "closing",
                    Some(weft_sctp::ChannelState::Closed) => "closed",
                    _ => "connecting",
                },
                messages_sent: st.messages_sent,
                bytes_sent: st.bytes_sent,
                messages_received: st.messages_received,
                bytes_received: st.bytes_received,
            }));
        }
        for t in &self.transceivers {
            let kind = t.kind.as_str();
            for r in &t.receivers {
                out.push(Stats::InboundRtp(InboundRtpStats {
                    id: format!("IT01{}{}", &kind[..1].to_uppercase(), r.ssrc),
                    ssrc: r.ssrc,
                    kind,
                    mid: t.mid.clone(),
                    transport_id: TRANSPORT.into(),
                    mime_type: format!("{kind}/{}", r.codec.as_str()),
                    packets_received: r.packets,
                    bytes_received: r.bytes,
                    packets_lost: i64::from(r.stats.cumulative_lost()),
                    jitter: f64::from(r.stats.jitter())
                        / t.codec(r.payload_type)
                            .map_or(90000.0, |c| f64::from(c.clock_rate)),
                    frames_received: r.frames,
                    key_frames_received: r.keyframes,
                    nack_count: r.nacks_sent,
                }));
            }
            if t.sender.packets > 0 {
                let id = format!("OT01{}{}", &kind[..1].to_uppercase(), t.sender.ssrc);
                let remote_id = t
                    .sender
                    .remote_report
                    .map(|_| format!("RI{}{}", &kind[..1].to_uppercase(), t.sender.ssrc));
                out.push(Stats::OutboundRtp(OutboundRtpStats {
                    id: id.clone(),
                    ssrc: t.sender.ssrc,
                    kind,
                    mid: t.mid.clone(),
                    transport_id: TRANSPORT.into(),
                    packets_sent: t.sender.packets,
                    bytes_sent: t.sender.bytes,
                    frames_sent: t.sender.frames,
                    retransmitted_packets_sent: t.sender.retransmitted,
                    nack_count: t.sender.nacks,
                    pli_count: t.sender.plis,
                    fir_count: t.sender.firs,
                    remote_id: remote_id.clone(),
                }));
                if let (Some((b, rtt)), Some(rid)) = (t.sender.remote_report, remote_id) {
                    let clock = t
                        .codecs
                        .first()
                        .map_or(90000.0, |c| f64::from(c.clock_rate));
                    out.push(Stats::RemoteInboundRtp(RemoteInboundRtpStats {
                        id: rid,
                        ssrc: t.sender.ssrc,
                        kind,
                        local_id: id,
                        packets_lost: i64::from(b.cumulative_lost),
                        fraction_lost: f64::from(b.fraction_lost) / 256.0,
                        jitter: f64::from(b.jitter) / clock,
                        round_trip_time: rtt.map(|d| d.as_secs_f64()),
                    }));
                }
            }
        }
        out
    }

    // --- close -----------------------------------------------------------------------

    /// W3C `close()`: SCTP shutdown and DTLS close_notify go out, ICE stops; state
    /// `closed`.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        if let Some(s) = self.secure.as_mut() {
            if let Some(a) = s.sctp.as_mut() {
                a.close();
            }
        }
        self.pump();
        if let Some(s) = self.secure.as_mut() {
            if let Some(d) = s.dtls.as_mut() {
                d.close();
            }
        }
        self.pump();
        self.ice.close(self.now);
        self.pump();
        self.closed = true;
        self.set_signaling(SignalingState::Closed);
        self.conn_state = PeerConnectionState::Closed;
        self.out.push_back(Output::Event(Event::ConnectionState(
            PeerConnectionState::Closed,
        )));
    }

    /// Whether `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    // --- sans-IO ---------------------------------------------------------------------

    /// A datagram arrived (RFC 7983 demultiplexing: STUN to ICE, DTLS to DTLS, SRTP/SRTCP
    /// to media).
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.now = now;
        let Input::Receive { local, src, bytes } = input;
        if self.closed {
            return;
        }
        self.traffic.packets_received += 1;
        self.traffic.bytes_received += bytes.len() as u64;
        // The payload borrows the datagram: DTLS reads it in place; SRTP decrypts in
        // place, so media is copied once into a buffer of its own.
        let payload = match self.ice.handle_receive(now, local, src, bytes) {
            Received::Data { payload, .. } => payload,
            Received::Handled | Received::Dropped(_) => {
                self.dirty = true;
                return;
            }
        };
        match payload.first() {
            // RFC 7983 §7: 20..=63 DTLS.
            Some(20..=63) => self.dtls_input(payload),
            // 128..=191 RTP or RTCP (RFC 5761 §4: RTCP packet types 192..=223).
            Some(128..=191) => {
                let rtcp = payload.get(1).is_some_and(|b| (192..=223).contains(b));
                if rtcp {
                    self.rtcp_input(payload.to_vec());
                } else {
                    self.rtp_input(payload.to_vec());
                }
            }
            _ => {}
        }
        // The layers' outputs move on in poll_output: a burst of datagrams handed in
        // before it costs one pass (one SCTP poll for all the SACKs of the burst).
        self.dirty = true;
    }

    fn dtls_input(&mut self, payload: &[u8]) {
        let now = self.now;
        match self.secure.as_mut().and_then(|s| s.dtls.as_mut()) {
            Some(d) => d.handle_input(now, payload),
            None => {
                // The peer's ClientHello can beat its answer to us: keep a few.
                if self.early_dtls.len() < 16 {
                    self.early_dtls.push(payload.to_vec());
                }
            }
        }
    }

    fn rtp_input(&mut self, mut buf: Vec<u8>) {
        let now = self.now;
        let Some(rx) = self.secure.as_mut().and_then(|s| s.srtp_rx.as_mut()) else {
            return;
        };
        let Ok(len) = rx.unprotect_rtp(&mut buf) else {
            return;
        };
        buf.truncate(len);
        let Ok(pkt) = RtpPacket::parse(&buf) else {
            return;
        };
        let ssrc = pkt.ssrc();
        let pt = pkt.payload_type();
        let Some(i) = self.route(&pkt) else { return };
        let raw = self.config.raw_rtp;
        let tr = &mut self.transceivers[i];
        // RFC 4588 §4: an RTX packet carries the original sequence number first.
        let mut original = Vec::new();
        let (pkt, pt) = if let Some(media_codec) = tr.codec_of_rtx(pt).cloned() {
            let media_ssrc = tr
                .remote_rtx
                .iter()
                .find(|(rtx, _)| *rtx == ssrc)
                .map(|(_, m)| *m)
                .or_else(|| tr.receivers.first().map(|r| r.ssrc));
            let Some(media_ssrc) = media_ssrc else { return };
            original.resize(buf.len(), 0);
            let Ok(n) =
                weft_rtp::rtx::read_rtx(&pkt, media_codec.payload_type, media_ssrc, &mut original)
            else {
                return;
            };
            original.truncate(n);
            let Ok(p) = RtpPacket::parse(&original) else {
                return;
            };
            (p, media_codec.payload_type)
        } else {
            (pkt, pt)
        };
        let Some(codec) = tr.codec(pt).cloned() else {
            return;
        };
        let ssrc = pkt.ssrc();
        let r = match tr.receivers.iter().position(|r| r.ssrc == ssrc) {
            Some(r) => r,
            None => {
                if tr.receivers.len() >= 8 {
                    return;
                }
                tr.receivers.push(Receiver::new(ssrc, &codec));
                tr.receivers.len() - 1
            }
        };
        let rec = &mut tr.receivers[r];
        if rec.payload_type != pt {
            *rec = Receiver::new(ssrc, &codec);
        }
        rec.packets += 1;
        rec.bytes += pkt.payload().len() as u64;
        rec.stats
            .on_packet(pkt.sequence_number(), pkt.timestamp(), now);
        if let Some(n) = rec.nack.as_mut() {
            n.on_packet(pkt.sequence_number(), now);
        }
        rec.builder.push_packet(&pkt, now);
        if raw {
            self.out.push_back(Output::Event(Event::Rtp {
                transceiver: TransceiverId(i),
                packet: pkt.as_bytes().to_vec(),
            }));
        }
        self.drain_samples(i);
    }

    fn drain_samples(&mut self, i: usize) {
        let now = self.now;
        let mut need_pli = Vec::new();
        let mut nacks = Vec::new();
        let tr = &mut self.transceivers[i];
        for rec in &mut tr.receivers {
            while let Some(s) = rec.builder.poll_sample(now) {
                rec.frames += 1;
                if s.keyframe {
                    rec.keyframes += 1;
                }
                self.out.push_back(Output::Event(Event::Frame {
                    transceiver: TransceiverId(i),
                    frame: Frame {
                        codec: rec.codec,
                        payload_type: rec.payload_type,
                        data: s.data,
                        timestamp: s.timestamp,
                        keyframe: s.keyframe,
                        discontinuity: s.discontinuity,
                    },
                }));
            }
            if rec.builder.needs_keyframe() && rec.packets > 0 {
                need_pli.push(rec.ssrc);
            }
            if let Some(n) = rec.nack.as_mut() {
                let mut out = Vec::new();
                if n.write_nack(now, tr.sender.ssrc, rec.ssrc, &mut out) {
                    rec.nacks_sent += 1;
                    nacks.push(out);
                }
            }
        }
        for n in nacks {
            self.send_srtcp(n);
        }
        for media in need_pli {
            // At most one PLI per source every 500 ms.
            let due = match self.last_pli.iter_mut().find(|(s, _)| *s == media) {
                Some((_, at))
                    if now.saturating_duration_since(*at) < Duration::from_millis(500) =>
                {
                    false
                }
                Some((_, at)) => {
                    *at = now;
                    true
                }
                None => {
                    self.last_pli.push((media, now));
                    true
                }
            };
            if due {
                let tr = &mut self.transceivers[i];
                if let Some(r) = tr.receivers.iter().position(|r| r.ssrc == media) {
                    let out = keyframe_request(tr, r);
                    self.send_srtcp(out);
                }
            }
        }
    }

    /// Which transceiver an RTP packet belongs to (RFC 8843 §9.2): signalled SSRC, then
    /// the MID header extension, then a payload type only one receiving line uses.
    fn route(&mut self, pkt: &RtpPacket<'_>) -> Option<usize> {
        let ssrc = pkt.ssrc();
        if let Some(i) = self.transceivers.iter().position(|t| {
            t.remote_ssrcs.contains(&ssrc) || t.receivers.iter().any(|r| r.ssrc == ssrc)
        }) {
            return Some(i);
        }
        for (i, t) in self.transceivers.iter().enumerate() {
            let (Some(id), Some(mid)) = (t.mid_ext, t.mid.as_deref()) else {
                continue;
            };
            if let Some(v) = pkt.extensions().and_then(|e| e.get(id)) {
                if v == mid.as_bytes() {
                    if t.remote_ssrcs.len() < 16 {
                        self.transceivers[i].remote_ssrcs.push(ssrc);
                    }
                    return Some(i);
                }
            }
        }
        let pt = pkt.payload_type();
        let mut hits = self.transceivers.iter().enumerate().filter(|(_, t)| {
            t.receives() && (t.codec(pt).is_some() || t.codec_of_rtx(pt).is_some())
        });
        let first = hits.next().map(|(i, _)| i);
        if hits.next().is_some() {
            return None;
        }
        first
    }

    fn rtcp_input(&mut self, mut buf: Vec<u8>) {
        let now = self.now;
        let Some(rx) = self.secure.as_mut().and_then(|s| s.srtp_rx.as_mut()) else {
            return;
        };
        let Ok(len) = rx.unprotect_rtcp(&mut buf) else {
            return;
        };
        buf.truncate(len);
        let mut keyframe = Vec::new();
        let mut resend: Vec<Vec<u8>> = Vec::new();
        let mut blocks = Vec::new();
        // RFC 3550 §6.4.1: RTT = A - LSR - DLSR, in the middle 32 bits of NTP time.
        let arrival = (ntp_from(self.start, now) >> 16) as u32;
        for p in rtcp::parse_compound(&buf) {
            let Ok(p) = p else { break };
            match p {
                RtcpPacket::Pli { media, .. } => {
                    keyframe.push(media);
                    self.count_feedback(media, |s| s.plis += 1);
                }
                RtcpPacket::Fir { entries, .. } => {
                    for e in entries.iter() {
                        keyframe.push(e.ssrc);
                        self.count_feedback(e.ssrc, |s| s.firs += 1);
                    }
                }
                RtcpPacket::Nack { media, .. } => self.count_feedback(media, |s| s.nacks += 1),
                RtcpPacket::SenderReport {
                    ssrc, ntp, reports, ..
                } => {
                    for t in &mut self.transceivers {
                        for r in t.receivers.iter_mut().filter(|r| r.ssrc == ssrc) {
                            r.stats.on_sender_report(ntp, now);
                        }
                    }
                    blocks.extend(reports.iter());
                }
                RtcpPacket::ReceiverReport { reports, .. } => blocks.extend(reports.iter()),
                _ => {}
            }
        }
        for b in blocks {
            let rtt = (b.lsr != 0).then(|| {
                let ticks = arrival.wrapping_sub(b.lsr).wrapping_sub(b.dlsr);
                Duration::from_secs_f64(f64::from(ticks) / 65536.0)
            });
            self.count_feedback(b.ssrc, |s| s.remote_report = Some((b, rtt)));
        }
        for (i, t) in self.transceivers.iter_mut().enumerate() {
            if keyframe.contains(&t.sender.ssrc) {
                self.out.push_back(Output::Event(Event::KeyframeRequest {
                    transceiver: TransceiverId(i),
                }));
            }
            // RFC 4585 §6.2.1 NACK, answered from history; through RTX when negotiated
            // (RFC 4588 §4).
            let ssrc = t.sender.ssrc;
            let rtx_pt = t.codecs.first().and_then(|c| c.rtx);
            let mut originals = Vec::new();
            t.sender
                .nack
                .handle_rtcp(&buf, ssrc, now, &mut |b| originals.push(b.to_vec()));
            for o in originals {
                match (rtx_pt, RtpPacket::parse(&o)) {
                    (Some(rtx_pt), Ok(p)) => {
                        let mut out = vec![0u8; o.len() + 2];
                        let seq = t.sender.rtx_seq;
                        t.sender.rtx_seq = seq.wrapping_add(1);
                        let rtx_pt = t
                            .codecs
                            .iter()
                            .find(|c| c.payload_type == p.payload_type())
                            .and_then(|c| c.rtx)
                            .unwrap_or(rtx_pt);
                        if let Ok(n) =
                            weft_rtp::rtx::write_rtx(&p, rtx_pt, t.sender.rtx_ssrc, seq, &mut out)
                        {
                            out.truncate(n);
                            t.sender.retransmitted += 1;
                            resend.push(out);
                        }
                    }
                    _ => {
                        t.sender.retransmitted += 1;
                        resend.push(o);
                    }
                }
            }
        }
        for r in resend {
            self.send_srtp(r);
        }
    }

    fn count_feedback(&mut self, ssrc: u32, f: impl FnOnce(&mut media::Sender)) {
        if let Some(t) = self.transceivers.iter_mut().find(|t| t.sender.ssrc == ssrc) {
            f(&mut t.sender);
        }
    }

    /// The clock reached [`poll_timeout`](Self::poll_timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        self.ice.handle_timeout(now);
        // Every layer learns the time, due or not: each fires only the timers that are
        // due, and SCTP stamps what is sent next with it (an association left on the time
        // of its last packet would send new DATA with an expired T3-rtx timer).
        if let Some(s) = self.secure.as_mut() {
            if let Some(d) = s.dtls.as_mut() {
                d.handle_timeout(now);
            }
            if let Some(a) = s.sctp.as_mut() {
                a.handle_timeout(now);
            }
        }
        for i in 0..self.transceivers.len() {
            let due = self.transceivers[i].receivers.iter().any(|r| {
                r.builder.poll_timeout().is_some_and(|t| t <= now)
                    || r.nack
                        .as_ref()
                        .and_then(|n| n.poll_timeout())
                        .is_some_and(|t| t <= now)
            });
            if due {
                self.drain_samples(i);
            }
        }
        if self.next_rtcp.is_some_and(|t| t <= now) {
            self.send_reports();
            self.next_rtcp = Some(now + self.config.rtcp_interval);
        }
        self.pump();
    }

    /// RFC 3550 §6.4: a sender report for each source we send, receiver report blocks for
    /// each we receive, with our CNAME (§6.5.1), as one compound per transceiver.
    fn send_reports(&mut self) {
        let now = self.now;
        let cname = self.cname.clone();
        let start = self.start;
        let mut packets = Vec::new();
        for t in &mut self.transceivers {
            let blocks: Vec<_> = t
                .receivers
                .iter_mut()
                .filter_map(|r| r.stats.report_block(now))
                .collect();
            let mut out = Vec::new();
            match t.sender.last {
                Some((ts, at)) if t.sends() => {
                    // The NTP time is counted from the core's own epoch: only differences
                    // (RFC 3550 §6.4.1 LSR/DLSR) matter to the peer.
                    let ntp = ntp_from(start, at);
                    rtcp::write_sender_report(
                        &mut out,
                        t.sender.ssrc,
                        ntp,
                        ts,
                        t.sender.packets as u32,
                        t.sender.bytes as u32,
                        &blocks,
                    );
                }
                _ if !blocks.is_empty() => {
                    rtcp::write_receiver_report(&mut out, t.sender.ssrc, &blocks);
                }
                _ => continue,
            }
            let items: [(u8, &[u8]); 1] = [(1, cname.as_bytes())];
            let _ = rtcp::write_sdes(&mut out, &[(t.sender.ssrc, &items)]);
            packets.push(out);
        }
        for p in packets {
            self.send_srtcp(p);
        }
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<Output> {
        if self.dirty {
            self.dirty = false;
            self.pump();
        }
        self.out.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let mut t = self.ice.poll_timeout();
        let mut merge = |x: Option<Instant>| {
            t = match (t, x) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        if let Some(s) = &self.secure {
            merge(s.dtls.as_ref().and_then(|d| d.poll_timeout()));
            merge(s.sctp.as_ref().and_then(|a| a.poll_timeout()));
        }
        for tr in &self.transceivers {
            for r in &tr.receivers {
                merge(r.builder.poll_timeout());
                merge(r.nack.as_ref().and_then(|n| n.poll_timeout()));
            }
        }
        merge(self.next_rtcp);
        t
    }

    // --- the glue --------------------------------------------------------------------

    /// Moves everything the layers produced: ICE transmits and events, DTLS records and
    /// data, SCTP packets and events, until none has more.
    fn pump(&mut self) {
        self.dirty = false;
        loop {
            let mut progress = false;
            while let Some(o) = self.ice.poll_output() {
                progress = true;
                match o {
                    weft_ice::Output::Transmit(t) => {
                        self.traffic.packets_sent += 1;
                        self.traffic.bytes_sent += t.bytes.len() as u64;
                        self.out.push_back(Output::Transmit(t));
                    }
                    weft_ice::Output::Event(e) => self.ice_event(e),
                }
            }
            if let Some(s) = self.secure.as_mut() {
                let mut dtls_out = Vec::new();
                if let Some(d) = s.dtls.as_mut() {
                    while let Some(o) = d.poll_output() {
                        dtls_out.push(o);
                    }
                }
                for o in dtls_out {
                    progress = true;
                    self.dtls_output(o);
                }
            }
            let mut sctp_out = Vec::new();
            if let Some(a) = self.secure.as_mut().and_then(|s| s.sctp.as_mut()) {
                while let Some(o) = a.poll_output() {
                    sctp_out.push(o);
                }
            }
            for o in sctp_out {
                progress = true;
                match o {
                    weft_sctp::Output::Transmit(b) => {
                        if let Some(d) = self.secure.as_mut().and_then(|s| s.dtls.as_mut()) {
                            let _ = d.send(&b);
                        }
                    }
                    weft_sctp::Output::Event(e) => self.sctp_event(e),
                }
            }
            if !progress {
                break;
            }
        }
        self.check_gathering_done();
        self.update_connection_state();
    }

    fn ice_event(&mut self, e: weft_ice::Event) {
        match e {
            weft_ice::Event::LocalCandidate(c) => {
                if !self.local_candidates.contains(&c) {
                    self.local_candidates.push(c.clone());
                }
                if self.gathering_started {
                    let (mid, index) = self.first_mid();
                    let ufrag = self.ice.local_credentials().ufrag.clone();
                    self.out.push_back(Output::Event(Event::IceCandidate(Some(
                        IceCandidateInit {
                            candidate: c.to_sdp(),
                            sdp_mid: mid,
                            sdp_m_line_index: index,
                            username_fragment: Some(ufrag),
                        },
                    ))));
                }
            }
            weft_ice::Event::GatheringState(_) => {}
            weft_ice::Event::ConnectionState { state, .. } => {
                if self.ice_state != state {
                    self.ice_state = state;
                    self.out
                        .push_back(Output::Event(Event::IceConnectionState(state)));
                }
                self.maybe_start_dtls();
            }
            weft_ice::Event::SelectedPair { local, remote } => {
                self.out.push_back(Output::Event(Event::SelectedPair {
                    local: local.addr,
                    remote: remote.addr,
                }));
                self.maybe_start_dtls();
            }
            _ => {}
        }
    }

    /// DTLS starts once the role is negotiated: a server at once (the client's hello may
    /// already be here), a client once ICE has a pair to send on.
    fn maybe_start_dtls(&mut self) {
        let now = self.now;
        let ice_up = self.ice.selected_pair().is_some();
        let Some(s) = self.secure.as_mut() else {
            return;
        };
        if s.dtls.is_some() || (s.role == DtlsRole::Client && !ice_up) {
            return;
        }
        let mut cfg = weft_dtls_srtp::Config::new(s.role, self.config.certificate.clone());
        cfg.remote_fingerprints = s.remote_fingerprints.clone();
        let mut seed = [0u8; 32];
        self.rng.fill_bytes(&mut seed);
        let mut d = DtlsEndpoint::new(now, cfg, seed);
        for early in self.early_dtls.drain(..) {
            d.handle_input(now, &early);
        }
        s.dtls = Some(d);
    }

    /// The association starts once DTLS is up and a data section is negotiated (at the
    /// first negotiation, or a later one that adds it).
    fn maybe_start_sctp(&mut self) {
        let now = self.now;
        let data = self.lines.iter().any(|(_, l)| *l == Line::Data)
            && self.current_remote.as_ref().is_some_and(|r| {
                r.model
                    .media
                    .iter()
                    .any(|m| m.kind == SdpKind::Application && m.port != 0)
            });
        let Some(s) = self.secure.as_mut() else {
            return;
        };
        if !data || !s.connected || s.sctp.is_some() {
            return;
        }
        let mut cfg = weft_sctp::Config::new(if s.role == DtlsRole::Client {
            weft_sctp::Role::Client
        } else {
            weft_sctp::Role::Server
        });
        cfg.engine = self.config.sctp_engine;
        cfg.interleaving = self.config.sctp_interleaving;
        cfg.remote_port = self.remote_sctp_port;
        cfg.max_message_size = self.config.max_message_size;
        cfg.remote_max_message_size = self.remote_max_message_size;
        cfg.receive_buffer = cfg.receive_buffer.max(self.config.max_message_size);
        // The SCTP packet travels in one DTLS record in one UDP datagram. Over IPv6 (or
        // when unsure) the figure also fits IPv4; a relayed path's TURN framing is left to
        // the probes, which find what the path really carries.
        let ipv4 = self.ice.selected_pair().is_some_and(|p| {
            p.remote.addr.is_ipv4() && p.local.kind != weft_ice::CandidateKind::Relayed
        });
        cfg.max_mtu = sctp_max_mtu(self.config.max_ip_mtu, ipv4);
        let mut a = Association::new(now, cfg);
        for ch in self
            .channels
            .iter_mut()
            .filter(|c| c.id.is_none() && !c.closed)
        {
            ch.id = a.open_channel(&ch.label, ch.options.clone()).ok();
        }
        s.sctp = Some(a);
    }

    fn dtls_output(&mut self, o: weft_dtls_srtp::Output) {
        let now = self.now;
        match o {
            weft_dtls_srtp::Output::Transmit(b) => {
                let _ = self.ice.send(now, &b);
            }
            weft_dtls_srtp::Output::Connected(c) => {
                let Some(s) = self.secure.as_mut() else {
                    return;
                };
                s.connected = true;
                s.info = Some(c.clone());
                if let (Some(p), Some(d)) = (c.srtp_profile, s.dtls.as_ref()) {
                    // RFC 5764 §4.2: the SRTP master keys come from the DTLS exporter.
                    let material =
                        d.export_keying_material("EXTRACTOR-dtls_srtp", p.keying_material_len());
                    if let Some(m) = material {
                        if let Ok((ours, theirs)) =
                            MasterKey::from_dtls_export(p, &m, s.role == DtlsRole::Client)
                        {
                            s.srtp_tx = SrtpContext::new(&ours, ContextConfig::default()).ok();
                            s.srtp_rx = SrtpContext::new(&theirs, ContextConfig::default()).ok();
                        }
                    }
                }
                self.maybe_start_sctp();
                self.next_rtcp = Some(now + self.config.rtcp_interval);
                self.out.push_back(Output::Event(Event::DtlsConnected {
                    cipher: c.cipher_suite.iana_name().to_owned(),
                    srtp_profile: c.srtp_profile.map(|p| p.iana_name().to_owned()),
                }));
            }
            weft_dtls_srtp::Output::Data(d) => {
                if let Some(a) = self.secure.as_mut().and_then(|s| s.sctp.as_mut()) {
                    a.handle_input(now, &d);
                }
            }
            weft_dtls_srtp::Output::Failed(_) => {
                if let Some(s) = self.secure.as_mut() {
                    s.failed = true;
                }
            }
            weft_dtls_srtp::Output::Closed => {
                if let Some(s) = self.secure.as_mut() {
                    s.closed = true;
                }
                // The peer closed DTLS (close_notify, RFC 5246 §7.2.1): the association
                // has no transport left, so every channel closes now.
                if let Some(s) = self.secure.as_mut() {
                    s.sctp = None;
                }
                self.sctp_event(weft_sctp::Event::Closed(
                    weft_sctp::CloseReason::PeerShutdown,
                ));
            }
        }
    }

    fn channel_ref(&mut self, id: ChannelId, remote: bool) -> ChannelRef {
        if let Some(c) = self.channels.iter().find(|c| c.id == Some(id) && !c.closed) {
            return c.r;
        }
        let r = ChannelRef(self.next_channel);
        self.next_channel += 1;
        let info = self
            .secure
            .as_ref()
            .and_then(|s| s.sctp.as_ref())
            .and_then(|a| a.channel(id).cloned());
        self.channels.push(Channel {
            r,
            id: Some(id),
            label: info.as_ref().map(|i| i.label.clone()).unwrap_or_default(),
            options: ChannelOptions {
                reliability: info.as_ref().map(|i| i.reliability).unwrap_or_default(),
                priority: info.as_ref().map_or(0, |i| i.priority),
                protocol: info
                    .as_ref()
                    .map(|i| i.protocol.clone())
                    .unwrap_or_default(),
                negotiated: None,
            },
            open: false,
            closed: false,
        });
        let _ = remote;
        r
    }

    fn sctp_event(&mut self, e: weft_sctp::Event) {
        match e {
            weft_sctp::Event::ChannelOpen { id, remote } => {
                let r = self.channel_ref(id, remote);
                if let Some(c) = self.channels.iter_mut().find(|c| c.r == r) {
                    c.open = true;
                }
                if remote {
                    self.out.push_back(Output::Event(Event::DataChannel(r)));
                }
                self.out.push_back(Output::Event(Event::ChannelOpen(r)));
            }
            weft_sctp::Event::Message { id, kind, data } => {
                if let Some(c) = self.channels.iter().find(|c| c.id == Some(id) && !c.closed) {
                    self.out.push_back(Output::Event(Event::ChannelMessage {
                        channel: c.r,
                        kind,
                        data,
                    }));
                }
            }
            weft_sctp::Event::BufferedAmountLow { id } => {
                if let Some(c) = self.channels.iter().find(|c| c.id == Some(id)) {
                    self.out
                        .push_back(Output::Event(Event::BufferedAmountLow(c.r)));
                }
            }
            weft_sctp::Event::ChannelClosed { id } => {
                if let Some(c) = self
                    .channels
                    .iter_mut()
                    .find(|c| c.id == Some(id) && !c.closed)
                {
                    c.closed = true;
                    let r = c.r;
                    self.out.push_back(Output::Event(Event::ChannelClosed(r)));
                }
            }
            weft_sctp::Event::Closed(_) => {
                for c in self.channels.iter_mut().filter(|c| !c.closed) {
                    c.closed = true;
                    self.out.push_back(Output::Event(Event::ChannelClosed(c.r)));
                }
            }
            _ => {}
        }
    }

    /// W3C §4.3.3 `RTCPeerConnectionState` from ICE and DTLS.
    fn update_connection_state(&mut self) {
        if self.closed {
            return;
        }
        use IceConnectionState as I;
        let (dtls_up, dtls_failed) = self
            .secure
            .as_ref()
            .map_or((false, false), |s| (s.connected, s.failed));
        let media_only = self.secure.is_none();
        let state = match self.ice_state {
            I::Failed => PeerConnectionState::Failed,
            _ if dtls_failed => PeerConnectionState::Failed,
            I::Disconnected => PeerConnectionState::Disconnected,
            I::Connected | I::Completed if dtls_up => PeerConnectionState::Connected,
            I::New if media_only => PeerConnectionState::New,
            I::Closed => PeerConnectionState::Closed,
            _ => PeerConnectionState::Connecting,
        };
        if state != self.conn_state {
            self.conn_state = state;
            self.out
                .push_back(Output::Event(Event::ConnectionState(state)));
        }
    }
}

/// Counters of one transceiver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaCounters {
    /// RTP packets sent.
    pub packets_sent: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Frames handed to `write_frame`.
    pub frames_sent: u64,
    /// RTP packets received (RTX unwrapped).
    pub packets_received: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Whole frames received.
    pub frames_received: u64,
    /// Key frames among them.
    pub keyframes_received: u64,
}

impl Transceiver {
    /// Our codecs for an answer: the configured list of the kind.
    fn codecs_offered(&self, config: &RtcConfig) -> Vec<Codec> {
        match self.kind {
            MediaKind::Audio => config.audio_codecs.clone(),
            MediaKind::Video => config.video_codecs.clone(),
        }
    }
}

/// A key frame request for receiver `r` of a transceiver, as its codec's feedback allows:
/// PLI (RFC 4585 §6.3.1) when `nack pli` was negotiated, else FIR (RFC 5104 §4.3.1) when
/// `ccm fir` was, with the FIR sequence number advanced per new request (§4.3.1.1); PLI
/// when neither was (every WebRTC stack takes it).
fn keyframe_request(tr: &mut Transceiver, r: usize) -> Vec<u8> {
    let sender = tr.sender.ssrc;
    let mut out = Vec::new();
    let Some(pt) = tr.receivers.get(r).map(|x| x.payload_type) else {
        return out;
    };
    let fb = |f: &str| {
        tr.codec(pt)
            .is_some_and(|c| c.feedback.iter().any(|x| x == f))
    };
    let (pli, fir) = (fb("nack pli"), fb("ccm fir"));
    let Some(rec) = tr.receivers.get_mut(r) else {
        return out;
    };
    if !pli && fir {
        rec.fir_seq = rec.fir_seq.wrapping_add(1);
        rtcp::write_fir(&mut out, sender, &[(rec.ssrc, rec.fir_seq)]);
    } else {
        rtcp::write_pli(&mut out, sender, rec.ssrc);
    }
    out
}

fn ice_state_name(s: IceConnectionState) -> &'static str {
    match s {
        IceConnectionState::New => "new",
        IceConnectionState::Checking => "checking",
        IceConnectionState::Connected => "connected",
        IceConnectionState::Completed => "completed",
        IceConnectionState::Failed => "failed",
        IceConnectionState::Disconnected => "disconnected",
        IceConnectionState::Closed => "closed",
    }
}

fn text(a: &Applied) -> SessionDescription {
    SessionDescription {
        sdp_type: a.sdp_type,
        sdp: a.model.to_sdp_string(),
    }
}

fn parse(sdp: &str) -> Result<Sdp<'static>, RtcError> {
    weft_sdp::parse(sdp)
        .map(|m| m.into_owned())
        .map_err(|e| RtcError::SdpSyntax(e.to_string()))
}

/// What a remote description must have for weft to use it (RFC 8829 §5.8): at least one
/// accepted section with ICE credentials and a fingerprint.
fn validate(model: &Sdp<'static>) -> Result<(), RtcError> {
    let Some(m) = model.media.iter().find(|m| m.port != 0) else {
        return Ok(());
    };
    if model.ice_credentials(m).is_none() {
        return Err(RtcError::InvalidDescription(
            "no a=ice-ufrag/a=ice-pwd".into(),
        ));
    }
    if model.fingerprints(m).next().is_none() {
        return Err(RtcError::InvalidDescription("no a=fingerprint".into()));
    }
    Ok(())
}

/// An NTP-format timestamp (RFC 3550 §4) for `at`. The core has no wall clock, so the
/// seconds count from the connection's creation; peers use SR times only as an opaque value
/// echoed back (LSR) and as differences.
fn ntp_from(origin: Instant, at: Instant) -> u64 {
    let d = at.saturating_duration_since(origin);
    let secs = d.as_secs() + 1;
    let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

#[cfg(test)]
mod tests {
    use super::sctp_max_mtu;

    #[test]
    fn sctp_packet_cap_leaves_room_for_ip_udp_and_an_aes_gcm_dtls_record() {
        // 1500 - 20 (IPv4) - 8 (UDP) - 37 (DTLS 1.2 AES-GCM record) and 1500 - 40 (IPv6) - 45.
        assert_eq!(sctp_max_mtu(1500, true), 1435);
        assert_eq!(sctp_max_mtu(1500, false), 1415);
        assert_eq!(sctp_max_mtu(0, false), 0);
    }
}
