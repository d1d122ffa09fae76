//! Sorted set commands (rows in [`COMMANDS`]): each parses its arguments
//! the way Redis 7 does (same error texts, same order of checks), then
//! calls [`crate::types::zset`].
//!
//! Scores are printed as Redis 7.0 prints them (`%.17g`, see
//! [`format_score`]): a bulk string in RESP2, a double in RESP3.

use bytes::Bytes;

use super::args::{int, is};
use super::error::{CmdError, CmdResult};
use super::table::{c, n, NONE, ONE, R, RF, W, WF};
use super::{flags::*, subscan, CommandSpec, Ctx};
use crate::protocol::Reply;
use crate::types::zset::{
    format_score, parse_score, rank_window, Aggregate, LexRange, ScoreRange, ZAddFlags, ZAddReply,
    ZInput, ZsetError,
};
use crate::types::Db;

/// The zset rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    c("zadd", -4, WF, ONE, "sorted-set", "Adds members to a sorted set, or updates their scores.", zadd),
    c("zincrby", 4, WF, ONE, "sorted-set", "Increments the score of a member.", zincrby),
    c("zrem", -3, WRITE | FAST, ONE, "sorted-set", "Removes members.", zrem),
    c("zcard", 2, RF, ONE, "sorted-set", "Returns the number of members.", zcard),
    c("zcount", 4, RF, ONE, "sorted-set", "Counts the members in a score range.", zcount),
    c("zlexcount", 4, RF, ONE, "sorted-set", "Counts the members in a lex range.", zlexcount),
    c("zscore", 3, RF, ONE, "sorted-set", "Returns the score of a member.", zscore),
    c("zmscore", -3, RF, ONE, "sorted-set", "Returns the scores of several members.", zmscore),
    c("zrank", -3, RF, ONE, "sorted-set", "Returns the rank of a member (ascending).", zrank),
    c("zrevrank", -3, RF, ONE, "sorted-set", "Returns the rank of a member (descending).", zrevrank),
    c("zrange", -4, R, ONE, "sorted-set", "Returns members in a range of ranks, scores or lex values.", zrange),
    c("zrangestore", -5, W, (1, 2, 1), "sorted-set", "Stores a range of members in another key.", zrangestore),
    c("zrangebyscore", -4, R, ONE, "sorted-set", "Returns members in a score range.", zrangebyscore),
    c("zrevrangebyscore", -4, R, ONE, "sorted-set", "Returns members in a score range, highest first.", zrevrangebyscore),
    c("zrangebylex", -4, R, ONE, "sorted-set", "Returns members in a lex range.", zrangebylex),
    c("zrevrangebylex", -4, R, ONE, "sorted-set", "Returns members in a lex range, highest first.", zrevrangebylex),
    c("zrevrange", -4, R, ONE, "sorted-set", "Returns members in a range of ranks, highest first.", zrevrange),
    c("zremrangebyrank", 4, WRITE, ONE, "sorted-set", "Removes members in a range of ranks.", zremrangebyrank),
    c("zremrangebyscore", 4, WRITE, ONE, "sorted-set", "Removes members in a score range.", zremrangebyscore),
    c("zremrangebylex", 4, WRITE, ONE, "sorted-set", "Removes members in a lex range.", zremrangebylex),
    c("zpopmin", -2, WRITE | FAST, ONE, "sorted-set", "Removes and returns the lowest-scored members.", zpopmin),
    c("zpopmax", -2, WRITE | FAST, ONE, "sorted-set", "Removes and returns the highest-scored members.", zpopmax),
    n(c("zmpop", -4, WRITE, NONE, "sorted-set", "Pops members from the first non-empty sorted set.", zmpop), 1),
    c("zrandmember", -2, R, ONE, "sorted-set", "Returns random members.", zrandmember),
    n(c("zunion", -3, R, NONE, "sorted-set", "Returns the union of sorted sets.", zunion), 1),
    n(c("zinter", -3, R, NONE, "sorted-set", "Returns the intersection of sorted sets.", zinter), 1),
    n(c("zdiff", -3, R, NONE, "sorted-set", "Returns the difference of sorted sets.", zdiff), 1),
    n(c("zunionstore", -4, W, ONE, "sorted-set", "Stores the union of sorted sets.", zunionstore), 2),
    n(c("zinterstore", -4, W, ONE, "sorted-set", "Stores the intersection of sorted sets.", zinterstore), 2),
    n(c("zdiffstore", -4, W, ONE, "sorted-set", "Stores the difference of sorted sets.", zdiffstore), 2),
    n(c("zintercard", -3, R, NONE, "sorted-set", "Counts the members of an intersection.", zintercard), 1),
    c("zscan", -3, R, ONE, "sorted-set", "Iterates over members and scores.", zscan),
];

