//! The bitmap type, stored as kvrocks does: fragments of [`FRAGMENT_LEN`]
//! bytes, one subkey per fragment (rest = fragment number as u64 BE;
//! fragment n holds bytes `[n*1024, (n+1)*1024)`, a shorter or absent
//! fragment reads as zeros), metadata size = the logical length in bytes.
//! SETBIT at bit 2^32-1 writes one fragment, not 512 MB.
//!
//! Redis users see bitmaps as strings, so every bit command also works on
//! a plain string key (in place, keeping it a string) and the string read
//! commands accept bitmaps (see [`Db::bitmap_bytes`]). A SETBIT or BITFIELD
//! write on a missing key creates a bitmap; BITOP writes a bitmap.

use std::collections::BTreeMap;

use rocksdb::WriteBatch;

use super::composite::SubkeyIter;
use super::string::string_payload;
use super::{Db, TypeError, TypeResult};
use crate::storage::metadata::{self, Composite, DataType};
use crate::storage::Cf;

/// Bytes per fragment.
pub const FRAGMENT_LEN: usize = 1024;

/// Fragments written per batch by BITOP, so memory stays bounded.
const BITOP_BATCH_FRAGMENTS: usize = 256;

/// The unit of a BITCOUNT / BITPOS range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RangeUnit {
    /// Byte offsets (the default).
    #[default]
    Byte,
    /// Bit offsets.
    Bit,
}

/// A BITCOUNT / BITPOS range as given (inclusive, negatives from the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BitRange {
    /// First index.
    pub start: i64,
    /// Last index; `None` = to the end.
    pub end: Option<i64>,
    /// Whether indexes count bytes or bits.
    pub unit: RangeUnit,
}

/// A BITOP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// Bitwise AND.
    And,
    /// Bitwise OR.
    Or,
    /// Bitwise XOR.
    Xor,
    /// Bitwise NOT (one source).
    Not,
}

/// A BITFIELD integer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    /// Signed (`i`) or unsigned (`u`).
    pub signed: bool,
    /// Width in bits: 1..=64 signed, 1..=63 unsigned.
    pub bits: u32,
}

/// What BITFIELD does when SET or INCRBY leaves the type's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wrap around (the default).
    #[default]
    Wrap,
    /// Saturate at the minimum or maximum.
    Sat,
    /// Do nothing and reply nil.
    Fail,
}

/// One BITFIELD operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    /// GET type offset.
    Get(FieldType, u64),
    /// SET type offset value, with the overflow mode in force.
    Set(FieldType, u64, i64, Overflow),
    /// INCRBY type offset increment, with the overflow mode in force.
    IncrBy(FieldType, u64, i64, Overflow),
}

/// The value bit commands read: a plain string or a bitmap's metadata.
enum BitValue {
    Str { value: Vec<u8>, expire_ms: u64 },
    Frags(Composite),
}

impl BitValue {
    fn len(&self) -> u64 {
        match self {
            BitValue::Str { value, .. } => value.len() as u64,
            BitValue::Frags(m) => m.size,
        }
    }
}

fn fragment_rest(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// Resolves a Redis range (inclusive, negatives from the end) against a
/// length; `None` when empty.
fn resolve_range(start: i64, end: i64, len: i64) -> Option<(u64, u64)> {
    let fix = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let s = fix(start);
    let e = fix(end).min(len - 1);
    (len > 0 && s <= e).then_some((s as u64, e as u64))
}

/// The bits of one byte inside the bit range `[sbit, ebit]`.
fn byte_mask(byte: u64, sbit: u64, ebit: u64) -> u8 {
    let mut mask = 0xFFu8;
    if byte == sbit / 8 {
        mask &= 0xFF >> (sbit % 8);
    }
    if byte == ebit / 8 {
        mask &= 0xFFu8 << (7 - ebit % 8);
    }
    mask
}

fn popcount(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        n += u64::from_ne_bytes(a).count_ones() as u64;
    }
    n + words
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>()
}

/// A value under edit by SETBIT / BITFIELD: random byte access, then one
/// write.
enum Editable {
    Str {
        value: Vec<u8>,
        expire_ms: u64,
        dirty: bool,
    },
    Frags {
        meta: Composite,
        /// Loaded fragments: (bytes, modified).
        cache: BTreeMap<u64, (Vec<u8>, bool)>,
        created: bool,
        meta_dirty: bool,
    },
}

