//! The `migrate-type redis-command` path: keys re-sent one by one as
//! `RESTORE-ASKING` commands (DUMP payloads), the way Redis and kvrocks's
//! older mode move a slot. Kept as the baseline the benchmark compares the
//! streaming path with. While it runs the slots are MIGRATING on the
//! source, so a client writing a key already moved is sent (ASK) to the
//! destination; each batch of keys is copied and deleted under the slots'
//! gates so no write lands in between.

use std::sync::atomic::Ordering;

use redis_protocol::resp2::types::OwnedFrame;

use super::job::{JobError, JobState, MigrationStatus};
use super::link::Link;
use crate::cluster::peer::encode_command;
use crate::server::Server;
use crate::types::Db;

/// Keys copied per round trip.
const KEYS_PER_BATCH: usize = 100;

/// Copies every key of the job's slots (default namespace) to the
/// destination and deletes it here. `paused` is true during the cut-over,
/// when the slots' writes are already paused and drained.
pub fn copy_keys(
    server: &Server,
    status: &MigrationStatus,
    link: &mut Link,
    paused: bool,
) -> Result<(), JobError> {
    if let (Some(cluster), false) = (server.cluster.as_ref(), paused) {
        let mut state = cluster.write();
        for s in status.first..=status.last {
            state.migrating.insert(s, status.dst_id.clone());
        }
        *status.state.lock() = JobState::Snapshot;
    }
    let db = Db::new(&server.storage, b"", usize::MAX);
    let mut out = Vec::new();
    for slot in status.first..=status.last {
        // Resume after the last key moved: re-reading from the slot's
        // start would wade through the tombstones of every deleted key.
        let mut after: Option<Vec<u8>> = None;
        loop {
            status.check_cancelled()?;
            let _gate = (!paused).then(|| server.slot_gates.write_many(&[slot]));
            let keys = db
                .keys_in_slot_after(slot, after.as_deref(), KEYS_PER_BATCH)
                .map_err(|e| JobError::Storage(e.to_string()))?;
            if keys.is_empty() {
                break;
            }
            after = keys.last().cloned();
            out.clear();
            let now = crate::util::now_ms();
            let mut sent = Vec::with_capacity(keys.len());
            for k in &keys {
                let Some((payload, expire)) =
                    db.dump(k).map_err(|e| JobError::Storage(e.to_string()))?
                else {
                    continue;
                };
                let ttl = if expire == 0 {
                    0
                } else {
                    expire.saturating_sub(now).max(1)
                }
                .to_string();
                encode_command(
                    &mut out,
                    &[b"RESTORE-ASKING", k, ttl.as_bytes(), &payload, b"REPLACE"],
                );
                status
                    .raw_bytes
                    .fetch_add(payload.len() as u64, Ordering::Relaxed);
                status
                    .wire_bytes
                    .fetch_add(payload.len() as u64, Ordering::Relaxed);
                sent.push(k.clone());
            }
            tracing::debug!(
                "job {}: restoring {} keys of slot {}",
                status.job_id,
                sent.len(),
                slot
            );
            for reply in link.pipeline(&out, sent.len())? {
                if let OwnedFrame::Error(e) = reply {
                    return Err(JobError::Refused(e));
                }
            }
            db.del(&sent)
                .map_err(|e| JobError::Storage(e.to_string()))?;
            status.keys.fetch_add(sent.len() as u64, Ordering::Relaxed);
            status.chunks.fetch_add(1, Ordering::Relaxed);
        }
    }
    if let Some(cluster) = server.cluster.as_ref() {
        if paused {
            let mut state = cluster.write();
            for s in status.first..=status.last {
                state.migrating.remove(&s);
            }
        }
    }
    Ok(())
}
