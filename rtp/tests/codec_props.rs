//! Property tests for every video payload format through the sample builder: random frames,
//! MTUs, loss and reordering. Exactly the frames whose packets all arrived come out, each
//! identical to the frame sent, in order.
// `Instant::now()` only as the origin of a virtual clock; time then moves by addition.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use weft_rtp::codec::h264::{H264Depacketizer, H264Packetizer};
use weft_rtp::codec::h265::{H265Depacketizer, H265Packetizer};
use weft_rtp::codec::vp8::{Vp8Depacketizer, Vp8Packetizer};
use weft_rtp::codec::vp9::{Vp9Depacketizer, Vp9Packetizer};
use weft_rtp::codec::{Depacketizer, Packetizer};
use weft_rtp::sample::{SampleBuilder, SampleBuilderConfig};

/// The network: which packets are lost (by index) and how far each may be delayed.
#[derive(Debug, Clone)]
struct Net {
    loss: Vec<bool>,
    shift: Vec<usize>,
}

fn net() -> impl Strategy<Value = Net> {
    (
        prop::collection::vec(prop::bool::weighted(0.05), 400),
        prop::collection::vec(0usize..8, 400),
    )
        .prop_map(|(loss, shift)| Net { loss, shift })
}

/// Sends `frames` through `p` with MTU `mtu`, over `net`, into a sample builder over `d`;
/// checks the property.
fn check(
    p: &mut dyn Packetizer,
    d: impl Depacketizer,
    frames: &[Vec<u8>],
    mtu: usize,
    seq0: u16,
    net: &Net,
) -> Result<(), TestCaseError> {
    let mut pkts = Vec::new();
    let mut seq = seq0;
    for (i, f) in frames.iter().enumerate() {
        p.packetize(f, mtu, &mut |b, m| {
            pkts.push((seq, 3000 * i as u32, m, b.to_vec(), i));
            seq = seq.wrapping_add(1);
        })
        .map_err(|e| TestCaseError::fail(format!("packetize: {e}")))?;
    }
    let n = pkts.len();
    let lost = |k: usize| k > 0 && net.loss.get(k % net.loss.len()).copied().unwrap_or(false);
    let mut whole = vec![true; frames.len()];
    for (k, pk) in pkts.iter().enumerate() {
        if lost(k) {
            whole[pk.4] = false;
        }
    }
    let mut order: Vec<usize> = (1..n).filter(|&k| !lost(k)).collect();
    order.sort_by_key(|&k| k + net.shift[k % net.shift.len()]);
    order.insert(0, 0);
    let config = SampleBuilderConfig {
        keyframe_required: false,
        ..SampleBuilderConfig::default()
    };
    let mut b = SampleBuilder::new(d, config);
    let mut now = Instant::now();
    let mut got = Vec::new();
    for k in order {
        let (seq, ts, m, payload, _) = &pkts[k];
        now += Duration::from_micros(50);
        b.push(*seq, *ts, *m, payload, now);
        while let Some(s) = b.poll_sample(now) {
            got.push(s);
        }
    }
    now += Duration::from_secs(1);
    while let Some(s) = b.poll_sample(now) {
        got.push(s);
    }
    let want: Vec<usize> = (0..frames.len()).filter(|&i| whole[i]).collect();
    let ids: Vec<usize> = got.iter().map(|s| (s.timestamp / 3000) as usize).collect();
    prop_assert_eq!(&ids, &want);
    for s in &got {
        let i = (s.timestamp / 3000) as usize;
        prop_assert!(s.data == frames[i], "frame {} differs", i);
    }
    prop_assert_eq!(b.packets_held(), 0);
    Ok(())
}

fn bodies() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(1u8..=255, 1..4000), 1..12)
}

/// Access units whose first NAL unit starts a picture and whose others do not: one slice
/// header bit each way (H.264 first_mb_in_slice, H.265 first_slice_segment_in_pic_flag).
fn access_units(h265: bool) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop::collection::vec(prop::collection::vec(1u8..=255, 1..2500), 1..4),
        1..10,
    )
    .prop_map(move |aus| {
        aus.into_iter()
            .map(|slices| {
                let mut au = Vec::new();
                for (k, mut body) in slices.into_iter().enumerate() {
                    body[0] = if k == 0 {
                        body[0] | 0x80
                    } else {
                        body[0] & 0x7f | 1
                    };
                    au.extend_from_slice(&[0, 0, 0, 1]);
                    if h265 {
                        au.extend_from_slice(&[0x02, 0x01]);
                    } else {
                        au.push(0x41);
                    }
                    au.extend_from_slice(&body);
                }
                au
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn vp8_through_loss_and_reordering(frames in bodies(), mtu in 20usize..1400, seq0 in any::<u16>(), net in net()) {
        check(&mut Vp8Packetizer::with_picture_id(seq0), Vp8Depacketizer::default(), &frames, mtu, seq0, &net)?;
    }

    #[test]
    fn vp9_through_loss_and_reordering(frames in bodies(), mtu in 20usize..1400, seq0 in any::<u16>(), flexible in any::<bool>(), net in net()) {
        let mut p = Vp9Packetizer::with_picture_id(seq0);
        p.template.flexible = flexible;
        check(&mut p, Vp9Depacketizer::default(), &frames, mtu, seq0, &net)?;
    }

    #[test]
    fn h264_through_loss_and_reordering(aus in access_units(false), mtu in 20usize..1400, seq0 in any::<u16>(), net in net()) {
        check(&mut H264Packetizer::default(), H264Depacketizer::default(), &aus, mtu, seq0, &net)?;
    }

    #[test]
    fn h265_through_loss_and_reordering(aus in access_units(true), mtu in 20usize..1400, seq0 in any::<u16>(), net in net()) {
        check(&mut H265Packetizer::default(), H265Depacketizer::default(), &aus, mtu, seq0, &net)?;
    }
}
