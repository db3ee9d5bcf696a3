//! REMB (draft-alvestrand-rmcat-remb-03) and transport-wide congestion control feedback
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01): known-answer layouts written out by
//! hand from the drafts, builder → view round trips, hostile inputs, and the TWCC recorder.
// `Instant::now()` only as the origin of a virtual clock; time then moves by addition.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use weft_rtp::rtcp::{self, parse_compound, PacketStatus, RtcpPacket, TransportFeedback};
use weft_rtp::twcc::{TwccRecorder, TwccRecorderConfig};
use weft_rtp::Error;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn one(bytes: &[u8]) -> Result<RtcpPacket<'_>, Error> {
    let mut it = parse_compound(bytes);
    let p = it.next().unwrap();
    if p.is_ok() {
        assert!(it.next().is_none());
    }
    p
}

fn twcc(bytes: &[u8]) -> Result<TransportFeedback<'_>, Error> {
    match one(bytes)? {
        RtcpPacket::TransportCc(fb) => Ok(fb),
        p => panic!("not transport-wide feedback: {p:?}"),
    }
}

fn remb(bytes: &[u8]) -> Result<(u32, u64, Vec<u32>), Error> {
    match one(bytes)? {
        RtcpPacket::Remb {
            sender,
            bitrate,
            ssrcs,
        } => Ok((sender, bitrate, ssrcs.iter().collect())),
        p => panic!("not REMB: {p:?}"),
    }
}

use PacketStatus::{LargeDelta as L, NotReceived as N, SmallDelta as S};

// ---- REMB -----------------------------------------------------------------------------

#[test]
fn remb_draft_section_2_2_layout() {
    let mut c = Vec::new();
    rtcp::write_remb(&mut c, 0x1122_3344, 1_000_000, &[0x5566_7788, 0x99aa_bbcc]).unwrap();
    let want = hex(concat!(
        // V=2 P=0 FMT=15 | PT=206 (PSFB) | length 6 (7 words - 1)
        "8fce0006",
        // SSRC of packet sender
        "11223344",
        // SSRC of media source: always 0
        "00000000",
        // unique identifier 'R' 'E' 'M' 'B'
        "52454d42",
        // Num SSRC 2 | BR Exp 2 | BR Mantissa 250000 (0x3d090): 250000 << 2 = 1,000,000.
        // 0x02 << 24 | 2 << 18 | 0x3d090 = 0x020bd090
        "020bd090",
        // SSRC feedback
        "55667788 99aabbcc",
    ));
    assert_eq!(c, want);
    assert_eq!(
        remb(&c).unwrap(),
        (0x1122_3344, 1_000_000, vec![0x5566_7788, 0x99aa_bbcc])
    );
}

#[test]
fn remb_exponent_and_rounding() {
    // Fits the 18-bit mantissa: exponent 0. Num SSRC 0, exp 0, mantissa 0x3ffff.
    let mut c = Vec::new();
    rtcp::write_remb(&mut c, 1, 0x3_ffff, &[]).unwrap();
    assert_eq!(c, hex("8fce0004 00000001 00000000 52454d42 0003ffff"));
    // 2^18 + 1 needs 19 bits: exponent 1, mantissa 2^17, the low bit rounded away (down).
    c.clear();
    rtcp::write_remb(&mut c, 1, (1 << 18) + 1, &[]).unwrap();
    assert_eq!(&c[16..20], &hex("00060000")[..]);
    assert_eq!(remb(&c).unwrap().1, 1 << 18);
    // Zero and the largest u64 (exponent 46, mantissa all ones).
    c.clear();
    rtcp::write_remb(&mut c, 1, 0, &[]).unwrap();
    assert_eq!(remb(&c).unwrap().1, 0);
    c.clear();
    rtcp::write_remb(&mut c, 1, u64::MAX, &[]).unwrap();
    assert_eq!(&c[16..20], &hex("00bbffff")[..]);
    assert_eq!(remb(&c).unwrap().1, 0x3_ffff << 46);
    // More SSRCs than Num SSRC can count: refused, nothing written.
    c.clear();
    assert_eq!(
        rtcp::write_remb(&mut c, 1, 5, &[7; 256]),
        Err(Error::BadValue)
    );
    assert!(c.is_empty());
}

