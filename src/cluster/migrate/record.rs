//! What the source persists about a running job, so that a restart (even
//! kill -9) continues the job instead of forgetting it: the job record in
//! the internal column family, and the resume position every chunk carries
//! to the destination's checkpoint.

use super::plan::Plan;
use super::snapshot::Position;
use crate::storage::{Cf, Storage, StorageError};

/// Prefix of job records in the internal column family.
const RECORD_PREFIX: &[u8] = b"migrate/job/";
/// Format of the record value: 2 carries the split into streams after a
/// length-prefixed destination id; 1 (read still) ends with the id.
const RECORD_VERSION: u8 = 2;
/// Bit of the stage byte set for a per-key (`redis-command`) job; records
/// written before per-key jobs were persisted never have it.
const PER_KEY_BIT: u8 = 0x80;

/// How far a persisted job got, as far as the source is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Copying: snapshot or WAL catch-up; writes flow normally.
    Copying,
    /// The cut-over began: on restart the slots start paused until the
    /// hand-off is finished or known not to have happened.
    Cutover,
}

/// A job as persisted on the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// Job id (also the destination's checkpoint key).
    pub job_id: u64,
    /// First slot.
    pub first: u16,
    /// Last slot.
    pub last: u16,
    /// Destination node id.
    pub dst_id: String,
    /// WAL sequence the first snapshot was taken at: a resumed job replays
    /// the WAL from here, whatever snapshot it reads the rest from.
    pub snapshot_seq: u64,
    /// Copying or cut-over.
    pub stage: Stage,
    /// A per-key (`migrate-type redis-command`) job: it resumes key by key
    /// (the keys still here), never through the batch path, and its slots
    /// stay MIGRATING until the hand-off.
    pub per_key: bool,
    /// How the snapshot is split into parallel streams.
    pub plan: Plan,
}

fn record_key(job_id: u64) -> Vec<u8> {
    let mut k = RECORD_PREFIX.to_vec();
    k.extend_from_slice(&job_id.to_be_bytes());
    k
}

impl JobRecord {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![RECORD_VERSION];
        out.extend_from_slice(&self.first.to_be_bytes());
        out.extend_from_slice(&self.last.to_be_bytes());
        out.extend_from_slice(&self.snapshot_seq.to_be_bytes());
        let stage = match self.stage {
            Stage::Copying => 0,
            Stage::Cutover => 1,
        };
        out.push(if self.per_key {
            stage | PER_KEY_BIT
        } else {
            stage
        });
        out.extend_from_slice(&(self.dst_id.len() as u16).to_be_bytes());
        out.extend_from_slice(self.dst_id.as_bytes());
        self.plan.encode(&mut out);
        out
    }

    fn decode(job_id: u64, raw: &[u8]) -> Option<JobRecord> {
        let version = *raw.first()?;
        if version != 1 && version != RECORD_VERSION {
            return None;
        }
        let first = u16::from_be_bytes(raw.get(1..3)?.try_into().ok()?);
        let last = u16::from_be_bytes(raw.get(3..5)?.try_into().ok()?);
        let snapshot_seq = u64::from_be_bytes(raw.get(5..13)?.try_into().ok()?);
        let stage_byte = *raw.get(13)?;
        let stage = match stage_byte & !PER_KEY_BIT {
            0 => Stage::Copying,
            1 => Stage::Cutover,
            _ => return None,
        };
        let (dst_id, plan) = if version == 1 {
            (raw.get(14..)?.to_vec(), Plan::single())
        } else {
            let len = usize::from(u16::from_be_bytes(raw.get(14..16)?.try_into().ok()?));
            let id = raw.get(16..16 + len)?.to_vec();
            (id, Plan::decode(raw.get(16 + len..)?)?)
        };
        let dst_id = String::from_utf8(dst_id).ok()?;
        Some(JobRecord {
            job_id,
            first,
            last,
            dst_id,
            snapshot_seq,
            stage,
            per_key: stage_byte & PER_KEY_BIT != 0,
            plan,
        })
    }

    /// Writes (or overwrites) the record.
    pub fn save(&self, storage: &Storage) -> Result<(), StorageError> {
        storage.put(Cf::Internal, &record_key(self.job_id), &self.encode())
    }

    /// Forgets a job (it ended, one way or the other).
    pub fn delete(storage: &Storage, job_id: u64) -> Result<(), StorageError> {
        storage.delete(Cf::Internal, &record_key(job_id))
    }

    /// Every persisted job; records this version cannot read are skipped
    /// with a warning.
    pub fn load_all(storage: &Storage) -> Result<Vec<JobRecord>, StorageError> {
        let mut end = RECORD_PREFIX.to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        let opts = Storage::range_read_options(RECORD_PREFIX, &end, true);
        let mut it = storage
            .db()
            .raw_iterator_cf_opt(storage.cf(Cf::Internal), opts);
        it.seek_to_first();
        let mut out = Vec::new();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let id = k
                .get(RECORD_PREFIX.len()..)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes);
            match id.and_then(|id| JobRecord::decode(id, v)) {
                Some(r) => out.push(r),
                None => tracing::warn!("skipping an unreadable migration job record"),
            }
            it.next();
        }
        it.status()?;
        Ok(out)
    }
}

