//! Sorted set commands against the real binary, checked against Redis 7
//! replies (scores printed as Redis 7.0 prints them).

mod common;

use std::collections::HashSet;
use std::thread;
use std::time::Duration;

use common::{q, q_err, Raw, Server};

const SYNTAX: &str = "ERR syntax error";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

type Conn = redis::Connection;

fn strs(c: &mut Conn, args: &[&str]) -> Vec<String> {
    q::<Vec<String>>(c, args)
}

fn int(c: &mut Conn, args: &[&str]) -> i64 {
    q::<i64>(c, args)
}

fn opt(c: &mut Conn, args: &[&str]) -> Option<String> {
    q::<Option<String>>(c, args)
}

/// Adds `members` with scores `score(i)` in commands of 1000 pairs.
fn fill(
    c: &mut Conn,
    key: &str,
    n: usize,
    score: impl Fn(usize) -> String,
    member: impl Fn(usize) -> String,
) {
    let mut i = 0;
    while i < n {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg(key);
        for j in i..(i + 1000).min(n) {
            cmd.arg(score(j)).arg(member(j));
        }
        let _: i64 = cmd.query(c).unwrap();
        i += 1000;
    }
}

/// The raw RESP reply of `args` on a connection switched to `resp`.
fn raw(port: u16, resp: u8, cmds: &[&[&str]]) -> Vec<String> {
    let mut r = Raw::connect(port);
    if resp == 3 {
        let hello = r.cmd(&["HELLO", "3"]);
        assert!(hello.starts_with('%'), "HELLO 3 -> {hello}");
    }
    cmds.iter().map(|c| r.cmd(c)).collect()
}

#[test]
fn zadd_flags_and_errors() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(int(&mut c, &["ZADD", "z", "1", "a", "2", "b"]), 2);
    // Existing member: updated, not counted; CH counts it.
    assert_eq!(int(&mut c, &["ZADD", "z", "5", "a", "3", "c"]), 1);
    assert_eq!(
        int(&mut c, &["ZADD", "z", "CH", "6", "a", "3", "c", "4", "d"]),
        2
    );
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "a"]).as_deref(), Some("6"));
    // Repeated member in one command: the last score wins, counted once.
    assert_eq!(int(&mut c, &["ZADD", "r", "1", "x", "2", "x", "3", "x"]), 1);
    assert_eq!(opt(&mut c, &["ZSCORE", "r", "x"]).as_deref(), Some("3"));
    assert_eq!(int(&mut c, &["ZCARD", "r"]), 1);
    // NX: only new members.
    assert_eq!(int(&mut c, &["ZADD", "z", "NX", "100", "a", "7", "e"]), 1);
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "a"]).as_deref(), Some("6"));
    // XX: only existing members; never creates the key.
    assert_eq!(
        int(&mut c, &["ZADD", "z", "XX", "CH", "7", "a", "8", "nope"]),
        1
    );
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "nope"]), None);
    assert_eq!(int(&mut c, &["ZADD", "fresh", "XX", "1", "a"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "fresh"]), 0);
    // GT / LT only move scores one way, but still add new members.
    assert_eq!(
        int(
            &mut c,
            &["ZADD", "z", "GT", "CH", "1", "a", "9", "b", "1", "g"]
        ),
        2
    );
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "a"]).as_deref(), Some("7"));
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "b"]).as_deref(), Some("9"));
    assert_eq!(
        int(&mut c, &["ZADD", "z", "LT", "CH", "100", "a", "0", "b"]),
        1
    );
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "a"]).as_deref(), Some("7"));
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "b"]).as_deref(), Some("0"));
    assert_eq!(int(&mut c, &["ZADD", "z", "XX", "GT", "CH", "8", "a"]), 1);
    // INCR returns the new score, nil when a condition stops it.
    assert_eq!(
        opt(&mut c, &["ZADD", "z", "INCR", "2.5", "a"]).as_deref(),
        Some("10.5")
    );
    assert_eq!(opt(&mut c, &["ZADD", "z", "NX", "INCR", "1", "a"]), None);
    assert_eq!(opt(&mut c, &["ZADD", "z", "XX", "INCR", "1", "zz"]), None);
    assert_eq!(opt(&mut c, &["ZADD", "z", "GT", "INCR", "-1", "a"]), None);
    assert_eq!(
        opt(&mut c, &["ZADD", "z", "INCR", "3", "newm"]).as_deref(),
        Some("3")
    );
    assert_eq!(
        opt(&mut c, &["ZINCRBY", "z", "-1.5", "newm"]).as_deref(),
        Some("1.5")
    );
    assert_eq!(
        opt(&mut c, &["ZINCRBY", "z", "2", "brandnew"]).as_deref(),
        Some("2")
    );
    // Option errors, in Redis's order and words.
    for (args, err) in [
        (
            &["ZADD", "z", "NX", "XX", "1", "a"][..],
            "ERR XX and NX options at the same time are not compatible",
        ),
        (
            &["ZADD", "z", "GT", "LT", "1", "a"],
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ),
        (
            &["ZADD", "z", "NX", "GT", "1", "a"],
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ),
        (
            &["ZADD", "z", "INCR", "1", "a", "2", "b"],
            "ERR INCR option supports a single increment-element pair",
        ),
        (&["ZADD", "z", "1", "a", "2"], SYNTAX),
        (&["ZADD", "z", "NX", "1"], SYNTAX),
        (&["ZADD", "z", "foo", "1", "a"], SYNTAX),
        (&["ZADD", "z", "nan", "a"], NOT_FLOAT),
        (&["ZADD", "z", "1e400", "a"], NOT_FLOAT),
        (&["ZADD", "z", " 1", "a"], NOT_FLOAT),
        (&["ZADD", "z", "", "a"], NOT_FLOAT),
        (&["ZINCRBY", "z", "abc", "a"], NOT_FLOAT),
        (
            &["ZADD", "z", "1"],
            "ERR wrong number of arguments for 'zadd' command",
        ),
        (
            &["ZINCRBY", "z", "1"],
            "ERR wrong number of arguments for 'zincrby' command",
        ),
    ] {
        assert_eq!(q_err(&mut c, args), err, "{args:?}");
    }
    // inf + -inf is not a number.
    assert_eq!(int(&mut c, &["ZADD", "n", "inf", "a"]), 1);
    assert_eq!(
        q_err(&mut c, &["ZINCRBY", "n", "-inf", "a"]),
        "ERR resulting score is not a number (NaN)"
    );
    assert_eq!(
        q_err(&mut c, &["ZADD", "n", "INCR", "-inf", "a"]),
        "ERR resulting score is not a number (NaN)"
    );
    assert_eq!(opt(&mut c, &["ZSCORE", "n", "a"]).as_deref(), Some("inf"));
    // ZMSCORE.
    let v: Vec<Option<String>> = q(&mut c, &["ZMSCORE", "z", "a", "missing", "b"]);
    assert_eq!(v, vec![Some("10.5".into()), None, Some("0".into())]);
    let v: Vec<Option<String>> = q(&mut c, &["ZMSCORE", "nokey", "a"]);
    assert_eq!(v, vec![None]);
}

