//! The data channel association: RFC 8831 channels and RFC 8832 DCEP over one SCTP
//! association (RFC 8261), with sctp-proto or weft's own engine underneath
//! ([`EngineKind`]).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sctp_proto as sp;
use sp::PayloadProtocolIdentifier as Ppi;

use crate::dcep::{self, DcepError, Policy, Reliability};
use crate::engine::{self as weft, Engine, EngineConfig, EngineEvent};

/// sctp-proto addresses associations by socket address; over DTLS there is exactly one
/// peer, so every packet is said to come from and go to this placeholder.
const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5000);

/// The highest stream id a channel may use (W3C RTCDataChannel: ids are 0..=65534).
pub const MAX_CHANNEL_ID: u16 = 65534;

/// weft's default for the largest message sent or received: 256 KiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: u32 = 256 * 1024;

/// RFC 8841 §6.1: without `a=max-message-size` the peer is assumed to take 64 KiB.
pub const SDP_DEFAULT_MAX_MESSAGE_SIZE: u32 = 64 * 1024;

/// Which end of the DTLS connection this side is; it decides who sends INIT and which
/// stream ids this side picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The DTLS client: sends the SCTP INIT and opens channels on even ids
    /// (RFC 8832 §6).
    Client,
    /// The DTLS server: answers the INIT and opens channels on odd ids.
    Server,
}

/// Which SCTP engine runs under the association (issue 12). Both are in every build, so
/// both can be tested side by side.
///
/// weft's own engine is the default: it passes every suite sctp-proto passes (netsim loss
/// matrix, every channel type, close and reset, 256 channels, partial reliability) and
/// the Chromium and webrtc-rs interop, it moves more data per CPU second (full stack over
/// loopback and in virtual time), it probes the path MTU, and it does as well or better
/// than sctp-proto on rate-limited paths (`cargo bench -p weft-benches --bench
/// sctp_netsim`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngineKind {
    /// sctp-proto 0.10: the baseline and differential oracle.
    SctpProto,
    /// weft's own engine ([`crate::engine`]), partial reliability included: channels with
    /// a retransmit or lifetime limit abandon messages and send FORWARD TSN (RFC 3758
    /// §3.5), and take the peer's (§3.6). A lifetime counts from the `now` of the last
    /// `handle_*` call before [`Association::send`].
    #[default]
    Weft,
}

/// How the association is set up; the values come from SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The SCTP engine underneath.
    pub engine: EngineKind,
    /// From the DTLS role.
    pub role: Role,
    /// Our `a=sctp-port` (RFC 8841 §5), 5000 by default.
    pub local_port: u16,
    /// The peer's `a=sctp-port`.
    pub remote_port: u16,
    /// The largest message we take, advertised in our `a=max-message-size`.
    pub max_message_size: u32,
    /// The peer's `a=max-message-size`: 0 means any size (RFC 8841 §6.1); use
    /// [`SDP_DEFAULT_MAX_MESSAGE_SIZE`] when the attribute is absent.
    pub remote_max_message_size: u32,
    /// Receive buffer (the advertised receiver window), bytes. At least one
    /// `max_message_size`, since messages are delivered whole.
    pub receive_buffer: u32,
    /// Largest SCTP packet, bytes; DTLS and UDP/IP overhead come on top. With weft's
    /// engine this is where path MTU discovery starts (BASE_PLPMTU, RFC 8899 §5.1.2).
    pub mtu: u32,
    /// weft's engine only: the largest SCTP packet path MTU discovery (RFC 8899, probes
    /// of HEARTBEAT and PAD) may raise the packet size to. At or below `mtu` (the default,
    /// 1200) packets stay `mtu`; sctp-proto always keeps `mtu`.
    pub max_mtu: u32,
    /// weft's engine only: HB.interval (RFC 9260 §8.3) of the HEARTBEATs an idle
    /// association sends; `None` sends none. Default 30 s.
    pub heartbeat_interval: Option<Duration>,
    /// weft's engine only: declare I-DATA (RFC 8260). With a peer that declares it too
    /// (another weft, or Chromium's dcsctp with message interleaving enabled), every
    /// message travels in I-DATA and the channels take turns per chunk, so a large message
    /// on one channel no longer holds back the others. Default on.
    pub interleaving: bool,
    /// weft's engine only: the seed of its randomness (verification tags, initial TSN,
    /// cookie key, heartbeat jitter). `None` (the default) draws one from the operating
    /// system; a simulation sets one so that a run replays bit for bit.
    pub rng_seed: Option<u64>,
    /// Retransmission timeout before the first RTT sample (RFC 9260 §6.3.1 C1).
    pub rto_initial: Duration,
    /// Floor of the retransmission timeout. RFC 9260 §16 suggests 1 s for the open
    /// Internet; interactive WebRTC paths use less, so weft defaults to 400 ms: above the
    /// 200 ms delayed SACK of RFC 9260 §6.2 (sctp-proto, webrtc-rs and Chromium all wait
    /// that long), so that an RTO never fires on data whose SACK is only delayed.
    pub rto_min: Duration,
    /// Ceiling of the retransmission timeout (RFC 9260 §16 suggests 60 s; weft 10 s, so
    /// a channel recovers within seconds of a path coming back).
    pub rto_max: Duration,
}

impl Config {
    /// Defaults for `role`: port 5000 both sides, 256 KiB messages both ways, an 8 MiB
    /// receive window (a 50 ms path at 1 Gbit/s holds 6.25 MB), 1200-byte packets, RTO 1 s initially, within 400 ms..10 s.
    pub fn new(role: Role) -> Config {
        Config {
            engine: EngineKind::Weft,
            role,
            local_port: sp::DEFAULT_SCTP_PORT,
            remote_port: sp::DEFAULT_SCTP_PORT,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            remote_max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            receive_buffer: 8 * 1024 * 1024,
            mtu: 1200,
            max_mtu: 1200,
            heartbeat_interval: Some(Duration::from_secs(30)),
            interleaving: true,
            rng_seed: None,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(400),
            rto_max: Duration::from_secs(10),
        }
    }

    fn send_limit(&self) -> u32 {
        if self.remote_max_message_size == 0 {
            u32::MAX
        } else {
            self.remote_max_message_size
        }
    }
}

/// A channel's stream id.
pub type ChannelId = u16;

/// How to open a channel: W3C `RTCDataChannelInit`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelOptions {
    /// Ordering and retransmission policy.
    pub reliability: Reliability,
    /// DCEP priority (RFC 8832 §5.1).
    pub priority: u16,
    /// Sub-protocol.
    pub protocol: String,
    /// A pre-agreed id: no DCEP, the peer opens the same id itself (RFC 8831 §6.5).
    pub negotiated: Option<ChannelId>,
}

/// A channel's life (W3C `RTCDataChannelState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    /// Waiting for the association.
    Connecting,
    /// Messages flow.
    Open,
    /// Our stream reset is on its way (RFC 8831 §6.7).
    Closing,
    /// Both directions are reset, or the association is gone.
    Closed,
}

/// Whether a message is text or binary (RFC 8831 §8 PPIDs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// UTF-8 text (PPID 51, 56 when empty).
    Text,
    /// Bytes (PPID 53, 57 when empty).
    Binary,
}

/// Counters of one channel (W3C RTCDataChannelStats names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// Messages handed to SCTP.
    pub messages_sent: u64,
    /// Payload bytes handed to SCTP.
    pub bytes_sent: u64,
    /// Messages delivered to the application.
    pub messages_received: u64,
    /// Payload bytes delivered to the application.
    pub bytes_received: u64,
}

/// What is known of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    /// The stream id.
    pub id: ChannelId,
    /// The label.
    pub label: String,
    /// The sub-protocol.
    pub protocol: String,
    /// Ordering and retransmission policy.
    pub reliability: Reliability,
    /// DCEP priority.
    pub priority: u16,
    /// Opened with a pre-agreed id, without DCEP.
    pub negotiated: bool,
    /// Opened by the peer.
    pub remote: bool,
    /// Where in its life it is.
    pub state: ChannelState,
    /// Counters.
    pub stats: ChannelStats,
    /// `bufferedAmountLowThreshold`.
    pub buffered_amount_low_threshold: usize,
}

