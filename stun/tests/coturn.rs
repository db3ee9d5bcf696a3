//! Interop with a real server nobody here wrote: Debian's coturn (`turnserver`) on
//! 127.0.0.1. weft's client, through the sans-IO transaction state machine driven by a std
//! `UdpSocket` here in the test, gets its XOR-MAPPED-ADDRESS from a Binding request and
//! completes a TURN Allocate with long-term credentials (401 challenge with REALM and
//! NONCE, then success with XOR-RELAYED-ADDRESS), then relays data over a channel.
//!
//! `scripts/setup` installs coturn. Without `turnserver` the test is skipped with a message,
//! except under CI (`CI=true`), where it fails.

// This test is the I/O driver: it reads the real clock and owns real sockets.
#![allow(clippy::disallowed_methods)]

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use weft_stun::attr::{
    ChannelNumber, ErrorCode, Lifetime, Nonce, Realm, RequestedTransport, Software,
    XorMappedAddress, XorPeerAddress, XorRelayedAddress,
};
use weft_stun::transaction::{ClientTransactions, TransactionConfig, TransactionEvent};
use weft_stun::{
    ChannelData, Class, LongTermCredentials, Message, MessageBuilder, MessageType, Method,
    TransactionId,
};

/// Transaction IDs: distinct per request; a test needs no cryptographic randomness.
fn txid(n: u8) -> TransactionId {
    let mut id = [n; 12];
    id[..4].copy_from_slice(&std::process::id().to_be_bytes());
    TransactionId(id)
}

/// Runs one transaction over `sock`: the state machine decides every send and the timeout;
/// this loop only moves bytes and reads the clock. Returns the response, or `None` when the
/// transaction timed out.
fn transact(
    sock: &UdpSocket,
    tx: &mut ClientTransactions,
    dst: SocketAddr,
    request: &[u8],
) -> Option<Vec<u8>> {
    let id = tx.start(Instant::now(), dst, request).unwrap();
    let mut buf = [0u8; 2048];
    loop {
        while let Some(t) = tx.poll_transmit() {
            sock.send_to(t.bytes, t.dst).unwrap();
        }
        if let Some(TransactionEvent::TimedOut { id: done, .. }) = tx.poll_event() {
            assert_eq!(done, id);
            return None;
        }
        let deadline = tx.poll_timeout().expect("in flight");
        let now = Instant::now();
        if deadline <= now {
            tx.handle_timeout(now);
            continue;
        }
        sock.set_read_timeout(Some(deadline - now)).unwrap();
        match sock.recv_from(&mut buf) {
            Ok((n, _src)) => {
                let bytes = &buf[..n];
                let Ok(msg) = Message::parse(bytes) else {
                    continue;
                };
                if let Some(m) = tx.handle_response(Instant::now(), &msg) {
                    assert_eq!(m.id, id);
                    return Some(bytes.to_vec());
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                tx.handle_timeout(Instant::now());
            }
            Err(e) => panic!("recv: {e}"),
        }
    }
}

fn binding_request(id: TransactionId) -> Vec<u8> {
    let mut buf = [0u8; 128];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, id).unwrap();
    b.add(&Software("weft-stun test")).unwrap();
    b.add_fingerprint().unwrap();
    b.finish().to_vec()
}

/// A request carrying the long-term credentials of the last challenge (RFC 8489 §9.2.4),
/// after `attrs` adds the method's own attributes.
fn authenticated(
    method: Method,
    id: TransactionId,
    creds: &LongTermCredentials,
    attrs: impl FnOnce(&mut MessageBuilder<'_>),
) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let typ = MessageType::new(method, Class::Request);
    let mut b = MessageBuilder::new(&mut buf, typ, id).unwrap();
    attrs(&mut b);
    creds.add_to(&mut b).unwrap();
    b.add_fingerprint().unwrap();
    b.finish().to_vec()
}

