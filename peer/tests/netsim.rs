//! Two weft peer connections over weft-netsim: negotiation, data channels, audio and video
//! both ways, on a perfect link and with loss; deterministic (seeded).

#[path = "common/sim.rs"]
mod sim;

use std::time::Duration;

use sim::Sim;
use weft_netsim::LinkConfig;
use weft_peer::{
    ChannelOptions, ChannelRef, Direction, Event, IceConnectionState, MediaKind, MessageKind,
    PeerConnectionState, SignalingState, TransceiverId,
};
use weft_sctp::EngineKind;

/// `$name(sctp: EngineKind)` as one test per SCTP engine under the data channels:
/// `$name::sctp_proto` and `$name::weft` (issue 12).
macro_rules! both_sctp_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sctp_proto() {
                    super::$name(weft_sctp::EngineKind::SctpProto)
                }
                #[test]
                fn weft() {
                    super::$name(weft_sctp::EngineKind::Weft)
                }
            }
        )*
    };
}

/// Two peers whose data channels run over `sctp`.
fn sim_over(sctp: EngineKind, seed: u64, link: LinkConfig) -> Sim {
    Sim::with_config(seed, link, |c| c.sctp_engine = sctp)
}

fn connected(s: &Sim) -> bool {
    s.a.rtc.connection_state() == PeerConnectionState::Connected
        && s.b.rtc.connection_state() == PeerConnectionState::Connected
}

fn messages(events: &[Event], ch: Option<ChannelRef>) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChannelMessage { channel, data, .. } if ch.is_none_or(|c| c == *channel) => {
                Some(data.to_vec())
            }
            _ => None,
        })
        .collect()
}

fn remote_channel(events: &[Event]) -> Option<ChannelRef> {
    events.iter().find_map(|e| match e {
        Event::DataChannel(r) => Some(*r),
        _ => None,
    })
}

fn data_channel_opens_and_echoes(sctp: EngineKind) {
    let mut s = sim_over(sctp, 1, LinkConfig::with_delay(Duration::from_millis(10)));
    let ch =
        s.a.rtc
            .create_data_channel("chat", ChannelOptions::default())
            .unwrap();
    s.flush();
    assert!(s.a.events.contains(&Event::NegotiationNeeded));
    s.negotiate();
    assert_eq!(s.a.rtc.signaling_state(), SignalingState::Stable);
    assert_eq!(s.b.rtc.signaling_state(), SignalingState::Stable);
    assert!(s.run_until(Duration::from_secs(10), |s| connected(s)
        && s.a.events.contains(&Event::ChannelOpen(ch))
        && remote_channel(&s.b.events).is_some()));
    let theirs = remote_channel(&s.b.events).unwrap();
    assert_eq!(s.b.rtc.channel(theirs).unwrap().label, "chat");
    // RFC 8832 §6: the DTLS client (the answerer, a=setup:active) has even ids, so the
    // offerer's channel is odd.
    assert_eq!(s.a.rtc.channel(ch).unwrap().id % 2, 1);
    for i in 0..100u32 {
        s.a.rtc
            .send(ch, MessageKind::Binary, &i.to_be_bytes())
            .unwrap();
    }
    s.flush();
    assert!(s.run_until(Duration::from_secs(10), |s| messages(
        &s.b.events,
        Some(theirs)
    )
    .len()
        == 100));
    // Echo back.
    for m in messages(&s.b.events, Some(theirs)) {
        s.b.rtc.send(theirs, MessageKind::Binary, &m).unwrap();
    }
    s.flush();
    assert!(
        s.run_until(Duration::from_secs(10), |s| messages(&s.a.events, Some(ch))
            .len()
            == 100)
    );
    let got: Vec<u32> = messages(&s.a.events, Some(ch))
        .iter()
        .map(|m| u32::from_be_bytes(m[..4].try_into().unwrap()))
        .collect();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    // Close: SCTP shutdown and DTLS close_notify; the peer sees its channel close.
    s.a.rtc.close();
    s.flush();
    assert!(s.run_until(Duration::from_secs(5), |s| s
        .b
        .events
        .contains(&Event::ChannelClosed(theirs))));
    assert_eq!(s.a.rtc.connection_state(), PeerConnectionState::Closed);
}

/// A VP8 "frame" whose payload header says key frame (RFC 6386 §9.1: bit 0 of the first
/// byte clear), then a counter.
fn vp8_frame(i: u32, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[0] = 0x10;
    f[1..5].copy_from_slice(&i.to_be_bytes());
    f
}

