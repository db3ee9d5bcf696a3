//! Signed room tokens: JWT-shaped (RFC 7519) with HS256 (RFC 7518 §3.2), checked before a
//! WebSocket joins a room.
//!
//! `base64url(header) . base64url(claims) . base64url(HMAC-SHA256(secret, first two))`,
//! no padding (RFC 7515 §2). Only `alg: HS256` is taken: a token naming another algorithm
//! (`none` above all) is refused, whatever its signature says (RFC 8725 §3.1).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use serde::{Deserialize, Serialize};

/// Why a token is refused (the server answers 401 to each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url segments of JSON.
    Malformed,
    /// A header `alg` other than HS256.
    UnsupportedAlgorithm(String),
    /// The signature does not verify with the secret.
    BadSignature,
    /// `exp` is in the past (RFC 7519 §4.1.4).
    Expired,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Malformed => f.write_str("malformed token"),
            TokenError::UnsupportedAlgorithm(a) => write!(f, "unsupported token algorithm {a}"),
            TokenError::BadSignature => f.write_str("bad token signature"),
            TokenError::Expired => f.write_str("token expired"),
        }
    }
}

impl std::error::Error for TokenError {}

/// What a token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The participant's name (`from` of the messages it sends).
    pub sub: String,
    /// The room it may join; `None`: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
}

/// Signs `claims` with `secret`.
pub fn sign(secret: &[u8], claims: &Claims) -> String {
    let header = Header {
        alg: "HS256".into(),
        typ: Some("JWT".into()),
    };
    // Serializing these plain structs cannot fail.
    let h = serde_json::to_vec(&header).unwrap_or_default();
    let c = serde_json::to_vec(claims).unwrap_or_default();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(h),
        URL_SAFE_NO_PAD.encode(c)
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Checks an HS256 JWS (RFC 7515 §5.2) and returns its payload bytes; the comparison of
/// the MAC is constant-time (ring).
pub fn verify_hs256(secret: &[u8], token: &str) -> Result<Vec<u8>, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed)?;
    if header.alg != "HS256" {
        return Err(TokenError::UnsupportedAlgorithm(header.alg));
    }
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| TokenError::Malformed)?;
    let payload = URL_SAFE_NO_PAD
        .decode(p)
        .map_err(|_| TokenError::Malformed)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let input_len = h.len() + 1 + p.len();
    let input = token.get(..input_len).ok_or(TokenError::Malformed)?;
    hmac::verify(&key, input.as_bytes(), &sig).map_err(|_| TokenError::BadSignature)?;
    Ok(payload)
}

/// Checks a token and its expiry against `now_unix` (seconds since the epoch, from the
/// caller: this crate reads no clock).
pub fn verify(secret: &[u8], token: &str, now_unix: u64) -> Result<Claims, TokenError> {
    let payload = verify_hs256(secret, token)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    if claims.exp <= now_unix {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}
