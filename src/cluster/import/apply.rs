//! Destination side: applies a checked chunk together with the job's
//! checkpoint in one atomic write, so a chunk is applied exactly once even
//! when the source sends it again after a broken link or a restart.

use thiserror::Error;

use super::validate::{rebuild, CfMap, ChunkRejected, SlotScope};
use crate::storage::{Cf, Storage, StorageError};

/// Prefix of checkpoint keys in the internal column family.
const CHECKPOINT_PREFIX: &[u8] = b"migrate/checkpoint/";

/// How far a job got on this node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// Sequence of the last chunk applied.
    pub sequence: u64,
    /// The source's position after that chunk (opaque to the destination).
    pub source_position: Vec<u8>,
    /// The source's WAL sequence the snapshot was taken at.
    pub source_wal_seq: u64,
}

impl Checkpoint {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + self.source_position.len());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.source_wal_seq.to_be_bytes());
        out.extend_from_slice(&(self.source_position.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.source_position);
        out
    }

    fn decode(raw: &[u8]) -> Option<Checkpoint> {
        let sequence = u64::from_be_bytes(raw.get(0..8)?.try_into().ok()?);
        let source_wal_seq = u64::from_be_bytes(raw.get(8..16)?.try_into().ok()?);
        let len = u32::from_be_bytes(raw.get(16..20)?.try_into().ok()?) as usize;
        let source_position = raw.get(20..20 + len)?.to_vec();
        Some(Checkpoint {
            sequence,
            source_position,
            source_wal_seq,
        })
    }
}

/// Where a stream's checkpoint lives: the job's key for stream 0 (the
/// only one of a job without parallel streams), with the stream's number
/// after it for the others.
fn checkpoint_key(job_id: u64, stream: u8) -> Vec<u8> {
    let mut k = CHECKPOINT_PREFIX.to_vec();
    k.extend_from_slice(&job_id.to_be_bytes());
    if stream > 0 {
        k.push(stream);
    }
    k
}

/// Reads the checkpoint of one stream of a job, if it has one.
pub fn load_checkpoint(
    storage: &Storage,
    job_id: u64,
    stream: u8,
) -> Result<Option<Checkpoint>, StorageError> {
    Ok(storage
        .get(Cf::Internal, &checkpoint_key(job_id, stream))?
        .and_then(|raw| Checkpoint::decode(&raw)))
}

/// Records that a job was announced, before any chunk of it: an empty
/// checkpoint. A later announcement of the same job (a resumed source, a
/// re-established link, the per-key path after a restart) finds it and
/// keeps what arrived; one that finds none is a new job, and whatever
/// this node holds in its slots is a leftover to clear first.
pub fn open_checkpoint(storage: &Storage, job_id: u64, stream: u8) -> Result<(), StorageError> {
    storage.put(
        Cf::Internal,
        &checkpoint_key(job_id, stream),
        &Checkpoint::default().encode(),
    )
}

/// Stores a job's checkpoint on its own (after an SST ingest; chunks
/// applied through the write path store it in their batch).
pub fn store_checkpoint(
    storage: &Storage,
    job_id: u64,
    stream: u8,
    checkpoint: &Checkpoint,
) -> Result<(), StorageError> {
    storage.put(
        Cf::Internal,
        &checkpoint_key(job_id, stream),
        &checkpoint.encode(),
    )
}

/// Forgets a job's checkpoints, of every stream (job done, failed or
/// cancelled).
pub fn clear_checkpoint(storage: &Storage, job_id: u64) -> Result<(), StorageError> {
    let mut end = CHECKPOINT_PREFIX.to_vec();
    end.extend_from_slice(&job_id.saturating_add(1).to_be_bytes());
    storage.delete_range(Cf::Internal, &checkpoint_key(job_id, 0), &end)?;
    storage.delete(Cf::Internal, &checkpoint_key(job_id, 0))
}

/// Why a chunk was not applied.
#[derive(Debug, Error)]
pub enum ApplyError {
    /// The chunk broke a rule; nothing of it was applied.
    #[error("chunk refused: {0}")]
    Rejected(#[from] ChunkRejected),
    /// A gap in the sequence: a chunk went missing.
    #[error("chunk {got} arrived but {expected} was expected")]
    OutOfOrder {
        /// The next sequence this node can apply.
        expected: u64,
        /// The sequence received.
        got: u64,
    },
    /// The engine failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What happened to a chunk.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// Written, with this many records.
    Written(usize),
    /// Already applied earlier; acknowledged again, not rewritten.
    Duplicate,
}

/// A chunk as the importer receives it, after its frame was checked.
pub struct IncomingChunk<'a> {
    /// The job.
    pub job_id: u64,
    /// Which of the job's streams sent it.
    pub stream: u8,
    /// Its sequence.
    pub sequence: u64,
    /// The raw `WriteBatch` bytes.
    pub raw: &'a [u8],
    /// The source's position after this chunk.
    pub source_position: &'a [u8],
    /// The source's snapshot WAL sequence.
    pub source_wal_seq: u64,
}

