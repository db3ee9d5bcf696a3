//! SDES, BYE, APP and XR builders: known answers written by hand from the RFC layouts, and
//! builder -> view round trips.

use weft_rtp::rtcp::{self, parse_compound, sdes, xr, DlrrItem, RtcpPacket, XrBlock};
use weft_rtp::Error;

fn hex(s: &str) -> Vec<u8> {
    weft_testkit::hex(s)
}

fn one(bytes: &[u8]) -> RtcpPacket<'_> {
    let v: Vec<_> = parse_compound(bytes).collect::<Result<_, _>>().unwrap();
    assert_eq!(v.len(), 1, "{v:?}");
    v[0].clone()
}

type Chunk<'a> = (u32, Vec<(u8, &'a [u8])>);

fn chunks(p: RtcpPacket<'_>) -> Vec<Chunk<'_>> {
    let RtcpPacket::SourceDescription(c) = p else {
        panic!("not SDES: {p:?}")
    };
    c.iter()
        .map(|c| (c.ssrc, c.items.iter().collect()))
        .collect()
}

#[test]
fn rfc3550_sdes_two_chunks_padded_to_32_bits() {
    // RFC 3550 §6.5: V=2 SC=2 PT=202 length 7; chunk 1 is SSRC, CNAME (1) "user@host" and END
    // (15 octets + one null); chunk 2 is SSRC, CNAME "ab", TOOL (6) "x" and END.
    let mut c = Vec::new();
    rtcp::write_sdes(
        &mut c,
        &[
            (0x1122_3344, &[(sdes::CNAME, &b"user@host"[..])]),
            (
                0x5566_7788,
                &[(sdes::CNAME, &b"ab"[..]), (sdes::TOOL, &b"x"[..])],
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        c,
        hex("82ca0007 11223344 01097573 65724068 6f737400 55667788 01026162 06017800")
    );
    assert_eq!(
        chunks(one(&c)),
        vec![
            (0x1122_3344, vec![(1, &b"user@host"[..])]),
            (0x5566_7788, vec![(1, &b"ab"[..]), (6, &b"x"[..])]),
        ]
    );
    let RtcpPacket::SourceDescription(v) = one(&c) else {
        panic!()
    };
    assert_eq!(v.len(), 2);
    assert_eq!(
        v.iter().nth(1).unwrap().items.find(sdes::TOOL),
        Some(&b"x"[..])
    );
}

#[test]
fn rfc3550_sdes_end_on_a_boundary_takes_a_whole_null_word() {
    // SSRC + CNAME "ab" ends on a 32-bit boundary: END needs a whole word of nulls.
    let mut c = Vec::new();
    rtcp::write_sdes(&mut c, &[(0x1111, &[(sdes::CNAME, &b"ab"[..])])]).unwrap();
    assert_eq!(c, hex("81ca0003 00001111 01026162 00000000"));
}

#[test]
fn sdes_round_trips_every_text_length_and_rejects_bad_items() {
    for len in 0..=255usize {
        let text: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let items = [(sdes::CNAME, &text[..]), (sdes::NOTE, &b"n"[..])];
        let mut c = Vec::new();
        rtcp::write_sdes(&mut c, &[(7, &items[..]), (8, &[])]).unwrap();
        assert_eq!(c.len() % 4, 0);
        assert_eq!(
            chunks(one(&c)),
            vec![(7, items.to_vec()), (8, vec![])],
            "text length {len}"
        );
    }
    let mut c = Vec::new();
    let long = [0u8; 256];
    assert_eq!(
        rtcp::write_sdes(&mut c, &[(1, &[(sdes::CNAME, &long[..])])]),
        Err(Error::BadValue)
    );
    assert_eq!(
        rtcp::write_sdes(&mut c, &[(1, &[(0, &b"x"[..])])]),
        Err(Error::BadValue)
    );
    let many: Vec<rtcp::SdesChunkIn<'_>> = (0..32).map(|i| (i, &[][..])).collect();
    assert_eq!(rtcp::write_sdes(&mut c, &many), Err(Error::BadValue));
    assert!(c.is_empty());
}

#[test]
fn rfc3550_bye_sources_and_reason() {
    // RFC 3550 §6.6: V=2 SC=2 PT=203 length 4; two SSRCs, then length 4 "gone" and three
    // null octets to the 32-bit boundary.
    let mut c = Vec::new();
    rtcp::write_bye(&mut c, &[0x1111, 0x2222], Some(b"gone")).unwrap();
    assert_eq!(c, hex("82cb0004 00001111 00002222 04676f6e 65000000"));
    let RtcpPacket::Bye { sources, reason } = one(&c) else {
        panic!()
    };
    assert_eq!(sources.iter().collect::<Vec<_>>(), vec![0x1111, 0x2222]);
    assert_eq!(reason, Some(&b"gone"[..]));

    let mut c = Vec::new();
    rtcp::write_bye(&mut c, &[0x1111], None).unwrap();
    assert_eq!(c, hex("81cb0001 00001111"));
    assert!(matches!(one(&c), RtcpPacket::Bye { reason: None, .. }));

    for len in 0..=255usize {
        let r = vec![b'r'; len];
        let mut c = Vec::new();
        rtcp::write_bye(&mut c, &[9], Some(&r)).unwrap();
        let RtcpPacket::Bye { sources, reason } = one(&c) else {
            panic!()
        };
        assert_eq!(
            (sources.len(), reason),
            (1, Some(&r[..])),
            "reason length {len}"
        );
    }

    let mut c = Vec::new();
    assert_eq!(
        rtcp::write_bye(&mut c, &[1], Some(&[0u8; 256])),
        Err(Error::BadValue)
    );
    assert_eq!(
        rtcp::write_bye(&mut c, &[0; 32], None),
        Err(Error::BadValue)
    );
    assert!(c.is_empty());
}

#[test]
fn rfc3550_app_layout_and_round_trip() {
    // RFC 3550 §6.7: V=2 subtype 3 PT=204 length 3; SSRC, name "TEST", one word of data.
    let mut c = Vec::new();
    rtcp::write_app(&mut c, 3, 0x0102_0304, *b"TEST", &[0xde, 0xad, 0xbe, 0xef]).unwrap();
    assert_eq!(c, hex("83cc0003 01020304 54455354 deadbeef"));
    assert_eq!(
        one(&c),
        RtcpPacket::App {
            subtype: 3,
            ssrc: 0x0102_0304,
            name: *b"TEST",
            data: &[0xde, 0xad, 0xbe, 0xef]
        }
    );
    assert_eq!(
        rtcp::write_app(&mut c, 32, 1, *b"TEST", &[]),
        Err(Error::BadValue)
    );
    assert_eq!(
        rtcp::write_app(&mut c, 1, 1, *b"TEST", &[1, 2, 3]),
        Err(Error::BadValue)
    );
    assert_eq!(c.len(), 16);
    // An APP packet without its name is short.
    assert_eq!(
        parse_compound(&hex("80cc0001 00000001")).next(),
        Some(Err(Error::TooShort))
    );
}

#[test]
fn rfc3611_xr_rrtr_and_dlrr_layout_and_round_trip() {
    // RFC 3611 §2: V=2 PT=207 length 8, SSRC; §4.4: BT=4, reserved, block length 2, NTP
    // timestamp; §4.5: BT=5, reserved, block length 3, one sub-block (SSRC, LRR, DLRR).
    let d = DlrrItem {
        ssrc: 0x1111_1111,
        last_rr: 0x0304_0506,
        dlrr: 0x0001_0000,
    };
    let mut c = Vec::new();
    rtcp::write_xr(&mut c, 0x0a0b_0c0d, Some(0x0102_0304_0506_0708), &[d]).unwrap();
    assert_eq!(
        c,
        hex("80cf0008 0a0b0c0d 04000002 01020304 05060708 05000003 11111111 03040506 00010000")
    );
    let RtcpPacket::ExtendedReport { ssrc, blocks } = one(&c) else {
        panic!()
    };
    assert_eq!(ssrc, 0x0a0b_0c0d);
    let typed: Vec<_> = blocks.typed().collect();
    assert_eq!(typed.len(), 2);
    assert_eq!(
        typed[0],
        XrBlock::ReceiverReferenceTime(0x0102_0304_0506_0708)
    );
    let XrBlock::Dlrr(items) = typed[1] else {
        panic!("{typed:?}")
    };
    assert_eq!(items.iter().collect::<Vec<_>>(), vec![d]);
    assert_eq!(
        blocks.iter().map(|(bt, _)| bt).collect::<Vec<_>>(),
        vec![xr::RRTR, xr::DLRR]
    );

    // Only a DLRR of three sub-blocks; only an RRTR; neither.
    let ds: Vec<_> = (0..3)
        .map(|i| DlrrItem {
            ssrc: i,
            last_rr: 10 + i,
            dlrr: 20 + i,
        })
        .collect();
    let mut c = Vec::new();
    rtcp::write_xr(&mut c, 1, None, &ds).unwrap();
    rtcp::write_xr(&mut c, 2, Some(7), &[]).unwrap();
    rtcp::write_xr(&mut c, 3, None, &[]).unwrap();
    assert_eq!(&c[..8], &hex("80cf000b 00000001")[..]);
    let v: Vec<_> = parse_compound(&c).collect::<Result<_, _>>().unwrap();
    let typed: Vec<Vec<XrBlock<'_>>> = v
        .iter()
        .map(|p| match p {
            RtcpPacket::ExtendedReport { blocks, .. } => blocks.typed().collect(),
            p => panic!("{p:?}"),
        })
        .collect();
    let XrBlock::Dlrr(items) = typed[0][0] else {
        panic!()
    };
    assert_eq!(items.iter().collect::<Vec<_>>(), ds);
    assert_eq!(typed[1], vec![XrBlock::ReceiverReferenceTime(7)]);
    assert!(typed[2].is_empty());

    // A DLRR block too long for the 16-bit length is refused, nothing appended.
    let huge = vec![d; 21_845];
    let mut c = Vec::new();
    assert_eq!(rtcp::write_xr(&mut c, 1, None, &huge), Err(Error::BadValue));
    assert!(c.is_empty());
}