#[test]
fn scores_print_like_redis_7_0() {
    let s = Server::start();
    let mut c = s.client();
    for (input, printed) in [
        ("0.1", "0.10000000000000001"),
        ("1.5", "1.5"),
        ("-3", "-3"),
        ("1e17", "1e+17"),
        ("123456789012345678", "1.2345678901234568e+17"),
        ("1e300", "1.0000000000000001e+300"),
        ("1e-300", "1e-300"),
        ("0.0001", "0.0001"),
        ("0.00001", "1.0000000000000001e-05"),
        ("inf", "inf"),
        ("+inf", "inf"),
        ("-inf", "-inf"),
        ("Infinity", "inf"),
        ("0x10", "16"),
        ("-0", "0"),
        (".5", "0.5"),
        ("5.", "5"),
        ("+1e+2", "100"),
    ] {
        assert_eq!(int(&mut c, &["ZADD", "fmt", input, "m"]), 1, "{input}");
        assert_eq!(
            opt(&mut c, &["ZSCORE", "fmt", "m"]).as_deref(),
            Some(printed),
            "{input}"
        );
        let range = strs(&mut c, &["ZRANGE", "fmt", "0", "-1", "WITHSCORES"]);
        assert_eq!(range, vec!["m".to_string(), printed.to_string()], "{input}");
        assert_eq!(int(&mut c, &["DEL", "fmt"]), 1);
    }
    // RESP2 and RESP3 shapes of scores.
    int(&mut c, &["ZADD", "z", "1", "a", "2.5", "b", "0.1", "c"]);
    let r2 = raw(
        s.port(),
        2,
        &[
            &["ZSCORE", "z", "c"],
            &["ZSCORE", "z", "nope"],
            &["ZRANGE", "z", "0", "1", "WITHSCORES"],
            &["ZPOPMIN", "z"],
            &["ZADD", "z", "0.1", "c"],
            &["ZPOPMIN", "z", "1"],
            &["ZADD", "z", "0.1", "c"],
            &["ZRANK", "z", "b", "WITHSCORE"],
            &["ZRANK", "z", "nope", "WITHSCORE"],
            &["ZMSCORE", "z", "a", "nope"],
            &["ZINCRBY", "z", "1", "a"],
            &["ZSCAN", "z", "0"],
        ],
    );
    assert_eq!(r2, vec![
        "$19\r\n0.10000000000000001\r\n",
        "$-1\r\n",
        "*4\r\n$1\r\nc\r\n$19\r\n0.10000000000000001\r\n$1\r\na\r\n$1\r\n1\r\n",
        "*2\r\n$1\r\nc\r\n$19\r\n0.10000000000000001\r\n",
        ":1\r\n",
        "*2\r\n$1\r\nc\r\n$19\r\n0.10000000000000001\r\n",
        ":1\r\n",
        "*2\r\n:2\r\n$3\r\n2.5\r\n",
        "*-1\r\n",
        "*2\r\n$1\r\n1\r\n$-1\r\n",
        "$1\r\n2\r\n",
        "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$3\r\n2.5\r\n$1\r\nc\r\n$19\r\n0.10000000000000001\r\n",
    ]);
    let r3 = raw(
        s.port(),
        3,
        &[
            &["ZSCORE", "z", "c"],
            &["ZSCORE", "z", "nope"],
            &["ZRANGE", "z", "0", "1", "WITHSCORES"],
            &["ZPOPMIN", "z"],
            &["ZADD", "z", "0.1", "c"],
            &["ZPOPMIN", "z", "1"],
            &["ZADD", "z", "0.1", "c", "inf", "i"],
            &["ZRANK", "z", "b", "WITHSCORE"],
            &["ZRANK", "z", "nope", "WITHSCORE"],
            &["ZMSCORE", "z", "i", "nope"],
            &["ZMPOP", "1", "z", "MAX"],
            &["ZRANDMEMBER", "z", "-1", "WITHSCORES"],
            &["ZUNION", "1", "z", "WITHSCORES"],
        ],
    );
    assert_eq!(r3[0], ",0.10000000000000001\r\n");
    assert_eq!(r3[1], "_\r\n");
    assert_eq!(
        r3[2],
        "*2\r\n*2\r\n$1\r\nc\r\n,0.10000000000000001\r\n*2\r\n$1\r\na\r\n,2\r\n"
    );
    assert_eq!(r3[3], "*2\r\n$1\r\nc\r\n,0.10000000000000001\r\n");
    assert_eq!(r3[5], "*1\r\n*2\r\n$1\r\nc\r\n,0.10000000000000001\r\n");
    assert_eq!(r3[7], "*2\r\n:2\r\n,2.5\r\n");
    assert_eq!(r3[8], "_\r\n");
    assert_eq!(r3[9], "*2\r\n,inf\r\n_\r\n");
    assert_eq!(r3[10], "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\ni\r\n,inf\r\n");
    assert!(r3[11].starts_with("*1\r\n*2\r\n$1\r\n"), "{}", r3[11]);
    assert_eq!(r3[12], "*3\r\n*2\r\n$1\r\nc\r\n,0.10000000000000001\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
}

#[test]
fn ranges_by_rank_score_and_lex() {
    let s = Server::start();
    let mut c = s.client();
    int(
        &mut c,
        &[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "-inf", "lo", "inf",
            "hi",
        ],
    );
    let all = ["lo", "a", "b", "c", "d", "e", "hi"];
    assert_eq!(strs(&mut c, &["ZRANGE", "z", "0", "-1"]), all);
    assert_eq!(strs(&mut c, &["ZRANGE", "z", "-2", "-1"]), ["e", "hi"]);
    assert_eq!(strs(&mut c, &["ZRANGE", "z", "-100", "1"]), ["lo", "a"]);
    assert_eq!(strs(&mut c, &["ZRANGE", "z", "5", "100"]), ["e", "hi"]);
    assert!(strs(&mut c, &["ZRANGE", "z", "5", "1"]).is_empty());
    assert!(strs(&mut c, &["ZRANGE", "z", "7", "10"]).is_empty());
    assert_eq!(
        strs(&mut c, &["ZREVRANGE", "z", "0", "1", "WITHSCORES"]),
        ["hi", "inf", "e", "5"]
    );
    assert_eq!(strs(&mut c, &["ZRANGE", "z", "0", "1", "REV"]), ["hi", "e"]);
    // By score.
    assert_eq!(
        strs(&mut c, &["ZRANGEBYSCORE", "z", "2", "4"]),
        ["b", "c", "d"]
    );
    assert_eq!(strs(&mut c, &["ZRANGEBYSCORE", "z", "(2", "(4"]), ["c"]);
    assert_eq!(strs(&mut c, &["ZRANGEBYSCORE", "z", "-inf", "(1"]), ["lo"]);
    assert_eq!(strs(&mut c, &["ZRANGEBYSCORE", "z", "(5", "+inf"]), ["hi"]);
    assert_eq!(
        strs(
            &mut c,
            &[
                "ZRANGEBYSCORE",
                "z",
                "2",
                "4",
                "WITHSCORES",
                "LIMIT",
                "1",
                "1"
            ]
        ),
        ["c", "3"]
    );
    assert_eq!(
        strs(
            &mut c,
            &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "5", "-1"]
        ),
        ["e", "hi"]
    );
    assert!(strs(
        &mut c,
        &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]
    )
    .is_empty());
    assert!(strs(
        &mut c,
        &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", "0"]
    )
    .is_empty());
    assert!(strs(&mut c, &["ZRANGEBYSCORE", "z", "(3", "(3"]).is_empty());
    assert!(strs(&mut c, &["ZRANGEBYSCORE", "z", "4", "2"]).is_empty());
    assert_eq!(
        strs(&mut c, &["ZREVRANGEBYSCORE", "z", "4", "(2", "WITHSCORES"]),
        ["d", "4", "c", "3"]
    );
    assert_eq!(
        strs(
            &mut c,
            &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "2"]
        ),
        ["e", "d"]
    );
    assert_eq!(
        strs(&mut c, &["ZRANGE", "z", "(4", "+inf", "BYSCORE"]),
        ["e", "hi"]
    );
    assert_eq!(
        strs(
            &mut c,
            &["ZRANGE", "z", "4", "1", "BYSCORE", "REV", "LIMIT", "0", "2"]
        ),
        ["d", "c"]
    );
    assert_eq!(int(&mut c, &["ZCOUNT", "z", "(1", "5"]), 4);
    assert_eq!(int(&mut c, &["ZCOUNT", "z", "-inf", "+inf"]), 7);
    assert_eq!(int(&mut c, &["ZCOUNT", "nokey", "-inf", "+inf"]), 0);
    // Ranks.
    assert_eq!(int(&mut c, &["ZRANK", "z", "lo"]), 0);
    assert_eq!(int(&mut c, &["ZRANK", "z", "c"]), 3);
    assert_eq!(int(&mut c, &["ZREVRANK", "z", "c"]), 3);
    assert_eq!(int(&mut c, &["ZREVRANK", "z", "hi"]), 0);
    assert_eq!(opt(&mut c, &["ZRANK", "z", "nope"]), None);
    assert_eq!(opt(&mut c, &["ZRANK", "nokey", "a"]), None);
    let v: (i64, String) = q(&mut c, &["ZREVRANK", "z", "e", "WITHSCORE"]);
    assert_eq!(v, (1, "5".to_string()));
    // By lex, on a set with one score.
    int(
        &mut c,
        &[
            "ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f", "0", "",
        ],
    );
    assert_eq!(
        strs(&mut c, &["ZRANGEBYLEX", "l", "-", "+"]),
        ["", "a", "b", "c", "d", "e", "f"]
    );
    assert_eq!(
        strs(&mut c, &["ZRANGEBYLEX", "l", "[b", "(e"]),
        ["b", "c", "d"]
    );
    assert_eq!(
        strs(&mut c, &["ZRANGEBYLEX", "l", "(b", "[e", "LIMIT", "1", "2"]),
        ["d", "e"]
    );
    assert_eq!(strs(&mut c, &["ZRANGEBYLEX", "l", "[", "(a"]), [""]);
    assert_eq!(
        strs(&mut c, &["ZREVRANGEBYLEX", "l", "(e", "-"]),
        ["d", "c", "b", "a", ""]
    );
    assert_eq!(
        strs(
            &mut c,
            &["ZREVRANGEBYLEX", "l", "+", "[bb", "LIMIT", "0", "2"]
        ),
        ["f", "e"]
    );
    assert_eq!(
        strs(&mut c, &["ZRANGE", "l", "[c", "+", "BYLEX"]),
        ["c", "d", "e", "f"]
    );
    assert_eq!(
        strs(&mut c, &["ZRANGE", "l", "[c", "(a", "BYLEX", "REV"]),
        ["c", "b"]
    );
    assert!(strs(&mut c, &["ZRANGEBYLEX", "l", "+", "-"]).is_empty());
    assert!(strs(&mut c, &["ZRANGEBYLEX", "l", "(c", "(c"]).is_empty());
    assert!(strs(&mut c, &["ZRANGEBYLEX", "l", "[z", "+"]).is_empty());
    assert_eq!(int(&mut c, &["ZLEXCOUNT", "l", "(a", "[e"]), 4);
    assert_eq!(int(&mut c, &["ZLEXCOUNT", "l", "-", "+"]), 7);
    // Errors.
    for (args, err) in [
        (
            &["ZRANGEBYSCORE", "z", "a", "1"][..],
            "ERR min or max is not a float",
        ),
        (
            &["ZRANGEBYSCORE", "z", "[1", "2"],
            "ERR min or max is not a float",
        ),
        (&["ZCOUNT", "z", "1", "x"], "ERR min or max is not a float"),
        (
            &["ZRANGEBYLEX", "l", "a", "+"],
            "ERR min or max not valid string range item",
        ),
        (
            &["ZLEXCOUNT", "l", "-", "b"],
            "ERR min or max not valid string range item",
        ),
        (
            &["ZRANGE", "z", "0", "-1", "BYLEX"],
            "ERR min or max not valid string range item",
        ),
        (
            &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ),
        (
            &["ZRANGEBYLEX", "l", "-", "+", "WITHSCORES"],
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ),
        (&["ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"], SYNTAX),
        (&["ZRANGE", "z", "0", "-1", "REV", "REV"], SYNTAX),
        (&["ZRANGE", "z", "0", "-1", "LIMIT", "1"], SYNTAX),
        (&["ZRANGEBYSCORE", "z", "0", "1", "BYSCORE"], SYNTAX),
        (&["ZREVRANGE", "z", "0", "1", "REV"], SYNTAX),
        (&["ZRANGE", "z", "a", "1"], NOT_INT),
        (
            &["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "x", "1"],
            NOT_INT,
        ),
        (&["ZRANK", "z", "a", "x"], SYNTAX),
        (
            &["ZRANK", "z", "a", "WITHSCORE", "x"],
            "ERR wrong number of arguments for 'zrank' command",
        ),
        (
            &["ZRANK", "z"],
            "ERR wrong number of arguments for 'zrank' command",
        ),
    ] {
        assert_eq!(q_err(&mut c, args), err, "{args:?}");
    }
    // Missing keys read as empty.
    assert!(strs(&mut c, &["ZRANGE", "nokey", "0", "-1"]).is_empty());
    assert!(strs(&mut c, &["ZRANGEBYLEX", "nokey", "-", "+"]).is_empty());
}

