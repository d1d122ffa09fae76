//! An import's memory bound: data imported into this node (raw chunks, and
//! the per-key path's ASKING writes) is flushed every
//! `migrate-import-flush-mb`, and writers wait while the memtables hold
//! more than twice that, so an import grows this process by about
//! the setting rather than by RocksDB's write buffers or by how fast the
//! disk keeps up.

use std::time::{Duration, Instant};

use super::ImportRegistry;
use crate::config::Config;
use crate::storage::{Storage, StorageError};

/// Longest an import write waits for memtables to be flushed.
const FLUSH_WAIT_LIMIT: Duration = Duration::from_secs(5);

/// `migrate-import-flush-mb` in bytes (0 = no flush policy).
pub fn flush_limit(config: &Config) -> u64 {
    (config.int("migrate-import-flush-mb").max(0) as u64) << 20
}

/// Backpressure before an import write: while the memtables hold more
/// than twice `limit`, a flush is started if none is under way and
/// the writer waits for it (at most [`FLUSH_WAIT_LIMIT`]), so a raw
/// source's window fills and a per-key source's next batch waits.
pub fn wait_for_flushes(storage: &Storage, limit: u64) -> Result<(), StorageError> {
    if limit == 0 || storage.memtable_bytes() <= 2 * limit {
        return Ok(());
    }
    if storage.immutable_memtables() == 0 {
        storage.flush_data_async()?;
    }
    let started = Instant::now();
    let wait = || {
        while storage.memtable_bytes() > 2 * limit && started.elapsed() < FLUSH_WAIT_LIMIT {
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    off_worker(wait);
    Ok(())
}

/// Runs `work`, which may block for a while (a flush, an ingest): inside
/// the async runtime, the worker's other tasks move to other threads
/// meanwhile.
pub fn off_worker<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// Counts `bytes` imported; starts a flush each time another `limit`
/// bytes were imported (and nudges the page-cache janitor as it goes).
pub fn note_imported(
    registry: &ImportRegistry,
    storage: &Storage,
    bytes: u64,
    limit: u64,
) -> Result<(), StorageError> {
    storage.bulk_written(bytes);
    if registry.applied_bytes(bytes, limit) {
        storage.flush_data_async()?;
    }
    Ok(())
}
