//! The table of configuration keys ferrocks knows: name, default, value kind
//! and whether `CONFIG SET` may change it while running.
//!
//! Names and units follow kvrocks (`rocksdb.write_buffer_size` is in MiB, as
//! there), so an existing kvrocks config file works unchanged.

/// How a key's value is validated and normalised.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A decimal integer within bounds.
    Int {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A size in bytes, with optional `k`/`kb`/`m`/`mb`/`g`/`gb` suffix
    /// (powers of 1024, as in kvrocks), at least `min`.
    Memory {
        /// Smallest accepted value, in bytes.
        min: i64,
    },
    /// `yes` or `no`.
    Bool,
    /// Any string.
    Str,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// One or more space-separated words (`bind`).
    List,
}

/// One known configuration key.
#[derive(Debug, Clone, Copy)]
pub struct KeyDef {
    /// The key as written in the file and in `CONFIG GET`.
    pub name: &'static str,
    /// The value used when the file does not set it.
    pub default: &'static str,
    /// How values are checked.
    pub kind: Kind,
    /// True when `CONFIG SET` may change it at run time.
    pub mutable: bool,
}

const fn key(name: &'static str, default: &'static str, kind: Kind, mutable: bool) -> KeyDef {
    KeyDef {
        name,
        default,
        kind,
        mutable,
    }
}

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

const fn memory(min: i64) -> Kind {
    Kind::Memory { min }
}

const I32: i64 = i32::MAX as i64;
/// One MiB: the floor of the protocol size limits, as in Redis.
const MIB: i64 = 1024 * 1024;

/// Every key ferrocks understands. Defaults match `conf/ferrocks.conf`.
pub static KEYS: &[KeyDef] = &[
    key("bind", "127.0.0.1", Kind::List, false),
    key("port", "6666", int(0, 65535), false),
    key("dir", "./data", Kind::Str, false),
    key("workers", "0", int(0, 256), true),
    key("daemonize", "no", Kind::Enum(&["no"]), false),
    key(
        "supervised",
        "no",
        Kind::Enum(&["no", "auto", "systemd", "upstart"]),
        false,
    ),
    key("pidfile", "", Kind::Str, false),
    key("cluster-enabled", "no", Kind::Bool, false),
    key("persist-cluster-nodes-enabled", "yes", Kind::Bool, true),
    key("resp3-enabled", "yes", Kind::Bool, true),
    key("txn-context-enabled", "no", Kind::Bool, true),
    key("repl-namespace-enabled", "no", Kind::Bool, true),
    key("requirepass", "", Kind::Str, true),
    key("masterauth", "", Kind::Str, true),
    key("maxclients", "10000", int(1, 1_000_000), true),
    key("timeout", "0", int(0, I32), true),
    key("tcp-backlog", "511", int(1, 65535), false),
    key("proto-max-bulk-len", "536870912", memory(MIB), true),
    key("client-query-buffer-limit", "1073741824", memory(MIB), true),
    key(
        "client-output-buffer-limit-bytes",
        "1048576",
        memory(0),
        true,
    ),
    key(
        "log-level",
        "info",
        Kind::Enum(&["debug", "info", "warning", "error", "fatal"]),
        true,
    ),
    key("log-dir", "", Kind::Str, false),
    key("db-name", "change.me.db", Kind::Str, false),
    key("slowlog-log-slower-than", "100000", int(-1, i64::MAX), true),
    key("slowlog-max-len", "128", int(0, I32), true),
    key("rocksdb.write_buffer_size", "16", int(1, 4096), false),
    key("rocksdb.max_write_buffer_number", "4", int(1, 256), false),
    key("rocksdb.max_open_files", "8096", int(-1, I32), false),
    key("rocksdb.block_cache_size", "256", int(0, 1 << 20), false),
    key("metadata-cache-mb", "32", int(0, 1 << 20), true),
    key("rocksdb.block_size", "16384", int(512, 1 << 24), false),
    key(
        "rocksdb.compression",
        "lz4",
        Kind::Enum(&["no", "snappy", "lz4", "zstd", "zlib"]),
        true,
    ),
    key("rocksdb.max_background_jobs", "4", int(1, 64), false),
    key("rocksdb.max_subcompactions", "2", int(1, 64), false),
    key(
        "rocksdb.target_file_size_base",
        "128",
        int(1, 1 << 20),
        false,
    ),
    key(
        "rocksdb.level0_slowdown_writes_trigger",
        "20",
        int(1, 1024),
        false,
    ),
    key(
        "rocksdb.level0_stop_writes_trigger",
        "40",
        int(1, 1024),
        false,
    ),
    key(
        "rocksdb.cache_index_and_filter_blocks",
        "yes",
        Kind::Bool,
        false,
    ),
    key("rocksdb.partition_filters", "yes", Kind::Bool, false),
    key(
        "rocksdb.metadata_block_size",
        "4096",
        int(512, 1 << 24),
        false,
    ),
    key("rocksdb.enable_pipelined_write", "no", Kind::Bool, false),
    key("rocksdb.wal_ttl_seconds", "10800", int(0, I32), false),
    key("rocksdb.wal_size_limit_mb", "16384", int(0, I32), false),
    key("rocksdb.stats_dump_period_sec", "0", int(0, I32), false),
    key("rocksdb.bytes_per_sync", "1048576", int(0, I32), false),
    key("rocksdb.wal_bytes_per_sync", "1048576", int(0, I32), false),
    key(
        "rocksdb.use_direct_io_for_flush_and_compaction",
        "no",
        Kind::Bool,
        false,
    ),
    key("rocksdb.use_direct_reads", "no", Kind::Bool, false),
    key("rocksdb.write_options.sync", "no", Kind::Bool, true),
    key(
        "migrate-type",
        "raw-key-value",
        Kind::Enum(&["raw-key-value", "redis-command"]),
        true,
    ),
    key("migrate-speed", "4096", int(0, I32), true),
    key("migrate-pipeline-size", "16", int(1, 1 << 20), true),
    key("migrate-sequence-gap", "10000", int(1, I32), true),
    key("migrate-batch-size-kb", "64", int(1, 1 << 20), true),
    key("migrate-batch-rate-limit-mb", "0", int(0, 1 << 20), true),
    key("migrate-window", "8", int(1, 1024), true),
    key(
        "migrate-compression",
        "lz4",
        Kind::Enum(&["lz4", "none"]),
        true,
    ),
    key("migrate-batch-size-min-kb", "16", int(1, 1 << 20), true),
    key("migrate-batch-size-max-kb", "4096", int(1, 1 << 20), true),
    key("migrate-checkpoint", "yes", Kind::Bool, true),
    key("migrate-import-flush-mb", "16", int(0, 1 << 20), true),
    key("migrate-import-idle-timeout", "60", int(1, 1 << 20), true),
    key(
        "migrate-import-mode",
        "sst",
        Kind::Enum(&["sst", "write"]),
        true,
    ),
    key("migrate-import-sst-mb", "64", int(1, 1 << 20), true),
    key("migrate-parallelism", "0", int(0, 64), true),
];

