//! The DTLS 1.2 cipher suites weft speaks: ECDHE with AEAD only (RFC 8422, RFC 5289,
//! RFC 7905), as WebRTC peers offer them (RFC 8827 §6.5).

use super::HashAlg;

/// A cipher suite, named as in the IANA TLS registry (`TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`
/// is [`CipherSuite::EcdheEcdsaAes128GcmSha256`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0xC02B (RFC 5289 §3.2).
    EcdheEcdsaAes128GcmSha256,
    /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 0xC02C (RFC 5289 §3.2).
    EcdheEcdsaAes256GcmSha384,
    /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0xCCA9 (RFC 7905 §2).
    EcdheEcdsaChacha20Poly1305Sha256,
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 0xC02F (RFC 5289 §3.2).
    EcdheRsaAes128GcmSha256,
    /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, 0xC030 (RFC 5289 §3.2).
    EcdheRsaAes256GcmSha384,
    /// TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 0xCCA8 (RFC 7905 §2).
    EcdheRsaChacha20Poly1305Sha256,
}

/// Which AEAD a suite uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aead {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20Poly1305,
}

impl CipherSuite {
    /// Every suite, in weft's order of preference (ECDSA first: WebRTC certificates are
    /// ECDSA; AES-128-GCM first: hardware AES on the machines that matter).
    pub const ALL: [CipherSuite; 6] = [
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
        CipherSuite::EcdheEcdsaAes256GcmSha384,
        CipherSuite::EcdheRsaAes128GcmSha256,
        CipherSuite::EcdheRsaChacha20Poly1305Sha256,
        CipherSuite::EcdheRsaAes256GcmSha384,
    ];

    /// The suite of a wire code, or `None` for one weft does not implement.
    pub fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            0xC02B => CipherSuite::EcdheEcdsaAes128GcmSha256,
            0xC02C => CipherSuite::EcdheEcdsaAes256GcmSha384,
            0xCCA9 => CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
            0xC02F => CipherSuite::EcdheRsaAes128GcmSha256,
            0xC030 => CipherSuite::EcdheRsaAes256GcmSha384,
            0xCCA8 => CipherSuite::EcdheRsaChacha20Poly1305Sha256,
            _ => return None,
        })
    }

    /// The wire code.
    pub fn to_u16(self) -> u16 {
        match self {
            CipherSuite::EcdheEcdsaAes128GcmSha256 => 0xC02B,
            CipherSuite::EcdheEcdsaAes256GcmSha384 => 0xC02C,
            CipherSuite::EcdheEcdsaChacha20Poly1305Sha256 => 0xCCA9,
            CipherSuite::EcdheRsaAes128GcmSha256 => 0xC02F,
            CipherSuite::EcdheRsaAes256GcmSha384 => 0xC030,
            CipherSuite::EcdheRsaChacha20Poly1305Sha256 => 0xCCA8,
        }
    }

    /// The IANA registry name (what W3C `dtlsCipher` reports).
    pub fn iana_name(self) -> &'static str {
        match self {
            CipherSuite::EcdheEcdsaAes128GcmSha256 => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            CipherSuite::EcdheEcdsaAes256GcmSha384 => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            CipherSuite::EcdheEcdsaChacha20Poly1305Sha256 => {
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
            }
            CipherSuite::EcdheRsaAes128GcmSha256 => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            CipherSuite::EcdheRsaAes256GcmSha384 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            CipherSuite::EcdheRsaChacha20Poly1305Sha256 => {
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
            }
        }
    }

    /// The PRF and transcript hash (RFC 5289 §3.2, RFC 7905 §2).
    pub fn hash(self) -> HashAlg {
        match self {
            CipherSuite::EcdheEcdsaAes256GcmSha384 | CipherSuite::EcdheRsaAes256GcmSha384 => {
                HashAlg::Sha384
            }
            _ => HashAlg::Sha256,
        }
    }

    pub(crate) fn aead(self) -> Aead {
        match self {
            CipherSuite::EcdheEcdsaAes128GcmSha256 | CipherSuite::EcdheRsaAes128GcmSha256 => {
                Aead::Aes128Gcm
            }
            CipherSuite::EcdheEcdsaAes256GcmSha384 | CipherSuite::EcdheRsaAes256GcmSha384 => {
                Aead::Aes256Gcm
            }
            CipherSuite::EcdheEcdsaChacha20Poly1305Sha256
            | CipherSuite::EcdheRsaChacha20Poly1305Sha256 => Aead::Chacha20Poly1305,
        }
    }

    /// Length of each write key in bytes.
    pub fn key_len(self) -> usize {
        match self.aead() {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::Chacha20Poly1305 => 32,
        }
    }

    /// Length of each write IV in the key block: 4 for AES-GCM (the salt, RFC 5288 §3), 12
    /// for ChaCha20-Poly1305 (RFC 7905 §2).
    pub fn fixed_iv_len(self) -> usize {
        match self.aead() {
            Aead::Aes128Gcm | Aead::Aes256Gcm => 4,
            Aead::Chacha20Poly1305 => 12,
        }
    }

    /// Length of the explicit nonce in front of each record's ciphertext: 8 for AES-GCM
    /// (RFC 5288 §3), 0 for ChaCha20-Poly1305 (RFC 7905 §2).
    pub fn explicit_nonce_len(self) -> usize {
        match self.aead() {
            Aead::Aes128Gcm | Aead::Aes256Gcm => 8,
            Aead::Chacha20Poly1305 => 0,
        }
    }

    /// Is the server authenticated by an ECDSA certificate (`ECDHE_ECDSA`, RFC 8422 §2.1)
    /// rather than an RSA one (`ECDHE_RSA`)?
    pub fn is_ecdsa(self) -> bool {
        matches!(
            self,
            CipherSuite::EcdheEcdsaAes128GcmSha256
                | CipherSuite::EcdheEcdsaAes256GcmSha384
                | CipherSuite::EcdheEcdsaChacha20Poly1305Sha256
        )
    }
}
