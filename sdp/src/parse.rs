//! The parser: RFC 8866 line order, then one nom parser per line type and per attribute.
//!
//! Every value parser consumes the rest of its line, so the input left over at a failure is
//! a suffix of the line and gives the column exactly.

use std::borrow::Cow;
use std::net::IpAddr;
use std::str::FromStr as _;

use nom::bytes::complete::tag;
use nom::character::complete::char;
use nom::error::{ErrorKind as NomKind, ParseError as NomParseError};
use nom::{Err as NomErr, IResult};

use crate::error::{ErrorKind, ParseError};
use crate::model::*;

/// Bounds that keep hostile input cheap. The defaults are far above anything a browser
/// writes (a 100-track offer is about 300 KB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Whole description, in bytes.
    pub max_bytes: usize,
    /// Number of lines.
    pub max_lines: usize,
    /// One line, in bytes, without its line ending.
    pub max_line_length: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 20,
            max_lines: 20_000,
            max_line_length: 16 * 1024,
        }
    }
}

/// A failure inside one line: the unparsed suffix of the line and what was wanted there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail<'a> {
    pub at: &'a str,
    pub expected: &'static str,
}

impl<'a> NomParseError<&'a str> for Fail<'a> {
    fn from_error_kind(input: &'a str, kind: NomKind) -> Self {
        let expected = match kind {
            NomKind::Digit => "a number",
            NomKind::Char => "a separator",
            NomKind::Tag => "a keyword",
            _ => "valid text",
        };
        Fail {
            at: input,
            expected,
        }
    }

    fn append(_: &'a str, _: NomKind, other: Self) -> Self {
        other
    }
}

pub(crate) type R<'a, T> = IResult<&'a str, T, Fail<'a>>;

fn fail<'a, T>(at: &'a str, expected: &'static str) -> R<'a, T> {
    Err(NomErr::Error(Fail { at, expected }))
}

/// Runs `p`; if it fails, reports `expected` where `p` started.
fn expect<'a, T>(
    expected: &'static str,
    mut p: impl FnMut(&'a str) -> R<'a, T>,
) -> impl FnMut(&'a str) -> R<'a, T> {
    move |i| p(i).map_err(|_| NomErr::Error(Fail { at: i, expected }))
}

use charset::*;

/// Byte classes of the grammar, as lookup tables built at compile time.
// Indexing a [bool; 256] with a u8 cannot go out of bounds.
#[allow(clippy::indexing_slicing)]
mod charset {
    /// A [`ByteSet`] of the ASCII bytes for which the expression holds, built at compile time.
    macro_rules! ascii_set {
        (|$c:ident| $e:expr) => {{
            let mut t = [false; 256];
            let mut k = 0u8;
            while k < 128 {
                let $c = k;
                t[k as usize] = $e;
                k += 1;
            }
            ByteSet(t)
        }};
    }

    /// A set of bytes for the scanning primitives below. Every set either holds all of
    /// 0x80..=0xFF or none of them, so a scan stops on a UTF-8 character boundary.
    pub(super) struct ByteSet([bool; 256]);

    impl ByteSet {
        /// Every byte except the given ASCII ones (non-ASCII text included).
        const fn all_but(except: &[u8]) -> ByteSet {
            let mut t = [true; 256];
            let mut k = 0;
            while k < except.len() {
                t[except[k] as usize] = false;
                k += 1;
            }
            ByteSet(t)
        }

        #[inline]
        pub(super) fn contains(&self, c: u8) -> bool {
            self.0[c as usize]
        }
    }

    // RFC 8866 §9: token-char = %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E
    const fn is_token_byte(c: u8) -> bool {
        matches!(c, 0x21 | 0x23..=0x27 | 0x2A..=0x2B | 0x2D..=0x2E | b'0'..=b'9' | b'A'..=b'Z' | 0x5E..=0x7E)
    }

    pub(super) static TOKEN: ByteSet = ascii_set!(|c| is_token_byte(c));
    // RFC 8866 §9: proto = token *("/" token)
    pub(super) static PROTO: ByteSet = ascii_set!(|c| is_token_byte(c) || c == b'/');
    // RFC 8866 §6.6: the encoding name ends at `/`.
    pub(super) static ENCODING: ByteSet = ascii_set!(|c| is_token_byte(c) && c != b'/');
    // RFC 8839 §5.1: ice-char = ALPHA / DIGIT / "+" / "/"
    pub(super) static ICE: ByteSet =
        ascii_set!(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/');
    pub(super) static BASE64: ByteSet =
        ascii_set!(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=');
    // RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_")
    pub(super) static RID: ByteSet =
        ascii_set!(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    pub(super) static LOWER: ByteSet = ascii_set!(|c| c.is_ascii_lowercase());
    // RFC 8866 §9: byte-string excludes NUL, CR and LF; so does every free-text class here,
    // which puts a stray NUL or CR at the exact column of the first one.
    pub(super) static NON_WS: ByteSet = ByteSet::all_but(b" \t\r\0");
    pub(super) static ADDRESS: ByteSet = ByteSet::all_but(b" \t/\r\0");
    pub(super) static PARAM_KEY: ByteSet = ByteSet::all_but(b"=; \r\0");
    pub(super) static PARAM_VALUE: ByteSet = ByteSet::all_but(b";\r\0");
}

/// Length of the run of `set` bytes at the start of `i`.
#[inline]
fn run_len(i: &str, set: &ByteSet) -> usize {
    i.bytes().position(|c| !set.contains(c)).unwrap_or(i.len())
}

/// One or more bytes of `set`.
#[inline]
fn take1<'a>(set: &'static ByteSet) -> impl Fn(&'a str) -> R<'a, &'a str> {
    move |i| match run_len(i, set) {
        0 => Err(NomErr::Error(Fail::from_error_kind(i, NomKind::TakeWhile1))),
        n => match (i.get(..n), i.get(n..)) {
            (Some(head), Some(rest)) => Ok((rest, head)),
            _ => Err(NomErr::Error(Fail::from_error_kind(i, NomKind::TakeWhile1))),
        },
    }
}

/// Zero or more bytes of `set`.
#[inline]
fn take0<'a>(set: &'static ByteSet) -> impl Fn(&'a str) -> R<'a, &'a str> {
    move |i| {
        let n = run_len(i, set);
        match (i.get(..n), i.get(n..)) {
            (Some(head), Some(rest)) => Ok((rest, head)),
            _ => Ok((i, "")),
        }
    }
}

fn token(i: &str) -> R<'_, &str> {
    take1(&TOKEN)(i)
}

fn non_ws(i: &str) -> R<'_, &str> {
    take1(&NON_WS)(i)
}

#[inline]
fn sp(i: &str) -> R<'_, char> {
    match i.strip_prefix(' ') {
        Some(rest) => Ok((rest, ' ')),
        None => fail(i, "a space"),
    }
}

