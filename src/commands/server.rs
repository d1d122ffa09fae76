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

/// DEBUG SLEEP seconds | DEBUG PROTOCOL type. SLEEP stalls the whole
/// server (the table runs DEBUG with the transaction lock held
/// exclusively), as operators and tests expect of it.
pub fn debug(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
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
    if is(&args[1], "protocol") && args.len() == 3 {
        return protocol_sample(ctx.session.resp, &lower(&args[2]));
    }
    Err(CmdError::err(format!(
        "DEBUG subcommand '{}' is not supported; supported: SLEEP, PROTOCOL",
        lower(&args[1])
    )))
}

/// One sample of each RESP3 type, for client authors (DEBUG PROTOCOL).
fn protocol_sample(resp: u8, kind: &str) -> CmdResult {
    let small = || (0..3).map(Reply::Integer).collect::<Vec<_>>();
    Ok(match kind {
        "string" => Reply::bulk("Hello World"),
        "integer" => Reply::Integer(12345),
        // Redis's sample value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        "double" => Reply::Double(3.141),
        "bignum" => Reply::BigNumber("1234567999999999999999999999999999999".into()),
        "null" => Reply::Nil,
        "array" => Reply::Array(small()),
        "set" => Reply::Set(small()),
        "map" => Reply::Map(
            (0..3)
                .map(|i| (Reply::Integer(i), Reply::Bool(i == 1)))
                .collect(),
        ),
        "attrib" => Reply::Frames(vec![
            Reply::Attribute(vec![(
                Reply::bulk("key-popularity"),
                Reply::Array(vec![Reply::bulk("key:123"), Reply::Integer(90)]),
            )]),
            Reply::bulk("Some real reply following the attribute"),
        ]),
        "push" if resp < 3 => {
            return Err(CmdError::err("RESP2 is not supported by this command"))
        }
        "push" => Reply::Frames(vec![
            Reply::Push(vec![Reply::bulk("server-cpu-usage"), Reply::Integer(42)]),
            Reply::bulk("Some real reply following the push reply"),
        ]),
        "verbatim" => Reply::Verbatim("This is a verbatim\nstring".into()),
        "true" => Reply::Bool(true),
        "false" => Reply::Bool(false),
        _ => return Err(CmdError::err(
            "Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        )),
    })
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
    ctx.server.node.storage.compact_all();
    Ok(Reply::ok())
}
