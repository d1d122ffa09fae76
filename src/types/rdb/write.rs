//! Building a payload: an RDB object in the plain encodings, then the
//! version and the CRC.

use super::{crc64, WRITE_VERSION};

/// Room kept before a collection's entries for its count, which is only
/// known at the end (a length takes at most 9 bytes).
const COUNT_ROOM: usize = 9;

/// A payload being written.
pub struct Writer {
    out: Vec<u8>,
    /// For collections: where the entries start (after the count's room).
    entries_at: Option<usize>,
}

/// Appends an RDB length.
pub fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The value of `s` when it is an integer written canonically (what Redis
/// stores integer-encoded), else `None`.
fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 11 {
        return None;
    }
    let v: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (v.to_string().as_bytes() == s).then_some(v)
}

impl Writer {
    /// A string payload.
    pub fn string(value: &[u8]) -> Vec<u8> {
        let mut w = Writer {
            out: Vec::with_capacity(value.len() + 16),
            entries_at: None,
        };
        w.out.push(super::types::STRING);
        w.put_string(value);
        w.finish(0)
    }

    /// A collection payload of `rdb_type`; add entries, then
    /// [`Writer::finish`] with their count.
    pub fn collection(rdb_type: u8) -> Writer {
        let mut out = Vec::with_capacity(256);
        out.resize(1 + COUNT_ROOM, 0);
        out[0] = rdb_type;
        Writer {
            out,
            entries_at: Some(1 + COUNT_ROOM),
        }
    }

    /// Appends a string, integer-encoded when Redis would.
    pub fn put_string(&mut self, s: &[u8]) {
        let out = &mut self.out;
        match canonical_int(s) {
            Some(v) if i8::try_from(v).is_ok() => {
                out.push(0xC0);
                out.push(v as i8 as u8);
            }
            Some(v) if i16::try_from(v).is_ok() => {
                out.push(0xC1);
                out.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if i32::try_from(v).is_ok() => {
                out.push(0xC2);
                out.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                put_len(out, s.len() as u64);
                out.extend_from_slice(s);
            }
        }
    }

    /// Appends a binary double.
    pub fn put_double(&mut self, d: f64) {
        self.out.extend_from_slice(&d.to_le_bytes());
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// True when nothing was written (never: the type byte comes first).
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Closes the payload: the count of a collection's entries (ignored
    /// for strings), the version and the CRC.
    pub fn finish(mut self, count: u64) -> Vec<u8> {
        if let Some(at) = self.entries_at {
            let mut len = Vec::with_capacity(COUNT_ROOM);
            put_len(&mut len, count);
            let start = at - len.len();
            self.out[start..at].copy_from_slice(&len);
            self.out[start - 1] = self.out[0];
            self.out.drain(..start - 1);
        }
        self.out.extend_from_slice(&WRITE_VERSION.to_le_bytes());
        let crc = crc64::crc64(0, &self.out);
        self.out.extend_from_slice(&crc.to_le_bytes());
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_ints() {
        let mut v = Vec::new();
        put_len(&mut v, 63);
        put_len(&mut v, 64);
        put_len(&mut v, 20000);
        assert_eq!(v, vec![63, 0x40, 64, 0x80, 0, 0, 0x4e, 0x20]);
        assert_eq!(canonical_int(b"-12"), Some(-12));
        assert_eq!(canonical_int(b"012"), None);
        assert_eq!(canonical_int(b"+1"), None);
        let p = Writer::string(b"v");
        assert_eq!(&p[..3], &[0, 1, b'v']);
        assert!(super::super::verify(&p).is_some());
    }
}
