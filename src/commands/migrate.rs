//! Per-key moving: DUMP, RESTORE (and RESTORE-ASKING) and MIGRATE, the path
//! `redis-cli --cluster reshard` drives (`migrate-type redis-command`).

use std::time::Duration;

use bytes::Bytes;
use redis_protocol::resp2::types::OwnedFrame;

use super::args::{int, lower, text};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::cluster::peer::{encode_command, PeerConnection, PeerError};
use crate::cluster::slot::key_slot;
use crate::protocol::Reply;
use crate::types::dump::RestoreError;
use crate::util::now_ms;

fn restore_err(e: RestoreError) -> CmdError {
    match e {
        RestoreError::Type(t) => CmdError::Type(t),
        other => CmdError::Other(other.to_string()),
    }
}

/// DUMP key
pub fn dump(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::opt_bulk(ctx.db().dump(&args[1])?.map(|(p, _)| p)))
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]
pub fn restore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let ttl = int(&args[2])?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let (mut replace, mut absolute) = (false, false);
    let mut i = 4;
    while i < args.len() {
        match lower(&args[i]).as_str() {
            "replace" => replace = true,
            "absttl" => absolute = true,
            "idletime" | "freq" if i + 1 < args.len() => {
                if int(&args[i + 1])? < 0 {
                    return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
                }
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    let expire = match (ttl, absolute) {
        (0, _) => 0,
        (t, true) => t as u64,
        // A relative TTL that overflows the clock counts as already
        // expired, as in Redis (its sum wraps negative there).
        (t, false) => (now_ms() as i64).checked_add(t).map_or(1, |e| e as u64),
    };
    if expire != 0 && expire <= now_ms() {
        // Already expired: like Redis, check as usual, then succeed
        // without creating the key (REPLACE removes the old one).
        crate::types::dump::open(&args[3]).map_err(restore_err)?;
        let db = ctx.db();
        if !replace && db.exists(&args[1..2])? > 0 {
            return Err(restore_err(RestoreError::BusyKey));
        }
        db.del(&args[1..2])?;
        return Ok(Reply::ok());
    }
    ctx.db()
        .restore(&args[1], &args[3], expire, replace)
        .map_err(restore_err)?;
    Ok(Reply::ok())
}

/// Options of one MIGRATE call.
struct MigrateRequest {
    host: String,
    port: u16,
    timeout: Duration,
    copy: bool,
    replace: bool,
    auth: Option<(Option<Bytes>, Bytes)>,
    keys: Vec<Bytes>,
}

fn parse_migrate(args: &[Bytes]) -> Result<MigrateRequest, CmdError> {
    let port = int(&args[2])?;
    let port = u16::try_from(port).map_err(|_| CmdError::NotInteger)?;
    int(&args[4])?;
    let timeout_ms = int(&args[5])?.max(1000) as u64;
    let mut req = MigrateRequest {
        host: text(&args[1]),
        port,
        timeout: Duration::from_millis(timeout_ms),
        copy: false,
        replace: false,
        auth: None,
        keys: Vec::new(),
    };
    let mut i = 6;
    while i < args.len() {
        match lower(&args[i]).as_str() {
            "copy" => req.copy = true,
            "replace" => req.replace = true,
            "auth" if i + 1 < args.len() => {
                req.auth = Some((None, args[i + 1].clone()));
                i += 1;
            }
            "auth2" if i + 2 < args.len() => {
                req.auth = Some((Some(args[i + 1].clone()), args[i + 2].clone()));
                i += 2;
            }
            "keys" => {
                if !args[3].is_empty() {
                    return Err(CmdError::err(
                        "When using MIGRATE KEYS option, the key argument must be set to the empty string",
                    ));
                }
                req.keys = args[i + 1..].to_vec();
                break;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    if req.keys.is_empty() {
        req.keys.push(args[3].clone());
    }
    Ok(req)
}

fn peer_err(e: PeerError) -> CmdError {
    CmdError::Other(format!("IOERR {e}"))
}

fn frame_error(frame: &OwnedFrame) -> Option<String> {
    match frame {
        OwnedFrame::Error(e) => Some(e.clone()),
        _ => None,
    }
}

/// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw]
/// [AUTH2 user pw] [KEYS key ...]
pub fn migrate(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let req = parse_migrate(args)?;
    // Writers of these slots wait until the keys are copied and deleted.
    let slots: Vec<u16> = req.keys.iter().map(|k| key_slot(k)).collect();
    let _gates = ctx.server.slot_gates.write_many(&slots);
    let db = ctx.db();
    let mut payloads = Vec::new();
    for key in &req.keys {
        if let Some((payload, expire)) = db.dump(key)? {
            payloads.push((key.clone(), payload, expire));
        }
    }
    if payloads.is_empty() {
        return Ok(Reply::Status("NOKEY".into()));
    }
    let mut peer = PeerConnection::connect(&req.host, req.port, req.timeout).map_err(peer_err)?;
    if let Some((user, pass)) = &req.auth {
        let reply = match user {
            Some(u) => peer.call(&[b"AUTH", u, pass]),
            None => peer.call(&[b"AUTH", pass]),
        }
        .map_err(peer_err)?;
        if let Some(e) = frame_error(&reply) {
            return Err(CmdError::Other(format!(
                "ERR Target instance replied with error: {e}"
            )));
        }
    }
    let mut out = Vec::new();
    let now = now_ms();
    for (key, payload, expire) in &payloads {
        let ttl = if *expire == 0 {
            0
        } else {
            expire.saturating_sub(now).max(1)
        };
        let ttl = ttl.to_string();
        let mut cmd: Vec<&[u8]> = vec![b"RESTORE-ASKING", key, ttl.as_bytes(), payload];
        if req.replace {
            cmd.push(b"REPLACE");
        }
        encode_command(&mut out, &cmd);
    }
    peer.send_raw(&out).map_err(peer_err)?;
    let mut first_error = None;
    let mut moved = Vec::new();
    for (key, _, _) in &payloads {
        let reply = peer.read_reply().map_err(peer_err)?;
        match frame_error(&reply) {
            Some(e) => {
                first_error.get_or_insert(e);
            }
            None => moved.push(key.clone()),
        }
    }
    if !req.copy && !moved.is_empty() {
        db.del(&moved)?;
    }
    match first_error {
        Some(e) => Err(CmdError::Other(format!(
            "ERR Target instance replied with error: {e}"
        ))),
        None => Ok(Reply::ok()),
    }
}
