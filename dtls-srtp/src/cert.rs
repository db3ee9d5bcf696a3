//! Certificates and their SDP fingerprints.
//!
//! A WebRTC endpoint authenticates with a self-signed certificate whose hash it announces in
//! SDP as `a=fingerprint:sha-256 AB:CD:...` (RFC 8122 §5, RFC 8827 §6.5). The DTLS peer must
//! present a certificate matching one of the announced fingerprints ([`matches_any`]); no
//! chain, name or date is checked. [`Certificate`] holds our certificate and the private key
//! that signs our handshakes; the cryptography itself is in [`crate::crypto`].
//!
//! ```
//! use weft_dtls_srtp::cert::{Certificate, FingerprintAlg, Validity, matches_any};
//! let rng = ring::rand::SystemRandom::new();
//! let cert = Certificate::generate_self_signed("weft", Validity::default(), &rng)?;
//! let fp = cert.fingerprint(FingerprintAlg::Sha256);
//! let sdp_value = fp.to_string(); // "sha-256 4A:..."
//! assert!(matches_any(cert.der(), &[sdp_value.parse()?]));
//! # Ok::<(), weft_dtls_srtp::cert::CertError>(())
//! ```

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use pki_types::pem::PemObject;
use pki_types::{CertificateDer, PrivateKeyDer};
use ring::rand::SecureRandom;

use crate::crypto::{self, CryptoError, SigningKey};

/// Why a certificate could not be made, loaded or used, or a fingerprint not parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertError {
    /// The random source failed.
    Random,
    /// A validity date that does not exist or is out of range (years 1950 to 9999,
    /// RFC 5280 §4.1.2.5), or `not_after` before `not_before`.
    InvalidValidity,
    /// rcgen could not make the certificate (its message).
    Generate(String),
    /// The PEM text holds no `CERTIFICATE` section, or it is not valid PEM.
    NoCertificatePem,
    /// The PEM text holds no private key section, or it is not valid PEM.
    NoPrivateKeyPem,
    /// The private key is not unencrypted PKCS#8 (`BEGIN PRIVATE KEY`), e.g. SEC1
    /// `BEGIN EC PRIVATE KEY`: convert it with `openssl pkcs8 -topk8 -nocrypt`.
    UnsupportedKeyFormat,
    /// The private key is not ECDSA P-256, ECDSA P-384 or RSA, or is malformed.
    UnsupportedKey,
    /// The certificate is not parseable X.509 DER.
    BadCertificate,
    /// The private key does not belong to the certificate's public key.
    KeyMismatch,
    /// Signing failed.
    Sign,
    /// A fingerprint hash name other than sha-1, sha-256, sha-384, sha-512 (RFC 8122 §5;
    /// md2 and md5 are forbidden there, sha-224 is not implemented).
    UnknownFingerprintAlg,
    /// A fingerprint that is not `<hash> XX:XX:...` with the hash's length in bytes.
    BadFingerprint,
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::Random => f.write_str("random source failed"),
            CertError::InvalidValidity => f.write_str("invalid certificate validity dates"),
            CertError::Generate(e) => write!(f, "certificate generation failed: {e}"),
            CertError::NoCertificatePem => f.write_str("no PEM CERTIFICATE found"),
            CertError::NoPrivateKeyPem => f.write_str("no PEM private key found"),
            CertError::UnsupportedKeyFormat => {
                f.write_str("private key is not unencrypted PKCS#8 (BEGIN PRIVATE KEY)")
            }
            CertError::UnsupportedKey => {
                f.write_str("private key is not ECDSA P-256, ECDSA P-384 or RSA")
            }
            CertError::BadCertificate => f.write_str("certificate is not valid X.509 DER"),
            CertError::KeyMismatch => f.write_str("private key does not match the certificate"),
            CertError::Sign => f.write_str("signing failed"),
            CertError::UnknownFingerprintAlg => f.write_str("unknown fingerprint hash function"),
            CertError::BadFingerprint => f.write_str("malformed fingerprint"),
        }
    }
}

impl std::error::Error for CertError {}

/// A calendar date (UTC midnight) of a certificate's validity period. A plain value, so
/// that nothing here reads the clock: the caller computes "today" if it wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CertDate {
    /// Year, 1950 to 9999.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, from 1.
    pub day: u8,
}

impl CertDate {
    /// The date `year-month-day` (checked when a certificate is made).
    pub const fn new(year: u16, month: u8, day: u8) -> Self {
        CertDate { year, month, day }
    }

