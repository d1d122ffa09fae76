//! Multi-node cluster harness shared by the `cluster_*` integration tests.
//!
//! A test file uses it with
//!
//! ```ignore
//! mod cluster;
//! mod common;
//! ```
//!
//! `Cluster::start(n)` starts `n` ferrocks processes with
//! `--cluster-enabled yes`, gives each a random 40-hex id
//! (`CLUSTERX SETNODEID`), splits the 16384 slots evenly and pushes the same
//! `CLUSTERX SETNODES` text (version 1) to every node. The slot map is plain
//! data (`Cluster::owner`): change it with `assign` / `unassign` and push it
//! again with `push_topology(version)`, which is what the slot migration
//! tests build on.
//!
//! Besides the cluster itself there are:
//! - a reference CRC16 / key-slot implementation and `key_in_slot` to make a
//!   key of any wanted slot;
//! - `Written` / `write_value_of_each_type` / `dataset`: keys written with
//!   their expected content and TTL, checked later through any connection
//!   (only strings exist for now; a new type is a new `Data` variant);
//! - `parse_cluster_nodes` for `CLUSTER NODES` replies;
//! - `redis_cli` to run the real `redis-cli` binary;
//! - `migration`: helpers of the slot migration tests.

#![allow(dead_code)]

pub mod migration;

use std::io::Read;
use std::ops::RangeInclusive;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use redis::{Cmd, ConnectionLike, Value};

use crate::common::{err_text, Raw, Server};

/// Number of hash slots.
pub const SLOT_COUNT: u16 = 16384;

// ---------------------------------------------------------------------------
// Slot math (an independent reference implementation, not the server's)

/// CRC16-CCITT (XMODEM), bit by bit.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The slot of `key`: CRC16 of its first non-empty `{hash tag}` (or of the
/// whole key) mod 16384, as Redis Cluster computes it.
pub fn key_slot(key: &[u8]) -> u16 {
    let mut hashed = key;
    if let Some(open) = key.iter().position(|&c| c == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&c| c == b'}') {
            if len > 0 {
                hashed = &key[open + 1..open + 1 + len];
            }
        }
    }
    crc16(hashed) % SLOT_COUNT
}

/// For every slot, a short hash tag (`t123`) whose slot it is.
fn slot_tags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        let mut tags = vec![String::new(); SLOT_COUNT as usize];
        let mut missing = SLOT_COUNT as usize;
        let mut i = 0u64;
        while missing > 0 {
            let tag = format!("t{i}");
            let slot = key_slot(tag.as_bytes()) as usize;
            if tags[slot].is_empty() {
                tags[slot] = tag;
                missing -= 1;
            }
            i += 1;
        }
        tags
    })
}

/// A hash tag (without braces) that hashes to `slot`.
pub fn hash_tag_for_slot(slot: u16) -> &'static str {
    &slot_tags()[slot as usize]
}

/// A key of slot `slot`: `{tag}name`.
pub fn key_in_slot(slot: u16, name: &str) -> String {
    format!("{{{}}}{name}", hash_tag_for_slot(slot))
}

/// A random 40-hex node id (from /dev/urandom).
pub fn random_node_id() -> String {
    let mut bytes = [0u8; 20];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Node `i` of `n` owns slots `[i*16384/n, (i+1)*16384/n - 1]`.
pub fn even_split(n: usize) -> Vec<Option<usize>> {
    assert!(n > 0, "a cluster needs at least one master");
    (0..SLOT_COUNT as usize)
        .map(|s| Some(s * n / SLOT_COUNT as usize))
        .collect()
}

/// Collapses a sorted list of slots into inclusive ranges.
pub fn to_ranges(slots: impl IntoIterator<Item = u16>) -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = Vec::new();
    for s in slots {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == s => *end = s,
            _ => out.push((s, s)),
        }
    }
    out
}

/// Ranges as SETNODES / CLUSTER NODES write them: `0-5460 5461 ...`.
pub fn ranges_text(ranges: &[(u16, u16)]) -> String {
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Number of slots in a list of inclusive ranges.
pub fn slot_count(ranges: &[(u16, u16)]) -> usize {
    ranges.iter().map(|&(a, b)| (b - a) as usize + 1).sum()
}

// ---------------------------------------------------------------------------
// Commands

/// Builds a command from words.
pub fn cmd(args: &[&str]) -> Cmd {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c
}

/// Runs a command on any connection (plain or cluster); the error as the
/// server sent it (`CODE detail`) on failure.
pub fn try_q<T: redis::FromRedisValue>(
    con: &mut dyn ConnectionLike,
    args: &[&str],
) -> Result<T, String> {
    cmd(args).query(con).map_err(|e| err_text(&e))
}

/// Runs a command on any connection and panics on an error reply.
pub fn qq<T: redis::FromRedisValue>(con: &mut dyn ConnectionLike, args: &[&str]) -> T {
    try_q(con, args).unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// The text of a bulk or simple string reply.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".to_string(),
        Value::Int(i) => i.to_string(),
        Value::VerbatimString { text, .. } => text.clone(),
        other => panic!("expected a string reply, got {other:?}"),
    }
}

