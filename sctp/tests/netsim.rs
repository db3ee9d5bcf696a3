//! Data channels between two weft associations over weft-netsim links: every channel
//! type, loss, reordering, duplication, many channels, close and reopen, limits.

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use weft_netsim::LinkConfig;
use weft_sctp::{
    ChannelOptions, ChannelState, CloseReason, EngineKind, Error, Event, MessageKind, Policy,
    Reliability, Role,
};

fn opts(ordered: bool, policy: Policy) -> ChannelOptions {
    ChannelOptions {
        reliability: Reliability { ordered, policy },
        ..ChannelOptions::default()
    }
}

/// Sends `count` numbered messages of assorted sizes (some span several packets) on `id`
/// from `a`, keeping at most `window` bytes buffered, and runs until `done`.
fn pump_messages(sim: &mut Sim, id: u16, count: u32, limit: Duration) -> Vec<Vec<u8>> {
    let mut sent = Vec::new();
    let mut next = 0u32;
    let deadline = sim.now() + limit;
    loop {
        while next < count && sim.a.buffered_amount(id) < 64 * 1024 {
            let len = 4 + (next as usize * 797) % 3000;
            let m = numbered(next, len);
            sim.a.send(id, MessageKind::Binary, &m).unwrap();
            sent.push(m);
            next += 1;
        }
        sim.flush();
        if next == count && sim.a.buffered_amount(id) == 0 {
            // Everything is acknowledged; give stragglers (duplicates) time to land.
            sim.run_for(Duration::from_secs(2));
            return sent;
        }
        assert!(
            sim.now() < deadline,
            "virtual time limit passed: {} of {count} sent, {} received, {:?}",
            next,
            messages(&sim.events_b, id).len(),
            sim.a.stats()
        );
        assert!(sim.step());
    }
}

fn reliable_ordered_at(kind: EngineKind, loss: f64, seed: u64) {
    let mut sim = Sim::new(kind, seed, lossy(loss));
    let id = sim
        .a
        .open_channel("ordered", ChannelOptions::default())
        .unwrap();
    sim.connect();
    let sent = pump_messages(&mut sim, id, 400, Duration::from_secs(600));
    let got = messages(&sim.events_b, id);
    assert_eq!(got.len(), sent.len(), "loss {loss}");
    eprintln!(
        "order: {:?}",
        got.iter().map(|g| number_of(g)).collect::<Vec<_>>()
    );
    for (i, (g, s)) in got.iter().zip(&sent).enumerate() {
        assert!(
            g == s,
            "loss {loss}: message {i} differs: got #{} len {}, sent #{} len {}",
            number_of(g),
            g.len(),
            number_of(s),
            s.len()
        );
    }
    let stats = sim.a.stats();
    if loss > 0.0 {
        assert!(
            stats.t3_timeouts + stats.fast_retransmits > 0,
            "loss {loss} with no retransmission: {stats:?}"
        );
    }
}

fn reliable_ordered_delivers_every_message_once_in_order_without_loss(kind: EngineKind) {
    reliable_ordered_at(kind, 0.0, 1);
}

fn reliable_ordered_delivers_every_message_once_in_order_at_5_percent_loss(kind: EngineKind) {
    reliable_ordered_at(kind, 0.05, 2);
}

fn reliable_ordered_delivers_every_message_once_in_order_at_20_percent_loss(kind: EngineKind) {
    reliable_ordered_at(kind, 0.20, 3);
}

fn reliable_unordered_delivers_every_message_once_at_20_percent_loss(kind: EngineKind) {
    let mut sim = Sim::new(kind, 4, lossy(0.20));
    sim.connect();
    let id = sim
        .a
        .open_channel("unordered", opts(false, Policy::Reliable))
        .unwrap();
    sim.flush();
    let sent = pump_messages(&mut sim, id, 400, Duration::from_secs(600));
    let got = messages(&sim.events_b, id);
    assert_eq!(got.len(), sent.len());
    let got_set: BTreeSet<Vec<u8>> = got.iter().cloned().collect();
    assert_eq!(got_set.len(), got.len(), "a message arrived twice");
    assert_eq!(got_set, sent.iter().cloned().collect());
    let in_order = got.windows(2).all(|w| number_of(&w[0]) < number_of(&w[1]));
    assert!(
        !in_order,
        "20% loss with reordering, yet unordered delivery kept order"
    );
}

