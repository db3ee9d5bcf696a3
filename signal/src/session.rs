//! `PeerSession`: one call between two peers, as a state machine over a weft [`Rtc`].
//!
//! ```text
//! Idle --call()--> OutgoingInit --Accept--> Negotiating --connected--> Active
//! Idle --Init----> IncomingInit --accept()-> Negotiating
//!                  IncomingInit --reject()-> Ended        OutgoingInit --Reject--> Ended
//! any --hangup()/Hangup/failed--> Ending --(transport closed)--> Ended
//! ```
//!
//! The session only decides what to say; a [`Signaller`] carries the signals (call init,
//! accept, reject, hangup, offer, answer, candidates) however the application likes: the
//! HTTP offer/answer exchange, WebSocket room messages ([`crate::message`]), or a test's
//! queue. Media is attached when the call becomes Active and detached when it ends
//! ([`SessionEvent::AttachMedia`], [`SessionEvent::DetachMedia`]). Remote candidates that
//! arrive before the remote description are queued (by the session before negotiation, by
//! the `Rtc` after).

use std::collections::VecDeque;
use std::time::Instant;

use weft_peer::{
    Event, IceCandidateInit, Input, OfferOptions, Output, PeerConnectionState, Rtc, RtcError,
    SessionDescription, Transmit,
};

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallState {
    /// Nothing yet.
    Idle,
    /// We called; waiting for accept or reject.
    OutgoingInit,
    /// We are called; the application accepts or rejects.
    IncomingInit,
    /// Accepted; offer/answer and ICE/DTLS under way.
    Negotiating,
    /// Connected; media attached.
    Active,
    /// Hanging up.
    Ending,
    /// Over.
    Ended,
}

/// What a signaller carries between the two sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Call request; the tie-breaker settles two calls crossing (the higher calls).
    Init {
        /// Random, per session.
        tie_breaker: u64,
    },
    /// The callee accepts.
    Accept,
    /// The callee declines.
    Reject {
        /// Why, for people.
        reason: String,
    },
    /// Either side ends the call.
    Hangup,
    /// The caller's SDP offer (or a renegotiation offer).
    Offer(String),
    /// The SDP answer.
    Answer(String),
    /// A trickled ICE candidate (empty `candidate`: end of candidates).
    Candidate(IceCandidateInit),
}

/// Carries signals to the other session.
pub trait Signaller {
    /// Sends one signal.
    fn send(&mut self, signal: Signal);
}

impl Signaller for VecDeque<Signal> {
    fn send(&mut self, signal: Signal) {
        self.push_back(signal);
    }
}

/// What the application hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The call state changed.
    State(CallState),
    /// The call is Active: start sending media (tracks, channels are usable).
    AttachMedia,
    /// The call ended: stop sending media.
    DetachMedia,
    /// The other side declined.
    Rejected(String),
    /// An event of the peer connection.
    Peer(Event),
}

/// Why a session call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// The call is not in a state that takes this.
    WrongState(CallState),
    /// The peer connection refused (bad SDP ...).
    Peer(RtcError),
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::WrongState(s) => write!(f, "not possible in state {s:?}"),
            SessionError::Peer(e) => write!(f, "peer connection: {e}"),
        }
    }
}

impl std::error::Error for SessionError {}

impl From<RtcError> for SessionError {
    fn from(e: RtcError) -> Self {
        SessionError::Peer(e)
    }
}

/// Output of [`PeerSession::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOutput {
    /// A datagram for the socket.
    Transmit(Transmit),
    /// A signal for the [`Signaller`].
    Signal(Signal),
    /// Something for the application.
    Event(SessionEvent),
}

/// One call over one peer connection (sans-IO: time and datagrams come from the caller,
/// like [`Rtc`]'s contract: drain [`poll_output`](Self::poll_output) after every call).
pub struct PeerSession {
    rtc: Rtc,
    state: CallState,
    tie_breaker: u64,
    /// Trickle candidates as signals (else the descriptions carry them).
    trickle: bool,
    early_candidates: Vec<IceCandidateInit>,
    out: VecDeque<SessionOutput>,
}

