//! SRTP and SRTCP against libsrtp2, a C implementation nobody here wrote (Debian's
//! `libsrtp2-dev`, 2.5 on NSS). `tests/libsrtp_helper.c` is compiled with gcc at test time
//! and driven over a pipe, one packet a line.
//!
//! Every profile, both ways, on random packets (payloads of 0..=1200 bytes, 0..=15 CSRCs,
//! header extensions, several SSRCs, compound RTCP of random length):
//! - weft protects, libsrtp unprotects to the same plaintext;
//! - libsrtp protects, weft unprotects to the same plaintext;
//! - weft and libsrtp protecting the same packet with the same keys and state write the same
//!   bytes (every profile is deterministic: counter mode, or GCM with an IV from the header).
//!
//! Also: sequence numbers across 65535 (the ROC moves to 1 on both sides; a late weft
//! receiver told the ROC with `set_roc` joins), reordering inside the replay window across
//! the wrap, replay and tamper refused by both, and the SRTCP index at the top of its 31 bits.
//! libsrtp has no API to start sending SRTCP at a high index (its first index is 1 and
//! only 2^31 packets would get it there), so the top of the index space is checked with weft
//! sending from `set_rtcp_index` and libsrtp receiving, and weft's own `IndexExhausted` after
//! 0x7fffffff.
//!
//! Keys come from `MasterKey::from_dtls_export` on random exporter output, weft as the DTLS
//! client and libsrtp as the server. Seeds are fixed and printed in every failure message.
//!
//! Without gcc or libsrtp2 the tests are skipped with a message, except under CI
//! (`CI=true`), where they fail.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use weft_dtls_srtp::srtp::{Context, ContextConfig, Error, MasterKey, SrtpProfile};

const PROFILES: [SrtpProfile; 4] = [
    SrtpProfile::Aes128CmSha1_80,
    SrtpProfile::Aes128CmSha1_32,
    SrtpProfile::AeadAes128Gcm,
    SrtpProfile::AeadAes256Gcm,
];

/// libsrtp's `srtp_err_status_t` values the tests expect.
const LIBSRTP_AUTH_FAIL: i32 = 7;
const LIBSRTP_REPLAY_FAIL: i32 = 9;

fn helper_name(p: SrtpProfile) -> &'static str {
    match p {
        SrtpProfile::Aes128CmSha1_80 => "aes128cm_sha1_80",
        SrtpProfile::Aes128CmSha1_32 => "aes128cm_sha1_32",
        SrtpProfile::AeadAes128Gcm => "aead_aes128_gcm",
        SrtpProfile::AeadAes256Gcm => "aead_aes256_gcm",
    }
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The libsrtp helper process: a sending session and a receiving one.
struct Libsrtp {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    dir: PathBuf,
}

impl Drop for Libsrtp {
    fn drop(&mut self) {
        let _ = self.stdin.write_all(b"quit\n");
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn skip(why: &str) -> Option<Libsrtp> {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}");
    }
    println!("SKIPPED: {why}");
    None
}

