//! Helpers shared by the integration tests.

#![allow(dead_code)]
// The tests are the driver: they read the real clock once, for the network's start.
#![allow(clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use weft_netsim::{Datagram, Network};
use weft_stun::attr::XorMappedAddress;
use weft_stun::{
    Class, Error, LongTermCredentials, Message, MessageBuilder, MessageType, Method, TransactionId,
};

pub fn start() -> Instant {
    Instant::now()
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Advances the clock by `d` (processing everything due by then).
pub fn step(net: &mut Network, d: Duration) {
    let t = net.now() + d;
    net.advance(t);
}

/// Runs for one more virtual second: enough for every test topology here to settle, and
/// short of any timer the tests care about.
pub fn settle(net: &mut Network) {
    step(net, Duration::from_secs(1));
}

/// Every datagram delivered so far.
pub fn drain(net: &mut Network) -> Vec<Datagram> {
    std::iter::from_fn(|| net.poll_receive()).collect()
}

/// Sends, settles, and returns what was delivered.
pub fn exchange(
    net: &mut Network,
    src: SocketAddr,
    dst: SocketAddr,
    bytes: &[u8],
) -> Vec<Datagram> {
    net.send(src, dst, bytes);
    settle(net);
    drain(net)
}

/// Sends, settles, and returns the one datagram delivered; panics (with the seed) otherwise.
pub fn one_reply(net: &mut Network, src: SocketAddr, dst: SocketAddr, bytes: &[u8]) -> Datagram {
    let mut got = exchange(net, src, dst, bytes);
    assert_eq!(
        got.len(),
        1,
        "seed {}: expected one datagram back, got {got:?}; stats {:?}",
        net.seed(),
        net.stats()
    );
    got.remove(0)
}

/// A STUN request: `body` adds attributes, `creds` (when challenged) adds USERNAME,
/// REALM, NONCE and MESSAGE-INTEGRITY, then FINGERPRINT.
pub fn request(
    method: Method,
    txid: u8,
    creds: Option<&LongTermCredentials>,
    body: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), Error>,
) -> Vec<u8> {
    message(MessageType::new(method, Class::Request), txid, creds, body)
}

/// Any STUN message, built as [`request`] builds one.
pub fn message(
    typ: MessageType,
    txid: u8,
    creds: Option<&LongTermCredentials>,
    body: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), Error>,
) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let mut b = MessageBuilder::new(&mut buf, typ, TransactionId([txid; 12])).unwrap();
    body(&mut b).unwrap();
    if let Some(c) = creds {
        c.add_to(&mut b).unwrap();
    }
    b.add_fingerprint().unwrap();
    let n = b.finish().len();
    buf.truncate(n);
    buf
}

pub fn binding_request(txid: u8) -> Vec<u8> {
    request(Method::BINDING, txid, None, |_| Ok(()))
}

/// The XOR-MAPPED-ADDRESS of a Binding success response.
pub fn mapped_address(bytes: &[u8]) -> SocketAddr {
    let msg = Message::parse(bytes).unwrap();
    assert_eq!(msg.message_type(), MessageType::BINDING_SUCCESS);
    msg.verify_fingerprint().unwrap();
    msg.get::<XorMappedAddress>().unwrap().unwrap().0
}

/// Owns a network and writes its capture to `$TMPDIR/weft-netsim-<name>-<seed>.pcap` if the
/// test panics while it is alive, printing the path and the seed. Derefs to the network.
pub struct PcapOnFailure {
    pub net: Network,
    pub name: &'static str,
}

impl PcapOnFailure {
    pub fn new(mut net: Network, name: &'static str) -> Self {
        net.enable_pcap();
        PcapOnFailure { net, name }
    }

    pub fn path(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!(
            "weft-netsim-{}-{}.pcap",
            self.name,
            self.net.seed()
        ))
    }
}

impl std::ops::Deref for PcapOnFailure {
    type Target = Network;
    fn deref(&self) -> &Network {
        &self.net
    }
}

impl std::ops::DerefMut for PcapOnFailure {
    fn deref_mut(&mut self) -> &mut Network {
        &mut self.net
    }
}

impl Drop for PcapOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() && std::fs::write(self.path(), self.net.pcap_bytes()).is_ok() {
            eprintln!(
                "seed {}: capture in {}",
                self.net.seed(),
                self.path().display()
            );
        }
    }
}