/// Counters of the association.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssociationStats {
    /// Channels opened, by either side.
    pub channels_opened: u64,
    /// Channels closed.
    pub channels_closed: u64,
    /// Messages sent on every channel.
    pub messages_sent: u64,
    /// Payload bytes sent on every channel.
    pub bytes_sent: u64,
    /// Messages received on every channel.
    pub messages_received: u64,
    /// Payload bytes received on every channel.
    pub bytes_received: u64,
    /// SCTP packets handed out for sending.
    pub packets_sent: u64,
    /// SCTP packets handed in.
    pub packets_received: u64,
    /// DATA chunks received (sctp-proto's count).
    pub data_chunks_received: u64,
    /// SACK chunks received.
    pub sacks_received: u64,
    /// Retransmission timer expiries (RFC 9260 §6.3.3).
    pub t3_timeouts: u64,
    /// Fast retransmissions (RFC 9260 §7.2.4).
    pub fast_retransmits: u64,
    /// Peer protocol violations reported as events.
    pub violations: u64,
    /// INIT chunks dropped on the client side (the peer's half of an INIT collision).
    pub inits_dropped: u64,
    /// weft's engine's own counters and congestion state (`EngineKind::Weft` only).
    pub engine: Option<crate::engine::EngineStats>,
    /// The SCTP packet size in use: the PLPMTU path MTU discovery confirmed (weft's
    /// engine), or the fixed `mtu` (sctp-proto).
    pub plpmtu: u32,
}

/// Why the association ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// We closed it.
    Local,
    /// The peer shut it down gracefully (SHUTDOWN).
    PeerShutdown,
    /// The peer aborted it (ABORT), or it failed on the peer's packets.
    Aborted,
    /// The INIT/COOKIE handshake failed.
    HandshakeFailed(String),
    /// The peer broke the SCTP protocol.
    ProtocolViolation,
    /// The peer restarted the association.
    PeerRestarted,
    /// Retransmissions ran out.
    TimedOut,
    /// Incomplete messages filled the receive buffer.
    ReceiveBufferExhausted,
}

/// A peer action that breaks RFC 8831/8832; the offending message is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A DCEP message that does not parse.
    BadDcep(DcepError),
    /// A user message on a stream no channel was opened on.
    UnknownStream,
    /// A DATA_CHANNEL_OPEN on an id of our parity (RFC 8832 §6).
    WrongParity,
    /// A DATA_CHANNEL_OPEN on an id already in use.
    IdInUse,
    /// A payload protocol identifier data channels do not use.
    UnknownPpid,
    /// Text that is not UTF-8 (RFC 8831 §6.6).
    NotUtf8,
    /// A message sent in partial pieces grew past our maximum message size.
    TooBig,
}

/// Something for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The association is up; channels opened earlier are being opened now.
    Connected,
    /// A channel is open: ours once DCEP OPEN is sent (or at once when negotiated), the
    /// peer's when its DATA_CHANNEL_OPEN arrives. [`Association::channel`] has the details.
    ChannelOpen {
        /// The channel.
        id: ChannelId,
        /// The peer opened it.
        remote: bool,
    },
    /// A whole message.
    Message {
        /// The channel.
        id: ChannelId,
        /// Text or binary.
        kind: MessageKind,
        /// The payload (empty for the empty PPIDs).
        data: Bytes,
    },
    /// The channel's buffered amount fell to its low threshold.
    BufferedAmountLow {
        /// The channel.
        id: ChannelId,
    },
    /// The channel is closed; its id is reusable once [`Event::ChannelIdFree`] follows.
    ChannelClosed {
        /// The channel.
        id: ChannelId,
    },
    /// Both stream resets finished: the id may be opened again.
    ChannelIdFree {
        /// The id.
        id: ChannelId,
    },
    /// The peer did something RFC 8831/8832 forbids; nothing was delivered for it.
    Violation {
        /// The stream it happened on.
        stream: u16,
        /// What.
        violation: Violation,
    },
    /// The association is gone; every channel is closed.
    Closed(CloseReason),
}

/// Something for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Output {
    /// An SCTP packet to send as one DTLS application data record.
    Transmit(Bytes),
    /// An event for the application.
    Event(Event),
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The association is closed.
    Closed,
    /// No channel has this id.
    UnknownChannel(ChannelId),
    /// The channel is not open (connecting, closing or closed).
    NotOpen(ChannelId),
    /// The message is larger than the peer takes (RFC 8841 §6.1).
    MessageTooBig {
        /// The message's size.
        size: usize,
        /// The largest the peer takes.
        max: usize,
    },
    /// The id is taken, or its previous channel's reset is still under way.
    IdInUse(ChannelId),
    /// The id is above [`MAX_CHANNEL_ID`] or beyond the streams the peer allows.
    IdOutOfRange(ChannelId),
    /// Every id of our parity is taken.
    NoFreeId,
    /// The label or protocol is longer than 65535 bytes.
    TooLong,
    /// The SCTP engine refused (its message).
    Sctp(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Closed => f.write_str("association closed"),
            Error::UnknownChannel(id) => write!(f, "no channel {id}"),
            Error::NotOpen(id) => write!(f, "channel {id} is not open"),
            Error::MessageTooBig { size, max } => {
                write!(f, "message of {size} bytes, the peer takes at most {max}")
            }
            Error::IdInUse(id) => write!(f, "channel id {id} is in use"),
            Error::IdOutOfRange(id) => write!(f, "channel id {id} is out of range"),
            Error::NoFreeId => f.write_str("no free channel id"),
            Error::TooLong => f.write_str("label or protocol longer than 65535 bytes"),
            Error::Sctp(e) => write!(f, "SCTP: {e}"),
        }
    }
}

impl std::error::Error for Error {}

struct Channel {
    info: ChannelInfo,
    /// Our DCEP OPEN is out and no ACK (or data) has come back: send ordered
    /// (RFC 8832 §6).
    awaiting_ack: bool,
    /// Pieces of a message sent under the deprecated partial PPIDs.
    partial: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    Established,
    Closed,
}

/// One SCTP association carrying data channels. Sans-IO.
///
/// Calling contract:
/// - [`Association::new`] with the DTLS role; a client's INIT is queued at once.
/// - Every DTLS application data record from the peer goes to
///   [`handle_input`](Self::handle_input); [`handle_timeout`](Self::handle_timeout) when the
///   clock reaches [`poll_timeout`](Self::poll_timeout).
/// - After every call (including [`send`](Self::send) and the channel calls), drain
///   [`poll_output`](Self::poll_output): each `Transmit` goes out as one DTLS record.
/// - [`open_channel`](Self::open_channel) may be called before the association is up;
///   the channel opens when it is.
/// - Never: a panic on anything the peer sends; a message delivered in pieces or twice.
///
/// Time comes from the caller. sctp-proto draws verification tags and initial TSNs from
/// `rand`'s thread RNG; weft's own engine from a seed the association takes from the
/// operating system.
pub struct Association {
    config: Config,
    endpoint: sp::Endpoint,
    inner: Option<(sp::AssociationHandle, sp::Association)>,
    state: State,
    channels: BTreeMap<ChannelId, Channel>,
    out: VecDeque<Output>,
    now: Instant,
    stats: AssociationStats,
    closing_locally: bool,
    shutdown_wanted: bool,
    peer_shutdown: bool,
    /// The peer sent ABORT.
    peer_abort: bool,
    /// The peer's verification tag, as our own packets carry it.
    peer_tag: Option<[u8; 4]>,
    /// Something changed since sctp-proto was last asked for packets.
    dirty: bool,
    scratch: Vec<u8>,
    /// weft's engine, when [`EngineKind::Weft`] was chosen; `endpoint` and `inner` then
    /// stay idle.
    weft: Option<Box<WeftBackend>>,
}

