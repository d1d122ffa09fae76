//! Cluster topology: node ids, `CLUSTERX SETNODES` / `SETSLOT` (kvrocks),
//! what `CLUSTER NODES / SLOTS / SHARDS / INFO` show for it (Redis formats),
//! `CLUSTER KEYSLOT` reference values, per-slot key listing, persistence
//! across restarts, and that every bad input is refused without changing
//! the topology.

mod cluster;
mod common;

use redis::Value;

use cluster::{
    cluster_info, cluster_nodes, info_field, key_in_slot, key_slot, random_node_id, ranges_text,
    Cluster,
};
use common::{q, q_err, Server};

/// What must not change when a command is refused.
fn snapshot(con: &mut redis::Connection) -> (i64, String, String) {
    let version: i64 = q(con, &["CLUSTERX", "VERSION"]);
    let nodes: String = q(con, &["CLUSTER", "NODES"]);
    let myid: String = q(con, &["CLUSTERX", "MYID"]);
    (version, nodes, myid)
}

fn setnodes(con: &mut redis::Connection, text: &str, version: &str) -> Result<(), String> {
    redis::cmd("CLUSTERX")
        .arg("SETNODES")
        .arg(text)
        .arg(version)
        .query::<()>(con)
        .map_err(|e| common::err_text(&e))
}

#[test]
fn node_id_and_version_before_any_topology() {
    let s = Server::start_with(&[("cluster-enabled", "yes")]);
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["CLUSTERX", "VERSION"]), -1);

    let id = random_node_id();
    assert_eq!(q::<String>(&mut c, &["CLUSTERX", "SETNODEID", &id]), "OK");
    assert_eq!(q::<String>(&mut c, &["CLUSTERX", "MYID"]), id);
    assert_eq!(q::<String>(&mut c, &["CLUSTER", "MYID"]), id);

    // kvrocks checks the length only (40); whitespace and control
    // characters would break CLUSTER NODES, so they are refused too.
    let bad_ids = [
        "abc".to_string(),
        "a".repeat(39),
        "a".repeat(41),
        format!("{} {}", &id[..20], &id[21..]),
        format!("{}\0", &id[..39]),
        String::new(),
    ];
    for bad in &bad_ids {
        assert_eq!(
            q_err(&mut c, &["CLUSTERX", "SETNODEID", bad]),
            "ERR Invalid cluster node id",
            "CLUSTERX SETNODEID {bad:?}"
        );
        assert_eq!(q::<String>(&mut c, &["CLUSTERX", "MYID"]), id);
    }
    assert_eq!(q::<i64>(&mut c, &["CLUSTERX", "VERSION"]), -1);

    // A new id replaces the old one.
    let id2 = random_node_id();
    assert_eq!(q::<String>(&mut c, &["CLUSTERX", "SETNODEID", &id2]), "OK");
    assert_eq!(q::<String>(&mut c, &["CLUSTERX", "MYID"]), id2);

    // Ids of any 40 characters, as kvrocks-controller generates them
    // ([A-Za-z0-9]), are kept exactly as given.
    for any in [
        "vQ1qtzlEFS0et4D09XkANfwa1aRvFlx4z8xtuDO9".to_string(),
        "g".repeat(40),
        format!("{}-", &id[..39]),
        "ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD".to_string(),
    ] {
        assert_eq!(q::<String>(&mut c, &["CLUSTERX", "SETNODEID", &any]), "OK");
        assert_eq!(q::<String>(&mut c, &["CLUSTERX", "MYID"]), any);
        assert_eq!(q::<String>(&mut c, &["CLUSTER", "MYID"]), any);
    }

    // No topology yet: kvrocks's CLUSTERDOWN error.
    for sub in ["NODES", "SLOTS", "INFO", "SHARDS"] {
        assert_eq!(
            q_err(&mut c, &["CLUSTER", sub]),
            "CLUSTERDOWN The cluster is not initialized",
            "CLUSTER {sub}"
        );
    }
    // CLUSTERX VERSION is a bulk string, as in kvrocks.
    assert_eq!(
        cluster::try_q::<Value>(&mut c, &["CLUSTERX", "VERSION"]),
        Ok(Value::BulkString(b"-1".to_vec()))
    );

    // READONLY / READWRITE / ASKING are accepted in cluster mode.
    assert_eq!(q::<String>(&mut c, &["READONLY"]), "OK");
    assert_eq!(q::<String>(&mut c, &["READWRITE"]), "OK");
    assert_eq!(q::<String>(&mut c, &["ASKING"]), "OK");

    // redis-cli --cluster looks for this before anything else.
    let info: String = q(&mut c, &["INFO", "cluster"]);
    assert!(info.contains("cluster_enabled:1"), "{info}");
}

