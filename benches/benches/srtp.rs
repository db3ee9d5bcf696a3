//! SRTP and SRTCP: protect and unprotect of a 1200-byte RTP packet and a 100-byte compound
//! RTCP packet, every WebRTC profile, with weft-dtls-srtp beside webrtc-rs's `webrtc-srtp`
//! (criterion, this process) and libsrtp2 (Debian's, timed by a C program this bench
//! compiles with gcc and runs, `srtp_libsrtp.c`: loading libsrtp here would need `unsafe`).
//!
//! Every implementation gets the same packets, keys and scheme. Packets go through in rings
//! of [`RING`]: before a ring, untimed, the plaintext (protect) or a ring of packets protected
//! once up front (unprotect) is copied into RING buffers; a protect ring gets fresh, increasing
//! sequence numbers (libsrtp refuses a repeated one; the SRTCP index moves by itself); an
//! unprotect ring gets a fresh receiving context with a 128-packet replay window, so every
//! timed unprotect is of a new, valid packet and none is refused as a replay. Only the
//! protect/unprotect calls are timed (criterion's `iter_custom`; `clock_gettime` around each
//! ring in C). webrtc-srtp's API reads `&[u8]` and returns a new `Bytes`: it needs no copy,
//! and its allocation is timed, as it is part of every call.
//!
//! Each group is `srtp_{protect,unprotect}_{rtp_1200,rtcp_100}_PROFILE` with benches `weft`
//! and `webrtc-srtp`; libsrtp2's median is printed after the group, labelled as the C
//! timer's, and also written as `libsrtp2_c_timer` beside criterion's results so
//! `scripts/bench-report srtp_` shows all three. In test mode (`cargo test --benches`) the C
//! program is built and run for one ring, to check it works.
//!
//! Without gcc or libsrtp2 the libsrtp2 column is skipped with a message, except under CI
//! (`CI=true`), where the bench fails.

// Timing with `iter_custom` reads the clock: a bench is an I/O driver.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use webrtc_srtp::protection_profile::ProtectionProfile;
use weft_dtls_srtp::srtp::{Context, ContextConfig, MasterKey, SrtpProfile};

/// Packets per ring (see the crate doc); 128 x 1216 bytes stays in L2.
const RING: usize = 128;

const SSRC: u32 = 0xcafe_babe;

const PROFILES: [(SrtpProfile, &str, ProtectionProfile); 4] = [
    (
        SrtpProfile::Aes128CmSha1_80,
        "aes128cm_sha1_80",
        ProtectionProfile::Aes128CmHmacSha1_80,
    ),
    (
        SrtpProfile::Aes128CmSha1_32,
        "aes128cm_sha1_32",
        ProtectionProfile::Aes128CmHmacSha1_32,
    ),
    (
        SrtpProfile::AeadAes128Gcm,
        "aead_aes128_gcm",
        ProtectionProfile::AeadAes128Gcm,
    ),
    (
        SrtpProfile::AeadAes256Gcm,
        "aead_aes256_gcm",
        ProtectionProfile::AeadAes256Gcm,
    ),
];

fn master(profile: SrtpProfile) -> MasterKey {
    let (k, s) = match profile {
        SrtpProfile::AeadAes256Gcm => (32, 12),
        SrtpProfile::AeadAes128Gcm => (16, 12),
        _ => (16, 14),
    };
    MasterKey {
        profile,
        key: (0..k as u8).map(|i| i.wrapping_mul(29) ^ 0x5a).collect(),
        salt: (0..s as u8).map(|i| i.wrapping_mul(13) ^ 0xa5).collect(),
    }
}

/// A 1200-byte RTP packet: the 12-byte fixed header (PT 111, no CSRC, no extension) and
/// 1188 bytes of payload.
fn rtp_1200() -> Vec<u8> {
    let mut p = vec![0x80, 111, 0, 0];
    p.extend_from_slice(&0x0001_e240u32.to_be_bytes());
    p.extend_from_slice(&SSRC.to_be_bytes());
    p.extend((0..1188u32).map(|i| (i * 7 + 3) as u8));
    assert_eq!(p.len(), 1200);
    p
}

