//! The sample builder fed packets in fuzzer-chosen orders, with loss, duplicates and clock
//! steps: never a panic, memory within its limits, and (VP8 mode) every sample exactly a
//! frame that was sent, in order, once.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    weft_rtp::fuzzing::sample_builder(std::time::Instant::now(), data);
});