#[test]
fn cluster_nodes_slots_shards_info_shape() {
    let cl = Cluster::start(3);
    for me in 0..3 {
        let mut c = cl.client(me);

        // CLUSTER NODES, checked as text for this node's own line.
        let text: String = q(&mut c, &["CLUSTER", "NODES"]);
        let myline = format!(
            "{} 127.0.0.1:{}@{} myself,master - 0 0 1 connected {}",
            cl.id(me),
            cl.port(me),
            cl.port(me) as u32 + 10000,
            ranges_text(&cl.slot_ranges(me))
        );
        assert!(
            text.lines().any(|l| l.trim_end() == myline),
            "node {me}: no line {myline:?} in\n{text}"
        );
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.ends_with('\n'), "{text:?}");

        let lines = cluster::parse_cluster_nodes(&text);
        for i in 0..3 {
            let l = lines
                .iter()
                .find(|l| l.id == cl.id(i))
                .unwrap_or_else(|| panic!("node {me} does not list node {i}:\n{text}"));
            assert_eq!(l.addr, cl.addr(i));
            assert_eq!(l.bus_port, Some(cl.port(i) + 10000));
            let flags: Vec<&str> = l.flags.iter().map(String::as_str).collect();
            if i == me {
                assert_eq!(flags, ["myself", "master"]);
            } else {
                assert_eq!(flags, ["master"]);
            }
            assert_eq!(l.master, "-");
            assert_eq!(l.config_epoch, 1);
            assert_eq!(l.link_state, "connected");
            assert_eq!(l.slots, cl.slot_ranges(i));
            assert!(l.migrating.is_empty() && l.importing.is_empty());
        }

        // CLUSTER SLOTS: [start, end, [ip, port, id]] per range, in slot
        // order (kvrocks's shape: no metadata map after the id).
        let slots: Vec<Value> = q(&mut c, &["CLUSTER", "SLOTS"]);
        let mut got = Vec::new();
        for entry in &slots {
            let Value::Array(e) = entry else {
                panic!("CLUSTER SLOTS entry {entry:?}")
            };
            assert!(e.len() >= 3, "{e:?}");
            let start: i64 = redis::from_redis_value(e[0].clone()).unwrap();
            let end: i64 = redis::from_redis_value(e[1].clone()).unwrap();
            let Value::Array(master) = &e[2] else {
                panic!("CLUSTER SLOTS node {:?}", e[2])
            };
            assert_eq!(master.len(), 3, "{master:?}");
            let ip = cluster::value_text(&master[0]);
            let port: i64 = redis::from_redis_value(master[1].clone()).unwrap();
            let id = cluster::value_text(&master[2]);
            assert_eq!(e.len(), 3, "no replicas expected: {e:?}");
            got.push((start, end, ip, port, id));
        }
        let starts: Vec<i64> = got.iter().map(|g| g.0).collect();
        assert!(
            starts.windows(2).all(|w| w[0] < w[1]),
            "CLUSTER SLOTS not in slot order: {starts:?}"
        );
        let mut want = Vec::new();
        for i in 0..3 {
            for (a, b) in cl.slot_ranges(i) {
                want.push((
                    a as i64,
                    b as i64,
                    "127.0.0.1".to_string(),
                    cl.port(i) as i64,
                    cl.id(i).to_string(),
                ));
            }
        }
        want.sort();
        assert_eq!(got, want, "CLUSTER SLOTS of node {me}");

        // CLUSTER SHARDS: one map per shard with "slots" and "nodes".
        let shards: Vec<Value> = q(&mut c, &["CLUSTER", "SHARDS"]);
        assert_eq!(shards.len(), 3, "{shards:?}");
        let mut seen = Vec::new();
        for shard in &shards {
            let fields = map_fields(shard);
            let slots: Vec<i64> = redis::from_redis_value(field(&fields, "slots")).unwrap();
            let nodes: Vec<Value> = redis::from_redis_value(field(&fields, "nodes")).unwrap();
            assert_eq!(nodes.len(), 1, "{nodes:?}");
            let node = map_fields(&nodes[0]);
            let id = cluster::value_text(&field(&node, "id"));
            let i = cl
                .index_of(&id)
                .unwrap_or_else(|| panic!("unknown id {id}"));
            let pairs: Vec<(u16, u16)> = slots
                .chunks(2)
                .map(|p| (p[0] as u16, p[1] as u16))
                .collect();
            assert_eq!(pairs, cl.slot_ranges(i), "CLUSTER SHARDS slots of {id}");
            let port: i64 = redis::from_redis_value(field(&node, "port")).unwrap();
            assert_eq!(port, cl.port(i) as i64);
            assert_eq!(cluster::value_text(&field(&node, "ip")), "127.0.0.1");
            assert_eq!(cluster::value_text(&field(&node, "role")), "master");
            assert_eq!(cluster::value_text(&field(&node, "health")), "online");
            seen.push(i);
        }
        seen.sort();
        assert_eq!(seen, [0, 1, 2]);

        // CLUSTER INFO
        let info = cluster_info(&mut c);
        assert_eq!(info_field(&info, "cluster_state"), "ok");
        assert_eq!(info_field(&info, "cluster_slots_assigned"), "16384");
        assert_eq!(info_field(&info, "cluster_known_nodes"), "3");
        assert_eq!(info_field(&info, "cluster_current_epoch"), "1");
        let my_epoch = info_field(&info, "cluster_my_epoch");
        assert!(
            my_epoch.parse::<i64>().is_ok(),
            "cluster_my_epoch:{my_epoch}"
        );
        assert_eq!(q::<i64>(&mut c, &["CLUSTERX", "VERSION"]), 1);
    }
}

