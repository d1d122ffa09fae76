//! The `migrate-type redis-command` path: keys re-sent one by one as
//! `RESTORE-ASKING` commands (DUMP payloads), the way Redis and kvrocks's
//! older mode move a slot. Kept as the baseline the benchmark compares the
//! streaming path with. While it runs the slots are MIGRATING on the
//! source, so a client writing a key already moved is sent (ASK) to the
//! destination; each batch of keys is copied and deleted under the slots'
//! gates so no write lands in between.
//!
//! A per-key job survives restarts of either node: its record (with the
//! per-key bit) is saved before the first key moves and its MIGRATING
//! marks are saved in nodes.conf, so a restarted source keeps sending
//! clients of keys it no longer has to the destination, and the job
//! continues with the keys still here (never through the batch path,
//! which would overwrite keys written on the destination through ASK). A
//! broken link is reopened until the destination is back. Once its slots
//! are MIGRATING the job can no longer be cancelled (keys moved, or written
//! on the destination by clients sent there with ASK, would be lost to
//! clients) and a failure keeps the marks and the record, so the slots
//! stay consistent; `CLUSTERX MIGRATE` of the same slots to the same node
//! (or a restart) resumes the job.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use redis_protocol::resp2::types::OwnedFrame;
use rocksdb::WriteBatch;

use super::frame::Phase;
use super::key_parts;
use super::link::Link;
use super::record::{JobRecord, Stage};
use super::status::{JobError, JobState, MigrationStatus};
use crate::cluster::node::NodeHandle;
use crate::cluster::peer::encode_command;
use crate::storage::keys::slot_prefix;
use crate::storage::metadata::Composite;
use crate::storage::page_cache::BulkWork;
use crate::storage::{Cf, Storage};
use crate::types::Db;

/// Keys copied per round trip.
const KEYS_PER_BATCH: usize = 100;

/// The source position of a per-key job's checkpoint on the destination
/// (never read back: a per-key job resumes from the keys still here).
const PER_KEY_POSITION: &[u8] = b"K";

/// Times in a row a batch may be refused (and sent again after the job is
/// announced again) before the job stops.
const MAX_REFUSALS: u32 = 10;

/// Bytes moved between two evictions of the slot's files from the page
/// cache. Reading a key touches more of the files than the bytes sent
/// (the key iterator's readahead, and the whole block and index
/// partitions of each value read). In `make bench-migrate`'s per-key row
/// the source's page cache grew by 63-76 MiB at 16 MiB (4 runs), by 27,
/// 52 and 100 MiB at 8 MiB (3 runs): lower in two runs of three.
const EVICT_EVERY: usize = 8 << 20;

/// Keeps a per-key move out of the page cache: drops the slot's files it
/// read as it goes, and holds the storage's page-cache janitor for what
/// its deletes write (see [`crate::storage::page_cache`]).
struct PageCacheGuard {
    _bulk: BulkWork,
    unevicted: usize,
}

impl PageCacheGuard {
    fn new(storage: &Arc<Storage>) -> PageCacheGuard {
        PageCacheGuard {
            _bulk: storage.bulk_work(),
            unevicted: 0,
        }
    }

    /// Counts `bytes` of `slot` moved (and deleted here); drops the
    /// slot's files from the page cache every [`EVICT_EVERY`] bytes.
    fn moved(&mut self, storage: &Storage, slot: u16, bytes: usize) {
        storage.bulk_written(bytes as u64);
        self.unevicted += bytes;
        if self.unevicted >= EVICT_EVERY {
            self.clear(storage, slot);
        }
    }

    fn clear(&mut self, storage: &Storage, slot: u16) {
        self.unevicted = 0;
        let (start, end) = (slot_prefix(b"", slot), slot_prefix(b"", slot + 1));
        for cf in Cf::DATA {
            if let Err(e) = storage.evict_file_cache(cf, &start, &end) {
                tracing::debug!("cannot drop moved files from the page cache: {}", e);
            }
        }
    }
}

/// Pause between attempts to reopen a broken link.
const REOPEN_PAUSE: Duration = Duration::from_millis(500);

/// Milliseconds a key expiring at `expire_ms` (0 = never) has left at
/// `now`: 0 for none, at least 1 otherwise.
fn ttl_left(expire_ms: u64, now: u64) -> u64 {
    if expire_ms == 0 {
        0
    } else {
        expire_ms.saturating_sub(now).max(1)
    }
}

/// The record of a per-key job at `stage`.
pub fn record(status: &MigrationStatus, stage: Stage) -> JobRecord {
    JobRecord {
        job_id: status.job_id,
        first: status.first,
        last: status.last,
        dst_id: status.dst_id.clone(),
        snapshot_seq: 0,
        stage,
        per_key: true,
        plan: super::plan::Plan::single(),
    }
}

