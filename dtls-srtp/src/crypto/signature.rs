//! Verifying a peer's handshake signature with its certificate (RFC 5246 §7.4.3
//! ServerKeyExchange, §7.4.8 CertificateVerify), through rustls-webpki.
//!
//! Only the signature is checked, under the certificate's public key: no chain, no
//! validity dates, no names. WebRTC authenticates the certificate itself by its SDP
//! fingerprint (RFC 8122 §5, RFC 8827 §6.5), which is [`crate::cert::matches_any`].

use pki_types::{CertificateDer, SignatureVerificationAlgorithm};
use webpki::ring as algs;

use super::CryptoError;

/// TLS SignatureScheme codes (RFC 8446 §4.2.3; in TLS 1.2 the same two bytes are the
/// SignatureAndHashAlgorithm pair of RFC 5246 §7.4.1.4.1, hash then signature).
pub mod scheme {
    /// ecdsa_secp256r1_sha256: (sha256, ecdsa) in TLS 1.2.
    pub const ECDSA_SECP256R1_SHA256: u16 = 0x0403;
    /// ecdsa_secp384r1_sha384: (sha384, ecdsa) in TLS 1.2.
    pub const ECDSA_SECP384R1_SHA384: u16 = 0x0503;
    /// rsa_pkcs1_sha256.
    pub const RSA_PKCS1_SHA256: u16 = 0x0401;
    /// rsa_pkcs1_sha384.
    pub const RSA_PKCS1_SHA384: u16 = 0x0501;
    /// rsa_pkcs1_sha512.
    pub const RSA_PKCS1_SHA512: u16 = 0x0601;
    /// rsa_pss_rsae_sha256.
    pub const RSA_PSS_RSAE_SHA256: u16 = 0x0804;
    /// rsa_pss_rsae_sha384.
    pub const RSA_PSS_RSAE_SHA384: u16 = 0x0805;
    /// rsa_pss_rsae_sha512.
    pub const RSA_PSS_RSAE_SHA512: u16 = 0x0806;
    /// ed25519 (RFC 8422 §5.1.3 for TLS 1.2).
    pub const ED25519: u16 = 0x0807;
}

/// The webpki algorithms a scheme may mean. In TLS 1.2 `(sha256, ecdsa)` does not name a
/// curve (RFC 5246 §7.4.1.4.1), so ECDSA schemes try both curves; webpki picks the one
/// matching the certificate's key.
fn candidates(s: u16) -> Option<&'static [&'static dyn SignatureVerificationAlgorithm]> {
    static ECDSA_SHA256: [&dyn SignatureVerificationAlgorithm; 2] =
        [algs::ECDSA_P256_SHA256, algs::ECDSA_P384_SHA256];
    static ECDSA_SHA384: [&dyn SignatureVerificationAlgorithm; 2] =
        [algs::ECDSA_P384_SHA384, algs::ECDSA_P256_SHA384];
    static RSA_PKCS1_SHA256: [&dyn SignatureVerificationAlgorithm; 1] =
        [algs::RSA_PKCS1_2048_8192_SHA256];
    static RSA_PKCS1_SHA384: [&dyn SignatureVerificationAlgorithm; 1] =
        [algs::RSA_PKCS1_2048_8192_SHA384];
    static RSA_PKCS1_SHA512: [&dyn SignatureVerificationAlgorithm; 1] =
        [algs::RSA_PKCS1_2048_8192_SHA512];
    static RSA_PSS_SHA256: [&dyn SignatureVerificationAlgorithm; 1] =
        [algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY];
    static RSA_PSS_SHA384: [&dyn SignatureVerificationAlgorithm; 1] =
        [algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY];
    static RSA_PSS_SHA512: [&dyn SignatureVerificationAlgorithm; 1] =
        [algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY];
    static ED25519: [&dyn SignatureVerificationAlgorithm; 1] = [algs::ED25519];
    Some(match s {
        scheme::ECDSA_SECP256R1_SHA256 => &ECDSA_SHA256,
        scheme::ECDSA_SECP384R1_SHA384 => &ECDSA_SHA384,
        scheme::RSA_PKCS1_SHA256 => &RSA_PKCS1_SHA256,
        scheme::RSA_PKCS1_SHA384 => &RSA_PKCS1_SHA384,
        scheme::RSA_PKCS1_SHA512 => &RSA_PKCS1_SHA512,
        scheme::RSA_PSS_RSAE_SHA256 => &RSA_PSS_SHA256,
        scheme::RSA_PSS_RSAE_SHA384 => &RSA_PSS_SHA384,
        scheme::RSA_PSS_RSAE_SHA512 => &RSA_PSS_SHA512,
        scheme::ED25519 => &ED25519,
        _ => return None,
    })
}

/// Verifies `signature` over `message` with the public key of the DER certificate
/// `cert_der`, for the TLS signature scheme `scheme` (see [`scheme`]). ECDSA signatures
/// are DER-encoded (RFC 8422 §5.4).
///
/// # Errors
/// [`CryptoError::BadCertificate`] if the certificate does not parse;
/// [`CryptoError::UnsupportedAlgorithm`] for an unknown scheme or one that does not fit the
/// certificate's key (an RSA scheme with an ECDSA key, say);
/// [`CryptoError::Signature`] if the signature is wrong.
pub fn verify_signature(
    cert_der: &[u8],
    scheme: u16,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let der = CertificateDer::from(cert_der);
    let cert = webpki::EndEntityCert::try_from(&der).map_err(|_| CryptoError::BadCertificate)?;
    let algs = candidates(scheme).ok_or(CryptoError::UnsupportedAlgorithm)?;
    for alg in algs {
        match cert.verify_signature(*alg, message, signature) {
            Ok(()) => return Ok(()),
            // The key is of another type or curve: try the next candidate.
            #[allow(deprecated)]
            Err(
                webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
                | webpki::Error::UnsupportedSignatureAlgorithmForPublicKey,
            ) => continue,
            Err(_) => return Err(CryptoError::Signature),
        }
    }
    Err(CryptoError::UnsupportedAlgorithm)
}
