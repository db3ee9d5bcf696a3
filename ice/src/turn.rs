//! The TURN client (RFC 8656) over UDP: one allocation per (host address, TURN server).
//!
//! The agent owns the transactions and the clock; an [`Allocation`] builds each request,
//! reads each response, and keeps the allocation's permissions and channels.
//!
//! ```text
//! Allocate (no credentials) --401 REALM NONCE--> Allocate (USERNAME REALM NONCE MI)
//!   --success: XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS, LIFETIME--> Allocated
//!   --438 Stale Nonce--> same request with the new NONCE
//! Allocated: Refresh before LIFETIME runs out (RFC 8656 §8), CreatePermission per peer IP
//!   every 4 min (permissions last 5 min, RFC 8656 §9), ChannelBind for the selected peer
//!   every 9 min (channels last 10 min, RFC 8656 §12); close: Refresh LIFETIME 0.
//! Data: ChannelData when a channel is bound, else Send/Data indications (RFC 8656 §10-§12).
//! ```

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use weft_stun::attr::{
    ChannelNumber, Data, ErrorCode, Lifetime, RequestedTransport, XorMappedAddress, XorPeerAddress,
    XorRelayedAddress,
};
use weft_stun::channel_data::CHANNEL_NUMBERS;
use weft_stun::{
    ChannelData, Class, Error, Framing, LongTermCredentials, Message, MessageBuilder, MessageType,
    Method, TransactionId,
};

/// RFC 8656 §9: a permission lasts 300 s; refreshed a minute early.
const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// RFC 8656 §12: a channel binding lasts 10 min; refreshed a minute early.
const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);
const CHANNEL_REFRESH: Duration = Duration::from_secs(540);
/// 401 and 438 answers followed before giving up.
const MAX_AUTH_ATTEMPTS: u8 = 3;
/// UDP (RFC 8656 §18.8, protocol number 17).
const UDP: u8 = 17;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllocState {
    Allocating,
    Allocated,
    Failed,
    Closed,
}

/// A TURN request kind, kept with its transaction so the response can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TurnRequest {
    Allocate,
    Refresh { lifetime: u32 },
    CreatePermission { ip: IpAddr },
    ChannelBind { peer: SocketAddr, number: u16 },
}

/// What a TURN response meant for the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TurnOutcome {
    /// Send the same request again (now with credentials or a fresh nonce).
    Retry(TurnRequest),
    /// The allocation exists.
    Allocated {
        relayed: SocketAddr,
        mapped: Option<SocketAddr>,
    },
    /// Nothing more to do.
    Done,
    /// The allocation is unusable.
    Failed,
}

#[derive(Debug, Clone)]
struct Permission {
    ip: IpAddr,
    installed_until: Option<Instant>,
    refresh_at: Option<Instant>,
    pending: bool,
}

#[derive(Debug, Clone)]
struct Channel {
    peer: SocketAddr,
    number: u16,
    bound_until: Option<Instant>,
    refresh_at: Option<Instant>,
    pending: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Allocation {
    pub server: SocketAddr,
    /// The host address it is reached from.
    pub socket: SocketAddr,
    creds: LongTermCredentials,
    pub state: AllocState,
    pub relayed: Option<SocketAddr>,
    lifetime: u32,
    refresh_at: Option<Instant>,
    expires: Option<Instant>,
    refresh_pending: bool,
    auth_attempts: u8,
    permissions: Vec<Permission>,
    channels: Vec<Channel>,
    next_channel: u16,
}

impl Allocation {
    pub(crate) fn new(
        server: SocketAddr,
        socket: SocketAddr,
        username: &str,
        password: &str,
        lifetime: Duration,
    ) -> Self {
        Allocation {
            server,
            socket,
            creds: LongTermCredentials::new(username, password),
            state: AllocState::Allocating,
            relayed: None,
            lifetime: u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX),
            refresh_at: None,
            expires: None,
            refresh_pending: false,
            auth_attempts: 0,
            permissions: Vec::new(),
            channels: Vec::new(),
            next_channel: *CHANNEL_NUMBERS.start(),
        }
    }

