//! Differential fuzzing against `redis-server`: random but valid command
//! sequences over a small key space are sent to a real Redis and to
//! ferrocks, one command at a time to both, and their replies compared.
//!
//! Generation and shrinking are proptest's: a failing case is shrunk to the
//! shortest sequence that still differs, and printed with the seed that
//! found it. Replies are compared exactly, except where Redis leaves
//! something unspecified: KEYS and a full SCAN iteration are compared as
//! sets, TTLs within a tolerance, RANDOMKEY by shape only.
//!
//! Environment:
//! - `FUZZ_SEED=<u64>`: the seed of `differential_random_seed` (default:
//!   from the clock, printed);
//! - `FUZZ_CASES=<n>`: sequences per seed (default 2500);
//! - `FUZZ_SECS=<s>`: keep running new random seeds for this long
//!   (`make fuzz SECS=600`).

mod common;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use common::{RedisServer, Server};

// ---------------------------------------------------------------------------
// Replies

/// A RESP2 or RESP3 reply, decoded.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Value>),
    NilArray,
    /// RESP3 types.
    Double(String),
    Bool(bool),
    /// Key, value, key, value...
    Map(Vec<Value>),
    Set(Vec<Value>),
    /// Big numbers, verbatim strings: type byte and text.
    Other(char, String),
}

fn quote(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Status(s) => write!(f, "+{s}"),
            Value::Error(s) => write!(f, "-{s}"),
            Value::Int(n) => write!(f, ":{n}"),
            Value::Bulk(b) => write!(f, "{}", quote(b)),
            Value::Nil => write!(f, "(nil)"),
            Value::NilArray => write!(f, "(nil array)"),
            Value::Array(items) => f.debug_list().entries(items).finish(),
            Value::Double(d) => write!(f, ",{d}"),
            Value::Bool(v) => write!(f, "#{}", if *v { 't' } else { 'f' }),
            Value::Map(items) => {
                let mut m = f.debug_map();
                for pair in items.chunks(2) {
                    m.entry(&pair[0], pair.get(1).unwrap_or(&Value::Nil));
                }
                m.finish()
            }
            Value::Set(items) => f.debug_set().entries(items).finish(),
            Value::Other(t, text) => write!(f, "{t}{text}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Backends

/// Something that answers commands: a connection to a server, or a wrapper
/// that changes replies (to check that the harness notices).
trait Backend {
    /// Sends one command and reads its reply; `Err` on a broken connection.
    fn call(&mut self, args: &[Vec<u8>]) -> Result<Value, String>;
}

/// A connection speaking RESP2, or RESP3 after `HELLO 3`.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn connect(port: u16) -> Result<Conn, String> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let timeout = Some(Duration::from_secs(10));
        stream
            .set_read_timeout(timeout)
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(timeout)
            .map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Conn {
            reader: BufReader::new(stream),
            writer,
        })
    }

    fn line(&mut self) -> Result<String, String> {
        let mut buf = Vec::new();
        self.reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| e.to_string())?;
        if !buf.ends_with(b"\r\n") {
            return Err(format!("connection closed or bad line {}", quote(&buf)));
        }
        buf.truncate(buf.len() - 2);
        String::from_utf8(buf).map_err(|e| format!("non-UTF-8 line: {e}"))
    }

    fn read_value(&mut self) -> Result<Value, String> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(1.min(line.len()));
        let num = || -> Result<i64, String> {
            rest.parse::<i64>()
                .map_err(|_| format!("bad RESP number in {line:?}"))
        };
        match kind {
            "+" => Ok(Value::Status(rest.to_string())),
            "-" => Ok(Value::Error(rest.to_string())),
            ":" => Ok(Value::Int(num()?)),
            "$" => {
                let n = num()?;
                if n < 0 {
                    return Ok(Value::Nil);
                }
                let mut buf = vec![0u8; n as usize + 2];
                self.reader
                    .read_exact(&mut buf)
                    .map_err(|e| e.to_string())?;
                buf.truncate(n as usize);
                Ok(Value::Bulk(buf))
            }
            "*" | "~" | "%" | ">" => {
                let n = num()?;
                if n < 0 {
                    return Ok(Value::NilArray);
                }
                let count = if kind == "%" { n * 2 } else { n };
                let mut items = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    items.push(self.read_value()?);
                }
                Ok(match kind {
                    "%" => Value::Map(items),
                    "~" => Value::Set(items),
                    _ => Value::Array(items),
                })
            }
            "_" => Ok(Value::Nil),
            "," => Ok(Value::Double(rest.to_string())),
            "#" => Ok(Value::Bool(rest == "t")),
            "(" => Ok(Value::Other('(', rest.to_string())),
            "=" | "!" => {
                let n = num()?;
                let mut buf = vec![0u8; n.max(0) as usize + 2];
                self.reader
                    .read_exact(&mut buf)
                    .map_err(|e| e.to_string())?;
                buf.truncate(n.max(0) as usize);
                let text = String::from_utf8_lossy(&buf).into_owned();
                Ok(if kind == "!" {
                    Value::Error(text)
                } else {
                    Value::Other('=', text)
                })
            }
            _ => Err(format!("not a RESP reply: {line:?}")),
        }
    }
}

impl Backend for Conn {
    fn call(&mut self, args: &[Vec<u8>]) -> Result<Value, String> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&out).map_err(|e| e.to_string())?;
        self.read_value()
    }
}

