//! TURN ChannelData messages (RFC 8656 §12): a 4-byte header (channel number, length) and
//! the application data, instead of a Send/Data indication's 36+ bytes.

use crate::bytes::{be16, pad4, put};
use crate::Error;

/// RFC 8656 §12: channel numbers 0x4000 through 0x4FFF.
pub const CHANNEL_NUMBERS: std::ops::RangeInclusive<u16> = 0x4000..=0x4FFF;

/// How the frame travels, which decides padding (RFC 8656 §12.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One frame per datagram; padding is not required but may be present.
    Udp,
    /// A stream of frames (TCP, TLS): each frame is padded to a multiple of 4 bytes.
    Stream,
}

/// A borrowed ChannelData frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelData<'a> {
    /// The channel number, 0x4000..=0x4FFF.
    pub channel: u16,
    /// The application data.
    pub data: &'a [u8],
}

impl<'a> ChannelData<'a> {
    /// Decodes one UDP datagram: the length field must fit the datagram, and at most 3
    /// padding bytes may follow the data.
    pub fn decode(datagram: &'a [u8]) -> Result<Self, Error> {
        let (frame, used) = Self::decode_prefix(datagram, Framing::Udp)?;
        if used != datagram.len() {
            return Err(Error::ChannelDataLength {
                declared: frame.data.len(),
                actual: datagram.len().saturating_sub(4),
            });
        }
        Ok(frame)
    }

    /// Decodes the frame at the front of `bytes` and returns it with the number of bytes it
    /// takes: over UDP the data plus whatever padding (at most 3 bytes) the datagram has;
    /// over a stream the data padded to 4 bytes (RFC 8656 §12.5).
    pub fn decode_prefix(bytes: &'a [u8], framing: Framing) -> Result<(Self, usize), Error> {
        let (Some(channel), Some(len)) = (be16(bytes, 0), be16(bytes, 2)) else {
            return Err(Error::TooShort { len: bytes.len() });
        };
        if !CHANNEL_NUMBERS.contains(&channel) {
            return Err(Error::BadChannelNumber { channel });
        }
        let len = usize::from(len);
        let actual = bytes.len() - 4;
        let data = bytes.get(4..4 + len).ok_or(Error::ChannelDataLength {
            declared: len,
            actual,
        })?;
        let used = match framing {
            Framing::Udp => bytes.len().min(4 + pad4(len)),
            Framing::Stream => {
                let used = 4 + pad4(len);
                if used > bytes.len() {
                    return Err(Error::ChannelDataLength {
                        declared: len,
                        actual,
                    });
                }
                used
            }
        };
        Ok((ChannelData { channel, data }, used))
    }

    /// Bytes [`ChannelData::encode`] writes.
    pub fn encoded_len(&self, framing: Framing) -> usize {
        match framing {
            Framing::Udp => 4 + self.data.len(),
            Framing::Stream => 4 + pad4(self.data.len()),
        }
    }

    /// Writes the frame into `out` and returns its length: unpadded for UDP, padded with
    /// zeros to 4 bytes for a stream (RFC 8656 §12.5).
    pub fn encode(&self, framing: Framing, out: &mut [u8]) -> Result<usize, Error> {
        if !CHANNEL_NUMBERS.contains(&self.channel) {
            return Err(Error::BadChannelNumber {
                channel: self.channel,
            });
        }
        let len = u16::try_from(self.data.len()).map_err(|_| Error::TooLong)?;
        let total = self.encoded_len(framing);
        if out.len() < total {
            return Err(Error::BufferTooSmall {
                needed: total,
                available: out.len(),
            });
        }
        put(out, 0, &self.channel.to_be_bytes())?;
        put(out, 2, &len.to_be_bytes())?;
        put(out, 4, self.data)?;
        if let Some(pad) = out.get_mut(4 + self.data.len()..total) {
            pad.fill(0);
        }
        Ok(total)
    }
}
