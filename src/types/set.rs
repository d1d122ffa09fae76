//! The set type (see DESIGN.md, "Key encoding").
//!
//! Layout: one subkey per member in the subkey CF (`rest` = member, empty
//! value); the metadata's `size` is the number of members. Writes hold
//! the key's lock and write one batch; a set whose last member goes
//! disappears.
//!
//! Multi-key operations (SINTER, SUNION, SDIFF and their STORE forms,
//! SINTERCARD) stream: members come out of subkey iterators in byte order,
//! SINTER and SDIFF iterate one set and probe the others with point reads,
//! SUNION merges the sorted iterators, so memory does not grow with the
//! sets. The STORE forms write the result under a fresh version of the
//! destination in bounded batches and switch its metadata last.

use std::collections::HashSet;

use rocksdb::WriteBatch;

use super::composite::SubkeyIter;
use super::{Db, TypeResult};
use crate::storage::metadata::{Composite, DataType};
use crate::storage::Cf;

/// Records per write batch when a STORE command writes its result.
const STORE_BATCH_RECORDS: usize = 1024;

/// Bytes per write batch when a STORE command writes its result.
const STORE_BATCH_BYTES: usize = 4 << 20;

/// The multi-key set operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// Members in every set (SINTER).
    Inter,
    /// Members in any set (SUNION).
    Union,
    /// Members of the first set in none of the others (SDIFF).
    Diff,
}

/// Adds `member` to a STORE result batch, flushing it when full.
struct StoreWriter<'d, 'a> {
    db: &'d Db<'a>,
    key: &'d [u8],
    version: u64,
    batch: WriteBatch,
    bytes: usize,
    written: u64,
}

impl StoreWriter<'_, '_> {
    fn add(&mut self, member: &[u8]) -> TypeResult<()> {
        self.batch.put_cf(
            self.db.storage.cf(Cf::Subkey),
            self.db.subkey(self.key, self.version, member),
            b"",
        );
        self.bytes += member.len() + self.key.len() + 32;
        self.written += 1;
        if self.batch.len() >= STORE_BATCH_RECORDS || self.bytes >= STORE_BATCH_BYTES {
            self.db.storage.write(std::mem::take(&mut self.batch))?;
            self.bytes = 0;
        }
        Ok(())
    }
}

