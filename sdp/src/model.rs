//! The typed SDP model (RFC 8866 plus the attributes WebRTC uses).
//!
//! Every text field is a `Cow<'a, str>`: the parser borrows from the input, a program that
//! builds a description owns its strings, and [`SessionDescription::into_owned`] detaches a
//! parsed description from its input.
//!
//! Attributes keep their order: a media section is a list of [`Attribute`]s, exactly as they
//! appeared, so that writing a parsed description gives back the same bytes for the
//! descriptions browsers produce. The JSEP-oriented getters in [`crate::jsep`] search these
//! lists.
//!
//! ## Invariants of a writable model
//! Anything the parser returns satisfies these; a program that builds a model must keep
//! them, or `parse(write(x))` will not give back `x`:
//! - text fields hold no NUL, CR or LF; tokens use the RFC 8866 token characters;
//! - optional text (`information`, `uri`, `key`, an `rtcp-fb` parameter, `extmap`
//!   attributes) is `None` rather than `Some("")`; the session name is never empty;
//! - lists that the grammar requires to be non-empty are non-empty: the `m=` formats,
//!   `ice-options`, each `simulcast` list and each of its streams, `times`;
//! - [`Formats::Rtp`] exactly when the protocol contains `RTP/`;
//! - [`Address::Name`] never holds an IP literal (use [`Address::from_text`]);
//! - a multicast TTL only on an `IP4` connection, and a `count` on IP4 only with a TTL;
//!   [`AddressType::Other`] never spells `IP4` or `IP6`;
//! - [`Attribute::Other`] never uses the name of a typed attribute, and a `rid` has no
//!   restriction named `pt` (the payload types have their own field).

use std::borrow::Cow;
use std::net::IpAddr;

/// Text borrowed from the parsed input, or owned.
pub type Str<'a> = Cow<'a, str>;

/// A whole session description (RFC 8866 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SessionDescription<'a> {
    /// `o=` (RFC 8866 §5.2).
    pub origin: Origin<'a>,
    /// `s=`; WebRTC writes `-` (RFC 8829 §5.2.1).
    pub session_name: Str<'a>,
    /// `i=`
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub information: Option<Str<'a>>,
    /// `u=`
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub uri: Option<Str<'a>>,
    /// `e=` lines.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub emails: Vec<Str<'a>>,
    /// `p=` lines.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub phones: Vec<Str<'a>>,
    /// Session-level `c=`.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub connection: Option<Connection<'a>>,
    /// Session-level `b=` lines.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub bandwidths: Vec<Bandwidth<'a>>,
    /// One or more time descriptions (`t=`, `r=`, `z=`); RFC 8866 requires at least one.
    pub times: Vec<Timing<'a>>,
    /// `k=` (obsolete, kept verbatim).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub key: Option<Str<'a>>,
    /// Session-level `a=` lines, in order.
    pub attributes: Vec<Attribute<'a>>,
    /// `m=` sections, in order.
    pub media: Vec<MediaDescription<'a>>,
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`
/// (RFC 8866 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Origin<'a> {
    /// `-` when the host has no user name.
    pub username: Str<'a>,
    /// JSEP keeps it below 2^63 (RFC 8829 §5.2.1); any 64-bit value is accepted here.
    pub session_id: u64,
    pub session_version: u64,
    /// Always `IN` in practice.
    pub net_type: Str<'a>,
    pub address_type: AddressType<'a>,
    pub address: Address<'a>,
}

/// `IP4`, `IP6`, or another registered address type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum AddressType<'a> {
    Ip4,
    Ip6,
    Other(Str<'a>),
}

/// An address as SDP writes it: an IP literal or a name (an FQDN, or an mDNS `.local`
/// name as browsers use to hide host addresses).
///
/// A `Name` never holds text that parses as an IP address: the parser puts such text in
/// `Ip`, so build names with [`Address::from_text`] to keep that invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Address<'a> {
    Ip(IpAddr),
    Name(Str<'a>),
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7), with the multicast
/// `/ttl` and `/count` suffixes split off.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Connection<'a> {
    pub net_type: Str<'a>,
    pub address_type: AddressType<'a>,
    pub address: Address<'a>,
    /// IPv4 multicast TTL.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub ttl: Option<u8>,
    /// Number of multicast addresses.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub count: Option<u32>,
}

/// `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Bandwidth<'a> {
    pub kind: BandwidthType<'a>,
    /// Kilobits per second for `AS` and `CT`, bits per second for `TIAS` (RFC 3890).
    pub value: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum BandwidthType<'a> {
    /// `AS`, application specific.
    As,
    /// `CT`, conference total.
    Ct,
    /// `TIAS`, transport independent (RFC 3890).
    Tias,
    /// `RR` and `RS` (RFC 3556) and any other token.
    Other(Str<'a>),
}

