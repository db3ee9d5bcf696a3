//! RTP header extensions (RFC 8285): one-byte and two-byte element forms, the id map from
//! SDP `a=extmap`, and typed values of the extensions WebRTC uses. Unknown elements are
//! kept as raw `(id, bytes)`.

use crate::Error;

/// The two RFC 8285 forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionProfile {
    /// 0xBEDE (RFC 8285 §4.2): 4-bit id, 1-16 byte values.
    OneByte,
    /// 0x100X (RFC 8285 §4.3): 8-bit id, 0-255 byte values.
    TwoByte,
}

impl ExtensionProfile {
    /// From the extension block's "defined by profile" field.
    pub fn from_u16(v: u16) -> Option<Self> {
        match v {
            0xBEDE => Some(ExtensionProfile::OneByte),
            v if v & 0xFFF0 == 0x1000 => Some(ExtensionProfile::TwoByte),
            _ => None,
        }
    }
}

/// Iterator over the elements of an extension block.
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    profile: ExtensionProfile,
    data: &'a [u8],
    pos: usize,
}

impl<'a> Extensions<'a> {
    /// Elements of `data` in `profile`'s form.
    pub fn new(profile: ExtensionProfile, data: &'a [u8]) -> Option<Self> {
        Some(Extensions {
            profile,
            data,
            pos: 0,
        })
    }

    /// The first element with `id`.
    pub fn get(&self, id: u8) -> Option<&'a [u8]> {
        self.clone()
            .filter_map(Result::ok)
            .find(|(i, _)| *i == id)
            .map(|(_, v)| v)
    }
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Result<(u8, &'a [u8]), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let b = *self.data.get(self.pos)?;
            match self.profile {
                ExtensionProfile::OneByte => {
                    let id = b >> 4;
                    if id == 0 {
                        // RFC 8285 §4.2: padding byte.
                        self.pos += 1;
                        continue;
                    }
                    if id == 15 {
                        // RFC 8285 §4.2: reserved id 15 ends processing.
                        self.pos = self.data.len();
                        return None;
                    }
                    let len = usize::from(b & 0x0f) + 1;
                    let start = self.pos + 1;
                    let Some(v) = self.data.get(start..start + len) else {
                        self.pos = self.data.len();
                        return Some(Err(Error::BadExtensionLength));
                    };
                    self.pos = start + len;
                    return Some(Ok((id, v)));
                }
                ExtensionProfile::TwoByte => {
                    if b == 0 {
                        self.pos += 1;
                        continue;
                    }
                    let Some(&len) = self.data.get(self.pos + 1) else {
                        self.pos = self.data.len();
                        return Some(Err(Error::BadExtensionLength));
                    };
                    let start = self.pos + 2;
                    let Some(v) = self.data.get(start..start + usize::from(len)) else {
                        self.pos = self.data.len();
                        return Some(Err(Error::BadExtensionLength));
                    };
                    self.pos = start + usize::from(len);
                    return Some(Ok((b, v)));
                }
            }
        }
    }
}

/// Extension URIs WebRTC uses (RFC 8285 §5, SDP `a=extmap`).
pub mod uri {
    /// RFC 8843 §15: the MID.
    pub const SDES_MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
    /// RFC 8852 §3.1: the RID.
    pub const RTP_STREAM_ID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    /// RFC 8852 §3.2: the RID of the stream an RTX stream repairs.
    pub const REPAIRED_RTP_STREAM_ID: &str =
        "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    /// abs-send-time (webrtc.org).
    pub const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    /// transport-wide-cc (draft-holmer-rmcat-transport-wide-cc-extensions-01).
    pub const TRANSPORT_WIDE_CC: &str =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    /// RFC 6464: client-to-mixer audio level.
    pub const SSRC_AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    /// RFC 5450: transmission time offset.
    pub const TOFFSET: &str = "urn:ietf:params:rtp-hdrext:toffset";
    /// 3GPP TS 26.114 coordination of video orientation.
    pub const VIDEO_ORIENTATION: &str = "urn:3gpp:video-orientation";
    /// playout-delay (webrtc.org).
    pub const PLAYOUT_DELAY: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
    /// abs-capture-time (webrtc.org).
    pub const ABS_CAPTURE_TIME: &str =
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";
}

/// The ids a session negotiated for the extensions WebRTC uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtensionMap {
    /// sdes:mid.
    pub mid: Option<u8>,
    /// rtp-stream-id.
    pub rid: Option<u8>,
    /// repaired-rtp-stream-id.
    pub repaired_rid: Option<u8>,
    /// abs-send-time.
    pub abs_send_time: Option<u8>,
    /// transport-wide-cc.
    pub transport_cc: Option<u8>,
    /// ssrc-audio-level.
    pub audio_level: Option<u8>,
    /// toffset.
    pub toffset: Option<u8>,
    /// video-orientation.
    pub video_orientation: Option<u8>,
    /// playout-delay.
    pub playout_delay: Option<u8>,
    /// abs-capture-time.
    pub abs_capture_time: Option<u8>,
}

