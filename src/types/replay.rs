//! The commands that rebuild a big composite key in bounded parts: `HSET`,
//! `SADD`, `ZADD` or `RPUSH` commands of at most [`PART_ENTRIES`] entries
//! (or about [`PART_BYTES`] of arguments). Moving a 300 MB hash as one
//! `RESTORE` payload means building it in memory here and parsing it in one
//! piece on the other side, which blocks that server; parts don't. The
//! caller sends them (and the `DEL` before, the TTL after).

use super::{Db, TypeError};
use crate::storage::metadata::{Composite, DataType};
use crate::storage::{subkeys, Cf};

/// Keys with more entries than this are moved in parts.
pub const BIG_KEY_ENTRIES: u64 = 1024;

/// Entries per command.
pub const PART_ENTRIES: usize = 512;

/// Bytes of arguments per command (one bigger entry still goes alone).
pub const PART_BYTES: usize = 1 << 20;

/// True when `meta` describes a key that moves in parts.
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
fn entry_args(dtype: DataType, rest: &[u8], value: &[u8], out: &mut Vec<Vec<u8>>) {
    match dtype {
        DataType::Hash => out.extend([rest.to_vec(), value.to_vec()]),
        DataType::Set => out.push(rest.to_vec()),
        DataType::ZSet => {
            let score = subkeys::decode_score(value).unwrap_or(0.0);
            // `{:e}` is the shortest form that reads back to the same
            // double, and Redis's float parser accepts it (and `inf`).
            out.extend([format!("{score:e}").into_bytes(), rest.to_vec()]);
        }
        _ => out.push(value.to_vec()),
    }
}

impl Db<'_> {
    /// Calls `emit` with each add command that rebuilds `key` (described
    /// by `meta`), in order; stops at the first error.
    pub fn for_each_part<E: From<TypeError>>(
        &self,
        key: &[u8],
        meta: &Composite,
        mut emit: impl FnMut(&[&[u8]]) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut it = self.subkeys(Cf::Subkey, key, meta.version);
        it.seek_to_first();
        let mut args: Vec<Vec<u8>> = Vec::new();
        let (mut entries, mut bytes) = (0usize, 0usize);
        loop {
            let done = !it.valid();
            if !done {
                let before = args.len();
                entry_args(meta.dtype, it.rest(), it.value(), &mut args);
                bytes += args[before..].iter().map(Vec::len).sum::<usize>();
                entries += 1;
                it.next();
            }
            if entries > 0 && (done || entries >= PART_ENTRIES || bytes >= PART_BYTES) {
                let mut cmd: Vec<&[u8]> = vec![add_command(meta.dtype), key];
                cmd.extend(args.iter().map(Vec::as_slice));
                emit(&cmd)?;
                args.clear();
                (entries, bytes) = (0, 0);
            }
            if done {
                break;
            }
        }
        it.status().map_err(E::from)
    }
}
