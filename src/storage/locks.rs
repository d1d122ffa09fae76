//! Striped per-key locks, so read-modify-write commands (INCR, APPEND, ...)
//! are atomic against each other without one global lock.

use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

/// A fixed set of mutexes; a key maps to one stripe by hash.
pub struct LockTable {
    stripes: Arc<[Mutex<()>]>,
}

/// Guards held for a set of keys; released on drop.
pub struct KeyGuards<'a> {
    _guards: Vec<MutexGuard<'a, ()>>,
}

/// Stripes taken one by one without waiting and released together, so a
/// connection can hold its keys until its folded write batch is applied,
/// possibly by another thread. Released on drop.
#[derive(Default)]
pub struct HeldStripes {
    table: Option<Arc<[Mutex<()>]>>,
    held: Vec<u32>,
}

fn stripe_of(key: &[u8], n: usize) -> usize {
    (crate::util::fnv::hash(key) % n as u64) as usize
}

impl LockTable {
    /// Creates a table with `n` stripes.
    pub fn new(n: usize) -> Self {
        LockTable {
            stripes: (0..n.max(1)).map(|_| Mutex::new(())).collect(),
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

    /// Takes a key's stripe into `held` without waiting; false when it is
    /// busy (held by anyone, `held` included). Never blocking is what
    /// makes holding several of these deadlock-free.
    pub fn try_hold(&self, held: &mut HeldStripes, key: &[u8]) -> bool {
        let i = stripe_of(key, self.stripes.len());
        let Some(guard) = self.stripes[i].try_lock() else {
            return false;
        };
        // Unlocked in `HeldStripes::release`, from whichever thread.
        std::mem::forget(guard);
        if held.table.is_none() {
            held.table = Some(self.stripes.clone());
        }
        held.held.push(i as u32);
        true
    }
}

impl HeldStripes {
    /// How many stripes are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// True when no stripe is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Releases every stripe held.
    pub fn release(&mut self) {
        if let Some(table) = &self.table {
            for i in self.held.drain(..) {
                // SAFETY: `try_hold` locked this stripe and forgot its
                // guard, and only this entry releases it.
                unsafe { table[i as usize].force_unlock() };
            }
        }
    }
}

impl Drop for HeldStripes {
    fn drop(&mut self) {
        self.release();
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
    fn held_stripe_excludes_others_until_released() {
        let t = LockTable::new(4);
        let mut held = HeldStripes::default();
        assert!(t.try_hold(&mut held, b"k"));
        assert!(!t.try_hold(&mut HeldStripes::default(), b"k"));
        assert!(!t.try_hold(&mut held, b"k"));
        held.release();
        assert!(t.try_hold(&mut held, b"k"));
        drop(held);
        let _g = t.lock(&[b"k"]);
    }
}
