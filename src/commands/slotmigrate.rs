//! The slot migration commands of kvrocks's CLUSTERX: MIGRATE on the source
//! (operator), and IMPORT, CHUNK, IMPORT-COMMIT on the destination (the
//! migration link between two ferrocks nodes).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::args::{int, is, text};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::cluster::import::apply::{
    clear_checkpoint, load_checkpoint, open_checkpoint, Applied, ApplyError, IncomingChunk,
};
use crate::cluster::import::receive::{self, Limits, ReceiveError};
use crate::cluster::import::validate::{CfMap, SlotScope};
use crate::cluster::import::{memory, ImportJob, ImportMode};
use crate::cluster::migrate::by_command;
use crate::cluster::migrate::frame::{self, FrameError, HEADER_LEN};
use crate::cluster::migrate::job;
use crate::cluster::migrate::status::{JobState, MigrationStatus};
use crate::cluster::topology::parse_slot_range;
use crate::protocol::Reply;

static JOB_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Milliseconds of 2024-01-01T00:00:00Z: job ids count from there, so
/// they stay below 2^63 (they travel as RESP integers) for 69 years.
const JOB_EPOCH_MS: u64 = 1_704_067_200_000;

/// A job id: milliseconds since [`JOB_EPOCH_MS`], the first slot, and a
/// per-process counter. A destination keys imports and checkpoints by job
/// id, and the jobs it runs at one time have disjoint slot ranges, so
/// carrying the first slot keeps ids of jobs from different sources apart
/// even when they start in the same millisecond with the same counter.
fn new_job_id(first: u16) -> u64 {
    let ms = crate::util::now_ms().saturating_sub(JOB_EPOCH_MS) & ((1 << 41) - 1);
    let counter = JOB_COUNTER.fetch_add(1, Ordering::Relaxed) & 0xFF;
    (ms << 22) | (u64::from(first & 0x3FFF) << 8) | counter
}

fn cluster_err() -> CmdError {
    super::cluster::disabled()
}

/// CLUSTERX MIGRATE <slot|a-b> <dst-node-id> [async|sync [timeout-seconds]]
pub fn migrate(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cluster = ctx.server.node.topology.as_ref().ok_or_else(cluster_err)?;
    if args.len() < 4 || args.len() > 6 {
        return Err(CmdError::err(super::cluster::CLUSTERX_USAGE));
    }
    let (first, last) = parse_slot_range(&text(&args[2])).map_err(CmdError::err)?;
    let dst = text(&args[3]);
    let sync = match args.get(4) {
        None => false,
        Some(a) if is(a, "async") => false,
        Some(a) if is(a, "sync") => true,
        Some(_) => return Err(CmdError::Syntax),
    };
    let timeout = match args.get(5) {
        Some(a) => match int(a)? {
            t if t < 0 => return Err(CmdError::err("timeout must not be negative")),
            0 => None,
            t => Some(Duration::from_secs(t as u64)),
        },
        None => None,
    };
    {
        let state = cluster.read();
        if state.myid.as_deref() == Some(dst.as_str()) {
            return Err(CmdError::err("Can't migrate slot to myself"));
        }
        if state.topology.node(&dst).is_none() {
            return Err(CmdError::err(format!(
                "Can't find the destination node id {dst}"
            )));
        }
        if let Some(s) = (first..=last).find(|s| !state.owns(*s)) {
            return Err(CmdError::err(format!(
                "Can't migrate slot {s} which doesn't belong to me"
            )));
        }
        if let Some(s) = (first..=last).find(|s| state.paused.contains(s)) {
            // In a cut-over, or held by a hand-off whose outcome is
            // unknown until a topology push settles it.
            return Err(CmdError::err(format!(
                "Can't migrate slot {s} whose writes are paused by a hand-off"
            )));
        }
    }
    let status = {
        let mut jobs = ctx.server.node.migrations.lock();
        let busy = jobs.iter().any(|j| {
            !matches!(*j.state.lock(), JobState::Done | JobState::Failed(_))
                && j.first <= last
                && first <= j.last
        });
        if busy {
            return Err(CmdError::err(
                "There is already a migration job for these slots",
            ));
        }
        // A stopped per-key job whose keys are partly on the destination:
        // a new job would make the destination drop them, so the same
        // move resumes it (as a restart would) and any other is refused.
        let unfinished = by_command::unfinished_overlap(&ctx.server.node, first, last);
        if let Some(r) = &unfinished {
            if (r.first, r.last, r.dst_id.as_str()) != (first, last, dst.as_str()) {
                return Err(CmdError::err(format!(
                    "per-key migration job {} of slots {}-{} to {} is unfinished; migrate those slots to that node again to resume it",
                    r.job_id, r.first, r.last, r.dst_id
                )));
            }
        } else {
            refuse_per_key_with_namespaces(ctx, first, last)?;
        }
        let id = unfinished
            .as_ref()
            .map_or_else(|| new_job_id(first), |r| r.job_id);
        let status = Arc::new(MigrationStatus::new(id, first, last, dst));
        jobs.retain(|j| {
            j.job_id != id
                && (!matches!(*j.state.lock(), JobState::Done | JobState::Failed(_))
                    || j.started.elapsed() < Duration::from_secs(3600))
        });
        jobs.push(status.clone());
        drop(jobs);
        if let Some(r) = &unfinished {
            tracing::info!("resuming the stopped per-key migration job {}", r.job_id);
        }
        job::spawn(ctx.server.node.clone(), status.clone(), unfinished)
            .map_err(|e| CmdError::err(format!("cannot start the migration thread: {e}")))?;
        status
    };
    if !sync {
        return Ok(Reply::ok());
    }
    match tokio::task::block_in_place(|| status.wait(timeout)) {
        JobState::Done => Ok(Reply::ok()),
        JobState::Failed(why) => Err(CmdError::err(format!("migration failed: {why}"))),
        other => Err(CmdError::err(format!(
            "migration still running ({}) after the timeout",
            other.name()
        ))),
    }
}

