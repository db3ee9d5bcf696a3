//! Client transactions on a virtual clock: RFC 8489 §6.2.1 retransmission timing, matching,
//! timeouts.

// The virtual clock starts at one real instant; time then only moves by `poll_timeout`.
#![allow(clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use weft_stun::transaction::{ClientTransactions, TransactionConfig, TransactionEvent};
use weft_stun::{Error, Message, MessageBuilder, MessageType, TransactionId};

fn request(id: u8) -> Vec<u8> {
    let mut buf = [0u8; 64];
    let b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId([id; 12]),
    )
    .unwrap();
    b.finish().to_vec()
}

fn response(id: u8, typ: MessageType) -> Vec<u8> {
    let mut buf = [0u8; 64];
    let b = MessageBuilder::new(&mut buf, typ, TransactionId([id; 12])).unwrap();
    b.finish().to_vec()
}

fn server() -> SocketAddr {
    "192.0.2.1:3478".parse().unwrap()
}

/// Runs one transaction that is never answered; returns the send times and the timeout time,
/// in ms after the start.
fn unanswered(config: TransactionConfig) -> (Vec<u128>, u128) {
    let t0 = Instant::now();
    let mut tx = ClientTransactions::new(config);
    tx.start(t0, server(), &request(1)).unwrap();
    let mut sends = Vec::new();
    let mut now = t0;
    loop {
        while let Some(t) = tx.poll_transmit() {
            assert_eq!(t.dst, server());
            assert_eq!(t.bytes, request(1).as_slice());
            sends.push((now - t0).as_millis());
        }
        if let Some(TransactionEvent::TimedOut { id, .. }) = tx.poll_event() {
            assert_eq!(id, TransactionId([1; 12]));
            assert_eq!(tx.in_flight(), 0);
            return (sends, (now - t0).as_millis());
        }
        let next = tx.poll_timeout().expect("a timer while in flight");
        assert!(next >= now, "poll_timeout went backwards");
        now = next;
        tx.handle_timeout(now);
    }
}

