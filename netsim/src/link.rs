//! Crossing one direction of an access link: MTU, loss, delay, jitter, reordering and
//! duplication, drawn from the network's seeded RNG.

use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::config::LinkConfig;

/// IPv4 (20) + UDP (8) header bytes.
pub(crate) const IPV4_UDP_HEADERS: usize = 28;
/// IPv6 (40) + UDP (8) header bytes.
pub(crate) const IPV6_UDP_HEADERS: usize = 48;

/// The largest IP datagram: IPv4's 16-bit total length.
pub(crate) const MAX_IP_LEN: usize = 65_535;

/// The size of the IP datagram carrying `payload` bytes of UDP from `src`.
pub(crate) fn ip_len(src: SocketAddr, payload: usize) -> usize {
    payload
        + match src {
            SocketAddr::V4(_) => IPV4_UDP_HEADERS,
            SocketAddr::V6(_) => IPV6_UDP_HEADERS,
        }
}

/// What happened to one datagram on one link direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Crossing {
    /// Larger than the MTU.
    TooBig,
    /// Lost.
    Lost,
    /// Arrives after this delay, and a duplicate after the second one if any.
    Arrives(Duration, Option<Duration>),
}

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    // A probability of 0 draws nothing, so perfect links leave the RNG stream alone.
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        rng.random::<f64>() < p
    }
}

fn jitter(rng: &mut ChaCha8Rng, max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let max = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.random_range(0..=max))
}

/// Draws the fate of a datagram of `ip_len` bytes (headers included) on `link`.
pub(crate) fn cross(link: &LinkConfig, rng: &mut ChaCha8Rng, ip_len: usize) -> Crossing {
    // Past the 16-bit IPv4 total length (IPv6: payload length + 40; no jumbograms) no
    // link carries it, whatever its MTU.
    if ip_len > link.mtu || ip_len > MAX_IP_LEN {
        return Crossing::TooBig;
    }
    if chance(rng, link.loss) {
        return Crossing::Lost;
    }
    let mut delay = link.delay + jitter(rng, link.jitter);
    if chance(rng, link.reorder) {
        delay += link.reorder_delay;
    }
    let duplicate = chance(rng, link.duplicate).then(|| link.delay + jitter(rng, link.jitter));
    Crossing::Arrives(delay, duplicate)
}

/// How long `ip_len` bytes take on a link of `rate` bits per second (`rate` > 0).
pub(crate) fn serialization(ip_len: usize, rate: u64) -> Duration {
    let bits = (ip_len as u128) * 8;
    let nanos = bits * 1_000_000_000 / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Bytes a link of `rate` bits per second sends in `d`: the backlog ahead of a datagram
/// that must wait `d` for the link.
pub(crate) fn bytes_in(d: Duration, rate: u64) -> usize {
    let bytes = d.as_nanos() * u128::from(rate) / 8 / 1_000_000_000;
    usize::try_from(bytes).unwrap_or(usize::MAX)
}
