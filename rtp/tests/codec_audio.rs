//! Opus, G.711 and G.722: round trips over seeded random frames and MTUs, and the errors.

use weft_rtp::codec::g711::{G711Depacketizer, G711Packetizer};
use weft_rtp::codec::g722::{G722Depacketizer, G722Packetizer};
use weft_rtp::codec::opus::{OpusDepacketizer, OpusPacketizer};
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
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Packetizes `frame`, checks every payload against `mtu` and the audio marker rule, and
/// returns the concatenation of what the depacketizer gives back.
fn round_trip(
    p: &mut dyn Packetizer,
    d: &mut dyn Depacketizer,
    frame: &[u8],
    mtu: usize,
) -> Vec<u8> {
    let mut payloads = Vec::new();
    p.packetize(frame, mtu, &mut |b, m| payloads.push((b.to_vec(), m)))
        .unwrap();
    let mut out = Vec::new();
    for (b, m) in payloads {
        assert!(b.len() <= mtu, "payload {} > mtu {mtu}", b.len());
        assert!(!m, "audio packetizers leave the marker to the caller");
        out.extend(
            d.push(&b, m)
                .unwrap()
                .expect("every audio payload is a frame"),
        );
    }
    out
}

#[test]
fn opus_round_trip_one_packet_per_frame() {
    let mut rng = Rng(0x5eed_0001);
    for _ in 0..2000 {
        let mtu = rng.range(100, 1400);
        let len = rng.range(1, mtu);
        let frame = rng.bytes(len);
        let (mut p, mut d) = (OpusPacketizer, OpusDepacketizer);
        assert_eq!(p.packetize_to_vec(&frame, mtu).unwrap().len(), 1);
        assert_eq!(round_trip(&mut p, &mut d, &frame, mtu), frame);
    }
}

#[test]
fn opus_frame_larger_than_mtu_is_refused() {
    let mut n = 0;
    let r = OpusPacketizer.packetize(&[0u8; 1201], 1200, &mut |_, _| n += 1);
    assert_eq!(r, Err(Error::FrameTooLarge));
    assert_eq!(n, 0);
}

#[test]
fn g711_and_g722_round_trip_split_at_mtu() {
    let mut rng = Rng(0x5eed_0002);
    for i in 0..300 {
        let mtu = rng.range(100, 1400);
        let len = rng.range(1, 200_000 >> (i % 8));
        let frame = rng.bytes(len);
        let expected = frame.len().div_ceil(mtu);
        let got = G711Packetizer.packetize_to_vec(&frame, mtu).unwrap();
        assert_eq!(got.len(), expected);
        assert_eq!(
            round_trip(&mut G711Packetizer, &mut G711Depacketizer, &frame, mtu),
            frame
        );
        assert_eq!(
            round_trip(&mut G722Packetizer, &mut G722Depacketizer, &frame, mtu),
            frame
        );
    }
}

#[test]
fn audio_empty_inputs_are_typed_errors() {
    let mut sink = |_: &[u8], _: bool| panic!("nothing is emitted on error");
    assert_eq!(
        OpusPacketizer.packetize(&[], 1200, &mut sink),
        Err(Error::Empty)
    );
    assert_eq!(
        G711Packetizer.packetize(&[], 1200, &mut sink),
        Err(Error::Empty)
    );
    assert_eq!(
        G722Packetizer.packetize(&[1], 0, &mut sink),
        Err(Error::MtuTooSmall)
    );
    assert_eq!(OpusDepacketizer.push(&[], false), Err(Error::Empty));
    assert_eq!(G711Depacketizer.push(&[], true), Err(Error::Empty));
    assert_eq!(G722Depacketizer.push(&[], false), Err(Error::Empty));
}
