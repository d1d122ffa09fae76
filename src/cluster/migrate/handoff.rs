//! Cut-over and hand-off, the end of a job on the source: writes to the
//! slots pause, the last delta goes, the destination takes the slots
//! (phase one) and this node gives them up and drops their data (phase
//! two). A lost hand-off reply is followed up until the destination says
//! which side owns the slots; what stays unknown is settled by the next
//! topology push.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_protocol::resp2::types::OwnedFrame;

use super::by_command;
use super::frame::Phase;
use super::job::Job;
use super::link::{Link, Pacer};
use super::record::{JobRecord, Stage};
use super::status::{JobError, JobState, MigrationStatus};
use super::wal_ship::ship_wal;
use crate::cluster::node::NodeHandle;
use crate::cluster::peer::PeerError;
use crate::storage::keys;

/// How often, and how patiently, a lost hand-off reply is followed up
/// (and an unreachable destination of a resumed job waited for).
pub(super) const RESOLVE_ATTEMPTS: u32 = 60;
/// The pause between two such attempts.
pub(super) const RESOLVE_PAUSE: Duration = Duration::from_millis(500);

/// The cut-over, once the copy caught up: pauses writes to the slots,
/// waits for writes in flight, ships the last delta (from WAL sequence
/// `shipped`, or the keys written meanwhile on the per-key path) and hands
/// the slots off. Every chunk so far is acknowledged before the pause, so
/// the pause only waits for the last delta (and a restart during the
/// cut-over resumes from the end of the catch-up, not from an older
/// checkpoint). If the destination did not take the slots they are served
/// here again.
pub(super) fn cut_over(
    job: &Job,
    link: &mut Link,
    per_key: bool,
    snapshot_seq: u64,
    shipped: u64,
) -> Result<(), JobError> {
    let (node, status) = (job.node, job.status);
    let Some(cluster) = node.topology.as_ref() else {
        return Err(JobError::Refused("cluster mode is off".into()));
    };
    let storage = &node.storage;
    link.drain(status, &node.settings.link())?;
    status.set_state(JobState::Cutover);
    if per_key {
        by_command::record(status, Stage::Cutover)
    } else {
        status.record(snapshot_seq, Stage::Cutover)
    }
    .save(storage)
    .map_err(|e| JobError::Storage(e.to_string()))?;
    if per_key {
        // The paused pass reads each slot from its start, through the
        // tombstone and the old value of every key moved so far (370 ms
        // for 600k keys here): compacted away first, they cost the pause
        // nothing.
        storage.compact_range(
            crate::storage::Cf::Metadata,
            &keys::slot_prefix(b"", status.first),
            &keys::slot_prefix(b"", status.last + 1),
        );
    }
    let slots: Vec<u16> = (status.first..=status.last).collect();
    let pause_started = Instant::now();
    cluster.write().paused.extend(slots.iter().copied());
    drop(node.slot_gates.write_many(&slots));
    let drained = pause_started.elapsed();
    let mut delta_read = drained;
    let mut delta_done = drained;
    let job_id = status.job_id.to_string();
    let outcome = (|| -> Result<(), JobError> {
        let settings = node.settings.link();
        if per_key {
            // Keys written meanwhile (to keys not yet moved) go now.
            by_command::copy_keys(node, status, link, true)?;
        } else {
            ship_wal(job, link, shipped, &settings, Phase::Final)?;
        }
        delta_read = pause_started.elapsed();
        link.drain(status, &settings)?;
        status.check_cancelled()?;
        delta_done = pause_started.elapsed();
        commit_on_destination(link, &job_id)
    })();
    match outcome {
        Ok(()) => {}
        Err(JobError::HandoffUnknown(why)) => {
            tracing::warn!(
                "job {}: hand-off reply lost ({}); asking the destination",
                status.job_id,
                why
            );
            resolve_handoff(job, link.last_sent())?
        }
        Err(e) => {
            // The destination did not take the slots: serve them again.
            unpause(node, status);
            return Err(e);
        }
    }
    let paused_for = pause_started.elapsed();
    finish_on_source(job)?;
    status
        .pause_ms
        .store(paused_for.as_millis() as u64, Ordering::Relaxed);
    tracing::info!(
        "job {}: writes paused {:?} (in-flight writes drained after {:?}, last delta read after {:?} and acknowledged after {:?}, then the hand-off)",
        status.job_id,
        paused_for,
        drained,
        delta_read,
        delta_done
    );
    Ok(())
}

