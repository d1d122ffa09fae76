//! The sorted set type (see DESIGN.md, "Key encoding").
//!
//! Each member is stored twice under the key's version: in the subkey CF
//! (`rest` = member, value = the order-preserving 8-byte score) for point
//! lookups and member-ordered walks, and in the score CF (`rest` = score
//! bytes followed by the member, empty value) for walks in score order.
//! Score and lex ranges are seeks on these; nothing here loads a whole
//! set into memory except where a reply needs it. There is no rank index:
//! ZRANK and rank windows count entries from the nearer end of the set,
//! and ZCOUNT/ZLEXCOUNT walk their range, so these cost O(distance), not
//! O(log N) as in Redis.
//!
//! Also home of the score helpers shared with the geo commands: Redis's
//! float parsing ([`parse_score`], [`parse_range_float`]) and printing
//! ([`format_score`]).

use std::collections::HashMap;

use rocksdb::WriteBatch;
use thiserror::Error;

use super::composite::SubkeyIter;
use super::random::Rng;
use super::{Db, TypeError, TypeResult};
use crate::storage::metadata::{Composite, DataType};
use crate::storage::subkeys::{decode_score, encode_score};
use crate::storage::Cf;

/// (member, score) pairs, as popped, picked or collected for a reply.
pub type ScoredMembers = Vec<(Vec<u8>, f64)>;

/// Members written or removed per write batch by operations whose size a
/// client decides (range removals, stores), so memory stays bounded.
const BATCH_MEMBERS: usize = 512;

// ---------------------------------------------------------------------------
// Scores: parsing and printing like Redis 7.0.
// ---------------------------------------------------------------------------

/// Parses a float the way C's `strtod` reads it (decimal or hexadecimal,
/// `inf`/`infinity`, optional sign); returns the value and whether it
/// overflowed or underflowed to zero. `None` when the whole text is not
/// one number.
fn strtod_full(text: &[u8]) -> Option<(f64, bool)> {
    let (neg, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (value, range_err) = if lower == b"inf" || lower == b"infinity" {
        (f64::INFINITY, false)
    } else if lower.starts_with(b"0x") {
        parse_hex_float(&lower[2..])?
    } else {
        // Digits, one optional dot, an optional exponent: nothing else
        // (Rust's parser would also take "nan", "inf" and friends).
        let mut seen_digit = false;
        let mut nonzero = false;
        let mut i = 0;
        let mut seen_dot = false;
        while i < lower.len() {
            match lower[i] {
                b'0'..=b'9' => {
                    seen_digit = true;
                    nonzero |= lower[i] != b'0';
                }
                b'.' if !seen_dot => seen_dot = true,
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return None;
        }
        if i < lower.len() {
            if lower[i] != b'e' {
                return None;
            }
            let mut j = i + 1;
            if matches!(lower.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if j >= lower.len() || !lower[j..].iter().all(u8::is_ascii_digit) {
                return None;
            }
        }
        let v: f64 = std::str::from_utf8(&lower).ok()?.parse().ok()?;
        let err = v.is_infinite() || (v == 0.0 && nonzero);
        (v, err)
    };
    Some((if neg { -value } else { value }, range_err))
}

/// The part of a hexadecimal float after `0x`: hex digits with an optional
/// dot, then an optional binary exponent `p[+-]N`.
fn parse_hex_float(s: &[u8]) -> Option<(f64, bool)> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut digits = 0;
    let mut nonzero = false;
    let mut seen_dot = false;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !seen_dot {
            seen_dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            digits += 1;
            nonzero |= d != 0;
            if mant >> 56 == 0 {
                mant = mant * 16 + d as u64;
                if seen_dot {
                    exp -= 4;
                }
            } else if !seen_dot {
                // Too many digits to keep: count them in the exponent.
                exp += 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() {
        if s[i] != b'p' {
            return None;
        }
        let rest = &s[i + 1..];
        let (neg, num) = match rest.first() {
            Some(b'-') => (true, &rest[1..]),
            Some(b'+') => (false, &rest[1..]),
            _ => (false, rest),
        };
        if num.is_empty() || !num.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut e: i64 = 0;
        for &d in num {
            e = (e * 10 + (d - b'0') as i64).min(1 << 20);
        }
        exp += if neg { -e } else { e };
    }
    let exp = exp.clamp(-4000, 4000) as i32;
    // Scale in steps so intermediate powers of two stay finite.
    let mut v = mant as f64;
    let mut left = exp;
    while left != 0 {
        let step = left.clamp(-1000, 1000);
        v *= 2f64.powi(step);
        left -= step;
    }
    let err = v.is_infinite() || (v == 0.0 && nonzero);
    Some((v, err))
}

/// Parses a score argument like Redis's ZADD/ZINCRBY do: the whole text
/// must be a number (decimal, hexadecimal or `[+-]inf[inity]`), without
/// leading spaces, not NaN, and not out of the double range.
pub fn parse_score(text: &[u8]) -> Option<f64> {
    if text
        .first()
        .is_none_or(|c| c.is_ascii_whitespace() || *c == 0x0b)
    {
        return None;
    }
    match strtod_full(text)? {
        (v, false) if !v.is_nan() => Some(v),
        _ => None,
    }
}

/// Parses a score range bound (after any `(`) like Redis does: leading
/// white space is skipped and out-of-range values saturate.
pub fn parse_range_float(text: &[u8]) -> Option<f64> {
    let start = text
        .iter()
        .position(|c| !(c.is_ascii_whitespace() || *c == 0x0b))
        .unwrap_or(text.len());
    let (v, _) = strtod_full(&text[start..])?;
    (!v.is_nan()).then_some(v)
}

/// Formats a score the way Redis 7.0 replies with it (`%.17g`): `inf`,
/// `-inf`, integers without a fraction, 17 significant digits otherwise
/// (`0.1` prints as `0.10000000000000001`).
pub fn format_score(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{:.16e}", d);
    let Some((mant, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..17).contains(&exp) {
        let mant = trim_fraction(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let prec = (16 - exp) as usize;
        trim_fraction(&format!("{:.*}", prec, d)).to_string()
    }
}

/// Drops trailing zeros of a fraction, and the dot when nothing is left.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

// ---------------------------------------------------------------------------
// Ranges.
// ---------------------------------------------------------------------------

/// A score interval with inclusive or exclusive ends (`(1.5`, `+inf`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// Lower end.
    pub min: f64,
    /// True when `min` itself is excluded.
    pub min_ex: bool,
    /// Upper end.
    pub max: f64,
    /// True when `max` itself is excluded.
    pub max_ex: bool,
}

impl ScoreRange {
    /// Both ends inclusive.
    pub fn inclusive(min: f64, max: f64) -> ScoreRange {
        ScoreRange {
            min,
            min_ex: false,
            max,
            max_ex: false,
        }
    }

    /// Parses `min` and `max` as ZRANGEBYSCORE takes them; `None` when
    /// either is not a float.
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, min_ex) = parse_score_bound(min)?;
        let (max, max_ex) = parse_score_bound(max)?;
        Some(ScoreRange {
            min,
            min_ex,
            max,
            max_ex,
        })
    }

    /// True when `s` is above the lower end.
    pub fn gte_min(&self, s: f64) -> bool {
        if self.min_ex {
            s > self.min
        } else {
            s >= self.min
        }
    }

    /// True when `s` is below the upper end.
    pub fn lte_max(&self, s: f64) -> bool {
        if self.max_ex {
            s < self.max
        } else {
            s <= self.max
        }
    }

    /// True when no score can be inside.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_ex || self.max_ex))
    }
}

fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg.split_first() {
        Some((b'(', rest)) => Some((parse_range_float(rest)?, true)),
        _ => Some((parse_range_float(arg)?, false)),
    }
}

/// One end of a lex range (ZRANGEBYLEX's, also HRANGEBYLEX's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    NegInf,
    /// `+`: above every member.
    PosInf,
    /// `[member`.
    Incl(Vec<u8>),
    /// `(member`.
    Excl(Vec<u8>),
}