#[test]
fn cluster_slots_in_slot_order_with_interleaved_owners() {
    // Node 0's ranges come before and after node 1's: CLUSTER SLOTS must
    // still list them by slot (kvrocks does; Redis clients don't care).
    let mut cl = Cluster::start(2);
    cl.assign(0..=99, 1);
    cl.assign(9000..=9099, 0);
    cl.push_topology(2);
    let slots: Vec<Value> = q(&mut cl.client(0), &["CLUSTER", "SLOTS"]);
    let got: Vec<(i64, i64, String)> = slots
        .iter()
        .map(|entry| {
            let Value::Array(e) = entry else {
                panic!("CLUSTER SLOTS entry {entry:?}")
            };
            let Value::Array(node) = &e[2] else {
                panic!("CLUSTER SLOTS node {:?}", e[2])
            };
            assert_eq!(node.len(), 3, "{node:?}");
            (
                redis::from_redis_value(e[0].clone()).unwrap(),
                redis::from_redis_value(e[1].clone()).unwrap(),
                cluster::value_text(&node[2]),
            )
        })
        .collect();
    let (a, b) = (cl.id(0).to_string(), cl.id(1).to_string());
    assert_eq!(
        got,
        vec![
            (0, 99, b.clone()),
            (100, 8191, a.clone()),
            (8192, 8999, b.clone()),
            (9000, 9099, a),
            (9100, 16383, b),
        ]
    );
}

/// Fields of a RESP2 flat key/value array or a RESP3 map.
fn map_fields(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Array(items) => items
            .chunks(2)
            .map(|p| (cluster::value_text(&p[0]), p[1].clone()))
            .collect(),
        Value::Map(items) => items
            .iter()
            .map(|(k, v)| (cluster::value_text(k), v.clone()))
            .collect(),
        other => panic!("expected a map, got {other:?}"),
    }
}

fn field(fields: &[(String, Value)], name: &str) -> Value {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no field {name:?} in {fields:?}"))
}

#[test]
fn repushed_topology_replicas_and_partial_coverage() {
    let mut cl = Cluster::start(3);

    // Move slots to another node and push version 2.
    cl.assign(0..=99, 1);
    cl.assign(16000..=16383, 0);
    cl.push_topology(2);
    cl.assert_nodes_agree();
    let info = cluster_info(&mut cl.client(2));
    assert_eq!(info_field(&info, "cluster_current_epoch"), "2");
    assert_eq!(info_field(&info, "cluster_state"), "ok");

    // Node 2 becomes a replica of node 0: its slots go to node 1.
    let old = cl.slot_ranges(2);
    for (a, b) in old {
        cl.assign(a..=b, 1);
    }
    cl.set_replica_of(2, Some(0));
    cl.push_topology(3);
    for me in 0..3 {
        let lines = cluster_nodes(&mut cl.client(me));
        let replica = lines.iter().find(|l| l.id == cl.id(2)).unwrap();
        let expected_flags: &[&str] = if me == 2 {
            &["myself", "slave"]
        } else {
            &["slave"]
        };
        assert_eq!(replica.flags, expected_flags, "node {me}: {replica:?}");
        assert_eq!(replica.master, cl.id(0));
        assert!(replica.slots.is_empty(), "{replica:?}");
        let info = cluster_info(&mut cl.client(me));
        assert_eq!(info_field(&info, "cluster_known_nodes"), "3");
        assert_eq!(info_field(&info, "cluster_slots_assigned"), "16384");
    }
    // CLUSTER SLOTS lists the replica after the master of node 0's ranges.
    let slots: Vec<Value> = q(&mut cl.client(1), &["CLUSTER", "SLOTS"]);
    let mut replica_listed = false;
    for entry in &slots {
        let Value::Array(e) = entry else { panic!() };
        let Value::Array(master) = &e[2] else {
            panic!()
        };
        if cluster::value_text(&master[2]) == cl.id(0) {
            assert_eq!(e.len(), 4, "master and one replica: {e:?}");
            let Value::Array(rep) = &e[3] else { panic!() };
            assert_eq!(cluster::value_text(&rep[2]), cl.id(2));
            replica_listed = true;
        } else {
            assert_eq!(e.len(), 3, "{e:?}");
        }
    }
    assert!(replica_listed, "{slots:?}");

    // A topology that leaves slots unassigned: the cluster is not ok.
    cl.set_replica_of(2, None);
    cl.unassign(100..=199);
    cl.push_topology(4);
    cl.assert_nodes_agree();
    let unserved = key_in_slot(150, "k");
    for me in 0..3 {
        assert_eq!(
            cl.raw(me).cmd(&["GET", &unserved]),
            "-CLUSTERDOWN Hash slot not served\r\n",
            "node {me}"
        );
        let info = cluster_info(&mut cl.client(me));
        assert_eq!(info_field(&info, "cluster_state"), "fail");
        assert_eq!(info_field(&info, "cluster_slots_assigned"), "16284");
        assert_eq!(info_field(&info, "cluster_current_epoch"), "4");
    }
}

