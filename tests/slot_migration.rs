//! Slot migration by streaming WriteBatch chunks (`CLUSTERX MIGRATE`):
//! every key (with its TTL) arrives, nothing remains on the source, the
//! new owner is a local change on both nodes while the topology version
//! stays where the controller put it (as in kvrocks), clients get MOVED,
//! and writes made during the move through a redirect-following cluster
//! client are kept.

mod cluster;
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cluster::migration::{assert_moved_intact, fill_slot, slot_dump};
use cluster::{key_in_slot, qq, Cluster};
use common::{q, q_err, wait_until};

fn info_field(con: &mut redis::Connection, section: &str, prefix: &str) -> Option<String> {
    let info: String = q(con, &["INFO", section]);
    info.lines()
        .find(|l| l.starts_with(prefix))
        .map(|l| l.to_string())
}

/// Runs `CLUSTERX MIGRATE <slot> <dst> sync 60` and expects OK.
fn migrate_sync(src: &mut redis::Connection, slot: u16, dst_id: &str) {
    let reply: String = q(
        src,
        &[
            "CLUSTERX",
            "MIGRATE",
            &slot.to_string(),
            dst_id,
            "sync",
            "60",
        ],
    );
    assert_eq!(reply, "OK");
}

#[test]
fn migrate_moves_every_key_with_ttl_and_hands_off() {
    let cl = Cluster::start(2);
    let slot = 100u16; // owned by node 0 in the even split
    let mut src = cl.client(0);
    let mut dst = cl.client(1);
    for i in 0..3000 {
        let k = key_in_slot(slot, &format!(":k{i}"));
        let _: () = q(&mut src, &["SET", &k, &format!("value-{i}")]);
    }
    let ttl_key = key_in_slot(slot, ":ttl");
    let _: () = q(&mut src, &["SET", &ttl_key, "t", "EX", "1000"]);
    let gone = key_in_slot(slot, ":expired");
    let _: () = q(&mut src, &["SET", &gone, "x", "PX", "1"]);
    let other = key_in_slot(slot + 1, ":stays");
    let _: () = q(&mut src, &["SET", &other, "here"]);
    std::thread::sleep(Duration::from_millis(20));

    let v_before: i64 = q(&mut src, &["CLUSTERX", "VERSION"]);
    migrate_sync(&mut src, slot, cl.id(1));

    let left: i64 = q(&mut src, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(left, 0, "nothing of the slot remains on the source");
    let arrived: i64 = q(&mut dst, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(
        arrived, 3001,
        "every live key arrived, the expired one did not"
    );
    for i in (0..3000).step_by(97) {
        let k = key_in_slot(slot, &format!(":k{i}"));
        let v: String = q(&mut dst, &["GET", &k]);
        assert_eq!(v, format!("value-{i}"));
    }
    let ttl: i64 = q(&mut dst, &["TTL", &ttl_key]);
    assert!(ttl > 900 && ttl <= 1000, "TTL kept: {ttl}");
    let stays: String = q(&mut src, &["GET", &other]);
    assert_eq!(stays, "here", "other slots are untouched");

    let moved = q_err(&mut src, &["GET", &ttl_key]);
    assert_eq!(moved, format!("MOVED {slot} {}", cl.addr(1)));
    let v_src: i64 = q(&mut src, &["CLUSTERX", "VERSION"]);
    let v_dst: i64 = q(&mut dst, &["CLUSTERX", "VERSION"]);
    assert_eq!(
        (v_src, v_dst),
        (v_before, v_before),
        "no node changes its topology version by itself"
    );

    let job = info_field(&mut src, "migration", "job_").expect("INFO migration lists the job");
    assert!(
        job.contains("state=success") && job.contains("keys=3001"),
        "{job}"
    );
    let cinfo: String = q(&mut src, &["CLUSTER", "INFO"]);
    assert!(cinfo.contains("migrating_state:success"), "{cinfo}");
}

/// The owner of `slot` in a node's CLUSTER NODES.
fn owner_in(con: &mut redis::Connection, slot: u16) -> Option<String> {
    cluster::slot_view(con)
        .into_iter()
        .find(|(_, ranges)| ranges.iter().any(|&(a, b)| a <= slot && slot <= b))
        .map(|(id, _)| id)
}

#[test]
fn a_finished_move_is_a_local_change_until_the_controller_pushes() {
    let mut cl = Cluster::start(2);
    let (id0, id1) = (cl.id(0).to_string(), cl.id(1).to_string());
    let slot = 300u16;
    let key = key_in_slot(slot, ":k");
    let _: () = q(&mut cl.client(0), &["SET", &key, "v"]);
    migrate_sync(&mut cl.client(0), slot, &id1);

    // Both nodes know the new owner; neither changed its version (kvrocks:
    // a node never raises the version itself; kvrocks-controller copies a
    // node's CLUSTER NODES into its store when a node is ahead of it).
    let check = |cl: &Cluster, when: &str| {
        for i in 0..2 {
            let mut c = cl.client(i);
            assert_eq!(cl.version_of(i), 1, "node {i} {when}");
            assert_eq!(
                owner_in(&mut c, slot).as_deref(),
                Some(id1.as_str()),
                "node {i} {when}"
            );
            assert_eq!(
                owner_in(&mut c, slot + 1).as_deref(),
                Some(id0.as_str()),
                "node {i} {when}"
            );
            let info = cluster::cluster_info(&mut c);
            assert_eq!(cluster::info_field(&info, "cluster_current_epoch"), "1");
            assert_eq!(cluster::info_field(&info, "cluster_my_epoch"), "1");
        }
        assert_eq!(
            q_err(&mut cl.client(0), &["GET", &key]),
            format!("MOVED {slot} {}", cl.addr(1)),
            "{when}"
        );
        assert_eq!(
            q::<String>(&mut cl.client(1), &["GET", &key]),
            "v",
            "{when}"
        );
    };
    check(&cl, "after the move");
    let cinfo = cluster::cluster_info(&mut cl.client(1));
    assert_eq!(
        cluster::info_field(&cinfo, "importing_slot"),
        slot.to_string()
    );
    assert_eq!(cluster::info_field(&cinfo, "import_state"), "success");

    // The local change is recorded in nodes.conf: it survives restarts.
    cl.restart(0);
    cl.restart(1);
    check(&cl, "after restarts");

    // The controller pushing its view again with the version in force
    // (its map still has the slot on node 0): OK, nothing changes.
    cl.push_topology(1);
    check(&cl, "after a push of the same version");
    // An older version is refused, as kvrocks does.
    assert_eq!(
        cl.setnodes_on(0, 0, false).unwrap_err(),
        "ERR Invalid cluster version"
    );

    // The controller's next step after a move: CLUSTERX SETSLOT <slot>
    // NODE <dst> <version + 1> on every node, accepted because no node ran
    // ahead of it.
    for i in 0..2 {
        let r: String = q(
            &mut cl.client(i),
            &["CLUSTERX", "SETSLOT", &slot.to_string(), "NODE", &id1, "2"],
        );
        assert_eq!(r, "OK", "node {i}");
    }
    cl.assign(slot..=slot, 1);
    cl.version = 2;
    cl.assert_nodes_agree();

    // A second move, then a push with a higher version that says otherwise:
    // the push replaces the local change.
    let slot2 = 301u16;
    migrate_sync(&mut cl.client(0), slot2, &id1);
    for i in 0..2 {
        assert_eq!(
            owner_in(&mut cl.client(i), slot2).as_deref(),
            Some(id1.as_str())
        );
    }
    cl.push_topology(3);
    cl.assert_nodes_agree();
    assert_eq!(
        owner_in(&mut cl.client(1), slot2).as_deref(),
        Some(id0.as_str())
    );
}

#[test]
fn nodes_with_controller_style_ids_move_slots() {
    // kvrocks-controller generates ids from [A-Za-z0-9]; they are kept as
    // given, in the topology, in MIGRATE and in the redirects.
    let mut cl = Cluster::start(2);
    let ids = [
        "vQ1qtzlEFS0et4D09XkANfwa1aRvFlx4z8xtuDO9",
        "ZZ1qtzlEFS0et4D09XkANfwa1aRvFlx4z8xtuDO9",
    ];
    for (i, id) in ids.iter().enumerate() {
        let r: String = q(&mut cl.client(i), &["CLUSTERX", "SETNODEID", id]);
        assert_eq!(r, "OK");
        cl.nodes[i].id = id.to_string();
    }
    cl.push_topology(2);
    cl.assert_nodes_agree();
    let slot = 400u16;
    let key = key_in_slot(slot, ":k");
    let _: () = q(&mut cl.client(0), &["SET", &key, "v"]);
    // The same id in lower case is another node.
    let lower = ids[1].to_ascii_lowercase();
    let err = q_err(
        &mut cl.client(0),
        &["CLUSTERX", "MIGRATE", &slot.to_string(), &lower],
    );
    assert!(err.contains("destination node"), "{err}");
    migrate_sync(&mut cl.client(0), slot, ids[1]);
    assert_eq!(q::<String>(&mut cl.client(1), &["GET", &key]), "v");
    assert_eq!(
        q_err(&mut cl.client(0), &["GET", &key]),
        format!("MOVED {slot} {}", cl.addr(1))
    );
    assert_eq!(owner_in(&mut cl.client(0), slot).as_deref(), Some(ids[1]));
    assert_eq!(owner_in(&mut cl.client(1), slot).as_deref(), Some(ids[1]));
    // And back.
    migrate_sync(&mut cl.client(1), slot, ids[0]);
    assert_eq!(q::<String>(&mut cl.client(0), &["GET", &key]), "v");
}

#[test]
fn writes_during_migration_are_kept() {
    let cl = Cluster::start(2);
    let slot = 200u16;
    let counters: Vec<String> = (0..10)
        .map(|i| key_in_slot(slot, &format!(":c{i}")))
        .collect();
    let mut src = cl.client(0);
    for i in 0..20_000 {
        let k = key_in_slot(slot, &format!(":bulk{i}"));
        let _: () = q(
            &mut src,
            &["SET", &k, "0123456789012345678901234567890123456789"],
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let counters = counters.clone();
        let mut con = cl.cluster_connection();
        std::thread::spawn(move || {
            let mut acked = vec![0i64; counters.len()];
            let mut errors = Vec::new();
            let mut written = Vec::new();
            let mut rounds = 0;
            while !stop.load(Ordering::Relaxed) && rounds < 5000 {
                for (i, c) in counters.iter().enumerate() {
                    match redis::cmd("INCR").arg(c).query::<i64>(&mut con) {
                        Ok(_) => acked[i] += 1,
                        Err(e) => errors.push(common::err_text(&e)),
                    }
                }
                // A key of every type, every other round with a TTL.
                let prefix = key_in_slot(slot, &format!(":r{rounds}:"));
                let ttl = (rounds % 2 == 0).then_some(600_000);
                written.extend(cluster::write_value_of_each_type(&mut con, &prefix, ttl));
                rounds += 1;
            }
            (acked, errors, rounds, written)
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let reply: String = q(
        &mut src,
        &["CLUSTERX", "MIGRATE", &slot.to_string(), cl.id(1), "async"],
    );
    assert_eq!(reply, "OK");
    assert!(
        wait_until(Duration::from_secs(60), || {
            info_field(&mut src, "migration", "job_")
                .is_some_and(|l| l.contains("state=success") || l.contains("state=failed"))
        }),
        "job did not finish"
    );
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let (acked, errors, rounds, written) = writer.join().unwrap();
    let job = info_field(&mut src, "migration", "job_").unwrap();
    assert!(job.contains("state=success"), "{job}");
    assert!(rounds > 0);
    assert!(
        errors.is_empty(),
        "client errors: {:?}",
        &errors[..errors.len().min(5)]
    );

    let mut dst = cl.client(1);
    for (i, c) in counters.iter().enumerate() {
        let got: i64 = qq(&mut dst, &["GET", c]);
        assert_eq!(
            got, acked[i],
            "{c}: every acknowledged INCR is on the destination"
        );
    }
    // Every value written during the move, with its type, content and TTL.
    for w in &written {
        if let Err(e) = w.check(&mut dst) {
            panic!("{e}");
        }
    }
    let left: i64 = q(&mut src, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(left, 0, "nothing of the slot stays on the source");
    let arrived: i64 = q(&mut dst, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(arrived as usize, 20_010 + written.len());
}

#[test]
fn bad_chunks_and_bad_requests_are_refused() {
    let cl = Cluster::start(2);
    let mut dst = cl.client(1);
    let err = q_err(
        &mut dst,
        &[
            "CLUSTERX",
            "CHUNK",
            "garbage-that-is-long-enough-to-hold-a-header",
            "p",
        ],
    );
    assert!(err.starts_with("CHUNKREJECTED"), "{err}");
    let mut src = cl.client(0);
    let err = q_err(&mut src, &["CLUSTERX", "MIGRATE", "16000", cl.id(1)]);
    assert!(err.contains("doesn't belong to me"), "{err}");
    let err = q_err(&mut src, &["CLUSTERX", "MIGRATE", "10", cl.id(0)]);
    assert!(err.contains("myself"), "{err}");
    let err = q_err(&mut src, &["CLUSTERX", "MIGRATE", "16384", cl.id(1)]);
    assert!(err.contains("out of range"), "{err}");
}

#[test]
fn redis_command_type_moves_keys_one_by_one() {
    let cl = Cluster::start(2);
    let slot = 400u16;
    let mut src = cl.client(0);
    let _: () = q(
        &mut src,
        &["CONFIG", "SET", "migrate-type", "redis-command"],
    );
    for i in 0..1500 {
        let k = key_in_slot(slot, &format!(":k{i}"));
        let _: () = q(&mut src, &["SET", &k, &format!("v{i}")]);
    }
    let ttl_key = key_in_slot(slot, ":ttl");
    let _: () = q(&mut src, &["SET", &ttl_key, "t", "EX", "1000"]);
    migrate_sync(&mut src, slot, cl.id(1));
    let mut dst = cl.client(1);
    let arrived: i64 = q(&mut dst, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(arrived, 1501);
    let left: i64 = q(&mut src, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(left, 0);
    let v: String = q(&mut dst, &["GET", &key_in_slot(slot, ":k777")]);
    assert_eq!(v, "v777");
    let ttl: i64 = q(&mut dst, &["TTL", &ttl_key]);
    assert!(ttl > 900, "TTL kept: {ttl}");
    let moved = q_err(&mut src, &["GET", &ttl_key]);
    assert_eq!(moved, format!("MOVED {slot} {}", cl.addr(1)));
    let nodes: String = q(&mut src, &["CLUSTER", "NODES"]);
    assert!(!nodes.contains("->-"), "no slot left MIGRATING: {nodes}");
}

#[test]
fn cluster_migration_import_status_and_cancel() {
    let cl = Cluster::start(2);
    let (slot_a, slot_b) = (500u16, 501u16);
    let mut src = cl.client(0);
    for i in 0..20_000 {
        let k = key_in_slot(slot_b, &format!(":{i}"));
        let _: () = q(
            &mut src,
            &[
                "SET",
                &k,
                "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
            ],
        );
    }
    let _: () = q(&mut src, &["SET", &key_in_slot(slot_a, ":one"), "1"]);

    // IMPORT runs on the destination and asks the owner to send the slots.
    let mut dst = cl.client(1);
    let ok: String = q(
        &mut dst,
        &[
            "CLUSTER",
            "MIGRATION",
            "IMPORT",
            &slot_a.to_string(),
            &slot_a.to_string(),
        ],
    );
    assert_eq!(ok, "OK");
    assert!(wait_until(Duration::from_secs(30), || {
        let n: i64 = q(
            &mut dst,
            &["CLUSTER", "COUNTKEYSINSLOT", &slot_a.to_string()],
        );
        let owner = cluster::slot_view(&mut dst)
            .into_iter()
            .find(|(_, ranges)| ranges.iter().any(|&(a, b)| a <= slot_a && slot_a <= b))
            .map(|(id, _)| id);
        n == 1 && owner.as_deref() == Some(cl.id(1))
    }));
    // The source reports success once its side of the hand-off is done.
    let mut text = String::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            let status: redis::Value = q(&mut src, &["CLUSTER", "MIGRATION", "STATUS", "ALL"]);
            text = format!("{status:?}");
            text.contains("success")
        }),
        "{text}"
    );

    // A slow job (rate limited) is cancelled: the slot stays on the source.
    let _: () = q(
        &mut src,
        &[
            "CONFIG",
            "SET",
            "migrate-batch-rate-limit-mb",
            "1",
            "migrate-batch-size-kb",
            "16",
            "migrate-compression",
            "none",
        ],
    );
    let r: String = q(
        &mut src,
        &[
            "CLUSTERX",
            "MIGRATE",
            &slot_b.to_string(),
            cl.id(1),
            "async",
        ],
    );
    assert_eq!(r, "OK");
    std::thread::sleep(Duration::from_millis(300));
    // While it runs: kvrocks's words for a running move and import.
    let running = wait_until(Duration::from_secs(10), || {
        let s = cluster::cluster_info(&mut src);
        let d = cluster::cluster_info(&mut dst);
        let has = |info: &[(String, String)], k: &str, v: &str| {
            info.iter().any(|(key, val)| key == k && val == v)
        };
        let b = slot_b.to_string();
        has(&s, "migrating_state", "start")
            && has(&s, "migrating_slot", &b)
            && has(&d, "import_state", "start")
            && has(&d, "importing_slot", &b)
    });
    assert!(
        running,
        "{:?} / {:?}",
        cluster::cluster_info(&mut src),
        cluster::cluster_info(&mut dst)
    );
    let cancelled: i64 = q(&mut src, &["CLUSTER", "MIGRATION", "CANCEL", "ALL"]);
    assert_eq!(cancelled, 1);
    assert!(wait_until(Duration::from_secs(30), || {
        {
            let info: String = q(&mut src, &["INFO", "migration"]);
            let want = format!("slots={slot_b}-{slot_b}");
            info.lines()
                .any(|l| l.contains(&want) && l.contains("state=failed"))
        }
    }));
    let left: i64 = q(
        &mut src,
        &["CLUSTER", "COUNTKEYSINSLOT", &slot_b.to_string()],
    );
    let status: redis::Value = q(&mut src, &["CLUSTER", "MIGRATION", "STATUS", "ALL"]);
    assert!(format!("{status:?}").contains("cancelled"), "{status:?}");
    assert_eq!(
        left, 20_000,
        "a cancelled job keeps the slot's data on the source"
    );
    assert!(
        wait_until(Duration::from_secs(10), || {
            let n: i64 = q(
                &mut dst,
                &["CLUSTER", "COUNTKEYSINSLOT", &slot_b.to_string()],
            );
            n == 0
        }),
        "the destination dropped the cancelled job's partial data"
    );
    let nodes: String = q(&mut dst, &["CLUSTER", "NODES"]);
    assert!(
        !nodes.contains(&format!("[{slot_b}-<-")),
        "no importing mark left: {nodes}"
    );
    // What kvrocks-controller polls: the failed move is "fail", the
    // dropped import "error" (kvrocks's words).
    let cinfo = cluster::cluster_info(&mut src);
    assert_eq!(cluster::info_field(&cinfo, "migrating_state"), "fail");
    assert_eq!(
        cluster::info_field(&cinfo, "migrating_slot"),
        slot_b.to_string()
    );
    assert_eq!(
        cluster::info_field(&cinfo, "migrating_slot(s)"),
        slot_b.to_string()
    );
    let dinfo = cluster::cluster_info(&mut dst);
    assert_eq!(cluster::info_field(&dinfo, "import_state"), "error");
    assert_eq!(
        cluster::info_field(&dinfo, "importing_slot"),
        slot_b.to_string()
    );
    let k = key_in_slot(slot_b, ":after-cancel");
    let _: () = q(&mut src, &["SET", &k, "still-mine"]);
    let v: String = q(&mut src, &["GET", &k]);
    assert_eq!(v, "still-mine");
}

#[test]
fn migration_links_authenticate_with_the_cluster_password() {
    let mut cl = Cluster::start(2);
    cl.set_password("s3cret");
    let slot = 120u16; // node 0's
    let mut src = cl.client(0);
    let mut dst = cl.client(1);
    for i in 0..500 {
        let _: () = q(
            &mut src,
            &["SET", &key_in_slot(slot, &format!(":{i}")), &i.to_string()],
        );
    }
    // Run on the destination: it asks the source (AUTH first), and the
    // source's job connects back (AUTH first).
    let s = slot.to_string();
    let r: String = q(&mut dst, &["CLUSTER", "MIGRATION", "IMPORT", &s, &s]);
    assert_eq!(r, "OK");
    let mut line = None;
    let done = wait_until(Duration::from_secs(30), || {
        line = info_field(&mut src, "migration", "job_");
        line.as_deref()
            .is_some_and(|l| l.contains("state=success") || l.contains("state=failed"))
    });
    assert!(
        done && line.as_deref().unwrap().contains("state=success"),
        "{line:?}"
    );
    let n: i64 = q(&mut dst, &["CLUSTER", "COUNTKEYSINSLOT", &s]);
    assert_eq!(n, 500);
    let v: String = q(&mut dst, &["GET", &key_in_slot(slot, ":42")]);
    assert_eq!(v, "42");
}

#[test]
fn the_moved_range_equals_the_source_snapshot_record_for_record() {
    let mut cl = Cluster::start(2);
    cl.set_password("admin-pw");
    let slot = 130u16; // node 0's
    for i in 0..2 {
        let _: () = q(&mut cl.client(i), &["NAMESPACE", "ADD", "ns1", "tok1"]);
    }
    fill_slot(&cl, 0, slot, 3000, 200);
    let mut src = cl.client(0);
    for i in 0..50 {
        let k = key_in_slot(slot, &format!(":ttl{i}"));
        let _: () = q(&mut src, &["SET", &k, "t", "EX", "100000"]);
    }
    let mut ns = cl.server(0).client_auth("tok1");
    for i in 0..100 {
        let k = key_in_slot(slot, &format!(":ns{i}"));
        let _: () = q(&mut ns, &["SET", &k, &i.to_string()]);
    }
    // Small pages, so the cursor crosses namespaces and column families.
    let before = slot_dump(&cl, 0, slot, 4096);
    // 3150 keys; of the 3000 filled, 375 each are hashes, lists and sets
    // (two subkeys more) and 375 sorted sets (two subkeys and two scores).
    assert_eq!(before.len(), 3150 + 3 * 375 * 2 + 375 * 4);

    migrate_sync(&mut src, slot, cl.id(1));

    let after = slot_dump(&cl, 1, slot, 1 << 20);
    assert_eq!(after.len(), before.len());
    for (i, (a, b)) in before.iter().zip(&after).enumerate() {
        assert_eq!(a, b, "record {i} differs");
    }
    assert!(slot_dump(&cl, 0, slot, 1 << 20).is_empty());
    let mut ns_dst = cl.server(1).client_auth("tok1");
    let v: String = q(&mut ns_dst, &["GET", &key_in_slot(slot, ":ns7")]);
    assert_eq!(v, "7");
}

#[test]
fn jobs_to_different_destinations_run_at_once() {
    let cl = Cluster::start(3);
    let (to_1, to_2) = (10u16, 11u16); // node 0's
    let first = fill_slot(&cl, 0, to_1, 3000, 300);
    let second = fill_slot(&cl, 0, to_2, 3000, 300);
    let mut src = cl.client(0);
    // Slow enough that both jobs overlap.
    let _: () = q(
        &mut src,
        &["CONFIG", "SET", "migrate-batch-rate-limit-mb", "1"],
    );
    cluster::migration::start_migration(&cl, 0, 1, to_1);
    cluster::migration::start_migration(&cl, 0, 2, to_2);
    let mut text = String::new();
    let overlapped = wait_until(Duration::from_secs(10), || {
        let status: redis::Value = q(&mut src, &["CLUSTER", "MIGRATION", "STATUS", "ALL"]);
        text = format!("{status:?}");
        text.matches("snapshot").count() == 2
    });
    assert!(overlapped, "both jobs copy at once: {text}");
    let _: () = q(
        &mut src,
        &["CONFIG", "SET", "migrate-batch-rate-limit-mb", "0"],
    );
    let done = wait_until(Duration::from_secs(60), || {
        let status: redis::Value = q(&mut src, &["CLUSTER", "MIGRATION", "STATUS", "ALL"]);
        text = format!("{status:?}");
        text.matches("success").count() == 2
    });
    assert!(done, "{text}");
    assert_moved_intact(&cl, 0, 1, to_1, &first);
    assert_moved_intact(&cl, 0, 2, to_2, &second);
}

#[test]
fn an_import_into_a_busy_node_flushes_instead_of_stalling() {
    let cl = Cluster::start(2);
    // The destination holds unflushed data of its own, well above the
    // import's memtable bound (3 x 1 MB): the import must get that flushed,
    // not wait on it chunk after chunk.
    fill_slot(&cl, 1, 9000, 5000, 1000);
    let _: () = q(
        &mut cl.client(1),
        &["CONFIG", "SET", "migrate-import-flush-mb", "1"],
    );
    let before = fill_slot(&cl, 0, 140, 3000, 1000);
    let line = cluster::migration::migrate_and_wait(&cl, 140);
    assert!(line.contains("state=success"), "{line}");
    assert_moved_intact(&cl, 0, 1, 140, &before);
}

#[test]
fn the_per_key_path_refuses_slots_with_keys_of_other_namespaces() {
    let mut cl = Cluster::start(2);
    cl.set_password("admin-pw");
    let slot = 131u16; // node 0's
    for i in 0..2 {
        let _: () = q(&mut cl.client(i), &["NAMESPACE", "ADD", "ns1", "tok1"]);
    }
    let mut src = cl.client(0);
    let _: () = q(&mut src, &["SET", &key_in_slot(slot, ":plain"), "v"]);
    let mut ns = cl.server(0).client_auth("tok1");
    let _: () = q(&mut ns, &["SET", &key_in_slot(slot, ":ns"), "n"]);
    let _: () = q(
        &mut src,
        &["CONFIG", "SET", "migrate-type", "redis-command"],
    );
    let err = q_err(
        &mut src,
        &["CLUSTERX", "MIGRATE", &slot.to_string(), cl.id(1), "sync"],
    );
    assert!(err.contains("default namespace only"), "{err}");
    assert!(err.contains("ns1"), "{err}");
    // Nothing moved; the streaming path carries every namespace.
    let _: () = q(
        &mut src,
        &["CONFIG", "SET", "migrate-type", "raw-key-value"],
    );
    migrate_sync(&mut src, slot, cl.id(1));
    let mut ns_dst = cl.server(1).client_auth("tok1");
    let v: String = q(&mut ns_dst, &["GET", &key_in_slot(slot, ":ns")]);
    assert_eq!(v, "n");
}

/// Writes a hash of `n` fields `f<i>` = `v<i>` in pipelined batches.
fn big_hash(con: &mut redis::Connection, key: &str, n: usize) {
    for start in (0..n).step_by(1000) {
        let mut c = redis::cmd("HSET");
        c.arg(key);
        for i in start..(start + 1000).min(n) {
            c.arg(format!("f{i}")).arg(format!("v{i}"));
        }
        let _: i64 = c.query(con).unwrap();
    }
}

#[test]
fn stale_subkeys_of_a_recreated_key_never_become_visible_after_a_move() {
    let cl = Cluster::start(2);
    let slot = 410u16;
    let mut src = cl.client(0);
    let k = key_in_slot(slot, ":h");
    big_hash(&mut src, &k, 500);
    let _: i64 = q(&mut src, &["DEL", &k]);
    let _: i64 = q(&mut src, &["HSET", &k, "new", "1"]);
    let z = key_in_slot(slot, ":z");
    let _: i64 = q(&mut src, &["ZADD", &z, "1", "old"]);
    let _: i64 = q(&mut src, &["EXPIRE", &z, "1000"]);
    let _: () = q(&mut src, &["SET", &z, "now a string"]);
    migrate_sync(&mut src, slot, cl.id(1));
    let mut dst = cl.client(1);
    let all: Vec<String> = q(&mut dst, &["HGETALL", &k]);
    assert_eq!(all, vec!["new", "1"], "only the re-created hash's field");
    assert_eq!(q::<i64>(&mut dst, &["HLEN", &k]), 1);
    let ty: String = q(&mut dst, &["TYPE", &z]);
    assert_eq!(ty, "string");
    // Re-creating the moved hash here gives it a version above the moved
    // one, so nothing of either older version shows through.
    let _: i64 = q(&mut dst, &["DEL", &k]);
    let _: i64 = q(&mut dst, &["HSET", &k, "newer", "2"]);
    let all: Vec<String> = q(&mut dst, &["HGETALL", &k]);
    assert_eq!(all, vec!["newer", "2"]);
}

#[test]
fn every_type_moves_with_versions_ttls_and_records_intact() {
    let cl = Cluster::start(2);
    let slot = 420u16;
    let mut src = cl.client(0);
    let mut written = Vec::new();
    for round in 0..20 {
        let prefix = key_in_slot(slot, &format!(":r{round}:"));
        let ttl = (round % 2 == 0).then_some(600_000);
        written.extend(cluster::write_value_of_each_type(&mut src, &prefix, ttl));
    }
    big_hash(&mut src, &key_in_slot(slot, ":big"), 20_000);
    let before = slot_dump(&cl, 0, slot, 1 << 20);
    migrate_sync(&mut src, slot, cl.id(1));
    let after = slot_dump(&cl, 1, slot, 1 << 20);
    assert_eq!(after.len(), before.len());
    assert!(after == before, "the moved records equal the source's");
    let mut dst = cl.client(1);
    for w in &written {
        if let Err(e) = w.check(&mut dst) {
            panic!("{e}");
        }
    }
    assert_eq!(
        q::<i64>(&mut dst, &["HLEN", &key_in_slot(slot, ":big")]),
        20_000
    );
}

#[test]
fn redis_command_type_moves_every_type_and_big_keys_in_parts() {
    let cl = Cluster::start(2);
    let slot = 430u16;
    let mut src = cl.client(0);
    let _: () = q(
        &mut src,
        &["CONFIG", "SET", "migrate-type", "redis-command"],
    );
    let mut written = Vec::new();
    for round in 0..10 {
        let prefix = key_in_slot(slot, &format!(":r{round}:"));
        let ttl = (round % 2 == 0).then_some(600_000);
        written.extend(cluster::write_value_of_each_type(&mut src, &prefix, ttl));
    }
    let big = key_in_slot(slot, ":big");
    big_hash(&mut src, &big, 5000);
    let _: i64 = q(&mut src, &["PEXPIRE", &big, "600000"]);
    let list = key_in_slot(slot, ":list");
    for start in (0..3000).step_by(1000) {
        let mut c = redis::cmd("RPUSH");
        c.arg(&list);
        for i in start..start + 1000 {
            c.arg(format!("item{i}"));
        }
        let _: i64 = c.query(&mut src).unwrap();
    }
    migrate_sync(&mut src, slot, cl.id(1));
    let mut dst = cl.client(1);
    for w in &written {
        if let Err(e) = w.check(&mut dst) {
            panic!("{e}");
        }
    }
    assert_eq!(q::<i64>(&mut dst, &["HLEN", &big]), 5000);
    assert_eq!(q::<String>(&mut dst, &["HGET", &big, "f4321"]), "v4321");
    let ttl: i64 = q(&mut dst, &["TTL", &big]);
    assert!(ttl > 500 && ttl <= 600, "TTL set last: {ttl}");
    let items: Vec<String> = q(&mut dst, &["LRANGE", &list, "0", "-1"]);
    assert_eq!(items.len(), 3000);
    assert!(items
        .iter()
        .enumerate()
        .all(|(i, v)| *v == format!("item{i}")));
    let left: i64 = q(&mut src, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(left, 0);
}

/// A slot that leaves and comes back: what the first owner had read (and
/// so cached) before the move never hides what the import brought back.
#[test]
fn reads_after_a_slot_comes_back_see_the_imported_values() {
    let cl = Cluster::start(2);
    let slot = 100u16; // owned by node 0 in the even split
    let mut a = cl.client(0);
    let mut b = cl.client(1);
    let changed = key_in_slot(slot, ":changed");
    let created = key_in_slot(slot, ":created");
    let deleted = key_in_slot(slot, ":deleted");
    let _: () = q(&mut a, &["SET", &changed, "old"]);
    let _: () = q(&mut a, &["SET", &deleted, "here"]);
    let _: () = q(&mut a, &["HSET", &key_in_slot(slot, ":h"), "f", "1"]);
    for _ in 0..2 {
        assert_eq!(q::<String>(&mut a, &["GET", &changed]), "old");
        assert_eq!(q::<Option<String>>(&mut a, &["GET", &created]), None);
        assert_eq!(q::<String>(&mut a, &["GET", &deleted]), "here");
        assert_eq!(q::<i64>(&mut a, &["HLEN", &key_in_slot(slot, ":h")]), 1);
    }
    migrate_sync(&mut a, slot, cl.id(1));
    let _: () = q(&mut b, &["SET", &changed, "new"]);
    let _: () = q(&mut b, &["SET", &created, "fresh"]);
    let _: i64 = q(&mut b, &["DEL", &deleted]);
    let _: i64 = q(&mut b, &["HSET", &key_in_slot(slot, ":h"), "g", "2"]);
    migrate_sync(&mut b, slot, cl.id(0));
    assert_eq!(q::<String>(&mut a, &["GET", &changed]), "new");
    assert_eq!(q::<String>(&mut a, &["GET", &created]), "fresh");
    assert_eq!(q::<Option<String>>(&mut a, &["GET", &deleted]), None);
    assert_eq!(q::<i64>(&mut a, &["HLEN", &key_in_slot(slot, ":h")]), 2);
}