#[test]
fn remb_hostile_inputs() {
    // Num SSRC 2 with one SSRC present.
    let b = hex("8fce0005 00000001 00000000 52454d42 020bd090 00000006");
    assert_eq!(remb(&b), Err(Error::TooShort));
    // The identifier word present, the bitrate word missing.
    let b = hex("8fce0003 00000001 00000000 52454d42");
    assert_eq!(remb(&b), Err(Error::TooShort));
    // Exponent 63 with a 2-bit mantissa overflows 64 bits: saturates, no panic.
    let b = hex("8fce0004 00000001 00000000 52454d42 00fc0003");
    assert_eq!(remb(&b).unwrap().1, u64::MAX);
    // Exponent 63, mantissa 1: exactly 2^63.
    let b = hex("8fce0004 00000001 00000000 52454d42 00fc0001");
    assert_eq!(remb(&b).unwrap().1, 1 << 63);
    // Another identifier: not REMB, kept as an unknown PSFB packet.
    let b = hex("8fce0004 00000001 00000000 52454d43 00fc0001");
    assert!(matches!(
        one(&b),
        Ok(RtcpPacket::Other {
            packet_type: 206,
            count: 15,
            ..
        })
    ));
}

// ---- Transport-wide feedback: known answers -------------------------------------------

fn build(base: u16, reference: u32, fb_count: u8, statuses: &[PacketStatus]) -> Vec<u8> {
    let mut c = Vec::new();
    rtcp::write_transport_cc(
        &mut c,
        0xaabb_ccdd,
        0x1122_3344,
        base,
        reference,
        fb_count,
        statuses,
    )
    .unwrap();
    c
}

fn statuses(fb: &TransportFeedback<'_>) -> Vec<(u16, PacketStatus)> {
    fb.packets().collect()
}

#[test]
fn twcc_run_length_chunk_across_the_sequence_wrap() {
    let c = build(0xfffe, 0x12_3456, 7, &[S(1), S(2), S(3)]);
    let want = hex(concat!(
        // V=2 P=1 FMT=15 | PT=205 (RTPFB) | length 6: 20 + 2 + 3 = 25 bytes, padded to 28
        "afcd0006",
        "aabbccdd 11223344",
        // base sequence number 65534 | packet status count 3
        "fffe0003",
        // reference time 0x123456 (× 64 ms) | fb pkt. count 7
        "12345607",
        // §3.1.3 run length chunk: T=0, S=01 (received, small delta), run length 3
        "2003",
        // §3.1.5 small deltas 1, 2, 3 (× 250 µs), then padding 00 00 and its count 3
        "010203 000003",
    ));
    assert_eq!(c, want);
    let fb = twcc(&c).unwrap();
    assert_eq!(
        (fb.sender, fb.media, fb.reference_time, fb.fb_count),
        (0xaabb_ccdd, 0x1122_3344, 0x12_3456, 7)
    );
    assert_eq!(
        statuses(&fb),
        vec![(0xfffe, S(1)), (0xffff, S(2)), (0, S(3))]
    );
    // Arrival times accumulate from the reference time.
    let r = 0x12_3456i64 * 64_000;
    assert_eq!(
        fb.arrivals().collect::<Vec<_>>(),
        vec![(0xfffe, r + 250), (0xffff, r + 750), (0, r + 1500)]
    );
}

