//! `redis-cli --cluster import` from a standalone `redis-server` into a
//! ferrocks cluster: redis-cli scans the source and has it MIGRATE every key
//! (DUMP payload + RESTORE, with AUTH when the cluster needs a password) to
//! the ferrocks node owning its slot. Every type, the big encodings of
//! Redis (hashtable, quicklist, intset, skiplist, dense HLL) and TTLs must
//! arrive on the right node with the same content; `--cluster-copy` keeps the
//! source, `--cluster-replace` overwrites, and without it an existing key
//! stops the import with BUSYKEY.

mod cluster;
mod common;

use std::collections::HashMap;
use std::process::Output;
use std::time::Duration;

use cluster::{
    assert_no_errors, check_all, dataset, key_slot, qq, redis_cli, write_all, Cluster, Data,
    Written,
};
use common::RedisServer;

/// How long one `redis-cli --cluster import` may take.
const CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// stdout and stderr of a redis-cli run, without its ANSI colours.
fn cli_text(out: &Output) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    let mut clean = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // Skip `ESC [ ... m`.
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            clean.push(c);
        }
    }
    clean
}

/// Runs `redis-cli [auth...] --cluster import <node0> --cluster-from <src>
/// [flags...]`.
fn import(cl: &Cluster, src: &RedisServer, auth: &[&str], flags: &[&str]) -> (Output, String) {
    let target = cl.addr(0);
    let from = src.addr();
    let mut args: Vec<&str> = auth.to_vec();
    args.extend(["--cluster", "import", &target, "--cluster-from", &from]);
    args.extend_from_slice(flags);
    let out = redis_cli(&args, CLI_TIMEOUT);
    let text = cli_text(&out);
    (out, text)
}

/// Runs an import that must succeed and checks that redis-cli sent every
/// key of `expected` to the node owning its slot; returns the output.
fn import_ok(
    cl: &Cluster,
    src: &RedisServer,
    auth: &[&str],
    flags: &[&str],
    expected: &[&str],
) -> String {
    let (out, text) = import(cl, src, auth, flags);
    assert!(
        out.status.success(),
        "redis-cli --cluster import {flags:?} failed ({:?}):\n{text}",
        out.status
    );
    let mut sent: HashMap<String, String> = HashMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("Migrating ") else {
            continue;
        };
        let (key, tail) = rest
            .split_once(" to ")
            .unwrap_or_else(|| panic!("odd line {line:?}"));
        let (addr, status) = tail
            .split_once(": ")
            .unwrap_or_else(|| panic!("odd line {line:?}"));
        assert_eq!(status.trim(), "OK", "{line:?}\n{text}");
        sent.insert(key.to_string(), addr.to_string());
    }
    assert_eq!(
        sent.len(),
        expected.len(),
        "number of keys migrated by {flags:?}:\n{text}"
    );
    for key in expected {
        let owner = cl.node_for_key(key);
        assert_eq!(
            sent.get(*key),
            Some(&cl.addr(owner)),
            "{key} (slot {}) must go to node {owner}",
            key_slot(key.as_bytes())
        );
    }
    text
}

/// Keys too big for Redis's compact encodings (hashtable, quicklist of
/// several nodes, intset, skiplist, big string), some with a TTL.
fn big_keys() -> Vec<Written> {
    let hash: Vec<(Vec<u8>, Vec<u8>)> = {
        let mut h: Vec<_> = (0..300)
            .map(|i| {
                (
                    format!("field:{i:04}").into_bytes(),
                    cluster::string_value(i),
                )
            })
            .collect();
        h.sort();
        h
    };
    let list: Vec<Vec<u8>> = (0..2000).map(|i| cluster::string_value(i % 120)).collect();
    let mut set: Vec<Vec<u8>> = (0..600)
        .map(|i| format!("member\0{i}").into_bytes())
        .collect();
    set.sort();
    let mut intset: Vec<Vec<u8>> = (-50i64..150)
        .map(|i| (i * 1_000_003).to_string().into_bytes())
        .collect();
    intset.sort();
    let mut zset: Vec<(Vec<u8>, f64)> = (0..300)
        .map(|i| (format!("zm{i}").into_bytes(), (i as f64) * 0.5 - 40.0))
        .collect();
    zset.push((b"top".to_vec(), f64::INFINITY));
    zset.push((b"bottom".to_vec(), f64::NEG_INFINITY));
    zset.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let big_string: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let bits: Vec<u64> = (0..200).map(|i| i * 499 + 3).collect();
    vec![
        Written::new("big:hash", Data::Hash(hash), Some(900_000)),
        Written::new("big:list", Data::List(list), None),
        Written::new("big:set", Data::Set(set), None),
        Written::new("big:intset", Data::Set(intset), Some(800_000)),
        Written::new("big:zset", Data::ZSet(zset), None),
        Written::new("big:string", Data::String(big_string), Some(700_000)),
        Written::new("int:string", Data::String(b"-123456789".to_vec()), None),
        Written::new("big:bitmap", Data::Bitmap(bits), None),
    ]
}

