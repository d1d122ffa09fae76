//! The point where a job's parallel streams wait for each other: every
//! stream sends its share of the metadata column family first, and none
//! sends subkeys until all metadata is in the destination's database (its
//! compaction filter judges subkeys by their key's metadata). A stream
//! that fails releases the others with an error instead of leaving them
//! waiting.

use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::status::{JobError, MigrationStatus};

/// How often a waiting stream looks at the job's cancel flag.
const CHECK_EVERY: Duration = Duration::from_millis(100);

/// A barrier for `n` streams that a failure opens with an error.
pub struct Rendezvous {
    n: usize,
    state: Mutex<(usize, bool)>,
    wake: Condvar,
}

impl Rendezvous {
    /// A barrier for `n` streams.
    pub fn new(n: usize) -> Rendezvous {
        Rendezvous {
            n,
            state: Mutex::new((0, false)),
            wake: Condvar::new(),
        }
    }

    /// Arrives and waits until every stream has arrived;
    /// [`JobError::StreamFailed`] when another stream failed, and the
    /// job's own error when it was cancelled meanwhile.
    pub fn wait(&self, status: &MigrationStatus) -> Result<(), JobError> {
        let mut state = self.state.lock();
        state.0 += 1;
        self.wake.notify_all();
        loop {
            if state.1 {
                return Err(JobError::StreamFailed);
            }
            if state.0 >= self.n {
                return Ok(());
            }
            self.wake.wait_for(&mut state, CHECK_EVERY);
            if let Err(e) = status.check_cancelled() {
                state.1 = true;
                self.wake.notify_all();
                return Err(e);
            }
        }
    }

    /// Marks the job failed: waiting streams return at once.
    pub fn fail(&self) {
        self.state.lock().1 = true;
        self.wake.notify_all();
    }
}
