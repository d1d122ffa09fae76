//! Pipelined writes folded into one batch (SET, MSET, INCR and friends)
//! and the metadata cache in front of point reads: replies identical to
//! redis-server's, no lost updates between connections, and no stale
//! read after any kind of write.

mod common;

use std::time::Duration;

use common::{q, resp_cmd_str, RedisServer, Server};

/// Sends `commands` as one pipeline (a single write) and returns the raw
/// replies, one per command.
fn pipeline(port: u16, commands: &[Vec<&str>]) -> Vec<String> {
    let mut raw = common::Raw::connect(port);
    let mut bytes = Vec::new();
    for c in commands {
        bytes.extend(resp_cmd_str(c));
    }
    raw.send(&bytes);
    commands
        .iter()
        .map(|_| String::from_utf8_lossy(&raw.read_reply()).into_owned())
        .collect()
}

fn cmd(parts: &str) -> Vec<&str> {
    parts.split(' ').collect()
}

#[test]
fn a_pipeline_of_counters_and_sets_replies_like_redis() {
    let f = Server::start();
    let r = RedisServer::start();
    let script = [
        "INCR c",
        "INCR c",
        "INCRBY c 40",
        "DECR c",
        "DECRBY c 5",
        "GET c",
        "SET s hello",
        "INCR s",
        "INCR c",
        "MSET a 1 b 2 a 3",
        "INCR a",
        "INCRBY b -10",
        "MSET c 100 d 7",
        "INCR c",
        "DECR d",
        "LPUSH l x",
        "INCR l",
        "MSET l 5",
        "INCR l",
        "INCRBY big 9223372036854775807",
        "INCR big",
        "DECRBY c -9223372036854775808",
        "SET e 1 PX 100000",
        "INCR e",
        "MGET a b c d e s l big",
    ];
    let commands: Vec<Vec<&str>> = script.iter().map(|s| cmd(s)).collect();
    let ours = pipeline(f.port(), &commands);
    let theirs = pipeline(r.port(), &commands);
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "reply {} to `{}`", i, script[i]);
    }
    // INCR keeps a TTL, as in Redis.
    let ttl: i64 = q(&mut f.client(), &["PTTL", "e"]);
    assert!(ttl > 90_000, "{ttl}");
}

#[test]
fn counters_pipelined_from_several_connections_lose_no_update() {
    let s = Server::start();
    let port = s.port();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let commands: Vec<Vec<String>> = (0..2000)
                    .map(|i| {
                        let key = format!("n{}", (i + t) % 7);
                        match i % 3 {
                            0 => vec!["INCR".into(), key],
                            1 => vec!["INCRBY".into(), key, "2".into()],
                            _ => vec!["MSET".into(), format!("m{t}:{i}"), "x".into()],
                        }
                    })
                    .collect();
                let refs: Vec<Vec<&str>> = commands
                    .iter()
                    .map(|c| c.iter().map(String::as_str).collect())
                    .collect();
                for chunk in refs.chunks(100) {
                    let replies = pipeline(port, chunk);
                    assert!(replies.iter().all(|r| !r.starts_with('-')), "{replies:?}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
    let mut c = s.client();
    let total: i64 = (0..7)
        .map(|k| q::<i64>(&mut c, &["GET", &format!("n{k}")]))
        .sum();
    // Per thread: 667 INCRs (+1) and 667 INCRBYs (+2).
    assert_eq!(total, 4 * (667 + 667 * 2));
    let keys: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(keys, 7 + 4 * 666);
}

/// Each step writes with one connection after the other connection read
/// (and so cached) the key; the reader must see the write at once.
#[test]
fn a_cached_read_never_outlives_a_write() {
    let s = Server::start();
    let mut reader = s.client();
    let mut writer = s.client();
    let get = |c: &mut redis::Connection, k: &str| -> Option<String> { q(c, &["GET", k]) };
    let steps: &[(&[&str], &str, Option<&str>)] = &[
        (&["SET", "k", "1"], "k", Some("1")),
        (&["INCR", "k"], "k", Some("2")),
        (&["APPEND", "k", "x"], "k", Some("2x")),
        (&["DEL", "k"], "k", None),
        (&["MSET", "k", "a", "j", "b"], "k", Some("a")),
        (&["RENAME", "k", "k2"], "k", None),
        (&["COPY", "k2", "k"], "k", Some("a")),
        (&["GETDEL", "k"], "k", None),
        (&["SET", "k", "v", "PX", "1"], "k", None),
        (&["SET", "k", "again"], "k", Some("again")),
        (&["FLUSHDB"], "k", None),
        (&["SET", "k", "back"], "k", Some("back")),
        (&["SETRANGE", "k", "0", "B"], "k", Some("Back")),
    ];
    for (write, key, want) in steps {
        let _ = get(&mut reader, key);
        let _ = get(&mut reader, key);
        let _: redis::Value = redis::cmd(write[0])
            .arg(&write[1..])
            .query(&mut writer)
            .unwrap_or(redis::Value::Nil);
        if write.contains(&"PX") {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(get(&mut reader, key).as_deref(), *want, "after {write:?}");
    }
    // RESTORE writes through the same path.
    let _: () = q(&mut writer, &["SET", "j", "b"]);
    let dump: Vec<u8> = q(&mut writer, &["DUMP", "j"]);
    let _: () = redis::cmd("RESTORE")
        .arg("k")
        .arg(0)
        .arg(dump)
        .arg("REPLACE")
        .query(&mut writer)
        .expect("RESTORE");
    assert_eq!(get(&mut reader, "k").as_deref(), Some("b"));
    // A composite key's metadata is cached too: HSET after HLEN.
    let _: i64 = q(&mut reader, &["HLEN", "h"]);
    let _: i64 = q(&mut writer, &["HSET", "h", "f", "v"]);
    assert_eq!(q::<i64>(&mut reader, &["HLEN", "h"]), 1);
    let _: i64 = q(&mut writer, &["EXPIRE", "h", "100"]);
    assert!(q::<i64>(&mut reader, &["TTL", "h"]) > 0);
    let info: String = q(&mut reader, &["INFO", "stats"]);
    let hits = info
        .lines()
        .find_map(|l| l.strip_prefix("metadata_cache_hits:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .expect("INFO stats has metadata_cache_hits");
    assert!(hits > 0, "{info}");
}

#[test]
fn the_cache_can_be_resized_and_turned_off_at_run_time() {
    let s = Server::start_with(&[("metadata-cache-mb", "0")]);
    let mut c = s.client();
    let _: () = q(&mut c, &["SET", "k", "1"]);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "1");
    let info: String = q(&mut c, &["INFO", "stats"]);
    assert!(info.contains("metadata_cache_hits:0"), "{info}");
    let _: () = q(&mut c, &["CONFIG", "SET", "metadata-cache-mb", "8"]);
    for _ in 0..3 {
        assert_eq!(q::<String>(&mut c, &["GET", "k"]), "1");
    }
    let _: i64 = q(&mut c, &["INCR", "k"]);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "2");
    let info: String = q(&mut c, &["INFO", "stats"]);
    assert!(!info.contains("metadata_cache_hits:0\r"), "{info}");
    let _: () = q(&mut c, &["CONFIG", "SET", "metadata-cache-mb", "0"]);
    let _: () = q(&mut c, &["SET", "k", "3"]);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "3");
}
