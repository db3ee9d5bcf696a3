//! AEAD record protection of DTLS 1.2 (RFC 6347 §4.1.2.1, RFC 5246 §6.2.3.3).
//!
//! ```text
//! seq_num (8)        = epoch (2) || sequence_number (6)              RFC 6347 §4.1.2.1
//! additional_data    = seq_num || type (1) || version (2) || length (2)  RFC 5246 §6.2.3.3
//! AES-GCM nonce      = client/server_write_IV (4) || nonce_explicit (8)  RFC 5288 §3
//!   nonce_explicit   = seq_num, sent in front of the ciphertext
//! ChaCha20 nonce     = write_IV (12) XOR (0^32 || seq_num)               RFC 7905 §2
//! fragment           = nonce_explicit (GCM only) || ciphertext || tag (16)
//! ```

use std::fmt;

use ring::aead;

use super::suite::Aead;
use super::{CipherSuite, CryptoError};

/// Length of the authentication tag of every supported AEAD.
pub const AEAD_TAG_LEN: usize = 16;

/// Largest DTLS sequence number: 48 bits (RFC 6347 §4.1).
const MAX_SEQ: u64 = (1 << 48) - 1;

/// One direction's record protection: the write key and IV of one side for one epoch.
pub struct RecordCipher {
    suite: CipherSuite,
    key: aead::LessSafeKey,
    /// The write IV: 4 bytes of salt for AES-GCM, 12 for ChaCha20 (the rest zero).
    iv: [u8; 12],
}

impl RecordCipher {
    /// The cipher of `suite` with a write key and write IV from the [`super::KeyBlock`].
    ///
    /// # Errors
    /// [`CryptoError::BadKey`] if `key` or `iv` has the wrong length for the suite.
    pub fn new(suite: CipherSuite, key: &[u8], iv: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != suite.key_len() || iv.len() != suite.fixed_iv_len() {
            return Err(CryptoError::BadKey);
        }
        let alg = match suite.aead() {
            Aead::Aes128Gcm => &aead::AES_128_GCM,
            Aead::Aes256Gcm => &aead::AES_256_GCM,
            Aead::Chacha20Poly1305 => &aead::CHACHA20_POLY1305,
        };
        let unbound = aead::UnboundKey::new(alg, key).map_err(|_| CryptoError::BadKey)?;
        let mut fixed = [0u8; 12];
        fixed
            .get_mut(..iv.len())
            .ok_or(CryptoError::BadKey)?
            .copy_from_slice(iv);
        Ok(RecordCipher {
            suite,
            key: aead::LessSafeKey::new(unbound),
            iv: fixed,
        })
    }

    /// The suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// Bytes a protected record adds to its plaintext: explicit nonce plus tag (24 for
    /// AES-GCM, 16 for ChaCha20-Poly1305).
    pub fn overhead(&self) -> usize {
        self.suite.explicit_nonce_len() + AEAD_TAG_LEN
    }

    /// Protects one record and returns its fragment: explicit nonce (AES-GCM only) ||
    /// ciphertext || tag. `seq` is the 48-bit record sequence number, `version` the
    /// record header's version (`[0xFE, 0xFD]` for DTLS 1.2).
    ///
    /// # Errors
    /// [`CryptoError::SequenceOverflow`], [`CryptoError::RecordTooLong`],
    /// [`CryptoError::Seal`].
    pub fn seal(
        &self,
        epoch: u16,
        seq: u64,
        content_type: u8,
        version: [u8; 2],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::with_capacity(plaintext.len() + self.overhead());
        self.seal_append(epoch, seq, content_type, version, plaintext, &mut out)?;
        Ok(out)
    }

