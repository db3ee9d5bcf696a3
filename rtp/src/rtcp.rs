//! RTCP (RFC 3550 §6, RFC 4585, RFC 5104, RFC 3611, RFC 5506, draft-alvestrand-rmcat-remb,
//! draft-holmer-rmcat-transport-wide-cc-extensions): compound packets as an iterator of
//! zero-copy typed views (nothing allocated while parsing); builders for reports, source
//! descriptions, goodbyes, application packets, extended reports and feedback. Transport-wide
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
    fn decode(b: &[u8]) -> Self {
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

/// A fixed-size record of an RTCP packet body, read from exactly [`Record::LEN`] octets.
pub trait Record: Sized {
    /// Octets per record.
    const LEN: usize;
    /// Reads one record from `b` (`b.len() == LEN`).
    fn read(b: &[u8]) -> Self;
}

impl Record for ReportBlock {
    const LEN: usize = 24;
    fn read(b: &[u8]) -> Self {
        ReportBlock::decode(b)
    }
}

/// An SSRC or CSRC (BYE sources, REMB SSRCs).
impl Record for u32 {
    const LEN: usize = 4;
    fn read(b: &[u8]) -> Self {
        be32(b, 0)
    }
}

/// One generic NACK FCI (RFC 4585 §6.2.1): a lost packet ID and a bitmask of lost packets
/// among the 16 following.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackPair {
    /// Packet ID.
    pub pid: u16,
    /// Bitmask of following lost packets: bit i set means `pid + i + 1` is lost.
    pub blp: u16,
}

impl Record for NackPair {
    const LEN: usize = 4;
    fn read(b: &[u8]) -> Self {
        NackPair {
            pid: be16(b, 0),
            blp: be16(b, 2),
        }
    }
}

impl NackPair {
    /// The lost sequence numbers this FCI names, `pid` first.
    pub fn seqs(self) -> impl Iterator<Item = u16> {
        let pid = self.pid;
        std::iter::once(pid).chain(
            (0..16u16)
                .filter(move |i| self.blp & (1 << i) != 0)
                .map(move |i| pid.wrapping_add(i + 1)),
        )
    }
}

/// One FIR entry (RFC 5104 §4.3.1.1): the SSRC asked for a decoder refresh and the command
/// sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirEntry {
    /// Media sender asked for an intra frame.
    pub ssrc: u32,
    /// Command sequence number.
    pub seq: u8,
}

impl Record for FirEntry {
    const LEN: usize = 8;
    fn read(b: &[u8]) -> Self {
        FirEntry {
            ssrc: be32(b, 0),
            seq: b.get(4).copied().unwrap_or(0),
        }
    }
}

/// A zero-copy list of fixed-size records, its length checked at parse; records are decoded
/// as they are iterated, nothing is allocated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Records<'a, T> {
    bytes: &'a [u8],
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<'a, T: Record + 'a> Records<'a, T> {
    /// The first `n` records of `b`; `TooShort` if `b` holds fewer.
    fn take(b: &'a [u8], n: usize) -> Result<Self, Error> {
        let bytes = b.get(..n * T::LEN).ok_or(Error::TooShort)?;
        Ok(Records {
            bytes,
            _t: std::marker::PhantomData,
        })
    }

    /// As many whole records as `b` holds (trailing octets ignored).
    fn whole(b: &'a [u8]) -> Self {
        let n = b.len() / T::LEN;
        Records {
            bytes: b.get(..n * T::LEN).unwrap_or_default(),
            _t: std::marker::PhantomData,
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.bytes.len() / T::LEN
    }

    /// No records.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Record `i`, if there.
    pub fn get(&self, i: usize) -> Option<T> {
        self.bytes.get(i * T::LEN..(i + 1) * T::LEN).map(T::read)
    }

    /// The records in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = T> + 'a {
        self.bytes.chunks_exact(T::LEN).map(T::read)
    }

    /// The octets the records are read from.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl<'a> Records<'a, NackPair> {
    /// Every lost sequence number, expanded from the PID + bitmask pairs in order.
    pub fn seqs(&self) -> impl Iterator<Item = u16> + 'a {
        self.iter().flat_map(NackPair::seqs)
    }
}

