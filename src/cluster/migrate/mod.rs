//! Slot migration by streaming raw `WriteBatch` chunks (see DESIGN.md).
//! This is the source side: the job driver ([`job`]) and its phases
//! ([`stream`] with [`snapshot_copy`] and [`wal_ship`], [`handoff`],
//! [`resume`]), its link, the snapshot and WAL readers, the wire frame and
//! what a job persists to survive a restart. It works through a
//! [`crate::cluster::node::NodeHandle`], never the server.
//! The destination side is [`crate::cluster::import`].

pub mod by_command;
pub mod frame;
pub mod handoff;
pub mod job;
pub mod key_parts;
pub mod link;
pub mod plan;
pub mod record;
pub mod rendezvous;
pub mod resume;
pub mod snapshot;
pub mod snapshot_copy;
pub mod status;
pub mod stream;
pub mod wal;
pub mod wal_ship;
