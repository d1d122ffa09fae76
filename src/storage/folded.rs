//! Folding a client's pipelined writes into one `WriteBatch`.
//!
//! A pipeline of plain SETs, MSETs and INCRs from one connection becomes
//! one RocksDB write instead of one per command. Each folded key keeps its stripe lock until
//! the batch is applied, so read-modify-write commands of other clients
//! still see either the old or the new value, never a lost update. The
//! connection applies the batch before any reply reaches the socket and
//! before running any command that is not folded, so replies are identical
//! to running the commands one by one.
//!
//! The puts wait in an arena and go into the batch sorted by key (a key
//! appears once: its stripe can be taken only once), so RocksDB keeps its
//! memtable insert position from one key to the next instead of searching
//! the skip list from the top for each; and since every folded key is
//! locked, the metadata cache is written through rather than invalidated.

use std::ops::Range;

use rocksdb::WriteBatch;

use super::locks::OwnedKeyGuard;
use super::{Cf, Storage, StorageError};

/// Most writes folded into one batch before it is applied.
const MAX_FOLDED_WRITES: usize = 256;
/// Most bytes folded into one batch before it is applied.
const MAX_FOLDED_BYTES: usize = 1 << 20;

/// Arena bytes a connection keeps between pipelines.
const KEPT_ARENA_BYTES: usize = 8 << 10;

/// Writes waiting to be applied together, with the locks of their keys.
#[derive(Default)]
pub struct FoldedWrites {
    /// Keys and values of `puts`, back to back.
    arena: Vec<u8>,
    puts: Vec<FoldedPut>,
    guards: Vec<OwnedKeyGuard>,
}

/// One put, its key and value in the arena.
struct FoldedPut {
    cf: Cf,
    key: Range<usize>,
    value: Range<usize>,
}

impl FoldedWrites {
    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.guards.is_empty()
    }

    /// True when the batch should be applied before adding more.
    pub fn is_full(&self) -> bool {
        self.guards.len() >= MAX_FOLDED_WRITES || self.arena.len() >= MAX_FOLDED_BYTES
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
        let start = folded.arena.len();
        folded.arena.extend_from_slice(key);
        let mid = folded.arena.len();
        folded.arena.extend_from_slice(value);
        folded.puts.push(FoldedPut {
            cf,
            key: start..mid,
            value: mid..folded.arena.len(),
        });
    }

    /// Applies the folded writes and releases their locks.
    pub fn apply_folded(&self, folded: &mut FoldedWrites) -> Result<(), StorageError> {
        if folded.is_empty() {
            return Ok(());
        }
        let arena = &folded.arena;
        folded.puts.sort_unstable_by(|a, b| {
            (a.cf as u8, &arena[a.key.clone()]).cmp(&(b.cf as u8, &arena[b.key.clone()]))
        });
        let mut batch = WriteBatch::with_capacity_bytes(arena.len() + 24 * folded.puts.len() + 12);
        for p in &folded.puts {
            batch.put_cf(
                self.cf(p.cf),
                &arena[p.key.clone()],
                &arena[p.value.clone()],
            );
        }
        let cache = self.meta_cache();
        let write_through = cache.enabled();
        let before = cache.epoch();
        let result = self.write_uncached(batch, true);
        if write_through {
            for p in folded.puts.iter().filter(|p| p.cf == Cf::Metadata) {
                let key = &arena[p.key.clone()];
                match result {
                    Ok(()) => cache.written(key, Some(&arena[p.value.clone()]), before),
                    Err(_) => cache.invalidate(key),
                }
            }
        }
        folded.puts.clear();
        folded.arena.clear();
        // An idle connection keeps only a small arena.
        folded.arena.shrink_to(KEPT_ARENA_BYTES);
        folded.guards.clear();
        result
    }
}
