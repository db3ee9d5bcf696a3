//! Our own handshake signatures (RFC 5246 §7.4.3 ServerKeyExchange, §7.4.8
//! CertificateVerify) with the private key of our certificate, and certificate generation.

use std::fmt;

use ring::rand::SecureRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};

use super::scheme;
use super::CryptoError;
use crate::cert::{CertDate, CertError};

/// A private key that signs handshakes: ECDSA P-256 or P-384, or RSA (2048 to 8192 bits).
pub struct SigningKey {
    kind: Kind,
}

enum Kind {
    Ecdsa { pair: EcdsaKeyPair, scheme: u16 },
    Rsa(RsaKeyPair),
}

impl SigningKey {
    /// A fresh ECDSA P-256 private key as unencrypted PKCS#8 v1 DER, drawn from `rng`.
    ///
    /// # Errors
    /// [`CryptoError::Random`] if `rng` fails.
    pub fn generate_p256_pkcs8(rng: &dyn SecureRandom) -> Result<Vec<u8>, CryptoError> {
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, rng)
            .map_err(|_| CryptoError::Random)?;
        Ok(doc.as_ref().to_vec())
    }

    /// Parses an unencrypted PKCS#8 private key: ECDSA P-256, ECDSA P-384 or RSA. ring
    /// draws a per-key secret from `rng` to hedge ECDSA nonces.
    ///
    /// # Errors
    /// [`CryptoError::BadKey`] if the key is none of those, or malformed.
    pub fn from_pkcs8(pkcs8: &[u8], rng: &dyn SecureRandom) -> Result<Self, CryptoError> {
        let ecdsa = [
            (
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                scheme::ECDSA_SECP256R1_SHA256,
            ),
            (
                &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
                scheme::ECDSA_SECP384R1_SHA384,
            ),
        ];
        for (alg, scheme) in ecdsa {
            if let Ok(pair) = EcdsaKeyPair::from_pkcs8(alg, pkcs8, rng) {
                return Ok(SigningKey {
                    kind: Kind::Ecdsa { pair, scheme },
                });
            }
        }
        let pair = RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| CryptoError::BadKey)?;
        Ok(SigningKey {
            kind: Kind::Rsa(pair),
        })
    }

    /// The TLS signature scheme of [`SigningKey::sign`]: `ecdsa_secp256r1_sha256` (0x0403)
    /// for P-256, `ecdsa_secp384r1_sha384` (0x0503) for P-384, `rsa_pkcs1_sha256` (0x0401)
    /// for RSA.
    pub fn scheme(&self) -> u16 {
        match &self.kind {
            Kind::Ecdsa { scheme, .. } => *scheme,
            Kind::Rsa(_) => scheme::RSA_PKCS1_SHA256,
        }
    }

    /// Is this an ECDSA key (for the `ECDHE_ECDSA` cipher suites)?
    pub fn is_ecdsa(&self) -> bool {
        matches!(self.kind, Kind::Ecdsa { .. })
    }

    /// The public key: the uncompressed point for ECDSA, DER `RSAPublicKey` for RSA.
    pub fn public_key(&self) -> &[u8] {
        match &self.kind {
            Kind::Ecdsa { pair, .. } => pair.public_key().as_ref(),
            Kind::Rsa(pair) => pair.public().as_ref(),
        }
    }

    /// Signs `message` with [`SigningKey::scheme`]: a DER-encoded ECDSA signature
    /// (RFC 8422 §5.4), or an RSASSA-PKCS1-v1_5 signature as long as the modulus.
    ///
    /// # Errors
    /// [`CryptoError::Sign`] if ring fails (in practice: `rng` failed).
    pub fn sign(&self, message: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>, CryptoError> {
        match &self.kind {
            Kind::Ecdsa { pair, .. } => pair
                .sign(rng, message)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| CryptoError::Sign),
            Kind::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, rng, message, &mut sig)
                    .map_err(|_| CryptoError::Sign)?;
                Ok(sig)
            }
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKey")
            .field("scheme", &format_args!("{:#06x}", self.scheme()))
            .finish_non_exhaustive()
    }
}

/// rcgen's view of our key: rcgen writes the certificate, we sign it, with the caller's
/// random source.
struct RcgenSigner<'a> {
    key: &'a SigningKey,
    rng: &'a dyn SecureRandom,
}

impl rcgen::PublicKeyData for RcgenSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.key.public_key()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self.key.scheme() {
            scheme::ECDSA_SECP384R1_SHA384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            scheme::RSA_PKCS1_SHA256 => &rcgen::PKCS_RSA_SHA256,
            _ => &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

impl rcgen::SigningKey for RcgenSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key
            .sign(msg, self.rng)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// A self-signed X.509 v3 certificate for `key`, written by rcgen and signed by `key` with
/// `rng`: subject and issuer `CN=common_name`, the given validity (midnight UTC), no
/// extensions, and a serial number of the first 20 bytes of SHA-256 over the public key
/// (positive, RFC 5280 §4.1.2.2), so the same key gives the same certificate but for its
/// ECDSA signature.
pub(crate) fn self_signed_der(
    key: &SigningKey,
    common_name: &str,
    not_before: CertDate,
    not_after: CertDate,
    rng: &dyn SecureRandom,
) -> Result<Vec<u8>, CertError> {
    // rcgen::date_time_ymd panics on an impossible date: check first.
    if !not_before.is_valid() || !not_after.is_valid() || not_after < not_before {
        return Err(CertError::InvalidValidity);
    }
    let mut params = rcgen::CertificateParams::default();
    params.not_before =
        rcgen::date_time_ymd(i32::from(not_before.year), not_before.month, not_before.day);
    params.not_after =
        rcgen::date_time_ymd(i32::from(not_after.year), not_after.month, not_after.day);
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, common_name);
    params.distinguished_name = dn;
    // RFC 5280 §4.1.2.2: a positive integer of at most 20 octets.
    let mut serial = [0u8; 20];
    for (d, s) in serial.iter_mut().zip(super::sha256(key.public_key())) {
        *d = s;
    }
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let signer = RcgenSigner { key, rng };
    let cert = params
        .self_signed(&signer)
        .map_err(|e| CertError::Generate(e.to_string()))?;
    Ok(cert.der().as_ref().to_vec())
}
