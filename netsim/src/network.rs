//! The simulated world: hosts, NATs, servers, the event queue and the virtual clock.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::{LinkConfig, NatConfig};
use crate::link::{self, Crossing};
use crate::nat::Nat;
use crate::pcap::Capture;
use crate::server::Emit;
use crate::stun_server::StunServer;
use crate::turn_server::TurnServer;
use crate::Stats;
#[cfg(doc)]
use crate::{
    CHANNEL_LIFETIME, DEFAULT_ALLOCATION_LIFETIME, DEFAULT_NONCE_LIFETIME, MAX_ALLOCATION_LIFETIME,
    PERMISSION_LIFETIME,
};

/// A host: an endpoint that sends with [`Network::send`] and receives with
/// [`Network::poll_receive`]. Numbered in the order hosts were added, from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub usize);

/// A NAT box. Numbered in the order NATs were added, from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NatId(pub usize);

/// A UDP datagram delivered to a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// The receiving host.
    pub host: HostId,
    /// The source as the receiving host sees it (after any NAT on the way).
    pub src: SocketAddr,
    /// The host's own address and port it arrived on.
    pub dst: SocketAddr,
    /// The UDP payload.
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Host {
    addresses: Vec<IpAddr>,
    link: LinkConfig,
    behind: Option<NatId>,
}

/// Where a datagram is when its event fires: the far end of the link it just crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    /// Crossed the sending host's link: on the public network, or at its NAT's private side.
    FromHost(HostId),
    /// Crossed a NAT uplink or a server link outward: on the public network.
    Public,
    /// Crossed a NAT uplink inward, to the NAT's public address: filter and translate.
    ToNat(NatId),
    /// Crossed a NAT uplink inward, to a host address the NAT routes without translating.
    ThroughNat(HostId),
    /// Crossed the receiving host's link: delivered.
    ToHost(HostId),
    /// Crossed a STUN server's link.
    ToStun(usize),
    /// Crossed a TURN server's link, to its listening address.
    ToTurn(usize),
    /// Crossed a TURN server's link, to one of its relayed addresses.
    ToRelay(usize),
}

#[derive(Debug, Clone)]
struct Packet {
    src: SocketAddr,
    dst: SocketAddr,
    bytes: Vec<u8>,
}

/// One hop of one datagram, due at `at`. Ordered by time, then by when it was scheduled.
#[derive(Debug)]
struct Event {
    at: Instant,
    seq: u64,
    hop: Hop,
    packet: Packet,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Where a destination on the public network leads.
#[derive(Debug, Clone, Copy)]
enum Public {
    Host(HostId),
    ThroughNat(NatId, HostId),
    Nat(NatId),
    Stun(usize),
    Turn(usize),
    Relay(usize),
}

/// Which access link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum LinkOf {
    Host(HostId),
    Nat(NatId),
    Stun(usize),
    Turn(usize),
}

