//! RocksDB underneath: column families, options from the config, per-key
//! locks, the expiry compaction filter and the few primitives the data types
//! need. Nothing here knows about RESP or sockets.

pub mod folded;
pub mod ingest;
pub mod keys;
pub mod locks;
pub mod meta_cache;
pub mod metadata;
pub mod page_cache;
pub mod records;
mod snapshot_tick;
pub mod stale_filter;
pub mod subkeys;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DBCompressionType,
    DBPinnableSlice, FlushOptions, Options, ReadOptions, WriteBatch, WriteOptions, DB,
};
use thiserror::Error;

use crate::config::Config;
pub use locks::LockTable;

/// An error from the storage engine.
#[derive(Debug, Error)]
pub enum StorageError {
    /// RocksDB reported a failure.
    #[error("storage error: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// The data directory could not be prepared.
    #[error("data directory {0}: {1}")]
    Dir(PathBuf, std::io::Error),
}

/// The column families ferrocks keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cf {
    /// Key -> type, expire, version, size (and inline string values).
    Metadata,
    /// Fields, members and list items of composite types (RocksDB's default CF).
    Subkey,
    /// Sorted-set members ordered by score.
    ZsetScore,
    /// Checkpoints, topology and other never-migrated records.
    Internal,
}

impl Cf {
    /// The column family's RocksDB name.
    pub fn name(self) -> &'static str {
        match self {
            Cf::Metadata => "metadata",
            Cf::Subkey => "default",
            Cf::ZsetScore => "zset_score",
            Cf::Internal => "internal",
        }
    }

    /// Every column family.
    pub const ALL: [Cf; 4] = [Cf::Metadata, Cf::Subkey, Cf::ZsetScore, Cf::Internal];
    /// The column families that hold user data (migrated, flushed).
    pub const DATA: [Cf; 3] = [Cf::Metadata, Cf::Subkey, Cf::ZsetScore];
}

/// The storage engine: one RocksDB with its column families.
pub struct Storage {
    /// Boxed so its address stays put while `Storage` moves: the subkey
    /// compaction filter reaches it through `filter_db`.
    db: Box<DB>,
    filter_db: stale_filter::DbSlot,
    path: PathBuf,
    locks: LockTable,
    sync_writes: AtomicBool,
    version_counter: AtomicU64,
    _cache: Cache,
    /// The options the database was opened with; they hold its statistics.
    db_opts: Options,
    /// The data column families' table options, for SST files built to
    /// be ingested (follows `rocksdb.compression` at run time).
    sst_base: parking_lot::Mutex<Options>,
    /// Sequence-number windows of recent ingests (see [`Storage::ingest`]).
    ingest_windows: parking_lot::Mutex<std::collections::VecDeque<(u64, u64)>>,
    /// Point reads of metadata records, kept exact by [`Storage::write`].
    meta_cache: meta_cache::MetaCache,
    /// The metadata column family's id in serialized batches.
    metadata_cf_id: u32,
    /// Keeps bulk work out of the page cache (see [`page_cache`]).
    janitor: page_cache::Janitor,
}

/// The metadata keys a batch writes, copied out before RocksDB takes it.
enum Touched {
    Nothing,
    /// Keys laid end to end, and where each ends.
    Keys(Vec<u8>, Vec<usize>),
    Everything,
}

/// Beyond this many metadata records a batch (an import chunk, say)
/// empties the cache instead of invalidating key by key.
const MAX_INVALIDATED_KEYS: usize = 256;

/// Running totals of RocksDB operations since the database opened.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpTotals {
    /// Keys written (puts, merges, deletes in batches).
    pub put: u64,
    /// Keys read by point lookups.
    pub get: u64,
    /// Iterator seeks.
    pub seek: u64,
    /// Iterator steps forward.
    pub next: u64,
    /// Iterator steps backward (reverse ranges, walks from a key's end).
    pub prev: u64,
    /// Bytes written by compactions.
    pub compact_write_bytes: u64,
}

fn compression(name: &str) -> DBCompressionType {
    match name {
        "no" => DBCompressionType::None,
        "zstd" => DBCompressionType::Zstd,
        // snappy and zlib are not built in; lz4 is the closest in spirit.
        _ => DBCompressionType::Lz4,
    }
}

/// True when files under `dir` can be opened with `O_DIRECT` (tmpfs, for
/// one, refuses it, and RocksDB would then fail to open its files).
fn supports_direct_io(dir: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    let probe = dir.join(".ferrocks-direct-io-probe");
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(&probe);
    let _ = std::fs::remove_file(&probe);
    opened.is_ok()
}

