//! The parser: RFC 8866 line order, then one nom parser per line type and per attribute.
//!
//! Every value parser consumes the rest of its line, so the input left over at a failure is
//! a suffix of the line and gives the column exactly.
//!
//! The parsers are nom parsers (`IResult` in, `IResult` out, errors through nom's
//! `ParseError`), built on a few hand-written primitives over bytes rather than on nom's
//! generic combinators: a table-driven scan per character class, one integer reader, and a
//! dispatch on the attribute name that compares it as one integer. Profiles of the
//! combinator version spent more time in the combinators than in the grammar.
//!
//! ## Fast paths
//! Most of a browser's description is `a=` lines in media sections, and most of those are
//! a dozen kinds (`rtcp-fb`, `rtpmap`, `fmtp`, `extmap`, `candidate`, `ssrc`, ...). They
//! take a path of their own ([`media_attributes`]): the name and its `:` are matched as one
//! masked 16-byte comparison ([`push_scanned`]), and the value parser runs with
//! `SCAN = true` on the rest of the input, its free-text fields stopping at CR or LF, so
//! that the line needs no search for its end first. The line is accepted only if the
//! parser stopped at a line ending within the length limit ([`line_end`]); anything else,
//! errors included, reads the line again the general way, which alone reports errors. The
//! two paths give the same model and the same errors (`tests/fast_paths.rs`, and a
//! differential fuzz run against the line-at-a-time parser).

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr as _;

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

/// A failure at `at`: `expected` is what the grammar wanted there.
#[cold]
#[inline(never)]
fn error<'a>(at: &'a str, expected: &'static str) -> NomErr<Fail<'a>> {
    NomErr::Error(Fail { at, expected })
}

#[inline(always)]
fn fail<'a, T>(at: &'a str, expected: &'static str) -> R<'a, T> {
    Err(error(at, expected))
}

/// The failure of a function that parses an attribute and pushes it. Boxed: the result of
/// every push is then one register, not 40 bytes written and copied back through memory
/// once per line.
pub(crate) struct Failed<'a>(Box<Fail<'a>>);

/// What pushing an attribute gives.
type Pushed<'a> = Result<(), Failed<'a>>;

impl<'a> From<NomErr<Fail<'a>>> for Failed<'a> {
    #[cold]
    fn from(e: NomErr<Fail<'a>>) -> Self {
        Failed(Box::new(match e {
            NomErr::Error(f) | NomErr::Failure(f) => f,
            NomErr::Incomplete(_) => Fail {
                at: "",
                expected: "more input",
            },
        }))
    }
}

impl<'a> From<Failed<'a>> for NomErr<Fail<'a>> {
    fn from(f: Failed<'a>) -> Self {
        NomErr::Error(*f.0)
    }
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

        #[inline(always)]
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
    // NON_WS for a reader that finds the end of its line itself (see `push_scanned`).
    pub(super) static NON_WS_LF: ByteSet = ByteSet::all_but(b" \t\r\n\0");
    pub(super) static ADDRESS: ByteSet = ByteSet::all_but(b" \t/\r\0");
    pub(super) static PARAM_KEY: ByteSet = ByteSet::all_but(b"=; \r\0");
    pub(super) static PARAM_VALUE: ByteSet = ByteSet::all_but(b";\r\0");
    // Bytes with no meaning in a parameter list (see `canonical_parameters`).
    pub(super) static PARAM_PLAIN: ByteSet = ByteSet::all_but(b";= \r\n\0");
}

/// Length of the run of `set` bytes at the start of `i`.
#[inline(always)]
fn run_len(i: &[u8], set: &ByteSet) -> usize {
    let mut n = 0;
    while let Some(&c) = i.get(n) {
        if !set.contains(c) {
            break;
        }
        n += 1;
    }
    n
}

/// [`run_len`] for runs that are usually long (URIs, ids, passwords): eight bytes per test.
#[inline(always)]
fn run_len_long(i: &[u8], set: &ByteSet) -> usize {
    let mut n = 0;
    while let Some(&[a, b, c, d, e, f, g, h]) = i.get(n..n + 8) {
        let all = set.contains(a)
            & set.contains(b)
            & set.contains(c)
            & set.contains(d)
            & set.contains(e)
            & set.contains(f)
            & set.contains(g)
            & set.contains(h);
        if !all {
            break;
        }
        n += 8;
    }
    n + run_len(i.get(n..).unwrap_or_default(), set)
}

/// `i` split after `n` bytes, where `n` is the length of `i` or the position of an ASCII
/// byte (every scan stops at one), so the split is always on a character boundary.
#[inline(always)]
fn cut(i: &str, n: usize) -> (&str, &str) {
    i.split_at_checked(n).unwrap_or((i, ""))
}

/// One or more bytes of `set`, else `expected` at `i`.
#[inline(always)]
fn take1<'a>(i: &'a str, set: &ByteSet, expected: &'static str) -> R<'a, &'a str> {
    match run_len(i.as_bytes(), set) {
        0 => fail(i, expected),
        n => {
            let (head, rest) = cut(i, n);
            Ok((rest, head))
        }
    }
}

/// [`take1`] for runs that are usually long.
#[inline(always)]
fn take1_long<'a>(i: &'a str, set: &ByteSet, expected: &'static str) -> R<'a, &'a str> {
    match run_len_long(i.as_bytes(), set) {
        0 => fail(i, expected),
        n => {
            let (head, rest) = cut(i, n);
            Ok((rest, head))
        }
    }
}

/// The class of a free-text field: with `SCAN` (reading on past the line) it also stops at
/// LF.
#[inline(always)]
fn non_ws<const SCAN: bool>() -> &'static ByteSet {
    if SCAN {
        &NON_WS_LF
    } else {
        &NON_WS
    }
}

#[inline(always)]
fn token<'a>(i: &'a str, expected: &'static str) -> R<'a, &'a str> {
    take1(i, &TOKEN, expected)
}

#[inline(always)]
fn sp(i: &str) -> R<'_, char> {
    match i.strip_prefix(' ') {
        Some(rest) => Ok((rest, ' ')),
        None => fail(i, "a space"),
    }
}

/// A decimal number that fits `T`; `what` names it in the error. Digits are accumulated
/// directly; only from the 20th digit on can a u64 overflow, so only then is it checked.
#[inline(always)]
fn number<'a, T: TryFrom<u64>>(i: &'a str, what: &'static str) -> R<'a, T> {
    let bytes = i.as_bytes();
    let mut value: u64 = 0;
    let mut n = 0;
    // Nineteen digits cannot overflow a u64.
    for &c in bytes.iter().take(19) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        value = value * 10 + u64::from(d);
        n += 1;
    }
    if n == 19 {
        while let Some(d) = bytes
            .get(n)
            .map(|c| c.wrapping_sub(b'0'))
            .filter(|&d| d < 10)
        {
            value = match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d)))
            {
                Some(v) => v,
                None => return fail(i, what),
            };
            n += 1;
        }
    }
    match (n, T::try_from(value)) {
        (1.., Ok(v)) => Ok((cut(i, n).1, v)),
        _ => fail(i, what),
    }
}

/// [`number`] for numbers that are usually long (ICE priorities, SSRCs, ports, clock rates)
/// and followed by more text: up to eight digits are read at once, without a loop.
#[inline(always)]
fn number_long<'a, T: TryFrom<u64>>(i: &'a str, what: &'static str) -> R<'a, T> {
    let bytes = i.as_bytes();
    let Some(&chunk) = bytes.first_chunk::<8>() else {
        return number(i, what);
    };
    let (value, n) = eight_digits(chunk);
    if n < 8 {
        return match (n, T::try_from(value)) {
            (1.., Ok(v)) => Ok((cut(i, n).1, v)),
            _ => fail(i, what),
        };
    }
    // Eight digits and perhaps more: up to nineteen cannot overflow a u64.
    let mut value = value;
    let mut n = 8;
    for &c in bytes.iter().take(19).skip(8) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        value = value * 10 + u64::from(d);
        n += 1;
    }
    if n == 19 {
        return number(i, what);
    }
    match T::try_from(value) {
        Ok(v) => Ok((cut(i, n).1, v)),
        Err(_) => fail(i, what),
    }
}

/// The decimal digits at the start of eight bytes, as `(value, count)`, without a loop: a
/// byte is a digit when its high nibble is 3 and adding 6 does not carry out of its low
/// nibble; the digits are then shifted to the top (the bytes below read as leading zeros)
/// and combined pairwise, then in fours, then in eights.
#[inline(always)]
fn eight_digits(chunk: [u8; 8]) -> (u64, usize) {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    let x = u64::from_le_bytes(chunk);
    let high = (x & (0xF0 * ONES)) ^ (0x30 * ONES);
    // A carry out of a byte of 0xFA or more only changes bytes after it, which are past the
    // first non-digit and not looked at.
    let low = (x.wrapping_add(0x06 * ONES) & (0xF0 * ONES)) ^ (0x30 * ONES);
    let other = high | low;
    let n = if other == 0 {
        8
    } else {
        (other.trailing_zeros() / 8) as usize
    };
    if n == 0 {
        return (0, 0);
    }
    let d = (x << (8 * (8 - n))) & (0x0F * ONES);
    let d = (d.wrapping_mul(10 * 256 + 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100 * 65536 + 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    let d = d.wrapping_mul(10000 * (1 << 32) + 1) >> 32;
    (d, n)
}

const PT: &str = "a payload type (0-127)";

#[inline(always)]
fn payload_type(i: &str) -> R<'_, u8> {
    let (rest, pt) = number::<u8>(i, PT)?;
    if pt > 127 {
        return fail(i, PT);
    }
    Ok((rest, pt))
}

#[inline(always)]
fn eol(i: &str) -> R<'_, ()> {
    if i.is_empty() {
        Ok((i, ()))
    } else {
        fail(i, "the end of the line")
    }
}

