//! Big keys cost what the command touches, not what the key holds:
//! DEL/UNLINK/PEXPIREAT-to-the-past of a 200,000-member key cost the same
//! RocksDB operations as of a 10-member one (composite keys are dropped by
//! deleting their metadata; compaction removes the stale subkeys later),
//! windows on big keys cost the window, and length commands read only the
//! metadata. Costs are read from the running totals of `INFO rocksdb`.

mod common;

use common::{q, Server};
use redis::Connection;
use std::time::Instant;

/// RocksDB operation totals as `INFO rocksdb` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Ops {
    put: u64,
    get: u64,
    seek: u64,
    next: u64,
    /// Backward iterator steps (`prev_total`).
    prev: u64,
}

impl Ops {
    fn minus(self, o: Ops) -> Ops {
        Ops {
            put: self.put - o.put,
            get: self.get - o.get,
            seek: self.seek - o.seek,
            next: self.next - o.next,
            prev: self.prev - o.prev,
        }
    }

    /// Iterator steps: seeks and moves in either direction.
    fn steps(self) -> u64 {
        self.seek + self.next + self.prev
    }
}

fn totals(c: &mut Connection) -> Ops {
    let info: String = q(c, &["INFO", "rocksdb"]);
    let opt_field = |name: &str| -> Option<u64> {
        info.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
            .map(|v| v.trim().parse().unwrap_or_else(|e| panic!("{name}: {e}")))
    };
    let field = |name: &str| -> u64 {
        opt_field(name).unwrap_or_else(|| panic!("INFO rocksdb has no {name}:\n{info}"))
    };
    Ops {
        put: field("put_total"),
        get: field("get_total"),
        seek: field("seek_total"),
        next: field("next_total"),
        prev: field("prev_total"),
    }
}

/// Runs `args` between two INFO readings; returns the reply and the
/// operations counted in between. For commands that change data (run
/// once): call [`quiesce`] first, so no background work adds to it.
fn cost(c: &mut Connection, args: &[&str]) -> (redis::Value, Ops) {
    let before = totals(c);
    let v: redis::Value = q(c, args);
    let after = totals(c);
    (v, after.minus(before))
}

/// Like [`cost`] for a read: runs it three times (same reply each time;
/// for a *SCAN reply, whose cursor is an opaque token, the same page) and
/// keeps the cheapest run, so a background compaction's metadata lookups
/// (they count as gets) cannot inflate it.
fn read_cost(c: &mut Connection, args: &[&str]) -> (redis::Value, Ops) {
    let page = |v: &redis::Value| match v {
        redis::Value::Array(items) if args[0].ends_with("SCAN") && items.len() == 2 => {
            items[1].clone()
        }
        other => other.clone(),
    };
    let (v, mut best) = cost(c, args);
    for _ in 0..2 {
        let (again, d) = cost(c, args);
        assert_eq!(
            page(&again),
            page(&v),
            "{args:?} replied differently when repeated"
        );
        if (d.get, d.steps()) < (best.get, best.steps()) {
            best = d;
        }
    }
    (v, best)
}

/// Compacts everything (COMPACT is synchronous) and waits until the
/// totals stand still: no flush or compaction left to run, whose
/// compaction-filter metadata lookups would count as gets.
fn quiesce(c: &mut Connection) {
    assert_eq!(q::<String>(c, &["COMPACT"]), "OK");
    let mut still = 0;
    let mut last = totals(c);
    for _ in 0..500 {
        std::thread::sleep(std::time::Duration::from_millis(10));
        let now = totals(c);
        if now == last {
            still += 1;
            if still == 5 {
                return;
            }
        } else {
            still = 0;
            last = now;
        }
    }
    panic!("the RocksDB totals keep moving with no client command");
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Hash,
    Set,
    Zset,
    List,
    Bitmap,
}

const KINDS: [Kind; 5] = [Kind::Hash, Kind::Set, Kind::Zset, Kind::List, Kind::Bitmap];

