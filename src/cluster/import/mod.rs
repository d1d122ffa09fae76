//! Destination side of slot migration: the registry of running imports,
//! checking and rebuilding the chunks a source sends, and applying each
//! exactly once with its checkpoint.

pub mod apply;
pub mod memory;
pub mod receive;
pub mod sst;
pub mod validate;

use std::collections::HashMap;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::storage::page_cache::BulkWork;
use sst::SstImport;
use validate::{CfMap, SlotScope};

/// How an import writes snapshot chunks (`migrate-import-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Appended to SST files that are ingested every
    /// `migrate-import-sst-mb`.
    Sst,
    /// Written through the WAL and the memtable like any write.
    Write,
}

impl ImportMode {
    /// The mode a `migrate-import-mode` value names.
    pub fn from_config(value: &str) -> ImportMode {
        if value == "write" {
            ImportMode::Write
        } else {
            ImportMode::Sst
        }
    }

    /// The word INFO shows.
    pub fn name(self) -> &'static str {
        match self {
            ImportMode::Sst => "sst",
            ImportMode::Write => "write",
        }
    }
}

/// One import in progress.
#[derive(Debug, Clone)]
pub struct ImportJob {
    /// Slots received.
    pub scope: SlotScope,
    /// Source column family ids.
    pub cf_map: CfMap,
    /// The source node.
    pub src_id: String,
    /// Chunks applied so far.
    pub chunks: u64,
    /// When the source last showed it is alive for this job: its
    /// announcement (IMPORT), a chunk, or an ASKING write into the slots
    /// (the per-key `redis-command` path).
    pub last_active: Instant,
    /// How its snapshot chunks are written (a refused ingest turns an
    /// `sst` job into a `write` one for the rest of its life).
    pub mode: ImportMode,
    /// SST files ingested so far.
    pub ingested_files: u64,
}

impl ImportJob {
    /// How long since the source last did something for this job.
    pub fn idle(&self) -> Duration {
        self.last_active.elapsed()
    }
}

/// How the latest import of this node stands (CLUSTER INFO's
/// `import_state`, as kvrocks reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportState {
    /// Receiving data.
    Start,
    /// Committed: this node serves the slots.
    Success,
    /// Dropped (the source gave up or a new job replaced it).
    Error,
}

impl ImportState {
    /// The word CLUSTER INFO shows (kvrocks: start, success, error).
    pub fn name(self) -> &'static str {
        match self {
            ImportState::Start => "start",
            ImportState::Success => "success",
            ImportState::Error => "error",
        }
    }
}

/// The latest import this node saw: its slots and how it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastImport {
    /// First slot.
    pub first: u16,
    /// Last slot.
    pub last: u16,
    /// Its state.
    pub state: ImportState,
}

/// Imports running on this node, by job id.
#[derive(Default)]
pub struct ImportRegistry {
    jobs: Mutex<HashMap<u64, ImportJob>>,
    last: Mutex<Option<LastImport>>,
    /// Raw bytes applied since imported data was last flushed.
    unflushed: AtomicU64,
    /// SST files under construction, by job id and stream.
    ssts: Mutex<HashMap<(u64, u8), SstImport>>,
    /// What keeps each running job's writes out of the page cache.
    bulk_work: Mutex<HashMap<u64, BulkWork>>,
    /// Decompression buffers of chunks, reused while imports run so each
    /// chunk does not fault in a fresh allocation of its size.
    scratch: Mutex<Vec<Vec<u8>>>,
}

/// Most decompression buffers kept between chunks (one per stream
/// receiving at the same time).
const SCRATCH_KEPT: usize = 8;
/// Largest decompression buffer kept between chunks (four times the
/// default `migrate-batch-size-max-kb`; a bigger one is freed after use).
const SCRATCH_MAX_KEPT_BYTES: usize = 16 << 20;

impl ImportRegistry {
    /// Registers (or re-registers, on resume) a job. A job already
    /// registered keeps its mode (a fallback to the write path sticks).
    pub fn start(&self, job_id: u64, mut job: ImportJob) {
        job.last_active = Instant::now();
        if let Some(old) = self.jobs.lock().get(&job_id) {
            job.mode = old.mode;
            job.ingested_files = old.ingested_files;
            job.chunks = old.chunks;
        }
        *self.last.lock() = Some(LastImport {
            first: job.scope.first,
            last: job.scope.last,
            state: ImportState::Start,
        });
        self.jobs.lock().insert(job_id, job);
    }

