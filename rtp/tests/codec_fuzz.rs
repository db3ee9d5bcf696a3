//! The depacketizer fuzz harness bodies on seeded random and mutated payload sequences, so the
//! normal test run (with `--all-features`) exercises them.
#![cfg(feature = "fuzzing")]

use weft_rtp::fuzzing;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Random sequences whose payloads start with the header octets that matter (VP8 S/X bits,
/// H.264 STAP-A and FU-A), then mutated.
fn inputs(seed: u64, n: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = Rng(seed);
    (0..n).map(move |_| {
        let mut v = Vec::new();
        for _ in 0..rng.next() % 8 {
            let len = (rng.next() % 40) as u8;
            v.push(len | (rng.next() as u8 & 0x80));
            let heads = [
                0x10, 0x90, 0x00, 0x78, 0x7c, 0x65, 0x41, 0x60, 0x62, 0x26, 0x08, 0x40, 0x80,
            ];
            v.push(heads[(rng.next() % heads.len() as u64) as usize]);
            v.push([0x85, 0x05, 0x45, 0x00, 0x04][(rng.next() % 5) as usize]);
            v.extend((2..len).map(|_| rng.next() as u8));
        }
        if !v.is_empty() && rng.next() & 1 == 0 {
            let at = (rng.next() as usize) % v.len();
            v[at] ^= rng.next() as u8;
        }
        v
    })
}

#[test]
fn depacketize_harnesses_on_random_payload_sequences() {
    for data in inputs(0x5eed_f022, 20_000) {
        fuzzing::depacketize_vp8(&data);
        fuzzing::depacketize_h264(&data);
        fuzzing::depacketize_vp9(&data);
        fuzzing::depacketize_h265(&data);
        fuzzing::depacketize_av1(&data);
        fuzzing::depacketize_audio(&data);
    }
}

#[test]
fn packetize_round_trip_harness_on_random_frames() {
    let mut rng = Rng(0x5eed_f023);
    for data in inputs(0x5eed_f024, 3000) {
        fuzzing::packetize_round_trip(&data);
        // And as an Annex-B access unit with start codes sprinkled in.
        let mut au = data.clone();
        for _ in 0..rng.next() % 6 {
            if au.len() > 2 {
                let at = (rng.next() as usize) % (au.len() - 2) + 2;
                au.splice(at..at, [0, 0, 1]);
            }
        }
        fuzzing::packetize_round_trip(&au);
    }
}

#[test]
fn sample_builder_harness_on_random_scripts() {
    let mut rng = Rng(0x5eed_f025);
    for i in 0..3000 {
        let len = (rng.next() % 3000) as usize;
        let mut data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Some(m) = data.first_mut() {
            *m = i as u8;
        }
        fuzzing::sample_builder(start(), &data);
    }
}

/// The origin of the harness's virtual clock: tests may read the real clock.
#[allow(clippy::disallowed_methods)]
fn start() -> std::time::Instant {
    std::time::Instant::now()
}
