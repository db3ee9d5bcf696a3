//! The offer as the client sends it, and every way it can be refused.
//!
//! The body is a JSON `RTCSessionDescriptionInit` (W3C WebRTC §4.8.1) with `type` "offer"
//! and the SDP (RFC 8866) in `sdp`. It is checked completely before a peer connection or
//! a session exists, so a refused offer leaves nothing behind.

use axum::http::StatusCode;
use serde_json::{json, Value};
use weft_peer::SessionDescription;

/// Why an offer was not answered; each maps to an HTTP status and a JSON body
/// `{"error": code, "message": text, ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfferError {
    /// The body is larger than the configured limit (413).
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read (400).
    BodyUnreadable(String),
    /// The body is not JSON, or not a JSON object (400); line and column from 1.
    MalformedJson {
        /// What the JSON parser said.
        message: String,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
    /// A required field is absent (400).
    MissingField(&'static str),
    /// A field is present but not a string (400).
    FieldNotString(&'static str),
    /// `type` is not "offer" (400).
    NotAnOffer(String),
    /// The SDP does not parse (400): RFC 8866 grammar, line and column from 1.
    SdpSyntax {
        /// Line of the first offending character.
        line: usize,
        /// Its column (characters).
        column: usize,
        /// What was expected there.
        message: String,
    },
    /// The SDP parses but cannot be applied, e.g. no fingerprint or ICE credentials
    /// (400; RFC 8829 §5.10 rules, checked by the peer connection).
    InvalidDescription(String),
    /// `max_sessions` sessions are live (503).
    TooManySessions,
    /// The server could not make the peer connection or the answer (500).
    Internal(String),
}

impl OfferError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            OfferError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            OfferError::TooManySessions => StatusCode::SERVICE_UNAVAILABLE,
            OfferError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The machine-readable code in the body's `error`.
    pub fn code(&self) -> &'static str {
        match self {
            OfferError::BodyTooLarge { .. } => "body_too_large",
            OfferError::BodyUnreadable(_) => "body_unreadable",
            OfferError::MalformedJson { .. } => "malformed_json",
            OfferError::MissingField(_) => "missing_field",
            OfferError::FieldNotString(_) => "invalid_field",
            OfferError::NotAnOffer(_) => "not_an_offer",
            OfferError::SdpSyntax { .. } => "sdp_syntax",
            OfferError::InvalidDescription(_) => "invalid_description",
            OfferError::TooManySessions => "too_many_sessions",
            OfferError::Internal(_) => "internal",
        }
    }

    /// The JSON body: `error` (the code), `message`, and the details of the cause
    /// (`field`, `line`, `column`, `limit`).
    pub fn body(&self) -> Value {
        let mut v = json!({ "error": self.code(), "message": self.to_string() });
        match self {
            OfferError::BodyTooLarge { limit } => v["limit"] = json!(limit),
            OfferError::MalformedJson { line, column, .. }
            | OfferError::SdpSyntax { line, column, .. } => {
                v["line"] = json!(line);
                v["column"] = json!(column);
            }
            OfferError::MissingField(f) | OfferError::FieldNotString(f) => v["field"] = json!(f),
            _ => {}
        }
        v
    }
}

impl std::fmt::Display for OfferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OfferError::BodyTooLarge { limit } => {
                write!(f, "the body is larger than {limit} bytes")
            }
            OfferError::BodyUnreadable(e) => write!(f, "the body could not be read: {e}"),
            OfferError::MalformedJson {
                message,
                line,
                column,
            } => write!(
                f,
                "the body is not a JSON object: line {line}, column {column}: {message}"
            ),
            OfferError::MissingField(field) => write!(f, "the field \"{field}\" is missing"),
            OfferError::FieldNotString(field) => {
                write!(f, "the field \"{field}\" must be a string")
            }
            OfferError::NotAnOffer(t) => {
                write!(f, "\"type\" must be \"offer\", not {t:?}")
            }
            OfferError::SdpSyntax {
                line,
                column,
                message,
            } => write!(
                f,
                "the SDP does not parse: line {line}, column {column}: {message}"
            ),
            OfferError::InvalidDescription(e) => {
                write!(f, "the offer cannot be applied: {e}")
            }
            OfferError::TooManySessions => f.write_str("too many live sessions; try later"),
            OfferError::Internal(e) => write!(f, "internal error: {e}"),
        }
    }
}

impl std::error::Error for OfferError {}

/// Reads a `POST /offer` body: a JSON object with string fields `type` ("offer") and
/// `sdp`, whose SDP parses (RFC 8866 §5). Other fields are ignored.
pub fn parse_offer(body: &[u8]) -> Result<SessionDescription, OfferError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| OfferError::MalformedJson {
        message: e.to_string(),
        line: e.line(),
        column: e.column(),
    })?;
    let Value::Object(obj) = v else {
        return Err(OfferError::MalformedJson {
            message: "expected an object".to_owned(),
            line: 1,
            column: 1,
        });
    };
    let string = |field: &'static str| match obj.get(field) {
        None | Some(Value::Null) => Err(OfferError::MissingField(field)),
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(OfferError::FieldNotString(field)),
    };
    let ty = string("type")?;
    if ty != "offer" {
        return Err(OfferError::NotAnOffer(ty.to_owned()));
    }
    let sdp = string("sdp")?;
    if let Err(e) = weft_sdp::parse(sdp) {
        return Err(OfferError::SdpSyntax {
            line: e.line,
            column: e.column,
            message: e.kind.to_string(),
        });
    }
    Ok(SessionDescription::offer(sdp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_names_its_cause() {
        assert!(matches!(
            parse_offer(b"{"),
            Err(OfferError::MalformedJson { line: 1, .. })
        ));
        assert!(matches!(
            parse_offer(b"[1]"),
            Err(OfferError::MalformedJson { .. })
        ));
        assert_eq!(
            parse_offer(br#"{"sdp":"v=0"}"#),
            Err(OfferError::MissingField("type"))
        );
        assert_eq!(
            parse_offer(br#"{"type":"offer"}"#),
            Err(OfferError::MissingField("sdp"))
        );
        assert_eq!(
            parse_offer(br#"{"type":"offer","sdp":5}"#),
            Err(OfferError::FieldNotString("sdp"))
        );
        assert_eq!(
            parse_offer(br#"{"type":"answer","sdp":""}"#),
            Err(OfferError::NotAnOffer("answer".into()))
        );
        let e = parse_offer(br#"{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 x\r\nq=1\r\n"}"#)
            .unwrap_err();
        assert!(
            matches!(
                e,
                OfferError::SdpSyntax {
                    line: 3,
                    column: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.body()["line"], 3);
    }
}
