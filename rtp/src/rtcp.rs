//! RTCP (RFC 3550 §6, RFC 4585, RFC 5104, RFC 3611, RFC 5506, draft-alvestrand-rmcat-remb,
//! draft-holmer-rmcat-transport-wide-cc-extensions): compound packets as an iterator of
//! typed views; builders for the reports and feedback a receiver sends. Transport-wide
//! feedback lives in [`crate::twcc`] and is re-exported here.

use crate::Error;

pub use crate::twcc::{write_transport_cc, FeedbackPackets, PacketStatus, TransportFeedback};

fn be16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611 §2).
pub mod pt {
    /// Sender report.
    pub const SR: u8 = 200;
    /// Receiver report.
    pub const RR: u8 = 201;
    /// Source description.
    pub const SDES: u8 = 202;
    /// Goodbye.
    pub const BYE: u8 = 203;
    /// Application-defined.
    pub const APP: u8 = 204;
    /// Transport-layer feedback.
    pub const RTPFB: u8 = 205;
    /// Payload-specific feedback.
    pub const PSFB: u8 = 206;
    /// Extended reports.
    pub const XR: u8 = 207;
}

/// One report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source reported on.
    pub ssrc: u32,
    /// Fraction lost since the last report, /256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_seq: u32,
    /// Interarrival jitter.
    pub jitter: u32,
    /// Last SR timestamp.
    pub lsr: u32,
    /// Delay since last SR, 1/65536 s.
    pub dlsr: u32,
}

impl ReportBlock {
    fn read(b: &[u8]) -> Self {
        ReportBlock {
            ssrc: be32(b, 0),
            fraction_lost: b.get(4).copied().unwrap_or(0),
            cumulative_lost: (be32(b, 4) << 8) as i32 >> 8,
            highest_seq: be32(b, 8),
            jitter: be32(b, 12),
            lsr: be32(b, 16),
            dlsr: be32(b, 20),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        let lost = (self.cumulative_lost as u32) & 0x00ff_ffff;
        out.extend_from_slice(&((u32::from(self.fraction_lost) << 24) | lost).to_be_bytes());
        for v in [self.highest_seq, self.jitter, self.lsr, self.dlsr] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// One SDES chunk (RFC 3550 §6.5): a source and its `(item type, text)` items.
pub type SdesChunk<'a> = (u32, Vec<(u8, &'a [u8])>);

/// A typed view of one packet of a compound.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// Sender report.
    SenderReport {
        /// Sender SSRC.
        ssrc: u32,
        /// NTP timestamp.
        ntp: u64,
        /// RTP timestamp.
        rtp_timestamp: u32,
        /// Packets sent.
        packets: u32,
        /// Octets sent.
        octets: u32,
        /// Report blocks.
        reports: Vec<ReportBlock>,
    },
    /// Receiver report.
    ReceiverReport {
        /// Sender SSRC.
        ssrc: u32,
        /// Report blocks.
        reports: Vec<ReportBlock>,
    },
    /// Source description chunks.
    SourceDescription(Vec<SdesChunk<'a>>),
    /// Goodbye: sources and optional reason.
    Bye {
        /// The sources leaving.
        sources: Vec<u32>,
        /// Reason.
        reason: Option<&'a [u8]>,
    },
    /// Generic NACK (RFC 4585 §6.2.1): lost sequence numbers, expanded.
    Nack {
        /// Sender.
        sender: u32,
        /// Media source.
        media: u32,
        /// Lost sequence numbers.
        lost: Vec<u16>,
    },
    /// Picture loss indication (RFC 4585 §6.3.1).
    Pli {
        /// Sender.
        sender: u32,
        /// Media source.
        media: u32,
    },
    /// Full intra request (RFC 5104 §4.3.1): `(ssrc, command sequence number)` entries.
    Fir {
        /// Sender.
        sender: u32,
        /// Requests.
        entries: Vec<(u32, u8)>,
    },
    /// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb).
    Remb {
        /// Sender.
        sender: u32,
        /// Bits per second.
        bitrate: u64,
        /// The sources it applies to.
        ssrcs: Vec<u32>,
    },
    /// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
    /// extensions-01 §3.1), its chunks and deltas checked against its status count.
    TransportCc(TransportFeedback<'a>),
    /// Extended report blocks (RFC 3611): `(block type, block contents)`.
    ExtendedReport {
        /// Sender.
        ssrc: u32,
        /// Blocks.
        blocks: Vec<(u8, &'a [u8])>,
    },
    /// Application-defined, or a type this parser does not know: header fields and body.
    Other {
        /// Packet type.
        packet_type: u8,
        /// The 5-bit count/format field.
        count: u8,
        /// Everything after the 4-byte header.
        body: &'a [u8],
    },
}

/// Iterates the packets of a compound (RFC 3550 §6.1). Reduced-size RTCP (RFC 5506) is
/// accepted: the first packet need not be SR or RR.
pub fn parse_compound(bytes: &[u8]) -> impl Iterator<Item = Result<RtcpPacket<'_>, Error>> {
    let mut pos = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || pos >= bytes.len() {
            return None;
        }
        let r = parse_one(bytes.get(pos..).unwrap_or_default());
        match r {
            Ok((p, used)) => {
                pos += used;
                Some(Ok(p))
            }
            Err(e) => {
                failed = true;
                Some(Err(e))
            }
        }
    })
}

