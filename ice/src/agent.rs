//! The ICE agent (RFC 8445): candidates, the check list, nomination, consent, restart.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use weft_stun::attr::{
    ErrorCode, IceControlled, IceControlling, Priority, UseCandidate, Username, XorMappedAddress,
};
use weft_stun::demux::{classify, PacketKind};
use weft_stun::{
    Class, ClientTransactions, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    TransactionEvent, TransactionId,
};

use crate::candidate::{local_preference, pair_priority, priority, Candidate, CandidateKind};
use crate::config::{AgentConfig, CandidatePolicy, Credentials, Role};
use crate::event::{
    ConnectionState, DropReason, Event, GatheringState, Output, Received, StateReason, Stats,
    Transmit,
};
use crate::turn::{AllocState, Allocation, TurnOutcome, TurnRequest};

/// Pair states (RFC 8445 §6.1.2.6).
///
/// ```text
///            +-----------+
///            |  Frozen   |---(foundation unfrozen / triggered)--+
///            +-----------+                                      v
///                                                        +-----------+
///            +---------------(check sent)----------------|  Waiting  |
///            v                                           +-----------+
///     +-------------+   success    +-----------+
///     | In-Progress |------------->| Succeeded |
///     +-------------+              +-----------+
///            |  failure / timeout  +-----------+
///            +-------------------->|  Failed   |--(triggered check)--> Waiting
///                                  +-----------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairState {
    /// Waits for a pair of its foundation to succeed (RFC 8445 §6.1.2.6).
    Frozen,
    /// Ready for a check.
    Waiting,
    /// A check is in flight.
    InProgress,
    /// A check succeeded.
    Succeeded,
    /// A check failed or timed out.
    Failed,
}

/// A candidate pair as the agent reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairInfo {
    /// Our candidate.
    pub local: Candidate,
    /// Theirs.
    pub remote: Candidate,
    /// RFC 8445 §6.1.2.3.
    pub priority: u64,
    /// Its state.
    pub state: PairState,
    /// In the valid list (RFC 8445 §7.2.5.3.2).
    pub valid: bool,
    /// Nominated (RFC 8445 §8.1.1).
    pub nominated: bool,
}

type Id = u32;

#[derive(Debug, Clone)]
struct Local {
    id: Id,
    cand: Candidate,
    /// The host address datagrams leave from.
    socket: SocketAddr,
    /// The allocation, for a relayed candidate.
    relay: Option<usize>,
    /// Paired with remote candidates (host and relayed ones; server-reflexive ones are
    /// replaced by their base, RFC 8445 §6.1.2.4, and peer-reflexive ones only appear in
    /// valid pairs).
    pairable: bool,
}

#[derive(Debug, Clone)]
struct Remote {
    id: Id,
    cand: Candidate,
    generation: u32,
}

#[derive(Debug, Clone)]
struct Pair {
    id: Id,
    local: Id,
    remote: Id,
    priority: u64,
    state: PairState,
    foundation: (String, String),
    /// In the check list (a valid pair built from a peer-reflexive local is not).
    checked: bool,
    valid: bool,
    nominated: bool,
    /// Controlled: USE-CANDIDATE arrived before the pair succeeded (RFC 8445 §7.3.1.5).
    nominate_on_success: bool,
    /// Controlling: the next check of this pair carries USE-CANDIDATE.
    nominate_next: bool,
    /// The remote sent us an authenticated check over this pair.
    requested: bool,
    in_flight: Option<TransactionId>,
    /// Last authenticated response (or, for a lite agent, request) on this pair.
    last_response: Option<Instant>,
    generation: u32,
    /// Controlling: the pair lost consent while selected, or a nomination over it went
    /// unanswered; not nominated again until a check over it succeeds.
    stale: bool,
}

/// The path a datagram came in on or goes out by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Path {
    socket: SocketAddr,
    relay: Option<usize>,
    /// The local transport address the remote sees: the host address, or the relayed one.
    local_addr: SocketAddr,
}

#[derive(Debug, Clone, Copy)]
enum Purpose {
    Check {
        pair: Id,
        use_candidate: bool,
        consent: bool,
        path: Path,
        remote: SocketAddr,
    },
    Gather {
        socket: SocketAddr,
    },
    Turn {
        alloc: usize,
        req: TurnRequest,
    },
}

#[derive(Debug, Clone)]
struct Creds {
    generation: u32,
    creds: Credentials,
    key: IntegrityKey,
}

impl Creds {
    fn new(generation: u32, creds: Credentials) -> Self {
        let key = IntegrityKey::new(creds.pwd.as_bytes());
        Creds {
            generation,
            creds,
            key,
        }
    }
}

/// A sans-IO ICE agent (RFC 8445) for one component over UDP.
///
/// # Calling contract
/// - **Set up**: [`Agent::new`] with a config and a seed (from the OS in production, fixed
///   in tests); [`add_host_address`](Self::add_host_address) for each local socket the
///   driver opened (this also starts STUN and TURN gathering from it);
///   [`set_remote_credentials`](Self::set_remote_credentials),
///   [`add_remote_candidate`](Self::add_remote_candidate) and
///   [`end_of_remote_candidates`](Self::end_of_remote_candidates) as signalling delivers
///   them, in any order (trickle, RFC 8838).
/// - **Input**: every datagram received on those sockets goes to
///   [`handle_receive`](Self::handle_receive), which says whether it was ICE's own (STUN,
///   TURN) or application data to pass up; [`handle_timeout`](Self::handle_timeout) when
///   the clock reaches [`poll_timeout`](Self::poll_timeout);
///   [`send`](Self::send) application data over the selected pair.
/// - **Output**, after every input: drain [`poll_output`](Self::poll_output) (transmits
///   and events, in order), then ask [`poll_timeout`](Self::poll_timeout).
/// - `now` is the caller's clock and never goes backwards; the agent reads no clock, opens
///   no socket, and draws randomness only from its seeded RNG.
/// - Never: a panic on any datagram; more response bytes than request bytes for a request
///   that failed authentication (none are sent); remote candidates or pairs beyond the
///   configured limits.
pub struct Agent {
    config: AgentConfig,
    rng: ChaCha20Rng,
    role: Role,
    tie_breaker: u64,
    /// Current local credentials, then the previous ones during a restart.
    local_creds: Vec<Creds>,
    /// Remote credentials by generation: the current, and the one of the selected pair
    /// while a restart is under way.
    remote_creds: Vec<Creds>,
    remote_generation: u32,
    remote_lite: bool,
    hosts: Vec<SocketAddr>,
    locals: Vec<Local>,
    remotes: Vec<Remote>,
    pairs: Vec<Pair>,
    next_id: Id,
    triggered: VecDeque<Id>,
    txns: ClientTransactions,
    purposes: Vec<(TransactionId, Purpose)>,
    allocs: Vec<Allocation>,
    foundations: Vec<(CandidateKind, IpAddr, Option<IpAddr>)>,
    gathering: GatheringState,
    state: ConnectionState,
    selected: Option<Id>,
    out: VecDeque<Output>,
    next_check: Option<Instant>,
    next_consent: Option<Instant>,
    first_valid_at: Option<Instant>,
    /// `nomination_delay` after the first valid pair; then `nomination_due`.
    nomination_timer: Option<Instant>,
    nomination_due: bool,
    remote_end_of_candidates: bool,
    /// Since when both sides have ended their candidates with no pair to check.
    no_pairs_since: Option<Instant>,
    stats: Stats,
    prflx_count: u32,
}

impl Agent {
    /// A new agent with random local credentials drawn from `seed`.
    pub fn new(config: AgentConfig, seed: [u8; 32]) -> Self {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let creds = Credentials::random(&mut || rng.next_u64());
        Self::with_credentials(config, creds, rng.next_u64().to_be_bytes())
    }

    /// A new agent with the given local credentials (`seed` for transaction IDs and the
    /// tie-breaker).
    pub fn with_credentials(config: AgentConfig, local: Credentials, seed: [u8; 8]) -> Self {
        let mut full = [0u8; 32];
        full[..8].copy_from_slice(&seed);
        full[8..16].copy_from_slice(local.ufrag.as_bytes().get(..8).unwrap_or(b"weft-ice"));
        let mut rng = ChaCha20Rng::from_seed(full);
        let role = if config.lite {
            Role::Controlled
        } else {
            config.role
        };
        let txns = ClientTransactions::new(config.transactions);
        Agent {
            tie_breaker: rng.next_u64(),
            rng,
            role,
            local_creds: vec![Creds::new(0, local)],
            remote_creds: Vec::new(),
            remote_generation: 0,
            remote_lite: false,
            hosts: Vec::new(),
            locals: Vec::new(),
            remotes: Vec::new(),
            pairs: Vec::new(),
            next_id: 1,
            triggered: VecDeque::new(),
            txns,
            purposes: Vec::new(),
            allocs: Vec::new(),
            foundations: Vec::new(),
            gathering: GatheringState::New,
            state: ConnectionState::New,
            selected: None,
            out: VecDeque::new(),
            next_check: None,
            next_consent: None,
            first_valid_at: None,
            nomination_timer: None,
            nomination_due: false,
            remote_end_of_candidates: false,
            no_pairs_since: None,
            stats: Stats::default(),
            prflx_count: 0,
            config,
        }
    }

