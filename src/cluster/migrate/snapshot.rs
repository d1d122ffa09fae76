//! Source side, snapshot phase: reads the key range of the moving slots
//! from a RocksDB snapshot, column family by column family and namespace by
//! namespace, into `WriteBatch` chunks of a bounded size. Bulk reads use
//! `fill_cache = false` so the hot set stays in the block cache. The reader
//! keeps only its position, so memory does not grow with the slot's size,
//! and a job can resume after the last key the destination applied.

use rocksdb::{Snapshot, WriteBatch};

use super::plan::Plan;
use crate::storage::metadata::Header;
use crate::storage::{keys, Cf, Storage, StorageError};

/// Where the reader stands: which column family and namespace, and the
/// last key copied there.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    /// Index into [`Cf::DATA`].
    pub cf_index: usize,
    /// Index into the namespace list.
    pub ns_index: usize,
    /// Last key copied in that column family and namespace.
    pub after: Option<Vec<u8>>,
}

/// Bytes read between two evictions of the files behind the reader from
/// the page cache (per stream: two streams and RocksDB's readahead stay
/// well within the 64 MiB a move may add to the page cache).
const EVICT_EVERY: usize = 16 << 20;

/// What one call to [`SnapshotReader::fill`] put in the batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FillStats {
    /// Records added.
    pub records: usize,
    /// User keys added (metadata records).
    pub keys: usize,
}

/// Reads the moving slots out of one snapshot.
pub struct SnapshotReader<'a> {
    storage: &'a Storage,
    snapshot: Snapshot<'a>,
    namespaces: Vec<Vec<u8>>,
    first: u16,
    last: u16,
    position: Position,
    /// Bytes read since the files behind the reader were last evicted
    /// from the page cache, and where that eviction ended.
    unevicted: usize,
    evicted_to: Option<Vec<u8>>,
    /// The job's split and which stream this reader is (whole ranges
    /// without one).
    part: Option<(Plan, usize)>,
    /// Column families from this index on are left for later
    /// ([`SnapshotReader::stop_before_cf`]).
    cf_limit: usize,
}

impl<'a> SnapshotReader<'a> {
    /// Starts (or resumes at `position`) reading slots `first..=last` of
    /// every namespace in `namespaces` (the default one is `b""`).
    pub fn new(
        storage: &'a Storage,
        namespaces: Vec<Vec<u8>>,
        first: u16,
        last: u16,
        position: Position,
    ) -> Self {
        SnapshotReader {
            storage,
            snapshot: storage.db().snapshot(),
            namespaces,
            first,
            last,
            position,
            unevicted: 0,
            evicted_to: None,
            part: None,
            cf_limit: Cf::DATA.len(),
        }
    }

    /// Reads only stream `stream`'s part of every range under `plan`.
    pub fn with_part(mut self, plan: Plan, stream: usize) -> Self {
        self.part = Some((plan, stream));
        self
    }

    /// Makes the reader stop (look [`finished`](Self::finished)) before
    /// column family index `cf_index` of [`Cf::DATA`]; `Cf::DATA.len()`
    /// lets it read to the end.
    pub fn stop_before_cf(&mut self, cf_index: usize) {
        self.cf_limit = cf_index.min(Cf::DATA.len());
    }

    /// The range of column family `cf_index`, namespace `ns` this reader
    /// covers.
    fn range(&self, cf_index: usize, ns: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let start = keys::slot_prefix(ns, self.first);
        let end = keys::slot_prefix(ns, self.last + 1);
        match &self.part {
            None => (start, end),
            Some((plan, stream)) => plan.bounds(*stream, cf_index, ns, &start, &end),
        }
    }

    /// The position after the last record handed out.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// How far the reader got, as `(done, total)` approximate on-disk bytes
    /// of the ranges it reads (RocksDB's size estimates of flushed data, so
    /// the ratio, not the figures, is what to use). `total` is 0 when
    /// nothing is flushed yet.
    pub fn progress(&self) -> (u64, u64) {
        let db = self.storage.db();
        let (mut done, mut total) = (0u64, 0u64);
        for (ci, cf) in Cf::DATA.iter().enumerate() {
            let handle = self.storage.cf(*cf);
            for (ni, ns) in self.namespaces.iter().enumerate() {
                let (start, end) = self.range(ci, ns);
                if start >= end {
                    continue;
                }
                let size =
                    db.get_approximate_sizes_cf(handle, &[rocksdb::Range::new(&start, &end)])[0];
                total += size;
                let here = (ci, ni);
                let at = (self.position.cf_index, self.position.ns_index);
                if here < at {
                    done += size;
                } else if here == at {
                    if let Some(after) = &self.position.after {
                        done += db.get_approximate_sizes_cf(
                            handle,
                            &[rocksdb::Range::new(&start, after)],
                        )[0];
                    }
                }
            }
        }
        (done.min(total), total)
    }

    /// True once every column family and namespace has been read (up to
    /// the limit of [`SnapshotReader::stop_before_cf`]).
    pub fn finished(&self) -> bool {
        self.position.cf_index >= self.cf_limit
    }

