//! Any bytes as an RTCP compound (REMB and transport-wide feedback rebuilt and read back) and
//! as a transport-wide-cc receive history fed to the TWCC recorder: never a panic, every
//! feedback it builds parses.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_rtp::fuzzing::rtcp_parse(std::time::Instant::now(), data));
