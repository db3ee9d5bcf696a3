//! Every STUN message of a real call between two Chromium 156 peer connections
//! (`../shared/fixtures/wire/chromium_call_datagrams.txt`) decodes, carries a valid
//! FINGERPRINT, and verifies under the right ICE password from the call's two SDPs.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use weft_stun::attr::{self, IceControlled, IceControlling, Priority, Username, XorMappedAddress};
use weft_stun::demux::{classify, PacketKind};
use weft_stun::{Class, Message, MessageBuilder, Method};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../shared/fixtures/wire/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// The `a=ice-ufrag` and `a=ice-pwd` of an SDP (one BUNDLE transport: all sections agree).
fn credentials(sdp: &str) -> (String, String) {
    let value = |key: &str| {
        sdp.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap()
            .trim()
            .to_owned()
    };
    (value("a=ice-ufrag:"), value("a=ice-pwd:"))
}

struct Datagram {
    src: SocketAddr,
    dst: SocketAddr,
    bytes: Vec<u8>,
}

fn datagrams() -> Vec<Datagram> {
    fixture("chromium_call_datagrams.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let addr = |ip: &str, port: &str| {
                SocketAddr::new(ip.parse::<IpAddr>().unwrap(), port.parse().unwrap())
            };
            Datagram {
                src: addr(f[1], f[2]),
                dst: addr(f[3], f[4]),
                bytes: hex(f[5]),
            }
        })
        .collect()
}

#[test]
fn every_chromium_stun_message_decodes_and_verifies() {
    let (offer_ufrag, offer_pwd) = credentials(&fixture("chromium_call_offer.sdp"));
    let (answer_ufrag, answer_pwd) = credentials(&fixture("chromium_call_answer.sdp"));
    assert_eq!(
        (offer_ufrag.as_str(), answer_ufrag.as_str()),
        ("1iql", "lcJE")
    );
    let password_of = |ufrag: &str| {
        if ufrag == offer_ufrag {
            offer_pwd.clone()
        } else if ufrag == answer_ufrag {
            answer_pwd.clone()
        } else {
            panic!("unknown ufrag {ufrag}")
        }
    };

    // Which agent (by its ufrag) owns each transport address, learnt from requests: the
    // receiver of a request is the first half of its USERNAME (RFC 8445 §7.2.2).
    let mut owner: HashMap<SocketAddr, String> = HashMap::new();
    let mut requests: HashMap<weft_stun::TransactionId, SocketAddr> = HashMap::new();
    let (mut n_requests, mut n_responses) = (0, 0);

    for d in datagrams() {
        if classify(&d.bytes) != PacketKind::Stun {
            assert!(Message::parse(&d.bytes).is_err() || !weft_stun::is_stun(&d.bytes));
            continue;
        }
        let msg = Message::parse(&d.bytes).unwrap();
        assert_eq!(msg.method(), Method::BINDING);
        msg.verify_fingerprint().unwrap();
        assert_eq!(msg.unknown_comprehension_required().count(), 0);
        match msg.class() {
            Class::Request => {
                n_requests += 1;
                let Username(username) = msg.get::<Username>().unwrap().unwrap();
                let (receiver, sender) = username.split_once(':').unwrap();
                owner.insert(d.dst, receiver.to_owned());
                owner.insert(d.src, sender.to_owned());
                // Requests are verified with the receiver's password.
                let pwd = password_of(receiver);
                msg.verify_message_integrity(pwd.as_bytes()).unwrap();
                assert!(msg
                    .verify_message_integrity(password_of(sender).as_bytes())
                    .is_err());
                assert!(msg.get::<Priority>().unwrap().is_some());
                let controlling = msg.get::<IceControlling>().unwrap().is_some();
                let controlled = msg.get::<IceControlled>().unwrap().is_some();
                assert!(controlling ^ controlled, "exactly one ICE role attribute");
                requests.insert(msg.transaction_id(), d.src);

                // Rebuilt with the builder from its attributes and the password: the same
                // bytes (Chromium pads with zeros).
                let mut buf = [0u8; 256];
                let mut b = MessageBuilder::new(&mut buf, msg.message_type(), msg.transaction_id())
                    .unwrap();
                for a in msg.attributes() {
                    match a.typ {
                        attr::MESSAGE_INTEGRITY => b.add_message_integrity(pwd.as_bytes()).unwrap(),
                        attr::FINGERPRINT => b.add_fingerprint().unwrap(),
                        t => b.add_raw(t, a.value).unwrap(),
                    }
                }
                assert_eq!(b.finish(), d.bytes.as_slice());
            }
            Class::SuccessResponse => {
                n_responses += 1;
                // Responses are verified with the responder's password: the same one as the
                // request's (the responder was the request's receiver).
                let responder = owner
                    .get(&d.src)
                    .expect("a request reached this port first");
                msg.verify_message_integrity(password_of(responder).as_bytes())
                    .unwrap();
                // XOR-MAPPED-ADDRESS is where the request came from.
                let requester = requests[&msg.transaction_id()];
                assert_eq!(requester, d.dst);
                assert_eq!(
                    msg.get::<XorMappedAddress>().unwrap(),
                    Some(XorMappedAddress(requester))
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((n_requests, n_responses), (10, 10));
}

#[test]
fn the_call_demultiplexes_by_first_byte() {
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for d in datagrams() {
        let kind = match classify(&d.bytes) {
            PacketKind::Stun => "stun",
            PacketKind::Dtls => "dtls",
            PacketKind::Rtp => "rtp",
            PacketKind::TurnChannelData => "turn",
            PacketKind::Zrtp => "zrtp",
            PacketKind::Unknown => "unknown",
        };
        *counts.entry(kind).or_default() += 1;
    }
    assert_eq!(counts.get("stun"), Some(&20));
    assert!(counts.get("dtls").copied().unwrap_or(0) > 10);
    assert!(counts.get("rtp").copied().unwrap_or(0) > 200);
    assert_eq!(counts.get("unknown"), None);
}
