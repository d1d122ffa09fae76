//! NAMESPACE GET|SET|ADD|DEL (kvrocks): each namespace is an isolated
//! keyspace reached by authenticating with its token.

use bytes::Bytes;

use super::args::{lower, text};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::protocol::Reply;
use crate::server::session::DEFAULT_NAMESPACE;

/// Namespaces live in the config file (`namespace.NAME TOKEN` lines);
/// without one a change would be lost at the next restart, so it is
/// refused before anything changes.
fn require_config_file(ctx: &Ctx) -> Result<(), CmdError> {
    if ctx.server.config.read().path.is_none() {
        return Err(CmdError::err(
            "namespace changes need a config file to persist them, and the server is running without one",
        ));
    }
    Ok(())
}

fn persist(ctx: &Ctx) -> Result<(), CmdError> {
    ctx.server
        .config
        .read()
        .rewrite()
        .map_err(|e| CmdError::err(format!("namespace changed but not saved: {e}")))
}

/// NAMESPACE subcommands; administrator only.
pub fn namespace(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if !ctx.session.admin {
        return Err(CmdError::NoPermission(
            "only administrator can use namespace command".into(),
        ));
    }
    let sub = lower(&args[1]);
    match (sub.as_str(), args.len()) {
        ("get", 3) => {
            let cfg = ctx.server.config.read();
            if &args[2][..] == b"*" {
                let mut out = Vec::new();
                for (name, token) in &cfg.namespaces {
                    out.push(Reply::bulk(name.clone()));
                    out.push(Reply::bulk(token.clone()));
                }
                return Ok(Reply::Array(out));
            }
            Ok(Reply::opt_bulk(
                cfg.namespaces.get(&text(&args[2])).cloned(),
            ))
        }
        ("add" | "set", 4) => {
            let (name, token) = (text(&args[2]), text(&args[3]));
            if name == DEFAULT_NAMESPACE || name.is_empty() {
                return Err(CmdError::err("forbidden to add the default namespace"));
            }
            if name.len() > 255 {
                return Err(CmdError::err("the namespace size exceeds the limit of 255"));
            }
            require_config_file(ctx)?;
            {
                let mut cfg = ctx.server.config.write();
                if cfg.get("requirepass").is_empty() {
                    return Err(CmdError::err(
                        "forbidden to add namespace when requirepass was empty",
                    ));
                }
                if token.is_empty() {
                    return Err(CmdError::err("the token must not be empty"));
                }
                if token == cfg.get("requirepass") || token == cfg.get("masterauth") {
                    return Err(CmdError::err(
                        "the token is duplicated with requirepass or masterauth",
                    ));
                }
                if cfg
                    .namespaces
                    .iter()
                    .any(|(n, t)| *t == token && *n != name)
                {
                    return Err(CmdError::err("the token already exists"));
                }
                let exists = cfg.namespaces.contains_key(&name);
                if sub == "add" && exists {
                    return Err(CmdError::err("the namespace already exists"));
                }
                if sub == "set" && !exists {
                    return Err(CmdError::err("the namespace was not found"));
                }
                cfg.namespaces.insert(name, token);
            }
            persist(ctx)?;
            Ok(Reply::ok())
        }
        ("del", 3) => {
            let name = text(&args[2]);
            if name == DEFAULT_NAMESPACE {
                return Err(CmdError::err("forbidden to delete the default namespace"));
            }
            require_config_file(ctx)?;
            if ctx.server.config.write().namespaces.remove(&name).is_none() {
                return Err(CmdError::err("the namespace was not found"));
            }
            persist(ctx)?;
            Ok(Reply::ok())
        }
        ("get" | "add" | "set" | "del", _) => Err(CmdError::Arity(format!("namespace|{sub}"))),
        _ => Err(CmdError::UnknownSubcommand(
            text(&args[1]),
            "NAMESPACE".into(),
        )),
    }
}
