//! Keyspace commands: DEL, EXISTS, TYPE, TTLs, KEYS, SCAN, RENAME, COPY,
//! DBSIZE and the flushes.

use bytes::Bytes;

use super::args::{int, is, lower, text};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::protocol::Reply;
use crate::storage::metadata::DataType;
use crate::types::keyspace::{flush_all, ExpireCondition, ScanFilter};
use crate::util::now_ms;

/// DEL key [key ...] (also UNLINK)
pub fn del(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().del(&args[1..])?))
}

/// EXISTS key [key ...]
pub fn exists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let snapshot = ctx.read_context();
    Ok(Reply::Integer(
        ctx.db().at(snapshot.as_ref()).exists(&args[1..])?,
    ))
}

/// TYPE key
pub fn type_cmd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let name = ctx
        .db()
        .type_of(&args[1])?
        .map(DataType::name)
        .unwrap_or("none");
    Ok(Reply::Status(name.into()))
}

fn parse_expire_condition(args: &[Bytes]) -> Result<ExpireCondition, CmdError> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in args {
        match lower(a).as_str() {
            "nx" => nx = true,
            "xx" => xx = true,
            "gt" => gt = true,
            "lt" => lt = true,
            _ => {
                return Err(CmdError::err(format!(
                    "Unsupported option {}",
                    String::from_utf8_lossy(a)
                )))
            }
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    Ok(ExpireCondition { nx, xx, gt, lt })
}

fn expire_generic(ctx: &mut Ctx, args: &[Bytes], unit_ms: i64, absolute: bool) -> CmdResult {
    let cmd = lower(&args[0]);
    let cond = parse_expire_condition(&args[3..])?;
    let n = int(&args[2])?;
    let ms = n
        .checked_mul(unit_ms)
        .ok_or_else(|| CmdError::InvalidExpire(cmd.clone()))?;
    let at = if absolute {
        ms
    } else {
        ms.checked_add(now_ms() as i64)
            .ok_or_else(|| CmdError::InvalidExpire(cmd.clone()))?
    };
    // A time at or before now (including negative) deletes the key.
    let at = at.max(1) as u64;
    Ok(Reply::Integer(
        ctx.db().expire_at(&args[1], at, cond)? as i64
    ))
}

/// EXPIRE key seconds [NX|XX|GT|LT]
pub fn expire(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 1000, false)
}

/// PEXPIRE key ms [NX|XX|GT|LT]
pub fn pexpire(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 1, false)
}

/// EXPIREAT key unix-seconds [NX|XX|GT|LT]
pub fn expireat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 1000, true)
}

/// PEXPIREAT key unix-ms [NX|XX|GT|LT]
pub fn pexpireat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 1, true)
}

fn ttl_generic(ctx: &mut Ctx, key: &[u8], absolute: bool, unit_ms: u64) -> CmdResult {
    Ok(Reply::Integer(match ctx.db().expire_time(key)? {
        None => -2,
        Some(0) => -1,
        Some(at) if absolute => (at / unit_ms) as i64,
        Some(at) => {
            let left = at.saturating_sub(now_ms());
            // Round to the nearest unit like Redis does for TTL.
            ((left + unit_ms / 2) / unit_ms) as i64
        }
    }))
}

/// TTL key
pub fn ttl(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], false, 1000)
}

/// PTTL key
pub fn pttl(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], false, 1)
}

/// EXPIRETIME key
pub fn expiretime(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], true, 1000)
}

/// PEXPIRETIME key
pub fn pexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], true, 1)
}

/// PERSIST key
pub fn persist(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(ctx.db().persist(&args[1])? as i64))
}

/// KEYS pattern
pub fn keys(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let filter = ScanFilter {
        pattern: if &args[1][..] == b"*" {
            None
        } else {
            Some(&args[1])
        },
        dtype: None,
    };
    Ok(Reply::bulk_array(ctx.db().keys(&filter)?))
}

fn parse_type_name(name: &[u8]) -> Option<DataType> {
    Some(match lower(name).as_str() {
        "string" => DataType::String,
        "hash" => DataType::Hash,
        "list" => DataType::List,
        "set" => DataType::Set,
        "zset" => DataType::ZSet,
        _ => return None,
    })
}

/// SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]
pub fn scan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cursor: u64 = std::str::from_utf8(&args[1])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| CmdError::err("invalid cursor"))?;
    let mut pattern: Option<&[u8]> = None;
    let mut count = 10usize;
    let mut dtype = None;
    let mut unknown_type = false;
    let mut i = 2;
    while i < args.len() {
        let value = args.get(i + 1).ok_or(CmdError::Syntax)?;
        if is(&args[i], "match") {
            pattern = if &value[..] == b"*" {
                None
            } else {
                Some(value)
            };
        } else if is(&args[i], "count") {
            let n = int(value)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = n.min(1_000_000) as usize;
        } else if is(&args[i], "type") {
            dtype = parse_type_name(value);
            unknown_type = dtype.is_none();
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let position = ctx.server.cursors.load(cursor);
    if cursor != 0 && position.is_none() {
        // A forgotten cursor restarts the scan rather than failing it.
        tracing::debug!("unknown SCAN cursor {}, restarting", cursor);
    }
    let filter = ScanFilter { pattern, dtype };
    let page = ctx.db().scan(position.as_deref(), count, &filter)?;
    let next = match page.next {
        Some(pos) => ctx.server.cursors.save(pos),
        None => 0,
    };
    let keys = if unknown_type { Vec::new() } else { page.keys };
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::bulk_array(keys),
    ]))
}

