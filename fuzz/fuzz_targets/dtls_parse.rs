//! Any bytes: DTLS records, handshake fragments, reassembly and every handshake message
//! parser never panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_dtls_srtp::fuzzing::parse(data));
