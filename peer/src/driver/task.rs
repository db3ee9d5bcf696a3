//! The task that owns an [`Rtc`] and its sockets: datagrams, timers and commands in, the
//! core's transmits out to the sockets and its events out to the streams.

use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use tokio::io::{Interest, ReadBuf};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch, Mutex};

use super::channel::{DataChannel, DataChannelMessage};
use super::shared::{Routed, RouterCmd};
use super::track::RemoteTrack;
use super::udp::{recv_batch, recv_buffers, READS};
use super::PeerEvent;
use crate::{
    ChannelRef, ChannelState, Event, Frame, IceGatheringState, Input, Output, PeerConnectionState,
    Rtc, RtcError, TransceiverId, Transmit,
};

/// The one place the driver reads the clock: the driver is the I/O layer that feeds time
/// into the sans-IO core (ARCHITECTURE.md).
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// Work for the task, sent by the handles.
pub(crate) enum Command {
    /// Run a closure on the task's state (every API call: the closure answers through the
    /// oneshot it captured).
    Call(Box<dyn FnOnce(&mut Core) + Send>),
    /// `close()`: close the core, flush, release the sockets, then answer.
    Close(oneshot::Sender<()>),
}

/// What the task routes a channel's events to.
struct ChannelSlot {
    msgs: Option<mpsc::UnboundedSender<DataChannelMessage>>,
    state: watch::Sender<ChannelState>,
}

/// A connection's place on a [`super::SharedSocket`].
pub(crate) struct SharedLink {
    pub(crate) key: u64,
    pub(crate) cmd: mpsc::UnboundedSender<RouterCmd>,
    pub(crate) inbox: Option<mpsc::Receiver<Routed>>,
    /// The ufrags registered with the router (a restart adds one).
    pub(crate) ufrags: Vec<String>,
}

/// The task's state; API closures get `&mut Core`.
pub(crate) struct Core {
    pub(crate) rtc: Rtc,
    /// Sockets to send from; the task also reads them unless they are shared.
    sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
    shared: Option<SharedLink>,
    events: mpsc::UnboundedSender<PeerEvent>,
    state: watch::Sender<PeerConnectionState>,
    gathering: watch::Sender<IceGatheringState>,
    channels: HashMap<ChannelRef, ChannelSlot>,
    /// Frame streams of the remote tracks whose handles live.
    tracks: HashMap<TransceiverId, mpsc::UnboundedSender<Frame>>,
    cmd: mpsc::WeakSender<Command>,
    outbox: Vec<Transmit>,
    /// Batched I/O state (quinn-udp: GSO/GRO, recvmmsg) of each socket, by index in
    /// `sockets` (a shared socket's is the one its [`super::SharedSocket`] holds); empty
    /// where the kernel refused it, and datagrams then go one by one.
    batch: Vec<Arc<quinn_udp::UdpSocketState>>,
    /// Segments of one GSO send, back to back.
    gso_buf: Vec<u8>,
    /// The kernel refused a GSO send as unsupported (EIO, EINVAL): datagrams go one by
    /// one from then on.
    gso_off: bool,
}

