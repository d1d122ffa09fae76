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
//!
//! This module also holds the random picks shared by SRANDMEMBER, SPOP and
//! HRANDFIELD ([`Db::random_subkeys`]).

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use rocksdb::WriteBatch;

use super::composite::SubkeyIter;
use super::{Db, TypeResult};
use crate::storage::metadata::{Composite, DataType};
use crate::storage::Cf;

/// Records per write batch when a STORE command writes its result.
const STORE_BATCH_RECORDS: usize = 1024;

/// Bytes per write batch when a STORE command writes its result.
const STORE_BATCH_BYTES: usize = 4 << 20;

/// Keys with at most this many entries are sampled exactly (one pass).
const EXACT_PICK_MAX: u64 = 1024;

/// A random seek is followed by a forward skip chosen uniformly in
/// `[0, PICK_WINDOW)` entries, to smooth the seek's bias.
const PICK_WINDOW: u64 = 64;

/// Entries read at each end of a big key to learn the shape of its
/// members (byte alphabet, length) for random seeks.
const SHAPE_SAMPLE: usize = 16;

/// Bytes of each sampled entry kept to learn the shape (members can be
/// big; seek targets longer than this gain nothing).
const SHAPE_MAX_LEN: usize = 256;

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

/// A small non-cryptographic generator (SplitMix64), seeded per use from
/// the process's random hasher keys, the clock and a counter.
pub(super) struct Rng(u64);

impl Rng {
    /// A freshly seeded generator.
    pub(super) fn new() -> Rng {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u64(crate::util::now_ms());
        Rng(h.finish())
    }

