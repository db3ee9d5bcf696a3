//! The RTP/RTCP fuzz harness on seeded random and mutated packets, so the normal test run
//! exercises it.

use weft_rtp::fuzzing;

#[test]
fn parse_harness_on_random_and_mutated_packets() {
    let mut x: u64 = 0x0123_4567_89ab_cdef;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let base = [
        0x90u8, 0x60, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE, 0, 1, 0x10, 0x61, 0, 0, 1, 2,
        3,
    ];
    for i in 0..20_000 {
        let mut p: Vec<u8> = if i % 2 == 0 {
            base.to_vec()
        } else {
            (0..(next() % 200) as usize).map(|_| next() as u8).collect()
        };
        if !p.is_empty() {
            let at = (next() as usize) % p.len();
            p[at] ^= next() as u8;
        }
        fuzzing::parse(&p);
    }
}
