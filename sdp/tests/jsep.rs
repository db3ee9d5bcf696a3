//! The JSEP-oriented API (`jsep.rs`) over real Chromium descriptions from
//! `../shared/fixtures/sdp`, and over descriptions built in code.

use std::net::IpAddr;
use std::path::Path;

use weft_sdp::*;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/sdp")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(text: &str) -> SessionDescription<'_> {
    weft_sdp::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn ip(s: &str) -> Address<'static> {
    Address::Ip(s.parse::<IpAddr>().unwrap())
}

/// The Chromium offer's certificate digest.
const AV_OFFER_FINGERPRINT: [u8; 32] = [
    0xF4, 0xBD, 0x84, 0x73, 0x76, 0xF8, 0x35, 0xCA, 0x8F, 0xA9, 0xB2, 0x09, 0x64, 0xB1, 0xC1, 0xD7,
    0xFC, 0x27, 0x52, 0xB9, 0xBF, 0xD0, 0xAD, 0x68, 0x12, 0xB9, 0x9C, 0x76, 0x10, 0xA1, 0x1F, 0x16,
];

#[test]
fn media_by_mid_finds_each_section() {
    let text = fixture("chromium_av_datachannel_offer.sdp");
    let mut sd = parse(&text);
    let kinds: Vec<_> = ["0", "1", "2"]
        .iter()
        .map(|mid| sd.media_by_mid(mid).map(|m| (m.kind.clone(), m.port)))
        .collect();
    assert_eq!(
        kinds,
        [
            Some((MediaKind::Audio, 46355)),
            Some((MediaKind::Video, 45192)),
            Some((MediaKind::Application, 50408)),
        ]
    );
    assert!(sd.media_by_mid("3").is_none());
    assert!(sd.media_by_mid("").is_none());

    sd.media_by_mid_mut("1").unwrap().port = 0;
    let written = sd.to_sdp_string();
    assert!(written.contains("\r\nm=video 0 UDP/TLS/RTP/SAVPF 96 97 "));
    assert!(sd.media_by_mid("1").unwrap().is_rejected());
    assert!(!sd.media_by_mid("0").unwrap().is_rejected());
}

#[test]
fn bundle_groups_and_session_attributes() {
    let text = fixture("chromium_av_datachannel_offer.sdp");
    let sd = parse(&text);
    let groups: Vec<Vec<&str>> = sd
        .bundle_groups()
        .map(|g| g.mids.iter().map(|m| m.as_ref()).collect())
        .collect();
    assert_eq!(groups, [["0", "1", "2"]]);
    assert!(sd.attributes.contains(&Attribute::ExtmapAllowMixed));
    assert!(!sd.is_ice_lite());
    // Every mid in the group names a section.
    for mid in &sd.bundle_groups().next().unwrap().mids {
        assert!(sd.media_by_mid(mid).is_some(), "{mid}");
    }

    let text = fixture("chromium_datachannel_answer.sdp");
    let sd = parse(&text);
    let groups: Vec<Vec<&str>> = sd
        .bundle_groups()
        .map(|g| g.mids.iter().map(|m| m.as_ref()).collect())
        .collect();
    assert_eq!(groups, [["0"]]);
}