/// Phase one of the hand-off: the destination takes the slots (a local
/// change there; no topology version moves). A lost reply is
/// [`JobError::HandoffUnknown`].
fn commit_on_destination(link: &mut Link, job: &str) -> Result<(), JobError> {
    let reply = link
        .call(&[b"CLUSTERX", b"IMPORT-COMMIT", job.as_bytes()])
        .map_err(|e| JobError::HandoffUnknown(e.to_string()))?;
    match reply {
        OwnedFrame::SimpleString(_) | OwnedFrame::Integer(_) => Ok(()),
        OwnedFrame::Error(e) => Err(JobError::Refused(e)),
        other => Err(JobError::HandoffUnknown(format!(
            "unexpected reply {other:?}"
        ))),
    }
}

/// After a lost hand-off reply: reconnects until the destination says
/// whether it took the slots. Announcing the job again asks it: a
/// destination that owns the slots refuses the announcement ("already the
/// owner", [`JobError::DestinationOwns`]) and the hand-off is finished
/// here; one still importing (every chunk applied) is asked to commit
/// again. Slots stay paused throughout; if the destination stays
/// unreachable the job ends with [`JobError::HandoffUnknown`] and its
/// record, so a restart or a topology push settles it.
fn resolve_handoff(job: &Job, last_sent: u64) -> Result<(), JobError> {
    let (status, target) = (job.status, job.target);
    let import_args: Vec<&[u8]> = target.import_cmd.iter().map(|a| a.as_slice()).collect();
    let mut last_err = String::new();
    for _ in 0..RESOLVE_ATTEMPTS {
        std::thread::sleep(RESOLVE_PAUSE);
        match Link::open(
            &target.host,
            target.port,
            &import_args,
            0,
            Pacer::shared(),
            1024,
            job.node.settings.peer_password(),
        ) {
            Err(JobError::DestinationOwns(_)) => {
                tracing::info!(
                    "job {}: the destination took the slots; finishing the hand-off",
                    status.job_id
                );
                return Ok(());
            }
            Ok((mut link, announced)) => {
                if announced.applied < last_sent {
                    return Err(JobError::Refused(format!(
                        "the destination has chunk {} of {}; not committing",
                        announced.applied, last_sent
                    )));
                }
                match commit_on_destination(&mut link, &status.job_id.to_string()) {
                    Err(JobError::HandoffUnknown(why)) => last_err = why,
                    other => return other,
                }
            }
            Err(e @ JobError::Refused(_)) => return Err(e),
            Err(e) => last_err = e.to_string(),
        }
    }
    Err(JobError::HandoffUnknown(last_err))
}

/// Sends one command to the destination on a fresh, authenticated
/// connection (outside the job's link) and returns the reply.
fn call_destination(
    node: &NodeHandle,
    dst: &crate::cluster::topology::Node,
    args: &[&[u8]],
) -> Result<OwnedFrame, PeerError> {
    crate::cluster::peer::PeerConnection::connect_auth(
        &dst.host,
        dst.port,
        Duration::from_secs(5),
        node.settings.peer_password().as_deref(),
    )?
    .call(args)
}

/// Phase two of the hand-off: this node gives the slots to the
/// destination (a local change recorded in nodes.conf; the topology
/// version stays where the controller put it), serves them no more,
/// drops their data and forgets the job.
pub(super) fn finish_on_source(job: &Job) -> Result<(), JobError> {
    let status = job.status;
    let Some(cluster) = job.node.topology.as_ref() else {
        return Err(JobError::Refused("cluster mode is off".into()));
    };
    {
        let mut state = cluster.write();
        state
            .move_slots_locally(status.first, status.last, &status.dst_id)
            .map_err(|e| JobError::Refused(e.to_string()))?;
        state
            .paused
            .retain(|s| *s < status.first || *s > status.last);
        if let Err(e) = state.save() {
            tracing::error!("job {}: cannot persist the topology: {}", status.job_id, e);
        }
    }
    // Cleanup: the slots' data leaves this node, then the job's record.
    let storage = &job.node.storage;
    for ns in job.namespaces {
        storage
            .drop_data_range(
                &keys::slot_prefix(ns, status.first),
                &keys::slot_prefix(ns, status.last + 1),
            )
            .map_err(|e| JobError::Storage(e.to_string()))?;
    }
    JobRecord::delete(storage, status.job_id).map_err(|e| JobError::Storage(e.to_string()))
}

/// Tells the destination to drop a failed job's partial data (best effort:
/// a destination that cannot be reached drops it when the next job for
/// these slots starts).
pub(super) fn abort_on_destination(node: &NodeHandle, status: &MigrationStatus) {
    let Some(dst) = node
        .topology
        .as_ref()
        .and_then(|c| c.read().topology.node(&status.dst_id).cloned())
    else {
        return;
    };
    let job = status.job_id.to_string();
    let result = call_destination(node, &dst, &[b"CLUSTERX", b"IMPORT-ABORT", job.as_bytes()]);
    if let Err(e) = result {
        tracing::warn!(
            "job {}: could not ask {} to drop the partial import: {}",
            status.job_id,
            dst.addr(),
            e
        );
    }
}

