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

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use hashbrown::HashTable;
use parking_lot::Mutex;

use crate::util::fnv;

/// Number of shards; a power of two.
const SHARDS: usize = 64;
/// Bits of the key's hash that pick its shard (the top ones).
const SHARD_BITS: u32 = SHARDS.trailing_zeros();
/// Largest record (key plus value) kept.
pub const MAX_ENTRY: usize = 4096;
/// Bytes an entry costs beyond its key and value (table slot, boxes).
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
    hash: u64,
    invalidations: u64,
}

/// A key's hash, computed once per lookup: its top bits pick the shard,
/// a mix of all of them places the key in the shard's table.
#[derive(Clone, Copy)]
struct KeyHash(u64);

impl KeyHash {
    fn of(key: &[u8]) -> KeyHash {
        KeyHash(fnv::hash(key))
    }

    fn shard(self) -> usize {
        (self.0 >> (64 - SHARD_BITS)) as usize
    }

    /// The hash the shard's table uses: the shard bits are equal for all
    /// of its keys, so they are mixed with the rest.
    fn in_table(self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// One cached record; `value` `None` records that the key has none.
struct Entry {
    hash: u64,
    key: Box<[u8]>,
    value: Option<Box<[u8]>>,
}

impl Entry {
    fn cost(&self) -> usize {
        cost(&self.key, self.value.as_deref())
    }
}

#[derive(Default)]
struct Shard {
    entries: HashTable<Entry>,
    bytes: usize,
    invalidations: u64,
    evict_turn: u32,
}

impl Shard {
    fn find(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        self.entries.find(hash, |e| &*e.key == key)
    }

    fn remove(&mut self, hash: u64, key: &[u8]) {
        if let Ok(found) = self.entries.find_entry(hash, |e| &*e.key == key) {
            let (entry, _) = found.remove();
            self.bytes -= entry.cost();
        }
    }

    /// Drops about a quarter of the entries.
    fn shed(&mut self) {
        let mut dropped = 0;
        let mut turn = self.evict_turn;
        self.entries.retain(|e| {
            turn = turn.wrapping_add(1);
            let keep = !turn.is_multiple_of(4);
            if !keep {
                dropped += e.cost();
            }
            keep
        });
        self.evict_turn = turn;
        self.bytes -= dropped;
    }

    /// Stores `key`'s record, making room within `capacity`.
    fn store(&mut self, hash: u64, key: &[u8], value: Option<&[u8]>, capacity: usize) {
        self.remove(hash, key);
        let size = cost(key, value);
        while self.bytes + size > capacity && !self.entries.is_empty() {
            self.shed();
        }
        self.bytes += size;
        let entry = Entry {
            hash,
            key: key.into(),
            value: value.map(Into::into),
        };
        self.entries.insert_unique(hash, entry, |e| e.hash);
    }
}

fn cost(key: &[u8], value: Option<&[u8]>) -> usize {
    key.len() + value.map_or(0, <[u8]>::len) + ENTRY_OVERHEAD
}

/// The cache; see the module documentation.
pub struct MetaCache {
    shards: Box<[Mutex<Shard>]>,
    shard_capacity: AtomicUsize,
    /// Bumped by every invalidation of a writer that does not hold its
    /// keys' locks (and by [`MetaCache::clear`]).
    foreign_epoch: AtomicU64,
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

/// Taken before a write under its keys' locks, handed to
/// [`MetaCache::written`] after it.
#[derive(Clone, Copy)]
pub struct Epoch(u64);

impl MetaCache {
    /// A cache of at most `capacity` bytes (0: off).
    pub fn new(capacity: usize) -> MetaCache {
        MetaCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_capacity: AtomicUsize::new(capacity / SHARDS),
            foreign_epoch: AtomicU64::new(0),
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

    /// Looks `key` up; on a miss the caller reads RocksDB and calls
    /// [`MetaCache::fill`].
    pub fn lookup(&self, key: &[u8]) -> Lookup {
        let hash = KeyHash::of(key);
        let s = self.shards[hash.shard()].lock();
        if let Some(e) = s.find(hash.in_table(), key) {
            let found = e.value.as_deref().map(<[u8]>::to_vec);
            drop(s);
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Lookup::Hit(found);
        }
        let ticket = Ticket {
            hash: hash.0,
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
        let hash = KeyHash(ticket.hash);
        let mut s = self.shards[hash.shard()].lock();
        if s.invalidations != ticket.invalidations {
            return;
        }
        s.store(hash.in_table(), key, value, capacity);
    }

    /// Forgets `key` after a write to it by a writer that may not hold
    /// the key's lock.
    pub fn invalidate(&self, key: &[u8]) {
        let hash = KeyHash::of(key);
        let mut s = self.shards[hash.shard()].lock();
        s.invalidations += 1;
        self.foreign_epoch.fetch_add(1, Ordering::SeqCst);
        s.remove(hash.in_table(), key);
    }

    /// The epoch to take before a write under its keys' locks.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.foreign_epoch.load(Ordering::SeqCst))
    }

    /// Records that a writer holding `key`'s lock wrote `value` (`None`:
    /// deleted it) with a write begun at `before`: a cached entry takes
    /// the new value, unless a writer without the lock invalidated
    /// anything since (then the entry goes).
    pub fn written(&self, key: &[u8], value: Option<&[u8]>, before: Epoch) {
        let hash = KeyHash::of(key);
        let table_hash = hash.in_table();
        let capacity = self.shard_capacity.load(Ordering::Relaxed);
        let mut s = self.shards[hash.shard()].lock();
        s.invalidations += 1;
        let cached = s.find(table_hash, key).is_some();
        if !cached {
            return;
        }
        let fits = cost(key, value) <= (MAX_ENTRY + ENTRY_OVERHEAD).min(capacity);
        if fits && self.foreign_epoch.load(Ordering::SeqCst) == before.0 {
            s.store(table_hash, key, value, capacity);
        } else {
            s.remove(table_hash, key);
        }
    }

    /// Forgets everything (range deletes, ingests, unreadable batches).
    pub fn clear(&self) {
        self.foreign_epoch.fetch_add(1, Ordering::SeqCst);
        for shard in self.shards.iter() {
            let mut s = shard.lock();
            s.invalidations += 1;
            s.entries = HashTable::new();
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
    fn a_locked_write_updates_a_cached_entry() {
        let c = MetaCache::new(1 << 20);
        get(&c, b"k", Some(b"1"));
        let before = c.epoch();
        c.written(b"k", Some(b"2"), before);
        assert!(matches!(c.lookup(b"k"), Lookup::Hit(Some(ref v)) if v == b"2"));
        // Keys not cached stay out: writes alone do not fill the cache.
        c.written(b"other", Some(b"x"), c.epoch());
        assert!(matches!(c.lookup(b"other"), Lookup::Miss(_)));
    }

    #[test]
    fn a_locked_write_racing_a_lock_free_one_drops_the_entry() {
        let c = MetaCache::new(1 << 20);
        get(&c, b"k", Some(b"1"));
        let before = c.epoch();
        // An import writes the key after the locked writer's RocksDB write
        // and invalidates before the writer updates the cache.
        c.invalidate(b"k");
        get(&c, b"k", Some(b"import"));
        c.written(b"k", Some(b"2"), before);
        assert!(matches!(c.lookup(b"k"), Lookup::Miss(_)));
    }

    #[test]
    fn a_fill_racing_a_locked_write_is_dropped() {
        let c = MetaCache::new(1 << 20);
        get(&c, b"k", Some(b"1"));
        c.written(b"k", Some(b"2"), c.epoch());
        c.invalidate(b"k");
        let Lookup::Miss(t) = c.lookup(b"k") else {
            panic!("invalidated entry hit");
        };
        get(&c, b"k", Some(b"2"));
        c.written(b"k", Some(b"3"), c.epoch());
        // The reader read "2" before the write of "3".
        c.fill(b"k", t, Some(b"2"));
        assert!(matches!(c.lookup(b"k"), Lookup::Hit(Some(ref v)) if v == b"3"));
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
