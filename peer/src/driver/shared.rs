//! One UDP socket for many peer connections: a router task reads the socket (batched
//! reads, GRO super-datagrams split) and hands each datagram to the connection [`Mux`]
//! names (ICE ufrag, then remote address); the connections send through the same socket,
//! with its one batched I/O state (GSO).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::udp::{recv_batch, recv_buffers, READS};
use crate::mux::Mux;
use crate::RtcError;

/// A datagram the router hands to a connection: (source, payload).
pub(crate) type Routed = (SocketAddr, Vec<u8>);

/// Datagrams queued per connection before the router drops (UDP semantics: a connection
/// that does not keep up loses packets, the others do not wait).
pub(crate) const QUEUE: usize = 1024;

pub(crate) enum RouterCmd {
    /// A new connection with its first ufrag and its queue.
    Register {
        key: u64,
        ufrag: String,
        tx: mpsc::Sender<Routed>,
    },
    /// Another ufrag of a connection (ICE restart).
    Ufrag { key: u64, ufrag: String },
    /// The connection is gone.
    Remove { key: u64 },
}

/// A UDP socket shared by peer connections: give it to [`super::PeerConfig::shared`] and
/// every connection made with that config uses this one address and port. A server needs
/// one port, not one per connection.
///
/// The socket (and its router task) lives while this handle or a connection using it
/// does.
#[derive(Clone, Debug)]
pub struct SharedSocket {
    pub(crate) socket: Arc<UdpSocket>,
    pub(crate) local: SocketAddr,
    /// The socket's batched I/O state (quinn-udp), for the router's reads and every
    /// connection's sends; none where the kernel refuses it.
    pub(crate) batch: Option<Arc<quinn_udp::UdpSocketState>>,
    pub(crate) cmd: mpsc::UnboundedSender<RouterCmd>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl SharedSocket {
    /// Binds `addr` (port 0: the system picks) and starts the router on the current tokio
    /// runtime.
    pub async fn bind(addr: SocketAddr) -> Result<SharedSocket, RtcError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| RtcError::InvalidState("no tokio runtime"))?;
        let (socket, batch) = super::bind_udp(addr)?;
        let socket = Arc::new(socket);
        let batch = batch.map(Arc::new);
        let local = socket
            .local_addr()
            .map_err(|_| RtcError::InvalidState("cannot bind a UDP socket"))?;
        let (cmd, rx) = mpsc::unbounded_channel();
        runtime.spawn(router(socket.clone(), batch.clone(), rx));
        Ok(SharedSocket {
            socket,
            local,
            batch,
            cmd,
            next: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub(crate) fn next_key(&self) -> u64 {
        self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// Where the router sends datagrams: each connection's queue, by the [`Mux`] key.
struct Table {
    mux: Mux<u64>,
    peers: HashMap<u64, mpsc::Sender<Routed>>,
}

impl Table {
    fn command(&mut self, c: RouterCmd) {
        match c {
            RouterCmd::Register { key, ufrag, tx } => {
                self.mux.add_ufrag(&ufrag, key);
                self.peers.insert(key, tx);
            }
            RouterCmd::Ufrag { key, ufrag } => self.mux.add_ufrag(&ufrag, key),
            RouterCmd::Remove { key } => self.remove(key),
        }
    }

    fn remove(&mut self, key: u64) {
        self.mux.remove(key);
        self.peers.remove(&key);
    }

    /// Queues one datagram for its connection; dropped when nobody claims it or the
    /// queue is full, and a closed queue's connection is forgotten.
    fn route(&mut self, src: SocketAddr, bytes: &[u8]) {
        let Some(key) = self.mux.route(src, bytes) else {
            return;
        };
        if let Some(tx) = self.peers.get(&key) {
            if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send((src, bytes.to_vec())) {
                self.remove(key);
            }
        }
    }
}

/// Reads the socket until every handle and connection is gone.
async fn router(
    socket: Arc<UdpSocket>,
    batch: Option<Arc<quinn_udp::UdpSocketState>>,
    mut cmds: mpsc::UnboundedReceiver<RouterCmd>,
) {
    let mut table = Table {
        mux: Mux::new(),
        peers: HashMap::new(),
    };
    let mut bufs = recv_buffers();
    loop {
        tokio::select! {
            c = cmds.recv() => match c {
                Some(c) => table.command(c),
                None => break,
            },
            r = socket.readable() => {
                // tokio's I/O driver is gone (the runtime shuts down).
                if r.is_err() {
                    break;
                }
                // Up to READS reads, then the commands get their turn. A read error is
                // nothing queued, or an ICMP error reported on the socket (port
                // unreachable ...): the connections' consent checks find a dead path.
                for _ in 0..READS {
                    let read = match &batch {
                        Some(state) => recv_batch(&socket, state, &mut bufs, |src, bytes| {
                            table.route(src, bytes)
                        }),
                        // No batched I/O on this socket: one datagram per read.
                        None => read_one(&socket, &mut bufs, &mut table),
                    };
                    if read.is_err() {
                        break;
                    }
                }
            }
        }
    }
}

/// One datagram from `socket` to its connection, for a socket without batched I/O.
fn read_one(socket: &UdpSocket, bufs: &mut [Vec<u8>], table: &mut Table) -> io::Result<usize> {
    let Some(buf) = bufs.first_mut() else {
        return Ok(0);
    };
    let (n, src) = socket.try_recv_from(buf)?;
    if let Some(bytes) = buf.get(..n) {
        table.route(src, bytes);
    }
    Ok(1)
}
