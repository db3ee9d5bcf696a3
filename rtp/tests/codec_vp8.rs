//! VP8 (RFC 7741): seeded round trips, descriptor layouts, keyframes, malformed payloads.

use weft_rtp::codec::vp8::{is_keyframe, PictureId, Vp8Depacketizer, Vp8Descriptor, Vp8Packetizer};
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

fn packetize(p: &mut Vp8Packetizer, frame: &[u8], mtu: usize) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    p.packetize(frame, mtu, &mut |b, m| out.push((b.to_vec(), m)))
        .unwrap();
    out
}

#[test]
fn vp8_round_trip_random_frames_mtus_and_descriptors() {
    let seed = 0x5eed_0008;
    let mut rng = Rng(seed);
    let mut d = Vp8Depacketizer::default();
    for i in 0..400 {
        let mtu = rng.range(100, 1400);
        // Frame sizes spread over 1 byte .. 200 KB, small ones as often as big ones.
        let len = rng.range(1, 200_000 >> (i % 12));
        let frame = rng.bytes(len);
        let mut p = Vp8Packetizer::default();
        p.template = Vp8Descriptor {
            non_reference: rng.next() & 1 == 0,
            picture_id: match rng.next() % 3 {
                0 => None,
                1 => Some(PictureId::Short(rng.next() as u8 & 0x7f)),
                _ => Some(PictureId::Long(rng.next() as u16 & 0x7fff)),
            },
            tl0_pic_idx: (rng.next() & 1 == 0).then(|| rng.next() as u8),
            temporal: (rng.next() & 1 == 0).then(|| (rng.next() as u8 & 3, rng.next() & 1 == 0)),
            key_idx: (rng.next() & 1 == 0).then(|| rng.next() as u8 & 0x1f),
            ..Vp8Descriptor::default()
        };
        let template = p.template;
        let payloads = packetize(&mut p, &frame, mtu);
        let mut got = None;
        for (k, (b, m)) in payloads.iter().enumerate() {
            assert!(
                b.len() <= mtu,
                "seed {seed:#x} frame {i}: payload {} > {mtu}",
                b.len()
            );
            assert_eq!(*m, k == payloads.len() - 1, "marker only on the last");
            let (desc, _) = Vp8Descriptor::parse(b).unwrap();
            assert_eq!(desc.start_of_partition, k == 0);
            assert_eq!(desc.picture_id, template.picture_id);
            assert_eq!(desc.tl0_pic_idx, template.tl0_pic_idx);
            assert_eq!(desc.temporal, template.temporal);
            assert_eq!(desc.key_idx, template.key_idx);
            got = d.push(b, *m).unwrap();
        }
        assert_eq!(got.as_deref(), Some(&frame[..]), "seed {seed:#x} frame {i}");
        assert_eq!(
            p.template.picture_id,
            template.picture_id.map(PictureId::next)
        );
    }
}

#[test]
fn vp8_picture_id_wraps_in_its_width() {
    assert_eq!(PictureId::Short(127).next(), PictureId::Short(0));
    assert_eq!(PictureId::Long(0x7fff).next(), PictureId::Long(0));
    let mut p = Vp8Packetizer::with_picture_id(0x7fff);
    let first = packetize(&mut p, &[0], 100);
    let second = packetize(&mut p, &[0], 100);
    assert_eq!(first[0].0, [0x90, 0x80, 0xff, 0xff, 0]);
    assert_eq!(second[0].0, [0x90, 0x80, 0x80, 0x00, 0]);
}

