//! List commands against the real binary, checked against Redis 7 replies.
//! One server for the whole file: every case runs in turn inside one test,
//! on its own keys.

mod common;

use common::{q, q_err, Raw, Server};
use redis::Connection;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

fn range(c: &mut Connection, key: &str) -> Vec<String> {
    q(c, &["LRANGE", key, "0", "-1"])
}

fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn push_pop_both_ends(c: &mut Connection) {
    assert_eq!(q::<i64>(c, &["RPUSH", "pp", "c", "d"]), 2);
    assert_eq!(q::<i64>(c, &["LPUSH", "pp", "b", "a"]), 4);
    // LPUSH pushes one by one: the last argument ends up first.
    assert_eq!(range(c, "pp"), strs(&["a", "b", "c", "d"]));
    assert_eq!(q::<i64>(c, &["LLEN", "pp"]), 4);
    assert_eq!(q::<String>(c, &["LPOP", "pp"]), "a");
    assert_eq!(q::<String>(c, &["RPOP", "pp"]), "d");
    assert_eq!(q::<i64>(c, &["RPUSH", "pp", "e"]), 3);
    assert_eq!(q::<i64>(c, &["LPUSH", "pp", "z"]), 4);
    assert_eq!(range(c, "pp"), strs(&["z", "b", "c", "e"]));
    // Interleaved pushes and pops at both ends, checked against a model.
    let mut model: std::collections::VecDeque<String> = range(c, "pp").into_iter().collect();
    for i in 0..200 {
        let v = format!("v{i}");
        match i % 5 {
            0 | 3 => {
                q::<i64>(c, &["LPUSH", "pp", &v]);
                model.push_front(v);
            }
            1 => {
                q::<i64>(c, &["RPUSH", "pp", &v]);
                model.push_back(v);
            }
            2 => assert_eq!(q::<Option<String>>(c, &["RPOP", "pp"]), model.pop_back()),
            _ => assert_eq!(q::<Option<String>>(c, &["LPOP", "pp"]), model.pop_front()),
        }
    }
    let want: Vec<String> = model.into_iter().collect();
    assert_eq!(range(c, "pp"), want);
    assert_eq!(q::<usize>(c, &["LLEN", "pp"]), want.len());
    // Popping everything deletes the key.
    let n = want.len().to_string();
    assert_eq!(q::<Vec<String>>(c, &["LPOP", "pp", &n]), want);
    assert_eq!(q::<i64>(c, &["EXISTS", "pp"]), 0);
    assert_eq!(q::<Option<String>>(c, &["LPOP", "pp"]), None);
    assert_eq!(q::<Option<String>>(c, &["RPOP", "pp"]), None);
    assert_eq!(q::<i64>(c, &["LLEN", "pp"]), 0);
    // A new list after the old one vanished starts empty.
    assert_eq!(q::<i64>(c, &["RPUSH", "pp", "x"]), 1);
    assert_eq!(range(c, "pp"), strs(&["x"]));
}

fn pop_with_count(c: &mut Connection, raw: &mut Raw) {
    q::<i64>(c, &["RPUSH", "pc", "a", "b", "c", "d", "e"]);
    assert_eq!(raw.cmd(&["LPOP", "pc", "0"]), "*0\r\n");
    assert_eq!(raw.cmd(&["LPOP", "pc", "1"]), "*1\r\n$1\r\na\r\n");
    assert_eq!(q::<Vec<String>>(c, &["RPOP", "pc", "2"]), strs(&["e", "d"]));
    assert_eq!(
        q::<Vec<String>>(c, &["LPOP", "pc", "10"]),
        strs(&["b", "c"])
    );
    assert_eq!(q::<i64>(c, &["EXISTS", "pc"]), 0);
    // A missing key: nil bulk without a count, nil array with one.
    assert_eq!(raw.cmd(&["LPOP", "pc"]), "$-1\r\n");
    assert_eq!(raw.cmd(&["LPOP", "pc", "2"]), "*-1\r\n");
    assert_eq!(raw.cmd(&["RPOP", "pc", "0"]), "*-1\r\n");
    let range_err = "ERR value is out of range, must be positive";
    assert_eq!(q_err(c, &["LPOP", "pc", "-1"]), range_err);
    assert_eq!(q_err(c, &["RPOP", "pc", "x"]), range_err);
    assert_eq!(
        q_err(c, &["LPOP", "pc", "1", "2"]),
        "ERR wrong number of arguments for 'lpop' command"
    );
    // RESP3: nil arrays are nulls.
    raw.cmd(&["HELLO", "3"]);
    assert_eq!(raw.cmd(&["LPOP", "pc", "2"]), "_\r\n");
    assert_eq!(raw.cmd(&["LMPOP", "1", "pc", "LEFT"]), "_\r\n");
    raw.cmd(&["HELLO", "2"]);
}

