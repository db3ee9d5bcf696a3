//! A corpus of malformed descriptions, each with the exact error the parser must report:
//! the line and column (both from 1, columns counted in characters) and the [`ErrorKind`].
//!
//! Every case is a small description written with CRLF line endings. The runner also checks
//! that `Display` starts with `line L, column C: expected`, that `parse_bytes` agrees with
//! `parse`, and that the same text with bare LF endings fails at the same place.

use weft_sdp::{ErrorKind, Limits, ParseError};

/// The four lines every description needs; the line after them is line 5.
const HEAD: [&str; 4] = ["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0"];

/// An RTP audio `m=` line; placed right after [`HEAD`] it is line 5.
const AUDIO: &str = "m=audio 9 UDP/TLS/RTP/SAVPF 111";

enum Input {
    Text(String),
    Bytes(Vec<u8>),
}

struct Case {
    name: &'static str,
    input: Input,
    limits: Option<Limits>,
    line: usize,
    column: usize,
    kind: ErrorKind,
}

/// Joins lines with CRLF, each line terminated.
fn crlf(lines: &[&str]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s
}

/// [`HEAD`] followed by `extra` (the first extra line is line 5).
fn session(extra: &[&str]) -> String {
    let mut lines: Vec<&str> = HEAD.to_vec();
    lines.extend_from_slice(extra);
    crlf(&lines)
}

/// [`HEAD`], the [`AUDIO`] line (line 5), then `extra` (the first extra line is line 6).
fn audio(extra: &[&str]) -> String {
    let mut lines: Vec<&str> = HEAD.to_vec();
    lines.push(AUDIO);
    lines.extend_from_slice(extra);
    crlf(&lines)
}

fn text(name: &'static str, input: String, line: usize, column: usize, kind: ErrorKind) -> Case {
    Case {
        name,
        input: Input::Text(input),
        limits: None,
        line,
        column,
        kind,
    }
}

fn expected(what: &'static str) -> ErrorKind {
    ErrorKind::Expected(what)
}

fn out_of_order(found: char, expected: &'static str) -> ErrorKind {
    ErrorKind::OutOfOrder { found, expected }
}

const LINE_SHAPE: &str = "a line `<type>=<value>` with a lower-case type letter";
const SESSION_NEXT: &str = "`i=`, `u=`, `e=`, `p=`, `c=`, `b=` or `t=`";
const AFTER_TIME: &str = "`t=`, `r=`, `z=`, `k=`, `a=` or `m=`";
const MEDIA_ORDER: &str = "media lines in the order i= c= b= k= a=";
const IN_MEDIA: &str = "`i=`, `c=`, `b=`, `k=`, `a=` or `m=` in a media section";
const PT: &str = "a payload type (0-127)";
const PORT: &str = "a port (0-65535)";
const FOUNDATION: &str = "a foundation (1 to 32 ICE characters)";
const NO_VALUE: &str = "the end of the line (this attribute takes no value)";
const NEEDS_VALUE: &str = "`:` and a value";
const DIRECTION: &str = "`sendrecv`, `sendonly`, `recvonly` or `inactive`";
const NO_NUL_CR: &str = "text without NUL or a lone carriage return";

