//! Parameters (of INIT, INIT ACK, HEARTBEAT, RE-CONFIG) and error causes (of ABORT and
//! ERROR): both type-length-value, padded to 4 bytes (RFC 9260 §3.2.1, §3.3.10).

use std::fmt;

use super::chunk::List;
use super::{pad_len, Action, Context, Reader, Tlvs, WireBuf, WireError};

/// Parameter type numbers.
pub mod param_type {
    /// Heartbeat Info (RFC 9260 §3.3.5).
    pub const HEARTBEAT_INFO: u16 = 1;
    /// IPv4 Address (RFC 9260 §3.3.2.1.1).
    pub const IPV4_ADDRESS: u16 = 5;
    /// IPv6 Address (RFC 9260 §3.3.2.1.2).
    pub const IPV6_ADDRESS: u16 = 6;
    /// State Cookie (RFC 9260 §3.3.3.1).
    pub const STATE_COOKIE: u16 = 7;
    /// Unrecognized Parameter (RFC 9260 §3.3.3.1).
    pub const UNRECOGNIZED_PARAMETER: u16 = 8;
    /// Cookie Preservative (RFC 9260 §3.3.2.1.3).
    pub const COOKIE_PRESERVATIVE: u16 = 9;
    /// Host Name Address (RFC 9260 §3.3.2.1.4, deprecated).
    pub const HOST_NAME_ADDRESS: u16 = 11;
    /// Supported Address Types (RFC 9260 §3.3.2.1.5).
    pub const SUPPORTED_ADDRESS_TYPES: u16 = 12;
    /// Outgoing SSN Reset Request (RFC 6525 §4.1).
    pub const OUTGOING_SSN_RESET_REQUEST: u16 = 13;
    /// Incoming SSN Reset Request (RFC 6525 §4.2).
    pub const INCOMING_SSN_RESET_REQUEST: u16 = 14;
    /// SSN/TSN Reset Request (RFC 6525 §4.3).
    pub const SSN_TSN_RESET_REQUEST: u16 = 15;
    /// Re-configuration Response (RFC 6525 §4.4).
    pub const RECONFIG_RESPONSE: u16 = 16;
    /// Add Outgoing Streams Request (RFC 6525 §4.5).
    pub const ADD_OUTGOING_STREAMS: u16 = 17;
    /// Add Incoming Streams Request (RFC 6525 §4.6).
    pub const ADD_INCOMING_STREAMS: u16 = 18;
    /// Zero Checksum Acceptable (RFC 9653 §4).
    pub const ZERO_CHECKSUM_ACCEPTABLE: u16 = 0x8001;
    /// Supported Extensions (RFC 5061 §4.2.7).
    pub const SUPPORTED_EXTENSIONS: u16 = 0x8008;
    /// Forward-TSN-Supported (RFC 3758 §3.1).
    pub const FORWARD_TSN_SUPPORTED: u16 = 0xc000;
}

/// Error cause codes (RFC 9260 §3.3.10).
pub mod cause_code {
    /// §3.3.10.1
    pub const INVALID_STREAM_IDENTIFIER: u16 = 1;
    /// §3.3.10.2
    pub const MISSING_MANDATORY_PARAMETER: u16 = 2;
    /// §3.3.10.3
    pub const STALE_COOKIE: u16 = 3;
    /// §3.3.10.4
    pub const OUT_OF_RESOURCE: u16 = 4;
    /// §3.3.10.5
    pub const UNRESOLVABLE_ADDRESS: u16 = 5;
    /// §3.3.10.6
    pub const UNRECOGNIZED_CHUNK_TYPE: u16 = 6;
    /// §3.3.10.7
    pub const INVALID_MANDATORY_PARAMETER: u16 = 7;
    /// §3.3.10.8
    pub const UNRECOGNIZED_PARAMETERS: u16 = 8;
    /// §3.3.10.9
    pub const NO_USER_DATA: u16 = 9;
    /// §3.3.10.10
    pub const COOKIE_RECEIVED_WHILE_SHUTTING_DOWN: u16 = 10;
    /// §3.3.10.11
    pub const RESTART_WITH_NEW_ADDRESSES: u16 = 11;
    /// §3.3.10.12
    pub const USER_INITIATED_ABORT: u16 = 12;
    /// §3.3.10.13
    pub const PROTOCOL_VIOLATION: u16 = 13;
}

