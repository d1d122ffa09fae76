//! Test harness shared by the integration tests: starts the real `ferrocks`
//! binary on a free port with its own temporary data directory, talks to it
//! through the `redis` crate or through raw sockets, and stops it.
//!
//! Everything here is general enough to start several nodes side by side
//! (each `Server` owns its port, directory and log).

#![allow(dead_code)]

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Path of the binary under test, built by cargo for integration tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_ferrocks");

/// How long a server may take to accept its first TCP connection.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a server may take to exit after SIGTERM or SHUTDOWN.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Default timeout used by raw-socket reads.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Returns a TCP port that was free a moment ago. It is taken below the
/// kernel's ephemeral range (32768 and up on Linux), so no client socket of
/// a concurrent test can be using it as its local port: such a port makes
/// a readiness probe connect to itself before the server binds.
pub fn free_port() -> u16 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let span = 12_000u32;
    let seed = std::process::id().wrapping_mul(7919) % span;
    loop {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = 20_000 + ((seed + n * 37) % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// What to start: extra `--key value` arguments, an optional config file,
/// and optionally a fixed port or data directory (for multi-node setups).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra `--key value` pairs, appended after the harness' own.
    pub args: Vec<(String, String)>,
    /// Text of a config file written into the temp dir and passed with `-c`.
    pub config: Option<String>,
    /// Port to use; a free one is picked when `None`.
    pub port: Option<u16>,
    /// Whether the harness passes `--port/--dir/--bind` itself (set to false
    /// to test a config file that provides them).
    pub harness_args: bool,
    /// Extra environment variables of the process (fail points).
    pub env: Vec<(String, String)>,
}

impl Options {
    /// Options with the harness' own `--port --dir --bind` arguments.
    pub fn new() -> Options {
        Options {
            harness_args: true,
            ..Options::default()
        }
    }

    /// Adds one `--key value` argument.
    pub fn arg(mut self, key: &str, value: &str) -> Options {
        self.args.push((key.to_string(), value.to_string()));
        self
    }

    /// Sets the config file text.
    pub fn config(mut self, text: &str) -> Options {
        self.config = Some(text.to_string());
        self
    }

    /// Sets an environment variable of the process.
    pub fn env(mut self, key: &str, value: &str) -> Options {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Uses a fixed port.
    pub fn port(mut self, port: u16) -> Options {
        self.port = Some(port);
        self
    }
}

/// One running (or stopped) ferrocks process.
pub struct Server {
    child: Option<Child>,
    port: u16,
    tmp: TempDir,
    opts: Options,
    config_path: Option<PathBuf>,
}

impl Server {
    /// Starts a server with the default configuration.
    pub fn start() -> Server {
        Server::start_opts(Options::new())
    }

    /// Starts a server with extra `--key value` arguments.
    pub fn start_with(args: &[(&str, &str)]) -> Server {
        let mut opts = Options::new();
        for (k, v) in args {
            opts = opts.arg(k, v);
        }
        Server::start_opts(opts)
    }

    /// Starts a server reading `text` as its config file (`-c FILE`), with
    /// the harness' port, dir and bind passed on the command line as well.
    pub fn start_with_config_file(text: &str) -> Server {
        Server::start_opts(Options::new().config(text))
    }

    /// Starts a server from full options. When the port was picked by the
    /// harness and another process grabbed it meanwhile, a new port is tried.
    pub fn start_opts(opts: Options) -> Server {
        let tmp = tempfile::Builder::new()
            .prefix("ferrocks-test-")
            .tempdir()
            .expect("create temp dir");
        let config_path = opts.config.as_ref().map(|text| {
            let path = tmp.path().join("ferrocks.conf");
            std::fs::write(&path, text).expect("write config file");
            path
        });
        let fixed_port = opts.port;
        let mut server = Server {
            child: None,
            port: fixed_port.unwrap_or_else(free_port),
            tmp,
            opts,
            config_path,
        };
        let attempts = if fixed_port.is_some() { 1 } else { 3 };
        for attempt in 1..=attempts {
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(e) => {
                    let log = server.log();
                    let port_taken = log.contains("in use") || log.contains("AddrInUse");
                    if attempt < attempts && port_taken {
                        server.port = free_port();
                        continue;
                    }
                    panic!(
                        "ferrocks did not start on port {}: {e}\n--- log ---\n{log}",
                        server.port
                    );
                }
            }
        }
        unreachable!()
    }

    /// The command line used to start the process.
    pub fn command_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(path) = &self.config_path {
            args.push("-c".to_string());
            args.push(path.display().to_string());
        }
        if self.opts.harness_args {
            args.push("--port".to_string());
            args.push(self.port.to_string());
            args.push("--dir".to_string());
            args.push(self.data_dir().display().to_string());
            args.push("--bind".to_string());
            args.push("127.0.0.1".to_string());
        }
        if self.opts.harness_args {
            // `make test` runs the migration tests again under other
            // settings (import mode, parallelism) through this variable:
            // `key value` pairs, separated by commas.
            let extra = std::env::var("FERROCKS_TEST_ARGS").unwrap_or_default();
            for pair in extra.split(',').filter(|p| !p.trim().is_empty()) {
                let mut kv = pair.split_whitespace();
                if let (Some(k), Some(v)) = (kv.next(), kv.next()) {
                    if !self.opts.args.iter().any(|(key, _)| key == k) {
                        args.push(format!("--{k}"));
                        args.push(v.to_string());
                    }
                }
            }
        }
        for (k, v) in &self.opts.args {
            args.push(format!("--{k}"));
            args.push(v.clone());
        }
        args
    }

    /// Replaces the process's extra environment (takes effect at the next
    /// restart).
    pub fn set_env(&mut self, env: Vec<(String, String)>) {
        self.opts.env = env;
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("open log: {e}"))?;
        let log_out = log.try_clone().map_err(|e| format!("clone log: {e}"))?;
        let child = Command::new(BIN)
            .args(self.command_args())
            .envs(self.opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(self.tmp.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_out))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("spawn {BIN}: {e}"))?;
        self.child = Some(child);
        let log_start = std::fs::metadata(self.log_path()).map_or(0, |m| m.len());
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return Err(format!("exited early with {status}"));
            }
            // A socket connected to itself is not the server, nor is
            // another test's server that took the port first. A server
            // that does not answer INFO (a password is set) counts once
            // it has said it is ready: something else may hold the port.
            let pid = self.child.as_ref().map(|c| c.id());
            if TcpStream::connect(("127.0.0.1", self.port))
                .is_ok_and(|c| c.local_addr().map(|a| a.port()).ok() != Some(self.port))
                && pid.is_some_and(|pid| match served_by(self.port, pid) {
                    Some(ours) => ours,
                    None => self.said_ready_since(log_start),
                })
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.kill9();
                return Err(format!("no TCP connect within {START_TIMEOUT:?}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` of the server.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The temporary directory owned by this server.
    pub fn tmp_dir(&self) -> &Path {
        self.tmp.path()
    }

    /// The data directory passed as `--dir`.
    pub fn data_dir(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    /// The config file passed with `-c`, if any.
    pub fn config_path(&self) -> Option<&Path> {
        self.config_path.as_deref()
    }

    /// The file receiving the process' stdout and stderr.
    pub fn log_path(&self) -> PathBuf {
        self.tmp.path().join("stderr.log")
    }

    /// True when the server's log, from byte `from` on, says it is ready
    /// (or the server logs to its own `log-dir`, out of sight here).
    fn said_ready_since(&self, from: u64) -> bool {
        let elsewhere = self
            .opts
            .args
            .iter()
            .any(|(k, v)| k == "log-dir" && !v.is_empty())
            || self
                .opts
                .config
                .as_deref()
                .is_some_and(|c| c.contains("log-dir"));
        let log = std::fs::read(self.log_path()).unwrap_or_default();
        elsewhere
            || log
                .get(from as usize..)
                .is_some_and(|new| new.windows(27).any(|w| w == b"Ready to accept connections"))
    }

    /// Everything the process (all its runs) wrote to stdout and stderr.
    pub fn log(&self) -> String {
        std::fs::read(self.log_path())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().unwrap().is_none(),
            None => false,
        }
    }

    /// A new `redis` crate connection (sync API) with a 10 s read timeout.
    pub fn client(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).expect("redis client");
        let con = client
            .get_connection_with_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| {
                panic!(
                    "connect to {}: {e}\n--- log ---\n{}",
                    self.addr(),
                    self.log()
                )
            });
        con.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        con.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
        con
    }

    /// A new `redis` crate connection that authenticates with `password`
    /// (the admin password or a namespace token) when it connects.
    pub fn client_auth(&self, password: &str) -> redis::Connection {
        let url = format!("redis://:{password}@127.0.0.1:{}/", self.port);
        let client = redis::Client::open(url).expect("redis client");
        let con = client
            .get_connection_with_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("connect with AUTH to {}: {e}", self.addr()));
        con.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        con
    }

    /// A new raw TCP connection.
    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    /// Sends a signal to the process.
    pub fn signal(&self, sig: i32) {
        if let Some(pid) = self.pid() {
            send_signal(pid, sig);
        }
    }

    /// Waits up to `timeout` for the process to exit; `None` on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let status = wait_child(child, timeout)?;
        self.child = None;
        Some(status)
    }

    /// SIGTERM, then waits for the exit (panics after `STOP_TIMEOUT`,
    /// killing the process).
    pub fn stop_term(&mut self) -> ExitStatus {
        self.stop_signal(libc::SIGTERM)
    }

    /// Sends `sig` and waits for the exit like `stop_term`.
    pub fn stop_signal(&mut self, sig: i32) -> ExitStatus {
        assert!(self.child.is_some(), "server is not running");
        self.signal(sig);
        match self.wait_exit(STOP_TIMEOUT) {
            Some(status) => status,
            None => {
                self.kill9();
                panic!(
                    "ferrocks did not exit within {STOP_TIMEOUT:?} after signal {sig}\n--- log ---\n{}",
                    self.log()
                );
            }
        }
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            send_signal(child.id(), libc::SIGKILL);
            let _ = child.wait();
        }
    }

    /// Starts the process again with the same port, directory and
    /// arguments (stops it with SIGTERM first if it still runs).
    pub fn restart(&mut self) {
        if self.child.is_some() {
            let status = self.stop_term();
            assert!(status.success(), "exit status {status} on restart");
        }
        if let Err(e) = self.spawn_and_wait() {
            panic!(
                "ferrocks did not restart on port {}: {e}\n--- log ---\n{}",
                self.port,
                self.log()
            );
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Sends `sig` to `pid`.
pub fn send_signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert!(
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH),
        "kill({pid}, {sig}) failed: {}",
        std::io::Error::last_os_error()
    );
}