/// Runs the real `redis-cli` with `args` (stdin closed), killing it after
/// `timeout`.
pub fn redis_cli(args: &[&str], timeout: Duration) -> Output {
    let mut child = Command::new("redis-cli")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run redis-cli (is redis-tools installed?)");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stdout.read_to_end(&mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stderr.read_to_end(&mut b);
        b
    });
    let status = match crate::common::wait_child(&mut child, timeout) {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "redis-cli {args:?} still running after {timeout:?}; output so far:\n{}",
                String::from_utf8_lossy(&out.join().unwrap())
            );
        }
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

// ---------------------------------------------------------------------------
// CLUSTER NODES

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLine {
    pub id: String,
    /// `ip:port`
    pub addr: String,
    /// The cluster bus port after `@`.
    pub bus_port: Option<u16>,
    pub flags: Vec<String>,
    /// The master's id, or `-`.
    pub master: String,
    pub ping_sent: String,
    pub pong_recv: String,
    pub config_epoch: i64,
    pub link_state: String,
    pub slots: Vec<(u16, u16)>,
    /// `[slot->-dst]` entries.
    pub migrating: Vec<(u16, String)>,
    /// `[slot-<-src]` entries.
    pub importing: Vec<(u16, String)>,
}

impl NodeLine {
    pub fn is_myself(&self) -> bool {
        self.flags.iter().any(|f| f == "myself")
    }
    pub fn is_master(&self) -> bool {
        self.flags.iter().any(|f| f == "master")
    }
}

/// Parses a `CLUSTER NODES` reply; panics on a malformed line.
pub fn parse_cluster_nodes(text: &str) -> Vec<NodeLine> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
        assert!(f.len() >= 8, "CLUSTER NODES line has < 8 fields: {line:?}");
        let (addr, bus_port) = match f[1].split_once('@') {
            Some((a, b)) => {
                // Redis 7 may append ",hostname".
                let bus = b.split(',').next().unwrap();
                (a.to_string(), Some(bus.parse().expect("bus port")))
            }
            None => (f[1].to_string(), None),
        };
        let mut node = NodeLine {
            id: f[0].to_string(),
            addr,
            bus_port,
            flags: f[2].split(',').map(str::to_string).collect(),
            master: f[3].to_string(),
            ping_sent: f[4].to_string(),
            pong_recv: f[5].to_string(),
            config_epoch: f[6]
                .parse()
                .unwrap_or_else(|_| panic!("config epoch in {line:?}")),
            link_state: f[7].to_string(),
            slots: Vec::new(),
            migrating: Vec::new(),
            importing: Vec::new(),
        };
        for w in &f[8..] {
            if let Some(inner) = w.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
                if let Some((slot, dst)) = inner.split_once("->-") {
                    node.migrating
                        .push((slot.parse().expect("slot"), dst.to_string()));
                } else if let Some((slot, src)) = inner.split_once("-<-") {
                    node.importing
                        .push((slot.parse().expect("slot"), src.to_string()));
                } else {
                    panic!("bad bracket entry {w:?} in {line:?}");
                }
                continue;
            }
            let range = match w.split_once('-') {
                Some((a, b)) => (a.parse(), b.parse()),
                None => (w.parse(), w.parse()),
            };
            match range {
                (Ok(a), Ok(b)) => node.slots.push((a, b)),
                _ => panic!("bad slot range {w:?} in {line:?}"),
            }
        }
        out.push(node);
    }
    out
}

/// `CLUSTER NODES` of a connection, parsed.
pub fn cluster_nodes(con: &mut redis::Connection) -> Vec<NodeLine> {
    let text: String = qq(con, &["CLUSTER", "NODES"]);
    parse_cluster_nodes(&text)
}

/// `CLUSTER NODES` as (id, sorted slot ranges) pairs sorted by id: what
/// every node must agree on.
pub fn slot_view(con: &mut redis::Connection) -> Vec<(String, Vec<(u16, u16)>)> {
    let mut v: Vec<(String, Vec<(u16, u16)>)> = cluster_nodes(con)
        .into_iter()
        .map(|n| {
            let mut slots = n.slots;
            slots.sort_unstable();
            (n.id, slots)
        })
        .collect();
    v.sort();
    v
}

