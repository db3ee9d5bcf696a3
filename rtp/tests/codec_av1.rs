//! AV1 RTP payload format: leb128, aggregation and fragmentation layouts, property round
//! trips, malformed payloads.

use proptest::prelude::*;
use weft_rtp::codec::av1::{
    is_keyframe, read_leb128, write_leb128, Av1Depacketizer, Av1Packetizer,
};
use weft_rtp::codec::{Depacketizer, Error, Packetizer};

fn packetize(tu: &[u8], mtu: usize) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    Av1Packetizer::default()
        .packetize(tu, mtu, &mut |b, m| out.push((b.to_vec(), m)))
        .unwrap();
    out
}

#[test]
fn leb128_vectors() {
    for (v, bytes) in [
        (0u32, &[0x00][..]),
        (127, &[0x7f]),
        (128, &[0x80, 0x01]),
        (300, &[0xac, 0x02]),
        (u32::MAX, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
    ] {
        let mut out = Vec::new();
        write_leb128(v, &mut out);
        assert_eq!(out, bytes);
        assert_eq!(read_leb128(bytes), Ok((v, bytes.len())));
    }
    // Non-minimal encodings read; eight octets at most; values below 2^32.
    assert_eq!(read_leb128(&[0x81, 0x80, 0x00]), Ok((1, 3)));
    assert_eq!(read_leb128(&[0x80; 8]), Err(Error::BadHeader));
    assert_eq!(
        read_leb128(&[0x80, 0x80, 0x80, 0x80, 0x10]),
        Err(Error::BadHeader)
    );
    assert_eq!(read_leb128(&[0x80]), Err(Error::Truncated));
}

/// A temporal unit: temporal delimiter, sequence header (3 octets), key frame OBU.
fn key_tu(frame_len: usize) -> Vec<u8> {
    let mut tu = vec![0x12, 0x00, 0x0a, 0x03, 0xaa, 0xbb, 0xcc, 0x32];
    write_leb128(frame_len as u32, &mut tu);
    tu.push(0x10); // show_existing_frame 0, frame_type KEY_FRAME, show_frame 1
    tu.extend((1..frame_len).map(|i| i as u8));
    tu
}

#[test]
fn av1_aggregation_layout() {
    let tu = key_tu(5);
    let p = packetize(&tu, 1200);
    // Z=0 Y=0 W=0 N=1; each OBU without its size field after a leb128 length.
    let want = vec![
        0x08, 0x04, 0x08, 0xaa, 0xbb, 0xcc, 0x06, 0x30, 0x10, 0x01, 0x02, 0x03, 0x04,
    ];
    assert_eq!(p, vec![(want, true)]);
    assert!(is_keyframe(&p[0].0));
    let mut d = Av1Depacketizer::default();
    assert_eq!(d.push(&p[0].0, true), Ok(Some(tu)));
}

#[test]
fn av1_fragmentation_layout() {
    let tu = key_tu(10);
    // MTU 6: header + length + 4 octets per packet.
    let p = packetize(&tu, 6);
    let want: Vec<(Vec<u8>, bool)> = vec![
        (vec![0x08, 0x04, 0x08, 0xaa, 0xbb, 0xcc], false),
        (vec![0x40, 0x04, 0x30, 0x10, 0x01, 0x02], false),
        (vec![0xc0, 0x04, 0x03, 0x04, 0x05, 0x06], false),
        (vec![0x80, 0x03, 0x07, 0x08, 0x09], true),
    ];
    assert_eq!(p, want);
    assert!(is_keyframe(&p[0].0));
    assert!(!is_keyframe(&p[1].0));
    let mut d = Av1Depacketizer::default();
    assert_eq!(d.starts_frame(&p[0].0), Some(true));
    assert_eq!(d.starts_frame(&p[2].0), Some(false));
    for (b, m) in &p[..3] {
        assert_eq!(d.push(b, *m), Ok(None));
    }
    assert_eq!(d.push(&p[3].0, true), Ok(Some(tu)));
}

#[test]
fn av1_malformed_payloads_are_typed_errors() {
    let mut d = Av1Depacketizer::default();
    assert_eq!(d.push(&[], true), Err(Error::Empty));
    assert_eq!(d.push(&[0x00], true), Err(Error::Empty));
    // A continuation without a start; a start while a fragment is open.
    assert_eq!(d.push(&[0x80, 0x01, 0x30], true), Err(Error::MissingStart));
    assert_eq!(d.push(&[0x40, 0x02, 0x30, 0x10], false), Ok(None));
    assert_eq!(
        d.push(&[0x00, 0x02, 0x30, 0x10], false),
        Err(Error::Unfinished)
    );
    // The marker with a fragment open.
    assert_eq!(d.push(&[0x40, 0x02, 0x30, 0x10], false), Ok(None));
    assert_eq!(d.push(&[0xc0, 0x01, 0x10], true), Err(Error::Unfinished));
    // A length past the end; W=2 with one element; a zero-length element.
    assert_eq!(
        d.push(&[0x00, 0x05, 0x30], true),
        Err(Error::BadAggregation)
    );
    assert_eq!(
        d.push(&[0x20, 0x02, 0x30, 0x10], true),
        Err(Error::BadAggregation)
    );
    assert_eq!(d.push(&[0x00, 0x00], true), Err(Error::BadAggregation));
    // The forbidden bit; an inner obu_size that disagrees with the element.
    assert_eq!(
        d.push(&[0x00, 0x02, 0xb0, 0x10], true),
        Err(Error::ForbiddenBit)
    );
    assert_eq!(
        d.push(&[0x00, 0x03, 0x32, 0x05, 0x10], true),
        Err(Error::Truncated)
    );
    // Only a padding OBU (dropped): no temporal unit.
    assert_eq!(d.push(&[0x00, 0x02, 0x78, 0x00], true), Err(Error::Empty));
    // W=2: the second element has no length.
    assert_eq!(
        d.push(&[0x20, 0x02, 0x08, 0xaa, 0x30, 0x10, 0x11], true),
        Ok(Some(vec![
            0x12, 0x00, 0x0a, 0x01, 0xaa, 0x32, 0x02, 0x10, 0x11
        ]))
    );
    // Packetizer refusals.
    let mut p = Av1Packetizer::default();
    assert_eq!(p.packetize(&[], 100, &mut |_, _| {}), Err(Error::Empty));
    assert_eq!(
        p.packetize(&[0x12, 0x00], 100, &mut |_, _| {}),
        Err(Error::Empty)
    );
    assert_eq!(
        p.packetize(&[0x32, 0x05, 1], 100, &mut |_, _| {}),
        Err(Error::Truncated)
    );
    assert_eq!(
        p.packetize(&[0x30, 0x05, 1], 100, &mut |_, _| {}),
        Err(Error::BadHeader)
    );
    assert_eq!(
        p.packetize(&key_tu(4), 2, &mut |_, _| {}),
        Err(Error::MtuTooSmall)
    );
}

/// Temporal units: a temporal delimiter, then OBUs of types 1, 3..=6 with size fields, some
/// with an extension octet.
fn temporal_unit() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        (
            prop::sample::select(vec![1u8, 3, 4, 5, 6]),
            prop::option::of(any::<u8>()),
            prop::collection::vec(any::<u8>(), 0..3000),
        ),
        1..6,
    )
    .prop_map(|obus| {
        let mut tu = vec![0x12, 0x00];
        for (t, ext, payload) in obus {
            tu.push(t << 3 | u8::from(ext.is_some()) << 2 | 0x02);
            tu.extend(ext);
            write_leb128(payload.len() as u32, &mut tu);
            tu.extend_from_slice(&payload);
        }
        tu
    })
}

proptest! {
    #[test]
    fn av1_packetize_depacketize_round_trip(tus in prop::collection::vec(temporal_unit(), 1..4), mtu in 3usize..1400) {
        let mut p = Av1Packetizer::default();
        let mut d = Av1Depacketizer::default();
        for tu in tus {
            let mut payloads = Vec::new();
            p.packetize(&tu, mtu, &mut |b, m| payloads.push((b.to_vec(), m))).unwrap();
            prop_assert!(payloads.iter().all(|(b, _)| b.len() <= mtu));
            let mut got = None;
            for (i, (b, m)) in payloads.iter().enumerate() {
                prop_assert_eq!(*m, i + 1 == payloads.len());
                got = d.push(b, *m).unwrap();
            }
            prop_assert_eq!(got, Some(tu));
        }
    }
}