/// A topology push (SETNODES with a higher version) settles every job
/// whose hand-off outcome stayed unknown: the pushed owner wins. Slots it
/// gives to this node are served here again; slots it gives to another
/// node have their data dropped here. Either way the pause ends and the
/// job's record is dropped, so a restart does not take the job up again.
/// Jobs still running are left alone.
pub fn settle_after_push(node: &NodeHandle) {
    let unknown: Vec<Arc<MigrationStatus>> = {
        let jobs = node.migrations.lock();
        jobs.iter()
            .filter(|j| !j.running() && j.handoff_unknown.swap(false, Ordering::SeqCst))
            .cloned()
            .collect()
    };
    for j in unknown {
        settle_handoff(node, &j);
    }
}

/// Settles one job whose hand-off outcome is unknown by the topology in
/// force (see [`settle_after_push`]).
fn settle_handoff(node: &NodeHandle, status: &MigrationStatus) {
    let Some(cluster) = node.topology.as_ref() else {
        return;
    };
    let elsewhere: Vec<u16> = {
        let mut state = cluster.write();
        state
            .paused
            .retain(|s| *s < status.first || *s > status.last);
        (status.first..=status.last)
            .filter(|s| !state.owns(*s))
            .collect()
    };
    for slot in &elsewhere {
        for ns in node.settings.namespace_prefixes() {
            if let Err(e) = node.storage.drop_data_range(
                &keys::slot_prefix(&ns, *slot),
                &keys::slot_prefix(&ns, *slot + 1),
            ) {
                tracing::error!("job {}: cannot drop slot {}: {}", status.job_id, slot, e);
            }
        }
    }
    if let Err(e) = JobRecord::delete(&node.storage, status.job_id) {
        tracing::error!("job {}: cannot drop its record: {}", status.job_id, e);
    }
    tracing::warn!(
        "job {}: hand-off outcome of slots {}-{} settled by the pushed topology: {} of them stay here, {} belong elsewhere (their data dropped here); writes resume and the job's record is dropped",
        status.job_id,
        status.first,
        status.last,
        usize::from(status.last - status.first) + 1 - elsewhere.len(),
        elsewhere.len()
    );
}

/// Serves the job's slots here again (the hand-off did not happen).
pub(super) fn unpause(node: &NodeHandle, status: &MigrationStatus) {
    if let Some(cluster) = node.topology.as_ref() {
        cluster
            .write()
            .paused
            .retain(|s| *s < status.first || *s > status.last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::topology::Topology;
    use crate::storage::metadata::encode_string;
    use crate::storage::Cf;

    const ME: &str = "0123456789012345678901234567890123456789";
    const OTHER: &str = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";

    #[test]
    fn a_topology_push_settles_a_handoff_whose_outcome_was_unknown() {
        let (_dir, node) = NodeHandle::open_temp();
        let kept = keys::encode_in_slot(b"", 5, b"kept");
        let moved = keys::encode_in_slot(b"", 100, b"moved");
        for k in [&kept, &moved] {
            node.storage
                .put(Cf::Metadata, k, &encode_string(0, b"v"))
                .expect("put");
        }
        let status = Arc::new(MigrationStatus::new(1, 100, 101, OTHER.into()));
        status.finish(JobState::Failed("hand-off outcome unknown".into()));
        status.handoff_unknown.store(true, Ordering::SeqCst);
        node.migrations.lock().push(status.clone());
        {
            let mut state = node.topology.as_ref().expect("cluster mode").write();
            state.myid = Some(ME.into());
            // The push: slot 100 went to the destination, 101 stays here.
            let text = format!(
                "{ME} 127.0.0.1 1 master - 0-99 101-16383\n{OTHER} 127.0.0.1 2 master - 100"
            );
            state.replace_topology(Topology::parse(&text, 2).expect("topology"));
            state.paused.extend([100, 101]);
        }

        settle_after_push(&node);

        let state = node.topology.as_ref().expect("cluster mode").read();
        assert!(state.paused.is_empty(), "writes resume");
        assert!(!status.handoff_unknown.load(Ordering::SeqCst));
        let stored = |k: &[u8]| node.storage.get(Cf::Metadata, k).expect("get").is_some();
        assert!(stored(&kept), "data of slots that stay here stays");
        assert!(
            !stored(&moved),
            "data of a slot that went elsewhere is dropped"
        );
    }
}
