//! What every composite type (hash, list, set, sorted set, bitmap,
//! HyperLogLog) shares: reading and writing its metadata, allocating
//! versions, addressing and iterating its subkeys, copying a key's subkeys
//! in bounded batches (RENAME, COPY, MOVEX) and paging through them for
//! the `*SCAN` commands. Each type module builds on these and nothing else.

use std::collections::HashSet;

use rocksdb::{DBRawIterator, WriteBatch};

use super::{Db, TypeError, TypeResult};
use crate::storage::metadata::{Composite, DataType};
use crate::storage::{subkeys, Cf, Storage};
use crate::util::glob;

/// Subkeys copied per write batch when a whole key is copied, so memory
/// stays bounded whatever the key's size.
const COPY_BATCH_RECORDS: usize = 1024;

impl<'a> Db<'a> {
    /// The metadata of `key` when it is a live composite of type `want`;
    /// `None` when absent or expired; WRONGTYPE when another type.
    pub fn read_composite(&self, key: &[u8], want: DataType) -> TypeResult<Option<Composite>> {
        let Some(meta) = self.read_typed(key, want)? else {
            return Ok(None);
        };
        Composite::decode(&meta.raw)
            .map(Some)
            .ok_or(TypeError::WrongType)
    }

    /// The metadata of `key` for a write: the live record, or a fresh one
    /// with a new version (whatever stale subkeys an old version left are
    /// never seen again).
    pub fn read_or_new_composite(&self, key: &[u8], want: DataType) -> TypeResult<Composite> {
        Ok(match self.read_composite(key, want)? {
            Some(m) => m,
            None => Composite::new(want, self.storage.next_version()),
        })
    }

    /// Stages `meta` under `key`: a put, or a delete when the key has
    /// become empty (an empty composite key does not exist in Redis).
    pub fn stage_composite(&self, batch: &mut WriteBatch, key: &[u8], meta: &Composite) {
        let cf = self.storage.cf(Cf::Metadata);
        if meta.size == 0 && meta.dtype != DataType::Hll {
            batch.delete_cf(cf, self.meta_key(key));
        } else {
            batch.put_cf(cf, self.meta_key(key), meta.encode());
        }
    }

    /// The subkey `rest` of `key` at `version` (in either subkey CF).
    pub fn subkey(&self, key: &[u8], version: u64, rest: &[u8]) -> Vec<u8> {
        subkeys::subkey(self.ns, key, version, rest)
    }

    /// Reads one subkey's value.
    pub fn get_subkey(
        &self,
        cf: Cf,
        key: &[u8],
        version: u64,
        rest: &[u8],
    ) -> TypeResult<Option<Vec<u8>>> {
        let sk = self.subkey(key, version, rest);
        Ok(self
            .storage
            .get_at(self.snapshot, self.fill_cache, cf, &sk)?
            .map(|v| v.to_vec()))
    }

