//! The string type: values stored inline in the metadata record.

use rocksdb::WriteBatch;

use super::{Db, TypeError, TypeResult};
use crate::storage::folded::FoldedWrites;
use crate::storage::metadata::{self, Composite, DataType};
use crate::storage::Cf;
use crate::util::numbers::parse_i64;

/// Which existing-key condition a SET requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Condition {
    /// Always write.
    #[default]
    Always,
    /// Only when the key does not exist (NX).
    IfAbsent,
    /// Only when the key exists (XX).
    IfPresent,
}

/// What to do with the key's time to live on a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expiry {
    /// Remove any TTL.
    #[default]
    Clear,
    /// Keep the current TTL (KEEPTTL).
    Keep,
    /// Expire at this Unix time in ms.
    At(u64),
}

/// Options of a SET.
#[derive(Debug, Clone, Copy, Default)]
pub struct SetOptions {
    /// NX / XX.
    pub condition: Condition,
    /// EX/PX/EXAT/PXAT/KEEPTTL.
    pub expiry: Expiry,
    /// Return the old value (GET).
    pub get_old: bool,
}

/// What a SET did.
#[derive(Debug, Default)]
pub struct SetOutcome {
    /// True when the value was written.
    pub written: bool,
    /// The previous value, when asked for with GET.
    pub old: Option<Vec<u8>>,
}

/// The value of a string key from its raw metadata record: the record
/// without its header, dropped in place rather than copying the value.
pub(super) fn string_payload(mut raw: Vec<u8>) -> Vec<u8> {
    raw.drain(..metadata::HEADER_LEN.min(raw.len()));
    raw
}

/// INCRBY's arithmetic: the current value (absent is 0) plus `delta`, as
/// the bytes to store and the number to reply.
fn add_to_integer(current: Option<&[u8]>, delta: i64) -> TypeResult<(Vec<u8>, i64)> {
    let n = match current {
        None => 0,
        Some(v) => parse_i64(v).ok_or(TypeError::NotInteger)?,
    };
    let n = n.checked_add(delta).ok_or(TypeError::Overflow)?;
    Ok((n.to_string().into_bytes(), n))
}