/// `CLUSTERX VERSION` of a connection: an integer reply or a bulk string
/// holding one (kvrocks answers with a bulk string) are both accepted.
pub fn clusterx_version(con: &mut dyn ConnectionLike) -> Result<i64, String> {
    let v: Value = try_q(con, &["CLUSTERX", "VERSION"])?;
    match &v {
        Value::Int(i) => Ok(*i),
        Value::BulkString(b) => String::from_utf8_lossy(b)
            .trim()
            .parse()
            .map_err(|_| format!("CLUSTERX VERSION replied {v:?}")),
        Value::SimpleString(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("CLUSTERX VERSION replied {v:?}")),
        other => Err(format!("CLUSTERX VERSION replied {other:?}")),
    }
}

/// True when `slot` is inside one of `ranges`.
pub fn ranges_contain(ranges: &[(u16, u16)], slot: u16) -> bool {
    ranges.iter().any(|&(a, b)| a <= slot && slot <= b)
}

/// `CLUSTER INFO` as key/value pairs.
pub fn cluster_info(con: &mut redis::Connection) -> Vec<(String, String)> {
    let text: String = qq(con, &["CLUSTER", "INFO"]);
    text.lines()
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// One field of `CLUSTER INFO`; panics when absent.
pub fn info_field(info: &[(String, String)], name: &str) -> String {
    info.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("CLUSTER INFO has no {name}: {info:?}"))
}

// ---------------------------------------------------------------------------
// The cluster

/// One ferrocks process of a cluster.
pub struct Node {
    pub server: Server,
    /// Its node id (set with CLUSTERX SETNODEID).
    pub id: String,
    /// `None` for a master, `Some(i)` for a replica of node `i`.
    pub replica_of: Option<usize>,
}

impl Node {
    /// Starts a process with cluster mode on and gives it a random id.
    pub fn start() -> Node {
        Node::start_with(&[])
    }

    /// Like [`Node::start`] with more `--key value` arguments.
    pub fn start_with(args: &[(&str, &str)]) -> Node {
        // A config file of its own, as in production: NAMESPACE and
        // CONFIG REWRITE need one.
        let mut opts = crate::common::Options::new()
            .config("# cluster node\n")
            .arg("cluster-enabled", "yes");
        for (k, v) in args {
            opts = opts.arg(k, v);
        }
        let server = Server::start_opts(opts);
        let id = random_node_id();
        let mut con = server.client();
        let reply: String = qq(&mut con, &["CLUSTERX", "SETNODEID", &id]);
        assert_eq!(reply, "OK", "CLUSTERX SETNODEID");
        Node {
            server,
            id,
            replica_of: None,
        }
    }
}

/// N nodes, the slot map the test wants and the version last pushed.
pub struct Cluster {
    pub nodes: Vec<Node>,
    /// Index into `nodes` of each slot's owner (what `push_topology` sends).
    pub owner: Vec<Option<usize>>,
    /// The version last pushed (-1 before any push).
    pub version: i64,
    /// The admin password every node requires, once set.
    pub password: Option<String>,
}

impl Cluster {
    /// `n` masters, slots split evenly, topology version 1 pushed to all.
    pub fn start(n: usize) -> Cluster {
        let mut c = Cluster::start_unassigned(n);
        c.owner = even_split(n);
        c.push_topology(1);
        c
    }

    /// `n` nodes with cluster mode on and their ids set; no topology pushed
    /// and no slot assigned.
    pub fn start_unassigned(n: usize) -> Cluster {
        Cluster::start_unassigned_with(n, &[])
    }

    /// `n` masters started with extra `--key value` arguments, slots split
    /// evenly, version 1 pushed.
    pub fn start_with(n: usize, args: &[(&str, &str)]) -> Cluster {
        let mut c = Cluster::start_unassigned_with(n, args);
        c.owner = even_split(n);
        c.push_topology(1);
        c
    }

    fn start_unassigned_with(n: usize, args: &[(&str, &str)]) -> Cluster {
        Cluster {
            nodes: (0..n).map(|_| Node::start_with(args)).collect(),
            owner: vec![None; SLOT_COUNT as usize],
            version: -1,
            password: None,
        }
    }

    /// Starts one more node (no slots); returns its index. Push a topology
    /// to make the others know it.
    pub fn add_node(&mut self) -> usize {
        self.nodes.push(Node::start());
        self.nodes.len() - 1
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn server(&self, i: usize) -> &Server {
        &self.nodes[i].server
    }

    pub fn port(&self, i: usize) -> u16 {
        self.nodes[i].server.port()
    }

    /// `127.0.0.1:PORT` of node `i`, as MOVED / ASK replies name it.
    pub fn addr(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.port(i))
    }

    pub fn id(&self, i: usize) -> &str {
        &self.nodes[i].id
    }

