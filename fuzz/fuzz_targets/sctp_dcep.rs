//! DCEP messages (RFC 8832): parse, and whatever parses writes back to the same message.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_sctp::fuzzing::dcep(data));
