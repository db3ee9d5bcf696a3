//! Fuzz harness bodies, driven by the targets in `fuzz/` and replayed by the crate's tests.
//! Each must never panic, whatever the bytes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_dtls_srtp::cert::Certificate;

use crate::{
    ChannelOptions, IceCandidateInit, Input, MediaKind, OfferOptions, Rtc, RtcConfig,
    SessionDescription,
};

const HOST: &str = "10.0.0.1:5000";

fn rtc(start: Instant, cert: &Arc<Certificate>) -> Rtc {
    let mut r = Rtc::new(start, RtcConfig::new(cert.clone()), [3; 32]);
    if let Ok(a) = HOST.parse() {
        r.add_host_address(a);
    }
    r
}

fn drain(r: &mut Rtc) -> usize {
    let mut n = 0;
    while r.poll_output().is_some() {
        n += 1;
    }
    n
}

/// The first byte picks the role; the rest is a remote description: an offer that weft
/// answers, or an answer to weft's offer (a data channel, audio and video). Lines starting
/// with `candidate:` are also trickled in. Afterwards the connection is driven a little.
pub fn description(start: Instant, cert: &Arc<Certificate>, data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest).into_owned();
    let mut r = rtc(start, cert);
    if mode & 1 == 0 {
        if r.set_remote_description(SessionDescription::offer(text.clone()))
            .is_ok()
        {
            if let Ok(answer) = r.create_answer() {
                let _ = r.set_local_description(answer);
            }
        }
    } else {
        let _ = r.create_data_channel("fuzz", ChannelOptions::default());
        r.add_track(MediaKind::Audio, "s", "a");
        r.add_track(MediaKind::Video, "s", "v");
        if let Ok(offer) = r.create_offer(OfferOptions::default()) {
            let _ = r.set_local_description(offer);
        }
        let _ = r.set_remote_description(SessionDescription::answer(text.clone()));
    }
    for line in text
        .lines()
        .filter(|l| l.starts_with("candidate:"))
        .take(50)
    {
        let _ = r.add_ice_candidate(IceCandidateInit {
            candidate: line.to_owned(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        });
    }
    let _ = r.local_description();
    let _ = r.stats();
    let mut now = start;
    for _ in 0..5 {
        drain(&mut r);
        now += Duration::from_millis(100);
        r.handle_timeout(now);
    }
    drain(&mut r);
}

/// A fixed Chromium-shaped offer weft answers, then datagrams cut from the input (two
/// length bytes, two source-port bytes, the payload) arrive, with the clock moving: the
/// RFC 7983 demultiplexer, ICE and whatever they pass on meet arbitrary bytes.
pub fn datagrams(start: Instant, cert: &Arc<Certificate>, data: &[u8]) {
    let mut r = rtc(start, cert);
    if r.set_remote_description(SessionDescription::offer(OFFER))
        .is_err()
    {
        return;
    }
    if let Ok(answer) = r.create_answer() {
        let _ = r.set_local_description(answer);
    }
    drain(&mut r);
    let Ok(local) = HOST.parse::<SocketAddr>() else {
        return;
    };
    let mut now = start;
    let mut rest = data;
    while rest.len() >= 4 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])) % 1500;
        let port = u16::from_be_bytes([rest[2], rest[3]]);
        rest = &rest[4..];
        let take = len.min(rest.len());
        let (bytes, tail) = rest.split_at(take);
        rest = tail;
        let src = SocketAddr::from(([10, 0, 0, 2], port));
        r.handle_input(now, Input::Receive { local, src, bytes });
        drain(&mut r);
        now += Duration::from_millis(u64::from(port % 50));
        if r.poll_timeout().is_some_and(|t| t <= now) {
            r.handle_timeout(now);
            drain(&mut r);
        }
    }
}

/// A data channel offer as Chromium writes it, with a host candidate at 10.0.0.2:9000.
const OFFER: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=msid-semantic: WMS\r\n\
m=application 9000 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 10.0.0.2\r\n\
a=candidate:1 1 udp 2122260223 10.0.0.2 9000 typ host generation 0\r\n\
a=ice-ufrag:fuzz\r\n\
a=ice-pwd:fuzzfuzzfuzzfuzzfuzzfuzz\r\n\
a=ice-options:trickle\r\n\
a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sctp-port:5000\r\n\
a=max-message-size:262144\r\n";