/// Drops metadata records whose expire time has passed.
fn expired_metadata_filter(_level: u32, _key: &[u8], value: &[u8]) -> rocksdb::CompactionDecision {
    match metadata::Header::decode(value) {
        Some(h) if h.is_expired(crate::util::now_ms()) => rocksdb::CompactionDecision::Remove,
        _ => rocksdb::CompactionDecision::Keep,
    }
}

impl Storage {
    /// Opens (creating if needed) the database under `dir/db-name` with the
    /// `rocksdb.*` options of `cfg`.
    pub fn open(cfg: &Config) -> Result<Storage, StorageError> {
        let dir = Path::new(cfg.get("dir"));
        std::fs::create_dir_all(dir).map_err(|e| StorageError::Dir(dir.to_path_buf(), e))?;
        let path = dir.join(cfg.get("db-name"));
        let cache = Cache::new_lru_cache((cfg.int("rocksdb.block_cache_size") as usize) << 20);
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&cache);
        table.set_block_size(cfg.int("rocksdb.block_size") as usize);
        table.set_cache_index_and_filter_blocks(cfg.bool("rocksdb.cache_index_and_filter_blocks"));
        table.set_bloom_filter(10.0, false);
        if cfg.bool("rocksdb.partition_filters") {
            // A file's whole filter (10 bits a key: 4 MB for a 128 MB file
            // of small records) does not fit a shard of the block cache,
            // so every point read would read it again; partitions of
            // `metadata_block_size` do, behind a small pinned top level.
            table.set_partition_filters(true);
            table.set_index_type(rocksdb::BlockBasedIndexType::TwoLevelIndexSearch);
            table.set_metadata_block_size(cfg.int("rocksdb.metadata_block_size") as usize);
            table.set_pin_top_level_index_and_filter(true);
            table.set_cache_index_and_filter_blocks_with_high_priority(true);
        }

        let mut cf_base = Options::default();
        cf_base.set_block_based_table_factory(&table);
        cf_base.set_write_buffer_size((cfg.int("rocksdb.write_buffer_size") as usize) << 20);
        cf_base.set_max_write_buffer_number(cfg.int("rocksdb.max_write_buffer_number") as i32);
        cf_base.set_target_file_size_base((cfg.int("rocksdb.target_file_size_base") as u64) << 20);
        cf_base.set_level_zero_slowdown_writes_trigger(
            cfg.int("rocksdb.level0_slowdown_writes_trigger") as i32,
        );
        cf_base.set_level_zero_stop_writes_trigger(
            cfg.int("rocksdb.level0_stop_writes_trigger") as i32
        );
        cf_base.set_compression_type(compression(cfg.get("rocksdb.compression")));

        let mut db_opts = cf_base.clone();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.set_max_open_files(cfg.int("rocksdb.max_open_files") as i32);
        db_opts.set_max_background_jobs(cfg.int("rocksdb.max_background_jobs") as i32);
        db_opts.set_max_subcompactions(cfg.int("rocksdb.max_subcompactions") as u32);
        db_opts.set_enable_pipelined_write(cfg.bool("rocksdb.enable_pipelined_write"));
        db_opts.set_wal_ttl_seconds(cfg.int("rocksdb.wal_ttl_seconds") as u64);
        db_opts.set_wal_size_limit_mb(cfg.int("rocksdb.wal_size_limit_mb") as u64);
        db_opts.set_stats_dump_period_sec(cfg.int("rocksdb.stats_dump_period_sec") as u32);
        // Written SST and WAL files go to disk every this many bytes, not
        // in bursts when the kernel decides: dirty pages cannot be dropped
        // from the page cache, so bulk writes (imports, compactions after
        // them) would otherwise pile up there whatever is dropped behind.
        db_opts.set_bytes_per_sync(cfg.int("rocksdb.bytes_per_sync") as u64);
        db_opts.set_wal_bytes_per_sync(cfg.int("rocksdb.wal_bytes_per_sync") as u64);
        let direct_background = cfg.bool("rocksdb.use_direct_io_for_flush_and_compaction");
        let direct_reads = cfg.bool("rocksdb.use_direct_reads");
        if (direct_background || direct_reads) && !supports_direct_io(dir) {
            tracing::warn!(
                "the filesystem of {} refuses O_DIRECT: flushes, compactions and reads stay buffered",
                dir.display()
            );
        } else {
            db_opts.set_use_direct_io_for_flush_and_compaction(direct_background);
            db_opts.set_use_direct_reads(direct_reads);
        }
        // Tickers only (no histograms or timers): the cheap level that
        // still counts keys written/read and iterator seeks/nexts for INFO.
        db_opts.enable_statistics();
        db_opts.set_statistics_level(rocksdb::statistics::StatsLevel::ExceptHistogramOrTimers);