/// A source of BITOP, walked fragment by fragment.
enum Cursor<'a> {
    Str { value: Vec<u8>, next: u64 },
    Frags { it: SubkeyIter<'a> },
    Empty,
}

impl Cursor<'_> {
    /// The number of the next fragment that holds data.
    fn peek(&self) -> Option<u64> {
        match self {
            Cursor::Str { value, next } => {
                (*next < (value.len() as u64).div_ceil(FRAGMENT_LEN as u64)).then_some(*next)
            }
            Cursor::Frags { it } => {
                if !it.valid() {
                    return None;
                }
                let rest: [u8; 8] = it.rest().try_into().ok()?;
                Some(u64::from_be_bytes(rest))
            }
            Cursor::Empty => None,
        }
    }

    /// The bytes of fragment `n` (empty when absent); moves past it.
    fn take(&mut self, n: u64) -> Vec<u8> {
        if self.peek() != Some(n) {
            return Vec::new();
        }
        match self {
            Cursor::Str { value, next } => {
                let s = n as usize * FRAGMENT_LEN;
                let e = (s + FRAGMENT_LEN).min(value.len());
                *next += 1;
                value.get(s..e).unwrap_or(&[]).to_vec()
            }
            Cursor::Frags { it } => {
                let v = it.value().to_vec();
                it.next();
                v
            }
            Cursor::Empty => Vec::new(),
        }
    }
}

impl<'a> Db<'a> {
    /// The value of a key for a bit command: `None` when missing,
    /// WRONGTYPE when it is neither a string nor a bitmap.
    fn bit_value(&self, key: &[u8]) -> TypeResult<Option<BitValue>> {
        let Some(m) = self.read_meta(key)? else {
            return Ok(None);
        };
        match m.header.dtype {
            DataType::String => Ok(Some(BitValue::Str {
                value: string_payload(m.raw),
                expire_ms: m.header.expire_ms,
            })),
            DataType::Bitmap => Composite::decode(&m.raw)
                .map(|c| Some(BitValue::Frags(c)))
                .ok_or(TypeError::WrongType),
            _ => Err(TypeError::WrongType),
        }
    }

    /// Calls `f(offset, bytes)` for the stored data of a bitmap inside the
    /// byte range `[from, to)` in order; bytes not visited are zeros.
    /// Stops early when `f` returns false.
    fn visit_fragments(
        &self,
        key: &[u8],
        meta: &Composite,
        from: u64,
        to: u64,
        mut f: impl FnMut(u64, &[u8]) -> bool,
    ) -> TypeResult<()> {
        let to = to.min(meta.size);
        if from >= to {
            return Ok(());
        }
        let frag = FRAGMENT_LEN as u64;
        let mut it = self.subkeys(Cf::Subkey, key, meta.version);
        it.seek(&fragment_rest(from / frag));
        while it.valid() {
            let Ok(rest) = <[u8; 8]>::try_from(it.rest()) else {
                it.next();
                continue;
            };
            let base = u64::from_be_bytes(rest).saturating_mul(frag);
            if base >= to {
                break;
            }
            let value = it.value();
            let s = from.saturating_sub(base).min(value.len() as u64);
            let e = (to - base).min(value.len() as u64);
            if s < e && !f(base + s, &value[s as usize..e as usize]) {
                return Ok(());
            }
            it.next();
        }
        it.status()
    }

    /// The bytes `[from, to)` of a bitmap (clipped to its size), zeros
    /// where nothing is stored. GET and GETRANGE read bitmaps with this.
    pub fn bitmap_bytes(
        &self,
        key: &[u8],
        meta: &Composite,
        from: u64,
        to: u64,
    ) -> TypeResult<Vec<u8>> {
        let to = to.min(meta.size);
        if from >= to {
            return Ok(Vec::new());
        }
        if to - from > self.max_value_len as u64 {
            return Err(TypeError::TooBig);
        }
        let mut out = vec![0u8; (to - from) as usize];
        self.visit_fragments(key, meta, from, to, |off, bytes| {
            let s = (off - from) as usize;
            out[s..s + bytes.len()].copy_from_slice(bytes);
            true
        })?;
        Ok(out)
    }