/// The whole simulated world: hosts on a public network or behind NATs, the links that
/// join them, built-in STUN and TURN servers, an event queue and a virtual clock.
///
/// # Calling contract
///
/// Build the topology first ([`Network::add_host`], [`Network::add_nat`],
/// [`Network::add_host_behind`], [`Network::add_address`], [`Network::add_stun_server`],
/// [`Network::add_turn_server`]), then drive it the way a sans-IO state machine is driven,
/// with the simulator as the I/O:
///
/// ```text
/// loop {
///     net.send(src, dst, bytes)        // for each Transmit your state machines produced, at net.now()
///     t = min(net.poll_timeout(), your machines' poll_timeout())
///     net.advance(t)                   // moves the clock; every hop due by t happens, in order
///     while let Some(d) = net.poll_receive() { machine_of(d.host).handle_input(t, d) }
///     your machines' handle_timeout(t)
/// }
/// ```
///
/// - **Time only moves in [`Network::advance`]**, never backwards (debug-asserted; a
///   release build treats an earlier time as `now()`). Nothing is delivered in between:
///   even over zero-delay links a datagram sent at `now()` is delivered by the next
///   `advance` (to `now()` or later), and [`Network::poll_timeout`] then says `now()`.
/// - **Every datagram moves hop by hop**: the sender's link, the NAT (if any), the NAT's
///   uplink, the destination's link. Each hop is an event keyed by (time, sequence); ties
///   go in the order they were scheduled, so a run is a pure function of the seed and the
///   calls made.
/// - **Randomness comes only from the seeded ChaCha8 RNG**, drawn in event order; the
///   crate never reads a clock. Same seed, same calls: the same deliveries, byte for byte
///   and nanosecond for nanosecond. Print [`Network::seed`] when a test fails.
/// - **Receiving needs no bind**: anything that reaches one of a host's addresses is
///   delivered, whatever the port.
/// - **Every address is unique in the network**, private ones included: [`Network::send`]
///   finds the sending host by its source IP. Adding an address twice panics.
/// - [`Network::poll_timeout`] never returns a time before `now()`. Besides datagrams in
///   flight it reports TURN allocation expiries, so a drain loop
///   `while let Some(t) = net.poll_timeout() { net.advance(t) }` with a live allocation
///   runs on to its expiry: take the minimum with your own machines' timers, or step by a
///   fixed amount.
/// - Changing a link ([`Network::set_link`], [`Network::set_nat_link`]) affects datagrams
///   that start crossing it afterwards, not those already on it.
#[derive(Debug)]
pub struct Network {
    seed: u64,
    start: Instant,
    now: Instant,
    rng: ChaCha8Rng,
    hosts: Vec<Host>,
    nats: Vec<Nat>,
    stun_servers: Vec<StunServer>,
    turn_servers: Vec<TurnServer>,
    /// Every host address, private ones included.
    host_by_ip: BTreeMap<IpAddr, HostId>,
    nat_by_ip: BTreeMap<IpAddr, NatId>,
    queue: BinaryHeap<Reverse<Event>>,
    seq: u64,
    /// When each rate-limited link direction is free again (its queue drains).
    busy_until: HashMap<(LinkOf, bool), Instant>,
    received: VecDeque<Datagram>,
    stats: Stats,
    pcap: Option<Capture>,
}

impl Network {
    /// An empty network whose clock reads `start` and whose RNG is seeded with `seed`.
    pub fn new(seed: u64, start: Instant) -> Self {
        Network {
            seed,
            start,
            now: start,
            rng: ChaCha8Rng::seed_from_u64(seed),
            hosts: Vec::new(),
            nats: Vec::new(),
            stun_servers: Vec::new(),
            turn_servers: Vec::new(),
            host_by_ip: BTreeMap::new(),
            nat_by_ip: BTreeMap::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            busy_until: HashMap::new(),
            received: VecDeque::new(),
            stats: Stats::default(),
            pcap: None,
        }
    }

    // --- getters ---------------------------------------------------------------------------

    /// The seed the network was made with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The virtual clock.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The time the network started at.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// What happened to the datagrams so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// A host's addresses, in the order they were added.
    ///
    /// # Panics
    /// If `host` is not a host of this network.
    pub fn host_addresses(&self, host: HostId) -> &[IpAddr] {
        &self.host(host).addresses
    }

    /// The NAT a host sits behind, if any.
    ///
    /// # Panics
    /// If `host` is not a host of this network.
    pub fn host_nat(&self, host: HostId) -> Option<NatId> {
        self.host(host).behind
    }

    /// A NAT's public address.
    ///
    /// # Panics
    /// If `nat` is not a NAT of this network.
    pub fn nat_public_ip(&self, nat: NatId) -> IpAddr {
        self.nat(nat).public_ip
    }

    /// A NAT's live mappings at `now()`: (internal address, external address), by
    /// external port.
    ///
    /// # Panics
    /// If `nat` is not a NAT of this network.
    pub fn nat_mappings(&self, nat: NatId) -> Vec<(SocketAddr, SocketAddr)> {
        self.nat(nat).mappings(self.now)
    }

    /// A TURN server's live allocations at `now()`: (client address as the server sees
    /// it, relayed address).
    ///
    /// # Panics
    /// If no TURN server listens on `server`.
    pub fn turn_allocations(&self, server: SocketAddr) -> Vec<(SocketAddr, SocketAddr)> {
        self.turn(server).allocations(self.now)
    }