#[test]
fn twcc_one_bit_status_vector() {
    let st = [
        S(10),
        N,
        S(20),
        S(30),
        N,
        N,
        S(40),
        S(50),
        S(60),
        N,
        N,
        N,
        N,
        S(70),
    ];
    let c = build(0x0100, 1, 0, &st);
    let want = hex(concat!(
        // 20 + 2 + 7 = 29 bytes, padded to 32: length 7, P set
        "afcd0007 aabbccdd 11223344",
        // base 256 | 14 packets
        "0100000e",
        // reference time 1 | fb pkt. count 0
        "00000100",
        // §3.1.4 status vector: T=1, S=0, then 14 one-bit symbols 1011 0011 1000 01:
        // 1 0 10110011100001 = 0xace1
        "ace1",
        // the seven small deltas, then padding 00 00 03
        "0a141e28323c46 000003",
    ));
    assert_eq!(c, want);
    let fb = twcc(&c).unwrap();
    let got: Vec<PacketStatus> = fb.packets().map(|(_, s)| s).collect();
    assert_eq!(got, st);
    assert_eq!(fb.packets().next().unwrap().0, 0x0100);
    assert_eq!(fb.packets().last().unwrap().0, 0x010d);
}

#[test]
fn twcc_two_bit_status_vector_with_large_and_negative_deltas() {
    let st = [S(1), L(1024), N, L(-4), S(255)];
    let c = build(0x8000, 0xff_ffff, 0xff, &st);
    let want = hex(concat!(
        // 20 + 2 + 6 = 28 bytes: no padding, length 6
        "8fcd0006 aabbccdd 11223344",
        // base 32768 | 5 packets
        "80000005",
        // the largest 24-bit reference time | fb pkt. count 255
        "ffffffff",
        // §3.1.4 status vector: T=1, S=1, then 2-bit symbols 01 10 00 10 01 and two unused 00:
        // 11 01 10 00 10 01 00 00 = 0xd890
        "d890",
        // §3.1.5 deltas: small 1, large 1024 (0x0400), large -4 (0xfffc), small 255
        "01 0400 fffc ff",
    ));
    assert_eq!(c, want);
    let fb = twcc(&c).unwrap();
    assert_eq!(fb.packets().map(|(_, s)| s).collect::<Vec<_>>(), st);
    assert_eq!(fb.deltas().len(), 6);
    // 1 + 1024 - 4 + 255 ticks after the reference time.
    let last = fb.arrivals().last().unwrap();
    assert_eq!(
        last,
        (0x8004, 0xff_ffffi64 * 64_000 + (1 + 1024 - 4 + 255) * 250)
    );
}

#[test]
fn twcc_long_loss_run_then_one_received() {
    let mut st = vec![N; 20];
    st.push(S(5));
    let c = build(0, 0, 1, &st);
    // Two run chunks: 20 × not received (0x0014), then 1 × small delta (0x2001); one delta.
    assert_eq!(
        c,
        hex("afcd0006 aabbccdd 11223344 00000015 00000001 0014 2001 05 000003")
    );
    assert_eq!(
        twcc(&c)
            .unwrap()
            .packets()
            .map(|(_, s)| s)
            .collect::<Vec<_>>(),
        st
    );
}

#[test]
fn twcc_view_reads_encodings_the_builder_does_not_choose() {
    // Written by hand, as another sender might: a two-bit vector for two packets whose unused
    // symbols are not zero (they are past the status count, so ignored, even the reserved
    // one), and a run longer than the packets left.
    let b = hex(concat!(
        "8fcd0006 00000001 00000002",
        // base 7 | 3 packets
        "00070003",
        "00000a00",
        // a run of one not received, then a 2-bit vector 11 | 01 10 | 11 11 11 11 11 whose
        // last five symbols (reserved ones) are past the count: 0xdbff
        "0001 dbff",
        // small 9, large 0x0100, then one zero byte without the P bit (bytes after the
        // deltas are ignored, as the draft's figure ends in "zero padding")
        "09 0100 00",
    ));
    let fb = twcc(&b).unwrap();
    assert_eq!(statuses(&fb), vec![(7, N), (8, S(9)), (9, L(256))]);
    assert_eq!(fb.chunks(), &hex("0001dbff")[..]);
    assert_eq!(fb.deltas(), &hex("090100")[..]);
    // A run (of 100 small deltas) longer than the 2 packets counted.
    let b = hex("8fcd0005 00000001 00000002 00070002 00000a00 2064 0506");
    assert_eq!(statuses(&twcc(&b).unwrap()), vec![(7, S(5)), (8, S(6))]);
}

