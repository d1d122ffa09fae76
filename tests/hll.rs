//! HyperLogLog commands against the real binary: counts equal to what
//! redis-server 7.0 reports for the same elements (its registers and
//! estimator), PFMERGE, and Redis's errors.

mod common;

use common::{q, q_err, Server};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";

/// PFADDs `e{from}`..`e{to-1}` to `key` in commands of 1000 elements.
fn add_range(c: &mut redis::Connection, key: &str, prefix: &str, from: usize, to: usize) {
    let mut pipe = redis::pipe();
    let mut start = from;
    while start < to {
        let end = (start + 1000).min(to);
        let mut cmd = redis::cmd("PFADD");
        cmd.arg(key);
        for i in start..end {
            cmd.arg(format!("{prefix}{i}"));
        }
        pipe.add_command(cmd).ignore();
        start = end;
    }
    pipe.query::<()>(c).unwrap();
}

#[test]
fn counts_match_redis_server() {
    let s = Server::start();
    let mut c = s.client();
    // Counts redis-server 7.0.15 reported for the same elements.
    for (n, expected) in [
        (100usize, 100i64),
        (1000, 1008),
        (10_000, 9973),
        (100_000, 100_853),
    ] {
        let key = format!("h{n}");
        add_range(&mut c, &key, "e", 0, n);
        let got: i64 = q(&mut c, &["PFCOUNT", &key]);
        assert_eq!(got, expected, "PFCOUNT of {n} elements");
        // Within 2% of the truth as well.
        assert!((got - n as i64).abs() * 50 <= n as i64, "{n}: {got}");
    }
    // Union of several keys: these ranges nest, so the union is the largest.
    assert_eq!(
        q::<i64>(
            &mut c,
            &["PFCOUNT", "h1000", "h10000", "h100000", "missing"]
        ),
        100_853
    );
    let mut c2 = s.client();
    add_range(&mut c2, "x200", "x", 0, 200);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "x200"]), 198);
    assert_eq!(q::<String>(&mut c, &["TYPE", "h1000"]), "string");
}

#[test]
fn pfadd_replies_and_missing_keys() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "nokey"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "nokey", "nokey2"]), 0);
    // Creating a key with no elements is a change.
    assert_eq!(q::<i64>(&mut c, &["PFADD", "empty"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "empty"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "empty"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "empty"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "k", "a", "b", "c"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "k", "a", "b"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "k", "a", "d"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "k"]), 4);
    // Binary-safe elements.
    assert_eq!(q::<i64>(&mut c, &["PFADD", "bin", "a\0b", "a\r\nb", ""]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "bin"]), 3);
    assert_eq!(
        q_err(&mut c, &["PFADD"]),
        "ERR wrong number of arguments for 'pfadd' command"
    );
    assert_eq!(
        q_err(&mut c, &["PFCOUNT"]),
        "ERR wrong number of arguments for 'pfcount' command"
    );
    // DEL and expiry work on the HLL as on any key.
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "k", "50"]), 1);
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "k"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "k", "z"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "k"]), 1);
    assert_eq!(q::<i64>(&mut c, &["DEL", "k"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "k"]), 0);
}

#[test]
fn pfmerge_unions_into_dest() {
    let s = Server::start();
    let mut c = s.client();
    add_range(&mut c, "a", "e", 0, 600);
    add_range(&mut c, "b", "e", 400, 1000);
    let a_count: i64 = q(&mut c, &["PFCOUNT", "a"]);
    assert_eq!(a_count, 606);
    assert_eq!(
        q::<String>(&mut c, &["PFMERGE", "u", "a", "b", "missing"]),
        "OK"
    );
    // The union of e0..e999 counts as the 1000-element key does.
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "u"]), 1008);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "a", "b"]), 1008);
    // The destination takes part in the merge and keeps its TTL.
    add_range(&mut c, "d", "e", 1000, 10_000);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "d", "1000"]), 1);
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "d", "u"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "d"]), 9973);
    assert!(q::<i64>(&mut c, &["TTL", "d"]) > 0);
    // Sources are unchanged.
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "a"]), a_count);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "u"]), 1008);
    // Merging nothing creates an empty HLL.
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "fresh"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "fresh"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "fresh"]), 0);
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "fresh2", "nokey"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "fresh2"]), 0);
}

