//! `GET /ws` signalling over real TCP: tokens (401 for every bad kind), malformed messages
//! (an error message, the socket stays), rooms, and two weft peers connecting through the
//! relay with trickle ICE, one of them also calling the server (a member of every room),
//! whose session sends `session_started` and ends on `call.hangup`.

#![allow(clippy::disallowed_methods)]

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message};
use weft_peer::{
    ChannelOptions, DataChannel, IceCandidateInit, PeerConfig, PeerConnection, PeerConnectionState,
    PeerEvent, SessionDescription,
};
use weft_server::{Config, Running};
use weft_signal::{token, Claims};

const SECRET: &str = "ws test secret";
const LIMIT: Duration = Duration::from_secs(10);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn token_for(sub: &str, room: Option<&str>) -> String {
    token::sign(
        SECRET.as_bytes(),
        &Claims {
            sub: sub.into(),
            room: room.map(str::to_owned),
            exp: unix_now() + 600,
        },
    )
}

async fn start() -> Running {
    weft_server::start(Config {
        ws_secret: Some(SECRET.into()),
        ws_max_members: 3,
        ..Config::loopback()
    })
    .await
    .expect("start")
}

/// A socket on the relay: frames out through `out`, parsed frames in from `inbox`.
struct Member {
    out: mpsc::UnboundedSender<Message>,
    inbox: mpsc::UnboundedReceiver<Value>,
    room: String,
}

impl Member {
    async fn connect(
        running: &Running,
        token: &str,
        room: &str,
    ) -> Result<Member, tungstenite::Error> {
        let url = format!("ws://{}/ws?token={token}", running.http_addr());
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
        let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let (in_tx, inbox) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    m = ws.next() => match m {
                        Some(Ok(Message::Text(t))) => {
                            let v = serde_json::from_str(t.as_str()).expect("the relay sends JSON");
                            if in_tx.send(v).is_err() { break; }
                        }
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                            let _ = in_tx.send(json!({"type": "closed"}));
                            break;
                        }
                        Some(Ok(_)) => {}
                    },
                    m = out_rx.recv() => match m {
                        Some(m) => { if ws.send(m).await.is_err() { break; } }
                        None => { let _ = ws.close(None).await; break; }
                    }
                }
            }
        });
        Ok(Member {
            out,
            inbox,
            room: room.into(),
        })
    }

    fn send(&self, kind: &str, data: Value) {
        let m = json!({"type": kind, "room": self.room, "data": data});
        self.out
            .send(Message::text(m.to_string()))
            .expect("socket task");
    }

    fn send_raw(&self, m: Message) {
        self.out.send(m).expect("socket task");
    }

    async fn recv(&mut self) -> Value {
        tokio::time::timeout(LIMIT, self.inbox.recv())
            .await
            .expect("a message in time")
            .expect("socket task")
    }

    /// Messages until one of `kind` (returned).
    async fn wait(&mut self, kind: &str) -> Value {
        loop {
            let m = self.recv().await;
            if m["type"] == kind {
                return m;
            }
            assert_ne!(m["type"], "closed", "socket closed waiting for {kind}");
        }
    }

    async fn join(&mut self) -> Value {
        self.send("room.join", json!({}));
        self.wait("room.joined").await
    }
}

