//! The JSEP-oriented API (RFC 8829) over the model: look up media by mid, read the codecs of a
//! section, the ICE credentials, fingerprints and DTLS role that apply to it (media level
//! first, then session level), and build descriptions programmatically.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use crate::model::*;

/// ICE username fragment and password (RFC 8839 §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IceCredentials<'m> {
    pub ufrag: &'m str,
    pub pwd: &'m str,
}

impl<'a> SessionDescription<'a> {
    /// A description with the JSEP session-level defaults (RFC 8829 §5.2.1):
    /// `o=- <id> <version> IN IP4 127.0.0.1`, `s=-`, `t=0 0`, no attributes, no media.
    pub fn new(session_id: u64, session_version: u64) -> Self {
        SessionDescription {
            origin: Origin {
                username: Cow::Borrowed("-"),
                session_id,
                session_version,
                net_type: Cow::Borrowed("IN"),
                address_type: AddressType::Ip4,
                address: Address::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            },
            session_name: Cow::Borrowed("-"),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            times: vec![Timing {
                start: 0,
                stop: 0,
                repeats: Vec::new(),
                zone: None,
            }],
            key: None,
            attributes: Vec::new(),
            media: Vec::new(),
        }
    }

    /// Appends a session-level attribute.
    pub fn with_attribute(mut self, a: Attribute<'a>) -> Self {
        self.attributes.push(a);
        self
    }

    /// Appends a media section.
    pub fn with_media(mut self, m: MediaDescription<'a>) -> Self {
        self.media.push(m);
        self
    }

    /// The media section whose `a=mid` is `mid`.
    pub fn media_by_mid(&self, mid: &str) -> Option<&MediaDescription<'a>> {
        self.media.iter().find(|m| m.mid() == Some(mid))
    }

    /// Mutable access to the media section whose `a=mid` is `mid`.
    pub fn media_by_mid_mut(&mut self, mid: &str) -> Option<&mut MediaDescription<'a>> {
        self.media.iter_mut().find(|m| m.mid() == Some(mid))
    }

    /// `a=group:BUNDLE ...` groups (RFC 9143 §7.1), in order.
    pub fn bundle_groups(&self) -> impl Iterator<Item = &Group<'a>> {
        self.groups().filter(|g| g.semantics == "BUNDLE")
    }

    /// All `a=group` attributes.
    pub fn groups(&self) -> impl Iterator<Item = &Group<'a>> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Group(g) => Some(g),
            _ => None,
        })
    }

    /// `a=ice-lite` at session level (RFC 8839 §5.3).
    pub fn is_ice_lite(&self) -> bool {
        self.attributes.contains(&Attribute::IceLite)
    }

    /// The ICE credentials for `media`: its own, else the session's (RFC 8839 §5.4).
    pub fn ice_credentials<'s>(
        &'s self,
        media: &'s MediaDescription<'_>,
    ) -> Option<IceCredentials<'s>> {
        fn pick<'s>(attrs: &'s [Attribute<'_>]) -> (Option<&'s str>, Option<&'s str>) {
            let mut ufrag = None;
            let mut pwd = None;
            for a in attrs {
                match a {
                    Attribute::IceUfrag(u) => ufrag = ufrag.or(Some(u.as_ref())),
                    Attribute::IcePwd(p) => pwd = pwd.or(Some(p.as_ref())),
                    _ => {}
                }
            }
            (ufrag, pwd)
        }
        let (mu, mp) = pick(&media.attributes);
        let (su, sp) = pick(&self.attributes);
        Some(IceCredentials {
            ufrag: mu.or(su)?,
            pwd: mp.or(sp)?,
        })
    }

    /// `a=ice-options` tokens for `media`, else the session's (RFC 8839 §5.6).
    pub fn ice_options<'s>(&'s self, media: &'s MediaDescription<'_>) -> &'s [Str<'s>] {
        let find = |attrs: &'s [Attribute<'_>]| {
            attrs.iter().find_map(|a| match a {
                Attribute::IceOptions(o) => Some(o.as_slice()),
                _ => None,
            })
        };
        find(&media.attributes)
            .or_else(|| find(&self.attributes))
            .unwrap_or(&[])
    }

    /// The certificate fingerprints for `media`: its own if it has any, else the
    /// session's (RFC 8122 §5).
    pub fn fingerprints<'s>(
        &'s self,
        media: &'s MediaDescription<'_>,
    ) -> impl Iterator<Item = &'s Fingerprint<'s>> {
        let has_own = media
            .attributes
            .iter()
            .any(|a| matches!(a, Attribute::Fingerprint(_)));
        let attrs = if has_own {
            &media.attributes
        } else {
            &self.attributes
        };
        attrs.iter().filter_map(|a| match a {
            Attribute::Fingerprint(f) => Some(f),
            _ => None,
        })
    }

    /// `a=setup` for `media`, else the session's (RFC 8842 §5.1).
    pub fn setup(&self, media: &MediaDescription<'_>) -> Option<Setup> {
        let find = |attrs: &[Attribute<'_>]| {
            attrs.iter().find_map(|a| match a {
                Attribute::Setup(s) => Some(*s),
                _ => None,
            })
        };
        find(&media.attributes).or_else(|| find(&self.attributes))
    }

    /// The direction of `media`: its own attribute, else the session's, else `sendrecv`
    /// (RFC 8866 §6.7).
    pub fn direction(&self, media: &MediaDescription<'_>) -> Direction {
        media
            .own_direction()
            .or_else(|| {
                self.attributes.iter().find_map(|a| match a {
                    Attribute::Direction(d) => Some(*d),
                    _ => None,
                })
            })
            .unwrap_or(Direction::SendRecv)
    }

    /// Detaches the description from the text it was parsed from.
    pub fn into_owned(self) -> SessionDescription<'static> {
        crate::owned::IntoStatic::into_static(self)
    }
}

