//! Bitmap commands against the real binary: bitmaps stored in 1 KiB
//! fragments give the same replies as redis-server 7.0 does for the same
//! bytes held as a string (tables below were recorded from redis-server),
//! SETBIT at the last offset writes one fragment, and the string commands
//! read bitmaps.

mod common;

use std::time::{Duration, Instant};

use common::{q, q_err, Server};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// The 4500-byte test value: ones across fragment boundaries, a full
/// fragment of ones, an all-zero fragment and a zero tail.
fn value() -> Vec<u8> {
    let mut v = vec![0u8; 4500];
    v[0] = 0xff;
    v[1] = 0xff;
    v[2] = 0xf0;
    v[3] = 0x01;
    v[5] = 0xaa;
    for b in &mut v[1020..1030] {
        *b = 0xff;
    }
    v[1500] = 0x10;
    for b in &mut v[2048..3072] {
        *b = 0xff;
    }
    v[2999] = 0x7f;
    v
}

/// Runs a command with binary arguments.
fn qb<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&[u8]]) -> T {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap()
}

/// Builds `key` as a bitmap holding `v`, one SETBIT per set bit
/// (pipelined), then a cleared last bit to give it its full length.
fn setbits(c: &mut redis::Connection, key: &str, v: &[u8]) {
    let mut pipe = redis::pipe();
    for (i, b) in v.iter().enumerate() {
        for j in 0..8 {
            if b & (0x80 >> j) != 0 {
                pipe.cmd("SETBIT").arg(key).arg(i * 8 + j).arg(1).ignore();
            }
        }
    }
    pipe.cmd("SETBIT")
        .arg(key)
        .arg(v.len() * 8 - 1)
        .arg(v[v.len() - 1] & 1)
        .ignore();
    pipe.query::<()>(c).unwrap();
}

