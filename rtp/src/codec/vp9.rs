//! VP9 (RFC 9628): a payload descriptor before each piece of a layer frame, in flexible or
//! non-flexible mode.
//!
//! ```text
//! RFC 9628 §4.2
//!       0 1 2 3 4 5 6 7
//!      +-+-+-+-+-+-+-+-+
//!      |I|P|L|F|B|E|V|Z| (REQUIRED)
//!      +-+-+-+-+-+-+-+-+
//! I:   |M| PICTURE ID  | (a second octet when M=1)
//!      +-+-+-+-+-+-+-+-+
//! L:   | TID |U| SID |D| (layer indices)
//!      +-+-+-+-+-+-+-+-+
//!      |   TL0PICIDX   | (non-flexible mode only, F=0)
//!      +-+-+-+-+-+-+-+-+
//! P,F: | P_DIFF      |N| (flexible mode, P=1: up to 3, N=1 when another follows)
//!      +-+-+-+-+-+-+-+-+
//! V:   | SS            | (scalability structure, §4.2.1)
//!      +-+-+-+-+-+-+-+-+
//! ```
//!
//! A picture is one layer frame per spatial layer, all with the picture's timestamp; B and E
//! mark where each layer frame begins and ends, the marker bit ends the picture. The
//! packetizer sends one layer frame per call (one spatial layer, the common case); P is taken
//! from the VP9 frame header. The depacketizer returns a picture at the marker: its layer
//! frame when there is one, or its layer frames joined as a VP9 superframe (VP9 bitstream
//! specification Annex B) with an index, which decoders take as one unit.

use super::vp8::PictureId;
use super::{Depacketizer, Error, Packetizer};

/// Layer indices of the L octet (RFC 9628 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp9Layer {
    /// TID: temporal layer, 0..=7.
    pub temporal_id: u8,
    /// U: switching up point.
    pub switching_up: bool,
    /// SID: spatial layer, 0..=7.
    pub spatial_id: u8,
    /// D: inter-layer dependency on the spatial layer below.
    pub inter_layer_dependency: bool,
}

/// One spatial layer's resolution in a scalability structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vp9Resolution {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
}

/// One picture group entry of a scalability structure: TID, U and the P_DIFFs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vp9PictureGroupEntry {
    /// TID.
    pub temporal_id: u8,
    /// U.
    pub switching_up: bool,
    /// P_DIFF of each reference (R of them, at most 3).
    pub p_diffs: Vec<u8>,
}

/// The scalability structure (RFC 9628 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vp9ScalabilityStructure {
    /// N_S + 1: spatial layers, 1..=8.
    pub spatial_layers: u8,
    /// Y: the resolution of each spatial layer.
    pub resolutions: Option<Vec<Vp9Resolution>>,
    /// G: the picture group description.
    pub picture_group: Option<Vec<Vp9PictureGroupEntry>>,
}

/// The VP9 payload descriptor (RFC 9628 §4.2) as a value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vp9Descriptor {
    /// P: inter-picture predicted.
    pub inter_predicted: bool,
    /// F: flexible mode.
    pub flexible: bool,
    /// B: start of a layer frame.
    pub begin: bool,
    /// E: end of a layer frame.
    pub end: bool,
    /// Z: not a reference for the spatial layer above.
    pub not_upper_reference: bool,
    /// I (and M): the PictureID.
    pub picture_id: Option<PictureId>,
    /// L: layer indices.
    pub layer: Option<Vp9Layer>,
    /// TL0PICIDX (non-flexible mode with L).
    pub tl0_pic_idx: Option<u8>,
    /// P_DIFFs (flexible mode with P), 1..=127 each, at most 3.
    pub p_diffs: Vec<u8>,
    /// V: the scalability structure.
    pub ss: Option<Vp9ScalabilityStructure>,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8, Error> {
        let v = *self.b.get(self.at).ok_or(Error::Truncated)?;
        self.at += 1;
        Ok(v)
    }
    fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }
}