#[test]
fn keyslot_reference_values() {
    let s = Server::start_with(&[("cluster-enabled", "yes")]);
    let mut c = s.client();
    // Values from redis-server 7's CLUSTER KEYSLOT.
    let reference: &[(&str, i64)] = &[
        ("foo", 12182),
        ("bar", 5061),
        ("hello", 866),
        ("somekey", 11058),
        ("foo{hash_tag}", 2515),
        ("bar{hash_tag}", 2515),
        ("user1000", 3443),
        ("{user1000}.following", 3443),
        ("{user1000}.followers", 3443),
        ("", 0),
        ("foo{}{bar}", 8363),
        ("foo{{bar}}", 4015),
        ("{bar", 4015),
        ("foo{bar}{zap}", 5061),
    ];
    for &(key, slot) in reference {
        assert_eq!(
            q::<i64>(&mut c, &["CLUSTER", "KEYSLOT", key]),
            slot,
            "CLUSTER KEYSLOT {key:?}"
        );
        assert_eq!(key_slot(key.as_bytes()) as i64, slot, "reference {key:?}");
    }
    // Binary keys and many others agree with the reference implementation.
    for i in 0..300u32 {
        let mut key = format!("k{i}").into_bytes();
        key.extend_from_slice(&i.to_le_bytes());
        if i % 3 == 0 {
            key.extend_from_slice(b"{\xff\x00tag}");
        }
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(&key)
            .query(&mut c)
            .unwrap();
        assert_eq!(slot, key_slot(&key) as i64, "key {key:?}");
    }
    // kvrocks's usage text for its CLUSTER subcommands with wrong arguments.
    let usage = "ERR CLUSTER command, CLUSTER INFO|NODES|SLOTS|KEYSLOT|RESET|REPLICAS";
    for args in [
        vec!["CLUSTER", "KEYSLOT"],
        vec!["CLUSTER", "KEYSLOT", "a", "b"],
        vec!["CLUSTER", "INFO", "x"],
        vec!["CLUSTER", "NODES", "x"],
        vec!["CLUSTER", "SLOTS", "x"],
        vec!["CLUSTER", "RESET", "HARD", "x"],
    ] {
        assert_eq!(q_err(&mut c, &args), usage, "{args:?}");
    }
}

#[test]
fn redis_cli_prints_cluster_slots_and_nodes() {
    let cl = Cluster::start(2);
    let port = cl.port(0).to_string();
    let out = cluster::redis_cli(
        &["-p", &port, "--no-raw", "CLUSTER", "SLOTS"],
        std::time::Duration::from_secs(10),
    );
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    // Two ranges of three elements each: start, end, [ip, port, id].
    let want = format!(
        "1) 1) (integer) 0\n   2) (integer) 8191\n   3) 1) \"127.0.0.1\"\n      2) (integer) {}\n      3) \"{}\"\n2) 1) (integer) 8192\n   2) (integer) 16383\n   3) 1) \"127.0.0.1\"\n      2) (integer) {}\n      3) \"{}\"\n",
        cl.port(0),
        cl.id(0),
        cl.port(1),
        cl.id(1)
    );
    assert_eq!(text, want);
}

#[test]
fn countkeysinslot_and_getkeysinslot() {
    let cl = Cluster::start(2);
    let slot = 9000u16;
    let owner = cl.node_for_slot(slot);
    let mut c = cl.client(owner);
    let keys: Vec<String> = (0..5)
        .map(|i| key_in_slot(slot, &format!(":{i}")))
        .collect();
    for k in &keys {
        let _: () = redis::cmd("SET").arg(k).arg("v").query(&mut c).unwrap();
    }
    // A key of a neighbouring slot is not counted.
    let _: () = redis::cmd("SET")
        .arg(key_in_slot(slot + 1, "x"))
        .arg("v")
        .query(&mut c)
        .unwrap();
    let s = slot.to_string();
    assert_eq!(q::<i64>(&mut c, &["CLUSTER", "COUNTKEYSINSLOT", &s]), 5);
    let mut all: Vec<String> = q(&mut c, &["CLUSTER", "GETKEYSINSLOT", &s, "10"]);
    all.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(all, want);
    let three: Vec<String> = q(&mut c, &["CLUSTER", "GETKEYSINSLOT", &s, "3"]);
    assert_eq!(three.len(), 3);
    assert!(three.iter().all(|k| keys.contains(k)), "{three:?}");
    assert!(q::<Vec<String>>(&mut c, &["CLUSTER", "GETKEYSINSLOT", &s, "0"]).is_empty());

    let _: () = redis::cmd("DEL").arg(&keys[0]).query(&mut c).unwrap();
    assert_eq!(q::<i64>(&mut c, &["CLUSTER", "COUNTKEYSINSLOT", &s]), 4);

    // Empty slots (owned or not).
    for empty in ["0", "16383", "12345"] {
        assert_eq!(q::<i64>(&mut c, &["CLUSTER", "COUNTKEYSINSLOT", empty]), 0);
        assert!(q::<Vec<String>>(&mut c, &["CLUSTER", "GETKEYSINSLOT", empty, "5"]).is_empty());
    }

    // Invalid slots and counts.
    for bad in ["16384", "-1", "abc"] {
        assert!(
            q_err(&mut c, &["CLUSTER", "COUNTKEYSINSLOT", bad]).starts_with("ERR"),
            "COUNTKEYSINSLOT {bad}"
        );
        assert!(
            q_err(&mut c, &["CLUSTER", "GETKEYSINSLOT", bad, "1"]).starts_with("ERR"),
            "GETKEYSINSLOT {bad} 1"
        );
    }
    assert!(q_err(&mut c, &["CLUSTER", "GETKEYSINSLOT", &s, "-1"]).starts_with("ERR"));
}

