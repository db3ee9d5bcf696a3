//! RTP and RTCP: weft-rtp beside webrtc-rs's `rtp` and `rtcp` crates (0.17), on the same
//! input in the same run. Every group first checks that both sides agree on the input (same
//! bytes written, same fields read, same number of payloads), then times:
//!
//! - `rtp_parse_1200`: a 1200-byte RTP packet with one-byte header extensions sdes:mid,
//!   abs-send-time and transport-wide-cc. weft: `RtpPacket::parse` (validates the header,
//!   the extension block and padding, borrows), the three extension values by id and the
//!   payload slice. webrtc-rs: `Packet::unmarshal` from a `Bytes` (a reference-count clone of
//!   the same bytes per iteration, which its API consumes; it builds a `Header` with a `Vec`
//!   of extensions and slices the payload), the three extensions by id (`get_extension`,
//!   `Bytes` clones) and the payload. `weft_typed` also decodes the values through an
//!   `ExtensionMap` (mid as `&str`, abs-send-time and transport-cc as integers).
//! - `rtp_write_1200`: the same packet written into a reused 1500-byte buffer. weft:
//!   `write_rtp` from header fields and the payload slice. webrtc-rs: `Packet::marshal_to`
//!   of a prepared `Packet` (header with its extensions, payload `Bytes`). Both write
//!   identical bytes.
//! - `rtcp_compound_parse`: SR (one report block), SDES (CNAME), generic NACK (two FCIs)
//!   and REMB (two SSRCs) in one compound. weft: `parse_compound`, every packet's typed view
//!   (zero-copy: report blocks, SDES chunks and items, NACK pairs and SSRCs decoded as they
//!   are iterated), every report block, SDES item, lost sequence number and SSRC visited.
//!   webrtc-rs: `rtcp::packet::unmarshal`, a `Vec<Box<dyn Packet>>` of the four packets
//!   (their report blocks, chunks, NACK pairs and SSRC lists in `Vec`s).
//! - `rtcp_twcc_parse`: one transport-wide feedback reporting 200 packets (losses, small and
//!   large deltas; run and vector chunks). weft: `TransportFeedback` view (validated at parse)
//!   and every packet's status and delta read through `packets()`. webrtc-rs:
//!   `TransportLayerCc::unmarshal`, which decodes every chunk and delta into `Vec`s.
//! - `vp8_packetize_100k` and `h264_packetize_100k`: a 100 000-byte frame (VP8 key frame;
//!   H.264 Annex-B access unit SPS + PPS + IDR slice) into payloads of at most 1200 bytes.
//!   weft: `Packetizer::packetize`, whose callback gets each payload in a reused buffer
//!   (where a sender writes its RTP packet); the callback sums lengths. `weft_to_vec` also
//!   copies each payload into its own `Vec` (`packetize_to_vec`), the same owned output as
//!   webrtc-rs. webrtc-rs: `Payloader::payload(1200, &Bytes)` returning `Vec<Bytes>` (one
//!   allocation and copy per payload). VP8 on both sides with a 15-bit PictureID (4-byte
//!   descriptor); H.264 in packetization mode 1 (SPS and PPS in a STAP-A, the slice in FU-A).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use webrtc_util::marshal::{Marshal, Unmarshal};
use weft_rtp::codec::h264::{H264Packetizer, PacketizationMode};
use weft_rtp::codec::vp8::Vp8Packetizer;
use weft_rtp::codec::Packetizer;
use weft_rtp::ext::{uri, ExtensionMap};
use weft_rtp::rtcp::{self as weft_rtcp, PacketStatus, ReportBlock, RtcpPacket};
use weft_rtp::{write_rtp, RtpHeader, RtpPacket};

const PACKET_LEN: usize = 1200;
const MTU: usize = 1200;
const FRAME_LEN: usize = 100_000;
const MID: &[u8] = b"0";
const ABS_SEND_TIME: [u8; 3] = [0x12, 0x34, 0x56];
const TWCC_SEQ: [u8; 2] = [0x01, 0x02];

/// Deterministic filler bytes, never zero (so no H.264 start code appears inside a NAL unit).
fn filler(n: usize, mut x: u32) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as u8).max(1)
        })
        .collect()
}

// ---- RTP ------------------------------------------------------------------------------

const EXTENSIONS: [(u8, &[u8]); 3] = [(1, MID), (2, &ABS_SEND_TIME), (3, &TWCC_SEQ)];
/// 12 fixed + 4 extension header + 9 extension bytes padded to 12.
const HEADER_LEN: usize = 28;

fn weft_header() -> RtpHeader<'static> {
    RtpHeader {
        marker: true,
        payload_type: 96,
        sequence_number: 4711,
        timestamp: 0x0102_0304,
        ssrc: 0x1234_5678,
        csrcs: &[],
        extensions: &EXTENSIONS,
    }
}

