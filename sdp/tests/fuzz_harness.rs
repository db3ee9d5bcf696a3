//! The fuzz harness bodies (`weft_sdp::fuzzing`), run over the real fixtures and simple
//! mutations of them, so the normal test run exercises what the fuzzers exercise.

use std::path::Path;

fn fixtures() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/sdp");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("shared fixtures")
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    out.sort();
    assert!(out.len() >= 6);
    out
}

#[test]
fn harness_round_trips_every_fixture() {
    for f in fixtures() {
        assert!(weft_sdp::parse_bytes(&f).is_ok());
        weft_sdp::fuzzing::parse(&f);
        weft_sdp::fuzzing::roundtrip(&f);
    }
}

#[test]
fn harness_survives_line_drops_and_truncations() {
    for f in fixtures() {
        let text = String::from_utf8(f).unwrap();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        // Every single-line deletion: some parse (an attribute dropped), some must not
        // (v=, o=, s=, t= dropped); the round trip holds for all that parse.
        let mut rejected = 0;
        for skip in 0..lines.len() {
            let mutated: String = lines
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != skip)
                .map(|(_, l)| *l)
                .collect();
            if weft_sdp::parse(&mutated).is_err() {
                rejected += 1;
            }
            weft_sdp::fuzzing::roundtrip(mutated.as_bytes());
        }
        assert!(rejected >= 4, "dropping v=, o=, s= or t= must be rejected");
        for cut in (0..text.len()).step_by(7) {
            weft_sdp::fuzzing::roundtrip(&text.as_bytes()[..cut]);
        }
    }
}
