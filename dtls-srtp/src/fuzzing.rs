//! Fuzz harness bodies for `fuzz/fuzz_targets/dtls_*.rs` (feature `fuzzing`).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::cert::{Certificate, Validity};
use crate::wire::handshake::{self as hs, Fragment, Reassembly};
use crate::wire::record::Record;
use crate::wire::Reader;
use crate::{Config, Endpoint, Output, Role};

/// Any bytes through the record parser, every handshake fragment, reassembly, and every
/// message parser: never a panic.
pub fn parse(data: &[u8]) {
    for rec in Record::parse_all(data) {
        let Ok(rec) = rec else { break };
        let mut r = Reader::new(rec.fragment);
        while let Ok(f) = Fragment::read(&mut r) {
            let mut re = Reassembly::new(&f);
            let _ = re.add(&f);
            let body = re.complete().unwrap_or(f.body);
            let _ = hs::ClientHello::parse(body);
            let _ = hs::ServerHello::parse(body);
            let _ = hs::ServerKeyExchange::parse(body);
            let _ = hs::parse_hello_verify_request(body);
            let _ = hs::parse_certificate(body);
            let _ = hs::parse_certificate_request(body);
            let _ = hs::parse_client_key_exchange(body);
            let _ = hs::parse_signed(body);
            let _ = hs::parse_use_srtp(body);
            let _ = hs::read_u16_list(body, "list");
        }
    }
}

fn cert() -> Option<&'static Certificate> {
    static C: OnceLock<Option<Certificate>> = OnceLock::new();
    C.get_or_init(|| {
        let rng = ring::rand::SystemRandom::new();
        Certificate::generate_self_signed("fuzz", Validity::default(), &rng).ok()
    })
    .as_ref()
}

/// An endpoint (server when the first byte is even, else client) fed a sequence of
/// datagrams split from the input (2-byte big-endian lengths), with clock steps between
/// them: never a panic, and outputs stay bounded per input.
pub fn endpoint(start: Instant, data: &[u8]) {
    let Some(cert) = cert() else { return };
    let role = if data.first().is_some_and(|b| b & 1 == 0) {
        Role::Server
    } else {
        Role::Client
    };
    let mut ep = Endpoint::new(start, Config::new(role, cert.clone().into()), [0; 32]);
    let mut now = start;
    let mut rest = data.get(1..).unwrap_or_default();
    let mut outputs = 0usize;
    while let [a, b, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*a, *b])).min(tail.len());
        let (d, next) = tail.split_at(n);
        rest = next;
        ep.handle_input(now, d);
        now += Duration::from_millis(u64::from(*a & 0x0f) * 100);
        if ep.poll_timeout().is_some_and(|t| t <= now) {
            ep.handle_timeout(now);
        }
        while let Some(o) = ep.poll_output() {
            outputs += 1;
            if let Output::Transmit(t) = o {
                assert!(
                    t.len() <= 1200 || role == Role::Client,
                    "datagram over the MTU"
                );
            }
        }
    }
    assert!(outputs <= 64 * (data.len() + 1));
}

/// Arbitrary packets through SRTP and SRTCP unprotect on keyed contexts of every profile:
/// never a panic, and what unprotects is exactly the packet minus the profile's overhead.
pub fn srtp_unprotect(data: &[u8]) {
    use crate::srtp::{Context, ContextConfig, MasterKey, SrtpProfile};
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let profile = match sel % 4 {
        0 => SrtpProfile::Aes128CmSha1_80,
        1 => SrtpProfile::Aes128CmSha1_32,
        2 => SrtpProfile::AeadAes128Gcm,
        _ => SrtpProfile::AeadAes256Gcm,
    };
    let material: Vec<u8> = (0..profile.keying_material_len())
        .map(|i| i as u8)
        .collect();
    let Ok((k, _)) = MasterKey::from_dtls_export(profile, &material, true) else {
        return;
    };
    let cfg = ContextConfig {
        max_streams: 4,
        ..ContextConfig::default()
    };
    let Ok(mut ctx) = Context::new(&k, cfg) else {
        return;
    };
    for chunk in rest.split(|b| *b == 0xA5) {
        let mut a = chunk.to_vec();
        if let Ok(n) = ctx.unprotect_rtp(&mut a) {
            assert!(n + profile.rtp_tag_len() == chunk.len());
        }
        let mut b = chunk.to_vec();
        if let Ok(n) = ctx.unprotect_rtcp(&mut b) {
            assert!(n + profile.rtcp_overhead() == chunk.len());
        }
    }
}
