//! The destination's `sst` import mode (snapshot chunks built into SST
//! files and ingested every `migrate-import-sst-mb`): a destination killed
//! between an ingest and its checkpoint, a cancelled import, and an ingest
//! refused because the range already holds keys. The other migration tests
//! run in both import modes (`make test` runs them again with
//! `FERROCKS_TEST_ARGS="migrate-import-mode write"`).

mod cluster;
mod common;

use std::path::PathBuf;
use std::time::Duration;

use cluster::migration::{
    assert_moved_intact, field, fill_slot, job_line, slot_dump, start_migration, wait_job_end,
};
use cluster::{key_in_slot, Cluster};
use common::{q, wait_until};

/// One test at a time: each paces a job by time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Two nodes whose imports go to SST files of `sst_mb` MB.
fn sst_cluster(sst_mb: &str) -> Cluster {
    Cluster::start_with(
        2,
        &[
            ("migrate-import-mode", "sst"),
            ("migrate-import-sst-mb", sst_mb),
        ],
    )
}

fn config_set(cl: &Cluster, node: usize, key: &str, value: &str) {
    let _: () = q(&mut cl.client(node), &["CONFIG", "SET", key, value]);
}

/// Where node `node` builds SST files (`<dir>/<db-name>-import-sst`).
fn scratch_dir(cl: &Cluster, node: usize) -> PathBuf {
    cl.nodes[node]
        .server
        .data_dir()
        .join("change.me.db-import-sst")
}

/// SST files under node `node`'s scratch directory.
fn scratch_files(cl: &Cluster, node: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(jobs) = std::fs::read_dir(scratch_dir(cl, node)) else {
        return out;
    };
    for job in jobs.flatten() {
        if let Ok(files) = std::fs::read_dir(job.path()) {
            out.extend(files.flatten().map(|f| f.path()));
        }
    }
    out
}

fn wait_chunks(cl: &Cluster, src: usize, chunks: u64) {
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

#[test]
fn a_destination_killed_between_an_ingest_and_its_checkpoint_resumes_intact() {
    let _serial = serial();
    let mut cl = sst_cluster("1");
    let slot = 700;
    let before = fill_slot(&cl, 0, slot, 6000, 1000);
    let raw_before = slot_dump(&cl, 0, slot, 1 << 20);
    config_set(&cl, 0, "migrate-batch-rate-limit-mb", "3");
    // The destination dies right after its first ingest, before the
    // checkpoint of the ingested chunks is written.
    cl.nodes[1].server.set_env(vec![(
        "FERROCKS_FAILPOINTS".into(),
        "import-after-ingest".into(),
    )]);
    cl.restart(1);
    start_migration(&cl, 0, 1, slot);
    assert!(
        wait_until(Duration::from_secs(30), || !cl.nodes[1].server.is_running()),
        "the destination never reached its first ingest: {}",
        job_line(&cl, 0)
    );
    assert!(
        !scratch_files(&cl, 1).is_empty() || scratch_dir(&cl, 1).exists(),
        "the killed destination had its scratch directory"
    );
    cl.kill9(1); // reaps the dead process
    cl.nodes[1].server.set_env(Vec::new());
    cl.start_again(1);
    assert!(
        scratch_files(&cl, 1).is_empty(),
        "a restart removes the files of the cut-short import"
    );

    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    // Keys sent again after the rewind are not counted twice.
    assert_eq!(field(&line, "keys"), 6000, "{line}");
    assert_moved_intact(&cl, 0, 1, slot, &before);
    assert_eq!(
        slot_dump(&cl, 1, slot, 1 << 20),
        raw_before,
        "the destination holds the source's records byte for byte"
    );
    let log = cl.nodes[0].server.log();
    assert!(
        log.contains("sending again from there"),
        "the source re-sent what the destination lost:\n{log}"
    );
    assert!(scratch_files(&cl, 1).is_empty(), "no SST file left behind");
}

#[test]
fn a_cancelled_import_leaves_no_sst_files_and_no_records() {
    let _serial = serial();
    let cl = sst_cluster("64");
    let slot = 701;
    fill_slot(&cl, 0, slot, 6000, 1000);
    config_set(&cl, 0, "migrate-batch-rate-limit-mb", "2");
    start_migration(&cl, 0, 1, slot);
    wait_chunks(&cl, 0, 10);
    assert!(
        !scratch_files(&cl, 1).is_empty(),
        "the destination builds SST files while the snapshot arrives"
    );
    let n: i64 = q(
        &mut cl.client(0),
        &["CLUSTER", "MIGRATION", "CANCEL", "ALL"],
    );
    assert_eq!(n, 1);
    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=failed"), "{line}");
    assert!(
        wait_until(Duration::from_secs(10), || scratch_files(&cl, 1).is_empty()),
        "SST files left: {:?}",
        scratch_files(&cl, 1)
    );
    assert!(slot_dump(&cl, 1, slot, 1 << 20).is_empty());
    let left: i64 = q(
        &mut cl.client(0),
        &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()],
    );
    assert_eq!(left, 6000, "the slot stays whole on the source");
}