/// A 100-byte compound RTCP packet: a sender report with one report block (52 bytes) and
/// an SDES with a 36-character CNAME (48 bytes).
fn rtcp_100() -> Vec<u8> {
    let mut p = vec![0x81, 200, 0, 12];
    p.extend_from_slice(&SSRC.to_be_bytes());
    p.extend((0..44u32).map(|i| (i * 11 + 1) as u8));
    p.extend_from_slice(&[0x81, 202, 0, 11]);
    p.extend_from_slice(&SSRC.to_be_bytes());
    p.extend_from_slice(&[1, 36]);
    p.extend_from_slice(b"weft-bench-0123456789abcdefghijklmno");
    p.extend_from_slice(&[0, 0]);
    assert_eq!(p.len(), 100);
    p
}

fn set_seq(p: &mut [u8], seq: u16) {
    p[2..4].copy_from_slice(&seq.to_be_bytes());
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Rtp,
    Rtcp,
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Protect,
    Unprotect,
}

/// What one group measures.
#[derive(Clone, Copy)]
struct Case {
    profile: SrtpProfile,
    name: &'static str,
    webrtc: ProtectionProfile,
    kind: Kind,
    op: Op,
}

impl Case {
    fn group(&self) -> String {
        let op = match self.op {
            Op::Protect => "protect",
            Op::Unprotect => "unprotect",
        };
        let kind = match self.kind {
            Kind::Rtp => "rtp_1200",
            Kind::Rtcp => "rtcp_100",
        };
        format!("srtp_{op}_{kind}_{}", self.name)
    }

    fn plain(&self) -> Vec<u8> {
        match self.kind {
            Kind::Rtp => rtp_1200(),
            Kind::Rtcp => rtcp_100(),
        }
    }

    fn c_op(&self) -> &'static str {
        match (self.op, self.kind) {
            (Op::Protect, Kind::Rtp) => "protect_rtp",
            (Op::Unprotect, Kind::Rtp) => "unprotect_rtp",
            (Op::Protect, Kind::Rtcp) => "protect_rtcp",
            (Op::Unprotect, Kind::Rtcp) => "unprotect_rtcp",
        }
    }
}

fn weft_protect(ctx: &mut Context, kind: Kind, buf: &mut [u8], len: usize) -> usize {
    match kind {
        Kind::Rtp => ctx.protect_rtp(buf, len).unwrap(),
        Kind::Rtcp => ctx.protect_rtcp(buf, len).unwrap(),
    }
}

fn weft_unprotect(ctx: &mut Context, kind: Kind, buf: &mut [u8]) -> usize {
    match kind {
        Kind::Rtp => ctx.unprotect_rtp(buf).unwrap(),
        Kind::Rtcp => ctx.unprotect_rtcp(buf).unwrap(),
    }
}

/// The ring of protected packets every unprotect bench reads: sequence numbers (or SRTCP
/// indices) 0..RING, protected by weft. webrtc-srtp must write the same bytes.
fn sealed_ring(case: &Case) -> Vec<Vec<u8>> {
    let key = master(case.profile);
    let mut tx = Context::new(&key, ContextConfig::default()).unwrap();
    let mut wtx = webrtc_context(case, &key, false);
    if case.kind == Kind::Rtcp {
        // webrtc-srtp's (and libsrtp's) first SRTCP index is 1, weft's 0.
        tx.set_rtcp_index(SSRC, 1).unwrap();
    }
    let plain = case.plain();
    (0..RING)
        .map(|i| {
            let mut buf = plain.clone();
            if case.kind == Kind::Rtp {
                set_seq(&mut buf, i as u16);
            }
            let theirs = match case.kind {
                Kind::Rtp => wtx.encrypt_rtp(&buf).unwrap(),
                Kind::Rtcp => wtx.encrypt_rtcp(&buf).unwrap(),
            };
            let len = buf.len();
            buf.resize(len + 20, 0);
            let n = weft_protect(&mut tx, case.kind, &mut buf, len);
            buf.truncate(n);
            assert_eq!(
                &buf[..],
                &theirs[..],
                "{}: weft and webrtc-srtp disagree",
                case.group()
            );
            buf
        })
        .collect()
}

fn webrtc_context(case: &Case, key: &MasterKey, replay: bool) -> webrtc_srtp::context::Context {
    use webrtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
    let (rtp, rtcp) = if replay {
        (
            Some(srtp_replay_protection(128)),
            Some(srtcp_replay_protection(128)),
        )
    } else {
        (None, None)
    };
    webrtc_srtp::context::Context::new(&key.key, &key.salt, case.webrtc, rtp, rtcp).unwrap()
}

