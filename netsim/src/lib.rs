//! # weft-netsim
//!
//! A deterministic simulated network for integration tests of sans-IO protocol state
//! machines (ICE agents, TURN clients, DTLS and SCTP peers): seeded links with delay,
//! jitter, loss, duplication, reordering and an MTU; NAT boxes with the mapping, filtering,
//! hairpinning and timeout behaviours of RFC 4787; a STUN server and a TURN server built on
//! `weft-stun`; a virtual clock; optional pcap capture. No sockets, no threads, no real
//! time: a run is a pure function of the seed and the calls made, replayable bit for bit.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::{Duration, Instant};
//! use weft_netsim::{LinkConfig, NatConfig, Network};
//!
//! # #[allow(clippy::disallowed_methods)]
//! let start = Instant::now(); // the only clock reading: the test's, once
//! let mut net = Network::new(7, start);
//! let nat = net.add_nat("203.0.113.1".parse()?, NatConfig::port_restricted_cone(), LinkConfig::default());
//! let alice = net.add_host_behind(nat, "192.168.1.2".parse()?, LinkConfig::with_delay(Duration::from_millis(5)));
//! let stun: SocketAddr = "198.51.100.1:3478".parse()?;
//! net.add_stun_server(stun, LinkConfig::with_delay(Duration::from_millis(20)));
//!
//! // A Binding request from Alice (built with weft-stun in a real test).
//! let request = binding_request();
//! net.send("192.168.1.2:5000".parse()?, stun, &request);
//! while let Some(t) = net.poll_timeout() {
//!     net.advance(t);
//! }
//! let answer = net.poll_receive().expect("a Binding response");
//! assert_eq!(answer.host, alice);
//! assert_eq!(answer.src, stun);
//! assert_eq!(net.now() - start, Duration::from_millis(50)); // 5 + 20 + 20 + 5
//! # fn binding_request() -> Vec<u8> {
//! #     let mut buf = [0u8; 64];
//! #     let b = weft_stun::MessageBuilder::new(&mut buf, weft_stun::MessageType::BINDING_REQUEST, weft_stun::TransactionId([1; 12])).unwrap();
//! #     b.finish().to_vec()
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The calling contract (what to call, in what order, what never happens) is written on
//! [`Network`].
//!
//! ## What it models
//! - **Topology.** A public network with hosts, NAT boxes and servers on it, each joined
//!   by its own access link ([`LinkConfig`]); hosts on the private side of a NAT, each
//!   joined to it by a link. The public core itself adds no delay: host A to public host B
//!   crosses A's link up and B's link down; a host behind a NAT adds the NAT's uplink.
//!   Hosts behind the same NAT reach each other by private address over their two links.
//! - **Links.** Per datagram and per direction: MTU check (IP + UDP headers counted),
//!   loss, delay plus uniform jitter, reordering by extra delay, duplication.
//! - **NATs (RFC 4787).** Endpoint-independent, address-dependent and address-and-port
//!   dependent mapping (§4.1) and filtering (§5); hairpinning on or off (§6); idle mapping
//!   expiry refreshed by outbound traffic only (§4.3); port preservation or seeded random
//!   ports (§4.2.1). A NAT translates its public address's family; the other family passes
//!   through untranslated and unfiltered (a dual-stack home router).
//! - **STUN server (RFC 8489).** Binding success with XOR-MAPPED-ADDRESS, SOFTWARE and
//!   FINGERPRINT; 420 for unknown comprehension-required attributes.
//! - **TURN server (RFC 8656) over UDP.** Long-term credentials with 401 challenges and
//!   438 Stale Nonce; Allocate (437 on a 5-tuple in use), Refresh (LIFETIME 0 deletes),
//!   CreatePermission (300 s, per peer IP), ChannelBind (0x4000-0x4FFF, 10 min), Send and
//!   Data indications, ChannelData both ways; allocations expire on the virtual clock.
//!   The TURN server also answers Binding requests. Details on
//!   [`Network::add_turn_server`].
//! - **Capture.** [`Network::enable_pcap`] records what crosses the public network as a
//!   pcap file (LINKTYPE_RAW), for Wireshark when a test fails.
//! - **Accounting.** [`Stats`] counts every send, delivery and drop by cause.
//!
//! ## What it does not model
//! Congestion, queueing and bandwidth (every datagram is independent; no link rate);
//! IP fragmentation (oversize datagrams are dropped); ICMP (no "port unreachable": nothing
//! is bound, everything reaching a host address is delivered); TCP and TLS; NATs behind
//! NATs; NAT mapping refresh by inbound traffic, port parity or contiguity, and
//! "paired" IP pooling behaviour (one public address per NAT); routing between private
//! networks other than through NATs; IPv4-mapped IPv6 addresses.
//!
//! ## Determinism
//! All randomness comes from one ChaCha8 RNG seeded by [`Network::new`], drawn in event
//! order (a probability of 0 draws nothing). Events are ordered by (time, sequence number).
//! Maps are ordered (`BTreeMap`), never hashed. The crate never reads the real clock;
//! `Instant`s come from the caller.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Datagrams never panic the simulator: no unwrap, expect or indexing outside tests. (The
// topology API panics on misuse, with a message; the server modules deny `panic!` too.)
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod config;
mod link;
mod nat;
mod network;
mod pcap;
mod server;
mod stats;
mod stun_server;
mod turn_server;

pub use config::{Behaviour, LinkConfig, NatConfig};
pub use network::{Datagram, HostId, NatId, Network};
pub use pcap::{LINKTYPE_RAW, PCAP_MAGIC};
pub use stats::Stats;
pub use turn_server::{
    CHANNEL_LIFETIME, DEFAULT_ALLOCATION_LIFETIME, DEFAULT_NONCE_LIFETIME, MAX_ALLOCATION_LIFETIME,
    PERMISSION_LIFETIME,
};
