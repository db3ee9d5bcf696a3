//! Attribute types and their values: STUN (RFC 8489 §14), ICE (RFC 8445 §16.1) and TURN
//! (RFC 8656 §18).
//!
//! Each attribute is a small type implementing [`StunAttribute`]: it decodes from the value
//! bytes of a received message (borrowing text and opaque data, never copying) and encodes
//! into a caller's buffer. [`Message::get`](crate::Message::get) is the typed accessor:
//! `msg.get::<XorMappedAddress>()`. [`Attribute`] is the same set as one enum, for code that
//! walks every attribute (the CLI, the fuzz round trip).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::bytes::{array, be16, be32, be64, pad4, put};
use crate::message::{TransactionId, MAGIC_COOKIE};
use crate::Error;

// RFC 8489 §18.3, comprehension-required range 0x0000-0x7FFF.
/// MAPPED-ADDRESS (RFC 8489 §14.1).
pub const MAPPED_ADDRESS: u16 = 0x0001;
/// USERNAME (RFC 8489 §14.3).
pub const USERNAME: u16 = 0x0006;
/// MESSAGE-INTEGRITY (RFC 8489 §14.5).
pub const MESSAGE_INTEGRITY: u16 = 0x0008;
/// ERROR-CODE (RFC 8489 §14.8).
pub const ERROR_CODE: u16 = 0x0009;
/// UNKNOWN-ATTRIBUTES (RFC 8489 §14.9).
pub const UNKNOWN_ATTRIBUTES: u16 = 0x000A;
/// CHANNEL-NUMBER (RFC 8656 §18.1).
pub const CHANNEL_NUMBER: u16 = 0x000C;
/// LIFETIME (RFC 8656 §18.2).
pub const LIFETIME: u16 = 0x000D;
/// XOR-PEER-ADDRESS (RFC 8656 §18.3).
pub const XOR_PEER_ADDRESS: u16 = 0x0012;
/// DATA (RFC 8656 §18.4).
pub const DATA: u16 = 0x0013;
/// REALM (RFC 8489 §14.9).
pub const REALM: u16 = 0x0014;
/// NONCE (RFC 8489 §14.10).
pub const NONCE: u16 = 0x0015;
/// XOR-RELAYED-ADDRESS (RFC 8656 §18.5).
pub const XOR_RELAYED_ADDRESS: u16 = 0x0016;
/// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6).
pub const REQUESTED_ADDRESS_FAMILY: u16 = 0x0017;
/// EVEN-PORT (RFC 8656 §18.7).
pub const EVEN_PORT: u16 = 0x0018;
/// REQUESTED-TRANSPORT (RFC 8656 §18.8).
pub const REQUESTED_TRANSPORT: u16 = 0x0019;
/// DONT-FRAGMENT (RFC 8656 §18.9).
pub const DONT_FRAGMENT: u16 = 0x001A;
/// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6).
pub const MESSAGE_INTEGRITY_SHA256: u16 = 0x001C;
/// PASSWORD-ALGORITHM (RFC 8489 §14.12).
pub const PASSWORD_ALGORITHM: u16 = 0x001D;
/// USERHASH (RFC 8489 §14.4).
pub const USERHASH: u16 = 0x001E;
/// XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
pub const XOR_MAPPED_ADDRESS: u16 = 0x0020;
/// RESERVATION-TOKEN (RFC 8656 §18.10).
pub const RESERVATION_TOKEN: u16 = 0x0022;
/// PRIORITY (RFC 8445 §16.1).
pub const PRIORITY: u16 = 0x0024;
/// USE-CANDIDATE (RFC 8445 §16.1).
pub const USE_CANDIDATE: u16 = 0x0025;
// RFC 8489 §18.3, comprehension-optional range 0x8000-0xFFFF.
/// PASSWORD-ALGORITHMS (RFC 8489 §14.11).
pub const PASSWORD_ALGORITHMS: u16 = 0x8002;
/// ALTERNATE-DOMAIN (RFC 8489 §14.16).
pub const ALTERNATE_DOMAIN: u16 = 0x8003;
/// SOFTWARE (RFC 8489 §14.14).
pub const SOFTWARE: u16 = 0x8022;
/// ALTERNATE-SERVER (RFC 8489 §14.15).
pub const ALTERNATE_SERVER: u16 = 0x8023;
/// FINGERPRINT (RFC 8489 §14.7).
pub const FINGERPRINT: u16 = 0x8028;
/// ICE-CONTROLLED (RFC 8445 §16.1).
pub const ICE_CONTROLLED: u16 = 0x8029;
/// ICE-CONTROLLING (RFC 8445 §16.1).
pub const ICE_CONTROLLING: u16 = 0x802A;

