//! RFC 7983 §7: which protocol a datagram on a WebRTC 5-tuple belongs to, by its first byte.

/// What a datagram is, by its first byte (RFC 7983 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// 0..=3: STUN.
    Stun,
    /// 16..=19: ZRTP.
    Zrtp,
    /// 20..=63: DTLS.
    Dtls,
    /// 64..=79: TURN ChannelData.
    TurnChannelData,
    /// 128..=191: RTP or RTCP.
    Rtp,
    /// Anything else, or an empty datagram: drop it.
    Unknown,
}

/// Classifies a datagram by its first byte, as RFC 7983 §7 does:
///
/// ```text
///                 +----------------+
///                 |        [0..3] -+--> forward to STUN
///                 |                |
///                 |      [16..19] -+--> forward to ZRTP
///                 |                |
///     packet -->  |      [20..63] -+--> forward to DTLS
///                 |                |
///                 |      [64..79] -+--> forward to TURN Channel
///                 |                |
///                 |    [128..191] -+--> forward to RTP/RTCP
///                 +----------------+
/// ```
pub fn classify(datagram: &[u8]) -> PacketKind {
    match datagram.first() {
        Some(0..=3) => PacketKind::Stun,
        Some(16..=19) => PacketKind::Zrtp,
        Some(20..=63) => PacketKind::Dtls,
        Some(64..=79) => PacketKind::TurnChannelData,
        Some(128..=191) => PacketKind::Rtp,
        _ => PacketKind::Unknown,
    }
}