#[test]
fn audio_codecs_with_names_clock_rates_and_fmtp() {
    let text = fixture("chromium_av_datachannel_offer.sdp");
    let sd = parse(&text);
    let audio = sd.media_by_mid("0").unwrap();
    let codecs: Vec<_> = audio
        .codecs()
        .map(|c| (c.payload_type, c.name(), c.clock_rate(), c.channels()))
        .collect();
    assert_eq!(
        codecs,
        [
            (111, Some("opus"), Some(48000), Some(2)),
            (63, Some("red"), Some(48000), Some(2)),
            (9, Some("G722"), Some(8000), None),
            (0, Some("PCMU"), Some(8000), None),
            (8, Some("PCMA"), Some(8000), None),
            (13, Some("CN"), Some(8000), None),
            (110, Some("telephone-event"), Some(48000), None),
            (126, Some("telephone-event"), Some(8000), None),
        ]
    );
    let opus = audio.codec(111).unwrap();
    let fmtp = opus.fmtp().unwrap();
    assert_eq!(fmtp.minptime(), Some(10));
    assert_eq!(fmtp.useinbandfec(), Some(true));
    assert_eq!(fmtp.stereo(), None);
    assert_eq!(
        fmtp.get("MINPTIME"),
        Some("10"),
        "keys match case-insensitively"
    );
    let fb: Vec<_> = opus.feedback().map(|f| f.kind.as_ref()).collect();
    assert_eq!(fb, ["transport-cc"]);
    // RED names its redundant payloads as a bare value.
    let red = audio.codec(63).unwrap().fmtp().unwrap();
    assert_eq!(red.bare_values().collect::<Vec<_>>(), ["111/111"]);
    assert_eq!(red.get("111/111"), None);
    assert!(audio.codec(9).unwrap().fmtp().is_none());
    assert!(audio.codec(96).is_none(), "96 is not on the audio m= line");
    assert_eq!(
        audio.extmap_id("urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
        Some(1)
    );
    assert_eq!(
        audio.extmap_id("urn:ietf:params:rtp-hdrext:sdes:mid"),
        Some(4)
    );
}

#[test]
fn video_codecs_h264_parameters_and_rtx() {
    let text = fixture("chromium_av_datachannel_offer.sdp");
    let sd = parse(&text);
    let video = sd.media_by_mid("1").unwrap();
    let pts: Vec<u8> = video.codecs().map(|c| c.payload_type).collect();
    assert_eq!(
        pts,
        [
            96, 97, 102, 103, 104, 107, 108, 109, 114, 115, 116, 117, 39, 40, 45, 46, 98, 99, 100,
            101, 118, 119, 120
        ]
    );
    assert!(video.codecs().all(|c| c.clock_rate() == Some(90000)));

    // H.264: profile-level-id and packetization-mode of every variant (RFC 6184 §8.1).
    let h264: Vec<_> = video
        .codecs()
        .filter(|c| c.name() == Some("H264"))
        .map(|c| {
            let f = c.fmtp().unwrap();
            (
                c.payload_type,
                f.profile_level_id(),
                f.packetization_mode(),
                f.level_asymmetry_allowed(),
            )
        })
        .collect();
    assert_eq!(
        h264,
        [
            (102, Some(0x42001f), Some(1), Some(true)),
            (104, Some(0x42001f), Some(0), Some(true)),
            (108, Some(0x42e01f), Some(1), Some(true)),
            (114, Some(0x42e01f), Some(0), Some(true)),
            (116, Some(0x4d001f), Some(1), Some(true)),
            (39, Some(0x4d001f), Some(0), Some(true)),
        ]
    );

    // Each rtx points at the codec listed before it (RFC 4588 §8.1).
    let rtx: Vec<_> = video
        .codecs()
        .filter(|c| c.name() == Some("rtx"))
        .map(|c| (c.payload_type, c.apt()))
        .collect();
    assert_eq!(
        rtx,
        [
            (97, Some(96)),
            (103, Some(102)),
            (107, Some(104)),
            (109, Some(108)),
            (115, Some(114)),
            (117, Some(116)),
            (40, Some(39)),
            (46, Some(45)),
            (99, Some(98)),
            (101, Some(100)),
            (119, Some(118)),
        ]
    );
    for (pt, apt) in &rtx {
        assert!(video.codec(apt.unwrap()).is_some(), "apt of {pt}");
        assert_eq!(video.codec(*pt).unwrap().feedback().count(), 0, "{pt}");
    }
    assert_eq!(video.codec(96).unwrap().apt(), None);

    assert_eq!(
        video.codec(98).unwrap().fmtp().unwrap().profile_id(),
        Some(0)
    );
    assert_eq!(
        video.codec(100).unwrap().fmtp().unwrap().profile_id(),
        Some(2)
    );
    let av1 = video.codec(45).unwrap();
    assert_eq!(av1.name(), Some("AV1"));
    assert_eq!(av1.fmtp().unwrap().profile(), Some(0));
    assert_eq!(av1.fmtp().unwrap().get("level-idx"), Some("5"));
    assert_eq!(video.codec(120).unwrap().name(), Some("ulpfec"));
    assert!(video.codec(120).unwrap().fmtp().is_none());

    let fb: Vec<_> = video
        .codec(96)
        .unwrap()
        .feedback()
        .map(|f| (f.payload_type, f.kind.as_ref(), f.parameter.as_deref()))
        .collect();
    assert_eq!(
        fb,
        [
            (Some(96), "goog-remb", None),
            (Some(96), "transport-cc", None),
            (Some(96), "ccm", Some("fir")),
            (Some(96), "nack", None),
            (Some(96), "nack", Some("pli")),
        ]
    );

    let groups: Vec<_> = video
        .ssrc_groups()
        .map(|g| (g.semantics.as_ref(), g.ssrcs.clone()))
        .collect();
    assert_eq!(groups, [("FID", vec![3845382166, 2950009048])]);
    let cnames: Vec<_> = video
        .ssrc_attributes()
        .filter(|s| s.attribute == "cname")
        .map(|s| (s.ssrc, s.value.as_deref()))
        .collect();
    assert_eq!(
        cnames,
        [
            (3845382166, Some("qa1mrHfOs/Y6wjNk")),
            (2950009048, Some("qa1mrHfOs/Y6wjNk"))
        ]
    );
    let msid = video.msid().unwrap();
    assert_eq!(msid.stream, "0a676c22-ad13-4e78-8fd8-463825563aa4");
    assert_eq!(
        msid.track.as_deref(),
        Some("78157ce1-2c57-4f43-88f6-ebf830aeb7b3")
    );
}

#[test]
fn wildcard_feedback_applies_to_every_codec() {
    let text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
                m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n\
                a=rtpmap:96 VP8/90000\r\na=rtpmap:97 VP9/90000\r\n\
                a=rtcp-fb:* nack\r\na=rtcp-fb:97 ccm fir\r\n";
    let sd = parse(text);
    let m = &sd.media[0];
    let fb = |pt| -> Vec<(Option<u8>, String)> {
        m.codec(pt)
            .unwrap()
            .feedback()
            .map(|f| (f.payload_type, f.kind.to_string()))
            .collect()
    };
    assert_eq!(fb(96), [(None, "nack".to_string())]);
    assert_eq!(
        fb(97),
        [(None, "nack".to_string()), (Some(97), "ccm".to_string())]
    );
}

#[test]
fn ice_credentials_per_media_section() {
    let text = fixture("chromium_av_datachannel_offer.sdp");
    let sd = parse(&text);
    for m in &sd.media {
        let c = sd.ice_credentials(m).unwrap();
        assert_eq!((c.ufrag, c.pwd), ("fUn2", "hT/8qbkpotYnKAFZ7+WwkT02"));
        assert_eq!(sd.ice_options(m), ["trickle"]);
    }

    // An ICE restart keeps the certificate and changes the credentials (RFC 8839 §4.4.1.1).
    let text = fixture("chromium_ice_restart_offer.sdp");
    let restart = parse(&text);
    assert_eq!(restart.origin.session_id, sd.origin.session_id);
    assert_eq!(
        restart.origin.session_version,
        sd.origin.session_version + 1
    );
    for m in &restart.media {
        let c = restart.ice_credentials(m).unwrap();
        assert_eq!((c.ufrag, c.pwd), ("EPmt", "XLfeSa74pjUR1ayMuHkCSI8B"));
        let fp: Vec<_> = restart.fingerprints(m).collect();
        assert_eq!(fp.len(), 1);
        assert_eq!(fp[0].bytes, AV_OFFER_FINGERPRINT);
        assert_eq!(m.candidates().count(), 0);
    }
}

#[test]
fn ice_credentials_fall_back_to_the_session() {
    let media = |attrs: Vec<Attribute<'static>>| {
        attrs.into_iter().fold(
            MediaDescription::new(
                MediaKind::Application,
                "UDP/DTLS/SCTP",
                Formats::Other(vec!["webrtc-datachannel".into()]),
            ),
            MediaDescription::with_attribute,
        )
    };
    let sd = SessionDescription::new(1, 1)
        .with_attribute(Attribute::IceUfrag("sess".into()))
        .with_attribute(Attribute::IcePwd("sessionpasswordsession".into()))
        .with_attribute(Attribute::IceOptions(vec!["trickle".into()]))
        .with_media(media(vec![Attribute::Mid("own".into())]))
        .with_media(media(vec![
            Attribute::Mid("ufrag-only".into()),
            Attribute::IceUfrag("mine".into()),
        ]))
        .with_media(media(vec![
            Attribute::Mid("both".into()),
            Attribute::IceUfrag("mine".into()),
            Attribute::IcePwd("mediapasswordmediapass".into()),
            Attribute::IceOptions(vec!["ice2".into()]),
        ]));
    let creds = |mid: &str| {
        let c = sd.ice_credentials(sd.media_by_mid(mid).unwrap()).unwrap();
        (c.ufrag, c.pwd)
    };
    assert_eq!(creds("own"), ("sess", "sessionpasswordsession"));
    assert_eq!(creds("ufrag-only"), ("mine", "sessionpasswordsession"));
    assert_eq!(creds("both"), ("mine", "mediapasswordmediapass"));
    assert_eq!(sd.ice_options(sd.media_by_mid("own").unwrap()), ["trickle"]);
    assert_eq!(sd.ice_options(sd.media_by_mid("both").unwrap()), ["ice2"]);

    // The same after a trip through text.
    let text = sd.to_sdp_string();
    let parsed = parse(&text);
    let m = parsed.media_by_mid("ufrag-only").unwrap();
    let c = parsed.ice_credentials(m).unwrap();
    assert_eq!((c.ufrag, c.pwd), ("mine", "sessionpasswordsession"));

    // Without a password anywhere there are no credentials.
    let lonely = SessionDescription::new(1, 1).with_media(media(vec![
        Attribute::Mid("0".into()),
        Attribute::IceUfrag("mine".into()),
    ]));
    assert!(lonely.ice_credentials(&lonely.media[0]).is_none());
    assert!(lonely.ice_options(&lonely.media[0]).is_empty());
}

