//! Decoding and verifying an ICE Binding request allocates nothing: a counting global
//! allocator (its own test binary, one test, so nothing else allocates meanwhile).

use std::alloc::System;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use weft_stun::attr::{IceControlling, Priority, UseCandidate, Username};
use weft_stun::{Message, MessageBuilder, MessageType, TransactionId};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn decode_and_verify_of_a_binding_request_allocates_nothing() {
    let password = b"DLjCJC1FqA32OaSgEv/TeyKp";
    let mut buf = [0u8; 256];

    let region = Region::new(GLOBAL);
    // Build (caller's stack buffer) ...
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId([9; 12]),
    )
    .unwrap();
    b.add(&Username("lcJE:1iql")).unwrap();
    b.add(&Priority(1_853_759_231)).unwrap();
    b.add(&IceControlling(0x1d5a_fb57_63a5_ec72)).unwrap();
    b.add(&UseCandidate).unwrap();
    b.add_message_integrity(password).unwrap();
    b.add_fingerprint().unwrap();
    let bytes = b.finish();
    let built = region.change();

    // ... then decode, verify and read every attribute.
    let mut region = Region::new(GLOBAL);
    let msg = Message::parse(bytes).unwrap();
    msg.verify_fingerprint().unwrap();
    msg.verify_message_integrity(password).unwrap();
    let username = msg.get::<Username>().unwrap().unwrap();
    let priority = msg.get::<Priority>().unwrap().unwrap();
    let tie = msg.get::<IceControlling>().unwrap().unwrap();
    let nominated = msg.has(weft_stun::attr::USE_CANDIDATE);
    let unknown = msg.unknown_comprehension_required().count();
    let decoded = msg.decoded().filter(Result::is_ok).count();
    let wrong = msg.verify_message_integrity(b"wrong").is_err();
    let decode_stats = region.change_and_reset();

    // With a key prepared once (its preparation allocates nothing either).
    let key = weft_stun::IntegrityKey::new(password);
    let msg = Message::parse(bytes).unwrap();
    msg.verify_fingerprint().unwrap();
    msg.verify_integrity_with(&key).unwrap();
    let prepared_stats = region.change_and_reset();

    // Checked after the measured regions (assert formatting may allocate).
    assert_eq!(username.0, "lcJE:1iql");
    assert_eq!(priority.0, 1_853_759_231);
    assert_eq!(tie.0, 0x1d5a_fb57_63a5_ec72);
    assert!(nominated && wrong);
    assert_eq!((unknown, decoded), (0, 6));
    assert_eq!(built.allocations, 0, "building allocated: {built:?}");
    assert_eq!(
        decode_stats.allocations, 0,
        "decode+verify allocated: {decode_stats:?}"
    );
    assert_eq!(decode_stats.reallocations, 0);
    assert_eq!(prepared_stats.allocations, 0, "{prepared_stats:?}");

    // The counter works: a Vec allocates.
    let region = Region::new(GLOBAL);
    let v = std::hint::black_box(vec![1u8; 64]);
    let stats = region.change();
    assert_eq!(v.len(), 64);
    assert!(stats.allocations >= 1);
}
