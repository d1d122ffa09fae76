//! The migration link on the source side: sends chunks with up to `window`
//! in flight, matches acknowledgements, resends what the destination
//! refused by checksum, reconnects and resumes from the destination's
//! checkpoint when the link breaks, paces wire bytes with a token bucket,
//! and adapts the chunk size to the measured acknowledgement latency.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use redis_protocol::resp2::types::OwnedFrame;

use rocksdb::WriteBatch;

use super::frame::{self, ChunkId, Phase};
use super::status::{JobError, MigrationStatus, Tally};
use crate::cluster::peer::{encode_command, PeerConnection, PeerError};

/// How often, and how patiently, a broken link is re-established.
const RECONNECT_ATTEMPTS: u32 = 60;
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);
/// Acknowledgement latencies that steer the chunk size.
const FAST_ACK: Duration = Duration::from_millis(20);
const SLOW_ACK: Duration = Duration::from_millis(150);

/// Settings read before every chunk, so `CONFIG SET` reaches running jobs.
#[derive(Debug, Clone, Copy)]
pub struct LinkSettings {
    /// Chunks in flight.
    pub window: usize,
    /// LZ4 when it helps.
    pub compress: bool,
    /// Wire bytes per second; 0 = unlimited.
    pub rate_limit: u64,
    /// Smallest chunk target in bytes.
    pub min_chunk: usize,
    /// Largest chunk target in bytes.
    pub max_chunk: usize,
    /// Resume from the destination's checkpoint after a broken link
    /// (`migrate-checkpoint`); without it the job starts over.
    pub resume: bool,
}

/// The destination's checkpoint for a job, as IMPORT reports it.
#[derive(Debug, Clone, Default)]
pub struct Announced {
    /// Sequence of the last chunk it applied (0 = none).
    pub applied: u64,
    /// The source position stored with that chunk (empty = none).
    pub position: Vec<u8>,
    /// What the stream had delivered up to that chunk, when the position
    /// carried it (see [`with_tally`]).
    pub tally: Option<Tally>,
}

/// Tag of a position that carries the stream's tally before the source
/// position proper (which starts with `S` or `W`).
const TALLY_TAG: u8 = b'T';

/// Wraps a source position with the stream's tally up to its chunk: the
/// destination stores positions without reading them, so its checkpoint
/// hands back exactly what it holds, in keys and bytes too.
fn with_tally(tally: Tally, position: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(25 + position.len());
    out.push(TALLY_TAG);
    for n in [tally.keys, tally.raw_bytes, tally.wire_bytes] {
        out.extend_from_slice(&n.to_be_bytes());
    }
    out.extend_from_slice(position);
    out
}

/// Splits what [`with_tally`] wrote into the tally (chunks = `applied`)
/// and the source position; a position without one comes back whole.
fn split_tally(raw: Vec<u8>, applied: u64) -> (Option<Tally>, Vec<u8>) {
    let field = |i: usize| {
        raw.get(1 + 8 * i..9 + 8 * i)
            .and_then(|r| r.try_into().ok())
            .map(u64::from_be_bytes)
    };
    match (raw.first(), field(0), field(1), field(2)) {
        (Some(&TALLY_TAG), Some(keys), Some(raw_bytes), Some(wire_bytes)) => (
            Some(Tally {
                keys,
                raw_bytes,
                wire_bytes,
                chunks: applied,
            }),
            raw[25..].to_vec(),
        ),
        _ => (None, raw),
    }
}

/// Batches kept for reuse: each acknowledged chunk gives one back and the
/// next chunk takes one, so one is enough; more would only add to
/// what the window holds.
const SPARE_BATCHES: usize = 1;
/// Largest batch kept for reuse once its chunk is acknowledged (a chunk
/// ends after the record that reaches its target size, so one big record
/// can make a batch far bigger than the chunk size).
const MAX_SPARE_BATCH_BYTES: usize = 16 << 20;

/// A chunk sent but not yet acknowledged, kept to be sent again. Its
/// payload is the batch's own bytes, or the LZ4 block of them in
/// `compressed`: nothing of the batch is copied on its way to the socket.
struct InFlight {
    seq: u64,
    header: [u8; frame::HEADER_LEN],
    batch: WriteBatch,
    compressed: Vec<u8>,
    position: Vec<u8>,
    sent: Instant,
}

