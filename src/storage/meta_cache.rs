//! An exact in-process cache of metadata records for point reads.
//!
//! Every command starts by reading its key's metadata record, and with the
//! hot set in RocksDB's memtable that lookup is a skip-list search: about
//! half of a GET's CPU. This cache answers it with one hash probe.
//!
//! It is exact, not "eventually" right: every write to the metadata column
//! family goes through [`super::Storage::write`] or [`super::Storage::ingest`],
//! which invalidate the keys they wrote (or everything, for range deletes,
//! ingests and batches that cannot be read) after RocksDB applied them.
//! A reader that missed fills the entry only if no invalidation reached
//! its shard since before it read RocksDB (each shard counts its
//! invalidations), so a value read before a write can never be stored
//! after that write's invalidation. Writers of a key hold its lock until
//! the invalidation is done, so read-modify-write commands always see the
//! latest value; a lock-free reader racing a write sees the value before
//! or after it, as with RocksDB alone. Expired records stay in the cache
//! as they are in RocksDB: readers check the expire time either way.
//!
//! Memory is bounded by `metadata-cache-mb` (0 turns the cache off):
//! each shard holds at most its share and drops about a quarter of its
//! entries when full. Records over [`MAX_ENTRY`] bytes are not cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::util::fnv::{self, FnvBuild};

/// Number of shards; a power of two.
const SHARDS: usize = 64;
/// Largest record (key plus value) kept.
pub const MAX_ENTRY: usize = 4096;
/// Bytes an entry costs beyond its key and value (map slot, boxes).
const ENTRY_OVERHEAD: usize = 64;

/// What a lookup found.
pub enum Lookup {
    /// The record as RocksDB holds it (`None`: no record).
    Hit(Option<Vec<u8>>),
    /// Not cached: read RocksDB, then offer the result with
    /// [`MetaCache::fill`] and this ticket.
    Miss(Ticket),
}

/// Proof of when a reader missed, so a fill can tell whether an
/// invalidation came in between.
pub struct Ticket {
    shard: usize,
    invalidations: u64,
}

/// Cached records by key; `None` records that the key has none.
type Entries = HashMap<Box<[u8]>, Option<Box<[u8]>>, FnvBuild>;

#[derive(Default)]
struct Shard {
    entries: Entries,
    bytes: usize,
    invalidations: u64,
    evict_turn: u32,
}

impl Shard {
    fn remove(&mut self, key: &[u8]) {
        if let Some(v) = self.entries.remove(key) {
            self.bytes -= cost(key, v.as_deref());
        }
    }

    /// Drops about a quarter of the entries.
    fn shed(&mut self) {
        let mut dropped = 0;
        let mut turn = self.evict_turn;
        self.entries.retain(|k, v| {
            turn = turn.wrapping_add(1);
            let keep = !turn.is_multiple_of(4);
            if !keep {
                dropped += cost(k, v.as_deref());
            }
            keep
        });
        self.evict_turn = turn;
        self.bytes -= dropped;
    }
}

fn cost(key: &[u8], value: Option<&[u8]>) -> usize {
    key.len() + value.map_or(0, <[u8]>::len) + ENTRY_OVERHEAD
}

