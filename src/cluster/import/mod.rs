//! Destination side of slot migration: the registry of running imports,
//! checking and rebuilding the chunks a source sends, and applying each
//! exactly once with its checkpoint.

pub mod apply;
pub mod memory;
pub mod validate;

use std::collections::HashMap;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use validate::{CfMap, SlotScope};

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
}

impl ImportRegistry {
    /// Registers (or re-registers, on resume) a job.
    pub fn start(&self, job_id: u64, mut job: ImportJob) {
        job.last_active = Instant::now();
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

    /// Ends a job: `committed` when this node now serves its slots, false
    /// when its data was dropped.
    pub fn finish(&self, job_id: u64, committed: bool) -> Option<ImportJob> {
        let job = self.jobs.lock().remove(&job_id)?;
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

    /// All running imports.
    pub fn all(&self) -> Vec<(u64, ImportJob)> {
        self.jobs
            .lock()
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }
}