#[test]
fn fingerprints_and_setup() {
    let text = fixture("chromium_av_datachannel_offer.sdp");
    let offer = parse(&text);
    for m in &offer.media {
        let fps: Vec<_> = offer.fingerprints(m).collect();
        assert_eq!(fps.len(), 1);
        assert_eq!(fps[0].hash, HashFunction::Sha256);
        assert_eq!(fps[0].bytes, AV_OFFER_FINGERPRINT);
        assert_eq!(offer.setup(m), Some(Setup::ActPass));
    }
    let text = fixture("chromium_av_datachannel_answer.sdp");
    let answer = parse(&text);
    for m in &answer.media {
        let fp = answer.fingerprints(m).next().unwrap();
        assert_eq!((fp.bytes[0], fp.bytes[31]), (0xCE, 0xF2));
        assert_eq!(answer.setup(m), Some(Setup::Active));
    }

    // Session-level values apply where a section has none of its own (RFC 8122 §5,
    // RFC 8842 §5.1); a section's own fingerprints replace the session's entirely.
    let session_fp = Fingerprint {
        hash: HashFunction::Sha256,
        bytes: vec![1; 32],
    };
    let own_fps = [
        Fingerprint {
            hash: HashFunction::Sha1,
            bytes: vec![2; 20],
        },
        Fingerprint {
            hash: HashFunction::Sha512,
            bytes: vec![3; 64],
        },
    ];
    let sd = SessionDescription::new(1, 1)
        .with_attribute(Attribute::Fingerprint(session_fp.clone()))
        .with_attribute(Attribute::Setup(Setup::Passive))
        .with_media(MediaDescription::new(
            MediaKind::Audio,
            "UDP/TLS/RTP/SAVPF",
            Formats::Rtp(vec![0]),
        ))
        .with_media(
            MediaDescription::new(
                MediaKind::Video,
                "UDP/TLS/RTP/SAVPF",
                Formats::Rtp(vec![96]),
            )
            .with_attribute(Attribute::Fingerprint(own_fps[0].clone()))
            .with_attribute(Attribute::Fingerprint(own_fps[1].clone()))
            .with_attribute(Attribute::Setup(Setup::HoldConn)),
        );
    let inherited: Vec<_> = sd.fingerprints(&sd.media[0]).cloned().collect();
    assert_eq!(inherited, [session_fp]);
    assert_eq!(sd.setup(&sd.media[0]), Some(Setup::Passive));
    let own: Vec<_> = sd.fingerprints(&sd.media[1]).cloned().collect();
    assert_eq!(own, own_fps);
    assert_eq!(sd.setup(&sd.media[1]), Some(Setup::HoldConn));
    let written = sd.to_sdp_string();
    assert!(written.contains(&format!(
        "a=fingerprint:sha-1 {}\r\n",
        vec!["02"; 20].join(":")
    )));
    assert_eq!(parse(&written), sd);
}

