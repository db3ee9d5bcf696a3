//! Real browser descriptions from `../shared/fixtures/`: each parses, and writing the parsed
//! model gives back the input byte for byte.

use std::path::{Path, PathBuf};

fn fixture_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(sub)
}

fn sdp_fixtures() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for sub in ["sdp", "wire"] {
        let dir = fixture_dir(sub);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("fixtures missing at {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "sdp") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    text,
                ));
            }
        }
    }
    out.sort();
    assert!(
        out.len() >= 8,
        "expected the 8 shared SDP fixtures, found {}",
        out.len()
    );
    out
}

#[test]
fn every_fixture_round_trips_byte_for_byte() {
    for (name, text) in sdp_fixtures() {
        let sd = weft_sdp::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let written = sd.to_sdp_string();
        if written != text {
            for (k, (a, b)) in text.lines().zip(written.lines()).enumerate() {
                assert_eq!(a, b, "{name}: first difference at line {}", k + 1);
            }
            panic!(
                "{name}: lengths differ: {} vs {}",
                text.len(),
                written.len()
            );
        }
        assert_eq!(
            weft_sdp::parse(&written).unwrap(),
            sd,
            "{name}: model round trip"
        );
    }
}

#[test]
fn every_fixture_parses_with_lf_line_endings() {
    for (name, text) in sdp_fixtures() {
        let lf = text.replace("\r\n", "\n");
        let a = weft_sdp::parse(&text).unwrap();
        let b = weft_sdp::parse(&lf).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a, b, "{name}");
        assert_eq!(
            b.to_sdp_string(),
            text,
            "{name}: LF input writes canonical CRLF"
        );
    }
}

#[test]
fn every_fixture_parses_as_bytes_and_owned() {
    for (name, text) in sdp_fixtures() {
        let a = weft_sdp::parse_bytes(text.as_bytes()).unwrap();
        let owned: weft_sdp::SessionDescription<'static> = a.clone().into_owned();
        assert_eq!(owned, a, "{name}");
    }
}
