//! A data channel association fed arbitrary chunks after a valid setup: never a panic,
//! bounded output.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    weft_sctp::fuzzing::association(std::time::Instant::now(), data);
});