#[test]
fn directions() {
    let text = fixture("chromium_av_datachannel_offer.sdp");
    let sd = parse(&text);
    let dirs: Vec<_> = sd
        .media
        .iter()
        .map(|m| (m.own_direction(), sd.direction(m)))
        .collect();
    assert_eq!(
        dirs,
        [
            (Some(Direction::SendRecv), Direction::SendRecv),
            (Some(Direction::SendRecv), Direction::SendRecv),
            // No direction attribute on the data channel: sendrecv by default.
            (None, Direction::SendRecv),
        ]
    );
    let text = fixture("chromium_simulcast_offer.sdp");
    let sd = parse(&text);
    assert_eq!(sd.direction(&sd.media[0]), Direction::SendOnly);

    let sd = SessionDescription::new(1, 1)
        .with_attribute(Attribute::Direction(Direction::Inactive))
        .with_media(MediaDescription::new(
            MediaKind::Audio,
            "RTP/AVP",
            Formats::Rtp(vec![0]),
        ))
        .with_media(
            MediaDescription::new(MediaKind::Audio, "RTP/AVP", Formats::Rtp(vec![0]))
                .with_attribute(Attribute::Direction(Direction::RecvOnly)),
        );
    assert_eq!(sd.direction(&sd.media[0]), Direction::Inactive);
    assert_eq!(sd.media[0].own_direction(), None);
    assert_eq!(sd.direction(&sd.media[1]), Direction::RecvOnly);
}