/// (start, end, bit unit, BITCOUNT, BITPOS 0, BITPOS 1) as redis-server 7.0 replied.
const RANGES: &[(i64, i64, bool, i64, i64, i64)] = &[
    (0, 0, false, 8, -1, 0),
    (0, 3, false, 21, 20, 0),
    (0, 1023, false, 57, 20, 0),
    (0, 1024, false, 65, 20, 0),
    (0, 2047, false, 106, 20, 0),
    (0, 2048, false, 114, 20, 0),
    (0, 3000, false, 7729, 20, 0),
    (0, 4499, false, 8297, 20, 0),
    (0, 5000, false, 8297, 20, 0),
    (0, -1, false, 8297, 20, 0),
    (0, -100, false, 8297, 20, 0),
    (0, -2000, false, 3730, 20, 0),
    (0, -4500, false, 8, -1, 0),
    (0, -6000, false, 8, -1, 0),
    (3, 0, false, 0, -1, -1),
    (3, 3, false, 1, 24, 31),
    (3, 1023, false, 37, 24, 31),
    (3, 1024, false, 45, 24, 31),
    (3, 2047, false, 86, 24, 31),
    (3, 2048, false, 94, 24, 31),
    (3, 3000, false, 7709, 24, 31),
    (3, 4499, false, 8277, 24, 31),
    (3, 5000, false, 8277, 24, 31),
    (3, -1, false, 8277, 24, 31),
    (3, -100, false, 8277, 24, 31),
    (3, -2000, false, 3710, 24, 31),
    (3, -4500, false, 0, -1, -1),
    (3, -6000, false, 0, -1, -1),
    (1023, 0, false, 0, -1, -1),
    (1023, 3, false, 0, -1, -1),
    (1023, 1023, false, 8, -1, 8184),
    (1023, 1024, false, 16, -1, 8184),
    (1023, 2047, false, 57, 8240, 8184),
    (1023, 2048, false, 65, 8240, 8184),
    (1023, 3000, false, 7680, 8240, 8184),
    (1023, 4499, false, 8248, 8240, 8184),
    (1023, 5000, false, 8248, 8240, 8184),
    (1023, -1, false, 8248, 8240, 8184),
    (1023, -100, false, 8248, 8240, 8184),
    (1023, -2000, false, 3681, 8240, 8184),
    (1023, -4500, false, 0, -1, -1),
    (1023, -6000, false, 0, -1, -1),
    (1024, 0, false, 0, -1, -1),
    (1024, 3, false, 0, -1, -1),
    (1024, 1023, false, 0, -1, -1),
    (1024, 1024, false, 8, -1, 8192),
    (1024, 2047, false, 49, 8240, 8192),
    (1024, 2048, false, 57, 8240, 8192),
    (1024, 3000, false, 7672, 8240, 8192),
    (1024, 4499, false, 8240, 8240, 8192),
    (1024, 5000, false, 8240, 8240, 8192),
    (1024, -1, false, 8240, 8240, 8192),
    (1024, -100, false, 8240, 8240, 8192),
    (1024, -2000, false, 3673, 8240, 8192),
    (1024, -4500, false, 0, -1, -1),
    (1024, -6000, false, 0, -1, -1),
    (2047, 0, false, 0, -1, -1),
    (2047, 3, false, 0, -1, -1),
    (2047, 1023, false, 0, -1, -1),
    (2047, 1024, false, 0, -1, -1),
    (2047, 2047, false, 0, 16376, -1),
    (2047, 2048, false, 8, 16376, 16384),
    (2047, 3000, false, 7623, 16376, 16384),
    (2047, 4499, false, 8191, 16376, 16384),
    (2047, 5000, false, 8191, 16376, 16384),
    (2047, -1, false, 8191, 16376, 16384),
    (2047, -100, false, 8191, 16376, 16384),
    (2047, -2000, false, 3624, 16376, 16384),
    (2047, -4500, false, 0, -1, -1),
    (2047, -6000, false, 0, -1, -1),
    (2048, 0, false, 0, -1, -1),
    (2048, 3, false, 0, -1, -1),
    (2048, 1023, false, 0, -1, -1),
    (2048, 1024, false, 0, -1, -1),
    (2048, 2047, false, 0, -1, -1),
    (2048, 2048, false, 8, -1, 16384),
    (2048, 3000, false, 7623, 23992, 16384),
    (2048, 4499, false, 8191, 23992, 16384),
    (2048, 5000, false, 8191, 23992, 16384),
    (2048, -1, false, 8191, 23992, 16384),
    (2048, -100, false, 8191, 23992, 16384),
    (2048, -2000, false, 3624, -1, 16384),
    (2048, -4500, false, 0, -1, -1),
    (2048, -6000, false, 0, -1, -1),
    (3000, 0, false, 0, -1, -1),
    (3000, 3, false, 0, -1, -1),
    (3000, 1023, false, 0, -1, -1),
    (3000, 1024, false, 0, -1, -1),
    (3000, 2047, false, 0, -1, -1),
    (3000, 2048, false, 0, -1, -1),
    (3000, 3000, false, 8, -1, 24000),
    (3000, 4499, false, 576, 24576, 24000),
    (3000, 5000, false, 576, 24576, 24000),
    (3000, -1, false, 576, 24576, 24000),
    (3000, -100, false, 576, 24576, 24000),
    (3000, -2000, false, 0, -1, -1),
    (3000, -4500, false, 0, -1, -1),
    (3000, -6000, false, 0, -1, -1),
    (4499, 0, false, 0, -1, -1),
    (4499, 3, false, 0, -1, -1),
    (4499, 1023, false, 0, -1, -1),
    (4499, 1024, false, 0, -1, -1),
    (4499, 2047, false, 0, -1, -1),
    (4499, 2048, false, 0, -1, -1),
    (4499, 3000, false, 0, -1, -1),
    (4499, 4499, false, 0, 35992, -1),
    (4499, 5000, false, 0, 35992, -1),
    (4499, -1, false, 0, 35992, -1),
    (4499, -100, false, 0, -1, -1),
    (4499, -2000, false, 0, -1, -1),
    (4499, -4500, false, 0, -1, -1),
    (4499, -6000, false, 0, -1, -1),
    (5000, 0, false, 0, -1, -1),
    (5000, 3, false, 0, -1, -1),
    (5000, 1023, false, 0, -1, -1),
    (5000, 1024, false, 0, -1, -1),
    (5000, 2047, false, 0, -1, -1),
    (5000, 2048, false, 0, -1, -1),
    (5000, 3000, false, 0, -1, -1),
    (5000, 4499, false, 0, -1, -1),
    (5000, 5000, false, 0, -1, -1),
    (5000, -1, false, 0, -1, -1),
    (5000, -100, false, 0, -1, -1),
    (5000, -2000, false, 0, -1, -1),
    (5000, -4500, false, 0, -1, -1),
    (5000, -6000, false, 0, -1, -1),
    (-1, 0, false, 0, -1, -1),
    (-1, 3, false, 0, -1, -1),
    (-1, 1023, false, 0, -1, -1),
    (-1, 1024, false, 0, -1, -1),
    (-1, 2047, false, 0, -1, -1),
    (-1, 2048, false, 0, -1, -1),
    (-1, 3000, false, 0, -1, -1),
    (-1, 4499, false, 0, 35992, -1),
    (-1, 5000, false, 0, 35992, -1),
    (-1, -1, false, 0, 35992, -1),
    (-1, -100, false, 0, -1, -1),
    (-1, -2000, false, 0, -1, -1),
    (-1, -4500, false, 0, -1, -1),
    (-1, -6000, false, 0, -1, -1),
    (-100, 0, false, 0, -1, -1),
    (-100, 3, false, 0, -1, -1),
    (-100, 1023, false, 0, -1, -1),
    (-100, 1024, false, 0, -1, -1),
    (-100, 2047, false, 0, -1, -1),
    (-100, 2048, false, 0, -1, -1),
    (-100, 3000, false, 0, -1, -1),
    (-100, 4499, false, 0, 35200, -1),
    (-100, 5000, false, 0, 35200, -1),
    (-100, -1, false, 0, 35200, -1),
    (-100, -100, false, 0, 35200, -1),
    (-100, -2000, false, 0, -1, -1),
    (-100, -4500, false, 0, -1, -1),
    (-100, -6000, false, 0, -1, -1),
    (-2000, 0, false, 0, -1, -1),
    (-2000, 3, false, 0, -1, -1),
    (-2000, 1023, false, 0, -1, -1),
    (-2000, 1024, false, 0, -1, -1),
    (-2000, 2047, false, 0, -1, -1),
    (-2000, 2048, false, 0, -1, -1),
    (-2000, 3000, false, 4007, 23992, 20000),
    (-2000, 4499, false, 4575, 23992, 20000),
    (-2000, 5000, false, 4575, 23992, 20000),
    (-2000, -1, false, 4575, 23992, 20000),
    (-2000, -100, false, 4575, 23992, 20000),
    (-2000, -2000, false, 8, -1, 20000),
    (-2000, -4500, false, 0, -1, -1),
    (-2000, -6000, false, 0, -1, -1),
    (-4500, 0, false, 8, -1, 0),
    (-4500, 3, false, 21, 20, 0),
    (-4500, 1023, false, 57, 20, 0),
    (-4500, 1024, false, 65, 20, 0),
    (-4500, 2047, false, 106, 20, 0),
    (-4500, 2048, false, 114, 20, 0),
    (-4500, 3000, false, 7729, 20, 0),
    (-4500, 4499, false, 8297, 20, 0),
    (-4500, 5000, false, 8297, 20, 0),
    (-4500, -1, false, 8297, 20, 0),
    (-4500, -100, false, 8297, 20, 0),
    (-4500, -2000, false, 3730, 20, 0),
    (-4500, -4500, false, 8, -1, 0),
    (-4500, -6000, false, 0, -1, 0),
    (-6000, 0, false, 8, -1, 0),
    (-6000, 3, false, 21, 20, 0),
    (-6000, 1023, false, 57, 20, 0),
    (-6000, 1024, false, 65, 20, 0),
    (-6000, 2047, false, 106, 20, 0),
    (-6000, 2048, false, 114, 20, 0),
    (-6000, 3000, false, 7729, 20, 0),
    (-6000, 4499, false, 8297, 20, 0),
    (-6000, 5000, false, 8297, 20, 0),
    (-6000, -1, false, 8297, 20, 0),
    (-6000, -100, false, 8297, 20, 0),
    (-6000, -2000, false, 3730, 20, 0),
    (-6000, -4500, false, 8, -1, 0),
    (-6000, -6000, false, 8, -1, 0),
    (3, 5, true, 3, -1, 3),
    (3, 29, true, 17, 20, 3),
    (3, 8189, true, 52, 20, 3),
    (3, 8197, true, 60, 20, 3),
    (3, 16381, true, 103, 20, 3),
    (3, 16389, true, 109, 20, 3),
    (3, 24005, true, 7724, 20, 3),
    (3, 35997, true, 8294, 20, 3),
    (3, 40005, true, 8294, 20, 3),
    (3, -13, true, 8294, 20, 3),
    (3, -805, true, 8294, 20, 3),
    (3, -16005, true, 3715, 20, 3),
    (3, -36005, true, 0, -1, -1),
    (3, -48005, true, 0, -1, -1),
    (27, 5, true, 0, -1, -1),
    (27, 29, true, 0, 27, -1),
    (27, 8189, true, 35, 27, 31),
    (27, 8197, true, 43, 27, 31),
    (27, 16381, true, 86, 27, 31),
    (27, 16389, true, 92, 27, 31),
    (27, 24005, true, 7707, 27, 31),
    (27, 35997, true, 8277, 27, 31),
    (27, 40005, true, 8277, 27, 31),
    (27, -13, true, 8277, 27, 31),
    (27, -805, true, 8277, 27, 31),
    (27, -16005, true, 3698, 27, 31),
    (27, -36005, true, 0, -1, -1),
    (27, -48005, true, 0, -1, -1),
    (8187, 5, true, 0, -1, -1),
    (8187, 29, true, 0, -1, -1),
    (8187, 8189, true, 3, -1, 8187),
    (8187, 8197, true, 11, -1, 8187),
    (8187, 16381, true, 54, 8240, 8187),
    (8187, 16389, true, 60, 8240, 8187),
    (8187, 24005, true, 7675, 8240, 8187),
    (8187, 35997, true, 8245, 8240, 8187),
    (8187, 40005, true, 8245, 8240, 8187),
    (8187, -13, true, 8245, 8240, 8187),
    (8187, -805, true, 8245, 8240, 8187),
    (8187, -16005, true, 3666, 8240, 8187),
    (8187, -36005, true, 0, -1, -1),
    (8187, -48005, true, 0, -1, -1),
    (8195, 5, true, 0, -1, -1),
    (8195, 29, true, 0, -1, -1),
    (8195, 8189, true, 0, -1, -1),
    (8195, 8197, true, 3, -1, 8195),
    (8195, 16381, true, 46, 8240, 8195),
    (8195, 16389, true, 52, 8240, 8195),
    (8195, 24005, true, 7667, 8240, 8195),
    (8195, 35997, true, 8237, 8240, 8195),
    (8195, 40005, true, 8237, 8240, 8195),
    (8195, -13, true, 8237, 8240, 8195),
    (8195, -805, true, 8237, 8240, 8195),
    (8195, -16005, true, 3658, 8240, 8195),
    (8195, -36005, true, 0, -1, -1),
    (8195, -48005, true, 0, -1, -1),
    (16379, 5, true, 0, -1, -1),
    (16379, 29, true, 0, -1, -1),
    (16379, 8189, true, 0, -1, -1),
    (16379, 8197, true, 0, -1, -1),
    (16379, 16381, true, 0, 16379, -1),
    (16379, 16389, true, 6, 16379, 16384),
    (16379, 24005, true, 7621, 16379, 16384),
    (16379, 35997, true, 8191, 16379, 16384),
    (16379, 40005, true, 8191, 16379, 16384),
    (16379, -13, true, 8191, 16379, 16384),
    (16379, -805, true, 8191, 16379, 16384),
    (16379, -16005, true, 3612, 16379, 16384),
    (16379, -36005, true, 0, -1, -1),
    (16379, -48005, true, 0, -1, -1),
    (16387, 5, true, 0, -1, -1),
    (16387, 29, true, 0, -1, -1),
    (16387, 8189, true, 0, -1, -1),
    (16387, 8197, true, 0, -1, -1),
    (16387, 16381, true, 0, -1, -1),
    (16387, 16389, true, 3, -1, 16387),
    (16387, 24005, true, 7618, 23992, 16387),
    (16387, 35997, true, 8188, 23992, 16387),
    (16387, 40005, true, 8188, 23992, 16387),
    (16387, -13, true, 8188, 23992, 16387),
    (16387, -805, true, 8188, 23992, 16387),
    (16387, -16005, true, 3609, -1, 16387),
    (16387, -36005, true, 0, -1, -1),
    (16387, -48005, true, 0, -1, -1),
    (24003, 5, true, 0, -1, -1),
    (24003, 29, true, 0, -1, -1),
    (24003, 8189, true, 0, -1, -1),
    (24003, 8197, true, 0, -1, -1),
    (24003, 16381, true, 0, -1, -1),
    (24003, 16389, true, 0, -1, -1),
    (24003, 24005, true, 3, -1, 24003),
    (24003, 35997, true, 573, 24576, 24003),
    (24003, 40005, true, 573, 24576, 24003),
    (24003, -13, true, 573, 24576, 24003),
    (24003, -805, true, 573, 24576, 24003),
    (24003, -16005, true, 0, -1, -1),
    (24003, -36005, true, 0, -1, -1),
    (24003, -48005, true, 0, -1, -1),
    (35995, 5, true, 0, -1, -1),
    (35995, 29, true, 0, -1, -1),
    (35995, 8189, true, 0, -1, -1),
    (35995, 8197, true, 0, -1, -1),
    (35995, 16381, true, 0, -1, -1),
    (35995, 16389, true, 0, -1, -1),
    (35995, 24005, true, 0, -1, -1),
    (35995, 35997, true, 0, 35995, -1),
    (35995, 40005, true, 0, 35995, -1),
    (35995, -13, true, 0, -1, -1),
    (35995, -805, true, 0, -1, -1),
    (35995, -16005, true, 0, -1, -1),
    (35995, -36005, true, 0, -1, -1),
    (35995, -48005, true, 0, -1, -1),
    (40003, 5, true, 0, -1, -1),
    (40003, 29, true, 0, -1, -1),
    (40003, 8189, true, 0, -1, -1),
    (40003, 8197, true, 0, -1, -1),
    (40003, 16381, true, 0, -1, -1),
    (40003, 16389, true, 0, -1, -1),
    (40003, 24005, true, 0, -1, -1),
    (40003, 35997, true, 0, -1, -1),
    (40003, 40005, true, 0, -1, -1),
    (40003, -13, true, 0, -1, -1),
    (40003, -805, true, 0, -1, -1),
    (40003, -16005, true, 0, -1, -1),
    (40003, -36005, true, 0, -1, -1),
    (40003, -48005, true, 0, -1, -1),
    (-11, 5, true, 0, -1, -1),
    (-11, 29, true, 0, -1, -1),
    (-11, 8189, true, 0, -1, -1),
    (-11, 8197, true, 0, -1, -1),
    (-11, 16381, true, 0, -1, -1),
    (-11, 16389, true, 0, -1, -1),
    (-11, 24005, true, 0, -1, -1),
    (-11, 35997, true, 0, 35989, -1),
    (-11, 40005, true, 0, 35989, -1),
    (-11, -13, true, 0, -1, -1),
    (-11, -805, true, 0, -1, -1),
    (-11, -16005, true, 0, -1, -1),
    (-11, -36005, true, 0, -1, -1),
    (-11, -48005, true, 0, -1, -1),
    (-803, 5, true, 0, -1, -1),
    (-803, 29, true, 0, -1, -1),
    (-803, 8189, true, 0, -1, -1),
    (-803, 8197, true, 0, -1, -1),
    (-803, 16381, true, 0, -1, -1),
    (-803, 16389, true, 0, -1, -1),
    (-803, 24005, true, 0, -1, -1),
    (-803, 35997, true, 0, 35197, -1),
    (-803, 40005, true, 0, 35197, -1),
    (-803, -13, true, 0, 35197, -1),
    (-803, -805, true, 0, -1, -1),
    (-803, -16005, true, 0, -1, -1),
    (-803, -36005, true, 0, -1, -1),
    (-803, -48005, true, 0, -1, -1),
    (-16003, 5, true, 0, -1, -1),
    (-16003, 29, true, 0, -1, -1),
    (-16003, 8189, true, 0, -1, -1),
    (-16003, 8197, true, 0, -1, -1),
    (-16003, 16381, true, 0, -1, -1),
    (-16003, 16389, true, 0, -1, -1),
    (-16003, 24005, true, 4008, 23992, 19997),
    (-16003, 35997, true, 4578, 23992, 19997),
    (-16003, 40005, true, 4578, 23992, 19997),
    (-16003, -13, true, 4578, 23992, 19997),
    (-16003, -805, true, 4578, 23992, 19997),
    (-16003, -16005, true, 0, -1, -1),
    (-16003, -36005, true, 0, -1, -1),
    (-16003, -48005, true, 0, -1, -1),
    (-36003, 5, true, 6, -1, 0),
    (-36003, 29, true, 20, 20, 0),
    (-36003, 8189, true, 55, 20, 0),
    (-36003, 8197, true, 63, 20, 0),
    (-36003, 16381, true, 106, 20, 0),
    (-36003, 16389, true, 112, 20, 0),
    (-36003, 24005, true, 7727, 20, 0),
    (-36003, 35997, true, 8297, 20, 0),
    (-36003, 40005, true, 8297, 20, 0),
    (-36003, -13, true, 8297, 20, 0),
    (-36003, -805, true, 8297, 20, 0),
    (-36003, -16005, true, 3718, 20, 0),
    (-36003, -36005, true, 0, -1, 0),
    (-36003, -48005, true, 0, -1, 0),
    (-48003, 5, true, 6, -1, 0),
    (-48003, 29, true, 20, 20, 0),
    (-48003, 8189, true, 55, 20, 0),
    (-48003, 8197, true, 63, 20, 0),
    (-48003, 16381, true, 106, 20, 0),
    (-48003, 16389, true, 112, 20, 0),
    (-48003, 24005, true, 7727, 20, 0),
    (-48003, 35997, true, 8297, 20, 0),
    (-48003, 40005, true, 8297, 20, 0),
    (-48003, -13, true, 8297, 20, 0),
    (-48003, -805, true, 8297, 20, 0),
    (-48003, -16005, true, 3718, 20, 0),
    (-48003, -36005, true, 1, -1, 0),
    (-48003, -48005, true, 0, -1, 0),
];
/// (start, BITPOS 0 start, BITPOS 1 start) as redis-server 7.0 replied.
const OPEN_RANGES: &[(i64, i64, i64)] = &[
    (0, 20, 0),
    (3, 24, 31),
    (1023, 8240, 8184),
    (1024, 8240, 8192),
    (2047, 16376, 16384),
    (2048, 23992, 16384),
    (3000, 24576, 24000),
    (4499, 35992, -1),
    (5000, -1, -1),
    (-1, 35992, -1),
    (-100, 35200, -1),
    (-2000, 23992, 20000),
    (-4500, 20, 0),
    (-6000, 20, 0),
];

