//! Ten peer connections behind one server socket (one address and port), routed by
//! `Mux` (ICE ufrag first, then the remote address), each with its own client on the
//! simulated network: every data channel opens and echoes, nothing crosses over.

#[cfg(feature = "tokio")]
#[path = "common/pc.rs"]
mod pc;
#[path = "common/sim.rs"]
mod sim;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use weft_netsim::{LinkConfig, Network};
use weft_peer::mux::Mux;
use weft_peer::{ChannelOptions, Event, Input, MessageKind, OfferOptions, Output, Rtc, RtcConfig};

const N: usize = 10;

#[test]
fn ten_connections_share_one_socket() {
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let mut net = Network::new(5, start);
    let link = LinkConfig::with_delay(Duration::from_millis(5));
    let server_addr: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    net.add_host(server_addr.ip(), link.clone());
    let mut servers = Vec::new();
    let mut clients = Vec::new();
    let mut mux = Mux::new();
    for i in 0..N {
        let caddr: SocketAddr = format!("10.0.1.{}:6000", i + 1).parse().unwrap();
        net.add_host(caddr.ip(), link.clone());
        let mut c = Rtc::new(start, RtcConfig::new(sim::certificate()), [i as u8 + 1; 32]);
        c.add_host_address(caddr);
        let ch = c
            .create_data_channel(&format!("c{i}"), ChannelOptions::default())
            .unwrap();
        let mut s = Rtc::new(
            start,
            RtcConfig::new(sim::certificate()),
            [i as u8 + 100; 32],
        );
        s.add_host_address(server_addr);
        let offer = c.create_offer(OfferOptions::default()).unwrap();
        c.set_local_description(offer).unwrap();
        s.set_remote_description(c.local_description().unwrap())
            .unwrap();
        let answer = s.create_answer().unwrap();
        s.set_local_description(answer).unwrap();
        c.set_remote_description(s.local_description().unwrap())
            .unwrap();
        mux.add_ufrag(&s.ice_agent().local_credentials().ufrag, i);
        servers.push((s, Vec::<Event>::new()));
        clients.push((c, caddr, ch, Vec::<Event>::new()));
    }
    assert_eq!(mux.len(), N);
    let mut sent = [false; N];
    let end = start + Duration::from_secs(20);
    let mut misrouted = 0;
    while net.now() < end {
        // Drain everyone; the servers echo what they receive.
        for (s, ev) in servers.iter_mut() {
            while let Some(o) = s.poll_output() {
                match o {
                    Output::Transmit(t) => net.send(t.src, t.dst, &t.bytes),
                    Output::Event(e) => ev.push(e),
                }
            }
            let echoes: Vec<_> = ev
                .drain(..)
                .filter_map(|e| match e {
                    Event::ChannelMessage {
                        channel,
                        kind,
                        data,
                    } => Some((channel, kind, data)),
                    _ => None,
                })
                .collect();
            for (ch, kind, data) in echoes {
                s.send(ch, kind, &data).unwrap();
            }
        }
        for (i, (c, _, ch, ev)) in clients.iter_mut().enumerate() {
            while let Some(o) = c.poll_output() {
                match o {
                    Output::Transmit(t) => net.send(t.src, t.dst, &t.bytes),
                    Output::Event(e) => ev.push(e),
                }
            }
            if !sent[i] && ev.contains(&Event::ChannelOpen(*ch)) {
                c.send(*ch, MessageKind::Text, format!("hello {i}").as_bytes())
                    .unwrap();
                sent[i] = true;
            }
        }
        let done = clients.iter().enumerate().all(|(i, (_, _, _, ev))| {
            ev.iter().any(|e| matches!(e, Event::ChannelMessage { data, .. } if *data == format!("hello {i}").as_bytes()))
        });
        if done {
            break;
        }
        if let Some(d) = net.poll_receive() {
            let now = net.now();
            let input = Input::Receive {
                local: d.dst,
                src: d.src,
                bytes: &d.bytes,
            };
            if d.dst == server_addr {
                match mux.route(d.src, &d.bytes) {
                    Some(k) => servers[k].0.handle_input(now, input),
                    None => misrouted += 1,
                }
            } else if let Some(c) = clients.iter_mut().find(|c| c.1 == d.dst) {
                c.0.handle_input(now, input);
            }
            continue;
        }
        let next = servers
            .iter()
            .map(|s| s.0.poll_timeout())
            .chain(clients.iter().map(|c| c.0.poll_timeout()))
            .chain([net.poll_timeout()])
            .flatten()
            .min()
            .unwrap_or(net.now() + Duration::from_millis(10))
            .max(net.now());
        net.advance(next);
        for r in servers
            .iter_mut()
            .map(|s| &mut s.0)
            .chain(clients.iter_mut().map(|c| &mut c.0))
        {
            if r.poll_timeout().is_some_and(|t| t <= next) {
                r.handle_timeout(next);
            }
        }
    }
    for (i, (_, _, _, ev)) in clients.iter().enumerate() {
        let got: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                Event::ChannelMessage { data, .. } => {
                    Some(String::from_utf8_lossy(data).to_string())
                }
                _ => None,
            })
            .collect();
        assert_eq!(got, [format!("hello {i}")], "client {i}");
    }
    // Only datagrams before any check could be unroutable; none are expected here, since
    // the clients' first datagrams to the server are checks.
    assert_eq!(misrouted, 0);
}

