//! The command table and dispatcher.
//!
//! One declarative table lists every command with its arity, flags and key
//! positions; arity errors, authentication, `COMMAND INFO`/`DOCS` and (later)
//! cluster routing and MULTI all read the same entries. Handlers live in one
//! file per family and parse their arguments before executing.

pub mod args;
pub mod bitmap;
pub mod client;
pub mod cluster;
pub mod config;
pub mod error;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod info;
pub mod introspection;
pub mod keyspace;
pub mod list;
pub mod migrate;
pub mod namespace;
pub mod server;
pub mod set;
pub mod slotdump;
pub mod slotmigrate;
pub mod string;
pub mod subscan;
pub mod syntax;
mod table;
pub mod transaction;
pub mod zset;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;

pub use error::{CmdError, CmdResult};
pub use table::COMMANDS;

use crate::cluster::import;
use crate::protocol::Reply;
use crate::server::session::Session;
use crate::server::stats::Stats;
use crate::server::Server;
use crate::storage::folded::FoldedWrites;
use crate::types::Db;

/// Command flags (combine with `|`).
pub mod flags {
    /// Changes data.
    pub const WRITE: u32 = 1;
    /// Only reads data.
    pub const READONLY: u32 = 1 << 1;
    /// Administrative: needs the requirepass token when namespaces are used.
    pub const ADMIN: u32 = 1 << 2;
    /// Not allowed from scripts.
    pub const NOSCRIPT: u32 = 1 << 3;
    /// O(1) or O(log N).
    pub const FAST: u32 = 1 << 4;
    /// May take long (full scans, compaction): runs off the async workers.
    pub const BLOCKING: u32 = 1 << 5;
    /// Allowed before AUTH.
    pub const NO_AUTH: u32 = 1 << 6;
    /// May grow memory use.
    pub const DENYOOM: u32 = 1 << 7;
    /// Allowed while loading.
    pub const LOADING: u32 = 1 << 8;
    /// Allowed on a stale replica.
    pub const STALE: u32 = 1 << 9;
    /// Implies ASKING for its own routing (RESTORE-ASKING).
    pub const ASKING: u32 = 1 << 10;
    /// Never queued inside MULTI (MULTI, EXEC, DISCARD, QUIT).
    pub const TRANSACTION: u32 = 1 << 11;
    /// May run with the connection's earlier pipelined writes still folded
    /// (not yet applied); every other command applies them first.
    pub const FOLDABLE: u32 = 1 << 12;
    /// Runs with the transaction lock held exclusively: no other client's
    /// command runs meanwhile (DEBUG SLEEP stalls the whole server).
    pub const EXCLUSIVE: u32 = 1 << 13;
    /// The argument after a `STORE` or `STOREDIST` option is a key too
    /// (GEORADIUS): options start after the arity's fixed arguments.
    pub const STORE_KEY: u32 = 1 << 14;

    /// Flag names as `COMMAND INFO` shows them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (NOSCRIPT, "noscript"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (NO_AUTH, "no_auth"),
        (FAST, "fast"),
    ];
}

/// A command handler.
pub type Handler = fn(&mut Ctx, &[Bytes]) -> CmdResult;

/// One entry of the command table.
pub struct CommandSpec {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis arity: N = exactly N arguments (name included), -N = at least N.
    pub arity: i32,
    /// `flags::*` bits.
    pub flags: u32,
    /// Position of the first key (0 = no keys).
    pub first_key: i32,
    /// Position of the last key (-1 = last argument).
    pub last_key: i32,
    /// Step between keys.
    pub key_step: i32,
    /// Group for `COMMAND DOCS` (string, generic, server, connection, ...).
    pub group: &'static str,
    /// One-line summary for `COMMAND DOCS`.
    pub summary: &'static str,
    /// The code.
    pub handler: Handler,
    /// Position of a `numkeys` argument followed by that many keys (0 = none).
    pub numkeys: i32,
}

impl CommandSpec {
    /// True when `argc` arguments (name included) fit the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }

    /// True when the flag is set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// True when the keys are found by reading the arguments, not only
    /// at fixed positions (`movablekeys` in COMMAND INFO).
    pub fn movable_keys(&self) -> bool {
        self.numkeys > 0 || self.has(flags::STORE_KEY)
    }

