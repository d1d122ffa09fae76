//! The compact encodings Redis keeps small collections in, as they appear
//! inside RDB strings: listpack, ziplist, intset and zipmap. Each is read
//! element by element with every offset checked against the buffer, so a
//! damaged blob ends in [`Bad`], never in a panic or a big allocation.

use super::Bad;

/// One element of a listpack or ziplist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem<'a> {
    /// A string element.
    Str(&'a [u8]),
    /// An integer element.
    Int(i64),
}

impl Elem<'_> {
    /// The element as the bytes Redis would return for it.
    pub fn to_bytes(self) -> Vec<u8> {
        match self {
            Elem::Str(s) => s.to_vec(),
            Elem::Int(i) => i.to_string().into_bytes(),
        }
    }
}

fn le_u16(b: &[u8]) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(..2)?.try_into().ok()?))
}

fn le_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(..4)?.try_into().ok()?))
}

/// Sign-extends the low `bits` bits of `v`.
fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Reads `n` (1..=8) little-endian bytes at `at` as a signed integer.
fn le_int(buf: &[u8], at: usize, n: usize) -> Option<i64> {
    let b = buf.get(at..at.checked_add(n)?)?;
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate() {
        v |= (*byte as u64) << (8 * i);
    }
    Some(sign_extend(v, 8 * n as u32))
}

/// Bytes `start..start + len` of `buf`, or [`Bad`] past its end.
fn slice(buf: &[u8], start: usize, len: usize) -> Result<&[u8], Bad> {
    buf.get(start..start.checked_add(len).ok_or(Bad)?)
        .ok_or(Bad)
}

/// Reads one entry at an offset (never the terminator): the element and
/// the entry's length in bytes.
type EntryFn = for<'a> fn(&'a [u8], usize) -> Result<(Elem<'a>, usize), Bad>;

/// The elements of a listpack or a ziplist. Both are a header that starts
/// with the total size (u32 LE) and ends with the element count (u16 LE),
/// entries, and a 0xFF terminator; they differ in the header's length and
/// the entries' layout.
pub struct Packed<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
    entry: EntryFn,
}

impl<'a> Packed<'a> {
    /// A listpack: checks the header (total size, terminator) and returns
    /// the reader and the element count of the header (65535 = not known).
    pub fn listpack(buf: &'a [u8]) -> Result<(Packed<'a>, u16), Bad> {
        Packed::open(buf, 6, listpack_entry)
    }

    /// A ziplist: checks the header (total size, terminator) and returns
    /// the reader and the element count of the header (65535 = not known).
    pub fn ziplist(buf: &'a [u8]) -> Result<(Packed<'a>, u16), Bad> {
        Packed::open(buf, 10, ziplist_entry)
    }

    /// Checks the header of `header` bytes and the terminator; returns the
    /// reader on the first entry and the header's element count.
    fn open(buf: &'a [u8], header: usize, entry: EntryFn) -> Result<(Packed<'a>, u16), Bad> {
        if buf.len() <= header || le_u32(buf).ok_or(Bad)? as usize != buf.len() {
            return Err(Bad);
        }
        if buf[buf.len() - 1] != 0xFF {
            return Err(Bad);
        }
        let count = le_u16(&buf[header - 2..]).ok_or(Bad)?;
        Ok((
            Packed {
                buf,
                pos: header,
                done: false,
                entry,
            },
            count,
        ))
    }

    /// The element at the reader's position (`None` at the terminator),
    /// and moves past it.
    fn read_entry(&mut self) -> Result<Option<Elem<'a>>, Bad> {
        let buf = self.buf;
        let at = self.pos;
        if *buf.get(at).ok_or(Bad)? == 0xFF {
            if at + 1 != buf.len() {
                return Err(Bad);
            }
            return Ok(None);
        }
        let (elem, len) = (self.entry)(buf, at)?;
        let next = at.checked_add(len).ok_or(Bad)?;
        // The entry must end before the terminator.
        if next >= buf.len() {
            return Err(Bad);
        }
        self.pos = next;
        Ok(Some(elem))
    }
}

