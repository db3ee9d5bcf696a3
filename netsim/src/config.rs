//! What a test configures: access links and NAT boxes.

use std::time::Duration;

/// One access link: the wire between a host (or a NAT, or a built-in server) and the
/// network it joins. The same settings apply to each direction independently: a datagram
/// going up and one coming down each draw their own loss, jitter, duplication and
/// reordering from the network's seeded RNG.
///
/// A datagram crossing the link, in this order:
/// 1. larger than [`LinkConfig::mtu`] (UDP payload + 28 bytes of IPv4 and UDP headers, 48
///    for IPv6): dropped, counted in [`Stats::dropped_mtu`](crate::Stats::dropped_mtu);
/// 2. with probability [`LinkConfig::loss`]: dropped, counted in
///    [`Stats::lost`](crate::Stats::lost);
/// 3. otherwise it arrives after `delay` + a uniform draw in `0..=jitter`, plus
///    `reorder_delay` with probability [`LinkConfig::reorder`];
/// 4. with probability [`LinkConfig::duplicate`] a second copy arrives too, with its own
///    jitter draw.
///
/// A probability of 0 draws nothing from the RNG, so adding a perfect link to a test does
/// not change the random draws of the others.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    /// One-way base delay.
    pub delay: Duration,
    /// Uniform extra delay in `0..=jitter`, drawn per datagram. Jitter larger than the
    /// spacing of datagrams reorders them, as on a real path.
    pub jitter: Duration,
    /// Probability in `0.0..=1.0` that a datagram is dropped. 1.0 cuts the link.
    pub loss: f64,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability that a datagram is held back by `reorder_delay`, so that later ones
    /// overtake it.
    pub reorder: f64,
    /// The extra delay of a reordered datagram.
    pub reorder_delay: Duration,
    /// The largest IP datagram (UDP payload plus 28 bytes of IPv4 and UDP headers, 48 for
    /// IPv6) the link carries; larger ones are dropped (no fragmentation). Whatever the
    /// MTU, nothing over 65,535 bytes passes (the IPv4 total length; no IPv6 jumbograms).
    pub mtu: usize,
    /// The link's rate in bits per second; 0 is unlimited. A limited link serializes its
    /// datagrams one after the other (IP and UDP headers counted) behind a drop-tail
    /// queue of `queue` bytes: a bottleneck, where load turns into delay and then loss.
    /// Each direction has its own queue.
    pub rate: u64,
    /// Bytes a rate-limited link holds at most, the datagram on the wire included; a
    /// datagram that does not fit is dropped (counted in [`Stats::dropped_queue`](crate::Stats::dropped_queue)).
    pub queue: usize,
}

impl Default for LinkConfig {
    /// A perfect link: no delay, no loss, no duplication, no reordering, MTU 1500.
    fn default() -> Self {
        LinkConfig {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            mtu: 1500,
            rate: 0,
            queue: usize::MAX,
        }
    }
}

impl LinkConfig {
    /// A perfect link with a one-way delay.
    pub fn with_delay(delay: Duration) -> Self {
        LinkConfig {
            delay,
            ..LinkConfig::default()
        }
    }

    /// A bottleneck: `rate` bits per second behind a drop-tail queue of `queue` bytes,
    /// with a one-way delay.
    pub fn bottleneck(delay: Duration, rate: u64, queue: usize) -> Self {
        LinkConfig {
            delay,
            rate,
            queue,
            ..LinkConfig::default()
        }
    }

    /// A link that drops everything (loss 1.0): to cut a host off, then restore it with
    /// [`Network::set_link`](crate::Network::set_link).
    pub fn down() -> Self {
        LinkConfig {
            loss: 1.0,
            ..LinkConfig::default()
        }
    }
}

