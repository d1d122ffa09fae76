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
use crate::storage::metadata::Composite;
use crate::types::dump::RestoreError;
use crate::types::replay;
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
///
/// Checked in Redis's order: options, BUSYKEY, TTL, payload footer, the
/// object itself (see [`crate::types::dump`]).
pub fn restore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (mut replace, mut absolute) = (false, false);
    let (mut idle, mut freq) = (false, false);
    let mut i = 4;
    while i < args.len() {
        let more = i + 1 < args.len();
        match lower(&args[i]).as_str() {
            "replace" => replace = true,
            "absttl" => absolute = true,
            "idletime" if more && !freq => {
                if int(&args[i + 1])? < 0 {
                    return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
                }
                idle = true;
                i += 1;
            }
            "freq" if more && !idle => {
                if !(0..=255).contains(&int(&args[i + 1])?) {
                    return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
                }
                freq = true;
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    if !replace && ctx.db().exists(&args[1..2])? > 0 {
        return Err(restore_err(RestoreError::BusyKey));
    }
    let ttl = int(&args[2])?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let expire = match (ttl, absolute) {
        (0, _) => 0,
        (t, true) => t as u64,
        // A relative TTL that overflows the clock counts as already
        // expired, as in Redis (its sum wraps negative there).
        (t, false) => (now_ms() as i64).checked_add(t).map_or(1, |e| e as u64),
    };
    // An expire time already past: the payload is checked, the old key
    // removed with REPLACE, and nothing created (as in Redis).
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
    let _gates = ctx.server.node.slot_gates.write_many(&slots);
    let db = ctx.db();
    let mut payloads = Vec::new();
    let mut big = Vec::new();
    for key in &req.keys {
        let composite = db.read_meta(key)?.and_then(|m| Composite::decode(&m.raw));
        if let Some(c) = composite.filter(replay::is_big) {
            big.push((key.clone(), c));
        } else if let Some((payload, expire)) = db.dump(key)? {
            payloads.push((key.clone(), payload, expire));
        }
    }
    if payloads.is_empty() && big.is_empty() {
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
    // A cluster node needs ASKING for a slot it is importing.
    let asking = ctx.server.node.topology.is_some();
    for (key, meta) in &big {
        match send_big_key(&db, &mut peer, key, meta, req.replace, asking, now)? {
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

/// Sends one command (after `ASKING` when `asking`) and returns its reply.
fn call_peer(
    peer: &mut PeerConnection,
    args: &[&[u8]],
    asking: bool,
) -> Result<OwnedFrame, CmdError> {
    if asking {
        let mut out = Vec::new();
        encode_command(&mut out, &[b"ASKING"]);
        encode_command(&mut out, args);
        peer.send_raw(&out).map_err(peer_err)?;
        peer.read_reply().map_err(peer_err)?;
        return peer.read_reply().map_err(peer_err);
    }
    peer.call(args).map_err(peer_err)
}

/// Moves a big composite key in parts (see [`crate::types::replay`]):
/// refused like RESTORE when it exists there and `replace` is off, else
/// DEL, the add commands, the TTL. Returns the target's error, if any.
fn send_big_key(
    db: &crate::types::Db<'_>,
    peer: &mut PeerConnection,
    key: &[u8],
    meta: &Composite,
    replace: bool,
    asking: bool,
    now: u64,
) -> Result<Option<String>, CmdError> {
    if !replace {
        let exists = call_peer(peer, &[b"EXISTS", key], asking)?;
        if matches!(exists, OwnedFrame::Integer(n) if n > 0) {
            return Ok(Some("BUSYKEY Target key name already exists.".into()));
        }
    }
    let mut failure = None;
    let mut send = |cmd: &[&[u8]]| -> Result<(), CmdError> {
        if failure.is_none() {
            failure = frame_error(&call_peer(peer, cmd, asking)?);
        }
        Ok(())
    };
    send(&[b"DEL", key])?;
    db.for_each_part(key, meta, &mut send)?;
    if meta.expire_ms != 0 {
        let ttl = meta.expire_ms.saturating_sub(now).max(1).to_string();
        send(&[b"PEXPIRE", key, ttl.as_bytes()])?;
    }
    Ok(failure)
}
