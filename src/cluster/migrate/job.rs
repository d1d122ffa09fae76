//! The driver of one slot migration job (source side): it announces the
//! job to the destination, runs the copy (streamed, or key by key), then
//! the cut-over and hand-off, and decides what a failure leaves behind.
//! Each phase has a file of its own: [`super::stream`] (snapshot and WAL
//! catch-up), [`super::handoff`] (write pause, last delta, two-phase
//! hand-off, cleanup) and [`super::resume`] (jobs taken up again after a
//! restart).
//!
//! Chunks travel as `CLUSTERX CHUNK <frame> <position>` commands on one
//! connection to the destination; up to `migrate-window` of them are in
//! flight (pipelined), and the destination acknowledges each by sequence.
//! A chunk the destination refuses by checksum is sent again.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::by_command;
use super::handoff::{self, abort_on_destination, finish_on_source, unpause};
use super::link::Pacer;
use super::record::{JobRecord, Stage};
use super::resume;
use super::status::{JobError, JobState, MigrationStatus};
use super::stream::{stream_batches, Start, Target};
use super::wal::Cutter;
use super::wal_ship::WalHold;
use crate::cluster::node::NodeHandle;
use crate::storage::Cf;

/// One running job as its phases see it: this node, the job's progress,
/// where it goes and what it moves.
pub(super) struct Job<'a> {
    /// This node.
    pub node: &'a NodeHandle,
    /// The job's progress.
    pub status: &'a MigrationStatus,
    /// The destination and the job's announcement.
    pub target: &'a Target,
    /// The namespaces it moves, sorted.
    pub namespaces: &'a [Vec<u8>],
    /// Cuts the job's records out of WAL batches.
    pub cutter: &'a Cutter,
}

/// Starts a job on its own thread. `resume` is the persisted record of a
/// job this node was running before it restarted.
pub fn spawn(
    node: NodeHandle,
    status: Arc<MigrationStatus>,
    resume: Option<JobRecord>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("migrate-{}", status.job_id))
        .spawn(move || run(node, status, resume))
        .map(|_| ())
}

/// Runs a job to its end; updates `status` as it goes.
pub fn run(node: NodeHandle, status: Arc<MigrationStatus>, resume: Option<JobRecord>) {
    if resume.as_ref().is_some_and(|r| r.per_key) {
        by_command::wait_for_destination(&node, &status);
    }
    let mut result = run_inner(&node, &status, resume.as_ref());
    let restart = match &result {
        Err(JobError::CannotResume(_)) => true,
        Err(JobError::WalGap(_)) => resume.is_some(),
        _ => false,
    };
    if let (true, Err(e)) = (restart, &result) {
        tracing::warn!(
            "job {}: cannot resume ({}); dropping the destination's partial copy and starting over",
            status.job_id,
            e
        );
        abort_on_destination(&node, &status);
        unpause(&node, &status);
        result = run_inner(&node, &status, None);
    }
    match result {
        Ok(()) => {
            tracing::info!(
                "migration job {} of slots {}-{} done",
                status.job_id,
                status.first,
                status.last
            );
            status.finish(JobState::Done);
        }
        Err(e) if by_command::keeps_state_on_failure(&node, &status) => {
            // Keys may be on the destination already: the slots stay
            // MIGRATING (unpaused unless the hand-off is in doubt) and the
            // record stays, so MIGRATE of the same slots to the same
            // node (or a restart) resumes the job.
            tracing::error!(
                "per-key migration job {} stopped: {}; its slots stay MIGRATING, and MIGRATE of the same slots to the same node (or a restart) resumes it",
                status.job_id,
                e
            );
            if !matches!(e, JobError::HandoffUnknown(_)) {
                unpause(&node, &status);
            }
            status.finish(JobState::Failed(e.to_string()));
        }
        Err(e) => {
            tracing::error!("migration job {} failed: {}", status.job_id, e);
            if !matches!(e, JobError::HandoffUnknown(_)) {
                abort_on_destination(&node, &status);
                unpause(&node, &status);
                if let Err(e) = JobRecord::delete(&node.storage, status.job_id) {
                    tracing::error!("job {}: cannot drop its record: {}", status.job_id, e);
                }
            }
            if let Some(cluster) = node.topology.as_ref() {
                // The slots stay here: no longer MIGRATING (per-key path).
                let mut state = cluster.write();
                for s in status.first..=status.last {
                    if state.migrating.get(&s) == Some(&status.dst_id) {
                        state.migrating.remove(&s);
                    }
                }
                if let Err(e) = state.save() {
                    tracing::error!("job {}: cannot persist the topology: {}", status.job_id, e);
                }
            }
            if matches!(e, JobError::HandoffUnknown(_)) {
                // Left for the next topology push to settle. Not one that
                // came during the cut-over: the destination may have
                // committed after it, and only a push that reaches it
                // later overrides that commit there too.
                status.handoff_unknown.store(true, Ordering::SeqCst);
            }
            status.finish(JobState::Failed(e.to_string()));
        }
    }
}

