//! A weft `Rtc` on a real loopback UDP socket, driven by a small tokio task: the test-side
//! driver interop tests use against other stacks (webrtc-rs, browsers).
//!
//! The task owns the `Rtc` and the socket. It waits for whichever comes first: a datagram
//! (`handle_input`), a command (a closure run on the `Rtc`), or the core's `poll_timeout`
//! (`handle_timeout`); after each it drains `poll_output`: transmits go out with `send_to`,
//! events go to an optional hook (which may act on the `Rtc` at once, e.g. echo a message)
//! and then to a channel the test reads.

#![allow(dead_code)]
// Tests read the wall clock: this driver is the I/O shell around the sans-IO core.
#![allow(clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ring::rand::SystemRandom;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use weft_dtls_srtp::cert::{Certificate, Validity};
use weft_peer::{
    Event, IceGatheringState, Input, Output, PeerConnectionState, Rtc, RtcConfig,
    SessionDescription,
};

/// A closure run on the driver task with the `Rtc` and the time of the call.
type Command = Box<dyn FnOnce(&mut Rtc, Instant) + Send>;

/// Called on the driver task for every event before it goes to the channel.
pub type Hook = Box<dyn FnMut(&mut Rtc, Instant, &Event) + Send>;

pub fn certificate() -> Arc<Certificate> {
    Arc::new(
        Certificate::generate_self_signed("weft", Validity::default(), &SystemRandom::new())
            .unwrap(),
    )
}

/// A hook that sends every data channel message back on the channel it came on.
pub fn echo_hook() -> Hook {
    Box::new(|rtc, _now, e| {
        if let Event::ChannelMessage {
            channel,
            kind,
            data,
        } = e
        {
            rtc.send(*channel, *kind, data).unwrap();
        }
    })
}