// ---------------------------------------------------------------------------
// Commands

/// How two replies of one command are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    /// Byte for byte.
    Exact,
    /// As multisets (KEYS).
    Unordered,
    /// Integers within this distance when both are >= 0 (TTLs).
    Within(i64),
    /// Both nil or both a bulk string (RANDOMKEY).
    Shape,
    /// Both integers, whatever their values; errors exactly.
    AnyInt,
}

/// One command and how to compare its replies.
#[derive(Clone, PartialEq, Eq)]
struct Cmd {
    args: Vec<Vec<u8>>,
    cmp: Cmp,
}

impl Cmd {
    fn new(args: Vec<Vec<u8>>) -> Cmd {
        Cmd {
            args,
            cmp: Cmp::Exact,
        }
    }

    fn with(mut self, cmp: Cmp) -> Cmd {
        self.cmp = cmp;
        self
    }
}

fn show_args(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.iter()
                    .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\\' && c != b'\'');
            if plain {
                String::from_utf8_lossy(a).into_owned()
            } else {
                quote(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Debug for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&show_args(&self.args))
    }
}

/// One step of a sequence.
#[derive(Clone, PartialEq, Eq)]
enum Step {
    /// A single command.
    One(Cmd),
    /// A whole SCAN iteration (from cursor 0 until 0 again), compared as a
    /// set of keys; `opts` are the MATCH/COUNT/TYPE arguments.
    ScanAll(Vec<Vec<u8>>),
    /// MULTI, the commands, then EXEC (true) or DISCARD (false).
    Multi(Vec<Cmd>, bool),
    /// A command of the other client.
    Other(Cmd),
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::One(c) => write!(f, "{c:?}"),
            Step::Other(c) => write!(f, "(other client) {c:?}"),
            Step::ScanAll(opts) => {
                write!(
                    f,
                    "SCAN <cursor> {} (until the cursor is 0)",
                    show_args(opts)
                )
            }
            Step::Multi(cmds, exec) => {
                write!(f, "MULTI")?;
                for c in cmds {
                    write!(f, "; {c:?}")?;
                }
                write!(f, "; {}", if *exec { "EXEC" } else { "DISCARD" })
            }
        }
    }
}

/// A generated sequence; printed one step per line, redis-cli style.
#[derive(Clone, PartialEq, Eq)]
struct Seq {
    /// The connections switch to RESP3 first (`HELLO 3`).
    resp3: bool,
    steps: Vec<Step>,
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.resp3 {
            writeln!(f, "    HELLO 3")?;
        }
        for s in &self.steps {
            writeln!(f, "    {s:?}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Generation

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn words(ws: &[&str]) -> Vec<Vec<u8>> {
    ws.iter().map(|w| b(w)).collect()
}

fn pick(items: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    prop::sample::select(items).prop_map(b).boxed()
}

const KEYS: &[&str] = &["k0", "k1", "k2", "k3", "key:1", "x"];

/// Keys with glob characters and a two-byte UTF-8 character, for patterns.
const ODD_KEYS: &[&str] = &["k*", "k[1]", "k\\", "\u{e9}", "k\u{e9}"];

/// How many `m<i>` keys a bulk MSET may create (SCAN pages over them).
const MANY: usize = 40;

fn key() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        8 => pick(KEYS),
        1 => pick(ODD_KEYS),
    ]
    .boxed()
}

/// Every key a sequence may create.
fn all_keys() -> Vec<Vec<u8>> {
    KEYS.iter()
        .chain(ODD_KEYS)
        .map(|k| b(k))
        .chain((0..MANY).map(|i| b(&format!("m{i}"))))
        .collect()
}

fn keys(max: usize) -> BoxedStrategy<Vec<Vec<u8>>> {
    prop::collection::vec(key(), 1..=max).boxed()
}

const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "10",
    "-10",
    "007",
    "3.5",
    "0.1",
    "-0",
    "1e3",
    "1.5e2",
    "abc",
    "hello world",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    " 1",
    "1 ",
    "+1",
    "0x10",
    "inf",
    "nan",
    ".5",
    "5.",
    "1.0",
];

fn value() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        3 => pick(VALUES),
        2 => "[abc]{0,8}".prop_map(|s| b(&s)),
        1 => "[ -~]{0,12}".prop_map(|s| b(&s)),
        1 => prop::collection::vec(any::<u8>(), 0..6),
    ]
    .boxed()
}

fn int_arg() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        4 => (-20i64..20).prop_map(|n| b(&n.to_string())),
        1 => any::<i64>().prop_map(|n| b(&n.to_string())),
        1 => pick(&[
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "-9223372036854775809",
            "abc",
            "",
            "1.5",
            " 1",
            "+1",
            "0x1",
            "-0",
            "00",
        ]),
    ]
    .boxed()
}

fn float_arg() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        3 => pick(&[
            "0.1", "-0.1", "1.5", "1e2", "-3", "0", "1e308", "-1e308", "abc", "inf", "-inf",
            "nan", "5.0e3", "0.000001", ".5", "1.", "", " 1", "0x10", "1e-5", "3.0", "-0",
            "10.5", "1.23456789012345678",
        ]),
        1 => (-1000i32..1000, 0u32..1000).prop_map(|(a, c)| b(&format!("{a}.{c:03}"))),
    ]
    .boxed()
}

