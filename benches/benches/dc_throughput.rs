//! Full-stack data channel throughput over loopback (issue 12's baseline): two peer
//! connections in one process, each on its own real UDP socket on 127.0.0.1, ICE, DTLS
//! and SCTP all the way; one reliable ordered channel carries `total` bytes as 16 KiB
//! binary messages from A to B. An iteration is timed from the first send until B's
//! application has every byte of it; connection setup (gathering, ICE, DTLS, SCTP and
//! DCEP) happens once per stack, before the first iteration, outside the timing
//! (criterion's `iter_custom`).
//!
//! Stacks, in the same run, with the same message size and the same total:
//! - `weft`: weft-peer's tokio `PeerConnection` (SCTP on sctp-proto 0.10.8, through
//!   weft-sctp);
//! - `weft_engine`: the same, over weft's own SCTP engine (the default since issue 12),
//!   which uses I-DATA (RFC 8260) between two weft peers; `weft_engine_data`: the same
//!   with DATA (I-DATA not declared), as with peers that lack it;
//! - `webrtc_rs`: webrtc-rs's `webrtc` 0.21 `PeerConnection` (its own SCTP, `rtc-sctp`),
//!   default codecs and interceptors, as a user builds it;
//! - `str0m`: str0m 0.24's sans-IO `Rtc` (SCTP on sctp-proto 0.10.8, pure-Rust crypto
//!   backend) driven by a small tokio task per peer around a tokio `UdpSocket`: receive,
//!   timers, transmit what `poll_output` gives, as its `chat` example does with threads.
//!
//! All three run on one tokio multi-thread runtime with two workers (this machine has two
//! cores). The sending application keeps each stack's own measure of what is queued (weft's
//! `bufferedAmount`, webrtc-rs's `outstanding_bytes`, str0m's `buffered_amount`) under
//! 1 MiB: it sends while a message fits under that bound and otherwise looks again after
//! 1 ms. The receiver only counts bytes.
//!
//! `cargo bench` moves 16 MiB per iteration; `cargo test --benches` (criterion's test mode,
//! one iteration each) only 256 KiB, so CI stays fast.
//!
//! Profile weft alone: `perf record -e cpu-clock -g BENCH_BINARY --bench 'dc_throughput/weft$'`.

#![allow(clippy::disallowed_methods)] // a bench reads the clock and drives real sockets

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, SamplingMode, Throughput};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, watch};

/// The size of every message.
const MESSAGE: usize = 16 * 1024;
/// The sender keeps at most this much queued in the stack.
const HIGH: usize = 1024 * 1024;
/// How long the sender waits before looking at the queue again when it is full.
const POLL: Duration = Duration::from_millis(1);
/// Bytes per iteration in bench mode and in test mode.
const TOTAL_BENCH: usize = 16 * 1024 * 1024;
const TOTAL_TEST: usize = 256 * 1024;
/// The bound on connection setup and on one iteration: it only turns a hang into a failure.
const LIMIT: Duration = Duration::from_secs(60);

