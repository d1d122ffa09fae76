//! Destination side of slot migration. So far: checking and rebuilding the
//! chunks a source sends, and applying each exactly once with its
//! checkpoint; the network importer that drives them follows.

pub mod apply;
pub mod validate;
