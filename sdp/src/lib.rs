//! # weft-sdp
//!
//! The Session Description Protocol as WebRTC uses it: RFC 8866 session and media grammar,
//! and a typed form of every attribute a browser writes or reads.
//!
//! ```
//! let text = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
//!             m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
//!             a=mid:0\r\na=sctp-port:5000\r\n";
//! let sd = weft_sdp::parse(text).unwrap();
//! assert_eq!(sd.media_by_mid("0").and_then(|m| m.sctp_port()), Some(5000));
//! assert_eq!(sd.to_sdp_string(), text);
//! ```
//!
//! ## What it guarantees
//! - **Round trip.** [`SessionDescription::to_sdp_string`] writes canonical SDP (CRLF, the
//!   forms browsers write); `parse(write(x)) == x` for every model, and for descriptions
//!   written by Chromium `write(parse(s)) == s` byte for byte. Attributes keep their order;
//!   unknown ones are kept verbatim.
//! - **Errors say where.** A [`ParseError`] names the line and column (from 1) and what was
//!   expected there. The parser rejects what RFC 8866 §5 forbids: a missing `v=`, `o=`, `s=`
//!   or `t=`, lines out of order, repeated single lines, unknown line types, bad numbers.
//! - **Hostile input is cheap.** Input is bounded by [`Limits`]; parsing is one pass, linear
//!   in the input; nothing panics. Parsed text is borrowed (`Cow`), not copied.
//!
//! ## Coverage
//! RFC 8866 (all line types), RFC 5888 and RFC 9143 (`group`, `mid`, BUNDLE), RFC 8830
//! (`msid`), RFC 8866 §6.6/§6.15 (`rtpmap`, `fmtp`), RFC 4585 (`rtcp-fb`), RFC 8285
//! (`extmap`, `extmap-allow-mixed`), RFC 5576 (`ssrc`, `ssrc-group`), RFC 8851 and 8853
//! (`rid`, `simulcast`), RFC 8839 (`candidate`, `ice-ufrag`, `ice-pwd`, `ice-options`,
//! `ice-lite`), RFC 8840 (`end-of-candidates`), RFC 8122 (`fingerprint`), RFC 4145
//! (`setup`), RFC 3605 (`rtcp`), RFC 5761/8858 (`rtcp-mux`, `rtcp-mux-only`), RFC 5506
//! (`rtcp-rsize`), RFC 8841 (`sctp-port`, `max-message-size`), legacy `sctpmap`, and the
//! SNAP draft's `sctp-init`.
//!
//! ## Non-goals
//! Offer/answer logic lives in `weft-peer`; this crate only reads and writes descriptions.
//! Character sets other than UTF-8 (`a=charset`) are not decoded.

#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod error;
mod jsep;
mod lists;
mod model;
mod owned;
mod parse;
mod write;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use error::{ErrorKind, ParseError};
pub use jsep::{Codec, IceCredentials};
pub use lists::{CandidateExtensionIter, FmtpParameterIter};
pub use model::*;
pub use parse::{parse_attribute, parse_candidate, parse_with, Limits};

/// Parses a description with the default [`Limits`]. LF-only line endings are accepted.
pub fn parse(input: &str) -> Result<SessionDescription<'_>, ParseError> {
    parse_with(input, &Limits::default())
}

/// Parses bytes that should be UTF-8 (RFC 8866 §5); invalid UTF-8 is an error at the first
/// bad byte.
pub fn parse_bytes(input: &[u8]) -> Result<SessionDescription<'_>, ParseError> {
    let limits = Limits::default();
    if input.len() > limits.max_bytes {
        return Err(ParseError {
            line: 1,
            column: 1,
            kind: ErrorKind::TooLarge {
                limit: limits.max_bytes,
            },
        });
    }
    match std::str::from_utf8(input) {
        Ok(s) => parse_with(s, &limits),
        Err(e) => {
            let good = input.get(..e.valid_up_to()).unwrap_or_default();
            let line = good.iter().filter(|&&c| c == b'\n').count() + 1;
            let line_start = good.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
            let prefix = good.get(line_start..).unwrap_or_default();
            let column =
                std::str::from_utf8(prefix).map_or(prefix.len(), |s| s.chars().count()) + 1;
            Err(ParseError {
                line,
                column,
                kind: ErrorKind::InvalidUtf8,
            })
        }
    }
}
