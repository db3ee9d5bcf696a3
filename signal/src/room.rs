//! The room relay, sans-IO: which socket gets which text frame. The server owns the
//! sockets; it tells [`Rooms`] who joined, hands it every text frame, and sends the
//! deliveries it returns.

use std::collections::BTreeMap;

use crate::message::WsMessage;

/// A connected socket, numbered by the server.
pub type ClientId = u64;

/// Members of each room and their names (from their tokens).
#[derive(Debug, Default)]
pub struct Rooms {
    /// room -> (client, name), in join order.
    rooms: BTreeMap<String, Vec<(ClientId, String)>>,
    /// Members kept per room at most.
    max_members: usize,
}

/// A text frame to send to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The socket.
    pub to: ClientId,
    /// The frame.
    pub text: String,
}

/// Why a join is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The room has `max_members`.
    Full,
    /// Someone in the room already has this name.
    NameTaken,
}

impl Rooms {
    /// Rooms of up to `max_members` each (a mesh grows as n²).
    pub fn new(max_members: usize) -> Rooms {
        Rooms {
            rooms: BTreeMap::new(),
            max_members,
        }
    }

    /// `client` joins `room` as `name` (the token's subject).
    pub fn join(&mut self, client: ClientId, room: &str, name: &str) -> Result<(), JoinError> {
        let members = self.rooms.entry(room.to_owned()).or_default();
        if members.iter().any(|(_, n)| n == name) {
            return Err(JoinError::NameTaken);
        }
        if members.len() >= self.max_members {
            return Err(JoinError::Full);
        }
        members.push((client, name.to_owned()));
        Ok(())
    }

    /// The socket closed: it leaves every room.
    pub fn leave(&mut self, client: ClientId) {
        for members in self.rooms.values_mut() {
            members.retain(|(c, _)| *c != client);
        }
        self.rooms.retain(|_, m| !m.is_empty());
    }

    /// Names in a room, in join order.
    pub fn members(&self, room: &str) -> Vec<String> {
        self.rooms
            .get(room)
            .map(|m| m.iter().map(|(_, n)| n.clone()).collect())
            .unwrap_or_default()
    }

    /// A text frame from `client`: relayed with `from` set to the sender's name, to
    /// `data.to` if it names a member, else to every other member of the room. A frame that
    /// does not parse, or names a room the client is not in, or a `to` nobody has, gets an
    /// `error` message back to the sender alone; the socket stays open.
    pub fn handle_text(&mut self, client: ClientId, text: &str) -> Vec<Delivery> {
        let mut m = match WsMessage::parse(text) {
            Ok(m) => m,
            Err(e) => return vec![error(client, "", e)],
        };
        let Some(members) = self.rooms.get(&m.room) else {
            return vec![error(client, &m.room, "not in this room")];
        };
        let Some((_, name)) = members.iter().find(|(c, _)| *c == client) else {
            return vec![error(client, &m.room, "not in this room")];
        };
        // The server knows who sent it; a client cannot speak for another.
        m.from = Some(name.clone());
        let text = m.to_text();
        match m.to() {
            Some(to) => match members.iter().find(|(_, n)| n == to) {
                Some((c, _)) => vec![Delivery { to: *c, text }],
                None => vec![error(client, &m.room, format!("no member {to}"))],
            },
            None => members
                .iter()
                .filter(|(c, _)| *c != client)
                .map(|(c, _)| Delivery {
                    to: *c,
                    text: text.clone(),
                })
                .collect(),
        }
    }
}

fn error(to: ClientId, room: &str, e: impl std::fmt::Display) -> Delivery {
    Delivery {
        to,
        text: WsMessage::error(room, e).to_text(),
    }
}
