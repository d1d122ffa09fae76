//! Random picks from a composite key's subkeys, shared by SRANDMEMBER,
//! SPOP, HRANDFIELD (and the generator ZRANDMEMBER uses).
//!
//! Small keys are sampled exactly in one pass; big keys by random seeks
//! shaped like their members (see [`Db::random_subkeys`]). What a big key's
//! members look like is learned from a few entries at each end and kept in
//! a small cache, so a loop of SPOPs on one big set does not pay for
//! learning on every call.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

use super::composite::SubkeyIter;
use super::{Db, TypeResult};
use crate::storage::metadata::Composite;
use crate::storage::{subkeys, Cf};

/// Keys with at most this many entries are sampled exactly (one pass),
/// as Redis picks exactly from the sets it keeps as listpacks (up to 128
/// entries by default). A pass walks the key's deleted entries too (a set
/// being emptied by SPOP is mostly tombstones until compaction), so
/// bigger keys use random seeks, which only walk a window.
const EXACT_PICK_MAX: u64 = 128;

/// A random seek is followed by a forward skip chosen uniformly in
/// `[0, PICK_WINDOW)` entries, to smooth the seek's bias.
const PICK_WINDOW: u64 = 32;

/// Entries read at each end of a big key to learn the shape of its
/// members (byte alphabet, length) for random seeks.
const SHAPE_SAMPLE: usize = 16;

/// Bytes of each sampled entry kept to learn the shape (members can be
/// big; seek targets longer than this gain nothing).
const SHAPE_MAX_LEN: usize = 256;

/// Keys whose learned shape is kept (the cache is emptied when full).
const SHAPE_CACHE_KEYS: usize = 256;

/// A cached shape is learned again after this many picks, or when the
/// key's size moved by more than an eighth since, as members change.
const SHAPE_REUSE: u32 = 1024;

/// A learned shape with what it was learned on.
struct CachedShape {
    shape: Arc<Shape>,
    size: u64,
    uses: u32,
}

/// Shapes by the subkey prefix (namespace, key, version) they describe.
static SHAPES: LazyLock<Mutex<HashMap<Vec<u8>, CachedShape>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The shape of the key version behind `prefix` (of `size` entries): the
/// cached one while it is fresh, otherwise learned from `it` and cached.
fn shape_of(prefix: &[u8], size: u64, it: &mut SubkeyIter<'_>) -> TypeResult<Arc<Shape>> {
    {
        let mut cache = SHAPES.lock();
        if let Some(c) = cache.get_mut(prefix) {
            let drift = c.size.abs_diff(size);
            if c.uses < SHAPE_REUSE && drift <= c.size / 8 {
                c.uses += 1;
                return Ok(c.shape.clone());
            }
        }
    }
    let shape = Arc::new(Shape::learn(it)?);
    let mut cache = SHAPES.lock();
    if cache.len() >= SHAPE_CACHE_KEYS {
        cache.clear();
    }
    cache.insert(
        prefix.to_vec(),
        CachedShape {
            shape: shape.clone(),
            size,
            uses: 0,
        },
    );
    Ok(shape)
}

/// A small non-cryptographic generator (SplitMix64), seeded per use from
/// the process's random hasher keys, the clock and a counter.
pub(crate) struct Rng(u64);