#[test]
fn rfc7741_4_2_descriptor_layouts() {
    // Only the required octet: X=0 R=0 N=0 S=1 R=0 PID=0.
    let d = Vp8Descriptor {
        start_of_partition: true,
        ..Vp8Descriptor::default()
    };
    let mut b = Vec::new();
    d.emit(&mut b);
    assert_eq!(b, [0x10]);

    // Every field: X=1 N=1 S=1 PID=3 | I L T K | M=1 PictureID 0x1234 | TL0PICIDX 0x56 |
    // TID=2 Y=1 KEYIDX=5.
    let d = Vp8Descriptor {
        non_reference: true,
        start_of_partition: true,
        partition_index: 3,
        picture_id: Some(PictureId::Long(0x1234)),
        tl0_pic_idx: Some(0x56),
        temporal: Some((2, true)),
        key_idx: Some(5),
    };
    let mut b = Vec::new();
    d.emit(&mut b);
    assert_eq!(b, [0xb3, 0xf0, 0x92, 0x34, 0x56, 0xa5]);
    assert_eq!(d.buffer_len(), 6);
    assert_eq!(Vp8Descriptor::parse(&b), Ok((d, 6)));

    // M=0: a 7-bit PictureID in one octet; only K: the T/K octet with TID and Y zero.
    let d = Vp8Descriptor {
        picture_id: Some(PictureId::Short(0x11)),
        key_idx: Some(0x1f),
        ..Vp8Descriptor::default()
    };
    let mut b = Vec::new();
    d.emit(&mut b);
    assert_eq!(b, [0x80, 0x90, 0x11, 0x1f]);
    assert_eq!(Vp8Descriptor::parse(&b), Ok((d, 4)));

    // Reserved bits are ignored by the receiver (RFC 7741 §4.2).
    let (d, n) = Vp8Descriptor::parse(&[0xd8, 0x0f, 0xff]).unwrap();
    assert_eq!(n, 2);
    assert!(d.start_of_partition && d.picture_id.is_none());
}

#[test]
fn vp8_keyframe_is_start_pid0_and_p_bit_clear() {
    // VP8 payload header P bit (RFC 7741 §4.3) is bit 0 of the first frame octet.
    assert!(is_keyframe(&[0x10, 0x50, 0x2a, 0x00]));
    assert!(is_keyframe(&[0x90, 0x80, 0x81, 0x23, 0x10]));
    assert!(!is_keyframe(&[0x10, 0x51]), "P=1: interframe");
    assert!(!is_keyframe(&[0x00, 0x50]), "S=0: not the start");
    assert!(
        !is_keyframe(&[0x11, 0x50]),
        "PID=1: not the first partition"
    );
    assert!(!is_keyframe(&[0x10]), "no payload header");
    assert!(!is_keyframe(&[0x90, 0x80]), "truncated descriptor");
    assert!(!is_keyframe(&[]));
    let mut p = Vp8Packetizer::with_picture_id(7);
    let key = packetize(&mut p, &[0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a], 100);
    assert!(is_keyframe(&key[0].0));
}

#[test]
fn vp8_malformed_payloads_are_typed_errors() {
    let mut d = Vp8Depacketizer::default();
    assert_eq!(d.push(&[], true), Err(Error::Truncated));
    assert_eq!(
        d.push(&[0x90], true),
        Err(Error::Truncated),
        "X=1 without its octet"
    );
    assert_eq!(
        d.push(&[0x90, 0x80], true),
        Err(Error::Truncated),
        "I=1 without PictureID"
    );
    assert_eq!(
        d.push(&[0x90, 0x80, 0x80], true),
        Err(Error::Truncated),
        "M=1, one octet"
    );
    assert_eq!(
        d.push(&[0x90, 0x40], true),
        Err(Error::Truncated),
        "L=1 without TL0PICIDX"
    );
    assert_eq!(
        d.push(&[0x90, 0x20], true),
        Err(Error::Truncated),
        "T=1 without TID"
    );
    assert_eq!(
        d.push(&[0x10], true),
        Err(Error::Empty),
        "descriptor and no frame"
    );
    assert_eq!(d.push(&[0x00, 1, 2], true), Err(Error::MissingStart));
    assert_eq!(
        d.push(&[0x11, 1, 2], true),
        Err(Error::MissingStart),
        "S=1 but PID=1"
    );
    assert_eq!(d.push(&[0x10, 1], false), Ok(None));
    assert_eq!(d.push(&[0x10, 2], true), Err(Error::Unfinished));
    // PictureID changing inside a frame.
    assert_eq!(d.push(&[0x90, 0x80, 0x05, 1], false), Ok(None));
    assert_eq!(d.push(&[0x80, 0x80, 0x06, 2], true), Err(Error::BadHeader));
    // After errors the next whole frame comes out intact.
    assert_eq!(d.push(&[0x90, 0x80, 0x05, 1], false), Ok(None));
    assert_eq!(d.push(&[0x80, 0x80, 0x05, 2], true), Ok(Some(vec![1, 2])));

    let mut p = Vp8Packetizer::with_picture_id(0);
    let mut sink = |_: &[u8], _: bool| panic!("nothing is emitted on error");
    assert_eq!(p.packetize(&[], 1200, &mut sink), Err(Error::Empty));
    assert_eq!(p.packetize(&[1], 4, &mut sink), Err(Error::MtuTooSmall));
    assert_eq!(p.packetize(&[1], 5, &mut |_, _| {}), Ok(()));
}
