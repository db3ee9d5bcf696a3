//! Data channel throughput: one reliable ordered channel carrying 16 KiB and 1 KiB
//! messages, and the rate of 100-byte messages, with weft-sctp and, in the same run,
//! webrtc-rs's data channels (`webrtc-data` over `webrtc-sctp`, 0.17 line).
//!
//! Transport, the same for both stacks: webrtc-util's in-memory `conn_pipe` (tokio
//! channels), on one tokio current-thread runtime, so both ends' CPU is on one thread.
//! Each side of weft is a small async loop around its sans-IO `Association` (receive from
//! the pipe, timers, send what `poll_output` gives); webrtc-rs runs its own tasks.
//! `weft` uses I-DATA (RFC 8260) between the two weft associations, as weft does by
//! default; `weft_data` the same with DATA. `weft_direct` joins two weft associations
//! without the pipe (each packet handed straight to the other side), to show what the pipe
//! itself costs.
//!
//! The sender behaves as a browser application with back-pressure: it sends while the
//! channel's buffered amount is under 1 MiB and waits for the buffered-amount-low event
//! (threshold 256 KiB) to continue. Receive windows: 1 MiB on both stacks; packets: 1200
//! bytes of SCTP for weft, webrtc-rs's default 1191. An iteration runs from creating the
//! two associations until the receiver has every byte; the handshake is in it (a few
//! microseconds here) and closing is not.

#![allow(clippy::disallowed_methods)] // a bench reads the clock

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokio::sync::Notify;
use webrtc_util::conn::conn_pipe::pipe;
use webrtc_util::conn::Conn;
use weft_sctp::{Association, ChannelOptions, Config, Event, MessageKind, Output, Role};

const HIGH: usize = 1024 * 1024;
const LOW: usize = 256 * 1024;

/// What one iteration moves: `count` messages of `size` bytes.
#[derive(Clone, Copy)]
struct Load {
    size: usize,
    count: usize,
}

impl Load {
    fn bytes(&self) -> usize {
        self.size * self.count
    }
}

// ---------- weft ----------

