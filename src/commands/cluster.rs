//! Cluster control: kvrocks's CLUSTERX, Redis's CLUSTER, ASKING, READONLY,
//! READWRITE.

use bytes::Bytes;
use std::sync::Arc;

use parking_lot::RwLock;

use super::args::{int, is, lower, text};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::cluster::import::{ImportState, LastImport};
use crate::cluster::migrate::status::{JobState, MigrationStatus};
use crate::cluster::slot::{key_slot, SLOT_COUNT};
use crate::cluster::state::ClusterState;
use crate::cluster::topology::{
    parse_slot_range, valid_node_id, Node, Role, Topology, TopologyError,
};
use crate::protocol::Reply;

/// kvrocks's usage error of CLUSTERX (wrong arguments, unknown subcommand).
pub(crate) const CLUSTERX_USAGE: &str =
    "CLUSTERX command, CLUSTERX VERSION|MYID|SETNODEID|SETNODES|SETSLOT|MIGRATE";

/// kvrocks's usage error of its CLUSTER subcommands.
const CLUSTER_USAGE: &str = "CLUSTER command, CLUSTER INFO|NODES|SLOTS|KEYSLOT|RESET|REPLICAS";

/// The error of every cluster command while cluster mode is off (kvrocks's
/// text).
pub fn disabled() -> CmdError {
    CmdError::err("Cluster mode is not enabled")
}

fn cluster_state<'a>(ctx: &Ctx<'a>) -> Result<&'a RwLock<ClusterState>, CmdError> {
    ctx.server.node.topology.as_deref().ok_or_else(disabled)
}

/// CLUSTER NODES/SLOTS/SHARDS/INFO before any topology (kvrocks's error).
fn require_initialized(state: &ClusterState) -> Result<(), CmdError> {
    if state.topology.version < 0 {
        return Err(topo_err(TopologyError::NotInitialized));
    }
    Ok(())
}

/// A node id argument: any 40 characters (kvrocks checks the length
/// only), kept as given.
fn node_id_arg(arg: &Bytes) -> Result<String, CmdError> {
    match std::str::from_utf8(arg) {
        Ok(id) if valid_node_id(id) => Ok(id.to_string()),
        _ => Err(topo_err(TopologyError::InvalidNodeId)),
    }
}

/// What SETNODES refuses unless FORCE is given: a topology that leaves
/// this node out, or assigns no slot at all (almost always an operator's
/// mistake; CLUSTER RESET is the explicit way to forget the topology).
fn check_topology_sane(state: &ClusterState, topo: &Topology) -> Result<(), CmdError> {
    let Some(me) = state.myid.as_deref() else {
        return Err(CmdError::err(
            "Invalid cluster nodes info: this node has no id yet (CLUSTERX SETNODEID first)",
        ));
    };
    if topo.node(me).is_none() {
        return Err(CmdError::err(format!(
            "Invalid cluster nodes info: this node ({me}) is not in the topology (add FORCE to set it anyway)"
        )));
    }
    if topo.assigned_slots() == 0 {
        return Err(CmdError::err(
            "Invalid cluster nodes info: no slot is assigned to any node (add FORCE to set it anyway)",
        ));
    }
    Ok(())
}

fn topo_err(e: TopologyError) -> CmdError {
    match e {
        TopologyError::NotInitialized => CmdError::Other(e.to_string()),
        other => CmdError::err(other),
    }
}

fn save(state: &ClusterState) -> Result<(), CmdError> {
    state
        .save()
        .map_err(|e| CmdError::err(format!("failed to persist the cluster state: {e}")))
}

