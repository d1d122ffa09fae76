//! The key layout of the `subkey` and `zset_score` column families:
//! `[ns len][ns][slot][key length: u32 BE][key][version: u64 BE][rest]`,
//! where `rest` is a field, member or index (subkey CF) or an
//! order-preserving score followed by the member (score CF).
//!
//! The namespace and slot come first, as in every column family, so a slot
//! is one key range here too; the key length keeps `a` + field `bc` apart
//! from `ab` + field `c`; the version makes a re-created key's subkeys a
//! fresh range, so deleting a big key only touches its metadata.

use super::keys;
use crate::cluster::slot::key_slot;

/// The prefix shared by every subkey of one version of one key.
pub fn version_prefix(ns: &[u8], user_key: &[u8], version: u64) -> Vec<u8> {
    let mut out = keys::slot_prefix(ns, key_slot(user_key));
    out.reserve(12 + user_key.len());
    out.extend_from_slice(&(user_key.len() as u32).to_be_bytes());
    out.extend_from_slice(user_key);
    out.extend_from_slice(&version.to_be_bytes());
    out
}

/// One subkey: the version prefix followed by `rest`.
pub fn subkey(ns: &[u8], user_key: &[u8], version: u64, rest: &[u8]) -> Vec<u8> {
    let mut out = version_prefix(ns, user_key, version);
    out.extend_from_slice(rest);
    out
}

/// A score-CF key: the version prefix, the encoded score, the member.
pub fn score_key(ns: &[u8], user_key: &[u8], version: u64, score: f64, member: &[u8]) -> Vec<u8> {
    let mut out = version_prefix(ns, user_key, version);
    out.extend_from_slice(&encode_score(score));
    out.extend_from_slice(member);
    out
}

/// The first key past every key that starts with `prefix` (`None` when no
/// such key exists, i.e. the prefix is all 0xFF).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A subkey (or score key) split into the metadata key it belongs to, its
/// version, and the rest.
pub struct ParsedSubkey<'a> {
    /// The encoded metadata key (`[ns len][ns][slot][user key]`).
    pub meta_key: Vec<u8>,
    /// The version the subkey was written under.
    pub version: u64,
    /// Field, member, index or score + member.
    pub rest: &'a [u8],
}

/// Splits a subkey or score key; `None` when it is not well formed.
pub fn parse(raw: &[u8]) -> Option<ParsedSubkey<'_>> {
    let ns_len = *raw.first()? as usize;
    let head = 3 + ns_len;
    let len_bytes = raw.get(head..head + 4)?;
    let key_len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
    let key_start = head + 4;
    let key_end = key_start.checked_add(key_len as usize)?;
    let user_key = raw.get(key_start..key_end)?;
    let version = raw.get(key_end..key_end + 8)?;
    let mut meta_key = Vec::with_capacity(head + user_key.len());
    meta_key.extend_from_slice(&raw[..head]);
    meta_key.extend_from_slice(user_key);
    Some(ParsedSubkey {
        meta_key,
        version: super::metadata::read_u64(version),
        rest: &raw[key_end + 8..],
    })
}

/// Encodes a score so byte order is numeric order (-inf first, +inf last;
/// -0.0 and 0.0 are made equal).
pub fn encode_score(score: f64) -> [u8; 8] {
    let score = if score == 0.0 { 0.0 } else { score };
    let bits = score.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    ordered.to_be_bytes()
}

/// Decodes a score written by [`encode_score`].
pub fn decode_score(raw: &[u8]) -> Option<f64> {
    let bytes: [u8; 8] = raw.get(..8)?.try_into().ok()?;
    let ordered = u64::from_be_bytes(bytes);
    let bits = if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    };
    Some(f64::from_bits(bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subkey_round_trip() {
        let k = subkey(b"ns", b"user", 7, b"field");
        let p = parse(&k).unwrap();
        assert_eq!(p.meta_key, keys::encode(b"ns", b"user"));
        assert_eq!(p.version, 7);
        assert_eq!(p.rest, b"field");
        assert!(parse(&k[..8]).is_none());
    }

    #[test]
    fn key_boundaries_do_not_mix() {
        // "a" + "bc" and "ab" + "c" have different prefixes.
        assert_ne!(subkey(b"", b"a", 1, b"bc"), subkey(b"", b"ab", 1, b"c"));
    }

    #[test]
    fn scores_sort_numerically() {
        let vals = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -1.0,
            0.0,
            1e-300,
            1.0,
            2.5,
            1e300,
            f64::INFINITY,
        ];
        for w in vals.windows(2) {
            assert!(
                encode_score(w[0]) < encode_score(w[1]),
                "{} < {}",
                w[0],
                w[1]
            );
        }
        for v in vals {
            assert_eq!(decode_score(&encode_score(v)), Some(v));
        }
        assert_eq!(encode_score(-0.0), encode_score(0.0));
    }

    #[test]
    fn prefix_end_skips_ff() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
    }
}
