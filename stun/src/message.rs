//! The message header (RFC 8489 §5) and the borrowed, validated view over a datagram.

use std::fmt;

use crate::attr::{self, Attribute, StunAttribute};
use crate::bytes::{array, be16, be32, pad4};
use crate::credentials::IntegrityKey;
use crate::crypto;
use crate::Error;

/// RFC 8489 §5: the fixed value of bytes 4..8, which tells STUN from other protocols.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// RFC 8489 §5: the header is 20 bytes.
pub const HEADER_LEN: usize = 20;
/// RFC 8489 §14.7: the CRC-32 is XOR-ed with this ("STUN" in ASCII).
pub const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// The 96-bit transaction ID (RFC 8489 §5). The caller draws it from its own RNG.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TransactionId(pub [u8; 12]);

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransactionId({self})")
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The message class (RFC 8489 §5): the C1 and C0 bits of the message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// 0b00
    Request,
    /// 0b01
    Indication,
    /// 0b10
    SuccessResponse,
    /// 0b11
    ErrorResponse,
}

/// The 12-bit method (RFC 8489 §5, §18.2; RFC 8656 §17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Method(pub u16);

impl Method {
    /// Binding (RFC 8489).
    pub const BINDING: Method = Method(0x001);
    /// Allocate (RFC 8656).
    pub const ALLOCATE: Method = Method(0x003);
    /// Refresh (RFC 8656).
    pub const REFRESH: Method = Method(0x004);
    /// Send (RFC 8656), an indication.
    pub const SEND: Method = Method(0x006);
    /// Data (RFC 8656), an indication.
    pub const DATA: Method = Method(0x007);
    /// CreatePermission (RFC 8656).
    pub const CREATE_PERMISSION: Method = Method(0x008);
    /// ChannelBind (RFC 8656).
    pub const CHANNEL_BIND: Method = Method(0x009);

    /// The RFC name, for methods this crate knows.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Method::BINDING => "Binding",
            Method::ALLOCATE => "Allocate",
            Method::REFRESH => "Refresh",
            Method::SEND => "Send",
            Method::DATA => "Data",
            Method::CREATE_PERMISSION => "CreatePermission",
            Method::CHANNEL_BIND => "ChannelBind",
            _ => return None,
        })
    }
}

/// Method and class together: the 14-bit message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType {
    /// The method.
    pub method: Method,
    /// The class.
    pub class: Class,
}

impl MessageType {
    /// A Binding request.
    pub const BINDING_REQUEST: MessageType = MessageType::new(Method::BINDING, Class::Request);
    /// A Binding success response.
    pub const BINDING_SUCCESS: MessageType =
        MessageType::new(Method::BINDING, Class::SuccessResponse);

    /// Method and class.
    pub const fn new(method: Method, class: Class) -> Self {
        MessageType { method, class }
    }

    /// RFC 8489 §5: the method bits M0-M11 are interleaved with C0 (bit 4) and C1 (bit 8):
    /// `M11..M7 C1 M6..M4 C0 M3..M0`.
    pub const fn from_u16(v: u16) -> Self {
        let method = (v & 0x000F) | ((v & 0x00E0) >> 1) | ((v & 0x3E00) >> 2);
        let class = match ((v >> 7) & 0b10) | ((v >> 4) & 0b01) {
            0b00 => Class::Request,
            0b01 => Class::Indication,
            0b10 => Class::SuccessResponse,
            _ => Class::ErrorResponse,
        };
        MessageType {
            method: Method(method),
            class,
        }
    }

