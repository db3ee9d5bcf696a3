//! One session: a peer connection, its `detections` channel, its counters and its life.
//!
//! Each session is one tokio task ([`run`]) that owns the [`PeerConnection`] and takes
//! every event it has: frames are counted, the `detections` channel is bound, a `stats`
//! event goes out every second, and the session ends on the first of: the connection failed
//! or closed, nothing arrived for `idle_timeout_sec`, or the server stops. It then sends
//! `session_ended` (if the channel is open), closes the connection (SCTP shutdown and DTLS
//! close_notify) and leaves the [`Registry`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::watch;
use tracing::{debug, info, warn};
use uuid::Uuid;
use weft_peer::{
    ChannelState, CodecName, DataChannel, DataChannelMessage, Frame, MediaKind, PeerConnection,
    PeerConnectionState, PeerEvent, RtcError, Stats,
};

use crate::config::SessionConfig;
use crate::event::{Counts, EndReason, ServerEvent, Summary};
use crate::registry::{Registry, Slot};
use crate::{h264, vp8};

/// The one data channel label bound to a session (compared case-sensitively, as W3C
/// labels are plain strings).
pub const DETECTIONS: &str = "detections";

/// How often `stats` goes out.
const STATS_INTERVAL: Duration = Duration::from_secs(1);
/// How long the last event may take to leave before the connection is closed.
const FLUSH_LIMIT: Duration = Duration::from_millis(500);

/// Milliseconds since the Unix epoch.
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The wall clock now, in Unix milliseconds.
#[allow(clippy::disallowed_methods)]
fn now_ms() -> u64 {
    unix_ms(SystemTime::now())
}

#[derive(Default)]
struct Counters {
    video_frames: AtomicU64,
    audio_frames: AtomicU64,
    keyframes: AtomicU64,
    bytes: AtomicU64,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Counts {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            video_frames: l(&self.video_frames),
            audio_frames: l(&self.audio_frames),
            keyframes: l(&self.keyframes),
            bytes: l(&self.bytes),
            messages_in: l(&self.messages_in),
            messages_out: l(&self.messages_out),
        }
    }
}

/// What changes under a lock.
struct Live {
    connection: PeerConnectionState,
    channel: Option<ChannelState>,
    resolution: Option<(u16, u16)>,
    last_activity: Instant,
}

/// A session: id, start time, configuration and counters, shared between its task, the
/// registry and `GET /sessions`.
pub struct Session {
    id: Uuid,
    start_time: SystemTime,
    started: Instant,
    config: SessionConfig,
    counters: Counters,
    live: Mutex<Live>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("id", &self.id).finish()
    }
}

/// What `GET /sessions` says of one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionInfo {
    /// Id, start time, counters and resolution.
    #[serde(flatten)]
    pub summary: Summary,
    /// W3C `connectionState` of its peer connection.
    pub connection_state: &'static str,
    /// W3C `readyState` of its `detections` channel, `null` before there is one.
    pub channel_state: Option<&'static str>,
    /// Its configuration.
    pub config: SessionConfig,
}

impl Session {
    /// A new session: a fresh UUID v4 (RFC 9562 §5.4) and the start time, both fixed from
    /// here on.
    #[allow(clippy::disallowed_methods)]
    pub fn new(config: SessionConfig) -> Arc<Session> {
        let (stop, _) = watch::channel(false);
        let started = Instant::now();
        Arc::new(Session {
            id: Uuid::new_v4(),
            start_time: SystemTime::now(),
            started,
            config,
            counters: Counters::default(),
            live: Mutex::new(Live {
                connection: PeerConnectionState::New,
                channel: None,
                resolution: None,
                last_activity: started,
            }),
            stop,
        })
    }

    /// The session id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// When the session was created.
    pub fn start_time(&self) -> SystemTime {
        self.start_time
    }

    /// The session's configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The counters now.
    pub fn counts(&self) -> Counts {
        self.counters.snapshot()
    }

    /// Asks the session's task to end (reason `shutdown`).
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Id, start time, duration, counters and resolution.
    pub fn summary(&self) -> Summary {
        let resolution = self.live().resolution.map(|(w, h)| format!("{w}x{h}"));
        Summary {
            session_id: self.id,
            start_time_ms: unix_ms(self.start_time),
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            counts: self.counts(),
            resolution,
        }
    }

