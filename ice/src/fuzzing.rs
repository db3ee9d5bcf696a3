//! Fuzz harness bodies for `fuzz/fuzz_targets/ice_agent.rs` (feature `fuzzing`).
//!
//! An agent that is set up (host address, remote credentials and a candidate) is driven by
//! the input as a script: raw datagrams from arbitrary addresses, well-authenticated checks
//! with fuzzer-chosen attributes (so the fuzzer reaches peer-reflexive learning, role
//! conflicts and nomination, not only the integrity check), authenticated responses to the
//! agent's own requests, and clock advances. After every step the agent's state must stay
//! within its limits and every transmit must leave from a socket it was given.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use weft_stun::attr::{
    IceControlled, IceControlling, Priority, UseCandidate, Username, XorMappedAddress,
};
use weft_stun::{Class, Message, MessageBuilder, MessageType};

use crate::{Agent, AgentConfig, Candidate, Credentials, Output, Role};

const MAX_REMOTE: usize = 16;
const MAX_PAIRS: usize = 24;

fn addr(i: u8) -> SocketAddr {
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, i % 32)),
        1000 + u16::from(i),
    )
}

/// Runs one input from virtual time `start`. Panics (the fuzzer's finding) on a broken invariant.
pub fn agent_script(start: Instant, data: &[u8]) {
    let local: SocketAddr = "10.0.0.1:5000"
        .parse()
        .unwrap_or(SocketAddr::from(([10, 0, 0, 1], 5000)));
    let config = AgentConfig {
        role: if data.first().is_some_and(|b| b & 1 == 1) {
            Role::Controlling
        } else {
            Role::Controlled
        },
        max_remote_candidates: MAX_REMOTE,
        max_pairs: MAX_PAIRS,
        ..AgentConfig::default()
    };
    let ours = Credentials::new("ours", "our-password-0123456789");
    let theirs = Credentials::new("them", "their-password-012345678");
    let mut agent = Agent::with_credentials(config, ours.clone(), [7; 8]);
    let mut now = start;
    agent.add_host_address(now, local);
    agent.set_remote_credentials(now, theirs.clone());
    agent.add_remote_candidate(now, Candidate::remote_host(addr(1), "1"));
    let mut last_request: Option<(SocketAddr, Vec<u8>)> = None;
    let mut rest = data.get(1..).unwrap_or_default();
    while let [op, who, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(n);
        rest = next;
        let from = addr(*who);
        match op % 4 {
            0 => {
                let _ = agent.handle_receive(now, local, from, body);
            }
            1 => {
                // A check that passes authentication, with fuzzer-chosen role and flags.
                let mut buf = [0u8; 256];
                let prio = body
                    .iter()
                    .fold(0u32, |a, b| a.rotate_left(8) ^ u32::from(*b));
                let tie = u64::from(prio) << 7 | u64::from(*who);
                let user = format!("{}:{}", ours.ufrag, theirs.ufrag);
                let built = MessageBuilder::new(
                    &mut buf,
                    MessageType::BINDING_REQUEST,
                    weft_stun::TransactionId([*who; 12]),
                )
                .and_then(|mut b| {
                    b.add(&Username(&user))?;
                    b.add(&Priority(prio))?;
                    if op & 4 != 0 {
                        b.add(&IceControlling(tie))?;
                    } else {
                        b.add(&IceControlled(tie))?;
                    }
                    if op & 8 != 0 {
                        b.add(&UseCandidate)?;
                    }
                    b.add_message_integrity(ours.pwd.as_bytes())?;
                    b.add_fingerprint()?;
                    Ok(b.finish().to_vec())
                });
                if let Ok(bytes) = built {
                    let _ = agent.handle_receive(now, local, from, &bytes);
                }
            }
            2 => {
                let ms = body.iter().map(|b| u64::from(*b)).sum::<u64>() * 10;
                now += Duration::from_millis(ms);
                agent.handle_timeout(now);
            }
            _ => {
                // An authenticated answer to the agent's last request, from where it went
                // (or, with bit 4, from elsewhere), with a fuzzer-chosen mapped address.
                if let Some((dst, req)) = &last_request {
                    if let Ok(m) = Message::parse(req) {
                        let mut buf = [0u8; 256];
                        let class = if op & 8 != 0 {
                            Class::ErrorResponse
                        } else {
                            Class::SuccessResponse
                        };
                        let mapped = addr(body.first().copied().unwrap_or(0));
                        let built = MessageBuilder::new(
                            &mut buf,
                            MessageType::new(m.method(), class),
                            m.transaction_id(),
                        )
                        .and_then(|mut b| {
                            if class == Class::ErrorResponse {
                                b.add(&weft_stun::attr::ErrorCode {
                                    code: 487,
                                    reason: "",
                                })?;
                            } else {
                                b.add(&XorMappedAddress(mapped))?;
                            }
                            b.add_message_integrity(theirs.pwd.as_bytes())?;
                            b.add_fingerprint()?;
                            Ok(b.finish().to_vec())
                        });
                        let src = if op & 4 != 0 { from } else { *dst };
                        if let Ok(bytes) = built {
                            let _ = agent.handle_receive(now, local, src, &bytes);
                        }
                    }
                }
            }
        }
        while let Some(o) = agent.poll_output() {
            if let Output::Transmit(t) = o {
                assert_eq!(
                    t.src, local,
                    "transmit from a socket the agent was not given"
                );
                if t.bytes.first().is_some_and(|b| *b < 4) {
                    if let Ok(m) = Message::parse(&t.bytes) {
                        if m.class() == Class::Request {
                            last_request = Some((t.dst, t.bytes.clone()));
                        }
                    }
                }
            }
        }
        assert!(agent.remote_candidates().len() <= MAX_REMOTE);
        assert!(agent.pairs().len() <= MAX_PAIRS);
        if let Some(t) = agent.poll_timeout() {
            // Time never runs backwards for the driver: a timer in the past is due now.
            let _ = t;
        }
    }
}