/// The HTTP status of a refused WebSocket handshake.
async fn refused(running: &Running, query: &str) -> u16 {
    let url = format!("ws://{}/ws{query}", running.http_addr());
    match tokio_tungstenite::connect_async(url).await {
        Err(tungstenite::Error::Http(r)) => r.status().as_u16(),
        Err(e) => panic!("{query}: not an HTTP refusal: {e}"),
        Ok(_) => panic!("{query}: accepted"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_get_401_before_the_upgrade() {
    let running = start().await;
    let claims = |exp| Claims {
        sub: "mallory".into(),
        room: None,
        exp,
    };
    let forged = token::sign(b"another secret", &claims(unix_now() + 600));
    let expired = token::sign(SECRET.as_bytes(), &claims(unix_now() - 1));
    let good = token::sign(SECRET.as_bytes(), &claims(unix_now() + 600));
    // alg none with the right payload (RFC 8725 §3.1): refused whatever it says.
    let none = {
        let parts: Vec<&str> = good.split('.').collect();
        format!("eyJhbGciOiJub25lIn0.{}.", parts[1])
    };
    for q in [
        String::new(),
        "?token=".into(),
        "?token=junk".into(),
        format!("?token={forged}"),
        format!("?token={expired}"),
        format!("?token={none}"),
    ] {
        assert_eq!(refused(&running, &q).await, 401, "{q}");
    }
    // The body says why, as JSON.
    let (status, ct, body) = common::request(
        running.http_addr(),
        "GET",
        &format!("/ws?token={expired}"),
        vec![],
    )
    .await
    .expect("request");
    assert_eq!(status, 401);
    assert!(ct.starts_with("application/json"), "{ct}");
    let v: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(v["message"], "token expired");
    // A good token without the upgrade: an error as JSON, not a socket.
    let (status, ct, _) = common::request(
        running.http_addr(),
        "GET",
        &format!("/ws?token={good}"),
        vec![],
    )
    .await
    .expect("request");
    assert!((400..500).contains(&status), "{status}");
    assert!(ct.starts_with("application/json"), "{ct}");
    // And the good token is taken.
    assert!(Member::connect(&running, &good, "r").await.is_ok());
    running
        .shutdown(Duration::from_secs(2))
        .await
        .expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_get_errors_and_the_socket_stays() {
    let running = start().await;
    let mut m = Member::connect(&running, &token_for("alice", Some("r")), "r")
        .await
        .expect("connect");
    let big = "x".repeat(100 * 1024);
    for bad in [
        Message::text("not json"),
        Message::text("{\"room\":\"r\"}"),
        Message::text("[1,2,3]"),
        Message::text(
            json!({"type":"webrtc.offer","room":"r","data":{"to":"bob","sdp":"v=0"}}).to_string(),
        ),
        Message::binary(vec![1u8, 2, 3]),
        Message::text(big),
        // The token grants room r only.
        Message::text(json!({"type":"room.join","room":"elsewhere"}).to_string()),
    ] {
        m.send_raw(bad.clone());
        let e = m.recv().await;
        assert_eq!(e["type"], "error", "{bad:?} -> {e}");
        assert!(
            e["data"]["message"].as_str().is_some_and(|s| !s.is_empty()),
            "{e}"
        );
    }
    // Still open: the join works.
    let joined = m.join().await;
    assert_eq!(joined["data"]["name"], "alice");
    assert_eq!(joined["data"]["members"], json!(["server"]));
    // Addressed to nobody there.
    m.send("webrtc.offer", json!({"to": "bob", "sdp": "v=0"}));
    assert_eq!(m.recv().await["type"], "error");
    // The server takes no answer (it never offers) and names the problem.
    m.send("webrtc.answer", json!({"to": "server", "sdp": "v=0"}));
    let e = m.recv().await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["from"], "server");
    // A bad offer to the server: an error naming the SDP problem, no session.
    m.send(
        "webrtc.offer",
        json!({"to": "server", "sdp": "v=0\r\nnonsense\r\n"}),
    );
    let e = m.recv().await;
    assert_eq!(e["type"], "error", "{e}");
    assert!(running.server().registry().is_empty());
    // Shutdown closes the socket.
    running
        .shutdown(Duration::from_secs(2))
        .await
        .expect("shutdown");
    assert_eq!(m.wait("closed").await["type"], "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_fill_up_and_tell_who_comes_and_goes() {
    let running = start().await;
    let mut a = Member::connect(&running, &token_for("a", None), "r")
        .await
        .expect("a");
    let mut b = Member::connect(&running, &token_for("b", None), "r")
        .await
        .expect("b");
    let mut b2 = Member::connect(&running, &token_for("b", None), "r")
        .await
        .expect("b2");
    a.join().await;
    let j = b.join().await;
    assert_eq!(j["data"]["members"], json!(["server", "a"]));
    assert_eq!(
        a.wait("room.member").await["data"],
        json!({"name":"b","event":"joined"})
    );
    // A second socket with the same name.
    b2.send("room.join", json!({}));
    assert_eq!(b2.recv().await["type"], "error");
    // Relay with `from` set by the server.
    b.send("call.init", json!({"to": "a", "tieBreaker": 7}));
    let m = a.wait("call.init").await;
    assert_eq!(m["from"], "b");
    assert_eq!(m["data"]["tieBreaker"], 7);
    // The server accepts calls.
    b.send("call.init", json!({"to": "server"}));
    let m = b.wait("call.accept").await;
    assert_eq!(m["from"], "server");
    // b's socket closes: a is told.
    drop(b);
    assert_eq!(
        a.wait("room.member").await["data"],
        json!({"name":"b","event":"left"})
    );
    let mut c = Member::connect(&running, &token_for("c", None), "r")
        .await
        .expect("c");
    let mut d = Member::connect(&running, &token_for("d", None), "r")
        .await
        .expect("d");
    let mut e = Member::connect(&running, &token_for("e", None), "r")
        .await
        .expect("e");
    c.join().await;
    d.join().await;
    // Three members at most (the server not counted).
    e.send("room.join", json!({}));
    let err = e.recv().await;
    assert!(
        err["data"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("full"),
        "{err}"
    );
    assert_eq!(running.server().hub().sockets(), 5);
    running
        .shutdown(Duration::from_secs(2))
        .await
        .expect("shutdown");
}

/// SDP without its candidate lines: what a trickling peer sends.
fn without_candidates(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|l| !l.starts_with("a=candidate:") && !l.starts_with("a=end-of-candidates"))
        .collect()
}

/// What one weft peer saw of a call over the relay.
#[derive(Debug, Default)]
struct Seen {
    candidates_sent: usize,
    candidates_received: usize,
    channel: Option<DataChannel>,
}

/// Runs one weft peer's side of a call with `to` over the relay (offering if `offer`),
/// trickling candidates both ways, until it is connected and has a channel open.
async fn call(m: &mut Member, pc: &Arc<PeerConnection>, to: &str, offer: Option<&str>) -> Seen {
    let mut seen = Seen::default();
    if let Some(label) = offer {
        let dc = pc
            .create_data_channel(label, ChannelOptions::default())
            .await
            .expect("channel");
        seen.channel = Some(dc);
        let o = pc.create_offer().await.expect("offer");
        pc.set_local_description(o.clone()).await.expect("local");
        m.send(
            "webrtc.offer",
            json!({"to": to, "sdp": without_candidates(&o.sdp)}),
        );
    }
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        if pc.connection_state() == PeerConnectionState::Connected {
            if let Some(dc) = &seen.channel {
                match tokio::time::timeout_at(deadline, dc.opened()).await {
                    Ok(Ok(())) => return seen,
                    Ok(Err(e)) => panic!("channel with {to}: {e}"),
                    Err(_) => panic!("channel with {to} never opened"),
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => panic!("no connection with {to}: {seen:?}"),
            ev = pc.next_event() => match ev {
                Some(PeerEvent::IceCandidate(c)) => {
                    let c = c.unwrap_or(IceCandidateInit {
                        candidate: String::new(),
                        sdp_mid: Some("0".into()),
                        sdp_m_line_index: Some(0),
                        username_fragment: None,
                    });
                    if !c.candidate.is_empty() {
                        seen.candidates_sent += 1;
                    }
                    m.send("webrtc.iceCandidate", json!({"to": to, "candidate": {
                        "candidate": c.candidate, "sdpMid": c.sdp_mid, "sdpMLineIndex": c.sdp_m_line_index,
                    }}));
                }
                Some(PeerEvent::DataChannel(dc)) => seen.channel = Some(dc),
                Some(_) => {}
                None => panic!("connection task ended"),
            },
            v = m.inbox.recv() => {
                let v = v.expect("socket task");
                match v["type"].as_str().unwrap_or("") {
                    "webrtc.offer" => {
                        assert_eq!(v["from"], to);
                        let sdp = v["data"]["sdp"].as_str().expect("sdp");
                        pc.set_remote_description(SessionDescription::offer(sdp)).await.expect("remote offer");
                        let a = pc.create_answer().await.expect("answer");
                        pc.set_local_description(a.clone()).await.expect("local");
                        m.send("webrtc.answer", json!({"to": to, "sdp": without_candidates(&a.sdp)}));
                    }
                    "webrtc.answer" => {
                        assert_eq!(v["from"], to);
                        let sdp = v["data"]["sdp"].as_str().expect("sdp");
                        pc.set_remote_description(SessionDescription::answer(sdp)).await.expect("remote answer");
                    }
                    "webrtc.iceCandidate" => {
                        let c = &v["data"]["candidate"];
                        let c = IceCandidateInit {
                            candidate: c["candidate"].as_str().unwrap_or("").into(),
                            sdp_mid: c["sdpMid"].as_str().map(str::to_owned),
                            sdp_m_line_index: c["sdpMLineIndex"].as_u64().map(|n| n as u16),
                            username_fragment: None,
                        };
                        if !c.candidate.is_empty() {
                            seen.candidates_received += 1;
                        }
                        pc.add_ice_candidate(c).await.expect("candidate");
                    }
                    "error" => panic!("relay error: {v}"),
                    _ => {}
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_weft_peers_connect_through_the_relay_and_call_the_server() {
    let running = start().await;
    let mut alice = Member::connect(&running, &token_for("alice", Some("r")), "r")
        .await
        .expect("alice");
    let mut bob = Member::connect(&running, &token_for("bob", Some("r")), "r")
        .await
        .expect("bob");
    alice.join().await;
    let members = bob.join().await["data"]["members"].clone();
    assert_eq!(members, json!(["server", "alice"]));
    alice.wait("room.member").await;
    let pa = Arc::new(
        PeerConnection::new(PeerConfig::loopback())
            .await
            .expect("pc"),
    );
    let pb = Arc::new(
        PeerConnection::new(PeerConfig::loopback())
            .await
            .expect("pc"),
    );
    // bob (the later one) offers to alice; both sides trickle.
    let (sa, sb) = tokio::join!(
        call(&mut alice, &pa, "bob", None),
        call(&mut bob, &pb, "alice", Some("chat"))
    );
    eprintln!(
        "alice sent {} candidates and got {}; bob sent {} and got {}",
        sa.candidates_sent, sa.candidates_received, sb.candidates_sent, sb.candidates_received
    );
    assert!(
        sa.candidates_sent > 0 && sa.candidates_received > 0,
        "{sa:?}"
    );
    assert!(
        sb.candidates_sent > 0 && sb.candidates_received > 0,
        "{sb:?}"
    );
    let (ca, cb) = (sa.channel.expect("channel"), sb.channel.expect("channel"));
    cb.send_text("hello alice").await.expect("send");
    let got = tokio::time::timeout(LIMIT, ca.recv())
        .await
        .expect("in time")
        .expect("message");
    assert_eq!(got.text(), Some("hello alice"));
    ca.send_text("hello bob").await.expect("send");
    let got = tokio::time::timeout(LIMIT, cb.recv())
        .await
        .expect("in time")
        .expect("message");
    assert_eq!(got.text(), Some("hello bob"));

    // alice calls the server: its session binds `detections` and says session_started.
    let ps = Arc::new(
        PeerConnection::new(PeerConfig::loopback())
            .await
            .expect("pc"),
    );
    let ss = call(&mut alice, &ps, "server", Some("detections")).await;
    assert!(ss.candidates_sent > 0, "{ss:?}");
    let dc = ss.channel.expect("channel");
    let started = common::wait_event(&dc, "session_started", LIMIT)
        .await
        .expect("session_started");
    let id = started["session_id"].as_str().expect("id").to_owned();
    assert!(common::is_uuid_v4(&id));
    assert_eq!(running.server().registry().len(), 1);
    // Hang up: the session ends with session_ended and leaves the registry.
    alice.send("call.hangup", json!({"to": "server"}));
    let ended = common::wait_event(&dc, "session_ended", LIMIT)
        .await
        .expect("session_ended");
    assert_eq!(ended["session_id"], id.as_str());
    let deadline = tokio::time::Instant::now() + LIMIT;
    while !running.server().registry().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "session still live");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running
        .shutdown(Duration::from_secs(2))
        .await
        .expect("shutdown");
}