/// Writes `n` members into `key`, ~1000 per command, pipelined.
fn fill(c: &mut Connection, kind: Kind, key: &str, n: usize) {
    const BATCH: usize = 1000;
    const PIPE: usize = 20;
    let mut pipe = redis::pipe();
    let mut queued = 0;
    let mut start = 0;
    while start < n {
        let end = (start + BATCH).min(n);
        match kind {
            Kind::Hash => {
                let cmd = pipe.cmd("HSET").arg(key);
                for i in start..end {
                    cmd.arg(format!("f{i}")).arg(format!("v{i}"));
                }
            }
            Kind::Set => {
                let cmd = pipe.cmd("SADD").arg(key);
                for i in start..end {
                    cmd.arg(format!("m{i}"));
                }
            }
            Kind::Zset => {
                let cmd = pipe.cmd("ZADD").arg(key);
                for i in start..end {
                    cmd.arg(i).arg(format!("m{i}"));
                }
            }
            Kind::List => {
                let cmd = pipe.cmd("RPUSH").arg(key);
                for i in start..end {
                    cmd.arg(format!("e{i}"));
                }
            }
            Kind::Bitmap => {
                // One set bit per 1024-byte fragment: n bits, n subkeys.
                let cmd = pipe.cmd("BITFIELD").arg(key);
                for i in start..end {
                    cmd.arg("SET").arg("u1").arg(i * 8192).arg(1);
                }
            }
        }
        pipe.ignore();
        queued += 1;
        start = end;
        if queued == PIPE || start >= n {
            pipe.query::<()>(c)
                .unwrap_or_else(|e| panic!("fill {kind:?} {key}: {e}"));
            pipe = redis::pipe();
            queued = 0;
        }
    }
}

fn big(kind: Kind, tag: &str) -> String {
    format!("big:{tag}:{kind:?}")
}

fn small(kind: Kind, tag: &str) -> String {
    format!("small:{tag}:{kind:?}")
}

/// The size command of each kind (STRLEN for the bitmap).
fn len_cmd(kind: Kind) -> &'static str {
    match kind {
        Kind::Hash => "HLEN",
        Kind::Set => "SCARD",
        Kind::Zset => "ZCARD",
        Kind::List => "LLEN",
        Kind::Bitmap => "STRLEN",
    }
}

/// The expected size reply of a key holding `n` members.
fn expected_len(kind: Kind, n: usize) -> i64 {
    match kind {
        // One bit per fragment, the last at byte (n-1)*1024.
        Kind::Bitmap => ((n - 1) * 1024 + 1) as i64,
        _ => n as i64,
    }
}

/// Re-creates a deleted key with one member and checks that it holds
/// exactly that member: nothing of the old version shows through.
fn recreate_and_check(c: &mut Connection, kind: Kind, key: &str) {
    let what = format!("{kind:?} {key}");
    match kind {
        Kind::Hash => {
            assert_eq!(q::<i64>(c, &["HSET", key, "f1", "new"]), 1, "{what}");
            assert_eq!(q::<i64>(c, &["HLEN", key]), 1, "{what}");
            let all: Vec<String> = q(c, &["HGETALL", key]);
            assert_eq!(all, ["f1", "new"], "{what}");
            assert_eq!(q::<Option<String>>(c, &["HGET", key, "f2"]), None, "{what}");
            let (cur, page): (String, Vec<String>) = q(c, &["HSCAN", key, "0", "COUNT", "1000"]);
            assert_eq!(
                (cur.as_str(), page),
                ("0", vec!["f1".into(), "new".into()]),
                "{what}"
            );
        }
        Kind::Set => {
            assert_eq!(q::<i64>(c, &["SADD", key, "m1"]), 1, "{what}");
            assert_eq!(q::<i64>(c, &["SCARD", key]), 1, "{what}");
            assert_eq!(q::<Vec<String>>(c, &["SMEMBERS", key]), ["m1"], "{what}");
            assert_eq!(q::<i64>(c, &["SISMEMBER", key, "m2"]), 0, "{what}");
        }
        Kind::Zset => {
            assert_eq!(q::<i64>(c, &["ZADD", key, "7", "m1"]), 1, "{what}");
            assert_eq!(q::<i64>(c, &["ZCARD", key]), 1, "{what}");
            assert_eq!(
                q::<Vec<String>>(c, &["ZRANGE", key, "0", "-1"]),
                ["m1"],
                "{what}"
            );
            let by_score: Vec<String> = q(c, &["ZRANGE", key, "-inf", "+inf", "BYSCORE"]);
            assert_eq!(by_score, ["m1"], "{what}");
            assert_eq!(
                q::<Option<String>>(c, &["ZSCORE", key, "m2"]),
                None,
                "{what}"
            );
        }
        Kind::List => {
            assert_eq!(q::<i64>(c, &["RPUSH", key, "x"]), 1, "{what}");
            assert_eq!(q::<i64>(c, &["LLEN", key]), 1, "{what}");
            assert_eq!(
                q::<Vec<String>>(c, &["LRANGE", key, "0", "-1"]),
                ["x"],
                "{what}"
            );
            assert_eq!(
                q::<Option<String>>(c, &["LINDEX", key, "1"]),
                None,
                "{what}"
            );
        }
        Kind::Bitmap => {
            assert_eq!(q::<i64>(c, &["SETBIT", key, "1", "1"]), 0, "{what}");
            assert_eq!(q::<i64>(c, &["STRLEN", key]), 1, "{what}");
            assert_eq!(q::<i64>(c, &["BITCOUNT", key]), 1, "{what}");
            assert_eq!(q::<i64>(c, &["GETBIT", key, "0"]), 0, "{what}");
            assert_eq!(q::<i64>(c, &["GETBIT", key, "8192"]), 0, "{what}");
        }
    }
}