    /// The 16-bit field (two leading zero bits).
    pub const fn to_u16(self) -> u16 {
        let m = self.method.0 & 0x0FFF;
        let c: u16 = match self.class {
            Class::Request => 0b00,
            Class::Indication => 0b01,
            Class::SuccessResponse => 0b10,
            Class::ErrorResponse => 0b11,
        };
        (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
    }

    /// The response type for this request's method.
    pub const fn success(self) -> Self {
        MessageType::new(self.method, Class::SuccessResponse)
    }

    /// The error response type for this request's method.
    pub const fn error(self) -> Self {
        MessageType::new(self.method, Class::ErrorResponse)
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.method.name() {
            Some(n) => f.write_str(n)?,
            None => write!(f, "method {:#05x}", self.method.0)?,
        }
        f.write_str(match self.class {
            Class::Request => " request",
            Class::Indication => " indication",
            Class::SuccessResponse => " success response",
            Class::ErrorResponse => " error response",
        })
    }
}

/// One attribute as it sits in the message: its type, its value (no padding) and where its
/// header starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttribute<'a> {
    /// The attribute type.
    pub typ: u16,
    /// The value, without padding.
    pub value: &'a [u8],
    /// Byte offset of the attribute's 4-byte header in the message.
    pub offset: usize,
}

/// Iterates the attributes of a validated [`Message`], in order, without allocating.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = RawAttribute<'a>;

    fn next(&mut self) -> Option<RawAttribute<'a>> {
        // The message was validated: every header and value fits. A miss ends the walk.
        let typ = be16(self.bytes, self.pos)?;
        let len = usize::from(be16(self.bytes, self.pos + 2)?);
        let value = self.bytes.get(self.pos + 4..self.pos + 4 + len)?;
        let offset = self.pos;
        self.pos += 4 + pad4(len);
        Some(RawAttribute { typ, value, offset })
    }
}

/// What an HMAC covers and what it must equal: the header with its length adjusted, the
/// attributes before the integrity attribute, and the tag.
type MacInput<'a> = ([u8; HEADER_LEN], &'a [u8], &'a [u8]);

/// A STUN message: a validated, borrowed view over the bytes of one datagram.
///
/// [`Message::parse`] checks the header (RFC 8489 §5: two leading zero bits, the magic
/// cookie, a length that is a multiple of 4 and matches the datagram) and walks the
/// attributes once: every header and padded value fits, the integrity attributes have their
/// sizes, and FINGERPRINT, if present, is last. After that, reading is infallible and
/// allocation-free: [`Message::attributes`] iterates, [`Message::get`] decodes one type.
///
/// RFC 8489 §14.5/§14.6: attributes after MESSAGE-INTEGRITY are ignored, except
/// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT; after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT
/// counts. [`Message::get`] follows that rule; [`Message::attributes`] shows every byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    bytes: &'a [u8],
    typ: MessageType,
    /// Offset of the first MESSAGE-INTEGRITY that counts.
    integrity: Option<usize>,
    /// Offset of the first MESSAGE-INTEGRITY-SHA256 that counts.
    integrity_sha256: Option<usize>,
    /// Offset of FINGERPRINT.
    fingerprint: Option<usize>,
    /// Attributes at or past this offset are ignored, except the integrity ones above.
    ignore_from: usize,
}

