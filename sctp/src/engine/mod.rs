//! weft's own SCTP association engine (issue 12): under
//! [`Association`](crate::Association) when [`Config::engine`](crate::Config::engine) is
//! [`EngineKind::Weft`](crate::EngineKind::Weft), the default. It is also tested on its
//! own, against sctp-proto and against itself.
//!
//! A sans-IO association (RFC 9260) built on [`wire`](crate::wire): packets and time in,
//! packets and events out. Written for speed: the in-flight queue is a ring indexed by TSN
//! offset from the cumulative ack point, received TSNs are a cumulative point plus sorted
//! gap ranges, reassembly is a ring indexed by TSN, messages are cut into chunks that
//! share one buffer (no allocation per chunk when sending, pooled chunk buffers when
//! receiving), chunks are bundled up to the MTU, CRC32c is the hardware one where present.
//!
//! ## Calling contract
//! - [`Engine::new`]; then [`connect`](Engine::connect) on the side that opens (a side
//!   that does not call it answers an INIT; both may call it: the INIT collision WebRTC
//!   produces is resolved by RFC 9260 §5.2.1 and §5.2.4).
//! - Feed every packet from the peer to [`handle_packet`](Engine::handle_packet) and call
//!   [`handle_timeout`](Engine::handle_timeout) when the clock reaches
//!   [`poll_timeout`](Engine::poll_timeout).
//! - After any `handle_*`, [`send`](Engine::send), [`shutdown`](Engine::shutdown) or
//!   [`abort`](Engine::abort): drain [`poll_transmit`](Engine::poll_transmit) until
//!   `None` and [`poll_event`](Engine::poll_event) until `None`, then ask `poll_timeout`.
//! - Time is always an argument; the engine never reads a clock. Randomness (tags, initial
//!   TSNs, the cookie key) comes from the seed given to `new`.
//!
//! ## States (RFC 9260 §4)
//! ```text
//! Listen --connect--> CookieWait --INIT ACK--> CookieEchoed --COOKIE ACK--> Established
//! Listen --valid COOKIE ECHO--> Established
//! Established --shutdown, all acked--> ShutdownSent --SHUTDOWN ACK--> Closed
//! Established --SHUTDOWN, all acked--> ShutdownAckSent --SHUTDOWN COMPLETE--> Closed
//! any --ABORT sent or received--> Closed
//! ```
//!
//! ## Covered
//! RFC 9260 §5.1-5.2 (setup, HMAC-SHA256 state cookie, INIT collision §5.2.1 and cookie
//! cases B, C, D of §5.2.4), §6.1-6.2 (DATA transfer, delayed SACK, gap blocks,
//! duplicates), §6.3 (RTO, T3-rtx), §6.5-6.6 (streams, ordered and unordered delivery),
//! §6.9 (fragmentation), §6.10 (bundling), §7.2 (slow start, congestion avoidance, fast
//! retransmit and recovery, Max.Burst), §8.4 (out of the blue), §8.5 (verification tags),
//! §9.1-9.2 (ABORT, SHUTDOWN), §8.1 and §8.3 (HEARTBEAT answered, and sent on an idle
//! association every RTO + HB.interval with jitter; its nonce-checked ack gives an RTT
//! sample; Association.Max.Retrans T3 expiries or unanswered HEARTBEATs close the
//! association), RFC 9653 zero checksum (off by default), RFC 6525 Outgoing SSN Reset
//! Request sent and answered (other RE-CONFIG requests are denied), RFC 8899 path MTU
//! discovery (`max_mtu` above `mtu`; see the `pmtu` module: HEARTBEAT + PAD probes,
//! RFC 4820, §6.2.1.2; search from the configured `mtu` up to `max_mtu`; black-hole
//! fallback; new messages are cut to the PLPMTU of the moment). Partial reliability (RFC
//! 3758, advertised as Forward-TSN-Supported and in Supported Extensions): FORWARD TSN
//! received (§3.6) and sent (§3.5): messages sent with [`Engine::send_with`] under a
//! [`SendPolicy`] (limited retransmissions, RFC 7496 §3.2; timed reliability, RFC 3758
//! §4.1) are abandoned whole, queued chunks dropped without a TSN, and the
//! Advanced.Peer.Ack.Point carried to the peer in FORWARD TSN (sent again after a SACK
//! still behind it once an RTT has passed, and at T3). Reliable messages pay a flag test
//! for it: limits live in a side list of limited messages only.
//!
//! I-DATA and I-FORWARD-TSN (RFC 8260, [`EngineConfig::interleaving`], on by default):
//! declared in Supported Extensions and used, for every message both ways, when the peer
//! declares them too (§2.2.1; DATA or FORWARD TSN from such a peer, or I-DATA from one that
//! did not declare it, ends the association as a Protocol Violation). The send queue is per
//! stream (the `sched` module): under I-DATA, round robin per chunk over the streams with
//! data (the round-robin scheduler of §3.2, interleaving), weighted by each stream's
//! priority ([`Engine::set_stream_priority`], RFC 8831 §6.4: priority/256 chunks per turn);
//! under DATA, first come first served per whole message. Messages get their SSN or MID with the TSN of their first
//! chunk and each chunk its FSN with its own TSN. The receiver joins I-DATA fragments by
//! stream, U flag and MID in FSN order (whatever lies between them in TSN order), delivers
//! ordered messages in MID order, and takes I-FORWARD-TSN entries for ordered and unordered
//! messages (§2.3.2). A message abandoned half sent gives its unsent rest one more TSN,
//! abandoned at once, so that the (I-)FORWARD TSN reaches past it and the peer drops what it
//! holds of the message (as dcsctp does).
//!
//! Beyond RFC 9260: a fast-retransmitted chunk whose retransmission is lost is fast
//! retransmitted again once a TSN sent after the retransmission is acknowledged (the
//! evidence RFC 8985 uses for TCP), instead of waiting for T3. Max.Burst (§6.1 D) caps
//! each output burst at the flight size of the last drained burst plus Max.Burst packets.
//! A fresh RTT sample brings a T3 armed with a backed-off RTO back to now + RTO.
//!
//! ## Not yet
//! Restart (§5.2.4 case A; such a COOKIE ECHO is dropped), stale cookie ERROR (dropped),
//! reporting unrecognized parameters, ICMP Packet Too Big (RFC 8899 §4.6; a sans-IO
//! engine sees none), ECN, the other stream schedulers of RFC 8260 §3 (strict priority,
//! fair bandwidth, byte-weighted fair queueing; weft weighs turns in chunks), priorities
//! under DATA. None of those are advertised. A peer's stream
//! reset deferred behind missing TSNs resets the SSN when the gap closes; a message after
//! the reset that completes before that is not yet kept apart. After a black hole (RFC
//! 8899 §4.3) a chunk in flight that was cut for the larger PLPMTU cannot be cut again
//! (its TSN is fixed, RFC 9260 §6.9): it goes alone at its size, and if the new path
//! cannot carry it at all the association stalls on it (stacks over raw IP fall back on
//! IP fragmentation here; DTLS over UDP with DF set has none).

mod cookie;
mod pmtu;
mod rx;
mod sched;
mod tx;

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::wire::{
    cause_code, chunk_type as ct, write_cause, write_chunk, Checksum, Chunk, CommonHeader, Init,
    Packet, PacketWriter, Param, ParseOptions, RawChunk, ZERO_CHECKSUM_EDMID_DTLS,
};
use cookie::{CookieData, CookieKey};
use pmtu::Plpmtud;
use rx::{DataOutcome, Rx};
use tx::{Limit, Tx, I_DATA_HEADER};

/// `a < b` in serial number arithmetic (RFC 9260 §1.6, RFC 1982).
pub(crate) fn seq_lt(a: u32, b: u32) -> bool {
    a != b && b.wrapping_sub(a) < 1 << 31
}

/// `a > b` in serial number arithmetic.
pub(crate) fn seq_gt(a: u32, b: u32) -> bool {
    seq_lt(b, a)
}

/// Bytes of the common header.
const HEADER: usize = crate::wire::HEADER_LEN;
/// Heartbeat acknowledgements waiting at most.
const MAX_PENDING_HB_ACKS: usize = 4;
/// Prebuilt packets (INIT ACK, OOTB answers) waiting at most.
const MAX_CONTROL_OUT: usize = 16;
/// Bytes of ERROR chunks waiting at most.
const MAX_PENDING_ERRORS: usize = 512;
/// Longest state cookie accepted from a peer's INIT ACK.
const MAX_PEER_COOKIE: usize = 4096;
/// Association.Max.Retrans for the SHUTDOWN timer (RFC 9260 §16).
const MAX_SHUTDOWN_RETRANS: u32 = 10;

/// Engine settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// Our SCTP port (5000 in WebRTC, RFC 8841).
    pub local_port: u16,
    /// The peer's SCTP port.
    pub remote_port: u16,
    /// Largest SCTP packet sent before path MTU discovery confirms more: BASE_PLPMTU of
    /// RFC 8899 §5.1.2 (1200 for WebRTC over DTLS, which every path carries).
    pub mtu: usize,
    /// MAX_PLPMTU (RFC 8899 §5.1.2): the largest SCTP packet path MTU discovery probes
    /// for. At or below `mtu` (the default, 1200), nothing is probed and every packet is
    /// `mtu`.
    pub max_mtu: usize,
    /// HB.interval (RFC 9260 §8.3): an idle established association sends a HEARTBEAT
    /// every RTO plus this, with jitter; `None` sends none (WebRTC can leave liveness to
    /// ICE consent, RFC 7675). Default 30 s.
    pub heartbeat_interval: Option<Duration>,
    /// Association.Max.Retrans (RFC 9260 §8.1): consecutive T3-rtx expiries and
    /// unanswered HEARTBEATs after which the peer is unreachable and the association
    /// closes ([`CloseReason::Unreachable`]); `None` never gives up. Default 10.
    pub max_retrans: Option<u32>,
    /// Receive buffer: the a_rwnd advertised with nothing held. The default, 8 MiB, fills
    /// a 50 ms path at 1 Gbit/s.
    pub receive_window: u32,
    /// Bytes `send` queues at most (queued plus in flight).
    pub send_buffer: usize,
    /// Largest message `send` accepts.
    pub max_message_size: usize,
    /// Largest message taken from the peer (our SDP `a=max-message-size`, RFC 8841 §6.1);
    /// a larger one ends the association with ABORT.
    pub max_receive_message_size: usize,
    /// Streams we open (OS) and accept (MIS).
    pub outbound_streams: u16,
    /// Inbound streams accepted.
    pub inbound_streams: u16,
    /// RTO.Initial (RFC 9260 §6.3.1).
    pub rto_initial: Duration,
    /// RTO.Min; weft uses 400 ms as its sctp-proto wrapper does.
    pub rto_min: Duration,
    /// RTO.Max.
    pub rto_max: Duration,
    /// Delayed SACK timer (RFC 9260 §6.2: at most 500 ms, 200 ms is usual).
    pub delayed_ack: Duration,
    /// Max.Burst: packets of data sent per arriving packet or timer (RFC 9260 §6.1 D).
    pub max_burst: u32,
    /// Max.Init.Retransmits; `None` retries for ever (RFC 8831 §6.2: ICE decides).
    pub max_init_retransmits: Option<u32>,
    /// Valid.Cookie.Life (RFC 9260 §16).
    pub cookie_life: Duration,
    /// Declare Zero Checksum Acceptable with the DTLS method (RFC 9653 §4).
    pub zero_checksum: bool,
    /// Declare I-DATA and I-FORWARD-TSN (RFC 8260): when the peer declares them too,
    /// every message travels in I-DATA and the streams take turns per chunk, so a large
    /// message no longer delays the other streams' messages. Default on.
    pub interleaving: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            local_port: 5000,
            remote_port: 5000,
            mtu: 1200,
            max_mtu: 1200,
            heartbeat_interval: Some(Duration::from_secs(30)),
            max_retrans: Some(10),
            receive_window: 8 * 1024 * 1024,
            send_buffer: 16 * 1024 * 1024,
            max_message_size: 256 * 1024,
            max_receive_message_size: 256 * 1024,
            outbound_streams: 65_535,
            inbound_streams: 65_535,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(400),
            rto_max: Duration::from_secs(10),
            delayed_ack: Duration::from_millis(200),
            max_burst: 4,
            max_init_retransmits: None,
            cookie_life: Duration::from_secs(60),
            zero_checksum: false,
            interleaving: true,
        }
    }
}

