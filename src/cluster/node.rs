//! The narrow handle slot migration and import work with: the parts of
//! this node they use (storage, topology, slot gates, settings and the job
//! registries), and nothing else. The server owns the parts (shared through
//! `Arc`s) and passes the handle down, so `cluster` never reaches up into
//! `server` and a migration can run, and be tested, without a server.

use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::gates::SlotGates;
use super::import::ImportRegistry;
use super::migrate::link::LinkSettings;
use super::migrate::status::MigrationStatus;
use super::state::ClusterState;
use crate::config::Config;
use crate::storage::Storage;

/// Slot migration jobs started on this node (source side).
pub type Migrations = Mutex<Vec<Arc<MigrationStatus>>>;

/// What slot migration and import need of this node. Cheap to clone (every
/// part is shared); a job's thread holds a clone of its own.
#[derive(Clone)]
pub struct NodeHandle {
    /// The storage engine.
    pub storage: Arc<Storage>,
    /// This node's cluster state (topology, MIGRATING marks, paused slots);
    /// `None` when `cluster-enabled no`.
    pub topology: Option<Arc<RwLock<ClusterState>>>,
    /// Per-slot gates that keep writers out while keys move.
    pub slot_gates: Arc<SlotGates>,
    /// Read access to the settings in force.
    pub settings: Settings,
    /// Slot migration jobs started on this node (source side).
    pub migrations: Arc<Migrations>,
    /// Slot imports running on this node (destination side).
    pub imports: Arc<ImportRegistry>,
}

impl NodeHandle {
    /// A handle over `storage`, the cluster state `topology` (`None` when
    /// cluster mode is off) and `config` (shared with its owner), with
    /// empty slot gates and job registries.
    pub fn new(
        storage: Storage,
        topology: Option<ClusterState>,
        config: Arc<RwLock<Config>>,
    ) -> NodeHandle {
        NodeHandle {
            storage: Arc::new(storage),
            topology: topology.map(|t| Arc::new(RwLock::new(t))),
            slot_gates: Arc::default(),
            settings: Settings::new(config),
            migrations: Arc::default(),
            imports: Arc::default(),
        }
    }

    /// A cluster-mode handle on default settings over a fresh temporary
    /// storage, for unit tests of migration and import.
    #[cfg(test)]
    pub fn open_temp() -> (tempfile::TempDir, NodeHandle) {
        let (dir, storage) = Storage::open_temp();
        let state = ClusterState::load(dir.path(), false).expect("cluster state");
        let config = Arc::new(RwLock::new(Config::default()));
        (dir, NodeHandle::new(storage, Some(state), config))
    }
}

/// Read access to the configuration, as migration and import use it. Every
/// read takes the value in force now, so `CONFIG SET` reaches running jobs.
#[derive(Clone)]
pub struct Settings {
    config: Arc<RwLock<Config>>,
}

impl Settings {
    /// Reads from `config` (shared with its owner, who may change it).
    pub fn new(config: Arc<RwLock<Config>>) -> Settings {
        Settings { config }
    }

    /// An integer setting.
    pub fn int(&self, name: &str) -> i64 {
        self.config.read().int(name)
    }

    /// A setting as text.
    pub fn text(&self, name: &str) -> String {
        self.config.read().get(name).to_string()
    }

    /// A yes/no setting.
    pub fn flag(&self, name: &str) -> bool {
        self.config.read().bool(name)
    }

    /// The key prefixes of every namespace this node knows (the default
    /// one is empty), sorted: what a slot range covers.
    pub fn namespace_prefixes(&self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = vec![Vec::new()];
        out.extend(
            self.config
                .read()
                .namespaces
                .keys()
                .map(|n| n.as_bytes().to_vec()),
        );
        out.sort();
        out.dedup();
        out
    }

    /// The password this node presents to other nodes of the cluster
    /// (slot migration links and requests): `masterauth`, else
    /// `requirepass`; none when both are empty.
    pub fn peer_password(&self) -> Option<String> {
        let cfg = self.config.read();
        let password = [cfg.get("masterauth"), cfg.get("requirepass")]
            .into_iter()
            .find(|p| !p.is_empty())
            .map(str::to_string);
        password
    }

    /// The link settings in force now (re-read for every chunk, so CONFIG
    /// SET reaches running jobs).
    pub fn link(&self) -> LinkSettings {
        let cfg = self.config.read();
        let min = (cfg.int("migrate-batch-size-min-kb").max(1) as usize) * 1024;
        LinkSettings {
            window: cfg.int("migrate-window").max(1) as usize,
            compress: cfg.get("migrate-compression") == "lz4",
            rate_limit: (cfg.int("migrate-batch-rate-limit-mb").max(0) as u64) << 20,
            min_chunk: min,
            max_chunk: ((cfg.int("migrate-batch-size-max-kb").max(1) as usize) * 1024).max(min),
            resume: cfg.bool("migrate-checkpoint"),
        }
    }
}
