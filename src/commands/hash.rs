//! hash commands (rows in [`COMMANDS`]): each parses its arguments, then
//! calls [`crate::types::hash`].

use bytes::Bytes;

use super::args::{int, is};
use super::error::{CmdError, CmdResult};
use super::flags::*;
use super::table::{c, ONE, R, RF, WF};
use super::{subscan, CommandSpec, Ctx};
use crate::protocol::Reply;
use crate::storage::metadata::DataType;
use crate::types::composite::SubkeyPage;
use crate::types::hash::{HashError, LexBound, LexRange};
use crate::types::longdouble::{self, LdError};

/// The hash rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    c("hset", -4, WF, ONE, "hash", "Creates or modifies the value of a field in a hash.", hset),
    c("hsetnx", 4, WF, ONE, "hash", "Sets the value of a field in a hash only when the field doesn't exist.", hsetnx),
    c("hget", 3, RF, ONE, "hash", "Returns the value of a field in a hash.", hget),
    c("hmget", -3, RF, ONE, "hash", "Returns the values of all fields in a hash.", hmget),
    c("hmset", -4, WF, ONE, "hash", "Sets the values of multiple fields.", hmset),
    c("hdel", -3, WRITE | FAST, ONE, "hash", "Deletes one or more fields and their values from a hash.", hdel),
    c("hexists", 3, RF, ONE, "hash", "Determines whether a field exists in a hash.", hexists),
    c("hlen", 2, RF, ONE, "hash", "Returns the number of fields in a hash.", hlen),
    c("hstrlen", 3, RF, ONE, "hash", "Returns the length of the value of a field.", hstrlen),
    c("hincrby", 4, WF, ONE, "hash", "Increments the integer value of a field in a hash by a number.", hincrby),
    c("hincrbyfloat", 4, WF, ONE, "hash", "Increments the floating point value of a field by a number.", hincrbyfloat),
    c("hkeys", 2, R, ONE, "hash", "Returns all fields in a hash.", hkeys),
    c("hvals", 2, R, ONE, "hash", "Returns all values in a hash.", hvals),
    c("hgetall", 2, R, ONE, "hash", "Returns all fields and values in a hash.", hgetall),
    c("hscan", -3, R, ONE, "hash", "Iterates over fields and values of a hash.", hscan),
    c("hrandfield", -2, R, ONE, "hash", "Returns one or more random fields from a hash.", hrandfield),
    c("hrangebylex", -4, R, ONE, "hash", "Returns the fields and values of a lexicographic range of fields (kvrocks).", hrangebylex),
];

/// Turns a hash error into the command's error.
fn herr(e: HashError) -> CmdError {
    match e {
        HashError::Type(t) => CmdError::Type(t),
        other => CmdError::Other(other.to_string()),
    }
}

/// Field/value argument pairs.
type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

/// The field/value pairs of HSET and HMSET (`args[2..]`), or the arity
/// error Redis gives for an odd count.
fn field_pairs<'a>(args: &'a [Bytes], name: &str) -> Result<Pairs<'a>, CmdError> {
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(CmdError::Arity(name.into()));
    }
    Ok(args[2..]
        .chunks_exact(2)
        .map(|p| (&p[0][..], &p[1][..]))
        .collect())
}

/// HSET key field value [field value ...]
pub fn hset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let pairs = field_pairs(args, "hset")?;
    Ok(Reply::Integer(
        ctx.db().hset(&args[1], &pairs, false)? as i64
    ))
}

/// HMSET key field value [field value ...]
pub fn hmset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let pairs = field_pairs(args, "hmset")?;
    ctx.db().hset(&args[1], &pairs, false)?;
    Ok(Reply::ok())
}

/// HSETNX key field value
pub fn hsetnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let pair = [(&args[2][..], &args[3][..])];
    Ok(Reply::Integer(ctx.db().hset(&args[1], &pair, true)? as i64))
}

/// HGET key field
pub fn hget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let v = ctx.db().hget(&args[1], &args[2])?;
    ctx.count_hit(v.is_some());
    Ok(Reply::opt_bulk(v))
}

/// HMGET key field [field ...]
pub fn hmget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let values = ctx.db().hmget(&args[1], &args[2..])?;
    Ok(Reply::Array(
        values.into_iter().map(Reply::opt_bulk).collect(),
    ))
}

/// HDEL key field [field ...]
pub fn hdel(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().hdel(&args[1], &args[2..])? as i64))
}

/// HEXISTS key field
pub fn hexists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let v = ctx.db().hget(&args[1], &args[2])?;
    Ok(Reply::Integer(v.is_some() as i64))
}

/// HLEN key
pub fn hlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().hlen(&args[1])? as i64))
}

/// HSTRLEN key field
pub fn hstrlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let v = ctx.db().hget(&args[1], &args[2])?;
    Ok(Reply::Integer(v.map_or(0, |v| v.len()) as i64))
}

/// HINCRBY key field increment
pub fn hincrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let delta = int(&args[3])?;
    let n = ctx.db().hincr_by(&args[1], &args[2], delta).map_err(herr)?;
    Ok(Reply::Integer(n))
}

/// HINCRBYFLOAT key field increment: the increment is checked before the
/// key, as in Redis.
pub fn hincrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match longdouble::incr_by_float(None, &args[3]) {
        Ok(_) => {}
        Err(LdError::NotFloat) => return Err(CmdError::NotFloat),
        Err(LdError::Infinite) => return Err(CmdError::err("value is NaN or Infinity")),
    }
    let v = ctx
        .db()
        .hincr_by_float(&args[1], &args[2], &args[3])
        .map_err(herr)?;
    Ok(Reply::bulk(v))
}

