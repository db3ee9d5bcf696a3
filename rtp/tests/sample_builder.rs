//! The sample builder and the jitter buffer: reordering, loss, duplicates, key frames, bounded
//! memory, the sequence-number wrap, playout times. Seeded; a failure names its seed.
// `Instant::now()` only as the origin of a virtual clock; time then moves by addition.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use weft_rtp::codec::h264::{AnnexB, H264Depacketizer, H264Packetizer};
use weft_rtp::codec::opus::OpusDepacketizer;
use weft_rtp::codec::vp8::{Vp8Depacketizer, Vp8Packetizer};
use weft_rtp::codec::Packetizer;
use weft_rtp::jitter::{JitterBuffer, JitterBufferConfig};
use weft_rtp::sample::{Push, Sample, SampleBuilder, SampleBuilderConfig};

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
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Debug, Clone)]
struct Pkt {
    seq: u16,
    ts: u32,
    marker: bool,
    payload: Vec<u8>,
    frame: usize,
}

/// A VP8 frame: the first octet is the VP8 payload header, whose P bit (0x01) is 0 on key
/// frames (RFC 7741 §4.3).
fn vp8_frame(rng: &mut Rng, key: bool, max: usize) -> Vec<u8> {
    let len = rng.range(1, max);
    let mut f: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    f[0] = if key { f[0] & !1 } else { f[0] | 1 };
    f
}

/// Packetizes `frames` with consecutive sequence numbers from `seq0` and a 3000-tick
/// timestamp step.
fn packetize(
    p: &mut dyn Packetizer,
    frames: &[Vec<u8>],
    mtu: usize,
    seq0: u16,
    ts0: u32,
) -> Vec<Pkt> {
    let mut out = Vec::new();
    let mut seq = seq0;
    for (i, f) in frames.iter().enumerate() {
        let ts = ts0.wrapping_add(3000 * i as u32);
        p.packetize(f, mtu, &mut |b, m| {
            out.push(Pkt {
                seq,
                ts,
                marker: m,
                payload: b.to_vec(),
                frame: i,
            });
            seq = seq.wrapping_add(1);
        })
        .unwrap();
    }
    out
}

/// Reorders packets: each is sorted by its index plus a random 0..=`max_shift`, so no packet
/// moves more than `max_shift` places.
fn reorder(rng: &mut Rng, pkts: &mut [Pkt], max_shift: usize) {
    let mut keyed: Vec<(usize, Pkt)> = pkts
        .iter()
        .enumerate()
        .map(|(i, p)| (i + rng.range(0, max_shift), p.clone()))
        .collect();
    keyed.sort_by_key(|(k, _)| *k);
    for (slot, (_, p)) in pkts.iter_mut().zip(keyed) {
        *slot = p;
    }
}

fn run<D: weft_rtp::codec::Depacketizer>(
    b: &mut SampleBuilder<D>,
    pkts: &[Pkt],
    t0: Instant,
    step: Duration,
) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut now = t0;
    for p in pkts {
        now += step;
        b.push(p.seq, p.ts, p.marker, &p.payload, now);
        while let Some(s) = b.poll_sample(now) {
            out.push(s);
        }
    }
    // Let every wait run out.
    now += Duration::from_secs(10);
    while let Some(s) = b.poll_sample(now) {
        out.push(s);
    }
    out
}

fn no_keyframe_rule() -> SampleBuilderConfig {
    SampleBuilderConfig {
        keyframe_required: false,
        ..SampleBuilderConfig::default()
    }
}

#[test]
fn vp8_in_order_frames_come_out_whole() {
    let mut rng = Rng(0x5eed_5001);
    let frames: Vec<Vec<u8>> = (0..50).map(|i| vp8_frame(&mut rng, i == 0, 5000)).collect();
    let pkts = packetize(&mut Vp8Packetizer::with_picture_id(7), &frames, 300, 100, 0);
    let mut b = SampleBuilder::new(Vp8Depacketizer::default(), SampleBuilderConfig::default());
    let t0 = Instant::now();
    let out = run(&mut b, &pkts, t0, Duration::from_millis(1));
    assert_eq!(out.len(), frames.len());
    for (i, s) in out.iter().enumerate() {
        assert!(s.data == frames[i], "frame {i}");
        assert_eq!(s.timestamp, 3000 * i as u32);
        assert_eq!(s.keyframe, i == 0);
        assert!(!s.discontinuity);
    }
    assert_eq!(out[0].first_seq, 100);
    assert_eq!(b.packets_held(), 0);
    assert_eq!(b.bytes_held(), 0);
    assert_eq!(b.stats().samples, 50);
}