/// Where the source stands after a chunk; stored by the destination with
/// its checkpoint and handed back when the source reconnects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourcePosition {
    /// In the snapshot: column family index, namespace (by name, so a
    /// restart that lists namespaces differently still finds it) and the
    /// last key copied there.
    Snapshot {
        /// Index into [`Cf::DATA`].
        cf_index: u8,
        /// Namespace bytes (empty = default namespace).
        namespace: Vec<u8>,
        /// Last key copied, if any yet in this namespace.
        after: Option<Vec<u8>>,
    },
    /// In the WAL: every record up to this sequence was shipped.
    Wal(u64),
}

impl SourcePosition {
    /// The snapshot reader's position, with its namespace named.
    pub fn from_snapshot(p: &Position, namespaces: &[Vec<u8>]) -> SourcePosition {
        match namespaces.get(p.ns_index) {
            Some(ns) => SourcePosition::Snapshot {
                cf_index: p.cf_index as u8,
                namespace: ns.clone(),
                after: p.after.clone(),
            },
            // Past the last namespace: the start of the next column family.
            None => SourcePosition::Snapshot {
                cf_index: p.cf_index as u8 + 1,
                namespace: namespaces.first().cloned().unwrap_or_default(),
                after: None,
            },
        }
    }

    /// Encodes for the wire: `S cf nslen ns key...` or `W seq`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            SourcePosition::Snapshot {
                cf_index,
                namespace,
                after,
            } => {
                let mut out = vec![b'S', *cf_index, namespace.len() as u8];
                out.extend_from_slice(namespace);
                if let Some(k) = after {
                    out.extend_from_slice(k);
                }
                out
            }
            SourcePosition::Wal(seq) => {
                let mut out = vec![b'W'];
                out.extend_from_slice(&seq.to_be_bytes());
                out
            }
        }
    }

    /// Decodes what [`SourcePosition::encode`] wrote; `None` when empty
    /// (nothing applied yet) or unreadable.
    pub fn decode(raw: &[u8]) -> Option<SourcePosition> {
        match raw.first()? {
            b'S' => {
                let cf_index = *raw.get(1)?;
                let len = *raw.get(2)? as usize;
                let namespace = raw.get(3..3 + len)?.to_vec();
                let rest = raw.get(3 + len..)?;
                Some(SourcePosition::Snapshot {
                    cf_index,
                    namespace,
                    after: (!rest.is_empty()).then(|| rest.to_vec()),
                })
            }
            b'W' => Some(SourcePosition::Wal(u64::from_be_bytes(
                raw.get(1..9)?.try_into().ok()?,
            ))),
            _ => None,
        }
    }

    /// The snapshot reader position to continue from, given today's sorted
    /// namespace list: the same namespace if it still exists, else the next
    /// one in order (from its start).
    pub fn to_reader_position(&self, namespaces: &[Vec<u8>]) -> Option<Position> {
        let SourcePosition::Snapshot {
            cf_index,
            namespace,
            after,
        } = self
        else {
            return None;
        };
        let ns_index = namespaces
            .iter()
            .position(|n| n >= namespace)
            .unwrap_or(namespaces.len());
        let same = namespaces.get(ns_index) == Some(namespace);
        Some(Position {
            cf_index: *cf_index as usize,
            ns_index,
            after: if same { after.clone() } else { None },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_list() {
        let (_dir, s) = Storage::open_temp();
        let a = JobRecord {
            job_id: 7,
            first: 10,
            last: 20,
            dst_id: "abc".into(),
            snapshot_seq: 99,
            stage: Stage::Copying,
            per_key: false,
            plan: Plan::single(),
        };
        let mut b = a.clone();
        b.job_id = 8;
        b.stage = Stage::Cutover;
        let mut c = a.clone();
        c.job_id = 9;
        c.per_key = true;
        let mut d = b.clone();
        d.job_id = 10;
        d.per_key = true;
        let mut split = Vec::new();
        Plan::single().encode(&mut split);
        split[0] = 3;
        d.plan = Plan::decode(&split).unwrap();
        for r in [&a, &b, &c, &d] {
            r.save(&s).unwrap();
        }
        assert_eq!(
            JobRecord::load_all(&s).unwrap(),
            vec![a.clone(), b, c.clone(), d.clone()]
        );
        JobRecord::delete(&s, 8).unwrap();
        assert_eq!(JobRecord::load_all(&s).unwrap(), vec![a, c, d]);
    }

    #[test]
    fn records_written_before_the_per_key_bit_still_read() {
        // Stage byte 1 (cut-over) without the per-key bit, as version 1
        // records have always been written.
        let mut raw = vec![1, 0, 5, 0, 6];
        raw.extend_from_slice(&42u64.to_be_bytes());
        raw.push(1);
        raw.extend_from_slice(b"dst");
        let r = JobRecord::decode(3, &raw).unwrap();
        assert_eq!(
            (r.stage, r.per_key, r.snapshot_seq),
            (Stage::Cutover, false, 42)
        );
        assert_eq!((r.first, r.last, r.dst_id.as_str()), (5, 6, "dst"));
        raw[13] = 2;
        assert_eq!(JobRecord::decode(3, &raw), None);
    }

    #[test]
    fn positions_round_trip_and_map_onto_namespaces() {
        let snap = SourcePosition::Snapshot {
            cf_index: 1,
            namespace: b"ns2".to_vec(),
            after: Some(b"\x03ns2\x00\x05key".to_vec()),
        };
        for p in [snap.clone(), SourcePosition::Wal(12345)] {
            assert_eq!(SourcePosition::decode(&p.encode()), Some(p));
        }
        assert_eq!(SourcePosition::decode(b""), None);
        assert_eq!(SourcePosition::decode(b"X"), None);

        let list = vec![b"".to_vec(), b"ns1".to_vec(), b"ns2".to_vec()];
        // A reader past the last namespace of a column family continues
        // with the next column family.
        let past = Position {
            cf_index: 0,
            ns_index: 3,
            after: None,
        };
        let next = SourcePosition::from_snapshot(&past, &list)
            .to_reader_position(&list)
            .unwrap();
        assert_eq!((next.cf_index, next.ns_index, next.after), (1, 0, None));
        let p = snap.to_reader_position(&list).unwrap();
        assert_eq!((p.cf_index, p.ns_index, p.after.is_some()), (1, 2, true));
        // The namespace is gone: continue with the next one, from its start.
        let list = vec![b"".to_vec(), b"ns1".to_vec(), b"ns3".to_vec()];
        let p = snap.to_reader_position(&list).unwrap();
        assert_eq!((p.ns_index, p.after), (2, None));
    }
}