impl Core {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        rtc: Rtc,
        sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
        batch: Vec<Arc<quinn_udp::UdpSocketState>>,
        shared: Option<SharedLink>,
        events: mpsc::UnboundedSender<PeerEvent>,
        state: watch::Sender<PeerConnectionState>,
        gathering: watch::Sender<IceGatheringState>,
        cmd: mpsc::WeakSender<Command>,
    ) -> Core {
        Core {
            rtc,
            sockets,
            shared,
            events,
            state,
            gathering,
            channels: HashMap::new(),
            tracks: HashMap::new(),
            cmd,
            outbox: Vec::new(),
            batch,
            gso_buf: Vec::new(),
            gso_off: false,
        }
    }

    /// A handle for a channel of the core, with its slot.
    pub(crate) fn channel_handle(&mut self, r: ChannelRef) -> DataChannel {
        let label = self.rtc.channel(r).map(|i| i.label).unwrap_or_default();
        let (msg_tx, msg_rx) = mpsc::unbounded_channel();
        let (state_tx, state_rx) = watch::channel(ChannelState::Connecting);
        self.channels.insert(
            r,
            ChannelSlot {
                msgs: Some(msg_tx),
                state: state_tx,
            },
        );
        DataChannel {
            r,
            label,
            cmd: self.cmd.clone(),
            msgs: Mutex::new(msg_rx),
            state: state_rx,
        }
    }

    /// A frame stream for a transceiver (replacing an earlier one).
    pub(crate) fn remote_track(&mut self, t: TransceiverId) -> Result<RemoteTrack, RtcError> {
        let mid = self.rtc.mid(t).ok_or(RtcError::Unknown)?.to_owned();
        let kind = self.rtc.media_kind(t).ok_or(RtcError::Unknown)?;
        let (tx, rx) = mpsc::unbounded_channel();
        self.tracks.insert(t, tx);
        Ok(RemoteTrack {
            transceiver: t,
            mid,
            kind,
            frames: Mutex::new(rx),
        })
    }

    /// `createDataChannel` on the core, and its handle.
    pub(crate) fn create_data_channel(
        &mut self,
        label: &str,
        options: crate::ChannelOptions,
    ) -> Result<DataChannel, RtcError> {
        let r = self.rtc.create_data_channel(label, options)?;
        Ok(self.channel_handle(r))
    }

    /// Closes a channel: the core resets the stream and reports no close for a channel
    /// closed locally, so the slot is closed here.
    pub(crate) fn close_channel(&mut self, r: ChannelRef) -> Result<(), RtcError> {
        self.rtc.close_channel(r)?;
        self.channel_closed(r);
        Ok(())
    }

    fn channel_closed(&mut self, r: ChannelRef) {
        if let Some(slot) = self.channels.remove(&r) {
            slot.state.send_replace(ChannelState::Closed);
        }
    }

    /// Routes one event of the core.
    fn route(&mut self, e: Event) {
        let pe = match e {
            Event::ChannelMessage {
                channel,
                kind,
                data,
            } => {
                if let Some(tx) = self.channels.get(&channel).and_then(|s| s.msgs.as_ref()) {
                    let _ = tx.send(DataChannelMessage { kind, data });
                }
                return;
            }
            Event::ChannelOpen(r) => {
                if let Some(slot) = self.channels.get(&r) {
                    slot.state.send_replace(ChannelState::Open);
                }
                return;
            }
            Event::ChannelClosed(r) => {
                self.channel_closed(r);
                return;
            }
            Event::BufferedAmountLow(_) => return,
            Event::DataChannel(r) => {
                let dc = self.channel_handle(r);
                PeerEvent::DataChannel(dc)
            }
            Event::SignalingState(s) => PeerEvent::SignalingState(s),
            Event::IceGatheringState(s) => {
                self.gathering.send_replace(s);
                PeerEvent::IceGatheringState(s)
            }
            Event::IceConnectionState(s) => PeerEvent::IceConnectionState(s),
            Event::ConnectionState(s) => {
                self.state.send_replace(s);
                PeerEvent::ConnectionState(s)
            }
            Event::IceCandidate(c) => PeerEvent::IceCandidate(c),
            Event::NegotiationNeeded => PeerEvent::NegotiationNeeded,
            Event::Track {
                transceiver,
                mid,
                kind,
            } => PeerEvent::Track {
                transceiver,
                mid,
                kind,
            },
            Event::Frame { transceiver, frame } => {
                // To the track's own stream while its handle lives.
                let frame = match self.tracks.get(&transceiver) {
                    Some(tx) => match tx.send(frame) {
                        Ok(()) => return,
                        Err(mpsc::error::SendError(f)) => {
                            self.tracks.remove(&transceiver);
                            f
                        }
                    },
                    None => frame,
                };
                PeerEvent::Frame { transceiver, frame }
            }
            Event::KeyframeRequest { transceiver } => PeerEvent::KeyframeRequest { transceiver },
            other => PeerEvent::Other(other),
        };
        // Nobody listening is fine: the events are dropped.
        let _ = self.events.send(pe);
    }

    /// Drains the core: events routed now, datagrams queued for [`flush`](Self::flush).
    /// API closures call it before they answer, so that a caller sees the state changes
    /// its call caused (the gathering state after `set_local_description`, ...).
    pub(crate) fn drain(&mut self) {
        while let Some(o) = self.rtc.poll_output() {
            match o {
                Output::Transmit(t) => self.outbox.push(t),
                Output::Event(e) => self.route(e),
            }
        }
    }

    /// Drains the core and sends the datagrams.
    async fn flush(&mut self) {
        self.drain();
        // After an ICE restart the router must know the new ufrag (the old one keeps
        // routing until the connection goes).
        if let Some(link) = self.shared.as_mut() {
            let ufrag = &self.rtc.ice_agent().local_credentials().ufrag;
            if !link.ufrags.contains(ufrag) {
                link.ufrags.push(ufrag.clone());
                let _ = link.cmd.send(RouterCmd::Ufrag {
                    key: link.key,
                    ufrag: ufrag.clone(),
                });
            }
        }
        let outbox = std::mem::take(&mut self.outbox);
        let mut i = 0;
        while let Some(t) = outbox.get(i) {
            let at = self
                .sockets
                .iter()
                .position(|(a, _)| *a == t.src)
                .unwrap_or(0);
            let Some((_, sock)) = self.sockets.get(at) else {
                break;
            };
            let Some(state) = self.batch.get(at) else {
                // UDP is lossy anyway: a failed send is a lost datagram (EMSGSIZE for an SCTP
                // path MTU probe larger than the interface too: the probe counts as lost).
                let _ = sock.send_to(&t.bytes, t.dst).await;
                i += 1;
                continue;
            };
            // UDP GSO: the datagrams that follow to the same destination from the same
            // socket, all of this size but the last (which may be shorter), go in one call.
            let size = t.bytes.len();
            let mut end = i + 1;
            let max = if self.gso_off {
                1
            } else {
                state.max_gso_segments()
            };
            while end - i < max {
                match outbox.get(end) {
                    Some(n) if n.dst == t.dst && n.src == t.src && n.bytes.len() <= size => {
                        end += 1;
                        if n.bytes.len() < size {
                            break;
                        }
                    }
                    _ => break,
                }
            }
            let contents: &[u8] = if end - i == 1 {
                &t.bytes
            } else {
                self.gso_buf.clear();
                for n in outbox.get(i..end).unwrap_or_default() {
                    self.gso_buf.extend_from_slice(&n.bytes);
                }
                &self.gso_buf
            };
            let tx = quinn_udp::Transmit {
                destination: t.dst,
                ecn: None,
                contents,
                segment_size: (end - i > 1).then_some(size),
                src_ip: None,
            };
            let sent = loop {
                let r = sock
                    .async_io(Interest::WRITABLE, || {
                        state.try_send(quinn_udp::UdpSockRef::from(&**sock), &tx)
                    })
                    .await;
                match r {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r,
                }
            };
            // A lone datagram's error is a lost datagram: EMSGSIZE included, which an SCTP
            // path MTU probe over the interface MTU gets (the probe then counts as lost).
            if let (Err(e), true) = (&sent, end - i > 1) {
                // The kernel refused the batch: one by one, and no more batches when it
                // says GSO cannot be done here (quinn-udp's own rule).
                if matches!(e.raw_os_error(), Some(EIO | EINVAL)) {
                    self.gso_off = true;
                }
                for n in outbox.get(i..end).unwrap_or_default() {
                    let _ = sock.send_to(&n.bytes, n.dst).await;
                }
            }
            i = end;
        }
    }

    /// Closes the core and sends what it says last (SCTP SHUTDOWN/ABORT, DTLS
    /// close_notify); every channel handle sees its channel closed.
    async fn shut(&mut self) {
        self.rtc.close();
        self.flush().await;
        let open: Vec<ChannelRef> = self.channels.keys().copied().collect();
        for r in open {
            self.channel_closed(r);
        }
        self.state.send_replace(PeerConnectionState::Closed);
        if let Some(link) = self.shared.take() {
            let _ = link.cmd.send(RouterCmd::Remove { key: link.key });
        }
    }
}