impl PeerSession {
    /// A session over `rtc`, whose tracks and channels the application set up (or sets up
    /// on [`SessionEvent::AttachMedia`]). `tie_breaker` should be random.
    pub fn new(rtc: Rtc, tie_breaker: u64, trickle: bool) -> PeerSession {
        PeerSession {
            rtc,
            state: CallState::Idle,
            tie_breaker,
            trickle,
            early_candidates: Vec::new(),
            out: VecDeque::new(),
        }
    }

    /// The call state.
    pub fn state(&self) -> CallState {
        self.state
    }

    /// The peer connection (tracks, channels, stats).
    pub fn rtc(&mut self) -> &mut Rtc {
        &mut self.rtc
    }

    fn set_state(&mut self, s: CallState) {
        if self.state == s {
            return;
        }
        let was_active = self.state == CallState::Active;
        self.state = s;
        self.out
            .push_back(SessionOutput::Event(SessionEvent::State(s)));
        if s == CallState::Active {
            self.out
                .push_back(SessionOutput::Event(SessionEvent::AttachMedia));
        }
        if was_active && matches!(s, CallState::Ending | CallState::Ended) {
            self.out
                .push_back(SessionOutput::Event(SessionEvent::DetachMedia));
        }
    }

    fn signal(&mut self, s: Signal) {
        self.out.push_back(SessionOutput::Signal(s));
    }

    /// Calls the other side.
    pub fn call(&mut self) -> Result<(), SessionError> {
        if self.state != CallState::Idle {
            return Err(SessionError::WrongState(self.state));
        }
        self.set_state(CallState::OutgoingInit);
        self.signal(Signal::Init {
            tie_breaker: self.tie_breaker,
        });
        Ok(())
    }

    /// Accepts an incoming call; the caller's offer follows.
    pub fn accept(&mut self) -> Result<(), SessionError> {
        if self.state != CallState::IncomingInit {
            return Err(SessionError::WrongState(self.state));
        }
        self.set_state(CallState::Negotiating);
        self.signal(Signal::Accept);
        Ok(())
    }

    /// Declines an incoming call.
    pub fn reject(&mut self, reason: &str) -> Result<(), SessionError> {
        if self.state != CallState::IncomingInit {
            return Err(SessionError::WrongState(self.state));
        }
        self.signal(Signal::Reject {
            reason: reason.to_owned(),
        });
        self.set_state(CallState::Ended);
        Ok(())
    }

    /// Ends the call: the peer is told, the connection closed (SCTP shutdown, DTLS
    /// close_notify).
    pub fn hangup(&mut self) {
        if matches!(self.state, CallState::Ended | CallState::Idle) {
            return;
        }
        self.signal(Signal::Hangup);
        self.end();
    }

    fn end(&mut self) {
        self.set_state(CallState::Ending);
        self.rtc.close();
        self.pump();
        self.set_state(CallState::Ended);
    }

    /// A signal from the other side.
    pub fn handle_signal(&mut self, s: Signal) -> Result<(), SessionError> {
        use CallState::*;
        match (s, self.state) {
            (Signal::Init { .. }, Idle) => self.set_state(IncomingInit),
            // Both called at once: the higher tie-breaker stays the caller, the other
            // accepts (ties: both back off to Idle and the application may call again).
            (Signal::Init { tie_breaker }, OutgoingInit) => {
                if tie_breaker > self.tie_breaker {
                    self.set_state(IncomingInit);
                    self.accept()?;
                } else if tie_breaker == self.tie_breaker {
                    self.set_state(Idle);
                }
            }
            (Signal::Accept, OutgoingInit) => {
                self.set_state(Negotiating);
                let offer = self.rtc.create_offer(OfferOptions::default())?;
                self.rtc.set_local_description(offer)?;
                self.send_description()?;
            }
            (Signal::Reject { reason }, OutgoingInit) => {
                self.out
                    .push_back(SessionOutput::Event(SessionEvent::Rejected(reason)));
                self.set_state(Ended);
            }
            (Signal::Hangup, Ended) => {}
            (Signal::Hangup, _) => self.end(),
            (Signal::Offer(sdp), Negotiating | Active) => {
                self.rtc
                    .set_remote_description(SessionDescription::offer(sdp))?;
                for c in std::mem::take(&mut self.early_candidates) {
                    self.rtc.add_ice_candidate(c)?;
                }
                let answer = self.rtc.create_answer()?;
                self.rtc.set_local_description(answer)?;
                self.send_description()?;
            }
            (Signal::Answer(sdp), Negotiating | Active) => {
                self.rtc
                    .set_remote_description(SessionDescription::answer(sdp))?;
            }
            // RFC 8838 §11.4 (and W3C addIceCandidate): candidates can beat the
            // description; before negotiation the session keeps them.
            (Signal::Candidate(c), IncomingInit | OutgoingInit) => self.early_candidates.push(c),
            (Signal::Candidate(c), Negotiating | Active) => self.rtc.add_ice_candidate(c)?,
            (_, state) => return Err(SessionError::WrongState(state)),
        }
        self.pump();
        Ok(())
    }

