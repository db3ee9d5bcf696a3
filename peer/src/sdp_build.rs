//! Building weft's own descriptions with the typed model of `weft-sdp` (RFC 8829 §5.2, §5.3).

use std::borrow::Cow;

use weft_dtls_srtp::cert::Fingerprint as DtlsFingerprint;
use weft_ice::{Candidate as IceCandidate, CandidateKind};
use weft_sdp::{
    Address, Attribute, Candidate, CandidateExtensions, CandidateTransport, CandidateType,
    Direction, Extmap, Fingerprint, Fmtp, Formats, Group, HashFunction, MediaDescription,
    MediaKind as SdpKind, Msid, MsidSemantic, RtcpFb, Rtpmap, Setup, SsrcAttribute, SsrcGroup,
};

use crate::codec::{Codec, MediaKind};

/// Transport attributes every section carries (RFC 8829 §5.2.1): ICE credentials and
/// options, the certificate fingerprint, the DTLS role.
pub(crate) struct TransportAttrs<'a> {
    pub ufrag: &'a str,
    pub pwd: &'a str,
    pub fingerprint: &'a DtlsFingerprint,
    pub setup: Setup,
}

fn s(v: impl Into<String>) -> Cow<'static, str> {
    Cow::Owned(v.into())
}

fn hash_function(name: &str) -> HashFunction<'static> {
    match name {
        "sha-1" => HashFunction::Sha1,
        "sha-224" => HashFunction::Sha224,
        "sha-256" => HashFunction::Sha256,
        "sha-384" => HashFunction::Sha384,
        "sha-512" => HashFunction::Sha512,
        other => HashFunction::Other(s(other)),
    }
}

fn transport(attrs: &mut Vec<Attribute<'static>>, t: &TransportAttrs<'_>) {
    attrs.push(Attribute::IceUfrag(s(t.ufrag)));
    attrs.push(Attribute::IcePwd(s(t.pwd)));
    // RFC 8840 §4.1.1: we take trickled candidates.
    attrs.push(Attribute::IceOptions(vec![Cow::Borrowed("trickle")]));
    attrs.push(Attribute::Fingerprint(Fingerprint {
        hash: hash_function(t.fingerprint.alg.name()),
        bytes: t.fingerprint.bytes.clone(),
    }));
    attrs.push(Attribute::Setup(t.setup));
}

/// What one audio or video section says.
pub(crate) struct RtpSection<'a> {
    pub kind: MediaKind,
    pub mid: &'a str,
    pub direction: Direction,
    pub codecs: &'a [Codec],
    pub mid_ext: Option<u8>,
    pub stream_id: &'a str,
    pub track_id: &'a str,
    pub cname: &'a str,
    /// (media SSRC, RTX SSRC when a codec has RTX), when we send.
    pub ssrcs: Option<(u32, Option<u32>)>,
}

/// An audio or video section, or a rejected one (port 0, RFC 8829 §5.3.1).
pub(crate) fn rtp_section(
    sec: &RtpSection<'_>,
    t: &TransportAttrs<'_>,
    rejected: bool,
) -> MediaDescription<'static> {
    let kind = match sec.kind {
        MediaKind::Audio => SdpKind::Audio,
        MediaKind::Video => SdpKind::Video,
    };
    let mut pts: Vec<u8> = Vec::new();
    for c in sec.codecs {
        pts.push(c.payload_type);
        pts.extend(c.rtx);
    }
    if pts.is_empty() {
        // An m= line needs a format; a rejected section keeps a placeholder.
        pts.push(if sec.kind == MediaKind::Audio { 0 } else { 96 });
    }
    // `new` gives the section its one `c=IN IP4 0.0.0.0` (RFC 8829 §5.2.1); a second would
    // be refused by Firefox ("c= line specified twice").
    let mut m = MediaDescription::new(kind, "UDP/TLS/RTP/SAVPF", Formats::Rtp(pts));
    m.port = if rejected { 0 } else { 9 };
    let a = &mut m.attributes;
    transport(a, t);
    a.push(Attribute::Mid(s(sec.mid)));
    if rejected {
        a.push(Attribute::Direction(Direction::Inactive));
        return m;
    }
    if let Some(id) = sec.mid_ext {
        a.push(Attribute::Extmap(Extmap {
            id: u16::from(id),
            direction: None,
            uri: Cow::Borrowed(crate::media::MID_URI),
            attributes: None,
        }));
    }
    a.push(Attribute::Direction(sec.direction));
    if sec.ssrcs.is_some() {
        a.push(Attribute::Msid(Msid {
            stream: s(sec.stream_id),
            track: Some(s(sec.track_id)),
        }));
    }
    // RFC 8843 §7.1.3 with RFC 5761: RTP and RTCP share the transport.
    a.push(Attribute::RtcpMux);
    a.push(Attribute::RtcpRsize);
    for c in sec.codecs {
        a.push(Attribute::Rtpmap(Rtpmap {
            payload_type: c.payload_type,
            encoding: Cow::Borrowed(c.name.as_str()),
            clock_rate: c.clock_rate,
            channels: c.channels,
        }));
        for fb in &c.feedback {
            let (kind, parameter) = match fb.split_once(' ') {
                Some((k, p)) => (s(k), Some(s(p))),
                None => (s(fb.as_str()), None),
            };
            a.push(Attribute::RtcpFb(RtcpFb {
                payload_type: Some(c.payload_type),
                kind,
                parameter,
            }));
        }
        if !c.fmtp.is_empty() {
            a.push(Attribute::Fmtp(Fmtp {
                payload_type: c.payload_type,
                parameters: c
                    .fmtp
                    .split(';')
                    .map(|p| match p.split_once('=') {
                        Some((k, v)) => weft_sdp::FmtpParameter {
                            key: s(k),
                            value: Some(s(v)),
                        },
                        None => weft_sdp::FmtpParameter {
                            key: s(p),
                            value: None,
                        },
                    })
                    .collect::<Vec<_>>()
                    .into(),
            }));
        }
        if let Some(rtx) = c.rtx {
            a.push(Attribute::Rtpmap(Rtpmap {
                payload_type: rtx,
                encoding: Cow::Borrowed("rtx"),
                clock_rate: c.clock_rate,
                channels: None,
            }));
            a.push(Attribute::Fmtp(Fmtp {
                payload_type: rtx,
                parameters: vec![weft_sdp::FmtpParameter {
                    key: Cow::Borrowed("apt"),
                    value: Some(s(c.payload_type.to_string())),
                }]
                .into(),
            }));
        }
    }
    if let Some((ssrc, rtx)) = sec.ssrcs {
        // RFC 5576 §4.2 and RFC 4588 §8.3: the RTX stream is paired by FID.
        if let Some(rtx) = rtx {
            a.push(Attribute::SsrcGroup(SsrcGroup {
                semantics: Cow::Borrowed("FID"),
                ssrcs: vec![ssrc, rtx],
            }));
        }
        for id in std::iter::once(ssrc).chain(rtx) {
            a.push(Attribute::Ssrc(SsrcAttribute {
                ssrc: id,
                attribute: Cow::Borrowed("cname"),
                value: Some(s(sec.cname)),
            }));
            a.push(Attribute::Ssrc(SsrcAttribute {
                ssrc: id,
                attribute: Cow::Borrowed("msid"),
                value: Some(s(format!("{} {}", sec.stream_id, sec.track_id))),
            }));
        }
    }
    m
}

