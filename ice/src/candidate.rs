//! Candidates (RFC 8445 §5.1): their kinds, priorities and foundations.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The candidate types of RFC 8445 §5.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CandidateKind {
    /// An address of a local interface (RFC 8445 §5.1.1.1).
    Host,
    /// The address a STUN server saw (RFC 8445 §5.1.1.2).
    ServerReflexive,
    /// An address learned from a connectivity check (RFC 8445 §7.2.5.3.1, §7.3.1.3).
    PeerReflexive,
    /// An address allocated on a TURN server (RFC 8445 §5.1.1.2, RFC 8656).
    Relayed,
}

impl CandidateKind {
    /// The recommended type preference (RFC 8445 §5.1.2.2).
    pub const fn type_preference(self) -> u32 {
        match self {
            CandidateKind::Host => 126,
            CandidateKind::PeerReflexive => 110,
            CandidateKind::ServerReflexive => 100,
            CandidateKind::Relayed => 0,
        }
    }

    /// The SDP name (RFC 8839 §5.1): `host`, `srflx`, `prflx`, `relay`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::Relayed => "relay",
        }
    }
}

impl fmt::Display for CandidateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A candidate, local or remote. Only UDP, component 1 (WebRTC multiplexes RTP and RTCP,
/// RFC 8843 and RFC 5761).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// Its type.
    pub kind: CandidateKind,
    /// The transport address checks go to.
    pub addr: SocketAddr,
    /// The base (RFC 8445 §5.1.1.3): the address a host or server-reflexive candidate
    /// sends from; for a relayed candidate, the candidate itself. Unknown for remote
    /// candidates, where it equals `addr`.
    pub base: SocketAddr,
    /// RFC 8445 §5.1.2.
    pub priority: u32,
    /// RFC 8445 §5.1.1.3: equal for candidates of the same type, base IP and server.
    pub foundation: String,
    /// Always 1 here.
    pub component: u16,
    /// `raddr`/`rport` of SDP (RFC 8839 §5.1): the base of a reflexive candidate, the
    /// mapped address of a relayed one.
    pub related: Option<SocketAddr>,
}

impl Candidate {
    /// A remote candidate as signalled: the base is taken as the address.
    pub fn remote(
        kind: CandidateKind,
        addr: SocketAddr,
        priority: u32,
        foundation: impl Into<String>,
    ) -> Self {
        Candidate {
            kind,
            addr,
            base: addr,
            priority,
            foundation: foundation.into(),
            component: 1,
            related: None,
        }
    }

    /// A remote host candidate with the recommended priority for its family.
    pub fn remote_host(addr: SocketAddr, foundation: impl Into<String>) -> Self {
        let lp = local_preference(addr.ip(), 0);
        Candidate::remote(
            CandidateKind::Host,
            addr,
            priority(CandidateKind::Host.type_preference(), lp, 1),
            foundation,
        )
    }

    /// The value of an SDP `a=candidate:` attribute (RFC 8839 §5.1), without the
    /// `candidate:` prefix's `a=`.
    pub fn to_sdp(&self) -> String {
        let mut s = format!(
            "candidate:{} {} udp {} {} {} typ {}",
            self.foundation,
            self.component,
            self.priority,
            self.addr.ip(),
            self.addr.port(),
            self.kind
        );
        if let Some(r) = self.related {
            s.push_str(&format!(" raddr {} rport {}", r.ip(), r.port()));
        }
        s
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} (prio {})", self.kind, self.addr, self.priority)
    }
}

/// RFC 8445 §5.1.2.1: priority = 2^24 × type preference + 2^8 × local preference +
/// (256 − component ID).
pub const fn priority(type_preference: u32, local_preference: u32, component: u16) -> u32 {
    (type_preference << 24) + ((local_preference & 0xFFFF) << 8) + (256 - component as u32)
}

/// Local preference (RFC 8445 §5.1.2.1) of an address: IPv6 above IPv4 (RFC 8421 §4
/// prefers IPv6 when both work), link-local and loopback below routable addresses, then
/// the order the driver handed the addresses in (`index` 0 is the most preferred), so a
/// multi-homed host's candidates get distinct, stable preferences.
pub fn local_preference(ip: IpAddr, index: usize) -> u32 {
    let family: u32 = match ip {
        IpAddr::V6(v6) if v6.is_loopback() || (v6.segments()[0] & 0xffc0) == 0xfe80 => 40_000,
        IpAddr::V6(_) => 60_000,
        IpAddr::V4(v4) if v4.is_loopback() || v4.is_link_local() => 30_000,
        IpAddr::V4(_) => 50_000,
    };
    let step = u32::try_from(index.min(900)).unwrap_or(900) * 10;
    family - step
}

/// RFC 8445 §6.1.2.3: pair priority = 2^32 × MIN(G,D) + 2 × MAX(G,D) + (G > D ? 1 : 0),
/// G the controlling agent's candidate priority, D the controlled agent's.
pub const fn pair_priority(controlling: u32, controlled: u32) -> u64 {
    let (g, d) = (controlling as u64, controlled as u64);
    let (min, max) = if g < d { (g, d) } else { (d, g) };
    (min << 32) + 2 * max + if g > d { 1 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8445_priority_formula() {
        // RFC 8445 §5.1.2.1 with the recommended host type preference, local preference
        // 65535, component 1: 126 << 24 | 65535 << 8 | 255.
        assert_eq!(priority(126, 65535, 1), 2_130_706_431);
        assert_eq!(priority(0, 0, 1), 255);
        // Chromium's host candidate priority for its first IPv4 interface.
        assert_eq!(priority(126, 32542, 1), 2_122_260_223);
    }

    #[test]
    fn rfc8445_pair_priority_is_symmetric_up_to_the_tie_bit() {
        let a = pair_priority(10, 20);
        let b = pair_priority(20, 10);
        assert_eq!(a + 1, b);
        assert_eq!(pair_priority(5, 5), (5 << 32) + 10);
        // The minimum dominates while the maximum stays below 2^31.
        assert!(pair_priority(1_000_000, 2) < pair_priority(3, 3));
        // RFC 8445 §6.1.2.3 example magnitudes: a host/host pair beats host/relay.
        let host = priority(126, 65535, 1);
        let relay = priority(0, 65535, 1);
        assert!(pair_priority(host, host) > pair_priority(host, relay));
    }

    #[test]
    fn local_preferences_order_families_and_interfaces() {
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let ll: IpAddr = "fe80::1".parse().unwrap();
        assert!(local_preference(v6, 0) > local_preference(v4, 0));
        assert!(local_preference(v4, 0) > local_preference(v4, 1));
        assert!(local_preference(v4, 5) > local_preference(ll, 0));
        assert!(local_preference(v6, 10_000) <= 0xFFFF);
    }

    #[test]
    fn sdp_form() {
        let c = Candidate {
            kind: CandidateKind::ServerReflexive,
            addr: "203.0.113.7:50000".parse().unwrap(),
            base: "10.0.0.2:5000".parse().unwrap(),
            priority: 1_686_052_607,
            foundation: "2".into(),
            component: 1,
            related: Some("10.0.0.2:5000".parse().unwrap()),
        };
        assert_eq!(
            c.to_sdp(),
            "candidate:2 1 udp 1686052607 203.0.113.7 50000 typ srflx raddr 10.0.0.2 rport 5000"
        );
    }
}