/// A time description: `t=` with its `r=` and `z=` lines (RFC 8866 §5.9-5.11).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Timing<'a> {
    /// NTP seconds; 0 for unbounded, as WebRTC writes it.
    pub start: u64,
    pub stop: u64,
    /// `r=` lines, verbatim.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub repeats: Vec<Str<'a>>,
    /// `z=` line, verbatim.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub zone: Option<Str<'a>>,
}

/// One `m=` section with everything up to the next `m=` (RFC 8866 §5.14).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MediaDescription<'a> {
    pub kind: MediaKind<'a>,
    /// 0 marks a rejected or disabled section (RFC 8829 §5.3.1); 9 is the JSEP placeholder.
    pub port: u16,
    /// The `/<number of ports>` suffix.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub port_count: Option<u16>,
    /// Transport protocol, e.g. `UDP/TLS/RTP/SAVPF` or `UDP/DTLS/SCTP`.
    pub protocol: Str<'a>,
    pub formats: Formats<'a>,
    /// `i=`
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub information: Option<Str<'a>>,
    /// Media-level `c=` lines.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub connections: Vec<Connection<'a>>,
    /// Media-level `b=` lines.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub bandwidths: Vec<Bandwidth<'a>>,
    /// `k=` (obsolete).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub key: Option<Str<'a>>,
    /// Media-level `a=` lines, in order.
    pub attributes: Vec<Attribute<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum MediaKind<'a> {
    Audio,
    Video,
    Application,
    Text,
    Message,
    Other(Str<'a>),
}

/// The format list of an `m=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Formats<'a> {
    /// RTP payload type numbers, for any protocol containing `RTP/` (RFC 8866 §5.14).
    Rtp(Vec<u8>),
    /// Format tokens of other protocols, e.g. `webrtc-datachannel` (RFC 8841).
    Other(Vec<Str<'a>>),
}

/// Media direction (RFC 8866 §6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

/// `a=setup` (RFC 4145 §4, RFC 8842 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Setup {
    Active,
    Passive,
    ActPass,
    HoldConn,
}