#[test]
fn sctp_port_and_max_message_size() {
    let text = fixture("chromium_datachannel_offer.sdp");
    let sd = parse(&text);
    let data = sd.media_by_mid("0").unwrap();
    assert_eq!(data.kind, MediaKind::Application);
    assert_eq!(
        data.formats,
        Formats::Other(vec!["webrtc-datachannel".into()])
    );
    assert_eq!(data.sctp_port(), Some(5000));
    assert_eq!(data.max_message_size(), Some(262144));
    assert_eq!(data.codecs().count(), 0);
    assert!(!data.has_rtcp_mux());

    let text = fixture("chromium_av_datachannel_offer.sdp");
    let sd = parse(&text);
    let audio = sd.media_by_mid("0").unwrap();
    assert_eq!((audio.sctp_port(), audio.max_message_size()), (None, None));
    assert!(audio.has_rtcp_mux());
    assert_eq!(audio.other_attribute("rtcp-xr"), Some(Some("rcvr-rtt=all")));
    assert_eq!(audio.other_attribute("rtcp-mux"), None, "typed, not Other");

    // The legacy form: the port comes from a=sctpmap.
    let text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
                m=application 9 DTLS/SCTP 5000\r\na=sctpmap:5000 webrtc-datachannel 1024\r\n";
    let sd = parse(text);
    let m = &sd.media[0];
    assert_eq!(m.formats, Formats::Other(vec!["5000".into()]));
    assert_eq!(m.sctp_port(), Some(5000));
    assert_eq!(m.max_message_size(), None);
}

#[test]
fn rids_and_simulcast() {
    let text = fixture("chromium_simulcast_offer.sdp");
    let sd = parse(&text);
    let video = sd.media_by_mid("0").unwrap();
    let rids: Vec<_> = video
        .rids()
        .map(|r| {
            (
                r.id.as_ref(),
                r.direction,
                r.payload_types.len(),
                r.restrictions.len(),
            )
        })
        .collect();
    assert_eq!(
        rids,
        [
            ("q", RidDirection::Send, 0, 0),
            ("h", RidDirection::Send, 0, 0),
            ("f", RidDirection::Send, 0, 0),
        ]
    );
    let sim = video.simulcast().unwrap();
    assert_eq!(sim.lists.len(), 1);
    assert_eq!(sim.lists[0].direction, RidDirection::Send);
    let streams: Vec<Vec<(&str, bool)>> = sim.lists[0]
        .streams
        .iter()
        .map(|s| s.iter().map(|r| (r.rid.as_ref(), r.paused)).collect())
        .collect();
    assert_eq!(streams, [[("q", false)], [("h", false)], [("f", false)]]);
    // Every simulcast stream names a declared rid (RFC 8853 §5.1).
    for stream in &sim.lists[0].streams {
        for alt in stream {
            assert!(video.rids().any(|r| r.id == alt.rid), "{}", alt.rid);
        }
    }
    // Simulcast by rid: no SSRCs are signalled.
    assert_eq!(video.ssrc_attributes().count(), 0);
    assert_eq!(video.msid().unwrap().stream, "-");

    // A rid with payload types and restrictions, and a two-direction simulcast.
    let text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
                m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n\
                a=rid:hi recv pt=96,97;max-width=1280;max-fps=30\r\n\
                a=simulcast:recv hi;~lo,mid send x\r\n";
    let sd = parse(text);
    let m = &sd.media[0];
    let rid = m.rids().next().unwrap();
    assert_eq!(rid.payload_types, [96, 97]);
    let restrictions: Vec<_> = rid.restrictions.iter().collect();
    assert_eq!(
        restrictions,
        [("max-width", Some("1280")), ("max-fps", Some("30"))]
    );
    let sim = m.simulcast().unwrap();
    let lists: Vec<_> = sim
        .lists
        .iter()
        .map(|l| {
            let streams: Vec<Vec<(&str, bool)>> = l
                .streams
                .iter()
                .map(|s| s.iter().map(|r| (r.rid.as_ref(), r.paused)).collect())
                .collect();
            (l.direction, streams)
        })
        .collect();
    assert_eq!(
        lists,
        [
            (
                RidDirection::Recv,
                vec![vec![("hi", false)], vec![("lo", true), ("mid", false)]]
            ),
            (RidDirection::Send, vec![vec![("x", false)]]),
        ]
    );
    assert_eq!(sd.to_sdp_string(), text);
}