impl From<ZsetError> for CmdError {
    fn from(e: ZsetError) -> Self {
        match e {
            ZsetError::Type(t) => t.into(),
            other => CmdError::Other(other.to_string()),
        }
    }
}

// ---------------------------------------------------------------------------
// Reply helpers.
// ---------------------------------------------------------------------------

/// A score as Redis 7.0 sends it: `%.17g` text, bulk in RESP2, double in
/// RESP3.
pub fn score_reply(resp: u8, score: f64) -> Reply {
    let text = format_score(score);
    if resp >= 3 {
        Reply::Encoded(vec![Bytes::from(format!(",{text}\r\n"))])
    } else {
        Reply::Bulk(Bytes::from(text))
    }
}

/// Collects the items of a member list reply: members only, or with
/// scores (flat pairs in RESP2, `[member, score]` arrays in RESP3 unless
/// `flat`).
struct Items {
    resp: u8,
    withscores: bool,
    flat: bool,
    out: Vec<Reply>,
}

impl Items {
    fn new(resp: u8, withscores: bool) -> Items {
        Items {
            resp,
            withscores,
            flat: resp < 3,
            out: Vec::new(),
        }
    }

    fn push(&mut self, member: &[u8], score: f64) {
        let m = Reply::Bulk(Bytes::copy_from_slice(member));
        if !self.withscores {
            self.out.push(m);
        } else if self.flat {
            self.out.push(m);
            self.out.push(score_reply(self.resp, score));
        } else {
            self.out
                .push(Reply::Array(vec![m, score_reply(self.resp, score)]));
        }
    }

    fn finish(self) -> Reply {
        Reply::Array(self.out)
    }
}

fn items_reply(resp: u8, withscores: bool, pairs: &[(Vec<u8>, f64)]) -> Reply {
    let mut items = Items::new(resp, withscores);
    for (m, s) in pairs {
        items.push(m, *s);
    }
    items.finish()
}

fn opt_score_reply(resp: u8, score: Option<f64>) -> Reply {
    score.map_or(Reply::Nil, |s| score_reply(resp, s))
}

// ---------------------------------------------------------------------------
// Argument helpers.
// ---------------------------------------------------------------------------

fn score_arg(arg: &[u8]) -> Result<f64, CmdError> {
    parse_score(arg).ok_or(CmdError::NotFloat)
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    ScoreRange::parse(min, max).ok_or_else(|| CmdError::err("min or max is not a float"))
}

fn lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
    LexRange::parse(min, max).ok_or_else(|| CmdError::err("min or max not valid string range item"))
}

/// A positive count argument (`ZPOPMIN key count`): 0 and up.
fn positive(arg: &[u8], msg: &str) -> Result<i64, CmdError> {
    match crate::util::numbers::parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(CmdError::err(msg)),
    }
}

/// A count in `1..` with the given error text otherwise.
fn at_least_one(arg: &[u8], msg: &str) -> Result<i64, CmdError> {
    match crate::util::numbers::parse_i64(arg) {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(CmdError::err(msg)),
    }
}