    /// Indexes of the key arguments in `args`: the fixed positions, and
    /// for a command with a `numkeys` argument the keys it announces
    /// (fixed keys are those before it, like ZUNIONSTORE's destination).
    pub fn key_indexes(&self, args: &[Bytes]) -> Vec<usize> {
        let argc = args.len();
        let mut out = Vec::new();
        if self.first_key > 0 && argc > self.first_key as usize {
            let last = if self.last_key < 0 {
                argc as i32 + self.last_key
            } else {
                self.last_key.min(argc as i32 - 1)
            };
            let step = self.key_step.max(1) as usize;
            out.extend((self.first_key as usize..=last.max(0) as usize).step_by(step));
        }
        if self.has(flags::STORE_KEY) {
            let options = self.arity.unsigned_abs() as usize;
            let last = argc.saturating_sub(1);
            for (i, a) in args.iter().enumerate().take(last).skip(options) {
                if a.eq_ignore_ascii_case(b"store") || a.eq_ignore_ascii_case(b"storedist") {
                    out.push(i + 1);
                }
            }
        }
        if self.numkeys > 0 {
            let at = self.numkeys as usize;
            out.retain(|&i| i < at);
            let n = args
                .get(at)
                .and_then(|a| crate::util::numbers::parse_i64(a))
                .filter(|&n| n > 0)
                .map_or(0, |n| n as usize);
            out.extend((at + 1..argc).take(n));
        }
        out
    }
}

/// The table as served: names after `rename-command`, with lookup.
pub struct CommandTable {
    by_name: HashMap<String, usize>,
}

impl CommandTable {
    /// Builds the lookup, applying `rename-command OLD NEW` (empty NEW
    /// disables the command).
    pub fn new(renames: &[(String, String)]) -> CommandTable {
        let mut by_name: HashMap<String, usize> = COMMANDS
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.to_string(), i))
            .collect();
        for (old, new) in renames {
            if let Some(i) = by_name.remove(old) {
                if !new.is_empty() {
                    by_name.insert(new.clone(), i);
                }
            }
        }
        CommandTable { by_name }
    }

    /// Finds a command by its (case-insensitive) served name, without
    /// allocating for the usual short names.
    pub fn lookup(&self, name: &[u8]) -> Option<(usize, &'static CommandSpec)> {
        let mut buf = [0u8; 32];
        let lower = if name.len() <= buf.len() {
            let b = &mut buf[..name.len()];
            b.copy_from_slice(name);
            b.make_ascii_lowercase();
            std::str::from_utf8(b).ok()?
        } else {
            return self.lookup_long(name);
        };
        self.by_name.get(lower).map(|&i| (i, COMMANDS[i]))
    }

    fn lookup_long(&self, name: &[u8]) -> Option<(usize, &'static CommandSpec)> {
        let lower = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        self.by_name.get(&lower).map(|&i| (i, COMMANDS[i]))
    }
}

/// What a handler can reach: the server and the calling client's session.
pub struct Ctx<'a> {
    /// Shared server state.
    pub server: &'a Server,
    /// The calling connection's state.
    pub session: &'a mut Session,
}

impl Ctx<'_> {
    /// The calling client's view of the data (its namespace).
    pub fn db(&self) -> Db<'_> {
        Db::new(
            &self.server.node.storage,
            &self.session.namespace,
            self.server.hot.max_bulk_len.load(Ordering::Relaxed).max(0) as usize,
        )
    }

    /// The database and this connection's pending batch, for a write that
    /// may join the batch instead of being applied at once; `None` in
    /// cluster mode, where writes are applied at once (a folded write
    /// could land after MIGRATE copied its slot: slot gates only cover
    /// execution).
    pub fn folding(&mut self) -> Option<(Db<'_>, &mut FoldedWrites)> {
        if self.server.node.topology.is_some() {
            return None;
        }
        let max_len = self.server.hot.max_bulk_len.load(Ordering::Relaxed).max(0) as usize;
        let session = &mut *self.session;
        let db = Db::new(&self.server.node.storage, &session.namespace, max_len);
        Some((db, &mut session.folded))
    }

    /// A snapshot for a command that reads several keys, when
    /// `txn-context-enabled` asks for them to be read at one instant;
    /// pass it to [`Db::at`].
    pub fn read_context(&self) -> Option<rocksdb::Snapshot<'_>> {
        self.server
            .hot
            .txn_context
            .load(Ordering::Relaxed)
            .then(|| self.server.node.storage.snapshot())
    }

    /// Counts a keyspace hit or miss for INFO.
    pub fn count_hit(&self, hit: bool) {
        let s = &self.server.stats;
        Stats::incr(if hit {
            &s.keyspace_hits
        } else {
            &s.keyspace_misses
        });
    }
}

fn unknown_command(args: &[Bytes]) -> Reply {
    // Like Redis: at most 128 bytes of the name are echoed.
    let name = &args[0][..args[0].len().min(128)];
    let mut msg = format!(
        "ERR unknown command '{}', with args beginning with: ",
        String::from_utf8_lossy(name)
    );
    // Like Redis: list arguments until about 128 bytes have been shown.
    let mut shown = String::new();
    for a in args.iter().skip(1) {
        if shown.len() >= 128 {
            break;
        }
        let room = 128 - shown.len();
        let text = String::from_utf8_lossy(&a[..a.len().min(room)]).into_owned();
        shown.push_str(&format!("'{text}' "));
    }
    msg.push_str(&shown);
    Reply::Error(msg)
}

