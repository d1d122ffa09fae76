//! Folding a client's pipelined blind writes into one `WriteBatch`.
//!
//! A pipeline of plain SETs from one connection becomes one RocksDB write
//! instead of one per command. Each folded key keeps its stripe lock until
//! the batch is applied, so read-modify-write commands of other clients
//! still see either the old or the new value, never a lost update. The
//! connection applies the batch before any reply reaches the socket and
//! before running any command that is not folded, so replies are identical
//! to running the commands one by one.

use rocksdb::WriteBatch;

use super::locks::OwnedKeyGuard;
use super::{Cf, Storage, StorageError};

/// Most writes folded into one batch before it is applied.
const MAX_FOLDED_WRITES: usize = 256;
/// Most bytes folded into one batch before it is applied.
const MAX_FOLDED_BYTES: usize = 1 << 20;

/// Writes waiting to be applied together, with the locks of their keys.
#[derive(Default)]
pub struct FoldedWrites {
    batch: WriteBatch,
    guards: Vec<OwnedKeyGuard>,
}

impl FoldedWrites {
    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.guards.is_empty()
    }

    /// True when the batch should be applied before adding more.
    pub fn is_full(&self) -> bool {
        self.guards.len() >= MAX_FOLDED_WRITES || self.batch.size_in_bytes() >= MAX_FOLDED_BYTES
    }
}

impl Storage {
    /// Adds a put of `key` (a user key, locked by its stripe) to `folded`.
    /// Returns false, adding nothing, when the stripe is busy or the batch
    /// is full: the caller applies the batch and writes directly instead.
    pub fn fold_put(
        &self,
        folded: &mut FoldedWrites,
        lock_key: &[u8],
        cf: Cf,
        key: &[u8],
        value: &[u8],
    ) -> bool {
        if folded.is_full() {
            return false;
        }
        let Some(guard) = self.locks().try_lock_owned(lock_key) else {
            return false;
        };
        folded.batch.put_cf(self.cf(cf), key, value);
        folded.guards.push(guard);
        true
    }

    /// Applies the folded writes and releases their locks.
    pub fn apply_folded(&self, folded: &mut FoldedWrites) -> Result<(), StorageError> {
        if folded.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut folded.batch);
        let result = self.write(batch);
        folded.guards.clear();
        result
    }
}
