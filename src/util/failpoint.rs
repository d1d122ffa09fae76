//! Fault injection for the crash tests: `FERROCKS_FAILPOINTS` names points
//! (comma-separated) where the process dies at once, as if killed with
//! `kill -9`, so a test can stop a node between two steps that no timing
//! could separate reliably. Unset (always, outside tests), every point is
//! a no-op after one cached lookup.

use std::sync::OnceLock;

/// The environment variable that arms fail points.
pub const ENV: &str = "FERROCKS_FAILPOINTS";

fn armed() -> &'static [String] {
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    ARMED.get_or_init(|| {
        std::env::var(ENV)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Dies here, without cleanup, when `name` is armed.
pub fn crash_at(name: &str) {
    if armed().iter().any(|a| a == name) {
        tracing::error!("fail point {} armed: stopping the process", name);
        std::process::abort();
    }
}
