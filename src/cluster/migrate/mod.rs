//! Slot migration by streaming raw `WriteBatch` chunks (see DESIGN.md).
//! So far: the wire frame (the batch record reader is
//! [`crate::storage::records`]); the job runner, the importer and the
//! operator commands follow.

pub mod by_command;
pub mod frame;
pub mod job;
pub mod link;
pub mod snapshot;
pub mod wal;
