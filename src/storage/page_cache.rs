//! Keeping bulk work out of the page cache. A container's memory limit
//! counts the page cache, and moving a slot reads and writes far more than
//! the hot set: the files a migration reads, and the WAL and SST files an
//! import or a per-key move writes, are dropped from it behind the work
//! (`posix_fadvise(POSIX_FADV_DONTNEED)`). Hot blocks stay in the block
//! cache; a dropped page read again later comes from disk.
//!
//! Bulk writers (an import, a per-key move deleting what it sent) hold a
//! [`BulkWork`] guard. While one is held, and until the flushes and
//! compactions the work caused are done, a janitor thread drops the WAL,
//! the SST files written since the first guard was taken (outputs of a
//! compaction under way included) and the older files overlapping them
//! (what compacting them reads). It passes every [`JANITOR_PERIOD`], and
//! sooner once [`NUDGE_BYTES`] were written in bulk since its last pass:
//! each byte is written twice (WAL, then SST) at up to disk speed, and a
//! compaction the work waits for is what fills the cache meanwhile.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::{Cf, Storage, StorageError};

/// Longest time between two janitor passes. A compaction reads its inputs
/// and writes its outputs at a few hundred MB/s here, so at 200 ms one
/// file held 40-56 MiB of the page cache at a time in `make
/// bench-migrate`'s write-mode and per-key rows; a pass costs a listing of
/// the live files and the data dir and one `fadvise` per file concerned.
pub const JANITOR_PERIOD: Duration = Duration::from_millis(50);

/// Bytes written in bulk that call a janitor pass at once.
pub const NUDGE_BYTES: u64 = 8 << 20;

/// The janitor's state, one per storage.
#[derive(Default)]
pub(super) struct Janitor {
    /// Guards held.
    holders: AtomicUsize,
    /// True while the thread runs.
    running: AtomicBool,
    thread: Mutex<Option<std::thread::Thread>>,
    /// Bytes written in bulk since the last nudge.
    unswept: AtomicU64,
}

impl Janitor {
    /// True when this caller is to start the thread.
    fn claim(&self) -> bool {
        self.running
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Gives the thread's place up; true when it may stop (no guard taken
    /// meanwhile, or another thread took over).
    fn release(&self) -> bool {
        self.running.store(false, Ordering::SeqCst);
        self.holders.load(Ordering::SeqCst) == 0 || !self.claim()
    }
}

/// Held by bulk work while it runs (see the module's doc); dropping the
/// last one lets the janitor stop once RocksDB's background work is done.
pub struct BulkWork {
    storage: Arc<Storage>,
}

impl Drop for BulkWork {
    fn drop(&mut self) {
        self.storage.janitor.holders.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Storage {
    /// Starts keeping bulk work out of the page cache (the janitor thread,
    /// unless it runs already) for as long as the guard lives.
    pub fn bulk_work(self: &Arc<Self>) -> BulkWork {
        self.janitor.holders.fetch_add(1, Ordering::SeqCst);
        if self.janitor.claim() {
            start_janitor(self);
        }
        BulkWork {
            storage: self.clone(),
        }
    }

    /// Counts `bytes` written in bulk; wakes the janitor every
    /// [`NUDGE_BYTES`].
    pub fn bulk_written(&self, bytes: u64) {
        let j = &self.janitor;
        let total = j.unswept.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total >= NUDGE_BYTES {
            j.unswept.store(0, Ordering::Relaxed);
            if let Some(t) = j.thread.lock().as_ref() {
                t.unpark();
            }
        }
    }
}

fn start_janitor(storage: &Arc<Storage>) {
    let first = match storage.next_file_number() {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("bulk work stays in the page cache: {}", e);
            storage_running_off(storage);
            return;
        }
    };
    tracing::info!("page-cache janitor: started (files from {})", first);
    let owned = storage.clone();
    let spawned = std::thread::Builder::new()
        .name("page-janitor".into())
        .spawn(move || run_janitor(&owned, first));
    if let Err(e) = spawned {
        tracing::warn!("cannot start the page-cache janitor: {}", e);
        // The next guard taken tries again.
        storage_running_off(storage);
    }
}

/// Marks the janitor as not running (its thread could not start).
fn storage_running_off(storage: &Storage) {
    storage.janitor.running.store(false, Ordering::SeqCst);
}

/// Passes until no guard is held and RocksDB's background work is done.
fn run_janitor(storage: &Storage, first: u64) {
    let janitor = &storage.janitor;
    *janitor.thread.lock() = Some(std::thread::current());
    loop {
        std::thread::park_timeout(JANITOR_PERIOD);
        if let Err(e) = storage.evict_written_since(first) {
            tracing::debug!("cannot drop bulk writes from the page cache: {}", e);
        }
        let idle = janitor.holders.load(Ordering::SeqCst) == 0;
        if idle && !storage.background_busy() && janitor.release() {
            let mut slot = janitor.thread.lock();
            if slot.as_ref().map(|t| t.id()) == Some(std::thread::current().id()) {
                *slot = None;
            }
            drop(slot);
            // One last pass for what the last flush or compaction wrote.
            let _ = storage.evict_written_since(first);
            tracing::info!("page-cache janitor: stopped");
            return;
        }
    }
}

/// Name of the directory where RocksDB keeps archived WAL files (kept for
/// `rocksdb.wal_ttl_seconds` for WAL readers).
const WAL_ARCHIVE: &str = "archive";

impl Storage {
    /// Drops from the page cache every SST file of `cf` holding keys in
    /// `[start, end]`: a bulk reader (a migration's snapshot) calls it
    /// behind itself, so moving a slot does not leave the slot's files in
    /// the page cache. Whole files go, so pages of neighbouring ranges in
    /// them are read from disk again when needed.
    pub fn evict_file_cache(
        &self,
        cf: Cf,
        start: &[u8],
        end: &[u8],
    ) -> Result<usize, StorageError> {
        let mut dropped = 0;
        for file in self.db.live_files()? {
            if file.column_family_name != cf.name() {
                continue;
            }
            let (Some(first), Some(last)) = (&file.start_key, &file.end_key) else {
                continue;
            };
            if last.as_slice() < start || first.as_slice() > end {
                continue;
            }
            let path = self.path.join(file.name.trim_start_matches('/'));
            if drop_from_page_cache(&path, Dirty::Keep) {
                dropped += 1;
            }
        }
        Ok(dropped)
    }