#[test]
fn an_ingest_refused_falls_back_to_the_write_path_and_the_job_succeeds() {
    let _serial = serial();
    let cl = sst_cluster("1");
    let slot = 702;
    let before = fill_slot(&cl, 0, slot, 4000, 1000);
    config_set(&cl, 0, "migrate-batch-rate-limit-mb", "1");
    start_migration(&cl, 0, 1, slot);
    wait_chunks(&cl, 0, 5);
    // Writes into the importing slot on the destination (a client
    // following an ASK): live data between keys of files still to come
    // (the slot's keys are ":0" to ":3999", streamed in byte order).
    let mut dst = cl.client(1);
    let strays: Vec<String> = [":8-stray", ":9-stray"]
        .iter()
        .map(|name| key_in_slot(slot, name))
        .collect();
    for stray in &strays {
        let r: Vec<String> = redis::pipe()
            .cmd("ASKING")
            .cmd("SET")
            .arg(stray)
            .arg("live")
            .query(&mut dst)
            .unwrap();
        assert_eq!(r, ["OK", "OK"]);
    }
    config_set(&cl, 0, "migrate-batch-rate-limit-mb", "0");

    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    let log = cl.nodes[1].server.log();
    assert!(
        log.contains("falling back to the write path"),
        "the destination said why it left the SST path:\n{log}"
    );
    let count: i64 = q(&mut dst, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(count as usize, before.len() + strays.len());
    for (k, dump) in &before {
        let got: Vec<u8> = redis::cmd("DUMP").arg(k).query(&mut dst).unwrap();
        assert_eq!(&got, dump, "{k} differs after the move");
    }
    for stray in &strays {
        let v: String = q(&mut dst, &["GET", stray]);
        assert_eq!(v, "live");
    }
    assert!(scratch_files(&cl, 1).is_empty());
}

#[test]
fn imports_report_their_mode_and_ingested_files() {
    let _serial = serial();
    let cl = sst_cluster("1");
    let slot = 703;
    let before = fill_slot(&cl, 0, slot, 4000, 1000);
    config_set(&cl, 0, "migrate-batch-rate-limit-mb", "2");
    start_migration(&cl, 0, 1, slot);
    let mut import = String::new();
    assert!(
        wait_until(Duration::from_secs(30), || {
            let info: String = q(&mut cl.client(1), &["INFO", "migration"]);
            import = info
                .lines()
                .find(|l| l.starts_with("import_"))
                .unwrap_or("")
                .to_string();
            import.contains("mode=sst") && !import.contains("ingested_files=0")
        }),
        "{import}"
    );
    config_set(&cl, 0, "migrate-batch-rate-limit-mb", "0");
    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    assert_moved_intact(&cl, 0, 1, slot, &before);
}

#[test]
fn writes_to_other_slots_of_the_destination_survive_its_ingests() {
    let _serial = serial();
    let cl = sst_cluster("1");
    let slot = 704;
    fill_slot(&cl, 0, slot, 4000, 1000);
    config_set(&cl, 0, "migrate-batch-rate-limit-mb", "4");
    // A counter on the destination, in a slot it owns, bumped all along.
    let mine = cl.first_slot_of(1) + 10;
    let counter = key_in_slot(mine, ":counter");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, counter) = (stop.clone(), counter.clone());
        let mut con = cl.client(1);
        std::thread::spawn(move || {
            let mut last = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let v: i64 = q(&mut con, &["INCR", &counter]);
                assert_eq!(v, last + 1, "the counter went from {last} to {v}");
                last = v;
            }
            last
        })
    };
    start_migration(&cl, 0, 1, slot);
    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let last = writer.join().expect("the counter never went back");
    let now: i64 = q(&mut cl.client(1), &["GET", &counter]);
    assert_eq!(now, last);
}

