//! The list type (see DESIGN.md, "Key encoding").
//!
//! Layout: the metadata's `extra` is `[head: u64 BE][tail: u64 BE]`; the
//! element at position `i` (0-based from the left) lives in the subkey CF
//! under the index `head + i` (8 bytes, big-endian, so byte order is list
//! order). A new list starts with `head = tail = 1 << 63`, so it can grow
//! both ways. Pushing or popping at either end touches one subkey; LINDEX,
//! LRANGE and LSET seek straight to the index they need.
//!
//! LINSERT and LREM move elements (O(N), like Redis). A shift of up to
//! [`SHIFT_MAX_RECORDS`] elements (and [`SHIFT_MAX_BYTES`]) is one write
//! batch, always of the cheaper side of the list. A longer one rewrites
//! the whole list under a fresh version in bounded batches and switches
//! the metadata last, so memory stays bounded and readers see the list
//! either before or after the change, never half-shifted; the old version's
//! subkeys are then removed by the compaction filter.
//!
//! Every write holds the key's lock; every read of more than one record
//! reads from one snapshot, so it never sees a half-applied write.

use rocksdb::WriteBatch;
use thiserror::Error;

use super::composite::SubkeyIter;
use super::zset::rank_window;
use super::{Db, TypeError};
use crate::storage::metadata::{Composite, DataType};
use crate::storage::{Cf, StorageError};

/// Index of the first element of a new list (room to grow both ways).
pub const INITIAL_INDEX: u64 = 1 << 63;

/// Most elements moved by an in-place shift (LINSERT, LREM) in one write
/// batch; longer shifts rewrite the list under a fresh version.
pub const SHIFT_MAX_RECORDS: u64 = 1024;

/// Most bytes of one in-place shift batch (see [`SHIFT_MAX_RECORDS`]).
pub const SHIFT_MAX_BYTES: usize = 4 << 20;

/// Records per write batch when a list is rewritten under a new version.
const REWRITE_BATCH_RECORDS: usize = 1024;

/// Bytes per write batch when a list is rewritten under a new version.
const REWRITE_BATCH_BYTES: usize = 4 << 20;

/// Pops of at most this many elements use point reads, not an iterator.
const POP_POINT_READS: u64 = 16;

/// Trims longer than this use one range deletion instead of point deletes.
const TRIM_POINT_DELETES: u64 = 64;

/// A failure of a list operation.
#[derive(Debug, Error)]
pub enum ListError {
    /// LSET on a missing key.
    #[error("ERR no such key")]
    NoSuchKey,
    /// LSET with an index outside the list.
    #[error("ERR index out of range")]
    IndexOutOfRange,
    /// The list's index space is used up (after 2^63 pushes at one end).
    #[error("ERR list index space exhausted")]
    Exhausted,
    /// Any failure shared with the other types (WRONGTYPE, storage).
    #[error(transparent)]
    Type(#[from] TypeError),
}

impl From<StorageError> for ListError {
    fn from(e: StorageError) -> Self {
        ListError::Type(TypeError::Storage(e))
    }
}

impl From<rocksdb::Error> for ListError {
    fn from(e: rocksdb::Error) -> Self {
        ListError::Type(e.into())
    }
}

/// Result of a list operation.
pub type ListResult<T> = Result<T, ListError>;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (LPUSH, LPOP, LEFT).
    Left,
    /// The tail (RPUSH, RPOP, RIGHT).
    Right,
}

/// Where LINSERT puts the new element relative to the pivot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// BEFORE the pivot.
    Before,
    /// AFTER the pivot.
    After,
}

/// The options of LPOS.
#[derive(Debug, Clone, Copy)]
pub struct PosOptions {
    /// RANK: which match to start from; negative searches from the tail.
    /// Never 0.
    pub rank: i64,
    /// COUNT: how many matches to return (0 = all).
    pub count: u64,
    /// MAXLEN: how many elements to compare at most (0 = all).
    pub maxlen: u64,
}

/// A list's metadata with its decoded bounds.
struct List {
    meta: Composite,
    head: u64,
    tail: u64,
}