impl InFlight {
    /// Memory the chunk holds while in flight.
    fn held_bytes(&self) -> u64 {
        (self.batch.size_in_bytes() + self.compressed.capacity()) as u64
    }

    fn payload(&self) -> &[u8] {
        match frame::payload_codec(&self.header) {
            frame::Codec::Lz4 => &self.compressed,
            frame::Codec::None => self.batch.data(),
        }
    }
}

/// Sends one chunk as `CLUSTERX CHUNK <frame> <position>`: the RESP
/// framing and the frame header in `head`, the payload from where it is,
/// the position in `tail` (both buffers reused).
fn send_chunk(
    peer: &mut PeerConnection,
    head: &mut Vec<u8>,
    tail: &mut Vec<u8>,
    f: &InFlight,
) -> Result<(), PeerError> {
    use std::io::Write;
    let payload = f.payload();
    head.clear();
    let _ = write!(
        head,
        "*4\r\n$8\r\nCLUSTERX\r\n$5\r\nCHUNK\r\n${}\r\n",
        frame::HEADER_LEN + payload.len()
    );
    head.extend_from_slice(&f.header);
    tail.clear();
    let _ = write!(tail, "\r\n${}\r\n", f.position.len());
    tail.extend_from_slice(&f.position);
    tail.extend_from_slice(b"\r\n");
    peer.send_parts(&[head, payload, tail])
}

/// Token bucket on wire bytes, shared by every stream of a job: the rate
/// limit is the job's.
pub struct Pacer {
    tokens: f64,
    last: Instant,
}

/// A job's pacer, as its streams hold it.
pub type SharedPacer = Arc<Mutex<Pacer>>;

impl Pacer {
    /// A full-rate pacer for one job.
    pub fn shared() -> SharedPacer {
        Arc::new(Mutex::new(Pacer {
            tokens: 0.0,
            last: Instant::now(),
        }))
    }

    /// How long to wait before `bytes` may go out at `rate` bytes/s (the
    /// bytes are counted now; zero when they may go at once).
    fn reserve(&mut self, bytes: usize, rate: u64) -> Duration {
        if rate == 0 {
            self.tokens = 0.0;
            self.last = Instant::now();
            return Duration::ZERO;
        }
        let now = Instant::now();
        let rate = rate as f64;
        // Burst of at most 100 ms worth of bytes keeps every 5 s window
        // close to the limit.
        let burst = rate / 10.0;
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * rate).min(burst);
        self.last = now;
        self.tokens -= bytes as f64;
        if self.tokens >= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(-self.tokens / rate)
    }
}

/// Waits until `bytes` may go out at `rate` bytes/s under the job's shared
/// bucket; true when it had to wait (the limiter is throttling). The wait
/// happens outside the lock, so streams wait side by side.
fn pace(pacer: &SharedPacer, bytes: usize, rate: u64) -> bool {
    let wait = pacer.lock().reserve(bytes, rate);
    if wait.is_zero() {
        return false;
    }
    std::thread::sleep(wait);
    true
}

/// Skips LZ4 while it does not pay: after `MISSES_TO_SKIP` chunks in a
/// row that it shrank by less than 10%, the next `SKIP_CHUNKS` chunks go
/// raw, then it is tried again. Incompressible slots then cost no
/// compression CPU on either side.
#[derive(Default)]
struct CompressionProbe {
    misses: u32,
    skip: u32,
}

const MISSES_TO_SKIP: u32 = 8;
const SKIP_CHUNKS: u32 = 64;

impl CompressionProbe {
    /// Whether to try LZ4 on the next chunk.
    fn try_next(&mut self) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        true
    }

    /// Records how a compressed attempt did.
    fn record(&mut self, raw: usize, wire: usize) {
        if wire * 10 > raw * 9 {
            self.misses += 1;
            if self.misses >= MISSES_TO_SKIP {
                self.misses = 0;
                self.skip = SKIP_CHUNKS;
            }
        } else {
            self.misses = 0;
        }
    }
}

