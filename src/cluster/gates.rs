//! One reader-writer gate per slot. Every keyed command holds its slot's
//! gate shared from the routing check to the end of its execution; MIGRATE
//! holds it exclusively while it copies and deletes keys, so a write can
//! never land on the source between the copy and the delete (it is routed
//! afterwards, sees the key gone and gets ASK).

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::slot::SLOT_COUNT;

/// The gates of all slots.
pub struct SlotGates {
    gates: Box<[RwLock<()>]>,
}

impl Default for SlotGates {
    fn default() -> Self {
        SlotGates {
            gates: (0..SLOT_COUNT).map(|_| RwLock::new(())).collect(),
        }
    }
}

impl SlotGates {
    /// Shared access to one slot (normal commands).
    pub fn read(&self, slot: u16) -> RwLockReadGuard<'_, ()> {
        self.gates[slot as usize % SLOT_COUNT as usize].read()
    }

    /// Exclusive access to several slots, taken in slot order.
    pub fn write_many(&self, slots: &[u16]) -> Vec<RwLockWriteGuard<'_, ()>> {
        let mut sorted: Vec<u16> = slots.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sorted
            .into_iter()
            .map(|s| self.gates[s as usize % SLOT_COUNT as usize].write())
            .collect()
    }
}