/// RANDOMKEY
pub fn randomkey(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    Ok(Reply::opt_bulk(ctx.db().random_key()?))
}

/// RENAME src dst
pub fn rename(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ctx.db().rename(&args[1], &args[2], false)?;
    Ok(Reply::ok())
}

/// RENAMENX src dst
pub fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(
        ctx.db().rename(&args[1], &args[2], true)? as i64
    ))
}

/// COPY src dst [DB n] [REPLACE]
pub fn copy(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if is(&args[i], "replace") {
            replace = true;
            i += 1;
        } else if is(&args[i], "db") && i + 1 < args.len() {
            // Namespaces, not numbered databases, isolate data here, so
            // every DB index is the same keyspace.
            let db = int(&args[i + 1])?;
            if db < 0 {
                return Err(CmdError::err("DB index is out of range"));
            }
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if args[1] == args[2] {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    Ok(Reply::Integer(
        ctx.db().copy(&args[1], &args[2], replace)? as i64
    ))
}

/// DBSIZE [SCAN]
pub fn dbsize(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        1 => Ok(Reply::Integer(ctx.db().count_keys()?.0 as i64)),
        2 if is(&args[1], "scan") => {
            // kvrocks starts a background recount; ours is synchronous and
            // DBSIZE is always exact, so this only confirms.
            ctx.db().count_keys()?;
            Ok(Reply::ok())
        }
        _ => Err(CmdError::Syntax),
    }
}

fn parse_flush_mode(args: &[Bytes]) -> Result<(), CmdError> {
    match args.len() {
        1 => Ok(()),
        2 if is(&args[1], "async") || is(&args[1], "sync") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

/// FLUSHDB [ASYNC|SYNC]: the client's namespace only.
pub fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    parse_flush_mode(args)?;
    ctx.db().flush()?;
    Ok(Reply::ok())
}

/// FLUSHALL [ASYNC|SYNC]: every namespace (administrator only).
pub fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    parse_flush_mode(args)?;
    flush_all(&ctx.server.node.storage)?;
    Ok(Reply::ok())
}

/// MOVE key db (kvrocks): there is one keyspace per namespace, which every
/// DB index names (as with SELECT), so nothing moves; like kvrocks the
/// reply is 1 when the key exists and 0 when it does not.
pub fn move_cmd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    int(&args[2])?;
    Ok(Reply::Integer(ctx.db().exists(&args[1..2])?))
}

/// MOVEX key token (kvrocks): moves the key into the namespace `token`
/// authenticates for (the administrator's token names the default
/// namespace). 1 when moved; 0 when the key is missing or the target
/// namespace already has it.
pub fn movex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let target: Vec<u8> = {
        let cfg = ctx.server.config.read();
        let requirepass = cfg.get("requirepass");
        if requirepass.is_empty() {
            return Err(CmdError::err(
                "Forbidden to move key when requirepass is empty",
            ));
        }
        if args[2][..] == *requirepass.as_bytes() {
            Vec::new()
        } else {
            match cfg
                .namespaces
                .iter()
                .find(|(_, token)| token.as_bytes() == &args[2][..])
            {
                Some((name, _)) => name.as_bytes().to_vec(),
                None => return Err(CmdError::err("Invalid password")),
            }
        }
    };
    Ok(Reply::Integer(
        ctx.db().move_to_namespace(&args[1], &target)? as i64,
    ))
}

/// OBJECT ENCODING | REFCOUNT | HELP
pub fn object(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = lower(&args[1]);
    let key = match (sub.as_str(), args.len()) {
        ("help", 2) => return Ok(Reply::bulk_array(OBJECT_HELP.iter().copied())),
        ("encoding" | "refcount", 3) => &args[2],
        ("encoding" | "refcount" | "help", _) => {
            return Err(CmdError::Arity(format!("object|{sub}")))
        }
        _ => return Err(CmdError::UnknownSubcommand(text(&args[1]), "OBJECT".into())),
    };
    let Some(meta) = ctx.db().read_meta(key)? else {
        return Ok(Reply::Nil);
    };
    if sub == "refcount" {
        return Ok(Reply::Integer(1));
    }
    Ok(Reply::bulk(object_encoding(&meta)))
}

/// The encoding name OBJECT ENCODING reports. Strings follow Redis's rules
/// (int, embstr up to 44 bytes, raw). Composite values live in subkeys,
/// so they report the encoding Redis uses for big values of their type.
fn object_encoding(meta: &crate::types::Meta) -> &'static str {
    match meta.header.dtype {
        DataType::String => {
            let v = crate::storage::metadata::string_value(&meta.raw);
            if v.len() <= 20 && crate::util::numbers::parse_i64(v).is_some() {
                "int"
            } else if v.len() <= 44 {
                "embstr"
            } else {
                "raw"
            }
        }
        DataType::Hash | DataType::Set => "hashtable",
        DataType::List => "quicklist",
        DataType::ZSet => "skiplist",
        DataType::Bitmap | DataType::Hll => "raw",
    }
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];
