//! Property: every model that respects the invariants of `model.rs` writes to text that
//! parses back to the same model, and that text is a fixed point of parse→write.
//!
//! The generators build whole `SessionDescription<'static>` values: session fields, time
//! descriptions, RTP and non-RTP media sections, and every typed [`Attribute`] variant with
//! valid values, plus verbatim `Attribute::Other`s. The invariants they respect:
//! - tokens use the RFC 8866 §9 token charset; free text excludes NUL, CR and LF and is not
//!   empty where the writer puts it on a line of its own (`s=`, `i=`, ...);
//! - `Address::Name` never holds an IP literal (`Address::from_text` must give a name), and a
//!   `c=` address has no `/`;
//! - `Formats::Rtp` only for protocols containing `RTP/`, with payload types 0-127;
//! - `Other` variants of enums never spell a named variant (`AddressType::Other("IP4")`,
//!   `MediaKind::Other("audio")`, `CandidateTransport::Other("UDP")`, ...), and
//!   `Attribute::Other` never uses the name of a typed attribute;
//! - fmtp/rid parameter keys are non-empty without `=`, `;` or space, values have no `;`,
//!   and a rid restriction is never named `pt` (that is the payload type list);
//! - a `c=` TTL only for non-IP6 address types, and a number of addresses after a TTL;
//! - lists that the grammar needs non-empty are (formats, fmtp parameters, ice-options,
//!   simulcast streams, fingerprint bytes up to 64).

use std::borrow::Cow;
use std::net::IpAddr;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::TestRunner;

use weft_sdp::*;

type S = Str<'static>;

fn owned(s: String) -> S {
    Cow::Owned(s)
}

// --- Text ---------------------------------------------------------------------------------

/// RFC 8866 §9 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E.
const TOKEN: &str = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]{1,12}";

fn token() -> impl Strategy<Value = String> {
    TOKEN
}

fn token_s() -> impl Strategy<Value = S> {
    token().prop_map(owned)
}

/// Like [`token`], but sometimes one of the values browsers write.
fn token_or(common: &'static [&'static str]) -> impl Strategy<Value = S> {
    prop_oneof![
        proptest::sample::select(common).prop_map(|s| Cow::Owned(s.to_owned())),
        token_s(),
    ]
}

/// Free text of a line: any characters but NUL, CR and LF, at least one.
fn text() -> impl Strategy<Value = S> {
    r"[^\r\n\x00]{1,16}".prop_map(owned)
}

/// Free text that may be empty (the part after `:` in `a=ssrc` and unknown attributes).
fn text_or_empty() -> impl Strategy<Value = S> {
    r"[^\r\n\x00]{0,16}".prop_map(owned)
}

/// Non-whitespace text (`<username>`, extmap URIs, candidate extension values).
fn non_ws() -> impl Strategy<Value = S> {
    r"[^ \t\r\n\x00]{1,16}".prop_map(owned)
}

fn ice_chars(max: usize) -> impl Strategy<Value = S> {
    proptest::string::string_regex(&format!("[A-Za-z0-9+/]{{1,{max}}}"))
        .unwrap()
        .prop_map(owned)
}

fn rid_id() -> impl Strategy<Value = S> {
    "[A-Za-z0-9_-]{1,8}".prop_map(owned)
}

// --- Addresses --------------------------------------------------------------------------------

fn is_name(s: &str) -> bool {
    matches!(Address::from_text(s), Address::Name(_))
}

/// A host name, an mDNS name, or text that only looks like an IP literal (`1.2.3`, `beef`).
fn name(allow_slash: bool) -> impl Strategy<Value = Address<'static>> {
    let chars = if allow_slash {
        "[a-zA-Z0-9._:/-]{1,24}"
    } else {
        "[a-zA-Z0-9._:-]{1,24}"
    };
    prop_oneof![
        chars,
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.local",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        "[0-9a-f]{1,4}",
    ]
    .prop_filter("an IP literal is not a name", |s| is_name(s))
    .prop_map(|s| Address::Name(owned(s)))
}

fn address(allow_slash: bool) -> impl Strategy<Value = Address<'static>> {
    prop_oneof![
        2 => any::<IpAddr>().prop_map(Address::Ip),
        1 => name(allow_slash),
    ]
}

