//! Request routing in cluster mode: MOVED, CROSSSLOT, hash tags, keyless
//! commands, real cluster clients (`redis-cli -c`, the `redis` crate's
//! ClusterClient), the ASK / ASKING flow of a slot being moved by hand,
//! DUMP / RESTORE and MIGRATE.

mod cluster;
mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cluster::{
    check_all, cluster_nodes, dataset, key_in_slot, key_slot, plain_keys, qq, redis_cli, slot_view,
    try_q, write_all, write_value_of_each_type, Cluster, Data, Written,
};
use common::{free_port, q, q_err, Server};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn set(con: &mut redis::Connection, key: &str, value: &str) {
    let reply: String = q(con, &["SET", key, value]);
    assert_eq!(reply, "OK", "SET {key}");
}

#[test]
fn moved_for_keys_of_other_nodes() {
    let cl = Cluster::start(3);
    let mut keys: Vec<String> = ["foo", "bar", "hello", "somekey", "{user1000}.following"]
        .iter()
        .map(|k| k.to_string())
        .collect();
    for i in 0..3 {
        for (a, b) in cl.slot_ranges(i) {
            keys.push(key_in_slot(a, "first"));
            keys.push(key_in_slot(b, "last"));
        }
    }
    for key in &keys {
        let slot = key_slot(key.as_bytes());
        let owner = cl.node_for_slot(slot);
        let moved = format!("-MOVED {slot} {}\r\n", cl.addr(owner));
        for i in (0..3).filter(|&i| i != owner) {
            let mut raw = cl.raw(i);
            assert_eq!(raw.cmd(&["GET", key]), moved, "GET {key} on node {i}");
            assert_eq!(raw.cmd(&["SET", key, "v"]), moved, "SET {key} on node {i}");
            assert_eq!(raw.cmd(&["DEL", key]), moved, "DEL {key} on node {i}");
            assert_eq!(raw.cmd(&["EXISTS", key]), moved, "EXISTS {key} on node {i}");
            assert_eq!(
                raw.cmd(&["EXPIRE", key, "100"]),
                moved,
                "EXPIRE {key} on node {i}"
            );
            assert_eq!(raw.cmd(&["TTL", key]), moved, "TTL {key} on node {i}");
            assert_eq!(raw.cmd(&["INCR", key]), moved, "INCR {key} on node {i}");
        }
        let mut raw = cl.raw(owner);
        assert_eq!(raw.cmd(&["SET", key, "v"]), "+OK\r\n", "SET {key} on owner");
        assert_eq!(raw.cmd(&["GET", key]), "$1\r\nv\r\n", "GET {key} on owner");
    }
    // Nothing was written anywhere but on the owners.
    let total: i64 = (0..3)
        .map(|i| q::<i64>(&mut cl.client(i), &["DBSIZE"]))
        .sum();
    let distinct: std::collections::HashSet<&String> = keys.iter().collect();
    assert_eq!(total as usize, distinct.len());
}

