//! One UDP socket for many peer connections: a router task reads the socket and hands
//! each datagram to the connection [`Mux`] names (ICE ufrag, then remote address); the
//! connections send through the same socket.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

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
    pub(crate) cmd: mpsc::UnboundedSender<RouterCmd>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl SharedSocket {
    /// Binds `addr` (port 0: the system picks) and starts the router on the current tokio
    /// runtime.
    pub async fn bind(addr: SocketAddr) -> Result<SharedSocket, RtcError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| RtcError::InvalidState("no tokio runtime"))?;
        let socket = Arc::new(super::bind_udp(addr)?);
        let local = socket
            .local_addr()
            .map_err(|_| RtcError::InvalidState("cannot bind a UDP socket"))?;
        let (cmd, rx) = mpsc::unbounded_channel();
        runtime.spawn(router(socket.clone(), rx));
        Ok(SharedSocket {
            socket,
            local,
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

/// Reads the socket until every handle and connection is gone.
async fn router(socket: Arc<UdpSocket>, mut cmds: mpsc::UnboundedReceiver<RouterCmd>) {
    let mut mux: Mux<u64> = Mux::new();
    let mut peers: HashMap<u64, mpsc::Sender<Routed>> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    loop {
        tokio::select! {
            c = cmds.recv() => match c {
                Some(RouterCmd::Register { key, ufrag, tx }) => {
                    mux.add_ufrag(&ufrag, key);
                    peers.insert(key, tx);
                }
                Some(RouterCmd::Ufrag { key, ufrag }) => mux.add_ufrag(&ufrag, key),
                Some(RouterCmd::Remove { key }) => {
                    mux.remove(key);
                    peers.remove(&key);
                }
                None => break,
            },
            r = socket.recv_from(&mut buf) => {
                let Ok((n, src)) = r else { continue };
                let Some(bytes) = buf.get(..n) else { continue };
                let Some(key) = mux.route(src, bytes) else { continue };
                if let Some(tx) = peers.get(&key) {
                    if let Err(mpsc::error::TrySendError::Closed(_)) =
                        tx.try_send((src, bytes.to_vec()))
                    {
                        mux.remove(key);
                        peers.remove(&key);
                    }
                }
            }
        }
    }
}