/// Relative TTLs long enough never to expire while a case runs, plus
/// invalid ones.
fn ttl_secs() -> BoxedStrategy<Vec<u8>> {
    pick(&[
        "100",
        "1000",
        "86400",
        "0",
        "-1",
        "-100",
        "abc",
        "9223372036854775807",
        "9223372036854775",
        "922337203685477",
    ])
}

fn ttl_ms() -> BoxedStrategy<Vec<u8>> {
    pick(&[
        "100000",
        "5000000",
        "0",
        "-1",
        "abc",
        "9223372036854775807",
        "9223372036854775",
    ])
}

/// Absolute times: long past (expire at once) or far future.
fn at_secs() -> BoxedStrategy<Vec<u8>> {
    pick(&[
        "1",
        "1000000000",
        "4102444800",
        "9999999999",
        "0",
        "-1",
        "9223372036854775807",
        "abc",
    ])
}

fn at_ms() -> BoxedStrategy<Vec<u8>> {
    pick(&[
        "1",
        "1000000000000",
        "4102444800000",
        "0",
        "-5",
        "9223372036854775807",
        "abc",
    ])
}

/// An expiry option of SET/GETEX with its value.
fn expiry_opt() -> BoxedStrategy<Vec<Vec<u8>>> {
    prop_oneof![
        ttl_secs().prop_map(|v| vec![b("EX"), v]),
        ttl_ms().prop_map(|v| vec![b("PX"), v]),
        at_secs().prop_map(|v| vec![b("EXAT"), v]),
        at_ms().prop_map(|v| vec![b("PXAT"), v]),
    ]
    .boxed()
}

fn set_opt() -> BoxedStrategy<Vec<Vec<u8>>> {
    prop_oneof![
        pick(&["NX", "XX", "GET", "KEEPTTL", "nx", "get"]).prop_map(|o| vec![o]),
        expiry_opt(),
    ]
    .boxed()
}

fn set_cmd() -> BoxedStrategy<Cmd> {
    (key(), value(), prop::collection::vec(set_opt(), 0..3))
        .prop_map(|(k, v, opts)| {
            let mut args = vec![b("SET"), k, v];
            args.extend(opts.into_iter().flatten());
            Cmd::new(args)
        })
        .boxed()
}

fn getex_cmd() -> BoxedStrategy<Cmd> {
    let opt = prop_oneof![
        Just(vec![]),
        Just(vec![b("PERSIST")]),
        expiry_opt(),
        (expiry_opt(), expiry_opt()).prop_map(|(a, c)| [a, c].concat()),
        Just(vec![b("PERSIST"), b("EX"), b("100")]),
    ];
    (key(), opt)
        .prop_map(|(k, o)| {
            let mut args = vec![b("GETEX"), k];
            args.extend(o);
            Cmd::new(args)
        })
        .boxed()
}

fn expire_cmd() -> BoxedStrategy<Cmd> {
    let which = prop_oneof![
        Just(("EXPIRE", 0)),
        Just(("PEXPIRE", 1)),
        Just(("EXPIREAT", 2)),
        Just(("PEXPIREAT", 3)),
    ];
    let flags = prop::collection::vec(pick(&["NX", "XX", "GT", "LT", "gt", "zz"]), 0..3);
    (
        which,
        key(),
        ttl_secs(),
        ttl_ms(),
        at_secs(),
        at_ms(),
        flags,
    )
        .prop_map(|((name, kind), k, s, ms, at_s, at_ms, flags)| {
            let t = match kind {
                0 => s,
                1 => ms,
                2 => at_s,
                _ => at_ms,
            };
            // A relative time equal to the current expire is a tie only
            // when both land in the same millisecond, so GT/LT may answer
            // either way; the TTLs that follow still agree within their
            // tolerance.
            let ordered = flags
                .iter()
                .any(|f| f.eq_ignore_ascii_case(b"gt") || f.eq_ignore_ascii_case(b"lt"));
            let mut args = vec![b(name), k, t];
            args.extend(flags);
            if kind < 2 && ordered {
                Cmd::new(args).with(Cmp::AnyInt)
            } else {
                Cmd::new(args)
            }
        })
        .boxed()
}

const PATTERNS: &[&str] = &[
    "*",
    "k*",
    "k?",
    "k[0-1]",
    "k[^1]",
    "*1*",
    "key:*",
    "x",
    "\\k*",
    "[a-z]*",
    "k[",
    "k\\",
    "*[",
    "?",
    "??",
    "k[!0]",
    "k[1-0]",
    "*:*",
    "",
    "k\\*",
    "k[[]1]",
    "k\\[1\\]",
    "k\\\\",
    "k??",
    "m*",
    "m1?",
    "m[0-9]",
    "*\u{e9}",
    "k?\u{e9}",
    "k[\u{e9}]",
    "[^m]*",
    "m[1-3]*",
    "k[a-",
    "k[\\]]",
    "*****1",
];

fn lcs_cmd() -> BoxedStrategy<Cmd> {
    let opt = prop_oneof![
        pick(&["LEN", "IDX", "WITHMATCHLEN", "len", "idx"]).prop_map(|o| vec![o]),
        pick(&["0", "1", "2", "3", "-1", "abc"]).prop_map(|n| vec![b("MINMATCHLEN"), n]),
    ];
    (key(), key(), prop::collection::vec(opt, 0..3))
        .prop_map(|(a, c, opts)| {
            let mut args = vec![b("LCS"), a, c];
            args.extend(opts.into_iter().flatten());
            Cmd::new(args)
        })
        .boxed()
}