fn pushx(c: &mut Connection) {
    assert_eq!(q::<i64>(c, &["LPUSHX", "px", "a"]), 0);
    assert_eq!(q::<i64>(c, &["RPUSHX", "px", "a", "b"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "px"]), 0);
    q::<i64>(c, &["RPUSH", "px", "m"]);
    assert_eq!(q::<i64>(c, &["LPUSHX", "px", "b", "a"]), 3);
    assert_eq!(q::<i64>(c, &["RPUSHX", "px", "y", "z"]), 5);
    assert_eq!(range(c, "px"), strs(&["a", "b", "m", "y", "z"]));
}

fn index_and_range(c: &mut Connection) {
    q::<i64>(c, &["RPUSH", "ir", "a", "b", "c", "d", "e"]);
    assert_eq!(q::<String>(c, &["LINDEX", "ir", "0"]), "a");
    assert_eq!(q::<String>(c, &["LINDEX", "ir", "4"]), "e");
    assert_eq!(q::<String>(c, &["LINDEX", "ir", "-1"]), "e");
    assert_eq!(q::<String>(c, &["LINDEX", "ir", "-5"]), "a");
    assert_eq!(q::<Option<String>>(c, &["LINDEX", "ir", "5"]), None);
    assert_eq!(q::<Option<String>>(c, &["LINDEX", "ir", "-6"]), None);
    assert_eq!(
        q::<Option<String>>(c, &["LINDEX", "ir", "9223372036854775807"]),
        None
    );
    assert_eq!(
        q::<Option<String>>(c, &["LINDEX", "ir", "-9223372036854775808"]),
        None
    );
    assert_eq!(q_err(c, &["LINDEX", "ir", "x"]), NOT_INT);
    // A missing key is nil before the index is even parsed.
    assert_eq!(q::<Option<String>>(c, &["LINDEX", "nokey", "x"]), None);

    let r = |c: &mut Connection, a: &str, b: &str| -> Vec<String> { q(c, &["LRANGE", "ir", a, b]) };
    assert_eq!(r(c, "1", "2"), strs(&["b", "c"]));
    assert_eq!(r(c, "-2", "-1"), strs(&["d", "e"]));
    assert_eq!(r(c, "-100", "1"), strs(&["a", "b"]));
    assert_eq!(r(c, "3", "100"), strs(&["d", "e"]));
    assert_eq!(r(c, "2", "1"), Vec::<String>::new());
    assert_eq!(r(c, "5", "10"), Vec::<String>::new());
    assert_eq!(r(c, "-1", "-2"), Vec::<String>::new());
    assert_eq!(r(c, "0", "-6"), Vec::<String>::new());
    assert_eq!(r(c, "-9223372036854775808", "9223372036854775807").len(), 5);
    assert_eq!(q_err(c, &["LRANGE", "ir", "a", "1"]), NOT_INT);
    assert_eq!(q_err(c, &["LRANGE", "nokey", "0", "b"]), NOT_INT);
    assert_eq!(
        q::<Vec<String>>(c, &["LRANGE", "nokey", "0", "-1"]),
        Vec::<String>::new()
    );
}

fn lset(c: &mut Connection) {
    q::<i64>(c, &["RPUSH", "ls", "a", "b", "c"]);
    assert_eq!(q::<String>(c, &["LSET", "ls", "1", "B"]), "OK");
    assert_eq!(q::<String>(c, &["LSET", "ls", "-1", "C"]), "OK");
    assert_eq!(q::<String>(c, &["LSET", "ls", "0", ""]), "OK");
    assert_eq!(range(c, "ls"), strs(&["", "B", "C"]));
    assert_eq!(
        q_err(c, &["LSET", "ls", "3", "x"]),
        "ERR index out of range"
    );
    assert_eq!(
        q_err(c, &["LSET", "ls", "-4", "x"]),
        "ERR index out of range"
    );
    assert_eq!(q_err(c, &["LSET", "ls", "x", "x"]), NOT_INT);
    assert_eq!(q_err(c, &["LSET", "nokey", "0", "x"]), "ERR no such key");
    // The key is looked up before the index is parsed.
    assert_eq!(q_err(c, &["LSET", "nokey", "x", "x"]), "ERR no such key");
    assert_eq!(q::<i64>(c, &["EXISTS", "nokey"]), 0);
}

