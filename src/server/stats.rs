//! Server-wide counters shown by INFO and reset by CONFIG RESETSTAT.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Counters updated on the hot path with relaxed atomics.
pub struct Stats {
    /// Connections accepted since start (or RESETSTAT).
    pub connections_received: AtomicU64,
    /// Connections refused by maxclients.
    pub rejected_connections: AtomicU64,
    /// Commands executed.
    pub commands_processed: AtomicU64,
    /// Bytes read from clients.
    pub net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub net_output_bytes: AtomicU64,
    /// Reads that found their key.
    pub keyspace_hits: AtomicU64,
    /// Reads that did not.
    pub keyspace_misses: AtomicU64,
    /// Error replies sent.
    pub error_replies: AtomicU64,
    ops_sample: Mutex<(std::time::Instant, u64, u64)>,
    storage_sample: Mutex<StorageSample>,
}

/// The last sample of storage operation totals and the rates derived.
struct StorageSample {
    at: std::time::Instant,
    totals: crate::storage::OpTotals,
    rates: crate::storage::OpTotals,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            connections_received: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            commands_processed: AtomicU64::new(0),
            net_input_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            keyspace_hits: AtomicU64::new(0),
            keyspace_misses: AtomicU64::new(0),
            error_replies: AtomicU64::new(0),
            ops_sample: Mutex::new((std::time::Instant::now(), 0, 0)),
            storage_sample: Mutex::new(StorageSample {
                at: std::time::Instant::now(),
                totals: Default::default(),
                rates: Default::default(),
            }),
        }
    }
}

impl Stats {
    /// Adds one to a counter.
    pub fn incr(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Zeroes the counters (CONFIG RESETSTAT).
    pub fn reset(&self) {
        for c in [
            &self.connections_received,
            &self.rejected_connections,
            &self.commands_processed,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.error_replies,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Operations per second since the previous call (at most once a second
    /// it takes a new sample).
    pub fn instantaneous_ops(&self) -> u64 {
        let now = std::time::Instant::now();
        let total = self.commands_processed.load(Ordering::Relaxed);
        let mut s = self.ops_sample.lock();
        let elapsed = now.duration_since(s.0).as_secs_f64();
        if elapsed >= 1.0 {
            let rate = (total.saturating_sub(s.1) as f64 / elapsed) as u64;
            *s = (now, total, rate);
        }
        s.2
    }

    /// RocksDB operations per second (put, get, seek, next), from totals
    /// read now; a new sample is taken at most once a second.
    pub fn storage_rates(&self, totals: crate::storage::OpTotals) -> crate::storage::OpTotals {
        let now = std::time::Instant::now();
        let mut s = self.storage_sample.lock();
        let elapsed = now.duration_since(s.at).as_secs_f64();
        if elapsed >= 1.0 {
            let rate = |new: u64, old: u64| (new.saturating_sub(old) as f64 / elapsed) as u64;
            s.rates = crate::storage::OpTotals {
                put: rate(totals.put, s.totals.put),
                get: rate(totals.get, s.totals.get),
                seek: rate(totals.seek, s.totals.seek),
                next: rate(totals.next, s.totals.next),
                prev: rate(totals.prev, s.totals.prev),
                compact_write_bytes: rate(totals.compact_write_bytes, s.totals.compact_write_bytes),
            };
            s.at = now;
            s.totals = totals;
        }
        s.rates
    }
}
