//! Writing a message into a caller's buffer, integrity and fingerprint filled in place.

use crate::attr::{self, StunAttribute};
use crate::bytes::{pad4, put};
use crate::credentials::IntegrityKey;
use crate::crypto;
use crate::message::{MessageType, TransactionId, FINGERPRINT_XOR, HEADER_LEN, MAGIC_COOKIE};
use crate::Error;

/// Writes a STUN message into a caller-owned buffer, attribute by attribute, padding each
/// value with zeros to 4 bytes. The header's length field is kept current after every
/// attribute, so MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are computed in
/// place over what is already written (RFC 8489 §14.5, §14.6, §14.7). No allocation.
///
/// ```
/// use weft_stun::{MessageBuilder, MessageType, TransactionId, Message, attr};
/// let mut buf = [0u8; 128];
/// let txid = TransactionId([7; 12]);
/// let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, txid)?;
/// b.add(&attr::Username("remote:local"))?;
/// b.add(&attr::Priority(0x6e0001ff))?;
/// b.add_message_integrity(b"password")?;
/// b.add_fingerprint()?;
/// let bytes = b.finish();
/// let msg = Message::parse(bytes)?;
/// msg.verify_message_integrity(b"password")?;
/// msg.verify_fingerprint()?;
/// # Ok::<(), weft_stun::Error>(())
/// ```
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    len: usize,
    txid: TransactionId,
    fingerprinted: bool,
}

impl<'b> MessageBuilder<'b> {
    /// Writes the 20-byte header (message length 0 for now).
    pub fn new(buf: &'b mut [u8], typ: MessageType, txid: TransactionId) -> Result<Self, Error> {
        if buf.len() < HEADER_LEN {
            return Err(Error::BufferTooSmall {
                needed: HEADER_LEN,
                available: buf.len(),
            });
        }
        put(buf, 0, &typ.to_u16().to_be_bytes())?;
        put(buf, 2, &[0, 0])?;
        put(buf, 4, &MAGIC_COOKIE.to_be_bytes())?;
        put(buf, 8, &txid.0)?;
        Ok(MessageBuilder {
            buf,
            len: HEADER_LEN,
            txid,
            fingerprinted: false,
        })
    }

