//! A reader for the serialized form of a RocksDB `WriteBatch`, so that a
//! migration chunk can be checked record by record before it is applied,
//! and so that WAL batches can be cut down to the records of moving slots.
//!
//! Layout: `[sequence: u64 LE][count: u32 LE]` then `count` records, each a
//! tag byte, an optional varint column family id, and length-prefixed
//! (varint) key and value strings. Tags other than the plain data records
//! are refused: a migration chunk never needs them.

use thiserror::Error;

/// Size of the batch header.
pub const BATCH_HEADER_LEN: usize = 12;

/// One data record of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    /// Put `key` = `value` in column family `cf`.
    Put {
        /// Column family id (0 = default).
        cf: u32,
        /// The key.
        key: &'a [u8],
        /// The value.
        value: &'a [u8],
    },
    /// Delete `key`.
    Delete {
        /// Column family id.
        cf: u32,
        /// The key.
        key: &'a [u8],
    },
    /// SingleDelete `key`.
    SingleDelete {
        /// Column family id.
        cf: u32,
        /// The key.
        key: &'a [u8],
    },
    /// Delete `[begin, end)`.
    DeleteRange {
        /// Column family id.
        cf: u32,
        /// First key deleted.
        begin: &'a [u8],
        /// First key kept.
        end: &'a [u8],
    },
    /// Merge `value` into `key`.
    Merge {
        /// Column family id.
        cf: u32,
        /// The key.
        key: &'a [u8],
        /// The operand.
        value: &'a [u8],
    },
}

impl Record<'_> {
    /// The column family the record writes to.
    pub fn cf(&self) -> u32 {
        match *self {
            Record::Put { cf, .. }
            | Record::Delete { cf, .. }
            | Record::SingleDelete { cf, .. }
            | Record::DeleteRange { cf, .. }
            | Record::Merge { cf, .. } => cf,
        }
    }
}

/// Why a batch could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RecordError {
    /// Shorter than its header or a record runs past the end.
    #[error("write batch truncated at byte {0}")]
    Truncated(usize),
    /// A record type a migration chunk must not contain.
    #[error("unsupported write batch record tag {0:#x} at byte {1}")]
    UnsupportedTag(u8, usize),
    /// The header's count disagrees with the records found.
    #[error("write batch header counts {expected} records, found {found}")]
    CountMismatch {
        /// From the header.
        expected: u32,
        /// Actually present.
        found: u32,
    },
}

/// The sequence number and record count from a batch header.
pub fn header(data: &[u8]) -> Result<(u64, u32), RecordError> {
    if data.len() < BATCH_HEADER_LEN {
        return Err(RecordError::Truncated(data.len()));
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&data[..8]);
    let mut count = [0u8; 4];
    count.copy_from_slice(&data[8..12]);
    Ok((u64::from_le_bytes(seq), u32::from_le_bytes(count)))
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn varint32(&mut self) -> Result<u32, RecordError> {
        let mut value: u32 = 0;
        for shift in (0..35).step_by(7) {
            let b = *self
                .data
                .get(self.pos)
                .ok_or(RecordError::Truncated(self.pos))?;
            self.pos += 1;
            value |= ((b & 0x7F) as u32) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(RecordError::Truncated(self.pos))
    }

    fn slice(&mut self) -> Result<&'a [u8], RecordError> {
        let len = self.varint32()? as usize;
        let end = self
            .pos
            .checked_add(len)
            .filter(|e| *e <= self.data.len())
            .ok_or(RecordError::Truncated(self.pos))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
}

/// Reads every record of a serialized batch.
pub fn parse(data: &[u8]) -> Result<Vec<Record<'_>>, RecordError> {
    let (_, expected) = header(data)?;
    let mut out = Vec::with_capacity(expected.min(1 << 16) as usize);
    visit(data, |r| out.push(r))?;
    Ok(out)
}

/// Calls `each` with every record of a serialized batch, in order,
/// without collecting them.
pub fn visit<'a>(data: &'a [u8], mut each: impl FnMut(Record<'a>)) -> Result<(), RecordError> {
    let (_, expected) = header(data)?;
    let mut c = Cursor {
        data,
        pos: BATCH_HEADER_LEN,
    };
    let mut found = 0u32;
    while c.pos < data.len() {
        let at = c.pos;
        let tag = data[at];
        c.pos += 1;
        let cf = match tag {
            0x04..=0x06 | 0x08 | 0x0E => c.varint32()?,
            _ => 0,
        };
        let record = match tag {
            0x01 | 0x05 => Record::Put {
                cf,
                key: c.slice()?,
                value: c.slice()?,
            },
            0x00 | 0x04 => Record::Delete {
                cf,
                key: c.slice()?,
            },
            0x07 | 0x08 => Record::SingleDelete {
                cf,
                key: c.slice()?,
            },
            0x0F | 0x0E => Record::DeleteRange {
                cf,
                begin: c.slice()?,
                end: c.slice()?,
            },
            0x02 | 0x06 => Record::Merge {
                cf,
                key: c.slice()?,
                value: c.slice()?,
            },
            other => return Err(RecordError::UnsupportedTag(other, at)),
        };
        found = found.wrapping_add(1);
        each(record);
    }
    if found != expected {
        return Err(RecordError::CountMismatch { expected, found });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocksdb::{ColumnFamilyDescriptor, Options, WriteBatch, DB};

    #[test]
    fn reads_what_rocksdb_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let db = DB::open_cf_descriptors(
            &opts,
            dir.path(),
            vec![
                ColumnFamilyDescriptor::new("default", Options::default()),
                ColumnFamilyDescriptor::new("meta", Options::default()),
            ],
        )
        .unwrap();
        let meta = db.cf_handle("meta").unwrap();
        let mut b = WriteBatch::default();
        b.put(b"k1", b"v1");
        b.put_cf(meta, b"k2", vec![7u8; 300]);
        b.delete_cf(meta, b"k3");
        b.delete_range_cf(meta, b"a", b"b");
        b.delete(b"k4");
        let records = parse(b.data()).unwrap();
        assert_eq!(records.len(), 5);
        assert_eq!(
            records[0],
            Record::Put {
                cf: 0,
                key: b"k1",
                value: b"v1"
            }
        );
        assert!(
            matches!(records[1], Record::Put { cf, key: b"k2", value } if cf != 0 && value.len() == 300)
        );
        assert!(matches!(records[2], Record::Delete { key: b"k3", .. }));
        assert!(matches!(
            records[3],
            Record::DeleteRange {
                begin: b"a",
                end: b"b",
                ..
            }
        ));
        assert_eq!(records[4], Record::Delete { cf: 0, key: b"k4" });
    }

    #[test]
    fn malformed_batches_are_refused() {
        assert_eq!(parse(&[0u8; 5]), Err(RecordError::Truncated(5)));
        let mut b = WriteBatch::default();
        b.put(b"key", b"value");
        let data = b.data().to_vec();
        assert!(matches!(
            parse(&data[..data.len() - 1]),
            Err(RecordError::Truncated(_))
        ));
        let mut bad_tag = data.clone();
        bad_tag[BATCH_HEADER_LEN] = 0x03;
        assert!(matches!(
            parse(&bad_tag),
            Err(RecordError::UnsupportedTag(0x03, _))
        ));
        let mut bad_count = data.clone();
        bad_count[8] = 2;
        assert!(matches!(
            parse(&bad_count),
            Err(RecordError::CountMismatch { .. })
        ));
    }
}
