//! Hostile input: huge lines, huge line counts, binary garbage and mutated browser
//! descriptions. The parser must never panic, must stop at its [`Limits`], and every error
//! must point inside the input (line and column from 1). What does parse must write and
//! parse back to the same model. No timing is asserted: the limits are what keep the work
//! bounded, and they are checked through the errors they produce.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use weft_sdp::{ErrorKind, Limits, ParseError};

const HEAD: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/sdp")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn unlimited_bytes() -> Limits {
    Limits {
        max_bytes: usize::MAX,
        ..Limits::default()
    }
}

fn err_at(line: usize, column: usize, kind: ErrorKind) -> ParseError {
    ParseError { line, column, kind }
}

#[test]
fn a_single_20_mb_line() {
    let mut text = String::from("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=");
    text.push_str(&"x".repeat(20 << 20));
    text.push_str("\r\nt=0 0\r\n");
    let too_large = err_at(1, 1, ErrorKind::TooLarge { limit: 1 << 20 });
    assert_eq!(weft_sdp::parse(&text).unwrap_err(), too_large);
    assert_eq!(
        weft_sdp::parse_bytes(text.as_bytes()).unwrap_err(),
        too_large
    );
    // Past the size limit, the line limit stops it at the long line.
    assert_eq!(
        weft_sdp::parse_with(&text, &unlimited_bytes()).unwrap_err(),
        err_at(3, 1, ErrorKind::LineTooLong { limit: 16 * 1024 })
    );
    // With no limits at all it parses, borrowing the 20 MB name rather than copying it.
    let none = Limits {
        max_bytes: usize::MAX,
        max_lines: usize::MAX,
        max_line_length: usize::MAX,
    };
    let sd = weft_sdp::parse_with(&text, &none).unwrap();
    assert_eq!(sd.session_name.len(), 20 << 20);
    assert!(matches!(sd.session_name, std::borrow::Cow::Borrowed(_)));
    // A 20 MB line with no line ending at all.
    let raw = "a".repeat(20 << 20);
    assert_eq!(
        weft_sdp::parse_with(&raw, &unlimited_bytes()).unwrap_err(),
        err_at(1, 1, ErrorKind::LineTooLong { limit: 16 * 1024 })
    );
}

#[test]
fn two_million_short_lines() {
    let mut text = String::from(HEAD);
    text.push_str(&"a=x\r\n".repeat(2_000_000));
    assert_eq!(
        weft_sdp::parse(&text).unwrap_err(),
        err_at(1, 1, ErrorKind::TooLarge { limit: 1 << 20 })
    );
    assert_eq!(
        weft_sdp::parse_with(&text, &unlimited_bytes()).unwrap_err(),
        err_at(20_001, 1, ErrorKind::TooManyLines { limit: 20_000 })
    );
    // Two million bare line feeds: blank lines after the last line are tolerated, so this
    // is an empty description.
    let blank = "\n".repeat(2_000_000);
    assert_eq!(
        weft_sdp::parse_with(&blank, &unlimited_bytes()).unwrap_err(),
        err_at(1, 1, ErrorKind::MissingLine("`v=0`"))
    );
    // ... but not blank lines before one.
    let blank_then_v = format!("{blank}v=0\r\n");
    assert_eq!(
        weft_sdp::parse_with(&blank_then_v, &unlimited_bytes()).unwrap_err(),
        err_at(1, 1, ErrorKind::Expected("`v=0`"))
    );
}

#[test]
fn a_hundred_thousand_attribute_lines_hit_the_line_limit() {
    let mut text = String::from(HEAD);
    text.push_str(&"a=x\r\n".repeat(100_000));
    let limits = Limits::default();
    assert!(
        text.len() < limits.max_bytes,
        "the size limit must not be what stops it"
    );
    assert_eq!(
        weft_sdp::parse(&text).unwrap_err(),
        err_at(
            limits.max_lines + 1,
            1,
            ErrorKind::TooManyLines {
                limit: limits.max_lines
            }
        )
    );
    // Exactly at the limit it parses.
    let mut at_limit = String::from(HEAD);
    at_limit.push_str(&"a=x\r\n".repeat(limits.max_lines - 4));
    let sd = weft_sdp::parse(&at_limit).unwrap();
    assert_eq!(sd.attributes.len(), limits.max_lines - 4);
}

