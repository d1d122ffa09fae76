//! Command errors, each rendering to the exact text Redis replies with.

use thiserror::Error;

use crate::types::TypeError;

/// Why a command failed; the display text is the RESP error line.
#[derive(Debug, Error)]
pub enum CmdError {
    /// Wrong number of arguments for the named command.
    #[error("ERR wrong number of arguments for '{0}' command")]
    Arity(String),
    /// A generic syntax error.
    #[error("ERR syntax error")]
    Syntax,
    /// An argument that must be an integer is not one.
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    /// An argument that must be a float is not one.
    #[error("ERR value is not a valid float")]
    NotFloat,
    /// An expire time that is negative or overflows.
    #[error("ERR invalid expire time in '{0}' command")]
    InvalidExpire(String),
    /// An unknown subcommand.
    #[error("ERR unknown subcommand '{0}'. Try {1} HELP.")]
    UnknownSubcommand(String, String),
    /// A client that has not authenticated yet.
    #[error("NOAUTH Authentication required.")]
    NoAuth,
    /// A command reserved for the administrator token.
    #[error("ERR {0}")]
    NoPermission(String),
    /// Any other error with its full text (code included).
    #[error("{0}")]
    Other(String),
    /// A data-type failure.
    #[error("{0}")]
    Type(#[from] TypeError),
}

impl CmdError {
    /// An `ERR ...` error with the given message.
    pub fn err(msg: impl std::fmt::Display) -> CmdError {
        CmdError::Other(format!("ERR {msg}"))
    }
}

impl From<crate::storage::StorageError> for CmdError {
    fn from(e: crate::storage::StorageError) -> Self {
        CmdError::Type(TypeError::Storage(e))
    }
}

/// What a command handler returns.
pub type CmdResult = Result<crate::protocol::Reply, CmdError>;
