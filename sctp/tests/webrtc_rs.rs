//! Interop with a stack nobody here wrote: webrtc-rs's SCTP association and data channels
//! (`webrtc-sctp`, `webrtc-data` 0.17) over an in-memory pipe, in both roles, with every
//! channel type, both open directions, large and empty messages, and close.
#![allow(clippy::disallowed_methods)] // the driver reads the real clock, as a tokio driver does

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;
use webrtc_data::data_channel::{Config as DcConfig, DataChannel};
use webrtc_data::message::message_channel_open::ChannelType;
use webrtc_sctp::association::{Association as RsAssociation, Config as RsConfig};
use webrtc_util::conn::conn_pipe::pipe;
use webrtc_util::conn::Conn;
use weft_sctp::{
    Association, ChannelOptions, Config, EngineKind, Event, MessageKind, Output, Policy,
    Reliability, Role,
};

/// `$name(kind: EngineKind)` as one test per SCTP engine: `$name::sctp_proto` and
/// `$name::weft`.
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "current_thread")]
                async fn sctp_proto() {
                    super::$name(weft_sctp::EngineKind::SctpProto).await
                }
                #[tokio::test(flavor = "current_thread")]
                async fn weft() {
                    super::$name(weft_sctp::EngineKind::Weft).await
                }
            }
        )*
    };
}

const MAX: u32 = 256 * 1024;

/// Drives a weft association on one end of the pipe with the real clock.
struct Driver {
    assoc: Association,
    conn: Arc<dyn Conn + Send + Sync>,
    events: Vec<Event>,
    buf: Vec<u8>,
}

impl Driver {
    fn new(kind: EngineKind, role: Role, conn: Arc<dyn Conn + Send + Sync>) -> Driver {
        let config = Config {
            engine: kind,
            // weft's engine probes the path MTU (HEARTBEAT + PAD probes) toward webrtc-rs.
            max_mtu: 1472,
            ..Config::new(role)
        };
        Driver {
            assoc: Association::new(Instant::now(), config),
            conn,
            events: Vec::new(),
            buf: vec![0; 70_000],
        }
    }

    async fn flush(&mut self) {
        while let Some(o) = self.assoc.poll_output() {
            match o {
                Output::Transmit(p) => {
                    self.conn.send(&p).await.expect("pipe send");
                }
                Output::Event(e) => self.events.push(e),
            }
        }
    }

    /// Runs until `done` holds, or panics after `limit`.
    async fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Driver) -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            self.flush().await;
            if done(self) {
                return;
            }
            let wake = self
                .assoc
                .poll_timeout()
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_millis(50))
                .min(Duration::from_millis(50));
            tokio::select! {
                r = self.conn.recv(&mut self.buf) => {
                    let n = r.expect("pipe recv");
                    let now = Instant::now();
                    self.assoc.handle_input(now, &self.buf[..n]);
                }
                _ = tokio::time::sleep(wake) => {
                    self.assoc.handle_timeout(Instant::now());
                }
                _ = tokio::time::sleep_until(deadline) => {
                    panic!("timed out; weft events: {:?}", self.events);
                }
            }
        }
    }

    fn messages(&self, id: u16) -> Vec<(MessageKind, Vec<u8>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Message { id: i, kind, data } if *i == id => Some((*kind, data.to_vec())),
                _ => None,
            })
            .collect()
    }
}

fn rs_config(conn: Arc<dyn Conn + Send + Sync>, name: &str) -> RsConfig {
    RsConfig {
        net_conn: conn,
        max_receive_buffer_size: 1024 * 1024,
        max_message_size: MAX,
        mtu: 0,
        name: name.into(),
        remote_port: 5000,
        local_port: 5000,
    }
}