impl Vp9Descriptor {
    /// Reads the descriptor at the front of `payload`; returns it and its length. A fourth
    /// P_DIFF (N set on the third) is [`Error::BadHeader`] (RFC 9628 §4.2: at most 3).
    pub fn parse(payload: &[u8]) -> Result<(Vp9Descriptor, usize), Error> {
        let mut r = Reader { b: payload, at: 0 };
        let b0 = r.u8()?;
        let mut d = Vp9Descriptor {
            inter_predicted: b0 & 0x40 != 0,
            flexible: b0 & 0x10 != 0,
            begin: b0 & 0x08 != 0,
            end: b0 & 0x04 != 0,
            not_upper_reference: b0 & 0x01 != 0,
            ..Vp9Descriptor::default()
        };
        if b0 & 0x80 != 0 {
            let p = r.u8()?;
            d.picture_id = Some(if p & 0x80 != 0 {
                PictureId::Long(u16::from(p & 0x7f) << 8 | u16::from(r.u8()?))
            } else {
                PictureId::Short(p)
            });
        }
        if b0 & 0x20 != 0 {
            let l = r.u8()?;
            d.layer = Some(Vp9Layer {
                temporal_id: l >> 5,
                switching_up: l & 0x10 != 0,
                spatial_id: (l >> 1) & 0x07,
                inter_layer_dependency: l & 0x01 != 0,
            });
            if !d.flexible {
                d.tl0_pic_idx = Some(r.u8()?);
            }
        }
        if d.flexible && d.inter_predicted {
            loop {
                let p = r.u8()?;
                if d.p_diffs.len() == 3 {
                    return Err(Error::BadHeader);
                }
                d.p_diffs.push(p >> 1);
                if p & 0x01 == 0 {
                    break;
                }
            }
        }
        if b0 & 0x02 != 0 {
            d.ss = Some(parse_ss(&mut r)?);
        }
        Ok((d, r.at))
    }

    /// The descriptor's length on the wire.
    pub fn buffer_len(&self) -> usize {
        let pid = match self.picture_id {
            None => 0,
            Some(PictureId::Short(_)) => 1,
            Some(PictureId::Long(_)) => 2,
        };
        let layer = match self.layer {
            None => 0,
            Some(_) if self.flexible => 1,
            Some(_) => 2,
        };
        let pd = if self.flexible && self.inter_predicted {
            self.p_diffs.len().clamp(1, 3)
        } else {
            0
        };
        1 + pid + layer + pd + self.ss.as_ref().map_or(0, ss_len)
    }

    /// Appends the descriptor to `out`. Values wider than their fields are masked; in
    /// flexible mode with P set, an empty P_DIFF list is sent as one P_DIFF of 1 and a longer
    /// one is cut to 3.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(
            u8::from(self.picture_id.is_some()) << 7
                | u8::from(self.inter_predicted) << 6
                | u8::from(self.layer.is_some()) << 5
                | u8::from(self.flexible) << 4
                | u8::from(self.begin) << 3
                | u8::from(self.end) << 2
                | u8::from(self.ss.is_some()) << 1
                | u8::from(self.not_upper_reference),
        );
        match self.picture_id {
            None => {}
            Some(PictureId::Short(v)) => out.push(v & 0x7f),
            Some(PictureId::Long(v)) => {
                out.push(0x80 | ((v >> 8) as u8 & 0x7f));
                out.push(v as u8);
            }
        }
        if let Some(l) = self.layer {
            out.push(
                (l.temporal_id & 0x07) << 5
                    | u8::from(l.switching_up) << 4
                    | (l.spatial_id & 0x07) << 1
                    | u8::from(l.inter_layer_dependency),
            );
            if !self.flexible {
                out.push(self.tl0_pic_idx.unwrap_or(0));
            }
        }
        if self.flexible && self.inter_predicted {
            let diffs: &[u8] = if self.p_diffs.is_empty() {
                &[1]
            } else {
                &self.p_diffs[..self.p_diffs.len().min(3)]
            };
            for (i, p) in diffs.iter().enumerate() {
                out.push((p & 0x7f) << 1 | u8::from(i + 1 < diffs.len()));
            }
        }
        if let Some(ss) = &self.ss {
            emit_ss(ss, out);
        }
    }
}

fn parse_ss(r: &mut Reader<'_>) -> Result<Vp9ScalabilityStructure, Error> {
    // RFC 9628 §4.2.1: | N_S |Y|G|-|-|-|
    let h = r.u8()?;
    let spatial_layers = (h >> 5) + 1;
    let mut ss = Vp9ScalabilityStructure {
        spatial_layers,
        ..Vp9ScalabilityStructure::default()
    };
    if h & 0x10 != 0 {
        let mut res = Vec::with_capacity(usize::from(spatial_layers));
        for _ in 0..spatial_layers {
            res.push(Vp9Resolution {
                width: r.u16()?,
                height: r.u16()?,
            });
        }
        ss.resolutions = Some(res);
    }
    if h & 0x08 != 0 {
        let n = r.u8()?;
        let mut groups = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            let g = r.u8()?;
            let refs = (g >> 2) & 0x03;
            let mut p_diffs = Vec::with_capacity(usize::from(refs));
            for _ in 0..refs {
                p_diffs.push(r.u8()?);
            }
            groups.push(Vp9PictureGroupEntry {
                temporal_id: g >> 5,
                switching_up: g & 0x10 != 0,
                p_diffs,
            });
        }
        ss.picture_group = Some(groups);
    }
    Ok(ss)
}