#[test]
fn crossslot_and_hash_tags() {
    let cl = Cluster::start(3);
    // Two keys of different slots, both owned by node 0, and one of node 2.
    let (k1, k2) = (key_in_slot(10, "a"), key_in_slot(20, "b"));
    let far = key_in_slot(16000, "c");
    assert_eq!(cl.node_for_key(&k1), 0);
    assert_eq!(cl.node_for_key(&k2), 0);
    assert_eq!(cl.node_for_key(&far), 2);
    let crossslot = "-CROSSSLOT Keys in request don't hash to the same slot\r\n";
    let mut raw = cl.raw(0);
    assert_eq!(raw.cmd(&["MSET", &k1, "1", &k2, "2"]), crossslot);
    assert_eq!(raw.cmd(&["MSET", &k1, "1", &far, "2"]), crossslot);
    assert_eq!(raw.cmd(&["MGET", &k1, &k2]), crossslot);
    assert_eq!(raw.cmd(&["DEL", &k1, &k2]), crossslot);
    assert_eq!(raw.cmd(&["EXISTS", &k1, &k2]), crossslot);
    assert_eq!(raw.cmd(&["MSETNX", &k1, "1", &k2, "2"]), crossslot);
    assert_eq!(raw.cmd(&["MSET", "foo", "1", "bar", "2"]), crossslot);
    // None of them was written.
    assert_eq!(raw.cmd(&["EXISTS", &k1]), ":0\r\n");
    assert_eq!(raw.cmd(&["EXISTS", &k2]), ":0\r\n");

    // Hash tags put keys in one slot: multi-key commands work on the owner.
    let (f1, f2) = ("{user1000}.following", "{user1000}.followers");
    let slot = key_slot(b"user1000");
    let owner = cl.node_for_slot(slot);
    let mut c = cl.client(owner);
    assert_eq!(q::<String>(&mut c, &["MSET", f1, "a", f2, "b"]), "OK");
    assert_eq!(
        q::<Vec<String>>(&mut c, &["MGET", f1, f2]),
        ["a".to_string(), "b".to_string()]
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", f1, f2]), 2);
    // ... and get MOVED elsewhere.
    let other = (owner + 1) % 3;
    assert_eq!(
        cl.raw(other).cmd(&["MGET", f1, f2]),
        format!("-MOVED {slot} {}\r\n", cl.addr(owner))
    );
    assert_eq!(q::<i64>(&mut c, &["DEL", f1, f2]), 2);
}

#[test]
fn keyless_commands_run_on_every_node() {
    let cl = Cluster::start(3);
    for i in 0..3 {
        let mut c = cl.client(i);
        let key = key_in_slot(cl.first_slot_of(i), "k");
        set(&mut c, &key, "v");
        if i == 0 {
            set(&mut c, &key_in_slot(cl.first_slot_of(0) + 1, "k"), "v");
        }
    }
    for i in 0..3 {
        let mut c = cl.client(i);
        assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
        assert_eq!(q::<String>(&mut c, &["ECHO", "hi"]), "hi");
        assert_eq!(
            q::<i64>(&mut c, &["DBSIZE"]),
            if i == 0 { 2 } else { 1 },
            "DBSIZE of node {i}"
        );
        let info: String = q(&mut c, &["INFO"]);
        assert!(info.contains("cluster_enabled:1"), "{info}");
        let time: Vec<String> = q(&mut c, &["TIME"]);
        assert_eq!(time.len(), 2);
        let _: String = q(&mut c, &["CLUSTER", "INFO"]);
    }
}

#[test]
fn redis_cli_follows_moved() {
    let cl = Cluster::start(3);
    let t = Duration::from_secs(15);
    let mut keys = vec!["foo".to_string(), "bar".to_string(), "hello".to_string()];
    for i in 0..3 {
        keys.push(key_in_slot(cl.first_slot_of(i) + 7, "cli"));
    }
    for (n, key) in keys.iter().enumerate() {
        let owner = cl.node_for_key(key);
        // Write through a node that does not own the key, read through
        // another one.
        let via = (owner + 1) % 3;
        let reader = (owner + 2) % 3;
        let value = format!("value {n}");
        let out = redis_cli(
            &["-c", "-p", &cl.port(via).to_string(), "set", key, &value],
            t,
        );
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            stdout(&out),
            "OK\n",
            "redis-cli -c set {key} via node {via}"
        );
        let out = redis_cli(&["-c", "-p", &cl.port(reader).to_string(), "get", key], t);
        assert_eq!(stdout(&out), format!("{value}\n"), "redis-cli -c get {key}");
        // The value lives on the owner only.
        assert_eq!(q::<String>(&mut cl.client(owner), &["GET", key]), value);
        // Without -c, redis-cli shows the redirection.
        let out = redis_cli(&["-p", &cl.port(via).to_string(), "get", key], t);
        let slot = key_slot(key.as_bytes());
        assert!(
            stdout(&out).contains(&format!("MOVED {slot} {}", cl.addr(owner))),
            "{}",
            stdout(&out)
        );
    }
}

