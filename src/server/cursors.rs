//! SCAN cursors: clients see small numbers, the server remembers which key
//! each number continues after. Bounded: old cursors are forgotten.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;

const MAX_CURSORS: usize = 16 * 1024;

/// Maps cursor numbers to encoded resume positions.
#[derive(Default)]
pub struct CursorTable {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    map: HashMap<u64, Vec<u8>>,
    order: VecDeque<u64>,
}

impl CursorTable {
    /// Stores a position and returns its cursor number (never 0).
    pub fn save(&self, position: Vec<u8>) -> u64 {
        let mut g = self.inner.lock();
        g.next += 1;
        // Mix the counter so cursors don't look sequential to clients.
        let id = (g.next.wrapping_mul(0x9E3779B97F4A7C15) >> 1) | 1;
        g.map.insert(id, position);
        g.order.push_back(id);
        while g.order.len() > MAX_CURSORS {
            if let Some(old) = g.order.pop_front() {
                g.map.remove(&old);
            }
        }
        id
    }

    /// The position of a cursor; `None` for 0 or a forgotten cursor.
    pub fn load(&self, id: u64) -> Option<Vec<u8>> {
        if id == 0 {
            return None;
        }
        self.inner.lock().map.get(&id).cloned()
    }
}