#[test]
fn ranges_match_redis_on_strings_and_bitmaps() {
    let s = Server::start();
    let mut c = s.client();
    let v = value();
    qb::<()>(&mut c, &[b"SET", b"str", &v]);
    setbits(&mut c, "bm", &v);
    // A bitmap written by BITOP from the string: no all-zero fragments.
    assert_eq!(q::<i64>(&mut c, &["BITOP", "OR", "bm2", "str"]), 4500);
    for key in ["str", "bm", "bm2"] {
        assert_eq!(q::<i64>(&mut c, &["STRLEN", key]), 4500, "{key}");
        assert_eq!(qb::<Vec<u8>>(&mut c, &[b"GET", key.as_bytes()]), v, "{key}");
        assert_eq!(q::<String>(&mut c, &["TYPE", key]), "string");
        assert_eq!(q::<i64>(&mut c, &["BITCOUNT", key]), 8297, "{key}");
        assert_eq!(q::<i64>(&mut c, &["BITPOS", key, "0"]), 20, "{key}");
        assert_eq!(q::<i64>(&mut c, &["BITPOS", key, "1"]), 0, "{key}");
        for &(start, end, bit, count, pos0, pos1) in RANGES {
            let (st, en) = (start.to_string(), end.to_string());
            let unit = if bit { "BIT" } else { "BYTE" };
            let args = |cmd: &'static str| -> Vec<String> {
                let mut a = vec![cmd.to_string(), key.to_string()];
                if cmd == "BITPOS0" || cmd == "BITPOS1" {
                    a[0] = "BITPOS".into();
                    a.push(cmd[6..].to_string());
                }
                a.extend([st.clone(), en.clone(), unit.to_string()]);
                a
            };
            let run = |c: &mut redis::Connection, a: Vec<String>| -> i64 {
                let refs: Vec<&str> = a.iter().map(String::as_str).collect();
                q(c, &refs)
            };
            let what = format!("{key} {start} {end} {unit}");
            assert_eq!(run(&mut c, args("BITCOUNT")), count, "BITCOUNT {what}");
            assert_eq!(run(&mut c, args("BITPOS0")), pos0, "BITPOS 0 {what}");
            assert_eq!(run(&mut c, args("BITPOS1")), pos1, "BITPOS 1 {what}");
        }
        for &(start, pos0, pos1) in OPEN_RANGES {
            let st = start.to_string();
            assert_eq!(
                q::<i64>(&mut c, &["BITPOS", key, "0", &st]),
                pos0,
                "{key} {st}"
            );
            assert_eq!(
                q::<i64>(&mut c, &["BITPOS", key, "1", &st]),
                pos1,
                "{key} {st}"
            );
        }
        // Without the unit, ranges count bytes.
        assert_eq!(q::<i64>(&mut c, &["BITCOUNT", key, "0", "3"]), 21);
        assert_eq!(q::<i64>(&mut c, &["BITCOUNT", key, "0", "3", "byte"]), 21);
    }
    // All ones: a 0 is found just past the end only without an explicit end.
    let ones = vec![0xffu8; 2100];
    qb::<()>(&mut c, &[b"SET", b"ones", &ones]);
    setbits(&mut c, "ones_bm", &ones);
    for key in ["ones", "ones_bm"] {
        assert_eq!(q::<i64>(&mut c, &["BITPOS", key, "0"]), 16800);
        assert_eq!(q::<i64>(&mut c, &["BITPOS", key, "0", "0"]), 16800);
        assert_eq!(q::<i64>(&mut c, &["BITPOS", key, "0", "0", "-1"]), -1);
        assert_eq!(
            q::<i64>(&mut c, &["BITPOS", key, "0", "8", "-1", "BIT"]),
            -1
        );
        assert_eq!(q::<i64>(&mut c, &["BITCOUNT", key]), 16800);
    }
}

