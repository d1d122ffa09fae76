//! The cluster topology pushed by an operator or controller (kvrocks
//! `CLUSTERX SETNODES`): nodes, their slot ranges and a version.

use thiserror::Error;

use super::slot::SLOT_COUNT;

/// Why a topology change was refused; texts follow kvrocks.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TopologyError {
    /// A node id that is not 40 characters long.
    #[error("Invalid cluster node id")]
    InvalidNodeId,
    /// A slot number or range outside 0..16383 or reversed.
    #[error("Slot is out of range")]
    SlotOutOfRange,
    /// A node id where a slot range was expected: two node lines were run
    /// together.
    #[error("Invalid nodes definition: Missing newline between node entries.")]
    MissingNewline,
    /// A port that is not a number in 1..65535.
    #[error("Invalid cluster node port")]
    InvalidPort,
    /// A role other than master, slave or replica.
    #[error("Invalid cluster node role")]
    InvalidRole,
    /// A host that is empty or holds whitespace, control characters or NUL.
    #[error("Invalid cluster node host")]
    InvalidHost,
    /// A version that is not newer than the current one (or not current+1).
    #[error("Invalid cluster version")]
    InvalidVersion,
    /// A malformed node line.
    #[error("Invalid cluster nodes info: {0}")]
    InvalidNodes(String),
    /// No node lines at all, a line with fewer than five fields, or a
    /// slave line with slots (kvrocks's text).
    #[error("Invalid cluster nodes info")]
    InvalidNodesInfo,
    /// The same slot given to two nodes.
    #[error("Slot distribution is overlapped")]
    SlotUsed(u16),
    /// A node id that is not in the topology.
    #[error("No such node: {0}")]
    UnknownNode(String),
    /// This node has no id yet / no topology yet.
    #[error("CLUSTERDOWN The cluster is not initialized")]
    NotInitialized,
}

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Owns slots.
    Master,
    /// Replicates a master.
    Slave,
}

/// One node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// 40-hex node id.
    pub id: String,
    /// Address clients connect to.
    pub host: String,
    /// Port clients connect to.
    pub port: u16,
    /// Master or slave.
    pub role: Role,
    /// For slaves, the master's id.
    pub master_id: Option<String>,
    /// Inclusive slot ranges, sorted.
    pub slots: Vec<(u16, u16)>,
}

impl Node {
    /// `host:port`.
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Length of a node id.
pub const NODE_ID_LEN: usize = 40;

/// True when `id` is a valid node id. kvrocks checks the length only (40
/// bytes); tools generate ids from `[A-Za-z0-9]`, so case is kept as given.
/// Whitespace and control characters are refused as well, since they would
/// break the lines of CLUSTER NODES and nodes.conf.
pub fn valid_node_id(id: &str) -> bool {
    id.len() == NODE_ID_LEN && id.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

/// True when `host` can stand in a node line: not empty, no whitespace, no
/// control characters (NUL included).
pub fn valid_host(host: &str) -> bool {
    !host.is_empty() && host.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

/// Parses `a-b` or `a` into an inclusive range.
pub fn parse_slot_range(text: &str) -> Result<(u16, u16), TopologyError> {
    let parse = |s: &str| -> Result<u16, TopologyError> {
        let n: i64 = s
            .trim()
            .parse()
            .map_err(|_| TopologyError::SlotOutOfRange)?;
        if !(0..SLOT_COUNT as i64).contains(&n) {
            return Err(TopologyError::SlotOutOfRange);
        }
        Ok(n as u16)
    };
    let (a, b) = match text.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let a = parse(text)?;
            (a, a)
        }
    };
    if a > b {
        return Err(TopologyError::SlotOutOfRange);
    }
    Ok((a, b))
}

/// The nodes and who owns which slot.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Version; -1 before any SETNODES.
    pub version: i64,
    /// All nodes, masters and slaves.
    pub nodes: Vec<Node>,
    /// Index into `nodes` of each slot's owner.
    owner: Vec<Option<u16>>,
}

impl Default for Topology {
    fn default() -> Self {
        Topology {
            version: -1,
            nodes: Vec::new(),
            owner: vec![None; SLOT_COUNT as usize],
        }
    }
}