fn webrtc_rs_packet(payload: &[u8]) -> rtp::packet::Packet {
    let ext = |id: u8, v: &[u8]| rtp::header::Extension {
        id,
        payload: Bytes::copy_from_slice(v),
    };
    rtp::packet::Packet {
        header: rtp::header::Header {
            version: 2,
            padding: false,
            extension: true,
            marker: true,
            payload_type: 96,
            sequence_number: 4711,
            timestamp: 0x0102_0304,
            ssrc: 0x1234_5678,
            csrc: vec![],
            extension_profile: 0xBEDE,
            extensions: vec![ext(1, MID), ext(2, &ABS_SEND_TIME), ext(3, &TWCC_SEQ)],
            extensions_padding: 0,
        },
        payload: Bytes::copy_from_slice(payload),
    }
}

fn weft_parse(bytes: &[u8]) -> usize {
    let p = RtpPacket::parse(bytes).unwrap();
    let exts = p.extensions().unwrap();
    let mid = exts.get(1).unwrap();
    let ast = exts.get(2).unwrap();
    let cc = exts.get(3).unwrap();
    mid.len() + ast.len() + cc.len() + p.payload().len() + usize::from(p.sequence_number())
}

fn weft_parse_typed(bytes: &[u8], map: &ExtensionMap) -> usize {
    let p = RtpPacket::parse(bytes).unwrap();
    let v = map.read(&p.extensions().unwrap());
    v.mid.unwrap().len()
        + v.abs_send_time.unwrap() as usize
        + usize::from(v.transport_cc.unwrap())
        + p.payload().len()
        + usize::from(p.sequence_number())
}

fn webrtc_rs_parse(bytes: &Bytes) -> usize {
    let mut b = bytes.clone();
    let p = rtp::packet::Packet::unmarshal(&mut b).unwrap();
    let mid = p.header.get_extension(1).unwrap();
    let ast = p.header.get_extension(2).unwrap();
    let cc = p.header.get_extension(3).unwrap();
    mid.len() + ast.len() + cc.len() + p.payload.len() + usize::from(p.header.sequence_number)
}

fn rtp_parse_write(c: &mut Criterion) {
    let payload = filler(PACKET_LEN - HEADER_LEN, 7);
    let h = weft_header();
    let mut buf = [0u8; 1500];
    let n = write_rtp(&h, &payload, &mut buf).unwrap();
    assert_eq!(n, PACKET_LEN);
    let bytes = buf[..n].to_vec();
    let pkt = webrtc_rs_packet(&payload);
    let mut buf2 = [0u8; 1500];
    let n2 = pkt.marshal_to(&mut buf2).unwrap();
    assert_eq!(
        &buf2[..n2],
        &bytes[..],
        "weft and webrtc-rs write different bytes"
    );
    let shared = Bytes::from(bytes.clone());
    let map = ExtensionMap::from_extmap([
        (1, uri::SDES_MID),
        (2, uri::ABS_SEND_TIME),
        (3, uri::TRANSPORT_WIDE_CC),
    ]);
    assert_eq!(weft_parse(&bytes), webrtc_rs_parse(&shared));
    assert_eq!(
        weft_parse_typed(&bytes, &map),
        1 + 0x12_3456 + 0x0102 + (PACKET_LEN - HEADER_LEN) + 4711
    );

    let mut g = c.benchmark_group("rtp_parse_1200");
    g.throughput(Throughput::Bytes(PACKET_LEN as u64));
    g.bench_function("weft", |b| b.iter(|| weft_parse(black_box(&bytes))));
    g.bench_function("weft_typed", |b| {
        b.iter(|| weft_parse_typed(black_box(&bytes), &map))
    });
    g.bench_function("rtp_webrtc-rs", |b| {
        b.iter(|| webrtc_rs_parse(black_box(&shared)))
    });
    g.finish();

    let mut g = c.benchmark_group("rtp_write_1200");
    g.throughput(Throughput::Bytes(PACKET_LEN as u64));
    g.bench_function("weft", |b| {
        b.iter(|| write_rtp(black_box(&h), black_box(&payload), &mut buf).unwrap())
    });
    g.bench_function("rtp_webrtc-rs", |b| {
        b.iter(|| black_box(&pkt).marshal_to(&mut buf2).unwrap())
    });
    g.finish();
}

// ---- RTCP -----------------------------------------------------------------------------

