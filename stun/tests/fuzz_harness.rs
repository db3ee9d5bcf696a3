//! The fuzz harness bodies run on the real inputs they will be seeded with, and on simple
//! mutations of them, so the normal test run exercises them.

use weft_stun::fuzzing;

fn seeds() -> Vec<Vec<u8>> {
    weft_testkit::chromium_call_datagrams()
        .into_iter()
        .map(|d| d.bytes)
        .collect()
}

#[test]
fn harnesses_accept_the_chromium_call_and_its_mutations() {
    let seeds = seeds();
    assert!(seeds.len() > 300);
    let mut runs = 0;
    for seed in &seeds {
        fuzzing::decode(seed);
        fuzzing::roundtrip(seed);
        runs += 1;
        // Every single-byte change and every truncation of the STUN messages.
        if seed.first().is_some_and(|&b| b < 4) {
            for i in 0..seed.len() {
                for delta in [1u8, 0x80, 0xff] {
                    let mut m = seed.clone();
                    m[i] = m[i].wrapping_add(delta);
                    fuzzing::decode(&m);
                    fuzzing::roundtrip(&m);
                    runs += 1;
                }
                fuzzing::decode(&seed[..i]);
                fuzzing::roundtrip(&seed[..i]);
            }
        }
    }
    assert!(runs > 5_000, "{runs}");
}
