//! The picture size a VP8 key frame states in its header (RFC 6386 §9.1, §19.1).

// Parses bytes from the network: no indexing that can panic (STYLE.md habit 4).
#![deny(clippy::indexing_slicing)]

/// Width and height of a VP8 key frame, or `None` for an inter frame or a frame too short
/// or without the key frame start code.
///
/// RFC 6386 §9.1: a frame starts with a 3-byte tag whose lowest bit is 0 for a key frame;
/// a key frame follows it with the start code `9d 01 2a`, then two 16-bit little-endian
/// fields whose low 14 bits are the width and the height (the top 2 bits are the scaling
/// of §9.1, not part of the size).
pub fn key_frame_size(frame: &[u8]) -> Option<(u16, u16)> {
    let tag = *frame.first()?;
    // RFC 6386 §9.1: "key_frame: 1 bit ... 0 for key frames".
    if tag & 1 != 0 {
        return None;
    }
    let header = frame.get(3..10)?;
    if header.get(..3)? != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let field = |i: usize| -> Option<u16> {
        let lo = *header.get(i)?;
        let hi = *header.get(i + 1)?;
        Some(u16::from_le_bytes([lo, hi]) & 0x3fff)
    };
    let (w, h) = (field(3)?, field(5)?);
    if w == 0 || h == 0 {
        return None;
    }
    Some((w, h))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn rfc6386_key_frame_header() {
        // Tag: key frame, version 0, show_frame, first partition size; start code; 640x480
        // with scale bits set on the width (they are not part of the size).
        let mut f = vec![0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a];
        f.extend_from_slice(&(640u16 | 0x4000).to_le_bytes());
        f.extend_from_slice(&480u16.to_le_bytes());
        f.extend_from_slice(&[0; 16]);
        assert_eq!(key_frame_size(&f), Some((640, 480)));
    }

    #[test]
    fn inter_frames_and_short_input() {
        assert_eq!(key_frame_size(&[]), None);
        assert_eq!(
            key_frame_size(&[0x51, 0, 0, 0x9d, 0x01, 0x2a, 1, 0, 1, 0]),
            None
        );
        assert_eq!(
            key_frame_size(&[0x50, 0, 0, 0x9d, 0x01, 0x2a, 1, 0, 1]),
            None
        );
        assert_eq!(
            key_frame_size(&[0x50, 0, 0, 0x9d, 0x01, 0x2b, 1, 0, 1, 0]),
            None
        );
    }
}
