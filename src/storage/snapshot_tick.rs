//! Keeps RocksDB's bottommost-file maintenance with the writes that need
//! it. Files that reach the last level by a trivial move (a flush of keys
//! written in order, such as a new hash's subkeys, goes straight down
//! untouched) keep their sequence numbers, and RocksDB rewrites such files
//! once to zero them ("BottommostFiles" compactions). It only looks for
//! them when a snapshot is released; a node that takes no snapshots of its
//! own leaves them all to the first one that is, which was a slot move's:
//! its snapshot reader's release rewrote every such file of the column
//! family, of every slot (413 MiB of page cache on the source of a move of
//! one slot of 1M hashes). A snapshot taken and released every
//! [`TICK`] makes RocksDB do it within a second of the flush that made
//! the files, as it assumes snapshots come and go often.

use std::time::Duration;

use super::stale_filter::DbSlot;

/// How often a snapshot is taken and released.
pub const TICK: Duration = Duration::from_secs(1);

/// Starts the thread that takes and releases a snapshot every [`TICK`]
/// while `db` holds the database; it ends at the first tick after the
/// slot is emptied (the database is closing).
pub fn spawn(db: DbSlot) {
    let spawned = std::thread::Builder::new()
        .name("snapshot-tick".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            let slot = db.read();
            let Some(ptr) = slot.as_ref() else {
                return;
            };
            // SAFETY: the database stays open while the slot holds it (see
            // `stale_filter::DbPtr`), and the read guard is held here.
            let db = unsafe { &*ptr.0 };
            drop(db.snapshot());
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the snapshot tick: {}", e);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::{Cf, Storage};

    #[test]
    fn files_trivially_moved_down_are_rewritten_without_a_snapshot_of_ours() {
        let (_dir, s) = Storage::open_temp();
        // Flushes of keys in order: non-overlapping level-0 files that
        // go to the last level by a trivial move, sequence numbers kept.
        for file in 0..6u32 {
            for i in 0..200u32 {
                let key = format!("k{file:04}-{i:06}");
                s.put(Cf::Metadata, key.as_bytes(), &[b'v'; 100]).unwrap();
            }
            s.flush().unwrap();
        }
        // The tick's snapshot release lets RocksDB rewrite them.
        let deadline = Instant::now() + Duration::from_secs(20);
        while s.op_totals().compact_write_bytes == 0 {
            assert!(
                Instant::now() < deadline,
                "no bottommost-file compaction after the files went down"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