/// Partial reliability may drop messages, never corrupt, duplicate or reorder an ordered
/// channel; and it must not stall the channel.
fn partial(kind: EngineKind, policy: Policy, ordered: bool, seed: u64) {
    partial_between(kind, kind, policy, ordered, seed);
}

/// As `partial`, the sender over `sender`, the receiver over `receiver`.
fn partial_between(
    sender: EngineKind,
    receiver: EngineKind,
    policy: Policy,
    ordered: bool,
    seed: u64,
) {
    let mut sim = Sim::with_configs(
        seed,
        lossy(0.20),
        config(sender, Role::Client),
        config(receiver, Role::Server),
    );
    sim.connect();
    let id = sim
        .a
        .open_channel("partial", opts(ordered, policy))
        .unwrap();
    sim.flush();
    let count = 300;
    let mut sent = Vec::new();
    for n in 0..count {
        let m = numbered(n, 4 + (n as usize * 131) % 2000);
        sim.a.send(id, MessageKind::Binary, &m).unwrap();
        sent.push(m);
        sim.run_for(Duration::from_millis(5));
    }
    sim.run_for(Duration::from_secs(30));
    let got = messages(&sim.events_b, id);
    let sent_set: BTreeSet<Vec<u8>> = sent.iter().cloned().collect();
    let got_set: BTreeSet<Vec<u8>> = got.iter().cloned().collect();
    assert_eq!(
        got_set.len(),
        got.len(),
        "{policy:?}: a message arrived twice"
    );
    assert!(
        got_set.is_subset(&sent_set),
        "{policy:?}: a corrupt message"
    );
    assert!(!got.is_empty());
    assert!(
        got.len() < sent.len(),
        "{policy:?}: 20% loss and nothing abandoned ({} of {})",
        got.len(),
        sent.len()
    );
    if ordered {
        assert!(got.windows(2).all(|w| number_of(&w[0]) < number_of(&w[1])));
    }
    // The channel still works afterwards: a last message arrives (reliably enough with
    // retries of its own: a fresh reliable channel proves the association is healthy).
    let probe = sim
        .a
        .open_channel("probe", ChannelOptions::default())
        .unwrap();
    sim.flush();
    sim.a.send(probe, MessageKind::Text, b"still here").unwrap();
    // Both links lose 20%, so a packet and its SACK both get through 41% of the time: the
    // RTO backs off to RTO.Max (10 s) and stays there while only retransmissions, which
    // give no RTT sample (Karn), are in flight. Two minutes is a dozen such timeouts; a
    // stuck association still fails.
    sim.run_until(Duration::from_secs(120), |s| {
        messages(&s.events_b, probe) == [b"still here".to_vec()]
    });
}

fn partial_reliability_by_retransmits_drops_only_what_it_may(kind: EngineKind) {
    partial(kind, Policy::MaxRetransmits(0), true, 5);
    partial(kind, Policy::MaxRetransmits(1), false, 6);
}

fn partial_reliability_by_lifetime_drops_only_what_it_may(kind: EngineKind) {
    partial(kind, Policy::MaxLifetimeMs(30), true, 7);
    partial(kind, Policy::MaxLifetimeMs(30), false, 8);
}

/// Messages abandoned under their lifetime (RFC 3758 §4.1) leave the buffered amount, which
/// falls to zero with a low-threshold event though not everything was delivered.
fn abandoned_messages_leave_the_buffered_amount(kind: EngineKind) {
    let mut sim = Sim::new(kind, 21, LinkConfig::with_delay(Duration::from_millis(25)));
    sim.connect();
    let id = sim
        .a
        .open_channel("timed", opts(false, Policy::MaxLifetimeMs(400)))
        .unwrap();
    sim.flush();
    sim.run_until(Duration::from_secs(5), |s| {
        remote_opens(&s.events_b) == [id]
    });
    sim.a.set_buffered_amount_low_threshold(id, 1024).unwrap();
    let count = 64;
    for n in 0..count {
        sim.a
            .send(id, MessageKind::Binary, &numbered(n, 16 * 1024))
            .unwrap();
    }
    assert!(sim.a.buffered_amount(id) >= 64 * 16 * 1024);
    sim.run_until(Duration::from_secs(10), |s| {
        s.a.buffered_amount(id) == 0
            && s.events_a
                .iter()
                .any(|e| *e == Event::BufferedAmountLow { id })
    });
    sim.run_for(Duration::from_secs(1));
    let got = messages(&sim.events_b, id);
    assert!(!got.is_empty());
    assert!(got.iter().all(|m| *m == numbered(number_of(m), 16 * 1024)));
    assert!(
        got.len() < count as usize,
        "a 400 ms lifetime and 1 MiB queued at once, yet nothing abandoned"
    );
}

