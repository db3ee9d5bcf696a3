//! VP9 (RFC 9628): descriptor layouts, flexible and non-flexible round trips, superframes,
//! malformed payloads, keyframes.

use proptest::prelude::*;
use weft_rtp::codec::vp8::PictureId;
use weft_rtp::codec::vp9::{
    frame_is_keyframe, is_keyframe, Vp9Depacketizer, Vp9Descriptor, Vp9Layer, Vp9Packetizer,
    Vp9PictureGroupEntry, Vp9Resolution, Vp9ScalabilityStructure,
};
use weft_rtp::codec::{Depacketizer, Error, Packetizer};

/// A VP9 frame whose first octet is an uncompressed header start (frame_marker 2, profile
/// 0, show_existing_frame 0) with frame_type 0 (key) or 1.
fn vp9_frame(key: bool, body: &[u8]) -> Vec<u8> {
    let mut f = vec![if key { 0x80 } else { 0x84 }];
    f.extend_from_slice(body);
    f
}

#[test]
fn rfc9628_non_flexible_descriptor_layout() {
    let d = Vp9Descriptor {
        inter_predicted: true,
        begin: true,
        picture_id: Some(PictureId::Long(0x1234)),
        layer: Some(Vp9Layer {
            temporal_id: 2,
            switching_up: true,
            spatial_id: 1,
            inter_layer_dependency: true,
        }),
        tl0_pic_idx: Some(0x56),
        ..Vp9Descriptor::default()
    };
    let mut out = Vec::new();
    d.emit(&mut out);
    // I P L F B E V Z = 1 1 1 0 1 0 0 0; M + 15-bit ID; TID=2 U=1 SID=1 D=1 (010 1 001 1);
    // TL0PICIDX.
    assert_eq!(out, [0xe8, 0x92, 0x34, 0x53, 0x56]);
    assert_eq!(d.buffer_len(), out.len());
    assert_eq!(Vp9Descriptor::parse(&out), Ok((d, 5)));
}

#[test]
fn rfc9628_flexible_descriptor_with_p_diffs_and_scalability_structure() {
    let d = Vp9Descriptor {
        inter_predicted: true,
        flexible: true,
        begin: true,
        end: true,
        picture_id: Some(PictureId::Short(5)),
        layer: Some(Vp9Layer::default()),
        p_diffs: vec![1, 2, 127],
        ss: Some(Vp9ScalabilityStructure {
            spatial_layers: 2,
            resolutions: Some(vec![
                Vp9Resolution {
                    width: 320,
                    height: 180,
                },
                Vp9Resolution {
                    width: 640,
                    height: 360,
                },
            ]),
            picture_group: Some(vec![Vp9PictureGroupEntry {
                temporal_id: 0,
                switching_up: false,
                p_diffs: vec![1],
            }]),
        }),
        ..Vp9Descriptor::default()
    };
    let mut out = Vec::new();
    d.emit(&mut out);
    #[rustfmt::skip]
    let want = [
        0xfe, 0x05, 0x00,             // I P L F B E V, PictureID 5, layers
        0x03, 0x05, 0xfe,             // P_DIFF 1 (N), 2 (N), 127
        0x38,                         // N_S=1 Y G: 001 1 1 000
        0x01, 0x40, 0x00, 0xb4,       // 320x180
        0x02, 0x80, 0x01, 0x68,       // 640x360
        0x01, 0x04, 0x01,             // N_G=1: TID 0 U 0 R=1, P_DIFF 1
    ];
    assert_eq!(out, want);
    assert_eq!(d.buffer_len(), out.len());
    assert_eq!(Vp9Descriptor::parse(&out), Ok((d, want.len())));
    // A fourth P_DIFF is refused.
    assert_eq!(
        Vp9Descriptor::parse(&[0x50, 0x03, 0x03, 0x03, 0x02]),
        Err(Error::BadHeader)
    );
    assert_eq!(
        Vp9Descriptor::parse(&[0x52, 0x02, 0x10, 0x01]),
        Err(Error::Truncated)
    );
}

#[test]
fn vp9_frame_header_keyframe_bit() {
    assert!(frame_is_keyframe(&[0x82, 0x49, 0x83]));
    assert!(!frame_is_keyframe(&[0x86]));
    // show_existing_frame.
    assert!(!frame_is_keyframe(&[0x88]));
    // Profile 3 has a reserved bit first: 10 1 1 0 0 0 -.
    assert!(frame_is_keyframe(&[0xb0]));
    assert!(!frame_is_keyframe(&[0xb2]));
    assert!(!frame_is_keyframe(&[0x00]));
    assert!(!frame_is_keyframe(&[]));
}

#[test]
fn vp9_two_layer_picture_comes_out_as_a_superframe() {
    let l0 = vp9_frame(true, &[1; 300]);
    let l1 = vp9_frame(false, &[2; 40]);
    let mut payloads = Vec::new();
    let mut p = Vp9Packetizer::with_picture_id(9);
    p.template.layer = Some(Vp9Layer::default());
    p.packetize(&l0, 120, &mut |b, _| payloads.push(b.to_vec()))
        .unwrap();
    // The same picture: the caller keeps the PictureID for the upper layer.
    p.template.picture_id = Some(PictureId::Long(9));
    p.template.layer = Some(Vp9Layer {
        spatial_id: 1,
        inter_layer_dependency: true,
        ..Vp9Layer::default()
    });
    p.packetize(&l1, 120, &mut |b, _| payloads.push(b.to_vec()))
        .unwrap();
    assert!(is_keyframe(&payloads[0]));
    let mut d = Vp9Depacketizer::default();
    let last = payloads.len() - 1;
    let mut got = None;
    for (i, b) in payloads.iter().enumerate() {
        got = d.push(b, i == last).unwrap();
        assert_eq!(got.is_some(), i == last);
    }
    let mut want = l0.clone();
    want.extend_from_slice(&l1);
    // Annex B index: 0b110 mag-1=1 (sizes up to 0xffff) frames-1=1, sizes LE, marker again.
    want.extend_from_slice(&[0xc9, 0x2d, 0x01, 0x29, 0x00, 0xc9]);
    assert_eq!(got.unwrap(), want);
}

