//! Configuration, limits, administration and connection commands.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{free_port, q, q_err, run_binary, run_with_config, wait_until, Options, Raw, Server};

const WAIT: Duration = Duration::from_secs(10);

fn config_get(c: &mut redis::Connection, pattern: &str) -> HashMap<String, String> {
    let flat: Vec<String> = q(c, &["CONFIG", "GET", pattern]);
    assert_eq!(flat.len() % 2, 0, "CONFIG GET reply {flat:?}");
    flat.chunks(2)
        .map(|kv| (kv[0].clone(), kv[1].clone()))
        .collect()
}

fn config_value(c: &mut redis::Connection, key: &str) -> String {
    let m = config_get(c, key);
    m.get(key)
        .unwrap_or_else(|| panic!("CONFIG GET {key} returned {m:?}"))
        .clone()
}

/// Parses `field:value` lines of an INFO reply.
fn info_field(info: &str, field: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

#[test]
fn unknown_config_key_warns_with_file_and_line() {
    let text = "# a comment\n\nworkers 2\nthis-key-does-not-exist 42\nmaxclients 100\n";
    let s = Server::start_with_config_file(text);
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    assert_eq!(config_value(&mut c, "maxclients"), "100");
    let log = s.log();
    let line = log
        .lines()
        .find(|l| l.contains("this-key-does-not-exist"))
        .unwrap_or_else(|| panic!("no warning naming the unknown key in:\n{log}"));
    assert!(
        line.contains("ferrocks.conf:4"),
        "warning does not name file:line (ferrocks.conf:4): {line}"
    );
    assert!(
        wait_until(WAIT, || s.log().contains("Ready to accept connections")),
        "no 'Ready to accept connections' in:\n{}",
        s.log()
    );
}

#[test]
fn bad_config_refused_with_file_and_line() {
    let cases: &[(&str, &str)] = &[
        ("# first\nport abc\n", "ferrocks.conf:2"),
        ("maxclients 10\n\n# x\nmaxclients -5\n", "ferrocks.conf:4"),
        ("workers 2\ntimeout\n", "ferrocks.conf:2"),
        ("requirepass \"unbalanced\n", "ferrocks.conf:1"),
        ("log-level loud\n", "ferrocks.conf:1"),
        ("daemonize yes\n", "ferrocks.conf:1"),
        ("cluster-enabled maybe\n", "ferrocks.conf:1"),
        ("rocksdb.write_buffer_size many\n", "ferrocks.conf:1"),
    ];
    for (text, place) in cases {
        let (status, stderr) = run_with_config(text, &[]);
        assert!(
            !status.success(),
            "config {text:?} was accepted (status {status}); stderr:\n{stderr}"
        );
        assert!(
            stderr.contains(place),
            "config {text:?}: stderr does not contain {place}:\n{stderr}"
        );
        assert!(
            !stderr.contains("Ready to accept connections"),
            "config {text:?}: server started anyway"
        );
    }

    // A bad value on the command line is refused too.
    let tmp = tempfile::tempdir().unwrap();
    let out = run_binary(&["--port", "notaport"], tmp.path(), WAIT);
    assert!(!out.status.success());
    // A missing config file is an error.
    let out = run_binary(&["-c", "/nonexistent/ferrocks.conf"], tmp.path(), WAIT);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/ferrocks.conf"));
}

#[test]
fn help_and_version() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_binary(&["--help"], tmp.path(), WAIT);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Usage"), "--help output:\n{help}");
    assert!(help.contains("-c"), "--help does not mention -c:\n{help}");

    let out = run_binary(&["--version"], tmp.path(), WAIT);
    assert_eq!(out.status.code(), Some(0));
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(version.contains("ferrocks"), "--version output: {version}");
    assert!(
        version.contains(env!("CARGO_PKG_VERSION")),
        "--version output: {version}"
    );
}

