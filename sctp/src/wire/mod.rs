//! The SCTP wire format of weft's own association engine (issue 12), under construction:
//! the engine itself does not exist yet, and [`Association`](crate::Association) still runs
//! on sctp-proto. This module is its foundation, usable on its own.
//!
//! - [`Packet`]: the common header (RFC 9260 §3.1) and a zero-copy view of the chunks,
//!   with the CRC32c checked (RFC 9260 Appendix A) or, once negotiated, a zero checksum
//!   accepted (RFC 9653).
//! - [`RawChunk`] → [`Chunk`]: typed views of every chunk weft's engine needs: DATA, INIT,
//!   INIT ACK, SACK, HEARTBEAT (ACK), ABORT, SHUTDOWN (ACK, COMPLETE), ERROR, COOKIE ECHO
//!   and ACK, ECNE, CWR (RFC 9260 §3.3), FORWARD TSN (RFC 3758 §3.2), I-DATA and
//!   I-FORWARD-TSN (RFC 8260 §2), RE-CONFIG (RFC 6525 §3.1), PAD (RFC 4820); any other
//!   type as [`Chunk::Unknown`] with its [`Action`] (RFC 9260 §3.2).
//! - [`Param`] and [`Cause`]: the parameters of INIT, INIT ACK, HEARTBEAT and RE-CONFIG,
//!   and the error causes of ABORT and ERROR (RFC 9260 §3.3.10).
//! - Writers: [`PacketWriter`] appends chunks to a caller's buffer ([`WireBuf`]: `Vec<u8>`
//!   or `BytesMut`) and fills the checksum; [`write_chunk`], [`write_param`] and
//!   [`write_cause`] fill in lengths and padding after the body is written.
//!
//! ## Contract on hostile input
//! Parsing never panics, never allocates, and checks every length: the chunk walk (length
//! below 4, past the end of the packet), each typed body (fixed sizes, counts against the
//! length), and each parameter or error cause inside it. A failure is a [`WireError`]
//! naming what was malformed and its byte offset in the packet. Padding bytes are
//! ignored, as RFC 9260 §3.2 requires; a final chunk or parameter whose padding is
//! missing is accepted. Reserved bits and flags a chunk does not define are ignored on
//! parse and written as zero.
//!
//! ## Not covered
//! The rules about which chunks may share a packet (RFC 9260 §6.10: INIT, INIT ACK and
//! SHUTDOWN COMPLETE alone; the verification tag rules of §8.5), which parameters are
//! mandatory, and what to answer: those belong to the engine. AUTH (RFC 4895) and ASCONF
//! (RFC 5061) chunks and their parameters, and the adaptation layer indication, are read
//! as unknown. Nested TLVs (the parameter inside Unrecognized Parameter, the chunk inside
//! Unrecognized Chunk Type) are left as bytes; [`Params::parse`] reads the former.

#![deny(clippy::indexing_slicing)]

mod chunk;
mod packet;
mod param;

use std::fmt;

pub use chunk::{
    chunk_type, write_chunk, Abort, Chunk, Data, ForwardTsn, GapBlock, IData, IForwardTsn,
    IForwardTsnEntry, Init, List, ListItem, ListIter, RawChunk, Sack, StreamSsn,
};
pub use packet::{
    checksum, fill_checksum, verify_checksum, Checksum, Chunks, CommonHeader, Packet, PacketWriter,
    ParseOptions, HEADER_LEN,
};
pub use param::{
    cause_code, param_type, write_cause, write_param, write_params, Cause, Causes, CausesIter,
    Param, Params, ParamsIter, ZERO_CHECKSUM_EDMID_DTLS,
};

/// What a receiver does with a chunk or parameter type it does not know, from the upper
/// two bits of the type (RFC 9260 §3.2 for chunks, §3.2.1 for parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `00`: stop processing; discard the packet (chunk) or the chunk (parameter).
    Stop,
    /// `01`: as `Stop`, and report it (ERROR with Unrecognized Chunk Type, or
    /// Unrecognized Parameter).
    StopAndReport,
    /// `10`: skip it and continue.
    Skip,
    /// `11`: skip it, continue, and report it.
    SkipAndReport,
}

