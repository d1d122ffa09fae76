//! Defences against hostile and careless clients: the limits before AUTH,
//! the query buffer limit, namespace isolation of CLIENT, and the config
//! guards that keep a server usable and restartable.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{q, q_err, resp_cmd, run_with_config, Raw, Server};

const EOF_WAIT: Duration = Duration::from_secs(10);

/// Resident memory of a process in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Sends `bytes` on a fresh connection and returns everything the server
/// wrote before closing it.
fn reply_then_close(s: &Server, bytes: &[u8]) -> String {
    let mut r = s.raw();
    r.send(bytes);
    let got = r
        .read_to_eof(EOF_WAIT)
        .unwrap_or_else(|| panic!("not closed after {:?}", String::from_utf8_lossy(bytes)));
    String::from_utf8_lossy(&got).into_owned()
}

/// Writes as much of `len` bytes as the server accepts before closing;
/// errors (the server hung up) end the writing.
fn push_bytes(r: &mut Raw, len: usize) {
    r.stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let chunk = vec![b'x'; 1 << 20];
    let mut sent = 0;
    while sent < len {
        if r.stream.write_all(&chunk).is_err() {
            return;
        }
        sent += chunk.len();
    }
}

#[test]
fn unauthenticated_clients_get_small_limits() {
    let s = Server::start_with(&[("requirepass", "secret")]);

    assert_eq!(
        reply_then_close(&s, b"*11\r\n"),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    assert_eq!(
        reply_then_close(&s, b"*2\r\n$4\r\nAUTH\r\n$16385\r\n"),
        "-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    // At the limits the request is decoded and answered as usual.
    let mut r = s.raw();
    let ten: Vec<&[u8]> = vec![b"ECHO"; 10];
    r.send(&resp_cmd(&ten));
    assert!(r.read_reply_string().starts_with("-NOAUTH"));
    let big = vec![b'p'; 16384];
    r.send(&resp_cmd(&[b"AUTH", &big]));
    assert!(r.read_reply_string().starts_with("-WRONGPASS"));

    // AUTH lifts the limits, also for the next request of the same pipeline.
    let value = vec![b'v'; 100_000];
    let mut pipeline = resp_cmd(&[b"AUTH", b"secret"]);
    pipeline.extend(resp_cmd(&[b"ECHO", &value]));
    r.send(&pipeline);
    assert_eq!(r.read_reply_string(), "+OK\r\n");
    assert_eq!(r.read_reply().len(), 100_000 + "$100000\r\n\r\n".len());

    // Four clients each announcing 400 MB arguments and sending 24 MB of
    // them: the server refuses at the header and keeps nothing.
    let pid = s.pid().expect("pid");
    let before = rss_kib(pid);
    for _ in 0..4 {
        let mut r = s.raw();
        r.send(b"*5\r\n$4\r\nECHO\r\n$400000000\r\n");
        assert_eq!(
            r.read_reply_string(),
            "-ERR Protocol error: unauthenticated bulk length\r\n"
        );
        push_bytes(&mut r, 24 << 20);
        assert!(r.closed_within(EOF_WAIT));
    }
    let after = rss_kib(pid);
    assert!(
        after < before + 32 * 1024,
        "RSS grew from {before} KiB to {after} KiB for refused requests"
    );
    let mut c = s.client_auth("secret");
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let s = Server::start();
    let mut admin = s.client();
    assert_eq!(
        q_err(
            &mut admin,
            &["CONFIG", "SET", "client-query-buffer-limit", "1000"]
        ),
        "ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - argument must be between 1048576 and 9223372036854775807 inclusive"
    );
    // Lowering the limit below proto-max-bulk-len alone is refused: a
    // request at the bulk limit would be cut off.
    assert!(q_err(
        &mut admin,
        &["CONFIG", "SET", "client-query-buffer-limit", "2mb"]
    )
    .contains("proto-max-bulk-len"));
    let _: () = q(
        &mut admin,
        &[
            "CONFIG",
            "SET",
            "proto-max-bulk-len",
            "1mb",
            "client-query-buffer-limit",
            "2mb",
        ],
    );

    // Three 900 KB arguments: each is under proto-max-bulk-len, together
    // they pass the query buffer limit before the request is complete.
    let mut r = s.raw();
    let part = vec![b'q'; 900_000];
    let mut req = b"*5\r\n$4\r\nMSET\r\n$1\r\na\r\n".to_vec();
    for _ in 0..2 {
        req.extend_from_slice(b"$900000\r\n");
        req.extend_from_slice(&part);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"$900000\r\n");
    req.extend_from_slice(&part[..400_000]);
    r.send(&req);
    let got = r
        .read_to_eof(EOF_WAIT)
        .expect("client over the limit is closed");
    assert!(got.is_empty(), "no reply expected, got {got:?}");
    assert_eq!(q::<Option<String>>(&mut admin, &["GET", "a"]), None);
    assert!(s.log().contains("max query buffer length"), "{}", s.log());

    // One argument of 900 KB is still fine.
    let mut r = s.raw();
    r.send(&resp_cmd(&[b"SET", b"a", &part]));
    assert_eq!(r.read_reply_string(), "+OK\r\n");
}

#[test]
fn proto_max_bulk_len_has_a_floor() {
    let s = Server::start();
    let mut c = s.client();
    for bad in ["0", "10", "1048575"] {
        assert_eq!(
            q_err(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", bad]),
            "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive",
            "value {bad}"
        );
    }
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "proto-max-bulk-len"])[1],
        "536870912"
    );
    let _: () = q(&mut c, &["SET", "still", "works"]);
    assert_eq!(q::<String>(&mut c, &["GET", "still"]), "works");
    // Suffixes are powers of 1024, as in kvrocks.
    let _: () = q(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "100M"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "proto-max-bulk-len"])[1],
        "104857600"
    );

    // In the file as well: the server does not start and names the line.
    let (status, err) = run_with_config("port 1\nproto-max-bulk-len 10\n", &[]);
    assert!(!status.success());
    assert!(err.contains("ferrocks.conf:2"), "{err}");
    assert!(err.contains("proto-max-bulk-len"), "{err}");
}