    /// [`RecordCipher::seal`] appending the fragment to `out` (after a record header the
    /// caller has already written, say), without allocating beyond `out`'s growth. On error
    /// `out` is left as it was.
    ///
    /// # Errors
    /// As [`RecordCipher::seal`].
    pub fn seal_append(
        &self,
        epoch: u16,
        seq: u64,
        content_type: u8,
        version: [u8; 2],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let seq_num = seq_num(epoch, seq)?;
        let len = u16::try_from(plaintext.len()).map_err(|_| CryptoError::RecordTooLong)?;
        let aad = additional_data(&seq_num, content_type, version, len);
        let nonce = self.nonce(&seq_num);
        let start = out.len();
        if self.suite.explicit_nonce_len() > 0 {
            // RFC 5288 §3: nonce_explicit is the 64-bit seq_num, sent in the clear.
            out.extend_from_slice(&seq_num);
        }
        let body_start = out.len();
        out.extend_from_slice(plaintext);
        let sealed = match out.get_mut(body_start..) {
            Some(body) => self
                .key
                .seal_in_place_separate_tag(nonce, aead::Aad::from(aad), body)
                .map_err(|_| CryptoError::Seal),
            None => Err(CryptoError::Seal),
        };
        match sealed {
            Ok(tag) => {
                out.extend_from_slice(tag.as_ref());
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// Authenticates and decrypts one record's fragment, returning the plaintext. `epoch`,
    /// `seq`, `content_type` and `version` come from the record header.
    ///
    /// # Errors
    /// [`CryptoError::Open`] if the fragment is too short or does not authenticate;
    /// [`CryptoError::SequenceOverflow`] for a `seq` beyond 48 bits.
    pub fn open(
        &self,
        epoch: u16,
        seq: u64,
        content_type: u8,
        version: [u8; 2],
        fragment: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut buf = fragment.to_vec();
        let n = self
            .open_in_place(epoch, seq, content_type, version, &mut buf)?
            .len();
        let start = self.suite.explicit_nonce_len();
        buf.truncate(start + n);
        buf.drain(..start);
        Ok(buf)
    }

    /// [`RecordCipher::open`] decrypting in the caller's buffer: returns the plaintext, a
    /// sub-slice of `fragment`. On error the contents of `fragment` are unspecified.
    ///
    /// # Errors
    /// As [`RecordCipher::open`].
    pub fn open_in_place<'a>(
        &self,
        epoch: u16,
        seq: u64,
        content_type: u8,
        version: [u8; 2],
        fragment: &'a mut [u8],
    ) -> Result<&'a mut [u8], CryptoError> {
        let seq_num = seq_num(epoch, seq)?;
        let explicit_len = self.suite.explicit_nonce_len();
        let plaintext_len = fragment
            .len()
            .checked_sub(explicit_len + AEAD_TAG_LEN)
            .ok_or(CryptoError::Open)?;
        let len = u16::try_from(plaintext_len).map_err(|_| CryptoError::Open)?;
        let aad = additional_data(&seq_num, content_type, version, len);
        let (explicit, body) = fragment.split_at_mut(explicit_len);
        let nonce = if explicit_len > 0 {
            // RFC 5288 §3: the receiver takes nonce_explicit from the record, whatever the
            // sender chose; the sequence number goes only into the additional data.
            let mut wire = [0u8; 8];
            wire.copy_from_slice(explicit);
            self.nonce(&wire)
        } else {
            self.nonce(&seq_num)
        };
        self.key
            .open_in_place(nonce, aead::Aad::from(aad), body)
            .map_err(|_| CryptoError::Open)
    }

    /// The AEAD nonce for an 8-byte explicit part (AES-GCM) or sequence number (ChaCha20).
    fn nonce(&self, explicit: &[u8; 8]) -> aead::Nonce {
        let mut n = self.iv;
        match self.suite.aead() {
            // RFC 5288 §3: salt (4) || nonce_explicit (8)
            Aead::Aes128Gcm | Aead::Aes256Gcm => {
                for (d, s) in n.iter_mut().skip(4).zip(explicit) {
                    *d = *s;
                }
            }
            // RFC 7905 §2: the 64-bit sequence number, padded on the left with four zero
            // bytes, XORed with the 12-byte IV.
            Aead::Chacha20Poly1305 => {
                for (d, s) in n.iter_mut().skip(4).zip(explicit) {
                    *d ^= *s;
                }
            }
        }
        aead::Nonce::assume_unique_for_key(n)
    }
}

impl fmt::Debug for RecordCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("RecordCipher")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

/// DTLS's 64-bit `seq_num`: epoch (2) || 48-bit sequence number (RFC 6347 §4.1.2.1).
fn seq_num(epoch: u16, seq: u64) -> Result<[u8; 8], CryptoError> {
    if seq > MAX_SEQ {
        return Err(CryptoError::SequenceOverflow);
    }
    Ok(((u64::from(epoch) << 48) | seq).to_be_bytes())
}

/// `additional_data` of RFC 5246 §6.2.3.3 with DTLS's seq_num.
fn additional_data(seq_num: &[u8; 8], content_type: u8, version: [u8; 2], len: u16) -> [u8; 13] {
    let mut aad = [0u8; 13];
    let [v0, v1] = version;
    let [l0, l1] = len.to_be_bytes();
    for (d, s) in aad
        .iter_mut()
        .zip(seq_num.iter().chain(&[content_type, v0, v1, l0, l1]))
    {
        *d = *s;
    }
    aad
}
