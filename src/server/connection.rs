//! One client connection: read, decode, execute, reply, with bounded
//! buffers and backpressure.
//!
//! Backpressure is structural: the task does not read more input while it
//! holds more than the output limit of unwritten replies, so a client that
//! pipelines without reading stalls itself, not the server.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::{debug, warn};

use super::session::{ReplyMode, Session};
use super::stats::Stats;
use super::Server;
use crate::protocol::{Limits, Reply, RequestDecoder};

/// A read buffer starts this small and is given back to this size after a
/// large request, so idle connections stay cheap.
const INITIAL_READ_BUFFER: usize = 4 * 1024;
/// Largest read buffer kept while the connection is idle.
const KEEP_READ_BUFFER: usize = 16 * 1024;
/// How long a connection waits for more input before a bigger read buffer
/// is given back. A client sending big requests back to back (a migration
/// link's chunks) reuses one buffer instead of faulting in a fresh
/// allocation of the request's size for each one.
const RELEASE_READ_BUFFER_AFTER: Duration = Duration::from_millis(100);
/// Largest write buffer kept between replies.
const KEEP_WRITE_BUFFER: usize = 64 * 1024;
/// Largest single step when growing the read buffer for a big bulk.
const MAX_GROW_STEP: usize = 16 * 1024 * 1024;

/// How long, and how many bytes, a connection closed for a protocol error
/// keeps discarding its client's input so the error reply gets through.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Pre-encoded replies at least this big bypass the write buffer.
const DIRECT_WRITE: usize = 64 * 1024;

fn reply_len(pieces: &[bytes::Bytes]) -> usize {
    pieces.iter().map(bytes::Bytes::len).sum()
}

/// Serves one accepted socket until it closes, is killed, or the server
/// shuts down.
pub async fn serve(server: Arc<Server>, socket: TcpStream, peer: SocketAddr) {
    let _ = socket.set_nodelay(true);
    let laddr = socket
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let shared = server
        .clients
        .register(peer.to_string(), laddr, socket.as_raw_fd());
    let id = shared.id;
    let maxclients = server.hot.maxclients.load(Ordering::Relaxed) as usize;
    if server.clients.count() > maxclients {
        Stats::incr(&server.stats.rejected_connections);
        let mut socket = socket;
        let _ = socket
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        server.clients.unregister(id);
        return;
    }
    let session = Session::new(shared, server.hot.auth_required.load(Ordering::Relaxed));
    let mut conn = Connection {
        server: server.clone(),
        socket,
        rbuf: BytesMut::with_capacity(INITIAL_READ_BUFFER),
        wbuf: BytesMut::new(),
        decoder: RequestDecoder::new(),
        session,
    };
    if let Err(e) = conn.run().await {
        debug!("client {} closed: {}", id, e);
        if matches!(e, CloseReason::Protocol) {
            conn.linger().await;
        }
    }
    server.clients.unregister(id);
}

struct Connection {
    server: Arc<Server>,
    socket: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    decoder: RequestDecoder,
    session: Session,
}

/// Why the loop ended (only logged).
#[derive(Debug, thiserror::Error)]
enum CloseReason {
    #[error("peer closed")]
    Eof,
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("protocol error")]
    Protocol,
    #[error("killed")]
    Killed,
    #[error("idle timeout")]
    Timeout,
    #[error("quit")]
    Quit,
    #[error("applying pipelined writes failed")]
    WriteFailed,
    #[error("query buffer of {0} bytes is over client-query-buffer-limit")]
    QueryBufferLimit(usize),
}

impl Connection {
    async fn run(&mut self) -> Result<(), CloseReason> {
        loop {
            self.process_buffered().await?;
            self.flush().await?;
            self.shrink_buffers();
            if self.session.shared.killed.load(Ordering::SeqCst) {
                return Err(CloseReason::Killed);
            }
            self.read_more().await?;
            self.check_query_buffer()?;
        }
    }

    /// After a protocol error reply: ends the write side, then reads and
    /// discards what the client still sends (bounded in time and bytes),
    /// so closing with unread input does not reset the connection and
    /// destroy the error reply before the client reads it.
    async fn linger(&mut self) {
        let _ = self.socket.shutdown().await;
        let mut sink = [0u8; 16 * 1024];
        let mut left = LINGER_MAX_BYTES;
        let deadline = tokio::time::Instant::now() + LINGER_TIME;
        while left > 0 {
            match tokio::time::timeout_at(deadline, self.socket.read(&mut sink)).await {
                Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
                _ => break,
            }
        }
    }