    /// A copy of a job's record.
    pub fn get(&self, job_id: u64) -> Option<ImportJob> {
        self.jobs.lock().get(&job_id).cloned()
    }

    /// Counts an applied chunk.
    pub fn count_chunk(&self, job_id: u64) {
        if let Some(j) = self.jobs.lock().get_mut(&job_id) {
            j.chunks += 1;
            j.last_active = Instant::now();
        }
    }

    /// Notes activity on the import receiving `slot` (an ASKING write).
    pub fn touch_slot(&self, slot: u16) {
        for j in self.jobs.lock().values_mut() {
            if j.scope.first <= slot && slot <= j.scope.last {
                j.last_active = Instant::now();
            }
        }
    }

    /// True when a running import receives `slot`.
    pub fn covers(&self, slot: u16) -> bool {
        self.jobs
            .lock()
            .values()
            .any(|j| j.scope.first <= slot && slot <= j.scope.last)
    }

    /// Counts `bytes` applied; true when they reach `limit` bytes since the
    /// last time it said so (time to flush memtables, so an import's
    /// memory stays bounded by the setting rather than by RocksDB's write
    /// buffers). A zero limit never says so.
    pub fn applied_bytes(&self, bytes: u64, limit: u64) -> bool {
        let total = self.unflushed.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if limit == 0 || total < limit {
            return false;
        }
        self.unflushed.store(0, Ordering::Relaxed);
        true
    }

    /// Counts SST files ingested for a job.
    pub fn count_ingest(&self, job_id: u64, files: u64) {
        if let Some(j) = self.jobs.lock().get_mut(&job_id) {
            j.ingested_files += files;
        }
    }

    /// Switches a job to the write path.
    pub fn set_mode(&self, job_id: u64, mode: ImportMode) {
        if let Some(j) = self.jobs.lock().get_mut(&job_id) {
            j.mode = mode;
        }
    }

    /// The SST builders of running imports (one per job in `sst` mode
    /// that has received snapshot chunks since its last ingest).
    pub fn ssts(&self) -> parking_lot::MutexGuard<'_, HashMap<(u64, u8), SstImport>> {
        self.ssts.lock()
    }

    /// A buffer to decompress a chunk into (empty, or one a chunk before
    /// gave back with [`ImportRegistry::give_back_scratch`]).
    pub fn take_scratch(&self) -> Vec<u8> {
        self.scratch.lock().pop().unwrap_or_default()
    }

    /// Keeps a decompression buffer for the next chunk, while imports run
    /// and within [`SCRATCH_KEPT`] buffers of at most
    /// [`SCRATCH_MAX_KEPT_BYTES`].
    pub fn give_back_scratch(&self, buffer: Vec<u8>) {
        if buffer.capacity() == 0 || buffer.capacity() > SCRATCH_MAX_KEPT_BYTES {
            return;
        }
        let running = !self.jobs.lock().is_empty();
        let mut kept = self.scratch.lock();
        if running && kept.len() < SCRATCH_KEPT {
            kept.push(buffer);
        }
    }

    /// Ends a job: `committed` when this node now serves its slots, false
    /// when its data was dropped. Its unfinished SST files are deleted;
    /// the last job to end frees the kept decompression buffers.
    pub fn finish(&self, job_id: u64, committed: bool) -> Option<ImportJob> {
        self.ssts.lock().retain(|(job, _), _| *job != job_id);
        self.bulk_work.lock().remove(&job_id);
        let job = {
            let mut jobs = self.jobs.lock();
            let job = jobs.remove(&job_id)?;
            if jobs.is_empty() {
                self.scratch.lock().clear();
            }
            job
        };
        let mut last = self.last.lock();
        if last.is_none_or(|l| (l.first, l.last) == (job.scope.first, job.scope.last)) {
            *last = Some(LastImport {
                first: job.scope.first,
                last: job.scope.last,
                state: if committed {
                    ImportState::Success
                } else {
                    ImportState::Error
                },
            });
        }
        Some(job)
    }

    /// The latest import this node saw since it started, if any.
    pub fn last(&self) -> Option<LastImport> {
        *self.last.lock()
    }

    /// Keeps `job_id`'s writes out of the page cache until it ends.
    pub fn hold_bulk_work(&self, job_id: u64, guard: BulkWork) {
        self.bulk_work.lock().insert(job_id, guard);
    }

    /// All running imports.
    pub fn all(&self) -> Vec<(u64, ImportJob)> {
        self.jobs
            .lock()
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }
}
