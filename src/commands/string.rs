//! String commands: each parses its arguments into typed options, then
//! calls [`crate::types::string`].

use bytes::Bytes;

use super::args::{int, is};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::protocol::Reply;
use crate::types::string::{Condition, Expiry, SetOptions};
use crate::util::now_ms;

/// Turns a relative or absolute expire argument into absolute ms,
/// rejecting non-positive values and overflow like Redis.
pub fn expire_at_ms(arg: &[u8], unit_ms: i64, absolute: bool, cmd: &str) -> Result<u64, CmdError> {
    let n = int(arg)?;
    if n <= 0 {
        return Err(CmdError::InvalidExpire(cmd.into()));
    }
    let ms = n
        .checked_mul(unit_ms)
        .ok_or_else(|| CmdError::InvalidExpire(cmd.into()))?;
    let at = if absolute {
        ms
    } else {
        ms.checked_add(now_ms() as i64)
            .ok_or_else(|| CmdError::InvalidExpire(cmd.into()))?
    };
    Ok(at as u64)
}

/// Parses one `EX|PX|EXAT|PXAT <n>` pair starting at `args[i]`; returns the
/// expiry and how many arguments it used, or `None` if not such a keyword.
fn parse_expire_option(args: &[Bytes], i: usize, cmd: &str) -> Result<Option<Expiry>, CmdError> {
    let (unit, absolute) = match () {
        _ if is(&args[i], "ex") => (1000, false),
        _ if is(&args[i], "px") => (1, false),
        _ if is(&args[i], "exat") => (1000, true),
        _ if is(&args[i], "pxat") => (1, true),
        _ => return Ok(None),
    };
    let value = args.get(i + 1).ok_or(CmdError::Syntax)?;
    Ok(Some(Expiry::At(expire_at_ms(value, unit, absolute, cmd)?)))
}

fn parse_set(args: &[Bytes]) -> Result<SetOptions, CmdError> {
    let mut opts = SetOptions::default();
    let mut expiry_given = false;
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        if is(a, "nx") && opts.condition != Condition::IfPresent {
            opts.condition = Condition::IfAbsent;
        } else if is(a, "xx") && opts.condition != Condition::IfAbsent {
            opts.condition = Condition::IfPresent;
        } else if is(a, "get") {
            opts.get_old = true;
        } else if is(a, "keepttl") && !expiry_given {
            opts.expiry = Expiry::Keep;
            expiry_given = true;
        } else if !expiry_given && i + 1 < args.len() {
            match parse_expire_option(args, i, "set")? {
                Some(e) => {
                    opts.expiry = e;
                    expiry_given = true;
                    i += 1;
                }
                None => return Err(CmdError::Syntax),
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(opts)
}

/// SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT n|KEEPTTL]
pub fn set(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = parse_set(args)?;
    // In cluster mode writes are applied at once: a folded write could land
    // after MIGRATE copied its slot (slot gates only cover execution).
    let foldable = ctx.server.cluster.is_none();
    let blind = match (opts.condition, opts.expiry, opts.get_old) {
        _ if !foldable => None,
        (Condition::Always, Expiry::Clear, false) => Some(0),
        (Condition::Always, Expiry::At(ms), false) => Some(ms),
        _ => None,
    };
    if let Some(expire_ms) = blind {
        let session = &mut *ctx.session;
        let db = crate::types::Db::new(&ctx.server.storage, &session.namespace, usize::MAX);
        db.set_blind(&args[1], &args[2], expire_ms, &mut session.folded)?;
        return Ok(Reply::ok());
    }
    // Options that read the key see this connection's earlier writes.
    if !ctx.session.apply_folded(&ctx.server.storage) {
        return Err(CmdError::err(
            "storage error while applying pipelined writes",
        ));
    }
    let out = ctx.db().set(&args[1], &args[2], opts)?;
    Ok(if opts.get_old {
        Reply::opt_bulk(out.old)
    } else if out.written {
        Reply::ok()
    } else {
        Reply::Nil
    })
}

/// SETNX key value
pub fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = SetOptions {
        condition: Condition::IfAbsent,
        ..Default::default()
    };
    let out = ctx.db().set(&args[1], &args[2], opts)?;
    Ok(Reply::Integer(out.written as i64))
}

fn set_with_ttl(ctx: &mut Ctx, args: &[Bytes], unit_ms: i64, cmd: &str) -> CmdResult {
    let at = expire_at_ms(&args[2], unit_ms, false, cmd)?;
    let opts = SetOptions {
        expiry: Expiry::At(at),
        ..Default::default()
    };
    ctx.db().set(&args[1], &args[3], opts)?;
    Ok(Reply::ok())
}

/// SETEX key seconds value
pub fn setex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_with_ttl(ctx, args, 1000, "setex")
}

/// PSETEX key milliseconds value
pub fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_with_ttl(ctx, args, 1, "psetex")
}

/// GET key
pub fn get(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let v = ctx.db().get(&args[1])?;
    ctx.count_hit(v.is_some());
    Ok(Reply::opt_bulk(v))
}

