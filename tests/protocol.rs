//! RESP parsing over raw TCP: inline commands, malformed input, limits,
//! pipelining, and error texts.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{resp_cmd, resp_cmd_str, Server};

const EOF_WAIT: Duration = Duration::from_secs(5);

/// Sends `bytes` on a fresh connection and expects exactly `reply` followed
/// by the server closing the connection.
fn expect_error_then_close(s: &Server, bytes: &[u8], reply: &str) {
    let mut r = s.raw();
    r.send(bytes);
    let got = r.read_to_eof(EOF_WAIT).unwrap_or_else(|| {
        panic!(
            "connection not closed after {:?}",
            String::from_utf8_lossy(bytes)
        )
    });
    assert_eq!(
        String::from_utf8_lossy(&got),
        reply,
        "reply to {:?}",
        String::from_utf8_lossy(bytes)
    );
}

#[test]
fn inline_commands() {
    let s = Server::start();
    let mut r = s.raw();
    r.send(b"PING\r\n");
    assert_eq!(r.read_reply_string(), "+PONG\r\n");
    r.send(b"ping\n");
    assert_eq!(r.read_reply_string(), "+PONG\r\n");
    // Empty lines are ignored.
    r.send(b"\r\n\r\nPING\r\n");
    assert_eq!(r.read_reply_string(), "+PONG\r\n");
    r.send(b"SET greeting \"hello world\"\r\n");
    assert_eq!(r.read_reply_string(), "+OK\r\n");
    r.send(b"GET greeting\r\n");
    assert_eq!(r.read_reply_string(), "$11\r\nhello world\r\n");
    r.send(b"set esc \"a\\x41b\\n\"\r\n");
    assert_eq!(r.read_reply_string(), "+OK\r\n");
    r.send(b"GET esc\r\n");
    assert_eq!(r.read_reply_string(), "$4\r\naAb\n\r\n");
    r.send(b"ECHO 'single quoted'\r\n");
    assert_eq!(r.read_reply_string(), "$13\r\nsingle quoted\r\n");
    // Inline and multibulk mixed in one write.
    let mut mixed = b"PING\r\n".to_vec();
    mixed.extend(resp_cmd_str(&["ECHO", "x"]));
    mixed.extend_from_slice(b"ECHO y\r\n");
    r.send(&mixed);
    assert_eq!(r.read_reply_string(), "+PONG\r\n");
    assert_eq!(r.read_reply_string(), "$1\r\nx\r\n");
    assert_eq!(r.read_reply_string(), "$1\r\ny\r\n");
    // Empty and null multibulks are skipped.
    r.send(b"*0\r\n*-1\r\nPING\r\n");
    assert_eq!(r.read_reply_string(), "+PONG\r\n");
}