impl<T: Record + std::fmt::Debug> std::fmt::Debug for Records<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The chunks of an SDES packet (RFC 3550 §6.5), checked at parse, read as iterated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SdesChunks<'a> {
    bytes: &'a [u8],
    count: u8,
}

/// One SDES chunk: a source and its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The SSRC or CSRC described.
    pub ssrc: u32,
    /// Its items.
    pub items: SdesItems<'a>,
}

/// The items of one SDES chunk, `(item type, text)`, up to the END item.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SdesItems<'a> {
    bytes: &'a [u8],
}

impl<'a> SdesChunks<'a> {
    /// Walks `n` chunks of `body` once to check every item and END fits (RFC 3550 §6.5).
    fn parse(body: &'a [u8], n: u8) -> Result<Self, Error> {
        let mut at = 0usize;
        for _ in 0..n {
            at = at
                .checked_add(4)
                .filter(|&a| a <= body.len())
                .ok_or(Error::TooShort)?;
            loop {
                let t = *body.get(at).ok_or(Error::TooShort)?;
                if t == 0 {
                    // RFC 3550 §6.5: END, then null octets to the next 32-bit boundary.
                    at = (at + 4) & !3;
                    break;
                }
                let l = usize::from(*body.get(at + 1).ok_or(Error::TooShort)?);
                at += 2 + l;
                if at > body.len() {
                    return Err(Error::TooShort);
                }
            }
        }
        Ok(SdesChunks {
            bytes: body.get(..at.min(body.len())).unwrap_or_default(),
            count: n,
        })
    }

    /// Number of chunks (the header's source count).
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// No chunks.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The chunks in order.
    pub fn iter(&self) -> impl Iterator<Item = SdesChunk<'a>> + 'a {
        let b = self.bytes;
        let mut at = 0usize;
        (0..self.count).map(move |_| {
            let ssrc = be32(b, at);
            let start = at + 4;
            let mut end = start;
            while let Some(&t) = b.get(end) {
                if t == 0 {
                    break;
                }
                end += 2 + usize::from(b.get(end + 1).copied().unwrap_or(0));
            }
            at = (end + 4) & !3;
            SdesChunk {
                ssrc,
                items: SdesItems {
                    bytes: b.get(start..end).unwrap_or_default(),
                },
            }
        })
    }
}

impl<'a> SdesItems<'a> {
    /// The items in order, `(item type, text)`.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let b = self.bytes;
        let mut at = 0usize;
        std::iter::from_fn(move || {
            let t = *b.get(at)?;
            let l = usize::from(*b.get(at + 1)?);
            let text = b.get(at + 2..at + 2 + l)?;
            at += 2 + l;
            Some((t, text))
        })
    }

    /// The text of the first item of type `t` (e.g. [`sdes::CNAME`]).
    pub fn find(&self, t: u8) -> Option<&'a [u8]> {
        self.iter().find(|&(ty, _)| ty == t).map(|(_, v)| v)
    }
}

impl std::fmt::Debug for SdesChunks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl std::fmt::Debug for SdesItems<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// SDES item types (RFC 3550 §6.5, §12.2).
pub mod sdes {
    /// Canonical end-point identifier.
    pub const CNAME: u8 = 1;
    /// User name.
    pub const NAME: u8 = 2;
    /// Electronic mail address.
    pub const EMAIL: u8 = 3;
    /// Phone number.
    pub const PHONE: u8 = 4;
    /// Geographic location.
    pub const LOC: u8 = 5;
    /// Application or tool name.
    pub const TOOL: u8 = 6;
    /// Notice/status.
    pub const NOTE: u8 = 7;
    /// Private extensions.
    pub const PRIV: u8 = 8;
}

