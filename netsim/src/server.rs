//! What the built-in STUN and TURN servers share: their output, the message builder
//! helper and the Binding answer.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;

use weft_stun::attr::{ErrorCode, Software, XorMappedAddress};
use weft_stun::{Error, Message, MessageBuilder, MessageType, TransactionId};

/// SOFTWARE of every built-in server's responses (RFC 8489 §14.14).
pub(crate) const SOFTWARE: &str = "weft-netsim";

/// A datagram a server sends: from one of its addresses onto its link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Emit {
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    pub(crate) bytes: Vec<u8>,
}

/// Builds one message into a new buffer of at most `capacity` bytes; `None` if it does not
/// fit (the caller drops it).
pub(crate) fn build(
    typ: MessageType,
    txid: TransactionId,
    capacity: usize,
    body: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), Error>,
) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; capacity];
    let len = {
        let mut b = MessageBuilder::new(&mut buf, typ, txid).ok()?;
        body(&mut b).ok()?;
        b.finish().len()
    };
    buf.truncate(len);
    Some(buf)
}

/// The reason phrase we send with an error code (RFC 8489 §14.8, RFC 8656 §19).
pub(crate) fn reason(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthenticated",
        420 => "Unknown Attribute",
        437 => "Allocation Mismatch",
        438 => "Stale Nonce",
        440 => "Address Family not Supported",
        441 => "Wrong Credentials",
        442 => "Unsupported Transport Protocol",
        443 => "Peer Address Family Mismatch",
        508 => "Insufficient Capacity",
        _ => "Error",
    }
}

/// An error response with ERROR-CODE, whatever `extra` adds, then FINGERPRINT.
pub(crate) fn error_response(
    req: &Message<'_>,
    code: u16,
    extra: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), Error>,
) -> Option<Vec<u8>> {
    build(req.message_type().error(), req.transaction_id(), 512, |b| {
        b.add(&ErrorCode {
            code,
            reason: reason(code),
        })?;
        extra(b)?;
        b.add_fingerprint()
    })
}

/// The comprehension-required attributes of `req` we do not understand (RFC 8489 §6.3.1.1).
pub(crate) fn unknown_attributes(req: &Message<'_>) -> Vec<u16> {
    req.unknown_comprehension_required().collect()
}

/// RFC 8489 §6.3.1.1: 420 listing the attributes not understood.
pub(crate) fn unknown_attribute_response(
    req: &Message<'_>,
    unknown: &[u16],
    key: Option<&[u8]>,
) -> Option<Vec<u8>> {
    error_response(req, ErrorCode::UNKNOWN_ATTRIBUTE, |b| {
        b.add_unknown_attributes(unknown)?;
        match key {
            Some(k) => b.add_message_integrity(k),
            None => Ok(()),
        }
    })
}

/// RFC 8489 §7.3.1: a Binding success response carrying the source the server saw as
/// XOR-MAPPED-ADDRESS, then SOFTWARE and FINGERPRINT. Unknown comprehension-required
/// attributes get a 420 instead.
pub(crate) fn answer_binding(req: &Message<'_>, src: SocketAddr) -> Option<Vec<u8>> {
    let unknown = unknown_attributes(req);
    if !unknown.is_empty() {
        return unknown_attribute_response(req, &unknown, None);
    }
    build(
        req.message_type().success(),
        req.transaction_id(),
        128,
        |b| {
            b.add(&XorMappedAddress(src))?;
            b.add(&Software(SOFTWARE))?;
            b.add_fingerprint()
        },
    )
}
