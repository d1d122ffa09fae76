//! Hash commands against the real binary, checked against Redis 7 replies
//! (and kvrocks's HRANGEBYLEX). One server for the whole file: every case
//! runs in turn inside one test, on its own keys.

mod common;

use std::collections::{HashMap, HashSet};
use std::thread;
use std::time::Duration;

use common::{q, q_err, Raw, Server};
use redis::Connection;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
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

fn set_get_del(c: &mut Connection) {
    assert_eq!(q::<i64>(c, &["HSET", "h1", "a", "1", "b", "2"]), 2);
    assert_eq!(q::<i64>(c, &["HSET", "h1", "a", "10", "c", "3"]), 1);
    assert_eq!(q::<String>(c, &["HGET", "h1", "a"]), "10");
    assert_eq!(q::<Option<String>>(c, &["HGET", "h1", "zz"]), None);
    assert_eq!(q::<Option<String>>(c, &["HGET", "nohash", "a"]), None);
    assert_eq!(q::<i64>(c, &["HLEN", "h1"]), 3);
    assert_eq!(q::<i64>(c, &["HLEN", "nohash"]), 0);
    // A field repeated in one HSET counts once and keeps the last value.
    assert_eq!(q::<i64>(c, &["HSET", "h1", "d", "x", "d", "y"]), 1);
    assert_eq!(q::<String>(c, &["HGET", "h1", "d"]), "y");
    assert_eq!(q::<i64>(c, &["HLEN", "h1"]), 4);
    // HSETNX only creates.
    assert_eq!(q::<i64>(c, &["HSETNX", "h1", "a", "nope"]), 0);
    assert_eq!(q::<String>(c, &["HGET", "h1", "a"]), "10");
    assert_eq!(q::<i64>(c, &["HSETNX", "h1", "e", "5"]), 1);
    assert_eq!(q::<i64>(c, &["HSETNX", "newnx", "f", "v"]), 1);
    assert_eq!(q::<String>(c, &["HGET", "newnx", "f"]), "v");
    // HMSET replies OK.
    assert_eq!(q::<String>(c, &["HMSET", "h1", "f", "6", "a", "11"]), "OK");
    assert_eq!(
        q::<Vec<Option<String>>>(c, &["HMGET", "h1", "a", "zz", "f"]),
        vec![Some("11".into()), None, Some("6".into())]
    );
    assert_eq!(
        q::<Vec<Option<String>>>(c, &["HMGET", "nohash", "a", "b"]),
        vec![None, None]
    );
    assert_eq!(q::<i64>(c, &["HEXISTS", "h1", "a"]), 1);
    assert_eq!(q::<i64>(c, &["HEXISTS", "h1", "zz"]), 0);
    assert_eq!(q::<i64>(c, &["HEXISTS", "nohash", "a"]), 0);
    assert_eq!(q::<i64>(c, &["HSTRLEN", "h1", "a"]), 2);
    assert_eq!(q::<i64>(c, &["HSTRLEN", "h1", "zz"]), 0);
    assert_eq!(q::<i64>(c, &["HSTRLEN", "nohash", "zz"]), 0);
    // HDEL counts fields that existed, repeats once.
    assert_eq!(q::<i64>(c, &["HDEL", "h1", "a", "a", "zz", "b"]), 2);
    assert_eq!(q::<i64>(c, &["HDEL", "nohash", "a"]), 0);
    assert_eq!(q::<i64>(c, &["HLEN", "h1"]), 4);
    assert_eq!(sorted(q(c, &["HKEYS", "h1"])), strs(&["c", "d", "e", "f"]));
    // Deleting the last field deletes the key.
    assert_eq!(q::<i64>(c, &["HDEL", "h1", "c", "d", "e", "f"]), 4);
    assert_eq!(q::<i64>(c, &["EXISTS", "h1"]), 0);
    assert_eq!(q::<String>(c, &["TYPE", "h1"]), "none");
    assert_eq!(q::<i64>(c, &["HLEN", "h1"]), 0);
    // A new hash under the same name starts empty.
    assert_eq!(q::<i64>(c, &["HSET", "h1", "z", "1"]), 1);
    assert_eq!(q::<Vec<String>>(c, &["HKEYS", "h1"]), strs(&["z"]));
    assert_eq!(q::<String>(c, &["TYPE", "h1"]), "hash");
    // An empty value is a value.
    assert_eq!(q::<i64>(c, &["HSET", "h1", "empty", ""]), 1);
    assert_eq!(q::<i64>(c, &["HEXISTS", "h1", "empty"]), 1);
    assert_eq!(
        q::<Option<String>>(c, &["HGET", "h1", "empty"]),
        Some("".into())
    );
}

