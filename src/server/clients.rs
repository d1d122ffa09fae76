//! The registry of connected clients, read by CLIENT LIST/KILL and INFO.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::Notify;

/// What other tasks may see of a connection.
pub struct ClientShared {
    /// Unique client id (CLIENT ID).
    pub id: u64,
    /// Peer address `ip:port`.
    pub addr: String,
    /// Local address `ip:port`.
    pub laddr: String,
    /// The socket's file descriptor.
    pub fd: i32,
    /// When the connection was accepted.
    pub created: Instant,
    /// Milliseconds since `created` at the last command.
    pub last_active_ms: AtomicU64,
    /// CLIENT SETNAME.
    pub name: Mutex<String>,
    /// CLIENT SETINFO LIB-NAME / LIB-VER.
    pub lib: Mutex<(String, String)>,
    /// Index of the last command in the command table.
    pub last_cmd: AtomicUsize,
    /// Protocol version (2 or 3).
    pub resp: AtomicU8,
    /// Namespace the client works in.
    pub namespace: Mutex<String>,
    /// Bytes waiting in the read buffer.
    pub qbuf: AtomicUsize,
    /// Bytes waiting in the output buffer.
    pub omem: AtomicUsize,
    /// Set when CLIENT KILL or shutdown asks the connection to close.
    pub killed: AtomicBool,
    /// Wakes the connection task when `killed` is set.
    pub kill_notify: Notify,
}

impl ClientShared {
    /// Asks the connection to close as soon as it can.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill_notify.notify_one();
    }

    /// Seconds since the last command.
    pub fn idle_secs(&self) -> u64 {
        let now = self.created.elapsed().as_millis() as u64;
        now.saturating_sub(self.last_active_ms.load(Ordering::Relaxed)) / 1000
    }

    /// Records activity now.
    pub fn touch(&self) {
        self.last_active_ms
            .store(self.created.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

/// All connected clients.
#[derive(Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientShared>>>,
}

impl ClientRegistry {
    /// Registers a new connection and returns its shared record.
    pub fn register(&self, addr: String, laddr: String, fd: i32) -> Arc<ClientShared> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let c = Arc::new(ClientShared {
            id,
            addr,
            laddr,
            fd,
            created: Instant::now(),
            last_active_ms: AtomicU64::new(0),
            name: Mutex::new(String::new()),
            lib: Mutex::new((String::new(), String::new())),
            last_cmd: AtomicUsize::new(usize::MAX),
            resp: AtomicU8::new(2),
            namespace: Mutex::new(String::new()),
            qbuf: AtomicUsize::new(0),
            omem: AtomicUsize::new(0),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
        });
        self.clients.lock().insert(id, c.clone());
        c
    }

    /// Removes a closed connection.
    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// Number of connected clients.
    pub fn count(&self) -> usize {
        self.clients.lock().len()
    }

    /// A snapshot of all clients, ordered by id.
    pub fn all(&self) -> Vec<Arc<ClientShared>> {
        self.clients.lock().values().cloned().collect()
    }

    /// Asks every client to close.
    pub fn kill_all(&self) {
        for c in self.all() {
            c.kill();
        }
    }
}
