//! INFO: server state in Redis's `field:value` format, so exporters and
//! `redis-cli` parse it unchanged.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::args::lower;
use super::error::CmdResult;
use super::Ctx;
use crate::protocol::Reply;
use crate::storage::Cf;

/// Sections in the order INFO prints them.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "cluster",
    "migration",
    "keyspace",
    "rocksdb",
];

/// Below this estimated key count INFO keyspace counts keys exactly.
const EXACT_COUNT_LIMIT: u64 = 100_000;

/// Reads `VmRSS` / `VmHWM` (kB) from /proc.
pub fn proc_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}G", b / 1024.0 / 1024.0 / 1024.0)
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.2}M", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else {
        format!("{bytes}B")
    }
}

fn cpu_times() -> (f64, f64) {
    // SAFETY: getrusage writes into the zeroed struct we pass and nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return (0.0, 0.0);
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(usage.ru_stime), t(usage.ru_utime))
}

fn section(ctx: &Ctx, name: &str, out: &mut String) {
    let s = ctx.server;
    let st = &s.stats;
    let _ = writeln!(out, "# {}", capitalise(name));
    let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    match name {
        "server" => {
            let uptime = s.started.elapsed().as_secs();
            let cfg = s.config.read();
            let _ = write!(
                out,
                "redis_version:{}\nferrocks_version:{}\nredis_mode:{}\nos:{} {}\narch_bits:64\nprocess_id:{}\ntcp_port:{}\nuptime_in_seconds:{}\nuptime_in_days:{}\nexecutable:{}\nconfig_file:{}\n",
                crate::REDIS_COMPAT_VERSION,
                env!("CARGO_PKG_VERSION"),
                if cfg.bool("cluster-enabled") { "cluster" } else { "standalone" },
                std::env::consts::OS,
                std::env::consts::ARCH,
                std::process::id(),
                s.port,
                uptime,
                uptime / 86400,
                std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
                cfg.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            );
        }
        "clients" => {
            let _ = write!(
                out,
                "connected_clients:{}\nblocked_clients:0\nmaxclients:{}\n",
                s.clients.count(),
                s.hot.maxclients.load(Ordering::Relaxed)
            );
        }
        "memory" => {
            let rss = proc_status_kb("VmRSS:") * 1024;
            let peak = proc_status_kb("VmHWM:") * 1024;
            let _ = write!(
                out,
                "used_memory:{rss}\nused_memory_human:{}\nused_memory_rss:{rss}\nused_memory_rss_human:{}\nused_memory_peak:{peak}\nused_memory_peak_human:{}\nmaxmemory:0\nmaxmemory_human:0B\nmaxmemory_policy:noeviction\n",
                human(rss),
                human(rss),
                human(peak)
            );
        }
        "persistence" => {
            let _ = write!(
                out,
                "loading:0\nbgsave_in_progress:0\nlast_bgsave_time:-1\nlast_bgsave_status:ok\nlast_bgsave_time_sec:-1\nrdb_changes_since_last_save:0\nrdb_bgsave_in_progress:0\nrdb_last_bgsave_status:ok\naof_enabled:0\naof_rewrite_in_progress:0\n"
            );
        }
        "stats" => {
            let _ = write!(
                out,
                "total_connections_received:{}\ntotal_commands_processed:{}\ninstantaneous_ops_per_sec:{}\ntotal_net_input_bytes:{}\ntotal_net_output_bytes:{}\nrejected_connections:{}\nexpired_keys:0\nevicted_keys:0\nkeyspace_hits:{}\nkeyspace_misses:{}\ntotal_error_replies:{}\n",
                load(&st.connections_received),
                load(&st.commands_processed),
                st.instantaneous_ops(),
                load(&st.net_input_bytes),
                load(&st.net_output_bytes),
                load(&st.rejected_connections),
                load(&st.keyspace_hits),
                load(&st.keyspace_misses),
                load(&st.error_replies),
            );
            let cache = ctx.server.node.storage.meta_cache().counts();
            let _ = write!(
                out,
                "metadata_cache_hits:{}\nmetadata_cache_misses:{}\nmetadata_cache_bytes:{}\n",
                cache.hits, cache.misses, cache.bytes
            );
        }
        "replication" => {
            let _ = write!(
                out,
                "role:master\nconnected_slaves:0\nmaster_repl_offset:0\n"
            );
        }
        "cpu" => {
            let (sys, user) = cpu_times();
            let _ = write!(
                out,
                "used_cpu_sys:{sys:.6}\nused_cpu_user:{user:.6}\nused_cpu_sys_children:0.000000\nused_cpu_user_children:0.000000\n"
            );
        }
        "cluster" => {
            let _ = writeln!(out, "cluster_enabled:{}", s.node.topology.is_some() as u8);
        }
        "migration" => {
            for j in s.node.migrations.lock().iter() {
                let raw = j.raw_bytes.load(Ordering::Relaxed);
                let wire = j.wire_bytes.load(Ordering::Relaxed);
                let secs = j.started.elapsed().as_secs_f64().max(0.001);
                let state = j.state.lock().clone();
                let _ = writeln!(
                    out,
                    "job_{}:slots={}-{},destination={},state={},phase={},keys={},raw_bytes={},wire_bytes={},compression_ratio={:.2},chunks={},retransmits={},chunk_size={},rate_bytes_per_sec={},eta_seconds={},write_pause_ms={},streams={},inflight_bytes={}",
                    j.job_id,
                    j.first,
                    j.last,
                    j.dst_id,
                    state.name(),
                    *j.phase.lock(),
                    j.keys.load(Ordering::Relaxed),
                    raw,
                    wire,
                    if wire == 0 { 1.0 } else { raw as f64 / wire as f64 },
                    j.chunks.load(Ordering::Relaxed),
                    j.retransmits.load(Ordering::Relaxed),
                    j.chunk_size.load(Ordering::Relaxed),
                    (wire as f64 / secs) as u64,
                    j.eta_seconds(),
                    j.pause_ms.load(Ordering::Relaxed),
                    j.plan.lock().streams(),
                    j.inflight_bytes.load(Ordering::Relaxed),
                );
            }
            for (id, imp) in s.node.imports.all() {
                let _ = writeln!(
                    out,
                    "import_{}:slots={}-{},source={},state=importing,chunks={},mode={},ingested_files={}",
                    id,
                    imp.scope.first,
                    imp.scope.last,
                    imp.src_id,
                    imp.chunks,
                    imp.mode.name(),
                    imp.ingested_files
                );
            }
        }
        "keyspace" => {
            let estimate = s
                .node
                .storage
                .property_int(Cf::Metadata, "rocksdb.estimate-num-keys")
                .unwrap_or(0);
            let (keys, expires) = if estimate < EXACT_COUNT_LIMIT {
                ctx.db().count_keys().unwrap_or((estimate, 0))
            } else if ctx.session.admin {
                (estimate, 0)
            } else {
                // The estimate covers every namespace: not a namespace
                // user's business. DBSIZE counts its own keys.
                (0, 0)
            };
            if keys > 0 {
                let _ = writeln!(out, "db0:keys={keys},expires={expires},avg_ttl=0");
            }
        }
        "rocksdb" => {
            let totals = s.node.storage.op_totals();
            let rates = s.stats.storage_rates(totals);
            let _ = write!(
                out,
                "put_per_sec:{}\nget_per_sec:{}\nseek_per_sec:{}\nnext_per_sec:{}\n",
                rates.put, rates.get, rates.seek, rates.next
            );
            // Running totals, so a test can count what one command cost.
            let _ = write!(
                out,
                "put_total:{}\nget_total:{}\nseek_total:{}\nnext_total:{}\nprev_total:{}\ncompact_write_bytes_total:{}\n",
                totals.put, totals.get, totals.seek, totals.next, totals.prev, totals.compact_write_bytes
            );
            for cf in Cf::ALL {
                for prop in [
                    "rocksdb.estimate-num-keys",
                    "rocksdb.cur-size-all-mem-tables",
                    "rocksdb.num-live-versions",
                    "rocksdb.estimate-live-data-size",
                    "rocksdb.num-running-compactions",
                    "rocksdb.num-running-flushes",
                    "rocksdb.block-cache-usage",
                ] {
                    let v = s.node.storage.property_int(cf, prop).unwrap_or(0);
                    let field = prop.trim_start_matches("rocksdb.").replace('-', "_");
                    let _ = writeln!(out, "{}[{}]:{}", field, cf.name(), v);
                }
            }
        }
        _ => {}
    }
}

fn capitalise(s: &str) -> String {
    match s {
        "cpu" => "CPU".into(),
        "rocksdb" => "RocksDB".into(),
        "migration" => "Migration".into(),
        _ => {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

/// INFO [section ...]
pub fn info(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let wanted: Vec<String> = args[1..].iter().map(|a| lower(a)).collect();
    let all = wanted.is_empty()
        || wanted
            .iter()
            .any(|w| w == "all" || w == "everything" || w == "default");
    let mut out = String::new();
    for name in SECTIONS {
        if all || wanted.iter().any(|w| w == name) {
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            section(ctx, name, &mut out);
        }
    }
    Ok(Reply::Verbatim(
        out.replace("\r\n", "\n").replace('\n', "\r\n"),
    ))
}
