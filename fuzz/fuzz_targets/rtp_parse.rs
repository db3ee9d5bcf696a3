//! Any bytes as RTP (extensions read, rewritten and parsed back) and as an RTCP compound:
//! never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_rtp::fuzzing::parse(data));
