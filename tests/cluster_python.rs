//! redis-py's RedisCluster against a 3-node ferrocks cluster: starts the
//! cluster and runs `tests/py/test_cluster.py PORT1 PORT2 PORT3`.
//! Skipped (with a message) only when `python3 -c "import redis"` fails.

mod cluster;
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use cluster::Cluster;

fn redis_py_available() -> Result<(), String> {
    match Command::new("python3")
        .args(["-c", "import redis.cluster"])
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        Err(e) => Err(format!("python3 not runnable: {e}")),
    }
}

#[test]
fn redis_py_cluster_client() {
    if let Err(why) = redis_py_available() {
        eprintln!(
            "SKIPPED redis_py_cluster_client: redis-py is not importable ({why}); \
             install it with `pip install redis`"
        );
        return;
    }
    let cl = Cluster::start(3);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/test_cluster.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .args(cl.ports().iter().map(|p| p.to_string()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let status = match common::wait_child(&mut child, Duration::from_secs(120)) {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "test_cluster.py still running after 120 s; output:\n{}",
                out.join().unwrap()
            );
        }
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        status.success(),
        "test_cluster.py failed ({status})\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
    );
    assert!(out.contains(" passed, 0 failed"), "{out}");
    println!("{out}");
}