    /// Does the date exist in the Gregorian calendar, in the years X.509 can carry
    /// (1950 to 9999, RFC 5280 §4.1.2.5)?
    pub fn is_valid(&self) -> bool {
        let leap = self.year.is_multiple_of(4)
            && (!self.year.is_multiple_of(100) || self.year.is_multiple_of(400));
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (1950..=9999).contains(&self.year) && (1..=days).contains(&self.day)
    }
}

/// The validity period of a generated certificate (RFC 5280 §4.1.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Validity {
    /// notBefore, at 00:00:00 UTC.
    pub not_before: CertDate,
    /// notAfter, at 00:00:00 UTC.
    pub not_after: CertDate,
}

impl Default for Validity {
    /// 1975-01-01 to 4096-01-01, rcgen's own fixed defaults: WebRTC peers authenticate by
    /// fingerprint and do not check dates, so a clock-free certificate never expires.
    fn default() -> Self {
        Validity {
            not_before: CertDate::new(1975, 1, 1),
            not_after: CertDate::new(4096, 1, 1),
        }
    }
}

/// Our certificate and the private key that signs our handshakes. Cheap to clone (shared).
#[derive(Clone)]
pub struct Certificate {
    inner: Arc<Inner>,
}

struct Inner {
    der: Vec<u8>,
    pkcs8: Vec<u8>,
    key: SigningKey,
}

/// The message signed and verified to prove a key belongs to a certificate.
const KEY_PROBE: &[u8] = b"weft certificate key check";

impl Certificate {
    /// A fresh self-signed certificate with a new ECDSA P-256 key (RFC 8827 §6.5: P-256 is
    /// the curve every WebRTC peer supports). Subject and issuer are `CN=common_name`
    /// (`"weft"` is a fine choice); the serial number is derived from the public key; there
    /// are no extensions. The key and the certificate's own ECDSA signature draw on `rng`.
    ///
    /// # Errors
    /// [`CertError::Random`], [`CertError::InvalidValidity`], [`CertError::Generate`].
    pub fn generate_self_signed(
        common_name: &str,
        validity: Validity,
        rng: &dyn SecureRandom,
    ) -> Result<Self, CertError> {
        let pkcs8 = SigningKey::generate_p256_pkcs8(rng).map_err(|_| CertError::Random)?;
        let key = SigningKey::from_pkcs8(&pkcs8, rng).map_err(|_| CertError::Random)?;
        let der = crypto::self_signed_der(
            &key,
            common_name,
            validity.not_before,
            validity.not_after,
            rng,
        )?;
        Ok(Certificate {
            inner: Arc::new(Inner { der, pkcs8, key }),
        })
    }