// ---- Transport-wide feedback: hostile inputs ------------------------------------------

#[test]
fn twcc_hostile_inputs_are_typed_errors() {
    // Truncated: the FCI stops inside the reference time word.
    let b = hex("8fcd0003 00000001 00000002 00070003");
    assert_eq!(twcc(&b), Err(Error::TooShort));
    // The length field claims more than the datagram holds.
    let b = hex("8fcd0009 00000001 00000002 00070003 00000a00 2003010203");
    assert_eq!(twcc(&b), Err(Error::TooShort));
    // Status count 20, but the only chunk is a run of 3 and only padding follows it.
    let b = hex("afcd0005 00000001 00000002 00070014 00000a00 2003 0002");
    assert_eq!(twcc(&b), Err(Error::TwccChunksShort));
    // Status count 2 and no chunk at all.
    let b = hex("8fcd0004 00000001 00000002 00070002 00000a00");
    assert_eq!(twcc(&b), Err(Error::TwccChunksShort));
    // Delta overrun: three small deltas announced, two bytes present.
    let b = hex("8fcd0005 00000001 00000002 00070003 00000a00 2003 0102");
    assert_eq!(twcc(&b), Err(Error::TwccDeltasShort));
    // Delta overrun: a large delta announced (run of 1 × S=10), one byte present before the
    // one byte of padding (P set).
    let b = hex("afcd0005 00000001 00000002 00070001 00000a00 4001 01 01");
    assert_eq!(twcc(&b), Err(Error::TwccDeltasShort));
    // Reserved symbol 11 in a run chunk.
    let b = hex("8fcd0005 00000001 00000002 00070001 00000a00 6001 0000");
    assert_eq!(twcc(&b), Err(Error::TwccReservedSymbol));
    // Reserved symbol 11 inside the counted part of a 2-bit vector.
    let b = hex("8fcd0005 00000001 00000002 00070002 00000a00 dc00 0000");
    assert_eq!(twcc(&b), Err(Error::TwccReservedSymbol));
    // Status count 65535 against 8 runs of 8191 (65528): short by 7.
    let mut b = hex("8fcd0008 00000001 00000002 0007ffff 00000a00");
    b.extend(std::iter::repeat_n([0x1f, 0xff], 8).flatten());
    assert_eq!(twcc(&b), Err(Error::TwccChunksShort));
    // Zero-length runs make no progress but end with the packet.
    let mut b = hex("8fcd0008 00000001 00000002 00070001 00000a00");
    b.extend([0u8; 16]);
    assert_eq!(twcc(&b), Err(Error::TwccChunksShort));
    // Bad padding count (larger than the packet body).
    let b = hex("afcd0005 00000001 00000002 00070001 00000a00 2001 01 ff");
    assert_eq!(twcc(&b), Err(Error::BadPadding));
}

