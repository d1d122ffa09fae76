//! Bitmap commands (rows in [`COMMANDS`]): SETBIT, GETBIT, BITCOUNT,
//! BITPOS, BITOP, BITFIELD and BITFIELD_RO on [`crate::types::bitmap`].
//! Arguments are checked in the order Redis checks them, so the same bad
//! request gets the same error.

use bytes::Bytes;

use super::args::{int, is};
use super::error::{CmdError, CmdResult};
use super::table::{c, ONE, R, RF, W};
use super::{CommandSpec, Ctx};
use crate::protocol::Reply;
use crate::types::bitmap::{BitOp, BitRange, FieldOp, FieldType, Overflow, RangeUnit};
use crate::util::numbers::parse_i64;

const BAD_OFFSET: &str = "bit offset is not an integer or out of range";
const BAD_TYPE: &str =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// Parses a bit offset: a non-negative integer whose byte is below
/// `proto-max-bulk-len`; with `hash_bits`, a `#N` form counts fields of
/// that width.
fn bit_offset(arg: &[u8], hash_bits: Option<u32>, max_len: usize) -> Result<u64, CmdError> {
    let bad = || CmdError::err(BAD_OFFSET);
    let (digits, mul) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let n = parse_i64(digits).ok_or_else(bad)?;
    let n = n.checked_mul(mul).ok_or_else(bad)?;
    if n < 0 || (n as u64 >> 3) >= max_len as u64 {
        return Err(bad());
    }
    Ok(n as u64)
}

/// SETBIT key offset value
pub fn setbit(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let offset = bit_offset(&args[2], None, db.max_value_len)?;
    let bit = match &args[3][..] {
        b"0" => false,
        b"1" => true,
        _ => return Err(CmdError::err("bit is not an integer or out of range")),
    };
    Ok(Reply::Integer(db.setbit(&args[1], offset, bit)? as i64))
}

/// GETBIT key offset
pub fn getbit(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let offset = bit_offset(&args[2], None, db.max_value_len)?;
    Ok(Reply::Integer(db.getbit(&args[1], offset)? as i64))
}

/// Parses `start end [BYTE|BIT]` (`end` optional when `end_optional`).
fn parse_range(rest: &[Bytes], end_optional: bool) -> Result<Option<BitRange>, CmdError> {
    let Some(start) = rest.first() else {
        return Ok(None);
    };
    let start = int(start)?;
    let end = match rest.get(1) {
        Some(e) => Some(int(e)?),
        None if end_optional => None,
        None => return Err(CmdError::Syntax),
    };
    let unit = match rest.get(2) {
        None => RangeUnit::Byte,
        Some(u) if is(u, "byte") => RangeUnit::Byte,
        Some(u) if is(u, "bit") => RangeUnit::Bit,
        Some(_) => return Err(CmdError::Syntax),
    };
    if rest.len() > 3 {
        return Err(CmdError::Syntax);
    }
    Ok(Some(BitRange { start, end, unit }))
}

/// BITCOUNT key [start end [BYTE|BIT]]
pub fn bitcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    // Like Redis 7.0: a missing key is 0 whatever the other arguments.
    if !db.bit_key_exists(&args[1])? {
        return Ok(Reply::Integer(0));
    }
    if args.len() == 3 || args.len() > 5 {
        return Err(CmdError::Syntax);
    }
    let range = parse_range(&args[2..], false)?;
    Ok(Reply::Integer(db.bitcount(&args[1], range)? as i64))
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
pub fn bitpos(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let bit = match int(&args[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::err("The bit argument must be 1 or 0.")),
    };
    let db = ctx.db();
    if !db.bit_key_exists(&args[1])? {
        return Ok(Reply::Integer(if bit { -1 } else { 0 }));
    }
    if args.len() > 6 {
        return Err(CmdError::Syntax);
    }
    let range = parse_range(&args[3..], true)?;
    Ok(Reply::Integer(db.bitpos(&args[1], bit, range)?))
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
pub fn bitop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let op = match () {
        _ if is(&args[1], "and") => BitOp::And,
        _ if is(&args[1], "or") => BitOp::Or,
        _ if is(&args[1], "xor") => BitOp::Xor,
        _ if is(&args[1], "not") => BitOp::Not,
        _ => return Err(CmdError::Syntax),
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(CmdError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    Ok(Reply::Integer(
        ctx.db().bitop(op, &args[2], &args[3..])? as i64
    ))
}

/// Parses a BITFIELD type: `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> Result<FieldType, CmdError> {
    let bad = || CmdError::err(BAD_TYPE);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(bad()),
    };
    let bits = parse_i64(&arg[1..]).ok_or_else(bad)?;
    let max = if signed { 64 } else { 63 };
    if !(1..=max).contains(&bits) {
        return Err(bad());
    }
    Ok(FieldType {
        signed,
        bits: bits as u32,
    })
}