/// The per-key path (`migrate-type redis-command`) re-sends the default
/// namespace's keys only, while the hand-off drops the slots in every
/// namespace: a slot that holds keys of another namespace must move by the
/// streaming path, which carries every namespace.
fn refuse_per_key_with_namespaces(ctx: &Ctx, first: u16, last: u16) -> Result<(), CmdError> {
    let cfg = ctx.server.config.read();
    if cfg.get("migrate-type") != "redis-command" {
        return Ok(());
    }
    let namespaces: Vec<String> = cfg.namespaces.keys().cloned().collect();
    drop(cfg);
    for ns in &namespaces {
        let db = crate::types::Db::new(&ctx.server.node.storage, ns.as_bytes(), 0);
        for slot in first..=last {
            if !db.keys_in_slot(slot, 1)?.is_empty() {
                return Err(CmdError::err(format!(
                    "migrate-type redis-command moves the default namespace only, and slot {slot} holds keys of namespace {ns}; use migrate-type raw-key-value"
                )));
            }
        }
    }
    Ok(())
}

fn parse_cf_map(text: &str) -> Result<CfMap, CmdError> {
    let mut pairs = Vec::new();
    for item in text.split(',').filter(|s| !s.is_empty()) {
        let (name, id) = item
            .split_once(':')
            .ok_or_else(|| CmdError::err(format!("bad column family entry '{item}'")))?;
        let id: u32 = id
            .parse()
            .map_err(|_| CmdError::err(format!("bad column family id '{id}'")))?;
        pairs.push((name.to_string(), id));
    }
    Ok(CfMap::from_names(
        pairs.iter().map(|(n, i)| (n.as_str(), *i)),
    ))
}

