//! Fuzz harness bodies for `fuzz/fuzz_targets/rtp_parse.rs`, `rtcp_parse.rs`,
//! `rtp_sample_builder.rs` and `fuzz/fuzz_targets/rtp_depacketize.rs` (feature `fuzzing`).

use crate::codec::{self, av1, g711, g722, h264, h265, opus, vp8, vp9, Depacketizer, Packetizer};
use crate::ext::ExtensionMap;
use crate::{rtcp, write_rtp, RtpHeader, RtpPacket};

/// Any bytes as RTP (with every extension read and a rewrite of what parses, which must
/// parse back to the same fields) and as an RTCP compound: never a panic.
pub fn parse(data: &[u8]) {
    if let Ok(p) = RtpPacket::parse(data) {
        let _ = p.csrcs().count();
        let map = ExtensionMap::from_extmap((1..=14).map(|i| (i, crate::ext::uri::SDES_MID)));
        if let Some(exts) = p.extensions() {
            let _ = map.read(&exts);
            let elems: Vec<(u8, &[u8])> = exts.clone().filter_map(Result::ok).collect();
            let csrcs: Vec<u32> = p.csrcs().collect();
            let h = RtpHeader {
                marker: p.marker(),
                payload_type: p.payload_type(),
                sequence_number: p.sequence_number(),
                timestamp: p.timestamp(),
                ssrc: p.ssrc(),
                csrcs: &csrcs,
                extensions: &elems,
            };
            let mut out = vec![0u8; data.len() + 4 * elems.len() + 64];
            if let Ok(n) = write_rtp(&h, p.payload(), &mut out) {
                let q = RtpPacket::parse(out.get(..n).unwrap_or_default());
                assert!(q.is_ok_and(|q| q.payload() == p.payload() && q.ssrc() == p.ssrc()));
            }
        }
    }
    rtcp_compound(data);
}