/// Parses the subcommands of BITFIELD (or BITFIELD_RO when `read_only`).
fn parse_bitfield(
    args: &[Bytes],
    read_only: bool,
    max_len: usize,
) -> Result<Vec<FieldOp>, CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        let left = args.len() - i - 1;
        if is(a, "get") && left >= 2 {
            let t = field_type(&args[i + 1])?;
            let off = bit_offset(&args[i + 2], Some(t.bits), max_len)?;
            ops.push(FieldOp::Get(t, off));
            i += 3;
        } else if (is(a, "set") || is(a, "incrby")) && left >= 3 {
            let t = field_type(&args[i + 1])?;
            let off = bit_offset(&args[i + 2], Some(t.bits), max_len)?;
            let v = int(&args[i + 3])?;
            if read_only {
                return Err(CmdError::err(
                    "BITFIELD_RO only supports the GET subcommand",
                ));
            }
            ops.push(if is(a, "set") {
                FieldOp::Set(t, off, v, overflow)
            } else {
                FieldOp::IncrBy(t, off, v, overflow)
            });
            i += 4;
        } else if is(a, "overflow") && left >= 1 {
            let m = &args[i + 1];
            overflow = match () {
                _ if is(m, "wrap") => Overflow::Wrap,
                _ if is(m, "sat") => Overflow::Sat,
                _ if is(m, "fail") => Overflow::Fail,
                _ => return Err(CmdError::err("Invalid OVERFLOW type specified")),
            };
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(ops)
}

fn run_bitfield(ctx: &mut Ctx, args: &[Bytes], read_only: bool) -> CmdResult {
    let db = ctx.db();
    let ops = parse_bitfield(args, read_only, db.max_value_len)?;
    if ops.is_empty() {
        // Like Redis: nothing to do, but the key's type is still checked.
        db.bit_key_exists(&args[1])?;
        return Ok(Reply::Array(Vec::new()));
    }
    let out = db.bitfield(&args[1], &ops)?;
    Ok(Reply::Array(
        out.into_iter()
            .map(|v| v.map_or(Reply::Nil, Reply::Integer))
            .collect(),
    ))
}

/// BITFIELD key [GET type offset | SET type offset value | INCRBY type
/// offset increment | OVERFLOW WRAP|SAT|FAIL] ...
pub fn bitfield(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    run_bitfield(ctx, args, false)
}

/// BITFIELD_RO key [GET type offset] ...
pub fn bitfield_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    run_bitfield(ctx, args, true)
}

/// The bitmap rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    c("setbit", 4, W, ONE, "bitmap", "Sets or clears the bit at offset of the string value.", setbit),
    c("getbit", 3, RF, ONE, "bitmap", "Returns a bit value by offset.", getbit),
    c("bitcount", -2, R, ONE, "bitmap", "Counts the number of set bits in a string.", bitcount),
    c("bitpos", -3, R, ONE, "bitmap", "Finds the first set or clear bit in a string.", bitpos),
    c("bitop", -4, W, (2, -1, 1), "bitmap", "Performs bitwise operations on strings and stores the result.", bitop),
    c("bitfield", -2, W, ONE, "bitmap", "Performs arbitrary bitfield integer operations on strings.", bitfield),
    c("bitfield_ro", -2, RF, ONE, "bitmap", "Performs arbitrary read-only bitfield integer operations on strings.", bitfield_ro),
];
