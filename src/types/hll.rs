//! The HyperLogLog type: 16384 one-byte registers (p = 14, as Redis) kept in
//! 16 segments of 1024 registers, one subkey per segment (rest = segment
//! number as u64 BE; an absent segment is all zero). The metadata's size
//! stays 0. Register semantics are Redis's (MurmurHash64A with seed
//! 0xadc83b19, index = low 14 bits, value = 1 + trailing zeros of the other
//! 50 bits), and the cardinality estimate is the one Redis 7 uses (Ertl's
//! improved estimator), so the same elements give the same counts.

use rocksdb::WriteBatch;
use thiserror::Error;

use super::rdb::hyll;
use super::{Db, TypeError, TypeResult};
use crate::storage::metadata::{self, Composite, DataType};
use crate::storage::Cf;

/// Bits of the hash that pick the register.
pub const HLL_P: u32 = 14;
/// Number of registers.
pub const HLL_REGISTERS: usize = 1 << HLL_P;
/// Registers per stored segment.
pub const SEGMENT_LEN: usize = 1024;
/// Number of stored segments.
pub const SEGMENTS: usize = HLL_REGISTERS / SEGMENT_LEN;
/// Bits of the hash left for the run of zeros.
const HLL_Q: u32 = 64 - HLL_P;
/// Seed Redis hashes elements with.
const HASH_SEED: u64 = 0xadc8_3b19;
/// The bias-correction constant of the estimator for p = 14.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// A failure of a HyperLogLog command.
#[derive(Debug, Error)]
pub enum HllError {
    /// The key is a string (or bitmap) that holds no HyperLogLog.
    #[error("WRONGTYPE Key is not a valid HyperLogLog string value.")]
    NotHll,
    /// Anything else.
    #[error("{0}")]
    Type(#[from] TypeError),
}

impl From<crate::storage::StorageError> for HllError {
    fn from(e: crate::storage::StorageError) -> Self {
        HllError::Type(TypeError::Storage(e))
    }
}

/// Result of a HyperLogLog operation.
pub type HllResult<T> = Result<T, HllError>;

/// MurmurHash64A (Austin Appleby's 64-bit hash) over `data`, reading
/// 8-byte blocks little-endian whatever the host.
pub fn murmurhash64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let mut word = [0u8; 8];
        word.copy_from_slice(block);
        let mut k = u64::from_le_bytes(word);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element lands in and the value it proposes for it.
pub fn register_of(element: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(element, HASH_SEED);
    let index = (hash & (HLL_REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> HLL_P) | (1u64 << HLL_Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Ertl's sigma function (the correction for empty registers).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

/// Ertl's tau function (the correction for saturated registers).
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from a histogram of register values
/// (`histo[v]` = how many registers hold `v`).
pub fn estimate(histo: &[u32; 64]) -> u64 {
    let m = HLL_REGISTERS as f64;
    let q = HLL_Q as usize;
    let mut z = m * tau((m - histo[q + 1] as f64) / m);
    for j in (1..=q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The cardinality estimate of a full register array.
pub fn count_registers(regs: &[u8]) -> u64 {
    let mut histo = [0u32; 64];
    for &r in regs {
        histo[(r & 63) as usize] += 1;
    }
    estimate(&histo)
}

/// Segment number as the subkey rest.
fn segment_rest(seg: usize) -> [u8; 8] {
    (seg as u64).to_be_bytes()
}

impl Db<'_> {
    /// What `key` holds for an HLL command: `None` when absent; a string
    /// holding Redis's HYLL encoding (written with SET, say) is read as
    /// its registers; `NotHll` for any other string or a bitmap;
    /// WRONGTYPE for any other type (as Redis).
    fn hll_source(&self, key: &[u8]) -> HllResult<Option<HllSource>> {
        let Some(meta) = self.read_meta(key)? else {
            return Ok(None);
        };
        match meta.header.dtype {
            DataType::Hll => Composite::decode(&meta.raw)
                .map(|m| Some(HllSource::Stored(m)))
                .ok_or(HllError::NotHll),
            DataType::String => {
                let regs =
                    hyll::parse(metadata::string_value(&meta.raw)).ok_or(HllError::NotHll)?;
                Ok(Some(HllSource::Inline {
                    regs,
                    expire_ms: meta.header.expire_ms,
                }))
            }
            DataType::Bitmap => Err(HllError::NotHll),
            _ => Err(TypeError::WrongType.into()),
        }
    }

    /// Merges (max) the registers of `src` into `regs`.
    fn merge_source(&self, key: &[u8], src: &HllSource, regs: &mut [u8]) -> TypeResult<()> {
        match src {
            HllSource::Stored(meta) => {
                let mut scratch = vec![0u8; HLL_REGISTERS];
                self.read_registers(key, meta.version, &mut scratch)?;
                for (r, s) in regs.iter_mut().zip(&scratch) {
                    *r = (*r).max(*s);
                }
            }
            HllSource::Inline { regs: inline, .. } => {
                for (r, s) in regs.iter_mut().zip(inline) {
                    *r = (*r).max(*s);
                }
            }
        }
        Ok(())
    }

    /// Reads all registers of one HLL version into `regs` (16384 bytes).
    fn read_registers(&self, key: &[u8], version: u64, regs: &mut [u8]) -> TypeResult<()> {
        let mut it = self.subkeys(Cf::Subkey, key, version);
        it.seek_to_first();
        while it.valid() {
            let rest = it.rest();
            if rest.len() == 8 {
                let seg = u64::from_be_bytes(rest.try_into().unwrap_or([0xFF; 8]));
                if (seg as usize) < SEGMENTS {
                    let start = seg as usize * SEGMENT_LEN;
                    let value = it.value();
                    let n = value.len().min(SEGMENT_LEN);
                    regs[start..start + n].copy_from_slice(&value[..n]);
                }
            }
            it.next();
        }
        it.status()
    }

    /// The 16384 register values of the HLL at `key` (one per byte), or
    /// `None` when the key is missing; WRONGTYPE for any other type. Used
    /// by DUMP.
    pub fn hll_registers(&self, key: &[u8]) -> TypeResult<Option<Vec<u8>>> {
        let Some(meta) = self.read_composite(key, DataType::Hll)? else {
            return Ok(None);
        };
        let mut regs = vec![0u8; HLL_REGISTERS];
        self.read_registers(key, meta.version, &mut regs)?;
        Ok(Some(regs))
    }

    /// Replaces whatever `key` holds with an HLL of these registers (16384
    /// values; shorter input is zero-padded, extra bytes ignored) under a
    /// fresh version, with `expire_ms` (0 = none). The caller holds the
    /// key's lock. Used by RESTORE.
    pub fn hll_write_registers(&self, key: &[u8], regs: &[u8], expire_ms: u64) -> TypeResult<()> {
        let mut meta = Composite::new(DataType::Hll, self.storage.next_version());
        meta.expire_ms = expire_ms;
        let mut batch = WriteBatch::default();
        let cf = self.storage.cf(Cf::Subkey);
        for seg in 0..SEGMENTS {
            let start = seg * SEGMENT_LEN;
            let mut segment = [0u8; SEGMENT_LEN];
            if let Some(src) = regs.get(start..) {
                let n = src.len().min(SEGMENT_LEN);
                segment[..n].copy_from_slice(&src[..n]);
            }
            if segment.iter().any(|&r| r != 0) {
                batch.put_cf(
                    cf,
                    self.subkey(key, meta.version, &segment_rest(seg)),
                    segment,
                );
            }
        }
        self.stage_composite(&mut batch, key, &meta);
        self.storage.write(batch)?;
        Ok(())
    }

    /// PFADD: true when a register changed or the key was created. A
    /// HYLL string becomes a stored HLL (its TTL kept).
    pub fn pfadd(&self, key: &[u8], elements: &[impl AsRef<[u8]>]) -> HllResult<bool> {
        let _guard = self.storage.locks().lock(&[key]);
        let meta = match self.hll_source(key)? {
            Some(HllSource::Stored(m)) => m,
            Some(HllSource::Inline {
                mut regs,
                expire_ms,
            }) => {
                let mut changed = false;
                for e in elements {
                    let (index, value) = register_of(e.as_ref());
                    if regs[index] < value {
                        regs[index] = value;
                        changed = true;
                    }
                }
                self.hll_write_registers(key, &regs, expire_ms)?;
                return Ok(changed);
            }
            None => {
                let meta = Composite::new(DataType::Hll, self.storage.next_version());
                let mut batch = WriteBatch::default();
                self.stage_composite(&mut batch, key, &meta);
                self.pfadd_segments(key, &meta, elements, true, &mut batch)?;
                self.storage.write(batch)?;
                return Ok(true);
            }
        };
        let mut batch = WriteBatch::default();
        let changed = self.pfadd_segments(key, &meta, elements, false, &mut batch)?;
        if changed {
            self.storage.write(batch)?;
        }
        Ok(changed)
    }

    /// Stages the segments of a stored HLL that `elements` raise; true
    /// when any register changed. Reads only the segments they touch.
    fn pfadd_segments(
        &self,
        key: &[u8],
        meta: &Composite,
        elements: &[impl AsRef<[u8]>],
        created: bool,
        batch: &mut WriteBatch,
    ) -> TypeResult<bool> {
        // The proposals, grouped by segment.
        let mut by_segment: Vec<Vec<(usize, u8)>> = vec![Vec::new(); SEGMENTS];
        for e in elements {
            let (index, value) = register_of(e.as_ref());
            by_segment[index / SEGMENT_LEN].push((index % SEGMENT_LEN, value));
        }
        let mut changed = false;
        for (seg, proposals) in by_segment.iter().enumerate() {
            if proposals.is_empty() {
                continue;
            }
            let rest = segment_rest(seg);
            let mut segment = [0u8; SEGMENT_LEN];
            if !created {
                if let Some(stored) = self.get_subkey(Cf::Subkey, key, meta.version, &rest)? {
                    let n = stored.len().min(SEGMENT_LEN);
                    segment[..n].copy_from_slice(&stored[..n]);
                }
            }
            let mut seg_changed = false;
            for &(i, v) in proposals {
                if segment[i] < v {
                    segment[i] = v;
                    seg_changed = true;
                }
            }
            if seg_changed {
                changed = true;
                batch.put_cf(
                    self.storage.cf(Cf::Subkey),
                    self.subkey(key, meta.version, &rest),
                    segment,
                );
            }
        }
        Ok(changed)
    }

    /// PFCOUNT of one or more keys (the union's estimate); missing keys
    /// count as empty.
    pub fn pfcount(&self, keys: &[impl AsRef<[u8]>]) -> HllResult<u64> {
        let mut regs = vec![0u8; HLL_REGISTERS];
        for k in keys {
            let k = k.as_ref();
            if let Some(src) = self.hll_source(k)? {
                self.merge_source(k, &src, &mut regs)?;
            }
        }
        Ok(count_registers(&regs))
    }

    /// PFMERGE: `dest` becomes the union of itself and `sources` (created
    /// when missing; its TTL is kept).
    pub fn pfmerge(&self, dest: &[u8], sources: &[impl AsRef<[u8]>]) -> HllResult<()> {
        let mut all: Vec<&[u8]> = vec![dest];
        all.extend(sources.iter().map(|s| s.as_ref()));
        let _guard = self.storage.locks().lock(&all);
        let mut regs = vec![0u8; HLL_REGISTERS];
        let mut dest_src = None;
        for (i, k) in all.iter().enumerate() {
            let Some(src) = self.hll_source(k)? else {
                continue;
            };
            self.merge_source(k, &src, &mut regs)?;
            if i == 0 {
                dest_src = Some(src);
            }
        }
        let meta = match dest_src {
            Some(HllSource::Stored(m)) => m,
            Some(HllSource::Inline { expire_ms, .. }) => {
                self.hll_write_registers(dest, &regs, expire_ms)?;
                return Ok(());
            }
            None => Composite::new(DataType::Hll, self.storage.next_version()),
        };
        let mut batch = WriteBatch::default();
        for seg in 0..SEGMENTS {
            let segment = &regs[seg * SEGMENT_LEN..(seg + 1) * SEGMENT_LEN];
            if segment.iter().any(|&r| r != 0) {
                batch.put_cf(
                    self.storage.cf(Cf::Subkey),
                    self.subkey(dest, meta.version, &segment_rest(seg)),
                    segment,
                );
            }
        }
        self.stage_composite(&mut batch, dest, &meta);
        self.storage.write(batch)?;
        Ok(())
    }

    /// The HLL at `key` in Redis's dense HYLL string encoding, which is
    /// what GET shows of an HLL (Redis users see HLLs as strings).
    pub fn hll_as_string(&self, key: &[u8]) -> TypeResult<Option<Vec<u8>>> {
        Ok(self.hll_registers(key)?.map(|regs| hyll::dense(&regs)))
    }
}

/// What an HLL command found under a key.
enum HllSource {
    /// A stored HLL (register segments).
    Stored(Composite),
    /// A string holding Redis's HYLL encoding, parsed.
    Inline { regs: Vec<u8>, expire_ms: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_counts_zero() {
        assert_eq!(count_registers(&[0u8; HLL_REGISTERS]), 0);
    }

    #[test]
    fn small_sets_count_exactly() {
        let mut regs = vec![0u8; HLL_REGISTERS];
        for i in 0..100 {
            let (idx, v) = register_of(format!("e{i}").as_bytes());
            regs[idx] = regs[idx].max(v);
        }
        assert_eq!(count_registers(&regs), 100);
    }
}
