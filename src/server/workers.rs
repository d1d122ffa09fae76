//! The worker threads that serve connections, resizable at run time
//! (`CONFIG SET workers`, as in kvrocks).
//!
//! Connections run on a pool: a multi-thread tokio runtime of `workers`
//! threads. Changing the count starts a new pool that takes every new
//! connection; the old pool keeps the connections it has until they close
//! and is then shut down. A connection never moves between pools, so a
//! resize never interrupts a command.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use thiserror::Error;
use tokio::runtime::Runtime;

/// Name of the threads of every pool (at most 15 bytes, the kernel's limit).
pub const THREAD_NAME: &str = "ferrocks-worker";

/// A pool could not be started.
#[derive(Debug, Error)]
#[error("cannot start {threads} worker threads: {source}")]
pub struct PoolError {
    threads: usize,
    #[source]
    source: std::io::Error,
}

/// One generation of worker threads.
struct Pool {
    runtime: Mutex<Option<Runtime>>,
    threads: usize,
    connections: AtomicUsize,
}

impl Pool {
    fn start(threads: usize) -> Result<Arc<Pool>, PoolError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(THREAD_NAME)
            .enable_all()
            .build()
            .map_err(|source| PoolError { threads, source })?;
        Ok(Arc::new(Pool {
            runtime: Mutex::new(Some(runtime)),
            threads,
            connections: AtomicUsize::new(0),
        }))
    }

    fn stop(&self) {
        if let Some(rt) = self.runtime.lock().take() {
            // Never blocks, so it is safe from any thread or task.
            rt.shutdown_background();
        }
    }
}

/// Counts a connection in its pool for as long as it lives.
struct Lease(Arc<Pool>);

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The pool taking new connections, and the retired ones still draining.
pub struct WorkerPools {
    current: Mutex<Arc<Pool>>,
    retired: Mutex<Vec<Arc<Pool>>>,
}

/// The thread count a `workers` setting means: 0 is one per core.
pub fn threads_for(setting: i64) -> usize {
    match setting {
        n if n > 0 => n as usize,
        _ => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    }
}

impl WorkerPools {
    /// Starts the first pool with `threads` threads.
    pub fn start(threads: usize) -> Result<WorkerPools, PoolError> {
        Ok(WorkerPools {
            current: Mutex::new(Pool::start(threads)?),
            retired: Mutex::new(Vec::new()),
        })
    }

    /// Threads of the pool that takes new connections.
    pub fn threads(&self) -> usize {
        self.current.lock().threads
    }

    /// Runs a connection's future on the current pool.
    pub fn spawn<F>(&self, serve: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let pool = self.current.lock().clone();
        pool.connections.fetch_add(1, Ordering::SeqCst);
        let lease = Lease(pool.clone());
        let guard = pool.runtime.lock();
        match guard.as_ref() {
            Some(rt) => {
                rt.spawn(async move {
                    let _lease = lease;
                    serve.await;
                });
            }
            None => drop(lease),
        }
    }

    /// Changes the thread count: new connections go to a new pool of
    /// `threads` threads; the old one drains. Nothing changes when the
    /// count is the same.
    pub fn resize(&self, threads: usize) -> Result<(), PoolError> {
        let mut current = self.current.lock();
        if current.threads == threads {
            return Ok(());
        }
        let next = Pool::start(threads)?;
        let old = std::mem::replace(&mut *current, next);
        drop(current);
        tracing::info!(
            "worker threads: {} -> {}; the old pool drains its {} connections",
            old.threads,
            threads,
            old.connections.load(Ordering::SeqCst)
        );
        self.retired.lock().push(old);
        Ok(())
    }

    /// Shuts down retired pools whose connections have all closed.
    pub fn reap(&self) {
        self.retired.lock().retain(|pool| {
            let idle = pool.connections.load(Ordering::SeqCst) == 0;
            if idle {
                pool.stop();
            }
            !idle
        });
    }

    /// Waits (up to `limit`) for every pool's connections to end, then
    /// stops all pools. Called once, at shutdown, outside any pool.
    pub fn stop_all(&self, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        let mut pools = std::mem::take(&mut *self.retired.lock());
        pools.push(self.current.lock().clone());
        while pools
            .iter()
            .any(|p| p.connections.load(Ordering::SeqCst) > 0)
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        for p in pools {
            p.stop();
        }
    }
}
