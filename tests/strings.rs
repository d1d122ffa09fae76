//! String commands against the real binary, checked against Redis 7 replies.

mod common;

use std::collections::HashSet;
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use common::{q, q_err, Server};

const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn set_get_and_conditions() {
    let s = Server::start();
    let mut c = s.client();

    assert_eq!(q::<Option<String>>(&mut c, &["GET", "missing"]), None);
    assert_eq!(q::<String>(&mut c, &["SET", "k", "v1"]), "OK");
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v1");
    // Overwrite.
    assert_eq!(q::<String>(&mut c, &["SET", "k", "v2"]), "OK");
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v2");

    // NX: only when absent (nil reply otherwise).
    assert_eq!(q::<Option<String>>(&mut c, &["SET", "k", "nx", "NX"]), None);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v2");
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "fresh", "a", "nx"]),
        Some("OK".to_string())
    );
    assert_eq!(q::<String>(&mut c, &["GET", "fresh"]), "a");

    // XX: only when present.
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "absent", "x", "XX"]),
        None
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "absent"]), 0);
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "k", "v3", "XX"]),
        Some("OK".to_string())
    );
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v3");

    // GET option returns the old value (nil when absent).
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "k", "v4", "GET"]),
        Some("v3".to_string())
    );
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v4");
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "newget", "n", "GET"]),
        None
    );
    assert_eq!(q::<String>(&mut c, &["GET", "newget"]), "n");
    // XX + GET on a missing key: nil and nothing written.
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "nothere", "v", "XX", "GET"]),
        None
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "nothere"]), 0);
    // NX + GET (Redis 7): returns the old value and does not write.
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "k", "other", "NX", "GET"]),
        Some("v4".to_string())
    );
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v4");

    // Empty value is a value.
    assert_eq!(q::<String>(&mut c, &["SET", "empty", ""]), "OK");
    assert_eq!(
        q::<Option<String>>(&mut c, &["GET", "empty"]),
        Some(String::new())
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "empty"]), 1);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "empty"]), 0);
}

#[test]
fn set_expiry_options() {
    let s = Server::start();
    let mut c = s.client();

    q::<String>(&mut c, &["SET", "ex", "v", "EX", "100"]);
    let ttl = q::<i64>(&mut c, &["TTL", "ex"]);
    assert!((99..=100).contains(&ttl), "TTL after EX 100: {ttl}");

    q::<String>(&mut c, &["SET", "px", "v", "PX", "100000"]);
    let pttl = q::<i64>(&mut c, &["PTTL", "px"]);
    assert!(
        (98_000..=100_000).contains(&pttl),
        "PTTL after PX 100000: {pttl}"
    );

    let at = unix_secs() + 200;
    q::<String>(&mut c, &["SET", "exat", "v", "EXAT", &at.to_string()]);
    let ttl = q::<i64>(&mut c, &["TTL", "exat"]);
    assert!((198..=200).contains(&ttl), "TTL after EXAT now+200: {ttl}");
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "exat"]), at as i64);

    let pat = unix_millis() + 300_000;
    q::<String>(&mut c, &["SET", "pxat", "v", "PXAT", &pat.to_string()]);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "pxat"]), pat as i64);

    // A timestamp in the past: OK, and the key is gone at once.
    assert_eq!(
        q::<String>(&mut c, &["SET", "past", "v", "EXAT", "1"]),
        "OK"
    );
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "past"]), None);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "past"]), 0);

    // Plain SET clears the TTL, KEEPTTL keeps it.
    q::<String>(&mut c, &["SET", "t", "v", "EX", "100"]);
    q::<String>(&mut c, &["SET", "t", "v2", "KEEPTTL"]);
    let ttl = q::<i64>(&mut c, &["TTL", "t"]);
    assert!((99..=100).contains(&ttl), "TTL after KEEPTTL: {ttl}");
    assert_eq!(q::<String>(&mut c, &["GET", "t"]), "v2");
    q::<String>(&mut c, &["SET", "t", "v3"]);
    assert_eq!(q::<i64>(&mut c, &["TTL", "t"]), -1);

    // Options are case-insensitive.
    q::<String>(&mut c, &["set", "lc", "v", "ex", "50"]);
    let ttl = q::<i64>(&mut c, &["TTL", "lc"]);
    assert!((49..=50).contains(&ttl), "TTL after lower-case ex: {ttl}");

    // Short expiry really expires.
    q::<String>(&mut c, &["SET", "short", "v", "PX", "100"]);
    assert_eq!(q::<String>(&mut c, &["GET", "short"]), "v");
    thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "short"]), None);
}

