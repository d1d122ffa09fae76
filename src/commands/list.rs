//! List commands (rows in [`COMMANDS`]): each parses its arguments in the
//! order Redis checks them, then calls [`crate::types::list`].

use bytes::Bytes;

use super::args::{int, is};
use super::error::{CmdError, CmdResult};
use super::flags::{FAST, WRITE};
use super::table::{c, n, NONE, ONE, R, RF, TWO, W, WF};
use super::{CommandSpec, Ctx};
use crate::protocol::Reply;
use crate::types::list::{End, ListError, PosOptions, Position};
use crate::util::numbers::parse_i64;

/// The list rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    c("lpush", -3, WF, ONE, "list", "Prepends one or more elements to a list.", lpush),
    c("rpush", -3, WF, ONE, "list", "Appends one or more elements to a list.", rpush),
    c("lpushx", -3, WF, ONE, "list", "Prepends elements to a list only when it exists.", lpushx),
    c("rpushx", -3, WF, ONE, "list", "Appends elements to a list only when it exists.", rpushx),
    c("lpop", -2, WRITE | FAST, ONE, "list", "Removes and returns the first elements of a list.", lpop),
    c("rpop", -2, WRITE | FAST, ONE, "list", "Removes and returns the last elements of a list.", rpop),
    c("llen", 2, RF, ONE, "list", "Returns the length of a list.", llen),
    c("lindex", 3, R, ONE, "list", "Returns an element of a list by its index.", lindex),
    c("lrange", 4, R, ONE, "list", "Returns a range of elements of a list.", lrange),
    c("lset", 4, W, ONE, "list", "Sets the element at an index of a list.", lset),
    c("linsert", 5, W, ONE, "list", "Inserts an element before or after another one.", linsert),
    c("lrem", 4, WRITE, ONE, "list", "Removes elements equal to a value from a list.", lrem),
    c("ltrim", 4, WRITE, ONE, "list", "Keeps only a range of elements of a list.", ltrim),
    c("lpos", -3, R, ONE, "list", "Returns the positions of matching elements in a list.", lpos),
    c("lmove", 5, W, TWO, "list", "Pops an element from a list and pushes it to another.", lmove),
    c("rpoplpush", 3, W, TWO, "list", "Pops the last element of a list and prepends it to another.", rpoplpush),
    n(c("lmpop", -4, WRITE, NONE, "list", "Pops elements from the first non-empty list.", lmpop), 1),
];

impl From<ListError> for CmdError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::Type(t) => CmdError::Type(t),
            other => CmdError::Other(other.to_string()),
        }
    }
}

/// Redis's message for a bad LPOP/RPOP count.
const OUT_OF_RANGE: &str = "ERR value is out of range, must be positive";

fn bulk_array(items: Vec<Vec<u8>>) -> Reply {
    Reply::Array(items.into_iter().map(|v| Reply::Bulk(v.into())).collect())
}

/// LEFT or RIGHT (any case).
fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if is(arg, "left") {
        Ok(End::Left)
    } else if is(arg, "right") {
        Ok(End::Right)
    } else {
        Err(CmdError::Syntax)
    }
}

fn push(ctx: &mut Ctx, args: &[Bytes], end: End, only_if_exists: bool) -> CmdResult {
    let len = ctx
        .db()
        .list_push(&args[1], end, &args[2..], only_if_exists)?;
    Ok(Reply::Integer(len as i64))
}

/// LPUSH key element [element ...]
pub fn lpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push(ctx, args, End::Left, false)
}

/// RPUSH key element [element ...]
pub fn rpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push(ctx, args, End::Right, false)
}

/// LPUSHX key element [element ...]
pub fn lpushx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push(ctx, args, End::Left, true)
}

/// RPUSHX key element [element ...]
pub fn rpushx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push(ctx, args, End::Right, true)
}

fn pop(ctx: &mut Ctx, args: &[Bytes], end: End, name: &str) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Arity(name.into()));
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => Some(
            parse_i64(a)
                .filter(|&n| n >= 0)
                .ok_or_else(|| CmdError::Other(OUT_OF_RANGE.into()))? as u64,
        ),
    };
    let popped = ctx.db().list_pop(&args[1], end, count.unwrap_or(1))?;
    Ok(match (count, popped) {
        (None, Some(mut items)) => Reply::opt_bulk(items.pop()),
        (None, None) => Reply::Nil,
        (Some(_), Some(items)) => bulk_array(items),
        (Some(_), None) => Reply::NilArray,
    })
}

/// LPOP key [count]
pub fn lpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    pop(ctx, args, End::Left, "lpop")
}

/// RPOP key [count]
pub fn rpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    pop(ctx, args, End::Right, "rpop")
}

/// LLEN key
pub fn llen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let len = ctx.db().list_len(&args[1])?;
    ctx.count_hit(len > 0);
    Ok(Reply::Integer(len as i64))
}