/// The report blocks of an XR packet (RFC 3611 §3), checked at parse: `(block type, block
/// contents)`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct XrBlocks<'a> {
    bytes: &'a [u8],
}

impl<'a> XrBlocks<'a> {
    fn parse(b: &'a [u8]) -> Result<Self, Error> {
        let mut at = 0usize;
        while at + 4 <= b.len() {
            at += 4 + 4 * usize::from(be16(b, at + 2));
            if at > b.len() {
                return Err(Error::TooShort);
            }
        }
        Ok(XrBlocks { bytes: b })
    }

    /// The blocks in order, `(block type, contents after the 4-octet block header)`.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let b = self.bytes;
        let mut at = 0usize;
        std::iter::from_fn(move || {
            let bt = *b.get(at)?;
            let bl = 4 * usize::from(be16(b, at + 2));
            let contents = b.get(at + 4..at + 4 + bl)?;
            at += 4 + bl;
            Some((bt, contents))
        })
    }
}

impl<'a> XrBlocks<'a> {
    /// The blocks in order, the ones WebRTC uses decoded.
    pub fn typed(&self) -> impl Iterator<Item = XrBlock<'a>> + 'a {
        self.iter().map(|(bt, c)| match bt {
            xr::RRTR if c.len() == 8 => {
                XrBlock::ReceiverReferenceTime(u64::from(be32(c, 0)) << 32 | u64::from(be32(c, 4)))
            }
            xr::DLRR => XrBlock::Dlrr(Records::whole(c)),
            _ => XrBlock::Other(bt, c),
        })
    }
}

/// XR block types (RFC 3611 §4).
pub mod xr {
    /// Receiver reference time report block (RFC 3611 §4.4).
    pub const RRTR: u8 = 4;
    /// DLRR report block (RFC 3611 §4.5).
    pub const DLRR: u8 = 5;
}

/// One XR report block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum XrBlock<'a> {
    /// Receiver reference time (RFC 3611 §4.4): the receiver's 64-bit NTP timestamp.
    ReceiverReferenceTime(u64),
    /// DLRR (RFC 3611 §4.5): a sub-block per receiver reference time answered.
    Dlrr(Records<'a, DlrrItem>),
    /// Another block type: `(block type, contents after the block header)`.
    Other(u8, &'a [u8]),
}

/// One DLRR sub-block (RFC 3611 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DlrrItem {
    /// The receiver whose reference time is answered.
    pub ssrc: u32,
    /// Last RR: the middle 32 bits of that receiver's last RRTR NTP timestamp.
    pub last_rr: u32,
    /// Delay since that RRTR, 1/65536 s.
    pub dlrr: u32,
}

impl Record for DlrrItem {
    const LEN: usize = 12;
    fn read(b: &[u8]) -> Self {
        DlrrItem {
            ssrc: be32(b, 0),
            last_rr: be32(b, 4),
            dlrr: be32(b, 8),
        }
    }
}

