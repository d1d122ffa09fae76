//! Expired keys are invisible at once and physically removed by the
//! compaction filter: after COMPACT, RocksDB's own key estimate for the
//! metadata column family no longer counts them.

mod common;

use std::time::Duration;

use common::{q, Server};

fn metadata_estimate(con: &mut redis::Connection) -> u64 {
    let info: String = q(con, &["INFO", "rocksdb"]);
    info.lines()
        .find_map(|l| l.strip_prefix("estimate_num_keys[metadata]:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO rocksdb has estimate_num_keys[metadata]")
}

#[test]
fn compaction_drops_expired_keys() {
    let server = Server::start();
    let mut con = server.client();
    for i in 0..200 {
        let _: () = q(&mut con, &["SET", &format!("short{i}"), "v", "PX", "50"]);
    }
    for i in 0..10 {
        let _: () = q(&mut con, &["SET", &format!("long{i}"), "v"]);
    }
    std::thread::sleep(Duration::from_millis(150));
    // Invisible at once, before any compaction.
    let n: i64 = q(&mut con, &["DBSIZE"]);
    assert_eq!(n, 10);
    let e: i64 = q(&mut con, &["EXISTS", "short1"]);
    assert_eq!(e, 0);
    // Still physically present until compaction runs.
    assert!(metadata_estimate(&mut con) >= 200);
    let _: () = q(&mut con, &["COMPACT"]);
    assert_eq!(metadata_estimate(&mut con), 10);
    let v: String = q(&mut con, &["GET", "long3"]);
    assert_eq!(v, "v");
}