/// Polls `child` until it exits or `timeout` passes.
pub fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the binary with `args` to completion (stdin closed), killing it
/// after `timeout`. Panics if it did not exit in time.
pub fn run_binary(args: &[&str], cwd: &Path, timeout: Duration) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferrocks");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let status = match wait_child(&mut child, timeout) {
        Some(s) => s,
        None => {
            send_signal(child.id(), libc::SIGKILL);
            let _ = child.wait();
            let err = err_reader.join().unwrap();
            panic!(
                "ferrocks {args:?} still running after {timeout:?}; stderr:\n{}",
                String::from_utf8_lossy(&err)
            );
        }
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

/// Waits until `cond` holds, polling every 10 ms; false after `timeout`.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------
// `redis` crate helpers

/// Runs a command given as words and converts the reply.
pub fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{args:?} failed: {}", err_text(&e)))
}

/// Runs a command that must fail and returns the full error text
/// (`CODE detail`, e.g. `ERR syntax error`).
pub fn q_err(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<redis::Value>(con) {
        Ok(v) => panic!("{args:?} succeeded with {v:?}, expected an error"),
        Err(e) => err_text(&e),
    }
}

/// The error as the server sent it: `CODE detail`.
pub fn err_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => {
            // A pipeline's failure (ASKING plus a command) keeps the
            // server's error, with its detail, inside.
            let inner = e.clone().into_server_errors();
            match inner.as_deref().and_then(|errors| errors.first()) {
                Some((_, first)) => match first.details() {
                    Some(detail) => format!("{} {detail}", first.code()),
                    None => first.code().to_string(),
                },
                None => code.to_string(),
            }
        }
        _ => e.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Raw sockets

