//! Configuration: the kvrocks-style file, command-line overrides, typed
//! access, run-time changes (`CONFIG SET`) and `CONFIG REWRITE`.

pub mod file;
pub mod keys;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use keys::{KeyDef, Kind, KEYS};

/// A problem with a config file or a command-line setting.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A malformed line or a bad value; names where it is.
    #[error("{place}: {reason}")]
    Bad {
        /// `file:line`, or `command line`.
        place: String,
        /// What is wrong.
        reason: String,
    },
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Why a run-time `CONFIG SET` was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SetError {
    /// The key is not known.
    #[error("Unknown option or number of arguments for CONFIG SET - '{0}'")]
    Unknown(String),
    /// The key exists but cannot change while running.
    #[error("CONFIG SET failed (possibly related to argument '{0}') - can't set immutable config")]
    Immutable(String),
    /// The value is invalid for the key.
    #[error("CONFIG SET failed (possibly related to argument '{0}') - {1}")]
    BadValue(String, String),
}

/// The whole configuration as loaded, with the values in force now.
#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<&'static str, String>,
    /// `rename-command OLD NEW` pairs, lower-cased; NEW empty disables OLD.
    pub rename_commands: Vec<(String, String)>,
    /// Namespace name -> token (`namespace.NAME TOKEN` lines).
    pub namespaces: BTreeMap<String, String>,
    /// The file this was loaded from, if any (`CONFIG REWRITE` target).
    pub path: Option<PathBuf>,
    /// Where each key was last set (`file:line`, `command line`,
    /// `CONFIG SET`), oldest first; names the culprit of a conflict.
    places: Vec<(&'static str, String)>,
}

/// Pairs of keys where the first must not be larger than the second.
const ORDERED_PAIRS: &[(&str, &str)] = &[
    ("migrate-batch-size-min-kb", "migrate-batch-size-max-kb"),
    ("proto-max-bulk-len", "client-query-buffer-limit"),
    (
        "rocksdb.level0_slowdown_writes_trigger",
        "rocksdb.level0_stop_writes_trigger",
    ),
];

/// Values of two keys that contradict each other.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{reason}")]
pub struct Conflict {
    /// The key blamed: the one of the pair that was set last.
    pub key: &'static str,
    /// Where the blamed key was set, if anywhere but the defaults.
    pub place: Option<String>,
    /// What is wrong, naming both keys and values.
    pub reason: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: KEYS
                .iter()
                .map(|k| (k.name, k.default.to_string()))
                .collect(),
            rename_commands: Vec::new(),
            namespaces: BTreeMap::new(),
            path: None,
            places: Vec::new(),
        }
    }
}