impl LexBound {
    /// Parses `-`, `+`, `[m` or `(m`; `None` otherwise.
    pub fn parse(arg: &[u8]) -> Option<LexBound> {
        match arg.split_first()? {
            (b'-', []) => Some(LexBound::NegInf),
            (b'+', []) => Some(LexBound::PosInf),
            (b'[', m) => Some(LexBound::Incl(m.to_vec())),
            (b'(', m) => Some(LexBound::Excl(m.to_vec())),
            _ => None,
        }
    }

    /// True when `m` is not below this bound used as a minimum.
    pub fn above_min(&self, m: &[u8]) -> bool {
        match self {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Incl(b) => m >= b.as_slice(),
            LexBound::Excl(b) => m > b.as_slice(),
        }
    }

    /// True when `m` is not above this bound used as a maximum.
    pub fn below_max(&self, m: &[u8]) -> bool {
        match self {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(b) => m <= b.as_slice(),
            LexBound::Excl(b) => m < b.as_slice(),
        }
    }
}

/// A member interval for the `*BYLEX` commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
}

impl LexRange {
    /// Parses `min` and `max`; `None` when either is malformed.
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    /// True when `m` is at or above the lower end.
    pub fn gte_min(&self, m: &[u8]) -> bool {
        self.min.above_min(m)
    }

    /// True when `m` is at or below the upper end.
    pub fn lte_max(&self, m: &[u8]) -> bool {
        self.max.below_max(m)
    }

    /// True when no member can be inside.
    pub fn is_empty(&self) -> bool {
        match (&self.min, &self.max) {
            (LexBound::PosInf, _) | (_, LexBound::NegInf) => true,
            (LexBound::NegInf, _) | (_, LexBound::PosInf) => false,
            (LexBound::Incl(a), LexBound::Incl(b)) => a > b,
            (LexBound::Incl(a) | LexBound::Excl(a), LexBound::Incl(b) | LexBound::Excl(b)) => {
                a >= b
            }
        }
    }
}

// ---------------------------------------------------------------------------
// ZADD.
// ---------------------------------------------------------------------------

/// ZADD options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZAddFlags {
    /// Only add new members.
    pub nx: bool,
    /// Only update existing members.
    pub xx: bool,
    /// Only update when the new score is greater.
    pub gt: bool,
    /// Only update when the new score is less.
    pub lt: bool,
    /// Count changed members too, not only added ones.
    pub ch: bool,
    /// Add the score to the current one (ZINCRBY-like).
    pub incr: bool,
}

/// What ZADD did: the count it replies with (added, or changed with CH),
/// or with INCR the new score (None when NX/XX/GT/LT stopped it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ZAddReply {
    /// Members added (plus updated with CH).
    Count(i64),
    /// The new score with INCR, `None` when a condition stopped it.
    Score(Option<f64>),
}

/// A sorted-set failure: a data-type error, or an increment that gave NaN.
#[derive(Debug, Error)]
pub enum ZsetError {
    /// Wrong type, storage failure...
    #[error(transparent)]
    Type(#[from] TypeError),
    /// `inf + -inf` and the like.
    #[error("ERR resulting score is not a number (NaN)")]
    NanScore,
}

impl From<crate::storage::StorageError> for ZsetError {
    fn from(e: crate::storage::StorageError) -> Self {
        ZsetError::Type(e.into())
    }
}

impl From<rocksdb::Error> for ZsetError {
    fn from(e: rocksdb::Error) -> Self {
        ZsetError::Type(e.into())
    }
}

/// What [`Db::stage_member`] does with a member's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Write them.
    Put,
    /// Delete them.
    Delete,
}

/// The member part of a score-CF `rest`.
fn score_rest_member(rest: &[u8]) -> &[u8] {
    rest.get(8..).unwrap_or(&[])
}

/// The score part of a score-CF `rest`.
fn score_rest_score(rest: &[u8]) -> f64 {
    decode_score(rest).unwrap_or(0.0)
}

/// A score-CF `rest` for (score, member).
fn score_rest(score: f64, member: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(8 + member.len());
    r.extend_from_slice(&encode_score(score));
    r.extend_from_slice(member);
    r
}

/// The 8-byte prefix of the first score above `score` (`None` past +inf
/// and NaN encodings, which never occur).
fn next_score_prefix(score: f64) -> Option<[u8; 8]> {
    u64::from_be_bytes(encode_score(score))
        .checked_add(1)
        .map(u64::to_be_bytes)
}