#[test]
fn topology_survives_restart_and_kill9() {
    let mut cl = Cluster::start(3);
    cl.assign(0..=500, 2);
    cl.push_topology(2);
    let before: Vec<String> = (0..3)
        .map(|i| q::<String>(&mut cl.client(i), &["CLUSTER", "NODES"]))
        .collect();

    for i in 0..3 {
        assert!(
            cl.server(i).data_dir().join("nodes.conf").exists(),
            "no nodes.conf in the data dir of node {i}"
        );
    }

    // Graceful restart of node 1, kill -9 right after the push on node 2.
    cl.restart(1);
    cl.assign(501..=600, 2);
    cl.push_topology(3);
    let before2: String = q(&mut cl.client(2), &["CLUSTER", "NODES"]);
    cl.nodes[2].server.kill9();
    cl.nodes[2].server.restart();

    for i in 0..3 {
        let mut c = cl.client(i);
        assert_eq!(q::<String>(&mut c, &["CLUSTERX", "MYID"]), cl.id(i));
        assert_eq!(q::<i64>(&mut c, &["CLUSTERX", "VERSION"]), 3, "node {i}");
    }
    cl.assert_nodes_agree();
    assert_eq!(
        q::<String>(&mut cl.client(2), &["CLUSTER", "NODES"]),
        before2
    );
    assert_ne!(before[2], before2);

    // Routing uses the restored topology.
    let key = key_in_slot(550, "k");
    let mut raw = cl.raw(0);
    assert_eq!(
        raw.cmd(&["GET", &key]),
        format!("-MOVED 550 {}\r\n", cl.addr(2))
    );
    let mut c2 = cl.client(2);
    let _: () = redis::cmd("SET").arg(&key).arg("v").query(&mut c2).unwrap();

    // An older version than the restored one is refused; the same one
    // changes nothing.
    let text = cl.nodes_text();
    assert_eq!(
        setnodes(&mut cl.client(1), &text, "2").unwrap_err(),
        "ERR Invalid cluster version"
    );
    setnodes(&mut cl.client(1), &text, "3").unwrap();
    cl.push_topology(4);
    cl.assert_nodes_agree();
}

