//! RTP and RTCP views and writers against hand-assembled byte layouts of RFC 3550, RFC 8285,
//! RFC 4585, RFC 5104 and the REMB draft.

use weft_rtp::ext::{uri, ExtensionMap, ExtensionProfile, Extensions, PlayoutDelay};
use weft_rtp::rtcp::{self, parse_compound, ReportBlock, RtcpPacket};
use weft_rtp::{write_rtp, Error, RtpHeader, RtpPacket};

fn hex(s: &str) -> Vec<u8> {
    weft_testkit::hex(s)
}

#[test]
fn rfc3550_header_fields_csrcs_padding() {
    // V=2 P=1 X=0 CC=2, M=1 PT=111, seq 0x1234, ts 0xdeadbeef, SSRC 0x01020304, two CSRCs,
    // payload "abc", 3 bytes of padding (count 3).
    let p = hex("a2ef1234 deadbeef 01020304 0000000a 0000000b 616263 000003");
    let r = RtpPacket::parse(&p).unwrap();
    assert!(r.marker());
    assert_eq!(r.payload_type(), 111);
    assert_eq!(r.sequence_number(), 0x1234);
    assert_eq!(r.timestamp(), 0xdead_beef);
    assert_eq!(r.ssrc(), 0x0102_0304);
    assert_eq!(r.csrcs().collect::<Vec<_>>(), vec![10, 11]);
    assert_eq!(r.payload(), b"abc");
    assert!(r.has_padding());
}

#[test]
fn malformed_rtp_is_a_typed_error() {
    assert_eq!(RtpPacket::parse(&[0x80; 11]), Err(Error::TooShort));
    assert_eq!(
        RtpPacket::parse(&hex("40000000 00000000 00000000")),
        Err(Error::BadVersion(1))
    );
    // CC=15 but no CSRCs.
    assert_eq!(
        RtpPacket::parse(&hex("8f000000 00000000 00000000")),
        Err(Error::TooShort)
    );
    // X=1 with an extension longer than the packet.
    assert_eq!(
        RtpPacket::parse(&hex("90000000 00000000 00000000 bede0005 00000000")),
        Err(Error::BadExtensionLength)
    );
    // Padding count 0, and larger than the packet.
    assert_eq!(
        RtpPacket::parse(&hex("a0000000 00000000 00000000 00")),
        Err(Error::BadPadding)
    );
    assert_eq!(
        RtpPacket::parse(&hex("a0000000 00000000 00000000 ff")),
        Err(Error::BadPadding)
    );
}

#[test]
fn rfc8285_one_byte_form_with_padding_and_stop() {
    // Elements: id 1 len 1 (0x10 0xaa), a padding byte, id 2 len 2 (0x21 0xbb 0xcc), then
    // id 15 stops processing before the junk after it.
    let data = hex("10aa 00 21bbcc f0 ffff");
    let e: Vec<_> = Extensions::new(ExtensionProfile::OneByte, &data)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(e, vec![(1, &[0xaa][..]), (2, &[0xbb, 0xcc][..])]);
    // Two-byte form: id 1 len 0, id 200 len 3.
    let data = hex("0100 c803 010203 00");
    let e: Vec<_> = Extensions::new(ExtensionProfile::TwoByte, &data)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(e, vec![(1, &[][..]), (200, &[1, 2, 3][..])]);
    assert_eq!(
        ExtensionProfile::from_u16(0x1003),
        Some(ExtensionProfile::TwoByte)
    );
    assert_eq!(ExtensionProfile::from_u16(0x1234), None);
}

