//! Slot migration through a misbehaving link: a TCP proxy between source
//! and destination flips one byte, drops the connection, or slows it down.
//! The job must still complete with identical data: a flipped chunk is
//! caught (by its CRC, or by RESP framing) and sent again, a dropped link
//! is re-established and resumes from the destination's checkpoint, and a
//! slow link makes the chunk size shrink.

mod cluster;
mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cluster::{key_in_slot, Cluster};
use common::{q, wait_until};

/// The tests of this file run one at a time: a proxy's listener must not
/// take a port another test's server was about to bind.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the proxy does to the source -> destination byte stream.
#[derive(Default)]
struct Faults {
    /// Flip the byte at this offset of the first connection (0 = never).
    flip_at: AtomicU64,
    /// Close the first connection after this many bytes (0 = never).
    drop_after: AtomicU64,
    /// Sleep this long before forwarding each read.
    delay_ms: AtomicU64,
    /// Connections accepted so far.
    connections: AtomicU64,
    stop: AtomicBool,
}

/// Starts a proxy to `target`; returns its port.
fn start_proxy(target: u16, faults: Arc<Faults>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if faults.stop.load(Ordering::Relaxed) {
                break;
            }
            let Ok(client) = conn else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            let first = faults.connections.fetch_add(1, Ordering::SeqCst) == 0;
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            // destination -> source: plain copy.
            std::thread::spawn(move || pipe(s2, c2, None, false));
            let f = faults.clone();
            std::thread::spawn(move || pipe(client, server, Some(f), first));
        }
    });
    port
}

fn pipe(mut from: TcpStream, mut to: TcpStream, faults: Option<Arc<Faults>>, first: bool) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut offset: u64 = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(f) = &faults {
            let delay = f.delay_ms.load(Ordering::Relaxed);
            if delay > 0 {
                std::thread::sleep(Duration::from_millis(delay));
            }
            if first {
                let flip = f.flip_at.load(Ordering::Relaxed);
                if flip > 0 && flip >= offset && flip < offset + n as u64 {
                    buf[(flip - offset) as usize] ^= 0x20;
                    f.flip_at.store(0, Ordering::Relaxed);
                }
                let drop_after = f.drop_after.load(Ordering::Relaxed);
                if drop_after > 0 && offset + n as u64 >= drop_after {
                    f.drop_after.store(0, Ordering::Relaxed);
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                    break;
                }
            }
        }
        offset += n as u64;
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Two nodes where node 0 reaches node 1 through the proxy.
fn cluster_through_proxy(faults: Arc<Faults>) -> (Cluster, u16) {
    let cl = Cluster::start(2);
    let proxy = start_proxy(cl.port(1), faults);
    let text = format!(
        "{} 127.0.0.1 {} master - 0-8191\n{} 127.0.0.1 {} master - 8192-16383",
        cl.id(0),
        cl.port(0),
        cl.id(1),
        proxy
    );
    for i in 0..2 {
        let mut c = cl.client(i);
        let r: String = q(&mut c, &["CLUSTERX", "SETNODES", &text, "2"]);
        assert_eq!(r, "OK");
    }
    (cl, proxy)
}

/// Fills `slot` on node 0 with `n` keys of pseudo-random 100-byte values
/// (little for LZ4 to squeeze) and returns every key's DUMP payload.
fn fill(cl: &Cluster, slot: u16, n: usize) -> Vec<(String, Vec<u8>)> {
    let mut con = cl.client(0);
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut pipe = redis::pipe();
    let mut keys = Vec::new();
    for i in 0..n {
        let value: String = (0..100)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (b'a' + (x % 26) as u8) as char
            })
            .collect();
        let k = key_in_slot(slot, &format!(":{i}"));
        pipe.cmd("SET").arg(&k).arg(value).ignore();
        keys.push(k);
    }
    let _: () = pipe.query(&mut con).unwrap();
    keys.into_iter()
        .map(|k| {
            let d: Vec<u8> = redis::cmd("DUMP").arg(&k).query(&mut con).unwrap();
            (k, d)
        })
        .collect()
}

