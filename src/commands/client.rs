//! AUTH, HELLO and CLIENT.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::args::{int, is, lower, text};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::protocol::Reply;
use crate::server::clients::ClientShared;
use crate::server::pause::PauseMode;
use crate::server::session::ReplyMode;

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// Checks a password against requirepass and namespace tokens and updates
/// the session.
fn authenticate(ctx: &mut Ctx, user: Option<&[u8]>, password: &[u8]) -> Result<(), CmdError> {
    let cfg = ctx.server.config.read();
    let requirepass = cfg.get("requirepass");
    if requirepass.is_empty() {
        return Err(CmdError::err(
            "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ));
    }
    if user.is_some_and(|u| u != b"default") {
        return Err(CmdError::Other(WRONGPASS.into()));
    }
    if password == requirepass.as_bytes() {
        ctx.session.authenticated = true;
        ctx.session.admin = true;
        ctx.session.namespace.clear();
    } else if let Some((name, _)) = cfg
        .namespaces
        .iter()
        .find(|(_, token)| token.as_bytes() == password)
    {
        ctx.session.authenticated = true;
        ctx.session.admin = false;
        ctx.session.namespace = name.as_bytes().to_vec();
    } else {
        return Err(CmdError::Other(WRONGPASS.into()));
    }
    drop(cfg);
    *ctx.session.shared.namespace.lock() = ctx.session.namespace_name();
    Ok(())
}

/// AUTH [username] password
pub fn auth(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => authenticate(ctx, None, &args[1])?,
        3 => authenticate(ctx, Some(&args[1]), &args[2])?,
        _ => return Err(CmdError::Syntax),
    }
    Ok(Reply::ok())
}

/// HELLO [protover [AUTH user pass] [SETNAME name]]
pub fn hello(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut resp = ctx.session.resp;
    if args.len() >= 2 {
        let v = int(&args[1])
            .map_err(|_| CmdError::err("Protocol version is not an integer or out of range"))?;
        let resp3_enabled = ctx.server.config.read().bool("resp3-enabled");
        if v != 2 && !(v == 3 && resp3_enabled) {
            return Err(CmdError::Other(
                "NOPROTO unsupported protocol version".into(),
            ));
        }
        resp = v as u8;
    }
    let mut i = 2;
    let mut setname = None;
    while i < args.len() {
        // AUTH user password (Redis), or AUTH password (kvrocks): a
        // password alone when nothing or SETNAME follows it.
        let password_only = args.get(i + 2).is_none_or(|next| is(next, "setname"));
        if is(&args[i], "auth") && i + 1 < args.len() && password_only {
            authenticate(ctx, None, &args[i + 1])?;
            i += 2;
        } else if is(&args[i], "auth") && i + 2 < args.len() {
            authenticate(ctx, Some(&args[i + 1]), &args[i + 2])?;
            i += 3;
        } else if is(&args[i], "setname") && i + 1 < args.len() {
            setname = Some(args[i + 1].clone());
            i += 2;
        } else {
            return Err(CmdError::err(format!(
                "Syntax error in HELLO option '{}'",
                text(&args[i])
            )));
        }
    }
    if !ctx.session.authenticated {
        return Err(CmdError::NoAuth);
    }
    if let Some(name) = setname {
        set_name(&ctx.session.shared, &name)?;
    }
    ctx.session.resp = resp;
    ctx.session.shared.resp.store(resp, Ordering::Relaxed);
    let cluster = ctx.server.config.read().bool("cluster-enabled");
    Ok(Reply::Map(vec![
        (Reply::bulk("server"), Reply::bulk("redis")),
        (
            Reply::bulk("version"),
            Reply::bulk(crate::REDIS_COMPAT_VERSION),
        ),
        (Reply::bulk("proto"), Reply::Integer(resp as i64)),
        (
            Reply::bulk("id"),
            Reply::Integer(ctx.session.shared.id as i64),
        ),
        (
            Reply::bulk("mode"),
            Reply::bulk(if cluster { "cluster" } else { "standalone" }),
        ),
        (Reply::bulk("role"), Reply::bulk("master")),
        (Reply::bulk("modules"), Reply::Array(vec![])),
    ]))
}

fn set_name(shared: &ClientShared, name: &[u8]) -> Result<(), CmdError> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    *shared.name.lock() = String::from_utf8_lossy(name).into_owned();
    Ok(())
}