fn ss_len(ss: &Vp9ScalabilityStructure) -> usize {
    let layers = usize::from(ss.spatial_layers.clamp(1, 8));
    1 + ss.resolutions.as_ref().map_or(0, |_| 4 * layers)
        + ss.picture_group.as_ref().map_or(0, |g| {
            1 + g
                .iter()
                .take(255)
                .map(|e| 1 + e.p_diffs.len().min(3))
                .sum::<usize>()
        })
}

fn emit_ss(ss: &Vp9ScalabilityStructure, out: &mut Vec<u8>) {
    let layers = ss.spatial_layers.clamp(1, 8);
    out.push(
        (layers - 1) << 5
            | u8::from(ss.resolutions.is_some()) << 4
            | u8::from(ss.picture_group.is_some()) << 3,
    );
    if let Some(res) = &ss.resolutions {
        for i in 0..usize::from(layers) {
            let r = res.get(i).copied().unwrap_or(Vp9Resolution {
                width: 0,
                height: 0,
            });
            out.extend_from_slice(&r.width.to_be_bytes());
            out.extend_from_slice(&r.height.to_be_bytes());
        }
    }
    if let Some(groups) = &ss.picture_group {
        let groups = &groups[..groups.len().min(255)];
        out.push(groups.len() as u8);
        for e in groups {
            let refs = &e.p_diffs[..e.p_diffs.len().min(3)];
            out.push(
                (e.temporal_id & 0x07) << 5
                    | u8::from(e.switching_up) << 4
                    | (refs.len() as u8) << 2,
            );
            out.extend_from_slice(refs);
        }
    }
}

/// Whether a VP9 frame (its uncompressed header, VP9 bitstream specification §6.2) is a key
/// frame: frame_marker 2, then profile bits, show_existing_frame 0 and frame_type 0. A
/// superframe is judged by its first frame.
pub fn frame_is_keyframe(frame: &[u8]) -> bool {
    let Some(&b) = frame.first() else {
        return false;
    };
    if b >> 6 != 0b10 {
        return false;
    }
    // profile = high bit << 1 | low bit; profile 3 has a reserved zero bit after it.
    let profile = (b >> 5 & 1) | (b >> 4 & 1) << 1;
    let bit = if profile == 3 { 2 } else { 3 };
    let show_existing = b >> bit & 1;
    let frame_type = b >> (bit - 1) & 1;
    show_existing == 0 && frame_type == 0
}

/// Whether `payload`, the first payload of a picture, starts a key frame: B=1, P=0, and
/// spatial layer 0 when layer indices are present.
pub fn is_keyframe(payload: &[u8]) -> bool {
    match Vp9Descriptor::parse(payload) {
        Ok((d, _)) => d.begin && !d.inter_predicted && d.layer.is_none_or(|l| l.spatial_id == 0),
        Err(_) => false,
    }
}

/// Splits VP9 frames into payloads, each a descriptor plus a piece of the frame.
///
/// `template` gives the mode (F), layer indices, TL0PICIDX, P_DIFFs and Z for the next frame;
/// the packetizer sets B and E per packet and P from the frame header (on key frames P=0 and
/// no P_DIFF). When `template.picture_id` is set it is sent on every packet and advanced
/// after the frame. `scalability` is sent (V=1) on the first packet of each key frame.
#[derive(Debug, Clone, Default)]
pub struct Vp9Packetizer {
    /// The descriptor fields of the next frame.
    pub template: Vp9Descriptor,
    /// The scalability structure for key frames.
    pub scalability: Option<Vp9ScalabilityStructure>,
    scratch: Vec<u8>,
}

impl Vp9Packetizer {
    /// A non-flexible packetizer with a 15-bit PictureID from `first & 0x7fff`, as browsers
    /// send without SVC.
    pub fn with_picture_id(first: u16) -> Vp9Packetizer {
        Vp9Packetizer {
            template: Vp9Descriptor {
                picture_id: Some(PictureId::Long(first & 0x7fff)),
                ..Vp9Descriptor::default()
            },
            ..Vp9Packetizer::default()
        }
    }
}