/// The RFC name of an attribute type this crate knows, e.g. `"XOR-MAPPED-ADDRESS"`.
pub fn name(typ: u16) -> Option<&'static str> {
    Some(match typ {
        MAPPED_ADDRESS => "MAPPED-ADDRESS",
        USERNAME => "USERNAME",
        MESSAGE_INTEGRITY => "MESSAGE-INTEGRITY",
        ERROR_CODE => "ERROR-CODE",
        UNKNOWN_ATTRIBUTES => "UNKNOWN-ATTRIBUTES",
        CHANNEL_NUMBER => "CHANNEL-NUMBER",
        LIFETIME => "LIFETIME",
        XOR_PEER_ADDRESS => "XOR-PEER-ADDRESS",
        DATA => "DATA",
        REALM => "REALM",
        NONCE => "NONCE",
        XOR_RELAYED_ADDRESS => "XOR-RELAYED-ADDRESS",
        REQUESTED_ADDRESS_FAMILY => "REQUESTED-ADDRESS-FAMILY",
        EVEN_PORT => "EVEN-PORT",
        REQUESTED_TRANSPORT => "REQUESTED-TRANSPORT",
        DONT_FRAGMENT => "DONT-FRAGMENT",
        MESSAGE_INTEGRITY_SHA256 => "MESSAGE-INTEGRITY-SHA256",
        PASSWORD_ALGORITHM => "PASSWORD-ALGORITHM",
        USERHASH => "USERHASH",
        XOR_MAPPED_ADDRESS => "XOR-MAPPED-ADDRESS",
        RESERVATION_TOKEN => "RESERVATION-TOKEN",
        PRIORITY => "PRIORITY",
        USE_CANDIDATE => "USE-CANDIDATE",
        PASSWORD_ALGORITHMS => "PASSWORD-ALGORITHMS",
        ALTERNATE_DOMAIN => "ALTERNATE-DOMAIN",
        SOFTWARE => "SOFTWARE",
        ALTERNATE_SERVER => "ALTERNATE-SERVER",
        FINGERPRINT => "FINGERPRINT",
        ICE_CONTROLLED => "ICE-CONTROLLED",
        ICE_CONTROLLING => "ICE-CONTROLLING",
        _ => return None,
    })
}

/// Whether this crate understands the attribute type.
pub fn is_known(typ: u16) -> bool {
    name(typ).is_some()
}

/// RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required; a request carrying one the
/// receiver does not understand is answered with 420 (Unknown Attribute).
pub const fn is_comprehension_required(typ: u16) -> bool {
    typ < 0x8000
}

/// One attribute type's value: how to read it from a received message and write it into a
/// buffer. `txid` is the message's transaction ID, which the XOR-ed address attributes mix
/// in (RFC 8489 §14.2).
pub trait StunAttribute<'a>: Sized {
    /// The attribute type on the wire.
    const TYPE: u16;
    /// Reads the value (without padding).
    fn decode(value: &'a [u8], txid: &TransactionId) -> Result<Self, Error>;
    /// The value's length in bytes, without padding.
    fn value_len(&self) -> usize;
    /// Writes exactly `value_len()` bytes into `out` (which is at least that long).
    fn encode(&self, txid: &TransactionId, out: &mut [u8]) -> Result<(), Error>;
}

// ---------------------------------------------------------------------------------------
// Addresses: RFC 8489 §14.1 (plain) and §14.2 (XOR-ed).

const FAMILY_IPV4: u8 = 0x01;
const FAMILY_IPV6: u8 = 0x02;

fn decode_address(typ: u16, v: &[u8], xor: Option<&TransactionId>) -> Result<SocketAddr, Error> {
    let bad = Error::InvalidAttribute { attr: typ };
    // RFC 8489 §14.1: the first 8 bits are zero and MUST be ignored by receivers.
    let family = *v.get(1).ok_or(bad)?;
    let port = be16(v, 2).ok_or(bad)?;
    let cookie = MAGIC_COOKIE.to_be_bytes();
    match family {
        FAMILY_IPV4 => {
            if v.len() != 8 {
                return Err(bad);
            }
            let mut ip: [u8; 4] = array(v, 4).ok_or(bad)?;
            let mut port = port;
            if xor.is_some() {
                // RFC 8489 §14.2: X-Port is the port XOR the 16 most significant bits of the
                // cookie; X-Address is the address XOR the cookie.
                port ^= (MAGIC_COOKIE >> 16) as u16;
                ip.iter_mut().zip(cookie).for_each(|(b, c)| *b ^= c);
            }
            Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port))
        }
        FAMILY_IPV6 => {
            if v.len() != 20 {
                return Err(bad);
            }
            let mut ip: [u8; 16] = array(v, 4).ok_or(bad)?;
            let mut port = port;
            if let Some(txid) = xor {
                // RFC 8489 §14.2: for IPv6 the address is XOR-ed with the cookie followed by
                // the 96-bit transaction ID.
                port ^= (MAGIC_COOKIE >> 16) as u16;
                let mask = cookie.iter().chain(txid.0.iter());
                ip.iter_mut().zip(mask).for_each(|(b, c)| *b ^= c);
            }
            Ok(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port))
        }
        family => Err(Error::UnknownAddressFamily { family }),
    }
}

