//! STUN: building and checking an ICE Binding request (USERNAME, ICE-CONTROLLING, PRIORITY,
//! USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT: the connectivity check of RFC 8445
//! §7.2.2), with weft-stun beside webrtc-rs's `stun` crate, on the same message in the same
//! run.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use weft_stun::attr::{IceControlling, Priority, UseCandidate, Username};
use weft_stun::{IntegrityKey, Message, MessageBuilder, MessageType, TransactionId};

const USERNAME: &str = "lcJE:1iql";
const PASSWORD: &str = "QFHc6y0902y6HZZxEHslXo23";
const TIE_BREAKER: u64 = 0x1d5a_fb57_63a5_ec72;
const PRIORITY: u32 = 1_853_759_231;
const TXID: [u8; 12] = *b"nQAlk53UWqDn";

fn weft_encode(buf: &mut [u8]) -> usize {
    let mut b =
        MessageBuilder::new(buf, MessageType::BINDING_REQUEST, TransactionId(TXID)).unwrap();
    b.add(&Username(USERNAME)).unwrap();
    b.add(&IceControlling(TIE_BREAKER)).unwrap();
    b.add(&Priority(PRIORITY)).unwrap();
    b.add(&UseCandidate).unwrap();
    b.add_message_integrity(PASSWORD.as_bytes()).unwrap();
    b.add_fingerprint().unwrap();
    b.finish().len()
}

/// The same, with the password's HMAC key prepared once (an ICE agent holds one per session).
fn weft_encode_prepared(buf: &mut [u8], key: &IntegrityKey) -> usize {
    let mut b =
        MessageBuilder::new(buf, MessageType::BINDING_REQUEST, TransactionId(TXID)).unwrap();
    b.add(&Username(USERNAME)).unwrap();
    b.add(&IceControlling(TIE_BREAKER)).unwrap();
    b.add(&Priority(PRIORITY)).unwrap();
    b.add(&UseCandidate).unwrap();
    b.add_message_integrity_with(key).unwrap();
    b.add_fingerprint().unwrap();
    b.finish().len()
}

fn weft_decode_verify_prepared(bytes: &[u8], key: &IntegrityKey) -> u32 {
    let msg = Message::parse(bytes).unwrap();
    msg.verify_fingerprint().unwrap();
    msg.verify_message_integrity_with(key).unwrap();
    assert_eq!(msg.get::<Username>().unwrap().unwrap().0, USERNAME);
    msg.get::<Priority>().unwrap().unwrap().0
}

fn weft_decode_verify(bytes: &[u8]) -> u32 {
    let msg = Message::parse(bytes).unwrap();
    msg.verify_fingerprint().unwrap();
    msg.verify_message_integrity(PASSWORD.as_bytes()).unwrap();
    assert_eq!(msg.get::<Username>().unwrap().unwrap().0, USERNAME);
    msg.get::<Priority>().unwrap().unwrap().0
}

/// webrtc-rs: the cheapest path its API offers, a reused `Message` and a precomputed
/// `MessageIntegrity`, attributes added raw (its ICE attributes live in webrtc-ice).
fn webrtc_rs_encode(m: &mut stun::message::Message, mi: &stun::integrity::MessageIntegrity) {
    use stun::attributes::*;
    use stun::message::Setter;
    m.reset();
    m.set_type(stun::message::BINDING_REQUEST);
    m.transaction_id = stun::agent::TransactionId(TXID);
    m.write_header();
    m.add(ATTR_USERNAME, USERNAME.as_bytes());
    m.add(ATTR_ICE_CONTROLLING, &TIE_BREAKER.to_be_bytes());
    m.add(ATTR_PRIORITY, &PRIORITY.to_be_bytes());
    m.add(ATTR_USE_CANDIDATE, &[]);
    mi.add_to(m).unwrap();
    stun::fingerprint::FINGERPRINT.add_to(m).unwrap();
}

fn webrtc_rs_decode_verify(
    m: &mut stun::message::Message,
    mi: &stun::integrity::MessageIntegrity,
    bytes: &[u8],
) -> u32 {
    use stun::attributes::*;
    m.unmarshal_binary(bytes).unwrap();
    stun::fingerprint::FINGERPRINT.check(m).unwrap();
    mi.check(m).unwrap();
    let username = stun::textattrs::TextAttribute::get_from_as(m, ATTR_USERNAME).unwrap();
    assert_eq!(username.text, USERNAME);
    let p = m.get(ATTR_PRIORITY).unwrap();
    u32::from_be_bytes(p[..4].try_into().unwrap())
}

fn encode(c: &mut Criterion) {
    let mut buf = [0u8; 256];
    let n = weft_encode(&mut buf);
    // Both write the same bytes.
    let mi = stun::integrity::MessageIntegrity::new_short_term_integrity(PASSWORD.to_owned());
    let mut m = stun::message::Message::new();
    webrtc_rs_encode(&mut m, &mi);
    assert_eq!(&buf[..n], m.raw.as_slice(), "weft and webrtc-rs disagree");

    let mut g = c.benchmark_group("stun_encode_binding_request");
    g.throughput(Throughput::Bytes(n as u64));
    let key = IntegrityKey::new(PASSWORD.as_bytes());
    let mut buf2 = [0u8; 256];
    assert_eq!(weft_encode_prepared(&mut buf2, &key), n);
    assert_eq!(buf2, buf);
    g.bench_function("weft", |b| b.iter(|| weft_encode(black_box(&mut buf))));
    g.bench_function("weft_prepared_key", |b| {
        b.iter(|| weft_encode_prepared(black_box(&mut buf), &key))
    });
    g.bench_function("stun_webrtc-rs", |b| {
        b.iter(|| webrtc_rs_encode(black_box(&mut m), &mi))
    });
    g.bench_function("stun_webrtc-rs_new_message", |b| {
        b.iter(|| {
            let mut m = stun::message::Message::new();
            webrtc_rs_encode(&mut m, &mi);
            m
        })
    });
    g.finish();
}

fn decode_verify(c: &mut Criterion) {
    let mut buf = [0u8; 256];
    let n = weft_encode(&mut buf);
    let bytes = buf[..n].to_vec();
    let mi = stun::integrity::MessageIntegrity::new_short_term_integrity(PASSWORD.to_owned());
    let mut m = stun::message::Message::new();
    assert_eq!(weft_decode_verify(&bytes), PRIORITY);
    assert_eq!(webrtc_rs_decode_verify(&mut m, &mi, &bytes), PRIORITY);

    let mut g = c.benchmark_group("stun_decode_verify_binding_request");
    g.throughput(Throughput::Bytes(n as u64));
    let key = IntegrityKey::new(PASSWORD.as_bytes());
    assert_eq!(weft_decode_verify_prepared(&bytes, &key), PRIORITY);
    g.bench_function("weft", |b| b.iter(|| weft_decode_verify(black_box(&bytes))));
    g.bench_function("weft_prepared_key", |b| {
        b.iter(|| weft_decode_verify_prepared(black_box(&bytes), &key))
    });
    g.bench_function("stun_webrtc-rs", |b| {
        b.iter(|| webrtc_rs_decode_verify(black_box(&mut m), &mi, black_box(&bytes)))
    });
    g.finish();
}

criterion_group!(benches, encode, decode_verify);
criterion_main!(benches);