#[test]
fn malformed_requests_close_the_connection() {
    let s = Server::start();
    expect_error_then_close(
        &s,
        b"*abc\r\n",
        "-ERR Protocol error: invalid multibulk length\r\n",
    );
    expect_error_then_close(
        &s,
        b"*1\r\n$abc\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
    );
    expect_error_then_close(
        &s,
        b"*1\r\n$-5\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
    );
    expect_error_then_close(
        &s,
        b"*1\r\nPING\r\n",
        "-ERR Protocol error: expected '$', got 'P'\r\n",
    );
    expect_error_then_close(
        &s,
        b"SET a \"b c\r\n",
        "-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    expect_error_then_close(
        &s,
        &vec![b'a'; 70_000],
        "-ERR Protocol error: too big inline request\r\n",
    );
    // Replies to the commands before the bad one are still sent.
    let mut good_then_bad = resp_cmd_str(&["SET", "before", "1"]);
    good_then_bad.extend_from_slice(b"*x\r\n");
    expect_error_then_close(
        &s,
        &good_then_bad,
        "+OK\r\n-ERR Protocol error: invalid multibulk length\r\n",
    );

    // The server keeps serving new connections.
    let mut r = s.raw();
    assert_eq!(r.cmd(&["GET", "before"]), "$1\r\n1\r\n");
    let mut c = s.client();
    assert_eq!(common::q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn bulk_length_limit() {
    // The smallest limit accepted (1 MiB, as in Redis).
    const LIMIT: usize = 1 << 20;
    let s = Server::start_with(&[("proto-max-bulk-len", "1mb")]);
    // Exactly at the limit is fine.
    let mut r = s.raw();
    let at_limit = vec![b'x'; LIMIT];
    r.send(&resp_cmd(&[b"SET", b"k", &at_limit]));
    assert_eq!(r.read_reply_string(), "+OK\r\n");
    assert_eq!(r.cmd(&["STRLEN", "k"]), format!(":{LIMIT}\r\n"));

    // Above it: error before the payload is even sent, then close.
    expect_error_then_close(
        &s,
        format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", LIMIT + 1).as_bytes(),
        "-ERR Protocol error: invalid bulk length\r\n",
    );
    // Also with the payload sent in full.
    let too_big = vec![b'y'; LIMIT + 1];
    expect_error_then_close(
        &s,
        &resp_cmd(&[b"SET", b"k", &too_big]),
        "-ERR Protocol error: invalid bulk length\r\n",
    );

    // A new connection works and the value was not replaced.
    let mut r = s.raw();
    assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(r.cmd(&["STRLEN", "k"]), format!(":{LIMIT}\r\n"));
}

#[test]
fn requests_split_across_writes() {
    let s = Server::start();
    let mut r = s.raw();
    let cmd = resp_cmd_str(&["SET", "split", "value-in-pieces"]);
    for byte in &cmd {
        r.stream.write_all(&[*byte]).unwrap();
        r.stream.flush().unwrap();
    }
    assert_eq!(r.read_reply_string(), "+OK\r\n");
    r.send(b"GET spl");
    std::thread::sleep(Duration::from_millis(50));
    r.send(b"it\r\n");
    assert_eq!(r.read_reply_string(), "$15\r\nvalue-in-pieces\r\n");
}

#[test]
fn ten_thousand_pipelined_sets() {
    let s = Server::start();
    let mut r = s.raw();
    let n = 10_000;
    let mut batch = Vec::new();
    for i in 0..n {
        batch.extend(resp_cmd_str(&["SET", &format!("p:{i}"), &format!("v{i}")]));
    }
    // Write from another thread so a server that answers while we are
    // still writing cannot deadlock the test.
    let mut writer = r.stream.try_clone().unwrap();
    let t = std::thread::spawn(move || writer.write_all(&batch).unwrap());
    let replies = r.read_exact_timeout(n * 5, Duration::from_secs(20));
    t.join().unwrap();
    let ok = replies.chunks(5).filter(|c| *c == b"+OK\r\n").count();
    assert_eq!(ok, n);

    // Pipelined reads return in order.
    let mut gets = Vec::new();
    for i in 0..n {
        gets.extend(resp_cmd_str(&["GET", &format!("p:{i}")]));
    }
    r.send(&gets);
    for i in 0..n {
        let expected = format!("v{i}");
        assert_eq!(
            r.read_reply_string(),
            format!("${}\r\n{expected}\r\n", expected.len())
        );
    }
    assert_eq!(r.cmd(&["DBSIZE"]), ":10000\r\n");
}

#[test]
fn unknown_command_and_arity_errors() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.cmd(&["NOSUCHCMD", "a", "b"]),
        "-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        r.cmd(&["foo"]),
        "-ERR unknown command 'foo', with args beginning with: \r\n"
    );
    r.send(b"FOO a b\r\n");
    assert_eq!(
        r.read_reply_string(),
        "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        r.cmd(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        r.cmd(&["set", "k"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
    assert_eq!(
        r.cmd(&["Echo"]),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    assert_eq!(
        r.cmd(&["PING", "a", "b"]),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    assert_eq!(
        r.cmd(&["MSET", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    // Errors do not close the connection; commands are case-insensitive.
    assert_eq!(r.cmd(&["pInG"]), "+PONG\r\n");
    assert_eq!(r.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(r.cmd(&["get", "k"]), "$1\r\nv\r\n");
    assert_eq!(r.cmd(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(r.cmd(&["EXISTS", "k"]), ":1\r\n");
}

#[test]
fn many_concurrent_connections() {
    let s = Server::start();
    let handles: Vec<_> = (0..50)
        .map(|t| {
            let port = s.port();
            std::thread::spawn(move || {
                let mut r = common::Raw::connect(port);
                for i in 0..50 {
                    let key = format!("c:{t}:{i}");
                    assert_eq!(r.cmd(&["SET", &key, "x"]), "+OK\r\n");
                    assert_eq!(r.cmd(&["GET", &key]), "$1\r\nx\r\n");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut r = s.raw();
    assert_eq!(r.cmd(&["DBSIZE"]), ":2500\r\n");
}