/// Encodes a command as a RESP array of bulk strings.
pub fn resp_cmd(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Encodes a command given as string words.
pub fn resp_cmd_str(args: &[&str]) -> Vec<u8> {
    let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    resp_cmd(&v)
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf[from..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

/// Length of the first complete RESP2/RESP3 reply in `buf`, or `None`
/// when more bytes are needed. Panics on bytes that are not RESP.
pub fn reply_len(buf: &[u8]) -> Option<usize> {
    parse_at(buf, 0)
}

fn parse_at(buf: &[u8], at: usize) -> Option<usize> {
    if at >= buf.len() {
        return None;
    }
    let end = find_crlf(buf, at)?;
    let line = &buf[at + 1..end];
    let after = end + 2;
    let num = || -> i64 {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad RESP length {:?}", String::from_utf8_lossy(line)))
    };
    match buf[at] {
        b'+' | b'-' | b':' | b',' | b'#' | b'_' | b'(' => Some(after),
        b'$' | b'!' | b'=' => {
            let n = num();
            if n < 0 {
                return Some(after);
            }
            let total = after + n as usize + 2;
            (buf.len() >= total).then_some(total)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = num();
            if n < 0 {
                return Some(after);
            }
            let items = if matches!(buf[at], b'%' | b'|') {
                n * 2
            } else {
                n
            };
            let mut pos = after;
            for _ in 0..items {
                pos = parse_at(buf, pos)?;
            }
            Some(pos)
        }
        other => panic!(
            "not a RESP reply (type byte {:?}): {:?}",
            other as char,
            String::from_utf8_lossy(&buf[at..])
        ),
    }
}

/// A raw TCP connection to a server, for protocol-level tests.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    /// Connects to 127.0.0.1:`port`.
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("raw connect");
        stream.set_nodelay(true).unwrap();
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes all of `bytes`.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("raw send");
    }

    /// Sends a command as a RESP array.
    pub fn send_cmd(&mut self, args: &[&str]) {
        self.send(&resp_cmd_str(args));
    }

    /// Sends a command and reads its reply as a (lossy) string.
    pub fn cmd(&mut self, args: &[&str]) -> String {
        self.send_cmd(args);
        self.read_reply_string()
    }

    /// Reads into the buffer; returns the number of bytes read (0 on EOF).
    /// Panics when nothing arrives before `deadline`.
    fn fill(&mut self, deadline: Instant) -> std::io::Result<usize> {
        let now = Instant::now();
        if now >= deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "deadline passed",
            ));
        }
        self.stream.set_read_timeout(Some(deadline - now)).unwrap();
        let mut chunk = [0u8; 65536];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads one complete reply (raw bytes), waiting up to `timeout`.
    pub fn read_reply_timeout(&mut self, timeout: Duration) -> Vec<u8> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return self.buf.drain(..n).collect();
            }
            match self.fill(deadline) {
                Ok(0) => panic!(
                    "connection closed while waiting for a reply; have {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
                Ok(_) => {}
                Err(e) => panic!(
                    "no complete reply within {timeout:?} ({e}); have {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
            }
        }
    }

    /// Reads one complete reply with the default timeout.
    pub fn read_reply(&mut self) -> Vec<u8> {
        self.read_reply_timeout(READ_TIMEOUT)
    }

    /// Reads one complete reply as a (lossy) string.
    pub fn read_reply_string(&mut self) -> String {
        String::from_utf8_lossy(&self.read_reply()).into_owned()
    }

    /// Reads exactly `n` bytes (or panics after `timeout`).
    pub fn read_exact_timeout(&mut self, n: usize, timeout: Duration) -> Vec<u8> {
        let deadline = Instant::now() + timeout;
        while self.buf.len() < n {
            match self.fill(deadline) {
                Ok(0) => panic!("connection closed after {} of {n} bytes", self.buf.len()),
                Ok(_) => {}
                Err(e) => panic!(
                    "only {} of {n} bytes within {timeout:?}: {e}",
                    self.buf.len()
                ),
            }
        }
        self.buf.drain(..n).collect()
    }

    /// Reads until the peer closes; returns the bytes read before EOF, or
    /// `None` if the connection stays open for `timeout`.
    pub fn read_to_eof(&mut self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.fill(deadline) {
                Ok(0) => return Some(std::mem::take(&mut self.buf)),
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                    ) =>
                {
                    return Some(std::mem::take(&mut self.buf))
                }
                Err(_) => return None,
            }
        }
    }

    /// True if the server closes the connection within `timeout`.
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        self.read_to_eof(timeout).is_some()
    }

    /// Closes the write half.
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

