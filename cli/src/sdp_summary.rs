//! The readable summary of `weft sdp check`.

use std::fmt::Write as _;

use weft_sdp::*;

fn fingerprint_text(f: &Fingerprint<'_>) -> String {
    // The attribute's own text is `a=fingerprint:<hash> <hex>`.
    let line = Attribute::Fingerprint(f.clone()).to_string();
    line.trim_start_matches("a=fingerprint:").to_string()
}

fn candidate_text(c: &Candidate<'_>) -> String {
    let transport = c.transport.as_str();
    let kind = c.kind.as_str();
    let addr = match &c.address {
        Address::Ip(std::net::IpAddr::V6(v6)) => format!("[{v6}]:{}", c.port),
        a => format!("{a}:{}", c.port),
    };
    let mut s = format!(
        "{kind:<5} {transport} {addr}  component {}  priority {}  foundation {}",
        c.component, c.priority, c.foundation
    );
    if let Some(t) = c.tcp_type {
        let _ = write!(s, "  tcptype {}", t.as_str());
    }
    if let (Some(a), Some(p)) = (&c.related_address, c.related_port) {
        let _ = write!(s, "  related {a}:{p}");
    }
    for (k, v) in &c.extensions {
        let _ = write!(s, "  {k} {v}");
    }
    if c.address.is_mdns() {
        s.push_str("  (mDNS)");
    }
    s
}

/// A readable, line-oriented summary of a description.
pub fn summary(sd: &SessionDescription<'_>) -> String {
    let mut out = String::new();
    let o = &sd.origin;
    let _ = writeln!(
        out,
        "session   id {} version {}  origin {} {}  name {:?}",
        o.session_id, o.session_version, o.username, o.address, sd.session_name
    );
    for g in sd.groups() {
        let _ = writeln!(out, "group     {} {}", g.semantics, g.mids.join(" "));
    }
    if sd.is_ice_lite() {
        let _ = writeln!(out, "ice-lite  yes");
    }
    for a in &sd.attributes {
        if let Attribute::MsidSemantic(m) = a {
            let _ = writeln!(out, "msid      {} {}", m.semantic, m.identifiers.join(" "));
        }
    }
    let _ = writeln!(out, "media     {} section(s)", sd.media.len());
    for (index, m) in sd.media.iter().enumerate() {
        let _ = writeln!(out);
        let mut head = format!(
            "[{index}] {} port {} {}",
            m.kind.as_str(),
            m.port,
            m.protocol
        );
        if let Some(mid) = m.mid() {
            let _ = write!(head, "  mid {mid}");
        }
        if matches!(m.formats, Formats::Rtp(_)) {
            let _ = write!(head, "  {}", sd.direction(m).as_str());
        }
        if m.is_rejected() {
            head.push_str("  (rejected: port 0)");
        }
        let _ = writeln!(out, "{head}");
        if let Some(c) = m.connections.first().or(sd.connection.as_ref()) {
            let _ = writeln!(out, "    connection  {}", c.address);
        }
        match sd.ice_credentials(m) {
            Some(ice) => {
                let options = sd.ice_options(m).join(" ");
                let _ = writeln!(
                    out,
                    "    ice         ufrag {}  pwd {}{}",
                    ice.ufrag,
                    ice.pwd,
                    if options.is_empty() {
                        String::new()
                    } else {
                        format!("  options {options}")
                    }
                );
            }
            None => {
                let _ = writeln!(out, "    ice         (no credentials)");
            }
        }
        for f in sd.fingerprints(m) {
            let _ = writeln!(out, "    fingerprint {}", fingerprint_text(f));
        }
        if let Some(s) = sd.setup(m) {
            let _ = writeln!(out, "    setup       {}", s.as_str());
        }
        if let Some(msid) = m.msid() {
            let _ = writeln!(
                out,
                "    msid        {} {}",
                msid.stream,
                msid.track.as_deref().unwrap_or("")
            );
        }
        let mut codecs = m.codecs().peekable();
        if codecs.peek().is_some() {
            let _ = writeln!(out, "    codecs");
        }
        for c in codecs {
            let mut line = format!(
                "      {:>3} {}/{}",
                c.payload_type,
                c.name().unwrap_or("?"),
                c.clock_rate().map_or("?".to_string(), |r| r.to_string())
            );
            if let Some(ch) = c.channels() {
                let _ = write!(line, "/{ch}");
            }
            if let Some(f) = c.fmtp() {
                let params: Vec<String> = f
                    .parameters
                    .iter()
                    .map(|(key, value)| match value {
                        Some(v) => format!("{key}={v}"),
                        None => key.to_string(),
                    })
                    .collect();
                let _ = write!(line, "  fmtp {}", params.join(";"));
            }
            let fb: Vec<String> = c
                .feedback()
                .map(|f| match &f.parameter {
                    Some(p) => format!("{} {p}", f.kind),
                    None => f.kind.to_string(),
                })
                .collect();
            if !fb.is_empty() {
                let _ = write!(line, "  fb {}", fb.join(", "));
            }
            let _ = writeln!(out, "{line}");
        }
        let extmaps: Vec<_> = m.extmaps().collect();
        if !extmaps.is_empty() {
            let _ = writeln!(out, "    extmap");
            for e in extmaps {
                let _ = writeln!(out, "      {:>3} {}", e.id, e.uri);
            }
        }
        for g in m.ssrc_groups() {
            let ssrcs: Vec<String> = g.ssrcs.iter().map(u32::to_string).collect();
            let _ = writeln!(out, "    ssrc-group  {} {}", g.semantics, ssrcs.join(" "));
        }
        for s in m.ssrc_attributes().filter(|s| s.attribute == "cname") {
            let _ = writeln!(
                out,
                "    ssrc        {}  cname {}",
                s.ssrc,
                s.value.as_deref().unwrap_or("")
            );
        }
        for r in m.rids() {
            let _ = writeln!(out, "    rid         {} {}", r.id, r.direction.as_str());
        }
        if let Some(s) = m.simulcast() {
            let text = Attribute::Simulcast(s.clone()).to_string();
            let _ = writeln!(
                out,
                "    simulcast   {}",
                text.trim_start_matches("a=simulcast:")
            );
        }
        if let Some(port) = m.sctp_port() {
            let max = match m.max_message_size() {
                Some(0) => "unlimited".to_string(),
                Some(n) => n.to_string(),
                None => "65536 (default)".to_string(),
            };
            let _ = writeln!(
                out,
                "    datachannel sctp-port {port}  max-message-size {max}"
            );
        }
        let candidates: Vec<_> = m.candidates().collect();
        if !candidates.is_empty() || m.end_of_candidates() {
            let _ = writeln!(
                out,
                "    candidates  {}{}",
                candidates.len(),
                if m.end_of_candidates() {
                    "  (end-of-candidates)"
                } else {
                    ""
                }
            );
            for c in candidates {
                let _ = writeln!(out, "      {}", candidate_text(c));
            }
        }
    }
    out
}