#[test]
fn keys_that_constrain_each_other_are_checked_together() {
    let mut s = Server::start_with_config_file("# hardening\nmigrate-batch-size-min-kb 16\n");
    let mut c = s.client();
    let err = q_err(&mut c, &["CONFIG", "SET", "migrate-batch-size-max-kb", "1"]);
    assert!(
        err.starts_with(
            "ERR CONFIG SET failed (possibly related to argument 'migrate-batch-size-max-kb')"
        ),
        "{err}"
    );
    assert!(err.contains("migrate-batch-size-min-kb"), "{err}");
    // Changing both in one CONFIG SET is checked on the result.
    let _: () = q(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "migrate-batch-size-min-kb",
            "4",
            "migrate-batch-size-max-kb",
            "8",
        ],
    );
    let _: () = q(&mut c, &["CONFIG", "REWRITE"]);
    drop(c);
    s.restart();
    let mut c = s.client();
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "migrate-batch-size-max-kb"])[1],
        "8"
    );

    // A file with the pair inverted names the later line.
    let (status, err) = run_with_config(
        "port 1\nmigrate-batch-size-min-kb 64\n# x\nmigrate-batch-size-max-kb 32\n",
        &[],
    );
    assert!(!status.success());
    assert!(err.contains("ferrocks.conf:4"), "{err}");
    assert!(err.contains("migrate-batch-size-max-kb"), "{err}");
}

/// A client authenticated with `token`, and its CLIENT ID.
fn ns_client(s: &Server, token: &str) -> (redis::Connection, i64) {
    let mut c = s.client_auth(token);
    let id: i64 = q(&mut c, &["CLIENT", "ID"]);
    (c, id)
}