/// CLUSTERX SETNODEID|MYID|VERSION|SETNODES|SETSLOT (kvrocks), and the
/// migration subcommands.
pub fn clusterx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cluster = cluster_state(ctx)?;
    let sub = lower(&args[1]);
    let usage = || CmdError::err(CLUSTERX_USAGE);
    match sub.as_str() {
        "myid" | "version" if args.len() != 2 => Err(usage()),
        "myid" => Ok(Reply::opt_bulk(cluster.read().myid.clone())),
        "version" => Ok(Reply::bulk(cluster.read().topology.version.to_string())),
        "setnodeid" => {
            if args.len() != 3 {
                return Err(usage());
            }
            let id = node_id_arg(&args[2])?;
            let mut state = cluster.write();
            state.myid = Some(id);
            save(&state)?;
            Ok(Reply::ok())
        }
        "setnodes" => {
            if args.len() != 4 && args.len() != 5 {
                return Err(usage());
            }
            let version = int(&args[3]).map_err(|_| CmdError::err("Invalid version"))?;
            let force = match args.get(4) {
                None => false,
                Some(a) if is(a, "force") => true,
                Some(_) => return Err(CmdError::err("Invalid setnodes options")),
            };
            if version < 0 {
                return Err(topo_err(TopologyError::InvalidVersion));
            }
            let topo = Topology::parse(&text(&args[2]), version).map_err(topo_err)?;
            if topo.nodes.is_empty() {
                return Err(topo_err(TopologyError::InvalidNodesInfo));
            }
            let mut state = cluster.write();
            if !force {
                if version < state.topology.version {
                    return Err(topo_err(TopologyError::InvalidVersion));
                }
                if version == state.topology.version {
                    // kvrocks: the version in force changes nothing.
                    return Ok(Reply::ok());
                }
                check_topology_sane(&state, &topo)?;
            }
            state.set_topology(topo, force).map_err(topo_err)?;
            save(&state)?;
            drop(state);
            tracing::info!("cluster topology set to version {}", version);
            // The pushed topology settles open imports and hand-offs whose
            // outcome stayed unknown.
            super::slotmigrate::settle_after_push(ctx)?;
            crate::cluster::migrate::handoff::settle_after_push(&ctx.server.node);
            Ok(Reply::ok())
        }
        "setslot" => {
            if args.len() != 6 {
                return Err(usage());
            }
            let (a, b) = parse_slot_range(&text(&args[2])).map_err(topo_err)?;
            if !is(&args[3], "node") {
                return Err(CmdError::err("Invalid setslot options"));
            }
            let id = std::str::from_utf8(&args[4])
                .ok()
                .filter(|id| valid_node_id(id))
                .ok_or_else(|| CmdError::err("Invalid node id"))?
                .to_string();
            let version = int(&args[5])?;
            if version < 0 {
                return Err(CmdError::err("Invalid version"));
            }
            let mut state = cluster.write();
            if version != state.topology.version + 1 {
                return Err(topo_err(TopologyError::InvalidVersion));
            }
            match state.topology.node(&id) {
                None => return Err(CmdError::err("No this node in the cluster")),
                Some(n) if n.role != Role::Master => {
                    return Err(CmdError::err("The node isn't a master"))
                }
                Some(_) => {}
            }
            let mut next = state.topology.clone();
            next.assign(a, b, &id).map_err(topo_err)?;
            next.version = version;
            state.replace_topology(next);
            save(&state)?;
            Ok(Reply::ok())
        }
        "migrate" => super::slotmigrate::migrate(ctx, args),
        "import" => super::slotmigrate::import(ctx, args),
        "chunk" => super::slotmigrate::chunk(ctx, args),
        "import-commit" => super::slotmigrate::import_commit(ctx, args),
        "import-abort" => super::slotmigrate::import_abort(ctx, args),
        "slotdump" => super::slotdump::slotdump(ctx, args),
        _ => Err(usage()),
    }
}

