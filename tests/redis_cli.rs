//! The real `redis-cli` against the server: single commands and `--pipe`
//! mass insertion.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{q, Server};

const REDIS_CLI: &str = "redis-cli";

fn redis_cli(port: u16, args: &[&str]) -> Output {
    Command::new(REDIS_CLI)
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli (is it installed?)")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn single_commands() {
    let s = Server::start();
    let out = redis_cli(s.port(), &["ping"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "PONG\n");

    assert_eq!(
        stdout(&redis_cli(s.port(), &["set", "greeting", "hello world"])),
        "OK\n"
    );
    assert_eq!(
        stdout(&redis_cli(s.port(), &["get", "greeting"])),
        "hello world\n"
    );
    assert_eq!(stdout(&redis_cli(s.port(), &["incrby", "n", "5"])), "5\n");
    assert_eq!(stdout(&redis_cli(s.port(), &["get", "missing"])), "\n");
    assert_eq!(stdout(&redis_cli(s.port(), &["dbsize"])), "2\n");
    let out = redis_cli(s.port(), &["nosuchcommand", "x"]);
    assert_eq!(
        stdout(&out),
        "ERR unknown command 'nosuchcommand', with args beginning with: 'x' \n\n"
    );
    let info = stdout(&redis_cli(s.port(), &["info", "server"]));
    assert!(info.contains("redis_version:"), "{info}");
    // -x reads the last argument from stdin.
    let mut child = Command::new(REDIS_CLI)
        .args(["-p", &s.port().to_string(), "-x", "set", "fromstdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"piped\0bytes")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "OK\n");
    let mut c = s.client();
    assert_eq!(
        q::<Vec<u8>>(&mut c, &["GET", "fromstdin"]),
        b"piped\0bytes".to_vec()
    );
}

#[test]
fn with_password() {
    let s = Server::start_with(&[("requirepass", "clipass")]);
    let out = redis_cli(s.port(), &["ping"]);
    assert_eq!(stdout(&out), "NOAUTH Authentication required.\n\n");
    let out = redis_cli(s.port(), &["-a", "clipass", "--no-auth-warning", "ping"]);
    assert_eq!(stdout(&out), "PONG\n");
}

#[test]
fn pipe_mass_insert_100k() {
    let s = Server::start();
    let n = 100_000;
    let mut input = Vec::with_capacity(n * 48);
    for i in 0..n {
        input.extend(common::resp_cmd_str(&[
            "SET",
            &format!("mass:{i}"),
            &format!("value-{i}"),
        ]));
    }

    let mut child = Command::new(REDIS_CLI)
        .args(["-p", &s.port().to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run redis-cli --pipe");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        stdin.write_all(&input).unwrap();
        // Dropping stdin closes it: redis-cli then sends its final ECHO.
    });
    let status = common::wait_child(&mut child, Duration::from_secs(60));
    writer.join().unwrap();
    let out = match status {
        Some(_) => child.wait_with_output().unwrap(),
        None => {
            common::send_signal(child.id(), libc::SIGKILL);
            let out = child.wait_with_output().unwrap();
            panic!(
                "redis-cli --pipe did not finish in 60 s; stdout:\n{}\nstderr:\n{}",
                stdout(&out),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "redis-cli --pipe failed ({}):\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .any(|l| l.trim() == format!("errors: 0, replies: {n}")),
        "unexpected --pipe summary:\n{text}"
    );

    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), n as i64);
    for i in [0, 1, 777, 31_415, 50_000, 99_998, 99_999] {
        assert_eq!(
            q::<String>(&mut c, &["GET", &format!("mass:{i}")]),
            format!("value-{i}")
        );
    }
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &format!("mass:{n}")]), 0);
}
