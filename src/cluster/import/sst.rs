//! Destination side, snapshot phase in `sst` import mode: records are
//! appended to one SST file per column family instead of going through
//! the WAL and the memtable, and every `migrate-import-sst-mb` the files
//! are finished, moved into the database (`IngestExternalFile`) and the
//! job's checkpoint is stored. Chunks are acknowledged as they arrive;
//! what was acknowledged but not yet ingested is lost if this node
//! restarts, and the source sends it again from the checkpoint (the same
//! snapshot records, so writing them twice is harmless).

use std::path::PathBuf;

use rocksdb::{Options, SstFileWriter};
use thiserror::Error;

use super::apply::{store_checkpoint, Checkpoint};
use super::validate::{checked, observe_imported, CfMap, ChunkRejected, SlotScope};
use crate::storage::page_cache::{drop_from_page_cache, Dirty};
use crate::storage::records::Record;
use crate::storage::{Cf, Storage, StorageError};

/// Why records could not go to SST files.
#[derive(Debug, Error)]
pub enum SstError {
    /// The chunk broke a rule; nothing of it was taken.
    #[error("chunk refused: {0}")]
    Rejected(#[from] ChunkRejected),
    /// The destination holds keys where the files would go, or a chunk
    /// holds a record that is not a plain put: the import must use the
    /// write path from its last checkpoint on.
    #[error("{0}")]
    FallBack(String),
    /// The engine or the file system failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Building a file failed.
    #[error("building an SST file: {0}")]
    Build(#[from] rocksdb::Error),
    /// The scratch directory could not be prepared.
    #[error("import scratch directory: {0}")]
    Io(#[from] std::io::Error),
}

/// A file being built for one column family.
struct OpenFile {
    writer: SstFileWriter<'static>,
    path: PathBuf,
    first_key: Vec<u8>,
    last_key: Vec<u8>,
    /// Bytes appended since the file's written pages were last dropped
    /// from the page cache.
    uncached: usize,
}

/// Bytes appended to a file between two drops of its written pages from
/// the page cache.
const DROP_CACHE_EVERY: usize = 16 << 20;

/// A finished file waiting to be ingested.
struct FinishedFile {
    cf: Cf,
    path: PathBuf,
    first_key: Vec<u8>,
    last_key: Vec<u8>,
}

/// What a call to [`SstImport::append`] did with a chunk.
#[derive(Debug, PartialEq, Eq)]
pub enum Appended {
    /// Taken, with this many records.
    Taken(usize),
    /// Already received; not taken again.
    Duplicate,
}

/// One job's SST files under construction.
pub struct SstImport {
    job_id: u64,
    stream: u8,
    scope: SlotScope,
    dir: PathBuf,
    /// Index by position in [`Cf::DATA`].
    open: Vec<Option<OpenFile>>,
    finished: Vec<FinishedFile>,
    next_file: u64,
    /// Raw chunk bytes taken since the last ingest.
    pending_bytes: u64,
    /// Sequence and source position of the last chunk taken.
    received: u64,
    /// Sequence of the last chunk whose checkpoint is stored.
    durable: u64,
    position: Vec<u8>,
    /// Whether files opened now compress their blocks: decided from a
    /// sample of the chunk that opens them (see [`compresses_well`]).
    compress: bool,
    /// Declared after `open`, so every writer is dropped before the
    /// options it was created from; boxed, so their address stays put.
    /// The column families' options, and the same without compression.
    options: Box<Options>,
    plain_options: Box<Options>,
}

/// Bytes of a chunk that [`compresses_well`] tries.
const COMPRESSION_SAMPLE: usize = 256 << 10;

/// True when LZ4 shrinks a sample of `raw` below 7/8 of its size, as
/// RocksDB requires of a block before it keeps it compressed: records
/// that do not compress (random values) are written into blocks without
/// trying, which was a quarter of an importer's CPU, and RocksDB would
/// have stored those blocks uncompressed anyway.
fn compresses_well(raw: &[u8]) -> bool {
    let sample = &raw[..raw.len().min(COMPRESSION_SAMPLE)];
    let compressed = lz4_flex::block::compress(sample);
    compressed.len() * 8 < sample.len() * 7
}

impl SstImport {
    /// Starts building files for stream `stream` of `job_id` after
    /// checkpoint `durable` (the last chunk already in the database).
    pub fn new(
        storage: &Storage,
        job_id: u64,
        stream: u8,
        scope: SlotScope,
        durable: u64,
    ) -> Result<SstImport, SstError> {
        let dir = storage.scratch_dir().join(format!("{job_id}-{stream}"));
        remove_dir(&dir)?;
        std::fs::create_dir_all(&dir)?;
        Ok(SstImport {
            job_id,
            stream,
            scope,
            dir,
            open: Cf::DATA.iter().map(|_| None).collect(),
            finished: Vec::new(),
            next_file: 0,
            pending_bytes: 0,
            received: durable,
            durable,
            position: Vec::new(),
            compress: true,
            options: Box::new(storage.sst_options()),
            plain_options: Box::new({
                let mut plain = storage.sst_options();
                plain.set_compression_type(rocksdb::DBCompressionType::None);
                plain
            }),
        })
    }

    /// The job's slots.
    pub fn scope(&self) -> SlotScope {
        self.scope
    }

    /// Sequence of the last chunk taken (in files or in the database).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Raw bytes taken since the last ingest.
    pub fn pending_bytes(&self) -> u64 {
        self.pending_bytes
    }

    /// Checks a snapshot chunk and appends its records to the files.
    /// The caller has checked the sequence follows [`SstImport::received`].
    pub fn append(
        &mut self,
        storage: &Storage,
        sequence: u64,
        raw: &[u8],
        source_position: &[u8],
        cf_map: &CfMap,
    ) -> Result<usize, SstError> {
        let records = checked(raw, cf_map, self.scope)?;
        if let Some((_, r)) = records
            .iter()
            .find(|(_, r)| !matches!(r, Record::Put { .. }))
        {
            return Err(SstError::FallBack(format!(
                "snapshot chunk {sequence} holds a record that is not a put ({r:?})"
            )));
        }
        if records
            .iter()
            .any(|(cf, _)| self.open[cf_index(*cf)].is_none())
        {
            self.compress = compresses_well(raw);
        }
        for (cf, record) in &records {
            let Record::Put { key, value, .. } = *record else {
                continue;
            };
            observe_imported(storage, *cf, value);
            self.put(*cf, key, value)?;
        }
        self.received = sequence;
        self.position.clear();
        self.position.extend_from_slice(source_position);
        self.pending_bytes += raw.len() as u64;
        Ok(records.len())
    }

    /// Appends one record; a key not above the file's last one (the next
    /// namespace's range sorts lower) closes the file and opens another.
    fn put(&mut self, cf: Cf, key: &[u8], value: &[u8]) -> Result<(), SstError> {
        let index = cf_index(cf);
        if self.open[index]
            .as_ref()
            .is_some_and(|f| key <= f.last_key.as_slice())
        {
            self.finish_file(index)?;
        }
        if self.open[index].is_none() {
            let path = self
                .dir
                .join(format!("{:06}-{}.sst", self.next_file, cf.name()));
            self.next_file += 1;
            // SAFETY: the options live in a box owned by `self`, declared
            // after `open` and never replaced, so they outlive every
            // writer created from them wherever `self` moves.
            let options = if self.compress {
                self.options.as_ref()
            } else {
                self.plain_options.as_ref()
            };
            let options: &'static Options = unsafe { &*(options as *const Options) };
            let writer = SstFileWriter::create(options);
            writer.open(&path)?;
            self.open[index] = Some(OpenFile {
                writer,
                path,
                first_key: key.to_vec(),
                last_key: Vec::new(),
                uncached: 0,
            });
        }
        let Some(file) = self.open[index].as_mut() else {
            unreachable!("a file was opened above");
        };
        file.writer.put(key, value)?;
        file.last_key.clear();
        file.last_key.extend_from_slice(key);
        file.uncached += key.len() + value.len();
        if file.uncached >= DROP_CACHE_EVERY {
            // What the writer wrote so far is never read back while it
            // builds the file: out of the page cache with it.
            drop_from_page_cache(&file.path, Dirty::Sync);
            file.uncached = 0;
        }
        Ok(())
    }

    fn finish_file(&mut self, index: usize) -> Result<(), SstError> {
        let Some(mut file) = self.open[index].take() else {
            return Ok(());
        };
        file.writer.finish()?;
        // An import must not fill the page cache (which a container's
        // memory limit counts) with files nobody reads yet.
        drop_from_page_cache(&file.path, Dirty::Sync);
        self.finished.push(FinishedFile {
            cf: Cf::DATA[index],
            path: file.path,
            first_key: file.first_key,
            last_key: file.last_key,
        });
        Ok(())
    }

    /// Finishes the files, ingests them and stores the checkpoint of the
    /// last chunk they hold. Refuses ([`SstError::FallBack`]) when the
    /// database already holds keys between a file's first and last key
    /// (its records would be ingested over them; keys around the file,
    /// such as another stream's range of the same job, are not touched);
    /// then nothing is ingested and the caller drops this import.
    /// Returns how many files were ingested.
    pub fn seal(&mut self, storage: &Storage) -> Result<usize, SstError> {
        for index in 0..self.open.len() {
            self.finish_file(index)?;
        }
        for file in &self.finished {
            // [first, last] is [first, last + "\0").
            let mut end = file.last_key.clone();
            end.push(0);
            if storage.range_holds_keys(file.cf, &file.first_key, &end)? {
                return Err(SstError::FallBack(format!(
                    "column family {} already holds keys in the range of the next file",
                    file.cf.name()
                )));
            }
        }
        for cf in Cf::DATA {
            let paths: Vec<PathBuf> = self
                .finished
                .iter()
                .filter(|f| f.cf == cf)
                .map(|f| f.path.clone())
                .collect();
            storage.ingest(cf, &paths)?;
        }
        let files = self.finished.len();
        self.finished.clear();
        if files > 0 {
            crate::util::failpoint::crash_at("import-after-ingest");
        }
        if self.received > self.durable {
            store_checkpoint(
                storage,
                self.job_id,
                self.stream,
                &Checkpoint {
                    sequence: self.received,
                    source_position: self.position.clone(),
                    source_wal_seq: 0,
                },
            )?;
            self.durable = self.received;
        }
        tracing::debug!(
            "job {}: ingested {} files ({} bytes of snapshot chunks) up to chunk {}",
            self.job_id,
            files,
            self.pending_bytes,
            self.received
        );
        self.pending_bytes = 0;
        Ok(files)
    }
}

impl Drop for SstImport {
    fn drop(&mut self) {
        for file in &mut self.open {
            *file = None;
        }
        if let Err(e) = remove_dir(&self.dir) {
            tracing::warn!(
                "job {}: cannot remove {}: {}",
                self.job_id,
                self.dir.display(),
                e
            );
        }
    }
}

fn cf_index(cf: Cf) -> usize {
    Cf::DATA.iter().position(|c| *c == cf).unwrap_or(0)
}

fn remove_dir(dir: &std::path::Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_chunks_that_compress_make_compressed_files() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let random: Vec<u8> = (0..300_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert!(!compresses_well(&random));
        let docs = r#"{"id":12,"name":"a user","tags":["x","y"],"active":true}"#.repeat(5000);
        assert!(compresses_well(docs.as_bytes()));
    }
    use super::*;
    use crate::cluster::import::apply::load_checkpoint;
    use crate::storage::keys;
    use rocksdb::WriteBatch;

    fn map(s: &Storage) -> CfMap {
        CfMap::from_names(Cf::ALL.iter().map(|cf| (cf.name(), s.cf_id(*cf))))
    }

    #[test]
    fn files_are_ingested_with_their_checkpoint_across_namespaces() {
        let (_d, s) = Storage::open_temp();
        let scope = SlotScope { first: 5, last: 6 };
        let mut imp = SstImport::new(&s, 9, 0, scope, 0).unwrap();
        // Namespace "zz" sorts after "" by name but its keys sort before
        // those of a longer name: files restart when keys go down.
        let mut seq = 0;
        for ns in [&b""[..], b"zz", b"a"] {
            for slot in [5u16, 6] {
                let mut b = WriteBatch::default();
                for i in 0..50 {
                    let k = keys::encode_in_slot(ns, slot, format!("k{i:03}").as_bytes());
                    b.put_cf(s.cf(Cf::Metadata), &k, b"v");
                    b.put_cf(s.cf(Cf::Subkey), &k, b"sub");
                }
                seq += 1;
                imp.append(&s, seq, b.data(), b"pos", &map(&s)).unwrap();
            }
        }
        let dir = s.scratch_dir().join("9-0");
        assert!(std::fs::read_dir(&dir).unwrap().count() > 0);
        assert!(s
            .get(Cf::Metadata, &keys::encode_in_slot(b"zz", 6, b"k010"))
            .unwrap()
            .is_none());
        imp.seal(&s).unwrap();
        for ns in [&b""[..], b"zz", b"a"] {
            let k = keys::encode_in_slot(ns, 6, b"k049");
            assert_eq!(s.get(Cf::Subkey, &k).unwrap().unwrap().as_ref(), b"sub");
        }
        let cp = load_checkpoint(&s, 9, 0).unwrap().unwrap();
        assert_eq!(
            (cp.sequence, cp.source_position.as_slice()),
            (6, &b"pos"[..])
        );
        drop(imp);
        assert!(!dir.exists(), "the job's scratch files are gone");
    }

    #[test]
    fn keys_already_in_the_range_refuse_the_ingest() {
        let (_d, s) = Storage::open_temp();
        let scope = SlotScope { first: 5, last: 5 };
        s.put(Cf::Metadata, &keys::encode_in_slot(b"", 5, b"g"), b"live")
            .unwrap();
        let mut imp = SstImport::new(&s, 3, 0, scope, 0).unwrap();
        let mut b = WriteBatch::default();
        b.put_cf(s.cf(Cf::Metadata), keys::encode_in_slot(b"", 5, b"a"), b"v");
        b.put_cf(s.cf(Cf::Metadata), keys::encode_in_slot(b"", 5, b"m"), b"v");
        imp.append(&s, 1, b.data(), b"p", &map(&s)).unwrap();
        assert!(matches!(imp.seal(&s), Err(SstError::FallBack(_))));
        assert!(s
            .get(Cf::Metadata, &keys::encode_in_slot(b"", 5, b"a"))
            .unwrap()
            .is_none());
        assert!(load_checkpoint(&s, 3, 0).unwrap().is_none());
    }

    #[test]
    fn keys_around_the_files_do_not_refuse_the_ingest() {
        let (_d, s) = Storage::open_temp();
        let scope = SlotScope { first: 5, last: 6 };
        // What another stream of the job ingested before and after.
        for k in [&b"a"[..], b"z"] {
            s.put(Cf::Metadata, &keys::encode_in_slot(b"", 5, k), b"other")
                .unwrap();
        }
        let mut imp = SstImport::new(&s, 4, 1, scope, 0).unwrap();
        let mut b = WriteBatch::default();
        b.put_cf(s.cf(Cf::Metadata), keys::encode_in_slot(b"", 5, b"g"), b"v");
        b.put_cf(s.cf(Cf::Metadata), keys::encode_in_slot(b"", 5, b"m"), b"v");
        imp.append(&s, 1, b.data(), b"p", &map(&s)).unwrap();
        assert_eq!(imp.seal(&s).unwrap(), 1);
        let got = s
            .get(Cf::Metadata, &keys::encode_in_slot(b"", 5, b"m"))
            .unwrap();
        assert_eq!(got.as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn a_refused_chunk_leaves_nothing_in_the_files() {
        let (_d, s) = Storage::open_temp();
        let scope = SlotScope { first: 5, last: 5 };
        let mut imp = SstImport::new(&s, 4, 0, scope, 0).unwrap();
        let mut b = WriteBatch::default();
        b.put_cf(s.cf(Cf::Metadata), keys::encode_in_slot(b"", 5, b"a"), b"v");
        b.put_cf(s.cf(Cf::Metadata), keys::encode_in_slot(b"", 7, b"b"), b"v");
        assert!(matches!(
            imp.append(&s, 1, b.data(), b"p", &map(&s)),
            Err(SstError::Rejected(_))
        ));
        assert_eq!(imp.received(), 0);
        let mut d = WriteBatch::default();
        d.delete_cf(s.cf(Cf::Metadata), keys::encode_in_slot(b"", 5, b"a"));
        assert!(matches!(
            imp.append(&s, 1, d.data(), b"p", &map(&s)),
            Err(SstError::FallBack(_))
        ));
        imp.seal(&s).unwrap();
        assert!(s
            .get(Cf::Metadata, &keys::encode_in_slot(b"", 5, b"a"))
            .unwrap()
            .is_none());
    }
}
