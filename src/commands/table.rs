//! The declarative command table. Core commands are listed here; each data
//! type declares its own rows in its command module (`hash::COMMANDS`, ...)
//! and [`COMMANDS`] joins them, so routing, MULTI and COMMAND read one list.

use super::flags::*;
use std::sync::LazyLock;

use super::{
    bitmap, client, cluster, config, geo, hash, hll, info, introspection, keyspace, list, migrate,
    namespace, server, set, string, transaction, zset,
};
use super::{CommandSpec, Handler};

#[allow(clippy::too_many_arguments)]
pub(super) const fn c(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    group: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: keys.0,
        last_key: keys.1,
        key_step: keys.2,
        group,
        summary,
        handler,
        numkeys: 0,
    }
}

/// `spec` whose keys follow a `numkeys` argument at position `at` (keys
/// before `at` in `spec`'s fixed positions stay keys too).
pub(super) const fn n(spec: CommandSpec, at: i32) -> CommandSpec {
    CommandSpec {
        numkeys: at,
        ..spec
    }
}

pub(super) const NONE: (i32, i32, i32) = (0, 0, 0);
pub(super) const ONE: (i32, i32, i32) = (1, 1, 1);
pub(super) const ALL: (i32, i32, i32) = (1, -1, 1);
pub(super) const PAIRS: (i32, i32, i32) = (1, -1, 2);
pub(super) const TWO: (i32, i32, i32) = (1, 2, 1);

pub(super) const W: u32 = WRITE | DENYOOM;
pub(super) const WF: u32 = WRITE | DENYOOM | FAST;
pub(super) const R: u32 = READONLY;
pub(super) const RF: u32 = READONLY | FAST;

