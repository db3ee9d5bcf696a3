//! The ICE fuzz harness runs here on seeded pseudo-random scripts, so the normal test run
//! exercises it (and its invariants) without cargo-fuzz.

// The virtual clock's origin is the one real clock read.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use weft_ice::fuzzing::agent_script;

#[test]
fn agent_script_survives_seeded_random_scripts() {
    let mut x: u64 = 0x243F_6A88_85A3_08D3;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..300 {
        let len = (next() % 2000) as usize;
        let script: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        agent_script(Instant::now(), &script);
    }
}

#[test]
fn agent_script_floods_checks_from_many_addresses() {
    // Op 1 (authenticated check) from 200 addresses: the remote-candidate and pair limits hold.
    let mut script = vec![1u8];
    for who in 0..200u8 {
        script.extend_from_slice(&[1 | 8, who, 4, who, 1, 2, 3]);
        script.extend_from_slice(&[2, 0, 1, 5]);
        script.extend_from_slice(&[3, who, 1, who]);
    }
    agent_script(Instant::now(), &script);
}
