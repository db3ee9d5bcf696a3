//! Any bytes: parsing (and writing what parses) never panics.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_sdp::fuzzing::parse(data));
