//! weft's own SCTP wire codec (`weft_sctp::wire`): RFC vectors, every chunk written and
//! read back, hostile input, and differential runs against real peers' traffic: every
//! packet sctp-proto (under weft's `Association`) and webrtc-rs's SCTP emit is parsed,
//! checked for facts that must hold, and re-encoded byte for byte.
#![allow(clippy::disallowed_methods)] // the webrtc-rs driver reads the real clock

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::{lossy, Sim};
use weft_netsim::{LinkConfig, Network};
use weft_sctp::dcep;
use weft_sctp::wire::{
    chunk_type, fill_checksum, param_type, Abort, Action, Cause, Causes, Checksum, Chunk,
    CommonHeader, Context, Data, ForwardTsn, GapBlock, IData, IForwardTsn, IForwardTsnEntry, Init,
    List, Packet, PacketWriter, Param, Params, ParseOptions, RawChunk, Sack, StreamSsn, WireError,
    HEADER_LEN, ZERO_CHECKSUM_EDMID_DTLS,
};
use weft_sctp::{
    Association, ChannelOptions, Config, Event, MessageKind, Output, Policy, Reliability, Role,
};

const STRICT: ParseOptions = ParseOptions {
    accept_zero_checksum: false,
};
const ZERO_OK: ParseOptions = ParseOptions {
    accept_zero_checksum: true,
};

// ---------------------------------------------------------------------------------------
// CRC32c

#[test]
fn rfc3720_b4_crc32c_vectors() {
    // RFC 3720 §B.4: the values, and the bytes as they go on the wire.
    let zeros = [0u8; 32];
    let ones = [0xffu8; 32];
    let inc: Vec<u8> = (0..32).collect();
    let dec: Vec<u8> = (0..32).rev().collect();
    assert_eq!(crc32c::crc32c(&zeros), 0x8A91_36AA);
    assert_eq!(crc32c::crc32c(&ones), 0x62A8_AB43);
    assert_eq!(crc32c::crc32c(&inc), 0x46DD_794E);
    assert_eq!(crc32c::crc32c(&dec), 0x113F_DB5C);
    assert_eq!(
        crc32c::crc32c(&zeros).to_le_bytes(),
        [0xaa, 0x36, 0x91, 0x8a]
    );
    // `checksum` takes bytes 8..12 as zero; the vectors' packets have other bytes there.
    let mut with_field = zeros;
    with_field[8..12].copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(weft_sctp::wire::checksum(&with_field), 0x8A91_36AA);
}