    /// The transaction ID written in the header.
    pub fn transaction_id(&self) -> TransactionId {
        self.txid
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether only the header is written.
    pub fn is_empty(&self) -> bool {
        self.len == HEADER_LEN
    }

    /// Reserves an attribute of `value_len` bytes: writes its header and zero padding, sets
    /// the message length, and returns where the value starts.
    fn reserve(&mut self, typ: u16, value_len: usize) -> Result<usize, Error> {
        if self.fingerprinted {
            return Err(Error::AttributeAfterFingerprint);
        }
        let value_len16 = u16::try_from(value_len).map_err(|_| Error::TooLong)?;
        let end = self.len + 4 + pad4(value_len);
        let body = u16::try_from(end - HEADER_LEN).map_err(|_| Error::TooLong)?;
        if end > self.buf.len() {
            return Err(Error::BufferTooSmall {
                needed: end,
                available: self.buf.len(),
            });
        }
        let start = self.len;
        put(self.buf, start, &typ.to_be_bytes())?;
        put(self.buf, start + 2, &value_len16.to_be_bytes())?;
        // RFC 8489 §14: padding bytes are written as zeros (and ignored on receipt).
        if let Some(pad) = self.buf.get_mut(start + 4 + value_len..end) {
            pad.fill(0);
        }
        put(self.buf, 2, &body.to_be_bytes())?;
        self.len = end;
        Ok(start + 4)
    }

    /// Adds a typed attribute.
    pub fn add<'v, A: StunAttribute<'v>>(&mut self, a: &A) -> Result<(), Error> {
        let n = a.value_len();
        let at = self.reserve(A::TYPE, n)?;
        let txid = self.txid;
        let out = self.buf.get_mut(at..at + n).ok_or(Error::BufferTooSmall {
            needed: at + n,
            available: 0,
        })?;
        a.encode(&txid, out)
    }

    /// Adds any attribute of the [`attr::Attribute`] enum.
    pub fn add_attribute(&mut self, a: &attr::Attribute<'_>) -> Result<(), Error> {
        let n = a.value_len();
        let at = self.reserve(a.typ(), n)?;
        let txid = self.txid;
        let out = self.buf.get_mut(at..at + n).ok_or(Error::BufferTooSmall {
            needed: at + n,
            available: 0,
        })?;
        a.encode(&txid, out)
    }

    /// Adds an attribute from its type and raw value.
    pub fn add_raw(&mut self, typ: u16, value: &[u8]) -> Result<(), Error> {
        let at = self.reserve(typ, value.len())?;
        put(self.buf, at, value)
    }

    /// Adds UNKNOWN-ATTRIBUTES (RFC 8489 §14.9) listing `types`, for a 420 response.
    pub fn add_unknown_attributes(&mut self, types: &[u16]) -> Result<(), Error> {
        let at = self.reserve(attr::UNKNOWN_ATTRIBUTES, types.len() * 2)?;
        for (i, t) in types.iter().enumerate() {
            put(self.buf, at + 2 * i, &t.to_be_bytes())?;
        }
        Ok(())
    }

    /// Adds MESSAGE-INTEGRITY: HMAC-SHA1 with `key` over the message so far, the header's
    /// length already counting this attribute (RFC 8489 §14.5).
    pub fn add_message_integrity(&mut self, key: &[u8]) -> Result<(), Error> {
        let at = self.reserve(attr::MESSAGE_INTEGRITY, 20)?;
        let covered = self.buf.get(..at - 4).unwrap_or_default();
        let mac = crypto::hmac_sha1(key, &[covered]);
        put(self.buf, at, &mac)
    }

    /// [`MessageBuilder::add_message_integrity`] with a key prepared once.
    pub fn add_message_integrity_with(&mut self, key: &IntegrityKey) -> Result<(), Error> {
        let at = self.reserve(attr::MESSAGE_INTEGRITY, 20)?;
        let covered = self.buf.get(..at - 4).unwrap_or_default();
        let mac = key.0.sha1(&[covered]);
        put(self.buf, at, &mac)
    }

    /// [`MessageBuilder::add_message_integrity_sha256`] with a key prepared once.
    pub fn add_message_integrity_sha256_with(&mut self, key: &IntegrityKey) -> Result<(), Error> {
        let at = self.reserve(attr::MESSAGE_INTEGRITY_SHA256, 32)?;
        let covered = self.buf.get(..at - 4).unwrap_or_default();
        let mac = key.0.sha256(&[covered]);
        put(self.buf, at, &mac)
    }

    /// Adds MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), full length (32 bytes).
    pub fn add_message_integrity_sha256(&mut self, key: &[u8]) -> Result<(), Error> {
        let at = self.reserve(attr::MESSAGE_INTEGRITY_SHA256, 32)?;
        let covered = self.buf.get(..at - 4).unwrap_or_default();
        let mac = crypto::hmac_sha256(key, &[covered]);
        put(self.buf, at, &mac)
    }

    /// Adds FINGERPRINT, the CRC-32 of the message so far XOR 0x5354554E, the header's length
    /// counting it (RFC 8489 §14.7). Nothing may be added after it.
    pub fn add_fingerprint(&mut self) -> Result<(), Error> {
        let at = self.reserve(attr::FINGERPRINT, 4)?;
        let covered = self.buf.get(..at - 4).unwrap_or_default();
        let crc = crypto::crc32(&[covered]) ^ FINGERPRINT_XOR;
        self.fingerprinted = true;
        put(self.buf, at, &crc.to_be_bytes())
    }

    /// The finished message: a prefix of the caller's buffer.
    pub fn finish(self) -> &'b mut [u8] {
        let len = self.len;
        let buf = self.buf;
        let total = buf.len();
        buf.split_at_mut(len.min(total)).0
    }
}