        let filter_db: stale_filter::DbSlot = Default::default();
        let descriptors = Cf::ALL.iter().map(|cf| {
            let mut opts = cf_base.clone();
            match cf {
                Cf::Metadata => {
                    opts.set_compaction_filter("ferrocks-expired", expired_metadata_filter)
                }
                Cf::Subkey | Cf::ZsetScore => {
                    opts.set_compaction_filter_factory(stale_filter::StaleSubkeyFilterFactory::new(
                        filter_db.clone(),
                        "ferrocks-stale-subkeys",
                    ))
                }
                Cf::Internal => {}
            }
            ColumnFamilyDescriptor::new(cf.name(), opts)
        });
        ingest::clear_scratch(&path)?;
        let db = Box::new(DB::open_cf_descriptors(&db_opts, &path, descriptors)?);
        *filter_db.write() = Some(stale_filter::DbPtr(&*db as *const DB));
        snapshot_tick::spawn(filter_db.clone());
        let seed = crate::util::now_ms() << 11;
        let mut storage = Storage {
            db,
            filter_db,
            path,
            locks: LockTable::new(4096),
            sync_writes: AtomicBool::new(cfg.bool("rocksdb.write_options.sync")),
            version_counter: AtomicU64::new(seed),
            _cache: cache,
            db_opts,
            sst_base: parking_lot::Mutex::new(cf_base),
            ingest_windows: Default::default(),
            meta_cache: meta_cache::MetaCache::new((cfg.int("metadata-cache-mb") as usize) << 20),
            metadata_cf_id: 0,
            janitor: Default::default(),
        };
        storage.metadata_cf_id = storage.cf_id(Cf::Metadata);
        Ok(storage)
    }

    /// A storage on default settings in a fresh temporary directory, for
    /// unit tests of the layers above.
    #[cfg(test)]
    pub fn open_temp() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().expect("temp dir");
        let dir_arg = dir.path().to_string_lossy().into_owned();
        let (cfg, _) = Config::load(None, &[("dir".into(), dir_arg)]).expect("config");
        let storage = Storage::open(&cfg).expect("open storage");
        (dir, storage)
    }

    /// Where the database lives on disk.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying RocksDB, for range reads and properties.
    pub fn db(&self) -> &DB {
        &self.db
    }

    /// The handle of a column family (always present: created at open).
    pub fn cf(&self, cf: Cf) -> &ColumnFamily {
        match self.db.cf_handle(cf.name()) {
            Some(h) => h,
            None => unreachable!("column family {} is created at open", cf.name()),
        }
    }

    /// RocksDB's numeric id of a column family in this database, as it
    /// appears in serialized write batches. Found by serializing a record,
    /// which needs no unsafe FFI call.
    pub fn cf_id(&self, cf: Cf) -> u32 {
        if cf == Cf::Subkey {
            return 0;
        }
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(cf), b"", b"");
        records::parse(b.data())
            .ok()
            .and_then(|r| r.first().map(|r| r.cf()))
            .unwrap_or(0)
    }

    /// The per-key lock table.
    pub fn locks(&self) -> &LockTable {
        &self.locks
    }

    /// Changes whether writes fsync the WAL (`rocksdb.write_options.sync`).
    pub fn set_sync_writes(&self, sync: bool) {
        self.sync_writes.store(sync, Ordering::Relaxed);
    }

    /// Operation totals from RocksDB's statistics (INFO's per-second rates
    /// are derived from them).
    pub fn op_totals(&self) -> OpTotals {
        use rocksdb::statistics::Ticker;
        OpTotals {
            put: self.db_opts.get_ticker_count(Ticker::NumberKeysWritten),
            get: self.db_opts.get_ticker_count(Ticker::NumberKeysRead),
            seek: self.db_opts.get_ticker_count(Ticker::NumberDbSeek),
            next: self.db_opts.get_ticker_count(Ticker::NumberDbNext),
            prev: self.db_opts.get_ticker_count(Ticker::NumberDbPrev),
            compact_write_bytes: self.db_opts.get_ticker_count(Ticker::CompactWriteBytes),
        }
    }

    /// Changes the compression of files written from now on in every
    /// column family (`rocksdb.compression` at run time); existing files
    /// keep theirs until compaction rewrites them.
    pub fn set_compression(&self, name: &str) -> Result<(), StorageError> {
        let option = match compression(name) {
            DBCompressionType::None => "kNoCompression",
            DBCompressionType::Zstd => "kZSTD",
            _ => "kLZ4Compression",
        };
        for cf in Cf::ALL {
            self.db
                .set_options_cf(self.cf(cf), &[("compression", option)])?;
        }
        self.sst_base.lock().set_compression_type(compression(name));
        Ok(())
    }

    /// A fresh version for a new or re-created composite key. Versions
    /// start from the clock (ms << 11) at open and only grow; they never
    /// fall below a version this node has imported ([`Storage::observe_version`]),
    /// so a key re-created after its slot moved here gets a larger one.
    pub fn next_version(&self) -> u64 {
        self.version_counter.fetch_add(1, Ordering::Relaxed)
    }

    /// Notes a version written by another node (an imported key), so
    /// later versions allocated here are larger.
    pub fn observe_version(&self, version: u64) {
        self.version_counter
            .fetch_max(version.saturating_add(1), Ordering::Relaxed);
    }

    /// Reads one value without copying it out of RocksDB.
    pub fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<DBPinnableSlice<'_>>, StorageError> {
        Ok(self.db.get_pinned_cf(self.cf(cf), key)?)
    }

    /// Like [`Storage::get`], from `snapshot` when one is given; with
    /// `fill_cache` false the blocks read are not kept in the block cache
    /// (bulk readers such as a per-key migration, which would otherwise
    /// fill the cache, and so the process's memory, with a whole slot).
    pub fn get_at<'s>(
        &'s self,
        snapshot: Option<&'s rocksdb::Snapshot<'s>>,
        fill_cache: bool,
        cf: Cf,
        key: &[u8],
    ) -> Result<Option<DBPinnableSlice<'s>>, StorageError> {
        if fill_cache {
            return match snapshot {
                None => self.get(cf, key),
                Some(snap) => Ok(snap.get_pinned_cf(self.cf(cf), key)?),
            };
        }
        let mut opts = ReadOptions::default();
        opts.fill_cache(false);
        if let Some(snap) = snapshot {
            opts.set_snapshot(snap);
        }
        Ok(self.db.get_pinned_cf_opt(self.cf(cf), key, &opts)?)
    }

    /// A consistent view of the whole database as of now.
    pub fn snapshot(&self) -> rocksdb::Snapshot<'_> {
        self.db.snapshot()
    }

    /// Writes a batch atomically; the metadata cache forgets what it wrote.
    pub fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let touched = self.metadata_touched(batch.data());
        let result = self.write_uncached(batch, false);
        match touched {
            Touched::Nothing => {}
            Touched::Keys(keys, ends) => {
                let mut start = 0;
                for end in ends {
                    self.meta_cache.invalidate(&keys[start..end]);
                    start = end;
                }
            }
            Touched::Everything => self.meta_cache.clear(),
        }
        result
    }

    /// Writes a batch without telling the metadata cache: the caller
    /// does. `sorted` says the batch's keys are in order, so RocksDB can
    /// keep its memtable insert position from one key to the next.
    fn write_uncached(&self, batch: WriteBatch, sorted: bool) -> Result<(), StorageError> {
        let mut opts = WriteOptions::default();
        opts.set_sync(self.sync_writes.load(Ordering::Relaxed));
        if sorted {
            opts.set_memtable_insert_hint_per_batch(true);
        }
        Ok(self.db.write_opt(batch, &opts)?)
    }

    /// What a batch about to be written changes of the metadata cache.
    fn metadata_touched(&self, data: &[u8]) -> Touched {
        if !self.meta_cache.enabled() {
            return Touched::Nothing;
        }
        let (mut keys, mut ends) = (Vec::new(), Vec::new());
        let mut everything = false;
        let read = records::visit(data, |r| match r {
            _ if everything || r.cf() != self.metadata_cf_id => {}
            records::Record::Put { key, .. }
            | records::Record::Delete { key, .. }
            | records::Record::SingleDelete { key, .. }
            | records::Record::Merge { key, .. } => {
                if ends.len() >= MAX_INVALIDATED_KEYS {
                    everything = true;
                    return;
                }
                keys.extend_from_slice(key);
                ends.push(keys.len());
            }
            records::Record::DeleteRange { .. } => everything = true,
        });
        match read {
            Err(_) => Touched::Everything,
            Ok(()) if everything => Touched::Everything,
            Ok(()) if ends.is_empty() => Touched::Nothing,
            Ok(()) => Touched::Keys(keys, ends),
        }
    }

    /// Reads a metadata record, through the metadata cache.
    pub fn get_metadata(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        if !self.meta_cache.enabled() {
            return Ok(self.get(Cf::Metadata, key)?.map(|v| v.to_vec()));
        }
        match self.meta_cache.lookup(key) {
            meta_cache::Lookup::Hit(v) => Ok(v),
            meta_cache::Lookup::Miss(ticket) => {
                let v = self.get(Cf::Metadata, key)?;
                self.meta_cache.fill(key, ticket, v.as_deref());
                Ok(v.map(|v| v.to_vec()))
            }
        }
    }

    /// The metadata cache (for its size setting and INFO).
    pub fn meta_cache(&self) -> &meta_cache::MetaCache {
        &self.meta_cache
    }

    /// Puts one value.
    pub fn put(&self, cf: Cf, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(cf), key, value);
        self.write(b)
    }

    /// Deletes one key.
    pub fn delete(&self, cf: Cf, key: &[u8]) -> Result<(), StorageError> {
        let mut b = WriteBatch::default();
        b.delete_cf(self.cf(cf), key);
        self.write(b)
    }

    /// Deletes `[start, end)` of one column family.
    pub fn delete_range(&self, cf: Cf, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        let mut b = WriteBatch::default();
        b.delete_range_cf(self.cf(cf), start, end);
        self.write(b)
    }

    /// Deletes `[start, end)` in every data column family, in one batch.
    pub fn delete_data_range(&self, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        let mut b = WriteBatch::default();
        for cf in Cf::DATA {
            b.delete_range_cf(self.cf(cf), start, end);
        }
        self.write(b)
    }

    /// Deletes `[start, end)` in every data column family and drops at
    /// once the SST files that hold keys of that range only. The range
    /// tombstone alone would leave those files to a later compaction, which
    /// reads them whole (filling the page cache) only to throw them away;
    /// dropped here they cost no I/O. RocksDB counts a file ending exactly
    /// at `end` as inside the range, so `end` must be a key no record has:
    /// the prefix of a slot above 0 is (the encoding of the empty key,
    /// which lives in slot 0). Readers that pinned those files before keep
    /// them until they finish.
    pub fn drop_data_range(&self, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        self.delete_data_range(start, end)?;
        for cf in Cf::DATA {
            self.db.delete_file_in_range_cf(self.cf(cf), start, end)?;
        }
        Ok(())
    }

    /// Like [`Storage::drop_data_range`], but writes nothing when no
    /// data column family holds a key in `[start, end)`: a range tombstone
    /// over an empty range (an import clearing slots before it starts)
    /// would still be flushed to a level-0 file spanning the range, and
    /// every SST file ingested into the range afterwards would then land
    /// in level 0 and be compacted (read and written again) instead of
    /// going straight to the bottom level.
    pub fn delete_data_range_if_any(&self, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        for cf in Cf::DATA {
            if self.range_holds_keys(cf, start, end)? {
                return self.drop_data_range(start, end);
            }
        }
        Ok(())
    }

    /// Read options for a bounded scan of `[start, end)`; bulk scans pass
    /// `fill_cache = false` so they do not evict the hot set.
    pub fn range_read_options(start: &[u8], end: &[u8], fill_cache: bool) -> ReadOptions {
        let mut opts = ReadOptions::default();
        opts.set_iterate_lower_bound(start.to_vec());
        opts.set_iterate_upper_bound(end.to_vec());
        opts.fill_cache(fill_cache);
        opts
    }

    /// Compacts every column family (the `COMPACT` command).
    pub fn compact_all(&self) {
        for cf in Cf::ALL {
            self.db
                .compact_range_cf(self.cf(cf), None::<&[u8]>, None::<&[u8]>);
        }
    }

    /// Flushes memtables and the WAL; called on shutdown.
    pub fn flush(&self) -> Result<(), StorageError> {
        self.db.flush_wal(true)?;
        for cf in Cf::ALL {
            self.db.flush_cf(self.cf(cf))?;
        }
        Ok(())
    }

    /// Compacts `[start, end)` of one column family, waiting for it: what
    /// was deleted there is gone afterwards, tombstones included, so a
    /// scan of the range no longer steps over them.
    pub fn compact_range(&self, cf: Cf, start: &[u8], end: &[u8]) {
        self.db
            .compact_range_cf(self.cf(cf), Some(start), Some(end));
    }

    /// Starts flushing the data column families' memtables and returns at
    /// once: writes go to a new WAL file from now on, and the memtables'
    /// memory is released when the background flush ends.
    pub fn flush_data_async(&self) -> Result<(), StorageError> {
        let mut opts = FlushOptions::default();
        opts.set_wait(false);
        for cf in Cf::DATA {
            self.db.flush_cf_opt(self.cf(cf), &opts)?;
        }
        Ok(())
    }

    /// Bytes held by the data column families' active memtables (about
    /// what the current WAL file holds of them).
    pub fn active_memtable_bytes(&self) -> u64 {
        self.data_property_sum("rocksdb.cur-size-active-mem-table")
    }

    /// Bytes held by the data column families' memtables, active and
    /// waiting to be flushed.
    pub fn memtable_bytes(&self) -> u64 {
        self.data_property_sum("rocksdb.cur-size-all-mem-tables")
    }

    /// True while RocksDB flushes or compacts, or has compactions due.
    pub fn background_busy(&self) -> bool {
        let db_wide = |name| self.property_int(Cf::Metadata, name).unwrap_or(0);
        db_wide("rocksdb.num-running-compactions") > 0
            || db_wide("rocksdb.num-running-flushes") > 0
            || self.data_property_sum("rocksdb.compaction-pending") > 0
    }

    /// Memtables of the data column families waiting to be flushed.
    pub fn immutable_memtables(&self) -> u64 {
        self.data_property_sum("rocksdb.num-immutable-mem-table")
    }

    /// An integer property summed over the data column families.
    fn data_property_sum(&self, name: &str) -> u64 {
        Cf::DATA
            .iter()
            .filter_map(|cf| self.property_int(*cf, name))
            .sum()
    }

    /// A RocksDB integer property of one column family, if it exists.
    pub fn property_int(&self, cf: Cf, name: &str) -> Option<u64> {
        self.db
            .property_int_value_cf(self.cf(cf), name)
            .ok()
            .flatten()
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        // Compaction filters must stop reaching the database before it
        // closes; the write lock waits for any lookup in progress.
        *self.filter_db.write() = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Live SST files whose keys all lie in `[start, end)`.
    fn files_within(storage: &Storage, start: &[u8], end: &[u8]) -> usize {
        let files = storage.db().live_files().expect("live files");
        files
            .iter()
            .filter(|f| {
                f.start_key.as_deref().is_some_and(|s| s >= start)
                    && f.end_key.as_deref().is_some_and(|e| e < end)
            })
            .count()
    }

    #[test]
    fn dropping_a_slot_range_removes_its_files_and_keeps_the_neighbours() {
        let (_dir, storage) = Storage::open_temp();
        let meta = storage.cf(Cf::Metadata);
        let key = |slot: u16, i: u32| keys::encode_in_slot(b"", slot, format!("k{i}").as_bytes());
        for i in 0..1000 {
            storage.db().put_cf(meta, key(5, i), b"v").expect("put");
        }
        storage.db().flush_cf(meta).expect("flush");
        storage.compact_all();
        for i in 0..100 {
            storage.db().put_cf(meta, key(4, i), b"v").expect("put");
            storage.db().put_cf(meta, key(6, i), b"v").expect("put");
        }
        storage.db().flush_cf(meta).expect("flush");
        let (start, end) = (keys::slot_prefix(b"", 5), keys::slot_prefix(b"", 6));
        assert_eq!(files_within(&storage, &start, &end), 1);

        storage.drop_data_range(&start, &end).expect("drop");

        assert_eq!(files_within(&storage, &start, &end), 0);
        for i in 0..1000 {
            assert!(storage.db().get_cf(meta, key(5, i)).expect("get").is_none());
        }
        for i in 0..100 {
            assert!(storage.db().get_cf(meta, key(4, i)).expect("get").is_some());
            assert!(storage.db().get_cf(meta, key(6, i)).expect("get").is_some());
        }
    }
}