/// The association state (RFC 9260 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineState {
    /// No association; an INIT is answered.
    Listen,
    /// INIT sent.
    CookieWait,
    /// COOKIE ECHO sent.
    CookieEchoed,
    /// Up.
    Established,
    /// Shutdown asked for; waiting for our data to be acknowledged.
    ShutdownPending,
    /// SHUTDOWN sent.
    ShutdownSent,
    /// SHUTDOWN received; sending what is left.
    ShutdownReceived,
    /// SHUTDOWN ACK sent.
    ShutdownAckSent,
    /// Gone.
    Closed,
}

/// Why the association ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// Graceful shutdown completed (RFC 9260 §9.2).
    Shutdown,
    /// We aborted ([`Engine::abort`]).
    LocalAbort,
    /// The peer sent ABORT, with the first cause code if any.
    PeerAbort(Option<u16>),
    /// The peer broke the protocol; we sent ABORT with this cause code.
    ProtocolViolation(u16),
    /// INIT or COOKIE ECHO went unanswered Max.Init.Retransmits times.
    SetupFailed,
    /// SHUTDOWN went unanswered Association.Max.Retrans times.
    ShutdownTimeout,
    /// The peer sent a message larger than `max_receive_message_size`, or one message
    /// outgrew the receive window; we sent ABORT (Out of Resource).
    ReceiveOverrun,
    /// Association.Max.Retrans consecutive T3-rtx expiries or unanswered HEARTBEATs
    /// (RFC 9260 §8.1): the peer is unreachable.
    Unreachable,
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineEvent {
    /// The association is up.
    Established,
    /// A whole message.
    Message {
        /// Stream identifier.
        stream: u16,
        /// Payload protocol identifier.
        ppid: u32,
        /// Sent unordered.
        unordered: bool,
        /// The message.
        data: Vec<u8>,
    },
    /// The association ended.
    Closed(CloseReason),
    /// The peer reset these incoming streams (RFC 6525 §5.2.2): their SSNs restart at 0.
    IncomingStreamsReset(Vec<u16>),
    /// Our reset of these outgoing streams was performed (RFC 6525 §5.2.4).
    OutgoingStreamsReset(Vec<u16>),
    /// The peer refused or could not perform our reset of these streams.
    OutgoingStreamsResetFailed(Vec<u16>),
}

/// Why [`Engine::send`] refused a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// Closed, or shutting down.
    NotOpen,
    /// Empty messages cannot travel in DATA (RFC 9260 §6.2).
    Empty,
    /// Larger than `max_message_size`.
    TooLarge,
    /// The send buffer is full; wait for the buffered amount to drop.
    BufferFull,
    /// The stream number is not below the negotiated outbound streams.
    InvalidStream,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::NotOpen => "the association is not open for sending",
            SendError::Empty => "empty message",
            SendError::TooLarge => "message larger than the maximum message size",
            SendError::BufferFull => "send buffer full",
            SendError::InvalidStream => "stream not negotiated",
        })
    }
}

impl std::error::Error for SendError {}

/// When a message may be given up instead of delivered: partial reliability (RFC 3758
/// §3.4 "abandoned"; the policy names of RFC 7496 §3, the channel types of RFC 8831 §6.1).
/// A message given up is dropped whole, every chunk of it (RFC 3758 §3.5 A3); the peer
/// learns it from a FORWARD TSN. Limits apply only when the peer supports FORWARD TSN
/// (RFC 3758 §3.3.2); otherwise every message is reliable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendPolicy {
    /// Retransmitted until acknowledged.
    #[default]
    Reliable,
    /// Limited retransmissions (RFC 7496 §3.2): a chunk is retransmitted at most this many
    /// times; 0 sends each chunk once.
    MaxRetransmits(u32),
    /// Timed reliability (RFC 3758 §4.1): the message is not given a TSN, nor sent again,
    /// once this long has passed since [`Engine::send_with`].
    Lifetime(Duration),
}

/// Counters and the congestion state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineStats {
    /// Packets given to `handle_packet`.
    pub packets_received: u64,
    /// Packets dropped: malformed, bad checksum, wrong ports or verification tag.
    pub packets_dropped: u64,
    /// Packets returned by `poll_transmit`.
    pub packets_sent: u64,
    /// DATA chunks sent the first time.
    pub data_chunks_sent: u64,
    /// DATA chunks received (duplicates included).
    pub data_chunks_received: u64,
    /// Duplicate DATA chunks received.
    pub duplicates_received: u64,
    /// DATA chunks sent again (T3 or fast retransmit).
    pub retransmits: u64,
    /// T3-rtx expiries.
    pub t3_timeouts: u64,
    /// Chunks marked by fast retransmit (RFC 9260 §7.2.4).
    pub fast_retransmits: u64,
    /// SACKs sent.
    pub sacks_sent: u64,
    /// SACKs received.
    pub sacks_received: u64,
    /// Messages delivered.
    pub messages_received: u64,
    /// Messages accepted by `send`.
    pub messages_sent: u64,
    /// Messages given up under their [`SendPolicy`] (RFC 3758 §3.5).
    pub messages_abandoned: u64,
    /// FORWARD TSN chunks sent (RFC 3758 §3.5).
    pub forward_tsns_sent: u64,
    /// Congestion window, bytes.
    pub cwnd: usize,
    /// Slow start threshold, bytes.
    pub ssthresh: usize,
    /// Flight size, bytes.
    pub flight_size: usize,
    /// The peer's receive window as we last computed it.
    pub peer_rwnd: usize,
    /// Smoothed RTT, if measured.
    pub srtt: Option<Duration>,
    /// Current RTO.
    pub rto: Duration,
    /// Packets go out with a zero checksum: both sides declared it (RFC 9653 §5).
    pub zero_checksum: bool,
    /// Messages travel in I-DATA, interleaved: both sides declared it (RFC 8260 §2.2.1).
    pub interleaving: bool,
    /// The packet size in use: the PLPMTU confirmed by path MTU discovery (RFC 8899), or
    /// the configured `mtu` while nothing larger is confirmed.
    pub plpmtu: usize,
    /// HEARTBEATs sent on an idle association (probes not counted).
    pub heartbeats_sent: u64,
    /// HEARTBEAT ACKs that answered a HEARTBEAT or probe of ours.
    pub heartbeat_acks_received: u64,
    /// Path MTU probe packets sent (RFC 8899 §4.1).
    pub pmtu_probes_sent: u64,
    /// Black holes detected (RFC 8899 §4.3): the PLPMTU fell back to the base.
    pub pmtu_black_holes: u64,
}

/// A small seeded generator (SplitMix64) for tags, TSNs and the cookie key.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    /// A non-zero verification tag (RFC 9260 §5.3.1).
    fn tag(&mut self) -> u32 {
        loop {
            let t = self.next_u32();
            if t != 0 {
                return t;
            }
        }
    }
}

/// RFC 9260 §6.3.1 retransmission timer state.
struct Rto {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min: Duration,
    max: Duration,
}

impl Rto {
    fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                // C1: SRTT = R, RTTVAR = R/2.
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                // C2: RTO.Beta 1/4, RTO.Alpha 1/8.
                let diff = srtt.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + diff / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        self.rto = (srtt + 4 * self.rttvar).clamp(self.min, self.max);
    }
    fn back_off(&mut self) {
        // RFC 9260 §6.3.3 E2.
        self.rto = (self.rto * 2).min(self.max);
    }
}

/// A sans-IO SCTP association; see the [module documentation](self) for the contract.
pub struct Engine {
    config: EngineConfig,
    state: EngineState,
    epoch: Instant,
    rng: Rng,
    cookie_key: CookieKey,
    my_tag: u32,
    peer_tag: u32,
    my_initial_tsn: u32,
    /// Peer's cookie, echoed until COOKIE ACK.
    peer_cookie: Vec<u8>,
    /// Negotiated outbound streams.
    outbound_streams: u16,
    /// RFC 9653: we accept zero checksums; the peer does.
    zero_checksum_rx: bool,
    zero_checksum_tx: bool,
    tx: Tx,
    rx: Option<Rx>,
    rto: Rto,
    /// T1-init (INIT, COOKIE ECHO).
    t1: Option<Instant>,
    t1_count: u32,
    t3: Option<Instant>,
    t2: Option<Instant>,
    t2_count: u32,
    init_pending: bool,
    cookie_echo_pending: bool,
    cookie_ack_pending: bool,
    shutdown_pending: bool,
    shutdown_ack_pending: bool,
    hb_acks: VecDeque<Vec<u8>>,
    heartbeat: Heartbeat,
    /// RFC 9260 §8.1: consecutive T3-rtx expiries and unanswered HEARTBEATs.
    error_count: u32,
    /// T3-rtx expiries since the cumulative ack last advanced.
    t3_in_row: u32,
    pmtu: Plpmtud,
    reconfig: Reconfig,
    errors: Vec<u8>,
    control_out: VecDeque<Vec<u8>>,
    events: VecDeque<EngineEvent>,
    event_bytes: usize,
    stats: EngineStats,
}

impl Engine {
    /// A new engine in [`EngineState::Listen`]. `rng_seed` makes its tags, initial TSNs
    /// and cookie key; give each engine a different, unpredictable one outside tests.
    pub fn new(config: EngineConfig, now: Instant, rng_seed: u64) -> Engine {
        let mut rng = Rng(rng_seed);
        let mut secret = [0u8; 32];
        for c in secret.chunks_mut(8) {
            c.copy_from_slice(&rng.next_u64().to_be_bytes());
        }
        let my_tag = rng.tag();
        let my_initial_tsn = rng.next_u32();
        let mtu = config.mtu.clamp(HEADER + I_DATA_HEADER + 4, 65_535);
        let max_mtu = config.max_mtu.clamp(mtu, 65_535);
        let rto = Rto {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: config.rto_initial,
            min: config.rto_min,
            max: config.rto_max,
        };
        Engine {
            outbound_streams: config.outbound_streams,
            // RFC 9653 §5.2: we declare it in every INIT and INIT ACK, so a zero checksum
            // is valid from the first packet that can follow (COOKIE ECHO on).
            zero_checksum_rx: config.zero_checksum,
            zero_checksum_tx: false,
            tx: Tx::new(mtu, my_initial_tsn),
            pmtu: Plpmtud::new(mtu, max_mtu),
            config: EngineConfig {
                mtu,
                max_mtu,
                ..config
            },
            state: EngineState::Listen,
            epoch: now,
            rng,
            cookie_key: CookieKey::new(&secret),
            my_tag,
            peer_tag: 0,
            my_initial_tsn,
            peer_cookie: Vec::new(),
            rx: None,
            rto,
            t1: None,
            t1_count: 0,
            t3: None,
            t2: None,
            t2_count: 0,
            init_pending: false,
            cookie_echo_pending: false,
            cookie_ack_pending: false,
            shutdown_pending: false,
            shutdown_ack_pending: false,
            hb_acks: VecDeque::new(),
            heartbeat: Heartbeat::default(),
            error_count: 0,
            t3_in_row: 0,
            reconfig: Reconfig::default(),
            errors: Vec::new(),
            control_out: VecDeque::new(),
            events: VecDeque::new(),
            event_bytes: 0,
            stats: EngineStats::default(),
        }
    }

