//! Arbitrary packets through SRTP and SRTCP unprotect on a keyed context of each profile:
//! never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_dtls_srtp::fuzzing::srtp_unprotect(data));