#[test]
fn cluster_client_writes_and_reads_10000_keys() {
    let cl = Cluster::start(3);
    let items = dataset(plain_keys(10_000), 10, 600_000);
    let mut con = cl.cluster_connection();
    write_all(&mut con, &items, 1000);
    cluster::assert_no_errors(&check_all(&mut con, &items, 1000), "pipelined read-back");

    // Single commands through the cluster connection.
    for w in items.iter().step_by(20) {
        if let Err(e) = w.check(&mut con) {
            panic!("single-command read-back: {e}");
        }
    }
    for i in 0..300 {
        let key = format!("counter:{i}");
        let n: i64 = qq(&mut con, &["INCRBY", &key, &i.to_string()]);
        assert_eq!(n, i);
        let n: i64 = qq(&mut con, &["INCR", &key]);
        assert_eq!(n, i + 1);
    }

    // Every key sits on the node owning its slot, and only there.
    let mut total = 0;
    for i in 0..3 {
        let mut c = cl.client(i);
        let size: i64 = q(&mut c, &["DBSIZE"]);
        assert!(size > 2500, "node {i} holds only {size} keys");
        total += size;
    }
    assert_eq!(total, 10_300);
    for w in items.iter().step_by(97) {
        let owner = cl.node_for_key(&w.key);
        assert_eq!(q::<i64>(&mut cl.client(owner), &["EXISTS", &w.key]), 1);
        for i in (0..3).filter(|&i| i != owner) {
            let reply = cl.raw(i).cmd(&["EXISTS", &w.key]);
            assert!(reply.starts_with("-MOVED "), "{}: {reply}", w.key);
        }
    }
}