/// The weft engine and what the association keeps beside it.
struct WeftBackend {
    engine: Engine,
    /// Streams whose incoming side the peer reset (RFC 6525 §5.2.2).
    in_reset: BTreeSet<u16>,
    /// Streams whose outgoing reset the peer performed (RFC 6525 §5.2.4).
    out_reset: BTreeSet<u16>,
    /// Each channel's buffered amount when last looked at, to see it fall to the
    /// threshold.
    last_buffered: BTreeMap<u16, usize>,
}

/// RFC 8831 §8 PPIDs.
const PPID_DCEP: u32 = 50;
const PPID_STRING: u32 = 51;
const PPID_BINARY: u32 = 53;

impl Association {
    /// A new association; a client's INIT is ready in [`poll_output`](Self::poll_output).
    pub fn new(now: Instant, config: Config) -> Association {
        let transport = Arc::new(
            sp::TransportConfig::default()
                .with_local_port(config.local_port)
                .with_remote_port(config.remote_port)
                .with_max_receive_buffer_size(config.receive_buffer.max(config.max_message_size))
                .with_max_receive_message_size(config.max_message_size)
                .with_max_send_message_size(config.send_limit())
                // RFC 8831 §6.2: WebRTC keeps retransmitting; ICE consent decides when
                // the path is dead.
                .with_max_init_retransmits(None)
                .with_max_data_retransmits(None)
                .with_rto_initial_ms(millis(config.rto_initial))
                .with_rto_min_ms(millis(config.rto_min))
                .with_rto_max_ms(millis(config.rto_max)),
        );
        let mut endpoint_config = sp::EndpointConfig::new();
        endpoint_config.max_payload_size(config.mtu);
        let server = match config.role {
            Role::Client => None,
            Role::Server => {
                let mut server = sp::ServerConfig::new();
                server.transport = transport.clone();
                Some(Arc::new(server))
            }
        };
        let mut endpoint = sp::Endpoint::new(Arc::new(endpoint_config), server);
        let mut inner = None;
        let mut state = State::Connecting;
        let weft =
            (config.engine == EngineKind::Weft).then(|| Box::new(weft_backend(&config, now)));
        if config.role == Role::Client && weft.is_none() {
            let mut client = sp::ClientConfig::new();
            client.transport = transport;
            match endpoint.connect(client, PEER) {
                Ok(pair) => inner = Some(pair),
                Err(_) => state = State::Closed,
            }
        }
        let mut association = Association {
            config,
            endpoint,
            inner,
            state,
            channels: BTreeMap::new(),
            out: VecDeque::new(),
            now,
            stats: AssociationStats::default(),
            closing_locally: false,
            shutdown_wanted: false,
            peer_shutdown: false,
            peer_abort: false,
            peer_tag: None,
            dirty: true,
            scratch: Vec::new(),
            weft,
        };
        if association.state == State::Closed {
            association.push(Event::Closed(CloseReason::HandshakeFailed(
                "bad SCTP ports".into(),
            )));
        }
        association.pump();
        association
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the association is up.
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Whether the association is gone.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// One SCTP packet from the peer (the payload of a DTLS application data record).
    pub fn handle_input(&mut self, now: Instant, packet: &[u8]) {
        self.handle_input_bytes(now, Bytes::copy_from_slice(packet));
    }

    /// As [`handle_input`](Self::handle_input), taking ownership without a copy.
    pub fn handle_input_bytes(&mut self, now: Instant, packet: Bytes) {
        self.now = now;
        if self.state == State::Closed {
            // RFC 9260 §8.4 item 5: a SHUTDOWN ACK after we are gone (our SHUTDOWN
            // COMPLETE was lost) gets a SHUTDOWN COMPLETE with its own tag reflected, or
            // the peer would retransmit SHUTDOWN ACK until it gives up.
            if let Some(reply) = shutdown_complete_for_ootb(&packet) {
                self.stats.packets_sent += 1;
                self.out.push_back(Output::Transmit(reply));
            }
            return;
        }
        self.stats.packets_received += 1;
        // One walk over the chunk headers: the peer's SHUTDOWN makes its later close a
        // graceful one (RFC 9260 §3.3.8), its ABORT is never answered (§8.4), and the
        // deprecated partial PPIDs need mapping.
        let mut partial = false;
        let mut init = false;
        for at in chunk_starts(&packet) {
            match packet[at] {
                CHUNK_INIT => init = true,
                CHUNK_SHUTDOWN => self.peer_shutdown = true,
                CHUNK_ABORT => self.peer_abort = true,
                CHUNK_DATA => partial |= data_ppid(&packet, at).is_some_and(is_partial_ppid),
                _ => {}
            }
        }
        // Chromium's SCTP sends INIT from both ends at once. The DTLS client's INIT is the
        // one that sets the association up (RFC 8832 §6 role split); the server answers
        // it, and the client drops the server's INIT, which sctp-proto's client endpoint
        // cannot take (it has no server half; RFC 9260 §5.2.1 lets the INIT collision
        // resolve through our own INIT).
        if init && self.config.role == Role::Client {
            self.stats.inits_dropped += 1;
            return;
        }
        if let Some(w) = &mut self.weft {
            // The engine reads every PPID itself, partial ones included.
            w.engine.handle_packet(now, &packet);
            self.weft_pump();
            self.weft_buffered_low();
            return;
        }
        let packet = if partial {
            map_partial_ppids(packet)
        } else {
            packet
        };
        match self.endpoint.handle(now, PEER, None, None, packet) {
            Some((handle, sp::DatagramEvent::NewAssociation(association)))
                if self.inner.is_none() =>
            {
                self.inner = Some((handle, association));
                // One DTLS transport carries one association (RFC 8261 §4).
                self.endpoint.reject_new_associations();
            }
            Some((handle, sp::DatagramEvent::AssociationEvent(event))) => {
                if let Some((h, association)) = &mut self.inner {
                    if *h == handle {
                        association.handle_event(event);
                    }
                }
            }
            _ => {}
        }
        // Messages are read out at once (sctp-proto's reassembly queue re-sorts what it
        // holds on every chunk, so it must stay short); packets are gathered in
        // poll_output, so a burst of input costs one pass over its send queues.
        self.dirty = true;
        self.drain_events();
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if let Some(w) = &self.weft {
            return w.engine.poll_timeout();
        }
        self.inner.as_ref().and_then(|(_, a)| a.poll_timeout())
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if let Some(w) = &mut self.weft {
            w.engine.handle_timeout(now);
        }
        if let Some((_, a)) = &mut self.inner {
            a.handle_timeout(now);
        }
        self.dirty = true;
    }

    /// The next packet to send or event to handle.
    pub fn poll_output(&mut self) -> Option<Output> {
        if self.out.is_empty() {
            self.pump();
        }
        self.out.pop_front()
    }

    /// Opens a channel. Before the association is up it waits, in state `Connecting`.
    pub fn open_channel(
        &mut self,
        label: &str,
        options: ChannelOptions,
    ) -> Result<ChannelId, Error> {
        if self.state == State::Closed {
            return Err(Error::Closed);
        }
        if label.len() > usize::from(u16::MAX) || options.protocol.len() > usize::from(u16::MAX) {
            return Err(Error::TooLong);
        }
        let id = match options.negotiated {
            Some(id) => {
                if id > MAX_CHANNEL_ID {
                    return Err(Error::IdOutOfRange(id));
                }
                if self.channels.contains_key(&id) {
                    return Err(Error::IdInUse(id));
                }
                id
            }
            None => self.free_id()?,
        };
        self.channels.insert(
            id,
            Channel {
                info: ChannelInfo {
                    id,
                    label: label.to_owned(),
                    protocol: options.protocol,
                    reliability: options.reliability,
                    priority: options.priority,
                    negotiated: options.negotiated.is_some(),
                    remote: false,
                    state: ChannelState::Connecting,
                    stats: ChannelStats::default(),
                    buffered_amount_low_threshold: 0,
                },
                awaiting_ack: false,
                partial: Vec::new(),
            },
        );
        if self.state == State::Established {
            if let Err(e) = self.start_channel(id) {
                self.channels.remove(&id);
                return Err(e);
            }
        }
        Ok(id)
    }

    /// Sends one message. Empty messages use the empty PPIDs (RFC 8831 §6.6).
    pub fn send(&mut self, id: ChannelId, kind: MessageKind, data: &[u8]) -> Result<(), Error> {
        if self.state == State::Closed {
            return Err(Error::Closed);
        }
        let channel = self.channels.get(&id).ok_or(Error::UnknownChannel(id))?;
        if channel.info.state != ChannelState::Open {
            return Err(Error::NotOpen(id));
        }
        let max = self.config.send_limit() as usize;
        if data.len() > max {
            return Err(Error::MessageTooBig {
                size: data.len(),
                max,
            });
        }
        let (ppi, payload): (Ppi, &[u8]) = match (kind, data.is_empty()) {
            // RFC 8831 §6.6: an empty message is one byte under the empty PPID.
            (MessageKind::Text, true) => (Ppi::StringEmpty, &[0]),
            (MessageKind::Binary, true) => (Ppi::BinaryEmpty, &[0]),
            (MessageKind::Text, false) => (Ppi::String, data),
            (MessageKind::Binary, false) => (Ppi::Binary, data),
        };
        if let Some(w) = &mut self.weft {
            // RFC 8832 §6: ordered until the peer's ACK (or data) shows it saw the OPEN; the
            // channel's partial reliability applies from the start (RFC 8831 §6.1).
            let unordered = !channel.info.reliability.ordered && !channel.awaiting_ack;
            let policy = match channel.info.reliability.policy {
                Policy::Reliable => weft::SendPolicy::Reliable,
                Policy::MaxRetransmits(n) => weft::SendPolicy::MaxRetransmits(n),
                Policy::MaxLifetimeMs(ms) => {
                    weft::SendPolicy::Lifetime(Duration::from_millis(u64::from(ms)))
                }
            };
            w.engine
                .send_with(self.now, id, ppid_number(ppi), unordered, payload, policy)
                .map_err(|e| weft_send_error(id, e))?;
            let b = w.engine.buffered_amount_of(id);
            w.last_buffered.insert(id, b);
        } else {
            let association = self.association()?;
            let not_open = |e: sp::Error| match e {
                sp::Error::ErrStreamClosed | sp::Error::ErrStreamNotExisted => Error::NotOpen(id),
                other => sctp_error(other),
            };
            let mut stream = association.stream(id).map_err(not_open)?;
            stream.write_with_ppi(payload, ppi).map_err(not_open)?;
        }
        self.dirty = true;
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.info.stats.messages_sent += 1;
            channel.info.stats.bytes_sent += data.len() as u64;
        }
        self.stats.messages_sent += 1;
        self.stats.bytes_sent += data.len() as u64;
        Ok(())
    }