#[test]
fn twcc_builder_refuses_what_cannot_be_sent() {
    let mut c = Vec::new();
    assert_eq!(
        rtcp::write_transport_cc(&mut c, 1, 2, 0, 1 << 24, 0, &[S(1)]),
        Err(Error::BadValue)
    );
    // 65536 statuses do not fit the 16-bit count.
    assert_eq!(
        rtcp::write_transport_cc(&mut c, 1, 2, 0, 0, 0, &vec![N; 65536]),
        Err(Error::BadValue)
    );
    assert!(c.is_empty());
    // The worst case, 65535 alternating small and large deltas (2-bit vectors, 1.5 bytes of
    // delta per packet), still fits the 16-bit RTCP length (at most 262140 bytes).
    let worst: Vec<PacketStatus> = (0..65535)
        .map(|i| if i % 2 == 0 { S(1) } else { L(-1) })
        .collect();
    rtcp::write_transport_cc(&mut c, 1, 2, 0, 0, 0, &worst).unwrap();
    assert_eq!(c.len(), 20 + 2 * 65535usize.div_ceil(7) + 32768 + 2 * 32767);
    assert_eq!(
        twcc(&c)
            .unwrap()
            .packets()
            .map(|(_, s)| s)
            .collect::<Vec<_>>(),
        worst
    );
    c.clear();
    // 65535 not-received packets do: nine run chunks.
    rtcp::write_transport_cc(&mut c, 1, 2, 0, 0, 0, &vec![N; 65535]).unwrap();
    assert_eq!(c.len(), 20 + 18 + 2);
    assert_eq!(twcc(&c).unwrap().packets().count(), 65535);
}

#[test]
fn packet_status_for_a_delta() {
    assert_eq!(PacketStatus::received(0), Some(S(0)));
    assert_eq!(PacketStatus::received(255), Some(S(255)));
    assert_eq!(PacketStatus::received(256), Some(L(256)));
    assert_eq!(PacketStatus::received(-1), Some(L(-1)));
    assert_eq!(PacketStatus::received(-32768), Some(L(-32768)));
    assert_eq!(PacketStatus::received(32768), None);
    assert_eq!(PacketStatus::received(-32769), None);
    assert_eq!(L(-3).delta_ticks(), Some(-3));
    assert_eq!(N.delta_ticks(), None);
}

// ---- Round trips --------------------------------------------------------------------------

fn status() -> impl Strategy<Value = PacketStatus> {
    prop_oneof![
        3 => Just(N),
        5 => any::<u8>().prop_map(S),
        2 => any::<i16>().prop_map(L),
    ]
}

/// Statuses in runs, so run-length chunks, both vectors and the switches between them occur.
fn statuses_strategy() -> impl Strategy<Value = Vec<PacketStatus>> {
    prop::collection::vec((status(), 1usize..40), 0..40).prop_map(|runs| {
        runs.into_iter()
            .flat_map(|(s, n)| std::iter::repeat_n(s, if n > 20 { 1 } else { n }))
            .collect()
    })
}

proptest! {
    #[test]
    fn twcc_builder_to_view_round_trip(
        st in statuses_strategy(),
        base in any::<u16>(),
        reference in 0u32..(1 << 24),
        fb_count in any::<u8>(),
    ) {
        let c = build(base, reference, fb_count, &st);
        prop_assert_eq!(c.len() % 4, 0);
        let fb = twcc(&c).unwrap();
        prop_assert_eq!(
            (fb.base_seq, usize::from(fb.status_count), fb.reference_time, fb.fb_count),
            (base, st.len(), reference, fb_count)
        );
        let got = statuses(&fb);
        prop_assert_eq!(got.len(), st.len());
        for (i, (seq, s)) in got.into_iter().enumerate() {
            prop_assert_eq!(seq, base.wrapping_add(i as u16));
            prop_assert_eq!(s, st[i]);
        }
        // Emitting what was read gives the same bytes.
        let again: Vec<PacketStatus> = fb.packets().map(|(_, s)| s).collect();
        prop_assert_eq!(build(base, reference, fb_count, &again), c);
    }

    #[test]
    fn remb_builder_to_view_round_trip(
        bitrate in prop_oneof![0u64..(1 << 18), any::<u64>(), 0u64..100_000_000],
        ssrcs in prop::collection::vec(any::<u32>(), 0..30),
        sender in any::<u32>(),
    ) {
        let mut c = Vec::new();
        rtcp::write_remb(&mut c, sender, bitrate, &ssrcs).unwrap();
        let (s, got, list) = remb(&c).unwrap();
        prop_assert_eq!(s, sender);
        prop_assert_eq!(list, ssrcs);
        // Rounded down, to within one part in 2^17.
        prop_assert!(got <= bitrate);
        prop_assert!(bitrate - got <= bitrate >> 17);
        if bitrate < 1 << 18 {
            prop_assert_eq!(got, bitrate);
        }
    }
}

