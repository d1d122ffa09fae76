//! The per-key path's way of moving a big composite key: a `DEL`, the add
//! commands of [`crate::types::replay`], then the TTL, each preceded by
//! `ASKING` since the destination is still importing the slot. The caller
//! holds the slot's write gate, so the key cannot change meanwhile; a
//! broken link makes the caller send the whole key again, which the
//! leading `DEL` makes safe.

use redis_protocol::resp2::types::OwnedFrame;

use super::link::Link;
use super::status::JobError;
use crate::cluster::peer::encode_command;
use crate::storage::metadata::Composite;
use crate::types::{Db, TypeError};

impl From<TypeError> for JobError {
    fn from(e: TypeError) -> Self {
        JobError::Storage(e.to_string())
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
    mut on_part: impl FnMut(usize),
) -> Result<usize, JobError> {
    let mut sent = send_one(link, &[b"DEL", key])?;
    db.for_each_part(key, meta, |cmd| {
        let n = send_one(link, cmd)?;
        on_part(n);
        sent += n;
        Ok::<(), JobError>(())
    })?;
    if ttl_ms > 0 {
        let ttl = ttl_ms.to_string();
        sent += send_one(link, &[b"PEXPIRE", key, ttl.as_bytes()])?;
    }
    Ok(sent)
}