/// Every channel type, as weft says it and as webrtc-rs says it.
fn channel_types() -> Vec<(Reliability, ChannelType, u32)> {
    vec![
        (Reliability::RELIABLE, ChannelType::Reliable, 0),
        (
            Reliability {
                ordered: false,
                policy: Policy::Reliable,
            },
            ChannelType::ReliableUnordered,
            0,
        ),
        (
            Reliability {
                ordered: true,
                policy: Policy::MaxRetransmits(3),
            },
            ChannelType::PartialReliableRexmit,
            3,
        ),
        (
            Reliability {
                ordered: false,
                policy: Policy::MaxRetransmits(0),
            },
            ChannelType::PartialReliableRexmitUnordered,
            0,
        ),
        (
            Reliability {
                ordered: true,
                policy: Policy::MaxLifetimeMs(2000),
            },
            ChannelType::PartialReliableTimed,
            2000,
        ),
        (
            Reliability {
                ordered: false,
                policy: Policy::MaxLifetimeMs(500),
            },
            ChannelType::PartialReliableTimedUnordered,
            500,
        ),
    ]
}

/// What the webrtc-rs side saw of a channel weft opened.
#[derive(Debug)]
struct Seen {
    id: u16,
    label: String,
    protocol: String,
    channel_type: ChannelType,
    parameter: u32,
    priority: u16,
}