    /// What `GET /sessions` lists.
    pub fn info(&self) -> SessionInfo {
        let (connection, channel) = {
            let l = self.live();
            (l.connection, l.channel)
        };
        SessionInfo {
            summary: self.summary(),
            connection_state: connection_state_name(connection),
            channel_state: channel.map(channel_state_name),
            config: self.config.clone(),
        }
    }

    /// Media or a message arrived: the idle timer starts again.
    #[allow(clippy::disallowed_methods)]
    fn touch(&self) {
        self.live().last_activity = Instant::now();
    }

    fn idle_deadline(&self) -> Instant {
        self.live().last_activity + self.config.idle_timeout()
    }

    fn count_frame(&self, frame: &Frame) {
        let c = &self.counters;
        match frame.codec.kind() {
            MediaKind::Video => {
                c.video_frames.fetch_add(1, Ordering::Relaxed);
                if frame.keyframe {
                    c.keyframes.fetch_add(1, Ordering::Relaxed);
                    let size = match frame.codec {
                        CodecName::Vp8 => vp8::key_frame_size(&frame.data),
                        CodecName::H264 => h264::sps_size(&frame.data),
                        _ => None,
                    };
                    if let Some(size) = size {
                        self.live().resolution = Some(size);
                    }
                }
            }
            MediaKind::Audio => {
                c.audio_frames.fetch_add(1, Ordering::Relaxed);
            }
        }
        c.bytes
            .fetch_add(frame.data.len() as u64, Ordering::Relaxed);
        self.touch();
    }

    /// Sends one event on the channel and counts it.
    async fn send(&self, dc: &impl EventChannel, event: &ServerEvent<'_>) -> Result<(), RtcError> {
        let text = serde_json::to_string(event)
            .map_err(|e| RtcError::Media(format!("event not serialisable: {e}")))?;
        dc.send_text(&text).await?;
        self.counters.messages_out.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Sends `session_started`. `false` when the channel is not open yet: the caller sends
    /// it again once it is.
    async fn send_started(&self, dc: &impl EventChannel) -> bool {
        let event = ServerEvent::SessionStarted {
            session_id: self.id,
            timestamp_ms: now_ms(),
            config: &self.config,
        };
        match self.send(dc, &event).await {
            Ok(()) => {
                info!(session_id = %self.id, "session_started sent");
                true
            }
            Err(e) if dc.state() == ChannelState::Connecting => {
                warn!(session_id = %self.id, error = %e,
                    "session_started not sent: the channel is not open yet; sending it on open");
                false
            }
            Err(e) => {
                warn!(session_id = %self.id, error = %e, "session_started not sent");
                true
            }
        }
    }
}

fn connection_state_name(s: PeerConnectionState) -> &'static str {
    match s {
        PeerConnectionState::New => "new",
        PeerConnectionState::Connecting => "connecting",
        PeerConnectionState::Connected => "connected",
        PeerConnectionState::Disconnected => "disconnected",
        PeerConnectionState::Failed => "failed",
        PeerConnectionState::Closed => "closed",
    }
}

fn channel_state_name(s: ChannelState) -> &'static str {
    match s {
        ChannelState::Connecting => "connecting",
        ChannelState::Open => "open",
        ChannelState::Closing => "closing",
        ChannelState::Closed => "closed",
    }
}

/// What sending events needs of a channel: the driver's [`DataChannel`], or a scripted one
/// in tests (a channel that is not open yet cannot be made on demand with a real peer).
trait EventChannel {
    /// W3C `readyState`.
    fn state(&self) -> ChannelState;
    /// Sends a text message.
    async fn send_text(&self, text: &str) -> Result<(), RtcError>;
}

impl EventChannel for DataChannel {
    fn state(&self) -> ChannelState {
        DataChannel::state(self)
    }

    async fn send_text(&self, text: &str) -> Result<(), RtcError> {
        DataChannel::send_text(self, text).await
    }
}

/// The next message of the bound channel; never, while there is none.
async fn recv(channel: &Option<DataChannel>) -> Option<DataChannelMessage> {
    match channel {
        Some(dc) => dc.recv().await,
        None => std::future::pending().await,
    }
}

/// Waits until the bound channel is open.
async fn opened(channel: &Option<DataChannel>) -> Result<(), RtcError> {
    match channel {
        Some(dc) => dc.opened().await,
        None => std::future::pending().await,
    }
}