impl Action {
    /// The action the upper two bits of a type's high byte say.
    pub fn from_high_byte(byte: u8) -> Action {
        match byte >> 6 {
            0 => Action::Stop,
            1 => Action::StopAndReport,
            2 => Action::Skip,
            _ => Action::SkipAndReport,
        }
    }

    /// Whether processing stops here.
    pub fn stops(self) -> bool {
        matches!(self, Action::Stop | Action::StopAndReport)
    }

    /// Whether the peer is told.
    pub fn reports(self) -> bool {
        matches!(self, Action::StopAndReport | Action::SkipAndReport)
    }
}

/// Which structure a [`WireError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Context {
    /// The common header (RFC 9260 §3.1).
    Header,
    /// A chunk, by type.
    Chunk(u8),
    /// A parameter, by type.
    Param(u16),
    /// An error cause, by code.
    Cause(u16),
}

/// A malformed packet, or a value too large to write. Offsets (`at`) count from the first
/// byte of the packet (of the buffer given, for [`Params::parse`] and [`Causes::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// Fewer bytes remain than the structure at `at` needs.
    Truncated {
        /// What was being read.
        ctx: Context,
        /// Where it starts.
        at: usize,
        /// Bytes it needs (its header, or the length it claims).
        need: usize,
        /// Bytes there are.
        have: usize,
    },
    /// A length field below the structure's minimum (a chunk length below 4, a DATA chunk
    /// shorter than its header ...).
    TooShort {
        /// What was being read.
        ctx: Context,
        /// Where it starts.
        at: usize,
        /// The length it gives.
        len: usize,
        /// The least it may be.
        min: usize,
    },
    /// A length field the structure contradicts: a fixed-size value of another size, a
    /// list not a whole number of entries, SACK counts that do not add up.
    BadLength {
        /// What was being read.
        ctx: Context,
        /// Where it starts.
        at: usize,
        /// The length it gives.
        len: usize,
    },
    /// The packet has no chunk (RFC 9260 §3: a packet carries one or more).
    NoChunks,
    /// The CRC32c does not match (RFC 9260 §6.8: discard the packet silently).
    BadChecksum {
        /// The value in the packet.
        received: u32,
        /// The CRC32c of the packet.
        computed: u32,
    },
    /// A zero checksum, which this association has not agreed to accept (RFC 9653 §5).
    ZeroChecksumNotAccepted,
    /// Writing: a chunk or parameter longer than its 16-bit length field can say.
    TooLong {
        /// What was being written.
        ctx: Context,
        /// Its length.
        len: usize,
    },
}

impl WireError {
    /// The error cause a receiver may send back for this (RFC 9260 §3.3.10), if any.
    /// Checksum failures are dropped silently (RFC 9260 §6.8); a malformed chunk is a
    /// Protocol Violation (§3.3.10.13); a malformed parameter is Invalid Mandatory
    /// Parameter (§3.3.10.7).
    pub fn cause_code(&self) -> Option<u16> {
        match self {
            WireError::BadChecksum { .. }
            | WireError::ZeroChecksumNotAccepted
            | WireError::NoChunks
            | WireError::TooLong { .. } => None,
            WireError::Truncated { ctx, .. }
            | WireError::TooShort { ctx, .. }
            | WireError::BadLength { ctx, .. } => match ctx {
                Context::Param(_) => Some(cause_code::INVALID_MANDATORY_PARAMETER),
                _ => Some(cause_code::PROTOCOL_VIOLATION),
            },
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Context::Header => write!(f, "common header"),
            Context::Chunk(t) => write!(f, "chunk type {t}"),
            Context::Param(t) => write!(f, "parameter type {t:#06x}"),
            Context::Cause(c) => write!(f, "error cause {c}"),
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated {
                ctx,
                at,
                need,
                have,
            } => {
                write!(f, "{ctx} at {at}: needs {need} bytes, {have} left")
            }
            WireError::TooShort { ctx, at, len, min } => {
                write!(f, "{ctx} at {at}: length {len} below {min}")
            }
            WireError::BadLength { ctx, at, len } => {
                write!(f, "{ctx} at {at}: length {len} does not fit its structure")
            }
            WireError::NoChunks => write!(f, "packet without chunks"),
            WireError::BadChecksum { received, computed } => {
                write!(f, "checksum {received:#010x}, computed {computed:#010x}")
            }
            WireError::ZeroChecksumNotAccepted => write!(f, "zero checksum not accepted"),
            WireError::TooLong { ctx, len } => write!(f, "{ctx}: {len} bytes is too long"),
        }
    }
}