// ---------------------------------------------------------------------------
// Writes of single members.
// ---------------------------------------------------------------------------

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub fn zadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut flags = ZAddFlags::default();
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        match () {
            _ if is(a, "nx") => flags.nx = true,
            _ if is(a, "xx") => flags.xx = true,
            _ if is(a, "gt") => flags.gt = true,
            _ if is(a, "lt") => flags.lt = true,
            _ if is(a, "ch") => flags.ch = true,
            _ if is(a, "incr") => flags.incr = true,
            _ => break,
        }
        i += 1;
    }
    let elements = args.len() - i;
    if elements == 0 || !elements.is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(CmdError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if [flags.gt, flags.lt, flags.nx]
        .iter()
        .filter(|&&f| f)
        .count()
        > 1
    {
        return Err(CmdError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && elements > 2 {
        return Err(CmdError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let items = args[i..]
        .chunks(2)
        .map(|p| Ok((score_arg(&p[0])?, &p[1][..])))
        .collect::<Result<Vec<_>, CmdError>>()?;
    let resp = ctx.session.resp;
    Ok(match ctx.db().zadd_checked(&args[1], flags, &items)? {
        ZAddReply::Count(n) => Reply::Integer(n),
        ZAddReply::Score(s) => opt_score_reply(resp, s),
    })
}

/// ZINCRBY key increment member
pub fn zincrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let by = score_arg(&args[2])?;
    let flags = ZAddFlags {
        incr: true,
        ..Default::default()
    };
    let resp = ctx.session.resp;
    Ok(
        match ctx
            .db()
            .zadd_checked(&args[1], flags, &[(by, &args[3][..])])?
        {
            ZAddReply::Score(s) => opt_score_reply(resp, s),
            ZAddReply::Count(n) => Reply::Integer(n),
        },
    )
}

/// ZREM key member [member ...]
pub fn zrem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let members: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    Ok(Reply::Integer(ctx.db().zrem(&args[1], &members)?))
}

// ---------------------------------------------------------------------------
// Point reads.
// ---------------------------------------------------------------------------

/// ZCARD key
pub fn zcard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = ctx.db().zcard(&args[1])?;
    ctx.count_hit(n > 0);
    Ok(Reply::Integer(n))
}

/// ZSCORE key member
pub fn zscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let s = ctx.db().zscore(&args[1], &args[2])?;
    Ok(opt_score_reply(ctx.session.resp, s))
}

/// ZMSCORE key member [member ...]
pub fn zmscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let members: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    let resp = ctx.session.resp;
    let scores = ctx.db().zmscore(&args[1], &members)?;
    Ok(Reply::Array(
        scores
            .into_iter()
            .map(|s| opt_score_reply(resp, s))
            .collect(),
    ))
}

fn rank_generic(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> CmdResult {
    if args.len() > 4 {
        let name = if rev { "zrevrank" } else { "zrank" };
        return Err(CmdError::Arity(name.into()));
    }
    let withscore = match args.get(3) {
        Some(a) if is(a, "withscore") => true,
        Some(_) => return Err(CmdError::Syntax),
        None => false,
    };
    let resp = ctx.session.resp;
    Ok(match ctx.db().zrank(&args[1], &args[2], rev)? {
        Some((rank, score)) if withscore => {
            Reply::Array(vec![Reply::Integer(rank as i64), score_reply(resp, score)])
        }
        Some((rank, _)) => Reply::Integer(rank as i64),
        None if withscore => Reply::NilArray,
        None => Reply::Nil,
    })
}

/// ZRANK key member [WITHSCORE]
pub fn zrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rank_generic(ctx, args, false)
}

/// ZREVRANK key member [WITHSCORE]
pub fn zrevrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rank_generic(ctx, args, true)
}

/// ZCOUNT key min max
pub fn zcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let range = score_range(&args[2], &args[3])?;
    Ok(Reply::Integer(ctx.db().zcount(&args[1], &range)?))
}

