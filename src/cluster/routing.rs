//! The routing decision for a command with keys: serve it here, or redirect
//! the client (MOVED, ASK), or refuse it (CROSSSLOT, TRYAGAIN, CLUSTERDOWN).

use super::slot::key_slot;
use super::state::ClusterState;

/// Where a command goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// Run it on this node.
    Local,
    /// The slot lives elsewhere for good.
    Moved(u16, String),
    /// The slot is moving and this key is already (or will be) there.
    Ask(u16, String),
    /// Keys of different slots.
    CrossSlot,
    /// A multi-key command during a migration with some keys moved.
    TryAgain,
    /// A write to a slot in the cut-over pause of a migration.
    Paused,
    /// No node serves the slot.
    Down,
}

impl Route {
    /// The error line sent to the client, or `None` for [`Route::Local`].
    pub fn error(&self) -> Option<String> {
        Some(match self {
            Route::Local => return None,
            Route::Moved(slot, addr) => format!("MOVED {slot} {addr}"),
            Route::Ask(slot, addr) => format!("ASK {slot} {addr}"),
            Route::CrossSlot => "CROSSSLOT Keys in request don't hash to the same slot".into(),
            Route::TryAgain => "TRYAGAIN Multiple keys request during rehashing of slot".into(),
            Route::Paused => {
                "TRYAGAIN Can't write to slot being migrated which is in write forbidden phase"
                    .into()
            }
            Route::Down => "CLUSTERDOWN Hash slot not served".into(),
        })
    }
}

/// Decides where a command with `keys` goes. `asking` is the client's ASKING
/// flag, `write` whether the command writes; `count_existing` counts how many of the keys exist locally (only
/// called for a slot this node is migrating).
pub fn route(
    state: &ClusterState,
    keys: &[&[u8]],
    asking: bool,
    write: bool,
    count_existing: impl FnOnce() -> usize,
) -> Route {
    let Some(first) = keys.first() else {
        return Route::Local;
    };
    let slot = key_slot(first);
    if keys[1..].iter().any(|k| key_slot(k) != slot) {
        return Route::CrossSlot;
    }
    if state.owns(slot) {
        if write && state.paused.contains(&slot) {
            return Route::Paused;
        }
        if let Some(dst) = state.migrating.get(&slot) {
            let existing = count_existing();
            if existing < keys.len() {
                if existing > 0 {
                    return Route::TryAgain;
                }
                return match state.topology.node(dst) {
                    Some(n) => Route::Ask(slot, n.addr()),
                    None => Route::Local,
                };
            }
        }
        return Route::Local;
    }
    if asking && state.importing.contains_key(&slot) {
        return Route::Local;
    }
    match state.topology.owner(slot) {
        Some(n) => Route::Moved(slot, n.addr()),
        None => Route::Down,
    }
}
