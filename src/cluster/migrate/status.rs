//! What a job is and how it is going: its state, why it failed, and the
//! progress INFO and CLUSTER INFO read while it runs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use thiserror::Error;

use super::link::Announced;
use super::plan::Plan;
use super::record::{JobRecord, Stage};
use crate::cluster::peer::PeerError;

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Connecting and announcing the job.
    Start,
    /// Copying the snapshot.
    Snapshot,
    /// Shipping WAL records written since the snapshot.
    Incremental,
    /// Writes paused; last delta and hand-off.
    Cutover,
    /// Finished: the destination owns the slots.
    Done,
    /// Stopped with an error.
    Failed(String),
}

impl JobState {
    /// The word INFO and CLUSTER INFO show.
    pub fn name(&self) -> &'static str {
        match self {
            JobState::Start => "start",
            JobState::Snapshot => "snapshot",
            JobState::Incremental => "incremental",
            JobState::Cutover => "cutover",
            JobState::Done => "success",
            JobState::Failed(_) => "failed",
        }
    }
}

/// Why a job failed.
#[derive(Debug, Error)]
pub enum JobError {
    /// An operator cancelled the job.
    #[error("cancelled")]
    Cancelled,
    /// The destination is not in the topology.
    #[error("destination node {0} is not in the topology")]
    UnknownDestination(String),
    /// Talking to the destination failed.
    #[error("destination link: {0}")]
    Link(#[from] PeerError),
    /// The destination refused something.
    #[error("destination refused: {0}")]
    Refused(String),
    /// The WAL needed for the incremental phase is gone.
    #[error("WAL gap: {0}")]
    WalGap(String),
    /// Local storage failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The destination already owns the slots (it committed the hand-off).
    #[error("destination already owns the slots: {0}")]
    DestinationOwns(String),
    /// A restarted job cannot continue where it stopped.
    #[error("cannot resume: {0}")]
    CannotResume(String),
    /// The hand-off reply was lost; the slots stay paused here.
    #[error(
        "hand-off outcome unknown ({0}); slots stay paused until the topology is pushed again"
    )]
    HandoffUnknown(String),
    /// The destination holds fewer chunks than it acknowledged (it
    /// restarted before ingesting them, or fell back to the write path):
    /// the job continues from the checkpoint it reported.
    #[error("the destination lost acknowledged chunks; it holds up to chunk {}", .0.applied)]
    Rewind(Announced),
    /// Another of the job's parallel streams failed (its error is the
    /// job's).
    #[error("another stream of the job failed")]
    StreamFailed,
}

/// What one stream of a job has delivered: keys and bytes up to its last
/// chunk sent, chunks up to its last acknowledged. Stored per stream
/// as absolute figures, so setting it again after a rewind or a resume
/// (from the destination's checkpoint) corrects the job's totals instead
/// of counting re-sent chunks twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Keys copied in the snapshot phase.
    pub keys: u64,
    /// Raw `WriteBatch` bytes.
    pub raw_bytes: u64,
    /// The same after compression.
    pub wire_bytes: u64,
    /// Chunks acknowledged.
    pub chunks: u64,
}

/// Progress of a job, read by INFO and CLUSTER INFO.
pub struct MigrationStatus {
    /// Job id.
    pub job_id: u64,
    /// First slot.
    pub first: u16,
    /// Last slot.
    pub last: u16,
    /// Destination node id.
    pub dst_id: String,
    /// Current state.
    pub state: Mutex<JobState>,
    /// Keys copied in the snapshot phase (once each).
    pub keys: AtomicU64,
    /// Raw `WriteBatch` bytes sent (once each: what a rewind sends again
    /// is not counted twice; see [`Tally`]).
    pub raw_bytes: AtomicU64,
    /// The same on the wire (after compression).
    pub wire_bytes: AtomicU64,
    /// Chunks acknowledged (once each).
    pub chunks: AtomicU64,
    /// Chunks sent again.
    pub retransmits: AtomicU64,
    /// Current chunk size target in bytes.
    pub chunk_size: AtomicU64,
    /// How long writes to the slots were paused, in ms.
    pub pause_ms: AtomicU64,
    /// Snapshot progress in millionths (0 until known).
    pub progress_ppm: AtomicU64,
    /// The last phase the job entered (kept when it ends).
    pub phase: Mutex<&'static str>,
    /// When the snapshot phase began.
    pub snapshot_started: Mutex<Option<Instant>>,
    /// Set by CLUSTER MIGRATION CANCEL; checked before every chunk.
    pub cancelled: AtomicBool,
    /// Set when the job ended with its hand-off outcome unknown and its
    /// slots paused; cleared when a topology push settles it.
    pub handoff_unknown: AtomicBool,
    /// When the job started.
    pub started: Instant,
    /// How its snapshot is split into parallel streams.
    pub plan: Mutex<Plan>,
    /// Bytes of chunks sent and not yet acknowledged, over all streams
    /// (at most streams x `migrate-window` x the largest chunk).
    pub inflight_bytes: AtomicU64,
    /// Snapshot progress of each stream: `(done, total)` estimated bytes.
    pub stream_progress: Mutex<Vec<(u64, u64)>>,
    /// What each stream delivered; `keys`, `raw_bytes`, `wire_bytes` and
    /// `chunks` are their sums (plus what the per-key path counts there
    /// itself).
    stream_tally: Mutex<Vec<Tally>>,
    finished: (Mutex<bool>, Condvar),
}

