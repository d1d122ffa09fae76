//! MULTI / EXEC / DISCARD: queued commands run together under the server's
//! exclusive transaction lock, so no other client's command interleaves.

use bytes::Bytes;

use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::cluster::slot::key_slot;
use crate::protocol::Reply;
use crate::server::session::MultiState;

/// MULTI
pub fn multi(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    if ctx.session.multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.session.multi = Some(MultiState::default());
    Ok(Reply::ok())
}

/// DISCARD
pub fn discard(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    if ctx.session.multi.take().is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    Ok(Reply::ok())
}

/// In cluster mode every key of a transaction must share one slot.
fn spans_slots(ctx: &Ctx, queue: &[Vec<Bytes>]) -> bool {
    if ctx.server.node.topology.is_none() {
        return false;
    }
    let mut slot = None;
    for args in queue {
        let Some((_, spec)) = ctx.server.commands.lookup(&args[0]) else {
            continue;
        };
        for i in spec.key_indexes(args) {
            let s = key_slot(&args[i]);
            if *slot.get_or_insert(s) != s {
                return true;
            }
        }
    }
    false
}

/// EXEC
pub fn exec(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let Some(state) = ctx.session.multi.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    if state.dirty {
        return Err(CmdError::Other(
            "EXECABORT Transaction discarded because of previous errors.".into(),
        ));
    }
    if spans_slots(ctx, &state.queue) {
        return Err(CmdError::Other(
            "CROSSSLOT Keys in request don't hash to the same slot".into(),
        ));
    }
    // The slot may have moved since the commands were queued: route them
    // again (like Redis, a redirected EXEC discards the transaction) and
    // hold the slot's gate while they run.
    let asking = std::mem::take(&mut ctx.session.asking);
    let mut gate = None;
    for args in &state.queue {
        let Some((_, spec)) = ctx.server.commands.lookup(&args[0]) else {
            continue;
        };
        if spec.key_indexes(args).is_empty() {
            continue;
        }
        if gate.is_none() {
            gate = super::route(ctx.server, ctx.session, spec, args, asking)
                .map_err(CmdError::Other)?;
        } else {
            // Same slot (checked above), whose gate is already held.
            super::check_route(ctx.server, ctx.session, spec, args, asking)
                .map_err(CmdError::Other)?;
        }
    }
    let _exclusive = ctx.server.txn_lock.write();
    let mut replies = Vec::with_capacity(state.queue.len());
    for args in &state.queue {
        let Some((index, spec)) = ctx.server.commands.lookup(&args[0]) else {
            continue;
        };
        replies.push(super::run(ctx.server, ctx.session, index, spec, args));
    }
    if !ctx.session.apply_folded(&ctx.server.node.storage) {
        return Err(CmdError::err(
            "storage error while applying the transaction",
        ));
    }
    Ok(Reply::Array(replies))
}