#[test]
fn set_errors() {
    let s = Server::start();
    let mut c = s.client();
    let bad_expire = "ERR invalid expire time in 'set' command";

    assert_eq!(q_err(&mut c, &["SET", "k", "v", "EX", "0"]), bad_expire);
    assert_eq!(q_err(&mut c, &["SET", "k", "v", "PX", "0"]), bad_expire);
    assert_eq!(q_err(&mut c, &["SET", "k", "v", "EX", "-5"]), bad_expire);
    assert_eq!(q_err(&mut c, &["SET", "k", "v", "PXAT", "0"]), bad_expire);
    assert_eq!(q_err(&mut c, &["SET", "k", "v", "EXAT", "-1"]), bad_expire);
    assert_eq!(
        q_err(&mut c, &["SET", "k", "v", "EX", "9223372036854775807"]),
        bad_expire
    );
    assert_eq!(q_err(&mut c, &["SET", "k", "v", "EX", "abc"]), NOT_INT);
    assert_eq!(q_err(&mut c, &["SET", "k", "v", "EX", "1.5"]), NOT_INT);
    assert_eq!(q_err(&mut c, &["SET", "k", "v", "NX", "XX"]), SYNTAX);
    assert_eq!(
        q_err(&mut c, &["SET", "k", "v", "EX", "10", "PX", "100"]),
        SYNTAX
    );
    assert_eq!(
        q_err(&mut c, &["SET", "k", "v", "KEEPTTL", "EX", "10"]),
        SYNTAX
    );
    assert_eq!(q_err(&mut c, &["SET", "k", "v", "EX"]), SYNTAX);
    assert_eq!(q_err(&mut c, &["SET", "k", "v", "BOGUS"]), SYNTAX);
    assert_eq!(
        q_err(&mut c, &["SET", "k"]),
        "ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(
        q_err(&mut c, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        q_err(&mut c, &["GET", "a", "b"]),
        "ERR wrong number of arguments for 'get' command"
    );
    // Nothing was written by the failed commands.
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
}

#[test]
fn setnx_setex_psetex_mset_mget_getset_getdel_getex() {
    let s = Server::start();
    let mut c = s.client();

    assert_eq!(q::<i64>(&mut c, &["SETNX", "a", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SETNX", "a", "2"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "a"]), "1");

    assert_eq!(q::<String>(&mut c, &["SETEX", "se", "100", "v"]), "OK");
    let ttl = q::<i64>(&mut c, &["TTL", "se"]);
    assert!((99..=100).contains(&ttl), "{ttl}");
    assert_eq!(q::<String>(&mut c, &["GET", "se"]), "v");
    assert_eq!(
        q_err(&mut c, &["SETEX", "se", "0", "v"]),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        q_err(&mut c, &["SETEX", "se", "-1", "v"]),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(q_err(&mut c, &["SETEX", "se", "x", "v"]), NOT_INT);

    assert_eq!(q::<String>(&mut c, &["PSETEX", "pse", "100000", "v"]), "OK");
    let pttl = q::<i64>(&mut c, &["PTTL", "pse"]);
    assert!((98_000..=100_000).contains(&pttl), "{pttl}");
    assert_eq!(
        q_err(&mut c, &["PSETEX", "pse", "0", "v"]),
        "ERR invalid expire time in 'psetex' command"
    );

    assert_eq!(
        q::<String>(&mut c, &["MSET", "m1", "x", "m2", "y", "m3", "z"]),
        "OK"
    );
    assert_eq!(
        q::<Vec<Option<String>>>(&mut c, &["MGET", "m1", "nope", "m2", "m3"]),
        vec![
            Some("x".to_string()),
            None,
            Some("y".to_string()),
            Some("z".to_string())
        ]
    );
    assert_eq!(
        q_err(&mut c, &["MSET", "m1", "x", "m2"]),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        q_err(&mut c, &["MGET"]),
        "ERR wrong number of arguments for 'mget' command"
    );

    assert_eq!(q::<i64>(&mut c, &["MSETNX", "n1", "1", "n2", "2"]), 1);
    // One key exists: nothing is written.
    assert_eq!(q::<i64>(&mut c, &["MSETNX", "n2", "3", "n3", "4"]), 0);
    assert_eq!(
        q::<Vec<Option<String>>>(&mut c, &["MGET", "n1", "n2", "n3"]),
        vec![Some("1".to_string()), Some("2".to_string()), None]
    );
    assert_eq!(
        q_err(&mut c, &["MSETNX", "n1", "1", "n2"]),
        "ERR wrong number of arguments for 'msetnx' command"
    );

    assert_eq!(q::<Option<String>>(&mut c, &["GETSET", "gs", "1"]), None);
    assert_eq!(
        q::<Option<String>>(&mut c, &["GETSET", "gs", "2"]),
        Some("1".to_string())
    );
    // GETSET clears a TTL.
    q::<String>(&mut c, &["SET", "gst", "v", "EX", "100"]);
    q::<Option<String>>(&mut c, &["GETSET", "gst", "w"]);
    assert_eq!(q::<i64>(&mut c, &["TTL", "gst"]), -1);

    q::<String>(&mut c, &["SET", "gd", "val"]);
    assert_eq!(
        q::<Option<String>>(&mut c, &["GETDEL", "gd"]),
        Some("val".to_string())
    );
    assert_eq!(q::<Option<String>>(&mut c, &["GETDEL", "gd"]), None);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "gd"]), 0);

    q::<String>(&mut c, &["SET", "ge", "val"]);
    assert_eq!(q::<String>(&mut c, &["GETEX", "ge"]), "val");
    assert_eq!(q::<i64>(&mut c, &["TTL", "ge"]), -1);
    assert_eq!(q::<String>(&mut c, &["GETEX", "ge", "EX", "50"]), "val");
    let ttl = q::<i64>(&mut c, &["TTL", "ge"]);
    assert!((49..=50).contains(&ttl), "{ttl}");
    assert_eq!(q::<String>(&mut c, &["GETEX", "ge", "PX", "80000"]), "val");
    let pttl = q::<i64>(&mut c, &["PTTL", "ge"]);
    assert!((78_000..=80_000).contains(&pttl), "{pttl}");
    assert_eq!(q::<String>(&mut c, &["GETEX", "ge", "PERSIST"]), "val");
    assert_eq!(q::<i64>(&mut c, &["TTL", "ge"]), -1);
    let at = unix_secs() + 500;
    assert_eq!(
        q::<String>(&mut c, &["GETEX", "ge", "EXAT", &at.to_string()]),
        "val"
    );
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "ge"]), at as i64);
    assert_eq!(
        q::<Option<String>>(&mut c, &["GETEX", "nokey", "EX", "10"]),
        None
    );
    assert_eq!(
        q_err(&mut c, &["GETEX", "ge", "EX", "0"]),
        "ERR invalid expire time in 'getex' command"
    );
    assert_eq!(
        q_err(&mut c, &["GETEX", "ge", "EX", "10", "PX", "10"]),
        SYNTAX
    );
    assert_eq!(
        q_err(&mut c, &["GETEX", "ge", "PERSIST", "EX", "10"]),
        SYNTAX
    );
    // A timestamp in the past returns the value and deletes the key.
    assert_eq!(q::<String>(&mut c, &["GETEX", "ge", "EXAT", "1"]), "val");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "ge"]), 0);
}