#[test]
fn a_20_kb_line() {
    let limit = Limits::default().max_line_length;
    let text = format!("{HEAD}a=x:{}\r\n", "y".repeat(20 * 1024));
    assert_eq!(
        weft_sdp::parse(&text).unwrap_err(),
        err_at(5, 1, ErrorKind::LineTooLong { limit })
    );
    // The limit counts the line without its ending: `limit` bytes pass, one more does not.
    let at_limit = format!("{HEAD}a=x:{}\r\n", "y".repeat(limit - 4));
    let sd = weft_sdp::parse(&at_limit).unwrap();
    assert_eq!(sd.to_sdp_string(), at_limit);
    let over = format!("{HEAD}a=x:{}\r\n", "y".repeat(limit - 3));
    assert_eq!(
        weft_sdp::parse(&over).unwrap_err(),
        err_at(5, 1, ErrorKind::LineTooLong { limit })
    );
}

#[test]
fn the_size_limit_is_exact() {
    let limits = Limits {
        max_bytes: HEAD.len(),
        ..Limits::default()
    };
    assert!(weft_sdp::parse_with(HEAD, &limits).is_ok());
    let one_more = format!("{HEAD}\n");
    assert_eq!(
        weft_sdp::parse_with(&one_more, &limits).unwrap_err(),
        err_at(1, 1, ErrorKind::TooLarge { limit: HEAD.len() })
    );
    let big = vec![b'v'; (1 << 20) + 1];
    assert_eq!(
        weft_sdp::parse_bytes(&big).unwrap_err(),
        err_at(1, 1, ErrorKind::TooLarge { limit: 1 << 20 })
    );
}

#[test]
fn long_lines_of_repeated_items_under_the_line_limit() {
    // Five thousand payload types on one m= line.
    let pts: Vec<String> = (0..5000).map(|k| (k % 128).to_string()).collect();
    let text = format!("{HEAD}m=video 9 RTP/AVP {}\r\n", pts.join(" "));
    let sd = weft_sdp::parse(&text).unwrap();
    assert_eq!(sd.media[0].codecs().count(), 5000);
    assert_eq!(sd.to_sdp_string(), text);
    // A thousand candidate extensions.
    let ext = " generation 0".repeat(1000);
    let text = format!("{HEAD}a=candidate:1 1 udp 1 192.0.2.1 9 typ host{ext}\r\n");
    let sd = weft_sdp::parse(&text).unwrap();
    assert_eq!(sd.to_sdp_string(), text);
    // A fingerprint of 4000 bytes stops at the 65th.
    let fp = vec!["AB"; 4000].join(":");
    let text = format!("{HEAD}a=fingerprint:sha-256 {fp}\r\n");
    assert_eq!(
        weft_sdp::parse(&text).unwrap_err(),
        err_at(
            5,
            23 + 64 * 3,
            ErrorKind::Expected("at most 64 bytes (SHA-512)")
        )
    );
    // A line of NUL bytes, and one of bare carriage returns.
    let nuls = format!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns={}\r\nt=0 0\r\n",
        "\0".repeat(10_000)
    );
    assert_eq!(
        weft_sdp::parse(&nuls).unwrap_err(),
        err_at(
            3,
            3,
            ErrorKind::Expected("text without NUL or a lone carriage return")
        )
    );
    let crs = "\r".repeat(100_000);
    assert_eq!(
        weft_sdp::parse(&crs).unwrap_err(),
        err_at(1, 1, ErrorKind::LineTooLong { limit: 16 * 1024 })
    );
}

// --- Mutated and random input -------------------------------------------------------------

/// SplitMix64: a small seeded generator, so every run sees the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A byte that is often one the grammar cares about.
    fn byte(&mut self) -> u8 {
        const INTERESTING: &[u8] = b"\0\r\n \t:=/;,~*-.0123456789aAzZvomt\x7f\x80\xc3\xa9\xe2\xff";
        if self.next().is_multiple_of(2) {
            INTERESTING[self.below(INTERESTING.len())]
        } else {
            self.next() as u8
        }
    }
}