fn address_len(a: &SocketAddr) -> usize {
    match a {
        SocketAddr::V4(_) => 8,
        SocketAddr::V6(_) => 20,
    }
}

fn encode_address(
    a: &SocketAddr,
    xor: Option<&TransactionId>,
    out: &mut [u8],
) -> Result<(), Error> {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let mut port = a.port();
    if xor.is_some() {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    put(out, 2, &port.to_be_bytes())?;
    match a.ip() {
        IpAddr::V4(ip) => {
            put(out, 0, &[0, FAMILY_IPV4])?;
            let mut b = ip.octets();
            if xor.is_some() {
                b.iter_mut().zip(cookie).for_each(|(b, c)| *b ^= c);
            }
            put(out, 4, &b)
        }
        IpAddr::V6(ip) => {
            put(out, 0, &[0, FAMILY_IPV6])?;
            let mut b = ip.octets();
            if let Some(txid) = xor {
                let mask = cookie.iter().chain(txid.0.iter());
                b.iter_mut().zip(mask).for_each(|(b, c)| *b ^= c);
            }
            put(out, 4, &b)
        }
    }
}

macro_rules! address_attribute {
    ($(#[$doc:meta])* $name:ident, $typ:expr, $xor:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub SocketAddr);

        impl<'a> StunAttribute<'a> for $name {
            const TYPE: u16 = $typ;
            fn decode(value: &'a [u8], txid: &TransactionId) -> Result<Self, Error> {
                decode_address($typ, value, if $xor { Some(txid) } else { None }).map($name)
            }
            fn value_len(&self) -> usize {
                address_len(&self.0)
            }
            fn encode(&self, txid: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
                encode_address(&self.0, if $xor { Some(txid) } else { None }, out)
            }
        }
    };
}

address_attribute!(
    /// MAPPED-ADDRESS (RFC 8489 §14.1): the reflexive address, not XOR-ed (RFC 3489 servers).
    MappedAddress,
    MAPPED_ADDRESS,
    false
);
address_attribute!(
    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2): the client's reflexive transport address.
    XorMappedAddress,
    XOR_MAPPED_ADDRESS,
    true
);
address_attribute!(
    /// ALTERNATE-SERVER (RFC 8489 §14.15): where a 300 (Try Alternate) sends the client.
    AlternateServer,
    ALTERNATE_SERVER,
    false
);
address_attribute!(
    /// XOR-PEER-ADDRESS (RFC 8656 §18.3): the peer's address as seen from the TURN server.
    XorPeerAddress,
    XOR_PEER_ADDRESS,
    true
);
address_attribute!(
    /// XOR-RELAYED-ADDRESS (RFC 8656 §18.5): the relayed transport address allocated.
    XorRelayedAddress,
    XOR_RELAYED_ADDRESS,
    true
);

// ---------------------------------------------------------------------------------------
// Text and opaque bytes.

macro_rules! text_attribute {
    ($(#[$doc:meta])* $name:ident, $typ:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name<'a>(pub &'a str);

        impl<'a> StunAttribute<'a> for $name<'a> {
            const TYPE: u16 = $typ;
            fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
                std::str::from_utf8(value)
                    .map($name)
                    .map_err(|_| Error::InvalidUtf8 { attr: $typ })
            }
            fn value_len(&self) -> usize {
                self.0.len()
            }
            fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
                put(out, 0, self.0.as_bytes())
            }
        }
    };
}

text_attribute!(
    /// USERNAME (RFC 8489 §14.3): UTF-8, for ICE `<receiver ufrag>:<sender ufrag>`
    /// (RFC 8445 §7.2.2).
    Username,
    USERNAME
);
text_attribute!(
    /// REALM (RFC 8489 §14.9): presence means long-term credentials.
    Realm,
    REALM
);
text_attribute!(
    /// NONCE (RFC 8489 §14.10); may begin with the "nonce cookie" `obMatJos2` (§9.2).
    Nonce,
    NONCE
);
text_attribute!(
    /// SOFTWARE (RFC 8489 §14.14): a description of the agent's software.
    Software,
    SOFTWARE
);
text_attribute!(
    /// ALTERNATE-DOMAIN (RFC 8489 §14.16): the TLS domain of an ALTERNATE-SERVER.
    AlternateDomain,
    ALTERNATE_DOMAIN
);

