//! HyperLogLog commands (rows in [`COMMANDS`]): PFADD, PFCOUNT, PFMERGE on
//! [`crate::types::hll`].

use bytes::Bytes;

use super::error::{CmdError, CmdResult};
use super::table::{c, ALL, R, W, WF};
use super::{CommandSpec, Ctx};
use crate::protocol::Reply;
use crate::types::hll::HllError;

impl From<HllError> for CmdError {
    fn from(e: HllError) -> Self {
        match e {
            HllError::Type(t) => CmdError::Type(t),
            other => CmdError::Other(other.to_string()),
        }
    }
}

/// PFADD key [element ...]
pub fn pfadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let changed = ctx.db().pfadd(&args[1], &args[2..])?;
    Ok(Reply::Integer(changed as i64))
}

/// PFCOUNT key [key ...]
pub fn pfcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let snapshot = ctx.read_context();
    let n = ctx.db().at(snapshot.as_ref()).pfcount(&args[1..])?;
    Ok(Reply::Integer(n as i64))
}

/// PFMERGE destkey [sourcekey ...]
pub fn pfmerge(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ctx.db().pfmerge(&args[1], &args[2..])?;
    Ok(Reply::ok())
}

/// The hll rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    c("pfadd", -2, WF, (1, 1, 1), "hyperloglog", "Adds elements to a HyperLogLog key.", pfadd),
    c("pfcount", -2, R, ALL, "hyperloglog", "Returns the approximated cardinality of the union of HyperLogLog keys.", pfcount),
    c("pfmerge", -2, W, ALL, "hyperloglog", "Merges HyperLogLog keys into a destination key.", pfmerge),
];