/// A decimal number that fits `T`; `what` names it in the error. Digits are accumulated
/// directly (at most 20 are ever meaningful for a u64).
#[inline]
fn number<'a, T: TryFrom<u64>>(what: &'static str) -> impl Fn(&'a str) -> R<'a, T> {
    move |i| {
        let mut value: u64 = 0;
        let mut n = 0;
        for c in i.bytes() {
            if !c.is_ascii_digit() {
                break;
            }
            value = match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
            {
                Some(v) => v,
                None => return fail(i, what),
            };
            n += 1;
        }
        match (n, T::try_from(value), i.get(n..)) {
            (1.., Ok(v), Some(rest)) => Ok((rest, v)),
            _ => fail(i, what),
        }
    }
}

fn payload_type(i: &str) -> R<'_, u8> {
    let (rest, pt) = number::<u8>("a payload type (0-127)")(i)?;
    if pt > 127 {
        return fail(i, "a payload type (0-127)");
    }
    Ok((rest, pt))
}

fn eol(i: &str) -> R<'_, ()> {
    if i.is_empty() {
        Ok((i, ()))
    } else {
        fail(i, "the end of the line")
    }
}

/// The rest of the line as a byte-string, possibly empty (RFC 8866 §9 excludes NUL and CR).
fn text0(i: &str) -> R<'_, &str> {
    let bytes = i.as_bytes();
    // Most values are short, and a plain loop costs less than memchr's set-up for them.
    let bad = if bytes.len() < 32 {
        bytes.iter().position(|&c| c == 0 || c == b'\r')
    } else {
        memchr::memchr2(0, b'\r', bytes)
    };
    match bad {
        Some(p) => fail(i.get(p..).unwrap_or(i), BAD_BYTE),
        None => Ok(("", i)),
    }
}

/// Non-empty rest of the line as a byte-string.
fn text(i: &str) -> R<'_, &str> {
    if i.is_empty() {
        fail(i, "some text")
    } else {
        text0(i)
    }
}

const BAD_BYTE: &str = "text without NUL or a lone carriage return";

fn b(s: &str) -> Str<'_> {
    Cow::Borrowed(s)
}

/// A dotted-quad IPv4 address with the same rules as std's parser (four decimal octets,
/// each at most 255, no leading zeros), in a fraction of its instructions: candidates and
/// connection lines are mostly IPv4.
fn ipv4(s: &str) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut k = 0; // octet being read
    let mut value: u16 = 0;
    let mut digits = 0;
    for &c in s.as_bytes() {
        match c {
            b'0'..=b'9' => {
                // No leading zeros, at most three digits, at most 255.
                if digits == 1 && value == 0 {
                    return None;
                }
                value = value * 10 + u16::from(c - b'0');
                digits += 1;
                if value > 255 {
                    return None;
                }
            }
            b'.' if digits > 0 && k < 3 => {
                *octets.get_mut(k)? = u8::try_from(value).ok()?;
                k += 1;
                value = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if k != 3 || digits == 0 {
        return None;
    }
    *octets.get_mut(3)? = u8::try_from(value).ok()?;
    Some(octets.into())
}

/// `:`-separated groups of one to four hex digits (an empty text is no groups), written
/// into `out` in order; the number of groups, or `None` if they do not fit.
fn ipv6_groups(s: &str, out: &mut [u16]) -> Option<usize> {
    if s.is_empty() {
        return Some(0);
    }
    let mut n = 0;
    for group in s.split(':') {
        if group.is_empty() || group.len() > 4 {
            return None;
        }
        let mut value: u16 = 0;
        for c in group.bytes() {
            value = value << 4 | u16::from(hex_val(c)?);
        }
        *out.get_mut(n)? = value;
        n += 1;
    }
    Some(n)
}

/// The common IPv6 forms, hex groups with at most one `::`, with the same rules and result
/// as std's parser in a fraction of its instructions; `None` for anything else (embedded
/// IPv4 included), which then goes to std.
fn ipv6(s: &str) -> Option<std::net::Ipv6Addr> {
    let mut groups = [0u16; 8];
    match s.split_once("::") {
        None => {
            if ipv6_groups(s, &mut groups)? != 8 {
                return None;
            }
        }
        Some((head, tail)) => {
            // `::` stands for at least one zero group (RFC 4291 §2.2).
            let mut tail_groups = [0u16; 7];
            let h = ipv6_groups(head, groups.get_mut(..7)?)?;
            let t = ipv6_groups(tail, tail_groups.get_mut(..7 - h)?)?;
            groups
                .get_mut(8 - t..)?
                .copy_from_slice(tail_groups.get(..t)?);
        }
    }
    Some(groups.into())
}

/// An address as text: an IP literal if it parses as one, otherwise a name.
pub(crate) fn address(s: &str) -> Address<'_> {
    if let Some(v4) = ipv4(s) {
        return Address::Ip(IpAddr::V4(v4));
    }
    // Only text that can be an IP literal goes to the parsers.
    let maybe_ip = s
        .bytes()
        .all(|c| c.is_ascii_hexdigit() || c == b'.' || c == b':');
    if maybe_ip {
        if let Some(v6) = ipv6(s) {
            return Address::Ip(IpAddr::V6(v6));
        }
        if let Ok(ip) = IpAddr::from_str(s) {
            return Address::Ip(ip);
        }
    }
    Address::Name(b(s))
}

fn address_type(s: &str) -> AddressType<'_> {
    match s {
        "IP4" => AddressType::Ip4,
        "IP6" => AddressType::Ip6,
        other => AddressType::Other(b(other)),
    }
}

// RFC 8866 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
fn origin(i: &str) -> R<'_, Origin<'_>> {
    let (i, username) = expect("a user name (`-` for none)", non_ws)(i)?;
    let (i, _) = sp(i)?;
    let (i, session_id) = number::<u64>("a numeric session id")(i)?;
    let (i, _) = sp(i)?;
    let (i, session_version) = number::<u64>("a numeric session version")(i)?;
    let (i, _) = sp(i)?;
    let (i, net_type) = expect("a network type (`IN`)", token)(i)?;
    let (i, _) = sp(i)?;
    let (i, addr_type) = expect("an address type (`IP4` or `IP6`)", token)(i)?;
    let (i, _) = sp(i)?;
    let (i, addr) = expect("a unicast address", non_ws)(i)?;
    let (i, _) = eol(i)?;
    Ok((
        i,
        Origin {
            username: b(username),
            session_id,
            session_version,
            net_type: b(net_type),
            address_type: address_type(addr_type),
            address: address(addr),
        },
    ))
}

// RFC 8866 §5.7: c=<nettype> <addrtype> <connection-address>
fn connection(i: &str) -> R<'_, Connection<'_>> {
    let (i, net_type) = expect("a network type (`IN`)", token)(i)?;
    let (i, _) = sp(i)?;
    let (i, addr_type) = expect("an address type (`IP4` or `IP6`)", token)(i)?;
    let (i, _) = sp(i)?;
    let (i, addr) = expect("a connection address", take1(&ADDRESS))(i)?;
    let address_type = address_type(addr_type);
    let (mut ttl, mut count) = (None, None);
    let mut i = i;
    // IP4 multicast: addr/ttl[/count]; IP6 multicast: addr[/count] (RFC 8866 §5.7).
    if let Some(rest) = i.strip_prefix('/') {
        if address_type == AddressType::Ip6 {
            let (rest, n) = number::<u32>("a number of addresses")(rest)?;
            count = Some(n);
            i = rest;
        } else {
            let (rest, t) = number::<u8>("a multicast TTL (0-255)")(rest)?;
            ttl = Some(t);
            i = rest;
            if let Some(rest) = i.strip_prefix('/') {
                let (rest, n) = number::<u32>("a number of addresses")(rest)?;
                count = Some(n);
                i = rest;
            }
        }
    }
    let (i, _) = eol(i)?;
    Ok((
        i,
        Connection {
            net_type: b(net_type),
            address_type,
            address: address(addr),
            ttl,
            count,
        },
    ))
}