    /// Opens a key for SETBIT / BITFIELD writes (a missing key becomes a
    /// new bitmap).
    fn editable(&self, key: &[u8]) -> TypeResult<Editable> {
        Ok(match self.bit_value(key)? {
            Some(BitValue::Str { value, expire_ms }) => Editable::Str {
                value,
                expire_ms,
                dirty: false,
            },
            Some(BitValue::Frags(meta)) => Editable::Frags {
                meta,
                cache: BTreeMap::new(),
                created: false,
                meta_dirty: false,
            },
            None => Editable::Frags {
                meta: Composite::new(DataType::Bitmap, self.storage.next_version()),
                cache: BTreeMap::new(),
                created: true,
                meta_dirty: false,
            },
        })
    }

    fn load_fragment<'c>(
        &self,
        key: &[u8],
        meta: &Composite,
        created: bool,
        cache: &'c mut BTreeMap<u64, (Vec<u8>, bool)>,
        n: u64,
    ) -> TypeResult<&'c mut (Vec<u8>, bool)> {
        Ok(match cache.entry(n) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(slot) => {
                let v = if created {
                    None
                } else {
                    self.get_subkey(Cf::Subkey, key, meta.version, &fragment_rest(n))?
                };
                slot.insert((v.unwrap_or_default(), false))
            }
        })
    }

    fn edit_get_byte(&self, key: &[u8], ed: &mut Editable, i: u64) -> TypeResult<u8> {
        match ed {
            Editable::Str { value, .. } => Ok(value.get(i as usize).copied().unwrap_or(0)),
            Editable::Frags {
                meta,
                cache,
                created,
                ..
            } => {
                if i >= meta.size {
                    return Ok(0);
                }
                let n = i / FRAGMENT_LEN as u64;
                let (frag, _) = self.load_fragment(key, meta, *created, cache, n)?;
                Ok(frag.get(i as usize % FRAGMENT_LEN).copied().unwrap_or(0))
            }
        }
    }

    /// Makes the value at least `len` bytes long (zero padded).
    fn edit_grow(&self, ed: &mut Editable, len: u64) -> TypeResult<()> {
        match ed {
            Editable::Str { value, dirty, .. } => {
                if (value.len() as u64) < len {
                    if len > self.max_value_len as u64 {
                        return Err(TypeError::TooBig);
                    }
                    value.resize(len as usize, 0);
                    *dirty = true;
                }
            }
            Editable::Frags {
                meta, meta_dirty, ..
            } => {
                if meta.size < len {
                    meta.size = len;
                    *meta_dirty = true;
                }
            }
        }
        Ok(())
    }

    fn edit_set_byte(&self, key: &[u8], ed: &mut Editable, i: u64, b: u8) -> TypeResult<()> {
        self.edit_grow(ed, i + 1)?;
        match ed {
            Editable::Str { value, dirty, .. } => {
                if let Some(slot) = value.get_mut(i as usize) {
                    if *slot != b {
                        *slot = b;
                        *dirty = true;
                    }
                }
            }
            Editable::Frags {
                meta,
                cache,
                created,
                ..
            } => {
                let n = i / FRAGMENT_LEN as u64;
                let at = i as usize % FRAGMENT_LEN;
                let (frag, dirty) = self.load_fragment(key, meta, *created, cache, n)?;
                if frag.get(at).copied().unwrap_or(0) != b {
                    if frag.len() <= at {
                        frag.resize(at + 1, 0);
                    }
                    frag[at] = b;
                    *dirty = true;
                }
            }
        }
        Ok(())
    }

    /// Writes what an edit changed, in one batch.
    fn edit_commit(&self, key: &[u8], ed: Editable) -> TypeResult<()> {
        match ed {
            Editable::Str {
                value,
                expire_ms,
                dirty,
            } => {
                if dirty {
                    self.storage.put(
                        Cf::Metadata,
                        &self.meta_key(key),
                        &metadata::encode_string(expire_ms, &value),
                    )?;
                }
            }
            Editable::Frags {
                meta,
                cache,
                meta_dirty,
                ..
            } => {
                let mut batch = WriteBatch::default();
                let cf = self.storage.cf(Cf::Subkey);
                for (n, (bytes, dirty)) in cache {
                    if dirty {
                        batch.put_cf(cf, self.subkey(key, meta.version, &fragment_rest(n)), bytes);
                    }
                }
                if meta_dirty {
                    self.stage_composite(&mut batch, key, &meta);
                }
                if !batch.is_empty() {
                    self.storage.write(batch)?;
                }
            }
        }
        Ok(())
    }

    /// SETBIT: sets bit `offset` to `bit`; returns the old bit.
    pub fn setbit(&self, key: &[u8], offset: u64, bit: bool) -> TypeResult<u8> {
        let _guard = self.storage.locks().lock(&[key]);
        let mut ed = self.editable(key)?;
        let byte = offset / 8;
        let mask = 0x80u8 >> (offset % 8);
        let old = self.edit_get_byte(key, &mut ed, byte)?;
        let new = if bit { old | mask } else { old & !mask };
        self.edit_set_byte(key, &mut ed, byte, new)?;
        self.edit_commit(key, ed)?;
        Ok((old & mask != 0) as u8)
    }

    /// GETBIT.
    pub fn getbit(&self, key: &[u8], offset: u64) -> TypeResult<u8> {
        let byte = offset / 8;
        let mask = 0x80u8 >> (offset % 8);
        let b = match self.bit_value(key)? {
            None => 0,
            Some(BitValue::Str { value, .. }) => value.get(byte as usize).copied().unwrap_or(0),
            Some(BitValue::Frags(meta)) => {
                if byte >= meta.size {
                    0
                } else {
                    let frag = self.get_subkey(
                        Cf::Subkey,
                        key,
                        meta.version,
                        &fragment_rest(byte / FRAGMENT_LEN as u64),
                    )?;
                    frag.and_then(|f| f.get(byte as usize % FRAGMENT_LEN).copied())
                        .unwrap_or(0)
                }
            }
        };
        Ok((b & mask != 0) as u8)
    }

    /// Resolves a BITCOUNT/BITPOS range to inclusive bits `[s, e]` of a
    /// value of `len` bytes; `None` when empty.
    /// BITCOUNT (`count_rule`) also treats a range of two negative
    /// indexes with start after end as empty before clamping, as Redis 7.0
    /// does (BITPOS does not).
    fn bit_span(range: Option<BitRange>, len: u64, count_rule: bool) -> Option<(u64, u64)> {
        let len = len as i64;
        match range {
            None => (len > 0).then(|| (0, len as u64 * 8 - 1)),
            Some(r) => {
                if count_rule && r.start < 0 && r.end.is_some_and(|e| e < 0 && r.start > e) {
                    return None;
                }
                let total = match r.unit {
                    RangeUnit::Byte => len,
                    RangeUnit::Bit => len.saturating_mul(8),
                };
                let end = r.end.unwrap_or(-1);
                let (s, e) = resolve_range(r.start, end, total)?;
                Some(match r.unit {
                    RangeUnit::Byte => (s * 8, e * 8 + 7),
                    RangeUnit::Bit => (s, e),
                })
            }
        }
    }

    /// Calls `f(offset, bytes)` over the stored bytes of a value inside the
    /// byte range `[from, to)`; stops when `f` returns false.
    fn visit_value(
        &self,
        key: &[u8],
        v: &BitValue,
        from: u64,
        to: u64,
        mut f: impl FnMut(u64, &[u8]) -> bool,
    ) -> TypeResult<()> {
        match v {
            BitValue::Str { value, .. } => {
                let to = to.min(value.len() as u64);
                if from < to {
                    f(from, &value[from as usize..to as usize]);
                }
                Ok(())
            }
            BitValue::Frags(meta) => self.visit_fragments(key, meta, from, to, f),
        }
    }

    /// BITCOUNT with an optional range.
    pub fn bitcount(&self, key: &[u8], range: Option<BitRange>) -> TypeResult<u64> {
        let Some(v) = self.bit_value(key)? else {
            return Ok(0);
        };
        let Some((sbit, ebit)) = Self::bit_span(range, v.len(), true) else {
            return Ok(0);
        };
        let (sbyte, ebyte) = (sbit / 8, ebit / 8);
        let mut n = 0u64;
        self.visit_value(key, &v, sbyte, ebyte + 1, |off, bytes| {
            let end = off + bytes.len() as u64;
            // The partial first and last bytes, then the rest at speed.
            let mut inner = bytes;
            let mut inner_off = off;
            if off == sbyte && sbit % 8 != 0 {
                n += (bytes[0] & byte_mask(off, sbit, ebit)).count_ones() as u64;
                inner = &inner[1..];
                inner_off += 1;
            }
            if end == ebyte + 1 && ebit % 8 != 7 && inner_off < end {
                let last = inner[inner.len() - 1];
                n += (last & byte_mask(ebyte, sbit, ebit)).count_ones() as u64;
                inner = &inner[..inner.len() - 1];
            }
            n += popcount(inner);
            true
        })?;
        Ok(n)
    }

    /// BITPOS: the first bit equal to `bit` in the range, or -1. Looking
    /// for a 0 without an explicit end, the bit just past the value counts
    /// (as Redis: the string is taken as padded with zeros).
    pub fn bitpos(&self, key: &[u8], bit: bool, range: Option<BitRange>) -> TypeResult<i64> {
        let Some(v) = self.bit_value(key)? else {
            return Ok(if bit { -1 } else { 0 });
        };
        let end_given = range.is_some_and(|r| r.end.is_some());
        let Some((sbit, ebit)) = Self::bit_span(range, v.len(), false) else {
            return Ok(-1);
        };
        let (sbyte, ebyte) = (sbit / 8, ebit / 8);
        let mut found: Option<u64> = None;
        // For a 0: the first byte not covered by stored data is zero.
        let mut expected = sbyte;
        let check = |i: u64, b: u8| -> Option<u64> {
            let mask = byte_mask(i, sbit, ebit);
            let hit = if bit { b & mask } else { !b & mask };
            (hit != 0).then(|| i * 8 + hit.leading_zeros() as u64)
        };
        self.visit_value(key, &v, sbyte, ebyte + 1, |off, bytes| {
            if !bit && off > expected {
                found = check(expected, 0);
                return false;
            }
            let skip = if bit { 0u8 } else { 0xFF };
            let mut i = 0usize;
            while i < bytes.len() {
                let at = off + i as u64;
                let b = bytes[i];
                // Fast path over whole bytes that cannot hold a hit.
                if b == skip && at != sbyte && at != ebyte {
                    i += 1;
                    continue;
                }
                if let Some(pos) = check(at, b) {
                    found = Some(pos);
                    return false;
                }
                i += 1;
            }
            expected = off + bytes.len() as u64;
            true
        })?;
        if found.is_none() && !bit && expected <= ebyte {
            found = check(expected, 0);
        }
        Ok(match found {
            Some(p) => p as i64,
            None if !bit && !end_given => ebit as i64 + 1,
            None => -1,
        })
    }

    /// BITFIELD / BITFIELD_RO: runs the operations in order; a missing
    /// key reads as zeros and is created only by a write. Returns one
    /// entry per operation (`None` for an overflow under FAIL).
    pub fn bitfield(&self, key: &[u8], ops: &[FieldOp]) -> TypeResult<Vec<Option<i64>>> {
        let writes = ops.iter().any(|o| !matches!(o, FieldOp::Get(..)));
        let _guard = writes.then(|| self.storage.locks().lock(&[key]));
        let mut ed = if writes {
            self.editable(key)?
        } else {
            match self.bit_value(key)? {
                None => return Ok(ops.iter().map(|_| Some(0)).collect()),
                Some(_) => self.editable(key)?,
            }
        };
        // Like Redis, writes first grow the value to their highest byte.
        let highest = ops
            .iter()
            .filter_map(|o| match o {
                FieldOp::Set(t, off, ..) | FieldOp::IncrBy(t, off, ..) => {
                    Some((off + t.bits as u64 - 1) / 8 + 1)
                }
                FieldOp::Get(..) => None,
            })
            .max();
        if let Some(len) = highest {
            self.edit_grow(&mut ed, len)?;
        }
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            match *op {
                FieldOp::Get(t, off) => {
                    let raw = self.read_field(key, &mut ed, off, t.bits)?;
                    out.push(Some(to_signed(raw, t)));
                }
                FieldOp::Set(t, off, value, ovf) => {
                    let old = to_signed(self.read_field(key, &mut ed, off, t.bits)?, t);
                    match fit(value as i128, t, ovf) {
                        Some(new) => {
                            self.write_field(key, &mut ed, off, t.bits, new as u64)?;
                            out.push(Some(old));
                        }
                        None => out.push(None),
                    }
                }
                FieldOp::IncrBy(t, off, delta, ovf) => {
                    let old = to_signed(self.read_field(key, &mut ed, off, t.bits)?, t);
                    match fit(old as i128 + delta as i128, t, ovf) {
                        Some(new) => {
                            self.write_field(key, &mut ed, off, t.bits, new as u64)?;
                            out.push(Some(new));
                        }
                        None => out.push(None),
                    }
                }
            }
        }
        if writes {
            self.edit_commit(key, ed)?;
        }
        Ok(out)
    }

    /// Reads `bits` bits at bit `off` as an unsigned number.
    fn read_field(&self, key: &[u8], ed: &mut Editable, off: u64, bits: u32) -> TypeResult<u64> {
        let mut v = 0u64;
        let mut byte_no = u64::MAX;
        let mut byte = 0u8;
        for i in 0..bits as u64 {
            let pos = off + i;
            if pos / 8 != byte_no {
                byte_no = pos / 8;
                byte = self.edit_get_byte(key, ed, byte_no)?;
            }
            let b = (byte >> (7 - pos % 8)) & 1;
            v = (v << 1) | b as u64;
        }
        Ok(v)
    }

    /// Writes the low `bits` bits of `value` at bit `off`.
    fn write_field(
        &self,
        key: &[u8],
        ed: &mut Editable,
        off: u64,
        bits: u32,
        value: u64,
    ) -> TypeResult<()> {
        let first = off / 8;
        let last = (off + bits as u64 - 1) / 8;
        for byte_no in first..=last {
            let mut b = self.edit_get_byte(key, ed, byte_no)?;
            for j in 0..8u64 {
                let pos = byte_no * 8 + j;
                if pos < off || pos >= off + bits as u64 {
                    continue;
                }
                let k = pos - off; // 0 = most significant bit of the field
                let bit = (value >> (bits as u64 - 1 - k)) & 1;
                let mask = 0x80u8 >> j;
                b = if bit == 1 { b | mask } else { b & !mask };
            }
            self.edit_set_byte(key, ed, byte_no, b)?;
        }
        Ok(())
    }

    /// BITOP: writes `op` of `sources` into `dest` (a bitmap, fragment by
    /// fragment in bounded batches under a fresh version); returns the
    /// result's length in bytes. An empty result deletes `dest`.
    pub fn bitop(&self, op: BitOp, dest: &[u8], sources: &[impl AsRef<[u8]>]) -> TypeResult<u64> {
        let mut all: Vec<&[u8]> = vec![dest];
        all.extend(sources.iter().map(|s| s.as_ref()));
        let _guard = self.storage.locks().lock(&all);
        let mut cursors = Vec::with_capacity(sources.len());
        let mut len = 0u64;
        for s in sources {
            let s = s.as_ref();
            let cursor = match self.bit_value(s)? {
                None => Cursor::Empty,
                Some(BitValue::Str { value, .. }) => {
                    len = len.max(value.len() as u64);
                    Cursor::Str { value, next: 0 }
                }
                Some(BitValue::Frags(meta)) => {
                    len = len.max(meta.size);
                    let mut it = self.subkeys(Cf::Subkey, s, meta.version);
                    it.seek_to_first();
                    Cursor::Frags { it }
                }
            };
            cursors.push(cursor);
        }
        if len == 0 {
            self.storage.delete(Cf::Metadata, &self.meta_key(dest))?;
            return Ok(0);
        }
        let mut meta = Composite::new(DataType::Bitmap, self.storage.next_version());
        meta.size = len;
        let frag = FRAGMENT_LEN as u64;
        let frags = len.div_ceil(frag);
        let cf = self.storage.cf(Cf::Subkey);
        let mut batch = WriteBatch::default();
        let mut next = 0u64;
        loop {
            let n = if op == BitOp::Not {
                next
            } else {
                match cursors.iter().filter_map(|c| c.peek()).min() {
                    Some(n) => n,
                    None => break,
                }
            };
            if n >= frags {
                break;
            }
            next = n + 1;
            let flen = (len - n * frag).min(frag) as usize;
            let mut parts = cursors.iter_mut().map(|c| c.take(n));
            let mut out = parts.next().unwrap_or_default();
            out.resize(flen, 0);
            match op {
                BitOp::Not => out.iter_mut().for_each(|b| *b = !*b),
                BitOp::And => {
                    for p in parts {
                        for (i, o) in out.iter_mut().enumerate() {
                            *o &= p.get(i).copied().unwrap_or(0);
                        }
                    }
                }
                BitOp::Or | BitOp::Xor => {
                    for p in parts {
                        for (o, b) in out.iter_mut().zip(p.iter()) {
                            if op == BitOp::Or {
                                *o |= *b;
                            } else {
                                *o ^= *b;
                            }
                        }
                    }
                }
            }
            if out.iter().any(|&b| b != 0) {
                batch.put_cf(cf, self.subkey(dest, meta.version, &fragment_rest(n)), out);
                if batch.len() >= BITOP_BATCH_FRAGMENTS {
                    self.storage.write(std::mem::take(&mut batch))?;
                }
            }
        }
        for c in &cursors {
            if let Cursor::Frags { it } = c {
                it.status()?;
            }
        }
        self.stage_composite(&mut batch, dest, &meta);
        self.storage.write(batch)?;
        Ok(len)
    }

    /// Whether `key` exists for a bit command: false when missing;
    /// WRONGTYPE when it is neither a string nor a bitmap (Redis checks
    /// this before parsing the range arguments).
    pub fn bit_key_exists(&self, key: &[u8]) -> TypeResult<bool> {
        match self.read_meta(key)? {
            None => Ok(false),
            Some(m) if matches!(m.header.dtype, DataType::String | DataType::Bitmap) => Ok(true),
            Some(_) => Err(TypeError::WrongType),
        }
    }
}

