//! The translation state of one NAT box (RFC 4787): mappings keyed per the mapping
//! behaviour, the filter state of each mapping, idle expiry and port allocation.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::config::{Behaviour, LinkConfig, NatConfig};
use crate::HostId;

/// RFC 4787 §4.1: what a mapping is keyed by. The internal endpoint always; the remote
/// address (ADM) or remote address and port (APDM) too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct MappingKey {
    internal: SocketAddr,
    remote_ip: Option<IpAddr>,
    remote_port: Option<u16>,
}

#[derive(Debug, Clone)]
struct Mapping {
    internal: SocketAddr,
    external_port: u16,
    /// RFC 4787 §5: the remote endpoints this mapping has sent to, for ADF and APDF.
    sent_to: BTreeSet<SocketAddr>,
    /// RFC 4787 §4.3: only outbound packets refresh the mapping.
    last_outbound: Instant,
}

/// Why an inbound packet did not get through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// No live mapping has that external port.
    NoMapping,
    /// A mapping exists, but its filter does not admit this remote endpoint.
    Filtered,
}

/// One NAT box.
#[derive(Debug, Clone)]
pub(crate) struct Nat {
    pub(crate) public_ip: IpAddr,
    pub(crate) config: NatConfig,
    /// The uplink to the public network.
    pub(crate) link: LinkConfig,
    /// The hosts on its private side.
    pub(crate) hosts: Vec<HostId>,
    mappings: BTreeMap<MappingKey, Mapping>,
    by_port: BTreeMap<u16, MappingKey>,
}

/// RFC 4787 §4.2.1: ports below 1024 are not handed out (REQ-3 asks for ranges to be
/// preserved; we simply stay in the unprivileged range).
const PORT_RANGE: std::ops::RangeInclusive<u16> = 1024..=65535;

impl Nat {
    pub(crate) fn new(public_ip: IpAddr, config: NatConfig, link: LinkConfig) -> Self {
        Nat {
            public_ip,
            config,
            link,
            hosts: Vec::new(),
            mappings: BTreeMap::new(),
            by_port: BTreeMap::new(),
        }
    }

    /// Whether the NAT translates traffic from this internal address: only the family of
    /// its public address. Addresses of the other family are routed through unchanged.
    pub(crate) fn translates(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.public_ip.is_ipv4()
    }

    fn key(&self, internal: SocketAddr, remote: SocketAddr) -> MappingKey {
        // RFC 4787 §4.1
        let (remote_ip, remote_port) = match self.config.mapping {
            Behaviour::EndpointIndependent => (None, None),
            Behaviour::AddressDependent => (Some(remote.ip()), None),
            Behaviour::AddressAndPortDependent => (Some(remote.ip()), Some(remote.port())),
        };
        MappingKey {
            internal,
            remote_ip,
            remote_port,
        }
    }

    /// Drops mappings idle for `mapping_timeout` or longer (RFC 4787 §4.3).
    fn expire(&mut self, now: Instant) {
        let timeout = self.config.mapping_timeout;
        let by_port = &mut self.by_port;
        self.mappings.retain(|_, m| {
            let live = now < m.last_outbound + timeout;
            if !live {
                by_port.remove(&m.external_port);
            }
            live
        });
    }

    /// RFC 4787 §4.2.1: the internal port if free and port preservation is on, else a
    /// free port from the seeded RNG. `None` when every port is taken.
    fn allocate_port(&self, internal_port: u16, rng: &mut ChaCha8Rng) -> Option<u16> {
        if self.config.port_preservation
            && PORT_RANGE.contains(&internal_port)
            && !self.by_port.contains_key(&internal_port)
        {
            return Some(internal_port);
        }
        for _ in 0..64 {
            let p = rng.random_range(PORT_RANGE);
            if !self.by_port.contains_key(&p) {
                return Some(p);
            }
        }
        // A crowded NAT: the first free port from a random start.
        let start = rng.random_range(PORT_RANGE);
        (start..=*PORT_RANGE.end())
            .chain(*PORT_RANGE.start()..start)
            .find(|p| !self.by_port.contains_key(p))
    }

    /// An outbound packet from `internal` to `remote` at `now`: finds or creates its
    /// mapping, refreshes it and records `remote` for the filter. Returns the external
    /// source address, or `None` when no port is free.
    pub(crate) fn outbound(
        &mut self,
        now: Instant,
        internal: SocketAddr,
        remote: SocketAddr,
        rng: &mut ChaCha8Rng,
    ) -> Option<SocketAddr> {
        self.expire(now);
        let key = self.key(internal, remote);
        let port = match self.mappings.get_mut(&key) {
            Some(m) => {
                m.last_outbound = now;
                m.sent_to.insert(remote);
                m.external_port
            }
            None => {
                let port = self.allocate_port(internal.port(), rng)?;
                self.mappings.insert(
                    key,
                    Mapping {
                        internal,
                        external_port: port,
                        sent_to: BTreeSet::from([remote]),
                        last_outbound: now,
                    },
                );
                self.by_port.insert(port, key);
                port
            }
        };
        Some(SocketAddr::new(self.public_ip, port))
    }

    /// An inbound packet from `remote` to external port `port` at `now`: the internal
    /// endpoint it goes to, if a live mapping exists and its filter admits `remote`
    /// (RFC 4787 §5). Inbound packets do not refresh the mapping (RFC 4787 §4.3).
    pub(crate) fn inbound(
        &mut self,
        now: Instant,
        port: u16,
        remote: SocketAddr,
    ) -> Result<SocketAddr, Refused> {
        self.expire(now);
        let key = self.by_port.get(&port).ok_or(Refused::NoMapping)?;
        let m = self.mappings.get(key).ok_or(Refused::NoMapping)?;
        // RFC 4787 §5
        let admitted = match self.config.filtering {
            Behaviour::EndpointIndependent => true,
            Behaviour::AddressDependent => m.sent_to.iter().any(|r| r.ip() == remote.ip()),
            Behaviour::AddressAndPortDependent => m.sent_to.contains(&remote),
        };
        if admitted {
            Ok(m.internal)
        } else {
            Err(Refused::Filtered)
        }
    }

    /// The live mappings at `now`: internal endpoint and external address, by external
    /// port.
    pub(crate) fn mappings(&self, now: Instant) -> Vec<(SocketAddr, SocketAddr)> {
        let timeout = self.config.mapping_timeout;
        self.by_port
            .iter()
            .filter_map(|(port, key)| self.mappings.get(key).map(|m| (port, m)))
            .filter(|(_, m)| now < m.last_outbound + timeout)
            .map(|(port, m)| (m.internal, SocketAddr::new(self.public_ip, *port)))
            .collect()
    }
}