impl std::error::Error for WireError {}

/// A buffer the writers append to: `Vec<u8>` or `bytes::BytesMut`.
pub trait WireBuf {
    /// Appends bytes.
    fn put(&mut self, bytes: &[u8]);
    /// The bytes written so far.
    fn written(&self) -> &[u8];
    /// The bytes written so far, to fill in lengths and checksums.
    fn written_mut(&mut self) -> &mut [u8];
    /// Drops everything after `len` (to undo a failed write).
    fn truncate_to(&mut self, len: usize);
}

impl WireBuf for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn written(&self) -> &[u8] {
        self
    }
    fn written_mut(&mut self) -> &mut [u8] {
        self
    }
    fn truncate_to(&mut self, len: usize) {
        self.truncate(len);
    }
}

impl WireBuf for bytes::BytesMut {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn written(&self) -> &[u8] {
        self
    }
    fn written_mut(&mut self) -> &mut [u8] {
        self
    }
    fn truncate_to(&mut self, len: usize) {
        self.truncate(len);
    }
}

/// Bounds-checked big-endian reads over one structure; errors name it and its offset.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` in the packet.
    base: usize,
    ctx: Context,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize, ctx: Context) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            base,
            ctx,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.saturating_add(n);
        match self.buf.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(WireError::Truncated {
                ctx: self.ctx,
                at: self.base.saturating_add(self.pos),
                need: n,
                have: self.buf.len().saturating_sub(self.pos),
            }),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        self.array().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        self.array().map(u32::from_be_bytes)
    }

    /// Everything not read yet.
    fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        rest
    }

    /// Offset in the packet of what is read next.
    fn at(&self) -> usize {
        self.base.saturating_add(self.pos)
    }
}

/// Bytes of padding after `len` bytes to reach a multiple of 4.
fn pad_len(len: usize) -> usize {
    len.wrapping_neg() & 3
}

/// Type, value, and offset of a TLV.
type Tlv<'a> = (u16, &'a [u8], usize);

/// One type-length-value walk (chunks' parameters and error causes share the format:
/// RFC 9260 §3.2.1, §3.3.10): yields (type, value, offset of the TLV).
#[derive(Clone)]
struct Tlvs<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    cause: bool,
}

impl<'a> Tlvs<'a> {
    fn new(buf: &'a [u8], base: usize, cause: bool) -> Tlvs<'a> {
        Tlvs {
            buf,
            pos: 0,
            base,
            cause,
        }
    }

    fn ctx(&self, t: u16) -> Context {
        if self.cause {
            Context::Cause(t)
        } else {
            Context::Param(t)
        }
    }

    fn next_tlv(&mut self) -> Result<Option<Tlv<'a>>, WireError> {
        let Some(rest) = self.buf.get(self.pos..) else {
            return Ok(None);
        };
        if rest.is_empty() {
            return Ok(None);
        }
        let at = self.base.saturating_add(self.pos);
        let mut r = Reader::new(rest, at, self.ctx(0));
        let t = r.u16()?;
        if rest.len() < 4 {
            return Err(WireError::Truncated {
                ctx: self.ctx(t),
                at,
                need: 4,
                have: rest.len(),
            });
        }
        let len = usize::from(r.u16()?);
        if len < 4 {
            return Err(WireError::TooShort {
                ctx: self.ctx(t),
                at,
                len,
                min: 4,
            });
        }
        let Some(value) = rest.get(4..len) else {
            return Err(WireError::Truncated {
                ctx: self.ctx(t),
                at,
                need: len,
                have: rest.len(),
            });
        };
        // RFC 9260 §3.2.1: the last parameter's padding may be missing.
        let next = len.saturating_add(pad_len(len)).min(rest.len());
        self.pos = self.pos.saturating_add(next);
        Ok(Some((t, value, at)))
    }
}