fn compound() -> Vec<u8> {
    let mut c = Vec::new();
    let rb = ReportBlock {
        ssrc: 0x2222_2222,
        fraction_lost: 12,
        cumulative_lost: 345,
        highest_seq: 0x0001_2345,
        jitter: 77,
        lsr: 0x1234_5678,
        dlsr: 0x0001_8000,
    };
    weft_rtcp::write_sender_report(
        &mut c,
        0x1111_1111,
        0xe5f1_2345_6789_abcd,
        0x0102_0304,
        1000,
        1_200_000,
        &[rb],
    );
    // SDES: one chunk, CNAME of 16 characters, END, padding (RFC 3550 §6.5).
    let cname = b"abcdefghijklmnop";
    let mut sdes = vec![0x81, 202, 0, 0];
    sdes.extend_from_slice(&0x1111_1111u32.to_be_bytes());
    sdes.extend_from_slice(&[1, cname.len() as u8]);
    sdes.extend_from_slice(cname);
    sdes.push(0);
    while sdes.len() % 4 != 0 {
        sdes.push(0);
    }
    let words = (sdes.len() / 4 - 1) as u16;
    sdes[2..4].copy_from_slice(&words.to_be_bytes());
    c.extend_from_slice(&sdes);
    weft_rtcp::write_nack(
        &mut c,
        0x1111_1111,
        0x2222_2222,
        &[100, 101, 103, 110, 200, 201],
    );
    weft_rtcp::write_remb(&mut c, 0x1111_1111, 2_500_000, &[0x2222_2222, 0x3333_3333]).unwrap();
    c
}

fn weft_compound(bytes: &[u8]) -> usize {
    let mut n = 0usize;
    for p in weft_rtcp::parse_compound(bytes) {
        n += match p.unwrap() {
            RtcpPacket::SenderReport { reports, .. } => {
                reports.iter().map(|r| r.jitter as usize).sum()
            }
            RtcpPacket::SourceDescription(chunks) => chunks
                .iter()
                .map(|c| c.items.iter().map(|(_, text)| text.len()).sum::<usize>())
                .sum(),
            RtcpPacket::Nack { lost, .. } => lost.seqs().count(),
            RtcpPacket::Remb { bitrate, ssrcs, .. } => {
                ssrcs.iter().map(|s| s as usize).sum::<usize>() + (bitrate >> 20) as usize
            }
            _ => 0,
        };
    }
    n
}

fn webrtc_rs_compound(bytes: &Bytes) -> usize {
    let mut b = bytes.clone();
    let v = ::rtcp::packet::unmarshal(&mut b).unwrap();
    v.len()
}

/// 200 reported packets: mostly 1-4 ms apart (small deltas), a loss every 17th, a burst of
/// 30 losses, and a reordered packet (negative, large delta) every 50th.
fn twcc_statuses() -> Vec<PacketStatus> {
    (0..200)
        .map(|i| {
            if (120..150).contains(&i) || i % 17 == 5 {
                PacketStatus::NotReceived
            } else if i % 50 == 7 {
                PacketStatus::LargeDelta(-12)
            } else {
                PacketStatus::SmallDelta(4 + (i % 13) as u8)
            }
        })
        .collect()
}

fn weft_twcc(bytes: &[u8]) -> i64 {
    let Some(Ok(RtcpPacket::TransportCc(fb))) = weft_rtcp::parse_compound(bytes).next() else {
        panic!("not transport-wide feedback")
    };
    fb.packets()
        .map(|(seq, s)| s.delta_ticks().unwrap_or(0) + i64::from(seq & 1))
        .sum()
}

fn webrtc_rs_twcc(bytes: &Bytes) -> i64 {
    use ::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;
    let mut b = bytes.clone();
    let p = TransportLayerCc::unmarshal(&mut b).unwrap();
    p.recv_deltas.iter().map(|d| d.delta).sum::<i64>() + i64::from(p.packet_status_count)
}

fn rtcp_parse(c: &mut Criterion) {
    let bytes = compound();
    let shared = Bytes::from(bytes.clone());
    assert_eq!(webrtc_rs_compound(&shared), 4);
    assert!(weft_compound(&bytes) > 0);

    let mut g = c.benchmark_group("rtcp_compound_parse");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("weft", |b| b.iter(|| weft_compound(black_box(&bytes))));
    g.bench_function("rtcp_webrtc-rs", |b| {
        b.iter(|| webrtc_rs_compound(black_box(&shared)))
    });
    g.finish();

    let st = twcc_statuses();
    let mut fb = Vec::new();
    weft_rtcp::write_transport_cc(&mut fb, 0x1111_1111, 0x2222_2222, 65500, 0x00_1234, 9, &st)
        .unwrap();
    let shared = Bytes::from(fb.clone());
    {
        use ::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;
        let mut b = shared.clone();
        let p = TransportLayerCc::unmarshal(&mut b).unwrap();
        let want: Vec<i64> = st.iter().filter_map(|s| s.delta_ticks()).collect();
        let got: Vec<i64> = p.recv_deltas.iter().map(|d| d.delta / 250).collect();
        assert_eq!(got, want, "webrtc-rs reads other deltas");
        assert_eq!(p.packet_status_count, 200);
    }
    let mut g = c.benchmark_group("rtcp_twcc_parse");
    g.throughput(Throughput::Bytes(fb.len() as u64));
    g.bench_function("weft", |b| b.iter(|| weft_twcc(black_box(&fb))));
    g.bench_function("rtcp_webrtc-rs", |b| {
        b.iter(|| webrtc_rs_twcc(black_box(&shared)))
    });
    g.finish();
}