impl<'a> Db<'a> {
    /// The live sorted set at `key`, `None` when absent; WRONGTYPE when
    /// another type.
    pub fn zset_meta(&self, key: &[u8]) -> TypeResult<Option<Composite>> {
        self.read_composite(key, DataType::ZSet)
    }

    /// Stages the two records of (member, score) in set version
    /// `version`: the member's subkey (value: the encoded score) and its
    /// score-CF entry (value: empty); writes or deletes them as `op` says.
    fn stage_member(
        &self,
        op: Stage,
        batch: &mut WriteBatch,
        key: &[u8],
        version: u64,
        member: &[u8],
        score: f64,
    ) {
        let encoded = encode_score(score);
        let records: [(Cf, Vec<u8>, &[u8]); 2] = [
            (Cf::Subkey, self.subkey(key, version, member), &encoded),
            (
                Cf::ZsetScore,
                self.subkey(key, version, &score_rest(score, member)),
                b"",
            ),
        ];
        for (cf, subkey, value) in records {
            let cf = self.storage.cf(cf);
            match op {
                Stage::Put => batch.put_cf(cf, subkey, value),
                Stage::Delete => batch.delete_cf(cf, subkey),
            }
        }
    }

    /// The score of `member` in the set version `version`.
    fn member_score(&self, key: &[u8], version: u64, member: &[u8]) -> TypeResult<Option<f64>> {
        Ok(self
            .get_subkey(Cf::Subkey, key, version, member)?
            .and_then(|v| decode_score(&v)))
    }

    /// ZADD (and ZINCRBY through `flags.incr`). Option conflicts are the
    /// caller's to reject; with INCR a NaN result is an error.
    pub fn zadd_checked(
        &self,
        key: &[u8],
        flags: ZAddFlags,
        items: &[(f64, &[u8])],
    ) -> Result<ZAddReply, ZsetError> {
        let _guard = self.storage.locks().lock(&[key]);
        let existing = self.zset_meta(key)?;
        if existing.is_none() && flags.xx {
            // Nothing to update, and nothing may be created.
            return Ok(if flags.incr {
                ZAddReply::Score(None)
            } else {
                ZAddReply::Count(0)
            });
        }
        let mut meta = match existing {
            Some(m) => m,
            None => Composite::new(DataType::ZSet, self.storage.next_version()),
        };
        let mut batch = WriteBatch::default();
        // What this command already did to a member, for repeated members.
        let mut pending: HashMap<&[u8], f64> = HashMap::new();
        let (mut added, mut updated) = (0i64, 0i64);
        let mut last_score = None;
        for &(score, member) in items {
            let current = match pending.get(member) {
                Some(s) => Some(*s),
                None => self.member_score(key, meta.version, member)?,
            };
            last_score = None;
            match current {
                Some(cur) => {
                    if flags.nx {
                        continue;
                    }
                    let new = if flags.incr {
                        let n = cur + score;
                        if n.is_nan() {
                            return Err(ZsetError::NanScore);
                        }
                        n
                    } else {
                        score
                    };
                    if (flags.gt && new <= cur) || (flags.lt && new >= cur) {
                        continue;
                    }
                    last_score = Some(new);
                    if new != cur {
                        self.stage_member(
                            Stage::Delete,
                            &mut batch,
                            key,
                            meta.version,
                            member,
                            cur,
                        );
                        self.stage_member(Stage::Put, &mut batch, key, meta.version, member, new);
                        pending.insert(member, new);
                        updated += 1;
                    }
                }
                None => {
                    if flags.xx {
                        continue;
                    }
                    self.stage_member(Stage::Put, &mut batch, key, meta.version, member, score);
                    pending.insert(member, score);
                    meta.size += 1;
                    added += 1;
                    last_score = Some(score);
                }
            }
        }
        if added + updated > 0 {
            self.stage_composite(&mut batch, key, &meta);
            self.storage.write(batch)?;
        }
        Ok(if flags.incr {
            ZAddReply::Score(last_score)
        } else {
            ZAddReply::Count(added + if flags.ch { updated } else { 0 })
        })
    }

    /// ZADD. Like [`Db::zadd_checked`]; a NaN increment (only possible with
    /// INCR) is reported as [`TypeError::NanOrInfinity`].
    pub fn zadd(
        &self,
        key: &[u8],
        flags: ZAddFlags,
        items: &[(f64, &[u8])],
    ) -> TypeResult<ZAddReply> {
        self.zadd_checked(key, flags, items).map_err(|e| match e {
            ZsetError::Type(t) => t,
            ZsetError::NanScore => TypeError::NanOrInfinity,
        })
    }

    /// ZSCORE: the member's score, `None` when the key or member is missing.
    pub fn zscore(&self, key: &[u8], member: &[u8]) -> TypeResult<Option<f64>> {
        match self.zset_meta(key)? {
            Some(meta) => self.member_score(key, meta.version, member),
            None => Ok(None),
        }
    }

