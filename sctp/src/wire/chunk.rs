//! Chunks: the framing walk, typed views, writers.

use std::fmt;
use std::marker::PhantomData;

use super::param::{Causes, Params};
use super::{pad_len, Action, Context, Reader, WireBuf, WireError};

/// Chunk type numbers.
pub mod chunk_type {
    /// RFC 9260 §3.3.1
    pub const DATA: u8 = 0;
    /// RFC 9260 §3.3.2
    pub const INIT: u8 = 1;
    /// RFC 9260 §3.3.3
    pub const INIT_ACK: u8 = 2;
    /// RFC 9260 §3.3.4
    pub const SACK: u8 = 3;
    /// RFC 9260 §3.3.5
    pub const HEARTBEAT: u8 = 4;
    /// RFC 9260 §3.3.6
    pub const HEARTBEAT_ACK: u8 = 5;
    /// RFC 9260 §3.3.7
    pub const ABORT: u8 = 6;
    /// RFC 9260 §3.3.8
    pub const SHUTDOWN: u8 = 7;
    /// RFC 9260 §3.3.9
    pub const SHUTDOWN_ACK: u8 = 8;
    /// RFC 9260 §3.3.10
    pub const ERROR: u8 = 9;
    /// RFC 9260 §3.3.11
    pub const COOKIE_ECHO: u8 = 10;
    /// RFC 9260 §3.3.12
    pub const COOKIE_ACK: u8 = 11;
    /// RFC 9260 Appendix A (ECN Echo)
    pub const ECNE: u8 = 12;
    /// RFC 9260 Appendix A (Congestion Window Reduced)
    pub const CWR: u8 = 13;
    /// RFC 9260 §3.3.13
    pub const SHUTDOWN_COMPLETE: u8 = 14;
    /// RFC 8260 §2.1
    pub const I_DATA: u8 = 64;
    /// RFC 6525 §3.1
    pub const RE_CONFIG: u8 = 130;
    /// RFC 4820 §3
    pub const PAD: u8 = 132;
    /// RFC 3758 §3.2
    pub const FORWARD_TSN: u8 = 192;
    /// RFC 8260 §2.3
    pub const I_FORWARD_TSN: u8 = 194;
}

use chunk_type as ct;

/// One chunk as framed: type, flags and the value (without header and padding), and its
/// offset in the packet.
#[derive(Debug, Clone, Copy)]
pub struct RawChunk<'a> {
    /// Offset of the chunk header in the packet.
    pub at: usize,
    /// Chunk type.
    pub chunk_type: u8,
    /// Chunk flags.
    pub flags: u8,
    /// Chunk value: the bytes the chunk length counts after the 4-byte header.
    pub value: &'a [u8],
}

/// Equal type, flags and value, wherever they sit.
impl PartialEq for RawChunk<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.chunk_type == other.chunk_type
            && self.flags == other.flags
            && self.value == other.value
    }
}

impl Eq for RawChunk<'_> {}

/// The next chunk at `pos` of the chunk area and where the one after starts.
pub(super) fn next_chunk(
    buf: &[u8],
    pos: usize,
) -> Result<Option<(RawChunk<'_>, usize)>, WireError> {
    let Some(rest) = buf.get(pos..) else {
        return Ok(None);
    };
    if rest.is_empty() {
        return Ok(None);
    }
    let at = super::HEADER_LEN.saturating_add(pos);
    let chunk_type = rest.first().copied().unwrap_or(0);
    if rest.len() < 4 {
        return Err(WireError::Truncated {
            ctx: Context::Chunk(chunk_type),
            at,
            need: 4,
            have: rest.len(),
        });
    }
    let mut r = Reader::new(rest, at, Context::Chunk(chunk_type));
    let [chunk_type, flags] = r.array()?;
    let len = usize::from(r.u16()?);
    // RFC 9260 §3.2: the length counts the 4-byte header.
    if len < 4 {
        return Err(WireError::TooShort {
            ctx: Context::Chunk(chunk_type),
            at,
            len,
            min: 4,
        });
    }
    let Some(value) = rest.get(4..len) else {
        return Err(WireError::Truncated {
            ctx: Context::Chunk(chunk_type),
            at,
            need: len,
            have: rest.len(),
        });
    };
    // RFC 9260 §3.2: padding to 4 bytes follows, not counted; the receiver ignores its
    // bytes. A last chunk without its padding is accepted.
    let next = pos
        .saturating_add(len)
        .saturating_add(pad_len(len))
        .min(buf.len());
    Ok(Some((
        RawChunk {
            at,
            chunk_type,
            flags,
            value,
        },
        next,
    )))
}