/// The data channel section (RFC 8841 §5).
pub(crate) fn data_section(
    mid: &str,
    t: &TransportAttrs<'_>,
    max_message_size: u32,
    rejected: bool,
) -> MediaDescription<'static> {
    let mut m = MediaDescription::new(
        SdpKind::Application,
        "UDP/DTLS/SCTP",
        Formats::Other(vec![Cow::Borrowed("webrtc-datachannel")]),
    );
    m.port = if rejected { 0 } else { 9 };
    transport(&mut m.attributes, t);
    m.attributes.push(Attribute::Mid(s(mid)));
    if !rejected {
        m.attributes.push(Attribute::SctpPort(5000));
        m.attributes
            .push(Attribute::MaxMessageSize(u64::from(max_message_size)));
    }
    m
}

/// Session-level attributes: BUNDLE of every accepted mid (RFC 9143 §7.2), the WMS
/// msid-semantic browsers expect.
pub(crate) fn session_attributes(bundle: &[String]) -> Vec<Attribute<'static>> {
    let mut v = Vec::new();
    if !bundle.is_empty() {
        v.push(Attribute::Group(Group {
            semantics: Cow::Borrowed("BUNDLE"),
            mids: bundle.iter().map(|m| s(m.as_str())).collect(),
        }));
    }
    v.push(Attribute::MsidSemantic(MsidSemantic {
        semantic: Cow::Borrowed("WMS"),
        identifiers: vec![Cow::Borrowed("*")],
    }));
    v
}

/// An ICE candidate as an SDP attribute value model (RFC 8839 §5.1).
pub(crate) fn candidate(c: &IceCandidate, ufrag: &str) -> Candidate<'static> {
    let kind = match c.kind {
        CandidateKind::Host => CandidateType::Host,
        CandidateKind::ServerReflexive => CandidateType::ServerReflexive,
        CandidateKind::PeerReflexive => CandidateType::PeerReflexive,
        CandidateKind::Relayed => CandidateType::Relay,
    };
    let mut extensions = CandidateExtensions::default();
    extensions.push("generation", "0");
    extensions.push("ufrag", ufrag);
    Candidate {
        foundation: s(c.foundation.as_str()),
        component: c.component,
        transport: CandidateTransport::Udp,
        priority: c.priority,
        address: Address::Ip(c.addr.ip()),
        port: c.addr.port(),
        kind,
        related_address: c.related.map(|r| Address::Ip(r.ip())),
        related_port: c.related.map(|r| r.port()),
        tcp_type: None,
        extensions,
    }
}

/// A remote candidate from SDP, when it names an IP address (mDNS names are left to the
/// peer's own checks, which reveal the address as peer-reflexive, RFC 8445 §7.3.1.3).
pub(crate) fn ice_candidate(c: &Candidate<'_>) -> Option<IceCandidate> {
    if c.component != 1 || c.transport != CandidateTransport::Udp {
        return None;
    }
    let ip = match &c.address {
        Address::Ip(ip) => *ip,
        Address::Name(_) => return None,
    };
    let kind = match c.kind {
        CandidateType::Host => CandidateKind::Host,
        CandidateType::ServerReflexive => CandidateKind::ServerReflexive,
        CandidateType::PeerReflexive => CandidateKind::PeerReflexive,
        CandidateType::Relay => CandidateKind::Relayed,
        CandidateType::Other(_) => return None,
    };
    let addr = std::net::SocketAddr::new(ip, c.port);
    let mut cand = IceCandidate::remote(kind, addr, c.priority, c.foundation.as_ref());
    if let (Some(Address::Ip(rip)), Some(rport)) = (&c.related_address, c.related_port) {
        cand.related = Some(std::net::SocketAddr::new(*rip, rport));
    }
    Some(cand)
}