impl Topology {
    /// Parses the SETNODES text: one node per line,
    /// `<id> <host> <port> master|slave <master-id|-> [slot ranges...]`.
    pub fn parse(text: &str, version: i64) -> Result<Topology, TopologyError> {
        let mut topo = Topology {
            version,
            ..Topology::default()
        };
        for line in text.split('\n').map(|l| l.trim_matches([' ', '\r', '\t'])) {
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
            if fields.len() < 5 {
                return Err(TopologyError::InvalidNodesInfo);
            }
            let id = fields[0].to_string();
            if !valid_node_id(&id) {
                return Err(TopologyError::InvalidNodeId);
            }
            if !valid_host(fields[1]) {
                return Err(TopologyError::InvalidHost);
            }
            if topo.nodes.iter().any(|n| n.id == id) {
                return Err(TopologyError::InvalidNodes(format!(
                    "duplicate node id {id}"
                )));
            }
            let port: u16 = fields[2]
                .parse()
                .ok()
                .filter(|p| *p > 0)
                .ok_or(TopologyError::InvalidPort)?;
            let role = match fields[3].to_ascii_lowercase().as_str() {
                "master" => Role::Master,
                "slave" | "replica" => Role::Slave,
                _ => return Err(TopologyError::InvalidRole),
            };
            let master_id = match (role, fields[4]) {
                (Role::Master, "-") => None,
                (Role::Master, _) => return Err(TopologyError::InvalidNodeId),
                (Role::Slave, m) if valid_node_id(m) => Some(m.to_string()),
                (Role::Slave, _) => return Err(TopologyError::InvalidNodeId),
            };
            let mut slots = Vec::new();
            for r in &fields[5..] {
                if r.len() == NODE_ID_LEN && !r.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
                    return Err(TopologyError::MissingNewline);
                }
                slots.push(parse_slot_range(r)?);
            }
            if role == Role::Slave && !slots.is_empty() {
                return Err(TopologyError::InvalidNodesInfo);
            }
            let index = topo.nodes.len() as u16;
            for &(a, b) in &slots {
                for s in a..=b {
                    if topo.owner[s as usize].is_some() {
                        return Err(TopologyError::SlotUsed(s));
                    }
                    topo.owner[s as usize] = Some(index);
                }
            }
            topo.nodes.push(Node {
                id,
                host: fields[1].to_string(),
                port,
                role,
                master_id,
                slots: Vec::new(),
            });
        }
        topo.rebuild_ranges();
        Ok(topo)
    }

    /// Recomputes each node's sorted slot ranges from the owner map.
    fn rebuild_ranges(&mut self) {
        for n in &mut self.nodes {
            n.slots.clear();
        }
        let mut s = 0usize;
        while s < SLOT_COUNT as usize {
            let Some(owner) = self.owner[s] else {
                s += 1;
                continue;
            };
            let start = s;
            while s + 1 < SLOT_COUNT as usize && self.owner[s + 1] == Some(owner) {
                s += 1;
            }
            self.nodes[owner as usize]
                .slots
                .push((start as u16, s as u16));
            s += 1;
        }
    }

    /// The node owning `slot`, if any.
    pub fn owner(&self, slot: u16) -> Option<&Node> {
        self.owner
            .get(slot as usize)
            .copied()
            .flatten()
            .and_then(|i| self.nodes.get(i as usize))
    }

    /// Looks a node up by id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Gives slots `[a, b]` to node `id` (which must exist).
    pub fn assign(&mut self, a: u16, b: u16, id: &str) -> Result<(), TopologyError> {
        let index = self
            .nodes
            .iter()
            .position(|n| n.id == id)
            .ok_or_else(|| TopologyError::UnknownNode(id.to_string()))?;
        for s in a..=b {
            self.owner[s as usize] = Some(index as u16);
        }
        self.rebuild_ranges();
        Ok(())
    }

    /// Removes the owner of slots `[a, b]`.
    pub fn unassign(&mut self, a: u16, b: u16) {
        for s in a..=b {
            self.owner[s as usize] = None;
        }
        self.rebuild_ranges();
    }

    /// Adds a node if its id is new (used by hand-built clusters).
    pub fn add_node(&mut self, node: Node) {
        if self.node(&node.id).is_none() {
            self.nodes.push(node);
        }
    }

    /// Number of slots with an owner.
    pub fn assigned_slots(&self) -> usize {
        self.owner.iter().filter(|o| o.is_some()).count()
    }

    /// Renders the SETNODES text (used to persist the topology).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            out.push_str(&format!(
                "{} {} {} {} {}",
                n.id,
                n.host,
                n.port,
                if n.role == Role::Master {
                    "master"
                } else {
                    "slave"
                },
                n.master_id.as_deref().unwrap_or("-")
            ));
            for (a, b) in &n.slots {
                if a == b {
                    out.push_str(&format!(" {a}"));
                } else {
                    out.push_str(&format!(" {a}-{b}"));
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn parse_and_render() {
        let text = format!("{A} 127.0.0.1 7000 master - 0-100 200\n{B} 127.0.0.1 7001 master - 101-199 201-16383\n");
        let t = Topology::parse(&text, 1).unwrap();
        assert_eq!(t.owner(150).unwrap().id, B);
        assert_eq!(t.owner(200).unwrap().id, A);
        assert_eq!(t.assigned_slots(), 16384);
        assert_eq!(
            Topology::parse(&t.to_text(), 1).unwrap().to_text(),
            t.to_text()
        );
    }

    #[test]
    fn bad_input() {
        assert_eq!(
            Topology::parse("xyz 127.0.0.1 7000 master -", 1).unwrap_err(),
            TopologyError::InvalidNodeId
        );
        assert_eq!(
            Topology::parse(&format!("{A} 127.0.0.1 7000 master - 0-16384"), 1).unwrap_err(),
            TopologyError::SlotOutOfRange
        );
        assert_eq!(
            Topology::parse(&format!("{A} h 1 master - 5\n{B} h 2 master - 5"), 1).unwrap_err(),
            TopologyError::SlotUsed(5)
        );
        assert!(Topology::parse(&format!("{A} h 1 master"), 1).is_err());
    }

    #[test]
    fn ids_are_any_40_characters_kept_as_given() {
        let mixed = "vQ1qtzlEFS0et4D09XkANfwa1aRvFlx4z8xtuDO9";
        let t = Topology::parse(
            &format!("{mixed} h 1 master - 0-16383\n{B} h 2 slave {mixed}"),
            1,
        )
        .unwrap();
        assert_eq!(t.owner(5).unwrap().id, mixed);
        assert_eq!(t.node(B).unwrap().master_id.as_deref(), Some(mixed));
        assert!(t.node(&mixed.to_ascii_lowercase()).is_none());
        assert!(valid_node_id(mixed));
        assert!(!valid_node_id(&mixed[1..]));
        assert!(!valid_node_id(&format!("{} ", &mixed[1..])));
        assert!(!valid_node_id(&format!("{}\0", &mixed[1..])));
    }

    #[test]
    fn kvrocks_texts_for_bad_lines() {
        assert_eq!(
            Topology::parse(
                &format!("{A} h 1 master - 0-100 {B} h 2 master - 101-200"),
                1
            )
            .unwrap_err()
            .to_string(),
            "Invalid nodes definition: Missing newline between node entries."
        );
        for host in ["h\0", "h\x01x", "\x7f"] {
            assert_eq!(
                Topology::parse(&format!("{A} {host} 1 master - 0"), 1).unwrap_err(),
                TopologyError::InvalidHost,
                "{host:?}"
            );
        }
        assert_eq!(
            Topology::parse(&format!("{A} h 0 master - 0"), 1).unwrap_err(),
            TopologyError::InvalidPort
        );
        assert_eq!(
            Topology::parse(&format!("{A} h 1 boss - 0"), 1).unwrap_err(),
            TopologyError::InvalidRole
        );
        assert_eq!(
            Topology::parse(&format!("{A} h 1 slave {B} 5"), 1).unwrap_err(),
            TopologyError::InvalidNodesInfo
        );
    }
}
