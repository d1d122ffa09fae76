//! Keyspace commands and expiry against the real binary.

mod common;

use std::collections::{HashMap, HashSet};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{q, q_err, Server};

fn mset_many(c: &mut redis::Connection, prefix: &str, n: usize) {
    let mut cmd = redis::cmd("MSET");
    for i in 0..n {
        cmd.arg(format!("{prefix}{i}")).arg(format!("v{i}"));
    }
    let _: () = cmd.query(c).unwrap();
}

/// Full SCAN iteration; returns every key returned (with repeats) and the
/// number of calls.
fn scan_all(c: &mut redis::Connection, extra: &[&str]) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    let mut calls = 0;
    loop {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(&cursor);
        for a in extra {
            cmd.arg(*a);
        }
        let (next, batch): (String, Vec<String>) = cmd.query(c).unwrap();
        calls += 1;
        assert!(calls < 10_000, "SCAN does not terminate");
        keys.extend(batch);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    (keys, calls)
}

#[test]
fn del_exists_type_unlink() {
    let s = Server::start();
    let mut c = s.client();

    q::<()>(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]), 1);
    // Each argument counts, repeats included.
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a", "a", "b", "nokey"]), 3);
    assert_eq!(q::<String>(&mut c, &["TYPE", "a"]), "string");
    assert_eq!(q::<String>(&mut c, &["TYPE", "nokey"]), "none");

    assert_eq!(q::<i64>(&mut c, &["DEL", "a", "b", "nokey"]), 2);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a", "b"]), 0);
    assert_eq!(q::<i64>(&mut c, &["DEL", "a"]), 0);
    assert_eq!(q::<String>(&mut c, &["TYPE", "a"]), "none");
    assert_eq!(q::<i64>(&mut c, &["UNLINK", "c", "c"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "c"]), 0);
    assert_eq!(
        q_err(&mut c, &["DEL"]),
        "ERR wrong number of arguments for 'del' command"
    );
    assert_eq!(
        q_err(&mut c, &["EXISTS"]),
        "ERR wrong number of arguments for 'exists' command"
    );

    // A deleted key can be written again, without the old TTL.
    q::<()>(&mut c, &["SET", "t", "1", "EX", "100"]);
    q::<i64>(&mut c, &["DEL", "t"]);
    q::<()>(&mut c, &["SET", "t", "2"]);
    assert_eq!(q::<i64>(&mut c, &["TTL", "t"]), -1);
    assert_eq!(q::<String>(&mut c, &["GET", "t"]), "2");
}

#[test]
fn rename_renamenx_copy() {
    let s = Server::start();
    let mut c = s.client();

    assert_eq!(q_err(&mut c, &["RENAME", "nokey", "x"]), "ERR no such key");
    assert_eq!(
        q_err(&mut c, &["RENAMENX", "nokey", "x"]),
        "ERR no such key"
    );

    q::<()>(&mut c, &["SET", "a", "1", "EX", "100"]);
    assert_eq!(q::<String>(&mut c, &["RENAME", "a", "a"]), "OK");
    assert_eq!(q::<String>(&mut c, &["GET", "a"]), "1");
    assert_eq!(q::<String>(&mut c, &["RENAME", "a", "b"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "b"]), "1");
    // The TTL moves with the value.
    let ttl = q::<i64>(&mut c, &["TTL", "b"]);
    assert!((99..=100).contains(&ttl), "TTL after RENAME: {ttl}");
    // RENAME overwrites (and drops the destination's TTL).
    q::<()>(&mut c, &["SET", "c", "3"]);
    q::<()>(&mut c, &["SET", "d", "4", "EX", "100"]);
    assert_eq!(q::<String>(&mut c, &["RENAME", "c", "d"]), "OK");
    assert_eq!(q::<String>(&mut c, &["GET", "d"]), "3");
    assert_eq!(q::<i64>(&mut c, &["TTL", "d"]), -1);

    assert_eq!(q::<i64>(&mut c, &["RENAMENX", "b", "d"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "b"]), "1");
    assert_eq!(q::<i64>(&mut c, &["RENAMENX", "b", "e"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "b"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "e"]), "1");

    // COPY.
    assert_eq!(q::<i64>(&mut c, &["COPY", "e", "f"]), 1);
    assert_eq!(q::<String>(&mut c, &["GET", "e"]), "1");
    assert_eq!(q::<String>(&mut c, &["GET", "f"]), "1");
    let ttl = q::<i64>(&mut c, &["TTL", "f"]);
    assert!((98..=100).contains(&ttl), "COPY keeps the TTL: {ttl}");
    q::<()>(&mut c, &["SET", "g", "old"]);
    assert_eq!(q::<i64>(&mut c, &["COPY", "e", "g"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "g"]), "old");
    assert_eq!(q::<i64>(&mut c, &["COPY", "e", "g", "REPLACE"]), 1);
    assert_eq!(q::<String>(&mut c, &["GET", "g"]), "1");
    assert_eq!(q::<i64>(&mut c, &["COPY", "nokey", "h"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "h"]), 0);
    assert_eq!(
        q_err(&mut c, &["COPY", "e", "e"]),
        "ERR source and destination objects are the same"
    );
    // The copy is independent of the source.
    q::<()>(&mut c, &["SET", "e", "changed"]);
    assert_eq!(q::<String>(&mut c, &["GET", "f"]), "1");
}