fn named(name: &'static str, rest: Vec<Vec<u8>>) -> Cmd {
    let mut args = vec![b(name)];
    args.extend(rest);
    Cmd::new(args)
}

/// One command (no SCAN iteration, no MULTI): what MULTI may queue.
fn simple_cmd() -> BoxedStrategy<Cmd> {
    let one_key = |name: &'static str| key().prop_map(move |k| named(name, vec![k])).boxed();
    let key_value = |name: &'static str| {
        (key(), value())
            .prop_map(move |(k, v)| named(name, vec![k, v]))
            .boxed()
    };
    let key_int = |name: &'static str| {
        (key(), int_arg())
            .prop_map(move |(k, n)| named(name, vec![k, n]))
            .boxed()
    };
    let multi_key = |name: &'static str| keys(4).prop_map(move |ks| named(name, ks)).boxed();
    let pairs = |name: &'static str| {
        prop::collection::vec((key(), value()), 1..4)
            .prop_map(move |ps| {
                named(
                    name,
                    ps.into_iter().flat_map(|(k, v)| [k, v]).collect::<Vec<_>>(),
                )
            })
            .boxed()
    };
    prop_oneof![
        // Strings.
        8 => set_cmd(),
        6 => one_key("GET"),
        2 => key_value("SETNX"),
        2 => (key(), ttl_secs(), value()).prop_map(|(k, t, v)| named("SETEX", vec![k, t, v])),
        1 => (key(), ttl_ms(), value()).prop_map(|(k, t, v)| named("PSETEX", vec![k, t, v])),
        2 => multi_key("MGET"),
        2 => pairs("MSET"),
        1 => pairs("MSETNX"),
        1 => key_value("GETSET"),
        1 => one_key("GETDEL"),
        2 => getex_cmd(),
        3 => one_key("INCR"),
        2 => one_key("DECR"),
        2 => key_int("INCRBY"),
        1 => key_int("DECRBY"),
        3 => (key(), float_arg()).prop_map(|(k, f)| named("INCRBYFLOAT", vec![k, f])),
        2 => key_value("APPEND"),
        2 => one_key("STRLEN"),
        2 => (key(), int_arg(), int_arg()).prop_map(|(k, s, e)| named("GETRANGE", vec![k, s, e])),
        1 => (key(), int_arg(), int_arg()).prop_map(|(k, s, e)| named("SUBSTR", vec![k, s, e])),
        2 => (key(), prop_oneof![(0i64..20).prop_map(|n| b(&n.to_string())), int_arg(), Just(b("600000000"))], value())
            .prop_map(|(k, o, v)| named("SETRANGE", vec![k, o, v])),
        2 => lcs_cmd(),
        // Keyspace.
        3 => multi_key("DEL"),
        1 => multi_key("UNLINK"),
        2 => multi_key("EXISTS"),
        2 => one_key("TYPE"),
        4 => expire_cmd(),
        3 => one_key("TTL").prop_map(|c| c.with(Cmp::Within(1))),
        2 => one_key("PTTL").prop_map(|c| c.with(Cmp::Within(1000))),
        1 => one_key("EXPIRETIME").prop_map(|c| c.with(Cmp::Within(1))),
        1 => one_key("PEXPIRETIME").prop_map(|c| c.with(Cmp::Within(1000))),
        2 => one_key("PERSIST"),
        2 => pick(PATTERNS).prop_map(|p| named("KEYS", vec![p]).with(Cmp::Unordered)),
        1 => Just(named("RANDOMKEY", vec![]).with(Cmp::Shape)),
        2 => (key(), key()).prop_map(|(a, c)| named("RENAME", vec![a, c])),
        1 => (key(), key()).prop_map(|(a, c)| named("RENAMENX", vec![a, c])),
        2 => (key(), key(), any::<bool>()).prop_map(|(a, c, r)| {
            let mut rest = vec![a, c];
            if r {
                rest.push(b("REPLACE"));
            }
            named("COPY", rest)
        }),
        1 => prop::sample::select(vec![
            words(&["FLUSHDB"]),
            words(&["FLUSHDB", "ASYNC"]),
            words(&["FLUSHDB", "sync"]),
            words(&["FLUSHALL", "SYNC"]),
            words(&["FLUSHDB", "LAZY"]),
        ])
        .prop_map(Cmd::new),
        // DB 0 is the one keyspace on both servers.
        1 => (key(), key()).prop_map(|(a, c)| named("COPY", vec![a, c, b("DB"), b("0")])),
        1 => pick(&["0", "x", "-1"]).prop_map(|n| named("SELECT", vec![n])),
        1 => Just(named("TIME", vec![]).with(Cmp::Shape)),
        // Connection.
        1 => value().prop_map(|v| named("ECHO", vec![v])),
        1 => Just(named("PING", vec![])),
        1 => value().prop_map(|v| named("PING", vec![v])),
        // Mistakes a client makes: wrong arity, unknown command.
        1 => pick(&["GET", "SET", "INCR", "EXPIRE", "TTL", "APPEND", "LCS"]).prop_map(|n| Cmd::new(vec![n])),
        1 => prop::sample::select(vec![
            words(&["NOSUCHCOMMAND", "a", "b"]),
            words(&["MSET", "k0", "v", "k1"]),
            words(&["MSETNX", "k0"]),
            words(&["GETEX", "k0", "PX"]),
            words(&["SET", "k0", "v", "EX"]),
            words(&["SCAN"]),
            words(&["RENAME", "k0"]),
            words(&["COPY", "k0", "k1", "REPLACE", "x"]),
            words(&["FLUSHDB", "x"]),
            words(&["PING", "a", "b"]),
        ]).prop_map(Cmd::new),
    ]
    .prop_flat_map(|cmd| {
        // The command name in any case: errors name it as Redis does.
        any::<bool>().prop_map(move |lower| {
            let mut cmd = cmd.clone();
            if lower {
                cmd.args[0].make_ascii_lowercase();
            }
            cmd
        })
    })
    .boxed()
}