// RFC 8866 §5.8: b=<bwtype>:<bandwidth>
fn bandwidth(i: &str) -> R<'_, Bandwidth<'_>> {
    let (i, kind) = expect("a bandwidth type such as `AS` or `TIAS`", token)(i)?;
    let (i, _) = expect("`:`", char(':'))(i)?;
    let (i, value) = number::<u64>("a bandwidth value")(i)?;
    let (i, _) = eol(i)?;
    let kind = match kind {
        "AS" => BandwidthType::As,
        "CT" => BandwidthType::Ct,
        "TIAS" => BandwidthType::Tias,
        other => BandwidthType::Other(b(other)),
    };
    Ok((i, Bandwidth { kind, value }))
}

// RFC 8866 §5.9: t=<start-time> <stop-time>
fn timing(i: &str) -> R<'_, Timing<'_>> {
    let (i, start) = number::<u64>("a start time")(i)?;
    let (i, _) = sp(i)?;
    let (i, stop) = number::<u64>("a stop time")(i)?;
    let (i, _) = eol(i)?;
    Ok((
        i,
        Timing {
            start,
            stop,
            repeats: Vec::new(),
            zone: None,
        },
    ))
}

// RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ...
fn media(i: &str) -> R<'_, MediaDescription<'_>> {
    let (i, kind) = expect("a media type such as `audio`", token)(i)?;
    let (i, _) = sp(i)?;
    let (i, port) = number::<u16>("a port (0-65535)")(i)?;
    let (i, port_count) = match i.strip_prefix('/') {
        Some(rest) => {
            let (rest, n) = number::<u16>("a number of ports")(rest)?;
            (rest, Some(n))
        }
        None => (i, None),
    };
    let (i, _) = sp(i)?;
    // proto = token *("/" token)
    let (i, protocol) = expect(
        "a transport protocol such as `UDP/TLS/RTP/SAVPF`",
        take1(&PROTO),
    )(i)?;
    let rtp = protocol.contains("RTP/");
    let mut i = i;
    let formats = if rtp {
        if i.is_empty() {
            return fail(i, "a space and at least one media format");
        }
        let mut pts = Vec::with_capacity(i.len() / 3);
        while !i.is_empty() {
            let (rest, _) = sp(i)?;
            let (rest, pt) = payload_type(rest)?;
            pts.push(pt);
            i = rest;
        }
        Formats::Rtp(pts)
    } else {
        if i.is_empty() {
            return fail(i, "a space and at least one media format");
        }
        let mut fmts = Vec::with_capacity(1);
        while !i.is_empty() {
            let (rest, _) = sp(i)?;
            let (rest, f) = expect("a media format", token)(rest)?;
            fmts.push(b(f));
            i = rest;
        }
        Formats::Other(fmts)
    };
    let kind = match kind {
        "audio" => MediaKind::Audio,
        "video" => MediaKind::Video,
        "application" => MediaKind::Application,
        "text" => MediaKind::Text,
        "message" => MediaKind::Message,
        other => MediaKind::Other(b(other)),
    };
    Ok((
        i,
        MediaDescription {
            kind,
            port,
            port_count,
            protocol: b(protocol),
            formats,
            information: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        },
    ))
}

// RFC 8866 §5.13: a=<attribute> / a=<attribute>:<value>
pub(crate) fn attribute(i: &str) -> R<'_, Attribute<'_>> {
    attribute_inner(i)
}

/// Parses an attribute and pushes it: building the value where it is pushed avoids copying a
/// returned `Result<(&str, Attribute)>` through the stack, which profiles showed to stall on
/// store forwarding and cost more than the parsing itself.
#[inline(never)]
fn push_attribute<'a>(i: &'a str, out: &mut Vec<Attribute<'a>>) -> Result<(), NomErr<Fail<'a>>> {
    let (_, a) = attribute_inner(i)?;
    out.push(a);
    Ok(())
}