#[test]
fn big_zset_windows() {
    let s = Server::start();
    let mut c = s.client();
    const N: usize = 20_000;
    // Scores 0, 2, 4, ... so (2i+1) falls between members.
    fill(
        &mut c,
        "big",
        N,
        |i| (2 * i).to_string(),
        |i| format!("m{i:05}"),
    );
    assert_eq!(int(&mut c, &["ZCARD", "big"]), N as i64);
    let m = |i: usize| format!("m{i:05}");
    // Rank windows at the front, middle and back, both directions.
    assert_eq!(
        strs(&mut c, &["ZRANGE", "big", "0", "2"]),
        [m(0), m(1), m(2)]
    );
    assert_eq!(
        strs(&mut c, &["ZRANGE", "big", "10000", "10002"]),
        [m(10000), m(10001), m(10002)]
    );
    assert_eq!(
        strs(&mut c, &["ZRANGE", "big", "-3", "-1"]),
        [m(19997), m(19998), m(19999)]
    );
    assert_eq!(
        strs(&mut c, &["ZRANGE", "big", "15000", "15001", "WITHSCORES"]),
        [m(15000), "30000".into(), m(15001), "30002".into()]
    );
    assert_eq!(
        strs(&mut c, &["ZREVRANGE", "big", "0", "1"]),
        [m(19999), m(19998)]
    );
    assert_eq!(
        strs(&mut c, &["ZREVRANGE", "big", "19998", "30000"]),
        [m(1), m(0)]
    );
    assert_eq!(
        strs(&mut c, &["ZREVRANGE", "big", "4000", "4001"]),
        [m(15999), m(15998)]
    );
    assert_eq!(strs(&mut c, &["ZRANGE", "big", "0", "-1"]).len(), N);
    // Score windows.
    assert_eq!(
        strs(&mut c, &["ZRANGEBYSCORE", "big", "(20000", "20004"]),
        [m(10001), m(10002)]
    );
    assert_eq!(
        strs(&mut c, &["ZRANGEBYSCORE", "big", "19999", "20001"]),
        [m(10000)]
    );
    assert_eq!(
        strs(&mut c, &["ZREVRANGEBYSCORE", "big", "39999", "39990"]),
        [m(19999), m(19998), m(19997), m(19996), m(19995)]
    );
    assert_eq!(
        strs(
            &mut c,
            &["ZRANGEBYSCORE", "big", "100", "+inf", "LIMIT", "10", "3"]
        ),
        [m(60), m(61), m(62)]
    );
    assert_eq!(int(&mut c, &["ZCOUNT", "big", "1000", "(3000"]), 1000);
    assert_eq!(int(&mut c, &["ZCOUNT", "big", "-inf", "+inf"]), N as i64);
    // Ranks from both ends.
    for i in [0usize, 1, 9_999, 10_000, 18_000, 19_999] {
        assert_eq!(int(&mut c, &["ZRANK", "big", &m(i)]), i as i64);
        assert_eq!(int(&mut c, &["ZREVRANK", "big", &m(i)]), (N - 1 - i) as i64);
    }
    // A lex set of 20k members with one score.
    fill(&mut c, "lex", N, |_| "0".into(), |i| format!("k{i:05}"));
    let k = |i: usize| format!("k{i:05}");
    assert_eq!(
        strs(
            &mut c,
            &[
                "ZRANGEBYLEX",
                "lex",
                &format!("[{}", k(12345)),
                "+",
                "LIMIT",
                "0",
                "2"
            ]
        ),
        [k(12345), k(12346)]
    );
    assert_eq!(
        strs(
            &mut c,
            &[
                "ZRANGEBYLEX",
                "lex",
                &format!("({}", k(12345)),
                &format!("[{}", k(12347))
            ]
        ),
        [k(12346), k(12347)]
    );
    assert_eq!(
        strs(
            &mut c,
            &[
                "ZREVRANGEBYLEX",
                "lex",
                &format!("({}", k(500)),
                "-",
                "LIMIT",
                "0",
                "2"
            ]
        ),
        [k(499), k(498)]
    );
    assert_eq!(int(&mut c, &["ZLEXCOUNT", "lex", "[k1", "(k2"]), 10_000);
    assert_eq!(int(&mut c, &["ZLEXCOUNT", "lex", "-", "+"]), N as i64);
    // ZSCAN visits every member exactly once.
    let mut cursor = "0".to_string();
    let mut seen = HashSet::new();
    loop {
        let (next, items): (String, Vec<String>) =
            q(&mut c, &["ZSCAN", "big", &cursor, "COUNT", "1000"]);
        for pair in items.chunks(2) {
            assert!(seen.insert(pair[0].clone()), "{} twice", pair[0]);
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), N);
    // Removal of a middle window, then of a score range.
    assert_eq!(
        int(&mut c, &["ZREMRANGEBYRANK", "big", "5000", "14999"]),
        10_000
    );
    assert_eq!(int(&mut c, &["ZCARD", "big"]), 10_000);
    assert_eq!(
        strs(&mut c, &["ZRANGE", "big", "4999", "5000"]),
        [m(4999), m(15000)]
    );
    assert_eq!(
        int(&mut c, &["ZREMRANGEBYSCORE", "big", "30000", "+inf"]),
        5_000
    );
    assert_eq!(
        int(&mut c, &["ZREMRANGEBYLEX", "lex", "-", "(k10000"]),
        10_000
    );
    assert_eq!(int(&mut c, &["ZCARD", "lex"]), 10_000);
    // Pops from both ends.
    let v = strs(&mut c, &["ZPOPMIN", "big", "3"]);
    assert_eq!(v, [m(0), "0".into(), m(1), "2".into(), m(2), "4".into()]);
    let v = strs(&mut c, &["ZPOPMAX", "big", "1"]);
    assert_eq!(v, [m(4999), "9998".into()]);
    assert_eq!(strs(&mut c, &["ZPOPMIN", "big", "100000"]).len(), 2 * 4996);
    assert_eq!(int(&mut c, &["EXISTS", "big"]), 0);
    // ZRANGESTORE of a big window, then a union of two big sets.
    assert_eq!(
        int(&mut c, &["ZRANGESTORE", "part", "lex", "0", "4999"]),
        5000
    );
    assert_eq!(
        int(
            &mut c,
            &["ZUNIONSTORE", "u", "2", "part", "lex", "WEIGHTS", "1", "2"]
        ),
        10_000
    );
    assert_eq!(
        opt(&mut c, &["ZSCORE", "u", &k(10000)]).as_deref(),
        Some("0")
    );
    assert_eq!(int(&mut c, &["ZINTERSTORE", "i", "2", "lex", "part"]), 5000);
    assert_eq!(int(&mut c, &["ZDIFFSTORE", "d", "2", "lex", "part"]), 5000);
    assert_eq!(strs(&mut c, &["ZRANGE", "d", "0", "0"]), [k(15000)]);
    assert_eq!(
        int(&mut c, &["ZINTERCARD", "2", "lex", "part", "LIMIT", "10"]),
        10
    );
}