/// One weft association on one end of the pipe. The sender fills the channel up to
/// HIGH and refills on BufferedAmountLow; the receiver counts bytes.
async fn weft_side(
    role: Role,
    conn: Arc<dyn Conn + Send + Sync>,
    load: Option<Load>,
    total: usize,
    done: Arc<Notify>,
    interleaving: bool,
) {
    let config = Config {
        interleaving,
        ..Config::new(role)
    };
    let mut assoc = Association::new(Instant::now(), config);
    let payload = vec![0x5a; load.map_or(0, |l| l.size)];
    let mut id = None;
    let mut sent = 0;
    let mut received = 0;
    // A reader task drains the pipe into an unbounded queue, so this loop blocking on a
    // full pipe while sending can never stop the peer from sending (both loops share one
    // thread and the pipe holds 16 packets).
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let reader_conn = conn.clone();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok(n) = reader_conn.recv(&mut buf).await {
            if tx.send(buf[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let _abort = AbortOnDrop(reader);
    if load.is_some() {
        let ch = assoc
            .open_channel("bench", ChannelOptions::default())
            .unwrap();
        assoc.set_buffered_amount_low_threshold(ch, LOW).unwrap();
        id = Some(ch);
    }
    loop {
        let mut refill = false;
        while let Some(o) = assoc.poll_output() {
            match o {
                Output::Transmit(p) => {
                    if conn.send(&p).await.is_err() {
                        return;
                    }
                }
                Output::Event(Event::ChannelOpen { .. } | Event::BufferedAmountLow { .. }) => {
                    refill = true
                }
                Output::Event(Event::Message { data, .. }) => {
                    received += data.len();
                    if received >= total {
                        done.notify_waiters();
                        return;
                    }
                }
                Output::Event(_) => {}
            }
        }
        if let (true, Some(ch), Some(load)) = (refill, id, load) {
            while sent < load.count && assoc.buffered_amount(ch) < HIGH {
                assoc.send(ch, MessageKind::Binary, &payload).unwrap();
                sent += 1;
            }
            continue;
        }
        let wake = assoc
            .poll_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(1));
        tokio::select! {
            r = rx.recv() => match r {
                Some(p) => {
                    assoc.handle_input_bytes(Instant::now(), Bytes::from(p));
                    while let Ok(p) = rx.try_recv() {
                        assoc.handle_input_bytes(Instant::now(), Bytes::from(p));
                    }
                }
                None => return,
            },
            _ = tokio::time::sleep(wake) => assoc.handle_timeout(Instant::now()),
            _ = done.notified() => return,
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Two weft associations over the pipe; with `interleaving` they use I-DATA (RFC 8260),
/// else DATA.
async fn weft_pipe(load: Load, interleaving: bool) {
    let (a, b) = pipe();
    let (a, b): (Arc<dyn Conn + Send + Sync>, Arc<dyn Conn + Send + Sync>) =
        (Arc::new(a), Arc::new(b));
    let done = Arc::new(Notify::new());
    let i = interleaving;
    let sender = tokio::spawn(weft_side(Role::Client, a, Some(load), 0, done.clone(), i));
    weft_side(Role::Server, b, None, load.bytes(), done, i).await;
    let _ = sender.await;
}

/// Two weft associations joined directly: every packet handed to the other side at once.
fn weft_direct(load: Load) {
    let now = Instant::now();
    let mut a = Association::new(now, Config::new(Role::Client));
    let mut b = Association::new(now, Config::new(Role::Server));
    let ch = a.open_channel("bench", ChannelOptions::default()).unwrap();
    a.set_buffered_amount_low_threshold(ch, LOW).unwrap();
    let payload = vec![0x5a; load.size];
    let (mut sent, mut received) = (0, 0);
    while received < load.bytes() {
        let now = Instant::now();
        let mut refill = false;
        let mut moved = false;
        while let Some(o) = a.poll_output() {
            match o {
                Output::Transmit(p) => {
                    b.handle_input_bytes(now, p);
                    moved = true;
                }
                Output::Event(Event::ChannelOpen { .. } | Event::BufferedAmountLow { .. }) => {
                    refill = true
                }
                Output::Event(_) => {}
            }
        }
        while let Some(o) = b.poll_output() {
            match o {
                Output::Transmit(p) => {
                    a.handle_input_bytes(now, p);
                    moved = true;
                }
                Output::Event(Event::Message { data, .. }) => received += data.len(),
                Output::Event(_) => {}
            }
        }
        if refill {
            while sent < load.count && a.buffered_amount(ch) < HIGH {
                a.send(ch, MessageKind::Binary, &payload).unwrap();
                sent += 1;
            }
        } else if !moved {
            // Nothing in flight: a delayed SACK or a timer is due.
            let t = [a.poll_timeout(), b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            if let Some(t) = t {
                std::thread::sleep(t.saturating_duration_since(Instant::now()));
                a.handle_timeout(Instant::now());
                b.handle_timeout(Instant::now());
            }
        }
    }
}

// ---------- webrtc-rs ----------

fn rs_config(conn: Arc<dyn Conn + Send + Sync>, name: &str) -> webrtc_sctp::association::Config {
    webrtc_sctp::association::Config {
        net_conn: conn,
        max_receive_buffer_size: 1024 * 1024,
        max_message_size: 256 * 1024,
        mtu: 0,
        name: name.into(),
        remote_port: 5000,
        local_port: 5000,
    }
}

async fn webrtc_rs_pipe(load: Load) {
    use webrtc_data::data_channel::{Config as DcConfig, DataChannel};
    use webrtc_sctp::association::Association as RsAssociation;
    let (a, b) = pipe();
    let (a, b): (Arc<dyn Conn + Send + Sync>, Arc<dyn Conn + Send + Sync>) =
        (Arc::new(a), Arc::new(b));
    let server = tokio::spawn(async move {
        let assoc = Arc::new(RsAssociation::server(rs_config(b, "server")).await.unwrap());
        let none: &[DataChannel] = &[];
        let config = DcConfig {
            max_message_size: 256 * 1024,
            ..DcConfig::default()
        };
        let dc = DataChannel::accept(&assoc, config, none).await.unwrap();
        let mut buf = vec![0u8; 256 * 1024];
        let mut received = 0;
        while received < load.bytes() {
            let (n, _) = dc.read_data_channel(&mut buf).await.unwrap();
            received += n;
        }
        assoc
    });
    let assoc = Arc::new(RsAssociation::client(rs_config(a, "client")).await.unwrap());
    let dc = DataChannel::dial(
        &assoc,
        0,
        DcConfig {
            label: "bench".into(),
            max_message_size: 256 * 1024,
            ..DcConfig::default()
        },
    )
    .await
    .unwrap();
    let low = Arc::new(Notify::new());
    let low2 = low.clone();
    dc.set_buffered_amount_low_threshold(LOW);
    dc.on_buffered_amount_low(Box::new(move || {
        let low = low2.clone();
        Box::pin(async move { low.notify_one() })
    }));
    let payload = Bytes::from(vec![0x5a; load.size]);
    for _ in 0..load.count {
        if dc.buffered_amount() >= HIGH {
            low.notified().await;
        }
        dc.write_data_channel(&payload, false).await.unwrap();
    }
    let server_assoc = server.await.unwrap();
    let _ = assoc.close().await;
    let _ = server_assoc.close().await;
}

// ---------- criterion ----------

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn bench_load(c: &mut Criterion, name: &str, load: Load) {
    let rt = runtime();
    let mut group = c.benchmark_group(format!("sctp/{name}"));
    group.throughput(Throughput::Bytes(load.bytes() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("weft", |b| b.iter(|| rt.block_on(weft_pipe(load, true))));
    group.bench_function("weft_data", |b| {
        b.iter(|| rt.block_on(weft_pipe(load, false)))
    });
    group.bench_function("webrtc_rs", |b| {
        b.iter(|| rt.block_on(webrtc_rs_pipe(load)))
    });
    group.bench_function("weft_direct", |b| b.iter(|| weft_direct(load)));
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_load(
        c,
        "16KiB_x_512",
        Load {
            size: 16 * 1024,
            count: 512,
        },
    );
    bench_load(
        c,
        "1KiB_x_8192",
        Load {
            size: 1024,
            count: 8192,
        },
    );
    bench_load(
        c,
        "100B_x_10000",
        Load {
            size: 100,
            count: 10_000,
        },
    );
}

criterion_group!(sctp, benches);
criterion_main!(sctp);
