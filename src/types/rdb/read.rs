//! Parsing an RDB object into a stream of [`Item`]s. Lengths read from
//! the payload are checked against the bytes left before anything is
//! allocated, so a damaged or hostile payload ends in [`Bad`].

use std::borrow::Cow;

use super::packed::{self, Elem, Packed};
use super::{lzf, types, Bad};

/// What kind of key an object makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    String,
    /// A list.
    List,
    /// A set.
    Set,
    /// A sorted set.
    ZSet,
    /// A hash.
    Hash,
}

/// The kind an RDB type byte stands for; `None` for anything this server
/// does not load (streams, modules, unknown types).
pub fn kind_of(rdb_type: u8) -> Option<Kind> {
    use types::*;
    Some(match rdb_type {
        STRING => Kind::String,
        LIST | LIST_ZIPLIST | LIST_QUICKLIST | LIST_QUICKLIST_2 => Kind::List,
        SET | SET_INTSET | SET_LISTPACK => Kind::Set,
        ZSET | ZSET_2 | ZSET_ZIPLIST | ZSET_LISTPACK => Kind::ZSet,
        HASH | HASH_ZIPMAP | HASH_ZIPLIST | HASH_LISTPACK => Kind::Hash,
        _ => return None,
    })
}

/// One entry of a loaded object, in payload order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    /// A string's value, a list element or a set member.
    Value(Cow<'a, [u8]>),
    /// A hash field and its value.
    Field(Cow<'a, [u8]>, Cow<'a, [u8]>),
    /// A sorted-set member and its score.
    Scored(Cow<'a, [u8]>, f64),
}

/// A reading position in a payload.
pub struct Input<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A length field: a plain count, or the tag of a special string encoding.
enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Input<'a> {
    /// Reads from the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Input { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// One byte.
    pub fn byte(&mut self) -> Result<u8, Bad> {
        let b = *self.buf.get(self.pos).ok_or(Bad)?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        if n > self.remaining() {
            return Err(Bad);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn raw_len(&mut self) -> Result<Len, Bad> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain((b & 0x3f) as u64),
            1 => Len::Plain((((b & 0x3f) as u64) << 8) | self.byte()? as u64),
            2 => match b {
                0x80 => Len::Plain(
                    u32::from_be_bytes(self.take(4)?.try_into().map_err(|_| Bad)?) as u64,
                ),
                0x81 => Len::Plain(u64::from_be_bytes(
                    self.take(8)?.try_into().map_err(|_| Bad)?,
                )),
                _ => return Err(Bad),
            },
            _ => Len::Encoded(b & 0x3f),
        })
    }

    /// A count of things that each take at least one more byte of the
    /// payload: refused when larger than what is left.
    pub fn count(&mut self) -> Result<usize, Bad> {
        match self.raw_len()? {
            Len::Plain(n) if n <= self.remaining() as u64 => Ok(n as usize),
            _ => Err(Bad),
        }
    }

    /// A string: raw, integer-encoded or LZF-compressed.
    pub fn string(&mut self) -> Result<Cow<'a, [u8]>, Bad> {
        match self.raw_len()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| Bad)?;
                Ok(Cow::Borrowed(self.take(n)?))
            }
            Len::Encoded(0) => Ok(int_bytes(self.byte()? as i8 as i64)),
            Len::Encoded(1) => {
                let b = self.take(2)?;
                Ok(int_bytes(i16::from_le_bytes([b[0], b[1]]) as i64))
            }
            Len::Encoded(2) => {
                let b = self.take(4)?;
                Ok(int_bytes(
                    i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64
                ))
            }
            Len::Encoded(3) => {
                let clen = self.count()?;
                let ulen = match self.raw_len()? {
                    Len::Plain(n) => usize::try_from(n).map_err(|_| Bad)?,
                    Len::Encoded(_) => return Err(Bad),
                };
                let packed = self.take(clen)?;
                lzf::decompress(packed, ulen).map(Cow::Owned).ok_or(Bad)
            }
            Len::Encoded(_) => Err(Bad),
        }
    }

    /// A binary double (8 bytes LE).
    pub fn binary_double(&mut self) -> Result<f64, Bad> {
        let b = self.take(8)?;
        Ok(f64::from_le_bytes(b.try_into().map_err(|_| Bad)?))
    }

    /// A double as text (old sorted sets): a length byte (253 NaN, 254
    /// +inf, 255 -inf) and that many characters.
    pub fn text_double(&mut self) -> Result<f64, Bad> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => parse_double(self.take(n as usize)?),
        }
    }
}

fn int_bytes(v: i64) -> Cow<'static, [u8]> {
    Cow::Owned(v.to_string().into_bytes())
}

/// Parses a score written as text; NaN and junk are refused.
fn parse_double(s: &[u8]) -> Result<f64, Bad> {
    let v: f64 = std::str::from_utf8(s)
        .map_err(|_| Bad)?
        .trim()
        .parse()
        .map_err(|_| Bad)?;
    if v.is_nan() {
        return Err(Bad);
    }
    Ok(v)
}