#[test]
fn rfc8489_section_6_2_1_example_timeline() {
    // RFC 8489 §6.2.1: "with an RTO of 500 ms, requests would be sent at times 0 ms, 500 ms,
    // 1500 ms, 3500 ms, 7500 ms, 15500 ms, and 31500 ms. If the client has not received a
    // response after 39500 ms, the client will consider the transaction to have timed out."
    let (sends, timeout) = unanswered(TransactionConfig::RFC8489);
    assert_eq!(sends, [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(timeout, 39500);
}

#[test]
fn webrtc_default_timeline() {
    let (sends, timeout) = unanswered(TransactionConfig::default());
    assert_eq!(sends, [0, 250, 750, 1750, 3750, 6750, 9750]);
    assert_eq!(timeout, 13750);
}

#[test]
fn custom_rc_and_rm() {
    let config = TransactionConfig {
        initial_rto: Duration::from_millis(100),
        max_rto: Duration::from_millis(150),
        rc: 3,
        rm: 4,
    };
    let (sends, timeout) = unanswered(config);
    assert_eq!(sends, [0, 100, 250]);
    assert_eq!(timeout, 650);
    let once = TransactionConfig { rc: 1, ..config };
    assert_eq!(unanswered(once), (vec![0], 400));
}

#[test]
fn responses_match_by_transaction_id_and_method() {
    let t0 = Instant::now();
    let mut tx = ClientTransactions::default();
    tx.start(t0, server(), &request(1)).unwrap();
    tx.start(t0, server(), &request(2)).unwrap();
    assert_eq!(
        tx.start(t0, server(), &request(2)),
        Err(Error::DuplicateTransaction)
    );
    assert_eq!(
        tx.start(t0, server(), &response(3, MessageType::BINDING_SUCCESS)),
        Err(Error::NotARequest)
    );
    assert_eq!(tx.in_flight(), 2);
    let mut sent = 0;
    while tx.poll_transmit().is_some() {
        sent += 1;
    }
    assert_eq!(sent, 2);

    let later = t0 + Duration::from_millis(40);
    // Unknown ID, a request, or another method: ignored.
    let other = response(9, MessageType::BINDING_SUCCESS);
    assert!(tx
        .handle_response(later, &Message::parse(&other).unwrap())
        .is_none());
    let req = request(1);
    assert!(tx
        .handle_response(later, &Message::parse(&req).unwrap())
        .is_none());
    let alloc = response(
        1,
        MessageType::new(
            weft_stun::Method::ALLOCATE,
            weft_stun::Class::SuccessResponse,
        ),
    );
    assert!(tx
        .handle_response(later, &Message::parse(&alloc).unwrap())
        .is_none());

    // The right one: matched once, with an RTT sample (sent once).
    let ok = response(1, MessageType::BINDING_SUCCESS);
    let m = tx
        .handle_response(later, &Message::parse(&ok).unwrap())
        .unwrap();
    assert_eq!(m.id, TransactionId([1; 12]));
    assert_eq!(m.dst, server());
    assert_eq!(m.rtt, Some(Duration::from_millis(40)));
    assert!(tx
        .handle_response(later, &Message::parse(&ok).unwrap())
        .is_none());
    assert_eq!(tx.in_flight(), 1);

    // The other is retransmitted, then answered with an error response: no RTT sample
    // (Karn's rule).
    let t1 = tx.poll_timeout().unwrap();
    assert_eq!(t1, t0 + Duration::from_millis(250));
    tx.handle_timeout(t1);
    assert_eq!(tx.poll_transmit().unwrap().id, TransactionId([2; 12]));
    assert!(tx.poll_transmit().is_none());
    let err = response(2, MessageType::BINDING_REQUEST.error());
    let m = tx
        .handle_response(t1, &Message::parse(&err).unwrap())
        .unwrap();
    assert_eq!(m.rtt, None);
    assert_eq!(tx.in_flight(), 0);
    assert_eq!(tx.poll_timeout(), None);
    assert!(tx.poll_event().is_none());
}

#[test]
fn early_timeouts_do_nothing_and_cancel_stops() {
    let t0 = Instant::now();
    let mut tx = ClientTransactions::default();
    let id = tx.start(t0, server(), &request(4)).unwrap();
    let _ = tx.poll_transmit();
    tx.handle_timeout(t0 + Duration::from_millis(249));
    assert!(tx.poll_transmit().is_none());
    assert!(tx.cancel(id));
    assert!(!tx.cancel(id));
    assert_eq!(tx.poll_timeout(), None);
    tx.handle_timeout(t0 + Duration::from_secs(100));
    assert!(tx.poll_event().is_none());
}

#[test]
fn lost_requests_are_retransmitted_until_one_is_answered() {
    // A link that drops the first two sends: the third gets through and is answered 30 ms
    // later; the transaction ends there, with no RTT sample (the request was retransmitted).
    let t0 = Instant::now();
    let mut tx = ClientTransactions::default();
    tx.start(t0, server(), &request(7)).unwrap();
    let mut now = t0;
    let mut delivered = None;
    let mut sends = 0;
    while delivered.is_none() {
        while tx.poll_transmit().is_some() {
            sends += 1;
            if sends == 3 {
                delivered = Some(now);
            }
        }
        if delivered.is_none() {
            now = tx.poll_timeout().unwrap();
            tx.handle_timeout(now);
        }
    }
    assert_eq!(delivered, Some(t0 + Duration::from_millis(750)));
    // The third send's timer is pending until the response.
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + Duration::from_millis(750 + 1000))
    );
    let answer = response(7, MessageType::BINDING_SUCCESS);
    let m = tx
        .handle_response(
            now + Duration::from_millis(30),
            &Message::parse(&answer).unwrap(),
        )
        .unwrap();
    assert_eq!(m.rtt, None);
    assert_eq!(tx.in_flight(), 0);
    assert!(tx.poll_event().is_none());
}

#[test]
fn concurrent_transactions_keep_their_own_timers() {
    let t0 = Instant::now();
    let mut tx = ClientTransactions::default();
    tx.start(t0, server(), &request(1)).unwrap();
    let t1 = t0 + Duration::from_millis(100);
    tx.start(t1, server(), &request(2)).unwrap();
    while tx.poll_transmit().is_some() {}
    // The earliest deadline first: request 1 at 250 ms, then request 2 at 350 ms.
    assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_millis(250)));
    tx.handle_timeout(t0 + Duration::from_millis(250));
    assert_eq!(
        tx.poll_transmit().map(|t| t.id),
        Some(TransactionId([1; 12]))
    );
    assert!(tx.poll_transmit().is_none());
    assert_eq!(tx.poll_timeout(), Some(t1 + Duration::from_millis(250)));
    tx.handle_timeout(t1 + Duration::from_millis(250));
    assert_eq!(
        tx.poll_transmit().map(|t| t.id),
        Some(TransactionId([2; 12]))
    );
    // Request 1 next fires 500 ms after its second send.
    assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_millis(750)));
}