async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(LIMIT, f).await {
        Ok(t) => t,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// Bytes B's application has received since setup, and a way to wait for a total.
#[derive(Clone)]
struct Received(watch::Receiver<u64>);

impl Received {
    async fn reach(&mut self, total: u64) {
        within("receiver", self.0.wait_for(|n| *n >= total))
            .await
            .expect("receiver ended");
    }
}

/// One stack's connected pair: `send` moves `bytes` (whole messages) from A to B with
/// back-pressure, returning once they are queued; `received` tells what B got.
trait Pair {
    async fn send(&mut self, bytes: usize);
    fn received(&self) -> Received;
    async fn close(self);
}

/// Times `iters` iterations of `total` bytes each on a connected pair.
async fn run<P: Pair>(pair: &mut P, sent: &mut u64, iters: u64, total: usize) -> Duration {
    let mut received = pair.received();
    let start = Instant::now();
    for _ in 0..iters {
        pair.send(total).await;
        *sent += total as u64;
        received.reach(*sent).await;
    }
    start.elapsed()
}

// --- weft ---------------------------------------------------------------------------------

mod weft {
    use super::*;
    use weft_peer::{
        ChannelOptions, DataChannel, PeerConfig, PeerConnection, PeerEvent, RtcConfig,
    };

    pub struct WeftPair {
        a: PeerConnection,
        b: PeerConnection,
        dc: DataChannel,
        received: Received,
        payload: Bytes,
    }

    /// weft over sctp-proto (the baseline engine).
    pub async fn setup() -> WeftPair {
        setup_with(weft_sctp::EngineKind::SctpProto).await
    }

    /// weft over its own SCTP engine (issue 12), I-DATA between the two (the default).
    pub async fn setup_engine() -> WeftPair {
        setup_with(weft_sctp::EngineKind::Weft).await
    }

    /// weft over its own SCTP engine with DATA (neither side declares I-DATA).
    pub async fn setup_engine_data() -> WeftPair {
        INTERLEAVING.store(false, std::sync::atomic::Ordering::Relaxed);
        let pair = setup_with(weft_sctp::EngineKind::Weft).await;
        INTERLEAVING.store(true, std::sync::atomic::Ordering::Relaxed);
        pair
    }

    /// Whether the next pair declares I-DATA.
    static INTERLEAVING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

    fn config(engine: weft_sctp::EngineKind) -> PeerConfig {
        let certificate = PeerConfig::generate_certificate().unwrap();
        let mut rtc = RtcConfig::new(certificate);
        rtc.sctp_engine = engine;
        rtc.sctp_interleaving = INTERLEAVING.load(std::sync::atomic::Ordering::Relaxed);
        PeerConfig {
            rtc: Some(rtc),
            ..PeerConfig::loopback()
        }
    }

    async fn setup_with(engine: weft_sctp::EngineKind) -> WeftPair {
        let a = PeerConnection::new(config(engine)).await.unwrap();
        let b = PeerConnection::new(config(engine)).await.unwrap();
        let dc = a
            .create_data_channel("bench", ChannelOptions::default())
            .await
            .unwrap();
        // Non-trickle offer/answer, as peer/tests/driver.rs.
        let offer = a.create_offer().await.unwrap();
        a.set_local_description(offer).await.unwrap();
        within("weft gathering", a.gathering_complete())
            .await
            .unwrap();
        let offer = a.local_description().await.unwrap().unwrap();
        b.set_remote_description(offer).await.unwrap();
        let answer = b.create_answer().await.unwrap();
        b.set_local_description(answer).await.unwrap();
        within("weft gathering", b.gathering_complete())
            .await
            .unwrap();
        let answer = b.local_description().await.unwrap().unwrap();
        a.set_remote_description(answer).await.unwrap();
        let theirs = within("weft datachannel event", async {
            loop {
                match b.next_event().await {
                    Some(PeerEvent::DataChannel(dc)) => return dc,
                    Some(_) => {}
                    None => panic!("weft: connection ended"),
                }
            }
        })
        .await;
        within("weft channel open", dc.opened()).await.unwrap();
        within("weft channel open", theirs.opened()).await.unwrap();
        let (tx, rx) = watch::channel(0u64);
        tokio::spawn(async move {
            let mut n = 0u64;
            while let Some(m) = theirs.recv().await {
                n += m.data.len() as u64;
                tx.send_replace(n);
            }
        });
        WeftPair {
            a,
            b,
            dc,
            received: Received(rx),
            payload: Bytes::from(vec![0x5a; MESSAGE]),
        }
    }

    impl Pair for WeftPair {
        async fn send(&mut self, bytes: usize) {
            let mut left = bytes;
            while left > 0 {
                let queued = self.dc.buffered_amount().await.unwrap();
                // What fits under HIGH now (the queue only shrinks meanwhile).
                let mut room = HIGH.saturating_sub(queued) / MESSAGE;
                if room == 0 {
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                while room > 0 && left > 0 {
                    self.dc.send_binary(self.payload.clone()).await.unwrap();
                    left = left.saturating_sub(MESSAGE);
                    room -= 1;
                }
            }
        }

        fn received(&self) -> Received {
            self.received.clone()
        }

        async fn close(self) {
            self.a.close().await;
            self.b.close().await;
        }
    }
}

// --- webrtc-rs ------------------------------------------------------------------------------

mod webrtc_rs {
    use super::*;
    use rtc::ice::mdns::MulticastDnsMode;
    use rtc::ice::network_type::NetworkType;
    use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
    use webrtc::data_channel::{DataChannel, DataChannelEvent};
    use webrtc::peer_connection::{
        register_default_interceptors, MediaEngine, PeerConnection, PeerConnectionBuilder,
        PeerConnectionEventHandler, RTCConfigurationBuilder, RTCIceGatheringState,
        RTCPeerConnectionState, RTCSessionDescription, Registry,
    };

    /// The events the bench waits for, as in peer/tests/webrtc_rs.rs.
    #[derive(Clone)]
    struct Handler {
        gathered: Arc<watch::Sender<u32>>,
        state: Arc<watch::Sender<RTCPeerConnectionState>>,
        channels: mpsc::UnboundedSender<Arc<dyn DataChannel>>,
    }

    #[async_trait::async_trait]
    impl PeerConnectionEventHandler for Handler {
        async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
            if state == RTCIceGatheringState::Complete {
                self.gathered.send_modify(|n| *n += 1);
            }
        }

        async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
            self.state.send_replace(state);
        }

        async fn on_data_channel(&self, dc: Arc<dyn DataChannel>) {
            let _ = self.channels.send(dc);
        }
    }

    /// A webrtc-rs peer connection on `127.0.0.1:<ephemeral>`, default codecs and
    /// interceptors, no ICE servers.
    struct Wrtc {
        pc: Arc<dyn PeerConnection>,
        gathered: watch::Receiver<u32>,
        state: watch::Receiver<RTCPeerConnectionState>,
        channels: mpsc::UnboundedReceiver<Arc<dyn DataChannel>>,
    }

    impl Wrtc {
        async fn new() -> Wrtc {
            let mut media = MediaEngine::default();
            media.register_default_codecs().unwrap();
            let registry = register_default_interceptors(Registry::new(), &mut media).unwrap();
            let settings = SettingEngineBuilder::new()
                .with_include_loopback_candidate(true)
                .with_network_types(vec![NetworkType::Udp4])
                .with_multicast_dns_mode(MulticastDnsMode::Disabled)
                .build();
            let (gathered_tx, gathered) = watch::channel(0);
            let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
            let (channels_tx, channels) = mpsc::unbounded_channel();
            let pc = PeerConnectionBuilder::new()
                .with_configuration(RTCConfigurationBuilder::new().build())
                .with_media_engine(media)
                .with_interceptor_registry(registry)
                .with_setting_engine(settings)
                .with_handler(Arc::new(Handler {
                    gathered: Arc::new(gathered_tx),
                    state: Arc::new(state_tx),
                    channels: channels_tx,
                }))
                .with_udp_addrs(vec!["127.0.0.1:0"])
                .build()
                .await
                .unwrap();
            Wrtc {
                pc: Arc::new(pc),
                gathered,
                state,
                channels,
            }
        }

        /// Applies a local description, waits for gathering to complete and returns the
        /// description with every candidate (non-trickle).
        async fn set_local_and_gather(
            &mut self,
            desc: RTCSessionDescription,
        ) -> RTCSessionDescription {
            let before = *self.gathered.borrow();
            self.pc.set_local_description(desc).await.unwrap();
            within(
                "webrtc-rs gathering",
                self.gathered.wait_for(|n| *n > before),
            )
            .await
            .unwrap();
            self.pc.local_description().await.unwrap()
        }
    }

    pub struct WrtcPair {
        a: Wrtc,
        b: Wrtc,
        dc: Arc<dyn DataChannel>,
        received: Received,
        payload: Bytes,
    }

    pub async fn setup() -> WrtcPair {
        let mut a = Wrtc::new().await;
        let mut b = Wrtc::new().await;
        let dc = a.pc.create_data_channel("bench", None).await.unwrap();
        let offer = a.pc.create_offer(None).await.unwrap();
        let offer = a.set_local_and_gather(offer).await;
        b.pc.set_remote_description(offer).await.unwrap();
        let answer = b.pc.create_answer(None).await.unwrap();
        let answer = b.set_local_and_gather(answer).await;
        a.pc.set_remote_description(answer).await.unwrap();
        within("webrtc-rs connected", async {
            a.state
                .wait_for(|s| *s == RTCPeerConnectionState::Connected)
                .await
                .unwrap();
            b.state
                .wait_for(|s| *s == RTCPeerConnectionState::Connected)
                .await
                .unwrap();
        })
        .await;
        within("webrtc-rs channel open", async {
            loop {
                match dc.poll().await {
                    Some(DataChannelEvent::OnOpen) => break,
                    Some(_) => {}
                    None => panic!("webrtc-rs: channel closed before open"),
                }
            }
        })
        .await;
        // A's later events (buffered-amount-low ...) are taken and dropped, so that no
        // full event queue holds up its driver.
        let events = dc.clone();
        tokio::spawn(async move { while events.poll().await.is_some() {} });
        let theirs = within("webrtc-rs datachannel event", b.channels.recv())
            .await
            .expect("webrtc-rs: no datachannel event");
        let (tx, rx) = watch::channel(0u64);
        tokio::spawn(async move {
            let mut n = 0u64;
            while let Some(e) = theirs.poll().await {
                if let DataChannelEvent::OnMessage(m) = e {
                    n += m.data.len() as u64;
                    tx.send_replace(n);
                }
            }
        });
        WrtcPair {
            a,
            b,
            dc,
            received: Received(rx),
            payload: Bytes::from(vec![0x5a; MESSAGE]),
        }
    }

    impl Pair for WrtcPair {
        async fn send(&mut self, bytes: usize) {
            let mut left = bytes;
            while left > 0 {
                let queued = self.dc.outstanding_bytes().await.unwrap();
                let mut room = HIGH.saturating_sub(queued) / MESSAGE;
                if room == 0 {
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                while room > 0 && left > 0 {
                    self.dc
                        .send(BytesMut::from(&self.payload[..]))
                        .await
                        .unwrap();
                    left = left.saturating_sub(MESSAGE);
                    room -= 1;
                }
            }
        }

        fn received(&self) -> Received {
            self.received.clone()
        }

        async fn close(self) {
            let _ = self.a.pc.close().await;
            let _ = self.b.pc.close().await;
        }
    }
}

// --- str0m ----------------------------------------------------------------------------------

mod str0m_pair {
    use super::*;
    use str0m::channel::ChannelId;
    use str0m::net::{Protocol, Receive};
    use str0m::{Candidate, Event, Input, Output, Rtc};
    use tokio::net::UdpSocket;

    /// What the bench asks of A's task.
    enum Command {
        /// Send this many bytes more; reply once they are all queued.
        Send(usize, tokio::sync::oneshot::Sender<()>),
    }

    pub struct Str0mPair {
        cmd: mpsc::UnboundedSender<Command>,
        tasks: Vec<tokio::task::JoinHandle<()>>,
        received: Received,
    }

    /// A socket on 127.0.0.1 with the receive buffer weft's driver asks for (1 MiB,
    /// `SO_RCVBUF`): the bench is str0m's driver, and gives it the same socket.
    async fn bind() -> (UdpSocket, SocketAddr) {
        let s = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )
        .unwrap();
        s.set_recv_buffer_size(1 << 20).unwrap();
        s.set_nonblocking(true).unwrap();
        s.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        let s = UdpSocket::from_std(s.into()).unwrap();
        let addr = s.local_addr().unwrap();
        (s, addr)
    }

    pub async fn setup() -> Str0mPair {
        // The pure-Rust backend chosen by the crate's features (a second install is a
        // no-op).
        str0m::crypto::from_feature_flags().install_process_default();
        let now = Instant::now();
        let (sa, addr_a) = bind().await;
        let (sb, addr_b) = bind().await;
        let mut a = Rtc::builder().build(now);
        let mut b = Rtc::builder().build(now);
        a.add_local_candidate(Candidate::host(addr_a, "udp").unwrap())
            .unwrap();
        b.add_local_candidate(Candidate::host(addr_b, "udp").unwrap())
            .unwrap();
        let mut change = a.sdp_api();
        let cid = change.add_channel("bench".into());
        let (offer, pending) = change.apply().unwrap();
        let answer = b.sdp_api().accept_offer(offer).unwrap();
        a.sdp_api().accept_answer(pending, answer).unwrap();

        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (open_a_tx, open_a) = tokio::sync::oneshot::channel();
        let (open_b_tx, open_b) = tokio::sync::oneshot::channel();
        let (tx, rx) = watch::channel(0u64);
        let tasks = vec![
            tokio::spawn(drive(
                a,
                sa,
                addr_a,
                Role::Sender {
                    cid,
                    cmd: cmd_rx,
                    open: Some(open_a_tx),
                },
            )),
            tokio::spawn(drive(
                b,
                sb,
                addr_b,
                Role::Receiver {
                    total: 0,
                    received: tx,
                    open: Some(open_b_tx),
                },
            )),
        ];
        within("str0m channel open", async {
            open_a.await.unwrap();
            open_b.await.unwrap();
        })
        .await;
        Str0mPair {
            cmd: cmd_tx,
            tasks,
            received: Received(rx),
        }
    }

    enum Role {
        Sender {
            cid: ChannelId,
            cmd: mpsc::UnboundedReceiver<Command>,
            open: Option<tokio::sync::oneshot::Sender<()>>,
        },
        Receiver {
            total: u64,
            received: watch::Sender<u64>,
            open: Option<tokio::sync::oneshot::Sender<()>>,
        },
    }

    /// A's pending send: bytes left and whom to tell when they are all queued.
    struct Job {
        left: usize,
        done: Option<tokio::sync::oneshot::Sender<()>>,
    }

    /// One peer's I/O loop: transmit what `poll_output` gives, then wait for a datagram, a
    /// command or the timeout, whichever comes first.
    async fn drive(mut rtc: Rtc, socket: UdpSocket, local: SocketAddr, mut role: Role) {
        let payload = vec![0x5a; MESSAGE];
        let mut buf = vec![0u8; 2048];
        let mut job: Option<Job> = None;
        let mut cmd_open = true;
        loop {
            // A writes what fits under HIGH (str0m's write refuses what SCTP has no room
            // for).
            if let (Role::Sender { cid, .. }, Some(j)) = (&role, job.as_mut()) {
                if let Some(mut ch) = rtc.channel(*cid) {
                    while j.left > 0 && ch.buffered_amount() + MESSAGE <= HIGH {
                        if !ch.write(true, &payload).unwrap() {
                            break;
                        }
                        j.left = j.left.saturating_sub(MESSAGE);
                    }
                }
                if j.left == 0 {
                    if let Some(done) = j.done.take() {
                        let _ = done.send(());
                    }
                    job = None;
                }
            }
            let deadline = loop {
                match rtc.poll_output().unwrap() {
                    Output::Timeout(t) => break t,
                    Output::Transmit(t) => {
                        let _ = socket.send_to(&t.contents, t.destination).await;
                    }
                    Output::Event(e) => match (&mut role, e) {
                        (Role::Sender { open, .. }, Event::ChannelOpen(..)) => {
                            if let Some(o) = open.take() {
                                let _ = o.send(());
                            }
                        }
                        (Role::Receiver { open, .. }, Event::ChannelOpen(..)) => {
                            if let Some(o) = open.take() {
                                let _ = o.send(());
                            }
                        }
                        (
                            Role::Receiver {
                                total, received, ..
                            },
                            Event::ChannelData(d),
                        ) => {
                            *total += d.data.len() as u64;
                            received.send_replace(*total);
                        }
                        _ => {}
                    },
                }
            };
            if !rtc.is_alive() {
                return;
            }
            // While a job waits for room, look again after at most POLL (as the other
            // stacks' senders do); str0m's timeout alone may be much later.
            let deadline = match &job {
                Some(_) => deadline.min(Instant::now() + POLL),
                None => deadline,
            };
            let sleep = tokio::time::sleep_until(deadline.into());
            let input = tokio::select! {
                r = socket.recv_from(&mut buf) => match r {
                    Ok((n, source)) => Some((n, source)),
                    Err(_) => None,
                },
                c = recv_command(&mut role), if cmd_open => {
                    match c {
                        Some(Command::Send(n, done)) => {
                            job = Some(Job { left: n, done: Some(done) });
                        }
                        None => cmd_open = false,
                    }
                    continue;
                }
                _ = sleep => None,
            };
            let now = Instant::now();
            match input {
                Some((n, source)) => {
                    let Ok(contents) = buf[..n].try_into() else {
                        continue;
                    };
                    let r = Receive {
                        proto: Protocol::Udp,
                        source,
                        destination: local,
                        contents,
                    };
                    rtc.handle_input(Input::Receive(now, r)).unwrap();
                }
                None => rtc.handle_input(Input::Timeout(now)).unwrap(),
            }
        }
    }

    async fn recv_command(role: &mut Role) -> Option<Command> {
        match role {
            Role::Sender { cmd, .. } => cmd.recv().await,
            Role::Receiver { .. } => std::future::pending().await,
        }
    }

    impl Pair for Str0mPair {
        async fn send(&mut self, bytes: usize) {
            let (tx, rx) = tokio::sync::oneshot::channel();
            self.cmd.send(Command::Send(bytes, tx)).unwrap();
            within("str0m send", rx).await.unwrap();
        }

        fn received(&self) -> Received {
            self.received.clone()
        }

        async fn close(self) {
            for t in self.tasks {
                t.abort();
            }
        }
    }
}