    pub fn ports(&self) -> Vec<u16> {
        (0..self.len()).map(|i| self.port(i)).collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.id.clone()).collect()
    }

    /// Index of the node with `id`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// A plain connection to node `i` (authenticated once the cluster has
    /// a password).
    pub fn client(&self, i: usize) -> redis::Connection {
        match &self.password {
            Some(p) => self.nodes[i].server.client_auth(p),
            None => self.nodes[i].server.client(),
        }
    }

    /// Makes every node require `password` (CONFIG SET requirepass); later
    /// `client` connections authenticate with it.
    pub fn set_password(&mut self, password: &str) {
        for i in 0..self.len() {
            let mut con = self.client(i);
            let _: () = qq(&mut con, &["CONFIG", "SET", "requirepass", password]);
        }
        self.password = Some(password.to_string());
    }

    /// Pushes to both nodes of a two-node cluster the topology in which
    /// node 0 owns 0-8191 and node 1 owns 8192-16383 and is reached at
    /// `node1_port` (a fault-injecting proxy in front of it), with `version`.
    pub fn push_halves_via(&self, node1_port: u16, version: i64) {
        let text = format!(
            "{} 127.0.0.1 {} master - 0-8191\n{} 127.0.0.1 {} master - 8192-16383",
            self.id(0),
            self.port(0),
            self.id(1),
            node1_port
        );
        for i in 0..2 {
            let r: String = qq(
                &mut self.client(i),
                &["CLUSTERX", "SETNODES", &text, &version.to_string()],
            );
            assert_eq!(r, "OK", "SETNODES on node {i}");
        }
    }

    /// A raw socket to node `i`.
    pub fn raw(&self, i: usize) -> Raw {
        self.nodes[i].server.raw()
    }

    /// Gives `slots` to node `node` in the local slot map (not pushed).
    pub fn assign(&mut self, slots: RangeInclusive<u16>, node: usize) {
        assert!(node < self.len());
        for s in slots {
            self.owner[s as usize] = Some(node);
        }
    }

    /// Removes the owner of `slots` in the local slot map (not pushed).
    pub fn unassign(&mut self, slots: RangeInclusive<u16>) {
        for s in slots {
            self.owner[s as usize] = None;
        }
    }

    /// Makes node `i` a replica of node `master` (drops its slots).
    pub fn set_replica_of(&mut self, i: usize, master: Option<usize>) {
        self.nodes[i].replica_of = master;
        if master.is_some() {
            for o in self.owner.iter_mut().filter(|o| **o == Some(i)) {
                *o = None;
            }
        }
    }

    /// The slots node `i` owns in the local slot map, as ranges.
    pub fn slot_ranges(&self, i: usize) -> Vec<(u16, u16)> {
        to_ranges((0..SLOT_COUNT).filter(|&s| self.owner[s as usize] == Some(i)))
    }

    /// The owner of `slot` in the local slot map; panics when unassigned.
    pub fn node_for_slot(&self, slot: u16) -> usize {
        self.owner[slot as usize].unwrap_or_else(|| panic!("slot {slot} has no owner"))
    }

    /// The owner of the slot of `key`.
    pub fn node_for_key(&self, key: &str) -> usize {
        self.node_for_slot(key_slot(key.as_bytes()))
    }

    /// A node that does not own the slot of `key`.
    pub fn node_not_owning(&self, key: &str) -> usize {
        let owner = self.node_for_key(key);
        (0..self.len())
            .find(|&i| i != owner)
            .expect("a cluster of one node owns everything")
    }

    /// A slot owned by node `i` (the first one); panics when it has none.
    pub fn first_slot_of(&self, i: usize) -> u16 {
        self.slot_ranges(i)
            .first()
            .unwrap_or_else(|| panic!("node {i} owns no slot"))
            .0
    }

    /// The SETNODES text of the local slot map: one line per node,
    /// `<id> 127.0.0.1 <port> master|slave <master-id|-> <ranges...>`.
    pub fn nodes_text(&self) -> String {
        let mut out = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let (role, master) = match n.replica_of {
                None => ("master", "-".to_string()),
                Some(m) => ("slave", self.nodes[m].id.clone()),
            };
            out.push_str(&format!(
                "{} 127.0.0.1 {} {role} {master}",
                n.id,
                n.server.port()
            ));
            let ranges = self.slot_ranges(i);
            if !ranges.is_empty() {
                out.push(' ');
                out.push_str(&ranges_text(&ranges));
            }
            out.push('\n');
        }
        out
    }

    /// Sends `CLUSTERX SETNODES <text> <version> [FORCE]` to node `i`.
    pub fn setnodes_on(&self, i: usize, version: i64, force: bool) -> Result<(), String> {
        let mut c = redis::cmd("CLUSTERX");
        c.arg("SETNODES").arg(self.nodes_text()).arg(version);
        if force {
            c.arg("FORCE");
        }
        let mut con = self.client(i);
        match c.query::<Value>(&mut con) {
            Ok(Value::Okay) => Ok(()),
            Ok(other) => Err(format!("unexpected reply {other:?}")),
            Err(e) => Err(err_text(&e)),
        }
    }

    /// Pushes the local slot map with `version` to every node; panics
    /// unless every node answers OK.
    pub fn push_topology(&mut self, version: i64) {
        self.push_topology_opts(version, false);
    }

    /// `push_topology` with FORCE.
    pub fn force_topology(&mut self, version: i64) {
        self.push_topology_opts(version, true);
    }

    fn push_topology_opts(&mut self, version: i64, force: bool) {
        for i in 0..self.len() {
            if let Err(e) = self.setnodes_on(i, version, force) {
                panic!(
                    "CLUSTERX SETNODES (version {version}) on node {i} ({}): {e}\ntext:\n{}",
                    self.addr(i),
                    self.nodes_text()
                );
            }
        }
        self.version = version;
    }

    /// `CLUSTERX VERSION` of node `i`.
    pub fn version_of(&self, i: usize) -> i64 {
        qq(&mut self.client(i), &["CLUSTERX", "VERSION"])
    }

    /// Checks that every node reports `version` and the local slot map in
    /// `CLUSTER NODES`.
    pub fn assert_nodes_agree(&self) {
        let mut expected: Vec<(String, Vec<(u16, u16)>)> = (0..self.len())
            .map(|i| (self.id(i).to_string(), self.slot_ranges(i)))
            .collect();
        expected.sort();
        for i in 0..self.len() {
            let mut con = self.client(i);
            assert_eq!(
                slot_view(&mut con),
                expected,
                "CLUSTER NODES of node {i} ({})",
                self.addr(i)
            );
            assert_eq!(
                self.version_of(i),
                self.version,
                "CLUSTERX VERSION of node {i}"
            );
        }
    }

    /// Seed URLs of every node, for cluster clients.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.server.url()).collect()
    }

    /// A `redis` crate cluster client seeded with every node.
    pub fn cluster_client(&self) -> redis::cluster::ClusterClient {
        redis::cluster::ClusterClient::builder(self.urls())
            .connection_timeout(Duration::from_secs(10))
            .response_timeout(Duration::from_secs(10))
            .build()
            .expect("build ClusterClient")
    }

    /// A connection of the `redis` crate's cluster client.
    pub fn cluster_connection(&self) -> redis::cluster::ClusterConnection {
        self.cluster_client()
            .get_connection()
            .unwrap_or_else(|e| panic!("cluster connection: {}", err_text(&e)))
    }

    /// Restarts node `i` (SIGTERM, same port and directory).
    pub fn restart(&mut self, i: usize) {
        self.nodes[i].server.restart();
    }

    /// `kill -9` of node `i` (reaped; its port and directory are kept for
    /// [`Cluster::start_again`]).
    pub fn kill9(&mut self, i: usize) {
        self.nodes[i].server.kill9();
    }

    /// Starts node `i` again on the same port and data directory after
    /// [`Cluster::kill9`] (a running node is stopped with SIGTERM first).
    pub fn start_again(&mut self, i: usize) {
        self.nodes[i].server.restart();
    }

    /// `CLUSTERX VERSION` of node `i`, whether the node answers with an
    /// integer or (as kvrocks does) a bulk string.
    pub fn any_version_of(&self, i: usize) -> Result<i64, String> {
        clusterx_version(&mut self.client(i))
    }

    /// The slots node `i` owns in its own `CLUSTER NODES` (its `myself`
    /// line), as ranges.
    pub fn own_view(&self, i: usize) -> Vec<(u16, u16)> {
        let mut con = self.client(i);
        cluster_nodes(&mut con)
            .into_iter()
            .find(|n| n.is_myself())
            .map(|n| n.slots)
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------
// Data written by the tests and checked later

/// The content of a key, one variant per type; each has its lines in
/// `write_cmds`, `read_cmds` and `verify_content`.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    String(Vec<u8>),
    /// Field/value pairs, sorted by field.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// Items in order.
    List(Vec<Vec<u8>>),
    /// Members, sorted.
    Set(Vec<Vec<u8>>),
    /// (member, score), in ZRANGE order.
    ZSet(Vec<(Vec<u8>, f64)>),
    /// Bit offsets set to 1; read back with GET.
    Bitmap(Vec<u64>),
    /// Distinct elements added with PFADD.
    Hll(Vec<Vec<u8>>),
    /// (member, longitude, latitude), sorted by member.
    Geo(Vec<(Vec<u8>, f64, f64)>),
}