#[test]
fn counters() {
    let s = Server::start();
    let mut c = s.client();

    assert_eq!(q::<i64>(&mut c, &["INCR", "n"]), 1);
    assert_eq!(q::<i64>(&mut c, &["INCR", "n"]), 2);
    assert_eq!(q::<i64>(&mut c, &["INCRBY", "n", "10"]), 12);
    assert_eq!(q::<i64>(&mut c, &["INCRBY", "n", "-20"]), -8);
    assert_eq!(q::<i64>(&mut c, &["DECR", "n"]), -9);
    assert_eq!(q::<i64>(&mut c, &["DECRBY", "n", "-9"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "n"]), "0");
    assert_eq!(q::<i64>(&mut c, &["DECR", "fresh"]), -1);
    assert_eq!(q::<i64>(&mut c, &["DECRBY", "fresh2", "5"]), -5);

    // A TTL survives INCR.
    q::<String>(&mut c, &["SET", "ttl", "5", "EX", "100"]);
    assert_eq!(q::<i64>(&mut c, &["INCR", "ttl"]), 6);
    let ttl = q::<i64>(&mut c, &["TTL", "ttl"]);
    assert!((99..=100).contains(&ttl), "{ttl}");

    // Not integers.
    q::<String>(&mut c, &["SET", "s", "abc"]);
    assert_eq!(q_err(&mut c, &["INCR", "s"]), NOT_INT);
    q::<String>(&mut c, &["SET", "sp", " 1"]);
    assert_eq!(q_err(&mut c, &["INCR", "sp"]), NOT_INT);
    q::<String>(&mut c, &["SET", "e", ""]);
    assert_eq!(q_err(&mut c, &["INCR", "e"]), NOT_INT);
    q::<String>(&mut c, &["SET", "f", "1.5"]);
    assert_eq!(q_err(&mut c, &["INCR", "f"]), NOT_INT);
    assert_eq!(q_err(&mut c, &["INCRBY", "n", "abc"]), NOT_INT);
    assert_eq!(q_err(&mut c, &["INCRBY", "n", "1.0"]), NOT_INT);
    assert_eq!(q_err(&mut c, &["DECRBY", "n", ""]), NOT_INT);
    assert_eq!(
        q_err(&mut c, &["INCRBY", "n"]),
        "ERR wrong number of arguments for 'incrby' command"
    );
    assert_eq!(
        q_err(&mut c, &["INCR", "a", "b"]),
        "ERR wrong number of arguments for 'incr' command"
    );

    // Overflow.
    q::<String>(&mut c, &["SET", "max", "9223372036854775807"]);
    assert_eq!(
        q_err(&mut c, &["INCR", "max"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(q::<String>(&mut c, &["GET", "max"]), "9223372036854775807");
    q::<String>(&mut c, &["SET", "min", "-9223372036854775808"]);
    assert_eq!(
        q_err(&mut c, &["DECR", "min"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        q_err(&mut c, &["DECRBY", "n", "-9223372036854775808"]),
        "ERR decrement would overflow"
    );
    q::<String>(&mut c, &["SET", "big", "10"]);
    assert_eq!(
        q::<i64>(&mut c, &["DECRBY", "big", "9223372036854775807"]),
        -9223372036854775797
    );
    assert_eq!(
        q_err(&mut c, &["DECRBY", "big", "9223372036854775807"]),
        "ERR increment or decrement would overflow"
    );
    q::<String>(&mut c, &["SET", "toolong", "9223372036854775808"]);
    assert_eq!(q_err(&mut c, &["INCR", "toolong"]), NOT_INT);

    // INCRBYFLOAT.
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "fl", "1.5"]), "1.5");
    q::<String>(&mut c, &["SET", "fl", "10.5"]);
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "fl", "0.1"]), "10.6");
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "fl", "-5"]), "5.6");
    assert_eq!(q::<String>(&mut c, &["GET", "fl"]), "5.6");
    q::<String>(&mut c, &["SET", "fl2", "10.5"]);
    assert_eq!(
        q::<String>(&mut c, &["INCRBYFLOAT", "fl2", "3.0e3"]),
        "3010.5"
    );
    q::<String>(&mut c, &["SET", "fi", "3"]);
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "fi", "1"]), "4");
    q::<String>(&mut c, &["SET", "fi2", "5"]);
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "fi2", "-0.5"]), "4.5");
    assert_eq!(
        q_err(&mut c, &["INCRBYFLOAT", "fl", "abc"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        q_err(&mut c, &["INCRBYFLOAT", "s", "1"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        q_err(&mut c, &["INCRBYFLOAT", "fl", "inf"]),
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(q::<String>(&mut c, &["GET", "fl"]), "5.6");
}

#[test]
fn append_strlen_ranges() {
    let s = Server::start();
    let mut c = s.client();

    assert_eq!(q::<i64>(&mut c, &["APPEND", "ap", "abc"]), 3);
    assert_eq!(q::<i64>(&mut c, &["APPEND", "ap", "def"]), 6);
    assert_eq!(q::<String>(&mut c, &["GET", "ap"]), "abcdef");
    assert_eq!(q::<i64>(&mut c, &["APPEND", "ap", ""]), 6);
    // APPEND keeps a TTL.
    q::<String>(&mut c, &["SET", "apt", "x", "EX", "100"]);
    assert_eq!(q::<i64>(&mut c, &["APPEND", "apt", "y"]), 2);
    assert!(q::<i64>(&mut c, &["TTL", "apt"]) > 0);

    assert_eq!(q::<i64>(&mut c, &["STRLEN", "ap"]), 6);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "nokey"]), 0);

    q::<String>(&mut c, &["SET", "s", "Hello World"]);
    assert_eq!(q::<String>(&mut c, &["GETRANGE", "s", "0", "4"]), "Hello");
    assert_eq!(q::<String>(&mut c, &["GETRANGE", "s", "-5", "-1"]), "World");
    assert_eq!(
        q::<String>(&mut c, &["GETRANGE", "s", "0", "-1"]),
        "Hello World"
    );
    assert_eq!(
        q::<String>(&mut c, &["GETRANGE", "s", "0", "100"]),
        "Hello World"
    );
    assert_eq!(q::<String>(&mut c, &["GETRANGE", "s", "5", "2"]), "");
    assert_eq!(q::<String>(&mut c, &["GETRANGE", "s", "20", "30"]), "");
    assert_eq!(q::<String>(&mut c, &["GETRANGE", "nokey", "0", "-1"]), "");
    assert_eq!(q::<String>(&mut c, &["SUBSTR", "s", "6", "-1"]), "World");
    assert_eq!(q_err(&mut c, &["GETRANGE", "s", "a", "1"]), NOT_INT);

    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "s", "6", "Redis"]), 11);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "Hello Redis");
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "s", "11", "!!"]), 13);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "Hello Redis!!");
    // Padding with zero bytes.
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "pad", "5", "x"]), 6);
    assert_eq!(
        q::<Vec<u8>>(&mut c, &["GET", "pad"]),
        b"\0\0\0\0\0x".to_vec()
    );
    // Empty value on a missing key creates nothing.
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "none", "0", ""]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "none"]), 0);
    assert_eq!(
        q_err(&mut c, &["SETRANGE", "s", "-1", "x"]),
        "ERR offset is out of range"
    );
    assert_eq!(
        q_err(&mut c, &["SETRANGE", "s", "536870912", "x"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
}

#[test]
fn cas_and_cad() {
    let s = Server::start();
    let mut c = s.client();

    // kvrocks: -1 when the key does not exist, 0 on mismatch, 1 on success.
    assert_eq!(q::<i64>(&mut c, &["CAS", "k", "old", "new"]), -1);
    q::<String>(&mut c, &["SET", "k", "old"]);
    assert_eq!(q::<i64>(&mut c, &["CAS", "k", "other", "new"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "old");
    assert_eq!(q::<i64>(&mut c, &["CAS", "k", "old", "new"]), 1);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "new");
    assert_eq!(
        q::<i64>(&mut c, &["CAS", "k", "new", "newer", "EX", "100"]),
        1
    );
    let ttl = q::<i64>(&mut c, &["TTL", "k"]);
    assert!((99..=100).contains(&ttl), "{ttl}");
    assert_eq!(
        q::<i64>(&mut c, &["CAS", "k", "newer", "p", "PX", "90000"]),
        1
    );
    let pttl = q::<i64>(&mut c, &["PTTL", "k"]);
    assert!((88_000..=90_000).contains(&pttl), "{pttl}");

    assert_eq!(q::<i64>(&mut c, &["CAD", "k", "wrong"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 1);
    assert_eq!(q::<i64>(&mut c, &["CAD", "k", "p"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
    assert_eq!(q::<i64>(&mut c, &["CAD", "k", "p"]), -1);
}

#[test]
fn cas_options_and_arity() {
    let s = Server::start();
    let mut c = s.client();
    q::<String>(&mut c, &["SET", "k", "a"]);
    // An option without its value is an arity error, as in kvrocks.
    for args in [
        &["CAS", "k", "a", "b", "EX"][..],
        &["CAS", "k", "a", "b", "PX", "100", "EXAT"][..],
    ] {
        assert_eq!(
            q_err(&mut c, args),
            "ERR wrong number of arguments for 'cas' command"
        );
    }
    assert_eq!(q_err(&mut c, &["CAS", "k", "a", "b", "XX", "1"]), SYNTAX);
    assert_eq!(
        q_err(&mut c, &["CAS", "k", "a", "b", "EX", "1", "PX", "1"]),
        SYNTAX
    );
    assert_eq!(
        q_err(&mut c, &["CAS", "k", "a", "b", "EX", "0"]),
        "ERR invalid expire time in 'cas' command"
    );
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "a");

    // EXAT and PXAT as in SET.
    let at = unix_secs() + 1000;
    let at_s = at.to_string();
    assert_eq!(q::<i64>(&mut c, &["CAS", "k", "a", "b", "EXAT", &at_s]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "k"]), at as i64);
    let at_ms = unix_millis() + 500_000;
    let at_ms_s = at_ms.to_string();
    assert_eq!(
        q::<i64>(&mut c, &["CAS", "k", "b", "c", "pxat", &at_ms_s]),
        1
    );
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "k"]), at_ms as i64);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "c");
    // A time in the past swaps and the key is gone at once.
    assert_eq!(q::<i64>(&mut c, &["CAS", "k", "c", "d", "EXAT", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
    // Without an option the TTL is cleared, as before.
    q::<String>(&mut c, &["SET", "k", "a", "EX", "100"]);
    assert_eq!(q::<i64>(&mut c, &["CAS", "k", "a", "b"]), 1);
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]), -1);
}

#[test]
fn lcs_like_redis() {
    let s = Server::start();
    let mut c = s.client();
    q::<String>(
        &mut c,
        &["MSET", "key1", "ohmytext", "key2", "mynewtext", "n", "1"],
    );
    assert_eq!(q::<String>(&mut c, &["LCS", "key1", "key2"]), "mytext");
    assert_eq!(q::<i64>(&mut c, &["LCS", "key1", "key2", "LEN"]), 6);
    assert_eq!(q::<String>(&mut c, &["LCS", "key1", "missing"]), "");
    // IDX: raw bytes, compared with what redis-server 7 sends.
    let mut raw = s.raw();
    assert_eq!(
        raw.cmd(&["LCS", "key1", "key2", "IDX"]),
        "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
         *2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "LCS",
            "key1",
            "key2",
            "IDX",
            "MINMATCHLEN",
            "4",
            "WITHMATCHLEN"
        ]),
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
         $3\r\nlen\r\n:6\r\n"
    );
    assert_eq!(
        q_err(&mut c, &["LCS", "key1", "key2", "IDX", "LEN"]),
        "ERR If you want both the length and indexes, please just use IDX."
    );
    assert_eq!(q_err(&mut c, &["LCS", "key1", "key2", "FOO"]), SYNTAX);
    assert_eq!(
        q_err(&mut c, &["LCS", "key1", "key2", "MINMATCHLEN", "x"]),
        NOT_INT
    );
    assert_eq!(
        q_err(&mut c, &["LCS", "key1", "key2", "MINMATCHLEN"]),
        SYNTAX
    );
    assert_eq!(
        q_err(&mut c, &["LCS", "key1"]),
        "ERR wrong number of arguments for 'lcs' command"
    );
}