/// A HyperLogLog big enough for Redis's dense encoding (checked by
/// comparing PFCOUNT with the source rather than with `Written`).
const DENSE_HLL: &str = "big:hll-dense";

fn write_dense_hll(con: &mut redis::Connection) {
    for chunk in 0..5 {
        let mut c = redis::cmd("PFADD");
        c.arg(DENSE_HLL);
        for i in 0..1000 {
            c.arg(format!("elem-{}", chunk * 1000 + i));
        }
        let _: i64 = c.query(con).expect("PFADD dense");
    }
    let enc: String = qq(con, &["OBJECT", "ENCODING", DENSE_HLL]);
    assert_eq!(enc, "raw");
}

/// Checks every key on the node owning its slot (plain connections, no
/// redirection possible) and that each node holds exactly its keys.
fn check_per_node(cl: &Cluster, items: &[Written], extra_keys: &[&str]) {
    let mut per_node: Vec<Vec<Written>> = vec![Vec::new(); cl.len()];
    for w in items {
        per_node[cl.node_for_key(&w.key)].push(w.clone());
    }
    let mut counts: Vec<i64> = per_node.iter().map(|v| v.len() as i64).collect();
    for k in extra_keys {
        counts[cl.node_for_key(k)] += 1;
    }
    for (i, mine) in per_node.iter().enumerate() {
        let mut con = cl.client(i);
        assert_no_errors(&check_all(&mut con, mine, 50), &format!("node {i}"));
        let size: i64 = qq(&mut con, &["DBSIZE"]);
        assert_eq!(size, counts[i], "DBSIZE of node {i}");
    }
}

/// The source's PFCOUNT of the dense HLL equals the cluster's.
fn check_dense_hll(cl: &Cluster, want: i64) {
    let owner = cl.node_for_key(DENSE_HLL);
    let mut con = cl.client(owner);
    let got: i64 = qq(&mut con, &["PFCOUNT", DENSE_HLL]);
    assert_eq!(got, want, "PFCOUNT {DENSE_HLL} after import");
    let ty: String = qq(&mut con, &["TYPE", DENSE_HLL]);
    assert_eq!(ty, "string");
}

