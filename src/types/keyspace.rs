//! Type-independent key operations: delete, existence, TTLs, listing,
//! renaming, copying and flushing a namespace.

use std::sync::atomic::{AtomicU32, Ordering};

use rocksdb::WriteBatch;

use super::{Db, Meta, TypeError, TypeResult};
use crate::storage::metadata::{self, DataType, Header};
use crate::storage::{keys, Cf, Storage};
use crate::util::{glob, now_ms};

/// Condition flags of EXPIRE and friends; several may combine (XX GT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpireCondition {
    /// Only when the key has no TTL.
    pub nx: bool,
    /// Only when the key has a TTL.
    pub xx: bool,
    /// Only when the new expire is later (no TTL counts as infinite).
    pub gt: bool,
    /// Only when the new expire is sooner (no TTL counts as infinite).
    pub lt: bool,
}

impl ExpireCondition {
    /// True when a key whose expire is `cur` (0 = none) may get `at`.
    pub fn allows(&self, cur: u64, at: u64) -> bool {
        (!self.nx || cur == 0)
            && (!self.xx || cur != 0)
            && (!self.gt || (cur != 0 && at > cur))
            && (!self.lt || cur == 0 || at < cur)
    }
}

/// One page of a SCAN.
pub struct ScanPage {
    /// Keys found on this page.
    pub keys: Vec<Vec<u8>>,
    /// The encoded position to continue after, or `None` when done.
    pub next: Option<Vec<u8>>,
}

/// Filters applied while listing keys.
pub struct ScanFilter<'p> {
    /// Glob the user key must match (`None` = all).
    pub pattern: Option<&'p [u8]>,
    /// Only keys of this type.
    pub dtype: Option<DataType>,
}

impl ScanFilter<'_> {
    fn accepts(&self, user_key: &[u8], header: &Header) -> bool {
        // Compared by name: bitmaps and HyperLogLogs are strings to TYPE.
        self.dtype.is_none_or(|t| t.name() == header.dtype.name())
            && self
                .pattern
                .is_none_or(|p| glob::matches(p, user_key, false))
    }
}