#[test]
fn binary_safe_and_large_values() {
    let s = Server::start();
    let mut c = s.client();

    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let key: &[u8] = b"bin\0key\r\n\xff";
    let _: () = redis::cmd("SET")
        .arg(key)
        .arg(&all_bytes)
        .query(&mut c)
        .unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg(key).query(&mut c).unwrap();
    assert_eq!(got, all_bytes);
    let len: i64 = redis::cmd("STRLEN").arg(key).query(&mut c).unwrap();
    assert_eq!(len, 256);
    let n: i64 = redis::cmd("EXISTS")
        .arg(b"bin".as_slice())
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 0, "a key with a NUL byte is not its prefix");
    let appended: i64 = redis::cmd("APPEND")
        .arg(key)
        .arg(b"\r\n\0".as_slice())
        .query(&mut c)
        .unwrap();
    assert_eq!(appended, 259);

    // 1 MiB value with a pattern, through the client.
    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&big)
        .query(&mut c)
        .unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg("big").query(&mut c).unwrap();
    assert_eq!(got.len(), big.len());
    assert!(got == big, "1 MiB value differs after round trip");
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "big"]), 1024 * 1024);
    let slice: Vec<u8> = redis::cmd("GETRANGE")
        .arg("big")
        .arg(1_000_000)
        .arg(1_000_009)
        .query(&mut c)
        .unwrap();
    assert_eq!(slice, big[1_000_000..1_000_010].to_vec());

    // The same over a raw socket, with exact framing.
    let mut raw = s.raw();
    raw.send(&common::resp_cmd(&[b"SET", b"raw", &big]));
    assert_eq!(raw.read_reply(), b"+OK\r\n");
    raw.send(&common::resp_cmd(&[b"GET", b"raw"]));
    let reply = raw.read_reply();
    let mut expected = format!("${}\r\n", big.len()).into_bytes();
    expected.extend_from_slice(&big);
    expected.extend_from_slice(b"\r\n");
    assert!(reply == expected, "raw GET of 1 MiB value differs");
}

