//! weft's SCTP wire codec: parse, write back, parse again to the same packet.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_sctp::fuzzing::wire(data));
