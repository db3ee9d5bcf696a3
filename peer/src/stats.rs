//! `getStats()`: one report per object, with the W3C `RTCStatsType` names and the
//! webrtc-stats field names (in Rust case) where W3C has them.

use std::fmt::Write as _;

/// One stats object. `id` is stable across calls for the same object, as W3C asks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Stats {
    /// `transport`.
    Transport(TransportStats),
    /// `candidate-pair`.
    CandidatePair(CandidatePairStats),
    /// `local-candidate` (`remote: false`) or `remote-candidate`.
    Candidate(CandidateStats),
    /// `certificate`.
    Certificate(CertificateStats),
    /// `data-channel`.
    DataChannel(DataChannelStats),
    /// `inbound-rtp`.
    InboundRtp(InboundRtpStats),
    /// `outbound-rtp`.
    OutboundRtp(OutboundRtpStats),
    /// `remote-inbound-rtp`: what the peer's receiver reports say of what we send.
    RemoteInboundRtp(RemoteInboundRtpStats),
}

impl Stats {
    /// The W3C `type`.
    pub fn stats_type(&self) -> &'static str {
        match self {
            Stats::Transport(_) => "transport",
            Stats::CandidatePair(_) => "candidate-pair",
            Stats::Candidate(c) if c.remote => "remote-candidate",
            Stats::Candidate(_) => "local-candidate",
            Stats::Certificate(_) => "certificate",
            Stats::DataChannel(_) => "data-channel",
            Stats::InboundRtp(_) => "inbound-rtp",
            Stats::OutboundRtp(_) => "outbound-rtp",
            Stats::RemoteInboundRtp(_) => "remote-inbound-rtp",
        }
    }

    /// The W3C `id`.
    pub fn id(&self) -> &str {
        match self {
            Stats::Transport(s) => &s.id,
            Stats::CandidatePair(s) => &s.id,
            Stats::Candidate(s) => &s.id,
            Stats::Certificate(s) => &s.id,
            Stats::DataChannel(s) => &s.id,
            Stats::InboundRtp(s) => &s.id,
            Stats::OutboundRtp(s) => &s.id,
            Stats::RemoteInboundRtp(s) => &s.id,
        }
    }
}

/// `RTCTransportStats`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TransportStats {
    /// `id`.
    pub id: String,
    /// `packetsSent` (UDP datagrams).
    pub packets_sent: u64,
    /// `packetsReceived`.
    pub packets_received: u64,
    /// `bytesSent`.
    pub bytes_sent: u64,
    /// `bytesReceived`.
    pub bytes_received: u64,
    /// `iceRole`: `controlling` or `controlled`.
    pub ice_role: &'static str,
    /// `iceLocalUsernameFragment`.
    pub ice_local_username_fragment: String,
    /// `iceState`.
    pub ice_state: &'static str,
    /// `dtlsState`: new, connecting, connected, closed, failed.
    pub dtls_state: &'static str,
    /// `dtlsRole`: client, server or unknown.
    pub dtls_role: &'static str,
    /// `dtlsCipher` (IANA name).
    pub dtls_cipher: Option<String>,
    /// `srtpCipher`.
    pub srtp_cipher: Option<String>,
    /// `tlsVersion` (hex of the wire value, e.g. `FEFD` for DTLS 1.2).
    pub tls_version: Option<String>,
    /// `selectedCandidatePairId`.
    pub selected_candidate_pair_id: Option<String>,
    /// `localCertificateId`.
    pub local_certificate_id: String,
    /// `remoteCertificateId`.
    pub remote_certificate_id: Option<String>,
    /// Not in W3C: the SCTP packet size the data channels use, once the association runs:
    /// the path MTU discovery result (RFC 8899) with weft's SCTP engine, the fixed size
    /// with sctp-proto. DTLS, UDP and IP headers come on top.
    pub sctp_packet_size: Option<u32>,
}

/// `RTCIceCandidatePairStats`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CandidatePairStats {
    /// `id`.
    pub id: String,
    /// `transportId`.
    pub transport_id: String,
    /// `localCandidateId`.
    pub local_candidate_id: String,
    /// `remoteCandidateId`.
    pub remote_candidate_id: String,
    /// `state`: frozen, waiting, in-progress, succeeded, failed.
    pub state: &'static str,
    /// `nominated`.
    pub nominated: bool,
    /// `priority`.
    pub priority: u64,
}