    /// Loads a certificate and its private key from PEM: the first `CERTIFICATE` of
    /// `cert_pem`, and an unencrypted PKCS#8 `PRIVATE KEY` (ECDSA P-256 or P-384, or RSA)
    /// from `key_pem`, as `openssl req -x509 -newkey ec -pkeyopt
    /// ec_paramgen_curve:prime256v1 -nodes` writes them. `rng` is for ring's ECDSA key
    /// setup.
    ///
    /// # Errors
    /// [`CertError::NoCertificatePem`], [`CertError::NoPrivateKeyPem`],
    /// [`CertError::UnsupportedKeyFormat`] and those of [`Certificate::from_der`].
    pub fn from_pem(
        cert_pem: &str,
        key_pem: &str,
        rng: &dyn SecureRandom,
    ) -> Result<Self, CertError> {
        let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|_| CertError::NoCertificatePem)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|_| CertError::NoPrivateKeyPem)?;
        match key {
            PrivateKeyDer::Pkcs8(k) => Self::from_der(&cert, k.secret_pkcs8_der(), rng),
            _ => Err(CertError::UnsupportedKeyFormat),
        }
    }

    /// A certificate from its DER and its private key as unencrypted PKCS#8 DER. Checks
    /// that the key belongs to the certificate (by signing and verifying a probe message).
    ///
    /// # Errors
    /// [`CertError::UnsupportedKey`], [`CertError::BadCertificate`],
    /// [`CertError::KeyMismatch`], [`CertError::Sign`].
    pub fn from_der(
        cert_der: &[u8],
        pkcs8_der: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Self, CertError> {
        let key = SigningKey::from_pkcs8(pkcs8_der, rng).map_err(|_| CertError::UnsupportedKey)?;
        let probe = key.sign(KEY_PROBE, rng).map_err(|_| CertError::Sign)?;
        match crypto::verify_signature(cert_der, key.scheme(), KEY_PROBE, &probe) {
            Ok(()) => {}
            Err(CryptoError::BadCertificate) => return Err(CertError::BadCertificate),
            Err(_) => return Err(CertError::KeyMismatch),
        }
        Ok(Certificate {
            inner: Arc::new(Inner {
                der: cert_der.to_vec(),
                pkcs8: pkcs8_der.to_vec(),
                key,
            }),
        })
    }

    /// The certificate, DER-encoded, as it goes into the Certificate message.
    pub fn der(&self) -> &[u8] {
        &self.inner.der
    }

    /// The TLS signature scheme of [`Certificate::sign`]: 0x0403 (ecdsa_secp256r1_sha256)
    /// for P-256, 0x0503 for P-384, 0x0401 (rsa_pkcs1_sha256) for RSA; see
    /// [`crypto::scheme`].
    pub fn signature_scheme(&self) -> u16 {
        self.inner.key.scheme()
    }

    /// Is the key ECDSA (for the `ECDHE_ECDSA` suites) rather than RSA?
    pub fn is_ecdsa(&self) -> bool {
        self.inner.key.is_ecdsa()
    }

    /// Signs `message` (the ServerKeyExchange params or the CertificateVerify transcript)
    /// with [`Certificate::signature_scheme`]; ECDSA signatures are DER (RFC 8422 §5.4).
    ///
    /// # Errors
    /// [`CertError::Sign`] if `rng` fails.
    pub fn sign(&self, message: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>, CertError> {
        self.inner
            .key
            .sign(message, rng)
            .map_err(|_| CertError::Sign)
    }

    /// The fingerprint of this certificate with `alg` (RFC 8122 §5).
    pub fn fingerprint(&self, alg: FingerprintAlg) -> Fingerprint {
        fingerprint_of(&self.inner.der, alg)
    }

    /// The certificate as PEM (`BEGIN CERTIFICATE`, RFC 7468 §5), to store it.
    pub fn cert_pem(&self) -> String {
        pem("CERTIFICATE", &self.inner.der)
    }

    /// The private key as unencrypted PKCS#8 PEM (`BEGIN PRIVATE KEY`, RFC 7468 §10), to
    /// store it. This is the secret: keep it like one.
    pub fn key_pem(&self) -> String {
        pem("PRIVATE KEY", &self.inner.pkcs8)
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the private key.
        f.debug_struct("Certificate")
            .field("scheme", &format_args!("{:#06x}", self.signature_scheme()))
            .field(
                "fingerprint",
                &format_args!("{}", self.fingerprint(FingerprintAlg::Sha256)),
            )
            .finish_non_exhaustive()
    }
}

/// A hash function of SDP fingerprints, by its name in the IANA "Hash Function Textual
/// Names" registry (RFC 8122 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FingerprintAlg {
    /// `sha-1`: only for peers that offer nothing else.
    Sha1,
    /// `sha-256`: what browsers send.
    Sha256,
    /// `sha-384`.
    Sha384,
    /// `sha-512`.
    Sha512,
}

impl FingerprintAlg {
    /// The SDP name: `sha-1`, `sha-256`, `sha-384` or `sha-512`.
    pub fn name(self) -> &'static str {
        match self {
            FingerprintAlg::Sha1 => "sha-1",
            FingerprintAlg::Sha256 => "sha-256",
            FingerprintAlg::Sha384 => "sha-384",
            FingerprintAlg::Sha512 => "sha-512",
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            FingerprintAlg::Sha1 => 20,
            FingerprintAlg::Sha256 => 32,
            FingerprintAlg::Sha384 => 48,
            FingerprintAlg::Sha512 => 64,
        }
    }

    /// Preference order for RFC 8122 §5's "most preferred hash function": stronger first.
    fn strength(self) -> u8 {
        match self {
            FingerprintAlg::Sha1 => 1,
            FingerprintAlg::Sha256 => 2,
            FingerprintAlg::Sha384 => 3,
            FingerprintAlg::Sha512 => 4,
        }
    }
}

impl fmt::Display for FingerprintAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FingerprintAlg {
    type Err = CertError;

