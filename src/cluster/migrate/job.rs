//! Source side of one slot migration job: snapshot, incremental catch-up
//! from the WAL, a short write pause, a two-phase hand-off and cleanup.
//!
//! Chunks travel as `CLUSTERX CHUNK <frame> <position>` commands on one
//! connection to the destination; up to `migrate-window` of them are in
//! flight (pipelined), and the destination acknowledges each by sequence.
//! A chunk the destination refuses by checksum is sent again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use redis_protocol::resp2::types::OwnedFrame;
use rocksdb::WriteBatch;
use thiserror::Error;

use super::by_command;
use super::frame::Phase;
use super::link::{Link, LinkSettings};
use super::snapshot::{Position, SnapshotReader};
use super::wal::Cutter;
use crate::cluster::peer::PeerError;
use crate::server::Server;
use crate::storage::{keys, Cf};

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Connecting and announcing the job.
    Start,
    /// Copying the snapshot.
    Snapshot,
    /// Shipping WAL records written since the snapshot.
    Incremental,
    /// Writes paused; last delta and hand-off.
    Cutover,
    /// Finished: the destination owns the slots.
    Done,
    /// Stopped with an error.
    Failed(String),
}

impl JobState {
    /// The word INFO and CLUSTER INFO show.
    pub fn name(&self) -> &'static str {
        match self {
            JobState::Start => "start",
            JobState::Snapshot => "snapshot",
            JobState::Incremental => "incremental",
            JobState::Cutover => "cutover",
            JobState::Done => "success",
            JobState::Failed(_) => "failed",
        }
    }
}

/// Why a job failed.
#[derive(Debug, Error)]
pub enum JobError {
    /// An operator cancelled the job.
    #[error("cancelled")]
    Cancelled,
    /// The destination is not in the topology.
    #[error("destination node {0} is not in the topology")]
    UnknownDestination(String),
    /// Talking to the destination failed.
    #[error("destination link: {0}")]
    Link(#[from] PeerError),
    /// The destination refused something.
    #[error("destination refused: {0}")]
    Refused(String),
    /// The WAL needed for the incremental phase is gone.
    #[error("WAL gap: {0}")]
    WalGap(String),
    /// Local storage failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The hand-off reply was lost; the slots stay paused here.
    #[error(
        "hand-off outcome unknown ({0}); slots stay paused until the topology is pushed again"
    )]
    HandoffUnknown(String),
}

/// Progress of a job, read by INFO and CLUSTER INFO.
pub struct MigrationStatus {
    /// Job id.
    pub job_id: u64,
    /// First slot.
    pub first: u16,
    /// Last slot.
    pub last: u16,
    /// Destination node id.
    pub dst_id: String,
    /// Current state.
    pub state: Mutex<JobState>,
    /// Keys copied in the snapshot phase.
    pub keys: AtomicU64,
    /// Raw `WriteBatch` bytes sent.
    pub raw_bytes: AtomicU64,
    /// Bytes on the wire (after compression).
    pub wire_bytes: AtomicU64,
    /// Chunks acknowledged.
    pub chunks: AtomicU64,
    /// Chunks sent again.
    pub retransmits: AtomicU64,
    /// Current chunk size target in bytes.
    pub chunk_size: AtomicU64,
    /// How long writes to the slots were paused, in ms.
    pub pause_ms: AtomicU64,
    /// Set by CLUSTER MIGRATION CANCEL; checked before every chunk.
    pub cancelled: std::sync::atomic::AtomicBool,
    /// When the job started.
    pub started: Instant,
    finished: (Mutex<bool>, Condvar),
}

impl MigrationStatus {
    /// A new job record.
    pub fn new(job_id: u64, first: u16, last: u16, dst_id: String) -> MigrationStatus {
        MigrationStatus {
            job_id,
            first,
            last,
            dst_id,
            state: Mutex::new(JobState::Start),
            keys: AtomicU64::new(0),
            raw_bytes: AtomicU64::new(0),
            wire_bytes: AtomicU64::new(0),
            chunks: AtomicU64::new(0),
            retransmits: AtomicU64::new(0),
            chunk_size: AtomicU64::new(0),
            pause_ms: AtomicU64::new(0),
            cancelled: std::sync::atomic::AtomicBool::new(false),
            started: Instant::now(),
            finished: (Mutex::new(false), Condvar::new()),
        }
    }

    /// True while the job has not ended.
    pub fn running(&self) -> bool {
        !matches!(*self.state.lock(), JobState::Done | JobState::Failed(_))
    }

    /// Asks the job to stop; it fails with "cancelled" at its next chunk
    /// (or before the hand-off), serving the slots here again.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Fails with [`JobError::Cancelled`] once cancelled.
    pub fn check_cancelled(&self) -> Result<(), JobError> {
        if self.cancelled.load(Ordering::SeqCst) {
            return Err(JobError::Cancelled);
        }
        Ok(())
    }

    fn set_state(&self, s: JobState) {
        *self.state.lock() = s;
    }