    /// ZMSCORE: each member's score (one read of the metadata).
    pub fn zmscore(&self, key: &[u8], members: &[&[u8]]) -> TypeResult<Vec<Option<f64>>> {
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(vec![None; members.len()]);
        };
        members
            .iter()
            .map(|m| self.member_score(key, meta.version, m))
            .collect()
    }

    /// ZCARD.
    pub fn zcard(&self, key: &[u8]) -> TypeResult<i64> {
        Ok(self.zset_meta(key)?.map_or(0, |m| m.size as i64))
    }

    /// ZREM: removes the members, returns how many were there.
    pub fn zrem(&self, key: &[u8], members: &[&[u8]]) -> TypeResult<i64> {
        let removed =
            self.delete_subkeys_with(key, DataType::ZSet, members, |batch, version, m, value| {
                match decode_score(value) {
                    Some(score) => {
                        self.stage_member(Stage::Delete, batch, key, version, m, score);
                        true
                    }
                    None => false,
                }
            })?;
        Ok(removed as i64)
    }

    // -----------------------------------------------------------------------
    // Ordered walks.
    // -----------------------------------------------------------------------

    /// Walks the members of set version `meta` in `range` in score order
    /// (descending with `rev`), calling `f` until it returns false.
    pub fn zwalk_score(
        &self,
        key: &[u8],
        meta: &Composite,
        range: &ScoreRange,
        rev: bool,
        f: impl FnMut(&[u8], f64) -> bool,
    ) -> TypeResult<()> {
        if range.is_empty() {
            return Ok(());
        }
        let mut it = self.subkeys(Cf::ZsetScore, key, meta.version);
        if !rev {
            it.seek(&encode_score(range.min));
        } else {
            seek_last_with_score_at_most(&mut it, range.max);
        }
        type Check = fn(&ScoreRange, f64) -> bool;
        let (near_ok, far_ok): (Check, Check) = if rev {
            (ScoreRange::lte_max, ScoreRange::gte_min)
        } else {
            (ScoreRange::gte_min, ScoreRange::lte_max)
        };
        // Skip what lies beyond the near bound (an excluded end).
        while it.valid() && !near_ok(range, score_rest_score(it.rest())) {
            it.step(!rev);
        }
        walk_score_cf(&mut it, rev, |_, s| far_ok(range, s), f);
        it.status()
    }

    /// Visits (member, score) with min <= score <= max in score order
    /// (inclusive bounds) until `f` returns false; a seek on the score CF.
    pub fn zscan_score_range(
        &self,
        key: &[u8],
        min: f64,
        max: f64,
        f: impl FnMut(&[u8], f64) -> bool,
    ) -> TypeResult<()> {
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(());
        };
        self.zwalk_score(key, &meta, &ScoreRange::inclusive(min, max), false, f)
    }

    /// Walks the members in a lex range (descending with `rev`), calling
    /// `f` until it returns false.
    ///
    /// Redis defines lex ranges on sets whose members all share one score;
    /// there a walk is one seek. With mixed scores it answers what Redis
    /// answers for small (listpack-encoded) sets: nothing unless the first
    /// member (in score order) is not above the range and the last one not
    /// below it; otherwise from the first member in score order inside the
    /// near bound (found with one seek per distinct score) on, while
    /// members stay inside the far bound.
    pub fn zwalk_lex(
        &self,
        key: &[u8],
        meta: &Composite,
        range: &LexRange,
        rev: bool,
        f: impl FnMut(&[u8], f64) -> bool,
    ) -> TypeResult<()> {
        if range.is_empty() {
            return Ok(());
        }
        let mut it = self.subkeys(Cf::ZsetScore, key, meta.version);
        // Like Redis: nothing when the last member (in score order) is
        // below the range or the first one above it. With one score for
        // all members this only saves the walk.
        it.seek_to_last();
        if !it.valid() || !range.gte_min(score_rest_member(it.rest())) {
            return it.status();
        }
        it.seek_to_first();
        if !it.valid() || !range.lte_max(score_rest_member(it.rest())) {
            return it.status();
        }
        seek_lex_edge(&mut it, range, !rev);
        let far_ok = if rev {
            LexRange::gte_min
        } else {
            LexRange::lte_max
        };
        walk_score_cf(&mut it, rev, |m, _| far_ok(range, m), f);
        it.status()
    }

    /// Walks ranks `start..=stop` (0-based reply-order ranks from
    /// [`rank_window`]; counted from the top with `rev`), calling `f` with
    /// each member in reply order. Iterates from whichever end of the set
    /// is nearer; when that runs against the reply order the window is
    /// gathered and replayed backwards.
    pub fn zwalk_rank(
        &self,
        key: &[u8],
        meta: &Composite,
        start: u64,
        stop: u64,
        rev: bool,
        mut f: impl FnMut(&[u8], f64),
    ) -> TypeResult<()> {
        let size = meta.size;
        if start > stop || start >= size {
            return Ok(());
        }
        let stop = stop.min(size - 1);
        let (lo, hi) = if rev {
            (size - 1 - stop, size - 1 - start)
        } else {
            (start, stop)
        };
        let streams = nearer_front(size, lo, hi) != rev;
        let mut buf: Vec<(Vec<u8>, f64)> = Vec::new();
        self.walk_ranks_any_order(key, meta, lo, hi, |m, s| {
            if streams {
                f(m, s);
            } else {
                buf.push((m.to_vec(), s));
            }
            true
        })?;
        for (m, s) in buf.iter().rev() {
            f(m, *s);
        }
        Ok(())
    }

    /// Visits the ascending ranks `lo..=hi` from the nearer end of the set
    /// (so in descending order when that is the back) until `f` returns
    /// false.
    fn walk_ranks_any_order(
        &self,
        key: &[u8],
        meta: &Composite,
        lo: u64,
        hi: u64,
        mut f: impl FnMut(&[u8], f64) -> bool,
    ) -> TypeResult<()> {
        let size = meta.size;
        if lo > hi || lo >= size {
            return Ok(());
        }
        let hi = hi.min(size - 1);
        let mut it = self.subkeys(Cf::ZsetScore, key, meta.version);
        let forward = nearer_front(size, lo, hi);
        if forward {
            it.seek_to_first();
            for _ in 0..lo {
                if !it.valid() {
                    break;
                }
                it.next();
            }
        } else {
            it.seek_to_last();
            for _ in 0..(size - 1 - hi) {
                if !it.valid() {
                    break;
                }
                it.prev();
            }
        }
        let mut n = hi - lo + 1;
        while n > 0 && it.valid() {
            let rest = it.rest();
            if !f(score_rest_member(rest), score_rest_score(rest)) {
                break;
            }
            if forward {
                it.next();
            } else {
                it.prev();
            }
            n -= 1;
        }
        it.status()
    }

    /// ZRANK / ZREVRANK: the member's rank and score. Counts from both ends
    /// at once and stops at the nearer one.
    pub fn zrank(&self, key: &[u8], member: &[u8], rev: bool) -> TypeResult<Option<(u64, f64)>> {
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(None);
        };
        let Some(score) = self.member_score(key, meta.version, member)? else {
            return Ok(None);
        };
        let target = score_rest(score, member);
        let mut front = self.subkeys(Cf::ZsetScore, key, meta.version);
        let mut back = self.subkeys(Cf::ZsetScore, key, meta.version);
        front.seek_to_first();
        back.seek_to_last();
        let mut steps = 0u64;
        let rank = loop {
            if !front.valid() || !back.valid() {
                front.status()?;
                back.status()?;
                // The member vanished under us (no snapshot): treat as absent.
                return Ok(None);
            }
            if front.rest() == target.as_slice() {
                break steps;
            }
            if back.rest() == target.as_slice() {
                break meta.size.saturating_sub(1 + steps);
            }
            front.next();
            back.prev();
            steps += 1;
            if steps > meta.size {
                return Ok(None);
            }
        };
        let rank = if rev {
            meta.size.saturating_sub(1 + rank)
        } else {
            rank
        };
        Ok(Some((rank, score)))
    }

    /// Counts the members in a score range (walks them).
    pub fn zcount(&self, key: &[u8], range: &ScoreRange) -> TypeResult<i64> {
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(0);
        };
        let mut n = 0;
        self.zwalk_score(key, &meta, range, false, |_, _| {
            n += 1;
            true
        })?;
        Ok(n)
    }

    /// Counts the members in a lex range (walks them).
    pub fn zlexcount(&self, key: &[u8], range: &LexRange) -> TypeResult<i64> {
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(0);
        };
        let mut n = 0;
        self.zwalk_lex(key, &meta, range, false, |_, _| {
            n += 1;
            true
        })?;
        Ok(n)
    }

    // -----------------------------------------------------------------------
    // Stores.
    // -----------------------------------------------------------------------

    /// Replaces `dst` with exactly these (member, score) pairs, written in
    /// bounded batches under a fresh version (subkeys first, then
    /// metadata); empty input deletes dst. Returns the new cardinality.
    /// Members must be distinct.
    pub fn zset_store(
        &self,
        dst: &[u8],
        pairs: impl Iterator<Item = (Vec<u8>, f64)>,
    ) -> TypeResult<i64> {
        self.zset_store_try(dst, pairs.map(Ok))
    }

    /// [`Db::zset_store`] from a fallible source: the first error stops the
    /// store before `dst` changes (what was written stays invisible).
    pub fn zset_store_try(
        &self,
        dst: &[u8],
        pairs: impl Iterator<Item = TypeResult<(Vec<u8>, f64)>>,
    ) -> TypeResult<i64> {
        let mut w = self.zset_store_writer(dst);
        for pair in pairs {
            let (member, score) = pair?;
            w.push(&member, score)?;
        }
        w.finish()
    }

    /// A writer that builds a new value of `dst` one member at a time (for
    /// results produced by a callback walk); see [`Db::zset_store`].
    pub fn zset_store_writer<'d>(&'d self, dst: &'d [u8]) -> ZStoreWriter<'d, 'a> {
        ZStoreWriter {
            db: self,
            dst,
            version: self.storage.next_version(),
            batch: WriteBatch::default(),
            in_batch: 0,
            size: 0,
        }
    }

    // -----------------------------------------------------------------------
    // Removals.
    // -----------------------------------------------------------------------

    /// ZREMRANGEBYSCORE: removes the members in `range`; returns how many.
    pub fn zrem_range_score(&self, key: &[u8], range: &ScoreRange) -> TypeResult<i64> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(0);
        };
        let mut rm = Remover::new(self, key, meta.clone());
        self.zwalk_score(key, &meta, range, false, |m, s| rm.remove(m, s))?;
        rm.finish().map(|(n, _)| n)
    }

    /// ZREMRANGEBYLEX: removes the members in `range`; returns how many.
    pub fn zrem_range_lex(&self, key: &[u8], range: &LexRange) -> TypeResult<i64> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(0);
        };
        let mut rm = Remover::new(self, key, meta.clone());
        self.zwalk_lex(key, &meta, range, false, |m, s| rm.remove(m, s))?;
        rm.finish().map(|(n, _)| n)
    }

    /// ZREMRANGEBYRANK with Redis's index arguments (negative from the
    /// end); returns how many were removed.
    pub fn zrem_range_rank(&self, key: &[u8], start: i64, stop: i64) -> TypeResult<i64> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(0);
        };
        let Some((lo, hi)) = rank_window(meta.size, start, stop) else {
            return Ok(0);
        };
        let mut rm = Remover::new(self, key, meta.clone());
        self.walk_ranks_any_order(key, &meta, lo, hi, |m, s| rm.remove(m, s))?;
        rm.finish().map(|(n, _)| n)
    }

    /// ZPOPMIN / ZPOPMAX: removes and returns up to `count` members from
    /// the low (or, with `max`, high) end, in pop order.
    pub fn zpop(&self, key: &[u8], count: u64, max: bool) -> TypeResult<Vec<(Vec<u8>, f64)>> {
        let _guard = self.storage.locks().lock(&[key]);
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(Vec::new());
        };
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut rm = Remover::new(self, key, meta.clone());
        rm.keep = true;
        let mut left = count;
        let all = ScoreRange::inclusive(f64::NEG_INFINITY, f64::INFINITY);
        self.zwalk_score(key, &meta, &all, max, |m, s| {
            left -= 1;
            rm.remove(m, s) && left > 0
        })?;
        rm.finish().map(|(_, popped)| popped)
    }

    // -----------------------------------------------------------------------
    // Random members.
    // -----------------------------------------------------------------------

    /// ZRANDMEMBER without a count: one random member and its score.
    pub fn zrandmember_one(&self, key: &[u8]) -> TypeResult<Option<(Vec<u8>, f64)>> {
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(None);
        };
        if meta.size == 0 {
            return Ok(None);
        }
        let r = Rng::new().below(meta.size);
        let mut out = None;
        self.zwalk_rank(key, &meta, r, r, false, |m, s| out = Some((m.to_vec(), s)))?;
        Ok(out)
    }

    /// ZRANDMEMBER with a count: `count > 0` distinct members in random
    /// order (the whole set, highest score first, when it is not bigger
    /// than `count`), `count < 0` that many members with repeats.
    /// One walk of the set up to the highest picked rank; memory follows
    /// the reply, not the set.
    pub fn zrandmember(&self, key: &[u8], count: i64) -> TypeResult<Vec<(Vec<u8>, f64)>> {
        let Some(meta) = self.zset_meta(key)? else {
            return Ok(Vec::new());
        };
        let size = meta.size;
        if count == 0 || size == 0 {
            return Ok(Vec::new());
        }
        let mut rng = Rng::new();
        let all = ScoreRange::inclusive(f64::NEG_INFINITY, f64::INFINITY);
        if count > 0 && count as u64 >= size {
            // The whole set, highest score first, as Redis replies then.
            let mut out = Vec::with_capacity(size.min(1 << 16) as usize);
            self.zwalk_score(key, &meta, &all, true, |m, s| {
                out.push((m.to_vec(), s));
                true
            })?;
            return Ok(out);
        }
        // The ranks to pick: distinct (Floyd's sampling) or with repeats.
        let mut ranks: Vec<u64> = if count > 0 {
            let want = count as u64;
            let mut chosen = std::collections::HashSet::with_capacity(want as usize);
            for j in (size - want)..size {
                let t = rng.below(j + 1);
                if !chosen.insert(t) {
                    chosen.insert(j);
                }
            }
            chosen.into_iter().collect()
        } else {
            (0..count.unsigned_abs()).map(|_| rng.below(size)).collect()
        };
        ranks.sort_unstable();
        let mut out = Vec::with_capacity(ranks.len());
        let mut next = 0usize;
        let mut rank = 0u64;
        self.zwalk_score(key, &meta, &all, false, |m, s| {
            while next < ranks.len() && ranks[next] == rank {
                out.push((m.to_vec(), s));
                next += 1;
            }
            rank += 1;
            next < ranks.len()
        })?;
        rng.shuffle(&mut out);
        Ok(out)
    }

    // -----------------------------------------------------------------------
    // Set operations.
    // -----------------------------------------------------------------------

    /// Reads the inputs of ZUNION/ZINTER/ZDIFF/ZINTERCARD: each key is a
    /// sorted set, a plain set (every member scores 1) or missing;
    /// WRONGTYPE for anything else.
    pub fn zset_inputs(&self, keys: &[&[u8]], weights: &[f64]) -> TypeResult<Vec<ZInput>> {
        keys.iter()
            .enumerate()
            .map(|(i, &key)| {
                let meta = match self.read_meta(key)? {
                    None => None,
                    Some(m) if matches!(m.header.dtype, DataType::ZSet | DataType::Set) => {
                        Composite::decode(&m.raw)
                    }
                    Some(_) => return Err(TypeError::WrongType),
                };
                Ok(ZInput {
                    key: key.to_vec(),
                    meta,
                    weight: weights.get(i).copied().unwrap_or(1.0),
                })
            })
            .collect()
    }

    /// The score an input gives a member: its stored score, or 1 for a
    /// plain set; `None` when it does not hold the member.
    fn input_score(&self, input: &ZInput, member: &[u8]) -> TypeResult<Option<f64>> {
        let Some(meta) = &input.meta else {
            return Ok(None);
        };
        let v = self.get_subkey(Cf::Subkey, &input.key, meta.version, member)?;
        Ok(v.map(|v| stored_score(meta.dtype, &v)))
    }

    /// The members of the union of `inputs` in member order, each with
    /// its weighted, aggregated score: a k-way merge of the inputs'
    /// member-ordered subkeys, so memory stays O(inputs).
    pub fn zunion_iter<'i>(&self, inputs: &'i [ZInput], agg: Aggregate) -> ZUnionIter<'i, 'a> {
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by_key(|&i| inputs[i].len());
        let iters = order
            .iter()
            .map(|&i| {
                let input = &inputs[i];
                input.meta.as_ref().map(|meta| {
                    let mut it = self.subkeys(Cf::Subkey, &input.key, meta.version);
                    it.seek_to_first();
                    (it, input)
                })
            })
            .collect();
        ZUnionIter {
            iters,
            agg,
            done: false,
        }
    }

    /// The members of the intersection in the smallest input's member
    /// order with their aggregated scores: iterates the smallest input and
    /// probes the others.
    pub fn zinter_iter<'i>(&self, inputs: &'i [ZInput], agg: Aggregate) -> ZProbeIter<'i, 'a> {
        let mut order: Vec<&ZInput> = inputs.iter().collect();
        order.sort_by_key(|i| i.len());
        self.probe_iter(order, ProbeMode::Inter(agg))
    }

    /// The members of the first input that no other input holds, with the
    /// first input's scores (ZDIFF ignores weights).
    pub fn zdiff_iter<'i>(&self, inputs: &'i [ZInput]) -> ZProbeIter<'i, 'a> {
        self.probe_iter(inputs.iter().collect(), ProbeMode::Diff)
    }

    fn probe_iter<'i>(&self, order: Vec<&'i ZInput>, mode: ProbeMode) -> ZProbeIter<'i, 'a> {
        let base = order
            .first()
            .and_then(|first| first.meta.as_ref().map(|m| (first, m)))
            .map(|(first, meta)| {
                let mut it = self.subkeys(Cf::Subkey, &first.key, meta.version);
                it.seek_to_first();
                it
            });
        // An intersection with a missing input is empty.
        let empty = matches!(mode, ProbeMode::Inter(_)) && order.iter().any(|i| i.meta.is_none());
        ZProbeIter {
            db: *self,
            base: if empty { None } else { base },
            order,
            mode,
        }
    }
}