#[inline(always)]
fn attribute_inner(i: &str) -> R<'_, Attribute<'_>> {
    let (i, name) = expect("an attribute name", token)(i)?;
    let value = match i.strip_prefix(':') {
        Some(v) => Some(v),
        None if i.is_empty() => None,
        None => return fail(i, "`:` or the end of the line after the attribute name"),
    };
    let flag = |a: Attribute<'static>| -> R<'_, Attribute<'_>> { Ok(("", a)) };
    let Some(v) = value else {
        return match name {
            "ice-lite" => flag(Attribute::IceLite),
            "end-of-candidates" => flag(Attribute::EndOfCandidates),
            "extmap-allow-mixed" => flag(Attribute::ExtmapAllowMixed),
            "rtcp-mux" => flag(Attribute::RtcpMux),
            "rtcp-mux-only" => flag(Attribute::RtcpMuxOnly),
            "rtcp-rsize" => flag(Attribute::RtcpRsize),
            "sendrecv" => flag(Attribute::Direction(Direction::SendRecv)),
            "sendonly" => flag(Attribute::Direction(Direction::SendOnly)),
            "recvonly" => flag(Attribute::Direction(Direction::RecvOnly)),
            "inactive" => flag(Attribute::Direction(Direction::Inactive)),
            "candidate" | "ice-ufrag" | "ice-pwd" | "ice-options" | "fingerprint" | "setup"
            | "mid" | "group" | "msid" | "msid-semantic" | "rtpmap" | "fmtp" | "rtcp-fb"
            | "extmap" | "ssrc" | "ssrc-group" | "rid" | "simulcast" | "rtcp" | "sctp-port"
            | "max-message-size" | "sctpmap" | "sctp-init" => fail(i, "`:` and a value"),
            _ => Ok((
                "",
                Attribute::Other {
                    name: b(name),
                    value: None,
                },
            )),
        };
    };
    let (rest, attr) = match name {
        "candidate" => candidate_value(v).map(|(r, c)| (r, Attribute::Candidate(Box::new(c))))?,
        "ice-ufrag" => ice_string(v).map(|(r, s)| (r, Attribute::IceUfrag(b(s))))?,
        "ice-pwd" => ice_string(v).map(|(r, s)| (r, Attribute::IcePwd(b(s))))?,
        "ice-options" => {
            let (r, list) = token_list(v, "an ICE option such as `trickle`")?;
            (r, Attribute::IceOptions(list))
        }
        "fingerprint" => fingerprint(v).map(|(r, f)| (r, Attribute::Fingerprint(f)))?,
        "setup" => {
            let s = match v {
                "active" => Setup::Active,
                "passive" => Setup::Passive,
                "actpass" => Setup::ActPass,
                "holdconn" => Setup::HoldConn,
                _ => return fail(v, "`active`, `passive`, `actpass` or `holdconn`"),
            };
            ("", Attribute::Setup(s))
        }
        "mid" => {
            let (r, m) = expect("a media id", token)(v)?;
            (r, Attribute::Mid(b(m)))
        }
        "group" => {
            let (r, semantics) = expect("group semantics such as `BUNDLE`", token)(v)?;
            let (r, mids) = space_tokens(r, "a media id")?;
            (
                r,
                Attribute::Group(Group {
                    semantics: b(semantics),
                    mids,
                }),
            )
        }
        "msid-semantic" => {
            // Browsers write `msid-semantic: WMS <ids>` with a space after the colon.
            let r = v.trim_start_matches(' ');
            let (r, semantic) = expect("an msid semantic such as `WMS`", token)(r)?;
            let (r, identifiers) = space_tokens(r, "a stream id or `*`")?;
            (
                r,
                Attribute::MsidSemantic(MsidSemantic {
                    semantic: b(semantic),
                    identifiers,
                }),
            )
        }
        "msid" => {
            let (r, stream) = expect("a stream id", token)(v)?;
            let (r, track) = match r.strip_prefix(' ') {
                Some(r) => {
                    let (r, t) = expect("a track id", token)(r)?;
                    (r, Some(b(t)))
                }
                None => (r, None),
            };
            (
                r,
                Attribute::Msid(Msid {
                    stream: b(stream),
                    track,
                }),
            )
        }
        "rtpmap" => rtpmap(v).map(|(r, m)| (r, Attribute::Rtpmap(m)))?,
        "fmtp" => fmtp(v).map(|(r, f)| (r, Attribute::Fmtp(f)))?,
        "rtcp-fb" => rtcp_fb(v).map(|(r, f)| (r, Attribute::RtcpFb(f)))?,
        "extmap" => extmap(v).map(|(r, e)| (r, Attribute::Extmap(e)))?,
        "ssrc" => {
            let (r, ssrc) = number::<u32>("an SSRC (0-4294967295)")(v)?;
            let (r, _) = sp(r)?;
            let (r, attribute) = expect("an attribute name", token)(r)?;
            let (r, value) = match r.strip_prefix(':') {
                Some(val) => {
                    let (r, val) = text0(val)?;
                    (r, Some(b(val)))
                }
                None => (r, None),
            };
            (
                r,
                Attribute::Ssrc(SsrcAttribute {
                    ssrc,
                    attribute: b(attribute),
                    value,
                }),
            )
        }
        "ssrc-group" => {
            let (mut r, semantics) = expect("ssrc-group semantics such as `FID`", token)(v)?;
            let mut ssrcs = Vec::with_capacity(3);
            while !r.is_empty() {
                let (rest, _) = sp(r)?;
                let (rest, s) = number::<u32>("an SSRC (0-4294967295)")(rest)?;
                ssrcs.push(s);
                r = rest;
            }
            (
                r,
                Attribute::SsrcGroup(SsrcGroup {
                    semantics: b(semantics),
                    ssrcs,
                }),
            )
        }
        "rid" => rid(v).map(|(r, x)| (r, Attribute::Rid(Box::new(x))))?,
        "simulcast" => simulcast(v).map(|(r, x)| (r, Attribute::Simulcast(x)))?,
        "rtcp" => {
            let (r, port) = number::<u16>("a port (0-65535)")(v)?;
            let (r, connection) = match r.strip_prefix(' ') {
                Some(r) => {
                    let (r, c) = connection(r)?;
                    (r, Some(c))
                }
                None => (r, None),
            };
            (r, Attribute::Rtcp(Box::new(Rtcp { port, connection })))
        }
        "sctp-port" => {
            let (r, p) = number::<u16>("a port (0-65535)")(v)?;
            (r, Attribute::SctpPort(p))
        }
        "max-message-size" => {
            let (r, n) = number::<u64>("a size in bytes")(v)?;
            (r, Attribute::MaxMessageSize(n))
        }
        "sctpmap" => {
            let (r, port) = number::<u16>("a port (0-65535)")(v)?;
            let (r, _) = sp(r)?;
            let (r, protocol) = expect("a protocol such as `webrtc-datachannel`", token)(r)?;
            let (r, streams) = match r.strip_prefix(' ') {
                Some(r) => {
                    let (r, n) = number::<u32>("a number of streams")(r)?;
                    (r, Some(n))
                }
                None => (r, None),
            };
            (
                r,
                Attribute::Sctpmap(Sctpmap {
                    port,
                    protocol: b(protocol),
                    streams,
                }),
            )
        }
        "sctp-init" => {
            let (r, s) = expect("a base64 SCTP INIT chunk", take1(&BASE64))(v)?;
            (r, Attribute::SctpInit(b(s)))
        }
        "ice-lite" | "end-of-candidates" | "extmap-allow-mixed" | "rtcp-mux" | "rtcp-mux-only"
        | "rtcp-rsize" | "sendrecv" | "sendonly" | "recvonly" | "inactive" => {
            return fail(i, "the end of the line (this attribute takes no value)")
        }
        _ => {
            let (r, v) = text0(v)?;
            (
                r,
                Attribute::Other {
                    name: b(name),
                    value: Some(b(v)),
                },
            )
        }
    };
    let (rest, _) = eol(rest)?;
    Ok((rest, attr))
}

fn ice_string(i: &str) -> R<'_, &str> {
    // RFC 8839 §5.4: ufrag 4-256 and pwd 22-256 ice-chars; short values from older stacks
    // are accepted, the character set is not negotiable.
    let (r, s) = expect("ICE characters (letters, digits, `+`, `/`)", take1(&ICE))(i)?;
    if s.len() > 256 {
        return fail(i, "at most 256 ICE characters");
    }
    Ok((r, s))
}

/// `<token> *(SP <token>)`, at least one.
fn token_list<'a>(i: &'a str, what: &'static str) -> R<'a, Vec<Str<'a>>> {
    let (mut r, first) = expect(what, token)(i)?;
    let mut list = vec![b(first)];
    while !r.is_empty() {
        let (rest, _) = sp(r)?;
        let (rest, t) = expect(what, token)(rest)?;
        list.push(b(t));
        r = rest;
    }
    Ok((r, list))
}

/// `*(SP <token>)`, possibly none.
fn space_tokens<'a>(mut r: &'a str, what: &'static str) -> R<'a, Vec<Str<'a>>> {
    let mut list = Vec::new();
    while !r.is_empty() {
        let (rest, _) = sp(r)?;
        let (rest, t) = expect(what, token)(rest)?;
        list.push(b(t));
        r = rest;
    }
    Ok((r, list))
}