#[test]
fn keys_patterns_dbsize_flushdb_randomkey() {
    let s = Server::start();
    let mut c = s.client();

    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    assert_eq!(q::<Option<String>>(&mut c, &["RANDOMKEY"]), None);
    assert!(q::<Vec<String>>(&mut c, &["KEYS", "*"]).is_empty());

    for k in [
        "hello", "hallo", "hxllo", "hllo", "heeeello", "other", "h*llo",
    ] {
        q::<()>(&mut c, &["SET", k, "1"]);
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let keys = |c: &mut redis::Connection, p: &str| sorted(q::<Vec<String>>(c, &["KEYS", p]));
    assert_eq!(
        keys(&mut c, "*"),
        ["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "other"]
    );
    assert_eq!(keys(&mut c, "h?llo"), ["h*llo", "hallo", "hello", "hxllo"]);
    assert_eq!(
        keys(&mut c, "h*llo"),
        ["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]
    );
    assert_eq!(keys(&mut c, "h[ae]llo"), ["hallo", "hello"]);
    assert_eq!(keys(&mut c, "h[^e]llo"), ["h*llo", "hallo", "hxllo"]);
    assert_eq!(keys(&mut c, "h[a-b]llo"), ["hallo"]);
    assert_eq!(keys(&mut c, "h\\*llo"), ["h*llo"]);
    assert_eq!(keys(&mut c, "other"), ["other"]);
    assert!(keys(&mut c, "nomatch*").is_empty());

    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 7);
    let all: HashSet<String> = keys(&mut c, "*").into_iter().collect();
    for _ in 0..20 {
        let k: String = q(&mut c, &["RANDOMKEY"]);
        assert!(all.contains(&k), "RANDOMKEY returned unknown key {k}");
    }

    assert_eq!(q::<String>(&mut c, &["FLUSHDB"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    assert!(keys(&mut c, "*").is_empty());
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "hello"]), None);
    q::<()>(&mut c, &["SET", "after", "1"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 1);
    assert_eq!(q::<String>(&mut c, &["FLUSHALL"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
}

#[test]
fn scan_full_iteration_returns_each_key_once() {
    let s = Server::start();
    let mut c = s.client();
    let n = 2000;
    mset_many(&mut c, "key:", n);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), n as i64);

    let (keys, calls) = scan_all(&mut c, &["COUNT", "100"]);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for k in &keys {
        *counts.entry(k.as_str()).or_default() += 1;
    }
    let dup: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dup.is_empty(), "keys returned more than once: {dup:?}");
    assert_eq!(keys.len(), n, "SCAN returned {} keys", keys.len());
    for i in 0..n {
        assert!(
            counts.contains_key(format!("key:{i}").as_str()),
            "key:{i} missing"
        );
    }
    // COUNT is a hint, but 2000 keys in one or two replies means it was
    // ignored.
    assert!(
        calls >= 10,
        "COUNT 100 over 2000 keys took only {calls} calls"
    );

    // MATCH filters; every match is returned exactly once.
    let (matched, _) = scan_all(&mut c, &["MATCH", "key:1*", "COUNT", "100"]);
    let expected: HashSet<String> = (0..n)
        .map(|i| format!("key:{i}"))
        .filter(|k| k.starts_with("key:1"))
        .collect();
    assert_eq!(matched.len(), expected.len());
    assert_eq!(matched.into_iter().collect::<HashSet<_>>(), expected);

    // TYPE filter.
    let (typed, _) = scan_all(&mut c, &["COUNT", "500", "TYPE", "string"]);
    assert_eq!(typed.len(), n);

    // Deleted keys are not returned.
    let mut del = redis::cmd("DEL");
    for i in 0..1000 {
        del.arg(format!("key:{i}"));
    }
    let deleted: i64 = del.query(&mut c).unwrap();
    assert_eq!(deleted, 1000);
    let (rest, _) = scan_all(&mut c, &["COUNT", "100"]);
    let rest: HashSet<String> = rest.into_iter().collect();
    let expected: HashSet<String> = (1000..n).map(|i| format!("key:{i}")).collect();
    assert_eq!(rest, expected);

    assert_eq!(
        q_err(&mut c, &["SCAN", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(q_err(&mut c, &["SCAN", "0", "FOO"]), "ERR syntax error");
}

#[test]
fn ttl_expire_persist() {
    let s = Server::start();
    let mut c = s.client();

    assert_eq!(q::<i64>(&mut c, &["TTL", "nokey"]), -2);
    assert_eq!(q::<i64>(&mut c, &["PTTL", "nokey"]), -2);
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "nokey"]), -2);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "nokey"]), -2);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "nokey", "10"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PERSIST", "nokey"]), 0);

    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), -1);
    assert_eq!(q::<i64>(&mut c, &["PTTL", "k"]), -1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "k"]), -1);
    assert_eq!(q::<i64>(&mut c, &["PERSIST", "k"]), 0);

    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "100"]), 1);
    let ttl = q::<i64>(&mut c, &["TTL", "k"]);
    assert!((99..=100).contains(&ttl), "{ttl}");
    let pttl = q::<i64>(&mut c, &["PTTL", "k"]);
    assert!((98_000..=100_000).contains(&pttl), "{pttl}");
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "k", "50000"]), 1);
    let pttl = q::<i64>(&mut c, &["PTTL", "k"]);
    assert!((48_000..=50_000).contains(&pttl), "{pttl}");
    assert_eq!(q::<i64>(&mut c, &["PERSIST", "k"]), 1);
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), -1);

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let at = now.as_secs() + 1000;
    assert_eq!(q::<i64>(&mut c, &["EXPIREAT", "k", &at.to_string()]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "k"]), at as i64);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "k"]), at as i64 * 1000);
    let pat = now.as_millis() as i64 + 2_000_123;
    assert_eq!(q::<i64>(&mut c, &["PEXPIREAT", "k", &pat.to_string()]), 1);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "k"]), pat);
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "k"]), pat / 1000);

    // A TTL not in the future deletes the key.
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "-1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(q::<i64>(&mut c, &["EXPIREAT", "k", "1"]), 1);
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "k"]), None);
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "k", "0"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);

    assert_eq!(
        q_err(&mut c, &["EXPIRE", "k", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        q_err(&mut c, &["EXPIRE", "k"]),
        "ERR wrong number of arguments for 'expire' command"
    );
}

#[test]
fn expire_nx_xx_gt_lt() {
    let s = Server::start();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "x", "1"]);

    // No TTL yet.
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "x", "100", "XX"]), 0);
    assert_eq!(q::<i64>(&mut c, &["TTL", "x"]), -1);
    // A key without TTL counts as infinite: GT fails, LT succeeds.
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "x", "100", "GT"]), 0);
    assert_eq!(q::<i64>(&mut c, &["TTL", "x"]), -1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "x", "100", "NX"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "x", "50", "NX"]), 0);
    let ttl = q::<i64>(&mut c, &["TTL", "x"]);
    assert!((99..=100).contains(&ttl), "{ttl}");
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "x", "200", "XX"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "x", "100", "GT"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "x", "300", "GT"]), 1);
    let ttl = q::<i64>(&mut c, &["TTL", "x"]);
    assert!((299..=300).contains(&ttl), "{ttl}");
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "x", "400", "LT"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "x", "50", "lt"]), 1);
    let ttl = q::<i64>(&mut c, &["TTL", "x"]);
    assert!((49..=50).contains(&ttl), "{ttl}");
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "x", "60000", "GT"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "x", "1000", "NX"]), 0);
    q::<i64>(&mut c, &["PERSIST", "x"]);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "x", "10", "LT"]), 1);
    let ttl = q::<i64>(&mut c, &["TTL", "x"]);
    assert!((9..=10).contains(&ttl), "{ttl}");
    let far = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 5000;
    assert_eq!(
        q::<i64>(&mut c, &["EXPIREAT", "x", &far.to_string(), "GT"]),
        1
    );
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "x"]), far as i64);

    let nx_xx = "ERR NX and XX, GT or LT options at the same time are not compatible";
    assert_eq!(q_err(&mut c, &["EXPIRE", "x", "10", "NX", "XX"]), nx_xx);
    assert_eq!(q_err(&mut c, &["EXPIRE", "x", "10", "NX", "GT"]), nx_xx);
    assert_eq!(
        q_err(&mut c, &["EXPIRE", "x", "10", "GT", "LT"]),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        q_err(&mut c, &["EXPIRE", "x", "10", "FOO"]),
        "ERR Unsupported option FOO"
    );
}

