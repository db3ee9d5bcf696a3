//! A pcap capture of what crosses the public network: classic libpcap format, LINKTYPE_RAW
//! (each record an IPv4 or IPv6 packet), IP and UDP headers synthesised with valid
//! checksums, timestamps from the virtual clock relative to the network's start.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Magic of the classic pcap global header with microsecond timestamps, written
/// little-endian (`d4 c3 b2 a1` on disk).
pub const PCAP_MAGIC: u32 = 0xa1b2_c3d4;
/// LINKTYPE_RAW: the packet begins with an IPv4 or IPv6 header.
pub const LINKTYPE_RAW: u32 = 101;
/// Snapshot length in the global header: every datagram is captured whole.
const SNAPLEN: u32 = 65_535;

/// The records of a capture; [`Capture::bytes`] prepends the global header.
#[derive(Debug, Clone, Default)]
pub(crate) struct Capture {
    records: Vec<u8>,
    count: usize,
    ip_id: u16,
}

impl Capture {
    /// Appends one UDP datagram seen at `since_start` after the network's start.
    pub(crate) fn record(
        &mut self,
        since_start: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) {
        let packet = match ip_udp(src, dst, payload, self.ip_id) {
            Some(p) => p,
            // Mixed families or a payload too large for the length fields: not capturable.
            None => return,
        };
        self.ip_id = self.ip_id.wrapping_add(1);
        let secs = u32::try_from(since_start.as_secs()).unwrap_or(u32::MAX);
        let len = u32::try_from(packet.len()).unwrap_or(u32::MAX);
        self.records.extend_from_slice(&secs.to_le_bytes());
        self.records
            .extend_from_slice(&since_start.subsec_micros().to_le_bytes());
        self.records.extend_from_slice(&len.to_le_bytes()); // incl_len
        self.records.extend_from_slice(&len.to_le_bytes()); // orig_len
        self.records.extend_from_slice(&packet);
        self.count += 1;
    }

    /// Records so far.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// The whole file: global header, then every record.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.records.len());
        out.extend_from_slice(&PCAP_MAGIC.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes()); // version_major
        out.extend_from_slice(&4u16.to_le_bytes()); // version_minor
        out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        out.extend_from_slice(&SNAPLEN.to_le_bytes());
        out.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        out.extend_from_slice(&self.records);
        out
    }
}

/// The one's-complement sum of 16-bit words (RFC 1071), folded.
fn ones_sum(mut acc: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        if let [a, b] = c {
            acc += u32::from(u16::from_be_bytes([*a, *b]));
        }
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(u16::from_be_bytes([*last, 0]));
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

fn checksum(acc: u32) -> u16 {
    !(ones_sum(acc, &[]) as u16)
}

/// An IPv4 or IPv6 packet carrying one UDP datagram.
fn ip_udp(src: SocketAddr, dst: SocketAddr, payload: &[u8], id: u16) -> Option<Vec<u8>> {
    let udp_len = u16::try_from(8 + payload.len()).ok()?;
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]); // checksum, filled below
    udp.extend_from_slice(payload);

    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(20 + udp.len()).ok()?;
            // RFC 768: the pseudo-header is source, destination, zero, protocol, UDP length.
            let mut pseudo = Vec::with_capacity(12);
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, 17]);
            pseudo.extend_from_slice(&udp_len.to_be_bytes());
            set_udp_checksum(&mut udp, &pseudo);

            let mut ip = Vec::with_capacity(usize::from(total));
            ip.extend_from_slice(&[0x45, 0]); // version 4, IHL 5; DSCP/ECN 0
            ip.extend_from_slice(&total.to_be_bytes());
            ip.extend_from_slice(&id.to_be_bytes());
            ip.extend_from_slice(&[0x40, 0]); // DF, fragment offset 0
            ip.extend_from_slice(&[64, 17]); // TTL, protocol UDP
            ip.extend_from_slice(&[0, 0]); // header checksum, filled below
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            let sum = checksum(ones_sum(0, &ip));
            if let Some(field) = ip.get_mut(10..12) {
                field.copy_from_slice(&sum.to_be_bytes());
            }
            ip.extend_from_slice(&udp);
            Some(ip)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            // RFC 8200 §8.1: the pseudo-header is source, destination, upper-layer length
            // (32 bits), three zero bytes and the next header.
            let mut pseudo = Vec::with_capacity(40);
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&u32::from(udp_len).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, 17]);
            set_udp_checksum(&mut udp, &pseudo);

            let mut ip = Vec::with_capacity(40 + udp.len());
            ip.extend_from_slice(&[0x60, 0, 0, 0]); // version 6, traffic class 0, flow 0
            ip.extend_from_slice(&udp_len.to_be_bytes()); // payload length
            ip.extend_from_slice(&[17, 64]); // next header UDP, hop limit
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            ip.extend_from_slice(&udp);
            Some(ip)
        }
        _ => None,
    }
}

fn set_udp_checksum(udp: &mut [u8], pseudo: &[u8]) {
    let mut sum = checksum(ones_sum(ones_sum(0, pseudo), udp));
    // RFC 768: a computed checksum of zero is sent as all ones (zero means "none").
    if sum == 0 {
        sum = 0xffff;
    }
    if let Some(field) = udp.get_mut(6..8) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum_verifies() {
        let p = ip_udp(
            "192.0.2.1:1000".parse().unwrap(),
            "198.51.100.7:3478".parse().unwrap(),
            b"hello",
            7,
        )
        .unwrap();
        assert_eq!(p.len(), 20 + 8 + 5);
        // Summing a header with its checksum in place gives all ones.
        assert_eq!(ones_sum(0, &p[..20]), 0xffff);
        // The UDP checksum verifies over pseudo-header + datagram.
        let mut pseudo = vec![192, 0, 2, 1, 198, 51, 100, 7, 0, 17, 0, 13];
        pseudo.extend_from_slice(&p[20..]);
        assert_eq!(ones_sum(0, &pseudo), 0xffff);
    }

    #[test]
    fn ipv6_udp_checksum_verifies() {
        let p = ip_udp(
            "[2001:db8::1]:1000".parse().unwrap(),
            "[2001:db8::2]:2000".parse().unwrap(),
            b"abc",
            0,
        )
        .unwrap();
        assert_eq!(p.len(), 40 + 8 + 3);
        let mut pseudo = p[8..40].to_vec();
        pseudo.extend_from_slice(&[0, 0, 0, 11, 0, 0, 0, 17]);
        pseudo.extend_from_slice(&p[40..]);
        assert_eq!(ones_sum(0, &pseudo), 0xffff);
    }
}