macro_rules! opaque_attribute {
    ($(#[$doc:meta])* $name:ident, $typ:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name<'a>(pub &'a [u8]);

        impl<'a> StunAttribute<'a> for $name<'a> {
            const TYPE: u16 = $typ;
            fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
                Ok($name(value))
            }
            fn value_len(&self) -> usize {
                self.0.len()
            }
            fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
                put(out, 0, self.0)
            }
        }
    };
}

opaque_attribute!(
    /// DATA (RFC 8656 §18.4): the application data of a Send or Data indication.
    Data,
    DATA
);

macro_rules! fixed_attribute {
    ($(#[$doc:meta])* $name:ident, $typ:expr, $len:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name<'a>(pub &'a [u8; $len]);

        impl<'a> StunAttribute<'a> for $name<'a> {
            const TYPE: u16 = $typ;
            fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
                value
                    .try_into()
                    .map($name)
                    .map_err(|_| Error::InvalidAttribute { attr: $typ })
            }
            fn value_len(&self) -> usize {
                $len
            }
            fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
                put(out, 0, self.0)
            }
        }
    };
}

fixed_attribute!(
    /// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 of the message up to this attribute.
    /// Written by [`MessageBuilder::add_message_integrity`](crate::MessageBuilder::add_message_integrity).
    MessageIntegrity,
    MESSAGE_INTEGRITY,
    20
);
fixed_attribute!(
    /// USERHASH (RFC 8489 §14.4): SHA-256(username ":" realm), in place of USERNAME.
    UserHash,
    USERHASH,
    32
);
fixed_attribute!(
    /// RESERVATION-TOKEN (RFC 8656 §18.10): names a relayed address kept by EVEN-PORT.
    ReservationToken,
    RESERVATION_TOKEN,
    8
);

/// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6): HMAC-SHA256, possibly truncated to 16..=32
/// bytes in steps of 4. Written by
/// [`MessageBuilder::add_message_integrity_sha256`](crate::MessageBuilder::add_message_integrity_sha256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageIntegritySha256<'a>(pub &'a [u8]);

impl<'a> StunAttribute<'a> for MessageIntegritySha256<'a> {
    const TYPE: u16 = MESSAGE_INTEGRITY_SHA256;
    fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
        // RFC 8489 §14.6: at least 16 bytes, at most 32, a multiple of 4.
        if (16..=32).contains(&value.len()) && value.len().is_multiple_of(4) {
            Ok(MessageIntegritySha256(value))
        } else {
            Err(Error::InvalidAttribute {
                attr: MESSAGE_INTEGRITY_SHA256,
            })
        }
    }
    fn value_len(&self) -> usize {
        self.0.len()
    }
    fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
        put(out, 0, self.0)
    }
}

macro_rules! uint_attribute {
    ($(#[$doc:meta])* $name:ident, $typ:expr, $ty:ty, $read:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub $ty);

        impl<'a> StunAttribute<'a> for $name {
            const TYPE: u16 = $typ;
            fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
                if value.len() != std::mem::size_of::<$ty>() {
                    return Err(Error::InvalidAttribute { attr: $typ });
                }
                $read(value, 0)
                    .map($name)
                    .ok_or(Error::InvalidAttribute { attr: $typ })
            }
            fn value_len(&self) -> usize {
                std::mem::size_of::<$ty>()
            }
            fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
                put(out, 0, &self.0.to_be_bytes())
            }
        }
    };
}

uint_attribute!(
    /// FINGERPRINT (RFC 8489 §14.7): the value on the wire (CRC-32 XOR 0x5354554E).
    /// Written by [`MessageBuilder::add_fingerprint`](crate::MessageBuilder::add_fingerprint).
    Fingerprint,
    FINGERPRINT,
    u32,
    be32
);
uint_attribute!(
    /// PRIORITY (RFC 8445 §16.1): the priority a peer-reflexive candidate would get.
    Priority,
    PRIORITY,
    u32,
    be32
);
uint_attribute!(
    /// ICE-CONTROLLED (RFC 8445 §16.1): the agent's tie-breaker, sent by the controlled agent.
    IceControlled,
    ICE_CONTROLLED,
    u64,
    be64
);
uint_attribute!(
    /// ICE-CONTROLLING (RFC 8445 §16.1): the agent's tie-breaker, sent by the controlling
    /// agent.
    IceControlling,
    ICE_CONTROLLING,
    u64,
    be64
);
uint_attribute!(
    /// LIFETIME (RFC 8656 §18.2): seconds until the allocation expires.
    Lifetime,
    LIFETIME,
    u32,
    be32
);