#[test]
fn setbit_getbit_and_errors() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "1", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "1", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "7", "1"]), 0);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "b"]), vec![0x41]);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "b", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "b", "2"]), 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "b", "100000"]), 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "missing", "3"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "1", "0"]), 1);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "b"]), vec![0x01]);
    // Clearing a bit past the end still grows the value (as Redis).
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "z", "100", "0"]), 0);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "z"]), 13);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "z"]), vec![0u8; 13]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "z"]), 1);

    assert_eq!(
        q_err(&mut c, &["SETBIT", "b", "4294967296", "1"]),
        BAD_OFFSET
    );
    assert_eq!(q_err(&mut c, &["SETBIT", "b", "-1", "1"]), BAD_OFFSET);
    assert_eq!(q_err(&mut c, &["SETBIT", "b", "x", "1"]), BAD_OFFSET);
    assert_eq!(q_err(&mut c, &["GETBIT", "b", "4294967296"]), BAD_OFFSET);
    assert_eq!(q_err(&mut c, &["GETBIT", "b", "1.5"]), BAD_OFFSET);
    assert_eq!(q_err(&mut c, &["SETBIT", "b", "1", "2"]), BAD_BIT);
    assert_eq!(q_err(&mut c, &["SETBIT", "b", "1", "01"]), BAD_BIT);
    assert_eq!(q_err(&mut c, &["SETBIT", "b", "1", "-1"]), BAD_BIT);
    assert_eq!(
        q_err(&mut c, &["SETBIT", "b", "1"]),
        "ERR wrong number of arguments for 'setbit' command"
    );
    assert_eq!(
        q_err(&mut c, &["GETBIT", "b"]),
        "ERR wrong number of arguments for 'getbit' command"
    );
    let _: i64 = q(&mut c, &["LPUSH", "l", "a"]);
    assert_eq!(q_err(&mut c, &["SETBIT", "l", "0", "1"]), WRONGTYPE);
    assert_eq!(q_err(&mut c, &["GETBIT", "l", "0"]), WRONGTYPE);
    // Argument errors come before the type check, as in Redis.
    assert_eq!(q_err(&mut c, &["SETBIT", "l", "x", "1"]), BAD_OFFSET);
    assert_eq!(q_err(&mut c, &["BITCOUNT", "l", "x", "y"]), WRONGTYPE);
    assert_eq!(q_err(&mut c, &["BITPOS", "l", "1", "x"]), WRONGTYPE);
    assert_eq!(
        q_err(&mut c, &["BITPOS", "l", "2"]),
        "ERR The bit argument must be 1 or 0."
    );

    // BITCOUNT / BITPOS argument rules.
    assert_eq!(q_err(&mut c, &["BITCOUNT", "b", "0"]), SYNTAX);
    assert_eq!(q_err(&mut c, &["BITCOUNT", "b", "0", "1", "foo"]), SYNTAX);
    assert_eq!(
        q_err(&mut c, &["BITCOUNT", "b", "0", "1", "bit", "x"]),
        SYNTAX
    );
    assert_eq!(q_err(&mut c, &["BITCOUNT", "b", "0", "x"]), NOT_INT);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "missing", "0"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "missing", "a", "b", "c"]), 0);
    assert_eq!(
        q_err(&mut c, &["BITPOS", "b", "2"]),
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(q_err(&mut c, &["BITPOS", "b", "x"]), NOT_INT);
    assert_eq!(
        q_err(&mut c, &["BITPOS", "b", "1", "0", "1", "foo"]),
        SYNTAX
    );
    assert_eq!(
        q_err(&mut c, &["BITPOS", "b", "1", "0", "1", "bit", "x"]),
        SYNTAX
    );
    assert_eq!(q_err(&mut c, &["BITPOS", "b", "1", "0", "bit"]), NOT_INT);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "missing", "1"]), -1);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "missing", "0"]), 0);
    assert_eq!(
        q::<i64>(&mut c, &["BITPOS", "missing", "0", "5", "6", "foo"]),
        0
    );
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "z"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "z", "1"]), -1);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "z", "0"]), 0);
}