    /// Closes a channel by resetting its outgoing stream; the peer resets its own in turn
    /// (RFC 8831 §6.7). [`Event::ChannelClosed`] follows.
    pub fn close_channel(&mut self, id: ChannelId) -> Result<(), Error> {
        let channel = self
            .channels
            .get_mut(&id)
            .ok_or(Error::UnknownChannel(id))?;
        match channel.info.state {
            ChannelState::Closing | ChannelState::Closed => Ok(()),
            ChannelState::Connecting => {
                self.channels.remove(&id);
                self.stats.channels_closed += 1;
                self.push(Event::ChannelClosed { id });
                self.push(Event::ChannelIdFree { id });
                Ok(())
            }
            ChannelState::Open => {
                channel.info.state = ChannelState::Closing;
                self.dirty = true;
                if let Some(w) = &mut self.weft {
                    // RFC 8831 §6.7: reset our outgoing stream; the peer resets its own.
                    return w
                        .engine
                        .reset_streams(&[id])
                        .map_err(|e| weft_send_error(id, e));
                }
                let association = self.association()?;
                association
                    .stream(id)
                    .and_then(|mut s| s.close())
                    .map_err(sctp_error)
            }
        }
    }

    /// Bytes accepted by [`send`](Self::send) and not yet acknowledged by the peer
    /// (W3C `bufferedAmount`).
    pub fn buffered_amount(&mut self, id: ChannelId) -> usize {
        if let Some(w) = &self.weft {
            return w.engine.buffered_amount_of(id);
        }
        match &mut self.inner {
            Some((_, a)) => a.stream(id).and_then(|s| s.buffered_amount()).unwrap_or(0),
            None => 0,
        }
    }

