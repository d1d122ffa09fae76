//! Source side, the copy before the cut-over: where a job starts or
//! resumes, the snapshot in chunks, the WAL passes that catch up, and the
//! hold that keeps the WAL files a job still needs. A destination that
//! lost chunks it acknowledged (see [`JobError::Rewind`]) is sent them
//! again from its checkpoint.

use std::sync::atomic::Ordering;
use std::time::Instant;

use rocksdb::WriteBatch;

use super::frame::Phase;
use super::job::{link_settings, record_of, JobError, JobState, MigrationStatus};
use super::link::{Announced, Link, LinkSettings};
use super::record::{JobRecord, SourcePosition, Stage};
use super::snapshot::{Position, SnapshotReader};
use super::wal::Cutter;
use crate::server::Server;

/// Above this much unflushed data, the incremental phase starts a new WAL
/// file first.
const WAL_SWITCH_BYTES: u64 = 1 << 20;

/// Where a job starts copying.
pub(super) enum Start {
    /// A new snapshot, from the beginning.
    Fresh,
    /// A new snapshot read from `position` on, then the WAL from
    /// `snapshot_seq` (the first snapshot's sequence): records the
    /// destination got from the first snapshot and changed since are
    /// replayed in order, so both snapshots converge.
    Snapshot {
        snapshot_seq: u64,
        position: Position,
    },
    /// The snapshot is done; the WAL continues after `from`.
    Wal { snapshot_seq: u64, from: u64 },
}

/// Where a resumed job continues, from the destination's checkpoint.
pub(super) fn start_point(
    record: &JobRecord,
    announced: &Announced,
    namespaces: &[Vec<u8>],
) -> Result<Start, JobError> {
    if announced.applied == 0 {
        return Ok(Start::Fresh);
    }
    match SourcePosition::decode(&announced.position) {
        Some(SourcePosition::Wal(from)) => Ok(Start::Wal {
            snapshot_seq: record.snapshot_seq,
            from,
        }),
        Some(p) => match p.to_reader_position(namespaces) {
            Some(position) => Ok(Start::Snapshot {
                snapshot_seq: record.snapshot_seq,
                position,
            }),
            None => Err(JobError::CannotResume("unreadable checkpoint".into())),
        },
        None => Err(JobError::CannotResume(
            "the destination's checkpoint has no source position".into(),
        )),
    }
}

/// Keeps RocksDB from deleting obsolete files (WAL files above all) while
/// a job may still need to read them, whatever the WAL retention settings;
/// deletions resume when the last job drops its hold.
pub(super) struct WalHold<'a>(&'a crate::storage::Storage);

