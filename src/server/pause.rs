//! CLIENT PAUSE / UNPAUSE: holding clients' commands for a while.
//!
//! A pause has a scope: the administrator pauses every client, a namespace
//! user only the clients of its own namespace. A paused connection does
//! not run its next command until the pause ends; it waits on its own task,
//! so waiting costs no worker thread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::Notify;

/// What a pause holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseMode {
    /// Only commands that may change data.
    Write,
    /// Every command.
    All,
}

#[derive(Debug, Clone, Copy)]
struct Pause {
    until: Instant,
    mode: PauseMode,
}

/// The pauses in force, by scope (`None` = the whole server, else a
/// namespace name).
#[derive(Default)]
pub struct PauseTable {
    pauses: Mutex<HashMap<Option<String>, Pause>>,
    /// Fast path: false when no pause was set since the last cleanup.
    any: AtomicBool,
    /// Wakes waiting connections when a pause is lifted early.
    lifted: Notify,
}

impl PauseTable {
    /// Pauses `scope` until `until`. A second pause of the same scope keeps
    /// the later end and the stricter mode, as Redis does.
    pub fn pause(&self, scope: Option<String>, until: Instant, mode: PauseMode) {
        let mut pauses = self.pauses.lock();
        let entry = pauses.entry(scope).or_insert(Pause { until, mode });
        entry.until = entry.until.max(until);
        if mode == PauseMode::All {
            entry.mode = PauseMode::All;
        }
        self.any.store(true, Ordering::SeqCst);
    }

    /// Lifts the pause of `scope`, or every pause when `scope` is `None`
    /// (the administrator's UNPAUSE).
    pub fn unpause(&self, scope: Option<&str>) {
        let mut pauses = self.pauses.lock();
        match scope {
            None => pauses.clear(),
            Some(ns) => {
                pauses.remove(&Some(ns.to_string()));
            }
        }
        if pauses.is_empty() {
            self.any.store(false, Ordering::SeqCst);
        }
        drop(pauses);
        self.lifted.notify_waiters();
    }

    /// False when no pause may be in force (the per-command fast path).
    pub fn active(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// When a command of a client in `namespace` must wait, the instant the
    /// pause that holds it ends; `None` when it may run now.
    pub fn held_until(&self, namespace: &str, write: bool) -> Option<Instant> {
        if !self.any.load(Ordering::Relaxed) {
            return None;
        }
        let now = Instant::now();
        let mut pauses = self.pauses.lock();
        pauses.retain(|_, p| p.until > now);
        if pauses.is_empty() {
            self.any.store(false, Ordering::SeqCst);
            return None;
        }
        [None, Some(namespace.to_string())]
            .iter()
            .filter_map(|scope| pauses.get(scope))
            .filter(|p| write || p.mode == PauseMode::All)
            .map(|p| p.until)
            .max()
    }

    /// Returns once a command of a client in `namespace` may run: at
    /// once when nothing holds it, else when its pause ends or is lifted.
    pub async fn wait_until_free(&self, namespace: &str, write: bool) {
        loop {
            // Registered before the check, so an UNPAUSE between the check
            // and the wait is not missed.
            let lifted = self.lifted.notified();
            tokio::pin!(lifted);
            lifted.as_mut().enable();
            let Some(until) = self.held_until(namespace, write) else {
                return;
            };
            tokio::select! {
                _ = tokio::time::sleep_until(until.into()) => {}
                _ = lifted => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn scopes_and_modes() {
        let t = PauseTable::default();
        assert!(t.held_until("ns1", true).is_none());
        let later = Instant::now() + Duration::from_secs(60);
        t.pause(Some("ns1".into()), later, PauseMode::Write);
        assert!(t.held_until("ns1", true).is_some());
        assert!(t.held_until("ns1", false).is_none());
        assert!(t.held_until("ns2", true).is_none());
        t.pause(None, later, PauseMode::All);
        assert!(t.held_until("ns2", false).is_some());
        t.unpause(Some("ns1"));
        assert!(t.held_until("ns2", false).is_some());
        t.unpause(None);
        assert!(t.held_until("ns1", true).is_none());
    }
}