/// Runs the binary with a config file of `text` (plus `extra` arguments)
/// and returns its exit status and stderr; used for configs that must be
/// refused, so the process is expected to exit by itself.
pub fn run_with_config(text: &str, extra: &[&str]) -> (ExitStatus, String) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("ferrocks.conf");
    std::fs::write(&path, text).unwrap();
    let port = free_port().to_string();
    let dir = tmp.path().join("data");
    let mut args = vec![
        "-c",
        path.to_str().unwrap(),
        "--port",
        &port,
        "--dir",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run_binary(&args, tmp.path(), Duration::from_secs(10));
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ---------------------------------------------------------------------------
// A reference redis-server

/// A real `redis-server` on a free port, started for comparison with
/// ferrocks (without persistence: `--save '' --appendonly no`) in its own
/// temporary working directory; killed and reaped on drop.
pub struct RedisServer {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl RedisServer {
    /// Starts a `redis-server` and waits until it answers PING.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// Starts a `redis-server` with `extra` command-line arguments (e.g.
    /// `["--enable-debug-command", "yes"]`) and waits until it answers PING.
    /// Retries on another port if the chosen one was taken meanwhile.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        for _ in 0..3 {
            let port = free_port();
            let dir = tempfile::Builder::new()
                .prefix("ferrocks-ref-redis-")
                .tempdir()
                .expect("temp dir");
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--daemonize", "no"])
                .args(extra)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot run redis-server ({e}): install it with `make deps`")
                });
            let up = wait_until(Duration::from_secs(10), || {
                redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(1)))
                    .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                    .is_ok_and(|r| r == "PONG")
            });
            if up {
                return RedisServer {
                    child,
                    port,
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start (args {extra:?})");
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A new `redis` crate connection (sync API) with a 20 s read timeout.
    pub fn client(&self) -> redis::Connection {
        let con = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(10)))
            .unwrap_or_else(|e| panic!("connect to redis-server at {}: {e}", self.addr()));
        con.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("set read timeout");
        con
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the server on `port` is process `pid`, by its `INFO server`;
/// `None` when it cannot tell (a password is required, say).
fn served_by(port: u16, pid: u32) -> Option<bool> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    c.write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n").ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(11).any(|w| w == b"process_id:") || !got.ends_with(b"\r\n\r\n") {
        let n = c.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.first() == Some(&b'-') && got.ends_with(b"\r\n") {
            return None;
        }
    }
    let text = String::from_utf8_lossy(&got);
    let line = text.lines().find_map(|l| l.strip_prefix("process_id:"))?;
    Some(line.trim() == pid.to_string())
}
