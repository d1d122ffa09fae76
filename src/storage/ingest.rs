//! Bulk loading: options for building SST files that match the column
//! families' table options, ingesting finished files (moved, not copied)
//! and the checks an importer makes before it does.

use std::path::{Path, PathBuf};

use rocksdb::{IngestExternalFileOptions, Options};

use super::{Cf, Storage, StorageError};

/// Ingest windows remembered for WAL readers (16 bytes each).
const MAX_INGEST_WINDOWS: usize = 4096;

/// Name of the directory, beside the database, where imports build
/// their SST files before ingesting them.
const SCRATCH_DIR: &str = "import-sst";

impl Storage {
    /// Options for an `SstFileWriter` whose files this database ingests:
    /// the column families' table format, block size, filters and the
    /// compression in force now.
    pub fn sst_options(&self) -> Options {
        self.sst_base.lock().clone()
    }

    /// Where imports build SST files (`<dir>/import-sst`): removed whole
    /// when the database opens, so files of an import a restart cut short
    /// do not outlive it.
    pub fn scratch_dir(&self) -> PathBuf {
        scratch_dir_of(&self.path)
    }

    /// Moves finished SST files into column family `cf`. RocksDB gives
    /// their records a sequence number above everything written before,
    /// flushing the memtable first if it overlaps them.
    pub fn ingest(&self, cf: Cf, files: &[PathBuf]) -> Result<(), StorageError> {
        if files.is_empty() {
            return Ok(());
        }
        let mut opts = IngestExternalFileOptions::default();
        opts.set_move_files(true);
        // An ingest may take a sequence number that no WAL record carries:
        // readers of the WAL (a migration's catch-up) learn here which
        // gaps are ingests' and not lost records. Writes go on during the
        // call, so the window is wider than the ingest's own numbers.
        let before = self.db.latest_sequence_number();
        let result = self
            .db
            .ingest_external_file_cf_opts(self.cf(cf), &opts, files.to_vec());
        let after = self.db.latest_sequence_number();
        if cf == Cf::Metadata {
            self.meta_cache().clear();
        }
        if after > before {
            let mut windows = self.ingest_windows.lock();
            if windows.len() >= MAX_INGEST_WINDOWS {
                windows.pop_front();
            }
            windows.push_back((before + 1, after));
        }
        Ok(result?)
    }

    /// True when every sequence number in `first..=last` lies in the
    /// window of one of this process's recent ingests (see
    /// [`Storage::ingest`]).
    pub fn ingests_took(&self, first: u64, last: u64) -> bool {
        let windows = self.ingest_windows.lock();
        let mut seq = first;
        while seq <= last {
            match windows.iter().find(|(a, b)| *a <= seq && seq <= *b) {
                Some((_, b)) => seq = b.saturating_add(1),
                None => return false,
            }
        }
        true
    }

    /// True when `cf` holds a live (not deleted) key in `[start, end)`.
    pub fn range_holds_keys(&self, cf: Cf, start: &[u8], end: &[u8]) -> Result<bool, StorageError> {
        let opts = Storage::range_read_options(start, end, false);
        let mut it = self.db.raw_iterator_cf_opt(self.cf(cf), opts);
        it.seek_to_first();
        let found = it.valid();
        it.status()?;
        Ok(found)
    }
}

/// The scratch directory of the database at `db_path`.
pub(super) fn scratch_dir_of(db_path: &Path) -> PathBuf {
    db_path.parent().unwrap_or(db_path).join(format!(
        "{}-{}",
        db_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        SCRATCH_DIR
    ))
}

/// Removes what imports left in the scratch directory (at open).
pub(super) fn clear_scratch(db_path: &Path) -> Result<(), StorageError> {
    let dir = scratch_dir_of(db_path);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StorageError::Dir(dir, e)),
    }
}
