//! The room relay and the HS256 tokens.

use serde_json::{json, Value};
use weft_signal::token::{self, Claims, TokenError};
use weft_signal::{JoinError, Rooms, WsMessage};

/// RFC 7515 Appendix A.1: the HS256 JWS example verifies with the RFC's key.
#[test]
fn rfc7515_a1_example_verifies() {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
        .unwrap();
    let jws = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let payload = token::verify_hs256(&key, jws).unwrap();
    let v: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(v["iss"], "joe");
    assert_eq!(v["exp"], 1300819380);
    // One bit off in the signature fails.
    let bad = jws.replace("dBjft", "dBjfu");
    assert_eq!(
        token::verify_hs256(&key, &bad),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn tokens_sign_verify_and_refuse() {
    let secret = b"server secret";
    let claims = Claims {
        sub: "alice".into(),
        room: Some("r1".into()),
        exp: 2_000,
    };
    let t = token::sign(secret, &claims);
    assert_eq!(token::verify(secret, &t, 1_000), Ok(claims.clone()));
    assert_eq!(token::verify(secret, &t, 2_000), Err(TokenError::Expired));
    assert_eq!(
        token::verify(b"other", &t, 1_000),
        Err(TokenError::BadSignature)
    );
    // A changed payload with the old signature.
    let mut parts: Vec<&str> = t.split('.').collect();
    let forged = token::sign(
        secret,
        &Claims {
            sub: "mallory".into(),
            ..claims.clone()
        },
    );
    let forged_payload = forged.split('.').nth(1).unwrap().to_owned();
    parts[1] = &forged_payload;
    assert_eq!(
        token::verify(secret, &parts.join("."), 1_000),
        Err(TokenError::BadSignature)
    );
    // alg "none" is refused whatever follows (RFC 8725 §3.1).
    let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJqd3QiOiJwd24ifQ.";
    assert_eq!(
        token::verify(secret, none, 1_000),
        Err(TokenError::UnsupportedAlgorithm("none".into()))
    );
    for junk in ["", "a.b", "a.b.c.d", "!!.??.**"] {
        assert_eq!(
            token::verify(secret, junk, 1_000),
            Err(TokenError::Malformed),
            "{junk}"
        );
    }
}

fn msg(v: Value) -> String {
    v.to_string()
}

#[test]
fn rooms_relay_to_one_or_all_and_answer_errors() {
    let mut r = Rooms::new(3);
    r.join(1, "r", "alice").unwrap();
    r.join(2, "r", "bob").unwrap();
    r.join(3, "r", "carol").unwrap();
    assert_eq!(r.join(4, "r", "dave"), Err(JoinError::Full));
    assert_eq!(r.join(5, "other", "alice"), Ok(()));
    assert_eq!(r.join(6, "other", "alice"), Err(JoinError::NameTaken));
    // Addressed: only bob, with `from` set by the server (not the client's claim).
    let out = r.handle_text(
        1,
        &msg(json!({"type":"webrtc.offer","room":"r","from":"carol","data":{"sdp":"v=0","to":"bob"}})),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, 2);
    let m = WsMessage::parse(&out[0].text).unwrap();
    assert_eq!(m.from.as_deref(), Some("alice"));
    assert_eq!(m.data["sdp"], "v=0");
    // Not addressed: everyone else in the room.
    let out = r.handle_text(2, &msg(json!({"type":"call.hangup","room":"r","data":{}})));
    let mut to: Vec<u64> = out.iter().map(|d| d.to).collect();
    to.sort();
    assert_eq!(to, [1, 3]);
    // Malformed, wrong room, unknown addressee: an error back to the sender only.
    for bad in [
        "not json".to_owned(),
        msg(json!({"room":"r"})),
        msg(json!({"type":"webrtc.offer","room":"elsewhere","data":{}})),
        msg(json!({"type":"webrtc.offer","room":"r","data":{"to":"nobody"}})),
    ] {
        let out = r.handle_text(3, &bad);
        assert_eq!(out.len(), 1, "{bad}");
        assert_eq!(out[0].to, 3);
        assert_eq!(WsMessage::parse(&out[0].text).unwrap().kind, "error");
    }
    r.leave(2);
    assert_eq!(r.members("r"), ["alice", "carol"]);
}

#[test]
fn candidate_messages_take_browser_objects() {
    let m = WsMessage::parse(&msg(json!({
        "type": "webrtc.iceCandidate", "room": "r",
        "data": {"to": "bob", "candidate": {"candidate": "candidate:1 1 udp 1 10.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}}
    })))
    .unwrap();
    match m.to_signal().unwrap() {
        weft_signal::Signal::Candidate(c) => {
            assert_eq!(c.sdp_mid.as_deref(), Some("0"));
            assert!(c.candidate.starts_with("candidate:1"));
        }
        other => panic!("{other:?}"),
    }
    let missing =
        WsMessage::parse(&msg(json!({"type":"webrtc.offer","room":"r","data":{}}))).unwrap();
    assert!(missing.to_signal().is_err());
}

#[test]
fn joining_by_message_checks_the_grant_and_tells_the_room() {
    let mut r = Rooms::new(2).with_server("server");
    r.connect(1, "alice", Some("r"));
    r.connect(2, "bob", None);
    r.connect(3, "carol", None);
    r.connect(4, "server", None);
    // The token grants alice room r only.
    let out = r.handle_text(1, &msg(json!({"type":"room.join","room":"x"})));
    assert_eq!(WsMessage::parse(&out[0].text).unwrap().kind, "error");
    let out = r.handle_text(1, &msg(json!({"type":"room.join","room":"r"})));
    assert_eq!(out.len(), 1);
    let joined = WsMessage::parse(&out[0].text).unwrap();
    assert_eq!(joined.kind, "room.joined");
    assert_eq!(joined.data["name"], "alice");
    assert_eq!(joined.data["members"], json!(["server"]));
    // bob joins: he learns of alice and the server, alice of bob.
    let out = r.handle_text(2, &msg(json!({"type":"room.join","room":"r"})));
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].to, 2);
    assert_eq!(
        WsMessage::parse(&out[0].text).unwrap().data["members"],
        json!(["server", "alice"])
    );
    assert_eq!(out[1].to, 1);
    let notice = WsMessage::parse(&out[1].text).unwrap();
    assert_eq!(notice.kind, "room.member");
    assert_eq!(notice.data, json!({"name":"bob","event":"joined"}));
    // Full (the server is not counted), and the server's name is not for clients.
    let out = r.handle_text(3, &msg(json!({"type":"room.join","room":"r"})));
    assert!(out[0].text.contains("full"), "{}", out[0].text);
    let out = r.handle_text(4, &msg(json!({"type":"room.join","room":"s"})));
    assert!(out[0].text.contains("name"), "{}", out[0].text);
    assert_eq!(r.members("s"), ["server"]);
    // A message addressed to the server goes to SERVER; broadcasts do not.
    let out = r.handle_text(
        1,
        &msg(json!({"type":"webrtc.offer","room":"r","data":{"sdp":"v=0","to":"server"}})),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, weft_signal::SERVER);
    let out = r.handle_text(1, &msg(json!({"type":"call.hangup","room":"r","data":{}})));
    assert_eq!(out.iter().map(|d| d.to).collect::<Vec<_>>(), [2]);
    // The server answers alice.
    let d = r
        .from_server(WsMessage {
            kind: "webrtc.answer".into(),
            room: "r".into(),
            data: json!({"sdp":"v=0","to":"alice"}),
            from: Some("forged".into()),
        })
        .unwrap();
    assert_eq!(d.to, 1);
    assert_eq!(
        WsMessage::parse(&d.text).unwrap().from.as_deref(),
        Some("server")
    );
    // bob's socket closes: alice is told; the room keeps alice.
    let out = r.disconnect(2);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, 1);
    assert!(out[0].text.contains("\"left\""));
    assert_eq!(r.members("r"), ["server", "alice"]);
    // An unknown socket cannot join.
    let out = r.handle_text(9, &msg(json!({"type":"room.join","room":"r"})));
    assert!(out[0].text.contains("not connected"));
}