#[derive(Default)]
struct Outcomes {
    ok: usize,
    err: usize,
}

/// Parses `input` and checks what the crate promises about the result; panics (with the
/// case name and the input) if a promise is broken or the parser panics.
fn check(case: &str, input: &[u8], outcomes: &mut Outcomes) {
    let result = catch_unwind(AssertUnwindSafe(|| check_inner(input)));
    match result {
        Ok(Ok(true)) => outcomes.ok += 1,
        Ok(Ok(false)) => outcomes.err += 1,
        Ok(Err(broken)) => panic!(
            "{case}: {broken}\ninput: {:?}",
            String::from_utf8_lossy(input)
        ),
        Err(_) => panic!(
            "{case}: the parser panicked\ninput: {:?}",
            String::from_utf8_lossy(input)
        ),
    }
}

/// `Ok(true)` if it parsed, `Ok(false)` for a well-formed error, `Err` for a broken promise.
fn check_inner(input: &[u8]) -> Result<bool, String> {
    match weft_sdp::parse_bytes(input) {
        Ok(sd) => {
            let written = sd.to_sdp_string();
            let again = weft_sdp::parse(&written)
                .map_err(|e| format!("written text does not parse: {e}\n{written}"))?;
            if again != sd {
                return Err(format!("model changed in the round trip\n{written}"));
            }
            if again.to_sdp_string() != written {
                return Err(format!("written text is not a fixed point\n{written}"));
            }
            Ok(true)
        }
        Err(e) => {
            if e.line < 1 || e.column < 1 {
                return Err(format!("position below 1: {e:?}"));
            }
            // The error points inside the input: an existing line, at most one column past
            // its last character.
            let lines: Vec<&[u8]> = input.split(|&c| c == b'\n').collect();
            let Some(line) = lines.get(e.line - 1) else {
                return Err(format!("line {} of {}: {e:?}", e.line, lines.len()));
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let chars = String::from_utf8_lossy(line).chars().count();
            if e.column > chars + 1 {
                return Err(format!(
                    "column {} of a {chars}-character line: {e:?}",
                    e.column
                ));
            }
            let prefix = format!("line {}, column {}: expected ", e.line, e.column);
            if !e.to_string().starts_with(&prefix) {
                return Err(format!("Display is `{e}`"));
            }
            Ok(false)
        }
    }
}

#[test]
fn truncations_at_every_position() {
    let mut outcomes = Outcomes::default();
    let small = fixture("chromium_datachannel_offer.sdp");
    for n in 0..=small.len() {
        check(
            &format!("datachannel offer cut at {n}"),
            &small[..n],
            &mut outcomes,
        );
    }
    assert!(weft_sdp::parse_bytes(&small).is_ok());
    let large = fixture("chromium_av_datachannel_offer.sdp");
    for n in (0..=large.len()).step_by(7) {
        check(&format!("av offer cut at {n}"), &large[..n], &mut outcomes);
    }
    // Cut inside a line, most prefixes are still descriptions (a shorter last value);
    // cut inside the first four lines, none is.
    assert!(
        outcomes.ok > 100 && outcomes.err > 50,
        "ok {}, err {}",
        outcomes.ok,
        outcomes.err
    );
}

#[test]
fn byte_mutations_of_fixtures() {
    let fixtures = [
        fixture("chromium_datachannel_offer.sdp"),
        fixture("chromium_av_datachannel_answer.sdp"),
        fixture("chromium_simulcast_offer.sdp"),
    ];
    let mut rng = Rng(0x5eed_0001);
    let mut outcomes = Outcomes::default();
    for case in 0..3000 {
        let mut input = fixtures[case % fixtures.len()].clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(input.len());
            match rng.below(4) {
                0 => input[at] = rng.byte(),
                1 => input[at] ^= 1 << rng.below(8),
                2 => input.insert(at, rng.byte()),
                _ => {
                    input.remove(at);
                }
            }
        }
        check(
            &format!("byte mutation {case} (seed 0x5eed_0001)"),
            &input,
            &mut outcomes,
        );
    }
    assert!(
        outcomes.ok > 100 && outcomes.err > 100,
        "ok {}, err {}",
        outcomes.ok,
        outcomes.err
    );
}