impl Db<'_> {
    /// The set's metadata; `None` when missing; WRONGTYPE for other types.
    pub fn set_meta(&self, key: &[u8]) -> TypeResult<Option<Composite>> {
        self.read_composite(key, DataType::Set)
    }

    /// SADD: returns how many members were new.
    pub fn sadd(&self, key: &[u8], members: &[impl AsRef<[u8]>]) -> TypeResult<u64> {
        let _guard = self.storage.locks().lock(&[key]);
        let mut meta = self.read_or_new_composite(key, DataType::Set)?;
        let exists = meta.size > 0;
        let mut batch = WriteBatch::default();
        let cf = self.storage.cf(Cf::Subkey);
        let mut added: HashSet<&[u8]> = HashSet::new();
        for m in members {
            let m = m.as_ref();
            if added.contains(m)
                || (exists && self.get_subkey(Cf::Subkey, key, meta.version, m)?.is_some())
            {
                continue;
            }
            batch.put_cf(cf, self.subkey(key, meta.version, m), b"");
            added.insert(m);
        }
        if added.is_empty() {
            return Ok(0);
        }
        meta.size += added.len() as u64;
        self.stage_composite(&mut batch, key, &meta);
        self.storage.write(batch)?;
        Ok(added.len() as u64)
    }

    /// SREM: returns how many members were removed.
    pub fn srem(&self, key: &[u8], members: &[impl AsRef<[u8]>]) -> TypeResult<u64> {
        self.delete_subkeys(key, DataType::Set, members)
    }

    /// SCARD.
    pub fn scard(&self, key: &[u8]) -> TypeResult<u64> {
        Ok(self.set_meta(key)?.map_or(0, |m| m.size))
    }

    /// SMISMEMBER (and SISMEMBER with one member).
    pub fn smismember(&self, key: &[u8], members: &[impl AsRef<[u8]>]) -> TypeResult<Vec<bool>> {
        let Some(meta) = self.set_meta(key)? else {
            return Ok(vec![false; members.len()]);
        };
        members
            .iter()
            .map(|m| {
                Ok(self
                    .get_subkey(Cf::Subkey, key, meta.version, m.as_ref())?
                    .is_some())
            })
            .collect()
    }

    /// SMEMBERS without collecting: `each` gets every member in byte order.
    pub fn smembers_each(&self, key: &[u8], mut each: impl FnMut(&[u8])) -> TypeResult<()> {
        self.each_subkey(key, DataType::Set, |m, _| each(m))?;
        Ok(())
    }

    /// SRANDMEMBER: `count` random members, distinct when `distinct`.
    pub fn srandmember(&self, key: &[u8], count: u64, distinct: bool) -> TypeResult<Vec<Vec<u8>>> {
        let Some(meta) = self.set_meta(key)? else {
            return Ok(Vec::new());
        };
        Ok(self
            .random_subkeys(key, &meta, count, distinct)?
            .into_iter()
            .map(|(m, _)| m)
            .collect())
    }

    /// SPOP: removes and returns up to `count` distinct random members
    /// (the whole set, which then disappears, when `count` covers it).
    pub fn spop(&self, key: &[u8], count: u64) -> TypeResult<Vec<Vec<u8>>> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(mut meta) = self.set_meta(key)? else {
            return Ok(Vec::new());
        };
        let picked = self.random_subkeys(key, &meta, count, true)?;
        if picked.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = WriteBatch::default();
        if picked.len() as u64 >= meta.size {
            // The whole set goes: dropping the metadata is enough, the
            // compaction filter removes the orphaned members.
            meta.size = 0;
        } else {
            let cf = self.storage.cf(Cf::Subkey);
            for (m, _) in &picked {
                batch.delete_cf(cf, self.subkey(key, meta.version, m));
            }
            meta.size -= picked.len() as u64;
        }
        self.stage_composite(&mut batch, key, &meta);
        self.storage.write(batch)?;
        Ok(picked.into_iter().map(|(m, _)| m).collect())
    }

    /// SMOVE: moves `member` from `src` to `dst`; true when it was in `src`.
    pub fn smove(&self, src: &[u8], dst: &[u8], member: &[u8]) -> TypeResult<bool> {
        let _guard = self.storage.locks().lock(&[src, dst]);
        let Some(mut src_meta) = self.set_meta(src)? else {
            return Ok(false);
        };
        let mut dst_meta = self.read_or_new_composite(dst, DataType::Set)?;
        let in_src = self
            .get_subkey(Cf::Subkey, src, src_meta.version, member)?
            .is_some();
        if src == dst || !in_src {
            return Ok(in_src);
        }
        let cf = self.storage.cf(Cf::Subkey);
        let mut batch = WriteBatch::default();
        batch.delete_cf(cf, self.subkey(src, src_meta.version, member));
        src_meta.size = src_meta.size.saturating_sub(1);
        self.stage_composite(&mut batch, src, &src_meta);
        let in_dst = dst_meta.size > 0
            && self
                .get_subkey(Cf::Subkey, dst, dst_meta.version, member)?
                .is_some();
        if !in_dst {
            batch.put_cf(cf, self.subkey(dst, dst_meta.version, member), b"");
            dst_meta.size += 1;
            self.stage_composite(&mut batch, dst, &dst_meta);
        }
        self.storage.write(batch)?;
        Ok(true)
    }

    /// Reads the metadata of every key of a multi-key operation: WRONGTYPE
    /// when any of them is another type, `None` for missing ones.
    fn set_metas(&self, keys: &[impl AsRef<[u8]>]) -> TypeResult<Vec<Option<Composite>>> {
        keys.iter().map(|k| self.set_meta(k.as_ref())).collect()
    }

    /// Streams the result of `op` over `keys` to `each` in byte order,
    /// until `each` returns false. Every key's type is checked first.
    pub fn set_op_each(
        &self,
        op: SetOp,
        keys: &[impl AsRef<[u8]>],
        mut each: impl FnMut(&[u8]) -> TypeResult<bool>,
    ) -> TypeResult<()> {
        let metas = self.set_metas(keys)?;
        let sets: Vec<(&[u8], Option<&Composite>)> = keys
            .iter()
            .map(|k| k.as_ref())
            .zip(metas.iter().map(Option::as_ref))
            .collect();
        match op {
            SetOp::Inter => self.inter_each(&sets, &mut each),
            SetOp::Diff => self.diff_each(&sets, &mut each),
            SetOp::Union => self.union_each(&sets, &mut each),
        }
    }

    /// True when `member` is in the set `meta` describes.
    fn has_member(&self, key: &[u8], meta: &Composite, member: &[u8]) -> TypeResult<bool> {
        Ok(self
            .get_subkey(Cf::Subkey, key, meta.version, member)?
            .is_some())
    }

    fn inter_each(
        &self,
        sets: &[(&[u8], Option<&Composite>)],
        each: &mut impl FnMut(&[u8]) -> TypeResult<bool>,
    ) -> TypeResult<()> {
        let mut live = Vec::with_capacity(sets.len());
        for (k, m) in sets {
            match m {
                Some(m) => live.push((*k, *m)),
                // An intersection with an empty set is empty.
                None => return Ok(()),
            }
        }
        // Iterate the smallest set, probe the others.
        live.sort_by_key(|(_, m)| m.size);
        let Some(((key, meta), others)) = live.split_first() else {
            return Ok(());
        };
        self.filter_each(key, meta, others, true, each)
    }

    fn diff_each(
        &self,
        sets: &[(&[u8], Option<&Composite>)],
        each: &mut impl FnMut(&[u8]) -> TypeResult<bool>,
    ) -> TypeResult<()> {
        let Some(((key, Some(meta)), others)) = sets.split_first() else {
            return Ok(());
        };
        let others: Vec<(&[u8], &Composite)> = others
            .iter()
            .filter_map(|(k, m)| m.map(|m| (*k, m)))
            .collect();
        self.filter_each(key, meta, &others, false, each)
    }

    /// Passes the members of the set (`key`, `meta`) in byte order to
    /// `each`, until it returns false: those in every one of `others` when
    /// `in_others` (SINTER), those in none of them otherwise (SDIFF).
    fn filter_each(
        &self,
        key: &[u8],
        meta: &Composite,
        others: &[(&[u8], &Composite)],
        in_others: bool,
        each: &mut impl FnMut(&[u8]) -> TypeResult<bool>,
    ) -> TypeResult<()> {
        let mut it = self.subkeys(Cf::Subkey, key, meta.version);
        it.seek_to_first();
        'members: while it.valid() {
            let member = it.rest();
            for (k, m) in others {
                if self.has_member(k, m, member)? != in_others {
                    it.next();
                    continue 'members;
                }
            }
            if !each(member)? {
                return Ok(());
            }
            it.next();
        }
        it.status()
    }

    fn union_each(
        &self,
        sets: &[(&[u8], Option<&Composite>)],
        each: &mut impl FnMut(&[u8]) -> TypeResult<bool>,
    ) -> TypeResult<()> {
        // A k-way merge of the sorted member iterators.
        let mut its: Vec<SubkeyIter<'_>> = Vec::new();
        for (k, m) in sets {
            if let Some(m) = m {
                let mut it = self.subkeys(Cf::Subkey, k, m.version);
                it.seek_to_first();
                if it.valid() {
                    its.push(it);
                } else {
                    it.status()?;
                }
            }
        }
        let mut current: Vec<u8> = Vec::new();
        while !its.is_empty() {
            let Some(min) = its.iter().map(|it| it.rest()).min() else {
                break;
            };
            current.clear();
            current.extend_from_slice(min);
            let mut i = 0;
            while i < its.len() {
                if its[i].rest() == current.as_slice() {
                    its[i].next();
                    if !its[i].valid() {
                        its[i].status()?;
                        its.swap_remove(i);
                        continue;
                    }
                }
                i += 1;
            }
            if !each(&current)? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// SINTER / SUNION / SDIFF: the members of the result in byte order.
    pub fn set_op(&self, op: SetOp, keys: &[impl AsRef<[u8]>]) -> TypeResult<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        self.set_op_each(op, keys, |m| {
            out.push(m.to_vec());
            Ok(true)
        })?;
        Ok(out)
    }

    /// SINTERCARD: the size of the intersection, counting stopped at
    /// `limit` when it is not 0.
    pub fn sintercard(&self, keys: &[impl AsRef<[u8]>], limit: u64) -> TypeResult<u64> {
        let mut n = 0u64;
        self.set_op_each(SetOp::Inter, keys, |_| {
            n += 1;
            Ok(limit == 0 || n < limit)
        })?;
        Ok(n)
    }

    /// SINTERSTORE / SUNIONSTORE / SDIFFSTORE: replaces `dst` (whatever its
    /// type, TTL dropped) with the result and returns its size; an empty
    /// result deletes `dst`. The result is written in bounded batches under
    /// a fresh version of `dst`, and its metadata last, so a reader sees
    /// the old value or the new one, never a part. All keys are locked.
    pub fn set_op_store(
        &self,
        op: SetOp,
        dst: &[u8],
        keys: &[impl AsRef<[u8]>],
    ) -> TypeResult<u64> {
        let mut all: Vec<&[u8]> = keys.iter().map(|k| k.as_ref()).collect();
        all.push(dst);
        let _guard = self.storage.locks().lock(&all);
        let mut writer = StoreWriter {
            db: self,
            key: dst,
            version: self.storage.next_version(),
            batch: WriteBatch::default(),
            bytes: 0,
            written: 0,
        };
        self.set_op_each(op, keys, |m| {
            writer.add(m)?;
            Ok(true)
        })?;
        let StoreWriter {
            mut batch,
            written,
            version,
            ..
        } = writer;
        let mut meta = Composite::new(DataType::Set, version);
        meta.size = written;
        if written == 0 && self.read_meta(dst)?.is_none() {
            return Ok(0);
        }
        self.stage_composite(&mut batch, dst, &meta);
        self.storage.write(batch)?;
        Ok(written)
    }
}