/// One line of CLIENT LIST / CLIENT INFO, with Redis's field names and
/// kvrocks's `namespace=` after the flags.
fn describe(c: &ClientShared) -> String {
    let cmd = c.last_cmd.load(Ordering::Relaxed);
    let cmd = super::COMMANDS.get(cmd).map(|s| s.name).unwrap_or("NULL");
    let (lib_name, lib_ver) = c.lib.lock().clone();
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags=N namespace={} db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem={} tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        c.name.lock(),
        c.created.elapsed().as_secs(),
        c.idle_secs(),
        c.namespace.lock(),
        c.qbuf.load(Ordering::Relaxed),
        c.omem.load(Ordering::Relaxed),
        cmd,
        c.resp.load(Ordering::Relaxed),
        lib_name,
        lib_ver,
    )
}

/// The clients the caller may see and act on: every client for the
/// administrator, the clients of its own namespace for a namespace user.
fn visible_clients(ctx: &Ctx) -> Vec<std::sync::Arc<ClientShared>> {
    let all = ctx.server.clients.all();
    if ctx.session.admin {
        return all;
    }
    let mine = ctx.session.namespace_name();
    all.into_iter()
        .filter(|c| *c.namespace.lock() == mine)
        .collect()
}

/// Checks a `TYPE` filter of CLIENT LIST/KILL: true when normal clients
/// match (every client here is a normal one).
fn normal_type_matches(kind: &Bytes) -> Result<bool, CmdError> {
    match lower(kind).as_str() {
        "normal" => Ok(true),
        "master" | "replica" | "slave" | "pubsub" => Ok(false),
        _ => Err(CmdError::err(format!(
            "Unknown client type '{}'",
            text(kind)
        ))),
    }
}

