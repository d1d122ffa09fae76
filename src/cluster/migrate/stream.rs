//! Source side, the copy before the cut-over: the snapshot (in chunks, on
//! the job's parallel streams, see [`super::snapshot_copy`]), then WAL
//! passes that catch up (see [`super::wal_ship`]) until the gap is small.
//! A destination that lost chunks it acknowledged (see
//! [`JobError::Rewind`]) is sent them again from its checkpoint.

use super::frame::Phase;
use super::job::Job;
use super::link::{Announced, Link, SharedPacer};
use super::plan::Plan;
use super::record::Stage;
use super::resume::continue_from;
use super::snapshot::Position;
use super::snapshot_copy::{copy_snapshot, parallelism};
use super::status::{JobError, JobState};
use super::wal_ship::ship_wal;

/// Above this much unflushed data, the incremental phase starts a new WAL
/// file first.
const WAL_SWITCH_BYTES: u64 = 1 << 20;

/// Most times one job (or one of its streams) re-reads what its
/// destination lost (see [`JobError::Rewind`]) before it gives up.
pub(super) const MAX_REWINDS: u32 = 8;

/// Where a job starts copying.
pub(super) enum Start {
    /// A new snapshot, from the beginning.
    Fresh,
    /// A resumed job: the copy continues `from` the destination's
    /// checkpoint. `snapshot_seq` is the first snapshot's sequence; a new
    /// snapshot read from a position is followed by the WAL from there, so
    /// records the destination got from the first snapshot and changed
    /// since are replayed in order and both snapshots converge.
    Resumed { snapshot_seq: u64, from: CopyFrom },
}

/// Where one pass of the copy starts.
pub(super) enum CopyFrom {
    /// Reading a new snapshot from this position, then the WAL from the
    /// job's snapshot sequence.
    Snapshot(Position),
    /// The WAL after this sequence.
    Wal(u64),
}

/// The `raw-key-value` copy: the snapshot in chunks, then WAL records
/// until the gap is below `gap`. Returns the WAL sequence of the (first)
/// snapshot and the last WAL sequence shipped. When the destination
/// reports it holds less than it acknowledged, the copy continues from
/// its checkpoint.
pub(super) fn stream_batches(
    job: &Job,
    link: &mut Link,
    gap: u64,
    start: Start,
) -> Result<(u64, u64), JobError> {
    let (storage, status) = (&job.node.storage, job.status);
    let (snapshot_seq, mut from) = match start {
        Start::Fresh => {
            let seq = storage.db().latest_sequence_number();
            let streams = parallelism(job.node);
            *status.plan.lock() =
                Plan::compute(storage, job.namespaces, status.first, status.last, streams);
            // Persisted before the first chunk: a restart resumes, with
            // the same split.
            status
                .record(seq, Stage::Copying)
                .save(storage)
                .map_err(|e| JobError::Storage(e.to_string()))?;
            (seq, CopyFrom::Snapshot(Position::default()))
        }
        Start::Resumed { snapshot_seq, from } => (snapshot_seq, from),
    };
    let mut rewinds = 0;
    loop {
        match stream_from(job, link, gap, snapshot_seq, from) {
            Err(JobError::Rewind(announced)) if rewinds < MAX_REWINDS => {
                rewinds += 1;
                tracing::warn!(
                    "job {}: the destination holds chunks up to {} only; sending again from there",
                    status.job_id,
                    announced.applied
                );
                link.restart_after(status, &announced);
                from = continue_from(&announced, job.namespaces)?;
            }
            other => return other.map(|shipped| (snapshot_seq, shipped)),
        }
    }
}

/// One pass of the copy from `from`; returns the last WAL sequence shipped.
fn stream_from(
    job: &Job,
    link: &mut Link,
    gap: u64,
    snapshot_seq: u64,
    from: CopyFrom,
) -> Result<u64, JobError> {
    let (storage, status) = (&job.node.storage, job.status);
    let mut shipped = snapshot_seq;
    match from {
        CopyFrom::Wal(after) => {
            count_finished_streams(job);
            shipped = after;
        }
        CopyFrom::Snapshot(position) => copy_snapshot(job, link, position)?,
    }

    // Incremental phase: ship WAL records until the gap is small. Each
    // pass reads the WAL file holding its start from that file's start;
    // switching to a new WAL file now keeps the last passes (the one
    // during the write pause above all) from re-reading a big one.
    status.set_state(JobState::Incremental);
    if storage.active_memtable_bytes() > WAL_SWITCH_BYTES {
        storage
            .flush_data_async()
            .map_err(|e| JobError::Storage(e.to_string()))?;
        // A first write in the new file (the job's record again): the first
        // pass then ends inside it, and later passes start there.
        status
            .record(snapshot_seq, Stage::Copying)
            .save(storage)
            .map_err(|e| JobError::Storage(e.to_string()))?;
    }
    for _round in 0..1000 {
        let settings = job.node.settings.link();
        shipped = ship_wal(job, link, shipped, &settings, Phase::Incremental)?;
        if storage
            .db()
            .latest_sequence_number()
            .saturating_sub(shipped)
            < gap
        {
            break;
        }
    }
    Ok(shipped)
}

/// A job resumed in its WAL phase goes on on stream 0 only: what the
/// other snapshot streams delivered is counted from their checkpoints at
/// the destination (announcing each stream returns its tally), so the
/// job's totals cover the whole snapshot. Only counters depend on it: a
/// stream that cannot be reached is left out with a warning.
fn count_finished_streams(job: &Job) {
    let streams = job.status.plan.lock().streams();
    for stream in 1..streams {
        match job.target.open(stream as u8) {
            Ok((link, _)) => link.count_held(job.status),
            Err(e) => tracing::warn!(
                "job {}: stream {}'s totals are not counted: {}",
                job.status.job_id,
                stream,
                e
            ),
        }
    }
}

/// Where a job's streams connect and what they share: the destination,
/// the announcement, the password, the job's rate limiter and the first
/// chunk size.
pub struct Target {
    /// Destination host.
    pub host: String,
    /// Destination port.
    pub port: u16,
    /// The CLUSTERX IMPORT command's arguments.
    pub import_cmd: Vec<Vec<u8>>,
    /// The cluster password, if any.
    pub password: Option<String>,
    /// The job's token bucket.
    pub pacer: SharedPacer,
    /// Starting chunk size target.
    pub chunk_size: usize,
}

impl Target {
    /// Opens stream `stream`'s link (announcing it) and returns the
    /// destination's checkpoint for it.
    pub fn open(&self, stream: u8) -> Result<(Link, Announced), JobError> {
        let args: Vec<&[u8]> = self.import_cmd.iter().map(|a| a.as_slice()).collect();
        Link::open(
            &self.host,
            self.port,
            &args,
            stream,
            self.pacer.clone(),
            self.chunk_size,
            self.password.clone(),
        )
    }
}