#[test]
fn vp8_reordered_packets_across_the_seq_wrap_come_out_in_order() {
    for seed in 0..40u64 {
        let mut rng = Rng(0x5eed_5100 + seed);
        let frames: Vec<Vec<u8>> = (0..60).map(|i| vp8_frame(&mut rng, i == 0, 3000)).collect();
        let mtu = rng.range(50, 1200);
        let mut pkts = packetize(
            &mut Vp8Packetizer::with_picture_id(1),
            &frames,
            mtu,
            65500,
            u32::MAX - 10_000,
        );
        // The first packet stays first: the builder cannot know about earlier ones it has
        // already given up.
        reorder(&mut rng, &mut pkts[1..], 12);
        let mut b = SampleBuilder::new(Vp8Depacketizer::default(), SampleBuilderConfig::default());
        let out = run(&mut b, &pkts, Instant::now(), Duration::from_micros(100));
        assert_eq!(out.len(), frames.len(), "seed {seed}");
        for (i, s) in out.iter().enumerate() {
            assert!(s.data == frames[i], "seed {seed}: frame {i} differs");
        }
        assert_eq!(b.stats().lost_packets, 0, "seed {seed}");
    }
}

#[test]
fn vp8_loss_drops_exactly_the_frames_that_lost_packets() {
    for seed in 0..40u64 {
        let mut rng = Rng(0x5eed_5200 + seed);
        let frames: Vec<Vec<u8>> = (0..80).map(|i| vp8_frame(&mut rng, i == 0, 4000)).collect();
        let mtu = rng.range(80, 1200);
        let all = packetize(
            &mut Vp8Packetizer::with_picture_id(1),
            &frames,
            mtu,
            rng.next() as u16,
            rng.next() as u32,
        );
        // Never lose the first packet: then nothing marks the start of the stream.
        let mut pkts: Vec<Pkt> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| *i == 0 || !rng.chance(5))
            .map(|(_, p)| p.clone())
            .collect();
        let mut damaged = vec![false; frames.len()];
        let mut kept = vec![0usize; frames.len()];
        for p in &pkts {
            kept[p.frame] += 1;
        }
        for p in &all {
            damaged[p.frame] |= kept[p.frame] != all.iter().filter(|q| q.frame == p.frame).count();
        }
        if pkts.len() > 2 {
            reorder(&mut rng, &mut pkts[1..], 6);
        }
        let mut b = SampleBuilder::new(Vp8Depacketizer::default(), no_keyframe_rule());
        let out = run(&mut b, &pkts, Instant::now(), Duration::from_millis(1));
        let want: Vec<usize> = (0..frames.len()).filter(|&i| !damaged[i]).collect();
        let got: Vec<usize> = out
            .iter()
            .map(|s| {
                let i = (s.timestamp.wrapping_sub(all[0].ts) / 3000) as usize;
                assert!(s.data == frames[i], "seed {seed}: frame {i} corrupt");
                i
            })
            .collect();
        assert_eq!(got, want, "seed {seed}");
        for (k, s) in out.iter().enumerate().skip(1) {
            let prev = (out[k - 1].timestamp.wrapping_sub(all[0].ts) / 3000) as usize;
            let cur = (s.timestamp.wrapping_sub(all[0].ts) / 3000) as usize;
            assert_eq!(s.discontinuity, cur != prev + 1, "seed {seed} frame {cur}");
        }
    }
}

