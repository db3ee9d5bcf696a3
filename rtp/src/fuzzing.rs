//! Fuzz harness bodies for `fuzz/fuzz_targets/rtp_parse.rs` (feature `fuzzing`).

use crate::ext::ExtensionMap;
use crate::{rtcp, write_rtp, RtpHeader, RtpPacket};

/// Any bytes as RTP (with every extension read and a rewrite of what parses, which must
/// parse back to the same fields) and as an RTCP compound: never a panic.
pub fn parse(data: &[u8]) {
    if let Ok(p) = RtpPacket::parse(data) {
        let _ = p.csrcs().count();
        let map = ExtensionMap::from_extmap((1..=14).map(|i| (i, crate::ext::uri::SDES_MID)));
        if let Some(exts) = p.extensions() {
            let _ = map.read(&exts);
            let elems: Vec<(u8, &[u8])> = exts.clone().filter_map(Result::ok).collect();
            let csrcs: Vec<u32> = p.csrcs().collect();
            let h = RtpHeader {
                marker: p.marker(),
                payload_type: p.payload_type(),
                sequence_number: p.sequence_number(),
                timestamp: p.timestamp(),
                ssrc: p.ssrc(),
                csrcs: &csrcs,
                extensions: &elems,
            };
            let mut out = vec![0u8; data.len() + 4 * elems.len() + 64];
            if let Ok(n) = write_rtp(&h, p.payload(), &mut out) {
                let q = RtpPacket::parse(out.get(..n).unwrap_or_default());
                assert!(q.is_ok_and(|q| q.payload() == p.payload() && q.ssrc() == p.ssrc()));
            }
        }
    }
    for r in rtcp::parse_compound(data) {
        if r.is_err() {
            break;
        }
    }
}
