//! Helpers of the slot migration tests: fill a slot with incompressible
//! values, run a job and wait for its end, read `INFO migration` fields,
//! and check that a slot arrived intact.

use std::time::Duration;

use super::{key_in_slot, Cluster};
use crate::common::{q, wait_until};

/// Fills `slot` on node `node` with `n` keys of pseudo-random values of
/// `size` bytes (little for LZ4 to squeeze) — strings, hashes, lists, sets
/// and sorted sets — and returns every key's DUMP payload.
pub fn fill_slot(
    cl: &Cluster,
    node: usize,
    slot: u16,
    n: usize,
    size: usize,
) -> Vec<(String, Vec<u8>)> {
    let mut con = cl.client(node);
    let mut x: u64 = 0x2545F4914F6CDD1D ^ u64::from(slot);
    let mut keys = Vec::new();
    for part in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut pipe = redis::pipe();
        for i in part {
            let value = random_letters(&mut x, size);
            let k = key_in_slot(slot, &format!(":{i}"));
            // Every other key is composite, so subkey and score records
            // move too: the same bytes split into fields, items, members.
            let (a, b) = value.split_at(size / 2);
            match i % 8 {
                1 => pipe.cmd("HSET").arg(&k).arg("f1").arg(a).arg("f2").arg(b),
                3 => pipe.cmd("RPUSH").arg(&k).arg(a).arg(b),
                5 => pipe.cmd("SADD").arg(&k).arg(a).arg(b),
                7 => pipe.cmd("ZADD").arg(&k).arg(1.5).arg(a).arg(-2).arg(b),
                _ => pipe.cmd("SET").arg(&k).arg(&value),
            }
            .ignore();
            keys.push(k);
        }
        let _: () = pipe.query(&mut con).unwrap();
    }
    dump_all(cl, node, &keys)
}

/// `size` random lowercase letters from the xorshift state `x` (values
/// LZ4 cannot shrink much, so files on disk are as big as the data).
pub fn random_letters(x: &mut u64, size: usize) -> String {
    (0..size)
        .map(|_| {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            (b'a' + (*x % 26) as u8) as char
        })
        .collect()
}

/// `(key, DUMP payload)` of every key in `keys`, read from node `node`.
pub fn dump_all(cl: &Cluster, node: usize, keys: &[String]) -> Vec<(String, Vec<u8>)> {
    let mut con = cl.client(node);
    keys.iter()
        .map(|k| {
            let d: Vec<u8> = redis::cmd("DUMP").arg(k).query(&mut con).unwrap();
            (k.clone(), d)
        })
        .collect()
}

/// The first `job_` line of `INFO migration` on node `node`.
pub fn job_line(cl: &Cluster, node: usize) -> String {
    let mut con = cl.client(node);
    let info: String = q(&mut con, &["INFO", "migration"]);
    info.lines()
        .find(|l| l.starts_with("job_"))
        .unwrap_or("")
        .to_string()
}

/// Starts `CLUSTERX MIGRATE <slot> <dst> async` on node `src`.
pub fn start_migration(cl: &Cluster, src: usize, dst: usize, slot: u16) {
    let mut con = cl.client(src);
    let r: String = q(
        &mut con,
        &[
            "CLUSTERX",
            "MIGRATE",
            &slot.to_string(),
            cl.id(dst),
            "async",
        ],
    );
    assert_eq!(r, "OK");
}

/// Waits (up to 90 s) for node `src`'s job to succeed or fail; returns its
/// `INFO migration` line.
pub fn wait_job_end(cl: &Cluster, src: usize) -> String {
    let mut line = String::new();
    let done = wait_until(Duration::from_secs(90), || {
        line = job_line(cl, src);
        line.contains("state=success") || line.contains("state=failed")
    });
    assert!(done, "job did not finish: {line}");
    line
}

/// Migrates `slot` from node 0 to node 1 and waits for the end.
pub fn migrate_and_wait(cl: &Cluster, slot: u16) -> String {
    start_migration(cl, 0, 1, slot);
    wait_job_end(cl, 0)
}

/// A numeric field (`name=value`) of an `INFO migration` job line.
pub fn field(line: &str, name: &str) -> u64 {
    line.split(',')
        .find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| k.ends_with(name))
                .map(|(_, v)| v)
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

/// Node `dst` holds exactly `before` in `slot` (same DUMP payloads) and
/// node `src` holds nothing of it.
pub fn assert_moved_intact(
    cl: &Cluster,
    src: usize,
    dst: usize,
    slot: u16,
    before: &[(String, Vec<u8>)],
) {
    let mut d = cl.client(dst);
    let mut s = cl.client(src);
    let count: i64 = q(&mut d, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(
        count as usize,
        before.len(),
        "keys in slot {slot} on the destination"
    );
    let left: i64 = q(&mut s, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(left, 0, "keys of slot {slot} left on the source");
    for (k, dump) in before {
        let got: Vec<u8> = redis::cmd("DUMP").arg(k).query(&mut d).unwrap();
        assert_eq!(&got, dump, "{k} differs after the move");
    }
}

/// One raw record of a slot range: column family, key, value.
pub type RawRecord = (String, Vec<u8>, Vec<u8>);

/// Every raw record of `slot` on node `node` (CLUSTERX SLOTDUMP, pages of
/// `page` bytes).
pub fn slot_dump(cl: &Cluster, node: usize, slot: u16, page: usize) -> Vec<RawRecord> {
    let mut con = cl.client(node);
    let mut cursor = b"0".to_vec();
    let mut out = Vec::new();
    loop {
        let (next, rows): (Vec<u8>, Vec<RawRecord>) = redis::cmd("CLUSTERX")
            .arg("SLOTDUMP")
            .arg(slot)
            .arg(&cursor)
            .arg(page)
            .query(&mut con)
            .unwrap();
        out.extend(rows);
        if next == b"0" {
            return out;
        }
        cursor = next;
    }
}