#[test]
fn rfc9260_appendix_a_checksum_byte_order() {
    // RFC 9260 Appendix A: the CRC32c goes in the checksum field least significant byte
    // first (the RFC's sample code swaps it into the field byte by byte), the way the
    // RFC 3720 vectors list their bytes. Here, a 32-byte packet of RFC 3720's incrementing
    // pattern whose field bytes (8..12) are zeroed.
    let mut packet: Vec<u8> = (0..32).collect();
    packet[8..12].fill(0);
    let crc = crc32c::crc32c(&packet);
    fill_checksum(&mut packet, Checksum::Crc32c);
    assert_eq!(
        &packet[8..12],
        &[
            crc as u8,
            (crc >> 8) as u8,
            (crc >> 16) as u8,
            (crc >> 24) as u8
        ]
    );
    let header = CommonHeader::parse(&packet).unwrap();
    assert_eq!(header.checksum, crc);
    assert_eq!(header.src_port, 0x0001);
    assert_eq!(header.dst_port, 0x0203);
    assert_eq!(header.verification_tag, 0x0405_0607);
    // The bytes parse as a packet (chunk type 12, length 0x0e0f overruns: typed error).
    assert!(matches!(
        Packet::parse(&packet, &STRICT),
        Err(WireError::Truncated {
            ctx: Context::Chunk(12),
            at: 12,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------
// Helpers

/// A packet of the given chunks.
fn packet_of(tag: u32, chunks: &[Chunk<'_>], how: Checksum) -> Vec<u8> {
    let mut out = Vec::new();
    let header = CommonHeader {
        src_port: 5000,
        dst_port: 5000,
        verification_tag: tag,
        checksum: 0,
    };
    let mut w = PacketWriter::new(&mut out, &header);
    for c in chunks {
        w.chunk(c).unwrap();
    }
    w.finish(how);
    out
}

/// Parses, types every chunk, re-encodes; returns the re-encoded bytes.
fn reencode(packet: &Packet<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = PacketWriter::new(&mut out, packet.header());
    for raw in packet.chunks() {
        let chunk = raw
            .parse()
            .unwrap_or_else(|e| panic!("chunk {}: {e}", raw.chunk_type));
        w.chunk(&chunk).unwrap();
    }
    w.finish(Checksum::Crc32c);
    out
}

// ---------------------------------------------------------------------------------------
// Every chunk, written and read back

#[test]
fn every_chunk_and_parameter_round_trips() {
    let mut params = Vec::new();
    for p in [
        Param::Ipv4Address([10, 0, 0, 1]),
        Param::Ipv6Address([0xfe; 16]),
        Param::CookiePreservative(1000),
        Param::SupportedAddressTypes(List::new(&[0, 5, 0, 6, 0, 11])),
        Param::ForwardTsnSupported,
        Param::SupportedExtensions(&[chunk_type::RE_CONFIG, chunk_type::FORWARD_TSN, 64]),
        Param::ZeroChecksumAcceptable {
            edmid: ZERO_CHECKSUM_EDMID_DTLS,
        },
        Param::HostNameAddress(b"example\0"),
        Param::Unknown {
            param_type: 0x8123,
            value: &[1, 2, 3],
        },
        Param::StateCookie(&[7; 33]),
    ] {
        p.emit(&mut params).unwrap();
    }
    let params = Params::parse(&params, 0).unwrap();
    let init = Init {
        initiate_tag: 0xdead_beef,
        a_rwnd: 131_072,
        outbound_streams: 1024,
        inbound_streams: 65535,
        initial_tsn: 42,
        params,
    };
    let mut reconfig = Vec::new();
    for p in [
        Param::OutgoingSsnResetRequest {
            request_seq: 1,
            response_seq: 2,
            last_tsn: 3,
            streams: List::new(&[0, 1, 0, 2, 0, 3]),
        },
        Param::IncomingSsnResetRequest {
            request_seq: 4,
            streams: List::new(&[0, 9]),
        },
        Param::SsnTsnResetRequest { request_seq: 5 },
        Param::ReconfigResponse {
            response_seq: 6,
            result: 1,
            next_tsns: Some((7, 8)),
        },
        Param::ReconfigResponse {
            response_seq: 6,
            result: 0,
            next_tsns: None,
        },
        Param::AddOutgoingStreams {
            request_seq: 9,
            new_streams: 10,
        },
        Param::AddIncomingStreams {
            request_seq: 11,
            new_streams: 12,
        },
    ] {
        p.emit(&mut reconfig).unwrap();
    }
    let mut causes = Vec::new();
    for c in [
        Cause::InvalidStreamIdentifier { stream_id: 3 },
        Cause::MissingMandatoryParameter(List::new(&[0, 7, 0, 9])),
        Cause::StaleCookie { staleness_us: 99 },
        Cause::OutOfResource,
        Cause::UnresolvableAddress(&[0, 5, 0, 8, 1, 2, 3, 4]),
        Cause::UnrecognizedChunkType(&[0x42, 0, 0, 5, 9]),
        Cause::InvalidMandatoryParameter,
        Cause::UnrecognizedParameters(&[0x80, 0x99, 0, 4]),
        Cause::NoUserData { tsn: 77 },
        Cause::CookieReceivedWhileShuttingDown,
        Cause::RestartWithNewAddresses(&[0, 5, 0, 8, 1, 2, 3, 4]),
        Cause::UserInitiatedAbort(b"bye"),
        Cause::ProtocolViolation(b"no"),
        Cause::Unknown {
            code: 0x4444,
            info: &[1],
        },
    ] {
        c.emit(&mut causes).unwrap();
    }
    let causes = Causes::parse(&causes, 0).unwrap();
    let payload: Vec<u8> = (0..1200u32).map(|i| i as u8).collect();
    let hb = {
        let mut v = Vec::new();
        Param::HeartbeatInfo(&[1, 2, 3, 4, 5]).emit(&mut v).unwrap();
        v
    };
    let chunks = [
        Chunk::Data(Data {
            flags: Data::BEGINNING | Data::UNORDERED | Data::IMMEDIATE,
            tsn: u32::MAX,
            stream_id: 7,
            ssn: 9,
            ppid: 53,
            payload: &payload,
        }),
        Chunk::Data(Data {
            flags: Data::ENDING,
            tsn: 0,
            stream_id: 7,
            ssn: 9,
            ppid: 51,
            payload: b"x",
        }),
        Chunk::Init(init),
        Chunk::InitAck(init),
        Chunk::Sack(Sack {
            cum_tsn_ack: 100,
            a_rwnd: 5000,
            gap_blocks: List::new(&[0, 2, 0, 3, 0, 7, 0, 9]),
            dup_tsns: List::new(&[0, 0, 0, 99]),
        }),
        Chunk::Heartbeat(Params::parse(&hb, 0).unwrap()),
        Chunk::HeartbeatAck(Params::parse(&hb, 0).unwrap()),
        Chunk::Abort(Abort {
            tag_reflected: true,
            causes,
        }),
        Chunk::Shutdown { cum_tsn_ack: 5 },
        Chunk::ShutdownAck,
        Chunk::Error(causes),
        Chunk::CookieEcho(&[3; 77]),
        Chunk::CookieAck,
        Chunk::Ecne { lowest_tsn: 8 },
        Chunk::Cwr { lowest_tsn: 9 },
        Chunk::ShutdownComplete {
            tag_reflected: true,
        },
        Chunk::ForwardTsn(ForwardTsn {
            new_cum_tsn: 12,
            streams: List::new(&[0, 1, 0, 2, 0, 3, 0, 4]),
        }),
        Chunk::IData(IData {
            flags: Data::BEGINNING,
            tsn: 13,
            stream_id: 14,
            mid: 15,
            ppid_or_fsn: 51,
            payload: b"hello",
        }),
        Chunk::IForwardTsn(IForwardTsn {
            new_cum_tsn: 16,
            entries: List::new(&[0, 1, 0, 1, 0, 0, 0, 5, 0, 2, 0, 0, 0, 0, 0, 6]),
        }),
        Chunk::ReConfig(Params::parse(&reconfig, 0).unwrap()),
        Chunk::Pad(&[0; 13]),
        Chunk::Unknown(RawChunk {
            at: 0,
            chunk_type: 0xc7,
            flags: 3,
            value: &[1, 2, 3, 4, 5],
        }),
    ];
    let bytes = packet_of(0x0102_0304, &chunks, Checksum::Crc32c);
    if let Some(dir) = std::env::var_os("WEFT_WIRE_SEEDS") {
        // Fuzz seeds: the whole packet and one packet per chunk.
        std::fs::create_dir_all(&dir).unwrap();
        let dir = std::path::Path::new(&dir);
        std::fs::write(dir.join("every-chunk"), &bytes).unwrap();
        for (i, c) in chunks.iter().enumerate() {
            let one = packet_of(1, std::slice::from_ref(c), Checksum::Crc32c);
            std::fs::write(dir.join(format!("chunk-{i}")), one).unwrap();
        }
    }
    let packet = Packet::parse(&bytes, &STRICT).unwrap();
    assert_eq!(packet.header().verification_tag, 0x0102_0304);
    let back: Vec<Chunk<'_>> = packet.chunks().map(|c| c.parse().unwrap()).collect();
    assert_eq!(back, chunks);
    assert_eq!(reencode(&packet), bytes);
    // The typed accessors.
    let Chunk::Sack(sack) = back[4] else { panic!() };
    assert_eq!(
        sack.gap_blocks.iter().collect::<Vec<_>>(),
        [GapBlock { start: 2, end: 3 }, GapBlock { start: 7, end: 9 }]
    );
    assert_eq!(sack.dup_tsns.iter().collect::<Vec<_>>(), [99]);
    let Chunk::IForwardTsn(f) = back[18] else {
        panic!()
    };
    assert_eq!(
        f.entries.iter().collect::<Vec<_>>(),
        [
            IForwardTsnEntry {
                stream_id: 1,
                unordered: true,
                mid: 5
            },
            IForwardTsnEntry {
                stream_id: 2,
                unordered: false,
                mid: 6
            }
        ]
    );
    let Chunk::ForwardTsn(f) = back[16] else {
        panic!()
    };
    assert_eq!(
        f.streams.iter().collect::<Vec<_>>(),
        [
            StreamSsn {
                stream_id: 1,
                ssn: 2
            },
            StreamSsn {
                stream_id: 3,
                ssn: 4
            }
        ]
    );
    let Chunk::IData(d) = back[17] else { panic!() };
    assert_eq!((d.ppid(), d.fsn()), (Some(51), 0));
    let Chunk::Init(i) = back[2] else { panic!() };
    let unknown: Vec<_> = i.params.iter().filter_map(|p| p.action()).collect();
    assert_eq!(unknown, [Action::Skip]);
    assert_eq!(
        i.params
            .iter()
            .find(|p| p.param_type() == param_type::ZERO_CHECKSUM_ACCEPTABLE),
        Some(Param::ZeroChecksumAcceptable { edmid: 1 })
    );
    assert_eq!(back[21].chunk_type(), 0xc7);
    let Chunk::Unknown(raw) = back[21] else {
        panic!()
    };
    assert_eq!(raw.action(), Action::SkipAndReport);

    // The same into a BytesMut.
    let mut out = BytesMut::new();
    let mut w = PacketWriter::new(&mut out, packet.header());
    for c in &chunks {
        w.chunk(c).unwrap();
    }
    w.finish(Checksum::Crc32c);
    assert_eq!(&out[..], &bytes[..]);
}

#[test]
fn chunk_length_leaves_out_the_last_parameters_padding() {
    // RFC 9260 §3.2: the chunk length counts the padding of every parameter but the last.
    let mut params = Vec::new();
    Param::StateCookie(&[1; 5]).emit(&mut params).unwrap();
    Param::StateCookie(&[2; 5]).emit(&mut params).unwrap();
    let init = Init {
        initiate_tag: 1,
        a_rwnd: 2,
        outbound_streams: 3,
        inbound_streams: 4,
        initial_tsn: 5,
        params: Params::parse(&params, 0).unwrap(),
    };
    let bytes = packet_of(0, &[Chunk::Init(init)], Checksum::Crc32c);
    // 12 header + 4 chunk header + 16 fixed + (9 + 3) + 9, then 3 bytes of padding.
    assert_eq!(u16::from_be_bytes([bytes[14], bytes[15]]), 4 + 16 + 12 + 9);
    assert_eq!(bytes.len(), 12 + 4 + 16 + 12 + 12);
    // A peer that counts the last padding too reads the same.
    let mut counted = bytes.clone();
    counted[15] += 3;
    fill_checksum(&mut counted, Checksum::Crc32c);
    let a = Packet::parse(&bytes, &STRICT).unwrap();
    let b = Packet::parse(&counted, &STRICT).unwrap();
    assert_eq!(
        a.chunks().next().unwrap().parse(),
        b.chunks().next().unwrap().parse()
    );
}

#[test]
fn writers_refuse_what_a_length_field_cannot_say() {
    let big = vec![0u8; 70_000];
    let mut out = vec![1, 2, 3];
    let data = Chunk::Data(Data {
        flags: 3,
        tsn: 1,
        stream_id: 0,
        ssn: 0,
        ppid: 53,
        payload: &big,
    });
    assert_eq!(
        data.emit(&mut out),
        Err(WireError::TooLong {
            ctx: Context::Chunk(chunk_type::DATA),
            len: 70_016
        })
    );
    // Nothing is left half written.
    assert_eq!(out, [1, 2, 3]);
    assert_eq!(
        Param::StateCookie(&big).emit(&mut out),
        Err(WireError::TooLong {
            ctx: Context::Param(param_type::STATE_COOKIE),
            len: 70_004
        })
    );
    assert_eq!(out, [1, 2, 3]);
    // The largest DATA that fits: a chunk length of 65535, padded to 65536.
    let fits = Chunk::Data(Data {
        flags: 3,
        tsn: 1,
        stream_id: 0,
        ssn: 0,
        ppid: 53,
        payload: &big[..65535 - 16],
    });
    let mut out = BytesMut::new();
    fits.emit(&mut out).unwrap();
    assert_eq!(out.len(), 65536);
    assert_eq!(&out[2..4], &[0xff, 0xff]);
}

// ---------------------------------------------------------------------------------------
// Hostile input

fn cookie_ack_packet() -> Vec<u8> {
    packet_of(9, &[Chunk::CookieAck], Checksum::Crc32c)
}

#[test]
fn bad_checksum_is_a_typed_error() {
    let mut p = cookie_ack_packet();
    let good = u32::from_le_bytes([p[8], p[9], p[10], p[11]]);
    p[8] ^= 1;
    assert_eq!(
        Packet::parse(&p, &STRICT),
        Err(WireError::BadChecksum {
            received: good ^ 1,
            computed: good
        })
    );
    // A flipped body bit too.
    let mut p = cookie_ack_packet();
    p[13] ^= 0x80;
    assert!(matches!(
        Packet::parse(&p, &STRICT),
        Err(WireError::BadChecksum { .. })
    ));
    assert_eq!(
        WireError::BadChecksum {
            received: 0,
            computed: 1
        }
        .cause_code(),
        None
    );
}

#[test]
fn rfc9653_zero_checksum_accepted_only_when_enabled() {
    let p = packet_of(9, &[Chunk::CookieAck], Checksum::Zero);
    assert_eq!(&p[8..12], &[0, 0, 0, 0]);
    assert_eq!(
        Packet::parse(&p, &STRICT),
        Err(WireError::ZeroChecksumNotAccepted)
    );
    let parsed = Packet::parse(&p, &ZERO_OK).unwrap();
    assert_eq!(
        parsed.chunks().next().unwrap().parse(),
        Ok(Chunk::CookieAck)
    );
    // Accepting zero does not accept a wrong non-zero checksum, and a right one still
    // passes.
    let mut wrong = p.clone();
    wrong[8] = 1;
    assert!(matches!(
        Packet::parse(&wrong, &ZERO_OK),
        Err(WireError::BadChecksum { .. })
    ));
    assert!(Packet::parse(&cookie_ack_packet(), &ZERO_OK).is_ok());
}

#[test]
fn short_packets_and_chunk_lengths_below_four() {
    for n in 0..HEADER_LEN {
        assert_eq!(
            Packet::parse(&[0; 12][..n], &STRICT),
            Err(WireError::Truncated {
                ctx: Context::Header,
                at: 0,
                need: HEADER_LEN,
                have: n
            })
        );
    }
    let mut header_only = vec![0u8; 12];
    fill_checksum(&mut header_only, Checksum::Crc32c);
    assert_eq!(
        Packet::parse(&header_only, &STRICT),
        Err(WireError::NoChunks)
    );
    for len in [0u8, 1, 3] {
        let mut p = vec![0u8; 12];
        p.extend_from_slice(&[11, 0, 0, len]);
        fill_checksum(&mut p, Checksum::Crc32c);
        assert_eq!(
            Packet::parse(&p, &STRICT),
            Err(WireError::TooShort {
                ctx: Context::Chunk(11),
                at: 12,
                len: len.into(),
                min: 4
            })
        );
    }
    // A chunk header cut short, and a length past the end.
    let mut p = cookie_ack_packet();
    p.extend_from_slice(&[11, 0]);
    fill_checksum(&mut p, Checksum::Crc32c);
    assert_eq!(
        Packet::parse(&p, &STRICT),
        Err(WireError::Truncated {
            ctx: Context::Chunk(11),
            at: 16,
            need: 4,
            have: 2
        })
    );
    let mut p = cookie_ack_packet();
    p[15] = 8;
    fill_checksum(&mut p, Checksum::Crc32c);
    assert_eq!(
        Packet::parse(&p, &STRICT),
        Err(WireError::Truncated {
            ctx: Context::Chunk(11),
            at: 12,
            need: 8,
            have: 4
        })
    );
    // A last chunk without its padding is accepted (RFC 9260 §3.2: padding is ignored).
    let mut p = packet_of(9, &[Chunk::CookieEcho(&[1, 2, 3, 4, 5])], Checksum::Crc32c);
    p.truncate(p.len() - 3);
    fill_checksum(&mut p, Checksum::Crc32c);
    let parsed = Packet::parse(&p, &STRICT).unwrap();
    assert_eq!(
        parsed.chunks().next().unwrap().parse(),
        Ok(Chunk::CookieEcho(&[1, 2, 3, 4, 5]))
    );
}

#[test]
fn typed_bodies_check_their_lengths() {
    let parse = |t: u8, flags: u8, value: &[u8]| -> Result<Chunk<'static>, WireError> {
        let raw = RawChunk {
            at: 12,
            chunk_type: t,
            flags,
            value: Vec::leak(value.to_vec()),
        };
        raw.parse()
    };
    // DATA shorter than its 16-byte header.
    assert_eq!(
        parse(chunk_type::DATA, 3, &[0; 11]),
        Err(WireError::TooShort {
            ctx: Context::Chunk(0),
            at: 12,
            len: 15,
            min: 16
        })
    );
    // An empty DATA parses: No User Data is the engine's to answer (RFC 9260 §6.2).
    assert!(parse(chunk_type::DATA, 3, &[0; 12]).is_ok());
    // SACK whose counts disagree with its length, either way.
    let mut sack = vec![0u8; 12];
    sack[8..10].copy_from_slice(&2u16.to_be_bytes());
    sack.extend_from_slice(&[0; 4]);
    assert_eq!(
        parse(chunk_type::SACK, 0, &sack),
        Err(WireError::BadLength {
            ctx: Context::Chunk(3),
            at: 12,
            len: 20
        })
    );
    sack.extend_from_slice(&[0; 8]);
    assert_eq!(
        parse(chunk_type::SACK, 0, &sack),
        Err(WireError::BadLength {
            ctx: Context::Chunk(3),
            at: 12,
            len: 28
        })
    );
    sack.truncate(20);
    assert!(parse(chunk_type::SACK, 0, &sack).is_ok());
    // Huge counts in a small chunk.
    assert!(parse(
        chunk_type::SACK,
        0,
        &[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]
    )
    .is_err());
    // Fixed sizes.
    assert!(parse(chunk_type::SHUTDOWN, 0, &[0; 3]).is_err());
    assert!(parse(chunk_type::SHUTDOWN, 0, &[0; 5]).is_err());
    assert!(parse(chunk_type::COOKIE_ACK, 0, &[0]).is_err());
    assert!(parse(chunk_type::SHUTDOWN_COMPLETE, 1, &[0; 4]).is_err());
    assert!(parse(chunk_type::FORWARD_TSN, 0, &[0; 6]).is_err());
    assert!(parse(chunk_type::I_FORWARD_TSN, 0, &[0; 8]).is_err());
    assert!(parse(chunk_type::I_DATA, 0, &[0; 15]).is_err());
    // A parameter whose length runs past the chunk.
    let mut init = vec![0u8; 16];
    init.extend_from_slice(&[0, 7, 0, 40, 1, 2, 3, 4]);
    assert_eq!(
        parse(chunk_type::INIT, 0, &init),
        Err(WireError::Truncated {
            ctx: Context::Param(7),
            at: 12 + 4 + 16,
            need: 40,
            have: 8
        })
    );
    assert_eq!(
        WireError::Truncated {
            ctx: Context::Param(7),
            at: 0,
            need: 0,
            have: 0
        }
        .cause_code(),
        Some(7)
    );
    // Parameter lengths below 4; a parameter header cut short; fixed-size parameters.
    for bad in [
        &[0u8, 7, 0, 3][..],
        &[0, 7, 0, 0],
        &[0, 7],
        &[0, 5, 0, 7, 1, 2, 3],
        &[0, 9, 0, 6, 1, 2],
        &[0xc0, 0, 0, 5, 1],
        &[0, 12, 0, 7, 0, 5, 0],
        &[0x80, 1, 0, 6, 0, 1],
    ] {
        let mut init = vec![0u8; 16];
        init.extend_from_slice(bad);
        assert!(parse(chunk_type::INIT, 0, &init).is_err(), "{bad:?}");
    }
    // RE-CONFIG parameters with impossible sizes.
    for bad in [
        &[0u8, 13, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
        &[0, 13, 0, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        &[0, 16, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0, 17, 0, 10, 0, 0, 0, 0, 0, 0],
    ] {
        assert!(parse(chunk_type::RE_CONFIG, 0, bad).is_err(), "{bad:?}");
    }
    // Error causes: a count that does not match, a length below 4.
    assert!(parse(chunk_type::ERROR, 0, &[0, 2, 0, 10, 0, 0, 0, 2, 0, 7]).is_err());
    assert!(parse(chunk_type::ERROR, 0, &[0, 2, 0, 8, 0xff, 0xff, 0xff, 0xff]).is_err());
    assert!(parse(chunk_type::ABORT, 1, &[0, 1, 0, 2]).is_err());
    assert!(parse(chunk_type::ABORT, 1, &[0, 4, 0, 4]).is_ok());
}

#[test]
fn unknown_types_carry_the_rfc9260_action_bits() {
    for (t, action) in [
        (0x3fu8, Action::Stop),
        (0x7f, Action::StopAndReport),
        (0xbf, Action::Skip),
        (0xff, Action::SkipAndReport),
    ] {
        let bytes = packet_of(
            1,
            &[Chunk::Unknown(RawChunk {
                at: 0,
                chunk_type: t,
                flags: 0,
                value: &[],
            })],
            Checksum::Crc32c,
        );
        let p = Packet::parse(&bytes, &STRICT).unwrap();
        let raw = p.chunks().next().unwrap();
        assert_eq!(raw.action(), action);
        assert!(matches!(raw.parse(), Ok(Chunk::Unknown(_))));
        assert_eq!(action.stops(), t < 0x80);
        assert_eq!(action.reports(), t & 0x40 != 0);
    }
    let p = Param::parse(0x4001, &[], 0).unwrap();
    assert_eq!(p.action(), Some(Action::StopAndReport));
    assert_eq!(Param::ForwardTsnSupported.action(), None);
}

// ---------------------------------------------------------------------------------------
// Differential: sctp-proto's packets under weft's Association

/// Every packet a side sent, in order: (sender is the DTLS client, bytes).
type Log = Vec<(bool, Vec<u8>)>;

fn sctp_proto_config(role: Role) -> Config {
    Config {
        engine: weft_sctp::EngineKind::SctpProto,
        ..Config::new(role)
    }
}

fn new_sim(seed: u64, link: LinkConfig) -> Sim {
    let start = Instant::now();
    let mut net = Network::new(seed, start);
    net.add_host("10.0.0.1".parse().unwrap(), link.clone());
    net.add_host("10.0.0.2".parse().unwrap(), link);
    Sim {
        // sctp-proto's own packets: the captures the codec must re-encode byte for byte.
        a: Association::new(start, sctp_proto_config(Role::Client)),
        b: Association::new(start, sctp_proto_config(Role::Server)),
        net,
        a_addr: "10.0.0.1:9".parse::<SocketAddr>().unwrap(),
        b_addr: "10.0.0.2:9".parse::<SocketAddr>().unwrap(),
        events_a: Vec::new(),
        events_b: Vec::new(),
    }
}

fn flush(sim: &mut Sim, log: &mut Log) {
    while let Some(o) = sim.a.poll_output() {
        match o {
            Output::Transmit(p) => {
                log.push((true, p.to_vec()));
                sim.net.send(sim.a_addr, sim.b_addr, &p);
            }
            Output::Event(e) => sim.events_a.push(e),
        }
    }
    while let Some(o) = sim.b.poll_output() {
        match o {
            Output::Transmit(p) => {
                log.push((false, p.to_vec()));
                sim.net.send(sim.b_addr, sim.a_addr, &p);
            }
            Output::Event(e) => sim.events_b.push(e),
        }
    }
}

fn step(sim: &mut Sim, log: &mut Log) -> bool {
    let next = [
        sim.net.poll_timeout(),
        sim.a.poll_timeout(),
        sim.b.poll_timeout(),
    ]
    .into_iter()
    .flatten()
    .min();
    let Some(t) = next else { return false };
    let t = t.max(sim.net.now());
    sim.net.advance(t);
    while let Some(d) = sim.net.poll_receive() {
        if d.dst == sim.a_addr {
            sim.a.handle_input(t, &d.bytes);
        } else {
            sim.b.handle_input(t, &d.bytes);
        }
    }
    if sim.a.poll_timeout().is_some_and(|x| x <= t) {
        sim.a.handle_timeout(t);
    }
    if sim.b.poll_timeout().is_some_and(|x| x <= t) {
        sim.b.handle_timeout(t);
    }
    flush(sim, log);
    true
}

fn run_until(sim: &mut Sim, log: &mut Log, limit: Duration, mut done: impl FnMut(&Sim) -> bool) {
    let deadline = sim.net.now() + limit;
    loop {
        flush(sim, log);
        if done(sim) {
            return;
        }
        assert!(
            sim.net.now() <= deadline,
            "virtual time limit passed; events a {:?}; b {:?}",
            sim.events_a.iter().rev().take(5).collect::<Vec<_>>(),
            sim.events_b.iter().rev().take(5).collect::<Vec<_>>()
        );
        assert!(step(sim, log), "nothing pending");
    }
}

/// What a capture held.
#[derive(Default, Debug)]
struct Seen {
    packets: usize,
    chunks: BTreeMap<u8, usize>,
    sack_gaps: usize,
    sack_dups: usize,
    dcep_opens: usize,
    dcep_acks: usize,
    reset_streams: BTreeSet<u16>,
    reconfig_responses: usize,
    fragments: usize,
    unordered: usize,
    forward_tsn_params: bool,
    /// The parameters of every INIT and INIT ACK, by type, and the chunk types each
    /// side lists as Supported Extensions.
    init_params: BTreeSet<u16>,
    extensions: BTreeSet<u8>,
}

/// TSN `a` at or before `b` (RFC 9260 §1.6 serial number arithmetic).
fn tsn_le(a: u32, b: u32) -> bool {
    a == b || b.wrapping_sub(a) < (1 << 31)
}

/// The checks every captured packet must pass: parses with its CRC32c verified, every
/// chunk typed, the re-encoding equal byte for byte, the verification tags right, DCEP
/// messages well formed, every DATA TSN acknowledged by a later SACK of the other side.
fn check_capture(log: &Log, what: &str) -> Seen {
    let mut seen = Seen::default();
    // The tag each side chose (INIT / INIT ACK initiate tags).
    let mut tags: [Option<u32>; 2] = [None, None];
    // DATA TSNs waiting for the other side's SACK: per sender.
    let mut unacked: [BTreeSet<u32>; 2] = [BTreeSet::new(), BTreeSet::new()];
    for (i, (from_client, bytes)) in log.iter().enumerate() {
        let me = usize::from(!*from_client);
        let peer = 1 - me;
        let packet = Packet::parse(bytes, &STRICT)
            .unwrap_or_else(|e| panic!("{what}: packet {i} ({} bytes): {e}", bytes.len()));
        seen.packets += 1;
        assert_eq!(&reencode(&packet), bytes, "{what}: packet {i} re-encodes");
        // The fuzz harness's round trip, on real traffic.
        #[cfg(feature = "fuzzing")]
        assert_eq!(
            weft_sctp::fuzzing::wire_round_trip(bytes).as_ref(),
            Some(bytes)
        );
        let mut has_init = false;
        let mut reflected = false;
        for raw in packet.chunks() {
            *seen.chunks.entry(raw.chunk_type).or_default() += 1;
            match raw.parse().unwrap() {
                Chunk::Init(init) | Chunk::InitAck(init) => {
                    for p in init.params.iter() {
                        seen.init_params.insert(p.param_type());
                        if let Param::SupportedExtensions(types) = p {
                            seen.extensions.extend(types.iter().copied());
                        }
                    }
                    has_init |= raw.chunk_type == chunk_type::INIT;
                    tags[me] = Some(init.initiate_tag);
                    seen.forward_tsn_params |=
                        init.params.iter().any(|p| p == Param::ForwardTsnSupported);
                    assert!(
                        raw.chunk_type == chunk_type::INIT
                            || init
                                .params
                                .iter()
                                .any(|p| matches!(p, Param::StateCookie(_))),
                        "{what}: INIT ACK without a cookie"
                    );
                }

                Chunk::Data(d) => {
                    // Retransmissions of an acknowledged TSN are already gone.
                    unacked[me].insert(d.tsn);
                    if d.ppid == dcep::PPID_DCEP {
                        match dcep::Message::parse(d.payload) {
                            Ok(dcep::Message::Open(_)) => seen.dcep_opens += 1,
                            Ok(dcep::Message::Ack) => seen.dcep_acks += 1,
                            Err(e) => panic!("{what}: DCEP in packet {i}: {e:?}"),
                        }
                    }
                    if !(d.beginning() && d.ending()) {
                        seen.fragments += 1;
                    }
                    if d.unordered() {
                        seen.unordered += 1;
                    }
                }
                Chunk::Sack(s) => {
                    seen.sack_gaps += s.gap_blocks.len();
                    seen.sack_dups += s.dup_tsns.len();
                    let cum = s.cum_tsn_ack;
                    let gaps: Vec<GapBlock> = s.gap_blocks.iter().collect();
                    unacked[peer].retain(|&tsn| {
                        let covered = tsn_le(tsn, cum)
                            || gaps.iter().any(|g| {
                                let lo = cum.wrapping_add(g.start.into());
                                let hi = cum.wrapping_add(g.end.into());
                                tsn_le(lo, tsn) && tsn_le(tsn, hi)
                            });
                        !covered
                    });
                }
                Chunk::Shutdown { cum_tsn_ack } => {
                    // RFC 9260 §3.3.8: SHUTDOWN acknowledges too.
                    unacked[peer].retain(|&tsn| !tsn_le(tsn, cum_tsn_ack));
                }
                Chunk::ForwardTsn(f) => {
                    // Abandoned TSNs up to the new cumulative TSN need no SACK of theirs.
                    unacked[me].retain(|&tsn| !tsn_le(tsn, f.new_cum_tsn));
                }
                Chunk::ReConfig(params) => {
                    for p in params.iter() {
                        match p {
                            Param::OutgoingSsnResetRequest { streams, .. } => {
                                seen.reset_streams.extend(streams.iter());
                            }
                            Param::ReconfigResponse { .. } => seen.reconfig_responses += 1,
                            _ => {}
                        }
                    }
                }
                Chunk::ShutdownComplete { tag_reflected } => reflected |= tag_reflected,
                Chunk::Abort(a) => reflected |= a.tag_reflected,
                _ => {}
            }
        }
        // RFC 9260 §8.5: INIT goes with tag 0; everything else with the peer's tag (or,
        // with T set, the sender's own).
        let tag = packet.header().verification_tag;
        if has_init {
            assert_eq!(tag, 0, "{what}: packet {i}: INIT with a tag");
            assert_eq!(packet.chunks().count(), 1, "{what}: INIT bundled");
        } else if reflected {
            assert_eq!(Some(tag), tags[me], "{what}: packet {i}: reflected tag");
        } else {
            assert_eq!(Some(tag), tags[peer], "{what}: packet {i}: tag");
        }
    }
    for (side, left) in unacked.iter().enumerate() {
        assert!(
            left.is_empty(),
            "{what}: side {side}: DATA TSNs never acknowledged: {left:?}"
        );
    }
    seen
}

/// Message `n` of `len` bytes: odd ones text (ASCII), even ones binary.
fn message(n: usize, len: usize) -> (MessageKind, Vec<u8>) {
    if n % 2 == 1 {
        (
            MessageKind::Text,
            (0..len).map(|i| b'a' + ((i + n) % 26) as u8).collect(),
        )
    } else {
        (
            MessageKind::Binary,
            common::numbered(n as u32, len)[..len].to_vec(),
        )
    }
}

fn sizes() -> Vec<usize> {
    vec![
        0, 1, 3, 100, 1024, 1199, 1200, 1201, 2500, 5000, 65_536, 100_000,
    ]
}

/// Opens a channel of every kind, sends messages of every size on each, closes one
/// channel, then the association; returns the capture and the channel ids.
fn run_scenario(seed: u64, link: LinkConfig) -> (Log, Vec<u16>, Sim) {
    let mut sim = new_sim(seed, link);
    let mut log = Log::new();
    let kinds = [
        Reliability::RELIABLE,
        Reliability {
            ordered: false,
            policy: Policy::Reliable,
        },
        Reliability {
            ordered: false,
            policy: Policy::MaxRetransmits(0),
        },
        Reliability {
            ordered: true,
            policy: Policy::MaxLifetimeMs(50),
        },
    ];
    let ids: Vec<u16> = kinds
        .iter()
        .enumerate()
        .map(|(i, r)| {
            sim.a
                .open_channel(
                    &format!("ch{i}"),
                    ChannelOptions {
                        reliability: *r,
                        ..ChannelOptions::default()
                    },
                )
                .unwrap()
        })
        .collect();
    run_until(&mut sim, &mut log, Duration::from_secs(60), |s| {
        s.a.is_established() && s.b.is_established()
    });
    run_until(&mut sim, &mut log, Duration::from_secs(60), |s| {
        common::remote_opens(&s.events_b).len() == ids.len()
    });
    // Let the DCEP ACKs come back: until then user messages go ordered (RFC 8832 §6).
    sim.run_for_with(&mut log, Duration::from_secs(1));
    for (n, len) in sizes().into_iter().enumerate() {
        for &id in &ids {
            let (kind, m) = message(n, len);
            sim.a.send(id, kind, &m).unwrap();
        }
        // And back, so both sides send DATA and SACK.
        let _ = sim.b.send(ids[0], MessageKind::Binary, &vec![n as u8; len]);
    }
    // (No HEARTBEAT comes from sctp-proto here, even after 45 s idle; the chunk is
    // covered by `every_chunk_and_parameter_round_trips`.)
    sim.run_for_with(&mut log, Duration::from_secs(20));
    sim.a.close_channel(ids[0]).unwrap();
    run_until(&mut sim, &mut log, Duration::from_secs(60), |s| {
        s.events_a.contains(&Event::ChannelIdFree { id: ids[0] })
    });
    sim.a.close();
    run_until(&mut sim, &mut log, Duration::from_secs(60), |s| {
        s.a.is_closed()
    });
    let closed_at = log.len();
    sim.run_for_with(&mut log, Duration::from_secs(30));
    if !sim.b.is_closed() {
        // What the server sent after the client was gone.
        let after: Vec<Vec<u8>> = log[closed_at..]
            .iter()
            .filter(|(c, _)| !c)
            .map(|(_, b)| {
                let p = Packet::parse(b, &STRICT).unwrap();
                p.chunks().map(|c| c.chunk_type).collect()
            })
            .collect();
        eprintln!("seed {seed}: server still open 30 s after the client closed; it sent {after:?}");
    }
    (log, ids, sim)
}

trait RunFor {
    fn run_for_with(&mut self, log: &mut Log, d: Duration);
}

impl RunFor for Sim {
    fn run_for_with(&mut self, log: &mut Log, d: Duration) {
        let deadline = self.net.now() + d;
        flush(self, log);
        while self.net.now() < deadline && step(self, log) {}
    }
}

#[test]
fn sctp_proto_packets_parse_and_reencode_byte_for_byte() {
    let link = LinkConfig {
        delay: Duration::from_millis(5),
        ..lossy(0.0)
    };
    let (log, ids, sim) = run_scenario(7, link);
    let seen = check_capture(&log, "lossless");
    eprintln!("lossless: {seen:?}");
    assert_eq!(seen.dcep_opens, ids.len());
    assert_eq!(seen.dcep_acks, ids.len());
    for t in [
        chunk_type::INIT,
        chunk_type::INIT_ACK,
        chunk_type::COOKIE_ECHO,
        chunk_type::COOKIE_ACK,
        chunk_type::DATA,
        chunk_type::SACK,
        chunk_type::RE_CONFIG,
        chunk_type::SHUTDOWN,
        chunk_type::SHUTDOWN_ACK,
        chunk_type::SHUTDOWN_COMPLETE,
    ] {
        assert!(
            seen.chunks.contains_key(&t),
            "no chunk of type {t}: {seen:?}"
        );
    }
    assert!(seen.reset_streams.contains(&ids[0]));
    // RFC 5061 §4.2.7: sctp-proto lists RE-CONFIG and FORWARD TSN as extensions (and sends
    // no Forward-TSN-Supported parameter).
    assert!(seen.extensions.contains(&chunk_type::RE_CONFIG));
    assert!(seen.extensions.contains(&chunk_type::FORWARD_TSN));
    write_seeds(&log);
    assert!(seen.reconfig_responses > 0);
    assert!(seen.fragments > 0 && seen.unordered > 0);

    // The reliable ordered channel's messages, joined from the DATA chunks the client
    // sent (each TSN once, in TSN order), are the messages sent.
    let mut by_tsn = BTreeMap::new();
    for (from_client, bytes) in &log {
        if !from_client {
            continue;
        }
        let p = Packet::parse(bytes, &STRICT).unwrap();
        for raw in p.chunks() {
            if let Ok(Chunk::Data(d)) = raw.parse() {
                if d.stream_id == ids[0] && d.ppid != dcep::PPID_DCEP {
                    by_tsn.insert(d.tsn, (d.flags, d.payload.to_vec()));
                }
            }
        }
    }
    let mut messages = Vec::new();
    let mut current = Vec::new();
    for (_, (flags, payload)) in by_tsn {
        if flags & Data::BEGINNING != 0 {
            current.clear();
        }
        current.extend_from_slice(&payload);
        if flags & Data::ENDING != 0 {
            messages.push(std::mem::take(&mut current));
        }
    }
    let want: Vec<Vec<u8>> = sizes()
        .into_iter()
        .enumerate()
        // Empty messages go as one zero byte (RFC 8831 §6.6).
        .map(
            |(n, len)| {
                if len == 0 {
                    vec![0]
                } else {
                    message(n, len).1
                }
            },
        )
        .collect();
    assert_eq!(messages.len(), want.len());
    assert!(messages == want, "reassembled messages differ");
    assert!(sim.a.is_closed() && sim.b.is_closed());
}

/// With `WEFT_WIRE_SEEDS=dir`, writes a few captured packets of each chunk-type mix
/// there, as fuzz seeds (`fuzz/corpus/sctp_wire_seed`).
fn write_seeds(log: &Log) {
    let Some(dir) = std::env::var_os("WEFT_WIRE_SEEDS") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let mut kinds = BTreeMap::<Vec<u8>, usize>::new();
    for (i, (_, bytes)) in log.iter().enumerate() {
        let p = Packet::parse(bytes, &STRICT).unwrap();
        let kind: Vec<u8> = p.chunks().map(|c| c.chunk_type).collect();
        let n = kinds.entry(kind).or_default();
        *n += 1;
        if *n <= 3 && bytes.len() <= 1300 {
            std::fs::write(
                std::path::Path::new(&dir).join(format!("packet-{i}")),
                bytes,
            )
            .unwrap();
        }
    }
}

#[test]
fn sctp_proto_packets_under_loss_parse_and_reencode() {
    // Loss, duplication and reordering: retransmissions, SACK gap blocks and duplicate
    // TSNs, FORWARD TSN for the partially reliable channels.
    let mut totals = Seen::default();
    for seed in [1u64, 2, 3] {
        let (log, _, _) = run_scenario(seed, lossy(0.1));
        let seen = check_capture(&log, &format!("lossy seed {seed}"));
        eprintln!("lossy seed {seed}: {seen:?}");
        totals.sack_gaps += seen.sack_gaps;
        totals.sack_dups += seen.sack_dups;
        for (t, n) in seen.chunks {
            *totals.chunks.entry(t).or_default() += n;
        }
    }
    assert!(totals.sack_gaps > 0, "{totals:?}");
    assert!(
        totals.chunks.contains_key(&chunk_type::FORWARD_TSN),
        "{totals:?}"
    );
}

#[test]
fn truncations_of_real_packets_give_typed_errors() {
    let (log, _, _) = run_scenario(11, lossy(0.0));
    let mut errors = BTreeMap::<String, usize>::new();
    for (_, bytes) in log.iter().take(400) {
        for cut in 0..bytes.len() {
            let short = &bytes[..cut];
            // As cut: the checksum no longer matches (or there is no header).
            assert!(Packet::parse(short, &STRICT).is_err());
            // With the checksum made right, the cut lands in the framing or a chunk body.
            let mut fixed = short.to_vec();
            fill_checksum(&mut fixed, Checksum::Crc32c);
            match Packet::parse(&fixed, &STRICT) {
                Ok(p) => {
                    for raw in p.chunks() {
                        if let Err(e) = raw.parse() {
                            *errors
                                .entry(format!("{e:?}").split(' ').next().unwrap().into())
                                .or_default() += 1;
                        }
                    }
                }
                Err(e) => {
                    *errors
                        .entry(format!("{e:?}").split(' ').next().unwrap().into())
                        .or_default() += 1;
                }
            }
            // And through the fuzz harness's checks.
            let _ = Packet::parse_without_checksum(short).map(|p| {
                p.chunks().for_each(|c| {
                    let _ = c.parse();
                })
            });
        }
    }
    eprintln!("errors by kind: {errors:?}");
    assert!(errors.contains_key("Truncated"));
    assert!(errors.contains_key("NoChunks"));
}

// ---------------------------------------------------------------------------------------
// Differential: webrtc-rs's SCTP (webrtc-sctp 0.17) over its in-memory pipe

mod rs {
    use super::*;
    use bytes::Bytes;
    use webrtc_data::data_channel::{Config as DcConfig, DataChannel};
    use webrtc_sctp::association::{Association as RsAssociation, Config as RsConfig};
    use webrtc_util::conn::conn_pipe::pipe;
    use webrtc_util::conn::Conn;

    const MAX: u32 = 256 * 1024;

    struct Driver {
        assoc: Association,
        conn: Arc<dyn Conn + Send + Sync>,
        events: Vec<Event>,
        buf: Vec<u8>,
        /// Every packet both ways, marked by whether the DTLS client sent it.
        log: Log,
        weft_is_client: bool,
    }

    impl Driver {
        async fn flush(&mut self) {
            while let Some(o) = self.assoc.poll_output() {
                match o {
                    Output::Transmit(p) => {
                        self.log.push((self.weft_is_client, p.to_vec()));
                        self.conn.send(&p).await.expect("pipe send");
                    }
                    Output::Event(e) => self.events.push(e),
                }
            }
        }

        async fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Driver) -> bool) {
            let deadline = tokio::time::Instant::now() + limit;
            loop {
                self.flush().await;
                if done(self) {
                    return;
                }
                let wake = self
                    .assoc
                    .poll_timeout()
                    .map(|t| t.saturating_duration_since(Instant::now()))
                    .unwrap_or(Duration::from_millis(50))
                    .min(Duration::from_millis(50));
                tokio::select! {
                    r = self.conn.recv(&mut self.buf) => {
                        let n = r.expect("pipe recv");
                        self.log.push((!self.weft_is_client, self.buf[..n].to_vec()));
                        self.assoc.handle_input(Instant::now(), &self.buf[..n]);
                    }
                    _ = tokio::time::sleep(wake) => {
                        self.assoc.handle_timeout(Instant::now());
                    }
                    _ = tokio::time::sleep_until(deadline) => {
                        panic!("timed out; weft events: {:?}", self.events);
                    }
                }
            }
        }

        fn messages(&self, id: u16) -> usize {
            self.events
                .iter()
                .filter(|e| matches!(e, Event::Message { id: i, .. } if *i == id))
                .count()
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn webrtc_rs_packets_parse_and_reencode_byte_for_byte() {
        let (rs_end, weft_end) = pipe();
        let rs_end: Arc<dyn Conn + Send + Sync> = Arc::new(rs_end);
        let weft_end: Arc<dyn Conn + Send + Sync> = Arc::new(weft_end);
        tokio::spawn(async move {
            let assoc = Arc::new(
                RsAssociation::server(RsConfig {
                    net_conn: rs_end,
                    max_receive_buffer_size: 1024 * 1024,
                    max_message_size: MAX,
                    mtu: 0,
                    name: "webrtc-rs server".into(),
                    remote_port: 5000,
                    local_port: 5000,
                })
                .await
                .expect("webrtc-rs association"),
            );
            let a = assoc.clone();
            tokio::spawn(async move {
                loop {
                    let config = DcConfig {
                        max_message_size: MAX,
                        ..DcConfig::default()
                    };
                    let none: &[DataChannel] = &[];
                    let Ok(dc) = DataChannel::accept(&a, config, none).await else {
                        return;
                    };
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; MAX as usize + 16];
                        while let Ok((n, is_string)) = dc.read_data_channel(&mut buf).await {
                            let msg = Bytes::copy_from_slice(&buf[..n]);
                            if dc.write_data_channel(&msg, is_string).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            });
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(assoc);
        });

        let mut weft = Driver {
            assoc: Association::new(Instant::now(), Config::new(Role::Client)),
            conn: weft_end,
            events: Vec::new(),
            buf: vec![0; 70_000],
            log: Log::new(),
            weft_is_client: true,
        };
        let kinds = [
            Reliability::RELIABLE,
            Reliability {
                ordered: false,
                policy: Policy::MaxRetransmits(0),
            },
        ];
        let ids: Vec<u16> = kinds
            .iter()
            .enumerate()
            .map(|(i, r)| {
                weft.assoc
                    .open_channel(
                        &format!("ch{i}"),
                        ChannelOptions {
                            reliability: *r,
                            ..ChannelOptions::default()
                        },
                    )
                    .unwrap()
            })
            .collect();
        weft.run_until(Duration::from_secs(20), |d| d.assoc.is_established())
            .await;
        let sizes = [1usize, 100, 1200, 1201, 5000, 100_000];
        for &id in &ids {
            for (n, &len) in sizes.iter().enumerate() {
                weft.assoc
                    .send(id, MessageKind::Binary, &common::numbered(n as u32, len))
                    .unwrap();
            }
        }
        weft.run_until(Duration::from_secs(30), |d| {
            ids.iter().all(|&id| d.messages(id) == sizes.len())
        })
        .await;
        weft.assoc.close_channel(ids[0]).unwrap();
        let first = ids[0];
        weft.run_until(Duration::from_secs(20), |d| {
            d.events.contains(&Event::ChannelIdFree { id: first })
        })
        .await;

        // Let the last SACKs come in.
        let settle = Instant::now() + Duration::from_millis(300);
        weft.run_until(Duration::from_secs(5), |_| Instant::now() >= settle)
            .await;

        let theirs: Log = weft.log.iter().filter(|(c, _)| !c).cloned().collect();
        assert!(theirs.len() > 10);
        let seen = check_capture(&weft.log, "webrtc-rs");
        eprintln!("webrtc-rs and weft: {seen:?}");
        // webrtc-rs's own: its INIT ACK, COOKIE ACK, DCEP ACKs, echoed DATA, SACKs and
        // its answer to the stream reset.
        let mut theirs_seen = BTreeMap::<u8, usize>::new();
        for (_, bytes) in &theirs {
            let p = Packet::parse(bytes, &STRICT).unwrap();
            for raw in p.chunks() {
                *theirs_seen.entry(raw.chunk_type).or_default() += 1;
            }
        }
        for t in [
            chunk_type::INIT_ACK,
            chunk_type::COOKIE_ACK,
            chunk_type::DATA,
            chunk_type::SACK,
            chunk_type::RE_CONFIG,
        ] {
            assert!(
                theirs_seen.contains_key(&t),
                "webrtc-rs sent no {t}: {theirs_seen:?}"
            );
        }
        assert_eq!(seen.dcep_acks, ids.len());
    }

    /// webrtc-rs as the DTLS client: its INIT, COOKIE ECHO, DCEP OPENs and data.
    #[tokio::test(flavor = "current_thread")]
    async fn webrtc_rs_client_packets_parse_and_reencode_byte_for_byte() {
        use webrtc_data::message::message_channel_open::ChannelType;
        let (rs_end, weft_end) = pipe();
        let rs_end: Arc<dyn Conn + Send + Sync> = Arc::new(rs_end);
        let weft_end: Arc<dyn Conn + Send + Sync> = Arc::new(weft_end);
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<u16>();
        let sends: Vec<(bool, Vec<u8>)> = vec![
            (true, b"from webrtc-rs".to_vec()),
            (false, vec![9; 100_000]),
            (false, vec![1; 1201]),
            (true, vec![]),
        ];
        let rs_sends = sends.clone();
        tokio::spawn(async move {
            let assoc = Arc::new(
                RsAssociation::client(RsConfig {
                    net_conn: rs_end,
                    max_receive_buffer_size: 1024 * 1024,
                    max_message_size: MAX,
                    mtu: 0,
                    name: "webrtc-rs client".into(),
                    remote_port: 5000,
                    local_port: 5000,
                })
                .await
                .expect("webrtc-rs association"),
            );
            for (id, channel_type) in [
                (0u16, ChannelType::Reliable),
                (2, ChannelType::PartialReliableRexmitUnordered),
            ] {
                let dc = DataChannel::dial(
                    &assoc,
                    id,
                    DcConfig {
                        channel_type,
                        label: format!("rs-{id}"),
                        max_message_size: MAX,
                        ..DcConfig::default()
                    },
                )
                .await
                .expect("dial");
                let tx = done_tx.clone();
                let sends = rs_sends.clone();
                tokio::spawn(async move {
                    for (is_string, data) in &sends {
                        dc.write_data_channel(&Bytes::copy_from_slice(data), *is_string)
                            .await
                            .expect("write");
                    }
                    let mut buf = vec![0u8; MAX as usize];
                    let mut got = 0;
                    while got < sends.len() {
                        if dc.read_data_channel(&mut buf).await.is_err() {
                            break;
                        }
                        got += 1;
                    }
                    let _ = tx.send(id);
                    tokio::time::sleep(Duration::from_secs(60)).await;
                });
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(assoc);
        });

        let mut weft = Driver {
            assoc: Association::new(Instant::now(), Config::new(Role::Server)),
            conn: weft_end,
            events: Vec::new(),
            buf: vec![0; 70_000],
            log: Log::new(),
            weft_is_client: false,
        };
        // weft echoes every message until webrtc-rs has read its echoes on both channels.
        let mut done = 0;
        let deadline = Instant::now() + Duration::from_secs(30);
        while done < 2 {
            assert!(Instant::now() < deadline, "timed out: {:?}", weft.events);
            let before = weft.events.len();
            weft.run_until(Duration::from_secs(30), |d| d.events.len() > before)
                .await;
            let new: Vec<Event> = weft.events[before..].to_vec();
            for e in new {
                if let Event::Message { id, kind, data } = e {
                    weft.assoc.send(id, kind, &data).unwrap();
                }
            }
            while done_rx.try_recv().is_ok() {
                done += 1;
            }
        }
        let settle = Instant::now() + Duration::from_millis(300);
        weft.run_until(Duration::from_secs(5), |_| Instant::now() >= settle)
            .await;
        let seen = check_capture(&weft.log, "webrtc-rs client");
        eprintln!("webrtc-rs client and weft: {seen:?}");
        let mut theirs = BTreeMap::<u8, usize>::new();
        for (from_client, bytes) in &weft.log {
            if *from_client {
                let p = Packet::parse(bytes, &STRICT).unwrap();
                for raw in p.chunks() {
                    *theirs.entry(raw.chunk_type).or_default() += 1;
                }
            }
        }
        for t in [
            chunk_type::INIT,
            chunk_type::COOKIE_ECHO,
            chunk_type::DATA,
            chunk_type::SACK,
        ] {
            assert!(theirs.contains_key(&t), "webrtc-rs sent no {t}: {theirs:?}");
        }
        assert_eq!(seen.dcep_opens, 2);
        assert!(seen.unordered > 0 && seen.fragments > 0);
    }
}
