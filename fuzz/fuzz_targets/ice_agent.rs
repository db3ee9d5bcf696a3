//! An ICE agent after a valid set-up, fed a script of arbitrary datagrams from arbitrary
//! addresses, authenticated checks and responses, and clock jumps: never a panic, never
//! more remote candidates or pairs than its limits.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_ice::fuzzing::agent_script(std::time::Instant::now(), data));