#[test]
fn ask_and_asking_during_a_manual_slot_move() {
    let mut cl = Cluster::start(2);
    let (a, b) = (0, 1);
    let (ida, idb) = (cl.id(a).to_string(), cl.id(b).to_string());
    let slot = key_slot(b"bar");
    assert_eq!(cl.node_for_slot(slot), a);
    let s = slot.to_string();
    let k1 = key_in_slot(slot, ":1");
    let k2 = key_in_slot(slot, ":2");
    let mut ca = cl.client(a);
    let mut cb = cl.client(b);
    let _: () = redis::cmd("SET")
        .arg(&k1)
        .arg("one")
        .arg("PX")
        .arg(600_000)
        .query(&mut ca)
        .unwrap();

    // Wrong owners are refused.
    assert!(q_err(&mut cb, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &ida]).starts_with("ERR"));
    assert!(q_err(&mut ca, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &idb]).starts_with("ERR"));
    let unknown = cluster::random_node_id();
    assert!(q_err(&mut cb, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &unknown]).starts_with("ERR"));

    assert_eq!(
        q::<String>(&mut cb, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &ida]),
        "OK"
    );
    assert_eq!(
        q::<String>(&mut ca, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &idb]),
        "OK"
    );
    // CLUSTER NODES shows the open slot on each side's own line.
    let me_a = cluster_nodes(&mut ca)
        .into_iter()
        .find(|l| l.is_myself())
        .unwrap();
    assert_eq!(me_a.migrating, [(slot, idb.clone())], "{me_a:?}");
    let me_b = cluster_nodes(&mut cb)
        .into_iter()
        .find(|l| l.is_myself())
        .unwrap();
    assert_eq!(me_b.importing, [(slot, ida.clone())], "{me_b:?}");

    // Source: existing keys are served, missing ones get ASK.
    let ask = format!("-ASK {slot} {}\r\n", cl.addr(b));
    let moved_to_a = format!("-MOVED {slot} {}\r\n", cl.addr(a));
    let mut ra = cl.raw(a);
    assert_eq!(ra.cmd(&["GET", &k1]), "$3\r\none\r\n");
    assert_eq!(ra.cmd(&["GET", &k2]), ask);
    assert_eq!(ra.cmd(&["SET", &k2, "x"]), ask);

    // Destination: MOVED back unless the command follows ASKING.
    let mut rb = cl.raw(b);
    assert_eq!(rb.cmd(&["GET", &k2]), moved_to_a);
    assert_eq!(rb.cmd(&["ASKING"]), "+OK\r\n");
    assert_eq!(rb.cmd(&["GET", &k2]), "$-1\r\n");
    // ASKING covers one command only.
    assert_eq!(rb.cmd(&["GET", &k2]), moved_to_a);
    assert_eq!(rb.cmd(&["ASKING"]), "+OK\r\n");
    assert_eq!(rb.cmd(&["SET", &k2, "two"]), "+OK\r\n");
    assert_eq!(rb.cmd(&["ASKING"]), "+OK\r\n");
    assert_eq!(rb.cmd(&["GET", &k2]), "$3\r\ntwo\r\n");
    // Keys of other slots are not affected by ASKING.
    let other = key_in_slot(slot + 1, "x");
    assert_eq!(rb.cmd(&["ASKING"]), "+OK\r\n");
    assert_eq!(
        rb.cmd(&["GET", &other]),
        format!("-MOVED {} {}\r\n", slot + 1, cl.addr(a))
    );

    // A multi-key command over present and missing keys of the slot.
    let tryagain = "-TRYAGAIN Multiple keys request during rehashing of slot\r\n";
    assert_eq!(ra.cmd(&["MGET", &k1, &k2]), tryagain);
    assert_eq!(ra.cmd(&["EXISTS", &k1, &k2]), tryagain);

    // Move k1 with MIGRATE (the target gets it although it does not own
    // the slot yet); the source then redirects with ASK.
    let out: String = q(
        &mut ca,
        &[
            "MIGRATE",
            "127.0.0.1",
            &cl.port(b).to_string(),
            &k1,
            "0",
            "5000",
        ],
    );
    assert_eq!(out, "OK");
    assert_eq!(ra.cmd(&["GET", &k1]), ask);
    assert_eq!(rb.cmd(&["ASKING"]), "+OK\r\n");
    assert_eq!(rb.cmd(&["GET", &k1]), "$3\r\none\r\n");
    assert_eq!(q::<i64>(&mut ca, &["CLUSTER", "COUNTKEYSINSLOT", &s]), 0);
    assert_eq!(q::<i64>(&mut cb, &["CLUSTER", "COUNTKEYSINSLOT", &s]), 2);

    // Close the move: both sides assign the slot to B.
    assert_eq!(
        q::<String>(&mut cb, &["CLUSTER", "SETSLOT", &s, "NODE", &idb]),
        "OK"
    );
    assert_eq!(
        q::<String>(&mut ca, &["CLUSTER", "SETSLOT", &s, "NODE", &idb]),
        "OK"
    );
    let moved_to_b = format!("-MOVED {slot} {}\r\n", cl.addr(b));
    assert_eq!(ra.cmd(&["GET", &k1]), moved_to_b);
    assert_eq!(ra.cmd(&["GET", &k2]), moved_to_b);
    assert_eq!(rb.cmd(&["GET", &k1]), "$3\r\none\r\n");
    assert_eq!(rb.cmd(&["GET", &k2]), "$3\r\ntwo\r\n");
    let pttl: i64 = q(&mut cb, &["PTTL", &k1]);
    assert!(pttl > 0 && pttl <= 600_000, "PTTL after MIGRATE: {pttl}");
    let view_a = slot_view(&mut ca);
    assert_eq!(view_a, slot_view(&mut cb), "both nodes agree");
    let b_slots = &view_a.iter().find(|(id, _)| *id == idb).unwrap().1;
    assert!(
        b_slots.iter().any(|&(x, y)| x <= slot && slot <= y),
        "{b_slots:?}"
    );
    for con in [&mut ca, &mut cb] {
        for l in cluster_nodes(con) {
            assert!(l.migrating.is_empty() && l.importing.is_empty(), "{l:?}");
        }
    }

    // STABLE closes an open slot without moving it.
    let slot2 = 100u16;
    let s2 = slot2.to_string();
    let missing = key_in_slot(slot2, "missing");
    assert_eq!(
        q::<String>(&mut ca, &["CLUSTER", "SETSLOT", &s2, "MIGRATING", &idb]),
        "OK"
    );
    assert_eq!(
        ra.cmd(&["GET", &missing]),
        format!("-ASK {slot2} {}\r\n", cl.addr(b))
    );
    assert_eq!(
        q::<String>(&mut ca, &["CLUSTER", "SETSLOT", &s2, "STABLE"]),
        "OK"
    );
    assert_eq!(ra.cmd(&["GET", &missing]), "$-1\r\n");
    let me_a = cluster_nodes(&mut ca)
        .into_iter()
        .find(|l| l.is_myself())
        .unwrap();
    assert!(me_a.migrating.is_empty(), "{me_a:?}");

    // The moved slot stays moved across restarts of both nodes.
    drop((ra, rb, ca, cb));
    cl.restart(a);
    cl.restart(b);
    assert_eq!(cl.raw(a).cmd(&["GET", &k1]), moved_to_b);
    assert_eq!(cl.raw(b).cmd(&["GET", &k1]), "$3\r\none\r\n");
    assert_eq!(slot_view(&mut cl.client(a)), view_a);
    assert_eq!(slot_view(&mut cl.client(b)), view_a);
}

