//! Small helpers shared by several layers.

pub mod failpoint;
pub mod fnv;
pub mod glob;
pub mod numbers;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