/// A codec of a media section: its `rtpmap` (or the RFC 3551 static assignment), `fmtp`
/// and `rtcp-fb` lines, gathered by payload type.
#[derive(Debug, Clone, Copy)]
pub struct Codec<'m, 'a> {
    media: &'m MediaDescription<'a>,
    pub payload_type: u8,
    rtpmap: Option<&'m Rtpmap<'a>>,
}

/// RFC 3551 §6: static payload types, for sections that list them without `a=rtpmap`.
fn static_payload(pt: u8) -> Option<(&'static str, u32, Option<u16>)> {
    Some(match pt {
        0 => ("PCMU", 8000, Some(1)),
        3 => ("GSM", 8000, Some(1)),
        4 => ("G723", 8000, Some(1)),
        8 => ("PCMA", 8000, Some(1)),
        9 => ("G722", 8000, Some(1)),
        13 => ("CN", 8000, Some(1)),
        18 => ("G729", 8000, Some(1)),
        26 => ("JPEG", 90000, None),
        31 => ("H261", 90000, None),
        34 => ("H263", 90000, None),
        _ => return None,
    })
}

impl<'m, 'a> Codec<'m, 'a> {
    /// Encoding name as written (`opus`, `VP8`, `H264`, `rtx`, ...); `None` for a dynamic
    /// payload type with no `a=rtpmap`.
    pub fn name(&self) -> Option<&'m str> {
        match self.rtpmap {
            Some(r) => Some(&r.encoding),
            None => static_payload(self.payload_type).map(|s| s.0),
        }
    }

    pub fn clock_rate(&self) -> Option<u32> {
        match self.rtpmap {
            Some(r) => Some(r.clock_rate),
            None => static_payload(self.payload_type).map(|s| s.1),
        }
    }

    pub fn channels(&self) -> Option<u16> {
        match self.rtpmap {
            Some(r) => r.channels,
            None => static_payload(self.payload_type).and_then(|s| s.2),
        }
    }

    pub fn rtpmap(&self) -> Option<&'m Rtpmap<'a>> {
        self.rtpmap
    }

    /// The `a=fmtp` for this payload type.
    pub fn fmtp(&self) -> Option<&'m Fmtp<'a>> {
        self.media.attributes.iter().find_map(|a| match a {
            Attribute::Fmtp(f) if f.payload_type == self.payload_type => Some(f),
            _ => None,
        })
    }

    /// `a=rtcp-fb` lines for this payload type, including `*` ones (RFC 4585 §4.2).
    pub fn feedback(&self) -> impl Iterator<Item = &'m RtcpFb<'a>> + use<'m, 'a> {
        let pt = self.payload_type;
        self.media.attributes.iter().filter_map(move |a| match a {
            Attribute::RtcpFb(f) if f.payload_type.is_none_or(|p| p == pt) => Some(f),
            _ => None,
        })
    }

    /// For `rtx`, `red`, `ulpfec`-style codecs that point at another: the `apt` of the
    /// fmtp (RFC 4588 §8.1).
    pub fn apt(&self) -> Option<u8> {
        self.fmtp().and_then(|f| f.apt())
    }
}