impl ExtensionMap {
    /// From `(id, uri)` pairs of `a=extmap` lines; unknown URIs are ignored.
    pub fn from_extmap<'u>(entries: impl IntoIterator<Item = (u8, &'u str)>) -> Self {
        let mut m = ExtensionMap::default();
        for (id, u) in entries {
            let slot = match u {
                uri::SDES_MID => &mut m.mid,
                uri::RTP_STREAM_ID => &mut m.rid,
                uri::REPAIRED_RTP_STREAM_ID => &mut m.repaired_rid,
                uri::ABS_SEND_TIME => &mut m.abs_send_time,
                uri::TRANSPORT_WIDE_CC => &mut m.transport_cc,
                uri::SSRC_AUDIO_LEVEL => &mut m.audio_level,
                uri::TOFFSET => &mut m.toffset,
                uri::VIDEO_ORIENTATION => &mut m.video_orientation,
                uri::PLAYOUT_DELAY => &mut m.playout_delay,
                uri::ABS_CAPTURE_TIME => &mut m.abs_capture_time,
                _ => continue,
            };
            *slot = Some(id);
        }
        m
    }

    /// Typed values of every known extension of a packet.
    pub fn read<'a>(&self, exts: &Extensions<'a>) -> ExtensionValues<'a> {
        let get = |id: Option<u8>| id.and_then(|i| exts.get(i));
        let text = |id: Option<u8>| get(id).and_then(|v| std::str::from_utf8(v).ok());
        ExtensionValues {
            mid: text(self.mid),
            rid: text(self.rid),
            repaired_rid: text(self.repaired_rid),
            abs_send_time: get(self.abs_send_time)
                .and_then(|v| be_n(v, 3))
                .map(|v| v as u32),
            transport_cc: get(self.transport_cc)
                .and_then(|v| be_n(v, 2))
                .map(|v| v as u16),
            audio_level: get(self.audio_level)
                .and_then(|v| v.first())
                .map(|b| AudioLevel {
                    voice: b & 0x80 != 0,
                    level: b & 0x7f,
                }),
            toffset: get(self.toffset).and_then(|v| be_n(v, 3)).map(|v| {
                // 24-bit two's complement (RFC 5450 §2).
                ((v as u32) << 8) as i32 >> 8
            }),
            video_orientation: get(self.video_orientation)
                .and_then(|v| v.first())
                .map(|b| VideoOrientation {
                    camera_back: b & 0x08 != 0,
                    flip: b & 0x04 != 0,
                    rotation_degrees: u16::from(b & 0x03) * 90,
                }),
            playout_delay: get(self.playout_delay)
                .and_then(|v| be_n(v, 3))
                .map(|v| PlayoutDelay {
                    min_ms: ((v >> 12) as u16 & 0xfff) * 10,
                    max_ms: (v as u16 & 0xfff) * 10,
                }),
            abs_capture_time: get(self.abs_capture_time).and_then(|v| be_n(v.get(..8)?, 8)),
        }
    }
}

fn be_n(v: &[u8], n: usize) -> Option<u64> {
    if v.len() != n && !(n == 8 && v.len() == 16) {
        return None;
    }
    Some(v.iter().take(n).fold(0u64, |a, b| a << 8 | u64::from(*b)))
}

/// RFC 6464 audio level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioLevel {
    /// The V bit: voice activity.
    pub voice: bool,
    /// -dBov, 0 (loudest) to 127.
    pub level: u8,
}

/// 3GPP video orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoOrientation {
    /// C: back-facing camera.
    pub camera_back: bool,
    /// F: horizontal flip.
    pub flip: bool,
    /// R1R0 × 90.
    pub rotation_degrees: u16,
}

/// playout-delay: minimum and maximum, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayoutDelay {
    /// Minimum.
    pub min_ms: u16,
    /// Maximum.
    pub max_ms: u16,
}

/// The typed extension values of one packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtensionValues<'a> {
    /// sdes:mid.
    pub mid: Option<&'a str>,
    /// rtp-stream-id.
    pub rid: Option<&'a str>,
    /// repaired-rtp-stream-id.
    pub repaired_rid: Option<&'a str>,
    /// abs-send-time, 6.18 fixed-point seconds.
    pub abs_send_time: Option<u32>,
    /// transport-wide sequence number.
    pub transport_cc: Option<u16>,
    /// Audio level.
    pub audio_level: Option<AudioLevel>,
    /// Transmission time offset, in RTP timestamp units.
    pub toffset: Option<i32>,
    /// Video orientation.
    pub video_orientation: Option<VideoOrientation>,
    /// Playout delay.
    pub playout_delay: Option<PlayoutDelay>,
    /// abs-capture-time: the 64-bit NTP timestamp.
    pub abs_capture_time: Option<u64>,
}
