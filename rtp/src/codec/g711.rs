//! G.711 µ-law (PCMU, payload type 0) and A-law (PCMA, 8) (RFC 3551 §4.5.14): one octet per
//! sample, so a frame splits anywhere.

use super::{depacketize_audio, packetize_audio, Depacketizer, Error, Packetizer};

/// Splits a run of G.711 samples into payloads of at most `mtu` samples. The caller advances
/// the RTP timestamp by the payload length (8 kHz, one sample per octet, RFC 3551 §4.5.14).
#[derive(Debug, Clone, Default)]
pub struct G711Packetizer;

impl Packetizer for G711Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<(), Error> {
        packetize_audio(frame, mtu, true, emit)
    }
}

/// Every non-empty payload is a run of samples; the marker is ignored.
#[derive(Debug, Clone, Default)]
pub struct G711Depacketizer;

impl Depacketizer for G711Depacketizer {
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