impl Libsrtp {
    /// Compiles the helper into a fresh temp dir and starts it; `None` (skipped) without gcc
    /// or libsrtp2.
    fn start(tag: &str) -> Option<Libsrtp> {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/libsrtp_helper.c");
        let dir = std::env::temp_dir().join(format!("weft-libsrtp-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("libsrtp_helper");
        let out = match Command::new("gcc")
            .args(["-O2", "-Wall", "-o"])
            .arg(&exe)
            .arg(src)
            .arg("-lsrtp2")
            .output()
        {
            Ok(out) => out,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return skip(&format!(
                    "gcc not found ({e}); install gcc and libsrtp2-dev"
                ));
            }
        };
        if !out.status.success() {
            let _ = std::fs::remove_dir_all(&dir);
            return skip(&format!(
                "the libsrtp2 helper does not build (is libsrtp2-dev installed?):\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let mut child = Command::new(&exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Some(Libsrtp {
            child,
            stdin,
            stdout,
            dir,
        })
    }

    /// One command; `Ok(answer)` or `Err(srtp_err_status_t)`.
    fn call(&mut self, line: &str) -> Result<String, i32> {
        writeln!(self.stdin, "{line}").unwrap();
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).unwrap();
        let answer = answer.trim_end();
        if let Some(rest) = answer.strip_prefix("ok") {
            Ok(rest.trim_start().to_owned())
        } else if let Some(code) = answer.strip_prefix("err ") {
            Err(code.parse().unwrap())
        } else {
            panic!("libsrtp helper said {answer:?} to {line:?}")
        }
    }

    /// (Re)creates both sessions: libsrtp protects with `tx` and unprotects with `rx`.
    fn init(&mut self, tx: &MasterKey, rx: &MasterKey) {
        let ks = |m: &MasterKey| to_hex(&[&m.key[..], &m.salt[..]].concat());
        let line = format!("init {} {} {}", helper_name(tx.profile), ks(tx), ks(rx));
        self.call(&line).unwrap();
    }

    fn packet(&mut self, op: &str, p: &[u8]) -> Result<Vec<u8>, i32> {
        self.call(&format!("{op} {}", to_hex(p)))
            .map(|h| from_hex(&h))
    }

    fn protect_rtp(&mut self, p: &[u8]) -> Result<Vec<u8>, i32> {
        self.packet("protect_rtp", p)
    }

    fn unprotect_rtp(&mut self, p: &[u8]) -> Result<Vec<u8>, i32> {
        self.packet("unprotect_rtp", p)
    }

    fn protect_rtcp(&mut self, p: &[u8]) -> Result<Vec<u8>, i32> {
        self.packet("protect_rtcp", p)
    }

    fn unprotect_rtcp(&mut self, p: &[u8]) -> Result<Vec<u8>, i32> {
        self.packet("unprotect_rtcp", p)
    }

    /// The rollover counter libsrtp holds for `ssrc` in its sending (`"tx"`) or receiving
    /// (`"rx"`) session.
    fn roc(&mut self, session: &str, ssrc: u32) -> u32 {
        self.call(&format!("roc {session} {ssrc}"))
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// Both ends of one profile: weft is the DTLS client, libsrtp the server.
struct Pair {
    profile: SrtpProfile,
    /// weft protects with the client key; libsrtp unprotects with it.
    weft_tx: Context,
    /// weft unprotects with the server key; libsrtp protects with it.
    weft_rx: Context,
    /// weft protecting with libsrtp's (server) key, in step with libsrtp's sending session:
    /// its output must be libsrtp's, byte for byte.
    weft_mirror: Context,
    /// libsrtp's sending key, for more weft receivers.
    server: MasterKey,
    libsrtp: Libsrtp,
}

fn pair(profile: SrtpProfile, rng: &mut ChaCha8Rng, tag: &str) -> Option<Pair> {
    let mut libsrtp = Libsrtp::start(tag)?;
    let (k, s) = match profile {
        SrtpProfile::AeadAes256Gcm => (32, 12),
        SrtpProfile::AeadAes128Gcm => (16, 12),
        _ => (16, 14),
    };
    // RFC 5764 §4.2: the exporter output, as the DTLS handshake would give it.
    let mut material = vec![0u8; 2 * (k + s)];
    rng.fill_bytes(&mut material);
    let (client, server) = MasterKey::from_dtls_export(profile, &material, true).unwrap();
    // The layout is client key, server key, client salt, server salt.
    assert_eq!(client.key, material[..k]);
    assert_eq!(server.key, material[k..2 * k]);
    assert_eq!(client.salt, material[2 * k..2 * k + s]);
    assert_eq!(server.salt, material[2 * k + s..]);
    let (ours, theirs) = MasterKey::from_dtls_export(profile, &material, false).unwrap();
    assert_eq!((&ours, &theirs), (&server, &client));
    libsrtp.init(&server, &client);
    let cfg = ContextConfig::default();
    Some(Pair {
        profile,
        weft_tx: Context::new(&client, cfg).unwrap(),
        weft_rx: Context::new(&server, cfg).unwrap(),
        weft_mirror: Context::new(&server, cfg).unwrap(),
        server,
        libsrtp,
    })
}

fn weft_protect_rtp(ctx: &mut Context, p: &[u8]) -> Vec<u8> {
    let mut buf = p.to_vec();
    buf.resize(p.len() + 16, 0);
    let n = ctx.protect_rtp(&mut buf, p.len()).unwrap();
    buf.truncate(n);
    buf
}

fn weft_unprotect_rtp(ctx: &mut Context, p: &[u8]) -> Result<Vec<u8>, Error> {
    let mut buf = p.to_vec();
    let n = ctx.unprotect_rtp(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

fn weft_protect_rtcp(ctx: &mut Context, p: &[u8]) -> Result<Vec<u8>, Error> {
    let mut buf = p.to_vec();
    buf.resize(p.len() + 20, 0);
    let n = ctx.protect_rtcp(&mut buf, p.len())?;
    buf.truncate(n);
    Ok(buf)
}

fn weft_unprotect_rtcp(ctx: &mut Context, p: &[u8]) -> Result<Vec<u8>, Error> {
    let mut buf = p.to_vec();
    let n = ctx.unprotect_rtcp(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

fn below(rng: &mut ChaCha8Rng, n: u32) -> u32 {
    rng.next_u32() % n
}

/// A random RTP packet: 0..=15 CSRCs, a header extension half the time (one-byte-header
/// profile 0xBEDE or a random one, 0..=8 words), marker and payload type random, a payload
/// of 0..=1200 random bytes.
fn rtp_packet(rng: &mut ChaCha8Rng, ssrc: u32, seq: u16, ts: u32) -> Vec<u8> {
    let cc = below(rng, 16) as u8;
    let ext = rng.next_u32() & 1 == 1;
    let mut p = vec![0x80 | (u8::from(ext) << 4) | cc];
    p.push((below(rng, 2) as u8) << 7 | (96 + below(rng, 32) as u8));
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    for _ in 0..cc {
        p.extend_from_slice(&rng.next_u32().to_be_bytes());
    }
    if ext {
        let profile: u16 = if rng.next_u32() & 1 == 1 {
            0xbede
        } else {
            rng.next_u32() as u16
        };
        let words = below(rng, 9) as u16;
        p.extend_from_slice(&profile.to_be_bytes());
        p.extend_from_slice(&words.to_be_bytes());
        for _ in 0..words {
            p.extend_from_slice(&rng.next_u32().to_be_bytes());
        }
    }
    let mut payload = vec![0u8; below(rng, 1201) as usize];
    rng.fill_bytes(&mut payload);
    p.extend_from_slice(&payload);
    p
}

/// A random compound RTCP packet from `ssrc`: a sender report with 0..=3 report blocks,
/// then maybe an SDES CNAME, then maybe an APP packet of 0..=63 words.
fn rtcp_packet(rng: &mut ChaCha8Rng, ssrc: u32) -> Vec<u8> {
    let rc = below(rng, 4) as u8;
    let mut p = vec![0x80 | rc, 200];
    p.extend_from_slice(&(6 + 6 * u16::from(rc)).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    let mut body = vec![0u8; 20 + 24 * usize::from(rc)];
    rng.fill_bytes(&mut body);
    p.extend_from_slice(&body);
    if rng.next_u32() & 1 == 1 {
        // SDES: one chunk, CNAME of 1..=40 characters, a null item, padding to 32 bits.
        let cname_len = 1 + below(rng, 40) as usize;
        let mut chunk = ssrc.to_be_bytes().to_vec();
        chunk.extend_from_slice(&[1, cname_len as u8]);
        chunk.extend((0..cname_len).map(|_| b'a' + below(rng, 26) as u8));
        chunk.push(0);
        while !chunk.len().is_multiple_of(4) {
            chunk.push(0);
        }
        p.extend_from_slice(&[0x81, 202]);
        p.extend_from_slice(&((chunk.len() / 4) as u16).to_be_bytes());
        p.extend_from_slice(&chunk);
    }
    if rng.next_u32() & 1 == 1 {
        let words = below(rng, 64) as usize;
        p.extend_from_slice(&[0x80, 204]);
        p.extend_from_slice(&((2 + words) as u16).to_be_bytes());
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.extend_from_slice(b"weft");
        let mut data = vec![0u8; 4 * words];
        rng.fill_bytes(&mut data);
        p.extend_from_slice(&data);
    }
    p
}

/// The SRTCP E flag and index word of a protected packet.
fn srtcp_word(profile: SrtpProfile, p: &[u8]) -> u32 {
    let at = match profile {
        SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => p.len() - 4,
        _ => p.len() - 14,
    };
    u32::from_be_bytes(p[at..at + 4].try_into().unwrap())
}

/// Counts of what one run checked.
#[derive(Default, Debug)]
struct Counts {
    weft_to_libsrtp: usize,
    libsrtp_to_weft: usize,
    byte_identical: usize,
}

impl Pair {
    /// One RTP packet through all three checks.
    fn rtp(&mut self, plain: &[u8], n: &mut Counts, what: &str) {
        let w = weft_protect_rtp(&mut self.weft_tx, plain);
        assert_eq!(w.len(), plain.len() + self.profile.rtp_tag_len(), "{what}");
        let back = self.libsrtp.unprotect_rtp(&w);
        assert_eq!(back.as_deref(), Ok(plain), "{what}: weft -> libsrtp");
        n.weft_to_libsrtp += 1;

        let l = self.libsrtp.protect_rtp(plain).unwrap();
        let back = weft_unprotect_rtp(&mut self.weft_rx, &l);
        assert_eq!(back.as_deref(), Ok(plain), "{what}: libsrtp -> weft");
        n.libsrtp_to_weft += 1;

        let m = weft_protect_rtp(&mut self.weft_mirror, plain);
        assert_eq!(
            to_hex(&m),
            to_hex(&l),
            "{what}: weft and libsrtp bytes differ"
        );
        n.byte_identical += 1;
    }

    /// One RTCP packet through all three checks; `index` is the SRTCP index weft_tx will use
    /// (libsrtp and the mirror use `index + 1`: libsrtp's first index is 1, weft's 0).
    fn rtcp(&mut self, plain: &[u8], index: u32, n: &mut Counts, what: &str) {
        let w = weft_protect_rtcp(&mut self.weft_tx, plain).unwrap();
        assert_eq!(
            w.len(),
            plain.len() + self.profile.rtcp_overhead(),
            "{what}"
        );
        assert_eq!(srtcp_word(self.profile, &w), 0x8000_0000 | index, "{what}");
        assert_ne!(
            &w[8..plain.len()],
            &plain[8..],
            "{what}: E set, body encrypted"
        );
        let back = self.libsrtp.unprotect_rtcp(&w);
        assert_eq!(back.as_deref(), Ok(plain), "{what}: weft -> libsrtp");
        n.weft_to_libsrtp += 1;

        let l = self.libsrtp.protect_rtcp(plain).unwrap();
        assert_eq!(
            srtcp_word(self.profile, &l),
            0x8000_0000 | (index + 1),
            "{what}"
        );
        let back = weft_unprotect_rtcp(&mut self.weft_rx, &l);
        assert_eq!(back.as_deref(), Ok(plain), "{what}: libsrtp -> weft");
        n.libsrtp_to_weft += 1;

        let m = weft_protect_rtcp(&mut self.weft_mirror, plain).unwrap();
        assert_eq!(
            to_hex(&m),
            to_hex(&l),
            "{what}: weft and libsrtp bytes differ"
        );
        n.byte_identical += 1;
    }
}

const SSRCS: [u32; 3] = [0x1234_5678, 0xdead_beef, 0x0000_0001];

#[test]
fn rtp_random_packets_every_profile_both_ways_byte_identical() {
    const SEED: u64 = 0x5eed_0001;
    const PER_SSRC: usize = 150;
    for profile in PROFILES {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let Some(mut pr) = pair(profile, &mut rng, "rtp") else {
            return;
        };
        let mut n = Counts::default();
        // Each SSRC starts at a random sequence number and timestamp; the streams interleave.
        let mut seqs: Vec<u16> = SSRCS.iter().map(|_| rng.next_u32() as u16).collect();
        let mut tss: Vec<u32> = SSRCS.iter().map(|_| rng.next_u32()).collect();
        for i in 0..PER_SSRC * SSRCS.len() {
            let k = below(&mut rng, SSRCS.len() as u32) as usize;
            let plain = rtp_packet(&mut rng, SSRCS[k], seqs[k], tss[k]);
            let what = format!("{profile:?} packet {i} seq {} (seed {SEED:#x})", seqs[k]);
            pr.rtp(&plain, &mut n, &what);
            seqs[k] = seqs[k].wrapping_add(1);
            tss[k] = tss[k].wrapping_add(960);
        }
        println!("{profile:?}: RTP {n:?}");
        assert_eq!(n.byte_identical, PER_SSRC * SSRCS.len());
    }
}

#[test]
fn rtcp_random_compound_packets_every_profile_both_ways_byte_identical() {
    const SEED: u64 = 0x5eed_0002;
    const PACKETS: usize = 300;
    for profile in PROFILES {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let Some(mut pr) = pair(profile, &mut rng, "rtcp") else {
            return;
        };
        for ssrc in SSRCS {
            pr.weft_mirror.set_rtcp_index(ssrc, 1).unwrap();
        }
        let mut n = Counts::default();
        let mut next = [0u32; 3];
        for i in 0..PACKETS {
            let k = below(&mut rng, SSRCS.len() as u32) as usize;
            let plain = rtcp_packet(&mut rng, SSRCS[k]);
            let what = format!("{profile:?} RTCP packet {i} (seed {SEED:#x})");
            pr.rtcp(&plain, next[k], &mut n, &what);
            next[k] += 1;
        }
        println!("{profile:?}: RTCP {n:?}, indices per SSRC {next:?}");
        assert_eq!(n.byte_identical, PACKETS);
    }
}

#[test]
fn rtp_sequence_wrap_moves_the_roc_on_both_sides() {
    const SEED: u64 = 0x5eed_0003;
    const SSRC: u32 = 0x0bad_cafe;
    for profile in PROFILES {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let Some(mut pr) = pair(profile, &mut rng, "wrap") else {
            return;
        };
        let mut n = Counts::default();
        let mut last = Vec::new();
        for i in 0..200u16 {
            let seq = 65_500u16.wrapping_add(i);
            let plain = rtp_packet(&mut rng, SSRC, seq, u32::from(i) * 960);
            pr.rtp(
                &plain,
                &mut n,
                &format!("{profile:?} seq {seq} (seed {SEED:#x})"),
            );
            last = plain;
        }
        // 65500..=65535 then 0..=163: one rollover, seen by libsrtp's sender and receiver.
        assert_eq!(pr.libsrtp.roc("tx", SSRC), 1, "{profile:?}");
        assert_eq!(pr.libsrtp.roc("rx", SSRC), 1, "{profile:?}");
        // weft's ROC is 1 too: its tags and GCM nonces after the wrap matched libsrtp's
        // above. A receiver joining now must be told the ROC (RFC 3711 §3.3.1).
        let seq = u16::from_be_bytes([last[2], last[3]]);
        let next = rtp_packet(&mut rng, SSRC, seq.wrapping_add(1), 0);
        let l = pr.libsrtp.protect_rtp(&next).unwrap();
        let mut late = Context::new(&pr.server, ContextConfig::default()).unwrap();
        assert_eq!(
            weft_unprotect_rtp(&mut late, &l),
            Err(Error::Authentication),
            "{profile:?}: a late receiver assuming ROC 0"
        );
        late.set_roc(SSRC, 1, seq).unwrap();
        assert_eq!(weft_unprotect_rtp(&mut late, &l).as_deref(), Ok(&next[..]));
        println!("{profile:?}: across the wrap {n:?}");
    }
}

/// Shuffles `v` inside consecutive chunks of `width`: every packet arrives less than `width`
/// places from where it was sent.
fn shuffle_within(rng: &mut ChaCha8Rng, v: &mut [Vec<u8>], width: usize) {
    for chunk in v.chunks_mut(width) {
        for i in (1..chunk.len()).rev() {
            let j = below(rng, i as u32 + 1) as usize;
            chunk.swap(i, j);
        }
    }
}

#[test]
fn rtp_reordered_across_the_wrap_accepted_once_by_both() {
    const SEED: u64 = 0x5eed_0004;
    const SSRC: u32 = 0x7777_0001;
    for profile in PROFILES {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let Some(mut pr) = pair(profile, &mut rng, "reorder") else {
            return;
        };
        let plains: Vec<Vec<u8>> = (0..300u16)
            .map(|i| rtp_packet(&mut rng, SSRC, 65_400u16.wrapping_add(i), 0))
            .collect();
        let mut from_weft: Vec<Vec<u8>> = plains
            .iter()
            .map(|p| weft_protect_rtp(&mut pr.weft_tx, p))
            .collect();
        let mut from_libsrtp: Vec<Vec<u8>> = plains
            .iter()
            .map(|p| pr.libsrtp.protect_rtp(p).unwrap())
            .collect();
        // Reordered by up to 31 places, inside the 128-packet windows of both.
        shuffle_within(&mut rng, &mut from_weft, 32);
        shuffle_within(&mut rng, &mut from_libsrtp, 32);
        let seq_of = |p: &[u8]| u16::from_be_bytes([p[2], p[3]]);
        let plain_of = |seq: u16| &plains[usize::from(seq.wrapping_sub(65_400))];
        for (w, l) in from_weft.iter().zip(&from_libsrtp) {
            let what = format!("{profile:?} (seed {SEED:#x})");
            let got = pr.libsrtp.unprotect_rtp(w);
            assert_eq!(got.as_deref(), Ok(&plain_of(seq_of(w))[..]), "{what}");
            let got = weft_unprotect_rtp(&mut pr.weft_rx, l);
            assert_eq!(got.as_deref(), Ok(&plain_of(seq_of(l))[..]), "{what}");
        }
        // Each again, now replays: the last 100 sent are inside both windows.
        for (w, l) in from_weft.iter().zip(&from_libsrtp).skip(200) {
            assert_eq!(pr.libsrtp.unprotect_rtp(w), Err(LIBSRTP_REPLAY_FAIL));
            assert_eq!(weft_unprotect_rtp(&mut pr.weft_rx, l), Err(Error::Replay));
        }
        assert_eq!(pr.libsrtp.roc("rx", SSRC), 1, "{profile:?}");
        println!("{profile:?}: 300 reordered packets each way across the wrap, 100 replays refused each way");
    }
}

#[test]
fn tampered_and_replayed_packets_refused_by_both() {
    const SEED: u64 = 0x5eed_0005;
    const SSRC: u32 = 0x0000_abcd;
    for profile in PROFILES {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let Some(mut pr) = pair(profile, &mut rng, "tamper") else {
            return;
        };
        for i in 0..40u16 {
            let plain = rtp_packet(&mut rng, SSRC, 1000 + i, 0);
            let w = weft_protect_rtp(&mut pr.weft_tx, &plain);
            let l = pr.libsrtp.protect_rtp(&plain).unwrap();
            // One bit anywhere: header, payload or tag.
            let bit = below(&mut rng, 8 * w.len() as u32) as usize;
            let mut bad = w.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let what = format!("{profile:?} seq {} bit {bit} (seed {SEED:#x})", 1000 + i);
            // A flipped version or CSRC-count bit may make the header unparsable rather
            // than wrong: libsrtp then says bad_param (2) or parse_err (21).
            let e = pr.libsrtp.unprotect_rtp(&bad).unwrap_err();
            assert!(
                [LIBSRTP_AUTH_FAIL, 2, 21].contains(&e),
                "{what}: libsrtp said {e}"
            );
            let mut bad = l.clone();
            bad[bit.min(8 * l.len() - 1) / 8] ^= 1 << (bit % 8);
            let e = weft_unprotect_rtp(&mut pr.weft_rx, &bad).unwrap_err();
            assert!(
                matches!(e, Error::Authentication | Error::TooShort),
                "{what}: {e:?}"
            );
            // The refused packet changed nothing: the real one is accepted, then replayed.
            assert_eq!(
                pr.libsrtp.unprotect_rtp(&w).as_deref(),
                Ok(&plain[..]),
                "{what}"
            );
            assert_eq!(
                weft_unprotect_rtp(&mut pr.weft_rx, &l).as_deref(),
                Ok(&plain[..])
            );
            assert_eq!(
                pr.libsrtp.unprotect_rtp(&w),
                Err(LIBSRTP_REPLAY_FAIL),
                "{what}"
            );
            assert_eq!(weft_unprotect_rtp(&mut pr.weft_rx, &l), Err(Error::Replay));
        }
        for i in 0..40 {
            let plain = rtcp_packet(&mut rng, SSRC);
            let w = weft_protect_rtcp(&mut pr.weft_tx, &plain).unwrap();
            let l = pr.libsrtp.protect_rtcp(&plain).unwrap();
            let bit = below(&mut rng, 8 * w.len() as u32) as usize;
            let what = format!("{profile:?} RTCP {i} bit {bit} (seed {SEED:#x})");
            let mut bad = w.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let e = pr.libsrtp.unprotect_rtcp(&bad).unwrap_err();
            assert!(
                [LIBSRTP_AUTH_FAIL, LIBSRTP_REPLAY_FAIL, 2].contains(&e),
                "{what}: {e}"
            );
            let mut bad = l.clone();
            bad[bit.min(8 * l.len() - 1) / 8] ^= 1 << (bit % 8);
            let e = weft_unprotect_rtcp(&mut pr.weft_rx, &bad).unwrap_err();
            assert!(
                matches!(e, Error::Authentication | Error::Replay),
                "{what}: {e:?}"
            );
            assert_eq!(
                pr.libsrtp.unprotect_rtcp(&w).as_deref(),
                Ok(&plain[..]),
                "{what}"
            );
            assert_eq!(
                weft_unprotect_rtcp(&mut pr.weft_rx, &l).as_deref(),
                Ok(&plain[..])
            );
            assert_eq!(
                pr.libsrtp.unprotect_rtcp(&w),
                Err(LIBSRTP_REPLAY_FAIL),
                "{what}"
            );
            assert_eq!(weft_unprotect_rtcp(&mut pr.weft_rx, &l), Err(Error::Replay));
        }
        println!("{profile:?}: 40 RTP + 40 RTCP tampered and replayed, refused each way");
    }
}

#[test]
fn srtcp_index_top_of_31_bits_then_index_exhausted() {
    const SEED: u64 = 0x5eed_0006;
    const SSRC: u32 = 0x4242_4242;
    for profile in PROFILES {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let Some(mut pr) = pair(profile, &mut rng, "index") else {
            return;
        };
        // RFC 3711 §3.4: a 31-bit index; §9.2: after 2^31 SRTCP packets, rekey.
        pr.weft_tx.set_rtcp_index(SSRC, 0x7fff_fff0).unwrap();
        for index in 0x7fff_fff0u32..=0x7fff_ffff {
            let plain = rtcp_packet(&mut rng, SSRC);
            let w = weft_protect_rtcp(&mut pr.weft_tx, &plain).unwrap();
            assert_eq!(srtcp_word(profile, &w), 0x8000_0000 | index, "{profile:?}");
            assert_eq!(pr.libsrtp.unprotect_rtcp(&w).as_deref(), Ok(&plain[..]));
            // libsrtp keeps the window at the top: the same packet again is a replay.
            assert_eq!(pr.libsrtp.unprotect_rtcp(&w), Err(LIBSRTP_REPLAY_FAIL));
        }
        // No index 0x80000000 and no wrap to 0: the context refuses, and keeps refusing.
        let plain = rtcp_packet(&mut rng, SSRC);
        let mut buf = plain.clone();
        buf.resize(plain.len() + 20, 0);
        let before = buf.clone();
        for _ in 0..2 {
            assert_eq!(
                pr.weft_tx.protect_rtcp(&mut buf, plain.len()),
                Err(Error::IndexExhausted),
                "{profile:?}"
            );
            assert_eq!(
                buf, before,
                "{profile:?}: a refused packet is left as it was"
            );
        }
        // Other SSRCs of the context have their own index.
        let other = rtcp_packet(&mut rng, SSRC + 1);
        let w = weft_protect_rtcp(&mut pr.weft_tx, &other).unwrap();
        assert_eq!(srtcp_word(profile, &w), 0x8000_0000, "{profile:?}");
        assert_eq!(pr.libsrtp.unprotect_rtcp(&w).as_deref(), Ok(&other[..]));
        println!("{profile:?}: SRTCP indices 0x7ffffff0..=0x7fffffff accepted by libsrtp, then IndexExhausted");
    }
}
