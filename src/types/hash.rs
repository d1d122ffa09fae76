//! The hash type (see DESIGN.md, "Key encoding").
//!
//! Layout: one subkey per field in the subkey CF (`rest` = field, value =
//! the field's value); the metadata's `size` is the number of fields. Every
//! write holds the key's lock, reads what it needs and writes one batch
//! (fields and metadata together), so readers never see half a change. A
//! hash whose last field goes disappears (its metadata is deleted).

use std::collections::HashSet;

use rocksdb::WriteBatch;
use thiserror::Error;

use super::longdouble::{self, LdError};
use super::{Db, TypeError, TypeResult};
use crate::storage::metadata::{Composite, DataType};
use crate::storage::{Cf, StorageError};
use crate::util::numbers::parse_i64;

/// A failure of a hash operation that has its own Redis error text.
#[derive(Debug, Error)]
pub enum HashError {
    /// HINCRBY on a field whose value is not an integer.
    #[error("ERR hash value is not an integer")]
    NotInteger,
    /// HINCRBYFLOAT on a field whose value is not a float.
    #[error("ERR hash value is not a float")]
    NotFloat,
    /// Any failure shared with the other types (WRONGTYPE, overflow, storage).
    #[error("{0}")]
    Type(#[from] TypeError),
}

impl From<StorageError> for HashError {
    fn from(e: StorageError) -> Self {
        HashError::Type(e.into())
    }
}

impl From<rocksdb::Error> for HashError {
    fn from(e: rocksdb::Error) -> Self {
        HashError::Type(e.into())
    }
}

/// Result of a hash operation with hash-specific errors.
pub type HashResult<T> = Result<T, HashError>;

/// One end of a lexicographic range (HRANGEBYLEX's is ZRANGEBYLEX's).
pub use super::zset::LexBound;

/// What HRANGEBYLEX asks for: a range, a direction and a LIMIT.
#[derive(Debug, Clone)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
    /// From the upper end down (REV).
    pub rev: bool,
    /// Fields of the range to skip first (a negative offset selects nothing).
    pub offset: i64,
    /// Most fields to return (negative: no limit).
    pub count: i64,
}

