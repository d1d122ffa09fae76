//! Resume: jobs this node was running when it stopped are taken up again
//! at start-up, a resumed job waits for its destination to come back, and
//! a destination's checkpoint says where the copy (or one of its streams)
//! continues.

use std::sync::Arc;

use super::by_command;
use super::handoff::{RESOLVE_ATTEMPTS, RESOLVE_PAUSE};
use super::job::{spawn, Job};
use super::link::{Announced, Link};
use super::record::{JobRecord, SourcePosition, Stage};
use super::snapshot::Position;
use super::status::{JobError, JobState, MigrationStatus};
use super::stream::{CopyFrom, Start};
use crate::cluster::node::NodeHandle;
use crate::storage::Cf;

/// Picks up the jobs this node was running when it stopped (called at
/// start-up, before clients are accepted). A job that had begun its
/// cut-over starts with its slots paused: the destination may already
/// own them, and the job finds out before anyone writes here.
pub fn resume_all(node: &NodeHandle) {
    let Some(cluster) = node.topology.as_ref() else {
        return;
    };
    let records = match JobRecord::load_all(&node.storage) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot read persisted migration jobs: {}", e);
            return;
        }
    };
    for record in records {
        tracing::info!(
            "resuming migration job {} of slots {}-{} to {} ({:?})",
            record.job_id,
            record.first,
            record.last,
            record.dst_id,
            record.stage
        );
        if record.stage == Stage::Cutover {
            cluster.write().paused.extend(record.first..=record.last);
        }
        if record.per_key {
            by_command::restore_marks(node, &record);
        }
        let status = Arc::new(MigrationStatus::new(
            record.job_id,
            record.first,
            record.last,
            record.dst_id.clone(),
        ));
        node.migrations.lock().push(status.clone());
        if let Err(e) = spawn(node.clone(), status.clone(), Some(record)) {
            status.finish(JobState::Failed(format!("cannot start its thread: {e}")));
        }
    }
}

/// Opens a resumed job's link, waiting for its destination as patiently
/// as a running job waits for a broken link: both nodes may be coming
/// back from the same outage, and a job that fails now cannot drop the
/// destination's partial copy either. One resumed in its cut-over does
/// not know whether the destination took the slots: failing would serve
/// them here again while the destination may own them, so they stay
/// paused until it answers (and the job ends with
/// [`JobError::HandoffUnknown`] if it never does). Returns the last
/// attempt's outcome; an error of its own ends the job.
pub(super) fn open_patiently(
    job: &Job,
    record: &JobRecord,
) -> Result<Result<(Link, Announced), JobError>, JobError> {
    let mut opened = job.target.open(0);
    let mut attempts = 1;
    while let Err(JobError::Link(e)) = &opened {
        if record.stage != Stage::Cutover {
            job.status.check_cancelled()?;
        }
        if attempts >= RESOLVE_ATTEMPTS {
            if record.stage == Stage::Cutover {
                return Err(JobError::HandoffUnknown(format!(
                    "the destination is unreachable: {e}"
                )));
            }
            break;
        }
        attempts += 1;
        std::thread::sleep(RESOLVE_PAUSE);
        opened = job.target.open(0);
    }
    Ok(opened)
}

/// Where a resumed job continues, from the destination's checkpoint: a
/// destination that holds nothing yet means a fresh start (a new snapshot
/// and split); otherwise the copy goes on with the snapshot sequence of
/// `record`.
pub(super) fn start_point(
    record: &JobRecord,
    announced: &Announced,
    namespaces: &[Vec<u8>],
) -> Result<Start, JobError> {
    if announced.applied == 0 {
        return Ok(Start::Fresh);
    }
    Ok(Start::Resumed {
        snapshot_seq: record.snapshot_seq,
        from: continue_from(announced, namespaces)?,
    })
}

/// Where a copy continues after the chunks the destination reports it
/// holds (from the start of the snapshot when it holds none).
pub(super) fn continue_from(
    announced: &Announced,
    namespaces: &[Vec<u8>],
) -> Result<CopyFrom, JobError> {
    if announced.applied == 0 {
        return Ok(CopyFrom::Snapshot(Position::default()));
    }
    match SourcePosition::decode(&announced.position) {
        Some(SourcePosition::Wal(from)) => Ok(CopyFrom::Wal(from)),
        Some(p) => p
            .to_reader_position(namespaces)
            .map(CopyFrom::Snapshot)
            .ok_or_else(|| JobError::CannotResume("unreadable checkpoint".into())),
        None => Err(JobError::CannotResume(
            "the destination's checkpoint has no source position".into(),
        )),
    }
}

/// Where a snapshot stream other than the first resumes, from its
/// checkpoint (past the snapshot's end when it reached the WAL).
pub(super) fn stream_position(
    announced: &Announced,
    namespaces: &[Vec<u8>],
) -> Result<Position, JobError> {
    Ok(match continue_from(announced, namespaces)? {
        CopyFrom::Snapshot(position) => position,
        CopyFrom::Wal(_) => Position {
            cf_index: Cf::DATA.len(),
            ..Position::default()
        },
    })
}