    // ---- getters ----

    /// The state.
    pub fn state(&self) -> EngineState {
        self.state
    }

    /// Whether data can flow (Established, or shutting down with data left).
    pub fn is_established(&self) -> bool {
        matches!(
            self.state,
            EngineState::Established
                | EngineState::ShutdownPending
                | EngineState::ShutdownReceived
                | EngineState::ShutdownSent
        )
    }

    /// Whether the association is gone.
    pub fn is_closed(&self) -> bool {
        self.state == EngineState::Closed
    }

    /// Bytes accepted by `send` and not yet acknowledged.
    pub fn buffered_amount(&self) -> usize {
        self.tx.queued_bytes + self.tx.in_flight_bytes
    }

    /// Bytes of `stream` accepted by `send` and not yet acknowledged (a data channel's
    /// `bufferedAmount`).
    pub fn buffered_amount_of(&self, stream: u16) -> usize {
        self.tx.stream_bytes(stream)
    }

    /// Counters and the congestion state.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            cwnd: self.tx.cwnd,
            ssthresh: self.tx.ssthresh,
            flight_size: self.tx.flight_size,
            peer_rwnd: self.tx.peer_rwnd,
            srtt: self.rto.srtt,
            rto: self.rto.rto,
            zero_checksum: self.zero_checksum_tx,
            interleaving: self.tx.idata,
            messages_abandoned: self.tx.messages_abandoned,
            plpmtu: self.pmtu.plpmtu,
            pmtu_probes_sent: self.pmtu.probes_sent,
            pmtu_black_holes: self.pmtu.black_holes,
            ..self.stats.clone()
        }
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    // ---- mutators ----

    /// Opens the association: INIT goes out (RFC 9260 §5.1 A). Does nothing unless in
    /// [`EngineState::Listen`].
    pub fn connect(&mut self, now: Instant) {
        if self.state != EngineState::Listen {
            return;
        }
        self.state = EngineState::CookieWait;
        self.init_pending = true;
        self.t1 = Some(now + self.rto.rto);
        self.t1_count = 0;
    }

    /// Queues a message on `stream`, cut to the PLPMTU of the moment (what is already
    /// queued keeps its cut when the PLPMTU grows).
    pub fn send(
        &mut self,
        stream: u16,
        ppid: u32,
        unordered: bool,
        data: &[u8],
    ) -> Result<(), SendError> {
        self.enqueue(stream, ppid, unordered, data, None)
    }

    /// As [`send`](Self::send), under `policy`; a lifetime counts from `now`.
    pub fn send_with(
        &mut self,
        now: Instant,
        stream: u16,
        ppid: u32,
        unordered: bool,
        data: &[u8],
        policy: SendPolicy,
    ) -> Result<(), SendError> {
        let limit = match policy {
            SendPolicy::Reliable => None,
            SendPolicy::MaxRetransmits(n) => Some(Limit::Retransmits(n)),
            // A lifetime past the end of the clock never ends.
            SendPolicy::Lifetime(d) => now.checked_add(d).map(Limit::Until),
        };
        self.enqueue(stream, ppid, unordered, data, limit)
    }

    fn enqueue(
        &mut self,
        stream: u16,
        ppid: u32,
        unordered: bool,
        data: &[u8],
        limit: Option<Limit>,
    ) -> Result<(), SendError> {
        match self.state {
            EngineState::Listen
            | EngineState::CookieWait
            | EngineState::CookieEchoed
            | EngineState::Established => {}
            _ => return Err(SendError::NotOpen),
        }
        if data.is_empty() {
            return Err(SendError::Empty);
        }
        if data.len() > self.config.max_message_size {
            return Err(SendError::TooLarge);
        }
        if stream >= self.outbound_streams {
            return Err(SendError::InvalidStream);
        }
        if self.buffered_amount().saturating_add(data.len()) > self.config.send_buffer {
            return Err(SendError::BufferFull);
        }
        let max_payload = (self.pmtu.plpmtu - HEADER - self.tx.data_header()) & !3;
        self.tx.push_message(
            stream,
            ppid,
            unordered,
            Bytes::copy_from_slice(data),
            max_payload,
            limit,
        );
        self.stats.messages_sent += 1;
        Ok(())
    }

    /// Graceful close (RFC 9260 §9.2): SHUTDOWN once everything sent is acknowledged.
    pub fn shutdown(&mut self, now: Instant) {
        match self.state {
            EngineState::Established => {
                self.state = EngineState::ShutdownPending;
                self.shutdown_progress(now);
            }
            EngineState::Listen | EngineState::CookieWait | EngineState::CookieEchoed => {
                self.close(CloseReason::LocalAbort);
            }
            _ => {}
        }
    }

    /// Ends the association at once with ABORT (RFC 9260 §9.1).
    pub fn abort(&mut self, _now: Instant) {
        if self.state == EngineState::Closed {
            return;
        }
        if self.peer_tag != 0 {
            self.queue_abort(self.peer_tag, false, cause_code::USER_INITIATED_ABORT, &[]);
        }
        self.close(CloseReason::LocalAbort);
    }

    /// Sets the priority of `stream` (RFC 8831 §6.4: 128 below normal, 256 normal, 512
    /// high, 1024 extra high; 0 counts as normal). Under I-DATA the streams take turns
    /// weighted by it: a stream sends priority/256 chunks per turn. Under DATA, messages go
    /// first come first served whatever their priority.
    pub fn set_stream_priority(&mut self, stream: u16, priority: u16) {
        self.tx.queue.set_weight(stream, priority);
    }

    /// Resets outgoing streams (RFC 6525 §5.1.2), as WebRTC closes a data channel (RFC
    /// 8831 §6.7): the request goes once everything queued has its TSN; the SSNs restart
    /// at 0 from the request on; [`EngineEvent::OutgoingStreamsReset`] says the peer
    /// performed it. One request at a time; later calls join the next request.
    pub fn reset_streams(&mut self, streams: &[u16]) -> Result<(), SendError> {
        if self.state != EngineState::Established {
            return Err(SendError::NotOpen);
        }
        for &s in streams {
            if s >= self.outbound_streams {
                return Err(SendError::InvalidStream);
            }
            if !self.reconfig.wanted.contains(&s) && self.reconfig.wanted.len() < 4096 {
                self.reconfig.wanted.push(s);
            }
        }
        Ok(())
    }

    // ---- handle_* ----

    /// One SCTP packet from the peer. Malformed or misaddressed input is dropped and
    /// counted; a protocol violation ends the association with ABORT.
    pub fn handle_packet(&mut self, now: Instant, bytes: &[u8]) {
        self.stats.packets_received += 1;
        if self.state == EngineState::Closed {
            return;
        }
        let options = ParseOptions {
            accept_zero_checksum: self.zero_checksum_rx,
        };
        let Ok(packet) = Packet::parse(bytes, &options) else {
            self.stats.packets_dropped += 1;
            return;
        };
        let h = *packet.header();
        if h.dst_port != self.config.local_port || h.src_port != self.config.remote_port {
            self.stats.packets_dropped += 1;
            return;
        }
        let vtag = h.verification_tag;
        // RFC 9260 §6.10: INIT, INIT ACK and SHUTDOWN COMPLETE travel alone.
        let mut chunks = packet.chunks();
        let first = chunks.next();
        let alone = chunks.next().is_none();
        if let Some(f) = first {
            if matches!(
                f.chunk_type,
                ct::INIT | ct::INIT_ACK | ct::SHUTDOWN_COMPLETE
            ) && !alone
            {
                self.stats.packets_dropped += 1;
                return;
            }
        }
        let mut data_seen = false;
        let mut immediate = false;
        for raw in packet.chunks() {
            let chunk = match raw.parse() {
                Ok(c) => c,
                Err(_) => {
                    self.stats.packets_dropped += 1;
                    break;
                }
            };
            if !self.handle_chunk(now, vtag, raw, chunk, &mut data_seen, &mut immediate) {
                break;
            }
            if self.state == EngineState::Closed {
                return;
            }
        }
        if data_seen {
            if let Some(rx) = &mut self.rx {
                rx.after_data_packet(now, self.config.delayed_ack, immediate);
            }
            self.apply_deferred_reset();
            // A SACK due now goes out now, even when more packets of the same burst are
            // still to be handled: every second packet, and every packet while there are
            // gaps, so the sender sees its miss indications (RFC 9260 §6.2, §6.7).
            if self.rx.as_ref().is_some_and(|rx| rx.ack_now)
                && self.state != EngineState::ShutdownSent
            {
                self.queue_sack();
            }
            if self.state == EngineState::ShutdownSent {
                // RFC 9260 §9.2: DATA in SHUTDOWN-SENT is answered with SACK and SHUTDOWN.
                self.shutdown_pending = true;
                if let Some(rx) = &mut self.rx {
                    rx.ack_now = true;
                }
            }
        }
        self.shutdown_progress(now);
    }

    /// Whether the packet's verification tag is ours (RFC 9260 §8.5).
    fn tag_ok(&self, vtag: u32) -> bool {
        self.state != EngineState::Listen && vtag == self.my_tag
    }

    /// Handles one chunk; false stops processing the rest of the packet.
    fn handle_chunk(
        &mut self,
        now: Instant,
        vtag: u32,
        raw: RawChunk<'_>,
        chunk: Chunk<'_>,
        data_seen: &mut bool,
        immediate: &mut bool,
    ) -> bool {
        match chunk {
            Chunk::Init(init) => {
                // RFC 9260 §8.5.1 A: an INIT carries tag 0.
                if vtag == 0 {
                    self.on_init(now, &init);
                } else {
                    self.stats.packets_dropped += 1;
                }
                false
            }
            Chunk::InitAck(init) => {
                if self.tag_ok(vtag) && self.state == EngineState::CookieWait {
                    self.on_init_ack(now, &init);
                }
                false
            }
            Chunk::CookieEcho(cookie) => {
                self.on_cookie_echo(now, vtag, cookie);
                true
            }
            Chunk::Abort(a) => {
                // RFC 9260 §8.5.1 B: our tag, or the peer's with T set.
                let ok = if a.tag_reflected {
                    self.peer_tag != 0 && vtag == self.peer_tag
                } else {
                    self.tag_ok(vtag)
                };
                if ok {
                    let code = a.causes.iter().next().map(|c| c.code());
                    self.close(CloseReason::PeerAbort(code));
                }
                false
            }
            Chunk::ShutdownComplete { tag_reflected } => {
                // RFC 9260 §8.5.1 C.
                let ok = if tag_reflected {
                    self.peer_tag != 0 && vtag == self.peer_tag
                } else {
                    self.tag_ok(vtag)
                };
                if ok && self.state == EngineState::ShutdownAckSent {
                    self.close(CloseReason::Shutdown);
                }
                false
            }
            Chunk::ShutdownAck
                if matches!(
                    self.state,
                    EngineState::Listen | EngineState::CookieWait | EngineState::CookieEchoed
                ) =>
            {
                // RFC 9260 §8.4 rule 5 / §8.5.1 E: SHUTDOWN COMPLETE with T set.
                self.queue_simple(vtag, ct::SHUTDOWN_COMPLETE, 1);
                false
            }
            _ if self.state == EngineState::Listen => {
                // RFC 9260 §8.4: out of the blue.
                match raw.chunk_type {
                    ct::SHUTDOWN_COMPLETE | ct::ABORT | ct::ERROR | ct::COOKIE_ACK => {}
                    _ => self.queue_abort(vtag, true, cause_code::PROTOCOL_VIOLATION, &[]),
                }
                false
            }
            _ if !self.tag_ok(vtag) => {
                self.stats.packets_dropped += 1;
                false
            }
            Chunk::CookieAck => {
                if self.state == EngineState::CookieEchoed {
                    self.establish(now);
                }
                true
            }
            Chunk::Data(d) => {
                let c = UserChunk {
                    idata: false,
                    tsn: d.tsn,
                    stream: d.stream_id,
                    empty: d.payload.is_empty(),
                    immediate: d.immediate(),
                };
                self.on_user_data(c, data_seen, immediate, |rx, w, e, b| {
                    rx.on_data(&d, w, e, b)
                })
            }
            Chunk::IData(d) => {
                let c = UserChunk {
                    idata: true,
                    tsn: d.tsn,
                    stream: d.stream_id,
                    empty: d.payload.is_empty(),
                    immediate: d.flags & crate::wire::Data::IMMEDIATE != 0,
                };
                self.on_user_data(c, data_seen, immediate, |rx, w, e, b| {
                    rx.on_idata(&d, w, e, b)
                })
            }
            Chunk::Sack(sack) => {
                self.stats.sacks_received += 1;
                if !self.is_established() && self.state != EngineState::ShutdownAckSent {
                    return true;
                }
                match self.tx.on_sack(&sack, now) {
                    Ok(out) => {
                        if let Some(r) = out.rtt {
                            self.rto.sample(r);
                            // A T3 armed with a backed-off RTO is brought back to the fresh
                            // one (beyond RFC 9260 §6.3.2, which restarts T3 only when the
                            // cumulative ack advances).
                            let fresh = now + self.rto.rto;
                            if self.t3.is_some_and(|t| t > fresh) {
                                self.t3 = Some(fresh);
                            }
                        }
                        self.stats.fast_retransmits += u64::from(out.fast_retransmits);
                        self.tx
                            .after_sack(now, self.rto.srtt.unwrap_or(self.rto.rto));
                        if out.newly_acked {
                            // RFC 9260 §8.3: an acknowledged TSN clears the error counter.
                            self.error_count = 0;
                        }
                        self.after_ack(now, out.cum_moved);
                        true
                    }
                    Err(_) => {
                        self.protocol_violation(b"SACK of an unsent TSN");
                        false
                    }
                }
            }
            Chunk::Heartbeat(params) => {
                // RFC 9260 §8.3: echo the Heartbeat Info.
                let info = params.as_bytes();
                if self.hb_acks.len() < MAX_PENDING_HB_ACKS
                    && info.len() + 4 + HEADER <= self.config.mtu
                {
                    self.hb_acks.push_back(info.to_vec());
                }
                true
            }
            Chunk::Shutdown { cum_tsn_ack } => {
                self.on_shutdown(now, cum_tsn_ack);
                true
            }
            Chunk::ShutdownAck => {
                if matches!(
                    self.state,
                    EngineState::ShutdownSent | EngineState::ShutdownAckSent
                ) {
                    // RFC 9260 §9.2: answer with SHUTDOWN COMPLETE and close.
                    self.queue_simple(self.peer_tag, ct::SHUTDOWN_COMPLETE, 0);
                    self.close(CloseReason::Shutdown);
                }
                false
            }
            Chunk::HeartbeatAck(params) => {
                self.on_heartbeat_ack(now, params);
                true
            }
            Chunk::Error(_) | Chunk::Pad(_) => true,
            Chunk::Ecne { .. } | Chunk::Cwr { .. } => true,
            Chunk::ReConfig(params) => {
                self.on_reconfig(now, params);
                true
            }
            Chunk::ForwardTsn(f) => {
                // RFC 3758 §3.6: the receiver side of partial reliability, advertised in
                // our INIT / INIT ACK.
                if !self.receiving() {
                    return true;
                }
                if self.tx.idata {
                    // RFC 8260 §2.3: with I-DATA, I-FORWARD-TSN replaces FORWARD TSN.
                    self.protocol_violation(b"FORWARD TSN after I-DATA was negotiated");
                    return false;
                }
                if let Some(rx) = &mut self.rx {
                    rx.on_forward_tsn(&f, &mut self.events, &mut self.event_bytes);
                }
                true
            }
            Chunk::IForwardTsn(f) => {
                // RFC 8260 §2.3.2.
                if !self.receiving() {
                    return true;
                }
                if !self.tx.idata {
                    self.protocol_violation(b"I-FORWARD-TSN without negotiating I-DATA");
                    return false;
                }
                if let Some(rx) = &mut self.rx {
                    rx.on_iforward_tsn(&f, &mut self.events, &mut self.event_bytes);
                }
                true
            }
            Chunk::Unknown(raw) => {
                // RFC 9260 §3.2: the upper two bits of the type say what to do.
                let action = raw.action();
                if action.reports() {
                    self.report_unrecognized(&raw);
                }
                !action.stops()
            }
        }
    }

    /// A DATA or I-DATA chunk, checked against what was negotiated, then stored by
    /// `store`; false stops processing the packet.
    fn on_user_data(
        &mut self,
        c: UserChunk,
        data_seen: &mut bool,
        immediate: &mut bool,
        store: impl FnOnce(&mut Rx, usize, &mut VecDeque<EngineEvent>, &mut usize) -> DataOutcome,
    ) -> bool {
        if !self.receiving() {
            return true;
        }
        // RFC 8260 §2.2.1: I-DATA for every message when both declared it, DATA otherwise.
        if c.idata != self.tx.idata {
            let why: &[u8] = if c.idata {
                b"I-DATA without negotiating it"
            } else {
                b"DATA after I-DATA was negotiated"
            };
            self.protocol_violation(why);
            return false;
        }
        *immediate |= c.immediate;
        let UserChunk {
            tsn, stream, empty, ..
        } = c;
        *data_seen = true;
        self.stats.data_chunks_received += 1;
        if empty {
            // RFC 9260 §6.2 (RFC 8260 §2.1): a chunk without user data is aborted.
            let mut info = [0u8; 4];
            info.copy_from_slice(&tsn.to_be_bytes());
            self.queue_abort(self.peer_tag, false, cause_code::NO_USER_DATA, &info);
            self.close(CloseReason::ProtocolViolation(cause_code::NO_USER_DATA));
            return false;
        }
        let limit = self.config.receive_window as usize;
        let Some(rx) = &mut self.rx else { return true };
        let invalid_stream = stream >= rx.inbound_streams;
        match store(rx, limit, &mut self.events, &mut self.event_bytes) {
            DataOutcome::Duplicate => self.stats.duplicates_received += 1,
            DataOutcome::New if invalid_stream => {
                // RFC 9260 §6.5: report an invalid stream identifier.
                let sid = stream.to_be_bytes();
                self.queue_error(
                    cause_code::INVALID_STREAM_IDENTIFIER,
                    &[sid[0], sid[1], 0, 0],
                );
            }
            _ => {}
        }
        if self.rx.as_ref().is_some_and(|rx| rx.overrun) {
            self.queue_abort(self.peer_tag, false, cause_code::OUT_OF_RESOURCE, &[]);
            self.close(CloseReason::ReceiveOverrun);
            return false;
        }
        true
    }

    fn receiving(&self) -> bool {
        matches!(
            self.state,
            EngineState::Established | EngineState::ShutdownPending | EngineState::ShutdownSent
        )
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == EngineState::Closed {
            return;
        }
        if self.t1.is_some_and(|t| t <= now) {
            self.t1_count += 1;
            if self
                .config
                .max_init_retransmits
                .is_some_and(|m| self.t1_count > m)
            {
                self.close(CloseReason::SetupFailed);
                return;
            }
            self.rto.back_off();
            self.t1 = Some(now + self.rto.rto);
            match self.state {
                EngineState::CookieWait => self.init_pending = true,
                EngineState::CookieEchoed => self.cookie_echo_pending = true,
                _ => self.t1 = None,
            }
        }
        if self.t3.is_some_and(|t| t <= now) {
            if self.tx.outstanding() {
                self.stats.t3_timeouts += 1;
                self.tx.on_t3(now);
                self.rto.back_off();
                self.t3 = Some(now + self.rto.rto);
                if self.count_error() {
                    return;
                }
                // RFC 8899 §4.3: a second T3 with the cumulative ack stuck while packets are
                // larger than the base (the first one's retransmission, a full packet, was
                // lost too, whatever smaller packets got through): taken for a black hole;
                // back to BASE_PLPMTU, and a new search.
                self.t3_in_row = self.t3_in_row.saturating_add(1);
                if self.t3_in_row >= 2 && self.pmtu.plpmtu > self.pmtu.base() {
                    self.pmtu.black_hole(now);
                    self.set_plpmtu();
                }
            } else {
                self.t3 = None;
            }
        }
        if self.t2.is_some_and(|t| t <= now) {
            self.t2_count += 1;
            if self.t2_count > MAX_SHUTDOWN_RETRANS {
                self.queue_abort(self.peer_tag, false, cause_code::USER_INITIATED_ABORT, &[]);
                self.close(CloseReason::ShutdownTimeout);
                return;
            }
            self.rto.back_off();
            self.t2 = Some(now + self.rto.rto);
            match self.state {
                EngineState::ShutdownSent => self.shutdown_pending = true,
                EngineState::ShutdownAckSent => self.shutdown_ack_pending = true,
                _ => self.t2 = None,
            }
        }
        if self.heartbeat.timer.is_some_and(|t| t <= now) && self.on_heartbeat_timer(now) {
            return;
        }
        if self.pmtu.timer.is_some_and(|t| t <= now) {
            self.pmtu.on_timeout(now);
        }
        if self.reconfig.timer.is_some_and(|t| t <= now) {
            // RFC 6525 §5.1.1: the request is retransmitted on its own timer.
            self.reconfig.timer = None;
            self.reconfig.send = true;
        }
        if let Some(rx) = &mut self.rx {
            if rx.delayed_ack_at.is_some_and(|t| t <= now) {
                rx.ack_now = true;
            }
        }
        if self.tx.expiry_due.is_some_and(|t| t <= now) {
            self.tx.expire_queued(now);
        }
    }

    // ---- poll_* ----

    /// When [`handle_timeout`](Self::handle_timeout) is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == EngineState::Closed {
            // A timer set by the packet that closed us (a delayed SACK) is void.
            return None;
        }
        let delayed = self.rx.as_ref().and_then(|rx| rx.delayed_ack_at);
        [
            self.t1,
            self.t2,
            self.t3,
            delayed,
            self.reconfig.timer,
            self.tx.expiry_due,
            self.heartbeat.timer,
            self.pmtu.timer,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<EngineEvent> {
        let e = self.events.pop_front()?;
        if let EngineEvent::Message { data, .. } = &e {
            self.event_bytes = self.event_bytes.saturating_sub(data.len());
            self.stats.messages_received += 1;
        }
        Some(e)
    }

    /// The next packet to send, if any.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        let mut buf = Vec::with_capacity(self.pmtu.plpmtu);
        self.poll_transmit_into(now, &mut buf).then_some(buf)
    }

    /// As [`poll_transmit`](Self::poll_transmit), into `buf` (cleared first); true when a
    /// packet was written.
    pub fn poll_transmit_into(&mut self, now: Instant, buf: &mut Vec<u8>) -> bool {
        buf.clear();
        let wrote = self.build_packet(now, buf);
        if wrote {
            self.stats.packets_sent += 1;
        } else {
            buf.clear();
            // The caller drained the output. RFC 9260 §6.1 D (Max.Burst): the next output
            // burst may refill what gets acknowledged meanwhile plus Max.Burst packets.
            self.tx.burst_limit =
                Some(self.tx.flight_size + self.config.max_burst as usize * self.pmtu.plpmtu);
        }
        wrote
    }

    fn header(&self, vtag: u32) -> CommonHeader {
        CommonHeader {
            src_port: self.config.local_port,
            dst_port: self.config.remote_port,
            verification_tag: vtag,
            checksum: 0,
        }
    }

    fn checksum(&self) -> Checksum {
        if self.zero_checksum_tx {
            Checksum::Zero
        } else {
            Checksum::Crc32c
        }
    }

    fn build_packet(&mut self, now: Instant, buf: &mut Vec<u8>) -> bool {
        if let Some(p) = self.control_out.pop_front() {
            buf.extend_from_slice(&p);
            return true;
        }
        match self.state {
            EngineState::Listen | EngineState::Closed => return false,
            EngineState::CookieWait => {
                if !std::mem::take(&mut self.init_pending) {
                    return false;
                }
                let header = self.header(0);
                let mut w = PacketWriter::new(buf, &header);
                let init = Init {
                    initiate_tag: self.my_tag,
                    a_rwnd: self.config.receive_window,
                    outbound_streams: self.config.outbound_streams,
                    inbound_streams: self.config.inbound_streams,
                    initial_tsn: self.my_initial_tsn,
                    params: crate::wire::Params::empty(),
                };
                let r = write_init(w.buf(), ct::INIT, &init, None, &self.config);
                // RFC 9653 §5.2: INIT keeps its CRC32c.
                w.finish(Checksum::Crc32c);
                return r.is_ok();
            }
            _ => {}
        }
        if self.write_probe(now, buf) {
            return true;
        }
        let header = self.header(self.peer_tag);
        let mtu = self.pmtu.plpmtu;
        let mut w = PacketWriter::new(buf, &header);
        let mut any = false;
        if self.state == EngineState::CookieEchoed {
            if std::mem::take(&mut self.cookie_echo_pending) {
                let cookie = std::mem::take(&mut self.peer_cookie);
                any |= Chunk::CookieEcho(&cookie).emit(w.buf()).is_ok();
                self.peer_cookie = cookie;
            }
            if any {
                w.finish(self.checksum());
            }
            return any;
        }
        if std::mem::take(&mut self.cookie_ack_pending) {
            any |= Chunk::CookieAck.emit(w.buf()).is_ok();
        }
        while let Some(info) = self.hb_acks.front() {
            if w.len() + 4 + info.len() + 3 > mtu {
                break;
            }
            let info = self.hb_acks.pop_front().unwrap_or_default();
            any |= write_chunk(w.buf(), ct::HEARTBEAT_ACK, 0, |o| {
                o.extend_from_slice(&info);
                Ok(0)
            })
            .is_ok();
        }
        self.write_heartbeat(now, w.buf(), &mut any);
        if !self.errors.is_empty() && w.len() + self.errors.len() <= mtu {
            let errors = std::mem::take(&mut self.errors);
            w.buf().extend_from_slice(&errors);
            any = true;
        }
        if self.sending_data() {
            // RFC 3758 §4.1 TR3: an expired message gets no TSN.
            self.tx.expire_front(now);
        }
        let data_ready = self.sending_data() && (self.tx.rtx_pending() || self.tx.may_send_new());
        if let Some(rx) = &mut self.rx {
            if rx.sack_wanted(data_ready) && w.len() + 28 <= mtu {
                let a_rwnd = (self.config.receive_window as usize)
                    .saturating_sub(rx.held + self.event_bytes) as u32;
                // Room is kept for a SHUTDOWN and a SHUTDOWN ACK after it.
                let room = mtu.saturating_sub(w.len() + 12);
                rx.write_sack(w.buf(), a_rwnd, room);
                self.stats.sacks_sent += 1;
                any = true;
            }
        }
        self.write_reconfig(now, w.buf(), mtu, &mut any);
        if std::mem::take(&mut self.shutdown_pending) && self.state == EngineState::ShutdownSent {
            let cum = self.rx.as_ref().map_or(0, |rx| rx.cum);
            any |= Chunk::Shutdown { cum_tsn_ack: cum }.emit(w.buf()).is_ok();
        }
        if std::mem::take(&mut self.shutdown_ack_pending)
            && self.state == EngineState::ShutdownAckSent
        {
            any |= Chunk::ShutdownAck.emit(w.buf()).is_ok();
        }
        if self.tx.fwd_pending && self.sending_data() {
            self.write_forward_tsn(now, w.buf(), mtu, &mut any);
        }
        if data_ready {
            let mut data_sent = false;
            // Retransmissions first (RFC 9260 §6.1 C, §7.2.4 rule 3).
            let fast = std::mem::take(&mut self.tx.fast_rtx_now);
            while fast || self.tx.flight_size < self.tx.window() {
                let room = mtu.saturating_sub(w.len());
                // A chunk cut for a PLPMTU since lost to a black hole cannot be cut again
                // (RFC 9260 §6.9: its TSN is fixed); it goes alone, at its size.
                let Some(tsn) = self.tx.next_rtx(room, now).or_else(|| {
                    (!data_sent)
                        .then(|| self.tx.next_rtx_oversized(mtu - HEADER, now))
                        .flatten()
                }) else {
                    break;
                };
                self.tx.emit_data(tsn, w.buf());
                self.tx.resent(tsn, now);
                self.stats.retransmits += 1;
                data_sent = true;
            }
            while !self.tx.rtx_pending() && {
                self.tx.expire_front(now);
                self.tx.may_send_new()
            } {
                let size = self.tx.queue.front().map_or(0, |c| c.size());
                if w.len() + size > mtu {
                    break;
                }
                let Some(tsn) = self.tx.take_new(now) else {
                    break;
                };
                self.tx.emit_data(tsn, w.buf());
                self.stats.data_chunks_sent += 1;
                data_sent = true;
            }
            // Whether cwnd, not the application, limits sending (RFC 9260 §7.2.1: cwnd
            // grows only when it is being fully used).
            self.tx.cwnd_limited = !self.tx.queue.is_empty();
            if data_sent {
                any = true;
                // RFC 9260 §6.3.2 R1: T3 runs while data is outstanding.
                if self.t3.is_none() {
                    self.t3 = Some(now + self.rto.rto);
                }
            }
        }
        if any {
            w.finish(self.checksum());
        }
        any
    }

    /// RFC 3758 §3.5 C3-C5: a FORWARD TSN (I-FORWARD-TSN with I-DATA, RFC 8260 §2.3) to
    /// the Advanced.Peer.Ack.Point, ahead of any DATA of the packet (F2 bundles it); T3
    /// runs while it is unanswered.
    fn write_forward_tsn(&mut self, now: Instant, out: &mut Vec<u8>, mtu: usize, any: &mut bool) {
        // Chunk header, New Cumulative TSN, and one stream entry at least.
        let entry = if self.tx.idata { 8 } else { 4 };
        let room = mtu.saturating_sub(out.len() + 8);
        if room < entry {
            return;
        }
        let mut entries = Vec::new();
        let Some(new_cum) = self.tx.forward_tsn(now, room / entry, &mut entries) else {
            return;
        };
        let chunk = if self.tx.idata {
            Chunk::IForwardTsn(crate::wire::IForwardTsn {
                new_cum_tsn: new_cum,
                entries: crate::wire::List::new(&entries),
            })
        } else {
            Chunk::ForwardTsn(crate::wire::ForwardTsn {
                new_cum_tsn: new_cum,
                streams: crate::wire::List::new(&entries),
            })
        };
        if chunk.emit(out).is_ok() {
            *any = true;
            self.stats.forward_tsns_sent += 1;
            if self.t3.is_none() {
                self.t3 = Some(now + self.rto.rto);
            }
        }
    }

    fn sending_data(&self) -> bool {
        matches!(
            self.state,
            EngineState::Established | EngineState::ShutdownPending | EngineState::ShutdownReceived
        )
    }

    // ---- internals ----

    fn on_init(&mut self, now: Instant, init: &Init<'_>) {
        // RFC 9260 §3.3.2: a zero tag or zero stream counts are invalid.
        if init.initiate_tag == 0 || init.outbound_streams == 0 || init.inbound_streams == 0 {
            self.stats.packets_dropped += 1;
            return;
        }
        let (my_tag, my_tsn) = match self.state {
            EngineState::Listen => (self.rng.tag(), self.rng.next_u32()),
            // RFC 9260 §5.2.1: in COOKIE-WAIT or COOKIE-ECHOED, answer with the tag and
            // TSN of our own INIT.
            EngineState::CookieWait | EngineState::CookieEchoed => {
                (self.my_tag, self.my_initial_tsn)
            }
            // RFC 9260 §5.2.2: a new tag (restart is not carried further, see module doc).
            EngineState::Established => (self.rng.tag(), self.rng.next_u32()),
            _ => return,
        };
        let peer_zero_checksum = zero_checksum_param(init);
        let cookie = self.cookie_key.make(&CookieData {
            created_ms: now.saturating_duration_since(self.epoch).as_millis() as u64,
            my_tag,
            peer_tag: init.initiate_tag,
            my_initial_tsn: my_tsn,
            peer_initial_tsn: init.initial_tsn,
            peer_rwnd: init.a_rwnd,
            peer_outbound_streams: init.outbound_streams,
            peer_inbound_streams: init.inbound_streams,
            peer_zero_checksum,
            peer_forward_tsn: forward_tsn_param(init),
            peer_idata: idata_param(init),
        });
        if self.control_out.len() >= MAX_CONTROL_OUT {
            return;
        }
        let mut p = Vec::with_capacity(200);
        let header = self.header(init.initiate_tag);
        let mut w = PacketWriter::new(&mut p, &header);
        let ack = Init {
            initiate_tag: my_tag,
            a_rwnd: self.config.receive_window,
            outbound_streams: self.config.outbound_streams,
            inbound_streams: self.config.inbound_streams,
            initial_tsn: my_tsn,
            params: crate::wire::Params::empty(),
        };
        let ok = write_init(w.buf(), ct::INIT_ACK, &ack, Some(&cookie), &self.config);
        w.finish(Checksum::Crc32c);
        if ok.is_ok() {
            self.control_out.push_back(p);
        }
    }

    fn on_init_ack(&mut self, now: Instant, ack: &Init<'_>) {
        if ack.initiate_tag == 0 || ack.outbound_streams == 0 || ack.inbound_streams == 0 {
            self.stats.packets_dropped += 1;
            return;
        }
        let cookie = ack.params.iter().find_map(|p| match p {
            Param::StateCookie(c) => Some(c),
            _ => None,
        });
        let Some(cookie) = cookie.filter(|c| c.len() <= MAX_PEER_COOKIE) else {
            // RFC 9260 §5.1 C: without a cookie, the INIT ACK is useless.
            self.stats.packets_dropped += 1;
            return;
        };
        self.peer_tag = ack.initiate_tag;
        self.peer_cookie = cookie.to_vec();
        self.setup_peer(
            ack.initial_tsn,
            ack.a_rwnd,
            ack.outbound_streams,
            ack.inbound_streams,
            Declared {
                zero_checksum: zero_checksum_param(ack),
                forward_tsn: forward_tsn_param(ack),
                idata: idata_param(ack),
            },
        );
        self.state = EngineState::CookieEchoed;
        self.cookie_echo_pending = true;
        self.t1 = Some(now + self.rto.rto);
        self.t1_count = 0;
    }

    fn setup_peer(
        &mut self,
        peer_tsn: u32,
        rwnd: u32,
        peer_os: u16,
        peer_mis: u16,
        declared: Declared,
    ) {
        let Declared {
            zero_checksum: zc,
            forward_tsn,
            idata,
        } = declared;
        // RFC 9260 §5.1.1: streams are the minimum of what both sides asked for.
        let inbound = self.config.inbound_streams.min(peer_os);
        self.outbound_streams = self.config.outbound_streams.min(peer_mis);
        // RFC 8260 §2.2.1: I-DATA when both declared it, for every message either way.
        let idata = self.config.interleaving && idata;
        self.rx = Some(Rx::new(
            peer_tsn,
            inbound,
            self.config.max_receive_message_size,
            idata,
        ));
        if idata {
            self.tx
                .use_idata((self.pmtu.plpmtu - HEADER - I_DATA_HEADER) & !3);
        }
        // RFC 6525 §3.1: request sequence numbers start at the initial TSN.
        self.reconfig.peer_next_seq = peer_tsn;
        self.tx.set_peer_rwnd(rwnd);
        // RFC 9653 §5: both declared the same method.
        self.zero_checksum_rx = self.config.zero_checksum;
        self.zero_checksum_tx = self.config.zero_checksum && zc;
        // RFC 3758 §3.3.2: no FORWARD TSN to a peer that did not declare it, so nothing
        // is abandoned then.
        self.tx.pr_enabled = forward_tsn;
    }

    fn on_cookie_echo(&mut self, now: Instant, vtag: u32, bytes: &[u8]) {
        let Some(c) = self.cookie_key.open(bytes) else {
            self.stats.packets_dropped += 1;
            return;
        };
        // RFC 9260 §5.1.5 step 3: the packet carries the tag of the cookie.
        if vtag != c.my_tag {
            self.stats.packets_dropped += 1;
            return;
        }
        let age = now.saturating_duration_since(self.epoch).as_millis() as u64;
        // RFC 9260 §5.2.4 rule 3: a stale cookie is discarded unless its tags are those of
        // the association we have (case D: our COOKIE ACK was lost; answer it again).
        let ours = self.is_established() && c.my_tag == self.my_tag && c.peer_tag == self.peer_tag;
        if !ours && age.saturating_sub(c.created_ms) > self.config.cookie_life.as_millis() as u64 {
            // Stale (§5.1.5 step 3); the ERROR is not sent yet.
            self.stats.packets_dropped += 1;
            return;
        }
        match self.state {
            EngineState::Listen => {
                self.my_tag = c.my_tag;
                self.my_initial_tsn = c.my_initial_tsn;
                // Nothing was in flight in Listen; what `send` queued stays queued.
                self.tx.set_initial_tsn(c.my_initial_tsn);
                self.peer_tag = c.peer_tag;
                self.setup_peer(
                    c.peer_initial_tsn,
                    c.peer_rwnd,
                    c.peer_outbound_streams,
                    c.peer_inbound_streams,
                    Declared::of_cookie(&c),
                );
                self.cookie_ack_pending = true;
                self.establish(now);
            }
            EngineState::CookieWait | EngineState::CookieEchoed => {
                // RFC 9260 §5.2.4 cases B and D: our tag matches (§5.2.1 answered with
                // it); take the peer's tag and go up.
                if c.my_tag != self.my_tag {
                    return;
                }
                self.peer_tag = c.peer_tag;
                if self.rx.is_none() {
                    self.setup_peer(
                        c.peer_initial_tsn,
                        c.peer_rwnd,
                        c.peer_outbound_streams,
                        c.peer_inbound_streams,
                        Declared::of_cookie(&c),
                    );
                }
                self.cookie_ack_pending = true;
                self.establish(now);
            }
            _ => {
                // §5.2.4 case D (and B): already up; COOKIE ACK again. Case A (restart)
                // and C are dropped.
                if c.my_tag == self.my_tag && c.peer_tag == self.peer_tag {
                    self.cookie_ack_pending = true;
                }
            }
        }
    }

    fn establish(&mut self, now: Instant) {
        self.reconfig.my_next_seq = self.my_initial_tsn;
        self.t1 = None;
        self.cookie_echo_pending = false;
        self.init_pending = false;
        self.peer_cookie = Vec::new();
        self.rto.rto = self.config.rto_initial.clamp(self.rto.min, self.rto.max);
        self.state = EngineState::Established;
        self.events.push_back(EngineEvent::Established);
        self.arm_heartbeat(now);
        self.pmtu.start(now);
    }

    fn after_ack(&mut self, now: Instant, cum_advanced: bool) {
        if cum_advanced {
            self.t3_in_row = 0;
        }
        if !self.tx.outstanding() {
            // R2: everything acknowledged.
            self.t3 = None;
        } else if cum_advanced {
            // R3: the earliest outstanding TSN was acknowledged.
            self.t3 = Some(now + self.rto.rto);
        }
        self.shutdown_progress(now);
    }

    fn on_shutdown(&mut self, now: Instant, cum_tsn_ack: u32) {
        // RFC 9260 §9.2: the cumulative ack in SHUTDOWN acknowledges like a SACK's.
        if seq_gt(cum_tsn_ack, self.tx.cum_ack) && seq_lt(cum_tsn_ack, self.tx.next_tsn) {
            let bytes = cum_sack(cum_tsn_ack, self.tx.peer_rwnd as u32);
            if let Ok(Chunk::Sack(s)) = parse_one(&bytes) {
                if let Ok(out) = self.tx.on_sack(&s, now) {
                    self.after_ack(now, out.cum_advanced);
                }
            }
        }
        match self.state {
            EngineState::Established | EngineState::ShutdownPending => {
                self.state = EngineState::ShutdownReceived;
            }
            EngineState::ShutdownSent => {
                // Both sides shut down at once: SHUTDOWN ACK.
                self.state = EngineState::ShutdownAckSent;
                self.shutdown_ack_pending = true;
                self.t2 = Some(now + self.rto.rto);
                self.t2_count = 0;
            }
            _ => {}
        }
        self.shutdown_progress(now);
    }

    /// Moves the shutdown along once everything we sent is acknowledged.
    fn shutdown_progress(&mut self, now: Instant) {
        if !self.tx.idle() {
            return;
        }
        match self.state {
            EngineState::ShutdownPending => {
                self.state = EngineState::ShutdownSent;
                self.shutdown_pending = true;
                self.t3 = None;
                self.t2 = Some(now + self.rto.rto);
                self.t2_count = 0;
            }
            EngineState::ShutdownReceived => {
                self.state = EngineState::ShutdownAckSent;
                self.shutdown_ack_pending = true;
                self.t3 = None;
                self.t2 = Some(now + self.rto.rto);
                self.t2_count = 0;
            }
            _ => {}
        }
    }

    fn close(&mut self, reason: CloseReason) {
        if self.state == EngineState::Closed {
            return;
        }
        self.state = EngineState::Closed;
        self.heartbeat = Heartbeat::default();
        self.pmtu.stop();
        self.t1 = None;
        self.t2 = None;
        self.t3 = None;
        self.reconfig.timer = None;
        if let Some(rx) = &mut self.rx {
            rx.delayed_ack_at = None;
            rx.ack_now = false;
        }
        self.events.push_back(EngineEvent::Closed(reason));
    }

    /// RFC 6525 §5.2: a RE-CONFIG chunk from the peer.
    fn on_reconfig(&mut self, now: Instant, params: crate::wire::Params<'_>) {
        if !self.receiving() {
            return;
        }
        for p in params.iter() {
            match p {
                Param::OutgoingSsnResetRequest {
                    request_seq,
                    last_tsn,
                    streams,
                    ..
                } => {
                    let expected = self.reconfig.peer_next_seq;
                    let result = if request_seq == expected {
                        self.reconfig.peer_next_seq = expected.wrapping_add(1);
                        let list: Vec<u16> = streams.iter().take(4096).collect();
                        let cum = self.rx.as_ref().map_or(0, |rx| rx.cum);
                        if seq_gt(last_tsn, cum) {
                            // §5.2.2 E2: deferred until every TSN up to last_tsn arrived.
                            self.reconfig.deferred = Some((last_tsn, list));
                            RESULT_IN_PROGRESS
                        } else {
                            self.reset_incoming(list);
                            RESULT_PERFORMED
                        }
                    } else if request_seq == expected.wrapping_sub(1) {
                        // A retransmission: the same answer, or performed by now.
                        self.apply_deferred_reset();
                        if self.reconfig.deferred.is_some() {
                            RESULT_IN_PROGRESS
                        } else {
                            RESULT_PERFORMED
                        }
                    } else {
                        RESULT_BAD_SEQUENCE
                    };
                    if self.reconfig.responses.len() < 4 {
                        self.reconfig.responses.push((request_seq, result));
                    }
                }
                Param::IncomingSsnResetRequest { request_seq, .. }
                | Param::SsnTsnResetRequest { request_seq }
                | Param::AddOutgoingStreams { request_seq, .. }
                | Param::AddIncomingStreams { request_seq, .. } => {
                    // Not supported: denied (RFC 6525 §4.4 result 2).
                    if request_seq == self.reconfig.peer_next_seq {
                        self.reconfig.peer_next_seq = request_seq.wrapping_add(1);
                    }
                    if self.reconfig.responses.len() < 4 {
                        self.reconfig.responses.push((request_seq, RESULT_DENIED));
                    }
                }
                Param::ReconfigResponse {
                    response_seq,
                    result,
                    ..
                } => {
                    if self.reconfig.in_flight_seq != Some(response_seq) {
                        continue;
                    }
                    match result {
                        RESULT_NOTHING | RESULT_PERFORMED => {
                            self.reconfig.in_flight_seq = None;
                            self.reconfig.timer = None;
                            let streams = std::mem::take(&mut self.reconfig.in_flight);
                            self.events
                                .push_back(EngineEvent::OutgoingStreamsReset(streams));
                        }
                        RESULT_IN_PROGRESS => {
                            // Asked again after an RTO (§5.2.3).
                            self.reconfig.timer = Some(now + self.rto.rto);
                        }
                        _ => {
                            self.reconfig.in_flight_seq = None;
                            self.reconfig.timer = None;
                            let streams = std::mem::take(&mut self.reconfig.in_flight);
                            self.events
                                .push_back(EngineEvent::OutgoingStreamsResetFailed(streams));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn reset_incoming(&mut self, streams: Vec<u16>) {
        if let Some(rx) = &mut self.rx {
            rx.reset_streams(&streams);
        }
        self.events
            .push_back(EngineEvent::IncomingStreamsReset(streams));
    }

    fn apply_deferred_reset(&mut self) {
        let cum = self.rx.as_ref().map_or(0, |rx| rx.cum);
        if self
            .reconfig
            .deferred
            .as_ref()
            .is_some_and(|(last, _)| !seq_gt(*last, cum))
        {
            if let Some((_, list)) = self.reconfig.deferred.take() {
                self.reset_incoming(list);
            }
        }
    }

    /// Writes pending RE-CONFIG responses and our request (RFC 6525 §5.1).
    fn write_reconfig(&mut self, now: Instant, out: &mut Vec<u8>, mtu: usize, any: &mut bool) {
        if !self.sending_data() {
            return;
        }
        while let Some(&(seq, result)) = self.reconfig.responses.first() {
            if out.len() + 16 > mtu {
                return;
            }
            self.reconfig.responses.remove(0);
            *any |= write_chunk(out, ct::RE_CONFIG, 0, |o| {
                Param::ReconfigResponse {
                    response_seq: seq,
                    result,
                    next_tsns: None,
                }
                .emit(o)
            })
            .is_ok();
        }
        // A new request once the last is answered and nothing queued lacks its TSN.
        if self.reconfig.in_flight_seq.is_none()
            && !self.reconfig.wanted.is_empty()
            && self.tx.queue.is_empty()
        {
            self.reconfig.in_flight = std::mem::take(&mut self.reconfig.wanted);
            self.reconfig.in_flight_seq = Some(self.reconfig.my_next_seq);
            self.reconfig.my_next_seq = self.reconfig.my_next_seq.wrapping_add(1);
            self.reconfig.last_tsn = self.tx.next_tsn.wrapping_sub(1);
            self.reconfig.send = true;
            // RFC 6525 §5.1.2: what is sent after last_tsn starts the streams afresh at
            // SSN 0 (the peer resets them once everything up to last_tsn arrived).
            for &s in &self.reconfig.in_flight {
                self.tx.reset_ssn(s);
            }
        }
        let Some(seq) = self.reconfig.in_flight_seq else {
            return;
        };
        let need = 4 + 16 + 2 * self.reconfig.in_flight.len() + 3;
        if !self.reconfig.send || out.len() + need > mtu {
            return;
        }
        self.reconfig.send = false;
        let mut list = Vec::with_capacity(2 * self.reconfig.in_flight.len());
        for s in &self.reconfig.in_flight {
            list.extend_from_slice(&s.to_be_bytes());
        }
        *any |= write_chunk(out, ct::RE_CONFIG, 0, |o| {
            Param::OutgoingSsnResetRequest {
                request_seq: seq,
                response_seq: self.reconfig.peer_next_seq.wrapping_sub(1),
                last_tsn: self.reconfig.last_tsn,
                streams: crate::wire::List::new(&list),
            }
            .emit(o)
        })
        .is_ok();
        self.reconfig.timer = Some(now + self.rto.rto);
    }

    /// RFC 9260 §8.1: one more consecutive failure to reach the peer; true when that
    /// exceeded Association.Max.Retrans and closed the association.
    fn count_error(&mut self) -> bool {
        self.error_count = self.error_count.saturating_add(1);
        if self
            .config
            .max_retrans
            .is_some_and(|m| self.error_count > m)
        {
            // §8.1: the peer is unreachable; nothing more is sent to it.
            self.close(CloseReason::Unreachable);
            return true;
        }
        false
    }

    /// The PLPMTU changed: the send side counts in it from now on (RFC 8899 §3 item 7: the
    /// congestion window in bytes stays as it is). On a fall back, what is queued without
    /// a TSN is cut again to fit.
    fn set_plpmtu(&mut self) {
        let mtu = self.pmtu.plpmtu;
        if mtu < self.tx.mtu {
            self.tx
                .refragment((mtu - HEADER - self.tx.data_header()) & !3);
        }
        self.tx.mtu = mtu;
    }

    /// RFC 9260 §8.3: the next HEARTBEAT is due one RTO plus HB.interval from now, with a
    /// jitter of ±50 % of the RTO.
    fn arm_heartbeat(&mut self, now: Instant) {
        let Some(interval) = self.config.heartbeat_interval else {
            self.heartbeat.timer = None;
            return;
        };
        let rto = self.rto.rto;
        let span = rto.as_micros().min(u128::from(u64::MAX)) as u64;
        let jitter = Duration::from_micros(self.rng.next_u64() % span.saturating_add(1));
        self.heartbeat.timer = Some(now + interval + rto / 2 + jitter);
        self.heartbeat.data_mark = self.stats.data_chunks_sent + self.stats.retransmits;
        self.heartbeat.outstanding = None;
    }

    /// The heartbeat timer fired; true when the association closed.
    fn on_heartbeat_timer(&mut self, now: Instant) -> bool {
        if self.state != EngineState::Established {
            self.heartbeat.timer = None;
            return false;
        }
        if self.heartbeat.outstanding.take().is_some() {
            // RFC 9260 §8.3: no HEARTBEAT ACK within an RTO: the error counter grows and
            // the RTO backs off.
            self.rto.back_off();
            if self.count_error() {
                return true;
            }
            self.arm_heartbeat(now);
            return false;
        }
        // Only an idle association sends one (§8.3): if data went out in the period, its
        // SACKs already proved the path. Checked here, not per packet.
        let mark = self.stats.data_chunks_sent + self.stats.retransmits;
        if self.tx.outstanding() || mark != self.heartbeat.data_mark {
            self.arm_heartbeat(now);
            return false;
        }
        self.heartbeat.outstanding = Some((self.rng.next_u64(), now));
        self.heartbeat.due = true;
        self.heartbeat.timer = Some(now + self.rto.rto);
        false
    }

    /// The Heartbeat Info we send (RFC 9260 §3.3.5, sender-specific): a nonce, the send
    /// time in milliseconds since the engine started, and the probed size (0 for a plain
    /// HEARTBEAT). Only the nonce is trusted on the way back.
    fn heartbeat_info(&self, nonce: u64, now: Instant, size: usize) -> [u8; HB_INFO_LEN] {
        let mut info = [0u8; HB_INFO_LEN];
        let ms = now.saturating_duration_since(self.epoch).as_millis() as u64;
        info[..8].copy_from_slice(&nonce.to_be_bytes());
        info[8..16].copy_from_slice(&ms.to_be_bytes());
        info[16..].copy_from_slice(&(size as u32).to_be_bytes());
        info
    }

    /// Appends the HEARTBEAT that is due, if any.
    fn write_heartbeat(&mut self, now: Instant, out: &mut Vec<u8>, any: &mut bool) {
        if !self.heartbeat.due || out.len() + 8 + HB_INFO_LEN > self.pmtu.plpmtu {
            return;
        }
        self.heartbeat.due = false;
        let Some((nonce, _)) = self.heartbeat.outstanding else {
            return;
        };
        let info = self.heartbeat_info(nonce, now, 0);
        let ok = write_chunk(out, ct::HEARTBEAT, 0, |o| {
            Param::HeartbeatInfo(&info).emit(o)
        })
        .is_ok();
        if ok {
            self.stats.heartbeats_sent += 1;
            *any = true;
        }
    }

    /// RFC 8899 §6.2.1.2: a probe packet, a HEARTBEAT and a PAD chunk (RFC 4820) filling
    /// the packet to the probed size, alone in its packet. Only when established.
    fn write_probe(&mut self, now: Instant, buf: &mut Vec<u8>) -> bool {
        // After our COOKIE ACK, which the peer needs before it takes anything else.
        if !self.pmtu.probe_due || self.state != EngineState::Established || self.cookie_ack_pending
        {
            return false;
        }
        let size = self.pmtu.probe_size();
        let nonce = self.rng.next_u64();
        let info = self.heartbeat_info(nonce, now, size);
        let header = self.header(self.peer_tag);
        let mut w = PacketWriter::new(buf, &header);
        let hb = write_chunk(w.buf(), ct::HEARTBEAT, 0, |o| {
            Param::HeartbeatInfo(&info).emit(o)
        });
        // The PAD chunk's header and padding bytes make up the rest.
        let pad = size.saturating_sub(w.len() + 4);
        let ok = hb.is_ok()
            && write_chunk(w.buf(), ct::PAD, 0, |o| {
                o.resize(o.len() + pad, 0);
                Ok(0)
            })
            .is_ok();
        w.finish(self.checksum());
        if !ok || buf.len() != size {
            buf.clear();
            self.pmtu.probe_due = false;
            return false;
        }
        self.pmtu.on_probe_sent(now, nonce, size, self.rto.rto);
        true
    }

    /// RFC 9260 §8.3: a HEARTBEAT ACK. Only one answering our outstanding HEARTBEAT or
    /// probe counts (by its nonce); any other is ignored.
    fn on_heartbeat_ack(&mut self, now: Instant, params: crate::wire::Params<'_>) {
        let Some(nonce) = params.iter().find_map(|p| match p {
            Param::HeartbeatInfo(info) if info.len() == HB_INFO_LEN => info
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes),
            _ => None,
        }) else {
            return;
        };
        let ours = self.heartbeat.outstanding.filter(|(n, _)| *n == nonce);
        let sent_at = if let Some((_, at)) = ours {
            self.arm_heartbeat(now);
            at
        } else if let Some(p) = self.pmtu.on_ack(now, nonce) {
            self.set_plpmtu();
            p.sent_at
        } else {
            return;
        };
        self.stats.heartbeat_acks_received += 1;
        // §8.3: the ack clears the error counter and gives an RTT sample (§6.3.1).
        self.error_count = 0;
        self.rto.sample(now.saturating_duration_since(sent_at));
    }

    fn protocol_violation(&mut self, info: &[u8]) {
        self.queue_abort(self.peer_tag, false, cause_code::PROTOCOL_VIOLATION, info);
        self.close(CloseReason::ProtocolViolation(
            cause_code::PROTOCOL_VIOLATION,
        ));
    }

    /// A prebuilt packet with one ABORT.
    fn queue_abort(&mut self, vtag: u32, reflected: bool, cause: u16, info: &[u8]) {
        if self.control_out.len() >= MAX_CONTROL_OUT {
            return;
        }
        let mut p = Vec::with_capacity(32 + info.len());
        let header = self.header(vtag);
        let mut w = PacketWriter::new(&mut p, &header);
        let ok = write_chunk(w.buf(), ct::ABORT, u8::from(reflected), |o| {
            write_cause(o, cause, |o| o.extend_from_slice(info))
        });
        w.finish(self.checksum());
        if ok.is_ok() {
            self.control_out.push_back(p);
        }
    }

    /// A prebuilt packet with a SACK.
    fn queue_sack(&mut self) {
        if self.control_out.len() >= MAX_CONTROL_OUT {
            return;
        }
        let Some(rx) = &mut self.rx else { return };
        let a_rwnd =
            (self.config.receive_window as usize).saturating_sub(rx.held + self.event_bytes) as u32;
        let mut p = Vec::with_capacity(64);
        let header = CommonHeader {
            src_port: self.config.local_port,
            dst_port: self.config.remote_port,
            verification_tag: self.peer_tag,
            checksum: 0,
        };
        let mut w = PacketWriter::new(&mut p, &header);
        let room = self.config.mtu - HEADER;
        rx.write_sack(w.buf(), a_rwnd, room);
        w.finish(if self.zero_checksum_tx {
            Checksum::Zero
        } else {
            Checksum::Crc32c
        });
        self.stats.sacks_sent += 1;
        self.control_out.push_back(p);
    }

    /// A prebuilt packet with one empty chunk (SHUTDOWN COMPLETE).
    fn queue_simple(&mut self, vtag: u32, chunk: u8, flags: u8) {
        if self.control_out.len() >= MAX_CONTROL_OUT {
            return;
        }
        let mut p = Vec::with_capacity(16);
        let header = self.header(vtag);
        let mut w = PacketWriter::new(&mut p, &header);
        let ok = write_chunk(w.buf(), chunk, flags, |_| Ok(0));
        w.finish(self.checksum());
        if ok.is_ok() {
            self.control_out.push_back(p);
        }
    }

    fn queue_error(&mut self, cause: u16, info: &[u8]) {
        if self.errors.len() + 8 + info.len() > MAX_PENDING_ERRORS {
            return;
        }
        let _ = write_chunk(&mut self.errors, ct::ERROR, 0, |o| {
            write_cause(o, cause, |o| o.extend_from_slice(info))
        });
    }

    /// RFC 9260 §3.2: an Unrecognized Chunk Type error carrying the chunk.
    fn report_unrecognized(&mut self, raw: &RawChunk<'_>) {
        let len = 4 + raw.value.len();
        if len > 256 {
            return;
        }
        let mut chunk = [0u8; 256];
        chunk[0] = raw.chunk_type;
        chunk[1] = raw.flags;
        chunk[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        if let Some(dst) = chunk.get_mut(4..len) {
            dst.copy_from_slice(raw.value);
        }
        self.queue_error(
            cause_code::UNRECOGNIZED_CHUNK_TYPE,
            chunk.get(..len).unwrap_or(&[]),
        );
    }
}

/// Bytes of our Heartbeat Info: nonce, time, probed size.
const HB_INFO_LEN: usize = 20;

/// The HEARTBEAT we send on an idle association (RFC 9260 §8.3).
#[derive(Default)]
struct Heartbeat {
    /// When the next HEARTBEAT is due, or (with one outstanding) when its ack is.
    timer: Option<Instant>,
    /// The outstanding HEARTBEAT: nonce and send time.
    outstanding: Option<(u64, Instant)>,
    /// A HEARTBEAT is to be written into the next packet.
    due: bool,
    /// DATA chunks sent (first or again) when the timer was armed: data sent since then
    /// means the association was not idle.
    data_mark: u64,
}

/// RFC 6525 §4.4 results.
const RESULT_NOTHING: u32 = 0;
const RESULT_PERFORMED: u32 = 1;
const RESULT_DENIED: u32 = 2;
const RESULT_BAD_SEQUENCE: u32 = 5;
const RESULT_IN_PROGRESS: u32 = 6;

/// Stream reset state (RFC 6525).
#[derive(Default)]
struct Reconfig {
    /// Our next request sequence number.
    my_next_seq: u32,
    /// The peer's request sequence number we expect next.
    peer_next_seq: u32,
    /// Streams to reset in the next request.
    wanted: Vec<u16>,
    /// The request in flight: its number, streams and last TSN.
    in_flight_seq: Option<u32>,
    in_flight: Vec<u16>,
    last_tsn: u32,
    /// The request is to be (re)sent.
    send: bool,
    timer: Option<Instant>,
    /// Responses to send: (request number, result).
    responses: Vec<(u32, u32)>,
    /// An incoming reset waiting for its last TSN.
    deferred: Option<(u32, Vec<u16>)>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("state", &self.state)
            .field("my_tag", &self.my_tag)
            .field("peer_tag", &self.peer_tag)
            .finish_non_exhaustive()
    }
}

/// Whether an INIT or INIT ACK declares Zero Checksum Acceptable for DTLS (RFC 9653 §4).
fn zero_checksum_param(init: &Init<'_>) -> bool {
    init.params.iter().any(|p| {
        matches!(p, Param::ZeroChecksumAcceptable { edmid } if edmid == ZERO_CHECKSUM_EDMID_DTLS)
    })
}

/// The header facts of a DATA or I-DATA chunk that the engine checks before storing it.
struct UserChunk {
    idata: bool,
    tsn: u32,
    stream: u16,
    empty: bool,
    /// The I bit (RFC 7053): SACK at once.
    immediate: bool,
}

/// What the peer's INIT or INIT ACK declared.
struct Declared {
    /// Zero Checksum Acceptable, DTLS method (RFC 9653 §4).
    zero_checksum: bool,
    /// FORWARD TSN (RFC 3758 §3.3.2).
    forward_tsn: bool,
    /// I-DATA (RFC 8260 §2.2.1).
    idata: bool,
}

impl Declared {
    fn of_cookie(c: &CookieData) -> Declared {
        Declared {
            zero_checksum: c.peer_zero_checksum,
            forward_tsn: c.peer_forward_tsn,
            idata: c.peer_idata,
        }
    }
}

/// Whether an INIT or INIT ACK declares I-DATA in Supported Extensions (RFC 8260 §2.2.1).
fn idata_param(init: &Init<'_>) -> bool {
    init.params.iter().any(|p| match p {
        Param::SupportedExtensions(types) => types.contains(&ct::I_DATA),
        _ => false,
    })
}

/// Whether an INIT or INIT ACK declares FORWARD TSN (RFC 3758 §3.3.2), by its own
/// parameter or in Supported Extensions (RFC 5061 §4.2.7).
fn forward_tsn_param(init: &Init<'_>) -> bool {
    init.params.iter().any(|p| match p {
        Param::ForwardTsnSupported => true,
        Param::SupportedExtensions(types) => types.contains(&ct::FORWARD_TSN),
        _ => false,
    })
}

/// Writes INIT or INIT ACK with our parameters: the cookie (INIT ACK), the extensions,
/// and Zero Checksum Acceptable when configured.
fn write_init(
    out: &mut Vec<u8>,
    chunk: u8,
    init: &Init<'_>,
    cookie: Option<&[u8]>,
    config: &EngineConfig,
) -> Result<(), crate::wire::WireError> {
    write_chunk(out, chunk, 0, |out| {
        out.extend_from_slice(&init.initiate_tag.to_be_bytes());
        out.extend_from_slice(&init.a_rwnd.to_be_bytes());
        out.extend_from_slice(&init.outbound_streams.to_be_bytes());
        out.extend_from_slice(&init.inbound_streams.to_be_bytes());
        out.extend_from_slice(&init.initial_tsn.to_be_bytes());
        if let Some(c) = cookie {
            Param::StateCookie(c).emit(out)?;
        }
        // RFC 6525 §3.1 / RFC 5061 §4.2.7: RE-CONFIG is supported; so is receiving
        // FORWARD TSN (RFC 3758 §3.1, listed both ways, as other stacks look for either).
        // RFC 8260 §2.2.1, §2.3: I-DATA and I-FORWARD-TSN when interleaving is on.
        Param::ForwardTsnSupported.emit(out)?;
        let with_idata = [
            ct::RE_CONFIG,
            ct::FORWARD_TSN,
            ct::I_DATA,
            ct::I_FORWARD_TSN,
        ];
        let types = if config.interleaving {
            &with_idata[..]
        } else {
            &with_idata[..2]
        };
        let mut pad = Param::SupportedExtensions(types).emit(out)?;
        if config.zero_checksum {
            pad = Param::ZeroChecksumAcceptable {
                edmid: ZERO_CHECKSUM_EDMID_DTLS,
            }
            .emit(out)?;
        }
        Ok(pad)
    })
}

/// A SACK chunk acknowledging `cum` with no gaps (to feed SHUTDOWN's cumulative ack to the
/// SACK path).
fn cum_sack(cum: u32, a_rwnd: u32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0] = ct::SACK;
    b[2..4].copy_from_slice(&16u16.to_be_bytes());
    b[4..8].copy_from_slice(&cum.to_be_bytes());
    b[8..12].copy_from_slice(&a_rwnd.to_be_bytes());
    b
}

/// Parses one chunk from its bytes.
fn parse_one(bytes: &[u8]) -> Result<Chunk<'_>, crate::wire::WireError> {
    let value = bytes.get(4..).unwrap_or(&[]);
    RawChunk {
        at: 0,
        chunk_type: bytes.first().copied().unwrap_or(0),
        flags: bytes.get(1).copied().unwrap_or(0),
        value,
    }
    .parse()
}

/// Fuzz harness body: two engines set up a real association (the first byte's low bit:
/// with I-DATA, RFC 8260, or DATA); then the rest of `data`, cut into packets by a
/// two-byte length prefix, goes to the client, whose answers go to the server and back.
/// Never a panic; output bounded.
#[cfg(feature = "fuzzing")]
pub fn fuzz_established(start: Instant, data: &[u8]) {
    let (interleaving, data) = match data.split_first() {
        Some((mode, rest)) => (mode & 1 == 1, rest),
        None => (true, data),
    };
    // Path MTU probes and heartbeats on, so forged HEARTBEAT ACKs meet pending ones.
    let config = EngineConfig {
        max_mtu: 1452,
        heartbeat_interval: Some(Duration::from_millis(500)),
        interleaving,
        ..EngineConfig::default()
    };
    let mut a = Engine::new(config.clone(), start, 1);
    let mut b = Engine::new(config, start, 2);
    let mut now = start;
    a.connect(now);
    for _ in 0..8 {
        while let Some(p) = a.poll_transmit(now) {
            b.handle_packet(now, &p);
        }
        while let Some(p) = b.poll_transmit(now) {
            a.handle_packet(now, &p);
        }
    }
    let _ = a.send(1, 51, false, &[7; 3000]);
    // Partially reliable messages too, so the input reaches abandoning and FORWARD TSN.
    let _ = a.send_with(now, 2, 53, false, &[8; 2500], SendPolicy::MaxRetransmits(0));
    let lifetime = SendPolicy::Lifetime(Duration::from_millis(25));
    let _ = a.send_with(now, 3, 53, true, &[9; 100], lifetime);
    let mut rest = data;
    while rest.len() >= 2 {
        let prefix = u16::from_be_bytes([rest[0], rest[1]]);
        // The top bit keeps the packet's own ports and tag; otherwise they are made right
        // so the fuzzer reaches the chunk handling.
        let raw = prefix & 0x8000 != 0;
        let len = usize::from(prefix & 0x7fff).min(rest.len() - 2);
        let (packet, tail) = rest[2..].split_at(len);
        rest = tail;
        now += Duration::from_millis(10);
        let mut p = packet.to_vec();
        if !raw {
            if let Some(h) = p.get_mut(..8) {
                h[..4].copy_from_slice(&[0x13, 0x88, 0x13, 0x88]);
                h[4..].copy_from_slice(&a.my_tag.to_be_bytes());
            }
        }
        crate::wire::fill_checksum(&mut p, Checksum::Crc32c);
        a.handle_packet(now, &p);
        if a.poll_timeout().is_some_and(|t| t <= now) {
            a.handle_timeout(now);
        }
        let mut n = 0;
        while let Some(out) = a.poll_transmit(now) {
            n += 1;
            assert!(n < 10_000 && out.len() <= a.config.max_mtu);
            b.handle_packet(now, &out);
        }
        while let Some(out) = b.poll_transmit(now) {
            a.handle_packet(now, &out);
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
    }
}
