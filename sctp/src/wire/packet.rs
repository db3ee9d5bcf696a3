//! The common header and the packet: parse with the checksum checked, write with it filled.

use super::chunk::{self, Chunk, RawChunk};
use super::{Context, Reader, WireBuf, WireError};

/// Bytes of the common header (RFC 9260 §3.1).
pub const HEADER_LEN: usize = 12;

/// The common header (RFC 9260 §3.1).
///
/// `checksum` holds the CRC32c as a number: the field carries it least significant byte
/// first (RFC 9260 Appendix A; the CRC's bit order), so it reads as a little-endian `u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommonHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Verification tag (RFC 9260 §8.5).
    pub verification_tag: u32,
    /// The checksum field, as the CRC32c value it carries.
    pub checksum: u32,
}

impl CommonHeader {
    /// Reads the first 12 bytes of a packet.
    pub fn parse(bytes: &[u8]) -> Result<CommonHeader, WireError> {
        if bytes.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                ctx: Context::Header,
                at: 0,
                need: HEADER_LEN,
                have: bytes.len(),
            });
        }
        let mut r = Reader::new(bytes, 0, Context::Header);
        Ok(CommonHeader {
            src_port: r.u16()?,
            dst_port: r.u16()?,
            verification_tag: r.u32()?,
            checksum: u32::from_le_bytes(r.array()?),
        })
    }

    /// Appends the header.
    pub fn emit<B: WireBuf>(&self, out: &mut B) {
        out.put(&self.src_port.to_be_bytes());
        out.put(&self.dst_port.to_be_bytes());
        out.put(&self.verification_tag.to_be_bytes());
        out.put(&self.checksum.to_le_bytes());
    }
}

/// How [`Packet::parse`] treats the checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// RFC 9653 §5: once both ends declared Zero Checksum Acceptable with the same error
    /// detection method (for WebRTC, DTLS), a checksum field of 0 is valid without a
    /// CRC32c. A non-zero checksum is still checked.
    pub accept_zero_checksum: bool,
}

/// The CRC32c of a packet with its checksum field taken as zero (RFC 9260 Appendix A).
/// Shorter input than the header is summed as it is.
pub fn checksum(packet: &[u8]) -> u32 {
    match (packet.get(..8), packet.get(HEADER_LEN..)) {
        (Some(head), Some(tail)) => {
            let crc = crc32c::crc32c_append(0, head);
            let crc = crc32c::crc32c_append(crc, &[0; 4]);
            crc32c::crc32c_append(crc, tail)
        }
        _ => crc32c::crc32c(packet),
    }
}

/// Checks the checksum field: the CRC32c, or 0 where `options` accept it.
pub fn verify_checksum(packet: &[u8], options: &ParseOptions) -> Result<(), WireError> {
    let header = CommonHeader::parse(packet)?;
    if header.checksum == 0 && options.accept_zero_checksum {
        // RFC 9653 §5: a zero checksum is accepted once negotiated.
        return Ok(());
    }
    let computed = checksum(packet);
    if computed == header.checksum {
        Ok(())
    } else if header.checksum == 0 {
        Err(WireError::ZeroChecksumNotAccepted)
    } else {
        Err(WireError::BadChecksum {
            received: header.checksum,
            computed,
        })
    }
}

/// What [`fill_checksum`] and [`PacketWriter::finish`] put in the checksum field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// The CRC32c (RFC 9260 Appendix A).
    Crc32c,
    /// Zero (RFC 9653 §5), only once the peer declared it acceptable. RFC 9653 keeps the
    /// CRC32c on packets with INIT (the feature is not agreed yet); the caller chooses.
    Zero,
}

/// Writes the checksum field of a whole packet; does nothing to input shorter than the
/// header.
pub fn fill_checksum(packet: &mut [u8], how: Checksum) {
    let value = match how {
        Checksum::Crc32c => checksum(packet),
        Checksum::Zero => 0,
    };
    if let Some(field) = packet.get_mut(8..HEADER_LEN) {
        field.copy_from_slice(&value.to_le_bytes());
    }
}

