//! The writer: canonical SDP with CRLF line endings.
//!
//! The canonical form is the one browsers write, so a description parsed from a browser
//! writes back byte for byte. Case-insensitive tokens (candidate transport, hash function
//! names) are written in lower case; fingerprints in upper-case hex.

use std::fmt;
use std::net::IpAddr;

use crate::model::*;

/// Builds the text: owns the output while writing, so that its length is one field of a
/// local value rather than behind a second reference on every append.
struct W {
    out: String,
}

/// `0` to `999`, each in a cell of four bytes: the digits, then spaces (`"0   "`,
/// `"96  "`, `"111 "`), so that a small number is a table load and a one-byte append per
/// digit, with no division; the space after the digits serves [`W::n_sp`].
// Built at compile time, every index below the length.
#[allow(clippy::indexing_slicing)]
static CELLS: [u8; 4000] = {
    let mut t = [b' '; 4000];
    let mut v = 0;
    while v < 1000 {
        let (h, d, u) = ((v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8);
        let at = 4 * v;
        if v >= 100 {
            t[at] = b'0' + h;
            t[at + 1] = b'0' + d;
            t[at + 2] = b'0' + u;
        } else if v >= 10 {
            t[at] = b'0' + d;
            t[at + 1] = b'0' + u;
        } else {
            t[at] = b'0' + u;
        }
        v += 1;
    }
    t
};

/// Every byte as two upper-case hex digits and a `:` (RFC 8122 §5 fingerprints).
// Built at compile time, every index below the length.
#[allow(clippy::indexing_slicing)]
static HEX_CELLS: &str = {
    const BYTES: [u8; 768] = {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut t = [b':'; 768];
        let mut v = 0;
        while v < 256 {
            t[3 * v] = HEX[v >> 4];
            t[3 * v + 1] = HEX[v & 15];
            v += 1;
        }
        t
    };
    match std::str::from_utf8(&BYTES) {
        Ok(s) => s,
        Err(_) => "",
    }
};

impl W {
    #[inline(always)]
    fn s(&mut self, s: &str) -> &mut Self {
        self.out.push_str(s);
        self
    }

    /// One character; every call passes a constant, so this folds to a one-byte copy
    /// (`String::push` did not inline).
    #[inline(always)]
    fn c(&mut self, c: char) -> &mut Self {
        self.out.push_str(c.encode_utf8(&mut [0; 4]));
        self
    }

    /// One ASCII byte: masked to seven bits, so the encoding folds to a one-byte copy.
    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.out
            .push_str(char::from(b & 0x7f).encode_utf8(&mut [0; 4]));
    }

    /// A number below 1000 from [`CELLS`], followed by `pad` of the cell's spaces (0 or 1):
    /// each digit is a table load and a one-byte append, with no division.
    #[inline(always)]
    fn small(&mut self, v: u64, pad: usize) {
        let at = 4 * (v as usize % 1000);
        let cell = CELLS.get(at..at + 4).unwrap_or(b"0   ");
        let (d0, d1, d2, d3) = match *cell {
            [a, b, c, d] => (a, b, c, d),
            _ => (b'0', b' ', b' ', b' '),
        };
        self.byte(d0);
        if v >= 10 {
            self.byte(d1);
        }
        if v >= 100 {
            self.byte(d2);
        }
        if pad > 0 {
            // The byte after the digits is a space in every cell.
            self.byte(match v {
                0..10 => d1,
                10..100 => d2,
                _ => d3,
            });
        }
    }

    /// An integer in decimal. Most numbers in SDP (payload types, ids, ports of 9) are
    /// below 1000 and come from [`CELLS`]; the rest go through itoa.
    #[inline(always)]
    fn n<I: itoa::Integer + Into<u64> + Copy>(&mut self, n: I) -> &mut Self {
        let v: u64 = n.into();
        if v < 1000 {
            self.small(v, 0);
        } else {
            self.out.push_str(itoa::Buffer::new().format(n));
        }
        self
    }

    /// An integer and a space.
    #[inline(always)]
    fn n_sp<I: itoa::Integer + Into<u64> + Copy>(&mut self, n: I) -> &mut Self {
        let v: u64 = n.into();
        if v < 1000 {
            self.small(v, 1);
        } else {
            self.out.push_str(itoa::Buffer::new().format(n));
            self.c(' ');
        }
        self
    }

    /// IPv6 text as RFC 5952 §4 recommends (lower case, no leading zeros, the longest run
    /// of two or more zero groups as `::`, the first on a tie), and `::ffff:a.b.c.d` for
    /// IPv4-mapped addresses (§5): the same text as std's `Display`, without the formatting
    /// machinery.
    fn ipv6(&mut self, v6: &std::net::Ipv6Addr) -> &mut Self {
        if let Some(v4) = v6.to_ipv4_mapped() {
            self.s("::ffff:");
            return self.ip(&IpAddr::V4(v4));
        }
        let groups = v6.segments();
        // RFC 5952 §4.2.2/§4.2.3: the longest run of zero groups, at least two long.
        let mut best: Option<(usize, usize)> = None;
        let mut k = 0;
        while k < 8 {
            if groups.get(k) == Some(&0) {
                let start = k;
                while groups.get(k) == Some(&0) {
                    k += 1;
                }
                if k - start >= 2 && best.is_none_or(|(_, len)| k - start > len) {
                    best = Some((start, k - start));
                }
            } else {
                k += 1;
            }
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut k = 0;
        while k < 8 {
            match best {
                Some((at, len)) if k == at => {
                    self.s("::");
                    k += len;
                    continue;
                }
                Some((at, len)) if k == at + len => {}
                _ if k > 0 => {
                    self.c(':');
                }
                _ => {}
            }
            let g = groups.get(k).copied().unwrap_or(0);
            let mut started = false;
            for shift in [12u16, 8, 4, 0] {
                let nibble = usize::from((g >> shift) & 0xf);
                if started || nibble != 0 || shift == 0 {
                    started = true;
                    self.c(HEX.get(nibble).map_or('0', |&h| char::from(h)));
                }
            }
            k += 1;
        }
        self
    }

    #[inline]
    fn crlf(&mut self) {
        self.out.push_str("\r\n");
    }

    fn ip(&mut self, ip: &IpAddr) -> &mut Self {
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, c, d] = v4.octets();
                self.n(a).c('.').n(b).c('.').n(c).c('.').n(d)
            }
            IpAddr::V6(v6) => self.ipv6(v6),
        }
    }

    fn address(&mut self, a: &Address<'_>) -> &mut Self {
        match a {
            Address::Ip(ip) => self.ip(ip),
            Address::Name(n) => self.s(n),
        }
    }

    fn address_type(&mut self, t: &AddressType<'_>) -> &mut Self {
        match t {
            AddressType::Ip4 => self.s("IP4"),
            AddressType::Ip6 => self.s("IP6"),
            AddressType::Other(o) => self.s(o),
        }
    }

    fn connection_value(&mut self, c: &Connection<'_>) -> &mut Self {
        self.s(&c.net_type)
            .c(' ')
            .address_type(&c.address_type)
            .c(' ');
        self.address(&c.address);
        if let Some(ttl) = c.ttl {
            self.c('/').n(ttl);
        }
        if let Some(count) = c.count {
            self.c('/').n(count);
        }
        self
    }

    fn line(&mut self, prefix: &str, value: &str) {
        self.s(prefix).s(value).crlf();
    }

    fn bandwidth(&mut self, bw: &Bandwidth<'_>) {
        self.s("b=");
        match &bw.kind {
            BandwidthType::As => self.s("AS"),
            BandwidthType::Ct => self.s("CT"),
            BandwidthType::Tias => self.s("TIAS"),
            BandwidthType::Other(o) => self.s(o),
        };
        self.c(':').n(bw.value).crlf();
    }

    fn direction(&mut self, d: Direction) -> &mut Self {
        self.s(d.as_str())
    }

    fn rid_direction(&mut self, d: RidDirection) -> &mut Self {
        self.s(d.as_str())
    }

    fn candidate_value(&mut self, c: &Candidate<'_>) {
        self.s(&c.foundation).c(' ').n_sp(c.component);
        self.s(c.transport.as_str());
        self.c(' ').n_sp(c.priority).address(&c.address);
        self.c(' ').n(c.port).s(" typ ");
        self.s(c.kind.as_str());
        if let Some(a) = &c.related_address {
            self.s(" raddr ").address(a);
        }
        if let Some(p) = c.related_port {
            self.s(" rport ").n(p);
        }
        if let Some(t) = c.tcp_type {
            self.s(" tcptype ").s(t.as_str());
        }
        if !c.extensions.is_empty() {
            self.c(' ').s(c.extensions.as_str());
        }
    }

    /// Every attribute of a section, each on its line: one loop with the writer of each
    /// kind inlined in it.
    fn attributes(&mut self, list: &[Attribute<'_>]) {
        // A writer local to this frame: its length is then addressed from the stack
        // pointer, which the CPU forwards from one append to the next faster than through
        // `self`.
        let mut w = W {
            out: std::mem::take(&mut self.out),
        };
        for a in list {
            w.attribute(a);
        }
        self.out = w.out;
    }

    #[inline(always)]
    fn attribute(&mut self, a: &Attribute<'_>) {
        // Each arm writes `a=<name>` as one literal: one capacity check and copy instead of two.
        match a {
            Attribute::Group(g) => {
                self.s("a=group:").s(&g.semantics);
                for m in &g.mids {
                    self.c(' ').s(m);
                }
            }
            Attribute::MsidSemantic(m) => {
                self.s("a=msid-semantic: ").s(&m.semantic);
                for id in &m.identifiers {
                    self.c(' ').s(id);
                }
            }
            Attribute::Msid(m) => {
                self.s("a=msid:").s(&m.stream);
                if let Some(t) = &m.track {
                    self.c(' ').s(t);
                }
            }
            Attribute::Mid(m) => {
                self.s("a=mid:").s(m);
            }
            Attribute::Rtpmap(r) => {
                self.s("a=rtpmap:").n_sp(r.payload_type).s(&r.encoding);
                self.c('/').n(r.clock_rate);
                if let Some(ch) = r.channels {
                    self.c('/').n(ch);
                }
            }
            Attribute::Fmtp(f) => {
                self.s("a=fmtp:").n_sp(f.payload_type);
                self.s(f.parameters.as_str());
            }
            Attribute::RtcpFb(f) => {
                self.s("a=rtcp-fb:");
                match f.payload_type {
                    Some(pt) => self.n_sp(pt),
                    None => self.s("* "),
                };
                self.s(&f.kind);
                if let Some(p) = &f.parameter {
                    self.c(' ').s(p);
                }
            }
            Attribute::Extmap(e) => {
                self.s("a=extmap:").n(e.id);
                if let Some(d) = e.direction {
                    self.c('/').direction(d);
                }
                self.c(' ').s(&e.uri);
                if let Some(a) = &e.attributes {
                    self.c(' ').s(a);
                }
            }
            Attribute::ExtmapAllowMixed => {
                self.s("a=extmap-allow-mixed");
            }
            Attribute::Ssrc(s) => {
                self.s("a=ssrc:").n_sp(s.ssrc).s(&s.attribute);
                if let Some(v) = &s.value {
                    self.c(':').s(v);
                }
            }
            Attribute::SsrcGroup(g) => {
                self.s("a=ssrc-group:").s(&g.semantics);
                for s in &g.ssrcs {
                    self.c(' ').n(*s);
                }
            }
            Attribute::Rid(r) => {
                self.s("a=rid:").s(&r.id).c(' ').rid_direction(r.direction);
                if !r.payload_types.is_empty() || !r.restrictions.is_empty() {
                    self.c(' ');
                }
                if !r.payload_types.is_empty() {
                    self.s("pt=");
                    for (k, pt) in r.payload_types.iter().enumerate() {
                        if k > 0 {
                            self.c(',');
                        }
                        self.n(*pt);
                    }
                    if !r.restrictions.is_empty() {
                        self.c(';');
                    }
                }
                self.s(r.restrictions.as_str());
            }
            Attribute::Simulcast(s) => {
                self.s("a=simulcast:");
                for (k, list) in s.lists.iter().enumerate() {
                    if k > 0 {
                        self.c(' ');
                    }
                    self.rid_direction(list.direction).c(' ');
                    for (j, stream) in list.streams.iter().enumerate() {
                        if j > 0 {
                            self.c(';');
                        }
                        for (n, alt) in stream.iter().enumerate() {
                            if n > 0 {
                                self.c(',');
                            }
                            if alt.paused {
                                self.c('~');
                            }
                            self.s(&alt.rid);
                        }
                    }
                }
            }
            Attribute::Candidate(c) => {
                self.s("a=candidate:");
                self.candidate_value(c);
            }
            Attribute::EndOfCandidates => {
                self.s("a=end-of-candidates");
            }
            Attribute::IceUfrag(u) => {
                self.s("a=ice-ufrag:").s(u);
            }
            Attribute::IcePwd(p) => {
                self.s("a=ice-pwd:").s(p);
            }
            Attribute::IceOptions(opts) => {
                self.s("a=ice-options:");
                for (k, o) in opts.iter().enumerate() {
                    if k > 0 {
                        self.c(' ');
                    }
                    self.s(o);
                }
            }
            Attribute::IceLite => {
                self.s("a=ice-lite");
            }
            Attribute::Fingerprint(f) => {
                self.s("a=fingerprint:").s(f.hash.as_str()).c(' ');
                // `XX:` for every byte but the last, `XX` for the last, from HEX_CELLS.
                if let Some((last, init)) = f.bytes.split_last() {
                    for &byte in init {
                        let at = 3 * usize::from(byte);
                        self.s(HEX_CELLS.get(at..at + 3).unwrap_or("00:"));
                    }
                    let at = 3 * usize::from(*last);
                    self.s(HEX_CELLS.get(at..at + 2).unwrap_or("00"));
                }
            }
            Attribute::Setup(s) => {
                self.s("a=setup:").s(s.as_str());
            }
            Attribute::Rtcp(r) => {
                self.s("a=rtcp:").n(r.port);
                if let Some(c) = &r.connection {
                    self.c(' ').connection_value(c);
                }
            }
            Attribute::RtcpMux => {
                self.s("a=rtcp-mux");
            }
            Attribute::RtcpMuxOnly => {
                self.s("a=rtcp-mux-only");
            }
            Attribute::RtcpRsize => {
                self.s("a=rtcp-rsize");
            }
            Attribute::Direction(d) => {
                self.s(match d {
                    Direction::SendRecv => "a=sendrecv",
                    Direction::SendOnly => "a=sendonly",
                    Direction::RecvOnly => "a=recvonly",
                    Direction::Inactive => "a=inactive",
                });
            }
            Attribute::SctpPort(p) => {
                self.s("a=sctp-port:").n(*p);
            }
            Attribute::MaxMessageSize(n) => {
                self.s("a=max-message-size:").n(*n);
            }
            Attribute::Sctpmap(m) => {
                self.s("a=sctpmap:").n(m.port).c(' ').s(&m.protocol);
                if let Some(n) = m.streams {
                    self.c(' ').n(n);
                }
            }
            Attribute::SctpInit(s) => {
                self.s("a=sctp-init:").s(s);
            }
            Attribute::Other { name, value } => {
                self.s("a=").s(name);
                if let Some(v) = value {
                    self.c(':').s(v);
                }
            }
        }
        self.crlf();
    }

    fn media(&mut self, m: &MediaDescription<'_>) {
        self.s("m=").s(m.kind.as_str()).c(' ').n(m.port);
        if let Some(n) = m.port_count {
            self.c('/').n(n);
        }
        self.c(' ').s(&m.protocol);
        match &m.formats {
            Formats::Rtp(pts) => {
                for pt in pts {
                    self.c(' ').n(*pt);
                }
            }
            Formats::Other(fmts) => {
                for f in fmts {
                    self.c(' ').s(f);
                }
            }
        }
        self.crlf();
        if let Some(i) = &m.information {
            self.line("i=", i);
        }
        for c in &m.connections {
            self.s("c=").connection_value(c).crlf();
        }
        for bw in &m.bandwidths {
            self.bandwidth(bw);
        }
        if let Some(k) = &m.key {
            self.line("k=", k);
        }
        self.attributes(&m.attributes);
    }

    fn session(&mut self, sd: &SessionDescription<'_>) {
        self.s("v=0\r\n");
        let o = &sd.origin;
        self.s("o=").s(&o.username).c(' ').n(o.session_id);
        self.c(' ').n(o.session_version).c(' ').s(&o.net_type);
        self.c(' ').address_type(&o.address_type).c(' ');
        self.address(&o.address).crlf();
        self.line("s=", &sd.session_name);
        if let Some(i) = &sd.information {
            self.line("i=", i);
        }
        if let Some(u) = &sd.uri {
            self.line("u=", u);
        }
        for e in &sd.emails {
            self.line("e=", e);
        }
        for p in &sd.phones {
            self.line("p=", p);
        }
        if let Some(c) = &sd.connection {
            self.s("c=").connection_value(c).crlf();
        }
        for bw in &sd.bandwidths {
            self.bandwidth(bw);
        }
        for t in &sd.times {
            self.s("t=").n(t.start).c(' ').n(t.stop).crlf();
            for r in &t.repeats {
                self.line("r=", r);
            }
            if let Some(z) = &t.zone {
                self.line("z=", z);
            }
        }
        if let Some(k) = &sd.key {
            self.line("k=", k);
        }
        self.attributes(&sd.attributes);
        for m in &sd.media {
            self.media(m);
        }
    }
}

