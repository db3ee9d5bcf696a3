//! A DTLS server or client endpoint fed arbitrary datagram sequences with clock steps:
//! never a panic, bounded output.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_dtls_srtp::fuzzing::endpoint(std::time::Instant::now(), data));
