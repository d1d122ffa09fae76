//! The per-key path's way of moving a big composite key: not one giant
//! `RESTORE` (a 300 MB payload built in memory here and parsed in one
//! piece there, blocking the destination), but a `DEL`, then `HSET` /
//! `SADD` / `ZADD` / `RPUSH` commands of bounded size, then the TTL last.
//! Every command is preceded by `ASKING`, since the destination is still
//! importing the slot. The caller holds the slot's write gate, so the key
//! cannot change meanwhile; a broken link makes the caller send the whole
//! key again, which the leading `DEL` makes safe.

use redis_protocol::resp2::types::OwnedFrame;

use super::job::JobError;
use super::link::Link;
use crate::cluster::peer::encode_command;
use crate::storage::metadata::{Composite, DataType};
use crate::storage::{subkeys, Cf};
use crate::types::Db;

/// Keys with more entries than this move in parts.
const BIG_KEY_ENTRIES: u64 = 1024;

/// Entries per command.
const PART_ENTRIES: usize = 512;

/// Bytes of arguments per command (one bigger entry still goes alone).
const PART_BYTES: usize = 1 << 20;

/// True when `meta` describes a key the per-key path sends in parts.
pub fn is_big(meta: &Composite) -> bool {
    matches!(
        meta.dtype,
        DataType::Hash | DataType::Set | DataType::ZSet | DataType::List
    ) && meta.size > BIG_KEY_ENTRIES
}

/// The command that adds entries of `dtype`.
fn add_command(dtype: DataType) -> &'static [u8] {
    match dtype {
        DataType::Hash => b"HSET",
        DataType::Set => b"SADD",
        DataType::ZSet => b"ZADD",
        _ => b"RPUSH",
    }
}

/// The arguments one stored entry contributes to its add command.
fn entry_args(dtype: DataType, rest: &[u8], value: &[u8]) -> Vec<Vec<u8>> {
    match dtype {
        DataType::Hash => vec![rest.to_vec(), value.to_vec()],
        DataType::Set => vec![rest.to_vec()],
        DataType::ZSet => {
            let score = subkeys::decode_score(value).unwrap_or(0.0);
            // `{:e}` is the shortest form that reads back to the same
            // double, and Redis's float parser accepts it (and `inf`).
            vec![format!("{score:e}").into_bytes(), rest.to_vec()]
        }
        _ => vec![value.to_vec()],
    }
}

/// Sends `ASKING` + `args` and checks the reply; returns the bytes sent.
fn send_one(link: &mut Link, args: &[&[u8]]) -> Result<usize, JobError> {
    let mut out = Vec::new();
    encode_command(&mut out, &[b"ASKING"]);
    encode_command(&mut out, args);
    let replies = link.pipeline(&out, 2)?;
    if let Some(e) = replies.into_iter().find_map(|r| match r {
        OwnedFrame::Error(e) => Some(e),
        _ => None,
    }) {
        return Err(JobError::Refused(e));
    }
    Ok(out.len())
}

/// Sends the big key `key` (described by `meta`) in parts, its TTL (ms
/// left, 0 = none) last. Returns the bytes sent.
pub fn send_in_parts(
    db: &Db<'_>,
    key: &[u8],
    meta: &Composite,
    ttl_ms: u64,
    link: &mut Link,
) -> Result<usize, JobError> {
    let storage_err = |e: crate::types::TypeError| JobError::Storage(e.to_string());
    let mut sent = send_one(link, &[b"DEL", key])?;
    let mut it = db.subkeys(Cf::Subkey, key, meta.version);
    it.seek_to_first();
    let mut args: Vec<Vec<u8>> = Vec::new();
    let (mut entries, mut bytes) = (0usize, 0usize);
    loop {
        let done = !it.valid();
        if !done {
            for a in entry_args(meta.dtype, it.rest(), it.value()) {
                bytes += a.len();
                args.push(a);
            }
            entries += 1;
            it.next();
        }
        if entries > 0 && (done || entries >= PART_ENTRIES || bytes >= PART_BYTES) {
            let mut cmd: Vec<&[u8]> = vec![add_command(meta.dtype), key];
            cmd.extend(args.iter().map(Vec::as_slice));
            sent += send_one(link, &cmd)?;
            args.clear();
            (entries, bytes) = (0, 0);
        }
        if done {
            break;
        }
    }
    it.status().map_err(storage_err)?;
    if ttl_ms > 0 {
        let ttl = ttl_ms.to_string();
        sent += send_one(link, &[b"PEXPIRE", key, ttl.as_bytes()])?;
    }
    Ok(sent)
}
