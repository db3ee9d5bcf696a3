//! H.265 (RFC 7798): AP and FU layouts, property round trips, malformed payloads, key frames
//! and access-unit starts.

use proptest::prelude::*;
use weft_rtp::codec::h264::AnnexB;
use weft_rtp::codec::h265::{is_keyframe, starts_access_unit, H265Depacketizer, H265Packetizer};
use weft_rtp::codec::{Depacketizer, Error, Packetizer};

fn packetize(frame: &[u8], mtu: usize) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    H265Packetizer::default()
        .packetize(frame, mtu, &mut |b, m| out.push((b.to_vec(), m)))
        .unwrap();
    out
}

/// VPS (32), SPS (33), PPS (34) and an IDR_W_RADL slice (19) with
/// first_slice_segment_in_pic_flag set, TID 1.
fn key_au(slice_len: usize) -> Vec<u8> {
    let mut au = Vec::new();
    for (h0, body) in [
        (32u8 << 1, &[0x0c, 0x01][..]),
        (33 << 1, &[0x01, 0x02]),
        (34 << 1, &[0xc1]),
    ] {
        au.extend_from_slice(&[0, 0, 0, 1, h0, 0x01]);
        au.extend_from_slice(body);
    }
    au.extend_from_slice(&[0, 0, 1, 19 << 1, 0x01, 0xaf]);
    au.extend((0..slice_len).map(|i| (i % 251 + 1) as u8));
    au
}

#[test]
fn rfc7798_aggregation_packet_layout() {
    let au = key_au(3);
    let p = packetize(&au, 1200);
    assert_eq!(p.len(), 1);
    #[rustfmt::skip]
    let want = [
        0x60, 0x01,                                   // AP: type 48, LayerId 0, TID 1
        0x00, 0x04, 0x40, 0x01, 0x0c, 0x01,           // VPS
        0x00, 0x04, 0x42, 0x01, 0x01, 0x02,           // SPS
        0x00, 0x03, 0x44, 0x01, 0xc1,                 // PPS
        0x00, 0x06, 0x26, 0x01, 0xaf, 0x01, 0x02, 0x03, // IDR_W_RADL
    ];
    assert_eq!(p[0], (want.to_vec(), true));
    assert!(is_keyframe(&p[0].0));
    assert!(starts_access_unit(&p[0].0));
    let mut d = H265Depacketizer::default();
    let back = d.push(&p[0].0, true).unwrap().unwrap();
    let a: Vec<&[u8]> = AnnexB::new(&au).collect();
    let b: Vec<&[u8]> = AnnexB::new(&back).collect();
    assert_eq!(a, b);
}