/// GETSET key value
pub fn getset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = SetOptions {
        get_old: true,
        ..Default::default()
    };
    Ok(Reply::opt_bulk(ctx.db().set(&args[1], &args[2], opts)?.old))
}

/// GETDEL key
pub fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::opt_bulk(ctx.db().get_del(&args[1])?))
}

/// GETEX key [EX|PX|EXAT|PXAT n|PERSIST]
pub fn getex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let expiry = match args.len() {
        2 => None,
        3 if is(&args[2], "persist") => Some(Expiry::Clear),
        4 => Some(parse_expire_option(args, 2, "getex")?.ok_or(CmdError::Syntax)?),
        _ => return Err(CmdError::Syntax),
    };
    Ok(Reply::opt_bulk(ctx.db().get_ex(&args[1], expiry)?))
}

/// MGET key [key ...]
pub fn mget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    // Encoded once, value by value, into the buffer that is sent: the
    // reply never exists twice in memory.
    let resp = ctx.session.resp;
    let mut out = crate::protocol::reply::EncodedBuilder::new();
    out.array_header(args.len() - 1);
    let snapshot = ctx.read_context();
    ctx.db()
        .at(snapshot.as_ref())
        .mget_each(&args[1..], |v| out.opt_bulk(v, resp))?;
    Ok(out.finish())
}

/// Key/value argument pairs.
type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

fn mset_pairs(args: &[Bytes]) -> Result<Pairs<'_>, CmdError> {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::Arity(super::args::lower(&args[0])));
    }
    Ok(args[1..]
        .chunks(2)
        .map(|p| (&p[0][..], &p[1][..]))
        .collect())
}

/// MSET key value [key value ...]
pub fn mset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let pairs = mset_pairs(args)?;
    ctx.db().mset(&pairs, false)?;
    Ok(Reply::ok())
}

/// MSETNX key value [key value ...]
pub fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let pairs = mset_pairs(args)?;
    Ok(Reply::Integer(ctx.db().mset(&pairs, true)? as i64))
}

/// INCR key
pub fn incr(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().incr_by(&args[1], 1)?))
}

/// DECR key
pub fn decr(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().incr_by(&args[1], -1)?))
}

/// INCRBY key delta
pub fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().incr_by(&args[1], int(&args[2])?)?))
}

/// DECRBY key delta
pub fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let delta = int(&args[2])?;
    let neg = delta
        .checked_neg()
        .ok_or_else(|| CmdError::err("decrement would overflow"))?;
    Ok(Reply::Integer(ctx.db().incr_by(&args[1], neg)?))
}

/// INCRBYFLOAT key delta
pub fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let delta = super::args::float(&args[2])?;
    if !delta.is_finite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    Ok(Reply::bulk(ctx.db().incr_by_float(&args[1], delta)?))
}

/// APPEND key value
pub fn append(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().append(&args[1], &args[2])? as i64))
}

/// STRLEN key
pub fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(
        ctx.db().get(&args[1])?.map(|v| v.len()).unwrap_or(0) as i64,
    ))
}

/// GETRANGE key start end (also SUBSTR)
pub fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (start, end) = (int(&args[2])?, int(&args[3])?);
    let v = ctx.db().get(&args[1])?.unwrap_or_default();
    Ok(Reply::bulk(substring(&v, start, end).to_vec()))
}

/// Redis's GETRANGE index rules: negatives count from the end, clamped.
fn substring(v: &[u8], start: i64, end: i64) -> &[u8] {
    let len = v.len() as i64;
    if len == 0 || (start < 0 && end < 0 && start > end) {
        return &[];
    }
    let s = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let e = if end < 0 {
        (len + end).max(0)
    } else {
        end.min(len - 1)
    };
    if s > e || s >= len {
        return &[];
    }
    &v[s as usize..=e as usize]
}

/// SETRANGE key offset value
pub fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let offset = int(&args[2])?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    Ok(Reply::Integer(
        ctx.db().set_range(&args[1], offset as usize, &args[3])? as i64,
    ))
}

/// CAS key old new [EX s|PX ms] (kvrocks)
pub fn cas(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let expire = match args.len() {
        4 => 0,
        6 => match parse_expire_option(args, 4, "cas")? {
            Some(Expiry::At(ms)) if is(&args[4], "ex") || is(&args[4], "px") => ms,
            _ => return Err(CmdError::Syntax),
        },
        _ => return Err(CmdError::Syntax),
    };
    Ok(Reply::Integer(
        ctx.db().cas(&args[1], &args[2], &args[3], expire)?,
    ))
}

/// CAD key value (kvrocks)
pub fn cad(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().cad(&args[1], &args[2])?))
}

#[cfg(test)]
mod tests {
    use super::substring;

    #[test]
    fn getrange_indexes() {
        let v = b"This is a string";
        assert_eq!(substring(v, 0, 3), b"This");
        assert_eq!(substring(v, -3, -1), b"ing");
        assert_eq!(substring(v, 0, -1), v);
        assert_eq!(substring(v, 10, 100), b"string");
        assert_eq!(substring(v, 5, 3), b"");
    }
}