/// Filters of CLIENT KILL's new form, applied to the clients the caller
/// may see.
fn kill_filtered(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut id = None;
    let mut addr = None;
    let mut laddr = None;
    let mut skipme = true;
    let mut type_matches = true;
    let mut maxage = None;
    let mut i = 2;
    while i < args.len() {
        let value = args.get(i + 1).ok_or(CmdError::Syntax)?;
        match lower(&args[i]).as_str() {
            "id" => {
                id = Some(
                    int(value)
                        .ok()
                        .filter(|v| *v > 0)
                        .ok_or_else(|| CmdError::err("client-id should be greater than 0"))?,
                )
            }
            "addr" => addr = Some(text(value)),
            "laddr" => laddr = Some(text(value)),
            "skipme" => {
                skipme = match lower(value).as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(CmdError::Syntax),
                }
            }
            "type" => type_matches = normal_type_matches(value)?,
            "user" => {
                if &value[..] != b"default" {
                    return Err(CmdError::err(format!("No such user '{}'", text(value))));
                }
            }
            "maxage" => {
                maxage = Some(int(value).map_err(|_| CmdError::Syntax)?);
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 2;
    }
    let me = ctx.session.shared.id;
    let mut killed = 0;
    for c in visible_clients(ctx) {
        if !type_matches
            || id.is_some_and(|v| v != c.id as i64)
            || addr.as_ref().is_some_and(|a| *a != c.addr)
            || laddr.as_ref().is_some_and(|a| *a != c.laddr)
            || maxage.is_some_and(|age| (c.created.elapsed().as_secs() as i64) < age)
            || (skipme && c.id == me)
        {
            continue;
        }
        c.kill();
        killed += 1;
    }
    Ok(Reply::Integer(killed))
}

/// CLIENT PAUSE timeout [WRITE|ALL]: the administrator pauses every
/// client, a namespace user the clients of its namespace.
fn pause(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let ms =
        int(&args[2]).map_err(|_| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let mode = match args.get(3) {
        None => PauseMode::All,
        Some(m) if is(m, "all") => PauseMode::All,
        Some(m) if is(m, "write") => PauseMode::Write,
        Some(_) => return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let until = std::time::Instant::now() + std::time::Duration::from_millis(ms as u64);
    let scope = (!ctx.session.admin).then(|| ctx.session.namespace_name());
    ctx.server.pauses.pause(scope, until, mode);
    Ok(Reply::ok())
}

/// CLIENT subcommands.
pub fn client(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = lower(&args[1]);
    let arity = |n: usize| -> Result<(), CmdError> {
        if args.len() == n {
            Ok(())
        } else {
            Err(CmdError::Arity(format!("client|{sub}")))
        }
    };
    match sub.as_str() {
        "id" => {
            arity(2)?;
            Ok(Reply::Integer(ctx.session.shared.id as i64))
        }
        "getname" => {
            arity(2)?;
            let name = ctx.session.shared.name.lock().clone();
            Ok(if name.is_empty() {
                Reply::Nil
            } else {
                Reply::bulk(name)
            })
        }
        "setname" => {
            arity(3)?;
            set_name(&ctx.session.shared, &args[2])?;
            Ok(Reply::ok())
        }
        "info" => {
            arity(2)?;
            Ok(Reply::Verbatim(describe(&ctx.session.shared) + "\n"))
        }
        "list" => {
            let mut ids: Option<Vec<i64>> = None;
            let mut type_matches = true;
            if args.len() > 2 {
                if is(&args[2], "id") && args.len() > 3 {
                    ids = Some(
                        args[3..]
                            .iter()
                            .map(|a| int(a).map_err(|_| CmdError::err("Invalid client ID")))
                            .collect::<Result<_, _>>()?,
                    );
                } else if is(&args[2], "type") && args.len() == 4 {
                    type_matches = normal_type_matches(&args[3])?;
                } else {
                    return Err(CmdError::Syntax);
                }
            }
            let mut out = String::new();
            for c in visible_clients(ctx) {
                if !type_matches
                    || ids
                        .as_ref()
                        .is_some_and(|ids| !ids.contains(&(c.id as i64)))
                {
                    continue;
                }
                out.push_str(&describe(&c));
                out.push('\n');
            }
            Ok(Reply::Verbatim(out))
        }
        "kill" => {
            if args.len() == 3 {
                let target = text(&args[2]);
                match visible_clients(ctx).into_iter().find(|c| c.addr == target) {
                    Some(c) => {
                        c.kill();
                        Ok(Reply::ok())
                    }
                    None => Err(CmdError::err("No such client")),
                }
            } else if args.len() >= 4 && args.len().is_multiple_of(2) {
                kill_filtered(ctx, args)
            } else if args.len() == 2 {
                Err(CmdError::Arity("client|kill".into()))
            } else {
                Err(CmdError::Syntax)
            }
        }
        "pause" => {
            if !(3..=4).contains(&args.len()) {
                return Err(CmdError::Arity("client|pause".into()));
            }
            pause(ctx, args)
        }
        "unpause" => {
            arity(2)?;
            if ctx.session.admin {
                ctx.server.pauses.unpause(None);
            } else {
                ctx.server
                    .pauses
                    .unpause(Some(&ctx.session.namespace_name()));
            }
            Ok(Reply::ok())
        }
        "setinfo" => {
            arity(4)?;
            let value = text(&args[3]);
            if value.contains([' ', '\n']) {
                return Err(CmdError::err(format!(
                    "{} cannot contain spaces, newlines or special characters.",
                    text(&args[2])
                )));
            }
            let mut lib = ctx.session.shared.lib.lock();
            match lower(&args[2]).as_str() {
                "lib-name" => lib.0 = value,
                "lib-ver" => lib.1 = value,
                _ => {
                    return Err(CmdError::err(format!(
                        "Unrecognized option '{}'",
                        text(&args[2])
                    )))
                }
            }
            Ok(Reply::ok())
        }
        "no-evict" | "no-touch" => {
            arity(3)?;
            match lower(&args[2]).as_str() {
                "on" | "off" => Ok(Reply::ok()),
                _ => Err(CmdError::Syntax),
            }
        }
        "reply" => {
            arity(3)?;
            match lower(&args[2]).as_str() {
                "on" => {
                    ctx.session.reply_mode = ReplyMode::On;
                    Ok(Reply::ok())
                }
                "off" => {
                    ctx.session.reply_mode = ReplyMode::Off;
                    Ok(Reply::ok())
                }
                "skip" => {
                    ctx.session.reply_mode = ReplyMode::SkipNext;
                    Ok(Reply::ok())
                }
                _ => Err(CmdError::Syntax),
            }
        }
        "help" => Ok(Reply::Array(
            [
                "CLIENT <subcommand> [<arg> ...]. Subcommands are:",
                "ID",
                "INFO",
                "LIST [TYPE normal] [ID id ...]",
                "KILL <ip:port> | KILL <filter> <value> ...",
                "PAUSE <timeout> [WRITE|ALL]",
                "UNPAUSE",
                "GETNAME",
                "SETNAME <name>",
                "SETINFO LIB-NAME|LIB-VER <value>",
                "REPLY ON|OFF|SKIP",
                "NO-EVICT ON|OFF",
            ]
            .iter()
            .map(|s| Reply::Status(s.to_string()))
            .collect(),
        )),
        _ => Err(CmdError::UnknownSubcommand(text(&args[1]), "CLIENT".into())),
    }
}