#[test]
fn bad_setnodes_input_changes_nothing() {
    let cl = Cluster::start(2);
    let (a, b) = (cl.id(0).to_string(), cl.id(1).to_string());
    let (pa, pb) = (cl.port(0), cl.port(1));
    let mut c = cl.client(0);
    let before = snapshot(&mut c);
    assert_eq!(before.0, 1);

    let good_b = format!("{b} 127.0.0.1 {pb} master - 8192-16383");
    let cases: Vec<(String, &str, &str)> = vec![
        // (text, version, expected error prefix)
        (
            format!("xyz 127.0.0.1 {pa} master - 0-8191\n{good_b}"),
            "2",
            "ERR Invalid cluster node id",
        ),
        (
            format!("{}zz 127.0.0.1 {pa} master - 0-8191\n{good_b}", &a[..37]),
            "2",
            "ERR Invalid cluster node id",
        ),
        (
            format!("{a} 127.0.0.1 {pa} slave {}\n{good_b}", &b[..39]),
            "2",
            "ERR Invalid cluster node id",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master {b} 0-8191\n{good_b}"),
            "2",
            "ERR Invalid cluster node id",
        ),
        // Two node lines run together.
        (
            format!("{a} 127.0.0.1 {pa} master - 0-8191 {good_b}"),
            "2",
            "ERR Invalid nodes definition: Missing newline between node entries.",
        ),
        // NUL, control characters in a host.
        (
            format!("{a} 127.0.0.1\0 {pa} master - 0-8191\n{good_b}"),
            "2",
            "ERR Invalid cluster node host",
        ),
        (
            format!("{a} 127.0.\x010.1 {pa} master - 0-8191\n{good_b}"),
            "2",
            "ERR Invalid cluster node host",
        ),
        (
            format!("{a} 127.0.0.1\x0b {pa} master - 0-8191\n{good_b}"),
            "2",
            "ERR Invalid cluster node host",
        ),
        // Empty topologies, one without this node, one without slots.
        (String::new(), "2", "ERR Invalid cluster nodes info"),
        ("\n \n".to_string(), "2", "ERR Invalid cluster nodes info"),
        (
            format!(
                "{} 127.0.0.1 {pa} master - 0-8191\n{good_b}",
                "c".repeat(40)
            ),
            "2",
            "ERR Invalid cluster nodes info: this node",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master -\n{b} 127.0.0.1 {pb} master -"),
            "2",
            "ERR Invalid cluster nodes info: no slot",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master - 0-16384\n{good_b}"),
            "2",
            "ERR Slot is out of range",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master - 16384\n{good_b}"),
            "2",
            "ERR Slot is out of range",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master - -1\n{good_b}"),
            "2",
            "ERR Slot is out of range",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master - 10-5\n{good_b}"),
            "2",
            "ERR Slot is out of range",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master - 0-8191\n{good_b}"),
            "0",
            "ERR Invalid cluster version",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master - 0-8191\n{good_b}"),
            "-1",
            "ERR Invalid cluster version",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master - 0-8191\n{good_b}"),
            "abc",
            "ERR Invalid version",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master\n{good_b}"),
            "2",
            "ERR Invalid cluster nodes info",
        ),
        (
            format!("{a} 127.0.0.1\n{good_b}"),
            "2",
            "ERR Invalid cluster nodes info",
        ),
        (
            format!("{a} 127.0.0.1 abc master - 0-8191\n{good_b}"),
            "2",
            "ERR Invalid cluster node port",
        ),
        (
            format!("{a} 127.0.0.1 70000 master - 0-8191\n{good_b}"),
            "2",
            "ERR Invalid cluster node port",
        ),
        (
            format!("{a} 127.0.0.1 -5 master - 0-8191\n{good_b}"),
            "2",
            "ERR Invalid cluster node port",
        ),
        (
            format!("{a} 127.0.0.1 {pa} boss - 0-8191\n{good_b}"),
            "2",
            "ERR Invalid cluster node role",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master - 0-100\n{b} 127.0.0.1 {pb} master - 100-16383"),
            "2",
            "ERR Slot distribution is overlapped",
        ),
        (
            format!("{a} 127.0.0.1 {pa} master - 0-8191\n{b} 127.0.0.1 {pb} master - 8192-16383 0"),
            "2",
            "ERR Slot distribution is overlapped",
        ),
    ];
    for (text, version, want) in &cases {
        let err = setnodes(&mut c, text, version)
            .err()
            .unwrap_or_else(|| panic!("SETNODES {text:?} {version} was accepted"));
        assert!(
            err.starts_with(want),
            "SETNODES {text:?} {version}: got {err:?}, expected {want:?}"
        );
        assert_eq!(
            snapshot(&mut c),
            before,
            "after SETNODES {text:?} {version}"
        );
    }
    // Exact texts where the whole message is specified (kvrocks's).
    for (text, version, want) in &cases {
        if !want.starts_with("ERR Invalid cluster nodes info:") {
            assert_eq!(&setnodes(&mut c, text, version).unwrap_err(), want);
        }
    }
    // The version in force is accepted and changes nothing (kvrocks), even
    // with another text.
    let other = format!("{a} 127.0.0.1 {pa} master - 0-100\n{b} 127.0.0.1 {pb} master - 101-16383");
    setnodes(&mut c, &other, "1").unwrap();
    assert_eq!(snapshot(&mut c), before);

    // Wrong arity and options: kvrocks's usage text.
    let usage = "ERR CLUSTERX command, CLUSTERX VERSION|MYID|SETNODEID|SETNODES|SETSLOT|MIGRATE";
    for args in [
        vec!["CLUSTERX", "SETNODES"],
        vec!["CLUSTERX", "SETNODES", &good_b],
        vec!["CLUSTERX", "SETNODES", &good_b, "2", "FORCE", "x"],
        vec!["CLUSTERX", "NOSUCHSUB"],
        vec!["CLUSTERX", "VERSION", "x"],
        vec!["CLUSTERX", "MYID", "x"],
        vec!["CLUSTERX", "SETNODEID"],
        vec!["CLUSTERX", "SETNODEID", &a, "x"],
        vec!["CLUSTERX", "SETSLOT", "1", "NODE", &a],
        vec!["CLUSTERX", "MIGRATE", "1"],
    ] {
        assert_eq!(q_err(&mut c, &args), usage, "{args:?}");
    }
    assert_eq!(
        q_err(&mut c, &["CLUSTERX", "SETNODES", &good_b, "2", "NOTFORCE"]),
        "ERR Invalid setnodes options"
    );
    assert_eq!(snapshot(&mut c), before);

    // A bad SETNODEID changes nothing either.
    assert_eq!(
        q_err(&mut c, &["CLUSTERX", "SETNODEID", "nothex"]),
        "ERR Invalid cluster node id"
    );
    assert_eq!(snapshot(&mut c), before);

    // And the node still takes a good topology.
    let good =
        format!("{a} 127.0.0.1 {pa} master - 0-8000\n{b} 127.0.0.1 {pb} master - 8001-16383");
    setnodes(&mut c, &good, "2").unwrap();
    assert_eq!(q::<i64>(&mut c, &["CLUSTERX", "VERSION"]), 2);
    let me = cluster_nodes(&mut c)
        .into_iter()
        .find(|l| l.is_myself())
        .unwrap();
    assert_eq!(me.slots, [(0, 8000)]);
}

#[test]
fn setnodes_force_accepts_any_version() {
    let cl = Cluster::start(2);
    let mut c = cl.client(0);
    let text = cl.nodes_text();
    assert_eq!(
        setnodes(&mut c, &text, "0").unwrap_err(),
        "ERR Invalid cluster version"
    );
    let force = |c: &mut redis::Connection, v: &str| -> Result<(), String> {
        redis::cmd("CLUSTERX")
            .arg("SETNODES")
            .arg(&text)
            .arg(v)
            .arg("FORCE")
            .query::<()>(c)
            .map_err(|e| common::err_text(&e))
    };
    force(&mut c, "1").unwrap();
    assert_eq!(q::<i64>(&mut c, &["CLUSTERX", "VERSION"]), 1);
    force(&mut c, "3").unwrap();
    force(&mut c, "2").unwrap();
    assert_eq!(q::<i64>(&mut c, &["CLUSTERX", "VERSION"]), 2);
    // Without FORCE the usual rule applies to the forced version.
    assert_eq!(
        setnodes(&mut c, &text, "1").unwrap_err(),
        "ERR Invalid cluster version"
    );
    setnodes(&mut c, &text, "5").unwrap();
    assert_eq!(q::<i64>(&mut c, &["CLUSTERX", "VERSION"]), 5);
    // FORCE does not excuse a broken text.
    let before = snapshot(&mut c);
    let err = redis::cmd("CLUSTERX")
        .arg("SETNODES")
        .arg("xyz 127.0.0.1 1 master - 0-16383")
        .arg("9")
        .arg("FORCE")
        .query::<()>(&mut c)
        .map_err(|e| common::err_text(&e))
        .unwrap_err();
    assert_eq!(err, "ERR Invalid cluster node id");
    assert_eq!(snapshot(&mut c), before);
}