/// Looks a request up and checks everything that does not need to run it:
/// known command, authentication, permission, arity and cluster routing.
fn admit<'s>(
    server: &'s Server,
    session: &mut Session,
    args: &[Bytes],
) -> Result<Admitted<'s>, Reply> {
    let Some((index, spec)) = server.commands.lookup(&args[0]) else {
        return Err(unknown_command(args));
    };
    if !session.authenticated && !spec.has(flags::NO_AUTH) {
        return Err(Reply::Error(CmdError::NoAuth.to_string()));
    }
    if spec.has(flags::ADMIN) && !session.admin {
        return Err(Reply::Error(
            "ERR admin permission required to perform the command".into(),
        ));
    }
    if !spec.arity_ok(args.len()) {
        return Err(Reply::Error(
            CmdError::Arity(spec.name.to_string()).to_string(),
        ));
    }
    let asking = session.asking || spec.has(flags::ASKING);
    // Like Redis, ASKING lasts for one command, or for a whole transaction
    // when MULTI follows it (EXEC clears it).
    if session.multi.is_none() && !spec.has(flags::TRANSACTION) {
        session.asking = false;
    }
    let gate = route(server, session, spec, args, asking).map_err(Reply::Error)?;
    Ok(Admitted {
        index,
        spec,
        _gate: gate,
    })
}

/// A command cleared to run, holding its slot's gate in cluster mode.
struct Admitted<'s> {
    index: usize,
    spec: &'static CommandSpec,
    _gate: Option<parking_lot::RwLockReadGuard<'s, ()>>,
}

/// Runs an admitted command: the handler, counters and the slow log.
pub(crate) fn run(
    server: &Server,
    session: &mut Session,
    index: usize,
    spec: &'static CommandSpec,
    args: &[Bytes],
) -> Reply {
    // Anything but a foldable write sees (and waits for) the connection's
    // folded writes first, so it never waits on its own key locks.
    if !spec.has(flags::FOLDABLE) && !session.apply_folded(&server.node.storage) {
        return Reply::Error("ERR storage error while applying pipelined writes".into());
    }
    session.shared.last_cmd.store(index, Ordering::Relaxed);
    let started = Instant::now();
    let result = {
        let mut ctx = Ctx { server, session };
        if spec.has(flags::BLOCKING) {
            tokio::task::block_in_place(|| (spec.handler)(&mut ctx, args))
        } else {
            (spec.handler)(&mut ctx, args)
        }
    };
    let micros = started.elapsed().as_micros() as u64;
    Stats::incr(&server.stats.commands_processed);
    record_slow(server, session, args, micros);
    match result {
        Ok(r) => r,
        Err(e) => {
            Stats::incr(&server.stats.error_replies);
            if let CmdError::Type(crate::types::TypeError::Storage(se)) = &e {
                tracing::error!("storage failure in {}: {}", spec.name, se);
            }
            Reply::Error(e.to_string())
        }
    }
}

/// True when running `args` now may change data: a write command outside
/// MULTI, or an EXEC whose queue holds one. CLIENT PAUSE WRITE holds
/// these back.
pub fn may_write(server: &Server, session: &Session, args: &[Bytes]) -> bool {
    let is_write = |req: &[Bytes]| {
        server
            .commands
            .lookup(&req[0])
            .is_some_and(|(_, spec)| spec.has(flags::WRITE))
    };
    let Some((_, spec)) = server.commands.lookup(&args[0]) else {
        return false;
    };
    match &session.multi {
        Some(m) if spec.name == "exec" => m.queue.iter().any(|q| is_write(q)),
        Some(_) => false,
        None => spec.has(flags::WRITE),
    }
}

/// Runs one request and returns its reply; never panics on client input.
/// Inside MULTI, commands are checked and queued instead.
pub fn execute(server: &Server, session: &mut Session, args: Vec<Bytes>) -> Reply {
    let admitted = admit(server, session, &args);
    let (index, spec, _gate) = match admitted {
        Ok(a) => (a.index, a.spec, a._gate),
        Err(reply) => {
            Stats::incr(&server.stats.error_replies);
            if let Some(multi) = session.multi.as_mut() {
                multi.dirty = true;
            }
            return reply;
        }
    };
    if spec.has(flags::TRANSACTION) {
        // MULTI/EXEC/DISCARD manage the transaction lock themselves.
        return run(server, session, index, spec, &args);
    }
    if let Some(multi) = session.multi.as_mut() {
        multi.queue.push(args);
        return Reply::Status("QUEUED".into());
    }
    if spec.has(flags::EXCLUSIVE) {
        if !session.apply_folded(&server.node.storage) {
            return Reply::Error("ERR storage error while applying pipelined writes".into());
        }
        let _exclusive = server.txn_lock.write();
        return run(server, session, index, spec, &args);
    }
    // Never wait for the lock while holding folded key locks: an EXEC
    // waiting for one of them would wait for us in turn.
    let _shared = match server.txn_lock.try_read() {
        Some(g) => g,
        None => {
            if !session.apply_folded(&server.node.storage) {
                return Reply::Error("ERR storage error while applying pipelined writes".into());
            }
            server.txn_lock.read()
        }
    };
    run(server, session, index, spec, &args)
}