/// ZLEXCOUNT key min max
pub fn zlexcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let range = lex_range(&args[2], &args[3])?;
    Ok(Reply::Integer(ctx.db().zlexcount(&args[1], &range)?))
}

// ---------------------------------------------------------------------------
// Ranges.
// ---------------------------------------------------------------------------

/// How a ZRANGE-family command reads its `min max` arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeBy {
    Rank,
    Score,
    Lex,
}

/// The parsed range of a ZRANGE-family command.
enum Window {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Options after `key min max`.
struct RangeOpts {
    window: Window,
    rev: bool,
    withscores: bool,
    offset: i64,
    /// Negative: no limit.
    limit: i64,
}

/// Parses a ZRANGE-family command whose key is at `key_at`; `by` and
/// `rev` are preset by the legacy commands (ZRANGEBYSCORE...).
fn parse_range(
    args: &[Bytes],
    key_at: usize,
    store: bool,
    by: Option<RangeBy>,
    rev: Option<bool>,
) -> Result<RangeOpts, CmdError> {
    let (mut by, mut rev) = (by, rev);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = key_at + 3;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if !store && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = int(&args[j + 1])?;
            limit = int(&args[j + 2])?;
            j += 2;
        } else if rev.is_none() && is(a, "rev") {
            rev = Some(true);
        } else if by.is_none() && is(a, "bylex") {
            by = Some(RangeBy::Lex);
        } else if by.is_none() && is(a, "byscore") {
            by = Some(RangeBy::Score);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    let by = by.unwrap_or(RangeBy::Rank);
    if limit != -1 && by == RangeBy::Rank {
        return Err(CmdError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == RangeBy::Lex {
        return Err(CmdError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut lo, mut hi) = (&args[key_at + 1][..], &args[key_at + 2][..]);
    if rev && by != RangeBy::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let window = match by {
        RangeBy::Rank => Window::Rank(int(lo)?, int(hi)?),
        RangeBy::Score => Window::Score(score_range(lo, hi)?),
        RangeBy::Lex => Window::Lex(lex_range(lo, hi)?),
    };
    Ok(RangeOpts {
        window,
        rev,
        withscores,
        offset,
        limit,
    })
}

/// Runs a parsed range over `key`, calling `emit` with each member in
/// reply order.
fn walk_range(
    db: &Db<'_>,
    key: &[u8],
    opts: &RangeOpts,
    mut emit: impl FnMut(&[u8], f64) -> bool,
) -> Result<bool, CmdError> {
    let Some(meta) = db.zset_meta(key)? else {
        return Ok(false);
    };
    if let Window::Rank(start, stop) = opts.window {
        if let Some((a, b)) = rank_window(meta.size, start, stop) {
            db.zwalk_rank(key, &meta, a, b, opts.rev, |m, s| {
                emit(m, s);
            })?;
        }
        return Ok(true);
    }
    if opts.offset < 0 || opts.limit == 0 {
        return Ok(true);
    }
    let mut skip = opts.offset as u64;
    let mut left = if opts.limit < 0 {
        u64::MAX
    } else {
        opts.limit as u64
    };
    let mut f = |m: &[u8], s: f64| {
        if skip > 0 {
            skip -= 1;
            return true;
        }
        left -= 1;
        emit(m, s) && left > 0
    };
    match &opts.window {
        Window::Score(r) => db.zwalk_score(key, &meta, r, opts.rev, &mut f)?,
        Window::Lex(r) => db.zwalk_lex(key, &meta, r, opts.rev, &mut f)?,
        Window::Rank(..) => {}
    }
    Ok(true)
}

fn range_reply(ctx: &mut Ctx, args: &[Bytes], by: Option<RangeBy>, rev: Option<bool>) -> CmdResult {
    let opts = parse_range(args, 1, false, by, rev)?;
    let mut items = Items::new(ctx.session.resp, opts.withscores);
    let found = walk_range(&ctx.db(), &args[1], &opts, |m, s| {
        items.push(m, s);
        true
    })?;
    ctx.count_hit(found);
    Ok(items.finish())
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub fn zrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, None, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
pub fn zrevrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, Some(RangeBy::Rank), Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub fn zrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, Some(RangeBy::Score), Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub fn zrevrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, Some(RangeBy::Score), Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
pub fn zrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, Some(RangeBy::Lex), Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub fn zrevrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_reply(ctx, args, Some(RangeBy::Lex), Some(true))
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]:
/// the range is written to `dst` in bounded batches as it is read.
pub fn zrangestore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = parse_range(args, 2, true, None, None)?;
    let db = ctx.db();
    let mut writer = db.zset_store_writer(&args[1]);
    let mut failed = None;
    walk_range(&db, &args[2], &opts, |m, s| match writer.push(m, s) {
        Ok(()) => true,
        Err(e) => {
            failed = Some(e);
            false
        }
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    Ok(Reply::Integer(writer.finish()?))
}

/// ZREMRANGEBYRANK key start stop
pub fn zremrangebyrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (start, stop) = (int(&args[2])?, int(&args[3])?);
    Ok(Reply::Integer(
        ctx.db().zrem_range_rank(&args[1], start, stop)?,
    ))
}

/// ZREMRANGEBYSCORE key min max
pub fn zremrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let range = score_range(&args[2], &args[3])?;
    Ok(Reply::Integer(ctx.db().zrem_range_score(&args[1], &range)?))
}

/// ZREMRANGEBYLEX key min max
pub fn zremrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let range = lex_range(&args[2], &args[3])?;
    Ok(Reply::Integer(ctx.db().zrem_range_lex(&args[1], &range)?))
}

// ---------------------------------------------------------------------------
// Pops and random members.
// ---------------------------------------------------------------------------

fn pop_generic(ctx: &mut Ctx, args: &[Bytes], max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match args.get(2) {
        Some(a) => Some(positive(a, "value is out of range, must be positive")?),
        None => None,
    };
    let resp = ctx.session.resp;
    let popped = ctx.db().zpop(&args[1], count.unwrap_or(1) as u64, max)?;
    let mut items = Items::new(resp, true);
    // Without a count the one pair is flat, in RESP3 too.
    items.flat = resp < 3 || count.is_none();
    for (m, s) in &popped {
        items.push(m, *s);
    }
    Ok(items.finish())
}

/// ZPOPMIN key [count]
pub fn zpopmin(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, args, false)
}

/// ZPOPMAX key [count]
pub fn zpopmax(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    pop_generic(ctx, args, true)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub fn zmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let numkeys = at_least_one(&args[1], "numkeys should be greater than 0")?;
    let where_at = (numkeys as u64).saturating_add(2);
    let Some(where_arg) = usize::try_from(where_at).ok().and_then(|i| args.get(i)) else {
        return Err(CmdError::Syntax);
    };
    let where_at = where_at as usize;
    let max = if is(where_arg, "min") {
        false
    } else if is(where_arg, "max") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && is(&args[j], "count") && j + 1 < args.len() {
            count = Some(at_least_one(
                &args[j + 1],
                "count should be greater than 0",
            )?);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let count = count.unwrap_or(1) as u64;
    let resp = ctx.session.resp;
    let db = ctx.db();
    for key in &args[2..where_at] {
        if db.zset_meta(key)?.is_none() {
            continue;
        }
        let popped = db.zpop(key, count, max)?;
        if popped.is_empty() {
            continue;
        }
        let mut items = Items::new(resp, true);
        items.flat = false;
        for (m, s) in &popped {
            items.push(m, *s);
        }
        return Ok(Reply::Array(vec![Reply::Bulk(key.clone()), items.finish()]));
    }
    Ok(Reply::NilArray)
}

/// Largest `|count|` ZRANDMEMBER serves with a negative count: the reply
/// holds that many members, so it is capped to keep memory bounded.
const RANDMEMBER_MAX_REPEATS: u64 = 10_000_000;

/// ZRANDMEMBER key [count [WITHSCORES]]
pub fn zrandmember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let resp = ctx.session.resp;
    if args.len() == 2 {
        let one = ctx.db().zrandmember_one(&args[1])?;
        return Ok(Reply::opt_bulk(one.map(|(m, _)| m)));
    }
    let count = int(&args[2])?;
    if count == i64::MIN {
        return Err(CmdError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    if args.len() > 4 || (args.len() == 4 && !is(&args[3], "withscores")) {
        return Err(CmdError::Syntax);
    }
    let withscores = args.len() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::err("value is out of range"));
    }
    if count < 0 && count.unsigned_abs() > RANDMEMBER_MAX_REPEATS {
        return Err(CmdError::err("value is out of range"));
    }
    let picked = ctx.db().zrandmember(&args[1], count)?;
    Ok(items_reply(resp, withscores, &picked))
}

// ---------------------------------------------------------------------------
// Set operations.
// ---------------------------------------------------------------------------

/// Which set operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
    /// ZINTERCARD.
    Card,
}