    // --- getters -------------------------------------------------------------------------

    /// Our current credentials, to signal.
    pub fn local_credentials(&self) -> &Credentials {
        &self.local_creds[0].creds
    }

    /// The current role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The tie-breaker of role conflicts (RFC 8445 §7.3.1.1).
    pub fn tie_breaker(&self) -> u64 {
        self.tie_breaker
    }

    /// W3C `iceConnectionState`.
    pub fn connection_state(&self) -> ConnectionState {
        self.state
    }

    /// W3C `iceGatheringState`.
    pub fn gathering_state(&self) -> GatheringState {
        self.gathering
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Our candidates that are signalled (what the `LocalCandidate` events carried).
    pub fn local_candidates(&self) -> Vec<Candidate> {
        self.locals
            .iter()
            .filter(|l| self.signalled(l))
            .map(|l| l.cand.clone())
            .collect()
    }

    /// Every remote candidate of the current generation, peer-reflexive ones included.
    pub fn remote_candidates(&self) -> Vec<Candidate> {
        self.remotes
            .iter()
            .filter(|r| r.generation == self.remote_generation)
            .map(|r| r.cand.clone())
            .collect()
    }

    /// Every pair, check list and valid list, highest priority first.
    pub fn pairs(&self) -> Vec<PairInfo> {
        let mut v: Vec<PairInfo> = self.pairs.iter().filter_map(|p| self.info(p)).collect();
        v.sort_by_key(|p| std::cmp::Reverse(p.priority));
        v
    }

    /// The pair data goes over.
    pub fn selected_pair(&self) -> Option<PairInfo> {
        let p = self.pair(self.selected?)?;
        self.info(p)
    }

    fn info(&self, p: &Pair) -> Option<PairInfo> {
        Some(PairInfo {
            local: self.local(p.local)?.cand.clone(),
            remote: self.remote(p.remote)?.cand.clone(),
            priority: p.priority,
            state: p.state,
            valid: p.valid,
            nominated: p.nominated,
        })
    }

    fn signalled(&self, l: &Local) -> bool {
        match self.config.policy {
            _ if l.cand.kind == CandidateKind::PeerReflexive => false,
            CandidatePolicy::All => true,
            CandidatePolicy::Relay => l.cand.kind == CandidateKind::Relayed,
        }
    }

    fn local(&self, id: Id) -> Option<&Local> {
        self.locals.iter().find(|l| l.id == id)
    }

    fn remote(&self, id: Id) -> Option<&Remote> {
        self.remotes.iter().find(|r| r.id == id)
    }

    fn pair(&self, id: Id) -> Option<&Pair> {
        self.pairs.iter().find(|p| p.id == id)
    }

    fn pair_mut(&mut self, id: Id) -> Option<&mut Pair> {
        self.pairs.iter_mut().find(|p| p.id == id)
    }

    fn new_id(&mut self) -> Id {
        self.next_id += 1;
        self.next_id
    }

    fn txid(&mut self) -> TransactionId {
        let mut t = [0u8; 12];
        self.rng.fill_bytes(&mut t);
        TransactionId(t)
    }

    // --- set-up --------------------------------------------------------------------------

    /// A local socket the driver opened (RFC 8445 §5.1.1.1): a host candidate, and the
    /// start of server-reflexive and relayed gathering from it. Returns false for an
    /// address already known, or the unspecified address.
    pub fn add_host_address(&mut self, now: Instant, addr: SocketAddr) -> bool {
        if self.hosts.contains(&addr) || addr.ip().is_unspecified() || self.closed() {
            return false;
        }
        let index = self.hosts.len();
        self.hosts.push(addr);
        let lp = local_preference(addr.ip(), index);
        let cand = Candidate {
            kind: CandidateKind::Host,
            addr,
            base: addr,
            priority: priority(CandidateKind::Host.type_preference(), lp, 1),
            foundation: self.foundation(CandidateKind::Host, addr.ip(), None),
            component: 1,
            related: None,
        };
        self.add_local(now, cand, addr, None);
        if self.config.lite {
            self.after_input(now);
            return true;
        }
        let before = self.purposes.len();
        // RFC 8445 §5.1.1.2: a Binding request to each STUN server of the same family.
        for server in self.config.stun_servers.clone() {
            if server.is_ipv4() != addr.is_ipv4() {
                continue;
            }
            let txid = self.txid();
            let mut buf = [0u8; 64];
            let req = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, txid).and_then(
                |mut b| {
                    b.add_fingerprint()?;
                    Ok(b.finish().to_vec())
                },
            );
            if let Ok(req) = req {
                self.start_transaction(now, server, &req, Purpose::Gather { socket: addr });
            }
        }
        // RFC 8656 §7.1: an allocation on each TURN server of the same family.
        for server in self.config.turn_servers.clone() {
            if server.addr.is_ipv4() != addr.is_ipv4() {
                continue;
            }
            self.allocs.push(Allocation::new(
                server.addr,
                addr,
                &server.username,
                &server.password,
                self.config.turn_lifetime,
            ));
            let alloc = self.allocs.len() - 1;
            self.turn_request(now, alloc, TurnRequest::Allocate);
        }
        if self.purposes.len() > before {
            self.set_gathering(GatheringState::Gathering);
        }
        self.after_input(now);
        true
    }

    /// The remote's ufrag and password (RFC 8445 §5.3). A different ufrag than before is
    /// the remote's ICE restart (RFC 8445 §9): a new generation of remote candidates; the
    /// selected pair keeps carrying data until a pair of the new generation is nominated.
    pub fn set_remote_credentials(&mut self, now: Instant, creds: Credentials) {
        if let Some(cur) = self.remote_creds.first() {
            if cur.creds == creds {
                return;
            }
            if cur.creds.ufrag != creds.ufrag {
                self.remote_restart();
            }
        }
        let generation = self.remote_generation;
        self.remote_creds.retain(|c| c.generation != generation);
        self.remote_creds.insert(0, Creds::new(generation, creds));
        self.schedule_checks(now);
        self.after_input(now);
    }

    /// Whether the remote is ICE-lite (`a=ice-lite`); a full agent is then controlling
    /// (RFC 8445 §6.1.1).
    pub fn set_remote_lite(&mut self, lite: bool) {
        self.remote_lite = lite;
        if lite && !self.config.lite && self.role == Role::Controlled {
            self.set_role(Role::Controlling);
        }
    }

    /// A remote candidate from signalling (trickle: at any time). Candidates with a
    /// hostname (`.local`, RFC 8445 §5.1 via mDNS) are the caller's to resolve or drop;
    /// without resolution the path is found as a peer-reflexive candidate when the remote's
    /// checks arrive (RFC 8445 §7.3.1.3). Returns false when dropped (duplicate, limit,
    /// closed).
    pub fn add_remote_candidate(&mut self, now: Instant, cand: Candidate) -> bool {
        if self.closed() || cand.component != 1 || cand.addr.port() == 0 {
            return false;
        }
        let generation = self.remote_generation;
        if let Some(r) = self
            .remotes
            .iter_mut()
            .find(|r| r.generation == generation && r.cand.addr == cand.addr)
        {
            // RFC 8445 §7.3.1.3: a signalled candidate replaces the peer-reflexive one.
            if r.cand.kind == CandidateKind::PeerReflexive {
                r.cand.kind = cand.kind;
                r.cand.foundation = cand.foundation;
                r.cand.related = cand.related;
            }
            return false;
        }
        if self.remote_count() >= self.config.max_remote_candidates {
            self.stats.dropped_limit += 1;
            return false;
        }
        let id = self.new_id();
        self.remotes.push(Remote {
            id,
            cand,
            generation,
        });
        let locals: Vec<Id> = self
            .locals
            .iter()
            .filter(|l| l.pairable && self.usable_local(l))
            .map(|l| l.id)
            .collect();
        for l in locals {
            self.add_pair(now, l, id, false);
        }
        self.schedule_checks(now);
        self.after_input(now);
        true
    }

