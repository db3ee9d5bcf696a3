//! DTLS 1.2 wire formats (RFC 6347 §4.1, §4.2.2; RFC 5246 §7.4): a bounds-checked reader,
//! records, handshake fragments and messages, extensions. Parsing borrows the datagram;
//! emitting appends to a caller's `Vec`.

pub mod handshake;
pub mod record;

use std::fmt;

/// Why bytes did not parse. Every variant is fatal to the message, never a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a field (`what`).
    Truncated {
        /// The field.
        what: &'static str,
    },
    /// A length field claims more than is left, or than the field may hold.
    BadLength {
        /// The field.
        what: &'static str,
    },
    /// Bytes left over after a structure that must fill its container.
    TrailingBytes {
        /// The structure.
        what: &'static str,
    },
    /// A value outside what the field allows.
    BadValue {
        /// The field.
        what: &'static str,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { what } => write!(f, "truncated {what}"),
            DecodeError::BadLength { what } => write!(f, "bad length of {what}"),
            DecodeError::TrailingBytes { what } => write!(f, "trailing bytes after {what}"),
            DecodeError::BadValue { what } => write!(f, "bad value of {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over borrowed bytes; every read is checked (the idea of rustls' `Reader`:
/// nested length-prefixed structures become `sub` readers).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(DecodeError::Truncated { what })?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated { what })?;
        self.pos = end;
        Ok(s)
    }

    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Big-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// Big-endian u24.
    pub fn u24(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let [a, b, c] = self.array(what)?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// Big-endian u48.
    pub fn u48(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let b: [u8; 6] = self.array(what)?;
        Ok(b.iter().fold(0u64, |acc, x| acc << 8 | u64::from(*x)))
    }

    /// A vector with a 1-byte length prefix.
    pub fn vec8(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u8(what)?;
        self.take(usize::from(n), what)
            .map_err(|_| DecodeError::BadLength { what })
    }

    /// A vector with a 2-byte length prefix.
    pub fn vec16(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
            .map_err(|_| DecodeError::BadLength { what })
    }

    /// A vector with a 3-byte length prefix.
    pub fn vec24(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u24(what)?;
        self.take(n as usize, what)
            .map_err(|_| DecodeError::BadLength { what })
    }

    /// Fails unless everything was read.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes { what })
        }
    }
}

/// Appending writers for the emitters.
pub(crate) trait Put {
    fn u8(&mut self, v: u8);
    fn u16(&mut self, v: u16);
    fn u24(&mut self, v: u32);
    fn u48(&mut self, v: u64);
    /// Writes a placeholder length of `width` bytes and returns where it is.
    fn len_start(&mut self, width: usize) -> usize;
    /// Fills the length at `at` with the number of bytes written since.
    fn len_end(&mut self, at: usize, width: usize);
}

impl Put for Vec<u8> {
    fn u8(&mut self, v: u8) {
        self.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn u24(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    fn u48(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes()[2..]);
    }
    fn len_start(&mut self, width: usize) -> usize {
        let at = self.len();
        self.extend(std::iter::repeat_n(0, width));
        at
    }
    fn len_end(&mut self, at: usize, width: usize) {
        let n = (self.len() - at - width) as u32;
        let bytes = n.to_be_bytes();
        if let (Some(dst), Some(src)) = (self.get_mut(at..at + width), bytes.get(4 - width..)) {
            dst.copy_from_slice(src);
        }
    }
}
