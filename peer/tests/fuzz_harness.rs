//! Replays the fuzz harnesses on real descriptions and on seeded random bytes, so that
//! `cargo test` exercises what the fuzz targets run.

#![allow(clippy::disallowed_methods)]

#[path = "common/sim.rs"]
mod sim;

use std::time::Instant;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use weft_peer::fuzzing;

#[test]
fn descriptions_from_fixtures_and_mutations() {
    let cert = sim::certificate();
    let dir = format!("{}/../../shared/fixtures/sdp", env!("CARGO_MANIFEST_DIR"));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read(entry.unwrap().path()).unwrap();
        for mode in [0u8, 1] {
            let mut input = vec![mode];
            input.extend_from_slice(&text);
            fuzzing::description(Instant::now(), &cert, &input);
            // Byte flips, truncations.
            for _ in 0..20 {
                let mut m = input.clone();
                let i = 1 + (rng.next_u32() as usize) % (m.len() - 1);
                m[i] = rng.next_u32() as u8;
                m.truncate(1 + (rng.next_u32() as usize) % m.len());
                fuzzing::description(Instant::now(), &cert, &m);
            }
        }
    }
}

#[test]
fn random_datagrams() {
    let cert = sim::certificate();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    for _ in 0..200 {
        let mut data = vec![0u8; (rng.next_u32() % 4096) as usize];
        rng.fill_bytes(&mut data);
        fuzzing::datagrams(Instant::now(), &cert, &data);
    }
}
