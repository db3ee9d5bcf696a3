//! The SRTP primitives, one place (ARCHITECTURE.md): AES counter mode over the `aes` crate's
//! block cipher, AES-GCM from ring, HMAC-SHA1 from RustCrypto.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::{Aes128, Aes256, Block};
use hmac::{Hmac, Mac};
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};

use super::Error;

/// AES in counter mode (RFC 3711 §4.1.1), AES-128 or AES-256 (the KDF of AEAD_AES_256_GCM).
// One per session key, few per connection; boxing would cost an indirection per packet.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum AesCm {
    A128(Aes128),
    A256(Aes256),
}

/// Keystream blocks computed per batch (AES-NI pipelines eight).
const BATCH: usize = 8;

impl AesCm {
    pub(crate) fn new(key: &[u8]) -> Option<Self> {
        match key.len() {
            16 => Aes128::new_from_slice(key).ok().map(AesCm::A128),
            32 => Aes256::new_from_slice(key).ok().map(AesCm::A256),
            _ => None,
        }
    }

    fn encrypt(&self, blocks: &mut [Block]) {
        match self {
            AesCm::A128(c) => c.encrypt_blocks(blocks),
            AesCm::A256(c) => c.encrypt_blocks(blocks),
        }
    }

    /// XORs the keystream starting at counter block `iv` into `data`.
    pub(crate) fn apply_keystream(&self, iv: &[u8; 16], data: &mut [u8]) {
        let base = u128::from_be_bytes(*iv);
        let mut counter: u128 = 0;
        let mut blocks = [Block::default(); BATCH];
        for chunk in data.chunks_mut(16 * BATCH) {
            let n = chunk.len().div_ceil(16);
            for b in blocks.iter_mut().take(n) {
                // RFC 3711 §4.1.1: the block counter is added to the IV (mod 2^128).
                *b = Block::from(base.wrapping_add(counter).to_be_bytes());
                counter += 1;
            }
            self.encrypt(blocks.get_mut(..n).unwrap_or_default());
            // 16 bytes at a time: a byte-wise XOR over a flattened iterator does not
            // vectorise and cost more than the AES itself.
            let mut whole = chunk.chunks_exact_mut(16);
            for (d, k) in (&mut whole).zip(&blocks) {
                let mut x = [0u8; 16];
                x.copy_from_slice(d);
                let x = u128::from_ne_bytes(x) ^ u128::from_ne_bytes((*k).into());
                d.copy_from_slice(&x.to_ne_bytes());
            }
            let tail = whole.into_remainder();
            if let Some(k) = blocks.get(n.saturating_sub(1)).filter(|_| !tail.is_empty()) {
                tail.iter_mut().zip(k.iter()).for_each(|(d, k)| *d ^= *k);
            }
        }
    }
}

/// RFC 3711 §4.1.1: IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16).
pub(crate) fn cm_iv(salt: &[u8; 14], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    for (d, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
        *d ^= s;
    }
    for (d, s) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
        *d ^= s;
    }
    iv
}

/// RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt.
pub(crate) fn gcm_rtp_nonce(salt: &[u8; 12], ssrc: u32, roc: u32, seq: u16) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[2..6].copy_from_slice(&ssrc.to_be_bytes());
    n[6..10].copy_from_slice(&roc.to_be_bytes());
    n[10..12].copy_from_slice(&seq.to_be_bytes());
    n.iter_mut().zip(salt).for_each(|(a, b)| *a ^= b);
    n
}

/// RFC 7714 §9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt.
pub(crate) fn gcm_rtcp_nonce(salt: &[u8; 12], ssrc: u32, index: u32) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[2..6].copy_from_slice(&ssrc.to_be_bytes());
    n[8..12].copy_from_slice(&(index & 0x7fff_ffff).to_be_bytes());
    n.iter_mut().zip(salt).for_each(|(a, b)| *a ^= b);
    n
}

/// HMAC-SHA1 with its pad states computed once (RFC 3711 §4.2.1).
#[derive(Clone)]
pub(crate) struct HmacSha1(Hmac<sha1::Sha1>);