    /// Waits until the job ends or `timeout` passes; returns the state.
    pub fn wait(&self, timeout: Option<Duration>) -> JobState {
        let (lock, cv) = &self.finished;
        let mut done = lock.lock();
        let deadline = timeout.map(|t| Instant::now() + t);
        while !*done {
            match deadline {
                Some(d) => {
                    if cv.wait_until(&mut done, d).timed_out() {
                        break;
                    }
                }
                None => cv.wait(&mut done),
            }
        }
        self.state.lock().clone()
    }

    fn finish(&self, s: JobState) {
        self.set_state(s);
        let (lock, cv) = &self.finished;
        *lock.lock() = true;
        cv.notify_all();
    }
}

fn encode_position(p: &Position) -> Vec<u8> {
    let mut out = vec![p.cf_index as u8];
    out.extend_from_slice(&(p.ns_index as u32).to_be_bytes());
    if let Some(k) = &p.after {
        out.extend_from_slice(k);
    }
    out
}

/// The link settings in force now (re-read for every chunk, so CONFIG SET
/// reaches running jobs).
fn link_settings(server: &Server) -> LinkSettings {
    let cfg = server.config.read();
    let min = (cfg.int("migrate-batch-size-min-kb").max(1) as usize) * 1024;
    LinkSettings {
        window: cfg.int("migrate-window").max(1) as usize,
        compress: cfg.get("migrate-compression") == "lz4",
        rate_limit: (cfg.int("migrate-batch-rate-limit-mb").max(0) as u64) << 20,
        min_chunk: min,
        max_chunk: ((cfg.int("migrate-batch-size-max-kb").max(1) as usize) * 1024).max(min),
    }
}

/// Runs a job to its end; updates `status` as it goes.
pub fn run(server: Arc<Server>, status: Arc<MigrationStatus>) {
    match run_inner(&server, &status) {
        Ok(()) => {
            tracing::info!(
                "migration job {} of slots {}-{} done",
                status.job_id,
                status.first,
                status.last
            );
            status.finish(JobState::Done);
        }
        Err(e) => {
            tracing::error!("migration job {} failed: {}", status.job_id, e);
            if !matches!(e, JobError::HandoffUnknown(_)) {
                abort_on_destination(&server, &status);
            }
            if let Some(cluster) = server.cluster.as_ref() {
                // The slots stay here: no longer MIGRATING (per-key path).
                let mut state = cluster.write();
                for s in status.first..=status.last {
                    if state.migrating.get(&s) == Some(&status.dst_id) {
                        state.migrating.remove(&s);
                    }
                }
            }
            status.finish(JobState::Failed(e.to_string()));
        }
    }
}

