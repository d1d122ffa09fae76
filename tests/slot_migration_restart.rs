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
    assert_moved_intact, dump_all, field, fill_slot, job_line, random_letters, start_migration,
    wait_job_end,
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

/// The command that reads a key's whole content: GET for strings, DUMP
/// for the composite keys `fill_slot` writes too.
fn read_cmd(type_name: &str) -> &'static str {
    if type_name == "string" {
        "GET"
    } else {
        "DUMP"
    }
}

/// Every key of `slot` on node `node` with its content (see [`read_cmd`]),
/// through CLUSTER GETKEYSINSLOT.
fn slot_contents(cl: &Cluster, node: usize, slot: u16) -> BTreeMap<String, Vec<u8>> {
    let mut con = cl.client(node);
    let keys: Vec<String> = q(
        &mut con,
        &["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "1000000"],
    );
    keys.into_iter()
        .map(|k| {
            let t: String = q(&mut con, &["TYPE", &k]);
            let v: Vec<u8> = q(&mut con, &[read_cmd(&t), &k]);
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

    let mode: Vec<String> = q(&mut cl.client(1), &["CONFIG", "GET", "migrate-import-mode"]);
    let sent_before_kill = field(&job_line(&cl, 0), "chunks");
    cl.nodes[1].server.kill9();
    std::thread::sleep(Duration::from_millis(300));
    cl.restart(1);

    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    // Only the chunks in flight when it died are sent again; in sst mode
    // also those it had acknowledged but not ingested yet (a 6 MB slot is
    // below one migrate-import-sst-mb, so every one of them).
    let resend_bound = match mode[1].as_str() {
        "sst" => sent_before_kill + 8 + 8,
        _ => 8,
    };
    assert!(
        field(&line, "retransmits") <= resend_bound,
        "{line} ({} mode)",
        mode[1]
    );
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
    // The job counts what the destination held from before the restart
    // (its checkpoint carries the tally) and the rest once: every key of
    // the snapshot, none twice.
    let keys = field(&line, "keys");
    assert!((6000 - 20..=6000 + 200).contains(&keys), "{line}");

    assert_eq!(slot_contents(&cl, 1, slot), expected);
    let mut src = cl.client(0);
    let left: i64 = q(&mut src, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(left, 0);
}

#[test]
fn a_source_killed_in_its_wal_phase_counts_every_stream_once_resumed() {
    let _serial = serial();
    // A sequence gap of 1 keeps the job shipping WAL while anything is
    // written, instead of cutting over once the gap is small.
    let mut cl = Cluster::start_with(
        2,
        &[
            ("migrate-parallelism", "2"),
            ("migrate-sequence-gap", "1"),
            // Several files after COMPACT: their bounds are where the
            // job can split the slot.
            ("rocksdb.target_file_size_base", "1"),
        ],
    );
    let slot = 402;
    // Strings only: the metadata column family holds the slot, so both
    // streams carry keys (and the job's key count depends on both).
    let keys: Vec<String> = (0..4000)
        .map(|i| key_in_slot(slot, &format!(":s{i}")))
        .collect();
    {
        let mut con = cl.client(0);
        let mut pipe = redis::pipe();
        // Random letters: values LZ4 cannot shrink keep the slot's files
        // as big as its data, so there are several to split it by.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for k in &keys {
            pipe.cmd("SET")
                .arg(k)
                .arg(random_letters(&mut x, 1000))
                .ignore();
        }
        let _: () = pipe.query(&mut con).expect("fill");
    }
    let filled = dump_all(&cl, 0, &keys);
    // The writer only overwrites keys the snapshot holds, so the job's
    // key count is the slot's whatever the writer does.
    let hot: Vec<String> = filled.iter().step_by(400).map(|(k, _)| k.clone()).collect();
    // On disk, so the job splits the slot between its two streams.
    let _: () = q(&mut cl.client(0), &["COMPACT"]);
    rate_limit(&cl, 0, 2);
    start_migration(&cl, 0, 1, slot);

    // A writer faster than the rate limit keeps the job in its WAL phase.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, hot) = (stop.clone(), hot.clone());
        let mut con = cl.client(0);
        std::thread::spawn(move || {
            let value = "w".repeat(4 * 1024);
            let mut i = 0usize;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let k = &hot[i % hot.len()];
                // Refused once the job cuts over: only the load matters.
                let _: redis::RedisResult<()> =
                    redis::cmd("SET").arg(k).arg(&value).query(&mut con);
                i += 1;
            }
        })
    };
    let mut line = String::new();
    let in_wal = wait_until(Duration::from_secs(60), || {
        line = job_line(&cl, 0);
        line.contains("state=incremental")
    });
    assert!(in_wal, "the job never reached its WAL phase: {line}");
    std::thread::sleep(Duration::from_millis(1000));
    let before_kill = job_line(&cl, 0);
    assert!(before_kill.contains("state=incremental"), "{before_kill}");
    assert_eq!(
        field(&before_kill, "keys"),
        filled.len() as u64,
        "{before_kill}"
    );
    let job = before_kill
        .split(':')
        .next()
        .unwrap_or("")
        .trim_start_matches("job_");
    let dst_log = cl.nodes[1].server.log();
    assert!(
        dst_log.contains(&format!("(job {job}, stream 1)")),
        "the slot was split between two streams:\n{dst_log}"
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.join().expect("writer");
    // At once: the WAL the writer left behind keeps the job in its WAL
    // phase for a while (it moves at 2 MB/s).
    cl.nodes[0].server.kill9();
    cl.restart(0);

    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    assert!(line.contains("streams=2"), "{line}");
    let log = cl.server(0).log();
    assert!(log.contains("resumed after chunk"), "{log}");
    // Every key of the snapshot once, from both streams' checkpoints
    // (stream 0's alone held about half), and no chunk forgotten.
    assert_eq!(field(&line, "keys"), filled.len() as u64, "{line}");
    assert!(
        field(&line, "chunks") >= field(&before_kill, "chunks"),
        "{before_kill}\n{line}"
    );
    // Every key arrived, the writer's keys with its last value.
    let mut dst = cl.client(1);
    for (k, dump) in &filled {
        if hot.contains(k) {
            let v: Vec<u8> = q(&mut dst, &["GET", k]);
            assert_eq!(v.len(), 4 * 1024, "{k}");
        } else {
            let d: Vec<u8> = q(&mut dst, &["DUMP", k]);
            assert_eq!(&d, dump, "{k}");
        }
    }
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

/// `CLUSTERX IMPORT <job> <slot> <slot> <src>` on node `node`, as a source
/// would announce a job (and then, here, die before sending anything).
fn announce_import(cl: &Cluster, node: usize, job: u64, slot: u16, src: usize) {
    let mut con = cl.client(node);
    let s = slot.to_string();
    let r: redis::Value = q(
        &mut con,
        &[
            "CLUSTERX",
            "IMPORT",
            &job.to_string(),
            &s,
            &s,
            cl.id(src),
            "metadata:2",
        ],
    );
    assert!(matches!(r, redis::Value::Array(_)), "{r:?}");
}

/// Node `node`'s own `CLUSTER NODES` line.
fn myself_line(cl: &Cluster, node: usize) -> String {
    let text: String = q(&mut cl.client(node), &["CLUSTER", "NODES"]);
    text.lines()
        .find(|l| l.contains("myself"))
        .unwrap_or("")
        .to_string()
}

/// ASKING, then SET `key` on node `node`: OK, or the error line.
fn asking_set(cl: &Cluster, node: usize, key: &str) -> String {
    let mut con = cl.client(node);
    let _: () = q(&mut con, &["ASKING"]);
    match redis::cmd("SET")
        .arg(key)
        .arg("v")
        .query::<redis::Value>(&mut con)
    {
        Ok(redis::Value::Okay) => "OK".to_string(),
        Ok(v) => format!("{v:?}"),
        Err(e) => e.to_string().to_uppercase(),
    }
}

#[test]
fn a_topology_push_ends_an_import_whose_source_went_quiet() {
    let _serial = serial();
    let mut cl = Cluster::start(2);
    let slot = 100;
    let key = key_in_slot(slot, ":asked");
    let _: () = q(
        &mut cl.client(1),
        &["CONFIG", "SET", "migrate-import-idle-timeout", "1"],
    );
    announce_import(&cl, 1, 42, slot, 0);
    assert!(
        myself_line(&cl, 1).contains(&format!("[{slot}-<-{}]", cl.id(0))),
        "{}",
        myself_line(&cl, 1)
    );
    let r = asking_set(&cl, 1, &key);
    assert!(r.starts_with("OK"), "{r}");

    // The source never comes back; the controller pushes a newer topology
    // (the slot stays with the source) after the idle bound.
    std::thread::sleep(Duration::from_millis(1500));
    let v = cl.version_of(0) + 1;
    cl.push_topology(v);

    let line = myself_line(&cl, 1);
    assert!(!line.contains("-<-"), "mark left: {line}");
    let info: String = q(&mut cl.client(1), &["INFO", "migration"]);
    assert!(!info.contains("import_42"), "{info}");
    let reply = asking_set(&cl, 1, &key);
    assert!(reply.contains("MOVED"), "{reply}");
    assert!(cl.server(1).log().contains("forgotten"));
}

#[test]
fn a_topology_push_keeps_a_live_import_and_ends_one_it_gives_away() {
    let _serial = serial();
    let mut cl = Cluster::start(3);
    let slot = 100;
    let key = key_in_slot(slot, ":asked");
    announce_import(&cl, 1, 43, slot, 0);
    let r = asking_set(&cl, 1, &key);
    assert!(r.starts_with("OK"), "{r}");

    // A push that leaves the slot with a live source changes nothing.
    let v = cl.version_of(0) + 1;
    cl.push_topology(v);
    assert!(
        myself_line(&cl, 1).contains("-<-"),
        "{}",
        myself_line(&cl, 1)
    );
    let info: String = q(&mut cl.client(1), &["INFO", "migration"]);
    assert!(info.contains("import_43"), "{info}");
    let r = asking_set(&cl, 1, &key);
    assert!(r.starts_with("OK"), "{r}");

    // One that gives it to a third node ends it, partial data included.
    cl.assign(slot..=slot, 2);
    cl.push_topology(v + 1);
    let line = myself_line(&cl, 1);
    assert!(!line.contains("-<-"), "mark left: {line}");
    let info: String = q(&mut cl.client(1), &["INFO", "migration"]);
    assert!(!info.contains("import_43"), "{info}");
    let n: i64 = q(
        &mut cl.client(1),
        &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()],
    );
    assert_eq!(n, 0, "partial data dropped");
    assert!(asking_set(&cl, 1, &key).contains("MOVED"));
}

#[test]
fn an_import_mark_left_by_a_restart_goes_with_the_next_push() {
    let _serial = serial();
    let mut cl = Cluster::start(2);
    let slot = 101;
    announce_import(&cl, 1, 44, slot, 0);
    cl.restart(1);
    assert!(
        myself_line(&cl, 1).contains("-<-"),
        "{}",
        myself_line(&cl, 1)
    );
    let v = cl.version_of(0) + 1;
    cl.push_topology(v);
    let line = myself_line(&cl, 1);
    assert!(!line.contains("-<-"), "mark left: {line}");
    let reply = asking_set(&cl, 1, &key_in_slot(slot, ":asked"));
    assert!(reply.contains("MOVED"), "{reply}");
}

/// The job of node `node` as `CLUSTER MIGRATION STATUS` shows it.
fn last_error(cl: &Cluster, node: usize) -> String {
    let v: redis::Value = q(&mut cl.client(node), &["CLUSTER", "MIGRATION", "STATUS"]);
    let text = format!("{v:?}");
    let at = text.find("last_error").unwrap_or(0);
    text[at..].chars().take(120).collect()
}

/// Kills node 1 in the middle of node 0's job of `slot`, and cancels the
/// job while its link is reconnecting.
fn cancel_during_outage(cl: &mut Cluster, slot: u16) {
    rate_limit(cl, 0, 2);
    start_migration(cl, 0, 1, slot);
    wait_mid_snapshot(cl, 0, 10);
    cl.kill9(1);
    let reconnecting = wait_until(Duration::from_secs(30), || {
        cl.server(0).log().contains("link broken, reconnecting")
    });
    assert!(reconnecting, "{}", cl.server(0).log());
    let n: i64 = q(
        &mut cl.client(0),
        &["CLUSTER", "MIGRATION", "CANCEL", "ALL"],
    );
    assert_eq!(n, 1);
    let line = wait_job_end(cl, 0);
    assert!(line.contains("state=failed"), "{line}");
    rate_limit(cl, 0, 0);
}

#[test]
fn a_cancel_stops_a_job_whose_link_is_reconnecting() {
    let _serial = serial();
    let mut cl = Cluster::start(2);
    let slot = 405;
    fill_slot(&cl, 0, slot, 6000, 1000);
    cancel_during_outage(&mut cl, slot);
    // Stopped by the cancel, not by the reconnect attempts running out.
    let err = last_error(&cl, 0);
    assert!(err.contains("\"cancelled\""), "{err}");
    let n: i64 = q(
        &mut cl.client(0),
        &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()],
    );
    assert_eq!(n, 6000, "the slot stays whole on the source");
}

#[test]
fn partial_data_left_by_a_lost_abort_does_not_come_back_with_the_next_move() {
    let _serial = serial();
    let mut cl = Cluster::start(2);
    let slot = 404;
    let filled = fill_slot(&cl, 0, slot, 6000, 1000);
    // The destination dies mid-copy; the cancelled job's abort is lost.
    cancel_during_outage(&mut cl, slot);
    // Meanwhile keys are deleted on the source, some of them copied.
    {
        let mut src = cl.client(0);
        for (k, _) in filled.iter().step_by(5) {
            let _: i64 = q(&mut src, &["DEL", k]);
        }
    }
    let expected = slot_contents(&cl, 0, slot);
    assert_eq!(expected.len(), 6000 - 1200);
    cl.start_again(1);

    let r: String = q(
        &mut cl.client(0),
        &[
            "CLUSTERX",
            "MIGRATE",
            &slot.to_string(),
            cl.id(1),
            "sync",
            "90",
        ],
    );
    assert_eq!(r, "OK");
    let moved = slot_contents(&cl, 1, slot);
    let back: Vec<&String> = moved
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(back.is_empty(), "{} deleted keys came back", back.len());
    assert_eq!(moved, expected);
}

/// Runs `args` through redirects, as a cluster client does: starts at
/// node 0, follows MOVED and ASK (ASKING before the retried command) and
/// retries TRYAGAIN (a cut-over's write pause).
fn follow(cl: &Cluster, args: &[&str]) -> redis::Value {
    let mut node = 0;
    let mut asking = false;
    let mut last = String::new();
    for _ in 0..500 {
        let mut con = cl.client(node);
        if asking {
            let _: () = q(&mut con, &["ASKING"]);
        }
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        let e = match c.query::<redis::Value>(&mut con) {
            Ok(v) => return v,
            Err(e) => e,
        };
        last = e.to_string();
        asking = e.code() == Some("ASK");
        match e.redirect_node() {
            Some((addr, _)) => {
                let port: u16 = addr
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.parse().ok())
                    .unwrap_or_else(|| panic!("redirect to {addr}"));
                node = cl
                    .ports()
                    .iter()
                    .position(|p| *p == port)
                    .unwrap_or_else(|| panic!("redirect to an unknown node {addr}"));
            }
            None if e.code() == Some("TRYAGAIN") => {
                std::thread::sleep(Duration::from_millis(10));
            }
            None => panic!("{args:?}: {e}"),
        }
    }
    panic!("{args:?}: no answer after 500 redirects, last {last}");
}