    /// An iterator over the subkeys of one version of `key` in `cf`,
    /// positioned nowhere yet (call a seek first).
    pub fn subkeys(&self, cf: Cf, key: &[u8], version: u64) -> SubkeyIter<'a> {
        let prefix = subkeys::version_prefix(self.ns, key, version);
        let end = subkeys::prefix_end(&prefix).unwrap_or_else(|| vec![0xFF; prefix.len() + 1]);
        let opts = Storage::range_read_options(&prefix, &end, self.fill_cache);
        let handle = self.storage.cf(cf);
        let it = match self.snapshot {
            Some(snap) => snap.raw_iterator_cf_opt(handle, opts),
            None => self.storage.db().raw_iterator_cf_opt(handle, opts),
        };
        SubkeyIter { it, prefix }
    }

    /// One page of HSCAN/SSCAN/ZSCAN: up to `count` subkeys of the subkey
    /// CF after `after` (a `rest` from an earlier page), those matching
    /// `pattern` returned with their values. `next` is where to continue,
    /// or `None` at the end.
    pub fn scan_subkeys(
        &self,
        key: &[u8],
        version: u64,
        after: Option<&[u8]>,
        count: usize,
        pattern: Option<&[u8]>,
    ) -> TypeResult<SubkeyPage> {
        let mut it = self.subkeys(Cf::Subkey, key, version);
        match after {
            Some(pos) => {
                it.seek(pos);
                if it.valid() && it.rest() == pos {
                    it.next();
                }
            }
            None => it.seek_to_first(),
        }
        let mut page = SubkeyPage::default();
        let mut visited = 0;
        while it.valid() && visited < count {
            visited += 1;
            let rest = it.rest();
            if pattern.is_none_or(|p| glob::matches(p, rest, false)) {
                page.items.push((rest.to_vec(), it.value().to_vec()));
            }
            if visited == count {
                page.next = Some(rest.to_vec());
            }
            it.next();
        }
        it.status()?;
        if page.next.is_some() && !it.valid() {
            // The page ended exactly at the last subkey: no further page.
            page.next = None;
        }
        Ok(page)
    }

    /// Calls `each` with every (`rest`, value) of the subkey CF of `key`, a
    /// composite of type `dtype`, in byte order. Returns false when the
    /// key is missing.
    pub fn each_subkey(
        &self,
        key: &[u8],
        dtype: DataType,
        mut each: impl FnMut(&[u8], &[u8]),
    ) -> TypeResult<bool> {
        let Some(meta) = self.read_composite(key, dtype)? else {
            return Ok(false);
        };
        let mut it = self.subkeys(Cf::Subkey, key, meta.version);
        it.seek_to_first();
        while it.valid() {
            each(it.rest(), it.value());
            it.next();
        }
        it.status()?;
        Ok(true)
    }

    /// One HSCAN/SSCAN page (see [`Db::scan_subkeys`]) of `key`, a
    /// composite of type `dtype`; `None` when the key is missing.
    pub fn scan_composite(
        &self,
        key: &[u8],
        dtype: DataType,
        after: Option<&[u8]>,
        count: usize,
        pattern: Option<&[u8]>,
    ) -> TypeResult<Option<SubkeyPage>> {
        let Some(meta) = self.read_composite(key, dtype)? else {
            return Ok(None);
        };
        self.scan_subkeys(key, meta.version, after, count, pattern)
            .map(Some)
    }

    /// Deletes those of `items` (subkey-CF `rest`s: fields, members) that
    /// exist in `key`, a composite of type `dtype` (repeats counted once),
    /// under the key's lock and in one batch with the metadata (the key
    /// disappears when emptied); returns how many. HDEL and SREM.
    pub fn delete_subkeys(
        &self,
        key: &[u8],
        dtype: DataType,
        items: &[impl AsRef<[u8]>],
    ) -> TypeResult<u64> {
        let cf = self.storage.cf(Cf::Subkey);
        self.delete_subkeys_with(key, dtype, items, |batch, version, item, _| {
            batch.delete_cf(cf, self.subkey(key, version, item));
            true
        })
    }

    /// [`Db::delete_subkeys`] where `stage(batch, version, item, value)`
    /// stages the deletion of each item found (`value`: its subkey-CF
    /// value) and returns true, or false when it keeps it after all. ZREM.
    pub fn delete_subkeys_with(
        &self,
        key: &[u8],
        dtype: DataType,
        items: &[impl AsRef<[u8]>],
        mut stage: impl FnMut(&mut WriteBatch, u64, &[u8], &[u8]) -> bool,
    ) -> TypeResult<u64> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(mut meta) = self.read_composite(key, dtype)? else {
            return Ok(0);
        };
        let mut batch = WriteBatch::default();
        let mut gone: HashSet<&[u8]> = HashSet::new();
        for item in items {
            let item = item.as_ref();
            if gone.contains(item) {
                continue;
            }
            if let Some(value) = self.get_subkey(Cf::Subkey, key, meta.version, item)? {
                if stage(&mut batch, meta.version, item, &value) {
                    gone.insert(item);
                }
            }
        }
        let n = gone.len() as u64;
        if n == 0 {
            return Ok(0);
        }
        meta.size = meta.size.saturating_sub(n);
        self.stage_composite(&mut batch, key, &meta);
        self.storage.write(batch)?;
        Ok(n)
    }

    /// Writes the subkeys (both CFs) of `src`'s version `meta.version` under
    /// `dst_db`/`dst` at `new_version`, in batches of bounded size. The
    /// copies stay invisible until the caller writes `dst`'s metadata.
    pub fn copy_subkeys(
        &self,
        src: &[u8],
        meta: &Composite,
        dst_db: &Db<'_>,
        dst: &[u8],
        new_version: u64,
    ) -> TypeResult<()> {
        for cf in [Cf::Subkey, Cf::ZsetScore] {
            let mut it = self.subkeys(cf, src, meta.version);
            it.seek_to_first();
            let mut batch = WriteBatch::default();
            let handle = self.storage.cf(cf);
            while it.valid() {
                batch.put_cf(
                    handle,
                    dst_db.subkey(dst, new_version, it.rest()),
                    it.value(),
                );
                if batch.len() >= COPY_BATCH_RECORDS {
                    self.storage.write(std::mem::take(&mut batch))?;
                }
                it.next();
            }
            it.status()?;
            if !batch.is_empty() {
                self.storage.write(batch)?;
            }
        }
        Ok(())
    }
}