/// Whether the client closed DTLS (close_notify, RFC 5246 §7.2.1: no more data on this
/// connection): W3C `RTCDtlsTransportState` "closed" in the core's stats.
async fn dtls_closed(pc: &PeerConnection) -> bool {
    pc.with_rtc(|rtc| {
        rtc.stats().iter().any(|s| match s {
            Stats::Transport(t) => t.dtls_state == "closed",
            _ => false,
        })
    })
    .await
    .unwrap_or(true)
}

/// The session's task: runs until the session ends, then closes the connection and leaves
/// the registry. `slot` is its place under `max_sessions`, given back at the end.
pub async fn run(
    session: Arc<Session>,
    pc: Arc<PeerConnection>,
    registry: Arc<Registry>,
    slot: Slot,
) {
    let reason = drive(&session, &pc).await;
    pc.close().await;
    registry.remove(session.id);
    drop(slot);
    let s = session.summary();
    info!(
        session_id = %session.id,
        reason = reason.as_str(),
        duration_ms = s.duration_ms,
        video_frames = s.counts.video_frames,
        audio_frames = s.counts.audio_frames,
        keyframes = s.counts.keyframes,
        bytes = s.counts.bytes,
        messages_in = s.counts.messages_in,
        messages_out = s.counts.messages_out,
        resolution = s.resolution.as_deref().unwrap_or("-"),
        "session ended"
    );
}

/// The event loop of one session; returns why it ended, with `session_ended` sent when the
/// channel is open.
async fn drive(s: &Session, pc: &PeerConnection) -> EndReason {
    let mut stop = s.stop.subscribe();
    let mut channel: Option<DataChannel> = None;
    let mut start_pending = false;
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + STATS_INTERVAL, STATS_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = (tokio::time::Instant::now(), 0u64);
    loop {
        let idle_at = tokio::time::Instant::from_std(s.idle_deadline());
        tokio::select! {
            _ = async { stop.wait_for(|v| *v).await.is_ok() } => {
                return end(s, channel.as_ref(), EndReason::Shutdown).await;
            }
            _ = tokio::time::sleep_until(idle_at) => {
                if tokio::time::Instant::from_std(s.idle_deadline()) <= tokio::time::Instant::now() {
                    return end(s, channel.as_ref(), EndReason::IdleTimeout).await;
                }
            }
            ev = pc.next_event() => match ev {
                None => return end(s, channel.as_ref(), EndReason::ConnectionClosed).await,
                Some(PeerEvent::Frame { frame, .. }) => s.count_frame(&frame),
                Some(PeerEvent::DataChannel(dc)) => {
                    if dc.label() == DETECTIONS && channel.is_none() {
                        info!(session_id = %s.id, "detections channel bound");
                        s.live().channel = Some(dc.state());
                        start_pending = !s.send_started(&dc).await;
                        channel = Some(dc);
                    } else {
                        // Only `detections` belongs to the session; others are left alone.
                        debug!(session_id = %s.id, label = dc.label(), "data channel not bound");
                    }
                }
                Some(PeerEvent::Track { mid, kind, .. }) => {
                    info!(session_id = %s.id, mid, kind = ?kind, "incoming track");
                }
                Some(PeerEvent::ConnectionState(state)) => {
                    s.live().connection = state;
                    info!(session_id = %s.id, state = connection_state_name(state), "connection state");
                    match state {
                        PeerConnectionState::Failed => {
                            return end(s, channel.as_ref(), EndReason::ConnectionFailed).await;
                        }
                        PeerConnectionState::Closed => {
                            return end(s, channel.as_ref(), EndReason::ConnectionClosed).await;
                        }
                        _ => {}
                    }
                }
                Some(_) => {}
            },
            r = opened(&channel), if start_pending => {
                start_pending = false;
                if r.is_ok() {
                    if let Some(dc) = &channel {
                        start_pending = !s.send_started(dc).await;
                    }
                }
            }
            m = recv(&channel) => match m {
                Some(_) => {
                    s.counters.messages_in.fetch_add(1, Ordering::Relaxed);
                    s.touch();
                }
                None => {
                    info!(session_id = %s.id, "detections channel closed");
                    s.live().channel = Some(ChannelState::Closed);
                    channel = None;
                    if dtls_closed(pc).await {
                        return EndReason::ConnectionClosed;
                    }
                }
            },
            _ = tick.tick() => {
                if let Some(dc) = &channel {
                    s.live().channel = Some(dc.state());
                    if !start_pending && dc.state() == ChannelState::Open {
                        let now = tokio::time::Instant::now();
                        let counts = s.counts();
                        let secs = now.duration_since(last.0).as_secs_f64();
                        let bits = counts.bytes.saturating_sub(last.1) as f64 * 8.0;
                        let bitrate_bps = if secs > 0.0 { (bits / secs) as u64 } else { 0 };
                        last = (now, counts.bytes);
                        let event = ServerEvent::Stats {
                            session_id: s.id,
                            timestamp_ms: now_ms(),
                            counts,
                            bitrate_bps,
                            resolution: s.summary().resolution,
                        };
                        if let Err(e) = s.send(dc, &event).await {
                            debug!(session_id = %s.id, error = %e, "stats not sent");
                        }
                    }
                } else if s.live().connection == PeerConnectionState::Connected && dtls_closed(pc).await {
                    return EndReason::ConnectionClosed;
                }
            }
        }
    }
}

