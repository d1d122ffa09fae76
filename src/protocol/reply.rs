//! Replies produced by commands, and their RESP2 / RESP3 encoding.

use bytes::{BufMut, Bytes, BytesMut};

/// A reply value, independent of the protocol version; the connection encodes
/// it as RESP2 or RESP3 depending on what the client chose with `HELLO`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`-style status line.
    Status(String),
    /// `-ERR ...`-style error; the text includes the code (`ERR`, `WRONGTYPE`, ...).
    Error(String),
    /// `:N` integer.
    Integer(i64),
    /// `$N` bulk string.
    Bulk(Bytes),
    /// Missing value: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// Missing array: `*-1` in RESP2, `_` in RESP3.
    NilArray,
    /// `*N` array.
    Array(Vec<Reply>),
    /// Floating point number: a bulk string in RESP2, `,` in RESP3.
    Double(f64),
    /// Key/value map: a flat array in RESP2, `%` in RESP3.
    Map(Vec<(Reply, Reply)>),
    /// Set: an array in RESP2, `~` in RESP3.
    Set(Vec<Reply>),
    /// Boolean: integer 1/0 in RESP2, `#t`/`#f` in RESP3.
    Bool(bool),
    /// Verbatim text (`INFO`, `CLIENT INFO`): a bulk in RESP2, `=` in RESP3.
    Verbatim(String),
    /// A number too big for an integer: a bulk in RESP2, `(` in RESP3.
    BigNumber(String),
    /// Out-of-band data: `>` in RESP3, an array in RESP2.
    Push(Vec<Reply>),
    /// Attributes describing the reply that follows: `|` in RESP3, nothing
    /// at all in RESP2 (older clients never see them).
    Attribute(Vec<(Reply, Reply)>),
    /// Several frames sent back to back for one command (an attribute or
    /// a push message before the real reply).
    Frames(Vec<Reply>),
    /// A reply already encoded for the session's protocol version, as
    /// pieces sent one after the other: a large reply is built once, in
    /// its final form, with big values as views of the buffers they were
    /// read into, and written as is.
    Encoded(Vec<Bytes>),
}

impl Reply {
    /// The `+OK` status.
    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }

    /// An error reply; `msg` must carry its code, e.g. `ERR syntax error`.
    pub fn error(msg: impl Into<String>) -> Reply {
        Reply::Error(msg.into())
    }

    /// A bulk string from anything byte-like.
    pub fn bulk(data: impl Into<Bytes>) -> Reply {
        Reply::Bulk(data.into())
    }

    /// A bulk string, or nil when absent.
    pub fn opt_bulk(data: Option<impl Into<Bytes>>) -> Reply {
        match data {
            Some(d) => Reply::Bulk(d.into()),
            None => Reply::Nil,
        }
    }

    /// An array of bulk strings.
    pub fn bulk_array<I, B>(items: I) -> Reply
    where
        I: IntoIterator<Item = B>,
        B: Into<Bytes>,
    {
        Reply::Array(items.into_iter().map(|b| Reply::Bulk(b.into())).collect())
    }

    /// True when this reply is an error.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Appends the encoding of this reply to `out` for protocol `resp` (2 or 3).
    pub fn encode(&self, resp: u8, out: &mut BytesMut) {
        match self {
            Reply::Status(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(e) => line(out, b'-', e.as_bytes()),
            Reply::Integer(n) => int_line(out, b':', *n),
            Reply::Bulk(b) => bulk(out, b),
            Reply::Nil => {
                if resp >= 3 {
                    out.put_slice(b"_\r\n")
                } else {
                    out.put_slice(b"$-1\r\n")
                }
            }
            Reply::NilArray => {
                if resp >= 3 {
                    out.put_slice(b"_\r\n")
                } else {
                    out.put_slice(b"*-1\r\n")
                }
            }
            Reply::Array(items) => {
                int_line(out, b'*', items.len() as i64);
                for item in items {
                    item.encode(resp, out);
                }
            }
            Reply::Double(d) => {
                let text = format_double(*d);
                if resp >= 3 {
                    line(out, b',', text.as_bytes())
                } else {
                    bulk(out, text.as_bytes())
                }
            }
            Reply::Map(pairs) => {
                if resp >= 3 {
                    int_line(out, b'%', pairs.len() as i64);
                } else {
                    int_line(out, b'*', 2 * pairs.len() as i64);
                }
                for (k, v) in pairs {
                    k.encode(resp, out);
                    v.encode(resp, out);
                }
            }
            Reply::Set(items) => {
                int_line(out, if resp >= 3 { b'~' } else { b'*' }, items.len() as i64);
                for item in items {
                    item.encode(resp, out);
                }
            }
            Reply::Bool(b) => {
                if resp >= 3 {
                    out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" })
                } else {
                    int_line(out, b':', *b as i64)
                }
            }
            Reply::Verbatim(text) => {
                if resp >= 3 {
                    int_line(out, b'=', text.len() as i64 + 4);
                    out.put_slice(b"txt:");
                    out.put_slice(text.as_bytes());
                    out.put_slice(b"\r\n");
                } else {
                    bulk(out, text.as_bytes())
                }
            }
            Reply::BigNumber(digits) => {
                if resp >= 3 {
                    line(out, b'(', digits.as_bytes())
                } else {
                    bulk(out, digits.as_bytes())
                }
            }
            Reply::Push(items) => {
                int_line(out, if resp >= 3 { b'>' } else { b'*' }, items.len() as i64);
                for item in items {
                    item.encode(resp, out);
                }
            }
            Reply::Attribute(pairs) => {
                if resp >= 3 {
                    int_line(out, b'|', pairs.len() as i64);
                    for (k, v) in pairs {
                        k.encode(resp, out);
                        v.encode(resp, out);
                    }
                }
            }
            Reply::Frames(frames) => {
                for f in frames {
                    f.encode(resp, out);
                }
            }
            Reply::Encoded(pieces) => {
                for p in pieces {
                    out.put_slice(p)
                }
            }
        }
    }
}