macro_rules! flag_attribute {
    ($(#[$doc:meta])* $name:ident, $typ:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name;

        impl<'a> StunAttribute<'a> for $name {
            const TYPE: u16 = $typ;
            fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
                if value.is_empty() {
                    Ok($name)
                } else {
                    Err(Error::InvalidAttribute { attr: $typ })
                }
            }
            fn value_len(&self) -> usize {
                0
            }
            fn encode(&self, _: &TransactionId, _: &mut [u8]) -> Result<(), Error> {
                Ok(())
            }
        }
    };
}

flag_attribute!(
    /// USE-CANDIDATE (RFC 8445 §16.1): the controlling agent nominates this pair.
    UseCandidate,
    USE_CANDIDATE
);
flag_attribute!(
    /// DONT-FRAGMENT (RFC 8656 §18.9): set the DF bit on relayed UDP.
    DontFragment,
    DONT_FRAGMENT
);

/// CHANNEL-NUMBER (RFC 8656 §18.1): a 16-bit channel number, then 16 RFFU bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChannelNumber(pub u16);

impl<'a> StunAttribute<'a> for ChannelNumber {
    const TYPE: u16 = CHANNEL_NUMBER;
    fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
        if value.len() != 4 {
            return Err(Error::InvalidAttribute {
                attr: CHANNEL_NUMBER,
            });
        }
        be16(value, 0)
            .map(ChannelNumber)
            .ok_or(Error::InvalidAttribute {
                attr: CHANNEL_NUMBER,
            })
    }
    fn value_len(&self) -> usize {
        4
    }
    fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
        put(out, 0, &self.0.to_be_bytes())?;
        put(out, 2, &[0, 0])
    }
}

/// An address family of REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// 0x01
    Ipv4,
    /// 0x02
    Ipv6,
}

/// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6): one family byte, then 24 RFFU bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestedAddressFamily(pub AddressFamily);

impl<'a> StunAttribute<'a> for RequestedAddressFamily {
    const TYPE: u16 = REQUESTED_ADDRESS_FAMILY;
    fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
        if value.len() != 4 {
            return Err(Error::InvalidAttribute {
                attr: REQUESTED_ADDRESS_FAMILY,
            });
        }
        match value.first() {
            Some(&FAMILY_IPV4) => Ok(RequestedAddressFamily(AddressFamily::Ipv4)),
            Some(&FAMILY_IPV6) => Ok(RequestedAddressFamily(AddressFamily::Ipv6)),
            Some(&family) => Err(Error::UnknownAddressFamily { family }),
            None => Err(Error::InvalidAttribute {
                attr: REQUESTED_ADDRESS_FAMILY,
            }),
        }
    }
    fn value_len(&self) -> usize {
        4
    }
    fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
        let family = match self.0 {
            AddressFamily::Ipv4 => FAMILY_IPV4,
            AddressFamily::Ipv6 => FAMILY_IPV6,
        };
        put(out, 0, &[family, 0, 0, 0])
    }
}

/// EVEN-PORT (RFC 8656 §18.7): one byte whose top bit R asks to reserve the next port too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EvenPort {
    /// The R bit.
    pub reserve: bool,
}

impl<'a> StunAttribute<'a> for EvenPort {
    const TYPE: u16 = EVEN_PORT;
    fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
        match value {
            [b] => Ok(EvenPort {
                reserve: b & 0x80 != 0,
            }),
            _ => Err(Error::InvalidAttribute { attr: EVEN_PORT }),
        }
    }
    fn value_len(&self) -> usize {
        1
    }
    fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
        put(out, 0, &[if self.reserve { 0x80 } else { 0 }])
    }
}

/// REQUESTED-TRANSPORT (RFC 8656 §18.8): an IANA protocol number (17 = UDP), then 24 RFFU
/// bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestedTransport(pub u8);

impl RequestedTransport {
    /// UDP, the only transport RFC 8656 allocates.
    pub const UDP: RequestedTransport = RequestedTransport(17);
}

impl<'a> StunAttribute<'a> for RequestedTransport {
    const TYPE: u16 = REQUESTED_TRANSPORT;
    fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
        match value {
            [p, _, _, _] => Ok(RequestedTransport(*p)),
            _ => Err(Error::InvalidAttribute {
                attr: REQUESTED_TRANSPORT,
            }),
        }
    }
    fn value_len(&self) -> usize {
        4
    }
    fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
        put(out, 0, &[self.0, 0, 0, 0])
    }
}

