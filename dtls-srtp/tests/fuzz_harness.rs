//! The DTLS fuzz harnesses run here on the real Chromium datagrams, on seeded mutations of
//! them and on random scripts, so the normal test run exercises them.

// The virtual clock's origin is the one real clock read.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use weft_dtls_srtp::fuzzing;

fn dtls_datagrams() -> Vec<Vec<u8>> {
    // RFC 7983: DTLS records start with 20-23 (DTLS 1.3 unified headers, 0x2x, are not ours).
    weft_testkit::chromium_call_datagrams()
        .into_iter()
        .map(|d| d.bytes)
        .filter(|b| matches!(b.first(), Some(20..=23)))
        .collect()
}

#[test]
fn parse_harness_on_chromium_dtls_and_mutations() {
    let seeds = dtls_datagrams();
    assert!(
        seeds.len() >= 3,
        "the ClientHello records and the ServerHello"
    );
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for s in &seeds {
        fuzzing::parse(s);
        for _ in 0..200 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut m = s.clone();
            let i = (x as usize) % m.len();
            m[i] ^= (x >> 32) as u8 | 1;
            m.truncate(((x >> 16) as usize % m.len()) + 1);
            fuzzing::parse(&m);
        }
    }
}

#[test]
fn endpoint_harness_on_chromium_hello_and_random_scripts() {
    let seeds = dtls_datagrams();
    for role in [0u8, 1] {
        let mut script = vec![role];
        for s in seeds.iter().take(6) {
            script.extend_from_slice(&(s.len() as u16).to_be_bytes());
            script.extend_from_slice(s);
        }
        fuzzing::endpoint(Instant::now(), &script);
    }
    let mut x: u64 = 0x243F_6A88_85A3_08D3;
    for _ in 0..200 {
        let len = 1 + (x as usize % 3000);
        let script: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        fuzzing::endpoint(Instant::now(), &script);
    }
}

#[test]
fn srtp_unprotect_harness_on_random_packets() {
    let mut x: u64 = 0x1234_5678_9abc_def1;
    for i in 0..2000u32 {
        let len = (x % 400) as usize;
        let mut data = vec![(i % 4) as u8];
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            data.push(x as u8);
        }
        // Half of them look like RTP version 2.
        if let Some(b) = data.get_mut(1) {
            if i % 2 == 0 {
                *b = 0x80 | (*b & 0x1f);
            }
        }
        fuzzing::srtp_unprotect(&data);
    }
}
