//! H.264 (RFC 6184): seeded round trips in both packetization modes, STAP-A and FU-A byte
//! layouts, keyframes, malformed payloads.

use weft_rtp::codec::h264::{
    is_keyframe, AnnexB, H264Depacketizer, H264Packetizer, PacketizationMode,
};
use weft_rtp::codec::{Depacketizer, Error, Packetizer};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}

fn hex(s: &str) -> Vec<u8> {
    weft_testkit::hex(s)
}

/// A random access unit of NAL units of up to `max_nal` octets each (no zero octets in the
/// bodies, so no start-code emulation), with random 3- or 4-octet start codes; returns it and
/// the same units after 4-octet start codes, which is what the depacketizer writes.
fn access_unit(rng: &mut Rng, max_nal: usize) -> (Vec<u8>, Vec<u8>, Vec<Vec<u8>>) {
    let (mut annexb, mut canonical, mut nals) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rng.range(1, 12) {
        let len = if rng.next().is_multiple_of(3) {
            rng.range(1, 40)
        } else {
            rng.range(1, max_nal)
        };
        let mut nal = vec![((rng.next() % 4) as u8) << 5 | rng.range(1, 23) as u8];
        nal.extend((1..len).map(|_| rng.range(1, 255) as u8));
        annexb.extend_from_slice(if rng.next() & 1 == 0 {
            &[0, 0, 1][..]
        } else {
            &[0, 0, 0, 1]
        });
        annexb.extend_from_slice(&nal);
        canonical.extend_from_slice(&[0, 0, 0, 1]);
        canonical.extend_from_slice(&nal);
        nals.push(nal);
    }
    (annexb, canonical, nals)
}

fn packetize(
    p: &mut H264Packetizer,
    frame: &[u8],
    mtu: usize,
) -> Result<Vec<(Vec<u8>, bool)>, Error> {
    let mut out = Vec::new();
    p.packetize(frame, mtu, &mut |b, m| out.push((b.to_vec(), m)))?;
    Ok(out)
}

fn depacketize(d: &mut H264Depacketizer, payloads: &[(Vec<u8>, bool)]) -> Option<Vec<u8>> {
    let mut got = None;
    for (b, m) in payloads {
        got = d.push(b, *m).unwrap();
    }
    got
}

#[test]
fn h264_mode1_round_trip_random_access_units_and_mtus() {
    let seed = 0x5eed_0264;
    let mut rng = Rng(seed);
    let mut d = H264Depacketizer::default();
    let (mut stap, mut fu) = (0, 0);
    for i in 0..300 {
        let mtu = rng.range(100, 1400);
        let (frame, canonical, _) = access_unit(&mut rng, (200_000 >> (i % 12)) / 12 + 1);
        let payloads = packetize(&mut H264Packetizer::default(), &frame, mtu).unwrap();
        for (k, (b, m)) in payloads.iter().enumerate() {
            assert!(
                b.len() <= mtu,
                "seed {seed:#x} unit {i}: payload {} > {mtu}",
                b.len()
            );
            assert_eq!(*m, k == payloads.len() - 1);
            match b[0] & 0x1f {
                24 => stap += 1,
                28 => fu += 1,
                _ => {}
            }
        }
        assert_eq!(
            depacketize(&mut d, &payloads),
            Some(canonical),
            "seed {seed:#x} unit {i}"
        );
    }
    assert!(
        stap > 50 && fu > 50,
        "both STAP-A ({stap}) and FU-A ({fu}) exercised"
    );
}

#[test]
fn h264_mode0_round_trip_and_refusal_of_large_nal_units() {
    let mut rng = Rng(0x5eed_0265);
    let mut d = H264Depacketizer::default();
    for _ in 0..300 {
        let mtu = rng.range(100, 1400);
        let (frame, canonical, nals) = access_unit(&mut rng, 1400);
        let mut p = H264Packetizer::new(PacketizationMode::SingleNalUnit);
        match packetize(&mut p, &frame, mtu) {
            Ok(payloads) => {
                assert!(nals.iter().all(|n| n.len() <= mtu));
                assert_eq!(payloads.len(), nals.len(), "one NAL unit per packet");
                for ((b, _), n) in payloads.iter().zip(&nals) {
                    assert_eq!(b, n);
                }
                assert_eq!(depacketize(&mut d, &payloads), Some(canonical));
            }
            Err(e) => {
                assert_eq!(e, Error::FrameTooLarge);
                assert!(nals.iter().any(|n| n.len() > mtu));
            }
        }
    }
}

#[test]
fn annexb_start_codes_and_trailing_zeros() {
    let s = hex("00000001 6742001f 000001 68ce3c80 0000 00000001 65aabb 00");
    let nals: Vec<&[u8]> = AnnexB::new(&s).collect();
    assert_eq!(
        nals,
        [&hex("6742001f")[..], &hex("68ce3c80"), &hex("65aabb")]
    );
    assert_eq!(AnnexB::new(&hex("6742001f")).count(), 0, "no start code");
    assert_eq!(
        AnnexB::new(&hex("ffff 000001 41")).count(),
        1,
        "leading junk skipped"
    );
}