/// Runs `iters` packets through `ring`, RING at a time; `ring(n)` prepares `n` packets
/// untimed, then returns the time of processing them.
fn rings(iters: u64, mut ring: impl FnMut(usize) -> Duration) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(RING as u64) as usize;
        total += ring(n);
        left -= n as u64;
    }
    total
}

fn bench_case(c: &mut Criterion, case: Case, libsrtp: Option<&LibsrtpTimer>) {
    let key = master(case.profile);
    let plain = case.plain();
    let len = plain.len();
    let sealed = sealed_ring(&case);
    let mut work: Vec<Vec<u8>> = vec![vec![0u8; len + 20]; RING];

    let mut g = c.benchmark_group(case.group());
    g.throughput(Throughput::Bytes(len as u64));
    match case.op {
        Op::Protect => {
            let mut tx = Context::new(&key, ContextConfig::default()).unwrap();
            let mut seq = 0u16;
            g.bench_function("weft", |b| {
                b.iter_custom(|iters| {
                    rings(iters, |n| {
                        for w in work.iter_mut().take(n) {
                            w[..len].copy_from_slice(&plain);
                            if case.kind == Kind::Rtp {
                                set_seq(w, seq);
                                seq = seq.wrapping_add(1);
                            }
                        }
                        let t0 = Instant::now();
                        for w in work.iter_mut().take(n) {
                            black_box(weft_protect(&mut tx, case.kind, w, len));
                        }
                        t0.elapsed()
                    })
                })
            });
            let mut wtx = webrtc_context(&case, &key, false);
            let mut seq = 0u16;
            let mut plains: Vec<Vec<u8>> = vec![plain.clone(); RING];
            g.bench_function("webrtc-srtp", |b| {
                b.iter_custom(|iters| {
                    rings(iters, |n| {
                        if case.kind == Kind::Rtp {
                            for p in plains.iter_mut().take(n) {
                                set_seq(p, seq);
                                seq = seq.wrapping_add(1);
                            }
                        }
                        let t0 = Instant::now();
                        for p in plains.iter().take(n) {
                            black_box(match case.kind {
                                Kind::Rtp => wtx.encrypt_rtp(p).unwrap(),
                                Kind::Rtcp => wtx.encrypt_rtcp(p).unwrap(),
                            });
                        }
                        t0.elapsed()
                    })
                })
            });
        }
        Op::Unprotect => {
            g.bench_function("weft", |b| {
                b.iter_custom(|iters| {
                    rings(iters, |n| {
                        let mut rx = Context::new(&key, ContextConfig::default()).unwrap();
                        for (w, s) in work.iter_mut().zip(&sealed).take(n) {
                            w.clear();
                            w.extend_from_slice(s);
                        }
                        let t0 = Instant::now();
                        for w in work.iter_mut().take(n) {
                            black_box(weft_unprotect(&mut rx, case.kind, w));
                        }
                        t0.elapsed()
                    })
                })
            });
            g.bench_function("webrtc-srtp", |b| {
                b.iter_custom(|iters| {
                    rings(iters, |n| {
                        let mut rx = webrtc_context(&case, &key, true);
                        let t0 = Instant::now();
                        for s in sealed.iter().take(n) {
                            black_box(match case.kind {
                                Kind::Rtp => rx.decrypt_rtp(s).unwrap(),
                                Kind::Rtcp => rx.decrypt_rtcp(s).unwrap(),
                            });
                        }
                        t0.elapsed()
                    })
                })
            });
        }
    }
    g.finish();
    if let Some(timer) = libsrtp.filter(|t| t.wanted(&case)) {
        timer.run(&case, &key, &plain);
    }
}

/// The compiled C program and how long to run it.
struct LibsrtpTimer {
    exe: PathBuf,
    dir: PathBuf,
    samples: u32,
    batches: u32,
    /// Where criterion writes (`None` in test mode: nothing is written).
    criterion: Option<PathBuf>,
    /// The filter given on the command line (`cargo bench --bench srtp -- FILTER`): cases
    /// whose `group/libsrtp2_c_timer` does not contain it (as a plain substring; criterion
    /// reads it as a regex) are not timed in C either.
    filter: Option<String>,
}