#[test]
fn keyframe_rule_waits_for_the_first_key_frame_and_again_after_a_loss() {
    let mut rng = Rng(0x5eed_5300);
    // Key frames at 3 and 10.
    let frames: Vec<Vec<u8>> = (0..15)
        .map(|i| vp8_frame(&mut rng, i == 3 || i == 10, 2000))
        .collect();
    let pkts = packetize(&mut Vp8Packetizer::default(), &frames, 500, 0, 0);
    // Lose one packet of frame 6.
    let lost = pkts.iter().position(|p| p.frame == 6).unwrap();
    let mut b = SampleBuilder::new(Vp8Depacketizer::default(), SampleBuilderConfig::default());
    let t0 = Instant::now();
    let mut now = t0;
    let mut got = Vec::new();
    let mut asked = false;
    for (i, p) in pkts.iter().enumerate() {
        if i == lost {
            continue;
        }
        now += Duration::from_millis(30);
        b.push(p.seq, p.ts, p.marker, &p.payload, now);
        while let Some(s) = b.poll_sample(now) {
            got.push((s.timestamp / 3000) as usize);
        }
        asked |= p.frame > 6 && p.frame < 10 && b.needs_keyframe();
    }
    assert_eq!(got, vec![3, 4, 5, 10, 11, 12, 13, 14]);
    assert!(asked, "needs_keyframe after the loss");
    assert!(!b.needs_keyframe());
    assert_eq!(b.stats().non_key_frames, 3 + 3);
}

#[test]
fn padding_only_packets_between_frames_are_skipped() {
    let mut rng = Rng(0x5eed_5400);
    let frames: Vec<Vec<u8>> = (0..4).map(|_| vp8_frame(&mut rng, true, 900)).collect();
    let mut pkts = packetize(&mut Vp8Packetizer::default(), &frames, 300, 10, 0);
    // A padding packet after each frame, with the frame's timestamp; later seqs shift.
    let mut with_pad = Vec::new();
    let mut seq = 10u16;
    for p in pkts.drain(..) {
        let marker = p.marker;
        let ts = p.ts;
        with_pad.push(Pkt { seq, ..p });
        seq += 1;
        if marker {
            with_pad.push(Pkt {
                seq,
                ts,
                marker: false,
                payload: Vec::new(),
                frame: 0,
            });
            seq += 1;
        }
    }
    let mut b = SampleBuilder::new(Vp8Depacketizer::default(), SampleBuilderConfig::default());
    let out = run(&mut b, &with_pad, Instant::now(), Duration::from_millis(1));
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|s| !s.discontinuity));
    assert_eq!(b.stats().lost_packets, 0);
}

#[test]
fn duplicates_and_late_packets_are_refused() {
    let mut rng = Rng(0x5eed_5500);
    let frames: Vec<Vec<u8>> = (0..3).map(|_| vp8_frame(&mut rng, true, 500)).collect();
    let pkts = packetize(&mut Vp8Packetizer::default(), &frames, 1200, 1000, 0);
    assert_eq!(pkts.len(), 3);
    let mut b = SampleBuilder::new(Vp8Depacketizer::default(), SampleBuilderConfig::default());
    let now = Instant::now();
    let p = &pkts[0];
    assert_eq!(
        b.push(p.seq, p.ts, p.marker, &p.payload, now),
        Push::Accepted
    );
    assert!(b.poll_sample(now).is_some());
    // Already emitted: late now, not a second copy of the frame.
    assert_eq!(b.push(p.seq, p.ts, p.marker, &p.payload, now), Push::Late);
    let q = &pkts[2];
    assert_eq!(
        b.push(q.seq, q.ts, q.marker, &q.payload, now),
        Push::Accepted
    );
    assert_eq!(
        b.push(q.seq, q.ts, q.marker, &q.payload, now),
        Push::Duplicate
    );
    // Frame 2 waits behind the missing frame 1 ...
    assert!(b.poll_sample(now).is_none());
    assert_eq!(
        b.poll_timeout(),
        Some(now + SampleBuilderConfig::default().max_wait)
    );
    // ... which arrives in time.
    let r = &pkts[1];
    assert_eq!(
        b.push(r.seq, r.ts, r.marker, &r.payload, now),
        Push::Accepted
    );
    assert_eq!(b.poll_sample(now).unwrap().data, frames[1]);
    assert_eq!(b.poll_sample(now).unwrap().data, frames[2]);
    assert_eq!(b.stats().late_packets, 1);
    assert_eq!(b.stats().duplicate_packets, 1);
}