/// A candidate attribute value (after `candidate:`), RFC 8839 §5.1.
pub(crate) fn candidate_value(i: &str) -> R<'_, Candidate<'_>> {
    let (r, foundation) = expect("a foundation (1 to 32 ICE characters)", take1(&ICE))(i)?;
    if foundation.len() > 32 {
        return fail(i, "a foundation (1 to 32 ICE characters)");
    }
    let (r, _) = sp(r)?;
    // RFC 8445 §5.1.1.1: component IDs are 1 to 256.
    let component_at = r;
    let (r, component) = number::<u16>("a component id (1-256)")(component_at)?;
    if !(1..=256).contains(&component) {
        return fail(component_at, "a component id (1-256)");
    }
    let (r, _) = sp(r)?;
    let (r, transport) = expect("a transport such as `udp`", token)(r)?;
    let transport = if transport.eq_ignore_ascii_case("udp") {
        CandidateTransport::Udp
    } else if transport.eq_ignore_ascii_case("tcp") {
        CandidateTransport::Tcp
    } else {
        CandidateTransport::Other(b(transport))
    };
    let (r, _) = sp(r)?;
    let (r, priority) = number::<u32>("a priority (0-4294967295)")(r)?;
    let (r, _) = sp(r)?;
    let (r, addr) = expect("a connection address", non_ws)(r)?;
    let (r, _) = sp(r)?;
    let (r, port) = number::<u16>("a port (0-65535)")(r)?;
    let (r, _) = sp(r)?;
    let (r, _) = expect("`typ`", tag("typ"))(r)?;
    let (r, _) = sp(r)?;
    let (mut r, typ) = expect("a candidate type such as `host`", token)(r)?;
    let kind = match typ {
        "host" => CandidateType::Host,
        "srflx" => CandidateType::ServerReflexive,
        "prflx" => CandidateType::PeerReflexive,
        "relay" => CandidateType::Relay,
        other => CandidateType::Other(b(other)),
    };
    let mut cand = Candidate {
        foundation: b(foundation),
        component,
        transport,
        priority,
        address: address(addr),
        port,
        kind,
        related_address: None,
        related_port: None,
        tcp_type: None,
        extensions: CandidateExtensions::new(),
    };
    // The extensions are borrowed as one slice when they are contiguous, as browsers write
    // them (after `raddr`, `rport` and `tcptype`); otherwise they are copied out one by one.
    let mut ext_start: Option<&str> = None;
    let mut ext_end = r;
    let mut copied: Option<String> = None;
    while !r.is_empty() {
        let (item, _) = sp(r)?;
        let (rest, name) = expect("an extension name", token)(item)?;
        let (rest, _) = sp(rest)?;
        let value_at = rest;
        // RFC 8839 §5.1: extension-att-value = *VCHAR
        let (rest, value) = expect("an extension value", non_ws)(rest)?;
        let typed = match name {
            "raddr" if cand.related_address.is_none() => {
                cand.related_address = Some(address(value));
                true
            }
            "rport" if cand.related_port.is_none() => match value.parse::<u16>() {
                Ok(p) if value.bytes().all(|c| c.is_ascii_digit()) => {
                    cand.related_port = Some(p);
                    true
                }
                _ => return fail(value_at, "a port (0-65535)"),
            },
            "tcptype" if cand.tcp_type.is_none() => {
                cand.tcp_type = Some(match value {
                    "active" => TcpType::Active,
                    "passive" => TcpType::Passive,
                    "so" => TcpType::SimultaneousOpen,
                    _ => return fail(value_at, "`active`, `passive` or `so`"),
                });
                true
            }
            _ => false,
        };
        match (typed, ext_start, &mut copied) {
            (false, None, _) => {
                ext_start = Some(item);
                ext_end = rest;
            }
            (false, Some(_), None) => ext_end = rest,
            (false, Some(_), Some(out)) => {
                out.push(' ');
                out.push_str(name);
                out.push(' ');
                out.push_str(value);
            }
            (true, Some(start), None) => {
                // A typed field after an extension: copy what was borrowed so far.
                let so_far = start.get(..start.len() - ext_end.len()).unwrap_or_default();
                copied = Some(so_far.to_owned());
            }
            (true, _, _) => {}
        }
        r = rest;
    }
    if let Some(start) = ext_start {
        cand.extensions = CandidateExtensions::from_canonical(match copied {
            Some(out) => Cow::Owned(out),
            None => b(start.get(..start.len() - ext_end.len()).unwrap_or_default()),
        });
    }
    Ok((r, cand))
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

// RFC 8122 §5: fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint
fn fingerprint(i: &str) -> R<'_, Fingerprint<'_>> {
    let (r, hash) = expect("a hash function such as `sha-256`", token)(i)?;
    const NAMES: [(&str, HashFunction<'static>); 7] = [
        ("sha-256", HashFunction::Sha256),
        ("sha-1", HashFunction::Sha1),
        ("sha-384", HashFunction::Sha384),
        ("sha-512", HashFunction::Sha512),
        ("sha-224", HashFunction::Sha224),
        ("md5", HashFunction::Md5),
        ("md2", HashFunction::Md2),
    ];
    let hash = NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(hash))
        .map_or(HashFunction::Other(b(hash)), |(_, h)| h.clone());
    let (r, _) = sp(r)?;
    // fingerprint = 2UHEX *(":" 2UHEX); lower case is accepted too. Read as bytes: every
    // position where an error can be reported is on an ASCII byte.
    let src = r.as_bytes();
    let mut bytes = Vec::with_capacity(src.len().div_ceil(3).min(64));
    let mut pos = 0;
    let at = |pos: usize| r.get(pos..).unwrap_or_default();
    loop {
        let pair = match src.get(pos..) {
            Some([hi, lo, ..]) => hex_val(*hi).zip(hex_val(*lo)),
            _ => None,
        };
        let Some((hi, lo)) = pair else {
            return fail(at(pos), "two hex digits");
        };
        if bytes.len() == 64 {
            return fail(at(pos), "at most 64 bytes (SHA-512)");
        }
        bytes.push(hi << 4 | lo);
        pos += 2;
        match src.get(pos) {
            None => break,
            Some(b':') => pos += 1,
            Some(_) => return fail(at(pos), "`:` or the end of the line"),
        }
    }
    Ok(("", Fingerprint { hash, bytes }))
}

// RFC 8866 §6.6: a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
fn rtpmap(i: &str) -> R<'_, Rtpmap<'_>> {
    let (r, payload_type) = payload_type(i)?;
    let (r, _) = sp(r)?;
    let (r, encoding) = expect("an encoding name", take1(&ENCODING))(r)?;
    let (r, _) = expect("`/` and a clock rate", char('/'))(r)?;
    let (r, clock_rate) = number::<u32>("a clock rate")(r)?;
    let (r, channels) = match r.strip_prefix('/') {
        Some(rest) => {
            let (rest, n) = number::<u16>("a number of channels")(rest)?;
            (rest, Some(n))
        }
        None => (r, None),
    };
    Ok((
        r,
        Rtpmap {
            payload_type,
            encoding: b(encoding),
            clock_rate,
            channels,
        },
    ))
}

/// `;`-separated parameters, each `key=value` or a bare value. Spaces after a `;` are
/// skipped, and so is an empty last parameter: such text is written out in canonical form;
/// canonical text (all that browsers write) is borrowed as it is.
fn parameters(i: &str) -> R<'_, FmtpParameters<'_>> {
    let mut r = i;
    let mut canonical = true;
    let mut first = true;
    loop {
        let trimmed = r.trim_start_matches(' ');
        canonical &= trimmed.len() == r.len();
        r = trimmed;
        if r.is_empty() && !first {
            // An empty last parameter: `a=1;` or `a=1; `.
            canonical = false;
            break;
        }
        first = false;
        let (rest, _key) = expect("a parameter", take1(&PARAM_KEY))(r)?;
        let rest = match rest.strip_prefix('=') {
            Some(rest) => take0(&PARAM_VALUE)(rest)?.0,
            None => rest,
        };
        match rest.strip_prefix(';') {
            Some(rest) => r = rest,
            None => {
                r = rest;
                break;
            }
        }
    }
    let text = i.get(..i.len() - r.len()).unwrap_or_default();
    let text = if canonical {
        Cow::Borrowed(text)
    } else {
        // Keys hold no space, `;` or `=`, values no `;`: splitting the validated text at
        // `;` and trimming the spaces before each key gives the items back.
        let mut out = String::with_capacity(text.len());
        for item in text.split(';').map(|p| p.trim_start_matches(' ')) {
            if item.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(';');
            }
            out.push_str(item);
        }
        Cow::Owned(out)
    };
    Ok((r, FmtpParameters::from_canonical(text)))
}