fn scan_opts() -> BoxedStrategy<Vec<Vec<u8>>> {
    let opt = prop_oneof![
        pick(PATTERNS).prop_map(|p| vec![b("MATCH"), p]),
        pick(&["1", "2", "5", "100", "0", "-1", "abc"]).prop_map(|n| vec![b("COUNT"), n]),
        pick(&["string", "hash", "STRING", "foo"]).prop_map(|t| vec![b("TYPE"), t]),
    ];
    prop::collection::vec(opt, 0..3)
        .prop_map(|os| os.into_iter().flatten().collect())
        .boxed()
}

/// What a transaction queues: commands, now and then a nested MULTI.
fn in_multi_cmd() -> BoxedStrategy<Cmd> {
    prop_oneof![
        20 => simple_cmd(),
        1 => Just(Cmd::new(words(&["MULTI"]))),
    ]
    .boxed()
}

fn step() -> BoxedStrategy<Step> {
    prop_oneof![
        20 => simple_cmd().prop_map(Step::One),
        // Not in MULTI: see `run_seq`.
        1 => Just(Step::One(named("DBSIZE", vec![]))),
        // Many keys at once, so that SCAN has pages.
        1 => (1..MANY, value()).prop_map(|(n, v)| {
            let mut args = vec![b("MSET")];
            for i in 0..n {
                args.push(b(&format!("m{i}")));
                args.push(v.clone());
            }
            Step::One(Cmd::new(args))
        }),
        2 => scan_opts().prop_map(Step::ScanAll),
        2 => (prop::collection::vec(in_multi_cmd(), 0..5), prop::bool::weighted(0.85))
            .prop_map(|(cmds, exec)| Step::Multi(cmds, exec)),
        3 => simple_cmd().prop_map(Step::Other),
        // Transaction commands out of place.
        1 => pick(&["EXEC", "DISCARD"]).prop_map(|n| Step::One(Cmd::new(vec![n]))),
    ]
    .boxed()
}

fn sequence() -> BoxedStrategy<Seq> {
    (
        prop::bool::weighted(0.3),
        prop::collection::vec(step(), 1..30),
    )
        .prop_map(|(resp3, steps)| Seq { resp3, steps })
        .boxed()
}

// ---------------------------------------------------------------------------
// Comparison

fn same(cmp: Cmp, a: &Value, c: &Value) -> bool {
    match (cmp, a, c) {
        (Cmp::Unordered, Value::Array(x), Value::Array(y)) => {
            let (mut x, mut y) = (x.clone(), y.clone());
            x.sort();
            y.sort();
            x == y
        }
        (Cmp::Within(tol), Value::Int(x), Value::Int(y)) if *x >= 0 && *y >= 0 => {
            (x - y).abs() <= tol
        }
        (Cmp::Shape, _, _) => same_shape(a, c),
        (Cmp::AnyInt, Value::Int(_), Value::Int(_)) => true,
        _ => a == c,
    }
}

/// Same kinds of values in the same structure, contents aside (RANDOMKEY,
/// TIME).
fn same_shape(a: &Value, c: &Value) -> bool {
    match (a, c) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_shape(x, y))
        }
        (Value::Bulk(_), Value::Bulk(_)) | (Value::Int(_), Value::Int(_)) => true,
        _ => a == c,
    }
}

/// The two servers of a run: the reference first.
struct Pair {
    redis: Box<dyn Backend>,
    ferrocks: Box<dyn Backend>,
}

impl Pair {
    fn new((redis, ferrocks): (Box<dyn Backend>, Box<dyn Backend>)) -> Pair {
        Pair { redis, ferrocks }
    }
}

/// The clients of a case: the main one, and another one whose commands
/// land between the main client's (inside its MULTI too).
struct Clients {
    main: Pair,
    other: Pair,
}

/// Why a case stopped.
enum Failure {
    /// The replies differ: a finding.
    Mismatch(String),
    /// A connection broke: the run cannot go on.
    Fatal(String),
}

fn call2(p: &mut Pair, args: &[Vec<u8>]) -> Result<(Value, Value), Failure> {
    let a = p
        .redis
        .call(args)
        .map_err(|e| Failure::Fatal(format!("redis-server: {e} after {}", show_args(args))))?;
    let c = p
        .ferrocks
        .call(args)
        .map_err(|e| Failure::Fatal(format!("ferrocks: {e} after {}", show_args(args))))?;
    Ok((a, c))
}

