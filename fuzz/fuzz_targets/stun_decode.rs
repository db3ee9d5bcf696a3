//! Any bytes: STUN parsing, every attribute read, verification, ChannelData and demux never
//! panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_stun::fuzzing::decode(data));
