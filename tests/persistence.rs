//! Data survives restarts: graceful (SIGTERM, SIGINT, SHUTDOWN) and crashes
//! (`kill -9` right after the reply arrived).

mod common;

use std::time::{Duration, Instant};

use common::{q, Server};

fn binary_value(i: usize) -> Vec<u8> {
    let mut v = format!("value-{i}-").into_bytes();
    v.extend_from_slice(b"\0\r\n\xff");
    v.extend(std::iter::repeat_n((i % 256) as u8, i % 300));
    v
}

/// Writes a mix of plain, binary and expiring keys; returns the expected
/// EXPIRETIME of `ttl:0..10`.
fn write_dataset(c: &mut redis::Connection) -> Vec<i64> {
    let mut mset = redis::cmd("MSET");
    for i in 0..1000 {
        mset.arg(format!("plain:{i}")).arg(format!("{i}"));
    }
    let _: () = mset.query(c).unwrap();
    for i in 0..100 {
        let _: () = redis::cmd("SET")
            .arg(format!("bin:{i}"))
            .arg(binary_value(i))
            .query(c)
            .unwrap();
    }
    let mut expire_times = Vec::new();
    for i in 0..10 {
        let key = format!("ttl:{i}");
        q::<()>(c, &["SET", &key, "t", "EX", &(1000 + i * 100).to_string()]);
        expire_times.push(q::<i64>(c, &["PEXPIRETIME", &key]));
    }
    q::<()>(c, &["SET", "short", "s", "PX", "400"]);
    q::<i64>(c, &["INCRBY", "counter", "42"]);
    q::<()>(c, &["SET", "deleted", "x"]);
    q::<i64>(c, &["DEL", "deleted"]);
    expire_times
}

fn check_dataset(c: &mut redis::Connection, expire_times: &[i64]) {
    let mut mget = redis::cmd("MGET");
    for i in 0..1000 {
        mget.arg(format!("plain:{i}"));
    }
    let values: Vec<Option<String>> = mget.query(c).unwrap();
    for (i, v) in values.iter().enumerate() {
        assert_eq!(v.as_deref(), Some(i.to_string().as_str()), "plain:{i}");
    }
    for i in 0..100 {
        let v: Vec<u8> = redis::cmd("GET").arg(format!("bin:{i}")).query(c).unwrap();
        assert_eq!(v, binary_value(i), "bin:{i}");
    }
    for (i, at) in expire_times.iter().enumerate() {
        let key = format!("ttl:{i}");
        assert_eq!(q::<String>(c, &["GET", &key]), "t");
        assert_eq!(
            q::<i64>(c, &["PEXPIRETIME", &key]),
            *at,
            "{key} expire time changed"
        );
        let ttl = q::<i64>(c, &["TTL", &key]);
        let base = 1000 + i as i64 * 100;
        assert!(
            ttl > base - 60 && ttl <= base,
            "{key}: TTL {ttl}, set to {base}"
        );
    }
    assert_eq!(q::<String>(c, &["GET", "counter"]), "42");
    assert_eq!(q::<i64>(c, &["EXISTS", "deleted"]), 0);
}

#[test]
fn values_and_ttls_survive_graceful_restart() {
    let mut s = Server::start();
    let mut c = s.client();
    let started = Instant::now();
    let expire_times = write_dataset(&mut c);
    drop(c);

    let status = s.stop_term();
    assert!(status.success(), "SIGTERM exit status: {status}");
    assert_eq!(status.code(), Some(0));
    s.restart();

    let mut c = s.client();
    check_dataset(&mut c, &expire_times);
    // The 400 ms key is gone once its time has passed, restart or not.
    let left = Duration::from_millis(600).saturating_sub(started.elapsed());
    std::thread::sleep(left);
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "short"]), None);
    assert_eq!(q::<i64>(&mut c, &["TTL", "short"]), -2);
    assert!(q::<i64>(&mut c, &["DBSIZE"]) >= 1111);

    // Writes after a restart persist through another one.
    q::<()>(&mut c, &["SET", "second", "round"]);
    q::<i64>(&mut c, &["DEL", "plain:0"]);
    drop(c);
    let status = s.stop_term();
    assert_eq!(status.code(), Some(0));
    s.restart();
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["GET", "second"]), "round");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "plain:0"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "plain:1"]), "1");
}