// RFC 8866 §6.15: a=fmtp:<format> <format specific parameters>
fn fmtp(i: &str) -> R<'_, Fmtp<'_>> {
    let (r, payload_type) = payload_type(i)?;
    let (r, _) = sp(r)?;
    let (r, parameters) = parameters(r)?;
    Ok((
        r,
        Fmtp {
            payload_type,
            parameters,
        },
    ))
}

// RFC 4585 §4.2: a=rtcp-fb:<pt|*> <val> [<param>]
fn rtcp_fb(i: &str) -> R<'_, RtcpFb<'_>> {
    let (r, payload_type) = match i.strip_prefix('*') {
        Some(r) => (r, None),
        None => {
            let (r, pt) = payload_type(i)?;
            (r, Some(pt))
        }
    };
    let (r, _) = sp(r)?;
    let (r, kind) = expect("a feedback type such as `nack`", token)(r)?;
    let (r, parameter) = match r.strip_prefix(' ') {
        Some(r) => {
            let (r, p) = text(r)?;
            (r, Some(b(p)))
        }
        None => (r, None),
    };
    Ok((
        r,
        RtcpFb {
            payload_type,
            kind: b(kind),
            parameter,
        },
    ))
}

fn direction(i: &str) -> R<'_, Direction> {
    let (r, d) = expect(
        "`sendrecv`, `sendonly`, `recvonly` or `inactive`",
        take1(&LOWER),
    )(i)?;
    let d = match d {
        "sendrecv" => Direction::SendRecv,
        "sendonly" => Direction::SendOnly,
        "recvonly" => Direction::RecvOnly,
        "inactive" => Direction::Inactive,
        _ => return fail(i, "`sendrecv`, `sendonly`, `recvonly` or `inactive`"),
    };
    Ok((r, d))
}

// RFC 8285 §8: a=extmap:<value>["/"<direction>] <URI> <extensionattributes>
fn extmap(i: &str) -> R<'_, Extmap<'_>> {
    let (r, id) = number::<u16>("an extension id")(i)?;
    let (r, direction) = match r.strip_prefix('/') {
        Some(r) => {
            let (r, d) = direction(r)?;
            (r, Some(d))
        }
        None => (r, None),
    };
    let (r, _) = sp(r)?;
    let (r, uri) = expect("an extension URI", non_ws)(r)?;
    let (r, attributes) = match r.strip_prefix(' ') {
        Some(r) => {
            let (r, a) = text(r)?;
            (r, Some(b(a)))
        }
        None => (r, None),
    };
    Ok((
        r,
        Extmap {
            id,
            direction,
            uri: b(uri),
            attributes,
        },
    ))
}

fn rid_direction(i: &str) -> R<'_, RidDirection> {
    if let Some(r) = i.strip_prefix("send") {
        Ok((r, RidDirection::Send))
    } else if let Some(r) = i.strip_prefix("recv") {
        Ok((r, RidDirection::Recv))
    } else {
        fail(i, "`send` or `recv`")
    }
}

// RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_")
fn rid_id(i: &str) -> R<'_, &str> {
    expect("a rid (letters, digits, `-`, `_`)", take1(&RID))(i)
}

// RFC 8851 §10: a=rid:<rid-id> SP <rid-dir> [SP <rid-pt-param-list> / SP <rid-param-list>]
fn rid(i: &str) -> R<'_, Rid<'_>> {
    let (r, id) = rid_id(i)?;
    let (r, _) = sp(r)?;
    let (r, direction) = rid_direction(r)?;
    let mut rid = Rid {
        id: b(id),
        direction,
        payload_types: Vec::new(),
        restrictions: FmtpParameters::new(),
    };
    let Some(mut r) = r.strip_prefix(' ') else {
        return Ok((r, rid));
    };
    if let Some(rest) = r.strip_prefix("pt=") {
        let mut rest = rest;
        loop {
            let (after, pt) = payload_type(rest)?;
            rid.payload_types.push(pt);
            match after.strip_prefix(',') {
                Some(a) => rest = a,
                None => {
                    rest = after;
                    break;
                }
            }
        }
        r = match rest.strip_prefix(';') {
            Some(rest) => rest,
            None => return Ok((rest, rid)),
        };
    }
    let (r, restrictions) = parameters(r)?;
    rid.restrictions = restrictions;
    Ok((r, rid))
}

// RFC 8853 §5.1: sc-value = (sc-send [SP sc-recv]) / (sc-recv [SP sc-send])
fn simulcast(i: &str) -> R<'_, Simulcast<'_>> {
    let mut lists: Vec<SimulcastList<'_>> = Vec::with_capacity(2);
    let mut r = i;
    loop {
        let (rest, direction) = rid_direction(r)?;
        if lists.first().is_some_and(|l| l.direction == direction) {
            return fail(r, "the other direction");
        }
        let (mut rest, _) = sp(rest)?;
        let mut streams = Vec::with_capacity(4);
        loop {
            let mut alternatives = Vec::with_capacity(1);
            loop {
                let (paused, after) = match rest.strip_prefix('~') {
                    Some(a) => (true, a),
                    None => (false, rest),
                };
                let (after, id) = rid_id(after)?;
                alternatives.push(SimulcastRid { rid: b(id), paused });
                match after.strip_prefix(',') {
                    Some(a) => rest = a,
                    None => {
                        rest = after;
                        break;
                    }
                }
            }
            streams.push(alternatives);
            match rest.strip_prefix(';') {
                Some(a) => rest = a,
                None => break,
            }
        }
        lists.push(SimulcastList { direction, streams });
        match rest.strip_prefix(' ') {
            Some(a) if lists.len() < 2 => r = a,
            _ => {
                r = rest;
                break;
            }
        }
    }
    Ok((r, Simulcast { lists }))
}

/// Where the parser stands in the RFC 8866 §5 line order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Start,
    V,
    O,
    S,
    I,
    U,
    E,
    P,
    C,
    B,
    /// Inside time descriptions (`t=`, `r=`, `z=`).
    T,
    K,
    A,
}