fn address_type() -> impl Strategy<Value = AddressType<'static>> {
    prop_oneof![
        Just(AddressType::Ip4),
        Just(AddressType::Ip6),
        token()
            .prop_filter("IP4 and IP6 are named variants", |t| t != "IP4"
                && t != "IP6")
            .prop_map(|t| AddressType::Other(owned(t))),
    ]
}

fn connection() -> impl Strategy<Value = Connection<'static>> {
    (
        token_or(&["IN"]),
        address_type(),
        address(false),
        any::<u8>(),
        any::<u32>(),
        0..3u8,
    )
        .prop_map(|(net_type, address_type, address, ttl, count, shape)| {
            // RFC 8866 §5.7: IP6 multicast has no TTL; IP4 has a TTL before any count.
            let (ttl, count) = match (address_type == AddressType::Ip6, shape) {
                (_, 0) => (None, None),
                (true, _) => (None, Some(count)),
                (false, 1) => (Some(ttl), None),
                (false, _) => (Some(ttl), Some(count)),
            };
            Connection {
                net_type,
                address_type,
                address,
                ttl,
                count,
            }
        })
}

fn bandwidth() -> impl Strategy<Value = Bandwidth<'static>> {
    let kind = prop_oneof![
        Just(BandwidthType::As),
        Just(BandwidthType::Ct),
        Just(BandwidthType::Tias),
        token()
            .prop_filter("named bandwidth types", |t| !matches!(
                t.as_str(),
                "AS" | "CT" | "TIAS"
            ))
            .prop_map(|t| BandwidthType::Other(owned(t))),
    ];
    (kind, any::<u64>()).prop_map(|(kind, value)| Bandwidth { kind, value })
}

fn timing() -> impl Strategy<Value = Timing<'static>> {
    (
        any::<u64>(),
        any::<u64>(),
        vec(text(), 0..3),
        option::of(text()),
    )
        .prop_map(|(start, stop, repeats, zone)| Timing {
            start,
            stop,
            repeats,
            zone,
        })
}

fn origin() -> impl Strategy<Value = Origin<'static>> {
    (
        prop_oneof![Just(Cow::Borrowed("-")), non_ws()],
        any::<u64>(),
        any::<u64>(),
        token_or(&["IN"]),
        address_type(),
        address(true),
    )
        .prop_map(
            |(username, session_id, session_version, net_type, address_type, address)| Origin {
                username,
                session_id,
                session_version,
                net_type,
                address_type,
                address,
            },
        )
}

// --- Attributes -------------------------------------------------------------------------------

/// Names the parser gives a typed meaning; `Attribute::Other` must not use them.
const TYPED_NAMES: [&str; 33] = [
    "group",
    "msid-semantic",
    "msid",
    "mid",
    "rtpmap",
    "fmtp",
    "rtcp-fb",
    "extmap",
    "extmap-allow-mixed",
    "ssrc",
    "ssrc-group",
    "rid",
    "simulcast",
    "candidate",
    "end-of-candidates",
    "ice-ufrag",
    "ice-pwd",
    "ice-options",
    "ice-lite",
    "fingerprint",
    "setup",
    "rtcp",
    "rtcp-mux",
    "rtcp-mux-only",
    "rtcp-rsize",
    "sendrecv",
    "sendonly",
    "recvonly",
    "inactive",
    "sctp-port",
    "max-message-size",
    "sctpmap",
    "sctp-init",
];

fn pt() -> impl Strategy<Value = u8> {
    0..=127u8
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::SendRecv),
        Just(Direction::SendOnly),
        Just(Direction::RecvOnly),
        Just(Direction::Inactive),
    ]
}

fn rid_direction() -> impl Strategy<Value = RidDirection> {
    prop_oneof![Just(RidDirection::Send), Just(RidDirection::Recv)]
}

/// A `;`-separated parameter: `key=value` or a bare value (fmtp, rid restrictions).
fn parameter() -> impl Strategy<Value = FmtpParameter<'static>> {
    let key = prop_oneof![
        token_or(&[
            "apt",
            "minptime",
            "profile-level-id",
            "max-width",
            "max-fps"
        ]),
        // Keys may hold any character but `=`, `;`, space and the line breaks.
        r"[^=; \r\n\x00]{1,8}".prop_map(owned),
        // RED's `111/111`, telephone-event's `0-15`.
        "[0-9]{1,3}[/-][0-9]{1,3}".prop_map(owned),
    ];
    (key, option::of(r"[^;\r\n\x00]{0,10}".prop_map(owned)))
        .prop_map(|(key, value)| FmtpParameter { key, value })
}