#[test]
fn rfc6184_5_7_1_stap_a_of_sps_and_pps() {
    // SPS (NRI=3) and PPS (NRI=3) aggregate: STAP-A header F=0 NRI=3 type 24 (0x78), then
    // a 16-bit size before each unit (RFC 6184 §5.7.1 Figure 7).
    let au = hex("00000001 6742001f 00000001 68ce3c80");
    let p = packetize(&mut H264Packetizer::default(), &au, 1200).unwrap();
    assert_eq!(p, vec![(hex("78 0004 6742001f 0004 68ce3c80"), true)]);
    // NRI is the maximum of the units' (RFC 6184 §5.7.1): SEI (NRI 0) and PPS (NRI 1).
    let au = hex("000001 0605aa 000001 2805bb");
    let p = packetize(&mut H264Packetizer::default(), &au, 1200).unwrap();
    assert_eq!(p[0].0, hex("38 0003 0605aa 0003 2805bb"));
    // A unit that no longer fits starts the next packet, alone as a single NAL unit.
    let au = hex("000001 6742001f 000001 68ce3c80 000001 41aabbccdd");
    let p = packetize(&mut H264Packetizer::default(), &au, 13).unwrap();
    assert_eq!(
        p,
        vec![
            (hex("78 0004 6742001f 0004 68ce3c80"), false),
            (hex("41aabbccdd"), true)
        ]
    );
}

#[test]
fn rfc6184_5_8_fu_a_indicator_and_header_bits() {
    // An IDR slice, NAL header 0x65 (F=0 NRI=3 type 5), ten data octets, MTU 7: two FU-A
    // payloads of 2 + 5 octets. FU indicator: F, NRI of the unit, type 28 (0x7c). FU header:
    // S on the first (0x85), E on the last (0x45), type 5.
    let au = hex("00000001 65 0102030405 060708090a");
    let p = packetize(&mut H264Packetizer::default(), &au, 7).unwrap();
    assert_eq!(
        p,
        vec![
            (hex("7c85 0102030405"), false),
            (hex("7c45 060708090a"), true)
        ]
    );
    // Three fragments: the middle one has neither S nor E.
    let au = hex("000001 41 010203 040506 070809");
    let p = packetize(&mut H264Packetizer::default(), &au, 5).unwrap();
    let headers: Vec<[u8; 2]> = p.iter().map(|(b, _)| [b[0], b[1]]).collect();
    assert_eq!(headers, [[0x5c, 0x81], [0x5c, 0x01], [0x5c, 0x41]]);
    let mut d = H264Depacketizer::default();
    assert_eq!(
        depacketize(&mut d, &p),
        Some(hex("00000001 41 010203 040506 070809"))
    );
}

#[test]
fn h264_keyframe_is_idr_or_sps() {
    assert!(is_keyframe(&hex("65 8888")), "IDR slice");
    assert!(is_keyframe(&hex("6742001f")), "SPS");
    assert!(!is_keyframe(&hex("41 9a00")), "non-IDR slice");
    assert!(!is_keyframe(&hex("68ce3c80")), "PPS alone");
    assert!(
        is_keyframe(&hex("78 0004 6742001f 0004 68ce3c80")),
        "STAP-A with SPS"
    );
    assert!(
        !is_keyframe(&hex("78 0004 68ce3c80 0002 0605")),
        "STAP-A without"
    );
    assert!(!is_keyframe(&hex("78 0009 6742001f")), "STAP-A cut short");
    assert!(is_keyframe(&hex("7c85 0102")), "FU-A start of IDR");
    assert!(!is_keyframe(&hex("7c05 0102")), "FU-A continuation of IDR");
    assert!(!is_keyframe(&hex("5c81 0102")), "FU-A start of non-IDR");
    assert!(!is_keyframe(&[]));
}

