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
use super::link::{Announced, Link, LinkSettings, SharedPacer};
use super::plan::Plan;
use super::record::{JobRecord, SourcePosition, Stage};
use super::rendezvous::Rendezvous;
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

/// `migrate-parallelism`, 0 meaning one stream per core.
fn parallelism(server: &Server) -> usize {
    match server.config.read().int("migrate-parallelism") {
        n if n > 0 => n as usize,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
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
#[allow(clippy::too_many_arguments)]
pub(super) fn stream_batches(
    server: &Server,
    status: &MigrationStatus,
    link: &mut Link,
    target: &Target,
    namespaces: &[Vec<u8>],
    cutter: &Cutter,
    gap: u64,
    start: Start,
) -> Result<(u64, u64), JobError> {
    let storage = &server.storage;
    let (snapshot_seq, mut from) = match start {
        Start::Fresh => {
            let seq = storage.db().latest_sequence_number();
            let streams = parallelism(server);
            *status.plan.lock() =
                Plan::compute(storage, namespaces, status.first, status.last, streams);
            // Persisted before the first chunk: a restart resumes, with
            // the same split.
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
        match stream_from(
            server,
            status,
            link,
            target,
            namespaces,
            cutter,
            gap,
            snapshot_seq,
            from,
        ) {
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
    target: &Target,
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
            copy_snapshot(server, status, link, target, namespaces, position)?
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

/// The snapshot phase, on the job's streams: stream 0 on `link` from
/// `position`, the others on links of their own from their checkpoints.
/// Returns once every stream's share is in the destination's database.
fn copy_snapshot(
    server: &Server,
    status: &MigrationStatus,
    link: &mut Link,
    target: &Target,
    namespaces: &[Vec<u8>],
    position: Position,
) -> Result<(), JobError> {
    status.set_state(JobState::Snapshot);
    let plan = status.plan.lock().clone();
    let n = plan.streams();
    *status.stream_progress.lock() = vec![(0, 0); n];
    if n == 1 {
        return run_stream(server, status, link, namespaces, &plan, 0, position, None);
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
                            let (mut link, announced) = target.open(stream as u8)?;
                            let position = stream_position(&announced, namespaces)?;
                            run_stream(
                                server,
                                status,
                                &mut link,
                                namespaces,
                                plan,
                                stream,
                                position,
                                Some(gate),
                            )
                        })();
                        if result.is_err() {
                            gate.fail();
                        }
                        result
                    })
            })
            .collect();
        let mut result = run_stream(
            server,
            status,
            link,
            namespaces,
            &plan,
            0,
            position,
            Some(&gate),
        );
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

/// Where a stream other than the first resumes, from its checkpoint.
fn stream_position(announced: &Announced, namespaces: &[Vec<u8>]) -> Result<Position, JobError> {
    if announced.applied == 0 {
        return Ok(Position::default());
    }
    match SourcePosition::decode(&announced.position) {
        Some(SourcePosition::Wal(_)) => Ok(Position {
            cf_index: crate::storage::Cf::DATA.len(),
            ..Position::default()
        }),
        Some(p) => p
            .to_reader_position(namespaces)
            .ok_or_else(|| JobError::CannotResume("unreadable checkpoint".into())),
        None => Err(JobError::CannotResume(
            "the destination's checkpoint has no source position".into(),
        )),
    }
}

/// One stream of the snapshot: its share of the metadata column family,
/// then (once every stream got there) the rest; each part ends with the
/// destination confirming it holds all of it. A destination that lost
/// acknowledged chunks is sent them again from its checkpoint.
#[allow(clippy::too_many_arguments)]
fn run_stream(
    server: &Server,
    status: &MigrationStatus,
    link: &mut Link,
    namespaces: &[Vec<u8>],
    plan: &Plan,
    stream: usize,
    mut position: Position,
    gate: Option<&Rendezvous>,
) -> Result<(), JobError> {
    let mut passed_gate = false;
    let mut rewinds = 0;
    loop {
        let step = if position.cf_index == 0 {
            send_part(
                server,
                status,
                link,
                namespaces,
                plan,
                stream,
                &mut position,
                1,
            )
            .and_then(|()| link.confirm(status, &link_settings(server)))
        } else if !passed_gate {
            passed_gate = true;
            gate.map_or(Ok(()), |g| g.wait(status))
        } else {
            let all = crate::storage::Cf::DATA.len();
            let sent = send_part(
                server,
                status,
                link,
                namespaces,
                plan,
                stream,
                &mut position,
                all,
            )
            .and_then(|()| link.confirm(status, &link_settings(server)));
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
                link.restart_after(status, announced.applied);
                position = stream_position(&announced, namespaces)?;
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
/// (not including) column family index `cf_limit`; `position` follows.
#[allow(clippy::too_many_arguments)]
fn send_part(
    server: &Server,
    status: &MigrationStatus,
    link: &mut Link,
    namespaces: &[Vec<u8>],
    plan: &Plan,
    stream: usize,
    position: &mut Position,
    cf_limit: usize,
) -> Result<(), JobError> {
    let mut reader = SnapshotReader::new(
        &server.storage,
        namespaces.to_vec(),
        status.first,
        status.last,
        position.clone(),
    )
    .with_part(plan.clone(), stream);
    reader.stop_before_cf(cf_limit);
    while !reader.finished() {
        let mut batch = WriteBatch::default();
        let st = reader
            .fill(&mut batch, link.chunk_size())
            .map_err(|e| JobError::Storage(e.to_string()))?;
        if st.records == 0 {
            continue;
        }
        status.keys.fetch_add(st.keys as u64, Ordering::Relaxed);
        note_progress(status, stream, reader.progress());
        let sent_to = SourcePosition::from_snapshot(reader.position(), namespaces).encode();
        link.send(
            status,
            &link_settings(server),
            Phase::Snapshot,
            batch,
            sent_to,
        )?;
        *position = reader.position().clone();
    }
    *position = reader.position().clone();
    Ok(())
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
    storage.evict_wal_cache();
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
fn check_gap(storage: &crate::storage::Storage, first: u64, last: u64) -> Result<(), JobError> {
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
        SourcePosition::Wal(last).encode(),
    )
}