    /// Sets `bufferedAmountLowThreshold`: [`Event::BufferedAmountLow`] fires when the
    /// buffered amount falls to it.
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        id: ChannelId,
        threshold: usize,
    ) -> Result<(), Error> {
        let channel = self
            .channels
            .get_mut(&id)
            .ok_or(Error::UnknownChannel(id))?;
        channel.info.buffered_amount_low_threshold = threshold;
        if let Some((_, a)) = &mut self.inner {
            if let Ok(mut s) = a.stream(id) {
                s.set_buffered_amount_low_threshold(threshold)
                    .map_err(sctp_error)?;
            }
        }
        Ok(())
    }

    /// What is known of a channel.
    pub fn channel(&self, id: ChannelId) -> Option<&ChannelInfo> {
        self.channels.get(&id).map(|c| &c.info)
    }

    /// Every channel, by id.
    pub fn channels(&self) -> impl Iterator<Item = &ChannelInfo> {
        self.channels.values().map(|c| &c.info)
    }

    /// Counters.
    pub fn stats(&self) -> AssociationStats {
        let mut stats = self.stats.clone();
        if let Some(w) = &self.weft {
            let s = w.engine.stats();
            stats.data_chunks_received = s.data_chunks_received;
            stats.sacks_received = s.sacks_received;
            stats.t3_timeouts = s.t3_timeouts;
            stats.fast_retransmits = s.fast_retransmits;
            stats.plpmtu = s.plpmtu as u32;
            stats.engine = Some(s);
        }
        if let Some((_, a)) = &self.inner {
            let mut s = a.stats();
            stats.data_chunks_received = s.get_num_datas();
            stats.sacks_received = s.get_num_sacks();
            stats.t3_timeouts = s.get_num_t3timeouts();
            stats.fast_retransmits = s.get_num_fast_retrans();
            stats.plpmtu = self.config.mtu;
        }
        stats
    }

    /// The current retransmission timeout (sctp-proto's estimate of the path).
    pub fn rto(&self) -> Option<Duration> {
        if let Some(w) = &self.weft {
            return Some(w.engine.stats().rto);
        }
        self.inner.as_ref().map(|(_, a)| a.rtt())
    }

    /// Shuts the association down: SHUTDOWN once everything sent is acknowledged
    /// (RFC 9260 §9.2), or at once if it never came up.
    pub fn close(&mut self) {
        if self.state == State::Closed {
            return;
        }
        self.closing_locally = true;
        if let Some(w) = &mut self.weft {
            // The engine sends SHUTDOWN once everything is acknowledged (RFC 9260 §9.2),
            // or ends a setup still under way.
            w.engine.shutdown(self.now);
            self.weft_pump();
            return;
        }
        match &mut self.inner {
            // sctp-proto sends SHUTDOWN as soon as nothing is in flight, even with
            // messages still queued behind the congestion window; so weft waits until
            // every channel's buffer is empty (RFC 9260 §9.2: SHUTDOWN once all
            // outstanding data is acknowledged).
            Some(_) if self.state == State::Established => self.shutdown_wanted = true,
            Some((_, a)) => {
                let _ = a.close();
            }
            None => self.lost(CloseReason::Local),
        }
        self.dirty = true;
    }

    /// Every channel's messages are acknowledged.
    fn all_sent(&mut self) -> bool {
        let ids: Vec<ChannelId> = self.channels.keys().copied().collect();
        ids.into_iter().all(|id| self.buffered_amount(id) == 0)
    }

    fn association(&mut self) -> Result<&mut sp::Association, Error> {
        self.inner.as_mut().map(|(_, a)| a).ok_or(Error::Closed)
    }

    fn push(&mut self, event: Event) {
        if matches!(event, Event::Violation { .. }) {
            self.stats.violations += 1;
        }
        self.out.push_back(Output::Event(event));
    }

    fn free_id(&self) -> Result<ChannelId, Error> {
        // RFC 8832 §6: the DTLS client takes even ids, the server odd ones.
        let first = match self.config.role {
            Role::Client => 0,
            Role::Server => 1,
        };
        (first..=MAX_CHANNEL_ID)
            .step_by(2)
            .find(|id| !self.channels.contains_key(id))
            .ok_or(Error::NoFreeId)
    }

    /// Opens the stream of a local channel and, unless negotiated, sends DCEP OPEN.
    fn start_channel(&mut self, id: ChannelId) -> Result<(), Error> {
        let (open_bytes, reliability, negotiated, threshold) = {
            let channel = self.channels.get(&id).ok_or(Error::UnknownChannel(id))?;
            let info = &channel.info;
            let mut bytes = Vec::new();
            if !info.negotiated {
                dcep::Message::Open(dcep::Open {
                    reliability: info.reliability,
                    priority: info.priority,
                    label: &info.label,
                    protocol: &info.protocol,
                })
                .write(&mut bytes)
                .map_err(|_| Error::TooLong)?;
            }
            (
                bytes,
                info.reliability,
                info.negotiated,
                info.buffered_amount_low_threshold,
            )
        };
        let priority = self.channels.get(&id).map_or(0, |c| c.info.priority);
        if let Some(w) = &mut self.weft {
            // RFC 8831 §6.4: the channel's priority weighs its turns (under I-DATA).
            w.engine.set_stream_priority(id, priority);
            if !negotiated {
                // RFC 8832 §6: DCEP messages go reliable and ordered.
                w.engine
                    .send(id, PPID_DCEP, false, &open_bytes)
                    .map_err(|e| weft_send_error(id, e))?;
            }
            w.last_buffered.insert(id, w.engine.buffered_amount_of(id));
        } else {
            self.start_proto_stream(id, &open_bytes, reliability, negotiated, threshold)?;
        }
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.info.state = ChannelState::Open;
            channel.awaiting_ack = !negotiated;
        }
        self.stats.channels_opened += 1;
        self.dirty = true;
        self.push(Event::ChannelOpen { id, remote: false });
        Ok(())
    }

    /// Opens a local channel's sctp-proto stream and writes its DCEP OPEN.
    fn start_proto_stream(
        &mut self,
        id: ChannelId,
        open_bytes: &[u8],
        reliability: Reliability,
        negotiated: bool,
        threshold: usize,
    ) -> Result<(), Error> {
        let association = self.association()?;
        let mut stream = match association.open_stream(id, Ppi::Binary) {
            Ok(s) => s,
            // The peer's data got here first and created the stream.
            Err(sp::Error::ErrStreamAlreadyExist) => association.stream(id).map_err(sctp_error)?,
            Err(sp::Error::ErrStreamResetPending) => return Err(Error::IdInUse(id)),
            Err(e) => return Err(sctp_error(e)),
        };
        if negotiated {
            set_reliability(&mut stream, reliability, false)?;
        } else {
            // RFC 8832 §6: DCEP messages go reliable and ordered; user messages stay
            // ordered until the ACK (or the peer's first message) arrives.
            set_reliability(&mut stream, Reliability::RELIABLE, false)?;
            stream
                .write_with_ppi(open_bytes, Ppi::Dcep)
                .map_err(sctp_error)?;
            set_reliability(&mut stream, reliability, true)?;
        }
        let _ = stream.set_buffered_amount_low_threshold(threshold);
        Ok(())
    }

    /// Moves sctp-proto's events and packets into `out` until it has none left.
    /// Handles sctp-proto's pending events; true if there were any.
    fn drain_events(&mut self) -> bool {
        let mut any = false;
        while let Some(event) = self.inner.as_mut().and_then(|(_, a)| a.poll()) {
            any = true;
            // Handling an event may write (a DCEP ACK, a queued OPEN).
            self.dirty = true;
            self.on_sctp_event(event);
        }
        any
    }

    fn pump(&mut self) {
        if self.weft.is_some() {
            self.weft_pump();
            // Messages abandoned by a timer or while sending (RFC 3758 §3.5) leave the
            // buffered amount too.
            self.weft_buffered_low();
            return;
        }
        loop {
            let mut progress = self.drain_events();
            let now = self.now;
            if let Some((_, a)) = &mut self.inner {
                // sctp-proto says "drained" when shutdown starts, and its endpoint would
                // stop routing the peer's SHUTDOWN-ACK. One transport carries one
                // association, which lives as long as this value: the events are dropped.
                while a.poll_endpoint_event().is_some() {}
                // Each poll_transmit scans sctp-proto's whole in-flight queue, so weft
                // asks only after a change of state (input, timer, send, channel
                // operation), and then until it has nothing more.
                if std::mem::take(&mut self.dirty) {
                    while let Some(transmit) = a.poll_transmit(now) {
                        progress = true;
                        // sctp-proto leaves the side that sent SHUTDOWN COMPLETE open
                        // (RFC 9260 §9.2 closes it); close it here.
                        if queue_transmit(
                            &mut self.out,
                            &mut self.stats,
                            &mut self.peer_tag,
                            transmit,
                        ) {
                            let _ = a.close();
                        }
                    }
                }
            }
            while let Some(transmit) = self.endpoint.poll_transmit() {
                progress = true;
                let _ =
                    queue_transmit(&mut self.out, &mut self.stats, &mut self.peer_tag, transmit);
            }
            if !progress && self.shutdown_wanted && self.all_sent() {
                self.shutdown_wanted = false;
                if let Some((_, a)) = &mut self.inner {
                    if a.shutdown().is_err() {
                        let _ = a.close();
                    }
                }
                self.dirty = true;
                progress = true;
            }
            if !progress {
                break;
            }
        }
    }

    fn on_sctp_event(&mut self, event: sp::Event) {
        match event {
            sp::Event::Connected => self.on_connected(),
            sp::Event::HandshakeFailed { reason } => {
                let reason = CloseReason::HandshakeFailed(reason.to_string());
                self.lost(reason);
            }
            sp::Event::AssociationLost { reason } => {
                let reason = self.close_reason(reason);
                // sctp-proto drops an association whose peer broke the protocol without
                // telling the peer; weft sends the ABORT (RFC 9260 §6.10), never in reply
                // to the peer's own ABORT (§8.4).
                if reason == CloseReason::Aborted && !self.peer_abort {
                    if let Some(tag) = self.peer_tag {
                        let abort = abort_packet(&self.config, tag);
                        self.stats.packets_sent += 1;
                        self.out.push_back(Output::Transmit(abort));
                    }
                }
                self.lost(reason);
            }
            sp::Event::Stream(event) => self.on_stream_event(event),
            _ => {}
        }
    }

    fn on_connected(&mut self) {
        if self.state != State::Connecting {
            return;
        }
        self.state = State::Established;
        self.push(Event::Connected);
        let waiting: Vec<ChannelId> = self
            .channels
            .values()
            .filter(|c| c.info.state == ChannelState::Connecting)
            .map(|c| c.info.id)
            .collect();
        for id in waiting {
            if self.start_channel(id).is_err() {
                self.channels.remove(&id);
                self.stats.channels_closed += 1;
                self.push(Event::ChannelClosed { id });
                self.push(Event::ChannelIdFree { id });
            }
        }
    }

    fn close_reason(&self, reason: sp::AssociationError) -> CloseReason {
        if self.closing_locally {
            return CloseReason::Local;
        }
        match reason {
            sp::AssociationError::HandshakeFailed(e) => CloseReason::HandshakeFailed(e.to_string()),
            sp::AssociationError::TransportError => CloseReason::ProtocolViolation,
            sp::AssociationError::ReceiveBufferExhausted => CloseReason::ReceiveBufferExhausted,
            sp::AssociationError::ApplicationClosed => CloseReason::PeerShutdown,
            sp::AssociationError::AssociationClosed if self.peer_shutdown => {
                CloseReason::PeerShutdown
            }
            sp::AssociationError::Reset => CloseReason::PeerRestarted,
            sp::AssociationError::TimedOut => CloseReason::TimedOut,
            sp::AssociationError::LocallyClosed => CloseReason::Local,
            _ => CloseReason::Aborted,
        }
    }

    fn lost(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        let open: Vec<ChannelId> = self
            .channels
            .values()
            .filter(|c| c.info.state != ChannelState::Closed)
            .map(|c| c.info.id)
            .collect();
        for id in open {
            if let Some(c) = self.channels.get_mut(&id) {
                c.info.state = ChannelState::Closed;
            }
            self.stats.channels_closed += 1;
            self.push(Event::ChannelClosed { id });
        }
        self.push(Event::Closed(reason));
    }

    fn on_stream_event(&mut self, event: sp::StreamEvent) {
        match event {
            sp::StreamEvent::Opened { .. } => {
                // The stream exists; the channel does once DCEP OPEN arrives (or it was
                // negotiated). Drain sctp-proto's accept queue so it stays empty.
                if let Some((_, a)) = &mut self.inner {
                    while a.accept_stream().is_some() {}
                }
            }
            sp::StreamEvent::Readable { id } => self.read_stream(id),
            sp::StreamEvent::BufferedAmountLow { id }
                if self
                    .channels
                    .get(&id)
                    .is_some_and(|c| c.info.state == ChannelState::Open) =>
            {
                self.push(Event::BufferedAmountLow { id });
            }
            sp::StreamEvent::Finished { id } => {
                if let Some(channel) = self.channels.get_mut(&id) {
                    if channel.info.state != ChannelState::Closed {
                        channel.info.state = ChannelState::Closed;
                        self.stats.channels_closed += 1;
                        self.push(Event::ChannelClosed { id });
                    }
                }
            }
            sp::StreamEvent::ResetComplete { id }
                if self
                    .channels
                    .get(&id)
                    .is_some_and(|c| c.info.state == ChannelState::Closed) =>
            {
                self.channels.remove(&id);
                self.push(Event::ChannelIdFree { id });
            }
            _ => {}
        }
    }

    fn read_stream(&mut self, id: u16) {
        loop {
            let Some((_, a)) = &mut self.inner else {
                return;
            };
            let chunks = match a.stream(id).and_then(|mut s| s.read_sctp()) {
                Ok(Some(chunks)) => chunks,
                _ => return,
            };
            let ppi = chunks.ppi;
            self.scratch.clear();
            self.scratch.resize(chunks.len(), 0);
            if chunks.read(&mut self.scratch).is_err() {
                return;
            }
            match ppi {
                Ppi::Dcep => {
                    let bytes = std::mem::take(&mut self.scratch);
                    self.on_dcep(id, &bytes);
                    self.scratch = bytes;
                }
                Ppi::String | Ppi::StringEmpty | Ppi::Binary | Ppi::BinaryEmpty => {
                    let kind = if matches!(ppi, Ppi::String | Ppi::StringEmpty) {
                        MessageKind::Text
                    } else {
                        MessageKind::Binary
                    };
                    let empty_ppid = matches!(ppi, Ppi::StringEmpty | Ppi::BinaryEmpty);
                    // A piece under a deprecated partial PPID, mapped by map_partial_ppids
                    // to an empty PPID, whose real messages are the single byte 0.
                    let piece = empty_ppid && self.scratch.as_slice() != [0];
                    self.on_message(id, kind, empty_ppid, piece);
                }
                _ => self.push(Event::Violation {
                    stream: id,
                    violation: Violation::UnknownPpid,
                }),
            }
        }
    }

    /// A message in `scratch`: `empty_ppid` under PPID 56 or 57, `piece` a piece of a
    /// partial message (RFC 8831 §8).
    fn on_message(&mut self, id: u16, kind: MessageKind, empty_ppid: bool, piece: bool) {
        let Some(channel) = self.channels.get_mut(&id) else {
            self.push(Event::Violation {
                stream: id,
                violation: Violation::UnknownStream,
            });
            return;
        };
        if !matches!(
            channel.info.state,
            ChannelState::Open | ChannelState::Closing
        ) {
            return;
        }
        if piece {
            // Kept until the message's last piece (RFC 8831 §8), within the message limit.
            let limit = self.config.max_message_size as usize;
            let buffered = channel.partial.len() + self.scratch.len();
            if buffered > limit {
                channel.partial = Vec::new();
                self.push(Event::Violation {
                    stream: id,
                    violation: Violation::TooBig,
                });
            } else {
                channel.partial.extend_from_slice(&self.scratch);
            }
            return;
        }
        let data = if !channel.partial.is_empty() {
            let mut whole = std::mem::take(&mut channel.partial);
            if !empty_ppid {
                whole.extend_from_slice(&self.scratch);
            }
            Bytes::from(whole)
        } else if empty_ppid {
            Bytes::new()
        } else {
            Bytes::copy_from_slice(&self.scratch)
        };
        if kind == MessageKind::Text && std::str::from_utf8(&data).is_err() {
            self.push(Event::Violation {
                stream: id,
                violation: Violation::NotUtf8,
            });
            return;
        }
        // RFC 8832 §6: user data from the peer stands in for its ACK.
        let became_acked = std::mem::take(&mut channel.awaiting_ack);
        channel.info.stats.messages_received += 1;
        channel.info.stats.bytes_received += data.len() as u64;
        let reliability = channel.info.reliability;
        self.stats.messages_received += 1;
        self.stats.bytes_received += data.len() as u64;
        if became_acked {
            self.apply_acked(id, reliability);
        }
        self.push(Event::Message { id, kind, data });
    }

    fn apply_acked(&mut self, id: u16, reliability: Reliability) {
        if let Some((_, a)) = &mut self.inner {
            if let Ok(mut stream) = a.stream(id) {
                let _ = set_reliability(&mut stream, reliability, false);
            }
        }
    }

    fn on_dcep(&mut self, id: u16, bytes: &[u8]) {
        let message = match dcep::Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.push(Event::Violation {
                    stream: id,
                    violation: Violation::BadDcep(e),
                });
                return;
            }
        };
        match message {
            dcep::Message::Ack => {
                if let Some(channel) = self.channels.get_mut(&id) {
                    if std::mem::take(&mut channel.awaiting_ack) {
                        let reliability = channel.info.reliability;
                        self.apply_acked(id, reliability);
                    }
                }
            }
            dcep::Message::Open(open) => self.on_open(id, open),
        }
    }

    fn on_open(&mut self, id: u16, open: dcep::Open<'_>) {
        let ours = match self.config.role {
            Role::Client => id.is_multiple_of(2),
            Role::Server => !id.is_multiple_of(2),
        };
        let violation = if ours {
            Some(Violation::WrongParity)
        } else if self.channels.contains_key(&id) || id > MAX_CHANNEL_ID {
            Some(Violation::IdInUse)
        } else {
            None
        };
        if let Some(violation) = violation {
            self.push(Event::Violation {
                stream: id,
                violation,
            });
            return;
        }
        let mut ack = Vec::with_capacity(1);
        let _ = dcep::Message::Ack.write(&mut ack);
        if let Some(w) = &mut self.weft {
            // RFC 8832 §6: the ACK goes reliable and ordered.
            if w.engine.send(id, PPID_DCEP, false, &ack).is_err() {
                return;
            }
            w.last_buffered.insert(id, w.engine.buffered_amount_of(id));
            self.insert_remote_channel(id, open);
            return;
        }
        let Some((_, a)) = &mut self.inner else {
            return;
        };
        let Ok(mut stream) = a.stream(id) else {
            return;
        };
        // RFC 8832 §6: the ACK goes reliable and ordered; our user messages may use the
        // channel's own policy at once, since the peer has seen its OPEN.
        if set_reliability(&mut stream, Reliability::RELIABLE, false).is_err()
            || stream.write_with_ppi(&ack, Ppi::Dcep).is_err()
            || set_reliability(&mut stream, open.reliability, false).is_err()
        {
            return;
        }
        self.insert_remote_channel(id, open);
    }

    fn insert_remote_channel(&mut self, id: u16, open: dcep::Open<'_>) {
        if let Some(w) = &mut self.weft {
            // RFC 8831 §6.4: the priority the peer opened the channel with applies to
            // both directions.
            w.engine.set_stream_priority(id, open.priority);
        }
        self.channels.insert(
            id,
            Channel {
                info: ChannelInfo {
                    id,
                    label: open.label.to_owned(),
                    protocol: open.protocol.to_owned(),
                    reliability: open.reliability,
                    priority: open.priority,
                    negotiated: false,
                    remote: true,
                    state: ChannelState::Open,
                    stats: ChannelStats::default(),
                    buffered_amount_low_threshold: 0,
                },
                awaiting_ack: false,
                partial: Vec::new(),
            },
        );
        self.stats.channels_opened += 1;
        self.push(Event::ChannelOpen { id, remote: true });
    }
}