    /// Hops scheduled and not yet due: datagrams in flight (a duplicate counts twice).
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    fn host(&self, host: HostId) -> &Host {
        self.hosts
            .get(host.0)
            .unwrap_or_else(|| panic!("{host:?} is not a host of this network"))
    }

    fn nat(&self, nat: NatId) -> &Nat {
        self.nats
            .get(nat.0)
            .unwrap_or_else(|| panic!("{nat:?} is not a NAT of this network"))
    }

    fn turn(&self, server: SocketAddr) -> &TurnServer {
        self.turn_servers
            .iter()
            .find(|s| s.addr == server)
            .unwrap_or_else(|| panic!("no TURN server listens on {server}"))
    }

    // --- building the topology -------------------------------------------------------------

    /// Whether a server listens on `ip` or relays on it.
    fn server_ip(&self, ip: IpAddr) -> bool {
        self.stun_servers.iter().any(|s| s.addr.ip() == ip)
            || self
                .turn_servers
                .iter()
                .any(|s| s.addr.ip() == ip || s.relay_ip == ip)
    }

    fn assert_ip_free(&self, ip: IpAddr) {
        assert!(
            !self.host_by_ip.contains_key(&ip)
                && !self.nat_by_ip.contains_key(&ip)
                && !self.server_ip(ip),
            "{ip} is already in use in this network"
        );
    }

    fn assert_server_addr_free(&self, addr: SocketAddr) {
        let ip = addr.ip();
        assert!(
            !self.host_by_ip.contains_key(&ip) && !self.nat_by_ip.contains_key(&ip),
            "{ip} belongs to a host or a NAT"
        );
        assert!(
            !self.stun_servers.iter().any(|s| s.addr == addr)
                && !self.turn_servers.iter().any(|s| s.addr == addr),
            "a server already listens on {addr}"
        );
        assert!(
            !self
                .turn_servers
                .iter()
                .any(|s| s.relay_ip == ip && s.addr.ip() != ip),
            "{ip} is another TURN server's relay address"
        );
    }

    /// A host directly on the public network with this address, joined by `link`.
    ///
    /// # Panics
    /// If `ip` is already in use.
    pub fn add_host(&mut self, ip: IpAddr, link: LinkConfig) -> HostId {
        self.assert_ip_free(ip);
        let id = HostId(self.hosts.len());
        self.hosts.push(Host {
            addresses: vec![ip],
            link,
            behind: None,
        });
        self.host_by_ip.insert(ip, id);
        id
    }

    /// A NAT box whose public side has `public_ip`, joined to the public network by
    /// `link`. It translates traffic of `public_ip`'s family; its hosts' addresses of the
    /// other family are routed through it unchanged and unfiltered (a dual-stack home
    /// router: NAT44 and global IPv6).
    ///
    /// # Panics
    /// If `public_ip` is already in use.
    pub fn add_nat(&mut self, public_ip: IpAddr, config: NatConfig, link: LinkConfig) -> NatId {
        self.assert_ip_free(public_ip);
        let id = NatId(self.nats.len());
        self.nats.push(Nat::new(public_ip, config, link));
        self.nat_by_ip.insert(public_ip, id);
        id
    }

    /// A host on the private side of `nat` with address `private_ip`, joined to the NAT by
    /// `link`. It reaches other hosts behind the same NAT directly by their private
    /// addresses.
    ///
    /// # Panics
    /// If `nat` is not a NAT of this network or `private_ip` is already in use (private
    /// addresses are unique across the whole network too).
    pub fn add_host_behind(&mut self, nat: NatId, private_ip: IpAddr, link: LinkConfig) -> HostId {
        let _ = self.nat(nat);
        self.assert_ip_free(private_ip);
        let id = HostId(self.hosts.len());
        self.hosts.push(Host {
            addresses: vec![private_ip],
            link,
            behind: Some(nat),
        });
        if let Some(n) = self.nats.get_mut(nat.0) {
            n.hosts.push(id);
        }
        self.host_by_ip.insert(private_ip, id);
        id
    }

    /// Gives an existing host a further address on the same attachment and link
    /// (multi-homed; e.g. an IPv6 address). Behind a NAT, an address of the NAT's family is
    /// private like the first; one of the other family is global, routed through the NAT
    /// unchanged.
    ///
    /// # Panics
    /// If `host` is not a host of this network or `ip` is already in use.
    pub fn add_address(&mut self, host: HostId, ip: IpAddr) {
        let _ = self.host(host);
        self.assert_ip_free(ip);
        if let Some(h) = self.hosts.get_mut(host.0) {
            h.addresses.push(ip);
        }
        self.host_by_ip.insert(ip, host);
    }

