//! Long-term credentials: taking in 401 and 438 challenges (RFC 8489 §9.2.5).

use weft_stun::attr::{ErrorCode, Nonce, PasswordAlgorithmId, PasswordAlgorithms, Realm};
use weft_stun::credentials::{userhash, NONCE_COOKIE};
use weft_stun::{
    long_term_key, LongTermCredentials, Message, MessageBuilder, MessageType, TransactionId,
};

fn challenge(code: u16, realm: &str, nonce: &str, algorithms: Option<&[u8]>) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let typ = MessageType::new(weft_stun::Method::ALLOCATE, weft_stun::Class::ErrorResponse);
    let mut b = MessageBuilder::new(&mut buf, typ, TransactionId([1; 12])).unwrap();
    b.add(&ErrorCode { code, reason: "" }).unwrap();
    b.add(&Realm(realm)).unwrap();
    b.add(&Nonce(nonce)).unwrap();
    if let Some(a) = algorithms {
        b.add(&PasswordAlgorithms(a)).unwrap();
    }
    b.finish().to_vec()
}

#[test]
fn a_401_sets_realm_nonce_and_the_md5_key() {
    let mut creds = LongTermCredentials::new("user", "pass");
    assert!(creds.key().is_none());
    let m = challenge(401, "example.org", "abc", None);
    assert!(creds.on_challenge(&Message::parse(&m).unwrap()).unwrap());
    assert_eq!(creds.realm(), Some("example.org"));
    assert_eq!(creds.nonce(), Some("abc"));
    assert_eq!(creds.password_algorithm(), None);
    let md5 = long_term_key("user", "example.org", "pass", PasswordAlgorithmId::MD5);
    assert_eq!(creds.key(), Some(&md5));

    // 438 Stale Nonce: a new nonce, same key.
    let m = challenge(438, "example.org", "def", None);
    assert!(creds.on_challenge(&Message::parse(&m).unwrap()).unwrap());
    assert_eq!(creds.nonce(), Some("def"));
    assert_eq!(creds.key(), Some(&md5));

    // Another error is no challenge.
    let m = challenge(437, "example.org", "x", None);
    assert!(!creds.on_challenge(&Message::parse(&m).unwrap()).unwrap());
    assert_eq!(creds.nonce(), Some("def"));
}

#[test]
fn the_nonce_cookie_enables_password_algorithms() {
    // SHA-256 offered first: chosen, and the key is 32 bytes of SHA-256.
    let algs = [0u8, 2, 0, 0, 0, 1, 0, 0];
    let nonce = format!("{NONCE_COOKIE}AAAAxyz");
    let m = challenge(401, "example.org", &nonce, Some(&algs));
    let mut creds = LongTermCredentials::new("user", "pass");
    assert!(creds.on_challenge(&Message::parse(&m).unwrap()).unwrap());
    assert_eq!(
        creds.password_algorithm(),
        Some(PasswordAlgorithmId::SHA256)
    );
    assert_eq!(creds.key().unwrap().as_ref().len(), 32);
    // Without the cookie the list is ignored (RFC 8489 §9.2.5): MD5.
    let m = challenge(401, "example.org", "plain", Some(&algs));
    let mut creds = LongTermCredentials::new("user", "pass");
    assert!(creds.on_challenge(&Message::parse(&m).unwrap()).unwrap());
    assert_eq!(creds.password_algorithm(), None);
    assert_eq!(creds.key().unwrap().as_ref().len(), 16);
    let mut buf = [0u8; 256];
    let typ = MessageType::new(weft_stun::Method::ALLOCATE, weft_stun::Class::Request);
    let mut b = MessageBuilder::new(&mut buf, typ, TransactionId([2; 12])).unwrap();
    creds.add_to(&mut b).unwrap();
    let req = b.finish().to_vec();
    let req = Message::parse(&req).unwrap();
    assert!(!req.has(weft_stun::attr::PASSWORD_ALGORITHMS));
    assert!(!req.has(weft_stun::attr::PASSWORD_ALGORITHM));

    // Before any challenge there is nothing to add.
    let fresh = LongTermCredentials::new("user", "pass");
    let mut b = MessageBuilder::new(&mut buf, typ, TransactionId([3; 12])).unwrap();
    assert_eq!(
        fresh.add_to(&mut b),
        Err(weft_stun::Error::MissingIntegrity)
    );
}

#[test]
fn userhash_is_sha256_of_username_and_realm() {
    // SHA-256("user:example.org"), computed independently with ring.
    let expected = ring::digest::digest(&ring::digest::SHA256, b"user:example.org");
    assert_eq!(
        userhash("user", "example.org").as_slice(),
        expected.as_ref()
    );
}
