//! FNV-1a: a cheap hash that spreads short keys well, for lock stripes
//! and in-process caches (not for anything a client could attack by
//! choosing keys that collide: the cache keeps its shards small and a
//! collision costs only a slower probe).

use std::hash::{BuildHasherDefault, Hasher};

const OFFSET: u64 = 0xcbf29ce484222325;
const PRIME: u64 = 0x100000001b3;

/// The FNV-1a hash of `bytes`.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h = FnvHasher::default();
    h.write(bytes);
    h.finish()
}

/// A [`Hasher`] computing FNV-1a.
#[derive(Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(OFFSET)
    }
}

impl Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`FnvHasher`]s for a `HashMap`.
pub type FnvBuild = BuildHasherDefault<FnvHasher>;