/// Every command ferrocks serves, core rows first, then each type's.
pub static COMMANDS: LazyLock<Vec<&'static CommandSpec>> = LazyLock::new(|| {
    [
        CORE,
        hash::COMMANDS,
        list::COMMANDS,
        set::COMMANDS,
        zset::COMMANDS,
        geo::COMMANDS,
        bitmap::COMMANDS,
        hll::COMMANDS,
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// The commands that are not about one data type (strings, keyspace,
/// connection, server, transactions, cluster).
#[rustfmt::skip]
static CORE: &[CommandSpec] = &[
    // Strings.
    c("get", 2, RF, ONE, "string", "Returns the string value of a key.", string::get),
    c("set", -3, W | FOLDABLE, ONE, "string", "Sets the string value of a key, with options.", string::set),
    c("setnx", 3, WF, ONE, "string", "Sets a key only when it does not exist.", string::setnx),
    c("setex", 4, W, ONE, "string", "Sets a key with a TTL in seconds.", string::setex),
    c("psetex", 4, W, ONE, "string", "Sets a key with a TTL in milliseconds.", string::psetex),
    c("mget", -2, RF, ALL, "string", "Returns the values of several keys.", string::mget),
    c("mset", -3, W | FOLDABLE, PAIRS, "string", "Sets several keys atomically.", string::mset),
    c("msetnx", -3, W, PAIRS, "string", "Sets several keys only if none exists.", string::msetnx),
    c("getset", 3, WF, ONE, "string", "Sets a key and returns its old value.", string::getset),
    c("getdel", 2, WF, ONE, "string", "Returns a key's value and deletes it.", string::getdel),
    c("getex", -2, WF, ONE, "string", "Returns a key's value and changes its TTL.", string::getex),
    c("incr", 2, WF | FOLDABLE, ONE, "string", "Adds one to an integer value.", string::incr),
    c("incrby", 3, WF | FOLDABLE, ONE, "string", "Adds to an integer value.", string::incrby),
    c("incrbyfloat", 3, WF, ONE, "string", "Adds to a float value.", string::incrbyfloat),
    c("decr", 2, WF | FOLDABLE, ONE, "string", "Subtracts one from an integer value.", string::decr),
    c("decrby", 3, WF | FOLDABLE, ONE, "string", "Subtracts from an integer value.", string::decrby),
    c("append", 3, WF, ONE, "string", "Appends to a string value.", string::append),
    c("strlen", 2, RF, ONE, "string", "Returns the length of a string value.", string::strlen),
    c("getrange", 4, R, ONE, "string", "Returns a substring of a string value.", string::getrange),
    c("substr", 4, R, ONE, "string", "Returns a substring of a string value.", string::getrange),
    c("setrange", 4, W, ONE, "string", "Overwrites part of a string value.", string::setrange),
    c("cas", -4, W, ONE, "string", "Compares a value and swaps it (kvrocks).", string::cas),
    c("cad", 3, W, ONE, "string", "Compares a value and deletes the key (kvrocks).", string::cad),
    c("lcs", -3, R, TWO, "string", "Finds the longest common subsequence of two strings.", string::lcs),
    // Keyspace.
    c("del", -2, WRITE, ALL, "generic", "Deletes keys.", keyspace::del),
    c("unlink", -2, WRITE | FAST, ALL, "generic", "Deletes keys.", keyspace::del),
    c("exists", -2, RF, ALL, "generic", "Counts existing keys.", keyspace::exists),
    c("type", 2, RF, ONE, "generic", "Returns the type of a key.", keyspace::type_cmd),
    c("expire", -3, WRITE | FAST, ONE, "generic", "Sets a TTL in seconds.", keyspace::expire),
    c("pexpire", -3, WRITE | FAST, ONE, "generic", "Sets a TTL in milliseconds.", keyspace::pexpire),
    c("expireat", -3, WRITE | FAST, ONE, "generic", "Sets an expire Unix time.", keyspace::expireat),
    c("pexpireat", -3, WRITE | FAST, ONE, "generic", "Sets an expire Unix time in ms.", keyspace::pexpireat),
    c("ttl", 2, RF, ONE, "generic", "Returns the TTL in seconds.", keyspace::ttl),
    c("pttl", 2, RF, ONE, "generic", "Returns the TTL in milliseconds.", keyspace::pttl),
    c("expiretime", 2, RF, ONE, "generic", "Returns the expire Unix time.", keyspace::expiretime),
    c("pexpiretime", 2, RF, ONE, "generic", "Returns the expire Unix time in ms.", keyspace::pexpiretime),
    c("persist", 2, WRITE | FAST, ONE, "generic", "Removes a key's TTL.", keyspace::persist),
    c("keys", 2, R | BLOCKING, NONE, "generic", "Lists keys matching a pattern.", keyspace::keys),
    c("scan", -2, R, NONE, "generic", "Iterates over keys.", keyspace::scan),
    c("randomkey", 1, R, NONE, "generic", "Returns a random key.", keyspace::randomkey),
    c("rename", 3, WRITE, TWO, "generic", "Renames a key.", keyspace::rename),
    c("renamenx", 3, WRITE | FAST, TWO, "generic", "Renames a key if the new name is free.", keyspace::renamenx),
    c("copy", -3, W, TWO, "generic", "Copies a key.", keyspace::copy),
    c("move", 3, WRITE | FAST, ONE, "generic", "Moves a key to another DB: one keyspace, so a no-op (kvrocks).", keyspace::move_cmd),
    c("movex", 3, WRITE | FAST, ONE, "generic", "Moves a key to the namespace of a token (kvrocks).", keyspace::movex),
    c("object", -2, RF, (2, 2, 1), "generic", "Inspects a key's internal encoding.", keyspace::object),
    c("dbsize", -1, R | BLOCKING, NONE, "server", "Returns the number of keys.", keyspace::dbsize),
    c("flushdb", -1, WRITE | BLOCKING, NONE, "server", "Deletes every key of the namespace.", keyspace::flushdb),
    c("flushall", -1, WRITE | ADMIN | BLOCKING, NONE, "server", "Deletes every key.", keyspace::flushall),
    // Connection.
    c("ping", -1, FAST | STALE, NONE, "connection", "Returns PONG or the argument.", server::ping),
    c("echo", 2, FAST, NONE, "connection", "Returns the argument.", server::echo),
    c("quit", -1, FAST | NO_AUTH | LOADING | STALE | TRANSACTION, NONE, "connection", "Closes the connection.", server::quit),
    c("select", 2, FAST | LOADING | STALE, NONE, "connection", "Selects a database (no-op).", server::select),
    c("auth", -2, FAST | NO_AUTH | LOADING | STALE, NONE, "connection", "Authenticates.", client::auth),
    c("hello", -1, FAST | NO_AUTH | LOADING | STALE, NONE, "connection", "Handshakes and picks RESP2 or RESP3.", client::hello),
    c("client", -2, LOADING | STALE, NONE, "connection", "Manages client connections.", client::client),
    // Server.
    c("time", 1, FAST | LOADING | STALE, NONE, "server", "Returns the server time.", server::time),
    c("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE | EXCLUSIVE, NONE, "server", "Debugging helpers (SLEEP, PROTOCOL).", server::debug),
    c("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE, NONE, "server", "Stops the server.", server::shutdown),
    c("compact", 1, ADMIN | BLOCKING, NONE, "server", "Compacts the storage (kvrocks).", server::compact),
    c("info", -1, LOADING | STALE, NONE, "server", "Returns server information.", info::info),
    c("config", -2, ADMIN | NOSCRIPT | LOADING | STALE, NONE, "server", "Reads and changes the configuration.", config::config),
    c("slowlog", -2, ADMIN | LOADING | STALE, NONE, "server", "Reads the slow log.", config::slowlog),
    c("command", -1, LOADING | STALE, NONE, "server", "Describes commands.", introspection::command),
    c("namespace", -2, ADMIN, NONE, "server", "Manages namespaces (kvrocks).", namespace::namespace),
    // Transactions.
    c("multi", 1, TRANSACTION | NOSCRIPT | LOADING | STALE | FAST, NONE, "transactions", "Starts a transaction.", transaction::multi),
    c("exec", 1, TRANSACTION | NOSCRIPT | LOADING | STALE, NONE, "transactions", "Runs the queued commands.", transaction::exec),
    c("discard", 1, TRANSACTION | NOSCRIPT | LOADING | STALE | FAST, NONE, "transactions", "Drops the queued commands.", transaction::discard),
    // Cluster.
    c("cluster", -2, STALE, NONE, "cluster", "Cluster topology and slot commands.", cluster::cluster),
    c("clusterx", -2, ADMIN | STALE, NONE, "cluster", "Sets the cluster topology (kvrocks).", cluster::clusterx),
    c("asking", 1, FAST, NONE, "cluster", "Lets the next command use an importing slot.", cluster::asking),
    c("readonly", 1, FAST | LOADING | STALE, NONE, "cluster", "Allows reads from replicas.", cluster::readonly),
    c("readwrite", 1, FAST | LOADING | STALE, NONE, "cluster", "Disallows reads from replicas.", cluster::readwrite),
    c("dump", 2, R, ONE, "generic", "Serializes a key's value.", migrate::dump),
    c("restore", -4, W, ONE, "generic", "Creates a key from a DUMP payload.", migrate::restore),
    c("restore-asking", -4, W | ASKING, ONE, "generic", "RESTORE on an importing slot.", migrate::restore),
    // MIGRATE always runs locally (its keys may be half-moved), so no key positions.
    c("migrate", -6, WRITE | BLOCKING, NONE, "generic", "Moves keys to another node.", migrate::migrate),
];