#[test]
fn keys_expire_for_real() {
    let s = Server::start();
    let mut c = s.client();

    q::<()>(&mut c, &["SET", "px", "v", "PX", "100"]);
    q::<()>(&mut c, &["SET", "keep", "v"]);
    q::<()>(&mut c, &["SET", "pexp", "v"]);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "pexp", "150"]), 1);
    assert_eq!(q::<String>(&mut c, &["GET", "px"]), "v");
    let pttl = q::<i64>(&mut c, &["PTTL", "px"]);
    assert!((1..=100).contains(&pttl), "{pttl}");
    thread::sleep(Duration::from_millis(300));

    for k in ["px", "pexp"] {
        assert_eq!(q::<Option<String>>(&mut c, &["GET", k]), None, "{k}");
        assert_eq!(q::<i64>(&mut c, &["EXISTS", k]), 0, "{k}");
        assert_eq!(q::<i64>(&mut c, &["TTL", k]), -2, "{k}");
        assert_eq!(q::<String>(&mut c, &["TYPE", k]), "none", "{k}");
    }
    assert_eq!(
        q::<Vec<String>>(&mut c, &["KEYS", "*"]),
        vec!["keep".to_string()]
    );
    let (scanned, _) = scan_all(&mut c, &[]);
    assert_eq!(scanned, vec!["keep".to_string()]);
    // Expired keys behave as absent for writes too.
    assert_eq!(q::<i64>(&mut c, &["SETNX", "px", "new"]), 1);
    assert_eq!(q::<i64>(&mut c, &["TTL", "px"]), -1);
    assert_eq!(q::<i64>(&mut c, &["INCR", "pexp"]), 1);
    assert_eq!(q_err(&mut c, &["RENAME", "gone", "x"]), "ERR no such key");
}