/// One line of CLUSTER NODES.
fn node_line(state: &ClusterState, n: &Node) -> String {
    let myself = state.myid.as_deref() == Some(n.id.as_str());
    let role = if n.role == Role::Master {
        "master"
    } else {
        "slave"
    };
    let flags = if myself {
        format!("myself,{role}")
    } else {
        role.to_string()
    };
    let mut line = format!(
        "{} {}:{}@{} {} {} 0 0 {} connected",
        n.id,
        n.host,
        n.port,
        n.port as u32 + 10000,
        flags,
        n.master_id.as_deref().unwrap_or("-"),
        state.topology.version.max(0),
    );
    for (a, b) in &n.slots {
        if a == b {
            line.push_str(&format!(" {a}"));
        } else {
            line.push_str(&format!(" {a}-{b}"));
        }
    }
    if myself {
        for (slot, dst) in &state.migrating {
            line.push_str(&format!(" [{slot}->-{dst}]"));
        }
        for (slot, src) in &state.importing {
            line.push_str(&format!(" [{slot}-<-{src}]"));
        }
    }
    line
}

/// `[ip, port, id]`, as kvrocks lists a node in CLUSTER SLOTS.
fn node_entry(n: &Node) -> Reply {
    Reply::Array(vec![
        Reply::bulk(n.host.clone()),
        Reply::Integer(n.port as i64),
        Reply::bulk(n.id.clone()),
    ])
}

fn replicas_of<'a>(state: &'a ClusterState, master: &'a Node) -> impl Iterator<Item = &'a Node> {
    state
        .topology
        .nodes
        .iter()
        .filter(move |r| r.master_id.as_deref() == Some(master.id.as_str()))
}

/// CLUSTER SLOTS: every owned range in slot order, its master first,
/// then the master's replicas.
fn cluster_slots(state: &ClusterState) -> Reply {
    let mut ranges: Vec<(u16, u16, &Node)> = state
        .topology
        .nodes
        .iter()
        .flat_map(|n| n.slots.iter().map(move |&(a, b)| (a, b, n)))
        .collect();
    ranges.sort_by_key(|&(a, _, _)| a);
    let out = ranges
        .into_iter()
        .map(|(a, b, n)| {
            let mut entry = vec![
                Reply::Integer(a as i64),
                Reply::Integer(b as i64),
                node_entry(n),
            ];
            entry.extend(replicas_of(state, n).map(node_entry));
            Reply::Array(entry)
        })
        .collect();
    Reply::Array(out)
}

fn shard_node(n: &Node) -> Reply {
    Reply::Map(vec![
        (Reply::bulk("id"), Reply::bulk(n.id.clone())),
        (Reply::bulk("port"), Reply::Integer(n.port as i64)),
        (Reply::bulk("ip"), Reply::bulk(n.host.clone())),
        (Reply::bulk("endpoint"), Reply::bulk(n.host.clone())),
        (
            Reply::bulk("role"),
            Reply::bulk(if n.role == Role::Master {
                "master"
            } else {
                "replica"
            }),
        ),
        (Reply::bulk("replication-offset"), Reply::Integer(0)),
        (Reply::bulk("health"), Reply::bulk("online")),
    ])
}

fn cluster_shards(state: &ClusterState) -> Reply {
    let shards = state
        .topology
        .nodes
        .iter()
        .filter(|n| n.role == Role::Master)
        .map(|n| {
            let slots = n
                .slots
                .iter()
                .flat_map(|(a, b)| [Reply::Integer(*a as i64), Reply::Integer(*b as i64)])
                .collect();
            let mut nodes = vec![shard_node(n)];
            nodes.extend(replicas_of(state, n).map(shard_node));
            Reply::Map(vec![
                (Reply::bulk("slots"), Reply::Array(slots)),
                (Reply::bulk("nodes"), Reply::Array(nodes)),
            ])
        })
        .collect();
    Reply::Array(shards)
}

