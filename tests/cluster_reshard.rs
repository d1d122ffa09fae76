//! The real `redis-cli --cluster reshard` moves 100 slots between two
//! ferrocks nodes (CLUSTER SETSLOT IMPORTING / MIGRATING / NODE,
//! GETKEYSINSLOT, MIGRATE ... KEYS), every key survives with its value and
//! TTL, and `redis-cli --cluster check` is happy afterwards.

mod cluster;
mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cluster::{
    assert_no_errors, check_all, cluster_nodes, dataset, key_in_slot, key_slot, redis_cli,
    slot_count, slot_view, write_all, Cluster,
};
use common::q;

fn show(out: &std::process::Output) -> String {
    format!(
        "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn redis_cli_reshard_moves_100_slots_with_their_keys() {
    let mut cl = Cluster::start(2);
    let (id0, id1) = (cl.id(0).to_string(), cl.id(1).to_string());

    // 5,000 keys: 4,000 spread by their hash, and 5 in each of the first
    // 200 slots of node 0 (where redis-cli takes slots from), every 4th
    // with a TTL.
    let mut keys: Vec<String> = (0..4000).map(|i| format!("rkey:{i}")).collect();
    for slot in 0..200u16 {
        for j in 0..5 {
            keys.push(key_in_slot(slot, &format!(":{j}")));
        }
    }
    let items = dataset(keys, 4, 600_000);
    assert_eq!(items.len(), 5000);
    let mut old_con = cl.cluster_connection();
    write_all(&mut old_con, &items, 500);
    let total: i64 = (0..2)
        .map(|i| q::<i64>(&mut cl.client(i), &["DBSIZE"]))
        .sum();
    assert_eq!(total, 5000);

    let before: BTreeSet<u16> = (0..cluster::SLOT_COUNT)
        .filter(|&s| cl.node_for_slot(s) == 0)
        .collect();

    let entry = cl.addr(0);
    let out = redis_cli(
        &[
            "--cluster",
            "reshard",
            &entry,
            "--cluster-from",
            &id0,
            "--cluster-to",
            &id1,
            "--cluster-slots",
            "100",
            "--cluster-yes",
        ],
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "reshard failed: {}", show(&out));

    // Both nodes agree on the new owners: node 1 got 100 of node 0's slots.
    let view0 = slot_view(&mut cl.client(0));
    let view1 = slot_view(&mut cl.client(1));
    assert_eq!(view0, view1, "the nodes disagree after the reshard");
    let owned = |id: &str| -> Vec<(u16, u16)> {
        view0
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    assert_eq!(slot_count(&owned(&id1)), 8192 + 100, "{view0:?}");
    assert_eq!(slot_count(&owned(&id0)), 8192 - 100, "{view0:?}");
    let mut moved = BTreeSet::new();
    for (a, b) in owned(&id1) {
        for s in a..=b {
            if before.contains(&s) {
                moved.insert(s);
            }
        }
    }
    assert_eq!(moved.len(), 100, "moved slots: {moved:?}");
    for &s in &moved {
        cl.assign(s..=s, 1);
    }
    for i in 0..2 {
        for l in cluster_nodes(&mut cl.client(i)) {
            assert!(
                l.migrating.is_empty() && l.importing.is_empty(),
                "open slot left on node {i}: {l:?}"
            );
        }
    }

    // The keys of the moved slots are on node 1 only.
    let mut c0 = cl.client(0);
    let mut c1 = cl.client(1);
    let mut moved_keys = 0;
    for &s in &moved {
        let want = items
            .iter()
            .filter(|w| key_slot(w.key.as_bytes()) == s)
            .count() as i64;
        moved_keys += want;
        let ss = s.to_string();
        assert_eq!(
            q::<i64>(&mut c0, &["CLUSTER", "COUNTKEYSINSLOT", &ss]),
            0,
            "slot {s} on node 0"
        );
        assert_eq!(
            q::<i64>(&mut c1, &["CLUSTER", "COUNTKEYSINSLOT", &ss]),
            want,
            "slot {s} on node 1"
        );
    }
    assert!(
        moved_keys >= 100,
        "only {moved_keys} keys were in the moved slots"
    );
    let on1 = items
        .iter()
        .filter(|w| cl.node_for_key(&w.key) == 1)
        .count() as i64;
    assert_eq!(q::<i64>(&mut c1, &["DBSIZE"]), on1);
    assert_eq!(q::<i64>(&mut c0, &["DBSIZE"]), 5000 - on1);

    // Every key reads back, with its TTL, through a new cluster client...
    let mut con = cl.cluster_connection();
    assert_no_errors(&check_all(&mut con, &items, 500), "read-back after reshard");
    // ... and through the one that still has the old slot map (it follows
    // MOVED).
    let in_moved: Vec<_> = items
        .iter()
        .filter(|w| moved.contains(&key_slot(w.key.as_bytes())))
        .cloned()
        .collect();
    for w in in_moved.iter().take(50) {
        if let Err(e) = w.check(&mut old_con) {
            panic!("old cluster connection: {e}");
        }
    }

    // redis-cli --cluster check, from either node.
    for i in 0..2 {
        let out = redis_cli(
            &["--cluster", "check", &cl.addr(i)],
            Duration::from_secs(30),
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "check failed: {}", show(&out));
        assert!(
            text.contains("[OK] All 16384 slots covered."),
            "{}",
            show(&out)
        );
        assert!(
            text.contains("[OK] All nodes agree about slots configuration."),
            "{}",
            show(&out)
        );
    }
}

/// Moves the first `slots` slots of node 0 to node 1 with redis-cli.
fn reshard(cl: &Cluster, slots: usize, pipeline: usize) -> std::process::Output {
    redis_cli(
        &[
            "--cluster",
            "reshard",
            &cl.addr(0),
            "--cluster-from",
            cl.id(0),
            "--cluster-to",
            cl.id(1),
            "--cluster-slots",
            &slots.to_string(),
            "--cluster-pipeline",
            &pipeline.to_string(),
            "--cluster-yes",
        ],
        Duration::from_secs(120),
    )
}

/// Writes that clients make while redis-cli moves their slots are not
/// lost: a thread keeps incrementing counters of the moving slots (and
/// creating new keys there) through a cluster client, which follows ASK and
/// MOVED; afterwards every counter equals the number of acknowledged
/// increments.
#[test]
fn writes_during_reshard_are_not_lost() {
    let cl = Cluster::start(2);
    // Slots 0..100 are the ones redis-cli takes from node 0 first; give
    // each 20 keys so that every slot needs several MIGRATE calls.
    let mut keys = Vec::new();
    for slot in 0..100u16 {
        for j in 0..20 {
            keys.push(key_in_slot(slot, &format!(":{j}")));
        }
    }
    let items = dataset(keys, 5, 600_000);
    let mut con = cl.cluster_connection();
    write_all(&mut con, &items, 500);
    let counters: Vec<String> = (0..100u16).map(|s| key_in_slot(s, ":ctr")).collect();
    for c in &counters {
        let _: () = redis::cmd("SET").arg(c).arg(0).query(&mut con).unwrap();
    }

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let counters = counters.clone();
        let mut con = cl.cluster_connection();
        std::thread::spawn(move || {
            // (acknowledged, failed) increments per counter; new keys.
            let mut acked = vec![0i64; counters.len()];
            let mut failed = vec![0i64; counters.len()];
            let mut created = Vec::new();
            let mut errors = Vec::new();
            let mut round = 0usize;
            while !stop.load(Ordering::Relaxed) && round < 2000 {
                for (i, c) in counters.iter().enumerate() {
                    match redis::cmd("INCR").arg(c).query::<i64>(&mut con) {
                        Ok(_) => acked[i] += 1,
                        Err(e) => {
                            failed[i] += 1;
                            errors.push(format!("INCR {c}: {}", common::err_text(&e)));
                        }
                    }
                }
                let key = key_in_slot((round % 100) as u16, &format!(":new{round}"));
                match redis::cmd("SET").arg(&key).arg(round).query::<()>(&mut con) {
                    Ok(()) => created.push((key, round)),
                    Err(e) => errors.push(format!("SET {key}: {}", common::err_text(&e))),
                }
                round += 1;
            }
            (acked, failed, created, errors, round)
        })
    };
    // Let the writer run a little before and during the move.
    std::thread::sleep(Duration::from_millis(100));
    let out = reshard(&cl, 100, 5);
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let (acked, failed, created, errors, rounds) = writer.join().unwrap();
    assert!(out.status.success(), "reshard failed: {}", show(&out));
    assert!(rounds > 0);

    let mut con = cl.cluster_connection();
    let mut lost = Vec::new();
    for (i, c) in counters.iter().enumerate() {
        let got: i64 = redis::cmd("GET").arg(c).query(&mut con).unwrap();
        if got < acked[i] || got > acked[i] + failed[i] {
            lost.push(format!(
                "{c} (slot {}): {got}, expected {} acknowledged increments (+{} failed)",
                key_slot(c.as_bytes()),
                acked[i],
                failed[i]
            ));
        }
    }
    for (key, n) in &created {
        let got: Option<String> = redis::cmd("GET").arg(key).query(&mut con).unwrap();
        if got.as_deref() != Some(n.to_string().as_str()) {
            lost.push(format!("{key}: {got:?}, expected {n}"));
        }
    }
    assert!(
        lost.is_empty(),
        "{} writes lost during the reshard ({rounds} rounds, {} client errors: {:?}):\n{}",
        lost.len(),
        errors.len(),
        errors.iter().take(5).collect::<Vec<_>>(),
        lost.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
    assert_no_errors(&check_all(&mut con, &items, 500), "keys after the reshard");
    let view0 = slot_view(&mut cl.client(0));
    assert_eq!(view0, slot_view(&mut cl.client(1)));
}
