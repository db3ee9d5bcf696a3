//! weft's own SCTP wire codec (`weft_sctp::wire`, issue 12): parsing a packet of one DATA
//! chunk with 1200 bytes of user data (checksum verified, chunk typed), the same with an
//! RFC 9653 zero checksum, the bare CRC32c of those bytes (the floor parsing cannot go
//! under while it verifies), and writing the packet into a reused buffer.
//!
//! No peer beside it: sctp-proto's and webrtc-rs's packet parsers are crate-private
//! (sctp-proto exposes one only behind its `_fuzz` feature, with a copy and a checksum
//! fix-up in it), so the same work cannot be timed on them from outside.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use weft_sctp::wire::{
    checksum, Checksum, Chunk, CommonHeader, Data, Packet, PacketWriter, ParseOptions,
};

fn data_packet(payload: &[u8], how: Checksum) -> Vec<u8> {
    let mut out = Vec::new();
    let header = CommonHeader {
        src_port: 5000,
        dst_port: 5000,
        verification_tag: 0x1234_5678,
        checksum: 0,
    };
    let mut w = PacketWriter::new(&mut out, &header);
    w.chunk(&data_chunk(payload)).expect("fits");
    w.finish(how);
    out
}

fn data_chunk(payload: &[u8]) -> Chunk<'_> {
    Chunk::Data(Data {
        flags: Data::BEGINNING | Data::ENDING,
        tsn: 1000,
        stream_id: 1,
        ssn: 7,
        ppid: 53,
        payload,
    })
}

/// Parses and types every chunk; returns the user data bytes seen.
fn parse(bytes: &[u8], options: &ParseOptions) -> usize {
    let Ok(packet) = Packet::parse(bytes, options) else {
        return 0;
    };
    packet
        .chunks()
        .map(|c| match c.parse() {
            Ok(Chunk::Data(d)) => d.payload.len(),
            _ => 0,
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    let payload = vec![0xa5u8; 1200];
    let crc = data_packet(&payload, Checksum::Crc32c);
    let zero = data_packet(&payload, Checksum::Zero);
    let mut g = c.benchmark_group("sctp_wire");
    g.throughput(Throughput::Bytes(crc.len() as u64));
    g.bench_function("parse_verify_1200B_data", |b| {
        b.iter(|| parse(black_box(&crc), &ParseOptions::default()))
    });
    let zero_ok = ParseOptions {
        accept_zero_checksum: true,
    };
    g.bench_function("parse_zero_checksum_1200B_data", |b| {
        b.iter(|| parse(black_box(&zero), &zero_ok))
    });
    g.bench_function("crc32c_only_1200B_data", |b| {
        b.iter(|| checksum(black_box(&crc)))
    });
    let mut out = Vec::with_capacity(1500);
    g.bench_function("write_crc32c_1200B_data", |b| {
        b.iter(|| {
            out.clear();
            let header = CommonHeader {
                src_port: 5000,
                dst_port: 5000,
                verification_tag: 0x1234_5678,
                checksum: 0,
            };
            let mut w = PacketWriter::new(&mut out, &header);
            w.chunk(&data_chunk(black_box(&payload))).expect("fits");
            w.finish(Checksum::Crc32c)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
