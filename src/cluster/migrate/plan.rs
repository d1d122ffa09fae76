//! How a job's snapshot is split into parallel streams: for every data
//! column family and namespace, the keys where the streams after the first
//! begin. Split points are slot boundaries (a job over several slots) and
//! the first keys of RocksDB's own SST files inside the range (one big
//! slot), picked so the streams get about the same number of bytes by
//! RocksDB's size estimates. The plan is part of the job's record, so a
//! restarted job gives every stream the same range again.

use crate::storage::{keys, Cf, Storage};

/// Most candidate split points weighed per column family and namespace.
const MAX_CANDIDATES: usize = 256;

/// The split of one job's snapshot into streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    streams: u8,
    /// `(index into Cf::DATA, namespace, split keys)`, split keys sorted
    /// and fewer than `streams`; a range without an entry is stream 0's.
    splits: Vec<(u8, Vec<u8>, Vec<Vec<u8>>)>,
}

impl Plan {
    /// One stream reading everything.
    pub fn single() -> Plan {
        Plan {
            streams: 1,
            splits: Vec::new(),
        }
    }

    /// Number of streams.
    pub fn streams(&self) -> usize {
        usize::from(self.streams)
    }

    /// Splits slots `first..=last` of `namespaces` into `streams` ranges
    /// of about equal size on disk. Data not flushed yet counts for
    /// nothing, so a small or fresh slot may leave streams empty.
    pub fn compute(
        storage: &Storage,
        namespaces: &[Vec<u8>],
        first: u16,
        last: u16,
        streams: usize,
    ) -> Plan {
        let streams = streams.clamp(1, usize::from(u8::MAX));
        let mut plan = Plan {
            streams: streams as u8,
            splits: Vec::new(),
        };
        if streams == 1 {
            return plan;
        }
        let files = storage.db().live_files().unwrap_or_default();
        for (ci, cf) in Cf::DATA.iter().enumerate() {
            for ns in namespaces {
                let start = keys::slot_prefix(ns, first);
                let end = keys::slot_prefix(ns, last + 1);
                let mut candidates: Vec<Vec<u8>> = (first + 1..=last)
                    .map(|slot| keys::slot_prefix(ns, slot))
                    .collect();
                candidates.extend(
                    files
                        .iter()
                        .filter(|f| f.column_family_name == cf.name())
                        .filter_map(|f| f.start_key.clone())
                        .filter(|k| {
                            k.as_slice() > start.as_slice() && k.as_slice() < end.as_slice()
                        }),
                );
                candidates.sort();
                candidates.dedup();
                if candidates.len() > MAX_CANDIDATES {
                    let step = candidates.len() / MAX_CANDIDATES + 1;
                    candidates = candidates.into_iter().step_by(step).collect();
                }
                let splits = pick_splits(storage, *cf, &start, &end, &candidates, streams);
                if !splits.is_empty() {
                    plan.splits.push((ci as u8, ns.clone(), splits));
                }
            }
        }
        plan
    }

    /// The part of `[start, end)` (column family `cf_index`, namespace
    /// `ns`) that stream `stream` reads.
    pub fn bounds(
        &self,
        stream: usize,
        cf_index: usize,
        ns: &[u8],
        start: &[u8],
        end: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let splits = self
            .splits
            .iter()
            .find(|(ci, n, _)| usize::from(*ci) == cf_index && n.as_slice() == ns)
            .map(|(_, _, s)| s.as_slice())
            .unwrap_or(&[]);
        let lo = match stream {
            0 => start.to_vec(),
            s => splits.get(s - 1).cloned().unwrap_or_else(|| end.to_vec()),
        };
        let hi = splits.get(stream).cloned().unwrap_or_else(|| end.to_vec());
        (lo, hi)
    }