#[test]
fn setbit_at_the_last_offset_writes_one_fragment() {
    let s = Server::start();
    let mut c = s.client();
    let started = Instant::now();
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "big", "4294967295", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "big"]), 536_870_912);
    assert_eq!(
        q::<Vec<u8>>(&mut c, &["GETRANGE", "big", "-2", "-1"]),
        vec![0, 1]
    );
    assert_eq!(
        q::<Vec<u8>>(&mut c, &["GETRANGE", "big", "0", "3"]),
        vec![0; 4]
    );
    assert_eq!(
        q::<Vec<u8>>(&mut c, &["GETRANGE", "big", "536870000", "536870015"]),
        vec![0; 16]
    );
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "big", "4294967295"]), 1);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "big", "4294967294"]), 0);
    // Only stored fragments are visited.
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "big"]), 1);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "big", "-1", "-1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "big", "0", "-2"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "big", "1"]), 4_294_967_295);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "big", "0"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "big", "1", "0", "-2"]), -1);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "other", "8", "1"]), 0);
    assert_eq!(
        q::<i64>(&mut c, &["BITOP", "OR", "both", "big", "other"]),
        536_870_912
    );
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "both"]), 2);
    assert_eq!(
        q::<i64>(&mut c, &["BITOP", "AND", "and", "big", "other"]),
        536_870_912
    );
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "and"]), 0);
    assert_eq!(
        q::<i64>(&mut c, &["BITPOS", "both", "1", "2"]),
        4_294_967_295
    );
    assert_eq!(
        q::<Vec<Option<i64>>>(&mut c, &["BITFIELD", "big", "GET", "u8", "#536870911"]),
        vec![Some(1)]
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    // Nothing near 512 MB was written.
    let _: () = q(&mut c, &["FLUSHALL"]);
    let size = dir_size(&s.data_dir());
    assert!(size < 100 << 20, "data dir is {size} bytes");
}