#[test]
fn wrong_types() {
    let s = Server::start();
    let mut c = s.client();
    let _: () = q(&mut c, &["SET", "str", "hello"]);
    let _: i64 = q(&mut c, &["LPUSH", "list", "a"]);
    let _: i64 = q(&mut c, &["SETBIT", "bits", "7", "1"]);
    let _: i64 = q(&mut c, &["PFADD", "hll", "a"]);
    for key in ["str", "bits"] {
        assert_eq!(q_err(&mut c, &["PFADD", key, "a"]), NOT_HLL);
        assert_eq!(q_err(&mut c, &["PFCOUNT", key]), NOT_HLL);
        assert_eq!(q_err(&mut c, &["PFCOUNT", "hll", key]), NOT_HLL);
        assert_eq!(q_err(&mut c, &["PFMERGE", key, "hll"]), NOT_HLL);
        assert_eq!(q_err(&mut c, &["PFMERGE", "dest", key]), NOT_HLL);
    }
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "dest"]), 0);
    assert_eq!(q_err(&mut c, &["PFADD", "list", "a"]), WRONGTYPE);
    assert_eq!(q_err(&mut c, &["PFCOUNT", "list"]), WRONGTYPE);
    assert_eq!(q_err(&mut c, &["PFMERGE", "list"]), WRONGTYPE);
    // The HLL is not a string or bitmap for the bit and list commands.
    assert_eq!(q_err(&mut c, &["LPUSH", "hll", "x"]), WRONGTYPE);
    assert_eq!(q_err(&mut c, &["GETBIT", "hll", "0"]), WRONGTYPE);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "hll"]), 1);
    // SET overwrites it like any key.
    let _: () = q(&mut c, &["SET", "hll", "plain"]);
    assert_eq!(q_err(&mut c, &["PFCOUNT", "hll"]), NOT_HLL);
}

#[test]
fn survives_restart() {
    let mut s = Server::start();
    {
        let mut c = s.client();
        add_range(&mut c, "h", "e", 0, 10_000);
        assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 9973);
    }
    s.restart();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 9973);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h", "e1"]), 0);
}

#[test]
fn hll_reads_as_a_redis_hyll_string() {
    let s = Server::start();
    let mut c = s.client();
    add_range(&mut c, "h", "e", 0, 3000);
    // 2979 is what redis-server 7.0 counts for e0..e2999.
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 2979);
    let dense: Vec<u8> = q(&mut c, &["GET", "h"]);
    assert_eq!(&dense[..5], b"HYLL\x00");
    assert_eq!(dense.len(), 12304);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "h"]), 12304);
    assert_eq!(
        q::<Vec<u8>>(&mut c, &["GETRANGE", "h", "0", "3"]),
        b"HYLL".to_vec()
    );
    // SET of those bytes gives a key PFCOUNT and PFADD accept.
    let _: () = redis::cmd("SET")
        .arg("copy")
        .arg(&dense)
        .query(&mut c)
        .unwrap();
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "copy"]), 2979);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "copy", "h"]), 2979);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "copy", "e1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "copy", "new-element"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "copy"]), 2980);
    // A sparse HYLL string as redis-server's GET returns it (PFADD a b c).
    let sparse = hex("48594c4c01000000000000000000008060f38050b1844bfb80425a");
    let _: () = redis::cmd("SET")
        .arg("sp")
        .arg(&sparse)
        .query(&mut c)
        .unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "sp", "1000"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "sp"]), 3);
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "sp", "h"]), "OK");
    assert!(q::<i64>(&mut c, &["TTL", "sp"]) > 0);
    // redis-server 7.0 counts 2983 for the same merge.
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "sp"]), 2983);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "sp", "a", "b", "c"]), 0);
    // A damaged HYLL string is not an HLL.
    let _: () = redis::cmd("SET")
        .arg("bad")
        .arg(&dense[..100])
        .query(&mut c)
        .unwrap();
    assert_eq!(q_err(&mut c, &["PFCOUNT", "bad"]), NOT_HLL);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