/// webrtc-rs side: accept channels and echo every message on it until the stream ends.
fn spawn_echo_acceptor(assoc: Arc<RsAssociation>, seen: mpsc::UnboundedSender<Seen>) {
    tokio::spawn(async move {
        loop {
            let config = DcConfig {
                max_message_size: MAX,
                ..DcConfig::default()
            };
            let none: &[DataChannel] = &[];
            let Ok(dc) = DataChannel::accept(&assoc, config, none).await else {
                return;
            };
            let _ = seen.send(Seen {
                id: dc.stream_identifier(),
                label: dc.config.label.clone(),
                protocol: dc.config.protocol.clone(),
                channel_type: dc.config.channel_type,
                parameter: dc.config.reliability_parameter,
                priority: dc.config.priority,
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; MAX as usize + 16];
                while let Ok((n, is_string)) = dc.read_data_channel(&mut buf).await {
                    if n == 0 && !is_string && dc.stream_identifier() == u16::MAX {
                        break;
                    }
                    let msg = Bytes::copy_from_slice(&buf[..n]);
                    if dc.write_data_channel(&msg, is_string).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

async fn weft_as_dtls_client_opens_every_channel_type_toward_webrtc_rs(kind: EngineKind) {
    let (rs_end, weft_end) = pipe();
    let rs_end: Arc<dyn Conn + Send + Sync> = Arc::new(rs_end);
    let weft_end: Arc<dyn Conn + Send + Sync> = Arc::new(weft_end);
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let assoc = Arc::new(
            RsAssociation::server(rs_config(rs_end, "webrtc-rs server"))
                .await
                .expect("webrtc-rs association"),
        );
        spawn_echo_acceptor(assoc.clone(), seen_tx);
        // Keep the association alive for the test's length.
        tokio::time::sleep(Duration::from_secs(120)).await;
        drop(assoc);
    });

    let mut weft = Driver::new(kind, Role::Client, weft_end);
    let types = channel_types();
    let mut ids = Vec::new();
    for (i, (reliability, _, _)) in types.iter().enumerate() {
        let id = weft
            .assoc
            .open_channel(
                &format!("ch-{i}"),
                ChannelOptions {
                    reliability: *reliability,
                    priority: 512,
                    protocol: format!("p{i}"),
                    negotiated: None,
                },
            )
            .unwrap();
        ids.push(id);
    }
    weft.run_until(Duration::from_secs(20), |d| d.assoc.is_established())
        .await;

    // Text, binary, empty of each kind, and a 200 KiB message on each channel.
    let big = (0..200 * 1024)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>();
    let sends: Vec<(MessageKind, Vec<u8>)> = vec![
        (MessageKind::Text, "héllo".as_bytes().to_vec()),
        (MessageKind::Binary, vec![0, 1, 2, 255]),
        (MessageKind::Text, vec![]),
        (MessageKind::Binary, vec![]),
        (MessageKind::Binary, big.clone()),
    ];
    for id in &ids {
        for (kind, data) in &sends {
            weft.assoc.send(*id, *kind, data).unwrap();
        }
    }
    weft.run_until(Duration::from_secs(60), |d| {
        ids.iter().all(|id| d.messages(*id).len() == sends.len())
    })
    .await;
    for id in &ids {
        // Compared without printing 200 KiB on failure.
        let got = weft.messages(*id);
        let summary = |v: &[(MessageKind, Vec<u8>)]| -> Vec<(MessageKind, usize)> {
            v.iter().map(|(k, d)| (*k, d.len())).collect()
        };
        assert!(
            got == sends,
            "channel {id}: {:?} vs sent {:?}",
            summary(&got),
            summary(&sends)
        );
    }

    let mut seen = Vec::new();
    while let Ok(s) = seen_rx.try_recv() {
        seen.push(s);
    }
    seen.sort_by_key(|s| s.id);
    assert_eq!(seen.len(), types.len());
    for (i, s) in seen.iter().enumerate() {
        assert_eq!(s.id, ids[i]);
        assert_eq!(s.id % 2, 0, "the DTLS client opens even ids");
        assert_eq!(s.label, format!("ch-{i}"));
        assert_eq!(s.protocol, format!("p{i}"));
        assert_eq!(s.channel_type, types[i].1);
        assert_eq!(s.parameter, types[i].2);
        assert_eq!(s.priority, 512);
    }

    // Close one channel: webrtc-rs resets its stream in turn, and the id comes back.
    weft.assoc.close_channel(ids[0]).unwrap();
    let first = ids[0];
    let before = weft.messages(first).len();
    weft.run_until(Duration::from_secs(20), |d| {
        d.events.contains(&Event::ChannelIdFree { id: first })
    })
    .await;
    assert!(weft.events.contains(&Event::ChannelClosed { id: first }));
    let again = weft
        .assoc
        .open_channel("again", ChannelOptions::default())
        .unwrap();
    assert_eq!(again, first);
    weft.assoc
        .send(again, MessageKind::Text, b"reborn")
        .unwrap();
    weft.run_until(Duration::from_secs(20), |d| {
        d.messages(first).len() > before
    })
    .await;
    assert_eq!(
        weft.messages(first)[before..],
        [(MessageKind::Text, b"reborn".to_vec())]
    );
    // webrtc-rs answered a HEARTBEAT + PAD probe of the full 1472 bytes (the pipe has no
    // MTU): weft's engine sends its DATA that big; sctp-proto keeps `mtu`.
    let expected = if kind == EngineKind::Weft { 1472 } else { 1200 };
    assert_eq!(weft.assoc.stats().plpmtu, expected);
}

async fn webrtc_rs_as_dtls_client_opens_every_channel_type_toward_weft(kind: EngineKind) {
    let (rs_end, weft_end) = pipe();
    let rs_end: Arc<dyn Conn + Send + Sync> = Arc::new(rs_end);
    let weft_end: Arc<dyn Conn + Send + Sync> = Arc::new(weft_end);
    let (result_tx, mut result_rx) = mpsc::unbounded_channel::<(u16, Vec<(bool, Vec<u8>)>)>();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let types = channel_types();
    let rs_types = types.clone();
    tokio::spawn(async move {
        let assoc = Arc::new(
            RsAssociation::client(rs_config(rs_end, "webrtc-rs client"))
                .await
                .expect("webrtc-rs association"),
        );
        // webrtc-rs dials one channel of each type on even ids and reads back echoes.
        for (i, (_, channel_type, parameter)) in rs_types.into_iter().enumerate() {
            let id = (i * 2) as u16;
            let dc = DataChannel::dial(
                &assoc,
                id,
                DcConfig {
                    channel_type,
                    reliability_parameter: parameter,
                    label: format!("rs-{i}"),
                    protocol: "echo".into(),
                    priority: 256,
                    max_message_size: MAX,
                    ..DcConfig::default()
                },
            )
            .await
            .expect("dial");
            let tx = result_tx.clone();
            tokio::spawn(async move {
                let sends: [(bool, Vec<u8>); 3] = [
                    (true, format!("from webrtc-rs on {id}").into_bytes()),
                    (false, vec![9; 100_000]),
                    (true, vec![]),
                ];
                for (is_string, data) in &sends {
                    dc.write_data_channel(&Bytes::copy_from_slice(data), *is_string)
                        .await
                        .expect("write");
                }
                let mut got = Vec::new();
                let mut buf = vec![0u8; MAX as usize];
                while got.len() < sends.len() {
                    match dc.read_data_channel(&mut buf).await {
                        Ok((n, is_string)) => got.push((is_string, buf[..n].to_vec())),
                        Err(_) => break,
                    }
                }
                let _ = tx.send((id, got));
                tokio::time::sleep(Duration::from_secs(60)).await;
            });
        }
        // And accept what weft opens toward it.
        spawn_echo_acceptor(assoc.clone(), seen_tx);
        tokio::time::sleep(Duration::from_secs(120)).await;
        drop(assoc);
    });

    let mut weft = Driver::new(kind, Role::Server, weft_end);
    // weft echoes whatever arrives, on whichever channel webrtc-rs opened.
    let mut echoed = 0usize;
    let mut results = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while results.len() < types.len() {
        assert!(
            Instant::now() < deadline,
            "timed out; weft events {:?}",
            weft.events
        );
        let before = weft.events.len();
        weft.run_until(Duration::from_secs(60), |d| d.events.len() > before)
            .await;
        let new: Vec<Event> = weft.events[before..].to_vec();
        for e in new {
            if let Event::Message { id, kind, data } = e {
                weft.assoc.send(id, kind, &data).unwrap();
                echoed += 1;
            }
        }
        while let Ok(r) = result_rx.try_recv() {
            results.push(r);
        }
    }
    assert_eq!(echoed, 3 * types.len());
    results.sort_by_key(|r| r.0);
    for (i, (id, got)) in results.iter().enumerate() {
        assert_eq!(*id, (i * 2) as u16);
        assert_eq!(
            got,
            &vec![
                (true, format!("from webrtc-rs on {id}").into_bytes()),
                (false, vec![9; 100_000]),
                (true, vec![]),
            ],
            "channel {id}"
        );
        let info = weft.assoc.channel(*id).unwrap();
        assert_eq!(info.label, format!("rs-{i}"));
        assert_eq!(info.protocol, "echo");
        assert_eq!(info.priority, 256);
        assert_eq!(info.reliability, types[i].0);
        assert!(info.remote);
    }

    // weft (DTLS server) opens a channel toward webrtc-rs: an odd id, echoed back.
    let id = weft
        .assoc
        .open_channel("from-weft", ChannelOptions::default())
        .unwrap();
    assert_eq!(id % 2, 1);
    weft.assoc.send(id, MessageKind::Text, b"ping").unwrap();
    weft.run_until(Duration::from_secs(20), |d| !d.messages(id).is_empty())
        .await;
    assert_eq!(weft.messages(id), [(MessageKind::Text, b"ping".to_vec())]);
    let seen = seen_rx
        .recv()
        .await
        .expect("webrtc-rs accepted the channel");
    assert_eq!((seen.id, seen.label.as_str()), (id, "from-weft"));
}

both_engines!(
    weft_as_dtls_client_opens_every_channel_type_toward_webrtc_rs,
    webrtc_rs_as_dtls_client_opens_every_channel_type_toward_weft,
);