/// Marks the slots of a persisted per-key job MIGRATING again (start-up,
/// before clients are accepted): keys it already moved are reached
/// through ASK while it resumes.
pub fn restore_marks(node: &NodeHandle, record: &JobRecord) {
    if let Some(cluster) = node.topology.as_ref() {
        let mut state = cluster.write();
        for s in record.first..=record.last {
            state.migrating.insert(s, record.dst_id.clone());
        }
    }
}

/// Waits until this node has its id and a topology that knows the job's
/// destination: a resumed per-key job cannot give up on a destination it
/// does not know yet (with `persist-cluster-nodes-enabled no` the
/// controller sets both again after a restart), as its keys are there.
pub fn wait_for_destination(node: &NodeHandle, status: &MigrationStatus) {
    let Some(cluster) = node.topology.as_ref() else {
        return;
    };
    let mut logged = false;
    loop {
        {
            let state = cluster.read();
            if state.myid.is_some() && state.topology.node(&status.dst_id).is_some() {
                return;
            }
        }
        if !logged {
            tracing::info!(
                "job {}: waiting for a topology that knows destination {}",
                status.job_id,
                status.dst_id
            );
            logged = true;
        }
        std::thread::sleep(REOPEN_PAUSE);
    }
}

/// True when a failed per-key job must leave its slots as they are
/// (MIGRATING, record kept, the destination's keys in place) instead of
/// dropping the destination's copy: once its slots are MIGRATING (its
/// record is saved first), keys may be on the destination, moved or
/// written there by clients sent with ASK.
pub fn keeps_state_on_failure(node: &NodeHandle, status: &MigrationStatus) -> bool {
    JobRecord::load_all(&node.storage)
        .map(|all| all.iter().any(|r| r.job_id == status.job_id && r.per_key))
        .unwrap_or(true)
}

/// The record of the unfinished per-key job (persisted, not running)
/// whose slots overlap `[first, last]`, if any: a new job for them would
/// make the destination drop the keys that job already moved, so a
/// MIGRATE of exactly its slots to its destination resumes it instead.
pub fn unfinished_overlap(node: &NodeHandle, first: u16, last: u16) -> Option<JobRecord> {
    JobRecord::load_all(&node.storage)
        .ok()?
        .into_iter()
        .find(|r| r.per_key && r.first <= last && first <= r.last)
}

/// Forgets a cancel (logged): once its slots are MIGRATING, a per-key job
/// cannot stop without stranding keys on the destination, so it goes on.
fn ignore_cancel(status: &MigrationStatus) {
    if status.cancelled.swap(false, Ordering::SeqCst) {
        tracing::warn!(
            "job {}: a per-key job cannot be cancelled once its slots are MIGRATING; it continues",
            status.job_id
        );
    }
}