#[test]
fn rfc7798_fragmentation_unit_layout() {
    // A TRAIL_R slice (type 1), LayerId 0, TID 2, 10 octets of data, MTU 7: FUs of 4 + 3 +
    // 3 data octets.
    let nal = [0x02, 0x02, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    let mut au = vec![0, 0, 0, 1];
    au.extend_from_slice(&nal);
    let p = packetize(&au, 7);
    let want: Vec<(Vec<u8>, bool)> = vec![
        (vec![0x62, 0x02, 0x81, 0x80, 1, 2, 3], false),
        (vec![0x62, 0x02, 0x01, 4, 5, 6, 7], false),
        (vec![0x62, 0x02, 0x41, 8, 9], true),
    ];
    assert_eq!(p, want);
    assert!(starts_access_unit(&p[0].0));
    assert!(!starts_access_unit(&p[1].0));
    assert!(!is_keyframe(&p[0].0));
    let mut d = H265Depacketizer::default();
    assert_eq!(d.push(&p[0].0, false), Ok(None));
    assert_eq!(d.push(&p[1].0, false), Ok(None));
    assert_eq!(d.push(&p[2].0, true), Ok(Some(au)));
}

#[test]
fn h265_malformed_payloads_are_typed_errors() {
    let mut d = H265Depacketizer::default();
    assert_eq!(d.push(&[], true), Err(Error::Empty));
    assert_eq!(d.push(&[0x02], true), Err(Error::Truncated));
    assert_eq!(d.push(&[0x82, 0x01, 1], true), Err(Error::ForbiddenBit));
    // TID 0 is invalid.
    assert_eq!(d.push(&[0x02, 0x00, 1], true), Err(Error::BadHeader));
    // PACI and unspecified types.
    assert_eq!(
        d.push(&[0x64, 0x01, 1], true),
        Err(Error::UnsupportedNalType(50))
    );
    assert_eq!(
        d.push(&[0x7e, 0x01, 1], true),
        Err(Error::UnsupportedNalType(63))
    );
    // FU without a start, S and E together, type change, start while open.
    assert_eq!(
        d.push(&[0x62, 0x01, 0x01, 9], true),
        Err(Error::MissingStart)
    );
    assert_eq!(d.push(&[0x62, 0x01, 0xc1, 9], true), Err(Error::BadHeader));
    assert_eq!(d.push(&[0x62, 0x01, 0x81, 9], false), Ok(None));
    assert_eq!(d.push(&[0x62, 0x01, 0x02, 9], false), Err(Error::BadHeader));
    assert_eq!(d.push(&[0x62, 0x01, 0x81, 9], false), Ok(None));
    assert_eq!(
        d.push(&[0x62, 0x01, 0x81, 9], false),
        Err(Error::Unfinished)
    );
    // A single NAL unit while an FU is open; the marker inside an FU.
    assert_eq!(d.push(&[0x62, 0x01, 0x81, 9], false), Ok(None));
    assert_eq!(d.push(&[0x02, 0x01, 9], false), Err(Error::Unfinished));
    assert_eq!(d.push(&[0x62, 0x01, 0x81, 9], true), Err(Error::Unfinished));
    // AP: a length past the end, one unit only, a zero-length unit, an embedded FU.
    assert_eq!(
        d.push(&[0x60, 0x01, 0, 9, 0x02, 0x01], true),
        Err(Error::BadAggregation)
    );
    assert_eq!(
        d.push(&[0x60, 0x01, 0, 2, 0x02, 0x01], true),
        Err(Error::BadAggregation)
    );
    assert_eq!(
        d.push(&[0x60, 0x01, 0, 0, 0, 2, 0x02, 0x01], true),
        Err(Error::BadAggregation)
    );
    assert_eq!(
        d.push(&[0x60, 0x01, 0, 2, 0x62, 0x01, 0, 2, 0x02, 0x01], true),
        Err(Error::UnsupportedNalType(49))
    );
    // Start-code emulation inside a unit.
    assert_eq!(
        d.push(&[0x02, 0x01, 0, 0, 1], true),
        Err(Error::StartCodeEmulation)
    );
    assert_eq!(
        d.push(&[0x02, 0x01, 7], true),
        Ok(Some(vec![0, 0, 0, 1, 0x02, 0x01, 7]))
    );
    // Packetizer refusals.
    let mut p = H265Packetizer::default();
    assert_eq!(
        p.packetize(&[1, 2, 3], 100, &mut |_, _| {}),
        Err(Error::NoNalUnit)
    );
    assert_eq!(
        p.packetize(&[0, 0, 1, 0x60, 1, 1], 100, &mut |_, _| {}),
        Err(Error::UnsupportedNalType(48))
    );
    assert_eq!(
        p.packetize(&key_au(10), 3, &mut |_, _| {}),
        Err(Error::MtuTooSmall)
    );
}

/// An access unit of random NAL units: valid two-octet headers (types 0..=40 except 36..=38,
/// TID 1..=7), bodies without zero octets so no start-code emulation.
fn access_unit() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        (
            0u8..41,
            1u8..8,
            0u8..64,
            prop::collection::vec(1u8..=255, 0..3000),
        ),
        1..6,
    )
    .prop_map(|units| {
        let mut au = Vec::new();
        for (t, tid, layer, body) in units {
            au.extend_from_slice(&[0, 0, 0, 1, t << 1 | layer >> 5, (layer & 0x1f) << 3 | tid]);
            au.extend_from_slice(&body);
        }
        au
    })
}

proptest! {
    #[test]
    fn h265_packetize_depacketize_round_trip(aus in prop::collection::vec(access_unit(), 1..4), mtu in 4usize..1400) {
        let mut p = H265Packetizer::default();
        let mut d = H265Depacketizer::default();
        for au in aus {
            let mut payloads = Vec::new();
            p.packetize(&au, mtu, &mut |b, m| payloads.push((b.to_vec(), m))).unwrap();
            prop_assert!(payloads.iter().all(|(b, _)| b.len() <= mtu));
            let mut got = None;
            for (i, (b, m)) in payloads.iter().enumerate() {
                prop_assert_eq!(*m, i + 1 == payloads.len());
                got = d.push(b, *m).unwrap();
            }
            let got = got.unwrap();
            let a: Vec<&[u8]> = AnnexB::new(&au).collect();
            let b: Vec<&[u8]> = AnnexB::new(&got).collect();
            prop_assert_eq!(a, b);
        }
    }
}