/// True when the ascending window `lo..=hi` is reached sooner from the
/// front of a set of `size` members than from its back.
fn nearer_front(size: u64, lo: u64, hi: u64) -> bool {
    lo <= size.saturating_sub(1).saturating_sub(hi)
}

/// The clamped rank window `(start, stop)` for Redis's `start stop` index
/// arguments (negative counts from the end; ranks count from the top for
/// the REV commands), `None` when empty.
pub fn rank_window(size: u64, start: i64, stop: i64) -> Option<(u64, u64)> {
    let len = size as i128;
    let mut start = start as i128;
    let mut stop = stop as i128;
    if start < 0 {
        start += len;
    }
    if stop < 0 {
        stop += len;
    }
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as u64, stop as u64))
}

/// How ZUNION/ZINTER combine one member's weighted scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aggregate {
    /// Add them (`inf + -inf` gives 0, like Redis).
    #[default]
    Sum,
    /// Keep the smallest.
    Min,
    /// Keep the largest.
    Max,
}

impl Aggregate {
    /// Combines an accumulated score with the next one the way Redis
    /// does: a NaN sum restarts from 0, and MIN/MAX keep the accumulated
    /// score unless `v` compares strictly smaller/greater (so a NaN `v`,
    /// or `-0` against `0`, changes nothing).
    pub fn apply(self, acc: f64, v: f64) -> f64 {
        match self {
            Aggregate::Sum => {
                let s = acc + v;
                if s.is_nan() {
                    0.0
                } else {
                    s
                }
            }
            Aggregate::Min => {
                if v < acc {
                    v
                } else {
                    acc
                }
            }
            Aggregate::Max => {
                if v > acc {
                    v
                } else {
                    acc
                }
            }
        }
    }
}