#[test]
fn typed_webrtc_extensions_round_trip_through_the_writer() {
    let map = ExtensionMap::from_extmap([
        (1, uri::SDES_MID),
        (2, uri::ABS_SEND_TIME),
        (3, uri::TRANSPORT_WIDE_CC),
        (4, uri::SSRC_AUDIO_LEVEL),
        (5, uri::TOFFSET),
        (6, uri::VIDEO_ORIENTATION),
        (7, uri::PLAYOUT_DELAY),
        (8, uri::RTP_STREAM_ID),
        (9, "urn:example:unknown"),
    ]);
    let elems: [(u8, &[u8]); 8] = [
        (1, b"0"),
        (2, &[0x12, 0x34, 0x56]),
        (3, &[0x01, 0x02]),
        (4, &[0x80 | 42]),
        (5, &[0xff, 0xff, 0xfe]),
        (6, &[0x0b]),
        (7, &[0x00, 0x10, 0x64]),
        (8, b"hi"),
    ];
    let h = RtpHeader {
        marker: true,
        payload_type: 96,
        sequence_number: 7,
        timestamp: 90_000,
        ssrc: 0xabc,
        csrcs: &[],
        extensions: &elems,
    };
    let mut buf = [0u8; 1500];
    let n = write_rtp(&h, &[9; 1000], &mut buf).unwrap();
    let p = RtpPacket::parse(&buf[..n]).unwrap();
    assert_eq!(p.extension_block().unwrap().0, 0xBEDE);
    let v = map.read(&p.extensions().unwrap());
    assert_eq!(v.mid, Some("0"));
    assert_eq!(v.rid, Some("hi"));
    assert_eq!(v.abs_send_time, Some(0x123456));
    assert_eq!(v.transport_cc, Some(0x0102));
    let al = v.audio_level.unwrap();
    assert!(al.voice && al.level == 42);
    assert_eq!(v.toffset, Some(-2));
    let vo = v.video_orientation.unwrap();
    assert!(vo.camera_back && !vo.flip && vo.rotation_degrees == 270);
    // playout-delay 0x001 min, 0x064 max, in 10 ms units.
    assert_eq!(
        v.playout_delay,
        Some(PlayoutDelay {
            min_ms: 10,
            max_ms: 1000
        })
    );
    assert_eq!(p.payload(), &[9; 1000][..]);
    // A value over 16 bytes forces the two-byte form.
    let big = [7u8; 20];
    let h2 = RtpHeader {
        extensions: &[(1, &big)],
        ..h
    };
    let n = write_rtp(&h2, b"x", &mut buf).unwrap();
    let p = RtpPacket::parse(&buf[..n]).unwrap();
    assert_eq!(p.extension_block().unwrap().0, 0x1000);
    assert_eq!(p.extensions().unwrap().get(1), Some(&big[..]));
}

#[test]
fn rtcp_compound_sr_sdes_bye() {
    let mut c = Vec::new();
    let rb = ReportBlock {
        ssrc: 0x2222,
        fraction_lost: 25,
        cumulative_lost: -3,
        highest_seq: 0x0001_0005,
        jitter: 17,
        lsr: 0x1234_5678,
        dlsr: 65536,
    };
    rtcp::write_sender_report(&mut c, 0x1111, 0xe000_0000_8000_0000, 3000, 10, 1000, &[rb]);
    // SDES: one chunk, CNAME "ab", END, padded to 32 bits.
    c.extend_from_slice(&hex("81ca0003 00001111 01026162 00000000"));
    c.extend_from_slice(&hex("81cb0001 00001111"));
    let v: Vec<_> = parse_compound(&c).collect::<Result<_, _>>().unwrap();
    assert_eq!(v.len(), 3);
    let RtcpPacket::SenderReport {
        ssrc, ntp, reports, ..
    } = &v[0]
    else {
        panic!()
    };
    assert_eq!((*ssrc, *ntp), (0x1111, 0xe000_0000_8000_0000));
    assert_eq!(reports.iter().collect::<Vec<_>>(), vec![rb]);
    let RtcpPacket::SourceDescription(chunks) = &v[1] else {
        panic!()
    };
    let chunks: Vec<_> = chunks
        .iter()
        .map(|c| (c.ssrc, c.items.iter().collect::<Vec<_>>()))
        .collect();
    assert_eq!(chunks, vec![(0x1111, vec![(1, &b"ab"[..])])]);
    let RtcpPacket::Bye { sources, reason } = &v[2] else {
        panic!()
    };
    assert_eq!(
        (sources.iter().collect::<Vec<_>>(), *reason),
        (vec![0x1111], None)
    );
    // SR layout: V=2 RC=1 PT=200 length 12 (words - 1).
    assert_eq!(&c[..4], &hex("81c8000c")[..]);
}