/// A weft peer connection on `127.0.0.1:<ephemeral>`.
pub struct WeftPeer {
    /// The socket's address (the host candidate).
    pub addr: SocketAddr,
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<Event>,
    /// Every event taken from the channel so far, in order.
    pub log: Vec<Event>,
    /// DTLS datagrams sent (first byte 20..=63, RFC 7983): SCTP packets, once DTLS is up.
    pub dtls_sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl WeftPeer {
    /// Binds the socket, makes the `Rtc` (default config, `tweak` applied) and spawns its
    /// driver task.
    pub async fn new(seed: u8, tweak: impl FnOnce(&mut RtcConfig), hook: Option<Hook>) -> WeftPeer {
        // A receive buffer as large as weft-sctp's receive window (1 MiB): the default
        // (net.core.rmem_default, 208 KiB: about 90 datagrams of 1200 bytes) overflows when
        // a peer sends a window's worth in one burst on loopback.
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        socket.set_recv_buffer_size(1 << 20).unwrap();
        socket
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        socket.set_nonblocking(true).unwrap();
        let socket = UdpSocket::from_std(socket.into()).unwrap();
        let addr = socket.local_addr().unwrap();
        let mut config = RtcConfig::new(certificate());
        tweak(&mut config);
        let mut rtc = Rtc::new(Instant::now(), config, [seed; 32]);
        rtc.add_host_address(addr);
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        let dtls_sent = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(drive(
            rtc,
            socket,
            addr,
            command_rx,
            event_tx,
            hook,
            Arc::clone(&dtls_sent),
        ));
        WeftPeer {
            addr,
            commands,
            events,
            log: Vec::new(),
            dtls_sent,
            task,
        }
    }

    /// Runs `f` on the driver task and returns its result (outputs it causes are drained
    /// right after).
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Rtc, Instant) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = oneshot::channel();
        let cmd: Command = Box::new(move |rtc, now| {
            let _ = tx.send(f(rtc, now));
        });
        self.commands
            .send(cmd)
            .unwrap_or_else(|_| panic!("weft driver task is gone"));
        rx.await.expect("weft driver task is gone")
    }

    /// Takes events (logging each) until `f` picks one; panics after `limit`.
    pub async fn wait_for<T>(
        &mut self,
        limit: Duration,
        mut f: impl FnMut(&Event) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let e = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) => e,
                Ok(None) => panic!("weft driver task is gone"),
                Err(_) => panic!(
                    "weft: no matching event within {limit:?}; log: {:#?}",
                    self.log
                ),
            };
            let hit = f(&e);
            self.log.push(e);
            if let Some(t) = hit {
                return t;
            }
        }
    }

    /// Moves every event that has arrived so far into the log.
    pub fn drain(&mut self) {
        while let Ok(e) = self.events.try_recv() {
            self.log.push(e);
        }
    }

    /// Waits until ICE gathering is complete (with host candidates only, that is at once).
    pub async fn gathering_complete(&mut self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.call(|rtc, _| rtc.ice_gathering_state()).await != IceGatheringState::Complete {
            assert!(
                tokio::time::Instant::now() < deadline,
                "weft: gathering not complete"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until the connection state is `connected`.
    pub async fn connected(&mut self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.call(|rtc, _| rtc.connection_state()).await != PeerConnectionState::Connected {
            assert!(
                tokio::time::Instant::now() < deadline,
                "weft: not connected within {limit:?}; log: {:#?}",
                self.log
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.drain();
        }
    }

    /// Non-trickle offer: create, apply, wait for gathering, return the description with
    /// its candidates.
    pub async fn offer(&mut self, options: weft_peer::OfferOptions) -> SessionDescription {
        self.call(move |rtc, _| {
            let offer = rtc.create_offer(options).unwrap();
            rtc.set_local_description(offer).unwrap();
        })
        .await;
        self.gathering_complete(Duration::from_secs(5)).await;
        self.call(|rtc, _| rtc.local_description().unwrap()).await
    }

    /// Non-trickle answer to `offer`.
    pub async fn answer(&mut self, offer: SessionDescription) -> SessionDescription {
        self.answer_with(offer, |_| ()).await.0
    }

    /// Non-trickle answer to `offer`, with `f` run on the `Rtc` between applying the offer
    /// and creating the answer (W3C: e.g. `addTrack` onto the offered transceivers).
    pub async fn answer_with<R: Send + 'static>(
        &mut self,
        offer: SessionDescription,
        f: impl FnOnce(&mut Rtc) -> R + Send + 'static,
    ) -> (SessionDescription, R) {
        let r = self
            .call(move |rtc, _| {
                rtc.set_remote_description(offer).unwrap();
                let r = f(rtc);
                let answer = rtc.create_answer().unwrap();
                rtc.set_local_description(answer).unwrap();
                r
            })
            .await;
        self.gathering_complete(Duration::from_secs(5)).await;
        (
            self.call(|rtc, _| rtc.local_description().unwrap()).await,
            r,
        )
    }

    /// Applies the remote answer.
    pub async fn accept(&self, answer: SessionDescription) {
        self.call(move |rtc, _| rtc.set_remote_description(answer))
            .await
            .unwrap();
    }

    /// `close()` on the core, a moment for its last datagrams, then the task stops.
    pub async fn close(self) {
        self.call(|rtc, _| rtc.close()).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.task.abort();
    }
}

async fn drive(
    mut rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Event>,
    mut hook: Option<Hook>,
    dtls_sent: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 65536];
    loop {
        let now = Instant::now();
        if rtc.poll_timeout().is_some_and(|t| t <= now) {
            rtc.handle_timeout(now);
        }
        while let Some(o) = rtc.poll_output() {
            match o {
                Output::Transmit(t) => {
                    if matches!(t.bytes.first(), Some(20..=63)) {
                        dtls_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    // A full socket buffer is loss, as on a real network.
                    let _ = socket.send_to(&t.bytes, t.dst).await;
                }
                Output::Event(e) => {
                    if let Some(h) = hook.as_mut() {
                        h(&mut rtc, now, &e);
                    }
                    // The receiver may be gone while the test winds down.
                    let _ = events.send(e);
                }
            }
        }
        let wake = rtc
            .poll_timeout()
            .unwrap_or(now + Duration::from_millis(100))
            .max(now);
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                // An error (ICMP port unreachable and the like) has nothing for the core.
                if let Ok((n, src)) = r {
                    rtc.handle_input(
                        Instant::now(),
                        Input::Receive { local, src, bytes: &buf[..n] },
                    );
                }
            }
            c = commands.recv() => match c {
                Some(f) => {
                    // API calls use the last time the core was given: give it now.
                    let now = Instant::now();
                    rtc.handle_timeout(now);
                    f(&mut rtc, now)
                }
                None => return,
            },
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
    }
}
