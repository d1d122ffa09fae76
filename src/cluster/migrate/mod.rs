//! Slot migration by streaming raw `WriteBatch` chunks (see DESIGN.md).
//! This is the source side: the job runner, its link, the snapshot and WAL
//! readers, the wire frame and what a job persists to survive a restart.
//! The destination side is [`crate::cluster::import`].

pub mod by_command;
pub mod frame;
pub mod job;
pub mod key_parts;
pub mod link;
pub mod plan;
pub mod record;
pub mod rendezvous;
pub mod snapshot;
pub mod stream;
pub mod wal;
