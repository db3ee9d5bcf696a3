//! Batched UDP reads with quinn-udp (recvmmsg, GRO super-datagrams), shared by the sockets
//! a connection owns and by the router of a [`super::SharedSocket`].

use std::io;
use std::net::SocketAddr;

use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Receive buffers per batched read (recvmmsg); each takes one GRO super-datagram.
pub(crate) const RECV_BUFFERS: usize = 4;
/// Batched reads per wake-up before the reader does something else (drains the core,
/// takes the router's commands).
pub(crate) const READS: usize = 8;

/// The buffers [`recv_batch`] reads into: 64 KiB each, the largest GRO super-datagram.
pub(crate) fn recv_buffers() -> Vec<Vec<u8>> {
    (0..RECV_BUFFERS).map(|_| vec![0u8; 65536]).collect()
}

/// One batched read of `sock` (recvmmsg where the kernel has it): every datagram it got
/// goes to `each` as (source, bytes), a GRO super-datagram split at its stride into the
/// datagrams it was made of. Returns how many buffers were filled; an error when nothing
/// is queued (`WouldBlock`, and tokio's readiness is cleared) or when the socket reports
/// one (an ICMP error: port unreachable ...).
pub(crate) fn recv_batch(
    sock: &UdpSocket,
    state: &quinn_udp::UdpSocketState,
    bufs: &mut [Vec<u8>],
    mut each: impl FnMut(SocketAddr, &[u8]),
) -> io::Result<usize> {
    let mut meta = [quinn_udp::RecvMeta::default(); RECV_BUFFERS];
    // On the stack: no allocation per read.
    let mut free = bufs.iter_mut();
    let mut iovs: [io::IoSliceMut<'_>; RECV_BUFFERS] = std::array::from_fn(|_| {
        io::IoSliceMut::new(free.next().map_or(&mut [][..], Vec::as_mut_slice))
    });
    let n = sock.try_io(Interest::READABLE, || {
        state.recv(quinn_udp::UdpSockRef::from(sock), &mut iovs, &mut meta)
    })?;
    for (m, buf) in meta.iter().zip(bufs.iter()).take(n) {
        let Some(data) = buf.get(..m.len) else {
            continue;
        };
        let stride = if m.stride == 0 {
            m.len.max(1)
        } else {
            m.stride
        };
        for bytes in data.chunks(stride) {
            each(m.addr, bytes);
        }
    }
    Ok(n)
}
