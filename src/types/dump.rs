//! DUMP / RESTORE in Redis's own payload format (see [`super::rdb`]), so
//! keys move between redis-server and ferrocks with MIGRATE, DUMP/RESTORE
//! or `redis-cli --pipe`, both ways.
//!
//! Type mapping: hashes, lists, sets and sorted sets map one to one;
//! a bitmap dumps as the plain string of its bytes and a HyperLogLog as
//! Redis's dense HLL string. A restored string that is a valid HLL string
//! becomes a HyperLogLog key (so PFCOUNT works after a MIGRATE from
//! Redis); any other string becomes a string key.
//!
//! RESTORE of a collection writes its subkeys in bounded batches under a
//! fresh version and the metadata last, under the key's lock: until then
//! the new subkeys are invisible (and kept by the compaction filter while
//! young), and a payload that turns out damaged halfway leaves the old key
//! as it was.

use std::collections::HashSet;

use rocksdb::WriteBatch;

use super::rdb::read::{self, Item, Kind};
use super::rdb::write::Writer;
use super::rdb::{self, hyll, types, Bad};
use super::{Db, TypeError, TypeResult};
use crate::storage::metadata::{self, Composite, DataType};
use crate::storage::{subkeys, Cf};

/// Subkey records per write batch of a RESTORE.
const BATCH_RECORDS: usize = 1024;

/// Bytes per write batch of a RESTORE (one bigger entry still goes alone).
const BATCH_BYTES: usize = 4 << 20;

/// Index of a new list's first element (see the list layout).
const LIST_HEAD: u64 = 1 << 63;

/// Why a payload was refused or could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// Bad version, bad checksum or truncated.
    #[error("ERR DUMP payload version or checksum are wrong")]
    BadPayload,
    /// The object inside could not be parsed (or is of a type this server
    /// does not hold, like a stream).
    #[error("ERR Bad data format")]
    BadFormat,
    /// The key exists and REPLACE was not given.
    #[error("BUSYKEY Target key name already exists.")]
    BusyKey,
    /// A storage failure.
    #[error("{0}")]
    Type(#[from] TypeError),
}

impl From<Bad> for RestoreError {
    fn from(_: Bad) -> Self {
        RestoreError::BadFormat
    }
}

impl From<crate::storage::StorageError> for RestoreError {
    fn from(e: crate::storage::StorageError) -> Self {
        RestoreError::Type(TypeError::Storage(e))
    }
}

impl From<rocksdb::Error> for RestoreError {
    fn from(e: rocksdb::Error) -> Self {
        RestoreError::Type(e.into())
    }
}

/// Checks a payload's footer (version and checksum) and returns the
/// object part (type byte and encoding).
pub fn open(payload: &[u8]) -> Result<&[u8], RestoreError> {
    rdb::verify(payload).ok_or(RestoreError::BadPayload)
}

/// Checks a payload completely (footer and object) without writing
/// anything; returns the kind of key it makes.
pub fn check(payload: &[u8]) -> Result<Kind, RestoreError> {
    Ok(read::validate(open(payload)?)?)
}

