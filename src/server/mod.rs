//! The server: shared state, the accept loop and graceful shutdown.

pub mod clients;
pub mod connection;
pub mod cursors;
pub mod pause;
pub mod session;
pub mod slowlog;
pub mod stats;
pub mod workers;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::cluster::node::NodeHandle;
use crate::cluster::state::ClusterState;
use crate::commands::CommandTable;
use crate::config::Config;
use crate::storage::{Storage, StorageError};
use clients::ClientRegistry;
use cursors::CursorTable;
use slowlog::SlowLog;
use stats::Stats;

/// Why the server could not start or stopped badly.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The cluster state file is damaged.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::state::StateError),
    /// The storage engine failed to open or flush.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The connection worker threads could not be started.
    #[error(transparent)]
    Workers(#[from] workers::PoolError),
    /// A listen address could not be bound.
    #[error("could not listen on {0}: {1}")]
    Bind(String, std::io::Error),
}

/// Settings read on every command, cached in atomics so the hot path does
/// not take the config lock.
#[derive(Default)]
pub struct HotSettings {
    /// proto-max-bulk-len.
    pub max_bulk_len: AtomicI64,
    /// timeout (seconds, 0 = never).
    pub timeout_secs: AtomicU64,
    /// maxclients.
    pub maxclients: AtomicU64,
    /// slowlog-log-slower-than (microseconds, negative disables).
    pub slowlog_slower_than: AtomicI64,
    /// slowlog-max-len.
    pub slowlog_max_len: AtomicU64,
    /// client-output-buffer-limit-bytes.
    pub output_limit: AtomicU64,
    /// True when requirepass is set.
    pub auth_required: AtomicBool,
    /// client-query-buffer-limit (bytes).
    pub query_buffer_limit: AtomicU64,
    /// txn-context-enabled: multi-key reads use one snapshot.
    pub txn_context: AtomicBool,
}

impl HotSettings {
    /// Refreshes the cache from the config.
    pub fn load(&self, cfg: &Config) {
        self.max_bulk_len
            .store(cfg.int("proto-max-bulk-len"), Ordering::Relaxed);
        self.timeout_secs
            .store(cfg.int("timeout") as u64, Ordering::Relaxed);
        self.maxclients
            .store(cfg.int("maxclients") as u64, Ordering::Relaxed);
        self.slowlog_slower_than
            .store(cfg.int("slowlog-log-slower-than"), Ordering::Relaxed);
        self.slowlog_max_len
            .store(cfg.int("slowlog-max-len") as u64, Ordering::Relaxed);
        self.output_limit.store(
            cfg.int("client-output-buffer-limit-bytes") as u64,
            Ordering::Relaxed,
        );
        self.auth_required
            .store(!cfg.get("requirepass").is_empty(), Ordering::Relaxed);
        self.txn_context
            .store(cfg.bool("txn-context-enabled"), Ordering::Relaxed);
        self.query_buffer_limit.store(
            cfg.int("client-query-buffer-limit") as u64,
            Ordering::Relaxed,
        );
    }
}

/// Everything the connections share.
pub struct Server {
    /// The configuration in force.
    pub config: Arc<RwLock<Config>>,
    /// Cached hot settings.
    pub hot: HotSettings,
    /// The command table (with renames applied).
    pub commands: CommandTable,
    /// Connected clients.
    pub clients: ClientRegistry,
    /// Counters.
    pub stats: Stats,
    /// The slow log.
    pub slowlog: Mutex<SlowLog>,
    /// SCAN cursors.
    pub cursors: CursorTable,
    /// When the server started.
    pub started: Instant,
    /// The port actually listened on.
    pub port: u16,
    /// Held shared by every command and exclusively by EXEC, so a
    /// transaction's commands run with nothing interleaved.
    pub txn_lock: RwLock<()>,
    /// The storage, cluster state, slot gates and migration and import
    /// registries: what slot migration and import use, handed down to
    /// them; the server reaches them through it too.
    pub node: NodeHandle,
    /// CLIENT PAUSE state.
    pub pauses: pause::PauseTable,
    /// The threads that serve connections (`workers`).
    pub workers: workers::WorkerPools,
    shutdown_tx: watch::Sender<bool>,
}