/// Position of the first NUL or CR (and LF, when `LF`), eight bytes at a time: a byte of
/// `x` is zero exactly where `x - 0x01..01` borrows into a byte whose top bit `x` did not
/// have, and the lowest such byte is exact.
#[inline]
fn find_nul_or_cr<const LF: bool>(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const TOPS: u64 = ONES << 7;
    const CRS: u64 = ONES * b'\r' as u64;
    const LFS: u64 = ONES * b'\n' as u64;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let mut n = 0;
    while let Some(&[a, b, c, d, e, f, g, h]) = bytes.get(n..n + 8) {
        let x = u64::from_le_bytes([a, b, c, d, e, f, g, h]);
        let mut hits = zero(x) | zero(x ^ CRS);
        if LF {
            hits |= zero(x ^ LFS);
        }
        hits &= TOPS;
        if hits != 0 {
            return Some(n + (hits.trailing_zeros() / 8) as usize);
        }
        n += 8;
    }
    let tail = bytes.get(n..).unwrap_or_default();
    tail.iter()
        .position(|&c| c == 0 || c == b'\r' || (LF && c == b'\n'))
        .map(|p| n + p)
}

/// The rest of the line as a byte-string, possibly empty (RFC 8866 §9 excludes NUL and CR).
///
/// With `SCAN` the input runs on past the line, which ends at the first CR or LF: the text
/// stops there, and whether that is a proper line ending is left to the caller.
#[inline]
fn text0<const SCAN: bool>(i: &str) -> R<'_, &str> {
    match find_nul_or_cr::<SCAN>(i.as_bytes()) {
        Some(p) if SCAN && i.as_bytes().get(p) != Some(&0) => {
            let (text, rest) = cut(i, p);
            Ok((rest, text))
        }
        Some(p) => fail(cut(i, p).1, BAD_BYTE),
        None => Ok(("", i)),
    }
}

/// Non-empty rest of the line as a byte-string.
#[inline(always)]
fn text<const SCAN: bool>(i: &str) -> R<'_, &str> {
    if SCAN {
        match text0::<true>(i)? {
            (_, "") => fail(i, "some text"),
            found => Ok(found),
        }
    } else if i.is_empty() {
        fail(i, "some text")
    } else {
        text0::<false>(i)
    }
}

const BAD_BYTE: &str = "text without NUL or a lone carriage return";

#[inline(always)]
fn b(s: &str) -> Str<'_> {
    Cow::Borrowed(s)
}

/// A dotted-quad IPv4 address with the same rules as std's parser (four decimal octets,
/// each at most 255, no leading zeros), in a fraction of its instructions: candidates and
/// connection lines are mostly IPv4.
fn ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    let digit = |pos: usize| s.get(pos).map(|c| c.wrapping_sub(b'0')).filter(|&d| d < 10);
    let mut octets = [0u8; 4];
    let mut pos = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if s.get(pos) != Some(&b'.') {
                return None;
            }
            pos += 1;
        }
        let mut value = u16::from(digit(pos)?);
        pos += 1;
        if let Some(d) = digit(pos) {
            if value == 0 {
                return None; // a leading zero
            }
            value = value * 10 + u16::from(d);
            pos += 1;
            if let Some(d) = digit(pos) {
                value = value * 10 + u16::from(d);
                pos += 1;
            }
        }
        *octet = u8::try_from(value).ok()?;
    }
    (pos == s.len()).then(|| octets.into())
}

/// The common IPv6 forms, one to eight groups of one to four hex digits with at most one
/// `::` (which stands for at least one zero group, RFC 4291 §2.2), read in one pass with
/// the same rules and result as std's parser; `None` for anything else (embedded IPv4
/// included), which then goes to std.
fn ipv6(s: &[u8]) -> Option<Ipv6Addr> {
    let mut groups = [0u16; 8];
    let mut n = 0; // groups read
    let mut gap: Option<usize> = None; // where `::` stands, in groups
    let mut pos = 0;
    if s.starts_with(b"::") {
        if s.len() == 2 {
            return Some(Ipv6Addr::UNSPECIFIED);
        }
        gap = Some(0);
        pos = 2;
    }
    loop {
        let mut value: u16 = 0;
        let mut digits = 0;
        while let Some(h) = s.get(pos).and_then(|&c| hex_val(c)) {
            if digits == 4 {
                return None;
            }
            value = value << 4 | u16::from(h);
            digits += 1;
            pos += 1;
        }
        if digits == 0 {
            return None;
        }
        *groups.get_mut(n)? = value;
        n += 1;
        match s.get(pos) {
            None => break,
            Some(b':') => {
                pos += 1;
                if s.get(pos) == Some(&b':') {
                    if gap.is_some() {
                        return None;
                    }
                    gap = Some(n);
                    pos += 1;
                    if pos == s.len() {
                        break;
                    }
                }
            }
            Some(_) => return None,
        }
    }
    match gap {
        None if n == 8 => Some(groups.into()),
        None => None,
        Some(_) if n > 7 => None,
        Some(at) => {
            // groups[at..n] are the groups after `::`; they go to the end, zeros before them.
            let mut full = [0u16; 8];
            let tail = groups.get(at..n)?;
            full.get_mut(..at)?.copy_from_slice(groups.get(..at)?);
            full.get_mut(8 - tail.len()..)?.copy_from_slice(tail);
            Some(full.into())
        }
    }
}

