//! Whatever parses re-encodes to the same bytes, and typed attributes encode back to equal
//! values.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_stun::fuzzing::roundtrip(data));
