//! Logging setup: stderr always, plus a file in `log-dir` when set; the level
//! can change at run time (`CONFIG SET log-level`).

use std::sync::OnceLock;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Registry;

static RELOAD: OnceLock<reload::Handle<LevelFilter, Registry>> = OnceLock::new();

/// Maps kvrocks level names to a filter.
fn level_filter(level: &str) -> LevelFilter {
    match level {
        "debug" => LevelFilter::DEBUG,
        "warning" => LevelFilter::WARN,
        "error" | "fatal" => LevelFilter::ERROR,
        _ => LevelFilter::INFO,
    }
}

/// Installs the global logger. `log_dir` empty (or `stdout`/`stderr`) means
/// stderr only.
pub fn init(level: &str, log_dir: &str) -> std::io::Result<()> {
    let (filter, handle) = reload::Layer::new(level_filter(level));
    let _ = RELOAD.set(handle);
    let file = if log_dir.is_empty() || log_dir == "stdout" || log_dir == "stderr" {
        None
    } else {
        std::fs::create_dir_all(log_dir)?;
        Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(std::path::Path::new(log_dir).join("ferrocks.log"))?,
        )
    };
    let registry = tracing_subscriber::registry().with(filter);
    match file {
        Some(f) => {
            let writer = std::io::stderr.and(std::sync::Mutex::new(f));
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_writer(writer)
                        .with_ansi(false),
                )
                .try_init()
        }
        None => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
            )
            .try_init(),
    }
    .map_err(|e| std::io::Error::other(e.to_string()))
}

/// Changes the level at run time.
pub fn set_level(level: &str) {
    if let Some(h) = RELOAD.get() {
        let _ = h.modify(|f| *f = level_filter(level));
    }
}
