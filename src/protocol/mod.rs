//! The wire protocol: request decoding and reply encoding.

pub mod reply;
pub mod request;

pub use reply::Reply;
pub use request::{Limits, ProtocolError, RequestDecoder};
