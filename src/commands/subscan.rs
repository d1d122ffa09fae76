//! What HSCAN, SSCAN and ZSCAN share: `key cursor [MATCH pattern] [COUNT n]`
//! parsing, cursor numbers mapped to subkey positions, and the reply shape
//! `[next cursor, [items...]]`.

use bytes::Bytes;

use super::args::{int, is};
use super::error::CmdError;
use super::Ctx;
use crate::protocol::Reply;

/// The parsed arguments of a subkey scan.
pub struct SubScanArgs<'a> {
    /// The subkey to continue after (`None`: from the start).
    pub after: Option<Vec<u8>>,
    /// Glob the field or member must match (`None`: all).
    pub pattern: Option<&'a [u8]>,
    /// How many subkeys to visit.
    pub count: usize,
}

/// Parses `args[2..]` (`cursor [MATCH p] [COUNT n]`) of a *SCAN command.
pub fn parse<'a>(ctx: &Ctx, args: &'a [Bytes]) -> Result<SubScanArgs<'a>, CmdError> {
    let cursor: u64 = std::str::from_utf8(&args[2])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| CmdError::err("invalid cursor"))?;
    let mut out = SubScanArgs {
        after: ctx.server.cursors.load(cursor),
        pattern: None,
        count: 10,
    };
    let mut i = 3;
    while i < args.len() {
        let value = args.get(i + 1).ok_or(CmdError::Syntax)?;
        if is(&args[i], "match") {
            out.pattern = (&value[..] != b"*").then_some(&value[..]);
        } else if is(&args[i], "count") {
            let n = int(value)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            out.count = n.min(1_000_000) as usize;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(out)
}

/// The reply of a *SCAN page: the next cursor (0 when done) and the items.
pub fn reply(ctx: &Ctx, next: Option<Vec<u8>>, items: Vec<Reply>) -> Reply {
    let cursor = next.map(|pos| ctx.server.cursors.save(pos)).unwrap_or(0);
    Reply::Array(vec![Reply::bulk(cursor.to_string()), Reply::Array(items)])
}