impl Config {
    /// Loads `path` (if given) then applies `overrides` (`--key value` pairs).
    /// Unknown keys produce warnings (returned), bad values an error.
    pub fn load(
        path: Option<&Path>,
        overrides: &[(String, String)],
    ) -> Result<(Config, Vec<String>), ConfigError> {
        let mut cfg = Config::default();
        let mut warnings = Vec::new();
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                path: path.display().to_string(),
                source,
            })?;
            let name = path.display().to_string();
            for (idx, raw) in text.lines().enumerate() {
                let place = format!("{}:{}", name, idx + 1);
                let Some(entry) = file::parse_line(raw).map_err(|reason| ConfigError::Bad {
                    place: place.clone(),
                    reason,
                })?
                else {
                    continue;
                };
                if let Some(w) = cfg
                    .apply(&entry.key, &entry.values, &place)
                    .map_err(|reason| ConfigError::Bad {
                        place: place.clone(),
                        reason,
                    })?
                {
                    warnings.push(format!("{place}: {w}"));
                }
            }
            cfg.path = Some(path.to_path_buf());
        }
        for (k, v) in overrides {
            let values: Vec<String> = v.split_whitespace().map(String::from).collect();
            let values = if values.is_empty() {
                vec![String::new()]
            } else {
                values
            };
            if let Some(w) = cfg
                .apply(&k.to_ascii_lowercase(), &values, "command line")
                .map_err(|reason| ConfigError::Bad {
                    place: "command line".into(),
                    reason,
                })?
            {
                warnings.push(format!("command line: {w}"));
            }
        }
        cfg.validate().map_err(|c| ConfigError::Bad {
            place: c.place.unwrap_or_else(|| "config".into()),
            reason: c.reason,
        })?;
        Ok((cfg, warnings))
    }

    /// Applies one `key values...` entry; `Ok(Some(warning))` for unknown keys.
    fn apply(
        &mut self,
        key: &str,
        values: &[String],
        place: &str,
    ) -> Result<Option<String>, String> {
        if key == "rename-command" {
            return match values {
                [old, new] => {
                    self.rename_commands
                        .push((old.to_ascii_lowercase(), new.to_ascii_lowercase()));
                    Ok(None)
                }
                [old] => {
                    self.rename_commands
                        .push((old.to_ascii_lowercase(), String::new()));
                    Ok(None)
                }
                _ => Err("rename-command expects OLD-NAME NEW-NAME".into()),
            };
        }
        if let Some(ns) = key.strip_prefix("namespace.") {
            let [token] = values else {
                return Err(format!("{key} expects exactly one token"));
            };
            if ns.is_empty() || token.is_empty() {
                return Err("namespace name and token must not be empty".into());
            }
            self.namespaces.insert(ns.to_string(), token.clone());
            return Ok(None);
        }
        let Some(def) = keys::find(key) else {
            return Ok(Some(format!("unknown config key '{key}', skipped")));
        };
        let joined = match def.kind {
            Kind::List => values.join(" "),
            _ => match values {
                [one] => one.clone(),
                [] => String::new(),
                _ => return Err(format!("'{key}' takes one value, got {}", values.len())),
            },
        };
        let value = def
            .normalise(&joined)
            .map_err(|e| format!("'{key}': {e}"))?;
        self.values.insert(def.name, value);
        self.set_place(def.name, place);
        Ok(None)
    }

    fn set_place(&mut self, key: &'static str, place: &str) {
        self.places.retain(|(k, _)| *k != key);
        self.places.push((key, place.to_string()));
    }

    /// Position of `key` in `places` (None when it has its default).
    fn set_order(&self, key: &str) -> Option<usize> {
        self.places.iter().position(|(k, _)| *k == key)
    }

    /// Checks the keys that constrain each other. The one validator used
    /// at start-up, by `CONFIG SET` (on the candidate values) and before
    /// `CONFIG REWRITE` writes anything.
    pub fn validate(&self) -> Result<(), Conflict> {
        for &(low, high) in ORDERED_PAIRS {
            let (lv, hv) = (self.int(low), self.int(high));
            if lv <= hv {
                continue;
            }
            let low_last = self.set_order(low) > self.set_order(high);
            let (key, reason) = if low_last {
                (
                    low,
                    format!("'{low}' ({lv}) must not be larger than '{high}' ({hv})"),
                )
            } else {
                (
                    high,
                    format!("'{high}' ({hv}) must not be smaller than '{low}' ({lv})"),
                )
            };
            let key = keys::find(key).map(|d| d.name).unwrap_or(low);
            let place = self
                .places
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, p)| p.clone());
            return Err(Conflict { key, place, reason });
        }
        Ok(())
    }

    /// The value of a known key, as text.
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    /// The value of an integer or memory key.
    pub fn int(&self, name: &str) -> i64 {
        self.get(name).parse().unwrap_or(0)
    }

    /// The value of a `yes`/`no` key.
    pub fn bool(&self, name: &str) -> bool {
        self.get(name) == "yes"
    }

    /// The listen addresses (`bind`).
    pub fn binds(&self) -> Vec<String> {
        self.get("bind")
            .split_whitespace()
            .map(String::from)
            .collect()
    }

    /// Changes a key at run time, checking mutability and the value.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), SetError> {
        let lower = name.to_ascii_lowercase();
        let def = keys::find(&lower).ok_or_else(|| SetError::Unknown(name.to_string()))?;
        if !def.mutable {
            return Err(SetError::Immutable(lower));
        }
        let value = def
            .normalise(value)
            .map_err(|e| SetError::BadValue(lower.clone(), e))?;
        self.values.insert(def.name, value);
        self.set_place(def.name, "CONFIG SET");
        Ok(())
    }

    /// All `(key, value)` pairs whose key matches the glob `pattern`.
    pub fn matching(&self, pattern: &[u8]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .values
            .iter()
            .filter(|(k, _)| crate::util::glob::matches(pattern, k.as_bytes(), true))
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        for (name, token) in &self.namespaces {
            let key = format!("namespace.{name}");
            if crate::util::glob::matches(pattern, key.as_bytes(), true) {
                out.push((key, token.clone()));
            }
        }
        out
    }

    /// Writes the current values back to the file it was loaded from,
    /// keeping comments and the order of lines.
    pub fn rewrite(&self) -> Result<(), ConfigError> {
        let Some(path) = &self.path else {
            return Err(ConfigError::Bad {
                place: "CONFIG REWRITE".into(),
                reason: "The server is running without a config file".into(),
            });
        };
        self.validate().map_err(|c| ConfigError::Bad {
            place: "CONFIG REWRITE".into(),
            reason: c.reason,
        })?;
        let old = std::fs::read_to_string(path).unwrap_or_default();
        let new = file::rewrite(&old, self);
        file::write_atomically(path, &new).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Key/value pairs that differ from the defaults, in table order.
    pub fn non_default(&self) -> Vec<(&'static str, &str)> {
        KEYS.iter()
            .filter(|k| self.get(k.name) != k.default)
            .map(|k| (k.name, self.get(k.name)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_with_unknown_and_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.conf");
        std::fs::write(&p, "# c\nport 7000\nbind 127.0.0.1 ::1\nappendonly yes\n").unwrap();
        let (cfg, warns) = Config::load(Some(&p), &[]).unwrap();
        assert_eq!(cfg.int("port"), 7000);
        assert_eq!(cfg.binds().len(), 2);
        assert_eq!(warns.len(), 1);
        assert!(warns[0].contains("f.conf:4"));
        std::fs::write(&p, "port abc\n").unwrap();
        let err = Config::load(Some(&p), &[]).unwrap_err().to_string();
        assert!(err.contains("f.conf:1"), "{err}");
    }

    #[test]
    fn set_rules() {
        let mut cfg = Config::default();
        assert!(cfg.set("timeout", "10").is_ok());
        assert_eq!(
            cfg.set("port", "1"),
            Err(SetError::Immutable("port".into()))
        );
        assert!(matches!(cfg.set("nope", "1"), Err(SetError::Unknown(_))));
    }

    #[test]
    fn conflicts_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.conf");
        std::fs::write(
            &p,
            "port 7000\nmigrate-batch-size-min-kb 64\nmigrate-batch-size-max-kb 32\n",
        )
        .unwrap();
        let err = Config::load(Some(&p), &[]).unwrap_err().to_string();
        assert!(err.contains("f.conf:3"), "{err}");
        assert!(err.contains("migrate-batch-size-max-kb"), "{err}");

        let mut cfg = Config::default();
        cfg.set("migrate-batch-size-max-kb", "1").unwrap();
        let c = cfg.validate().unwrap_err();
        assert_eq!(c.key, "migrate-batch-size-max-kb");
        cfg.set("migrate-batch-size-max-kb", "16").unwrap();
        assert!(cfg.validate().is_ok());
    }

    /// `make run`'s file states the built-in defaults: a server started
    /// without a file behaves as one started with it, and a default changed
    /// in one place only shows up here.
    #[test]
    fn the_shipped_config_file_states_the_built_in_defaults() {
        let text = include_str!("../../conf/ferrocks.conf");
        let mut checked = 0;
        for raw in text.lines() {
            let Some(entry) = file::parse_line(raw).expect("a valid line") else {
                continue;
            };
            let name = &entry.key;
            let def = keys::find(name).unwrap_or_else(|| panic!("{name} is not a config key"));
            assert_eq!(
                entry.values.join(" "),
                def.default,
                "{name}: the file and the built-in default differ"
            );
            checked += 1;
        }
        assert!(checked > 50, "only {checked} keys in the file");
    }
}
