//! Geo commands (rows in [`COMMANDS`]): GEOADD, GEODIST, GEOHASH, GEOPOS,
//! GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], GEOSEARCH, GEOSEARCHSTORE.
//! Points live in ordinary sorted sets (see [`crate::types::geo`]); every
//! reply and error matches Redis 7.0's.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use bytes::Bytes;

use super::args::{int, is};
use super::error::{CmdError, CmdResult};
use super::flags::STORE_KEY;
use super::table::{c, ONE, R, TWO, W};
use super::{CommandSpec, Ctx};
use crate::protocol::Reply;
use crate::storage::metadata::Composite;
use crate::types::geo::{
    distance, format_coord, format_distance, hash_string, lonlat_to_score, score_to_lonlat,
    unit_meters, valid_lonlat, GeoPoint, Search, Shape,
};
use crate::types::zset::{parse_score, ZAddFlags, ZAddReply};
use crate::types::Db;

/// The geo rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    c("geoadd", -5, W, ONE, "geo", "Add one or more geospatial items in the geospatial index represented using a sorted set", geoadd),
    c("geodist", -4, R, ONE, "geo", "Returns the distance between two members of a geospatial index", geodist),
    c("geohash", -2, R, ONE, "geo", "Returns members of a geospatial index as standard geohash strings", geohash),
    c("geopos", -2, R, ONE, "geo", "Returns longitude and latitude of members of a geospatial index", geopos),
    c("georadius", -6, W | STORE_KEY, ONE, "geo", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", georadius),
    c("georadius_ro", -6, R, ONE, "geo", "A read-only variant for GEORADIUS", georadius_ro),
    c("georadiusbymember", -5, W | STORE_KEY, ONE, "geo", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", georadiusbymember),
    c("georadiusbymember_ro", -5, R, ONE, "geo", "A read-only variant for GEORADIUSBYMEMBER", georadiusbymember_ro),
    c("geosearch", -7, R, ONE, "geo", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", geosearch),
    c("geosearchstore", -8, W, TWO, "geo", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", geosearchstore),
];

/// Redis's error for a unit it does not know.
const BAD_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
/// Redis's error when the center member of a search is missing.
const NO_MEMBER: &str = "ERR could not decode requested zset member";

/// A float argument, with Redis's `getDoubleFromObject` rules.
fn float_arg(arg: &[u8]) -> Result<f64, CmdError> {
    parse_score(arg).ok_or(CmdError::NotFloat)
}

/// A float argument that replies `ERR <msg>` when it is not one.
fn float_or(arg: &[u8], msg: &str) -> Result<f64, CmdError> {
    parse_score(arg).ok_or_else(|| CmdError::err(msg))
}

/// A unit argument's size in meters.
fn unit_arg(arg: &[u8]) -> Result<f64, CmdError> {
    unit_meters(arg).ok_or_else(|| CmdError::Other(BAD_UNIT.into()))
}

/// A longitude/latitude pair in the storable range.
fn lonlat_args(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CmdError> {
    let lon = float_arg(lon)?;
    let lat = float_arg(lat)?;
    if !valid_lonlat(lon, lat) {
        return Err(CmdError::err(format!(
            "invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok((lon, lat))
}

/// A radius and its unit: (radius, meters per unit).
fn radius_args(radius: &[u8], unit: &[u8]) -> Result<(f64, f64), CmdError> {
    let r = float_or(radius, "need numeric radius")?;
    if r < 0.0 {
        return Err(CmdError::err("radius cannot be negative"));
    }
    Ok((r, unit_arg(unit)?))
}

/// A box's width, height and unit.
fn box_args(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let w = float_or(width, "need numeric width")?;
    let h = float_or(height, "need numeric height")?;
    if w < 0.0 || h < 0.0 {
        return Err(CmdError::err("height or width cannot be negative"));
    }
    Ok((w, h, unit_arg(unit)?))
}

/// A coordinate reply: a bulk string in RESP2, a double in RESP3, with
/// Redis's 17-decimal text either way.
fn coord_reply(resp: u8, v: f64) -> Reply {
    let text = format_coord(v);
    if resp >= 3 {
        Reply::Encoded(vec![Bytes::from(format!(",{text}\r\n"))])
    } else {
        Reply::bulk(text)
    }
}

/// A (longitude, latitude) pair reply.
fn lonlat_reply(resp: u8, (lon, lat): (f64, f64)) -> Reply {
    Reply::Array(vec![coord_reply(resp, lon), coord_reply(resp, lat)])
}

/// GEOADD key [NX|XX] [CH] lon lat member [lon lat member ...]
fn geoadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let mut flags = ZAddFlags::default();
    let mut i = 2;
    while let Some(a) = args.get(i) {
        if is(a, "nx") {
            flags.nx = true;
        } else if is(a, "xx") {
            flags.xx = true;
        } else if is(a, "ch") {
            flags.ch = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(3) || (flags.nx && flags.xx) {
        return Err(CmdError::Syntax);
    }
    let mut items: Vec<(f64, &[u8])> = Vec::with_capacity(rest.len() / 3);
    for t in rest.chunks_exact(3) {
        let (lon, lat) = lonlat_args(&t[0], &t[1])?;
        let score = lonlat_to_score(lon, lat).ok_or(CmdError::NotFloat)?;
        items.push((score, &t[2][..]));
    }
    match ctx.db().zadd(key, flags, &items)? {
        ZAddReply::Count(n) => Ok(Reply::Integer(n)),
        ZAddReply::Score(_) => Err(CmdError::Syntax),
    }
}

/// GEODIST key member1 member2 [M|KM|FT|MI]
fn geodist(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let unit = match args.len() {
        4 => 1.0,
        5 => unit_arg(&args[4])?,
        _ => return Err(CmdError::Syntax),
    };
    let scores = ctx.db().zmscore(&args[1], &[&args[2][..], &args[3][..]])?;
    match (scores[0], scores[1]) {
        (Some(a), Some(b)) => {
            let (lon1, lat1) = score_to_lonlat(a);
            let (lon2, lat2) = score_to_lonlat(b);
            Ok(Reply::bulk(format_distance(
                distance(lon1, lat1, lon2, lat2) / unit,
            )))
        }
        _ => Ok(Reply::Nil),
    }
}

/// The scores of `members` in `key` (all `None` when the key is missing).
fn member_scores(ctx: &Ctx, key: &[u8], members: &[Bytes]) -> Result<Vec<Option<f64>>, CmdError> {
    let refs: Vec<&[u8]> = members.iter().map(|m| &m[..]).collect();
    Ok(ctx.db().zmscore(key, &refs)?)
}

/// GEOHASH key [member ...]
fn geohash(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let scores = member_scores(ctx, &args[1], &args[2..])?;
    Ok(Reply::Array(
        scores
            .into_iter()
            .map(|s| s.map_or(Reply::Nil, |s| Reply::bulk(hash_string(s))))
            .collect(),
    ))
}

/// GEOPOS key [member ...]
fn geopos(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let resp = ctx.session.resp;
    let scores = member_scores(ctx, &args[1], &args[2..])?;
    Ok(Reply::Array(
        scores
            .into_iter()
            .map(|s| s.map_or(Reply::NilArray, |s| lonlat_reply(resp, score_to_lonlat(s))))
            .collect(),
    ))
}

/// Which of the search commands is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS / GEORADIUS_RO (`store` allowed for the former).
    Radius { store: bool },
    /// GEORADIUSBYMEMBER / GEORADIUSBYMEMBER_RO.
    ByMember { store: bool },
    /// GEOSEARCH.
    Search,
    /// GEOSEARCHSTORE.
    SearchStore,
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    /// Visiting order.
    None,
    /// Nearest first.
    Asc,
    /// Farthest first.
    Desc,
}

/// Everything a search command asked for, once parsed.
struct Request {
    /// Center (None until known; stays None for a missing source key).
    center: Option<(f64, f64)>,
    /// The area and its unit (None until known).
    shape: Option<(Shape, f64)>,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    any: bool,
    count: usize,
    sort: Sort,
    /// Where to store the result, and whether as distances.
    store: Option<(Bytes, bool)>,
}

/// GEORADIUS key lon lat radius unit [options]
fn georadius(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search_command(ctx, args, Kind::Radius { store: true })
}

/// GEORADIUS_RO key lon lat radius unit [options]
fn georadius_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search_command(ctx, args, Kind::Radius { store: false })
}

/// GEORADIUSBYMEMBER key member radius unit [options]
fn georadiusbymember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search_command(ctx, args, Kind::ByMember { store: true })
}

/// GEORADIUSBYMEMBER_RO key member radius unit [options]
fn georadiusbymember_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search_command(ctx, args, Kind::ByMember { store: false })
}

/// GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r u|BYBOX w h u [options]
fn geosearch(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search_command(ctx, args, Kind::Search)
}

/// GEOSEARCHSTORE dst src FROMMEMBER ...|FROMLONLAT ... BYRADIUS ...|BYBOX ... [options]
fn geosearchstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search_command(ctx, args, Kind::SearchStore)
}

/// The stored position of `member` in the source set, or Redis's error.
fn member_center(db: &Db, key: &[u8], member: &[u8]) -> Result<(f64, f64), CmdError> {
    match db.zscore(key, member)? {
        Some(s) => Ok(score_to_lonlat(s)),
        None => Err(CmdError::Other(NO_MEMBER.into())),
    }
}

/// Parses a search command's arguments the way Redis does, in Redis's
/// order, so the first error reported is the same. `exists` tells whether
/// the source key exists (a missing member of a missing key is no error).
fn parse_request(
    db: &Db,
    args: &[Bytes],
    kind: Kind,
    src: &[u8],
    exists: bool,
) -> Result<Request, CmdError> {
    let mut req = Request {
        center: None,
        shape: None,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        any: false,
        count: 0,
        sort: Sort::None,
        store: None,
    };
    let base = match kind {
        Kind::Radius { .. } => {
            req.center = Some(lonlat_args(&args[2], &args[3])?);
            let (r, unit) = radius_args(&args[4], &args[5])?;
            req.shape = Some((Shape::Radius(r), unit));
            6
        }
        Kind::ByMember { .. } => {
            if exists {
                req.center = Some(member_center(db, src, &args[2])?);
                let (r, unit) = radius_args(&args[3], &args[4])?;
                req.shape = Some((Shape::Radius(r), unit));
            }
            5
        }
        Kind::Search => 2,
        Kind::SearchStore => {
            req.store = Some((args[1].clone(), false));
            3
        }
    };
    let can_store = matches!(
        kind,
        Kind::Radius { store: true } | Kind::ByMember { store: true }
    );
    let search = matches!(kind, Kind::Search | Kind::SearchStore);
    let (mut from_member, mut from_lonlat, mut by_radius, mut by_box) =
        (false, false, false, false);
    let opts = &args[base..];
    let mut i = 0;
    while i < opts.len() {
        let a = &opts[i];
        let left = opts.len() - i - 1;
        if is(a, "withdist") {
            req.with_dist = true;
        } else if is(a, "withhash") {
            req.with_hash = true;
        } else if is(a, "withcoord") {
            req.with_coord = true;
        } else if is(a, "any") {
            req.any = true;
        } else if is(a, "asc") {
            req.sort = Sort::Asc;
        } else if is(a, "desc") {
            req.sort = Sort::Desc;
        } else if is(a, "count") && left >= 1 {
            let n = int(&opts[i + 1])?;
            if n <= 0 {
                return Err(CmdError::err("COUNT must be > 0"));
            }
            req.count = usize::try_from(n).unwrap_or(usize::MAX);
            i += 1;
        } else if (is(a, "store") || is(a, "storedist")) && left >= 1 && can_store {
            req.store = Some((opts[i + 1].clone(), is(a, "storedist")));
            i += 1;
        } else if is(a, "storedist") && kind == Kind::SearchStore {
            req.store = Some((args[1].clone(), true));
        } else if is(a, "frommember") && left >= 1 && search && !from_lonlat {
            if exists {
                req.center = Some(member_center(db, src, &opts[i + 1])?);
            }
            from_member = true;
            i += 1;
        } else if is(a, "fromlonlat") && left >= 2 && search && !from_member {
            req.center = Some(lonlat_args(&opts[i + 1], &opts[i + 2])?);
            from_lonlat = true;
            i += 2;
        } else if is(a, "byradius") && left >= 2 && search && !by_box {
            let (r, unit) = radius_args(&opts[i + 1], &opts[i + 2])?;
            req.shape = Some((Shape::Radius(r), unit));
            by_radius = true;
            i += 2;
        } else if is(a, "bybox") && left >= 3 && search && !by_radius {
            let (width, height, unit) = box_args(&opts[i + 1], &opts[i + 2], &opts[i + 3])?;
            req.shape = Some((Shape::Box { width, height }, unit));
            by_box = true;
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if req.store.is_some() && (req.with_dist || req.with_hash || req.with_coord) {
        let what = if kind == Kind::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(CmdError::err(format!(
            "{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(&args[0]);
    if search && !(from_member || from_lonlat) {
        return Err(CmdError::err(format!(
            "exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if search && !(by_radius || by_box) {
        return Err(CmdError::err(format!(
            "exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if req.any && req.count == 0 {
        return Err(CmdError::err("the ANY argument requires COUNT argument"));
    }
    Ok(req)
}

/// A found point with its place in visiting order, ordered by the sort
/// key (distance, then visiting order) so a bounded heap keeps the first
/// `count` of a stable sort.
struct Ranked {
    key: f64,
    seq: usize,
    point: GeoPoint,
}

impl Ranked {
    fn cmp_key(&self, other: &Self) -> Ordering {
        self.key
            .total_cmp(&other.key)
            .then(self.seq.cmp(&other.seq))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp_key(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_key(other)
    }
}

/// Runs the search of a parsed request: the points in reply order, at
/// most `count` of them when COUNT was given. With a sort and a COUNT
/// only the best `count` points are ever held.
fn collect(
    db: &Db,
    src: &[u8],
    meta: &Composite,
    req: &Request,
    search: &Search,
) -> Result<Vec<GeoPoint>, CmdError> {
    let limit = if req.any { req.count } else { 0 };
    if req.sort == Sort::None {
        let mut out = Vec::new();
        db.geo_search(src, meta, search, |p| {
            out.push(p);
            limit == 0 || out.len() < limit
        })?;
        if req.count > 0 {
            out.truncate(req.count);
        }
        return Ok(out);
    }
    let sign = if req.sort == Sort::Desc { -1.0 } else { 1.0 };
    let cap = if req.count > 0 { req.count } else { usize::MAX };
    let mut heap: BinaryHeap<Ranked> = BinaryHeap::new();
    let mut seq = 0usize;
    db.geo_search(src, meta, search, |point| {
        let r = Ranked {
            key: sign * point.dist,
            seq,
            point,
        };
        seq += 1;
        if heap.len() < cap {
            heap.push(r);
        } else if heap.peek().is_some_and(|worst| r < *worst) {
            heap.pop();
            heap.push(r);
        }
        limit == 0 || seq < limit
    })?;
    Ok(heap
        .into_sorted_vec()
        .into_iter()
        .map(|r| r.point)
        .collect())
}

/// The shared body of the six search commands.
fn search_command(ctx: &mut Ctx, args: &[Bytes], kind: Kind) -> CmdResult {
    let src = match kind {
        Kind::SearchStore => args[2].clone(),
        _ => args[1].clone(),
    };
    // One snapshot for the whole read when txn-context-enabled asks for it.
    let snapshot = ctx.read_context();
    let db = ctx.db().at(snapshot.as_ref());
    let meta = db.zset_meta(&src)?;
    let mut req = parse_request(&db, args, kind, &src, meta.is_some())?;
    let (Some((lon, lat)), Some((shape, unit)), Some(meta)) = (req.center, req.shape, meta) else {
        return match req.store {
            Some((dst, _)) => {
                ctx.db().zset_store(&dst, std::iter::empty())?;
                Ok(Reply::Integer(0))
            }
            None => Ok(Reply::Array(Vec::new())),
        };
    };
    // COUNT returns the nearest members unless ANY asks for any of them.
    if req.count > 0 && req.sort == Sort::None && !req.any {
        req.sort = Sort::Asc;
    }
    let search = Search {
        lon,
        lat,
        shape,
        unit,
    };
    let points = collect(&db, &src, &meta, &req, &search)?;
    if let Some((dst, as_dist)) = &req.store {
        let n = ctx.db().zset_store(
            dst,
            points.into_iter().map(|p| {
                let score = if *as_dist { p.dist / unit } else { p.score };
                (p.member, score)
            }),
        )?;
        return Ok(Reply::Integer(n));
    }
    let resp = ctx.session.resp;
    let plain = !(req.with_dist || req.with_hash || req.with_coord);
    let items = points
        .into_iter()
        .map(|p| {
            if plain {
                return Reply::bulk(p.member);
            }
            let mut item = vec![Reply::bulk(p.member)];
            if req.with_dist {
                item.push(Reply::bulk(format_distance(p.dist / unit)));
            }
            if req.with_hash {
                item.push(Reply::Integer(p.score as i64));
            }
            if req.with_coord {
                item.push(lonlat_reply(resp, (p.lon, p.lat)));
            }
            Reply::Array(item)
        })
        .collect();
    Ok(Reply::Array(items))
}