fn getall_keys_vals(c: &mut Connection) {
    q::<i64>(c, &["HSET", "ga", "k1", "v1", "k2", "v2", "k3", "v3"]);
    let all: HashMap<String, String> = q(c, &["HGETALL", "ga"]);
    assert_eq!(all.len(), 3);
    assert_eq!(all["k2"], "v2");
    assert_eq!(sorted(q(c, &["HKEYS", "ga"])), strs(&["k1", "k2", "k3"]));
    assert_eq!(sorted(q(c, &["HVALS", "ga"])), strs(&["v1", "v2", "v3"]));
    // HKEYS and HVALS come in the same order.
    let keys: Vec<String> = q(c, &["HKEYS", "ga"]);
    let vals: Vec<String> = q(c, &["HVALS", "ga"]);
    for (k, v) in keys.iter().zip(&vals) {
        assert_eq!(&all[k], v);
    }
    assert!(q::<HashMap<String, String>>(c, &["HGETALL", "nohash"]).is_empty());
    assert!(q::<Vec<String>>(c, &["HKEYS", "nohash"]).is_empty());
    assert!(q::<Vec<String>>(c, &["HVALS", "nohash"]).is_empty());
}

fn incr(c: &mut Connection) {
    assert_eq!(q::<i64>(c, &["HINCRBY", "hi", "n", "5"]), 5);
    assert_eq!(q::<i64>(c, &["HINCRBY", "hi", "n", "-7"]), -2);
    assert_eq!(q::<String>(c, &["HGET", "hi", "n"]), "-2");
    q::<i64>(
        c,
        &[
            "HSET",
            "hi",
            "max",
            "9223372036854775807",
            "s",
            "abc",
            "sp",
            " 1",
        ],
    );
    assert_eq!(
        q_err(c, &["HINCRBY", "hi", "max", "1"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        q::<String>(c, &["HGET", "hi", "max"]),
        "9223372036854775807"
    );
    assert_eq!(
        q_err(c, &["HINCRBY", "hi", "s", "1"]),
        "ERR hash value is not an integer"
    );
    assert_eq!(
        q_err(c, &["HINCRBY", "hi", "sp", "1"]),
        "ERR hash value is not an integer"
    );
    assert_eq!(q_err(c, &["HINCRBY", "hi", "n", "1.5"]), NOT_INT);
    assert_eq!(q_err(c, &["HINCRBY", "hi", "n", "x"]), NOT_INT);
    // Floats, formatted like Redis's long double arithmetic.
    assert_eq!(q::<String>(c, &["HINCRBYFLOAT", "hf", "f", "10.5"]), "10.5");
    assert_eq!(q::<String>(c, &["HINCRBYFLOAT", "hf", "f", "0.1"]), "10.6");
    assert_eq!(q::<String>(c, &["HINCRBYFLOAT", "hf", "f", "-10.6"]), "0");
    assert_eq!(
        q::<String>(c, &["HINCRBYFLOAT", "hf", "e", "5.0e3"]),
        "5000"
    );
    assert_eq!(q::<String>(c, &["HINCRBYFLOAT", "hi", "n", "1.5"]), "-0.5");
    assert_eq!(
        q::<String>(c, &["HINCRBYFLOAT", "hi", "max", "1.5"]),
        "9223372036854775808"
    );
    q::<i64>(
        c,
        &["HSET", "hf", "big", "99999999999999999999", "inf", "inf"],
    );
    assert_eq!(
        q::<String>(c, &["HINCRBYFLOAT", "hf", "big", "1"]),
        "100000000000000000000"
    );
    assert_eq!(
        q_err(c, &["HINCRBYFLOAT", "hi", "s", "1"]),
        "ERR hash value is not a float"
    );
    assert_eq!(
        q_err(c, &["HINCRBYFLOAT", "hi", "sp", "1"]),
        "ERR hash value is not a float"
    );
    assert_eq!(
        q_err(c, &["HINCRBYFLOAT", "hf", "inf", "1"]),
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(
        q_err(c, &["HINCRBYFLOAT", "hf", "f", "abc"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        q_err(c, &["HINCRBYFLOAT", "hf", "f", "nan"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        q_err(c, &["HINCRBYFLOAT", "hf", "f", "inf"]),
        "ERR value is NaN or Infinity"
    );
    // The increment is checked before the key's type.
    q::<String>(c, &["SET", "hstr", "x"]);
    assert_eq!(
        q_err(c, &["HINCRBYFLOAT", "hstr", "f", "x"]),
        "ERR value is not a valid float"
    );
    assert_eq!(q_err(c, &["HINCRBY", "hstr", "f", "x"]), NOT_INT);
    assert_eq!(q_err(c, &["HINCRBYFLOAT", "hstr", "f", "1"]), WRONGTYPE);
    assert_eq!(q_err(c, &["HINCRBY", "hstr", "f", "1"]), WRONGTYPE);
    // Failed increments leave the hash alone.
    assert_eq!(q::<i64>(c, &["HLEN", "hi"]), 4);
}

fn scan_big(c: &mut Connection) {
    // 20k fields written in batches.
    let n = 20_000;
    for start in (0..n).step_by(1000) {
        let mut cmd = redis::cmd("HSET");
        cmd.arg("big");
        for i in start..start + 1000 {
            cmd.arg(format!("field:{i}")).arg(format!("value:{i}"));
        }
        let added: i64 = cmd.query(c).unwrap();
        assert_eq!(added, 1000);
    }
    assert_eq!(q::<i64>(c, &["HLEN", "big"]), n);
    // HSCAN pages through every field exactly once.
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut cursor = "0".to_string();
    let mut pages = 0;
    loop {
        let (next, items): (String, Vec<String>) = q(c, &["HSCAN", "big", &cursor, "COUNT", "500"]);
        assert_eq!(items.len() % 2, 0);
        for pair in items.chunks(2) {
            assert!(
                seen.insert(pair[0].clone(), pair[1].clone()).is_none(),
                "{} returned twice",
                pair[0]
            );
        }
        pages += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
        assert!(pages < 1000, "HSCAN does not end");
    }
    assert!(pages >= 40, "COUNT 500 over 20k fields took {pages} pages");
    assert_eq!(seen.len(), n as usize);
    for i in (0..n).step_by(997) {
        assert_eq!(seen[&format!("field:{i}")], format!("value:{i}"));
    }
    // MATCH filters, and the pages still cover the whole hash.
    let mut matched = HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, items): (String, Vec<String>) = q(
            c,
            &[
                "HSCAN",
                "big",
                &cursor,
                "MATCH",
                "field:1999*",
                "COUNT",
                "1000",
            ],
        );
        for pair in items.chunks(2) {
            matched.insert(pair[0].clone());
        }
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    let want: HashSet<String> = ["field:1999".to_string()]
        .into_iter()
        .chain((0..10).map(|i| format!("field:1999{i}")))
        .collect();
    assert_eq!(matched, want);
    // HSCAN of a missing key, and cursor and option errors.
    let (next, items): (String, Vec<String>) = q(c, &["HSCAN", "nohash", "0"]);
    assert_eq!((next.as_str(), items.len()), ("0", 0));
    assert_eq!(q_err(c, &["HSCAN", "big", "x"]), "ERR invalid cursor");
    assert_eq!(q_err(c, &["HSCAN", "nohash", "x"]), "ERR invalid cursor");
    assert_eq!(q_err(c, &["HSCAN", "big", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(q_err(c, &["HSCAN", "big", "0", "FOO", "1"]), SYNTAX);
    // A missing key ignores bad options, as in Redis.
    let (next, _): (String, Vec<String>) = q(c, &["HSCAN", "nohash", "0", "COUNT", "0"]);
    assert_eq!(next, "0");

    // Random picks on a big hash stay distinct and spread out.
    let picked: Vec<String> = q(c, &["HRANDFIELD", "big", "300"]);
    assert_eq!(picked.len(), 300);
    assert_eq!(picked.iter().collect::<HashSet<_>>().len(), 300);
    let picks: Vec<String> = q(c, &["HRANDFIELD", "big", "-400"]);
    assert_eq!(picks.len(), 400);
    let distinct: HashSet<&String> = picks.iter().collect();
    assert!(
        distinct.len() > 200,
        "only {} distinct of 400",
        distinct.len()
    );
    for f in &picks {
        assert!(f.starts_with("field:"));
    }
    let first: HashSet<String> = q::<Vec<String>>(c, &["HRANDFIELD", "big", "20"])
        .into_iter()
        .collect();
    let second: HashSet<String> = q::<Vec<String>>(c, &["HRANDFIELD", "big", "20"])
        .into_iter()
        .collect();
    assert_ne!(first, second, "two random picks were the same");
    let one: String = q(c, &["HRANDFIELD", "big"]);
    assert!(one.starts_with("field:"));
    let wv: Vec<String> = q(c, &["HRANDFIELD", "big", "50", "WITHVALUES"]);
    assert_eq!(wv.len(), 100);
    for pair in wv.chunks(2) {
        assert_eq!(pair[1], pair[0].replace("field", "value"));
    }
    // Range reads on the big hash seek.
    let r: Vec<String> = q(c, &["HRANGEBYLEX", "big", "[field:19998", "(field:2"]);
    assert_eq!(
        r,
        strs(&["field:19998", "value:19998", "field:19999", "value:19999"])
    );
    assert_eq!(q::<i64>(c, &["DEL", "big"]), 1);
    assert_eq!(q::<i64>(c, &["HLEN", "big"]), 0);
    assert_eq!(q::<Option<String>>(c, &["HRANDFIELD", "big"]), None);
}

fn randfield(c: &mut Connection, raw: &mut Raw) {
    q::<i64>(c, &["HSET", "rf", "a", "1", "b", "2", "c", "3"]);
    for _ in 0..20 {
        let f: String = q(c, &["HRANDFIELD", "rf"]);
        assert!(["a", "b", "c"].contains(&f.as_str()));
    }
    // Positive count: distinct, at most the whole hash.
    let two: Vec<String> = q(c, &["HRANDFIELD", "rf", "2"]);
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    assert_eq!(
        sorted(q(c, &["HRANDFIELD", "rf", "10"])),
        strs(&["a", "b", "c"])
    );
    assert!(q::<Vec<String>>(c, &["HRANDFIELD", "rf", "0"]).is_empty());
    // Negative count: exactly that many, repeats allowed.
    let many: Vec<String> = q(c, &["HRANDFIELD", "rf", "-30"]);
    assert_eq!(many.len(), 30);
    let kinds: HashSet<&String> = many.iter().collect();
    assert_eq!(kinds.len(), 3, "30 picks of 3 fields: {many:?}");
    let wv: Vec<String> = q(c, &["HRANDFIELD", "rf", "-5", "WITHVALUES"]);
    assert_eq!(wv.len(), 10);
    for pair in wv.chunks(2) {
        let want = match pair[0].as_str() {
            "a" => "1",
            "b" => "2",
            _ => "3",
        };
        assert_eq!(pair[1], want);
    }
    let all: Vec<String> = q(c, &["HRANDFIELD", "rf", "3", "withvalues"]);
    assert_eq!(all.len(), 6);
    // Missing key.
    assert_eq!(q::<Option<String>>(c, &["HRANDFIELD", "nohash"]), None);
    assert!(q::<Vec<String>>(c, &["HRANDFIELD", "nohash", "5"]).is_empty());
    assert!(q::<Vec<String>>(c, &["HRANDFIELD", "nohash", "-5", "WITHVALUES"]).is_empty());
    // Errors.
    assert_eq!(q_err(c, &["HRANDFIELD", "rf", "1", "WITHVALUE"]), SYNTAX);
    assert_eq!(
        q_err(c, &["HRANDFIELD", "rf", "1", "WITHVALUES", "x"]),
        SYNTAX
    );
    assert_eq!(q_err(c, &["HRANDFIELD", "rf", "x"]), NOT_INT);
    assert_eq!(q_err(c, &["HRANDFIELD", "nohash", "x"]), NOT_INT);
    assert_eq!(
        q_err(c, &["HRANDFIELD", "rf", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        q_err(
            c,
            &["HRANDFIELD", "rf", "-4611686018427387904", "WITHVALUES"]
        ),
        "ERR value is out of range"
    );
    // Reply shapes: RESP2 flat, RESP3 pairs; no count is a bulk.
    assert_eq!(raw.cmd(&["HRANDFIELD", "rf", "0"]), "*0\r\n");
    let r2 = raw.cmd(&["HRANDFIELD", "rf", "-1", "WITHVALUES"]);
    assert!(r2.starts_with("*2\r\n$1\r\n"), "{r2:?}");
    raw.cmd(&["HELLO", "3"]);
    let r3 = raw.cmd(&["HRANDFIELD", "rf", "-2", "WITHVALUES"]);
    assert!(r3.starts_with("*2\r\n*2\r\n$1\r\n"), "{r3:?}");
    let r3 = raw.cmd(&["HRANDFIELD", "rf", "3"]);
    assert!(r3.starts_with("*3\r\n$1\r\n"), "{r3:?}");
    assert_eq!(raw.cmd(&["HRANDFIELD", "nohash"]), "_\r\n");
    raw.cmd(&["HELLO", "2"]);
    assert_eq!(raw.cmd(&["HRANDFIELD", "nohash"]), "$-1\r\n");
}

fn rangebylex(c: &mut Connection) {
    q::<i64>(
        c,
        &[
            "HSET", "lex", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5",
        ],
    );
    let r = |c: &mut Connection, args: &[&str]| -> Vec<String> {
        let mut full = vec!["HRANGEBYLEX", "lex"];
        full.extend_from_slice(args);
        q(c, &full)
    };
    assert_eq!(
        r(c, &["-", "+"]),
        strs(&["a", "1", "b", "2", "c", "3", "d", "4", "e", "5"])
    );
    assert_eq!(r(c, &["[b", "[d"]), strs(&["b", "2", "c", "3", "d", "4"]));
    assert_eq!(r(c, &["(b", "(d"]), strs(&["c", "3"]));
    assert_eq!(r(c, &["(b", "[d"]), strs(&["c", "3", "d", "4"]));
    assert_eq!(r(c, &["[bb", "+"]), strs(&["c", "3", "d", "4", "e", "5"]));
    assert_eq!(r(c, &["-", "(a"]), Vec::<String>::new());
    assert_eq!(r(c, &["[d", "[b"]), Vec::<String>::new());
    assert_eq!(r(c, &["+", "-"]), Vec::<String>::new());
    // REV: the first bound is the maximum.
    assert_eq!(
        r(c, &["+", "-", "REV"]),
        strs(&["e", "5", "d", "4", "c", "3", "b", "2", "a", "1"])
    );
    assert_eq!(r(c, &["[d", "(b", "REV"]), strs(&["d", "4", "c", "3"]));
    assert_eq!(r(c, &["(d", "[b", "rev"]), strs(&["c", "3", "b", "2"]));
    assert_eq!(
        r(c, &["[cc", "-", "REV"]),
        strs(&["c", "3", "b", "2", "a", "1"])
    );
    // LIMIT offset count.
    assert_eq!(
        r(c, &["-", "+", "LIMIT", "1", "2"]),
        strs(&["b", "2", "c", "3"])
    );
    assert_eq!(
        r(c, &["-", "+", "LIMIT", "3", "-1"]),
        strs(&["d", "4", "e", "5"])
    );
    assert_eq!(r(c, &["-", "+", "LIMIT", "0", "0"]), Vec::<String>::new());
    assert_eq!(r(c, &["-", "+", "LIMIT", "10", "5"]), Vec::<String>::new());
    assert_eq!(
        r(c, &["+", "-", "REV", "LIMIT", "1", "1"]),
        strs(&["d", "4"])
    );
    assert_eq!(
        r(c, &["+", "-", "LIMIT", "0", "2", "REV"]),
        strs(&["e", "5", "d", "4"])
    );
    // Missing key, errors.
    assert!(q::<Vec<String>>(c, &["HRANGEBYLEX", "nohash", "-", "+"]).is_empty());
    let bad = "ERR min or max not valid string range item";
    assert_eq!(q_err(c, &["HRANGEBYLEX", "lex", "a", "+"]), bad);
    assert_eq!(q_err(c, &["HRANGEBYLEX", "lex", "-", "b"]), bad);
    assert_eq!(q_err(c, &["HRANGEBYLEX", "lex", "-", ""]), bad);
    assert_eq!(
        q_err(c, &["HRANGEBYLEX", "lex", "-", "+", "LIMIT", "1"]),
        SYNTAX
    );
    assert_eq!(q_err(c, &["HRANGEBYLEX", "lex", "-", "+", "FOO"]), SYNTAX);
    assert_eq!(
        q_err(c, &["HRANGEBYLEX", "lex", "-", "+", "LIMIT", "x", "1"]),
        NOT_INT
    );
    assert_eq!(
        q_err(c, &["HRANGEBYLEX", "lex", "-"]),
        "ERR wrong number of arguments for 'hrangebylex' command"
    );
}

fn wrongtype(c: &mut Connection) {
    q::<String>(c, &["SET", "str", "x"]);
    q::<i64>(c, &["SADD", "aset", "m"]);
    for key in ["str", "aset"] {
        for cmd in [
            vec!["HSET", key, "f", "v"],
            vec!["HSETNX", key, "f", "v"],
            vec!["HMSET", key, "f", "v"],
            vec!["HGET", key, "f"],
            vec!["HMGET", key, "f"],
            vec!["HDEL", key, "f"],
            vec!["HEXISTS", key, "f"],
            vec!["HLEN", key],
            vec!["HSTRLEN", key, "f"],
            vec!["HINCRBY", key, "f", "1"],
            vec!["HINCRBYFLOAT", key, "f", "1"],
            vec!["HKEYS", key],
            vec!["HVALS", key],
            vec!["HGETALL", key],
            vec!["HSCAN", key, "0"],
            vec!["HRANDFIELD", key],
            vec!["HRANDFIELD", key, "2"],
            vec!["HRANGEBYLEX", key, "-", "+"],
        ] {
            assert_eq!(q_err(c, &cmd), WRONGTYPE, "{cmd:?}");
        }
    }
    // The string is untouched.
    assert_eq!(q::<String>(c, &["GET", "str"]), "x");
    // A hash is WRONGTYPE for strings.
    q::<i64>(c, &["HSET", "ahash", "f", "v"]);
    assert_eq!(q_err(c, &["GET", "ahash"]), WRONGTYPE);
    assert_eq!(q_err(c, &["SADD", "ahash", "m"]), WRONGTYPE);
    // SET replaces a hash.
    q::<String>(c, &["SET", "ahash", "s"]);
    assert_eq!(q::<String>(c, &["GET", "ahash"]), "s");
    assert_eq!(q_err(c, &["HGET", "ahash", "f"]), WRONGTYPE);
}

fn arity(c: &mut Connection) {
    for (cmd, name) in [
        (vec!["HSET", "k", "f"], "hset"),
        (vec!["HSET", "k", "f", "v", "g"], "hset"),
        (vec!["HMSET", "k", "f"], "hmset"),
        (vec!["HMSET", "k", "f", "v", "g"], "hmset"),
        (vec!["HSETNX", "k", "f"], "hsetnx"),
        (vec!["HGET", "k"], "hget"),
        (vec!["HMGET", "k"], "hmget"),
        (vec!["HDEL", "k"], "hdel"),
        (vec!["HLEN"], "hlen"),
        (vec!["HEXISTS", "k"], "hexists"),
        (vec!["HSTRLEN", "k"], "hstrlen"),
        (vec!["HINCRBY", "k", "f"], "hincrby"),
        (vec!["HINCRBYFLOAT", "k", "f"], "hincrbyfloat"),
        (vec!["HKEYS"], "hkeys"),
        (vec!["HGETALL", "k", "x"], "hgetall"),
        (vec!["HSCAN", "k"], "hscan"),
        (vec!["HRANDFIELD"], "hrandfield"),
    ] {
        assert_eq!(
            q_err(c, &cmd),
            format!("ERR wrong number of arguments for '{name}' command"),
            "{cmd:?}"
        );
    }
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
}

fn binary(c: &mut Connection) {
    let key: &[u8] = b"bin\x00key\r\n";
    let field: &[u8] = b"f\x00\r\nield";
    let value: &[u8] = b"\x00\xff\r\nvalue\x00";
    assert_eq!(
        qb::<i64>(c, &[b"HSET", key, field, value, b"", b"empty-field"]),
        2
    );
    assert_eq!(qb::<Vec<u8>>(c, &[b"HGET", key, field]), value);
    assert_eq!(qb::<Vec<u8>>(c, &[b"HGET", key, b""]), b"empty-field");
    assert_eq!(qb::<Option<Vec<u8>>>(c, &[b"HGET", key, b"f"]), None);
    assert_eq!(qb::<i64>(c, &[b"HSTRLEN", key, field]), value.len() as i64);
    let all: Vec<Vec<u8>> = qb(c, &[b"HGETALL", key]);
    assert_eq!(all.len(), 4);
    assert!(all.contains(&field.to_vec()) && all.contains(&value.to_vec()));
    // Fields that share a prefix with the key stay apart (a / bc vs ab / c).
    assert_eq!(qb::<i64>(c, &[b"HSET", b"a", b"bc", b"1"]), 1);
    assert_eq!(qb::<i64>(c, &[b"HSET", b"ab", b"c", b"2"]), 1);
    assert_eq!(
        qb::<Vec<Vec<u8>>>(c, &[b"HKEYS", b"a"]),
        vec![b"bc".to_vec()]
    );
    assert_eq!(
        qb::<Vec<Vec<u8>>>(c, &[b"HKEYS", b"ab"]),
        vec![b"c".to_vec()]
    );
    assert_eq!(qb::<i64>(c, &[b"HDEL", key, field, b""]), 2);
    assert_eq!(qb::<i64>(c, &[b"EXISTS", key]), 0);
}

fn expiry(c: &mut Connection) {
    q::<i64>(c, &["HSET", "exp", "old1", "1", "old2", "2"]);
    assert_eq!(q::<i64>(c, &["PEXPIRE", "exp", "100"]), 1);
    assert!(q::<i64>(c, &["PTTL", "exp"]) > 0);
    // Writes keep the TTL.
    q::<i64>(c, &["HSET", "exp", "old3", "3"]);
    q::<i64>(c, &["HINCRBY", "exp", "n", "1"]);
    q::<i64>(c, &["HDEL", "exp", "old3"]);
    assert!(q::<i64>(c, &["PTTL", "exp"]) > 0);
    thread::sleep(Duration::from_millis(200));
    assert_eq!(q::<i64>(c, &["EXISTS", "exp"]), 0);
    assert_eq!(q::<Option<String>>(c, &["HGET", "exp", "old1"]), None);
    assert_eq!(q::<i64>(c, &["HLEN", "exp"]), 0);
    assert!(q::<Vec<String>>(c, &["HKEYS", "exp"]).is_empty());
    assert_eq!(q::<i64>(c, &["HDEL", "exp", "old1"]), 0);
    // A write after expiry starts a fresh hash: the old fields are gone.
    assert_eq!(q::<i64>(c, &["HSET", "exp", "new", "x"]), 1);
    assert_eq!(q::<i64>(c, &["HLEN", "exp"]), 1);
    assert_eq!(q::<Vec<String>>(c, &["HKEYS", "exp"]), strs(&["new"]));
    assert_eq!(q::<i64>(c, &["TTL", "exp"]), -1);
    assert_eq!(q::<i64>(c, &["HINCRBY", "exp", "old1", "5"]), 5);
    // RENAME and COPY carry the fields.
    assert_eq!(q::<String>(c, &["RENAME", "exp", "exp2"]), "OK");
    assert_eq!(q::<i64>(c, &["COPY", "exp2", "exp3"]), 1);
    assert_eq!(q::<String>(c, &["HGET", "exp3", "new"]), "x");
    assert_eq!(q::<i64>(c, &["HLEN", "exp3"]), 2);
}

fn resp3_shapes(raw: &mut Raw) {
    raw.cmd(&["HSET", "r3", "f", "v"]);
    raw.cmd(&["HELLO", "3"]);
    assert_eq!(raw.cmd(&["HGETALL", "r3"]), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(raw.cmd(&["HGETALL", "nohash"]), "%0\r\n");
    assert_eq!(raw.cmd(&["HGET", "r3", "zz"]), "_\r\n");
    assert_eq!(
        raw.cmd(&["HMGET", "r3", "f", "zz"]),
        "*2\r\n$1\r\nv\r\n_\r\n"
    );
    assert_eq!(raw.cmd(&["HKEYS", "r3"]), "*1\r\n$1\r\nf\r\n");
    assert_eq!(
        raw.cmd(&["HINCRBYFLOAT", "r3", "n", "1.5"]),
        "$3\r\n1.5\r\n"
    );
    assert_eq!(raw.cmd(&["HEXISTS", "r3", "f"]), ":1\r\n");
    assert_eq!(
        raw.cmd(&["HSCAN", "r3", "0"]),
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nn\r\n$3\r\n1.5\r\n"
    );
    raw.cmd(&["HELLO", "2"]);
    assert_eq!(
        raw.cmd(&["HGETALL", "r3"]),
        "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nn\r\n$3\r\n1.5\r\n"
    );
    assert_eq!(raw.cmd(&["HGETALL", "nohash"]), "*0\r\n");
}

fn transactions(c: &mut Connection) {
    let (a, b, all): (i64, i64, HashMap<String, String>) = redis::pipe()
        .atomic()
        .cmd("HSET")
        .arg("tx")
        .arg("f")
        .arg("1")
        .cmd("HINCRBY")
        .arg("tx")
        .arg("f")
        .arg("2")
        .cmd("HGETALL")
        .arg("tx")
        .query(c)
        .unwrap();
    assert_eq!((a, b), (1, 3));
    assert_eq!(all["f"], "3");
}

#[test]
fn hash_commands() {
    let s = Server::start();
    let mut c = s.client();
    let mut raw = s.raw();
    set_get_del(&mut c);
    getall_keys_vals(&mut c);
    incr(&mut c);
    scan_big(&mut c);
    randfield(&mut c, &mut raw);
    rangebylex(&mut c);
    wrongtype(&mut c);
    arity(&mut c);
    binary(&mut c);
    expiry(&mut c);
    resp3_shapes(&mut raw);
    transactions(&mut c);
}