impl Db<'_> {
    /// The value and expire time of a string, or of a bitmap read as one
    /// (Redis users see bitmaps as strings); WRONGTYPE for other types.
    fn string_value(&self, key: &[u8]) -> TypeResult<Option<(Vec<u8>, u64)>> {
        let Some(m) = self.read_meta(key)? else {
            return Ok(None);
        };
        match m.header.dtype {
            DataType::String => Ok(Some((string_payload(m.raw), m.header.expire_ms))),
            DataType::Bitmap => {
                let meta = Composite::decode(&m.raw).ok_or(TypeError::WrongType)?;
                let value = self.bitmap_bytes(key, &meta, 0, meta.size)?;
                Ok(Some((value, meta.expire_ms)))
            }
            // An HLL reads as Redis's dense HYLL string.
            DataType::Hll => Ok(self.hll_as_string(key)?.map(|v| (v, m.header.expire_ms))),
            _ => Err(TypeError::WrongType),
        }
    }

    /// STRLEN of a string or a bitmap (from its metadata alone).
    pub fn strlen(&self, key: &[u8]) -> TypeResult<u64> {
        let Some(m) = self.read_meta(key)? else {
            return Ok(0);
        };
        match m.header.dtype {
            DataType::String => Ok(metadata::string_value(&m.raw).len() as u64),
            DataType::Bitmap => Ok(Composite::decode(&m.raw).ok_or(TypeError::WrongType)?.size),
            DataType::Hll => Ok(crate::types::rdb::hyll::DENSE_LEN as u64),
            _ => Err(TypeError::WrongType),
        }
    }

    /// GETRANGE with Redis's index rules; a bitmap reads only the
    /// fragments the range covers.
    pub fn get_range(&self, key: &[u8], start: i64, end: i64) -> TypeResult<Vec<u8>> {
        let Some(m) = self.read_meta(key)? else {
            return Ok(Vec::new());
        };
        match m.header.dtype {
            DataType::String => {
                let v = metadata::string_value(&m.raw);
                Ok(match substring_bounds(v.len() as u64, start, end) {
                    Some((s, e)) => v[s as usize..=e as usize].to_vec(),
                    None => Vec::new(),
                })
            }
            DataType::Bitmap => {
                let meta = Composite::decode(&m.raw).ok_or(TypeError::WrongType)?;
                match substring_bounds(meta.size, start, end) {
                    Some((s, e)) => self.bitmap_bytes(key, &meta, s, e + 1),
                    None => Ok(Vec::new()),
                }
            }
            DataType::Hll => {
                let v = self.hll_as_string(key)?.unwrap_or_default();
                Ok(match substring_bounds(v.len() as u64, start, end) {
                    Some((s, e)) => v[s as usize..=e as usize].to_vec(),
                    None => Vec::new(),
                })
            }
            _ => Err(TypeError::WrongType),
        }
    }

    fn check_len(&self, len: usize) -> TypeResult<()> {
        if len > self.max_value_len {
            return Err(TypeError::TooBig);
        }
        Ok(())
    }

    /// GET.
    pub fn get(&self, key: &[u8]) -> TypeResult<Option<Vec<u8>>> {
        Ok(self.string_value(key)?.map(|(v, _)| v))
    }

    /// SET with all its options.
    pub fn set(&self, key: &[u8], value: &[u8], opts: SetOptions) -> TypeResult<SetOutcome> {
        let _guard = self.storage.locks().lock(&[key]);
        let existing = self.read_meta(key)?;
        let mut outcome = SetOutcome::default();
        if opts.get_old {
            if let Some(m) = &existing {
                outcome.old = match m.header.dtype {
                    DataType::String => Some(metadata::string_value(&m.raw).to_vec()),
                    DataType::Bitmap | DataType::Hll => self.string_value(key)?.map(|(v, _)| v),
                    _ => return Err(TypeError::WrongType),
                };
            }
        }
        let proceed = match opts.condition {
            Condition::Always => true,
            Condition::IfAbsent => existing.is_none(),
            Condition::IfPresent => existing.is_some(),
        };
        if !proceed {
            return Ok(outcome);
        }
        let expire = match opts.expiry {
            Expiry::Clear => 0,
            Expiry::At(ms) => ms,
            Expiry::Keep => existing.as_ref().map(|m| m.header.expire_ms).unwrap_or(0),
        };
        self.storage.put(
            Cf::Metadata,
            &self.meta_key(key),
            &metadata::encode_string(expire, value),
        )?;
        outcome.written = true;
        Ok(outcome)
    }

    /// SET without NX/XX/GET/KEEPTTL: needs no read, so with `folded` it
    /// joins the connection's pending batch instead of writing at once.
    pub fn set_blind(
        &self,
        key: &[u8],
        value: &[u8],
        expire_ms: u64,
        folded: &mut FoldedWrites,
    ) -> TypeResult<()> {
        let mk = self.meta_key(key);
        let raw = metadata::encode_string(expire_ms, value);
        if self.storage.fold_put(folded, key, Cf::Metadata, &mk, &raw) {
            return Ok(());
        }
        // Stripe busy (maybe by our own batch) or batch full: apply, then
        // write this one directly.
        self.storage.apply_folded(folded)?;
        let _guard = self.storage.locks().lock(&[key]);
        self.storage.put(Cf::Metadata, &mk, &raw)?;
        Ok(())
    }

    /// Writes a string, keeping nothing of the old key (used by MSET, COPY).
    pub fn put_string(&self, batch: &mut WriteBatch, key: &[u8], value: &[u8], expire_ms: u64) {
        batch.put_cf(
            self.storage.cf(Cf::Metadata),
            self.meta_key(key),
            metadata::encode_string(expire_ms, value),
        );
    }

    /// MGET without collecting: `each` gets every key's string value in
    /// order (`None` for missing keys and other types) as a view of the
    /// buffer it was read into, so a caller can assemble a large reply
    /// without copying values a second time.
    pub fn mget_each(
        &self,
        keys: &[impl AsRef<[u8]>],
        mut each: impl FnMut(Option<bytes::Bytes>),
    ) -> TypeResult<()> {
        for k in keys {
            match self.read_meta(k.as_ref())? {
                Some(m) if m.header.dtype == DataType::String => {
                    let start = m.raw.len() - metadata::string_value(&m.raw).len();
                    each(Some(bytes::Bytes::from(m.raw).slice(start..)))
                }
                Some(m) if m.header.dtype == DataType::Hll => {
                    each(self.hll_as_string(k.as_ref())?.map(bytes::Bytes::from))
                }
                Some(m) if m.header.dtype == DataType::Bitmap => {
                    let value = match Composite::decode(&m.raw) {
                        Some(meta) => Some(self.bitmap_bytes(k.as_ref(), &meta, 0, meta.size)?),
                        None => None,
                    };
                    each(value.map(bytes::Bytes::from))
                }
                _ => each(None),
            }
        }
        Ok(())
    }

    /// MSET / MSETNX: writes all pairs atomically; with `only_if_none_exist`
    /// writes nothing when any key exists. Returns whether it wrote.
    pub fn mset(&self, pairs: &[(&[u8], &[u8])], only_if_none_exist: bool) -> TypeResult<bool> {
        let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| *k).collect();
        let _guard = self.storage.locks().lock(&keys);
        if only_if_none_exist {
            for k in &keys {
                if self.read_meta(k)?.is_some() {
                    return Ok(false);
                }
            }
        }
        let mut batch = WriteBatch::default();
        for (k, v) in pairs {
            self.put_string(&mut batch, k, v, 0);
        }
        self.storage.write(batch)?;
        Ok(true)
    }

    /// MSET whose writes join the connection's pending batch (`folded`),
    /// all or none: when a key's stripe is busy or the batch is full, the
    /// batch is applied and the MSET runs on its own.
    pub fn mset_folded(
        &self,
        pairs: &[(&[u8], &[u8])],
        folded: &mut FoldedWrites,
    ) -> TypeResult<()> {
        if !pairs.iter().all(|(k, _)| self.storage.fold_lock(folded, k)) {
            // Stripes taken so far are released with the batch.
            self.storage.apply_folded(folded)?;
            self.mset(pairs, false)?;
            return Ok(());
        }
        for (k, v) in pairs {
            let raw = metadata::encode_string(0, v);
            self.storage
                .fold_put_held(folded, Cf::Metadata, &self.meta_key(k), &raw);
        }
        Ok(())
    }

    /// Read-modify-write of a string under the key's lock. `f` gets the
    /// current value (if any) and returns the new one; the TTL is kept.
    fn update_string<T>(
        &self,
        key: &[u8],
        f: impl FnOnce(Option<&[u8]>) -> TypeResult<(Vec<u8>, T)>,
    ) -> TypeResult<T> {
        let _guard = self.storage.locks().lock(&[key]);
        let current = self.string_value(key)?;
        let expire = current.as_ref().map(|(_, e)| *e).unwrap_or(0);
        let (new, out) = f(current.as_ref().map(|(v, _)| v.as_slice()))?;
        self.check_len(new.len())?;
        self.storage.put(
            Cf::Metadata,
            &self.meta_key(key),
            &metadata::encode_string(expire, &new),
        )?;
        Ok(out)
    }

    /// INCRBY / DECRBY / INCR / DECR.
    pub fn incr_by(&self, key: &[u8], delta: i64) -> TypeResult<i64> {
        self.update_string(key, |cur| add_to_integer(cur, delta))
    }

    /// [`Db::incr_by`] whose write joins the connection's pending batch
    /// (`folded`) when the key's stripe is free; otherwise the batch is
    /// applied and the increment runs on its own.
    pub fn incr_by_folded(
        &self,
        key: &[u8],
        delta: i64,
        folded: &mut FoldedWrites,
    ) -> TypeResult<i64> {
        if !self.storage.fold_lock(folded, key) {
            self.storage.apply_folded(folded)?;
            return self.incr_by(key, delta);
        }
        let current = self.string_value(key)?;
        let expire = current.as_ref().map(|(_, e)| *e).unwrap_or(0);
        let (new, n) = add_to_integer(current.as_ref().map(|(v, _)| v.as_slice()), delta)?;
        self.storage.fold_put_held(
            folded,
            Cf::Metadata,
            &self.meta_key(key),
            &metadata::encode_string(expire, &new),
        );
        Ok(n)
    }

    /// INCRBYFLOAT with Redis's `long double` arithmetic; `delta` is the
    /// raw argument, parsed after the key's type and value are checked (as
    /// Redis does). Returns the new value as stored.
    pub fn incr_by_float(&self, key: &[u8], delta: &[u8]) -> TypeResult<Vec<u8>> {
        self.update_string(key, |cur| {
            let text = super::longdouble::incr_by_float(cur, delta).map_err(|e| match e {
                super::longdouble::LdError::NotFloat => TypeError::NotFloat,
                super::longdouble::LdError::Infinite => TypeError::NanOrInfinity,
            })?;
            let bytes = text.into_bytes();
            Ok((bytes.clone(), bytes))
        })
    }

    /// APPEND; returns the new length.
    pub fn append(&self, key: &[u8], tail: &[u8]) -> TypeResult<usize> {
        self.update_string(key, |cur| {
            let mut v = cur.map(<[u8]>::to_vec).unwrap_or_default();
            v.extend_from_slice(tail);
            let len = v.len();
            Ok((v, len))
        })
    }

    /// SETRANGE; returns the new length. An empty `data` on a missing key
    /// creates nothing.
    pub fn set_range(&self, key: &[u8], offset: usize, data: &[u8]) -> TypeResult<usize> {
        if data.is_empty() {
            return Ok(self.get(key)?.map(|v| v.len()).unwrap_or(0));
        }
        self.check_len(offset.saturating_add(data.len()))?;
        self.update_string(key, |cur| {
            let mut v = cur.map(<[u8]>::to_vec).unwrap_or_default();
            let end = offset + data.len();
            if v.len() < end {
                v.resize(end, 0);
            }
            v[offset..end].copy_from_slice(data);
            let len = v.len();
            Ok((v, len))
        })
    }

    /// GETDEL.
    pub fn get_del(&self, key: &[u8]) -> TypeResult<Option<Vec<u8>>> {
        let _guard = self.storage.locks().lock(&[key]);
        let v = self.get(key)?;
        if v.is_some() {
            self.storage.delete(Cf::Metadata, &self.meta_key(key))?;
        }
        Ok(v)
    }

    /// GETEX: returns the value and applies the expiry `expiry` gives
    /// (`None` leaves the TTL). `expiry` runs only once the key is known to
    /// be a string, so its errors come after nil and WRONGTYPE.
    pub fn get_ex<E: From<TypeError>>(
        &self,
        key: &[u8],
        expiry: impl FnOnce() -> Result<Option<Expiry>, E>,
    ) -> Result<Option<Vec<u8>>, E> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some((value, old_expire)) = self.string_value(key)? else {
            return Ok(None);
        };
        let new_expire = match expiry()? {
            None | Some(Expiry::Keep) => return Ok(Some(value)),
            Some(Expiry::Clear) => 0,
            Some(Expiry::At(ms)) => ms,
        };
        let mk = self.meta_key(key);
        let composite = self
            .read_meta(key)?
            .filter(|m| matches!(m.header.dtype, DataType::Bitmap | DataType::Hll))
            .and_then(|m| Composite::decode(&m.raw));
        if let Some(mut meta) = composite {
            // A bitmap or HLL keeps its subkeys: only its metadata changes.
            if new_expire != 0 && new_expire <= crate::util::now_ms() {
                self.storage
                    .delete(Cf::Metadata, &mk)
                    .map_err(TypeError::from)?;
            } else if new_expire != old_expire {
                meta.expire_ms = new_expire;
                self.storage
                    .put(Cf::Metadata, &mk, &meta.encode())
                    .map_err(TypeError::from)?;
            }
            return Ok(Some(value));
        }
        if new_expire != 0 && new_expire <= crate::util::now_ms() {
            self.storage
                .delete(Cf::Metadata, &mk)
                .map_err(TypeError::from)?;
        } else if new_expire != old_expire {
            self.storage
                .put(
                    Cf::Metadata,
                    &mk,
                    &metadata::encode_string(new_expire, &value),
                )
                .map_err(TypeError::from)?;
        }
        Ok(Some(value))
    }

    /// kvrocks CAS: swap to `new` when the value equals `old`.
    /// Returns -1 when missing, 0 when different, 1 when swapped.
    pub fn cas(&self, key: &[u8], old: &[u8], new: &[u8], expire_ms: u64) -> TypeResult<i64> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some((cur, _)) = self.string_value(key)? else {
            return Ok(-1);
        };
        if cur != old {
            return Ok(0);
        }
        self.storage.put(
            Cf::Metadata,
            &self.meta_key(key),
            &metadata::encode_string(expire_ms, new),
        )?;
        Ok(1)
    }

    /// kvrocks CAD: delete when the value equals `value`.
    /// Returns -1 when missing, 0 when different, 1 when deleted.
    pub fn cad(&self, key: &[u8], value: &[u8]) -> TypeResult<i64> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some((cur, _)) = self.string_value(key)? else {
            return Ok(-1);
        };
        if cur != value {
            return Ok(0);
        }
        self.storage.delete(Cf::Metadata, &self.meta_key(key))?;
        Ok(1)
    }
}