/// CLUSTERX IMPORT <job-id> <first> <last> <src-node-id> <cf-map> [<stream>]:
/// announces a job, or one of its parallel streams (stream 0 first: it
/// makes the job known), and replies with that stream's checkpoint.
pub fn import(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let node = &ctx.server.node;
    let cluster = node.topology.as_ref().ok_or_else(cluster_err)?;
    if args.len() != 7 && args.len() != 8 {
        return Err(CmdError::Arity("clusterx|import".into()));
    }
    let stream = match args.get(7) {
        None => 0,
        Some(a) => {
            u8::try_from(int(a)?).map_err(|_| CmdError::err("stream must be between 0 and 255"))?
        }
    };
    let job_id = int(&args[2])? as u64;
    let (first, last) = (int(&args[3])?, int(&args[4])?);
    let (first, last) = parse_slot_range(&format!("{first}-{last}")).map_err(CmdError::err)?;
    let src = text(&args[5]);
    let cf_map = parse_cf_map(&text(&args[6]))?;
    let owns_any = |state: &crate::cluster::state::ClusterState| -> Result<(), CmdError> {
        if state.myid.is_none() {
            return Err(CmdError::err("the node id is not set"));
        }
        if let Some(s) = (first..=last).find(|s| state.owns(*s)) {
            return Err(CmdError::err(format!(
                "I'm already the owner of hash slot {s}"
            )));
        }
        Ok(())
    };
    owns_any(&cluster.read())?;
    for (old_id, old) in node.imports.all() {
        let overlaps = old.scope.first <= last && first <= old.scope.last;
        if old_id != job_id && overlaps {
            drop_import(ctx, old_id, &old)?;
        }
    }
    // A job announced again (a new link, or the source asking how far it
    // got at the end of its snapshot) gets its SST files ingested first,
    // so the checkpoint reported covers every chunk it acknowledged. A
    // refused ingest makes it a write job; the older checkpoint is then
    // what the source continues from.
    let _ = receive::seal(&node.imports, &node.storage, job_id, stream);
    let known = load_checkpoint(&node.storage, job_id, 0)?.is_some();
    if stream > 0 && !known {
        return Err(CmdError::err(format!(
            "stream {stream} of job {job_id} announced before the job"
        )));
    }
    if !known {
        // A job this node has not seen: what it holds in these slots (it
        // owns none of them) is a leftover of an earlier job whose abort
        // never arrived, and must not come back with this one.
        clear_slot_data(ctx, first, last)?;
        open_checkpoint(&node.storage, job_id, 0)?;
    }
    {
        // Registered and marked under the topology lock, so a topology
        // push sees both or neither.
        let mut state = cluster.write();
        owns_any(&state)?;
        node.imports.start(
            job_id,
            ImportJob {
                scope: SlotScope { first, last },
                cf_map,
                src_id: src.clone(),
                chunks: 0,
                last_active: std::time::Instant::now(),
                mode: ImportMode::from_config(ctx.server.config.read().get("migrate-import-mode")),
                ingested_files: 0,
            },
        );
        for s in first..=last {
            state.importing.insert(s, src.clone());
        }
        let _ = state.save();
    }
    node.imports
        .hold_bulk_work(job_id, node.storage.bulk_work());
    let cp = match load_checkpoint(&node.storage, job_id, stream)? {
        Some(cp) => cp,
        None => {
            open_checkpoint(&node.storage, job_id, stream)?;
            Default::default()
        }
    };
    tracing::info!(
        "importing slots {}-{} (job {}, stream {})",
        first,
        last,
        job_id,
        stream
    );
    Ok(Reply::Array(vec![
        Reply::Integer(cp.sequence as i64),
        Reply::bulk(cp.source_position),
    ]))
}

/// CLUSTERX CHUNK <frame> <source-position>: checks and applies one chunk;
/// replies with its sequence.
pub fn chunk(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let node = &ctx.server.node;
    if args.len() != 4 {
        return Err(CmdError::Arity("clusterx|chunk".into()));
    }
    let frame_bytes = &args[2];
    if frame_bytes.len() < HEADER_LEN {
        return Err(CmdError::Other(
            "CHUNKREJECTED frame shorter than its header".into(),
        ));
    }
    let mut hb = [0u8; HEADER_LEN];
    hb.copy_from_slice(&frame_bytes[..HEADER_LEN]);
    let max = ctx.server.hot.max_bulk_len.load(Ordering::Relaxed).max(0) as usize;
    let header = frame::decode_header(&hb, max)
        .map_err(|e| CmdError::Other(format!("CHUNKREJECTED {e}")))?;
    let Some(job) = node.imports.get(header.job_id) else {
        return Err(CmdError::Other(format!(
            "CHUNKREJECTED unknown job {}",
            header.job_id
        )));
    };
    if (header.first_slot, header.last_slot) != (job.scope.first, job.scope.last) {
        return Err(CmdError::Other(
            "CHUNKREJECTED slot range differs from the job's".into(),
        ));
    }
    let mut scratch = node.imports.take_scratch();
    let received = receive_frame(ctx, &header, frame_bytes, &args[3], &job, &mut scratch);
    ctx.server.node.imports.give_back_scratch(scratch);
    received
}