/// ERROR-CODE (RFC 8489 §14.8): a code 300..=699 and a UTF-8 reason phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode<'a> {
    /// Class × 100 + number, e.g. 401.
    pub code: u16,
    /// The reason phrase.
    pub reason: &'a str,
}

impl ErrorCode<'_> {
    /// 300 Try Alternate.
    pub const TRY_ALTERNATE: u16 = 300;
    /// 400 Bad Request.
    pub const BAD_REQUEST: u16 = 400;
    /// 401 Unauthenticated.
    pub const UNAUTHENTICATED: u16 = 401;
    /// 420 Unknown Attribute.
    pub const UNKNOWN_ATTRIBUTE: u16 = 420;
    /// 437 Allocation Mismatch (RFC 8656).
    pub const ALLOCATION_MISMATCH: u16 = 437;
    /// 438 Stale Nonce.
    pub const STALE_NONCE: u16 = 438;
    /// 487 Role Conflict (RFC 8445).
    pub const ROLE_CONFLICT: u16 = 487;
}

impl<'a> StunAttribute<'a> for ErrorCode<'a> {
    const TYPE: u16 = ERROR_CODE;
    fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
        let bad = Error::InvalidAttribute { attr: ERROR_CODE };
        // RFC 8489 §14.8: 21 reserved bits, a 3-bit class (3..=6) and a number (0..=99).
        let class = value.get(2).ok_or(bad)? & 0x07;
        let number = *value.get(3).ok_or(bad)?;
        if !(3..=6).contains(&class) || number > 99 {
            return Err(bad);
        }
        let reason = std::str::from_utf8(value.get(4..).ok_or(bad)?)
            .map_err(|_| Error::InvalidUtf8 { attr: ERROR_CODE })?;
        Ok(ErrorCode {
            code: u16::from(class) * 100 + u16::from(number),
            reason,
        })
    }
    fn value_len(&self) -> usize {
        4 + self.reason.len()
    }
    fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
        let class = (self.code / 100) as u8 & 0x07;
        let number = (self.code % 100) as u8;
        put(out, 0, &[0, 0, class, number])?;
        put(out, 4, self.reason.as_bytes())
    }
}

/// UNKNOWN-ATTRIBUTES (RFC 8489 §14.9): the comprehension-required types a 420 names, as
/// 16-bit values. Borrowed as bytes; [`UnknownAttributes::types`] iterates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnknownAttributes<'a>(pub &'a [u8]);

impl<'a> UnknownAttributes<'a> {
    /// The attribute types listed.
    pub fn types(&self) -> impl Iterator<Item = u16> + 'a {
        self.0
            .chunks_exact(2)
            .filter_map(|c| <[u8; 2]>::try_from(c).ok().map(u16::from_be_bytes))
    }
}

impl<'a> StunAttribute<'a> for UnknownAttributes<'a> {
    const TYPE: u16 = UNKNOWN_ATTRIBUTES;
    fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
        if value.len().is_multiple_of(2) {
            Ok(UnknownAttributes(value))
        } else {
            Err(Error::InvalidAttribute {
                attr: UNKNOWN_ATTRIBUTES,
            })
        }
    }
    fn value_len(&self) -> usize {
        self.0.len()
    }
    fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
        put(out, 0, self.0)
    }
}

/// A password algorithm number (RFC 8489 §18.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasswordAlgorithmId(pub u16);

impl PasswordAlgorithmId {
    /// 0x0001: MD5 (the key of RFC 8489 §9.2.2 with MD5).
    pub const MD5: PasswordAlgorithmId = PasswordAlgorithmId(0x0001);
    /// 0x0002: SHA-256.
    pub const SHA256: PasswordAlgorithmId = PasswordAlgorithmId(0x0002);
}

/// PASSWORD-ALGORITHM (RFC 8489 §14.12): the algorithm the client chose, and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasswordAlgorithm<'a> {
    /// The algorithm.
    pub algorithm: PasswordAlgorithmId,
    /// Its parameters (none for MD5 and SHA-256).
    pub params: &'a [u8],
}

/// Reads one algorithm (number, parameter length, parameters, padding) at the front of `v`;
/// returns it and the bytes it took with padding.
fn read_algorithm(typ: u16, v: &[u8]) -> Result<(PasswordAlgorithm<'_>, usize), Error> {
    let bad = Error::InvalidAttribute { attr: typ };
    let algorithm = PasswordAlgorithmId(be16(v, 0).ok_or(bad)?);
    let len = usize::from(be16(v, 2).ok_or(bad)?);
    let params = v.get(4..4 + len).ok_or(bad)?;
    Ok((PasswordAlgorithm { algorithm, params }, 4 + pad4(len)))
}