#[test]
fn import_every_type_copy_replace_and_move() {
    let cl = Cluster::start(3);
    let src = RedisServer::start();
    let mut s = src.client();

    // A few hundred keys of every type, every 7th with a TTL, plus big ones.
    let names: Vec<String> = (0..400).map(|i| format!("imp:{i}")).collect();
    let mut items = dataset(names, 7, 600_000);
    items.extend(big_keys());
    write_all(&mut s, &items, 50);
    write_dense_hll(&mut s);
    // The big keys use Redis's non-compact encodings (other DUMP formats).
    for (key, want) in [
        ("big:hash", "hashtable"),
        ("big:list", "quicklist"),
        ("big:set", "hashtable"),
        ("big:intset", "intset"),
        ("big:zset", "skiplist"),
        ("big:string", "raw"),
        ("int:string", "int"),
    ] {
        let enc: String = qq(&mut s, &["OBJECT", "ENCODING", key]);
        assert_eq!(enc, want, "source encoding of {key}");
    }
    let hll_count: i64 = qq(&mut s, &["PFCOUNT", DENSE_HLL]);
    // Every node gets some keys.
    for i in 0..3 {
        assert!(items.iter().any(|w| cl.node_for_key(&w.key) == i));
    }
    let mut key_names: Vec<String> = items.iter().map(|w| w.key.clone()).collect();
    key_names.push(DENSE_HLL.to_string());
    let all_keys: Vec<&str> = key_names.iter().map(String::as_str).collect();

    // --cluster-copy: everything arrives, the source keeps its keys.
    import_ok(&cl, &src, &[], &["--cluster-copy"], &all_keys);
    check_per_node(&cl, &items, &[DENSE_HLL]);
    check_dense_hll(&cl, hll_count);
    let mut cc = cl.cluster_connection();
    assert_no_errors(&check_all(&mut cc, &items, 50), "via a cluster client");
    assert_no_errors(&check_all(&mut s, &items, 50), "source after copy");

    // Again without REPLACE: the first key already there stops it.
    let (out, text) = import(&cl, &src, &[], &["--cluster-copy"]);
    assert!(!out.status.success(), "second import must fail:\n{text}");
    assert!(
        text.contains("BUSYKEY Target key name already exists."),
        "{text}"
    );

    // Change some keys on the source (other type, TTL added or dropped),
    // then --cluster-copy --cluster-replace overwrites them.
    for (i, w) in items.iter_mut().enumerate().take(60) {
        let _: i64 = qq(&mut s, &["DEL", &w.key]);
        let ttl = (i % 3 == 0).then_some(500_000);
        *w = Written::new(w.key.clone(), Data::nth(i + 1001), ttl);
        w.write(&mut s);
    }
    import_ok(
        &cl,
        &src,
        &[],
        &["--cluster-copy", "--cluster-replace"],
        &all_keys,
    );
    check_per_node(&cl, &items, &[DENSE_HLL]);
    check_dense_hll(&cl, hll_count);

    // Without --cluster-copy the keys move: the source ends up empty.
    import_ok(&cl, &src, &[], &["--cluster-replace"], &all_keys);
    let left: i64 = qq(&mut s, &["DBSIZE"]);
    assert_eq!(left, 0, "source after a move");
    check_per_node(&cl, &items, &[DENSE_HLL]);
    check_dense_hll(&cl, hll_count);
}

#[test]
fn import_into_a_cluster_with_a_password() {
    let mut cl = Cluster::start(3);
    cl.set_password("imp-secret");
    let src = RedisServer::start();
    let mut s = src.client();

    let first: Vec<String> = (0..40).map(|i| format!("pw:{i}")).collect();
    let items = dataset(first, 5, 300_000);
    write_all(&mut s, &items, 50);
    let keys: Vec<&str> = items.iter().map(|w| w.key.as_str()).collect();

    // Without the password the nodes refuse the check redis-cli starts with.
    let (out, text) = import(&cl, &src, &[], &["--cluster-copy"]);
    assert!(!out.status.success(), "import without a password:\n{text}");
    assert!(text.contains("NOAUTH"), "{text}");

    // `-a`: MIGRATE ... AUTH <password>.
    import_ok(&cl, &src, &["-a", "imp-secret"], &["--cluster-copy"], &keys);
    check_per_node(&cl, &items, &[]);

    // `--user default --pass`: MIGRATE ... AUTH2 default <password>.
    let _: () = qq(&mut s, &["FLUSHALL"]);
    let second: Vec<String> = (0..40).map(|i| format!("pw2:{i}")).collect();
    let more = dataset(second, 4, 300_000);
    write_all(&mut s, &more, 50);
    let more_keys: Vec<&str> = more.iter().map(|w| w.key.as_str()).collect();
    import_ok(
        &cl,
        &src,
        &["--user", "default", "--pass", "imp-secret"],
        &["--cluster-copy"],
        &more_keys,
    );
    let mut everything = items.clone();
    everything.extend(more);
    check_per_node(&cl, &everything, &[]);
}