/// Builds a [`Reply::Encoded`] piece by piece: small parts are gathered in
/// one buffer, big values are kept as the views they arrived as.
#[derive(Debug, Default)]
pub struct EncodedBuilder {
    pieces: Vec<Bytes>,
    small: BytesMut,
}

/// Values at least this big are not copied into the gathering buffer.
const SEPARATE_PIECE: usize = 16 * 1024;

impl EncodedBuilder {
    /// An empty reply.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the header of an array of `len` elements.
    pub fn array_header(&mut self, len: usize) {
        int_line(&mut self.small, b'*', len as i64);
    }

    /// Adds a bulk string, or the nil of protocol `resp` when absent.
    pub fn opt_bulk(&mut self, data: Option<Bytes>, resp: u8) {
        match data {
            Some(d) if d.len() >= SEPARATE_PIECE => {
                int_line(&mut self.small, b'$', d.len() as i64);
                self.pieces.push(self.small.split().freeze());
                self.pieces.push(d);
                self.small.put_slice(b"\r\n");
            }
            Some(d) => bulk(&mut self.small, &d),
            None if resp >= 3 => self.small.put_slice(b"_\r\n"),
            None => self.small.put_slice(b"$-1\r\n"),
        }
    }

    /// The finished reply.
    pub fn finish(mut self) -> Reply {
        if !self.small.is_empty() {
            self.pieces.push(self.small.freeze());
        }
        Reply::Encoded(self.pieces)
    }
}

/// Formats a double the way Redis prints scores and floats: shortest form
/// that round-trips, `inf`/`-inf`, no trailing `.0`.
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == d.trunc() && d.abs() < 1e17 {
        return format!("{}", d as i64);
    }
    format!("{}", d)
}

fn line(out: &mut BytesMut, prefix: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(prefix);
    // Status and error lines cannot carry newlines; replace them like Redis.
    for &c in text {
        out.put_u8(if c == b'\r' || c == b'\n' { b' ' } else { c });
    }
    out.put_slice(b"\r\n");
}

fn int_line(out: &mut BytesMut, prefix: u8, n: i64) {
    let mut tmp = itoa_buf(n);
    out.reserve(tmp.len() + 3);
    out.put_u8(prefix);
    out.put_slice(tmp.as_bytes());
    out.put_slice(b"\r\n");
    tmp.clear();
}

fn itoa_buf(n: i64) -> String {
    n.to_string()
}

fn bulk(out: &mut BytesMut, data: &[u8]) {
    int_line(out, b'$', data.len() as i64);
    out.reserve(data.len() + 2);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, resp: u8) -> Vec<u8> {
        let mut b = BytesMut::new();
        r.encode(resp, &mut b);
        b.to_vec()
    }

    #[test]
    fn resp2_and_resp3_shapes() {
        assert_eq!(enc(&Reply::Nil, 2), b"$-1\r\n");
        assert_eq!(enc(&Reply::Nil, 3), b"_\r\n");
        let m = Reply::Map(vec![(Reply::bulk("a"), Reply::Integer(1))]);
        assert_eq!(enc(&m, 2), b"*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&m, 3), b"%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&Reply::Double(3.0), 2), b"$1\r\n3\r\n");
        assert_eq!(enc(&Reply::Double(1.5), 3), b",1.5\r\n");
    }
}
