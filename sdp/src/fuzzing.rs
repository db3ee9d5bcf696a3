//! Fuzz harness bodies; the targets in `fuzz/fuzz_targets/` call these. They panic only
//! when an invariant of this crate is broken.

/// Parse arbitrary bytes: any result is fine, a panic is a bug.
pub fn parse(data: &[u8]) {
    if let Ok(sd) = crate::parse_bytes(data) {
        let _ = sd.to_sdp_string();
    }
}

/// Whatever parses must write and parse back to the same model, and the canonical text must
/// be a fixed point of parse→write.
#[allow(clippy::panic)]
pub fn roundtrip(data: &[u8]) {
    let Ok(sd) = crate::parse_bytes(data) else {
        return;
    };
    let written = sd.to_sdp_string();
    let again = match crate::parse(&written) {
        Ok(again) => again,
        Err(e) => panic!("written SDP does not parse: {e}\n{written}"),
    };
    if again != sd {
        panic!("model changed in round trip:\n{sd:#?}\n{again:#?}\n{written}");
    }
    let twice = again.to_sdp_string();
    if twice != written {
        panic!("canonical text is not a fixed point:\n{written}\n{twice}");
    }
}