/// Redis's GETRANGE index rules over a value of `len` bytes: negatives
/// count from the end, clamped; the inclusive byte range, or `None` when
/// empty.
pub fn substring_bounds(len: u64, start: i64, end: i64) -> Option<(u64, u64)> {
    let len = len as i64;
    if len == 0 || (start < 0 && end < 0 && start > end) {
        return None;
    }
    let s = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let e = if end < 0 {
        (len + end).max(0)
    } else {
        end.min(len - 1)
    };
    (s <= e && s < len).then_some((s as u64, e as u64))
}

/// One matching range of an LCS: positions in both strings (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LcsRange {
    /// Start and end in the first string.
    pub a: (usize, usize),
    /// Start and end in the second string.
    pub b: (usize, usize),
    /// Length of the range.
    pub len: usize,
}

/// The longest common subsequence of two strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcsOutcome {
    /// The subsequence itself.
    pub common: Vec<u8>,
    /// Its contiguous matching ranges, from the end of the strings back to
    /// their start (the order Redis reports them in).
    pub ranges: Vec<LcsRange>,
}

/// Computes the LCS with Redis's dynamic programming table and walks it
/// back the way Redis does, so ties resolve to the same subsequence and
/// the same ranges. The caller bounds the table's size.
pub fn lcs(a: &[u8], b: &[u8]) -> LcsOutcome {
    let width = b.len() + 1;
    let mut table = vec![0u32; (a.len() + 1) * width];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let total = table[a.len() * width + b.len()] as usize;
    let mut common = vec![0u8; total];
    let mut ranges = Vec::new();
    let mut fill = total;
    // The range being grown backwards: (a start, a end, b start, b end).
    let mut current: Option<(usize, usize, usize, usize)> = None;
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            common[fill - 1] = a[i - 1];
            fill -= 1;
            current = Some(match current {
                Some((as_, ae, bs, be)) if as_ == i && bs == j => (as_ - 1, ae, bs - 1, be),
                Some(r) => {
                    // Not contiguous: cannot follow a match, kept for safety.
                    emit = true;
                    r
                }
                None => (i - 1, i - 1, j - 1, j - 1),
            });
            if let Some((as_, _, bs, _)) = current {
                if as_ == 0 || bs == 0 {
                    emit = true;
                }
            }
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = current.is_some();
        }
        if emit {
            if let Some((as_, ae, bs, be)) = current.take() {
                ranges.push(LcsRange {
                    a: (as_, ae),
                    b: (bs, be),
                    len: ae - as_ + 1,
                });
            }
        }
    }
    LcsOutcome { common, ranges }
}

#[cfg(test)]
mod tests {
    use super::lcs;

    #[test]
    fn lcs_of_the_redis_docs_example() {
        let out = lcs(b"ohmytext", b"mynewtext");
        assert_eq!(out.common, b"mytext");
        let ranges: Vec<_> = out.ranges.iter().map(|r| (r.a, r.b, r.len)).collect();
        assert_eq!(ranges, vec![((4, 7), (5, 8), 4), ((2, 3), (0, 1), 2)]);
    }

    #[test]
    fn lcs_of_empty_and_disjoint_strings() {
        assert!(lcs(b"", b"abc").common.is_empty());
        let out = lcs(b"abc", b"xyz");
        assert!(out.common.is_empty() && out.ranges.is_empty());
    }
}