fn frames(events: &[Event], t: TransceiverId) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Frame { transceiver, frame } if *transceiver == t => Some(frame.data.clone()),
            _ => None,
        })
        .collect()
}

fn track(events: &[Event], kind: MediaKind) -> Option<TransceiverId> {
    events.iter().find_map(|e| match e {
        Event::Track {
            transceiver,
            kind: k,
            ..
        } if *k == kind => Some(*transceiver),
        _ => None,
    })
}

fn media_both_ways(link: LinkConfig, seed: u64) -> (usize, usize, usize, usize) {
    let mut s = Sim::new(seed, link);
    let a_audio = s.a.rtc.add_track(MediaKind::Audio, "s", "a-audio");
    let a_video = s.a.rtc.add_track(MediaKind::Video, "s", "a-video");
    s.negotiate();
    // The answerer's transceivers came from the offer; it adds its own tracks to them and
    // renegotiates (sendrecv both ways).
    let b_audio = track(&s.b.events, MediaKind::Audio).unwrap();
    let b_video = track(&s.b.events, MediaKind::Video).unwrap();
    assert_eq!(
        s.b.rtc.current_direction(b_video),
        Some(Direction::RecvOnly)
    );
    assert_eq!(s.b.rtc.add_track(MediaKind::Audio, "t", "b-audio"), b_audio);
    assert_eq!(s.b.rtc.add_track(MediaKind::Video, "t", "b-video"), b_video);
    s.flush();
    assert!(s.b.events.contains(&Event::NegotiationNeeded));
    s.swap();
    s.negotiate();
    s.swap();
    assert_eq!(
        s.b.rtc.current_direction(b_video),
        Some(Direction::SendRecv)
    );
    assert_eq!(
        s.a.rtc.current_direction(a_video),
        Some(Direction::SendRecv)
    );
    assert!(s.run_until(Duration::from_secs(10), |s| connected(s)));
    // 5 s of 25 fps video (3 packets a frame) and 50 pps Opus both ways.
    let start = s.now();
    for i in 0..125u32 {
        let at = start + Duration::from_millis(40 * u64::from(i));
        assert!(s.run_until(Duration::from_secs(1), |s| s.now() >= at));
        let now = s.now();
        let v = vp8_frame(i, 3000);
        s.a.rtc
            .write_frame(now, a_video, None, i * 3600, &v)
            .unwrap();
        s.b.rtc
            .write_frame(now, b_video, None, i * 3600, &v)
            .unwrap();
        for k in 0..2 {
            let opus = vec![0xfc, i as u8, k];
            s.a.rtc
                .write_frame(now, a_audio, None, (2 * i + u32::from(k)) * 960, &opus)
                .unwrap();
            s.b.rtc
                .write_frame(now, b_audio, None, (2 * i + u32::from(k)) * 960, &opus)
                .unwrap();
        }
        s.flush();
    }
    s.run_until(Duration::from_secs(2), |_| false);
    check_stats(&s.a.rtc, link_delay_ms(&s));
    let vb = frames(&s.b.events, b_video);
    let va = frames(&s.a.events, a_video);
    for f in vb.iter().chain(&va) {
        // Only whole frames, never a corrupt one.
        assert_eq!(f.len(), 3000);
        assert_eq!(f[0], 0x10);
    }
    (
        va.len(),
        vb.len(),
        frames(&s.a.events, a_audio).len(),
        frames(&s.b.events, b_audio).len(),
    )
}

fn link_delay_ms(_s: &Sim) -> u64 {
    20
}