#[test]
fn candidates_with_tcptype_and_extensions() {
    let text = fixture("chromium_datachannel_offer.sdp");
    let sd = parse(&text);
    let data = sd.media_by_mid("0").unwrap();
    let cands: Vec<_> = data.candidates().collect();
    assert_eq!(cands.len(), 4);
    let summary: Vec<_> = cands
        .iter()
        .map(|c| {
            (
                c.foundation.as_ref(),
                c.component,
                c.transport.clone(),
                c.priority,
                c.address.clone(),
                c.port,
                c.tcp_type,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "2163046815",
                1,
                CandidateTransport::Udp,
                2122194687,
                ip("192.0.2.2"),
                55192,
                None
            ),
            (
                "1267447935",
                1,
                CandidateTransport::Udp,
                2122265343,
                ip("fd00::2"),
                56593,
                None
            ),
            (
                "2118626571",
                1,
                CandidateTransport::Tcp,
                1518214911,
                ip("192.0.2.2"),
                9,
                Some(TcpType::Active)
            ),
            (
                "3038866667",
                1,
                CandidateTransport::Tcp,
                1518285567,
                ip("fd00::2"),
                9,
                Some(TcpType::Active)
            ),
        ]
    );
    for (k, c) in cands.iter().enumerate() {
        assert_eq!(c.kind, CandidateType::Host);
        assert_eq!((c.related_address.clone(), c.related_port), (None, None));
        let exts: Vec<_> = c.extensions.iter().collect();
        let network = if k % 2 == 0 { "1" } else { "2" };
        assert_eq!(exts, [("generation", "0"), ("network-id", network)]);
        assert_eq!(c.extension("network-id"), Some(network));
        assert_eq!(
            c.extension("tcptype"),
            None,
            "tcptype is typed, not an extension"
        );
        assert_eq!(c.address.ip().map(|a| a.is_ipv6()), Some(k % 2 == 1));
        assert!(!c.address.is_mdns());
    }
    // Display gives the trickle form, which is the fixture's line without `a=`.
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("a="))
        .filter(|l| l.starts_with("candidate:"))
        .collect();
    let shown: Vec<String> = cands.iter().map(|c| c.to_string()).collect();
    assert_eq!(shown, lines);
    assert!(!data.end_of_candidates());
}

#[test]
fn parse_candidate_prefixes_display_and_errors() {
    let line = "candidate:842163049 1 udp 1677729535 203.0.113.7 52200 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-cost 999";
    let bare = line.strip_prefix("candidate:").unwrap();
    let with_a = format!("a={line}");
    let c = parse_candidate(line).unwrap();
    assert_eq!(parse_candidate(bare).unwrap(), c);
    assert_eq!(parse_candidate(&with_a).unwrap(), c);
    assert_eq!(c.kind, CandidateType::ServerReflexive);
    assert_eq!(c.address, ip("203.0.113.7"));
    assert_eq!(c.related_address, Some(ip("0.0.0.0")));
    assert_eq!(c.related_port, Some(0));
    assert_eq!(c.extension("network-cost"), Some("999"));
    assert_eq!(c.to_string(), line);
    // The Display form of a parsed candidate parses back to it.
    assert_eq!(parse_candidate(&c.to_string()).unwrap(), c);
    let owned: Candidate<'static> = c.clone().into_owned();
    assert_eq!(owned, c);

    // mDNS host candidates (browsers hide host addresses behind .local names).
    let mdns = parse_candidate(
        "candidate:1560499547 1 udp 2113937151 2cf0b2c0-0842-4fe3-aaa0-4556a2dfbadc.local 33192 typ host generation 0",
    )
    .unwrap();
    assert!(mdns.address.is_mdns());
    assert_eq!(mdns.address.ip(), None);
    assert_eq!(
        mdns.address,
        Address::Name("2cf0b2c0-0842-4fe3-aaa0-4556a2dfbadc.local".into())
    );

    // Transport is case-insensitive and written in lower case; tcptype so/passive.
    let tcp = parse_candidate("candidate:1 1 TCP 1 192.0.2.1 9 typ host tcptype so").unwrap();
    assert_eq!(tcp.transport, CandidateTransport::Tcp);
    assert_eq!(tcp.tcp_type, Some(TcpType::SimultaneousOpen));
    assert_eq!(
        tcp.to_string(),
        "candidate:1 1 tcp 1 192.0.2.1 9 typ host tcptype so"
    );
    let passive = parse_candidate("1 1 tcp 1 192.0.2.1 9 typ relay tcptype passive").unwrap();
    assert_eq!(
        (passive.kind, passive.tcp_type),
        (CandidateType::Relay, Some(TcpType::Passive))
    );

    // Errors count columns over the whole input, prefix included.
    let err = parse_candidate("candidate:1 1 udp 4294967296 192.0.2.1 9 typ host").unwrap_err();
    assert_eq!(
        err,
        ParseError {
            line: 1,
            column: 19,
            kind: ErrorKind::Expected("a priority (0-4294967295)"),
        }
    );
    let err = parse_candidate("a=candidate:1 1 udp 4294967296 192.0.2.1 9 typ host").unwrap_err();
    assert_eq!(err.column, 21);
    let err = parse_candidate("candidate:1 1 udp 1 192.0.2.1 9 typ host generation").unwrap_err();
    assert_eq!((err.column, err.kind), (52, ErrorKind::Expected("a space")));
    assert!(parse_candidate("").is_err());
    assert!(parse_candidate("candidate:").is_err());
}