fn cluster_info(
    state: &ClusterState,
    jobs: &[Arc<MigrationStatus>],
    imports: Option<LastImport>,
) -> String {
    let assigned = state.topology.assigned_slots();
    let masters = state
        .topology
        .nodes
        .iter()
        .filter(|n| n.role == Role::Master && !n.slots.is_empty())
        .count();
    let ok = assigned == SLOT_COUNT as usize && state.me().is_some();
    let version = state.topology.version.max(0);
    let mut out = format!(
        "cluster_state:{}\r\ncluster_slots_assigned:{assigned}\r\ncluster_slots_ok:{assigned}\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:{}\r\ncluster_size:{masters}\r\ncluster_current_epoch:{version}\r\ncluster_my_epoch:{version}\r\ncluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n",
        if ok { "ok" } else { "fail" },
        state.topology.nodes.len(),
    );
    // What kvrocks-controller polls: the slot(s), destination and state
    // of the latest move (start, success or fail), under the field names
    // of kvrocks before 2.10 (`migrating_slot`) and since (`migrating_slot(s)`).
    let migration = if let Some((slot, dst)) = state.migrating.iter().next() {
        Some((slot.to_string(), dst.clone(), "start"))
    } else {
        jobs.last().map(|j| {
            let st = match *j.state.lock() {
                JobState::Done => "success",
                JobState::Failed(_) => "fail",
                _ => "start",
            };
            (range_text(j.first, j.last), j.dst_id.clone(), st)
        })
    };
    if let Some((slots, dst, st)) = migration {
        out.push_str(&format!(
            "migrating_slot:{slots}\r\nmigrating_slot(s):{slots}\r\ndestination_node:{dst}\r\nmigrating_state:{st}\r\n"
        ));
    }
    // A running CLUSTERX import first (its whole range), then a slot marked
    // IMPORTING by hand (Redis's path), then the last import's outcome.
    let running = imports.filter(|l| l.state == ImportState::Start);
    let import = match (running, state.importing.iter().next()) {
        (Some(l), _) => Some((range_text(l.first, l.last), l.state.name())),
        (None, Some((slot, _))) => Some((slot.to_string(), "start")),
        (None, None) => imports.map(|l| (range_text(l.first, l.last), l.state.name())),
    };
    if let Some((slots, st)) = import {
        out.push_str(&format!(
            "importing_slot:{slots}\r\nimporting_slot(s):{slots}\r\nimport_state:{st}\r\n"
        ));
    }
    out
}

/// `a` or `a-b`.
fn range_text(a: u16, b: u16) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    }
}

fn parse_slot(arg: &[u8]) -> Result<u16, CmdError> {
    int(arg)
        .ok()
        .filter(|s| (0..SLOT_COUNT as i64).contains(s))
        .map(|s| s as u16)
        .ok_or_else(|| CmdError::err("Invalid or out of range slot"))
}

/// Makes sure this node is in its own topology (hand-built clusters).
fn ensure_me(ctx: &Ctx, state: &mut ClusterState) -> Result<String, CmdError> {
    let id = state
        .myid
        .clone()
        .ok_or_else(|| CmdError::err("the node id is not set; use CLUSTERX SETNODEID first"))?;
    if state.topology.node(&id).is_none() {
        let host = ctx
            .server
            .config
            .read()
            .binds()
            .first()
            .cloned()
            .unwrap_or_else(|| "127.0.0.1".into());
        state.topology.add_node(Node {
            id: id.clone(),
            host,
            port: ctx.server.port,
            role: Role::Master,
            master_id: None,
            slots: Vec::new(),
        });
    }
    Ok(id)
}

