//! The WebSocket JSON messages: `{type, room, data, from}`.
//!
//! | type | data |
//! |---|---|
//! | `webrtc.offer`, `webrtc.answer` | `{sdp, to}` |
//! | `webrtc.iceCandidate` | `{candidate, to}` (trickle ICE) |
//! | `call.init`, `call.accept`, `call.reject`, `call.hangup` | `{to, ...}` |
//! | `room.join`, `room.leave` (client to server) | none: `room` names the room |
//! | `room.joined` (server to the joiner) | `{name, members}` |
//! | `room.member` (server to the others) | `{name, event: "joined" or "left"}` |
//! | `error` (server to client) | `{message}` |
//!
//! `from` is set by the server to the sender's authenticated name; a client's own `from`
//! is ignored.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use weft_peer::IceCandidateInit;

use crate::session::Signal;

/// One message on the socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WsMessage {
    /// The message type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The room it belongs to.
    #[serde(default)]
    pub room: String,
    /// Type-specific content.
    #[serde(default)]
    pub data: Value,
    /// The sender, as the server knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// Why a text frame is not a message this layer takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageError {
    /// Not JSON, or not the `{type, room, data}` shape.
    Malformed(String),
    /// A known type whose `data` lacks a field it needs.
    MissingField(&'static str),
    /// A type this layer does not know.
    UnknownType(String),
}

impl std::fmt::Display for MessageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageError::Malformed(e) => write!(f, "malformed message: {e}"),
            MessageError::MissingField(k) => write!(f, "missing field data.{k}"),
            MessageError::UnknownType(t) => write!(f, "unknown message type {t}"),
        }
    }
}

impl std::error::Error for MessageError {}

/// Largest text frame taken (an SDP with candidates is a few KiB).
pub const MAX_MESSAGE: usize = 64 * 1024;

impl WsMessage {
    /// Parses a text frame.
    pub fn parse(text: &str) -> Result<WsMessage, MessageError> {
        if text.len() > MAX_MESSAGE {
            return Err(MessageError::Malformed(format!(
                "{} bytes, over {MAX_MESSAGE}",
                text.len()
            )));
        }
        let m: WsMessage =
            serde_json::from_str(text).map_err(|e| MessageError::Malformed(e.to_string()))?;
        if m.kind.is_empty() {
            return Err(MessageError::Malformed("empty type".into()));
        }
        Ok(m)
    }

    /// The text frame.
    pub fn to_text(&self) -> String {
        // A struct of strings and JSON values always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The addressee, `data.to`, if any.
    pub fn to(&self) -> Option<&str> {
        self.data.get("to").and_then(Value::as_str)
    }

    /// An error message for a client.
    pub fn error(room: &str, message: impl std::fmt::Display) -> WsMessage {
        WsMessage {
            kind: "error".into(),
            room: room.into(),
            data: json!({ "message": message.to_string() }),
            from: None,
        }
    }

    /// The message that carries `signal` to peer `to` in `room`.
    pub fn from_signal(room: &str, to: &str, signal: &Signal) -> WsMessage {
        let (kind, data) = match signal {
            Signal::Init { tie_breaker } => {
                ("call.init", json!({ "to": to, "tieBreaker": tie_breaker }))
            }
            Signal::Accept => ("call.accept", json!({ "to": to })),
            Signal::Reject { reason } => ("call.reject", json!({ "to": to, "reason": reason })),
            Signal::Hangup => ("call.hangup", json!({ "to": to })),
            Signal::Offer(sdp) => ("webrtc.offer", json!({ "to": to, "sdp": sdp })),
            Signal::Answer(sdp) => ("webrtc.answer", json!({ "to": to, "sdp": sdp })),
            Signal::Candidate(c) => (
                "webrtc.iceCandidate",
                json!({
                    "to": to,
                    "candidate": {
                        "candidate": c.candidate,
                        "sdpMid": c.sdp_mid,
                        "sdpMLineIndex": c.sdp_m_line_index,
                        "usernameFragment": c.username_fragment,
                    }
                }),
            ),
        };
        WsMessage {
            kind: kind.into(),
            room: room.into(),
            data,
            from: None,
        }
    }

    /// The signal a message carries.
    pub fn to_signal(&self) -> Result<Signal, MessageError> {
        let str_field = |k: &'static str| {
            self.data
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(MessageError::MissingField(k))
        };
        Ok(match self.kind.as_str() {
            "call.init" => Signal::Init {
                tie_breaker: self
                    .data
                    .get("tieBreaker")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
            },
            "call.accept" => Signal::Accept,
            "call.reject" => Signal::Reject {
                reason: str_field("reason").unwrap_or_default(),
            },
            "call.hangup" => Signal::Hangup,
            "webrtc.offer" => Signal::Offer(str_field("sdp")?),
            "webrtc.answer" => Signal::Answer(str_field("sdp")?),
            "webrtc.iceCandidate" => {
                let c = self
                    .data
                    .get("candidate")
                    .ok_or(MessageError::MissingField("candidate"))?;
                // Browsers send the RTCIceCandidateInit object; a bare string is taken too.
                let init = match c {
                    Value::String(s) => IceCandidateInit {
                        candidate: s.clone(),
                        sdp_mid: None,
                        sdp_m_line_index: Some(0),
                        username_fragment: None,
                    },
                    Value::Object(o) => IceCandidateInit {
                        candidate: o
                            .get("candidate")
                            .and_then(Value::as_str)
                            .ok_or(MessageError::MissingField("candidate.candidate"))?
                            .to_owned(),
                        sdp_mid: o.get("sdpMid").and_then(Value::as_str).map(str::to_owned),
                        sdp_m_line_index: o
                            .get("sdpMLineIndex")
                            .and_then(Value::as_u64)
                            .and_then(|v| u16::try_from(v).ok()),
                        username_fragment: o
                            .get("usernameFragment")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    },
                    _ => return Err(MessageError::MissingField("candidate")),
                };
                Signal::Candidate(init)
            }
            other => return Err(MessageError::UnknownType(other.to_owned())),
        })
    }
}
