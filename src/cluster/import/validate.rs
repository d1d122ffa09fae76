//! Destination-side checking of a migration chunk: every record must write
//! a data column family, inside the slot range this job imports. A chunk
//! that breaks either rule is refused whole; nothing of it is applied.

use rocksdb::WriteBatch;
use thiserror::Error;

use crate::storage::records::{self, Record, RecordError};
use crate::storage::{keys, Cf, Storage};

/// Why a chunk was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ChunkRejected {
    /// The batch bytes are malformed.
    #[error("malformed write batch: {0}")]
    Malformed(#[from] RecordError),
    /// A record writes a column family that is not migrated.
    #[error(
        "record {index} writes column family id {cf}, which is not a migrated data column family"
    )]
    ForeignColumnFamily {
        /// Record position in the batch.
        index: usize,
        /// Source column family id.
        cf: u32,
    },
    /// A record's key is outside the slots being imported.
    #[error("record {index} touches a key outside slots {first}-{last}")]
    OutsideSlots {
        /// Record position in the batch.
        index: usize,
        /// First slot of the job.
        first: u16,
        /// Last slot of the job.
        last: u16,
    },
}

/// Maps the source's column family ids to local column families, learned
/// from the names the source announces when a job starts.
#[derive(Debug, Clone, Default)]
pub struct CfMap {
    entries: Vec<(u32, Cf)>,
}

impl CfMap {
    /// Builds the map from `(name, source id)` pairs; names that are not
    /// data column families are left out, so their records are refused.
    pub fn from_names<'a>(pairs: impl IntoIterator<Item = (&'a str, u32)>) -> CfMap {
        let entries = pairs
            .into_iter()
            .filter_map(|(name, id)| {
                Cf::DATA
                    .iter()
                    .find(|cf| cf.name() == name)
                    .map(|cf| (id, *cf))
            })
            .collect();
        CfMap { entries }
    }

    /// True when every mapped source id is the local id of its column
    /// family, so the source's records need no renumbering.
    pub fn matches_local(&self, storage: &Storage) -> bool {
        !self.entries.is_empty()
            && self
                .entries
                .iter()
                .all(|(id, cf)| storage.cf_id(*cf) == *id)
    }

    /// The local column family for a source id, if it is a data one.
    pub fn local(&self, id: u32) -> Option<Cf> {
        self.entries
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, cf)| *cf)
    }
}

/// The slots a job moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotScope {
    /// First slot.
    pub first: u16,
    /// Last slot (inclusive).
    pub last: u16,
}

impl SlotScope {
    /// True when `key` is a data key of one of the scope's slots.
    pub fn holds_key(&self, key: &[u8]) -> bool {
        keys::decode(key).is_some_and(|(_, slot, _)| slot >= self.first && slot <= self.last)
    }

    /// A range delete must start inside the scope and end no later than
    /// the first key past the scope, in the same namespace.
    fn holds_range(&self, begin: &[u8], end: &[u8]) -> bool {
        let Some((ns, slot, _)) = keys::decode(begin) else {
            return false;
        };
        if slot < self.first || slot > self.last {
            return false;
        }
        let limit = keys::slot_prefix(ns, self.last + 1);
        end > begin && end <= limit.as_slice()
    }
}

/// Parses `raw` and checks every record against the job's column families
/// and slots; returns each record with its local column family. Nothing is
/// returned unless every record passes, so a refused chunk leaves nothing
/// behind whatever the caller does with the records.
pub fn checked<'r>(
    raw: &'r [u8],
    cf_map: &CfMap,
    scope: SlotScope,
) -> Result<Vec<(Cf, Record<'r>)>, ChunkRejected> {
    let parsed = records::parse(raw)?;
    let mut out = Vec::with_capacity(parsed.len());
    for (index, record) in parsed.into_iter().enumerate() {
        let cf = cf_map
            .local(record.cf())
            .ok_or(ChunkRejected::ForeignColumnFamily {
                index,
                cf: record.cf(),
            })?;
        let inside = match &record {
            Record::Put { key, .. }
            | Record::Delete { key, .. }
            | Record::SingleDelete { key, .. }
            | Record::Merge { key, .. } => scope.holds_key(key),
            Record::DeleteRange { begin, end, .. } => scope.holds_range(begin, end),
        };
        if !inside {
            return Err(ChunkRejected::OutsideSlots {
                index,
                first: scope.first,
                last: scope.last,
            });
        }
        out.push((cf, record));
    }
    Ok(out)
}

