//! `weft stun decode`: every attribute of a STUN message (or a TURN ChannelData frame), and
//! with a password, whether MESSAGE-INTEGRITY and FINGERPRINT verify.

use std::fmt::Write as _;

use weft_stun::attr::{self, PasswordAlgorithmId};
use weft_stun::demux::{classify, PacketKind};
use weft_stun::{long_term_key, ChannelData, Message};

/// Input bytes: hex text (spaces, newlines and a `0x` prefix allowed) or raw bytes.
pub fn bytes_from_input(input: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(input).ok().map(str::trim);
    match text.and_then(parse_hex) {
        Some(bytes) => bytes,
        None => input.to_vec(),
    }
}

/// Hex digits, ignoring whitespace and an optional `0x`; `None` if anything else is there.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.is_empty()
        || !digits.len().is_multiple_of(2)
        || !digits.iter().all(u8::is_ascii_hexdigit)
    {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

/// Credentials from the command line.
pub struct Credentials<'a> {
    pub password: Option<&'a str>,
    pub username: Option<&'a str>,
    pub realm: Option<&'a str>,
}

/// The report, and whether every check that was asked for passed.
pub fn decode(bytes: &[u8], creds: &Credentials<'_>) -> Result<(String, bool), String> {
    let mut out = String::new();
    if classify(bytes) == PacketKind::TurnChannelData {
        let frame = ChannelData::decode(bytes).map_err(|e| format!("ChannelData: {e}"))?;
        let _ = writeln!(
            out,
            "TURN ChannelData  channel {:#06x}  {} bytes of data",
            frame.channel,
            frame.data.len()
        );
        return Ok((out, true));
    }
    let msg = Message::parse(bytes).map_err(|e| format!("not a valid STUN message: {e}"))?;
    let _ = writeln!(out, "{}  ({} bytes)", msg.message_type(), bytes.len());
    let _ = writeln!(out, "transaction {}", msg.transaction_id());
    let txid = msg.transaction_id();
    let mut ok = true;
    for a in msg.attributes() {
        let line = match attr::Attribute::decode(a.typ, a.value, &txid) {
            Ok(x) => x.to_string(),
            Err(e) => format!(
                "{}: malformed ({e})",
                attr::name(a.typ).map_or_else(|| format!("{:#06x}", a.typ), str::to_owned)
            ),
        };
        let note = if msg.is_ignored(&a) {
            "  (ignored: follows MESSAGE-INTEGRITY)"
        } else if attr::is_comprehension_required(a.typ) && !attr::is_known(a.typ) {
            "  (unknown, comprehension-required)"
        } else {
            ""
        };
        let _ = writeln!(out, "  {line}{note}");
    }

    // FINGERPRINT is checked whenever present.
    if msg.has_fingerprint() {
        match msg.verify_fingerprint() {
            Ok(()) => out.push_str("fingerprint ok\n"),
            Err(e) => {
                ok = false;
                let _ = writeln!(out, "fingerprint FAILED: {e}");
            }
        }
    } else {
        out.push_str("fingerprint absent\n");
    }

    // MESSAGE-INTEGRITY with --password: short-term (the password is the key), or long-term
    // when a realm is known, from --realm or the message's REALM (RFC 8489 §9.2.2).
    match creds.password {
        None => {
            if msg.has_message_integrity() || msg.has_message_integrity_sha256() {
                out.push_str("integrity   not checked (no --password)\n");
            }
        }
        Some(password) => {
            let realm = creds
                .realm
                .or_else(|| msg.get::<attr::Realm>().ok().flatten().map(|r| r.0));
            let username = creds
                .username
                .or_else(|| msg.get::<attr::Username>().ok().flatten().map(|u| u.0));
            let algorithm = msg
                .get::<attr::PasswordAlgorithm>()
                .ok()
                .flatten()
                .map_or(PasswordAlgorithmId::MD5, |a| a.algorithm);
            let (kind, result) = match (realm, username) {
                (Some(realm), Some(username)) => {
                    let key = long_term_key(username, realm, password, algorithm);
                    ("long-term", msg.verify_integrity(key.as_ref()))
                }
                _ => ("short-term", msg.verify_integrity(password.as_bytes())),
            };
            match result {
                Ok(()) => {
                    let _ = writeln!(out, "integrity   ok ({kind} credentials)");
                }
                Err(e) => {
                    ok = false;
                    let _ = writeln!(out, "integrity   FAILED ({kind} credentials): {e}");
                }
            }
        }
    }
    Ok((out, ok))
}
