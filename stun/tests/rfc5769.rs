//! The test vectors of RFC 5769 ("Test Vectors for Session Traversal Utilities for NAT
//! (STUN)"), byte for byte as the RFC prints them. The padding of USERNAME and SOFTWARE in
//! §2.1-§2.3 is 0x20 on purpose: receivers must ignore padding content.

use std::net::SocketAddr;

use weft_stun::attr::{
    self, IceControlled, Nonce, PasswordAlgorithmId, Priority, Realm, Software, Username,
    XorMappedAddress,
};
use weft_stun::{long_term_key, Class, Error, Message, MessageBuilder, Method, TransactionId};

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// RFC 5769 §2.1 Sample Request.
const SAMPLE_REQUEST: &str = "
    00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
    00 24 00 04 6e 00 01 ff
    80 29 00 08 93 2f f9 b1 51 26 3b 36
    00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
    00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
    80 28 00 04 e5 7a 3b cf";

/// RFC 5769 §2.2 Sample IPv4 Response.
const SAMPLE_IPV4_RESPONSE: &str = "
    01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 08 00 01 a1 47 e1 12 a6 43
    00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
    80 28 00 04 c0 7d 4c 96";

/// RFC 5769 §2.3 Sample IPv6 Response.
const SAMPLE_IPV6_RESPONSE: &str = "
    01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
    00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
    80 28 00 04 c8 fb 0b 4c";

/// RFC 5769 §2.4 Sample Request with Long-Term Authentication.
const SAMPLE_LONG_TERM_REQUEST: &str = "
    00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
    00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
    00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46
                53 54 76 79 36 34 73 41
    00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
    00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66";

/// RFC 5769 §2: the short-term password of §2.1-§2.3.
const PASSWORD: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";
const TXID: [u8; 12] = [
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
];

/// Rebuilds `msg` with the builder: copies every attribute before MESSAGE-INTEGRITY, then
/// computes MESSAGE-INTEGRITY with `key` and FINGERPRINT if the original has them. Padding
/// is written as zeros, so SOFTWARE and USERNAME padding differs from the RFC's 0x20.
fn rebuild(msg: &Message<'_>, key: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, msg.message_type(), msg.transaction_id()).unwrap();
    for a in msg.attributes() {
        match a.typ {
            attr::MESSAGE_INTEGRITY => b.add_message_integrity(key).unwrap(),
            attr::FINGERPRINT => b.add_fingerprint().unwrap(),
            t => b.add_raw(t, a.value).unwrap(),
        }
    }
    b.finish().to_vec()
}

#[test]
fn rfc5769_sample_request() {
    let bytes = hex(SAMPLE_REQUEST);
    assert_eq!(bytes.len(), 108);
    let msg = Message::parse(&bytes).unwrap();
    assert_eq!(msg.method(), Method::BINDING);
    assert_eq!(msg.class(), Class::Request);
    assert_eq!(msg.transaction_id(), TransactionId(TXID));
    assert_eq!(
        msg.get::<Software>().unwrap(),
        Some(Software("STUN test client"))
    );
    assert_eq!(msg.get::<Priority>().unwrap(), Some(Priority(0x6e0001ff)));
    assert_eq!(
        msg.get::<IceControlled>().unwrap(),
        Some(IceControlled(0x932ff9b151263b36))
    );
    assert_eq!(msg.get::<Username>().unwrap(), Some(Username("evtj:h6vY")));
    assert_eq!(msg.unknown_comprehension_required().count(), 0);
    msg.verify_message_integrity(PASSWORD).unwrap();
    msg.verify_integrity(PASSWORD).unwrap();
    msg.verify_fingerprint().unwrap();
    assert_eq!(
        msg.verify_message_integrity(b"VOkJxbRl1RmTxUk/WvJxBT"),
        Err(Error::IntegrityMismatch)
    );
    // The same with a key prepared once.
    let key = weft_stun::IntegrityKey::new(PASSWORD);
    msg.verify_message_integrity_with(&key).unwrap();
    msg.verify_integrity_with(&key).unwrap();
    assert_eq!(
        msg.verify_integrity_with(&weft_stun::IntegrityKey::new(b"x")),
        Err(Error::IntegrityMismatch)
    );

    // Built again, with zero padding in USERNAME: the same bytes except that padding, and
    // MESSAGE-INTEGRITY and FINGERPRINT (which cover the padding) verify.
    let again = rebuild(&msg, PASSWORD);
    assert_eq!(again.len(), bytes.len());
    let m2 = Message::parse(&again).unwrap();
    m2.verify_message_integrity(PASSWORD).unwrap();
    m2.verify_fingerprint().unwrap();
    let differing: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != again[i]).collect();
    assert!(
        differing.iter().all(|&i| (61..64).contains(&i) || i >= 68),
        "{differing:?}"
    );
}

#[test]
fn rfc5769_sample_ipv4_response() {
    let bytes = hex(SAMPLE_IPV4_RESPONSE);
    assert_eq!(bytes.len(), 80);
    let msg = Message::parse(&bytes).unwrap();
    assert_eq!(msg.method(), Method::BINDING);
    assert_eq!(msg.class(), Class::SuccessResponse);
    assert_eq!(
        msg.get::<Software>().unwrap(),
        Some(Software("test vector"))
    );
    let expected: SocketAddr = "192.0.2.1:32853".parse().unwrap();
    assert_eq!(
        msg.get::<XorMappedAddress>().unwrap(),
        Some(XorMappedAddress(expected))
    );
    msg.verify_message_integrity(PASSWORD).unwrap();
    msg.verify_fingerprint().unwrap();

    // The builder writes the XOR-MAPPED-ADDRESS value exactly as the RFC does.
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(&mut buf, msg.message_type(), msg.transaction_id()).unwrap();
    b.add(&XorMappedAddress(expected)).unwrap();
    let out = b.finish();
    assert_eq!(&out[20..], &bytes[36..48]);
}