    /// Encodes `req` as a new request with transaction `txid`.
    pub(crate) fn build(&self, req: TurnRequest, txid: TransactionId) -> Result<Vec<u8>, Error> {
        let method = match req {
            TurnRequest::Allocate => Method::ALLOCATE,
            TurnRequest::Refresh { .. } => Method::REFRESH,
            TurnRequest::CreatePermission { .. } => Method::CREATE_PERMISSION,
            TurnRequest::ChannelBind { .. } => Method::CHANNEL_BIND,
        };
        let mut buf = [0u8; 512];
        let mut b = MessageBuilder::new(&mut buf, MessageType::new(method, Class::Request), txid)?;
        match req {
            TurnRequest::Allocate => {
                // RFC 8656 §7.1: REQUESTED-TRANSPORT UDP; LIFETIME is a wish.
                b.add(&RequestedTransport(UDP))?;
                b.add(&Lifetime(self.lifetime))?;
            }
            TurnRequest::Refresh { lifetime } => b.add(&Lifetime(lifetime))?,
            TurnRequest::CreatePermission { ip } => {
                // RFC 8656 §9.1: the port is ignored.
                b.add(&XorPeerAddress(SocketAddr::new(ip, 0)))?
            }
            TurnRequest::ChannelBind { peer, number } => {
                b.add(&ChannelNumber(number))?;
                b.add(&XorPeerAddress(peer))?;
            }
        }
        if self.creds.key().is_some() {
            self.creds.add_to(&mut b)?;
        }
        b.add_fingerprint()?;
        Ok(b.finish().to_vec())
    }

