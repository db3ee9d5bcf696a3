//! Counters of what the network did with every datagram.

/// What happened to the datagrams of a run. Every drop has exactly one counter, so a test
/// can tell a lossy link from a NAT filter from a missing route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Datagrams hosts handed to [`Network::send`](crate::Network::send).
    pub sent: u64,
    /// Datagrams delivered to hosts (duplicates included), each one a
    /// [`Network::poll_receive`](crate::Network::poll_receive) result.
    pub delivered: u64,
    /// Dropped by a link's `loss` (any link on the path).
    pub lost: u64,
    /// Dropped because the IP datagram was larger than a link's `mtu` (or than 65,535
    /// bytes, which no link carries).
    pub dropped_mtu: u64,
    /// Dropped at a NAT's public side: no live mapping for the port, or the mapping's
    /// filter refused the sender (RFC 4787 §5).
    pub dropped_nat_filter: u64,
    /// Dropped inside a NAT that does not hairpin (RFC 4787 §6).
    pub dropped_hairpin: u64,
    /// Dropped because nothing owns the destination address (or source and destination
    /// are of different IP families, or a NAT ran out of ports).
    pub dropped_no_route: u64,
    /// Dropped because a rate-limited link's queue was full (drop-tail).
    pub dropped_queue: u64,
    /// Extra copies made by a link's `duplicate`.
    pub duplicated: u64,
    /// Binding requests answered by the built-in STUN and TURN servers.
    pub stun_requests: u64,
    /// TURN requests (Allocate, Refresh, CreatePermission, ChannelBind) seen by the
    /// built-in TURN servers, whatever the answer.
    pub turn_requests: u64,
    /// TURN error responses sent (401 challenges included).
    pub turn_errors: u64,
    /// Datagrams a TURN server relayed, either way (Send indication or ChannelData to a
    /// peer, peer traffic to a client).
    pub turn_relayed: u64,
    /// Datagrams a TURN server refused to relay: no allocation, no permission for the peer
    /// (RFC 8656 §9), or an unbound channel.
    pub turn_relay_denied: u64,
    /// Datagrams the built-in servers dropped as malformed or not for them: not STUN or
    /// ChannelData, failed parsing, a bad FINGERPRINT, a response or an unknown indication.
    pub server_malformed: u64,
}