#[test]
fn parse_attribute_reads_one_line() {
    assert_eq!(
        parse_attribute("a=mid:0").unwrap(),
        Attribute::Mid("0".into())
    );
    assert_eq!(parse_attribute("rtcp-mux").unwrap(), Attribute::RtcpMux);
    let a = parse_attribute("a=fmtp:111 minptime=10;useinbandfec=1").unwrap();
    assert_eq!(a.to_string(), "a=fmtp:111 minptime=10;useinbandfec=1");
    let err = parse_attribute("a=setup:sideways").unwrap_err();
    assert_eq!((err.line, err.column), (1, 9));
}

#[test]
fn building_a_description_writes_exact_text() {
    let candidate = Candidate {
        foundation: "1".into(),
        component: 1,
        transport: CandidateTransport::Udp,
        priority: 2122194687,
        address: ip("192.0.2.1"),
        port: 50000,
        kind: CandidateType::Host,
        related_address: None,
        related_port: None,
        tcp_type: None,
        extensions: [("generation", "0")].into_iter().collect(),
    };
    let relay = Candidate {
        foundation: "2".into(),
        component: 1,
        transport: CandidateTransport::Tcp,
        priority: 255,
        address: Address::from_text("relay.example.net"),
        port: 443,
        kind: CandidateType::Relay,
        related_address: Some(ip("192.0.2.1")),
        related_port: Some(50000),
        tcp_type: Some(TcpType::Passive),
        extensions: CandidateExtensions::new(),
    };
    let sd = SessionDescription::new(4611686018427387903, 2)
        .with_attribute(Attribute::Group(Group {
            semantics: "BUNDLE".into(),
            mids: vec!["a0".into(), "d1".into()],
        }))
        .with_attribute(Attribute::IceOptions(vec!["trickle".into()]))
        .with_media(
            MediaDescription::new(
                MediaKind::Audio,
                "UDP/TLS/RTP/SAVPF",
                Formats::Rtp(vec![111, 0]),
            )
            .with_attribute(Attribute::IceUfrag("abcd".into()))
            .with_attribute(Attribute::IcePwd("0123456789abcdefghijkl".into()))
            .with_attribute(Attribute::Fingerprint(Fingerprint {
                hash: HashFunction::Sha256,
                bytes: vec![0xab, 0x01, 0xff],
            }))
            .with_attribute(Attribute::Setup(Setup::ActPass))
            .with_attribute(Attribute::Mid("a0".into()))
            .with_attribute(Attribute::Direction(Direction::SendOnly))
            .with_attribute(Attribute::Msid(Msid {
                stream: "-".into(),
                track: Some("track-1".into()),
            }))
            .with_attribute(Attribute::RtcpMux)
            .with_attribute(Attribute::Rtpmap(Rtpmap {
                payload_type: 111,
                encoding: "opus".into(),
                clock_rate: 48000,
                channels: Some(2),
            }))
            .with_attribute(Attribute::Fmtp(Fmtp {
                payload_type: 111,
                parameters: [("minptime", Some("10")), ("useinbandfec", Some("1"))]
                    .into_iter()
                    .collect(),
            }))
            .with_attribute(Attribute::RtcpFb(RtcpFb {
                payload_type: Some(111),
                kind: "transport-cc".into(),
                parameter: None,
            }))
            .with_attribute(Attribute::Ssrc(SsrcAttribute {
                ssrc: 4242,
                attribute: "cname".into(),
                value: Some("weft".into()),
            }))
            .with_attribute(Attribute::Candidate(candidate.into()))
            .with_attribute(Attribute::Candidate(relay.into()))
            .with_attribute(Attribute::EndOfCandidates),
        )
        .with_media(
            MediaDescription::new(
                MediaKind::Application,
                "UDP/DTLS/SCTP",
                Formats::Other(vec!["webrtc-datachannel".into()]),
            )
            .with_attribute(Attribute::Mid("d1".into()))
            .with_attribute(Attribute::SctpPort(5000))
            .with_attribute(Attribute::MaxMessageSize(262144)),
        );
    let expected = concat!(
        "v=0\r\n",
        "o=- 4611686018427387903 2 IN IP4 127.0.0.1\r\n",
        "s=-\r\n",
        "t=0 0\r\n",
        "a=group:BUNDLE a0 d1\r\n",
        "a=ice-options:trickle\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n",
        "c=IN IP4 0.0.0.0\r\n",
        "a=ice-ufrag:abcd\r\n",
        "a=ice-pwd:0123456789abcdefghijkl\r\n",
        "a=fingerprint:sha-256 AB:01:FF\r\n",
        "a=setup:actpass\r\n",
        "a=mid:a0\r\n",
        "a=sendonly\r\n",
        "a=msid:- track-1\r\n",
        "a=rtcp-mux\r\n",
        "a=rtpmap:111 opus/48000/2\r\n",
        "a=fmtp:111 minptime=10;useinbandfec=1\r\n",
        "a=rtcp-fb:111 transport-cc\r\n",
        "a=ssrc:4242 cname:weft\r\n",
        "a=candidate:1 1 udp 2122194687 192.0.2.1 50000 typ host generation 0\r\n",
        "a=candidate:2 1 tcp 255 relay.example.net 443 typ relay raddr 192.0.2.1 rport 50000 tcptype passive\r\n",
        "a=end-of-candidates\r\n",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
        "c=IN IP4 0.0.0.0\r\n",
        "a=mid:d1\r\n",
        "a=sctp-port:5000\r\n",
        "a=max-message-size:262144\r\n",
    );
    assert_eq!(sd.to_sdp_string(), expected);
    assert_eq!(sd.to_string(), expected, "Display writes the same text");

    // What was built reads back through the same API.
    let parsed = parse(expected);
    assert_eq!(parsed, sd);
    let audio = parsed.media_by_mid("a0").unwrap();
    assert_eq!(parsed.direction(audio), Direction::SendOnly);
    assert_eq!(
        audio.codec(111).unwrap().fmtp().unwrap().minptime(),
        Some(10)
    );
    assert_eq!(audio.codec(0).unwrap().name(), Some("PCMU"));
    assert!(audio.end_of_candidates());
    assert_eq!(
        audio.candidates().nth(1).unwrap().address,
        Address::Name("relay.example.net".into())
    );
    let data = parsed.media_by_mid("d1").unwrap();
    assert_eq!(data.sctp_port(), Some(5000));
    assert_eq!(parsed.ice_credentials(data).map(|c| c.ufrag), None);
}

