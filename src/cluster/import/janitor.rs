//! What imports write does not stay in the page cache. Data imported
//! through the write path (`migrate-import-mode write`, the WAL phase, the
//! per-key path's ASKING writes) goes to the WAL, then to flushed and
//! compacted SST files, all of which the kernel would keep cached and a
//! container's memory limit would count. While imports run, and until the
//! flushes and compactions they caused are done, a thread drops from the
//! page cache the WAL, the SST files numbered from where the first import
//! began (outputs of a compaction under way included) and the older files
//! overlapping them (what compacting them reads). It passes every
//! [`PERIOD`], and sooner when imports wrote [`NUDGE_BYTES`] since its
//! last pass: an import writes each byte twice (WAL, then SST) at up to
//! disk speed, and a compaction the import waits for is what fills the
//! cache then.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::ImportRegistry;
use crate::storage::Storage;

/// Longest time between two passes.
pub const PERIOD: Duration = Duration::from_millis(200);

/// Bytes imported through the write path that call a pass at once.
pub const NUDGE_BYTES: u64 = 8 << 20;

/// The running janitor, if any, and how much was written since its pass.
#[derive(Default)]
pub struct Janitor {
    thread: Mutex<Option<std::thread::Thread>>,
    unswept: AtomicU64,
}

impl Janitor {
    /// Counts `bytes` imported through the write path; wakes the janitor
    /// every [`NUDGE_BYTES`].
    pub fn written(&self, bytes: u64) {
        let total = self.unswept.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total >= NUDGE_BYTES {
            self.unswept.store(0, Ordering::Relaxed);
            if let Some(t) = self.thread.lock().as_ref() {
                t.unpark();
            }
        }
    }
}

/// Starts the janitor unless it runs already; called when an import
/// starts.
pub fn watch(registry: &Arc<ImportRegistry>, storage: &Arc<Storage>) {
    if !registry.claim_janitor() {
        return;
    }
    let first = match storage.next_file_number() {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("imports stay in the page cache: {}", e);
            registry.janitor_running.store(false, Ordering::SeqCst);
            return;
        }
    };
    tracing::info!("import page-cache janitor: started (files from {})", first);
    let (registry, storage) = (registry.clone(), storage.clone());
    let spawned = std::thread::Builder::new()
        .name("import-janitor".into())
        .spawn(move || run(&registry, &storage, first));
    if let Err(e) = spawned {
        tracing::warn!("cannot start the import page-cache janitor: {}", e);
    }
}

/// Passes until no import runs and RocksDB's background work is done.
fn run(registry: &ImportRegistry, storage: &Storage, first: u64) {
    *registry.janitor.thread.lock() = Some(std::thread::current());
    loop {
        std::thread::park_timeout(PERIOD);
        if let Err(e) = storage.evict_written_since(first) {
            tracing::debug!("cannot drop imported files from the page cache: {}", e);
        }
        if registry.is_idle() && !storage.background_busy() && registry.release_janitor() {
            *registry.janitor.thread.lock() = None;
            // One last pass for what the last flush or compaction wrote.
            let _ = storage.evict_written_since(first);
            tracing::info!("import page-cache janitor: stopped");
            return;
        }
    }
}