#[test]
fn setslot_node_refused_while_the_source_holds_keys() {
    let cl = Cluster::start(2);
    let slot = key_slot(b"bar");
    assert_eq!(cl.node_for_slot(slot), 0);
    let s = slot.to_string();
    let key = key_in_slot(slot, ":1");
    let idb = cl.id(1).to_string();
    let mut ca = cl.client(0);
    set(&mut ca, &key, "one");
    assert_eq!(
        q::<String>(
            &mut cl.client(1),
            &["CLUSTER", "SETSLOT", &s, "IMPORTING", cl.id(0)]
        ),
        "OK"
    );
    assert_eq!(
        q::<String>(&mut ca, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &idb]),
        "OK"
    );
    // Redis: "Can't assign hashslot N to a different node while I still
    // hold keys for this hash slot." (the keys would become unreachable).
    let reply = try_q::<String>(&mut ca, &["CLUSTER", "SETSLOT", &s, "NODE", &idb]);
    let me_a = cluster_nodes(&mut ca)
        .into_iter()
        .find(|l| l.is_myself())
        .unwrap();
    assert!(
        reply.as_ref().err().is_some_and(|e| e.starts_with(&format!(
            "ERR Can't assign hashslot {slot} to a different node"
        ))),
        "CLUSTER SETSLOT {slot} NODE <dst> on the source holding keys: {reply:?}"
    );
    assert!(
        me_a.slots.iter().any(|&(x, y)| x <= slot && slot <= y),
        "the source lost slot {slot}: {me_a:?}"
    );
    assert_eq!(me_a.migrating, [(slot, idb.clone())], "{me_a:?}");
    assert_eq!(cl.raw(0).cmd(&["GET", &key]), "$3\r\none\r\n");
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn dump(con: &mut redis::Connection, key: &str) -> Vec<u8> {
    redis::cmd("DUMP")
        .arg(key)
        .query::<Option<Vec<u8>>>(con)
        .unwrap()
        .unwrap_or_else(|| panic!("DUMP {key} returned nil"))
}