impl List {
    fn new(meta: Composite) -> List {
        let (head, tail) = if meta.extra.len() >= 16 {
            (read_index(&meta.extra[..8]), read_index(&meta.extra[8..16]))
        } else {
            // No bounds recorded (a fresh record): start in the middle.
            (INITIAL_INDEX, INITIAL_INDEX.saturating_add(meta.size))
        };
        List { meta, head, tail }
    }

    fn len(&self) -> u64 {
        self.tail.saturating_sub(self.head)
    }

    /// Writes the bounds back into the metadata (and its size).
    fn sync(&mut self) {
        let mut extra = Vec::with_capacity(16);
        extra.extend_from_slice(&self.head.to_be_bytes());
        extra.extend_from_slice(&self.tail.to_be_bytes());
        self.meta.extra = extra;
        self.meta.size = self.len();
    }

    /// The absolute index of a Redis index (negative counts from the
    /// tail), if it is inside the list.
    fn absolute(&self, index: i64) -> Option<u64> {
        let len = self.len();
        let offset = if index < 0 {
            len.checked_sub(index.unsigned_abs())?
        } else {
            index as u64
        };
        (offset < len).then(|| self.head + offset)
    }

    /// The inclusive offsets `[from, to]` of an LRANGE/LTRIM range, or
    /// `None` when it selects nothing (the index rules of ZRANGE's
    /// [`rank_window`]).
    fn resolve_range(&self, start: i64, stop: i64) -> Option<(u64, u64)> {
        rank_window(self.len().min(i64::MAX as u64), start, stop)
    }
}