#[test]
fn removals_and_empty_keys() {
    let s = Server::start();
    let mut c = s.client();
    int(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(int(&mut c, &["ZREM", "z", "a", "nope", "a"]), 1);
    assert_eq!(int(&mut c, &["ZREM", "nokey", "a"]), 0);
    assert_eq!(int(&mut c, &["ZCARD", "z"]), 2);
    assert_eq!(int(&mut c, &["ZREM", "z", "b", "c"]), 2);
    assert_eq!(int(&mut c, &["EXISTS", "z"]), 0);
    assert_eq!(q::<String>(&mut c, &["TYPE", "z"]), "none");
    int(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    );
    assert_eq!(q::<String>(&mut c, &["TYPE", "z"]), "zset");
    assert_eq!(int(&mut c, &["ZREMRANGEBYRANK", "z", "-2", "-1"]), 2);
    assert_eq!(int(&mut c, &["ZREMRANGEBYRANK", "z", "5", "10"]), 0);
    assert_eq!(int(&mut c, &["ZREMRANGEBYSCORE", "z", "(1", "+inf"]), 1);
    assert_eq!(int(&mut c, &["ZREMRANGEBYLEX", "z", "[a", "[a"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "z"]), 0);
    assert_eq!(int(&mut c, &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"]), 0);
    assert_eq!(q_err(&mut c, &["ZREMRANGEBYRANK", "z", "a", "1"]), NOT_INT);
    assert_eq!(
        q_err(&mut c, &["ZREMRANGEBYSCORE", "z", "a", "1"]),
        "ERR min or max is not a float"
    );
    assert_eq!(
        q_err(&mut c, &["ZREMRANGEBYLEX", "z", "a", "+"]),
        "ERR min or max not valid string range item"
    );
    // Binary-safe members.
    let mut cmd = redis::cmd("ZADD");
    cmd.arg("bin")
        .arg(1)
        .arg(&b"a\x00b"[..])
        .arg(2)
        .arg(&b"\r\n"[..])
        .arg(3)
        .arg(&b""[..]);
    assert_eq!(cmd.query::<i64>(&mut c).unwrap(), 3);
    let v: Vec<Vec<u8>> = redis::cmd("ZRANGE")
        .arg("bin")
        .arg(0)
        .arg(-1)
        .query(&mut c)
        .unwrap();
    assert_eq!(v, vec![b"a\x00b".to_vec(), b"\r\n".to_vec(), b"".to_vec()]);
    let sc: Option<String> = redis::cmd("ZSCORE")
        .arg("bin")
        .arg(&b"\r\n"[..])
        .query(&mut c)
        .unwrap();
    assert_eq!(sc.as_deref(), Some("2"));
    let r: i64 = redis::cmd("ZRANK")
        .arg("bin")
        .arg(&b""[..])
        .query(&mut c)
        .unwrap();
    assert_eq!(r, 2);
    let n: i64 = redis::cmd("ZREM")
        .arg("bin")
        .arg(&b"a\x00b"[..])
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(opt(&mut c, &["ZSCORE", "bin", "a"]), None);
}

#[test]
fn pops_and_random_members() {
    let s = Server::start();
    let mut c = s.client();
    int(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    );
    assert_eq!(strs(&mut c, &["ZPOPMIN", "z"]), ["a", "1"]);
    assert_eq!(strs(&mut c, &["ZPOPMAX", "z", "2"]), ["d", "4", "c", "3"]);
    assert!(strs(&mut c, &["ZPOPMIN", "z", "0"]).is_empty());
    assert!(strs(&mut c, &["ZPOPMIN", "nokey"]).is_empty());
    assert_eq!(
        q_err(&mut c, &["ZPOPMIN", "z", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        q_err(&mut c, &["ZPOPMIN", "z", "x"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(q_err(&mut c, &["ZPOPMIN", "z", "1", "2"]), SYNTAX);
    assert_eq!(strs(&mut c, &["ZPOPMAX", "z", "5"]), ["b", "2"]);
    assert_eq!(int(&mut c, &["EXISTS", "z"]), 0);
    // ZMPOP takes from the first non-empty key.
    int(&mut c, &["ZADD", "z2", "1", "a", "2", "b", "3", "c"]);
    let v: (String, Vec<(String, String)>) =
        q(&mut c, &["ZMPOP", "2", "nokey", "z2", "MAX", "COUNT", "2"]);
    assert_eq!(
        v,
        (
            "z2".into(),
            vec![("c".into(), "3".into()), ("b".into(), "2".into())]
        )
    );
    let v: (String, Vec<(String, String)>) = q(&mut c, &["ZMPOP", "1", "z2", "MIN", "COUNT", "10"]);
    assert_eq!(v, ("z2".into(), vec![("a".into(), "1".into())]));
    let v: Option<Vec<String>> = q(&mut c, &["ZMPOP", "2", "z2", "nokey", "MIN"]);
    assert_eq!(v, None);
    for (args, err) in [
        (
            &["ZMPOP", "0", "z", "MIN"][..],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["ZMPOP", "x", "z", "MIN"],
            "ERR numkeys should be greater than 0",
        ),
        (&["ZMPOP", "1", "z", "FOO"], SYNTAX),
        (&["ZMPOP", "3", "z", "MIN"], SYNTAX),
        (
            &["ZMPOP", "1", "z", "MIN", "COUNT", "0"],
            "ERR count should be greater than 0",
        ),
        (
            &["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "2"],
            SYNTAX,
        ),
        (&["ZMPOP", "1", "z", "MIN", "COUNT"], SYNTAX),
    ] {
        assert_eq!(q_err(&mut c, args), err, "{args:?}");
    }
    // ZRANDMEMBER.
    let members = ["a", "b", "c", "d", "e"];
    int(
        &mut c,
        &[
            "ZADD", "r", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
    );
    for _ in 0..20 {
        let one = opt(&mut c, &["ZRANDMEMBER", "r"]).unwrap();
        assert!(members.contains(&one.as_str()));
    }
    let three = strs(&mut c, &["ZRANDMEMBER", "r", "3"]);
    assert_eq!(three.len(), 3);
    assert_eq!(three.iter().collect::<HashSet<_>>().len(), 3);
    // A count covering the set returns all of it, highest score first.
    assert_eq!(
        strs(&mut c, &["ZRANDMEMBER", "r", "10"]),
        ["e", "d", "c", "b", "a"]
    );
    assert_eq!(
        strs(&mut c, &["ZRANDMEMBER", "r", "5", "WITHSCORES"]),
        ["e", "5", "d", "4", "c", "3", "b", "2", "a", "1"]
    );
    let rep = strs(&mut c, &["ZRANDMEMBER", "r", "-50"]);
    assert_eq!(rep.len(), 50);
    assert!(rep.iter().all(|m| members.contains(&m.as_str())));
    assert!(rep.iter().collect::<HashSet<_>>().len() > 1);
    let ws = strs(&mut c, &["ZRANDMEMBER", "r", "-4", "WITHSCORES"]);
    assert_eq!(ws.len(), 8);
    for p in ws.chunks(2) {
        let idx = members.iter().position(|m| *m == p[0]).unwrap();
        assert_eq!(p[1], (idx + 1).to_string());
    }
    assert!(strs(&mut c, &["ZRANDMEMBER", "r", "0"]).is_empty());
    assert!(strs(&mut c, &["ZRANDMEMBER", "nokey", "3"]).is_empty());
    assert_eq!(opt(&mut c, &["ZRANDMEMBER", "nokey"]), None);
    assert_eq!(q_err(&mut c, &["ZRANDMEMBER", "r", "x"]), NOT_INT);
    assert_eq!(q_err(&mut c, &["ZRANDMEMBER", "r", "1", "foo"]), SYNTAX);
    assert_eq!(
        q_err(
            &mut c,
            &["ZRANDMEMBER", "r", "-4611686018427387904", "WITHSCORES"]
        ),
        "ERR value is out of range"
    );
}

#[test]
fn union_inter_diff_and_stores() {
    let s = Server::start();
    let mut c = s.client();
    int(&mut c, &["ZADD", "z1", "1", "a", "2", "b", "3", "c"]);
    int(&mut c, &["ZADD", "z2", "10", "b", "20", "c", "30", "d"]);
    int(&mut c, &["SADD", "plain", "c", "d", "e"]);
    assert_eq!(
        strs(&mut c, &["ZUNION", "2", "z1", "z2", "WITHSCORES"]),
        ["a", "1", "b", "12", "c", "23", "d", "30"]
    );
    assert_eq!(
        strs(
            &mut c,
            &[
                "ZUNION",
                "2",
                "z1",
                "z2",
                "WEIGHTS",
                "2",
                "0.5",
                "WITHSCORES"
            ]
        ),
        ["a", "2", "b", "9", "d", "15", "c", "16"]
    );
    assert_eq!(
        strs(
            &mut c,
            &["ZUNION", "2", "z1", "z2", "AGGREGATE", "MAX", "WITHSCORES"]
        ),
        ["a", "1", "b", "10", "c", "20", "d", "30"]
    );
    assert_eq!(
        strs(&mut c, &["ZUNION", "2", "z1", "z2", "AGGREGATE", "min"]),
        ["a", "b", "c", "d"]
    );
    assert_eq!(
        strs(&mut c, &["ZINTER", "2", "z1", "z2", "WITHSCORES"]),
        ["b", "12", "c", "23"]
    );
    assert_eq!(
        strs(&mut c, &["ZINTER", "3", "z1", "z2", "plain", "WITHSCORES"]),
        ["c", "24"]
    );
    assert_eq!(
        strs(&mut c, &["ZINTER", "2", "z1", "nokey"]),
        Vec::<String>::new()
    );
    assert_eq!(
        strs(&mut c, &["ZDIFF", "2", "z1", "z2", "WITHSCORES"]),
        ["a", "1"]
    );
    assert_eq!(strs(&mut c, &["ZDIFF", "2", "z2", "plain"]), ["b"]);
    assert_eq!(
        strs(&mut c, &["ZUNION", "2", "plain", "nokey", "WITHSCORES"]),
        ["c", "1", "d", "1", "e", "1"]
    );
    // inf * 0 and inf + -inf are 0, like Redis.
    int(&mut c, &["ZADD", "inf", "inf", "p", "-inf", "n"]);
    assert_eq!(
        strs(
            &mut c,
            &["ZUNION", "1", "inf", "WEIGHTS", "0", "WITHSCORES"]
        ),
        ["n", "0", "p", "0"]
    );
    assert_eq!(
        strs(
            &mut c,
            &[
                "ZUNION",
                "2",
                "inf",
                "inf",
                "WEIGHTS",
                "1",
                "-1",
                "WITHSCORES"
            ]
        ),
        ["n", "0", "p", "0"]
    );
    assert_eq!(int(&mut c, &["ZINTERCARD", "2", "z1", "z2"]), 2);
    assert_eq!(
        int(&mut c, &["ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"]),
        1
    );
    assert_eq!(
        int(&mut c, &["ZINTERCARD", "2", "z1", "z2", "LIMIT", "0"]),
        2
    );
    // Stores replace the destination, whatever it was, without its TTL.
    q::<String>(&mut c, &["SET", "dst", "string"]);
    assert_eq!(
        int(
            &mut c,
            &["ZUNIONSTORE", "dst", "2", "z1", "z2", "WEIGHTS", "1", "2"]
        ),
        4
    );
    assert_eq!(
        strs(&mut c, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        ["a", "1", "b", "22", "c", "43", "d", "60"]
    );
    int(&mut c, &["EXPIRE", "dst", "100"]);
    assert_eq!(
        int(
            &mut c,
            &["ZINTERSTORE", "dst", "2", "z1", "z2", "AGGREGATE", "MIN"]
        ),
        2
    );
    assert_eq!(int(&mut c, &["TTL", "dst"]), -1);
    assert_eq!(
        strs(&mut c, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        ["b", "2", "c", "3"]
    );
    assert_eq!(int(&mut c, &["ZDIFFSTORE", "dst", "2", "z2", "z1"]), 1);
    assert_eq!(
        strs(&mut c, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        ["d", "30"]
    );
    // A source may be the destination.
    assert_eq!(int(&mut c, &["ZUNIONSTORE", "z1", "2", "z1", "z1"]), 3);
    assert_eq!(
        strs(&mut c, &["ZRANGE", "z1", "0", "-1", "WITHSCORES"]),
        ["a", "2", "b", "4", "c", "6"]
    );
    // An empty result deletes the destination.
    assert_eq!(int(&mut c, &["ZINTERSTORE", "dst", "2", "z1", "nokey"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "dst"]), 0);
    assert_eq!(int(&mut c, &["ZRANGESTORE", "dst2", "z2", "1", "-1"]), 2);
    assert_eq!(strs(&mut c, &["ZRANGE", "dst2", "0", "-1"]), ["c", "d"]);
    assert_eq!(
        int(
            &mut c,
            &[
                "ZRANGESTORE",
                "dst2",
                "z2",
                "(10",
                "+inf",
                "BYSCORE",
                "LIMIT",
                "1",
                "1"
            ]
        ),
        1
    );
    assert_eq!(strs(&mut c, &["ZRANGE", "dst2", "0", "-1"]), ["d"]);
    assert_eq!(
        int(
            &mut c,
            &["ZRANGESTORE", "dst2", "z2", "[c", "-", "BYLEX", "REV"]
        ),
        2
    );
    assert_eq!(strs(&mut c, &["ZRANGE", "dst2", "0", "-1"]), ["b", "c"]);
    assert_eq!(int(&mut c, &["ZRANGESTORE", "dst2", "nokey", "0", "-1"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "dst2"]), 0);
    // Errors.
    q::<String>(&mut c, &["SET", "str", "v"]);
    for (args, err) in [
        (
            &["ZUNIONSTORE", "d", "0", "z1"][..],
            "ERR at least 1 input key is needed for 'zunionstore' command",
        ),
        (
            &["ZUNION", "-1", "z1"],
            "ERR at least 1 input key is needed for 'zunion' command",
        ),
        (
            &["ZINTERCARD", "0", "z1"],
            "ERR at least 1 input key is needed for 'zintercard' command",
        ),
        (&["ZUNION", "x", "z1"], NOT_INT),
        (&["ZUNIONSTORE", "d", "2", "z1"], SYNTAX),
        (&["ZINTER", "1", "z1", "WEIGHTS", "1", "2"], SYNTAX),
        (
            &["ZINTER", "1", "z1", "WEIGHTS", "x"],
            "ERR weight value is not a float",
        ),
        (&["ZINTER", "1", "z1", "AGGREGATE", "avg"], SYNTAX),
        (&["ZUNIONSTORE", "d", "1", "z1", "WITHSCORES"], SYNTAX),
        (&["ZDIFF", "1", "z1", "WEIGHTS", "1"], SYNTAX),
        (&["ZDIFF", "1", "z1", "AGGREGATE", "SUM"], SYNTAX),
        (
            &["ZINTERCARD", "1", "z1", "LIMIT", "-1"],
            "ERR LIMIT can't be negative",
        ),
        (&["ZINTERCARD", "1", "z1", "WITHSCORES"], SYNTAX),
        (&["ZINTER", "2", "z1", "str", "WEIGHTS", "x"], WRONGTYPE),
        (&["ZUNIONSTORE", "d", "1", "str"], WRONGTYPE),
        (&["ZRANGESTORE", "d", "z1", "0", "-1", "WITHSCORES"], SYNTAX),
        (&["ZRANGESTORE", "d", "str", "0", "-1"], WRONGTYPE),
    ] {
        assert_eq!(q_err(&mut c, args), err, "{args:?}");
    }
}

#[test]
fn wrong_type_and_arity() {
    let s = Server::start();
    let mut c = s.client();
    q::<String>(&mut c, &["SET", "str", "v"]);
    for args in [
        &["ZADD", "str", "1", "a"][..],
        &["ZINCRBY", "str", "1", "a"],
        &["ZREM", "str", "a"],
        &["ZCARD", "str"],
        &["ZCOUNT", "str", "0", "1"],
        &["ZLEXCOUNT", "str", "-", "+"],
        &["ZSCORE", "str", "a"],
        &["ZMSCORE", "str", "a"],
        &["ZRANK", "str", "a"],
        &["ZREVRANK", "str", "a"],
        &["ZRANGE", "str", "0", "-1"],
        &["ZRANGEBYSCORE", "str", "0", "1"],
        &["ZRANGEBYLEX", "str", "-", "+"],
        &["ZREMRANGEBYRANK", "str", "0", "1"],
        &["ZREMRANGEBYSCORE", "str", "0", "1"],
        &["ZREMRANGEBYLEX", "str", "-", "+"],
        &["ZPOPMIN", "str"],
        &["ZPOPMAX", "str", "2"],
        &["ZMPOP", "1", "str", "MIN"],
        &["ZRANDMEMBER", "str"],
        &["ZRANDMEMBER", "str", "2"],
        &["ZUNION", "1", "str"],
        &["ZINTERCARD", "1", "str"],
        &["ZSCAN", "str", "0"],
    ] {
        assert_eq!(q_err(&mut c, args), WRONGTYPE, "{args:?}");
    }
    // Argument checks come before the type check, as in Redis.
    assert_eq!(q_err(&mut c, &["ZADD", "str", "x", "a"]), NOT_FLOAT);
    assert_eq!(
        q_err(&mut c, &["ZRANGE", "str", "x", "y", "BYSCORE"]),
        "ERR min or max is not a float"
    );
    for (args, name) in [
        (&["ZCARD"][..], "zcard"),
        (&["ZSCORE", "k"], "zscore"),
        (&["ZMSCORE", "k"], "zmscore"),
        (&["ZREM", "k"], "zrem"),
        (&["ZRANGE", "k", "0"], "zrange"),
        (&["ZRANGESTORE", "d", "k", "0"], "zrangestore"),
        (&["ZCOUNT", "k", "0", "1", "2"], "zcount"),
        (&["ZPOPMIN"], "zpopmin"),
        (&["ZMPOP", "1", "k"], "zmpop"),
        (&["ZUNIONSTORE", "d", "1"], "zunionstore"),
        (&["ZUNION", "1"], "zunion"),
        (&["ZSCAN", "k"], "zscan"),
    ] {
        assert_eq!(
            q_err(&mut c, args),
            format!("ERR wrong number of arguments for '{name}' command"),
            "{args:?}"
        );
    }
}

#[test]
fn expiry_and_recreation() {
    let s = Server::start();
    let mut c = s.client();
    int(&mut c, &["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(int(&mut c, &["PEXPIRE", "z", "100"]), 1);
    thread::sleep(Duration::from_millis(250));
    assert_eq!(int(&mut c, &["EXISTS", "z"]), 0);
    assert_eq!(int(&mut c, &["ZCARD", "z"]), 0);
    assert_eq!(opt(&mut c, &["ZSCORE", "z", "a"]), None);
    assert!(strs(&mut c, &["ZRANGE", "z", "0", "-1"]).is_empty());
    // Re-created: none of the old members come back.
    assert_eq!(int(&mut c, &["ZADD", "z", "5", "c"]), 1);
    assert_eq!(
        strs(&mut c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        ["c", "5"]
    );
    assert_eq!(int(&mut c, &["TTL", "z"]), -1);
    // DEL then ZADD: a fresh set too.
    int(&mut c, &["DEL", "z"]);
    int(&mut c, &["ZADD", "z", "1", "x"]);
    assert_eq!(strs(&mut c, &["ZRANGEBYSCORE", "z", "-inf", "+inf"]), ["x"]);
    // A TTL survives member updates.
    int(&mut c, &["EXPIRE", "z", "100"]);
    int(&mut c, &["ZADD", "z", "2", "y"]);
    int(&mut c, &["ZREM", "z", "x"]);
    assert!(int(&mut c, &["TTL", "z"]) > 0);
    // RENAME and COPY carry both indexes.
    q::<String>(&mut c, &["RENAME", "z", "z2"]);
    assert_eq!(
        strs(
            &mut c,
            &["ZRANGEBYSCORE", "z2", "-inf", "+inf", "WITHSCORES"]
        ),
        ["y", "2"]
    );
    int(&mut c, &["COPY", "z2", "z3"]);
    assert_eq!(int(&mut c, &["ZRANK", "z3", "y"]), 0);
}