impl Db<'_> {
    /// DUMP: the payload and the absolute expire time (0 = none), or
    /// `None` when the key does not exist. Reads from one snapshot, so
    /// concurrent writes never tear the payload.
    pub fn dump(&self, key: &[u8]) -> TypeResult<Option<(Vec<u8>, u64)>> {
        let owned;
        let db = match self.snapshot {
            Some(_) => *self,
            None => {
                owned = self.storage.snapshot();
                self.at(Some(&owned))
            }
        };
        let Some(meta) = db.read_meta(key)? else {
            return Ok(None);
        };
        let expire = meta.header.expire_ms;
        if meta.header.dtype == DataType::String {
            return Ok(Some((
                Writer::string(metadata::string_value(&meta.raw)),
                expire,
            )));
        }
        let composite = Composite::decode(&meta.raw).ok_or(TypeError::WrongType)?;
        let payload = match composite.dtype {
            DataType::Bitmap => {
                Writer::string(&db.bitmap_bytes(key, &composite, 0, composite.size)?)
            }
            DataType::Hll => {
                let regs = db.hll_registers(key)?.unwrap_or_default();
                Writer::string(&hyll::dense(&regs))
            }
            _ => db.dump_collection(key, &composite)?,
        };
        Ok(Some((payload, expire)))
    }

    /// The payload of a hash, list, set or sorted set, in the plain RDB
    /// encodings.
    fn dump_collection(&self, key: &[u8], meta: &Composite) -> TypeResult<Vec<u8>> {
        let rdb_type = match meta.dtype {
            DataType::Hash => types::HASH,
            DataType::Set => types::SET,
            DataType::ZSet => types::ZSET_2,
            _ => types::LIST,
        };
        let mut w = Writer::collection(rdb_type);
        let mut it = self.subkeys(Cf::Subkey, key, meta.version);
        let list_end = if meta.dtype == DataType::List {
            let (head, tail) = list_bounds(meta);
            it.seek(&head.to_be_bytes());
            Some(tail)
        } else {
            it.seek_to_first();
            None
        };
        let mut n = 0u64;
        while it.valid() {
            let (rest, value) = (it.rest(), it.value());
            match meta.dtype {
                DataType::Hash => {
                    w.put_string(rest);
                    w.put_string(value);
                }
                DataType::Set => w.put_string(rest),
                DataType::ZSet => {
                    w.put_string(rest);
                    w.put_double(subkeys::decode_score(value).unwrap_or(0.0));
                }
                _ => {
                    let index = rest.try_into().map(u64::from_be_bytes).unwrap_or(u64::MAX);
                    if list_end.is_some_and(|end| index >= end) {
                        break;
                    }
                    w.put_string(value);
                }
            }
            n += 1;
            it.next();
        }
        it.status()?;
        Ok(w.finish(n))
    }

    /// RESTORE: writes the payload under `key` with absolute expire time
    /// `expire_ms` (0 = none). BUSYKEY when the key exists and `replace`
    /// is off; an `expire_ms` already past checks the payload and only
    /// removes the old key (with `replace`), as Redis does.
    pub fn restore(
        &self,
        key: &[u8],
        payload: &[u8],
        expire_ms: u64,
        replace: bool,
    ) -> Result<(), RestoreError> {
        let _guard = self.storage.locks().lock(&[key]);
        if !replace && self.read_meta(key)?.is_some() {
            return Err(RestoreError::BusyKey);
        }
        let object = open(payload)?;
        if expire_ms != 0 && expire_ms <= crate::util::now_ms() {
            read::validate(object)?;
            if replace {
                self.storage.delete(Cf::Metadata, &self.meta_key(key))?;
            }
            return Ok(());
        }
        let kind = object
            .first()
            .and_then(|t| read::kind_of(*t))
            .ok_or(RestoreError::BadFormat)?;
        if kind == Kind::String {
            let mut value = Vec::new();
            read::load(object, &mut |item| {
                if let Item::Value(v) = item {
                    value = v.into_owned();
                }
                Ok::<(), RestoreError>(())
            })?;
            match hyll::parse(&value) {
                Some(regs) => self.hll_write_registers(key, &regs, expire_ms)?,
                None => self.storage.put(
                    Cf::Metadata,
                    &self.meta_key(key),
                    &metadata::encode_string(expire_ms, &value),
                )?,
            }
            return Ok(());
        }
        let dtype = match kind {
            Kind::Hash => DataType::Hash,
            Kind::Set => DataType::Set,
            Kind::ZSet => DataType::ZSet,
            _ => DataType::List,
        };
        let mut loader = Loader {
            db: self,
            key,
            dtype,
            version: self.storage.next_version(),
            batch: WriteBatch::default(),
            pending: HashSet::new(),
            flushed: false,
            size: 0,
        };
        read::load(object, &mut |item| loader.add(item))?;
        loader.finish(expire_ms)
    }
}