#[test]
fn vp9_malformed_payloads_are_typed_errors() {
    let mut d = Vp9Depacketizer::default();
    // Continuation without B.
    assert_eq!(d.push(&[0x00, 1], false), Err(Error::MissingStart));
    // B, then the marker without E.
    assert_eq!(d.push(&[0x08, 1], false), Ok(None));
    assert_eq!(d.push(&[0x00, 1], true), Err(Error::Unfinished));
    // B while a layer frame is open.
    assert_eq!(d.push(&[0x08, 1], false), Ok(None));
    assert_eq!(d.push(&[0x08, 1], false), Err(Error::Unfinished));
    // PictureID changing inside a layer frame.
    assert_eq!(d.push(&[0x88, 0x01, 1], false), Ok(None));
    assert_eq!(d.push(&[0x84, 0x02, 1], true), Err(Error::BadHeader));
    // No media after the descriptor; truncated descriptor.
    assert_eq!(d.push(&[0x0c], true), Err(Error::Empty));
    assert_eq!(d.push(&[0x80], true), Err(Error::Truncated));
    // And a good one after all that.
    assert_eq!(d.push(&[0x0c, 7, 8], true), Ok(Some(vec![7, 8])));
}

fn descriptor() -> impl Strategy<Value = Vp9Descriptor> {
    (
        any::<[bool; 6]>(),
        prop::option::of(prop_oneof![
            (0u8..128).prop_map(PictureId::Short),
            (0u16..0x8000).prop_map(PictureId::Long)
        ]),
        prop::option::of((0u8..8, any::<bool>(), 0u8..8, any::<bool>())),
        any::<u8>(),
        prop::collection::vec(1u8..128, 1..=3),
        prop::option::of((
            1u8..=8,
            any::<bool>(),
            prop::option::of(prop::collection::vec(
                (
                    0u8..8,
                    any::<bool>(),
                    prop::collection::vec(any::<u8>(), 0..=3),
                ),
                0..5,
            )),
        )),
    )
        .prop_map(|(f, pid, layer, tl0, p_diffs, ss)| {
            let [p, flexible, b, e, z, _] = f;
            let layer = layer.map(|(t, u, s, dd)| Vp9Layer {
                temporal_id: t,
                switching_up: u,
                spatial_id: s,
                inter_layer_dependency: dd,
            });
            Vp9Descriptor {
                inter_predicted: p,
                flexible,
                begin: b,
                end: e,
                not_upper_reference: z,
                picture_id: pid,
                layer,
                tl0_pic_idx: (layer.is_some() && !flexible).then_some(tl0),
                p_diffs: if flexible && p { p_diffs } else { Vec::new() },
                ss: ss.map(|(n, y, g)| Vp9ScalabilityStructure {
                    spatial_layers: n,
                    resolutions: y.then(|| {
                        (0..n)
                            .map(|i| Vp9Resolution {
                                width: 160 << (i % 4),
                                height: 90 * u16::from(i + 1),
                            })
                            .collect()
                    }),
                    picture_group: g.map(|g| {
                        g.into_iter()
                            .map(|(t, u, pd)| Vp9PictureGroupEntry {
                                temporal_id: t,
                                switching_up: u,
                                p_diffs: pd,
                            })
                            .collect()
                    }),
                }),
            }
        })
}

proptest! {
    #[test]
    fn vp9_descriptor_emit_parse_round_trip(d in descriptor(), tail in prop::collection::vec(any::<u8>(), 0..4)) {
        let mut out = Vec::new();
        d.emit(&mut out);
        prop_assert_eq!(out.len(), d.buffer_len());
        out.extend_from_slice(&tail);
        prop_assert_eq!(Vp9Descriptor::parse(&out), Ok((d.clone(), d.buffer_len())));
    }

    #[test]
    fn vp9_packetize_depacketize_round_trip(
        frames in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..6000)), 1..6),
        mtu in 40usize..1400,
        flexible in any::<bool>(),
        with_ss in any::<bool>(),
    ) {
        let mut p = Vp9Packetizer::with_picture_id(32700);
        p.template.flexible = flexible;
        p.template.layer = Some(Vp9Layer::default());
        p.template.p_diffs = vec![1];
        p.template.tl0_pic_idx = Some(3);
        if with_ss {
            p.scalability = Some(Vp9ScalabilityStructure {
                spatial_layers: 1,
                resolutions: Some(vec![Vp9Resolution { width: 640, height: 480 }]),
                picture_group: None,
            });
        }
        let mut d = Vp9Depacketizer::default();
        for (key, body) in frames {
            let frame = vp9_frame(key, &body);
            let mut payloads = Vec::new();
            p.packetize(&frame, mtu, &mut |b, m| payloads.push((b.to_vec(), m))).unwrap();
            prop_assert!(payloads.iter().all(|(b, _)| b.len() <= mtu));
            prop_assert_eq!(is_keyframe(&payloads[0].0), key);
            prop_assert_eq!(d.starts_frame(&payloads[0].0), Some(true));
            let mut got = None;
            for (i, (b, m)) in payloads.iter().enumerate() {
                prop_assert_eq!(*m, i + 1 == payloads.len());
                got = d.push(b, *m).unwrap();
            }
            prop_assert_eq!(got, Some(frame));
        }
    }
}