/// An address as text: an IP literal if it parses as one, otherwise a name.
pub(crate) fn address(s: &str) -> Address<'_> {
    let bytes = s.as_bytes();
    if let Some(v4) = ipv4(bytes) {
        return Address::Ip(IpAddr::V4(v4));
    }
    if let Some(v6) = ipv6(bytes) {
        return Address::Ip(IpAddr::V6(v6));
    }
    // Only text that can be an IP literal goes to std's parser.
    let maybe_ip = bytes
        .iter()
        .all(|&c| c.is_ascii_hexdigit() || c == b'.' || c == b':');
    if maybe_ip {
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

const NET_TYPE: &str = "a network type (`IN`)";
const ADDR_TYPE: &str = "an address type (`IP4` or `IP6`)";
const PORT: &str = "a port (0-65535)";

// RFC 8866 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
fn origin(i: &str) -> R<'_, Origin<'_>> {
    let (i, username) = take1(i, &NON_WS, "a user name (`-` for none)")?;
    let (i, _) = sp(i)?;
    let (i, session_id) = number::<u64>(i, "a numeric session id")?;
    let (i, _) = sp(i)?;
    let (i, session_version) = number::<u64>(i, "a numeric session version")?;
    let (i, _) = sp(i)?;
    let (i, net_type) = token(i, NET_TYPE)?;
    let (i, _) = sp(i)?;
    let (i, addr_type) = token(i, ADDR_TYPE)?;
    let (i, _) = sp(i)?;
    let (i, addr) = take1(i, &NON_WS, "a unicast address")?;
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
    let (i, net_type) = token(i, NET_TYPE)?;
    let (i, _) = sp(i)?;
    let (i, addr_type) = token(i, ADDR_TYPE)?;
    let (i, _) = sp(i)?;
    let (i, addr) = take1(i, &ADDRESS, "a connection address")?;
    let address_type = address_type(addr_type);
    let (mut ttl, mut count) = (None, None);
    let mut i = i;
    // IP4 multicast: addr/ttl[/count]; IP6 multicast: addr[/count] (RFC 8866 §5.7).
    if let Some(rest) = i.strip_prefix('/') {
        if address_type == AddressType::Ip6 {
            let (rest, n) = number::<u32>(rest, "a number of addresses")?;
            count = Some(n);
            i = rest;
        } else {
            let (rest, t) = number::<u8>(rest, "a multicast TTL (0-255)")?;
            ttl = Some(t);
            i = rest;
            if let Some(rest) = i.strip_prefix('/') {
                let (rest, n) = number::<u32>(rest, "a number of addresses")?;
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
    let (i, kind) = token(i, "a bandwidth type such as `AS` or `TIAS`")?;
    let (i, _) = expect("`:`", char(':'))(i)?;
    let (i, value) = number::<u64>(i, "a bandwidth value")?;
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
    let (i, start) = number::<u64>(i, "a start time")?;
    let (i, _) = sp(i)?;
    let (i, stop) = number::<u64>(i, "a stop time")?;
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

const FORMATS: &str = "a space and at least one media format";

// RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ...
fn media(i: &str) -> R<'_, MediaDescription<'_>> {
    let (i, kind) = token(i, "a media type such as `audio`")?;
    let (i, _) = sp(i)?;
    let (i, port) = number::<u16>(i, PORT)?;
    let (i, port_count) = match i.strip_prefix('/') {
        Some(rest) => {
            let (rest, n) = number::<u16>(rest, "a number of ports")?;
            (rest, Some(n))
        }
        None => (i, None),
    };
    let (i, _) = sp(i)?;
    // proto = token *("/" token)
    let (i, protocol) = take1(
        i,
        &PROTO,
        "a transport protocol such as `UDP/TLS/RTP/SAVPF`",
    )?;
    let rtp = protocol.contains("RTP/");
    let mut i = i;
    let formats = if rtp {
        if i.is_empty() {
            return fail(i, FORMATS);
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
            return fail(i, FORMATS);
        }
        let mut fmts = Vec::with_capacity(1);
        while !i.is_empty() {
            let (rest, _) = sp(i)?;
            let (rest, f) = token(rest, "a media format")?;
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

/// The attribute names this crate types, and everything else.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Name {
    Candidate,
    IceUfrag,
    IcePwd,
    IceOptions,
    Fingerprint,
    Setup,
    Mid,
    Group,
    Msid,
    MsidSemantic,
    Rtpmap,
    Fmtp,
    RtcpFb,
    Extmap,
    Ssrc,
    SsrcGroup,
    Rid,
    Simulcast,
    Rtcp,
    SctpPort,
    MaxMessageSize,
    Sctpmap,
    SctpInit,
    IceLite,
    EndOfCandidates,
    ExtmapAllowMixed,
    RtcpMux,
    RtcpMuxOnly,
    RtcpRsize,
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
    Other,
}

impl Name {
    /// Attributes that never take a value (`a=<flag>`).
    fn is_flag(self) -> bool {
        matches!(
            self,
            Name::IceLite
                | Name::EndOfCandidates
                | Name::ExtmapAllowMixed
                | Name::RtcpMux
                | Name::RtcpMuxOnly
                | Name::RtcpRsize
                | Name::SendRecv
                | Name::SendOnly
                | Name::RecvOnly
                | Name::Inactive
        )
    }
}

/// The first 16 bytes of a name as one little-endian integer, zero-padded. Names are
/// tokens, which hold no NUL, so two names of at most 16 bytes are equal exactly when
/// their keys are.
// `j` stays below the length.
#[allow(clippy::indexing_slicing)]
const fn key(name: &[u8]) -> u128 {
    let mut k = 0u128;
    let mut j = 0;
    while j < name.len() && j < 16 {
        k |= (name[j] as u128) << (8 * j);
        j += 1;
    }
    k
}

/// Which attribute the name `line[..n]` is; `n` is its length, a token. `window` is the
/// line followed by whatever input comes after it: its first 16 bytes, masked to the name,
/// are one integer to switch on instead of a string comparison per known name.
#[inline(always)]
fn classify(line: &str, window: &[u8], n: usize) -> Name {
    let name_key = match window.first_chunk::<16>() {
        Some(head) if n < 16 => u128::from_le_bytes(*head) & ((1u128 << (8 * n)) - 1),
        Some(head) if n == 16 => u128::from_le_bytes(*head),
        _ if n > 16 => {
            return match line.as_bytes().get(..n) {
                Some(b"end-of-candidates") => Name::EndOfCandidates,
                Some(b"extmap-allow-mixed") => Name::ExtmapAllowMixed,
                _ => Name::Other,
            }
        }
        _ => key(line.as_bytes().get(..n).unwrap_or_default()),
    };
    name_of(name_key)
}

/// `name:` as a key and the mask of its length, for [`push_known`].
const fn pattern(name_colon: &str) -> (u128, u128) {
    let n = name_colon.len();
    let mask = if n >= 16 {
        u128::MAX
    } else {
        (1u128 << (8 * n)) - 1
    };
    (key(name_colon.as_bytes()), mask)
}

#[inline(always)]
fn hit(window: u128, (key, mask): (u128, u128)) -> bool {
    window & mask == key
}

/// The first four bytes of the names [`push_known`] and [`push_scanned`] know, and each
/// name with its `:` as a [`pattern`].
const fn p4(s: &str) -> u32 {
    key(s.as_bytes()) as u32
}
const P4_RTCP: u32 = p4("rtcp");
const P4_RTPM: u32 = p4("rtpm");
const P4_FMTP: u32 = p4("fmtp");
const P4_EXTM: u32 = p4("extm");
const P4_CAND: u32 = p4("cand");
const P4_SSRC: u32 = p4("ssrc");
const P4_ICE: u32 = p4("ice-");
const P4_FING: u32 = p4("fing");
const P4_SETU: u32 = p4("setu");
const P4_MID: u32 = p4("mid:");
const P4_MSID: u32 = p4("msid");
const RTCP_FB: (u128, u128) = pattern("rtcp-fb:");
const RTPMAP: (u128, u128) = pattern("rtpmap:");
const FMTP_: (u128, u128) = pattern("fmtp:");
const EXTMAP: (u128, u128) = pattern("extmap:");
const CANDIDATE: (u128, u128) = pattern("candidate:");
const SSRC_: (u128, u128) = pattern("ssrc:");
const ICE_UFRAG: (u128, u128) = pattern("ice-ufrag:");
const ICE_PWD: (u128, u128) = pattern("ice-pwd:");
const ICE_OPTIONS: (u128, u128) = pattern("ice-options:");
const FINGERPRINT: (u128, u128) = pattern("fingerprint:");
const SETUP: (u128, u128) = pattern("setup:");
const MSID_: (u128, u128) = pattern("msid:");
const P4_SEND: u32 = p4("send");
const P4_RECV: u32 = p4("recv");
const P4_INAC: u32 = p4("inac");
const P4_GROU: u32 = p4("grou");
const P4_SCTP: u32 = p4("sctp");
const RTCP_: (u128, u128) = pattern("rtcp:");
const SSRC_GROUP: (u128, u128) = pattern("ssrc-group:");
const MSID_SEMANTIC: (u128, u128) = pattern("msid-semantic:");
const GROUP: (u128, u128) = pattern("group:");
const SCTP_PORT: (u128, u128) = pattern("sctp-port:");
// Flags, with the line ending after them (CRLF or LF).
const RTCP_MUX: [(u128, u128); 2] = [pattern("rtcp-mux\r\n"), pattern("rtcp-mux\n")];
const RTCP_RSIZE: [(u128, u128); 2] = [pattern("rtcp-rsize\r\n"), pattern("rtcp-rsize\n")];
const SENDRECV: [(u128, u128); 2] = [pattern("sendrecv\r\n"), pattern("sendrecv\n")];
const SENDONLY: [(u128, u128); 2] = [pattern("sendonly\r\n"), pattern("sendonly\n")];
const RECVONLY: [(u128, u128); 2] = [pattern("recvonly\r\n"), pattern("recvonly\n")];
const INACTIVE: [(u128, u128); 2] = [pattern("inactive\r\n"), pattern("inactive\n")];

/// The fast path of [`push_attribute`] for the attributes a browser writes most.
///
/// `window` is the line from the attribute name on, followed by whatever input comes after
/// it. Its first four bytes pick a group of names, and each name of the group is checked
/// together with its `:` as one masked 16-byte comparison. A match is exactly that name and
/// its `:`, all inside the line (names hold no line breaks), so the name needs no scan.
/// `None` when nothing matched, or fewer than 16 bytes are left: the general path decides.
#[inline(always)]
fn push_known<'a>(
    line: &'a str,
    window: &[u8],
    out: &mut Vec<Attribute<'a>>,
) -> Option<Pushed<'a>> {
    // A flag is the whole line: its name, then the line ending in the window, and nothing
    // else in the line (which matters where the window is only the line, as for
    // `parse_attribute`).
    let flag = |w: u128, [crlf, lf]: [(u128, u128); 2], name: &str| {
        (hit(w, crlf) || hit(w, lf)) && line.len() == name.len()
    };
    let w = u128::from_le_bytes(*window.first_chunk::<16>()?);
    let mut push = |a: Attribute<'a>| {
        out.push(a);
        Some(Ok(()))
    };
    // The value after `name:`, `n` bytes in.
    let value = |n: usize| cut(line, n).1;
    let (kind, n) = match w as u32 {
        P4_RTCP if hit(w, RTCP_FB) => return Some(push_rtcp_fb(value(8), out)),
        P4_RTPM if hit(w, RTPMAP) => return Some(push_rtpmap(value(7), out)),
        P4_FMTP if hit(w, FMTP_) => return Some(push_fmtp(value(5), out)),
        P4_EXTM if hit(w, EXTMAP) => return Some(push_extmap(value(7), out)),
        P4_CAND if hit(w, CANDIDATE) => return Some(push_candidate(value(10), out)),
        P4_SSRC if hit(w, SSRC_) => return Some(push_ssrc(value(5), out)),
        P4_ICE if hit(w, ICE_UFRAG) => (Name::IceUfrag, 10),
        P4_ICE if hit(w, ICE_PWD) => (Name::IcePwd, 8),
        P4_ICE if hit(w, ICE_OPTIONS) => (Name::IceOptions, 12),
        P4_FING if hit(w, FINGERPRINT) => (Name::Fingerprint, 12),
        P4_SETU if hit(w, SETUP) => (Name::Setup, 6),
        P4_MID => (Name::Mid, 4),
        P4_MSID if hit(w, MSID_) => (Name::Msid, 5),
        P4_RTCP if hit(w, RTCP_) => (Name::Rtcp, 5),
        P4_SSRC if hit(w, SSRC_GROUP) => (Name::SsrcGroup, 11),
        P4_MSID if hit(w, MSID_SEMANTIC) => (Name::MsidSemantic, 14),
        P4_GROU if hit(w, GROUP) => (Name::Group, 6),
        P4_SCTP if hit(w, SCTP_PORT) => (Name::SctpPort, 10),
        P4_RTCP if flag(w, RTCP_MUX, "rtcp-mux") => return push(Attribute::RtcpMux),
        P4_RTCP if flag(w, RTCP_RSIZE, "rtcp-rsize") => return push(Attribute::RtcpRsize),
        P4_SEND if flag(w, SENDRECV, "sendrecv") => {
            return push(Attribute::Direction(Direction::SendRecv))
        }
        P4_SEND if flag(w, SENDONLY, "sendonly") => {
            return push(Attribute::Direction(Direction::SendOnly))
        }
        P4_RECV if flag(w, RECVONLY, "recvonly") => {
            return push(Attribute::Direction(Direction::RecvOnly))
        }
        P4_INAC if flag(w, INACTIVE, "inactive") => {
            return push(Attribute::Direction(Direction::Inactive))
        }
        _ => return None,
    };
    Some(push_value(kind, cut(line, n - 1).0, value(n), out))
}

#[inline(always)]
fn name_of(name_key: u128) -> Name {
    const fn k(name: &str) -> u128 {
        key(name.as_bytes())
    }
    const CANDIDATE: u128 = k("candidate");
    const ICE_UFRAG: u128 = k("ice-ufrag");
    const ICE_PWD: u128 = k("ice-pwd");
    const ICE_OPTIONS: u128 = k("ice-options");
    const FINGERPRINT: u128 = k("fingerprint");
    const SETUP: u128 = k("setup");
    const MID: u128 = k("mid");
    const GROUP: u128 = k("group");
    const MSID: u128 = k("msid");
    const MSID_SEMANTIC: u128 = k("msid-semantic");
    const RTPMAP: u128 = k("rtpmap");
    const FMTP: u128 = k("fmtp");
    const RTCP_FB: u128 = k("rtcp-fb");
    const EXTMAP: u128 = k("extmap");
    const SSRC: u128 = k("ssrc");
    const SSRC_GROUP: u128 = k("ssrc-group");
    const RID: u128 = k("rid");
    const SIMULCAST: u128 = k("simulcast");
    const RTCP: u128 = k("rtcp");
    const SCTP_PORT: u128 = k("sctp-port");
    const MAX_MESSAGE_SIZE: u128 = k("max-message-size");
    const SCTPMAP: u128 = k("sctpmap");
    const SCTP_INIT: u128 = k("sctp-init");
    const ICE_LITE: u128 = k("ice-lite");
    const RTCP_MUX: u128 = k("rtcp-mux");
    const RTCP_MUX_ONLY: u128 = k("rtcp-mux-only");
    const RTCP_RSIZE: u128 = k("rtcp-rsize");
    const SENDRECV: u128 = k("sendrecv");
    const SENDONLY: u128 = k("sendonly");
    const RECVONLY: u128 = k("recvonly");
    const INACTIVE: u128 = k("inactive");
    // The two names longer than 16 bytes were matched above, and a 16-byte prefix of an
    // unknown longer name equals no key here (none of these is 16 bytes but
    // `max-message-size`, and `n` > 16 never gets here).
    match name_key {
        RTCP_FB => Name::RtcpFb,
        RTPMAP => Name::Rtpmap,
        FMTP => Name::Fmtp,
        EXTMAP => Name::Extmap,
        CANDIDATE => Name::Candidate,
        SSRC => Name::Ssrc,
        ICE_UFRAG => Name::IceUfrag,
        ICE_PWD => Name::IcePwd,
        ICE_OPTIONS => Name::IceOptions,
        FINGERPRINT => Name::Fingerprint,
        SETUP => Name::Setup,
        MID => Name::Mid,
        GROUP => Name::Group,
        MSID => Name::Msid,
        MSID_SEMANTIC => Name::MsidSemantic,
        SSRC_GROUP => Name::SsrcGroup,
        RID => Name::Rid,
        SIMULCAST => Name::Simulcast,
        RTCP => Name::Rtcp,
        SCTP_PORT => Name::SctpPort,
        MAX_MESSAGE_SIZE => Name::MaxMessageSize,
        SCTPMAP => Name::Sctpmap,
        SCTP_INIT => Name::SctpInit,
        ICE_LITE => Name::IceLite,
        RTCP_MUX => Name::RtcpMux,
        RTCP_MUX_ONLY => Name::RtcpMuxOnly,
        RTCP_RSIZE => Name::RtcpRsize,
        SENDRECV => Name::SendRecv,
        SENDONLY => Name::SendOnly,
        RECVONLY => Name::RecvOnly,
        INACTIVE => Name::Inactive,
        _ => Name::Other,
    }
}

// RFC 8866 §5.13: a=<attribute> / a=<attribute>:<value>
pub(crate) fn attribute(i: &str) -> R<'_, Attribute<'_>> {
    let mut out = Vec::with_capacity(1);
    push_attribute_cold(i, i.as_bytes(), &mut out)?;
    match out.pop() {
        Some(a) => Ok(("", a)),
        None => fail(i, "an attribute"),
    }
}

/// Checks that the value ended the line, then pushes the attribute.
#[inline(always)]
fn emit<'a>(out: &mut Vec<Attribute<'a>>, rest: &'a str, a: Attribute<'a>) -> Pushed<'a> {
    eol(rest)?;
    out.push(a);
    Ok(())
}

/// `fn $push(value, out)`: runs the value parser `$parser`, checks that it ended the line
/// and pushes the attribute `$variant`.
///
/// Each frequent attribute is pushed from a function of its own. When the arms of one
/// `match` pushed their variants, the compiler merged the pushes into one, which
/// assembled the `Attribute` on the stack with narrow stores and copied it with wide
/// loads: a store-forwarding stall once per attribute, more than the parsing cost.
macro_rules! pusher {
    ($push:ident, $parser:expr, $variant:expr) => {
        #[inline(never)]
        fn $push<'a>(v: &'a str, out: &mut Vec<Attribute<'a>>) -> Pushed<'a> {
            let (r, x) = $parser(v)?;
            eol(r)?;
            out.push($variant(x));
            Ok(())
        }
    };
}

pusher!(push_rtcp_fb, rtcp_fb::<false>, Attribute::RtcpFb);
pusher!(push_rtpmap, rtpmap, Attribute::Rtpmap);
pusher!(push_fmtp, fmtp::<false>, Attribute::Fmtp);
pusher!(push_extmap, extmap::<false>, Attribute::Extmap);
pusher!(
    push_candidate,
    candidate_value::<false>,
    Attribute::Candidate
);
pusher!(push_ssrc, ssrc::<false>, Attribute::Ssrc);

/// `fn $push(input, start, value, max_len, out)`, for the media loop: reads the attribute
/// whose line starts at `start` and whose value at `value` with a reader that runs on past
/// the line and stops where it ends, so that the line needs no search for its end first.
/// If the reader stops at a line ending and the line is within `max_len`, pushes the
/// attribute and gives where the next line starts; otherwise `None`, and the line is read
/// again the usual way, which reports any error exactly.
macro_rules! scanned_pusher {
    ($push:ident, $parser:expr, $variant:expr) => {
        #[inline(never)]
        fn $push<'a>(
            input: &'a str,
            start: usize,
            value: usize,
            max_len: usize,
            out: &mut Vec<Attribute<'a>>,
        ) -> Option<usize> {
            let (rest, x) = $parser(input.get(value..)?).ok()?;
            let next = line_end(input, start, rest, max_len)?;
            out.push($variant(x));
            Some(next)
        }
    };
}

scanned_pusher!(scan_rtcp_fb, rtcp_fb::<true>, Attribute::RtcpFb);
scanned_pusher!(scan_rtpmap, rtpmap, Attribute::Rtpmap);
scanned_pusher!(scan_fmtp, fmtp::<true>, Attribute::Fmtp);
scanned_pusher!(scan_extmap, extmap::<true>, Attribute::Extmap);
scanned_pusher!(
    scan_candidate,
    candidate_value::<true>,
    Attribute::Candidate
);
scanned_pusher!(scan_ssrc, ssrc::<true>, Attribute::Ssrc);
scanned_pusher!(scan_mid, mid, Attribute::Mid);
scanned_pusher!(scan_msid, msid, Attribute::Msid);
scanned_pusher!(scan_setup, setup::<true>, Attribute::Setup);
scanned_pusher!(
    scan_fingerprint,
    fingerprint::<true>,
    Attribute::Fingerprint
);
scanned_pusher!(scan_ice_ufrag, ice_string, |s| Attribute::IceUfrag(b(s)));
scanned_pusher!(scan_ice_pwd, ice_string, |s| Attribute::IcePwd(b(s)));

/// Where the line after the one from `start` begins, if `rest` (a suffix of `input`) starts
/// with a line ending (CRLF, LF, a CR that ends the input, or the end of the input) and the
/// line from `start` to there is at most `max_len` bytes.
#[inline(always)]
fn line_end(input: &str, start: usize, rest: &str, max_len: usize) -> Option<usize> {
    let end = input.len().checked_sub(rest.len())?;
    if end.checked_sub(start)? > max_len {
        return None;
    }
    let ending = match rest.as_bytes() {
        [b'\r', b'\n', ..] => 2,
        [b'\n', ..] | [b'\r'] => 1,
        [] => 0,
        _ => return None,
    };
    Some(end + ending)
}

/// The media loop's fast path for its most frequent attributes (see [`scanned_pusher`]):
/// the line starting at `start` is `a=<name>:...`; `None` when the name is not one of
/// them, or the line needs the usual reading.
#[inline(always)]
fn push_scanned<'a>(
    input: &'a str,
    start: usize,
    max_len: usize,
    out: &mut Vec<Attribute<'a>>,
) -> Option<usize> {
    let window = input.as_bytes().get(start + 2..)?;
    let w = u128::from_le_bytes(*window.first_chunk::<16>()?);
    let value = start + 2;
    match w as u32 {
        P4_RTCP if hit(w, RTCP_FB) => scan_rtcp_fb(input, start, value + 8, max_len, out),
        P4_RTPM if hit(w, RTPMAP) => scan_rtpmap(input, start, value + 7, max_len, out),
        P4_FMTP if hit(w, FMTP_) => scan_fmtp(input, start, value + 5, max_len, out),
        P4_EXTM if hit(w, EXTMAP) => scan_extmap(input, start, value + 7, max_len, out),
        P4_CAND if hit(w, CANDIDATE) => scan_candidate(input, start, value + 10, max_len, out),
        P4_SSRC if hit(w, SSRC_) => scan_ssrc(input, start, value + 5, max_len, out),
        P4_ICE if hit(w, ICE_UFRAG) => scan_ice_ufrag(input, start, value + 10, max_len, out),
        P4_ICE if hit(w, ICE_PWD) => scan_ice_pwd(input, start, value + 8, max_len, out),
        P4_FING if hit(w, FINGERPRINT) => scan_fingerprint(input, start, value + 12, max_len, out),
        P4_SETU if hit(w, SETUP) => scan_setup(input, start, value + 6, max_len, out),
        P4_MID => scan_mid(input, start, value + 4, max_len, out),
        P4_MSID if hit(w, MSID_) => scan_msid(input, start, value + 5, max_len, out),
        _ => None,
    }
}

