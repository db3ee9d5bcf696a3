//! Many peer connections behind one UDP socket: which connection a datagram is for.
//!
//! A server needs one port, not one per connection. ICE makes that possible: the first
//! datagram a peer sends to us is a Binding request whose USERNAME is
//! `<our ufrag>:<its ufrag>` (RFC 8445 §7.2.2), and our ufrag names the connection. From
//! then on the peer's transport address names it (every later packet, DTLS, SRTP, consent,
//! comes from an address that passed a check, RFC 8445 §7.3.1.3). Sans-IO like the rest:
//! the driver owns the socket and asks [`Mux::route`] for each datagram.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::SocketAddr;

use weft_stun::{Class, Message};

/// Routes datagrams of one socket to connections identified by `K`.
#[derive(Debug, Clone)]
pub struct Mux<K> {
    by_ufrag: HashMap<String, K>,
    by_addr: HashMap<SocketAddr, K>,
}

impl<K> Default for Mux<K> {
    fn default() -> Self {
        Mux {
            by_ufrag: HashMap::new(),
            by_addr: HashMap::new(),
        }
    }
}

impl<K: Copy + Eq + Hash> Mux<K> {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// A connection's local ICE ufrag (register the new one after an ICE restart too; the
    /// old one keeps routing until [`Mux::remove`]).
    pub fn add_ufrag(&mut self, ufrag: &str, key: K) {
        self.by_ufrag.insert(ufrag.to_owned(), key);
    }

    /// Forgets a connection: its ufrags and addresses.
    pub fn remove(&mut self, key: K) {
        self.by_ufrag.retain(|_, k| *k != key);
        self.by_addr.retain(|_, k| *k != key);
    }

    /// Connections registered.
    pub fn len(&self) -> usize {
        self.by_ufrag
            .values()
            .collect::<std::collections::HashSet<_>>()
            .len()
    }

    /// Whether none is registered.
    pub fn is_empty(&self) -> bool {
        self.by_ufrag.is_empty()
    }

    /// The connection a datagram from `src` is for: a STUN request by the ufrag before the
    /// colon of its USERNAME (and `src` is remembered for it), anything else by `src`.
    pub fn route(&mut self, src: SocketAddr, bytes: &[u8]) -> Option<K> {
        // RFC 7983 §7: STUN starts with 0..=3.
        if matches!(bytes.first(), Some(0..=3)) {
            if let Ok(m) = Message::parse(bytes) {
                if m.class() == Class::Request {
                    let key = m
                        .get_raw(weft_stun::attr::USERNAME)
                        .and_then(|u| std::str::from_utf8(u).ok())
                        .and_then(|u| u.split(':').next())
                        .and_then(|ufrag| self.by_ufrag.get(ufrag).copied());
                    if let Some(k) = key {
                        self.by_addr.insert(src, k);
                        return Some(k);
                    }
                }
            }
        }
        self.by_addr.get(&src).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_stun::{MessageBuilder, MessageType, TransactionId};

    fn binding(username: &str) -> Vec<u8> {
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::BINDING_REQUEST,
            TransactionId([1; 12]),
        )
        .unwrap();
        b.add_raw(weft_stun::attr::USERNAME, username.as_bytes())
            .unwrap();
        b.finish().to_vec()
    }

    #[test]
    fn routes_by_ufrag_then_by_address() {
        let mut m = Mux::new();
        m.add_ufrag("aaaa", 1u32);
        m.add_ufrag("bbbb", 2u32);
        let p1: SocketAddr = "10.0.0.1:1000".parse().unwrap();
        let p2: SocketAddr = "10.0.0.2:2000".parse().unwrap();
        assert_eq!(m.route(p1, &[22, 254, 253]), None);
        assert_eq!(m.route(p1, &binding("aaaa:x")), Some(1));
        assert_eq!(m.route(p2, &binding("bbbb:y")), Some(2));
        assert_eq!(m.route(p1, &[22, 254, 253]), Some(1));
        assert_eq!(m.route(p2, &[0x80, 0x60]), Some(2));
        assert_eq!(m.route(p2, &binding("cccc:z")), Some(2));
        assert_eq!(m.len(), 2);
        m.remove(1);
        assert_eq!(m.route(p1, &[22]), None);
        assert_eq!(m.len(), 1);
    }
}
