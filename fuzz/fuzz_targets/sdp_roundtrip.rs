//! Whatever parses writes back to text that parses to the same model.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_sdp::fuzzing::roundtrip(data));
