//! The room relay, sans-IO: which socket gets which text frame. The server owns the
//! sockets; it tells [`Rooms`] who connected (with the name and room its token grants),
//! hands it every text frame, and sends the deliveries it returns.
//!
//! Room control messages, answered by the relay itself:
//!
//! | from a client | answer |
//! |---|---|
//! | `room.join` (`room` set) | `room.joined` `{name, members}` to it; `room.member` `{name, event: "joined"}` to the others |
//! | `room.leave` | `room.member` `{name, event: "left"}` to the others (also when the socket closes) |
//!
//! Every other message is relayed within its room ([`Rooms::handle_text`]). A server that
//! takes part itself ([`Rooms::with_server`]) is a member of every room under one name and
//! gets the messages addressed to it as deliveries to [`SERVER`].

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use crate::message::WsMessage;

/// A connected socket, numbered by the server from 1.
pub type ClientId = u64;

/// The server's own place in every room, when it takes part ([`Rooms::with_server`]).
pub const SERVER: ClientId = 0;

/// What a token granted a connected socket.
#[derive(Debug, Clone)]
struct Grant {
    name: String,
    /// The one room it may join; `None`: any.
    room: Option<String>,
}

/// Members of each room and their names (from their tokens).
#[derive(Debug, Default)]
pub struct Rooms {
    /// room -> (client, name), in join order.
    rooms: BTreeMap<String, Vec<(ClientId, String)>>,
    /// Connected sockets and their grants.
    clients: HashMap<ClientId, Grant>,
    /// Members kept per room at most (the server not counted).
    max_members: usize,
    /// The server's name in every room, when it takes part.
    server: Option<String>,
}

/// A text frame to send to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The socket ([`SERVER`]: the server's own participant).
    pub to: ClientId,
    /// The frame.
    pub text: String,
}

/// Why a join is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The room has `max_members`.
    Full,
    /// Someone in the room already has this name (or the server does).
    NameTaken,
    /// The token grants another room.
    NotGranted,
    /// The socket is not connected ([`Rooms::connect`]).
    Unknown,
}

impl std::fmt::Display for JoinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JoinError::Full => "room is full",
            JoinError::NameTaken => "name already in the room",
            JoinError::NotGranted => "the token does not grant this room",
            JoinError::Unknown => "socket not connected",
        })
    }
}

impl Rooms {
    /// Rooms of up to `max_members` each (a mesh grows as n²).
    pub fn new(max_members: usize) -> Rooms {
        Rooms {
            max_members,
            ..Rooms::default()
        }
    }

    /// The server takes part in every room as `name`: it is listed among the members, and
    /// messages addressed to it are delivered to [`SERVER`]. It gets no broadcasts.
    pub fn with_server(mut self, name: &str) -> Rooms {
        self.server = Some(name.to_owned());
        self
    }

    /// The server's name in the rooms, if it takes part.
    pub fn server_name(&self) -> Option<&str> {
        self.server.as_deref()
    }

    /// A socket connected with a token granting `name` and `room` (`None`: any room).
    pub fn connect(&mut self, client: ClientId, name: &str, room: Option<&str>) {
        self.clients.insert(
            client,
            Grant {
                name: name.to_owned(),
                room: room.map(str::to_owned),
            },
        );
    }

    /// The socket closed: it leaves every room; the others are told.
    pub fn disconnect(&mut self, client: ClientId) -> Vec<Delivery> {
        let rooms: Vec<String> = self
            .rooms
            .iter()
            .filter(|(_, m)| m.iter().any(|(c, _)| *c == client))
            .map(|(r, _)| r.clone())
            .collect();
        let mut out = Vec::new();
        for room in rooms {
            out.extend(self.leave_room(client, &room));
        }
        self.clients.remove(&client);
        out
    }

    /// `client` joins `room` as `name` (checks only capacity and names; the message path
    /// [`handle_text`](Self::handle_text) also checks the token's grant).
    pub fn join(&mut self, client: ClientId, room: &str, name: &str) -> Result<(), JoinError> {
        if self.server.as_deref() == Some(name) {
            return Err(JoinError::NameTaken);
        }
        let members = self.rooms.entry(room.to_owned()).or_default();
        if members.iter().any(|(_, n)| n == name) {
            return Err(JoinError::NameTaken);
        }
        if members.len() >= self.max_members {
            let empty = members.is_empty();
            if empty {
                self.rooms.remove(room);
            }
            return Err(JoinError::Full);
        }
        members.push((client, name.to_owned()));
        Ok(())
    }