impl SessionDescription<'_> {
    /// Appends the canonical serialization to `out`.
    pub fn write_to(&self, out: &mut String) {
        let mut w = W {
            out: std::mem::take(out),
        };
        w.session(self);
        *out = w.out;
    }

    /// The canonical serialization, CRLF line endings.
    pub fn to_sdp_string(&self) -> String {
        let mut w = W {
            out: String::with_capacity(self.size_hint()),
        };
        w.session(self);
        w.out
    }

    /// A cheap upper-bound-ish estimate of the written size, for buffer reservation.
    fn size_hint(&self) -> usize {
        128 + self
            .media
            .iter()
            .map(|m| 64 + m.attributes.len() * 48)
            .sum::<usize>()
            + self.attributes.len() * 48
    }
}

impl fmt::Display for SessionDescription<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sdp_string())
    }
}

impl fmt::Display for Attribute<'_> {
    /// The whole line, `a=...`, without the line ending.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut w = W {
            out: String::with_capacity(64),
        };
        w.attributes(std::slice::from_ref(self));
        f.write_str(w.out.trim_end_matches("\r\n"))
    }
}

impl fmt::Display for Candidate<'_> {
    /// The trickle form, `candidate:...`, as RTCIceCandidate.candidate carries it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut w = W {
            out: String::with_capacity(96),
        };
        w.s("candidate:").candidate_value(self);
        f.write_str(&w.out)
    }
}