const NO_VALUE: &str = "the end of the line (this attribute takes no value)";
const SSRC_NUM: &str = "an SSRC (0-4294967295)";

/// Parses one attribute (the text after `a=`) and pushes it. `window` is `line` followed by
/// whatever input comes after it, for [`push_known`].
#[inline(always)]
fn push_attribute<'a>(line: &'a str, window: &[u8], out: &mut Vec<Attribute<'a>>) -> Pushed<'a> {
    match push_known(line, window, out) {
        Some(done) => done,
        None => push_other(line, window, out),
    }
}

/// [`push_attribute`] where the line is not one of a media section's.
#[inline(never)]
fn push_attribute_cold<'a>(
    line: &'a str,
    window: &[u8],
    out: &mut Vec<Attribute<'a>>,
) -> Pushed<'a> {
    push_attribute(line, window, out)
}

/// The general path of [`push_attribute`]: any name, flags, and lines near the end.
#[inline(never)]
fn push_other<'a>(line: &'a str, window: &[u8], out: &mut Vec<Attribute<'a>>) -> Pushed<'a> {
    let n = run_len(line.as_bytes(), &TOKEN);
    if n == 0 {
        return Err(error(line, "an attribute name").into());
    }
    let kind = classify(line, window, n);
    let (name, i) = cut(line, n);
    let Some(v) = i.strip_prefix(':') else {
        if !i.is_empty() {
            return Err(error(i, "`:` or the end of the line after the attribute name").into());
        }
        let a = match kind {
            Name::IceLite => Attribute::IceLite,
            Name::EndOfCandidates => Attribute::EndOfCandidates,
            Name::ExtmapAllowMixed => Attribute::ExtmapAllowMixed,
            Name::RtcpMux => Attribute::RtcpMux,
            Name::RtcpMuxOnly => Attribute::RtcpMuxOnly,
            Name::RtcpRsize => Attribute::RtcpRsize,
            Name::SendRecv => Attribute::Direction(Direction::SendRecv),
            Name::SendOnly => Attribute::Direction(Direction::SendOnly),
            Name::RecvOnly => Attribute::Direction(Direction::RecvOnly),
            Name::Inactive => Attribute::Direction(Direction::Inactive),
            Name::Other => Attribute::Other {
                name: b(name),
                value: None,
            },
            _ => return Err(error(i, "`:` and a value").into()),
        };
        out.push(a);
        return Ok(());
    };
    if kind.is_flag() {
        return Err(error(i, NO_VALUE).into());
    }
    push_value(kind, name, v, out)
}

