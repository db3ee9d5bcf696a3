//! The State Cookie of INIT ACK (RFC 9260 §5.1.3): what the server needs to build the
//! association from COOKIE ECHO, authenticated with HMAC-SHA256 so the server keeps no
//! state until the peer proves it can receive at its address (RFC 9260 §5.1.3, §5.1.5).

use ring::hmac;

/// Bytes of the cookie body before the MAC.
const BODY_LEN: usize = 36;
/// Bytes of an HMAC-SHA256 tag.
const MAC_LEN: usize = 32;
/// Bytes of a whole cookie.
pub(super) const COOKIE_LEN: usize = BODY_LEN + MAC_LEN;

/// What a cookie carries: both tags and initial TSNs, and the peer's INIT parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CookieData {
    /// Milliseconds since the engine's epoch when the cookie was made.
    pub created_ms: u64,
    pub my_tag: u32,
    pub peer_tag: u32,
    pub my_initial_tsn: u32,
    pub peer_initial_tsn: u32,
    pub peer_rwnd: u32,
    pub peer_outbound_streams: u16,
    pub peer_inbound_streams: u16,
    /// The peer declared Zero Checksum Acceptable with the DTLS method (RFC 9653 §4).
    pub peer_zero_checksum: bool,
    /// The peer supports FORWARD TSN (RFC 3758 §3.3.2).
    pub peer_forward_tsn: bool,
    /// The peer supports I-DATA (RFC 8260 §2.2.1).
    pub peer_idata: bool,
}

/// Makes and checks cookies with one secret key.
pub(super) struct CookieKey {
    key: hmac::Key,
}

impl CookieKey {
    pub fn new(secret: &[u8; 32]) -> CookieKey {
        CookieKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// The cookie bytes: body then MAC (RFC 9260 §5.1.3).
    pub fn make(&self, c: &CookieData) -> [u8; COOKIE_LEN] {
        let mut out = [0u8; COOKIE_LEN];
        let mut body = [0u8; BODY_LEN];
        body[0..8].copy_from_slice(&c.created_ms.to_be_bytes());
        body[8..12].copy_from_slice(&c.my_tag.to_be_bytes());
        body[12..16].copy_from_slice(&c.peer_tag.to_be_bytes());
        body[16..20].copy_from_slice(&c.my_initial_tsn.to_be_bytes());
        body[20..24].copy_from_slice(&c.peer_initial_tsn.to_be_bytes());
        body[24..28].copy_from_slice(&c.peer_rwnd.to_be_bytes());
        body[28..30].copy_from_slice(&c.peer_outbound_streams.to_be_bytes());
        body[30..32].copy_from_slice(&c.peer_inbound_streams.to_be_bytes());
        body[32] = u8::from(c.peer_zero_checksum)
            | u8::from(c.peer_forward_tsn) << 1
            | u8::from(c.peer_idata) << 2;
        let tag = hmac::sign(&self.key, &body);
        out[..BODY_LEN].copy_from_slice(&body);
        out[BODY_LEN..].copy_from_slice(tag.as_ref());
        out
    }

    /// The data of an authentic cookie; `None` for anything else (RFC 9260 §5.1.5 step 1-2).
    pub fn open(&self, cookie: &[u8]) -> Option<CookieData> {
        if cookie.len() != COOKIE_LEN {
            return None;
        }
        let (body, mac) = cookie.split_at(BODY_LEN);
        hmac::verify(&self.key, body, mac).ok()?;
        let u32_at = |i: usize| -> Option<u32> {
            Some(u32::from_be_bytes(body.get(i..i + 4)?.try_into().ok()?))
        };
        let u16_at = |i: usize| -> Option<u16> {
            Some(u16::from_be_bytes(body.get(i..i + 2)?.try_into().ok()?))
        };
        Some(CookieData {
            created_ms: u64::from_be_bytes(body.get(0..8)?.try_into().ok()?),
            my_tag: u32_at(8)?,
            peer_tag: u32_at(12)?,
            my_initial_tsn: u32_at(16)?,
            peer_initial_tsn: u32_at(20)?,
            peer_rwnd: u32_at(24)?,
            peer_outbound_streams: u16_at(28)?,
            peer_inbound_streams: u16_at(30)?,
            peer_zero_checksum: *body.get(32)? & 1 != 0,
            peer_forward_tsn: *body.get(32)? & 2 != 0,
            peer_idata: *body.get(32)? & 4 != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CookieData {
        CookieData {
            created_ms: 12345,
            my_tag: 1,
            peer_tag: 2,
            my_initial_tsn: 3,
            peer_initial_tsn: 4,
            peer_rwnd: 5,
            peer_outbound_streams: 6,
            peer_inbound_streams: 7,
            peer_zero_checksum: true,
            peer_forward_tsn: true,
            peer_idata: true,
        }
    }

    #[test]
    fn cookie_round_trips_and_rejects_forgery() {
        let key = CookieKey::new(&[7; 32]);
        let cookie = key.make(&sample());
        assert_eq!(key.open(&cookie), Some(sample()));
        for i in 0..cookie.len() {
            let mut bad = cookie;
            bad[i] ^= 1;
            assert_eq!(key.open(&bad), None, "flipped byte {i}");
        }
        assert_eq!(key.open(&cookie[..COOKIE_LEN - 1]), None);
        assert_eq!(CookieKey::new(&[8; 32]).open(&cookie), None);
    }
}
