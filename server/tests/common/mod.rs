//! What the server's tests share: a weft client that POSTs its offer over real HTTP, and
//! reading events off the `detections` channel.

#![allow(dead_code)]
// Test harness code: real sockets and real deadlines.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;
use weft_peer::{
    ChannelOptions, DataChannel, PeerConfig, PeerConnection, RtcError, SessionDescription,
};

/// One HTTP/1.1 request to `addr`; (status, content type, body).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<(u16, String, Bytes), String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("request: {e}"))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    Ok((status, ct, body))
}

/// A weft client of the server: its connection and its `detections` channel.
pub struct Client {
    pub pc: PeerConnection,
    pub dc: DataChannel,
}

/// Makes a weft PeerConnection with a `detections` channel, POSTs its offer (every
/// candidate gathered) to `addr` and applies the answer.
pub async fn connect(addr: SocketAddr) -> Result<Client, String> {
    connect_label(addr, "detections").await
}

/// [`connect`] with another channel label.
pub async fn connect_label(addr: SocketAddr, label: &str) -> Result<Client, String> {
    let e = |w: &'static str| move |err: RtcError| format!("{w}: {err}");
    let pc = PeerConnection::new(PeerConfig::loopback())
        .await
        .map_err(e("new"))?;
    let dc = pc
        .create_data_channel(label, ChannelOptions::default())
        .await
        .map_err(e("channel"))?;
    let offer = pc.create_offer().await.map_err(e("offer"))?;
    pc.set_local_description(offer).await.map_err(e("local"))?;
    pc.gathering_complete().await.map_err(e("gathering"))?;
    let offer = pc
        .local_description()
        .await
        .map_err(e("local description"))?
        .ok_or("no local description")?;
    let body = serde_json::json!({ "type": "offer", "sdp": offer.sdp }).to_string();
    let (status, _, body) = request(addr, "POST", "/offer", body.into_bytes()).await?;
    if status != 200 {
        return Err(format!(
            "POST /offer: {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let v: Value = serde_json::from_slice(&body).map_err(|e| format!("answer JSON: {e}"))?;
    if v["type"] != "answer" {
        return Err(format!("not an answer: {v}"));
    }
    let sdp = v["sdp"].as_str().ok_or("no sdp")?;
    pc.set_remote_description(SessionDescription::answer(sdp))
        .await
        .map_err(e("remote"))?;
    Ok(Client { pc, dc })
}

/// The next event on the channel, parsed, within `limit`.
pub async fn next_event(dc: &DataChannel, limit: Duration) -> Result<Value, String> {
    let m = tokio::time::timeout(limit, dc.recv())
        .await
        .map_err(|_| format!("no event within {limit:?}"))?
        .ok_or("channel closed")?;
    let text = m.text().ok_or("not a text message")?;
    serde_json::from_str(text).map_err(|e| format!("event is not JSON: {e}: {text}"))
}

/// Events until one of `event_type` (returned), within `limit`.
pub async fn wait_event(
    dc: &DataChannel,
    event_type: &str,
    limit: Duration,
) -> Result<Value, String> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let ev = next_event(dc, left).await?;
        if ev["event_type"] == event_type {
            return Ok(ev);
        }
    }
}

/// Whether `s` is a UUID version 4 (RFC 9562 §5.4), in the hyphenated form.
pub fn is_uuid_v4(s: &str) -> bool {
    matches!(uuid::Uuid::parse_str(s), Ok(u) if u.get_version_num() == 4) && s.len() == 36
}

/// Kills and reaps the server if a test fails before it exits by itself.
pub struct Reaper(pub Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts the `weft-server` binary (with more `WEFT_*` settings in `env`) on loopback ports the system picks; its HTTP address (read from
/// its log) and a channel of its further log lines.
pub fn spawn_server(
    env: &[(&str, &str)],
    quiet: bool,
) -> (Reaper, SocketAddr, mpsc::Receiver<String>) {
    let child = Command::new(env!("CARGO_BIN_EXE_weft-server"))
        .env("WEFT_PORT", "0")
        .env("WEFT_BIND", "127.0.0.1")
        .env("WEFT_MEDIA_IP", "127.0.0.1")
        .env("WEFT_MEDIA_PORT", "0")
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start weft-server");
    let mut child = Reaper(child);
    let stderr = child.0.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !quiet {
                eprintln!("[weft-server] {line}");
            }
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("no 'listening on' line from weft-server");
        if let Some(i) = line.find("listening on http://") {
            let rest = &line[i + "listening on http://".len()..];
            let addr = rest.split('/').next().expect("address");
            return (child, addr.parse().expect("socket address"), rx);
        }
    }
}
