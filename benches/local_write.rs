//! The physical reference for `make bench-migrate`: the same records a
//! migration moves (the bench's key shape, value sizes and, for hashes,
//! the metadata record plus one record per field), written straight into
//! an empty RocksDB (ferrocks's storage layer) by one local `WriteBatch`
//! loop with the migration's chunk size. Prints `seconds bytes keys`.
//!
//! Shapes (the fifth argument, as `BENCH_SHAPE` in `benches/migrate.sh`):
//! `strings` (default; also `docs`), `hashes` (one hash of 1-2 fields per
//! key, the value split in two halves for two fields), `bighash` (one hash
//! of KEYS fields).

use std::time::Instant;

use ferrocks::cluster::slot::key_slot;
use ferrocks::config::Config;
use ferrocks::storage::metadata::{Composite, DataType};
use ferrocks::storage::{keys, metadata, subkeys, Cf, Storage};
use rocksdb::WriteBatch;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(count), Some(slot)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: ferrocks-bench-local-write DIR KEYS SLOT [CHUNK_KB] [SHAPE]");
        std::process::exit(2);
    };
    let count: u64 = count.parse().unwrap_or(0);
    let slot: u16 = slot.parse().unwrap_or(0);
    let chunk = args
        .next()
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(64)
        * 1024;
    let shape = args.next().unwrap_or_else(|| "strings".into());
    if !["strings", "docs", "hashes", "bighash"].contains(&shape.as_str()) {
        eprintln!("SHAPE must be strings, docs, hashes or bighash");
        std::process::exit(2);
    }
    let (cfg, _) = match Config::load(None, &[("dir".into(), dir)]) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bad dir: {e}");
            std::process::exit(2);
        }
    };
    let storage = match Storage::open(&cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot open storage: {e}");
            std::process::exit(1);
        }
    };
    // Same generator as benches/migrate.sh's fill: value sizes 100..=1024.
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let pool: Vec<u8> = (0..1usize << 20)
        .map(|_| b'a' + (next() % 26) as u8)
        .collect();
    let started = Instant::now();
    let mut batch = WriteBatch::default();
    let mut bytes = 0u64;
    let meta_cf = storage.cf(Cf::Metadata);
    let sub_cf = storage.cf(Cf::Subkey);
    let version = storage.next_version();
    // The bench's keys: a hash tag of the slot, as benches/migrate.sh
    // fills it, so the records are the ones a move carries.
    let tag = tag_for_slot(slot);
    let big_key = format!("{{{tag}}}bighash");
    let flush = |batch: &mut WriteBatch, bytes: &mut u64, force: bool| {
        if force || batch.size_in_bytes() >= chunk {
            *bytes += batch.size_in_bytes() as u64;
            if let Err(e) = storage.write(std::mem::take(batch)) {
                eprintln!("write failed: {e}");
                std::process::exit(1);
            }
        }
    };
    for i in 0..count {
        let len = 100 + (next() % 925) as usize;
        let offset = (next() % ((1u64 << 20) - len as u64)) as usize;
        let value = &pool[offset..offset + len];
        match shape.as_str() {
            "hashes" => {
                let user_key = format!("{{{tag}}}bench:{i}");
                let fields: Vec<(&[u8], &[u8])> = if i % 2 == 1 {
                    vec![(b"f1", value)]
                } else {
                    let half = len / 2;
                    vec![(b"f1", &value[..half]), (b"f2", &value[half..])]
                };
                let mut meta = Composite::new(DataType::Hash, version + i);
                meta.size = fields.len() as u64;
                let key = keys::encode(b"", user_key.as_bytes());
                batch.put_cf(meta_cf, key, meta.encode());
                for (field, v) in fields {
                    let sub = subkeys::subkey(b"", user_key.as_bytes(), version + i, field);
                    batch.put_cf(sub_cf, sub, v);
                }
            }
            "bighash" => {
                let field = format!("field:{i}");
                let sub = subkeys::subkey(b"", big_key.as_bytes(), version, field.as_bytes());
                batch.put_cf(sub_cf, sub, value);
            }
            _ => {
                let key = keys::encode(b"", format!("{{{tag}}}bench:{i}").as_bytes());
                batch.put_cf(meta_cf, key, metadata::encode_string(0, value));
            }
        }
        flush(&mut batch, &mut bytes, false);
    }
    if shape == "bighash" {
        let mut meta = Composite::new(DataType::Hash, version);
        meta.size = count;
        batch.put_cf(
            meta_cf,
            keys::encode(b"", big_key.as_bytes()),
            meta.encode(),
        );
    }
    flush(&mut batch, &mut bytes, true);
    println!("{:.3} {} {}", started.elapsed().as_secs_f64(), bytes, count);
}

/// A hash tag `t<N>` whose keys land in `slot` (the first such N, as
/// benches/migrate.sh picks it).
fn tag_for_slot(slot: u16) -> String {
    (0u64..)
        .map(|i| format!("t{i}"))
        .find(|t| key_slot(t.as_bytes()) == slot % 16384)
        .unwrap_or_default()
}
