//! Striped per-key locks, so read-modify-write commands (INCR, APPEND, ...)
//! are atomic against each other without one global lock.

use std::sync::Arc;

use parking_lot::{ArcMutexGuard, Mutex, MutexGuard, RawMutex};

/// A fixed set of mutexes; a key maps to one stripe by hash.
pub struct LockTable {
    stripes: Box<[Arc<Mutex<()>>]>,
}

/// Guards held for a set of keys; released on drop.
pub struct KeyGuards<'a> {
    _guards: Vec<MutexGuard<'a, ()>>,
}

/// A stripe lock that is not tied to a borrow, so a connection can hold it
/// until its folded write batch is applied.
pub type OwnedKeyGuard = ArcMutexGuard<RawMutex, ()>;

fn stripe_of(key: &[u8], n: usize) -> usize {
    (crate::util::fnv::hash(key) % n as u64) as usize
}

impl LockTable {
    /// Creates a table with `n` stripes.
    pub fn new(n: usize) -> Self {
        LockTable {
            stripes: (0..n.max(1)).map(|_| Arc::new(Mutex::new(()))).collect(),
        }
    }

    /// Locks every stripe the given keys map to, in a fixed order so two
    /// multi-key commands can never deadlock.
    pub fn lock<'a, K: AsRef<[u8]>>(&'a self, keys: &[K]) -> KeyGuards<'a> {
        let mut idx: Vec<usize> = keys
            .iter()
            .map(|k| stripe_of(k.as_ref(), self.stripes.len()))
            .collect();
        idx.sort_unstable();
        idx.dedup();
        KeyGuards {
            _guards: idx.into_iter().map(|i| self.stripes[i].lock()).collect(),
        }
    }

    /// Takes a key's stripe without waiting; `None` when it is held (by
    /// anyone, the caller included). Never blocking is what makes holding
    /// several of these deadlock-free.
    pub fn try_lock_owned(&self, key: &[u8]) -> Option<OwnedKeyGuard> {
        self.stripes[stripe_of(key, self.stripes.len())].try_lock_arc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_stripe_twice_does_not_deadlock() {
        let t = LockTable::new(4);
        let _g = t.lock(&[b"a".as_slice(), b"a".as_slice(), b"b".as_slice()]);
    }

    #[test]
    fn owned_lock_excludes_others() {
        let t = LockTable::new(4);
        let g = t.try_lock_owned(b"k").unwrap();
        assert!(t.try_lock_owned(b"k").is_none());
        drop(g);
        assert!(t.try_lock_owned(b"k").is_some());
    }
}
