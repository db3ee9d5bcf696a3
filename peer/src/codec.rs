//! Codecs a peer connection offers and how two lists of them meet (RFC 8829 §5.3.1, §5.2.1).

use weft_sdp::{Codec as SdpCodec, MediaDescription};

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `m=audio`.
    Audio,
    /// `m=video`.
    Video,
}

impl MediaKind {
    /// The SDP media token.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }
}

/// The codecs weft can packetize and depacketize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecName {
    /// RFC 7587.
    Opus,
    /// RFC 3551 PCMU.
    Pcmu,
    /// RFC 3551 PCMA.
    Pcma,
    /// RFC 7741.
    Vp8,
    /// RFC 9628.
    Vp9,
    /// RFC 6184.
    H264,
    /// AV1 RTP payload format.
    Av1,
}

impl CodecName {
    /// The rtpmap encoding name.
    pub fn as_str(self) -> &'static str {
        match self {
            CodecName::Opus => "opus",
            CodecName::Pcmu => "PCMU",
            CodecName::Pcma => "PCMA",
            CodecName::Vp8 => "VP8",
            CodecName::Vp9 => "VP9",
            CodecName::H264 => "H264",
            CodecName::Av1 => "AV1",
        }
    }

    /// From an rtpmap encoding name (case-insensitive, RFC 4855 §3).
    pub fn from_encoding(name: &str) -> Option<CodecName> {
        [
            CodecName::Opus,
            CodecName::Pcmu,
            CodecName::Pcma,
            CodecName::Vp8,
            CodecName::Vp9,
            CodecName::H264,
            CodecName::Av1,
        ]
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(name))
    }

    /// Audio or video.
    pub fn kind(self) -> MediaKind {
        match self {
            CodecName::Opus | CodecName::Pcmu | CodecName::Pcma => MediaKind::Audio,
            _ => MediaKind::Video,
        }
    }
}

/// One codec of a media section: payload type, rtpmap, fmtp, feedback, and its RTX payload
/// type (RFC 4588) if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec {
    /// The payload type.
    pub payload_type: u8,
    /// The codec.
    pub name: CodecName,
    /// RTP clock rate.
    pub clock_rate: u32,
    /// Audio channels (Opus: 2 in SDP, RFC 7587 §7).
    pub channels: Option<u16>,
    /// `a=fmtp` parameters as written, `;`-separated, or empty.
    pub fmtp: String,
    /// `a=rtcp-fb` values (`nack`, `nack pli`, `ccm fir`, ...).
    pub feedback: Vec<String>,
    /// The payload type of its RTX stream.
    pub rtx: Option<u8>,
}

impl Codec {
    fn new(pt: u8, name: CodecName, clock_rate: u32, fmtp: &str, rtx: Option<u8>) -> Codec {
        let video = name.kind() == MediaKind::Video;
        Codec {
            payload_type: pt,
            name,
            clock_rate,
            channels: (name == CodecName::Opus).then_some(2),
            fmtp: fmtp.to_owned(),
            feedback: if video {
                vec!["nack".into(), "nack pli".into(), "ccm fir".into()]
            } else {
                Vec::new()
            },
            rtx,
        }
    }

    /// The codecs weft offers by default, with Chromium's payload type numbers where it
    /// has them: Opus, PCMU, PCMA; VP8, VP9 profile 0, H.264 constrained baseline
    /// (packetization mode 1), AV1, each video codec with RTX.
    pub fn defaults(kind: MediaKind) -> Vec<Codec> {
        match kind {
            MediaKind::Audio => vec![
                Codec::new(
                    111,
                    CodecName::Opus,
                    48000,
                    "minptime=10;useinbandfec=1",
                    None,
                ),
                Codec::new(0, CodecName::Pcmu, 8000, "", None),
                Codec::new(8, CodecName::Pcma, 8000, "", None),
            ],
            MediaKind::Video => vec![
                Codec::new(96, CodecName::Vp8, 90000, "", Some(97)),
                Codec::new(98, CodecName::Vp9, 90000, "profile-id=0", Some(99)),
                Codec::new(
                    102,
                    CodecName::H264,
                    90000,
                    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
                    Some(103),
                ),
                Codec::new(45, CodecName::Av1, 90000, "", Some(46)),
            ],
        }
    }