impl Db<'_> {
    /// The hash's metadata; `None` when missing; WRONGTYPE for other types.
    pub fn hash_meta(&self, key: &[u8]) -> TypeResult<Option<Composite>> {
        self.read_composite(key, DataType::Hash)
    }

    /// HSET / HMSET (`only_new` = false) and HSETNX (`only_new` = true, one
    /// pair): writes the pairs (a field repeated in `pairs` keeps its last
    /// value) and returns how many fields were created.
    pub fn hset(&self, key: &[u8], pairs: &[(&[u8], &[u8])], only_new: bool) -> TypeResult<u64> {
        let _guard = self.storage.locks().lock(&[key]);
        let mut meta = self.read_or_new_composite(key, DataType::Hash)?;
        let exists = meta.size > 0;
        let mut batch = WriteBatch::default();
        let cf = self.storage.cf(Cf::Subkey);
        let mut seen: HashSet<&[u8]> = HashSet::new();
        let mut added = 0u64;
        for &(field, value) in pairs {
            let known = seen.contains(field)
                || (exists
                    && self
                        .get_subkey(Cf::Subkey, key, meta.version, field)?
                        .is_some());
            if only_new && known {
                continue;
            }
            if !known {
                added += 1;
                seen.insert(field);
            }
            batch.put_cf(cf, self.subkey(key, meta.version, field), value);
        }
        if batch.is_empty() {
            return Ok(0);
        }
        meta.size += added;
        self.stage_composite(&mut batch, key, &meta);
        self.storage.write(batch)?;
        Ok(added)
    }

    /// HGET.
    pub fn hget(&self, key: &[u8], field: &[u8]) -> TypeResult<Option<Vec<u8>>> {
        match self.hash_meta(key)? {
            Some(meta) => self.get_subkey(Cf::Subkey, key, meta.version, field),
            None => Ok(None),
        }
    }

    /// HMGET: each field's value, `None` where missing.
    pub fn hmget(
        &self,
        key: &[u8],
        fields: &[impl AsRef<[u8]>],
    ) -> TypeResult<Vec<Option<Vec<u8>>>> {
        let Some(meta) = self.hash_meta(key)? else {
            return Ok(vec![None; fields.len()]);
        };
        fields
            .iter()
            .map(|f| self.get_subkey(Cf::Subkey, key, meta.version, f.as_ref()))
            .collect()
    }

    /// HDEL: returns how many of the fields existed (and are now gone).
    pub fn hdel(&self, key: &[u8], fields: &[impl AsRef<[u8]>]) -> TypeResult<u64> {
        self.delete_subkeys(key, DataType::Hash, fields)
    }

    /// HLEN.
    pub fn hlen(&self, key: &[u8]) -> TypeResult<u64> {
        Ok(self.hash_meta(key)?.map_or(0, |m| m.size))
    }

    /// Read-modify-write of one field under the key's lock: `f` gets the
    /// current value and returns the new one and the reply.
    fn hupdate<T>(
        &self,
        key: &[u8],
        field: &[u8],
        f: impl FnOnce(Option<&[u8]>) -> HashResult<(Vec<u8>, T)>,
    ) -> HashResult<T> {
        let _guard = self.storage.locks().lock(&[key]);
        let mut meta = self.read_or_new_composite(key, DataType::Hash)?;
        let current = if meta.size > 0 {
            self.get_subkey(Cf::Subkey, key, meta.version, field)?
        } else {
            None
        };
        let (new, out) = f(current.as_deref())?;
        if current.is_none() {
            meta.size += 1;
        }
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.storage.cf(Cf::Subkey),
            self.subkey(key, meta.version, field),
            new,
        );
        self.stage_composite(&mut batch, key, &meta);
        self.storage.write(batch)?;
        Ok(out)
    }

    /// HINCRBY: the field (absent = 0) plus `delta`.
    pub fn hincr_by(&self, key: &[u8], field: &[u8], delta: i64) -> HashResult<i64> {
        self.hupdate(key, field, |cur| {
            let n = match cur {
                None => 0,
                Some(v) => parse_i64(v).ok_or(HashError::NotInteger)?,
            };
            let n = n.checked_add(delta).ok_or(TypeError::Overflow)?;
            Ok((n.to_string().into_bytes(), n))
        })
    }

    /// HINCRBYFLOAT with Redis's `long double` arithmetic and formatting;
    /// `delta` must already have been checked to be a finite float (the
    /// command does that before touching the key, as Redis does).
    pub fn hincr_by_float(&self, key: &[u8], field: &[u8], delta: &[u8]) -> HashResult<Vec<u8>> {
        self.hupdate(key, field, |cur| {
            let text = longdouble::incr_by_float(cur, delta).map_err(|e| match e {
                LdError::NotFloat => HashError::NotFloat,
                LdError::Infinite => HashError::Type(TypeError::NanOrInfinity),
            })?;
            let bytes = text.into_bytes();
            Ok((bytes.clone(), bytes))
        })
    }

    /// HGETALL / HKEYS / HVALS without collecting: `each` gets every
    /// (field, value) in field order. Returns false when the key is missing.
    pub fn hash_each(&self, key: &[u8], each: impl FnMut(&[u8], &[u8])) -> TypeResult<bool> {
        self.each_subkey(key, DataType::Hash, each)
    }

    /// HRANDFIELD: `count` random (field, value) pairs, distinct fields
    /// when `distinct` (see [`Db::random_subkeys`] for how they are picked).
    pub fn hrandfield(
        &self,
        key: &[u8],
        count: u64,
        distinct: bool,
    ) -> TypeResult<Vec<(Vec<u8>, Vec<u8>)>> {
        match self.hash_meta(key)? {
            Some(meta) => self.random_subkeys(key, &meta, count, distinct),
            None => Ok(Vec::new()),
        }
    }

    /// HRANGEBYLEX (kvrocks): (field, value) pairs whose field lies in the
    /// range, in field order (reversed with REV), after LIMIT. Seeks to the
    /// range's start and stops at its end; nothing else is read.
    pub fn hrange_by_lex(
        &self,
        key: &[u8],
        range: &LexRange,
    ) -> TypeResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        if range.offset < 0 || range.count == 0 {
            return Ok(out);
        }
        let Some(meta) = self.hash_meta(key)? else {
            return Ok(out);
        };
        let mut it = self.subkeys(Cf::Subkey, key, meta.version);
        if range.rev {
            match &range.max {
                LexBound::PosInf => it.seek_to_last(),
                LexBound::NegInf => return Ok(out),
                LexBound::Incl(x) | LexBound::Excl(x) => it.seek_for_prev(x),
            }
        } else {
            match &range.min {
                LexBound::NegInf => it.seek_to_first(),
                LexBound::PosInf => return Ok(out),
                LexBound::Incl(x) | LexBound::Excl(x) => it.seek(x),
            }
        }
        let mut skip = range.offset as u64;
        while it.valid() {
            let field = it.rest();
            let (inside, past_end) = if range.rev {
                (range.max.below_max(field), !range.min.above_min(field))
            } else {
                (range.min.above_min(field), !range.max.below_max(field))
            };
            if past_end {
                break;
            }
            if inside {
                if skip > 0 {
                    skip -= 1;
                } else {
                    out.push((field.to_vec(), it.value().to_vec()));
                    if range.count > 0 && out.len() as i64 >= range.count {
                        break;
                    }
                }
            }
            if range.rev {
                it.prev();
            } else {
                it.next();
            }
        }
        it.status()?;
        Ok(out)
    }
}