/// Checks the payload of a chunk whose header passed, then applies it;
/// decompresses into `scratch`.
fn receive_frame(
    ctx: &mut Ctx,
    header: &frame::FrameHeader,
    frame_bytes: &Bytes,
    source_position: &Bytes,
    job: &ImportJob,
    scratch: &mut Vec<u8>,
) -> CmdResult {
    let node = &ctx.server.node;
    let raw = match frame::open_payload(header, &frame_bytes[HEADER_LEN..], scratch) {
        Ok(raw) => raw,
        Err(e @ FrameError::ChecksumMismatch { .. }) => {
            tracing::warn!("job {} chunk {}: {}", header.job_id, header.sequence, e);
            return Err(CmdError::Other(format!(
                "CHUNKCRC chunk {}: {e}",
                header.sequence
            )));
        }
        Err(e) => return Err(CmdError::Other(format!("CHUNKREJECTED {e}"))),
    };
    let incoming = IncomingChunk {
        job_id: header.job_id,
        stream: header.stream,
        sequence: header.sequence,
        raw,
        source_position,
        source_wal_seq: 0,
    };
    let limits = {
        let cfg = ctx.server.config.read();
        Limits {
            flush_bytes: memory::flush_limit(&cfg),
            sst_bytes: (cfg.int("migrate-import-sst-mb").max(1) as u64) << 20,
        }
    };
    let snapshot = header.phase == frame::Phase::Snapshot;
    let received = receive::receive(
        &node.imports,
        &node.storage,
        job,
        snapshot,
        &incoming,
        limits,
    );
    match received {
        Ok(Applied::Written(_)) => {
            node.imports.count_chunk(header.job_id);
            Ok(Reply::Integer(header.sequence as i64))
        }
        Ok(Applied::Duplicate) => Ok(Reply::Integer(header.sequence as i64)),
        Err(ReceiveError::Apply(ApplyError::OutOfOrder { expected, got })) => Err(CmdError::Other(
            format!("CHUNKORDER chunk {got} arrived, {expected} expected"),
        )),
        Err(ReceiveError::Apply(ApplyError::Rejected(why))) => {
            tracing::warn!(
                "job {} chunk {} refused: {}",
                header.job_id,
                header.sequence,
                why
            );
            Err(CmdError::Other(format!("CHUNKREJECTED {why}")))
        }
        Err(ReceiveError::Apply(ApplyError::Storage(e))) => Err(CmdError::from(e)),
        Err(ReceiveError::Resend(why)) => Err(CmdError::Other(format!(
            "CHUNKRESEND chunk {}: {why}",
            header.sequence
        ))),
    }
}

/// CLUSTERX IMPORT-COMMIT <job-id> [<version>]: takes ownership of the
/// imported slots as a local change recorded in nodes.conf (the topology
/// version stays where the controller put it, as in kvrocks; a version
/// argument from an older source is ignored); replies with the version in
/// force.
pub fn import_commit(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let node = &ctx.server.node;
    let cluster = node.topology.as_ref().ok_or_else(cluster_err)?;
    if args.len() != 3 && args.len() != 4 {
        return Err(CmdError::Arity("clusterx|import-commit".into()));
    }
    let job_id = int(&args[2])? as u64;
    let Some(job) = node.imports.get(job_id) else {
        return Err(CmdError::err(format!("unknown import job {job_id}")));
    };
    // Every chunk was acknowledged and the source announced the job again
    // after its snapshot, so no SST file should be waiting; one that is
    // must be in the database before the slots are served.
    if let Err(e) = receive::seal_all(&node.imports, &node.storage, job_id) {
        return Err(CmdError::Other(format!("CHUNKRESEND {e}")));
    }
    let mut state = cluster.write();
    let me = state
        .myid
        .clone()
        .ok_or_else(|| CmdError::err("the node id is not set"))?;
    state
        .move_slots_locally(job.scope.first, job.scope.last, &me)
        .map_err(CmdError::err)?;
    for s in job.scope.first..=job.scope.last {
        state.importing.remove(&s);
    }
    let version = state.topology.version;
    state
        .save()
        .map_err(|e| CmdError::err(format!("failed to persist the cluster state: {e}")))?;
    drop(state);
    node.imports.finish(job_id, true);
    clear_checkpoint(&node.storage, job_id)?;
    tracing::info!(
        "now serving slots {}-{} (job {}, topology version {} unchanged)",
        job.scope.first,
        job.scope.last,
        job_id,
        version
    );
    Ok(Reply::Integer(version))
}