/// Ends after the terminator or the first error.
impl<'a> Iterator for Packed<'a> {
    type Item = Result<Elem<'a>, Bad>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// One listpack entry: encoding and data, then its back-length.
fn listpack_entry(buf: &[u8], at: usize) -> Result<(Elem<'_>, usize), Bad> {
    let b = *buf.get(at).ok_or(Bad)?;
    let (elem, len) = if b & 0x80 == 0 {
        (Elem::Int((b & 0x7f) as i64), 1)
    } else if b & 0xC0 == 0x80 {
        let n = (b & 0x3f) as usize;
        (Elem::Str(slice(buf, at + 1, n)?), 1 + n)
    } else if b & 0xE0 == 0xC0 {
        let lo = *buf.get(at + 1).ok_or(Bad)? as u64;
        let v = (((b & 0x1f) as u64) << 8) | lo;
        (Elem::Int(sign_extend(v, 13)), 2)
    } else if b & 0xF0 == 0xE0 {
        let lo = *buf.get(at + 1).ok_or(Bad)? as usize;
        let n = (((b & 0x0f) as usize) << 8) | lo;
        (Elem::Str(slice(buf, at + 2, n)?), 2 + n)
    } else {
        match b {
            0xF0 => {
                let n = le_u32(buf.get(at + 1..).ok_or(Bad)?).ok_or(Bad)? as usize;
                (Elem::Str(slice(buf, at + 5, n)?), 5 + n)
            }
            0xF1 => (Elem::Int(le_int(buf, at + 1, 2).ok_or(Bad)?), 3),
            0xF2 => (Elem::Int(le_int(buf, at + 1, 3).ok_or(Bad)?), 4),
            0xF3 => (Elem::Int(le_int(buf, at + 1, 4).ok_or(Bad)?), 5),
            0xF4 => (Elem::Int(le_int(buf, at + 1, 8).ok_or(Bad)?), 9),
            _ => return Err(Bad),
        }
    };
    let back = match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    };
    Ok((elem, len + back))
}

/// One ziplist entry: the previous entry's length, encoding and data.
fn ziplist_entry(buf: &[u8], start: usize) -> Result<(Elem<'_>, usize), Bad> {
    // The previous entry's length: one byte, or 0xFE and four bytes.
    let at = start
        + if *buf.get(start).ok_or(Bad)? < 0xFE {
            1
        } else {
            5
        };
    let b = *buf.get(at).ok_or(Bad)?;
    let (elem, len) = match b >> 6 {
        0 => {
            let n = (b & 0x3f) as usize;
            (Elem::Str(slice(buf, at + 1, n)?), 1 + n)
        }
        1 => {
            let lo = *buf.get(at + 1).ok_or(Bad)? as usize;
            let n = (((b & 0x3f) as usize) << 8) | lo;
            (Elem::Str(slice(buf, at + 2, n)?), 2 + n)
        }
        2 => {
            let raw = buf.get(at + 1..at + 5).ok_or(Bad)?;
            let n = u32::from_be_bytes(raw.try_into().map_err(|_| Bad)?) as usize;
            (Elem::Str(slice(buf, at + 5, n)?), 5 + n)
        }
        _ => match b {
            0xC0 => (Elem::Int(le_int(buf, at + 1, 2).ok_or(Bad)?), 3),
            0xD0 => (Elem::Int(le_int(buf, at + 1, 4).ok_or(Bad)?), 5),
            0xE0 => (Elem::Int(le_int(buf, at + 1, 8).ok_or(Bad)?), 9),
            0xF0 => (Elem::Int(le_int(buf, at + 1, 3).ok_or(Bad)?), 4),
            0xFE => (Elem::Int(le_int(buf, at + 1, 1).ok_or(Bad)?), 2),
            0xF1..=0xFD => (Elem::Int((b & 0x0f) as i64 - 1), 1),
            _ => return Err(Bad),
        },
    };
    Ok((elem, at - start + len))
}