    /// A STUN server (RFC 8489) on the public network at `addr`: it answers Binding
    /// requests with XOR-MAPPED-ADDRESS set to the source it sees (then SOFTWARE and
    /// FINGERPRINT). Several servers may share an IP on different ports.
    ///
    /// # Panics
    /// If `addr`'s IP belongs to a host or a NAT, or a server already listens on `addr`.
    pub fn add_stun_server(&mut self, addr: SocketAddr, link: LinkConfig) {
        self.assert_server_addr_free(addr);
        for t in &mut self.turn_servers {
            if t.relay_ip == addr.ip() {
                t.reserve_port(addr.port());
            }
        }
        self.stun_servers.push(StunServer { addr, link });
    }

    /// A TURN server (RFC 8656) over UDP on the public network at `addr`, with long-term
    /// credentials (RFC 8489 §9.2, MD5 key) for `users` (username, password) in `realm`,
    /// relaying on `relay_ip` (which may be `addr`'s IP) with a distinct port per
    /// allocation from 49152 up. It also answers Binding requests.
    ///
    /// ```text
    /// client                           server                                  peer
    ///   Allocate -------------------->  401 (REALM, NONCE)
    ///   Allocate + MESSAGE-INTEGRITY ->  XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS, LIFETIME
    ///   CreatePermission(peer) ------->  permission for the peer's IP, 300 s (RFC 8656 §9)
    ///   Send(peer, DATA) ------------->  UDP from the relayed address ------------> peer
    ///   <--------- Data(peer, DATA) <--  UDP to the relayed address <------------- peer
    ///   ChannelBind(0x4000, peer) ---->  channel for 10 min + permission (RFC 8656 §12)
    ///   ChannelData(0x4000) ---------->  UDP from the relayed address ------------> peer
    ///   <------ ChannelData(0x4000) <--  UDP to the relayed address <------------- peer
    ///   Refresh(LIFETIME 0) ---------->  allocation deleted (RFC 8656 §7.3)
    /// ```
    ///
    /// - Every request but Binding is authenticated (RFC 8489 §9.2.4): without
    ///   MESSAGE-INTEGRITY, 401 with REALM and a fresh NONCE; an unknown user or a wrong key,
    ///   401; MESSAGE-INTEGRITY without USERNAME, REALM or NONCE, 400; a nonce older than
    ///   [`Network::set_turn_nonce_lifetime`] (default [`DEFAULT_NONCE_LIFETIME`]) or never
    ///   issued, 438 with a fresh one. Other responses to authenticated requests carry
    ///   MESSAGE-INTEGRITY; every response carries FINGERPRINT.
    /// - Allocate: 437 if the client's 5-tuple has an allocation (a retransmission with
    ///   the same transaction ID gets the same success instead), 400 without
    ///   REQUESTED-TRANSPORT, 442 unless it is UDP, 440 for a REQUESTED-ADDRESS-FAMILY
    ///   other than the relay's. Lifetimes: the requested one clamped to
    ///   [`MAX_ALLOCATION_LIFETIME`] and raised to [`DEFAULT_ALLOCATION_LIFETIME`]; Refresh
    ///   alike, LIFETIME 0 deletes. Requests on another user's allocation: 441.
    /// - CreatePermission takes every XOR-PEER-ADDRESS (443 for the other family);
    ///   permissions last [`PERMISSION_LIFETIME`] and are per IP. ChannelBind: 400 for a
    ///   number outside 0x4000..=0x4FFF, a channel bound to another peer or a peer bound
    ///   to another channel; channels last [`CHANNEL_LIFETIME`].
    /// - Relaying: a Send indication or ChannelData goes to the peer only with a live
    ///   permission (else counted in `turn_relay_denied`); peer traffic reaches the client
    ///   only from a permitted IP, as ChannelData when a channel is bound to that exact
    ///   address, else as a Data indication.
    /// - Allocations expire at their lifetime on the virtual clock (a timer in
    ///   [`Network::poll_timeout`]); permissions and channels when next used.
    /// - Not modelled: EVEN-PORT and RESERVATION-TOKEN (ignored), DONT-FRAGMENT (ignored),
    ///   dual-stack allocations, PASSWORD-ALGORITHMS and USERHASH (the NONCE has no
    ///   cookie, so clients use MD5), TCP/TLS, quotas, the channel-number quarantine.
    ///
    /// # Panics
    /// If `addr`'s or `relay_ip`'s IP belongs to a host or a NAT, a server already listens
    /// on `addr`, or `relay_ip` is some other server's address.
    pub fn add_turn_server(
        &mut self,
        addr: SocketAddr,
        relay_ip: IpAddr,
        realm: &str,
        users: &[(&str, &str)],
        link: LinkConfig,
    ) {
        self.assert_server_addr_free(addr);
        if relay_ip != addr.ip() {
            self.assert_ip_free(relay_ip);
        }
        let salt = self.turn_servers.len() as u64;
        let mut server = TurnServer::new(addr, relay_ip, realm, users, link, salt);
        for s in &self.stun_servers {
            if s.addr.ip() == relay_ip {
                server.reserve_port(s.addr.port());
            }
        }
        for t in &self.turn_servers {
            if t.addr.ip() == relay_ip {
                server.reserve_port(t.addr.port());
            }
        }
        self.turn_servers.push(server);
    }