/// Sends `session_ended` if the channel is open, and waits (bounded) until it has left.
async fn end(s: &Session, channel: Option<&DataChannel>, reason: EndReason) -> EndReason {
    let Some(dc) = channel else {
        return reason;
    };
    if dc.state() != ChannelState::Open {
        return reason;
    }
    let event = ServerEvent::SessionEnded {
        session_id: s.id,
        timestamp_ms: now_ms(),
        reason,
        summary: s.summary(),
    };
    match s.send(dc, &event).await {
        Ok(()) => {
            let deadline = tokio::time::Instant::now() + FLUSH_LIMIT;
            while tokio::time::Instant::now() < deadline {
                match dc.buffered_amount().await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
            // Queued is not acknowledged: a moment for the last DATA chunk to arrive before
            // SCTP SHUTDOWN follows it (RFC 9260 §9.2 would deliver it anyway, but DTLS
            // close_notify ends the association at once).
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(e) => warn!(session_id = %s.id, error = %e, "session_ended not sent"),
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A channel whose state the test sets; sends fail unless it is open, as the core's do.
    struct Scripted {
        state: Mutex<ChannelState>,
        sent: Mutex<Vec<String>>,
    }

    impl EventChannel for Scripted {
        fn state(&self) -> ChannelState {
            *self.state.lock().unwrap()
        }

        async fn send_text(&self, text: &str) -> Result<(), RtcError> {
            if self.state() != ChannelState::Open {
                return Err(RtcError::InvalidState("channel not open"));
            }
            self.sent.lock().unwrap().push(text.to_owned());
            Ok(())
        }
    }

    #[tokio::test]
    async fn session_started_waits_for_a_channel_that_is_not_open_yet() {
        let s = Session::new(SessionConfig::default());
        let dc = Scripted {
            state: Mutex::new(ChannelState::Connecting),
            sent: Mutex::new(Vec::new()),
        };
        // Not open: nothing sent, nothing counted, and the caller is told to send on open.
        assert!(!s.send_started(&dc).await);
        assert!(dc.sent.lock().unwrap().is_empty());
        assert_eq!(s.counts().messages_out, 0);
        // Open: sent once, with the session's id and configuration.
        *dc.state.lock().unwrap() = ChannelState::Open;
        assert!(s.send_started(&dc).await);
        let sent = dc.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        let v: serde_json::Value = serde_json::from_str(&sent[0]).unwrap();
        assert_eq!(v["event_type"], "session_started");
        assert_eq!(v["session_id"], s.id().to_string());
        assert_eq!(v["config"]["max_resolution"], "1280x720");
        assert_eq!(s.counts().messages_out, 1);
    }

    #[tokio::test]
    async fn session_started_is_not_retried_on_a_closed_channel() {
        let s = Session::new(SessionConfig::default());
        let dc = Scripted {
            state: Mutex::new(ChannelState::Closed),
            sent: Mutex::new(Vec::new()),
        };
        // Closed will not open: the failure is logged and no send on open is waited for.
        assert!(s.send_started(&dc).await);
        assert!(dc.sent.lock().unwrap().is_empty());
    }
}
