//! String commands: each parses its arguments into typed options, then
//! calls [`crate::types::string`].

use bytes::Bytes;

use super::args::{int, is};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::protocol::Reply;
use crate::types::string::{Condition, Expiry, SetOptions};
use crate::types::TypeError;
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

/// Which expire option was given (EX, PX, EXAT, PXAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// An expire option as given; its value is checked only where Redis
/// checks it (after the whole syntax, and for GETEX after the lookup).
#[derive(Debug, Clone, Copy)]
struct RawExpire<'a> {
    kind: ExpireKind,
    value: &'a [u8],
}

impl RawExpire<'_> {
    /// The absolute expire time in ms, or Redis's error for the value.
    fn resolve(&self, cmd: &str) -> Result<u64, CmdError> {
        let (unit, absolute) = match self.kind {
            ExpireKind::Ex => (1000, false),
            ExpireKind::Px => (1, false),
            ExpireKind::ExAt => (1000, true),
            ExpireKind::PxAt => (1, true),
        };
        expire_at_ms(self.value, unit, absolute, cmd)
    }
}

/// The options of SET (`for_set`) or GETEX, with Redis's rules for which
/// may combine: NX/XX exclude each other, one expire kind (repeating the
/// same kind is allowed, the last value wins), KEEPTTL and PERSIST exclude
/// any expire.
#[derive(Debug, Default)]
struct ExtendedArgs<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<RawExpire<'a>>,
}

fn parse_extended(args: &[Bytes], for_set: bool) -> Result<ExtendedArgs<'_>, CmdError> {
    let mut out = ExtendedArgs::default();
    let mut i = if for_set { 3 } else { 2 };
    while i < args.len() {
        let a = &args[i];
        let next = args.get(i + 1);
        let kind = match () {
            _ if is(a, "ex") => Some(ExpireKind::Ex),
            _ if is(a, "px") => Some(ExpireKind::Px),
            _ if is(a, "exat") => Some(ExpireKind::ExAt),
            _ if is(a, "pxat") => Some(ExpireKind::PxAt),
            _ => None,
        };
        if is(a, "nx") && for_set && !out.xx {
            out.nx = true;
        } else if is(a, "xx") && for_set && !out.nx {
            out.xx = true;
        } else if is(a, "get") && for_set {
            out.get = true;
        } else if is(a, "keepttl") && for_set && out.expire.is_none() {
            out.keepttl = true;
        } else if is(a, "persist") && !for_set && out.expire.is_none() {
            out.persist = true;
        } else if let (Some(kind), Some(value)) = (kind, next) {
            let other_kind = out.expire.is_some_and(|e| e.kind != kind);
            if out.keepttl || out.persist || other_kind {
                return Err(CmdError::Syntax);
            }
            out.expire = Some(RawExpire { kind, value });
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(out)
}

fn parse_set(args: &[Bytes]) -> Result<SetOptions, CmdError> {
    let parsed = parse_extended(args, true)?;
    let expiry = match (parsed.expire, parsed.keepttl) {
        (Some(e), _) => Expiry::At(e.resolve("set")?),
        (None, true) => Expiry::Keep,
        (None, false) => Expiry::Clear,
    };
    let condition = match (parsed.nx, parsed.xx) {
        (true, _) => Condition::IfAbsent,
        (_, true) => Condition::IfPresent,
        _ => Condition::Always,
    };
    Ok(SetOptions {
        condition,
        expiry,
        get_old: parsed.get,
    })
}

/// SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT n|KEEPTTL]
pub fn set(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = parse_set(args)?;
    let blind = match (opts.condition, opts.expiry, opts.get_old) {
        (Condition::Always, Expiry::Clear, false) => Some(0),
        (Condition::Always, Expiry::At(ms), false) => Some(ms),
        _ => None,
    };
    if let (Some(expire_ms), Some((db, folded))) = (blind, ctx.folding()) {
        db.set_blind(&args[1], &args[2], expire_ms, folded)?;
        return Ok(Reply::ok());
    }
    // Options that read the key see this connection's earlier writes.
    if !ctx.session.apply_folded(&ctx.server.node.storage) {
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

/// GETEX key [EX|PX|EXAT|PXAT n|PERSIST]: the expire value is checked
/// after the lookup, as in Redis (a missing key is nil whatever it is).
pub fn getex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let parsed = parse_extended(args, false)?;
    let value = ctx.db().get_ex(&args[1], || -> Result<_, CmdError> {
        Ok(match (parsed.expire, parsed.persist) {
            (Some(e), _) => Some(Expiry::At(e.resolve("getex")?)),
            (None, true) => Some(Expiry::Clear),
            (None, false) => None,
        })
    })?;
    Ok(Reply::opt_bulk(value))
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
    match ctx.folding() {
        Some((db, folded)) => db.mset_folded(&pairs, folded)?,
        None => {
            ctx.db().mset(&pairs, false)?;
        }
    }
    Ok(Reply::ok())
}

/// MSETNX key value [key value ...]
pub fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let pairs = mset_pairs(args)?;
    Ok(Reply::Integer(ctx.db().mset(&pairs, true)? as i64))
}

/// Adds `delta` to the integer at `key`, joining the connection's pending
/// batch where it can.
fn add(ctx: &mut Ctx, key: &[u8], delta: i64) -> CmdResult {
    let n = match ctx.folding() {
        Some((db, folded)) => db.incr_by_folded(key, delta, folded)?,
        None => ctx.db().incr_by(key, delta)?,
    };
    Ok(Reply::Integer(n))
}

/// INCR key
pub fn incr(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    add(ctx, &args[1], 1)
}

/// DECR key
pub fn decr(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    add(ctx, &args[1], -1)
}

/// INCRBY key delta
pub fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let delta = int(&args[2])?;
    add(ctx, &args[1], delta)
}