/// Reopens a broken link, for as long as the destination is
/// unreachable. The batch that was in flight is then sent again: its keys
/// are still here, and RESTORE ... REPLACE overwrites whatever an earlier
/// attempt wrote.
fn reopen(
    link: &mut Link,
    status: &MigrationStatus,
    err: &dyn std::fmt::Display,
) -> Result<(), JobError> {
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        tracing::warn!(
            "job {}: link broken or batch refused ({}), reopening (attempt {})",
            status.job_id,
            err,
            attempt
        );
        std::thread::sleep(REOPEN_PAUSE);
        ignore_cancel(status);
        match link.reopen() {
            Ok(_) => return Ok(()),
            Err(JobError::Link(_)) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Starts (or resumes) a per-key job's copy: saves its record, then marks
/// its slots MIGRATING and saves the marks in nodes.conf, before any key
/// moves.
pub fn begin(node: &NodeHandle, status: &MigrationStatus) -> Result<(), JobError> {
    record(status, Stage::Copying)
        .save(&node.storage)
        .map_err(|e| JobError::Storage(e.to_string()))?;
    if let Some(cluster) = node.topology.as_ref() {
        let mut state = cluster.write();
        for s in status.first..=status.last {
            state.migrating.insert(s, status.dst_id.clone());
        }
        // A job resumed in its cut-over started with its slots paused;
        // the destination has just said it does not own them (it would
        // have refused the announcement), so writes may flow again.
        state
            .paused
            .retain(|s| *s < status.first || *s > status.last);
        state
            .save()
            .map_err(|e| JobError::Storage(format!("cannot persist the MIGRATING marks: {e}")))?;
    }
    *status.state.lock() = JobState::Snapshot;
    Ok(())
}

/// Copies every key of the job's slots (default namespace) to the
/// destination and deletes it here. `paused` is true during the cut-over,
/// when the slots' writes are already paused and drained. The MIGRATING
/// marks stay until the hand-off moves the slots (reads of moved keys
/// keep being sent to the destination during the cut-over too).
pub fn copy_keys(
    node: &NodeHandle,
    status: &MigrationStatus,
    link: &mut Link,
    paused: bool,
) -> Result<(), JobError> {
    if !paused {
        if link.last_sent() == 0 {
            // One empty chunk, so the destination keeps a checkpoint for
            // the job like for any job with data there: a re-announcement
            // after it restarted is then a resumed job, not a new one
            // whose leftovers are to be dropped. Sent as a WAL-phase chunk,
            // which the destination stores with its checkpoint at once: a
            // snapshot chunk may wait in an SST file that is only ingested
            // when the job is announced again, so a destination killed
            // before that would report no chunk, and a hand-off asked
            // again would be refused ("chunk 0 of 1").
            let settings = node.settings.link();
            link.send(
                status,
                &settings,
                Phase::Incremental,
                WriteBatch::default(),
                0,
                PER_KEY_POSITION,
            )?;
            link.drain(status, &settings)?;
        }
        begin(node, status)?;
    }
    // Every key of the slots is read once: through the block cache, that
    // would grow this process by the cache's size.
    let db = Db::new(&node.storage, b"", usize::MAX).cold();
    let mut out = Vec::new();
    let mut page_cache = PageCacheGuard::new(&node.storage);
    for slot in status.first..=status.last {
        // Resume after the last key moved: re-reading from the slot's
        // start would wade through the tombstones of every deleted key.
        let mut after: Option<Vec<u8>> = None;
        // Bytes of the last batch, paced before the next one (outside the
        // slot's gate, so writes do not wait for the rate limiter).
        let mut owed = 0;
        // Batches refused in a row.
        let mut refusals = 0;
        loop {
            ignore_cancel(status);
            if owed > 0 {
                let rate = node.settings.int("migrate-batch-rate-limit-mb").max(0) as u64;
                link.pace(owed, rate << 20);
                owed = 0;
            }
            let gate = (!paused).then(|| node.slot_gates.write_many(&[slot]));
            let keys = db
                .keys_in_slot_after(slot, after.as_deref(), KEYS_PER_BATCH)
                .map_err(|e| JobError::Storage(e.to_string()))?;
            let Some(last_key) = keys.last().cloned() else {
                drop(gate);
                page_cache.clear(&node.storage, slot);
                break;
            };
            out.clear();
            let now = crate::util::now_ms();
            let mut sent = Vec::with_capacity(keys.len());
            let mut big = Vec::new();
            let mut bytes = 0;
            for k in &keys {
                let meta = db
                    .read_meta(k)
                    .map_err(|e| JobError::Storage(e.to_string()))?;
                let composite = meta.and_then(|m| Composite::decode(&m.raw));
                if let Some(c) = composite.filter(crate::types::replay::is_big) {
                    big.push((k.clone(), ttl_left(c.expire_ms, now), c));
                    continue;
                }
                let Some((payload, expire)) =
                    db.dump(k).map_err(|e| JobError::Storage(e.to_string()))?
                else {
                    continue;
                };
                let ttl = ttl_left(expire, now).to_string();
                encode_command(
                    &mut out,
                    &[b"RESTORE-ASKING", k, ttl.as_bytes(), &payload, b"REPLACE"],
                );
                bytes += payload.len();
                sent.push(k.clone());
            }
            if sent.is_empty() && big.is_empty() {
                after = Some(last_key);
                continue;
            }
            tracing::debug!(
                "job {}: restoring {} keys of slot {}",
                status.job_id,
                sent.len(),
                slot
            );
            let mut refused_part = None;
            let mut result = link.pipeline(&out, sent.len());
            let restored = bytes;
            if result.is_ok() {
                // Big keys go in parts, each under the same gate; what a
                // part read leaves the page cache as the key goes.
                for (k, ttl, c) in &big {
                    let parts_read = |n| page_cache.moved(&node.storage, slot, n);
                    match key_parts::send_in_parts(&db, k, c, *ttl, link, parts_read) {
                        Ok(n) => {
                            bytes += n;
                            sent.push(k.clone());
                        }
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
            }
            let replies = match result {
                Ok(r) => r,
                Err(JobError::Link(e)) => {
                    // Writes to the slot go on while the link is down; the
                    // batch is read again afterwards.
                    drop(gate);
                    reopen(link, status, &e)?;
                    continue;
                }
                Err(JobError::Refused(e)) => {
                    refused_part = Some(e);
                    Vec::new()
                }
                Err(e) => return Err(e),
            };
            let refused = replies.into_iter().find_map(|r| match r {
                OwnedFrame::Error(e) => Some(e),
                _ => None,
            });
            let refused = refused.or(refused_part);
            if let Some(e) = refused {
                // Maybe passing (a destination that restarted and lost its
                // importing marks until the job announces itself again):
                // announce again and resend the batch, a few times.
                refusals += 1;
                if refusals > MAX_REFUSALS {
                    return Err(JobError::Refused(e));
                }
                drop(gate);
                reopen(link, status, &e)?;
                continue;
            }
            refusals = 0;
            db.del(&sent)
                .map_err(|e| JobError::Storage(e.to_string()))?;
            drop(gate);
            after = Some(last_key);
            owed = bytes;
            page_cache.moved(&node.storage, slot, restored);
            status.raw_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
            status.wire_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
            status.keys.fetch_add(sent.len() as u64, Ordering::Relaxed);
            status.chunks.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}
