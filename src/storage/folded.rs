//! Folding a client's pipelined writes into one `WriteBatch`.
//!
//! A pipeline of plain SETs, MSETs and INCRs from one connection becomes
//! one RocksDB write instead of one per command. Each folded key keeps its stripe lock until
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
        if !self.fold_lock(folded, lock_key) {
            return false;
        }
        self.fold_put_held(folded, cf, key, value);
        true
    }

    /// Takes the stripe of `lock_key` (a user key) into `folded`, for a
    /// read-modify-write whose result joins the batch: the read that
    /// follows sees the latest value, since no folded write of this
    /// connection covers the stripe and nobody else can write it until
    /// the batch is applied. Returns false, taking nothing, when the
    /// stripe is busy (by this batch too) or the batch is full.
    pub fn fold_lock(&self, folded: &mut FoldedWrites, lock_key: &[u8]) -> bool {
        if folded.is_full() {
            return false;
        }
        match self.locks().try_lock_owned(lock_key) {
            Some(guard) => {
                folded.guards.push(guard);
                true
            }
            None => false,
        }
    }

    /// Adds a put to `folded` whose key's stripe it already holds
    /// ([`Storage::fold_lock`]).
    pub fn fold_put_held(&self, folded: &mut FoldedWrites, cf: Cf, key: &[u8], value: &[u8]) {
        folded.batch.put_cf(self.cf(cf), key, value);
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
