//! Every cryptographic call of this crate goes through here (ARCHITECTURE.md): ring for
//! HMAC-SHA256 and SHA-256; RustCrypto `hmac` + `sha1` for HMAC-SHA1, because ring's SHA-1
//! is portable code while `sha1` uses the CPU's SHA extensions when it has them (the
//! MESSAGE-INTEGRITY of every ICE check: 2-3x faster here); `md-5` for the MD5 of the
//! long-term key, which ring does not have; crc32fast for FINGERPRINT.

use ::hmac::{Hmac, Mac as _};
use md5::Digest as _;
use ring::{digest, hmac};

type HmacSha1 = Hmac<sha1::Sha1>;

/// HMAC keys for both integrity attributes, their inner and outer pad states computed once
/// (two SHA-1 and two SHA-256 blocks saved on every later message).
#[derive(Clone)]
pub(crate) struct HmacKeys {
    sha1: HmacSha1,
    sha256: hmac::Key,
}

impl HmacKeys {
    pub(crate) fn new(key: &[u8]) -> Self {
        HmacKeys {
            sha1: sha1_key(key),
            sha256: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// HMAC-SHA1 over the concatenation of `parts` (RFC 8489 §14.5).
    pub(crate) fn sha1(&self, parts: &[&[u8]]) -> [u8; 20] {
        sign_sha1(self.sha1.clone(), parts)
    }

    /// HMAC-SHA256 over the concatenation of `parts` (RFC 8489 §14.6).
    pub(crate) fn sha256(&self, parts: &[&[u8]]) -> [u8; 32] {
        sign_sha256(&self.sha256, parts)
    }
}

/// HMAC-SHA1 over the concatenation of `parts` (RFC 8489 §14.5).
pub(crate) fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    sign_sha1(sha1_key(key), parts)
}

fn sha1_key(key: &[u8]) -> HmacSha1 {
    // HMAC takes a key of any length (RFC 2104 §2): longer ones are hashed first.
    match HmacSha1::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

fn sign_sha1(mut mac: HmacSha1, parts: &[&[u8]]) -> [u8; 20] {
    parts.iter().for_each(|p| mac.update(p));
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 over the concatenation of `parts` (RFC 8489 §14.6).
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    sign_sha256(&hmac::Key::new(hmac::HMAC_SHA256, key), parts)
}

fn sign_sha256(key: &hmac::Key, parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = hmac::Context::with_key(key);
    parts.iter().for_each(|p| ctx.update(p));
    let mut out = [0; 32];
    out.iter_mut()
        .zip(ctx.sign().as_ref())
        .for_each(|(o, t)| *o = *t);
    out
}

/// SHA-256 over the concatenation of `parts` (RFC 8489 §9.2.2, §14.4).
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    parts.iter().for_each(|p| ctx.update(p));
    let mut out = [0; 32];
    out.iter_mut()
        .zip(ctx.finish().as_ref())
        .for_each(|(o, t)| *o = *t);
    out
}

/// MD5 over the concatenation of `parts` (RFC 8489 §9.2.2).
pub(crate) fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = md5::Md5::new();
    parts.iter().for_each(|p| h.update(p));
    h.finalize().into()
}

/// CRC-32 (ISO-HDLC, as in Ethernet) over the concatenation of `parts` (RFC 8489 §14.7).
pub(crate) fn crc32(parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    parts.iter().for_each(|p| h.update(p));
    h.finalize()
}

/// Compares in time that depends only on the lengths, not on where the bytes differ.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}
