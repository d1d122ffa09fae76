//! Server-surface details kvrocks and Redis clients depend on: HELLO
//! forms and `resp3-enabled`, DEBUG PROTOCOL (byte-compared with a real
//! redis-server), COMMAND INFO after renames, INFO fields exporters read,
//! and the config keys kvrocks files carry.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{q, q_err, wait_until, Options, Raw, RedisServer, Server};

/// The raw reply to `args` after switching the connection to `resp`.
fn raw_reply(port: u16, resp: u8, args: &[&str]) -> String {
    let mut r = Raw::connect(port);
    if resp == 3 {
        let hello = r.cmd(&["HELLO", "3"]);
        assert!(hello.starts_with('%'), "HELLO 3 -> {hello}");
    }
    r.send_cmd(args);
    // An attribute or push frame comes before the reply itself.
    let mut out = r.read_reply();
    if out.starts_with(b"|") || out.starts_with(b">") {
        out.extend(r.read_reply());
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn debug_protocol_matches_redis() {
    let reference = RedisServer::start_with(&["--enable-debug-command", "yes"]);
    let s = Server::start();
    for resp in [2u8, 3] {
        for kind in [
            "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib",
            "push", "verbatim", "true", "false", "nosuch",
        ] {
            let want = raw_reply(reference.port(), resp, &["DEBUG", "PROTOCOL", kind]);
            let got = raw_reply(s.port(), resp, &["DEBUG", "PROTOCOL", kind]);
            assert_eq!(got, want, "DEBUG PROTOCOL {kind} over RESP{resp}");
        }
    }
}

#[test]
fn hello_forms_and_resp3_switch() {
    let s = Server::start_with(&[("requirepass", "pw")]);
    // kvrocks's form: a password alone after AUTH.
    let mut r = s.raw();
    let hello = r.cmd(&["HELLO", "3", "AUTH", "pw"]);
    assert!(hello.starts_with("%7\r\n"), "{hello}");
    assert_eq!(r.cmd(&["GET", "nothing"]), "_\r\n");
    // Redis's form, and a password alone followed by SETNAME.
    let mut r = s.raw();
    assert!(r
        .cmd(&["HELLO", "3", "AUTH", "default", "pw"])
        .starts_with('%'));
    let mut r = s.raw();
    assert!(r
        .cmd(&["HELLO", "2", "AUTH", "pw", "SETNAME", "me"])
        .starts_with("*14\r\n"));
    assert_eq!(r.cmd(&["CLIENT", "GETNAME"]), "$2\r\nme\r\n");
    let mut r = s.raw();
    assert!(r
        .cmd(&["HELLO", "3", "AUTH", "wrong"])
        .starts_with("-WRONGPASS"));

    // With resp3-enabled no, HELLO 3 is refused and RESP2 stays.
    let mut admin = s.client_auth("pw");
    let _: () = q(&mut admin, &["CONFIG", "SET", "resp3-enabled", "no"]);
    let mut r = s.raw();
    assert_eq!(r.cmd(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(
        r.cmd(&["HELLO", "3"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(r.cmd(&["GET", "nothing"]), "$-1\r\n");
    assert!(r.cmd(&["HELLO", "2"]).starts_with("*14\r\n"));
    // A raw HELLO 3 then RESP2 commands, as go-redis does on refusal.
    let mut r = s.raw();
    assert!(r.cmd(&["HELLO", "3", "AUTH", "pw"]).starts_with("-NOPROTO"));
    assert_eq!(r.cmd(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(r.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(r.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    // redis-py picks RESP2 when asked and works either way.
    let _: () = q(&mut admin, &["CONFIG", "SET", "resp3-enabled", "yes"]);
    let mut r = s.raw();
    assert!(r.cmd(&["HELLO", "3", "AUTH", "pw"]).starts_with('%'));
}

#[test]
fn redis_py_connects_with_and_without_resp3() {
    let s = Server::start();
    // protocol None is redis-py 8's default: HELLO 3 on every connection.
    // With resp3-enabled no a client asks for RESP2, as with any server
    // that only speaks RESP2.
    let script = |protocol: &str| {
        format!(
            "import redis\nr = redis.Redis(port={}, protocol={protocol})\nr.set('py', 'ok')\nprint(r.get('py').decode())\n",
            s.port()
        )
    };
    for (setting, protocol) in [("yes", "None"), ("yes", "3"), ("yes", "2"), ("no", "2")] {
        let _: () = q(
            &mut s.client(),
            &["CONFIG", "SET", "resp3-enabled", setting],
        );
        let out = Command::new("python3")
            .args(["-c", &script(protocol)])
            .output()
            .expect("python3");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "ok",
            "resp3-enabled {setting}, protocol {protocol}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // redis-cli, both protocols.
    for flag in ["-2", "-3"] {
        let out = Command::new("redis-cli")
            .args(["-p", &s.port().to_string(), flag, "GET", "py"])
            .output()
            .expect("redis-cli");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("ok"), "redis-cli {flag}: {text}");
    }
}

#[test]
fn command_info_follows_renames() {
    let s = Server::start_opts(Options::new().config("rename-command keys mykeys\n"));
    let mut c = s.client();
    let info: Vec<redis::Value> = q(&mut c, &["COMMAND", "INFO", "keys", "mykeys", "get"]);
    assert_eq!(info.len(), 3);
    assert_eq!(info[0], redis::Value::Nil);
    assert!(matches!(info[1], redis::Value::Array(_)));
    assert!(matches!(info[2], redis::Value::Array(_)));
    assert!(q_err(&mut c, &["KEYS", "*"]).starts_with("ERR unknown command"));
}

#[test]
fn info_has_the_fields_exporters_read() {
    let s = Server::start();
    let mut c = s.client();
    for i in 0..100 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    let rocksdb: String = q(&mut c, &["INFO", "rocksdb"]);
    for field in [
        "put_per_sec:",
        "get_per_sec:",
        "seek_per_sec:",
        "next_per_sec:",
    ] {
        assert!(rocksdb.contains(field), "{field} missing in {rocksdb}");
    }
    // The rates come from RocksDB's counters: writes show up.
    std::thread::sleep(Duration::from_millis(1100));
    for i in 0..2000 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    std::thread::sleep(Duration::from_millis(1100));
    let rocksdb: String = q(&mut c, &["INFO", "rocksdb"]);
    let put: u64 = rocksdb
        .lines()
        .find_map(|l| l.strip_prefix("put_per_sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(put > 0, "{rocksdb}");
    let persistence: String = q(&mut c, &["INFO", "persistence"]);
    assert!(
        persistence.contains("bgsave_in_progress:0"),
        "{persistence}"
    );
    assert!(
        persistence.contains("last_bgsave_time_sec:"),
        "{persistence}"
    );
}

#[test]
fn kvrocks_config_keys() {
    let s = Server::start_opts(Options::new().config(
        "resp3-enabled yes\ntxn-context-enabled no\npersist-cluster-nodes-enabled yes\nrepl-namespace-enabled no\n",
    ));
    let mut c = s.client();
    for key in [
        "resp3-enabled",
        "txn-context-enabled",
        "persist-cluster-nodes-enabled",
        "repl-namespace-enabled",
    ] {
        let got: Vec<String> = q(&mut c, &["CONFIG", "GET", key]);
        assert_eq!(got.len(), 2, "{key}");
    }
    // Changeable at run time, as in kvrocks.
    let _: () = q(&mut c, &["CONFIG", "SET", "rocksdb.compression", "zstd"]);
    let _: () = q(&mut c, &["SET", "after", "zstd"]);
    assert_eq!(q::<String>(&mut c, &["GET", "after"]), "zstd");
    let _: () = q(&mut c, &["CONFIG", "SET", "rocksdb.compression", "no"]);
    let _: () = q(&mut c, &["CONFIG", "SET", "workers", "4"]);
    let _: () = q(&mut c, &["CONFIG", "REWRITE"]);
    let text = std::fs::read_to_string(s.config_path().unwrap()).unwrap();
    assert!(text.contains("rocksdb.compression no"), "{text}");
    assert!(text.contains("workers 4"), "{text}");
}

#[test]
fn txn_context_reads_several_keys_at_one_instant() {
    let s = Server::start_with(&[("txn-context-enabled", "yes")]);
    let port = s.port();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                .unwrap()
                .get_connection()
                .unwrap();
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let v = i.to_string();
                let _: () = q(&mut c, &["MSET", "ta", &v, "tb", &v, "tc", &v]);
                i += 1;
            }
            i
        })
    };
    let mut c = s.client();
    for _ in 0..3000 {
        let got: Vec<Option<String>> = q(&mut c, &["MGET", "ta", "tb", "tc"]);
        assert!(
            got.iter().all(|v| *v == got[0]),
            "MGET saw half of an MSET: {got:?}"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);
}

/// Threads of process `pid` named like the connection workers.
fn worker_threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .filter(|name| name.trim() == "ferrocks-worker")
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn workers_change_at_run_time() {
    let s = Server::start_with(&[("workers", "2")]);
    let pid = s.pid().expect("pid");
    let mut old = s.client();
    let _: () = q(&mut old, &["SET", "k", "before"]);
    assert!(wait_until(Duration::from_secs(5), || worker_threads(pid) == 2));

    let _: () = q(&mut old, &["CONFIG", "SET", "workers", "5"]);
    // The new pool is up; the old one keeps serving the connections it has.
    assert!(wait_until(Duration::from_secs(5), || worker_threads(pid) == 7));
    assert_eq!(q::<String>(&mut old, &["GET", "k"]), "before");
    let mut new = s.client();
    let _: () = q(&mut new, &["SET", "k", "after"]);
    assert_eq!(q::<String>(&mut old, &["GET", "k"]), "after");
    assert_eq!(
        q::<Vec<String>>(&mut new, &["CONFIG", "GET", "workers"])[1],
        "5"
    );

    // Once its last connection closes, the old pool goes (it is reaped
    // when the next connection arrives).
    drop(old);
    std::thread::sleep(Duration::from_millis(200));
    assert!(wait_until(Duration::from_secs(5), || {
        let _ = s.client();
        worker_threads(pid) == 5
    }));
    assert_eq!(q::<String>(&mut new, &["GET", "k"]), "after");
    assert!(
        q_err(&mut new, &["CONFIG", "SET", "workers", "-1"]).starts_with("ERR CONFIG SET failed")
    );
}

/// The parts of a COMMAND INFO entry clients and proxies read to route and
/// classify a command: name, arity, whether keys move with the arguments
/// (`movablekeys`), the fixed key positions, and the ACL categories.
fn routing_view(entry: &redis::Value) -> Vec<String> {
    let redis::Value::Array(items) = entry else {
        panic!("COMMAND INFO entry: {entry:?}");
    };
    let text = |v: &redis::Value| -> Vec<String> {
        match v {
            redis::Value::Array(a) | redis::Value::Set(a) => a
                .iter()
                .map(|x| redis::from_redis_value::<String>(x.clone()).unwrap_or_default())
                .collect(),
            other => vec![redis::from_redis_value::<String>(other.clone()).unwrap_or_default()],
        }
    };
    let flags = text(&items[2]);
    vec![
        text(&items[0]).join(""),
        text(&items[1]).join(""),
        format!("movablekeys={}", flags.iter().any(|f| f == "movablekeys")),
        format!(
            "keys={}/{}/{}",
            text(&items[3])[0],
            text(&items[4])[0],
            text(&items[5])[0]
        ),
        text(&items[6]).join(" "),
    ]
}

#[test]
fn command_info_matches_redis_for_routing_and_categories() {
    let reference = RedisServer::start();
    let s = Server::start();
    let mut ours = s.client();
    let mut theirs = reference.client();
    for name in [
        "get",
        "set",
        "del",
        "type",
        "hset",
        "hgetall",
        "lpush",
        "lmpop",
        "sadd",
        "sintercard",
        "sinterstore",
        "zadd",
        "zunion",
        "zunionstore",
        "zinterstore",
        "zmpop",
        "georadius",
        "georadiusbymember",
        "geosearchstore",
        "setbit",
        "bitop",
        "pfadd",
        "pfmerge",
        "ping",
        "select",
        "multi",
        "exec",
    ] {
        let a: Vec<redis::Value> = q(&mut ours, &["COMMAND", "INFO", name]);
        let b: Vec<redis::Value> = q(&mut theirs, &["COMMAND", "INFO", name]);
        assert_eq!(
            routing_view(&a[0]),
            routing_view(&b[0]),
            "COMMAND INFO {name}"
        );
    }
    // The STORE key of GEORADIUS is a key: COMMAND GETKEYS finds it.
    let keys: Vec<String> = q(
        &mut ours,
        &[
            "COMMAND",
            "GETKEYS",
            "GEORADIUS",
            "src",
            "0",
            "0",
            "1",
            "km",
            "STORE",
            "dst",
        ],
    );
    assert_eq!(keys, ["src", "dst"]);
}