impl std::fmt::Debug for XrBlocks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

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
        reports: Records<'a, ReportBlock>,
    },
    /// Receiver report.
    ReceiverReport {
        /// Sender SSRC.
        ssrc: u32,
        /// Report blocks.
        reports: Records<'a, ReportBlock>,
    },
    /// Source description chunks.
    SourceDescription(SdesChunks<'a>),
    /// Goodbye: sources and optional reason.
    Bye {
        /// The sources leaving.
        sources: Records<'a, u32>,
        /// Reason.
        reason: Option<&'a [u8]>,
    },
    /// Generic NACK (RFC 4585 §6.2.1): PID + bitmask pairs; [`Records::seqs`] expands them.
    Nack {
        /// Sender.
        sender: u32,
        /// Media source.
        media: u32,
        /// Lost packets.
        lost: Records<'a, NackPair>,
    },
    /// Picture loss indication (RFC 4585 §6.3.1).
    Pli {
        /// Sender.
        sender: u32,
        /// Media source.
        media: u32,
    },
    /// Full intra request (RFC 5104 §4.3.1).
    Fir {
        /// Sender.
        sender: u32,
        /// Requests.
        entries: Records<'a, FirEntry>,
    },
    /// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb).
    Remb {
        /// Sender.
        sender: u32,
        /// Bits per second.
        bitrate: u64,
        /// The sources it applies to.
        ssrcs: Records<'a, u32>,
    },
    /// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
    /// extensions-01 §3.1), its chunks and deltas checked against its status count.
    TransportCc(TransportFeedback<'a>),
    /// Extended report blocks (RFC 3611).
    ExtendedReport {
        /// Sender.
        ssrc: u32,
        /// Blocks.
        blocks: XrBlocks<'a>,
    },
    /// Application-defined (RFC 3550 §6.7).
    App {
        /// Subtype (the 5-bit count field).
        subtype: u8,
        /// Source.
        ssrc: u32,
        /// Four ASCII characters naming the application.
        name: [u8; 4],
        /// Application-dependent data.
        data: &'a [u8],
    },
    /// A type this parser does not know: header fields and body.
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
    let reports =
        |from: usize, n: u8| Records::take(body.get(from..).unwrap_or_default(), usize::from(n));
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
        (pt::SDES, n) => RtcpPacket::SourceDescription(SdesChunks::parse(body, n)?),
        (pt::BYE, n) => {
            // RFC 3550 §6.6: the sources, then an optional length-prefixed reason.
            let n = usize::from(n);
            let sources = Records::take(body, n)?;
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
            RtcpPacket::Nack {
                sender: be32(body, 0),
                media: be32(body, 4),
                lost: Records::whole(body.get(8..).unwrap_or_default()),
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
            let entries = Records::whole(body.get(8..).unwrap_or_default());
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
            let ssrcs = Records::take(body.get(16..).unwrap_or_default(), n)?;
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
        (pt::APP, subtype) => {
            // RFC 3550 §6.7: SSRC, name, then data.
            let name = body.get(4..8).ok_or(Error::TooShort)?;
            RtcpPacket::App {
                subtype,
                ssrc: be32(body, 0),
                name: [name[0], name[1], name[2], name[3]],
                data: body.get(8..).unwrap_or_default(),
            }
        }
        (pt::XR, _) => {
            if body.len() < 4 {
                return Err(Error::TooShort);
            }
            let blocks = XrBlocks::parse(body.get(4..).unwrap_or_default())?;
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

/// One SDES item to build: `(item type, text)`.
pub type SdesItem<'a> = (u8, &'a [u8]);

/// One SDES chunk to build: the SSRC/CSRC and its items.
pub type SdesChunkIn<'a> = (u32, &'a [SdesItem<'a>]);

/// Appends a source description (RFC 3550 §6.5): for each chunk, its SSRC/CSRC and its
/// `(item type, text)` items, then END and null octets to the next 32-bit boundary.
/// `BadValue` for more than 31 chunks, an item type 0 (END) or a text over 255 octets;
/// nothing is appended then.
pub fn write_sdes(out: &mut Vec<u8>, chunks: &[SdesChunkIn<'_>]) -> Result<(), Error> {
    let n = u8::try_from(chunks.len())
        .ok()
        .filter(|&n| n <= 31)
        .ok_or(Error::BadValue)?;
    let mut words = 0usize;
    for (_, items) in chunks {
        let mut len = 4usize;
        for (t, text) in *items {
            if *t == 0 || text.len() > 255 {
                return Err(Error::BadValue);
            }
            len += 2 + text.len();
        }
        // RFC 3550 §6.5: at least one null octet (END), padded to 32 bits.
        words += (len + 4) / 4;
    }
    let words = u16::try_from(words).map_err(|_| Error::BadValue)?;
    header(out, n, pt::SDES, usize::from(words));
    for (ssrc, items) in chunks {
        let start = out.len();
        out.extend_from_slice(&ssrc.to_be_bytes());
        for (t, text) in *items {
            out.push(*t);
            out.push(text.len() as u8);
            out.extend_from_slice(text);
        }
        let len = out.len() - start;
        out.resize(start + (len + 4) / 4 * 4, 0);
    }
    Ok(())
}

/// Appends a goodbye (RFC 3550 §6.6): the sources leaving and an optional reason, padded
/// with null octets to 32 bits. `BadValue` for more than 31 sources or a reason over 255
/// octets; nothing is appended then.
pub fn write_bye(out: &mut Vec<u8>, sources: &[u32], reason: Option<&[u8]>) -> Result<(), Error> {
    let n = u8::try_from(sources.len())
        .ok()
        .filter(|&n| n <= 31)
        .ok_or(Error::BadValue)?;
    let reason_len = match reason {
        Some(r) => u8::try_from(r.len()).map_err(|_| Error::BadValue)?,
        None => 0,
    };
    let reason_words = reason.map_or(0, |_| (usize::from(reason_len) + 4) / 4);
    header(out, n, pt::BYE, sources.len() + reason_words);
    for s in sources {
        out.extend_from_slice(&s.to_be_bytes());
    }
    if let Some(r) = reason {
        let start = out.len();
        out.push(reason_len);
        out.extend_from_slice(r);
        out.resize(start + 4 * reason_words, 0);
    }
    Ok(())
}

/// Appends an application-defined packet (RFC 3550 §6.7). `BadValue` for a subtype over 31
/// or data that is not a multiple of 32 bits (or too long for the length field); nothing is
/// appended then.
pub fn write_app(
    out: &mut Vec<u8>,
    subtype: u8,
    ssrc: u32,
    name: [u8; 4],
    data: &[u8],
) -> Result<(), Error> {
    if subtype > 31 || !data.len().is_multiple_of(4) || data.len() / 4 + 2 > usize::from(u16::MAX) {
        return Err(Error::BadValue);
    }
    header(out, subtype, pt::APP, 2 + data.len() / 4);
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(&name);
    out.extend_from_slice(data);
    Ok(())
}

/// Appends an extended report (RFC 3611 §2) from `ssrc` holding a receiver reference time
/// block (§4.4) when `rrtr` is set and a DLRR block (§4.5) when `dlrr` is not empty.
/// `BadValue` when the DLRR block is too long for its length field; nothing is appended
/// then.
pub fn write_xr(
    out: &mut Vec<u8>,
    ssrc: u32,
    rrtr: Option<u64>,
    dlrr: &[DlrrItem],
) -> Result<(), Error> {
    let dlrr_words = 3 * dlrr.len();
    let words = 1 + rrtr.map_or(0, |_| 3) + if dlrr.is_empty() { 0 } else { 1 + dlrr_words };
    if words > usize::from(u16::MAX) {
        return Err(Error::BadValue);
    }
    header(out, 0, pt::XR, words);
    out.extend_from_slice(&ssrc.to_be_bytes());
    if let Some(ntp) = rrtr {
        // RFC 3611 §4.4: BT=4, reserved, block length 2, NTP timestamp.
        out.extend_from_slice(&[xr::RRTR, 0, 0, 2]);
        out.extend_from_slice(&ntp.to_be_bytes());
    }
    if !dlrr.is_empty() {
        // RFC 3611 §4.5: BT=5, reserved, block length 3 per sub-block.
        out.extend_from_slice(&[xr::DLRR, 0]);
        out.extend_from_slice(&(dlrr_words as u16).to_be_bytes());
        for d in dlrr {
            for v in [d.ssrc, d.last_rr, d.dlrr] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
    }
    Ok(())
}