fn add_or_del_slots(ctx: &Ctx, args: &[Bytes], add: bool, ranges: bool) -> CmdResult {
    let cluster = cluster_state(ctx)?;
    let list: Vec<(u16, u16)> = if ranges {
        if !(args.len() - 2).is_multiple_of(2) {
            return Err(CmdError::Arity(format!("cluster|{}", lower(&args[1]))));
        }
        args[2..]
            .chunks(2)
            .map(|p| {
                let (a, b) = (parse_slot(&p[0])?, parse_slot(&p[1])?);
                if a > b {
                    return Err(CmdError::err(format!(
                        "start slot number {a} is greater than end slot number {b}"
                    )));
                }
                Ok((a, b))
            })
            .collect::<Result<_, _>>()?
    } else {
        args[2..]
            .iter()
            .map(|a| parse_slot(a).map(|s| (s, s)))
            .collect::<Result<_, _>>()?
    };
    let mut state = cluster.write();
    let me = ensure_me(ctx, &mut state)?;
    for &(a, b) in &list {
        for s in a..=b {
            let owned = state.topology.owner(s).is_some();
            if add && owned {
                return Err(CmdError::err(format!("Slot {s} is already busy")));
            }
            if !add && !owned {
                return Err(CmdError::err(format!("Slot {s} is already unassigned")));
            }
        }
    }
    for &(a, b) in &list {
        if add {
            state.topology.assign(a, b, &me).map_err(topo_err)?;
        } else {
            state.topology.unassign(a, b);
        }
    }
    state.topology.version += 1;
    save(&state)?;
    Ok(Reply::ok())
}

fn setslot(ctx: &Ctx, args: &[Bytes]) -> CmdResult {
    let cluster = cluster_state(ctx)?;
    let slot = parse_slot(&args[2])?;
    let action = lower(&args[3]);
    let mut state = cluster.write();
    let node_arg = |state: &ClusterState| -> Result<String, CmdError> {
        let id = args.get(4).map(text).ok_or(CmdError::Syntax)?;
        if state.topology.node(&id).is_none() {
            return Err(CmdError::err(format!("I don't know about node {id}")));
        }
        Ok(id)
    };
    match (action.as_str(), args.len()) {
        ("importing", 5) => {
            let src = node_arg(&state)?;
            if state.owns(slot) {
                return Err(CmdError::err(format!(
                    "I'm already the owner of hash slot {slot}"
                )));
            }
            state.importing.insert(slot, src);
        }
        ("migrating", 5) => {
            let dst = node_arg(&state)?;
            if !state.owns(slot) {
                return Err(CmdError::err(format!(
                    "I'm not the owner of hash slot {slot}"
                )));
            }
            state.migrating.insert(slot, dst);
        }
        ("stable", 4) => {
            state.migrating.remove(&slot);
            state.importing.remove(&slot);
        }
        ("node", 5) => {
            let id = node_arg(&state)?;
            if state.owns(slot)
                && state.myid.as_deref() != Some(id.as_str())
                && ctx.db().count_in_slot(slot)? > 0
            {
                return Err(CmdError::err(format!(
                    "Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot."
                )));
            }
            let mut next = state.topology.clone();
            next.assign(slot, slot, &id).map_err(topo_err)?;
            next.version += 1;
            state.set_topology(next, false).map_err(topo_err)?;
            state.migrating.remove(&slot);
            state.importing.remove(&slot);
        }
        _ => return Err(CmdError::Syntax),
    }
    save(&state)?;
    Ok(Reply::ok())
}

/// CLUSTER subcommands that change the topology or move data: only the
/// administrator may run them (CLUSTER itself is open to namespace users
/// for its read-only subcommands).
const ADMIN_SUBCOMMANDS: &[&str] = &[
    "reset",
    "setslot",
    "migration",
    "addslots",
    "delslots",
    "addslotsrange",
    "delslotsrange",
];

