//! Ephemeral ECDHE (RFC 8422 §5.10, RFC 7748 §6.1).

use std::fmt;

use ring::agreement;
use ring::rand::SecureRandom;

use super::CryptoError;

/// An ECDHE group, with its TLS NamedGroup code (RFC 8422 §5.1.1, RFC 7748 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamedGroup {
    /// x25519, code 29 (RFC 8422 §5.1.1).
    X25519,
    /// secp256r1 (P-256), code 23 (RFC 8422 §5.1.1).
    Secp256r1,
}

impl NamedGroup {
    /// The group of a wire code, or `None` for one weft does not implement.
    pub fn from_u16(v: u16) -> Option<Self> {
        match v {
            29 => Some(NamedGroup::X25519),
            23 => Some(NamedGroup::Secp256r1),
            _ => None,
        }
    }

    /// The wire code.
    pub fn to_u16(self) -> u16 {
        match self {
            NamedGroup::X25519 => 29,
            NamedGroup::Secp256r1 => 23,
        }
    }

    /// Length of a public key on the wire: 32 bytes for X25519 (RFC 8422 §5.11), 65 for an
    /// uncompressed P-256 point (RFC 8422 §5.4.1).
    pub fn public_key_len(self) -> usize {
        match self {
            NamedGroup::X25519 => 32,
            NamedGroup::Secp256r1 => 65,
        }
    }

    fn algorithm(self) -> &'static agreement::Algorithm {
        match self {
            NamedGroup::X25519 => &agreement::X25519,
            NamedGroup::Secp256r1 => &agreement::ECDH_P256,
        }
    }
}

/// One side's ephemeral ECDHE key pair, used for exactly one agreement.
pub struct EphemeralKey {
    group: NamedGroup,
    private: agreement::EphemeralPrivateKey,
    public: agreement::PublicKey,
}

impl EphemeralKey {
    /// A fresh key pair in `group`, its private key drawn from `rng`.
    ///
    /// # Errors
    /// [`CryptoError::Random`] if `rng` fails.
    pub fn generate(group: NamedGroup, rng: &dyn SecureRandom) -> Result<Self, CryptoError> {
        let private = agreement::EphemeralPrivateKey::generate(group.algorithm(), rng)
            .map_err(|_| CryptoError::Random)?;
        let public = private
            .compute_public_key()
            .map_err(|_| CryptoError::Random)?;
        Ok(EphemeralKey {
            group,
            private,
            public,
        })
    }

    /// The group.
    pub fn group(&self) -> NamedGroup {
        self.group
    }

    /// The public key as it goes into ServerKeyExchange / ClientKeyExchange: 32 bytes for
    /// X25519, the 65-byte uncompressed point `04 || x || y` for P-256 (RFC 8422 §5.4.1).
    pub fn public_key(&self) -> &[u8] {
        self.public.as_ref()
    }

    /// Computes the premaster secret with the peer's public key, consuming the private key
    /// (RFC 8422 §5.10: the x-coordinate for P-256, the X25519 output for X25519).
    ///
    /// # Errors
    /// [`CryptoError::Agreement`] if the peer's key has the wrong length or encoding, is not
    /// on the curve (ring checks, RFC 8422 §5.11), or gives the all-zero X25519 output of a
    /// small-order point (RFC 7748 §6.1, RFC 8422 §5.11).
    pub fn agree(self, peer_public: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if peer_public.len() != self.group.public_key_len() {
            return Err(CryptoError::Agreement);
        }
        let peer = agreement::UnparsedPublicKey::new(self.group.algorithm(), peer_public);
        agreement::agree_ephemeral(self.private, &peer, |secret| secret.to_vec())
            .map_err(|_| CryptoError::Agreement)
    }
}

impl fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EphemeralKey")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}