/// The Error Detection Method Identifier for DTLS (RFC 9653 §6): what WebRTC declares in
/// Zero Checksum Acceptable.
pub const ZERO_CHECKSUM_EDMID_DTLS: u32 = 1;

use cause_code as cc;
use param_type as pt;

/// A typed parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Param<'a> {
    /// RFC 9260 §3.3.5: sender-specific heartbeat information.
    HeartbeatInfo(&'a [u8]),
    /// RFC 9260 §3.3.2.1.1
    Ipv4Address([u8; 4]),
    /// RFC 9260 §3.3.2.1.2
    Ipv6Address([u8; 16]),
    /// RFC 9260 §3.3.3.1
    StateCookie(&'a [u8]),
    /// RFC 9260 §3.3.3.1: the parameter not understood, whole (read it with
    /// [`Params::parse`]).
    UnrecognizedParameter(&'a [u8]),
    /// RFC 9260 §3.3.2.1.3: suggested cookie life-span increment in milliseconds.
    CookiePreservative(u32),
    /// RFC 9260 §3.3.2.1.4 (deprecated): the host name bytes.
    HostNameAddress(&'a [u8]),
    /// RFC 9260 §3.3.2.1.5: address parameter types.
    SupportedAddressTypes(List<'a, u16>),
    /// RFC 6525 §4.1
    OutgoingSsnResetRequest {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Re-configuration Response Sequence Number.
        response_seq: u32,
        /// Sender's Last Assigned TSN.
        last_tsn: u32,
        /// Streams to reset (none: all).
        streams: List<'a, u16>,
    },
    /// RFC 6525 §4.2
    IncomingSsnResetRequest {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Streams to reset (none: all).
        streams: List<'a, u16>,
    },
    /// RFC 6525 §4.3
    SsnTsnResetRequest {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
    },
    /// RFC 6525 §4.4
    ReconfigResponse {
        /// Re-configuration Response Sequence Number.
        response_seq: u32,
        /// Result (RFC 6525 §4.4: 0 success nothing to do, 1 performed, 2 denied, 3 wrong
        /// SSN, 4 request already in progress, 5 bad sequence number, 6 in progress).
        result: u32,
        /// Sender's and Receiver's Next TSN, present together or not at all.
        next_tsns: Option<(u32, u32)>,
    },
    /// RFC 6525 §4.5
    AddOutgoingStreams {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Number of new streams.
        new_streams: u16,
    },
    /// RFC 6525 §4.6
    AddIncomingStreams {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Number of new streams.
        new_streams: u16,
    },
    /// RFC 9653 §4: the Error Detection Method Identifier.
    ZeroChecksumAcceptable {
        /// EDMID ([`ZERO_CHECKSUM_EDMID_DTLS`] for WebRTC).
        edmid: u32,
    },
    /// RFC 5061 §4.2.7: chunk types the sender supports.
    SupportedExtensions(&'a [u8]),
    /// RFC 3758 §3.1
    ForwardTsnSupported,
    /// Any other type; [`Param::action`] says what RFC 9260 §3.2.1 wants done.
    Unknown {
        /// Parameter type.
        param_type: u16,
        /// Parameter value.
        value: &'a [u8],
    },
}

impl<'a> Param<'a> {
    /// Reads a parameter's value; `at` is the offset of its header, for errors.
    pub fn parse(param_type: u16, value: &'a [u8], at: usize) -> Result<Param<'a>, WireError> {
        let ctx = Context::Param(param_type);
        let bad = WireError::BadLength {
            ctx,
            at,
            len: value.len().saturating_add(4),
        };
        let exact = |n: usize| if value.len() == n { Ok(()) } else { Err(bad) };
        let mut r = Reader::new(value, at.saturating_add(4), ctx);
        Ok(match param_type {
            pt::HEARTBEAT_INFO => Param::HeartbeatInfo(value),
            pt::IPV4_ADDRESS => {
                exact(4)?;
                Param::Ipv4Address(r.array()?)
            }
            pt::IPV6_ADDRESS => {
                exact(16)?;
                Param::Ipv6Address(r.array()?)
            }
            pt::STATE_COOKIE => Param::StateCookie(value),
            pt::UNRECOGNIZED_PARAMETER => Param::UnrecognizedParameter(value),
            pt::COOKIE_PRESERVATIVE => {
                exact(4)?;
                Param::CookiePreservative(r.u32()?)
            }
            pt::HOST_NAME_ADDRESS => Param::HostNameAddress(value),
            pt::SUPPORTED_ADDRESS_TYPES => {
                if !value.len().is_multiple_of(2) {
                    return Err(bad);
                }
                Param::SupportedAddressTypes(List::new(value))
            }
            pt::OUTGOING_SSN_RESET_REQUEST => {
                if value.len() < 12 || !value.len().is_multiple_of(2) {
                    return Err(bad);
                }
                Param::OutgoingSsnResetRequest {
                    request_seq: r.u32()?,
                    response_seq: r.u32()?,
                    last_tsn: r.u32()?,
                    streams: List::new(r.rest()),
                }
            }
            pt::INCOMING_SSN_RESET_REQUEST => {
                if value.len() < 4 || !value.len().is_multiple_of(2) {
                    return Err(bad);
                }
                Param::IncomingSsnResetRequest {
                    request_seq: r.u32()?,
                    streams: List::new(r.rest()),
                }
            }
            pt::SSN_TSN_RESET_REQUEST => {
                exact(4)?;
                Param::SsnTsnResetRequest {
                    request_seq: r.u32()?,
                }
            }
            pt::RECONFIG_RESPONSE => {
                if value.len() != 8 && value.len() != 16 {
                    return Err(bad);
                }
                let response_seq = r.u32()?;
                let result = r.u32()?;
                let next_tsns = if value.len() == 16 {
                    Some((r.u32()?, r.u32()?))
                } else {
                    None
                };
                Param::ReconfigResponse {
                    response_seq,
                    result,
                    next_tsns,
                }
            }
            pt::ADD_OUTGOING_STREAMS | pt::ADD_INCOMING_STREAMS => {
                exact(8)?;
                let request_seq = r.u32()?;
                let new_streams = r.u16()?;
                if param_type == pt::ADD_OUTGOING_STREAMS {
                    Param::AddOutgoingStreams {
                        request_seq,
                        new_streams,
                    }
                } else {
                    Param::AddIncomingStreams {
                        request_seq,
                        new_streams,
                    }
                }
            }
            pt::ZERO_CHECKSUM_ACCEPTABLE => {
                exact(4)?;
                Param::ZeroChecksumAcceptable { edmid: r.u32()? }
            }
            pt::SUPPORTED_EXTENSIONS => Param::SupportedExtensions(value),
            pt::FORWARD_TSN_SUPPORTED => {
                exact(0)?;
                Param::ForwardTsnSupported
            }
            _ => Param::Unknown { param_type, value },
        })
    }

    /// The parameter type.
    pub fn param_type(&self) -> u16 {
        match self {
            Param::HeartbeatInfo(_) => pt::HEARTBEAT_INFO,
            Param::Ipv4Address(_) => pt::IPV4_ADDRESS,
            Param::Ipv6Address(_) => pt::IPV6_ADDRESS,
            Param::StateCookie(_) => pt::STATE_COOKIE,
            Param::UnrecognizedParameter(_) => pt::UNRECOGNIZED_PARAMETER,
            Param::CookiePreservative(_) => pt::COOKIE_PRESERVATIVE,
            Param::HostNameAddress(_) => pt::HOST_NAME_ADDRESS,
            Param::SupportedAddressTypes(_) => pt::SUPPORTED_ADDRESS_TYPES,
            Param::OutgoingSsnResetRequest { .. } => pt::OUTGOING_SSN_RESET_REQUEST,
            Param::IncomingSsnResetRequest { .. } => pt::INCOMING_SSN_RESET_REQUEST,
            Param::SsnTsnResetRequest { .. } => pt::SSN_TSN_RESET_REQUEST,
            Param::ReconfigResponse { .. } => pt::RECONFIG_RESPONSE,
            Param::AddOutgoingStreams { .. } => pt::ADD_OUTGOING_STREAMS,
            Param::AddIncomingStreams { .. } => pt::ADD_INCOMING_STREAMS,
            Param::ZeroChecksumAcceptable { .. } => pt::ZERO_CHECKSUM_ACCEPTABLE,
            Param::SupportedExtensions(_) => pt::SUPPORTED_EXTENSIONS,
            Param::ForwardTsnSupported => pt::FORWARD_TSN_SUPPORTED,
            Param::Unknown { param_type, .. } => *param_type,
        }
    }

    /// For an unknown type, what RFC 9260 §3.2.1 says to do with it; `None` for the known.
    pub fn action(&self) -> Option<Action> {
        match self {
            Param::Unknown { param_type, .. } => {
                Some(Action::from_high_byte(param_type.to_be_bytes()[0]))
            }
            _ => None,
        }
    }

    /// Appends the parameter, padded; returns the padding bytes written.
    pub fn emit<B: WireBuf>(&self, out: &mut B) -> Result<usize, WireError> {
        let t = self.param_type();
        write_param(out, t, |out| match self {
            Param::HeartbeatInfo(v)
            | Param::StateCookie(v)
            | Param::UnrecognizedParameter(v)
            | Param::HostNameAddress(v)
            | Param::SupportedExtensions(v)
            | Param::Unknown { value: v, .. } => out.put(v),
            Param::Ipv4Address(a) => out.put(a),
            Param::Ipv6Address(a) => out.put(a),
            Param::CookiePreservative(v)
            | Param::SsnTsnResetRequest { request_seq: v }
            | Param::ZeroChecksumAcceptable { edmid: v } => out.put(&v.to_be_bytes()),
            Param::SupportedAddressTypes(list) => list.emit(out),
            Param::OutgoingSsnResetRequest {
                request_seq,
                response_seq,
                last_tsn,
                streams,
            } => {
                out.put(&request_seq.to_be_bytes());
                out.put(&response_seq.to_be_bytes());
                out.put(&last_tsn.to_be_bytes());
                streams.emit(out);
            }
            Param::IncomingSsnResetRequest {
                request_seq,
                streams,
            } => {
                out.put(&request_seq.to_be_bytes());
                streams.emit(out);
            }
            Param::ReconfigResponse {
                response_seq,
                result,
                next_tsns,
            } => {
                out.put(&response_seq.to_be_bytes());
                out.put(&result.to_be_bytes());
                if let Some((sender, receiver)) = next_tsns {
                    out.put(&sender.to_be_bytes());
                    out.put(&receiver.to_be_bytes());
                }
            }
            Param::AddOutgoingStreams {
                request_seq,
                new_streams,
            }
            | Param::AddIncomingStreams {
                request_seq,
                new_streams,
            } => {
                out.put(&request_seq.to_be_bytes());
                out.put(&new_streams.to_be_bytes());
                out.put(&[0, 0]);
            }
            Param::ForwardTsnSupported => {}
        })
    }
}

fn write_tlv<B: WireBuf>(
    out: &mut B,
    t: u16,
    ctx: Context,
    body: impl FnOnce(&mut B),
) -> Result<usize, WireError> {
    let start = out.written().len();
    out.put(&t.to_be_bytes());
    out.put(&[0, 0]);
    body(out);
    let len = out.written().len().saturating_sub(start);
    let Ok(len16) = u16::try_from(len) else {
        out.truncate_to(start);
        return Err(WireError::TooLong { ctx, len });
    };
    if let Some(field) = out
        .written_mut()
        .get_mut(start.saturating_add(2)..start.saturating_add(4))
    {
        field.copy_from_slice(&len16.to_be_bytes());
    }
    let pad = pad_len(len);
    out.put([0u8; 3].get(..pad).unwrap_or(&[]));
    Ok(pad)
}

/// Appends one parameter (RFC 9260 §3.2.1): header, the value `body` writes, the length
/// filled in, padding. Returns the padding written (which a chunk's length leaves out
/// when this is its last parameter).
pub fn write_param<B: WireBuf>(
    out: &mut B,
    param_type: u16,
    body: impl FnOnce(&mut B),
) -> Result<usize, WireError> {
    write_tlv(out, param_type, Context::Param(param_type), body)
}

/// Appends one error cause (RFC 9260 §3.3.10), as [`write_param`] does a parameter.
pub fn write_cause<B: WireBuf>(
    out: &mut B,
    code: u16,
    body: impl FnOnce(&mut B),
) -> Result<usize, WireError> {
    write_tlv(out, code, Context::Cause(code), body)
}

/// The parameters of a chunk, each checked when the chunk was read.
#[derive(Clone, Copy)]
pub struct Params<'a> {
    bytes: &'a [u8],
    base: usize,
}

impl<'a> Params<'a> {
    /// Checks every parameter in `bytes` (lengths, padding, typed values); `base` is the
    /// offset of `bytes` in the packet, for errors.
    pub fn parse(bytes: &'a [u8], base: usize) -> Result<Params<'a>, WireError> {
        let mut tlvs = Tlvs::new(bytes, base, false);
        while let Some((t, value, at)) = tlvs.next_tlv()? {
            Param::parse(t, value, at)?;
        }
        Ok(Params { bytes, base })
    }

    /// No parameters.
    pub fn empty() -> Params<'static> {
        Params {
            bytes: &[],
            base: 0,
        }
    }

    /// The parameters in order.
    pub fn iter(&self) -> ParamsIter<'a> {
        ParamsIter {
            tlvs: Tlvs::new(self.bytes, self.base, false),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The parameters' bytes as they came.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Appends them all; returns the last one's padding.
    pub fn emit<B: WireBuf>(&self, out: &mut B) -> Result<usize, WireError> {
        write_params(out, self.iter())
    }
}

/// Appends parameters; returns the last one's padding (for [`write_chunk`](super::write_chunk)).
pub fn write_params<'p, B: WireBuf>(
    out: &mut B,
    params: impl IntoIterator<Item = Param<'p>>,
) -> Result<usize, WireError> {
    let mut pad = 0;
    for p in params {
        pad = p.emit(out)?;
    }
    Ok(pad)
}

/// The same parameters, wherever they sit and however the last was padded.
impl PartialEq for Params<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Params<'_> {}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for Params<'a> {
    type Item = Param<'a>;
    type IntoIter = ParamsIter<'a>;
    fn into_iter(self) -> ParamsIter<'a> {
        self.iter()
    }
}

/// The parameters of [`Params`].
#[derive(Clone)]
pub struct ParamsIter<'a> {
    tlvs: Tlvs<'a>,
}

impl<'a> Iterator for ParamsIter<'a> {
    type Item = Param<'a>;
    fn next(&mut self) -> Option<Param<'a>> {
        // Checked in `Params::parse`; an error cannot come here.
        let (t, value, at) = self.tlvs.next_tlv().ok()??;
        Param::parse(t, value, at).ok()
    }
}

/// A typed error cause (RFC 9260 §3.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause<'a> {
    /// §3.3.10.1
    InvalidStreamIdentifier {
        /// The stream.
        stream_id: u16,
    },
    /// §3.3.10.2: the missing parameter types.
    MissingMandatoryParameter(List<'a, u16>),
    /// §3.3.10.3
    StaleCookie {
        /// Measure of Staleness in microseconds.
        staleness_us: u32,
    },
    /// §3.3.10.4
    OutOfResource,
    /// §3.3.10.5: the address parameter.
    UnresolvableAddress(&'a [u8]),
    /// §3.3.10.6: the chunk not understood.
    UnrecognizedChunkType(&'a [u8]),
    /// §3.3.10.7
    InvalidMandatoryParameter,
    /// §3.3.10.8: the parameters not understood.
    UnrecognizedParameters(&'a [u8]),
    /// §3.3.10.9
    NoUserData {
        /// TSN of the empty DATA chunk.
        tsn: u32,
    },
    /// §3.3.10.10
    CookieReceivedWhileShuttingDown,
    /// §3.3.10.11: the new addresses.
    RestartWithNewAddresses(&'a [u8]),
    /// §3.3.10.12: the upper layer's reason.
    UserInitiatedAbort(&'a [u8]),
    /// §3.3.10.13: additional information.
    ProtocolViolation(&'a [u8]),
    /// Any other cause code.
    Unknown {
        /// Cause code.
        code: u16,
        /// Cause-specific information.
        info: &'a [u8],
    },
}

impl<'a> Cause<'a> {
    /// Reads a cause's information; `at` is the offset of its header, for errors.
    pub fn parse(code: u16, info: &'a [u8], at: usize) -> Result<Cause<'a>, WireError> {
        let ctx = Context::Cause(code);
        let bad = WireError::BadLength {
            ctx,
            at,
            len: info.len().saturating_add(4),
        };
        let exact = |n: usize| if info.len() == n { Ok(()) } else { Err(bad) };
        let mut r = Reader::new(info, at.saturating_add(4), ctx);
        Ok(match code {
            cc::INVALID_STREAM_IDENTIFIER => {
                exact(4)?;
                Cause::InvalidStreamIdentifier {
                    stream_id: r.u16()?,
                }
            }
            cc::MISSING_MANDATORY_PARAMETER => {
                let count = r.u32()?;
                let list = r.rest();
                if usize::try_from(count).ok() != Some(list.len() / 2)
                    || !list.len().is_multiple_of(2)
                {
                    return Err(bad);
                }
                Cause::MissingMandatoryParameter(List::new(list))
            }
            cc::STALE_COOKIE => {
                exact(4)?;
                Cause::StaleCookie {
                    staleness_us: r.u32()?,
                }
            }
            cc::OUT_OF_RESOURCE => {
                exact(0)?;
                Cause::OutOfResource
            }
            cc::UNRESOLVABLE_ADDRESS => Cause::UnresolvableAddress(info),
            cc::UNRECOGNIZED_CHUNK_TYPE => Cause::UnrecognizedChunkType(info),
            cc::INVALID_MANDATORY_PARAMETER => {
                exact(0)?;
                Cause::InvalidMandatoryParameter
            }
            cc::UNRECOGNIZED_PARAMETERS => Cause::UnrecognizedParameters(info),
            cc::NO_USER_DATA => {
                exact(4)?;
                Cause::NoUserData { tsn: r.u32()? }
            }
            cc::COOKIE_RECEIVED_WHILE_SHUTTING_DOWN => {
                exact(0)?;
                Cause::CookieReceivedWhileShuttingDown
            }
            cc::RESTART_WITH_NEW_ADDRESSES => Cause::RestartWithNewAddresses(info),
            cc::USER_INITIATED_ABORT => Cause::UserInitiatedAbort(info),
            cc::PROTOCOL_VIOLATION => Cause::ProtocolViolation(info),
            _ => Cause::Unknown { code, info },
        })
    }

    /// The cause code.
    pub fn code(&self) -> u16 {
        match self {
            Cause::InvalidStreamIdentifier { .. } => cc::INVALID_STREAM_IDENTIFIER,
            Cause::MissingMandatoryParameter(_) => cc::MISSING_MANDATORY_PARAMETER,
            Cause::StaleCookie { .. } => cc::STALE_COOKIE,
            Cause::OutOfResource => cc::OUT_OF_RESOURCE,
            Cause::UnresolvableAddress(_) => cc::UNRESOLVABLE_ADDRESS,
            Cause::UnrecognizedChunkType(_) => cc::UNRECOGNIZED_CHUNK_TYPE,
            Cause::InvalidMandatoryParameter => cc::INVALID_MANDATORY_PARAMETER,
            Cause::UnrecognizedParameters(_) => cc::UNRECOGNIZED_PARAMETERS,
            Cause::NoUserData { .. } => cc::NO_USER_DATA,
            Cause::CookieReceivedWhileShuttingDown => cc::COOKIE_RECEIVED_WHILE_SHUTTING_DOWN,
            Cause::RestartWithNewAddresses(_) => cc::RESTART_WITH_NEW_ADDRESSES,
            Cause::UserInitiatedAbort(_) => cc::USER_INITIATED_ABORT,
            Cause::ProtocolViolation(_) => cc::PROTOCOL_VIOLATION,
            Cause::Unknown { code, .. } => *code,
        }
    }

    /// Appends the cause, padded; returns the padding bytes written.
    pub fn emit<B: WireBuf>(&self, out: &mut B) -> Result<usize, WireError> {
        let code = self.code();
        write_cause(out, code, |out| match self {
            Cause::InvalidStreamIdentifier { stream_id } => {
                out.put(&stream_id.to_be_bytes());
                out.put(&[0, 0]);
            }
            Cause::MissingMandatoryParameter(list) => {
                let n = u32::try_from(list.len()).unwrap_or(u32::MAX);
                out.put(&n.to_be_bytes());
                list.emit(out);
            }
            Cause::StaleCookie { staleness_us: v } | Cause::NoUserData { tsn: v } => {
                out.put(&v.to_be_bytes())
            }
            Cause::OutOfResource
            | Cause::InvalidMandatoryParameter
            | Cause::CookieReceivedWhileShuttingDown => {}
            Cause::UnresolvableAddress(v)
            | Cause::UnrecognizedChunkType(v)
            | Cause::UnrecognizedParameters(v)
            | Cause::RestartWithNewAddresses(v)
            | Cause::UserInitiatedAbort(v)
            | Cause::ProtocolViolation(v)
            | Cause::Unknown { info: v, .. } => out.put(v),
        })
    }
}

/// The error causes of an ABORT or ERROR, each checked when the chunk was read.
#[derive(Clone, Copy)]
pub struct Causes<'a> {
    bytes: &'a [u8],
    base: usize,
}

impl<'a> Causes<'a> {
    /// Checks every cause in `bytes`; `base` is the offset of `bytes` in the packet.
    pub fn parse(bytes: &'a [u8], base: usize) -> Result<Causes<'a>, WireError> {
        let mut tlvs = Tlvs::new(bytes, base, true);
        while let Some((code, info, at)) = tlvs.next_tlv()? {
            Cause::parse(code, info, at)?;
        }
        Ok(Causes { bytes, base })
    }

    /// No causes.
    pub fn empty() -> Causes<'static> {
        Causes {
            bytes: &[],
            base: 0,
        }
    }

    /// The causes in order.
    pub fn iter(&self) -> CausesIter<'a> {
        CausesIter {
            tlvs: Tlvs::new(self.bytes, self.base, true),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Appends them all; returns the last one's padding.
    pub fn emit<B: WireBuf>(&self, out: &mut B) -> Result<usize, WireError> {
        let mut pad = 0;
        for c in self.iter() {
            pad = c.emit(out)?;
        }
        Ok(pad)
    }
}

/// The same causes, wherever they sit.
impl PartialEq for Causes<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Causes<'_> {}

impl fmt::Debug for Causes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The causes of [`Causes`].
#[derive(Clone)]
pub struct CausesIter<'a> {
    tlvs: Tlvs<'a>,
}

impl<'a> Iterator for CausesIter<'a> {
    type Item = Cause<'a>;
    fn next(&mut self) -> Option<Cause<'a>> {
        let (code, info, at) = self.tlvs.next_tlv().ok()??;
        Cause::parse(code, info, at).ok()
    }
}