impl Data {
    /// One value of every type the server supports, derived from `seed`.
    pub fn samples(seed: usize) -> Vec<Data> {
        let n = 1 + seed % 5;
        let mut hash: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
            .map(|i| (format!("f{i}:{seed}").into_bytes(), string_value(seed + i)))
            .collect();
        hash.sort();
        let list = (0..n).map(|i| string_value(seed * 7 + i)).collect();
        let mut set: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("m{i}\x00{seed}").into_bytes())
            .collect();
        set.sort();
        let mut zset: Vec<(Vec<u8>, f64)> = (0..n)
            .map(|i| {
                let score = (seed as f64) * 0.25 - (i as f64) * 1.5;
                (format!("z{i}").into_bytes(), score)
            })
            .collect();
        zset.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        let bits = vec![(seed % 50) as u64, 100 + (seed % 300) as u64, 9000];
        let hll = (0..1 + seed % 20)
            .map(|i| format!("e{i}-{seed}").into_bytes())
            .collect();
        let geo = (0..n)
            .map(|i| {
                let lon = -170.0 + ((seed * 13 + i * 37) % 340) as f64;
                let lat = -80.0 + ((seed * 7 + i * 11) % 160) as f64;
                (format!("p{i}").into_bytes(), lon, lat)
            })
            .collect();
        vec![
            Data::String(string_value(seed)),
            Data::Hash(hash),
            Data::List(list),
            Data::Set(set),
            Data::ZSet(zset),
            Data::Bitmap(bits),
            Data::Hll(hll),
            Data::Geo(geo),
        ]
    }

    /// The value of the `seed`-th key of a dataset (types take turns).
    pub fn nth(seed: usize) -> Data {
        let samples = Data::samples(seed);
        let n = samples.len();
        samples.into_iter().nth(seed % n).unwrap()
    }

    /// What `TYPE` answers for it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Data::String(_) | Data::Bitmap(_) | Data::Hll(_) => "string",
            Data::Hash(_) => "hash",
            Data::List(_) => "list",
            Data::Set(_) => "set",
            Data::ZSet(_) | Data::Geo(_) => "zset",
        }
    }

    /// A short name for key names (`TYPE` names repeat).
    pub fn kind(&self) -> &'static str {
        match self {
            Data::String(_) => "string",
            Data::Hash(_) => "hash",
            Data::List(_) => "list",
            Data::Set(_) => "set",
            Data::ZSet(_) => "zset",
            Data::Bitmap(_) => "bitmap",
            Data::Hll(_) => "hll",
            Data::Geo(_) => "geo",
        }
    }

    /// The bytes GET returns for a bitmap with these bits set.
    fn bitmap_bytes(bits: &[u64]) -> Vec<u8> {
        let len = bits.iter().max().map(|b| b / 8 + 1).unwrap_or(0) as usize;
        let mut out = vec![0u8; len];
        for b in bits {
            out[(b / 8) as usize] |= 0x80 >> (b % 8);
        }
        out
    }
}