/// One page of a subkey scan.
#[derive(Debug, Default)]
pub struct SubkeyPage {
    /// (subkey rest, value) pairs that matched.
    pub items: Vec<(Vec<u8>, Vec<u8>)>,
    /// The last subkey visited, to continue after; `None` when done.
    pub next: Option<Vec<u8>>,
}

/// A bounded iterator over one key version's subkeys. `rest()` is the
/// part after the version prefix (field, member, index, or score+member).
pub struct SubkeyIter<'a> {
    it: DBRawIterator<'a>,
    prefix: Vec<u8>,
}

impl SubkeyIter<'_> {
    /// Positions at the first subkey.
    pub fn seek_to_first(&mut self) {
        self.it.seek_to_first();
    }

    /// Positions at the last subkey.
    pub fn seek_to_last(&mut self) {
        self.it.seek_to_last();
    }

    /// Positions at the first subkey whose rest is `>= rest`.
    pub fn seek(&mut self, rest: &[u8]) {
        let mut k = self.prefix.clone();
        k.extend_from_slice(rest);
        self.it.seek(&k);
    }

    /// Positions at the last subkey whose rest is `<= rest`.
    pub fn seek_for_prev(&mut self, rest: &[u8]) {
        let mut k = self.prefix.clone();
        k.extend_from_slice(rest);
        self.it.seek_for_prev(&k);
    }

    /// True while positioned on a subkey.
    pub fn valid(&self) -> bool {
        self.it.valid()
    }

    /// Moves to the next subkey.
    pub fn next(&mut self) {
        self.it.next();
    }

    /// Moves to the previous subkey.
    pub fn prev(&mut self) {
        self.it.prev();
    }

    /// Moves to the next subkey, or to the previous one when `forward` is
    /// false.
    pub fn step(&mut self, forward: bool) {
        if forward {
            self.it.next();
        } else {
            self.it.prev();
        }
    }

    /// The current subkey without its prefix (empty when not valid).
    pub fn rest(&self) -> &[u8] {
        self.it
            .key()
            .and_then(|k| k.get(self.prefix.len()..))
            .unwrap_or(&[])
    }

    /// The current value (empty when not valid).
    pub fn value(&self) -> &[u8] {
        self.it.value().unwrap_or(&[])
    }

    /// The iterator's error, if it stopped on one.
    pub fn status(&self) -> TypeResult<()> {
        Ok(self.it.status()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterates_only_its_own_version() {
        let (_dir, s) = Storage::open_temp();
        let db = Db::new(&s, b"", 1 << 20);
        let mut b = WriteBatch::default();
        for (v, f) in [(1u64, "a"), (2, "b"), (2, "c"), (3, "d")] {
            b.put_cf(s.cf(Cf::Subkey), db.subkey(b"k", v, f.as_bytes()), f);
        }
        b.put_cf(s.cf(Cf::Subkey), db.subkey(b"k2", 2, b"x"), "x");
        s.write(b).unwrap();
        let mut it = db.subkeys(Cf::Subkey, b"k", 2);
        it.seek_to_first();
        let mut seen = Vec::new();
        while it.valid() {
            seen.push(it.rest().to_vec());
            it.next();
        }
        assert_eq!(seen, vec![b"b".to_vec(), b"c".to_vec()]);
        let page = db.scan_subkeys(b"k", 2, None, 1, None).unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next.as_deref(), Some(&b"b"[..]));
        let page = db.scan_subkeys(b"k", 2, Some(b"b"), 5, None).unwrap();
        assert_eq!(page.items[0].0, b"c");
        assert!(page.next.is_none());
    }
}
