//! Fuzz harness bodies; the targets in `fuzz/fuzz_targets/` call these. They panic only when
//! an invariant of this crate is broken.

#![allow(clippy::panic)]

use crate::attr::{self, Attribute};
use crate::{demux, ChannelData, Framing, Message, MessageBuilder};

/// Any bytes: parsing, reading every attribute, verifying, printing, and the ChannelData
/// and demux paths never panic.
pub fn decode(data: &[u8]) {
    let _ = demux::classify(data);
    let _ = ChannelData::decode(data);
    let _ = ChannelData::decode_prefix(data, Framing::Stream);
    let _ = Message::parse_prefix(data);
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    let mut sink = String::new();
    for a in msg.decoded().flatten() {
        sink.push_str(&a.to_string());
    }
    let _ = msg.unknown_comprehension_required().count();
    let _ = msg.verify_fingerprint();
    let _ = msg.verify_integrity(b"fuzz");
    let _ = msg.verify_message_integrity(b"fuzz");
    let _ = msg.verify_message_integrity_sha256(b"fuzz");
    let _ = crate::is_stun(data);
}

/// The input with every padding byte set to zero: what the builder writes for the same
/// attributes.
fn zero_padding(msg: &Message<'_>) -> Vec<u8> {
    let mut out = msg.as_bytes().to_vec();
    for a in msg.attributes() {
        let start = a.offset + 4 + a.value.len();
        let end = a.offset + 4 + ((a.value.len() + 3) & !3);
        if let Some(pad) = out.get_mut(start..end) {
            pad.fill(0);
        }
    }
    out
}

/// Whatever parses re-encodes to the same bytes (padding zeroed; a valid FINGERPRINT
/// recomputed by the builder comes out the same), and every attribute that decodes to a
/// typed value encodes back to a value that decodes equal.
pub fn roundtrip(data: &[u8]) {
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    let expected = zero_padding(&msg);
    let recompute_fingerprint = expected == data && msg.verify_fingerprint().is_ok();

    // 1. Raw re-encoding, byte for byte.
    let mut buf = vec![0u8; data.len()];
    let mut b = match MessageBuilder::new(&mut buf, msg.message_type(), msg.transaction_id()) {
        Ok(b) => b,
        Err(e) => panic!("header does not rebuild: {e}"),
    };
    for a in msg.attributes() {
        let r = if a.typ == attr::FINGERPRINT && recompute_fingerprint {
            b.add_fingerprint()
        } else {
            b.add_raw(a.typ, a.value)
        };
        if let Err(e) = r {
            panic!("attribute {:#06x} does not rebuild: {e}", a.typ);
        }
    }
    let out = b.finish();
    if out != expected.as_slice() {
        panic!("re-encoding differs:\n in  {expected:02x?}\n out {out:02x?}");
    }

    // 2. Typed re-encoding: decode → encode → decode gives the same value.
    let typed: Vec<Attribute<'_>> = msg.decoded().filter_map(Result::ok).collect();
    let mut buf2 = vec![0u8; data.len() + 64];
    let mut b = match MessageBuilder::new(&mut buf2, msg.message_type(), msg.transaction_id()) {
        Ok(b) => b,
        Err(e) => panic!("header does not rebuild: {e}"),
    };
    for a in &typed {
        if let Err(e) = b.add_attribute(a) {
            panic!("typed {a:?} does not encode: {e}");
        }
    }
    let out2 = b.finish();
    let again = match Message::parse(out2) {
        Ok(m) => m,
        Err(e) => panic!("typed re-encoding does not parse: {e}\n{out2:02x?}"),
    };
    let typed_again: Vec<Attribute<'_>> = again.decoded().filter_map(Result::ok).collect();
    if typed != typed_again {
        panic!("typed values changed:\n{typed:?}\n{typed_again:?}");
    }
}
