//! Data channel goodput over long, lossy paths, on weft-netsim's virtual clock (issue 12):
//! one reliable ordered channel between two weft-sctp associations, round-trip times of 20,
//! 50 and 100 ms, 0% and 1% loss in each direction. Virtual time makes the figure a
//! property of the SCTP engine (congestion control, loss recovery, windows), not of this
//! machine's CPU; the wall time of each run is printed beside it.
//!
//! Each row runs over both engines weft-sctp offers (`Config::engine`): sctp-proto 0.10,
//! the baseline, and weft's own engine (issue 12), same seeds, same links.
//!
//! `cargo bench -p weft-benches --bench sctp_netsim` (8 MiB a run, 3 seeds);
//! `cargo test -p weft-benches --bench sctp_netsim` runs a small version (256 KiB, 1 seed).

#![allow(clippy::disallowed_methods)] // wall-clock time of each run, for the reader

#[path = "../../sctp/tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::Sim;
use weft_netsim::LinkConfig;
use weft_sctp::{ChannelOptions, EngineKind, Event, MessageKind};

const MESSAGE: usize = 16 * 1024;
/// Kept buffered at most (the application's window).
const BUFFERED: usize = 1024 * 1024;

/// One run: `total` bytes over a path of round-trip `rtt` with `loss` in each direction.
/// Returns (goodput in Mbit/s of virtual time, virtual seconds, wall seconds, T3
/// timeouts, fast retransmits).
fn run(
    engine: EngineKind,
    rtt: Duration,
    loss: f64,
    total: usize,
    seed: u64,
) -> (f64, f64, f64, u64, u64) {
    // A datagram crosses the sender's link and the receiver's: each link holds a quarter
    // of the round trip. Loss only on one link, so each direction loses `loss`.
    let quarter = rtt / 4;
    let lossy = LinkConfig {
        loss,
        ..LinkConfig::with_delay(quarter)
    };
    let mut sim = Sim::new(engine, seed, LinkConfig::with_delay(quarter));
    sim.net.set_link(weft_netsim::HostId(0), lossy);
    let id = sim
        .a
        .open_channel("bulk", ChannelOptions::default())
        .expect("channel");
    sim.connect();
    let wall = Instant::now();
    let start = sim.now();
    let chunk = vec![0x5a_u8; MESSAGE];
    let mut sent = 0usize;
    let mut received = 0usize;
    let limit = start + Duration::from_secs(3600);
    while received < total {
        while sent < total && sim.a.buffered_amount(id) < BUFFERED {
            let n = MESSAGE.min(total - sent);
            sim.a
                .send(id, MessageKind::Binary, &chunk[..n])
                .expect("send");
            sent += n;
        }
        sim.flush();
        for e in sim.events_b.drain(..) {
            if let Event::Message { data, .. } = e {
                received += data.len();
            }
        }
        sim.events_a.clear();
        if received >= total {
            break;
        }
        assert!(sim.now() < limit, "an hour of virtual time passed");
        assert!(sim.step(), "nothing pending with data unsent");
    }
    let secs = sim.now().duration_since(start).as_secs_f64();
    let stats = sim.a.stats();
    (
        total as f64 * 8.0 / secs / 1e6,
        secs,
        wall.elapsed().as_secs_f64(),
        stats.t3_timeouts,
        stats.fast_retransmits,
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo test --benches` passes no `--bench`: a small run that still goes through
    // every path.
    let full = std::env::args().any(|a| a == "--bench");
    let (total, seeds) = if full {
        (8 * 1024 * 1024, 3u64)
    } else {
        (256 * 1024, 1)
    };
    println!(
        "sctp_netsim: one reliable ordered channel, {} KiB in {} KiB messages, {} seed(s); \
         virtual-time goodput (median) under weft-sctp, over sctp-proto 0.10 and weft's engine",
        total / 1024,
        MESSAGE / 1024,
        seeds
    );
    println!(
        "engine      rtt_ms  loss  goodput_mbit_s  virtual_s  wall_s  t3_timeouts  fast_retransmits"
    );
    for rtt_ms in [20u64, 50, 100] {
        for loss in [0.0, 0.01] {
            for (name, engine) in [
                ("sctp-proto", EngineKind::SctpProto),
                ("weft", EngineKind::Weft),
            ] {
                row(name, engine, rtt_ms, loss, total, seeds);
            }
        }
    }
}

/// One line of the table: the medians over `seeds` runs.
fn row(name: &str, engine: EngineKind, rtt_ms: u64, loss: f64, total: usize, seeds: u64) {
    let runs: Vec<_> = (0..seeds)
        .map(|s| {
            run(
                engine,
                Duration::from_millis(rtt_ms),
                loss,
                total,
                0x5ec7 + s,
            )
        })
        .collect();
    let goodput = median(runs.iter().map(|r| r.0).collect());
    let virt = median(runs.iter().map(|r| r.1).collect());
    let wall = median(runs.iter().map(|r| r.2).collect());
    let t3: u64 = runs.iter().map(|r| r.3).sum::<u64>() / seeds;
    let fr: u64 = runs.iter().map(|r| r.4).sum::<u64>() / seeds;
    println!(
        "{name:<10}  {rtt_ms:>6}  {:>3.0}%  {goodput:>14.2}  {virt:>9.2}  {wall:>6.2}  {t3:>11}  {fr:>16}",
        loss * 100.0
    );
}