impl<'a> MediaDescription<'a> {
    /// A section with the JSEP defaults (RFC 8829 §5.2.1): port 9, `c=IN IP4 0.0.0.0`.
    pub fn new(kind: MediaKind<'a>, protocol: impl Into<Str<'a>>, formats: Formats<'a>) -> Self {
        MediaDescription {
            kind,
            port: 9,
            port_count: None,
            protocol: protocol.into(),
            formats,
            information: None,
            connections: vec![Connection {
                net_type: Cow::Borrowed("IN"),
                address_type: AddressType::Ip4,
                address: Address::Ip(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                ttl: None,
                count: None,
            }],
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        }
    }

    /// Appends an attribute.
    pub fn with_attribute(mut self, a: Attribute<'a>) -> Self {
        self.attributes.push(a);
        self
    }

    /// `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Mid(m) => Some(m.as_ref()),
            _ => None,
        })
    }

    /// The direction attribute of this section itself, if it has one.
    pub fn own_direction(&self) -> Option<Direction> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Direction(d) => Some(*d),
            _ => None,
        })
    }

    /// Port 0: the section is rejected or stopped (RFC 8829 §5.2.2), unless it is
    /// `bundle-only` (RFC 9143 §6).
    pub fn is_rejected(&self) -> bool {
        self.port == 0
            && !self
                .attributes
                .iter()
                .any(|a| matches!(a, Attribute::Other { name, .. } if name == "bundle-only"))
    }

    /// The codecs, in the preference order of the `m=` line.
    pub fn codecs(&self) -> impl Iterator<Item = Codec<'_, 'a>> {
        let pts: &[u8] = match &self.formats {
            Formats::Rtp(p) => p,
            Formats::Other(_) => &[],
        };
        pts.iter().map(move |&pt| Codec {
            media: self,
            payload_type: pt,
            rtpmap: self.attributes.iter().find_map(|a| match a {
                Attribute::Rtpmap(r) if r.payload_type == pt => Some(r),
                _ => None,
            }),
        })
    }

    /// The codec for one payload type, if the `m=` line lists it.
    pub fn codec(&self, payload_type: u8) -> Option<Codec<'_, 'a>> {
        self.codecs().find(|c| c.payload_type == payload_type)
    }

    pub fn candidates(&self) -> impl Iterator<Item = &Candidate<'a>> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Candidate(c) => Some(&**c),
            _ => None,
        })
    }

    /// `a=end-of-candidates` (RFC 8840 §8.2).
    pub fn end_of_candidates(&self) -> bool {
        self.attributes.contains(&Attribute::EndOfCandidates)
    }

    pub fn extmaps(&self) -> impl Iterator<Item = &Extmap<'a>> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Extmap(e) => Some(e),
            _ => None,
        })
    }

    /// The extension id negotiated for `uri` (RFC 8285 §8).
    pub fn extmap_id(&self, uri: &str) -> Option<u16> {
        self.extmaps().find(|e| e.uri == uri).map(|e| e.id)
    }

    pub fn msid(&self) -> Option<&Msid<'a>> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Msid(m) => Some(m),
            _ => None,
        })
    }

    pub fn ssrc_attributes(&self) -> impl Iterator<Item = &SsrcAttribute<'a>> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Ssrc(s) => Some(s),
            _ => None,
        })
    }

    pub fn ssrc_groups(&self) -> impl Iterator<Item = &SsrcGroup<'a>> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::SsrcGroup(g) => Some(g),
            _ => None,
        })
    }

    pub fn rids(&self) -> impl Iterator<Item = &Rid<'a>> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Rid(r) => Some(&**r),
            _ => None,
        })
    }

    pub fn simulcast(&self) -> Option<&Simulcast<'a>> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Simulcast(s) => Some(s),
            _ => None,
        })
    }

    /// `a=sctp-port` (RFC 8841 §5), or the port of a legacy `a=sctpmap`.
    pub fn sctp_port(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::SctpPort(p) => Some(*p),
            Attribute::Sctpmap(m) => Some(m.port),
            _ => None,
        })
    }

    /// `a=max-message-size` (RFC 8841 §6). Absent means 64 KiB (RFC 8841 §6.1).
    pub fn max_message_size(&self) -> Option<u64> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::MaxMessageSize(n) => Some(*n),
            _ => None,
        })
    }

    pub fn has_rtcp_mux(&self) -> bool {
        self.attributes.contains(&Attribute::RtcpMux)
    }

    /// Another attribute by name (typed ones included), for attributes not modelled here.
    pub fn other_attribute(&self, name: &str) -> Option<Option<&str>> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Other { name: n, value } if n == name => Some(value.as_deref()),
            _ => None,
        })
    }
}