fn job_map(j: &MigrationStatus) -> Reply {
    let state = j.state.lock().clone();
    let error = match &state {
        JobState::Failed(why) => why.clone(),
        _ => String::new(),
    };
    Reply::Map(vec![
        (Reply::bulk("id"), Reply::bulk(j.job_id.to_string())),
        (Reply::bulk("operation"), Reply::bulk("migrate")),
        (
            Reply::bulk("slots"),
            Reply::bulk(format!("{}-{}", j.first, j.last)),
        ),
        (Reply::bulk("destination"), Reply::bulk(j.dst_id.clone())),
        (Reply::bulk("state"), Reply::bulk(state.name())),
        (
            Reply::bulk("keys"),
            Reply::Integer(j.keys.load(Ordering::Relaxed) as i64),
        ),
        (
            Reply::bulk("chunks"),
            Reply::Integer(j.chunks.load(Ordering::Relaxed) as i64),
        ),
        (
            Reply::bulk("retransmits"),
            Reply::Integer(j.retransmits.load(Ordering::Relaxed) as i64),
        ),
        (
            Reply::bulk("write_pause_ms"),
            Reply::Integer(j.pause_ms.load(Ordering::Relaxed) as i64),
        ),
        (Reply::bulk("last_error"), Reply::bulk(error)),
    ])
}

/// Which jobs a STATUS or CANCEL names: `ID <id>` or `ALL`.
fn job_filter(args: &[Bytes]) -> Result<Option<u64>, CmdError> {
    match args {
        [] => Ok(None),
        [a] if is(a, "all") => Ok(None),
        [a, id] if is(a, "id") => Ok(Some(int(id)? as u64)),
        _ => Err(CmdError::Syntax),
    }
}

