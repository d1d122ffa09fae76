//! The physical reference for `make bench-migrate`: the same number of
//! records, with the same key shape and value sizes, written straight into
//! an empty RocksDB (ferrocks's storage layer) by one local `WriteBatch`
//! loop with the migration's chunk size. Prints `seconds bytes records`.

use std::time::Instant;

use ferrocks::config::Config;
use ferrocks::storage::{keys, metadata, Cf, Storage};
use rocksdb::WriteBatch;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(count), Some(slot)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: ferrocks-bench-local-write DIR KEYS SLOT [CHUNK_KB]");
        std::process::exit(2);
    };
    let count: u64 = count.parse().unwrap_or(0);
    let slot: u16 = slot.parse().unwrap_or(0);
    let chunk = args
        .next()
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(64)
        * 1024;
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
    for i in 0..count {
        let len = 100 + (next() % 925) as usize;
        let offset = (next() % ((1u64 << 20) - len as u64)) as usize;
        let value = &pool[offset..offset + len];
        let key = keys::encode_in_slot(b"", slot, format!("bench:{i}").as_bytes());
        batch.put_cf(
            storage.cf(Cf::Metadata),
            key,
            metadata::encode_string(0, value),
        );
        if batch.size_in_bytes() >= chunk {
            bytes += batch.size_in_bytes() as u64;
            if let Err(e) = storage.write(std::mem::take(&mut batch)) {
                eprintln!("write failed: {e}");
                std::process::exit(1);
            }
        }
    }
    bytes += batch.size_in_bytes() as u64;
    if let Err(e) = storage.write(batch) {
        eprintln!("write failed: {e}");
        std::process::exit(1);
    }
    println!("{:.3} {} {}", started.elapsed().as_secs_f64(), bytes, count);
}