#[test]
fn clusterx_setslot_version_rules() {
    let mut cl = Cluster::start(3);
    let id1 = cl.id(1).to_string();
    let slot: u16 = 100;
    assert_eq!(cl.node_for_slot(slot), 0);
    let mut c0 = cl.client(0);
    let before = snapshot(&mut c0);

    let setslot = |c: &mut redis::Connection, slot: &str, id: &str, v: &str| {
        redis::cmd("CLUSTERX")
            .arg("SETSLOT")
            .arg(slot)
            .arg("NODE")
            .arg(id)
            .arg(v)
            .query::<()>(c)
            .map_err(|e| common::err_text(&e))
    };

    // Version must be exactly current + 1 (kvrocks's texts).
    assert_eq!(
        setslot(&mut c0, "100", &id1, "abc").unwrap_err(),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        setslot(&mut c0, "100", &id1, "-1").unwrap_err(),
        "ERR Invalid version"
    );
    for v in ["1", "0", "3"] {
        assert_eq!(
            setslot(&mut c0, "100", &id1, v).unwrap_err(),
            "ERR Invalid cluster version",
            "version {v}"
        );
        assert_eq!(snapshot(&mut c0), before);
    }
    // Unknown node, bad slot, bad id, wrong sub-keyword.
    let unknown = random_node_id();
    let err = setslot(&mut c0, "100", &unknown, "2").unwrap_err();
    assert_eq!(err, "ERR No this node in the cluster");
    assert_eq!(snapshot(&mut c0), before);
    for bad in ["16384", "-1", "10-5", "0-16384"] {
        assert_eq!(
            setslot(&mut c0, bad, &id1, "2").unwrap_err(),
            "ERR Slot is out of range",
            "slot {bad}"
        );
        assert_eq!(snapshot(&mut c0), before);
    }
    let err = setslot(&mut c0, "100", "nothex", "2").unwrap_err();
    assert_eq!(err, "ERR Invalid node id");
    assert_eq!(snapshot(&mut c0), before);
    let err = redis::cmd("CLUSTERX")
        .arg("SETSLOT")
        .arg("100")
        .arg("NOWHERE")
        .arg(&id1)
        .arg("2")
        .query::<()>(&mut c0)
        .map_err(|e| common::err_text(&e))
        .unwrap_err();
    assert_eq!(err, "ERR Invalid setslot options");
    assert_eq!(snapshot(&mut c0), before);

    // current + 1 works, on every node.
    for i in 0..3 {
        setslot(&mut cl.client(i), "100", &id1, "2").unwrap();
    }
    cl.assign(100..=100, 1);
    cl.version = 2;
    cl.assert_nodes_agree();
    // The same version again is stale now.
    assert_eq!(
        setslot(&mut c0, "100", &id1, "2").unwrap_err(),
        "ERR Invalid cluster version"
    );

    // A range in one go.
    for i in 0..3 {
        setslot(&mut cl.client(i), "200-300", &id1, "3").unwrap();
    }
    cl.assign(200..=300, 1);
    cl.version = 3;
    cl.assert_nodes_agree();

    // Routing follows.
    let key = key_in_slot(250, "k");
    assert_eq!(
        cl.raw(0).cmd(&["GET", &key]),
        format!("-MOVED 250 {}\r\n", cl.addr(1))
    );
    assert_eq!(cl.raw(1).cmd(&["GET", &key]), "$-1\r\n");
}

