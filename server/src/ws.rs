//! WebSocket signalling: `GET /ws?token=<token>`.
//!
//! A socket presents an HS256 token (weft-signal's [`token`]) signed with the server's
//! `--ws-secret`: its `sub` is the name the socket speaks as, its `room` (if any) the one
//! room it may join. A missing, malformed, forged or expired token gets 401 before the
//! upgrade. After it, every text frame is a weft-signal [`WsMessage`] handled by one
//! sans-IO [`Rooms`] relay: `room.join`, then offers, answers and trickled candidates
//! relayed between the members (mesh). A frame that is not a message gets an `error`
//! message; the socket stays open.
//!
//! The server takes part in every room under `--ws-name` (default `server`): an offer
//! addressed to it becomes a [`Session`](crate::Session) exactly as `POST /offer` makes one
//! (same answer, same `detections` channel); candidates the caller trickles after its offer
//! are added to that session's connection, and `call.hangup` ends it. Its answer holds its
//! candidates (the shared socket's host candidate is known at once).
//!
//! [`token`]: weft_signal::token

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};
use uuid::Uuid;
use weft_peer::{IceCandidateInit, PeerConnection, SessionDescription};
use weft_signal::{token, Claims, ClientId, Delivery, Rooms, Signal, WsMessage, SERVER};

use crate::Server;

/// Largest frame the socket takes: larger ones end it (the WebSocket layer cannot skip
/// them). Frames up to it but over weft-signal's `MAX_MESSAGE` (64 KiB) get an `error` message.
const MAX_FRAME: usize = 1024 * 1024;

/// Frames queued for one socket; a client that lets more pile up is too slow and is
/// closed.
const QUEUE: usize = 256;

/// The relay state: the rooms, the sockets' queues, the server's own calls.
pub struct Hub {
    rooms: Mutex<Rooms>,
    clients: Mutex<HashMap<ClientId, mpsc::Sender<String>>>,
    next: AtomicU64,
    secret: Vec<u8>,
    /// The server's calls, by (room, caller).
    calls: Mutex<HashMap<(String, String), Call>>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("sockets", &lock(&self.clients).len())
            .finish()
    }
}

/// One caller's call with the server.
enum Call {
    /// The offer is being answered; candidates that come meanwhile wait.
    Answering(Vec<IceCandidateInit>),
    /// A live session.
    Live {
        pc: Weak<PeerConnection>,
        session_id: Uuid,
    },
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Seconds since the Unix epoch.
#[allow(clippy::disallowed_methods)]
fn now_unix() -> u64 {
    crate::session::unix_ms(SystemTime::now()) / 1000
}

impl Hub {
    /// Rooms of `max_members` each with the server taking part as `name`; tokens checked
    /// with `secret`.
    pub fn new(secret: Vec<u8>, max_members: usize, name: &str) -> Hub {
        Hub {
            rooms: Mutex::new(Rooms::new(max_members).with_server(name)),
            clients: Mutex::new(HashMap::new()),
            next: AtomicU64::new(SERVER + 1),
            secret,
            calls: Mutex::new(HashMap::new()),
            stop: watch::channel(false).0,
        }
    }

    /// Checks a token (signature, algorithm, expiry).
    pub fn verify(&self, token: &str) -> Result<Claims, token::TokenError> {
        token::verify(&self.secret, token, now_unix())
    }

    /// Sockets open now.
    pub fn sockets(&self) -> usize {
        lock(&self.clients).len()
    }

    /// Closes every socket (server shutdown).
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }

    /// Sends each delivery to its socket, or to the server's participant.
    fn deliver(&self, server: &Arc<Server>, deliveries: Vec<Delivery>) {
        for d in deliveries {
            if d.to == SERVER {
                self.to_server(server, &d.text);
                continue;
            }
            let tx = lock(&self.clients).get(&d.to).cloned();
            if let Some(tx) = tx {
                if tx.try_send(d.text).is_err() {
                    // Full (a socket that does not read) or closing: it gets no more.
                    warn!(client = d.to, "signalling socket too slow; dropping it");
                    lock(&self.clients).remove(&d.to);
                }
            }
        }
    }