#[test]
fn coturn_binding_and_turn_allocate() {
    let Some(mut server) = weft_testkit::start_coturn() else {
        return;
    };
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = sock.local_addr().unwrap();
    let config = TransactionConfig {
        initial_rto: Duration::from_millis(100),
        max_rto: Duration::from_millis(400),
        rc: 7,
        rm: 4,
    };
    let mut tx = ClientTransactions::new(config);

    // 1. Binding, repeated until the server answers (it needs a moment to start listening);
    // bounded by a count of transactions, each bounded by the state machine's Rc and Rm.
    let mut n = 0u8;
    let response = loop {
        n += 1;
        if let Some(r) = transact(&sock, &mut tx, server.addr, &binding_request(txid(n))) {
            break r;
        }
        if let Some(status) = server.exited() {
            panic!("turnserver exited with {status}:\n{}", server.log());
        }
        assert!(n < 20, "turnserver never answered:\n{}", server.log());
    };
    let msg = Message::parse(&response).unwrap();
    assert_eq!(msg.message_type(), MessageType::BINDING_SUCCESS);
    assert_eq!(
        msg.get::<XorMappedAddress>().unwrap(),
        Some(XorMappedAddress(local)),
        "the reflexive address of our socket"
    );
    if msg.has_fingerprint() {
        msg.verify_fingerprint().unwrap();
    }
    assert_eq!(msg.unknown_comprehension_required().count(), 0);
    println!("Binding: XOR-MAPPED-ADDRESS {local} from {}", server.addr);

    // 2. Allocate without credentials: 401 with REALM and NONCE (RFC 8656 §7.1, RFC 8489
    // §9.2.4).
    let mut buf = [0u8; 128];
    let allocate = MessageType::new(Method::ALLOCATE, Class::Request);
    let mut b = MessageBuilder::new(&mut buf, allocate, txid(100)).unwrap();
    b.add(&RequestedTransport::UDP).unwrap();
    b.add_fingerprint().unwrap();
    let first = b.finish().to_vec();
    let challenge = transact(&sock, &mut tx, server.addr, &first).expect("a 401");
    let challenge = Message::parse(&challenge).unwrap();
    assert_eq!(challenge.message_type(), allocate.error());
    let code = challenge.get::<ErrorCode>().unwrap().unwrap();
    assert_eq!(code.code, ErrorCode::UNAUTHENTICATED, "{code:?}");
    assert_eq!(challenge.get::<Realm>().unwrap(), Some(Realm("test.local")));
    assert!(challenge.get::<Nonce>().unwrap().is_some());
    let mut creds = LongTermCredentials::new("test", "test");
    assert!(creds.on_challenge(&challenge).unwrap());
    println!(
        "Allocate: 401 realm {:?} nonce {:?} algorithm {:?}",
        creds.realm(),
        creds.nonce(),
        creds.password_algorithm()
    );

    // 3. Allocate with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY: success.
    let second = authenticated(Method::ALLOCATE, txid(101), &creds, |b| {
        b.add(&RequestedTransport::UDP).unwrap();
    });
    let success = transact(&sock, &mut tx, server.addr, &second).expect("a response");
    let success = Message::parse(&success).unwrap();
    assert_eq!(
        success.message_type(),
        allocate.success(),
        "{:?}",
        success.get::<ErrorCode>()
    );
    // The server signs its response with the same key (RFC 8489 §9.2.4).
    success
        .verify_message_integrity(creds.key().unwrap().as_ref())
        .unwrap();
    let XorRelayedAddress(relayed) = success.get::<XorRelayedAddress>().unwrap().unwrap();
    assert_eq!(relayed.ip(), local.ip(), "relay-ip is 127.0.0.1");
    assert_ne!(relayed.port(), 0);
    assert_eq!(
        success.get::<XorMappedAddress>().unwrap(),
        Some(XorMappedAddress(local))
    );
    let Lifetime(lifetime) = success.get::<Lifetime>().unwrap().unwrap();
    assert!(lifetime > 0);
    println!("Allocate: success, XOR-RELAYED-ADDRESS {relayed}, LIFETIME {lifetime} s");

    // 4. ChannelBind a peer, then relay both ways with ChannelData (RFC 8656 §11, §12).
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let bind = authenticated(Method::CHANNEL_BIND, txid(102), &creds, |b| {
        b.add(&ChannelNumber(0x4000)).unwrap();
        b.add(&XorPeerAddress(peer_addr)).unwrap();
    });
    let bound = transact(&sock, &mut tx, server.addr, &bind).expect("a response");
    let bound = Message::parse(&bound).unwrap();
    assert_eq!(
        bound.message_type(),
        MessageType::new(Method::CHANNEL_BIND, Class::SuccessResponse),
        "{:?}",
        bound.get::<ErrorCode>()
    );
    let mut frame = [0u8; 64];
    let n = ChannelData {
        channel: 0x4000,
        data: b"hello peer",
    }
    .encode(weft_stun::Framing::Udp, &mut frame)
    .unwrap();
    sock.send_to(&frame[..n], server.addr).unwrap();
    let mut got = [0u8; 64];
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (len, from) = peer
        .recv_from(&mut got)
        .expect("the peer gets the relayed data");
    assert_eq!(&got[..len], b"hello peer");
    assert_eq!(from, relayed);
    peer.send_to(b"hello client", relayed).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (len, _) = sock.recv_from(&mut got).expect("ChannelData back");
    let back = ChannelData::decode(&got[..len]).unwrap();
    assert_eq!(back.channel, 0x4000);
    assert_eq!(back.data, b"hello client");

    // 5. Refresh with LIFETIME 0 deletes the allocation (RFC 8656 §7.3).
    let refresh = authenticated(Method::REFRESH, txid(103), &creds, |b| {
        b.add(&Lifetime(0)).unwrap();
    });
    let done = transact(&sock, &mut tx, server.addr, &refresh).expect("a response");
    let done = Message::parse(&done).unwrap();
    assert_eq!(
        done.class(),
        Class::SuccessResponse,
        "{:?}",
        done.get::<ErrorCode>()
    );
    assert_eq!(tx.in_flight(), 0);
}