/// The weft engine for `config`; a client's INIT is queued at once.
fn weft_backend(config: &Config, now: Instant) -> WeftBackend {
    let ec = EngineConfig {
        local_port: config.local_port,
        remote_port: config.remote_port,
        mtu: config.mtu as usize,
        max_mtu: config.max_mtu as usize,
        heartbeat_interval: config.heartbeat_interval,
        receive_window: config.receive_buffer.max(config.max_message_size),
        max_message_size: config.send_limit() as usize,
        max_receive_message_size: config.max_message_size as usize,
        // The sctp-proto path queues without bound; the W3C API leaves the limit to the
        // application's bufferedAmount.
        send_buffer: usize::MAX,
        rto_initial: config.rto_initial,
        rto_min: config.rto_min,
        rto_max: config.rto_max,
        // RFC 8831 §6.2: WebRTC keeps retrying; ICE consent decides when the path is dead.
        max_init_retransmits: None,
        // RFC 9653 §5: SCTP here always runs over DTLS, whose record MAC catches what the
        // CRC32c would; a peer that declares the same (dcsctp does) is sent zero
        // checksums, and the CRC32c is computed only for peers that do not.
        zero_checksum: true,
        interleaving: config.interleaving,
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(ec, now, config.rng_seed.unwrap_or_else(random_seed));
    if config.role == Role::Client {
        engine.connect(now);
    }
    WeftBackend {
        engine,
        in_reset: BTreeSet::new(),
        out_reset: BTreeSet::new(),
        last_buffered: BTreeMap::new(),
    }
}

/// A seed for the engine's verification tags, initial TSN and cookie key, from the
/// operating system.
fn random_seed() -> u64 {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 8];
    // SystemRandom fails only without an OS source; the tags are then still distinct per
    // association through the address of the buffer, which is all RFC 9260 §5.3.1 needs
    // against stale packets (not against an on-path attacker, whom DTLS stops).
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        return (&b as *const [u8; 8] as usize as u64) ^ 0x9e37_79b9_7f4a_7c15;
    }
    u64::from_be_bytes(b)
}