fn rid_restriction() -> impl Strategy<Value = FmtpParameter<'static>> {
    parameter().prop_filter("`pt` is the payload type list", |p| p.key != "pt")
}

fn hash_function() -> impl Strategy<Value = HashFunction<'static>> {
    const NAMED: [&str; 7] = [
        "sha-1", "sha-224", "sha-256", "sha-384", "sha-512", "md5", "md2",
    ];
    prop_oneof![
        Just(HashFunction::Sha1),
        Just(HashFunction::Sha224),
        Just(HashFunction::Sha256),
        Just(HashFunction::Sha384),
        Just(HashFunction::Sha512),
        Just(HashFunction::Md5),
        Just(HashFunction::Md2),
        token()
            .prop_filter("named hash functions", |t| {
                !NAMED.iter().any(|n| n.eq_ignore_ascii_case(t))
            })
            .prop_map(|t| HashFunction::Other(owned(t))),
    ]
}

fn candidate() -> impl Strategy<Value = Candidate<'static>> {
    let transport = prop_oneof![
        Just(CandidateTransport::Udp),
        Just(CandidateTransport::Tcp),
        token()
            .prop_filter("udp and tcp are named, in any case", |t| {
                !t.eq_ignore_ascii_case("udp") && !t.eq_ignore_ascii_case("tcp")
            })
            .prop_map(|t| CandidateTransport::Other(owned(t))),
    ];
    let kind = prop_oneof![
        Just(CandidateType::Host),
        Just(CandidateType::ServerReflexive),
        Just(CandidateType::PeerReflexive),
        Just(CandidateType::Relay),
        token()
            .prop_filter("named candidate types", |t| {
                !matches!(t.as_str(), "host" | "srflx" | "prflx" | "relay")
            })
            .prop_map(|t| CandidateType::Other(owned(t))),
    ];
    let tcp_type = prop_oneof![
        Just(TcpType::Active),
        Just(TcpType::Passive),
        Just(TcpType::SimultaneousOpen),
    ];
    let extension = (
        token_or(&["generation", "network-id", "network-cost", "ufrag"])
            .prop_filter("raddr, rport and tcptype are typed", |n| {
                !matches!(n.as_ref(), "raddr" | "rport" | "tcptype")
            }),
        non_ws(),
    );
    (
        (ice_chars(32), 1u16..=256, transport, any::<u32>()),
        (address(true), any::<u16>(), kind),
        (
            option::of(address(true)),
            option::of(any::<u16>()),
            option::of(tcp_type),
            vec(extension, 0..4),
        ),
    )
        .prop_map(
            |(
                (foundation, component, transport, priority),
                (address, port, kind),
                (related_address, related_port, tcp_type, extensions),
            )| Candidate {
                foundation,
                component,
                transport,
                priority,
                address,
                port,
                kind,
                related_address,
                related_port,
                tcp_type,
                extensions: extensions.into(),
            },
        )
}

fn simulcast() -> impl Strategy<Value = Simulcast<'static>> {
    fn streams() -> impl Strategy<Value = Vec<Vec<SimulcastRid<'static>>>> {
        let alternative =
            (rid_id(), any::<bool>()).prop_map(|(rid, paused)| SimulcastRid { rid, paused });
        vec(vec(alternative, 1..3), 1..4)
    }
    (rid_direction(), streams(), option::of(streams())).prop_map(|(first, a, b)| {
        let mut lists = vec![SimulcastList {
            direction: first,
            streams: a,
        }];
        if let Some(streams) = b {
            // RFC 8853 §5.1: at most one list per direction.
            let direction = match first {
                RidDirection::Send => RidDirection::Recv,
                RidDirection::Recv => RidDirection::Send,
            };
            lists.push(SimulcastList { direction, streams });
        }
        Simulcast { lists }
    })
}

