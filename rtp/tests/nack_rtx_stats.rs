//! NACK generator and responder, RTX wrap and unwrap, receiver statistics: layouts, limits,
//! and a seeded lossy loop in which NACK + RTX recover what the link drops.
// `Instant::now()` only as the origin of a virtual clock; time then moves by addition.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use weft_rtp::nack::{NackConfig, NackGenerator, NackResponder, NackResponderConfig, Received};
use weft_rtp::rtcp::{self, RtcpPacket};
use weft_rtp::rtx::{self, RtxSender};
use weft_rtp::stats::ReceiverStats;
use weft_rtp::{write_rtp, Error, RtpHeader, RtpPacket};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn rtp(seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 2000];
    let n = write_rtp(
        &RtpHeader {
            marker: seq.is_multiple_of(3),
            payload_type: 96,
            sequence_number: seq,
            timestamp: ts,
            ssrc,
            csrcs: &[0x1111_2222],
            extensions: &[(1, b"mid"), (3, &[1, 2, 3])],
        },
        payload,
        &mut out,
    )
    .unwrap();
    out.truncate(n);
    out
}

#[test]
fn nack_asks_for_the_gap_retries_and_gives_up() {
    let t0 = Instant::now();
    let mut g = NackGenerator::new(NackConfig {
        max_retries: 3,
        ..NackConfig::default()
    });
    assert_eq!(g.on_packet(1, t0), Received::New);
    assert_eq!(g.on_packet(2, t0), Received::New);
    assert_eq!(g.on_packet(5, t0), Received::New);
    assert_eq!(g.missing().collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(g.poll_nack(t0), Some(vec![3, 4]));
    assert_eq!(g.poll_nack(t0), None);
    assert_eq!(g.poll_timeout(), Some(t0 + Duration::from_millis(100)));
    assert_eq!(g.on_packet(3, t0), Received::Recovered);
    assert_eq!(g.on_packet(3, t0), Received::Old);
    let mut t = t0;
    for _ in 0..2 {
        t += Duration::from_millis(100);
        assert_eq!(g.poll_nack(t), Some(vec![4]));
    }
    assert!(!g.take_keyframe_request());
    t += Duration::from_millis(100);
    // Three NACKs sent: given up.
    assert_eq!(g.poll_nack(t), None);
    assert_eq!(g.poll_timeout(), None);
    assert!(g.take_keyframe_request());
    let s = g.stats();
    assert_eq!(
        (s.missing, s.recovered, s.given_up, s.requested),
        (2, 1, 1, 4)
    );
}

#[test]
fn nack_across_the_wrap_as_rtcp() {
    let t0 = Instant::now();
    let mut g = NackGenerator::new(NackConfig::default());
    g.on_packet(65533, t0);
    g.on_packet(2, t0);
    let mut out = Vec::new();
    assert!(g.write_nack(t0, 0xaaaa, 0xbbbb, &mut out));
    let p: Vec<_> = rtcp::parse_compound(&out).collect();
    let mut lost = match &p[..] {
        [Ok(RtcpPacket::Nack {
            sender: 0xaaaa,
            media: 0xbbbb,
            lost,
        })] => lost.seqs().collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    lost.sort_unstable();
    assert_eq!(lost, vec![0, 1, 65534, 65535]);
    // RFC 4585 §6.2.1: one FCI, PID 65534 and BLP bits 0..=2.
    assert_eq!(&out[12..], &[0xff, 0xfe, 0x00, 0x07]);
}

#[test]
fn nack_rtt_spaces_retries_and_reorder_delay_holds_the_first() {
    let t0 = Instant::now();
    let mut g = NackGenerator::new(NackConfig {
        reorder_delay: Duration::from_millis(5),
        ..NackConfig::default()
    });
    g.set_rtt(Duration::from_millis(40));
    g.on_packet(10, t0);
    g.on_packet(12, t0);
    assert_eq!(g.poll_nack(t0), None);
    assert_eq!(g.poll_timeout(), Some(t0 + Duration::from_millis(5)));
    let t1 = t0 + Duration::from_millis(5);
    assert_eq!(g.poll_nack(t1), Some(vec![11]));
    assert_eq!(g.poll_timeout(), Some(t1 + Duration::from_millis(40)));
    g.set_rtt(Duration::from_millis(1));
    g.on_packet(14, t1);
    // The RTT is below min_retry_interval (10 ms).
    let t2 = t1 + Duration::from_millis(5);
    assert_eq!(g.poll_nack(t2), Some(vec![13]));
    assert_eq!(g.poll_timeout(), Some(t2 + Duration::from_millis(10)));
}

#[test]
fn nack_large_gaps_and_old_holes_are_given_up() {
    let t0 = Instant::now();
    let mut g = NackGenerator::new(NackConfig {
        max_missing: 50,
        max_age: 40,
        max_per_nack: 7,
        ..NackConfig::default()
    });
    g.on_packet(0, t0);
    g.on_packet(60, t0);
    assert_eq!(g.missing().count(), 0);
    assert!(g.take_keyframe_request());
    g.on_packet(70, t0);
    assert_eq!(g.missing().count(), 9);
    // Seven per NACK, then the rest.
    assert_eq!(g.poll_nack(t0).map(|v| v.len()), Some(7));
    assert_eq!(g.poll_nack(t0), Some(vec![68, 69]));
    // 61..=64 fall more than 40 behind.
    g.on_packet(105, t0);
    assert_eq!(g.missing().next(), Some(65));
    assert_eq!(g.missing().count(), 5 + 34);
    assert!(g.take_keyframe_request());
    assert_eq!(g.stats().given_up, 59 + 4);
}

#[test]
fn responder_resends_what_it_holds_once_per_interval() {
    let t0 = Instant::now();
    let mut r = NackResponder::new(NackResponderConfig {
        capacity: 100,
        ..NackResponderConfig::default()
    });
    assert_eq!(r.config().capacity, 128);
    for seq in 0..300u16 {
        r.on_sent(&rtp(seq, 0, 7, &[seq as u8; 20]), t0).unwrap();
    }
    let mut got = Vec::new();
    let n = r.on_nack(&[299, 172, 173, 171, 5], t0, &mut |p| {
        got.push(RtpPacket::parse(p).unwrap().sequence_number())
    });
    // The last 128 are kept: 171 and 5 were overwritten.
    assert_eq!(n, 3);
    assert_eq!(got, vec![299, 172, 173]);
    assert_eq!(
        r.on_nack(&[299], t0 + Duration::from_millis(5), &mut |_| {}),
        0
    );
    assert_eq!(
        r.on_nack(&[299], t0 + Duration::from_millis(10), &mut |_| {}),
        1
    );
    // Too old.
    assert_eq!(
        r.on_nack(&[298], t0 + Duration::from_secs(2), &mut |_| {}),
        0
    );
    let s = r.stats();
    assert_eq!(
        (s.requested, s.resent, s.missing, s.throttled),
        (8, 4, 3, 1)
    );
    assert_eq!(r.on_sent(&[0x80; 11], t0), Err(Error::TooShort));
    assert_eq!(
        r.on_sent(&rtp(1, 0, 7, &[0; 1500]), t0),
        Err(Error::TooLarge)
    );
    // Through RTCP: only NACKs about our SSRC.
    let mut fb = Vec::new();
    rtcp::write_pli(&mut fb, 1, 7);
    rtcp::write_nack(&mut fb, 1, 8, &[250]);
    rtcp::write_nack(&mut fb, 1, 7, &[251, 252]);
    let mut got = Vec::new();
    r.handle_rtcp(&fb, 7, t0, &mut |p| {
        got.push(RtpPacket::parse(p).unwrap().sequence_number())
    });
    assert_eq!(got, vec![251, 252]);
}

#[test]
fn rtx_layout_rfc4588_section_4() {
    let original = [
        0x80 | 0x20 | 0x01, // V=2, P, CC=1
        0x80 | 96,          // M, PT 96
        0x12,
        0x34, // seq 0x1234
        0,
        0,
        0x10,
        0x00, // ts
        0xde,
        0xad,
        0xbe,
        0xef, // ssrc
        0,
        0,
        0,
        9, // csrc
        0xaa,
        0xbb,
        0xcc, // payload
        0,
        2, // padding (2)
    ];
    let p = RtpPacket::parse(&original).unwrap();
    let mut out = [0u8; 64];
    let n = rtx::write_rtx(&p, 97, 0x0102_0304, 7, &mut out).unwrap();
    assert_eq!(
        &out[..n],
        &[
            0x81,
            0x80 | 97,
            0,
            7,
            0,
            0,
            0x10,
            0x00,
            1,
            2,
            3,
            4,
            0,
            0,
            0,
            9, // header, P cleared
            0x12,
            0x34, // OSN
            0xaa,
            0xbb,
            0xcc,
        ]
    );
    let back = RtpPacket::parse(&out[..n]).unwrap();
    assert_eq!(
        rtx::original_seq(&back),
        Some((0x1234, &[0xaa, 0xbb, 0xcc][..]))
    );
    let mut orig = [0u8; 64];
    let m = rtx::read_rtx(&back, 96, 0xdead_beef, &mut orig).unwrap();
    assert_eq!(
        &orig[..m],
        &{
            let mut v = original[..19].to_vec();
            v[0] &= !0x20;
            v
        }[..]
    );
    assert_eq!(
        rtx::write_rtx(&p, 97, 1, 7, &mut out[..20]),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(
        rtx::write_rtx(&p, 128, 1, 7, &mut out),
        Err(Error::BadValue)
    );
    // A padding-only RTX packet (bandwidth probing) has no OSN.
    let probe = [0xa0u8, 97, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 4];
    let probe = RtpPacket::parse(&probe).unwrap();
    assert_eq!(
        rtx::read_rtx(&probe, 96, 1, &mut orig),
        Err(Error::TooShort)
    );
}

#[test]
fn rtx_round_trip_keeps_extensions_csrcs_marker_timestamp() {
    let mut rng = Rng(0x5eed_4588);
    let mut sender = RtxSender {
        payload_type: 97,
        ssrc: 0x5555,
        next_seq: 65535,
    };
    for i in 0..200u16 {
        let payload: Vec<u8> = (0..rng.next() % 1000).map(|_| rng.next() as u8).collect();
        let orig = rtp(i.wrapping_mul(977), rng.next() as u32, 0x4444, &payload);
        let mut wrapped = [0u8; 1600];
        let n = sender.wrap(&orig, &mut wrapped).unwrap();
        let w = RtpPacket::parse(&wrapped[..n]).unwrap();
        assert_eq!(w.sequence_number(), 65535u16.wrapping_add(i));
        assert_eq!(w.ssrc(), 0x5555);
        assert_eq!(w.payload_type(), 97);
        let mut back = [0u8; 1600];
        let m = rtx::read_rtx(&w, 96, 0x4444, &mut back).unwrap();
        assert_eq!(&back[..m], &orig[..]);
    }
}

#[test]
fn nack_and_rtx_recover_a_lossy_link() {
    for seed in 0..5u64 {
        let mut rng = Rng(0x5eed_7000 + seed);
        let t0 = Instant::now();
        let mut history = NackResponder::new(NackResponderConfig::default());
        let mut rtx_out = RtxSender {
            payload_type: 97,
            ssrc: 2,
            next_seq: 0,
        };
        let mut gen = NackGenerator::new(NackConfig::default());
        gen.set_rtt(Duration::from_millis(20));
        let mut received = vec![false; 2000];
        // One packet every 5 ms; the link drops 10% each way; feedback comes back 10 ms
        // later.
        let mut feedback: Vec<(Instant, Vec<u8>)> = Vec::new();
        let mut now = t0;
        for i in 0..2200u32 {
            now += Duration::from_millis(5);
            if i < 2000 {
                let seq = (i as u16).wrapping_add(60000);
                let pkt = rtp(seq, i * 3000, 1, &[i as u8; 100]);
                history.on_sent(&pkt, now).unwrap();
                if !rng.chance(10) {
                    gen.on_packet(seq, now);
                    received[i as usize] = true;
                }
            }
            let mut out = Vec::new();
            while gen.write_nack(now, 9, 1, &mut out) {}
            if !out.is_empty() && !rng.chance(10) {
                feedback.push((now + Duration::from_millis(10), out));
            }
            let due: Vec<Vec<u8>> = feedback
                .iter()
                .filter(|(t, _)| *t <= now)
                .map(|(_, b)| b.clone())
                .collect();
            feedback.retain(|(t, _)| *t > now);
            for fb in due {
                let mut resent = Vec::new();
                history.handle_rtcp(&fb, 1, now, &mut |p| resent.push(p.to_vec()));
                for orig in resent {
                    let mut buf = [0u8; 1600];
                    let n = rtx_out.wrap(&orig, &mut buf).unwrap();
                    if rng.chance(10) {
                        continue;
                    }
                    let w = RtpPacket::parse(&buf[..n]).unwrap();
                    let mut back = [0u8; 1600];
                    let m = rtx::read_rtx(&w, 96, 1, &mut back).unwrap();
                    assert_eq!(&back[..m], &orig[..]);
                    let seq = RtpPacket::parse(&back[..m]).unwrap().sequence_number();
                    assert_eq!(gen.on_packet(seq, now), Received::Recovered);
                    received[usize::from(seq.wrapping_sub(60000))] = true;
                }
            }
        }
        // A loss before the first or after the last packet that arrived cannot be seen.
        let first = received.iter().position(|r| *r).unwrap();
        let last = received.iter().rposition(|r| *r).unwrap();
        let lost = received[first..last].iter().filter(|r| !**r).count();
        assert_eq!(lost, 0, "seed {seed}: {lost} never recovered");
        let s = gen.stats();
        assert_eq!(s.missing, s.recovered, "seed {seed}");
        assert_eq!(s.given_up, 0);
    }
}

#[test]
fn stats_probation_then_counts_from_the_second_packet() {
    let t0 = Instant::now();
    let mut s = ReceiverStats::new(0x1234, 90000);
    assert!(!s.on_packet(100, 0, t0));
    assert_eq!(s.report_block(t0), None);
    assert!(s.on_packet(101, 0, t0));
    let rb = s.report_block(t0).unwrap();
    assert_eq!(rb.ssrc, 0x1234);
    assert_eq!(rb.highest_seq, 101);
    assert_eq!((rb.fraction_lost, rb.cumulative_lost), (0, 0));
    // Out of sequence during probation restarts it.
    let mut s = ReceiverStats::new(1, 90000);
    assert!(!s.on_packet(10, 0, t0));
    assert!(!s.on_packet(20, 0, t0));
    assert!(s.on_packet(21, 0, t0));
    assert_eq!(s.expected(), 1);
}

#[test]
fn stats_loss_fraction_per_interval_and_across_the_wrap() {
    let t0 = Instant::now();
    let mut s = ReceiverStats::new(1, 8000);
    // 65500 .. 65500+200 across the wrap, losing every 10th after the first two.
    let mut sent = 0;
    for i in 0..200u32 {
        let seq = (65500 + i) as u16;
        if i >= 2 && i % 10 == 0 {
            continue;
        }
        s.on_packet(seq, i * 160, t0);
        sent += 1;
    }
    let _ = sent;
    let rb = s.report_block(t0).unwrap();
    // Counting starts at 65501: 199 expected, 19 lost (i = 10, 20, .. 190).
    assert_eq!(s.expected(), 199);
    assert_eq!(rb.cumulative_lost, 19);
    assert_eq!(rb.fraction_lost, (19 * 256 / 199) as u8);
    assert_eq!(rb.highest_seq, (1 << 16) + ((65500 + 199) & 0xffff));
    // Next interval: 100 more, 25 lost.
    for i in 200..300u32 {
        if i % 4 == 0 {
            continue;
        }
        s.on_packet((65500 + i) as u16, i * 160, t0);
    }
    let rb = s.report_block(t0).unwrap();
    assert_eq!(rb.fraction_lost, 64);
    assert_eq!(rb.cumulative_lost, 19 + 25);
    // Duplicates: more received than expected, fraction 0, cumulative goes down.
    for _ in 0..50 {
        s.on_packet((65500 + 299u32) as u16, 0, t0);
    }
    let rb = s.report_block(t0).unwrap();
    assert_eq!(rb.fraction_lost, 0);
    assert_eq!(rb.cumulative_lost, 44 - 50);
}

#[test]
fn stats_large_jump_is_a_restart_only_when_confirmed() {
    let t0 = Instant::now();
    let mut s = ReceiverStats::new(1, 8000);
    for seq in 0..10u16 {
        s.on_packet(seq, 0, t0);
    }
    assert!(!s.on_packet(20000, 0, t0));
    assert_eq!(s.extended_highest(), 9);
    assert!(s.on_packet(10, 0, t0));
    assert!(!s.on_packet(30000, 0, t0));
    assert!(s.on_packet(30001, 0, t0));
    assert_eq!(s.extended_highest(), 30001);
    assert_eq!(s.expected(), 1);
}

#[test]
fn stats_jitter_rfc3550_a8() {
    let t0 = Instant::now();
    // 8 kHz, 20 ms frames (160 ticks); arrivals alternate 0 and 10 ms (80 ticks) late.
    let mut s = ReceiverStats::new(1, 8000);
    for i in 0..400u32 {
        let late = if i % 2 == 0 { 0 } else { 10 };
        let at = t0 + Duration::from_millis(u64::from(20 * i + late));
        s.on_packet(i as u16, 1000 + 160 * i, at);
    }
    // J converges on |D| = 80.
    assert!((78..=80).contains(&s.jitter()), "jitter {}", s.jitter());
    // Constant delay: no jitter.
    let mut s = ReceiverStats::new(1, 90000);
    for i in 0..100u32 {
        let at = t0 + Duration::from_millis(u64::from(33 * i) + 50);
        s.on_packet(i as u16, 90 * 33 * i, at);
    }
    assert_eq!(s.jitter(), 0);
    // The first packet is in probation; from the next two, |D| = 16 ticks and J = 16/16.
    let mut s = ReceiverStats::new(1, 1000);
    s.on_packet(0, 0, t0);
    s.on_packet(1, 10, t0 + Duration::from_millis(10));
    s.on_packet(2, 20, t0 + Duration::from_millis(36));
    // |D| = 16 ticks: J = 16/16 = 1.
    assert_eq!(s.jitter(), 1);
}

#[test]
fn stats_lsr_dlsr_and_receiver_report_bytes() {
    let t0 = Instant::now();
    let mut s = ReceiverStats::new(0xcafe, 90000);
    s.on_packet(1, 0, t0);
    s.on_packet(2, 0, t0);
    s.on_sender_report(0x0123_4567_89ab_cdef, t0);
    let rb = s.report_block(t0 + Duration::from_millis(1500)).unwrap();
    assert_eq!(rb.lsr, 0x4567_89ab);
    assert_eq!(rb.dlsr, 98304);
    let mut out = Vec::new();
    rtcp::write_receiver_report(&mut out, 0xbeef, &[rb]);
    let back: Vec<_> = rtcp::parse_compound(&out).collect();
    let [Ok(RtcpPacket::ReceiverReport {
        ssrc: 0xbeef,
        reports,
    })] = &back[..]
    else {
        panic!("{back:?}")
    };
    assert_eq!(reports.iter().collect::<Vec<_>>(), vec![rb]);
}
