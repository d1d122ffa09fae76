//! Redis's HyperLogLog string ("HYLL" header, dense or sparse registers),
//! converted from and to the 16384 one-byte registers ferrocks stores.
//!
//! Header: `"HYLL"`, encoding (0 dense, 1 sparse), three unused bytes,
//! the cached cardinality (8 bytes LE; top bit of the last byte set =
//! not valid). Dense: 6-bit registers packed from the lowest bit up.
//! Sparse: opcodes `00xxxxxx` (x+1 zero registers), `01xxxxxx yyyyyyyy`
//! (xy+1 zero registers), `1vvvvvxx` (x+1 registers of value v+1).

/// Number of registers.
pub const REGISTERS: usize = 16384;

/// Header size.
const HEADER: usize = 16;

/// Bits per dense register.
const BITS: usize = 6;

/// Size of a dense HLL string.
pub const DENSE_LEN: usize = HEADER + (REGISTERS * BITS).div_ceil(8);

/// The registers of a valid HYLL string (dense or sparse); `None` for
/// anything else.
pub fn parse(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() < HEADER || &s[..4] != b"HYLL" {
        return None;
    }
    let body = &s[HEADER..];
    match s[4] {
        0 if s.len() == DENSE_LEN => Some((0..REGISTERS).map(|i| dense_get(body, i)).collect()),
        1 => {
            let mut regs = vec![0u8; REGISTERS];
            let mut idx = 0usize;
            let mut i = 0;
            while i < body.len() {
                let b = body[i];
                let (run, val) = if b & 0xC0 == 0 {
                    i += 1;
                    ((b & 0x3f) as usize + 1, 0)
                } else if b & 0xC0 == 0x40 {
                    let lo = *body.get(i + 1)? as usize;
                    i += 2;
                    ((((b & 0x3f) as usize) << 8 | lo) + 1, 0)
                } else {
                    i += 1;
                    ((b & 0x03) as usize + 1, ((b >> 2) & 0x1f) + 1)
                };
                let end = idx + run;
                if end > REGISTERS {
                    return None;
                }
                regs[idx..end].fill(val);
                idx = end;
            }
            (idx == REGISTERS).then_some(regs)
        }
        _ => None,
    }
}

fn dense_get(body: &[u8], i: usize) -> u8 {
    let pos = i * BITS;
    let (b, fb) = (pos / 8, pos % 8);
    let lo = body.get(b).copied().unwrap_or(0) as u16;
    let hi = body.get(b + 1).copied().unwrap_or(0) as u16;
    (((lo >> fb) | (hi << (8 - fb))) & 0x3f) as u8
}

/// The dense HYLL string of `regs` (values above 63 are clamped), with
/// the cached cardinality marked invalid.
pub fn dense(regs: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; DENSE_LEN];
    out[..4].copy_from_slice(b"HYLL");
    out[15] = 0x80;
    let body = &mut out[HEADER..];
    for (i, &r) in regs.iter().take(REGISTERS).enumerate() {
        let v = r.min(63) as u16;
        if v == 0 {
            continue;
        }
        let pos = i * BITS;
        let (b, fb) = (pos / 8, pos % 8);
        let w = v << fb;
        body[b] |= w as u8;
        if let Some(next) = body.get_mut(b + 1) {
            *next |= (w >> 8) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_round_trip_and_sparse() {
        let regs: Vec<u8> = (0..REGISTERS).map(|i| (i % 64) as u8).collect();
        let d = dense(&regs);
        assert_eq!(d.len(), DENSE_LEN);
        assert_eq!(parse(&d).unwrap(), regs);
        // Sparse: XZERO 16383 registers, then VAL 3 x1.
        let mut s = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
        s.extend_from_slice(&[0x40 | 0x3f, 0xfe, 0x80 | (2 << 2)]);
        let r = parse(&s).unwrap();
        assert_eq!(r[16383], 3);
        assert_eq!(r.iter().filter(|v| **v != 0).count(), 1);
        s.pop();
        assert!(parse(&s).is_none());
    }
}
