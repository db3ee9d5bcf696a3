//! The cryptography seam of the crate (ARCHITECTURE.md "Cryptography"): every call into
//! ring, rustls-webpki and rcgen made by this crate goes through this module, so that a
//! later provider (aws-lc-rs, FIPS) or a fuzzing-only provider replaces one module, not the
//! handshake. [`crate::cert`] holds the certificate model and calls in here.
//!
//! What is here, by the RFC section it implements:
//! - the TLS 1.2 PRF (RFC 5246 §5) and what is derived from it: the extended master secret
//!   (RFC 7627 §4), the classic master secret (RFC 5246 §8.1), Finished `verify_data`
//!   (RFC 5246 §7.4.9), the key block (RFC 5246 §6.3) and the keying material exporter
//!   (RFC 5705 §4) that feeds SRTP (RFC 5764 §4.2);
//! - the running handshake [`Transcript`] hash;
//! - ephemeral ECDHE over X25519 and secp256r1 (RFC 8422 §5.10, RFC 7748 §6.1);
//! - AEAD record protection for DTLS 1.2, [`RecordCipher`] (RFC 6347 §4.1.2.1, RFC 5288 §3,
//!   RFC 7905 §2);
//! - verification of a peer certificate's signature ([`verify_signature`], via
//!   rustls-webpki; no chain validation: WebRTC authenticates the certificate by its SDP
//!   fingerprint, RFC 8122 §5);
//! - our own handshake signatures ([`SigningKey`]: ECDSA P-256/P-384, RSA PKCS#1) and the
//!   self-signed certificates rcgen writes for them, signed through [`SigningKey`];
//! - the HelloVerifyRequest cookie MAC ([`cookie_mac`], RFC 6347 §4.2.1) and a
//!   constant-time comparison.
//!
//! ## Randomness
//! Nothing here draws randomness by itself, and nothing reads a clock. Where ring needs a
//! random source (ephemeral key generation, private key setup, ECDSA and RSA signing,
//! including a generated certificate's self-signature) the caller passes a
//! `&dyn ring::rand::SecureRandom`; ring seals that trait, so in practice it is a
//! `ring::rand::SystemRandom` the caller owns (or one of ring's fixed test generators in
//! known-answer tests). Everything else is deterministic in its inputs.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod ecdhe;
mod prf;
mod record;
mod sign;
mod signature;
mod suite;

use std::fmt;

use ring::{digest, hmac};

use crate::cert::FingerprintAlg;

pub use ecdhe::{EphemeralKey, NamedGroup};
pub use prf::{
    export_keying_material, extended_master_secret, key_block, master_secret, prf, verify_data,
    KeyBlock, CLIENT_FINISHED_LABEL, SERVER_FINISHED_LABEL, SRTP_EXPORTER_LABEL,
};
pub use record::{RecordCipher, AEAD_TAG_LEN};
pub(crate) use sign::self_signed_der;
pub use sign::SigningKey;
pub use signature::{scheme, verify_signature};
pub use suite::CipherSuite;

/// The hash of a cipher suite's PRF and of the handshake transcript (RFC 5246 §5: SHA-256
/// unless the suite says otherwise; the `_SHA384` suites of RFC 5289 use SHA-384).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-256, 32-byte output.
    Sha256,
    /// SHA-384, 48-byte output.
    Sha384,
}

impl HashAlg {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }

    pub(crate) fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            HashAlg::Sha256 => &digest::SHA256,
            HashAlg::Sha384 => &digest::SHA384,
        }
    }

    pub(crate) fn hmac_alg(self) -> hmac::Algorithm {
        match self {
            HashAlg::Sha256 => hmac::HMAC_SHA256,
            HashAlg::Sha384 => hmac::HMAC_SHA384,
        }
    }
}

/// Why a cryptographic operation failed. Each cause maps to the alert a DTLS endpoint sends
/// ([`CryptoError::alert_description`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// A key or IV of the wrong length for its algorithm, or a key ring rejected.
    BadKey,
    /// ECDHE failed: the peer's public key is malformed, not on the curve, of small order,
    /// or of another group.
    Agreement,
    /// AEAD sealing failed.
    Seal,
    /// AEAD opening failed: the record is too short or did not authenticate.
    Open,
    /// A signature did not verify under the certificate's public key.
    Signature,
    /// The certificate is not a parseable X.509 DER certificate.
    BadCertificate,
    /// The signature scheme is unknown, or does not fit the certificate's key type.
    UnsupportedAlgorithm,
    /// A plaintext too long for the 16-bit length of the additional data (RFC 5246 §6.2.3.3).
    RecordTooLong,
    /// A record sequence number that does not fit in 48 bits (RFC 6347 §4.1).
    SequenceOverflow,
    /// An exporter label reserved for the TLS key schedule (RFC 5705 §4).
    ReservedExporterLabel,
    /// An exporter context of 2^16 bytes or more (RFC 5705 §4: its length is a uint16).
    ExporterContextTooLong,
    /// Signing with our private key failed.
    Sign,
    /// The random source failed.
    Random,
}