/// In cluster mode, checks that the command's keys belong here. Returns
/// the slot gate to hold while the command runs, or the redirection or
/// refusal to send instead.
pub(crate) fn route<'s>(
    server: &'s Server,
    session: &Session,
    spec: &CommandSpec,
    args: &[Bytes],
    asking: bool,
) -> Result<Option<parking_lot::RwLockReadGuard<'s, ()>>, String> {
    if server.node.topology.is_none() {
        return Ok(None);
    }
    let Some(&first) = spec.key_indexes(args).first() else {
        return Ok(None);
    };
    let gate = server
        .node
        .slot_gates
        .read(crate::cluster::slot::key_slot(&args[first]));
    check_route(server, session, spec, args, asking)?;
    Ok(Some(gate))
}

/// The routing decision for one command (see [`route`]), without taking
/// its slot's gate: for a caller that already holds it.
pub(crate) fn check_route(
    server: &Server,
    session: &Session,
    spec: &CommandSpec,
    args: &[Bytes],
    asking: bool,
) -> Result<(), String> {
    let Some(cluster) = server.node.topology.as_ref() else {
        return Ok(());
    };
    let positions = spec.key_indexes(args);
    let Some(&first) = positions.first() else {
        return Ok(());
    };
    let keys: Vec<&[u8]> = positions.iter().map(|&i| &args[i][..]).collect();
    let state = cluster.read();
    let db = Db::new(&server.node.storage, &session.namespace, 0);
    let write = spec.has(flags::WRITE);
    let decision = crate::cluster::routing::route(&state, &keys, asking, write, || {
        db.exists(&keys).map(|n| n as usize).unwrap_or(0)
    });
    if let Some(e) = decision.error() {
        return Err(e);
    }
    let slot = crate::cluster::slot::key_slot(&args[first]);
    if asking && !state.owns(slot) {
        // An ASKING command into an importing slot: the per-key
        // path's sign that its import is alive.
        server.node.imports.touch_slot(slot);
        if write {
            // Its writes are imported data: they count towards the
            // import's flush policy and wait for flushes like chunks do.
            drop(state);
            let limit = import::memory::flush_limit(&server.config.read());
            let bytes = args.iter().map(|a| a.len() as u64).sum();
            import::memory::wait_for_flushes(&server.node.storage, limit)
                .and_then(|_| {
                    import::memory::note_imported(
                        &server.node.imports,
                        &server.node.storage,
                        bytes,
                        limit,
                    )
                })
                .map_err(|e| format!("ERR {e}"))?;
        }
    }
    Ok(())
}

fn record_slow(server: &Server, session: &Session, args: &[Bytes], micros: u64) {
    let threshold = server.hot.slowlog_slower_than.load(Ordering::Relaxed);
    if threshold < 0 || micros < threshold as u64 {
        return;
    }
    let max_len = server.hot.slowlog_max_len.load(Ordering::Relaxed) as usize;
    let name = session.shared.name.lock().clone();
    server
        .slowlog
        .lock()
        .push(args, micros, session.shared.addr.clone(), name, max_len);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let mut names = std::collections::HashSet::new();
        for c in COMMANDS.iter() {
            assert!(names.insert(c.name), "duplicate {}", c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(c.arity != 0, "{}", c.name);
        }
    }

    #[test]
    fn key_positions() {
        let t = CommandTable::new(&[]);
        let (_, mset) = t.lookup(b"MSET").unwrap();
        let argv = |a: &[&str]| -> Vec<Bytes> {
            a.iter()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .collect()
        };
        assert_eq!(
            mset.key_indexes(&argv(&["mset", "a", "1", "b", "2"])),
            vec![1, 3]
        );
        let (_, get) = t.lookup(b"get").unwrap();
        assert_eq!(get.key_indexes(&argv(&["get", "k"])), vec![1]);
    }

    #[test]
    fn rename_and_disable() {
        let t = CommandTable::new(&[
            ("keys".into(), "mykeys".into()),
            ("flushall".into(), String::new()),
        ]);
        assert!(t.lookup(b"keys").is_none());
        assert!(t.lookup(b"mykeys").is_some());
        assert!(t.lookup(b"flushall").is_none());
    }
}