/// A list's `[head, tail)` index range from its metadata.
fn list_bounds(meta: &Composite) -> (u64, u64) {
    let head = meta
        .extra
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map_or(LIST_HEAD, u64::from_be_bytes);
    let tail = meta
        .extra
        .get(8..16)
        .and_then(|b| b.try_into().ok())
        .map_or(u64::MAX, u64::from_be_bytes);
    (head, tail)
}

/// Writes a restored collection's entries in bounded batches.
struct Loader<'d, 'a> {
    db: &'d Db<'a>,
    key: &'d [u8],
    dtype: DataType,
    version: u64,
    batch: WriteBatch,
    /// Subkeys of members staged in `batch`, to find duplicates.
    pending: HashSet<Vec<u8>>,
    /// True once a batch was written (later ones check for duplicates
    /// against the stored ones too).
    flushed: bool,
    size: u64,
}

impl Loader<'_, '_> {
    /// Stages one entry; refuses entries of the wrong shape and duplicate
    /// members (Redis refuses those too).
    fn add(&mut self, item: Item<'_>) -> Result<(), RestoreError> {
        let storage = self.db.storage;
        match (self.dtype, item) {
            (DataType::List, Item::Value(v)) => {
                let index = LIST_HEAD + self.size;
                let sk = self.db.subkey(self.key, self.version, &index.to_be_bytes());
                self.batch.put_cf(storage.cf(Cf::Subkey), sk, v);
            }
            (DataType::Set, Item::Value(m)) => self.put_member(&m, b"")?,
            (DataType::Hash, Item::Field(f, v)) => self.put_member(&f, &v)?,
            (DataType::ZSet, Item::Scored(m, score)) => {
                self.put_member(&m, &subkeys::encode_score(score))?;
                let sk = subkeys::score_key(self.db.ns, self.key, self.version, score, &m);
                self.batch.put_cf(storage.cf(Cf::ZsetScore), sk, b"");
            }
            _ => return Err(RestoreError::BadFormat),
        }
        self.size += 1;
        if self.batch.len() >= BATCH_RECORDS || self.batch.size_in_bytes() >= BATCH_BYTES {
            self.check_duplicates()?;
            self.db.storage.write(std::mem::take(&mut self.batch))?;
            self.flushed = true;
        }
        Ok(())
    }

    fn put_member(&mut self, member: &[u8], value: &[u8]) -> Result<(), RestoreError> {
        let sk = self.db.subkey(self.key, self.version, member);
        self.batch
            .put_cf(self.db.storage.cf(Cf::Subkey), &sk, value);
        if !self.pending.insert(sk) {
            return Err(RestoreError::BadFormat);
        }
        Ok(())
    }

    /// Refuses the staged members that an earlier batch already wrote.
    fn check_duplicates(&mut self) -> Result<(), RestoreError> {
        if self.flushed && !self.pending.is_empty() {
            let storage = self.db.storage;
            let found = storage.db().batched_multi_get_cf(
                storage.cf(Cf::Subkey),
                self.pending.iter(),
                false,
            );
            for r in found {
                if r?.is_some() {
                    return Err(RestoreError::BadFormat);
                }
            }
        }
        self.pending.clear();
        Ok(())
    }

    /// Writes the last entries and the metadata.
    fn finish(mut self, expire_ms: u64) -> Result<(), RestoreError> {
        self.check_duplicates()?;
        let mut meta = Composite::new(self.dtype, self.version);
        meta.expire_ms = expire_ms;
        meta.size = self.size;
        if self.dtype == DataType::List {
            meta.extra = [
                LIST_HEAD.to_be_bytes(),
                (LIST_HEAD + self.size).to_be_bytes(),
            ]
            .concat();
        }
        self.batch.put_cf(
            self.db.storage.cf(Cf::Metadata),
            self.db.meta_key(self.key),
            meta.encode(),
        );
        self.db.storage.write(self.batch)?;
        Ok(())
    }
}