impl<'a> RawChunk<'a> {
    /// What RFC 9260 §3.2 says to do with this type if the receiver does not know it.
    pub fn action(&self) -> Action {
        Action::from_high_byte(self.chunk_type)
    }

    /// The typed view; unknown types come back as [`Chunk::Unknown`].
    pub fn parse(&self) -> Result<Chunk<'a>, WireError> {
        let ctx = Context::Chunk(self.chunk_type);
        let base = self.at.saturating_add(4);
        let mut r = Reader::new(self.value, base, ctx);
        let len = self.value.len().saturating_add(4);
        let exact = |want: usize| -> Result<(), WireError> {
            if len == want {
                Ok(())
            } else {
                Err(WireError::BadLength {
                    ctx,
                    at: self.at,
                    len,
                })
            }
        };
        let min = |min: usize| -> Result<(), WireError> {
            if len >= min {
                Ok(())
            } else {
                Err(WireError::TooShort {
                    ctx,
                    at: self.at,
                    len,
                    min,
                })
            }
        };
        Ok(match self.chunk_type {
            // RFC 9260 §3.3.1
            ct::DATA => {
                min(16)?;
                Chunk::Data(Data {
                    flags: self.flags & 0x0f,
                    tsn: r.u32()?,
                    stream_id: r.u16()?,
                    ssn: r.u16()?,
                    ppid: r.u32()?,
                    payload: r.rest(),
                })
            }
            // RFC 9260 §3.3.2, §3.3.3
            ct::INIT | ct::INIT_ACK => {
                min(20)?;
                let init = Init {
                    initiate_tag: r.u32()?,
                    a_rwnd: r.u32()?,
                    outbound_streams: r.u16()?,
                    inbound_streams: r.u16()?,
                    initial_tsn: r.u32()?,
                    params: {
                        let at = r.at();
                        Params::parse(r.rest(), at)?
                    },
                };
                if self.chunk_type == ct::INIT {
                    Chunk::Init(init)
                } else {
                    Chunk::InitAck(init)
                }
            }
            // RFC 9260 §3.3.4
            ct::SACK => {
                min(16)?;
                let cum_tsn_ack = r.u32()?;
                let a_rwnd = r.u32()?;
                let gaps = usize::from(r.u16()?);
                let dups = usize::from(r.u16()?);
                exact(16 + 4 * gaps + 4 * dups)?;
                Chunk::Sack(Sack {
                    cum_tsn_ack,
                    a_rwnd,
                    gap_blocks: List::new(r.take(4 * gaps)?),
                    dup_tsns: List::new(r.take(4 * dups)?),
                })
            }
            // RFC 9260 §3.3.5, §3.3.6
            ct::HEARTBEAT => Chunk::Heartbeat(Params::parse(self.value, base)?),
            ct::HEARTBEAT_ACK => Chunk::HeartbeatAck(Params::parse(self.value, base)?),
            // RFC 9260 §3.3.7
            ct::ABORT => Chunk::Abort(Abort {
                tag_reflected: self.flags & 1 != 0,
                causes: Causes::parse(self.value, base)?,
            }),
            // RFC 9260 §3.3.8
            ct::SHUTDOWN => {
                exact(8)?;
                Chunk::Shutdown {
                    cum_tsn_ack: r.u32()?,
                }
            }
            // RFC 9260 §3.3.9
            ct::SHUTDOWN_ACK => {
                exact(4)?;
                Chunk::ShutdownAck
            }
            // RFC 9260 §3.3.10
            ct::ERROR => Chunk::Error(Causes::parse(self.value, base)?),
            // RFC 9260 §3.3.11
            ct::COOKIE_ECHO => Chunk::CookieEcho(self.value),
            // RFC 9260 §3.3.12
            ct::COOKIE_ACK => {
                exact(4)?;
                Chunk::CookieAck
            }
            // RFC 9260 Appendix A
            ct::ECNE => {
                exact(8)?;
                Chunk::Ecne {
                    lowest_tsn: r.u32()?,
                }
            }
            ct::CWR => {
                exact(8)?;
                Chunk::Cwr {
                    lowest_tsn: r.u32()?,
                }
            }
            // RFC 9260 §3.3.13
            ct::SHUTDOWN_COMPLETE => {
                exact(4)?;
                Chunk::ShutdownComplete {
                    tag_reflected: self.flags & 1 != 0,
                }
            }
            // RFC 8260 §2.1
            ct::I_DATA => {
                min(20)?;
                let tsn = r.u32()?;
                let stream_id = r.u16()?;
                let _reserved = r.u16()?;
                Chunk::IData(IData {
                    flags: self.flags & 0x0f,
                    tsn,
                    stream_id,
                    mid: r.u32()?,
                    ppid_or_fsn: r.u32()?,
                    payload: r.rest(),
                })
            }
            // RFC 6525 §3.1
            ct::RE_CONFIG => Chunk::ReConfig(Params::parse(self.value, base)?),
            // RFC 4820 §3
            ct::PAD => Chunk::Pad(self.value),
            // RFC 3758 §3.2
            ct::FORWARD_TSN => {
                min(8)?;
                let new_cum_tsn = r.u32()?;
                let rest = r.rest();
                if !rest.len().is_multiple_of(4) {
                    return Err(WireError::BadLength {
                        ctx,
                        at: self.at,
                        len,
                    });
                }
                Chunk::ForwardTsn(ForwardTsn {
                    new_cum_tsn,
                    streams: List::new(rest),
                })
            }
            // RFC 8260 §2.3
            ct::I_FORWARD_TSN => {
                min(8)?;
                let new_cum_tsn = r.u32()?;
                let rest = r.rest();
                if !rest.len().is_multiple_of(8) {
                    return Err(WireError::BadLength {
                        ctx,
                        at: self.at,
                        len,
                    });
                }
                Chunk::IForwardTsn(IForwardTsn {
                    new_cum_tsn,
                    entries: List::new(rest),
                })
            }
            _ => Chunk::Unknown(*self),
        })
    }

    /// Appends the chunk as it came.
    pub fn emit<B: WireBuf>(&self, out: &mut B) -> Result<(), WireError> {
        write_chunk(out, self.chunk_type, self.flags, |out| {
            out.put(self.value);
            Ok(0)
        })
    }
}

