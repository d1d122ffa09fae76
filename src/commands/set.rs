//! set commands (rows in [`COMMANDS`]): each parses its arguments, then
//! calls [`crate::types::set`].

use bytes::Bytes;

use super::args::{int, is};
use super::error::{CmdError, CmdResult};
use super::flags::*;
use super::hash::{empty_scan, pick_count, random_count, scan_page};
use super::table::{c, n, ALL, NONE, ONE, R, RF, TWO, W, WF};
use super::{subscan, CommandSpec, Ctx};
use crate::protocol::Reply;
use crate::storage::metadata::DataType;
use crate::types::set::SetOp;

/// The set rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    c("sadd", -3, WF, ONE, "set", "Adds one or more members to a set.", sadd),
    c("srem", -3, WRITE | FAST, ONE, "set", "Removes one or more members from a set.", srem),
    c("scard", 2, RF, ONE, "set", "Returns the number of members in a set.", scard),
    c("sismember", 3, RF, ONE, "set", "Determines whether a member belongs to a set.", sismember),
    c("smismember", -3, RF, ONE, "set", "Determines whether multiple members belong to a set.", smismember),
    c("smembers", 2, R, ONE, "set", "Returns all members of a set.", smembers),
    c("spop", -2, WRITE | FAST, ONE, "set", "Returns one or more random members from a set after removing them.", spop),
    c("srandmember", -2, R, ONE, "set", "Gets one or multiple random members from a set.", srandmember),
    c("smove", 4, WRITE | FAST, TWO, "set", "Moves a member from one set to another.", smove),
    c("sinter", -2, R, ALL, "set", "Returns the intersect of multiple sets.", sinter),
    n(c("sintercard", -3, R, NONE, "set", "Returns the number of members of the intersect of multiple sets.", sintercard), 1),
    c("sunion", -2, R, ALL, "set", "Returns the union of multiple sets.", sunion),
    c("sdiff", -2, R, ALL, "set", "Returns the difference of multiple sets.", sdiff),
    c("sinterstore", -3, W, ALL, "set", "Stores the intersect of multiple sets in a key.", sinterstore),
    c("sunionstore", -3, W, ALL, "set", "Stores the union of multiple sets in a key.", sunionstore),
    c("sdiffstore", -3, W, ALL, "set", "Stores the difference of multiple sets in a key.", sdiffstore),
    c("sscan", -3, R, ONE, "set", "Iterates over members of a set.", sscan),
];

/// SADD key member [member ...]
pub fn sadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().sadd(&args[1], &args[2..])? as i64))
}

/// SREM key member [member ...]
pub fn srem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().srem(&args[1], &args[2..])? as i64))
}

/// SCARD key
pub fn scard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().scard(&args[1])? as i64))
}

/// SISMEMBER key member
pub fn sismember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let found = ctx.db().smismember(&args[1], &args[2..3])?;
    Ok(Reply::Integer(
        found.first().copied().unwrap_or(false) as i64
    ))
}

/// SMISMEMBER key member [member ...]
pub fn smismember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let found = ctx.db().smismember(&args[1], &args[2..])?;
    Ok(Reply::Array(
        found
            .into_iter()
            .map(|b| Reply::Integer(b as i64))
            .collect(),
    ))
}

/// SMEMBERS key: a set in RESP3.
pub fn smembers(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut out = Vec::new();
    ctx.db()
        .smembers_each(&args[1], |m| out.push(Reply::bulk(m.to_vec())))?;
    Ok(Reply::Set(out))
}

/// SPOP key [count]
pub fn spop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => {
            let popped = ctx.db().spop(&args[1], 1)?;
            Ok(Reply::opt_bulk(popped.into_iter().next()))
        }
        3 => {
            let count = int(&args[2])
                .ok()
                .filter(|&n| n >= 0)
                .ok_or_else(|| CmdError::err("value is out of range, must be positive"))?;
            let popped = ctx.db().spop(&args[1], count as u64)?;
            Ok(Reply::Set(popped.into_iter().map(Reply::bulk).collect()))
        }
        _ => Err(CmdError::Syntax),
    }
}

/// SRANDMEMBER key [count]
pub fn srandmember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => {
            let picked = ctx.db().srandmember(&args[1], 1, true)?;
            Ok(Reply::opt_bulk(picked.into_iter().next()))
        }
        3 => {
            let (count, distinct) = pick_count(random_count(&args[2])?)?;
            let picked = ctx.db().srandmember(&args[1], count, distinct)?;
            Ok(Reply::Array(picked.into_iter().map(Reply::bulk).collect()))
        }
        _ => Err(CmdError::Syntax),
    }
}

/// SMOVE source destination member
pub fn smove(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(
        ctx.db().smove(&args[1], &args[2], &args[3])? as i64,
    ))
}

/// SINTER / SUNION / SDIFF over `keys`, read at one instant when
/// `txn-context-enabled` asks for it.
fn set_op_reply(ctx: &mut Ctx, op: SetOp, keys: &[Bytes]) -> CmdResult {
    let snapshot = ctx.read_context();
    let members = ctx.db().at(snapshot.as_ref()).set_op(op, keys)?;
    Ok(Reply::Set(members.into_iter().map(Reply::bulk).collect()))
}

/// SINTER key [key ...]
pub fn sinter(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_op_reply(ctx, SetOp::Inter, &args[1..])
}

/// SUNION key [key ...]
pub fn sunion(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_op_reply(ctx, SetOp::Union, &args[1..])
}

/// SDIFF key [key ...]
pub fn sdiff(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_op_reply(ctx, SetOp::Diff, &args[1..])
}

/// SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]
fn set_op_store(ctx: &mut Ctx, op: SetOp, args: &[Bytes]) -> CmdResult {
    let snapshot = ctx.read_context();
    let n = ctx
        .db()
        .at(snapshot.as_ref())
        .set_op_store(op, &args[1], &args[2..])?;
    Ok(Reply::Integer(n as i64))
}

/// SINTERSTORE destination key [key ...]
pub fn sinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_op_store(ctx, SetOp::Inter, args)
}

/// SUNIONSTORE destination key [key ...]
pub fn sunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_op_store(ctx, SetOp::Union, args)
}

/// SDIFFSTORE destination key [key ...]
pub fn sdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_op_store(ctx, SetOp::Diff, args)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let numkeys = int(&args[1])
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| CmdError::err("numkeys should be greater than 0"))? as u64;
    if numkeys > (args.len() - 2) as u64 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut i = keys_end;
    while i < args.len() {
        if is(&args[i], "limit") && i + 1 < args.len() {
            limit = int(&args[i + 1])
                .ok()
                .filter(|&n| n >= 0)
                .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?
                as u64;
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let snapshot = ctx.read_context();
    let n = ctx
        .db()
        .at(snapshot.as_ref())
        .sintercard(&args[2..keys_end], limit)?;
    Ok(Reply::Integer(n as i64))
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
pub fn sscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(page) = scan_page(ctx, args, DataType::Set)? else {
        return Ok(empty_scan());
    };
    let items = page
        .items
        .into_iter()
        .map(|(m, _)| Reply::bulk(m))
        .collect();
    Ok(subscan::reply(ctx, page.next, items))
}