fn parse_one(b: &[u8]) -> Result<(RtcpPacket<'_>, usize), Error> {
    if b.len() < 4 {
        return Err(Error::TooShort);
    }
    let b0 = b[0];
    if b0 >> 6 != 2 {
        return Err(Error::BadVersion(b0 >> 6));
    }
    let count = b0 & 0x1f;
    let packet_type = b[1];
    let len = 4 * (usize::from(be16(b, 2)) + 1);
    let pkt = b.get(..len).ok_or(Error::TooShort)?;
    let mut end = len;
    if b0 & 0x20 != 0 {
        let pad = usize::from(*pkt.last().ok_or(Error::TooShort)?);
        if pad == 0 || pad > len - 4 {
            return Err(Error::BadPadding);
        }
        end -= pad;
    }
    let body = pkt.get(4..end).ok_or(Error::TooShort)?;
    let reports = |from: usize, n: u8| -> Result<Vec<ReportBlock>, Error> {
        (0..usize::from(n))
            .map(|i| {
                body.get(from + 24 * i..from + 24 * (i + 1))
                    .map(ReportBlock::read)
                    .ok_or(Error::TooShort)
            })
            .collect()
    };
    let p = match (packet_type, count) {
        (pt::SR, n) => {
            if body.len() < 24 {
                return Err(Error::TooShort);
            }
            RtcpPacket::SenderReport {
                ssrc: be32(body, 0),
                ntp: u64::from(be32(body, 4)) << 32 | u64::from(be32(body, 8)),
                rtp_timestamp: be32(body, 12),
                packets: be32(body, 16),
                octets: be32(body, 20),
                reports: reports(24, n)?,
            }
        }
        (pt::RR, n) => {
            if body.len() < 4 {
                return Err(Error::TooShort);
            }
            RtcpPacket::ReceiverReport {
                ssrc: be32(body, 0),
                reports: reports(4, n)?,
            }
        }
        (pt::SDES, n) => {
            let mut chunks = Vec::new();
            let mut at = 0usize;
            for _ in 0..n {
                let ssrc = body
                    .get(at..at + 4)
                    .ok_or(Error::TooShort)
                    .map(|_| be32(body, at))?;
                at += 4;
                let mut items = Vec::new();
                loop {
                    let t = *body.get(at).ok_or(Error::TooShort)?;
                    if t == 0 {
                        // RFC 3550 §6.5: END, then pad to a 32-bit boundary.
                        at = (at + 4) & !3;
                        break;
                    }
                    let l = usize::from(*body.get(at + 1).ok_or(Error::TooShort)?);
                    items.push((t, body.get(at + 2..at + 2 + l).ok_or(Error::TooShort)?));
                    at += 2 + l;
                }
                chunks.push((ssrc, items));
            }
            RtcpPacket::SourceDescription(chunks)
        }
        (pt::BYE, n) => {
            let n = usize::from(n);
            let sources = (0..n)
                .map(|i| {
                    body.get(4 * i..4 * i + 4)
                        .map(|_| be32(body, 4 * i))
                        .ok_or(Error::TooShort)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let reason = body.get(4 * n).map(|&l| {
                body.get(4 * n + 1..4 * n + 1 + usize::from(l))
                    .unwrap_or_default()
            });
            RtcpPacket::Bye { sources, reason }
        }
        (pt::RTPFB, 1) => {
            if body.len() < 8 {
                return Err(Error::TooShort);
            }
            let mut lost = Vec::new();
            for fci in body.get(8..).unwrap_or_default().chunks_exact(4) {
                // RFC 4585 §6.2.1: PID and a bitmask of the 16 following.
                let pid = u16::from_be_bytes([fci[0], fci[1]]);
                let blp = u16::from_be_bytes([fci[2], fci[3]]);
                lost.push(pid);
                for i in 0..16u16 {
                    if blp & (1 << i) != 0 {
                        lost.push(pid.wrapping_add(i + 1));
                    }
                }
            }
            RtcpPacket::Nack {
                sender: be32(body, 0),
                media: be32(body, 4),
                lost,
            }
        }
        (pt::RTPFB, 15) => RtcpPacket::TransportCc(TransportFeedback::parse(body)?),
        (pt::PSFB, 1) => {
            if body.len() < 8 {
                return Err(Error::TooShort);
            }
            RtcpPacket::Pli {
                sender: be32(body, 0),
                media: be32(body, 4),
            }
        }
        (pt::PSFB, 4) => {
            if body.len() < 8 {
                return Err(Error::TooShort);
            }
            let entries = body
                .get(8..)
                .unwrap_or_default()
                .chunks_exact(8)
                .map(|e| (u32::from_be_bytes([e[0], e[1], e[2], e[3]]), e[4]))
                .collect();
            RtcpPacket::Fir {
                sender: be32(body, 0),
                entries,
            }
        }
        (pt::PSFB, 15) if body.get(8..12) == Some(b"REMB") => {
            // draft-alvestrand-rmcat-remb-03 §2.2: Num SSRC (8 bits), BR Exp (6 bits),
            // BR Mantissa (18 bits), then Num SSRC SSRCs.
            if body.len() < 16 {
                return Err(Error::TooShort);
            }
            let n = usize::from(body[12]);
            let exp = u32::from(body[13] >> 2);
            let mantissa = u64::from(be32(body, 12) & 0x3_ffff);
            let ssrcs = (0..n)
                .map(|i| {
                    body.get(16 + 4 * i..20 + 4 * i)
                        .map(|_| be32(body, 16 + 4 * i))
                        .ok_or(Error::TooShort)
                })
                .collect::<Result<Vec<_>, _>>()?;
            // An 18-bit mantissa shifted by up to 63 can pass 64 bits: saturate.
            let bitrate = if mantissa != 0 && mantissa.leading_zeros() < exp {
                u64::MAX
            } else {
                mantissa << exp
            };
            RtcpPacket::Remb {
                sender: be32(body, 0),
                bitrate,
                ssrcs,
            }
        }
        (pt::XR, _) => {
            if body.len() < 4 {
                return Err(Error::TooShort);
            }
            let mut blocks = Vec::new();
            let mut at = 4usize;
            while at + 4 <= body.len() {
                let bt = body[at];
                let bl = 4 * usize::from(be16(body, at + 2));
                blocks.push((bt, body.get(at + 4..at + 4 + bl).ok_or(Error::TooShort)?));
                at += 4 + bl;
            }
            RtcpPacket::ExtendedReport {
                ssrc: be32(body, 0),
                blocks,
            }
        }
        _ => RtcpPacket::Other {
            packet_type,
            count,
            body,
        },
    };
    Ok((p, len))
}

fn header(out: &mut Vec<u8>, count: u8, packet_type: u8, words_after_header: usize) {
    out.push(0x80 | (count & 0x1f));
    out.push(packet_type);
    out.extend_from_slice(&(words_after_header as u16).to_be_bytes());
}

/// Appends a receiver report.
pub fn write_receiver_report(out: &mut Vec<u8>, ssrc: u32, reports: &[ReportBlock]) {
    header(out, reports.len() as u8, pt::RR, 1 + 6 * reports.len());
    out.extend_from_slice(&ssrc.to_be_bytes());
    reports.iter().for_each(|r| r.write(out));
}

/// Appends a sender report.
pub fn write_sender_report(
    out: &mut Vec<u8>,
    ssrc: u32,
    ntp: u64,
    rtp_timestamp: u32,
    packets: u32,
    octets: u32,
    reports: &[ReportBlock],
) {
    header(out, reports.len() as u8, pt::SR, 6 + 6 * reports.len());
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(&ntp.to_be_bytes());
    for v in [rtp_timestamp, packets, octets] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    reports.iter().for_each(|r| r.write(out));
}

/// Appends a generic NACK for `lost` (sorted or not), packed into PID + bitmask pairs
/// (RFC 4585 §6.2.1). Sequence numbers are packed in circular order from the one after the
/// widest gap, so a run across the wrap (65534, 65535, 0) shares one PID.
pub fn write_nack(out: &mut Vec<u8>, sender: u32, media: u32, lost: &[u16]) {
    let mut sorted = lost.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if let (Some(&first), Some(&last)) = (sorted.first(), sorted.last()) {
        // The widest gap between neighbours, the one from the last round to the first
        // included; the run starts after it.
        let mut start = 0;
        let mut widest = first.wrapping_sub(last);
        for (i, w) in sorted.windows(2).enumerate() {
            if w[1] - w[0] > widest {
                widest = w[1] - w[0];
                start = i + 1;
            }
        }
        sorted.rotate_left(start);
    }
    let mut fcis: Vec<(u16, u16)> = Vec::new();
    for s in sorted {
        match fcis.last_mut() {
            Some((pid, blp)) if s.wrapping_sub(*pid) >= 1 && s.wrapping_sub(*pid) <= 16 => {
                *blp |= 1 << (s.wrapping_sub(*pid) - 1);
            }
            _ => fcis.push((s, 0)),
        }
    }
    header(out, 1, pt::RTPFB, 2 + fcis.len());
    out.extend_from_slice(&sender.to_be_bytes());
    out.extend_from_slice(&media.to_be_bytes());
    for (pid, blp) in fcis {
        out.extend_from_slice(&pid.to_be_bytes());
        out.extend_from_slice(&blp.to_be_bytes());
    }
}

/// Appends a picture loss indication.
pub fn write_pli(out: &mut Vec<u8>, sender: u32, media: u32) {
    header(out, 1, pt::PSFB, 2);
    out.extend_from_slice(&sender.to_be_bytes());
    out.extend_from_slice(&media.to_be_bytes());
}

/// Appends a full intra request for `(ssrc, command sequence number)` entries.
pub fn write_fir(out: &mut Vec<u8>, sender: u32, entries: &[(u32, u8)]) {
    header(out, 4, pt::PSFB, 2 + 2 * entries.len());
    out.extend_from_slice(&sender.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    for (ssrc, seq) in entries {
        out.extend_from_slice(&ssrc.to_be_bytes());
        out.extend_from_slice(&[*seq, 0, 0, 0]);
    }
}

/// Appends a receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03 §2.2):
/// PSFB FMT 15, media SSRC 0, "REMB", the SSRCs it applies to and `bitrate` as an 18-bit
/// mantissa and 6-bit exponent, rounded down (the estimate is a maximum). `BadValue` for more
/// than 255 SSRCs; nothing is appended then.
pub fn write_remb(
    out: &mut Vec<u8>,
    sender: u32,
    bitrate: u64,
    ssrcs: &[u32],
) -> Result<(), Error> {
    let n = u8::try_from(ssrcs.len()).map_err(|_| Error::BadValue)?;
    // The smallest exponent that leaves the mantissa within 18 bits.
    let exp = (64 - bitrate.leading_zeros()).saturating_sub(18);
    let mantissa = (bitrate >> exp) as u32;
    header(out, 15, pt::PSFB, 4 + ssrcs.len());
    out.extend_from_slice(&sender.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(b"REMB");
    out.extend_from_slice(&((u32::from(n) << 24) | (exp << 18) | mantissa).to_be_bytes());
    for ssrc in ssrcs {
        out.extend_from_slice(&ssrc.to_be_bytes());
    }
    Ok(())
}
