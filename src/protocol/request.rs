//! Incremental decoder for client requests: RESP multibulk arrays and inline
//! commands, with the limits and the error texts Redis uses.
//!
//! The decoder never panics on input: every malformed byte sequence becomes a
//! [`ProtocolError`], after which the connection is expected to close.

use bytes::{Buf, Bytes, BytesMut};
use thiserror::Error;

/// Largest inline request or multibulk/bulk header line we accept, like Redis.
pub const MAX_INLINE_LEN: usize = 64 * 1024;
/// Largest number of arguments in one multibulk request, like Redis.
pub const MAX_MULTIBULK_LEN: i64 = 1024 * 1024;

/// A protocol violation; the text is what follows `-ERR ` in the reply.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// An inline request without a newline grew past [`MAX_INLINE_LEN`].
    #[error("Protocol error: too big inline request")]
    InlineTooBig,
    /// A `*N` header line without a newline grew past [`MAX_INLINE_LEN`].
    #[error("Protocol error: too big mbulk count string")]
    MultibulkHeaderTooBig,
    /// A `$N` header line without a newline grew past [`MAX_INLINE_LEN`].
    #[error("Protocol error: too big bulk count string")]
    BulkHeaderTooBig,
    /// `*N` where N is not a number or is out of range.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// `$N` where N is not a number or exceeds `proto-max-bulk-len`.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// An argument of a multibulk request did not start with `$`.
    #[error("Protocol error: expected '$', got '{0}'")]
    ExpectedDollar(char),
    /// An inline request with an unterminated quote.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// A client that has not authenticated sent a multibulk with more than
    /// [`UNAUTH_MAX_MULTIBULK_LEN`] elements.
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// A client that has not authenticated sent a bulk longer than
    /// [`UNAUTH_MAX_BULK_LEN`].
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
}

/// Most arguments a client that has not authenticated may send in one
/// request (AUTH and HELLO need far fewer), as in Redis.
pub const UNAUTH_MAX_MULTIBULK_LEN: i64 = 10;
/// Longest bulk a client that has not authenticated may send, as in Redis.
pub const UNAUTH_MAX_BULK_LEN: i64 = 16 * 1024;
/// Most bytes of arguments [`RequestDecoder::own_small_args`] copies.
const OWNED_ARGS_MAX_BYTES: usize = 64 * 1024;

/// Limits applied while decoding; they come from the config.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest bulk argument accepted (`proto-max-bulk-len`).
    pub max_bulk_len: i64,
    /// False until the client has authenticated when a password is
    /// required: then requests are held to the small pre-auth limits, so an
    /// unknown peer cannot make the server buffer large requests.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

/// Decoder state kept between reads, so a large request arriving in many
/// packets is not re-scanned from its start every time.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    /// Arguments of the multibulk request being decoded.
    args: Vec<Bytes>,
    /// Number of arguments still expected; `None` when between requests.
    remaining: Option<usize>,
    /// Length of the bulk whose header was consumed but whose body has not
    /// fully arrived yet.
    pending_bulk: Option<usize>,
}

/// Finds the `\r` that ends a multibulk or bulk header line. A header is
/// terminated by CRLF only: like Redis, a bare `\n` is part of the line and
/// makes its number invalid. `None` until a `\r` and one more byte arrived.
fn find_crlf(buf: &[u8]) -> Option<usize> {
    let cr = buf.iter().position(|&b| b == b'\r')?;
    (cr + 1 < buf.len()).then_some(cr)
}

