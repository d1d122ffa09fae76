//! ferrocks: a Redis-protocol key-value server on RocksDB that moves cluster
//! slots by streaming raw write batches. See `DESIGN.md` for the map.
//!
//! Layers, top to bottom: [`config`] -> [`server`] -> [`commands`] ->
//! [`types`] -> [`storage`], with [`cluster`] beside them.

pub mod cluster;
pub mod commands;
pub mod config;
pub mod logging;
pub mod protocol;
pub mod server;
pub mod storage;
pub mod types;
pub mod util;

/// The Redis version ferrocks reports for compatibility checks in clients.
pub const REDIS_COMPAT_VERSION: &str = "7.0.0";
