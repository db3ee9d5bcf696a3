//! Transceivers: what one audio or video media section sends and receives.

use std::time::Instant;

use weft_rtp::codec::{
    av1::{Av1Depacketizer, Av1Packetizer},
    g711::{G711Depacketizer, G711Packetizer},
    h264::{H264Depacketizer, H264Packetizer},
    opus::{OpusDepacketizer, OpusPacketizer},
    vp8::{Vp8Depacketizer, Vp8Packetizer},
    vp9::{Vp9Depacketizer, Vp9Packetizer},
    Depacketizer, Error as CodecError, Packetizer,
};
use weft_rtp::nack::{NackConfig, NackGenerator, NackResponder, NackResponderConfig};
use weft_rtp::sample::{SampleBuilder, SampleBuilderConfig};
use weft_rtp::stats::ReceiverStats;
use weft_sdp::Direction;

use crate::codec::{Codec, CodecName, MediaKind};

/// RFC 9143 §15.2: the MID header extension, how BUNDLE tells media sections apart when
/// SSRCs are not signalled.
pub const MID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";

/// `$body` with `$d` bound to whichever depacketizer `$e` holds.
macro_rules! any_depacketizer {
    ($e:expr, $d:ident => $body:expr) => {
        match $e {
            AnyDepacketizer::Opus($d) => $body,
            AnyDepacketizer::G711($d) => $body,
            AnyDepacketizer::Vp8($d) => $body,
            AnyDepacketizer::Vp9($d) => $body,
            AnyDepacketizer::H264($d) => $body,
            AnyDepacketizer::Av1($d) => $body,
        }
    };
}

/// A depacketizer for any codec weft knows, chosen at run time.
#[derive(Debug, Clone)]
pub(crate) enum AnyDepacketizer {
    Opus(OpusDepacketizer),
    G711(G711Depacketizer),
    Vp8(Vp8Depacketizer),
    Vp9(Vp9Depacketizer),
    H264(H264Depacketizer),
    Av1(Av1Depacketizer),
}

impl AnyDepacketizer {
    pub(crate) fn new(name: CodecName) -> AnyDepacketizer {
        match name {
            CodecName::Opus => AnyDepacketizer::Opus(OpusDepacketizer),
            CodecName::Pcmu | CodecName::Pcma => AnyDepacketizer::G711(G711Depacketizer),
            CodecName::Vp8 => AnyDepacketizer::Vp8(Vp8Depacketizer::default()),
            CodecName::Vp9 => AnyDepacketizer::Vp9(Vp9Depacketizer::default()),
            CodecName::H264 => AnyDepacketizer::H264(H264Depacketizer::default()),
            CodecName::Av1 => AnyDepacketizer::Av1(Av1Depacketizer::default()),
        }
    }

    fn inner(&self) -> &dyn Depacketizer {
        any_depacketizer!(self, d => d)
    }

    fn inner_mut(&mut self) -> &mut dyn Depacketizer {
        any_depacketizer!(self, d => d)
    }
}

impl Depacketizer for AnyDepacketizer {
    fn push(&mut self, payload: &[u8], marker: bool) -> Result<Option<Vec<u8>>, CodecError> {
        self.inner_mut().push(payload, marker)
    }
    fn starts_frame(&self, payload: &[u8]) -> Option<bool> {
        self.inner().starts_frame(payload)
    }
    fn is_keyframe(&self, payload: &[u8]) -> bool {
        self.inner().is_keyframe(payload)
    }
    fn payload_is_frame(&self) -> bool {
        self.inner().payload_is_frame()
    }
}

pub(crate) fn packetizer(name: CodecName) -> Box<dyn Packetizer + Send> {
    match name {
        CodecName::Opus => Box::new(OpusPacketizer),
        CodecName::Pcmu | CodecName::Pcma => Box::new(G711Packetizer),
        CodecName::Vp8 => Box::new(Vp8Packetizer::default()),
        CodecName::Vp9 => Box::new(Vp9Packetizer::default()),
        CodecName::H264 => Box::new(H264Packetizer::default()),
        CodecName::Av1 => Box::new(Av1Packetizer::default()),
    }
}

/// The receiving side of one remote source.
pub(crate) struct Receiver {
    pub ssrc: u32,
    pub payload_type: u8,
    pub codec: CodecName,
    pub builder: SampleBuilder<AnyDepacketizer>,
    pub stats: ReceiverStats,
    /// RFC 4585 §6.2.1: asks for lost packets, when the codec has `nack` feedback.
    pub nack: Option<NackGenerator>,
    pub packets: u64,
    pub bytes: u64,
    pub frames: u64,
    pub keyframes: u64,
    /// NACK packets sent for this source.
    pub nacks_sent: u64,
    /// The FIR command sequence number (RFC 5104 §4.3.1.1).
    pub fir_seq: u8,
}

impl Receiver {
    pub(crate) fn new(ssrc: u32, codec: &Codec) -> Receiver {
        let video = codec.name.kind() == MediaKind::Video;
        let config = SampleBuilderConfig {
            keyframe_required: video,
            // Time for a NACK and its retransmission, and one retry, on a WAN path.
            max_wait: if video {
                std::time::Duration::from_millis(300)
            } else {
                std::time::Duration::from_millis(100)
            },
            ..SampleBuilderConfig::default()
        };
        let nack = codec
            .feedback
            .iter()
            .any(|f| f == "nack")
            .then(|| NackGenerator::new(NackConfig::default()));
        Receiver {
            ssrc,
            payload_type: codec.payload_type,
            codec: codec.name,
            builder: SampleBuilder::new(AnyDepacketizer::new(codec.name), config),
            stats: ReceiverStats::new(ssrc, codec.clock_rate),
            nack,
            packets: 0,
            bytes: 0,
            frames: 0,
            keyframes: 0,
            nacks_sent: 0,
            fir_seq: 0,
        }
    }
}