/// The tokio driver on a real `SharedSocket` (loopback UDP).
#[cfg(feature = "tokio")]
mod driver {
    use std::collections::HashSet;
    use std::net::UdpSocket;
    use std::time::Duration;

    use super::pc::{negotiate, remote_channel, within};
    use weft_peer::{ChannelOptions, DataChannel, PeerConfig, PeerConnection, SharedSocket};
    use weft_stun::{Class, Message, MessageBuilder, MessageType, TransactionId};

    /// A server connection on a new `SharedSocket` and a client on its own socket,
    /// negotiated, with a data channel `label` the client made.
    async fn shared_pair(
        label: &str,
    ) -> (SharedSocket, PeerConnection, PeerConnection, DataChannel) {
        let shared = SharedSocket::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let server = PeerConnection::new(PeerConfig {
            shared: Some(shared.clone()),
            ..PeerConfig::default()
        })
        .await
        .unwrap();
        let client = PeerConnection::new(PeerConfig::loopback()).await.unwrap();
        let ch = client
            .create_data_channel(label, ChannelOptions::default())
            .await
            .unwrap();
        negotiate(&client, &server).await;
        (shared, server, client, ch)
    }

    fn sdp_attr(sdp: &str, name: &str) -> String {
        sdp.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {sdp}"))
            .trim()
            .to_owned()
    }

