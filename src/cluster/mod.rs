//! Cluster support: slot math (used by the key encoding in every mode) and
//! the topology pushed by an operator or controller.

pub mod slot;
pub mod topology;