impl Rng {
    /// A freshly seeded generator.
    pub(crate) fn new() -> Rng {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u64(crate::util::now_ms());
        Rng(h.finish())
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, n)` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// What a big key's members look like, learned from a few entries at each
/// end; random seek targets are drawn to look alike.
#[derive(Clone)]
struct Shape {
    /// Bytes shared by the first and the last entry.
    prefix: Vec<u8>,
    /// Candidates for the first byte after the prefix.
    first: Vec<u8>,
    /// Candidates for the bytes after that.
    rest: Vec<u8>,
    /// Length of the longest sampled entry.
    max_len: usize,
}

impl Shape {
    /// Learns the shape from the entries at both ends of `it`'s key.
    fn learn(it: &mut SubkeyIter<'_>) -> TypeResult<Shape> {
        let mut samples = Vec::new();
        // Up to SHAPE_SAMPLE entries (their first SHAPE_MAX_LEN bytes) from
        // one end of the key inwards; returns how many.
        let mut sample = |it: &mut SubkeyIter<'_>, forward: bool| {
            let mut n = 0;
            while n < SHAPE_SAMPLE && it.valid() {
                samples.push(it.rest()[..it.rest().len().min(SHAPE_MAX_LEN)].to_vec());
                it.step(forward);
                n += 1;
            }
            n
        };
        it.seek_to_first();
        let forward = sample(it, true);
        it.seek_to_last();
        sample(it, false);
        it.status()?;
        let first = samples.first().cloned().unwrap_or_default();
        let last = samples.get(forward).cloned().unwrap_or_default();
        let p = first.iter().zip(&last).take_while(|(a, b)| a == b).count();
        let lo0 = first.get(p).copied().unwrap_or(0);
        let hi0 = last.get(p).copied().unwrap_or(u8::MAX).max(lo0);
        // The bytes seen after the prefix; when they cover most of their
        // span (binary data), every byte of the span.
        let mut seen = [false; 256];
        for s in &samples {
            for &b in s.get(p..).unwrap_or(&[]) {
                seen[b as usize] = true;
            }
        }
        let mut rest: Vec<u8> = (0..=u8::MAX).filter(|&b| seen[b as usize]).collect();
        if let (Some(&lo), Some(&hi)) = (rest.first(), rest.last()) {
            if rest.len() * 2 > (hi - lo) as usize + 1 {
                rest = (lo..=hi).collect();
            }
        } else {
            rest = (0..=u8::MAX).collect();
        }
        let mut first_byte: Vec<u8> = rest
            .iter()
            .copied()
            .filter(|b| (lo0..=hi0).contains(b))
            .collect();
        if first_byte.is_empty() {
            first_byte = (lo0..=hi0).collect();
        }
        Ok(Shape {
            prefix: first[..p].to_vec(),
            first: first_byte,
            rest,
            max_len: samples.iter().map(Vec::len).max().unwrap_or(0).max(p + 1),
        })
    }

    /// A random seek target: the prefix, then bytes drawn from the
    /// candidates up to the longest sampled length.
    fn target(&self, rng: &mut Rng) -> Vec<u8> {
        let pick = |rng: &mut Rng, from: &[u8]| {
            from.get(rng.below(from.len() as u64) as usize)
                .copied()
                .unwrap_or(0)
        };
        let mut t = self.prefix.clone();
        t.push(pick(rng, &self.first));
        while t.len() < self.max_len {
            t.push(pick(rng, &self.rest));
        }
        t
    }
}

/// Moves `it` one entry forward, wrapping to the first at the end.
fn next_wrapping(it: &mut SubkeyIter<'_>) {
    it.next();
    if !it.valid() {
        it.seek_to_first();
    }
}

impl Db<'_> {
    /// Up to `count` random entries (`rest`, value) of the subkey CF of the
    /// composite `key` described by `meta`: distinct ones when `distinct`
    /// (all of them when `count` covers the key), otherwise `count`
    /// independent picks that may repeat. Memory grows with the answer,
    /// never with the key.
    ///
    /// Distribution: keys of up to [`EXACT_PICK_MAX`] entries, and requests
    /// large compared to the key (`count * 32 >= size`), take one pass over
    /// the key and are exactly uniform. Otherwise each pick seeks to a
    /// random byte string shaped like the key's entries (same common
    /// prefix, bytes and length as a sample taken at both ends) and
    /// then skips forward a uniform `[0, PICK_WINDOW)` entries. This is
    /// only approximately uniform: entries that follow wide gaps in byte
    /// space (e.g. after short names among long ones, or at the edge of a
    /// dense cluster) are picked more often than others. Distinct picks on
    /// big keys retry duplicates a bounded number of times and then fall
    /// back to the exact one-pass selection.
    pub fn random_subkeys(
        &self,
        key: &[u8],
        meta: &Composite,
        count: u64,
        distinct: bool,
    ) -> TypeResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let size = meta.size;
        if size == 0 || count == 0 {
            return Ok(Vec::new());
        }
        let mut rng = Rng::new();
        let mut it = self.subkeys(Cf::Subkey, key, meta.version);
        if distinct && count >= size {
            let mut out = Vec::new();
            it.seek_to_first();
            while it.valid() {
                out.push((it.rest().to_vec(), it.value().to_vec()));
                it.next();
            }
            it.status()?;
            return Ok(out);
        }
        let exact = size <= EXACT_PICK_MAX || count.saturating_mul(32) >= size;
        let mut out = if exact && distinct {
            Self::select_distinct(&mut it, size, count, &mut rng)?
        } else if exact {
            Self::select_repeated(&mut it, size, count, &mut rng)?
        } else {
            let prefix = subkeys::version_prefix(self.ns, key, meta.version);
            let shape = shape_of(&prefix, size, &mut it)?;
            let window = PICK_WINDOW.min(size);
            let pick = |it: &mut SubkeyIter<'_>, rng: &mut Rng| -> TypeResult<()> {
                it.seek(&shape.target(rng));
                if !it.valid() {
                    it.status()?;
                    it.seek_to_first();
                }
                for _ in 0..rng.below(window) {
                    next_wrapping(it);
                }
                it.status()
            };
            let mut out = Vec::new();
            if distinct {
                let mut seen: HashSet<Vec<u8>> = HashSet::new();
                let mut tries = count.saturating_mul(4).saturating_add(32);
                while (out.len() as u64) < count && tries > 0 {
                    tries -= 1;
                    pick(&mut it, &mut rng)?;
                    if it.valid() && seen.insert(it.rest().to_vec()) {
                        out.push((it.rest().to_vec(), it.value().to_vec()));
                    }
                }
                if (out.len() as u64) < count {
                    out = Self::select_distinct(&mut it, size, count, &mut rng)?;
                }
            } else {
                for _ in 0..count {
                    pick(&mut it, &mut rng)?;
                    if it.valid() {
                        out.push((it.rest().to_vec(), it.value().to_vec()));
                    }
                }
            }
            out
        };
        rng.shuffle(&mut out);
        Ok(out)
    }

    /// Exact uniform choice of `count` distinct entries among `size` in one
    /// pass (selection sampling), in key order.
    fn select_distinct(
        it: &mut SubkeyIter<'_>,
        size: u64,
        count: u64,
        rng: &mut Rng,
    ) -> TypeResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        let mut remaining = size;
        let mut needed = count;
        it.seek_to_first();
        while it.valid() && needed > 0 {
            if rng.below(remaining.max(1)) < needed {
                out.push((it.rest().to_vec(), it.value().to_vec()));
                needed -= 1;
            }
            remaining = remaining.saturating_sub(1);
            it.next();
        }
        it.status()?;
        Ok(out)
    }

    /// Exact uniform choice of `count` entries with repetition in one pass:
    /// random positions, sorted, collected on the way.
    fn select_repeated(
        it: &mut SubkeyIter<'_>,
        size: u64,
        count: u64,
        rng: &mut Rng,
    ) -> TypeResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut positions: Vec<u64> = (0..count).map(|_| rng.below(size)).collect();
        positions.sort_unstable();
        let mut out = Vec::new();
        let mut wanted = positions.iter().peekable();
        let mut pos = 0u64;
        it.seek_to_first();
        while it.valid() && wanted.peek().is_some() {
            while wanted.next_if(|&&p| p == pos).is_some() {
                out.push((it.rest().to_vec(), it.value().to_vec()));
            }
            pos += 1;
            it.next();
        }
        it.status()?;
        Ok(out)
    }
}