fn stage_of(c: u8) -> Option<Stage> {
    Some(match c {
        b'v' => Stage::V,
        b'o' => Stage::O,
        b's' => Stage::S,
        b'i' => Stage::I,
        b'u' => Stage::U,
        b'e' => Stage::E,
        b'p' => Stage::P,
        b'c' => Stage::C,
        b'b' => Stage::B,
        b't' | b'r' | b'z' => Stage::T,
        b'k' => Stage::K,
        b'a' => Stage::A,
        _ => return None,
    })
}

/// Media-level line order (RFC 8866 §5): m= i=? c=* b=* k=? a=*.
fn media_rank(c: u8) -> Option<u8> {
    Some(match c {
        b'i' => 1,
        b'c' => 2,
        b'b' => 3,
        b'k' => 4,
        b'a' => 5,
        _ => return None,
    })
}

const SESSION_NEXT: &str = "`i=`, `u=`, `e=`, `p=`, `c=`, `b=` or `t=`";

fn column(line: &str, at: &str) -> usize {
    let offset = line.len().saturating_sub(at.len());
    line.get(..offset).map_or(offset, |s| s.chars().count()) + 1
}

/// Parses a description with explicit [`Limits`].
pub fn parse_with<'a>(
    input: &'a str,
    limits: &Limits,
) -> Result<SessionDescription<'a>, ParseError> {
    if input.len() > limits.max_bytes {
        return Err(ParseError {
            line: 1,
            column: 1,
            kind: ErrorKind::TooLarge {
                limit: limits.max_bytes,
            },
        });
    }
    let mut sd = SessionDescription {
        origin: Origin {
            username: Cow::Borrowed("-"),
            session_id: 0,
            session_version: 0,
            net_type: Cow::Borrowed("IN"),
            address_type: AddressType::Ip4,
            address: Address::Ip(IpAddr::from([0, 0, 0, 0])),
        },
        session_name: Cow::Borrowed(""),
        information: None,
        uri: None,
        emails: Vec::new(),
        phones: Vec::new(),
        connection: None,
        bandwidths: Vec::new(),
        times: Vec::new(),
        key: None,
        attributes: Vec::new(),
        media: Vec::new(),
    };
    // Attributes of the current section collect here and move into an exactly sized Vec,
    // with one memcpy, when the section ends: a video section has over a hundred, and
    // regrowing each section's Vec cost more than parsing them.
    let mut attrs: Vec<Attribute<'a>> = Vec::with_capacity(64);
    let mut stage = Stage::Start;
    // Rank of the last line in the current media section (0 right after `m=`).
    let mut media_stage: Option<u8> = None;
    // One pass over the newlines; CRLF and bare LF endings are both accepted.
    // Split with one boundary check per line (`\n` is ASCII, so the split is always on one).
    let mut remaining = input;
    let mut line_no = 0usize;
    while !remaining.is_empty() {
        let (raw, rest) = match memchr::memchr(b'\n', remaining.as_bytes()) {
            Some(end) => match remaining.split_at_checked(end) {
                Some((raw, rest)) => (raw, rest.strip_prefix('\n').unwrap_or(rest)),
                None => (remaining, ""),
            },
            None => (remaining, ""),
        };
        remaining = rest;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        line_no += 1;
        let err = |at: &str, kind: ErrorKind| ParseError {
            line: line_no,
            column: column(line, at),
            kind,
        };
        if line_no > limits.max_lines {
            return Err(err(
                line,
                ErrorKind::TooManyLines {
                    limit: limits.max_lines,
                },
            ));
        }
        if line.len() > limits.max_line_length {
            return Err(err(
                line,
                ErrorKind::LineTooLong {
                    limit: limits.max_line_length,
                },
            ));
        }
        if line.is_empty() && rest.bytes().all(|c| c.is_ascii_whitespace()) {
            // Trailing blank lines after the last line are tolerated.
            break;
        }
        let (letter, value) = match line.as_bytes() {
            [l, b'=', ..] if l.is_ascii_lowercase() => (*l, line.get(2..).unwrap_or_default()),
            _ => {
                let expected = if stage == Stage::Start {
                    "`v=0`"
                } else {
                    "a line `<type>=<value>` with a lower-case type letter"
                };
                return Err(err(line, ErrorKind::Expected(expected)));
            }
        };
        let value_err = |e: NomErr<Fail<'_>>| match e {
            // A stray NUL or CR is named as such, whatever the grammar wanted there.
            NomErr::Error(f) | NomErr::Failure(f) if f.at.starts_with(['\0', '\r']) => {
                err(f.at, ErrorKind::Expected(BAD_BYTE))
            }
            NomErr::Error(f) | NomErr::Failure(f) => err(f.at, ErrorKind::Expected(f.expected)),
            NomErr::Incomplete(_) => err("", ErrorKind::Expected("more input")),
        };

        if letter == b'm' {
            if stage < Stage::T {
                return Err(err(
                    line,
                    ErrorKind::MissingLine(missing_before_media(stage)),
                ));
            }
            let (_, m) = media(value).map_err(value_err)?;
            close_section(&mut attrs, &mut sd);
            sd.media.push(m);
            stage = Stage::A;
            media_stage = Some(0);
            continue;
        }

        if let (Some(current), Some(m)) = (media_stage, sd.media.last_mut()) {
            if letter == b'a' {
                // `a=` ranks last and repeats: always in order after `m=`.
                media_stage = Some(5);
                push_attribute(value, &mut attrs).map_err(value_err)?;
                continue;
            }
            let Some(rank) = media_rank(letter) else {
                return Err(err(
                    line,
                    if stage_of(letter).is_some() {
                        ErrorKind::OutOfOrder {
                            found: letter as char,
                            expected: "`i=`, `c=`, `b=`, `k=`, `a=` or `m=` in a media section",
                        }
                    } else {
                        ErrorKind::UnknownLineType(letter as char)
                    },
                ));
            };
            let repeatable = matches!(letter, b'c' | b'b' | b'a');
            if rank < current || (rank == current && !repeatable) {
                return Err(err(
                    line,
                    if rank == current {
                        ErrorKind::Duplicate(letter as char)
                    } else {
                        ErrorKind::OutOfOrder {
                            found: letter as char,
                            expected: "media lines in the order i= c= b= k= a=",
                        }
                    },
                ));
            }
            media_stage = Some(rank);
            match letter {
                b'a' => push_attribute(value, &mut attrs).map_err(value_err)?,
                b'i' => m.information = Some(Cow::Borrowed(text(value).map_err(value_err)?.1)),
                b'c' => m.connections.push(connection(value).map_err(value_err)?.1),
                b'b' => m.bandwidths.push(bandwidth(value).map_err(value_err)?.1),
                _ => m.key = Some(Cow::Borrowed(text(value).map_err(value_err)?.1)),
            }
            continue;
        }

        let Some(next) = stage_of(letter) else {
            return Err(err(line, ErrorKind::UnknownLineType(letter as char)));
        };
        // The first three lines are fixed: v=, o=, s= (RFC 8866 §5).
        let required = match stage {
            Stage::Start => Some((Stage::V, "`v=0`")),
            Stage::V => Some((Stage::O, "`o=`")),
            Stage::O => Some((Stage::S, "`s=`")),
            _ => None,
        };
        if let Some((want, what)) = required {
            if next != want {
                return Err(err(
                    line,
                    ErrorKind::OutOfOrder {
                        found: letter as char,
                        expected: what,
                    },
                ));
            }
        }
        let repeatable = matches!(letter, b'e' | b'p' | b'b' | b't' | b'r' | b'z' | b'a');
        if next < stage || (next == stage && !repeatable) {
            return Err(err(
                line,
                if next == stage {
                    ErrorKind::Duplicate(letter as char)
                } else {
                    ErrorKind::OutOfOrder {
                        found: letter as char,
                        expected: expected_after(stage),
                    }
                },
            ));
        }
        if next > Stage::T && stage < Stage::T {
            return Err(err(line, ErrorKind::MissingLine("a `t=` line")));
        }
        match letter {
            b'v' => {
                if value != "0" {
                    return Err(err(
                        value,
                        ErrorKind::Expected("`0` (the only SDP version)"),
                    ));
                }
            }
            b'o' => sd.origin = origin(value).map_err(value_err)?.1,
            b's' => sd.session_name = Cow::Borrowed(text(value).map_err(value_err)?.1),
            b'i' => sd.information = Some(Cow::Borrowed(text(value).map_err(value_err)?.1)),
            b'u' => sd.uri = Some(Cow::Borrowed(text(value).map_err(value_err)?.1)),
            b'e' => sd
                .emails
                .push(Cow::Borrowed(text(value).map_err(value_err)?.1)),
            b'p' => sd
                .phones
                .push(Cow::Borrowed(text(value).map_err(value_err)?.1)),
            b'c' => sd.connection = Some(connection(value).map_err(value_err)?.1),
            b'b' => sd.bandwidths.push(bandwidth(value).map_err(value_err)?.1),
            b't' => sd.times.push(timing(value).map_err(value_err)?.1),
            b'r' | b'z' => {
                let Some(t) = sd.times.last_mut() else {
                    return Err(err(
                        line,
                        ErrorKind::OutOfOrder {
                            found: letter as char,
                            expected: "a `t=` line first",
                        },
                    ));
                };
                let v = Cow::Borrowed(text(value).map_err(value_err)?.1);
                if letter == b'r' {
                    if t.zone.is_some() {
                        return Err(err(
                            line,
                            ErrorKind::OutOfOrder {
                                found: 'r',
                                expected: "`r=` lines before `z=`",
                            },
                        ));
                    }
                    t.repeats.push(v);
                } else {
                    if t.zone.is_some() {
                        return Err(err(line, ErrorKind::Duplicate('z')));
                    }
                    t.zone = Some(v);
                }
            }
            b'k' => sd.key = Some(Cow::Borrowed(text(value).map_err(value_err)?.1)),
            _ => push_attribute(value, &mut attrs).map_err(value_err)?,
        }
        stage = next;
    }
    close_section(&mut attrs, &mut sd);
    if stage < Stage::T {
        let what = match stage {
            Stage::Start => "`v=0`",
            Stage::V => "an `o=` line",
            Stage::O => "an `s=` line",
            _ => "a `t=` line",
        };
        return Err(ParseError {
            line: line_no.max(1),
            column: 1,
            kind: ErrorKind::MissingLine(what),
        });
    }
    Ok(sd)
}

