//! The geo type: points kept in an ordinary sorted set whose scores are
//! 52-bit interleaved geohashes, exactly as Redis stores them, so GEOADD
//! scores, GEOHASH strings and GEOPOS coordinates equal Redis's and the
//! data reads back with ZRANGE/ZSCORE (TYPE says zset).
//!
//! A search never scans the whole set: it picks a geohash precision from
//! the search radius, takes the cell holding the center and its eight
//! neighbours, and visits each cell's score range with a seek on the score
//! column family, keeping the points whose exact distance (or box
//! position) qualifies.

use super::zset::ScoreRange;
use super::{Db, TypeResult};
use crate::storage::metadata::Composite;

/// Smallest longitude accepted.
pub const LON_MIN: f64 = -180.0;
/// Largest longitude accepted.
pub const LON_MAX: f64 = 180.0;
/// Smallest latitude accepted (the Web Mercator limit).
pub const LAT_MIN: f64 = -85.05112878;
/// Largest latitude accepted (the Web Mercator limit).
pub const LAT_MAX: f64 = 85.05112878;
/// Bits per coordinate of a stored geohash (52 bits in all).
pub const STEP_MAX: u8 = 26;
/// The earth radius the distance formula uses, in meters.
pub const EARTH_RADIUS_M: f64 = 6372797.560856;
/// Half the earth's circumference in the Mercator projection, in meters.
const MERCATOR_MAX: f64 = 20037726.37;
/// Degrees to radians.
const DEG_TO_RAD: f64 = std::f64::consts::PI / 180.0;
/// The 32 characters of a geohash string.
const BASE32: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
/// Every even bit (latitude bits of an interleaved hash).
const EVEN_BITS: u64 = 0x5555_5555_5555_5555;
/// Every odd bit (longitude bits of an interleaved hash).
const ODD_BITS: u64 = 0xaaaa_aaaa_aaaa_aaaa;

/// A geohash cell: `step` bits of each coordinate, interleaved with the
/// longitude bits on the odd positions (the most significant bit is a
/// longitude bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GeoHash {
    /// The interleaved bits.
    pub bits: u64,
    /// Bits per coordinate (1..=26); 0 marks an unused cell.
    pub step: u8,
}

/// The coordinate rectangle a geohash cell covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    /// West edge.
    pub lon_min: f64,
    /// East edge.
    pub lon_max: f64,
    /// South edge.
    pub lat_min: f64,
    /// North edge.
    pub lat_max: f64,
}

/// Spreads the 32 bits of `v` onto the even bit positions of a u64.
fn spread(v: u32) -> u64 {
    let mut x = v as u64;
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    x = (x | (x << 1)) & EVEN_BITS;
    x
}

/// Gathers the even bits of `x` into a u32 (inverse of [`spread`]).
fn gather(x: u64) -> u32 {
    let mut x = x & EVEN_BITS;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF;
    x as u32
}

/// Interleaves a latitude cell index (even bits) with a longitude cell
/// index (odd bits).
fn interleave(lat: u32, lon: u32) -> u64 {
    spread(lat) | (spread(lon) << 1)
}

/// Splits interleaved bits into (latitude index, longitude index).
fn deinterleave(bits: u64) -> (u32, u32) {
    (gather(bits), gather(bits >> 1))
}

/// A double converted to an unsigned cell index the way a C cast on
/// x86-64 does it (truncation toward zero, modular for negatives).
fn c_to_u32(v: f64) -> u32 {
    c_to_u64(v) as u32
}

/// A double converted to u64 like a C `(uint64_t)` cast compiled for
/// x86-64 (used for scores that are not valid geohashes).
fn c_to_u64(v: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    let cvt = |x: f64| -> i64 {
        if (-TWO63..TWO63).contains(&x) {
            x as i64
        } else {
            // NaN and out-of-range values give the "integer indefinite".
            i64::MIN
        }
    };
    if v < TWO63 {
        cvt(v) as u64
    } else {
        (cvt(v - TWO63) as u64) ^ (1u64 << 63)
    }
}

