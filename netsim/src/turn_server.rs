//! The built-in TURN server (RFC 8656) over UDP, with long-term credentials (RFC 8489 §9.2,
//! MD5 key). What it implements is written on `Network::add_turn_server`.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use weft_stun::attr::PasswordAlgorithmId;
use weft_stun::attr::{
    self, AddressFamily, ChannelNumber, Data, ErrorCode, Lifetime, Nonce, Realm,
    RequestedAddressFamily, RequestedTransport, Software, StunAttribute, Username,
    XorMappedAddress, XorPeerAddress, XorRelayedAddress,
};
use weft_stun::channel_data::CHANNEL_NUMBERS;
use weft_stun::{
    long_term_key, ChannelData, Class, Framing, LongTermKey, Message, MessageBuilder, MessageType,
    Method, TransactionId,
};

use crate::config::LinkConfig;
use crate::server::unknown_attribute_response;
use crate::server::{answer_binding, build, error_response, unknown_attributes, Emit, SOFTWARE};
use crate::Stats;

/// RFC 8656 §7.2: the default allocation lifetime, 10 minutes.
pub const DEFAULT_ALLOCATION_LIFETIME: Duration = Duration::from_secs(600);
/// The longest lifetime this server grants (RFC 8656 §7.2 lets the server choose; 1 hour
/// is the usual value).
pub const MAX_ALLOCATION_LIFETIME: Duration = Duration::from_secs(3600);
/// RFC 8656 §9: a permission lasts 300 seconds unless refreshed.
pub const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
/// RFC 8656 §12: a channel binding lasts 10 minutes unless refreshed.
pub const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);
/// How long a NONCE stays valid by default before the server answers 438 (Stale Nonce).
pub const DEFAULT_NONCE_LIFETIME: Duration = Duration::from_secs(3600);

/// The first port relayed addresses are handed out from (the dynamic range).
const RELAY_PORTS: std::ops::RangeInclusive<u16> = 49152..=65535;

#[derive(Debug, Clone)]
struct Channel {
    peer: SocketAddr,
    expires: Instant,
}

/// One allocation, keyed by the client's 5-tuple (RFC 8656 §2.2). Over UDP with one server
/// address, the client's source address as the server sees it names the 5-tuple.
#[derive(Debug, Clone)]
struct Allocation {
    relay: SocketAddr,
    username: String,
    expires: Instant,
    /// The Allocate that made it: a retransmission gets the same answer, not 437.
    allocate_txid: TransactionId,
    /// RFC 8656 §9: permissions are per peer IP address (the port is ignored).
    permissions: BTreeMap<IpAddr, Instant>,
    channels: BTreeMap<u16, Channel>,
}

impl Allocation {
    fn permitted(&self, now: Instant, ip: IpAddr) -> bool {
        self.permissions.get(&ip).is_some_and(|&e| now < e)
    }

    fn channel_for_peer(&self, now: Instant, peer: SocketAddr) -> Option<u16> {
        self.channels
            .iter()
            .find(|(_, c)| c.peer == peer && now < c.expires)
            .map(|(n, _)| *n)
    }

    fn lifetime_left(&self, now: Instant) -> u32 {
        let left = self.expires.saturating_duration_since(now).as_secs();
        u32::try_from(left).unwrap_or(u32::MAX)
    }
}

/// A TURN server on one UDP transport address, relaying on `relay_ip`.
#[derive(Debug, Clone)]
pub(crate) struct TurnServer {
    pub(crate) addr: SocketAddr,
    pub(crate) relay_ip: IpAddr,
    pub(crate) link: LinkConfig,
    realm: String,
    keys: BTreeMap<String, LongTermKey>,
    nonce_lifetime: Duration,
    /// Nonces issued and when; stale ones are purged when a new one is issued.
    nonces: BTreeMap<String, Instant>,
    nonce_counter: u64,
    /// Numbers the transaction IDs of Data indications.
    indication_counter: u64,
    /// A salt so that two servers in one network hand out different nonces.
    nonce_salt: u64,
    allocations: BTreeMap<SocketAddr, Allocation>,
    by_relay_port: BTreeMap<u16, SocketAddr>,
    /// Ports on `relay_ip` other servers listen on: never handed out.
    reserved: BTreeSet<u16>,
    next_port: u16,
}

/// What an authenticated request established: the user and their key.
struct Authenticated {
    username: String,
    key: LongTermKey,
}