/// One input of a set operation.
#[derive(Debug, Clone)]
pub struct ZInput {
    /// The key.
    pub key: Vec<u8>,
    /// Its metadata (sorted set or plain set), `None` when missing.
    pub meta: Option<Composite>,
    /// The WEIGHTS factor.
    pub weight: f64,
}

impl ZInput {
    /// Cardinality (0 when missing).
    pub fn len(&self) -> u64 {
        self.meta.as_ref().map_or(0, |m| m.size)
    }

    /// True when missing or empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A stored score scaled by the weight (NaN, from `0 * inf`, is 0).
    fn weighted(&self, score: f64) -> f64 {
        let v = score * self.weight;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    }
}

/// The score a stored subkey value means for `dtype` (plain sets: 1).
fn stored_score(dtype: DataType, value: &[u8]) -> f64 {
    if dtype == DataType::ZSet {
        decode_score(value).unwrap_or(0.0)
    } else {
        1.0
    }
}

/// Iterator of [`Db::zunion_iter`].
pub struct ZUnionIter<'i, 'a> {
    /// One iterator per input, in ascending cardinality order (`None`
    /// for missing inputs).
    iters: Vec<Option<(SubkeyIter<'a>, &'i ZInput)>>,
    agg: Aggregate,
    done: bool,
}