/// Checks that `key` is gone in every way a client can look at it.
fn assert_gone(c: &mut Connection, kind: Kind, key: &str) {
    let what = format!("{kind:?} {key}");
    assert_eq!(q::<i64>(c, &["EXISTS", key]), 0, "{what}");
    assert_eq!(q::<String>(c, &["TYPE", key]), "none", "{what}");
    assert_eq!(q::<i64>(c, &[len_cmd(kind), key]), 0, "{what}");
    let member: Option<String> = match kind {
        Kind::Hash => q(c, &["HGET", key, "f5"]),
        Kind::Set => Some(q::<i64>(c, &["SISMEMBER", key, "m5"]).to_string()).filter(|s| s != "0"),
        Kind::Zset => q(c, &["ZSCORE", key, "m5"]),
        Kind::List => q(c, &["LINDEX", key, "5"]),
        Kind::Bitmap => {
            Some(q::<i64>(c, &["GETBIT", key, "8192"]).to_string()).filter(|s| s != "0")
        }
    };
    assert_eq!(member, None, "{what}: a member is still readable");
}

/// Drops keys of every kind with `how` (the command name, then the key,
/// then the rest of `how`), small and big, and checks that both
/// cost the same: one metadata read and one metadata delete.
fn drop_costs(c: &mut Connection, tag: &str, how: &[&str]) {
    for kind in KINDS {
        let mut costs = Vec::new();
        for key in [small(kind, tag), big(kind, tag)] {
            let mut args: Vec<&str> = vec![how[0], &key];
            args.extend_from_slice(&how[1..]);
            let (v, d) = cost(c, &args);
            println!("{how:?} {key}: {d:?}");
            assert_eq!(v, redis::Value::Int(1), "{args:?}");
            assert_gone(c, kind, &key);
            costs.push(d);
        }
        assert_eq!(
            costs[0], costs[1],
            "{how:?} of a 200,000-member {kind:?} must cost what a 10-member one does"
        );
        // The design: one metadata read, one metadata delete, no iteration.
        assert_eq!(
            costs[1],
            Ops {
                put: 1,
                get: 1,
                ..Ops::default()
            },
            "{how:?} {kind:?}"
        );
    }
}

/// One `field[cf]:value` integer of `INFO rocksdb`.
fn rocks_prop(c: &mut Connection, name: &str) -> u64 {
    let info: String = q(c, &["INFO", "rocksdb"]);
    info.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
        .unwrap_or_else(|| panic!("INFO rocksdb has no {name}"))
        .trim()
        .parse()
        .unwrap()
}

const BIG: usize = 200_000;
const SMALL: usize = 10;

/// Length commands read the metadata only: one get, no iteration.
fn lengths_are_o1(c: &mut Connection, tag: &str) {
    for kind in KINDS {
        let key = big(kind, tag);
        let (v, d) = read_cost(c, &[len_cmd(kind), &key]);
        println!("{} {key}: {v:?} {d:?}", len_cmd(kind));
        assert_eq!(v, redis::Value::Int(expected_len(kind, BIG)), "{kind:?}");
        assert_eq!(
            d,
            Ops {
                get: 1,
                ..Ops::default()
            },
            "{} {key}",
            len_cmd(kind)
        );
    }
}

