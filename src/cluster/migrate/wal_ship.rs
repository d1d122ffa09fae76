//! The WAL side of the copy: the hold that keeps the WAL files a job
//! still needs, and the passes that ship every WAL record touching the
//! job's slots (incremental catch-up, and the last delta during the
//! cut-over's write pause).

use std::time::Instant;

use rocksdb::WriteBatch;

use super::frame::Phase;
use super::job::Job;
use super::link::{Link, LinkSettings};
use super::record::SourcePosition;
use super::status::{JobError, MigrationStatus};
use crate::storage::Storage;

/// Keeps RocksDB from deleting obsolete files (WAL files above all) while
/// a job may still need to read them, whatever the WAL retention settings;
/// deletions resume when the last job drops its hold.
pub(super) struct WalHold<'a>(&'a Storage);

impl<'a> WalHold<'a> {
    /// Takes the hold (until it is dropped).
    pub(super) fn take(storage: &'a Storage) -> Result<WalHold<'a>, JobError> {
        storage
            .db()
            .disable_file_deletions()
            .map_err(|e| JobError::Storage(e.to_string()))?;
        Ok(WalHold(storage))
    }
}

impl Drop for WalHold<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.db().enable_file_deletions() {
            tracing::error!("cannot resume file deletions: {}", e);
        }
    }
}

/// Ships every WAL record after `from` that touches the job's slots, as
/// `phase` chunks; returns the last sequence read.
pub(super) fn ship_wal(
    job: &Job,
    link: &mut Link,
    from: u64,
    settings: &LinkSettings,
    phase: Phase,
) -> Result<u64, JobError> {
    let (storage, cutter, status) = (&*job.node.storage, job.cutter, job.status);
    let latest = storage.db().latest_sequence_number();
    if latest <= from {
        return Ok(from);
    }
    let started = Instant::now();
    let mut batches = 0u64;
    let mut last = from;
    let mut batch = WriteBatch::default();
    // RocksDB's WAL iterator ends quietly at a gap in sequence numbers
    // (an ingested file takes one without a WAL record): each pass goes
    // as far as it can, and a gap is crossed only when this node's own
    // ingests account for every sequence number in it.
    let mut start_at = from;
    while last < latest {
        let iter = storage
            .db()
            .get_updates_since(start_at)
            .map_err(|e| JobError::WalGap(e.to_string()))?;
        let before = last;
        for item in iter {
            let (seq, wb) = item.map_err(|e| JobError::WalGap(e.to_string()))?;
            if seq <= last {
                continue;
            }
            if seq > last + 1 {
                check_gap(storage, last + 1, seq - 1)?;
            }
            cutter
                .cut(storage, wb.data(), &mut batch)
                .map_err(|e| JobError::Storage(e.to_string()))?;
            last = seq + wb.len() as u64 - 1;
            batches += 1;
            if batch.size_in_bytes() >= link.chunk_size() {
                send_wal_chunk(link, status, settings, phase, &mut batch, last)?;
            }
            if last >= latest {
                break;
            }
        }
        if last >= latest {
            break;
        }
        if last == before {
            if start_at == last {
                // Stopped right after `last`: look past the gap.
                start_at = last + 1;
                continue;
            }
            // No record after `last` up to `latest`.
            check_gap(storage, last + 1, latest)?;
            last = latest;
            break;
        }
        start_at = last;
    }
    send_wal_chunk(link, status, settings, phase, &mut batch, last)?;
    storage.evict_wal_cache(crate::storage::page_cache::Dirty::Keep);
    tracing::debug!(
        "job {}: WAL pass {:?} from {}: {} batches up to {} in {:?}",
        status.job_id,
        phase,
        from,
        batches,
        last,
        started.elapsed()
    );
    Ok(last)
}

/// Sequence numbers `first..=last` have no WAL record: fine when this
/// node's ingests took them, a [`JobError::WalGap`] otherwise.
fn check_gap(storage: &Storage, first: u64, last: u64) -> Result<(), JobError> {
    if storage.ingests_took(first, last) {
        return Ok(());
    }
    Err(JobError::WalGap(format!(
        "sequence numbers {first}..={last} are missing from the WAL"
    )))
}

/// Sends the WAL records gathered in `batch` (if any) as one chunk whose
/// position is the last WAL sequence they cover, and empties the batch.
fn send_wal_chunk(
    link: &mut Link,
    status: &MigrationStatus,
    settings: &LinkSettings,
    phase: Phase,
    batch: &mut WriteBatch,
    last: u64,
) -> Result<(), JobError> {
    if batch.is_empty() {
        return Ok(());
    }
    let full = std::mem::take(batch);
    link.send(
        status,
        settings,
        phase,
        full,
        0,
        &SourcePosition::Wal(last).encode(),
    )
}