/// Appends one chunk (RFC 9260 §3.2): the header, the body `body` writes, the length
/// filled in, and padding to 4 bytes. `body` returns how many bytes at its end are
/// padding the length does not count (a last parameter's, RFC 9260 §3.2). On error nothing
/// is left appended.
pub fn write_chunk<B: WireBuf>(
    out: &mut B,
    chunk_type: u8,
    flags: u8,
    body: impl FnOnce(&mut B) -> Result<usize, WireError>,
) -> Result<(), WireError> {
    let start = out.written().len();
    out.put(&[chunk_type, flags, 0, 0]);
    let uncounted = match body(out) {
        Ok(n) => n,
        Err(e) => {
            out.truncate_to(start);
            return Err(e);
        }
    };
    let written = out.written().len().saturating_sub(start);
    let len = written.saturating_sub(uncounted);
    let Ok(len16) = u16::try_from(len) else {
        out.truncate_to(start);
        return Err(WireError::TooLong {
            ctx: Context::Chunk(chunk_type),
            len,
        });
    };
    if let Some(field) = out
        .written_mut()
        .get_mut(start.saturating_add(2)..start.saturating_add(4))
    {
        field.copy_from_slice(&len16.to_be_bytes());
    }
    out.put([0u8; 3].get(..pad_len(written)).unwrap_or(&[]));
    Ok(())
}