    /// Drops the WAL files (live and archived) from the page cache: a
    /// migration reads them to catch up, an import writes them. Their
    /// dirty pages are handled as `dirty` says.
    pub fn evict_wal_cache(&self, dirty: Dirty) {
        for dir in [self.path.clone(), self.path.join(WAL_ARCHIVE)] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "log") {
                    drop_from_page_cache(&path, dirty);
                }
            }
        }
    }

    /// The number the next file RocksDB creates gets at least: every SST
    /// file numbered from here on was written after this call.
    pub fn next_file_number(&self) -> Result<u64, StorageError> {
        let live = self.db.live_files()?;
        Ok(live
            .iter()
            .filter_map(|f| file_number(&f.name))
            .max()
            .map_or(1, |n| n + 1))
    }

    /// Drops from the page cache what a bulk write (an import) wrote and
    /// what it made RocksDB read: the SST files numbered `first` or later
    /// (flushed or compacted since [`Storage::next_file_number`] said
    /// `first`, outputs of a compaction under way included, written out
    /// first since dirty pages cannot be dropped), the older files whose
    /// keys overlap theirs (what compacting them reads), and the WAL.
    /// Returns how many SST files went.
    pub fn evict_written_since(&self, first: u64) -> Result<usize, StorageError> {
        let live = self.db.live_files()?;
        let newer: Vec<_> = live
            .iter()
            .filter(|f| file_number(&f.name).is_some_and(|n| n >= first))
            .collect();
        let mut dropped = 0;
        for file in &live {
            if file_number(&file.name).is_some_and(|n| n >= first) {
                continue; // below, with the files not live yet
            }
            let (Some(lo), Some(hi)) = (&file.start_key, &file.end_key) else {
                continue;
            };
            let overlaps = newer.iter().any(|n| {
                n.column_family_name == file.column_family_name
                    && n.start_key.as_ref().is_some_and(|s| s <= hi)
                    && n.end_key.as_ref().is_some_and(|e| e >= lo)
            });
            let path = self.path.join(file.name.trim_start_matches('/'));
            if overlaps && drop_from_page_cache(&path, Dirty::Keep) {
                dropped += 1;
            }
        }
        let entries =
            std::fs::read_dir(&self.path).map_err(|e| StorageError::Dir(self.path.clone(), e))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            if !name.ends_with(".sst") || file_number(name).is_none_or(|n| n < first) {
                continue;
            }
            if drop_from_page_cache(&entry.path(), Dirty::StartWriteback) {
                dropped += 1;
            }
        }
        self.evict_wal_cache(Dirty::StartWriteback);
        Ok(dropped)
    }
}

/// The number in a RocksDB file name such as `/000123.sst`.
fn file_number(name: &str) -> Option<u64> {
    let base = name.rsplit('/').next()?;
    base.split('.').next()?.parse().ok()
}

/// What to do with a file's dirty pages, which the kernel does not drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dirty {
    /// Leave them (the file is read, not written).
    Keep,
    /// Write them out first, waiting for the disk: a finished file.
    Sync,
    /// Start writing them out without waiting; a later call drops them:
    /// a file still being written (a WAL, a compaction's output), where
    /// waiting would let the cache grow meanwhile.
    StartWriteback,
}

/// Advises the kernel to drop `path` from the page cache, handling its
/// dirty pages as `dirty` says. True when the file could be opened.
pub fn drop_from_page_cache(path: &Path, dirty: Dirty) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let fd = file.as_raw_fd();
    match dirty {
        Dirty::Keep => {}
        Dirty::Sync => {
            let _ = file.sync_data();
        }
        // SAFETY: a valid open descriptor; writeback only, no memory is
        // touched.
        Dirty::StartWriteback => unsafe {
            libc::sync_file_range(fd, 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        },
    }
    // SAFETY: a valid open descriptor; advice only, no memory is touched.
    unsafe {
        libc::posix_fadvise(fd, 0, 0, libc::POSIX_FADV_DONTNEED);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_numbers_come_from_rocksdb_names() {
        assert_eq!(file_number("/000123.sst"), Some(123));
        assert_eq!(file_number("000007.log"), Some(7));
        assert_eq!(file_number("/MANIFEST-000005"), None);
    }

    #[test]
    fn files_written_since_a_number_are_found_and_dropped() {
        let (_dir, storage) = Storage::open_temp();
        let first = storage.next_file_number().expect("file number");
        assert_eq!(storage.evict_written_since(first).expect("evict"), 0);
        storage
            .db()
            .put_cf(storage.cf(Cf::Metadata), b"k", b"v")
            .expect("put");
        storage
            .db()
            .flush_cf(storage.cf(Cf::Metadata))
            .expect("flush");
        assert!(storage.evict_written_since(first).expect("evict") >= 1);
        let later = storage.next_file_number().expect("file number");
        assert!(later > first);
        assert_eq!(storage.evict_written_since(later).expect("evict"), 0);
    }
}
