//! The built-in STUN server (RFC 8489): answers Binding requests with the source address
//! it sees, which behind a NAT is the NAT's mapping, the server-reflexive address of ICE.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;

use weft_stun::{Class, Message, Method};

use crate::config::LinkConfig;
use crate::server::{answer_binding, error_response, Emit};
use crate::Stats;

/// A STUN server at one transport address.
#[derive(Debug, Clone)]
pub(crate) struct StunServer {
    pub(crate) addr: SocketAddr,
    pub(crate) link: LinkConfig,
}

impl StunServer {
    /// One datagram from `src`. Anything that is not a well-formed request is dropped and
    /// counted in `server_malformed`; a Binding indication (a keepalive, RFC 8489 §6.3.2)
    /// is dropped silently.
    pub(crate) fn handle(
        &mut self,
        src: SocketAddr,
        bytes: &[u8],
        stats: &mut Stats,
        out: &mut Vec<Emit>,
    ) {
        let msg = match Message::parse(bytes) {
            Ok(m) => m,
            Err(_) => {
                stats.server_malformed += 1;
                return;
            }
        };
        // RFC 8489 §7.3: a FINGERPRINT that does not check out means not STUN.
        if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
            stats.server_malformed += 1;
            return;
        }
        let reply = match (msg.class(), msg.method()) {
            (Class::Request, Method::BINDING) => {
                stats.stun_requests += 1;
                answer_binding(&msg, src)
            }
            (Class::Indication, Method::BINDING) => return,
            // RFC 8489 §6.3.1: a request for a method the server does not know gets 400.
            (Class::Request, _) => {
                stats.server_malformed += 1;
                error_response(&msg, 400, |_| Ok(()))
            }
            _ => {
                stats.server_malformed += 1;
                return;
            }
        };
        if let Some(bytes) = reply {
            out.push(Emit {
                src: self.addr,
                dst: src,
                bytes,
            });
        }
    }
}
