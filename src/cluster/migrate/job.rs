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
use thiserror::Error;

use super::by_command;
use super::frame::Phase;
use super::link::{Announced, Link, LinkSettings, Pacer};
use super::plan::Plan;
use super::record::{JobRecord, Stage};
use super::stream::Target;
use super::stream::{ship_wal, start_point, stream_batches, Start, WalHold};
use super::wal::Cutter;
use crate::cluster::peer::PeerError;
use crate::server::Server;
use crate::storage::{keys, Cf};

/// How often, and how patiently, a lost hand-off reply is followed up.
const RESOLVE_ATTEMPTS: u32 = 60;
const RESOLVE_PAUSE: Duration = Duration::from_millis(500);

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
    /// The destination already owns the slots (it committed the hand-off).
    #[error("destination already owns the slots: {0}")]
    DestinationOwns(String),
    /// A restarted job cannot continue where it stopped.
    #[error("cannot resume: {0}")]
    CannotResume(String),
    /// The hand-off reply was lost; the slots stay paused here.
    #[error(
        "hand-off outcome unknown ({0}); slots stay paused until the topology is pushed again"
    )]
    HandoffUnknown(String),
    /// The destination holds fewer chunks than it acknowledged (it
    /// restarted before ingesting them, or fell back to the write path):
    /// the job continues from the checkpoint it reported.
    #[error("the destination lost acknowledged chunks; it holds up to chunk {}", .0.applied)]
    Rewind(Announced),
    /// Another of the job's parallel streams failed (its error is the
    /// job's).
    #[error("another stream of the job failed")]
    StreamFailed,
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
    /// Snapshot progress in millionths (0 until known).
    pub progress_ppm: AtomicU64,
    /// The last phase the job entered (kept when it ends).
    pub phase: Mutex<&'static str>,
    /// When the snapshot phase began.
    pub snapshot_started: Mutex<Option<Instant>>,
    /// Set by CLUSTER MIGRATION CANCEL; checked before every chunk.
    pub cancelled: std::sync::atomic::AtomicBool,
    /// Set when the job ended with its hand-off outcome unknown and its
    /// slots paused; cleared when a topology push settles it.
    pub handoff_unknown: std::sync::atomic::AtomicBool,
    /// When the job started.
    pub started: Instant,
    /// How its snapshot is split into parallel streams.
    pub plan: Mutex<Plan>,
    /// Bytes of chunks sent and not yet acknowledged, over all streams
    /// (at most streams x `migrate-window` x the largest chunk).
    pub inflight_bytes: AtomicU64,
    /// Snapshot progress of each stream: `(done, total)` estimated bytes.
    pub stream_progress: Mutex<Vec<(u64, u64)>>,
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
            progress_ppm: AtomicU64::new(0),
            phase: Mutex::new("start"),
            snapshot_started: Mutex::new(None),
            cancelled: std::sync::atomic::AtomicBool::new(false),
            handoff_unknown: std::sync::atomic::AtomicBool::new(false),
            started: Instant::now(),
            plan: Mutex::new(Plan::single()),
            inflight_bytes: AtomicU64::new(0),
            stream_progress: Mutex::new(Vec::new()),
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

    pub(super) fn set_state(&self, s: JobState) {
        if !matches!(s, JobState::Done | JobState::Failed(_)) {
            *self.phase.lock() = s.name();
        }
        if s == JobState::Snapshot {
            *self.snapshot_started.lock() = Some(Instant::now());
        }
        *self.state.lock() = s;
    }

    /// Estimated seconds left: from the snapshot's progress while copying
    /// it, 0 after it, -1 while unknown.
    pub fn eta_seconds(&self) -> i64 {
        match *self.state.lock() {
            JobState::Snapshot => {}
            JobState::Start => return -1,
            _ => return 0,
        }
        let ppm = self.progress_ppm.load(Ordering::Relaxed);
        let Some(started) = *self.snapshot_started.lock() else {
            return -1;
        };
        if ppm == 0 {
            return -1;
        }
        let elapsed = started.elapsed().as_secs_f64();
        (elapsed * (1_000_000 - ppm.min(1_000_000)) as f64 / ppm as f64).round() as i64
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
        // Its links are gone, with what they held.
        self.inflight_bytes.store(0, Ordering::Relaxed);
        let (lock, cv) = &self.finished;
        *lock.lock() = true;
        cv.notify_all();
    }
}