#[test]
fn line_mutations_of_fixtures() {
    let text = fixture("chromium_av_datachannel_offer.sdp");
    let lines: Vec<&[u8]> = text.split_inclusive(|&c| c == b'\n').collect();
    let mut rng = Rng(0x5eed_0002);
    let mut outcomes = Outcomes::default();
    for case in 0..1500 {
        let mut out: Vec<&[u8]> = lines.clone();
        for _ in 0..1 + rng.below(3) {
            let a = rng.below(out.len());
            let b = rng.below(out.len());
            match rng.below(3) {
                // Duplicate a line somewhere else.
                0 => {
                    let l = out[a];
                    out.insert(b, l);
                }
                1 => out.swap(a, b),
                _ => {
                    out.remove(a);
                }
            }
        }
        check(
            &format!("line mutation {case} (seed 0x5eed_0002)"),
            &out.concat(),
            &mut outcomes,
        );
    }
    // Duplicating every line of the session part in place.
    for k in 0..7 {
        let mut out = lines.clone();
        out.insert(k, lines[k]);
        check(
            &format!("line {} doubled", k + 1),
            &out.concat(),
            &mut outcomes,
        );
    }
    assert!(
        outcomes.ok > 50 && outcomes.err > 50,
        "ok {}, err {}",
        outcomes.ok,
        outcomes.err
    );
}

#[test]
fn random_garbage() {
    let mut rng = Rng(0x5eed_0003);
    let mut outcomes = Outcomes::default();
    for case in 0..2000 {
        let len = rng.below(600);
        let input: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        check(
            &format!("garbage {case} (seed 0x5eed_0003)"),
            &input,
            &mut outcomes,
        );
    }
    // Garbage that has the shape of SDP: known type letters and attribute names with random
    // values, after a valid start, to reach the value parsers.
    const NAMES: &[&str] = &[
        "candidate",
        "fingerprint",
        "rtpmap",
        "fmtp",
        "rtcp-fb",
        "extmap",
        "ssrc",
        "ssrc-group",
        "rid",
        "simulcast",
        "group",
        "msid",
        "msid-semantic",
        "mid",
        "setup",
        "rtcp",
        "sctp-port",
        "sctpmap",
        "max-message-size",
        "ice-ufrag",
        "ice-pwd",
        "ice-options",
        "sctp-init",
        "sendrecv",
        "rtcp-mux",
        "x",
    ];
    const PIECES: &[&str] = &[
        " ",
        "0",
        "1",
        "96",
        "127",
        "128",
        "65535",
        "65536",
        "4294967296",
        "/",
        ":",
        ";",
        ",",
        "=",
        "~",
        "*",
        "udp",
        "typ",
        "host",
        "raddr",
        "rport",
        "tcptype",
        "so",
        "send",
        "recv",
        "pt=",
        "AB",
        "sha-256",
        "IN",
        "IP4",
        "IP6",
        "192.0.2.1",
        "::1",
        "x.local",
        "é",
    ];
    for case in 0..3000 {
        let mut text = String::from(HEAD);
        if rng.below(2) == 0 {
            text.push_str("m=audio 9 UDP/TLS/RTP/SAVPF 96\r\n");
        }
        for _ in 0..1 + rng.below(4) {
            let letter = b"abcikmtxz"[rng.below(9)] as char;
            text.push(letter);
            text.push('=');
            if letter == 'a' {
                text.push_str(NAMES[rng.below(NAMES.len())]);
                text.push(':');
            }
            for _ in 0..rng.below(12) {
                text.push_str(PIECES[rng.below(PIECES.len())]);
            }
            text.push_str("\r\n");
        }
        check(
            &format!("shaped garbage {case} (seed 0x5eed_0003)"),
            text.as_bytes(),
            &mut outcomes,
        );
    }
    assert!(
        outcomes.ok > 50 && outcomes.err > 1000,
        "ok {}, err {}",
        outcomes.ok,
        outcomes.err
    );
}