/// CLUSTER subcommands (Redis's, with kvrocks's errors for the ones
/// kvrocks has).
pub fn cluster(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = lower(&args[1]);
    let cluster = cluster_state(ctx)?;
    if !ctx.session.admin && ADMIN_SUBCOMMANDS.contains(&sub.as_str()) {
        return Err(CmdError::err(
            "admin permission required to perform the command",
        ));
    }
    // kvrocks's subcommands answer its usage error on a wrong argument count.
    let usage = |ok: bool| -> Result<(), CmdError> {
        if ok {
            Ok(())
        } else {
            Err(CmdError::err(CLUSTER_USAGE))
        }
    };
    let arity = |ok: bool| -> Result<(), CmdError> {
        if ok {
            Ok(())
        } else {
            Err(CmdError::Arity(format!("cluster|{sub}")))
        }
    };
    match sub.as_str() {
        "keyslot" => {
            usage(args.len() == 3)?;
            Ok(Reply::Integer(key_slot(&args[2]) as i64))
        }
        "nodes" => {
            usage(args.len() == 2)?;
            let state = cluster.read();
            require_initialized(&state)?;
            let mut out = String::new();
            for n in &state.topology.nodes {
                out.push_str(&node_line(&state, n));
                out.push('\n');
            }
            Ok(Reply::Verbatim(out))
        }
        "slots" => {
            usage(args.len() == 2)?;
            let state = cluster.read();
            require_initialized(&state)?;
            Ok(cluster_slots(&state))
        }
        "shards" => {
            arity(args.len() == 2)?;
            let state = cluster.read();
            require_initialized(&state)?;
            Ok(cluster_shards(&state))
        }
        "info" => {
            usage(args.len() == 2)?;
            let jobs = ctx.server.node.migrations.lock().clone();
            let last_import = ctx.server.node.imports.last();
            let state = cluster.read();
            require_initialized(&state)?;
            Ok(Reply::Verbatim(cluster_info(&state, &jobs, last_import)))
        }
        "myid" => {
            arity(args.len() == 2)?;
            Ok(Reply::opt_bulk(cluster.read().myid.clone()))
        }
        "countkeysinslot" => {
            arity(args.len() == 3)?;
            let slot = int(&args[2])
                .ok()
                .filter(|s| (0..SLOT_COUNT as i64).contains(s))
                .ok_or_else(|| CmdError::err("Invalid slot"))?;
            Ok(Reply::Integer(ctx.db().count_in_slot(slot as u16)? as i64))
        }
        "getkeysinslot" => {
            arity(args.len() == 4)?;
            let (slot, count) = (int(&args[2]), int(&args[3]));
            match (slot, count) {
                (Ok(s), Ok(c)) if (0..SLOT_COUNT as i64).contains(&s) && c >= 0 => Ok(
                    Reply::bulk_array(ctx.db().keys_in_slot(s as u16, c as usize)?),
                ),
                _ => Err(CmdError::err("Invalid slot or number of keys")),
            }
        }
        "reset" => {
            usage(args.len() <= 3)?;
            let hard = match args.get(2) {
                None => false,
                Some(a) if is(a, "soft") => false,
                Some(a) if is(a, "hard") => true,
                Some(_) => return Err(CmdError::Syntax),
            };
            if ctx.db().random_key()?.is_some() {
                return Err(CmdError::err(
                    "CLUSTER RESET can't be called with master nodes containing keys",
                ));
            }
            let mut state = cluster.write();
            state.topology = Topology::default();
            state.migrating.clear();
            state.importing.clear();
            if hard {
                state.myid = None;
            }
            save(&state)?;
            Ok(Reply::ok())
        }
        "setslot" => {
            arity(args.len() >= 4)?;
            setslot(ctx, args)
        }
        "migration" => super::slotmigrate::migration(ctx, args),
        "addslots" | "delslots" => {
            arity(args.len() >= 3)?;
            add_or_del_slots(ctx, args, sub == "addslots", false)
        }
        "addslotsrange" | "delslotsrange" => {
            arity(args.len() >= 4)?;
            add_or_del_slots(ctx, args, sub == "addslotsrange", true)
        }
        _ => Err(CmdError::UnknownSubcommand(
            text(&args[1]),
            "CLUSTER".into(),
        )),
    }
}

/// ASKING: lets the next command use a slot this node is importing.
pub fn asking(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    cluster_state(ctx)?;
    ctx.session.asking = true;
    Ok(Reply::ok())
}

/// READONLY: accepted for cluster clients.
pub fn readonly(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    cluster_state(ctx)?;
    ctx.session.readonly = true;
    Ok(Reply::ok())
}

/// READWRITE: accepted for cluster clients.
pub fn readwrite(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    cluster_state(ctx)?;
    ctx.session.readonly = false;
    Ok(Reply::ok())
}