impl<'a> Fmtp<'a> {
    /// The value of `key=value`; `Some("")` for `key=`, `None` when absent or bare.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.parameters
            .as_str()
            .split(';')
            .find_map(|p| match p.split_once('=') {
                Some((k, v)) if k.eq_ignore_ascii_case(key) => Some(Some(v)),
                None if p.eq_ignore_ascii_case(key) => Some(None),
                _ => None,
            })
            .flatten()
    }

    fn get_num<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|v| v.trim().parse().ok())
    }

    /// H.264 `profile-level-id`, three bytes in hex (RFC 6184 §8.1).
    pub fn profile_level_id(&self) -> Option<u32> {
        let v = self.get("profile-level-id")?;
        if v.len() != 6 {
            return None;
        }
        u32::from_str_radix(v, 16).ok()
    }

    /// H.264 `packetization-mode` (RFC 6184 §8.1); absent means 0.
    pub fn packetization_mode(&self) -> Option<u8> {
        self.get_num("packetization-mode")
    }

    /// H.264 `level-asymmetry-allowed` (RFC 6184 §8.1).
    pub fn level_asymmetry_allowed(&self) -> Option<bool> {
        self.get_num::<u8>("level-asymmetry-allowed")
            .map(|v| v == 1)
    }

    /// `apt`, the associated payload type of RTX (RFC 4588 §8.1).
    pub fn apt(&self) -> Option<u8> {
        self.get_num("apt")
    }

    /// VP9 `profile-id`.
    pub fn profile_id(&self) -> Option<u8> {
        self.get_num("profile-id")
    }

    /// AV1 `profile`.
    pub fn profile(&self) -> Option<u8> {
        self.get_num("profile")
    }

    /// H.265 `level-id` (RFC 7798 §7.1).
    pub fn level_id(&self) -> Option<u8> {
        self.get_num("level-id")
    }

    /// Opus `minptime` (RFC 7587 §6.1).
    pub fn minptime(&self) -> Option<u32> {
        self.get_num("minptime")
    }

    /// Opus `useinbandfec` (RFC 7587 §6.1).
    pub fn useinbandfec(&self) -> Option<bool> {
        self.get_num::<u8>("useinbandfec").map(|v| v == 1)
    }

    /// Opus `stereo` (RFC 7587 §6.1).
    pub fn stereo(&self) -> Option<bool> {
        self.get_num::<u8>("stereo").map(|v| v == 1)
    }

    /// The bare values (no `=`), such as RED's `111/111` or telephone-event's `0-15`.
    pub fn bare_values(&self) -> impl Iterator<Item = &str> {
        self.parameters
            .as_str()
            .split(';')
            .filter(|p| !p.is_empty() && !p.contains('='))
    }
}

impl Address<'_> {
    /// An address from text: an IP literal becomes [`Address::Ip`], anything else a name.
    pub fn from_text(s: &str) -> Address<'_> {
        crate::parse::address(s)
    }

    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Address::Ip(ip) => Some(*ip),
            Address::Name(_) => None,
        }
    }

    /// An mDNS name (`<uuid>.local`), as browsers write to hide host addresses.
    pub fn is_mdns(&self) -> bool {
        matches!(self, Address::Name(n) if n.ends_with(".local"))
    }
}

impl Candidate<'_> {
    /// An extension value by name, e.g. `generation`, `network-id`, `ufrag`.
    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions.get(name)
    }

    /// Detaches the candidate from the text it was parsed from.
    pub fn into_owned(self) -> Candidate<'static> {
        crate::owned::IntoStatic::into_static(self)
    }
}
