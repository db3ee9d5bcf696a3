//! The JSON events the server sends on a session's `detections` data channel, one text
//! message each (RFC 8831 §6.6: a WebRTC string message, PPID 51).

use serde::Serialize;
use uuid::Uuid;

use crate::config::SessionConfig;

/// What a session has counted so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Whole video frames depacketized.
    pub video_frames: u64,
    /// Whole audio frames depacketized.
    pub audio_frames: u64,
    /// Video key frames among them.
    pub keyframes: u64,
    /// Bytes of frame payload (audio and video).
    pub bytes: u64,
    /// Data channel messages received on `detections`.
    pub messages_in: u64,
    /// Data channel messages sent on `detections` (these events).
    pub messages_out: u64,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// No media and no incoming message for `idle_timeout_sec`.
    IdleTimeout,
    /// The server is shutting down (SIGINT or SIGTERM).
    Shutdown,
    /// ICE or DTLS failed (W3C `connectionState` "failed").
    ConnectionFailed,
    /// The connection closed (the client closed DTLS, or the connection ended).
    ConnectionClosed,
}

impl EndReason {
    /// The snake-case name used in JSON and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::IdleTimeout => "idle_timeout",
            EndReason::Shutdown => "shutdown",
            EndReason::ConnectionFailed => "connection_failed",
            EndReason::ConnectionClosed => "connection_closed",
        }
    }
}

/// A session's summary: in `session_ended`, in the closing log line and in `GET /sessions`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The session.
    pub session_id: Uuid,
    /// When it was created, milliseconds since the Unix epoch.
    pub start_time_ms: u64,
    /// How long it has lived, in milliseconds.
    pub duration_ms: u64,
    /// Its counters.
    #[serde(flatten)]
    pub counts: Counts,
    /// The last video resolution a key frame stated, `WIDTHxHEIGHT`.
    pub resolution: Option<String>,
}

/// One event on the `detections` channel.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event_type", rename_all = "snake_case")]
pub enum ServerEvent<'a> {
    /// Sent once, when the `detections` channel opens.
    SessionStarted {
        /// The session.
        session_id: Uuid,
        /// When this was sent, milliseconds since the Unix epoch.
        timestamp_ms: u64,
        /// The session's configuration.
        config: &'a SessionConfig,
    },
    /// Sent every second while the channel is open.
    Stats {
        /// The session.
        session_id: Uuid,
        /// When this was sent, milliseconds since the Unix epoch.
        timestamp_ms: u64,
        /// The counters.
        #[serde(flatten)]
        counts: Counts,
        /// Frame payload bits per second over the last interval.
        bitrate_bps: u64,
        /// The video resolution, if a key frame stated it (VP8 key frame header, RFC 6386
        /// §9.1; H.264 sequence parameter set, H.264 §7.4.2.1.1).
        resolution: Option<String>,
    },
    /// Sent last, when the session ends while the channel is open.
    SessionEnded {
        /// The session.
        session_id: Uuid,
        /// When this was sent, milliseconds since the Unix epoch.
        timestamp_ms: u64,
        /// Why.
        reason: EndReason,
        /// What it did.
        summary: Summary,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_started_shape() {
        let config = SessionConfig::default();
        let id = Uuid::nil();
        let v = serde_json::to_value(ServerEvent::SessionStarted {
            session_id: id,
            timestamp_ms: 7,
            config: &config,
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "event_type": "session_started",
                "session_id": "00000000-0000-0000-0000-000000000000",
                "timestamp_ms": 7,
                "config": {
                    "max_resolution": "1280x720",
                    "confidence_threshold": 0.5,
                    "idle_timeout_sec": 30
                }
            })
        );
    }

    #[test]
    fn stats_are_flat() {
        let v = serde_json::to_value(ServerEvent::Stats {
            session_id: Uuid::nil(),
            timestamp_ms: 1,
            counts: Counts {
                video_frames: 3,
                ..Counts::default()
            },
            bitrate_bps: 8,
            resolution: Some("640x480".into()),
        })
        .unwrap();
        assert_eq!(v["event_type"], "stats");
        assert_eq!(v["video_frames"], 3);
        assert_eq!(v["bitrate_bps"], 8);
        assert_eq!(v["resolution"], "640x480");
    }
}