impl<'a> Message<'a> {
    /// Validates one whole datagram as a STUN message: its length must be exactly the
    /// header's.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let length = Self::check_header(bytes)?;
        let declared = HEADER_LEN + usize::from(length);
        if declared != bytes.len() {
            return Err(Error::LengthMismatch {
                declared,
                actual: bytes.len(),
            });
        }
        Self::walk(bytes)
    }

    /// For stream transports (RFC 8489 §6.2.2): reads the message at the front of `bytes`
    /// and returns it with the number of bytes it took.
    pub fn parse_prefix(bytes: &'a [u8]) -> Result<(Self, usize), Error> {
        let length = Self::check_header(bytes)?;
        let declared = HEADER_LEN + usize::from(length);
        let msg = bytes.get(..declared).ok_or(Error::LengthMismatch {
            declared,
            actual: bytes.len(),
        })?;
        Ok((Self::walk(msg)?, declared))
    }

    /// RFC 8489 §5 header checks; returns the message length.
    fn check_header(bytes: &[u8]) -> Result<u16, Error> {
        if bytes.len() < HEADER_LEN {
            return Err(Error::TooShort { len: bytes.len() });
        }
        let typ = be16(bytes, 0).ok_or(Error::TooShort { len: bytes.len() })?;
        // RFC 8489 §5: the most significant 2 bits of every STUN message MUST be zeroes.
        if typ & 0xC000 != 0 {
            return Err(Error::NotStun);
        }
        let length = be16(bytes, 2).ok_or(Error::TooShort { len: bytes.len() })?;
        let cookie = be32(bytes, 4).ok_or(Error::TooShort { len: bytes.len() })?;
        if cookie != MAGIC_COOKIE {
            return Err(Error::BadMagicCookie { found: cookie });
        }
        // RFC 8489 §5: all attributes are padded, so the length is a multiple of 4.
        if length % 4 != 0 {
            return Err(Error::LengthNotMultipleOf4 { length });
        }
        Ok(length)
    }

    /// Walks the attributes of a message whose header length equals `bytes.len()`.
    fn walk(bytes: &'a [u8]) -> Result<Self, Error> {
        let typ = MessageType::from_u16(be16(bytes, 0).unwrap_or(0));
        let end = bytes.len();
        let mut msg = Message {
            bytes,
            typ,
            integrity: None,
            integrity_sha256: None,
            fingerprint: None,
            ignore_from: end,
        };
        let mut pos = HEADER_LEN;
        while pos < end {
            let (Some(t), Some(len)) = (be16(bytes, pos), be16(bytes, pos + 2)) else {
                return Err(Error::AttributeOverrun { offset: pos });
            };
            // RFC 8489 §14: the value is padded to a multiple of 4 bytes. `pos` and `end` are
            // multiples of 4, so a value that fits has room for its padding too.
            let next = pos + 4 + pad4(usize::from(len));
            if next > end {
                return Err(Error::AttributeOverrun { offset: pos });
            }
            let len = usize::from(len);
            // RFC 8489 §14.7: FINGERPRINT, when present, is the last attribute.
            if msg.fingerprint.is_some() {
                return Err(Error::FingerprintNotLast);
            }
            let counts = pos < msg.ignore_from;
            match t {
                attr::MESSAGE_INTEGRITY => {
                    // RFC 8489 §14.5: HMAC-SHA1 is 20 bytes.
                    if len != 20 {
                        return Err(Error::InvalidAttribute { attr: t });
                    }
                    if counts {
                        msg.integrity = Some(pos);
                        msg.ignore_from = msg.ignore_from.min(next);
                    }
                }
                attr::MESSAGE_INTEGRITY_SHA256 => {
                    // RFC 8489 §14.6: 16 to 32 bytes, in steps of 4.
                    if !(16..=32).contains(&len) || len % 4 != 0 {
                        return Err(Error::InvalidAttribute { attr: t });
                    }
                    // Counts even after MESSAGE-INTEGRITY, but only the first one.
                    if msg.integrity_sha256.is_none() {
                        msg.integrity_sha256 = Some(pos);
                        msg.ignore_from = msg.ignore_from.min(next);
                    }
                }
                attr::FINGERPRINT => {
                    if len != 4 {
                        return Err(Error::InvalidAttribute { attr: t });
                    }
                    msg.fingerprint = Some(pos);
                }
                _ => {}
            }
            pos = next;
        }
        Ok(msg)
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Method and class.
    pub fn message_type(&self) -> MessageType {
        self.typ
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.typ.method
    }

    /// The class.
    pub fn class(&self) -> Class {
        self.typ.class
    }

    /// The transaction ID.
    pub fn transaction_id(&self) -> TransactionId {
        TransactionId(array(self.bytes, 8).unwrap_or_default())
    }

    /// Every attribute in wire order, including those RFC 8489 §14.5 says to ignore.
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            bytes: self.bytes,
            pos: HEADER_LEN,
        }
    }

    /// Whether RFC 8489 §14.5/§14.6 say to ignore this attribute: it follows
    /// MESSAGE-INTEGRITY (or MESSAGE-INTEGRITY-SHA256) and is neither
    /// MESSAGE-INTEGRITY-SHA256 nor FINGERPRINT.
    pub fn is_ignored(&self, a: &RawAttribute<'_>) -> bool {
        !self.counts(a)
    }

    fn counts(&self, a: &RawAttribute<'_>) -> bool {
        a.offset < self.ignore_from
            || Some(a.offset) == self.integrity_sha256
            || Some(a.offset) == self.fingerprint
    }

    /// The first value of type `typ` that counts.
    pub fn get_raw(&self, typ: u16) -> Option<&'a [u8]> {
        self.attributes()
            .find(|a| a.typ == typ && self.counts(a))
            .map(|a| a.value)
    }

    /// The typed accessor: the first attribute of type `A` that counts, decoded;
    /// `Ok(None)` when absent, `Err` when present but malformed.
    ///
    /// ```
    /// # use weft_stun::{Message, attr::XorMappedAddress};
    /// # fn f(bytes: &[u8]) -> Result<(), weft_stun::Error> {
    /// let msg = Message::parse(bytes)?;
    /// if let Some(XorMappedAddress(addr)) = msg.get::<XorMappedAddress>()? {
    ///     println!("reflexive address {addr}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get<A: StunAttribute<'a>>(&self) -> Result<Option<A>, Error> {
        let txid = self.transaction_id();
        self.get_raw(A::TYPE)
            .map(|v| A::decode(v, &txid))
            .transpose()
    }

    /// Whether an attribute of type `typ` is present (and counts).
    pub fn has(&self, typ: u16) -> bool {
        self.get_raw(typ).is_some()
    }

    /// Every attribute that counts, decoded (an `Err` item for a malformed one).
    pub fn decoded(&self) -> impl Iterator<Item = Result<Attribute<'a>, Error>> + '_ {
        let txid = self.transaction_id();
        self.attributes()
            .filter(|a| self.counts(a))
            .map(move |a| Attribute::decode(a.typ, a.value, &txid))
    }

    /// Comprehension-required attribute types (RFC 8489 §14: below 0x8000) this crate does
    /// not understand. A server answers a request carrying any with 420 (Unknown Attribute)
    /// listing them in UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1.1); a client treats such a
    /// response as failed (RFC 8489 §6.3.3.1).
    pub fn unknown_comprehension_required(&self) -> impl Iterator<Item = u16> + '_ {
        self.attributes()
            .filter(|a| self.counts(a))
            .map(|a| a.typ)
            .filter(|&t| attr::is_comprehension_required(t) && !attr::is_known(t))
    }

    // --- integrity -----------------------------------------------------------------------

    /// Whether MESSAGE-INTEGRITY is present.
    pub fn has_message_integrity(&self) -> bool {
        self.integrity.is_some()
    }

    /// Whether MESSAGE-INTEGRITY-SHA256 is present.
    pub fn has_message_integrity_sha256(&self) -> bool {
        self.integrity_sha256.is_some()
    }

    /// Whether FINGERPRINT is present.
    pub fn has_fingerprint(&self) -> bool {
        self.fingerprint.is_some()
    }

    /// The header with its length field set to `length`, as RFC 8489 §14.5 hashes it.
    fn header_with_length(&self, length: usize) -> [u8; HEADER_LEN] {
        let mut header: [u8; HEADER_LEN] = array(self.bytes, 0).unwrap_or_default();
        let length = u16::try_from(length).unwrap_or(u16::MAX).to_be_bytes();
        if let Some(field) = header.get_mut(2..4) {
            field.copy_from_slice(&length);
        }
        header
    }

    /// The ranges MESSAGE-INTEGRITY covers (RFC 8489 §14.5): the header with its length set
    /// as if MESSAGE-INTEGRITY were the last attribute (later attributes excluded), every
    /// attribute before it; and the tag.
    fn integrity_input(&self) -> Result<MacInput<'a>, Error> {
        let at = self.integrity.ok_or(Error::MissingIntegrity)?;
        let header = self.header_with_length(at + 24 - HEADER_LEN);
        let body = self.bytes.get(HEADER_LEN..at).unwrap_or_default();
        let tag = self.bytes.get(at + 4..at + 24).unwrap_or_default();
        Ok((header, body, tag))
    }

    /// As [`Message::integrity_input`] for MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6): the
    /// length covers up to this attribute; a MESSAGE-INTEGRITY before it is hashed like any
    /// other attribute.
    fn integrity_sha256_input(&self) -> Result<MacInput<'a>, Error> {
        let at = self.integrity_sha256.ok_or(Error::MissingIntegrity)?;
        let len = usize::from(be16(self.bytes, at + 2).unwrap_or(0));
        let header = self.header_with_length(at + 4 + len - HEADER_LEN);
        let body = self.bytes.get(HEADER_LEN..at).unwrap_or_default();
        let tag = self.bytes.get(at + 4..at + 4 + len).unwrap_or_default();
        Ok((header, body, tag))
    }

    fn check(mac: &[u8], tag: &[u8]) -> Result<(), Error> {
        // A truncated MESSAGE-INTEGRITY-SHA256 compares its leading bytes (RFC 8489 §14.6).
        if crypto::ct_eq(mac.get(..tag.len()).unwrap_or_default(), tag) {
            Ok(())
        } else {
            Err(Error::IntegrityMismatch)
        }
    }

    /// Verifies MESSAGE-INTEGRITY (HMAC-SHA1) with `key`: the password for short-term
    /// credentials, [`crate::long_term_key`] for long-term ones. Constant time in the tag.
    pub fn verify_message_integrity(&self, key: &[u8]) -> Result<(), Error> {
        let (header, body, tag) = self.integrity_input()?;
        Self::check(&crypto::hmac_sha1(key, &[&header, body]), tag)
    }

    /// [`Message::verify_message_integrity`] with a key prepared once.
    pub fn verify_message_integrity_with(&self, key: &IntegrityKey) -> Result<(), Error> {
        let (header, body, tag) = self.integrity_input()?;
        Self::check(&key.0.sha1(&[&header, body]), tag)
    }

    /// Verifies MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, possibly truncated) with `key`.
    pub fn verify_message_integrity_sha256(&self, key: &[u8]) -> Result<(), Error> {
        let (header, body, tag) = self.integrity_sha256_input()?;
        Self::check(&crypto::hmac_sha256(key, &[&header, body]), tag)
    }

    /// [`Message::verify_message_integrity_sha256`] with a key prepared once.
    pub fn verify_message_integrity_sha256_with(&self, key: &IntegrityKey) -> Result<(), Error> {
        let (header, body, tag) = self.integrity_sha256_input()?;
        Self::check(&key.0.sha256(&[&header, body]), tag)
    }

    /// Verifies the strongest integrity attribute present: MESSAGE-INTEGRITY-SHA256 when
    /// there is one (RFC 8489 §9.1.4, §9.2.4), else MESSAGE-INTEGRITY.
    pub fn verify_integrity(&self, key: &[u8]) -> Result<(), Error> {
        if self.integrity_sha256.is_some() {
            self.verify_message_integrity_sha256(key)
        } else {
            self.verify_message_integrity(key)
        }
    }

    /// [`Message::verify_integrity`] with a key prepared once.
    pub fn verify_integrity_with(&self, key: &IntegrityKey) -> Result<(), Error> {
        if self.integrity_sha256.is_some() {
            self.verify_message_integrity_sha256_with(key)
        } else {
            self.verify_message_integrity_with(key)
        }
    }

    /// Verifies FINGERPRINT (RFC 8489 §14.7).
    pub fn verify_fingerprint(&self) -> Result<(), Error> {
        let at = self.fingerprint.ok_or(Error::MissingFingerprint)?;
        // FINGERPRINT is last, so the header length already covers it.
        let covered = self.bytes.get(..at).unwrap_or_default();
        let computed = crypto::crc32(&[covered]) ^ FINGERPRINT_XOR;
        let found = be32(self.bytes, at + 4).unwrap_or(0);
        if found == computed {
            Ok(())
        } else {
            Err(Error::FingerprintMismatch { found, computed })
        }
    }
}

/// Whether `bytes` looks like a STUN message (RFC 8489 §7: leading zero bits, magic cookie,
/// and, if present, a FINGERPRINT that checks out). Cheaper than full demultiplexing.
pub fn is_stun(bytes: &[u8]) -> bool {
    match Message::parse(bytes) {
        Ok(m) => !m.has_fingerprint() || m.verify_fingerprint().is_ok(),
        Err(_) => false,
    }
}
