//! A peer connection that answered an offer meets arbitrary datagrams from arbitrary ports:
//! the RFC 7983 demultiplexer and ICE in front of DTLS and SRTP; never a panic.
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
    weft_peer::fuzzing::datagrams(std::time::Instant::now(), cert(), data);
});
