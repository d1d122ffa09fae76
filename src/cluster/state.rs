//! This node's view of the cluster: its id, the topology, the slots it is
//! migrating or importing, persisted in `nodes.conf` in the data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::topology::{valid_node_id, Node, Topology, TopologyError};

/// A problem reading `nodes.conf` at start-up.
#[derive(Debug, Error)]
pub enum StateError {
    /// The file exists but cannot be read.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// The file is damaged.
    #[error("{0}:{1}: {2}")]
    Corrupt(PathBuf, usize, String),
}

/// The cluster state of this node.
#[derive(Debug)]
pub struct ClusterState {
    /// This node's id (CLUSTERX SETNODEID).
    pub myid: Option<String>,
    /// The pushed topology.
    pub topology: Topology,
    /// Slots this node is handing to another node (Redis MIGRATING).
    pub migrating: BTreeMap<u16, String>,
    /// Slots this node is receiving from another node (Redis IMPORTING).
    pub importing: BTreeMap<u16, String>,
    /// Slots whose writes are paused during a migration's cut-over.
    pub paused: std::collections::BTreeSet<u16>,
    path: PathBuf,
    /// `persist-cluster-nodes-enabled`: when false, nothing is read from or
    /// written to `nodes.conf` and the controller pushes the topology again
    /// after a restart, as in kvrocks.
    persist: bool,
}

/// File name of the persisted state inside the data directory.
pub const NODES_FILE: &str = "nodes.conf";

impl ClusterState {
    /// Loads the state from `dir/nodes.conf`, or starts empty (always
    /// when `persist` is false).
    pub fn load(dir: &Path, persist: bool) -> Result<ClusterState, StateError> {
        let path = dir.join(NODES_FILE);
        let mut state = ClusterState {
            myid: None,
            topology: Topology::default(),
            migrating: BTreeMap::new(),
            importing: BTreeMap::new(),
            paused: Default::default(),
            path: path.clone(),
            persist,
        };
        if !persist {
            return Ok(state);
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(state),
            Err(e) => return Err(StateError::Io(path, e)),
        };
        let corrupt = |line: usize, why: String| StateError::Corrupt(path.clone(), line, why);
        let mut version = -1;
        let mut nodes = String::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "myid" if valid_node_id(rest) => state.myid = Some(rest.to_string()),
                "version" => {
                    version = rest
                        .parse()
                        .map_err(|_| corrupt(i + 1, "bad version".into()))?
                }
                "node" => {
                    nodes.push_str(rest);
                    nodes.push('\n');
                }
                "migrating" | "importing" => {
                    let (slot, id) = rest
                        .split_once(' ')
                        .ok_or_else(|| corrupt(i + 1, "expected '<slot> <node-id>'".into()))?;
                    let slot: u16 = slot
                        .parse()
                        .map_err(|_| corrupt(i + 1, "bad slot".into()))?;
                    let map = if key == "migrating" {
                        &mut state.migrating
                    } else {
                        &mut state.importing
                    };
                    map.insert(slot, id.to_string());
                }
                _ => return Err(corrupt(i + 1, format!("unexpected line '{line}'"))),
            }
        }
        state.topology = Topology::parse(&nodes, version).map_err(|e| corrupt(0, e.to_string()))?;
        Ok(state)
    }

    /// Turns persistence on or off at run time; turning it on writes the
    /// current state at once.
    pub fn set_persist(&mut self, persist: bool) -> std::io::Result<()> {
        self.persist = persist;
        self.save()
    }

    /// Writes the state atomically (temp file, fsync, rename); nothing
    /// when persistence is off.
    pub fn save(&self) -> std::io::Result<()> {
        if !self.persist {
            return Ok(());
        }
        let mut text =
            String::from("# ferrocks cluster state: written by the server, do not edit\n");
        if let Some(id) = &self.myid {
            text.push_str(&format!("myid {id}\n"));
        }
        text.push_str(&format!("version {}\n", self.topology.version));
        for line in self.topology.to_text().lines() {
            text.push_str(&format!("node {line}\n"));
        }
        for (slot, id) in &self.migrating {
            text.push_str(&format!("migrating {slot} {id}\n"));
        }
        for (slot, id) in &self.importing {
            text.push_str(&format!("importing {slot} {id}\n"));
        }
        crate::config::file::write_atomically(&self.path, &text)
    }

    /// This node's entry in the topology, if it has an id and is listed.
    pub fn me(&self) -> Option<&Node> {
        self.myid.as_deref().and_then(|id| self.topology.node(id))
    }

    /// True when this node owns `slot`.
    pub fn owns(&self, slot: u16) -> bool {
        match (self.topology.owner(slot), &self.myid) {
            (Some(n), Some(me)) => n.id == *me,
            _ => false,
        }
    }

    /// Replaces the topology (SETNODES), keeping kvrocks's version rules:
    /// an older version is refused, the version in force is accepted and
    /// changes nothing (so local ownership changes made by a finished slot
    /// move stay), a newer one replaces everything. `force` takes any
    /// version. Returns whether the topology changed.
    pub fn set_topology(&mut self, topo: Topology, force: bool) -> Result<bool, TopologyError> {
        if !force {
            if topo.version < self.topology.version {
                return Err(TopologyError::InvalidVersion);
            }
            if topo.version == self.topology.version {
                return Ok(false);
            }
        }
        self.replace_topology(topo);
        Ok(true)
    }

    /// Puts `topo` in force whatever its version, and closes the open
    /// migrations of slots whose ownership it settles.
    pub fn replace_topology(&mut self, topo: Topology) {
        self.topology = topo;
        self.settle_marks();
    }

    /// Drops IMPORTING marks of slots this node now owns and MIGRATING
    /// marks of slots it no longer owns.
    fn settle_marks(&mut self) {
        let myid = self.myid.clone();
        let topo = &self.topology;
        self.importing.retain(|s, _| {
            topo.owner(*s)
                .map(|n| Some(&n.id) != myid.as_ref())
                .unwrap_or(true)
        });
        self.migrating.retain(|s, _| {
            topo.owner(*s)
                .map(|n| Some(&n.id) == myid.as_ref())
                .unwrap_or(false)
        });
    }

    /// A finished slot move: slots `[first, last]` now belong to node
    /// `id`, as a local change (the topology version stays where the
    /// controller put it, as in kvrocks; the controller's next push with a
    /// higher version makes it official or replaces it). The caller
    /// persists the state.
    pub fn move_slots_locally(
        &mut self,
        first: u16,
        last: u16,
        id: &str,
    ) -> Result<(), TopologyError> {
        self.topology.assign(first, last, id)?;
        self.settle_marks();
        Ok(())
    }
}