fn migrate_and_wait(cl: &Cluster, slot: u16) -> String {
    let mut src = cl.client(0);
    let r: String = q(
        &mut src,
        &["CLUSTERX", "MIGRATE", &slot.to_string(), cl.id(1), "async"],
    );
    assert_eq!(r, "OK");
    let mut line = String::new();
    let done = wait_until(Duration::from_secs(90), || {
        let info: String = q(&mut src, &["INFO", "migration"]);
        line = info
            .lines()
            .find(|l| l.starts_with("job_"))
            .unwrap_or("")
            .to_string();
        line.contains("state=success") || line.contains("state=failed")
    });
    assert!(done, "job did not finish: {line}");
    line
}

fn field(line: &str, name: &str) -> u64 {
    line.split(',')
        .find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| k.ends_with(name))
                .map(|(_, v)| v)
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

fn assert_identical(cl: &Cluster, slot: u16, before: &[(String, Vec<u8>)]) {
    let mut dst = cl.client(1);
    let mut src = cl.client(0);
    let count: i64 = q(&mut dst, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(count as usize, before.len());
    let left: i64 = q(&mut src, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]);
    assert_eq!(left, 0);
    for (k, d) in before {
        let got: Vec<u8> = redis::cmd("DUMP").arg(k).query(&mut dst).unwrap();
        assert_eq!(&got, d, "{k} differs after the move");
    }
}

#[test]
fn a_flipped_byte_is_caught_and_the_chunk_sent_again() {
    let _serial = serial();
    let faults = Arc::new(Faults::default());
    // Past the IMPORT handshake, inside the chunk stream.
    faults.flip_at.store(150_000, Ordering::Relaxed);
    let (cl, _) = cluster_through_proxy(faults.clone());
    let before = fill(&cl, 300, 8000);
    let line = migrate_and_wait(&cl, 300);
    assert!(line.contains("state=success"), "{line}");
    assert!(field(&line, "retransmits") > 0, "{line}");
    assert_eq!(
        faults.flip_at.load(Ordering::Relaxed),
        0,
        "the byte was flipped"
    );
    assert_identical(&cl, 300, &before);
}

#[test]
fn a_dropped_link_resumes_from_the_checkpoint() {
    let _serial = serial();
    let faults = Arc::new(Faults::default());
    faults.drop_after.store(200_000, Ordering::Relaxed);
    let (cl, _) = cluster_through_proxy(faults.clone());
    let before = fill(&cl, 301, 8000);
    let line = migrate_and_wait(&cl, 301);
    assert!(line.contains("state=success"), "{line}");
    assert!(
        faults.connections.load(Ordering::SeqCst) >= 2,
        "reconnected"
    );
    // Only what was in flight when the link broke is sent again.
    let window: u64 = 8;
    assert!(field(&line, "retransmits") <= window, "{line}");
    assert_identical(&cl, 301, &before);
}

#[test]
fn a_slow_link_shrinks_the_chunk_size() {
    let _serial = serial();
    let faults = Arc::new(Faults::default());
    faults.delay_ms.store(200, Ordering::Relaxed);
    let (cl, _) = cluster_through_proxy(faults.clone());
    let mut src = cl.client(0);
    let _: () = q(
        &mut src,
        &[
            "CONFIG",
            "SET",
            "migrate-batch-size-kb",
            "256",
            "migrate-window",
            "2",
        ],
    );
    let before = fill(&cl, 302, 3000);
    let line = migrate_and_wait(&cl, 302);
    assert!(line.contains("state=success"), "{line}");
    assert!(
        field(&line, "chunk_size") < 256 * 1024,
        "chunk size adapted down: {line}"
    );
    assert_identical(&cl, 302, &before);
}
