//! MULTI/EXEC in cluster mode: every queued command is routed like a plain
//! one (MOVED aborts the transaction) and a transaction whose keys span
//! slots is refused with CROSSSLOT at EXEC, nothing applied.

mod cluster;
mod common;

use cluster::{key_in_slot, Cluster};
use common::{q, q_err};

#[test]
fn transactions_stay_in_one_slot_of_this_node() {
    let cl = Cluster::start(2);
    // Node 0 owns the low half of the slots in the harness's even split.
    let mine_a = key_in_slot(10, "a");
    let mine_b = key_in_slot(11, "b");
    let foreign = key_in_slot(16000, "f");
    let mut con = cl.client(0);

    // Same slot: runs.
    let mine_a2 = key_in_slot(10, "a2");
    let _: () = q(&mut con, &["MULTI"]);
    let queued: String = q(&mut con, &["SET", &mine_a, "1"]);
    assert_eq!(queued, "QUEUED");
    let _: String = q(&mut con, &["INCR", &mine_a2]);
    let replies: (String, i64) = q(&mut con, &["EXEC"]);
    assert_eq!(replies, ("OK".to_string(), 1));

    // Two slots of this node: CROSSSLOT at EXEC, nothing applied.
    let _: () = q(&mut con, &["MULTI"]);
    let _: String = q(&mut con, &["SET", &mine_a, "2"]);
    let _: String = q(&mut con, &["SET", &mine_b, "2"]);
    let err = q_err(&mut con, &["EXEC"]);
    assert_eq!(err, "CROSSSLOT Keys in request don't hash to the same slot");
    let v: String = q(&mut con, &["GET", &mine_a]);
    assert_eq!(v, "1");
    let exists: i64 = q(&mut con, &["EXISTS", &mine_b]);
    assert_eq!(exists, 0);

    // A key of another node: MOVED while queueing, then EXECABORT.
    let _: () = q(&mut con, &["MULTI"]);
    let moved = q_err(&mut con, &["SET", &foreign, "x"]);
    assert!(
        moved.starts_with("MOVED 16000 127.0.0.1:"),
        "unexpected reply {moved}"
    );
    let _: String = q(&mut con, &["SET", &mine_a, "3"]);
    let err = q_err(&mut con, &["EXEC"]);
    assert_eq!(
        err,
        "EXECABORT Transaction discarded because of previous errors."
    );
    let v: String = q(&mut con, &["GET", &mine_a]);
    assert_eq!(v, "1");
}

#[test]
fn exec_is_routed_again_and_asking_covers_a_whole_transaction() {
    let cl = Cluster::start(2);
    let (a, b) = (0, 1);
    let (ida, idb) = (cl.id(a).to_string(), cl.id(b).to_string());
    let slot = 77u16;
    assert_eq!(cl.node_for_slot(slot), a);
    let s = slot.to_string();
    let k = key_in_slot(slot, ":k");
    let mut ca = cl.client(a);
    let mut cb = cl.client(b);
    let mut ra = cl.raw(a);
    let mut rb = cl.raw(b);

    // The slot moves away between MULTI and EXEC: EXEC redirects and
    // applies nothing.
    assert_eq!(ra.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(ra.cmd(&["SET", &k, "1"]), "+QUEUED\r\n");
    let ok: String = q(&mut cb, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &ida]);
    assert_eq!(ok, "OK");
    let ok: String = q(&mut ca, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &idb]);
    assert_eq!(ok, "OK");
    let ok: String = q(&mut ca, &["CLUSTER", "SETSLOT", &s, "NODE", &idb]);
    assert_eq!(ok, "OK");
    assert_eq!(
        ra.cmd(&["EXEC"]),
        format!("-MOVED {slot} {}\r\n", cl.addr(b))
    );
    // The transaction is over: a new MULTI is accepted.
    assert_eq!(ra.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(ra.cmd(&["DISCARD"]), "+OK\r\n");

    // ASKING before MULTI lets the whole transaction use an importing slot.
    let slot2 = 78u16;
    let s2 = slot2.to_string();
    let k2 = key_in_slot(slot2, ":k");
    let ok: String = q(&mut cb, &["CLUSTER", "SETSLOT", &s2, "IMPORTING", &ida]);
    assert_eq!(ok, "OK");
    assert_eq!(rb.cmd(&["ASKING"]), "+OK\r\n");
    assert_eq!(rb.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(rb.cmd(&["SET", &k2, "v"]), "+QUEUED\r\n");
    assert_eq!(rb.cmd(&["GET", &k2]), "+QUEUED\r\n");
    assert_eq!(rb.cmd(&["EXEC"]), "*2\r\n+OK\r\n$1\r\nv\r\n");
    // ...and only that transaction.
    assert_eq!(
        rb.cmd(&["GET", &k2]),
        format!("-MOVED {slot2} {}\r\n", cl.addr(a))
    );
}