#[test]
fn a_missing_packet_is_given_up_after_max_wait() {
    let mut rng = Rng(0x5eed_5600);
    let frames: Vec<Vec<u8>> = (0..3).map(|_| vp8_frame(&mut rng, true, 500)).collect();
    let pkts = packetize(&mut Vp8Packetizer::default(), &frames, 1200, 0, 0);
    let mut b = SampleBuilder::new(Vp8Depacketizer::default(), SampleBuilderConfig::default());
    let t0 = Instant::now();
    for p in [&pkts[0], &pkts[2]] {
        b.push(p.seq, p.ts, p.marker, &p.payload, t0);
    }
    assert_eq!(b.poll_sample(t0).unwrap().data, frames[0]);
    let wait = SampleBuilderConfig::default().max_wait;
    assert!(b
        .poll_sample(t0 + wait - Duration::from_millis(1))
        .is_none());
    let s = b.poll_sample(t0 + wait).unwrap();
    assert_eq!(s.data, frames[2]);
    assert!(s.discontinuity);
    assert_eq!(b.stats().lost_packets, 1);
    // The packet comes after all: too late.
    let p = &pkts[1];
    assert_eq!(b.push(p.seq, p.ts, p.marker, &p.payload, t0), Push::Late);
}

/// H.264 access units of single-NAL-unit slices: the first slice of each picture has
/// first_mb_in_slice 0 (its first octet after the NAL header has the top bit set), the others
/// not. No zero octets, so no start-code emulation.
fn h264_au(rng: &mut Rng, key: bool) -> Vec<u8> {
    let mut au = Vec::new();
    let mut nal = |head: &[u8], len: usize, rng: &mut Rng| {
        au.extend_from_slice(&[0, 0, 0, 1]);
        au.extend_from_slice(head);
        au.extend((0..len).map(|_| (rng.next() % 255 + 1) as u8));
    };
    if key {
        nal(&[0x67, 0x42], 8, rng);
        nal(&[0x68, 0xce], 3, rng);
    }
    let slices = rng.range(1, 4);
    for k in 0..slices {
        let t = if key { 0x65 } else { 0x41 };
        let first = if k == 0 { 0x88 } else { 0x12 };
        let len = rng.range(10, 2500);
        nal(&[t, first], len, rng);
    }
    au
}

#[test]
fn h264_loss_and_reordering_yield_only_whole_pictures() {
    for seed in 0..30u64 {
        let mut rng = Rng(0x5eed_5700 + seed);
        let frames: Vec<Vec<u8>> = (0..60).map(|i| h264_au(&mut rng, i % 20 == 0)).collect();
        let mtu = rng.range(200, 1200);
        let all = packetize(&mut H264Packetizer::default(), &frames, mtu, 40000, 0);
        let mut pkts: Vec<Pkt> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| *i == 0 || !rng.chance(4))
            .map(|(_, p)| p.clone())
            .collect();
        if pkts.len() > 2 {
            reorder(&mut rng, &mut pkts[1..], 5);
        }
        let mut b = SampleBuilder::new(H264Depacketizer::default(), no_keyframe_rule());
        let out = run(&mut b, &pkts, Instant::now(), Duration::from_millis(1));
        let mut complete = 0;
        for i in 0..frames.len() {
            let sent = all.iter().filter(|p| p.frame == i).count();
            let kept = pkts.iter().filter(|p| p.frame == i).count();
            complete += usize::from(sent == kept);
        }
        let mut partial = 0;
        for s in &out {
            let i = (s.timestamp / 3000) as usize;
            if s.data != frames[i] {
                // After a loss, an access unit whose leading parameter sets were lost may come
                // out without them: nothing in the slices tells they were there. Its pictures
                // are whole.
                let sent: Vec<&[u8]> = AnnexB::new(&frames[i]).collect();
                let got: Vec<&[u8]> = AnnexB::new(&s.data).collect();
                let cut = sent.len() - got.len();
                assert!(
                    cut > 0
                        && sent[cut..] == got[..]
                        && sent[..cut].iter().all(|n| matches!(n[0] & 0x1f, 7 | 8))
                        && s.discontinuity,
                    "seed {seed}: access unit {i} corrupt"
                );
                partial += 1;
            }
        }
        assert_eq!(out.len(), complete + partial, "seed {seed}");
    }
}

#[test]
fn opus_every_payload_is_a_frame_even_reordered() {
    let mut rng = Rng(0x5eed_5800);
    let mut pkts: Vec<Pkt> = (0..200)
        .map(|i| Pkt {
            seq: 65000u16.wrapping_add(i as u16),
            ts: 960 * i as u32,
            marker: i == 0,
            payload: (0..rng.range(1, 200)).map(|_| rng.next() as u8).collect(),
            frame: i,
        })
        .collect();
    let want: Vec<Vec<u8>> = pkts.iter().map(|p| p.payload.clone()).collect();
    reorder(&mut rng, &mut pkts[1..], 4);
    let mut b = SampleBuilder::new(OpusDepacketizer, SampleBuilderConfig::default());
    let out = run(&mut b, &pkts, Instant::now(), Duration::from_millis(20));
    let got: Vec<Vec<u8>> = out.into_iter().map(|s| s.data).collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want);
}

