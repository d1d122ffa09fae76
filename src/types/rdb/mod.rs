//! Redis's own value serialization (the RDB object format), as carried by
//! DUMP / RESTORE / MIGRATE payloads:
//! `[RDB type: u8][object][RDB version: u16 LE][CRC64 of what precedes: u64 LE]`.
//!
//! [`read`] understands every encoding Redis 2.x to 7.2 writes for strings,
//! lists, sets, sorted sets and hashes (RDB versions up to
//! [`MAX_READ_VERSION`]); [`write`] produces the plain encodings at
//! [`WRITE_VERSION`], which every Redis since 6.0 loads. Streams, modules
//! and anything else are refused.

pub mod crc64;
pub mod hyll;
pub mod lzf;
pub mod packed;
pub mod read;
pub mod write;

/// RDB version written into payloads (Redis 6.0's; 7.x accept it too).
pub const WRITE_VERSION: u16 = 9;

/// Newest RDB version accepted (Redis 7.4's).
pub const MAX_READ_VERSION: u16 = 12;

/// Bytes after the object: version and CRC.
pub const FOOTER_LEN: usize = 10;

/// Object type bytes (Redis's `RDB_TYPE_*`).
pub mod types {
    /// A string.
    pub const STRING: u8 = 0;
    /// A list as a plain sequence of strings.
    pub const LIST: u8 = 1;
    /// A set as a plain sequence of strings.
    pub const SET: u8 = 2;
    /// A sorted set with scores as text.
    pub const ZSET: u8 = 3;
    /// A hash as a plain sequence of field/value strings.
    pub const HASH: u8 = 4;
    /// A sorted set with binary (f64 LE) scores.
    pub const ZSET_2: u8 = 5;
    /// A hash as a zipmap (Redis < 2.6).
    pub const HASH_ZIPMAP: u8 = 9;
    /// A list as one ziplist.
    pub const LIST_ZIPLIST: u8 = 10;
    /// A set of integers as an intset.
    pub const SET_INTSET: u8 = 11;
    /// A sorted set as one ziplist.
    pub const ZSET_ZIPLIST: u8 = 12;
    /// A hash as one ziplist.
    pub const HASH_ZIPLIST: u8 = 13;
    /// A list as a quicklist of ziplists (Redis 3.2 - 6.2).
    pub const LIST_QUICKLIST: u8 = 14;
    /// A hash as one listpack (Redis 7).
    pub const HASH_LISTPACK: u8 = 16;
    /// A sorted set as one listpack (Redis 7).
    pub const ZSET_LISTPACK: u8 = 17;
    /// A list as a quicklist of listpacks and plain nodes (Redis 7).
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// A set as one listpack (Redis 7.2).
    pub const SET_LISTPACK: u8 = 20;
}

/// A payload whose object could not be parsed ("Bad data format").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("ERR Bad data format")]
pub struct Bad;

/// Checks a payload's footer (length, version, CRC) and returns the object
/// part (type byte and encoding); `None` when the footer is wrong.
pub fn verify(payload: &[u8]) -> Option<&[u8]> {
    if payload.len() < FOOTER_LEN {
        return None;
    }
    let (object, footer) = payload.split_at(payload.len() - FOOTER_LEN);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > MAX_READ_VERSION {
        return None;
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    let want = u64::from_le_bytes(crc);
    (crc64::crc64(crc64::crc64(0, object), &footer[..2]) == want).then_some(object)
}