/// Parses the value `v` of the attribute `kind` (called `name`) and pushes it.
#[inline(never)]
fn push_value<'a>(
    kind: Name,
    name: &'a str,
    v: &'a str,
    out: &mut Vec<Attribute<'a>>,
) -> Pushed<'a> {
    match kind {
        Name::RtcpFb => push_rtcp_fb(v, out),
        Name::Rtpmap => push_rtpmap(v, out),
        Name::Fmtp => push_fmtp(v, out),
        Name::Extmap => push_extmap(v, out),
        Name::Candidate => push_candidate(v, out),
        Name::IceUfrag => {
            let (r, s) = ice_string(v)?;
            emit(out, r, Attribute::IceUfrag(b(s)))
        }
        Name::IcePwd => {
            let (r, s) = ice_string(v)?;
            emit(out, r, Attribute::IcePwd(b(s)))
        }
        Name::IceOptions => {
            let (r, list) = token_list(v, "an ICE option such as `trickle`")?;
            emit(out, r, Attribute::IceOptions(list))
        }
        Name::Fingerprint => {
            let (r, f) = fingerprint::<false>(v)?;
            emit(out, r, Attribute::Fingerprint(f))
        }
        Name::Setup => {
            let (r, s) = setup::<false>(v)?;
            emit(out, r, Attribute::Setup(s))
        }
        Name::Mid => {
            let (r, m) = mid(v)?;
            emit(out, r, Attribute::Mid(m))
        }
        Name::Group => {
            let (r, semantics) = token(v, "group semantics such as `BUNDLE`")?;
            let (r, mids) = space_tokens(r, "a media id")?;
            let semantics = b(semantics);
            emit(out, r, Attribute::Group(Group { semantics, mids }))
        }
        Name::MsidSemantic => {
            // Browsers write `msid-semantic: WMS <ids>` with a space after the colon.
            let r = v.trim_start_matches(' ');
            let (r, semantic) = token(r, "an msid semantic such as `WMS`")?;
            let (r, identifiers) = space_tokens(r, "a stream id or `*`")?;
            let semantic = b(semantic);
            let m = MsidSemantic {
                semantic,
                identifiers,
            };
            emit(out, r, Attribute::MsidSemantic(m))
        }
        Name::Msid => {
            let (r, m) = msid(v)?;
            emit(out, r, Attribute::Msid(m))
        }
        Name::Ssrc => push_ssrc(v, out),
        Name::SsrcGroup => {
            let (mut r, semantics) = token(v, "ssrc-group semantics such as `FID`")?;
            let mut ssrcs = Vec::with_capacity(3);
            while !r.is_empty() {
                let (rest, _) = sp(r)?;
                let (rest, s) = number::<u32>(rest, SSRC_NUM)?;
                ssrcs.push(s);
                r = rest;
            }
            let semantics = b(semantics);
            emit(out, r, Attribute::SsrcGroup(SsrcGroup { semantics, ssrcs }))
        }
        Name::Rid => {
            let (r, x) = rid(v)?;
            emit(out, r, Attribute::Rid(Box::new(x)))
        }
        Name::Simulcast => {
            let (r, x) = simulcast(v)?;
            emit(out, r, Attribute::Simulcast(x))
        }
        Name::Rtcp => {
            let (r, port) = number::<u16>(v, PORT)?;
            let (r, connection) = match r.strip_prefix(' ') {
                Some(r) => {
                    let (r, c) = connection(r)?;
                    (r, Some(c))
                }
                None => (r, None),
            };
            emit(out, r, Attribute::Rtcp(Box::new(Rtcp { port, connection })))
        }
        Name::SctpPort => {
            let (r, p) = number::<u16>(v, PORT)?;
            emit(out, r, Attribute::SctpPort(p))
        }
        Name::MaxMessageSize => {
            let (r, n) = number::<u64>(v, "a size in bytes")?;
            emit(out, r, Attribute::MaxMessageSize(n))
        }
        Name::Sctpmap => {
            let (r, port) = number::<u16>(v, PORT)?;
            let (r, _) = sp(r)?;
            let (r, protocol) = token(r, "a protocol such as `webrtc-datachannel`")?;
            let (r, streams) = match r.strip_prefix(' ') {
                Some(r) => {
                    let (r, n) = number::<u32>(r, "a number of streams")?;
                    (r, Some(n))
                }
                None => (r, None),
            };
            let protocol = b(protocol);
            let m = Sctpmap {
                port,
                protocol,
                streams,
            };
            emit(out, r, Attribute::Sctpmap(m))
        }
        Name::SctpInit => {
            let (r, s) = take1_long(v, &BASE64, "a base64 SCTP INIT chunk")?;
            emit(out, r, Attribute::SctpInit(b(s)))
        }
        _ => {
            let (r, v) = text0::<false>(v)?;
            let (name, value) = (b(name), Some(b(v)));
            emit(out, r, Attribute::Other { name, value })
        }
    }
}

