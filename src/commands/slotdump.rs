//! CLUSTERX SLOTDUMP: lists the raw RocksDB records of a slot range, page
//! by page, so two nodes' copies of a range can be compared record for
//! record (how the migration tests prove a byte-identical move). It reads
//! with the same snapshot reader a migration job uses, so memory per call
//! is bounded by the page size.

use bytes::Bytes;
use rocksdb::WriteBatch;

use super::args::{int, text};
use super::error::{CmdError, CmdResult};
use super::Ctx;
use crate::cluster::migrate::record::SourcePosition;
use crate::cluster::migrate::snapshot::{Position, SnapshotReader};
use crate::cluster::topology::parse_slot_range;
use crate::protocol::Reply;
use crate::storage::records::{self, Record};
use crate::storage::Cf;

/// Largest page, in bytes of records.
const MAX_PAGE_BYTES: i64 = 8 << 20;

/// CLUSTERX SLOTDUMP <slot|a-b> <cursor> [page-bytes]: replies
/// `[next-cursor, [[cf, key, value], ...]]`; the cursor starts and ends
/// as "0".
pub fn slotdump(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() != 4 && args.len() != 5 {
        return Err(CmdError::Arity("clusterx|slotdump".into()));
    }
    let (first, last) = parse_slot_range(&text(&args[2])).map_err(CmdError::err)?;
    let namespaces = ctx.server.namespace_prefixes();
    let position = if args[3].as_ref() == b"0" {
        Position::default()
    } else {
        SourcePosition::decode(&args[3])
            .and_then(|p| p.to_reader_position(&namespaces))
            .ok_or_else(|| CmdError::err("invalid cursor"))?
    };
    let page = match args.get(4) {
        Some(a) => match int(a)? {
            n if (1..=MAX_PAGE_BYTES).contains(&n) => n as usize,
            _ => return Err(CmdError::err("page size out of range")),
        },
        None => 64 << 10,
    };
    let storage = &ctx.server.node.storage;
    let mut reader = SnapshotReader::new(storage, namespaces.clone(), first, last, position);
    let mut batch = WriteBatch::default();
    while !reader.finished() && batch.is_empty() {
        reader.fill(&mut batch, page)?;
    }
    let names: Vec<(u32, &str)> = Cf::DATA
        .iter()
        .map(|cf| (storage.cf_id(*cf), cf.name()))
        .collect();
    let mut rows = Vec::new();
    for record in records::parse(batch.data()).map_err(|e| CmdError::err(e.to_string()))? {
        if let Record::Put { cf, key, value } = record {
            let name = names
                .iter()
                .find(|(id, _)| *id == cf)
                .map_or("?", |(_, n)| *n);
            rows.push(Reply::Array(vec![
                Reply::bulk(name),
                Reply::bulk(key.to_vec()),
                Reply::bulk(value.to_vec()),
            ]));
        }
    }
    let cursor = if reader.finished() {
        b"0".to_vec()
    } else {
        SourcePosition::from_snapshot(reader.position(), &namespaces).encode()
    };
    Ok(Reply::Array(vec![Reply::bulk(cursor), Reply::Array(rows)]))
}