// --- criterion ------------------------------------------------------------------------------

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Benches one stack: the pair is made on the first call (only if criterion's filter
/// selects the stack), every iteration is timed on it, and it is closed at the end.
fn bench_stack<P: Pair>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &Runtime,
    name: &str,
    total: usize,
    setup: impl AsyncFnOnce() -> P,
) {
    let mut setup = Some(setup);
    let mut state: Option<(P, u64)> = None;
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                if state.is_none() {
                    let setup = setup.take().unwrap();
                    let pair = within("setup", setup()).await;
                    state = Some((pair, 0));
                }
                let (pair, sent) = state.as_mut().unwrap();
                run(pair, sent, iters, total).await
            })
        })
    });
    if let Some((pair, _)) = state {
        rt.block_on(pair.close());
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not (criterion's test mode).
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let total = if bench_mode { TOTAL_BENCH } else { TOTAL_TEST };
    let rt = runtime();
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();
    let mut group = c.benchmark_group("dc_throughput");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Bytes(total as u64));
    bench_stack(&mut group, &rt, "weft", total, weft::setup);
    bench_stack(&mut group, &rt, "weft_engine", total, weft::setup_engine);
    bench_stack(
        &mut group,
        &rt,
        "weft_engine_data",
        total,
        weft::setup_engine_data,
    );
    bench_stack(&mut group, &rt, "webrtc_rs", total, webrtc_rs::setup);
    bench_stack(&mut group, &rt, "str0m", total, str0m_pair::setup);
    group.finish();
    c.final_summary();
}