    /// Closes a client whose unprocessed input (read buffer plus the
    /// arguments of a half-received request) is over
    /// `client-query-buffer-limit`, so no single client can make the
    /// server hold an unbounded request.
    fn check_query_buffer(&self) -> Result<(), CloseReason> {
        let held = self.rbuf.len() + self.decoder.held_bytes();
        let limit = self.server.hot.query_buffer_limit.load(Ordering::Relaxed) as usize;
        if held > limit {
            warn!(
                "closing client {} ({}) that reached max query buffer length ({} bytes)",
                self.session.shared.id, self.session.shared.addr, held
            );
            return Err(CloseReason::QueryBufferLimit(held));
        }
        Ok(())
    }

    /// Executes every complete request in the read buffer.
    async fn process_buffered(&mut self) -> Result<(), CloseReason> {
        let max_bulk_len = self.server.hot.max_bulk_len.load(Ordering::Relaxed);
        loop {
            // Re-read per request: an AUTH earlier in the same pipeline
            // lifts the pre-auth limits for what follows it.
            let limits = Limits {
                max_bulk_len,
                authenticated: self.session.authenticated,
            };
            let args = match self.decoder.decode(&mut self.rbuf, &limits) {
                Ok(Some(args)) => args,
                Ok(None) => break,
                Err(e) => {
                    self.wbuf
                        .extend_from_slice(format!("-ERR {e}\r\n").as_bytes());
                    self.flush().await?;
                    return Err(CloseReason::Protocol);
                }
            };
            if args.is_empty() {
                continue;
            }
            self.session.shared.touch();
            if self.server.pauses.active() {
                self.wait_for_pause(&args).await?;
            }
            let reply = crate::commands::execute(&self.server, &mut self.session, args);
            if self.should_reply() {
                match reply {
                    Reply::Encoded(pieces) if reply_len(&pieces) >= DIRECT_WRITE => {
                        self.write_pieces(&pieces).await?
                    }
                    reply => reply.encode(self.session.resp, &mut self.wbuf),
                }
            }
            if self.session.close_after_reply {
                self.flush().await?;
                return Err(CloseReason::Quit);
            }
            let limit = self.server.hot.output_limit.load(Ordering::Relaxed) as usize;
            if self.wbuf.len() >= limit {
                self.flush().await?;
            }
            if self.session.shared.killed.load(Ordering::SeqCst) {
                self.flush().await?;
                return Err(CloseReason::Killed);
            }
        }
        self.session
            .shared
            .qbuf
            .store(self.rbuf.len(), Ordering::Relaxed);
        Ok(())
    }

    /// Applies CLIENT REPLY OFF/SKIP to the reply just produced.
    fn should_reply(&mut self) -> bool {
        match self.session.reply_mode {
            ReplyMode::On => true,
            ReplyMode::Off => false,
            ReplyMode::SkipNext => {
                self.session.reply_mode = ReplyMode::Skip;
                false
            }
            ReplyMode::Skip => {
                self.session.reply_mode = ReplyMode::On;
                false
            }
        }
    }

    async fn flush(&mut self) -> Result<(), CloseReason> {
        // Folded writes are applied before any of their replies leave.
        if !self.session.apply_folded(&self.server.node.storage) || self.session.write_failed {
            return Err(CloseReason::WriteFailed);
        }
        if self.wbuf.is_empty() {
            return Ok(());
        }
        self.session
            .shared
            .omem
            .store(self.wbuf.len(), Ordering::Relaxed);
        self.socket.write_all(&self.wbuf).await?;
        self.server
            .stats
            .net_output_bytes
            .fetch_add(self.wbuf.len() as u64, Ordering::Relaxed);
        self.wbuf.clear();
        self.session.shared.omem.store(0, Ordering::Relaxed);
        Ok(())
    }