/// A string value with binary bytes, of a length depending on `seed`.
pub fn string_value(seed: usize) -> Vec<u8> {
    let mut v = format!("value-{seed}:").into_bytes();
    v.extend_from_slice(b"\0\r\n\xff");
    v.extend(std::iter::repeat_n((seed % 251) as u8, seed % 97));
    v
}

/// A key that was written, with what it must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub key: String,
    pub data: Data,
    /// The TTL it was written with, in milliseconds (`None`: persistent).
    pub ttl_ms: Option<u64>,
}

impl Written {
    pub fn new(key: impl Into<String>, data: Data, ttl_ms: Option<u64>) -> Written {
        Written {
            key: key.into(),
            data,
            ttl_ms,
        }
    }

    /// The commands that write it (all on the key's slot).
    pub fn write_cmds(&self) -> Vec<Cmd> {
        let key = &self.key;
        let add = |name: &str| {
            let mut c = redis::cmd(name);
            c.arg(key);
            c
        };
        let mut cmds = match &self.data {
            Data::String(v) => {
                let mut c = add("SET");
                c.arg(v.as_slice());
                if let Some(ttl) = self.ttl_ms {
                    c.arg("PX").arg(ttl);
                }
                return vec![c];
            }
            Data::Hash(pairs) => {
                let mut c = add("HSET");
                for (f, v) in pairs {
                    c.arg(f.as_slice()).arg(v.as_slice());
                }
                vec![c]
            }
            Data::List(items) => {
                let mut c = add("RPUSH");
                for i in items {
                    c.arg(i.as_slice());
                }
                vec![c]
            }
            Data::Set(members) => {
                let mut c = add("SADD");
                for m in members {
                    c.arg(m.as_slice());
                }
                vec![c]
            }
            Data::ZSet(pairs) => {
                let mut c = add("ZADD");
                for (m, score) in pairs {
                    c.arg(*score).arg(m.as_slice());
                }
                vec![c]
            }
            Data::Bitmap(bits) => bits
                .iter()
                .map(|b| {
                    let mut c = add("SETBIT");
                    c.arg(*b).arg(1);
                    c
                })
                .collect(),
            Data::Hll(elements) => {
                let mut c = add("PFADD");
                for e in elements {
                    c.arg(e.as_slice());
                }
                vec![c]
            }
            Data::Geo(points) => {
                let mut c = add("GEOADD");
                for (m, lon, lat) in points {
                    c.arg(*lon).arg(*lat).arg(m.as_slice());
                }
                vec![c]
            }
        };
        if let Some(ttl) = self.ttl_ms {
            let mut c = add("PEXPIRE");
            c.arg(ttl);
            cmds.push(c);
        }
        cmds
    }