/// A key's content (see [`read_cmd`]) through redirects.
fn follow_get(cl: &Cluster, key: &str) -> Option<Vec<u8>> {
    let t = match follow(cl, &["TYPE", key]) {
        redis::Value::SimpleString(t) => t,
        other => panic!("TYPE {key}: {other:?}"),
    };
    match follow(cl, &[read_cmd(&t), key]) {
        redis::Value::Nil => None,
        v => Some(redis::from_redis_value(v).unwrap()),
    }
}

/// Keys of `slot` node `node` holds.
fn count_in_slot(cl: &Cluster, node: usize, slot: u16) -> usize {
    let n: i64 = q(
        &mut cl.client(node),
        &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()],
    );
    n as usize
}

/// A per-key (`migrate-type redis-command`) cluster whose jobs move about
/// 1 MB/s, so a test can act mid-job (before and after a restart).
fn per_key_cluster() -> Cluster {
    Cluster::start_with(
        2,
        &[
            ("migrate-type", "redis-command"),
            ("migrate-batch-rate-limit-mb", "1"),
        ],
    )
}

/// Waits until node `src`'s job has moved at least `keys` keys and is
/// still running.
fn wait_keys_moved(cl: &Cluster, src: usize, keys: u64) -> String {
    let mut line = String::new();
    let ok = wait_until(Duration::from_secs(30), || {
        line = job_line(cl, src);
        line.contains("state=snapshot") && field(&line, "keys") >= keys
    });
    assert!(ok, "job never moved {keys} keys: {line}");
    line
}