/// The source end of one job's link.
pub struct Link {
    host: String,
    port: u16,
    import_cmd: Vec<u8>,
    peer: PeerConnection,
    next_seq: u64,
    inflight: VecDeque<InFlight>,
    /// Reused buffers: RESP framing before and after a payload, and LZ4
    /// blocks (at most a window's worth) and batches ([`SPARE_BATCHES`])
    /// of acknowledged chunks.
    head: Vec<u8>,
    tail: Vec<u8>,
    spare: Vec<Vec<u8>>,
    spare_batches: Vec<WriteBatch>,
    pacer: SharedPacer,
    stream: u8,
    chunk_size: usize,
    password: Option<String>,
    probe: CompressionProbe,
    /// What this stream delivered so far (see [`Tally`]).
    tally: Tally,
}

impl Link {
    /// Connects and announces the job with `import_args` (the CLUSTERX
    /// IMPORT command); returns the link, positioned after the last chunk
    /// the destination applied for this job, and the destination's
    /// checkpoint.
    /// `stream` is which of the job's parallel streams it carries (its
    /// number is announced after `import_args` when not 0); `pacer` is the
    /// job's rate limiter.
    pub fn open(
        host: &str,
        port: u16,
        import_args: &[&[u8]],
        stream: u8,
        pacer: SharedPacer,
        chunk_size: usize,
        password: Option<String>,
    ) -> Result<(Link, Announced), JobError> {
        let mut import_cmd = Vec::new();
        let stream_arg = stream.to_string();
        let mut args = import_args.to_vec();
        if stream > 0 {
            args.push(stream_arg.as_bytes());
        }
        encode_command(&mut import_cmd, &args);
        let peer =
            PeerConnection::connect_auth(host, port, Duration::from_secs(10), password.as_deref())?;
        let mut link = Link {
            host: host.to_string(),
            port,
            import_cmd,
            peer,
            next_seq: 1,
            inflight: VecDeque::new(),
            head: Vec::new(),
            tail: Vec::new(),
            spare: Vec::new(),
            spare_batches: Vec::new(),
            pacer,
            stream,
            chunk_size,
            password,
            probe: CompressionProbe::default(),
            tally: Tally::default(),
        };
        let announced = link.announce()?;
        link.next_seq = announced.applied + 1;
        link.tally = announced.tally.unwrap_or_default();
        Ok((link, announced))
    }

    /// Counts what the destination already holds of this stream (from its
    /// checkpoint) in the job's totals: called once a job's link is open.
    pub fn count_held(&self, status: &MigrationStatus) {
        status.set_stream_tally(self.stream, self.tally);
    }

    /// Sequence of the last chunk handed to the link.
    pub fn last_sent(&self) -> u64 {
        self.next_seq - 1
    }

    /// The chunk size target now.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Sends IMPORT on the current connection; returns the destination's
    /// checkpoint for this job.
    fn announce(&mut self) -> Result<Announced, JobError> {
        let cmd = self.import_cmd.clone();
        self.peer.send_raw(&cmd)?;
        match self.peer.read_reply()? {
            OwnedFrame::Array(items) => match items.as_slice() {
                [OwnedFrame::Integer(n), OwnedFrame::BulkString(pos)] => {
                    let applied = *n as u64;
                    let (tally, position) = split_tally(pos.clone(), applied);
                    Ok(Announced {
                        applied,
                        position,
                        tally,
                    })
                }
                _ => Err(JobError::Refused("malformed IMPORT reply".into())),
            },
            OwnedFrame::Error(e) if e.contains("already the owner") => {
                Err(JobError::DestinationOwns(e))
            }
            OwnedFrame::Error(e) => Err(JobError::Refused(e)),
            other => Err(JobError::Refused(format!(
                "unexpected IMPORT reply {other:?}"
            ))),
        }
    }

    /// An empty batch to fill with the next chunk: one of an acknowledged
    /// chunk, cleared, when there is one, so its memory is reused rather
    /// than faulted in again for every chunk.
    pub fn take_batch(&mut self) -> WriteBatch {
        self.spare_batches.pop().unwrap_or_default()
    }