fn memchr_newline(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

/// Parses a signed decimal integer the strict way Redis does for headers.
fn parse_header_int(line: &[u8]) -> Option<i64> {
    crate::util::numbers::parse_i64(line)
}

impl RequestDecoder {
    /// Creates a decoder with no partial request.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when a request has been partly decoded and more bytes are needed.
    pub fn in_progress(&self) -> bool {
        self.remaining.is_some()
    }

    /// Bytes the buffer should be able to hold to finish the current bulk.
    pub fn wanted_capacity(&self) -> Option<usize> {
        self.pending_bulk.map(|n| n + 2)
    }

    /// Gives the arguments decoded so far of an unfinished request their
    /// own small copies, when they are small, so they stop sharing the
    /// read buffer: a buffer nobody else points into can be grown in
    /// place (or reused after a big bulk) instead of replaced by a fresh
    /// allocation. Arguments over [`OWNED_ARGS_MAX_BYTES`] in all are left
    /// as they are: copying them would cost more than it saves.
    pub fn own_small_args(&mut self) {
        if self.held_bytes() > OWNED_ARGS_MAX_BYTES {
            return;
        }
        for arg in &mut self.args {
            *arg = Bytes::copy_from_slice(arg);
        }
    }

    /// Bytes held by the arguments of the request being decoded; together
    /// with the read buffer this is the client's query buffer.
    pub fn held_bytes(&self) -> usize {
        self.args.iter().map(|a| a.len()).sum()
    }

    /// Decodes the next complete request from `buf`, consuming its bytes.
    /// Returns `Ok(None)` when more bytes are needed. An empty inline line
    /// yields `Some(vec![])`, which callers skip.
    pub fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        if self.remaining.is_none() {
            if buf.is_empty() {
                return Ok(None);
            }
            if buf[0] != b'*' {
                return decode_inline(buf);
            }
            let Some(end) = find_crlf(buf) else {
                if buf.len() > MAX_INLINE_LEN {
                    return Err(ProtocolError::MultibulkHeaderTooBig);
                }
                return Ok(None);
            };
            let count = parse_header_int(&buf[1..end])
                .filter(|n| *n <= MAX_MULTIBULK_LEN)
                .ok_or(ProtocolError::InvalidMultibulkLength)?;
            if !limits.authenticated && count > UNAUTH_MAX_MULTIBULK_LEN {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            skip_line(buf, end);
            if count <= 0 {
                return Ok(Some(Vec::new()));
            }
            let count = count as usize;
            self.args = Vec::with_capacity(count.min(1024));
            self.remaining = Some(count);
        }
        while let Some(left) = self.remaining {
            if left == 0 {
                self.remaining = None;
                return Ok(Some(std::mem::take(&mut self.args)));
            }
            let len = match self.pending_bulk {
                Some(len) => len,
                None => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    if buf[0] != b'$' {
                        return Err(ProtocolError::ExpectedDollar(buf[0] as char));
                    }
                    let Some(end) = find_crlf(buf) else {
                        if buf.len() > MAX_INLINE_LEN {
                            return Err(ProtocolError::BulkHeaderTooBig);
                        }
                        return Ok(None);
                    };
                    let len = parse_header_int(&buf[1..end])
                        .filter(|n| *n >= 0 && *n <= limits.max_bulk_len)
                        .ok_or(ProtocolError::InvalidBulkLength)?;
                    if !limits.authenticated && len > UNAUTH_MAX_BULK_LEN {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    skip_line(buf, end);
                    self.pending_bulk = Some(len as usize);
                    len as usize
                }
            };
            if buf.len() < len + 2 {
                return Ok(None);
            }
            let arg = buf.split_to(len).freeze();
            buf.advance(2);
            self.pending_bulk = None;
            self.args.push(arg);
            self.remaining = Some(left - 1);
        }
        Ok(None)
    }
}

/// Consumes a header line whose `\r` is at `end`, with the byte after it.
fn skip_line(buf: &mut BytesMut, end: usize) {
    buf.advance((end + 2).min(buf.len()));
}

fn decode_inline(buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let Some(nl) = memchr_newline(buf) else {
        if buf.len() > MAX_INLINE_LEN {
            return Err(ProtocolError::InlineTooBig);
        }
        return Ok(None);
    };
    let line = buf.split_to(nl + 1);
    let mut text = &line[..nl];
    if text.last() == Some(&b'\r') {
        text = &text[..text.len() - 1];
    }
    split_inline_args(text).map(Some)
}

/// Splits an inline command line into arguments, honouring double quotes
/// (with `\n`, `\xHH`-style escapes) and single quotes like `redis-cli`.
pub fn split_inline_args(line: &[u8]) -> Result<Vec<Bytes>, ProtocolError> {
    let mut args = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let mut cur = Vec::new();
        match line[i] {
            b'"' => {
                i += 1;
                loop {
                    let Some(&c) = line.get(i) else {
                        return Err(ProtocolError::UnbalancedQuotes);
                    };
                    if c == b'\\' && i + 1 < line.len() {
                        let n = line[i + 1];
                        if n == b'x'
                            && i + 3 < line.len()
                            && line[i + 2].is_ascii_hexdigit()
                            && line[i + 3].is_ascii_hexdigit()
                        {
                            let hex = std::str::from_utf8(&line[i + 2..i + 4]).unwrap_or("0");
                            cur.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                            i += 4;
                            continue;
                        }
                        cur.push(match n {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                        i += 2;
                    } else if c == b'"' {
                        i += 1;
                        if i < line.len() && !line[i].is_ascii_whitespace() {
                            return Err(ProtocolError::UnbalancedQuotes);
                        }
                        break;
                    } else {
                        cur.push(c);
                        i += 1;
                    }
                }
            }
            b'\'' => {
                i += 1;
                loop {
                    let Some(&c) = line.get(i) else {
                        return Err(ProtocolError::UnbalancedQuotes);
                    };
                    if c == b'\\' && line.get(i + 1) == Some(&b'\'') {
                        cur.push(b'\'');
                        i += 2;
                    } else if c == b'\'' {
                        i += 1;
                        if i < line.len() && !line[i].is_ascii_whitespace() {
                            return Err(ProtocolError::UnbalancedQuotes);
                        }
                        break;
                    } else {
                        cur.push(c);
                        i += 1;
                    }
                }
            }
            _ => {
                while i < line.len() && !line[i].is_ascii_whitespace() {
                    cur.push(line[i]);
                    i += 1;
                }
            }
        }
        args.push(Bytes::from(cur));
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(req) = dec.decode(&mut buf, &Limits::default())? {
            out.push(req);
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_inline() {
        let reqs = decode_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a \"b c\"\r\n").unwrap();
        assert_eq!(reqs.len(), 3);
        assert_eq!(reqs[0], vec![Bytes::from("GET"), Bytes::from("k")]);
        assert_eq!(reqs[1], vec![Bytes::from("PING")]);
        assert_eq!(reqs[2][2], Bytes::from("b c"));
    }

    #[test]
    fn errors_match_redis() {
        assert_eq!(
            decode_all(b"*abc\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            decode_all(b"*1\r\nfoo\r\n"),
            Err(ProtocolError::ExpectedDollar('f'))
        );
        assert_eq!(
            decode_all(b"*1\r\n$-5\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            decode_all(b"set a \"b\r\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
    }

    #[test]
    fn header_needs_crlf() {
        assert_eq!(
            decode_all(b"*1\n$4\r\nPING\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            decode_all(b"*1\r\n$4\nPING\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        // Without any CR yet, the decoder waits for more bytes.
        assert_eq!(decode_all(b"*1\n"), Ok(vec![]));
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = Limits {
            authenticated: false,
            ..Limits::default()
        };
        let decode = |input: &[u8]| {
            let mut buf = BytesMut::from(input);
            RequestDecoder::new().decode(&mut buf, &limits)
        };
        assert!(decode(b"*10\r\n").is_ok());
        assert_eq!(
            decode(b"*11\r\n"),
            Err(ProtocolError::UnauthenticatedMultibulkLength)
        );
        assert!(decode(b"*2\r\n$4\r\nAUTH\r\n$16384\r\n").is_ok());
        assert_eq!(
            decode(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n"),
            Err(ProtocolError::UnauthenticatedBulkLength)
        );
    }

    #[test]
    fn split_across_reads() {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let whole = b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n";
        let mut got = None;
        for b in whole.iter() {
            buf.extend_from_slice(&[*b]);
            if let Some(r) = dec.decode(&mut buf, &Limits::default()).unwrap() {
                got = Some(r);
            }
        }
        assert_eq!(got.unwrap()[1], Bytes::from("hello"));
    }
}