/// `RTCIceCandidateStats`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CandidateStats {
    /// `id`.
    pub id: String,
    /// `remote-candidate` rather than `local-candidate`.
    pub remote: bool,
    /// `transportId`.
    pub transport_id: String,
    /// `address`.
    pub address: String,
    /// `port`.
    pub port: u16,
    /// `protocol`: `udp`.
    pub protocol: &'static str,
    /// `candidateType`: host, srflx, prflx, relay.
    pub candidate_type: &'static str,
    /// `priority`.
    pub priority: u32,
    /// `foundation`.
    pub foundation: String,
}

/// `RTCCertificateStats`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CertificateStats {
    /// `id`.
    pub id: String,
    /// `fingerprint` (upper-case hex pairs joined by colons).
    pub fingerprint: String,
    /// `fingerprintAlgorithm`.
    pub fingerprint_algorithm: String,
    /// `base64Certificate` (DER, standard base64).
    pub base64_certificate: String,
}

/// `RTCDataChannelStats`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataChannelStats {
    /// `id`.
    pub id: String,
    /// `label`.
    pub label: String,
    /// `protocol`.
    pub protocol: String,
    /// `dataChannelIdentifier` (the SCTP stream id, once known).
    pub data_channel_identifier: Option<u16>,
    /// `state`: connecting, open, closing, closed.
    pub state: &'static str,
    /// `messagesSent`.
    pub messages_sent: u64,
    /// `bytesSent`.
    pub bytes_sent: u64,
    /// `messagesReceived`.
    pub messages_received: u64,
    /// `bytesReceived`.
    pub bytes_received: u64,
}

/// `RTCInboundRtpStreamStats`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InboundRtpStats {
    /// `id`.
    pub id: String,
    /// `ssrc`.
    pub ssrc: u32,
    /// `kind`: audio or video.
    pub kind: &'static str,
    /// `mid`.
    pub mid: Option<String>,
    /// `transportId`.
    pub transport_id: String,
    /// `codecId`-less: the MIME type (`video/VP8`).
    pub mime_type: String,
    /// `packetsReceived`.
    pub packets_received: u64,
    /// `bytesReceived` (payload).
    pub bytes_received: u64,
    /// `packetsLost` (RFC 3550 cumulative).
    pub packets_lost: i64,
    /// `jitter`, seconds.
    pub jitter: f64,
    /// `framesReceived` (whole frames out of the sample builder).
    pub frames_received: u64,
    /// `keyFramesReceived` (weft's count; W3C has `keyFramesDecoded` for decoders).
    pub key_frames_received: u64,
    /// `nackCount`: NACK packets sent.
    pub nack_count: u64,
}

/// `RTCOutboundRtpStreamStats`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutboundRtpStats {
    /// `id`.
    pub id: String,
    /// `ssrc`.
    pub ssrc: u32,
    /// `kind`.
    pub kind: &'static str,
    /// `mid`.
    pub mid: Option<String>,
    /// `transportId`.
    pub transport_id: String,
    /// `packetsSent`.
    pub packets_sent: u64,
    /// `bytesSent` (payload).
    pub bytes_sent: u64,
    /// `framesSent` (frames handed to `write_frame`).
    pub frames_sent: u64,
    /// `retransmittedPacketsSent` (answers to NACKs).
    pub retransmitted_packets_sent: u64,
    /// `nackCount`: NACKs received.
    pub nack_count: u64,
    /// `pliCount`.
    pub pli_count: u64,
    /// `firCount`.
    pub fir_count: u64,
    /// `remoteId`: the matching `remote-inbound-rtp`, once the peer reported.
    pub remote_id: Option<String>,
}

/// `RTCRemoteInboundRtpStreamStats`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemoteInboundRtpStats {
    /// `id`.
    pub id: String,
    /// `ssrc`.
    pub ssrc: u32,
    /// `kind`.
    pub kind: &'static str,
    /// `localId`: our `outbound-rtp`.
    pub local_id: String,
    /// `packetsLost`.
    pub packets_lost: i64,
    /// `fractionLost` (0..1).
    pub fraction_lost: f64,
    /// `jitter`, seconds.
    pub jitter: f64,
    /// `roundTripTime`, seconds (RFC 3550 §6.4.1 from LSR/DLSR), when measured.
    pub round_trip_time: Option<f64>,
}

/// Standard base64 with padding (RFC 4648 §4), for `base64Certificate`.
pub(crate) fn base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Upper-case hex pairs joined by colons.
pub(crate) fn hex_colon(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{x:02X}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        // RFC 4648 §10.
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
