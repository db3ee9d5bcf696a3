//! The data channel handle: messages in as a per-channel stream, sends as commands.

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch, Mutex};

use super::task::{Command, Core};
use crate::{ChannelRef, ChannelState, MessageKind, RtcError};

/// One message received on a [`DataChannel`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChannelMessage {
    /// Text (PPID 51) or binary (PPID 53); empty messages keep their kind.
    pub kind: MessageKind,
    /// The payload.
    pub data: Bytes,
}

impl DataChannelMessage {
    /// The payload as text, if the message is text and valid UTF-8.
    pub fn text(&self) -> Option<&str> {
        match self.kind {
            MessageKind::Text => std::str::from_utf8(&self.data).ok(),
            MessageKind::Binary => None,
        }
    }
}

/// W3C `RTCDataChannel`: a handle to one channel of a [`PeerConnection`](super::PeerConnection).
///
/// Messages come out of [`recv`](Self::recv), in order, until the channel closes. The
/// handle holds only a weak reference to the connection's task: dropping the
/// `PeerConnection` ends the task even while channel handles live on, and their calls then
/// fail with [`RtcError::InvalidState`].
pub struct DataChannel {
    pub(crate) r: ChannelRef,
    pub(crate) label: String,
    pub(crate) cmd: mpsc::WeakSender<Command>,
    pub(crate) msgs: Mutex<mpsc::UnboundedReceiver<DataChannelMessage>>,
    pub(crate) state: watch::Receiver<ChannelState>,
}

impl std::fmt::Debug for DataChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataChannel")
            .field("channel", &self.r)
            .field("label", &self.label)
            .field("state", &self.state())
            .finish()
    }
}

impl DataChannel {
    /// W3C `label`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The core's reference to the channel (what [`crate::Event`]s name).
    pub fn channel_ref(&self) -> ChannelRef {
        self.r
    }

    /// W3C `readyState`. `Closed` once the connection's task has ended.
    pub fn state(&self) -> ChannelState {
        if self.state.has_changed().is_err() {
            return ChannelState::Closed;
        }
        *self.state.borrow()
    }

    /// Waits until the channel is open; an error if it closes (or the connection ends)
    /// first.
    pub async fn opened(&self) -> Result<(), RtcError> {
        let mut rx = self.state.clone();
        let r = rx
            .wait_for(|s| matches!(s, ChannelState::Open | ChannelState::Closed))
            .await
            .map(|s| *s);
        match r {
            Ok(ChannelState::Open) => Ok(()),
            _ => Err(RtcError::InvalidState("channel closed")),
        }
    }

    /// Waits until the channel is closed (by either side, or the connection ending).
    pub async fn closed(&self) {
        let mut rx = self.state.clone();
        let _ = rx.wait_for(|s| *s == ChannelState::Closed).await;
    }

    /// The next message, or `None` once the channel is closed and every message before
    /// the close was taken. Cancel-safe.
    pub async fn recv(&self) -> Option<DataChannelMessage> {
        self.msgs.lock().await.recv().await
    }

    /// Sends a text message.
    pub async fn send_text(&self, text: &str) -> Result<(), RtcError> {
        self.send(MessageKind::Text, Bytes::copy_from_slice(text.as_bytes()))
            .await
    }

    /// Sends a binary message.
    pub async fn send_binary(&self, data: impl Into<Bytes>) -> Result<(), RtcError> {
        self.send(MessageKind::Binary, data.into()).await
    }

    /// Sends a message of either kind (queued in SCTP; see
    /// [`buffered_amount`](Self::buffered_amount)).
    pub async fn send(&self, kind: MessageKind, data: Bytes) -> Result<(), RtcError> {
        let r = self.r;
        self.call(move |core| core.rtc.send(r, kind, &data)).await?
    }

    /// W3C `bufferedAmount`: bytes queued and not yet sent.
    pub async fn buffered_amount(&self) -> Result<usize, RtcError> {
        let r = self.r;
        self.call(move |core| core.rtc.buffered_amount(r)).await
    }

    /// W3C `close()`: the stream is reset (RFC 8831 §6.7); [`recv`](Self::recv) returns
    /// `None` after the messages already received.
    pub async fn close(&self) -> Result<(), RtcError> {
        let r = self.r;
        self.call(move |core| core.close_channel(r)).await?
    }

    async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core) -> R + Send + 'static,
    ) -> Result<R, RtcError> {
        let cmd = self.cmd.upgrade().ok_or(RtcError::InvalidState("closed"))?;
        let (tx, rx) = oneshot::channel();
        cmd.send(Command::Call(Box::new(move |core| {
            let r = f(core);
            core.drain();
            let _ = tx.send(r);
        })))
        .await
        .map_err(|_| RtcError::InvalidState("closed"))?;
        drop(cmd);
        rx.await.map_err(|_| RtcError::InvalidState("closed"))
    }
}