#[test]
fn hostile_packets_keep_memory_bounded() {
    let config = SampleBuilderConfig {
        max_packets: 64,
        max_bytes: 20_000,
        ..SampleBuilderConfig::default()
    };
    let mut rng = Rng(0x5eed_5900);
    let mut b = SampleBuilder::new(H264Depacketizer::default(), config);
    let mut now = Instant::now();
    for i in 0..100_000u32 {
        let len = rng.range(0, 1500);
        let mut payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Some(h) = payload.first_mut() {
            // Mostly plausible NAL unit headers.
            *h = [0x65, 0x41, 0x7c, 0x78, *h][rng.range(0, 4)];
        }
        let seq = if rng.chance(80) {
            (i / 2) as u16
        } else {
            rng.next() as u16
        };
        let ts = (rng.next() % 4) as u32 * 3000;
        b.push(seq, ts, rng.chance(30), &payload, now);
        now += Duration::from_micros(rng.range(0, 5000) as u64);
        while let Some(s) = b.poll_sample(now) {
            assert!(!s.data.is_empty());
        }
        assert!(b.packets_held() <= 64, "packets {}", b.packets_held());
        assert!(b.bytes_held() <= 20_000, "bytes {}", b.bytes_held());
    }
}

#[test]
fn jitter_buffer_releases_frames_at_a_steady_pace_despite_network_jitter() {
    let mut rng = Rng(0x5eed_5a00);
    // 30 frames per second at 90 kHz: 3000 ticks, 33.3 ms.
    let frames: Vec<Vec<u8>> = (0..90).map(|i| vp8_frame(&mut rng, i == 0, 3000)).collect();
    let pkts = packetize(&mut Vp8Packetizer::default(), &frames, 600, 7, 0);
    let target = Duration::from_millis(80);
    let mut jb = JitterBuffer::new(
        Vp8Depacketizer::default(),
        JitterBufferConfig {
            target_delay: target,
            ..JitterBufferConfig::default()
        },
    );
    let t0 = Instant::now();
    let frame_time = |i: usize| t0 + Duration::from_nanos(1_000_000_000 * i as u64 / 30);
    // Each packet sent at its frame time, delayed 10 ms plus 0..=40 ms of jitter.
    let mut arrivals: Vec<(Instant, Pkt)> = pkts
        .iter()
        .map(|p| {
            let jitter = Duration::from_millis(10 + rng.range(0, 40) as u64);
            (frame_time(p.frame) + jitter, p.clone())
        })
        .collect();
    arrivals.sort_by_key(|(t, _)| *t);
    let mut released: Vec<(Instant, Sample)> = Vec::new();
    let mut at = 0;
    let mut now = t0;
    let end = frame_time(100);
    while now < end {
        while at < arrivals.len() && arrivals[at].0 <= now {
            let (_, p) = &arrivals[at];
            jb.push(p.seq, p.ts, p.marker, &p.payload, now);
            at += 1;
        }
        while let Some(s) = jb.poll(now) {
            released.push((now, s));
        }
        let next_arrival = arrivals.get(at).map(|(t, _)| *t);
        now = match (jb.poll_timeout(), next_arrival) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(end),
        }
        .max(now + Duration::from_micros(100));
    }
    assert_eq!(released.len(), frames.len());
    for (i, (t, s)) in released.iter().enumerate() {
        assert!(s.data == frames[i], "frame {i}");
        if i >= 1 {
            // The minimum delay seen so far only shrinks towards 10 ms, so after the first
            // frames the pace is the frame rate, within the 100 µs stepping.
            let gap = *t - released[i - 1].0;
            if i > 30 {
                assert!(
                    gap >= Duration::from_millis(33) && gap <= Duration::from_millis(34),
                    "frame {i}: gap {gap:?}"
                );
            }
        }
        // Never before the frame's media time plus the target delay over the minimum delay.
        assert!(
            *t >= frame_time(i) + Duration::from_millis(10) + target - Duration::from_millis(1)
        );
    }
}
