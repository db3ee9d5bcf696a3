//! The HTTP routes. Every response has a content type: JSON for the API and for every
//! error (including 404 and 405), HTML for the page.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tracing::{info, warn};

use crate::offer::{parse_offer, OfferError};
use crate::Server;

/// The bundled page: plain HTML and JS, no build step.
pub const PAGE: &str = include_str!("page/index.html");

/// The room page: WebSocket signalling, a mesh with every member (and the server).
pub const ROOM_PAGE: &str = include_str!("page/room.html");

/// `GET /`, `GET /room`, `POST /offer`, `GET /ws`, `GET /sessions`, `GET /healthz`; JSON
/// 404 and 405 otherwise.
pub fn router(server: Arc<Server>) -> Router {
    let limit = server.config().max_body_bytes;
    Router::new()
        .route("/", get(page))
        .route("/offer", post(offer))
        .route("/sessions", get(sessions))
        .route("/healthz", get(healthz))
        .route("/ws", get(crate::ws::handler))
        .route("/room", get(room_page))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(ensure_content_type))
        .with_state(server)
}

async fn page() -> Response {
    let mut r = Html(PAGE).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn room_page() -> Response {
    let mut r = Html(ROOM_PAGE).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn healthz(State(server): State<Arc<Server>>) -> Response {
    Json(json!({ "status": "ok", "sessions": server.registry().len() })).into_response()
}

async fn sessions(State(server): State<Arc<Server>>) -> Response {
    Json(json!({ "sessions": server.registry().list() })).into_response()
}

async fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        json!({ "error": "not_found", "message": "no such resource" }),
    )
}

fn error_response(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

/// Responses made outside the handlers (405 from the router) have no body and no content
/// type: they get a JSON error body.
async fn ensure_content_type(r: Response) -> Response {
    if r.headers().contains_key(header::CONTENT_TYPE) {
        return r;
    }
    let status = r.status();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        let mut out = error_response(
            status,
            json!({ "error": "method_not_allowed", "message": "method not allowed here" }),
        );
        if let Some(allow) = r.headers().get(header::ALLOW) {
            out.headers_mut().insert(header::ALLOW, allow.clone());
        }
        return out;
    }
    let (mut parts, body) = r.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Response::from_parts(parts, Body::new(body))
}

/// `POST /offer`: 200 `{"type":"answer","sdp":..}` (and the session id in the
/// `x-weft-session-id` header), or an [`OfferError`] as JSON.
async fn offer(State(server): State<Arc<Server>>, body: Result<Bytes, BytesRejection>) -> Response {
    let result = match body {
        Ok(body) => match parse_offer(&body) {
            Ok(offer) => server.answer_offer(offer).await,
            Err(e) => Err(e),
        },
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(OfferError::BodyTooLarge {
                limit: server.config().max_body_bytes,
            })
        }
        Err(rejection) => Err(OfferError::BodyUnreadable(rejection.body_text())),
    };
    match result {
        Ok(a) => {
            info!(session_id = %a.session_id, "offer answered");
            let mut r = Json(json!({ "type": "answer", "sdp": a.answer.sdp })).into_response();
            if let Ok(v) = HeaderValue::from_str(&a.session_id.to_string()) {
                r.headers_mut().insert("x-weft-session-id", v);
            }
            r
        }
        Err(e) => {
            warn!(
                status = e.status().as_u16(),
                error = e.code(),
                "offer refused: {e}"
            );
            error_response(e.status(), e.body())
        }
    }
}