    /// How long a TURN server's NONCEs stay valid (default 1 hour): a request with an
    /// older nonce gets 438 (Stale Nonce) and a fresh one (RFC 8489 §9.2.4).
    ///
    /// # Panics
    /// If no TURN server listens on `server`.
    pub fn set_turn_nonce_lifetime(&mut self, server: SocketAddr, lifetime: Duration) {
        self.turn_servers
            .iter_mut()
            .find(|s| s.addr == server)
            .unwrap_or_else(|| panic!("no TURN server listens on {server}"))
            .set_nonce_lifetime(lifetime);
    }

    /// Changes a host's access link from now on (both directions). Datagrams already on
    /// the link keep the fate they drew. [`LinkConfig::down`] cuts the host off.
    ///
    /// # Panics
    /// If `host` is not a host of this network.
    pub fn set_link(&mut self, host: HostId, link: LinkConfig) {
        let h = self
            .hosts
            .get_mut(host.0)
            .unwrap_or_else(|| panic!("{host:?} is not a host of this network"));
        h.link = link;
    }

    /// Changes a NAT's uplink from now on, as [`Network::set_link`] does for a host.
    ///
    /// # Panics
    /// If `nat` is not a NAT of this network.
    pub fn set_nat_link(&mut self, nat: NatId, link: LinkConfig) {
        let n = self
            .nats
            .get_mut(nat.0)
            .unwrap_or_else(|| panic!("{nat:?} is not a NAT of this network"));
        n.link = link;
    }

    /// Changes a NAT's configuration from now on (existing mappings are kept and judged by
    /// the new rules).
    ///
    /// # Panics
    /// If `nat` is not a NAT of this network.
    pub fn set_nat_config(&mut self, nat: NatId, config: NatConfig) {
        let n = self
            .nats
            .get_mut(nat.0)
            .unwrap_or_else(|| panic!("{nat:?} is not a NAT of this network"));
        n.config = config;
    }

    // --- capture ---------------------------------------------------------------------------

    /// Starts capturing every datagram as it crosses the public network (addresses after
    /// NAT), from now on.
    pub fn enable_pcap(&mut self) {
        if self.pcap.is_none() {
            self.pcap = Some(Capture::default());
        }
    }

    /// The capture as a pcap file (LINKTYPE_RAW, IPv4 or IPv6 + UDP, microsecond
    /// timestamps from the virtual clock counted from the network's start). Empty (no
    /// header either) when capture was never enabled.
    pub fn pcap_bytes(&self) -> Vec<u8> {
        self.pcap.as_ref().map(Capture::bytes).unwrap_or_default()
    }

    /// Records captured so far.
    pub fn pcap_record_count(&self) -> usize {
        self.pcap.as_ref().map_or(0, Capture::count)
    }

    // --- driving ---------------------------------------------------------------------------