impl Iterator for ZUnionIter<'_, '_> {
    type Item = TypeResult<(Vec<u8>, f64)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut smallest: Option<Vec<u8>> = None;
        for (it, _) in self.iters.iter().flatten() {
            if let Err(e) = it.status() {
                self.done = true;
                return Some(Err(e));
            }
            if it.valid() && smallest.as_deref().is_none_or(|s| it.rest() < s) {
                smallest = Some(it.rest().to_vec());
            }
        }
        let Some(member) = smallest else {
            self.done = true;
            return None;
        };
        let mut acc: Option<f64> = None;
        for (it, input) in self.iters.iter_mut().flatten() {
            if it.valid() && it.rest() == member.as_slice() {
                let dtype = input.meta.as_ref().map_or(DataType::ZSet, |m| m.dtype);
                let v = input.weighted(stored_score(dtype, it.value()));
                acc = Some(match acc {
                    None => v,
                    Some(a) => self.agg.apply(a, v),
                });
                it.next();
            }
        }
        Some(Ok((member, acc.unwrap_or(0.0))))
    }
}

/// What a [`ZProbeIter`] keeps.
#[derive(Debug, Clone, Copy)]
enum ProbeMode {
    /// Members every input holds, scores aggregated.
    Inter(Aggregate),
    /// Members only the first input holds.
    Diff,
}

/// Iterator of [`Db::zinter_iter`] and [`Db::zdiff_iter`].
pub struct ZProbeIter<'i, 'a> {
    db: Db<'a>,
    base: Option<SubkeyIter<'a>>,
    order: Vec<&'i ZInput>,
    mode: ProbeMode,
}

impl ZProbeIter<'_, '_> {
    /// Decides the member under the base iterator.
    fn probe(&self, member: &[u8], value: &[u8]) -> TypeResult<Option<f64>> {
        let first = self.order[0];
        let dtype = first.meta.as_ref().map_or(DataType::ZSet, |m| m.dtype);
        let own = stored_score(dtype, value);
        match self.mode {
            ProbeMode::Inter(agg) => {
                let mut acc = first.weighted(own);
                for input in &self.order[1..] {
                    match self.db.input_score(input, member)? {
                        // Like Redis, only the first input's weighted score
                        // turns NaN (0 * inf) into 0; the others go into
                        // the aggregate as they are.
                        Some(s) => acc = agg.apply(acc, s * input.weight),
                        None => return Ok(None),
                    }
                }
                Ok(Some(acc))
            }
            ProbeMode::Diff => {
                for input in &self.order[1..] {
                    if self.db.input_score(input, member)?.is_some() {
                        return Ok(None);
                    }
                }
                Ok(Some(own))
            }
        }
    }
}