    /// The commands that read it back: TYPE, the content, PTTL.
    pub fn read_cmds(&self) -> Vec<Cmd> {
        let mut t = redis::cmd("TYPE");
        t.arg(&self.key);
        let (name, extra): (&str, &[&str]) = match &self.data {
            Data::String(_) | Data::Bitmap(_) => ("GET", &[]),
            Data::Hash(_) => ("HGETALL", &[]),
            Data::List(_) => ("LRANGE", &["0", "-1"]),
            Data::Set(_) => ("SMEMBERS", &[]),
            Data::ZSet(_) => ("ZRANGE", &["0", "-1", "WITHSCORES"]),
            Data::Hll(_) => ("PFCOUNT", &[]),
            Data::Geo(_) => ("ZRANGE", &["0", "-1"]),
        };
        let mut content = redis::cmd(name);
        content.arg(&self.key);
        for e in extra {
            content.arg(*e);
        }
        let mut p = redis::cmd("PTTL");
        p.arg(&self.key);
        vec![t, content, p]
    }

    /// Checks the reply to the content command of `read_cmds`.
    fn verify_content(&self, got: &Value) -> Result<(), String> {
        let bulk = |v: &Value| match v {
            Value::BulkString(b) => Some(b.clone()),
            Value::SimpleString(s) => Some(s.clone().into_bytes()),
            _ => None,
        };
        let items = |v: &Value| -> Vec<Vec<u8>> {
            match v {
                Value::Array(a) | Value::Set(a) => a.iter().filter_map(bulk).collect(),
                Value::Map(m) => m
                    .iter()
                    .flat_map(|(k, v)| [bulk(k), bulk(v)])
                    .flatten()
                    .collect(),
                _ => Vec::new(),
            }
        };
        let pairs_of = |v: &Value| -> Vec<(Vec<u8>, Vec<u8>)> {
            items(v)
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| (c[0].clone(), c[1].clone()))
                .collect()
        };
        let ok = match &self.data {
            Data::String(want) => bulk(got).as_ref() == Some(want),
            Data::Bitmap(bits) => bulk(got) == Some(Data::bitmap_bytes(bits)),
            Data::Hash(want) => {
                let mut have = pairs_of(got);
                have.sort();
                &have == want
            }
            Data::List(want) => &items(got) == want,
            Data::Set(want) => {
                let mut have = items(got);
                have.sort();
                &have == want
            }
            Data::ZSet(want) => {
                let have: Vec<(Vec<u8>, f64)> = pairs_of(got)
                    .into_iter()
                    .map(|(m, s)| {
                        let score = String::from_utf8_lossy(&s).parse().unwrap_or(f64::NAN);
                        (m, score)
                    })
                    .collect();
                &have == want
            }
            // Small sets count exactly, or within one when registers clash.
            Data::Hll(elements) => {
                matches!(got, Value::Int(n) if (*n - elements.len() as i64).abs() <= 1)
            }
            Data::Geo(points) => {
                let mut have = items(got);
                have.sort();
                let want: Vec<Vec<u8>> = points.iter().map(|p| p.0.clone()).collect();
                have == want
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{}: content {got:?}, expected {:?}",
                self.key, self.data
            ))
        }
    }

    /// Checks the replies to `read_cmds`.
    pub fn verify(&self, replies: &[Value]) -> Result<(), String> {
        let key = &self.key;
        if replies.len() != 3 {
            return Err(format!("{key}: expected 3 replies, got {replies:?}"));
        }
        let ty = match &replies[0] {
            Value::SimpleString(s) => s.clone(),
            Value::Okay => "OK".into(),
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            other => return Err(format!("{key}: TYPE replied {other:?}")),
        };
        if ty != self.data.type_name() {
            return Err(format!(
                "{key}: TYPE is {ty}, expected {}",
                self.data.type_name()
            ));
        }
        self.verify_content(&replies[1])?;
        let pttl = match &replies[2] {
            Value::Int(i) => *i,
            other => return Err(format!("{key}: PTTL replied {other:?}")),
        };
        match self.ttl_ms {
            None if pttl != -1 => Err(format!("{key}: PTTL {pttl}, expected -1 (no TTL)")),
            Some(ttl) if pttl <= 0 || pttl > ttl as i64 => {
                Err(format!("{key}: PTTL {pttl}, expected 1..={ttl}"))
            }
            _ => Ok(()),
        }
    }

    /// Writes it with one command at a time.
    pub fn write(&self, con: &mut dyn ConnectionLike) {
        for c in self.write_cmds() {
            let _: Value = c
                .query(con)
                .unwrap_or_else(|e| panic!("writing {}: {}", self.key, err_text(&e)));
        }
    }

    /// Reads it back with one command at a time and checks it.
    pub fn check(&self, con: &mut dyn ConnectionLike) -> Result<(), String> {
        let mut replies = Vec::new();
        for c in self.read_cmds() {
            replies.push(
                c.query::<Value>(con)
                    .map_err(|e| format!("{}: {}", self.key, err_text(&e)))?,
            );
        }
        self.verify(&replies)
    }
}