fn elem_cow(e: Elem<'_>) -> Cow<'_, [u8]> {
    match e {
        Elem::Str(s) => Cow::Borrowed(s),
        Elem::Int(_) => Cow::Owned(e.to_bytes()),
    }
}

fn elem_score(e: Elem<'_>) -> Result<f64, Bad> {
    match e {
        Elem::Int(i) => Ok(i as f64),
        Elem::Str(s) => parse_double(s),
    }
}

/// Elements of a listpack or ziplist, whichever `listpack` says.
fn packed_elems(blob: &[u8], listpack: bool) -> Result<Packed<'_>, Bad> {
    let (elems, _count) = if listpack {
        Packed::listpack(blob)?
    } else {
        Packed::ziplist(blob)?
    };
    Ok(elems)
}

/// Feeds the elements of a packed blob to `sink` one by one (lists and
/// sets) or in pairs (hashes: field, value; sorted sets: member, score).
fn feed_packed<E: From<Bad>>(
    blob: &[u8],
    listpack: bool,
    kind: Kind,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
) -> Result<u64, E> {
    let mut it = packed_elems(blob, listpack)?;
    let mut n = 0;
    while let Some(first) = it.next() {
        let first = first?;
        match kind {
            Kind::Hash | Kind::ZSet => {
                let second = it.next().ok_or(Bad)??;
                if kind == Kind::Hash {
                    sink(Item::Field(elem_cow(first), elem_cow(second)))?;
                } else {
                    sink(Item::Scored(elem_cow(first), elem_score(second)?))?;
                }
            }
            _ => sink(Item::Value(elem_cow(first)))?,
        }
        n += 1;
    }
    Ok(n)
}

/// Parses `object` (type byte, then the encoded value) and feeds its
/// entries to `sink`: one [`Item::Value`] for a string, else the
/// collection's entries. Empty collections are refused, as in Redis.
/// Bytes after the object are ignored, as Redis does.
pub fn load<E: From<Bad>>(
    object: &[u8],
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
) -> Result<Kind, E> {
    let mut input = Input::new(object);
    let rdb_type = input.byte()?;
    let kind = kind_of(rdb_type).ok_or(Bad)?;
    let mut n: u64 = 0;
    match rdb_type {
        types::STRING => {
            let s = input.string()?;
            sink(Item::Value(s))?;
            return Ok(kind);
        }
        types::LIST | types::SET => {
            for _ in 0..input.count()? {
                sink(Item::Value(input.string()?))?;
                n += 1;
            }
        }
        types::HASH => {
            for _ in 0..input.count()? {
                let field = input.string()?;
                let value = input.string()?;
                sink(Item::Field(field, value))?;
                n += 1;
            }
        }
        types::ZSET | types::ZSET_2 => {
            for _ in 0..input.count()? {
                let member = input.string()?;
                let score = if rdb_type == types::ZSET_2 {
                    input.binary_double()?
                } else {
                    input.text_double()?
                };
                if score.is_nan() {
                    return Err(Bad.into());
                }
                sink(Item::Scored(member, score))?;
                n += 1;
            }
        }
        types::SET_INTSET => {
            let blob = input.string()?;
            for v in packed::intset(&blob)? {
                sink(Item::Value(int_bytes(v)))?;
                n += 1;
            }
        }
        types::HASH_ZIPMAP => {
            let blob = input.string()?;
            n = packed::zipmap(&blob, |f, v| {
                sink(Item::Field(Cow::Borrowed(f), Cow::Borrowed(v)))
            })?;
        }
        types::LIST_ZIPLIST | types::ZSET_ZIPLIST | types::HASH_ZIPLIST => {
            let blob = input.string()?;
            n = feed_packed(&blob, false, kind, sink)?;
        }
        types::HASH_LISTPACK | types::ZSET_LISTPACK | types::SET_LISTPACK => {
            let blob = input.string()?;
            n = feed_packed(&blob, true, kind, sink)?;
        }
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => {
            for _ in 0..input.count()? {
                let container = if rdb_type == types::LIST_QUICKLIST_2 {
                    input.count()?
                } else {
                    2
                };
                let blob = input.string()?;
                match container {
                    // A plain node: one (big) element.
                    1 => {
                        sink(Item::Value(blob))?;
                        n += 1;
                    }
                    2 => n += feed_packed(&blob, rdb_type == types::LIST_QUICKLIST_2, kind, sink)?,
                    _ => return Err(Bad.into()),
                }
            }
        }
        _ => return Err(Bad.into()),
    }
    if n == 0 {
        return Err(Bad.into());
    }
    Ok(kind)
}

/// Parses `object` completely without keeping anything: the checks
/// RESTORE makes before it writes.
pub fn validate(object: &[u8]) -> Result<Kind, Bad> {
    load(object, &mut |_| Ok::<(), Bad>(()))
}