#[test]
fn a_per_key_job_survives_a_killed_source() {
    let _serial = serial();
    let mut cl = per_key_cluster();
    let slot = 404;
    fill_slot(&cl, 0, slot, 6000, 1000);
    let mut expected = slot_contents(&cl, 0, slot);
    assert_eq!(expected.len(), 6000);
    start_migration(&cl, 0, 1, slot);
    wait_keys_moved(&cl, 0, 500);
    let moved_before = count_in_slot(&cl, 1, slot);
    assert!(
        moved_before >= 500,
        "{moved_before} keys on the destination"
    );

    cl.kill9(0);
    cl.restart(0);

    // The restarted source resumed the job, still MIGRATING: keys it no
    // longer has are reached through ASK, not read as missing.
    let line = job_line(&cl, 0);
    assert!(
        line.contains("state=start") || line.contains("state=snapshot"),
        "resumed and running: {line}"
    );
    let log = cl.server(0).log();
    assert!(log.contains("resuming migration job"), "{log}");
    for (k, v) in expected.iter().step_by(7) {
        assert_eq!(
            follow_get(&cl, k).as_ref(),
            Some(v),
            "{k} after the restart"
        );
    }
    // Writes while the resumed job runs: overwrites of keys moved or not,
    // new keys (created on the destination: the source redirects keys it
    // does not have), counters.
    for (i, (k, v)) in expected.iter_mut().enumerate().step_by(50) {
        let new = format!("rewritten{i}").into_bytes();
        let _ = follow(&cl, &["SET", k, std::str::from_utf8(&new).unwrap()]);
        *v = new;
    }
    for i in 0..100 {
        let k = key_in_slot(slot, &format!(":new{i}"));
        let _ = follow(&cl, &["SET", &k, "new"]);
        expected.insert(k, b"new".to_vec());
    }
    let counter = key_in_slot(slot, ":counter");
    for _ in 0..50 {
        let _ = follow(&cl, &["INCR", &counter]);
    }
    expected.insert(counter.clone(), b"50".to_vec());

    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    // Every key readable once, with its last value, and only on the
    // destination.
    assert_eq!(count_in_slot(&cl, 0, slot), 0);
    assert_eq!(count_in_slot(&cl, 1, slot), expected.len());
    for (k, v) in &expected {
        assert_eq!(follow_get(&cl, k).as_ref(), Some(v), "{k}");
    }
    // The slot is the destination's on both nodes, also after a restart.
    cl.restart(0);
    assert_eq!(follow_get(&cl, &counter), Some(b"50".to_vec()));
    let mut src = cl.client(0);
    let e = try_get(&mut src, &counter);
    assert!(e.starts_with("MOVED"), "{e}");
}

