//! Real encoder output through the packetizers and depacketizers: ffmpeg encodes a few VP8,
//! VP9, H.264, H.265 and AV1 frames, each frame goes through packetize → depacketize, the result is written
//! back and ffprobe must decode every frame. Skipped when ffmpeg is missing, unless CI=true.

use std::path::{Path, PathBuf};
use std::process::Command;

use weft_rtp::codec::av1::{self, read_leb128, Av1Depacketizer, Av1Packetizer};
use weft_rtp::codec::h264::{self, AnnexB, H264Depacketizer, H264Packetizer};
use weft_rtp::codec::h265::{self, H265Depacketizer, H265Packetizer};
use weft_rtp::codec::vp8::{self, Vp8Depacketizer, Vp8Packetizer};
use weft_rtp::codec::vp9::{self, Vp9Depacketizer, Vp9Packetizer};
use weft_rtp::codec::{Depacketizer, Packetizer};

const FRAMES: usize = 5;

fn have_ffmpeg() -> bool {
    let ok = |tool: &str| {
        Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ok("ffmpeg") && ok("ffprobe") {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but ffmpeg/ffprobe missing (scripts/setup installs them)"
    );
    eprintln!("skipping: ffmpeg/ffprobe not installed");
    false
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-rtp-ffmpeg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn encode(codec_args: &[&str], out: &Path) {
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc=size=320x240:rate=10")
        .args(["-frames:v", &FRAMES.to_string()])
        .args(codec_args)
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg encode failed");
}

/// The number of frames ffprobe decodes from `file`.
fn decoded_frames(file: &Path) -> usize {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffprobe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn through(
    p: &mut dyn Packetizer,
    d: &mut dyn Depacketizer,
    frame: &[u8],
    mtu: usize,
) -> (Vec<u8>, Vec<u8>) {
    let mut payloads = Vec::new();
    p.packetize(frame, mtu, &mut |b, m| payloads.push((b.to_vec(), m)))
        .unwrap();
    let mut got = None;
    for (b, m) in &payloads {
        assert!(b.len() <= mtu);
        got = d.push(b, *m).unwrap();
    }
    (
        payloads[0].0.clone(),
        got.expect("the last payload ends the frame"),
    )
}

#[test]
fn ffmpeg_vp8_frames_survive_packetization_and_decode() {
    if !have_ffmpeg() {
        return;
    }
    let ivf = scratch("in.ivf");
    encode(&["-c:v", "libvpx", "-f", "ivf"], &ivf);
    let data = std::fs::read(&ivf).unwrap();
    // IVF: a 32-octet file header (its length at octet 6), then per frame a 12-octet header
    // (32-bit little-endian size, 64-bit timestamp) and the frame.
    let header_len = usize::from(u16::from_le_bytes([data[6], data[7]]));
    let mut out = data[..header_len].to_vec();
    let (mut at, mut frames, mut keyframes) = (header_len, 0, 0);
    let (mut p, mut d) = (
        Vp8Packetizer::with_picture_id(100),
        Vp8Depacketizer::default(),
    );
    while at + 12 <= data.len() {
        let size = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        let frame = &data[at + 12..at + 12 + size];
        let (first, back) = through(&mut p, &mut d, frame, 300);
        assert_eq!(back, frame);
        keyframes += usize::from(vp8::is_keyframe(&first));
        if frames == 0 {
            assert!(
                vp8::is_keyframe(&first),
                "the first VP8 frame is a key frame"
            );
        }
        out.extend_from_slice(&data[at..at + 12]);
        out.extend_from_slice(&back);
        at += 12 + size;
        frames += 1;
    }
    assert_eq!(frames, FRAMES);
    assert!((1..FRAMES).contains(&keyframes));
    let written = scratch("out.ivf");
    std::fs::write(&written, &out).unwrap();
    assert_eq!(decoded_frames(&written), FRAMES);
}

#[test]
fn ffmpeg_h264_access_units_survive_packetization_and_decode() {
    if !have_ffmpeg() {
        return;
    }
    let raw = scratch("in.h264");
    // An access unit delimiter (type 9) before each access unit marks where one begins.
    encode(
        &[
            "-c:v",
            "libx264",
            "-bsf:v",
            "h264_metadata=aud=insert",
            "-f",
            "h264",
        ],
        &raw,
    );
    let data = std::fs::read(&raw).unwrap();
    let mut units: Vec<Vec<u8>> = Vec::new();
    for nal in AnnexB::new(&data) {
        if nal[0] & 0x1f == 9 || units.is_empty() {
            units.push(Vec::new());
        }
        let au = units.last_mut().unwrap();
        au.extend_from_slice(&[0, 0, 0, 1]);
        au.extend_from_slice(nal);
    }
    assert_eq!(units.len(), FRAMES);
    let (mut p, mut d) = (H264Packetizer::default(), H264Depacketizer::default());
    let mut out = Vec::new();
    for (i, au) in units.iter().enumerate() {
        let (first, back) = through(&mut p, &mut d, au, 500);
        assert_eq!(&back, au);
        assert_eq!(
            h264::is_keyframe(&first),
            i == 0,
            "only the first access unit is IDR"
        );
        out.extend_from_slice(&back);
    }
    let written = scratch("out.h264");
    std::fs::write(&written, &out).unwrap();
    assert_eq!(decoded_frames(&written), FRAMES);
}

/// The frames of an IVF file: the file header, then each frame's 12-octet header and data.
fn ivf_frames(data: &[u8]) -> (usize, Vec<(usize, usize)>) {
    let header_len = usize::from(u16::from_le_bytes([data[6], data[7]]));
    let mut at = header_len;
    let mut frames = Vec::new();
    while at + 12 <= data.len() {
        let size = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        frames.push((at, size));
        at += 12 + size;
    }
    (header_len, frames)
}

#[test]
fn ffmpeg_vp9_frames_survive_packetization_and_decode() {
    if !have_ffmpeg() {
        return;
    }
    let ivf = scratch("in-vp9.ivf");
    encode(&["-c:v", "libvpx-vp9", "-g", "3", "-f", "ivf"], &ivf);
    let data = std::fs::read(&ivf).unwrap();
    let (header_len, frames) = ivf_frames(&data);
    assert!(!frames.is_empty());
    let mut out = data[..header_len].to_vec();
    for (flexible, mtu) in [(false, 300), (true, 1000)] {
        let mut p = Vp9Packetizer::with_picture_id(500);
        p.template.flexible = flexible;
        let mut d = Vp9Depacketizer::default();
        let mut keyframes = 0;
        for (i, &(at, size)) in frames.iter().enumerate() {
            let frame = &data[at + 12..at + 12 + size];
            let (first, back) = through(&mut p, &mut d, frame, mtu);
            assert_eq!(back, frame);
            let key = vp9::is_keyframe(&first);
            assert_eq!(key, vp9::frame_is_keyframe(frame));
            if i == 0 {
                assert!(key, "the first VP9 frame is a key frame");
            }
            keyframes += usize::from(key);
            if !flexible {
                out.extend_from_slice(&data[at..at + 12]);
                out.extend_from_slice(&back);
            }
        }
        assert!(keyframes >= 2, "-g 3 over {FRAMES} frames");
    }
    let written = scratch("out-vp9.ivf");
    std::fs::write(&written, &out).unwrap();
    assert_eq!(decoded_frames(&written), FRAMES);
}

#[test]
fn ffmpeg_h265_access_units_survive_packetization_and_decode() {
    if !have_ffmpeg() {
        return;
    }
    let raw = scratch("in.h265");
    // An access unit delimiter (type 35) before each access unit marks where one begins.
    encode(
        &[
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error:keyint=3:min-keyint=3:scenecut=0:bframes=0",
            "-bsf:v",
            "hevc_metadata=aud=insert",
            "-f",
            "hevc",
        ],
        &raw,
    );
    let data = std::fs::read(&raw).unwrap();
    let mut units: Vec<Vec<u8>> = Vec::new();
    for nal in AnnexB::new(&data) {
        if (nal[0] >> 1) & 0x3f == 35 || units.is_empty() {
            units.push(Vec::new());
        }
        let au = units.last_mut().unwrap();
        au.extend_from_slice(&[0, 0, 0, 1]);
        au.extend_from_slice(nal);
    }
    assert_eq!(units.len(), FRAMES);
    let (mut p, mut d) = (H265Packetizer::default(), H265Depacketizer::default());
    let mut out = Vec::new();
    let mut keyframes = 0;
    for (i, au) in units.iter().enumerate() {
        let mut payloads = Vec::new();
        p.packetize(au, 400, &mut |b, m| payloads.push((b.to_vec(), m)))
            .unwrap();
        assert!(h265::starts_access_unit(&payloads[0].0));
        let key = payloads.iter().any(|(b, _)| h265::is_keyframe(b));
        if i == 0 {
            assert!(key, "the first access unit is IRAP");
        }
        keyframes += usize::from(key);
        let (_, back) = through(&mut p, &mut d, au, 400);
        assert_eq!(&back, au);
        out.extend_from_slice(&back);
    }
    assert_eq!(keyframes, 2, "keyint 3 over {FRAMES} frames");
    let written = scratch("out.h265");
    std::fs::write(&written, &out).unwrap();
    assert_eq!(decoded_frames(&written), FRAMES);
}

#[test]
fn ffmpeg_av1_temporal_units_survive_packetization_and_decode() {
    if !have_ffmpeg() {
        return;
    }
    let raw = scratch("in.obu");
    encode(
        &[
            "-c:v",
            "libaom-av1",
            "-cpu-used",
            "8",
            "-g",
            "3",
            "-f",
            "obu",
        ],
        &raw,
    );
    let data = std::fs::read(&raw).unwrap();
    // Temporal units start at temporal delimiter OBUs (type 2).
    let mut units: Vec<Vec<u8>> = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let h = data[at];
        let header_len = if h & 0x04 != 0 { 2 } else { 1 };
        assert!(h & 0x02 != 0, "low-overhead OBUs carry their size");
        let (size, n) = read_leb128(&data[at + header_len..]).unwrap();
        let end = at + header_len + n + size as usize;
        if (h >> 3) & 0x0f == 2 {
            units.push(Vec::new());
        }
        units.last_mut().unwrap().extend_from_slice(&data[at..end]);
        at = end;
    }
    assert_eq!(units.len(), FRAMES);
    let (mut p, mut d) = (Av1Packetizer::default(), Av1Depacketizer::default());
    let mut out = Vec::new();
    let mut keyframes = 0;
    for (i, tu) in units.iter().enumerate() {
        let (first, back) = through(&mut p, &mut d, tu, 300);
        assert_eq!(&back, tu);
        let key = av1::is_keyframe(&first);
        if i == 0 {
            assert!(key, "the first temporal unit starts a coded video sequence");
        }
        keyframes += usize::from(key);
        out.extend_from_slice(&back);
    }
    assert!(keyframes >= 1);
    let written = scratch("out.obu");
    std::fs::write(&written, &out).unwrap();
    assert_eq!(decoded_frames(&written), FRAMES);
}
