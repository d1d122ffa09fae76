//! Argument syntax of each command, turned into the `arguments` section of
//! `COMMAND DOCS` so that `redis-cli` shows its usage hints.
//!
//! Syntax strings use the Redis docs notation: `UPPER` words are tokens,
//! lower-case words are values, `[...]` is optional, `a|b` is a choice and a
//! trailing `...` repeats.

use crate::protocol::Reply;

/// The argument syntax of a command (empty when it takes none).
pub fn syntax_of(name: &str) -> &'static str {
    match name {
        "get" | "getdel" | "incr" | "decr" | "strlen" | "type" | "ttl" | "pttl" | "expiretime"
        | "pexpiretime" | "persist" => "key",
        "set" => "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
        "setnx" | "getset" | "append" => "key value",
        "setex" => "key seconds value",
        "psetex" => "key milliseconds value",
        "mget" | "del" | "unlink" | "exists" => "key [key ...]",
        "mset" | "msetnx" => "key value [key value ...]",
        "getex" => "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]",
        "incrby" | "decrby" => "key increment",
        "incrbyfloat" => "key increment",
        "getrange" | "substr" => "key start end",
        "setrange" => "key offset value",
        "cas" => "key oldvalue newvalue [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds]",
        "lcs" => "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
        "move" => "key db",
        "movex" => "key token",
        "cad" => "key value",
        "expire" | "pexpire" => "key time [NX|XX|GT|LT]",
        "expireat" | "pexpireat" => "key unix-time [NX|XX|GT|LT]",
        "keys" => "pattern",
        "scan" => "cursor [MATCH pattern] [COUNT count] [TYPE type]",
        "rename" | "renamenx" => "key newkey",
        "copy" => "source destination [DB destination-db] [REPLACE]",
        "dbsize" => "[SCAN]",
        "flushdb" | "flushall" => "[ASYNC|SYNC]",
        "ping" => "[message]",
        "echo" => "message",
        "select" => "index",
        "auth" => "[username] password",
        "hello" => "[protover [AUTH username password] [SETNAME clientname]]",
        "client" => "subcommand [arg ...]",
        "debug" => "SLEEP seconds",
        "shutdown" => "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]",
        "info" => "[section [section ...]]",
        "config" => "GET|SET|REWRITE|RESETSTAT [arg ...]",
        "slowlog" => "GET|LEN|RESET [count]",
        "command" => "[COUNT|INFO|DOCS|LIST|GETKEYS] [arg ...]",
        "namespace" => "GET|SET|ADD|DEL name [token]",
        _ => "",
    }
}

/// Splits at top-level spaces (not inside brackets).
fn top_level_words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ' ' if depth == 0 => {
                if i > start {
                    out.push(&text[start..i]);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn arg_map(
    name: &str,
    kind: &str,
    token: Option<&str>,
    flags: Vec<&str>,
    children: Vec<Reply>,
) -> Reply {
    let mut fields = vec![
        (Reply::bulk("name"), Reply::bulk(name.to_string())),
        (Reply::bulk("type"), Reply::bulk(kind.to_string())),
    ];
    if let Some(t) = token {
        fields.push((Reply::bulk("token"), Reply::bulk(t.to_string())));
    }
    if !flags.is_empty() {
        fields.push((
            Reply::bulk("flags"),
            Reply::Set(flags.into_iter().map(|f| Reply::Status(f.into())).collect()),
        ));
    }
    if !children.is_empty() {
        fields.push((Reply::bulk("arguments"), Reply::Array(children)));
    }
    Reply::Map(fields)
}

/// Describes one syntax element as a docs argument.
fn describe(word: &str) -> Option<Reply> {
    let mut flags = Vec::new();
    let mut body = word;
    if body.starts_with('[') && body.ends_with(']') {
        flags.push("optional");
        body = &body[1..body.len() - 1];
        // "[key ...]" after "key" marks repetition of the previous item.
        if body.ends_with(" ...") && !body.contains('|') {
            let inner = body.trim_end_matches(" ...");
            flags.push("multiple");
            return Some(element(inner, flags));
        }
    }
    Some(element(body, flags))
}

fn element(body: &str, flags: Vec<&str>) -> Reply {
    let words = top_level_words(body);
    if words.len() == 1 && body.contains('|') {
        let choices = body
            .split('|')
            .filter_map(|c| describe(c.trim()))
            .collect::<Vec<_>>();
        return arg_map(
            &body.to_ascii_lowercase().replace('|', "_"),
            "oneof",
            None,
            flags,
            choices,
        );
    }
    if words.len() > 1 {
        let children = words.iter().filter_map(|w| describe(w)).collect();
        return arg_map(
            &words[0].to_ascii_lowercase(),
            "block",
            None,
            flags,
            children,
        );
    }
    let is_token = body.chars().all(|c| c.is_ascii_uppercase() || c == '-');
    if is_token {
        arg_map(
            &body.to_ascii_lowercase(),
            "pure-token",
            Some(body),
            flags,
            vec![],
        )
    } else {
        let kind = match body {
            "key" | "key1" | "key2" | "newkey" | "source" | "destination" => "key",
            "pattern" => "pattern",
            _ => "string",
        };
        arg_map(body, kind, None, flags, vec![])
    }
}

/// The `arguments` array of `COMMAND DOCS` for a command.
pub fn doc_arguments(name: &str) -> Vec<Reply> {
    top_level_words(syntax_of(name))
        .into_iter()
        .filter_map(describe)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_syntax_becomes_arguments() {
        let args = doc_arguments("set");
        assert_eq!(args.len(), 5);
        let expire = format!("{:?}", args[4]);
        assert!(
            expire.contains("oneof") && expire.contains("KEEPTTL"),
            "{expire}"
        );
    }

    #[test]
    fn every_command_has_parseable_syntax() {
        for c in crate::commands::COMMANDS.iter() {
            let _ = doc_arguments(c.name);
        }
    }
}