fn every_channel_type_opens_by_dcep_with_label_protocol_and_priority(kind: EngineKind) {
    let mut sim = Sim::new(kind, 9, LinkConfig::with_delay(Duration::from_millis(20)));
    let policies = [
        (true, Policy::Reliable),
        (false, Policy::Reliable),
        (true, Policy::MaxRetransmits(3)),
        (false, Policy::MaxRetransmits(0)),
        (true, Policy::MaxLifetimeMs(1500)),
        (false, Policy::MaxLifetimeMs(10)),
    ];
    // Opened before the association is up: they wait, then open.
    let mut ids = Vec::new();
    for (i, (ordered, policy)) in policies.iter().enumerate() {
        let id = sim
            .a
            .open_channel(
                &format!("label-{i}-é"),
                ChannelOptions {
                    reliability: Reliability {
                        ordered: *ordered,
                        policy: *policy,
                    },
                    priority: 256 << (i % 3),
                    protocol: format!("proto{i}"),
                    negotiated: None,
                },
            )
            .unwrap();
        assert_eq!(sim.a.channel(id).unwrap().state, ChannelState::Connecting);
        ids.push(id);
    }
    // RFC 8832 §6: the DTLS client picks even ids.
    assert_eq!(ids, [0, 2, 4, 6, 8, 10]);
    sim.connect();
    sim.run_until(Duration::from_secs(10), |s| {
        remote_opens(&s.events_b).len() == 6
    });
    for (i, id) in ids.iter().enumerate() {
        let theirs = sim.b.channel(*id).unwrap();
        assert_eq!(theirs.label, format!("label-{i}-é"));
        assert_eq!(theirs.protocol, format!("proto{i}"));
        assert_eq!(theirs.priority, 256 << (i % 3));
        assert_eq!(
            theirs.reliability,
            Reliability {
                ordered: policies[i].0,
                policy: policies[i].1
            }
        );
        assert!(theirs.remote && !theirs.negotiated);
        assert_eq!(theirs.state, ChannelState::Open);
    }
    // Both directions on each, text and binary; the server side opens odd ids.
    for id in &ids {
        sim.a
            .send(*id, MessageKind::Text, format!("to b on {id}").as_bytes())
            .unwrap();
        sim.b
            .send(*id, MessageKind::Binary, &[*id as u8; 3])
            .unwrap();
    }
    let from_b = sim
        .b
        .open_channel("from-b", ChannelOptions::default())
        .unwrap();
    assert_eq!(from_b % 2, 1);
    sim.flush();
    sim.run_until(Duration::from_secs(10), |s| {
        ids.iter().all(|id| {
            messages(&s.events_b, *id).len() == 1 && messages(&s.events_a, *id).len() == 1
        }) && remote_opens(&s.events_a) == [from_b]
    });
    for id in &ids {
        assert_eq!(
            messages(&sim.events_b, *id),
            [format!("to b on {id}").into_bytes()]
        );
        assert_eq!(messages(&sim.events_a, *id), [vec![*id as u8; 3]]);
    }
    let kinds: Vec<MessageKind> = sim
        .events_b
        .iter()
        .filter_map(|e| match e {
            Event::Message { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert!(kinds.iter().all(|k| *k == MessageKind::Text));
}

fn negotiated_channels_need_no_dcep_and_may_open_before_connect(kind: EngineKind) {
    let mut sim = Sim::new(kind, 10, LinkConfig::with_delay(Duration::from_millis(5)));
    let options = ChannelOptions {
        negotiated: Some(7),
        ..ChannelOptions::default()
    };
    assert_eq!(sim.a.open_channel("pre", options.clone()).unwrap(), 7);
    assert_eq!(sim.b.open_channel("pre", options.clone()).unwrap(), 7);
    assert_eq!(sim.a.open_channel("again", options), Err(Error::IdInUse(7)));
    sim.connect();
    sim.a.send(7, MessageKind::Text, b"hello").unwrap();
    sim.b.send(7, MessageKind::Text, b"hi").unwrap();
    sim.flush();
    sim.run_until(Duration::from_secs(5), |s| {
        messages(&s.events_b, 7).len() == 1 && messages(&s.events_a, 7).len() == 1
    });
    assert!(remote_opens(&sim.events_a).is_empty());
    assert!(remote_opens(&sim.events_b).is_empty());
    assert!(!sim
        .events_a
        .iter()
        .chain(&sim.events_b)
        .any(|e| matches!(e, Event::Violation { .. })));
}

fn two_hundred_fifty_six_channels_at_once(kind: EngineKind) {
    let mut sim = Sim::new(kind, 11, lossy(0.05));
    sim.connect();
    let ids: Vec<u16> = (0..256)
        .map(|i| {
            sim.a
                .open_channel(&format!("c{i}"), ChannelOptions::default())
                .unwrap()
        })
        .collect();
    for (i, id) in ids.iter().enumerate() {
        sim.a
            .send(*id, MessageKind::Binary, &numbered(i as u32, 100))
            .unwrap();
    }
    sim.flush();
    sim.run_until(Duration::from_secs(120), |s| {
        remote_opens(&s.events_b).len() == 256
            && ids.iter().all(|id| messages(&s.events_b, *id).len() == 1)
    });
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(sim.b.channel(*id).unwrap().label, format!("c{i}"));
        assert_eq!(messages(&sim.events_b, *id), [numbered(i as u32, 100)]);
    }
    assert_eq!(sim.b.stats().channels_opened, 256);
}

fn closed(events: &[Event], id: u16) -> bool {
    events.iter().any(|e| *e == Event::ChannelClosed { id })
}
fn freed(events: &[Event], id: u16) -> bool {
    events.iter().any(|e| *e == Event::ChannelIdFree { id })
}

fn close_resets_both_directions_and_the_id_is_reused(kind: EngineKind) {
    let mut sim = Sim::new(kind, 12, lossy(0.05));
    sim.connect();
    let id = sim
        .a
        .open_channel("first", ChannelOptions::default())
        .unwrap();
    sim.a.send(id, MessageKind::Text, b"before close").unwrap();
    sim.flush();
    sim.run_until(Duration::from_secs(30), |s| {
        messages(&s.events_b, id).len() == 1
    });
    sim.a.close_channel(id).unwrap();
    assert_eq!(sim.a.channel(id).unwrap().state, ChannelState::Closing);
    assert_eq!(
        sim.a.send(id, MessageKind::Text, b"x"),
        Err(Error::NotOpen(id))
    );
    sim.flush();
    sim.run_until(Duration::from_secs(60), |s| {
        freed(&s.events_a, id) && freed(&s.events_b, id)
    });
    assert!(closed(&sim.events_a, id) && closed(&sim.events_b, id));
    assert!(sim.a.channel(id).is_none() && sim.b.channel(id).is_none());
    // The id comes back, with a new label, and works.
    let again = sim
        .a
        .open_channel("second", ChannelOptions::default())
        .unwrap();
    assert_eq!(again, id);
    sim.a
        .send(again, MessageKind::Text, b"after reopen")
        .unwrap();
    sim.flush();
    sim.run_until(Duration::from_secs(30), |s| {
        messages(&s.events_b, id).len() == 2
    });
    assert_eq!(sim.b.channel(id).unwrap().label, "second");
    assert_eq!(messages(&sim.events_b, id)[1], b"after reopen");
}

fn the_peer_closing_closes_our_side_too(kind: EngineKind) {
    let mut sim = Sim::new(kind, 13, LinkConfig::with_delay(Duration::from_millis(10)));
    sim.connect();
    let id = sim.a.open_channel("c", ChannelOptions::default()).unwrap();
    sim.flush();
    sim.run_until(Duration::from_secs(5), |s| {
        remote_opens(&s.events_b) == [id]
    });
    sim.b.close_channel(id).unwrap();
    sim.flush();
    sim.run_until(Duration::from_secs(30), |s| {
        freed(&s.events_a, id) && freed(&s.events_b, id)
    });
    assert!(closed(&sim.events_a, id));
}

fn both_sides_closing_at_once(kind: EngineKind) {
    let mut sim = Sim::new(kind, 14, lossy(0.05));
    sim.connect();
    let ids: Vec<u16> = (0..4)
        .map(|_| sim.a.open_channel("c", ChannelOptions::default()).unwrap())
        .collect();
    sim.flush();
    sim.run_until(Duration::from_secs(30), |s| {
        remote_opens(&s.events_b).len() == 4
    });
    for id in &ids {
        sim.a.close_channel(*id).unwrap();
        sim.b.close_channel(*id).unwrap();
    }
    sim.flush();
    sim.run_until(Duration::from_secs(120), |s| {
        ids.iter()
            .all(|id| freed(&s.events_a, *id) && freed(&s.events_b, *id))
    });
    for id in &ids {
        let closes = sim
            .events_a
            .iter()
            .filter(|e| **e == Event::ChannelClosed { id: *id })
            .count();
        assert_eq!(closes, 1, "channel {id} closed {closes} times");
    }
}

fn messages_up_to_the_negotiated_maximum_both_ways_and_larger_refused(kind: EngineKind) {
    let mut sim = Sim::new(kind, 15, lossy(0.05));
    sim.connect();
    let id = sim
        .a
        .open_channel("big", ChannelOptions::default())
        .unwrap();
    sim.flush();
    sim.run_until(Duration::from_secs(10), |s| {
        remote_opens(&s.events_b) == [id]
    });
    let max = weft_sctp::DEFAULT_MAX_MESSAGE_SIZE as usize;
    let big = numbered(1, max);
    sim.a.send(id, MessageKind::Binary, &big).unwrap();
    sim.b.send(id, MessageKind::Binary, &big).unwrap();
    assert_eq!(
        sim.a.send(id, MessageKind::Binary, &vec![0; max + 1]),
        Err(Error::MessageTooBig { size: max + 1, max })
    );
    // Empty messages keep their kind (RFC 8831 §6.6).
    sim.a.send(id, MessageKind::Text, b"").unwrap();
    sim.a.send(id, MessageKind::Binary, b"").unwrap();
    sim.flush();
    sim.run_until(Duration::from_secs(120), |s| {
        messages(&s.events_b, id).len() == 3 && messages(&s.events_a, id).len() == 1
    });
    assert_eq!(messages(&sim.events_a, id), [big]);
    let got: Vec<(MessageKind, usize)> = sim
        .events_b
        .iter()
        .filter_map(|e| match e {
            Event::Message { kind, data, .. } => Some((*kind, data.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        [
            (MessageKind::Binary, max),
            (MessageKind::Text, 0),
            (MessageKind::Binary, 0)
        ]
    );
    let stats = sim.a.channel(id).unwrap().stats;
    assert_eq!(stats.messages_sent, 3);
    assert_eq!(stats.bytes_sent, max as u64);
    assert_eq!(stats.messages_received, 1);
    assert_eq!(stats.bytes_received, max as u64);
}

fn the_peers_sdp_limit_bounds_what_we_send(kind: EngineKind) {
    // RFC 8841 §6.1: no a=max-message-size means 64 KiB.
    let mut ca = config(kind, Role::Client);
    ca.remote_max_message_size = weft_sctp::SDP_DEFAULT_MAX_MESSAGE_SIZE;
    let mut sim = Sim::with_configs(16, LinkConfig::default(), ca, config(kind, Role::Server));
    sim.connect();
    let id = sim.a.open_channel("c", ChannelOptions::default()).unwrap();
    sim.a
        .send(id, MessageKind::Binary, &vec![1; 65536])
        .unwrap();
    assert_eq!(
        sim.a.send(id, MessageKind::Binary, &vec![1; 65537]),
        Err(Error::MessageTooBig {
            size: 65537,
            max: 65536
        })
    );
}

fn buffered_amount_falls_to_the_low_threshold_with_an_event(kind: EngineKind) {
    let mut sim = Sim::new(kind, 17, LinkConfig::with_delay(Duration::from_millis(25)));
    sim.connect();
    let id = sim
        .a
        .open_channel("bulk", ChannelOptions::default())
        .unwrap();
    sim.a
        .set_buffered_amount_low_threshold(id, 64 * 1024)
        .unwrap();
    assert_eq!(
        sim.a.channel(id).unwrap().buffered_amount_low_threshold,
        64 * 1024
    );
    for n in 0..32 {
        sim.a
            .send(id, MessageKind::Binary, &numbered(n, 16 * 1024))
            .unwrap();
    }
    assert!(sim.a.buffered_amount(id) >= 31 * 16 * 1024);
    sim.run_until(Duration::from_secs(60), |s| {
        s.events_a
            .iter()
            .any(|e| *e == Event::BufferedAmountLow { id })
    });
    assert!(sim.a.buffered_amount(id) <= 64 * 1024);
    sim.run_until(Duration::from_secs(60), |s| {
        messages(&s.events_b, id).len() == 32
    });
    // The last SACK is on its way back.
    sim.run_until(Duration::from_secs(5), |s| s.a.buffered_amount(id) == 0);
}

fn graceful_close_reaches_the_peer(kind: EngineKind) {
    let mut sim = Sim::new(kind, 18, LinkConfig::with_delay(Duration::from_millis(10)));
    sim.connect();
    let id = sim.a.open_channel("c", ChannelOptions::default()).unwrap();
    sim.a.send(id, MessageKind::Text, b"last words").unwrap();
    sim.a.close();
    sim.flush();
    sim.run_until(Duration::from_secs(30), |s| {
        s.a.is_closed() && s.b.is_closed()
    });
    assert_eq!(messages(&sim.events_b, id), [b"last words".to_vec()]);
    assert!(sim.events_a.contains(&Event::Closed(CloseReason::Local)));
    assert!(sim
        .events_b
        .contains(&Event::Closed(CloseReason::PeerShutdown)));
    assert!(sim.events_b.contains(&Event::ChannelClosed { id }));
    assert_eq!(
        sim.a.open_channel("x", ChannelOptions::default()),
        Err(Error::Closed)
    );
}

fn garbage_and_hostile_packets_do_not_hurt_an_open_association(kind: EngineKind) {
    let mut sim = Sim::new(kind, 19, LinkConfig::default());
    sim.connect();
    let id = sim.a.open_channel("c", ChannelOptions::default()).unwrap();
    sim.flush();
    sim.run_until(Duration::from_secs(5), |s| {
        remote_opens(&s.events_b) == [id]
    });
    let now = sim.now();
    for junk in [
        &[][..],
        &[0; 3],
        &[0xff; 12],
        &[0x13, 0x88, 0x13, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4],
    ] {
        sim.b.handle_input(now, junk);
    }
    sim.a.send(id, MessageKind::Text, b"fine").unwrap();
    sim.flush();
    sim.run_until(Duration::from_secs(5), |s| {
        messages(&s.events_b, id).len() == 1
    });
}

fn a_peer_sending_past_our_limit_gets_a_typed_end_not_a_panic(kind: EngineKind) {
    // The peer ignores our a=max-message-size of 256 KiB.
    let mut ca = config(kind, Role::Client);
    ca.remote_max_message_size = 1024 * 1024;
    let mut sim = Sim::with_configs(20, LinkConfig::default(), ca, config(kind, Role::Server));
    sim.connect();
    let id = sim.a.open_channel("c", ChannelOptions::default()).unwrap();
    sim.a
        .send(id, MessageKind::Binary, &vec![7; 300 * 1024])
        .unwrap();
    sim.flush();
    sim.run_for(Duration::from_secs(30));
    // Nothing over the limit is delivered, and the server says why it stopped.
    assert!(messages(&sim.events_b, id).is_empty());
    let ended: Vec<&Event> = sim
        .events_b
        .iter()
        .filter(|e| matches!(e, Event::Closed(_)))
        .collect();
    // sctp-proto fails the association on the oversized message without naming the
    // cause, which weft reports as the peer's fault.
    assert_eq!(ended, [&Event::Closed(CloseReason::Aborted)]);
    assert!(sim.b.is_closed());
    // weft tells the peer with an ABORT, rather than leave it retransmitting.
    assert!(sim.a.is_closed());
    assert!(sim.events_a.contains(&Event::Closed(CloseReason::Aborted)));
}

fn a_late_shutdown_ack_gets_a_reflected_shutdown_complete(kind: EngineKind) {
    use weft_sctp::wire::{
        chunk_type, Checksum, Chunk, CommonHeader, Packet, PacketWriter, ParseOptions,
    };
    let mut sim = Sim::new(kind, 19, LinkConfig::with_delay(Duration::from_millis(10)));
    sim.connect();
    sim.a.close();
    sim.flush();
    sim.run_until(Duration::from_secs(30), |s| {
        s.a.is_closed() && s.b.is_closed()
    });
    // The peer's SHUTDOWN ACK comes again (as when our SHUTDOWN COMPLETE was lost).
    let ack = |chunk: Chunk<'_>| {
        let mut out = Vec::new();
        let header = CommonHeader {
            src_port: 5000,
            dst_port: 5000,
            verification_tag: 0x1234_5678,
            checksum: 0,
        };
        let mut w = PacketWriter::new(&mut out, &header);
        w.chunk(&chunk).unwrap();
        w.finish(Checksum::Crc32c);
        out
    };
    let now = sim.now();
    sim.a.handle_input(now, &ack(Chunk::ShutdownAck));
    let mut replies = Vec::new();
    while let Some(o) = sim.a.poll_output() {
        if let weft_sctp::Output::Transmit(p) = o {
            replies.push(p);
        }
    }
    // RFC 9260 §8.4 item 5: SHUTDOWN COMPLETE, T bit set, the received tag reflected.
    assert_eq!(replies.len(), 1);
    let p = Packet::parse(&replies[0], &ParseOptions::default()).unwrap();
    assert_eq!(p.header().verification_tag, 0x1234_5678);
    let chunks: Vec<_> = p.chunks().collect();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].chunk_type, chunk_type::SHUTDOWN_COMPLETE);
    assert_eq!(
        chunks[0].parse().unwrap(),
        Chunk::ShutdownComplete {
            tag_reflected: true
        }
    );
    // Anything else after the close is dropped unanswered.
    sim.a.handle_input(now, &ack(Chunk::CookieAck));
    assert!(sim.a.poll_output().is_none());
    // A SHUTDOWN ACK with a bad checksum is not answered either.
    let mut bad = ack(Chunk::ShutdownAck);
    bad[8] ^= 1;
    sim.a.handle_input(now, &bad);
    assert!(sim.a.poll_output().is_none());
}

/// sctp-proto abandons and sends FORWARD TSN; weft's engine receives it (RFC 3758 §3.6).
#[test]
fn partial_reliability_from_sctp_proto_to_the_weft_engine() {
    let (s, w) = (EngineKind::SctpProto, EngineKind::Weft);
    partial_between(s, w, Policy::MaxRetransmits(0), true, 5);
    partial_between(s, w, Policy::MaxRetransmits(1), false, 6);
    partial_between(s, w, Policy::MaxLifetimeMs(30), true, 7);
    partial_between(s, w, Policy::MaxLifetimeMs(30), false, 8);
}

/// weft's engine abandons and sends FORWARD TSN (RFC 3758 §3.5); sctp-proto receives it,
/// under the same rules of delivery as between two sctp-proto ends.
#[test]
fn partial_reliability_from_the_weft_engine_to_sctp_proto() {
    let (w, s) = (EngineKind::Weft, EngineKind::SctpProto);
    partial_between(w, s, Policy::MaxRetransmits(0), true, 5);
    partial_between(w, s, Policy::MaxRetransmits(1), false, 6);
    partial_between(w, s, Policy::MaxLifetimeMs(30), true, 7);
    partial_between(w, s, Policy::MaxLifetimeMs(30), false, 8);
}

both_engines!(with_data:
    abandoned_messages_leave_the_buffered_amount,
    partial_reliability_by_retransmits_drops_only_what_it_may,
    partial_reliability_by_lifetime_drops_only_what_it_may,
    reliable_ordered_delivers_every_message_once_in_order_without_loss,
    reliable_ordered_delivers_every_message_once_in_order_at_5_percent_loss,
    reliable_ordered_delivers_every_message_once_in_order_at_20_percent_loss,
    reliable_unordered_delivers_every_message_once_at_20_percent_loss,
    every_channel_type_opens_by_dcep_with_label_protocol_and_priority,
    negotiated_channels_need_no_dcep_and_may_open_before_connect,
    two_hundred_fifty_six_channels_at_once,
    close_resets_both_directions_and_the_id_is_reused,
    the_peer_closing_closes_our_side_too,
    both_sides_closing_at_once,
    messages_up_to_the_negotiated_maximum_both_ways_and_larger_refused,
    the_peers_sdp_limit_bounds_what_we_send,
    buffered_amount_falls_to_the_low_threshold_with_an_event,
    graceful_close_reaches_the_peer,
    garbage_and_hostile_packets_do_not_hurt_an_open_association,
    a_peer_sending_past_our_limit_gets_a_typed_end_not_a_panic,
    a_late_shutdown_ack_gets_a_reflected_shutdown_complete,
);
