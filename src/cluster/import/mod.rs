//! Destination side of slot migration. So far: checking and rebuilding the
//! chunks a source sends; applying them with their checkpoint follows.

pub mod validate;