fn dir_size(p: &std::path::Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(p).unwrap().flatten() {
        let m = e.metadata().unwrap();
        n += if m.is_dir() {
            dir_size(&e.path())
        } else {
            m.len()
        };
    }
    n
}

#[test]
fn strings_stay_strings_and_bitmaps_read_as_strings() {
    let s = Server::start();
    let mut c = s.client();
    // Bit commands on a plain string work on its bytes and keep it a string.
    let _: () = q(&mut c, &["SET", "s", "foobar"]);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "s"]), 26);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "s", "1", "1"]), 6);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "s", "7", "1"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "goobar");
    assert_eq!(q::<i64>(&mut c, &["APPEND", "s", "!"]), 7);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "goobar!");
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "s", "63", "1"]), 0);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "s"]), b"goobar!\x01".to_vec());
    // TTL of a string survives SETBIT.
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "s", "100"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "s", "0", "1"]), 0);
    assert!(q::<i64>(&mut c, &["TTL", "s"]) > 0);

    // A bitmap reads as a string: "1" is 0x31 = bits 2, 3 and 7.
    for bit in ["2", "3", "7"] {
        let _: i64 = q(&mut c, &["SETBIT", "n", bit, "1"]);
    }
    assert_eq!(q::<String>(&mut c, &["GET", "n"]), "1");
    assert_eq!(
        q::<Vec<Option<String>>>(&mut c, &["MGET", "n", "missing"]),
        vec![Some("1".into()), None]
    );
    assert_eq!(q::<i64>(&mut c, &["INCR", "n"]), 2);
    assert_eq!(q::<String>(&mut c, &["GET", "n"]), "2");
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "n", "6"]), 1);

    let _: i64 = q(&mut c, &["SETBIT", "b", "15", "1"]);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "b"]), 2);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GETRANGE", "b", "1", "1"]), vec![1]);
    assert_eq!(
        q::<Vec<u8>>(&mut c, &["GETRANGE", "b", "5", "10"]),
        Vec::<u8>::new()
    );
    assert_eq!(q::<i64>(&mut c, &["APPEND", "b", "xy"]), 4);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "b"]), b"\x00\x01xy".to_vec());
    let _: i64 = q(&mut c, &["SETBIT", "r", "0", "1"]);
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "r", "2", "ab"]), 4);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "r"]), b"\x80\x00ab".to_vec());
    // SET overwrites a bitmap; GETSET returns its bytes.
    let _: i64 = q(&mut c, &["SETBIT", "g", "1", "1"]);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GETSET", "g", "new"]), vec![0x40]);
    assert_eq!(q::<String>(&mut c, &["GET", "g"]), "new");
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "g"]), 15);
    // GETEX and GETDEL on a bitmap.
    let _: i64 = q(&mut c, &["SETBIT", "e", "1", "1"]);
    assert_eq!(
        q::<Vec<u8>>(&mut c, &["GETEX", "e", "EX", "100"]),
        vec![0x40]
    );
    assert!(q::<i64>(&mut c, &["TTL", "e"]) > 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "e", "1"]), 1);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GETDEL", "e"]), vec![0x40]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "e"]), 0);
    // Expiry and DEL of a bitmap.
    let _: i64 = q(&mut c, &["SETBIT", "x", "9", "1"]);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "x", "50"]), 1);
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "x"]), 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "x", "9"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "x", "0", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "x"]), 1);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "x"]), 1);
    assert_eq!(q::<i64>(&mut c, &["DEL", "x"]), 1);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "x"]), 0);
    // RENAME and COPY carry the fragments.
    setbits(&mut c, "src", &value());
    let _: () = q(&mut c, &["RENAME", "src", "dst"]);
    assert_eq!(q::<i64>(&mut c, &["COPY", "dst", "dst2"]), 1);
    for k in ["dst", "dst2"] {
        assert_eq!(q::<Vec<u8>>(&mut c, &["GET", k]), value());
    }
    let _: i64 = q(&mut c, &["LPUSH", "l", "a"]);
    assert_eq!(q_err(&mut c, &["STRLEN", "l"]), WRONGTYPE);
    assert_eq!(q_err(&mut c, &["GETRANGE", "l", "0", "1"]), WRONGTYPE);
}

