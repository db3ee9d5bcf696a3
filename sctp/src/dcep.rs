//! The Data Channel Establishment Protocol (RFC 8832): DATA_CHANNEL_OPEN and
//! DATA_CHANNEL_ACK, carried on the channel's own stream with PPID 50.
//!
//! Parsing borrows the label and protocol from the input and checks every length against
//! the bytes present; writing appends to a caller `Vec`.

/// DCEP's payload protocol identifier (RFC 8832 §8.1).
pub const PPID_DCEP: u32 = 50;

const MSG_ACK: u8 = 0x02;
const MSG_OPEN: u8 = 0x03;
/// Fixed part of DATA_CHANNEL_OPEN (RFC 8832 §5.1).
const OPEN_HEADER: usize = 12;

/// How a channel delivers messages: RFC 8832 §5.1 channel types, split into their two
/// independent parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reliability {
    /// Messages arrive in the order sent (channel type high bit clear).
    pub ordered: bool,
    /// What happens to a message the network loses.
    pub policy: Policy,
}

/// The retransmission policy of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// Retransmit until acknowledged (DATA_CHANNEL_RELIABLE).
    #[default]
    Reliable,
    /// Give up after this many retransmissions (DATA_CHANNEL_PARTIAL_RELIABLE_REXMIT).
    MaxRetransmits(u32),
    /// Give up this many milliseconds after the first transmission
    /// (DATA_CHANNEL_PARTIAL_RELIABLE_TIMED).
    MaxLifetimeMs(u32),
}

impl Default for Reliability {
    /// Reliable and ordered, as W3C `RTCDataChannelInit` defaults.
    fn default() -> Self {
        Reliability::RELIABLE
    }
}

impl Reliability {
    /// Reliable and ordered: what `createDataChannel(label)` gives.
    pub const RELIABLE: Reliability = Reliability {
        ordered: true,
        policy: Policy::Reliable,
    };

    /// The channel type byte and reliability parameter (RFC 8832 §5.1).
    pub fn to_wire(self) -> (u8, u32) {
        let unordered = if self.ordered { 0 } else { 0x80 };
        match self.policy {
            Policy::Reliable => (unordered, 0),
            Policy::MaxRetransmits(n) => (unordered | 0x01, n),
            Policy::MaxLifetimeMs(ms) => (unordered | 0x02, ms),
        }
    }

    /// From a channel type byte and reliability parameter; `None` for an unassigned type.
    pub fn from_wire(channel_type: u8, parameter: u32) -> Option<Reliability> {
        let ordered = channel_type & 0x80 == 0;
        let policy = match channel_type & 0x7f {
            // RFC 8832 §5.1: the parameter is ignored for reliable channels.
            0x00 => Policy::Reliable,
            0x01 => Policy::MaxRetransmits(parameter),
            0x02 => Policy::MaxLifetimeMs(parameter),
            _ => return None,
        };
        Some(Reliability { ordered, policy })
    }
}

/// A DATA_CHANNEL_OPEN message (RFC 8832 §5.1), borrowing its strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open<'a> {
    /// Ordering and retransmission policy.
    pub reliability: Reliability,
    /// Priority (RFC 8831 §6.4; W3C maps very-low 128, low 256, medium 512, high 1024).
    pub priority: u16,
    /// The channel's label, UTF-8.
    pub label: &'a str,
    /// The sub-protocol, UTF-8, often empty.
    pub protocol: &'a str,
}

/// A DCEP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// DATA_CHANNEL_OPEN.
    Open(Open<'a>),
    /// DATA_CHANNEL_ACK.
    Ack,
}

/// Why bytes are not a DCEP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DcepError {
    /// No message type byte.
    Empty,
    /// A message type other than OPEN (0x03) or ACK (0x02).
    UnknownMessageType(u8),
    /// Shorter than the OPEN header or than its label and protocol lengths say.
    Truncated,
    /// An unassigned channel type (RFC 8832 §8.2.2).
    UnknownChannelType(u8),
    /// The label or protocol is not UTF-8 (RFC 8832 §5.1).
    NotUtf8,
    /// A label or protocol longer than the 16-bit length field (writing only).
    TooLong,
}

impl std::fmt::Display for DcepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DcepError::Empty => f.write_str("empty DCEP message"),
            DcepError::UnknownMessageType(t) => write!(f, "unknown DCEP message type {t:#04x}"),
            DcepError::Truncated => f.write_str("DCEP message shorter than its lengths"),
            DcepError::UnknownChannelType(t) => write!(f, "unknown DCEP channel type {t:#04x}"),
            DcepError::NotUtf8 => f.write_str("DCEP label or protocol is not UTF-8"),
            DcepError::TooLong => f.write_str("label or protocol longer than 65535 bytes"),
        }
    }
}

impl std::error::Error for DcepError {}

