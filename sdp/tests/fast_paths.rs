//! The parser reads the frequent attributes of a media section on fast paths: the name is
//! matched as one integer, and the value is read on past the end of the line, which the
//! reader finds itself. These tests hold them to the general path (`parse_attribute`, which
//! reads one line at a time): the same attribute, whatever follows the line, and the same
//! error wherever an error is.

use weft_sdp::{parse, parse_attribute, Attribute, ErrorKind};

const HEAD: &str =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n";

/// Attribute lines as browsers write them, and unusual but valid ones.
const LINES: &[&str] = &[
    "rtcp-fb:96 goog-remb",
    "rtcp-fb:96 nack pli",
    "rtcp-fb:* ccm fir",
    "rtcp-fb:96 trr-int 100 more text",
    "rtpmap:96 VP8/90000",
    "rtpmap:111 opus/48000/2",
    "fmtp:97 apt=96",
    "fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
    "fmtp:63 111/111",
    "fmtp:96 a=b c;d",
    "fmtp:96 a=1; b=2",
    "fmtp:97 apt=96;",
    "extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "extmap:2/sendonly http://example.com/ext attr1 attr2",
    "candidate:1142507164 1 udp 2122194687 192.0.2.2 46355 typ host generation 0 network-id 1",
    "candidate:1 1 tcp 1 fd00::2 9 typ host tcptype active generation 0",
    "candidate:2 1 udp 1 198.51.100.1 9 typ srflx raddr 192.0.2.2 rport 46355",
    "candidate:3 2 UDP 1 abcd.local 9 typ host ufrag x raddr 0.0.0.0 rport 0",
    "ssrc:1423472671 cname:qa1mrHfOs/Y6wjNk",
    "ssrc:1 msid:a b",
    "ssrc:1 label",
    "ice-ufrag:fUn2",
    "ice-pwd:hT/8qbkpotYnKAFZ7+WwkT02",
    "fingerprint:sha-256 F4:BD:84:73:76:F8:35:CA:8F:A9:B2:09:64:B1:C1:D7:FC:27:52:B9:BF:D0:AD:68:12:B9:9C:76:10:A1:1F:16",
    "fingerprint:SHA-1 ab:cd",
    "setup:actpass",
    "setup:holdconn",
    "mid:0",
    "msid:stream track",
    "msid:- track",
    "rtcp:9 IN IP4 0.0.0.0",
    "ssrc-group:FID 1 2",
    "rtcp-mux",
    "rtcp-rsize",
    "sendrecv",
    "inactive",
    "rtcp-xr:rcvr-rtt=all",
];

/// Lines that must fail, each somewhere else.
const BAD_LINES: &[&str] = &[
    "rtcp-fb:96",
    "rtcp-fb:96 ",
    "rtcp-fb:96 nack ",
    "rtcp-fb:128 nack",
    "rtcp-fb:96 nack\u{0}pli",
    "rtcp-fb:96 na\rck",
    "rtpmap:96 VP8",
    "rtpmap:96 VP8/90000/",
    "rtpmap:96 VP8/90000x",
    "fmtp:97 ",
    "fmtp:97 =96",
    "fmtp:97 a b=1",
    "extmap:1",
    "extmap:1/sideways urn:x",
    "extmap:1 urn:x ",
    "candidate:1 1 udp 1 192.0.2.1 9 typ host generation",
    "candidate:1 1 udp 1 192.0.2.1 9 typ host ",
    "candidate:1 1 udp 1 192.0.2.1 9 typ",
    "candidate:1 1 udp 1 192.0.2.1 9 typ host rport x",
    "candidate:1 1 udp 1 192.0.2.1 9 typ host tcptype sideways",
    "candidate:1 0 udp 1 192.0.2.1 9 typ host",
    "ssrc:1 cname:a\u{0}b",
    "ssrc:x cname:a",
    "ice-ufrag:a b",
    "ice-pwd:",
    "fingerprint:sha-256 F4:BD:",
    "fingerprint:sha-256 F4:BD:8",
    "fingerprint:sha-256 F4:BD x",
    "setup:actpassive",
    "setup:",
    "mid:",
    "mid:0 1",
    "msid:a b c",
    "rtcp-mux:1",
    "sendrecv x",
];

/// `HEAD` and the line, with `ending` after it and `after` after that.
fn description(line: &str, ending: &str, after: &str) -> String {
    format!("{HEAD}a={line}{ending}{after}")
}

fn endings() -> [(&'static str, &'static str); 6] {
    [
        ("\r\n", ""),
        ("\n", ""),
        ("", ""),
        ("\r", ""),
        ("\r\n", "a=mid:1\r\n"),
        ("\n", "a=rtcp-mux\n"),
    ]
}

fn media_attribute(text: &str) -> Attribute<'_> {
    let sd = parse(text).unwrap_or_else(|e| panic!("{e}\n{text:?}"));
    sd.media[0].attributes[0].clone()
}

#[test]
fn fast_paths_read_what_the_line_reader_reads() {
    for line in LINES {
        let alone = parse_attribute(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        for (ending, after) in endings() {
            let text = description(line, ending, after);
            assert_eq!(media_attribute(&text), alone, "{text:?}");
        }
        // Long enough that the name's window runs into the next line, and so short that
        // it does not: both give the same.
        let text = description(line, "\r\n", &"a=x\r\n".repeat(4));
        assert_eq!(media_attribute(&text), alone, "{text:?}");
    }
}

#[test]
fn fast_paths_fail_where_the_line_reader_fails() {
    for line in BAD_LINES {
        let alone = parse_attribute(line).expect_err(line);
        for (ending, after) in endings() {
            let text = description(line, ending, after);
            let err = parse(&text).expect_err(&text);
            assert_eq!(err.line, 6, "{text:?}");
            assert_eq!(err.column, alone.column + 2, "{text:?}: {err}");
            // A stray NUL or CR is named as such in a description.
            if !matches!(err.kind, ErrorKind::Expected(e) if e.contains("NUL")) {
                assert_eq!(err.kind, alone.kind, "{text:?}");
            }
        }
    }
}

#[test]
fn a_lone_carriage_return_ends_no_line() {
    // `\r` without `\n` inside a line is a stray byte, not a line ending (RFC 8866 §5).
    for line in ["rtcp-fb:96 nack", "mid:0", "rtpmap:96 VP8/90000"] {
        let text = format!("{HEAD}a={line}\rx\r\n");
        let err = parse(&text).expect_err(&text);
        assert_eq!(
            (err.line, err.column),
            (6, line.len() + 3),
            "{text:?}: {err}"
        );
    }
}

#[test]
fn one_attribute_line_is_all_of_its_text() {
    // `parse_attribute` reads one line: a flag followed by a line break and more text is
    // not the flag alone.
    for text in [
        "rtcp-mux\r\na=mid:0123456789",
        "sendrecv\na=mid:0123456789",
        "rtcp-rsize\r\nxxxxxxxxxxxx",
    ] {
        let err = parse_attribute(text).expect_err(text);
        let name = text.split(['\r', '\n']).next().unwrap_or_default();
        assert_eq!(err.column, name.len() + 1, "{text:?}: {err}");
    }
}