    fn fmtp_get<'s>(&'s self, key: &str) -> Option<&'s str> {
        self.fmtp.split(';').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case(key).then_some(v.trim())
        })
    }

    /// Whether a remote codec is the same format as this one, so that the answer may use
    /// it: name and clock rate, and for H.264 the same profile (RFC 6184 §8.2.2: the
    /// profile_idc and constraint bits of profile-level-id; the level may differ when
    /// level-asymmetry-allowed) and packetization mode; for VP9 the same profile-id.
    fn matches(&self, remote: &Codec) -> bool {
        if self.name != remote.name || self.clock_rate != remote.clock_rate {
            return false;
        }
        match self.name {
            CodecName::H264 => {
                let mode = |c: &Codec| c.fmtp_get("packetization-mode").unwrap_or("0").to_owned();
                let profile = |c: &Codec| {
                    let plid = c.fmtp_get("profile-level-id").unwrap_or("42001f");
                    u32::from_str_radix(plid, 16).ok().map(h264_profile)
                };
                mode(self) == mode(remote)
                    && profile(self).is_some()
                    && profile(self) == profile(remote)
            }
            CodecName::Vp9 => {
                self.fmtp_get("profile-id").unwrap_or("0")
                    == remote.fmtp_get("profile-id").unwrap_or("0")
            }
            _ => true,
        }
    }
}

/// The profile of an H.264 profile-level-id (RFC 6184 §8.1): profile_idc and the
/// constraint flags, with constrained baseline (42 + constraint_set1, or 4d/58 with set1
/// forms) folded to one value the way browsers compare them.
fn h264_profile(plid: u32) -> (u8, bool) {
    let idc = (plid >> 16) as u8;
    let iop = (plid >> 8) as u8;
    // Constrained baseline: baseline/main/extended with constraint_set1_flag (0x40).
    let constrained_baseline = matches!(idc, 0x42 | 0x4d | 0x58) && iop & 0x40 != 0;
    if constrained_baseline {
        (0x42, true)
    } else {
        (idc, iop & 0x10 != 0 && idc == 0x64)
    }
}

/// The codecs of a parsed media section that weft knows, with their RTX payload types.
pub(crate) fn from_section(m: &MediaDescription<'_>) -> Vec<Codec> {
    let all: Vec<SdpCodec<'_, '_>> = m.codecs().collect();
    let mut out = Vec::new();
    for c in &all {
        let (Some(name), Some(clock_rate)) =
            (c.name().and_then(CodecName::from_encoding), c.clock_rate())
        else {
            continue;
        };
        let pt = c.payload_type;
        let rtx = all
            .iter()
            .find(|r| {
                r.name().is_some_and(|n| n.eq_ignore_ascii_case("rtx")) && r.apt() == Some(pt)
            })
            .map(|r| r.payload_type);
        out.push(Codec {
            payload_type: pt,
            name,
            clock_rate,
            channels: c.channels(),
            fmtp: c
                .fmtp()
                .map(|f| f.parameters.as_str().to_owned())
                .unwrap_or_default(),
            feedback: c
                .feedback()
                .map(|fb| match &fb.parameter {
                    Some(p) => format!("{} {}", fb.kind, p),
                    None => fb.kind.to_string(),
                })
                .collect(),
            rtx,
        });
    }
    out
}

/// The answer's codecs (RFC 8829 §5.3.1): the offer's codecs that we support, in the
/// offer's order and with the offer's payload types and parameters; feedback limited to
/// what both list; RTX kept only when both sides have it.
pub(crate) fn intersect(ours: &[Codec], offered: &[Codec]) -> Vec<Codec> {
    offered
        .iter()
        .filter_map(|theirs| {
            let mine = ours.iter().find(|o| o.matches(theirs))?;
            let mut c = theirs.clone();
            c.feedback.retain(|f| mine.feedback.contains(f));
            if mine.rtx.is_none() {
                c.rtx = None;
            }
            Some(c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h264_profiles_compare_like_browsers() {
        // 42e01f and 42c01f are both constrained baseline (constraint_set1 set).
        assert_eq!(h264_profile(0x42e01f), h264_profile(0x42c01f));
        assert_eq!(h264_profile(0x42e01f), h264_profile(0x4de01f));
        // Baseline without constraint_set1 differs.
        assert_ne!(h264_profile(0x42001f), h264_profile(0x42e01f));
        // High differs from constrained baseline.
        assert_ne!(h264_profile(0x640c1f), h264_profile(0x42e01f));
    }

    #[test]
    fn intersection_keeps_offer_order_and_payload_types() {
        let ours = Codec::defaults(MediaKind::Video);
        let mut vp9 = Codec::new(100, CodecName::Vp9, 90000, "profile-id=2", Some(101));
        let vp8 = Codec::new(120, CodecName::Vp8, 90000, "", Some(121));
        let h264 = Codec::new(
            125,
            CodecName::H264,
            90000,
            "profile-level-id=42c01f;packetization-mode=1",
            None,
        );
        vp9.feedback.push("goog-remb".into());
        let got = intersect(&ours, &[vp9, vp8, h264]);
        // VP9 profile 2 is not ours; VP8 and H.264 keep the offer's numbers.
        assert_eq!(
            got.iter()
                .map(|c| (c.name, c.payload_type, c.rtx))
                .collect::<Vec<_>>(),
            vec![
                (CodecName::Vp8, 120, Some(121)),
                (CodecName::H264, 125, None)
            ]
        );
    }
}