impl<'a> Message<'a> {
    /// Parses one DCEP message. Bytes after the protocol are ignored: RFC 8832 defines
    /// none, and a later extension would append them.
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, DcepError> {
        let (&kind, _) = bytes.split_first().ok_or(DcepError::Empty)?;
        match kind {
            // RFC 8832 §5.2: the ACK is the type byte alone.
            MSG_ACK => Ok(Message::Ack),
            MSG_OPEN => {
                let header = bytes.get(..OPEN_HEADER).ok_or(DcepError::Truncated)?;
                let channel_type = header[1];
                let priority = u16::from_be_bytes([header[2], header[3]]);
                let parameter = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
                let label_len = usize::from(u16::from_be_bytes([header[8], header[9]]));
                let protocol_len = usize::from(u16::from_be_bytes([header[10], header[11]]));
                let reliability = Reliability::from_wire(channel_type, parameter)
                    .ok_or(DcepError::UnknownChannelType(channel_type))?;
                let rest = &bytes[OPEN_HEADER..];
                let label = rest.get(..label_len).ok_or(DcepError::Truncated)?;
                let protocol = rest
                    .get(label_len..label_len + protocol_len)
                    .ok_or(DcepError::Truncated)?;
                let label = std::str::from_utf8(label).map_err(|_| DcepError::NotUtf8)?;
                let protocol = std::str::from_utf8(protocol).map_err(|_| DcepError::NotUtf8)?;
                Ok(Message::Open(Open {
                    reliability,
                    priority,
                    label,
                    protocol,
                }))
            }
            other => Err(DcepError::UnknownMessageType(other)),
        }
    }

    /// Appends the message's wire form to `out`.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), DcepError> {
        match self {
            Message::Ack => out.push(MSG_ACK),
            Message::Open(open) => {
                let label_len = u16::try_from(open.label.len()).map_err(|_| DcepError::TooLong)?;
                let protocol_len =
                    u16::try_from(open.protocol.len()).map_err(|_| DcepError::TooLong)?;
                let (channel_type, parameter) = open.reliability.to_wire();
                out.reserve(OPEN_HEADER + open.label.len() + open.protocol.len());
                out.push(MSG_OPEN);
                out.push(channel_type);
                out.extend_from_slice(&open.priority.to_be_bytes());
                out.extend_from_slice(&parameter.to_be_bytes());
                out.extend_from_slice(&label_len.to_be_bytes());
                out.extend_from_slice(&protocol_len.to_be_bytes());
                out.extend_from_slice(open.label.as_bytes());
                out.extend_from_slice(open.protocol.as_bytes());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_layout_matches_rfc_8832_figure_1() {
        let open = Message::Open(Open {
            reliability: Reliability {
                ordered: false,
                policy: Policy::MaxRetransmits(3),
            },
            priority: 256,
            label: "chat",
            protocol: "x",
        });
        let mut out = Vec::new();
        open.write(&mut out).unwrap();
        assert_eq!(
            out,
            [0x03, 0x81, 0x01, 0x00, 0, 0, 0, 3, 0, 4, 0, 1, b'c', b'h', b'a', b't', b'x']
        );
        assert_eq!(Message::parse(&out).unwrap(), open);
    }

    #[test]
    fn every_channel_type_round_trips() {
        for (ty, policy) in [
            (0x00, Policy::Reliable),
            (0x01, Policy::MaxRetransmits(7)),
            (0x02, Policy::MaxLifetimeMs(1500)),
        ] {
            for ordered in [true, false] {
                let r = Reliability { ordered, policy };
                let (wire_type, _) = r.to_wire();
                assert_eq!(wire_type, ty | if ordered { 0 } else { 0x80 });
                let (t, p) = r.to_wire();
                assert_eq!(Reliability::from_wire(t, p), Some(r));
            }
        }
        assert_eq!(Reliability::from_wire(0x03, 0), None);
        assert_eq!(Reliability::from_wire(0x7f, 0), None);
    }

    #[test]
    fn hostile_inputs_are_typed_errors() {
        assert_eq!(Message::parse(&[]), Err(DcepError::Empty));
        assert_eq!(
            Message::parse(&[0x05]),
            Err(DcepError::UnknownMessageType(5))
        );
        assert_eq!(Message::parse(&[0x03, 0]), Err(DcepError::Truncated));
        // Label length 5 with 4 bytes present.
        let short = [
            0x03, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, b'a', b'b', b'c', b'd',
        ];
        assert_eq!(Message::parse(&short), Err(DcepError::Truncated));
        let bad_utf8 = [0x03, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xff];
        assert_eq!(Message::parse(&bad_utf8), Err(DcepError::NotUtf8));
        let bad_type = [0x03, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            Message::parse(&bad_type),
            Err(DcepError::UnknownChannelType(5))
        );
        assert_eq!(Message::parse(&[0x02]), Ok(Message::Ack));
        let long = "a".repeat(70_000);
        let open = Message::Open(Open {
            reliability: Reliability::RELIABLE,
            priority: 0,
            label: &long,
            protocol: "",
        });
        assert_eq!(open.write(&mut Vec::new()), Err(DcepError::TooLong));
    }
}