/// CLUSTER MIGRATION IMPORT <a> <b> [<a> <b> ...] | STATUS [ID id | ALL]
/// | CANCEL ID id | ALL (Redis 8.4 / Valkey 9 style, same engine).
pub fn migration(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cluster = ctx.server.node.topology.as_ref().ok_or_else(cluster_err)?;
    let Some(sub) = args.get(2) else {
        return Err(CmdError::Arity("cluster|migration".into()));
    };
    if is(sub, "status") {
        let filter = job_filter(&args[3..])?;
        let mut out: Vec<Reply> = ctx
            .server
            .node
            .migrations
            .lock()
            .iter()
            .filter(|j| filter.is_none_or(|id| id == j.job_id))
            .map(|j| job_map(j))
            .collect();
        for (id, imp) in ctx.server.node.imports.all() {
            if filter.is_none_or(|f| f == id) {
                out.push(Reply::Map(vec![
                    (Reply::bulk("id"), Reply::bulk(id.to_string())),
                    (Reply::bulk("operation"), Reply::bulk("import")),
                    (
                        Reply::bulk("slots"),
                        Reply::bulk(format!("{}-{}", imp.scope.first, imp.scope.last)),
                    ),
                    (Reply::bulk("source"), Reply::bulk(imp.src_id.clone())),
                    (Reply::bulk("state"), Reply::bulk("importing")),
                    (Reply::bulk("chunks"), Reply::Integer(imp.chunks as i64)),
                ]));
            }
        }
        return Ok(Reply::Array(out));
    }
    if is(sub, "cancel") {
        if args.len() < 4 {
            return Err(CmdError::Syntax);
        }
        let filter = job_filter(&args[3..])?;
        let mut n = 0;
        for j in ctx.server.node.migrations.lock().iter() {
            if j.running() && filter.is_none_or(|id| id == j.job_id) {
                j.cancel();
                n += 1;
            }
        }
        return Ok(Reply::Integer(n));
    }
    if is(sub, "import") {
        let ranges = &args[3..];
        if ranges.is_empty() || !ranges.len().is_multiple_of(2) {
            return Err(CmdError::Arity("cluster|migration".into()));
        }
        // Ask each range's owner to migrate it here.
        let (myid, mut plan) = {
            let state = cluster.read();
            let myid = state
                .myid
                .clone()
                .ok_or_else(|| CmdError::err("the node id is not set"))?;
            let mut plan = Vec::new();
            for pair in ranges.chunks(2) {
                let (a, b) = (int(&pair[0])?, int(&pair[1])?);
                let (a, b) = parse_slot_range(&format!("{a}-{b}")).map_err(CmdError::err)?;
                let owner = state
                    .topology
                    .owner(a)
                    .cloned()
                    .ok_or_else(|| CmdError::err(format!("slot {a} has no owner")))?;
                if (a..=b).any(|s| state.topology.owner(s).map(|n| &n.id) != Some(&owner.id)) {
                    return Err(CmdError::err(format!(
                        "slots {a}-{b} do not all belong to one node"
                    )));
                }
                if owner.id == myid {
                    return Err(CmdError::err(format!("slots {a}-{b} are already mine")));
                }
                plan.push((a, b, owner));
            }
            (myid, plan)
        };
        let password = ctx.server.peer_password();
        tokio::task::block_in_place(|| -> Result<(), CmdError> {
            for (a, b, owner) in plan.drain(..) {
                let mut peer = crate::cluster::peer::PeerConnection::connect_auth(
                    &owner.host,
                    owner.port,
                    Duration::from_secs(5),
                    password.as_deref(),
                )
                .map_err(|e| CmdError::err(format!("cannot reach {}: {e}", owner.addr())))?;
                let range = format!("{a}-{b}");
                let reply = peer
                    .call(&[
                        b"CLUSTERX",
                        b"MIGRATE",
                        range.as_bytes(),
                        myid.as_bytes(),
                        b"async",
                    ])
                    .map_err(|e| CmdError::err(format!("{}: {e}", owner.addr())))?;
                if let redis_protocol::resp2::types::OwnedFrame::Error(e) = reply {
                    return Err(CmdError::err(format!("{} refused: {e}", owner.addr())));
                }
            }
            Ok(())
        })?;
        return Ok(Reply::ok());
    }
    Err(CmdError::UnknownSubcommand(
        text(sub),
        "CLUSTER MIGRATION".into(),
    ))
}

/// How a topology push leaves a running import.
enum PushOutcome {
    /// Its slots stay with its source and it is alive: it goes on.
    Continue,
    /// Its slots stay with its source but it has been idle too long: its
    /// registration and marks go; its data and checkpoint stay, for the
    /// source to resume from or a new job to clear.
    Forget,
    /// The push gives its slots to another node or to this one: it ends;
    /// data of slots this node does not own is dropped, data of slots it
    /// now owns stays (the controller made them this node's).
    End,
}