    /// `client` leaves every room, silently (see [`disconnect`](Self::disconnect)).
    pub fn leave(&mut self, client: ClientId) {
        for members in self.rooms.values_mut() {
            members.retain(|(c, _)| *c != client);
        }
        self.rooms.retain(|_, m| !m.is_empty());
    }

    /// Names in a room, in join order (the server first, when it takes part).
    pub fn members(&self, room: &str) -> Vec<String> {
        let mut names: Vec<String> = self.server.iter().cloned().collect();
        if let Some(m) = self.rooms.get(room) {
            names.extend(m.iter().map(|(_, n)| n.clone()));
        }
        names
    }

    /// Leaves one room; the others there are told.
    fn leave_room(&mut self, client: ClientId, room: &str) -> Vec<Delivery> {
        let Some(members) = self.rooms.get_mut(room) else {
            return Vec::new();
        };
        let Some(at) = members.iter().position(|(c, _)| *c == client) else {
            return Vec::new();
        };
        let (_, name) = members.remove(at);
        let text = member_event(room, &name, "left");
        let out = members
            .iter()
            .map(|(c, _)| Delivery {
                to: *c,
                text: text.clone(),
            })
            .collect();
        if members.is_empty() {
            self.rooms.remove(room);
        }
        out
    }

    /// A text frame from `client`. `room.join` and `room.leave` are answered here; any
    /// other message is relayed with `from` set to the sender's name: to `data.to` if it
    /// names a member, else to every other member of the room. A frame that does not
    /// parse, names a room the client is not in, or a `to` nobody has, gets an `error`
    /// message back to the sender alone; the socket stays open.
    pub fn handle_text(&mut self, client: ClientId, text: &str) -> Vec<Delivery> {
        let mut m = match WsMessage::parse(text) {
            Ok(m) => m,
            Err(e) => return vec![error(client, "", e)],
        };
        match m.kind.as_str() {
            "room.join" => return self.handle_join(client, &m.room),
            "room.leave" => return self.leave_room(client, &m.room),
            _ => {}
        }
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
            Some(to) if self.server.as_deref() == Some(to) => {
                vec![Delivery { to: SERVER, text }]
            }
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

    fn handle_join(&mut self, client: ClientId, room: &str) -> Vec<Delivery> {
        let Some(grant) = self.clients.get(&client).cloned() else {
            return vec![error(client, room, JoinError::Unknown)];
        };
        if room.is_empty() {
            return vec![error(client, room, "room.join needs a room")];
        }
        if grant.room.as_deref().is_some_and(|r| r != room) {
            return vec![error(client, room, JoinError::NotGranted)];
        }
        if let Err(e) = self.join(client, room, &grant.name) {
            return vec![error(client, room, e)];
        }
        let others: Vec<String> = self
            .members(room)
            .into_iter()
            .filter(|n| *n != grant.name)
            .collect();
        let joined = WsMessage {
            kind: "room.joined".into(),
            room: room.into(),
            data: json!({ "name": grant.name, "members": others }),
            from: None,
        };
        let mut out = vec![Delivery {
            to: client,
            text: joined.to_text(),
        }];
        let notice = member_event(room, &grant.name, "joined");
        if let Some(members) = self.rooms.get(room) {
            out.extend(
                members
                    .iter()
                    .filter(|(c, _)| *c != client)
                    .map(|(c, _)| Delivery {
                        to: *c,
                        text: notice.clone(),
                    }),
            );
        }
        out
    }

    /// A message from the server's own participant to member `to` of `room`, `from` set to
    /// the server's name. `None` if the server does not take part or `to` is not there.
    pub fn from_server(&self, mut m: WsMessage) -> Option<Delivery> {
        let name = self.server.clone()?;
        let to = m.to()?.to_owned();
        let (client, _) = self.rooms.get(&m.room)?.iter().find(|(_, n)| *n == to)?;
        m.from = Some(name);
        Some(Delivery {
            to: *client,
            text: m.to_text(),
        })
    }
}

fn member_event(room: &str, name: &str, event: &str) -> String {
    WsMessage {
        kind: "room.member".into(),
        room: room.into(),
        data: json!({ "name": name, "event": event }),
        from: None,
    }
    .to_text()
}

fn error(to: ClientId, room: &str, e: impl std::fmt::Display) -> Delivery {
    Delivery {
        to,
        text: WsMessage::error(room, e).to_text(),
    }
}