#[test]
fn sigint_is_graceful_too() {
    let mut s = Server::start();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "k", "v"]);
    drop(c);
    let status = s.stop_signal(libc::SIGINT);
    assert_eq!(status.code(), Some(0), "SIGINT exit status: {status}");
    s.restart();
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let mut s = Server::start();
    let mut c = s.client();
    let expire_times = write_dataset(&mut c);
    // Individually acknowledged writes, the last one immediately before
    // the kill.
    for i in 0..500 {
        q::<()>(&mut c, &["SET", &format!("one:{i}"), &format!("{i}")]);
    }
    for _ in 0..300 {
        q::<i64>(&mut c, &["INCR", "incrs"]);
    }
    q::<i64>(&mut c, &["APPEND", "app", "abc"]);
    q::<()>(&mut c, &["SET", "last", "written", "EX", "5000"]);
    s.kill9();
    assert!(!s.is_running());

    s.restart();
    let mut c = s.client();
    check_dataset(&mut c, &expire_times);
    for i in 0..500 {
        assert_eq!(
            q::<Option<String>>(&mut c, &["GET", &format!("one:{i}")]),
            Some(i.to_string()),
            "one:{i}"
        );
    }
    assert_eq!(q::<i64>(&mut c, &["GET", "incrs"]), 300);
    assert_eq!(q::<String>(&mut c, &["GET", "app"]), "abc");
    assert_eq!(q::<String>(&mut c, &["GET", "last"]), "written");
    let ttl = q::<i64>(&mut c, &["TTL", "last"]);
    assert!((4900..=5000).contains(&ttl), "{ttl}");

    // A second crash, with a raw pipelined burst acknowledged in full.
    let mut raw = s.raw();
    let mut burst = Vec::new();
    for i in 0..1000 {
        burst.extend(common::resp_cmd_str(&["SET", &format!("burst:{i}"), "b"]));
    }
    raw.send(&burst);
    let replies = raw.read_exact_timeout(1000 * 5, Duration::from_secs(10));
    assert!(replies.chunks(5).all(|r| r == b"+OK\r\n"));
    s.kill9();
    s.restart();
    let mut c = s.client();
    let mut mget = redis::cmd("MGET");
    for i in 0..1000 {
        mget.arg(format!("burst:{i}"));
    }
    let values: Vec<Option<String>> = mget.query(&mut c).unwrap();
    assert!(values.iter().all(|v| v.as_deref() == Some("b")));
}

#[test]
fn shutdown_command_exits_zero_and_keeps_data() {
    let mut s = Server::start();
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "k", "before-shutdown"]);
    let idle = s.client();

    let mut raw = s.raw();
    let sent = Instant::now();
    raw.send_cmd(&["SHUTDOWN"]);
    // Like Redis, a successful SHUTDOWN closes the connection without a
    // reply.
    let got = raw
        .read_to_eof(Duration::from_secs(5))
        .expect("SHUTDOWN did not close the connection within 5 s");
    assert!(
        got.is_empty(),
        "SHUTDOWN replied {:?}",
        String::from_utf8_lossy(&got)
    );
    let status = s
        .wait_exit(Duration::from_secs(5))
        .expect("process still running 5 s after SHUTDOWN");
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SHUTDOWN: {status}"
    );
    assert!(sent.elapsed() < Duration::from_secs(5));
    drop(idle);
    drop(c);

    s.restart();
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "before-shutdown");
    // Accepted forms (NOSAVE/SAVE are accepted and mean the same here).
    let mut raw = s.raw();
    raw.send_cmd(&["SHUTDOWN", "NOSAVE"]);
    assert!(raw.closed_within(Duration::from_secs(5)));
    let status = s
        .wait_exit(Duration::from_secs(5))
        .expect("process still running 5 s after SHUTDOWN NOSAVE");
    assert_eq!(status.code(), Some(0));
}

/// With `rocksdb.use_direct_io_for_flush_and_compaction` and
/// `rocksdb.use_direct_reads` on, what a flush and a compaction wrote with
/// O_DIRECT reads back, and survives a kill -9 and a restart. A temp dir on
/// a filesystem that refuses O_DIRECT (tmpfs) runs buffered and says so in
/// the log instead of failing to open the database.
#[test]
fn direct_io_for_flush_compaction_and_reads_keeps_the_data() {
    let mut s = Server::start_with(&[
        ("rocksdb.use_direct_io_for_flush_and_compaction", "yes"),
        ("rocksdb.use_direct_reads", "yes"),
    ]);
    let mut c = s.client();
    let on: Vec<String> = q(
        &mut c,
        &[
            "CONFIG",
            "GET",
            "rocksdb.use_direct_io_for_flush_and_compaction",
        ],
    );
    assert_eq!(
        on,
        ["rocksdb.use_direct_io_for_flush_and_compaction", "yes"]
    );
    let expire_times = write_dataset(&mut c);
    // COMPACT flushes the memtables, then compacts (and returns when both
    // are done): each through O_DIRECT.
    q::<()>(&mut c, &["COMPACT"]);
    check_dataset(&mut c, &expire_times);
    drop(c);

    s.kill9();
    s.restart();
    let mut c = s.client();
    check_dataset(&mut c, &expire_times);
    let refused = s.log().contains("refuses O_DIRECT");
    println!(
        "direct I/O {}",
        if refused {
            "refused by the temp dir's filesystem: ran buffered"
        } else {
            "in use"
        }
    );
}