#[test]
fn new_uses_the_jsep_defaults() {
    let sd = SessionDescription::new(7, 0);
    assert_eq!(
        sd.to_sdp_string(),
        "v=0\r\no=- 7 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    );
    let m = MediaDescription::new(
        MediaKind::Video,
        "UDP/TLS/RTP/SAVPF",
        Formats::Rtp(vec![96]),
    );
    assert_eq!(m.port, 9);
    assert_eq!(m.connections.len(), 1);
    assert_eq!(m.connections[0].address, ip("0.0.0.0"));
    assert_eq!(m.mid(), None);
    assert!(m.attributes.is_empty());
}

#[test]
fn lists_in_other_spellings_read_the_same_and_write_canonically() {
    // Spaces after `;` and an empty last parameter, which the parser accepts; typed candidate
    // fields after extensions. Both are kept in canonical form and written so.
    let text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
                m=video 9 UDP/TLS/RTP/SAVPF 96\r\n\
                a=fmtp:96  a=1; b;c=x y;\r\n\
                a=rid:r send pt=96;max-width=1280; max-fps=30; \r\n\
                a=candidate:1 1 udp 1 192.0.2.1 9 typ srflx generation 0 raddr 10.0.0.1 \
                network-id 2 rport 5 ufrag ab\r\n";
    let sd = parse(text);
    let m = &sd.media[0];
    let fmtp = m.codecs().next().unwrap().fmtp().unwrap();
    assert_eq!(
        fmtp.parameters.iter().collect::<Vec<_>>(),
        [("a", Some("1")), ("b", None), ("c", Some("x y"))]
    );
    assert_eq!(
        (fmtp.get("c"), fmtp.get("b"), fmtp.get("d")),
        (Some("x y"), None, None)
    );
    assert_eq!(fmtp.bare_values().collect::<Vec<_>>(), ["b"]);
    let rid = m.rids().next().unwrap();
    assert_eq!(rid.restrictions.as_str(), "max-width=1280;max-fps=30");
    let c = m.candidates().next().unwrap();
    assert_eq!(
        (c.related_address.clone(), c.related_port),
        (Some(ip("10.0.0.1")), Some(5))
    );
    assert_eq!(
        c.extensions.iter().collect::<Vec<_>>(),
        [("generation", "0"), ("network-id", "2"), ("ufrag", "ab")]
    );
    assert_eq!(c.extensions.len(), 3);
    let written = sd.to_sdp_string();
    assert!(written.contains("a=fmtp:96 a=1;b;c=x y\r\n"), "{written}");
    assert!(
        written.contains("a=rid:r send pt=96;max-width=1280;max-fps=30\r\n"),
        "{written}"
    );
    assert!(
        written.contains("typ srflx raddr 10.0.0.1 rport 5 generation 0 network-id 2 ufrag ab\r\n"),
        "{written}"
    );
    assert_eq!(parse(&written), sd);
}