/// Mapping and filtering behaviours of a NAT (RFC 4787 §4.1 and §5).
///
/// As a mapping behaviour it says what an internal endpoint's mapping (the external
/// address and port its packets leave with) depends on; as a filtering behaviour it says
/// which outside endpoints may send back through an existing mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Behaviour {
    /// Mapping (RFC 4787 §4.1): one mapping per internal address and port, whatever the
    /// destination. Filtering (RFC 4787 §5): anyone may send to an existing mapping.
    EndpointIndependent,
    /// Mapping: a new mapping per destination IP address. Filtering: only from IP
    /// addresses the internal endpoint has sent to through that mapping.
    AddressDependent,
    /// Mapping: a new mapping per destination IP address and port. Filtering: only from
    /// IP addresses and ports the internal endpoint has sent to through that mapping.
    AddressAndPortDependent,
}

/// A NAT box (RFC 4787): how it maps and filters, whether it hairpins, how long idle
/// mappings live, and how it picks external ports.
#[derive(Clone, Debug, PartialEq)]
pub struct NatConfig {
    /// RFC 4787 §4.1: what a mapping is keyed by besides the internal address and port.
    pub mapping: Behaviour,
    /// RFC 4787 §5: which outside endpoints may send in through a mapping.
    pub filtering: Behaviour,
    /// RFC 4787 §6: a host behind the NAT sending to an external address of the same NAT
    /// is looped back inside (with the sender's external mapping as source) when true,
    /// dropped when false.
    pub hairpin: bool,
    /// RFC 4787 §4.3: a mapping with no outbound traffic for this long expires. Only
    /// outbound packets refresh it (REQ-6: NAT outbound refresh behaviour true; inbound
    /// refresh is not modelled). Default 120 s (REQ-5: at least 2 minutes).
    pub mapping_timeout: Duration,
    /// RFC 4787 §4.2.1: keep the internal port as the external port when it is free;
    /// otherwise (and when false) ports are drawn from the seeded RNG in 1024..=65535.
    pub port_preservation: bool,
}

impl NatConfig {
    /// The RFC 4787 §4.3 default idle timeout: 2 minutes.
    pub const DEFAULT_MAPPING_TIMEOUT: Duration = Duration::from_secs(120);

    fn new(mapping: Behaviour, filtering: Behaviour) -> Self {
        NatConfig {
            mapping,
            filtering,
            hairpin: false,
            mapping_timeout: Self::DEFAULT_MAPPING_TIMEOUT,
            port_preservation: false,
        }
    }

    /// "Full cone": endpoint-independent mapping and filtering (EIM + EIF).
    pub fn full_cone() -> Self {
        Self::new(
            Behaviour::EndpointIndependent,
            Behaviour::EndpointIndependent,
        )
    }

    /// "Restricted cone": endpoint-independent mapping, address-dependent filtering
    /// (EIM + ADF).
    pub fn restricted_cone() -> Self {
        Self::new(Behaviour::EndpointIndependent, Behaviour::AddressDependent)
    }

    /// "Port-restricted cone": endpoint-independent mapping, address- and port-dependent
    /// filtering (EIM + APDF). The most common home NAT.
    pub fn port_restricted_cone() -> Self {
        Self::new(
            Behaviour::EndpointIndependent,
            Behaviour::AddressAndPortDependent,
        )
    }

    /// "Symmetric": address- and port-dependent mapping and filtering (APDM + APDF).
    pub fn symmetric() -> Self {
        Self::new(
            Behaviour::AddressAndPortDependent,
            Behaviour::AddressAndPortDependent,
        )
    }

    /// The same NAT with hairpinning on or off (RFC 4787 §6).
    pub fn with_hairpin(mut self, hairpin: bool) -> Self {
        self.hairpin = hairpin;
        self
    }

    /// The same NAT with port preservation on or off (RFC 4787 §4.2.1).
    pub fn with_port_preservation(mut self, on: bool) -> Self {
        self.port_preservation = on;
        self
    }

    /// The same NAT with another idle mapping timeout (RFC 4787 §4.3).
    pub fn with_mapping_timeout(mut self, timeout: Duration) -> Self {
        self.mapping_timeout = timeout;
        self
    }
}

impl Default for NatConfig {
    /// [`NatConfig::port_restricted_cone`].
    fn default() -> Self {
        NatConfig::port_restricted_cone()
    }
}