// ---- Recorder -------------------------------------------------------------------------

fn polls(r: &mut TwccRecorder) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let mut c = Vec::new();
        if !r.poll_feedback(1, 2, &mut c) {
            return out;
        }
        assert!(c.len() <= 1200);
        out.push(c);
    }
}

fn reported(packets: &[Vec<u8>]) -> Vec<(u16, Option<i64>)> {
    packets
        .iter()
        .flat_map(|c| {
            let fb = twcc(c).unwrap();
            let mut t = fb.reference_time_us();
            fb.packets()
                .map(|(seq, s)| {
                    (
                        seq,
                        s.delta_ticks().map(|d| {
                            t += d * 250;
                            t
                        }),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn recorder_reports_arrivals_losses_and_the_wrap() {
    let t0 = Instant::now();
    let mut r = TwccRecorder::new(TwccRecorderConfig::default());
    assert!(!r.has_feedback());
    // 65533..=65535, 0, 2 (1 lost), one every 1.3 ms.
    for (i, seq) in [65533u16, 65534, 65535, 0, 2].into_iter().enumerate() {
        r.handle_packet(seq, t0 + Duration::from_micros(1300 * i as u64));
    }
    let p = polls(&mut r);
    assert_eq!(p.len(), 1);
    let fb = twcc(&p[0]).unwrap();
    assert_eq!((fb.base_seq, fb.status_count, fb.fb_count), (65533, 6, 0));
    // Times from the first arrival, rounded down to 250 µs: 0, 1300, 2600, 3900, -, 5200.
    assert_eq!(
        reported(&p),
        vec![
            (65533, Some(0)),
            (65534, Some(1250)),
            (65535, Some(2500)),
            (0, Some(3750)),
            (1, None),
            (2, Some(5000)),
        ]
    );
    assert!(!r.has_feedback());
    assert!(polls(&mut r).is_empty());
    // The next feedback carries the next count and starts after the last reported.
    r.handle_packet(3, t0 + Duration::from_millis(70));
    let p = polls(&mut r);
    let fb = twcc(&p[0]).unwrap();
    assert_eq!((fb.base_seq, fb.status_count, fb.fb_count), (3, 1, 1));
    // 70 ms: reference time 1 (64 ms), delta 6 ms = 24 ticks.
    assert_eq!(fb.reference_time, 1);
    assert_eq!(statuses(&fb), vec![(3, S(24))]);
}

#[test]
fn recorder_reordering_gives_negative_deltas_and_late_packets_are_reported_again() {
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut r = TwccRecorder::new(TwccRecorderConfig::default());
    // Arrival order 10, 12, 11, 13.
    for (seq, at) in [(10u16, 0), (12, 1), (11, 2), (13, 3)] {
        r.handle_packet(seq, ms(at));
    }
    let p = polls(&mut r);
    let fb = twcc(&p[0]).unwrap();
    // 10 at 0; 11 at 2 ms (8 ticks); 12 at 1 ms: -4 ticks, a large delta; 13 at 3 ms.
    assert_eq!(
        statuses(&fb),
        vec![(10, S(0)), (11, S(8)), (12, L(-4)), (13, S(8))]
    );
    // 14 lost, 15 arrives, feedback; then 14 arrives late: reported again from 14.
    r.handle_packet(15, ms(5));
    assert_eq!(reported(&polls(&mut r)), vec![(14, None), (15, Some(5000))]);
    r.handle_packet(14, ms(6));
    r.handle_packet(16, ms(7));
    assert_eq!(
        reported(&polls(&mut r)),
        vec![(14, Some(6000)), (15, Some(5000)), (16, Some(7000))]
    );
    // A duplicate keeps its first arrival and is not reported again.
    r.handle_packet(16, ms(9));
    assert!(!r.has_feedback());
}

#[test]
fn recorder_splits_feedback_at_the_size_limit_and_at_unencodable_gaps() {
    let t0 = Instant::now();
    let mut r = TwccRecorder::new(TwccRecorderConfig::default());
    // 3000 packets, each 1.1 ms apart with every 5th lost and a 20 s pause after 1000.
    let mut want = Vec::new();
    for i in 0..3000u64 {
        let at = i * 1100 + if i >= 1000 { 20_000_000 } else { 0 };
        if i % 5 == 3 {
            want.push((i as u16, None));
            continue;
        }
        r.handle_packet(i as u16, t0 + Duration::from_micros(at));
        want.push((i as u16, Some((at / 250 * 250) as i64)));
    }
    let p = polls(&mut r);
    assert!(p.len() >= 3, "{}", p.len());
    // Contiguous, each packet at most 1200 bytes, counts 0, 1, 2, ...
    for (i, c) in p.iter().enumerate() {
        assert!(c.len() <= 1200);
        assert_eq!(usize::from(twcc(c).unwrap().fb_count), i);
    }
    // A feedback packet ends at the 20 s pause (no delta can carry it).
    assert!(p
        .iter()
        .any(|c| twcc(c).unwrap().packets().last().unwrap().0 == 999));
    assert_eq!(reported(&p), want);
}

#[test]
fn recorder_stays_bounded_without_polls() {
    let t0 = Instant::now();
    let config = TwccRecorderConfig {
        window: 1000,
        ..TwccRecorderConfig::default()
    };
    let mut r = TwccRecorder::new(config);
    for i in 0..100_000u32 {
        r.handle_packet(i as u16, t0 + Duration::from_micros(u64::from(i) * 100));
    }
    // Everything but the last 1000 fell out of the window unreported.
    assert_eq!(r.dropped(), 99_000);
    let p = polls(&mut r);
    let rep = reported(&p);
    assert_eq!(rep.len(), 1000);
    assert_eq!(rep[0].0, (99_000u32 % 65536) as u16);
    // A packet far older than the window is dropped and counted.
    r.handle_packet((99_999u32 - 2000) as u16, t0);
    assert_eq!(r.dropped(), 99_001);
    // A jump far ahead keeps the window, reporting what is ahead of the last report.
    r.handle_packet(40_000, t0 + Duration::from_secs(11));
    let rep = reported(&polls(&mut r));
    assert_eq!(rep.len(), 1000);
    assert_eq!(rep.last().unwrap().0, 40_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Random sequence numbers and arrival steps: every feedback parses, fits the limit, and
    /// polling until `false` leaves nothing unreported.
    #[test]
    fn recorder_feedback_always_parses(
        events in prop::collection::vec((any::<u16>(), 0u64..70_000, any::<bool>()), 1..300),
        max_len in 32usize..400,
    ) {
        let t0 = Instant::now();
        let mut r = TwccRecorder::new(TwccRecorderConfig {
            max_feedback_len: max_len,
            window: 300,
            keep_reported: 50,
        });
        let mut now = t0;
        let mut seq = 0u16;
        for (s, step, poll) in events {
            // Mostly in order, sometimes anywhere.
            seq = if s % 4 == 0 { s } else { seq.wrapping_add(s % 7) };
            now += Duration::from_micros(step);
            r.handle_packet(seq, now);
            if poll {
                let mut out = Vec::new();
                while r.poll_feedback(1, 2, &mut out) {
                    let fb = twcc(&out).unwrap();
                    prop_assert!(out.len() <= max_len);
                    prop_assert!(fb.status_count > 0);
                    out.clear();
                }
                prop_assert!(!r.has_feedback());
            }
        }
    }
}
