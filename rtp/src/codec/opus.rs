//! Opus (RFC 7587): the payload is one Opus packet, never split.

use super::{depacketize_audio, packetize_audio, Depacketizer, Error, Packetizer};

/// One Opus packet per RTP payload (RFC 7587 §4.2). A packet larger than `mtu` is
/// [`Error::FrameTooLarge`]: Opus has no fragmentation.
#[derive(Debug, Clone, Default)]
pub struct OpusPacketizer;

impl Packetizer for OpusPacketizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<(), Error> {
        packetize_audio(frame, mtu, false, emit)
    }
}

/// Every non-empty payload is one Opus packet; the marker is ignored.
#[derive(Debug, Clone, Default)]
pub struct OpusDepacketizer;

impl Depacketizer for OpusDepacketizer {
    fn push(&mut self, payload: &[u8], _marker: bool) -> Result<Option<Vec<u8>>, Error> {
        depacketize_audio(payload)
    }

    fn starts_frame(&self, _payload: &[u8]) -> Option<bool> {
        Some(true)
    }

    fn is_keyframe(&self, _payload: &[u8]) -> bool {
        true
    }

    fn payload_is_frame(&self) -> bool {
        true
    }
}
