//! Client transactions (RFC 8489 §6.2.1 over UDP): retransmission with exponential back-off,
//! Rc/Rm limits, matching responses by transaction ID, timeouts as events. Sans-IO: the
//! caller owns the socket and the clock.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::{Class, Error, Message, Method, TransactionId};

/// Retransmission settings (RFC 8489 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionConfig {
    /// The first retransmission timeout. RFC 8489 §6.2.1 suggests 500 ms; RFC 8445 §14.3
    /// lets ICE checks go as low as its pacing allows.
    pub initial_rto: Duration,
    /// The ceiling the doubling RTO stops at. RFC 8489 sets none ([`Duration::MAX`]).
    pub max_rto: Duration,
    /// Rc: how many times the request is sent in all (RFC 8489 §6.2.1, default 7).
    pub rc: u32,
    /// Rm: after the last send, wait `rm × initial_rto` for a response (RFC 8489 §6.2.1,
    /// default 16).
    pub rm: u32,
}

impl TransactionConfig {
    /// The RFC 8489 §6.2.1 values: RTO 500 ms doubling without ceiling, Rc = 7, Rm = 16.
    /// Sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s; times out at 39.5 s.
    pub const RFC8489: TransactionConfig = TransactionConfig {
        initial_rto: Duration::from_millis(500),
        max_rto: Duration::MAX,
        rc: 7,
        rm: 16,
    };

    /// The default, tuned for WebRTC where a stalled check or TURN request should fail
    /// within seconds, not 39.5 s: RTO 250 ms (as browsers use for ICE) doubling up to 3 s,
    /// Rc = 7, Rm = 16. Sends at 0, 0.25, 0.75, 1.75, 3.75, 6.75 and 9.75 s; times out at
    /// 13.75 s.
    pub const WEBRTC: TransactionConfig = TransactionConfig {
        initial_rto: Duration::from_millis(250),
        max_rto: Duration::from_secs(3),
        rc: 7,
        rm: 16,
    };
}

impl Default for TransactionConfig {
    fn default() -> Self {
        TransactionConfig::WEBRTC
    }
}

/// A datagram to send.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit<'a> {
    /// Where to.
    pub dst: SocketAddr,
    /// The request bytes.
    pub bytes: &'a [u8],
    /// The transaction it belongs to.
    pub id: TransactionId,
}

/// What a transaction reports besides responses.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionEvent {
    /// No response came after Rc sends and Rm × RTO more (RFC 8489 §6.2.1).
    TimedOut {
        /// The transaction.
        id: TransactionId,
        /// Where its request went.
        dst: SocketAddr,
    },
}

/// A response matched to its transaction by [`ClientTransactions::handle_response`].
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseMatch {
    /// The transaction, now finished.
    pub id: TransactionId,
    /// Where its request went (the caller checks the response came from there when the
    /// protocol needs it, as ICE does, RFC 8445 §7.2.5.2.1).
    pub dst: SocketAddr,
    /// Round-trip time, only when the request was sent once (Karn's rule: a retransmitted
    /// request gives an ambiguous sample).
    pub rtt: Option<Duration>,
}

#[derive(Debug)]
struct Transaction {
    id: TransactionId,
    method: Method,
    dst: SocketAddr,
    request: Vec<u8>,
    first_sent: Instant,
    sends: u32,
    rto: Duration,
    /// When `handle_timeout` must act next: retransmit, or give up when `last_send`.
    deadline: Instant,
    last_send: bool,
    transmit_pending: bool,
}

/// The client side of STUN transactions: every request in flight, its retransmissions and
/// its timeout.
///
/// # Calling contract
/// - Getters: [`in_flight`](Self::in_flight).
/// - Input: [`start`](Self::start) a request (it is queued for sending at once),
///   [`handle_response`](Self::handle_response) for every STUN response received,
///   [`handle_timeout`](Self::handle_timeout) when the clock reaches
///   [`poll_timeout`](Self::poll_timeout).
/// - Output, after any input: drain [`poll_transmit`](Self::poll_transmit) (send each
///   datagram), then [`poll_event`](Self::poll_event), then ask
///   [`poll_timeout`](Self::poll_timeout) when to call back.
/// - `now` is always the caller's clock and must not go backwards; nothing here reads a
///   clock, and `poll_timeout` never returns a time before the `now` of the last input.
///
/// Timeline of one transaction (RFC 8489 §6.2.1), RTO doubling between sends:
/// ```text
/// start(t0) -> send #1 ... t0+RTO -> send #2 ... +2RTO -> send #3 ... send #Rc
///           ... +Rm*RTO(initial) -> TimedOut
/// any time: a response with the same transaction ID -> ResponseMatch, transaction ends
/// ```
#[derive(Debug, Default)]
pub struct ClientTransactions {
    config: TransactionConfig,
    transactions: Vec<Transaction>,
    events: VecDeque<TransactionEvent>,
}