impl CryptoError {
    /// The TLS AlertDescription a DTLS endpoint sends when this error ends a handshake or
    /// a connection (RFC 5246 §7.2.2).
    pub fn alert_description(&self) -> u8 {
        match self {
            // RFC 5246 §7.2.2 bad_record_mac
            CryptoError::Open => 20,
            // bad_certificate
            CryptoError::BadCertificate => 42,
            // illegal_parameter
            CryptoError::Agreement | CryptoError::UnsupportedAlgorithm => 47,
            // decrypt_error: "a handshake cryptographic operation failed, including being
            // unable to correctly verify a signature"
            CryptoError::Signature => 51,
            // internal_error
            CryptoError::BadKey
            | CryptoError::Seal
            | CryptoError::RecordTooLong
            | CryptoError::SequenceOverflow
            | CryptoError::ReservedExporterLabel
            | CryptoError::ExporterContextTooLong
            | CryptoError::Sign
            | CryptoError::Random => 80,
        }
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            CryptoError::BadKey => "bad key or IV length",
            CryptoError::Agreement => "ECDHE key agreement failed",
            CryptoError::Seal => "AEAD seal failed",
            CryptoError::Open => "record did not authenticate",
            CryptoError::Signature => "signature did not verify",
            CryptoError::BadCertificate => "certificate is not valid X.509 DER",
            CryptoError::UnsupportedAlgorithm => "unsupported or mismatched signature algorithm",
            CryptoError::RecordTooLong => "record plaintext longer than 65535 bytes",
            CryptoError::SequenceOverflow => "record sequence number exceeds 48 bits",
            CryptoError::ReservedExporterLabel => "exporter label is reserved",
            CryptoError::ExporterContextTooLong => "exporter context longer than 65535 bytes",
            CryptoError::Sign => "signing failed",
            CryptoError::Random => "random source failed",
        };
        f.write_str(s)
    }
}

impl std::error::Error for CryptoError {}

/// Running transcript hash of the handshake messages (RFC 5246 §7.4.9 `handshake_messages`;
/// in DTLS each message is hashed as if it were one unfragmented fragment, RFC 6347
/// §4.2.6). Snapshot it at any point with [`Transcript::current`], or clone it.
#[derive(Clone)]
pub struct Transcript {
    ctx: digest::Context,
}

impl Transcript {
    /// An empty transcript hashed with `h`.
    pub fn new(h: HashAlg) -> Self {
        Transcript {
            ctx: digest::Context::new(h.digest_alg()),
        }
    }

    /// Appends `bytes` to the transcript.
    pub fn update(&mut self, bytes: &[u8]) {
        self.ctx.update(bytes);
    }

    /// The hash of everything appended so far; the transcript goes on.
    pub fn current(&self) -> Vec<u8> {
        self.ctx.clone().finish().as_ref().to_vec()
    }

    /// The hash algorithm.
    pub fn hash_alg(&self) -> HashAlg {
        if self.ctx.algorithm() == &digest::SHA384 {
            HashAlg::Sha384
        } else {
            HashAlg::Sha256
        }
    }
}

impl fmt::Debug for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transcript")
            .field("hash", &self.hash_alg())
            .finish_non_exhaustive()
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The certificate fingerprint hash of RFC 8122 §5 over `data` (SHA-1 only because SDP
/// still names it; ring calls it legacy-only).
pub(crate) fn fingerprint_digest(alg: FingerprintAlg, data: &[u8]) -> Vec<u8> {
    let alg = match alg {
        FingerprintAlg::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        FingerprintAlg::Sha256 => &digest::SHA256,
        FingerprintAlg::Sha384 => &digest::SHA384,
        FingerprintAlg::Sha512 => &digest::SHA512,
    };
    digest::digest(alg, data).as_ref().to_vec()
}

/// HMAC-SHA256 under `secret` for a stateless HelloVerifyRequest cookie (RFC 6347 §4.2.1:
/// "Cookie = HMAC(Secret, Client-IP, Client-Parameters)").
///
/// Each part is fed as its length (8 bytes, big-endian) followed by its bytes, so that
/// different splits of the same bytes give different MACs (`["ab", "c"]` differs from
/// `["a", "bc"]`). The cookie is opaque to the client, so this encoding is ours to choose.
pub fn cookie_mac(secret: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    let tag = ctx.sign();
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Compares two byte strings in time that depends on their lengths only, not on their
/// contents (for cookies and MACs). Slices of different lengths are unequal.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keep the optimiser from turning the fold into an early-exit comparison.
    std::hint::black_box(diff) == 0
}