#[test]
fn addslots_and_delslots() {
    let mut cl = Cluster::start(2);
    let mut c = cl.client(0);
    let mine = |c: &mut redis::Connection| -> Vec<(u16, u16)> {
        cluster_nodes(c)
            .into_iter()
            .find(|l| l.is_myself())
            .unwrap()
            .slots
    };
    assert_eq!(mine(&mut c), [(0, 8191)]);

    assert_eq!(
        q::<String>(&mut c, &["CLUSTER", "DELSLOTS", "0", "1", "2"]),
        "OK"
    );
    assert_eq!(mine(&mut c), [(3, 8191)]);
    let info = cluster_info(&mut c);
    assert_eq!(info_field(&info, "cluster_slots_assigned"), "16381");
    assert_eq!(info_field(&info, "cluster_state"), "fail");
    assert!(q_err(&mut c, &["CLUSTER", "DELSLOTS", "0"]).starts_with("ERR"));
    // The change survives a restart.
    drop(c);
    cl.restart(0);
    let mut c = cl.client(0);
    assert_eq!(mine(&mut c), [(3, 8191)]);

    assert_eq!(
        q::<String>(&mut c, &["CLUSTER", "ADDSLOTS", "0", "1", "2"]),
        "OK"
    );
    assert_eq!(mine(&mut c), [(0, 8191)]);
    assert_eq!(
        q::<String>(
            &mut c,
            &["CLUSTER", "DELSLOTSRANGE", "10", "20", "30", "40"]
        ),
        "OK"
    );
    assert_eq!(mine(&mut c), [(0, 9), (21, 29), (41, 8191)]);
    assert_eq!(
        q::<String>(
            &mut c,
            &["CLUSTER", "ADDSLOTSRANGE", "10", "20", "30", "40"]
        ),
        "OK"
    );
    assert_eq!(mine(&mut c), [(0, 8191)]);
    let info = cluster_info(&mut c);
    assert_eq!(info_field(&info, "cluster_state"), "ok");

    // A slot served by another node is busy; bad slot numbers are refused.
    assert!(q_err(&mut c, &["CLUSTER", "ADDSLOTS", "9000"]).starts_with("ERR"));
    assert!(q_err(&mut c, &["CLUSTER", "ADDSLOTS", "16384"]).starts_with("ERR"));
    assert!(q_err(&mut c, &["CLUSTER", "ADDSLOTSRANGE", "5", "1"]).starts_with("ERR"));
    assert_eq!(mine(&mut c), [(0, 8191)]);
}

#[test]
fn cluster_reset() {
    let cl = Cluster::start(2);
    // A node holding keys refuses.
    let mut c1 = cl.client(1);
    let key = key_in_slot(cl.first_slot_of(1), "k");
    let _: () = redis::cmd("SET").arg(&key).arg("v").query(&mut c1).unwrap();
    let before = snapshot(&mut c1);
    assert!(q_err(&mut c1, &["CLUSTER", "RESET"]).starts_with("ERR"));
    assert_eq!(snapshot(&mut c1), before);

    // An empty node forgets its topology.
    let mut c0 = cl.client(0);
    assert_eq!(q::<String>(&mut c0, &["CLUSTER", "RESET"]), "OK");
    assert_eq!(q::<i64>(&mut c0, &["CLUSTERX", "VERSION"]), -1);
    assert_eq!(
        q_err(&mut c0, &["CLUSTER", "INFO"]),
        "CLUSTERDOWN The cluster is not initialized"
    );

    // It takes a topology again (version 1 is newer than -1).
    assert_eq!(
        q::<String>(&mut c0, &["CLUSTERX", "SETNODEID", cl.id(0)]),
        "OK"
    );
    cl.setnodes_on(0, 1, false).unwrap();
    assert_eq!(q::<i64>(&mut c0, &["CLUSTERX", "VERSION"]), 1);
    let info = cluster_info(&mut c0);
    assert_eq!(info_field(&info, "cluster_state"), "ok");
}

#[test]
fn cluster_commands_with_cluster_mode_off() {
    let s = Server::start();
    let mut c = s.client();
    let disabled = "ERR Cluster mode is not enabled";
    let id = random_node_id();
    let text = format!("{id} 127.0.0.1 {} master - 0-16383", s.port());
    let commands: Vec<Vec<&str>> = vec![
        vec!["CLUSTER", "INFO"],
        vec!["CLUSTER", "NODES"],
        vec!["CLUSTER", "SLOTS"],
        vec!["CLUSTER", "SHARDS"],
        vec!["CLUSTER", "MYID"],
        vec!["CLUSTER", "KEYSLOT", "foo"],
        vec!["CLUSTER", "COUNTKEYSINSLOT", "1"],
        vec!["CLUSTER", "GETKEYSINSLOT", "1", "1"],
        vec!["CLUSTER", "SETSLOT", "1", "STABLE"],
        vec!["CLUSTER", "ADDSLOTS", "1"],
        vec!["CLUSTER", "RESET"],
        vec!["CLUSTERX", "VERSION"],
        vec!["CLUSTERX", "MYID"],
        vec!["CLUSTERX", "SETNODEID", &id],
        vec!["CLUSTERX", "SETNODES", &text, "1"],
        vec!["CLUSTERX", "SETSLOT", "1", "NODE", &id, "1"],
        vec!["CLUSTERX", "MIGRATE", "1", &id],
        vec!["READONLY"],
        vec!["READWRITE"],
        vec!["ASKING"],
    ];
    let mut wrong = Vec::new();
    for args in &commands {
        let reply = cluster::try_q::<Value>(&mut c, args);
        if reply.as_ref().err().map(String::as_str) != Some(disabled) {
            wrong.push(format!("{args:?} -> {reply:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected {disabled:?} from:\n{}",
        wrong.join("\n")
    );
    // Keys of any slot are served; no redirection.
    for key in ["foo", "bar", "{user1000}.following"] {
        let _: () = redis::cmd("SET").arg(key).arg("v").query(&mut c).unwrap();
        assert_eq!(q::<String>(&mut c, &["GET", key]), "v");
    }
    assert_eq!(q::<String>(&mut c, &["MSET", "foo", "1", "bar", "2"]), "OK");
    let info: String = q(&mut c, &["INFO", "cluster"]);
    assert!(info.contains("cluster_enabled:0"), "{info}");
}
