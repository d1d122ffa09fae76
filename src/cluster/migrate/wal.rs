//! Incremental phase: cuts the records of the moving slots out of a WAL
//! batch. Range deletes (FLUSHDB, FLUSHALL) are clipped to the slots.

use rocksdb::WriteBatch;

use crate::storage::records::{self, Record, RecordError};
use crate::storage::{keys, Cf, Storage};

/// The slots and namespaces a job moves, with the local data CF ids.
pub struct Cutter {
    cf_ids: Vec<(u32, Cf)>,
    namespaces: Vec<Vec<u8>>,
    first: u16,
    last: u16,
}

impl Cutter {
    /// A cutter for slots `first..=last` of `namespaces`.
    pub fn new(storage: &Storage, namespaces: Vec<Vec<u8>>, first: u16, last: u16) -> Cutter {
        Cutter {
            cf_ids: Cf::DATA
                .iter()
                .map(|cf| (storage.cf_id(*cf), *cf))
                .collect(),
            namespaces,
            first,
            last,
        }
    }

    fn in_scope(&self, key: &[u8]) -> bool {
        keys::decode(key).is_some_and(|(ns, slot, _)| {
            slot >= self.first && slot <= self.last && self.namespaces.iter().any(|n| n == ns)
        })
    }

    /// Appends to `out` the records of `wal_batch` that touch the moving
    /// slots; returns how many it added.
    pub fn cut(
        &self,
        storage: &Storage,
        wal_batch: &[u8],
        out: &mut WriteBatch,
    ) -> Result<usize, RecordError> {
        let mut added = 0;
        for record in records::parse(wal_batch)? {
            let Some(cf) = self
                .cf_ids
                .iter()
                .find(|(id, _)| *id == record.cf())
                .map(|(_, c)| *c)
            else {
                continue;
            };
            let handle = storage.cf(cf);
            match record {
                Record::Put { key, value, .. } if self.in_scope(key) => {
                    out.put_cf(handle, key, value)
                }
                Record::Delete { key, .. } if self.in_scope(key) => out.delete_cf(handle, key),
                Record::SingleDelete { key, .. } if self.in_scope(key) => {
                    out.single_delete_cf(handle, key)
                }
                Record::Merge { key, value, .. } if self.in_scope(key) => {
                    out.merge_cf(handle, key, value)
                }
                Record::DeleteRange { begin, end, .. } => {
                    for ns in &self.namespaces {
                        let lo = keys::slot_prefix(ns, self.first);
                        let hi = keys::slot_prefix(ns, self.last + 1);
                        let b = if begin > lo.as_slice() {
                            begin
                        } else {
                            lo.as_slice()
                        };
                        let e = if end < hi.as_slice() {
                            end
                        } else {
                            hi.as_slice()
                        };
                        if b < e {
                            out.delete_range_cf(handle, b, e);
                            added += 1;
                        }
                    }
                    continue;
                }
                _ => continue,
            }
            added += 1;
        }
        Ok(added)
    }
}