#[test]
fn bitop_with_unequal_lengths() {
    let s = Server::start();
    let mut c = s.client();
    let a: &[u8] = b"\xff\x0f";
    let b: &[u8] = b"\x0f\xf0\x01\x80";
    qb::<()>(&mut c, &[b"SET", b"a", a]);
    qb::<()>(&mut c, &[b"SET", b"b", b]);
    let ops: [(&str, &[u8]); 3] = [
        ("AND", b"\x0f\x00\x00\x00"),
        ("OR", b"\xff\xff\x01\x80"),
        ("XOR", b"\xf0\xff\x01\x80"),
    ];
    for (op, want) in ops {
        assert_eq!(
            q::<i64>(&mut c, &["BITOP", op, "d", "a", "b", "missing"]),
            4
        );
        let got: Vec<u8> = q(&mut c, &["GET", "d"]);
        if op == "AND" {
            assert_eq!(got, vec![0; 4], "{op} with a missing key");
        } else {
            assert_eq!(got, want, "{op}");
        }
        assert_eq!(q::<i64>(&mut c, &["BITOP", op, "d", "a", "b"]), 4);
        assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "d"]), want, "{op}");
    }
    assert_eq!(q::<i64>(&mut c, &["BITOP", "NOT", "d", "a"]), 2);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "d"]), vec![0x00, 0xf0]);
    // Across fragments and with bitmap sources: compare with the bytes.
    let v = value();
    setbits(&mut c, "v", &v);
    let mut w = vec![0u8; 2500];
    w[0] = 0x0f;
    w[1024] = 0xff;
    w[2499] = 0x01;
    qb::<()>(&mut c, &[b"SET", b"w", &w]);
    let not_v: Vec<u8> = v.iter().map(|x| !x).collect();
    let and: Vec<u8> = (0..4500)
        .map(|i| v[i] & w.get(i).copied().unwrap_or(0))
        .collect();
    let or: Vec<u8> = (0..4500)
        .map(|i| v[i] | w.get(i).copied().unwrap_or(0))
        .collect();
    let xor: Vec<u8> = (0..4500)
        .map(|i| v[i] ^ w.get(i).copied().unwrap_or(0))
        .collect();
    for (op, srcs, want) in [
        ("NOT", vec!["v"], not_v),
        ("AND", vec!["v", "w"], and),
        ("OR", vec!["w", "v"], or),
        ("XOR", vec!["v", "w"], xor),
    ] {
        let mut args = vec!["BITOP", op, "out"];
        args.extend(srcs);
        assert_eq!(q::<i64>(&mut c, &args), 4500, "{op}");
        assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "out"]), want, "{op}");
    }
    // The destination may be a source, and is replaced whatever it was.
    assert_eq!(q::<i64>(&mut c, &["BITOP", "NOT", "a", "a"]), 2);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "a"]), vec![0x00, 0xf0]);
    let _: i64 = q(&mut c, &["RPUSH", "list", "x"]);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "list", "100"]), 1);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "OR", "list", "b"]), 4);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "list"]), b.to_vec());
    assert_eq!(q::<i64>(&mut c, &["TTL", "list"]), -1);
    // An empty result deletes the destination.
    assert_eq!(
        q::<i64>(&mut c, &["BITOP", "OR", "list", "nokey1", "nokey2"]),
        0
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "list"]), 0);
    // Errors.
    let _: i64 = q(&mut c, &["LPUSH", "l", "x"]);
    assert_eq!(q_err(&mut c, &["BITOP", "AND", "d", "a", "l"]), WRONGTYPE);
    assert_eq!(q_err(&mut c, &["BITOP", "FOO", "d", "a"]), SYNTAX);
    assert_eq!(
        q_err(&mut c, &["BITOP", "NOT", "d", "a", "b"]),
        "ERR BITOP NOT must be called with a single source key."
    );
    assert_eq!(
        q_err(&mut c, &["BITOP", "AND", "d"]),
        "ERR wrong number of arguments for 'bitop' command"
    );
}