/// A typed chunk, borrowing the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chunk<'a> {
    /// RFC 9260 §3.3.1
    Data(Data<'a>),
    /// RFC 9260 §3.3.2
    Init(Init<'a>),
    /// RFC 9260 §3.3.3
    InitAck(Init<'a>),
    /// RFC 9260 §3.3.4
    Sack(Sack<'a>),
    /// RFC 9260 §3.3.5: its parameters (a Heartbeat Info).
    Heartbeat(Params<'a>),
    /// RFC 9260 §3.3.6: the Heartbeat Info echoed.
    HeartbeatAck(Params<'a>),
    /// RFC 9260 §3.3.7
    Abort(Abort<'a>),
    /// RFC 9260 §3.3.8
    Shutdown {
        /// Cumulative TSN Ack.
        cum_tsn_ack: u32,
    },
    /// RFC 9260 §3.3.9
    ShutdownAck,
    /// RFC 9260 §3.3.10
    Error(Causes<'a>),
    /// RFC 9260 §3.3.11: the cookie.
    CookieEcho(&'a [u8]),
    /// RFC 9260 §3.3.12
    CookieAck,
    /// RFC 9260 Appendix A: ECN Echo.
    Ecne {
        /// Lowest TSN Number.
        lowest_tsn: u32,
    },
    /// RFC 9260 Appendix A: Congestion Window Reduced.
    Cwr {
        /// Lowest TSN Number.
        lowest_tsn: u32,
    },
    /// RFC 9260 §3.3.13
    ShutdownComplete {
        /// The T bit: the verification tag is the receiver's own.
        tag_reflected: bool,
    },
    /// RFC 3758 §3.2
    ForwardTsn(ForwardTsn<'a>),
    /// RFC 8260 §2.1
    IData(IData<'a>),
    /// RFC 8260 §2.3
    IForwardTsn(IForwardTsn<'a>),
    /// RFC 6525 §3.1: one or two re-configuration parameters.
    ReConfig(Params<'a>),
    /// RFC 4820 §3: the padding bytes.
    Pad(&'a [u8]),
    /// Any other type; [`RawChunk::action`] says what to do with it.
    Unknown(RawChunk<'a>),
}

impl<'a> Chunk<'a> {
    /// The chunk type.
    pub fn chunk_type(&self) -> u8 {
        match self {
            Chunk::Data(_) => ct::DATA,
            Chunk::Init(_) => ct::INIT,
            Chunk::InitAck(_) => ct::INIT_ACK,
            Chunk::Sack(_) => ct::SACK,
            Chunk::Heartbeat(_) => ct::HEARTBEAT,
            Chunk::HeartbeatAck(_) => ct::HEARTBEAT_ACK,
            Chunk::Abort(_) => ct::ABORT,
            Chunk::Shutdown { .. } => ct::SHUTDOWN,
            Chunk::ShutdownAck => ct::SHUTDOWN_ACK,
            Chunk::Error(_) => ct::ERROR,
            Chunk::CookieEcho(_) => ct::COOKIE_ECHO,
            Chunk::CookieAck => ct::COOKIE_ACK,
            Chunk::Ecne { .. } => ct::ECNE,
            Chunk::Cwr { .. } => ct::CWR,
            Chunk::ShutdownComplete { .. } => ct::SHUTDOWN_COMPLETE,
            Chunk::ForwardTsn(_) => ct::FORWARD_TSN,
            Chunk::IData(_) => ct::I_DATA,
            Chunk::IForwardTsn(_) => ct::I_FORWARD_TSN,
            Chunk::ReConfig(_) => ct::RE_CONFIG,
            Chunk::Pad(_) => ct::PAD,
            Chunk::Unknown(raw) => raw.chunk_type,
        }
    }

    /// Appends the chunk, padded.
    pub fn emit<B: WireBuf>(&self, out: &mut B) -> Result<(), WireError> {
        let t = self.chunk_type();
        let empty = |out: &mut B| -> Result<(), WireError> { write_chunk(out, t, 0, |_| Ok(0)) };
        let u32_body = |out: &mut B, v: u32| -> Result<(), WireError> {
            write_chunk(out, t, 0, |out| {
                out.put(&v.to_be_bytes());
                Ok(0)
            })
        };
        match self {
            Chunk::Data(d) => d.emit(out),
            Chunk::Init(i) | Chunk::InitAck(i) => i.emit(out, t),
            Chunk::Sack(s) => Sack::write(
                out,
                s.cum_tsn_ack,
                s.a_rwnd,
                s.gap_blocks.iter(),
                s.dup_tsns.iter(),
            ),
            Chunk::Heartbeat(p) | Chunk::HeartbeatAck(p) | Chunk::ReConfig(p) => {
                write_chunk(out, t, 0, |out| p.emit(out))
            }
            Chunk::Abort(a) => {
                write_chunk(out, t, u8::from(a.tag_reflected), |out| a.causes.emit(out))
            }
            Chunk::Error(c) => write_chunk(out, t, 0, |out| c.emit(out)),
            Chunk::Shutdown { cum_tsn_ack: v }
            | Chunk::Ecne { lowest_tsn: v }
            | Chunk::Cwr { lowest_tsn: v } => u32_body(out, *v),
            Chunk::ShutdownAck | Chunk::CookieAck => empty(out),
            Chunk::ShutdownComplete { tag_reflected } => {
                write_chunk(out, t, u8::from(*tag_reflected), |_| Ok(0))
            }
            Chunk::CookieEcho(bytes) | Chunk::Pad(bytes) => write_chunk(out, t, 0, |out| {
                out.put(bytes);
                Ok(0)
            }),
            Chunk::ForwardTsn(f) => write_chunk(out, t, 0, |out| {
                out.put(&f.new_cum_tsn.to_be_bytes());
                f.streams.emit(out);
                Ok(0)
            }),
            Chunk::IForwardTsn(f) => write_chunk(out, t, 0, |out| {
                out.put(&f.new_cum_tsn.to_be_bytes());
                f.entries.emit(out);
                Ok(0)
            }),
            Chunk::IData(d) => d.emit(out),
            Chunk::Unknown(raw) => raw.emit(out),
        }
    }
}

/// DATA (RFC 9260 §3.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    /// The flag bits: [`Data::IMMEDIATE`], [`Data::UNORDERED`], [`Data::BEGINNING`],
    /// [`Data::ENDING`]; the reserved upper bits are dropped.
    pub flags: u8,
    /// Transmission Sequence Number.
    pub tsn: u32,
    /// Stream Identifier S.
    pub stream_id: u16,
    /// Stream Sequence Number n.
    pub ssn: u16,
    /// Payload Protocol Identifier.
    pub ppid: u32,
    /// User data.
    pub payload: &'a [u8],
}

impl Data<'_> {
    /// E: the last fragment of a message.
    pub const ENDING: u8 = 1;
    /// B: the first fragment of a message.
    pub const BEGINNING: u8 = 2;
    /// U: unordered.
    pub const UNORDERED: u8 = 4;
    /// I: the receiver should SACK at once (RFC 9260 §3.3.1, formerly RFC 7053).
    pub const IMMEDIATE: u8 = 8;

    /// Whether U is set.
    pub fn unordered(&self) -> bool {
        self.flags & Self::UNORDERED != 0
    }
    /// Whether B is set.
    pub fn beginning(&self) -> bool {
        self.flags & Self::BEGINNING != 0
    }
    /// Whether E is set.
    pub fn ending(&self) -> bool {
        self.flags & Self::ENDING != 0
    }
    /// Whether I is set.
    pub fn immediate(&self) -> bool {
        self.flags & Self::IMMEDIATE != 0
    }

    /// Appends the chunk.
    pub fn emit<B: WireBuf>(&self, out: &mut B) -> Result<(), WireError> {
        write_chunk(out, ct::DATA, self.flags, |out| {
            out.put(&self.tsn.to_be_bytes());
            out.put(&self.stream_id.to_be_bytes());
            out.put(&self.ssn.to_be_bytes());
            out.put(&self.ppid.to_be_bytes());
            out.put(self.payload);
            Ok(0)
        })
    }
}

/// I-DATA (RFC 8260 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IData<'a> {
    /// The flag bits, as for DATA ([`Data::ENDING`] ...).
    pub flags: u8,
    /// Transmission Sequence Number.
    pub tsn: u32,
    /// Stream Identifier.
    pub stream_id: u16,
    /// Message Identifier.
    pub mid: u32,
    /// The Payload Protocol Identifier when B is set, else the Fragment Sequence Number.
    pub ppid_or_fsn: u32,
    /// User data.
    pub payload: &'a [u8],
}

impl IData<'_> {
    /// Whether B is set: the message's first fragment.
    pub fn beginning(&self) -> bool {
        self.flags & Data::BEGINNING != 0
    }
    /// Whether E is set.
    pub fn ending(&self) -> bool {
        self.flags & Data::ENDING != 0
    }
    /// Whether U is set.
    pub fn unordered(&self) -> bool {
        self.flags & Data::UNORDERED != 0
    }
    /// The PPID, carried by the first fragment only (RFC 8260 §2.1).
    pub fn ppid(&self) -> Option<u32> {
        self.beginning().then_some(self.ppid_or_fsn)
    }
    /// The Fragment Sequence Number: 0 for the first fragment (RFC 8260 §2.1).
    pub fn fsn(&self) -> u32 {
        if self.beginning() {
            0
        } else {
            self.ppid_or_fsn
        }
    }

    /// Appends the chunk.
    pub fn emit<B: WireBuf>(&self, out: &mut B) -> Result<(), WireError> {
        write_chunk(out, ct::I_DATA, self.flags, |out| {
            out.put(&self.tsn.to_be_bytes());
            out.put(&self.stream_id.to_be_bytes());
            out.put(&[0, 0]);
            out.put(&self.mid.to_be_bytes());
            out.put(&self.ppid_or_fsn.to_be_bytes());
            out.put(self.payload);
            Ok(0)
        })
    }
}

/// INIT and INIT ACK (RFC 9260 §3.3.2, §3.3.3): the same fixed fields, then parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init<'a> {
    /// Initiate Tag.
    pub initiate_tag: u32,
    /// Advertised Receiver Window Credit.
    pub a_rwnd: u32,
    /// Number of Outbound Streams.
    pub outbound_streams: u16,
    /// Number of Inbound Streams.
    pub inbound_streams: u16,
    /// Initial TSN.
    pub initial_tsn: u32,
    /// Parameters (checked).
    pub params: Params<'a>,
}

impl Init<'_> {
    /// Appends it as `chunk_type` ([`chunk_type::INIT`] or [`chunk_type::INIT_ACK`]).
    pub fn emit<B: WireBuf>(&self, out: &mut B, chunk_type: u8) -> Result<(), WireError> {
        write_chunk(out, chunk_type, 0, |out| {
            out.put(&self.initiate_tag.to_be_bytes());
            out.put(&self.a_rwnd.to_be_bytes());
            out.put(&self.outbound_streams.to_be_bytes());
            out.put(&self.inbound_streams.to_be_bytes());
            out.put(&self.initial_tsn.to_be_bytes());
            self.params.emit(out)
        })
    }
}

/// SACK (RFC 9260 §3.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sack<'a> {
    /// Cumulative TSN Ack.
    pub cum_tsn_ack: u32,
    /// Advertised Receiver Window Credit.
    pub a_rwnd: u32,
    /// Gap Ack Blocks, offsets from `cum_tsn_ack`.
    pub gap_blocks: List<'a, GapBlock>,
    /// Duplicate TSNs.
    pub dup_tsns: List<'a, u32>,
}

impl Sack<'_> {
    /// Appends a SACK made of the given blocks and duplicates.
    pub fn write<B: WireBuf>(
        out: &mut B,
        cum_tsn_ack: u32,
        a_rwnd: u32,
        gaps: impl ExactSizeIterator<Item = GapBlock>,
        dups: impl ExactSizeIterator<Item = u32>,
    ) -> Result<(), WireError> {
        let too_long = |len| WireError::TooLong {
            ctx: Context::Chunk(ct::SACK),
            len,
        };
        let n_gaps = u16::try_from(gaps.len()).map_err(|_| too_long(gaps.len()))?;
        let n_dups = u16::try_from(dups.len()).map_err(|_| too_long(dups.len()))?;
        write_chunk(out, ct::SACK, 0, |out| {
            out.put(&cum_tsn_ack.to_be_bytes());
            out.put(&a_rwnd.to_be_bytes());
            out.put(&n_gaps.to_be_bytes());
            out.put(&n_dups.to_be_bytes());
            for g in gaps {
                g.put(out);
            }
            for d in dups {
                d.put(out);
            }
            Ok(0)
        })
    }
}

/// A Gap Ack Block (RFC 9260 §3.3.4): TSNs `cum_tsn_ack + start ..= cum_tsn_ack + end`
/// were received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapBlock {
    /// Gap Ack Block Start.
    pub start: u16,
    /// Gap Ack Block End.
    pub end: u16,
}

/// ABORT (RFC 9260 §3.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort<'a> {
    /// The T bit: the verification tag is the receiver's own (reflected).
    pub tag_reflected: bool,
    /// Error causes.
    pub causes: Causes<'a>,
}

/// FORWARD TSN (RFC 3758 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardTsn<'a> {
    /// New Cumulative TSN.
    pub new_cum_tsn: u32,
    /// The ordered streams skipped, with their largest skipped Stream Sequence Number.
    pub streams: List<'a, StreamSsn>,
}

/// A FORWARD TSN's stream entry (RFC 3758 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSsn {
    /// Stream-N.
    pub stream_id: u16,
    /// Stream Sequence-N.
    pub ssn: u16,
}

/// I-FORWARD-TSN (RFC 8260 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IForwardTsn<'a> {
    /// New Cumulative TSN.
    pub new_cum_tsn: u32,
    /// The streams skipped.
    pub entries: List<'a, IForwardTsnEntry>,
}

/// An I-FORWARD-TSN entry (RFC 8260 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IForwardTsnEntry {
    /// Stream Identifier.
    pub stream_id: u16,
    /// U: the message skipped was unordered.
    pub unordered: bool,
    /// Message Identifier.
    pub mid: u32,
}

