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

#[test]
fn rtcp_harness_on_random_and_mutated_feedback() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // A compound of REMB and transport-wide feedback with run, 1-bit and 2-bit chunks.
    let mut base = Vec::new();
    weft_rtp::rtcp::write_remb(&mut base, 5, 1_000_000, &[6, 7]).unwrap();
    use weft_rtp::rtcp::PacketStatus::{LargeDelta as L, NotReceived as N, SmallDelta as S};
    let st = [
        S(1),
        S(2),
        N,
        L(-4),
        S(9),
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        S(3),
        S(4),
        N,
        S(5),
    ];
    weft_rtp::rtcp::write_transport_cc(&mut base, 1, 2, 65530, 77, 3, &st).unwrap();
    // Fewer rounds than the RTP one: a debug-built recorder walks windows of up to 1072.
    for i in 0..4_000 {
        let mut p: Vec<u8> = if i % 2 == 0 {
            base.clone()
        } else {
            (0..(next() % 300) as usize).map(|_| next() as u8).collect()
        };
        if !p.is_empty() {
            for _ in 0..(next() % 3) {
                let at = (next() as usize) % p.len();
                p[at] ^= next() as u8;
            }
        }
        fuzzing::rtcp_parse(start(), &p);
        fuzzing::parse(&p);
    }
}

#[test]
fn rtcp_harness_on_mutated_sdes_bye_app_xr() {
    use weft_rtp::rtcp::{self, sdes, DlrrItem};
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut base = Vec::new();
    rtcp::write_sdes(
        &mut base,
        &[
            (
                1,
                &[(sdes::CNAME, &b"cname"[..]), (sdes::TOOL, &b"weft"[..])],
            ),
            (2, &[(sdes::NAME, &b"n"[..])]),
        ],
    )
    .unwrap();
    rtcp::write_bye(&mut base, &[1, 2], Some(b"bye")).unwrap();
    rtcp::write_app(&mut base, 5, 1, *b"weft", &[1, 2, 3, 4]).unwrap();
    let d = DlrrItem {
        ssrc: 3,
        last_rr: 4,
        dlrr: 5,
    };
    rtcp::write_xr(&mut base, 1, Some(0x0102_0304_0506_0708), &[d, d]).unwrap();
    for _ in 0..4_000 {
        let mut p = base.clone();
        for _ in 0..(next() % 3) {
            let at = (next() as usize) % p.len();
            p[at] ^= next() as u8;
        }
        fuzzing::rtcp_parse(start(), &p);
    }
}

/// The origin of the harness's virtual clock: tests may read the real clock.
#[allow(clippy::disallowed_methods)]
fn start() -> std::time::Instant {
    std::time::Instant::now()
}