#[test]
fn command_line_overrides_file() {
    let file_port = free_port();
    let text = format!(
        "# values the command line overrides\nport {file_port}\ntimeout 55\nmaxclients 77\nslowlog-max-len 9\n"
    );
    let s = Server::start_opts(
        Options::new()
            .config(&text)
            .arg("timeout", "66")
            .arg("slowlog-max-len", "11"),
    );
    let mut c = s.client();
    // The harness passed --port: the server listens there, not on the file's port.
    assert_ne!(s.port(), file_port);
    assert!(std::net::TcpStream::connect(("127.0.0.1", file_port)).is_err());
    assert_eq!(config_value(&mut c, "port"), s.port().to_string());
    assert_eq!(config_value(&mut c, "timeout"), "66");
    assert_eq!(config_value(&mut c, "slowlog-max-len"), "11");
    // Keys not overridden keep the file's value.
    assert_eq!(config_value(&mut c, "maxclients"), "77");
}

#[test]
fn log_dir_gets_ferrocks_log() {
    let s = Server::start_with(&[("log-dir", "logs"), ("log-level", "info")]);
    let path = s.tmp_dir().join("logs").join("ferrocks.log");
    let ok = wait_until(WAIT, || {
        std::fs::read_to_string(&path)
            .map(|t| t.contains("Ready to accept connections"))
            .unwrap_or(false)
    });
    assert!(
        ok,
        "{} missing or without 'Ready to accept connections'; stderr:\n{}",
        path.display(),
        s.log()
    );
    // stderr still gets the log as well.
    assert!(s.log().contains("Ready to accept connections"));
}

/// Opens a raw connection and checks that it is served.
fn served_connection(port: u16) -> Option<Raw> {
    let mut r = Raw::connect(port);
    r.send_cmd(&["PING"]);
    let reply = r.read_reply_string();
    (reply == "+PONG\r\n").then_some(r)
}