    /// A GRO super-datagram (here: a GSO send over loopback, which the kernel hands to a
    /// socket with UDP_GRO on as one buffer) of eight STUN binding requests reaches the
    /// connection as eight datagrams: eight responses come back, one per transaction.
    #[tokio::test]
    async fn gro_super_datagram_is_split_into_its_datagrams() {
        let (shared, server, client, _ch) = shared_pair("gro").await;
        let offer = client.local_description().await.unwrap().unwrap().sdp;
        let answer = server.local_description().await.unwrap().unwrap().sdp;
        let username = format!(
            "{}:{}",
            sdp_attr(&answer, "a=ice-ufrag:"),
            sdp_attr(&offer, "a=ice-ufrag:")
        );
        let pwd = sdp_attr(&answer, "a=ice-pwd:");

        const K: usize = 8;
        let mut segments = Vec::new();
        let mut size = None;
        for i in 0..K {
            let mut buf = [0u8; 256];
            let mut b = MessageBuilder::new(
                &mut buf,
                MessageType::BINDING_REQUEST,
                TransactionId([i as u8 + 1; 12]),
            )
            .unwrap();
            b.add_raw(weft_stun::attr::USERNAME, username.as_bytes())
                .unwrap();
            b.add_raw(weft_stun::attr::PRIORITY, &0x6e00_01ffu32.to_be_bytes())
                .unwrap();
            b.add_raw(weft_stun::attr::ICE_CONTROLLING, &[7; 8])
                .unwrap();
            b.add_message_integrity(pwd.as_bytes()).unwrap();
            b.add_fingerprint().unwrap();
            let m = b.finish();
            assert_eq!(*size.get_or_insert(m.len()), m.len());
            segments.extend_from_slice(m);
        }
        let size = size.unwrap();

        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let state = quinn_udp::UdpSocketState::new((&sock).into()).unwrap();
        // quinn-udp makes the socket non-blocking; the reads below wait up to the timeout
        // each (without this the loop spun through its 25 reads in microseconds and passed
        // only when the answers were already there).
        sock.set_nonblocking(false).unwrap();
        if state.max_gso_segments() < K {
            eprintln!("no UDP GSO here: skipped");
            return;
        }
        state
            .try_send(
                (&sock).into(),
                &quinn_udp::Transmit {
                    destination: shared.local_addr(),
                    ecn: None,
                    contents: &segments,
                    segment_size: Some(size),
                    src_ip: None,
                },
            )
            .unwrap();
        let answered = tokio::task::spawn_blocking(move || {
            let mut answered = HashSet::new();
            let mut buf = vec![0u8; 65536];
            let mut meta = [quinn_udp::RecvMeta::default()];
            for _ in 0..25 {
                let mut iov = [std::io::IoSliceMut::new(&mut buf)];
                let Ok(n) = state.recv((&sock).into(), &mut iov, &mut meta) else {
                    continue;
                };
                for m in meta.iter().take(n) {
                    let stride = if m.stride == 0 { m.len } else { m.stride };
                    for d in buf[..m.len].chunks(stride.max(1)) {
                        if let Ok(r) = Message::parse(d) {
                            if r.class() == Class::SuccessResponse {
                                answered.insert(r.transaction_id().0);
                            }
                        }
                    }
                }
                if answered.len() == K {
                    break;
                }
            }
            answered
        })
        .await
        .unwrap();
        assert_eq!(answered.len(), K, "one response per request of the batch");
        client.close().await;
        server.close().await;
    }

    /// Bulk data both ways through a `SharedSocket` (GSO sends, batched GRO reads on the
    /// shared socket): every byte arrives, in 16 KiB messages, with the sender keeping 4 MiB
    /// buffered. 8 MiB each way by default; as a measurement (it prints MiB/s), in release
    /// with more: `WEFT_SHARED_MIB=256 cargo test --release -p weft-peer --test
    /// shared_socket -- bulk --nocapture`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bulk_data_both_ways_through_a_shared_socket() {
        #[allow(clippy::disallowed_methods)]
        fn now() -> std::time::Instant {
            std::time::Instant::now()
        }
        const MSG: usize = 16 * 1024;
        let mib: usize = std::env::var("WEFT_SHARED_MIB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(8);
        let total = mib * 1024 * 1024;
        let (_shared, server, client, ch) = shared_pair("bulk").await;
        let theirs = remote_channel(&server).await;
        within(10, "open", ch.opened()).await.unwrap();
        for (name, tx, rx) in [
            ("to the shared socket", &ch, &theirs),
            ("from the shared socket", &theirs, &ch),
        ] {
            let payload = bytes::Bytes::from(vec![0x5au8; MSG]);
            let start = now();
            let recv = async {
                let (mut got, mut messages) = (0, 0);
                while got < total {
                    let m = rx.recv().await.unwrap();
                    assert_eq!(m.data.len(), MSG);
                    got += m.data.len();
                    messages += 1;
                }
                assert_eq!(messages, total / MSG);
            };
            let send = async {
                for _ in 0..total / MSG {
                    while tx.buffered_amount().await.unwrap() > 4 * 1024 * 1024 {
                        tokio::time::sleep(Duration::from_micros(200)).await;
                    }
                    tx.send_binary(payload.clone()).await.unwrap();
                }
            };
            within(120, name, async { tokio::join!(send, recv) }).await;
            let secs = start.elapsed().as_secs_f64();
            println!(
                "shared socket {name}: {mib} MiB at {:.1} MiB/s",
                total as f64 / (1024.0 * 1024.0) / secs
            );
        }
        client.close().await;
        server.close().await;
    }
}