/// The link settings in force now (re-read for every chunk, so CONFIG SET
/// reaches running jobs).
pub(super) fn link_settings(server: &Server) -> LinkSettings {
    let cfg = server.config.read();
    let min = (cfg.int("migrate-batch-size-min-kb").max(1) as usize) * 1024;
    LinkSettings {
        window: cfg.int("migrate-window").max(1) as usize,
        compress: cfg.get("migrate-compression") == "lz4",
        rate_limit: (cfg.int("migrate-batch-rate-limit-mb").max(0) as u64) << 20,
        min_chunk: min,
        max_chunk: ((cfg.int("migrate-batch-size-max-kb").max(1) as usize) * 1024).max(min),
        resume: cfg.bool("migrate-checkpoint"),
    }
}

/// Starts a job on its own thread. `resume` is the persisted record of a
/// job this node was running before it restarted.
pub fn spawn(
    server: Arc<Server>,
    status: Arc<MigrationStatus>,
    resume: Option<JobRecord>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("migrate-{}", status.job_id))
        .spawn(move || run(server, status, resume))
        .map(|_| ())
}

/// Picks up the jobs this node was running when it stopped (called at
/// start-up, before clients are accepted). A job that had begun its
/// cut-over starts with its slots paused: the destination may already
/// own them, and the job finds out before anyone writes here.
pub fn resume_all(server: &Arc<Server>) {
    let Some(cluster) = server.cluster.as_ref() else {
        return;
    };
    let records = match JobRecord::load_all(&server.storage) {
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
            by_command::restore_marks(server, &record);
        }
        let status = Arc::new(MigrationStatus::new(
            record.job_id,
            record.first,
            record.last,
            record.dst_id.clone(),
        ));
        server.migrations.lock().push(status.clone());
        if let Err(e) = spawn(server.clone(), status.clone(), Some(record)) {
            status.finish(JobState::Failed(format!("cannot start its thread: {e}")));
        }
    }
}