/// A parsed ZUNION/ZINTER/ZDIFF/ZINTERCARD (and STORE) command.
struct SetOpArgs {
    inputs: Vec<ZInput>,
    agg: Aggregate,
    withscores: bool,
    limit: u64,
}

/// Parses `numkeys key... [options]` with `numkeys` at `at`, reading the
/// inputs (WRONGTYPE) before the options, as Redis does.
fn parse_setop(
    db: &Db<'_>,
    args: &[Bytes],
    at: usize,
    op: SetOp,
    store: bool,
    name: &str,
) -> Result<SetOpArgs, CmdError> {
    let numkeys = int(&args[at])?;
    if numkeys < 1 {
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    let first = at + 1;
    if numkeys as u64 > (args.len() - first) as u64 {
        return Err(CmdError::Syntax);
    }
    let numkeys = numkeys as usize;
    let keys: Vec<&[u8]> = args[first..first + numkeys]
        .iter()
        .map(|a| &a[..])
        .collect();
    let mut inputs = db.zset_inputs(&keys, &[])?;
    let mut out = SetOpArgs {
        inputs: Vec::new(),
        agg: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let mut j = first + numkeys;
    let weighted = matches!(op, SetOp::Union | SetOp::Inter);
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if weighted && remaining > numkeys && is(a, "weights") {
            for (i, w) in args[j + 1..j + 1 + numkeys].iter().enumerate() {
                inputs[i].weight =
                    parse_score(w).ok_or_else(|| CmdError::err("weight value is not a float"))?;
            }
            j += 1 + numkeys;
        } else if weighted && remaining >= 2 && is(a, "aggregate") {
            let v = &args[j + 1];
            out.agg = match () {
                _ if is(v, "sum") => Aggregate::Sum,
                _ if is(v, "min") => Aggregate::Min,
                _ if is(v, "max") => Aggregate::Max,
                _ => return Err(CmdError::Syntax),
            };
            j += 2;
        } else if !store && op != SetOp::Card && is(a, "withscores") {
            out.withscores = true;
            j += 1;
        } else if op == SetOp::Card && remaining >= 2 && is(a, "limit") {
            out.limit = positive(&args[j + 1], "LIMIT can't be negative")? as u64;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    out.inputs = inputs;
    Ok(out)
}

/// Members and scores of a set operation, sorted as the reply wants.
///
/// ZUNION holds its whole result here (memory follows the result size,
/// as the reply does); the STORE variants stream instead.
fn setop_collect(db: &Db<'_>, op: SetOp, a: &SetOpArgs) -> Result<Vec<(Vec<u8>, f64)>, CmdError> {
    let mut out: Vec<(Vec<u8>, f64)> = match op {
        SetOp::Union => db.zunion_iter(&a.inputs, a.agg).collect::<Result<_, _>>()?,
        SetOp::Inter => db.zinter_iter(&a.inputs, a.agg).collect::<Result<_, _>>()?,
        SetOp::Diff | SetOp::Card => db.zdiff_iter(&a.inputs).collect::<Result<_, _>>()?,
    };
    // Scores compare as numbers (-0 equals 0), then members by bytes.
    out.sort_by(|x, y| {
        x.1.partial_cmp(&y.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| x.0.cmp(&y.0))
    });
    Ok(out)
}

fn setop_reply(ctx: &mut Ctx, args: &[Bytes], op: SetOp, name: &str) -> CmdResult {
    let resp = ctx.session.resp;
    let snapshot = ctx.read_context();
    let db = ctx.db().at(snapshot.as_ref());
    let parsed = parse_setop(&db, args, 1, op, false, name)?;
    let result = setop_collect(&db, op, &parsed)?;
    Ok(items_reply(resp, parsed.withscores, &result))
}

fn setop_store(ctx: &mut Ctx, args: &[Bytes], op: SetOp, name: &str) -> CmdResult {
    let snapshot = ctx.read_context();
    let db = ctx.db().at(snapshot.as_ref());
    let parsed = parse_setop(&db, args, 2, op, true, name)?;
    let dst = &args[1];
    let n = match op {
        SetOp::Union => db.zset_store_try(dst, db.zunion_iter(&parsed.inputs, parsed.agg))?,
        SetOp::Inter => db.zset_store_try(dst, db.zinter_iter(&parsed.inputs, parsed.agg))?,
        SetOp::Diff | SetOp::Card => db.zset_store_try(dst, db.zdiff_iter(&parsed.inputs))?,
    };
    Ok(Reply::Integer(n))
}

/// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zunion(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    setop_reply(ctx, args, SetOp::Union, "zunion")
}

/// ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zinter(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    setop_reply(ctx, args, SetOp::Inter, "zinter")
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
pub fn zdiff(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    setop_reply(ctx, args, SetOp::Diff, "zdiff")
}

/// ZUNIONSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
pub fn zunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    setop_store(ctx, args, SetOp::Union, "zunionstore")
}

/// ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
pub fn zinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    setop_store(ctx, args, SetOp::Inter, "zinterstore")
}