/// HKEYS key
pub fn hkeys(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut out = Vec::new();
    ctx.db()
        .hash_each(&args[1], |f, _| out.push(Reply::bulk(f.to_vec())))?;
    Ok(Reply::Array(out))
}

/// HVALS key
pub fn hvals(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut out = Vec::new();
    ctx.db()
        .hash_each(&args[1], |_, v| out.push(Reply::bulk(v.to_vec())))?;
    Ok(Reply::Array(out))
}

/// HGETALL key: a map in RESP3, a flat array in RESP2.
pub fn hgetall(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut out = Vec::new();
    ctx.db().hash_each(&args[1], |f, v| {
        out.push((Reply::bulk(f.to_vec()), Reply::bulk(v.to_vec())))
    })?;
    Ok(Reply::Map(out))
}

/// Checks a *SCAN cursor argument the way Redis does before anything else.
pub(super) fn check_cursor(arg: &[u8]) -> Result<(), CmdError> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(|_| ())
        .ok_or_else(|| CmdError::err("invalid cursor"))
}

/// The reply of a *SCAN of a missing key: cursor 0, no items (whatever
/// the options are, as in Redis).
pub(super) fn empty_scan() -> Reply {
    Reply::Array(vec![Reply::bulk("0"), Reply::Array(Vec::new())])
}

/// The page an HSCAN or SSCAN (`args`) of a `dtype` key asks for; `None`
/// when the key is missing (reply [`empty_scan`], whatever the options).
pub(super) fn scan_page(
    ctx: &mut Ctx,
    args: &[Bytes],
    dtype: DataType,
) -> Result<Option<SubkeyPage>, CmdError> {
    check_cursor(&args[2])?;
    if ctx.db().read_composite(&args[1], dtype)?.is_none() {
        return Ok(None);
    }
    let a = subscan::parse(ctx, args)?;
    let page = ctx
        .db()
        .scan_composite(&args[1], dtype, a.after.as_deref(), a.count, a.pattern)?;
    Ok(Some(page.unwrap_or_default()))
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
pub fn hscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(page) = scan_page(ctx, args, DataType::Hash)? else {
        return Ok(empty_scan());
    };
    let mut items = Vec::with_capacity(page.items.len() * 2);
    for (f, v) in page.items {
        items.push(Reply::bulk(f));
        items.push(Reply::bulk(v));
    }
    Ok(subscan::reply(ctx, page.next, items))
}

/// Parses the count of SRANDMEMBER / HRANDFIELD: any `i64` but the
/// smallest, with Redis's error for that one.
pub(super) fn random_count(arg: &[u8]) -> Result<i64, CmdError> {
    let n = int(arg)?;
    if n == i64::MIN {
        return Err(CmdError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    Ok(n)
}

/// Most picks a negative count (picks that may repeat) may ask for: the
/// reply is built in memory, so an absurd count would exhaust it (Redis
/// crashes on such counts).
pub(super) const RANDOM_REPEAT_MAX: u64 = 1 << 24;

/// Splits a random-pick count into (how many, distinct), refusing counts
/// of repeated picks above [`RANDOM_REPEAT_MAX`].
pub(super) fn pick_count(n: i64) -> Result<(u64, bool), CmdError> {
    if n >= 0 {
        return Ok((n as u64, true));
    }
    let picks = n.unsigned_abs();
    if picks > RANDOM_REPEAT_MAX {
        return Err(CmdError::err("value is out of range"));
    }
    Ok((picks, false))
}

/// HRANDFIELD key [count [WITHVALUES]]
pub fn hrandfield(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() == 2 {
        let picked = ctx.db().hrandfield(&args[1], 1, true)?;
        return Ok(Reply::opt_bulk(picked.into_iter().next().map(|(f, _)| f)));
    }
    let with_values = match args.len() {
        3 => false,
        4 if is(&args[3], "withvalues") => true,
        _ => return Err(CmdError::Syntax),
    };
    let n = random_count(&args[2])?;
    if with_values && n < -(i64::MAX / 2) {
        return Err(CmdError::err("value is out of range"));
    }
    let (count, distinct) = pick_count(n)?;
    let picked = ctx.db().hrandfield(&args[1], count, distinct)?;
    let resp3 = ctx.session.resp >= 3;
    let mut out = Vec::new();
    for (f, v) in picked {
        match (with_values, resp3) {
            (false, _) => out.push(Reply::bulk(f)),
            (true, false) => {
                out.push(Reply::bulk(f));
                out.push(Reply::bulk(v));
            }
            (true, true) => out.push(Reply::Array(vec![Reply::bulk(f), Reply::bulk(v)])),
        }
    }
    Ok(Reply::Array(out))
}

/// HRANGEBYLEX key min max [REV] [LIMIT offset count] (kvrocks): with REV
/// the first bound is the maximum, as in `ZRANGE ... BYLEX REV`. Replies
/// field, value, field, value, ...
pub fn hrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (mut rev, mut offset, mut count) = (false, 0i64, -1i64);
    let mut i = 4;
    while i < args.len() {
        if is(&args[i], "rev") {
            rev = true;
            i += 1;
        } else if is(&args[i], "limit") && i + 2 < args.len() {
            offset = int(&args[i + 1])?;
            count = int(&args[i + 2])?;
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let (lo, hi) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let (Some(min), Some(max)) = (LexBound::parse(lo), LexBound::parse(hi)) else {
        return Err(CmdError::err("min or max not valid string range item"));
    };
    let range = LexRange {
        min,
        max,
        rev,
        offset,
        count,
    };
    let pairs = ctx.db().hrange_by_lex(&args[1], &range)?;
    let mut out = Vec::with_capacity(pairs.len() * 2);
    for (f, v) in pairs {
        out.push(Reply::bulk(f));
        out.push(Reply::bulk(v));
    }
    Ok(Reply::Array(out))
}