fn ppid_number(ppi: Ppi) -> u32 {
    match ppi {
        Ppi::Dcep => PPID_DCEP,
        Ppi::String => PPID_STRING,
        Ppi::StringEmpty => PPID_STRING_EMPTY,
        Ppi::BinaryEmpty => PPID_BINARY_EMPTY,
        _ => PPID_BINARY,
    }
}

fn weft_send_error(id: ChannelId, e: weft::SendError) -> Error {
    match e {
        weft::SendError::NotOpen => Error::NotOpen(id),
        weft::SendError::InvalidStream => Error::IdOutOfRange(id),
        weft::SendError::TooLarge => Error::Sctp("message larger than the engine takes".into()),
        other => Error::Sctp(other.to_string()),
    }
}

impl Association {
    /// Moves the engine's packets and events out until it has none left.
    fn weft_pump(&mut self) {
        loop {
            let mut progress = false;
            let now = self.now;
            while let Some(packet) = self.weft.as_mut().and_then(|w| w.engine.poll_transmit(now)) {
                progress = true;
                self.stats.packets_sent += 1;
                self.out.push_back(Output::Transmit(Bytes::from(packet)));
            }
            while let Some(event) = self.weft.as_mut().and_then(|w| w.engine.poll_event()) {
                progress = true;
                self.on_weft_event(event);
            }
            if !progress {
                break;
            }
        }
    }

    /// [`Event::BufferedAmountLow`] for every open channel whose buffered amount fell to
    /// its threshold since last looked at.
    fn weft_buffered_low(&mut self) {
        let Some(w) = &mut self.weft else {
            return;
        };
        let mut low = Vec::new();
        for (id, last) in w.last_buffered.iter_mut() {
            let now = w.engine.buffered_amount_of(*id);
            if now < *last {
                if let Some(c) = self.channels.get(id) {
                    let t = c.info.buffered_amount_low_threshold;
                    if c.info.state == ChannelState::Open && *last > t && now <= t {
                        low.push(*id);
                    }
                }
            }
            *last = now;
        }
        w.last_buffered.retain(|_, b| *b > 0);
        for id in low {
            self.push(Event::BufferedAmountLow { id });
        }
    }

    fn on_weft_event(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::Established => self.on_connected(),
            EngineEvent::Message {
                stream, ppid, data, ..
            } => {
                self.scratch = data;
                match ppid {
                    PPID_DCEP => {
                        let bytes = std::mem::take(&mut self.scratch);
                        self.on_dcep(stream, &bytes);
                    }
                    PPID_STRING | PPID_STRING_EMPTY | PPID_STRING_PARTIAL => self.on_message(
                        stream,
                        MessageKind::Text,
                        ppid == PPID_STRING_EMPTY,
                        ppid == PPID_STRING_PARTIAL,
                    ),
                    PPID_BINARY | PPID_BINARY_EMPTY | PPID_BINARY_PARTIAL => self.on_message(
                        stream,
                        MessageKind::Binary,
                        ppid == PPID_BINARY_EMPTY,
                        ppid == PPID_BINARY_PARTIAL,
                    ),
                    _ => self.push(Event::Violation {
                        stream,
                        violation: Violation::UnknownPpid,
                    }),
                }
            }
            EngineEvent::Closed(reason) => {
                let reason = if self.closing_locally {
                    CloseReason::Local
                } else {
                    match reason {
                        weft::CloseReason::Shutdown => CloseReason::PeerShutdown,
                        weft::CloseReason::LocalAbort => CloseReason::Local,
                        weft::CloseReason::PeerAbort(_) => CloseReason::Aborted,
                        weft::CloseReason::ProtocolViolation(_) => CloseReason::ProtocolViolation,
                        weft::CloseReason::SetupFailed => {
                            CloseReason::HandshakeFailed("setup failed".into())
                        }
                        weft::CloseReason::ShutdownTimeout | weft::CloseReason::Unreachable => {
                            CloseReason::TimedOut
                        }
                        // Like sctp-proto: the association failed on the peer's packets.
                        weft::CloseReason::ReceiveOverrun => CloseReason::Aborted,
                    }
                };
                self.lost(reason);
            }
            EngineEvent::IncomingStreamsReset(streams) => {
                for id in streams {
                    self.on_weft_incoming_reset(id);
                }
            }
            EngineEvent::OutgoingStreamsReset(streams) => {
                for id in streams {
                    if let Some(w) = &mut self.weft {
                        w.out_reset.insert(id);
                    }
                    self.weft_maybe_free(id);
                }
            }
            EngineEvent::OutgoingStreamsResetFailed(streams) => {
                // The peer could not reset them now (a reset of its own in progress,
                // RFC 6525 §5.2.2): ask again, one request round trip later.
                if let Some(w) = &mut self.weft {
                    let _ = w.engine.reset_streams(&streams);
                }
            }
        }
    }

    /// The peer reset its outgoing stream `id`: the channel is closed, and we reset ours
    /// in turn unless we began (RFC 8831 §6.7).
    fn on_weft_incoming_reset(&mut self, id: u16) {
        let Some(w) = &mut self.weft else {
            return;
        };
        let Some(channel) = self.channels.get_mut(&id) else {
            return;
        };
        w.in_reset.insert(id);
        channel.partial = Vec::new();
        match channel.info.state {
            ChannelState::Open | ChannelState::Connecting => {
                channel.info.state = ChannelState::Closed;
                let _ = w.engine.reset_streams(&[id]);
            }
            ChannelState::Closing => channel.info.state = ChannelState::Closed,
            ChannelState::Closed => return,
        }
        self.stats.channels_closed += 1;
        self.push(Event::ChannelClosed { id });
        self.weft_maybe_free(id);
    }

    /// Both directions of `id` are reset: the id is free again.
    fn weft_maybe_free(&mut self, id: u16) {
        let Some(w) = &mut self.weft else {
            return;
        };
        let closed = self
            .channels
            .get(&id)
            .is_some_and(|c| c.info.state == ChannelState::Closed);
        if closed && w.in_reset.contains(&id) && w.out_reset.contains(&id) {
            w.in_reset.remove(&id);
            w.out_reset.remove(&id);
            w.last_buffered.remove(&id);
            self.channels.remove(&id);
            self.push(Event::ChannelIdFree { id });
        }
    }
}