    /// The remote signalled end-of-candidates for the current generation (RFC 8838 §8.2).
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.remote_end_of_candidates = true;
        self.after_input(now);
    }

    /// ICE restart (RFC 8445 §9) from our side: new local credentials (random unless
    /// given), local candidates signalled again. The selected pair keeps carrying data, and
    /// checks with the previous credentials are still answered, until a pair of the new
    /// generation is nominated. Returns the new credentials to signal.
    pub fn restart(&mut self, now: Instant, creds: Option<Credentials>) -> Credentials {
        let creds = creds.unwrap_or_else(|| {
            let rng = &mut self.rng;
            Credentials::random(&mut || rng.next_u64())
        });
        let generation = self.local_creds.first().map_or(0, |c| c.generation) + 1;
        self.local_creds.truncate(1);
        self.local_creds
            .insert(0, Creds::new(generation, creds.clone()));
        let cands: Vec<Candidate> = self.local_candidates();
        for c in cands {
            self.event(Event::LocalCandidate(c));
        }
        if self.gathering == GatheringState::Complete {
            self.event(Event::GatheringState(GatheringState::Complete));
        }
        self.after_input(now);
        creds
    }

    /// Closes the agent: TURN allocations are deleted (RFC 8656 §8), nothing more is sent.
    pub fn close(&mut self, now: Instant) {
        if self.closed() {
            return;
        }
        for i in 0..self.allocs.len() {
            let Some(req) = self.allocs.get_mut(i).and_then(|a| a.close()) else {
                continue;
            };
            // Sent once, without retransmission: nobody waits for the answer.
            let txid = self.txid();
            if let Some(a) = self.allocs.get(i) {
                if let Ok(bytes) = a.build(req, txid) {
                    self.out.push_back(Output::Transmit(Transmit {
                        src: a.socket,
                        dst: a.server,
                        bytes,
                    }));
                }
            }
        }
        for (id, _) in std::mem::take(&mut self.purposes) {
            let _ = self.txns.cancel(id);
        }
        self.triggered.clear();
        self.next_check = None;
        self.next_consent = None;
        self.set_state(ConnectionState::Closed, StateReason::Closed);
        let _ = now;
    }

    fn closed(&self) -> bool {
        self.state == ConnectionState::Closed
    }

    // --- input ---------------------------------------------------------------------------

    /// A datagram that arrived on local socket `local` from `src`.
    pub fn handle_receive<'a>(
        &mut self,
        now: Instant,
        local: SocketAddr,
        src: SocketAddr,
        bytes: &'a [u8],
    ) -> Received<'a> {
        if self.closed() {
            return Received::Dropped(DropReason::Closed);
        }
        // From a TURN server on its socket: responses, Data indications, ChannelData.
        if let Some(alloc) = self
            .allocs
            .iter()
            .position(|a| a.server == src && a.socket == local)
        {
            if let Ok(msg) = Message::parse(bytes) {
                if matches!(msg.class(), Class::SuccessResponse | Class::ErrorResponse) {
                    let r = self.on_response(now, local, src, &msg);
                    self.after_input(now);
                    return r;
                }
            }
            let unwrapped = self.allocs.get(alloc).and_then(|a| {
                let relayed = a.relayed?;
                let (peer, data) = a.unwrap(bytes)?;
                Some((relayed, peer, data))
            });
            let Some((relayed, peer, data)) = unwrapped else {
                self.stats.dropped_malformed += 1;
                return Received::Dropped(DropReason::Malformed);
            };
            let path = Path {
                socket: local,
                relay: Some(alloc),
                local_addr: relayed,
            };
            let r = self.process(now, path, peer, data);
            self.after_input(now);
            return r;
        }
        let path = Path {
            socket: local,
            relay: None,
            local_addr: local,
        };
        let r = self.process(now, path, src, bytes);
        self.after_input(now);
        r
    }

    fn process<'a>(
        &mut self,
        now: Instant,
        path: Path,
        src: SocketAddr,
        bytes: &'a [u8],
    ) -> Received<'a> {
        if classify(bytes) != PacketKind::Stun {
            return self.data(now, path, src, bytes);
        }
        let Ok(msg) = Message::parse(bytes) else {
            // RFC 7983: a first byte of 0-3 that is not STUN is nothing we know.
            self.stats.dropped_malformed += 1;
            return Received::Dropped(DropReason::Malformed);
        };
        match msg.class() {
            Class::Request if msg.method() == Method::BINDING => {
                self.on_request(now, path, src, &msg)
            }
            Class::SuccessResponse | Class::ErrorResponse => {
                self.on_response(now, path.socket, src, &msg)
            }
            Class::Indication if msg.method() == Method::BINDING => Received::Handled,
            _ => {
                self.stats.dropped_malformed += 1;
                Received::Dropped(DropReason::Malformed)
            }
        }
    }

    fn data<'a>(
        &mut self,
        now: Instant,
        path: Path,
        src: SocketAddr,
        bytes: &'a [u8],
    ) -> Received<'a> {
        let _ = now;
        let known = self.pairs.iter().any(|p| {
            (p.valid || p.requested)
                && self.remote(p.remote).is_some_and(|r| r.cand.addr == src)
                && self.local(p.local).is_some_and(|l| {
                    l.relay == path.relay && (l.cand.base == path.local_addr)
                        || l.socket == path.socket && l.relay.is_none() && path.relay.is_none()
                })
        });
        if known {
            Received::Data {
                from: src,
                payload: bytes,
            }
        } else {
            self.stats.dropped_unknown_source += 1;
            Received::Dropped(DropReason::UnknownSource)
        }
    }

    /// The clock reached [`poll_timeout`](Self::poll_timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed() {
            return;
        }
        self.txns.handle_timeout(now);
        while let Some(ev) = self.txns.poll_event() {
            let TransactionEvent::TimedOut { id, .. } = ev else {
                continue;
            };
            self.stats.timeouts += 1;
            self.on_transaction_timeout(now, id);
        }
        // TURN refreshes.
        let mut due = Vec::new();
        for i in 0..self.allocs.len() {
            due.clear();
            if let Some(a) = self.allocs.get_mut(i) {
                a.due(now, &mut due);
            }
            for req in due.drain(..) {
                self.turn_request(now, i, req);
            }
        }
        // Ta pacing (RFC 8445 §6.1.4.2): one check per tick.
        if self.next_check.is_some_and(|t| t <= now) {
            self.next_check = None;
            if self.check_tick(now) {
                self.next_check = Some(now + self.config.ta);
            }
        }
        if self.nomination_timer.is_some_and(|t| t <= now) {
            self.nomination_timer = None;
            self.nomination_due = true;
        }
        // Consent (RFC 7675 §5.1).
        if self.next_consent.is_some_and(|t| t <= now) {
            self.next_consent = None;
            self.send_consent(now);
        }
        self.after_input(now);
    }

    /// Sends application data over the selected pair (through the relay when its local
    /// candidate is relayed). Errs when no pair is selected.
    pub fn send(&mut self, now: Instant, bytes: &[u8]) -> Result<(), NotConnected> {
        let p = self
            .selected
            .and_then(|id| self.pair(id))
            .ok_or(NotConnected)?;
        let (l, r) = (p.local, p.remote);
        let path = self.path_of(l).ok_or(NotConnected)?;
        let dst = self.remote(r).ok_or(NotConnected)?.cand.addr;
        self.transmit_via(now, path, dst, bytes.to_vec());
        Ok(())
    }

    // --- output --------------------------------------------------------------------------

    /// The next datagram to send or event to report.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed() {
            return None;
        }
        [
            self.txns.poll_timeout(),
            self.next_check,
            self.next_consent,
            self.allocs.iter().filter_map(|a| a.next_due()).min(),
            self.nomination_deadline(),
            self.consent_deadline(),
            self.no_pairs_since
                .filter(|_| self.state != ConnectionState::Failed && self.selected.is_none())
                .map(|t| t + self.config.no_pairs_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // --- candidates and pairs ------------------------------------------------------------

    fn foundation(&mut self, kind: CandidateKind, base: IpAddr, server: Option<IpAddr>) -> String {
        // RFC 8445 §5.1.1.3: same type, base IP, server and transport, same foundation.
        let key = (kind, base, server);
        let i = match self.foundations.iter().position(|f| *f == key) {
            Some(i) => i,
            None => {
                self.foundations.push(key);
                self.foundations.len() - 1
            }
        };
        (i + 1).to_string()
    }

    fn remote_count(&self) -> usize {
        self.remotes
            .iter()
            .filter(|r| r.generation == self.remote_generation)
            .count()
    }

    fn usable_local(&self, l: &Local) -> bool {
        match self.config.policy {
            CandidatePolicy::All => true,
            CandidatePolicy::Relay => l.relay.is_some(),
        }
    }

    /// Adds a local candidate unless it is redundant (RFC 8445 §5.1.3: same address and
    /// base as one already there); signals it and pairs it.
    fn add_local(
        &mut self,
        now: Instant,
        cand: Candidate,
        socket: SocketAddr,
        relay: Option<usize>,
    ) -> Option<Id> {
        if self
            .locals
            .iter()
            .any(|l| l.cand.addr == cand.addr && l.cand.base == cand.base)
        {
            return None;
        }
        let id = self.new_id();
        let pairable = matches!(cand.kind, CandidateKind::Host | CandidateKind::Relayed);
        let local = Local {
            id,
            cand,
            socket,
            relay,
            pairable,
        };
        if self.signalled(&local) {
            self.event(Event::LocalCandidate(local.cand.clone()));
        }
        let pair_it = pairable && self.usable_local(&local);
        self.locals.push(local);
        if pair_it {
            let generation = self.remote_generation;
            let remotes: Vec<Id> = self
                .remotes
                .iter()
                .filter(|r| r.generation == generation)
                .map(|r| r.id)
                .collect();
            for r in remotes {
                self.add_pair(now, id, r, false);
            }
            self.schedule_checks(now);
        }
        Some(id)
    }

    fn controlling_priorities(&self, l: &Candidate, r: &Candidate) -> u64 {
        match self.role {
            Role::Controlling => pair_priority(l.priority, r.priority),
            Role::Controlled => pair_priority(r.priority, l.priority),
        }
    }

    /// Forms a pair (RFC 8445 §6.1.2.2) unless it exists, the families differ, or the
    /// limit is reached (RFC 8445 §6.1.2.5: the lowest-priority idle pair makes room).
    fn add_pair(&mut self, now: Instant, local: Id, remote: Id, valid_only: bool) -> Option<Id> {
        let _ = now;
        if let Some(p) = self
            .pairs
            .iter()
            .find(|p| p.local == local && p.remote == remote)
        {
            return Some(p.id);
        }
        let (l, r) = (self.local(local)?, self.remote(remote)?);
        if l.cand.addr.is_ipv4() != r.cand.addr.is_ipv4() {
            return None;
        }
        let prio = self.controlling_priorities(&l.cand, &r.cand);
        let foundation = (l.cand.foundation.clone(), r.cand.foundation.clone());
        let generation = r.generation;
        let relay = l.relay;
        let remote_ip = r.cand.addr.ip();
        if self.pairs.len() >= self.config.max_pairs {
            let selected = self.selected;
            let victim = self
                .pairs
                .iter()
                .filter(|p| {
                    Some(p.id) != selected
                        && !p.valid
                        && matches!(
                            p.state,
                            PairState::Frozen | PairState::Waiting | PairState::Failed
                        )
                        && p.priority < prio
                })
                .min_by_key(|p| p.priority)
                .map(|p| p.id);
            match victim {
                Some(v) => {
                    self.pairs.retain(|p| p.id != v);
                    self.triggered.retain(|t| *t != v);
                }
                None => {
                    self.stats.dropped_limit += 1;
                    return None;
                }
            }
        }
        // RFC 8445 §6.1.2.6: the first pair of a foundation waits, the rest are frozen.
        let state = if valid_only {
            PairState::Succeeded
        } else if self
            .pairs
            .iter()
            .any(|p| p.checked && p.foundation == foundation && p.generation == generation)
        {
            PairState::Frozen
        } else {
            PairState::Waiting
        };
        let id = self.new_id();
        self.pairs.push(Pair {
            id,
            local,
            remote,
            priority: prio,
            state,
            foundation,
            checked: !valid_only,
            valid: false,
            nominated: false,
            nominate_on_success: false,
            nominate_next: false,
            stale: false,
            requested: false,
            in_flight: None,
            last_response: None,
            generation,
        });
        // A relayed local needs a permission for the remote's IP (RFC 8656 §9).
        if let Some(a) = relay {
            if !valid_only {
                let req = self
                    .allocs
                    .get_mut(a)
                    .and_then(|al| al.want_permission(remote_ip));
                if let Some(req) = req {
                    self.turn_request(now, a, req);
                }
            }
        }
        Some(id)
    }

    fn path_of(&self, local: Id) -> Option<Path> {
        let l = self.local(local)?;
        Some(Path {
            socket: l.socket,
            relay: l.relay,
            local_addr: if l.relay.is_some() {
                l.cand.addr
            } else {
                l.socket
            },
        })
    }

    fn schedule_checks(&mut self, now: Instant) {
        if self.next_check.is_none() && !self.config.lite && !self.closed() {
            self.next_check = Some(now);
        }
    }

    // --- checks --------------------------------------------------------------------------

    /// One Ta tick (RFC 8445 §6.1.4.2): a triggered check if queued, else the
    /// highest-priority Waiting pair, else unfreeze one. Returns whether to tick again.
    fn check_tick(&mut self, now: Instant) -> bool {
        if self.config.lite || self.remote_creds.is_empty() {
            // Checks wait for the remote password; the tick comes back when it is set.
            return false;
        }
        while let Some(id) = self.triggered.pop_front() {
            let Some(p) = self.pair(id) else { continue };
            if p.in_flight.is_some() && !p.nominate_next {
                continue;
            }
            if let Some(tx) = p.in_flight {
                let _ = self.txns.cancel(tx);
                self.purposes.retain(|(t, _)| *t != tx);
            }
            if self.permission_ready(now, id) {
                self.start_check(now, id);
                return true;
            }
            self.triggered.push_back(id);
            return true;
        }
        let generation = self.remote_generation;
        let ready: Vec<(u64, Id)> = self
            .pairs
            .iter()
            .filter(|p| p.checked && p.generation == generation && p.state == PairState::Waiting)
            .map(|p| (p.priority, p.id))
            .collect();
        let mut best: Option<(u64, Id)> = None;
        for (prio, id) in ready {
            if self.permission_ready(now, id) && best.is_none_or(|(b, _)| prio > b) {
                best = Some((prio, id));
            }
        }
        if best.is_none() {
            // Unfreeze the best Frozen pair whose foundation has nothing Waiting or
            // In-Progress.
            let busy: Vec<(String, String)> = self
                .pairs
                .iter()
                .filter(|p| matches!(p.state, PairState::Waiting | PairState::InProgress))
                .map(|p| p.foundation.clone())
                .collect();
            best = self
                .pairs
                .iter()
                .filter(|p| {
                    p.checked
                        && p.generation == generation
                        && p.state == PairState::Frozen
                        && !busy.contains(&p.foundation)
                })
                .map(|p| (p.priority, p.id))
                .max();
        }
        match best {
            Some((_, id)) => {
                self.start_check(now, id);
                true
            }
            None => {
                // Waiting pairs blocked on TURN permissions: come back.
                self.pairs.iter().any(|p| {
                    p.checked && p.generation == generation && p.state == PairState::Waiting
                })
            }
        }
    }

    fn permission_ready(&mut self, now: Instant, pair: Id) -> bool {
        let Some(p) = self.pair(pair) else {
            return false;
        };
        let (Some(l), Some(r)) = (self.local(p.local), self.remote(p.remote)) else {
            return false;
        };
        let Some(a) = l.relay else { return true };
        let ip = r.cand.addr.ip();
        let ready = self.allocs.get(a).is_some_and(|al| al.permitted(now, ip));
        if !ready {
            let req = self.allocs.get_mut(a).and_then(|al| al.want_permission(ip));
            if let Some(req) = req {
                self.turn_request(now, a, req);
            }
        }
        ready
    }

    fn remote_creds_for(&self, generation: u32) -> Option<&Creds> {
        self.remote_creds
            .iter()
            .find(|c| c.generation == generation)
    }

    /// Builds and sends a Binding request on a pair (RFC 8445 §7.2.2).
    fn start_check(&mut self, now: Instant, id: Id) {
        let consent = false;
        self.send_check(now, id, consent);
    }

    fn send_check(&mut self, now: Instant, id: Id, consent: bool) {
        let Some(p) = self.pair(id) else { return };
        let use_candidate = self.role == Role::Controlling && p.nominate_next && !consent;
        let (lid, rid, generation) = (p.local, p.remote, p.generation);
        let (Some(l), Some(r)) = (self.local(lid), self.remote(rid)) else {
            return;
        };
        let Some(rc) = self.remote_creds_for(generation) else {
            return;
        };
        let Some(path) = self.path_of(lid) else {
            return;
        };
        let dst = r.cand.addr;
        // RFC 8445 §7.1.1: PRIORITY is what a peer-reflexive candidate from this base would
        // get: type preference 110 with the local candidate's local preference.
        let lp = (l.cand.priority >> 8) & 0xFFFF;
        let prio = priority(CandidateKind::PeerReflexive.type_preference(), lp, 1);
        // RFC 8445 §7.2.2: USERNAME is "remote ufrag:local ufrag".
        let username = format!("{}:{}", rc.creds.ufrag, self.local_creds[0].creds.ufrag);
        let key = rc.key.clone();
        let txid = self.txid();
        let mut buf = [0u8; 256];
        let built =
            MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, txid).and_then(|mut b| {
                b.add(&Username(&username))?;
                b.add(&Priority(prio))?;
                match self.role {
                    Role::Controlling => b.add(&IceControlling(self.tie_breaker))?,
                    Role::Controlled => b.add(&IceControlled(self.tie_breaker))?,
                }
                if use_candidate {
                    b.add(&UseCandidate)?;
                }
                b.add_message_integrity_with(&key)?;
                b.add_fingerprint()?;
                Ok(b.finish().to_vec())
            });
        let Ok(req) = built else { return };
        let purpose = Purpose::Check {
            pair: id,
            use_candidate,
            consent,
            path,
            remote: dst,
        };
        if let Some(tx) = self.start_transaction(now, dst, &req, purpose) {
            if consent {
                self.stats.consent_checks += 1;
            } else {
                self.stats.checks_started += 1;
                if let Some(p) = self.pair_mut(id) {
                    p.in_flight = Some(tx);
                    if p.state != PairState::Succeeded {
                        p.state = PairState::InProgress;
                    }
                    if use_candidate {
                        p.nominate_next = false;
                    }
                }
                if self.state == ConnectionState::New {
                    self.set_state(ConnectionState::Checking, StateReason::ChecksStarted);
                }
            }
        }
    }

    fn start_transaction(
        &mut self,
        now: Instant,
        dst: SocketAddr,
        req: &[u8],
        purpose: Purpose,
    ) -> Option<TransactionId> {
        let id = self.txns.start(now, dst, req).ok()?;
        self.stats.transactions_started += 1;
        self.purposes.push((id, purpose));
        Some(id)
    }

    fn turn_request(&mut self, now: Instant, alloc: usize, req: TurnRequest) {
        let txid = self.txid();
        let Some(a) = self.allocs.get(alloc) else {
            return;
        };
        let server = a.server;
        if let Ok(bytes) = a.build(req, txid) {
            self.start_transaction(now, server, &bytes, Purpose::Turn { alloc, req });
        }
    }

    /// A STUN request arrived (RFC 8445 §7.3).
    fn on_request<'a>(
        &mut self,
        now: Instant,
        path: Path,
        src: SocketAddr,
        msg: &Message<'_>,
    ) -> Received<'a> {
        // RFC 8445 §7.3: FINGERPRINT, USERNAME and MESSAGE-INTEGRITY, or no answer.
        if msg.verify_fingerprint().is_err() {
            self.stats.dropped_bad_fingerprint += 1;
            return Received::Dropped(DropReason::BadFingerprint);
        }
        let Ok(Some(Username(username))) = msg.get::<Username>() else {
            self.stats.dropped_wrong_username += 1;
            return Received::Dropped(DropReason::WrongUsername);
        };
        let ours = username.split(':').next().unwrap_or("");
        let Some(creds) = self
            .local_creds
            .iter()
            .find(|c| c.creds.ufrag == ours)
            .cloned()
        else {
            self.stats.dropped_wrong_username += 1;
            return Received::Dropped(DropReason::WrongUsername);
        };
        if msg.verify_message_integrity_with(&creds.key).is_err() {
            self.stats.dropped_bad_integrity += 1;
            return Received::Dropped(DropReason::BadIntegrity);
        }
        if self.config.policy == CandidatePolicy::Relay && path.relay.is_none() {
            self.stats.dropped_policy += 1;
            return Received::Dropped(DropReason::Policy);
        }
        // RFC 8445 §7.3.1.1: role conflicts.
        let controlling = msg.get::<IceControlling>().ok().flatten();
        let controlled = msg.get::<IceControlled>().ok().flatten();
        match (self.role, controlling, controlled) {
            (Role::Controlling, Some(IceControlling(theirs)), _) if !self.config.lite => {
                if self.tie_breaker >= theirs {
                    self.respond_error(now, path, src, msg, 487, &creds.key);
                    return Received::Handled;
                }
                self.set_role(Role::Controlled);
            }
            (Role::Controlled, _, Some(IceControlled(theirs))) => {
                if self.tie_breaker >= theirs && !self.config.lite {
                    self.set_role(Role::Controlling);
                } else {
                    self.respond_error(now, path, src, msg, 487, &creds.key);
                    return Received::Handled;
                }
            }
            _ => {}
        }
        self.respond_success(now, path, src, msg, &creds.key);
        self.stats.checks_answered += 1;
        let current = creds.generation == self.local_creds[0].generation;
        // The local candidate the request reached (RFC 8445 §7.3.1.4).
        let local = self
            .locals
            .iter()
            .find(|l| {
                l.relay == path.relay
                    && l.pairable
                    && if path.relay.is_some() {
                        l.cand.addr == path.local_addr
                    } else {
                        l.socket == path.socket
                    }
            })
            .map(|l| l.id);
        let Some(local) = local else {
            return Received::Handled;
        };
        // A check on the selected pair refreshes a lite agent's view of liveness.
        if let Some(sel) = self.selected {
            let hit = self.pair(sel).is_some_and(|p| {
                p.local == local && self.remote(p.remote).is_some_and(|r| r.cand.addr == src)
            });
            if hit && self.config.lite {
                if let Some(p) = self.pair_mut(sel) {
                    p.last_response = Some(now);
                }
            }
        }
        if !current && self.selected.is_some() {
            // A check of the previous generation keeps the old pair alive; nothing more.
            return Received::Handled;
        }
        // RFC 8445 §7.3.1.3: an unknown source is a peer-reflexive remote candidate.
        let generation = self.remote_generation;
        let remote = match self
            .remotes
            .iter()
            .find(|r| r.generation == generation && r.cand.addr == src)
        {
            Some(r) => r.id,
            None => {
                if self.remote_count() >= self.config.max_remote_candidates {
                    self.stats.dropped_limit += 1;
                    return Received::Handled;
                }
                let prio = msg.get::<Priority>().ok().flatten().map_or(0, |p| p.0);
                self.prflx_count += 1;
                let id = self.new_id();
                let cand = Candidate::remote(
                    CandidateKind::PeerReflexive,
                    src,
                    prio,
                    format!("prflx{}", self.prflx_count),
                );
                self.remotes.push(Remote {
                    id,
                    cand,
                    generation,
                });
                id
            }
        };
        let use_candidate = msg.has(weft_stun::attr::USE_CANDIDATE);
        let Some(pair) = self.add_pair(now, local, remote, self.config.lite) else {
            return Received::Handled;
        };
        if self.state == ConnectionState::New {
            self.set_state(ConnectionState::Checking, StateReason::ChecksStarted);
        }
        let state = self.pair(pair).map(|p| p.state);
        if let Some(p) = self.pair_mut(pair) {
            p.requested = true;
        }
        if self.config.lite {
            // RFC 8445 §2.5: a lite agent has no checks of its own; the pair is valid when
            // the full agent's check arrives, and selected when it carries USE-CANDIDATE.
            if let Some(p) = self.pair_mut(pair) {
                p.valid = true;
                p.last_response = Some(now);
                if use_candidate {
                    p.nominated = true;
                }
            }
            if use_candidate {
                self.select(now, pair);
            }
            return Received::Handled;
        }
        // RFC 8445 §7.3.1.4: triggered checks.
        match state {
            Some(PairState::Succeeded) | Some(PairState::InProgress) => {}
            _ => {
                if let Some(p) = self.pair_mut(pair) {
                    p.state = PairState::Waiting;
                }
                if !self.triggered.contains(&pair) {
                    self.triggered.push_back(pair);
                }
                self.schedule_checks(now);
            }
        }
        // RFC 8445 §7.3.1.5: USE-CANDIDATE on the controlled side.
        if use_candidate && self.role == Role::Controlled {
            if state == Some(PairState::Succeeded) {
                let valid = self.valid_pair_of(pair);
                if let Some(v) = valid {
                    if let Some(p) = self.pair_mut(v) {
                        p.nominated = true;
                    }
                    self.select(now, v);
                }
            } else if let Some(p) = self.pair_mut(pair) {
                p.nominate_on_success = true;
            }
        }
        Received::Handled
    }

    /// The valid pair a checked pair produced: itself, or the pair of the peer-reflexive
    /// local it revealed with the same remote.
    fn valid_pair_of(&self, pair: Id) -> Option<Id> {
        let p = self.pair(pair)?;
        if p.valid {
            return Some(pair);
        }
        let base = self.local(p.local)?.cand.base;
        self.pairs
            .iter()
            .find(|q| {
                q.valid
                    && q.remote == p.remote
                    && self.local(q.local).is_some_and(|l| l.cand.base == base)
            })
            .map(|q| q.id)
    }

    fn respond_success(
        &mut self,
        now: Instant,
        path: Path,
        src: SocketAddr,
        req: &Message<'_>,
        key: &IntegrityKey,
    ) {
        let mut buf = [0u8; 128];
        let built =
            MessageBuilder::new(&mut buf, MessageType::BINDING_SUCCESS, req.transaction_id())
                .and_then(|mut b| {
                    // RFC 8445 §7.3.1.2 (RFC 8489 §14.2): the source as we saw it.
                    b.add(&XorMappedAddress(src))?;
                    b.add_message_integrity_with(key)?;
                    b.add_fingerprint()?;
                    Ok(b.finish().to_vec())
                });
        if let Ok(bytes) = built {
            self.stats.response_bytes += bytes.len() as u64;
            self.transmit_via(now, path, src, bytes);
        }
    }

    fn respond_error(
        &mut self,
        now: Instant,
        path: Path,
        src: SocketAddr,
        req: &Message<'_>,
        code: u16,
        key: &IntegrityKey,
    ) {
        let mut buf = [0u8; 128];
        let typ = MessageType::new(Method::BINDING, Class::ErrorResponse);
        let built = MessageBuilder::new(&mut buf, typ, req.transaction_id()).and_then(|mut b| {
            b.add(&ErrorCode {
                code,
                reason: "Role Conflict",
            })?;
            b.add_message_integrity_with(key)?;
            b.add_fingerprint()?;
            Ok(b.finish().to_vec())
        });
        if let Ok(bytes) = built {
            self.stats.response_bytes += bytes.len() as u64;
            self.transmit_via(now, path, src, bytes);
        }
    }

    fn transmit_via(&mut self, now: Instant, path: Path, dst: SocketAddr, bytes: Vec<u8>) {
        match path.relay {
            None => self.out.push_back(Output::Transmit(Transmit {
                src: path.socket,
                dst,
                bytes,
            })),
            Some(a) => {
                let txid = self.txid();
                let Some(al) = self.allocs.get(a) else { return };
                if let Ok(wrapped) = al.wrap(now, dst, &bytes, txid) {
                    let (socket, server) = (al.socket, al.server);
                    self.out.push_back(Output::Transmit(Transmit {
                        src: socket,
                        dst: server,
                        bytes: wrapped,
                    }));
                }
            }
        }
    }

    /// A STUN response arrived on `socket` from `src`.
    fn on_response<'a>(
        &mut self,
        now: Instant,
        socket: SocketAddr,
        src: SocketAddr,
        msg: &Message<'_>,
    ) -> Received<'a> {
        let txid = msg.transaction_id();
        let Some(pos) = self.purposes.iter().position(|(t, _)| *t == txid) else {
            self.stats.dropped_malformed += 1;
            return Received::Dropped(DropReason::Malformed);
        };
        let purpose = self.purposes[pos].1;
        match purpose {
            Purpose::Check {
                pair,
                use_candidate,
                consent,
                path,
                remote,
            } => {
                let generation = self.pair(pair).map(|p| p.generation);
                let key = generation
                    .and_then(|g| self.remote_creds_for(g))
                    .map(|c| c.key.clone());
                // RFC 8445 §7.2.5.2: the response must carry the remote's integrity.
                let ok = key.is_some_and(|k| msg.verify_message_integrity_with(&k).is_ok());
                if !ok {
                    self.stats.dropped_bad_integrity += 1;
                    return Received::Dropped(DropReason::BadIntegrity);
                }
                if self.txns.handle_response(now, msg).is_none() {
                    self.stats.dropped_malformed += 1;
                    return Received::Dropped(DropReason::Malformed);
                }
                self.purposes.swap_remove(pos);
                // RFC 8445 §7.2.5.2.1: the response must come from where the request went,
                // to where it came from.
                let arrived_right = path.relay.is_some() || path.socket == socket;
                let _ = src;
                if !arrived_right {
                    self.stats.dropped_non_symmetric += 1;
                    self.fail_pair(pair, consent, use_candidate);
                    return Received::Dropped(DropReason::NonSymmetric);
                }
                self.on_check_response(now, pair, use_candidate, consent, remote, msg);
                Received::Handled
            }
            Purpose::Gather { socket: base } => {
                let _ = self.txns.handle_response(now, msg);
                self.purposes.swap_remove(pos);
                if msg.class() == Class::SuccessResponse {
                    if let Ok(Some(XorMappedAddress(mapped))) = msg.get::<XorMappedAddress>() {
                        self.add_srflx(now, base, mapped, src.ip());
                    }
                }
                Received::Handled
            }
            Purpose::Turn { alloc, req } => {
                let _ = self.txns.handle_response(now, msg);
                self.purposes.swap_remove(pos);
                let outcome = match self.allocs.get_mut(alloc) {
                    Some(a) => a.on_response(now, req, msg),
                    None => return Received::Handled,
                };
                self.on_turn_outcome(now, alloc, outcome);
                Received::Handled
            }
        }
    }

    fn add_srflx(&mut self, now: Instant, base: SocketAddr, mapped: SocketAddr, server: IpAddr) {
        let index = self.hosts.iter().position(|h| *h == base).unwrap_or(0);
        let lp = local_preference(base.ip(), index);
        let cand = Candidate {
            kind: CandidateKind::ServerReflexive,
            addr: mapped,
            base,
            priority: priority(CandidateKind::ServerReflexive.type_preference(), lp, 1),
            foundation: self.foundation(CandidateKind::ServerReflexive, base.ip(), Some(server)),
            component: 1,
            related: Some(base),
        };
        // RFC 8445 §5.1.3: a server-reflexive candidate equal to its host is redundant.
        if mapped != base {
            self.add_local(now, cand, base, None);
        }
    }

    fn on_turn_outcome(&mut self, now: Instant, alloc: usize, outcome: TurnOutcome) {
        match outcome {
            TurnOutcome::Retry(req) => self.turn_request(now, alloc, req),
            TurnOutcome::Allocated { relayed, mapped } => {
                let Some(a) = self.allocs.get(alloc) else {
                    return;
                };
                let (socket, server) = (a.socket, a.server);
                let index = self.hosts.iter().position(|h| *h == socket).unwrap_or(0);
                let lp = local_preference(socket.ip(), index);
                let cand = Candidate {
                    kind: CandidateKind::Relayed,
                    addr: relayed,
                    base: relayed,
                    priority: priority(CandidateKind::Relayed.type_preference(), lp, 1),
                    foundation: self.foundation(
                        CandidateKind::Relayed,
                        socket.ip(),
                        Some(server.ip()),
                    ),
                    component: 1,
                    related: mapped,
                };
                self.add_local(now, cand, socket, Some(alloc));
                if let Some(m) = mapped {
                    self.add_srflx(now, socket, m, server.ip());
                }
            }
            TurnOutcome::Done | TurnOutcome::Failed => {}
        }
    }

    fn on_transaction_timeout(&mut self, now: Instant, id: TransactionId) {
        let Some(pos) = self.purposes.iter().position(|(t, _)| *t == id) else {
            return;
        };
        let (_, purpose) = self.purposes.swap_remove(pos);
        match purpose {
            Purpose::Check {
                pair,
                consent,
                use_candidate,
                ..
            } => self.fail_pair(pair, consent, use_candidate),
            Purpose::Gather { .. } => {}
            Purpose::Turn { alloc, req } => {
                if let Some(a) = self.allocs.get_mut(alloc) {
                    let o = a.on_timeout(req);
                    self.on_turn_outcome(now, alloc, o);
                }
            }
        }
    }

    fn fail_pair(&mut self, pair: Id, consent: bool, nominating: bool) {
        if consent {
            // Consent is judged by its own timers (RFC 7675 §5.1), not per transaction.
            return;
        }
        if let Some(p) = self.pair_mut(pair) {
            p.in_flight = None;
            // A nomination that went unanswered is not retried on that pair.
            p.stale |= nominating;
            if p.state != PairState::Succeeded {
                p.state = PairState::Failed;
            }
        }
    }

    /// A verified success or error response to a check (RFC 8445 §7.2.5).
    fn on_check_response(
        &mut self,
        now: Instant,
        pair: Id,
        use_candidate: bool,
        consent: bool,
        remote: SocketAddr,
        msg: &Message<'_>,
    ) {
        if msg.class() == Class::ErrorResponse {
            let code = msg.get::<ErrorCode>().ok().flatten().map(|e| e.code);
            if code == Some(ErrorCode::ROLE_CONFLICT) && !consent {
                // RFC 8445 §7.2.5.1: switch role and check again.
                let other = match self.role {
                    Role::Controlling => Role::Controlled,
                    Role::Controlled => Role::Controlling,
                };
                self.set_role(other);
                if let Some(p) = self.pair_mut(pair) {
                    p.in_flight = None;
                    p.state = PairState::Waiting;
                }
                self.triggered.push_back(pair);
                self.schedule_checks(now);
            } else {
                self.fail_pair(pair, consent, use_candidate);
            }
            return;
        }
        let Some(p) = self.pair(pair) else { return };
        let lid = p.local;
        if consent {
            if let Some(v) = self.pair_mut(pair) {
                v.last_response = Some(now);
            }
            return;
        }
        let Ok(Some(XorMappedAddress(mapped))) = msg.get::<XorMappedAddress>() else {
            self.fail_pair(pair, false, use_candidate);
            return;
        };
        let Some(l) = self.local(lid).cloned() else {
            return;
        };
        // RFC 8445 §7.2.5.3.1: a mapped address we do not know is a peer-reflexive local
        // candidate with the check's base.
        let valid_local = if l.relay.is_some() || mapped == l.cand.addr {
            lid
        } else if let Some(k) = self
            .locals
            .iter()
            .find(|k| k.cand.addr == mapped && k.socket == l.socket && k.relay.is_none())
        {
            k.id
        } else {
            let lp = (l.cand.priority >> 8) & 0xFFFF;
            let cand = Candidate {
                kind: CandidateKind::PeerReflexive,
                addr: mapped,
                base: l.cand.base,
                priority: priority(CandidateKind::PeerReflexive.type_preference(), lp, 1),
                foundation: self.foundation(CandidateKind::PeerReflexive, l.cand.base.ip(), None),
                component: 1,
                related: Some(l.cand.base),
            };
            let id = self.new_id();
            self.locals.push(Local {
                id,
                cand,
                socket: l.socket,
                relay: None,
                pairable: false,
            });
            id
        };
        // RFC 8445 §7.2.5.3.2-3: the valid pair; unfreeze the foundation.
        let (foundation, rid) = match self.pair_mut(pair) {
            Some(p) => {
                p.state = PairState::Succeeded;
                p.in_flight = None;
                (p.foundation.clone(), p.remote)
            }
            None => return,
        };
        let _ = remote;
        for q in self.pairs.iter_mut() {
            if q.state == PairState::Frozen && q.foundation == foundation {
                q.state = PairState::Waiting;
            }
        }
        let valid = if valid_local == lid {
            pair
        } else {
            match self.add_pair(now, valid_local, rid, true) {
                Some(v) => v,
                None => return,
            }
        };
        let nominate_on_success = self.pair(pair).is_some_and(|p| p.nominate_on_success);
        let mut nominated = false;
        if let Some(v) = self.pair_mut(valid) {
            v.valid = true;
            v.stale = false;
            v.state = PairState::Succeeded;
            v.last_response = Some(now);
            if use_candidate || nominate_on_success {
                v.nominated = true;
                nominated = true;
            }
        }
        if self.first_valid_at.is_none() {
            self.first_valid_at = Some(now);
            self.nomination_timer = Some(now + self.config.nomination_delay);
        }
        if nominated {
            self.select(now, valid);
        }
        self.schedule_checks(now);
    }

    // --- nomination, selection, consent -------------------------------------------------

    fn nomination_deadline(&self) -> Option<Instant> {
        if self.role != Role::Controlling || self.config.lite {
            return None;
        }
        self.nomination_timer
    }

    /// RFC 8445 §8.1.1: the controlling agent nominates the best valid pair once no better
    /// pair can still succeed, or after `nomination_delay`; a better pair succeeding later
    /// is nominated in turn.
    fn maybe_nominate(&mut self, now: Instant) {
        if self.role != Role::Controlling || self.config.lite || self.remote_creds.is_empty() {
            return;
        }
        let generation = self.remote_generation;
        let Some((best_prio, best)) = self
            .pairs
            .iter()
            .filter(|p| p.valid && !p.stale && p.generation == generation)
            .map(|p| (p.priority, p.id))
            .max()
        else {
            return;
        };
        let current = self.selected.and_then(|s| self.pair(s));
        if current.is_some_and(|c| {
            !c.stale && (c.id == best || (c.generation == generation && c.priority >= best_prio))
        }) {
            return;
        }
        // Is one already on its way?
        if self.pairs.iter().any(|p| {
            p.nominate_next
                || self.purposes.iter().any(|(_, pu)| {
                    matches!(pu, Purpose::Check { pair, use_candidate: true, .. } if *pair == p.id)
                })
        }) {
            return;
        }
        let better_pending = self.pairs.iter().any(|p| {
            p.checked
                && p.generation == generation
                && p.priority > best_prio
                && matches!(
                    p.state,
                    PairState::Frozen | PairState::Waiting | PairState::InProgress
                )
        });
        let timed_out = self.nomination_due;
        if better_pending && !timed_out {
            return;
        }
        // Nominate through the checked pair the valid pair came from (a peer-reflexive
        // local shares its base, RFC 8445 §7.2.5.3.2).
        let target = if self.pair(best).is_some_and(|p| p.checked) {
            Some(best)
        } else {
            let p = self.pair(best);
            let base = p.and_then(|p| self.local(p.local)).map(|l| l.cand.base);
            let rid = p.map(|p| p.remote);
            self.pairs
                .iter()
                .find(|q| {
                    q.checked
                        && Some(q.remote) == rid
                        && self.local(q.local).map(|l| l.cand.base) == base
                })
                .map(|q| q.id)
        };
        let Some(target) = target else { return };
        if let Some(p) = self.pair_mut(target) {
            p.nominate_next = true;
        }
        self.triggered.retain(|t| *t != target);
        self.triggered.push_front(target);
        self.schedule_checks(now);
    }

    fn select(&mut self, now: Instant, id: Id) {
        if self.selected == Some(id) {
            return;
        }
        let Some(info) = self.pair(id).and_then(|p| self.info(p)) else {
            return;
        };
        let generation = self.pair(id).map_or(0, |p| p.generation);
        self.selected = Some(id);
        // Consent (RFC 7675 §5.1) runs from the selection: the authenticated check or
        // response that selected the pair is the latest word from the peer on it. A pair
        // checked long before and nominated now (a move away from a path that died) must
        // not count as silent since its first check.
        if let Some(p) = self.pair_mut(id) {
            p.last_response = Some(now);
        }
        // A new generation took over: the old one is gone (RFC 8445 §9).
        if generation == self.remote_generation {
            self.remote_creds.retain(|c| c.generation == generation);
            self.local_creds.truncate(1);
            let keep: Vec<Id> = self
                .pairs
                .iter()
                .filter(|p| p.generation == generation)
                .map(|p| p.id)
                .collect();
            let dropped: Vec<Id> = self
                .pairs
                .iter()
                .filter(|p| !keep.contains(&p.id))
                .map(|p| p.id)
                .collect();
            for d in &dropped {
                self.cancel_checks_of(*d);
            }
            self.pairs.retain(|p| p.generation == generation);
            self.remotes.retain(|r| r.generation == generation);
        }
        // Data through a relay: a channel for it (RFC 8656 §12).
        let lid = self.pair(id).map(|p| p.local);
        if let Some(a) = lid.and_then(|l| self.local(l)).and_then(|l| l.relay) {
            let req = self
                .allocs
                .get_mut(a)
                .and_then(|al| al.want_channel(info.remote.addr));
            if let Some(req) = req {
                self.turn_request(now, a, req);
            }
        }
        self.event(Event::SelectedPair {
            local: info.local,
            remote: info.remote,
        });
        if !self.config.lite {
            self.next_consent = Some(now + self.consent_interval());
        }
        match self.state {
            ConnectionState::New | ConnectionState::Checking | ConnectionState::Disconnected => {
                self.set_state(ConnectionState::Connected, StateReason::PairSelected)
            }
            _ => {}
        }
    }

    fn cancel_checks_of(&mut self, pair: Id) {
        let ids: Vec<TransactionId> = self
            .purposes
            .iter()
            .filter(|(_, p)| matches!(p, Purpose::Check { pair: q, .. } if *q == pair))
            .map(|(t, _)| *t)
            .collect();
        for t in ids {
            let _ = self.txns.cancel(t);
            self.purposes.retain(|(x, _)| *x != t);
        }
        self.triggered.retain(|t| *t != pair);
    }

    fn consent_interval(&mut self) -> Duration {
        // RFC 7675 §5.1: randomized over 0.8..1.2 of the interval.
        let f = 0.8 + (self.rng.next_u32() % 4001) as f64 / 10_000.0;
        self.config.consent_interval.mul_f64(f)
    }

    fn send_consent(&mut self, now: Instant) {
        let Some(sel) = self.selected else { return };
        self.send_check(now, sel, true);
        self.next_consent = Some(now + self.consent_interval());
    }

    fn consent_deadline(&self) -> Option<Instant> {
        let p = self.pair(self.selected?)?;
        let last = p.last_response?;
        let d = last + self.config.disconnected_timeout;
        let f = last + self.config.consent_timeout;
        match self.state {
            ConnectionState::Connected | ConnectionState::Completed => Some(d),
            ConnectionState::Disconnected => Some(f),
            _ => None,
        }
    }

    fn remote_restart(&mut self) {
        // RFC 8445 §9: a new generation; everything but the selected pair is dropped.
        self.remote_generation += 1;
        let selected = self.selected;
        let keep_remote = selected.and_then(|s| self.pair(s)).map(|p| p.remote);
        let dropped: Vec<Id> = self
            .pairs
            .iter()
            .filter(|p| Some(p.id) != selected)
            .map(|p| p.id)
            .collect();
        for d in dropped {
            self.cancel_checks_of(d);
        }
        self.pairs.retain(|p| Some(p.id) == selected);
        self.remotes.retain(|r| Some(r.id) == keep_remote);
        let keep_gen = selected.and_then(|s| self.pair(s)).map(|p| p.generation);
        self.remote_creds.retain(|c| Some(c.generation) == keep_gen);
        self.triggered.clear();
        self.first_valid_at = None;
        self.nomination_timer = None;
        self.nomination_due = false;
        self.remote_end_of_candidates = false;
    }

    /// Sets the role before or during checks: JSEP makes the offerer controlling and the
    /// answerer controlled (RFC 8445 §6.1.1, RFC 8829 §5.1.1), which a peer connection
    /// knows only once it creates an offer or takes one. Pair priorities follow the role;
    /// a lite agent stays controlled.
    pub fn set_role(&mut self, role: Role) {
        if self.config.lite || self.role == role {
            return;
        }
        self.role = role;
        // RFC 8445 §7.2.5.1: pair priorities follow the role.
        let prios: Vec<(Id, u64)> = self
            .pairs
            .iter()
            .filter_map(|p| {
                let (l, r) = (self.local(p.local)?, self.remote(p.remote)?);
                Some((p.id, self.controlling_priorities(&l.cand, &r.cand)))
            })
            .collect();
        for (id, prio) in prios {
            if let Some(p) = self.pair_mut(id) {
                p.priority = prio;
            }
        }
        self.event(Event::RoleChanged(role));
    }

    // --- states --------------------------------------------------------------------------

    fn set_state(&mut self, state: ConnectionState, reason: StateReason) {
        if self.state != state {
            self.state = state;
            self.event(Event::ConnectionState { state, reason });
        }
    }

    fn set_gathering(&mut self, g: GatheringState) {
        if self.gathering != g {
            self.gathering = g;
            self.event(Event::GatheringState(g));
        }
    }

    fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }

    /// After every input: transmits of transactions, nomination, gathering and connection
    /// states.
    fn after_input(&mut self, now: Instant) {
        if self.closed() {
            return;
        }
        self.maybe_nominate(now);
        self.flush_transactions(now);
        // Gathering ends when no server request is outstanding (RFC 8838 §8.2).
        if self.gathering == GatheringState::Gathering {
            let pending = self
                .purposes
                .iter()
                .any(|(_, p)| matches!(p, Purpose::Gather { .. }))
                || self
                    .allocs
                    .iter()
                    .any(|a| a.state == AllocState::Allocating);
            if !pending {
                self.set_gathering(GatheringState::Complete);
            }
        }
        if self.gathering == GatheringState::New && (self.config.lite || !self.hosts.is_empty()) {
            self.set_gathering(GatheringState::Complete);
        }
        self.update_state(now);
    }

    fn flush_transactions(&mut self, now: Instant) {
        let mut sends: Vec<(TransactionId, SocketAddr, Vec<u8>)> = Vec::new();
        while let Some(t) = self.txns.poll_transmit() {
            sends.push((t.id, t.dst, t.bytes.to_vec()));
        }
        for (id, dst, bytes) in sends {
            self.stats.requests_sent += 1;
            let purpose = self
                .purposes
                .iter()
                .find(|(t, _)| *t == id)
                .map(|(_, p)| *p);
            match purpose {
                Some(Purpose::Check { path, .. }) => self.transmit_via(now, path, dst, bytes),
                Some(Purpose::Gather { socket }) => {
                    self.out.push_back(Output::Transmit(Transmit {
                        src: socket,
                        dst,
                        bytes,
                    }))
                }
                Some(Purpose::Turn { alloc, .. }) => {
                    if let Some(a) = self.allocs.get(alloc) {
                        self.out.push_back(Output::Transmit(Transmit {
                            src: a.socket,
                            dst,
                            bytes,
                        }))
                    }
                }
                None => {}
            }
        }
    }

    fn update_state(&mut self, now: Instant) {
        let generation = self.remote_generation;
        if let Some(last) = self
            .selected
            .and_then(|s| self.pair(s))
            .and_then(|p| p.last_response)
        {
            let silent = now.saturating_duration_since(last);
            if silent >= self.config.consent_timeout {
                // RFC 7675 §5.1: consent expired; stop sending.
                self.selected = None;
                self.next_consent = None;
                self.set_state(ConnectionState::Failed, StateReason::ConsentExpired);
                return;
            }
            if silent >= self.config.disconnected_timeout {
                if matches!(
                    self.state,
                    ConnectionState::Connected | ConnectionState::Completed
                ) {
                    self.set_state(ConnectionState::Disconnected, StateReason::ConsentStale);
                    // The selected path went quiet: the controlling agent nominates the
                    // best other valid pair (the controlled agent follows the latest
                    // nomination); the selected one keeps carrying data until that
                    // succeeds, and takes over again if its consent comes back first.
                    if self.role == Role::Controlling {
                        if let Some(sel) = self.selected.and_then(|s| self.pair_mut(s)) {
                            sel.stale = true;
                        }
                        self.maybe_nominate(now);
                        self.flush_transactions(now);
                    }
                }
                return;
            }
            if self.state == ConnectionState::Disconnected {
                if let Some(sel) = self.selected.and_then(|s| self.pair_mut(s)) {
                    sel.stale = false;
                }
                self.set_state(ConnectionState::Connected, StateReason::ConsentRestored);
            }
            let checks_done = !self.pairs.iter().any(|p| {
                p.checked
                    && p.generation == generation
                    && matches!(
                        p.state,
                        PairState::Frozen | PairState::Waiting | PairState::InProgress
                    )
            }) && self.triggered.is_empty();
            let sel_current = self
                .selected
                .and_then(|s| self.pair(s))
                .is_some_and(|p| p.generation == generation);
            if self.state == ConnectionState::Connected
                && checks_done
                && sel_current
                && self.remote_end_of_candidates
                && self.gathering == GatheringState::Complete
            {
                self.set_state(ConnectionState::Completed, StateReason::ChecksFinished);
            }
            return;
        }
        if self.state == ConnectionState::Failed || self.selected.is_some() {
            return;
        }
        // RFC 8445 §7.2.5.4 / §8.1.2 with trickle (RFC 8838 §8): failed when every pair
        // failed and neither side can bring new candidates.
        let mut pairs = self
            .pairs
            .iter()
            .filter(|p| p.checked && p.generation == generation)
            .peekable();
        let none = pairs.peek().is_none();
        let all_failed = pairs.all(|p| p.state == PairState::Failed) && self.triggered.is_empty();
        let ended = self.remote_end_of_candidates
            && self.gathering == GatheringState::Complete
            && !self.remote_creds.is_empty()
            && !self.config.lite;
        // No pair at all (every remote candidate an mDNS name or TCP, say): the peer's own
        // checks can still bring a peer-reflexive one (RFC 8445 §7.3.1.3), so that is
        // waited for before failing.
        if ended && none {
            let since = *self.no_pairs_since.get_or_insert(now);
            if now >= since + self.config.no_pairs_timeout {
                self.set_state(ConnectionState::Failed, StateReason::AllPairsFailed);
            }
            return;
        }
        self.no_pairs_since = None;
        if ended && all_failed {
            self.set_state(ConnectionState::Failed, StateReason::AllPairsFailed);
        }
    }
}

/// [`Agent::send`] without a selected pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotConnected;

impl std::fmt::Display for NotConnected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no candidate pair is selected")
    }
}

impl std::error::Error for NotConnected {}