impl TurnServer {
    pub(crate) fn new(
        addr: SocketAddr,
        relay_ip: IpAddr,
        realm: &str,
        users: &[(&str, &str)],
        link: LinkConfig,
        nonce_salt: u64,
    ) -> Self {
        let keys = users
            .iter()
            .map(|(u, p)| {
                (
                    (*u).to_owned(),
                    long_term_key(u, realm, p, PasswordAlgorithmId::MD5),
                )
            })
            .collect();
        let mut reserved = BTreeSet::new();
        if addr.ip() == relay_ip {
            reserved.insert(addr.port());
        }
        TurnServer {
            addr,
            relay_ip,
            link,
            realm: realm.to_owned(),
            keys,
            nonce_lifetime: DEFAULT_NONCE_LIFETIME,
            nonces: BTreeMap::new(),
            nonce_counter: 0,
            indication_counter: 0,
            nonce_salt,
            allocations: BTreeMap::new(),
            by_relay_port: BTreeMap::new(),
            reserved,
            next_port: *RELAY_PORTS.start(),
        }
    }

    /// Keeps `port` on the relay IP out of allocation (another server listens there).
    pub(crate) fn reserve_port(&mut self, port: u16) {
        self.reserved.insert(port);
    }

    pub(crate) fn set_nonce_lifetime(&mut self, lifetime: Duration) {
        self.nonce_lifetime = lifetime;
    }

    /// The live allocations: client address (as the server sees it) and relayed address.
    pub(crate) fn allocations(&self, now: Instant) -> Vec<(SocketAddr, SocketAddr)> {
        self.allocations
            .iter()
            .filter(|(_, a)| now < a.expires)
            .map(|(c, a)| (*c, a.relay))
            .collect()
    }