/// DECRBY key delta
pub fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let delta = int(&args[2])?;
    let neg = delta
        .checked_neg()
        .ok_or_else(|| CmdError::err("decrement would overflow"))?;
    add(ctx, &args[1], neg)
}

/// INCRBYFLOAT key delta
pub fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::bulk(ctx.db().incr_by_float(&args[1], &args[2])?))
}

/// APPEND key value
pub fn append(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().append(&args[1], &args[2])? as i64))
}

/// STRLEN key
pub fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().strlen(&args[1])? as i64))
}

/// GETRANGE key start end (also SUBSTR)
pub fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (start, end) = (int(&args[2])?, int(&args[3])?);
    // A bitmap reads only the fragments the range covers.
    Ok(Reply::bulk(ctx.db().get_range(&args[1], start, end)?))
}

/// Redis's GETRANGE index rules: negatives count from the end, clamped.
#[cfg(test)]
fn substring(v: &[u8], start: i64, end: i64) -> &[u8] {
    match crate::types::string::substring_bounds(v.len() as u64, start, end) {
        Some((s, e)) => &v[s as usize..=e as usize],
        None => &[],
    }
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

/// CAS key old new [EX s|PX ms|EXAT unix-s|PXAT unix-ms] (kvrocks). An
/// option without its value is an arity error, as in kvrocks.
pub fn cas(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if !args.len().is_multiple_of(2) {
        return Err(CmdError::Arity("cas".into()));
    }
    let mut expire = 0;
    let mut expiry_given = false;
    let mut i = 4;
    while i < args.len() {
        match parse_expire_option(args, i, "cas")? {
            Some(Expiry::At(ms)) if !expiry_given => {
                expire = ms;
                expiry_given = true;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 2;
    }
    Ok(Reply::Integer(
        ctx.db().cas(&args[1], &args[2], &args[3], expire)?,
    ))
}

/// CAD key value (kvrocks)
pub fn cad(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().cad(&args[1], &args[2])?))
}

/// What LCS replies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LcsMode {
    /// The common subsequence itself.
    String,
    /// Its length (LEN).
    Len,
    /// The matching ranges and the length (IDX).
    Idx {
        /// Only ranges at least this long.
        min_len: u64,
        /// Each range carries its length (WITHMATCHLEN).
        with_len: bool,
    },
}

fn parse_lcs(args: &[Bytes]) -> Result<LcsMode, CmdError> {
    let (mut idx, mut len, mut with_len, mut min_len) = (false, false, false, 0i64);
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        if is(a, "idx") {
            idx = true;
        } else if is(a, "len") {
            len = true;
        } else if is(a, "withmatchlen") {
            with_len = true;
        } else if is(a, "minmatchlen") && i + 1 < args.len() {
            min_len = int(&args[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    match (idx, len) {
        (true, true) => Err(CmdError::err(
            "If you want both the length and indexes, please just use IDX.",
        )),
        (true, false) => Ok(LcsMode::Idx {
            min_len: min_len as u64,
            with_len,
        }),
        (false, true) => Ok(LcsMode::Len),
        (false, false) => Ok(LcsMode::String),
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN] (Redis 7)
pub fn lcs(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let values = (db.get(&args[1]), db.get(&args[2]));
    let (a, b) = match values {
        (Ok(a), Ok(b)) => (a.unwrap_or_default(), b.unwrap_or_default()),
        (Err(TypeError::WrongType), _) | (_, Err(TypeError::WrongType)) => {
            return Err(CmdError::err(
                "The specified keys must contain string values",
            ))
        }
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let mode = parse_lcs(args)?;
    // Like Redis: the table may not exceed proto-max-bulk-len.
    let cells = (a.len() as u128 + 1) * (b.len() as u128 + 1) * 4;
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CmdError::err("String too long for LCS"));
    }
    if cells > db.max_value_len as u128 {
        return Err(CmdError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let out = crate::types::string::lcs(&a, &b);
    Ok(match mode {
        LcsMode::String => Reply::bulk(out.common),
        LcsMode::Len => Reply::Integer(out.common.len() as i64),
        LcsMode::Idx { min_len, with_len } => {
            let pair = |s: usize, e: usize| {
                Reply::Array(vec![Reply::Integer(s as i64), Reply::Integer(e as i64)])
            };
            let matches = out
                .ranges
                .iter()
                .filter(|r| min_len == 0 || r.len as u64 >= min_len)
                .map(|r| {
                    let mut item = vec![pair(r.a.0, r.a.1), pair(r.b.0, r.b.1)];
                    if with_len {
                        item.push(Reply::Integer(r.len as i64));
                    }
                    Reply::Array(item)
                })
                .collect();
            Reply::Map(vec![
                (Reply::bulk("matches"), Reply::Array(matches)),
                (Reply::bulk("len"), Reply::Integer(out.common.len() as i64)),
            ])
        }
    })
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