/// Any bytes as an RTCP compound: every packet's view read whole; REMB, transport-wide
/// feedback, SDES, BYE, APP and XR (RRTR and DLRR) rebuilt from what was read, which must
/// read back the same.
fn rtcp_compound(data: &[u8]) {
    for r in rtcp::parse_compound(data) {
        match r {
            Ok(rtcp::RtcpPacket::TransportCc(fb)) => {
                let statuses: Vec<rtcp::PacketStatus> = fb.packets().map(|(_, s)| s).collect();
                assert_eq!(statuses.len(), usize::from(fb.status_count));
                let _ = fb.arrivals().count();
                let mut out = Vec::new();
                let wrote = rtcp::write_transport_cc(
                    &mut out,
                    fb.sender,
                    fb.media,
                    fb.base_seq,
                    fb.reference_time,
                    fb.fb_count,
                    &statuses,
                );
                assert!(wrote.is_ok());
                let again = rtcp::parse_compound(&out).next();
                assert!(
                    matches!(again, Some(Ok(rtcp::RtcpPacket::TransportCc(g)))
                        if (g.sender, g.media, g.base_seq, g.reference_time, g.fb_count)
                            == (fb.sender, fb.media, fb.base_seq, fb.reference_time, fb.fb_count)
                            && g.packets().eq(fb.packets())),
                    "rebuilt feedback reads back otherwise: {again:?}"
                );
            }
            Ok(rtcp::RtcpPacket::Remb {
                sender,
                bitrate,
                ssrcs,
            }) => {
                let mut out = Vec::new();
                let list: Vec<u32> = ssrcs.iter().collect();
                assert!(rtcp::write_remb(&mut out, sender, bitrate, &list).is_ok());
                let again = rtcp::parse_compound(&out).next();
                // The bitrate comes back exact unless the view saturated an exponent past 64
                // bits.
                assert!(
                    matches!(again, Some(Ok(rtcp::RtcpPacket::Remb {
                        sender: s2,
                        bitrate: b2,
                        ssrcs: ref l2,
                    })) if s2 == sender && l2 == &ssrcs
                        && (b2 == bitrate || (bitrate == u64::MAX && b2 <= bitrate))),
                    "rebuilt REMB reads back otherwise: {again:?}"
                );
            }
            Ok(rtcp::RtcpPacket::SourceDescription(chunks)) => {
                let read: Vec<(u32, Vec<rtcp::SdesItem<'_>>)> = chunks
                    .iter()
                    .map(|c| (c.ssrc, c.items.iter().collect()))
                    .collect();
                let list: Vec<rtcp::SdesChunkIn<'_>> =
                    read.iter().map(|(s, i)| (*s, &i[..])).collect();
                let mut out = Vec::new();
                assert!(rtcp::write_sdes(&mut out, &list).is_ok());
                let again = rtcp::parse_compound(&out).next();
                assert!(
                    matches!(again, Some(Ok(rtcp::RtcpPacket::SourceDescription(ref g)))
                        if g.iter().map(|c| (c.ssrc, c.items.iter().collect::<Vec<_>>()))
                            .eq(read.iter().cloned())),
                    "rebuilt SDES reads back otherwise: {again:?}"
                );
            }
            Ok(rtcp::RtcpPacket::Bye { sources, reason }) => {
                let list: Vec<u32> = sources.iter().collect();
                let mut out = Vec::new();
                assert!(rtcp::write_bye(&mut out, &list, reason).is_ok());
                let again = rtcp::parse_compound(&out).next();
                assert!(
                    matches!(again, Some(Ok(rtcp::RtcpPacket::Bye { sources: ref s2, reason: r2 }))
                        if s2.iter().eq(list.iter().copied()) && r2 == reason),
                    "rebuilt BYE reads back otherwise: {again:?}"
                );
            }
            Ok(
                p @ rtcp::RtcpPacket::App {
                    subtype,
                    ssrc,
                    name,
                    data,
                },
            ) if data.len().is_multiple_of(4) => {
                let mut out = Vec::new();
                assert!(rtcp::write_app(&mut out, subtype, ssrc, name, data).is_ok());
                let again = rtcp::parse_compound(&out).next();
                assert_eq!(again, Some(Ok(p)));
            }
            Ok(rtcp::RtcpPacket::ExtendedReport { ssrc, blocks }) => {
                let typed: Vec<rtcp::XrBlock<'_>> = blocks.typed().collect();
                let (rrtr, dlrr) = match typed[..] {
                    [rtcp::XrBlock::ReceiverReferenceTime(t)] => (Some(t), None),
                    [rtcp::XrBlock::Dlrr(d)] if !d.is_empty() => (None, Some(d)),
                    [rtcp::XrBlock::ReceiverReferenceTime(t), rtcp::XrBlock::Dlrr(d)]
                        if !d.is_empty() =>
                    {
                        (Some(t), Some(d))
                    }
                    _ => continue,
                };
                let items: Vec<rtcp::DlrrItem> =
                    dlrr.map(|d| d.iter().collect()).unwrap_or_default();
                let mut out = Vec::new();
                assert!(rtcp::write_xr(&mut out, ssrc, rrtr, &items).is_ok());
                let again = rtcp::parse_compound(&out).next();
                assert!(
                    matches!(again, Some(Ok(rtcp::RtcpPacket::ExtendedReport { ssrc: s2, blocks: ref b2 }))
                        if s2 == ssrc && b2.typed().eq(typed.iter().copied())),
                    "rebuilt XR reads back otherwise: {again:?}"
                );
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
}

/// Fuzz target `rtcp_parse`: any bytes as an RTCP compound (see [`parse`]), and as a
/// transport-wide-cc receive history for [`crate::twcc::TwccRecorder`]: records of three
/// octets, the first two a sequence number step (or, when the third's low bit is set, an
/// absolute sequence number), the third a time step in 250 µs units (its top bit asks for
/// feedback). Every feedback built parses back, fits `max_feedback_len` and reports at least
/// one packet; polling until `false` leaves nothing unreported.
///
/// `start` is the origin of the recorder's virtual clock: the caller reads it, this crate
/// never does.
pub fn rtcp_parse(start: std::time::Instant, data: &[u8]) {
    rtcp_compound(data);
    twcc_recorder(start, data);
}

fn twcc_recorder(start: std::time::Instant, data: &[u8]) {
    use crate::twcc::{TwccRecorder, TwccRecorderConfig};
    let Some((&cfg, data)) = data.split_first() else {
        return;
    };
    let max_len = 32 + usize::from(cfg) * 8;
    let mut r = TwccRecorder::new(TwccRecorderConfig {
        max_feedback_len: max_len,
        window: 64 + usize::from(cfg & 0x3f) * 16,
        keep_reported: usize::from(cfg & 0x0f) * 8,
    });
    // A virtual clock from the caller's origin; it only moves by addition.
    let mut now = start;
    let mut seq = 0u16;
    let mut out = Vec::new();
    for rec in data.chunks_exact(3) {
        let v = u16::from_be_bytes([rec[0], rec[1]]);
        seq = if rec[2] & 1 != 0 {
            v
        } else {
            seq.wrapping_add(v % 16)
        };
        now += std::time::Duration::from_micros(250 * u64::from(rec[2] & 0x7f));
        r.handle_packet(seq, now);
        if rec[2] & 0x80 != 0 {
            let mut n = 0;
            while r.poll_feedback(1, 2, &mut out) {
                assert!(out.len() <= max_len);
                let fb = rtcp::parse_compound(&out).next();
                assert!(
                    matches!(fb, Some(Ok(rtcp::RtcpPacket::TransportCc(ref f))) if f.status_count > 0),
                    "{fb:?}"
                );
                out.clear();
                n += 1;
                assert!(n <= 65_536);
            }
            assert!(!r.has_feedback());
        }
    }
}

/// Splits fuzz input into `(payload, marker)` pairs: each payload is preceded by one octet,
/// its length in the low seven bits and the marker in the high bit.
fn payloads(mut data: &[u8]) -> impl Iterator<Item = (&[u8], bool)> {
    std::iter::from_fn(move || {
        let (&l, rest) = data.split_first()?;
        let len = usize::from(l & 0x7f).min(rest.len());
        let (p, rest) = rest.split_at(len);
        data = rest;
        Some((p, l & 0x80 != 0))
    })
}

/// Feeds `data` as a payload sequence to `d`; every frame it emits goes through `check`.
fn feed(d: &mut dyn Depacketizer, data: &[u8], check: &mut dyn FnMut(&[u8])) {
    for (p, marker) in payloads(data) {
        if let Ok(Some(frame)) = d.push(p, marker) {
            assert!(!frame.is_empty());
            check(&frame);
        }
    }
}

/// Arbitrary payload sequences into the VP8 depacketizer, and `is_keyframe` on each:
/// never a panic, never an empty frame.
pub fn depacketize_vp8(data: &[u8]) {
    for (p, _) in payloads(data) {
        let _ = vp8::is_keyframe(p);
    }
    feed(&mut vp8::Vp8Depacketizer::default(), data, &mut |_| {});
}

/// Arbitrary payload sequences into the VP9 depacketizer, and descriptor parse → emit →
/// parse on each payload: never a panic, never an empty frame, descriptors round-trip.
pub fn depacketize_vp9(data: &[u8]) {
    for (p, _) in payloads(data) {
        let _ = vp9::is_keyframe(p);
        if let Ok((d, n)) = vp9::Vp9Descriptor::parse(p) {
            let mut out = Vec::new();
            d.emit(&mut out);
            // Reserved and inapplicable bits are dropped, so compare values, not bytes.
            assert_eq!(vp9::Vp9Descriptor::parse(&out), Ok((d.clone(), out.len())));
            assert!(out.len() <= n);
        }
    }
    feed(&mut vp9::Vp9Depacketizer::default(), data, &mut |_| {});
}

/// Arbitrary payload sequences into the H.264 depacketizer: every access unit it emits is
/// Annex-B whose NAL units have valid headers, and packetizes again (mode 1, MTU 100).
pub fn depacketize_h264(data: &[u8]) {
    for (p, _) in payloads(data) {
        let _ = h264::is_keyframe(p);
    }
    feed(&mut h264::H264Depacketizer::default(), data, &mut |au| {
        let mut units = 0;
        for nal in h264::AnnexB::new(au) {
            units += 1;
            assert!(nal
                .first()
                .is_some_and(|h| h & 0x80 == 0 && (1..=23).contains(&(h & 0x1f))));
        }
        assert!(units > 0);
        // A NAL unit may end in zero octets the Annex-B reading trims, so only check that
        // packetizing it again succeeds.
        let mut p = h264::H264Packetizer::default();
        assert!(p
            .packetize(au, 100, &mut |b, _| assert!(b.len() <= 100))
            .is_ok());
    });
}

/// Arbitrary payload sequences into the H.265 depacketizer: every access unit it emits is
/// Annex-B whose NAL units have valid headers, and packetizes again (MTU 100).
pub fn depacketize_h265(data: &[u8]) {
    for (p, _) in payloads(data) {
        let _ = h265::is_keyframe(p);
        let _ = h265::starts_access_unit(p);
    }
    feed(&mut h265::H265Depacketizer::default(), data, &mut |au| {
        let mut units = 0;
        for nal in h264::AnnexB::new(au) {
            units += 1;
            assert!(matches!(nal, [h0, h1, ..] if h0 & 0x80 == 0 && (h0 >> 1) < 48 && h1 & 7 != 0));
        }
        assert!(units > 0);
        let mut p = h265::H265Packetizer::default();
        assert!(p
            .packetize(au, 100, &mut |b, _| assert!(b.len() <= 100))
            .is_ok());
    });
}

/// Arbitrary payload sequences into the AV1 depacketizer: every temporal unit it emits is
/// a temporal delimiter and OBUs with sizes, and packetizes again (MTU 100).
pub fn depacketize_av1(data: &[u8]) {
    for (p, _) in payloads(data) {
        let _ = av1::is_keyframe(p);
    }
    feed(&mut av1::Av1Depacketizer::default(), data, &mut |tu| {
        assert!(tu.starts_with(&[0x12, 0x00]));
        let mut p = av1::Av1Packetizer::default();
        let mut d = av1::Av1Depacketizer::default();
        let mut back = None;
        assert!(p
            .packetize(tu, 100, &mut |b, m| {
                assert!(b.len() <= 100);
                back = d.push(b, m).ok().flatten();
            })
            .is_ok());
        assert_eq!(back.as_deref(), Some(tu));
    });
}

/// Arbitrary payload sequences into the audio depacketizers: each non-empty payload is its
/// own frame, unchanged.
pub fn depacketize_audio(data: &[u8]) {
    let mut d = opus::OpusDepacketizer;
    let mut g711 = g711::G711Depacketizer;
    let mut g722 = g722::G722Depacketizer;
    for (p, marker) in payloads(data) {
        for d in [&mut d as &mut dyn Depacketizer, &mut g711, &mut g722] {
            match d.push(p, marker) {
                Ok(Some(f)) => assert_eq!(f, p),
                Ok(None) => unreachable!("audio payloads are whole frames"),
                Err(e) => assert!(p.is_empty() && e == codec::Error::Empty),
            }
        }
    }
}

/// `data` as a frame (after two octets choosing the MTU) through each video packetizer and
/// back: every payload within the MTU, the frame unchanged (H.264: `data` as NAL unit bodies
/// after start codes, compared after the depacketizer's four-octet start codes).
pub fn packetize_round_trip(data: &[u8]) {
    let [a, b, frame @ ..] = data else {
        return;
    };
    let mtu = 8 + usize::from(u16::from_be_bytes([*a, *b]) % 1400);
    let run = |p: &mut dyn Packetizer, d: &mut dyn Depacketizer, frame: &[u8]| {
        let mut out = Ok(None);
        let r = p.packetize(frame, mtu, &mut |b, m| {
            assert!(b.len() <= mtu);
            if out.as_ref().is_ok_and(Option::is_none) {
                out = d.push(b, m);
            }
        });
        r.map(|()| out)
    };
    if !frame.is_empty() {
        let got = run(
            &mut vp8::Vp8Packetizer::with_picture_id(1),
            &mut vp8::Vp8Depacketizer::default(),
            frame,
        );
        assert_eq!(got, Ok(Ok(Some(frame.to_vec()))));
    }
    if !frame.is_empty() {
        let mut p = vp9::Vp9Packetizer::with_picture_id(1);
        p.template.flexible = a & 1 != 0;
        p.template.layer = Some(vp9::Vp9Layer::default());
        let got = run(&mut p, &mut vp9::Vp9Depacketizer::default(), frame);
        assert_eq!(got, Ok(Ok(Some(frame.to_vec()))));
    }
    let got = run(
        &mut h264::H264Packetizer::default(),
        &mut h264::H264Depacketizer::default(),
        frame,
    );
    if let Ok(au) = got {
        let au = au.ok().flatten().unwrap_or_default();
        let sent: Vec<&[u8]> = h264::AnnexB::new(frame).collect();
        let back: Vec<&[u8]> = h264::AnnexB::new(&au).collect();
        assert_eq!(sent, back);
    }
    let got = run(
        &mut h265::H265Packetizer::default(),
        &mut h265::H265Depacketizer::default(),
        frame,
    );
    if let Ok(au) = got {
        let au = au.ok().flatten().unwrap_or_default();
        let sent: Vec<&[u8]> = h264::AnnexB::new(frame).collect();
        let back: Vec<&[u8]> = h264::AnnexB::new(&au).collect();
        assert_eq!(sent, back);
    }
}

/// The sample builder fed packets in a fuzzer-chosen order. The first octet picks the mode:
///
/// - even: frames cut from `data` go through the VP8 packetizer; the packets then arrive
///   shuffled (each within 32 places), some lost, some duplicated, with fuzzer-chosen clock
///   steps. Every sample must be exactly the frame sent with its timestamp, once each, in
///   order of sending.
/// - odd: arbitrary packets (sequence number, timestamp, marker, payload from `data`) into an
///   H.264 builder with small limits: never a panic, memory within the limits, no empty
///   sample.
///
/// `t0` is the origin of the virtual clock: the caller reads it, this crate never does.
pub fn sample_builder(t0: std::time::Instant, data: &[u8]) {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        sample_builder_vp8_oracle(data, t0);
    } else {
        sample_builder_hostile(data, t0);
    }
}

fn sample_builder_vp8_oracle(data: &[u8], t0: std::time::Instant) {
    use crate::sample::{SampleBuilder, SampleBuilderConfig};
    use std::time::Duration;

    let [a, b, c, d, rest @ ..] = data else {
        return;
    };
    let mtu = 20 + usize::from(*a);
    let seq0 = u16::from_be_bytes([*b, *c]);
    let frame_count = 1 + usize::from(*d % 16);
    // Frames: equal slices of the first half of `rest`; the second half drives the order.
    let (media, script) = rest.split_at(rest.len() / 2);
    let size = (media.len() / frame_count).max(1);
    let frames: Vec<&[u8]> = media.chunks(size).take(frame_count).collect();
    let mut packets: Vec<(u16, u32, bool, Vec<u8>)> = Vec::new();
    let mut p = vp8::Vp8Packetizer::with_picture_id(seq0);
    let mut seq = seq0;
    for (i, f) in frames.iter().enumerate() {
        let ts = (i as u32).wrapping_mul(3000);
        let r = p.packetize(f, mtu, &mut |b, m| {
            packets.push((seq, ts, m, b.to_vec()));
            seq = seq.wrapping_add(1);
        });
        assert!(r.is_ok());
    }
    // Each script octet: the low five bits move the packet later, bit 5 loses it, bit 6
    // sends it twice, bit 7 advances the clock by 60 ms; missing octets keep the order.
    let mut order: Vec<(usize, usize, u8)> = packets
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let op = script.get(i).copied().unwrap_or(0);
            (i + usize::from(op & 0x1f), i, op)
        })
        .collect();
    order.sort_unstable();
    let config = SampleBuilderConfig {
        keyframe_required: false,
        max_packets: 64,
        ..SampleBuilderConfig::default()
    };
    let mut builder = SampleBuilder::new(vp8::Vp8Depacketizer::default(), config);
    let mut now = t0;
    let mut next_frame = 0usize;
    let mut check = |s: crate::sample::Sample| {
        let i = (s.timestamp / 3000) as usize;
        assert!(i >= next_frame, "frame {i} out of order or twice");
        assert_eq!(frames.get(i).copied(), Some(s.data.as_slice()));
        next_frame = i + 1;
    };
    for (_, i, op) in order {
        let Some((seq, ts, m, payload)) = packets.get(i) else {
            continue;
        };
        if op & 0x80 != 0 {
            now += Duration::from_millis(60);
        }
        if op & 0x20 != 0 {
            continue;
        }
        for _ in 0..1 + usize::from(op & 0x40 != 0) {
            builder.push(*seq, *ts, *m, payload, now);
        }
        while let Some(s) = builder.poll_sample(now) {
            check(s);
        }
        assert!(builder.packets_held() <= 64);
    }
    now += Duration::from_secs(1);
    while let Some(s) = builder.poll_sample(now) {
        check(s);
    }
    assert_eq!(builder.packets_held(), 0);
}

fn sample_builder_hostile(data: &[u8], t0: std::time::Instant) {
    use crate::sample::{SampleBuilder, SampleBuilderConfig};
    use std::time::Duration;

    let config = SampleBuilderConfig {
        max_packets: 32,
        max_bytes: 4000,
        max_frame_bytes: 3000,
        ..SampleBuilderConfig::default()
    };
    let mut builder = SampleBuilder::new(h264::H264Depacketizer::default(), config);
    let mut now = t0;
    let mut rest = data;
    // Each packet: seq (2), timestamp choice and marker (1), clock step (1), length (1),
    // payload.
    while let [s0, s1, t, step, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        now += Duration::from_millis(u64::from(*step));
        let ts = u32::from(t & 0x7f) * 3000;
        builder.push(
            u16::from_be_bytes([*s0, *s1]),
            ts,
            t & 0x80 != 0,
            payload,
            now,
        );
        while let Some(s) = builder.poll_sample(now) {
            assert!(!s.data.is_empty());
        }
        assert!(builder.packets_held() <= 32);
        assert!(builder.bytes_held() <= 4000);
    }
}