    /// A message from the server's participant to a member.
    fn send_from_server(
        &self,
        server: &Arc<Server>,
        room: &str,
        to: &str,
        kind: &str,
        mut data: serde_json::Value,
    ) {
        if let Some(o) = data.as_object_mut() {
            o.insert("to".into(), json!(to));
        }
        let m = WsMessage {
            kind: kind.into(),
            room: room.into(),
            data,
            from: None,
        };
        let d = lock(&self.rooms).from_server(m);
        if let Some(d) = d {
            self.deliver(server, vec![d]);
        }
    }

    /// A message addressed to the server.
    fn to_server(&self, server: &Arc<Server>, text: &str) {
        let Ok(m) = WsMessage::parse(text) else {
            return;
        };
        let Some(from) = m.from.clone() else {
            return;
        };
        let room = m.room.clone();
        let key = (room.clone(), from.clone());
        let signal = match m.to_signal() {
            Ok(s) => s,
            Err(e) => {
                self.send_from_server(
                    server,
                    &room,
                    &from,
                    "error",
                    json!({ "message": e.to_string() }),
                );
                return;
            }
        };
        match signal {
            // The server takes every call.
            Signal::Init { .. } => {
                self.send_from_server(server, &room, &from, "call.accept", json!({}));
            }
            Signal::Offer(sdp) => {
                {
                    let mut calls = lock(&self.calls);
                    calls.retain(|_, c| match c {
                        Call::Answering(_) => true,
                        Call::Live { pc, .. } => pc.strong_count() > 0,
                    });
                    if calls.contains_key(&key) {
                        drop(calls);
                        self.send_from_server(
                            server,
                            &room,
                            &from,
                            "error",
                            json!({ "message": "a call with the server is already up; hang up first" }),
                        );
                        return;
                    }
                    calls.insert(key.clone(), Call::Answering(Vec::new()));
                }
                let server = server.clone();
                tokio::spawn(async move {
                    let hub = server.hub();
                    match server
                        .answer_offer_live(SessionDescription::offer(sdp))
                        .await
                    {
                        Ok((answered, pc)) => {
                            info!(session_id = %answered.session_id, room = %room, caller = %from, "room call answered");
                            hub.send_from_server(
                                &server,
                                &room,
                                &from,
                                "webrtc.answer",
                                json!({ "sdp": answered.answer.sdp, "sessionId": answered.session_id }),
                            );
                            let waiting = {
                                let mut calls = lock(&hub.calls);
                                let waiting = match calls.remove(&key) {
                                    Some(Call::Answering(w)) => w,
                                    _ => Vec::new(),
                                };
                                calls.insert(
                                    key,
                                    Call::Live {
                                        pc: Arc::downgrade(&pc),
                                        session_id: answered.session_id,
                                    },
                                );
                                waiting
                            };
                            for c in waiting {
                                if let Err(e) = pc.add_ice_candidate(c).await {
                                    debug!(error = %e, "queued candidate refused");
                                }
                            }
                        }
                        Err(e) => {
                            lock(&hub.calls).remove(&key);
                            warn!(room = %room, caller = %from, error = %e, "room offer refused");
                            hub.send_from_server(&server, &room, &from, "error", e.body());
                        }
                    }
                });
            }
            Signal::Candidate(c) => {
                let pc = {
                    let mut calls = lock(&self.calls);
                    match calls.get_mut(&key) {
                        Some(Call::Answering(w)) => {
                            w.push(c);
                            return;
                        }
                        Some(Call::Live { pc, .. }) => pc.upgrade().map(|pc| (pc, c)),
                        None => None,
                    }
                };
                match pc {
                    Some((pc, c)) => {
                        tokio::spawn(async move {
                            if let Err(e) = pc.add_ice_candidate(c).await {
                                debug!(error = %e, "trickled candidate refused");
                            }
                        });
                    }
                    None => self.send_from_server(
                        server,
                        &room,
                        &from,
                        "error",
                        json!({ "message": "no call with the server: offer first" }),
                    ),
                }
            }
            Signal::Hangup => {
                if let Some(Call::Live { session_id, .. }) = lock(&self.calls).remove(&key) {
                    if let Some(s) = server.registry().get(session_id) {
                        info!(%session_id, caller = %from, "room call hung up");
                        s.stop();
                    }
                }
            }
            Signal::Accept | Signal::Reject { .. } | Signal::Answer(_) => {
                self.send_from_server(
                    server,
                    &room,
                    &from,
                    "error",
                    json!({ "message": format!("the server does not take {}", m.kind) }),
                );
            }
        }
    }
}