    /// Parses a hash name, case-insensitively (SDP token matching, RFC 8122 §5).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            FingerprintAlg::Sha1,
            FingerprintAlg::Sha256,
            FingerprintAlg::Sha384,
            FingerprintAlg::Sha512,
        ]
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(s))
        .ok_or(CertError::UnknownFingerprintAlg)
    }
}

/// A certificate fingerprint as SDP carries it (RFC 8122 §5):
/// `fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint`, the fingerprint
/// being uppercase hex byte pairs joined by colons. [`fmt::Display`] writes
/// `sha-256 AB:CD:...`; [`FromStr`] reads it with any case of name and hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// The hash function.
    pub alg: FingerprintAlg,
    /// The digest of the DER certificate.
    pub bytes: Vec<u8>,
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.alg)?;
        for (i, b) in self.bytes.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl FromStr for Fingerprint {
    type Err = CertError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut fields = s.split_ascii_whitespace();
        let alg: FingerprintAlg = fields.next().ok_or(CertError::BadFingerprint)?.parse()?;
        let hex = fields.next().ok_or(CertError::BadFingerprint)?;
        if fields.next().is_some() {
            return Err(CertError::BadFingerprint);
        }
        let bytes = hex
            .split(':')
            .map(|pair| match pair.as_bytes() {
                [hi, lo] => Ok(hex_val(*hi)? << 4 | hex_val(*lo)?),
                _ => Err(CertError::BadFingerprint),
            })
            .collect::<Result<Vec<u8>, _>>()?;
        if bytes.len() != alg.digest_len() {
            return Err(CertError::BadFingerprint);
        }
        Ok(Fingerprint { alg, bytes })
    }
}

fn hex_val(c: u8) -> Result<u8, CertError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(CertError::BadFingerprint),
    }
}

/// The fingerprint of the DER certificate `der` with `alg`: the hash of the whole DER
/// encoding (RFC 8122 §5).
pub fn fingerprint_of(der: &[u8], alg: FingerprintAlg) -> Fingerprint {
    Fingerprint {
        alg,
        bytes: crypto::fingerprint_digest(alg, der),
    }
}

/// Does the peer's certificate `der` match the fingerprints `expected` from its SDP?
///
/// RFC 8122 §5: "An endpoint MUST select the set of fingerprints that use its most
/// preferred hash function (out of those offered by the peer) and verify that each
/// certificate used matches one fingerprint out of that set." Our preference is
/// sha-512 > sha-384 > sha-256 > sha-1, so sha-1 counts only when every expected
/// fingerprint is sha-1, and a certificate matching only a weaker fingerprint than the
/// strongest offered does not match. No fingerprint at all matches nothing.
pub fn matches_any(der: &[u8], expected: &[Fingerprint]) -> bool {
    let Some(best) = expected.iter().map(|f| f.alg).max_by_key(|a| a.strength()) else {
        return false;
    };
    let actual = fingerprint_of(der, best);
    expected
        .iter()
        .filter(|f| f.alg == best)
        .any(|f| f.bytes == actual.bytes)
}

/// PEM text (RFC 7468 §2): the label lines around the base64 of `der` in 64-column lines.
fn pem(label: &str, der: &[u8]) -> String {
    let mut out = format!("-----BEGIN {label}-----\n");
    let mut col = 0;
    for chunk in der.chunks(3) {
        let (b0, b1, b2) = match *chunk {
            [a] => (a, 0, 0),
            [a, b] => (a, b, 0),
            [a, b, c] => (a, b, c),
            _ => continue,
        };
        let n = u32::from(b0) << 16 | u32::from(b1) << 8 | u32::from(b2);
        // RFC 4648 §4: 3 bytes -> 4 characters; '=' pads a short last group.
        let chars = [
            base64_char(n >> 18),
            base64_char(n >> 12),
            if chunk.len() > 1 {
                base64_char(n >> 6)
            } else {
                '='
            },
            if chunk.len() > 2 { base64_char(n) } else { '=' },
        ];
        for c in chars {
            out.push(c);
            col += 1;
            if col == 64 {
                out.push('\n');
                col = 0;
            }
        }
    }
    if col > 0 {
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The RFC 4648 §4 base64 alphabet character of the low 6 bits of `v`.
fn base64_char(v: u32) -> char {
    let v = (v & 63) as u8;
    char::from(match v {
        0..=25 => b'A' + v,
        26..=51 => b'a' + (v - 26),
        52..=61 => b'0' + (v - 52),
        62 => b'+',
        _ => b'/',
    })
}