/// LINDEX key index (a missing key is nil even with a bad index).
pub fn lindex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let index = match int(&args[2]) {
        Ok(i) => i,
        Err(e) => {
            return if db.list_len(&args[1])? == 0 {
                ctx.count_hit(false);
                Ok(Reply::Nil)
            } else {
                Err(e)
            };
        }
    };
    let v = db.list_index(&args[1], index)?;
    ctx.count_hit(v.is_some());
    Ok(Reply::opt_bulk(v))
}

/// LRANGE key start stop
pub fn lrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let start = int(&args[2])?;
    let stop = int(&args[3])?;
    let items = ctx.db().list_range(&args[1], start, stop)?;
    ctx.count_hit(items.is_some());
    Ok(bulk_array(items.unwrap_or_default()))
}

/// LSET key index element (the key is looked up before the index is
/// parsed, as Redis does).
pub fn lset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let index = match int(&args[2]) {
        Ok(i) => i,
        Err(e) => {
            return if db.list_len(&args[1])? == 0 {
                Err(ListError::NoSuchKey.into())
            } else {
                Err(e)
            };
        }
    };
    db.list_set(&args[1], index, &args[3])?;
    Ok(Reply::ok())
}

/// LINSERT key BEFORE|AFTER pivot element
pub fn linsert(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let position = if is(&args[2], "before") {
        Position::Before
    } else if is(&args[2], "after") {
        Position::After
    } else {
        return Err(CmdError::Syntax);
    };
    let n = ctx
        .db()
        .list_insert(&args[1], position, &args[3], &args[4])?;
    Ok(Reply::Integer(n))
}

/// LREM key count element
pub fn lrem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let count = int(&args[2])?;
    let n = ctx.db().list_rem(&args[1], count, &args[3])?;
    Ok(Reply::Integer(n as i64))
}

/// LTRIM key start stop
pub fn ltrim(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let start = int(&args[2])?;
    let stop = int(&args[3])?;
    ctx.db().list_trim(&args[1], start, stop)?;
    Ok(Reply::ok())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
pub fn lpos(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut opts = PosOptions {
        rank: 1,
        count: 0,
        maxlen: 0,
    };
    let mut with_count = false;
    let mut i = 3;
    while i < args.len() {
        let Some(value) = args.get(i + 1) else {
            return Err(CmdError::Syntax);
        };
        if is(&args[i], "rank") {
            opts.rank = int(value)?;
            if opts.rank == 0 {
                return Err(CmdError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
        } else if is(&args[i], "count") {
            opts.count = parse_i64(value)
                .filter(|&n| n >= 0)
                .ok_or_else(|| CmdError::err("COUNT can't be negative"))?
                as u64;
            with_count = true;
        } else if is(&args[i], "maxlen") {
            opts.maxlen = parse_i64(value)
                .filter(|&n| n >= 0)
                .ok_or_else(|| CmdError::err("MAXLEN can't be negative"))?
                as u64;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    if !with_count {
        opts.count = 1;
    }
    let found = ctx.db().list_pos(&args[1], &args[2], opts)?;
    Ok(if with_count {
        Reply::Array(
            found
                .into_iter()
                .map(|p| Reply::Integer(p as i64))
                .collect(),
        )
    } else {
        found
            .first()
            .map_or(Reply::Nil, |&p| Reply::Integer(p as i64))
    })
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
pub fn lmove(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    let v = ctx.db().list_move(&args[1], &args[2], from, to)?;
    Ok(Reply::opt_bulk(v))
}

/// RPOPLPUSH source destination
pub fn rpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let v = ctx
        .db()
        .list_move(&args[1], &args[2], End::Right, End::Left)?;
    Ok(Reply::opt_bulk(v))
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn lmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let numkeys = parse_i64(&args[1])
        .filter(|&n| n > 0)
        .ok_or_else(|| CmdError::err("numkeys should be greater than 0"))?;
    // Keys, then the direction, must fit in what is left.
    let numkeys = usize::try_from(numkeys)
        .ok()
        .filter(|&n| n <= args.len() - 3)
        .ok_or(CmdError::Syntax)?;
    let keys = &args[2..2 + numkeys];
    let end = parse_end(&args[2 + numkeys])?;
    let mut count = None;
    let mut i = 3 + numkeys;
    while i < args.len() {
        match args.get(i + 1) {
            Some(value) if is(&args[i], "count") && count.is_none() => {
                let n = parse_i64(value)
                    .filter(|&n| n > 0)
                    .ok_or_else(|| CmdError::err("count should be greater than 0"))?;
                count = Some(n as u64);
                i += 2;
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    match ctx.db().list_mpop(keys, end, count.unwrap_or(1))? {
        None => Ok(Reply::NilArray),
        Some((k, items)) => Ok(Reply::Array(vec![
            Reply::Bulk(keys[k].clone()),
            bulk_array(items),
        ])),
    }
}
