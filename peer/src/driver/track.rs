//! The remote track handle: frames of one transceiver as a stream of their own.

use tokio::sync::{mpsc, Mutex};

use crate::{Frame, MediaKind, TransceiverId};

/// W3C `RTCRtpReceiver.track` as a stream: the whole frames one transceiver receives,
/// from [`super::PeerConnection::remote_track`] on. While a `RemoteTrack` is alive its
/// frames come out of [`recv`](Self::recv); once it is dropped they come out of the
/// connection's event stream as [`super::PeerEvent::Frame`] again.
#[derive(Debug)]
pub struct RemoteTrack {
    pub(crate) transceiver: TransceiverId,
    pub(crate) mid: String,
    pub(crate) kind: MediaKind,
    pub(crate) frames: Mutex<mpsc::UnboundedReceiver<Frame>>,
}

impl RemoteTrack {
    /// The transceiver it belongs to.
    pub fn transceiver(&self) -> TransceiverId {
        self.transceiver
    }

    /// Its media section's mid.
    pub fn mid(&self) -> &str {
        &self.mid
    }

    /// Audio or video.
    pub fn kind(&self) -> MediaKind {
        self.kind
    }

    /// The next whole frame; `None` once the connection is gone.
    pub async fn recv(&self) -> Option<Frame> {
        self.frames.lock().await.recv().await
    }
}
