//! `weft rtp decode` and `weft rtcp decode`: header fields, extensions, RTCP packets.

use std::fmt::Write as _;

use weft_rtp::ext::{uri, ExtensionMap};
use weft_rtp::rtcp::{parse_compound, RtcpPacket};
use weft_rtp::RtpPacket;

/// One RTP packet: fields, CSRCs, extension elements (typed with the usual Chromium ids
/// when `extmap` is empty), payload size.
pub fn rtp(bytes: &[u8], extmap: &[(u8, String)]) -> Result<String, String> {
    let p = RtpPacket::parse(bytes).map_err(|e| e.to_string())?;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "RTP pt {} seq {} ts {} ssrc {:#010x} marker {} header {} bytes payload {} bytes{}",
        p.payload_type(),
        p.sequence_number(),
        p.timestamp(),
        p.ssrc(),
        p.marker(),
        p.header_len(),
        p.payload().len(),
        if p.has_padding() { " (padded)" } else { "" }
    );
    for c in p.csrcs() {
        let _ = writeln!(o, "  csrc {c:#010x}");
    }
    if let Some((profile, data)) = p.extension_block() {
        let _ = writeln!(o, "  extension block {profile:#06x}, {} bytes", data.len());
        if let Some(exts) = p.extensions() {
            for e in exts.clone() {
                match e {
                    Ok((id, v)) => {
                        let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
                        let _ = writeln!(o, "    id {id}: {hex}");
                    }
                    Err(e) => {
                        let _ = writeln!(o, "    {e}");
                    }
                }
            }
            let map = if extmap.is_empty() {
                // Chromium's default offer numbering.
                ExtensionMap::from_extmap([
                    (1, uri::SSRC_AUDIO_LEVEL),
                    (2, uri::ABS_SEND_TIME),
                    (3, uri::TRANSPORT_WIDE_CC),
                    (4, uri::SDES_MID),
                    (10, uri::RTP_STREAM_ID),
                    (11, uri::REPAIRED_RTP_STREAM_ID),
                    (13, uri::VIDEO_ORIENTATION),
                    (14, uri::TOFFSET),
                ])
            } else {
                ExtensionMap::from_extmap(extmap.iter().map(|(i, u)| (*i, u.as_str())))
            };
            let _ = writeln!(o, "  typed: {:?}", map.read(&exts));
        }
    }
    Ok(o)
}

/// Every packet of an RTCP compound.
pub fn rtcp(bytes: &[u8]) -> Result<String, String> {
    let mut o = String::new();
    for (i, p) in parse_compound(bytes).enumerate() {
        match p {
            Ok(RtcpPacket::Other {
                packet_type,
                count,
                body,
            }) => {
                let _ = writeln!(
                    o,
                    "{}: type {packet_type} count {count}, {} bytes",
                    i + 1,
                    body.len()
                );
            }
            Ok(p) => {
                let _ = writeln!(o, "{}: {p:?}", i + 1);
            }
            Err(e) => return Err(format!("packet {}: {e}\n{o}", i + 1)),
        }
    }
    if o.is_empty() {
        return Err("no RTCP packet".into());
    }
    Ok(o)
}
