//! NAMESPACE GET|SET|ADD|DEL (kvrocks): each namespace is an isolated
//! keyspace reached by authenticating with its token.

use bytes::Bytes;

use super::args::{lower, text};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::protocol::Reply;
use crate::server::session::DEFAULT_NAMESPACE;

fn persist(ctx: &Ctx) -> Result<(), CmdError> {
    let cfg = ctx.server.config.read();
    if cfg.path.is_some() {
        cfg.rewrite()
            .map_err(|e| CmdError::err(format!("namespace changed but not saved: {e}")))?;
    }
    Ok(())
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
            if name == DEFAULT_NAMESPACE || name.is_empty() || name.len() > 255 {
                return Err(CmdError::err("forbidden to add the default namespace"));
            }
            {
                let mut cfg = ctx.server.config.write();
                if cfg.get("requirepass").is_empty() {
                    return Err(CmdError::err(
                        "forbidden to add namespace when requirepass was empty",
                    ));
                }
                if token == cfg.get("requirepass")
                    || cfg
                        .namespaces
                        .iter()
                        .any(|(n, t)| *t == token && *n != name)
                {
                    return Err(CmdError::err("the token has already exists"));
                }
                let exists = cfg.namespaces.contains_key(&name);
                if sub == "add" && exists {
                    return Err(CmdError::err("the namespace has already exists"));
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