    /// Reads the response to `req` (already matched to its transaction).
    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        req: TurnRequest,
        msg: &Message<'_>,
    ) -> TurnOutcome {
        if msg.class() == Class::ErrorResponse {
            let code = msg.get::<ErrorCode>().ok().flatten().map(|e| e.code);
            // RFC 8489 §9.2.4-§9.2.5: 401 with a realm and nonce, or 438 with a new nonce.
            if matches!(code, Some(401) | Some(438)) && self.auth_attempts < MAX_AUTH_ATTEMPTS {
                self.auth_attempts += 1;
                if let Ok(true) = self.creds.on_challenge(msg) {
                    return TurnOutcome::Retry(req);
                }
            }
            return self.failed(req);
        }
        // A success must carry our MESSAGE-INTEGRITY (RFC 8489 §9.2.5).
        let verified = self
            .creds
            .key()
            .is_some_and(|k| msg.verify_message_integrity(k.as_ref()).is_ok());
        if !verified {
            return self.failed(req);
        }
        self.auth_attempts = 0;
        match req {
            TurnRequest::Allocate => {
                let Ok(Some(XorRelayedAddress(relayed))) = msg.get::<XorRelayedAddress>() else {
                    return self.failed(req);
                };
                let mapped = msg.get::<XorMappedAddress>().ok().flatten().map(|a| a.0);
                let lifetime = msg.get::<Lifetime>().ok().flatten().map_or(600, |l| l.0);
                self.state = AllocState::Allocated;
                self.relayed = Some(relayed);
                self.set_lifetime(now, lifetime);
                TurnOutcome::Allocated { relayed, mapped }
            }
            TurnRequest::Refresh { lifetime: 0 } => {
                self.state = AllocState::Closed;
                TurnOutcome::Done
            }
            TurnRequest::Refresh { .. } => {
                self.refresh_pending = false;
                let lifetime = msg.get::<Lifetime>().ok().flatten().map_or(600, |l| l.0);
                self.set_lifetime(now, lifetime);
                TurnOutcome::Done
            }
            TurnRequest::CreatePermission { ip } => {
                if let Some(p) = self.permissions.iter_mut().find(|p| p.ip == ip) {
                    p.pending = false;
                    p.installed_until = Some(now + PERMISSION_LIFETIME);
                    p.refresh_at = Some(now + PERMISSION_REFRESH);
                }
                TurnOutcome::Done
            }
            TurnRequest::ChannelBind { peer, number } => {
                if let Some(c) = self
                    .channels
                    .iter_mut()
                    .find(|c| c.peer == peer && c.number == number)
                {
                    c.pending = false;
                    c.bound_until = Some(now + CHANNEL_LIFETIME);
                    c.refresh_at = Some(now + CHANNEL_REFRESH);
                }
                // RFC 8656 §12.2: a channel binding also installs a permission.
                self.note_permission(now, peer.ip());
                TurnOutcome::Done
            }
        }
    }

    /// A request timed out.
    pub(crate) fn on_timeout(&mut self, req: TurnRequest) -> TurnOutcome {
        self.failed(req)
    }

    fn failed(&mut self, req: TurnRequest) -> TurnOutcome {
        match req {
            TurnRequest::Allocate => {
                self.state = AllocState::Failed;
                TurnOutcome::Failed
            }
            TurnRequest::Refresh { lifetime: 0 } => {
                self.state = AllocState::Closed;
                TurnOutcome::Done
            }
            TurnRequest::Refresh { .. } => {
                self.refresh_pending = false;
                TurnOutcome::Done
            }
            TurnRequest::CreatePermission { ip } => {
                if let Some(p) = self.permissions.iter_mut().find(|p| p.ip == ip) {
                    p.pending = false;
                }
                TurnOutcome::Done
            }
            TurnRequest::ChannelBind { peer, .. } => {
                // Keep using Send indications.
                self.channels.retain(|c| c.peer != peer);
                TurnOutcome::Done
            }
        }
    }

    fn set_lifetime(&mut self, now: Instant, secs: u32) {
        let life = Duration::from_secs(u64::from(secs));
        self.expires = Some(now + life);
        // Refresh a minute early, or at half the lifetime when it is short.
        let early = Duration::from_secs(60).min(life / 2);
        self.refresh_at = Some(now + life - early);
    }

    fn note_permission(&mut self, now: Instant, ip: IpAddr) {
        match self.permissions.iter_mut().find(|p| p.ip == ip) {
            Some(p) => {
                p.installed_until = Some(now + PERMISSION_LIFETIME);
                p.refresh_at = Some(now + PERMISSION_REFRESH);
            }
            None => self.permissions.push(Permission {
                ip,
                installed_until: Some(now + PERMISSION_LIFETIME),
                refresh_at: Some(now + PERMISSION_REFRESH),
                pending: false,
            }),
        }
    }

    /// Whether datagrams to and from `ip` pass the server now.
    pub(crate) fn permitted(&self, now: Instant, ip: IpAddr) -> bool {
        self.permissions
            .iter()
            .any(|p| p.ip == ip && p.installed_until.is_some_and(|t| t > now))
    }

    /// Asks for a permission to `ip` unless one exists or is on its way: returns the
    /// request to send.
    pub(crate) fn want_permission(&mut self, ip: IpAddr) -> Option<TurnRequest> {
        if self.state != AllocState::Allocated {
            return None;
        }
        match self.permissions.iter_mut().find(|p| p.ip == ip) {
            Some(p) if p.pending || p.installed_until.is_some() => None,
            Some(p) => {
                p.pending = true;
                Some(TurnRequest::CreatePermission { ip })
            }
            None => {
                self.permissions.push(Permission {
                    ip,
                    installed_until: None,
                    refresh_at: None,
                    pending: true,
                });
                Some(TurnRequest::CreatePermission { ip })
            }
        }
    }

    /// Asks for a channel to `peer` (data of the selected pair) unless one exists.
    pub(crate) fn want_channel(&mut self, peer: SocketAddr) -> Option<TurnRequest> {
        if self.state != AllocState::Allocated || self.channels.iter().any(|c| c.peer == peer) {
            return None;
        }
        if !CHANNEL_NUMBERS.contains(&self.next_channel) {
            return None;
        }
        let number = self.next_channel;
        self.next_channel += 1;
        self.channels.push(Channel {
            peer,
            number,
            bound_until: None,
            refresh_at: None,
            pending: true,
        });
        Some(TurnRequest::ChannelBind { peer, number })
    }

    /// Requests that are due at `now`: refreshes of the allocation, permissions, channels.
    pub(crate) fn due(&mut self, now: Instant, out: &mut Vec<TurnRequest>) {
        if self.state != AllocState::Allocated {
            return;
        }
        if self.expires.is_some_and(|t| t <= now) {
            // RFC 8656 §8: the server has forgotten it.
            self.state = AllocState::Failed;
            return;
        }
        if !self.refresh_pending && self.refresh_at.is_some_and(|t| t <= now) {
            self.refresh_pending = true;
            out.push(TurnRequest::Refresh {
                lifetime: self.lifetime,
            });
        }
        for p in &mut self.permissions {
            if !p.pending && p.refresh_at.is_some_and(|t| t <= now) {
                p.pending = true;
                out.push(TurnRequest::CreatePermission { ip: p.ip });
            }
        }
        for c in &mut self.channels {
            if !c.pending && c.refresh_at.is_some_and(|t| t <= now) {
                c.pending = true;
                out.push(TurnRequest::ChannelBind {
                    peer: c.peer,
                    number: c.number,
                });
            }
        }
    }

    /// When [`Allocation::due`] has something next.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        if self.state != AllocState::Allocated {
            return None;
        }
        let refresh = if self.refresh_pending {
            None
        } else {
            self.refresh_at
        };
        let perms = self
            .permissions
            .iter()
            .filter(|p| !p.pending)
            .filter_map(|p| p.refresh_at);
        let chans = self
            .channels
            .iter()
            .filter(|c| !c.pending)
            .filter_map(|c| c.refresh_at);
        refresh
            .into_iter()
            .chain(perms)
            .chain(chans)
            .chain(self.expires)
            .min()
    }

    /// Wraps `payload` for `peer`: ChannelData on a bound channel, else a Send indication
    /// (RFC 8656 §11.1, §12.5).
    pub(crate) fn wrap(
        &self,
        now: Instant,
        peer: SocketAddr,
        payload: &[u8],
        txid: TransactionId,
    ) -> Result<Vec<u8>, Error> {
        if let Some(c) = self
            .channels
            .iter()
            .find(|c| c.peer == peer && c.bound_until.is_some_and(|t| t > now))
        {
            let frame = ChannelData {
                channel: c.number,
                data: payload,
            };
            let mut out = vec![0; frame.encoded_len(Framing::Udp)];
            frame.encode(Framing::Udp, &mut out)?;
            return Ok(out);
        }
        let mut out = vec![0; 20 + 12 + 4 + 24 + payload.len() + 3];
        let mut b = MessageBuilder::new(
            &mut out,
            MessageType::new(Method::SEND, Class::Indication),
            txid,
        )?;
        b.add(&XorPeerAddress(peer))?;
        b.add(&Data(payload))?;
        let len = b.finish().len();
        out.truncate(len);
        Ok(out)
    }

    /// Unwraps a datagram from the server that is not a response: ChannelData on a known
    /// channel, or a Data indication (RFC 8656 §11.4, §12.6).
    pub(crate) fn unwrap<'a>(&self, bytes: &'a [u8]) -> Option<(SocketAddr, &'a [u8])> {
        if let Ok(frame) = ChannelData::decode(bytes) {
            let c = self.channels.iter().find(|c| c.number == frame.channel)?;
            return Some((c.peer, frame.data));
        }
        let msg = Message::parse(bytes).ok()?;
        if msg.class() != Class::Indication || msg.method() != Method::DATA {
            return None;
        }
        let peer = msg.get::<XorPeerAddress>().ok()??.0;
        let data = msg.get::<Data>().ok()??.0;
        Some((peer, data))
    }

    /// The request that deletes the allocation (RFC 8656 §8: Refresh with LIFETIME 0).
    pub(crate) fn close(&mut self) -> Option<TurnRequest> {
        let was = self.state;
        self.state = AllocState::Closed;
        (was == AllocState::Allocated).then_some(TurnRequest::Refresh { lifetime: 0 })
    }
}