fn run_inner(server: &Server, status: &MigrationStatus) -> Result<(), JobError> {
    let Some(cluster) = server.cluster.as_ref() else {
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
    let (chunk_size, gap, mut namespaces) = {
        let cfg = server.config.read();
        let mut namespaces: Vec<Vec<u8>> = vec![Vec::new()];
        namespaces.extend(cfg.namespaces.keys().map(|n| n.as_bytes().to_vec()));
        (
            (cfg.int("migrate-batch-size-kb").max(1) as usize) * 1024,
            cfg.int("migrate-sequence-gap").max(1) as u64,
            namespaces,
        )
    };
    namespaces.dedup();
    status
        .chunk_size
        .store(chunk_size as u64, Ordering::Relaxed);

    let storage = &server.storage;
    let cf_text = Cf::DATA
        .iter()
        .map(|cf| format!("{}:{}", cf.name(), storage.cf_id(*cf)))
        .collect::<Vec<_>>()
        .join(",");
    let job = status.job_id.to_string();
    let (first, last) = (status.first.to_string(), status.last.to_string());
    let mut link = Link::open(
        &dst.host,
        dst.port,
        &[
            b"CLUSTERX",
            b"IMPORT",
            job.as_bytes(),
            first.as_bytes(),
            last.as_bytes(),
            myid.as_bytes(),
            cf_text.as_bytes(),
        ],
        chunk_size,
    )?;

    let per_key = server.config.read().get("migrate-type") == "redis-command";
    tracing::info!(
        "migration job {}: slots {}-{} to {} ({})",
        status.job_id,
        status.first,
        status.last,
        dst.addr(),
        if per_key {
            "redis-command"
        } else {
            "raw-key-value"
        }
    );
    let cutter = Cutter::new(storage, namespaces.clone(), status.first, status.last);
    let shipped = if per_key {
        by_command::copy_keys(server, status, &mut link, false)?;
        0
    } else {
        stream_batches(server, status, &mut link, &namespaces, &cutter, gap)?
    };

    // Cut-over: pause writes, wait for writes in flight, ship the rest.
    status.set_state(JobState::Cutover);
    let slots: Vec<u16> = (status.first..=status.last).collect();
    let pause_started = Instant::now();
    cluster.write().paused.extend(slots.iter().copied());
    drop(server.slot_gates.write_many(&slots));
    let drained = pause_started.elapsed();
    let mut delta_done = drained;
    let outcome = (|| -> Result<i64, JobError> {
        let settings = link_settings(server);
        if per_key {
            // Keys written meanwhile (to keys not yet moved) go now.
            by_command::copy_keys(server, status, &mut link, true)?;
        } else {
            ship_wal(
                storage,
                &cutter,
                &mut link,
                status,
                shipped,
                &settings,
                Phase::Final,
            )?;
        }
        link.drain(status, &settings)?;
        status.check_cancelled()?;
        delta_done = pause_started.elapsed();
        let version = (cluster.read().topology.version + 1).to_string();
        let reply = link
            .call(&[
                b"CLUSTERX",
                b"IMPORT-COMMIT",
                job.as_bytes(),
                version.as_bytes(),
            ])
            .map_err(|e| JobError::HandoffUnknown(e.to_string()))?;
        match reply {
            OwnedFrame::Integer(v) => Ok(v),
            OwnedFrame::Error(e) => Err(JobError::Refused(e)),
            other => Err(JobError::HandoffUnknown(format!(
                "unexpected reply {other:?}"
            ))),
        }
    })();
    let version = match outcome {
        Ok(v) => v,
        Err(JobError::HandoffUnknown(why)) => return Err(JobError::HandoffUnknown(why)),
        Err(e) => {
            // The destination did not take the slots: serve them again.
            cluster.write().paused.retain(|s| !slots.contains(s));
            return Err(e);
        }
    };
    {
        let mut state = cluster.write();
        let mut next = state.topology.clone();
        next.assign(status.first, status.last, &status.dst_id)
            .map_err(|e| JobError::Refused(e.to_string()))?;
        next.version = version;
        state
            .set_topology(next, true)
            .map_err(|e| JobError::Refused(e.to_string()))?;
        state.paused.retain(|s| !slots.contains(s));
        let _ = state.save();
    }
    let paused_for = pause_started.elapsed();
    status
        .pause_ms
        .store(paused_for.as_millis() as u64, Ordering::Relaxed);
    tracing::info!(
        "job {}: writes paused {:?} (in-flight writes drained after {:?}, last delta acknowledged after {:?}, then the hand-off)",
        status.job_id,
        paused_for,
        drained,
        delta_done
    );

    // Cleanup: the slots' data leaves this node.
    for ns in &namespaces {
        storage
            .delete_data_range(
                &keys::slot_prefix(ns, status.first),
                &keys::slot_prefix(ns, status.last + 1),
            )
            .map_err(|e| JobError::Storage(e.to_string()))?;
    }
    Ok(())
}

/// The `raw-key-value` copy: the snapshot in chunks, then WAL records
/// until the gap is below `gap`. Returns the last WAL sequence shipped.
fn stream_batches(
    server: &Server,
    status: &MigrationStatus,
    link: &mut Link,
    namespaces: &[Vec<u8>],
    cutter: &Cutter,
    gap: u64,
) -> Result<u64, JobError> {
    let storage = &server.storage;
    // Snapshot phase.
    status.set_state(JobState::Snapshot);
    let snapshot_seq = storage.db().latest_sequence_number();
    let mut reader = SnapshotReader::new(
        storage,
        namespaces.to_vec(),
        status.first,
        status.last,
        Position::default(),
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
        let position = encode_position(reader.position());
        link.send(
            status,
            &link_settings(server),
            Phase::Snapshot,
            batch.data(),
            position,
        )?;
    }
    drop(reader);

    // Incremental phase: ship WAL records until the gap is small.
    status.set_state(JobState::Incremental);
    let mut shipped = snapshot_seq;
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

/// Ships every WAL record after `from` that touches the slots; returns the
/// last sequence read.
fn ship_wal(
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
    let iter = storage
        .db()
        .get_updates_since(from)
        .map_err(|e| JobError::WalGap(e.to_string()))?;
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
        if batch.size_in_bytes() >= link.chunk_size() {
            send_wal_chunk(link, status, settings, phase, &mut batch, last)?;
        }
        if last >= latest {
            break;
        }
    }
    send_wal_chunk(link, status, settings, phase, &mut batch, last)?;
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
        full.data(),
        last.to_be_bytes().to_vec(),
    )
}

/// Tells the destination to drop a failed job's partial data (best effort:
/// a destination that cannot be reached drops it when the next job for
/// these slots starts).
fn abort_on_destination(server: &Server, status: &MigrationStatus) {
    let Some(dst) = server
        .cluster
        .as_ref()
        .and_then(|c| c.read().topology.node(&status.dst_id).cloned())
    else {
        return;
    };
    let job = status.job_id.to_string();
    let result =
        crate::cluster::peer::PeerConnection::connect(&dst.host, dst.port, Duration::from_secs(5))
            .and_then(|mut p| p.call(&[b"CLUSTERX", b"IMPORT-ABORT", job.as_bytes()]));
    if let Err(e) = result {
        tracing::warn!(
            "job {}: could not ask {} to drop the partial import: {}",
            status.job_id,
            dst.addr(),
            e
        );
    }
}