impl<'a> StunAttribute<'a> for PasswordAlgorithm<'a> {
    const TYPE: u16 = PASSWORD_ALGORITHM;
    fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
        let (alg, _) = read_algorithm(PASSWORD_ALGORITHM, value)?;
        // The parameters fill the value exactly (their padding is the attribute's own).
        if 4 + alg.params.len() != value.len() {
            return Err(Error::InvalidAttribute {
                attr: PASSWORD_ALGORITHM,
            });
        }
        Ok(alg)
    }
    fn value_len(&self) -> usize {
        4 + self.params.len()
    }
    fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
        let len = u16::try_from(self.params.len()).map_err(|_| Error::TooLong)?;
        put(out, 0, &self.algorithm.0.to_be_bytes())?;
        put(out, 2, &len.to_be_bytes())?;
        put(out, 4, self.params)
    }
}

/// PASSWORD-ALGORITHMS (RFC 8489 §14.11): the algorithms a server offers, in its order of
/// preference. Borrowed; [`PasswordAlgorithms::iter`] walks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasswordAlgorithms<'a>(pub &'a [u8]);

impl<'a> PasswordAlgorithms<'a> {
    /// The algorithms offered, in order.
    pub fn iter(&self) -> impl Iterator<Item = PasswordAlgorithm<'a>> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let (alg, used) = read_algorithm(PASSWORD_ALGORITHMS, rest).ok()?;
            rest = rest.get(used..).unwrap_or_default();
            Some(alg)
        })
    }
}

impl<'a> StunAttribute<'a> for PasswordAlgorithms<'a> {
    const TYPE: u16 = PASSWORD_ALGORITHMS;
    fn decode(value: &'a [u8], _: &TransactionId) -> Result<Self, Error> {
        let mut rest = value;
        while !rest.is_empty() {
            let (_, used) = read_algorithm(PASSWORD_ALGORITHMS, rest)?;
            rest = rest.get(used..).ok_or(Error::InvalidAttribute {
                attr: PASSWORD_ALGORITHMS,
            })?;
        }
        Ok(PasswordAlgorithms(value))
    }
    fn value_len(&self) -> usize {
        self.0.len()
    }
    fn encode(&self, _: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
        put(out, 0, self.0)
    }
}

// ---------------------------------------------------------------------------------------
// Every attribute as one enum.