/// An entry of fixed size in a chunk or parameter.
pub trait ListItem: Sized + Copy + PartialEq {
    /// Bytes per entry.
    const SIZE: usize;
    /// Reads one from exactly `SIZE` bytes.
    fn read(bytes: &[u8]) -> Option<Self>;
    /// Appends one.
    fn put<B: WireBuf>(&self, out: &mut B);
}

fn be<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

impl ListItem for u16 {
    const SIZE: usize = 2;
    fn read(bytes: &[u8]) -> Option<u16> {
        be(bytes).map(u16::from_be_bytes)
    }
    fn put<B: WireBuf>(&self, out: &mut B) {
        out.put(&self.to_be_bytes());
    }
}

impl ListItem for u32 {
    const SIZE: usize = 4;
    fn read(bytes: &[u8]) -> Option<u32> {
        be(bytes).map(u32::from_be_bytes)
    }
    fn put<B: WireBuf>(&self, out: &mut B) {
        out.put(&self.to_be_bytes());
    }
}

impl ListItem for GapBlock {
    const SIZE: usize = 4;
    fn read(bytes: &[u8]) -> Option<GapBlock> {
        let [a, b, c, d] = be(bytes)?;
        Some(GapBlock {
            start: u16::from_be_bytes([a, b]),
            end: u16::from_be_bytes([c, d]),
        })
    }
    fn put<B: WireBuf>(&self, out: &mut B) {
        out.put(&self.start.to_be_bytes());
        out.put(&self.end.to_be_bytes());
    }
}