/// Receives one datagram on whichever socket has one: (socket index, result).
async fn recv_any(
    sockets: &[(SocketAddr, Arc<UdpSocket>)],
    buf: &mut [u8],
) -> (usize, io::Result<(usize, SocketAddr)>) {
    poll_fn(|cx| {
        for (i, (_, s)) in sockets.iter().enumerate() {
            let mut rb = ReadBuf::new(buf);
            match s.poll_recv_from(cx, &mut rb) {
                Poll::Ready(Ok(src)) => return Poll::Ready((i, Ok((rb.filled().len(), src)))),
                Poll::Ready(Err(e)) => return Poll::Ready((i, Err(e))),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    })
    .await
}

/// Datagrams taken from a socket per wake-up beyond the first, before the core is drained.
const BURST: usize = 32;

/// Linux errno values a GSO send fails with where the path cannot segment (no checksum
/// offload, a device without GSO): quinn-udp turns GSO off on them too.
const EIO: i32 = 5;
const EINVAL: i32 = 22;

/// Waits until one of the sockets has something to read: its index.
async fn readable_any(sockets: &[(SocketAddr, Arc<UdpSocket>)]) -> usize {
    poll_fn(|cx| {
        for (i, (_, s)) in sockets.iter().enumerate() {
            // An error is readiness too: the read reports it.
            if s.poll_recv_ready(cx).is_ready() {
                return Poll::Ready(i);
            }
        }
        Poll::Pending
    })
    .await
}

/// Reads what socket `i` has queued with batched reads (recvmmsg, GRO super-datagrams
/// split at their stride) and hands every datagram to the core, all at the time `t`.
fn read_batched(core: &mut Core, i: usize, bufs: &mut [Vec<u8>], t: Instant) {
    let (Some((local, sock)), Some(state)) = (core.sockets.get(i), core.batch.get(i)) else {
        return;
    };
    let (local, sock, state) = (*local, sock.clone(), state.clone());
    for _ in 0..READS {
        let read = recv_batch(&sock, &state, bufs, |src, bytes| {
            core.rtc
                .handle_input(t, Input::Receive { local, src, bytes });
        });
        // Nothing more queued; or an ICMP error reported on the socket (port
        // unreachable ...): ICE's consent checks find a dead path.
        if read.is_err() {
            return;
        }
    }
}

enum Wake {
    Command(Option<Command>),
    Readable(usize),
    Datagram(usize, io::Result<(usize, SocketAddr)>),
    Routed(Option<Routed>),
    Timer,
}

/// The next datagram the router hands over; never, for a connection with its own sockets.
async fn recv_routed(inbox: &mut Option<mpsc::Receiver<Routed>>) -> Option<Routed> {
    match inbox {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The task: runs until `close()` or until every strong command sender (the
/// `PeerConnection`) is gone; then the core is closed politely and the sockets dropped.
pub(crate) async fn run(mut core: Core, mut commands: mpsc::Receiver<Command>) {
    let mut buf = vec![0u8; 65536];
    let mut close_reply = None;
    let mut inbox = core.shared.as_mut().and_then(|l| l.inbox.take());
    let own_sockets = core.shared.is_none();
    let batched = own_sockets && !core.batch.is_empty();
    let mut bufs: Vec<Vec<u8>> = if batched { recv_buffers() } else { Vec::new() };
    loop {
        core.flush().await;
        let deadline = core.rtc.poll_timeout();
        let wake = {
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                c = commands.recv() => Wake::Command(c),
                () = sleep => Wake::Timer,
                i = readable_any(&core.sockets), if batched => Wake::Readable(i),
                (i, r) = recv_any(&core.sockets, &mut buf), if own_sockets && !batched => Wake::Datagram(i, r),
                d = recv_routed(&mut inbox), if !own_sockets => Wake::Routed(d),
            }
        };
        match wake {
            Wake::Command(Some(Command::Call(f))) => {
                // API calls happen now, not at the last datagram or timer (Rtc's contract).
                core.rtc.handle_timeout(now());
                f(&mut core)
            }
            Wake::Command(Some(Command::Close(reply))) => {
                close_reply = Some(reply);
                break;
            }
            // Every PeerConnection handle is gone.
            Wake::Command(None) => break,
            Wake::Timer => {
                // tokio's timer fires at or after the deadline; never hand the core a time
                // before the one it asked for.
                let t = deadline.map_or_else(now, |d| now().max(d));
                core.rtc.handle_timeout(t);
            }
            // Everything queued goes in before the core is drained: one pass over its
            // layers per burst (Rtc::poll_output).
            Wake::Readable(i) => read_batched(&mut core, i, &mut bufs, now()),
            Wake::Datagram(i, Ok((n, src))) => {
                if let (Some((local, sock)), Some(bytes)) = (core.sockets.get(i), buf.get(..n)) {
                    let (local, sock) = (*local, sock.clone());
                    let t = now();
                    core.rtc
                        .handle_input(t, Input::Receive { local, src, bytes });
                    // Whatever else is already queued on the socket goes in before the core
                    // is drained: one pass over its layers per burst (Rtc::poll_output).
                    for _ in 0..BURST {
                        match sock.try_recv_from(&mut buf) {
                            Ok((n, src)) => {
                                if let Some(bytes) = buf.get(..n) {
                                    core.rtc
                                        .handle_input(t, Input::Receive { local, src, bytes });
                                }
                            }
                            Err(_) => break,
                        }
                    }
                }
            }
            // An ICMP error reported on the socket (port unreachable ...): ICE's consent
            // checks find a dead path; nothing to do here.
            Wake::Datagram(_, Err(_)) => {}
            Wake::Routed(Some((src, bytes))) => {
                if let Some((local, _)) = core.sockets.first() {
                    let local = *local;
                    let t = now();
                    core.rtc.handle_input(
                        t,
                        Input::Receive {
                            local,
                            src,
                            bytes: &bytes,
                        },
                    );
                    // Whatever else the router has queued goes in before the core is
                    // drained, as for an own socket.
                    for _ in 0..BURST {
                        let Some(Ok((src, bytes))) = inbox.as_mut().map(|rx| rx.try_recv()) else {
                            break;
                        };
                        core.rtc.handle_input(
                            t,
                            Input::Receive {
                                local,
                                src,
                                bytes: &bytes,
                            },
                        );
                    }
                }
            }
            // The router is gone: nothing more will arrive.
            Wake::Routed(None) => inbox = None,
        }
    }
    core.shut().await;
    // Release the sockets (and the core) before `close()` returns.
    drop(core);
    drop(commands);
    if let Some(reply) = close_reply {
        let _ = reply.send(());
    }
}
