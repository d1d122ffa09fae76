//! INCRBYFLOAT's arithmetic as Redis does it: x86-64 `long double` (x87
//! 80-bit extended precision, a 64-bit mantissa), parsed like `strtold`,
//! added with round-to-nearest-even and printed like `"%.17Lf"` with the
//! trailing zeros removed. Emulated exactly with a small big integer, so
//! `INCRBYFLOAT` replies byte for byte what redis-server replies
//! (`10.5 + 0.1` is `10.6`, `1e308 + 1e308` is a 309-digit integer).

use std::cmp::Ordering;

/// Mantissa bits of the format.
const MANT_BITS: i64 = 64;
/// Exponent of the least significant mantissa bit of the smallest numbers
/// (subnormals): 2^-16382 is the smallest normal, with 63 bits below it.
const MIN_LSB_EXP: i64 = -16382 - 63;
/// Exponent of the least significant mantissa bit of the largest numbers.
const MAX_LSB_EXP: i64 = 16383 - 63;
/// Longest input `string2ld` accepts (Redis's `MAX_LONG_DOUBLE_CHARS` - 1).
const MAX_INPUT_LEN: usize = 5 * 1024 - 1;

/// An unsigned big integer, little-endian 32-bit limbs, no leading zeros.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut n: u128) -> Big {
        let mut v = Vec::new();
        while n > 0 {
            v.push(n as u32);
            n >>= 32;
        }
        Big(v)
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn trim(mut self) -> Big {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        self
    }

    /// Number of significant bits.
    fn bits(&self) -> i64 {
        match self.0.last() {
            None => 0,
            Some(top) => self.0.len() as i64 * 32 - top.leading_zeros() as i64,
        }
    }

    fn bit(&self, i: i64) -> bool {
        let limb = (i / 32) as usize;
        i >= 0 && limb < self.0.len() && (self.0[limb] >> (i % 32)) & 1 == 1
    }

    /// True when any of the bits below `n` is set.
    fn any_below(&self, n: i64) -> bool {
        if n <= 0 {
            return false;
        }
        let full = ((n / 32) as usize).min(self.0.len());
        if self.0[..full].iter().any(|&l| l != 0) {
            return true;
        }
        let rest = n % 32;
        full < self.0.len() && rest > 0 && self.0[full] & ((1u32 << rest) - 1) != 0
    }

    fn mul_add_small(&self, m: u32, add: u32) -> Big {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut carry = add as u64;
        for &l in &self.0 {
            let t = l as u64 * m as u64 + carry;
            out.push(t as u32);
            carry = t >> 32;
        }
        if carry > 0 {
            out.push(carry as u32);
        }
        Big(out).trim()
    }

    /// Divides by `d` in place; returns the remainder.
    fn div_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for l in self.0.iter_mut().rev() {
            let cur = (rem << 32) | *l as u64;
            *l = (cur / d as u64) as u32;
            rem = cur % d as u64;
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        rem as u32
    }

    fn shl(&self, n: i64) -> Big {
        if self.is_zero() || n <= 0 {
            return self.clone();
        }
        let (limbs, bits) = ((n / 32) as usize, (n % 32) as u32);
        let mut out = vec![0u32; limbs];
        if bits == 0 {
            out.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u32;
            for &l in &self.0 {
                out.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
            out.push(carry);
        }
        Big(out).trim()
    }

    fn shr(&self, n: i64) -> Big {
        if n <= 0 {
            return self.clone();
        }
        let (limbs, bits) = ((n / 32) as usize, (n % 32) as u32);
        if limbs >= self.0.len() {
            return Big(Vec::new());
        }
        let src = &self.0[limbs..];
        let out = if bits == 0 {
            src.to_vec()
        } else {
            (0..src.len())
                .map(|i| {
                    let hi = src.get(i + 1).map_or(0, |&h| h << (32 - bits));
                    (src[i] >> bits) | hi
                })
                .collect()
        };
        Big(out).trim()
    }

    fn add(&self, other: &Big) -> Big {
        let (long, short) = if self.0.len() >= other.0.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut out = Vec::with_capacity(long.0.len() + 1);
        let mut carry = 0u64;
        for (i, &l) in long.0.iter().enumerate() {
            let t = l as u64 + *short.0.get(i).unwrap_or(&0) as u64 + carry;
            out.push(t as u32);
            carry = t >> 32;
        }
        if carry > 0 {
            out.push(carry as u32);
        }
        Big(out)
    }

    /// `self - other`; `other` must not be larger.
    fn sub(&self, other: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i64;
        for (i, &l) in self.0.iter().enumerate() {
            let mut t = l as i64 - *other.0.get(i).unwrap_or(&0) as i64 - borrow;
            borrow = 0;
            if t < 0 {
                t += 1 << 32;
                borrow = 1;
            }
            out.push(t as u32);
        }
        Big(out).trim()
    }

    fn cmp_big(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    fn pow10(n: u64) -> Big {
        let mut out = Big::from_u128(1);
        let mut left = n;
        while left >= 9 {
            out = out.mul_add_small(1_000_000_000, 0);
            left -= 9;
        }
        out.mul_add_small(10u32.pow(left as u32), 0)
    }

    fn mul_pow10(&self, n: u64) -> Big {
        let mut out = self.clone();
        let mut left = n;
        while left >= 9 {
            out = out.mul_add_small(1_000_000_000, 0);
            left -= 9;
        }
        out.mul_add_small(10u32.pow(left as u32), 0)
    }

    /// Quotient and whether a remainder is left, for a quotient known to
    /// fit in `qbits` bits.
    fn div_big(&self, d: &Big, qbits: i64) -> (Big, bool) {
        let mut rem = self.clone();
        let mut q = Big(Vec::new());
        for i in (0..qbits).rev() {
            let shifted = d.shl(i);
            if rem.cmp_big(&shifted) != Ordering::Less {
                rem = rem.sub(&shifted);
                q = q.add(&Big::from_u128(1).shl(i));
            }
        }
        (q, !rem.is_zero())
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(1_000_000_000));
        }
        let mut s = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
        for c in chunks.iter().rev() {
            s.push_str(&format!("{c:09}"));
        }
        s
    }
}

