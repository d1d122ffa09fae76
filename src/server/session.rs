//! Per-connection state that commands read and change: namespace,
//! authentication, protocol version, reply mode.

use std::sync::Arc;

use super::clients::ClientShared;
use crate::storage::folded::FoldedWrites;

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// Normal.
    On,
    /// No replies until ON.
    Off,
    /// Skip the next reply only.
    Skip,
    /// The SKIP is armed for the command after CLIENT REPLY SKIP.
    SkipNext,
}

/// Commands queued between MULTI and EXEC.
#[derive(Debug, Default)]
pub struct MultiState {
    /// The queued requests, in order.
    pub queue: Vec<Vec<bytes::Bytes>>,
    /// Set when a queued command was refused: EXEC will abort.
    pub dirty: bool,
}

/// The connection's own state.
pub struct Session {
    /// What the registry sees of this client.
    pub shared: Arc<ClientShared>,
    /// Namespace bytes used as the key prefix (empty = default namespace).
    pub namespace: Vec<u8>,
    /// True after a successful AUTH (or when no password is needed).
    pub authenticated: bool,
    /// True when authenticated with requirepass (may run admin commands).
    pub admin: bool,
    /// RESP version chosen with HELLO.
    pub resp: u8,
    /// CLIENT REPLY state.
    pub reply_mode: ReplyMode,
    /// Close the connection once the current reply is written (QUIT).
    pub close_after_reply: bool,
    /// ASKING was sent: the next command may use an importing slot.
    pub asking: bool,
    /// READONLY was sent (accepted; replicas do not serve reads yet).
    pub readonly: bool,
    /// The open transaction, between MULTI and EXEC/DISCARD.
    pub multi: Option<MultiState>,
    /// Pipelined blind writes waiting to be applied as one batch.
    pub folded: FoldedWrites,
    /// Set when applying folded writes failed: replies already encoded
    /// for them must not be sent, so the connection closes.
    pub write_failed: bool,
}

/// The default namespace's name, as kvrocks calls it.
pub const DEFAULT_NAMESPACE: &str = "__namespace";

impl Session {
    /// A fresh session; `auth_required` comes from requirepass.
    pub fn new(shared: Arc<ClientShared>, auth_required: bool) -> Session {
        if !auth_required {
            // Without a password every client is the administrator in the
            // default namespace; otherwise AUTH decides.
            *shared.namespace.lock() = DEFAULT_NAMESPACE.to_string();
        }
        Session {
            shared,
            namespace: Vec::new(),
            authenticated: !auth_required,
            admin: !auth_required,
            resp: 2,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            asking: false,
            readonly: false,
            multi: None,
            folded: FoldedWrites::default(),
            write_failed: false,
        }
    }

    /// Applies folded writes; on failure marks the session so that no
    /// reply is sent for them. Returns false on failure.
    pub fn apply_folded(&mut self, storage: &crate::storage::Storage) -> bool {
        if let Err(e) = storage.apply_folded(&mut self.folded) {
            tracing::error!("applying pipelined writes failed: {}", e);
            self.write_failed = true;
            return false;
        }
        true
    }

    /// The namespace name shown to users.
    pub fn namespace_name(&self) -> String {
        if self.namespace.is_empty() {
            DEFAULT_NAMESPACE.to_string()
        } else {
            String::from_utf8_lossy(&self.namespace).into_owned()
        }
    }
}
