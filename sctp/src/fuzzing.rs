//! Fuzz harness bodies, driven by the targets in `fuzz/` and replayed by the crate's
//! tests. Each must never panic, whatever the bytes.

use std::time::{Duration, Instant};

use crate::dcep::Message;
use crate::{Association, ChannelOptions, Config, MessageKind, Output, Role};

/// DCEP parsing; whatever parses writes back to bytes that parse to the same message.
pub fn dcep(data: &[u8]) {
    if let Ok(message) = Message::parse(data) {
        let mut out = Vec::new();
        if message.write(&mut out).is_ok() {
            assert_eq!(Message::parse(&out).ok(), Some(message));
        }
    }
}

/// Runs two associations to an open channel, then feeds the server chunks made of the
/// fuzz input, each wrapped in a packet with the right ports, verification tag and
/// CRC32c, so that they reach the association's chunk handling. Between packets the
/// clock moves and the client keeps sending, so the chunks meet live state. Returns
/// whether the server association ended. The first byte's low bit says whether the two
/// weft engines declare I-DATA (RFC 8260), so the chunks meet either receive path.
pub fn association(start: Instant, data: &[u8]) -> bool {
    let (interleaving, data) = match data.split_first() {
        Some((mode, rest)) => (mode & 1 == 1, rest),
        None => (true, data),
    };
    let mut now = start;
    let config = |role| Config {
        interleaving,
        ..Config::new(role)
    };
    let mut client = Association::new(now, config(Role::Client));
    let mut server = Association::new(now, config(Role::Server));
    let Ok(id) = client.open_channel("fuzz", ChannelOptions::default()) else {
        return false;
    };
    let mut tag = None;
    for _ in 0..20 {
        exchange(now, &mut client, &mut server, &mut tag);
        now += Duration::from_millis(10);
    }
    let Some(tag) = tag else { return false };
    // Input: [len u8][chunk bytes] ... ; a zero length moves the clock 200 ms.
    let mut rest = data;
    let mut packets = 0;
    while let Some((&len, tail)) = rest.split_first() {
        if packets > 64 {
            break;
        }
        packets += 1;
        let len = usize::from(len).min(tail.len());
        let (chunks, tail) = tail.split_at(len);
        rest = tail;
        if len == 0 {
            now += Duration::from_millis(200);
            server.handle_timeout(now);
            continue;
        }
        let packet = wrap(tag, chunks);
        server.handle_input(now, &packet);
        let _ = client.send(id, MessageKind::Binary, chunks);
        exchange(now, &mut client, &mut server, &mut None);
    }
    // Bounded output: drain, counting.
    let mut n = 0;
    while server.poll_output().is_some() {
        n += 1;
        assert!(n < 100_000, "unbounded output");
    }
    server.is_closed()
}

/// Moves packets both ways once; records the tag the server expects.
fn exchange(
    now: Instant,
    client: &mut Association,
    server: &mut Association,
    tag: &mut Option<[u8; 4]>,
) {
    let mut to_server = Vec::new();
    while let Some(o) = client.poll_output() {
        if let Output::Transmit(p) = o {
            to_server.push(p);
        }
    }
    for p in to_server {
        if p.len() >= 12 && p[4..8] != [0; 4] {
            *tag = Some([p[4], p[5], p[6], p[7]]);
        }
        server.handle_input(now, &p);
    }
    let mut to_client = Vec::new();
    while let Some(o) = server.poll_output() {
        if let Output::Transmit(p) = o {
            to_client.push(p);
        }
    }
    for p in to_client {
        client.handle_input(now, &p);
    }
}

/// An SCTP packet (RFC 9260 §3.1) from port 5000 to 5000 carrying `chunks`.
fn wrap(tag: [u8; 4], chunks: &[u8]) -> Vec<u8> {
    let mut packet = Vec::with_capacity(12 + chunks.len());
    packet.extend_from_slice(&5000u16.to_be_bytes());
    packet.extend_from_slice(&5000u16.to_be_bytes());
    packet.extend_from_slice(&tag);
    packet.extend_from_slice(&[0; 4]);
    packet.extend_from_slice(chunks);
    // RFC 9260 Appendix A: CRC32c over the packet with a zero checksum field, stored
    // least significant byte first as sctp-proto reads it.
    let crc = crc32c::crc32c(&packet);
    packet[8..12].copy_from_slice(&crc.to_le_bytes());
    packet
}

/// weft's SCTP wire codec: whatever bytes come, parsing never panics; a packet that
/// parses (its checksum made right first, so the fuzzer reaches the chunks) writes back
/// to a packet that parses to the same header and chunks, and writing that again gives
/// the same bytes.
pub fn wire(data: &[u8]) {
    use crate::wire::{fill_checksum, Checksum, Packet, ParseOptions};
    // As they came, checksum and all; the first byte picks whether zero is accepted.
    let options = ParseOptions {
        accept_zero_checksum: data.first().is_some_and(|b| b & 1 == 1),
    };
    if let Ok(p) = Packet::parse(data, &options) {
        p.chunks().for_each(|c| {
            let _ = c.parse();
        });
    }
    let mut fixed = data.to_vec();
    fill_checksum(&mut fixed, Checksum::Crc32c);
    let _ = wire_round_trip(&fixed);
}

/// Parses `packet` (checksum checked) and writes it back: each chunk from its typed
/// view, or as it came where that does not parse. Checks that the result parses to the
/// same header and chunks and that writing it again gives the same bytes; returns it.
pub fn wire_round_trip(packet: &[u8]) -> Option<Vec<u8>> {
    use crate::wire::{Packet, ParseOptions};
    let options = ParseOptions::default();
    let first = Packet::parse(packet, &options).ok()?;
    let written = rewrite(&first);
    let second = Packet::parse(&written, &options);
    assert!(
        second.is_ok(),
        "a written packet does not parse: {second:?}"
    );
    let second = second.ok()?;
    assert_eq!(first.header().src_port, second.header().src_port);
    assert_eq!(first.header().dst_port, second.header().dst_port);
    assert_eq!(
        first.header().verification_tag,
        second.header().verification_tag
    );
    assert_eq!(first.chunks().count(), second.chunks().count());
    for (a, b) in first.chunks().zip(second.chunks()) {
        match (a.parse(), b.parse()) {
            (Ok(x), Ok(y)) => assert_eq!(x, y),
            (Err(_), Err(_)) => assert_eq!(a, b),
            (x, y) => unreachable!("chunk reads {x:?}, then {y:?}"),
        }
    }
    assert_eq!(rewrite(&second), written, "writing is not a fixed point");
    Some(written)
}

fn rewrite(packet: &crate::wire::Packet<'_>) -> Vec<u8> {
    use crate::wire::{Checksum, PacketWriter};
    let mut out = Vec::with_capacity(packet.chunk_bytes().len() + 16);
    let mut w = PacketWriter::new(&mut out, packet.header());
    for raw in packet.chunks() {
        let r = match raw.parse() {
            Ok(chunk) => w.chunk(&chunk),
            Err(_) => w.raw_chunk(&raw),
        };
        // Nothing read from a packet is too long to write back.
        assert!(r.is_ok(), "{r:?}");
    }
    w.finish(Checksum::Crc32c);
    out
}