    /// Sends one chunk holding `keys` keys (counted in the snapshot phase
    /// only) and ending at source position `position`, waiting for
    /// acknowledgements while the window is full.
    pub fn send(
        &mut self,
        status: &MigrationStatus,
        settings: &LinkSettings,
        phase: Phase,
        batch: WriteBatch,
        keys: u64,
        position: &[u8],
    ) -> Result<(), JobError> {
        status.check_cancelled()?;
        let seq = self.next_seq;
        self.next_seq += 1;
        let id = ChunkId {
            job_id: status.job_id,
            first_slot: status.first,
            last_slot: status.last,
            sequence: seq,
            phase,
            stream: self.stream,
        };
        let compress = settings.compress && self.probe.try_next();
        let mut compressed = self.spare.pop().unwrap_or_default();
        let raw = batch.data();
        let header = frame::encode_parts(id, raw, compress, &mut compressed);
        let raw_len = raw.len();
        let wire = match frame::payload_codec(&header) {
            frame::Codec::Lz4 => compressed.len(),
            frame::Codec::None => raw_len,
        };
        if compress {
            self.probe.record(raw_len, wire);
        }
        let throttled = pace(&self.pacer, wire, settings.rate_limit);
        if throttled {
            self.chunk_size = (self.chunk_size * 3 / 4).max(settings.min_chunk);
        }
        self.tally.keys += keys;
        self.tally.raw_bytes += raw_len as u64;
        self.tally.wire_bytes += wire as u64;
        status.set_stream_tally(self.stream, self.tally);
        let position = with_tally(self.tally, position);
        let chunk = InFlight {
            seq,
            header,
            batch,
            compressed,
            position,
            sent: Instant::now(),
        };
        let sent = send_chunk(&mut self.peer, &mut self.head, &mut self.tail, &chunk);
        status
            .inflight_bytes
            .fetch_add(chunk.held_bytes(), Ordering::Relaxed);
        self.inflight.push_back(chunk);
        if sent.is_err() {
            self.recover(status, settings)?;
        }
        while self.inflight.len() >= settings.window.max(1) {
            self.ack_one(status, settings, throttled)?;
        }
        status
            .chunk_size
            .store(self.chunk_size as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Waits for every chunk in flight to be acknowledged.
    pub fn drain(
        &mut self,
        status: &MigrationStatus,
        settings: &LinkSettings,
    ) -> Result<(), JobError> {
        while !self.inflight.is_empty() {
            self.ack_one(status, settings, false)?;
        }
        Ok(())
    }

    /// Sends already encoded commands and reads `replies` replies (the
    /// per-key `redis-command` path).
    pub fn pipeline(
        &mut self,
        encoded: &[u8],
        replies: usize,
    ) -> Result<Vec<OwnedFrame>, JobError> {
        self.peer.send_raw(encoded)?;
        (0..replies)
            .map(|_| self.peer.read_reply().map_err(JobError::from))
            .collect()
    }

    /// Waits until `bytes` more may go out under `rate` bytes/s (0: no
    /// limit); the per-key path's share of `migrate-batch-rate-limit-mb`.
    pub fn pace(&mut self, bytes: usize, rate: u64) {
        pace(&self.pacer, bytes, rate);
    }

    /// Replaces a broken connection with a new one and announces the job
    /// again (the per-key path, which has no chunks to resend).
    pub fn reopen(&mut self) -> Result<Announced, JobError> {
        self.peer = PeerConnection::connect_auth(
            &self.host,
            self.port,
            Duration::from_secs(5),
            self.password.as_deref(),
        )?;
        self.announce()
    }

    /// Sends a command on the link after draining it and returns its reply.
    pub fn call(&mut self, args: &[&[u8]]) -> Result<OwnedFrame, JobError> {
        Ok(self.peer.call(args)?)
    }

    fn adapt(&mut self, latency: Duration, throttled: bool, settings: &LinkSettings) {
        if throttled || latency > SLOW_ACK {
            self.chunk_size = (self.chunk_size * 3 / 4).max(settings.min_chunk);
        } else if latency < FAST_ACK {
            self.chunk_size = (self.chunk_size + self.chunk_size / 4).min(settings.max_chunk);
        }
    }

    fn ack_one(
        &mut self,
        status: &MigrationStatus,
        settings: &LinkSettings,
        throttled: bool,
    ) -> Result<(), JobError> {
        let reply = match self.peer.read_reply() {
            Ok(r) => r,
            Err(_) => return self.recover(status, settings),
        };
        let front = self.inflight.front().map(|f| (f.seq, f.sent));
        match reply {
            OwnedFrame::Integer(n) if Some(n as u64) == front.map(|f| f.0) => {
                self.retire_front(status);
                if let Some((_, sent)) = front {
                    self.adapt(sent.elapsed(), throttled, settings);
                }
                Ok(())
            }
            OwnedFrame::Error(e)
                if e.starts_with("CHUNKCRC")
                    || e.starts_with("CHUNKORDER")
                    || e.starts_with("CHUNKRESEND") =>
            {
                tracing::warn!(
                    "job {}: destination refused a chunk ({}); resending",
                    status.job_id,
                    e
                );
                // The chunks sent after it are refused as out of order:
                // read their replies, ask the destination how far it got,
                // then send the rest again in order.
                for _ in 1..self.inflight.len() {
                    if self.peer.read_reply().is_err() {
                        return self.recover(status, settings);
                    }
                }
                let announced = match self.announce() {
                    Ok(a) => a,
                    Err(JobError::Link(_)) => return self.recover(status, settings),
                    Err(e) => return Err(e),
                };
                self.continue_after(status, announced)
            }
            OwnedFrame::Error(e) => Err(JobError::Refused(e)),
            other => Err(JobError::Refused(format!(
                "unexpected acknowledgement {other:?}"
            ))),
        }
    }

    /// Continues after the destination reported its checkpoint: forgets
    /// what it applied and sends the rest again; when it holds less than
    /// it acknowledged (it restarted before ingesting its SST files, or
    /// fell back to the write path), the chunks it lost are no longer
    /// here and the job must read them again: [`JobError::Rewind`].
    fn continue_after(
        &mut self,
        status: &MigrationStatus,
        announced: Announced,
    ) -> Result<(), JobError> {
        while self
            .inflight
            .front()
            .is_some_and(|f| f.seq <= announced.applied)
        {
            self.retire_front(status);
        }
        if announced.applied < self.acknowledged_through() {
            return Err(JobError::Rewind(announced));
        }
        self.resend_all(status)
    }

    /// Forgets the oldest chunk in flight (acknowledged) and counts it;
    /// its LZ4 buffer (up to a window's worth) and its batch
    /// ([`SPARE_BATCHES`]) are kept for later chunks.
    fn retire_front(&mut self, status: &MigrationStatus) {
        if let Some(mut f) = self.inflight.pop_front() {
            self.tally.chunks = f.seq;
            status.set_stream_tally(self.stream, self.tally);
            status
                .inflight_bytes
                .fetch_sub(f.held_bytes(), Ordering::Relaxed);
            if self.spare.len() < self.inflight.len() + 1 && f.compressed.capacity() > 0 {
                f.compressed.clear();
                self.spare.push(std::mem::take(&mut f.compressed));
            }
            if self.spare_batches.len() < SPARE_BATCHES
                && f.batch.size_in_bytes() <= MAX_SPARE_BATCH_BYTES
            {
                f.batch.clear();
                self.spare_batches.push(f.batch);
            }
        }
    }

    /// The last sequence acknowledged with nothing unacknowledged before it.
    fn acknowledged_through(&self) -> u64 {
        self.inflight
            .front()
            .map_or(self.next_seq - 1, |f| f.seq - 1)
    }

    /// After a [`JobError::Rewind`]: forgets every chunk in flight; the
    /// next chunk sent follows the destination's checkpoint, and the
    /// job's totals go back to what that checkpoint holds.
    /// The chunks sent again from there count as retransmits.
    pub fn restart_after(&mut self, status: &MigrationStatus, announced: &Announced) {
        let applied = announced.applied;
        self.tally = match announced.tally {
            Some(t) => t,
            None if applied == 0 => Tally::default(),
            // A checkpoint without a tally: keys and bytes stay as counted.
            None => Tally {
                chunks: applied,
                ..self.tally
            },
        };
        status.set_stream_tally(self.stream, self.tally);
        let lost = (self.next_seq - 1).saturating_sub(applied);
        status.retransmits.fetch_add(lost, Ordering::Relaxed);
        for f in self.inflight.drain(..) {
            status
                .inflight_bytes
                .fetch_sub(f.held_bytes(), Ordering::Relaxed);
        }
        self.next_seq = applied + 1;
    }

    /// Waits for every chunk in flight, then asks the destination (by
    /// announcing the job again) to make what it received durable and
    /// checks it holds everything sent: [`JobError::Rewind`] when it does
    /// not. Called at the end of the snapshot phase, whose chunks the
    /// destination may hold in SST files not yet ingested.
    pub fn confirm(
        &mut self,
        status: &MigrationStatus,
        settings: &LinkSettings,
    ) -> Result<(), JobError> {
        self.drain(status, settings)?;
        match self.announce() {
            Ok(announced) => self.continue_after(status, announced),
            Err(JobError::Link(_)) => {
                self.recover(status, settings)?;
                self.drain(status, settings)
            }
            Err(e) => Err(e),
        }
    }

    fn resend_all(&mut self, status: &MigrationStatus) -> Result<(), JobError> {
        for f in &mut self.inflight {
            f.sent = Instant::now();
            if send_chunk(&mut self.peer, &mut self.head, &mut self.tail, f).is_err() {
                return Err(JobError::Link(crate::cluster::peer::PeerError::Io));
            }
            status.retransmits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Re-establishes a broken link: reconnects, asks the destination how
    /// far it got (its checkpoint), forgets what it already applied and
    /// sends the rest again.
    fn recover(
        &mut self,
        status: &MigrationStatus,
        settings: &LinkSettings,
    ) -> Result<(), JobError> {
        if !settings.resume {
            return Err(JobError::CannotResume(
                "the link broke and migrate-checkpoint is no".into(),
            ));
        }
        let mut last_err = None;
        for attempt in 1..=RECONNECT_ATTEMPTS {
            std::thread::sleep(RECONNECT_PAUSE);
            // Only a chunk in flight is lost by stopping here: the
            // hand-off has not been asked for.
            status.check_cancelled()?;
            tracing::warn!(
                "job {}: link broken, reconnecting (attempt {})",
                status.job_id,
                attempt
            );
            let peer = match PeerConnection::connect_auth(
                &self.host,
                self.port,
                Duration::from_secs(5),
                self.password.as_deref(),
            ) {
                Ok(p) => p,
                Err(e @ PeerError::Auth(_)) => return Err(JobError::Link(e)),
                Err(e) => {
                    last_err = Some(JobError::Link(e));
                    continue;
                }
            };
            self.peer = peer;
            let announced = match self.announce() {
                Ok(a) => a,
                Err(e @ (JobError::Refused(_) | JobError::DestinationOwns(_))) => return Err(e),
                Err(e) => {
                    last_err = Some(e);
                    continue;
                }
            };
            match self.continue_after(status, announced) {
                Err(JobError::Link(e)) => last_err = Some(JobError::Link(e)),
                other => return other,
            }
        }
        Err(last_err.unwrap_or(JobError::Link(crate::cluster::peer::PeerError::Io)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_carries_the_tally_up_to_its_chunk() {
        let tally = Tally {
            keys: 7,
            raw_bytes: 1 << 40,
            wire_bytes: 5,
            chunks: 0,
        };
        let wrapped = with_tally(tally, b"W\x00\x00\x00\x00\x00\x00\x00\x09");
        let (back, position) = split_tally(wrapped, 3);
        assert_eq!(back, Some(Tally { chunks: 3, ..tally }));
        assert_eq!(position, b"W\x00\x00\x00\x00\x00\x00\x00\x09");
        // Positions stored before tallies existed come back whole.
        assert_eq!(split_tally(b"Sxy".to_vec(), 2), (None, b"Sxy".to_vec()));
        assert_eq!(split_tally(b"T12".to_vec(), 2), (None, b"T12".to_vec()));
        assert_eq!(split_tally(Vec::new(), 0), (None, Vec::new()));
    }

    #[test]
    fn lz4_is_skipped_while_it_does_not_pay_and_tried_again() {
        let mut p = CompressionProbe::default();
        for _ in 0..MISSES_TO_SKIP {
            assert!(p.try_next());
            p.record(1000, 990);
        }
        for _ in 0..SKIP_CHUNKS {
            assert!(!p.try_next());
        }
        assert!(p.try_next(), "tried again");
        p.record(1000, 500);
        for _ in 0..20 {
            assert!(p.try_next());
            p.record(1000, 500);
        }
    }
}