#[test]
fn bitfield_operations_and_overflow() {
    let s = Server::start();
    let mut c = s.client();
    type R = Vec<Option<i64>>;
    // Replies recorded from redis-server 7.0.
    for key in ["s", "bm"] {
        if key == "s" {
            let _: () = q(&mut c, &["SET", "s", "x"]);
        } else {
            // 'x' = 0x78 as a bitmap.
            for bit in ["1", "2", "3", "4"] {
                let _: i64 = q(&mut c, &["SETBIT", "bm", bit, "1"]);
            }
        }
        assert_eq!(
            q::<R>(
                &mut c,
                &[
                    "BITFIELD", key, "GET", "u8", "0", "SET", "i8", "0", "-1", "GET", "u8", "0",
                    "INCRBY", "u63", "0", "1", "GET", "i64", "0"
                ]
            ),
            vec![
                Some(120),
                Some(120),
                Some(255),
                Some(9187343239835811841),
                Some(-72057594037927934)
            ],
            "{key}"
        );
        assert_eq!(
            q::<R>(
                &mut c,
                &[
                    "BITFIELD", key, "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-200", "OVERFLOW",
                    "WRAP", "INCRBY", "i8", "0", "-200", "OVERFLOW", "FAIL", "SET", "u4", "0",
                    "20"
                ]
            ),
            vec![Some(-128), Some(-72), None],
            "{key}"
        );
        assert_eq!(
            q::<R>(
                &mut c,
                &["BITFIELD_RO", key, "GET", "u8", "0", "GET", "u4", "4"]
            ),
            vec![Some(184), Some(8)],
            "{key}"
        );
    }
    // i64 wraps and saturates at its limits.
    assert_eq!(
        q::<R>(
            &mut c,
            &[
                "BITFIELD",
                "n",
                "INCRBY",
                "i64",
                "0",
                "9223372036854775807",
                "INCRBY",
                "i64",
                "0",
                "1",
                "OVERFLOW",
                "SAT",
                "INCRBY",
                "i64",
                "0",
                "1",
                "OVERFLOW",
                "FAIL",
                "INCRBY",
                "i64",
                "0",
                "-1"
            ]
        ),
        vec![
            Some(i64::MAX),
            Some(i64::MIN),
            Some(i64::MIN + 1),
            Some(i64::MIN)
        ]
    );
    // Unsigned wrap and saturation; # offsets count fields.
    assert_eq!(
        q::<R>(
            &mut c,
            &[
                "BITFIELD", "u", "SET", "u8", "#1", "250", "INCRBY", "u8", "#1", "10", "OVERFLOW",
                "SAT", "INCRBY", "u8", "#1", "-10", "INCRBY", "u2", "100", "7", "GET", "u8", "8"
            ]
        ),
        vec![Some(0), Some(4), Some(0), Some(3), Some(0)]
    );
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "u"]), 13);
    // Reads of a missing key are zeros and create nothing.
    assert_eq!(
        q::<R>(
            &mut c,
            &["BITFIELD", "nk", "GET", "u8", "0", "GET", "i4", "100"]
        ),
        vec![Some(0), Some(0)]
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "nk"]), 0);
    assert_eq!(
        q::<R>(&mut c, &["BITFIELD", "nk"]),
        Vec::<Option<i64>>::new()
    );
    assert_eq!(
        q::<R>(&mut c, &["BITFIELD", "nk", "OVERFLOW", "FAIL"]),
        Vec::<Option<i64>>::new()
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "nk"]), 0);
    // A failed write still grows the value to its highest byte, as Redis.
    assert_eq!(
        q::<R>(
            &mut c,
            &["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "5"]
        ),
        vec![None]
    );
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "f"]), 13);
    // A field at the very end of the allowed range.
    assert_eq!(
        q::<R>(
            &mut c,
            &["BITFIELD", "end", "SET", "u8", "4294967295", "255"]
        ),
        vec![Some(0)]
    );
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "end"]), 536_870_913);
    assert_eq!(
        q::<R>(&mut c, &["BITFIELD_RO", "end", "GET", "u8", "4294967288"]),
        vec![Some(1)]
    );
    // Errors.
    for t in ["u64", "i65", "i0", "u", "I8", "i08", "x8"] {
        assert_eq!(
            q_err(&mut c, &["BITFIELD", "k", "GET", t, "0"]),
            BAD_TYPE,
            "{t}"
        );
    }
    for off in ["-1", "#-1", "x", "+1", "4294967296", "#536870912", "#"] {
        assert_eq!(
            q_err(&mut c, &["BITFIELD", "k", "GET", "u8", off]),
            BAD_OFFSET,
            "{off}"
        );
    }
    assert_eq!(
        q_err(&mut c, &["BITFIELD", "k", "SET", "u8", "0", "x"]),
        NOT_INT
    );
    assert_eq!(
        q_err(
            &mut c,
            &["BITFIELD", "k", "SET", "i8", "0", "9223372036854775808"]
        ),
        NOT_INT
    );
    assert_eq!(
        q_err(&mut c, &["BITFIELD", "k", "OVERFLOW", "foo"]),
        "ERR Invalid OVERFLOW type specified"
    );
    assert_eq!(q_err(&mut c, &["BITFIELD", "k", "FOO"]), SYNTAX);
    assert_eq!(q_err(&mut c, &["BITFIELD", "k", "GET", "u8"]), SYNTAX);
    assert_eq!(q_err(&mut c, &["BITFIELD", "k", "OVERFLOW"]), SYNTAX);
    assert_eq!(
        q_err(&mut c, &["BITFIELD_RO", "k", "SET", "u8", "0", "1"]),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
    assert_eq!(
        q_err(&mut c, &["BITFIELD_RO", "k", "SET", "foo", "0", "1"]),
        BAD_TYPE
    );
    let _: i64 = q(&mut c, &["LPUSH", "l", "a"]);
    assert_eq!(
        q_err(&mut c, &["BITFIELD", "l", "GET", "u8", "0"]),
        WRONGTYPE
    );
    assert_eq!(q_err(&mut c, &["BITFIELD", "l"]), WRONGTYPE);
    assert_eq!(
        q_err(&mut c, &["BITFIELD_RO", "l", "GET", "u8", "0"]),
        WRONGTYPE
    );
    assert_eq!(
        q_err(&mut c, &["BITFIELD", "l", "GET", "foo", "0"]),
        BAD_TYPE
    );
}

#[test]
fn bitmaps_survive_restart() {
    let mut s = Server::start();
    {
        let mut c = s.client();
        setbits(&mut c, "v", &value());
    }
    s.restart();
    let mut c = s.client();
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "v"]), value());
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "v"]), 8297);
}