#[test]
fn maxclients_rejects_extra_connection() {
    let s = Server::start_with(&[("maxclients", "3")]);
    let mut conns = Vec::new();
    for _ in 0..3 {
        // The harness' readiness probe may still be counted for a moment.
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(r) = served_connection(s.port()) {
                conns.push(r);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "connection {} refused",
                conns.len() + 1
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    let mut extra = s.raw();
    let got = extra
        .read_to_eof(Duration::from_secs(5))
        .expect("connection over maxclients was not closed");
    assert_eq!(
        String::from_utf8_lossy(&got),
        "-ERR max number of clients reached\r\n"
    );
    // The others keep working.
    for r in conns.iter_mut() {
        assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
    }
    // Closing one frees a slot.
    conns.pop();
    let ok = wait_until(WAIT, || served_connection(s.port()).is_some());
    assert!(ok, "no slot freed after closing a connection");
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let s = Server::start_with(&[("timeout", "1")]);
    let mut idle = s.raw();
    assert_eq!(idle.cmd(&["PING"]), "+PONG\r\n");
    let mut active = s.raw();
    let start = Instant::now();
    // Keep one client busy for 3 s while the other stays idle.
    while start.elapsed() < Duration::from_secs(3) {
        assert_eq!(active.cmd(&["PING"]), "+PONG\r\n");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        idle.closed_within(Duration::from_secs(3)),
        "idle client still open after timeout 1"
    );
    assert_eq!(active.cmd(&["PING"]), "+PONG\r\n");

    // CONFIG SET timeout 0 disables it.
    assert_eq!(active.cmd(&["CONFIG", "SET", "timeout", "0"]), "+OK\r\n");
    let mut idle2 = s.raw();
    assert_eq!(idle2.cmd(&["PING"]), "+PONG\r\n");
    assert!(!idle2.closed_within(Duration::from_millis(2500)));
    assert_eq!(idle2.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn config_set_get_rewrite() {
    let text = "# ferrocks test config\n# keep this comment\nmaxclients 100\n\n# timeout comment\ntimeout 0\nslowlog-max-len 64\n";
    let mut s = Server::start_with_config_file(text);
    let mut c = s.client();

    assert_eq!(config_value(&mut c, "maxclients"), "100");
    assert_eq!(
        q::<String>(&mut c, &["CONFIG", "SET", "maxclients", "50"]),
        "OK"
    );
    assert_eq!(config_value(&mut c, "maxclients"), "50");
    assert_eq!(
        q::<String>(&mut c, &["CONFIG", "SET", "timeout", "30"]),
        "OK"
    );
    assert_eq!(config_value(&mut c, "timeout"), "30");
    // Several pairs at once (Redis 7).
    assert_eq!(
        q::<String>(
            &mut c,
            &[
                "CONFIG",
                "SET",
                "slowlog-max-len",
                "10",
                "slowlog-log-slower-than",
                "5000"
            ]
        ),
        "OK"
    );
    // Glob patterns.
    let slow = config_get(&mut c, "slowlog*");
    assert_eq!(slow.get("slowlog-max-len").map(String::as_str), Some("10"));
    assert_eq!(
        slow.get("slowlog-log-slower-than").map(String::as_str),
        Some("5000")
    );
    assert!(slow.keys().all(|k| k.starts_with("slowlog")), "{slow:?}");
    assert!(config_get(&mut c, "no-such-*").is_empty());
    let all = config_get(&mut c, "*");
    for k in ["port", "dir", "maxclients", "timeout", "requirepass"] {
        assert!(all.contains_key(k), "CONFIG GET * lacks {k}");
    }

    assert_eq!(
        q_err(&mut c, &["CONFIG", "SET", "no-such-key", "1"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'no-such-key'"
    );
    let e = q_err(&mut c, &["CONFIG", "SET", "maxclients", "abc"]);
    assert!(
        e.starts_with("ERR CONFIG SET failed (possibly related to argument 'maxclients')"),
        "{e}"
    );
    assert_eq!(config_value(&mut c, "maxclients"), "50");
    // Immutable at run time.
    let port = s.port().to_string();
    assert!(q_err(&mut c, &["CONFIG", "SET", "port", "1"]).starts_with("ERR"));
    assert_eq!(config_value(&mut c, "port"), port);
    assert_eq!(q::<String>(&mut c, &["CONFIG", "RESETSTAT"]), "OK");

    assert_eq!(q::<String>(&mut c, &["CONFIG", "REWRITE"]), "OK");
    let path = s.config_path().unwrap().to_path_buf();
    let rewritten = std::fs::read_to_string(&path).unwrap();
    for needle in [
        "# ferrocks test config",
        "# keep this comment",
        "# timeout comment",
        "maxclients 50",
        "timeout 30",
        "slowlog-max-len 10",
        "slowlog-log-slower-than 5000",
    ] {
        assert!(
            rewritten.lines().any(|l| l.trim() == needle),
            "rewritten config lacks {needle:?}:\n{rewritten}"
        );
    }
    assert!(!rewritten.contains("maxclients 100"));
    // Comments stay in their place: the header comes first, and the
    // timeout line still follows its comment.
    assert!(rewritten.starts_with("# ferrocks test config\n# keep this comment\n"));
    let lines: Vec<&str> = rewritten.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "# timeout comment")
        .unwrap();
    assert_eq!(lines[at + 1], "timeout 30");

    // The rewritten file is what a restart reads.
    drop(c);
    s.restart();
    let mut c = s.client();
    assert_eq!(config_value(&mut c, "maxclients"), "50");
    assert_eq!(config_value(&mut c, "timeout"), "30");
    assert_eq!(config_value(&mut c, "slowlog-log-slower-than"), "5000");
}

#[test]
fn config_rewrite_without_file_fails() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(
        q_err(&mut c, &["CONFIG", "REWRITE"]),
        "ERR The server is running without a config file"
    );
    assert_eq!(
        q_err(&mut c, &["CONFIG", "NOPE"]),
        "ERR unknown subcommand 'NOPE'. Try CONFIG HELP."
    );
}

#[test]
fn client_commands() {
    let s = Server::start();
    let mut c = s.client();

    let id: i64 = q(&mut c, &["CLIENT", "ID"]);
    assert!(id > 0);
    assert_eq!(q::<Option<String>>(&mut c, &["CLIENT", "GETNAME"]), None);
    assert_eq!(
        q::<String>(&mut c, &["CLIENT", "SETNAME", "main-conn"]),
        "OK"
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["CLIENT", "GETNAME"]),
        Some("main-conn".to_string())
    );
    assert_eq!(
        q_err(&mut c, &["CLIENT", "SETNAME", "has space"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["CLIENT", "GETNAME"]),
        Some("main-conn".to_string())
    );
    assert_eq!(
        q::<String>(&mut c, &["CLIENT", "SETINFO", "LIB-NAME", "tests"]),
        "OK"
    );
    assert_eq!(
        q::<String>(&mut c, &["CLIENT", "SETINFO", "LIB-VER", "1.0"]),
        "OK"
    );
    assert_eq!(q::<String>(&mut c, &["CLIENT", "NO-EVICT", "ON"]), "OK");
    assert_eq!(q::<String>(&mut c, &["CLIENT", "REPLY", "ON"]), "OK");

    let info: String = q(&mut c, &["CLIENT", "INFO"]);
    assert_eq!(info.trim_end().lines().count(), 1, "{info}");
    assert!(info.contains(&format!("id={id} ")), "{info}");
    assert!(info.contains("name=main-conn"), "{info}");
    assert!(info.contains("addr=127.0.0.1:"), "{info}");

    // A second, raw connection with its own name.
    let mut victim = s.raw();
    assert_eq!(victim.cmd(&["CLIENT", "SETNAME", "victim"]), "+OK\r\n");
    let victim_id_reply = victim.cmd(&["CLIENT", "ID"]);
    let victim_id: i64 = victim_id_reply
        .trim_start_matches(':')
        .trim_end()
        .parse()
        .unwrap();
    let victim_addr = victim.stream.local_addr().unwrap().to_string();

    let list: String = q(&mut c, &["CLIENT", "LIST"]);
    let lines: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "CLIENT LIST:\n{list}");
    assert!(lines
        .iter()
        .any(|l| l.contains(&format!("id={id} ")) && l.contains("name=main-conn")));
    assert!(lines.iter().any(|l| l.contains(&format!("id={victim_id} "))
        && l.contains("name=victim")
        && l.contains(&format!("addr={victim_addr} "))));

    // Kill by id.
    assert_eq!(
        q::<i64>(&mut c, &["CLIENT", "KILL", "ID", &victim_id.to_string()]),
        1
    );
    assert!(victim.closed_within(Duration::from_secs(5)));
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "KILL", "ID", "999999"]), 0);
    assert_eq!(
        q_err(&mut c, &["CLIENT", "KILL", "ID", "abc"]),
        "ERR client-id should be greater than 0"
    );
    let ok = wait_until(WAIT, || {
        q::<String>(&mut c, &["CLIENT", "LIST"]).lines().count() == 1
    });
    assert!(ok, "killed client still listed");

    // Kill by address (old form and ADDR filter).
    let mut v2 = s.raw();
    assert_eq!(v2.cmd(&["PING"]), "+PONG\r\n");
    let v2_addr = v2.stream.local_addr().unwrap().to_string();
    assert_eq!(q::<String>(&mut c, &["CLIENT", "KILL", &v2_addr]), "OK");
    assert!(v2.closed_within(Duration::from_secs(5)));
    let mut v3 = s.raw();
    assert_eq!(v3.cmd(&["PING"]), "+PONG\r\n");
    let v3_addr = v3.stream.local_addr().unwrap().to_string();
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "KILL", "ADDR", &v3_addr]), 1);
    assert!(v3.closed_within(Duration::from_secs(5)));
    assert_eq!(
        q_err(&mut c, &["CLIENT", "KILL", "1.2.3.4:5"]),
        "ERR No such client"
    );
    assert_eq!(
        q_err(&mut c, &["CLIENT", "NOPE"]),
        "ERR unknown subcommand 'NOPE'. Try CLIENT HELP."
    );
    // The killing connection itself is unaffected.
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn info_sections() {
    let s = Server::start();
    let mut c = s.client();
    let _c2 = s.client();
    let _c3 = s.client();
    q::<()>(&mut c, &["SET", "k", "v"]);

    let ok = wait_until(WAIT, || {
        let info: String = q(&mut c, &["INFO"]);
        info_field(&info, "connected_clients").as_deref() == Some("3")
    });
    let info: String = q(&mut c, &["INFO"]);
    assert!(ok, "connected_clients is not 3:\n{info}");
    for field in [
        "redis_version",
        "connected_clients",
        "used_memory",
        "tcp_port",
    ] {
        assert!(
            info_field(&info, field).is_some(),
            "INFO lacks {field}:\n{info}"
        );
    }
    assert_eq!(info_field(&info, "tcp_port"), Some(s.port().to_string()));
    assert!(info.contains("# Server"), "{info}");
    assert!(info.contains("# Clients"), "{info}");
    assert!(info.contains("# Keyspace"), "{info}");
    assert!(info.contains("\r\n"), "INFO lines end with CRLF");

    let server: String = q(&mut c, &["INFO", "server"]);
    assert!(server.contains("redis_version:"));
    assert!(!server.contains("# Keyspace"), "INFO server:\n{server}");
    let clients: String = q(&mut c, &["INFO", "CLIENTS"]);
    assert!(clients.contains("connected_clients:"));
    assert!(!clients.contains("redis_version:"));
}