    /// Holds the next command while a CLIENT PAUSE covers it; replies to
    /// earlier commands go out first.
    async fn wait_for_pause(&mut self, args: &[bytes::Bytes]) -> Result<(), CloseReason> {
        let write = crate::commands::may_write(&self.server, &self.session, args);
        let namespace = self.session.namespace_name();
        if self.server.pauses.held_until(&namespace, write).is_none() {
            return Ok(());
        }
        self.flush().await?;
        let server = self.server.clone();
        let shared = self.session.shared.clone();
        tokio::select! {
            _ = server.pauses.wait_until_free(&namespace, write) => Ok(()),
            _ = shared.kill_notify.notified() => Err(CloseReason::Killed),
        }
    }

    /// Sends a large pre-encoded reply as it is, after what is already
    /// buffered, instead of copying it into the write buffer.
    async fn write_pieces(&mut self, pieces: &[bytes::Bytes]) -> Result<(), CloseReason> {
        self.flush().await?;
        let total = reply_len(pieces);
        self.session.shared.omem.store(total, Ordering::Relaxed);
        for p in pieces {
            self.socket.write_all(p).await?;
        }
        self.session.shared.omem.store(0, Ordering::Relaxed);
        self.server
            .stats
            .net_output_bytes
            .fetch_add(total as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Gives memory back after a large reply (the read buffer goes when
    /// no input follows for a while: see [`Connection::read_more`]).
    fn shrink_buffers(&mut self) {
        if self.wbuf.capacity() > KEEP_WRITE_BUFFER {
            self.wbuf = BytesMut::new();
        }
    }

    /// Waits for more input, a kill, a shutdown or the idle timeout; a
    /// read buffer bigger than [`KEEP_READ_BUFFER`] with nothing in it is
    /// given back once no input came for [`RELEASE_READ_BUFFER_AFTER`].
    async fn read_more(&mut self) -> Result<(), CloseReason> {
        loop {
            let release = self.rbuf.is_empty() && self.rbuf.capacity() > KEEP_READ_BUFFER;
            match self.read_or_release(release).await? {
                ReadOutcome::Read => return Ok(()),
                ReadOutcome::Release => self.rbuf = BytesMut::with_capacity(INITIAL_READ_BUFFER),
            }
        }
    }

    /// One wait of [`Connection::read_more`]; with `release`, it gives up
    /// after [`RELEASE_READ_BUFFER_AFTER`] so the buffer can go.
    async fn read_or_release(&mut self, release: bool) -> Result<ReadOutcome, CloseReason> {
        let spare = self.rbuf.capacity() - self.rbuf.len();
        if spare < 1024 {
            // Room for the arguments after a big bulk too: were the buffer
            // full after it, the next read would need a fresh one while
            // the bulk still holds this one, and the next big request
            // would fault in another allocation instead of reusing it.
            let want = self
                .decoder
                .wanted_capacity()
                .map_or(0, |w| w + INITIAL_READ_BUFFER);
            if want > KEEP_READ_BUFFER {
                self.decoder.own_small_args();
            }
            let step = want
                .saturating_sub(self.rbuf.len())
                .clamp(INITIAL_READ_BUFFER, MAX_GROW_STEP.max(self.rbuf.len()));
            self.rbuf.reserve(step);
        }
        let timeout = self.server.hot.timeout_secs.load(Ordering::Relaxed);
        let idle = sleep_or_never((timeout > 0).then(|| Duration::from_secs(timeout)));
        let release_after = sleep_or_never(release.then_some(RELEASE_READ_BUFFER_AFTER));
        let shared = self.session.shared.clone();
        tokio::select! {
            r = self.socket.read_buf(&mut self.rbuf) => {
                let n = r?;
                if n == 0 {
                    return Err(CloseReason::Eof);
                }
                self.server.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                Ok(ReadOutcome::Read)
            }
            _ = shared.kill_notify.notified() => Err(CloseReason::Killed),
            _ = idle => Err(CloseReason::Timeout),
            _ = release_after => Ok(ReadOutcome::Release),
        }
    }
}

/// How one wait for input ended.
enum ReadOutcome {
    /// Bytes arrived.
    Read,
    /// None came in time: the idle read buffer can be given back.
    Release,
}

/// Sleeps for `wait`, or never ends when there is none. A timer is set up
/// only when the future is first polled with a wait to make.
async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending::<()>().await,
    }
}
