//! G.722 (payload type 9, RFC 3551 §4.5.2): one octet per two 16 kHz samples, so a frame
//! splits at any octet. The RTP clock is 8000 Hz although the sampling rate is 16 kHz
//! (RFC 3551 §4.5.2), so the timestamp advances by one per octet.

use super::{depacketize_audio, packetize_audio, Depacketizer, Error, Packetizer};

/// Splits G.722 octets into payloads of at most `mtu` octets.
#[derive(Debug, Clone, Default)]
pub struct G722Packetizer;

impl Packetizer for G722Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<(), Error> {
        packetize_audio(frame, mtu, true, emit)
    }
}

/// Every non-empty payload is a run of G.722 octets; the marker is ignored.
#[derive(Debug, Clone, Default)]
pub struct G722Depacketizer;

impl Depacketizer for G722Depacketizer {
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
