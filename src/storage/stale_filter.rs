//! The compaction filter of the `subkey` and `zset_score` column families:
//! drops subkeys whose key is gone, expired, now of another type or of
//! another version. This is what makes DEL, EXPIRE-to-past and FLUSHDB of
//! a 10-million-member key O(1): they only touch the metadata record, and
//! the stale subkeys disappear here, in the background.
//!
//! Reading the metadata needs the database the filter runs inside. The
//! filter reaches it through a shared slot that [`super::Storage`] fills
//! after opening and empties (waiting for readers) before closing; while
//! the slot is empty every subkey is kept.
//!
//! The lookups go through one iterator per compaction that does not fill
//! the block cache: a compaction of a big key range reads the metadata of
//! every key in it once, which would otherwise push the hot set out of the
//! cache and grow the process by the cache's size. Consecutive lookups in
//! one metadata block reuse the block the iterator already holds.

use std::ffi::{CStr, CString};
use std::sync::Arc;

use parking_lot::RwLock;
use rocksdb::compaction_filter::{CompactionFilter, Decision};
use rocksdb::compaction_filter_factory::{CompactionFilterContext, CompactionFilterFactory};
use rocksdb::{DBRawIterator, ReadOptions, DB};

use super::metadata::{self, Header};
use super::subkeys;

/// A pointer to the open database, valid while it is in the slot.
pub struct DbPtr(pub *const DB);

// SAFETY: `DB` is thread-safe; the pointer is only dereferenced under the
// slot's read lock, and the slot is emptied (under the write lock) before
// the database is dropped.
unsafe impl Send for DbPtr {}
// SAFETY: as above.
unsafe impl Sync for DbPtr {}

/// The slot through which filters reach the database.
pub type DbSlot = Arc<RwLock<Option<DbPtr>>>;

/// What the metadata says about one key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyState {
    /// Could not tell (database not reachable, read failed): keep.
    Unknown,
    /// Missing, expired or not composite: its subkeys are stale.
    Gone,
    /// A live composite key of this version.
    Live(u64),
}

/// Creates one filter per compaction, so each can remember the last key
/// it looked up (a key's subkeys are adjacent).
pub struct StaleSubkeyFilterFactory {
    db: DbSlot,
    name: CString,
}

impl StaleSubkeyFilterFactory {
    /// A factory whose filters read metadata through `db`.
    pub fn new(db: DbSlot, name: &str) -> Self {
        StaleSubkeyFilterFactory {
            db,
            name: CString::new(name).unwrap_or_default(),
        }
    }
}

impl CompactionFilterFactory for StaleSubkeyFilterFactory {
    type Filter = StaleSubkeyFilter;

    fn create(&mut self, _context: CompactionFilterContext) -> StaleSubkeyFilter {
        StaleSubkeyFilter {
            db: self.db.clone(),
            name: self.name.clone(),
            last: None,
            now_ms: crate::util::now_ms(),
            cursor: None,
        }
    }

    fn name(&self) -> &CStr {
        &self.name
    }
}

/// How long subkeys of a version nobody's metadata points at yet are kept:
/// RESTORE and RENAME/COPY of a big key write its subkeys in several
/// batches under a fresh version and the metadata last, so for a moment
/// those subkeys look stale. A version carries its allocation time
/// (`ms << 11`, see [`super::Storage::next_version`]), so a young one is
/// left alone; an abandoned copy is dropped once it is older than this.
const IN_FLIGHT_MS: u64 = 10 * 60 * 1000;

/// True when `version` was allocated less than [`IN_FLIGHT_MS`] ago.
fn is_recent(version: u64, now_ms: u64) -> bool {
    (version >> 11).saturating_add(IN_FLIGHT_MS) > now_ms
}

/// The filter of one compaction.
pub struct StaleSubkeyFilter {
    db: DbSlot,
    name: CString,
    last: Option<(Vec<u8>, KeyState)>,
    now_ms: u64,
    /// The metadata iterator of this compaction (made at the first
    /// lookup). It outlives the slot's read guard: the database is only
    /// closed after the slot is emptied, the filter drops the iterator at
    /// the first lookup that finds the slot empty, and closing waits for
    /// running compactions, so their filters (and this iterator) go first.
    cursor: Option<DBRawIterator<'static>>,
}

impl StaleSubkeyFilter {
    fn lookup(&mut self, meta_key: &[u8]) -> KeyState {
        let slot = self.db.read();
        let Some(ptr) = slot.as_ref() else {
            self.cursor = None;
            return KeyState::Unknown;
        };
        // SAFETY: see `DbPtr` and `cursor`: the database outlives this
        // compaction, and is not closing while the slot holds it.
        let db: &'static DB = unsafe { &*ptr.0 };
        let it = match &mut self.cursor {
            Some(it) => it,
            None => {
                let Some(cf) = db.cf_handle(super::Cf::Metadata.name()) else {
                    return KeyState::Unknown;
                };
                let mut opts = ReadOptions::default();
                opts.fill_cache(false);
                self.cursor.insert(db.raw_iterator_cf_opt(cf, opts))
            }
        };
        it.seek(meta_key);
        if !it.valid() {
            return match it.status() {
                Ok(()) => KeyState::Gone,
                Err(_) => {
                    self.cursor = None;
                    KeyState::Unknown
                }
            };
        }
        if it.key() != Some(meta_key) {
            return KeyState::Gone;
        }
        let raw = it.value().unwrap_or_default();
        match (Header::decode(raw), metadata::composite_version(raw)) {
            (Some(h), Some(v)) if !h.is_expired(self.now_ms) => KeyState::Live(v),
            _ => KeyState::Gone,
        }
    }