impl Iterator for ZProbeIter<'_, '_> {
    type Item = TypeResult<(Vec<u8>, f64)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let it = self.base.as_ref()?;
            if !it.valid() {
                let status = it.status();
                self.base = None;
                return status.err().map(Err);
            }
            let member = it.rest().to_vec();
            let value = it.value().to_vec();
            let result = self.probe(&member, &value);
            if let Some(it) = self.base.as_mut() {
                it.next();
            }
            match result {
                Ok(Some(score)) => return Some(Ok((member, score))),
                Ok(None) => continue,
                Err(e) => {
                    self.base = None;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Builds a new value of a destination key in bounded batches; see
/// [`Db::zset_store_writer`]. Nothing is visible until [`ZStoreWriter::finish`].
pub struct ZStoreWriter<'d, 'a> {
    db: &'d Db<'a>,
    dst: &'d [u8],
    version: u64,
    batch: WriteBatch,
    in_batch: usize,
    size: u64,
}

impl ZStoreWriter<'_, '_> {
    /// Adds one member (members must be distinct).
    pub fn push(&mut self, member: &[u8], score: f64) -> TypeResult<()> {
        self.db.stage_member(
            Stage::Put,
            &mut self.batch,
            self.dst,
            self.version,
            member,
            score,
        );
        self.size += 1;
        self.in_batch += 1;
        if self.in_batch >= BATCH_MEMBERS {
            self.db.storage.write(std::mem::take(&mut self.batch))?;
            self.in_batch = 0;
        }
        Ok(())
    }

    /// Writes the metadata (or deletes the key when nothing was pushed);
    /// returns the cardinality.
    pub fn finish(mut self) -> TypeResult<i64> {
        let db = self.db;
        let _guard = db.storage.locks().lock(&[self.dst]);
        if self.size == 0 {
            self.batch
                .delete_cf(db.storage.cf(Cf::Metadata), db.meta_key(self.dst));
        } else {
            let mut meta = Composite::new(DataType::ZSet, self.version);
            meta.size = self.size;
            db.stage_composite(&mut self.batch, self.dst, &meta);
        }
        db.storage.write(std::mem::take(&mut self.batch))?;
        Ok(self.size as i64)
    }
}

/// Removes members found by a walk, in batches that each update the
/// metadata too (every write leaves a consistent key). The caller holds
/// the key's lock.
struct Remover<'d, 'a> {
    db: &'d Db<'a>,
    key: &'d [u8],
    meta: Composite,
    batch: WriteBatch,
    pending: u64,
    removed: u64,
    /// Keep the removed pairs (ZPOP).
    keep: bool,
    kept: Vec<(Vec<u8>, f64)>,
    err: Option<TypeError>,
}

impl<'d, 'a> Remover<'d, 'a> {
    fn new(db: &'d Db<'a>, key: &'d [u8], meta: Composite) -> Self {
        Remover {
            db,
            key,
            meta,
            batch: WriteBatch::default(),
            pending: 0,
            removed: 0,
            keep: false,
            kept: Vec::new(),
            err: None,
        }
    }

    /// Stages one removal; false (stop walking) after a write failed.
    fn remove(&mut self, member: &[u8], score: f64) -> bool {
        self.db.stage_member(
            Stage::Delete,
            &mut self.batch,
            self.key,
            self.meta.version,
            member,
            score,
        );
        if self.keep {
            self.kept.push((member.to_vec(), score));
        }
        self.pending += 1;
        if self.pending >= BATCH_MEMBERS as u64 {
            if let Err(e) = self.flush() {
                self.err = Some(e);
                return false;
            }
        }
        true
    }

    fn flush(&mut self) -> TypeResult<()> {
        if self.pending == 0 {
            return Ok(());
        }
        self.meta.size = self.meta.size.saturating_sub(self.pending);
        self.db
            .stage_composite(&mut self.batch, self.key, &self.meta);
        self.db.storage.write(std::mem::take(&mut self.batch))?;
        self.removed += self.pending;
        self.pending = 0;
        Ok(())
    }

    fn finish(mut self) -> TypeResult<(i64, ScoredMembers)> {
        if let Some(e) = self.err.take() {
            return Err(e);
        }
        self.flush()?;
        Ok((self.removed as i64, self.kept))
    }
}

/// Positions `it` (a score-CF iterator) on the last entry whose score is
/// at most `max`, or invalid when there is none.
fn seek_last_with_score_at_most(it: &mut SubkeyIter<'_>, max: f64) {
    match next_score_prefix(max) {
        Some(next) => {
            it.seek(&next);
            if it.valid() {
                it.prev();
            } else {
                it.seek_to_last();
            }
        }
        None => it.seek_to_last(),
    }
}

/// Calls `f` with each (member, score) of a score-CF iterator from where it
/// stands, in score order (descending with `rev`), until `far_ok` rejects
/// an entry (the walk left the range) or `f` returns false.
fn walk_score_cf(
    it: &mut SubkeyIter<'_>,
    rev: bool,
    mut far_ok: impl FnMut(&[u8], f64) -> bool,
    mut f: impl FnMut(&[u8], f64) -> bool,
) {
    while it.valid() {
        let rest = it.rest();
        let (m, s) = (score_rest_member(rest), score_rest_score(rest));
        if !far_ok(m, s) || !f(m, s) {
            break;
        }
        it.step(!rev);
    }
}

/// Positions a score-CF iterator on the first entry (in score order) whose
/// member is inside `range`'s lower bound (`forward`), or on the last one
/// inside its upper bound (not `forward`), trying each distinct score with
/// one seek; invalid when none.
fn seek_lex_edge(it: &mut SubkeyIter<'_>, range: &LexRange, forward: bool) {
    let bound = if forward { &range.min } else { &range.max };
    if forward {
        it.seek_to_first();
    } else {
        it.seek_to_last();
    }
    while it.valid() {
        let score_bytes: [u8; 8] = match it.rest().get(..8).and_then(|b| b.try_into().ok()) {
            Some(b) => b,
            None => return,
        };
        let (m, excl) = match bound {
            LexBound::Incl(m) => (m, false),
            LexBound::Excl(m) => (m, true),
            // The open end on the side we start from: every member is in.
            LexBound::NegInf if forward => return,
            LexBound::PosInf if !forward => return,
            // The far open end: nothing is beyond it; make the iterator
            // invalid.
            LexBound::NegInf | LexBound::PosInf => {
                if forward {
                    it.seek_to_last();
                } else {
                    it.seek_to_first();
                }
                it.step(forward);
                return;
            }
        };
        let mut target = score_bytes.to_vec();
        target.extend_from_slice(m);
        if forward {
            it.seek(&target);
        } else {
            it.seek_for_prev(&target);
        }
        if excl && it.valid() && it.rest() == target {
            it.step(forward);
        }
        if !it.valid() {
            return;
        }
        if it.rest().get(..8) == Some(&score_bytes[..]) {
            return;
        }
        // Nothing in this score group is inside the bound: we now stand on
        // the nearest entry of the next group (in walk order); try that
        // group.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_redis_7_0() {
        for (v, s) in [
            (0.1, "0.10000000000000001"),
            (1.0, "1"),
            (2.5, "2.5"),
            (-3.0, "-3"),
            (1e17, "1e+17"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e300, "1.0000000000000001e+300"),
            (1e-300, "1e-300"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (1e16, "10000000000000000"),
        ] {
            assert_eq!(format_score(v), s, "{v}");
        }
    }

    #[test]
    fn parses_like_strtod() {
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"0x1p3"), Some(8.0));
        assert_eq!(parse_score(b"-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b".5"), Some(0.5));
        assert_eq!(parse_score(b"5."), Some(5.0));
        assert_eq!(parse_score(b"+1e+2"), Some(100.0));
        for bad in [
            &b"nan"[..],
            b"1e400",
            b"1e-400",
            b" 1",
            b"1 ",
            b"",
            b"0x",
            b"1_0",
            b"-nan",
            b"inFx",
            b".",
            b"1e",
        ] {
            assert_eq!(parse_score(bad), None, "{:?}", bad);
        }
        assert_eq!(parse_range_float(b" 1"), Some(1.0));
        assert_eq!(parse_range_float(b"1e400"), Some(f64::INFINITY));
    }
}