#[test]
fn hello_switches_protocol() {
    let s = Server::start();
    let mut r = s.raw();
    let reply = r.cmd(&["HELLO", "3"]);
    assert!(reply.starts_with('%'), "HELLO 3 reply: {reply:?}");
    assert!(reply.contains("$5\r\nproto\r\n:3\r\n"), "{reply:?}");
    assert!(reply.contains("server\r\n"), "{reply:?}");
    assert!(reply.contains("version\r\n"), "{reply:?}");
    // RESP3 null.
    assert_eq!(r.cmd(&["GET", "missing"]), "_\r\n");
    assert_eq!(r.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(r.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    // CONFIG GET is a map in RESP3.
    let cfg = r.cmd(&["CONFIG", "GET", "maxclients"]);
    assert!(cfg.starts_with("%1\r\n"), "{cfg:?}");

    let reply = r.cmd(&["HELLO", "2"]);
    assert!(reply.starts_with('*'), "HELLO 2 reply: {reply:?}");
    assert!(reply.contains("$5\r\nproto\r\n:2\r\n"), "{reply:?}");
    assert_eq!(r.cmd(&["GET", "missing"]), "$-1\r\n");

    assert_eq!(
        r.cmd(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    // HELLO without a version just reports.
    let reply = r.cmd(&["HELLO"]);
    assert!(reply.starts_with('*'), "{reply:?}");
}

#[test]
fn requirepass_and_auth() {
    let s = Server::start_with(&[("requirepass", "s3cret")]);
    let mut r = s.raw();
    assert_eq!(r.cmd(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(r.cmd(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        r.cmd(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(r.cmd(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(r.cmd(&["AUTH", "s3cret"]), "+OK\r\n");
    assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(r.cmd(&["SET", "k", "v"]), "+OK\r\n");

    // AUTH default <password> (Redis 6 form) and HELLO ... AUTH.
    let mut r2 = s.raw();
    assert_eq!(r2.cmd(&["AUTH", "default", "s3cret"]), "+OK\r\n");
    assert_eq!(r2.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    let mut r3 = s.raw();
    let hello = r3.cmd(&["HELLO", "3", "AUTH", "default", "s3cret"]);
    assert!(hello.starts_with('%'), "{hello:?}");
    assert_eq!(r3.cmd(&["GET", "k"]), "$1\r\nv\r\n");

    // The redis crate with a password in the URL.
    let mut c = s.client_auth("s3cret");
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");

    // Without requirepass, AUTH is an error.
    let open = Server::start();
    let mut r = open.raw();
    assert_eq!(
        r.cmd(&["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
}

#[test]
fn namespaces_isolate_keys() {
    // Namespaces are kept in the config file, so the server needs one.
    let s = Server::start_opts(
        Options::new()
            .config("# namespaces\n")
            .arg("requirepass", "admin-pass"),
    );
    let mut admin = s.client_auth("admin-pass");

    assert_eq!(
        q::<String>(&mut admin, &["NAMESPACE", "ADD", "ns1", "token-one"]),
        "OK"
    );
    assert_eq!(
        q::<String>(&mut admin, &["NAMESPACE", "ADD", "ns2", "token-two"]),
        "OK"
    );
    assert_eq!(
        q::<Option<String>>(&mut admin, &["NAMESPACE", "GET", "ns1"]),
        Some("token-one".to_string())
    );
    assert!(q_err(&mut admin, &["NAMESPACE", "ADD", "ns1", "other"]).starts_with("ERR"));

    q::<()>(&mut admin, &["SET", "shared", "admin-value"]);
    let mut one = s.client_auth("token-one");
    let mut two = s.client_auth("token-two");
    assert_eq!(q::<Option<String>>(&mut one, &["GET", "shared"]), None);
    q::<()>(&mut one, &["SET", "shared", "one-value"]);
    q::<()>(&mut one, &["SET", "only-one", "1"]);
    q::<()>(&mut two, &["SET", "shared", "two-value"]);

    assert_eq!(q::<String>(&mut admin, &["GET", "shared"]), "admin-value");
    assert_eq!(q::<String>(&mut one, &["GET", "shared"]), "one-value");
    assert_eq!(q::<String>(&mut two, &["GET", "shared"]), "two-value");
    assert_eq!(q::<i64>(&mut two, &["EXISTS", "only-one"]), 0);
    assert_eq!(q::<i64>(&mut one, &["DBSIZE"]), 2);
    assert_eq!(q::<i64>(&mut two, &["DBSIZE"]), 1);
    let mut keys: Vec<String> = q(&mut one, &["KEYS", "*"]);
    keys.sort();
    assert_eq!(keys, ["only-one", "shared"]);
    assert_eq!(q::<Vec<String>>(&mut two, &["KEYS", "*"]), ["shared"]);

    // DEL and FLUSHDB stay inside the namespace.
    assert_eq!(q::<i64>(&mut two, &["DEL", "shared", "only-one"]), 1);
    assert_eq!(q::<String>(&mut one, &["GET", "shared"]), "one-value");
    assert_eq!(q::<String>(&mut admin, &["GET", "shared"]), "admin-value");
    assert_eq!(q::<String>(&mut one, &["FLUSHDB"]), "OK");
    assert_eq!(q::<i64>(&mut one, &["DBSIZE"]), 0);
    assert_eq!(q::<String>(&mut admin, &["GET", "shared"]), "admin-value");

    // Namespace users are not administrators.
    assert!(q_err(&mut one, &["NAMESPACE", "GET", "ns1"]).starts_with("ERR"));

    // A raw connection switches namespace with AUTH.
    let mut r = s.raw();
    assert_eq!(r.cmd(&["AUTH", "token-two"]), "+OK\r\n");
    assert_eq!(r.cmd(&["SET", "via-raw", "x"]), "+OK\r\n");
    assert_eq!(
        q::<Option<String>>(&mut two, &["GET", "via-raw"]),
        Some("x".into())
    );
    assert_eq!(q::<Option<String>>(&mut admin, &["GET", "via-raw"]), None);

    assert_eq!(q::<String>(&mut admin, &["NAMESPACE", "DEL", "ns2"]), "OK");
    assert_eq!(
        q::<Option<String>>(&mut admin, &["NAMESPACE", "GET", "ns2"]),
        None
    );
    let mut r = s.raw();
    assert!(r.cmd(&["AUTH", "token-two"]).starts_with('-'));
}

#[test]
fn misc_server_commands() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    assert_eq!(q::<String>(&mut c, &["PING", "hello"]), "hello");
    assert_eq!(q::<String>(&mut c, &["ECHO", "hi there"]), "hi there");
    assert_eq!(
        q_err(&mut c, &["ECHO"]),
        "ERR wrong number of arguments for 'echo' command"
    );
    assert_eq!(q::<String>(&mut c, &["SELECT", "0"]), "OK");
    assert_eq!(
        q_err(&mut c, &["SELECT", "abc"]),
        "ERR value is not an integer or out of range"
    );

    let (secs, micros): (String, String) = q(&mut c, &["TIME"]);
    let secs: u64 = secs.parse().unwrap();
    let micros: u64 = micros.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2);
    assert!(micros < 1_000_000);

    let count: i64 = q(&mut c, &["COMMAND", "COUNT"]);
    assert!(count >= 60, "COMMAND COUNT {count}");
    let info: redis::Value = q(&mut c, &["COMMAND", "INFO", "get", "nosuchcmd"]);
    match info {
        redis::Value::Array(items) => {
            assert_eq!(items.len(), 2);
            assert_eq!(items[1], redis::Value::Nil);
            match &items[0] {
                redis::Value::Array(get) => {
                    assert_eq!(get[0], redis::Value::BulkString(b"get".to_vec()));
                    assert_eq!(get[1], redis::Value::Int(2));
                }
                other => panic!("COMMAND INFO get: {other:?}"),
            }
        }
        other => panic!("COMMAND INFO: {other:?}"),
    }

    let start = Instant::now();
    assert_eq!(q::<String>(&mut c, &["DEBUG", "SLEEP", "0.2"]), "OK");
    assert!(start.elapsed() >= Duration::from_millis(200));

    // SLOWLOG: with a 0 µs threshold every command is logged.
    assert_eq!(q::<String>(&mut c, &["SLOWLOG", "RESET"]), "OK");
    assert_eq!(
        q::<String>(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        "OK"
    );
    q::<()>(&mut c, &["SET", "slow", "1"]);
    let len: i64 = q(&mut c, &["SLOWLOG", "LEN"]);
    assert!(len >= 1, "SLOWLOG LEN {len}");
    let entries: redis::Value = q(&mut c, &["SLOWLOG", "GET", "10"]);
    let text = format!("{entries:?}");
    assert!(text.contains("slow"), "SLOWLOG GET: {text}");
    assert_eq!(
        q::<String>(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "-1"]),
        "OK"
    );
    assert_eq!(q::<String>(&mut c, &["SLOWLOG", "RESET"]), "OK");
    q::<()>(&mut c, &["SET", "fast", "1"]);
    assert_eq!(q::<i64>(&mut c, &["SLOWLOG", "LEN"]), 0);

    assert_eq!(q::<String>(&mut c, &["COMPACT"]), "OK");
    assert_eq!(q::<String>(&mut c, &["GET", "slow"]), "1");

    // QUIT replies OK and closes.
    let mut r = s.raw();
    r.send_cmd(&["QUIT"]);
    let got = r
        .read_to_eof(Duration::from_secs(5))
        .expect("QUIT did not close");
    assert_eq!(String::from_utf8_lossy(&got), "+OK\r\n");
}