/// A field's raw bits as the type's value.
fn to_signed(raw: u64, t: FieldType) -> i64 {
    if t.signed && t.bits < 64 && raw & (1u64 << (t.bits - 1)) != 0 {
        (raw | (u64::MAX << t.bits)) as i64
    } else {
        raw as i64
    }
}

/// `v` brought into the type's range by the overflow mode; `None` under
/// FAIL when out of range. The result's low bits are what gets stored.
fn fit(v: i128, t: FieldType, ovf: Overflow) -> Option<i64> {
    let (min, max): (i128, i128) = if t.signed {
        (-(1i128 << (t.bits - 1)), (1i128 << (t.bits - 1)) - 1)
    } else {
        (0, (1i128 << t.bits) - 1)
    };
    if (min..=max).contains(&v) {
        return Some(v as i64);
    }
    match ovf {
        Overflow::Fail => None,
        Overflow::Sat => Some(if v < min { min } else { max } as i64),
        Overflow::Wrap => {
            let m = 1i128 << t.bits;
            let mut w = v.rem_euclid(m);
            if t.signed && w > max {
                w -= m;
            }
            Some(w as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_modes() {
        let u8t = FieldType {
            signed: false,
            bits: 8,
        };
        let i8t = FieldType {
            signed: true,
            bits: 8,
        };
        assert_eq!(fit(256, u8t, Overflow::Wrap), Some(0));
        assert_eq!(fit(-1, u8t, Overflow::Wrap), Some(255));
        assert_eq!(fit(300, u8t, Overflow::Sat), Some(255));
        assert_eq!(fit(128, i8t, Overflow::Wrap), Some(-128));
        assert_eq!(fit(-200, i8t, Overflow::Sat), Some(-128));
        assert_eq!(fit(128, i8t, Overflow::Fail), None);
        assert_eq!(to_signed(0xFF, i8t), -1);
        assert_eq!(to_signed(0xFF, u8t), 255);
    }

    #[test]
    fn ranges() {
        assert_eq!(resolve_range(0, -1, 10), Some((0, 9)));
        assert_eq!(resolve_range(-3, -1, 10), Some((7, 9)));
        assert_eq!(resolve_range(5, 2, 10), None);
        assert_eq!(resolve_range(0, 100, 0), None);
    }
}
