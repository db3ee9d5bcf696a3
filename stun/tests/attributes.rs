//! Every attribute type encodes, decodes back to the same value, and prints.

use std::net::SocketAddr;

use weft_stun::attr::*;
use weft_stun::{Message, MessageBuilder, MessageType, TransactionId};

#[test]
fn every_attribute_round_trips() {
    let v4: SocketAddr = "192.0.2.1:32853".parse().unwrap();
    let v6: SocketAddr = "[2001:db8::1]:3478".parse().unwrap();
    let hash = [0xab; 32];
    let mi = [0x11; 20];
    let mi256 = [0x22; 24];
    let token = [1, 2, 3, 4, 5, 6, 7, 8];
    let algs = [0u8, 2, 0, 0, 0, 1, 0, 0];
    let all = [
        Attribute::MappedAddress(MappedAddress(v4)),
        Attribute::XorMappedAddress(XorMappedAddress(v6)),
        Attribute::XorMappedAddress(XorMappedAddress(v4)),
        Attribute::Username(Username("user:name")),
        Attribute::UserHash(UserHash(&hash)),
        Attribute::ErrorCode(ErrorCode {
            code: 438,
            reason: "Stale Nonce",
        }),
        Attribute::UnknownAttributes(UnknownAttributes(&[0x77, 0x77, 0x00, 0x31])),
        Attribute::Realm(Realm("example.org")),
        Attribute::Nonce(Nonce("obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA")),
        Attribute::PasswordAlgorithm(PasswordAlgorithm {
            algorithm: PasswordAlgorithmId::SHA256,
            params: &[],
        }),
        Attribute::PasswordAlgorithms(PasswordAlgorithms(&algs)),
        Attribute::Software(Software("weft")),
        Attribute::AlternateServer(AlternateServer(v6)),
        Attribute::AlternateDomain(AlternateDomain("turn.example.org")),
        Attribute::Priority(Priority(0x6e00_01ff)),
        Attribute::UseCandidate(UseCandidate),
        Attribute::IceControlled(IceControlled(u64::MAX)),
        Attribute::IceControlling(IceControlling(1)),
        Attribute::ChannelNumber(ChannelNumber(0x4000)),
        Attribute::Lifetime(Lifetime(600)),
        Attribute::XorPeerAddress(XorPeerAddress(v4)),
        Attribute::Data(Data(b"payload")),
        Attribute::XorRelayedAddress(XorRelayedAddress(v6)),
        Attribute::RequestedAddressFamily(RequestedAddressFamily(AddressFamily::Ipv6)),
        Attribute::EvenPort(EvenPort { reserve: true }),
        Attribute::RequestedTransport(RequestedTransport::UDP),
        Attribute::DontFragment(DontFragment),
        Attribute::ReservationToken(ReservationToken(&token)),
        Attribute::Other {
            typ: 0xC057,
            value: &[0, 2, 0, 0],
        },
        Attribute::MessageIntegrity(MessageIntegrity(&mi)),
        Attribute::MessageIntegritySha256(MessageIntegritySha256(&mi256)),
        Attribute::Fingerprint(Fingerprint(0x1234_5678)),
    ];
    let mut buf = [0u8; 1024];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_SUCCESS,
        TransactionId([0x5a; 12]),
    )
    .unwrap();
    for a in &all {
        b.add_attribute(a).unwrap();
    }
    let bytes = b.finish().to_vec();
    let msg = Message::parse(&bytes).unwrap();
    let back: Vec<Attribute<'_>> = msg.decoded().map(Result::unwrap).collect();
    assert_eq!(back, all);
    // Every one prints with its RFC name.
    for a in &back {
        let s = a.to_string();
        assert!(s.contains(": "), "{s}");
    }
    assert_eq!(
        back[1].to_string(),
        "XOR-MAPPED-ADDRESS: [2001:db8::1]:3478"
    );
    assert_eq!(back[5].to_string(), "ERROR-CODE: 438 \"Stale Nonce\"");
    assert_eq!(
        PasswordAlgorithms(&algs)
            .iter()
            .map(|a| a.algorithm)
            .collect::<Vec<_>>(),
        [PasswordAlgorithmId::SHA256, PasswordAlgorithmId::MD5]
    );
    // Typed accessors on the same message.
    assert_eq!(msg.get::<Lifetime>().unwrap(), Some(Lifetime(600)));
    assert_eq!(
        msg.get::<XorRelayedAddress>().unwrap(),
        Some(XorRelayedAddress(v6))
    );
    assert_eq!(
        msg.get::<ChannelNumber>().unwrap(),
        Some(ChannelNumber(0x4000))
    );
}

#[test]
fn message_types_interleave_method_and_class_bits() {
    use weft_stun::{Class, Method};
    // RFC 8489 §5 / §6: Binding request 0x0001, success 0x0101, error 0x0111, indication
    // 0x0011; RFC 8656: Allocate request 0x0003, ChannelBind success 0x0109.
    for (v, m, c) in [
        (0x0001, Method::BINDING, Class::Request),
        (0x0101, Method::BINDING, Class::SuccessResponse),
        (0x0111, Method::BINDING, Class::ErrorResponse),
        (0x0011, Method::BINDING, Class::Indication),
        (0x0003, Method::ALLOCATE, Class::Request),
        (0x0113, Method::ALLOCATE, Class::ErrorResponse),
        (0x0109, Method::CHANNEL_BIND, Class::SuccessResponse),
        (0x0016, Method::SEND, Class::Indication),
        (0x0017, Method::DATA, Class::Indication),
    ] {
        let t = MessageType::from_u16(v);
        assert_eq!((t.method, t.class), (m, c), "{v:#06x}");
        assert_eq!(t.to_u16(), v);
    }
    for v in 0..0x4000u16 {
        assert_eq!(MessageType::from_u16(v).to_u16(), v);
    }
}
