//! Cluster support: slot math (used by the key encoding in every mode), the
//! topology pushed by an operator or controller, this node's state and the
//! routing decision; migration (`migrate/`, source side) and import
//! (`import/`, destination side) work through a [`node::NodeHandle`].

pub mod gates;
pub mod import;
pub mod migrate;
pub mod node;
pub mod peer;
pub mod routing;
pub mod slot;
pub mod state;
pub mod topology;
