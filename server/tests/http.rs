//! `POST /offer` and the other routes, called in process (the Router is a tower Service):
//! every refusal is a JSON 400 (or 413) naming the problem, creates no session, and every
//! response has a content type.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use weft_server::{Config, Server};

/// A real browser offer (Chromium: audio, video and a data channel).
const CHROMIUM_OFFER: &str = "v=0\r\no=- 4215775240449105457 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n\
a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host generation 0\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\n\
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n\
a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";

async fn server(config: Config) -> Arc<Server> {
    Server::new(config).await.expect("server")
}

async fn call(
    server: &Arc<Server>,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> (StatusCode, String, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let resp = server.router().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, ct, v)
}

/// POSTs `body` to /offer and checks: 400 JSON with `error` = `code`, no session.
async fn refused(s: &Arc<Server>, body: &str, code: &str) -> Value {
    let (status, ct, v) = call(s, "POST", "/offer", body.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {v}");
    assert_eq!(ct, "application/json", "{body:?}");
    assert_eq!(v["error"], code, "{body:?}: {v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert_eq!(s.registry().len(), 0, "a refused offer made a session");
    v
}

#[tokio::test]
async fn malformed_json_is_400_with_position() {
    let s = server(Config::loopback()).await;
    let v = refused(&s, "{\"type\": \"offer\",\n \"sdp\": ", "malformed_json").await;
    assert_eq!(v["line"], 2);
    assert!(v["column"].as_u64().is_some());
    refused(&s, "", "malformed_json").await;
    refused(&s, "not json", "malformed_json").await;
    refused(&s, "[\"offer\"]", "malformed_json").await;
}

#[tokio::test]
async fn missing_fields_are_400() {
    let s = server(Config::loopback()).await;
    let v = refused(&s, r#"{"sdp": "v=0"}"#, "missing_field").await;
    assert_eq!(v["field"], "type");
    let v = refused(&s, r#"{"type": "offer"}"#, "missing_field").await;
    assert_eq!(v["field"], "sdp");
    let v = refused(&s, r#"{"type": "offer", "sdp": 7}"#, "invalid_field").await;
    assert_eq!(v["field"], "sdp");
}

#[tokio::test]
async fn type_other_than_offer_is_400() {
    let s = server(Config::loopback()).await;
    for t in ["answer", "pranswer", "rollback", "Offer", ""] {
        let body = serde_json::json!({ "type": t, "sdp": CHROMIUM_OFFER }).to_string();
        refused(&s, &body, "not_an_offer").await;
    }
}

#[tokio::test]
async fn unparseable_sdp_is_400_with_line_and_column() {
    let s = server(Config::loopback()).await;
    // Line 3 is `x=` (RFC 8866 §5 knows no such line type).
    let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\nx=what\r\ns=-\r\nt=0 0\r\n";
    let body = serde_json::json!({ "type": "offer", "sdp": sdp }).to_string();
    let v = refused(&s, &body, "sdp_syntax").await;
    assert_eq!(v["line"], 3, "{v}");
    assert_eq!(v["column"], 1, "{v}");
    // A bad port on the media line: line 5, inside the line.
    let sdp =
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio port UDP/TLS/RTP/SAVPF 111\r\n";
    let body = serde_json::json!({ "type": "offer", "sdp": sdp }).to_string();
    let v = refused(&s, &body, "sdp_syntax").await;
    assert_eq!(v["line"], 5, "{v}");
    assert!(v["column"].as_u64().is_some_and(|c| c > 1), "{v}");
    // Parses, but cannot be applied (no fingerprint, no ICE credentials).
    let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
    let body = serde_json::json!({ "type": "offer", "sdp": sdp }).to_string();
    refused(&s, &body, "invalid_description").await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let mut config = Config::loopback();
    config.max_body_bytes = 1024;
    let s = server(config).await;
    let big = serde_json::json!({ "type": "offer", "sdp": "v=0\r\n".repeat(400) }).to_string();
    let (status, ct, v) = call(&s, "POST", "/offer", big.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(ct, "application/json");
    assert_eq!(v["error"], "body_too_large");
    assert_eq!(v["limit"], 1024);
    assert_eq!(s.registry().len(), 0);
    // The default limit is 64 KiB.
    let s = server(Config::loopback()).await;
    let big = vec![b' '; 64 * 1024 + 1];
    let (status, _, _) = call(&s, "POST", "/offer", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn every_route_answers_with_a_content_type() {
    let s = server(Config::loopback()).await;
    let (status, ct, _) = call(&s, "GET", "/", Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
    let (status, ct, v) = call(&s, "GET", "/healthz", Vec::new()).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/json"));
    assert_eq!(v["status"], "ok");
    let (status, ct, v) = call(&s, "GET", "/sessions", Vec::new()).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/json"));
    assert_eq!(v["sessions"], serde_json::json!([]));
    let (status, ct, v) = call(&s, "GET", "/nope", Vec::new()).await;
    assert_eq!(
        (status, ct.as_str()),
        (StatusCode::NOT_FOUND, "application/json")
    );
    assert_eq!(v["error"], "not_found");
    let (status, ct, v) = call(&s, "GET", "/offer", Vec::new()).await;
    assert_eq!(
        (status, ct.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "application/json")
    );
    assert_eq!(v["error"], "method_not_allowed");
}

#[tokio::test]
async fn the_page_makes_a_detections_channel_and_posts_to_offer() {
    let page = weft_server::http::PAGE;
    assert!(page.contains("createDataChannel('detections')"));
    assert!(page.contains("fetch('/offer'"));
    assert!(page.contains("getUserMedia({ video: true, audio: true })"));
    assert!(page.contains("window.weftState"));
}
