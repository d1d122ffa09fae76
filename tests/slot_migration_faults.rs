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

use cluster::migration::{assert_moved_intact, field, fill_slot, migrate_and_wait};
use cluster::Cluster;
use common::q;

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
    /// Let the first IMPORT-COMMIT through, then drop its reply and the
    /// connection (the destination commits; the source cannot know).
    lose_commit_reply: AtomicBool,
    /// Set while replies are being dropped.
    mute_replies: AtomicBool,
    /// With `lose_commit_reply`: from then on, close every new connection
    /// at once (the destination is out of the source's reach).
    refuse_after_commit: AtomicBool,
    /// Set while new connections are closed at once.
    refuse: AtomicBool,
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
            if faults.refuse.load(Ordering::SeqCst) {
                drop(client);
                continue;
            }
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            let first = faults.connections.fetch_add(1, Ordering::SeqCst) == 0;
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            // destination -> source: a copy, unless replies are muted.
            let back = faults.clone();
            std::thread::spawn(move || copy_replies(s2, c2, back));
            let f = faults.clone();
            std::thread::spawn(move || pipe(client, server, Some(f), first));
        }
    });
    port
}

/// Destination -> source: forwards replies, dropping them while muted.
fn copy_replies(mut from: TcpStream, mut to: TcpStream, faults: Arc<Faults>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if faults.mute_replies.load(Ordering::SeqCst) {
            continue;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
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
                if f.lose_commit_reply.load(Ordering::Relaxed)
                    && buf[..n].windows(13).any(|w| w == b"IMPORT-COMMIT")
                {
                    f.lose_commit_reply.store(false, Ordering::Relaxed);
                    f.mute_replies.store(true, Ordering::SeqCst);
                    if f.refuse_after_commit.load(Ordering::SeqCst) {
                        f.refuse.store(true, Ordering::SeqCst);
                    }
                    let _ = to.write_all(&buf[..n]);
                    std::thread::sleep(Duration::from_millis(300));
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                    f.mute_replies.store(false, Ordering::SeqCst);
                    break;
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
    cl.push_halves_via(proxy, 2);
    (cl, proxy)
}

#[test]
fn a_flipped_byte_is_caught_and_the_chunk_sent_again() {
    let _serial = serial();
    let faults = Arc::new(Faults::default());
    // Past the IMPORT handshake, inside the chunk stream.
    faults.flip_at.store(150_000, Ordering::Relaxed);
    let (cl, _) = cluster_through_proxy(faults.clone());
    let before = fill_slot(&cl, 0, 300, 8000, 100);
    let line = migrate_and_wait(&cl, 300);
    assert!(line.contains("state=success"), "{line}");
    assert!(field(&line, "retransmits") > 0, "{line}");
    assert_eq!(
        faults.flip_at.load(Ordering::Relaxed),
        0,
        "the byte was flipped"
    );
    assert_moved_intact(&cl, 0, 1, 300, &before);
}

#[test]
fn a_dropped_link_resumes_from_the_checkpoint() {
    let _serial = serial();
    let faults = Arc::new(Faults::default());
    faults.drop_after.store(200_000, Ordering::Relaxed);
    let (cl, _) = cluster_through_proxy(faults.clone());
    let before = fill_slot(&cl, 0, 301, 8000, 100);
    let line = migrate_and_wait(&cl, 301);
    assert!(line.contains("state=success"), "{line}");
    assert!(
        faults.connections.load(Ordering::SeqCst) >= 2,
        "reconnected"
    );
    // Only what was in flight when the link broke is sent again.
    let window: u64 = 8;
    assert!(field(&line, "retransmits") <= window, "{line}");
    assert_moved_intact(&cl, 0, 1, 301, &before);
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
    let before = fill_slot(&cl, 0, 302, 3000, 100);
    let line = migrate_and_wait(&cl, 302);
    assert!(line.contains("state=success"), "{line}");
    assert!(
        field(&line, "chunk_size") < 256 * 1024,
        "chunk size adapted down: {line}"
    );
    assert_moved_intact(&cl, 0, 1, 302, &before);
}

#[test]
fn without_checkpoints_a_dropped_link_starts_the_job_over() {
    let _serial = serial();
    let faults = Arc::new(Faults::default());
    faults.drop_after.store(200_000, Ordering::Relaxed);
    let (cl, _) = cluster_through_proxy(faults.clone());
    let mut src = cl.client(0);
    let _: () = q(&mut src, &["CONFIG", "SET", "migrate-checkpoint", "no"]);
    let before = fill_slot(&cl, 0, 303, 8000, 100);
    let line = migrate_and_wait(&cl, 303);
    assert!(line.contains("state=success"), "{line}");
    // The partial copy was dropped and the snapshot sent again in full;
    // the job's count starts over with it.
    assert_eq!(field(&line, "keys"), 8000, "{line}");
    let log = cl.server(0).log();
    assert!(log.contains("starting over"), "{log}");
    assert_moved_intact(&cl, 0, 1, 303, &before);
}

#[test]
fn a_lost_hand_off_reply_is_settled_with_the_destination() {
    let _serial = serial();
    let faults = Arc::new(Faults::default());
    faults.lose_commit_reply.store(true, Ordering::Relaxed);
    let (cl, _) = cluster_through_proxy(faults.clone());
    let before = fill_slot(&cl, 0, 304, 2000, 100);
    let line = migrate_and_wait(&cl, 304);
    assert!(line.contains("state=success"), "{line}");
    assert!(
        !faults.lose_commit_reply.load(Ordering::Relaxed),
        "the reply was lost"
    );
    let log = cl.server(0).log();
    assert!(
        log.contains("hand-off reply lost") && log.contains("the destination took the slots"),
        "{log}"
    );
    assert_moved_intact(&cl, 0, 1, 304, &before);
    // One owner: the source now redirects, the destination serves, and
    // neither changed its topology version by itself.
    let mut src = cl.client(0);
    let err = common::q_err(&mut src, &["GET", &before[0].0]);
    assert!(err.starts_with("MOVED 304 "), "{err}");
    let v0: i64 = q(&mut src, &["CLUSTERX", "VERSION"]);
    let v1: i64 = q(&mut cl.client(1), &["CLUSTERX", "VERSION"]);
    assert_eq!((v0, v1), (2, 2), "versions {v0} {v1}");
}

#[test]
fn a_source_killed_in_its_cut_over_settles_the_hand_off_after_restart() {
    let _serial = serial();
    let faults = Arc::new(Faults::default());
    let (mut cl, _) = cluster_through_proxy(faults.clone());
    let before = fill_slot(&cl, 0, 305, 2000, 100);
    // A slow link stretches the cut-over (last delta, then the commit).
    faults.delay_ms.store(300, Ordering::Relaxed);
    cluster::migration::start_migration(&cl, 0, 1, 305);
    let mut line = String::new();
    let in_cutover = common::wait_until(Duration::from_secs(60), || {
        line = cluster::migration::job_line(&cl, 0);
        line.contains("state=cutover")
    });
    assert!(in_cutover, "{line}");
    cl.nodes[0].server.kill9();
    faults.delay_ms.store(0, Ordering::Relaxed);
    cl.restart(0);

    // The restarted source finds the job, keeps the slot paused until the
    // hand-off is settled one way or the other, and finishes it.
    let line = cluster::migration::wait_job_end(&cl, 0);
    assert!(line.contains("state=success"), "{line}");
    let log = cl.server(0).log();
    assert!(log.contains("resuming migration job"), "{log}");
    assert_moved_intact(&cl, 0, 1, 305, &before);
    let mut src = cl.client(0);
    let err = common::q_err(&mut src, &["GET", &before[0].0]);
    assert!(err.starts_with("MOVED 305 "), "{err}");
}

#[test]
fn a_topology_push_settles_a_hand_off_whose_outcome_stayed_unknown() {
    let _serial = serial();
    let faults = Arc::new(Faults::default());
    faults.lose_commit_reply.store(true, Ordering::Relaxed);
    faults.refuse_after_commit.store(true, Ordering::Relaxed);
    let (mut cl, proxy) = cluster_through_proxy(faults.clone());
    let slot = 306;
    let before = fill_slot(&cl, 0, slot, 2000, 100);
    // The commit reply is lost and the destination stays out of reach:
    // the source cannot know who owns the slot, and keeps it paused.
    let line = migrate_and_wait(&cl, slot);
    assert!(line.contains("state=failed"), "{line}");
    let probe = cluster::key_in_slot(slot, ":probe");
    let mut src = cl.client(0);
    let err = common::q_err(&mut src, &["SET", &probe, "1"]);
    assert!(err.starts_with("TRYAGAIN"), "{err}");
    // Nor can a new job take the paused slot over meanwhile.
    let err = common::q_err(
        &mut src,
        &["CLUSTERX", "MIGRATE", &slot.to_string(), cl.id(1)],
    );
    assert!(err.contains("paused by a hand-off"), "{err}");

    // The controller decides: the slot stays with the source.
    cl.push_halves_via(proxy, 3);
    let r: String = q(&mut src, &["SET", &probe, "1"]);
    assert_eq!(r, "OK", "writes resume on the pushed owner");
    let log = cl.server(0).log();
    assert!(log.contains("settled by the pushed topology"), "{log}");
    let err = common::q_err(&mut cl.client(1), &["GET", &before[0].0]);
    assert!(err.starts_with("MOVED"), "{err}");

    // The job's record is gone: a restart does not move the slot again.
    faults.refuse.store(false, Ordering::SeqCst);
    cl.restart(0);
    let mut src = cl.client(0);
    let r: String = q(&mut src, &["SET", &probe, "2"]);
    assert_eq!(r, "OK");
    let log = cl.server(0).log();
    assert!(!log.contains("resuming migration job"), "{log}");
    assert_eq!(cluster::migration::job_line(&cl, 0), "");
    let now = cluster::migration::dump_all(
        &cl,
        0,
        &before.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
    );
    assert_eq!(now, before, "the slot stayed whole on the source");
}
