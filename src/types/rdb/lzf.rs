//! LZF decompression, for the compressed strings inside RDB payloads.
//!
//! The stream is a sequence of runs, each starting with a control byte:
//! below 32 it announces a literal of `ctrl + 1` bytes; otherwise its top
//! three bits are a match length (7 means "add the next byte") and its low
//! five bits with the following byte a backward distance into the output.

/// Largest output one input byte can yield (a 3-byte back reference
/// copies up to 264 bytes), used to refuse absurd claimed lengths before
/// allocating anything.
pub const MAX_RATIO: usize = 88;

/// Decompresses `input` into exactly `out_len` bytes; `None` when the
/// stream is damaged or does not produce exactly that many bytes.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    if out_len > input.len().saturating_mul(MAX_RATIO) {
        return None;
    }
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            let lit = input.get(ip..ip + n)?;
            if out.len() + n > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            len += 2;
            let low = *input.get(ip)? as usize;
            ip += 1;
            let dist = ((ctrl & 0x1f) << 8) + low + 1;
            if dist > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - dist;
            // The source may overlap what is being written: copy in order.
            for i in 0..len {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_match() {
        // "abc" literal, then a 6-byte match at distance 3: "abcabcabc".
        let input = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(decompress(&input, 9).as_deref(), Some(&b"abcabcabc"[..]));
        assert!(decompress(&input, 10).is_none());
        assert!(decompress(&input[..5], 9).is_none());
        assert!(decompress(&[0x20, 5], 3).is_none());
    }
}