/// Encodes a point at `step` bits per coordinate within the given
/// latitude range (longitude always spans -180..180); `None` when the
/// point is outside the ranges.
pub fn encode_in(lon: f64, lat: f64, step: u8, lat_range: (f64, f64)) -> Option<GeoHash> {
    if !valid_lonlat(lon, lat) || !(lat_range.0..=lat_range.1).contains(&lat) {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat_off = (lat - lat_range.0) / (lat_range.1 - lat_range.0) * cells;
    let lon_off = (lon - LON_MIN) / (LON_MAX - LON_MIN) * cells;
    Some(GeoHash {
        bits: interleave(c_to_u32(lat_off), c_to_u32(lon_off)),
        step,
    })
}

/// Encodes a point with the storage ranges (latitude ±85.05112878).
pub fn encode(lon: f64, lat: f64, step: u8) -> Option<GeoHash> {
    encode_in(lon, lat, step, (LAT_MIN, LAT_MAX))
}

/// The rectangle a cell covers, for the given latitude range.
pub fn decode_area_in(hash: GeoHash, lat_range: (f64, f64)) -> Area {
    let (ilat, ilon) = deinterleave(hash.bits);
    let cells = (1u64 << hash.step) as f64;
    let lat_scale = lat_range.1 - lat_range.0;
    let lon_scale = LON_MAX - LON_MIN;
    Area {
        lat_min: lat_range.0 + (ilat as f64 / cells) * lat_scale,
        lat_max: lat_range.0 + (ilat.wrapping_add(1) as f64 / cells) * lat_scale,
        lon_min: LON_MIN + (ilon as f64 / cells) * lon_scale,
        lon_max: LON_MIN + (ilon.wrapping_add(1) as f64 / cells) * lon_scale,
    }
}

/// The rectangle a cell covers, with the storage ranges.
pub fn decode_area(hash: GeoHash) -> Area {
    decode_area_in(hash, (LAT_MIN, LAT_MAX))
}

/// The (longitude, latitude) a stored score stands for: the center of its
/// cell, clamped to the valid ranges.
pub fn score_to_lonlat(score: f64) -> (f64, f64) {
    let area = decode_area(GeoHash {
        bits: c_to_u64(score),
        step: STEP_MAX,
    });
    let lon = ((area.lon_min + area.lon_max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((area.lat_min + area.lat_max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// The score stored for a point (`None` when out of range).
pub fn lonlat_to_score(lon: f64, lat: f64) -> Option<f64> {
    encode(lon, lat, STEP_MAX).map(|h| h.bits as f64)
}

/// True when (lon, lat) may be stored.
pub fn valid_lonlat(lon: f64, lat: f64) -> bool {
    (LON_MIN..=LON_MAX).contains(&lon) && (LAT_MIN..=LAT_MAX).contains(&lat)
}

/// The 11-character GEOHASH string of a stored score: the point re-encoded
/// with the standard -90..90 latitude range, 5 bits per character; the
/// last character is always `0` (only 52 bits exist).
pub fn hash_string(score: f64) -> String {
    let (lon, lat) = score_to_lonlat(score);
    let bits = encode_in(lon, lat, STEP_MAX, (-90.0, 90.0)).map_or(0, |h| h.bits);
    (0..11)
        .map(|i| {
            let idx = if i == 10 {
                0
            } else {
                ((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize
            };
            BASE32[idx] as char
        })
        .collect()
}

/// Degrees to radians.
fn rad(deg: f64) -> f64 {
    deg * DEG_TO_RAD
}

/// Radians to degrees.
fn deg(rad: f64) -> f64 {
    rad / DEG_TO_RAD
}

/// Distance in meters between two latitudes on one meridian.
fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (rad(lat2) - rad(lat1)).abs()
}

/// Great-circle distance in meters (haversine on a sphere of radius
/// [`EARTH_RADIUS_M`]).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let v = ((rad(lon2) - rad(lon1)) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (rad(lat1), rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// Moves a cell `d` steps along one axis, forward (positive: east or
/// north) or back, wrapping around (the antimeridian for longitude). The
/// axis's bits are those `axis` selects; the other axis's, `other`, stay.
fn move_cell(hash: &mut GeoHash, d: i8, axis: u64, other: u64) {
    let width = 64 - 2 * hash.step as u32;
    let along = hash.bits & axis;
    let kept = hash.bits & other;
    // Filling the other axis's positions with ones makes a carry (or
    // borrow) run through them from one bit of this axis to the next.
    let fill = other >> width;
    let moved = if d > 0 {
        along.wrapping_add(fill + 1)
    } else {
        (along | fill).wrapping_sub(fill + 1)
    };
    hash.bits = (moved & (axis >> width)) | kept;
}

/// The cell `dlon` columns and `dlat` rows away from `hash`.
fn neighbour(hash: GeoHash, dlon: i8, dlat: i8) -> GeoHash {
    let mut h = hash;
    // Longitude bits are the odd positions, latitude bits the even ones.
    if dlon != 0 {
        move_cell(&mut h, dlon, ODD_BITS, EVEN_BITS);
    }
    if dlat != 0 {
        move_cell(&mut h, dlat, EVEN_BITS, ODD_BITS);
    }
    h
}

/// The range of 52-bit scores inside a cell: `[min, max)`.
pub fn cell_score_range(hash: GeoHash) -> (f64, f64) {
    let shift = 52 - 2 * hash.step as u32;
    (
        (hash.bits << shift) as f64,
        (hash.bits.wrapping_add(1) << shift) as f64,
    )
}

/// The geohash precision to search with for a radius at a latitude:
/// the finest whose cells (with their neighbours) still cover it.
fn steps_for_radius(mut meters: f64, lat: f64) -> u8 {
    if meters == 0.0 {
        return STEP_MAX;
    }
    let mut step: i32 = 1;
    while meters < MERCATOR_MAX {
        meters *= 2.0;
        step += 1;
    }
    step -= 2;
    // Meridians converge towards the poles: use wider cells there.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, STEP_MAX as i32) as u8
}

/// What a search covers around its center.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A circle of this radius (in the search unit).
    Radius(f64),
    /// A box of this width and height (in the search unit), centered.
    Box {
        /// East-west extent.
        width: f64,
        /// North-south extent.
        height: f64,
    },
}

/// A search: center, shape and the unit's size in meters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// Center longitude.
    pub lon: f64,
    /// Center latitude.
    pub lat: f64,
    /// The area.
    pub shape: Shape,
    /// Meters per unit of the shape's sizes (and of reported distances).
    pub unit: f64,
}

impl Search {
    /// The distance in meters from the center to (lon, lat) when the
    /// point is inside the shape.
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Radius(r) => {
                let d = distance(self.lon, self.lat, lon, lat);
                (d <= r * self.unit).then_some(d)
            }
            Shape::Box { width, height } => {
                if lat_distance(self.lat, lat) > height * self.unit / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.lon, lat) > width * self.unit / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }

    /// The coordinate bounds (lon_min, lat_min, lon_max, lat_max) the
    /// shape reaches.
    fn bounds(&self) -> (f64, f64, f64, f64) {
        let (half_w, half_h) = match self.shape {
            Shape::Radius(r) => (r * self.unit, r * self.unit),
            Shape::Box { width, height } => (width / 2.0 * self.unit, height / 2.0 * self.unit),
        };
        let lat_delta = deg(half_h / EARTH_RADIUS_M);
        let lon_delta_top = deg(half_w / EARTH_RADIUS_M / rad(self.lat + lat_delta).cos());
        let lon_delta_bottom = deg(half_w / EARTH_RADIUS_M / rad(self.lat - lat_delta).cos());
        // The wider edge is the one nearer the equator.
        let lon_delta = if self.lat < 0.0 {
            lon_delta_bottom
        } else {
            lon_delta_top
        };
        (
            self.lon - lon_delta,
            self.lat - lat_delta,
            self.lon + lon_delta,
            self.lat + lat_delta,
        )
    }

    /// The score ranges `[min, max)` to visit, in visiting order: the
    /// center cell, then north, south, east, west, north-east,
    /// north-west, south-east, south-west (cells that cannot hold a
    /// match are left out, and a cell equal to the one visited just
    /// before is not visited twice).
    pub fn score_ranges(&self) -> Vec<(f64, f64)> {
        let (min_lon, min_lat, max_lon, max_lat) = self.bounds();
        let reach = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.unit;
        let mut step = steps_for_radius(reach, self.lat);
        let mut cells = self.cells(step);
        let edge_too_near = {
            let north = decode_area(cells[1]);
            let south = decode_area(cells[2]);
            let east = decode_area(cells[3]);
            let west = decode_area(cells[4]);
            north.lat_max < max_lat
                || south.lat_min > min_lat
                || east.lon_max < max_lon
                || west.lon_min > min_lon
        };
        if step > 1 && edge_too_near {
            step -= 1;
            cells = self.cells(step);
        }
        if step >= 2 {
            let center = decode_area(cells[0]);
            let unused = GeoHash::default();
            // Indexes: 1 N, 2 S, 3 E, 4 W, 5 NE, 6 NW, 7 SE, 8 SW.
            // The cells beyond each side of the area that the center cell
            // already reaches past are not needed.
            for (beyond, side) in [
                (center.lat_min < min_lat, [2, 7, 8]),
                (center.lat_max > max_lat, [1, 5, 6]),
                (center.lon_min < min_lon, [4, 6, 8]),
                (center.lon_max > max_lon, [3, 5, 7]),
            ] {
                if beyond {
                    for i in side {
                        cells[i] = unused;
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(9);
        // Index of the last visited cell; the center (index 0) never
        // counts as "the one before", which matches Redis's visiting.
        let mut last: usize = 0;
        for (i, cell) in cells.iter().enumerate() {
            if cell.step == 0 && cell.bits == 0 {
                continue;
            }
            if last != 0 && *cell == cells[last] {
                continue;
            }
            out.push(cell_score_range(*cell));
            last = i;
        }
        out
    }

    /// The center cell at `step` and its eight neighbours, in visiting
    /// order.
    fn cells(&self, step: u8) -> [GeoHash; 9] {
        let c = encode(self.lon, self.lat, step).unwrap_or(GeoHash { bits: 0, step });
        [
            c,
            neighbour(c, 0, 1),
            neighbour(c, 0, -1),
            neighbour(c, 1, 0),
            neighbour(c, -1, 0),
            neighbour(c, 1, 1),
            neighbour(c, -1, 1),
            neighbour(c, 1, -1),
            neighbour(c, -1, -1),
        ]
    }
}

/// One member found by a search.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoPoint {
    /// The member.
    pub member: Vec<u8>,
    /// Its stored score (the 52-bit geohash).
    pub score: f64,
    /// Longitude decoded from the score.
    pub lon: f64,
    /// Latitude decoded from the score.
    pub lat: f64,
    /// Distance from the search center, in meters.
    pub dist: f64,
}

impl Db<'_> {
    /// Visits the members of version `meta` of the sorted set `key` that
    /// lie inside `search`, cell by cell in [`Search::score_ranges`] order
    /// and by score within a cell (one seek per cell), calling `f` until
    /// it returns false.
    pub fn geo_search(
        &self,
        key: &[u8],
        meta: &Composite,
        search: &Search,
        mut f: impl FnMut(GeoPoint) -> bool,
    ) -> TypeResult<()> {
        for (min, max) in search.score_ranges() {
            let range = ScoreRange {
                min,
                min_ex: false,
                max,
                max_ex: true,
            };
            let mut go_on = true;
            self.zwalk_score(key, meta, &range, false, |member, score| {
                let (lon, lat) = score_to_lonlat(score);
                if let Some(dist) = search.contains(lon, lat) {
                    go_on = f(GeoPoint {
                        member: member.to_vec(),
                        score,
                        lon,
                        lat,
                        dist,
                    });
                }
                go_on
            })?;
            if !go_on {
                break;
            }
        }
        Ok(())
    }
}

/// A coordinate as Redis prints it: 17 decimals, trailing zeros (and a
/// bare decimal point) removed.
pub fn format_coord(v: f64) -> String {
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// A distance as Redis prints it: 4 decimals, from the value scaled by
/// 10^4 and rounded half to even (so `x.xxxx5` exactly representable
/// after scaling rounds to the even digit, as redis-server does).
pub fn format_distance(v: f64) -> String {
    let scaled = (v * 10_000.0).round_ties_even();
    if !scaled.is_finite() || scaled.abs() >= 9.0e15 {
        return format!("{v:.4}");
    }
    let n = scaled as i64;
    let sign = if n < 0 { "-" } else { "" };
    let a = n.unsigned_abs();
    format!("{sign}{}.{:04}", a / 10_000, a % 10_000)
}

/// A unit name's size in meters (`m`, `km`, `ft`, `mi`, any case).
pub fn unit_meters(name: &[u8]) -> Option<f64> {
    match name.to_ascii_lowercase().as_slice() {
        b"m" => Some(1.0),
        b"km" => Some(1000.0),
        b"ft" => Some(0.3048),
        b"mi" => Some(1609.34),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_points() {
        let s = lonlat_to_score(13.361389, 38.115556).unwrap();
        assert_eq!(s, 3479099956230698.0);
        assert_eq!(hash_string(s), "sqc8b49rny0");
        let (lon, lat) = score_to_lonlat(s);
        assert_eq!(format_coord(lon), "13.36138933897018433");
        assert_eq!(format_coord(lat), "38.11555639549629859");
        let c = lonlat_to_score(15.087269, 37.502669).unwrap();
        assert_eq!(hash_string(c), "sqdtr74hyu0");
        let (lon2, lat2) = score_to_lonlat(c);
        assert_eq!(
            format_distance(distance(lon, lat, lon2, lat2)),
            "166274.1516"
        );
    }

    #[test]
    fn neighbours_wrap() {
        let h = GeoHash { bits: 0, step: 2 };
        let w = neighbour(h, -1, 0);
        assert_eq!(deinterleave(w.bits), (0, 3));
        let s = neighbour(h, 0, -1);
        assert_eq!(deinterleave(s.bits), (3, 0));
        let ne = neighbour(h, 1, 1);
        assert_eq!(deinterleave(ne.bits), (1, 1));
    }
}