/// The sending side.
pub(crate) struct Sender {
    pub ssrc: u32,
    pub rtx_ssrc: u32,
    pub seq: u16,
    pub rtx_seq: u16,
    pub packetizer: Option<(CodecName, Box<dyn Packetizer + Send>)>,
    pub nack: NackResponder,
    pub packets: u64,
    pub bytes: u64,
    pub frames: u64,
    /// (RTP timestamp, when) of the last packet, for sender reports.
    pub last: Option<(u32, Instant)>,
    /// RTCP feedback received: NACK, PLI and FIR packets; packets resent.
    pub nacks: u64,
    pub plis: u64,
    pub firs: u64,
    pub retransmitted: u64,
    /// The peer's last report block on this source, and the round-trip time it gave.
    pub remote_report: Option<(weft_rtp::rtcp::ReportBlock, Option<std::time::Duration>)>,
}

/// One transceiver (W3C `RTCRtpTransceiver`).
pub(crate) struct Transceiver {
    pub kind: MediaKind,
    pub mid: Option<String>,
    /// What the application asked for.
    pub direction: Direction,
    /// What the last answer settled.
    pub current_direction: Option<Direction>,
    /// Offered (ours) until negotiated, then the negotiated list.
    pub codecs: Vec<Codec>,
    /// The negotiated MID extension id.
    pub mid_ext: Option<u8>,
    pub stream_id: String,
    pub track_id: String,
    pub sender: Sender,
    /// SSRCs the remote signalled for this section (media and RTX), and RTX pairs.
    pub remote_ssrcs: Vec<u32>,
    pub remote_rtx: Vec<(u32, u32)>,
    pub receivers: Vec<Receiver>,
    pub track_fired: bool,
    pub stopped: bool,
}

impl Transceiver {
    pub(crate) fn new(
        kind: MediaKind,
        direction: Direction,
        codecs: Vec<Codec>,
        ids: [u32; 4],
        stream_id: String,
        track_id: String,
    ) -> Transceiver {
        Transceiver {
            kind,
            mid: None,
            direction,
            current_direction: None,
            codecs,
            mid_ext: None,
            stream_id,
            track_id,
            sender: Sender {
                ssrc: ids[0],
                rtx_ssrc: ids[1],
                seq: ids[2] as u16,
                rtx_seq: ids[3] as u16,
                packetizer: None,
                nack: NackResponder::new(NackResponderConfig::default()),
                packets: 0,
                bytes: 0,
                frames: 0,
                last: None,
                nacks: 0,
                plis: 0,
                firs: 0,
                retransmitted: 0,
                remote_report: None,
            },
            remote_ssrcs: Vec::new(),
            remote_rtx: Vec::new(),
            receivers: Vec::new(),
            track_fired: false,
            stopped: false,
        }
    }

    /// Whether we send, by the negotiated direction.
    pub(crate) fn sends(&self) -> bool {
        matches!(
            self.current_direction,
            Some(Direction::SendRecv | Direction::SendOnly)
        )
    }

    /// Whether we receive, by the negotiated direction.
    pub(crate) fn receives(&self) -> bool {
        matches!(
            self.current_direction,
            Some(Direction::SendRecv | Direction::RecvOnly)
        )
    }

    /// The codec of a payload type.
    pub(crate) fn codec(&self, pt: u8) -> Option<&Codec> {
        self.codecs.iter().find(|c| c.payload_type == pt)
    }

    /// The media codec whose RTX payload type this is.
    pub(crate) fn codec_of_rtx(&self, pt: u8) -> Option<&Codec> {
        self.codecs.iter().find(|c| c.rtx == Some(pt))
    }
}

/// The direction an answer gives (RFC 8829 §5.3.1; RFC 3264 §6.1): we send only if we
/// want to and the offerer receives; we receive only if we want to and the offerer sends.
pub(crate) fn answer_direction(ours: Direction, offered: Direction) -> Direction {
    let send = can_send(ours) && can_recv(offered);
    let recv = can_recv(ours) && can_send(offered);
    from_flags(send, recv)
}

pub(crate) fn can_send(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::SendOnly)
}

pub(crate) fn can_recv(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::RecvOnly)
}

pub(crate) fn from_flags(send: bool, recv: bool) -> Direction {
    match (send, recv) {
        (true, true) => Direction::SendRecv,
        (true, false) => Direction::SendOnly,
        (false, true) => Direction::RecvOnly,
        (false, false) => Direction::Inactive,
    }
}

/// The direction seen from the other side.
pub(crate) fn reverse(d: Direction) -> Direction {
    from_flags(can_recv(d), can_send(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_directions_follow_rfc3264() {
        use Direction::*;
        assert_eq!(answer_direction(SendRecv, SendRecv), SendRecv);
        assert_eq!(answer_direction(SendRecv, SendOnly), RecvOnly);
        assert_eq!(answer_direction(SendRecv, RecvOnly), SendOnly);
        assert_eq!(answer_direction(RecvOnly, RecvOnly), Inactive);
        assert_eq!(answer_direction(SendOnly, Inactive), Inactive);
        assert_eq!(reverse(SendOnly), RecvOnly);
    }
}