impl fmt::Display for Address<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Ip(ip) => ip.fmt(f),
            Address::Name(n) => f.write_str(n),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv6Addr;

    fn written(ip: IpAddr) -> String {
        let mut w = W { out: String::new() };
        w.ip(&ip);
        w.out
    }

    #[test]
    fn ipv6_text_matches_std_on_the_rfc5952_cases() {
        for text in [
            "::",
            "::1",
            "1::",
            "fd00::2",
            "2001:db8::1",
            "2001:db8:0:0:1:0:0:1",
            "2001:db8:0:1:1:1:1:1",
            "2001:0:0:1::1",
            "0:0:1::",
            "::ffff:192.0.2.1",
            "::192.0.2.1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "1:0:1:0:1:0:1:0",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(written(ip), ip.to_string(), "{text}");
        }
    }

    proptest! {
        #[test]
        fn ipv6_text_matches_std(groups in proptest::array::uniform8(prop_oneof![Just(0u16), Just(1u16), any::<u16>()])) {
            let ip = IpAddr::V6(Ipv6Addr::from(groups));
            prop_assert_eq!(written(ip), ip.to_string());
        }

        #[test]
        fn numbers_match_itoa(n in any::<u64>(), small in 0u64..2000) {
            for v in [n, small] {
                let mut w = W { out: String::new() };
                w.n(v);
                prop_assert_eq!(w.out, v.to_string());
                let mut w = W { out: "x".into() };
                w.n_sp(v);
                prop_assert_eq!(w.out, format!("x{v} "));
            }
        }
    }
}