/// Notes the version of an imported metadata record: a migrated key keeps
/// its version, and keys re-created here later must get larger ones.
pub fn observe_imported(storage: &Storage, cf: Cf, value: &[u8]) {
    if cf == Cf::Metadata {
        if let Some(v) = crate::storage::metadata::composite_version(value) {
            storage.observe_version(v);
        }
    }
}

/// Checks every record of `raw` and rebuilds it as a local batch (with the
/// local column family handles). Returns the batch and its record count.
pub fn rebuild(
    storage: &Storage,
    raw: &[u8],
    cf_map: &CfMap,
    scope: SlotScope,
) -> Result<(WriteBatch, usize), ChunkRejected> {
    let records = checked(raw, cf_map, scope)?;
    if cf_map.matches_local(storage) {
        // Same column family ids on both sides (two ferrocks nodes): the
        // checked bytes are the batch, taken whole instead of re-encoded
        // record by record.
        for (cf, record) in &records {
            if let Record::Put { value, .. } = record {
                observe_imported(storage, *cf, value);
            }
        }
        return Ok((WriteBatch::from_data(raw), records.len()));
    }
    let mut batch = WriteBatch::default();
    for (cf, record) in &records {
        let handle = storage.cf(*cf);
        match *record {
            Record::Put { key, value, .. } => {
                observe_imported(storage, *cf, value);
                batch.put_cf(handle, key, value)
            }
            Record::Delete { key, .. } => batch.delete_cf(handle, key),
            Record::SingleDelete { key, .. } => batch.single_delete_cf(handle, key),
            Record::DeleteRange { begin, end, .. } => batch.delete_range_cf(handle, begin, end),
            Record::Merge { key, value, .. } => batch.merge_cf(handle, key, value),
        }
    }
    Ok((batch, records.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage() -> (tempfile::TempDir, Storage) {
        Storage::open_temp()
    }

    fn ids(s: &Storage) -> CfMap {
        // The source is another ferrocks: same names; ids learned by name.
        let names: Vec<(&str, u32)> = Cf::ALL.iter().map(|cf| (cf.name(), s.cf_id(*cf))).collect();
        CfMap::from_names(names)
    }

    #[test]
    fn imported_versions_raise_the_local_version_source() {
        let (_d, s) = storage();
        let map = ids(&s);
        let scope = SlotScope {
            first: 0,
            last: 16383,
        };
        let far_ahead = s.next_version() + 1_000_000_000;
        let mut m = crate::storage::metadata::Composite::new(
            crate::storage::metadata::DataType::Hash,
            far_ahead,
        );
        m.size = 1;
        let mut b = WriteBatch::default();
        b.put_cf(s.cf(Cf::Metadata), keys::encode(b"", b"h"), m.encode());
        rebuild(&s, b.data(), &map, scope).unwrap();
        assert!(
            s.next_version() > far_ahead,
            "a re-created key gets a larger version"
        );
    }

    #[test]
    fn accepts_keys_of_the_scope_and_refuses_others() {
        let (_d, s) = storage();
        let map = ids(&s);
        let scope = SlotScope {
            first: 100,
            last: 101,
        };
        let mut ok = WriteBatch::default();
        ok.put_cf(
            s.cf(Cf::Metadata),
            keys::encode_in_slot(b"", 100, b"a"),
            b"v",
        );
        ok.delete_range_cf(
            s.cf(Cf::Subkey),
            keys::slot_prefix(b"", 100),
            keys::slot_prefix(b"", 102),
        );
        let (_, n) = rebuild(&s, ok.data(), &map, scope).unwrap();
        assert_eq!(n, 2);

        let mut outside = WriteBatch::default();
        outside.put_cf(
            s.cf(Cf::Metadata),
            keys::encode_in_slot(b"", 100, b"a"),
            b"v",
        );
        outside.put_cf(s.cf(Cf::Metadata), keys::encode_in_slot(b"", 5, b"b"), b"v");
        assert!(matches!(
            rebuild(&s, outside.data(), &map, scope),
            Err(ChunkRejected::OutsideSlots { index: 1, .. })
        ));

        let mut internal = WriteBatch::default();
        internal.put_cf(
            s.cf(Cf::Internal),
            keys::encode_in_slot(b"", 100, b"a"),
            b"v",
        );
        assert!(matches!(
            rebuild(&s, internal.data(), &map, scope),
            Err(ChunkRejected::ForeignColumnFamily { .. })
        ));

        let mut wide = WriteBatch::default();
        wide.delete_range_cf(
            s.cf(Cf::Metadata),
            keys::slot_prefix(b"", 100),
            keys::slot_prefix(b"", 200),
        );
        assert!(rebuild(&s, wide.data(), &map, scope).is_err());
    }
}