fn restore(
    con: &mut redis::Connection,
    key: &str,
    ttl: u64,
    payload: &[u8],
    extra: &[&str],
) -> Result<(), String> {
    let mut c = redis::cmd("RESTORE");
    c.arg(key).arg(ttl).arg(payload);
    for e in extra {
        c.arg(*e);
    }
    c.query::<()>(con).map_err(|e| common::err_text(&e))
}

#[test]
fn dump_and_restore() {
    let cl = Cluster::start(2);
    let (sa, sb) = (cl.first_slot_of(0), cl.first_slot_of(1));
    let mut ca = cl.client(0);
    let mut cb = cl.client(1);
    let prefix_a = format!("{{{}}}", cluster::hash_tag_for_slot(sa));
    let prefix_b = format!("{{{}}}", cluster::hash_tag_for_slot(sb));
    let written = write_value_of_each_type(&mut ca, &prefix_a, Some(600_000));

    for w in &written {
        let payload = dump(&mut ca, &w.key);
        // RESTORE on the other node, no TTL (DUMP does not carry it).
        let target = w.key.replacen(&prefix_a, &prefix_b, 1);
        restore(&mut cb, &target, 0, &payload, &[]).unwrap();
        Written::new(target.clone(), w.data.clone(), None)
            .check(&mut cb)
            .unwrap();
        // Existing key: BUSYKEY unless REPLACE.
        assert_eq!(
            restore(&mut cb, &target, 0, &payload, &[]).unwrap_err(),
            "BUSYKEY Target key name already exists."
        );
        restore(&mut cb, &target, 5000, &payload, &["REPLACE"]).unwrap();
        Written::new(target.clone(), w.data.clone(), Some(5000))
            .check(&mut cb)
            .unwrap();
        // ABSTTL: an absolute unix time in milliseconds.
        let abs = format!("{target}:abs");
        restore(&mut cb, &abs, now_ms() + 60_000, &payload, &["ABSTTL"]).unwrap();
        let pttl: i64 = q(&mut cb, &["PTTL", &abs]);
        assert!(pttl > 50_000 && pttl <= 60_000, "PTTL {pttl}");
        // An absolute time in the past: OK, but the key is not there.
        let past = format!("{target}:past");
        restore(&mut cb, &past, 1000, &payload, &["ABSTTL"]).unwrap();
        assert_eq!(q::<i64>(&mut cb, &["EXISTS", &past]), 0);

        // Corrupt payloads.
        let wrong = "ERR DUMP payload version or checksum are wrong";
        let mut flipped = payload.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x5a;
        let mut truncated = payload.clone();
        truncated.pop();
        let mut longer = payload.clone();
        longer.push(b'x');
        let mut bad_crc = payload.clone();
        let last = bad_crc.len() - 1;
        bad_crc[last] ^= 1;
        for (what, bad) in [
            ("flipped byte", flipped),
            ("truncated", truncated),
            ("extra byte", longer),
            ("bad checksum", bad_crc),
            ("garbage", b"xx".to_vec()),
            ("empty", Vec::new()),
        ] {
            let key = format!("{target}:{}", what.replace(' ', "-"));
            assert_eq!(
                restore(&mut cb, &key, 0, &bad, &[]).unwrap_err(),
                wrong,
                "{what}"
            );
            assert_eq!(q::<i64>(&mut cb, &["EXISTS", &key]), 0, "{what}");
        }
        // Negative TTL.
        let err = redis::cmd("RESTORE")
            .arg(format!("{target}:neg"))
            .arg(-1)
            .arg(payload.as_slice())
            .query::<()>(&mut cb)
            .map_err(|e| common::err_text(&e))
            .unwrap_err();
        assert_eq!(err, "ERR Invalid TTL value, must be >= 0");
        // RESTORE of a key this node does not own is redirected.
        let mut rb = cl.raw(1);
        let foreign = format!("{prefix_a}x");
        let reply = rb.cmd(&["RESTORE", &foreign, "0", "payload"]);
        assert_eq!(reply, format!("-MOVED {sa} {}\r\n", cl.addr(0)));
    }
    // Special values survive the round trip.
    for (n, value) in [Vec::new(), vec![0u8; 100_000], (0..=255u8).collect()]
        .into_iter()
        .enumerate()
    {
        let key = format!("{prefix_a}special{n}");
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg(value.as_slice())
            .query(&mut ca)
            .unwrap();
        let payload = dump(&mut ca, &key);
        let target = format!("{prefix_b}special{n}");
        restore(&mut cb, &target, 0, &payload, &[]).unwrap();
        let got: Vec<u8> = redis::cmd("GET").arg(&target).query(&mut cb).unwrap();
        assert_eq!(got, value, "special value {n}");
    }
    // DUMP of a missing key is nil.
    let missing: Option<Vec<u8>> = redis::cmd("DUMP")
        .arg(format!("{prefix_a}missing"))
        .query(&mut ca)
        .unwrap();
    assert_eq!(missing, None);
}

