//! Slot migration across process restarts: kill -9 the destination or the
//! source in the middle of a job and start it again; the job continues from
//! the destination's checkpoint (or, when the source's WAL is gone, starts
//! over cleanly after dropping the partial copy) and the slot arrives
//! complete, with the writes acknowledged during the job.

mod cluster;
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use cluster::migration::{
    assert_moved_intact, field, fill_slot, job_line, start_migration, wait_job_end,
};
use cluster::{key_in_slot, Cluster};
use common::{q, wait_until};

/// One test at a time: each kills processes and paces a job by time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Slows node `node`'s jobs to `mb` MB/s so a test can act mid-job.
fn rate_limit(cl: &Cluster, node: usize, mb: u32) {
    let mut con = cl.client(node);
    let _: () = q(
        &mut con,
        &[
            "CONFIG",
            "SET",
            "migrate-batch-rate-limit-mb",
            &mb.to_string(),
        ],
    );
}

/// Waits until node `src`'s job is copying its snapshot and has had at
/// least `chunks` chunks acknowledged.
fn wait_mid_snapshot(cl: &Cluster, src: usize, chunks: u64) {
    let mut line = String::new();
    let ok = wait_until(Duration::from_secs(30), || {
        line = job_line(cl, src);
        line.contains("state=snapshot") && field(&line, "chunks") >= chunks
    });
    assert!(
        ok,
        "job never got {chunks} chunks into its snapshot: {line}"
    );
}

/// Every key of `slot` on node `node` with its value (GET), through
/// CLUSTER GETKEYSINSLOT.
fn slot_contents(cl: &Cluster, node: usize, slot: u16) -> BTreeMap<String, Vec<u8>> {
    let mut con = cl.client(node);
    let keys: Vec<String> = q(
        &mut con,
        &["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "1000000"],
    );
    keys.into_iter()
        .map(|k| {
            let v: Vec<u8> = q(&mut con, &["GET", &k]);
            (k, v)
        })
        .collect()
}

#[test]
fn a_killed_destination_restarts_and_the_job_resumes() {
    let _serial = serial();
    let mut cl = Cluster::start(2);
    let slot = 400;
    let before = fill_slot(&cl, 0, slot, 6000, 1000);
    // On disk, so the job can estimate how much is left.
    let _: () = q(&mut cl.client(0), &["COMPACT"]);
    rate_limit(&cl, 0, 2);
    start_migration(&cl, 0, 1, slot);
    wait_mid_snapshot(&cl, 0, 10);
    let line = job_line(&cl, 0);
    assert!(line.contains("phase=snapshot"), "{line}");
    let eta = field(&line, "eta_seconds");
    assert!(
        (1..60).contains(&eta),
        "ETA of a 6 MB copy at 2 MB/s: {line}"
    );

    cl.nodes[1].server.kill9();
    std::thread::sleep(Duration::from_millis(300));
    cl.restart(1);

    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    // Only the chunks in flight when it died are sent again.
    assert!(field(&line, "retransmits") <= 8, "{line}");
    assert_moved_intact(&cl, 0, 1, slot, &before);
}

#[test]
fn a_killed_source_restarts_and_the_job_resumes_with_every_write() {
    let _serial = serial();
    let mut cl = Cluster::start(2);
    let slot = 401;
    let filled = fill_slot(&cl, 0, slot, 6000, 1000);
    rate_limit(&cl, 0, 2);
    start_migration(&cl, 0, 1, slot);
    wait_mid_snapshot(&cl, 0, 10);

    // Writes the source acknowledges during the snapshot: new keys,
    // overwritten keys (some already copied), deleted keys.
    {
        let mut src = cl.client(0);
        for i in 0..200 {
            let _: () = q(
                &mut src,
                &["SET", &key_in_slot(slot, &format!(":late{i}")), "late"],
            );
        }
        for (k, _) in filled.iter().step_by(100) {
            let _: () = q(&mut src, &["SET", k, "overwritten"]);
        }
        for (k, _) in filled.iter().skip(7).step_by(300) {
            let _: i64 = q(&mut src, &["DEL", k]);
        }
    }
    let expected = slot_contents(&cl, 0, slot);
    assert_eq!(expected.len(), 6000 + 200 - 20);

    cl.nodes[0].server.kill9();
    cl.restart(0);

    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    let log = cl.server(0).log();
    assert!(log.contains("resumed after chunk"), "{log}");
    assert!(!log.contains("starting over"), "{log}");
    // The snapshot continued where the destination's checkpoint was.
    assert!(field(&line, "keys") < 6000, "{line}");

    assert_eq!(slot_contents(&cl, 1, slot), expected);
    let mut src = cl.client(0);
    let left: i64 = q(&mut src, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(left, 0);
}

#[test]
fn a_source_without_its_wal_starts_over_cleanly() {
    let _serial = serial();
    // No WAL kept once memtables are flushed: a restart loses the WAL the
    // job would replay from.
    let mut cl = Cluster::start_with(
        2,
        &[
            ("rocksdb.wal_ttl_seconds", "0"),
            ("rocksdb.wal_size_limit_mb", "0"),
        ],
    );
    let slot = 402;
    let before = fill_slot(&cl, 0, slot, 6000, 1000);
    rate_limit(&cl, 0, 2);
    start_migration(&cl, 0, 1, slot);
    wait_mid_snapshot(&cl, 0, 10);

    cl.nodes[0].server.kill9();
    cl.restart(0);

    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    let log = cl.server(0).log();
    assert!(
        log.contains("cannot resume") && log.contains("starting over"),
        "the log says why: {log}"
    );
    assert_moved_intact(&cl, 0, 1, slot, &before);
}

#[test]
fn a_running_job_keeps_the_wal_it_needs_whatever_the_retention() {
    let _serial = serial();
    // No WAL retention at all: only the job's hold keeps the WAL files it
    // still has to read once memtables are flushed.
    let cl = Cluster::start_with(
        2,
        &[
            ("rocksdb.wal_ttl_seconds", "0"),
            ("rocksdb.wal_size_limit_mb", "0"),
        ],
    );
    let slot = 403;
    fill_slot(&cl, 0, slot, 4000, 1000);
    rate_limit(&cl, 0, 2);
    start_migration(&cl, 0, 1, slot);
    wait_mid_snapshot(&cl, 0, 5);
    {
        let mut src = cl.client(0);
        for i in 0..300 {
            let k = key_in_slot(slot, &format!(":during{i}"));
            let _: () = q(&mut src, &["SET", &k, &i.to_string()]);
        }
        // Flushed memtables make their WAL files obsolete.
        let _: () = q(&mut src, &["COMPACT"]);
    }
    let expected = slot_contents(&cl, 0, slot);
    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    assert!(!cl.server(0).log().contains("starting over"));
    assert_eq!(slot_contents(&cl, 1, slot), expected);
}