/// The ids in a CLIENT LIST reply.
fn listed_ids(list: &str) -> Vec<i64> {
    list.lines()
        .filter_map(|l| l.strip_prefix("id=")?.split(' ').next()?.parse().ok())
        .collect()
}

#[test]
fn namespace_users_see_and_touch_only_their_clients() {
    let s = Server::start_opts(
        common::Options::new()
            .config("# namespaces\n")
            .arg("requirepass", "admin"),
    );
    let (mut admin, admin_id) = ns_client(&s, "admin");
    let _: () = q(&mut admin, &["NAMESPACE", "ADD", "ns1", "tok1"]);
    let _: () = q(&mut admin, &["NAMESPACE", "ADD", "ns2", "tok2"]);
    assert_eq!(
        q_err(&mut admin, &["NAMESPACE", "ADD", "ns1", "tok3"]),
        "ERR the namespace already exists"
    );
    let (mut a1, a1_id) = ns_client(&s, "tok1");
    let (mut a2, a2_id) = ns_client(&s, "tok1");
    let (mut b, b_id) = ns_client(&s, "tok2");

    let seen = listed_ids(&q::<String>(&mut a1, &["CLIENT", "LIST"]));
    assert_eq!(seen, vec![a1_id, a2_id]);
    let all = q::<String>(&mut admin, &["CLIENT", "LIST"]);
    for id in [admin_id, a1_id, a2_id, b_id] {
        assert!(listed_ids(&all).contains(&id), "{id} missing in {all}");
    }
    assert!(all.contains("namespace=ns2"), "{all}");
    assert!(all.contains("namespace=__namespace"), "{all}");
    let info = q::<String>(&mut a1, &["CLIENT", "INFO"]);
    assert!(info.contains(" flags=N namespace=ns1 "), "{info}");
    let listed = q::<String>(
        &mut a1,
        &[
            "CLIENT",
            "LIST",
            "ID",
            &b_id.to_string(),
            &a2_id.to_string(),
        ],
    );
    assert_eq!(listed_ids(&listed), vec![a2_id]);

    // KILL reaches nothing outside the namespace, by any filter.
    for filter in [
        vec!["CLIENT", "KILL", "ID", &*b_id.to_string()],
        vec!["CLIENT", "KILL", "ID", &*admin_id.to_string()],
        vec!["CLIENT", "KILL", "USER", "default", "SKIPME", "yes"],
    ] {
        let filter = filter.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let args: Vec<&str> = filter.iter().map(String::as_str).collect();
        let killed: i64 = q(&mut a1, &args);
        assert!(killed <= 1, "{args:?} killed {killed}");
    }
    let admin_addr = all
        .lines()
        .find(|l| l.starts_with(&format!("id={admin_id} ")))
        .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("addr=")))
        .unwrap()
        .to_string();
    assert_eq!(
        q_err(&mut a1, &["CLIENT", "KILL", &admin_addr]),
        "ERR No such client"
    );
    assert_eq!(q::<String>(&mut b, &["PING"]), "PONG");
    assert_eq!(q::<String>(&mut admin, &["PING"]), "PONG");
    // a2 was killed by the USER filter above (same namespace).
    assert!(!q_err(&mut a2, &["PING"]).is_empty());

    // PAUSE by a namespace user holds only its namespace.
    let (_a3, _) = ns_client(&s, "tok1");
    let _: () = q(&mut a1, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    let _: () = q(&mut b, &["SET", "free", "1"]);
    let _: () = q(&mut admin, &["SET", "free", "1"]);
    let mut held = Raw::connect(s.port());
    assert_eq!(held.cmd(&["AUTH", "tok1"]), "+OK\r\n");
    assert_eq!(held.cmd(&["GET", "x"]), "$-1\r\n");
    held.send_cmd(&["SET", "x", "1"]);
    assert!(
        held.read_to_eof(Duration::from_millis(500)).is_none(),
        "paused write answered or closed"
    );
    // The other namespace cannot lift it, the paused one can.
    let _: () = q(&mut b, &["CLIENT", "UNPAUSE"]);
    let mut a4 = ns_client(&s, "tok1").0;
    let _: () = q(&mut a4, &["CLIENT", "UNPAUSE"]);
    assert_eq!(held.read_reply_string(), "+OK\r\n");
    let start = Instant::now();
    assert_eq!(held.cmd(&["SET", "x", "2"]), "+OK\r\n");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn admin_pause_holds_every_namespace_until_unpause() {
    let s = Server::start_opts(
        common::Options::new()
            .config("# namespaces\n")
            .arg("requirepass", "admin"),
    );
    let mut admin = s.client_auth("admin");
    let _: () = q(&mut admin, &["NAMESPACE", "ADD", "ns1", "tok1"]);
    let _: () = q(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    let mut r = Raw::connect(s.port());
    assert_eq!(r.cmd(&["AUTH", "tok1"]), "+OK\r\n");
    r.send_cmd(&["SET", "k", "v"]);
    assert!(r.read_to_eof(Duration::from_millis(500)).is_none());
    let mut other = Raw::connect(s.port());
    assert_eq!(other.cmd(&["AUTH", "admin"]), "+OK\r\n");
    assert_eq!(other.cmd(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
    assert_eq!(r.read_reply_string(), "+OK\r\n");
    assert_eq!(
        q_err(&mut admin, &["CLIENT", "PAUSE", "10", "READ"]),
        "ERR CLIENT PAUSE mode must be WRITE or ALL"
    );
    assert_eq!(
        q_err(&mut admin, &["CLIENT", "PAUSE", "-1"]),
        "ERR timeout is negative"
    );
}

#[test]
fn namespace_changes_need_a_config_file() {
    let s = Server::start_with(&[("requirepass", "admin")]);
    let mut admin = s.client_auth("admin");
    let err = q_err(&mut admin, &["NAMESPACE", "ADD", "ns1", "tok1"]);
    assert!(err.contains("config file"), "{err}");
    assert_eq!(
        q::<Option<String>>(&mut admin, &["NAMESPACE", "GET", "ns1"]),
        None
    );
}

#[test]
fn pre_auth_and_protocol_details() {
    let s = Server::start();
    let mut r = s.raw();
    // An unknown command's name is cut to 128 bytes.
    let long = "A".repeat(200);
    let reply = r.cmd(&[&long, "x"]);
    assert_eq!(
        reply,
        format!(
            "-ERR unknown command '{}', with args beginning with: 'x' \r\n",
            "A".repeat(128)
        )
    );
    // A header ended by a bare LF is a protocol error.
    assert_eq!(
        reply_then_close(&s, b"*1\n$4\r\nPING\r\n"),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    assert_eq!(
        reply_then_close(&s, b"*1\r\n$4\nPING\r\n"),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
}

#[test]
fn restore_with_an_overflowing_ttl_is_expired() {
    let s = Server::start();
    let mut c = s.client();
    let _: () = q(&mut c, &["SET", "src", "value"]);
    let payload: Vec<u8> = redis::cmd("DUMP").arg("src").query(&mut c).unwrap();
    let ok: String = redis::cmd("RESTORE")
        .arg("dst")
        .arg("9223372036854775807")
        .arg(&payload)
        .query(&mut c)
        .unwrap();
    assert_eq!(ok, "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "dst"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PTTL", "dst"]), -2);
}

#[test]
fn debug_sleep_stalls_the_whole_server() {
    let s = Server::start();
    let mut sleeper = s.raw();
    sleeper.send_cmd(&["DEBUG", "SLEEP", "1.5"]);
    // The request reaches the server long before this pause ends.
    std::thread::sleep(Duration::from_millis(300));
    let mut other = s.raw();
    let start = Instant::now();
    assert_eq!(other.cmd(&["PING"]), "+PONG\r\n");
    let waited = start.elapsed();
    assert_eq!(sleeper.read_reply_string(), "+OK\r\n");
    assert!(
        waited >= Duration::from_millis(800),
        "PING answered after {waited:?} during DEBUG SLEEP"
    );
}

/// A one-node cluster owning every slot, with an admin password and a
/// config file (for namespaces).
fn single_node_cluster(config: &str) -> (Server, String) {
    let s = Server::start_opts(
        common::Options::new()
            .config(config)
            .arg("cluster-enabled", "yes")
            .arg("requirepass", "admin"),
    );
    let id = "Ab".repeat(20);
    let mut admin = s.client_auth("admin");
    let _: () = q(&mut admin, &["CLUSTERX", "SETNODEID", &id]);
    let topo = format!("{id} 127.0.0.1 {} master - 0-16383", s.port());
    let _: () = q(&mut admin, &["CLUSTERX", "SETNODES", &topo, "1"]);
    (s, id)
}

#[test]
fn namespace_users_cannot_change_the_cluster() {
    let (s, id) = single_node_cluster("# cluster node\n");
    let mut admin = s.client_auth("admin");
    let _: () = q(&mut admin, &["NAMESPACE", "ADD", "ns1", "tok1"]);
    let mut user = s.client_auth("tok1");
    for cmd in [
        vec!["CLUSTER", "RESET"],
        vec!["CLUSTER", "SETSLOT", "5", "NODE", &id],
        vec!["CLUSTER", "DELSLOTS", "5"],
        vec!["CLUSTER", "ADDSLOTSRANGE", "1", "2"],
        vec!["CLUSTER", "MIGRATION", "CANCEL", "5"],
        vec!["CLUSTERX", "SETNODES", "", "2", "FORCE"],
    ] {
        assert_eq!(
            q_err(&mut user, &cmd),
            "ERR admin permission required to perform the command",
            "{cmd:?}"
        );
    }
    // Reading the topology stays open to them.
    assert!(q::<String>(&mut user, &["CLUSTER", "INFO"]).contains("cluster_state:ok"));
    assert!(q::<String>(&mut user, &["CLUSTER", "NODES"]).contains(&id));
    let _: () = q(&mut user, &["SET", "k", "v"]);
}

#[test]
fn cluster_nodes_file_follows_persist_setting() {
    // In the file, not on the command line: CONFIG REWRITE changes it below.
    let (mut s, _) = single_node_cluster("persist-cluster-nodes-enabled no\n");
    let nodes_file = s.data_dir().join("nodes.conf");
    assert!(
        !nodes_file.exists(),
        "nodes.conf written with persistence off"
    );
    s.restart();
    let mut admin = s.client_auth("admin");
    assert_eq!(
        q_err(&mut admin, &["CLUSTER", "INFO"]),
        "CLUSTERDOWN The cluster is not initialized"
    );
    // Turned on at run time, the current state is written at once.
    let id = "Cd".repeat(20);
    let _: () = q(&mut admin, &["CLUSTERX", "SETNODEID", &id]);
    let topo = format!("{id} 127.0.0.1 {} master - 0-16383", s.port());
    let _: () = q(&mut admin, &["CLUSTERX", "SETNODES", &topo, "3"]);
    let _: () = q(
        &mut admin,
        &["CONFIG", "SET", "persist-cluster-nodes-enabled", "yes"],
    );
    assert!(nodes_file.exists());
    let _: () = q(&mut admin, &["CONFIG", "REWRITE"]);
    drop(admin);
    s.restart();
    let mut admin = s.client_auth("admin");
    assert!(q::<String>(&mut admin, &["CLUSTER", "INFO"]).contains("cluster_current_epoch:3"));
}