/// Any attribute, decoded by type. Types this crate does not know are kept as
/// [`Attribute::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Attribute<'a> {
    MappedAddress(MappedAddress),
    XorMappedAddress(XorMappedAddress),
    Username(Username<'a>),
    UserHash(UserHash<'a>),
    MessageIntegrity(MessageIntegrity<'a>),
    MessageIntegritySha256(MessageIntegritySha256<'a>),
    Fingerprint(Fingerprint),
    ErrorCode(ErrorCode<'a>),
    UnknownAttributes(UnknownAttributes<'a>),
    Realm(Realm<'a>),
    Nonce(Nonce<'a>),
    PasswordAlgorithm(PasswordAlgorithm<'a>),
    PasswordAlgorithms(PasswordAlgorithms<'a>),
    Software(Software<'a>),
    AlternateServer(AlternateServer),
    AlternateDomain(AlternateDomain<'a>),
    Priority(Priority),
    UseCandidate(UseCandidate),
    IceControlled(IceControlled),
    IceControlling(IceControlling),
    ChannelNumber(ChannelNumber),
    Lifetime(Lifetime),
    XorPeerAddress(XorPeerAddress),
    Data(Data<'a>),
    XorRelayedAddress(XorRelayedAddress),
    RequestedAddressFamily(RequestedAddressFamily),
    EvenPort(EvenPort),
    RequestedTransport(RequestedTransport),
    DontFragment(DontFragment),
    ReservationToken(ReservationToken<'a>),
    /// A type this crate does not know: its number and raw value.
    Other {
        typ: u16,
        value: &'a [u8],
    },
}

macro_rules! each_attribute {
    ($m:ident) => {
        $m! {
            MappedAddress, XorMappedAddress, Username, UserHash, MessageIntegrity,
            MessageIntegritySha256, Fingerprint, ErrorCode, UnknownAttributes, Realm, Nonce,
            PasswordAlgorithm, PasswordAlgorithms, Software, AlternateServer, AlternateDomain,
            Priority, UseCandidate, IceControlled, IceControlling, ChannelNumber, Lifetime,
            XorPeerAddress, Data, XorRelayedAddress, RequestedAddressFamily, EvenPort,
            RequestedTransport, DontFragment, ReservationToken
        }
    };
}

macro_rules! impl_attribute_enum {
    ($($v:ident),*) => {
        impl<'a> Attribute<'a> {
            /// Decodes a value of type `typ`.
            pub fn decode(typ: u16, value: &'a [u8], txid: &TransactionId) -> Result<Self, Error> {
                $(
                    if typ == <$v as StunAttribute>::TYPE {
                        return <$v as StunAttribute>::decode(value, txid).map(Attribute::$v);
                    }
                )*
                Ok(Attribute::Other { typ, value })
            }

            /// The attribute type on the wire.
            pub fn typ(&self) -> u16 {
                match self {
                    $(Attribute::$v(_) => <$v as StunAttribute>::TYPE,)*
                    Attribute::Other { typ, .. } => *typ,
                }
            }

            /// The value's length without padding.
            pub fn value_len(&self) -> usize {
                match self {
                    $(Attribute::$v(a) => a.value_len(),)*
                    Attribute::Other { value, .. } => value.len(),
                }
            }

            /// Writes the value into `out`.
            pub fn encode(&self, txid: &TransactionId, out: &mut [u8]) -> Result<(), Error> {
                match self {
                    $(Attribute::$v(a) => a.encode(txid, out),)*
                    Attribute::Other { value, .. } => put(out, 0, value),
                }
            }
        }
    };
}

each_attribute!(impl_attribute_enum);

fn hex(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    b.iter().try_for_each(|x| write!(f, "{x:02x}"))
}

impl fmt::Display for Attribute<'_> {
    /// `NAME: value`, the way `weft stun decode` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match name(self.typ()) {
            Some(n) => write!(f, "{n}: ")?,
            None => write!(f, "{:#06x}: ", self.typ())?,
        }
        match self {
            Attribute::MappedAddress(a) => write!(f, "{}", a.0),
            Attribute::XorMappedAddress(a) => write!(f, "{}", a.0),
            Attribute::AlternateServer(a) => write!(f, "{}", a.0),
            Attribute::XorPeerAddress(a) => write!(f, "{}", a.0),
            Attribute::XorRelayedAddress(a) => write!(f, "{}", a.0),
            Attribute::Username(s) => write!(f, "{:?}", s.0),
            Attribute::Realm(s) => write!(f, "{:?}", s.0),
            Attribute::Nonce(s) => write!(f, "{:?}", s.0),
            Attribute::Software(s) => write!(f, "{:?}", s.0),
            Attribute::AlternateDomain(s) => write!(f, "{:?}", s.0),
            Attribute::UserHash(h) => hex(f, h.0),
            Attribute::MessageIntegrity(h) => hex(f, h.0),
            Attribute::MessageIntegritySha256(h) => hex(f, h.0),
            Attribute::ReservationToken(t) => hex(f, t.0),
            Attribute::Fingerprint(x) => write!(f, "{:#010x}", x.0),
            Attribute::ErrorCode(e) => write!(f, "{} {:?}", e.code, e.reason),
            Attribute::UnknownAttributes(u) => {
                let mut first = true;
                for t in u.types() {
                    write!(f, "{}{t:#06x}", if first { "" } else { " " })?;
                    first = false;
                }
                Ok(())
            }
            Attribute::PasswordAlgorithm(a) => write!(f, "{:#06x}", a.algorithm.0),
            Attribute::PasswordAlgorithms(a) => {
                let mut first = true;
                for alg in a.iter() {
                    write!(
                        f,
                        "{}{:#06x}",
                        if first { "" } else { " " },
                        alg.algorithm.0
                    )?;
                    first = false;
                }
                Ok(())
            }
            Attribute::Priority(p) => write!(f, "{}", p.0),
            Attribute::IceControlled(t) => write!(f, "tie-breaker {:#018x}", t.0),
            Attribute::IceControlling(t) => write!(f, "tie-breaker {:#018x}", t.0),
            Attribute::UseCandidate(_) | Attribute::DontFragment(_) => Ok(()),
            Attribute::ChannelNumber(c) => write!(f, "{:#06x}", c.0),
            Attribute::Lifetime(l) => write!(f, "{} s", l.0),
            Attribute::Data(d) => write!(f, "{} bytes", d.0.len()),
            Attribute::RequestedAddressFamily(a) => write!(f, "{:?}", a.0),
            Attribute::EvenPort(e) => write!(f, "reserve next: {}", e.reserve),
            Attribute::RequestedTransport(t) => write!(f, "protocol {}", t.0),
            Attribute::Other { value, .. } => {
                write!(f, "({} bytes) ", value.len())?;
                hex(f, value)
            }
        }
    }
}