fn read_index(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// The index a subkey `rest` names (`None` for a malformed one).
fn index_of(rest: &[u8]) -> Option<u64> {
    (rest.len() == 8).then(|| read_index(rest))
}

/// Writes the elements of a list being rewritten under a new version, in
/// bounded batches; the caller writes the metadata last.
struct Rewriter<'d, 'a> {
    db: &'d Db<'a>,
    key: &'d [u8],
    version: u64,
    next: u64,
    batch: WriteBatch,
}

impl Rewriter<'_, '_> {
    fn emit(&mut self, value: &[u8]) -> ListResult<()> {
        self.batch.put_cf(
            self.db.storage.cf(Cf::Subkey),
            self.db
                .subkey(self.key, self.version, &self.next.to_be_bytes()),
            value,
        );
        self.next = self.next.checked_add(1).ok_or(ListError::Exhausted)?;
        if self.batch.len() >= REWRITE_BATCH_RECORDS
            || self.batch.size_in_bytes() >= REWRITE_BATCH_BYTES
        {
            self.db.storage.write(std::mem::take(&mut self.batch))?;
        }
        Ok(())
    }
}

impl<'a> Db<'a> {
    /// Runs `f` on a view that reads from one snapshot: this one's, or a
    /// new one taken now.
    fn list_read<T>(&self, f: impl FnOnce(&Db<'_>) -> ListResult<T>) -> ListResult<T> {
        if self.snapshot.is_some() {
            return f(self);
        }
        let snap = self.storage.snapshot();
        let db = Db {
            snapshot: Some(&snap),
            ..*self
        };
        f(&db)
    }

    fn read_list(&self, key: &[u8]) -> ListResult<Option<List>> {
        Ok(self.read_composite(key, DataType::List)?.map(List::new))
    }

    fn read_or_new_list(&self, key: &[u8]) -> ListResult<List> {
        Ok(List::new(self.read_or_new_composite(key, DataType::List)?))
    }

    fn list_subkey(&self, key: &[u8], version: u64, index: u64) -> Vec<u8> {
        self.subkey(key, version, &index.to_be_bytes())
    }

    fn list_iter(&self, key: &[u8], l: &List) -> SubkeyIter<'a> {
        self.subkeys(Cf::Subkey, key, l.meta.version)
    }

    fn stage_list(&self, batch: &mut WriteBatch, key: &[u8], l: &mut List) {
        l.sync();
        self.stage_composite(batch, key, &l.meta);
    }

    /// Starts rewriting `l` under a fresh version: the writer (its first
    /// element goes at the head) and an iterator on `l`'s first element.
    fn begin_rewrite<'d>(&'d self, key: &'d [u8], l: &List) -> (Rewriter<'d, 'a>, SubkeyIter<'a>) {
        let rw = Rewriter {
            db: self,
            key,
            version: self.storage.next_version(),
            next: l.head,
            batch: WriteBatch::default(),
        };
        let mut it = self.list_iter(key, l);
        it.seek(&l.head.to_be_bytes());
        (rw, it)
    }

    /// Ends a rewrite: `l` now lives under the writer's version and ends
    /// after its last element; writes the last batch with the metadata.
    fn finish_rewrite(&self, rw: Rewriter<'_, '_>, l: &mut List) -> ListResult<()> {
        let Rewriter {
            key,
            version,
            next,
            mut batch,
            ..
        } = rw;
        l.meta.version = version;
        l.tail = next;
        self.stage_list(&mut batch, key, l);
        self.storage.write(batch)?;
        Ok(())
    }

    /// Stages pushing `values` one by one at `end` of `l`.
    fn stage_push<V: AsRef<[u8]>>(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        l: &mut List,
        end: End,
        values: &[V],
    ) -> ListResult<()> {
        let cf = self.storage.cf(Cf::Subkey);
        for v in values {
            let index = match end {
                End::Left => {
                    l.head = l.head.checked_sub(1).ok_or(ListError::Exhausted)?;
                    l.head
                }
                End::Right => {
                    let i = l.tail;
                    l.tail = l.tail.checked_add(1).ok_or(ListError::Exhausted)?;
                    i
                }
            };
            batch.put_cf(cf, self.list_subkey(key, l.meta.version, index), v.as_ref());
        }
        Ok(())
    }

    /// Stages popping up to `count` elements from `end` of `l`; returns
    /// them in pop order.
    fn stage_pop(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        l: &mut List,
        end: End,
        count: u64,
    ) -> ListResult<Vec<Vec<u8>>> {
        let n = count.min(l.len());
        let mut out = Vec::with_capacity(n.min(1024) as usize);
        if n == 0 {
            return Ok(out);
        }
        let cf = self.storage.cf(Cf::Subkey);
        if n <= POP_POINT_READS {
            // A few elements: point reads are cheaper than an iterator.
            for k in 0..n {
                let index = match end {
                    End::Left => l.head + k,
                    End::Right => l.tail - 1 - k,
                };
                let sk = self.list_subkey(key, l.meta.version, index);
                let Some(v) =
                    self.storage
                        .get_at(self.snapshot, self.fill_cache, Cf::Subkey, &sk)?
                else {
                    break;
                };
                out.push(v.to_vec());
                batch.delete_cf(cf, sk);
            }
        } else {
            self.stage_pop_scan(batch, key, l, end, n, &mut out)?;
        }
        let taken = out.len() as u64;
        match end {
            End::Left => l.head += taken,
            End::Right => l.tail -= taken,
        }
        Ok(out)
    }

    /// The iterator half of [`Db::stage_pop`]: `n` elements from `end`.
    fn stage_pop_scan(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        l: &List,
        end: End,
        n: u64,
        out: &mut Vec<Vec<u8>>,
    ) -> ListResult<()> {
        let cf = self.storage.cf(Cf::Subkey);
        let mut it = self.list_iter(key, l);
        match end {
            End::Left => it.seek(&l.head.to_be_bytes()),
            End::Right => it.seek_for_prev(&(l.tail - 1).to_be_bytes()),
        }
        while it.valid() && (out.len() as u64) < n {
            batch.delete_cf(cf, self.subkey(key, l.meta.version, it.rest()));
            out.push(it.value().to_vec());
            match end {
                End::Left => it.next(),
                End::Right => it.prev(),
            }
        }
        Ok(it.status()?)
    }

    /// LPUSH / RPUSH (and with `only_if_exists`, LPUSHX / RPUSHX): pushes
    /// `values` one by one at `end`; returns the new length (0 when
    /// `only_if_exists` and the key is missing).
    pub fn list_push<V: AsRef<[u8]>>(
        &self,
        key: &[u8],
        end: End,
        values: &[V],
        only_if_exists: bool,
    ) -> ListResult<u64> {
        let _guard = self.storage.locks().lock(&[key]);
        let mut l = match self.read_list(key)? {
            Some(l) => l,
            None if only_if_exists => return Ok(0),
            None => self.read_or_new_list(key)?,
        };
        let mut batch = WriteBatch::default();
        self.stage_push(&mut batch, key, &mut l, end, values)?;
        self.stage_list(&mut batch, key, &mut l);
        self.storage.write(batch)?;
        Ok(l.len())
    }

    /// LPOP / RPOP: up to `count` elements from `end`; `None` when the key
    /// is missing. A count of 0 pops nothing (but still checks the type).
    pub fn list_pop(&self, key: &[u8], end: End, count: u64) -> ListResult<Option<Vec<Vec<u8>>>> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(mut l) = self.read_list(key)? else {
            return Ok(None);
        };
        if count == 0 {
            return Ok(Some(Vec::new()));
        }
        let mut batch = WriteBatch::default();
        let out = self.stage_pop(&mut batch, key, &mut l, end, count)?;
        self.stage_list(&mut batch, key, &mut l);
        self.storage.write(batch)?;
        Ok(Some(out))
    }

    /// LMPOP: pops up to `count` from `end` of the first non-empty list of
    /// `keys`; returns its position in `keys` and the elements. WRONGTYPE
    /// when a key of another type comes before the first list.
    pub fn list_mpop<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        end: End,
        count: u64,
    ) -> ListResult<Option<(usize, Vec<Vec<u8>>)>> {
        let _guard = self.storage.locks().lock(keys);
        for (i, key) in keys.iter().enumerate() {
            let key = key.as_ref();
            let Some(mut l) = self.read_list(key)? else {
                continue;
            };
            let mut batch = WriteBatch::default();
            let out = self.stage_pop(&mut batch, key, &mut l, end, count)?;
            self.stage_list(&mut batch, key, &mut l);
            self.storage.write(batch)?;
            return Ok(Some((i, out)));
        }
        Ok(None)
    }

    /// LMOVE / RPOPLPUSH: pops one element from `from` of `src` and pushes
    /// it at `to` of `dst` (the same key rotates). `None` when `src` is
    /// missing; WRONGTYPE when either key is of another type (`dst` is
    /// only looked at when `src` exists).
    pub fn list_move(
        &self,
        src: &[u8],
        dst: &[u8],
        from: End,
        to: End,
    ) -> ListResult<Option<Vec<u8>>> {
        let _guard = self.storage.locks().lock(&[src, dst]);
        let Some(mut sl) = self.read_list(src)? else {
            return Ok(None);
        };
        let mut batch = WriteBatch::default();
        if src == dst {
            let mut popped = self.stage_pop(&mut batch, src, &mut sl, from, 1)?;
            let Some(value) = popped.pop() else {
                return Ok(None);
            };
            self.stage_push(&mut batch, src, &mut sl, to, &[&value])?;
            self.stage_list(&mut batch, src, &mut sl);
            self.storage.write(batch)?;
            return Ok(Some(value));
        }
        let mut dl = self.read_or_new_list(dst)?;
        let mut popped = self.stage_pop(&mut batch, src, &mut sl, from, 1)?;
        let Some(value) = popped.pop() else {
            return Ok(None);
        };
        self.stage_push(&mut batch, dst, &mut dl, to, &[&value])?;
        self.stage_list(&mut batch, src, &mut sl);
        self.stage_list(&mut batch, dst, &mut dl);
        self.storage.write(batch)?;
        Ok(Some(value))
    }

    /// LLEN (0 for a missing key).
    pub fn list_len(&self, key: &[u8]) -> ListResult<u64> {
        Ok(self.read_list(key)?.map_or(0, |l| l.len()))
    }

    /// LINDEX: the element at `index` (negative counts from the tail).
    pub fn list_index(&self, key: &[u8], index: i64) -> ListResult<Option<Vec<u8>>> {
        self.list_read(|db| {
            let Some(l) = db.read_list(key)? else {
                return Ok(None);
            };
            let Some(at) = l.absolute(index) else {
                return Ok(None);
            };
            Ok(db.get_subkey(Cf::Subkey, key, l.meta.version, &at.to_be_bytes())?)
        })
    }

    /// LRANGE: the elements from `start` to `stop` inclusive (Redis index
    /// rules); `None` when the key is missing. Reads only that range.
    pub fn list_range(
        &self,
        key: &[u8],
        start: i64,
        stop: i64,
    ) -> ListResult<Option<Vec<Vec<u8>>>> {
        self.list_read(|db| {
            let Some(l) = db.read_list(key)? else {
                return Ok(None);
            };
            let Some((from, to)) = l.resolve_range(start, stop) else {
                return Ok(Some(Vec::new()));
            };
            let n = to - from + 1;
            let mut out = Vec::with_capacity(n.min(1024) as usize);
            let mut it = db.list_iter(key, &l);
            it.seek(&(l.head + from).to_be_bytes());
            while it.valid() && (out.len() as u64) < n {
                out.push(it.value().to_vec());
                it.next();
            }
            it.status()?;
            Ok(Some(out))
        })
    }

    /// LSET: replaces the element at `index`.
    pub fn list_set(&self, key: &[u8], index: i64, value: &[u8]) -> ListResult<()> {
        let _guard = self.storage.locks().lock(&[key]);
        let l = self.read_list(key)?.ok_or(ListError::NoSuchKey)?;
        let at = l.absolute(index).ok_or(ListError::IndexOutOfRange)?;
        self.storage.put(
            Cf::Subkey,
            &self.list_subkey(key, l.meta.version, at),
            value,
        )?;
        Ok(())
    }

    /// LTRIM: keeps only `start..=stop` (Redis index rules); a range that
    /// selects nothing deletes the key.
    pub fn list_trim(&self, key: &[u8], start: i64, stop: i64) -> ListResult<()> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(mut l) = self.read_list(key)? else {
            return Ok(());
        };
        let mut batch = WriteBatch::default();
        match l.resolve_range(start, stop) {
            None => {
                // Everything goes: dropping the metadata is enough, the
                // subkeys are then stale and compaction removes them.
                l.tail = l.head;
            }
            Some((from, to)) => {
                let (new_head, new_tail) = (l.head + from, l.head + to + 1);
                self.stage_delete_indexes(&mut batch, key, &l, l.head, new_head);
                self.stage_delete_indexes(&mut batch, key, &l, new_tail, l.tail);
                l.head = new_head;
                l.tail = new_tail;
            }
        }
        self.stage_list(&mut batch, key, &mut l);
        self.storage.write(batch)?;
        Ok(())
    }

    /// Stages deleting the elements at indexes `[from, to)`: point deletes
    /// for a few, one range deletion for more.
    fn stage_delete_indexes(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        l: &List,
        from: u64,
        to: u64,
    ) {
        if from >= to {
            return;
        }
        let cf = self.storage.cf(Cf::Subkey);
        let v = l.meta.version;
        if to - from <= TRIM_POINT_DELETES {
            for i in from..to {
                batch.delete_cf(cf, self.list_subkey(key, v, i));
            }
        } else {
            batch.delete_range_cf(
                cf,
                self.list_subkey(key, v, from),
                self.list_subkey(key, v, to),
            );
        }
    }

    /// LPOS: the positions (from the head) of elements equal to `value`.
    /// Empty when the key is missing.
    pub fn list_pos(&self, key: &[u8], value: &[u8], opts: PosOptions) -> ListResult<Vec<u64>> {
        self.list_read(|db| {
            let Some(l) = db.read_list(key)? else {
                return Ok(Vec::new());
            };
            let from_tail = opts.rank < 0;
            // Matches to skip before collecting. Redis 7.0 negates RANK
            // without an overflow check, so the most negative rank matches
            // from the first hit at the tail; keep that behaviour.
            let skip = match opts.rank {
                i64::MIN => 0,
                r => r.unsigned_abs() - 1,
            };
            let limit = if opts.maxlen == 0 {
                u64::MAX
            } else {
                opts.maxlen
            };
            let mut it = db.list_iter(key, &l);
            if from_tail {
                it.seek_for_prev(&(l.tail - 1).to_be_bytes());
            } else {
                it.seek(&l.head.to_be_bytes());
            }
            let mut out = Vec::new();
            let (mut compared, mut matches) = (0u64, 0u64);
            while it.valid() && compared < limit {
                compared += 1;
                if it.value() == value {
                    matches += 1;
                    if matches > skip {
                        let at = index_of(it.rest()).unwrap_or(l.head);
                        out.push(at.saturating_sub(l.head));
                        if opts.count != 0 && out.len() as u64 >= opts.count {
                            break;
                        }
                    }
                }
                if from_tail {
                    it.prev();
                } else {
                    it.next();
                }
            }
            it.status()?;
            Ok(out)
        })
    }

    /// LINSERT: inserts `value` before or after the first `pivot`. Returns
    /// the new length, -1 when the pivot is not found, 0 when the key is
    /// missing.
    pub fn list_insert(
        &self,
        key: &[u8],
        position: Position,
        pivot: &[u8],
        value: &[u8],
    ) -> ListResult<i64> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(mut l) = self.read_list(key)? else {
            return Ok(0);
        };
        // Find the pivot from the head.
        let mut found = None;
        let mut it = self.list_iter(key, &l);
        it.seek(&l.head.to_be_bytes());
        while it.valid() {
            if it.value() == pivot {
                found = index_of(it.rest());
                break;
            }
            it.next();
        }
        it.status()?;
        drop(it);
        let Some(p) = found else {
            return Ok(-1);
        };
        // The new element goes right before the element now at `q`.
        let q = match position {
            Position::Before => p,
            Position::After => p + 1,
        };
        let left_cost = q - l.head;
        let right_cost = l.tail - q;
        if left_cost.min(right_cost) <= SHIFT_MAX_RECORDS
            && self.insert_in_place(key, &mut l, q, value, left_cost <= right_cost)?
        {
            return Ok(l.len() as i64);
        }
        // A long shift: rewrite the list under a fresh version.
        let (mut rw, mut it) = self.begin_rewrite(key, &l);
        while it.valid() {
            if index_of(it.rest()) == Some(q) {
                rw.emit(value)?;
            }
            rw.emit(it.value())?;
            it.next();
        }
        it.status()?;
        if q >= l.tail {
            rw.emit(value)?;
        }
        self.finish_rewrite(rw, &mut l)?;
        Ok(l.len() as i64)
    }

    /// Inserts `value` before the element at `q` in one batch, moving the
    /// elements on the left (`shift_left`) or right side by one. Returns
    /// false (writing nothing) when the batch would be too big.
    fn insert_in_place(
        &self,
        key: &[u8],
        l: &mut List,
        q: u64,
        value: &[u8],
        shift_left: bool,
    ) -> ListResult<bool> {
        let cf = self.storage.cf(Cf::Subkey);
        let v = l.meta.version;
        let mut batch = WriteBatch::default();
        let mut it = self.list_iter(key, l);
        if shift_left {
            let new_head = l.head.checked_sub(1).ok_or(ListError::Exhausted)?;
            it.seek(&l.head.to_be_bytes());
            while it.valid() {
                let Some(i) = index_of(it.rest()).filter(|&i| i < q) else {
                    break;
                };
                batch.put_cf(cf, self.list_subkey(key, v, i - 1), it.value());
                if batch.size_in_bytes() > SHIFT_MAX_BYTES {
                    return Ok(false);
                }
                it.next();
            }
            it.status()?;
            batch.put_cf(cf, self.list_subkey(key, v, q - 1), value);
            l.head = new_head;
        } else {
            let new_tail = l.tail.checked_add(1).ok_or(ListError::Exhausted)?;
            it.seek(&q.to_be_bytes());
            while it.valid() {
                let Some(i) = index_of(it.rest()) else {
                    break;
                };
                batch.put_cf(cf, self.list_subkey(key, v, i + 1), it.value());
                if batch.size_in_bytes() > SHIFT_MAX_BYTES {
                    return Ok(false);
                }
                it.next();
            }
            it.status()?;
            batch.put_cf(cf, self.list_subkey(key, v, q), value);
            l.tail = new_tail;
        }
        self.stage_list(&mut batch, key, l);
        self.storage.write(batch)?;
        Ok(true)
    }

    /// LREM: removes up to `count` elements equal to `value` from the
    /// head (`count > 0`), from the tail (`count < 0`) or all of them
    /// (`count == 0`). Returns how many were removed.
    pub fn list_rem(&self, key: &[u8], count: i64, value: &[u8]) -> ListResult<u64> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(mut l) = self.read_list(key)? else {
            return Ok(0);
        };
        let limit = if count == 0 {
            u64::MAX
        } else {
            count.unsigned_abs()
        };
        let from_tail = count < 0;
        // First pass: how many go, and the index range [lo, hi] they span.
        // Every match inside that range is one of those removed.
        let (mut removed, mut lo, mut hi) = (0u64, u64::MAX, 0u64);
        let mut it = self.list_iter(key, &l);
        if from_tail {
            it.seek_for_prev(&(l.tail - 1).to_be_bytes());
        } else {
            it.seek(&l.head.to_be_bytes());
        }
        while it.valid() && removed < limit {
            if it.value() == value {
                if let Some(i) = index_of(it.rest()) {
                    removed += 1;
                    lo = lo.min(i);
                    hi = hi.max(i);
                }
            }
            if from_tail {
                it.prev();
            } else {
                it.next();
            }
        }
        it.status()?;
        drop(it);
        if removed == 0 {
            return Ok(0);
        }
        if removed == l.len() {
            // Everything goes: the key disappears.
            l.tail = l.head;
            let mut batch = WriteBatch::default();
            self.stage_list(&mut batch, key, &mut l);
            self.storage.write(batch)?;
            return Ok(removed);
        }
        let left_cost = hi + 1 - l.head;
        let right_cost = l.tail - lo;
        if left_cost.min(right_cost) <= SHIFT_MAX_RECORDS
            && self.rem_in_place(
                key,
                &mut l,
                value,
                (lo, hi),
                removed,
                left_cost <= right_cost,
            )?
        {
            return Ok(removed);
        }
        // A long shift: rewrite the list under a fresh version.
        let (mut rw, mut it) = self.begin_rewrite(key, &l);
        while it.valid() {
            let in_range = index_of(it.rest()).is_some_and(|i| i >= lo && i <= hi);
            if !(in_range && it.value() == value) {
                rw.emit(it.value())?;
            }
            it.next();
        }
        it.status()?;
        self.finish_rewrite(rw, &mut l)?;
        Ok(removed)
    }

    /// Removes the matches of `value` within `[lo, hi]` (`removed` of
    /// them) in one batch, closing the gaps from the left side
    /// (`shift_left`: the head moves right) or the right side. Returns
    /// false (writing nothing) when the batch would be too big.
    fn rem_in_place(
        &self,
        key: &[u8],
        l: &mut List,
        value: &[u8],
        (lo, hi): (u64, u64),
        removed: u64,
        shift_left: bool,
    ) -> ListResult<bool> {
        let cf = self.storage.cf(Cf::Subkey);
        let v = l.meta.version;
        let mut batch = WriteBatch::default();
        let mut it = self.list_iter(key, l);
        if shift_left {
            // Walk [head, hi] backwards, packing survivors towards hi.
            let mut w = hi;
            it.seek_for_prev(&hi.to_be_bytes());
            while it.valid() {
                let Some(i) = index_of(it.rest()).filter(|&i| i >= l.head) else {
                    break;
                };
                if !(i >= lo && it.value() == value) {
                    if w != i {
                        batch.put_cf(cf, self.list_subkey(key, v, w), it.value());
                    }
                    w = w.wrapping_sub(1);
                }
                if batch.size_in_bytes() > SHIFT_MAX_BYTES {
                    return Ok(false);
                }
                it.prev();
            }
            it.status()?;
            let new_head = l.head + removed;
            self.stage_delete_indexes(&mut batch, key, l, l.head, new_head);
            l.head = new_head;
        } else {
            // Walk [lo, tail) forwards, packing survivors towards lo.
            let mut w = lo;
            it.seek(&lo.to_be_bytes());
            while it.valid() {
                let Some(i) = index_of(it.rest()) else {
                    break;
                };
                if !(i <= hi && it.value() == value) {
                    if w != i {
                        batch.put_cf(cf, self.list_subkey(key, v, w), it.value());
                    }
                    w += 1;
                }
                if batch.size_in_bytes() > SHIFT_MAX_BYTES {
                    return Ok(false);
                }
                it.next();
            }
            it.status()?;
            let new_tail = l.tail - removed;
            self.stage_delete_indexes(&mut batch, key, l, new_tail, l.tail);
            l.tail = new_tail;
        }
        self.stage_list(&mut batch, key, l);
        self.storage.write(batch)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Storage;

    fn all(db: &Db<'_>, key: &[u8]) -> Vec<Vec<u8>> {
        db.list_range(key, 0, -1).unwrap().unwrap_or_default()
    }

    fn vals(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn push_pop_range() {
        let (_dir, s) = Storage::open_temp();
        let db = Db::new(&s, b"", 1 << 20);
        assert_eq!(
            db.list_push(b"l", End::Right, &["b", "c"], false).unwrap(),
            2
        );
        assert_eq!(db.list_push(b"l", End::Left, &["a"], false).unwrap(), 3);
        assert_eq!(all(&db, b"l"), vals(&["a", "b", "c"]));
        assert_eq!(db.list_index(b"l", -1).unwrap(), Some(b"c".to_vec()));
        assert_eq!(
            db.list_pop(b"l", End::Right, 2).unwrap(),
            Some(vals(&["c", "b"]))
        );
        assert_eq!(db.list_pop(b"l", End::Left, 5).unwrap(), Some(vals(&["a"])));
        assert_eq!(db.list_len(b"l").unwrap(), 0);
        assert!(db.list_range(b"l", 0, -1).unwrap().is_none());
    }

    fn strings(db: &Db<'_>, key: &[u8]) -> Vec<String> {
        all(db, key)
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect()
    }

    #[test]
    fn shifts_in_place_and_by_rewrite() {
        let (_dir, s) = Storage::open_temp();
        let db = Db::new(&s, b"", 1 << 20);
        let n = 3 * SHIFT_MAX_RECORDS as usize;
        let mut want: Vec<String> = (0..n)
            .map(|i| {
                if i % 500 == 0 {
                    "x".into()
                } else {
                    i.to_string()
                }
            })
            .collect();
        db.list_push(b"l", End::Right, &want, false).unwrap();
        let old_version = db.read_list(b"l").unwrap().unwrap().meta.version;
        // Middle insert: both sides are past the in-place limit.
        let piv = (n / 2 + 1).to_string();
        let p = want.iter().position(|x| *x == piv).unwrap();
        want.insert(p + 1, "A".into());
        let got = db
            .list_insert(b"l", Position::After, piv.as_bytes(), b"A")
            .unwrap();
        assert_eq!(got, want.len() as i64);
        assert_eq!(strings(&db, b"l"), want);
        assert_ne!(
            db.read_list(b"l").unwrap().unwrap().meta.version,
            old_version
        );
        // Near either end: in place.
        let v = db.read_list(b"l").unwrap().unwrap().meta.version;
        db.list_insert(b"l", Position::Before, b"1", b"B").unwrap();
        want.insert(1, "B".into());
        let last = want[want.len() - 2].clone();
        db.list_insert(b"l", Position::After, last.as_bytes(), b"C")
            .unwrap();
        let at = want.len() - 1;
        want.insert(at, "C".into());
        assert_eq!(strings(&db, b"l"), want);
        assert_eq!(db.read_list(b"l").unwrap().unwrap().meta.version, v);
        // LREM from either end in place, then all by rewrite.
        assert_eq!(db.list_rem(b"l", 2, b"x").unwrap(), 2);
        for _ in 0..2 {
            let p = want.iter().position(|x| x == "x").unwrap();
            want.remove(p);
        }
        assert_eq!(db.list_rem(b"l", -1, b"x").unwrap(), 1);
        let p = want.iter().rposition(|x| x == "x").unwrap();
        want.remove(p);
        assert_eq!(strings(&db, b"l"), want);
        let left = want.iter().filter(|x| *x == "x").count() as u64;
        assert_eq!(db.list_rem(b"l", 0, b"x").unwrap(), left);
        want.retain(|x| x != "x");
        assert_eq!(strings(&db, b"l"), want);
        assert_eq!(db.list_len(b"l").unwrap(), want.len() as u64);
    }
}
