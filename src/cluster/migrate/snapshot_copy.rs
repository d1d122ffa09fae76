//! The snapshot phase on a job's parallel streams: each stream sends its
//! share of the metadata column family, waits for the others (see
//! [`super::rendezvous`]), then sends the rest of its share; each part
//! ends with the destination confirming it holds all of it.

use std::sync::atomic::Ordering;

use super::frame::Phase;
use super::job::Job;
use super::link::Link;
use super::plan::Plan;
use super::record::SourcePosition;
use super::rendezvous::Rendezvous;
use super::resume::stream_position;
use super::snapshot::{Position, SnapshotReader};
use super::status::{JobError, JobState, MigrationStatus};
use super::stream::MAX_REWINDS;
use crate::cluster::node::NodeHandle;
use crate::storage::Cf;

/// `migrate-parallelism`, 0 meaning one stream per core.
pub(super) fn parallelism(node: &NodeHandle) -> usize {
    match node.settings.int("migrate-parallelism") {
        n if n > 0 => n as usize,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

/// The snapshot phase, on the job's streams: stream 0 on `link` from
/// `position`, the others on links of their own from their checkpoints.
/// Returns once every stream's share is in the destination's database.
pub(super) fn copy_snapshot(
    job: &Job,
    link: &mut Link,
    position: Position,
) -> Result<(), JobError> {
    let status = job.status;
    status.set_state(JobState::Snapshot);
    let plan = status.plan.lock().clone();
    let n = plan.streams();
    *status.stream_progress.lock() = vec![(0, 0); n];
    if n == 1 {
        return run_stream(job, link, &plan, 0, position, None);
    }
    let gate = Rendezvous::new(n);
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..n)
            .map(|stream| {
                let (gate, plan) = (&gate, &plan);
                std::thread::Builder::new()
                    .name(format!("migrate-{}-{}", status.job_id, stream))
                    .spawn_scoped(scope, move || {
                        let result = (|| {
                            let (mut link, announced) = job.target.open(stream as u8)?;
                            link.count_held(status);
                            let position = stream_position(&announced, job.namespaces)?;
                            run_stream(job, &mut link, plan, stream, position, Some(gate))
                        })();
                        if result.is_err() {
                            gate.fail();
                        }
                        result
                    })
            })
            .collect();
        let mut result = run_stream(job, link, &plan, 0, position, Some(&gate));
        if result.is_err() {
            gate.fail();
        }
        for handle in others {
            let theirs = match handle {
                Ok(h) => h.join().unwrap_or_else(|_| {
                    Err(JobError::Storage("a stream's thread panicked".into()))
                }),
                Err(e) => Err(JobError::Storage(format!("cannot start a stream: {e}"))),
            };
            if let Err(e) = theirs {
                gate.fail();
                // The error that made the others stop is the job's.
                if matches!(result, Ok(()) | Err(JobError::StreamFailed)) {
                    result = Err(e);
                }
            }
        }
        result
    })
}

/// One stream of the snapshot: its share of the metadata column family,
/// then (once every stream got there) the rest; each part ends with the
/// destination confirming it holds all of it. A destination that lost
/// acknowledged chunks is sent them again from its checkpoint.
fn run_stream(
    job: &Job,
    link: &mut Link,
    plan: &Plan,
    stream: usize,
    mut position: Position,
    gate: Option<&Rendezvous>,
) -> Result<(), JobError> {
    let status = job.status;
    let mut passed_gate = false;
    let mut rewinds = 0;
    loop {
        let step = if position.cf_index == 0 {
            send_part(job, link, plan, stream, &mut position, 1)
        } else if !passed_gate {
            passed_gate = true;
            gate.map_or(Ok(()), |g| g.wait(status))
        } else {
            let sent = send_part(job, link, plan, stream, &mut position, Cf::DATA.len());
            if sent.is_ok() {
                return Ok(());
            }
            sent
        };
        match step {
            Ok(()) => {}
            Err(JobError::Rewind(announced)) if rewinds < MAX_REWINDS => {
                rewinds += 1;
                tracing::warn!(
                    "job {} stream {}: the destination holds chunks up to {} only; sending again from there",
                    status.job_id,
                    stream,
                    announced.applied
                );
                link.restart_after(status, &announced);
                position = stream_position(&announced, job.namespaces)?;
                if passed_gate && position.cf_index == 0 {
                    return Err(JobError::CannotResume(
                        "the destination lost metadata it had confirmed".into(),
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Sends stream `stream`'s share of the snapshot from `position` up to
/// (not including) column family index `cf_limit`, `position` following,
/// and waits until the destination confirms it holds all of it.
fn send_part(
    job: &Job,
    link: &mut Link,
    plan: &Plan,
    stream: usize,
    position: &mut Position,
    cf_limit: usize,
) -> Result<(), JobError> {
    let (node, status) = (job.node, job.status);
    let mut reader = SnapshotReader::new(
        &node.storage,
        job.namespaces.to_vec(),
        status.first,
        status.last,
        position.clone(),
    )
    .with_part(plan.clone(), stream);
    reader.stop_before_cf(cf_limit);
    while !reader.finished() {
        let mut batch = link.take_batch();
        let st = reader
            .fill(&mut batch, link.chunk_size())
            .map_err(|e| JobError::Storage(e.to_string()))?;
        if st.records == 0 {
            continue;
        }
        note_progress(status, stream, reader.progress());
        let sent_to = SourcePosition::from_snapshot(reader.position(), job.namespaces).encode();
        link.send(
            status,
            &node.settings.link(),
            Phase::Snapshot,
            batch,
            st.keys as u64,
            &sent_to,
        )?;
        *position = reader.position().clone();
    }
    *position = reader.position().clone();
    link.confirm(status, &node.settings.link())
}

/// Records one stream's progress and the job's (all streams together).
fn note_progress(status: &MigrationStatus, stream: usize, progress: (u64, u64)) {
    let mut all = status.stream_progress.lock();
    if let Some(p) = all.get_mut(stream) {
        *p = progress;
    }
    let (done, total) = all
        .iter()
        .fold((0u64, 0u64), |(d, t), (a, b)| (d + a, t + b));
    if let Some(ppm) = (done * 1_000_000).checked_div(total) {
        status.progress_ppm.store(ppm, Ordering::Relaxed);
    }
}