impl Drop for LibsrtpTimer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl LibsrtpTimer {
    fn build(bench_mode: bool) -> Option<LibsrtpTimer> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/srtp_libsrtp.c");
        let dir = std::env::temp_dir().join(format!("weft-bench-libsrtp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("srtp_libsrtp");
        let built = Command::new("gcc")
            .args(["-O2", "-Wall", "-o"])
            .arg(&exe)
            .arg(&src)
            .arg("-lsrtp2")
            .output();
        let why = match built {
            Ok(out) if out.status.success() => None,
            Ok(out) => Some(format!(
                "the libsrtp2 timer does not build (is libsrtp2-dev installed?):\n{}",
                String::from_utf8_lossy(&out.stderr)
            )),
            Err(e) => Some(format!("gcc not found ({e})")),
        };
        if let Some(why) = why {
            let _ = std::fs::remove_dir_all(&dir);
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{why}");
            }
            println!("libsrtp2: SKIPPED: {why}");
            return None;
        }
        let criterion = bench_mode.then(|| {
            std::env::var_os("CRITERION_HOME")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("criterion"))
                })
                .unwrap_or_else(|| {
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion")
                })
        });
        Some(LibsrtpTimer {
            exe,
            dir,
            // 31 samples of 40 rings (5120 packets): about 0.2 to 1 s per case.
            samples: if bench_mode { 31 } else { 1 },
            batches: if bench_mode { 40 } else { 1 },
            criterion,
            filter: cli_filter(),
        })
    }

    fn wanted(&self, case: &Case) -> bool {
        let id = format!("{}/libsrtp2_c_timer", case.group());
        self.filter.as_deref().is_none_or(|f| id.contains(f))
    }

    fn run(&self, case: &Case, key: &MasterKey, plain: &[u8]) {
        let keysalt = [&key.key[..], &key.salt[..]].concat();
        let out = Command::new(&self.exe)
            .args([case.name, &to_hex(&keysalt), case.c_op(), &to_hex(plain)])
            .args([self.samples.to_string(), self.batches.to_string()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let fields: Vec<&str> = text.split_whitespace().collect();
        assert!(
            out.status.success() && fields.first() == Some(&"median_ns"),
            "{}: libsrtp2 timer failed: {text}{}",
            case.group(),
            String::from_utf8_lossy(&out.stderr)
        );
        let num = |i: usize| fields[i].parse::<f64>().unwrap();
        let (median, min, max) = (num(1), num(3), num(5));
        if self.criterion.is_none() {
            println!(
                "{}/libsrtp2_c_timer: ran (test mode: one ring, not a measurement)",
                case.group()
            );
            return;
        }
        println!(
            "{}/libsrtp2_c_timer\n                        median: {:.4} µs   [min {:.4} µs, max {:.4} µs over {} samples of {} packets]\n                        (libsrtp2 2.5 timed by srtp_libsrtp.c with clock_gettime, NOT criterion; same machine, same run, same packets and ring scheme)",
            case.group(),
            median / 1000.0,
            min / 1000.0,
            max / 1000.0,
            self.samples,
            fields[7],
        );
        if let Some(root) = &self.criterion {
            // Beside criterion's own results, in the shape scripts/bench-report reads.
            let dir = root.join(case.group()).join("libsrtp2_c_timer").join("new");
            let json = format!(
                "{{\"note\":\"libsrtp2 timed by benches/benches/srtp_libsrtp.c (clock_gettime), not by criterion\",\"median\":{{\"point_estimate\":{median}}},\"min_ns\":{min},\"max_ns\":{max}}}\n"
            );
            let _ = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(dir.join("estimates.json"), json));
        }
    }
}

/// Criterion's positional FILTER argument, skipping the values of its options.
fn cli_filter() -> Option<String> {
    const TAKES_VALUE: [&str; 16] = [
        "--save-baseline",
        "-s",
        "--baseline",
        "-b",
        "--baseline-lenient",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--profile-time",
        "--color",
        "--output-format",
    ];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if TAKES_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not (criterion's test mode).
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let libsrtp = LibsrtpTimer::build(bench_mode);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    for kind in [Kind::Rtp, Kind::Rtcp] {
        for op in [Op::Protect, Op::Unprotect] {
            for (profile, name, webrtc) in PROFILES {
                let case = Case {
                    profile,
                    name,
                    webrtc,
                    kind,
                    op,
                };
                bench_case(&mut c, case, libsrtp.as_ref());
            }
        }
    }
    c.final_summary();
}
