//! JSEP (RFC 8829) and the W3C signaling rules: descriptions, states, rollback, glare,
//! renegotiation, ICE restart, trickle, DTLS roles; answers to real Chromium offers.

#[path = "common/sim.rs"]
mod sim;

use std::time::Duration;

use sim::Sim;
use weft_netsim::LinkConfig;
use weft_peer::{
    ChannelOptions, CodecName, Direction, Event, IceCandidateInit, MediaKind, MessageKind,
    OfferOptions, PeerConnectionState, Rtc, RtcConfig, RtcError, SdpType, SessionDescription,
    SignalingState,
};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../shared/fixtures/sdp/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn rtc() -> Rtc {
    #[allow(clippy::disallowed_methods)]
    let now = std::time::Instant::now();
    let mut r = Rtc::new(now, RtcConfig::new(sim::certificate()), [7; 32]);
    r.add_host_address("10.0.0.9:5000".parse().unwrap());
    r
}

fn drain(r: &mut Rtc) -> Vec<Event> {
    let mut v = Vec::new();
    while let Some(o) = r.poll_output() {
        if let weft_peer::Output::Event(e) = o {
            v.push(e);
        }
    }
    v
}

fn connected(s: &Sim) -> bool {
    s.a.rtc.connection_state() == PeerConnectionState::Connected
        && s.b.rtc.connection_state() == PeerConnectionState::Connected
}

fn link() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(5))
}

#[test]
fn our_offer_is_a_valid_bundled_webrtc_offer() {
    let mut r = rtc();
    r.add_track(MediaKind::Audio, "s", "a");
    r.add_track(MediaKind::Video, "s", "v");
    r.create_data_channel("d", ChannelOptions::default())
        .unwrap();
    let offer = r.create_offer(OfferOptions::default()).unwrap();
    assert_eq!(offer.sdp_type, SdpType::Offer);
    let m = weft_sdp::parse(&offer.sdp).unwrap();
    let mids: Vec<&str> = m.media.iter().filter_map(|x| x.mid()).collect();
    assert_eq!(mids, ["0", "1", "2"]);
    let bundle = m.bundle_groups().next().unwrap();
    assert_eq!(bundle.mids, ["0", "1", "2"]);
    for section in &m.media {
        // RFC 8866 §5.7: one c= per section (unicast); Firefox refuses two.
        assert_eq!(section.connections.len(), 1);
        // RFC 8829 §5.2.1: every section carries the transport attributes.
        assert!(m.ice_credentials(section).is_some());
        assert_eq!(m.setup(section), Some(weft_sdp::Setup::ActPass));
        assert_eq!(m.fingerprints(section).count(), 1);
    }
    assert!(m.media[0].has_rtcp_mux() && m.media[1].has_rtcp_mux());
    assert_eq!(m.media[2].sctp_port(), Some(5000));
    let video: Vec<_> = m.media[1]
        .codecs()
        .filter_map(|c| c.name().map(String::from))
        .collect();
    assert_eq!(video[..3], ["VP8", "rtx", "VP9"]);
    // The writer's output parses back to the same model (round trip).
    assert_eq!(weft_sdp::parse(&m.to_sdp_string()).unwrap(), m);
}