/// An SDP attribute. Those WebRTC uses are typed; any other is kept verbatim as
/// [`Attribute::Other`], in its place.
///
/// The large, less frequent values (candidates, `a=rtcp`, `a=rid`) are boxed so that the
/// enum stays 64 bytes: a video section holds a hundred attributes or more.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum Attribute<'a> {
    /// `a=group:<semantics> <mid>...` (RFC 5888 §5, RFC 9143 BUNDLE).
    Group(Group<'a>),
    /// `a=msid-semantic: <semantic> <id>...` (the WMS form browsers still write).
    MsidSemantic(MsidSemantic<'a>),
    /// `a=msid:<stream id> [<track id>]` (RFC 8830 §2).
    Msid(Msid<'a>),
    /// `a=mid:<id>` (RFC 5888 §4).
    Mid(Str<'a>),
    /// `a=rtpmap` (RFC 8866 §6.6).
    Rtpmap(Rtpmap<'a>),
    /// `a=fmtp` (RFC 8866 §6.15).
    Fmtp(Fmtp<'a>),
    /// `a=rtcp-fb` (RFC 4585 §4.2).
    RtcpFb(RtcpFb<'a>),
    /// `a=extmap` (RFC 8285 §8).
    Extmap(Extmap<'a>),
    /// `a=extmap-allow-mixed` (RFC 8285 §6).
    ExtmapAllowMixed,
    /// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576 §4.1).
    Ssrc(SsrcAttribute<'a>),
    /// `a=ssrc-group:<semantics> <ssrc>...` (RFC 5576 §4.2).
    SsrcGroup(SsrcGroup<'a>),
    /// `a=rid` (RFC 8851 §10).
    Rid(Box<Rid<'a>>),
    /// `a=simulcast` (RFC 8853 §5.1).
    Simulcast(Simulcast<'a>),
    /// `a=candidate` (RFC 8839 §5.1).
    Candidate(Box<Candidate<'a>>),
    /// `a=end-of-candidates` (RFC 8840 §8.2).
    EndOfCandidates,
    /// `a=ice-ufrag` (RFC 8839 §5.4).
    IceUfrag(Str<'a>),
    /// `a=ice-pwd` (RFC 8839 §5.4).
    IcePwd(Str<'a>),
    /// `a=ice-options:<option>...` (RFC 8839 §5.6).
    IceOptions(Vec<Str<'a>>),
    /// `a=ice-lite` (RFC 8839 §5.3).
    IceLite,
    /// `a=fingerprint:<hash> <bytes>` (RFC 8122 §5).
    Fingerprint(Fingerprint<'a>),
    /// `a=setup` (RFC 4145 §4).
    Setup(Setup),
    /// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605 §2.1).
    Rtcp(Box<Rtcp<'a>>),
    /// `a=rtcp-mux` (RFC 5761 §5.1.1).
    RtcpMux,
    /// `a=rtcp-mux-only` (RFC 8858 §3).
    RtcpMuxOnly,
    /// `a=rtcp-rsize` (RFC 5506 §5).
    RtcpRsize,
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive` (RFC 8866 §6.7).
    Direction(Direction),
    /// `a=sctp-port:<port>` (RFC 8841 §5).
    SctpPort(u16),
    /// `a=max-message-size:<bytes>`; 0 means no limit (RFC 8841 §6).
    MaxMessageSize(u64),
    /// Legacy `a=sctpmap:<port> <protocol> [<streams>]` (draft-ietf-mmusic-sctp-sdp-05).
    Sctpmap(Sctpmap<'a>),
    /// `a=sctp-init:<base64 INIT chunk>` (SCTP negotiation acceleration, SNAP draft).
    SctpInit(Str<'a>),
    /// Any other attribute, verbatim: `a=<name>` or `a=<name>:<value>`.
    Other {
        name: Str<'a>,
        value: Option<Str<'a>>,
    },
}

/// `a=group` (RFC 5888 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Group<'a> {
    /// `BUNDLE`, `LS`, `FID`, ...
    pub semantics: Str<'a>,
    pub mids: Vec<Str<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MsidSemantic<'a> {
    /// `WMS` in every browser today.
    pub semantic: Str<'a>,
    /// Stream ids, or `*`.
    pub identifiers: Vec<Str<'a>>,
}

/// `a=msid` (RFC 8830 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Msid<'a> {
    /// The MediaStream id; `-` for a track without a stream.
    pub stream: Str<'a>,
    /// The track id (the msid-appdata).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub track: Option<Str<'a>>,
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]` (RFC 8866 §6.6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Rtpmap<'a> {
    pub payload_type: u8,
    pub encoding: Str<'a>,
    pub clock_rate: u32,
    /// Audio channels (the encoding parameters).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub channels: Option<u16>,
}

/// `a=fmtp:<pt> <param>[;<param>]...` (RFC 8866 §6.15).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Fmtp<'a> {
    pub payload_type: u8,
    pub parameters: FmtpParameters<'a>,
}

/// The `;`-separated parameters of an `a=fmtp` line, or the restrictions of an `a=rid` line
/// (RFC 8866 §6.15, RFC 8851 §10), in order.
///
/// Kept as their canonical text, each `key=value` or bare value joined by `;` without
/// spaces, so that parsing borrows one slice of the line instead of building a list (a
/// Chromium offer has two dozen fmtp lines). [`iter`](Self::iter) reads the items; build a
/// list with `collect()`, `From<Vec<FmtpParameter>>` or [`push`](Self::push). Two lists are
/// equal exactly when their items are. Serialized (feature `serde`) as a list of
/// [`FmtpParameter`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FmtpParameters<'a>(pub(crate) Str<'a>);

/// One `;`-separated fmtp parameter: `key=value`, or a bare value such as RED's
/// `111/111` or telephone-event's `0-15`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FmtpParameter<'a> {
    pub key: Str<'a>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub value: Option<Str<'a>>,
}

/// `a=rtcp-fb:<pt|*> <type> [<parameter>]` (RFC 4585 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RtcpFb<'a> {
    /// `None` for `*`, all payload types.
    pub payload_type: Option<u8>,
    /// `nack`, `ccm`, `goog-remb`, `transport-cc`, `trr-int`, ...
    pub kind: Str<'a>,
    /// `pli` in `nack pli`, `fir` in `ccm fir`, ...
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub parameter: Option<Str<'a>>,
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §8).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Extmap<'a> {
    /// 1-14 for one-byte headers, 1-255 with two-byte headers (RFC 8285 §4.2, §4.3).
    pub id: u16,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub direction: Option<Direction>,
    pub uri: Str<'a>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub attributes: Option<Str<'a>>,
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576 §4.1), e.g. `cname:...` or
/// `msid:<stream> <track>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SsrcAttribute<'a> {
    pub ssrc: u32,
    pub attribute: Str<'a>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub value: Option<Str<'a>>,
}

/// `a=ssrc-group:<semantics> <ssrc>...` (RFC 5576 §4.2): `FID` (RTX), `SIM`, `FEC-FR`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SsrcGroup<'a> {
    pub semantics: Str<'a>,
    pub ssrcs: Vec<u32>,
}

/// `a=rid:<id> <send|recv> [pt=<pt>,...;][<restriction>[=<value>];...]` (RFC 8851 §10).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Rid<'a> {
    pub id: Str<'a>,
    pub direction: RidDirection,
    /// The `pt=` list; empty when absent.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub payload_types: Vec<u8>,
    /// `max-width=1280`, `max-fps=30`, ... in order.
    #[cfg_attr(
        feature = "serde",
        serde(skip_serializing_if = "FmtpParameters::is_empty")
    )]
    pub restrictions: FmtpParameters<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum RidDirection {
    Send,
    Recv,
}

/// `a=simulcast` (RFC 8853 §5.1): one or two direction lists, in written order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Simulcast<'a> {
    /// One or two entries with different directions.
    pub lists: Vec<SimulcastList<'a>>,
}

/// `send q;h;f`: a `;`-separated list of streams, each a `,`-separated list of alternative
/// rids.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SimulcastList<'a> {
    pub direction: RidDirection,
    pub streams: Vec<Vec<SimulcastRid<'a>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SimulcastRid<'a> {
    pub rid: Str<'a>,
    /// Written with a `~` prefix.
    pub paused: bool,
}

/// An ICE candidate (RFC 8839 §5.1, RFC 6544 §4.5 for `tcptype`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Candidate<'a> {
    /// 1-32 ice-chars.
    pub foundation: Str<'a>,
    /// 1 for RTP; 2 for RTCP without rtcp-mux.
    pub component: u16,
    pub transport: CandidateTransport<'a>,
    pub priority: u32,
    pub address: Address<'a>,
    pub port: u16,
    pub kind: CandidateType<'a>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub related_address: Option<Address<'a>>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub related_port: Option<u16>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub tcp_type: Option<TcpType>,
    /// Extension pairs such as `generation 0`, `network-id 1`, `ufrag abcd`, in order.
    #[cfg_attr(
        feature = "serde",
        serde(skip_serializing_if = "CandidateExtensions::is_empty")
    )]
    pub extensions: CandidateExtensions<'a>,
}

/// The extension pairs of a candidate after the typed ones (RFC 8839 §5.1
/// `extension-att-name SP extension-att-value`), in order.
///
/// Kept as their canonical text, names and values joined by single spaces, so that parsing
/// borrows one slice of the line instead of building a list. [`iter`](Self::iter) reads the
/// `(name, value)` pairs; build a list with `collect()` or [`push`](Self::push). Two lists
/// are equal exactly when their pairs are. Serialized (feature `serde`) as a list of
/// `[name, value]` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CandidateExtensions<'a>(pub(crate) Str<'a>);

/// Candidate transport; matched case-insensitively and written in lower case, as browsers
/// write it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum CandidateTransport<'a> {
    Udp,
    Tcp,
    Other(Str<'a>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum CandidateType<'a> {
    Host,
    ServerReflexive,
    PeerReflexive,
    Relay,
    Other(Str<'a>),
}

/// RFC 6544 §4.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum TcpType {
    Active,
    Passive,
    SimultaneousOpen,
}

/// `a=fingerprint` (RFC 8122 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Fingerprint<'a> {
    pub hash: HashFunction<'a>,
    /// The digest; written as upper-case hex pairs joined by `:`.
    pub bytes: Vec<u8>,
}

/// Hash function names of RFC 8122 §5 (matched case-insensitively, written in lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum HashFunction<'a> {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Md5,
    Md2,
    Other(Str<'a>),
}

/// `a=rtcp` (RFC 3605 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Rtcp<'a> {
    pub port: u16,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub connection: Option<Connection<'a>>,
}

/// Legacy `a=sctpmap` (draft-ietf-mmusic-sctp-sdp-05 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Sctpmap<'a> {
    pub port: u16,
    pub protocol: Str<'a>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub streams: Option<u32>,
}

/// SDP tokens as written: `as_str` gives the text the writer puts on the wire.
macro_rules! tokens {
    ($ty:ident { $($v:ident => $t:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(&self) -> &'static str {
                match self { $($ty::$v => $t,)* }
            }
        }
    };
    ($ty:ident<'a> { $($v:ident => $t:literal),* $(,)? }) => {
        impl $ty<'_> {
            pub fn as_str(&self) -> &str {
                match self { $($ty::$v => $t,)* $ty::Other(o) => o }
            }
        }
    };
}

tokens!(Direction { SendRecv => "sendrecv", SendOnly => "sendonly", RecvOnly => "recvonly", Inactive => "inactive" });
tokens!(Setup { Active => "active", Passive => "passive", ActPass => "actpass", HoldConn => "holdconn" });
tokens!(TcpType { Active => "active", Passive => "passive", SimultaneousOpen => "so" });
tokens!(RidDirection { Send => "send", Recv => "recv" });
tokens!(MediaKind<'a> { Audio => "audio", Video => "video", Application => "application", Text => "text", Message => "message" });
tokens!(CandidateTransport<'a> { Udp => "udp", Tcp => "tcp" });
tokens!(CandidateType<'a> { Host => "host", ServerReflexive => "srflx", PeerReflexive => "prflx", Relay => "relay" });
tokens!(HashFunction<'a> { Sha1 => "sha-1", Sha224 => "sha-224", Sha256 => "sha-256", Sha384 => "sha-384", Sha512 => "sha-512", Md5 => "md5", Md2 => "md2" });
