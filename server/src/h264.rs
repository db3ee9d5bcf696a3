//! The picture size an H.264 sequence parameter set states (ITU-T H.264 §7.3.2.1.1 syntax,
//! §7.4.2.1.1 semantics), read from the SPS NAL unit of an Annex-B frame (RFC 6184 §5.1
//! depacketized, Annex B byte stream).

// Parses bytes from the network: no indexing that can panic (STYLE.md habit 4).
#![deny(clippy::indexing_slicing)]

/// Width and height from the first SPS (NAL unit type 7) in an Annex-B frame; `None` when
/// there is none or it does not parse.
pub fn sps_size(frame: &[u8]) -> Option<(u16, u16)> {
    nal_units(frame)
        .find(|n| n.first().is_some_and(|h| h & 0x1f == 7))
        .and_then(parse_sps)
}

/// The NAL units of an Annex-B byte stream (split at `00 00 01` start codes; a leading zero
/// byte of a 4-byte start code is left at the end of the previous unit, which the SPS
/// parser never reads that far).
fn nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data.get(i..i + 3) == Some(&[0, 0, 1]) {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .map(|s| s - 3)
        .chain(std::iter::once(data.len()))
        .collect();
    starts
        .into_iter()
        .zip(ends)
        .filter_map(move |(s, e)| data.get(s..e))
}

/// Exp-Golomb bit reader over an RBSP (emulation prevention bytes removed, §7.4.1).
struct Bits {
    rbsp: Vec<u8>,
    pos: usize,
}

impl Bits {
    fn new(nal_payload: &[u8]) -> Bits {
        // H.264 §7.4.1: `00 00 03` in a NAL unit is `00 00` in the RBSP.
        let mut rbsp = Vec::with_capacity(nal_payload.len());
        let mut zeros = 0;
        for &b in nal_payload {
            if zeros >= 2 && b == 3 {
                zeros = 0;
                continue;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            rbsp.push(b);
        }
        Bits { rbsp, pos: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = *self.rbsp.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    /// ue(v), §9.1: at most 31 leading zeros.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    /// se(v), §9.1.1.
    fn se(&mut self) -> Option<i64> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

/// Skips a scaling_list() (§7.3.2.1.1.1) of `size` entries.
fn skip_scaling_list(b: &mut Bits, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            let delta = b.se()?;
            next = (last + delta).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

fn parse_sps(nal: &[u8]) -> Option<(u16, u16)> {
    let mut b = Bits::new(nal.get(1..)?);
    let profile_idc = b.bits(8)?;
    let _constraints = b.bits(8)?;
    let _level_idc = b.bits(8)?;
    let _sps_id = b.ue()?;
    let mut chroma_format_idc = 1;
    let mut separate_colour_plane = 0;
    if matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma_format_idc = b.ue()?;
        if chroma_format_idc == 3 {
            separate_colour_plane = b.bit()?;
        }
        let _bit_depth_luma = b.ue()?;
        let _bit_depth_chroma = b.ue()?;
        let _qpprime_y_zero_transform_bypass = b.bit()?;
        if b.bit()? == 1 {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if b.bit()? == 1 {
                    skip_scaling_list(&mut b, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    let _log2_max_frame_num = b.ue()?;
    match b.ue()? {
        0 => {
            let _log2_max_poc_lsb = b.ue()?;
        }
        1 => {
            let _delta_pic_order_always_zero = b.bit()?;
            let _offset_for_non_ref_pic = b.se()?;
            let _offset_for_top_to_bottom_field = b.se()?;
            let cycle = b.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                let _ = b.se()?;
            }
        }
        _ => {}
    }
    let _max_num_ref_frames = b.ue()?;
    let _gaps = b.bit()?;
    let width_mbs = u64::from(b.ue()?) + 1;
    let height_map_units = u64::from(b.ue()?) + 1;
    let frame_mbs_only = u64::from(b.bit()?);
    if frame_mbs_only == 0 {
        let _mb_adaptive_frame_field = b.bit()?;
    }
    let _direct_8x8_inference = b.bit()?;
    let (mut left, mut right, mut top, mut bottom) = (0u64, 0u64, 0u64, 0u64);
    if b.bit()? == 1 {
        left = u64::from(b.ue()?);
        right = u64::from(b.ue()?);
        top = u64::from(b.ue()?);
        bottom = u64::from(b.ue()?);
    }
    // §7.4.2.1.1: CropUnitX/Y from ChromaArrayType (0 when the colour planes are coded
    // separately or there is no chroma), SubWidthC and SubHeightC (Table 6-1).
    let chroma_array_type = if separate_colour_plane == 1 {
        0
    } else {
        chroma_format_idc
    };
    let (crop_x, crop_y) = match chroma_array_type {
        0 => (1, 2 - frame_mbs_only),
        1 => (2, 2 * (2 - frame_mbs_only)),
        2 => (2, 2 - frame_mbs_only),
        _ => (1, 2 - frame_mbs_only),
    };
    let width = (width_mbs * 16).checked_sub((left + right) * crop_x)?;
    let height =
        ((2 - frame_mbs_only) * height_map_units * 16).checked_sub((top + bottom) * crop_y)?;
    if width == 0 || height == 0 {
        return None;
    }
    Some((u16::try_from(width).ok()?, u16::try_from(height).ok()?))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// SPSs written by libx264 (ffmpeg, `testsrc`): constrained baseline and high profile
    /// 640x360 (coded 640x368, cropped by 8 rows), high profile 1280x720.
    #[test]
    fn x264_sps() {
        let mut frame = vec![0, 0, 0, 1];
        frame.extend(hex("6742c01ed900a02ff970110000030001000003003c0f162e48"));
        frame.extend([0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
        assert_eq!(sps_size(&frame), Some((640, 360)));
        let mut frame = vec![0, 0, 1];
        frame.extend(hex("6764001eacd940a02ff970110000030001000003003c0f162d96"));
        assert_eq!(sps_size(&frame), Some((640, 360)));
        let mut frame = vec![0, 0, 0, 1];
        frame.extend(hex("6764001facd9405005bb0110000003001000000303c0f1831960"));
        assert_eq!(sps_size(&frame), Some((1280, 720)));
    }

    /// 20,000 seeded mutations of a real SPS (bytes flipped, cut short) never panic.
    #[test]
    fn mutated_sps_never_panics() {
        let sps = hex("6764001facd9405005bb0110000003001000000303c0f1831960");
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let mut m = vec![0, 0, 1];
            m.extend(&sps);
            for _ in 0..(next() % 4 + 1) {
                let i = 3 + (next() as usize) % sps.len();
                m[i] = next() as u8;
            }
            m.truncate(3 + (next() as usize) % (sps.len() + 1));
            let _ = sps_size(&m);
        }
    }

    #[test]
    fn no_sps_or_garbage() {
        assert_eq!(sps_size(&[]), None);
        assert_eq!(sps_size(&[0, 0, 1, 0x65, 0x88, 0x80]), None);
        assert_eq!(sps_size(&[0, 0, 1, 0x67]), None);
        assert_eq!(
            sps_size(&[0, 0, 1, 0x67, 0x64, 0, 0x1f, 0, 0, 0, 0, 0]),
            None
        );
    }
}