/// Every typed attribute variant with valid values, and verbatim ones.
///
/// The `.into()`s wrap a value in what its variant holds, the value itself or a `Box` of it,
/// so the generator does not depend on which variants are boxed.
#[allow(clippy::useless_conversion)]
fn attribute() -> impl Strategy<Value = Attribute<'static>> {
    let arms: Vec<BoxedStrategy<Attribute<'static>>> = vec![
        (token_or(&["BUNDLE", "LS"]), vec(token_s(), 0..4))
            .prop_map(|(semantics, mids)| Attribute::Group(Group { semantics, mids }))
            .boxed(),
        (token_or(&["WMS"]), vec(token_s(), 0..3))
            .prop_map(|(semantic, identifiers)| {
                Attribute::MsidSemantic(MsidSemantic {
                    semantic,
                    identifiers,
                })
            })
            .boxed(),
        (token_or(&["-"]), option::of(token_s()))
            .prop_map(|(stream, track)| Attribute::Msid(Msid { stream, track }))
            .boxed(),
        token_s().prop_map(Attribute::Mid).boxed(),
        (
            pt(),
            token_or(&["opus", "VP8", "H264", "rtx", "telephone-event"]),
            any::<u32>(),
            option::of(any::<u16>()),
        )
            .prop_map(|(payload_type, encoding, clock_rate, channels)| {
                Attribute::Rtpmap(Rtpmap {
                    payload_type,
                    encoding,
                    clock_rate,
                    channels,
                })
            })
            .boxed(),
        (pt(), vec(parameter(), 1..4))
            .prop_map(|(payload_type, parameters)| {
                Attribute::Fmtp(Fmtp {
                    payload_type,
                    parameters: parameters.into(),
                })
            })
            .boxed(),
        (
            option::of(pt()),
            token_or(&["nack", "ccm", "goog-remb", "transport-cc"]),
            option::of(text()),
        )
            .prop_map(|(payload_type, kind, parameter)| {
                Attribute::RtcpFb(RtcpFb {
                    payload_type,
                    kind,
                    parameter,
                })
            })
            .boxed(),
        (
            any::<u16>(),
            option::of(direction()),
            non_ws(),
            option::of(text()),
        )
            .prop_map(|(id, direction, uri, attributes)| {
                Attribute::Extmap(Extmap {
                    id,
                    direction,
                    uri,
                    attributes,
                })
            })
            .boxed(),
        Just(Attribute::ExtmapAllowMixed).boxed(),
        (
            any::<u32>(),
            token_or(&["cname", "msid"]),
            option::of(text_or_empty()),
        )
            .prop_map(|(ssrc, attribute, value)| {
                Attribute::Ssrc(SsrcAttribute {
                    ssrc,
                    attribute,
                    value,
                })
            })
            .boxed(),
        (token_or(&["FID", "SIM"]), vec(any::<u32>(), 0..4))
            .prop_map(|(semantics, ssrcs)| Attribute::SsrcGroup(SsrcGroup { semantics, ssrcs }))
            .boxed(),
        (
            rid_id(),
            rid_direction(),
            vec(pt(), 0..3),
            vec(rid_restriction(), 0..3),
        )
            .prop_map(|(id, direction, payload_types, restrictions)| {
                Attribute::Rid(
                    Rid {
                        id,
                        direction,
                        payload_types,
                        restrictions: restrictions.into(),
                    }
                    .into(),
                )
            })
            .boxed(),
        simulcast().prop_map(Attribute::Simulcast).boxed(),
        candidate()
            .prop_map(|c| Attribute::Candidate(c.into()))
            .boxed(),
        Just(Attribute::EndOfCandidates).boxed(),
        ice_chars(256).prop_map(Attribute::IceUfrag).boxed(),
        ice_chars(256).prop_map(Attribute::IcePwd).boxed(),
        vec(token_or(&["trickle", "ice2", "renomination"]), 1..4)
            .prop_map(Attribute::IceOptions)
            .boxed(),
        Just(Attribute::IceLite).boxed(),
        (hash_function(), vec(any::<u8>(), 1..=64))
            .prop_map(|(hash, bytes)| Attribute::Fingerprint(Fingerprint { hash, bytes }))
            .boxed(),
        prop_oneof![
            Just(Setup::Active),
            Just(Setup::Passive),
            Just(Setup::ActPass),
            Just(Setup::HoldConn),
        ]
        .prop_map(Attribute::Setup)
        .boxed(),
        (any::<u16>(), option::of(connection()))
            .prop_map(|(port, connection)| Attribute::Rtcp(Rtcp { port, connection }.into()))
            .boxed(),
        Just(Attribute::RtcpMux).boxed(),
        Just(Attribute::RtcpMuxOnly).boxed(),
        Just(Attribute::RtcpRsize).boxed(),
        direction().prop_map(Attribute::Direction).boxed(),
        any::<u16>().prop_map(Attribute::SctpPort).boxed(),
        any::<u64>().prop_map(Attribute::MaxMessageSize).boxed(),
        (
            any::<u16>(),
            token_or(&["webrtc-datachannel"]),
            option::of(any::<u32>()),
        )
            .prop_map(|(port, protocol, streams)| {
                Attribute::Sctpmap(Sctpmap {
                    port,
                    protocol,
                    streams,
                })
            })
            .boxed(),
        "[A-Za-z0-9+/=]{1,40}"
            .prop_map(|s| Attribute::SctpInit(owned(s)))
            .boxed(),
        (
            token_or(&["rtcp-xr", "bundle-only", "tls-id", "maxptime", "ptime"])
                .prop_filter("typed attribute names", |n| {
                    !TYPED_NAMES.contains(&n.as_ref())
                }),
            option::of(text_or_empty()),
        )
            .prop_map(|(name, value)| Attribute::Other { name, value })
            .boxed(),
    ];
    Union::new(arms)
}