#[test]
fn rfc5769_sample_ipv6_response() {
    let bytes = hex(SAMPLE_IPV6_RESPONSE);
    assert_eq!(bytes.len(), 92);
    let msg = Message::parse(&bytes).unwrap();
    assert_eq!(msg.class(), Class::SuccessResponse);
    let expected: SocketAddr = "[2001:db8:1234:5678:11:2233:4455:6677]:32853"
        .parse()
        .unwrap();
    assert_eq!(
        msg.get::<XorMappedAddress>().unwrap(),
        Some(XorMappedAddress(expected))
    );
    msg.verify_message_integrity(PASSWORD).unwrap();
    msg.verify_fingerprint().unwrap();

    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(&mut buf, msg.message_type(), msg.transaction_id()).unwrap();
    b.add(&XorMappedAddress(expected)).unwrap();
    let out = b.finish();
    assert_eq!(&out[20..], &bytes[36..60]);
}

#[test]
fn rfc5769_sample_request_long_term() {
    let bytes = hex(SAMPLE_LONG_TERM_REQUEST);
    assert_eq!(bytes.len(), 116);
    let msg = Message::parse(&bytes).unwrap();
    assert_eq!(msg.class(), Class::Request);
    // RFC 5769 §2.4: username "<U+30DE><U+30C8><U+30EA><U+30C3><U+30AF><U+30B9>" (the
    // Matrix in Katakana), password "The<U+00AD>M<U+00AA>tr<U+2168>", "TheMatrIX" after
    // SASLprep, realm "example.org", and this nonce.
    let username = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";
    assert_eq!(msg.get::<Username>().unwrap(), Some(Username(username)));
    assert_eq!(
        msg.get::<Nonce>().unwrap(),
        Some(Nonce("f//499k954d6OL34oL9FSTvy64sA"))
    );
    assert_eq!(msg.get::<Realm>().unwrap(), Some(Realm("example.org")));
    assert!(!msg.has_fingerprint());

    let key = long_term_key(
        username,
        "example.org",
        "TheMatrIX",
        PasswordAlgorithmId::MD5,
    );
    assert_eq!(key.as_ref().len(), 16);
    msg.verify_message_integrity(key.as_ref()).unwrap();
    let wrong = long_term_key(
        username,
        "example.org",
        "TheMatrix",
        PasswordAlgorithmId::MD5,
    );
    assert_eq!(
        msg.verify_message_integrity(wrong.as_ref()),
        Err(Error::IntegrityMismatch)
    );

    // Every padding byte in this vector is zero, so the rebuilt message is identical.
    assert_eq!(rebuild(&msg, key.as_ref()), bytes);
}

#[test]
fn message_integrity_sha256_round_trip() {
    // No authoritative SHA-256 vector is published (RFC 8489 has none); check the layout:
    // MESSAGE-INTEGRITY, then MESSAGE-INTEGRITY-SHA256 covering it, then FINGERPRINT.
    let key = long_term_key("user", "realm", "pass", PasswordAlgorithmId::SHA256);
    assert_eq!(key.as_ref().len(), 32);
    let mut buf = [0u8; 200];
    let mut b = MessageBuilder::new(
        &mut buf,
        weft_stun::MessageType::BINDING_REQUEST,
        TransactionId(TXID),
    )
    .unwrap();
    b.add(&Username("user")).unwrap();
    b.add_message_integrity(key.as_ref()).unwrap();
    b.add_message_integrity_sha256(key.as_ref()).unwrap();
    b.add_fingerprint().unwrap();
    let bytes = b.finish().to_vec();
    // A prepared key writes the same bytes.
    let prepared = weft_stun::IntegrityKey::new(key.as_ref());
    let mut buf2 = [0u8; 200];
    let mut b = MessageBuilder::new(
        &mut buf2,
        weft_stun::MessageType::BINDING_REQUEST,
        TransactionId(TXID),
    )
    .unwrap();
    b.add(&Username("user")).unwrap();
    b.add_message_integrity_with(&prepared).unwrap();
    b.add_message_integrity_sha256_with(&prepared).unwrap();
    b.add_fingerprint().unwrap();
    assert_eq!(b.finish(), bytes.as_slice());
    let msg = Message::parse(&bytes).unwrap();
    msg.verify_message_integrity_sha256_with(&prepared).unwrap();
    msg.verify_integrity_with(&prepared).unwrap();
    let msg = Message::parse(&bytes).unwrap();
    msg.verify_message_integrity(key.as_ref()).unwrap();
    msg.verify_message_integrity_sha256(key.as_ref()).unwrap();
    msg.verify_fingerprint().unwrap();
    let other = long_term_key("user", "realm", "Pass", PasswordAlgorithmId::SHA256);
    assert_eq!(
        msg.verify_integrity(other.as_ref()),
        Err(Error::IntegrityMismatch)
    );
}