/// Runs a read on a big key, checks its reply, and returns its cost after
/// checking that it wrote nothing and iterated at most `max_steps`.
fn window(c: &mut Connection, args: &[&str], expect: &[String], max_steps: u64) -> Ops {
    let (v, d) = read_cost(c, args);
    println!("{args:?}: {d:?}");
    let got: Vec<String> = redis::from_redis_value(v).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert_eq!(got, expect, "{args:?}");
    assert_eq!(d.put, 0, "{args:?} wrote");
    assert!(
        d.steps() <= max_steps,
        "{args:?} on a 200,000-member key iterated {d:?}, more than {max_steps}"
    );
    d
}

fn names(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

/// Windows on big keys cost the window, not the key.
fn windows_cost_the_window(c: &mut Connection, tag: &str) {
    let hash = big(Kind::Hash, tag);
    let zset = big(Kind::Zset, tag);
    let list = big(Kind::List, tag);
    let set = big(Kind::Set, tag);
    let bitmap = big(Kind::Bitmap, tag);

    // *SCAN COUNT 10: one page of about ten members.
    for (cmd, key) in [("HSCAN", &hash), ("SSCAN", &set), ("ZSCAN", &zset)] {
        let (v, d) = read_cost(c, &[cmd, key, "0", "COUNT", "10"]);
        println!("{cmd} {key} 0 COUNT 10: {d:?}");
        let (cursor, page): (String, Vec<String>) = redis::from_redis_value(v).unwrap();
        assert_ne!(cursor, "0", "{cmd}: one page does not end a 200,000 scan");
        assert!(
            !page.is_empty() && page.len() <= 40,
            "{cmd}: {} items",
            page.len()
        );
        assert_eq!(d.put, 0);
        assert!(d.steps() < 100, "{cmd} COUNT 10 iterated {d:?}");
    }

    // Score window: a seek in the score column family, then ten steps.
    window(
        c,
        &["ZRANGE", &zset, "100000", "100009", "BYSCORE"],
        &names("m", 100_000..100_010),
        100,
    );
    window(
        c,
        &["ZRANGEBYSCORE", &zset, "(149999", "150004"],
        &names("m", 150_000..150_005),
        100,
    );
    window(
        c,
        &["ZRANGE", &zset, "100009", "100000", "BYSCORE", "REV"],
        &names("m", 100_000..100_010)
            .into_iter()
            .rev()
            .collect::<Vec<_>>(),
        100,
    );
    window(
        c,
        &[
            "ZRANGE", &zset, "100000", "+inf", "BYSCORE", "LIMIT", "0", "5",
        ],
        &names("m", 100_000..100_005),
        100,
    );
    let (v, d) = read_cost(c, &["ZCOUNT", &zset, "100000", "100009"]);
    println!("ZCOUNT {zset} 100000 100009: {d:?}");
    assert_eq!(v, redis::Value::Int(10));
    assert!(
        d.steps() < 100,
        "ZCOUNT of a 10-score window iterated {d:?}"
    );

    // Point reads: gets only.
    for args in [
        vec!["HGET", hash.as_str(), "f123456"],
        vec!["ZSCORE", zset.as_str(), "m123456"],
        vec!["SISMEMBER", set.as_str(), "m123456"],
        vec!["GETBIT", bitmap.as_str(), "1011351552"],
    ] {
        let (v, d) = read_cost(c, &args);
        println!("{args:?}: {v:?} {d:?}");
        assert_ne!(v, redis::Value::Nil, "{args:?}");
        assert_eq!((d.steps(), d.put), (0, 0), "{args:?}: {d:?}");
        assert!(d.get <= 2, "{args:?}: {d:?}");
    }

    // List windows: elements sit at head + index, so they are addressed.
    window(
        c,
        &["LRANGE", &list, "100000", "100009"],
        &names("e", 100_000..100_010),
        100,
    );
    window(
        c,
        &["LRANGE", &list, "-10", "-1"],
        &names("e", BIG - 10..BIG),
        100,
    );
    let (v, d) = read_cost(c, &["LINDEX", &list, "150000"]);
    println!("LINDEX {list} 150000: {v:?} {d:?}");
    assert_eq!(v, redis::Value::BulkString(b"e150000".to_vec()));
    assert_eq!((d.put, d.steps()), (0, 0), "LINDEX: {d:?}");
    assert!(d.get <= 2, "LINDEX: {d:?}");

    // Bitmap: a byte range reads its fragments only.
    let (v, d) = read_cost(c, &["BITCOUNT", &bitmap, "102400000", "102410239"]);
    println!("BITCOUNT {bitmap} (10 fragments): {v:?} {d:?}");
    assert_eq!(v, redis::Value::Int(10));
    assert!(d.steps() + d.get < 100, "BITCOUNT of 10 fragments: {d:?}");

    // Rank windows on a zset walk: there is no rank index, so the score
    // order is walked from the nearer end (src/types/zset.rs,
    // `walk_ranks_any_order`; ZRANK walks from both ends at once). The
    // documented exception to "windows cost the window". Ranks nearer the
    // front are reached with forward steps, which INFO counts:
    let d = window(
        c,
        &["ZRANGE", &zset, "90000", "90009"],
        &names("m", 90_000..90_010),
        BIG as u64,
    );
    assert!(d.next >= 90_000, "rank 90000 reached in {d:?}?");
    // Ranks nearer the back are reached with backward steps.
    let d = window(
        c,
        &["ZRANGE", &zset, "100000", "100009"],
        &names("m", 100_000..100_010),
        BIG as u64,
    );
    assert!(d.prev >= 99_000, "rank 100000 reached backward in {d:?}?");
    let (v, d) = read_cost(c, &["ZRANK", &zset, "m150000"]);
    println!("ZRANK {zset} m150000: {v:?} {d:?}");
    assert_eq!(v, redis::Value::Int(150_000));
    assert!(d.steps() <= 2 * BIG as u64 + 10, "ZRANK: {d:?}");
}

#[test]
fn big_keys_cost_what_is_touched() {
    // Costs are counted in RocksDB operations, so the metadata cache (which
    // answers repeated metadata reads without one) is off here.
    let server = Server::start_with(&[("metadata-cache-mb", "0")]);
    let mut c = server.client();
    let t0 = Instant::now();

    // Nothing moves the totals between two INFOs: deltas are exact.
    let a = totals(&mut c);
    let b = totals(&mut c);
    assert_eq!(
        b.minus(a),
        Ops::default(),
        "INFO itself or background work moves the totals"
    );

    let tags = ["del", "unlink", "expire"];
    for tag in tags {
        for kind in KINDS {
            fill(&mut c, kind, &big(kind, tag), BIG);
            fill(&mut c, kind, &small(kind, tag), SMALL);
        }
    }
    quiesce(&mut c);
    println!("filled and compacted in {:?}", t0.elapsed());

    lengths_are_o1(&mut c, "del");
    windows_cost_the_window(&mut c, "del");
    println!("reads done at {:?}", t0.elapsed());

    drop_costs(&mut c, "del", &["DEL"]);
    drop_costs(&mut c, "unlink", &["UNLINK"]);
    drop_costs(&mut c, "expire", &["PEXPIREAT", "1"]);

    for tag in tags {
        for kind in KINDS {
            recreate_and_check(&mut c, kind, &big(kind, tag));
            recreate_and_check(&mut c, kind, &small(kind, tag));
        }
    }

    let subkeys_before = rocks_prop(&mut c, "estimate_num_keys[default]");
    let scores_before = rocks_prop(&mut c, "estimate_num_keys[zset_score]");
    let t = Instant::now();
    quiesce(&mut c);
    let subkeys_after = rocks_prop(&mut c, "estimate_num_keys[default]");
    let scores_after = rocks_prop(&mut c, "estimate_num_keys[zset_score]");
    println!(
        "COMPACT {:?}: subkeys {subkeys_before} -> {subkeys_after}, scores {scores_before} -> {scores_after}",
        t.elapsed()
    );
    // Every old version's subkeys (3 x 5 x 200,000, plus the zset score
    // entries) are dropped by the compaction filter; what stays is one
    // member per re-created key (30 keys; 6 zsets in the score CF).
    // A deleted key that is NOT re-created keeps its subkeys through
    // compactions for 10 minutes after its version was allocated
    // (src/storage/stale_filter.rs, IN_FLIGHT_MS: protects RESTORE/COPY
    // writing subkeys before metadata), which is why every key here is
    // re-created before this check.
    assert!(subkeys_before >= 15 * BIG as u64, "{subkeys_before}");
    assert!(scores_before >= 3 * BIG as u64, "{scores_before}");
    assert_eq!(subkeys_after, 30, "subkeys left after COMPACT");
    assert_eq!(scores_after, 6, "zset score entries left after COMPACT");
    for tag in tags {
        assert_eq!(q::<i64>(&mut c, &["HLEN", &big(Kind::Hash, tag)]), 1);
        assert_eq!(q::<i64>(&mut c, &["LLEN", &big(Kind::List, tag)]), 1);
    }
    println!("total {:?}", t0.elapsed());
}
