//! What the core reports: W3C states, candidates, data channel and media events.

use std::net::SocketAddr;

use bytes::Bytes;
use weft_sctp::MessageKind;

use crate::codec::{CodecName, MediaKind};

pub use weft_ice::{ConnectionState as IceConnectionState, GatheringState as IceGatheringState};

/// W3C `RTCSdpType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SdpType {
    /// `offer`.
    Offer,
    /// `pranswer`.
    Pranswer,
    /// `answer`.
    Answer,
    /// `rollback` (the SDP is ignored).
    Rollback,
}

impl SdpType {
    /// The W3C string.
    pub fn as_str(self) -> &'static str {
        match self {
            SdpType::Offer => "offer",
            SdpType::Pranswer => "pranswer",
            SdpType::Answer => "answer",
            SdpType::Rollback => "rollback",
        }
    }

    /// From the W3C string.
    pub fn parse(s: &str) -> Option<SdpType> {
        Some(match s {
            "offer" => SdpType::Offer,
            "pranswer" => SdpType::Pranswer,
            "answer" => SdpType::Answer,
            "rollback" => SdpType::Rollback,
            _ => return None,
        })
    }
}

/// W3C `RTCSessionDescriptionInit`: a type and the SDP text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// The type.
    pub sdp_type: SdpType,
    /// The SDP.
    pub sdp: String,
}

impl SessionDescription {
    /// An offer.
    pub fn offer(sdp: impl Into<String>) -> Self {
        SessionDescription {
            sdp_type: SdpType::Offer,
            sdp: sdp.into(),
        }
    }

    /// An answer.
    pub fn answer(sdp: impl Into<String>) -> Self {
        SessionDescription {
            sdp_type: SdpType::Answer,
            sdp: sdp.into(),
        }
    }

    /// A rollback.
    pub fn rollback() -> Self {
        SessionDescription {
            sdp_type: SdpType::Rollback,
            sdp: String::new(),
        }
    }
}

/// W3C `RTCIceCandidateInit`: `candidate` is the attribute value (`candidate:...`), empty
/// for end-of-candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCandidateInit {
    /// `candidate:...`, or empty for end-of-candidates.
    pub candidate: String,
    /// The media section's mid.
    pub sdp_mid: Option<String>,
    /// The media section's index.
    pub sdp_m_line_index: Option<u16>,
    /// The ufrag of the ICE generation it belongs to.
    pub username_fragment: Option<String>,
}

/// W3C `RTCSignalingState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalingState {
    /// No offer/answer exchange under way.
    Stable,
    /// We applied a local offer.
    HaveLocalOffer,
    /// We applied a remote offer.
    HaveRemoteOffer,
    /// Remote offer, local provisional answer.
    HaveLocalPranswer,
    /// Local offer, remote provisional answer.
    HaveRemotePranswer,
    /// Closed.
    Closed,
}

/// W3C `RTCPeerConnectionState`: the aggregate of ICE and DTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerConnectionState {
    /// Nothing started.
    New,
    /// ICE or DTLS under way.
    Connecting,
    /// ICE connected and DTLS connected.
    Connected,
    /// ICE lost its path for now.
    Disconnected,
    /// ICE or DTLS failed.
    Failed,
    /// `close()` was called.
    Closed,
}

/// A data channel as the application holds it: stable from `create_data_channel` on, while
/// the SCTP stream id is chosen only once the DTLS role is known (RFC 8832 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelRef(pub u32);

/// A transceiver: its index in creation order (stable, unlike the mid before negotiation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransceiverId(pub usize);

/// One whole frame received on a transceiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The codec it was sent with.
    pub codec: CodecName,
    /// The payload type.
    pub payload_type: u8,
    /// The frame (Annex-B for H.264).
    pub data: Vec<u8>,
    /// RTP timestamp.
    pub timestamp: u32,
    /// A key frame (always true for audio).
    pub keyframe: bool,
    /// Frames were lost before this one.
    pub discontinuity: bool,
}

/// Something for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `signalingstatechange`.
    SignalingState(SignalingState),
    /// `icegatheringstatechange`.
    IceGatheringState(IceGatheringState),
    /// `iceconnectionstatechange`.
    IceConnectionState(IceConnectionState),
    /// `connectionstatechange`.
    ConnectionState(PeerConnectionState),
    /// `icecandidate`: a local candidate to signal (trickle), or `None` for the end of
    /// candidates.
    IceCandidate(Option<IceCandidateInit>),
    /// `negotiationneeded`: call `create_offer`.
    NegotiationNeeded,
    /// The ICE pair data goes over (re)selected.
    SelectedPair {
        /// Our socket address.
        local: SocketAddr,
        /// The peer's.
        remote: SocketAddr,
    },
    /// DTLS is up (cipher, SRTP profile).
    DtlsConnected {
        /// IANA name of the cipher suite.
        cipher: String,
        /// The SRTP profile, if any.
        srtp_profile: Option<String>,
    },
    /// `datachannel`: the peer opened a channel.
    DataChannel(ChannelRef),
    /// A channel (ours or the peer's) is open.
    ChannelOpen(ChannelRef),
    /// A message on a channel.
    ChannelMessage {
        /// The channel.
        channel: ChannelRef,
        /// Text or binary.
        kind: MessageKind,
        /// The payload.
        data: Bytes,
    },
    /// `bufferedamountlow`.
    BufferedAmountLow(ChannelRef),
    /// The channel closed.
    ChannelClosed(ChannelRef),
    /// `track`: a transceiver will receive media (set at remote description time, as W3C
    /// fires it).
    Track {
        /// The transceiver.
        transceiver: TransceiverId,
        /// Its mid.
        mid: String,
        /// Audio or video.
        kind: MediaKind,
    },
    /// A whole frame arrived (sample builder output).
    Frame {
        /// The transceiver.
        transceiver: TransceiverId,
        /// The frame.
        frame: Frame,
    },
    /// An RTP packet arrived (decrypted; RTX already unwrapped), when
    /// [`crate::RtcConfig::raw_rtp`] is set.
    Rtp {
        /// The transceiver.
        transceiver: TransceiverId,
        /// The whole packet.
        packet: Vec<u8>,
    },
    /// The peer asked for a key frame (PLI or FIR) for what we send on this transceiver.
    KeyframeRequest {
        /// The transceiver.
        transceiver: TransceiverId,
    },
}