/// `GET /ws?token=`: 401 without a good token, else the upgrade.
pub async fn handler(
    State(server): State<Arc<Server>>,
    query: Query<HashMap<String, String>>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let unauthorized = |message: String| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "unauthorized", "message": message })),
        )
            .into_response()
    };
    let Some(t) = query.get("token") else {
        return unauthorized("missing token (GET /ws?token=...)".into());
    };
    let claims = match server.hub().verify(t) {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "signalling socket refused");
            return unauthorized(e.to_string());
        }
    };
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(r) => {
            let status = r.status();
            return (
                status,
                Json(json!({ "error": "not_a_websocket", "message": r.body_text() })),
            )
                .into_response();
        }
    };
    upgrade
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| serve(server, socket, claims))
}

/// One socket, until it closes, its token expires or the server stops.
async fn serve(server: Arc<Server>, mut socket: WebSocket, claims: Claims) {
    let hub = server.hub();
    let id = hub.next.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
    lock(&hub.clients).insert(id, tx);
    lock(&hub.rooms).connect(id, &claims.sub, claims.room.as_deref());
    info!(client = id, name = %claims.sub, "signalling socket open");
    let mut stop = hub.stop.subscribe();
    let expires = Duration::from_secs(claims.exp.saturating_sub(now_unix()));
    let expiry = tokio::time::sleep(expires);
    tokio::pin!(expiry);
    let close = |reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code: 1000,
            reason: reason.into(),
        }))
    };
    loop {
        tokio::select! {
            m = socket.recv() => match m {
                Some(Ok(Message::Text(t))) => {
                    let out = lock(&hub.rooms).handle_text(id, t.as_str());
                    hub.deliver(&server, out);
                }
                Some(Ok(Message::Binary(_))) => {
                    let e = WsMessage::error("", "binary frames are not messages; send JSON text");
                    hub.deliver(&server, vec![Delivery { to: id, text: e.to_text() }]);
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(e)) => {
                    // Over-long frames and protocol errors end the socket (tungstenite
                    // cannot go on after them).
                    debug!(client = id, error = %e, "signalling socket error");
                    break;
                }
            },
            out = rx.recv() => match out {
                Some(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                // Dropped as too slow.
                None => {
                    let _ = socket.send(close("too slow")).await;
                    break;
                }
            },
            () = &mut expiry => {
                let e = WsMessage::error("", "token expired");
                let _ = socket.send(Message::Text(e.to_text().into())).await;
                let _ = socket.send(close("token expired")).await;
                break;
            }
            _ = async { stop.wait_for(|v| *v).await.is_ok() } => {
                let _ = socket.send(close("server stopping")).await;
                break;
            }
        }
    }
    lock(&hub.clients).remove(&id);
    let out = lock(&hub.rooms).disconnect(id);
    hub.deliver(&server, out);
    info!(client = id, name = %claims.sub, "signalling socket closed");
}
