//! The deprecated partial-message PPIDs (RFC 8831 §8: 54 string partial, 52 binary
//! partial), as old Firefox and Chrome sent them, are accepted on receive: the pieces come
//! out as one message. sctp-proto cannot send them, so the test rewrites weft's own DATA
//! chunks on the wire, as a peer using them would have sent them.

use std::time::Instant;

#[macro_use]
mod common;

use common::config;
use weft_sctp::{Association, ChannelOptions, EngineKind, Event, MessageKind, Output, Role};

/// Rewrites the PPID of every DATA chunk whose user data equals `data`, and re-checksums.
fn rewrite(packet: &mut [u8], data: &[u8], ppid: u32) -> bool {
    let mut at = 12;
    let mut changed = false;
    while at + 16 <= packet.len() {
        let len = usize::from(u16::from_be_bytes([packet[at + 2], packet[at + 3]]));
        if len < 4 {
            break;
        }
        if packet[at] == 0 && &packet[at + 16..at + len] == data {
            packet[at + 12..at + 16].copy_from_slice(&ppid.to_be_bytes());
            changed = true;
        }
        at += (len + 3) & !3;
    }
    if changed {
        packet[8..12].fill(0);
        let crc = crc32c::crc32c(packet);
        packet[8..12].copy_from_slice(&crc.to_le_bytes());
    }
    changed
}

fn pieces_under_partial_ppids_arrive_as_one_message(kind: EngineKind) {
    // The peers that sent these PPIDs predate I-DATA: DATA chunks only.
    common::DATA_ONLY.with(|d| d.set(true));
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut a = Association::new(now, config(kind, Role::Client));
    let mut b = Association::new(now, config(kind, Role::Server));
    let id = a.open_channel("legacy", ChannelOptions::default()).unwrap();
    let mut events_b = Vec::new();
    let mut rewrites = 0;
    let mut sent = false;
    for _ in 0..50 {
        if a.is_established() && !sent {
            a.send(id, MessageKind::Text, b"hello ").unwrap();
            a.send(id, MessageKind::Text, b"world").unwrap();
            a.send(id, MessageKind::Binary, &[1, 2]).unwrap();
            a.send(id, MessageKind::Binary, &[3]).unwrap();
            a.send(id, MessageKind::Text, b"").unwrap();
            sent = true;
        }
        while let Some(o) = a.poll_output() {
            if let Output::Transmit(p) = o {
                let mut p = p.to_vec();
                if rewrite(&mut p, b"hello ", 54) {
                    rewrites += 1;
                }
                if rewrite(&mut p, &[1, 2], 52) {
                    rewrites += 1;
                }
                b.handle_input(now, &p);
            }
        }
        while let Some(o) = b.poll_output() {
            match o {
                Output::Transmit(p) => a.handle_input(now, &p),
                Output::Event(e) => events_b.push(e),
            }
        }
    }
    assert_eq!(rewrites, 2);
    let messages: Vec<(MessageKind, Vec<u8>)> = events_b
        .iter()
        .filter_map(|e| match e {
            Event::Message { kind, data, .. } => Some((*kind, data.to_vec())),
            _ => None,
        })
        .collect();
    assert_eq!(
        messages,
        [
            (MessageKind::Text, b"hello world".to_vec()),
            (MessageKind::Binary, vec![1, 2, 3]),
            (MessageKind::Text, vec![]),
        ]
    );
    assert!(!events_b
        .iter()
        .any(|e| matches!(e, Event::Violation { .. })));
}

fn a_packet_with_a_bad_checksum_is_not_rewritten_into_a_good_one(kind: EngineKind) {
    common::DATA_ONLY.with(|d| d.set(true));
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut a = Association::new(now, config(kind, Role::Client));
    let mut b = Association::new(now, config(kind, Role::Server));
    let id = a.open_channel("legacy", ChannelOptions::default()).unwrap();
    let mut got = Vec::new();
    let mut corrupted = false;
    let mut sent = false;
    let mut now = now;
    for _ in 0..100 {
        now += std::time::Duration::from_millis(100);
        for side in [&mut a, &mut b] {
            if side.poll_timeout().is_some_and(|t| t <= now) {
                side.handle_timeout(now);
            }
        }
        if a.is_established() && !sent {
            a.send(id, MessageKind::Text, b"piece").unwrap();
            sent = true;
        }
        while let Some(o) = a.poll_output() {
            if let Output::Transmit(p) = o {
                let mut p = p.to_vec();
                if !corrupted && rewrite(&mut p, b"piece", 54) {
                    // Break the checksum after the rewrite: the packet must be dropped,
                    // not "repaired" by weft's own re-checksum.
                    p[8] ^= 1;
                    corrupted = true;
                }
                b.handle_input(now, &p);
            }
        }
        while let Some(o) = b.poll_output() {
            match o {
                Output::Transmit(p) => a.handle_input(now, &p),
                Output::Event(Event::Message { data, .. }) => got.push(data.to_vec()),
                Output::Event(_) => {}
            }
        }
    }
    assert!(corrupted);
    // The corrupted copy was dropped; the retransmission (PPID 51, untouched) delivers it
    // whole, once.
    assert_eq!(got, [b"piece".to_vec()]);
}

both_engines!(
    pieces_under_partial_ppids_arrive_as_one_message,
    a_packet_with_a_bad_checksum_is_not_rewritten_into_a_good_one,
);