#[test]
fn answers_a_real_chromium_offer() {
    let mut r = rtc();
    let offer = fixture("chromium_av_datachannel_offer.sdp");
    r.set_remote_description(SessionDescription::offer(offer))
        .unwrap();
    let events = drain(&mut r);
    assert!(events.contains(&Event::SignalingState(SignalingState::HaveRemoteOffer)));
    // W3C: `track` fires at setRemoteDescription for each section the remote sends on.
    let tracks: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Track { kind, mid, .. } => Some((*kind, mid.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        tracks,
        [
            (MediaKind::Audio, "0".into()),
            (MediaKind::Video, "1".into())
        ]
    );
    let answer = r.create_answer().unwrap();
    let m = weft_sdp::parse(&answer.sdp).unwrap();
    assert_eq!(m.media.len(), 3);
    assert!(m.media.iter().all(|x| x.port != 0));
    assert!(
        m.media.iter().all(|x| x.connections.len() == 1),
        "one c= a section"
    );
    // RFC 8829 §5.3.1: the answerer is DTLS client (setup:active) to an actpass offer.
    assert_eq!(m.setup(&m.media[0]), Some(weft_sdp::Setup::Active));
    // Codecs: the offer's payload types and order, ours only. H.264 42001f (baseline) is
    // not our constrained baseline 42e01f; 108 is; packetization-mode 0 is refused.
    let pts: Vec<(String, u8)> = m.media[1]
        .codecs()
        .filter(|c| c.name() != Some("rtx"))
        .map(|c| (c.name().unwrap().to_string(), c.payload_type))
        .collect();
    assert_eq!(
        pts,
        [
            ("VP8".to_string(), 96),
            ("H264".to_string(), 108),
            ("AV1".to_string(), 45),
            ("VP9".to_string(), 98)
        ]
    );
    // We have no track yet: recvonly.
    assert_eq!(m.direction(&m.media[1]), Direction::RecvOnly);
    r.set_local_description(answer).unwrap();
    assert_eq!(r.signaling_state(), SignalingState::Stable);
    let t = weft_peer::TransceiverId(1);
    assert_eq!(
        r.codecs(t).unwrap().first().map(|c| c.name),
        Some(CodecName::Vp8)
    );
    assert_eq!(r.current_direction(t), Some(Direction::RecvOnly));
}

#[test]
fn descriptions_and_states_follow_w3c() {
    let mut s = Sim::new(10, link());
    s.a.rtc
        .create_data_channel("x", ChannelOptions::default())
        .unwrap();
    let offer = s.a.rtc.create_offer(OfferOptions::default()).unwrap();
    // createOffer changes nothing.
    assert_eq!(s.a.rtc.signaling_state(), SignalingState::Stable);
    assert!(s.a.rtc.local_description().is_none());
    s.a.rtc.set_local_description(offer).unwrap();
    assert_eq!(s.a.rtc.signaling_state(), SignalingState::HaveLocalOffer);
    assert!(s.a.rtc.pending_local_description().is_some());
    assert!(s.a.rtc.current_local_description().is_none());
    // An answer cannot be set locally in have-local-offer.
    let bogus = SessionDescription::answer(s.a.rtc.local_description().unwrap().sdp);
    assert!(matches!(
        s.a.rtc.set_local_description(bogus),
        Err(RtcError::InvalidState(_))
    ));
    let offer = s.a.rtc.local_description().unwrap();
    // Gathered candidates are in the local description (non-trickle use).
    assert!(offer.sdp.contains("a=candidate:"));
    assert!(offer.sdp.contains("a=end-of-candidates"));
    s.b.rtc.set_remote_description(offer).unwrap();
    assert_eq!(s.b.rtc.signaling_state(), SignalingState::HaveRemoteOffer);
    assert!(s.b.rtc.pending_remote_description().is_some());
    // Provisional answer, then the final one.
    let pr = s.b.rtc.create_answer().unwrap();
    let pr = SessionDescription {
        sdp_type: SdpType::Pranswer,
        sdp: pr.sdp,
    };
    s.b.rtc.set_local_description(pr.clone()).unwrap();
    assert_eq!(s.b.rtc.signaling_state(), SignalingState::HaveLocalPranswer);
    s.a.rtc.set_remote_description(pr).unwrap();
    assert_eq!(
        s.a.rtc.signaling_state(),
        SignalingState::HaveRemotePranswer
    );
    let answer = s.b.rtc.create_answer().unwrap();
    s.b.rtc.set_local_description(answer).unwrap();
    assert_eq!(s.b.rtc.signaling_state(), SignalingState::Stable);
    assert!(s.b.rtc.pending_remote_description().is_none());
    assert!(s.b.rtc.current_remote_description().is_some());
    assert!(s.b.rtc.current_local_description().is_some());
    s.a.rtc
        .set_remote_description(s.b.rtc.local_description().unwrap())
        .unwrap();
    assert_eq!(s.a.rtc.signaling_state(), SignalingState::Stable);
    assert!(s.a.rtc.pending_local_description().is_none());
    assert!(s.a.rtc.current_local_description().is_some());
    s.flush();
    assert!(s.run_until(Duration::from_secs(10), |s| connected(s)));
    let states: Vec<_> =
        s.a.events
            .iter()
            .filter_map(|e| match e {
                Event::SignalingState(x) => Some(*x),
                _ => None,
            })
            .collect();
    assert_eq!(
        states,
        [
            SignalingState::HaveLocalOffer,
            SignalingState::HaveRemotePranswer,
            SignalingState::Stable
        ]
    );
    let conn: Vec<_> =
        s.a.events
            .iter()
            .filter_map(|e| match e {
                Event::ConnectionState(x) => Some(*x),
                _ => None,
            })
            .collect();
    assert_eq!(
        conn,
        [
            PeerConnectionState::Connecting,
            PeerConnectionState::Connected
        ]
    );
    s.a.rtc.close();
    assert_eq!(s.a.rtc.signaling_state(), SignalingState::Closed);
    assert!(s.a.rtc.create_offer(OfferOptions::default()).is_err());
}

#[test]
fn rollback_restores_the_previous_descriptions() {
    let mut s = Sim::new(11, link());
    s.a.rtc
        .create_data_channel("x", ChannelOptions::default())
        .unwrap();
    s.negotiate();
    let before_local = s.a.rtc.current_local_description().unwrap();
    let before_remote = s.a.rtc.current_remote_description().unwrap();
    // A renegotiation adds a video line, then is rolled back.
    s.a.rtc.add_track(MediaKind::Video, "s", "v");
    let offer = s.a.rtc.create_offer(OfferOptions::default()).unwrap();
    assert!(offer.sdp.contains("m=video"));
    s.a.rtc.set_local_description(offer).unwrap();
    assert_eq!(s.a.rtc.signaling_state(), SignalingState::HaveLocalOffer);
    s.a.rtc
        .set_local_description(SessionDescription::rollback())
        .unwrap();
    assert_eq!(s.a.rtc.signaling_state(), SignalingState::Stable);
    assert!(s.a.rtc.pending_local_description().is_none());
    assert_eq!(s.a.rtc.current_local_description().unwrap(), before_local);
    assert_eq!(s.a.rtc.current_remote_description().unwrap(), before_remote);
    assert_eq!(s.a.rtc.local_description().unwrap(), before_local);
    // The video line is still wanted: negotiationneeded fires again at stable.
    let events = drain(&mut s.a.rtc);
    assert_eq!(events.last(), Some(&Event::NegotiationNeeded));
    // A remote offer rolled back on the answerer side.
    let offer = s.a.rtc.create_offer(OfferOptions::default()).unwrap();
    s.a.rtc.set_local_description(offer).unwrap();
    let b_before = s.b.rtc.current_remote_description().unwrap();
    s.b.rtc
        .set_remote_description(s.a.rtc.local_description().unwrap())
        .unwrap();
    assert_eq!(s.b.rtc.signaling_state(), SignalingState::HaveRemoteOffer);
    s.b.rtc
        .set_remote_description(SessionDescription::rollback())
        .unwrap();
    assert_eq!(s.b.rtc.signaling_state(), SignalingState::Stable);
    assert_eq!(s.b.rtc.remote_description().unwrap(), b_before);
    // Rollback in stable is refused.
    assert!(matches!(
        s.b.rtc
            .set_remote_description(SessionDescription::rollback()),
        Err(RtcError::InvalidState(_))
    ));
}

/// Perfect negotiation (W3C §10.7): both sides offer at once; the polite peer takes the
/// other's offer (implicit rollback of its own), the impolite one ignores the polite
/// offer. Afterwards the polite peer's own change is negotiated, and everything works.
#[test]
fn glare_resolves_by_perfect_negotiation() {
    let mut s = Sim::new(12, link());
    // a is impolite, b polite.
    let a_ch =
        s.a.rtc
            .create_data_channel("from-a", ChannelOptions::default())
            .unwrap();
    let b_audio = s.b.rtc.add_track(MediaKind::Audio, "b", "b-audio");
    let oa = s.a.rtc.create_offer(OfferOptions::default()).unwrap();
    s.a.rtc.set_local_description(oa).unwrap();
    let ob = s.b.rtc.create_offer(OfferOptions::default()).unwrap();
    s.b.rtc.set_local_description(ob).unwrap();
    let (oa, ob) = (
        s.a.rtc.local_description().unwrap(),
        s.b.rtc.local_description().unwrap(),
    );
    // Impolite a: an offer collides with its own; it ignores b's offer.
    let _ignored = ob;
    assert_eq!(s.a.rtc.signaling_state(), SignalingState::HaveLocalOffer);
    // Polite b: setRemoteDescription(offer) rolls its own offer back implicitly.
    s.b.rtc.set_remote_description(oa).unwrap();
    assert_eq!(s.b.rtc.signaling_state(), SignalingState::HaveRemoteOffer);
    let answer = s.b.rtc.create_answer().unwrap();
    s.b.rtc.set_local_description(answer).unwrap();
    s.a.rtc
        .set_remote_description(s.b.rtc.local_description().unwrap())
        .unwrap();
    assert_eq!(s.a.rtc.signaling_state(), SignalingState::Stable);
    assert_eq!(s.b.rtc.signaling_state(), SignalingState::Stable);
    s.flush();
    // b's audio track was rolled back with its offer: b needs negotiation again.
    assert_eq!(
        s.b.events
            .iter()
            .filter(|e| **e == Event::NegotiationNeeded)
            .last(),
        Some(&Event::NegotiationNeeded)
    );
    assert!(s.b.rtc.mid(b_audio).is_none());
    assert!(s.run_until(Duration::from_secs(10), |s| connected(s)
        && s.a.events.contains(&Event::ChannelOpen(a_ch))));
    // b renegotiates; its audio line is added and the call still works.
    s.swap();
    s.negotiate();
    s.swap();
    assert!(s.b.rtc.mid(b_audio).is_some());
    assert_eq!(
        s.b.rtc.current_direction(b_audio),
        Some(Direction::SendOnly)
    );
    s.a.rtc
        .send(a_ch, MessageKind::Text, b"after glare")
        .unwrap();
    s.flush();
    assert!(
        s.run_until(Duration::from_secs(5), |s| s.b.events.iter().any(
            |e| matches!(e, Event::ChannelMessage { data, .. } if &data[..] == b"after glare")
        ))
    );
}

#[test]
fn renegotiation_adds_a_data_channel_to_a_media_call() {
    let mut s = Sim::new(13, link());
    s.a.rtc.add_track(MediaKind::Audio, "s", "a");
    s.negotiate();
    assert!(s.run_until(Duration::from_secs(10), |s| connected(s)));
    s.a.events.clear();
    let ch =
        s.a.rtc
            .create_data_channel("late", ChannelOptions::default())
            .unwrap();
    s.flush();
    assert!(s.a.events.contains(&Event::NegotiationNeeded));
    s.negotiate();
    assert!(s
        .a
        .rtc
        .local_description()
        .unwrap()
        .sdp
        .contains("m=application"));
    assert!(s.run_until(Duration::from_secs(10), |s| s
        .a
        .events
        .contains(&Event::ChannelOpen(ch))));
    // Nothing more to negotiate.
    s.a.events.clear();
    s.a.rtc.add_track(MediaKind::Audio, "s", "a2");
    s.flush();
    assert!(s.a.events.contains(&Event::NegotiationNeeded));
}

#[test]
fn ice_restart_mid_call_keeps_the_channel() {
    let mut s = Sim::new(14, link());
    let ch =
        s.a.rtc
            .create_data_channel("r", ChannelOptions::default())
            .unwrap();
    s.negotiate();
    assert!(s.run_until(Duration::from_secs(10), |s| s
        .a
        .events
        .contains(&Event::ChannelOpen(ch))));
    let old = weft_sdp::parse(&s.a.rtc.local_description().unwrap().sdp)
        .unwrap()
        .into_owned();
    let old_ufrag = old
        .ice_credentials(&old.media[0])
        .unwrap()
        .ufrag
        .to_string();
    let offer =
        s.a.rtc
            .create_offer(OfferOptions { ice_restart: true })
            .unwrap();
    let new = weft_sdp::parse(&offer.sdp).unwrap();
    let new_ufrag = new.ice_credentials(&new.media[0]).unwrap().ufrag;
    assert_ne!(old_ufrag, new_ufrag);
    s.a.rtc.set_local_description(offer).unwrap();
    let offer = s.a.rtc.local_description().unwrap();
    s.b.rtc.set_remote_description(offer).unwrap();
    let answer = s.b.rtc.create_answer().unwrap();
    s.b.rtc.set_local_description(answer).unwrap();
    s.a.rtc
        .set_remote_description(s.b.rtc.local_description().unwrap())
        .unwrap();
    s.flush();
    for i in 0..20u8 {
        s.a.rtc.send(ch, MessageKind::Binary, &[i]).unwrap();
        s.flush();
        s.run_until(Duration::from_millis(100), |_| false);
    }
    assert!(s.run_until(Duration::from_secs(10), |s| s
        .b
        .events
        .iter()
        .filter(|e| matches!(e, Event::ChannelMessage { .. }))
        .count()
        == 20));
    assert!(connected(&s));
    // The restart selected a pair of the new generation.
    assert!(
        s.a.events
            .iter()
            .filter(|e| matches!(e, Event::SelectedPair { .. }))
            .count()
            >= 2
    );
}

/// Trickle ICE: descriptions without candidates, candidates one by one, some before the
/// remote description (queued, RFC 8838 §11.4), then end-of-candidates.
#[test]
fn trickled_candidates_before_the_description_are_queued() {
    let mut s = Sim::new(15, link());
    let ch =
        s.a.rtc
            .create_data_channel("t", ChannelOptions::default())
            .unwrap();
    let offer = s.a.rtc.create_offer(OfferOptions::default()).unwrap();
    assert!(!offer.sdp.contains("a=candidate"));
    s.a.rtc.set_local_description(offer.clone()).unwrap();
    s.flush();
    let cands: Vec<Option<IceCandidateInit>> =
        s.a.events
            .iter()
            .filter_map(|e| match e {
                Event::IceCandidate(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
    assert_eq!(cands.len(), 2, "{cands:?}");
    assert_eq!(cands.last(), Some(&None));
    // b gets the candidates first, then the offer (without candidates).
    for c in cands.iter().flatten() {
        assert_eq!(c.sdp_mid.as_deref(), Some("0"));
        s.b.rtc.add_ice_candidate(c.clone()).unwrap();
    }
    s.b.rtc
        .add_ice_candidate(IceCandidateInit {
            candidate: String::new(),
            sdp_mid: None,
            sdp_m_line_index: None,
            username_fragment: None,
        })
        .unwrap();
    s.b.rtc.set_remote_description(offer).unwrap();
    let answer = s.b.rtc.create_answer().unwrap();
    s.b.rtc.set_local_description(answer.clone()).unwrap();
    s.a.rtc.set_remote_description(answer).unwrap();
    s.flush();
    for c in s.b.events.clone() {
        if let Event::IceCandidate(Some(c)) = c {
            s.a.rtc.add_ice_candidate(c).unwrap();
        }
    }
    s.flush();
    assert!(s.run_until(Duration::from_secs(10), |s| connected(s)
        && s.a.events.contains(&Event::ChannelOpen(ch))));
    // A malformed candidate is a typed error.
    assert!(matches!(
        s.a.rtc.add_ice_candidate(IceCandidateInit {
            candidate: "candidate:garbage".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        }),
        Err(RtcError::SdpSyntax(_))
    ));
}

/// RFC 8842 §5.1: an offer may say `active` or `passive`; the answer takes the other role.
#[test]
fn dtls_roles_follow_setup() {
    for (offered, answered) in [("active", "passive"), ("passive", "active")] {
        let mut s = Sim::new(16, link());
        let ch =
            s.a.rtc
                .create_data_channel("r", ChannelOptions::default())
                .unwrap();
        let offer = s.a.rtc.create_offer(OfferOptions::default()).unwrap();
        let offer = SessionDescription::offer(
            offer
                .sdp
                .replace("a=setup:actpass", &format!("a=setup:{offered}")),
        );
        s.a.rtc.set_local_description(offer).unwrap();
        s.b.rtc
            .set_remote_description(s.a.rtc.local_description().unwrap())
            .unwrap();
        let answer = s.b.rtc.create_answer().unwrap();
        assert!(answer.sdp.contains(&format!("a=setup:{answered}")));
        s.b.rtc.set_local_description(answer).unwrap();
        s.a.rtc
            .set_remote_description(s.b.rtc.local_description().unwrap())
            .unwrap();
        s.flush();
        assert!(s.run_until(Duration::from_secs(10), |s| connected(s)
            && s.a.events.contains(&Event::ChannelOpen(ch))));
        // RFC 8832 §6: the DTLS client takes even stream ids.
        let id = s.a.rtc.channel(ch).unwrap().id;
        assert_eq!(
            id.is_multiple_of(2),
            offered == "active",
            "{offered}: id {id}"
        );
    }
}

#[test]
fn hostile_descriptions_are_typed_errors() {
    let mut r = rtc();
    assert!(matches!(
        r.set_remote_description(SessionDescription::offer("v=0\r\ngarbage")),
        Err(RtcError::SdpSyntax(_))
    ));
    let no_fp: String = fixture("chromium_datachannel_offer.sdp")
        .lines()
        .filter(|l| !l.starts_with("a=fingerprint"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    assert!(matches!(
        r.set_remote_description(SessionDescription::offer(no_fp)),
        Err(RtcError::InvalidDescription(_))
    ));
    // An answer with no offer out.
    assert!(matches!(
        r.set_remote_description(SessionDescription::answer(fixture(
            "chromium_datachannel_answer.sdp"
        ))),
        Err(RtcError::InvalidState(_))
    ));
    assert_eq!(r.signaling_state(), SignalingState::Stable);
    assert!(r.create_answer().is_err());
}

/// The DTLS peer certificate must match the signalled `a=fingerprint` (RFC 8827 §6.5,
/// RFC 8122 §5): a forged fingerprint in the answer fails the connection.
#[test]
fn a_wrong_fingerprint_fails_the_connection() {
    let mut s = Sim::new(17, link());
    s.a.rtc
        .create_data_channel("x", ChannelOptions::default())
        .unwrap();
    let offer = s.a.rtc.create_offer(OfferOptions::default()).unwrap();
    s.a.rtc.set_local_description(offer).unwrap();
    s.b.rtc
        .set_remote_description(s.a.rtc.local_description().unwrap())
        .unwrap();
    let answer = s.b.rtc.create_answer().unwrap();
    s.b.rtc.set_local_description(answer).unwrap();
    let real = s.b.rtc.fingerprint().to_string();
    let other = sim::certificate()
        .fingerprint(weft_dtls_srtp::cert::FingerprintAlg::Sha256)
        .to_string();
    let forged =
        s.b.rtc
            .local_description()
            .unwrap()
            .sdp
            .replace(&real, &other);
    assert_ne!(forged, s.b.rtc.local_description().unwrap().sdp);
    s.a.rtc
        .set_remote_description(SessionDescription::answer(forged))
        .unwrap();
    s.flush();
    assert!(
        s.run_until(Duration::from_secs(10), |s| s.a.rtc.connection_state()
            == PeerConnectionState::Failed)
    );
    assert!(!s
        .a
        .events
        .contains(&Event::ConnectionState(PeerConnectionState::Connected)));
}