impl HmacSha1 {
    pub(crate) fn new(key: &[u8; 20]) -> Self {
        // HMAC takes keys of any length (RFC 2104 §2); this cannot fail.
        match <Hmac<sha1::Sha1> as Mac>::new_from_slice(key) {
            Ok(m) => HmacSha1(m),
            Err(_) => unreachable!("HMAC accepts a 20-byte key"),
        }
    }

    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 20] {
        let mut m = self.0.clone();
        parts.iter().for_each(|p| m.update(p));
        m.finalize().into_bytes().into()
    }
}

/// Compares in time independent of where the bytes differ.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// AES-GCM (RFC 7714) from ring.
pub(crate) struct Gcm(LessSafeKey);

const TAG: usize = 16;

impl Gcm {
    pub(crate) fn new(key: &[u8]) -> Option<Self> {
        let alg = match key.len() {
            16 => &aead::AES_128_GCM,
            32 => &aead::AES_256_GCM,
            _ => return None,
        };
        UnboundKey::new(alg, key)
            .ok()
            .map(|k| Gcm(LessSafeKey::new(k)))
    }

    /// RTP: AAD = the header `buf[..hlen]`, plaintext `buf[hlen..len]`, tag at `len`.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; 12],
        buf: &mut [u8],
        hlen: usize,
        len: usize,
    ) -> Result<(), Error> {
        let (head, rest) = buf.split_at_mut(hlen);
        let (body, tail) = rest.split_at_mut(len - hlen);
        let tag = self
            .0
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(&*head),
                body,
            )
            .map_err(|_| Error::BufferTooSmall)?;
        tail.get_mut(..TAG)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(tag.as_ref());
        Ok(())
    }

    /// RTP: `buf[hlen..]` is ciphertext and tag; decrypted in place.
    pub(crate) fn open(&self, nonce: &[u8; 12], buf: &mut [u8], hlen: usize) -> Result<(), Error> {
        let (head, rest) = buf.split_at_mut(hlen);
        self.0
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(&*head),
                rest,
            )
            .map(|_| ())
            .map_err(|_| Error::Authentication)
    }

    /// SRTCP (RFC 7714 §9.1): AAD = header (8 bytes) || E+index; `buf[8..len]` encrypted,
    /// then the tag, then the E+index word.
    pub(crate) fn seal_rtcp(
        &self,
        nonce: &[u8; 12],
        buf: &mut [u8],
        len: usize,
        e_index: &[u8; 4],
    ) -> Result<(), Error> {
        let mut aad = [0u8; 12];
        aad[..8].copy_from_slice(buf.get(..8).ok_or(Error::TooShort)?);
        aad[8..].copy_from_slice(e_index);
        let body = buf.get_mut(8..len).ok_or(Error::TooShort)?;
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(&aad), body)
            .map_err(|_| Error::BufferTooSmall)?;
        buf.get_mut(len..len + TAG)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(tag.as_ref());
        buf.get_mut(len + TAG..len + TAG + 4)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(e_index);
        Ok(())
    }

    /// SRTCP open: `len` is the RTCP length (the packet minus tag and E+index).
    pub(crate) fn open_rtcp(
        &self,
        nonce: &[u8; 12],
        buf: &mut [u8],
        len: usize,
        encrypted: bool,
    ) -> Result<(), Error> {
        let mut word = [0u8; 4];
        word.copy_from_slice(buf.get(len + TAG..len + TAG + 4).ok_or(Error::TooShort)?);
        if encrypted {
            let mut aad = [0u8; 12];
            aad[..8].copy_from_slice(buf.get(..8).ok_or(Error::TooShort)?);
            aad[8..].copy_from_slice(&word);
            let body = buf.get_mut(8..len + TAG).ok_or(Error::TooShort)?;
            self.0
                .open_in_place(Nonce::assume_unique_for_key(*nonce), Aad::from(&aad), body)
                .map(|_| ())
                .map_err(|_| Error::Authentication)
        } else {
            // RFC 7714 §9.2: unencrypted SRTCP authenticates the whole packet as AAD.
            let mut aad = buf.get(..len).ok_or(Error::TooShort)?.to_vec();
            aad.extend_from_slice(&word);
            let tag = buf.get_mut(len..len + TAG).ok_or(Error::TooShort)?;
            self.0
                .open_in_place(Nonce::assume_unique_for_key(*nonce), Aad::from(&aad), tag)
                .map(|_| ())
                .map_err(|_| Error::Authentication)
        }
    }
}