impl<'a> WalHold<'a> {
    pub(super) fn take(storage: &'a crate::storage::Storage) -> Result<WalHold<'a>, JobError> {
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

/// Most times one job re-reads what its destination lost (see
/// [`JobError::Rewind`]) before it gives up.
const MAX_REWINDS: u32 = 8;

/// The `raw-key-value` copy: the snapshot in chunks, then WAL records
/// until the gap is below `gap`. Returns the WAL sequence of the (first)
/// snapshot and the last WAL sequence shipped. When the destination
/// reports it holds less than it acknowledged, the copy continues from
/// its checkpoint.
pub(super) fn stream_batches(
    server: &Server,
    status: &MigrationStatus,
    link: &mut Link,
    namespaces: &[Vec<u8>],
    cutter: &Cutter,
    gap: u64,
    start: Start,
) -> Result<(u64, u64), JobError> {
    let storage = &server.storage;
    let (snapshot_seq, mut from) = match start {
        Start::Fresh => {
            let seq = storage.db().latest_sequence_number();
            // Persisted before the first chunk: a restart resumes.
            record_of(status, seq, Stage::Copying)
                .save(storage)
                .map_err(|e| JobError::Storage(e.to_string()))?;
            (seq, From::Snapshot(Position::default()))
        }
        Start::Snapshot {
            snapshot_seq,
            position,
        } => (snapshot_seq, From::Snapshot(position)),
        Start::Wal { snapshot_seq, from } => (snapshot_seq, From::Wal(from)),
    };
    let mut rewinds = 0;
    loop {
        match stream_from(server, status, link, namespaces, cutter, gap, snapshot_seq, from) {
            Err(JobError::Rewind(announced)) if rewinds < MAX_REWINDS => {
                rewinds += 1;
                tracing::warn!(
                    "job {}: the destination holds chunks up to {} only; sending again from there",
                    status.job_id,
                    announced.applied
                );
                link.restart_after(status, announced.applied);
                let record = record_of(status, snapshot_seq, Stage::Copying);
                from = match start_point(&record, &announced, namespaces)? {
                    Start::Fresh => From::Snapshot(Position::default()),
                    Start::Snapshot { position, .. } => From::Snapshot(position),
                    Start::Wal { from, .. } => From::Wal(from),
                };
            }
            other => return other.map(|shipped| (snapshot_seq, shipped)),
        }
    }
}

/// Where one pass of [`stream_from`] starts.
enum From {
    /// Reading a new snapshot from this position, then the WAL from the
    /// job's snapshot sequence.
    Snapshot(Position),
    /// The WAL after this sequence.
    Wal(u64),
}

/// One pass of the copy from `from`; returns the last WAL sequence shipped.
#[allow(clippy::too_many_arguments)]
fn stream_from(
    server: &Server,
    status: &MigrationStatus,
    link: &mut Link,
    namespaces: &[Vec<u8>],
    cutter: &Cutter,
    gap: u64,
    snapshot_seq: u64,
    from: From,
) -> Result<u64, JobError> {
    let storage = &server.storage;
    let mut shipped = snapshot_seq;
    match from {
        From::Wal(after) => shipped = after,
        From::Snapshot(position) => {
            send_snapshot(server, status, link, namespaces, position)?;
            // The destination may hold the snapshot's chunks in files it
            // has not ingested yet: it does now, or says what it lost.
            link.confirm(status, &link_settings(server))?;
        }
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
        record_of(status, snapshot_seq, Stage::Copying)
            .save(storage)
            .map_err(|e| JobError::Storage(e.to_string()))?;
    }
    for _round in 0..1000 {
        let settings = link_settings(server);
        shipped = ship_wal(
            storage,
            cutter,
            link,
            status,
            shipped,
            &settings,
            Phase::Incremental,
        )?;
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

/// The snapshot phase: the slots read from a new snapshot from `position`
/// on, in chunks.
fn send_snapshot(
    server: &Server,
    status: &MigrationStatus,
    link: &mut Link,
    namespaces: &[Vec<u8>],
    position: Position,
) -> Result<(), JobError> {
    status.set_state(JobState::Snapshot);
    let mut reader = SnapshotReader::new(
        &server.storage,
        namespaces.to_vec(),
        status.first,
        status.last,
        position,
    );
    while !reader.finished() {
        let mut batch = WriteBatch::default();
        let st = reader
            .fill(&mut batch, link.chunk_size())
            .map_err(|e| JobError::Storage(e.to_string()))?;
        if st.records == 0 {
            continue;
        }
        status.keys.fetch_add(st.keys as u64, Ordering::Relaxed);
        let (done, total) = reader.progress();
        if let Some(ppm) = (done * 1_000_000).checked_div(total) {
            status.progress_ppm.store(ppm, Ordering::Relaxed);
        }
        let position = SourcePosition::from_snapshot(reader.position(), namespaces).encode();
        link.send(
            status,
            &link_settings(server),
            Phase::Snapshot,
            batch,
            position,
        )?;
    }
    Ok(())
}

/// Ships every WAL record after `from` that touches the slots; returns the
/// last sequence read.
pub(super) fn ship_wal(
    storage: &crate::storage::Storage,
    cutter: &Cutter,
    link: &mut Link,
    status: &MigrationStatus,
    from: u64,
    settings: &LinkSettings,
    phase: Phase,
) -> Result<u64, JobError> {
    let latest = storage.db().latest_sequence_number();
    if latest <= from {
        return Ok(from);
    }
    let started = Instant::now();
    let iter = storage
        .db()
        .get_updates_since(from)
        .map_err(|e| JobError::WalGap(e.to_string()))?;
    let opened = started.elapsed();
    let mut batches = 0u64;
    let mut last = from;
    let mut batch = WriteBatch::default();
    for item in iter {
        let (seq, wb) = item.map_err(|e| JobError::WalGap(e.to_string()))?;
        if seq > last + 1 {
            return Err(JobError::WalGap(format!(
                "expected sequence {} but the WAL continues at {seq}",
                last + 1
            )));
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
    send_wal_chunk(link, status, settings, phase, &mut batch, last)?;
    tracing::debug!(
        "job {}: WAL pass {:?} from {}: opened in {:?}, {} batches up to {} in {:?}",
        status.job_id,
        phase,
        from,
        opened,
        batches,
        last,
        started.elapsed()
    );
    Ok(last)
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
        SourcePosition::Wal(last).encode(),
    )
}

