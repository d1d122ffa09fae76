//! Destination side: where a checked chunk goes. Snapshot chunks of an
//! `sst` import are appended to SST files and ingested every
//! `migrate-import-sst-mb`; every other chunk (the WAL phase, or a job on
//! the write path) is applied with its checkpoint in one write, after any
//! pending SST files were ingested (WAL records must land on top of the
//! snapshot, and an ingest lands on top of everything before it).
//!
//! An ingest the database refuses (keys already in the range) or an SST
//! failure turns the job into a `write` job. What it had acknowledged but
//! not ingested is gone, so the chunk gets [`ReceiveError::Resend`]: the
//! source announces the job again, learns the last checkpoint and sends
//! the snapshot again from there.

use thiserror::Error;

use super::apply::{apply_chunk, load_checkpoint, Applied, ApplyError, IncomingChunk};
use super::sst::{SstError, SstImport};
use super::{memory, ImportJob, ImportMode, ImportRegistry};
use crate::storage::Storage;

/// The settings a chunk is received under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `migrate-import-flush-mb` in bytes (write path).
    pub flush_bytes: u64,
    /// `migrate-import-sst-mb` in bytes (SST files ingested at this size).
    pub sst_bytes: u64,
}

/// Why a chunk was not taken.
#[derive(Debug, Error)]
pub enum ReceiveError {
    /// Refused, out of order or a storage failure on the write path.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The job fell back to the write path and lost chunks it had
    /// acknowledged: the source must send again from the checkpoint.
    #[error("{0}")]
    Resend(String),
}

/// Takes one checked chunk of `job`; `snapshot` tells its phase.
pub fn receive(
    registry: &ImportRegistry,
    storage: &Storage,
    job: &ImportJob,
    snapshot: bool,
    chunk: &IncomingChunk<'_>,
    limits: Limits,
) -> Result<Applied, ReceiveError> {
    if snapshot && job.mode == ImportMode::Sst {
        return receive_into_files(registry, storage, job, chunk, limits);
    }
    seal(registry, storage, chunk.job_id, chunk.stream)?;
    memory::wait_for_flushes(storage, limits.flush_bytes).map_err(ApplyError::from)?;
    let applied = apply_chunk(storage, chunk, &job.cf_map, job.scope)?;
    if applied != Applied::Duplicate {
        memory::note_imported(
            registry,
            storage,
            chunk.raw.len() as u64,
            limits.flush_bytes,
        )
        .map_err(ApplyError::from)?;
    }
    Ok(applied)
}

fn receive_into_files(
    registry: &ImportRegistry,
    storage: &Storage,
    job: &ImportJob,
    chunk: &IncomingChunk<'_>,
    limits: Limits,
) -> Result<Applied, ReceiveError> {
    let id = (chunk.job_id, chunk.stream);
    let mut ssts = registry.ssts();
    // Not the entry API: a failed start must release the map's lock
    // before falling back, which takes it again.
    #[allow(clippy::map_entry)]
    if !ssts.contains_key(&id) {
        let durable = load_checkpoint(storage, chunk.job_id, chunk.stream)
            .map_err(ApplyError::from)?
            .map(|c| c.sequence)
            .unwrap_or(0);
        match SstImport::new(storage, chunk.job_id, chunk.stream, job.scope, durable) {
            Ok(imp) => {
                ssts.insert(id, imp);
            }
            Err(e) => {
                drop(ssts);
                return Err(fall_back(registry, chunk.job_id, e));
            }
        }
    }
    let Some(imp) = ssts.get_mut(&id) else {
        unreachable!("inserted above");
    };
    if !super::apply::is_next(imp.received(), chunk.sequence)? {
        return Ok(Applied::Duplicate);
    }
    let records = match imp.append(
        storage,
        chunk.sequence,
        chunk.raw,
        chunk.source_position,
        &job.cf_map,
    ) {
        Ok(n) => n,
        Err(SstError::Rejected(why)) => return Err(ApplyError::Rejected(why).into()),
        Err(e) => {
            ssts.remove(&id);
            drop(ssts);
            return Err(fall_back(registry, chunk.job_id, e));
        }
    };
    if imp.pending_bytes() >= limits.sst_bytes {
        drop(ssts);
        seal(registry, storage, chunk.job_id, chunk.stream)?;
    }
    Ok(Applied::Written(records))
}

/// Ingests what a stream of a job holds in SST files and stores its
/// checkpoint (nothing waiting: nothing to do).
pub fn seal(
    registry: &ImportRegistry,
    storage: &Storage,
    job_id: u64,
    stream: u8,
) -> Result<(), ReceiveError> {
    let Some(mut imp) = registry.ssts().remove(&(job_id, stream)) else {
        return Ok(());
    };
    let sealed = memory::off_worker(|| imp.seal(storage));
    drop(imp);
    let files = sealed.map_err(|e| fall_back(registry, job_id, e))?;
    registry.count_ingest(job_id, files as u64);
    Ok(())
}

/// [`seal`] for every stream of a job.
pub fn seal_all(
    registry: &ImportRegistry,
    storage: &Storage,
    job_id: u64,
) -> Result<(), ReceiveError> {
    let streams: Vec<u8> = registry
        .ssts()
        .keys()
        .filter(|(job, _)| *job == job_id)
        .map(|(_, stream)| *stream)
        .collect();
    for stream in streams {
        seal(registry, storage, job_id, stream)?;
    }
    Ok(())
}

/// Turns a job into a `write` job after an SST failure: the files its
/// streams hold are dropped (each stream then hears it must resend).
fn fall_back(registry: &ImportRegistry, job_id: u64, why: SstError) -> ReceiveError {
    registry.set_mode(job_id, ImportMode::Write);
    registry.ssts().retain(|(job, _), _| *job != job_id);
    tracing::warn!(
        "import job {}: SST import refused ({}); falling back to the write path from the last checkpoint",
        job_id,
        why
    );
    ReceiveError::Resend(why.to_string())
}