/// A parsed SCTP packet, borrowing the input: the header, and chunks whose framing (type,
/// flags, length, padding) has been checked; each chunk's body is read when asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    header: CommonHeader,
    /// Everything after the common header.
    chunks: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Checks the header, the checksum and the chunk framing. Allocates nothing.
    pub fn parse(bytes: &'a [u8], options: &ParseOptions) -> Result<Packet<'a>, WireError> {
        let header = CommonHeader::parse(bytes)?;
        verify_checksum(bytes, options)?;
        Packet::parse_unverified(bytes, header)
    }

    /// As [`parse`](Self::parse) without looking at the checksum (for a caller that has
    /// checked it, or a tool that shows broken packets).
    pub fn parse_without_checksum(bytes: &'a [u8]) -> Result<Packet<'a>, WireError> {
        let header = CommonHeader::parse(bytes)?;
        Packet::parse_unverified(bytes, header)
    }

    fn parse_unverified(bytes: &'a [u8], header: CommonHeader) -> Result<Packet<'a>, WireError> {
        let chunks = bytes.get(HEADER_LEN..).unwrap_or(&[]);
        if chunks.is_empty() {
            return Err(WireError::NoChunks);
        }
        let mut pos = 0;
        while let Some((_, next)) = chunk::next_chunk(chunks, pos)? {
            pos = next;
        }
        Ok(Packet { header, chunks })
    }

    /// The common header.
    pub fn header(&self) -> &CommonHeader {
        &self.header
    }

    /// The chunks in order; their framing was checked by `parse`.
    pub fn chunks(&self) -> Chunks<'a> {
        Chunks {
            buf: self.chunks,
            pos: 0,
        }
    }

    /// The bytes after the common header.
    pub fn chunk_bytes(&self) -> &'a [u8] {
        self.chunks
    }
}

/// The chunks of a [`Packet`].
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = RawChunk<'a>;

    fn next(&mut self) -> Option<RawChunk<'a>> {
        match chunk::next_chunk(self.buf, self.pos) {
            Ok(Some((chunk, next))) => {
                self.pos = next;
                Some(chunk)
            }
            // The framing was checked in `Packet::parse`; an error cannot come here.
            _ => {
                self.pos = self.buf.len();
                None
            }
        }
    }
}

/// Writes one packet into a caller's buffer: the header, then chunks, then the checksum.
///
/// ```
/// use weft_sctp::wire::{Checksum, Chunk, CommonHeader, PacketWriter};
/// let mut out = Vec::new();
/// let header = CommonHeader { src_port: 5000, dst_port: 5000, verification_tag: 7, checksum: 0 };
/// let mut w = PacketWriter::new(&mut out, &header);
/// w.chunk(&Chunk::CookieAck).unwrap();
/// w.finish(Checksum::Crc32c);
/// assert_eq!(out.len(), 16);
/// ```
pub struct PacketWriter<'b, B: WireBuf> {
    out: &'b mut B,
    start: usize,
}

impl<'b, B: WireBuf> PacketWriter<'b, B> {
    /// Appends the header (checksum zero until [`finish`](Self::finish)).
    pub fn new(out: &'b mut B, header: &CommonHeader) -> PacketWriter<'b, B> {
        let start = out.written().len();
        CommonHeader {
            checksum: 0,
            ..*header
        }
        .emit(out);
        PacketWriter { out, start }
    }

    /// Appends a chunk.
    pub fn chunk(&mut self, chunk: &Chunk<'_>) -> Result<(), WireError> {
        chunk.emit(self.out)
    }

    /// Appends a chunk as it came: type, flags and value.
    pub fn raw_chunk(&mut self, chunk: &RawChunk<'_>) -> Result<(), WireError> {
        chunk.emit(self.out)
    }

    /// The buffer, to append with [`write_chunk`](super::write_chunk) and the typed
    /// writers.
    pub fn buf(&mut self) -> &mut B {
        self.out
    }

    /// Bytes of the packet so far.
    pub fn len(&self) -> usize {
        self.out.written().len().saturating_sub(self.start)
    }

    /// Whether nothing has been written (never: the header is there from the start).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills the checksum; returns the packet's length.
    pub fn finish(self, how: Checksum) -> usize {
        let start = self.start;
        if let Some(packet) = self.out.written_mut().get_mut(start..) {
            fill_checksum(packet, how);
            packet.len()
        } else {
            0
        }
    }
}