impl MigrationStatus {
    /// A new job record.
    pub fn new(job_id: u64, first: u16, last: u16, dst_id: String) -> MigrationStatus {
        MigrationStatus {
            job_id,
            first,
            last,
            dst_id,
            state: Mutex::new(JobState::Start),
            keys: AtomicU64::new(0),
            raw_bytes: AtomicU64::new(0),
            wire_bytes: AtomicU64::new(0),
            chunks: AtomicU64::new(0),
            retransmits: AtomicU64::new(0),
            chunk_size: AtomicU64::new(0),
            pause_ms: AtomicU64::new(0),
            progress_ppm: AtomicU64::new(0),
            phase: Mutex::new("start"),
            snapshot_started: Mutex::new(None),
            cancelled: AtomicBool::new(false),
            handoff_unknown: AtomicBool::new(false),
            started: Instant::now(),
            plan: Mutex::new(Plan::single()),
            inflight_bytes: AtomicU64::new(0),
            stream_progress: Mutex::new(Vec::new()),
            stream_tally: Mutex::new(Vec::new()),
            finished: (Mutex::new(false), Condvar::new()),
        }
    }

    /// Sets stream `stream`'s tally and moves the job's totals by the
    /// difference (down as well as up).
    pub(super) fn set_stream_tally(&self, stream: u8, tally: Tally) {
        let mut all = self.stream_tally.lock();
        let i = stream as usize;
        if all.len() <= i {
            all.resize(i + 1, Tally::default());
        }
        let old = std::mem::replace(&mut all[i], tally);
        // Wrapping: adding the two's complement of a decrease subtracts it.
        self.keys
            .fetch_add(tally.keys.wrapping_sub(old.keys), Ordering::Relaxed);
        self.raw_bytes.fetch_add(
            tally.raw_bytes.wrapping_sub(old.raw_bytes),
            Ordering::Relaxed,
        );
        self.wire_bytes.fetch_add(
            tally.wire_bytes.wrapping_sub(old.wire_bytes),
            Ordering::Relaxed,
        );
        self.chunks
            .fetch_add(tally.chunks.wrapping_sub(old.chunks), Ordering::Relaxed);
    }

    /// True while the job has not ended.
    pub fn running(&self) -> bool {
        !matches!(*self.state.lock(), JobState::Done | JobState::Failed(_))
    }

    /// Asks the job to stop; it fails with "cancelled" at its next chunk
    /// (or before the hand-off), serving the slots here again.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Fails with [`JobError::Cancelled`] once cancelled.
    pub fn check_cancelled(&self) -> Result<(), JobError> {
        if self.cancelled.load(Ordering::SeqCst) {
            return Err(JobError::Cancelled);
        }
        Ok(())
    }

    /// Moves the job to state `s` (and its phase, unless `s` ends it).
    pub(super) fn set_state(&self, s: JobState) {
        if !matches!(s, JobState::Done | JobState::Failed(_)) {
            *self.phase.lock() = s.name();
        }
        if s == JobState::Snapshot {
            *self.snapshot_started.lock() = Some(Instant::now());
        }
        *self.state.lock() = s;
    }

    /// Estimated seconds left: from the snapshot's progress while copying
    /// it, 0 after it, -1 while unknown.
    pub fn eta_seconds(&self) -> i64 {
        match *self.state.lock() {
            JobState::Snapshot => {}
            JobState::Start => return -1,
            _ => return 0,
        }
        let ppm = self.progress_ppm.load(Ordering::Relaxed);
        let Some(started) = *self.snapshot_started.lock() else {
            return -1;
        };
        if ppm == 0 {
            return -1;
        }
        let elapsed = started.elapsed().as_secs_f64();
        (elapsed * (1_000_000 - ppm.min(1_000_000)) as f64 / ppm as f64).round() as i64
    }

    /// Waits until the job ends or `timeout` passes; returns the state.
    pub fn wait(&self, timeout: Option<Duration>) -> JobState {
        let (lock, cv) = &self.finished;
        let mut done = lock.lock();
        let deadline = timeout.map(|t| Instant::now() + t);
        while !*done {
            match deadline {
                Some(d) => {
                    if cv.wait_until(&mut done, d).timed_out() {
                        break;
                    }
                }
                None => cv.wait(&mut done),
            }
        }
        self.state.lock().clone()
    }

    /// Ends the job in state `s` and wakes whoever waits for it.
    pub(super) fn finish(&self, s: JobState) {
        self.set_state(s);
        // Its links are gone, with what they held.
        self.inflight_bytes.store(0, Ordering::Relaxed);
        let (lock, cv) = &self.finished;
        *lock.lock() = true;
        cv.notify_all();
    }

    /// The persisted record of this (`raw-key-value`) job at `stage`,
    /// with the WAL sequence of its snapshot.
    pub(super) fn record(&self, snapshot_seq: u64, stage: Stage) -> JobRecord {
        JobRecord {
            job_id: self.job_id,
            first: self.first,
            last: self.last,
            dst_id: self.dst_id.clone(),
            snapshot_seq,
            stage,
            per_key: false,
            plan: self.plan.lock().clone(),
        }
    }
}
