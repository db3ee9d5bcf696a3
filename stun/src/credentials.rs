//! Credentials (RFC 8489 §9): the keys MESSAGE-INTEGRITY is computed with.
//!
//! - Short-term (RFC 8489 §9.1, what ICE uses): the key is the password itself, e.g. the
//!   remote `a=ice-pwd`. Pass its bytes straight to the verify and add methods.
//! - Long-term (RFC 8489 §9.2, what TURN uses): the key is MD5 or SHA-256 of
//!   `username ":" realm ":" password` ([`long_term_key`]); the server challenges with a 401
//!   carrying REALM and NONCE, which [`LongTermCredentials::on_challenge`] takes in.
//!
//! OpaqueString (RFC 8265) preparation of usernames, realms and passwords is not done here:
//! callers pass strings already prepared (ICE credentials and TURN credentials in WebRTC are
//! ASCII, for which preparation changes nothing).

use crate::attr::{
    self, Nonce, PasswordAlgorithm, PasswordAlgorithmId, PasswordAlgorithms, Realm, Username,
};
use crate::crypto;
use crate::{Class, Error, Message, MessageBuilder};

/// A MESSAGE-INTEGRITY key prepared once: the HMAC-SHA1 and HMAC-SHA256 pad states of a
/// short-term password or a long-term key. An ICE agent checks every request of a session
/// with one password; preparing it once saves two of the five SHA-1 blocks a typical check
/// costs. Use it with [`Message::verify_integrity_with`] and
/// [`MessageBuilder::add_message_integrity_with`](crate::MessageBuilder::add_message_integrity_with).
#[derive(Clone)]
pub struct IntegrityKey(pub(crate) crypto::HmacKeys);

impl IntegrityKey {
    /// Prepares `key`: the password for short-term credentials, [`long_term_key`] for
    /// long-term ones.
    pub fn new(key: &[u8]) -> Self {
        IntegrityKey(crypto::HmacKeys::new(key))
    }
}

impl std::fmt::Debug for IntegrityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntegrityKey(..)")
    }
}

/// A long-term key: 16 bytes (MD5) or 32 bytes (SHA-256).
#[derive(Clone, PartialEq, Eq)]
pub struct LongTermKey {
    bytes: [u8; 32],
    len: usize,
}

impl std::fmt::Debug for LongTermKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LongTermKey(..)")
    }
}

impl AsRef<[u8]> for LongTermKey {
    fn as_ref(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// RFC 8489 §9.2.2: `key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password))`
/// for the MD5 algorithm (and when no PASSWORD-ALGORITHM is in use), SHA-256 of the same
/// string for SHA-256. Other algorithm numbers fall back to MD5, the RFC 5389 behaviour.
pub fn long_term_key(
    username: &str,
    realm: &str,
    password: &str,
    algorithm: PasswordAlgorithmId,
) -> LongTermKey {
    let parts: [&[u8]; 5] = [
        username.as_bytes(),
        b":",
        realm.as_bytes(),
        b":",
        password.as_bytes(),
    ];
    let mut bytes = [0u8; 32];
    if algorithm == PasswordAlgorithmId::SHA256 {
        bytes = crypto::sha256(&parts);
        LongTermKey { bytes, len: 32 }
    } else {
        let md5 = crypto::md5(&parts);
        bytes.iter_mut().zip(md5).for_each(|(b, m)| *b = m);
        LongTermKey { bytes, len: 16 }
    }
}

/// RFC 8489 §14.4: `USERHASH = SHA-256(OpaqueString(username) ":" OpaqueString(realm))`.
pub fn userhash(username: &str, realm: &str) -> [u8; 32] {
    crypto::sha256(&[username.as_bytes(), b":", realm.as_bytes()])
}

/// RFC 8489 §9.2: the "nonce cookie" that opens a NONCE when the server supports the
/// security features of RFC 8489 (password algorithms, username anonymity).
pub const NONCE_COOKIE: &str = "obMatJos2";

/// A TURN client's long-term credentials and what the server's last challenge set: the
/// realm, the nonce and the password algorithm (RFC 8489 §9.2.3-§9.2.5).
///
/// ```text
/// request without credentials --> 401 (REALM, NONCE [, PASSWORD-ALGORITHMS])
///   on_challenge(): keep realm, nonce; pick SHA-256 if offered
/// request with USERNAME, REALM, NONCE [, PASSWORD-ALGORITHM], MESSAGE-INTEGRITY
///   --> success, or 438 Stale Nonce: on_challenge() takes the new NONCE, retry
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongTermCredentials {
    username: String,
    password: String,
    realm: Option<String>,
    nonce: Option<String>,
    algorithm: Option<PasswordAlgorithmId>,
    /// The server's PASSWORD-ALGORITHMS value, echoed in requests (RFC 8489 §9.2.5).
    algorithms: Option<Vec<u8>>,
    key: Option<LongTermKey>,
}

impl LongTermCredentials {
    /// Credentials not yet challenged.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        LongTermCredentials {
            username: username.into(),
            password: password.into(),
            realm: None,
            nonce: None,
            algorithm: None,
            algorithms: None,
            key: None,
        }
    }

