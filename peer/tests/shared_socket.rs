//! Ten peer connections behind one server socket (one address and port), routed by
//! `Mux` (ICE ufrag first, then the remote address), each with its own client on the
//! simulated network: every data channel opens and echoes, nothing crosses over.

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