/// The integers of an intset: `[width: u32 LE][count: u32 LE][ints LE]`.
pub fn intset(buf: &[u8]) -> Result<impl Iterator<Item = i64> + '_, Bad> {
    let width = le_u32(buf).ok_or(Bad)? as usize;
    let count = le_u32(buf.get(4..).ok_or(Bad)?).ok_or(Bad)? as usize;
    if !matches!(width, 2 | 4 | 8) || count.checked_mul(width) != Some(buf.len() - 8) {
        return Err(Bad);
    }
    Ok(buf[8..]
        .chunks_exact(width)
        .map(move |c| le_int(c, 0, width).unwrap_or(0)))
}

/// The (field, value) pairs of a zipmap, the hash encoding of RDB files
/// older than Redis 2.6: `[count: u8]` then `[len]field[len][free]value`
/// entries (a length is one byte below 254, else 254 and four bytes LE),
/// then 0xFF. Calls `pair` for each; returns how many there were.
pub fn zipmap<E: From<Bad>>(
    buf: &[u8],
    mut pair: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
) -> Result<u64, E> {
    fn len_at(buf: &[u8], at: &mut usize) -> Result<usize, Bad> {
        let b = *buf.get(*at).ok_or(Bad)?;
        match b {
            0..=253 => {
                *at += 1;
                Ok(b as usize)
            }
            254 => {
                let n = le_u32(buf.get(*at + 1..).ok_or(Bad)?).ok_or(Bad)? as usize;
                *at += 5;
                Ok(n)
            }
            _ => Err(Bad),
        }
    }
    fn take<'a>(buf: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], Bad> {
        let s = buf.get(*at..at.checked_add(n).ok_or(Bad)?).ok_or(Bad)?;
        *at += n;
        Ok(s)
    }
    let mut pairs = 0;
    let mut at = 1;
    loop {
        if *buf.get(at).ok_or(Bad)? == 0xFF {
            if at + 1 != buf.len() {
                return Err(Bad.into());
            }
            return Ok(pairs);
        }
        let n = len_at(buf, &mut at)?;
        let field = take(buf, &mut at, n)?;
        let n = len_at(buf, &mut at)?;
        let free = *buf.get(at).ok_or(Bad)? as usize;
        at += 1;
        let value = take(buf, &mut at, n)?;
        take(buf, &mut at, free)?;
        pair(field, value)?;
        pairs += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_elements() {
        // Two entries: 7-bit uint 5 and the 6-bit string "hi".
        let mut lp = vec![0, 0, 0, 0, 2, 0, 0x05, 1, 0x82, b'h', b'i', 3, 0xFF];
        let n = lp.len() as u32;
        lp[..4].copy_from_slice(&n.to_le_bytes());
        let (it, count) = Packed::listpack(&lp).unwrap();
        assert_eq!(count, 2);
        let items: Vec<_> = it.collect::<Result<_, _>>().unwrap();
        assert_eq!(items, vec![Elem::Int(5), Elem::Str(b"hi")]);
        let mut bad = lp.clone();
        bad[8] = 0x8F;
        assert!(Packed::listpack(&bad).unwrap().0.any(|e| e.is_err()));
    }

    #[test]
    fn intset_widths() {
        let mut b = vec![2, 0, 0, 0, 2, 0, 0, 0];
        b.extend_from_slice(&(-3i16).to_le_bytes());
        b.extend_from_slice(&7i16.to_le_bytes());
        assert_eq!(intset(&b).unwrap().collect::<Vec<_>>(), vec![-3, 7]);
        assert!(intset(&b[..11]).is_err());
    }
}