/// The error of a GET, as text ("" when it succeeds).
fn try_get(con: &mut redis::Connection, key: &str) -> String {
    match redis::cmd("GET").arg(key).query::<redis::Value>(con) {
        Ok(_) => String::new(),
        Err(e) => format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or("")),
    }
}

#[test]
fn a_per_key_job_survives_a_killed_destination() {
    let _serial = serial();
    let mut cl = per_key_cluster();
    let slot = 405;
    let before = fill_slot(&cl, 0, slot, 4000, 1000);
    start_migration(&cl, 0, 1, slot);
    wait_keys_moved(&cl, 0, 500);

    cl.kill9(1);
    // Writes to keys the source still has go on while the destination is
    // down (the job does not hold the slot meanwhile).
    let mut src = cl.client(0);
    let here: Vec<String> = q(
        &mut src,
        &["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "1"],
    );
    let _: () = q(&mut src, &["SET", &here[0], "written during the outage"]);
    let mut before = before;
    for (k, v) in before.iter_mut() {
        if *k == here[0] {
            *v = q(&mut src, &["DUMP", k]);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    cl.restart(1);

    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    assert_moved_intact(&cl, 0, 1, slot, &before);
}

#[test]
fn a_per_key_job_cannot_be_cancelled_once_its_slots_are_migrating() {
    let _serial = serial();
    let cl = per_key_cluster();
    let slot = 406;
    let before = fill_slot(&cl, 0, slot, 3000, 1000);
    start_migration(&cl, 0, 1, slot);
    wait_keys_moved(&cl, 0, 300);
    let n: i64 = q(
        &mut cl.client(0),
        &["CLUSTER", "MIGRATION", "CANCEL", "ALL"],
    );
    assert_eq!(n, 1);
    // Cancelling would strand the moved keys: the job goes on to the end.
    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    assert!(cl.server(0).log().contains("cannot be cancelled"));
    assert_moved_intact(&cl, 0, 1, slot, &before);
}

#[test]
fn a_per_key_job_resumes_once_the_controller_sets_the_topology_again() {
    let _serial = serial();
    // kvrocks's mode without nodes.conf: after a restart the node has no
    // id and no topology until the controller sets them again.
    let mut cl = Cluster::start_with(
        2,
        &[
            ("migrate-type", "redis-command"),
            ("migrate-batch-rate-limit-mb", "1"),
            ("persist-cluster-nodes-enabled", "no"),
        ],
    );
    let slot = 407;
    fill_slot(&cl, 0, slot, 4000, 1000);
    let expected = slot_contents(&cl, 0, slot);
    start_migration(&cl, 0, 1, slot);
    wait_keys_moved(&cl, 0, 500);

    cl.kill9(0);
    cl.restart(0);
    std::thread::sleep(Duration::from_millis(700));
    let id = cl.id(0).to_string();
    let _: () = q(&mut cl.client(0), &["CLUSTERX", "SETNODEID", &id]);
    let version = cl.version;
    cl.push_topology(version);

    let line = wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    assert!(cl
        .server(0)
        .log()
        .contains("waiting for a topology that knows destination"));
    assert_eq!(count_in_slot(&cl, 0, slot), 0);
    assert_eq!(count_in_slot(&cl, 1, slot), expected.len());
    for (k, v) in expected.iter().step_by(3) {
        assert_eq!(follow_get(&cl, k).as_ref(), Some(v), "{k}");
    }
}