    /// The next 64 random bits.
    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, n)` (0 when `n` is 0).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub(super) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// What a big key's members look like, learned from a few entries at each
/// end; random seek targets are drawn to look alike.
struct Shape {
    /// Bytes shared by the first and the last entry.
    prefix: Vec<u8>,
    /// Candidates for the first byte after the prefix.
    first: Vec<u8>,
    /// Candidates for the bytes after that.
    rest: Vec<u8>,
    /// Length of the longest sampled entry.
    max_len: usize,
}

impl Shape {
    /// Learns the shape from the entries at both ends of `it`'s key.
    fn learn(it: &mut SubkeyIter<'_>) -> TypeResult<Shape> {
        let mut samples = Vec::new();
        // Up to SHAPE_SAMPLE entries (their first SHAPE_MAX_LEN bytes) from
        // one end of the key inwards; returns how many.
        let mut sample = |it: &mut SubkeyIter<'_>, forward: bool| {
            let mut n = 0;
            while n < SHAPE_SAMPLE && it.valid() {
                samples.push(it.rest()[..it.rest().len().min(SHAPE_MAX_LEN)].to_vec());
                it.step(forward);
                n += 1;
            }
            n
        };
        it.seek_to_first();
        let forward = sample(it, true);
        it.seek_to_last();
        sample(it, false);
        it.status()?;
        let first = samples.first().cloned().unwrap_or_default();
        let last = samples.get(forward).cloned().unwrap_or_default();
        let p = first.iter().zip(&last).take_while(|(a, b)| a == b).count();
        let lo0 = first.get(p).copied().unwrap_or(0);
        let hi0 = last.get(p).copied().unwrap_or(u8::MAX).max(lo0);
        // The bytes seen after the prefix; when they cover most of their
        // span (binary data), every byte of the span.
        let mut seen = [false; 256];
        for s in &samples {
            for &b in s.get(p..).unwrap_or(&[]) {
                seen[b as usize] = true;
            }
        }
        let mut rest: Vec<u8> = (0..=u8::MAX).filter(|&b| seen[b as usize]).collect();
        if let (Some(&lo), Some(&hi)) = (rest.first(), rest.last()) {
            if rest.len() * 2 > (hi - lo) as usize + 1 {
                rest = (lo..=hi).collect();
            }
        } else {
            rest = (0..=u8::MAX).collect();
        }
        let mut first_byte: Vec<u8> = rest
            .iter()
            .copied()
            .filter(|b| (lo0..=hi0).contains(b))
            .collect();
        if first_byte.is_empty() {
            first_byte = (lo0..=hi0).collect();
        }
        Ok(Shape {
            prefix: first[..p].to_vec(),
            first: first_byte,
            rest,
            max_len: samples.iter().map(Vec::len).max().unwrap_or(0).max(p + 1),
        })
    }

    /// A random seek target: the prefix, then bytes drawn from the
    /// candidates up to the longest sampled length.
    fn target(&self, rng: &mut Rng) -> Vec<u8> {
        let pick = |rng: &mut Rng, from: &[u8]| {
            from.get(rng.below(from.len() as u64) as usize)
                .copied()
                .unwrap_or(0)
        };
        let mut t = self.prefix.clone();
        t.push(pick(rng, &self.first));
        while t.len() < self.max_len {
            t.push(pick(rng, &self.rest));
        }
        t
    }
}

/// Moves `it` one entry forward, wrapping to the first at the end.
fn next_wrapping(it: &mut SubkeyIter<'_>) {
    it.next();
    if !it.valid() {
        it.seek_to_first();
    }
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

    /// Up to `count` random entries (`rest`, value) of the subkey CF of the
    /// composite `key` described by `meta`: distinct ones when `distinct`
    /// (all of them when `count` covers the key), otherwise `count`
    /// independent picks that may repeat. Memory grows with the answer,
    /// never with the key.
    ///
    /// Distribution: keys of up to [`EXACT_PICK_MAX`] entries, and requests
    /// large compared to the key (`count * 32 >= size`), take one pass over
    /// the key and are exactly uniform. Otherwise each pick seeks to a
    /// random byte string shaped like the key's entries (same common
    /// prefix, bytes and length as a sample taken at both ends) and
    /// then skips forward a uniform `[0, PICK_WINDOW)` entries. This is
    /// only approximately uniform: entries that follow wide gaps in byte
    /// space (e.g. after short names among long ones, or at the edge of a
    /// dense cluster) are picked more often than others. Distinct picks on
    /// big keys retry duplicates a bounded number of times and then fall
    /// back to the exact one-pass selection.
    pub fn random_subkeys(
        &self,
        key: &[u8],
        meta: &Composite,
        count: u64,
        distinct: bool,
    ) -> TypeResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let size = meta.size;
        if size == 0 || count == 0 {
            return Ok(Vec::new());
        }
        let mut rng = Rng::new();
        let mut it = self.subkeys(Cf::Subkey, key, meta.version);
        if distinct && count >= size {
            let mut out = Vec::new();
            it.seek_to_first();
            while it.valid() {
                out.push((it.rest().to_vec(), it.value().to_vec()));
                it.next();
            }
            it.status()?;
            return Ok(out);
        }
        let exact = size <= EXACT_PICK_MAX || count.saturating_mul(32) >= size;
        let mut out = if exact && distinct {
            Self::select_distinct(&mut it, size, count, &mut rng)?
        } else if exact {
            Self::select_repeated(&mut it, size, count, &mut rng)?
        } else {
            let shape = Shape::learn(&mut it)?;
            let window = PICK_WINDOW.min(size);
            let pick = |it: &mut SubkeyIter<'_>, rng: &mut Rng| -> TypeResult<()> {
                it.seek(&shape.target(rng));
                if !it.valid() {
                    it.status()?;
                    it.seek_to_first();
                }
                for _ in 0..rng.below(window) {
                    next_wrapping(it);
                }
                it.status()
            };
            let mut out = Vec::new();
            if distinct {
                let mut seen: HashSet<Vec<u8>> = HashSet::new();
                let mut tries = count.saturating_mul(4).saturating_add(32);
                while (out.len() as u64) < count && tries > 0 {
                    tries -= 1;
                    pick(&mut it, &mut rng)?;
                    if it.valid() && seen.insert(it.rest().to_vec()) {
                        out.push((it.rest().to_vec(), it.value().to_vec()));
                    }
                }
                if (out.len() as u64) < count {
                    out = Self::select_distinct(&mut it, size, count, &mut rng)?;
                }
            } else {
                for _ in 0..count {
                    pick(&mut it, &mut rng)?;
                    if it.valid() {
                        out.push((it.rest().to_vec(), it.value().to_vec()));
                    }
                }
            }
            out
        };
        rng.shuffle(&mut out);
        Ok(out)
    }

    /// Exact uniform choice of `count` distinct entries among `size` in one
    /// pass (selection sampling), in key order.
    fn select_distinct(
        it: &mut SubkeyIter<'_>,
        size: u64,
        count: u64,
        rng: &mut Rng,
    ) -> TypeResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        let mut remaining = size;
        let mut needed = count;
        it.seek_to_first();
        while it.valid() && needed > 0 {
            if rng.below(remaining.max(1)) < needed {
                out.push((it.rest().to_vec(), it.value().to_vec()));
                needed -= 1;
            }
            remaining = remaining.saturating_sub(1);
            it.next();
        }
        it.status()?;
        Ok(out)
    }

    /// Exact uniform choice of `count` entries with repetition in one pass:
    /// random positions, sorted, collected on the way.
    fn select_repeated(
        it: &mut SubkeyIter<'_>,
        size: u64,
        count: u64,
        rng: &mut Rng,
    ) -> TypeResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut positions: Vec<u64> = (0..count).map(|_| rng.below(size)).collect();
        positions.sort_unstable();
        let mut out = Vec::new();
        let mut wanted = positions.iter().peekable();
        let mut pos = 0u64;
        it.seek_to_first();
        while it.valid() && wanted.peek().is_some() {
            while wanted.next_if(|&&p| p == pos).is_some() {
                out.push((it.rest().to_vec(), it.value().to_vec()));
            }
            pos += 1;
            it.next();
        }
        it.status()?;
        Ok(out)
    }
}
