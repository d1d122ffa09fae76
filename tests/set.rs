//! Set commands against the real binary, checked against Redis 7 replies.
//! One server for the whole file: every case runs in turn inside one test,
//! on its own keys.

mod common;

use std::collections::HashSet;
use std::thread;
use std::time::Duration;

use common::{q, q_err, Raw, Server};
use redis::Connection;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";
const POSITIVE: &str = "ERR value is out of range, must be positive";

fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn members(c: &mut Connection, key: &str) -> Vec<String> {
    let mut v: Vec<String> = q(c, &["SMEMBERS", key]);
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Runs a command with binary arguments.
fn qb<T: redis::FromRedisValue>(c: &mut Connection, args: &[&[u8]]) -> T {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap()
}

fn add_rem_card(c: &mut Connection) {
    assert_eq!(q::<i64>(c, &["SADD", "s1", "a", "b", "c"]), 3);
    assert_eq!(q::<i64>(c, &["SADD", "s1", "c", "d", "d"]), 1);
    assert_eq!(q::<i64>(c, &["SCARD", "s1"]), 4);
    assert_eq!(q::<i64>(c, &["SCARD", "noset"]), 0);
    assert_eq!(members(c, "s1"), strs(&["a", "b", "c", "d"]));
    assert!(q::<Vec<String>>(c, &["SMEMBERS", "noset"]).is_empty());
    assert_eq!(q::<i64>(c, &["SISMEMBER", "s1", "a"]), 1);
    assert_eq!(q::<i64>(c, &["SISMEMBER", "s1", "z"]), 0);
    assert_eq!(q::<i64>(c, &["SISMEMBER", "noset", "a"]), 0);
    assert_eq!(
        q::<Vec<i64>>(c, &["SMISMEMBER", "s1", "a", "z", "d", "a"]),
        vec![1, 0, 1, 1]
    );
    assert_eq!(
        q::<Vec<i64>>(c, &["SMISMEMBER", "noset", "a", "b"]),
        vec![0, 0]
    );
    assert_eq!(q::<i64>(c, &["SREM", "s1", "a", "a", "z"]), 1);
    assert_eq!(q::<i64>(c, &["SREM", "noset", "a"]), 0);
    assert_eq!(q::<i64>(c, &["SCARD", "s1"]), 3);
    // Removing the last member deletes the key.
    assert_eq!(q::<i64>(c, &["SREM", "s1", "b", "c", "d"]), 3);
    assert_eq!(q::<i64>(c, &["EXISTS", "s1"]), 0);
    assert_eq!(q::<String>(c, &["TYPE", "s1"]), "none");
    assert_eq!(q::<i64>(c, &["SADD", "s1", "x"]), 1);
    assert_eq!(members(c, "s1"), strs(&["x"]));
    assert_eq!(q::<String>(c, &["TYPE", "s1"]), "set");
    // The empty string is a member.
    assert_eq!(q::<i64>(c, &["SADD", "s1", ""]), 1);
    assert_eq!(q::<i64>(c, &["SISMEMBER", "s1", ""]), 1);
    assert_eq!(q::<i64>(c, &["SCARD", "s1"]), 2);
}

fn pop_and_random(c: &mut Connection, raw: &mut Raw) {
    q::<i64>(c, &["SADD", "rp", "a", "b", "c", "d", "e"]);
    let all = strs(&["a", "b", "c", "d", "e"]);
    for _ in 0..20 {
        let m: String = q(c, &["SRANDMEMBER", "rp"]);
        assert!(all.contains(&m));
    }
    let three: Vec<String> = q(c, &["SRANDMEMBER", "rp", "3"]);
    assert_eq!(three.iter().collect::<HashSet<_>>().len(), 3);
    assert_eq!(sorted(q(c, &["SRANDMEMBER", "rp", "10"])), all);
    assert!(q::<Vec<String>>(c, &["SRANDMEMBER", "rp", "0"]).is_empty());
    let many: Vec<String> = q(c, &["SRANDMEMBER", "rp", "-50"]);
    assert_eq!(many.len(), 50);
    assert_eq!(many.iter().collect::<HashSet<_>>().len(), 5);
    assert_eq!(q::<i64>(c, &["SCARD", "rp"]), 5);
    assert_eq!(q::<Option<String>>(c, &["SRANDMEMBER", "noset"]), None);
    assert!(q::<Vec<String>>(c, &["SRANDMEMBER", "noset", "3"]).is_empty());
    assert!(q::<Vec<String>>(c, &["SRANDMEMBER", "noset", "-3"]).is_empty());
    assert_eq!(q_err(c, &["SRANDMEMBER", "rp", "x"]), NOT_INT);
    assert_eq!(q_err(c, &["SRANDMEMBER", "noset", "x"]), NOT_INT);
    assert_eq!(q_err(c, &["SRANDMEMBER", "rp", "1", "2"]), SYNTAX);
    assert_eq!(
        q_err(c, &["SRANDMEMBER", "rp", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    // SPOP removes what it returns.
    let one: String = q(c, &["SPOP", "rp"]);
    assert!(all.contains(&one));
    assert_eq!(q::<i64>(c, &["SISMEMBER", "rp", &one]), 0);
    let two: Vec<String> = q(c, &["SPOP", "rp", "2"]);
    assert_eq!(two.len(), 2);
    for m in &two {
        assert_ne!(m, &one);
        assert_eq!(q::<i64>(c, &["SISMEMBER", "rp", m]), 0);
    }
    assert_eq!(q::<i64>(c, &["SCARD", "rp"]), 2);
    assert!(q::<Vec<String>>(c, &["SPOP", "rp", "0"]).is_empty());
    assert_eq!(q::<i64>(c, &["SCARD", "rp"]), 2);
    // Popping more than there is empties and deletes the set.
    let rest: Vec<String> = q(c, &["SPOP", "rp", "10"]);
    assert_eq!(rest.len(), 2);
    let mut everything: Vec<String> = [one].into_iter().chain(two).chain(rest).collect();
    everything.sort();
    assert_eq!(everything, all);
    assert_eq!(q::<i64>(c, &["EXISTS", "rp"]), 0);
    assert_eq!(q::<Option<String>>(c, &["SPOP", "rp"]), None);
    assert!(q::<Vec<String>>(c, &["SPOP", "rp", "3"]).is_empty());
    // The last single SPOP deletes the key too.
    q::<i64>(c, &["SADD", "rp1", "only"]);
    assert_eq!(q::<String>(c, &["SPOP", "rp1"]), "only");
    assert_eq!(q::<i64>(c, &["EXISTS", "rp1"]), 0);
    assert_eq!(q_err(c, &["SPOP", "rp", "-1"]), POSITIVE);
    assert_eq!(q_err(c, &["SPOP", "rp", "x"]), POSITIVE);
    assert_eq!(q_err(c, &["SPOP", "rp", "1", "2"]), SYNTAX);
    // Reply shapes: SPOP with a count is a set, SRANDMEMBER an array.
    q::<i64>(c, &["SADD", "shape", "m"]);
    assert_eq!(raw.cmd(&["SRANDMEMBER", "noset"]), "$-1\r\n");
    raw.cmd(&["HELLO", "3"]);
    assert_eq!(raw.cmd(&["SRANDMEMBER", "shape", "1"]), "*1\r\n$1\r\nm\r\n");
    assert_eq!(raw.cmd(&["SRANDMEMBER", "noset", "1"]), "*0\r\n");
    assert_eq!(raw.cmd(&["SPOP", "noset", "1"]), "~0\r\n");
    assert_eq!(raw.cmd(&["SPOP", "noset"]), "_\r\n");
    assert_eq!(raw.cmd(&["SPOP", "shape", "1"]), "~1\r\n$1\r\nm\r\n");
    raw.cmd(&["HELLO", "2"]);
}

fn smove(c: &mut Connection) {
    q::<i64>(c, &["SADD", "src", "a", "b"]);
    q::<i64>(c, &["SADD", "dst", "b", "c"]);
    assert_eq!(q::<i64>(c, &["SMOVE", "src", "dst", "a"]), 1);
    assert_eq!(members(c, "src"), strs(&["b"]));
    assert_eq!(members(c, "dst"), strs(&["a", "b", "c"]));
    assert_eq!(q::<i64>(c, &["SMOVE", "src", "dst", "zz"]), 0);
    // Already in the destination: removed from the source only.
    assert_eq!(q::<i64>(c, &["SMOVE", "src", "dst", "b"]), 1);
    assert_eq!(q::<i64>(c, &["EXISTS", "src"]), 0);
    assert_eq!(q::<i64>(c, &["SCARD", "dst"]), 3);
    // To a new key, and onto itself.
    assert_eq!(q::<i64>(c, &["SMOVE", "dst", "fresh", "c"]), 1);
    assert_eq!(members(c, "fresh"), strs(&["c"]));
    assert_eq!(q::<i64>(c, &["SMOVE", "dst", "dst", "a"]), 1);
    assert_eq!(q::<i64>(c, &["SMOVE", "dst", "dst", "zz"]), 0);
    assert_eq!(members(c, "dst"), strs(&["a", "b"]));
    assert_eq!(q::<i64>(c, &["SMOVE", "noset", "dst", "a"]), 0);
    // Types: a missing source wins over a wrong destination.
    q::<String>(c, &["SET", "mvstr", "x"]);
    assert_eq!(q::<i64>(c, &["SMOVE", "noset", "mvstr", "a"]), 0);
    assert_eq!(q_err(c, &["SMOVE", "dst", "mvstr", "zz"]), WRONGTYPE);
    assert_eq!(q_err(c, &["SMOVE", "dst", "mvstr", "a"]), WRONGTYPE);
    assert_eq!(q_err(c, &["SMOVE", "mvstr", "dst", "a"]), WRONGTYPE);
    assert_eq!(members(c, "dst"), strs(&["a", "b"]));
}

fn algebra(c: &mut Connection, raw: &mut Raw) {
    q::<i64>(c, &["SADD", "{g}a", "1", "2", "3", "4"]);
    q::<i64>(c, &["SADD", "{g}b", "2", "3", "5"]);
    q::<i64>(c, &["SADD", "{g}c", "3", "4", "5", "6"]);
    let op = |c: &mut Connection, args: &[&str]| -> Vec<String> { sorted(q(c, args)) };
    assert_eq!(op(c, &["SINTER", "{g}a", "{g}b"]), strs(&["2", "3"]));
    assert_eq!(op(c, &["SINTER", "{g}a", "{g}b", "{g}c"]), strs(&["3"]));
    assert_eq!(op(c, &["SINTER", "{g}a"]), strs(&["1", "2", "3", "4"]));
    assert!(op(c, &["SINTER", "{g}a", "{g}none"]).is_empty());
    assert_eq!(
        op(c, &["SUNION", "{g}a", "{g}b", "{g}c"]),
        strs(&["1", "2", "3", "4", "5", "6"])
    );
    assert_eq!(
        op(c, &["SUNION", "{g}none", "{g}b"]),
        strs(&["2", "3", "5"])
    );
    assert!(op(c, &["SUNION", "{g}none"]).is_empty());
    assert_eq!(op(c, &["SDIFF", "{g}a", "{g}b"]), strs(&["1", "4"]));
    assert_eq!(op(c, &["SDIFF", "{g}a", "{g}b", "{g}c"]), strs(&["1"]));
    assert_eq!(
        op(c, &["SDIFF", "{g}a", "{g}none"]),
        strs(&["1", "2", "3", "4"])
    );
    assert!(op(c, &["SDIFF", "{g}none", "{g}a"]).is_empty());
    assert!(op(c, &["SDIFF", "{g}a", "{g}a"]).is_empty());
    // Same key twice.
    assert_eq!(
        op(c, &["SINTER", "{g}a", "{g}a"]),
        strs(&["1", "2", "3", "4"])
    );
    // Every key's type is checked, also after a missing key.
    q::<String>(c, &["SET", "{g}str", "x"]);
    for cmd in ["SINTER", "SUNION", "SDIFF"] {
        assert_eq!(q_err(c, &[cmd, "{g}none", "{g}str"]), WRONGTYPE);
        assert_eq!(q_err(c, &[cmd, "{g}a", "{g}str"]), WRONGTYPE);
    }
    // STORE forms replace the destination and return its size.
    assert_eq!(q::<i64>(c, &["SINTERSTORE", "{g}d", "{g}a", "{g}b"]), 2);
    assert_eq!(members(c, "{g}d"), strs(&["2", "3"]));
    assert_eq!(q::<i64>(c, &["SUNIONSTORE", "{g}d", "{g}b", "{g}c"]), 5);
    assert_eq!(members(c, "{g}d"), strs(&["2", "3", "4", "5", "6"]));
    assert_eq!(q::<i64>(c, &["SDIFFSTORE", "{g}d", "{g}a", "{g}c"]), 2);
    assert_eq!(members(c, "{g}d"), strs(&["1", "2"]));
    // The destination among the sources.
    assert_eq!(q::<i64>(c, &["SUNIONSTORE", "{g}d", "{g}d", "{g}b"]), 4);
    assert_eq!(members(c, "{g}d"), strs(&["1", "2", "3", "5"]));
    // Whatever the destination was (a string with a TTL) is replaced.
    q::<String>(c, &["SET", "{g}dst", "v", "EX", "100"]);
    assert_eq!(q::<i64>(c, &["SINTERSTORE", "{g}dst", "{g}a", "{g}c"]), 2);
    assert_eq!(q::<String>(c, &["TYPE", "{g}dst"]), "set");
    assert_eq!(q::<i64>(c, &["TTL", "{g}dst"]), -1);
    // An empty result deletes the destination.
    assert_eq!(
        q::<i64>(c, &["SINTERSTORE", "{g}dst", "{g}a", "{g}none"]),
        0
    );
    assert_eq!(q::<i64>(c, &["EXISTS", "{g}dst"]), 0);
    assert_eq!(q::<i64>(c, &["SDIFFSTORE", "{g}dst", "{g}none"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "{g}dst"]), 0);
    // A wrong-typed source fails and leaves the destination alone.
    assert_eq!(
        q_err(c, &["SUNIONSTORE", "{g}d", "{g}a", "{g}str"]),
        WRONGTYPE
    );
    assert_eq!(members(c, "{g}d"), strs(&["1", "2", "3", "5"]));
    // A wrong-typed destination is simply replaced.
    assert_eq!(q::<i64>(c, &["SDIFFSTORE", "{g}str", "{g}a", "{g}b"]), 2);
    assert_eq!(members(c, "{g}str"), strs(&["1", "4"]));
    // SINTERCARD.
    assert_eq!(q::<i64>(c, &["SINTERCARD", "2", "{g}a", "{g}b"]), 2);
    assert_eq!(q::<i64>(c, &["SINTERCARD", "1", "{g}a"]), 4);
    assert_eq!(q::<i64>(c, &["SINTERCARD", "1", "{g}a", "LIMIT", "3"]), 3);
    assert_eq!(q::<i64>(c, &["SINTERCARD", "1", "{g}a", "limit", "0"]), 4);
    assert_eq!(q::<i64>(c, &["SINTERCARD", "2", "{g}a", "{g}none"]), 0);
    assert_eq!(
        q_err(c, &["SINTERCARD", "0", "{g}a"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        q_err(c, &["SINTERCARD", "x", "{g}a"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        q_err(c, &["SINTERCARD", "3", "{g}a", "{g}b"]),
        "ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(
        q_err(c, &["SINTERCARD", "1", "{g}a", "LIMIT", "-1"]),
        "ERR LIMIT can't be negative"
    );
    assert_eq!(
        q_err(c, &["SINTERCARD", "1", "{g}a", "LIMIT", "x"]),
        "ERR LIMIT can't be negative"
    );
    assert_eq!(q_err(c, &["SINTERCARD", "1", "{g}a", "LIMIT"]), SYNTAX);
    assert_eq!(q_err(c, &["SINTERCARD", "1", "{g}a", "FOO", "1"]), SYNTAX);
    assert_eq!(q::<i64>(c, &["SINTERCARD", "2", "{g}none", "{g}a"]), 0);
    q::<String>(c, &["SET", "{g}s2", "x"]);
    assert_eq!(
        q_err(c, &["SINTERCARD", "2", "{g}none", "{g}s2"]),
        WRONGTYPE
    );
    // RESP3: results are sets.
    raw.cmd(&["HELLO", "3"]);
    assert_eq!(
        raw.cmd(&["SINTER", "{g}a", "{g}b"]),
        "~2\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(raw.cmd(&["SUNION", "{g}none"]), "~0\r\n");
    assert_eq!(raw.cmd(&["SDIFF", "{g}b", "{g}a"]), "~1\r\n$1\r\n5\r\n");
    assert_eq!(
        raw.cmd(&["SMEMBERS", "{g}b"]),
        "~3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"
    );
    assert_eq!(raw.cmd(&["SMEMBERS", "noset"]), "~0\r\n");
    assert_eq!(
        raw.cmd(&["SMISMEMBER", "{g}b", "2", "9"]),
        "*2\r\n:1\r\n:0\r\n"
    );
    raw.cmd(&["HELLO", "2"]);
    assert_eq!(raw.cmd(&["SMEMBERS", "noset"]), "*0\r\n");
}

fn big_set(c: &mut Connection) {
    let n = 20_000;
    for start in (0..n).step_by(1000) {
        let mut cmd = redis::cmd("SADD");
        cmd.arg("{b}big");
        for i in start..start + 1000 {
            cmd.arg(format!("m:{i}"));
        }
        assert_eq!(cmd.query::<i64>(c).unwrap(), 1000);
    }
    // Every third member in a second set.
    for start in (0..n).step_by(3000) {
        let mut cmd = redis::cmd("SADD");
        cmd.arg("{b}third");
        for i in (start..(start + 3000).min(n)).filter(|i| i % 3 == 0) {
            cmd.arg(format!("m:{i}"));
        }
        cmd.query::<i64>(c).unwrap();
    }
    assert_eq!(q::<i64>(c, &["SCARD", "{b}big"]), n);
    assert_eq!(q::<i64>(c, &["SCARD", "{b}third"]), 6667);
    // SSCAN pages through every member once.
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, items): (String, Vec<String>) =
            q(c, &["SSCAN", "{b}big", &cursor, "COUNT", "700"]);
        for m in items {
            assert!(seen.insert(m.clone()), "{m} returned twice");
        }
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), n as usize);
    let (_, items): (String, Vec<String>) = q(
        c,
        &[
            "SSCAN", "{b}big", "0", "MATCH", "m:1234*", "COUNT", "100000",
        ],
    );
    assert_eq!(
        sorted(items),
        sorted(strs(&[
            "m:1234", "m:12340", "m:12341", "m:12342", "m:12343", "m:12344", "m:12345", "m:12346",
            "m:12347", "m:12348", "m:12349"
        ]))
    );
    // Set algebra over big sets.
    assert_eq!(
        q::<i64>(c, &["SINTERCARD", "2", "{b}big", "{b}third"]),
        6667
    );
    assert_eq!(
        q::<i64>(c, &["SINTERCARD", "2", "{b}big", "{b}third", "LIMIT", "10"]),
        10
    );
    assert_eq!(
        q::<i64>(c, &["SDIFFSTORE", "{b}rest", "{b}big", "{b}third"]),
        13333
    );
    assert_eq!(q::<i64>(c, &["SISMEMBER", "{b}rest", "m:3"]), 0);
    assert_eq!(q::<i64>(c, &["SISMEMBER", "{b}rest", "m:4"]), 1);
    assert_eq!(
        q::<i64>(c, &["SUNIONSTORE", "{b}all", "{b}rest", "{b}third"]),
        n
    );
    assert_eq!(
        q::<i64>(c, &["SINTERSTORE", "{b}both", "{b}all", "{b}big"]),
        n
    );
    let inter: Vec<String> = q(c, &["SINTER", "{b}third", "{b}big"]);
    assert_eq!(inter.len(), 6667);
    let union: Vec<String> = q(c, &["SUNION", "{b}third", "{b}rest"]);
    assert_eq!(union.len(), n as usize);
    assert_eq!(union.iter().collect::<HashSet<_>>().len(), n as usize);
    // Random picks on a big set.
    let picked: Vec<String> = q(c, &["SRANDMEMBER", "{b}big", "200"]);
    assert_eq!(picked.iter().collect::<HashSet<_>>().len(), 200);
    let picks: Vec<String> = q(c, &["SRANDMEMBER", "{b}big", "-2000"]);
    assert_eq!(picks.len(), 2000);
    let distinct = picks.iter().collect::<HashSet<_>>().len();
    assert!(distinct > 1000, "only {distinct} distinct of 2000 picks");
    let popped: Vec<String> = q(c, &["SPOP", "{b}big", "100"]);
    assert_eq!(popped.iter().collect::<HashSet<_>>().len(), 100);
    assert_eq!(q::<i64>(c, &["SCARD", "{b}big"]), n - 100);
    for m in popped.iter().take(10) {
        assert_eq!(q::<i64>(c, &["SISMEMBER", "{b}big", m]), 0);
    }
    for _ in 0..50 {
        let m: String = q(c, &["SPOP", "{b}big"]);
        assert!(m.starts_with("m:"));
    }
    assert_eq!(q::<i64>(c, &["SCARD", "{b}big"]), n - 150);
    let left: Vec<String> = q(c, &["SMEMBERS", "{b}big"]);
    assert_eq!(left.len(), (n - 150) as usize);
    // A big pop that covers most of the set is exact.
    let big_pop: Vec<String> = q(c, &["SPOP", "{b}big", "19000"]);
    assert_eq!(big_pop.iter().collect::<HashSet<_>>().len(), 19000);
    assert_eq!(q::<i64>(c, &["SCARD", "{b}big"]), n - 150 - 19000);
    assert_eq!(
        q::<i64>(
            c,
            &["DEL", "{b}big", "{b}third", "{b}rest", "{b}all", "{b}both"]
        ),
        5
    );
}

fn wrongtype(c: &mut Connection) {
    q::<String>(c, &["SET", "str", "x"]);
    q::<i64>(c, &["HSET", "ahash", "f", "v"]);
    for key in ["str", "ahash"] {
        for cmd in [
            vec!["SADD", key, "m"],
            vec!["SREM", key, "m"],
            vec!["SCARD", key],
            vec!["SISMEMBER", key, "m"],
            vec!["SMISMEMBER", key, "m"],
            vec!["SMEMBERS", key],
            vec!["SPOP", key],
            vec!["SPOP", key, "2"],
            vec!["SRANDMEMBER", key],
            vec!["SRANDMEMBER", key, "-2"],
            vec!["SINTER", key],
            vec!["SUNION", key],
            vec!["SDIFF", key],
            vec!["SINTERCARD", "1", key],
            vec!["SSCAN", key, "0"],
        ] {
            assert_eq!(q_err(c, &cmd), WRONGTYPE, "{cmd:?}");
        }
    }
    assert_eq!(q::<String>(c, &["GET", "str"]), "x");
    assert_eq!(q::<String>(c, &["HGET", "ahash", "f"]), "v");
}

fn arity(c: &mut Connection) {
    for (cmd, name) in [
        (vec!["SADD", "k"], "sadd"),
        (vec!["SREM", "k"], "srem"),
        (vec!["SCARD"], "scard"),
        (vec!["SISMEMBER", "k"], "sismember"),
        (vec!["SMISMEMBER", "k"], "smismember"),
        (vec!["SMEMBERS"], "smembers"),
        (vec!["SPOP"], "spop"),
        (vec!["SRANDMEMBER"], "srandmember"),
        (vec!["SMOVE", "a", "b"], "smove"),
        (vec!["SINTER"], "sinter"),
        (vec!["SINTERCARD", "1"], "sintercard"),
        (vec!["SUNION"], "sunion"),
        (vec!["SDIFF"], "sdiff"),
        (vec!["SINTERSTORE", "d"], "sinterstore"),
        (vec!["SUNIONSTORE", "d"], "sunionstore"),
        (vec!["SDIFFSTORE", "d"], "sdiffstore"),
        (vec!["SSCAN", "k"], "sscan"),
    ] {
        assert_eq!(
            q_err(c, &cmd),
            format!("ERR wrong number of arguments for '{name}' command"),
            "{cmd:?}"
        );
    }
}

fn binary(c: &mut Connection) {
    let key: &[u8] = b"bin\x00set\r\n";
    let m1: &[u8] = b"m\x00\r\n1";
    let m2: &[u8] = b"\xff\x00";
    assert_eq!(qb::<i64>(c, &[b"SADD", key, m1, m2, b""]), 3);
    assert_eq!(qb::<i64>(c, &[b"SISMEMBER", key, m1]), 1);
    assert_eq!(qb::<i64>(c, &[b"SISMEMBER", key, b"m"]), 0);
    let mut all: Vec<Vec<u8>> = qb(c, &[b"SMEMBERS", key]);
    all.sort();
    assert_eq!(all, vec![b"".to_vec(), m1.to_vec(), m2.to_vec()]);
    assert_eq!(qb::<i64>(c, &[b"SREM", key, m2, b""]), 2);
    assert_eq!(
        qb::<Vec<Vec<u8>>>(c, &[b"SMEMBERS", key]),
        vec![m1.to_vec()]
    );
    assert_eq!(qb::<Vec<u8>>(c, &[b"SPOP", key]), m1);
    assert_eq!(qb::<i64>(c, &[b"EXISTS", key]), 0);
}

fn expiry(c: &mut Connection) {
    q::<i64>(c, &["SADD", "sexp", "old1", "old2"]);
    assert_eq!(q::<i64>(c, &["PEXPIRE", "sexp", "100"]), 1);
    q::<i64>(c, &["SADD", "sexp", "old3"]);
    q::<i64>(c, &["SREM", "sexp", "old3"]);
    assert!(q::<i64>(c, &["PTTL", "sexp"]) > 0);
    thread::sleep(Duration::from_millis(200));
    assert_eq!(q::<i64>(c, &["EXISTS", "sexp"]), 0);
    assert_eq!(q::<i64>(c, &["SCARD", "sexp"]), 0);
    assert_eq!(q::<i64>(c, &["SISMEMBER", "sexp", "old1"]), 0);
    assert!(q::<Vec<String>>(c, &["SMEMBERS", "sexp"]).is_empty());
    assert_eq!(q::<Option<String>>(c, &["SPOP", "sexp"]), None);
    assert!(q::<Vec<String>>(c, &["SINTER", "sexp"]).is_empty());
    assert_eq!(q::<i64>(c, &["SMOVE", "sexp", "other", "old1"]), 0);
    // A write after expiry starts a fresh set.
    assert_eq!(q::<i64>(c, &["SADD", "sexp", "new"]), 1);
    assert_eq!(members(c, "sexp"), strs(&["new"]));
    assert_eq!(q::<i64>(c, &["TTL", "sexp"]), -1);
}

fn transactions(c: &mut Connection) {
    let (a, b, card): (i64, i64, i64) = redis::pipe()
        .atomic()
        .cmd("SADD")
        .arg("{t}x")
        .arg("1")
        .arg("2")
        .cmd("SUNIONSTORE")
        .arg("{t}y")
        .arg("{t}x")
        .cmd("SCARD")
        .arg("{t}y")
        .query(c)
        .unwrap();
    assert_eq!((a, b, card), (2, 2, 2));
}

#[test]
fn set_commands() {
    let s = Server::start();
    let mut c = s.client();
    let mut raw = s.raw();
    add_rem_card(&mut c);
    pop_and_random(&mut c, &mut raw);
    smove(&mut c);
    algebra(&mut c, &mut raw);
    big_set(&mut c);
    wrongtype(&mut c);
    arity(&mut c);
    binary(&mut c);
    expiry(&mut c);
    transactions(&mut c);
}