    /// Adds records to `batch` until it holds about `target_bytes` or the
    /// range is exhausted. Expired keys are skipped.
    pub fn fill(
        &mut self,
        batch: &mut WriteBatch,
        target_bytes: usize,
    ) -> Result<FillStats, StorageError> {
        let mut stats = FillStats::default();
        let now = crate::util::now_ms();
        while !self.finished() && batch.size_in_bytes() < target_bytes {
            let cf = Cf::DATA[self.position.cf_index];
            let Some(ns) = self.namespaces.get(self.position.ns_index) else {
                self.position.cf_index += 1;
                self.position.ns_index = 0;
                self.position.after = None;
                continue;
            };
            let (start, end) = self.range(self.position.cf_index, ns);
            if start >= end {
                self.position.ns_index += 1;
                self.position.after = None;
                continue;
            }
            let opts = Storage::range_read_options(&start, &end, false);
            let handle = self.storage.cf(cf);
            let mut it = self.snapshot.raw_iterator_cf_opt(handle, opts);
            match &self.position.after {
                Some(after) => {
                    it.seek(after);
                    if it.valid() && it.key() == Some(after.as_slice()) {
                        it.next();
                    }
                }
                None => it.seek_to_first(),
            }
            let mut exhausted = true;
            while it.valid() {
                let (Some(k), Some(v)) = (it.key(), it.value()) else {
                    break;
                };
                let expired =
                    cf == Cf::Metadata && Header::decode(v).is_some_and(|h| h.is_expired(now));
                self.unevicted += k.len() + v.len();
                if !expired {
                    batch.put_cf(handle, k, v);
                    stats.records += 1;
                    if cf == Cf::Metadata {
                        stats.keys += 1;
                    }
                }
                match &mut self.position.after {
                    Some(after) => {
                        after.clear();
                        after.extend_from_slice(k);
                    }
                    None => self.position.after = Some(k.to_vec()),
                }
                if self.unevicted >= EVICT_EVERY {
                    let from = self.evicted_to.take().unwrap_or_else(|| start.clone());
                    evict_behind(self.storage, cf, &from, k);
                    self.unevicted = 0;
                    self.evicted_to = Some(k.to_vec());
                }
                if batch.size_in_bytes() >= target_bytes {
                    exhausted = false;
                    break;
                }
                it.next();
            }
            it.status()?;
            drop(it);
            if exhausted {
                let from = self.evicted_to.take().unwrap_or_else(|| start.clone());
                evict_behind(self.storage, cf, &from, &end);
                self.unevicted = 0;
                self.position.ns_index += 1;
                self.position.after = None;
            }
        }
        Ok(stats)
    }
}

/// Drops the files holding `[from, to]` of `cf` from the page cache
/// (see [`Storage::evict_file_cache`]); a failure only costs page cache.
fn evict_behind(storage: &Storage, cf: Cf, from: &[u8], to: &[u8]) {
    if let Err(e) = storage.evict_file_cache(cf, from, to) {
        tracing::debug!("cannot evict migrated files from the page cache: {}", e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::metadata::encode_string;

    #[test]
    fn reads_only_the_slots_in_bounded_chunks_and_resumes() {
        let (_dir, s) = Storage::open_temp();
        for slot in [99u16, 100, 101, 102] {
            for i in 0..50 {
                let k = keys::encode_in_slot(b"", slot, format!("k{i}").as_bytes());
                s.put(Cf::Metadata, &k, &encode_string(0, &[b'v'; 100]))
                    .unwrap();
            }
        }
        let expired = keys::encode_in_slot(b"", 100, b"gone");
        s.put(Cf::Metadata, &expired, &encode_string(1, b"x"))
            .unwrap();
        let ns_key = keys::encode_in_slot(b"ns1", 101, b"other");
        s.put(Cf::Metadata, &ns_key, &encode_string(0, b"y"))
            .unwrap();

        let namespaces = vec![b"".to_vec(), b"ns1".to_vec()];
        let mut reader = SnapshotReader::new(&s, namespaces.clone(), 100, 101, Position::default());
        let mut total = 0;
        let mut chunks = 0;
        let mut resume_at = None;
        while !reader.finished() {
            let mut batch = WriteBatch::default();
            let st = reader.fill(&mut batch, 2048).unwrap();
            assert!(
                batch.size_in_bytes() < 2048 + 200,
                "chunk stays near its target"
            );
            for r in crate::storage::records::parse(batch.data()).unwrap() {
                let crate::storage::records::Record::Put { key, .. } = r else {
                    panic!()
                };
                let (_, slot, _) = keys::decode(key).unwrap();
                assert!(slot == 100 || slot == 101);
                assert_ne!(key, expired.as_slice());
            }
            total += st.keys;
            chunks += 1;
            if chunks == 2 {
                resume_at = Some(reader.position().clone());
            }
        }
        assert_eq!(total, 101);
        assert!(chunks > 3);

        // A new reader started at a saved position continues from there.
        let mut resumed = SnapshotReader::new(&s, namespaces, 100, 101, resume_at.unwrap());
        let mut rest = 0;
        while !resumed.finished() {
            let mut batch = WriteBatch::default();
            rest += resumed.fill(&mut batch, 2048).unwrap().keys;
        }
        assert!(rest < total && rest > 0);
    }
}