/// Writes one key of every supported type, named `<prefix><type>`, with
/// `ttl_ms` when given; returns what was written. Give `prefix` a hash tag
/// (`{tag}`) to keep them in one slot.
pub fn write_value_of_each_type(
    con: &mut dyn ConnectionLike,
    prefix: &str,
    ttl_ms: Option<u64>,
) -> Vec<Written> {
    let written: Vec<Written> = Data::samples(prefix.len())
        .into_iter()
        .map(|data| Written::new(format!("{prefix}{}", data.kind()), data, ttl_ms))
        .collect();
    for w in &written {
        w.write(con);
    }
    written
}

/// Expected content of the given keys: types take turns, every
/// `ttl_every`-th key (0: none) gets a TTL of `ttl_ms`.
pub fn dataset(
    keys: impl IntoIterator<Item = String>,
    ttl_every: usize,
    ttl_ms: u64,
) -> Vec<Written> {
    keys.into_iter()
        .enumerate()
        .map(|(i, key)| {
            let ttl = (ttl_every > 0 && i % ttl_every == 0).then_some(ttl_ms);
            Written::new(key, Data::nth(i), ttl)
        })
        .collect()
}

/// `n` plain keys `key:0..n` (spread over the slots by their hash).
pub fn plain_keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("key:{i}")).collect()
}

/// Runs a batch of commands in one round trip (per node).
pub trait Batch {
    fn run_batch(&mut self, cmds: Vec<Cmd>) -> Result<Vec<Value>, String>;
}

impl Batch for redis::Connection {
    fn run_batch(&mut self, cmds: Vec<Cmd>) -> Result<Vec<Value>, String> {
        let mut p = redis::pipe();
        for c in cmds {
            p.add_command(c);
        }
        p.query(self).map_err(|e| err_text(&e))
    }
}

impl Batch for redis::cluster::ClusterConnection {
    fn run_batch(&mut self, cmds: Vec<Cmd>) -> Result<Vec<Value>, String> {
        let mut p = redis::cluster::ClusterPipeline::new();
        for c in cmds {
            p.add_command(c);
        }
        p.query(self).map_err(|e| err_text(&e))
    }
}

/// Writes `items` in pipelined batches of `batch` keys.
pub fn write_all(con: &mut impl Batch, items: &[Written], batch: usize) {
    for chunk in items.chunks(batch.max(1)) {
        let cmds: Vec<Cmd> = chunk.iter().flat_map(|w| w.write_cmds()).collect();
        if let Err(e) = con.run_batch(cmds) {
            panic!(
                "writing keys {}..: {e}",
                chunk.first().map(|w| w.key.as_str()).unwrap_or("")
            );
        }
    }
}

/// Reads `items` back in pipelined batches and returns every mismatch.
pub fn check_all(con: &mut impl Batch, items: &[Written], batch: usize) -> Vec<String> {
    let mut errors = Vec::new();
    for chunk in items.chunks(batch.max(1)) {
        let counts: Vec<usize> = chunk.iter().map(|w| w.read_cmds().len()).collect();
        let cmds: Vec<Cmd> = chunk.iter().flat_map(|w| w.read_cmds()).collect();
        let replies = match con.run_batch(cmds) {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!(
                    "reading keys {}..: {e}",
                    chunk.first().map(|w| w.key.as_str()).unwrap_or("")
                ));
                continue;
            }
        };
        let mut at = 0;
        for (w, n) in chunk.iter().zip(counts) {
            if let Err(e) = w.verify(&replies[at..at + n]) {
                errors.push(e);
            }
            at += n;
        }
    }
    errors
}

/// Panics listing (the first few) mismatches, if any.
pub fn assert_no_errors(errors: &[String], what: &str) {
    assert!(
        errors.is_empty(),
        "{what}: {} mismatches, first ones:\n{}",
        errors.len(),
        errors
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
