//! Chromium's SCTP sends INIT from both ends. The DTLS client's association must take the
//! server's INIT without harm (sctp-proto's client endpoint panicked on it) and still come
//! up through its own INIT.

#![allow(clippy::disallowed_methods)]

use std::time::Instant;

#[macro_use]
mod common;

use common::config;
use weft_sctp::{Association, EngineKind, Event, Output, Role};

fn transmits(a: &mut Association, events: &mut Vec<Event>) -> Vec<bytes::Bytes> {
    let mut v = Vec::new();
    while let Some(o) = a.poll_output() {
        match o {
            Output::Transmit(p) => v.push(p),
            Output::Event(e) => events.push(e),
        }
    }
    v
}

fn client_drops_the_servers_init_and_connects(kind: EngineKind) {
    let now = Instant::now();
    let mut client = Association::new(now, config(kind, Role::Client));
    // A second client stands for a peer that sends INIT although it is the DTLS server.
    let mut other = Association::new(now, config(kind, Role::Client));
    let their_init = transmits(&mut other, &mut Vec::new());
    assert!(!their_init.is_empty());
    for p in &their_init {
        client.handle_input(now, p);
    }
    assert_eq!(client.stats().inits_dropped, their_init.len() as u64);
    // The handshake with a real server still completes.
    let mut server = Association::new(now, config(kind, Role::Server));
    let mut events = Vec::new();
    for _ in 0..10 {
        for p in transmits(&mut client, &mut events) {
            server.handle_input(now, &p);
        }
        for p in transmits(&mut server, &mut Vec::new()) {
            client.handle_input(now, &p);
        }
    }
    assert!(events.contains(&Event::Connected), "{events:?}");
}

both_engines!(with_data: client_drops_the_servers_init_and_connects,);