    /// The local description goes out: with its candidates (non-trickle), or without
    /// them, the candidates following as [`Signal::Candidate`].
    fn send_description(&mut self) -> Result<(), SessionError> {
        self.pump();
        let desc = if self.trickle {
            self.rtc.pending_local_description()
        } else {
            self.rtc.local_description()
        };
        let desc = desc
            .or_else(|| self.rtc.local_description())
            .ok_or(SessionError::WrongState(self.state))?;
        let sdp = if self.trickle {
            desc.sdp
                .lines()
                .filter(|l| !l.starts_with("a=candidate:") && *l != "a=end-of-candidates")
                .map(|l| format!("{l}\r\n"))
                .collect()
        } else {
            desc.sdp
        };
        self.signal(match desc.sdp_type {
            weft_peer::SdpType::Offer => Signal::Offer(sdp),
            _ => Signal::Answer(sdp),
        });
        Ok(())
    }

    /// A datagram from the socket.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.rtc.handle_input(now, input);
        self.pump();
    }

    /// The clock reached [`poll_timeout`](Self::poll_timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.rtc.handle_timeout(now);
        self.pump();
    }

    /// When to call [`handle_timeout`](Self::handle_timeout).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.rtc.poll_timeout()
    }

    /// The next datagram, signal or event.
    pub fn poll_output(&mut self) -> Option<SessionOutput> {
        self.pump();
        self.out.pop_front()
    }

    /// Hands every pending signal to `signaller`, returns the other outputs in order.
    pub fn flush_signals(&mut self, signaller: &mut impl Signaller) -> Vec<SessionOutput> {
        let mut rest = Vec::new();
        while let Some(o) = self.poll_output() {
            match o {
                SessionOutput::Signal(s) => signaller.send(s),
                other => rest.push(other),
            }
        }
        rest
    }

    /// Moves the connection's outputs into the session's, acting on the states.
    fn pump(&mut self) {
        while let Some(o) = self.rtc.poll_output() {
            match o {
                Output::Transmit(t) => self.out.push_back(SessionOutput::Transmit(t)),
                Output::Event(e) => {
                    match &e {
                        Event::IceCandidate(c) if self.trickle => {
                            // None: end of candidates (RFC 8838 §8.2), an empty candidate.
                            let c = c.clone().unwrap_or(IceCandidateInit {
                                candidate: String::new(),
                                sdp_mid: None,
                                sdp_m_line_index: None,
                                username_fragment: None,
                            });
                            self.out
                                .push_back(SessionOutput::Signal(Signal::Candidate(c)));
                        }
                        Event::ConnectionState(PeerConnectionState::Connected)
                            if self.state == CallState::Negotiating =>
                        {
                            self.out
                                .push_back(SessionOutput::Event(SessionEvent::Peer(e.clone())));
                            self.set_state(CallState::Active);
                            continue;
                        }
                        Event::ConnectionState(PeerConnectionState::Failed)
                            if !matches!(self.state, CallState::Ending | CallState::Ended) =>
                        {
                            self.out
                                .push_back(SessionOutput::Event(SessionEvent::Peer(e.clone())));
                            self.set_state(CallState::Ending);
                            self.set_state(CallState::Ended);
                            continue;
                        }
                        _ => {}
                    }
                    self.out
                        .push_back(SessionOutput::Event(SessionEvent::Peer(e)));
                }
            }
        }
    }
}