// --- Media and session ------------------------------------------------------------------------

fn media_kind() -> impl Strategy<Value = MediaKind<'static>> {
    prop_oneof![
        Just(MediaKind::Audio),
        Just(MediaKind::Video),
        Just(MediaKind::Application),
        Just(MediaKind::Text),
        Just(MediaKind::Message),
        token()
            .prop_filter("named media kinds", |t| {
                !matches!(
                    t.as_str(),
                    "audio" | "video" | "application" | "text" | "message"
                )
            })
            .prop_map(|t| MediaKind::Other(owned(t))),
    ]
}

/// A transport protocol with the formats it takes.
fn protocol_and_formats() -> impl Strategy<Value = (S, Formats<'static>)> {
    let protocol = prop_oneof![
        proptest::sample::select(
            &[
                "UDP/TLS/RTP/SAVPF",
                "RTP/AVP",
                "RTP/SAVPF",
                "TCP/DTLS/RTP/SAVPF",
                "UDP/DTLS/SCTP",
                "TCP/DTLS/SCTP",
                "DTLS/SCTP",
                "udp",
                "TCP/MSRP",
            ][..]
        )
        .prop_map(str::to_owned),
        // proto = token *("/" token)
        r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]{1,6}(/[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]{1,6}){0,3}",
    ];
    protocol.prop_flat_map(|p| {
        let formats = if p.contains("RTP/") {
            vec(pt(), 1..6).prop_map(Formats::Rtp).boxed()
        } else {
            vec(token_or(&["webrtc-datachannel", "*"]), 1..4)
                .prop_map(Formats::Other)
                .boxed()
        };
        (Just(owned(p)), formats)
    })
}

fn media() -> impl Strategy<Value = MediaDescription<'static>> {
    (
        (media_kind(), any::<u16>(), option::of(any::<u16>())),
        protocol_and_formats(),
        (
            option::of(text()),
            vec(connection(), 0..3),
            vec(bandwidth(), 0..3),
            option::of(text()),
        ),
        vec(attribute(), 0..12),
    )
        .prop_map(
            |(
                (kind, port, port_count),
                (protocol, formats),
                (information, connections, bandwidths, key),
                attributes,
            )| MediaDescription {
                kind,
                port,
                port_count,
                protocol,
                formats,
                information,
                connections,
                bandwidths,
                key,
                attributes,
            },
        )
}

fn session_description() -> impl Strategy<Value = SessionDescription<'static>> {
    (
        (origin(), text(), option::of(text()), option::of(text())),
        (
            vec(text(), 0..3),
            vec(text(), 0..3),
            option::of(connection()),
        ),
        (
            vec(bandwidth(), 0..3),
            vec(timing(), 1..4),
            option::of(text()),
        ),
        (vec(attribute(), 0..8), vec(media(), 0..5)),
    )
        .prop_map(
            |(
                (origin, session_name, information, uri),
                (emails, phones, connection),
                (bandwidths, times, key),
                (attributes, media),
            )| SessionDescription {
                origin,
                session_name,
                information,
                uri,
                emails,
                phones,
                connection,
                bandwidths,
                times,
                key,
                attributes,
                media,
            },
        )
}

