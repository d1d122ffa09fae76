//! Small server and connection commands: PING, ECHO, QUIT, SELECT, TIME,
//! DEBUG, SHUTDOWN, COMPACT.

use bytes::Bytes;

use super::args::{float, int, is, lower};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::protocol::Reply;
use crate::server::session::ReplyMode;

/// PING [message]
pub fn ping(_ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        1 => Ok(Reply::Status("PONG".into())),
        2 => Ok(Reply::Bulk(args[1].clone())),
        _ => Err(CmdError::Arity("ping".into())),
    }
}

/// ECHO message
pub fn echo(_ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Bulk(args[1].clone()))
}

/// QUIT: replies OK, then the connection closes.
pub fn quit(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.session.close_after_reply = true;
    Ok(Reply::ok())
}

/// SELECT index: answers OK and changes nothing (namespaces isolate data).
pub fn select(_ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if int(&args[1])? < 0 {
        return Err(CmdError::err("DB index is out of range"));
    }
    Ok(Reply::ok())
}

/// TIME
pub fn time(_ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Reply::bulk_array([
        now.as_secs().to_string(),
        now.subsec_micros().to_string(),
    ]))
}

/// DEBUG SLEEP seconds
pub fn debug(_ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if is(&args[1], "sleep") && args.len() == 3 {
        let secs = float(&args[2])?;
        if !(0.0..=3600.0).contains(&secs) {
            return Err(CmdError::err("invalid sleep time"));
        }
        tokio::task::block_in_place(|| {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs))
        });
        return Ok(Reply::ok());
    }
    Err(CmdError::err(format!(
        "DEBUG subcommand '{}' is not supported; supported: SLEEP",
        lower(&args[1])
    )))
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: stops the server
/// gracefully; the caller's connection closes without a reply.
pub fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    for a in &args[1..] {
        match lower(a).as_str() {
            "nosave" | "save" | "now" | "force" => {}
            "abort" => return Err(CmdError::err("No shutdown in progress.")),
            _ => return Err(CmdError::Syntax),
        }
    }
    tracing::info!("SHUTDOWN requested by client {}", ctx.session.shared.addr);
    ctx.server.request_shutdown();
    ctx.session.close_after_reply = true;
    ctx.session.reply_mode = ReplyMode::Skip;
    Ok(Reply::ok())
}

/// COMPACT (kvrocks): compacts every column family.
pub fn compact(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.server.storage.compact_all();
    Ok(Reply::ok())
}