fn mismatch(i: usize, what: &str, a: &Value, c: &Value) -> Failure {
    Failure::Mismatch(format!(
        "step {} ({what}):\n      redis-server: {a:?}\n      ferrocks:     {c:?}",
        i + 1
    ))
}

fn check(i: usize, cmd: &Cmd, a: &Value, c: &Value) -> Result<(), Failure> {
    if same(cmd.cmp, a, c) {
        Ok(())
    } else {
        Err(mismatch(i, &format!("{cmd:?}"), a, c))
    }
}

/// Runs a whole SCAN iteration; the keys seen, or the first reply that is
/// not a SCAN page (an error).
fn scan_all(server: &mut dyn Backend, opts: &[Vec<u8>]) -> Result<Result<Value, Value>, String> {
    let mut cursor = b"0".to_vec();
    let mut seen = BTreeSet::new();
    for _ in 0..10_000 {
        let mut args = vec![b("SCAN"), cursor.clone()];
        args.extend_from_slice(opts);
        let v = server.call(&args)?;
        let Value::Array(page) = &v else {
            return Ok(Err(v));
        };
        let [Value::Bulk(next), Value::Array(ks)] = page.as_slice() else {
            return Ok(Err(v));
        };
        for k in ks {
            seen.insert(k.clone());
        }
        if next == b"0" {
            return Ok(Ok(Value::Array(seen.into_iter().collect())));
        }
        cursor = next.clone();
    }
    Err("SCAN did not finish within 10000 calls".into())
}

