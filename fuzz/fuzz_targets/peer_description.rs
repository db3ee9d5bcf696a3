//! A peer connection given arbitrary remote descriptions (as an offer it answers, or as
//! the answer to its offer) and trickled candidates: typed errors, never a panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use weft_dtls_srtp::cert::{Certificate, Validity};

fn cert() -> &'static Arc<Certificate> {
    static CERT: OnceLock<Arc<Certificate>> = OnceLock::new();
    CERT.get_or_init(|| {
        let rng = ring::rand::SystemRandom::new();
        Arc::new(Certificate::generate_self_signed("fuzz", Validity::default(), &rng).unwrap())
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    weft_peer::fuzzing::description(std::time::Instant::now(), cert(), data);
});