// ---- Packetization ------------------------------------------------------------------------

fn vp8_frame() -> Vec<u8> {
    let mut f = filler(FRAME_LEN, 11);
    // A key frame: frame tag P bit 0, show_frame, start code 9d 01 2a, 640x480.
    f[..10].copy_from_slice(&[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
    f
}

fn h264_access_unit() -> Vec<u8> {
    let mut au = Vec::with_capacity(FRAME_LEN);
    // SPS (Baseline 3.1), PPS, IDR slice, each behind a 4-byte start code.
    au.extend_from_slice(&[
        0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8,
    ]);
    au.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
    au.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84]);
    let rest = FRAME_LEN - au.len();
    au.extend_from_slice(&filler(rest, 13));
    au
}

fn packetize(c: &mut Criterion) {
    // VP8: the webrtc-rs payloader's PictureID starts at 0 (7-bit); past 127 it sends the
    // 15-bit form weft sends, so warm it up first.
    let frame = vp8_frame();
    let shared = Bytes::from(frame.clone());
    let mut theirs = rtp::codecs::vp8::Vp8Payloader::default();
    theirs.enable_picture_id = true;
    use rtp::packetizer::Payloader;
    for _ in 0..200 {
        theirs.payload(MTU, &shared).unwrap();
    }
    let mut ours = Vp8Packetizer::with_picture_id(200);
    let a = ours.packetize_to_vec(&frame, MTU).unwrap();
    let b = theirs.payload(MTU, &shared).unwrap();
    assert_eq!(a.len(), b.len(), "VP8 payload counts differ");
    assert!(a.iter().all(|p| p.len() <= MTU) && b.iter().all(|p| p.len() <= MTU));
    assert_eq!(a[0][..4], b[0][..4], "VP8 descriptors differ");

    let mut g = c.benchmark_group("vp8_packetize_100k");
    g.throughput(Throughput::Bytes(FRAME_LEN as u64));
    g.bench_function("weft", |bn| {
        bn.iter(|| {
            let mut total = 0usize;
            ours.packetize(black_box(&frame), MTU, &mut |p, _| total += p.len())
                .unwrap();
            total
        })
    });
    g.bench_function("weft_to_vec", |bn| {
        bn.iter(|| ours.packetize_to_vec(black_box(&frame), MTU).unwrap())
    });
    g.bench_function("rtp_webrtc-rs", |bn| {
        bn.iter(|| theirs.payload(MTU, black_box(&shared)).unwrap())
    });
    g.finish();

    let au = h264_access_unit();
    let shared = Bytes::from(au.clone());
    let mut ours = H264Packetizer::new(PacketizationMode::NonInterleaved);
    let mut theirs = rtp::codecs::h264::H264Payloader::default();
    let a = ours.packetize_to_vec(&au, MTU).unwrap();
    let b = theirs.payload(MTU, &shared).unwrap();
    // SPS + PPS in a STAP-A, then the slice in FU-A fragments, on both sides.
    assert_eq!(a.len(), b.len(), "H.264 payload counts differ");
    assert_eq!(a[0][0] & 0x1f, 24);
    assert_eq!(b[0][0] & 0x1f, 24);
    assert!(a.iter().all(|p| p.len() <= MTU) && b.iter().all(|p| p.len() <= MTU));

    let mut g = c.benchmark_group("h264_packetize_100k");
    g.throughput(Throughput::Bytes(FRAME_LEN as u64));
    g.bench_function("weft", |bn| {
        bn.iter(|| {
            let mut total = 0usize;
            ours.packetize(black_box(&au), MTU, &mut |p, _| total += p.len())
                .unwrap();
            total
        })
    });
    g.bench_function("weft_to_vec", |bn| {
        bn.iter(|| ours.packetize_to_vec(black_box(&au), MTU).unwrap())
    });
    g.bench_function("rtp_webrtc-rs", |bn| {
        bn.iter(|| theirs.payload(MTU, black_box(&shared)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, rtp_parse_write, rtcp_parse, packetize);
criterion_main!(benches);