/// Runs a job to its end; updates `status` as it goes.
pub fn run(server: Arc<Server>, status: Arc<MigrationStatus>, resume: Option<JobRecord>) {
    if resume.as_ref().is_some_and(|r| r.per_key) {
        by_command::wait_for_destination(&server, &status);
    }
    let mut result = run_inner(&server, &status, resume.as_ref());
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
        abort_on_destination(&server, &status);
        unpause(&server, &status);
        result = run_inner(&server, &status, None);
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
        Err(e) if by_command::keeps_state_on_failure(&server, &status) => {
            // Keys may be on the destination already: the slots stay
            // MIGRATING (unpaused unless the hand-off is in doubt) and the
            // record stays, so a restart resumes the job.
            tracing::error!(
                "per-key migration job {} stopped: {}; its slots stay MIGRATING and a restart resumes it",
                status.job_id,
                e
            );
            if !matches!(e, JobError::HandoffUnknown(_)) {
                unpause(&server, &status);
            }
            status.finish(JobState::Failed(e.to_string()));
        }
        Err(e) => {
            tracing::error!("migration job {} failed: {}", status.job_id, e);
            if !matches!(e, JobError::HandoffUnknown(_)) {
                abort_on_destination(&server, &status);
                unpause(&server, &status);
                if let Err(e) = JobRecord::delete(&server.storage, status.job_id) {
                    tracing::error!("job {}: cannot drop its record: {}", status.job_id, e);
                }
            }
            if let Some(cluster) = server.cluster.as_ref() {
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

/// A topology push (SETNODES with a higher version) settles every job
/// whose hand-off outcome stayed unknown: the pushed owner wins. Slots it
/// gives to this node are served here again; slots it gives to another
/// node have their data dropped here. Either way the pause ends and the
/// job's record is dropped, so a restart does not take the job up again.
/// Jobs still running are left alone.
pub fn settle_after_push(server: &Server) {
    let unknown: Vec<Arc<MigrationStatus>> = {
        let jobs = server.migrations.lock();
        jobs.iter()
            .filter(|j| !j.running() && j.handoff_unknown.swap(false, Ordering::SeqCst))
            .cloned()
            .collect()
    };
    for j in unknown {
        settle_handoff(server, &j);
    }
}

/// Settles one job whose hand-off outcome is unknown by the topology in
/// force (see [`settle_after_push`]).
fn settle_handoff(server: &Server, status: &MigrationStatus) {
    let Some(cluster) = server.cluster.as_ref() else {
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
        for ns in server.namespace_prefixes() {
            if let Err(e) = server.storage.delete_data_range(
                &keys::slot_prefix(&ns, *slot),
                &keys::slot_prefix(&ns, *slot + 1),
            ) {
                tracing::error!("job {}: cannot drop slot {}: {}", status.job_id, slot, e);
            }
        }
    }
    if let Err(e) = JobRecord::delete(&server.storage, status.job_id) {
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
fn unpause(server: &Server, status: &MigrationStatus) {
    if let Some(cluster) = server.cluster.as_ref() {
        cluster
            .write()
            .paused
            .retain(|s| *s < status.first || *s > status.last);
    }
}

fn run_inner(
    server: &Server,
    status: &MigrationStatus,
    resume: Option<&JobRecord>,
) -> Result<(), JobError> {
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
    let (chunk_size, gap) = {
        let cfg = server.config.read();
        (
            (cfg.int("migrate-batch-size-kb").max(1) as usize) * 1024,
            cfg.int("migrate-sequence-gap").max(1) as u64,
        )
    };
    // Sorted, so a resumed job finds its namespace where it left it.
    let namespaces = server.namespace_prefixes();
    if let Some(record) = resume {
        // Its streams read the ranges they read before the restart.
        *status.plan.lock() = record.plan.clone();
    }
    status
        .chunk_size
        .store(chunk_size as u64, Ordering::Relaxed);

    let storage = &server.storage;
    let import_cmd = import_command(server, status, &myid);
    let import_args: Vec<&[u8]> = import_cmd.iter().map(|a| a.as_slice()).collect();
    let target = Target {
        host: dst.host.clone(),
        port: dst.port,
        import_cmd: import_cmd.clone(),
        password: server.peer_password(),
        pacer: Pacer::shared(),
        chunk_size,
    };
    let open = || target.open(0);
    let mut opened = open();
    // A resumed job waits for its destination as patiently as a running
    // job waits for a broken link: both nodes may be coming back from the
    // same outage, and a job that fails now cannot drop the destination's
    // partial copy either. One resumed in its cut-over does not know
    // whether the destination took the slots: failing would serve them
    // here again while the destination may own them, so they stay paused
    // until it answers.
    if let Some(record) = resume {
        let mut attempts = 1;
        while let Err(JobError::Link(e)) = &opened {
            if record.stage != Stage::Cutover {
                status.check_cancelled()?;
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
            opened = open();
        }
    }
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
            return finish_on_source(server, status, &namespaces);
        }
        other => other?,
    };
    if resume.is_some_and(|r| !r.per_key) && !link_settings(server).resume {
        return Err(JobError::CannotResume("migrate-checkpoint is no".into()));
    }

    let per_key = match resume {
        Some(record) => record.per_key,
        None => server.config.read().get("migrate-type") == "redis-command",
    };
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
    let cutter = Cutter::new(storage, namespaces.clone(), status.first, status.last);
    let _wal_hold = if per_key {
        None
    } else {
        Some(WalHold::take(storage)?)
    };
    let (snapshot_seq, shipped) = if per_key {
        by_command::copy_keys(server, status, &mut link, false)?;
        (0, 0)
    } else {
        let start = match resume {
            None => Start::Fresh,
            Some(record) => start_point(record, &announced, &namespaces)?,
        };
        stream_batches(
            server,
            status,
            &mut link,
            &target,
            &namespaces,
            &cutter,
            gap,
            start,
        )?
    };

    // Cut-over: pause writes, wait for writes in flight, ship the rest.
    // Every chunk so far acknowledged before the pause, so the pause only
    // waits for the last delta (and a restart during the cut-over resumes
    // from the end of the catch-up, not from an older checkpoint).
    link.drain(status, &link_settings(server))?;
    status.set_state(JobState::Cutover);
    if per_key {
        by_command::record(status, Stage::Cutover)
    } else {
        record_of(status, snapshot_seq, Stage::Cutover)
    }
    .save(storage)
    .map_err(|e| JobError::Storage(e.to_string()))?;
    let slots: Vec<u16> = (status.first..=status.last).collect();
    let pause_started = Instant::now();
    cluster.write().paused.extend(slots.iter().copied());
    drop(server.slot_gates.write_many(&slots));
    let drained = pause_started.elapsed();
    let mut delta_read = drained;
    let mut delta_done = drained;
    let job = status.job_id.to_string();
    let outcome = (|| -> Result<(), JobError> {
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
        delta_read = pause_started.elapsed();
        link.drain(status, &settings)?;
        status.check_cancelled()?;
        delta_done = pause_started.elapsed();
        commit_on_destination(&mut link, &job)
    })();
    match outcome {
        Ok(()) => {}
        Err(JobError::HandoffUnknown(why)) => {
            tracing::warn!(
                "job {}: hand-off reply lost ({}); asking the destination",
                status.job_id,
                why
            );
            resolve_handoff(server, status, &dst, &import_args, link.last_sent())?
        }
        Err(e) => {
            // The destination did not take the slots: serve them again.
            unpause(server, status);
            return Err(e);
        }
    }
    let paused_for = pause_started.elapsed();
    finish_on_source(server, status, &namespaces)?;
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

/// The CLUSTERX IMPORT command that announces (or re-announces) the job.
fn import_command(server: &Server, status: &MigrationStatus, myid: &str) -> Vec<Vec<u8>> {
    let cf_text = Cf::DATA
        .iter()
        .map(|cf| format!("{}:{}", cf.name(), server.storage.cf_id(*cf)))
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

pub(super) fn record_of(status: &MigrationStatus, snapshot_seq: u64, stage: Stage) -> JobRecord {
    JobRecord {
        job_id: status.job_id,
        first: status.first,
        last: status.last,
        dst_id: status.dst_id.clone(),
        snapshot_seq,
        stage,
        per_key: false,
        plan: status.plan.lock().clone(),
    }
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
fn resolve_handoff(
    server: &Server,
    status: &MigrationStatus,
    dst: &crate::cluster::topology::Node,
    import_args: &[&[u8]],
    last_sent: u64,
) -> Result<(), JobError> {
    let mut last_err = String::new();
    for _ in 0..RESOLVE_ATTEMPTS {
        std::thread::sleep(RESOLVE_PAUSE);
        match Link::open(
            &dst.host,
            dst.port,
            import_args,
            0,
            Pacer::shared(),
            1024,
            server.peer_password(),
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
    server: &Server,
    dst: &crate::cluster::topology::Node,
    args: &[&[u8]],
) -> Result<OwnedFrame, PeerError> {
    crate::cluster::peer::PeerConnection::connect_auth(
        &dst.host,
        dst.port,
        Duration::from_secs(5),
        server.peer_password().as_deref(),
    )?
    .call(args)
}

/// Phase two of the hand-off: this node gives the slots to the
/// destination (a local change recorded in nodes.conf; the topology
/// version stays where the controller put it), serves them no more,
/// drops their data and forgets the job.
fn finish_on_source(
    server: &Server,
    status: &MigrationStatus,
    namespaces: &[Vec<u8>],
) -> Result<(), JobError> {
    let Some(cluster) = server.cluster.as_ref() else {
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
    let storage = &server.storage;
    for ns in namespaces {
        storage
            .delete_data_range(
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
fn abort_on_destination(server: &Server, status: &MigrationStatus) {
    let Some(dst) = server
        .cluster
        .as_ref()
        .and_then(|c| c.read().topology.node(&status.dst_id).cloned())
    else {
        return;
    };
    let job = status.job_id.to_string();
    let result = call_destination(
        server,
        &dst,
        &[b"CLUSTERX", b"IMPORT-ABORT", job.as_bytes()],
    );
    if let Err(e) = result {
        tracing::warn!(
            "job {}: could not ask {} to drop the partial import: {}",
            status.job_id,
            dst.addr(),
            e
        );
    }
}