fn linsert(c: &mut Connection) {
    q::<i64>(c, &["RPUSH", "li", "a", "b", "c"]);
    assert_eq!(q::<i64>(c, &["LINSERT", "li", "BEFORE", "a", "0"]), 4);
    assert_eq!(q::<i64>(c, &["LINSERT", "li", "after", "c", "d"]), 5);
    assert_eq!(q::<i64>(c, &["LINSERT", "li", "AFTER", "a", "a2"]), 6);
    assert_eq!(q::<i64>(c, &["LINSERT", "li", "before", "c", "b2"]), 7);
    assert_eq!(range(c, "li"), strs(&["0", "a", "a2", "b", "b2", "c", "d"]));
    assert_eq!(q::<i64>(c, &["LINSERT", "li", "BEFORE", "zz", "x"]), -1);
    assert_eq!(q::<i64>(c, &["LINSERT", "nokey", "BEFORE", "a", "x"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "nokey"]), 0);
    assert_eq!(q_err(c, &["LINSERT", "li", "middle", "a", "x"]), SYNTAX);
    assert_eq!(q_err(c, &["LINSERT", "nokey", "middle", "a", "x"]), SYNTAX);
    // Only the first pivot counts.
    q::<i64>(c, &["RPUSH", "li2", "p", "p", "p"]);
    assert_eq!(q::<i64>(c, &["LINSERT", "li2", "AFTER", "p", "x"]), 4);
    assert_eq!(range(c, "li2"), strs(&["p", "x", "p", "p"]));
    assert_eq!(q::<i64>(c, &["LLEN", "li"]), 7);
}

fn lrem(c: &mut Connection) {
    let fill = |c: &mut Connection| {
        q::<i64>(c, &["DEL", "lr"]);
        q::<i64>(c, &["RPUSH", "lr", "a", "x", "b", "x", "c", "x", "d"]);
    };
    fill(c);
    assert_eq!(q::<i64>(c, &["LREM", "lr", "2", "x"]), 2);
    assert_eq!(range(c, "lr"), strs(&["a", "b", "c", "x", "d"]));
    fill(c);
    assert_eq!(q::<i64>(c, &["LREM", "lr", "-2", "x"]), 2);
    assert_eq!(range(c, "lr"), strs(&["a", "x", "b", "c", "d"]));
    fill(c);
    assert_eq!(q::<i64>(c, &["LREM", "lr", "0", "x"]), 3);
    assert_eq!(range(c, "lr"), strs(&["a", "b", "c", "d"]));
    assert_eq!(q::<i64>(c, &["LREM", "lr", "5", "nothere"]), 0);
    assert_eq!(q::<i64>(c, &["LREM", "lr", "-100", "a"]), 1);
    assert_eq!(range(c, "lr"), strs(&["b", "c", "d"]));
    assert_eq!(q::<i64>(c, &["LREM", "nokey", "0", "a"]), 0);
    assert_eq!(q_err(c, &["LREM", "lr", "x", "a"]), NOT_INT);
    assert_eq!(q_err(c, &["LREM", "nokey", "x", "a"]), NOT_INT);
    // Removing every element deletes the key.
    q::<i64>(c, &["RPUSH", "lr2", "z", "z", "z"]);
    assert_eq!(q::<i64>(c, &["LREM", "lr2", "0", "z"]), 3);
    assert_eq!(q::<i64>(c, &["EXISTS", "lr2"]), 0);
}

fn ltrim(c: &mut Connection) {
    q::<i64>(c, &["RPUSH", "lt", "a", "b", "c", "d", "e"]);
    assert_eq!(q::<String>(c, &["LTRIM", "lt", "1", "-2"]), "OK");
    assert_eq!(range(c, "lt"), strs(&["b", "c", "d"]));
    assert_eq!(q::<String>(c, &["LTRIM", "lt", "-100", "100"]), "OK");
    assert_eq!(range(c, "lt"), strs(&["b", "c", "d"]));
    assert_eq!(q::<String>(c, &["LTRIM", "lt", "1", "1"]), "OK");
    assert_eq!(range(c, "lt"), strs(&["c"]));
    // Trimming to nothing deletes the key.
    assert_eq!(q::<String>(c, &["LTRIM", "lt", "1", "0"]), "OK");
    assert_eq!(q::<i64>(c, &["EXISTS", "lt"]), 0);
    q::<i64>(c, &["RPUSH", "lt", "a", "b"]);
    assert_eq!(q::<String>(c, &["LTRIM", "lt", "5", "10"]), "OK");
    assert_eq!(q::<i64>(c, &["EXISTS", "lt"]), 0);
    assert_eq!(q::<String>(c, &["LTRIM", "nokey", "0", "1"]), "OK");
    assert_eq!(q_err(c, &["LTRIM", "lt", "a", "1"]), NOT_INT);
    // A capped list: push then trim, the usual pattern.
    for i in 0..50 {
        q::<i64>(c, &["LPUSH", "capped", &i.to_string()]);
        q::<String>(c, &["LTRIM", "capped", "0", "9"]);
    }
    let want: Vec<String> = (40..50).rev().map(|i| i.to_string()).collect();
    assert_eq!(range(c, "capped"), want);
    // Long trims on both sides (range deletions), then pushes again.
    let items: Vec<String> = (0..500).map(|i| i.to_string()).collect();
    let mut args = vec!["RPUSH", "lt3"];
    args.extend(items.iter().map(String::as_str));
    q::<i64>(c, &args);
    assert_eq!(q::<String>(c, &["LTRIM", "lt3", "100", "-101"]), "OK");
    assert_eq!(range(c, "lt3"), items[100..400].to_vec());
    q::<i64>(c, &["LPUSH", "lt3", "h"]);
    q::<i64>(c, &["RPUSH", "lt3", "t"]);
    assert_eq!(q::<i64>(c, &["LLEN", "lt3"]), 302);
    assert_eq!(q::<String>(c, &["LINDEX", "lt3", "0"]), "h");
    assert_eq!(q::<String>(c, &["LINDEX", "lt3", "1"]), "100");
    assert_eq!(q::<String>(c, &["LINDEX", "lt3", "-1"]), "t");
    assert_eq!(q::<String>(c, &["LINDEX", "lt3", "-2"]), "399");
}