/// A finite extended-precision value: `(-1)^neg * mant * 2^exp`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LongDouble {
    neg: bool,
    mant: u64,
    exp: i64,
}

/// Why a value cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdError {
    /// Not a number `strtold` would take whole (or out of range, or NaN).
    NotFloat,
    /// The result is infinite (or NaN).
    Infinite,
}

/// What `strtold` made of a string.
enum Parsed {
    Finite(LongDouble),
    Infinite,
}

impl LongDouble {
    /// Rounds `n * 2^e` (plus a little more when `sticky`: a nonzero
    /// remainder below the last bit of `n`) to the format. `None` when it
    /// overflows; the bool is true when a nonzero value rounded to zero.
    fn round(neg: bool, n: &Big, e: i64, sticky: bool) -> Option<(LongDouble, bool)> {
        if n.is_zero() {
            return Some((
                LongDouble {
                    neg,
                    mant: 0,
                    exp: 0,
                },
                sticky,
            ));
        }
        let top = e + n.bits() - 1;
        let lsb = (top - (MANT_BITS - 1)).max(MIN_LSB_EXP);
        let shift = lsb - e;
        let (mut mant, mut lsb) = if shift > 0 {
            let kept = n.shr(shift);
            let half = n.bit(shift - 1);
            let rest = sticky || n.any_below(shift - 1);
            let mut m = kept.0.first().copied().unwrap_or(0) as u128
                | (kept.0.get(1).copied().unwrap_or(0) as u128) << 32;
            if half && (rest || m & 1 == 1) {
                m += 1;
            }
            (m, lsb)
        } else {
            let kept = n.shl(-shift);
            let m = kept.0.first().copied().unwrap_or(0) as u128
                | (kept.0.get(1).copied().unwrap_or(0) as u128) << 32;
            (m, lsb)
        };
        if mant >> MANT_BITS != 0 {
            mant >>= 1;
            lsb += 1;
        }
        if lsb > MAX_LSB_EXP {
            return None;
        }
        let value = LongDouble {
            neg,
            mant: mant as u64,
            exp: lsb,
        };
        Some((value.clone(), mant == 0))
    }