fn cases() -> Vec<Case> {
    let long_foundation = format!(
        "a=candidate:{} 1 udp 1 192.0.2.1 9 typ host",
        "a".repeat(33)
    );
    let long_pwd = format!("a=ice-pwd:{}", "p".repeat(257));
    let fingerprint_65 = format!("a=fingerprint:sha-512 {}", vec!["AB"; 65].join(":"));
    let mut c = vec![
        // --- The first lines: v=, o=, s=, t= (RFC 8866 §5) ---
        text(
            "empty input",
            String::new(),
            1,
            1,
            ErrorKind::MissingLine("`v=0`"),
        ),
        text(
            "only a line ending",
            "\r\n".into(),
            1,
            1,
            ErrorKind::MissingLine("`v=0`"),
        ),
        text(
            "missing v=, starts at o=",
            crlf(&HEAD[1..]),
            1,
            1,
            out_of_order('o', "`v=0`"),
        ),
        text(
            "o= before v=",
            crlf(&["o=- 1 2 IN IP4 127.0.0.1", "v=0", "s=-", "t=0 0"]),
            1,
            1,
            out_of_order('o', "`v=0`"),
        ),
        text(
            "v=1",
            session(&[]).replacen("v=0", "v=1", 1),
            1,
            3,
            expected("`0` (the only SDP version)"),
        ),
        text(
            "v=00",
            session(&[]).replacen("v=0", "v=00", 1),
            1,
            3,
            expected("`0` (the only SDP version)"),
        ),
        text(
            "only v=",
            crlf(&["v=0"]),
            1,
            1,
            ErrorKind::MissingLine("an `o=` line"),
        ),
        text(
            "missing o=",
            crlf(&["v=0", "s=-", "t=0 0"]),
            2,
            1,
            out_of_order('s', "`o=`"),
        ),
        text(
            "v= twice",
            crlf(&["v=0", "v=0", "o=- 1 2 IN IP4 127.0.0.1"]),
            2,
            1,
            out_of_order('v', "`o=`"),
        ),
        text(
            "only v= and o=",
            crlf(&HEAD[..2]),
            2,
            1,
            ErrorKind::MissingLine("an `s=` line"),
        ),
        text(
            "missing s=",
            crlf(&["v=0", "o=- 1 2 IN IP4 127.0.0.1", "t=0 0"]),
            3,
            1,
            out_of_order('t', "`s=`"),
        ),
        text(
            "c= before s=",
            crlf(&[
                "v=0",
                "o=- 1 2 IN IP4 127.0.0.1",
                "c=IN IP4 192.0.2.1",
                "s=-",
                "t=0 0",
            ]),
            3,
            1,
            out_of_order('c', "`s=`"),
        ),
        text(
            "missing t= at the end",
            crlf(&HEAD[..3]),
            3,
            1,
            ErrorKind::MissingLine("a `t=` line"),
        ),
        text(
            "missing t= before a=",
            crlf(&["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "a=sendrecv"]),
            4,
            1,
            ErrorKind::MissingLine("a `t=` line"),
        ),
        text(
            "missing t= before m=",
            crlf(&["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", AUDIO]),
            4,
            1,
            ErrorKind::MissingLine("a `t=` line"),
        ),
        text(
            "s= empty",
            session(&[]).replacen("s=-", "s=", 1),
            3,
            3,
            expected("some text"),
        ),
        text(
            "o= session id not a number",
            session(&[]).replacen("o=- 1 2", "o=- abc 2", 1),
            2,
            5,
            expected("a numeric session id"),
        ),
        text(
            "o= without address",
            session(&[]).replacen(" 127.0.0.1", "", 1),
            2,
            15,
            expected("a space"),
        ),
        text(
            "t= not a number",
            session(&[]).replacen("t=0 0", "t=now 0", 1),
            4,
            3,
            expected("a start time"),
        ),
        text(
            "t= trailing space",
            session(&[]).replacen("t=0 0", "t=0 0 ", 1),
            4,
            6,
            expected("the end of the line"),
        ),
        // --- Session-level line order and repetition ---
        text(
            "i= after c= at session level",
            crlf(&[
                "v=0",
                "o=- 1 2 IN IP4 127.0.0.1",
                "s=-",
                "c=IN IP4 192.0.2.1",
                "i=info",
                "t=0 0",
            ]),
            5,
            1,
            out_of_order('i', SESSION_NEXT),
        ),
        text(
            "t= after a=",
            session(&["a=sendrecv", "t=1 2"]),
            6,
            1,
            out_of_order('t', "`a=` or `m=`"),
        ),
        text(
            "k= after a=",
            session(&["a=sendrecv", "k=prompt"]),
            6,
            1,
            out_of_order('k', "`a=` or `m=`"),
        ),
        text(
            "o= after t=",
            session(&["o=- 1 2 IN IP4 127.0.0.1"]),
            5,
            1,
            out_of_order('o', AFTER_TIME),
        ),
        text(
            "s= twice",
            crlf(&["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "s=again", "t=0 0"]),
            4,
            1,
            ErrorKind::Duplicate('s'),
        ),
        text(
            "u= twice",
            crlf(&[
                "v=0",
                "o=- 1 2 IN IP4 127.0.0.1",
                "s=-",
                "u=http://a.example",
                "u=http://b.example",
                "t=0 0",
            ]),
            5,
            1,
            ErrorKind::Duplicate('u'),
        ),
        text(
            "c= twice at session level",
            crlf(&[
                "v=0",
                "o=- 1 2 IN IP4 127.0.0.1",
                "s=-",
                "c=IN IP4 192.0.2.1",
                "c=IN IP4 192.0.2.2",
                "t=0 0",
            ]),
            5,
            1,
            ErrorKind::Duplicate('c'),
        ),
        text(
            "r= before t=",
            crlf(&[
                "v=0",
                "o=- 1 2 IN IP4 127.0.0.1",
                "s=-",
                "r=7d 1h 0 25h",
                "t=0 0",
            ]),
            4,
            1,
            out_of_order('r', "a `t=` line first"),
        ),
        text(
            "z= twice",
            session(&["z=3730928400 -1h", "z=3749680800 0"]),
            6,
            1,
            ErrorKind::Duplicate('z'),
        ),
        text(
            "r= after z=",
            session(&["z=3730928400 -1h", "r=604800 3600 0 90000"]),
            6,
            1,
            out_of_order('r', "`r=` lines before `z=`"),
        ),
        // --- Line shape and type letters ---
        text(
            "unknown type x= at session level",
            session(&["x=1"]),
            5,
            1,
            ErrorKind::UnknownLineType('x'),
        ),
        text(
            "unknown type x= as the first line",
            crlf(&["x=0"]),
            1,
            1,
            ErrorKind::UnknownLineType('x'),
        ),
        text(
            "unknown type y= in media",
            audio(&["y=1"]),
            6,
            1,
            ErrorKind::UnknownLineType('y'),
        ),
        text(
            "upper-case V=",
            session(&[]).replacen("v=0", "V=0", 1),
            1,
            1,
            expected("`v=0`"),
        ),
        text(
            "upper-case A=",
            session(&["A=sendrecv"]),
            5,
            1,
            expected(LINE_SHAPE),
        ),
        text(
            "leading space before v=",
            format!(" {}", session(&[])),
            1,
            1,
            expected("`v=0`"),
        ),
        text(
            "missing = after a",
            session(&["a:sendrecv"]),
            5,
            1,
            expected(LINE_SHAPE),
        ),
        text(
            "missing = after v",
            session(&[]).replacen("v=0", "v 0", 1),
            1,
            1,
            expected("`v=0`"),
        ),
        text(
            "a single letter",
            session(&["a"]),
            5,
            1,
            expected(LINE_SHAPE),
        ),
        text(
            "blank line inside",
            crlf(&["v=0", "", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0"]),
            2,
            1,
            expected(LINE_SHAPE),
        ),
        text(
            "NUL inside s=",
            session(&[]).replacen("s=-", "s=a\0b", 1),
            3,
            4,
            expected(NO_NUL_CR),
        ),
        text(
            "CR inside s=",
            session(&[]).replacen("s=-", "s=a\rb", 1),
            3,
            4,
            expected(NO_NUL_CR),
        ),
        text(
            "NUL inside a media attribute",
            audio(&["a=mid:0\0"]),
            6,
            8,
            expected(NO_NUL_CR),
        ),
        // The first offending character wins, in document order.
        text(
            "unknown line before a NUL on a later line",
            session(&["q=1", "a=x\0"]),
            5,
            1,
            ErrorKind::UnknownLineType('q'),
        ),
        text(
            "lone CR before an unknown line",
            session(&["a=x\ry", "q=1"]),
            5,
            4,
            expected(NO_NUL_CR),
        ),
        text(
            "CR inside a token",
            audio(&["a=mid:0\rx"]),
            6,
            8,
            expected(NO_NUL_CR),
        ),
        text(
            "NUL inside an unknown attribute's value",
            audio(&["a=x-custom:ab\0c"]),
            6,
            14,
            expected(NO_NUL_CR),
        ),
        text(
            "NUL inside a candidate extension value",
            audio(&["a=candidate:1 1 udp 1 192.0.2.1 9 typ host generation 0\0"]),
            6,
            56,
            expected(NO_NUL_CR),
        ),
        text(
            "component 0",
            audio(&["a=candidate:1 0 udp 1 192.0.2.1 9 typ host"]),
            6,
            15,
            expected("a component id (1-256)"),
        ),
        text(
            "component 257",
            audio(&["a=candidate:1 257 udp 1 192.0.2.1 9 typ host"]),
            6,
            15,
            expected("a component id (1-256)"),
        ),
        // --- Media-level order ---
        text(
            "i= after c= in media",
            audio(&["c=IN IP4 0.0.0.0", "i=title"]),
            7,
            1,
            out_of_order('i', MEDIA_ORDER),
        ),
        text(
            "c= after a= in media",
            audio(&["a=mid:0", "c=IN IP4 0.0.0.0"]),
            7,
            1,
            out_of_order('c', MEDIA_ORDER),
        ),
        text(
            "b= after a= in media",
            audio(&["a=mid:0", "b=AS:30"]),
            7,
            1,
            out_of_order('b', MEDIA_ORDER),
        ),
        text(
            "i= twice in media",
            audio(&["i=one", "i=two"]),
            7,
            1,
            ErrorKind::Duplicate('i'),
        ),
        text(
            "s= in media",
            audio(&["s=-"]),
            6,
            1,
            out_of_order('s', IN_MEDIA),
        ),
        text(
            "t= in media",
            audio(&["t=0 0"]),
            6,
            1,
            out_of_order('t', IN_MEDIA),
        ),
        // --- m= ---
        text(
            "m= port 70000",
            session(&["m=audio 70000 RTP/AVP 0"]),
            5,
            9,
            expected(PORT),
        ),
        text(
            "m= port abc",
            session(&["m=audio abc RTP/AVP 0"]),
            5,
            9,
            expected(PORT),
        ),
        text(
            "m= bad port count",
            session(&["m=audio 9/x RTP/AVP 0"]),
            5,
            11,
            expected("a number of ports"),
        ),
        text(
            "m= without protocol",
            session(&["m=audio 9"]),
            5,
            10,
            expected("a space"),
        ),
        text(
            "m= non-numeric payload type",
            session(&["m=audio 9 RTP/AVP 0 abc"]),
            5,
            21,
            expected(PT),
        ),
        text(
            "m= payload type 128",
            session(&["m=video 9 UDP/TLS/RTP/SAVPF 96 128"]),
            5,
            32,
            expected(PT),
        ),
        text(
            "m= RTP without formats",
            session(&["m=audio 9 RTP/AVP"]),
            5,
            18,
            expected("a space and at least one media format"),
        ),
        text(
            "m= SCTP without formats",
            session(&["m=application 9 UDP/DTLS/SCTP"]),
            5,
            30,
            expected("a space and at least one media format"),
        ),
        text(
            "m= two spaces before a format",
            session(&["m=audio 9 RTP/AVP  0"]),
            5,
            19,
            expected(PT),
        ),
        text(
            "m= trailing space",
            session(&["m=audio 9 RTP/AVP 0 "]),
            5,
            21,
            expected(PT),
        ),
        // --- c= and b= ---
        text(
            "c= TTL 256",
            crlf(&[
                "v=0",
                "o=- 1 2 IN IP4 127.0.0.1",
                "s=-",
                "c=IN IP4 233.252.0.1/256",
                "t=0 0",
            ]),
            4,
            22,
            expected("a multicast TTL (0-255)"),
        ),
        text(
            "c= bad IP6 count",
            audio(&["c=IN IP6 ff00::1/x"]),
            6,
            18,
            expected("a number of addresses"),
        ),
        text(
            "c= without address",
            audio(&["c=IN IP4"]),
            6,
            9,
            expected("a space"),
        ),
        text(
            "b= missing colon",
            audio(&["b=AS128"]),
            6,
            8,
            expected("`:`"),
        ),
        text(
            "b= value not a number",
            audio(&["b=AS:fast"]),
            6,
            6,
            expected("a bandwidth value"),
        ),
        // --- rtpmap, fmtp, rtcp-fb ---
        text(
            "rtpmap payload type abc",
            audio(&["a=rtpmap:abc opus/48000/2"]),
            6,
            10,
            expected(PT),
        ),
        text(
            "rtpmap payload type 200",
            audio(&["a=rtpmap:200 opus/48000/2"]),
            6,
            10,
            expected(PT),
        ),
        text(
            "rtpmap missing clock rate",
            audio(&["a=rtpmap:111 opus"]),
            6,
            18,
            expected("`/` and a clock rate"),
        ),
        text(
            "rtpmap empty clock rate",
            audio(&["a=rtpmap:111 opus/"]),
            6,
            19,
            expected("a clock rate"),
        ),
        text(
            "rtpmap bad channels",
            audio(&["a=rtpmap:111 opus/48000/x"]),
            6,
            25,
            expected("a number of channels"),
        ),
        text(
            "fmtp payload type x",
            audio(&["a=fmtp:x apt=96"]),
            6,
            8,
            expected(PT),
        ),
        text(
            "fmtp without parameters",
            audio(&["a=fmtp:96"]),
            6,
            10,
            expected("a space"),
        ),
        text(
            "fmtp empty parameters",
            audio(&["a=fmtp:96 "]),
            6,
            11,
            expected("a parameter"),
        ),
        text(
            "rtcp-fb payload type x",
            audio(&["a=rtcp-fb:x nack"]),
            6,
            11,
            expected(PT),
        ),
        // --- candidate (RFC 8839 §5.1) ---
        text(
            "candidate foundation of 33 characters",
            audio(&[&long_foundation]),
            6,
            13,
            expected(FOUNDATION),
        ),
        text(
            "candidate foundation starts with a bad character",
            audio(&["a=candidate:_1 1 udp 1 192.0.2.1 9 typ host"]),
            6,
            13,
            expected(FOUNDATION),
        ),
        text(
            "candidate foundation with a bad character inside",
            audio(&["a=candidate:ab_c 1 udp 1 192.0.2.1 9 typ host"]),
            6,
            15,
            expected("a space"),
        ),
        text(
            "candidate component not a number",
            audio(&["a=candidate:1 x udp 1 192.0.2.1 9 typ host"]),
            6,
            15,
            expected("a component id (1-256)"),
        ),
        text(
            "candidate component overflows",
            audio(&["a=candidate:1 65536 udp 1 192.0.2.1 9 typ host"]),
            6,
            15,
            expected("a component id (1-256)"),
        ),
        text(
            "candidate priority overflows u32",
            audio(&["a=candidate:1 1 udp 4294967296 192.0.2.1 9 typ host"]),
            6,
            21,
            expected("a priority (0-4294967295)"),
        ),
        text(
            "candidate port overflows",
            audio(&["a=candidate:1 1 udp 1 192.0.2.1 65536 typ host"]),
            6,
            33,
            expected(PORT),
        ),
        text(
            "candidate missing typ",
            audio(&["a=candidate:1 1 udp 1 192.0.2.1 9 host"]),
            6,
            35,
            expected("`typ`"),
        ),
        text(
            "candidate bad rport",
            audio(&["a=candidate:1 1 udp 1 192.0.2.1 9 typ srflx raddr 10.0.0.1 rport 99999"]),
            6,
            66,
            expected(PORT),
        ),
        text(
            "candidate bad tcptype",
            audio(&["a=candidate:1 1 tcp 1 192.0.2.1 9 typ host tcptype sideways"]),
            6,
            52,
            expected("`active`, `passive` or `so`"),
        ),
        text(
            "candidate extension without a value",
            audio(&["a=candidate:1 1 udp 1 192.0.2.1 9 typ host generation"]),
            6,
            54,
            expected("a space"),
        ),
        // --- fingerprint, setup, ICE strings ---
        text(
            "fingerprint odd number of hex digits",
            audio(&["a=fingerprint:sha-256 AB:C"]),
            6,
            26,
            expected("two hex digits"),
        ),
        text(
            "fingerprint non-hex digit",
            audio(&["a=fingerprint:sha-256 G1:CD"]),
            6,
            23,
            expected("two hex digits"),
        ),
        text(
            "fingerprint wrong separator",
            audio(&["a=fingerprint:sha-256 AB;CD"]),
            6,
            25,
            expected("`:` or the end of the line"),
        ),
        text(
            "fingerprint of 65 bytes",
            audio(&[&fingerprint_65]),
            6,
            23 + 64 * 3,
            expected("at most 64 bytes (SHA-512)"),
        ),
        text(
            "setup bad value",
            audio(&["a=setup:foo"]),
            6,
            9,
            expected("`active`, `passive`, `actpass` or `holdconn`"),
        ),
        text(
            "ice-ufrag empty",
            audio(&["a=ice-ufrag:"]),
            6,
            13,
            expected("ICE characters (letters, digits, `+`, `/`)"),
        ),
        text(
            "ice-ufrag bad character",
            audio(&["a=ice-ufrag:ab_c"]),
            6,
            15,
            expected("the end of the line"),
        ),
        text(
            "ice-pwd of 257 characters",
            audio(&[&long_pwd]),
            6,
            11,
            expected("at most 256 ICE characters"),
        ),
        // --- flag and value attributes ---
        text(
            "flag attribute with a value (rtcp-mux)",
            audio(&["a=rtcp-mux:x"]),
            6,
            11,
            expected(NO_VALUE),
        ),
        text(
            "flag attribute with a value (sendrecv)",
            audio(&["a=sendrecv:1"]),
            6,
            11,
            expected(NO_VALUE),
        ),
        text(
            "value attribute without value (mid)",
            audio(&["a=mid"]),
            6,
            6,
            expected(NEEDS_VALUE),
        ),
        text(
            "value attribute without value (candidate)",
            audio(&["a=candidate"]),
            6,
            12,
            expected(NEEDS_VALUE),
        ),
        text(
            "mid with an empty value",
            audio(&["a=mid:"]),
            6,
            7,
            expected("a media id"),
        ),
        text(
            "attribute name followed by junk",
            audio(&["a=foo bar"]),
            6,
            6,
            expected("`:` or the end of the line after the attribute name"),
        ),
        text(
            "group with two spaces",
            session(&["a=group:BUNDLE 0  1"]),
            5,
            18,
            expected("a media id"),
        ),
        // --- extmap, ssrc, rid, simulcast, SCTP ---
        text(
            "extmap bad direction",
            audio(&["a=extmap:1/sideways urn:x"]),
            6,
            12,
            expected(DIRECTION),
        ),
        text(
            "extmap id not a number",
            audio(&["a=extmap:x urn:x"]),
            6,
            10,
            expected("an extension id"),
        ),
        text(
            "ssrc overflows u32",
            audio(&["a=ssrc:4294967296 cname:x"]),
            6,
            8,
            expected("an SSRC (0-4294967295)"),
        ),
        text(
            "ssrc-group member not a number",
            audio(&["a=ssrc-group:FID 1 x"]),
            6,
            20,
            expected("an SSRC (0-4294967295)"),
        ),
        text(
            "rid bad direction",
            audio(&["a=rid:q sideways"]),
            6,
            9,
            expected("`send` or `recv`"),
        ),
        text(
            "rid direction with a suffix",
            audio(&["a=rid:q sendonly"]),
            6,
            13,
            expected("the end of the line"),
        ),
        text(
            "rid bad id",
            audio(&["a=rid:!q send"]),
            6,
            7,
            expected("a rid (letters, digits, `-`, `_`)"),
        ),
        text(
            "rid payload type 128",
            audio(&["a=rid:q send pt=128"]),
            6,
            17,
            expected(PT),
        ),
        text(
            "simulcast same direction twice",
            audio(&["a=simulcast:send q send h"]),
            6,
            20,
            expected("the other direction"),
        ),
        text(
            "simulcast without rids",
            audio(&["a=simulcast:send "]),
            6,
            18,
            expected("a rid (letters, digits, `-`, `_`)"),
        ),
        text(
            "sctp-port overflows",
            audio(&["a=sctp-port:65536"]),
            6,
            13,
            expected(PORT),
        ),
        text(
            "max-message-size negative",
            audio(&["a=max-message-size:-1"]),
            6,
            20,
            expected("a size in bytes"),
        ),
    ];

    // --- Bytes: invalid UTF-8 through parse_bytes, columns in characters ---
    let mut bad_name = crlf(&HEAD[..2]).into_bytes();
    bad_name.extend_from_slice("s=café ".as_bytes());
    bad_name.push(0xff);
    bad_name.extend_from_slice(b"\r\nt=0 0\r\n");
    c.push(Case {
        name: "invalid UTF-8 in s= after a multibyte character",
        input: Input::Bytes(bad_name),
        limits: None,
        line: 3,
        column: 8,
        kind: ErrorKind::InvalidUtf8,
    });
    let mut truncated = audio(&[]).into_bytes();
    truncated.extend_from_slice("a=x:ñandú".as_bytes());
    truncated.push(0xc3); // the first byte of a two-byte sequence, cut off
    truncated.extend_from_slice(b"\r\n");
    c.push(Case {
        name: "invalid UTF-8: truncated sequence in a media attribute",
        input: Input::Bytes(truncated),
        limits: None,
        line: 6,
        column: 10,
        kind: ErrorKind::InvalidUtf8,
    });
    c.push(Case {
        name: "invalid UTF-8 as the first byte",
        input: Input::Bytes(vec![0xfe, b'v', b'=', b'0']),
        limits: None,
        line: 1,
        column: 1,
        kind: ErrorKind::InvalidUtf8,
    });

    // --- Limits ---
    let limits = Limits::default();
    c.push(Case {
        name: "too large",
        input: Input::Text(session(&[])),
        limits: Some(Limits {
            max_bytes: 16,
            ..limits
        }),
        line: 1,
        column: 1,
        kind: ErrorKind::TooLarge { limit: 16 },
    });
    c.push(Case {
        name: "too many lines",
        input: Input::Text(session(&["a=sendrecv"])),
        limits: Some(Limits {
            max_lines: 3,
            ..limits
        }),
        line: 4,
        column: 1,
        kind: ErrorKind::TooManyLines { limit: 3 },
    });
    c.push(Case {
        name: "line too long",
        input: Input::Text(session(&[])),
        limits: Some(Limits {
            max_line_length: 20,
            ..limits
        }),
        line: 2,
        column: 1,
        kind: ErrorKind::LineTooLong { limit: 20 },
    });
    c
}

fn run(case: &Case) -> Result<(), ParseError> {
    match (&case.input, &case.limits) {
        (Input::Text(t), Some(limits)) => weft_sdp::parse_with(t, limits).map(drop),
        (Input::Text(t), None) => weft_sdp::parse(t).map(drop),
        (Input::Bytes(b), None) => weft_sdp::parse_bytes(b).map(drop),
        (Input::Bytes(_), Some(_)) => unreachable!("byte cases use the default limits"),
    }
}

#[test]
fn malformed_corpus_reports_exact_errors() {
    let cases = cases();
    assert!(cases.len() >= 45, "corpus has only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let want = ParseError {
            line: case.line,
            column: case.column,
            kind: case.kind.clone(),
        };
        match run(case) {
            Ok(()) => failures.push(format!("{}: parsed, expected {want:?}", case.name)),
            Err(got) if got != want => {
                failures.push(format!("{}:\n   got {got:?}\n  want {want:?}", case.name))
            }
            Err(got) => {
                let prefix = format!("line {}, column {}: expected ", case.line, case.column);
                if !got.to_string().starts_with(&prefix) {
                    failures.push(format!("{}: Display is `{got}`", case.name));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `parse_bytes` on valid UTF-8 gives the same error as `parse`.
#[test]
fn parse_bytes_agrees_with_parse() {
    for case in cases() {
        if let (Input::Text(t), None) = (&case.input, &case.limits) {
            assert_eq!(
                weft_sdp::parse_bytes(t.as_bytes()).err(),
                weft_sdp::parse(t).err(),
                "{}",
                case.name
            );
        }
    }
}

/// Bare LF line endings move no error: lines and columns ignore the line ending.
#[test]
fn lf_line_endings_give_the_same_errors() {
    for case in cases() {
        if let (Input::Text(t), None) = (&case.input, &case.limits) {
            let lf = t.replace("\r\n", "\n");
            assert_eq!(
                weft_sdp::parse(&lf).err(),
                weft_sdp::parse(t).err(),
                "{}",
                case.name
            );
        }
    }
}

/// The corpus is not passing by accident: the well-formed base texts parse.
#[test]
fn the_base_descriptions_are_valid() {
    let base = session(&[]);
    let sd = weft_sdp::parse(&base).unwrap();
    assert_eq!(sd.session_name, "-");
    let with_media = audio(&["a=mid:0"]);
    let sd = weft_sdp::parse(&with_media).unwrap();
    assert_eq!(sd.media.len(), 1);
    assert_eq!(sd.media[0].mid(), Some("0"));
}
