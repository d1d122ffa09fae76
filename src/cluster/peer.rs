//! A small blocking RESP client for talking to another node (MIGRATE).
//! Replies are decoded with the `redis-protocol` crate.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use redis_protocol::resp2::decode::decode;
use redis_protocol::resp2::types::OwnedFrame;
use thiserror::Error;

/// Largest reply accepted from a peer; protects against a hostile peer.
const MAX_REPLY: usize = 64 * 1024 * 1024;

/// A failure talking to a peer.
#[derive(Debug, Error)]
pub enum PeerError {
    /// Could not connect in time.
    #[error("error or timeout connecting to the client")]
    Connect,
    /// The connection failed or timed out while writing or reading.
    #[error("error or timeout reading to target instance")]
    Io,
    /// The peer sent bytes that are not RESP.
    #[error("target instance sent a malformed reply")]
    Protocol,
    /// The peer refused our password.
    #[error("target instance refused AUTH: {0}")]
    Auth(String),
}

/// A connection to another node.
pub struct PeerConnection {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl PeerConnection {
    /// Connects to `host:port` with a timeout used for every operation.
    pub fn connect(host: &str, port: u16, timeout: Duration) -> Result<PeerConnection, PeerError> {
        let addr = (host, port)
            .to_socket_addrs()
            .map_err(|_| PeerError::Connect)?
            .next()
            .ok_or(PeerError::Connect)?;
        let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|_| PeerError::Connect)?;
        stream
            .set_read_timeout(Some(timeout))
            .and_then(|_| stream.set_write_timeout(Some(timeout)))
            .map_err(|_| PeerError::Connect)?;
        let _ = stream.set_nodelay(true);
        Ok(PeerConnection {
            stream,
            buf: Vec::new(),
        })
    }

    /// Connects like [`PeerConnection::connect`] and, when `password` is
    /// given, authenticates first (nodes of one cluster share a password:
    /// `masterauth`, else `requirepass`).
    pub fn connect_auth(
        host: &str,
        port: u16,
        timeout: Duration,
        password: Option<&str>,
    ) -> Result<PeerConnection, PeerError> {
        let mut peer = PeerConnection::connect(host, port, timeout)?;
        if let Some(pass) = password {
            if let OwnedFrame::Error(e) = peer.call(&[b"AUTH", pass.as_bytes()])? {
                return Err(PeerError::Auth(e));
            }
        }
        Ok(peer)
    }

    /// Sends already encoded commands.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), PeerError> {
        self.stream.write_all(bytes).map_err(|_| PeerError::Io)
    }

    /// Sends several buffers as one message with vectored writes, so a
    /// big payload goes to the socket from where it is without being
    /// copied behind a header first.
    pub fn send_parts(&mut self, parts: &[&[u8]]) -> Result<(), PeerError> {
        let mut slices: Vec<std::io::IoSlice<'_>> =
            parts.iter().map(|p| std::io::IoSlice::new(p)).collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match self.stream.write_vectored(rest) {
                Ok(0) => return Err(PeerError::Io),
                Ok(n) => std::io::IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(PeerError::Io),
            }
        }
        Ok(())
    }

    /// Reads one reply.
    pub fn read_reply(&mut self) -> Result<OwnedFrame, PeerError> {
        loop {
            if !self.buf.is_empty() {
                match decode(&self.buf) {
                    Ok(Some((frame, used))) => {
                        self.buf.drain(..used);
                        return Ok(frame);
                    }
                    Ok(None) => {}
                    Err(_) => return Err(PeerError::Protocol),
                }
            }
            if self.buf.len() > MAX_REPLY {
                return Err(PeerError::Protocol);
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk).map_err(|_| PeerError::Io)?;
            if n == 0 {
                return Err(PeerError::Io);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends one command and reads its reply.
    pub fn call(&mut self, args: &[&[u8]]) -> Result<OwnedFrame, PeerError> {
        let mut out = Vec::new();
        encode_command(&mut out, args);
        self.send_raw(&out)?;
        self.read_reply()
    }
}