/// The cache; see the module documentation.
pub struct MetaCache {
    shards: Box<[Mutex<Shard>]>,
    shard_capacity: AtomicUsize,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Hit and miss counts, for INFO.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheCounts {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that read RocksDB.
    pub misses: u64,
    /// Bytes held now (keys, values and overhead).
    pub bytes: u64,
}

impl MetaCache {
    /// A cache of at most `capacity` bytes (0: off).
    pub fn new(capacity: usize) -> MetaCache {
        MetaCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_capacity: AtomicUsize::new(capacity / SHARDS),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Changes the bound; a smaller one empties the cache (0 turns it off).
    pub fn set_capacity(&self, capacity: usize) {
        let per_shard = capacity / SHARDS;
        let old = self.shard_capacity.swap(per_shard, Ordering::Relaxed);
        if per_shard < old {
            self.clear();
        }
    }

    /// False when `metadata-cache-mb` is 0.
    pub fn enabled(&self) -> bool {
        self.shard_capacity.load(Ordering::Relaxed) > 0
    }

    fn shard_of(key: &[u8]) -> usize {
        (fnv::hash(key) as usize) & (SHARDS - 1)
    }

    /// Looks `key` up; on a miss the caller reads RocksDB and calls
    /// [`MetaCache::fill`].
    pub fn lookup(&self, key: &[u8]) -> Lookup {
        let shard = Self::shard_of(key);
        let s = self.shards[shard].lock();
        if let Some(v) = s.entries.get(key) {
            let found = v.as_deref().map(<[u8]>::to_vec);
            drop(s);
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Lookup::Hit(found);
        }
        let ticket = Ticket {
            shard,
            invalidations: s.invalidations,
        };
        drop(s);
        self.misses.fetch_add(1, Ordering::Relaxed);
        Lookup::Miss(ticket)
    }

    /// Stores what a reader found in RocksDB after `ticket`'s miss, unless
    /// an invalidation reached the shard since (the value may be older
    /// than that write).
    pub fn fill(&self, key: &[u8], ticket: Ticket, value: Option<&[u8]>) {
        let capacity = self.shard_capacity.load(Ordering::Relaxed);
        let size = cost(key, value);
        if size > MAX_ENTRY + ENTRY_OVERHEAD || size > capacity {
            return;
        }
        let mut s = self.shards[ticket.shard].lock();
        if s.invalidations != ticket.invalidations {
            return;
        }
        while s.bytes + size > capacity && !s.entries.is_empty() {
            s.shed();
        }
        s.bytes += size;
        let old = s.entries.insert(key.into(), value.map(Into::into));
        if let Some(old) = old {
            s.bytes -= cost(key, old.as_deref());
        }
    }

    /// Forgets `key` after a write to it.
    pub fn invalidate(&self, key: &[u8]) {
        let mut s = self.shards[Self::shard_of(key)].lock();
        s.invalidations += 1;
        s.remove(key);
    }

    /// Forgets everything (range deletes, ingests, unreadable batches).
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            let mut s = shard.lock();
            s.invalidations += 1;
            s.entries.clear();
            s.entries.shrink_to_fit();
            s.bytes = 0;
        }
    }

    /// Hits, misses and bytes held.
    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bytes: self.shards.iter().map(|s| s.lock().bytes as u64).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(c: &MetaCache, key: &[u8], db: Option<&[u8]>) -> Option<Vec<u8>> {
        match c.lookup(key) {
            Lookup::Hit(v) => v,
            Lookup::Miss(t) => {
                c.fill(key, t, db);
                db.map(<[u8]>::to_vec)
            }
        }
    }

    #[test]
    fn a_fill_after_an_invalidation_is_dropped() {
        let c = MetaCache::new(1 << 20);
        let Lookup::Miss(t) = c.lookup(b"k") else {
            panic!("empty cache hit");
        };
        // A write lands and invalidates while the reader holds the old value.
        c.invalidate(b"k");
        c.fill(b"k", t, Some(b"old"));
        assert!(matches!(c.lookup(b"k"), Lookup::Miss(_)));
    }

    #[test]
    fn hits_after_a_fill_and_misses_after_invalidate() {
        let c = MetaCache::new(1 << 20);
        assert_eq!(get(&c, b"k", Some(b"v")), Some(b"v".to_vec()));
        assert!(matches!(c.lookup(b"k"), Lookup::Hit(Some(ref v)) if v == b"v"));
        assert_eq!(get(&c, b"absent", None), None);
        assert!(matches!(c.lookup(b"absent"), Lookup::Hit(None)));
        c.invalidate(b"k");
        assert!(matches!(c.lookup(b"k"), Lookup::Miss(_)));
    }

    #[test]
    fn stays_within_its_bound() {
        let c = MetaCache::new(64 * 1024);
        for i in 0..10_000u32 {
            get(&c, &i.to_be_bytes(), Some(&[0u8; 100]));
        }
        assert!(c.counts().bytes <= 64 * 1024, "{:?}", c.counts());
        let off = MetaCache::new(0);
        get(&off, b"k", Some(b"v"));
        assert!(matches!(off.lookup(b"k"), Lookup::Miss(_)));
    }
}