#[test]
fn a_source_that_ingests_an_import_meanwhile_ships_every_write() {
    // Node 0 sends slot A away while it receives slot B by SST ingests;
    // an ingest takes a sequence number no WAL record carries, and the
    // catch-up of slot A must cross those gaps without losing the writes
    // after them.
    let _serial = serial();
    let cl = sst_cluster("1");
    let (slot_a, slot_b) = (705, cl.first_slot_of(1) + 20);
    fill_slot(&cl, 0, slot_a, 3000, 1000);
    fill_slot(&cl, 1, slot_b, 3000, 1000);
    config_set(&cl, 0, "migrate-batch-rate-limit-mb", "2");
    config_set(&cl, 1, "migrate-batch-rate-limit-mb", "2");
    let counter = key_in_slot(slot_a, ":counter");
    let mut src = cl.client(0);
    let _: () = q(&mut src, &["SET", &counter, "0"]);
    // On disk, as a long-lived key is.
    let _: () = q(&mut src, &["COMPACT"]);
    start_migration(&cl, 1, 0, slot_b);
    start_migration(&cl, 0, 1, slot_a);
    let mut last = 0i64;
    loop {
        std::thread::sleep(Duration::from_millis(2));
        match redis::cmd("INCR").arg(&counter).query::<i64>(&mut src) {
            Ok(v) => {
                assert_eq!(v, last + 1);
                last = v;
            }
            Err(e) if e.code() == Some("TRYAGAIN") => {}
            Err(e) if e.code() == Some("MOVED") => break,
            Err(e) => panic!("INCR: {e}"),
        }
    }
    for node in [0, 1] {
        let line = wait_job_end(&cl, node);
        assert!(line.contains("state=success"), "{line}");
    }
    assert!(last > 100, "the writer ran through the move: {last}");
    let now: i64 = q(&mut cl.client(1), &["GET", &counter]);
    assert_eq!(now, last, "every INCR acknowledged by the source arrived");
}

#[test]
fn a_slot_range_moves_on_parallel_streams() {
    let _serial = serial();
    let cl = Cluster::start_with(
        2,
        &[
            ("migrate-parallelism", "4"),
            ("migrate-import-mode", "sst"),
            // Many ingests per stream, interleaved between the streams.
            ("migrate-import-sst-mb", "1"),
        ],
    );
    let mut before = Vec::new();
    for slot in 710..718 {
        before.push((slot, fill_slot(&cl, 0, slot, 1500, 1000)));
    }
    // On disk, so the split has sizes to go by.
    let _: () = q(&mut cl.client(0), &["COMPACT"]);
    let r: String = q(
        &mut cl.client(0),
        &["CLUSTERX", "MIGRATE", "710-717", cl.id(1), "async"],
    );
    assert_eq!(r, "OK");
    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    assert_eq!(field(&line, "streams"), 4, "{line}");
    let log = cl.nodes[1].server.log();
    let job = line
        .split(':')
        .next()
        .unwrap_or("")
        .trim_start_matches("job_");
    for stream in 1..4 {
        assert!(
            log.contains(&format!(
                "importing slots 710-717 (job {job}, stream {stream})"
            )),
            "stream {stream} announced itself:\n{log}"
        );
    }
    // A stream's ingest is not refused for the keys another stream of
    // the same job ingested next to its range.
    assert!(
        !log.contains("SST import refused"),
        "the import fell back to the write path:\n{log}"
    );
    for (slot, keys) in &before {
        assert_moved_intact(&cl, 0, 1, *slot, keys);
    }
}

/// `compact_write_bytes_total` of `INFO rocksdb` on node `node`.
fn compacted_bytes(cl: &Cluster, node: usize) -> u64 {
    let info: String = q(&mut cl.client(node), &["INFO", "rocksdb"]);
    info.lines()
        .find_map(|l| l.strip_prefix("compact_write_bytes_total:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO rocksdb has compact_write_bytes_total")
}

/// Files ingested into a range that holds nothing go straight to the
/// bottom level: nothing of the import is read and written again by
/// compaction (which would also fill the page cache).
#[test]
fn an_import_into_an_empty_range_is_not_compacted() {
    let _serial = serial();
    let cl = sst_cluster("1");
    let slot = 705;
    let before = fill_slot(&cl, 0, slot, 6000, 1000);
    start_migration(&cl, 0, 1, slot);
    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    assert_moved_intact(&cl, 0, 1, slot, &before);
    let log = cl.nodes[1].server.log();
    assert!(!log.contains("SST import refused"), "{log}");
    // Compactions would have started by now (four level-0 files trigger one).
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        compacted_bytes(&cl, 1),
        0,
        "the destination compacted the import"
    );
}