/// Looks a key up by its (lower-case) name.
pub fn find(name: &str) -> Option<&'static KeyDef> {
    KEYS.iter().find(|k| k.name == name)
}

/// Parses a memory size such as `512mb`, `100M`, `1gb`, `4096` into
/// bytes. Units are powers of 1024 with or without the `b`, as in kvrocks.
pub fn parse_memory(text: &str) -> Option<i64> {
    let lower = text.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    let n: i64 = num.parse().ok()?;
    let mul: i64 = match unit {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mul)
}

impl KeyDef {
    /// Checks `value` and returns its normalised form, or why it is wrong.
    pub fn normalise(&self, value: &str) -> Result<String, String> {
        match self.kind {
            Kind::Int { min, max } => {
                let n: i64 = value
                    .trim()
                    .parse()
                    .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
                if n < min || n > max {
                    return Err(format!(
                        "argument must be between {min} and {max} inclusive"
                    ));
                }
                Ok(n.to_string())
            }
            Kind::Memory { min } => {
                let n = parse_memory(value)
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| format!("argument must be a memory value: '{value}'"))?;
                if n < min {
                    return Err(format!(
                        "argument must be between {min} and {} inclusive",
                        i64::MAX
                    ));
                }
                Ok(n.to_string())
            }
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err(format!("argument must be 'yes' or 'no': '{value}'")),
            },
            Kind::Enum(words) => {
                let lower = value.to_ascii_lowercase();
                if words.contains(&lower.as_str()) {
                    Ok(lower)
                } else {
                    Err(format!(
                        "invalid value '{value}', expected one of: {}",
                        words.join(", ")
                    ))
                }
            }
            Kind::Str => Ok(value.to_string()),
            Kind::List => {
                let words: Vec<&str> = value.split_whitespace().collect();
                if words.is_empty() {
                    return Err("expects at least one value".into());
                }
                Ok(words.join(" "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        for k in KEYS {
            assert_eq!(
                k.normalise(k.default).as_deref(),
                Ok(k.default),
                "{}",
                k.name
            );
        }
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("512mb"), Some(512 << 20));
        assert_eq!(parse_memory("1k"), Some(1024));
        assert_eq!(parse_memory("100M"), Some(104_857_600));
        assert_eq!(parse_memory("2G"), Some(2 << 30));
        assert_eq!(parse_memory("x"), None);
    }
}