impl Db<'_> {
    /// DEL / UNLINK: returns how many keys existed.
    pub fn del(&self, user_keys: &[impl AsRef<[u8]>]) -> TypeResult<i64> {
        let _guard = self.storage.locks().lock(user_keys);
        let mut batch = WriteBatch::default();
        let mut n = 0;
        let mut seen: Vec<&[u8]> = Vec::new();
        for k in user_keys {
            let k = k.as_ref();
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            if self.read_meta(k)?.is_some() {
                n += 1;
                batch.delete_cf(self.storage.cf(Cf::Metadata), self.meta_key(k));
            }
        }
        if n > 0 {
            self.storage.write(batch)?;
        }
        Ok(n)
    }

    /// EXISTS: counts keys that exist, repeats included.
    pub fn exists(&self, user_keys: &[impl AsRef<[u8]>]) -> TypeResult<i64> {
        let mut n = 0;
        for k in user_keys {
            if self.read_meta(k.as_ref())?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    }

    /// TYPE.
    pub fn type_of(&self, key: &[u8]) -> TypeResult<Option<DataType>> {
        Ok(self.read_meta(key)?.map(|m| m.header.dtype))
    }

    /// Sets the expire time (absolute ms) under a condition; a time in the
    /// past deletes the key. Returns whether anything changed.
    pub fn expire_at(&self, key: &[u8], at_ms: u64, cond: ExpireCondition) -> TypeResult<bool> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(mut meta) = self.read_meta(key)? else {
            return Ok(false);
        };
        let cur = meta.header.expire_ms;
        if !cond.allows(cur, at_ms) {
            return Ok(false);
        }
        let mk = self.meta_key(key);
        if at_ms <= now_ms() {
            self.storage.delete(Cf::Metadata, &mk)?;
        } else {
            metadata::set_expire(&mut meta.raw, at_ms);
            self.storage.put(Cf::Metadata, &mk, &meta.raw)?;
        }
        Ok(true)
    }

    /// PERSIST: removes the TTL; returns whether there was one.
    pub fn persist(&self, key: &[u8]) -> TypeResult<bool> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(mut meta) = self.read_meta(key)? else {
            return Ok(false);
        };
        if meta.header.expire_ms == 0 {
            return Ok(false);
        }
        metadata::set_expire(&mut meta.raw, 0);
        self.storage
            .put(Cf::Metadata, &self.meta_key(key), &meta.raw)?;
        Ok(true)
    }

    /// The absolute expire time: `None` when missing, `Some(0)` when none.
    pub fn expire_time(&self, key: &[u8]) -> TypeResult<Option<u64>> {
        Ok(self.read_meta(key)?.map(|m| m.header.expire_ms))
    }

    /// Visits live keys of the encoded range `[start, end)` in order,
    /// starting after `after` when given, until `visit` returns false.
    fn visit_range(
        &self,
        start: &[u8],
        end: &[u8],
        after: Option<&[u8]>,
        mut visit: impl FnMut(&[u8], &Header) -> bool,
    ) -> TypeResult<()> {
        let opts = Storage::range_read_options(start, end, false);
        let mut it = self
            .storage
            .db()
            .raw_iterator_cf_opt(self.storage.cf(Cf::Metadata), opts);
        match after {
            Some(pos) => {
                it.seek(pos);
                if it.valid() && it.key() == Some(pos) {
                    it.next();
                }
            }
            None => it.seek_to_first(),
        }
        let now = now_ms();
        while it.valid() {
            let (Some(k), Some(v)) = (it.key(), it.value()) else {
                break;
            };
            if let (Some(h), Some((_, _, user))) = (Header::decode(v), keys::decode(k)) {
                if !h.is_expired(now) && !visit(user, &h) {
                    break;
                }
            }
            it.next();
        }
        it.status()?;
        Ok(())
    }

    /// Visits live keys of the namespace in order, starting after `after`
    /// (an encoded key), until `visit` returns false.
    pub fn for_each_key(
        &self,
        after: Option<&[u8]>,
        visit: impl FnMut(&[u8], &Header) -> bool,
    ) -> TypeResult<()> {
        let start = keys::ns_prefix(self.ns);
        let end = keys::ns_upper_bound(self.ns);
        self.visit_range(&start, &end, after, visit)
    }

    /// Visits live keys of one slot in order (after the user key `after`,
    /// when given) until `visit` returns false.
    pub fn for_each_key_in_slot(
        &self,
        slot: u16,
        after: Option<&[u8]>,
        mut visit: impl FnMut(&[u8]) -> bool,
    ) -> TypeResult<()> {
        let start = keys::slot_prefix(self.ns, slot);
        let end = keys::slot_prefix(self.ns, slot + 1);
        let after = after.map(|k| keys::encode_in_slot(self.ns, slot, k));
        self.visit_range(&start, &end, after.as_deref(), |k, _| visit(k))
    }

    /// Up to `limit` live keys of one slot (CLUSTER GETKEYSINSLOT).
    pub fn keys_in_slot(&self, slot: u16, limit: usize) -> TypeResult<Vec<Vec<u8>>> {
        self.keys_in_slot_after(slot, None, limit)
    }

    /// Up to `limit` live keys of one slot after the user key `after`.
    pub fn keys_in_slot_after(
        &self,
        slot: u16,
        after: Option<&[u8]>,
        limit: usize,
    ) -> TypeResult<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        self.for_each_key_in_slot(slot, after, |k| {
            out.push(k.to_vec());
            out.len() < limit
        })?;
        Ok(out)
    }

    /// Number of live keys in one slot (CLUSTER COUNTKEYSINSLOT).
    pub fn count_in_slot(&self, slot: u16) -> TypeResult<u64> {
        let mut n = 0;
        self.for_each_key_in_slot(slot, None, |_| {
            n += 1;
            true
        })?;
        Ok(n)
    }

    /// KEYS: every live key matching the filter.
    pub fn keys(&self, filter: &ScanFilter<'_>) -> TypeResult<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        self.for_each_key(None, |k, h| {
            if filter.accepts(k, h) {
                out.push(k.to_vec());
            }
            true
        })?;
        Ok(out)
    }

    /// One SCAN page: visits about `count` keys after `after`.
    pub fn scan(
        &self,
        after: Option<&[u8]>,
        count: usize,
        filter: &ScanFilter<'_>,
    ) -> TypeResult<ScanPage> {
        let mut out = Vec::new();
        let mut visited = 0usize;
        let mut last: Option<Vec<u8>> = None;
        self.for_each_key(after, |k, h| {
            visited += 1;
            if filter.accepts(k, h) {
                out.push(k.to_vec());
            }
            if visited >= count {
                last = Some(self.meta_key(k));
                return false;
            }
            true
        })?;
        Ok(ScanPage {
            keys: out,
            next: last,
        })
    }

    /// DBSIZE: number of live keys in the namespace.
    pub fn count_keys(&self) -> TypeResult<(u64, u64)> {
        let (mut keys, mut expires) = (0u64, 0u64);
        self.for_each_key(None, |_, h| {
            keys += 1;
            if h.expire_ms != 0 {
                expires += 1;
            }
            true
        })?;
        Ok((keys, expires))
    }

    /// RANDOMKEY: a live key near a random position, or `None` when empty.
    pub fn random_key(&self) -> TypeResult<Option<Vec<u8>>> {
        let slot = (now_ms().wrapping_mul(2654435761) % 16384) as u16;
        let pos = keys::slot_prefix(self.ns, slot);
        let mut found = None;
        self.for_each_key(Some(&pos), |k, _| {
            found = Some(k.to_vec());
            false
        })?;
        if found.is_none() {
            self.for_each_key(None, |k, _| {
                found = Some(k.to_vec());
                false
            })?;
        }
        Ok(found)
    }

    /// RENAME / RENAMENX. Returns false when `nx` and the target exists.
    pub fn rename(&self, src: &[u8], dst: &[u8], nx: bool) -> TypeResult<bool> {
        let _guard = self.storage.locks().lock(&[src, dst]);
        let meta = self.read_meta(src)?.ok_or(TypeError::NoSuchKey)?;
        if src == dst {
            return Ok(!nx);
        }
        if nx && self.read_meta(dst)?.is_some() {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        self.copy_record(&mut batch, src, &meta, self, dst)?;
        batch.delete_cf(self.storage.cf(Cf::Metadata), self.meta_key(src));
        self.storage.write(batch)?;
        Ok(true)
    }

    /// COPY within the namespace. Returns whether it copied.
    pub fn copy(&self, src: &[u8], dst: &[u8], replace: bool) -> TypeResult<bool> {
        let _guard = self.storage.locks().lock(&[src, dst]);
        let Some(meta) = self.read_meta(src)? else {
            return Ok(false);
        };
        if src == dst || (!replace && self.read_meta(dst)?.is_some()) {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        self.copy_record(&mut batch, src, &meta, self, dst)?;
        self.storage.write(batch)?;
        Ok(true)
    }

    /// MOVEX: moves `key` into namespace `target_ns` unless it is
    /// missing here or already exists there. Returns whether it moved.
    pub fn move_to_namespace(&self, key: &[u8], target_ns: &[u8]) -> TypeResult<bool> {
        if target_ns == self.ns {
            return Ok(false);
        }
        let _guard = self.storage.locks().lock(&[key]);
        let Some(meta) = self.read_meta(key)? else {
            return Ok(false);
        };
        let target = Db::new(self.storage, target_ns, self.max_value_len);
        if target.read_meta(key)?.is_some() {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        self.copy_record(&mut batch, key, &meta, &target, key)?;
        batch.delete_cf(self.storage.cf(Cf::Metadata), self.meta_key(key));
        self.storage.write(batch)?;
        Ok(true)
    }

    /// Stages `src`'s metadata under `dst` in `dst_db`. A composite key's
    /// subkeys are copied first (in bounded batches, under a new version,
    /// invisible until the staged metadata is written).
    fn copy_record(
        &self,
        batch: &mut WriteBatch,
        src: &[u8],
        meta: &Meta,
        dst_db: &Db<'_>,
        dst: &[u8],
    ) -> TypeResult<()> {
        let cf = self.storage.cf(Cf::Metadata);
        match metadata::Composite::decode(&meta.raw) {
            Some(mut composite) => {
                let version = self.storage.next_version();
                self.copy_subkeys(src, &composite, dst_db, dst, version)?;
                composite.version = version;
                batch.put_cf(cf, dst_db.meta_key(dst), composite.encode());
            }
            None => batch.put_cf(cf, dst_db.meta_key(dst), &meta.raw),
        }
        Ok(())
    }

    /// FLUSHDB: drops every key of the namespace in every data column family.
    pub fn flush(&self) -> TypeResult<()> {
        self.storage
            .delete_data_range(&keys::ns_prefix(self.ns), &keys::ns_upper_bound(self.ns))?;
        after_range_delete(self.storage)
    }
}

/// Range deletions written since the memtables were last flushed for them.
static RANGE_DELETES: AtomicU32 = AtomicU32::new(0);

/// Every read in RocksDB walks the active memtable's range tombstones, so
/// a FLUSHDB/FLUSHALL loop (test suites do this) made each command slower
/// than the last (the differential fuzzer measured 8 s, then 60 s for the
/// same work). After a few range deletions the memtables are flushed in
/// the background, which bounds that cost.
fn after_range_delete(storage: &Storage) -> TypeResult<()> {
    if RANGE_DELETES.fetch_add(1, Ordering::Relaxed) + 1 >= RANGE_DELETES_PER_FLUSH {
        RANGE_DELETES.store(0, Ordering::Relaxed);
        storage.flush_data_async()?;
    }
    Ok(())
}

/// How many range deletions may pile up in a memtable.
const RANGE_DELETES_PER_FLUSH: u32 = 16;

/// FLUSHALL: drops every key of every namespace.
pub fn flush_all(storage: &Storage) -> TypeResult<()> {
    storage.delete_data_range(&[], &[0xFF; 260])?;
    after_range_delete(storage)
}