#[test]
fn incr_is_atomic_under_concurrency() {
    let s = Server::start();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let mut c = s.client();
            thread::spawn(move || {
                for _ in 0..1000 {
                    let _: i64 = redis::cmd("INCR").arg("counter").query(&mut c).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["GET", "counter"]), 8000);

    // INCRBY and DECRBY mixed: net zero.
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let mut c = s.client();
            thread::spawn(move || {
                let cmd = if i % 2 == 0 { "INCRBY" } else { "DECRBY" };
                for _ in 0..500 {
                    let _: i64 = redis::cmd(cmd).arg("mixed").arg(3).query(&mut c).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(q::<i64>(&mut c, &["GET", "mixed"]), 0);
}

#[test]
fn append_is_atomic_under_concurrency() {
    let s = Server::start();
    const THREADS: usize = 8;
    const PER: usize = 250;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let mut c = s.client();
            thread::spawn(move || {
                for i in 0..PER {
                    let token = format!("{t}:{i:04};");
                    let _: i64 = redis::cmd("APPEND")
                        .arg("log")
                        .arg(token)
                        .query(&mut c)
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = s.client();
    let value: String = q(&mut c, &["GET", "log"]);
    assert_eq!(value.len(), THREADS * PER * 7);
    let tokens: Vec<&str> = value.split_terminator(';').collect();
    assert_eq!(tokens.len(), THREADS * PER);
    let unique: HashSet<&str> = tokens.iter().copied().collect();
    assert_eq!(
        unique.len(),
        THREADS * PER,
        "a token was lost or duplicated"
    );
    // Each thread's tokens appear in the order it sent them.
    for t in 0..THREADS {
        let prefix = format!("{t}:");
        let mine: Vec<usize> = tokens
            .iter()
            .filter(|tok| tok.starts_with(&prefix))
            .map(|tok| tok[prefix.len()..].parse().unwrap())
            .collect();
        assert_eq!(mine, (0..PER).collect::<Vec<_>>());
    }
}