// RFC 5576 §4.1: ssrc-attr = "ssrc:" ssrc-id SP attribute
#[inline(always)]
fn ssrc<const SCAN: bool>(v: &str) -> R<'_, SsrcAttribute<'_>> {
    let (r, ssrc) = number_long::<u32>(v, SSRC_NUM)?;
    let (r, _) = sp(r)?;
    let (r, attribute) = token(r, "an attribute name")?;
    let (r, value) = match r.strip_prefix(':') {
        Some(val) => {
            let (r, val) = text0::<SCAN>(val)?;
            (r, Some(b(val)))
        }
        None => (r, None),
    };
    Ok((
        r,
        SsrcAttribute {
            ssrc,
            attribute: b(attribute),
            value,
        },
    ))
}

// RFC 4145 §4: role = "active" / "passive" / "actpass" / "holdconn"
#[inline(always)]
fn setup<const SCAN: bool>(v: &str) -> R<'_, Setup> {
    const ROLE: &str = "`active`, `passive`, `actpass` or `holdconn`";
    // Bounded by its line, the role is all of it; read on past the line, it is the word
    // that starts it, and the caller checks that the line ends after it.
    let (r, word) = if SCAN {
        let (word, r) = cut(v, run_len(v.as_bytes(), &LOWER));
        (r, word)
    } else {
        ("", v)
    };
    let s = match word {
        "actpass" => Setup::ActPass,
        "active" => Setup::Active,
        "passive" => Setup::Passive,
        "holdconn" => Setup::HoldConn,
        _ => return fail(v, ROLE),
    };
    Ok((r, s))
}

// RFC 5888 §4: mid-attribute = "a=mid:" identification-tag (a token)
#[inline(always)]
fn mid(v: &str) -> R<'_, Str<'_>> {
    let (r, m) = token(v, "a media id")?;
    Ok((r, b(m)))
}

// RFC 8830 §2: msid-value = msid-id [ SP msid-appdata ]
#[inline(always)]
fn msid(v: &str) -> R<'_, Msid<'_>> {
    let (r, stream) = take1_long(v, &TOKEN, "a stream id")?;
    let (r, track) = match r.strip_prefix(' ') {
        Some(r) => {
            let (r, t) = take1_long(r, &TOKEN, "a track id")?;
            (r, Some(b(t)))
        }
        None => (r, None),
    };
    Ok((
        r,
        Msid {
            stream: b(stream),
            track,
        },
    ))
}

fn ice_string(i: &str) -> R<'_, &str> {
    // RFC 8839 §5.4: ufrag 4-256 and pwd 22-256 ice-chars; short values from older stacks
    // are accepted, the character set is not negotiable.
    let (r, s) = take1_long(i, &ICE, "ICE characters (letters, digits, `+`, `/`)")?;
    if s.len() > 256 {
        return fail(i, "at most 256 ICE characters");
    }
    Ok((r, s))
}

/// `<token> *(SP <token>)`, at least one.
fn token_list<'a>(i: &'a str, what: &'static str) -> R<'a, Vec<Str<'a>>> {
    let (mut r, first) = token(i, what)?;
    let mut list = vec![b(first)];
    while !r.is_empty() {
        let (rest, _) = sp(r)?;
        let (rest, t) = token(rest, what)?;
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
        let (rest, t) = take1_long(rest, &TOKEN, what)?;
        list.push(b(t));
        r = rest;
    }
    Ok((r, list))
}

/// `s` equals `lower`, an all-lower-case ASCII word, ignoring ASCII case.
#[inline(always)]
fn eq_lower(s: &str, lower: &str) -> bool {
    s.len() == lower.len()
        && s.bytes()
            .zip(lower.bytes())
            .all(|(c, l)| c.to_ascii_lowercase() == l)
}

const FOUNDATION: &str = "a foundation (1 to 32 ICE characters)";
const COMPONENT: &str = "a component id (1-256)";

/// A candidate attribute value (after `candidate:`), RFC 8839 §5.1.
#[inline(always)]
pub(crate) fn candidate_value<const SCAN: bool>(i: &str) -> R<'_, Box<Candidate<'_>>> {
    let (r, foundation) = take1(i, &ICE, FOUNDATION)?;
    if foundation.len() > 32 {
        return fail(i, FOUNDATION);
    }
    let (r, _) = sp(r)?;
    // RFC 8445 §5.1.1.1: component IDs are 1 to 256.
    let component_at = r;
    let (r, component) = number::<u16>(component_at, COMPONENT)?;
    if !(1..=256).contains(&component) {
        return fail(component_at, COMPONENT);
    }
    let (r, _) = sp(r)?;
    // RFC 8839 §5.1: transport = "UDP" / transport-extension, case-insensitive.
    let (r, transport) = token(r, "a transport such as `udp`")?;
    let transport = if eq_lower(transport, "udp") {
        CandidateTransport::Udp
    } else if eq_lower(transport, "tcp") {
        CandidateTransport::Tcp
    } else {
        CandidateTransport::Other(b(transport))
    };
    let (r, _) = sp(r)?;
    let (r, priority) = number_long::<u32>(r, "a priority (0-4294967295)")?;
    let (r, _) = sp(r)?;
    let (r, addr) = take1(r, non_ws::<SCAN>(), "a connection address")?;
    let (r, _) = sp(r)?;
    let (r, port) = number_long::<u16>(r, PORT)?;
    let (r, _) = sp(r)?;
    let Some(r) = r.strip_prefix("typ") else {
        return fail(r, "`typ`");
    };
    let (r, _) = sp(r)?;
    let (mut r, typ) = token(r, "a candidate type such as `host`")?;
    let kind = match typ {
        "host" => CandidateType::Host,
        "srflx" => CandidateType::ServerReflexive,
        "prflx" => CandidateType::PeerReflexive,
        "relay" => CandidateType::Relay,
        other => CandidateType::Other(b(other)),
    };
    // Boxed before the extensions are read, so that they are written into the box rather
    // than into a copy on the stack that is moved afterwards.
    let mut cand = Box::new(Candidate {
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
    });
    // The extensions are borrowed as one slice when they are contiguous, as browsers write
    // them (after `raddr`, `rport` and `tcptype`); otherwise they are copied out one by one.
    let mut ext_start: Option<&str> = None;
    let mut ext_end = r;
    let mut copied: Option<String> = None;
    // Bounded by its line, the extensions take the rest of it; read on past the line, they
    // stop at anything but a space, and the caller checks that the line ends there.
    while if SCAN {
        r.starts_with(' ')
    } else {
        !r.is_empty()
    } {
        let (item, _) = sp(r)?;
        let (rest, name) = token(item, "an extension name")?;
        let (rest, _) = sp(rest)?;
        let value_at = rest;
        // RFC 8839 §5.1: extension-att-value = *VCHAR
        let (rest, value) = take1(rest, non_ws::<SCAN>(), "an extension value")?;
        let typed = match name {
            "raddr" if cand.related_address.is_none() => {
                cand.related_address = Some(address(value));
                true
            }
            "rport" if cand.related_port.is_none() => {
                match number::<u16>(value, PORT) {
                    Ok(("", p)) => cand.related_port = Some(p),
                    _ => return fail(value_at, PORT),
                }
                true
            }
            "tcptype" if cand.tcp_type.is_none() => {
                // RFC 6544 §4.5: tcp-type = "active" / "passive" / "so"
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

/// Hex digit values, and 0xFF for every other byte.
// Built at compile time; `c` stays below 256.
#[allow(clippy::indexing_slicing)]
static HEX: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            d @ b'0'..=b'9' => d - b'0',
            d @ b'a'..=b'f' => d - b'a' + 10,
            d @ b'A'..=b'F' => d - b'A' + 10,
            _ => 0xFF,
        };
        c += 1;
    }
    t
};

#[inline(always)]
fn hex_val(c: u8) -> Option<u8> {
    match HEX.get(usize::from(c)) {
        Some(&h) if h < 16 => Some(h),
        _ => None,
    }
}

// RFC 8122 §5: fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint
fn fingerprint<const SCAN: bool>(i: &str) -> R<'_, Fingerprint<'_>> {
    let (r, hash) = token(i, "a hash function such as `sha-256`")?;
    // RFC 8122 §5: hash-func names are case-insensitive (the IANA names are lower case).
    let hash = if eq_lower(hash, "sha-256") {
        HashFunction::Sha256
    } else if eq_lower(hash, "sha-1") {
        HashFunction::Sha1
    } else if eq_lower(hash, "sha-384") {
        HashFunction::Sha384
    } else if eq_lower(hash, "sha-512") {
        HashFunction::Sha512
    } else if eq_lower(hash, "sha-224") {
        HashFunction::Sha224
    } else if eq_lower(hash, "md5") {
        HashFunction::Md5
    } else if eq_lower(hash, "md2") {
        HashFunction::Md2
    } else {
        HashFunction::Other(b(hash))
    };
    let (r, _) = sp(r)?;
    // fingerprint = 2UHEX *(":" 2UHEX); lower case is accepted too. Read as bytes: every
    // position where an error can be reported is on an ASCII byte. Each byte is read with
    // the separator after it, `XX:`, three bytes at a time.
    let src = r.as_bytes();
    let mut digest = [0u8; 64];
    let mut n = 0;
    let mut pos = 0;
    let at = |pos: usize| cut(r, pos).1;
    loop {
        let (pair, sep) = match src.get(pos..) {
            Some(&[hi, lo, sep, ..]) => (hex_pair(hi, lo), Some(sep)),
            Some(&[hi, lo]) => (hex_pair(hi, lo), None),
            _ => (None, None),
        };
        let Some(byte) = pair else {
            return fail(at(pos), "two hex digits");
        };
        let Some(slot) = digest.get_mut(n) else {
            return fail(at(pos), "at most 64 bytes (SHA-512)");
        };
        *slot = byte;
        n += 1;
        pos += 2;
        match sep {
            None => break,
            // Read on past the line, the digest stops where it ends.
            Some(b'\r' | b'\n') if SCAN => break,
            Some(b':') => pos += 1,
            Some(_) => return fail(at(pos), "`:` or the end of the line"),
        }
    }
    let bytes = digest.get(..n).unwrap_or_default().to_vec();
    Ok((at(pos), Fingerprint { hash, bytes }))
}

/// Two hex digits as a byte.
#[inline(always)]
fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    let h = HEX.get(usize::from(hi)).copied().unwrap_or(0xFF);
    let l = HEX.get(usize::from(lo)).copied().unwrap_or(0xFF);
    if (h | l) < 16 {
        Some(h << 4 | l)
    } else {
        None
    }
}

