//! weft's own SCTP engine, established with a second engine, fed arbitrary packets (two
//! length bytes each, checksum made valid): never a panic, bounded output.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    weft_sctp::engine::fuzz_established(std::time::Instant::now(), data);
});
