//! The ClientHello of a real Chromium 156 call (`../shared/fixtures/wire/`): 1413 bytes in
//! two records, offering DTLS 1.3 and 1.2 with an X25519MLKEM768 key share. A weft server
//! reassembles it, answers with a stateless HelloVerifyRequest, and answers the same hello
//! with the cookie (as Chromium sends it next) with a DTLS 1.2 ServerHello.

// The virtual clock's origin is the one real clock read.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use weft_dtls_srtp::cert::{Certificate, Validity};
use weft_dtls_srtp::wire::handshake::{
    self as hs, ext, msg, ClientHello, Fragment, Reassembly, ServerHello,
};
use weft_dtls_srtp::wire::record::{ContentType, Record, DTLS_1_2};
use weft_dtls_srtp::wire::Reader;
use weft_dtls_srtp::{Config, Endpoint, Output, Role};

fn datagrams() -> Vec<Vec<u8>> {
    weft_testkit::chromium_call_datagrams()
        .into_iter()
        .map(|d| d.bytes)
        .collect()
}

/// The two records of the offerer's ClientHello, and its reassembled body.
fn client_hello() -> (Vec<Vec<u8>>, Vec<u8>) {
    let hello: Vec<Vec<u8>> = datagrams()
        .into_iter()
        .filter(|d| d.first() == Some(&22))
        .filter(|d| {
            let rec = Record::parse_all(d).next().unwrap().unwrap();
            Fragment::read(&mut Reader::new(rec.fragment))
                .unwrap()
                .msg_type
                == msg::CLIENT_HELLO
        })
        .take(2)
        .collect();
    let mut r: Option<Reassembly> = None;
    for d in &hello {
        let rec = Record::parse_all(d).next().unwrap().unwrap();
        let f = Fragment::read(&mut Reader::new(rec.fragment)).unwrap();
        r.get_or_insert_with(|| Reassembly::new(&f))
            .add(&f)
            .unwrap();
    }
    let body = r.unwrap().complete().unwrap().to_vec();
    (hello, body)
}

#[test]
fn chromium_client_hello_reassembles_from_two_fragments() {
    let (records, body) = client_hello();
    assert_eq!(records.len(), 2);
    assert_eq!(body.len(), 1413);
    let ch = ClientHello::parse(&body).unwrap();
    assert!(ch.cookie.is_empty());
    assert!(ch.cipher_suites.contains(&0xC02B));
    let versions = hs::find_ext(&ch.extensions, ext::SUPPORTED_VERSIONS).unwrap();
    // 1 length byte, then DTLS 1.3 (fefc) and DTLS 1.2 (fefd).
    assert!(versions.windows(2).any(|w| w == [0xfe, 0xfc]));
    assert!(versions.windows(2).any(|w| w == [0xfe, 0xfd]));
    let groups = hs::read_u16_list(
        hs::find_ext(&ch.extensions, ext::SUPPORTED_GROUPS).unwrap(),
        "g",
    )
    .unwrap();
    assert!(
        groups.contains(&0x11EC),
        "X25519MLKEM768 offered: {groups:x?}"
    );
    assert!(hs::find_ext(&ch.extensions, ext::KEY_SHARE).is_some());
    assert!(hs::find_ext(&ch.extensions, ext::EXTENDED_MASTER_SECRET).is_some());
}

#[test]
fn chromium_client_hello_gets_a_cookie_then_a_dtls12_server_hello() {
    let rng = ring::rand::SystemRandom::new();
    let cert = Certificate::generate_self_signed("weft", Validity::default(), &rng).unwrap();
    let now = Instant::now();
    let mut server = Endpoint::new(now, Config::new(Role::Server, cert.into()), [4; 32]);
    let (records, body) = client_hello();
    // The fragments arrive in reverse order.
    server.handle_input(now, &records[1]);
    assert!(server.poll_output().is_none(), "half a hello: nothing yet");
    server.handle_input(now, &records[0]);
    let Some(Output::Transmit(hvr)) = server.poll_output() else {
        panic!("no HelloVerifyRequest");
    };
    let rec = Record::parse_all(&hvr).next().unwrap().unwrap();
    let f = Fragment::read(&mut Reader::new(rec.fragment)).unwrap();
    assert_eq!(f.msg_type, msg::HELLO_VERIFY_REQUEST);
    let cookie = hs::parse_hello_verify_request(f.body).unwrap().to_vec();
    assert_eq!(server.stats().cookies_sent, 1);

    // Chromium's second hello: the same body with the cookie, message_seq 1.
    let ch = ClientHello::parse(&body).unwrap();
    let mut body2 = body[..2 + 32 + 1 + ch.session_id.len()].to_vec();
    body2.push(cookie.len() as u8);
    body2.extend_from_slice(&cookie);
    body2.extend_from_slice(&body[2 + 32 + 1 + ch.session_id.len() + 1..]);
    assert_eq!(ClientHello::parse(&body2).unwrap().cookie, &cookie[..]);
    for (off, part) in [(0usize, &body2[..1000]), (1000, &body2[1000..])] {
        let mut frag = Vec::new();
        Fragment::write(
            &mut frag,
            msg::CLIENT_HELLO,
            body2.len() as u32,
            1,
            off as u32,
            part,
        );
        let mut d = Vec::new();
        Record::write(
            &mut d,
            ContentType::Handshake,
            [254, 255],
            0,
            2 + off as u64,
            &frag,
        );
        server.handle_input(now, &d);
    }
    let mut flight = Vec::new();
    while let Some(o) = server.poll_output() {
        if let Output::Transmit(d) = o {
            flight.push(d);
        }
    }
    assert!(!flight.is_empty());
    assert!(flight.iter().all(|d| d.len() <= 1200), "fitted to the MTU");
    let first = Record::parse_all(&flight[0]).next().unwrap().unwrap();
    assert_eq!(first.version, DTLS_1_2);
    let f = Fragment::read(&mut Reader::new(first.fragment)).unwrap();
    assert_eq!(f.msg_type, msg::SERVER_HELLO);
    assert_eq!(f.message_seq, 1);
    let sh = ServerHello::parse(f.body).unwrap();
    assert_eq!(sh.version, DTLS_1_2, "DTLS 1.2, not 1.3");
    assert_eq!(sh.cipher_suite, 0xC02B);
    assert!(hs::find_ext(&sh.extensions, ext::SUPPORTED_VERSIONS).is_none());
    assert!(hs::find_ext(&sh.extensions, ext::EXTENDED_MASTER_SECRET).is_some());
    let srtp = hs::parse_use_srtp(hs::find_ext(&sh.extensions, ext::USE_SRTP).unwrap()).unwrap();
    assert_eq!(
        srtp,
        vec![0x0007],
        "SRTP_AEAD_AES_128_GCM, our first choice Chromium offers"
    );
}