    /// Parses like Redis's `string2ld`: `strtold` must take the whole
    /// string, no leading space, no NaN, no overflow or underflow to zero.
    fn parse(s: &[u8]) -> Result<Parsed, LdError> {
        if s.is_empty() || s.len() > MAX_INPUT_LEN {
            return Err(LdError::NotFloat);
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = body.to_ascii_lowercase();
        if lower == b"inf" || lower == b"infinity" {
            return Ok(Parsed::Infinite);
        }
        let (n, e, base10) = if lower.starts_with(b"0x") {
            let (n, e) = Self::parse_hex(&lower[2..]).ok_or(LdError::NotFloat)?;
            (n, e, false)
        } else {
            let (n, e) = Self::parse_decimal(&lower).ok_or(LdError::NotFloat)?;
            (n, e, true)
        };
        if n.is_zero() {
            return Ok(Parsed::Finite(LongDouble {
                neg,
                mant: 0,
                exp: 0,
            }));
        }
        let rounded = if !base10 {
            Self::round(neg, &n, e, false)
        } else {
            // Decimal digits beyond what any finite value needs.
            let magnitude = n.bits() as f64 * std::f64::consts::LOG10_2 + e as f64;
            if magnitude > 4940.0 {
                return Err(LdError::NotFloat);
            }
            if magnitude < -4960.0 {
                return Err(LdError::NotFloat);
            }
            if e >= 0 {
                Self::round(neg, &n.mul_pow10(e as u64), 0, false)
            } else {
                let d = Big::pow10(e.unsigned_abs());
                // Enough quotient bits for the mantissa and rounding.
                let s = (MANT_BITS + 3 + d.bits() - n.bits()).max(0);
                let qbits = n.bits() + s - d.bits() + 2;
                let (q, rest) = n.shl(s).div_big(&d, qbits.max(1));
                Self::round(neg, &q, -s, rest)
            }
        };
        match rounded {
            None => Err(LdError::NotFloat),
            Some((_, true)) => Err(LdError::NotFloat),
            Some((v, false)) => Ok(Parsed::Finite(v)),
        }
    }

    /// Decimal digits, an optional point and exponent: `(digits, exp10)`.
    fn parse_decimal(s: &[u8]) -> Option<(Big, i64)> {
        Self::parse_digits(s, 10, b'e', 1)
    }

    /// Hex digits, an optional point and a `p` binary exponent:
    /// `(digits, exp2)`.
    fn parse_hex(s: &[u8]) -> Option<(Big, i64)> {
        Self::parse_digits(s, 16, b'p', 4)
    }

    /// Digits of `radix` with an optional point, then an optional exponent
    /// after `exp_mark`. Each digit after the point lowers the returned
    /// exponent by `point_step` (1 for a power of ten, 4 for one of two).
    fn parse_digits(s: &[u8], radix: u32, exp_mark: u8, point_step: i64) -> Option<(Big, i64)> {
        let mut n = Big(Vec::new());
        let (mut digits, mut exp, mut i, mut seen_point) = (0usize, 0i64, 0usize, false);
        while i < s.len() {
            match s[i] {
                b'.' if !seen_point => seen_point = true,
                c => {
                    let Some(v) = (c as char).to_digit(radix) else {
                        break;
                    };
                    n = n.mul_add_small(radix, v);
                    digits += 1;
                    if seen_point {
                        exp -= point_step;
                    }
                }
            }
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        if i < s.len() {
            if s[i] != exp_mark {
                return None;
            }
            exp = exp.saturating_add(Self::parse_exponent(&s[i + 1..])?);
        }
        Some((n, exp))
    }

    /// `[+-]digits`, saturating far beyond any meaningful exponent.
    fn parse_exponent(s: &[u8]) -> Option<i64> {
        let (neg, digits) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut v: i64 = 0;
        for &c in digits {
            v = (v * 10 + (c - b'0') as i64).min(1 << 40);
        }
        Some(if neg { -v } else { v })
    }

    /// `self + other`, rounded; `None` when the sum overflows.
    fn add(&self, other: &LongDouble) -> Option<LongDouble> {
        if self.mant == 0 && other.mant == 0 {
            return Some(LongDouble {
                neg: self.neg && other.neg,
                mant: 0,
                exp: 0,
            });
        }
        if self.mant == 0 {
            return Some(other.clone());
        }
        if other.mant == 0 {
            return Some(self.clone());
        }
        let e = self.exp.min(other.exp);
        let a = Big::from_u128(self.mant as u128).shl(self.exp - e);
        let b = Big::from_u128(other.mant as u128).shl(other.exp - e);
        let (neg, n) = if self.neg == other.neg {
            (self.neg, a.add(&b))
        } else {
            match a.cmp_big(&b) {
                Ordering::Equal => return Some(LongDouble::default()),
                Ordering::Greater => (self.neg, a.sub(&b)),
                Ordering::Less => (other.neg, b.sub(&a)),
            }
        };
        Self::round(neg, &n, e, false).map(|(v, _)| v)
    }

    /// `"%.17Lf"` with the trailing zeros (and a bare point) removed, and
    /// `-0` written as `0`: Redis's `ld2string(..., LD_STR_HUMAN)`.
    fn to_human(&self) -> String {
        let m = Big::from_u128(self.mant as u128);
        let scaled = if self.exp >= 0 {
            m.shl(self.exp).mul_pow10(17)
        } else {
            let p = m.mul_pow10(17);
            let shift = -self.exp;
            let mut q = p.shr(shift);
            let half = p.bit(shift - 1);
            let rest = p.any_below(shift - 1);
            if half && (rest || q.bit(0)) {
                q = q.add(&Big::from_u128(1));
            }
            q
        };
        let mut digits = scaled.to_decimal();
        while digits.len() < 18 {
            digits.insert(0, '0');
        }
        let point = digits.len() - 17;
        let mut out = String::new();
        if self.neg {
            out.push('-');
        }
        out.push_str(&digits[..point]);
        out.push('.');
        out.push_str(&digits[point..]);
        let trimmed = out.trim_end_matches('0').trim_end_matches('.');
        if trimmed == "-0" {
            "0".into()
        } else {
            trimmed.to_string()
        }
    }
}

/// Parses a float argument or stored value the way INCRBYFLOAT does.
fn parse_value(s: &[u8]) -> Result<Option<LongDouble>, LdError> {
    Ok(match LongDouble::parse(s)? {
        Parsed::Finite(v) => Some(v),
        Parsed::Infinite => None,
    })
}

/// INCRBYFLOAT's core: `current` (absent = 0) plus `delta`, formatted as
/// Redis stores and replies it.
pub fn incr_by_float(current: Option<&[u8]>, delta: &[u8]) -> Result<String, LdError> {
    let value = match current {
        None => Some(LongDouble::default()),
        Some(v) => parse_value(v)?,
    };
    let delta = parse_value(delta)?;
    let (Some(value), Some(delta)) = (value, delta) else {
        return Err(LdError::Infinite);
    };
    let sum = value.add(&delta).ok_or(LdError::Infinite)?;
    Ok(sum.to_human())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(cur: &str, delta: &str) -> Result<String, LdError> {
        incr_by_float(Some(cur.as_bytes()), delta.as_bytes())
    }

    #[test]
    fn sums_as_redis_prints_them() {
        assert_eq!(incr("10.5", "0.1").unwrap(), "10.6");
        assert_eq!(incr("10.50", "0.1").unwrap(), "10.6");
        assert_eq!(incr("5.0e3", "2.0e2").unwrap(), "5200");
        assert_eq!(incr("0.1", "0.2").unwrap(), "0.3");
        assert_eq!(incr("1", "-1").unwrap(), "0");
        assert_eq!(incr("-0", "-0").unwrap(), "0");
        assert_eq!(incr("3", "0x10").unwrap(), "19");
        assert_eq!(incr("1", "1e-5").unwrap(), "1.00001");
        assert_eq!(
            incr_by_float(None, b"1.23456789012345678").unwrap(),
            "1.23456789012345678"
        );
        assert_eq!(
            incr("0", "1e308").unwrap(),
            "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"
        );
    }

    #[test]
    fn rejects_what_string2ld_rejects() {
        for bad in [
            "", " 1", "1 ", "abc", "nan", "1e", "0x", ".", "1e99999", "1e-99999",
        ] {
            assert_eq!(incr("1", bad), Err(LdError::NotFloat), "{bad:?}");
        }
        assert_eq!(incr("1", "inf"), Err(LdError::Infinite));
        assert_eq!(incr("1", "0e99999").unwrap(), "1");
        assert_eq!(incr("1", "1.2e4932"), Err(LdError::NotFloat));
    }

    /// Replies of redis-server 7 (x86-64) for the same sums.
    #[test]
    fn edge_cases_like_redis() {
        assert_eq!(incr("1", "0x1.8p1").unwrap(), "4");
        assert_eq!(incr("1", "1e-4950").unwrap(), "1");
        assert_eq!(incr("0", "1e-4940").unwrap(), "0");
        assert!(incr("1", "1e4932").unwrap().starts_with(
            "10000000000000000000060189493879638913238377742545331147737850413525330194866087"
        ));
        assert_eq!(
            incr("0", "123456789012345678901234567890").unwrap(),
            "123456789012345678899921813504"
        );
        assert_eq!(incr("0", "-0.000000000000000005").unwrap(), "0");
        assert_eq!(incr("0", "0.000000000000000005").unwrap(), "0");
        assert_eq!(
            incr("0", "0.000000000000000015").unwrap(),
            "0.00000000000000002"
        );
        assert_eq!(
            incr("0", "0.000000000000000025").unwrap(),
            "0.00000000000000002"
        );
    }
}