    /// Whether the subkey `key` belongs to a live key of its version.
    pub fn is_stale(&mut self, key: &[u8]) -> bool {
        let Some(parsed) = subkeys::parse(key) else {
            return false;
        };
        let state = match &self.last {
            Some((k, s)) if *k == parsed.meta_key => *s,
            _ => {
                let s = self.lookup(&parsed.meta_key);
                self.last = Some((parsed.meta_key, s));
                s
            }
        };
        let in_flight = is_recent(parsed.version, self.now_ms);
        match state {
            KeyState::Unknown => false,
            KeyState::Gone => !in_flight,
            KeyState::Live(v) => v != parsed.version && !(parsed.version > v && in_flight),
        }
    }
}

impl CompactionFilter for StaleSubkeyFilter {
    fn filter(&mut self, _level: u32, key: &[u8], _value: &[u8]) -> Decision {
        if self.is_stale(key) {
            Decision::Remove
        } else {
            Decision::Keep
        }
    }

    fn name(&self) -> &CStr {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use rocksdb::WriteBatch;

    use super::super::metadata::{encode_string, Composite, DataType};
    use super::super::{keys, subkeys, Cf, Storage};

    fn live_subkeys(s: &Storage, cf: Cf) -> Vec<Vec<u8>> {
        s.db()
            .iterator_cf(s.cf(cf), rocksdb::IteratorMode::Start)
            .map(|r| r.unwrap().0.to_vec())
            .collect()
    }

    #[test]
    fn compaction_drops_subkeys_of_gone_expired_or_other_versions() {
        let (_dir, s) = Storage::open_temp();
        let meta = |key: &[u8], m: &Composite| (keys::encode(b"", key), m.encode());
        let mut live = Composite::new(DataType::Hash, 7);
        live.size = 1;
        let mut expired = Composite::new(DataType::Set, 3);
        expired.size = 1;
        expired.expire_ms = 1;
        let mut b = WriteBatch::default();
        for (k, m) in [meta(b"live", &live), meta(b"expired", &expired)] {
            b.put_cf(s.cf(Cf::Metadata), k, m);
        }
        b.put_cf(
            s.cf(Cf::Metadata),
            keys::encode(b"", b"str"),
            encode_string(0, b"x"),
        );
        let keep = subkeys::subkey(b"", b"live", 7, b"f");
        let drop = [
            subkeys::subkey(b"", b"live", 6, b"old-version"),
            subkeys::subkey(b"", b"expired", 3, b"m"),
            subkeys::subkey(b"", b"gone", 1, b"m"),
            subkeys::subkey(b"", b"str", 1, b"was-a-hash"),
        ];
        b.put_cf(s.cf(Cf::Subkey), &keep, b"v");
        for k in &drop {
            b.put_cf(s.cf(Cf::Subkey), k, b"v");
        }
        let score = subkeys::score_key(b"", b"gone", 1, 1.0, b"m");
        b.put_cf(s.cf(Cf::ZsetScore), &score, b"");
        s.write(b).unwrap();
        s.flush().unwrap();
        s.compact_all();
        assert_eq!(live_subkeys(&s, Cf::Subkey), vec![keep]);
        assert!(live_subkeys(&s, Cf::ZsetScore).is_empty());
    }

    #[test]
    fn subkeys_written_ahead_of_their_metadata_survive_compaction() {
        let (_dir, s) = Storage::open_temp();
        // A key being restored or copied: subkeys under a fresh version,
        // no metadata yet (or the old key's metadata still in place).
        let fresh = s.next_version();
        let mut old = Composite::new(DataType::Hash, 1);
        old.size = 1;
        let mut b = WriteBatch::default();
        b.put_cf(s.cf(Cf::Metadata), keys::encode(b"", b"dst"), old.encode());
        let ahead = [
            subkeys::subkey(b"", b"new", fresh, b"f"),
            subkeys::subkey(b"", b"dst", fresh, b"f"),
        ];
        for k in &ahead {
            b.put_cf(s.cf(Cf::Subkey), k, b"v");
        }
        // An abandoned copy from long ago is dropped.
        b.put_cf(
            s.cf(Cf::Subkey),
            subkeys::subkey(b"", b"dst", 2, b"f"),
            b"v",
        );
        s.write(b).unwrap();
        s.flush().unwrap();
        s.compact_all();
        let mut want = ahead.to_vec();
        want.sort();
        assert_eq!(live_subkeys(&s, Cf::Subkey), want);
    }
}