// RFC 8866 §6.6: a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
#[inline(always)]
fn rtpmap(i: &str) -> R<'_, Rtpmap<'_>> {
    let (r, payload_type) = payload_type(i)?;
    let (r, _) = sp(r)?;
    let (r, encoding) = take1(r, &ENCODING, "an encoding name")?;
    let Some(r) = r.strip_prefix('/') else {
        return fail(r, "`/` and a clock rate");
    };
    let (r, clock_rate) = number_long::<u32>(r, "a clock rate")?;
    let (r, channels) = match r.strip_prefix('/') {
        Some(rest) => {
            let (rest, n) = number::<u16>(rest, "a number of channels")?;
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
#[inline(always)]
fn parameters<const SCAN: bool>(i: &str) -> R<'_, FmtpParameters<'_>> {
    match canonical_parameters(i.as_bytes()) {
        // Bounded by its line, the list must take all of it.
        Some(n) if SCAN || n == i.len() => {
            let (text, rest) = cut(i, n);
            Ok((rest, FmtpParameters::from_canonical(b(text))))
        }
        _ if SCAN => fail(i, "a canonical parameter list"),
        _ => parameters_general(i),
    }
}

/// The length of the canonical parameter list that `text` starts with, up to its end or a
/// CR or LF, in one pass: non-empty items separated by `;`, each a key without spaces and
/// an optional `=value`, no NUL. [`parameters_general`] reads such text exactly so and
/// borrows it whole. `None` for anything else.
#[inline(always)]
fn canonical_parameters(text: &[u8]) -> Option<usize> {
    let mut pos = 0;
    let mut item_start = 0;
    let mut in_key = true;
    loop {
        pos += run_len(text.get(pos..).unwrap_or_default(), &PARAM_PLAIN);
        match text.get(pos) {
            None | Some(b'\r' | b'\n') => return (pos > item_start).then_some(pos),
            Some(b';') if pos > item_start => {
                pos += 1;
                item_start = pos;
                in_key = true;
            }
            Some(b'=') if !in_key || pos > item_start => {
                pos += 1;
                in_key = false;
            }
            Some(b' ') if !in_key => pos += 1,
            _ => return None,
        }
    }
}

/// [`parameters`] for any text: reports errors and writes non-canonical lists out.
#[inline(never)]
fn parameters_general(i: &str) -> R<'_, FmtpParameters<'_>> {
    let bytes = i.as_bytes();
    let mut pos = 0;
    let mut canonical = true;
    let mut first = true;
    loop {
        let spaces = bytes
            .get(pos..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&c| c == b' ')
            .count();
        canonical &= spaces == 0;
        pos += spaces;
        if pos == bytes.len() && !first {
            // An empty last parameter: `a=1;` or `a=1; `.
            canonical = false;
            break;
        }
        first = false;
        let key = run_len_long(bytes.get(pos..).unwrap_or_default(), &PARAM_KEY);
        if key == 0 {
            return fail(cut(i, pos).1, "a parameter");
        }
        pos += key;
        if bytes.get(pos) == Some(&b'=') {
            pos += 1;
            pos += run_len(bytes.get(pos..).unwrap_or_default(), &PARAM_VALUE);
        }
        if bytes.get(pos) == Some(&b';') {
            pos += 1;
        } else {
            break;
        }
    }
    let (text, r) = cut(i, pos);
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
#[inline(always)]
fn fmtp<const SCAN: bool>(i: &str) -> R<'_, Fmtp<'_>> {
    let (r, payload_type) = payload_type(i)?;
    let (r, _) = sp(r)?;
    let (r, parameters) = parameters::<SCAN>(r)?;
    Ok((
        r,
        Fmtp {
            payload_type,
            parameters,
        },
    ))
}

// RFC 4585 §4.2: a=rtcp-fb:<pt|*> <val> [<param>]
#[inline(always)]
fn rtcp_fb<const SCAN: bool>(i: &str) -> R<'_, RtcpFb<'_>> {
    let (r, payload_type) = match i.strip_prefix('*') {
        Some(r) => (r, None),
        None => {
            let (r, pt) = payload_type(i)?;
            (r, Some(pt))
        }
    };
    let (r, _) = sp(r)?;
    let (r, kind) = token(r, "a feedback type such as `nack`")?;
    let (r, parameter) = match r.strip_prefix(' ') {
        Some(r) => {
            let (r, p) = text::<SCAN>(r)?;
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

const DIRECTION: &str = "`sendrecv`, `sendonly`, `recvonly` or `inactive`";

fn direction(i: &str) -> R<'_, Direction> {
    let (r, d) = take1(i, &LOWER, DIRECTION)?;
    let d = match d {
        "sendrecv" => Direction::SendRecv,
        "sendonly" => Direction::SendOnly,
        "recvonly" => Direction::RecvOnly,
        "inactive" => Direction::Inactive,
        _ => return fail(i, DIRECTION),
    };
    Ok((r, d))
}

// RFC 8285 §8: a=extmap:<value>["/"<direction>] <URI> <extensionattributes>
#[inline(always)]
fn extmap<const SCAN: bool>(i: &str) -> R<'_, Extmap<'_>> {
    let (r, id) = number::<u16>(i, "an extension id")?;
    let (r, direction) = match r.strip_prefix('/') {
        Some(r) => {
            let (r, d) = direction(r)?;
            (r, Some(d))
        }
        None => (r, None),
    };
    let (r, _) = sp(r)?;
    let (r, uri) = take1_long(r, non_ws::<SCAN>(), "an extension URI")?;
    let (r, attributes) = match r.strip_prefix(' ') {
        Some(r) => {
            let (r, a) = text::<SCAN>(r)?;
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
    take1(i, &RID, "a rid (letters, digits, `-`, `_`)")
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
    let (r, restrictions) = parameters::<false>(r)?;
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
    // Sized for the largest section of a browser's offer (about one attribute per 48 bytes
    // of input), so that it seldom grows.
    let mut attrs: Vec<Attribute<'a>> = Vec::with_capacity((input.len() / 48).clamp(16, 256));
    let mut stage = Stage::Start;
    // Rank of the last line in the current media section (0 right after `m=`).
    let mut media_stage: Option<u8> = None;
    // One pass over the newlines; CRLF and bare LF endings are both accepted. Lines are
    // cut at byte offsets that follow or precede a `\n` (ASCII), always character
    // boundaries.
    let bytes = input.as_bytes();
    let newline = Newlines::new();
    let mut start = 0;
    let mut line_no = 0usize;
    while let Some(tail) = bytes.get(start..).filter(|t| !t.is_empty()) {
        // The bulk of a description: `a=` lines in a media section, where `a=` is always in
        // order. They go through a loop of their own, which stops before any other line or
        // one over a limit: the general path below takes those.
        if media_stage.is_some() && tail.starts_with(b"a=") {
            let cursor = Cursor {
                input,
                start,
                line_no,
            };
            let cursor = media_attributes(cursor, limits, &newline, &mut attrs)?;
            if cursor.line_no > line_no {
                media_stage = Some(5);
                (start, line_no) = (cursor.start, cursor.line_no);
                continue;
            }
            // Not even one line: it is over a limit, which the general path reports.
        }
        let (len, next) = match newline.find(tail) {
            Some(n) => (n, start + n + 1),
            None => (tail.len(), bytes.len()),
        };
        // The length without a `\r` before the `\n`.
        let len = match len.checked_sub(1) {
            Some(last) if tail.get(last) == Some(&b'\r') => last,
            _ => len,
        };
        line_no += 1;
        let line = input.get(start..start + len).unwrap_or_default();
        let window = tail.get(2..).unwrap_or_default();
        start = next;
        let rest = || input.get(next..).unwrap_or_default();
        let err = move |at: &str, kind: ErrorKind| ParseError {
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
        if line.is_empty() && rest().bytes().all(|c| c.is_ascii_whitespace()) {
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
        let value_err = move |e: NomErr<Fail<'_>>| value_error(line_no, line, e.into());
        let pushed_err = move |e: Failed<'_>| value_error(line_no, line, e);

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
                push_attribute_cold(value, window, &mut attrs).map_err(pushed_err)?;
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
                b'a' => push_attribute_cold(value, window, &mut attrs).map_err(pushed_err)?,
                b'i' => {
                    m.information = Some(Cow::Borrowed(text::<false>(value).map_err(value_err)?.1))
                }
                b'c' => m.connections.push(connection(value).map_err(value_err)?.1),
                b'b' => m.bandwidths.push(bandwidth(value).map_err(value_err)?.1),
                _ => m.key = Some(Cow::Borrowed(text::<false>(value).map_err(value_err)?.1)),
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
            b's' => sd.session_name = Cow::Borrowed(text::<false>(value).map_err(value_err)?.1),
            b'i' => {
                sd.information = Some(Cow::Borrowed(text::<false>(value).map_err(value_err)?.1))
            }
            b'u' => sd.uri = Some(Cow::Borrowed(text::<false>(value).map_err(value_err)?.1)),
            b'e' => sd
                .emails
                .push(Cow::Borrowed(text::<false>(value).map_err(value_err)?.1)),
            b'p' => sd
                .phones
                .push(Cow::Borrowed(text::<false>(value).map_err(value_err)?.1)),
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
                let v = Cow::Borrowed(text::<false>(value).map_err(value_err)?.1);
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
            b'k' => sd.key = Some(Cow::Borrowed(text::<false>(value).map_err(value_err)?.1)),
            _ => push_attribute_cold(value, window, &mut attrs).map_err(pushed_err)?,
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

/// Where [`media_attributes`] starts and stops: the next line's offset and the number of
/// lines before it.
struct Cursor<'a> {
    input: &'a str,
    start: usize,
    line_no: usize,
}

/// Parses the `a=` lines that follow in a media section, pushing their attributes, and stops
/// before the first other line, or one over a limit, or the end. Its own function, so that
/// what the loop keeps stays in registers.
#[inline(never)]
fn media_attributes<'a>(
    mut at: Cursor<'a>,
    limits: &Limits,
    newline: &Newlines,
    attrs: &mut Vec<Attribute<'a>>,
) -> Result<Cursor<'a>, ParseError> {
    let input = at.input;
    let bytes = input.as_bytes();
    while let Some(tail) = bytes.get(at.start..) {
        if !tail.starts_with(b"a=") || at.line_no >= limits.max_lines {
            break;
        }
        if let Some(next) = push_scanned(input, at.start, limits.max_line_length, attrs) {
            at.line_no += 1;
            at.start = next;
            continue;
        }
        let (len, next) = match newline.find(tail) {
            Some(n) => (n, at.start + n + 1),
            None => (tail.len(), bytes.len()),
        };
        // The length without a `\r` before the `\n`.
        let len = match len.checked_sub(1) {
            Some(last) if tail.get(last) == Some(&b'\r') => last,
            _ => len,
        };
        if len > limits.max_line_length {
            break;
        }
        let value = input.get(at.start + 2..at.start + len).unwrap_or_default();
        // The attribute dispatch may look past the end of the line (see `push_known`).
        let window = tail.get(2..).unwrap_or_default();
        if let Err(e) = push_attribute(value, window, attrs) {
            let line = input.get(at.start..at.start + len).unwrap_or_default();
            return Err(value_error(at.line_no + 1, line, e));
        }
        at.line_no += 1;
        at.start = next;
    }
    Ok(at)
}

/// Finds line feeds. On x86-64 it calls memchr's SSE2 searcher directly: lines are short,
/// and for them memchr's per-call choice of an implementation cost as much as the search.
struct Newlines {
    #[cfg(target_arch = "x86_64")]
    sse2: Option<memchr::arch::x86_64::sse2::memchr::One>,
}

impl Newlines {
    fn new() -> Self {
        Newlines {
            #[cfg(target_arch = "x86_64")]
            sse2: memchr::arch::x86_64::sse2::memchr::One::new(b'\n'),
        }
    }

    #[inline(always)]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(sse2) = &self.sse2 {
            return sse2.find(haystack);
        }
        memchr::memchr(b'\n', haystack)
    }
}

/// The error for a value parser's failure on line `line_no`, `line`.
#[cold]
fn value_error(line_no: usize, line: &str, e: Failed<'_>) -> ParseError {
    let Fail { at, expected } = *e.0;
    // A stray NUL or CR is named as such, whatever the grammar wanted there.
    let expected = if at.starts_with(['\0', '\r']) {
        BAD_BYTE
    } else {
        expected
    };
    ParseError {
        line: line_no,
        column: column(line, at),
        kind: ErrorKind::Expected(expected),
    }
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
    match candidate_value::<false>(body) {
        Ok(("", c)) => Ok(*c),
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
            let fast = ipv6(text.as_bytes()).map(IpAddr::V6);
            if fast.is_some() {
                assert_eq!(fast, std_ip(text), "{text}");
            }
            assert_eq!(address(text).ip(), std_ip(text), "{text}");
        }
    }

    proptest! {
        #[test]
        fn ipv4_agrees_with_std(text in "[0-9.]{0,20}|([0-9]{1,4}[.]){3}[0-9]{1,4}") {
            let std_v4 = std_ip(&text).filter(IpAddr::is_ipv4);
            prop_assert_eq!(ipv4(text.as_bytes()).map(IpAddr::V4), std_v4);
        }

        #[test]
        fn nul_or_cr_found_where_a_byte_scan_finds_it(
            bytes in proptest::collection::vec(prop_oneof![Just(0u8), Just(b'\r'), Just(b'\n'), any::<u8>()], 0..40)
        ) {
            let naive = bytes.iter().position(|&c| c == 0 || c == b'\r');
            prop_assert_eq!(find_nul_or_cr::<false>(&bytes), naive);
        }

        #[test]
        fn long_numbers_agree_with_short_ones(text in "[0-9]{0,25}[ a-z:/]{0,9}") {
            prop_assert_eq!(
                number_long::<u32>(&text, "a number").ok(),
                number::<u32>(&text, "a number").ok()
            );
            prop_assert_eq!(
                number_long::<u64>(&text, "a number").ok(),
                number::<u64>(&text, "a number").ok()
            );
        }

        #[test]
        fn numbers_agree_with_std(text in "[0-9]{0,25}[ a-z]{0,2}") {
            let digits = text.bytes().take_while(u8::is_ascii_digit).count();
            let std_u64 = text.get(..digits).and_then(|d| d.parse::<u64>().ok());
            let ours = number::<u64>(&text, "a number").ok().map(|(rest, v)| (rest.len(), v));
            prop_assert_eq!(ours, std_u64.map(|v| (text.len() - digits, v)));
        }

        #[test]
        fn addresses_agree_with_std(text in "[0-9a-fA-F:.]{0,24}|([0-9a-f]{1,4}:){0,7}:?(:[0-9a-f]{1,4}){0,7}") {
            if let Some(v6) = ipv6(text.as_bytes()) {
                prop_assert_eq!(Some(IpAddr::V6(v6)), std_ip(&text));
            }
            prop_assert_eq!(address(&text).ip(), std_ip(&text));
        }
    }
}