    /// Appends the plan's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.streams);
        out.extend_from_slice(&(self.splits.len() as u32).to_be_bytes());
        for (ci, ns, keys) in &self.splits {
            out.push(*ci);
            put_bytes(out, ns);
            out.extend_from_slice(&(keys.len() as u32).to_be_bytes());
            for k in keys {
                put_bytes(out, k);
            }
        }
    }

    /// Reads a plan written by [`Plan::encode`].
    pub fn decode(raw: &[u8]) -> Option<Plan> {
        let mut r = Reader(raw);
        let streams = r.u8()?;
        let n = r.u32()?;
        let mut splits = Vec::new();
        for _ in 0..n {
            let ci = r.u8()?;
            let ns = r.bytes()?;
            let count = r.u32()?;
            let mut keys = Vec::new();
            for _ in 0..count {
                keys.push(r.bytes()?);
            }
            splits.push((ci, ns, keys));
        }
        (streams >= 1).then_some(Plan { streams, splits })
    }
}

/// Picks up to `streams - 1` of `candidates` (sorted keys inside
/// `[start, end)`) that cut the range into parts of about equal size.
fn pick_splits(
    storage: &Storage,
    cf: Cf,
    start: &[u8],
    end: &[u8],
    candidates: &[Vec<u8>],
    streams: usize,
) -> Vec<Vec<u8>> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let db = storage.db();
    let handle = storage.cf(cf);
    let total = db.get_approximate_sizes_cf(handle, &[rocksdb::Range::new(start, end)])[0];
    if total == 0 {
        return Vec::new();
    }
    let ranges: Vec<rocksdb::Range<'_>> = candidates
        .iter()
        .map(|c| rocksdb::Range::new(start, c))
        .collect();
    let before = db.get_approximate_sizes_cf(handle, &ranges);
    let mut out: Vec<Vec<u8>> = Vec::new();
    for k in 1..streams as u64 {
        let target = total * k / streams as u64;
        let best = before
            .iter()
            .enumerate()
            .filter(|(i, _)| out.last().is_none_or(|last| candidates[*i] > *last))
            .min_by_key(|(_, size)| size.abs_diff(target));
        if let Some((i, size)) = best {
            // A split that leaves a part empty is no split.
            if *size > 0 && *size < total {
                out.push(candidates[i].clone());
            }
        }
    }
    out
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// A cursor over encoded bytes.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    }

    fn bytes(&mut self) -> Option<Vec<u8>> {
        let n = self.u32()? as usize;
        self.take(n).map(<[u8]>::to_vec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::metadata::encode_string;

    #[test]
    fn streams_get_disjoint_ranges_that_cover_the_slots() {
        let (_d, s) = Storage::open_temp();
        for slot in 10u16..18 {
            for i in 0..300 {
                let k = keys::encode_in_slot(b"", slot, format!("k{i:04}").as_bytes());
                s.put(Cf::Metadata, &k, &encode_string(0, &[b'v'; 200]))
                    .unwrap();
            }
            s.flush().unwrap();
        }
        let namespaces = vec![b"".to_vec()];
        let plan = Plan::compute(&s, &namespaces, 10, 17, 4);
        assert_eq!(plan.streams(), 4);
        let start = keys::slot_prefix(b"", 10);
        let end = keys::slot_prefix(b"", 18);
        let parts: Vec<_> = (0..4)
            .map(|st| plan.bounds(st, 0, b"", &start, &end))
            .collect();
        assert_eq!(parts[0].0, start);
        assert_eq!(parts[3].1, end);
        for w in parts.windows(2) {
            assert_eq!(w[0].1, w[1].0, "contiguous");
            assert!(w[0].0 < w[0].1, "not empty: {parts:?}");
        }
        let mut bytes = Vec::new();
        plan.encode(&mut bytes);
        assert_eq!(Plan::decode(&bytes), Some(plan.clone()));
        // A range the plan has no entry for is stream 0's.
        let (lo, hi) = plan.bounds(2, 1, b"", &start, &end);
        assert_eq!(lo, hi);
        assert_eq!(plan.bounds(0, 1, b"", &start, &end), (start, end));
    }
}
