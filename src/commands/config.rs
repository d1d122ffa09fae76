//! CONFIG and SLOWLOG.

use bytes::Bytes;

use super::args::{int, lower, text};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::protocol::Reply;

/// Applies the side effects of a changed setting.
fn apply_runtime(ctx: &Ctx, key: &str) {
    let cfg = ctx.server.config.read();
    ctx.server.hot.load(&cfg);
    match key {
        "persist-cluster-nodes-enabled" => {
            if let Some(cluster) = &ctx.server.node.topology {
                let on = cfg.bool("persist-cluster-nodes-enabled");
                if let Err(e) = cluster.write().set_persist(on) {
                    tracing::error!("writing the cluster state failed: {}", e);
                }
            }
        }
        "rocksdb.compression" => {
            if let Err(e) = ctx
                .server
                .node
                .storage
                .set_compression(cfg.get("rocksdb.compression"))
            {
                tracing::error!("changing rocksdb.compression failed: {}", e);
            }
        }
        "log-level" => crate::logging::set_level(cfg.get("log-level")),
        "metadata-cache-mb" => ctx
            .server
            .node
            .storage
            .meta_cache()
            .set_capacity((cfg.int("metadata-cache-mb") as usize) << 20),
        "rocksdb.write_options.sync" => ctx
            .server
            .node
            .storage
            .set_sync_writes(cfg.bool("rocksdb.write_options.sync")),
        "slowlog-max-len" => ctx
            .server
            .slowlog
            .lock()
            .trim(cfg.int("slowlog-max-len") as usize),
        _ => {}
    }
}

/// CONFIG GET|SET|REWRITE|RESETSTAT|HELP
pub fn config(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = lower(&args[1]);
    match sub.as_str() {
        "get" => {
            if args.len() < 3 {
                return Err(CmdError::Arity("config|get".into()));
            }
            let cfg = ctx.server.config.read();
            let mut pairs: Vec<(String, String)> = Vec::new();
            for pattern in &args[2..] {
                for (k, v) in cfg.matching(pattern) {
                    if !pairs.iter().any(|(seen, _)| *seen == k) {
                        pairs.push((k, v));
                    }
                }
            }
            Ok(Reply::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (Reply::bulk(k), Reply::bulk(v)))
                    .collect(),
            ))
        }
        "set" => {
            if args.len() < 4 || !args.len().is_multiple_of(2) {
                return Err(CmdError::Arity("config|set".into()));
            }
            // All or nothing: validate on a copy, then swap it in.
            let mut next = ctx.server.config.read().clone();
            let mut changed = Vec::new();
            for pair in args[2..].chunks(2) {
                let key = lower(&pair[0]);
                if changed.contains(&key) {
                    return Err(CmdError::err(format!(
                        "CONFIG SET failed (possibly related to argument '{key}') - duplicate parameter"
                    )));
                }
                next.set(&key, &text(&pair[1]))
                    .map_err(|e| CmdError::err(e.to_string()))?;
                changed.push(key);
            }
            next.validate().map_err(|c| {
                CmdError::err(format!(
                    "CONFIG SET failed (possibly related to argument '{}') - {}",
                    c.key, c.reason
                ))
            })?;
            if changed.iter().any(|k| k == "workers") {
                // New connections go to a pool of the new size; the old
                // pool keeps its connections until they close.
                let threads = crate::server::workers::threads_for(next.int("workers"));
                ctx.server.workers.resize(threads).map_err(|e| {
                    CmdError::err(format!(
                        "CONFIG SET failed (possibly related to argument 'workers') - {e}"
                    ))
                })?;
            }
            *ctx.server.config.write() = next;
            for key in &changed {
                apply_runtime(ctx, key);
            }
            Ok(Reply::ok())
        }
        "rewrite" | "resetstat" if args.len() != 2 => Err(CmdError::Arity(format!("config|{sub}"))),
        "rewrite" => {
            let cfg = ctx.server.config.read();
            if cfg.path.is_none() {
                return Err(CmdError::err("The server is running without a config file"));
            }
            cfg.rewrite()
                .map_err(|e| CmdError::err(format!("Rewriting config file: {e}")))?;
            Ok(Reply::ok())
        }
        "resetstat" => {
            ctx.server.stats.reset();
            Ok(Reply::ok())
        }
        "help" => Ok(Reply::Array(
            [
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern> [<pattern> ...]",
                "SET <directive> <value> [<directive> <value> ...]",
                "RESETSTAT",
                "REWRITE",
            ]
            .iter()
            .map(|s| Reply::Status(s.to_string()))
            .collect(),
        )),
        _ => Err(CmdError::UnknownSubcommand(text(&args[1]), "CONFIG".into())),
    }
}

/// SLOWLOG GET [n] | LEN | RESET | HELP
pub fn slowlog(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = lower(&args[1]);
    match (sub.as_str(), args.len()) {
        ("get", 2 | 3) => {
            let n = match args.get(2) {
                Some(a) => {
                    let n = int(a)?;
                    if n < -1 {
                        return Err(CmdError::err("count should be greater than or equal to -1"));
                    }
                    if n == -1 {
                        usize::MAX
                    } else {
                        n as usize
                    }
                }
                None => 10,
            };
            let entries = ctx.server.slowlog.lock().newest(n);
            Ok(Reply::Array(
                entries
                    .into_iter()
                    .map(|e| {
                        Reply::Array(vec![
                            Reply::Integer(e.id as i64),
                            Reply::Integer(e.time as i64),
                            Reply::Integer(e.micros as i64),
                            Reply::bulk_array(e.args),
                            Reply::bulk(e.addr),
                            Reply::bulk(e.name),
                        ])
                    })
                    .collect(),
            ))
        }
        ("len", 2) => Ok(Reply::Integer(ctx.server.slowlog.lock().len() as i64)),
        ("reset", 2) => {
            ctx.server.slowlog.lock().reset();
            Ok(Reply::ok())
        }
        ("help", 2) => Ok(Reply::Array(
            [
                "SLOWLOG <subcommand> [<arg> ...]. Subcommands are:",
                "GET [<count>]",
                "LEN",
                "RESET",
            ]
            .iter()
            .map(|s| Reply::Status(s.to_string()))
            .collect(),
        )),
        ("get" | "len" | "reset" | "help", _) => Err(CmdError::Arity(format!("slowlog|{sub}"))),
        _ => Err(CmdError::UnknownSubcommand(
            text(&args[1]),
            "SLOWLOG".into(),
        )),
    }
}
