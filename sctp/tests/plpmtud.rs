//! The path MTU discovery state machine of weft's SCTP engine (`sctp/src/engine/pmtu.rs`,
//! RFC 8899) on its own: the search sequence, stale acknowledgements, black holes. The
//! module is compiled here by path so that these tests, not the crate, own the clock
//! (protocol crates never read one); it depends on `std` alone.

#![allow(clippy::disallowed_methods)] // the tests' epoch only: every `now` comes from here

#[allow(dead_code)]
#[path = "../src/engine/pmtu.rs"]
mod pmtu;

use std::time::{Duration, Instant};

use pmtu::Plpmtud;

/// Runs a search against a path that carries `fits` bytes; returns the probed sizes.
fn search(base: usize, max: usize, fits: usize) -> (Vec<usize>, usize) {
    let mut now = Instant::now();
    let mut p = Plpmtud::new(base, max);
    p.start(now);
    let mut sizes = Vec::new();
    let mut nonce = 0;
    while p.probe_due {
        let size = p.probe_size();
        sizes.push(size);
        nonce += 1;
        p.on_probe_sent(now, nonce, size, Duration::from_millis(400));
        if size <= fits {
            assert!(p.on_ack(now, nonce).is_some());
        } else {
            now += Duration::from_secs(1);
            p.on_timeout(now);
        }
        assert!(sizes.len() < 100);
    }
    (sizes, p.plpmtu)
}

#[test]
fn search_tries_max_first_then_halves_the_range() {
    let (sizes, plpmtu) = search(1200, 1472, 10_000);
    assert_eq!((sizes, plpmtu), (vec![1472], 1472));
    let (sizes, plpmtu) = search(1200, 1472, 1252);
    assert_eq!(plpmtu, 1252);
    // MAX_PROBES losses at each size that does not fit.
    assert_eq!(
        sizes,
        [
            1472, 1472, 1472, 1336, 1336, 1336, 1268, 1268, 1268, 1232, 1248, 1256, 1256, 1256,
            1252
        ]
    );
    let (_, plpmtu) = search(1200, 1472, 1199);
    assert_eq!(plpmtu, 1200, "never below the base");
}

#[test]
fn disabled_when_max_is_not_above_base_and_stale_acks_are_ignored() {
    let now = Instant::now();
    let mut p = Plpmtud::new(1200, 1200);
    p.start(now);
    assert!(!p.probe_due && p.timer.is_none());
    let mut p = Plpmtud::new(1200, 1400);
    p.start(now);
    p.on_probe_sent(now, 7, p.probe_size(), Duration::from_secs(1));
    assert!(p.on_ack(now, 8).is_none());
    assert_eq!(p.plpmtu, 1200);
    assert!(p.on_ack(now, 7).is_some());
    assert_eq!(p.plpmtu, 1400);
    // Search complete at max: no raise timer; a black hole goes back to the base and
    // searches again.
    assert!(p.timer.is_none() && !p.probe_due);
    p.black_hole(now);
    assert_eq!((p.plpmtu, p.probe_due, p.black_holes), (1200, true, 1));
}
