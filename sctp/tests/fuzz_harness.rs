//! The fuzz harness bodies on fixed and seeded inputs, so CI runs them.

use std::time::Instant;

#[test]
fn dcep_harness_runs_on_samples() {
    weft_sctp::fuzzing::dcep(&[0x03, 0x81, 0, 1, 0, 0, 0, 2, 0, 1, 0, 1, b'a', b'b']);
    weft_sctp::fuzzing::dcep(&[0x02]);
    weft_sctp::fuzzing::dcep(&[0x03, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
}

#[test]
fn association_harness_survives_hostile_chunks() {
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    // Hand-made chunks: ABORT, SHUTDOWN, a truncated DATA, a SACK with a huge gap count,
    // a RE-CONFIG with garbage, an unknown chunk with the "report" bits, a FORWARD-TSN.
    let samples: [&[u8]; 8] = [
        &[4, 6, 0, 0, 4],
        &[8, 7, 0, 0, 8, 0, 0, 0, 1],
        &[9, 0, 3, 0, 40, 0, 0, 0, 9],
        &[16, 3, 0, 0, 16, 0, 0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0, 0],
        &[12, 130, 0, 0, 12, 0, 13, 0, 8, 1, 2, 3, 4],
        &[8, 0xc9, 0, 0, 8, 1, 2, 3, 4],
        &[12, 192, 0, 0, 12, 0xff, 0xff, 0xff, 0xff, 0, 1, 0, 2],
        &[0, 0, 0],
    ];
    // The first byte picks DATA (0) or I-DATA (1) between the two engines.
    for mode in [0u8, 1] {
        let ended: Vec<bool> = samples
            .iter()
            .map(|s| weft_sctp::fuzzing::association(start, &[&[mode], *s].concat()))
            .collect();
        // The ABORT ends the association: the wrapped chunks do reach it.
        assert!(ended[0]);
        // A bare truncated chunk does not.
        assert!(!ended[7]);
    }
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..200 {
        let mut data = Vec::new();
        for _ in 0..64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            data.push(seed as u8);
        }
        weft_sctp::fuzzing::association(start, &data);
    }
}

#[test]
fn wire_harness_round_trips_samples_and_noise() {
    use weft_sctp::wire::{fill_checksum, Checksum};
    // Packets of hand-made chunks: COOKIE ACK; DATA; a SACK with a gap block; an INIT
    // with a cookie and an unknown parameter; an unknown chunk; a DATA with its length
    // cut; a chunk of length 0.
    let chunks: [&[u8]; 7] = [
        &[11, 0, 0, 4],
        &[
            0, 3, 0, 17, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 51, b'x', 0, 0, 0,
        ],
        &[3, 0, 0, 20, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 3],
        &[
            1, 0, 0, 32, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 7, 0, 5, 9, 0, 0, 0,
            0x81, 0x23, 0, 4,
        ],
        &[0xc7, 1, 0, 5, 9, 0, 0, 0],
        &[0, 3, 0, 40, 0, 0, 0, 1],
        &[0, 0, 0, 0],
    ];
    let mut round_tripped = 0;
    for c in chunks {
        let mut p = vec![0x13, 0x88, 0x13, 0x88, 1, 2, 3, 4, 0, 0, 0, 0];
        p.extend_from_slice(c);
        weft_sctp::fuzzing::wire(&p);
        fill_checksum(&mut p, Checksum::Crc32c);
        round_tripped += usize::from(weft_sctp::fuzzing::wire_round_trip(&p).is_some());
    }
    assert_eq!(round_tripped, 5);
    // Found by the fuzzer: an I-FORWARD-TSN entry with reserved bits set (0x00f0) reads
    // the same once they are dropped, so the entries compare by value, not by bytes.
    weft_sctp::fuzzing::wire(&[
        0x13, 0x88, 0x13, 0x88, 0, 0, 0, 1, 0x4f, 0xff, 0xe7, 0x67, 0xc2, 0, 0, 0x18, 0, 0, 0,
        0x10, 0, 1, 0, 0xf0, 0xd2, 0xd9, 0xc8, 5, 0, 2, 0, 0, 0, 0, 0, 6,
    ]);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for len in 0..400 {
        let mut data = Vec::new();
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            data.push(seed as u8);
        }
        weft_sctp::fuzzing::wire(&data);
    }
}