/// Moves the collected attributes into the section they belong to: the last media
/// section, or the session before the first `m=`.
fn close_section<'a>(attrs: &mut Vec<Attribute<'a>>, sd: &mut SessionDescription<'a>) {
    let target = match sd.media.last_mut() {
        Some(m) => &mut m.attributes,
        None => &mut sd.attributes,
    };
    target.reserve_exact(attrs.len());
    target.append(attrs);
}

fn missing_before_media(stage: Stage) -> &'static str {
    match stage {
        Stage::Start => "`v=0`",
        Stage::V => "an `o=` line",
        Stage::O => "an `s=` line",
        _ => "a `t=` line",
    }
}

fn expected_after(stage: Stage) -> &'static str {
    match stage {
        Stage::Start => "`v=0`",
        Stage::V => "`o=`",
        Stage::O => "`s=`",
        Stage::S | Stage::I | Stage::U | Stage::E | Stage::P | Stage::C | Stage::B => SESSION_NEXT,
        Stage::T => "`t=`, `r=`, `z=`, `k=`, `a=` or `m=`",
        Stage::K => "`a=` or `m=`",
        Stage::A => "`a=` or `m=`",
    }
}

/// Parses a candidate as carried in trickle ICE: `candidate:...`, `a=candidate:...`, or the
/// bare value (RFC 8839 §5.1, RFC 8840 §4.1).
pub fn parse_candidate(s: &str) -> Result<Candidate<'_>, ParseError> {
    let body = s.strip_prefix("a=").unwrap_or(s);
    let body = body.strip_prefix("candidate:").unwrap_or(body);
    let to_err = |at: &str, expected| ParseError {
        line: 1,
        column: column(s, at),
        kind: ErrorKind::Expected(expected),
    };
    match candidate_value(body) {
        Ok(("", c)) => Ok(c),
        Ok((rest, _)) => Err(to_err(rest, "the end of the candidate")),
        Err(NomErr::Error(f) | NomErr::Failure(f)) => Err(to_err(f.at, f.expected)),
        Err(NomErr::Incomplete(_)) => Err(to_err("", "more input")),
    }
}

/// Parses one attribute line (`a=...` or the part after `a=`).
pub fn parse_attribute(s: &str) -> Result<Attribute<'_>, ParseError> {
    let body = s.strip_prefix("a=").unwrap_or(s);
    let to_err = |at: &str, expected| ParseError {
        line: 1,
        column: column(s, at),
        kind: ErrorKind::Expected(expected),
    };
    match attribute(body) {
        Ok((_, a)) => Ok(a),
        Err(NomErr::Error(f) | NomErr::Failure(f)) => Err(to_err(f.at, f.expected)),
        Err(NomErr::Incomplete(_)) => Err(to_err("", "more input")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn std_ip(s: &str) -> Option<IpAddr> {
        IpAddr::from_str(s).ok()
    }

    #[test]
    fn ipv6_fast_path_agrees_with_std_on_edge_cases() {
        for text in [
            "::",
            "::1",
            "1::",
            "fd00::2",
            "2001:db8::1",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1::8",
            "FD00::ABCD",
            "0000:0000::ffff",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            ":::",
            "1:::2",
            "1::2::3",
            "12345::",
            ":1::",
            "1::2:",
            "",
            ":",
            "1:2:3:4:5:6:7",
            "::ffff:192.0.2.1",
            "1:2:3:4:5:6:1.2.3.4",
            "g::1",
        ] {
            let fast = ipv6(text).map(IpAddr::V6);
            if fast.is_some() {
                assert_eq!(fast, std_ip(text), "{text}");
            }
            assert_eq!(address(text).ip(), std_ip(text), "{text}");
        }
    }

    proptest! {
        #[test]
        fn addresses_agree_with_std(text in "[0-9a-fA-F:.]{0,24}|([0-9a-f]{1,4}:){0,7}:?(:[0-9a-f]{1,4}){0,7}") {
            if let Some(v6) = ipv6(&text) {
                prop_assert_eq!(Some(IpAddr::V6(v6)), std_ip(&text));
            }
            prop_assert_eq!(address(&text).ip(), std_ip(&text));
        }
    }
}
