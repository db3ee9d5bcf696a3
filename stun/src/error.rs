//! Errors, split by cause. Every one is `Clone + PartialEq` so tests assert the exact error.

use std::fmt;

/// Why a STUN message, attribute or ChannelData frame was rejected, or why a builder or a
/// transaction refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // --- malformed input (drop the datagram, count it) ---
    /// Fewer bytes than the 20-byte header (RFC 8489 §5).
    TooShort {
        /// Bytes present.
        len: usize,
    },
    /// One of the two most significant bits of the message type is set (RFC 8489 §5).
    NotStun,
    /// The magic cookie is not 0x2112A442 (RFC 8489 §5).
    BadMagicCookie {
        /// The value found.
        found: u32,
    },
    /// The message length is not a multiple of 4 (RFC 8489 §5).
    LengthNotMultipleOf4 {
        /// The header's message length.
        length: u16,
    },
    /// The header's message length disagrees with the bytes of the datagram.
    LengthMismatch {
        /// 20 + the header's message length.
        declared: usize,
        /// Bytes present.
        actual: usize,
    },
    /// An attribute header, value or padding runs past the end of the message. (A missing
    /// padding shows as this, or as a length that is not a multiple of 4.)
    AttributeOverrun {
        /// Byte offset of the attribute header in the message.
        offset: usize,
    },
    /// FINGERPRINT is not the last attribute (RFC 8489 §14.7); this includes a second
    /// FINGERPRINT.
    FingerprintNotLast,
    /// An attribute's value has the wrong size or shape for its type.
    InvalidAttribute {
        /// The attribute type.
        attr: u16,
    },
    /// A text attribute is not UTF-8.
    InvalidUtf8 {
        /// The attribute type.
        attr: u16,
    },
    /// An address family other than IPv4 (0x01) or IPv6 (0x02) (RFC 8489 §14.1).
    UnknownAddressFamily {
        /// The family byte found.
        family: u8,
    },

    // --- verification failed (peer misbehaved, or wrong credentials) ---
    /// The message has no MESSAGE-INTEGRITY (or MESSAGE-INTEGRITY-SHA256) to verify.
    MissingIntegrity,
    /// The HMAC does not match: wrong key, or the bytes were changed.
    IntegrityMismatch,
    /// The message has no FINGERPRINT to verify.
    MissingFingerprint,
    /// The CRC-32 does not match (RFC 8489 §14.7).
    FingerprintMismatch {
        /// The CRC carried in the message (already XORed back).
        found: u32,
        /// The CRC computed over the message.
        computed: u32,
    },

    // --- TURN ChannelData (RFC 8656 §12) ---
    /// A channel number outside 0x4000..=0x4FFF (RFC 8656 §12).
    BadChannelNumber {
        /// The number found.
        channel: u16,
    },
    /// A ChannelData frame whose length runs past the bytes present, or is followed by more
    /// than its padding.
    ChannelDataLength {
        /// The length field.
        declared: usize,
        /// Bytes present after the 4-byte header.
        actual: usize,
    },

    // --- API misuse (a bug in the caller) ---
    /// The caller's buffer cannot hold what was asked.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A message or attribute value longer than the 16-bit length fields allow.
    TooLong,
    /// An attribute was added after FINGERPRINT, or an integrity attribute after FINGERPRINT.
    AttributeAfterFingerprint,
    /// A transaction was started with a message that is not a request.
    NotARequest,
    /// A transaction with this transaction ID is already in flight.
    DuplicateTransaction,
}

impl Error {
    /// The STUN error code a server answers with when a request fails this way (RFC 8489
    /// §14.8), when there is one: 400 (Bad Request) for malformed requests, 401
    /// (Unauthenticated) for failed integrity. Failed FINGERPRINTs and errors that are not
    /// about a received request have none: such messages are silently dropped.
    pub fn stun_error_code(&self) -> Option<u16> {
        match self {
            Error::InvalidAttribute { .. }
            | Error::InvalidUtf8 { .. }
            | Error::UnknownAddressFamily { .. } => Some(400),
            Error::MissingIntegrity | Error::IntegrityMismatch => Some(401),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooShort { len } => write!(f, "{len} bytes: shorter than a STUN header"),
            Error::NotStun => f.write_str("the two leading bits of the message type are not zero"),
            Error::BadMagicCookie { found } => write!(f, "magic cookie {found:#010x}"),
            Error::LengthNotMultipleOf4 { length } => {
                write!(f, "message length {length} is not a multiple of 4")
            }
            Error::LengthMismatch { declared, actual } => {
                write!(f, "header says {declared} bytes, datagram has {actual}")
            }
            Error::AttributeOverrun { offset } => {
                write!(f, "attribute at byte {offset} runs past the message")
            }
            Error::FingerprintNotLast => f.write_str("FINGERPRINT is not the last attribute"),
            Error::InvalidAttribute { attr } => write!(f, "malformed attribute {attr:#06x}"),
            Error::InvalidUtf8 { attr } => write!(f, "attribute {attr:#06x} is not UTF-8"),
            Error::UnknownAddressFamily { family } => {
                write!(f, "unknown address family {family:#04x}")
            }
            Error::MissingIntegrity => f.write_str("no MESSAGE-INTEGRITY"),
            Error::IntegrityMismatch => f.write_str("MESSAGE-INTEGRITY does not match"),
            Error::MissingFingerprint => f.write_str("no FINGERPRINT"),
            Error::FingerprintMismatch { found, computed } => write!(
                f,
                "FINGERPRINT {found:#010x} does not match the computed {computed:#010x}"
            ),
            Error::BadChannelNumber { channel } => {
                write!(
                    f,
                    "channel number {channel:#06x} is outside 0x4000..=0x4fff"
                )
            }
            Error::ChannelDataLength { declared, actual } => write!(
                f,
                "ChannelData length {declared} does not fit the {actual} bytes present"
            ),
            Error::BufferTooSmall { needed, available } => {
                write!(
                    f,
                    "buffer too small: {needed} bytes needed, {available} available"
                )
            }
            Error::TooLong => f.write_str("longer than a 16-bit length field allows"),
            Error::AttributeAfterFingerprint => f.write_str("no attribute may follow FINGERPRINT"),
            Error::NotARequest => f.write_str("a client transaction needs a request"),
            Error::DuplicateTransaction => {
                f.write_str("a transaction with this ID is already in flight")
            }
        }
    }
}

impl std::error::Error for Error {}