#[test]
fn h264_malformed_payloads_are_typed_errors() {
    let mut d = H264Depacketizer::default();
    assert_eq!(d.push(&[], true), Err(Error::Empty));
    assert_eq!(d.push(&hex("e5 00"), true), Err(Error::ForbiddenBit));
    for t in [0u8, 25, 26, 27, 29, 30, 31] {
        assert_eq!(
            d.push(&[0x60 | t, 1, 2], true),
            Err(Error::UnsupportedNalType(t))
        );
    }
    assert_eq!(
        d.push(&hex("78"), true),
        Err(Error::BadAggregation),
        "STAP-A, no units"
    );
    assert_eq!(
        d.push(&hex("78 0005 6742001f"), true),
        Err(Error::BadAggregation)
    );
    assert_eq!(
        d.push(&hex("78 0004 6742001f 00"), true),
        Err(Error::BadAggregation)
    );
    assert_eq!(
        d.push(&hex("78 0000"), true),
        Err(Error::BadAggregation),
        "empty unit"
    );
    assert_eq!(
        d.push(&hex("78 0002 7805"), true),
        Err(Error::UnsupportedNalType(24))
    );
    assert_eq!(d.push(&hex("7c"), true), Err(Error::Truncated));
    assert_eq!(
        d.push(&hex("7c85"), true),
        Err(Error::Truncated),
        "FU-A without data"
    );
    assert_eq!(d.push(&hex("7c05 01"), true), Err(Error::MissingStart));
    assert_eq!(
        d.push(&hex("7c45 01"), true),
        Err(Error::MissingStart),
        "end without start"
    );
    assert_eq!(
        d.push(&hex("7cc5 01"), true),
        Err(Error::BadHeader),
        "S and E both set"
    );
    assert_eq!(
        d.push(&hex("7c98 01"), true),
        Err(Error::UnsupportedNalType(24))
    );
    // A fragmented unit interrupted by another packet, by another start, by the marker.
    assert_eq!(d.push(&hex("7c85 01"), false), Ok(None));
    assert_eq!(d.push(&hex("41 02"), true), Err(Error::Unfinished));
    assert_eq!(d.push(&hex("7c85 01"), false), Ok(None));
    assert_eq!(d.push(&hex("7c85 02"), false), Err(Error::Unfinished));
    assert_eq!(d.push(&hex("7c85 01"), false), Ok(None));
    assert_eq!(d.push(&hex("7c05 02"), true), Err(Error::Unfinished));
    assert_eq!(d.push(&hex("7c85 01"), false), Ok(None));
    assert_eq!(
        d.push(&hex("7c01 02"), false),
        Err(Error::BadHeader),
        "type changes"
    );
    // After all that, a good access unit comes out whole.
    assert_eq!(d.push(&hex("78 0002 6742 0002 68ce"), false), Ok(None));
    assert_eq!(d.push(&hex("7c85 01"), false), Ok(None));
    assert_eq!(
        d.push(&hex("7c45 02"), true),
        Ok(Some(hex("00000001 6742 00000001 68ce 00000001 6501 02")))
    );

    let mut p = H264Packetizer::default();
    let mut sink = |_: &[u8], _: bool| panic!("nothing is emitted on error");
    assert_eq!(
        p.packetize(&hex("6742001f"), 1200, &mut sink),
        Err(Error::NoNalUnit)
    );
    assert_eq!(
        p.packetize(&hex("00000001 0000"), 1200, &mut sink),
        Err(Error::NoNalUnit)
    );
    assert_eq!(
        p.packetize(&hex("000001 41 01"), 2, &mut sink),
        Err(Error::MtuTooSmall)
    );
    assert_eq!(
        p.packetize(&hex("000001 c1 01"), 1200, &mut sink),
        Err(Error::ForbiddenBit)
    );
    assert_eq!(
        p.packetize(&hex("000001 41 01 000001 7c 01"), 1200, &mut sink),
        Err(Error::UnsupportedNalType(28))
    );
    let mut p0 = H264Packetizer::new(PacketizationMode::SingleNalUnit);
    assert_eq!(
        p0.packetize(&hex("000001 41 01 000001 41 010203"), 3, &mut sink),
        Err(Error::FrameTooLarge)
    );
}

#[test]
fn nal_units_with_start_code_emulation_are_refused() {
    use weft_rtp::codec::{h264::H264Depacketizer, Depacketizer, Error};
    // Found by the rtp_depacketize fuzzer: an SEI unit whose body holds 00 00 01 would come
    // out of Annex-B as two units, the second with a corrupt header.
    let mut d = H264Depacketizer::default();
    assert_eq!(
        d.push(&[0x26, 1, 1, 0, 0, 1, 0, 1, 1], true),
        Err(Error::StartCodeEmulation)
    );
    // Inside a STAP-A unit, and across FU-A fragments.
    let mut d = H264Depacketizer::default();
    assert_eq!(
        d.push(&[0x18, 0, 4, 0x67, 0, 0, 2], true),
        Err(Error::StartCodeEmulation)
    );
    let mut d = H264Depacketizer::default();
    assert_eq!(d.push(&[0x7c, 0x85, 9, 0], false), Ok(None));
    assert_eq!(
        d.push(&[0x7c, 0x45, 0, 0, 7], true),
        Err(Error::StartCodeEmulation)
    );
    // Emulation prevention (00 00 03) is fine.
    let mut d = H264Depacketizer::default();
    assert!(d.push(&[0x65, 1, 0, 0, 3, 1], true).unwrap().is_some());
}

#[test]
fn packetizer_refuses_what_the_depacketizer_would() {
    // Found by the rtp_depacketize round-trip harness: a unit "02 00 00 02" (00 00 02 is a
    // start-code emulation) was sent but refused on the other side.
    let mut p = H264Packetizer::default();
    let r = p.packetize(&[0, 0, 1, 2, 0, 0, 2, 0, 0, 0, 0], 100, &mut |_, _| {
        panic!("nothing may be emitted")
    });
    assert_eq!(r, Err(Error::StartCodeEmulation));
}