impl Server {
    /// Opens storage and builds the shared state.
    pub fn new(cfg: Config) -> Result<Server, ServerError> {
        let storage = Storage::open(&cfg)?;
        let workers = workers::WorkerPools::start(workers::threads_for(cfg.int("workers")))?;
        let hot = HotSettings::default();
        hot.load(&cfg);
        let commands = CommandTable::new(&cfg.rename_commands);
        let (shutdown_tx, _) = watch::channel(false);
        let cluster = if cfg.bool("cluster-enabled") {
            Some(ClusterState::load(
                std::path::Path::new(cfg.get("dir")),
                cfg.bool("persist-cluster-nodes-enabled"),
            )?)
        } else {
            None
        };
        let port = cfg.int("port") as u16;
        let config = Arc::new(RwLock::new(cfg));
        let node = NodeHandle::new(storage, cluster, config.clone());
        Ok(Server {
            txn_lock: RwLock::new(()),
            pauses: Default::default(),
            workers,
            node,
            port,
            config,
            hot,
            commands,
            clients: ClientRegistry::default(),
            stats: Stats::default(),
            slowlog: Mutex::new(SlowLog::default()),
            cursors: CursorTable::default(),
            started: Instant::now(),
            shutdown_tx,
        })
    }

    /// The key prefixes of every namespace this node knows (the default
    /// one is empty), sorted: what a slot range covers.
    pub fn namespace_prefixes(&self) -> Vec<Vec<u8>> {
        self.node.settings.namespace_prefixes()
    }

    /// The password this node presents to other nodes of the cluster
    /// (slot migration links and requests): `masterauth`, else
    /// `requirepass`; none when both are empty.
    pub fn peer_password(&self) -> Option<String> {
        self.node.settings.peer_password()
    }

    /// Starts a graceful shutdown (SHUTDOWN, SIGTERM, SIGINT).
    pub fn request_shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
    }

    /// A receiver that turns true when shutdown starts.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown_tx.subscribe()
    }

    /// True once shutdown has started.
    pub fn shutting_down(&self) -> bool {
        *self.shutdown_tx.borrow()
    }
}

/// Binds the listeners, serves until shutdown, then drains connections and
/// flushes storage.
pub async fn run(server: Arc<Server>) -> Result<(), ServerError> {
    // Before any client is accepted: a job caught in its cut-over must
    // pause its slots first.
    crate::cluster::migrate::resume::resume_all(&server.node);
    let binds = server.config.read().binds();
    let mut listeners = Vec::new();
    for addr in binds {
        let full = if addr.contains(':') && !addr.starts_with('[') {
            format!("[{}]:{}", addr, server.port)
        } else {
            format!("{}:{}", addr, server.port)
        };
        let l = TcpListener::bind(&full)
            .await
            .map_err(|e| ServerError::Bind(full.clone(), e))?;
        info!("listening on {}", full);
        listeners.push(l);
    }
    info!("Ready to accept connections");
    let mut tasks = Vec::new();
    for l in listeners {
        tasks.push(tokio::spawn(accept_loop(server.clone(), l)));
    }
    let mut signal = server.shutdown_signal();
    let os_signal = wait_for_os_signal();
    tokio::select! {
        _ = signal.wait_for(|v| *v) => {}
        _ = os_signal => { info!("received a termination signal"); server.request_shutdown(); }
    }
    info!("shutting down: no new connections, finishing in-flight commands");
    for t in &tasks {
        t.abort();
    }
    server.clients.kill_all();
    let deadline = Instant::now() + Duration::from_secs(3);
    while server.clients.count() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if server.clients.count() > 0 {
        warn!(
            "{} connections still open at shutdown",
            server.clients.count()
        );
    }
    server.node.storage.flush()?;
    info!("storage flushed, bye");
    Ok(())
}

async fn wait_for_os_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        warn!("could not install signal handlers");
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

async fn accept_loop(server: Arc<Server>, listener: TcpListener) {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                warn!("accept failed: {}", e);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        Stats::incr(&server.stats.connections_received);
        server.workers.reap();
        // The socket moves to the worker pool's own reactor.
        let socket = match socket.into_std() {
            Ok(s) => s,
            Err(e) => {
                warn!("cannot hand a connection to the workers: {}", e);
                continue;
            }
        };
        let conn_server = server.clone();
        server.workers.spawn(async move {
            match tokio::net::TcpStream::from_std(socket) {
                Ok(socket) => connection::serve(conn_server, socket, peer).await,
                Err(e) => warn!("cannot register a connection: {}", e),
            }
        });
    }
}