    /// A host sends a UDP datagram at `now()` from one of its own addresses (`src`, any
    /// port) to `dst`. A datagram whose source and destination families differ is dropped
    /// as `dropped_no_route`.
    ///
    /// # Panics
    /// If no host has `src`'s IP address (the caller sent from an address it does not
    /// own: a bug in the test or the state machine).
    pub fn send(&mut self, src: SocketAddr, dst: SocketAddr, bytes: &[u8]) {
        let Some(&host) = self.host_by_ip.get(&src.ip()) else {
            panic!("send from {src}: no host of this network has that address");
        };
        self.stats.sent += 1;
        if src.is_ipv4() != dst.is_ipv4() {
            self.stats.dropped_no_route += 1;
            return;
        }
        let packet = Packet {
            src,
            dst,
            bytes: bytes.to_vec(),
        };
        self.cross(LinkOf::Host(host), self.now, Hop::FromHost(host), packet);
    }

    /// The earliest time something is due: a hop of a datagram in flight, or a TURN
    /// allocation expiring. Never before `now()`. `None` when the network is idle.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let event = self.queue.peek().map(|Reverse(e)| e.at);
        [event, self.server_timeout()]
            .into_iter()
            .flatten()
            .min()
            .map(|t| t.max(self.now))
    }

    fn server_timeout(&self) -> Option<Instant> {
        self.turn_servers
            .iter()
            .filter_map(TurnServer::poll_timeout)
            .min()
    }

    /// Moves the clock to `t`, processing every hop and server timer due by then in time
    /// order (ties in the order they were scheduled; a server timer before a hop at the
    /// same instant). Hops scheduled while processing are processed too if due by `t`.
    pub fn advance(&mut self, t: Instant) {
        debug_assert!(
            t >= self.now,
            "Network::advance: time moves forward only ({t:?} < {:?})",
            self.now
        );
        let t = t.max(self.now);
        // Server timers handled up to this instant; one that does not move past it is not
        // handled again (a guard against a timer that fails to make progress).
        let mut timers_done: Option<Instant> = None;
        loop {
            let event = self
                .queue
                .peek()
                .map(|Reverse(e)| e.at)
                .filter(|at| *at <= t);
            let timer = self
                .server_timeout()
                .filter(|at| *at <= t && timers_done.is_none_or(|done| *at > done));
            match (event, timer) {
                (_, Some(timer)) if event.is_none_or(|e| timer <= e) => {
                    self.now = self.now.max(timer);
                    timers_done = Some(timer);
                    let now = self.now;
                    for s in &mut self.turn_servers {
                        s.handle_timeout(now);
                    }
                }
                (Some(_), _) => {
                    let Some(Reverse(ev)) = self.queue.pop() else {
                        break;
                    };
                    self.now = self.now.max(ev.at);
                    self.process(ev.hop, ev.packet);
                }
                _ => break,
            }
        }
        self.now = t;
    }

    /// The next datagram delivered to a host, in delivery order.
    pub fn poll_receive(&mut self) -> Option<Datagram> {
        self.received.pop_front()
    }

    // --- the hops --------------------------------------------------------------------------

    fn link(&self, of: LinkOf) -> LinkConfig {
        match of {
            LinkOf::Host(h) => self.host(h).link.clone(),
            LinkOf::Nat(n) => self.nat(n).link.clone(),
            LinkOf::Stun(i) => self
                .stun_servers
                .get(i)
                .map(|s| s.link.clone())
                .unwrap_or_default(),
            LinkOf::Turn(i) => self
                .turn_servers
                .get(i)
                .map(|s| s.link.clone())
                .unwrap_or_default(),
        }
    }

    fn schedule(&mut self, at: Instant, hop: Hop, packet: Packet) {
        self.seq += 1;
        self.queue.push(Reverse(Event {
            at,
            seq: self.seq,
            hop,
            packet,
        }));
    }

    /// Sends `packet` over one direction of a link starting at `at`; `next` happens at the
    /// far end.
    fn cross(&mut self, of: LinkOf, at: Instant, next: Hop, packet: Packet) {
        let config = self.link(of);
        let len = link::ip_len(packet.src, packet.bytes.len());
        match link::cross(&config, &mut self.rng, len) {
            Crossing::TooBig => self.stats.dropped_mtu += 1,
            Crossing::Lost => self.stats.lost += 1,
            Crossing::Arrives(mut delay, mut duplicate) => {
                if config.rate > 0 {
                    // Outbound: towards the public side; inbound: towards a host or server.
                    let outbound = matches!(next, Hop::FromHost(_) | Hop::Public);
                    let free = self.busy_until.entry((of, outbound)).or_insert(at);
                    let start = (*free).max(at);
                    let waiting = link::bytes_in(start.saturating_duration_since(at), config.rate);
                    if waiting.saturating_add(len) > config.queue {
                        self.stats.dropped_queue += 1;
                        return;
                    }
                    let done = start + link::serialization(len, config.rate);
                    *free = done;
                    let queued = done.saturating_duration_since(at);
                    delay += queued;
                    duplicate = duplicate.map(|d| d + queued);
                }
                if let Some(dup) = duplicate {
                    self.stats.duplicated += 1;
                    self.schedule(at + delay, next, packet.clone());
                    self.schedule(at + dup, next, packet);
                } else {
                    self.schedule(at + delay, next, packet);
                }
            }
        }
    }

    fn process(&mut self, hop: Hop, packet: Packet) {
        match hop {
            Hop::FromHost(h) => match self.host(h).behind {
                None => self.on_public(packet),
                Some(nat) => self.on_private(nat, packet),
            },
            Hop::Public => self.on_public(packet),
            Hop::ToNat(nat) => self.nat_inbound(nat, packet),
            Hop::ThroughNat(h) => self.cross(LinkOf::Host(h), self.now, Hop::ToHost(h), packet),
            Hop::ToHost(h) => {
                self.stats.delivered += 1;
                self.received.push_back(Datagram {
                    host: h,
                    src: packet.src,
                    dst: packet.dst,
                    bytes: packet.bytes,
                });
            }
            Hop::ToStun(i) => {
                let mut out = Vec::new();
                if let Some(s) = self.stun_servers.get_mut(i) {
                    s.handle(packet.src, &packet.bytes, &mut self.stats, &mut out);
                }
                self.emit(LinkOf::Stun(i), out);
            }
            Hop::ToTurn(i) => {
                let mut out = Vec::new();
                if let Some(s) = self.turn_servers.get_mut(i) {
                    let stats = &mut self.stats;
                    s.handle_client(self.now, packet.src, &packet.bytes, stats, &mut out);
                }
                self.emit(LinkOf::Turn(i), out);
            }
            Hop::ToRelay(i) => {
                let mut out = Vec::new();
                if let Some(s) = self.turn_servers.get_mut(i) {
                    let (now, port) = (self.now, packet.dst.port());
                    s.handle_peer(
                        now,
                        packet.src,
                        port,
                        &packet.bytes,
                        &mut self.stats,
                        &mut out,
                    );
                }
                self.emit(LinkOf::Turn(i), out);
            }
        }
    }

    /// What a server sent: out over its link onto the public network.
    fn emit(&mut self, of: LinkOf, out: Vec<Emit>) {
        for e in out {
            let packet = Packet {
                src: e.src,
                dst: e.dst,
                bytes: e.bytes,
            };
            self.cross(of, self.now, Hop::Public, packet);
        }
    }

    /// What a destination on the public network is.
    fn route_public(&self, dst: SocketAddr) -> Option<Public> {
        if let Some(i) = self.stun_servers.iter().position(|s| s.addr == dst) {
            return Some(Public::Stun(i));
        }
        if let Some(i) = self.turn_servers.iter().position(|s| s.addr == dst) {
            return Some(Public::Turn(i));
        }
        if let Some(i) = self
            .turn_servers
            .iter()
            .position(|s| s.relay_ip == dst.ip() && s.owns_relay_port(self.now, dst.port()))
        {
            return Some(Public::Relay(i));
        }
        if let Some(&nat) = self.nat_by_ip.get(&dst.ip()) {
            return Some(Public::Nat(nat));
        }
        let &h = self.host_by_ip.get(&dst.ip())?;
        match self.host(h).behind {
            None => Some(Public::Host(h)),
            // An address of the other family than the NAT's is global, routed through.
            Some(nat) if !self.nat(nat).translates(dst.ip()) => Some(Public::ThroughNat(nat, h)),
            // A private address is not reachable from the public network.
            Some(_) => None,
        }
    }

    /// A datagram on the public network: captured, then sent on to its destination.
    fn on_public(&mut self, packet: Packet) {
        if let Some(pcap) = &mut self.pcap {
            let since = self.now.saturating_duration_since(self.start);
            pcap.record(since, packet.src, packet.dst, &packet.bytes);
        }
        if packet.src.is_ipv4() != packet.dst.is_ipv4() {
            self.stats.dropped_no_route += 1;
            return;
        }
        let now = self.now;
        match self.route_public(packet.dst) {
            Some(Public::Host(h)) => self.cross(LinkOf::Host(h), now, Hop::ToHost(h), packet),
            Some(Public::ThroughNat(nat, h)) => {
                self.cross(LinkOf::Nat(nat), now, Hop::ThroughNat(h), packet)
            }
            Some(Public::Nat(nat)) => self.cross(LinkOf::Nat(nat), now, Hop::ToNat(nat), packet),
            Some(Public::Stun(i)) => self.cross(LinkOf::Stun(i), now, Hop::ToStun(i), packet),
            Some(Public::Turn(i)) => self.cross(LinkOf::Turn(i), now, Hop::ToTurn(i), packet),
            Some(Public::Relay(i)) => self.cross(LinkOf::Turn(i), now, Hop::ToRelay(i), packet),
            None => self.stats.dropped_no_route += 1,
        }
    }

    /// A datagram from a host behind `nat` at the NAT's private side: to a neighbour
    /// directly, hairpinned (RFC 4787 §6), routed through untranslated (the other family),
    /// or translated (RFC 4787 §4) and sent up the uplink.
    fn on_private(&mut self, nat: NatId, mut packet: Packet) {
        let now = self.now;
        // The same private network: straight to the neighbour's link.
        if let Some(&h) = self.host_by_ip.get(&packet.dst.ip()) {
            if self.host(h).behind == Some(nat) {
                self.cross(LinkOf::Host(h), now, Hop::ToHost(h), packet);
                return;
            }
        }
        let Some(n) = self.nats.get_mut(nat.0) else {
            return;
        };
        if !n.translates(packet.src.ip()) {
            self.cross(LinkOf::Nat(nat), now, Hop::Public, packet);
            return;
        }
        let hairpin = packet.dst.ip() == n.public_ip;
        if hairpin && !n.config.hairpin {
            self.stats.dropped_hairpin += 1;
            return;
        }
        let Some(external) = n.outbound(now, packet.src, packet.dst, &mut self.rng) else {
            self.stats.dropped_no_route += 1;
            return;
        };
        if hairpin {
            // RFC 4787 §6: hairpinning. The packet turns around inside the NAT with the
            // sender's external mapping as its source (REQ-9b), and meets the destination
            // mapping's filter as if it came from outside.
            match n.inbound(now, packet.dst.port(), external) {
                Ok(internal) => {
                    packet.src = external;
                    packet.dst = internal;
                    self.deliver_inside(packet);
                }
                Err(_) => self.stats.dropped_nat_filter += 1,
            }
            return;
        }
        packet.src = external;
        self.cross(LinkOf::Nat(nat), now, Hop::Public, packet);
    }

    /// A datagram at a NAT's public side: filtered (RFC 4787 §5), translated and sent down
    /// to the internal host.
    fn nat_inbound(&mut self, nat: NatId, mut packet: Packet) {
        let now = self.now;
        let Some(n) = self.nats.get_mut(nat.0) else {
            return;
        };
        match n.inbound(now, packet.dst.port(), packet.src) {
            Ok(internal) => {
                packet.dst = internal;
                self.deliver_inside(packet);
            }
            Err(_) => self.stats.dropped_nat_filter += 1,
        }
    }

    /// Down the link of the host that owns `packet.dst`.
    fn deliver_inside(&mut self, packet: Packet) {
        match self.host_by_ip.get(&packet.dst.ip()) {
            Some(&h) => self.cross(LinkOf::Host(h), self.now, Hop::ToHost(h), packet),
            None => self.stats.dropped_no_route += 1,
        }
    }
}