/// Runs one sequence on both servers (after emptying them).
fn run_seq(clients: &mut Clients, seq: &Seq) -> Result<(), Failure> {
    if seq.resp3 {
        // The HELLO maps differ (server, version, id): only the shape.
        for p in [&mut clients.main, &mut clients.other] {
            let (a, c) = call2(p, &words(&["HELLO", "3"]))?;
            if !matches!((&a, &c), (Value::Map(_), Value::Map(_))) {
                return Err(Failure::Fatal(format!("HELLO 3: {a:?} / {c:?}")));
            }
        }
    }
    let p = &mut clients.main;
    let flush = words(&["FLUSHALL"]);
    let (a, c) = call2(p, &flush)?;
    if a != c {
        return Err(Failure::Fatal(format!("FLUSHALL: {a:?} / {c:?}")));
    }
    for (i, step) in seq.steps.iter().enumerate() {
        match step {
            Step::One(cmd) => {
                if cmd.args[0] == b"DBSIZE" {
                    // Redis counts keys that expired but were not yet
                    // reclaimed; touching them first reclaims them (on both
                    // sides, so any two servers compare alike).
                    let touch: Vec<Vec<u8>> =
                        std::iter::once(b("EXISTS")).chain(all_keys()).collect();
                    call2(p, &touch)?;
                }
                let (a, c) = call2(p, &cmd.args)?;
                check(i, cmd, &a, &c)?;
            }
            Step::ScanAll(opts) => {
                let a = scan_all(p.redis.as_mut(), opts)
                    .map_err(|e| Failure::Fatal(format!("redis-server: {e}")))?;
                let c = scan_all(p.ferrocks.as_mut(), opts)
                    .map_err(|e| Failure::Fatal(format!("ferrocks: {e}")))?;
                let (a, c) = (a.unwrap_or_else(|e| e), c.unwrap_or_else(|e| e));
                if a != c {
                    return Err(mismatch(i, &format!("{step:?}"), &a, &c));
                }
            }
            Step::Other(cmd) => {
                let (a, c) = call2(&mut clients.other, &cmd.args)?;
                check(i, cmd, &a, &c)?;
            }
            Step::Multi(cmds, exec) => {
                let (a, c) = call2(p, &words(&["MULTI"]))?;
                if a != c {
                    return Err(mismatch(i, "MULTI", &a, &c));
                }
                let mut queued = Vec::new();
                for cmd in cmds {
                    let (a, c) = call2(p, &cmd.args)?;
                    if a != c {
                        return Err(mismatch(i, &format!("queueing {cmd:?}"), &a, &c));
                    }
                    if a == Value::Status("QUEUED".into()) {
                        queued.push(cmd);
                    }
                }
                let end = if *exec { "EXEC" } else { "DISCARD" };
                let (a, c) = call2(p, &words(&[end]))?;
                let fine = match (&a, &c) {
                    (Value::Array(x), Value::Array(y)) if x.len() == queued.len() => {
                        y.len() == x.len()
                            && queued
                                .iter()
                                .zip(x.iter().zip(y))
                                .all(|(cmd, (x, y))| same(cmd.cmp, x, y))
                    }
                    _ => a == c,
                };
                if !fine {
                    return Err(mismatch(i, &format!("{step:?}"), &a, &c));
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Runner

/// A finding: the seed and the shrunk sequence with its difference.
struct Finding {
    seed: u64,
    seq: Seq,
    reason: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ferrocks and redis-server differ (seed {}, shrunk to {} steps):\n{:?}  {}\n  \
             replay: FUZZ_SEED={} cargo test --release --test differential differential_random_seed -- --nocapture",
            self.seed,
            self.seq.steps.len(),
            self.seq,
            self.reason,
            self.seed
        )
    }
}

fn rng_for(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes(),
        );
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// Runs `cases` sequences from `seed`; `connect` gives fresh connections to
/// both servers for each case. `Ok` when all agree, else the shrunk
/// finding. Panics when a server stops answering.
fn fuzz_seed<F>(seed: u64, cases: u32, connect: F) -> Result<(), Finding>
where
    F: Fn() -> (Box<dyn Backend>, Box<dyn Backend>),
{
    let config = Config {
        cases,
        max_shrink_iters: 4000,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng_for(seed));
    let fatal: RefCell<Option<String>> = RefCell::new(None);
    let result = runner.run(&sequence(), |seq| {
        if fatal.borrow().is_some() {
            return Ok(());
        }
        let mut clients = Clients {
            main: Pair::new(connect()),
            other: Pair::new(connect()),
        };
        match run_seq(&mut clients, &seq) {
            Ok(()) => Ok(()),
            Err(Failure::Mismatch(m)) => Err(TestCaseError::fail(m)),
            Err(Failure::Fatal(m)) => {
                *fatal.borrow_mut() = Some(format!("{m}\n  sequence:\n{seq:?}"));
                Ok(())
            }
        }
    });
    if let Some(m) = fatal.into_inner() {
        panic!("seed {seed}: a server stopped answering: {m}");
    }
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, seq)) => Err(Finding {
            seed,
            seq,
            reason: reason.message().to_string(),
        }),
        Err(TestError::Abort(reason)) => panic!("seed {seed}: proptest aborted: {reason}"),
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn cases() -> u32 {
    env_u64("FUZZ_CASES").map(|n| n as u32).unwrap_or(2500)
}

fn connector(
    redis_port: u16,
    ferrocks_port: u16,
) -> impl Fn() -> (Box<dyn Backend>, Box<dyn Backend>) {
    move || {
        let r = Conn::connect(redis_port).expect("connect to redis-server");
        let f = Conn::connect(ferrocks_port).expect("connect to ferrocks");
        (
            Box::new(r) as Box<dyn Backend>,
            Box::new(f) as Box<dyn Backend>,
        )
    }
}

fn run_or_panic(seed: u64, cases: u32, redis: &RedisServer, ferrocks: &Server) {
    let started = Instant::now();
    if let Err(finding) = fuzz_seed(seed, cases, connector(redis.port(), ferrocks.port())) {
        panic!("{finding}");
    }
    println!(
        "seed {seed}: {cases} sequences agree ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
}

/// The seed CI always runs.
#[test]
fn differential_fixed_seed() {
    let redis = RedisServer::start();
    let ferrocks = Server::start();
    run_or_panic(0x5EED_F0CC, cases(), &redis, &ferrocks);
}

/// A new seed each run (printed), or `FUZZ_SEED`; with `FUZZ_SECS`, new
/// seeds until that many seconds have passed.
#[test]
fn differential_random_seed() {
    let redis = RedisServer::start();
    let ferrocks = Server::start();
    let clock_seed = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    };
    let first = env_u64("FUZZ_SEED").unwrap_or_else(clock_seed);
    println!("differential_random_seed: seed {first}");
    run_or_panic(first, cases(), &redis, &ferrocks);
    let Some(secs) = env_u64("FUZZ_SECS") else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seed = first;
    let mut rounds = 1u64;
    while Instant::now() < deadline {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        println!("differential_random_seed: seed {seed}");
        run_or_panic(seed, cases(), &redis, &ferrocks);
        rounds += 1;
    }
    println!("{rounds} seeds x {} sequences agree", cases());
}

// ---------------------------------------------------------------------------
// Regressions: sequences the fuzzer found, replayed on every run

/// Each entry: commands (space-separated words) run in order on both
/// servers after FLUSHALL; every reply must agree.
const REGRESSIONS: &[&[&str]] = &[
    // GETEX checks its expire value only after the lookup: nil first.
    &["GETEX k0 EXAT 0", "GETEX k0 EX 0", "GETEX k0 PX -1"],
    &["SET k0 v", "GETEX k0 EX 0", "GETEX k0 EXAT abc", "TTL k0"],
    // SET's syntax is checked before its expire value.
    &[
        "SET k0 v EX 0 PX 100000",
        "SET k0 v EXAT 0 EX 100",
        "SET k0 v EX abc KEEPTTL",
    ],
    // A repeated expire of the same kind is allowed (the last one wins).
    &[
        "SET k0 v EX 10 EX 2000",
        "TTL k0",
        "SET k0 v KEEPTTL KEEPTTL",
        "TTL k0",
    ],
    &[
        "SET k0 v",
        "GETEX k0 PERSIST PERSIST",
        "GETEX k0 EX 100 EX 200",
        "TTL k0",
    ],
    // EXPIRE checks its options before its time argument.
    &[
        "PEXPIREAT k0 abc zz",
        "PEXPIRE k0 abc NX XX",
        "EXPIRE k0 abc GT LT",
    ],
    // INCRBYFLOAT computes in long double and prints "%.17Lf" like Redis.
    &[
        "SET k0 10.5",
        "INCRBYFLOAT k0 0.1",
        "INCRBYFLOAT k0 0x10",
        "INCRBYFLOAT k0 1e-5",
    ],
    &[
        "INCRBYFLOAT x 1e308",
        "INCRBYFLOAT x 1e308",
        "GET x",
        "INCRBYFLOAT x 1.2e4932",
    ],
    &[
        "SET k0 -0",
        "INCRBYFLOAT k0 -0",
        "INCRBYFLOAT k0 inf",
        "INCRBYFLOAT k0 nan",
    ],
    // DBSIZE after an already-past absolute expire.
    &["SET k0 v EXAT 1", "SET k1 v PXAT 1", "DBSIZE"],
];

#[test]
fn differential_regressions() {
    let redis = RedisServer::start();
    let ferrocks = Server::start();
    let steps = REGRESSIONS
        .iter()
        .flat_map(|cmds| {
            std::iter::once(Step::One(Cmd::new(words(&["FLUSHALL"])))).chain(cmds.iter().map(|c| {
                let args = words(&c.split(' ').collect::<Vec<_>>());
                let cmp = match c.split(' ').next() {
                    Some("TTL") | Some("EXPIRETIME") => Cmp::Within(1),
                    Some("PTTL") | Some("PEXPIRETIME") => Cmp::Within(1000),
                    _ => Cmp::Exact,
                };
                Step::One(Cmd::new(args).with(cmp))
            }))
        })
        .collect();
    let seq = Seq {
        resp3: false,
        steps,
    };
    let connect = connector(redis.port(), ferrocks.port());
    let mut clients = Clients {
        main: Pair::new(connect()),
        other: Pair::new(connect()),
    };
    match run_seq(&mut clients, &seq) {
        Ok(()) => {}
        Err(Failure::Mismatch(m)) | Err(Failure::Fatal(m)) => panic!("{m}\n{seq:?}"),
    }
}

// ---------------------------------------------------------------------------
// The harness can fail

/// Passes every call through, but adds one to the reply of STRLEN when the
/// key is not empty: a deliberate difference.
struct Tamper(Box<dyn Backend>);

impl Backend for Tamper {
    fn call(&mut self, args: &[Vec<u8>]) -> Result<Value, String> {
        let v = self.0.call(args)?;
        Ok(match v {
            Value::Int(n) if n > 0 && args[0].eq_ignore_ascii_case(b"strlen") => Value::Int(n + 1),
            other => other,
        })
    }
}

/// Two redis-servers, one behind [`Tamper`]: the run must fail, and the
/// finding must be shrunk to the two steps that show it. (ferrocks is not
/// involved, so a real finding cannot hide the planted one.)
#[test]
fn harness_reports_a_difference_and_shrinks_it() {
    let reference = RedisServer::start();
    let other = RedisServer::start();
    let (rp, op) = (reference.port(), other.port());
    let connect = move || {
        let r = Conn::connect(rp).expect("connect to redis-server");
        let o = Conn::connect(op).expect("connect to the second redis-server");
        (
            Box::new(r) as Box<dyn Backend>,
            Box::new(Tamper(Box::new(o))) as Box<dyn Backend>,
        )
    };
    let finding = fuzz_seed(7, 2000, connect).expect_err("a tampered STRLEN must be reported");
    let text = finding.to_string();
    println!("{text}");
    assert!(text.contains("seed 7"), "{text}");
    assert!(
        text.contains("redis-server: :") && text.contains("ferrocks:     :"),
        "{text}"
    );
    // Shrunk: something that makes a non-empty string, then STRLEN.
    assert!(finding.seq.steps.len() <= 2, "not shrunk:\n{text}");
    let last = format!("{:?}", finding.seq.steps.last().expect("a step")).to_ascii_uppercase();
    assert!(last.contains("STRLEN"), "{text}");
}

#[test]
fn comparison_rules() {
    let bulk = |s: &str| Value::Bulk(b(s));
    let arr = |xs: &[&str]| Value::Array(xs.iter().map(|s| bulk(s)).collect());
    assert!(same(Cmp::Exact, &bulk("a"), &bulk("a")));
    assert!(!same(Cmp::Exact, &bulk("a"), &bulk("b")));
    assert!(!same(Cmp::Exact, &arr(&["a", "b"]), &arr(&["b", "a"])));
    assert!(same(Cmp::Unordered, &arr(&["a", "b"]), &arr(&["b", "a"])));
    assert!(!same(Cmp::Unordered, &arr(&["a", "b"]), &arr(&["a", "a"])));
    assert!(same(Cmp::Within(1), &Value::Int(99), &Value::Int(100)));
    assert!(!same(Cmp::Within(1), &Value::Int(98), &Value::Int(100)));
    assert!(!same(Cmp::Within(1), &Value::Int(-1), &Value::Int(0)));
    assert!(!same(Cmp::Within(1), &Value::Int(-2), &Value::Int(-1)));
    assert!(same(Cmp::Shape, &bulk("k1"), &bulk("k2")));
    assert!(!same(Cmp::Shape, &bulk("k1"), &Value::Nil));
    assert!(same(Cmp::Shape, &arr(&["1", "2"]), &arr(&["3", "4"])));
    assert!(!same(Cmp::Shape, &arr(&["1", "2"]), &arr(&["3"])));
    assert!(!same(Cmp::Exact, &Value::Status("OK".into()), &bulk("OK")));
    assert!(same(Cmp::AnyInt, &Value::Int(0), &Value::Int(1)));
    assert!(!same(
        Cmp::AnyInt,
        &Value::Int(0),
        &Value::Error("ERR syntax error".into())
    ));
}