/// Settles imports after a topology push with a higher version (SETNODES):
/// the pushed topology decides which imports go on (see
/// [`PushOutcome`]), and IMPORTING marks no running import covers (left by
/// a restart, or set by `CLUSTER SETSLOT IMPORTING`) are dropped.
pub fn settle_after_push(ctx: &Ctx) -> Result<(), CmdError> {
    let node = &ctx.server.node;
    let Some(cluster) = node.topology.as_ref() else {
        return Ok(());
    };
    let idle_limit = Duration::from_secs(
        ctx.server
            .config
            .read()
            .int("migrate-import-idle-timeout")
            .max(1) as u64,
    );
    let mut ended = Vec::new();
    {
        let mut state = cluster.write();
        for (job_id, job) in node.imports.all() {
            let slots = job.scope.first..=job.scope.last;
            let with_source = slots
                .clone()
                .all(|s| state.topology.owner(s).map(|n| &n.id) == Some(&job.src_id));
            let outcome = match (with_source, job.idle() >= idle_limit) {
                (true, false) => PushOutcome::Continue,
                (true, true) => PushOutcome::Forget,
                (false, _) => PushOutcome::End,
            };
            match outcome {
                PushOutcome::Continue => continue,
                PushOutcome::Forget => tracing::warn!(
                    "import job {} of slots {}-{} from {}: idle for {:?} at a topology push; forgotten (its data and checkpoint stay for the source to resume)",
                    job_id,
                    job.scope.first,
                    job.scope.last,
                    job.src_id,
                    job.idle()
                ),
                PushOutcome::End => tracing::warn!(
                    "import job {} of slots {}-{} from {}: the pushed topology gives the slots to another node; import ended",
                    job_id,
                    job.scope.first,
                    job.scope.last,
                    job.src_id
                ),
            }
            node.imports.finish(job_id, false);
            for s in slots.clone() {
                state.importing.remove(&s);
            }
            if let PushOutcome::End = outcome {
                let elsewhere: Vec<u16> = slots.filter(|s| !state.owns(*s)).collect();
                ended.push((job_id, elsewhere));
            }
        }
        let imports = &node.imports;
        state.importing.retain(|s, src| {
            let covered = imports.covers(*s);
            if !covered {
                tracing::warn!(
                    "slot {} was marked importing from {} with no import running; mark dropped by the topology push",
                    s,
                    src
                );
            }
            covered
        });
        state
            .save()
            .map_err(|e| CmdError::err(format!("failed to persist the cluster state: {e}")))?;
    }
    for (job_id, elsewhere) in ended {
        for s in elsewhere {
            clear_slot_data(ctx, s, s)?;
        }
        clear_checkpoint(&node.storage, job_id)?;
    }
    Ok(())
}

/// Deletes slots `first..=last` in every namespace this node knows.
fn clear_slot_data(ctx: &Ctx, first: u16, last: u16) -> Result<(), CmdError> {
    for ns in &ctx.server.namespace_prefixes() {
        ctx.server.node.storage.delete_data_range_if_any(
            &crate::storage::keys::slot_prefix(ns, first),
            &crate::storage::keys::slot_prefix(ns, last + 1),
        )?;
    }
    Ok(())
}

/// Drops what an import received so far: its slots' data in every
/// namespace this node knows, its checkpoint and its importing marks.
fn drop_import(ctx: &Ctx, job_id: u64, job: &ImportJob) -> Result<(), CmdError> {
    clear_slot_data(ctx, job.scope.first, job.scope.last)?;
    clear_checkpoint(&ctx.server.node.storage, job_id)?;
    if let Some(cluster) = ctx.server.node.topology.as_ref() {
        let mut state = cluster.write();
        for s in job.scope.first..=job.scope.last {
            state.importing.remove(&s);
        }
        let _ = state.save();
    }
    ctx.server.node.imports.finish(job_id, false);
    tracing::info!(
        "import job {} of slots {}-{} dropped with its partial data",
        job_id,
        job.scope.first,
        job.scope.last
    );
    Ok(())
}

/// CLUSTERX IMPORT-ABORT <job-id>: the source gave up; drop the partial
/// data of the job.
pub fn import_abort(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ctx.server.node.topology.as_ref().ok_or_else(cluster_err)?;
    if args.len() != 3 {
        return Err(CmdError::Arity("clusterx|import-abort".into()));
    }
    let job_id = int(&args[2])? as u64;
    let Some(job) = ctx.server.node.imports.get(job_id) else {
        // Not announced since this node started: only its checkpoint may
        // be left (its data goes when a job for the slots starts).
        clear_checkpoint(&ctx.server.node.storage, job_id)?;
        return Ok(Reply::Integer(0));
    };
    drop_import(ctx, job_id, &job)?;
    Ok(Reply::Integer(1))
}