#[test]
fn rfc4585_generic_nack_layout_and_round_trip() {
    let mut c = Vec::new();
    rtcp::write_nack(&mut c, 1, 2, &[100, 101, 103, 116, 117, 300]);
    // PID 100 with BLP bits for 101 (bit 0), 103 (bit 2), 116 (bit 15); then 117 starts a new
    // FCI with 300 far away in a third.
    assert_eq!(
        c,
        hex("81cd0005 00000001 00000002 00648005 00750000 012c0000")
    );
    let v: Vec<_> = parse_compound(&c).collect::<Result<_, _>>().unwrap();
    let RtcpPacket::Nack { lost, .. } = &v[0] else {
        panic!()
    };
    assert_eq!(
        lost.seqs().collect::<Vec<_>>(),
        vec![100, 101, 103, 116, 117, 300]
    );
}

#[test]
fn pli_fir_remb_twcc_rr_and_unknown_types() {
    let mut c = Vec::new();
    rtcp::write_pli(&mut c, 5, 6);
    rtcp::write_fir(&mut c, 5, &[(6, 9)]);
    // REMB: sender 5, media 0, "REMB", 1 SSRC, exp 2, mantissa 250000 → 1,000,000 bps.
    c.extend_from_slice(&hex(
        "8fce0005 00000005 00000000 52454d42 010bd090 00000006",
    ));
    // TWCC: base 10, 3 packets, reference time 5, count 1, one run chunk of 3 received with
    // small deltas 1, 2, 3, then 3 bytes of padding (P set, count in the last byte).
    c.extend_from_slice(&hex(
        "afcd0006 00000005 00000006 000a0003 00000501 20030102 03000003",
    ));
    rtcp::write_receiver_report(&mut c, 7, &[]);
    c.extend_from_slice(&hex("80cc0002 00000007 6e616d65"));
    let v: Vec<_> = parse_compound(&c).collect::<Result<_, _>>().unwrap();
    assert_eq!(
        v[0],
        RtcpPacket::Pli {
            sender: 5,
            media: 6
        }
    );
    let RtcpPacket::Fir { sender, entries } = &v[1] else {
        panic!("{:?}", v[1])
    };
    assert_eq!(
        (*sender, entries.iter().collect::<Vec<_>>()),
        (5, vec![rtcp::FirEntry { ssrc: 6, seq: 9 }])
    );
    let RtcpPacket::Remb {
        sender,
        bitrate,
        ssrcs,
    } = &v[2]
    else {
        panic!("{:?}", v[2])
    };
    assert_eq!(
        (*sender, *bitrate, ssrcs.iter().collect::<Vec<_>>()),
        (5, 1_000_000, vec![6])
    );
    let RtcpPacket::TransportCc(fb) = v[3] else {
        panic!("{:?}", v[3])
    };
    assert_eq!(
        (fb.base_seq, fb.status_count, fb.reference_time, fb.fb_count),
        (10, 3, 5, 1)
    );
    assert_eq!(fb.deltas(), &[1, 2, 3]);
    assert!(matches!(
        v[4],
        RtcpPacket::ReceiverReport { ssrc: 7, reports } if reports.is_empty()
    ));
    assert_eq!(
        v[5],
        RtcpPacket::App {
            subtype: 0,
            ssrc: 7,
            name: *b"name",
            data: &[]
        }
    );
    // A truncated compound reports the error after the good packets.
    let cut = &c[..c.len() - 2];
    let r: Vec<_> = parse_compound(cut).collect();
    assert!(r.last().unwrap().is_err());
    assert_eq!(r.iter().filter(|x| x.is_ok()).count(), 5);
}
