//! SLOWLOG: a bounded list of the commands that took longest.

use std::collections::VecDeque;

/// One slow command.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    /// Increasing id.
    pub id: u64,
    /// Unix time in seconds.
    pub time: u64,
    /// Duration in microseconds.
    pub micros: u64,
    /// The arguments (trimmed like Redis: at most 32, each at most 128 bytes).
    pub args: Vec<Vec<u8>>,
    /// Client address.
    pub addr: String,
    /// Client name.
    pub name: String,
}

/// The slow log itself.
#[derive(Default)]
pub struct SlowLog {
    next_id: u64,
    entries: VecDeque<SlowEntry>,
}

const MAX_ARGS: usize = 32;
const MAX_ARG_LEN: usize = 128;

impl SlowLog {
    /// Records a command, keeping at most `max_len` entries.
    pub fn push(
        &mut self,
        args: &[bytes::Bytes],
        micros: u64,
        addr: String,
        name: String,
        max_len: usize,
    ) {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if i == MAX_ARGS - 1 && args.len() > MAX_ARGS {
                kept.push(format!("... ({} more arguments)", args.len() - i).into_bytes());
                break;
            }
            if a.len() > MAX_ARG_LEN {
                let mut v = a[..MAX_ARG_LEN].to_vec();
                v.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - MAX_ARG_LEN).as_bytes(),
                );
                kept.push(v);
            } else {
                kept.push(a.to_vec());
            }
        }
        let entry = SlowEntry {
            id: self.next_id,
            time: crate::util::now_ms() / 1000,
            micros,
            args: kept,
            addr,
            name,
        };
        self.next_id += 1;
        self.entries.push_front(entry);
        self.trim(max_len);
    }

    /// Drops entries beyond `max_len`.
    pub fn trim(&mut self, max_len: usize) {
        self.entries.truncate(max_len);
    }

    /// Newest first, at most `n`.
    pub fn newest(&self, n: usize) -> Vec<SlowEntry> {
        self.entries.iter().take(n).cloned().collect()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry.
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}