/// Whether chunk `sequence` comes next after `done` (true), was already
/// taken (false), or skips one (an error: chunks apply in order).
pub fn is_next(done: u64, sequence: u64) -> Result<bool, ApplyError> {
    if sequence <= done {
        return Ok(false);
    }
    if sequence != done + 1 {
        return Err(ApplyError::OutOfOrder {
            expected: done + 1,
            got: sequence,
        });
    }
    Ok(true)
}

/// Checks and applies one chunk with its checkpoint, atomically.
pub fn apply_chunk(
    storage: &Storage,
    chunk: &IncomingChunk<'_>,
    cf_map: &CfMap,
    scope: SlotScope,
) -> Result<Applied, ApplyError> {
    let done = load_checkpoint(storage, chunk.job_id, chunk.stream)?
        .map(|c| c.sequence)
        .unwrap_or(0);
    if !is_next(done, chunk.sequence)? {
        return Ok(Applied::Duplicate);
    }
    let (mut batch, records) = rebuild(storage, chunk.raw, cf_map, scope)?;
    let checkpoint = Checkpoint {
        sequence: chunk.sequence,
        source_position: chunk.source_position.to_vec(),
        source_wal_seq: chunk.source_wal_seq,
    };
    batch.put_cf(
        storage.cf(Cf::Internal),
        checkpoint_key(chunk.job_id, chunk.stream),
        checkpoint.encode(),
    );
    storage.write(batch)?;
    Ok(Applied::Written(records))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::keys;
    use rocksdb::WriteBatch;

    #[test]
    fn applied_once_in_order_and_nothing_of_a_bad_chunk() {
        let (_dir, s) = Storage::open_temp();
        let map = CfMap::from_names(Cf::ALL.iter().map(|cf| (cf.name(), s.cf_id(*cf))));
        let scope = SlotScope { first: 7, last: 7 };
        let key = keys::encode_in_slot(b"", 7, b"k");
        let mut b = WriteBatch::default();
        b.put_cf(s.cf(Cf::Metadata), &key, b"v1");
        let chunk = |seq, raw| IncomingChunk {
            job_id: 42,
            stream: 0,
            sequence: seq,
            raw,
            source_position: b"pos",
            source_wal_seq: 9,
        };
        assert_eq!(
            apply_chunk(&s, &chunk(1, b.data()), &map, scope).unwrap(),
            Applied::Written(1)
        );
        assert_eq!(
            apply_chunk(&s, &chunk(1, b.data()), &map, scope).unwrap(),
            Applied::Duplicate
        );
        assert!(matches!(
            apply_chunk(&s, &chunk(3, b.data()), &map, scope),
            Err(ApplyError::OutOfOrder {
                expected: 2,
                got: 3
            })
        ));
        let cp = load_checkpoint(&s, 42, 0).unwrap().unwrap();
        assert_eq!(
            (
                cp.sequence,
                cp.source_position.as_slice(),
                cp.source_wal_seq
            ),
            (1, &b"pos"[..], 9)
        );

        let mut bad = WriteBatch::default();
        let other = keys::encode_in_slot(b"", 7, b"k2");
        bad.put_cf(s.cf(Cf::Metadata), &other, b"v");
        bad.put_cf(s.cf(Cf::Metadata), keys::encode_in_slot(b"", 8, b"x"), b"v");
        assert!(apply_chunk(&s, &chunk(2, bad.data()), &map, scope).is_err());
        assert!(
            s.get(Cf::Metadata, &other).unwrap().is_none(),
            "nothing of a refused chunk"
        );
        assert_eq!(load_checkpoint(&s, 42, 0).unwrap().unwrap().sequence, 1);
        open_checkpoint(&s, 42, 3).unwrap();
        open_checkpoint(&s, 43, 0).unwrap();
        clear_checkpoint(&s, 42).unwrap();
        assert!(load_checkpoint(&s, 42, 0).unwrap().is_none());
        assert!(
            load_checkpoint(&s, 42, 3).unwrap().is_none(),
            "every stream's"
        );
        assert!(
            load_checkpoint(&s, 43, 0).unwrap().is_some(),
            "not the next job's"
        );
    }
}
