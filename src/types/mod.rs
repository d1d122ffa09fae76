//! Data types written against [`crate::storage`] only: no RESP here, so each
//! type can be tested without a socket. A [`Db`] is one namespace's view.

pub mod bitmap;
pub mod composite;
pub mod dump;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keyspace;
pub mod list;
pub mod longdouble;
pub mod random;
pub mod rdb;
pub mod replay;
pub mod set;
pub mod string;
pub mod zset;

use thiserror::Error;

use crate::storage::metadata::{DataType, Header};
use crate::storage::{keys, Cf, Storage, StorageError};

/// A failure of a data-type operation; commands turn it into a Redis error.
#[derive(Debug, Error)]
pub enum TypeError {
    /// The key holds another type.
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    /// The stored value is not an integer.
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    /// The stored value is not a float.
    #[error("ERR value is not a valid float")]
    NotFloat,
    /// An increment would overflow.
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    /// A float increment would produce NaN or infinity.
    #[error("ERR increment would produce NaN or Infinity")]
    NanOrInfinity,
    /// The key does not exist (RENAME).
    #[error("ERR no such key")]
    NoSuchKey,
    /// A string would exceed the maximum size.
    #[error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")]
    TooBig,
    /// The engine failed.
    #[error("ERR {0}")]
    Storage(#[from] StorageError),
}

impl From<rocksdb::Error> for TypeError {
    fn from(e: rocksdb::Error) -> Self {
        TypeError::Storage(StorageError::Rocks(e))
    }
}

/// Result of a data-type operation.
pub type TypeResult<T> = Result<T, TypeError>;

/// A namespace's view of the storage.
#[derive(Clone, Copy)]
pub struct Db<'a> {
    /// The engine.
    pub storage: &'a Storage,
    /// The namespace all keys are prefixed with.
    pub ns: &'a [u8],
    /// Largest string value allowed (`proto-max-bulk-len`).
    pub max_value_len: usize,
    /// When set, point reads see this snapshot instead of the latest data,
    /// so a command reading several keys sees them at one instant
    /// (`txn-context-enabled`).
    pub snapshot: Option<&'a rocksdb::Snapshot<'a>>,
    /// False for bulk readers (a per-key slot migration): their reads do
    /// not fill the block cache, so reading a whole slot once does not
    /// grow the process by the cache's size.
    pub fill_cache: bool,
}

/// A live (not expired) metadata record.
pub struct Meta {
    /// Decoded header.
    pub header: Header,
    /// The whole raw value (header + payload).
    pub raw: Vec<u8>,
}

impl<'a> Db<'a> {
    /// A view of namespace `ns`.
    pub fn new(storage: &'a Storage, ns: &'a [u8], max_value_len: usize) -> Self {
        Db {
            storage,
            ns,
            max_value_len,
            snapshot: None,
            fill_cache: true,
        }
    }

    /// The same view, with reads that leave the block cache as it is.
    pub fn cold(self) -> Self {
        Db {
            fill_cache: false,
            ..self
        }
    }

    /// The same view, reading from `snapshot` when one is given.
    pub fn at(self, snapshot: Option<&'a rocksdb::Snapshot<'a>>) -> Self {
        Db { snapshot, ..self }
    }

    /// The encoded metadata key of `user_key`.
    pub fn meta_key(&self, user_key: &[u8]) -> Vec<u8> {
        keys::encode(self.ns, user_key)
    }

    /// Reads the metadata of a key, treating expired records as absent.
    pub fn read_meta(&self, user_key: &[u8]) -> TypeResult<Option<Meta>> {
        self.read_meta_encoded(&self.meta_key(user_key))
    }

    /// Like [`Db::read_meta`] for an already encoded key.
    pub fn read_meta_encoded(&self, key: &[u8]) -> TypeResult<Option<Meta>> {
        // A plain read goes through the metadata cache; a snapshot's, or
        // a bulk reader's that keeps caches cold, reads RocksDB.
        let raw = if self.snapshot.is_none() && self.fill_cache {
            self.storage.get_metadata(key)?
        } else {
            self.storage
                .get_at(self.snapshot, self.fill_cache, Cf::Metadata, key)?
                .map(|v| v.to_vec())
        };
        let Some(raw) = raw else {
            return Ok(None);
        };
        let Some(header) = Header::decode(&raw) else {
            return Ok(None);
        };
        if header.is_expired(crate::util::now_ms()) {
            return Ok(None);
        }
        Ok(Some(Meta { header, raw }))
    }

    /// Reads the metadata of a key that must be of type `want` (or absent).
    pub fn read_typed(&self, user_key: &[u8], want: DataType) -> TypeResult<Option<Meta>> {
        match self.read_meta(user_key)? {
            Some(m) if m.header.dtype != want => Err(TypeError::WrongType),
            other => Ok(other),
        }
    }
}
