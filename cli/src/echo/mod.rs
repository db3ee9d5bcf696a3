//! `weft echo serve` and `weft echo client`: the "WebRTC echo" interop convention that
//! WebRTC stacks use to test each other (each stack ships a server peer and a client peer).
//!
//! - Signalling: one HTTP POST of a JSON `RTCSessionDescriptionInit`
//!   (`{"type":"offer","sdp":...}`) to `http://HOST:8080/offer`; the response body is the
//!   answer in the same form. Non-trickle: every candidate is inside the SDP (RFC 8829 §5.2
//!   and §5.3 descriptions carry the gathered candidates once gathering is complete).
//! - Test 0, peer connection: the server peer answers, ICE (RFC 8445) and DTLS (RFC 6347,
//!   RFC 5764) complete, and the RTP the client sends is sent back to it.
//! - Test 1, data channel echo: the client opens a data channel (RFC 8832), sends a short
//!   random string once it is open; the server sends the identical string back on it.
//! - The client exits 0 on success, 1 on failure or timeout.
//!
//! Both sides print one summary line of `key=value` fields: the selected ICE pair with
//! candidate types, the DTLS cipher, the SRTP profile, the time to `connected`, and the
//! echo's round-trip time (test 1) or the RTP packets echoed (test 0).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod client;
mod http;
mod serve;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use weft_peer::{PeerConnection, Stats};

pub use client::run as client;
pub use serve::run as serve;

/// What the summary line says of a connection, read from `getStats()`.
#[derive(Debug, Default, Clone)]
pub struct Transport {
    /// `local-address:port(type)->remote-address:port(type)` of the selected pair.
    pub pair: Option<String>,
    /// IANA name of the DTLS cipher suite.
    pub dtls_cipher: Option<String>,
    /// The SRTP protection profile.
    pub srtp_profile: Option<String>,
}

impl Transport {
    /// Reads the transport, selected pair and candidates from the core's stats.
    pub async fn of(pc: &PeerConnection) -> Transport {
        let stats = pc.with_rtc(|rtc| rtc.stats()).await.unwrap_or_default();
        let mut t = Transport::default();
        let Some(tr) = stats.iter().find_map(|s| match s {
            Stats::Transport(t) => Some(t),
            _ => None,
        }) else {
            return t;
        };
        t.dtls_cipher = tr.dtls_cipher.clone();
        t.srtp_profile = tr.srtp_cipher.clone();
        let pair = tr.selected_candidate_pair_id.as_ref().and_then(|id| {
            stats.iter().find_map(|s| match s {
                Stats::CandidatePair(p) if &p.id == id => Some(p),
                _ => None,
            })
        });
        let cand = |id: &str| {
            stats.iter().find_map(|s| match s {
                Stats::Candidate(c) if c.id == id => {
                    let addr = match c.address.parse::<IpAddr>() {
                        Ok(ip) => SocketAddr::new(ip, c.port).to_string(),
                        Err(_) => format!("{}:{}", c.address, c.port),
                    };
                    Some(format!("{addr}({})", c.candidate_type))
                }
                _ => None,
            })
        };
        if let Some(p) = pair {
            if let (Some(l), Some(r)) = (cand(&p.local_candidate_id), cand(&p.remote_candidate_id))
            {
                t.pair = Some(format!("{l}->{r}"));
            }
        }
        t
    }

    /// `pair=.. dtls=.. srtp=..` (`-` for what is not known).
    pub fn fields(&self) -> String {
        let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        format!(
            "pair={} dtls={} srtp={}",
            or(&self.pair),
            or(&self.dtls_cipher),
            or(&self.srtp_profile)
        )
    }
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// The JSON `RTCSessionDescriptionInit` of a description.
pub fn description_json(d: &weft_peer::SessionDescription) -> serde_json::Value {
    serde_json::json!({ "type": d.sdp_type.as_str(), "sdp": d.sdp })
}

/// Parses a JSON `RTCSessionDescriptionInit` whose `type` must be `want`.
pub fn parse_description(
    body: &[u8],
    want: weft_peer::SdpType,
) -> Result<weft_peer::SessionDescription, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let ty = v
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or("no \"type\" string")?;
    if weft_peer::SdpType::parse(ty) != Some(want) {
        return Err(format!(
            "expected \"type\": \"{}\", got {ty:?}",
            want.as_str()
        ));
    }
    let sdp = v
        .get("sdp")
        .and_then(|s| s.as_str())
        .ok_or("no \"sdp\" string")?;
    Ok(weft_peer::SessionDescription {
        sdp_type: want,
        sdp: sdp.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_peer::SdpType;

    #[test]
    fn descriptions_parse_and_refuse_by_cause() {
        let d = parse_description(br#"{"type":"offer","sdp":"v=0\r\n"}"#, SdpType::Offer);
        assert_eq!(d.map(|d| d.sdp), Ok("v=0\r\n".to_owned()));
        let e = |b: &[u8]| parse_description(b, SdpType::Offer).unwrap_err();
        assert!(e(b"{").starts_with("body is not JSON"));
        assert!(e(br#"{"sdp":"v=0"}"#).contains("no \"type\""));
        assert!(e(br#"{"type":"answer","sdp":"v=0"}"#).contains("expected \"type\": \"offer\""));
        assert!(e(br#"{"type":"offer","sdp":5}"#).contains("no \"sdp\""));
        let a = weft_peer::SessionDescription::answer("v=0\r\n");
        assert_eq!(
            description_json(&a),
            serde_json::json!({"type": "answer", "sdp": "v=0\r\n"})
        );
    }

    #[test]
    fn offer_url_adds_the_path_only_when_there_is_none() {
        let u = |s: &str| http::offer_url(s).map(|u| u.to_string());
        assert_eq!(u("http://h:8080"), Ok("http://h:8080/offer".to_owned()));
        assert_eq!(u("http://h:8080/"), Ok("http://h:8080/offer".to_owned()));
        assert_eq!(
            u("http://h:8080/x/offer"),
            Ok("http://h:8080/x/offer".to_owned())
        );
        assert!(u("https://h/offer").is_err());
        assert!(u("not a url").is_err());
    }
}