    /// When the next allocation expires.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.allocations.values().map(|a| a.expires).min()
    }

    /// Drops expired allocations, permissions and channels (RFC 8656 §7, §9, §12).
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        let by_relay_port = &mut self.by_relay_port;
        self.allocations.retain(|_, a| {
            let live = now < a.expires;
            if !live {
                by_relay_port.remove(&a.relay.port());
            }
            live
        });
        for a in self.allocations.values_mut() {
            a.permissions.retain(|_, e| now < *e);
            a.channels.retain(|_, c| now < c.expires);
        }
    }

    /// Whether a datagram to `relay_ip:port` is this server's: its listening address or a
    /// live relayed address.
    pub(crate) fn owns_relay_port(&self, now: Instant, port: u16) -> bool {
        self.by_relay_port
            .get(&port)
            .and_then(|c| self.allocations.get(c))
            .is_some_and(|a| now < a.expires)
    }

    // --- the client side: datagrams to the server's own address ---------------------------

    /// A datagram from a client (or anyone) to the server's address.
    pub(crate) fn handle_client(
        &mut self,
        now: Instant,
        src: SocketAddr,
        bytes: &[u8],
        stats: &mut Stats,
        out: &mut Vec<Emit>,
    ) {
        self.handle_timeout(now);
        match bytes.first() {
            // RFC 7983 §7: 0-3 is STUN, 64-79 is TURN ChannelData.
            Some(0..=3) => self.handle_stun(now, src, bytes, stats, out),
            Some(64..=79) => self.handle_channel_data(now, src, bytes, stats, out),
            _ => stats.server_malformed += 1,
        }
    }

    fn handle_stun(
        &mut self,
        now: Instant,
        src: SocketAddr,
        bytes: &[u8],
        stats: &mut Stats,
        out: &mut Vec<Emit>,
    ) {
        let Ok(msg) = Message::parse(bytes) else {
            stats.server_malformed += 1;
            return;
        };
        if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
            stats.server_malformed += 1;
            return;
        }
        let reply = match (msg.class(), msg.method()) {
            (Class::Request, Method::BINDING) => {
                stats.stun_requests += 1;
                answer_binding(&msg, src)
            }
            (
                Class::Request,
                Method::ALLOCATE
                | Method::REFRESH
                | Method::CREATE_PERMISSION
                | Method::CHANNEL_BIND,
            ) => {
                stats.turn_requests += 1;
                let reply = self.handle_request(now, src, &msg);
                if let Some(r) = &reply {
                    if Message::parse(r).is_ok_and(|m| m.class() == Class::ErrorResponse) {
                        stats.turn_errors += 1;
                    }
                }
                reply
            }
            (Class::Request, _) => {
                stats.server_malformed += 1;
                error_response(&msg, ErrorCode::BAD_REQUEST, |_| Ok(()))
            }
            (Class::Indication, Method::SEND) => {
                self.handle_send(now, src, &msg, stats, out);
                None
            }
            (Class::Indication, Method::BINDING) => None,
            _ => {
                stats.server_malformed += 1;
                None
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

    fn issue_nonce(&mut self, now: Instant) -> String {
        let lifetime = self.nonce_lifetime;
        self.nonces.retain(|_, issued| now < *issued + lifetime);
        self.nonce_counter += 1;
        let nonce = format!("{:08x}{:08x}", self.nonce_salt, self.nonce_counter);
        self.nonces.insert(nonce.clone(), now);
        nonce
    }

    /// RFC 8489 §9.2.4: 401 with REALM and a fresh NONCE (and no MESSAGE-INTEGRITY), or 438
    /// the same way.
    fn challenge(&mut self, now: Instant, req: &Message<'_>, code: u16) -> Option<Vec<u8>> {
        let nonce = self.issue_nonce(now);
        let realm = self.realm.clone();
        error_response(req, code, |b| {
            b.add(&Realm(&realm))?;
            b.add(&Nonce(&nonce))
        })
    }

    /// RFC 8489 §9.2.4, the server's checks of a long-term-credential request, in order.
    fn authenticate(
        &mut self,
        now: Instant,
        req: &Message<'_>,
    ) -> Result<Authenticated, Option<Vec<u8>>> {
        // No MESSAGE-INTEGRITY: 401 with REALM and NONCE.
        if !req.has_message_integrity() {
            return Err(self.challenge(now, req, ErrorCode::UNAUTHENTICATED));
        }
        // MESSAGE-INTEGRITY without USERNAME, REALM or NONCE: 400.
        let (Ok(Some(Username(user))), Ok(Some(Realm(_))), Ok(Some(Nonce(nonce)))) = (
            req.get::<Username>(),
            req.get::<Realm>(),
            req.get::<Nonce>(),
        ) else {
            return Err(error_response(req, ErrorCode::BAD_REQUEST, |_| Ok(())));
        };
        // An unknown user, or an integrity check that fails: 401.
        let Some(key) = self.keys.get(user).cloned() else {
            return Err(self.challenge(now, req, ErrorCode::UNAUTHENTICATED));
        };
        if req.verify_message_integrity(key.as_ref()).is_err() {
            return Err(self.challenge(now, req, ErrorCode::UNAUTHENTICATED));
        }
        // A nonce no longer valid (too old, or not ours): 438 with a new one.
        let fresh = self
            .nonces
            .get(nonce)
            .is_some_and(|issued| now < *issued + self.nonce_lifetime);
        if !fresh {
            return Err(self.challenge(now, req, ErrorCode::STALE_NONCE));
        }
        Ok(Authenticated {
            username: user.to_owned(),
            key,
        })
    }

    fn handle_request(
        &mut self,
        now: Instant,
        src: SocketAddr,
        req: &Message<'_>,
    ) -> Option<Vec<u8>> {
        let auth = match self.authenticate(now, req) {
            Ok(a) => a,
            Err(reply) => return reply,
        };
        let key = auth.key.clone();
        // RFC 8489 §6.3.1.1: unknown comprehension-required attributes, after authentication.
        let unknown = unknown_attributes(req);
        if !unknown.is_empty() {
            return unknown_attribute_response(req, &unknown, Some(key.as_ref()));
        }
        let result = match req.method() {
            Method::ALLOCATE => self.allocate(now, src, req, &auth),
            Method::REFRESH => self.refresh(now, src, req, &auth),
            Method::CREATE_PERMISSION => self.create_permission(now, src, req, &auth),
            _ => self.channel_bind(now, src, req, &auth),
        };
        match result {
            Ok(reply) => reply,
            Err(code) => error_response(req, code, |b| b.add_message_integrity(key.as_ref())),
        }
    }

    /// A success response with `body`'s attributes, then MESSAGE-INTEGRITY and FINGERPRINT.
    fn success(
        req: &Message<'_>,
        key: &LongTermKey,
        body: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), weft_stun::Error>,
    ) -> Option<Vec<u8>> {
        build(
            req.message_type().success(),
            req.transaction_id(),
            256,
            |b| {
                body(b)?;
                b.add(&Software(SOFTWARE))?;
                b.add_message_integrity(key.as_ref())?;
                b.add_fingerprint()
            },
        )
    }

    /// The allocation of this 5-tuple, checked to belong to the authenticated user
    /// (RFC 8656 §5: 441 otherwise).
    fn allocation_of(
        &mut self,
        src: SocketAddr,
        auth: &Authenticated,
    ) -> Result<&mut Allocation, u16> {
        let a = self
            .allocations
            .get_mut(&src)
            .ok_or(ErrorCode::ALLOCATION_MISMATCH)?;
        if a.username != auth.username {
            return Err(441);
        }
        Ok(a)
    }

    /// RFC 8656 §7.2 (Allocate) and §7.3 (Refresh): the lifetime granted for a requested
    /// one, clamped to the maximum and raised to the default.
    fn granted_lifetime(req: &Message<'_>) -> Result<Duration, u16> {
        let requested = match req.get::<Lifetime>() {
            Ok(Some(Lifetime(s))) => Some(Duration::from_secs(u64::from(s))),
            Ok(None) => None,
            Err(_) => return Err(ErrorCode::BAD_REQUEST),
        };
        Ok(match requested {
            Some(r) => r
                .min(MAX_ALLOCATION_LIFETIME)
                .max(DEFAULT_ALLOCATION_LIFETIME),
            None => DEFAULT_ALLOCATION_LIFETIME,
        })
    }

    fn next_relay_port(&mut self) -> Option<u16> {
        let span = usize::from(RELAY_PORTS.end() - RELAY_PORTS.start()) + 1;
        for _ in 0..span {
            let p = self.next_port;
            self.next_port = if p == *RELAY_PORTS.end() {
                *RELAY_PORTS.start()
            } else {
                p + 1
            };
            if !self.by_relay_port.contains_key(&p) && !self.reserved.contains(&p) {
                return Some(p);
            }
        }
        None
    }

    /// RFC 8656 §7.2: Allocate.
    fn allocate(
        &mut self,
        now: Instant,
        src: SocketAddr,
        req: &Message<'_>,
        auth: &Authenticated,
    ) -> Result<Option<Vec<u8>>, u16> {
        let txid = req.transaction_id();
        if let Some(a) = self.allocations.get(&src) {
            // A retransmitted Allocate gets the same success again; anything else on a
            // 5-tuple in use is 437.
            if a.allocate_txid != txid || a.username != auth.username {
                return Err(ErrorCode::ALLOCATION_MISMATCH);
            }
            let (relay, left) = (a.relay, a.lifetime_left(now));
            return Ok(Self::allocate_success(req, &auth.key, relay, src, left));
        }
        // RFC 8656 §7.2: REQUESTED-TRANSPORT is required and must be UDP (442 otherwise).
        match req.get::<RequestedTransport>() {
            Ok(Some(RequestedTransport::UDP)) => {}
            Ok(Some(_)) => return Err(442),
            _ => return Err(ErrorCode::BAD_REQUEST),
        }
        // RFC 8656 §7.2: a family we cannot relay on is 440.
        match req.get::<RequestedAddressFamily>() {
            Ok(None) => {}
            Ok(Some(RequestedAddressFamily(family))) => {
                let ours = if self.relay_ip.is_ipv4() {
                    AddressFamily::Ipv4
                } else {
                    AddressFamily::Ipv6
                };
                if family != ours {
                    return Err(440);
                }
            }
            Err(_) => return Err(ErrorCode::BAD_REQUEST),
        }
        let lifetime = Self::granted_lifetime(req)?;
        let port = self.next_relay_port().ok_or(508u16)?;
        let relay = SocketAddr::new(self.relay_ip, port);
        self.by_relay_port.insert(port, src);
        self.allocations.insert(
            src,
            Allocation {
                relay,
                username: auth.username.clone(),
                expires: now + lifetime,
                allocate_txid: txid,
                permissions: BTreeMap::new(),
                channels: BTreeMap::new(),
            },
        );
        let secs = u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX);
        Ok(Self::allocate_success(req, &auth.key, relay, src, secs))
    }

    fn allocate_success(
        req: &Message<'_>,
        key: &LongTermKey,
        relay: SocketAddr,
        mapped: SocketAddr,
        lifetime: u32,
    ) -> Option<Vec<u8>> {
        Self::success(req, key, |b| {
            b.add(&XorRelayedAddress(relay))?;
            b.add(&Lifetime(lifetime))?;
            b.add(&XorMappedAddress(mapped))
        })
    }

    /// RFC 8656 §7.3: Refresh; LIFETIME 0 deletes the allocation.
    fn refresh(
        &mut self,
        now: Instant,
        src: SocketAddr,
        req: &Message<'_>,
        auth: &Authenticated,
    ) -> Result<Option<Vec<u8>>, u16> {
        let zero = matches!(req.get::<Lifetime>(), Ok(Some(Lifetime(0))));
        let lifetime = Self::granted_lifetime(req)?;
        let a = self.allocation_of(src, auth)?;
        if zero {
            let port = a.relay.port();
            self.allocations.remove(&src);
            self.by_relay_port.remove(&port);
            return Ok(Self::success(req, &auth.key, |b| b.add(&Lifetime(0))));
        }
        a.expires = now + lifetime;
        let secs = u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX);
        Ok(Self::success(req, &auth.key, |b| b.add(&Lifetime(secs))))
    }

    /// Every XOR-PEER-ADDRESS of a request that counts (CreatePermission may carry several,
    /// RFC 8656 §10); 400 if none or one is malformed, 443 if one is of the wrong family.
    fn peer_addresses(&self, req: &Message<'_>) -> Result<Vec<SocketAddr>, u16> {
        let txid = req.transaction_id();
        let mut peers = Vec::new();
        for a in req.attributes() {
            if a.typ != attr::XOR_PEER_ADDRESS || req.is_ignored(&a) {
                continue;
            }
            let XorPeerAddress(peer) =
                XorPeerAddress::decode(a.value, &txid).map_err(|_| ErrorCode::BAD_REQUEST)?;
            // RFC 8656 §10.2: a peer of the other family than the relayed address is 443.
            if peer.is_ipv4() != self.relay_ip.is_ipv4() {
                return Err(443);
            }
            peers.push(peer);
        }
        if peers.is_empty() {
            return Err(ErrorCode::BAD_REQUEST);
        }
        Ok(peers)
    }

    /// RFC 8656 §10: CreatePermission installs or refreshes a permission per peer IP.
    fn create_permission(
        &mut self,
        now: Instant,
        src: SocketAddr,
        req: &Message<'_>,
        auth: &Authenticated,
    ) -> Result<Option<Vec<u8>>, u16> {
        let peers = self.peer_addresses(req)?;
        let a = self.allocation_of(src, auth)?;
        for p in peers {
            a.permissions.insert(p.ip(), now + PERMISSION_LIFETIME);
        }
        Ok(Self::success(req, &auth.key, |_| Ok(())))
    }

    /// RFC 8656 §11: ChannelBind binds a channel number to a peer address (and installs or
    /// refreshes the permission for its IP).
    fn channel_bind(
        &mut self,
        now: Instant,
        src: SocketAddr,
        req: &Message<'_>,
        auth: &Authenticated,
    ) -> Result<Option<Vec<u8>>, u16> {
        let channel = match req.get::<ChannelNumber>() {
            Ok(Some(ChannelNumber(c))) if CHANNEL_NUMBERS.contains(&c) => c,
            _ => return Err(ErrorCode::BAD_REQUEST),
        };
        let peers = self.peer_addresses(req)?;
        let &[peer] = peers.as_slice() else {
            return Err(ErrorCode::BAD_REQUEST);
        };
        let a = self.allocation_of(src, auth)?;
        // RFC 8656 §11.2: the channel must not be bound to another peer, nor the peer to
        // another channel.
        if a.channels
            .get(&channel)
            .is_some_and(|c| now < c.expires && c.peer != peer)
        {
            return Err(ErrorCode::BAD_REQUEST);
        }
        if a.channel_for_peer(now, peer).is_some_and(|c| c != channel) {
            return Err(ErrorCode::BAD_REQUEST);
        }
        a.channels.insert(
            channel,
            Channel {
                peer,
                expires: now + CHANNEL_LIFETIME,
            },
        );
        a.permissions.insert(peer.ip(), now + PERMISSION_LIFETIME);
        Ok(Self::success(req, &auth.key, |_| Ok(())))
    }

    /// RFC 8656 §11.3: relays `data` from the allocation's relayed address to `peer`.
    fn relay_to_peer(relay: SocketAddr, peer: SocketAddr, data: &[u8], out: &mut Vec<Emit>) {
        out.push(Emit {
            src: relay,
            dst: peer,
            bytes: data.to_vec(),
        });
    }

    /// RFC 8656 §11.2: a Send indication. Dropped silently without an allocation, a
    /// permission for the peer, or the two attributes it needs.
    fn handle_send(
        &mut self,
        now: Instant,
        src: SocketAddr,
        msg: &Message<'_>,
        stats: &mut Stats,
        out: &mut Vec<Emit>,
    ) {
        let (Ok(Some(XorPeerAddress(peer))), Ok(Some(Data(data)))) =
            (msg.get::<XorPeerAddress>(), msg.get::<Data>())
        else {
            stats.server_malformed += 1;
            return;
        };
        match self.allocations.get(&src) {
            Some(a) if a.permitted(now, peer.ip()) => {
                stats.turn_relayed += 1;
                Self::relay_to_peer(a.relay, peer, data, out);
            }
            _ => stats.turn_relay_denied += 1,
        }
    }

    /// RFC 8656 §12.6: ChannelData from a client goes to the channel's peer, if the channel
    /// is bound.
    fn handle_channel_data(
        &mut self,
        now: Instant,
        src: SocketAddr,
        bytes: &[u8],
        stats: &mut Stats,
        out: &mut Vec<Emit>,
    ) {
        let Ok(frame) = ChannelData::decode(bytes) else {
            stats.server_malformed += 1;
            return;
        };
        let bound = self.allocations.get(&src).and_then(|a| {
            a.channels
                .get(&frame.channel)
                .filter(|c| now < c.expires && a.permitted(now, c.peer.ip()))
                .map(|c| (a.relay, c.peer))
        });
        match bound {
            Some((relay, peer)) => {
                stats.turn_relayed += 1;
                Self::relay_to_peer(relay, peer, frame.data, out);
            }
            None => stats.turn_relay_denied += 1,
        }
    }

    // --- the peer side: datagrams to a relayed address -------------------------------------

    /// RFC 8656 §11.3, §12.6: UDP from `src` to the relayed address on `port`. Goes to the
    /// client as ChannelData when a channel is bound to `src`, else as a Data indication,
    /// and only if the allocation has a permission for `src`'s IP.
    pub(crate) fn handle_peer(
        &mut self,
        now: Instant,
        src: SocketAddr,
        port: u16,
        bytes: &[u8],
        stats: &mut Stats,
        out: &mut Vec<Emit>,
    ) {
        self.handle_timeout(now);
        let Some(client) = self.by_relay_port.get(&port).copied() else {
            stats.turn_relay_denied += 1;
            return;
        };
        let Some(a) = self.allocations.get(&client) else {
            stats.turn_relay_denied += 1;
            return;
        };
        if !a.permitted(now, src.ip()) {
            stats.turn_relay_denied += 1;
            return;
        }
        let framed = match a.channel_for_peer(now, src) {
            Some(channel) => {
                let frame = ChannelData {
                    channel,
                    data: bytes,
                };
                let mut buf = vec![0u8; frame.encoded_len(Framing::Udp)];
                frame.encode(Framing::Udp, &mut buf).ok().map(|n| {
                    buf.truncate(n);
                    buf
                })
            }
            None => {
                // RFC 8656 §11.3: a fresh transaction ID for each Data indication; ours is
                // a counter, which is all uniqueness needs here.
                self.indication_counter += 1;
                let mut id = [0xda; 12];
                id.iter_mut()
                    .zip(self.indication_counter.to_be_bytes())
                    .for_each(|(d, s)| *d = s);
                build(
                    MessageType::new(Method::DATA, Class::Indication),
                    TransactionId(id),
                    bytes.len() + 64,
                    |b| {
                        b.add(&XorPeerAddress(src))?;
                        b.add(&Data(bytes))?;
                        b.add_fingerprint()
                    },
                )
            }
        };
        match framed {
            Some(bytes) => {
                stats.turn_relayed += 1;
                out.push(Emit {
                    src: self.addr,
                    dst: client,
                    bytes,
                });
            }
            None => stats.turn_relay_denied += 1,
        }
    }
}