impl Packetizer for Vp9Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<(), Error> {
        if frame.is_empty() {
            return Err(Error::Empty);
        }
        let key = frame_is_keyframe(frame);
        let mut d = self.template.clone();
        d.inter_predicted = !key;
        if key {
            d.p_diffs.clear();
        }
        d.begin = true;
        d.end = false;
        d.ss = if key { self.scalability.clone() } else { None };
        let first_len = d.buffer_len();
        let rest_len = first_len - d.ss.as_ref().map_or(0, ss_len);
        let first_room = mtu.checked_sub(first_len).filter(|r| *r > 0);
        let room = mtu.checked_sub(rest_len).filter(|r| *r > 0);
        let (Some(first_room), Some(room)) = (first_room, room) else {
            return Err(Error::MtuTooSmall);
        };
        // The first piece is smaller by the SS; the others equal-sized.
        let after_first = frame.len().saturating_sub(first_room);
        let count = after_first.div_ceil(room);
        let piece = if count == 0 {
            0
        } else {
            after_first.div_ceil(count)
        };
        let (head, tail) = frame.split_at(frame.len().min(first_room));
        let tail_pieces = if piece == 0 {
            Vec::new()
        } else {
            tail.chunks(piece).collect()
        };
        let total = 1 + tail_pieces.len();
        for (i, p) in std::iter::once(head).chain(tail_pieces).enumerate() {
            d.begin = i == 0;
            d.end = i + 1 == total;
            if i == 1 {
                d.ss = None;
            }
            self.scratch.clear();
            d.emit(&mut self.scratch);
            self.scratch.extend_from_slice(p);
            emit(&self.scratch, d.end);
        }
        if let Some(id) = self.template.picture_id {
            self.template.picture_id = Some(id.next());
        }
        Ok(())
    }
}

/// Reassembles VP9 pictures: layer frames from B to E, the picture at the marker.
#[derive(Debug, Clone, Default)]
pub struct Vp9Depacketizer {
    frame: Vec<u8>,
    /// The sizes of the finished layer frames of the picture in progress.
    layers: Vec<usize>,
    in_picture: bool,
    in_layer: bool,
    layer_start: usize,
    picture_id: Option<PictureId>,
}

impl Vp9Depacketizer {
    fn fail(&mut self, e: Error) -> Result<Option<Vec<u8>>, Error> {
        self.frame.clear();
        self.layers.clear();
        self.in_picture = false;
        self.in_layer = false;
        Err(e)
    }

    /// Appends the superframe index (VP9 bitstream specification Annex B) for the layer
    /// frames: a marker octet, each size in the fewest octets (little-endian) that fit the
    /// largest, the marker again.
    fn superframe_index(&mut self) -> Result<(), Error> {
        let n = self.layers.len();
        if n > 8 {
            return Err(Error::BadHeader);
        }
        let largest = self.layers.iter().copied().max().unwrap_or(0);
        let mag = match largest {
            0..=0xff => 1,
            0x100..=0xffff => 2,
            0x1_0000..=0xff_ffff => 3,
            _ => 4,
        };
        if largest > u32::MAX as usize {
            return Err(Error::FrameTooLarge);
        }
        let marker = 0xc0 | ((mag as u8 - 1) << 3) | (n as u8 - 1);
        self.frame.push(marker);
        for &size in &self.layers {
            self.frame
                .extend_from_slice(&(size as u32).to_le_bytes()[..mag]);
        }
        self.frame.push(marker);
        Ok(())
    }
}

impl Depacketizer for Vp9Depacketizer {
    fn push(&mut self, payload: &[u8], marker: bool) -> Result<Option<Vec<u8>>, Error> {
        let (d, n) = match Vp9Descriptor::parse(payload) {
            Ok(v) => v,
            Err(e) => return self.fail(e),
        };
        let body = payload.get(n..).unwrap_or_default();
        if body.is_empty() {
            return self.fail(Error::Empty);
        }
        if d.begin {
            if self.in_layer {
                return self.fail(Error::Unfinished);
            }
            if !self.in_picture {
                self.in_picture = true;
                self.picture_id = d.picture_id;
            } else if d.picture_id != self.picture_id {
                // RFC 9628 §4.2: every layer frame of a picture has its PictureID.
                return self.fail(Error::Unfinished);
            }
            self.in_layer = true;
            self.layer_start = self.frame.len();
        } else if !self.in_layer {
            return self.fail(Error::MissingStart);
        } else if d.picture_id != self.picture_id {
            return self.fail(Error::BadHeader);
        }
        self.frame.extend_from_slice(body);
        if d.end {
            self.in_layer = false;
            self.layers.push(self.frame.len() - self.layer_start);
        }
        if marker {
            if self.in_layer {
                return self.fail(Error::Unfinished);
            }
            if self.layers.len() > 1 {
                if let Err(e) = self.superframe_index() {
                    return self.fail(e);
                }
            }
            self.layers.clear();
            self.in_picture = false;
            return Ok(Some(std::mem::take(&mut self.frame)));
        }
        Ok(None)
    }

    fn starts_frame(&self, payload: &[u8]) -> Option<bool> {
        match Vp9Descriptor::parse(payload) {
            Ok((d, _)) if !d.begin => Some(false),
            // A picture may start at a layer above 0 when a middlebox dropped the lower ones.
            Ok((d, _)) if d.layer.is_some_and(|l| l.spatial_id > 0) => None,
            Ok(_) => Some(true),
            Err(_) => Some(false),
        }
    }

    fn is_keyframe(&self, payload: &[u8]) -> bool {
        is_keyframe(payload)
    }
}