const CHUNK_DATA: u8 = 0;
const PPID_STRING_PARTIAL: u32 = 54;
const PPID_BINARY_PARTIAL: u32 = 52;
const PPID_STRING_EMPTY: u32 = 56;
const PPID_BINARY_EMPTY: u32 = 57;

/// sctp-proto knows only the current PPIDs and would hand weft the deprecated partial ones
/// (RFC 8831 §8: 54 string partial, 52 binary partial) as "unknown". A packet carrying them
/// is rewritten before sctp-proto sees it: 54 becomes 56 and 52 becomes 57, the empty
/// PPIDs, whose real messages are the single byte 0; weft's message layer takes any other
/// payload under them as a piece of a partial message. The packet's CRC32c is checked
/// first and recomputed after (RFC 9260 §6.8). Packets without them pass untouched.
fn map_partial_ppids(packet: Bytes) -> Bytes {
    let mut bytes = packet.to_vec();
    let Some(sent) = bytes
        .get(8..12)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    else {
        return packet;
    };
    bytes[8..12].fill(0);
    if crc32c::crc32c(&bytes) != sent {
        return packet;
    }
    for at in chunk_starts(&packet) {
        let mapped = match data_ppid(&packet, at) {
            Some(PPID_STRING_PARTIAL) if packet[at] == CHUNK_DATA => PPID_STRING_EMPTY,
            Some(PPID_BINARY_PARTIAL) if packet[at] == CHUNK_DATA => PPID_BINARY_EMPTY,
            _ => continue,
        };
        bytes[at + 12..at + 16].copy_from_slice(&mapped.to_be_bytes());
    }
    let crc = crc32c::crc32c(&bytes);
    bytes[8..12].copy_from_slice(&crc.to_le_bytes());
    Bytes::from(bytes)
}

fn is_partial_ppid(ppid: u32) -> bool {
    ppid == PPID_STRING_PARTIAL || ppid == PPID_BINARY_PARTIAL
}

/// The PPID field of the DATA chunk at `at` (RFC 9260 §3.3.1), if the packet holds it.
fn data_ppid(packet: &[u8], at: usize) -> Option<u32> {
    let f = packet.get(at + 12..at + 16)?;
    Some(u32::from_be_bytes([f[0], f[1], f[2], f[3]]))
}

const CHUNK_INIT: u8 = 1;
const CHUNK_ABORT: u8 = 6;
const CHUNK_SHUTDOWN: u8 = 7;

/// An SCTP packet holding one ABORT chunk without causes (RFC 9260 §3.3.7).
fn abort_packet(config: &Config, tag: [u8; 4]) -> Bytes {
    let mut p = Vec::with_capacity(16);
    p.extend_from_slice(&config.local_port.to_be_bytes());
    p.extend_from_slice(&config.remote_port.to_be_bytes());
    p.extend_from_slice(&tag);
    p.extend_from_slice(&[0; 4]);
    p.extend_from_slice(&[CHUNK_ABORT, 0, 0, 4]);
    // RFC 9260 Appendix A: CRC32c with the field zeroed, least significant byte first.
    let crc = crc32c::crc32c(&p);
    p[8..12].copy_from_slice(&crc.to_le_bytes());
    Bytes::from(p)
}
const CHUNK_SHUTDOWN_COMPLETE: u8 = 14;

/// Where each chunk of an SCTP packet starts (RFC 9260 §3.2), as far as its lengths hold.
fn chunk_starts(packet: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut at = 12;
    std::iter::from_fn(move || {
        let header = packet.get(at..at + 4)?;
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if len < 4 {
            return None;
        }
        let start = at;
        // Chunks are padded to 4 bytes.
        at += (len + 3) & !3;
        Some(start)
    })
}

/// Queues a transmit's packets; true when one carries SHUTDOWN COMPLETE.
fn queue_transmit(
    out: &mut VecDeque<Output>,
    stats: &mut AssociationStats,
    peer_tag: &mut Option<[u8; 4]>,
    t: sp::Transmit,
) -> bool {
    let mut completes = false;
    if let sp::Payload::RawEncode(packets) = t.payload {
        for packet in packets {
            stats.packets_sent += 1;
            // Every packet but an INIT carries the peer's verification tag (RFC 9260 §8.5).
            if let Some(tag) = packet.get(4..8).filter(|t| *t != [0; 4]) {
                *peer_tag = Some([tag[0], tag[1], tag[2], tag[3]]);
            }
            completes |= chunk_starts(&packet).any(|at| packet[at] == CHUNK_SHUTDOWN_COMPLETE);
            out.push_back(Output::Transmit(packet));
        }
    }
    completes
}

/// Applies a channel's policy to its stream; `force_ordered` keeps it ordered while the
/// DCEP ACK is outstanding.
fn set_reliability(
    stream: &mut sp::Stream<'_>,
    reliability: Reliability,
    force_ordered: bool,
) -> Result<(), Error> {
    let (kind, value) = match reliability.policy {
        Policy::Reliable => (sp::ReliabilityType::Reliable, 0),
        Policy::MaxRetransmits(n) => (sp::ReliabilityType::Rexmit, n),
        Policy::MaxLifetimeMs(ms) => (sp::ReliabilityType::Timed, ms),
    };
    let unordered = !reliability.ordered && !force_ordered;
    stream
        .set_reliability_params(unordered, kind, value)
        .map_err(sctp_error)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn sctp_error(e: sp::Error) -> Error {
    Error::Sctp(e.to_string())
}

/// The reply to an out-of-the-blue packet holding a SHUTDOWN ACK (RFC 9260 §8.4 item 5): a
/// SHUTDOWN COMPLETE with the T bit set and the packet's verification tag reflected, ports
/// swapped. `None` for any other packet or one that does not parse with a valid checksum.
fn shutdown_complete_for_ootb(packet: &[u8]) -> Option<Bytes> {
    use crate::wire::{
        chunk_type, Checksum, Chunk, CommonHeader, Packet, PacketWriter, ParseOptions,
    };
    let parsed = Packet::parse(packet, &ParseOptions::default()).ok()?;
    if !parsed
        .chunks()
        .any(|c| c.chunk_type == chunk_type::SHUTDOWN_ACK)
    {
        return None;
    }
    let h = parsed.header();
    let header = CommonHeader {
        src_port: h.dst_port,
        dst_port: h.src_port,
        verification_tag: h.verification_tag,
        checksum: 0,
    };
    let mut out = Vec::with_capacity(16);
    let mut w = PacketWriter::new(&mut out, &header);
    w.chunk(&Chunk::ShutdownComplete {
        tag_reflected: true,
    })
    .ok()?;
    w.finish(Checksum::Crc32c);
    Some(Bytes::from(out))
}