impl ListItem for StreamSsn {
    const SIZE: usize = 4;
    fn read(bytes: &[u8]) -> Option<StreamSsn> {
        let [a, b, c, d] = be(bytes)?;
        Some(StreamSsn {
            stream_id: u16::from_be_bytes([a, b]),
            ssn: u16::from_be_bytes([c, d]),
        })
    }
    fn put<B: WireBuf>(&self, out: &mut B) {
        out.put(&self.stream_id.to_be_bytes());
        out.put(&self.ssn.to_be_bytes());
    }
}

impl ListItem for IForwardTsnEntry {
    const SIZE: usize = 8;
    fn read(bytes: &[u8]) -> Option<IForwardTsnEntry> {
        let [a, b, _, flags, m0, m1, m2, m3] = be(bytes)?;
        Some(IForwardTsnEntry {
            stream_id: u16::from_be_bytes([a, b]),
            unordered: flags & 1 != 0,
            mid: u32::from_be_bytes([m0, m1, m2, m3]),
        })
    }
    fn put<B: WireBuf>(&self, out: &mut B) {
        out.put(&self.stream_id.to_be_bytes());
        out.put(&[0, u8::from(self.unordered)]);
        out.put(&self.mid.to_be_bytes());
    }
}

/// A list of fixed-size entries over the packet's bytes (a whole number of them).
pub struct List<'a, T> {
    bytes: &'a [u8],
    _item: PhantomData<T>,
}

