//! Data channel goodput over long, lossy paths, on weft-netsim's virtual clock (issue 12):
//! one reliable ordered channel between two weft-sctp associations. Two kinds of path:
//! - open: no rate limit, round-trip times of 20, 50 and 100 ms, 0% and 1% loss in each
//!   direction; goodput is then set by the windows and by the reaction to loss alone;
//! - bottleneck: a rate-limited link with a drop-tail queue of one bandwidth-delay product
//!   (100 Mbit/s at the same round trips and losses, and 1 Gbit/s at 50 ms, the path the
//!   issue asks a window to fill), where packets arrive spaced as on a real path and
//!   congestion shows up as queueing and drops.
//!
//! On the open path a whole window arrives in the same instant; sctp-proto then
//! acknowledges once per burst where weft's engine acknowledges every second packet (RFC
//! 9260 §6.2), and sctp-proto's slow start adds up to a whole cwnd per SACK (its source
//! calls it "the TCP way"), so it comes back from a loss faster there than RFC 9260 §7.2
//! allows. With spaced arrivals (the bottleneck rows) that difference goes away.
//!
//! Virtual time makes the figure a property of the SCTP engine (congestion control, loss
//! recovery, windows, SACK policy), not of this machine's CPU; the wall time of each run is
//! printed beside it.
//!
//! Each row runs over both engines weft-sctp offers (`Config::engine`): sctp-proto 0.10,
//! the baseline, and weft's own engine (issue 12), same seeds, same links, same receive
//! window (weft-sctp's default). Two weft engines use I-DATA (RFC 8260) by default
//! (`weft`); `weft-data` is the same with DATA, as toward peers without I-DATA. At
//! 1200-byte packets a 16 KiB message takes 15 I-DATA chunks (1168 bytes of payload each,
//! the last 32) where it takes 14 DATA chunks (1172): 7 % more packets for the same bytes,
//! which the lossy rows show.
//!
//! `cargo bench -p weft-benches --bench sctp_netsim` (3 seeds; `WEFT_NETSIM_SEEDS=N` for
//! more); `cargo test -p weft-benches --bench sctp_netsim` runs a small version (256 KiB,
//! 1 seed).

#![allow(clippy::disallowed_methods)] // wall-clock time of each run, for the reader

#[path = "../../sctp/tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::Sim;
use weft_netsim::LinkConfig;
use weft_sctp::{ChannelOptions, EngineKind, Event, MessageKind};

const MESSAGE: usize = 16 * 1024;
/// Kept buffered at most (the application's window): more than the largest
/// bandwidth-delay product here (1 Gbit/s x 50 ms = 6.25 MB), so the sender's window,
/// not the application, limits the rate.
const BUFFERED: usize = 16 * 1024 * 1024;

/// One path: round trip, loss in each direction, bottleneck rate (0: none).
#[derive(Clone, Copy)]
struct Path {
    rtt_ms: u64,
    loss: f64,
    rate: u64,
}

/// One run: `total` bytes over `path`. Each host's link holds a quarter of the round
/// trip; loss sits on the sender's link only, so each direction loses `loss`; a bottleneck
/// rate sits on the sender's link too, with a drop-tail queue of one bandwidth-delay
/// product. Returns (goodput in Mbit/s of virtual time, virtual seconds, wall seconds, T3
/// timeouts, fast retransmits).
fn run(engine: EngineKind, path: Path, total: usize, seed: u64) -> (f64, f64, f64, u64, u64) {
    let rtt = Duration::from_millis(path.rtt_ms);
    let quarter = rtt / 4;
    let bdp = (path.rate as f64 * rtt.as_secs_f64() / 8.0) as usize;
    let sender = LinkConfig {
        loss: path.loss,
        rate: path.rate,
        queue: if path.rate > 0 {
            bdp.max(64 * 1024)
        } else {
            usize::MAX
        },
        ..LinkConfig::with_delay(quarter)
    };
    let mut sim = Sim::new(engine, seed, LinkConfig::with_delay(quarter));
    sim.net.set_link(weft_netsim::HostId(0), sender);
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
    // More seeds narrow the spread of the lossy rows (each run sees about 70 losses).
    let seeds = std::env::var("WEFT_NETSIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(seeds);
    println!(
        "sctp_netsim: one reliable ordered channel, {} KiB in {} KiB messages ({} KiB at \
         1 Gbit/s), {} seed(s); virtual-time goodput (median) under weft-sctp, over \
         sctp-proto 0.10 and weft's engine",
        total / 1024,
        MESSAGE / 1024,
        total * 8 / 1024,
        seeds
    );
    println!(
        "engine      path        rtt_ms  loss  goodput_mbit_s  virtual_s  wall_s  t3_timeouts  fast_retransmits"
    );
    let mut paths = Vec::new();
    for rate in [0, 100_000_000] {
        for rtt_ms in [20u64, 50, 100] {
            for loss in [0.0, 0.01] {
                paths.push((Path { rtt_ms, loss, rate }, total));
            }
        }
    }
    paths.push((
        Path {
            rtt_ms: 50,
            loss: 0.0,
            rate: 1_000_000_000,
        },
        total * 8,
    ));
    for (path, total) in paths {
        for (name, engine, data_only) in [
            ("sctp-proto", EngineKind::SctpProto, false),
            ("weft", EngineKind::Weft, false),
            ("weft-data", EngineKind::Weft, true),
        ] {
            common::DATA_ONLY.with(|d| d.set(data_only));
            row(name, engine, path, total, seeds);
        }
    }
}

/// One line of the table: the medians over `seeds` runs.
fn row(name: &str, engine: EngineKind, path: Path, total: usize, seeds: u64) {
    let runs: Vec<_> = (0..seeds)
        .map(|s| run(engine, path, total, 0x5ec7 + s))
        .collect();
    let goodput = median(runs.iter().map(|r| r.0).collect());
    let virt = median(runs.iter().map(|r| r.1).collect());
    let wall = median(runs.iter().map(|r| r.2).collect());
    let t3: u64 = runs.iter().map(|r| r.3).sum::<u64>() / seeds;
    let fr: u64 = runs.iter().map(|r| r.4).sum::<u64>() / seeds;
    let kind = match path.rate {
        0 => "open".to_string(),
        r => format!("{} Mbit/s", r / 1_000_000),
    };
    println!(
        "{name:<10}  {kind:<10}  {:>6}  {:>3.0}%  {goodput:>14.2}  {virt:>9.2}  {wall:>6.2}  {t3:>11}  {fr:>16}",
        path.rtt_ms,
        path.loss * 100.0
    );
}