/// One attempt at the whole job: announce, copy, cut over, hand off.
fn run_inner(
    node: &NodeHandle,
    status: &MigrationStatus,
    resume: Option<&JobRecord>,
) -> Result<(), JobError> {
    let Some(cluster) = node.topology.as_ref() else {
        return Err(JobError::Refused("cluster mode is off".into()));
    };
    let (dst, myid) = {
        let state = cluster.read();
        let dst = state
            .topology
            .node(&status.dst_id)
            .cloned()
            .ok_or_else(|| JobError::UnknownDestination(status.dst_id.clone()))?;
        (dst, state.myid.clone().unwrap_or_default())
    };
    let chunk_size = (node.settings.int("migrate-batch-size-kb").max(1) as usize) * 1024;
    let gap = node.settings.int("migrate-sequence-gap").max(1) as u64;
    // Sorted, so a resumed job finds its namespace where it left it.
    let namespaces = node.settings.namespace_prefixes();
    if let Some(record) = resume {
        // Its streams read the ranges they read before the restart.
        *status.plan.lock() = record.plan.clone();
    }
    status
        .chunk_size
        .store(chunk_size as u64, Ordering::Relaxed);

    let storage = &node.storage;
    let target = Target {
        host: dst.host.clone(),
        port: dst.port,
        import_cmd: import_command(node, status, &myid),
        password: node.settings.peer_password(),
        pacer: Pacer::shared(),
        chunk_size,
    };
    let cutter = Cutter::new(storage, namespaces.clone(), status.first, status.last);
    let job = Job {
        node,
        status,
        target: &target,
        namespaces: &namespaces,
        cutter: &cutter,
    };
    let opened = match resume {
        Some(record) => resume::open_patiently(&job, record)?,
        None => target.open(0),
    };
    let (mut link, announced) = match opened {
        Err(JobError::DestinationOwns(why))
            if resume.is_some_and(|r| r.stage == Stage::Cutover) =>
        {
            // The destination committed before this node recorded it.
            tracing::info!(
                "job {}: the destination already owns the slots ({}); finishing the hand-off here",
                status.job_id,
                why
            );
            return finish_on_source(&job);
        }
        other => other?,
    };
    if resume.is_some_and(|r| !r.per_key) && !node.settings.link().resume {
        return Err(JobError::CannotResume("migrate-checkpoint is no".into()));
    }

    let per_key = match resume {
        Some(record) => record.per_key,
        None => node.settings.text("migrate-type") == "redis-command",
    };
    if !per_key {
        link.count_held(status);
    }
    tracing::info!(
        "migration job {}: slots {}-{} to {} ({}{})",
        status.job_id,
        status.first,
        status.last,
        dst.addr(),
        if per_key {
            "redis-command"
        } else {
            "raw-key-value"
        },
        if resume.is_some() {
            format!(", resumed after chunk {}", announced.applied)
        } else {
            String::new()
        }
    );
    // What the job makes this node read and write beside its own reads
    // (WAL files the catch-up scans, flushes and compactions meanwhile)
    // is kept out of the page cache while it runs.
    let _bulk = storage.bulk_work();
    let _wal_hold = if per_key {
        None
    } else {
        Some(WalHold::take(storage)?)
    };
    let (snapshot_seq, shipped) = if per_key {
        by_command::copy_keys(node, status, &mut link, false)?;
        (0, 0)
    } else {
        let start = match resume {
            None => Start::Fresh,
            Some(record) => resume::start_point(record, &announced, &namespaces)?,
        };
        stream_batches(&job, &mut link, gap, start)?
    };
    handoff::cut_over(&job, &mut link, per_key, snapshot_seq, shipped)
}

/// The CLUSTERX IMPORT command that announces (or re-announces) the job.
fn import_command(node: &NodeHandle, status: &MigrationStatus, myid: &str) -> Vec<Vec<u8>> {
    let cf_text = Cf::DATA
        .iter()
        .map(|cf| format!("{}:{}", cf.name(), node.storage.cf_id(*cf)))
        .collect::<Vec<_>>()
        .join(",");
    [
        "CLUSTERX".to_string(),
        "IMPORT".to_string(),
        status.job_id.to_string(),
        status.first.to_string(),
        status.last.to_string(),
        myid.to_string(),
        cf_text,
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::topology::Topology;

    const ME: &str = "0123456789012345678901234567890123456789";
    const OTHER: &str = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";

    #[test]
    fn a_job_to_an_unknown_destination_fails_and_leaves_the_slots_here() {
        let (_dir, node) = NodeHandle::open_temp();
        {
            let mut state = node.topology.as_ref().expect("cluster mode").write();
            state.myid = Some(ME.into());
            let text = format!("{ME} 127.0.0.1 1 master - 0-16383");
            state.replace_topology(Topology::parse(&text, 1).expect("topology"));
            state.migrating.insert(7, OTHER.into());
        }
        let status = Arc::new(MigrationStatus::new(1, 7, 7, OTHER.into()));
        run(node.clone(), status.clone(), None);
        match status.wait(Some(std::time::Duration::ZERO)) {
            JobState::Failed(why) => assert!(why.contains("not in the topology"), "{why}"),
            other => panic!("the job ended {other:?}"),
        }
        let state = node.topology.as_ref().expect("cluster mode").read();
        assert!(state.owns(7), "the slot stays here");
        assert!(state.migrating.is_empty(), "its MIGRATING mark is gone");
        assert!(state.paused.is_empty(), "its writes are not paused");
        assert!(JobRecord::load_all(&node.storage)
            .expect("records")
            .is_empty());
    }
}