/// getStats: every id a report refers to exists; the RTP streams count what went; the
/// peer's receiver reports give a round-trip time near the simulated one (2 x 20 ms).
fn check_stats(rtc: &weft_peer::Rtc, one_way_ms: u64) {
    use weft_peer::Stats;
    let stats = rtc.stats();
    let ids: Vec<&str> = stats.iter().map(|s| s.id()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "ids are unique: {ids:?}");
    let transport = stats
        .iter()
        .find_map(|s| match s {
            Stats::Transport(t) => Some(t),
            _ => None,
        })
        .unwrap();
    assert_eq!(transport.dtls_state, "connected");
    assert_eq!(
        transport.dtls_cipher.as_deref(),
        Some("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
    );
    assert_eq!(
        transport.srtp_cipher.as_deref(),
        Some("SRTP_AEAD_AES_128_GCM")
    );
    assert!(transport.bytes_sent > 0 && transport.bytes_received > 0);
    let pair = transport.selected_candidate_pair_id.as_deref().unwrap();
    let Some(Stats::CandidatePair(p)) = stats.iter().find(|s| s.id() == pair) else {
        panic!("no pair {pair}");
    };
    assert!(p.nominated);
    assert!(ids.contains(&p.local_candidate_id.as_str()));
    assert!(ids.contains(&p.remote_candidate_id.as_str()));
    assert!(ids.contains(&transport.local_certificate_id.as_str()));
    assert!(ids.contains(&transport.remote_certificate_id.as_deref().unwrap()));
    let inbound: Vec<_> = stats
        .iter()
        .filter_map(|s| match s {
            Stats::InboundRtp(i) => Some(i),
            _ => None,
        })
        .collect();
    assert_eq!(inbound.len(), 2);
    assert!(inbound
        .iter()
        .all(|i| i.packets_received > 0 && i.frames_received > 0));
    let mut rtts = 0;
    for s in &stats {
        if let Stats::OutboundRtp(o) = s {
            assert!(o.packets_sent > 0);
            let rid = o
                .remote_id
                .as_deref()
                .expect("the peer reported on our stream");
            let Some(Stats::RemoteInboundRtp(r)) = stats.iter().find(|s| s.id() == rid) else {
                panic!("no {rid}");
            };
            if let Some(rtt) = r.round_trip_time {
                let expect = 2.0 * one_way_ms as f64 / 1000.0;
                assert!(rtt >= expect * 0.9 && rtt < expect + 0.1, "rtt {rtt}");
                rtts += 1;
            }
        }
    }
    assert!(rtts > 0);
}

#[test]
fn audio_and_video_both_ways() {
    let (va, vb, aa, ab) = media_both_ways(LinkConfig::with_delay(Duration::from_millis(20)), 2);
    assert_eq!((va, vb, aa, ab), (125, 125, 250, 250));
}

#[test]
fn audio_and_video_with_ten_percent_loss() {
    let link = LinkConfig {
        loss: 0.10,
        ..LinkConfig::with_delay(Duration::from_millis(20))
    };
    let (va, vb, aa, ab) = media_both_ways(link, 3);
    // NACK + RTX recover lost video packets; audio has no retransmission, so about 10%
    // of it is gone.
    eprintln!("video frames {va} {vb}, audio frames {aa} {ab}");
    assert!(va >= 110 && vb >= 110, "video {va} {vb}");
    assert!(aa >= 200 && ab >= 200, "audio {aa} {ab}");
}

fn data_channel_with_ten_percent_loss(sctp: EngineKind) {
    let link = LinkConfig {
        loss: 0.10,
        ..LinkConfig::with_delay(Duration::from_millis(20))
    };
    let mut s = sim_over(sctp, 4, link);
    let ch =
        s.a.rtc
            .create_data_channel("lossy", ChannelOptions::default())
            .unwrap();
    s.negotiate();
    assert!(s.run_until(Duration::from_secs(30), |s| s
        .a
        .events
        .contains(&Event::ChannelOpen(ch))));
    for i in 0..200u32 {
        s.a.rtc
            .send(ch, MessageKind::Text, format!("m{i}").as_bytes())
            .unwrap();
    }
    s.flush();
    assert!(
        s.run_until(Duration::from_secs(60), |s| messages(&s.b.events, None)
            .len()
            == 200)
    );
    let got: Vec<String> = messages(&s.b.events, None)
        .into_iter()
        .map(|m| String::from_utf8(m).unwrap())
        .collect();
    assert_eq!(got, (0..200).map(|i| format!("m{i}")).collect::<Vec<_>>());
    assert!(matches!(
        s.a.rtc.ice_connection_state(),
        IceConnectionState::Connected | IceConnectionState::Completed
    ));
}

/// W3C connection states on a path that dies: `disconnected` once consent checks go
/// unanswered (RFC 7675), `connected` again when the path comes back, `failed` once
/// consent expires (30 s).
#[test]
fn lost_path_disconnects_recovers_and_fails() {
    let mut s = Sim::new(5, LinkConfig::with_delay(Duration::from_millis(10)));
    s.a.rtc
        .create_data_channel("c", ChannelOptions::default())
        .unwrap();
    s.negotiate();
    assert!(s.run_until(Duration::from_secs(10), |s| connected(s)));
    let host_b = weft_netsim::HostId(1);
    s.net.set_link(host_b, LinkConfig::down());
    assert!(
        s.run_until(Duration::from_secs(10), |s| s.a.rtc.connection_state()
            == PeerConnectionState::Disconnected)
    );
    s.net
        .set_link(host_b, LinkConfig::with_delay(Duration::from_millis(10)));
    assert!(s.run_until(Duration::from_secs(10), |s| connected(s)));
    s.net.set_link(host_b, LinkConfig::down());
    assert!(
        s.run_until(Duration::from_secs(40), |s| s.a.rtc.connection_state()
            == PeerConnectionState::Failed)
    );
    let states: Vec<_> =
        s.a.events
            .iter()
            .filter_map(|e| match e {
                Event::ConnectionState(x) => Some(*x),
                _ => None,
            })
            .collect();
    use PeerConnectionState::*;
    assert_eq!(
        states,
        [
            Connecting,
            Connected,
            Disconnected,
            Connected,
            Disconnected,
            Failed
        ]
    );
}

/// W3C: both the side that closes a channel and its peer get `close`; the other channels
/// keep working.
fn closing_a_channel_closes_it_on_both_sides(sctp: EngineKind) {
    let mut s = sim_over(sctp, 6, LinkConfig::with_delay(Duration::from_millis(10)));
    let x =
        s.a.rtc
            .create_data_channel("x", ChannelOptions::default())
            .unwrap();
    let y =
        s.a.rtc
            .create_data_channel("y", ChannelOptions::default())
            .unwrap();
    s.negotiate();
    assert!(s.run_until(Duration::from_secs(10), |s| s
        .a
        .events
        .contains(&Event::ChannelOpen(y))
        && s.b
            .events
            .iter()
            .filter(|e| matches!(e, Event::DataChannel(_)))
            .count()
            == 2));
    let theirs_x =
        s.b.events
            .iter()
            .find_map(|e| match e {
                Event::DataChannel(r) if s.b.rtc.channel(*r).unwrap().label == "x" => Some(*r),
                _ => None,
            })
            .unwrap();
    s.a.rtc.close_channel(x).unwrap();
    s.flush();
    assert!(s.run_until(Duration::from_secs(5), |s| s
        .a
        .events
        .contains(&Event::ChannelClosed(x))
        && s.b.events.contains(&Event::ChannelClosed(theirs_x))));
    assert!(s.a.rtc.send(x, MessageKind::Text, b"late").is_err());
    s.a.rtc.send(y, MessageKind::Text, b"still here").unwrap();
    s.flush();
    assert!(
        s.run_until(Duration::from_secs(5), |s| messages(&s.b.events, None)
            .contains(&b"still here".to_vec()))
    );
}

/// Key frame requests follow the negotiated feedback: PLI with `nack pli`, FIR (RFC 5104)
/// when only `ccm fir` was agreed; the sender sees `KeyframeRequest` and counts it.
#[test]
fn keyframe_requests_use_pli_or_fir_as_negotiated() {
    for fir_only in [false, true] {
        let mut s = Sim::with_config(7, LinkConfig::with_delay(Duration::from_millis(10)), |c| {
            if fir_only {
                for codec in &mut c.video_codecs {
                    codec.feedback = vec!["ccm fir".into()];
                }
            }
        });
        let video = s.a.rtc.add_track(MediaKind::Video, "s", "v");
        s.negotiate();
        assert!(s.run_until(Duration::from_secs(10), |s| connected(s)));
        let theirs = track(&s.b.events, MediaKind::Video).unwrap();
        for i in 0..5u32 {
            let now = s.now();
            s.a.rtc
                .write_frame(now, video, None, i * 3000, &vp8_frame(i, 500))
                .unwrap();
            s.flush();
            s.run_until(Duration::from_millis(40), |_| false);
        }
        s.a.events.clear();
        s.b.rtc.request_keyframe(theirs).unwrap();
        s.flush();
        assert!(s.run_until(Duration::from_secs(2), |s| s
            .a
            .events
            .contains(&Event::KeyframeRequest { transceiver: video })));
        let out =
            s.a.rtc
                .stats()
                .into_iter()
                .find_map(|x| match x {
                    weft_peer::Stats::OutboundRtp(o) if o.kind == "video" => Some(o),
                    _ => None,
                })
                .unwrap();
        assert_eq!(
            (out.pli_count, out.fir_count),
            if fir_only { (0, 1) } else { (1, 0) }
        );
    }
}

both_sctp_engines!(
    data_channel_opens_and_echoes,
    data_channel_with_ten_percent_loss,
    closing_a_channel_closes_it_on_both_sides,
);