    /// Takes in a 401 (Unauthenticated) or 438 (Stale Nonce) error response: its REALM,
    /// NONCE and, with the nonce cookie, PASSWORD-ALGORITHMS (RFC 8489 §9.2.5). Returns
    /// whether the request should be retried with credentials.
    pub fn on_challenge(&mut self, response: &Message<'_>) -> Result<bool, Error> {
        if response.class() != Class::ErrorResponse {
            return Ok(false);
        }
        let code = response.get::<attr::ErrorCode>()?.map(|e| e.code);
        if !matches!(code, Some(401) | Some(438)) {
            return Ok(false);
        }
        let (Some(Realm(realm)), Some(Nonce(nonce))) =
            (response.get::<Realm>()?, response.get::<Nonce>()?)
        else {
            return Ok(false);
        };
        // RFC 8489 §9.2.5: the client picks the first algorithm in PASSWORD-ALGORITHMS it
        // supports (only when the nonce carries the cookie); MD5 otherwise.
        let algorithm = if nonce.starts_with(NONCE_COOKIE) {
            response.get::<PasswordAlgorithms>()?.and_then(|algs| {
                algs.iter()
                    .map(|a| a.algorithm)
                    .find(|a| *a == PasswordAlgorithmId::SHA256 || *a == PasswordAlgorithmId::MD5)
            })
        } else {
            None
        };
        let realm_changed = self.realm.as_deref() != Some(realm) || self.algorithm != algorithm;
        self.realm = Some(realm.to_owned());
        self.nonce = Some(nonce.to_owned());
        self.algorithm = algorithm;
        if realm_changed || self.key.is_none() {
            self.key = Some(long_term_key(
                &self.username,
                realm,
                &self.password,
                algorithm.unwrap_or(PasswordAlgorithmId::MD5),
            ));
        }
        Ok(true)
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The realm of the last challenge.
    pub fn realm(&self) -> Option<&str> {
        self.realm.as_deref()
    }

    /// The nonce of the last challenge.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The password algorithm chosen from the challenge, if the server offered any; a
    /// request then carries it as PASSWORD-ALGORITHM (RFC 8489 §9.2.5).
    pub fn password_algorithm(&self) -> Option<PasswordAlgorithmId> {
        self.algorithm
    }

    /// Adds what an authenticated request carries after its own attributes (RFC 8489
    /// §9.2.4, §9.2.5): USERNAME, REALM, NONCE, PASSWORD-ALGORITHMS and PASSWORD-ALGORITHM
    /// when the server offered algorithms, then MESSAGE-INTEGRITY. Add FINGERPRINT after it
    /// if wanted. Before a challenge there is nothing to add: `Error::MissingIntegrity`.
    pub fn add_to(&self, b: &mut MessageBuilder<'_>) -> Result<(), Error> {
        let (Some(realm), Some(nonce), Some(key)) = (&self.realm, &self.nonce, &self.key) else {
            return Err(Error::MissingIntegrity);
        };
        b.add(&Username(&self.username))?;
        b.add(&Realm(realm))?;
        b.add(&Nonce(nonce))?;
        if let (Some(algs), Some(algorithm)) = (&self.algorithms, self.algorithm) {
            b.add(&PasswordAlgorithms(algs))?;
            b.add(&PasswordAlgorithm {
                algorithm,
                params: &[],
            })?;
        }
        b.add_message_integrity(key.as_ref())
    }

    /// The key for MESSAGE-INTEGRITY, once challenged.
    pub fn key(&self) -> Option<&LongTermKey> {
        self.key.as_ref()
    }
}
