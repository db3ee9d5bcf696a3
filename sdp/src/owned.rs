//! Detaching a parsed model from its input: every borrowed `Cow` becomes owned.

use std::borrow::Cow;

use crate::model::*;

pub(crate) trait IntoStatic {
    type Static;
    fn into_static(self) -> Self::Static;
}

impl IntoStatic for Str<'_> {
    type Static = Str<'static>;
    fn into_static(self) -> Str<'static> {
        Cow::Owned(self.into_owned())
    }
}

impl<T: IntoStatic> IntoStatic for Option<T> {
    type Static = Option<T::Static>;
    fn into_static(self) -> Self::Static {
        self.map(IntoStatic::into_static)
    }
}

impl<T: IntoStatic> IntoStatic for Vec<T> {
    type Static = Vec<T::Static>;
    fn into_static(self) -> Self::Static {
        self.into_iter().map(IntoStatic::into_static).collect()
    }
}

impl<T: IntoStatic> IntoStatic for Box<T> {
    type Static = Box<T::Static>;
    fn into_static(self) -> Self::Static {
        Box::new((*self).into_static())
    }
}

impl IntoStatic for FmtpParameters<'_> {
    type Static = FmtpParameters<'static>;
    fn into_static(self) -> Self::Static {
        self.into_owned()
    }
}

impl IntoStatic for CandidateExtensions<'_> {
    type Static = CandidateExtensions<'static>;
    fn into_static(self) -> Self::Static {
        self.into_owned()
    }
}

/// Implements `IntoStatic` for a struct by converting the listed fields and copying the rest.
macro_rules! detach_struct {
    ($ty:ident { $($f:ident),* } copy { $($c:ident),* }) => {
        impl IntoStatic for $ty<'_> {
            type Static = $ty<'static>;
            fn into_static(self) -> $ty<'static> {
                $ty { $($f: self.$f.into_static(),)* $($c: self.$c,)* }
            }
        }
    };
}

/// Implements `IntoStatic` for an enum whose only borrowing variant is `Other(Str)`.
macro_rules! detach_other_enum {
    ($ty:ident { $($v:ident),* }) => {
        impl IntoStatic for $ty<'_> {
            type Static = $ty<'static>;
            fn into_static(self) -> $ty<'static> {
                match self {
                    $($ty::$v => $ty::$v,)*
                    $ty::Other(o) => $ty::Other(o.into_static()),
                }
            }
        }
    };
}

detach_other_enum!(AddressType { Ip4, Ip6 });
detach_other_enum!(BandwidthType { As, Ct, Tias });
detach_other_enum!(MediaKind {
    Audio,
    Video,
    Application,
    Text,
    Message
});
detach_other_enum!(CandidateTransport { Udp, Tcp });
detach_other_enum!(CandidateType {
    Host,
    ServerReflexive,
    PeerReflexive,
    Relay
});
detach_other_enum!(HashFunction {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Md5,
    Md2
});

impl IntoStatic for Address<'_> {
    type Static = Address<'static>;
    fn into_static(self) -> Address<'static> {
        match self {
            Address::Ip(ip) => Address::Ip(ip),
            Address::Name(n) => Address::Name(n.into_static()),
        }
    }
}

impl IntoStatic for Formats<'_> {
    type Static = Formats<'static>;
    fn into_static(self) -> Formats<'static> {
        match self {
            Formats::Rtp(p) => Formats::Rtp(p),
            Formats::Other(o) => Formats::Other(o.into_static()),
        }
    }
}

detach_struct!(SessionDescription {
    origin, session_name, information, uri, emails, phones, connection, bandwidths, times,
    key, attributes, media
} copy {});
detach_struct!(Origin { username, net_type, address_type, address }
    copy { session_id, session_version });
detach_struct!(Connection { net_type, address_type, address } copy { ttl, count });
detach_struct!(Bandwidth { kind } copy { value });
detach_struct!(Timing { repeats, zone } copy { start, stop });
detach_struct!(MediaDescription {
    kind, protocol, formats, information, connections, bandwidths, key, attributes
} copy { port, port_count });
detach_struct!(Group { semantics, mids } copy {});
detach_struct!(MsidSemantic { semantic, identifiers } copy {});
detach_struct!(Msid { stream, track } copy {});
detach_struct!(Rtpmap { encoding } copy { payload_type, clock_rate, channels });
detach_struct!(Fmtp { parameters } copy { payload_type });
detach_struct!(RtcpFb { kind, parameter } copy { payload_type });
detach_struct!(Extmap { uri, attributes } copy { id, direction });
detach_struct!(SsrcAttribute { attribute, value } copy { ssrc });
detach_struct!(SsrcGroup { semantics } copy { ssrcs });
detach_struct!(Rid { id, restrictions } copy { direction, payload_types });
detach_struct!(Simulcast { lists } copy {});
detach_struct!(SimulcastList { streams } copy { direction });
detach_struct!(SimulcastRid { rid } copy { paused });
detach_struct!(Candidate {
    foundation, transport, address, kind, related_address, extensions
} copy { component, priority, port, related_port, tcp_type });
detach_struct!(Fingerprint { hash } copy { bytes });
detach_struct!(Rtcp { connection } copy { port });
detach_struct!(Sctpmap { protocol } copy { port, streams });

impl IntoStatic for Attribute<'_> {
    type Static = Attribute<'static>;
    fn into_static(self) -> Attribute<'static> {
        use Attribute as A;
        match self {
            A::Group(x) => A::Group(x.into_static()),
            A::MsidSemantic(x) => A::MsidSemantic(x.into_static()),
            A::Msid(x) => A::Msid(x.into_static()),
            A::Mid(x) => A::Mid(x.into_static()),
            A::Rtpmap(x) => A::Rtpmap(x.into_static()),
            A::Fmtp(x) => A::Fmtp(x.into_static()),
            A::RtcpFb(x) => A::RtcpFb(x.into_static()),
            A::Extmap(x) => A::Extmap(x.into_static()),
            A::ExtmapAllowMixed => A::ExtmapAllowMixed,
            A::Ssrc(x) => A::Ssrc(x.into_static()),
            A::SsrcGroup(x) => A::SsrcGroup(x.into_static()),
            A::Rid(x) => A::Rid(x.into_static()),
            A::Simulcast(x) => A::Simulcast(x.into_static()),
            A::Candidate(x) => A::Candidate(x.into_static()),
            A::EndOfCandidates => A::EndOfCandidates,
            A::IceUfrag(x) => A::IceUfrag(x.into_static()),
            A::IcePwd(x) => A::IcePwd(x.into_static()),
            A::IceOptions(x) => A::IceOptions(x.into_static()),
            A::IceLite => A::IceLite,
            A::Fingerprint(x) => A::Fingerprint(x.into_static()),
            A::Setup(x) => A::Setup(x),
            A::Rtcp(x) => A::Rtcp(x.into_static()),
            A::RtcpMux => A::RtcpMux,
            A::RtcpMuxOnly => A::RtcpMuxOnly,
            A::RtcpRsize => A::RtcpRsize,
            A::Direction(x) => A::Direction(x),
            A::SctpPort(x) => A::SctpPort(x),
            A::MaxMessageSize(x) => A::MaxMessageSize(x),
            A::Sctpmap(x) => A::Sctpmap(x.into_static()),
            A::SctpInit(x) => A::SctpInit(x.into_static()),
            A::Other { name, value } => A::Other {
                name: name.into_static(),
                value: value.into_static(),
            },
        }
    }
}