impl ClientTransactions {
    /// No transactions yet.
    pub fn new(config: TransactionConfig) -> Self {
        ClientTransactions {
            config,
            transactions: Vec::new(),
            events: VecDeque::new(),
        }
    }

    /// The retransmission settings.
    pub fn config(&self) -> &TransactionConfig {
        &self.config
    }

    /// Requests not yet answered nor timed out.
    pub fn in_flight(&self) -> usize {
        self.transactions.len()
    }

    /// Starts a transaction for `request` (a whole encoded STUN request, copied) to `dst`.
    /// The first send is ready in [`poll_transmit`](Self::poll_transmit) at once.
    pub fn start(
        &mut self,
        now: Instant,
        dst: SocketAddr,
        request: &[u8],
    ) -> Result<TransactionId, Error> {
        let msg = Message::parse(request)?;
        if msg.class() != Class::Request {
            return Err(Error::NotARequest);
        }
        let id = msg.transaction_id();
        if self.transactions.iter().any(|t| t.id == id) {
            return Err(Error::DuplicateTransaction);
        }
        let rto = self.config.initial_rto;
        let last_send = self.config.rc <= 1;
        let deadline = if last_send {
            now + self.final_wait()
        } else {
            now + rto
        };
        self.transactions.push(Transaction {
            id,
            method: msg.method(),
            dst,
            request: request.to_vec(),
            first_sent: now,
            sends: 1,
            rto,
            deadline,
            last_send,
            transmit_pending: true,
        });
        Ok(id)
    }

    /// RFC 8489 §6.2.1: after the last request, wait Rm times the (initial) RTO.
    fn final_wait(&self) -> Duration {
        self.config
            .initial_rto
            .saturating_mul(self.config.rm.max(1))
    }

    /// Stops a transaction without an event; returns whether it existed.
    pub fn cancel(&mut self, id: TransactionId) -> bool {
        let before = self.transactions.len();
        self.transactions.retain(|t| t.id != id);
        before != self.transactions.len()
    }

    /// Offers a received message. A success or error response whose transaction ID and
    /// method match a request in flight ends that transaction and is reported; anything
    /// else returns `None` and changes nothing. The caller verifies integrity first when the
    /// request used credentials (RFC 8489 §9.1.4, §9.2.4).
    pub fn handle_response(
        &mut self,
        now: Instant,
        response: &Message<'_>,
    ) -> Option<ResponseMatch> {
        if !matches!(
            response.class(),
            Class::SuccessResponse | Class::ErrorResponse
        ) {
            return None;
        }
        let id = response.transaction_id();
        let pos = self
            .transactions
            .iter()
            .position(|t| t.id == id && t.method == response.method())?;
        let t = self.transactions.swap_remove(pos);
        let rtt = (t.sends == 1).then(|| now.saturating_duration_since(t.first_sent));
        Some(ResponseMatch {
            id,
            dst: t.dst,
            rtt,
        })
    }

    /// Retransmits and times out what is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let final_wait = self.final_wait();
        let config = self.config;
        let mut i = 0;
        while let Some(t) = self.transactions.get_mut(i) {
            if t.deadline > now {
                i += 1;
                continue;
            }
            if t.last_send {
                let t = self.transactions.swap_remove(i);
                self.events.push_back(TransactionEvent::TimedOut {
                    id: t.id,
                    dst: t.dst,
                });
                continue;
            }
            // RFC 8489 §6.2.1: retransmit, doubling the RTO after each send.
            t.sends += 1;
            t.rto = t.rto.saturating_mul(2).min(config.max_rto);
            t.transmit_pending = true;
            if t.sends >= config.rc {
                t.last_send = true;
                t.deadline = now + final_wait;
            } else {
                t.deadline = now + t.rto;
            }
            i += 1;
        }
    }

    /// The next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit<'_>> {
        let t = self.transactions.iter_mut().find(|t| t.transmit_pending)?;
        t.transmit_pending = false;
        Some(Transmit {
            dst: t.dst,
            bytes: &t.request,
            id: t.id,
        })
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next; `None` with
    /// nothing in flight.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.transactions.iter().map(|t| t.deadline).min()
    }
}