/// ZDIFFSTORE dst numkeys key [key ...]
pub fn zdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    setop_store(ctx, args, SetOp::Diff, "zdiffstore")
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn zintercard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let snapshot = ctx.read_context();
    let db = ctx.db().at(snapshot.as_ref());
    let parsed = parse_setop(&db, args, 1, SetOp::Card, false, "zintercard")?;
    let mut n = 0u64;
    for item in db.zinter_iter(&parsed.inputs, Aggregate::Sum) {
        item?;
        n += 1;
        if parsed.limit > 0 && n >= parsed.limit {
            break;
        }
    }
    Ok(Reply::Integer(n as i64))
}

// ---------------------------------------------------------------------------
// ZSCAN.
// ---------------------------------------------------------------------------

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
pub fn zscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let scan = subscan::parse(ctx, args)?;
    let db = ctx.db();
    let Some(meta) = db.zset_meta(&args[1])? else {
        return Ok(subscan::reply(ctx, None, Vec::new()));
    };
    let page = db.scan_subkeys(
        &args[1],
        meta.version,
        scan.after.as_deref(),
        scan.count,
        scan.pattern,
    )?;
    let mut items = Vec::with_capacity(page.items.len() * 2);
    for (member, value) in page.items {
        let score = crate::storage::subkeys::decode_score(&value).unwrap_or(0.0);
        items.push(Reply::Bulk(Bytes::from(member)));
        items.push(Reply::Bulk(Bytes::from(format_score(score))));
    }
    Ok(subscan::reply(ctx, page.next, items))
}