impl<'a, T: ListItem> List<'a, T> {
    /// The entries in `bytes`; a partial entry at the end is not read.
    pub fn new(bytes: &'a [u8]) -> List<'a, T> {
        List {
            bytes,
            _item: PhantomData,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() / T::SIZE
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries.
    pub fn iter(&self) -> ListIter<'a, T> {
        ListIter {
            chunks: self.bytes.chunks_exact(T::SIZE),
            _item: PhantomData,
        }
    }

    /// Appends the entries.
    pub fn emit<B: WireBuf>(&self, out: &mut B) {
        for item in self.iter() {
            item.put(out);
        }
    }
}

impl<T> Clone for List<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for List<'_, T> {}

/// The same entries (reserved bits, which entries drop, aside).
impl<T: ListItem> PartialEq for List<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<T: ListItem> Eq for List<'_, T> {}

impl<T: ListItem + fmt::Debug> fmt::Debug for List<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: ListItem> IntoIterator for List<'a, T> {
    type Item = T;
    type IntoIter = ListIter<'a, T>;
    fn into_iter(self) -> ListIter<'a, T> {
        self.iter()
    }
}

/// The entries of a [`List`].
pub struct ListIter<'a, T> {
    chunks: std::slice::ChunksExact<'a, u8>,
    _item: PhantomData<T>,
}

impl<T: ListItem> Iterator for ListIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        T::read(self.chunks.next()?)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl<T: ListItem> ExactSizeIterator for ListIter<'_, T> {}