#[test]
fn restore_with_expired_absttl_onto_an_existing_key() {
    let s = Server::start();
    let mut c = s.client();
    set(&mut c, "src", "payload");
    set(&mut c, "existing", "keep me");
    let payload = dump(&mut c, "src");
    // Without REPLACE an existing key is BUSYKEY whatever the TTL, and it
    // stays; with REPLACE the already expired restore deletes it.
    let reply = restore(&mut c, "existing", 1000, &payload, &["ABSTTL"]);
    let value: Option<String> = q(&mut c, &["GET", "existing"]);
    assert_eq!(
        (reply, value.as_deref()),
        (
            Err("BUSYKEY Target key name already exists.".to_string()),
            Some("keep me")
        ),
        "RESTORE existing 1000 <payload> ABSTTL"
    );
    restore(&mut c, "existing", 1000, &payload, &["ABSTTL", "REPLACE"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "existing"]), 0);
}

#[test]
fn migrate_between_two_nodes() {
    let src = Server::start();
    let dst = Server::start();
    let pwd = Server::start_with(&[("requirepass", "secret")]);
    let mut cs = src.client();
    let mut cd = dst.client();
    let dport = dst.port().to_string();
    let mig = |con: &mut redis::Connection, port: &str, key: &str, extra: &[&str]| {
        let mut args = vec!["MIGRATE", "127.0.0.1", port, key, "0", "5000"];
        args.extend_from_slice(extra);
        try_q::<String>(con, &args)
    };

    // Single key, with and without TTL.
    let with_ttl = write_value_of_each_type(&mut cs, "ttl:", Some(600_000));
    let without = write_value_of_each_type(&mut cs, "plain:", None);
    for w in with_ttl.iter().chain(&without) {
        assert_eq!(
            mig(&mut cs, &dport, &w.key, &[]).unwrap(),
            "OK",
            "{}",
            w.key
        );
        assert_eq!(q::<i64>(&mut cs, &["EXISTS", &w.key]), 0, "{} left", w.key);
        w.check(&mut cd).unwrap();
    }
    assert_eq!(mig(&mut cs, &dport, "nosuchkey", &[]).unwrap(), "NOKEY");

    // COPY keeps the source; an existing target needs REPLACE.
    let w = Written::new("copied", Data::String(b"v1".to_vec()), None);
    w.write(&mut cs);
    assert_eq!(mig(&mut cs, &dport, "copied", &["COPY"]).unwrap(), "OK");
    w.check(&mut cs).unwrap();
    w.check(&mut cd).unwrap();
    let w2 = Written::new("copied", Data::String(b"v2".to_vec()), Some(600_000));
    w2.write(&mut cs);
    let err = mig(&mut cs, &dport, "copied", &["COPY"]).unwrap_err();
    assert!(err.contains("BUSYKEY"), "{err}");
    w.check(&mut cd).unwrap();
    assert_eq!(
        mig(&mut cs, &dport, "copied", &["COPY", "REPLACE"]).unwrap(),
        "OK"
    );
    w2.check(&mut cd).unwrap();
    w2.check(&mut cs).unwrap();
    assert_eq!(mig(&mut cs, &dport, "copied", &["REPLACE"]).unwrap(), "OK");
    assert_eq!(q::<i64>(&mut cs, &["EXISTS", "copied"]), 0);

    // KEYS form: several keys at once; missing ones are skipped.
    let batch = dataset((0..1000).map(|i| format!("batch:{i}")), 3, 600_000);
    write_all(&mut cs, &batch, 500);
    let mut args: Vec<String> = ["MIGRATE", "127.0.0.1", &dport, "", "0", "5000", "KEYS"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(batch.iter().map(|w| w.key.clone()));
    args.push("batch:missing".to_string());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(q::<String>(&mut cs, &argv), "OK");
    for w in &batch {
        assert_eq!(q::<i64>(&mut cs, &["EXISTS", &w.key]), 0);
        w.check(&mut cd).unwrap();
    }
    assert_eq!(
        mig(&mut cs, &dport, "", &["KEYS", "gone1", "gone2"]).unwrap(),
        "NOKEY"
    );
    // KEYS needs the key argument to be empty.
    set(&mut cs, "k", "v");
    assert!(mig(&mut cs, &dport, "k", &["KEYS", "k"])
        .unwrap_err()
        .starts_with("ERR"));

    // A target with a password.
    let pport = pwd.port().to_string();
    let err = mig(&mut cs, &pport, "k", &[]).unwrap_err();
    assert!(err.contains("NOAUTH"), "{err}");
    assert_eq!(q::<i64>(&mut cs, &["EXISTS", "k"]), 1);
    let err = mig(&mut cs, &pport, "k", &["AUTH", "wrong"]).unwrap_err();
    assert!(
        err.starts_with("ERR") || err.starts_with("WRONGPASS"),
        "{err}"
    );
    assert_eq!(
        mig(&mut cs, &pport, "k", &["COPY", "AUTH", "secret"]).unwrap(),
        "OK"
    );
    assert_eq!(
        mig(
            &mut cs,
            &pport,
            "k",
            &["REPLACE", "AUTH2", "default", "secret"]
        )
        .unwrap(),
        "OK"
    );
    assert_eq!(q::<i64>(&mut cs, &["EXISTS", "k"]), 0);
    let mut cp = pwd.client_auth("secret");
    assert_eq!(q::<String>(&mut cp, &["GET", "k"]), "v");

    // Nobody listening: an IOERR, and the key stays.
    set(&mut cs, "stay", "v");
    let closed = free_port().to_string();
    let err = mig(&mut cs, &closed, "stay", &[]).unwrap_err();
    assert!(err.starts_with("IOERR"), "{err}");
    assert_eq!(q::<String>(&mut cs, &["GET", "stay"]), "v");

    // A target that accepts the connection but never answers: IOERR after
    // about the timeout, and the key stays.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sport = silent.local_addr().unwrap().port().to_string();
    let started = std::time::Instant::now();
    let err = try_q::<String>(
        &mut cs,
        &["MIGRATE", "127.0.0.1", &sport, "stay", "0", "1000"],
    )
    .unwrap_err();
    assert!(err.starts_with("IOERR"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "MIGRATE to a silent target took {:?}",
        started.elapsed()
    );
    assert_eq!(q::<String>(&mut cs, &["GET", "stay"]), "v");
    drop(silent);

    // A large value.
    let big = Written::new(
        "big",
        Data::String((0..4_000_000u32).map(|i| (i % 253) as u8).collect()),
        Some(600_000),
    );
    big.write(&mut cs);
    assert_eq!(mig(&mut cs, &dport, "big", &[]).unwrap(), "OK");
    big.check(&mut cd).unwrap();
    assert_eq!(q::<i64>(&mut cs, &["EXISTS", "big"]), 0);
}
