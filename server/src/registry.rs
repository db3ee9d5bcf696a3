//! The one registry of live sessions: what `GET /sessions` lists, what shutdown closes,
//! and the count `max_sessions` bounds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

use crate::session::{Session, SessionInfo};

/// Live sessions by id.
#[derive(Debug)]
pub struct Registry {
    sessions: Mutex<HashMap<Uuid, Arc<Session>>>,
    /// Sessions in the map, for waiting until it is empty.
    count: watch::Sender<usize>,
    /// Offers being answered plus live sessions (see [`Slot`]).
    slots: Arc<AtomicUsize>,
}

/// A place under `max_sessions`, taken when an offer is accepted and held by the session
/// until it ends; dropping it gives the place back.
#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Default for Registry {
    fn default() -> Registry {
        Registry {
            sessions: Mutex::new(HashMap::new()),
            count: watch::channel(0).0,
            slots: Arc::default(),
        }
    }
}

impl Registry {
    fn map(&self) -> MutexGuard<'_, HashMap<Uuid, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot, if fewer than `max` are taken.
    pub fn try_reserve(&self, max: usize) -> Option<Slot> {
        let mut n = self.slots.load(Ordering::Acquire);
        loop {
            if n >= max {
                return None;
            }
            match self
                .slots
                .compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(Slot(self.slots.clone())),
                Err(now) => n = now,
            }
        }
    }

    /// Adds a live session.
    pub fn insert(&self, session: Arc<Session>) {
        let n = {
            let mut m = self.map();
            m.insert(session.id(), session);
            m.len()
        };
        self.count.send_replace(n);
    }

    /// Removes a session (its task does, as it ends).
    pub fn remove(&self, id: Uuid) -> Option<Arc<Session>> {
        let (s, n) = {
            let mut m = self.map();
            let s = m.remove(&id);
            (s, m.len())
        };
        self.count.send_replace(n);
        s
    }

    /// A live session.
    pub fn get(&self, id: Uuid) -> Option<Arc<Session>> {
        self.map().get(&id).cloned()
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every live session, oldest first.
    pub fn list(&self) -> Vec<SessionInfo> {
        let sessions: Vec<Arc<Session>> = self.map().values().cloned().collect();
        let mut out: Vec<SessionInfo> = sessions.iter().map(|s| s.info()).collect();
        out.sort_by_key(|i| (i.summary.start_time_ms, i.summary.session_id));
        out
    }

    /// Asks every session to end and waits until all have left, or `limit` passed.
    /// Returns how many were still live at the limit.
    pub async fn close_all(&self, limit: Duration) -> usize {
        let sessions: Vec<Arc<Session>> = self.map().values().cloned().collect();
        for s in &sessions {
            s.stop();
        }
        let mut rx = self.count.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|n| *n == 0)).await;
        self.len()
    }
}