#[test]
fn move_is_a_no_op_with_one_keyspace() {
    let s = Server::start();
    let mut c = s.client();
    q::<String>(&mut c, &["SET", "k", "v"]);
    // kvrocks: every DB index is the one keyspace; 1 when the key exists.
    assert_eq!(q::<i64>(&mut c, &["MOVE", "k", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["MOVE", "k", "0"]), 1);
    assert_eq!(q::<i64>(&mut c, &["MOVE", "missing", "1"]), 0);
    assert_eq!(
        q_err(&mut c, &["MOVE", "k", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
}

#[test]
fn movex_moves_a_key_between_namespaces() {
    let s = Server::start_with_config_file(
        "requirepass admin-pass\nnamespace.ns1 token-one\nnamespace.ns2 token-two\n",
    );
    let mut admin = s.client_auth("admin-pass");
    let mut one = s.client_auth("token-one");
    let mut two = s.client_auth("token-two");

    q::<String>(&mut one, &["SET", "k", "from-one", "EX", "1000"]);
    q::<String>(&mut two, &["SET", "taken", "two's"]);
    q::<String>(&mut one, &["SET", "taken", "one's"]);

    assert_eq!(q::<i64>(&mut one, &["MOVEX", "k", "token-two"]), 1);
    assert_eq!(q::<i64>(&mut one, &["EXISTS", "k"]), 0);
    assert_eq!(q::<String>(&mut two, &["GET", "k"]), "from-one");
    let ttl = q::<i64>(&mut two, &["TTL", "k"]);
    assert!((990..=1000).contains(&ttl), "TTL moves with the key: {ttl}");
    // The target has the key already: nothing moves.
    assert_eq!(q::<i64>(&mut one, &["MOVEX", "taken", "token-two"]), 0);
    assert_eq!(q::<String>(&mut one, &["GET", "taken"]), "one's");
    assert_eq!(q::<String>(&mut two, &["GET", "taken"]), "two's");
    // Missing key, own namespace.
    assert_eq!(q::<i64>(&mut one, &["MOVEX", "nothing", "token-two"]), 0);
    assert_eq!(q::<i64>(&mut one, &["MOVEX", "taken", "token-one"]), 0);
    // The administrator's token names the default namespace.
    assert_eq!(q::<i64>(&mut two, &["MOVEX", "k", "admin-pass"]), 1);
    assert_eq!(q::<String>(&mut admin, &["GET", "k"]), "from-one");
    assert_eq!(q::<i64>(&mut admin, &["MOVEX", "k", "token-one"]), 1);
    assert_eq!(q::<String>(&mut one, &["GET", "k"]), "from-one");
    assert_eq!(
        q_err(&mut one, &["MOVEX", "k", "wrong-token"]),
        "ERR Invalid password"
    );

    let open = Server::start();
    let mut c = open.client();
    q::<String>(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        q_err(&mut c, &["MOVEX", "k", "anything"]),
        "ERR Forbidden to move key when requirepass is empty"
    );
}