// --- Properties -------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn written_descriptions_parse_back(sd in session_description()) {
        let text = sd.to_sdp_string();
        let parsed = weft_sdp::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&parsed, &sd, "{}", text);
        // Writing what was parsed is a fixed point.
        prop_assert_eq!(&parsed.to_sdp_string(), &text);
        prop_assert_eq!(parsed.into_owned(), sd);
    }

    #[test]
    fn attribute_lines_parse_back(a in attribute()) {
        let line = a.to_string();
        prop_assert!(line.starts_with("a="), "{}", line);
        let parsed = weft_sdp::parse_attribute(&line)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{line}")))?;
        prop_assert_eq!(&parsed, &a, "{}", line);
        prop_assert_eq!(parsed.to_string(), line);
    }

    #[test]
    fn candidates_parse_back_from_the_trickle_form(c in candidate()) {
        let line = c.to_string();
        prop_assert!(line.starts_with("candidate:"), "{}", line);
        let parsed = weft_sdp::parse_candidate(&line)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{line}")))?;
        prop_assert_eq!(&parsed, &c, "{}", line);
        let with_prefix = format!("a={line}");
        prop_assert_eq!(weft_sdp::parse_candidate(&with_prefix).ok(), Some(c));
    }
}

fn variant(a: &Attribute<'_>) -> &'static str {
    match a {
        Attribute::Group(_) => "group",
        Attribute::MsidSemantic(_) => "msid-semantic",
        Attribute::Msid(_) => "msid",
        Attribute::Mid(_) => "mid",
        Attribute::Rtpmap(_) => "rtpmap",
        Attribute::Fmtp(_) => "fmtp",
        Attribute::RtcpFb(_) => "rtcp-fb",
        Attribute::Extmap(_) => "extmap",
        Attribute::ExtmapAllowMixed => "extmap-allow-mixed",
        Attribute::Ssrc(_) => "ssrc",
        Attribute::SsrcGroup(_) => "ssrc-group",
        Attribute::Rid(_) => "rid",
        Attribute::Simulcast(_) => "simulcast",
        Attribute::Candidate(_) => "candidate",
        Attribute::EndOfCandidates => "end-of-candidates",
        Attribute::IceUfrag(_) => "ice-ufrag",
        Attribute::IcePwd(_) => "ice-pwd",
        Attribute::IceOptions(_) => "ice-options",
        Attribute::IceLite => "ice-lite",
        Attribute::Fingerprint(_) => "fingerprint",
        Attribute::Setup(_) => "setup",
        Attribute::Rtcp(_) => "rtcp",
        Attribute::RtcpMux => "rtcp-mux",
        Attribute::RtcpMuxOnly => "rtcp-mux-only",
        Attribute::RtcpRsize => "rtcp-rsize",
        Attribute::Direction(_) => "direction",
        Attribute::SctpPort(_) => "sctp-port",
        Attribute::MaxMessageSize(_) => "max-message-size",
        Attribute::Sctpmap(_) => "sctpmap",
        Attribute::SctpInit(_) => "sctp-init",
        Attribute::Other { .. } => "other",
        _ => "a variant this test does not know",
    }
}

/// The attribute generator reaches every typed variant (and `Other`), so the round trip
/// above covers each of them.
#[test]
fn the_attribute_generator_covers_every_variant() {
    let mut runner = TestRunner::deterministic();
    let strategy = attribute();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..3000 {
        let a = strategy.new_tree(&mut runner).unwrap().current();
        seen.insert(variant(&a));
    }
    // The 29 variants with a line name of their own, `direction` and `other`.
    let mut all: Vec<&str> = TYPED_NAMES
        .iter()
        .copied()
        .filter(|n| !matches!(*n, "sendrecv" | "sendonly" | "recvonly" | "inactive"))
        .collect();
    all.extend(["direction", "other"]);
    let missing: Vec<_> = all.iter().filter(|n| !seen.contains(*n)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    assert_eq!(seen.len(), all.len(), "{seen:?}");
}

/// The media generator writes both kinds of format lists.
#[test]
fn the_media_generator_covers_rtp_and_other_formats() {
    let mut runner = TestRunner::deterministic();
    let strategy = media();
    let (mut rtp, mut other) = (0, 0);
    for _ in 0..200 {
        let m = strategy.new_tree(&mut runner).unwrap().current();
        match &m.formats {
            Formats::Rtp(pts) => {
                assert!(m.protocol.contains("RTP/"));
                assert!(!pts.is_empty() && pts.iter().all(|&p| p <= 127));
                rtp += 1;
            }
            Formats::Other(f) => {
                assert!(!m.protocol.contains("RTP/"));
                assert!(!f.is_empty());
                other += 1;
            }
        }
    }
    assert!(rtp > 20 && other > 20, "rtp {rtp}, other {other}");
}