const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from \
                         the second ... or use negative to start from the end of the list";

fn lpos(c: &mut Connection, raw: &mut Raw) {
    q::<i64>(c, &["RPUSH", "lp", "a", "b", "c", "a", "b", "c", "a"]);
    assert_eq!(q::<i64>(c, &["LPOS", "lp", "a"]), 0);
    assert_eq!(q::<i64>(c, &["LPOS", "lp", "c"]), 2);
    assert_eq!(q::<i64>(c, &["LPOS", "lp", "a", "RANK", "2"]), 3);
    assert_eq!(q::<i64>(c, &["LPOS", "lp", "a", "RANK", "-1"]), 6);
    assert_eq!(q::<i64>(c, &["LPOS", "lp", "a", "RANK", "-3"]), 0);
    assert_eq!(q::<Option<i64>>(c, &["LPOS", "lp", "a", "RANK", "4"]), None);
    assert_eq!(
        q::<Vec<i64>>(c, &["LPOS", "lp", "a", "COUNT", "0"]),
        vec![0, 3, 6]
    );
    assert_eq!(
        q::<Vec<i64>>(c, &["LPOS", "lp", "a", "COUNT", "2"]),
        vec![0, 3]
    );
    assert_eq!(
        q::<Vec<i64>>(c, &["LPOS", "lp", "a", "RANK", "-1", "COUNT", "2"]),
        vec![6, 3]
    );
    assert_eq!(
        q::<Vec<i64>>(c, &["LPOS", "lp", "a", "COUNT", "0", "MAXLEN", "4"]),
        vec![0, 3]
    );
    assert_eq!(
        q::<Vec<i64>>(
            c,
            &["LPOS", "lp", "a", "RANK", "-2", "COUNT", "2", "MAXLEN", "3"]
        ),
        Vec::<i64>::new()
    );
    assert_eq!(q::<Option<i64>>(c, &["LPOS", "lp", "zz"]), None);
    assert_eq!(raw.cmd(&["LPOS", "lp", "zz", "COUNT", "1"]), "*0\r\n");
    assert_eq!(raw.cmd(&["LPOS", "nokey", "a"]), "$-1\r\n");
    assert_eq!(raw.cmd(&["LPOS", "nokey", "a", "COUNT", "1"]), "*0\r\n");
    assert_eq!(q_err(c, &["LPOS", "lp", "a", "RANK", "0"]), RANK_ZERO);
    assert_eq!(q_err(c, &["LPOS", "nokey", "a", "RANK", "0"]), RANK_ZERO);
    let neg_count = "ERR COUNT can't be negative";
    assert_eq!(q_err(c, &["LPOS", "lp", "a", "COUNT", "-1"]), neg_count);
    assert_eq!(q_err(c, &["LPOS", "lp", "a", "COUNT", "x"]), neg_count);
    assert_eq!(
        q_err(c, &["LPOS", "lp", "a", "MAXLEN", "-1"]),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(q_err(c, &["LPOS", "lp", "a", "RANK", "x"]), NOT_INT);
    assert_eq!(q_err(c, &["LPOS", "lp", "a", "RANK"]), SYNTAX);
    assert_eq!(q_err(c, &["LPOS", "lp", "a", "FOO", "1"]), SYNTAX);
    // The last of a repeated option wins.
    assert_eq!(
        q::<Vec<i64>>(
            c,
            &["LPOS", "lp", "a", "RANK", "1", "COUNT", "1", "RANK", "2"]
        ),
        vec![3]
    );
}

fn lmove_and_rpoplpush(c: &mut Connection) {
    q::<i64>(c, &["RPUSH", "src", "a", "b", "c"]);
    assert_eq!(
        q::<String>(c, &["LMOVE", "src", "dst", "LEFT", "RIGHT"]),
        "a"
    );
    assert_eq!(
        q::<String>(c, &["LMOVE", "src", "dst", "right", "left"]),
        "c"
    );
    assert_eq!(range(c, "src"), strs(&["b"]));
    assert_eq!(range(c, "dst"), strs(&["c", "a"]));
    assert_eq!(
        q::<String>(c, &["LMOVE", "src", "dst", "LEFT", "LEFT"]),
        "b"
    );
    assert_eq!(q::<i64>(c, &["EXISTS", "src"]), 0);
    assert_eq!(range(c, "dst"), strs(&["b", "c", "a"]));
    assert_eq!(
        q::<Option<String>>(c, &["LMOVE", "src", "dst", "LEFT", "LEFT"]),
        None
    );
    // Same key: a rotation.
    assert_eq!(
        q::<String>(c, &["LMOVE", "dst", "dst", "LEFT", "RIGHT"]),
        "b"
    );
    assert_eq!(range(c, "dst"), strs(&["c", "a", "b"]));
    assert_eq!(
        q::<String>(c, &["LMOVE", "dst", "dst", "RIGHT", "LEFT"]),
        "b"
    );
    assert_eq!(range(c, "dst"), strs(&["b", "c", "a"]));
    assert_eq!(
        q::<String>(c, &["LMOVE", "dst", "dst", "LEFT", "LEFT"]),
        "b"
    );
    assert_eq!(range(c, "dst"), strs(&["b", "c", "a"]));
    assert_eq!(q::<String>(c, &["RPOPLPUSH", "dst", "dst"]), "a");
    assert_eq!(range(c, "dst"), strs(&["a", "b", "c"]));
    // A one-element list moved onto itself stays.
    q::<i64>(c, &["RPUSH", "one", "only"]);
    assert_eq!(
        q::<String>(c, &["LMOVE", "one", "one", "LEFT", "RIGHT"]),
        "only"
    );
    assert_eq!(range(c, "one"), strs(&["only"]));
    assert_eq!(q::<String>(c, &["RPOPLPUSH", "one", "other"]), "only");
    assert_eq!(q::<i64>(c, &["EXISTS", "one"]), 0);
    assert_eq!(range(c, "other"), strs(&["only"]));
    assert_eq!(q::<Option<String>>(c, &["RPOPLPUSH", "one", "other"]), None);
    assert_eq!(q::<String>(c, &["RPOPLPUSH", "dst", "other"]), "c");
    assert_eq!(range(c, "other"), strs(&["c", "only"]));
    assert_eq!(
        q_err(c, &["LMOVE", "dst", "other", "MIDDLE", "LEFT"]),
        SYNTAX
    );
    assert_eq!(q_err(c, &["LMOVE", "dst", "other", "LEFT", "UP"]), SYNTAX);
    assert_eq!(
        q_err(c, &["LMOVE", "dst", "other", "LEFT"]),
        "ERR wrong number of arguments for 'lmove' command"
    );
    // Many moves back and forth keep both lists intact.
    for _ in 0..30 {
        q::<String>(c, &["LMOVE", "dst", "other", "RIGHT", "LEFT"]);
        q::<String>(c, &["LMOVE", "other", "dst", "RIGHT", "LEFT"]);
    }
    let mut all = range(c, "dst");
    all.extend(range(c, "other"));
    all.sort();
    assert_eq!(all, strs(&["a", "b", "c", "only"]));
}

fn lmpop(c: &mut Connection, raw: &mut Raw) {
    q::<i64>(c, &["RPUSH", "mp2", "a", "b", "c"]);
    assert_eq!(
        raw.cmd(&["LMPOP", "2", "mp1", "mp2", "LEFT"]),
        "*2\r\n$3\r\nmp2\r\n*1\r\n$1\r\na\r\n"
    );
    assert_eq!(
        raw.cmd(&["LMPOP", "2", "mp1", "mp2", "RIGHT", "COUNT", "5"]),
        "*2\r\n$3\r\nmp2\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    assert_eq!(q::<i64>(c, &["EXISTS", "mp2"]), 0);
    assert_eq!(raw.cmd(&["LMPOP", "2", "mp1", "mp2", "LEFT"]), "*-1\r\n");
    q::<i64>(c, &["RPUSH", "mp1", "x", "y"]);
    q::<i64>(c, &["RPUSH", "mp2", "z"]);
    assert_eq!(
        raw.cmd(&["LMPOP", "2", "mp1", "mp2", "left", "count", "1"]),
        "*2\r\n$3\r\nmp1\r\n*1\r\n$1\r\nx\r\n"
    );
    let numkeys = "ERR numkeys should be greater than 0";
    let count = "ERR count should be greater than 0";
    assert_eq!(q_err(c, &["LMPOP", "0", "mp1", "LEFT"]), numkeys);
    assert_eq!(q_err(c, &["LMPOP", "-1", "mp1", "LEFT"]), numkeys);
    assert_eq!(q_err(c, &["LMPOP", "x", "mp1", "LEFT"]), numkeys);
    assert_eq!(q_err(c, &["LMPOP", "2", "mp1", "LEFT"]), SYNTAX);
    assert_eq!(q_err(c, &["LMPOP", "99", "mp1", "LEFT"]), SYNTAX);
    assert_eq!(q_err(c, &["LMPOP", "1", "mp1", "MIDDLE"]), SYNTAX);
    assert_eq!(q_err(c, &["LMPOP", "1", "mp1", "LEFT", "COUNT"]), SYNTAX);
    assert_eq!(
        q_err(c, &["LMPOP", "1", "mp1", "LEFT", "COUNT", "0"]),
        count
    );
    assert_eq!(
        q_err(c, &["LMPOP", "1", "mp1", "LEFT", "COUNT", "x"]),
        count
    );
    assert_eq!(
        q_err(
            c,
            &["LMPOP", "1", "mp1", "LEFT", "COUNT", "1", "COUNT", "2"]
        ),
        SYNTAX
    );
    assert_eq!(q_err(c, &["LMPOP", "1", "mp1", "LEFT", "FOO"]), SYNTAX);
    assert_eq!(range(c, "mp1"), strs(&["y"]));
}

fn wrongtype(c: &mut Connection) {
    q::<String>(c, &["SET", "str", "v"]);
    q::<i64>(c, &["RPUSH", "wl", "a"]);
    let cases: &[&[&str]] = &[
        &["LPUSH", "str", "a"],
        &["RPUSH", "str", "a"],
        &["LPUSHX", "str", "a"],
        &["RPUSHX", "str", "a"],
        &["LPOP", "str"],
        &["RPOP", "str", "0"],
        &["LLEN", "str"],
        &["LINDEX", "str", "0"],
        &["LINDEX", "str", "x"],
        &["LRANGE", "str", "0", "-1"],
        &["LSET", "str", "0", "x"],
        &["LSET", "str", "x", "x"],
        &["LINSERT", "str", "BEFORE", "a", "b"],
        &["LREM", "str", "0", "a"],
        &["LTRIM", "str", "0", "1"],
        &["LPOS", "str", "a"],
        &["LMOVE", "str", "wl", "LEFT", "LEFT"],
        &["LMOVE", "wl", "str", "LEFT", "LEFT"],
        &["RPOPLPUSH", "wl", "str"],
        &["LMPOP", "2", "nokey", "str", "LEFT"],
    ];
    for args in cases {
        assert_eq!(q_err(c, args), WRONGTYPE, "{args:?}");
    }
    // Nothing moved, nothing changed.
    assert_eq!(range(c, "wl"), strs(&["a"]));
    assert_eq!(q::<String>(c, &["GET", "str"]), "v");
    // A missing source never looks at the destination; a list found
    // first in LMPOP stops the search.
    assert_eq!(
        q::<Option<String>>(c, &["LMOVE", "nokey", "str", "LEFT", "LEFT"]),
        None
    );
    assert_eq!(
        q::<(String, Vec<String>)>(c, &["LMPOP", "2", "wl", "str", "LEFT"]),
        ("wl".to_string(), strs(&["a"]))
    );
    // Other types see a list as WRONGTYPE, and TYPE names it.
    q::<i64>(c, &["RPUSH", "wl", "a"]);
    assert_eq!(q_err(c, &["GET", "wl"]), WRONGTYPE);
    assert_eq!(q::<String>(c, &["TYPE", "wl"]), "list");
}

fn arity(c: &mut Connection) {
    for (cmd, args) in [
        ("lpush", vec!["lpush", "k"]),
        ("rpush", vec!["rpush", "k"]),
        ("lpushx", vec!["lpushx", "k"]),
        ("rpushx", vec!["rpushx", "k"]),
        ("lpop", vec!["lpop"]),
        ("rpop", vec!["rpop"]),
        ("llen", vec!["llen", "k", "x"]),
        ("lindex", vec!["lindex", "k"]),
        ("lrange", vec!["lrange", "k", "0"]),
        ("lset", vec!["lset", "k", "0"]),
        ("linsert", vec!["linsert", "k", "before", "a"]),
        ("lrem", vec!["lrem", "k", "0"]),
        ("ltrim", vec!["ltrim", "k", "0"]),
        ("lpos", vec!["lpos", "k"]),
        ("lmove", vec!["lmove", "a", "b", "left"]),
        ("rpoplpush", vec!["rpoplpush", "a"]),
        ("lmpop", vec!["lmpop", "1", "a"]),
    ] {
        assert_eq!(
            q_err(c, &args),
            format!("ERR wrong number of arguments for '{cmd}' command")
        );
    }
}

fn binary_values(c: &mut Connection) {
    let vals: Vec<Vec<u8>> = vec![
        b"a\x00b".to_vec(),
        b"\r\n".to_vec(),
        b"".to_vec(),
        (0u8..=255).collect(),
        vec![0xff; 70_000],
    ];
    for v in &vals {
        let _: i64 = redis::cmd("RPUSH")
            .arg("bin")
            .arg(v.as_slice())
            .query(c)
            .unwrap();
    }
    let got: Vec<Vec<u8>> = redis::cmd("LRANGE")
        .arg("bin")
        .arg(0)
        .arg(-1)
        .query(c)
        .unwrap();
    assert_eq!(got, vals);
    let pos: i64 = redis::cmd("LPOS")
        .arg("bin")
        .arg(b"\r\n".as_slice())
        .query(c)
        .unwrap();
    assert_eq!(pos, 1);
    let n: i64 = redis::cmd("LINSERT")
        .arg("bin")
        .arg("AFTER")
        .arg(b"a\x00b".as_slice())
        .arg(b"\x00".as_slice())
        .query(c)
        .unwrap();
    assert_eq!(n, 6);
    let removed: i64 = redis::cmd("LREM")
        .arg("bin")
        .arg(0)
        .arg(b"".as_slice())
        .query(c)
        .unwrap();
    assert_eq!(removed, 1);
    let second: Vec<u8> = redis::cmd("LINDEX").arg("bin").arg(1).query(c).unwrap();
    assert_eq!(second, b"\x00");
    let last: Vec<u8> = redis::cmd("RPOP").arg("bin").query(c).unwrap();
    assert_eq!(last, vals[4]);
    // Binary keys.
    let key = b"k\x00\r\nk".as_slice();
    let _: i64 = redis::cmd("LPUSH").arg(key).arg("v").query(c).unwrap();
    let len: i64 = redis::cmd("LLEN").arg(key).query(c).unwrap();
    assert_eq!(len, 1);
    assert_eq!(q::<i64>(c, &["LLEN", "k"]), 0);
}

fn big_list(c: &mut Connection) {
    let n = 50_000usize;
    let mut pipe = redis::pipe();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut cmd = redis::cmd("RPUSH");
        cmd.arg("big");
        for i in chunk {
            cmd.arg(format!("e{i}"));
        }
        pipe.add_command(cmd).ignore();
    }
    let _: () = pipe.query(c).unwrap();
    assert_eq!(q::<usize>(c, &["LLEN", "big"]), n);
    assert_eq!(q::<String>(c, &["LINDEX", "big", "25000"]), "e25000");
    assert_eq!(q::<String>(c, &["LINDEX", "big", "-25000"]), "e25000");
    assert_eq!(q::<String>(c, &["LINDEX", "big", "49999"]), "e49999");
    let window: Vec<String> = (24_995..25_005).map(|i| format!("e{i}")).collect();
    assert_eq!(
        q::<Vec<String>>(c, &["LRANGE", "big", "24995", "25004"]),
        window
    );
    assert_eq!(
        q::<Vec<String>>(c, &["LRANGE", "big", "-25005", "-24996"]),
        window
    );
    assert_eq!(q::<i64>(c, &["LPOS", "big", "e40000"]), 40_000);
    assert_eq!(
        q::<i64>(c, &["LPOS", "big", "e40000", "RANK", "-1"]),
        40_000
    );
    assert_eq!(
        q::<Option<i64>>(c, &["LPOS", "big", "e40000", "MAXLEN", "100"]),
        None
    );
    // Pushes and pops at both ends leave the middle where it was.
    q::<i64>(c, &["LPUSH", "big", "head"]);
    q::<i64>(c, &["RPUSH", "big", "tail"]);
    assert_eq!(q::<String>(c, &["LINDEX", "big", "25001"]), "e25000");
    assert_eq!(q::<String>(c, &["LPOP", "big"]), "head");
    assert_eq!(q::<String>(c, &["RPOP", "big"]), "tail");
    // LSET in the middle.
    assert_eq!(q::<String>(c, &["LSET", "big", "30000", "mid"]), "OK");
    assert_eq!(q::<String>(c, &["LINDEX", "big", "30000"]), "mid");
    // LINSERT and LREM in the middle: far from both ends.
    assert_eq!(
        q::<i64>(c, &["LINSERT", "big", "BEFORE", "e25000", "ins"]),
        n as i64 + 1
    );
    assert_eq!(
        q::<Vec<String>>(c, &["LRANGE", "big", "24999", "25001"]),
        strs(&["e24999", "ins", "e25000"])
    );
    assert_eq!(q::<String>(c, &["LINDEX", "big", "-1"]), "e49999");
    assert_eq!(q::<String>(c, &["LINDEX", "big", "0"]), "e0");
    assert_eq!(q::<i64>(c, &["LREM", "big", "0", "ins"]), 1);
    assert_eq!(q::<i64>(c, &["LREM", "big", "1", "mid"]), 1);
    assert_eq!(q::<usize>(c, &["LLEN", "big"]), n - 1);
    assert_eq!(
        q::<Vec<String>>(c, &["LRANGE", "big", "29999", "30000"]),
        strs(&["e29999", "e30001"])
    );
    assert_eq!(q::<String>(c, &["LINDEX", "big", "25000"]), "e25000");
    // Near an end the shift is in place; the result is the same.
    assert_eq!(
        q::<i64>(c, &["LINSERT", "big", "AFTER", "e2", "near"]),
        n as i64
    );
    assert_eq!(q::<String>(c, &["LINDEX", "big", "3"]), "near");
    assert_eq!(q::<i64>(c, &["LREM", "big", "-1", "near"]), 1);
    assert_eq!(q::<String>(c, &["LINDEX", "big", "3"]), "e3");
    // Trim to a window in the middle, then to nothing.
    assert_eq!(q::<String>(c, &["LTRIM", "big", "10000", "10009"]), "OK");
    let want: Vec<String> = (10_000..10_010).map(|i| format!("e{i}")).collect();
    assert_eq!(range(c, "big"), want);
    assert_eq!(q::<String>(c, &["LTRIM", "big", "0", "-11"]), "OK");
    assert_eq!(q::<i64>(c, &["EXISTS", "big"]), 0);
}

fn expiry_and_keyspace(c: &mut Connection) {
    q::<i64>(c, &["RPUSH", "ex", "a", "b"]);
    assert_eq!(q::<i64>(c, &["PEXPIRE", "ex", "100"]), 1);
    // Writes keep the TTL.
    q::<i64>(c, &["RPUSH", "ex", "c"]);
    assert!(q::<i64>(c, &["PTTL", "ex"]) > 0);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(q::<i64>(c, &["LLEN", "ex"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "ex"]), 0);
    assert_eq!(
        q::<Vec<String>>(c, &["LRANGE", "ex", "0", "-1"]),
        Vec::<String>::new()
    );
    // A list pushed after expiry starts fresh.
    assert_eq!(q::<i64>(c, &["RPUSH", "ex", "new"]), 1);
    assert_eq!(range(c, "ex"), strs(&["new"]));
    assert_eq!(q::<i64>(c, &["TTL", "ex"]), -1);
    // DEL, then a new list under the same name.
    q::<i64>(c, &["RPUSH", "dl", "a", "b", "c"]);
    assert_eq!(q::<i64>(c, &["DEL", "dl"]), 1);
    assert_eq!(q::<i64>(c, &["LPUSH", "dl", "z"]), 1);
    assert_eq!(range(c, "dl"), strs(&["z"]));
    // RENAME keeps the elements in order.
    q::<String>(c, &["RENAME", "dl", "dl2"]);
    assert_eq!(range(c, "dl2"), strs(&["z"]));
}

fn transactions(c: &mut Connection) {
    let (a, b): (i64, Vec<String>) = redis::pipe()
        .atomic()
        .cmd("RPUSH")
        .arg("tx")
        .arg("1")
        .arg("2")
        .cmd("LRANGE")
        .arg("tx")
        .arg(0)
        .arg(-1)
        .query(c)
        .unwrap();
    assert_eq!(a, 2);
    assert_eq!(b, strs(&["1", "2"]));
}

#[test]
fn list_commands() {
    let s = Server::start();
    let mut c = s.client();
    let mut raw = s.raw();
    push_pop_both_ends(&mut c);
    pop_with_count(&mut c, &mut raw);
    pushx(&mut c);
    index_and_range(&mut c);
    lset(&mut c);
    linsert(&mut c);
    lrem(&mut c);
    ltrim(&mut c);
    lpos(&mut c, &mut raw);
    lmove_and_rpoplpush(&mut c);
    lmpop(&mut c, &mut raw);
    wrongtype(&mut c);
    arity(&mut c);
    binary_values(&mut c);
    big_list(&mut c);
    expiry_and_keyspace(&mut c);
    transactions(&mut c);
}
