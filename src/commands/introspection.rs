//! COMMAND, COMMAND COUNT/INFO/DOCS/LIST/GETKEYS: generated from the table.

use bytes::Bytes;

use super::args::{lower, text};
use super::error::{CmdError, CmdResult};
use super::flags::{self, NAMES};
use super::{CommandSpec, Ctx, COMMANDS};
use crate::protocol::Reply;

/// The ACL category of a command group, as Redis names it (`None` for
/// groups Redis gives no category of their own).
fn category_of(group: &str) -> Option<&'static str> {
    Some(match group {
        "generic" => "@keyspace",
        "string" => "@string",
        "hash" => "@hash",
        "list" => "@list",
        "set" => "@set",
        "sorted-set" => "@sortedset",
        "geo" => "@geo",
        "bitmap" => "@bitmap",
        "hyperloglog" => "@hyperloglog",
        "connection" => "@connection",
        "transactions" => "@transaction",
        _ => return None,
    })
}

fn info_of(spec: &CommandSpec) -> Reply {
    let mut flag_names: Vec<Reply> = NAMES
        .iter()
        .filter(|(bit, _)| spec.has(*bit))
        .map(|(_, name)| Reply::Status((*name).into()))
        .collect();
    if spec.movable_keys() {
        flag_names.push(Reply::Status("movablekeys".into()));
    }
    // Redis's order: keyspace, read, write, the type, admin, fast|slow,
    // dangerous, connection, transaction.
    let group = category_of(spec.group);
    let mut categories = Vec::new();
    let mut push = |c: &str| categories.push(Reply::Status(c.into()));
    if group == Some("@keyspace") {
        push("@keyspace");
    }
    if spec.has(flags::READONLY) {
        push("@read");
    }
    if spec.has(flags::WRITE) {
        push("@write");
    }
    let late = matches!(group, Some("@connection" | "@transaction" | "@keyspace"));
    if let Some(c) = group.filter(|_| !late) {
        push(c);
    }
    if spec.has(flags::ADMIN) {
        push("@admin");
    }
    push(if spec.has(flags::FAST) {
        "@fast"
    } else {
        "@slow"
    });
    if spec.has(flags::ADMIN) {
        push("@dangerous");
    }
    if let Some(c) = group.filter(|c| late && *c != "@keyspace") {
        push(c);
    }
    Reply::Array(vec![
        Reply::bulk(spec.name),
        Reply::Integer(spec.arity as i64),
        Reply::Set(flag_names),
        Reply::Integer(spec.first_key as i64),
        Reply::Integer(spec.last_key as i64),
        Reply::Integer(spec.key_step as i64),
        Reply::Set(categories),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
    ])
}

fn docs_of(spec: &CommandSpec) -> Reply {
    Reply::Map(vec![
        (Reply::bulk("summary"), Reply::bulk(spec.summary)),
        (Reply::bulk("since"), Reply::bulk("1.0.0")),
        (Reply::bulk("group"), Reply::bulk(spec.group)),
        (
            Reply::bulk("arguments"),
            Reply::Array(super::syntax::doc_arguments(spec.name)),
        ),
    ])
}

/// A command by the name it is served under (after `rename-command`), so
/// a renamed command's old name is unknown here as everywhere else.
fn find(ctx: &Ctx, name: &[u8]) -> Option<&'static CommandSpec> {
    ctx.server.commands.lookup(name).map(|(_, spec)| spec)
}

/// COMMAND [COUNT | INFO name... | DOCS [name...] | LIST | GETKEYS cmd args...]
pub fn command(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() == 1 {
        return Ok(Reply::Array(
            COMMANDS.iter().copied().map(info_of).collect(),
        ));
    }
    match lower(&args[1]).as_str() {
        "count" => Ok(Reply::Integer(COMMANDS.len() as i64)),
        "list" => Ok(Reply::bulk_array(COMMANDS.iter().map(|c| c.name))),
        "info" => {
            if args.len() == 2 {
                return Ok(Reply::Array(
                    COMMANDS.iter().copied().map(info_of).collect(),
                ));
            }
            Ok(Reply::Array(
                args[2..]
                    .iter()
                    .map(|n| find(ctx, n).map(info_of).unwrap_or(Reply::NilArray))
                    .collect(),
            ))
        }
        "docs" => {
            let specs: Vec<&CommandSpec> = if args.len() == 2 {
                COMMANDS.iter().copied().collect()
            } else {
                args[2..].iter().filter_map(|n| find(ctx, n)).collect()
            };
            Ok(Reply::Map(
                specs
                    .into_iter()
                    .map(|s| (Reply::bulk(s.name), docs_of(s)))
                    .collect(),
            ))
        }
        "getkeys" => {
            if args.len() < 3 {
                return Err(CmdError::Arity("command|getkeys".into()));
            }
            let Some((_, spec)) = ctx.server.commands.lookup(&args[2]) else {
                return Err(CmdError::err("Invalid command specified"));
            };
            let cmd_args = &args[2..];
            if !spec.arity_ok(cmd_args.len()) {
                return Err(CmdError::err(
                    "Invalid number of arguments specified for command",
                ));
            }
            let keys = spec.key_indexes(cmd_args);
            if keys.is_empty() {
                return Err(CmdError::err("The command has no key arguments"));
            }
            Ok(Reply::Array(
                keys.into_iter()
                    .map(|i| Reply::Bulk(cmd_args[i].clone()))
                    .collect(),
            ))
        }
        _ => Err(CmdError::UnknownSubcommand(
            text(&args[1]),
            "COMMAND".into(),
        )),
    }
}
