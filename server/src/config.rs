//! Settings: every one a flag with an environment variable fallback (clap's `env`).

use std::net::IpAddr;
use std::time::Duration;

use clap::Parser;
use serde::Serialize;

/// The server's settings: `weft-server --help` lists them with their environment variables.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "weft-server",
    version,
    about = "weft's streaming session server"
)]
pub struct Config {
    /// TCP port of the HTTP server (0: the system picks).
    #[arg(long, env = "WEFT_PORT", default_value_t = 8000)]
    pub port: u16,
    /// Address the HTTP server listens on.
    #[arg(long, env = "WEFT_BIND", default_value = "0.0.0.0")]
    pub bind: IpAddr,
    /// Address of the one UDP socket every session's media and data share, and of the
    /// server's ICE host candidate. Default: `--bind` when it is one address, otherwise
    /// the host's primary address (the one it routes the internet from), or 127.0.0.1.
    #[arg(long, env = "WEFT_MEDIA_IP")]
    pub media_ip: Option<IpAddr>,
    /// UDP port of that socket. Default: the same number as `--port` (0: the system picks).
    #[arg(long, env = "WEFT_MEDIA_PORT")]
    pub media_port: Option<u16>,
    /// Largest `POST /offer` body taken; larger ones get 413.
    #[arg(long, env = "WEFT_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// Sessions alive at once; past it an offer gets 503.
    #[arg(long, env = "WEFT_MAX_SESSIONS", default_value_t = 1000)]
    pub max_sessions: usize,
    /// Log one JSON object per line instead of human-readable lines.
    #[arg(long, env = "WEFT_LOG_JSON")]
    pub log_json: bool,
    /// HMAC secret of the WebSocket tokens (`GET /ws?token=`; HS256). Unset: a random one,
    /// so no token passes (mint tokens with `weft token`).
    #[arg(long, env = "WEFT_WS_SECRET", hide_env_values = true)]
    pub ws_secret: Option<String>,
    /// Members per WebSocket room at most (the server not counted).
    #[arg(long, env = "WEFT_WS_MAX_MEMBERS", default_value_t = 8)]
    pub ws_max_members: usize,
    /// The server's own name in every room (offers addressed to it become sessions).
    #[arg(long, env = "WEFT_WS_NAME", default_value = "server")]
    pub ws_name: String,
    /// What each session is told in `session_started`.
    #[command(flatten)]
    pub session: SessionConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 8000,
            bind: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            media_ip: None,
            media_port: None,
            max_body_bytes: 64 * 1024,
            max_sessions: 1000,
            log_json: false,
            ws_secret: None,
            ws_max_members: 8,
            ws_name: "server".to_owned(),
            session: SessionConfig::default(),
        }
    }
}

impl Config {
    /// A configuration for tests: HTTP and UDP on 127.0.0.1, ports chosen by the system.
    pub fn loopback() -> Config {
        let lo = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        Config {
            port: 0,
            bind: lo,
            media_ip: Some(lo),
            media_port: Some(0),
            ..Config::default()
        }
    }
}

/// The per-session configuration, sent to the client in `session_started`.
#[derive(Debug, Clone, PartialEq, Parser, Serialize)]
pub struct SessionConfig {
    /// Largest video resolution the analysis works at, `WIDTHxHEIGHT`.
    #[arg(long, env = "WEFT_MAX_RESOLUTION", default_value = "1280x720", value_parser = parse_resolution)]
    pub max_resolution: String,
    /// Detections below this confidence are not reported (0 to 1).
    #[arg(long, env = "WEFT_CONFIDENCE_THRESHOLD", default_value_t = 0.5, value_parser = parse_confidence)]
    pub confidence_threshold: f64,
    /// A session with no media and no incoming message for this long ends.
    #[arg(long, env = "WEFT_IDLE_TIMEOUT_SEC", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_sec: u64,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            max_resolution: "1280x720".to_owned(),
            confidence_threshold: 0.5,
            idle_timeout_sec: 30,
        }
    }
}

impl SessionConfig {
    /// `idle_timeout_sec` as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_sec)
    }
}

/// `WIDTHxHEIGHT`, both from 1 to 16383 (the largest a VP8 key frame can state,
/// RFC 6386 §9.1: 14 bits each).
fn parse_resolution(s: &str) -> Result<String, String> {
    let bad = || format!("{s:?} is not WIDTHxHEIGHT (e.g. 1280x720)");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let w: u32 = w.parse().map_err(|_| bad())?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    if !(1..=16383).contains(&w) || !(1..=16383).contains(&h) {
        return Err(format!("{s:?}: width and height must be 1 to 16383"));
    }
    Ok(format!("{w}x{h}"))
}

fn parse_confidence(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("{s:?}: the confidence threshold is from 0 to 1"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_issue() {
        let c = Config::try_parse_from(["weft-server"]).unwrap();
        assert_eq!(c.port, 8000);
        assert_eq!(c.max_body_bytes, 65536);
        assert_eq!(c.session, SessionConfig::default());
        assert_eq!(c.session.max_resolution, "1280x720");
        assert_eq!(c.session.confidence_threshold, 0.5);
        assert_eq!(c.session.idle_timeout_sec, 30);
    }

    #[test]
    fn flags_override() {
        let c = Config::try_parse_from([
            "weft-server",
            "--port",
            "9000",
            "--max-resolution",
            "640x480",
            "--confidence-threshold",
            "0.8",
            "--idle-timeout-sec",
            "2",
        ])
        .unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(c.session.max_resolution, "640x480");
        assert_eq!(c.session.confidence_threshold, 0.8);
        assert_eq!(c.session.idle_timeout_sec, 2);
        assert!(Config::try_parse_from(["weft-server", "--max-resolution", "big"]).is_err());
        assert!(Config::try_parse_from(["weft-server", "--confidence-threshold", "2"]).is_err());
        assert!(Config::try_parse_from(["weft-server", "--idle-timeout-sec", "0"]).is_err());
    }
}
