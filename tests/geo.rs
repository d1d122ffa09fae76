//! Geo commands against the real binary. Every expected raw reply below is
//! byte for byte what redis-server 7.0 replies to the same commands.

mod common;

use common::{q, q_err, Server};

/// Great-circle distance in meters, the formula the server uses.
fn haversine(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let r = std::f64::consts::PI / 180.0;
    let u = ((lat2 * r - lat1 * r) / 2.0).sin();
    let v = ((lon2 * r - lon1 * r) / 2.0).sin();
    2.0 * 6372797.560856
        * (u * u + (lat1 * r).cos() * (lat2 * r).cos() * v * v)
            .sqrt()
            .asin()
}

#[test]
fn add_dist_hash_pos() {
    let s = Server::start();
    let mut raw = s.raw();
    assert_eq!(
        raw.cmd(&[
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania"
        ]),
        ":2\r\n"
    );
    assert_eq!(raw.cmd(&["TYPE", "Sicily"]), "+zset\r\n");
    assert_eq!(
        raw.cmd(&["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"]),
        "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
    );
    assert_eq!(
        raw.cmd(&["ZSCORE", "Sicily", "Palermo"]),
        "$16\r\n3479099956230698\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo", "Catania"]),
        "$11\r\n166274.1516\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "m"]),
        "$11\r\n166274.1516\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "KM"]),
        "$8\r\n166.2742\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "mi"]),
        "$8\r\n103.3182\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "Ft"]),
        "$11\r\n545518.8700\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo", "Palermo"]),
        "$6\r\n0.0000\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo", "nope"]),
        "$-1\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "nokey", "Palermo", "Catania"]),
        "$-1\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOHASH", "Sicily", "Palermo", "Catania", "nope"]),
        "*3\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n"
    );
    assert_eq!(raw.cmd(&["GEOHASH", "Sicily"]), "*0\r\n");
    assert_eq!(
        raw.cmd(&["GEOHASH", "nokey", "a", "b"]),
        "*2\r\n$-1\r\n$-1\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOPOS", "Sicily", "Palermo", "Catania", "nope"]),
        "*3\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*-1\r\n"
    );
    assert_eq!(raw.cmd(&["GEOPOS", "Sicily"]), "*0\r\n");
    assert_eq!(raw.cmd(&["GEOPOS", "nokey", "a"]), "*1\r\n*-1\r\n");
    // NX / XX / CH behave as with ZADD.
    assert_eq!(
        raw.cmd(&[
            "GEOADD",
            "Sicily",
            "NX",
            "13.361389",
            "38.115556",
            "Palermo",
            "12.758489",
            "38.788135",
            "edge1"
        ]),
        ":1\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOADD",
            "Sicily",
            "XX",
            "17.241510",
            "38.788135",
            "edge2",
            "15.087269",
            "37.502669",
            "Catania"
        ]),
        ":0\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOADD",
            "Sicily",
            "XX",
            "CH",
            "15.087269",
            "37.5",
            "Catania"
        ]),
        ":1\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOADD",
            "Sicily",
            "ch",
            "15.087269",
            "37.502669",
            "Catania",
            "17.241510",
            "38.788135",
            "edge2"
        ]),
        ":2\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "Sicily", "15.087269", "37.502669", "Catania"]),
        ":0\r\n"
    );
    assert_eq!(raw.cmd(&["ZCARD", "Sicily"]), ":4\r\n");
    assert_eq!(raw.cmd(&["GEOADD", "nokey", "XX", "1", "2", "a"]), ":0\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "nokey"]), ":0\r\n");
    // The limits of the storable area, and coordinates on them.
    assert_eq!(
        raw.cmd(&[
            "GEOADD",
            "limits",
            "-180",
            "-85.05112878",
            "sw",
            "180",
            "85.05112878",
            "ne",
            "0",
            "0",
            "zero",
            "-0.0001",
            "0.0001",
            "near"
        ]),
        ":4\r\n"
    );
    assert_eq!(
        raw.cmd(&["ZRANGE", "limits", "0", "-1", "WITHSCORES"]),
        "*8\r\n$2\r\nsw\r\n$1\r\n0\r\n$4\r\nnear\r\n$16\r\n1876499844738231\r\n$4\r\nzero\r\n$16\r\n3377699720527872\r\n$2\r\nne\r\n$17\r\n13510798882111488\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOPOS", "limits", "sw", "ne", "zero", "near"]),
        "*4\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$19\r\n0.00000268220901489\r\n$19\r\n0.00000126736058093\r\n*2\r\n$20\r\n-0.00009924173355103\r\n$19\r\n0.00010012148579364\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOHASH", "limits", "sw", "ne", "zero", "near"]),
        "*4\r\n$11\r\n00bh0hbj200\r\n$11\r\nbp05b5048p0\r\n$11\r\ns0000000000\r\n$11\r\nebpbpbpbtd0\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "limits", "sw", "ne", "km"]),
        "$10\r\n18919.8446\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "limits", "zero", "near", "ft"]),
        "$7\r\n51.8137\r\n"
    );
    // A score that is not a geohash still decodes like Redis.
    assert_eq!(
        raw.cmd(&[
            "ZADD",
            "limits",
            "0",
            "z0",
            "4503599627370495",
            "top",
            "1.5",
            "frac"
        ]),
        ":3\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOPOS", "limits", "z0", "top", "frac"]),
        "*3\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$21\r\n179.99999731779098511\r\n$20\r\n85.05112751263942528\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112497791824921\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOHASH", "limits", "z0", "top", "frac"]),
        "*3\r\n$11\r\n00bh0hbj200\r\n$11\r\nzzpgzgpfxz0\r\n$11\r\n00bh0hbj210\r\n"
    );
}

#[test]
fn radius_and_search_options() {
    let s = Server::start();
    let mut raw = s.raw();
    assert_eq!(
        raw.cmd(&[
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
            "12.758489",
            "38.788135",
            "edge1",
            "17.241510",
            "38.788135",
            "edge2"
        ]),
        ":4\r\n"
    );
    // GEORADIUS: plain, each WITH option, all of them, orderings.
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km"]),
        "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST"]),
        "*2\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD"]),
        "*2\r\n*2\r\n$7\r\nPalermo\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*2\r\n$7\r\nCatania\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHHASH"]),
        "*2\r\n*2\r\n$7\r\nPalermo\r\n:3479099956230698\r\n*2\r\n$7\r\nCatania\r\n:3479447370796909\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHHASH", "WITHCOORD", "WITHDIST"]),
        "*2\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "ASC"]),
        "*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC"]),
        "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "300", "km", "DESC", "WITHDIST"]),
        "*4\r\n*2\r\n$5\r\nedge1\r\n$8\r\n279.7405\r\n*2\r\n$5\r\nedge2\r\n$8\r\n279.7403\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "300", "km", "ASC", "WITHDIST"]),
        "*4\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$5\r\nedge2\r\n$8\r\n279.7403\r\n*2\r\n$5\r\nedge1\r\n$8\r\n279.7405\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "300", "km", "COUNT", "2"]),
        "*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "300",
            "km",
            "COUNT",
            "2",
            "DESC"
        ]),
        "*2\r\n$5\r\nedge1\r\n$5\r\nedge2\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "300", "km", "COUNT", "10", "WITHDIST"]),
        "*4\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$5\r\nedge2\r\n$8\r\n279.7403\r\n*2\r\n$5\r\nedge1\r\n$8\r\n279.7405\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "300",
            "km",
            "COUNT",
            "1",
            "ANY"
        ]),
        "*1\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "300", "km", "COUNT", "3", "ANY", "ASC", "WITHDIST"]),
        "*3\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$5\r\nedge1\r\n$8\r\n279.7405\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "300",
            "km",
            "count",
            "2",
            "count",
            "1"
        ]),
        "*1\r\n$7\r\nCatania\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "1", "km"]),
        "*0\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "0", "km"]),
        "*0\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200000", "m", "WITHDIST"]),
        "*2\r\n*2\r\n$7\r\nPalermo\r\n$11\r\n190442.4298\r\n*2\r\n$7\r\nCatania\r\n$10\r\n56441.2579\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "124.3",
            "mi",
            "WITHDIST",
            "ASC"
        ]),
        "*2\r\n*2\r\n$7\r\nCatania\r\n$7\r\n35.0711\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n118.3357\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "656168", "ft", "WITHDIST", "ASC"]),
        "*2\r\n*2\r\n$7\r\nCatania\r\n$11\r\n185174.7305\r\n*2\r\n$7\r\nPalermo\r\n$11\r\n624811.1215\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "nokey", "15", "37", "200", "km"]),
        "*0\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS_RO",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "WITHDIST",
            "ASC"
        ]),
        "*2\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n"
    );
    // GEORADIUSBYMEMBER: the member itself is at distance 0.
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST", "ASC"]),
        "*3\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUSBYMEMBER",
            "Sicily",
            "Palermo",
            "0",
            "km",
            "WITHDIST"
        ]),
        "*1\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER_RO", "Sicily", "edge1", "400", "km", "DESC", "WITHCOORD"]),
        "*4\r\n*2\r\n$5\r\nedge2\r\n*2\r\n$20\r\n17.24151045083999634\r\n$20\r\n38.78813451624225195\r\n*2\r\n$7\r\nCatania\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*2\r\n$7\r\nPalermo\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*2\r\n$5\r\nedge1\r\n*2\r\n$19\r\n12.7584877610206604\r\n$20\r\n38.78813451624225195\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER", "nokey", "Palermo", "200", "km"]),
        "*0\r\n"
    );
    // GEOSEARCH by radius and by box, from a member or a point.
    assert_eq!(
        raw.cmd(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD", "WITHDIST"]),
        "*4\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*3\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*3\r\n$5\r\nedge2\r\n$8\r\n279.7403\r\n*2\r\n$20\r\n17.24151045083999634\r\n$20\r\n38.78813451624225195\r\n*3\r\n$5\r\nedge1\r\n$8\r\n279.7405\r\n*2\r\n$19\r\n12.7584877610206604\r\n$20\r\n38.78813451624225195\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "DESC", "WITHHASH"]),
        "*4\r\n*2\r\n$5\r\nedge1\r\n:3479273021651468\r\n*2\r\n$5\r\nedge2\r\n:3481342659049484\r\n*2\r\n$7\r\nPalermo\r\n:3479099956230698\r\n*2\r\n$7\r\nCatania\r\n:3479447370796909\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "200",
            "200",
            "km",
            "ASC"
        ]),
        "*1\r\n$7\r\nCatania\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "100",
            "km",
            "ASC"
        ]),
        "*0\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "100",
            "400",
            "km",
            "ASC"
        ]),
        "*1\r\n$7\r\nCatania\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "ASC"
        ]),
        "*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "WITHDIST", "DESC"]),
        "*3\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n*2\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYBOX",
            "400",
            "400",
            "mi",
            "WITHDIST",
            "ASC",
            "COUNT",
            "2"
        ]),
        "*2\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$5\r\nedge1\r\n$7\r\n56.7939\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOSEARCH", "Sicily", "FROMMEMBER", "Catania", "BYBOX", "1312336", "1312336", "ft", "WITHDIST", "ASC"]),
        "*3\r\n*2\r\n$7\r\nCatania\r\n$6\r\n0.0000\r\n*2\r\n$7\r\nPalermo\r\n$11\r\n545518.8700\r\n*2\r\n$5\r\nedge2\r\n$11\r\n776014.3696\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Catania",
            "BYRADIUS",
            "300",
            "km",
            "COUNT",
            "2",
            "ANY"
        ]),
        "*2\r\n$7\r\nPalermo\r\n$5\r\nedge1\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "BYRADIUS",
            "300",
            "km",
            "FROMMEMBER",
            "Catania",
            "ASC"
        ]),
        "*4\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n$5\r\nedge2\r\n$5\r\nedge1\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "nokey",
            "FROMMEMBER",
            "Catania",
            "BYRADIUS",
            "300",
            "km"
        ]),
        "*0\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "nokey",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "1",
            "1",
            "km",
            "WITHDIST"
        ]),
        "*0\r\n"
    );
    // Coordinates near the edges of the map.
    assert_eq!(
        raw.cmd(&[
            "GEOADD", "edges", "179.99", "0", "east", "-179.99", "0", "west", "0", "85", "north",
            "0", "-85", "south", "179.5", "84.9", "corner"
        ]),
        ":5\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "edges",
            "180",
            "0",
            "5",
            "km",
            "WITHDIST",
            "ASC"
        ]),
        "*1\r\n*2\r\n$4\r\neast\r\n$6\r\n1.1125\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "edges",
            "-180",
            "0",
            "5",
            "km",
            "WITHDIST",
            "ASC"
        ]),
        "*2\r\n*2\r\n$4\r\neast\r\n$6\r\n1.1125\r\n*2\r\n$4\r\nwest\r\n$6\r\n1.1125\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "edges",
            "FROMLONLAT",
            "0",
            "85.05",
            "BYRADIUS",
            "100",
            "km",
            "WITHDIST"
        ]),
        "*1\r\n*2\r\n$5\r\nnorth\r\n$6\r\n5.5614\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "edges",
            "FROMLONLAT",
            "180",
            "85",
            "BYBOX",
            "200",
            "100",
            "km",
            "WITHDIST"
        ]),
        "*1\r\n*2\r\n$6\r\ncorner\r\n$7\r\n12.1522\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOSEARCH", "edges", "FROMLONLAT", "0", "0", "BYRADIUS", "20000", "km", "WITHDIST"]),
        "*3\r\n*2\r\n$5\r\nnorth\r\n$9\r\n9454.2355\r\n*2\r\n$6\r\ncorner\r\n$10\r\n10577.5995\r\n*2\r\n$5\r\nsouth\r\n$9\r\n9454.2355\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOSEARCH", "edges", "FROMLONLAT", "0", "0", "BYRADIUS", "20000", "km", "WITHDIST", "DESC", "COUNT", "3"]),
        "*3\r\n*2\r\n$6\r\ncorner\r\n$10\r\n10577.5995\r\n*2\r\n$5\r\nnorth\r\n$9\r\n9454.2355\r\n*2\r\n$5\r\nsouth\r\n$9\r\n9454.2355\r\n"
    );
}

#[test]
fn store_and_storedist() {
    let s = Server::start();
    let mut raw = s.raw();
    assert_eq!(
        raw.cmd(&[
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
            "12.758489",
            "38.788135",
            "edge1",
            "17.241510",
            "38.788135",
            "edge2"
        ]),
        ":4\r\n"
    );
    // STORE keeps the geohash scores, STOREDIST the distances in the unit.
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "dst"
        ]),
        ":2\r\n"
    );
    assert_eq!(raw.cmd(&["TYPE", "dst"]), "+zset\r\n");
    assert_eq!(
        raw.cmd(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "300",
            "km",
            "STOREDIST",
            "dst"
        ]),
        ":4\r\n"
    );
    assert_eq!(
        raw.cmd(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        "*8\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n$5\r\nedge2\r\n$17\r\n279.7403417843143\r\n$5\r\nedge1\r\n$18\r\n279.74045213563431\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "300",
            "km",
            "ASC",
            "COUNT",
            "2",
            "STOREDIST",
            "dst"
        ]),
        ":2\r\n"
    );
    assert_eq!(
        raw.cmd(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        "*4\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "300",
            "km",
            "DESC",
            "COUNT",
            "1",
            "STORE",
            "dst"
        ]),
        ":1\r\n"
    );
    assert_eq!(
        raw.cmd(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        "*2\r\n$5\r\nedge1\r\n$16\r\n3479273021651468\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUSBYMEMBER",
            "Sicily",
            "Palermo",
            "100",
            "mi",
            "STOREDIST",
            "dst2"
        ]),
        ":2\r\n"
    );
    assert_eq!(
        raw.cmd(&["ZRANGE", "dst2", "0", "-1", "WITHSCORES"]),
        "*4\r\n$7\r\nPalermo\r\n$1\r\n0\r\n$5\r\nedge1\r\n$18\r\n56.793877369489529\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOPOS", "dst", "edge1"]),
        "*1\r\n*2\r\n$19\r\n12.7584877610206604\r\n$20\r\n38.78813451624225195\r\n"
    );
    // STORE and STOREDIST given twice: the last one wins.
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "a",
            "STOREDIST",
            "b"
        ]),
        ":2\r\n"
    );
    assert_eq!(raw.cmd(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(
        raw.cmd(&["ZRANGE", "b", "0", "-1", "WITHSCORES"]),
        "*4\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"
    );
    // An empty result deletes the destination (of any type).
    assert_eq!(raw.cmd(&["SET", "str", "x"]), "+OK\r\n");
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "1", "km", "STORE", "str"]),
        ":0\r\n"
    );
    assert_eq!(raw.cmd(&["EXISTS", "str"]), ":0\r\n");
    assert_eq!(raw.cmd(&["SET", "str", "x"]), "+OK\r\n");
    assert_eq!(
        raw.cmd(&["GEORADIUS", "nokey", "15", "37", "1", "km", "STORE", "str"]),
        ":0\r\n"
    );
    assert_eq!(raw.cmd(&["EXISTS", "str"]), ":0\r\n");
    assert_eq!(raw.cmd(&["SET", "str", "x"]), "+OK\r\n");
    assert_eq!(
        raw.cmd(&[
            "GEORADIUSBYMEMBER",
            "nokey",
            "nomember",
            "1",
            "km",
            "STORE",
            "str"
        ]),
        ":0\r\n"
    );
    assert_eq!(raw.cmd(&["EXISTS", "str"]), ":0\r\n");
    // A string destination is replaced.
    assert_eq!(raw.cmd(&["SET", "str", "x"]), "+OK\r\n");
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "str"
        ]),
        ":2\r\n"
    );
    assert_eq!(raw.cmd(&["TYPE", "str"]), "+zset\r\n");
    // GEOSEARCHSTORE.
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCHSTORE",
            "gs",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "ASC",
            "COUNT",
            "3"
        ]),
        ":3\r\n"
    );
    assert_eq!(
        raw.cmd(&["ZRANGE", "gs", "0", "-1", "WITHSCORES"]),
        "*6\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n$5\r\nedge2\r\n$16\r\n3481342659049484\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCHSTORE",
            "gs",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "ASC",
            "COUNT",
            "3",
            "STOREDIST"
        ]),
        ":3\r\n"
    );
    assert_eq!(
        raw.cmd(&["ZRANGE", "gs", "0", "-1", "WITHSCORES"]),
        "*6\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n$5\r\nedge2\r\n$17\r\n279.7403417843143\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCHSTORE",
            "gs",
            "Sicily",
            "FROMMEMBER",
            "edge2",
            "BYRADIUS",
            "100",
            "km",
            "STOREDIST"
        ]),
        ":1\r\n"
    );
    assert_eq!(
        raw.cmd(&["ZRANGE", "gs", "0", "-1", "WITHSCORES"]),
        "*2\r\n$5\r\nedge2\r\n$1\r\n0\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCHSTORE",
            "gs",
            "Sicily",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km"
        ]),
        ":0\r\n"
    );
    assert_eq!(raw.cmd(&["EXISTS", "gs"]), ":0\r\n");
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCHSTORE",
            "gs",
            "nokey",
            "FROMMEMBER",
            "x",
            "BYRADIUS",
            "1",
            "km"
        ]),
        ":0\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCHSTORE",
            "Sicily",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "100",
            "km",
            "STOREDIST"
        ]),
        ":2\r\n"
    );
    assert_eq!(
        raw.cmd(&["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"]),
        "*4\r\n$7\r\nPalermo\r\n$1\r\n0\r\n$5\r\nedge1\r\n$18\r\n91.400658605814272\r\n"
    );
}

#[test]
fn errors_match_redis() {
    let s = Server::start();
    let mut raw = s.raw();
    assert_eq!(
        raw.cmd(&[
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania"
        ]),
        ":2\r\n"
    );
    assert_eq!(raw.cmd(&["SET", "str", "x"]), "+OK\r\n");
    // GEOADD: option and coordinate errors; nothing is written on error.
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "nx", "xx", "1", "2", "a"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "nx", "1", "2"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "gt", "1", "2", "a"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "1", "2", "a", "x", "y", "b"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "1", "2", "a", "200", "1", "b"]),
        "-ERR invalid longitude,latitude pair 200.000000,1.000000\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "1", "85.06", "a"]),
        "-ERR invalid longitude,latitude pair 1.000000,85.060000\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "-180.0001", "1", "a"]),
        "-ERR invalid longitude,latitude pair -180.000100,1.000000\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "inf", "1", "a"]),
        "-ERR invalid longitude,latitude pair inf,1.000000\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "1e400", "1", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", " 1", "1", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "nan", "1", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(raw.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "1", "2"]),
        "-ERR wrong number of arguments for 'geoadd' command\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k"]),
        "-ERR wrong number of arguments for 'geoadd' command\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "str", "1", "2", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOADD", "k", "nx", "ch", "ch"]),
        "-ERR syntax error\r\n"
    );
    // GEODIST.
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "kmx"]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "km", "x"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "nokey", "Palermo", "Catania", "kmx"]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "str", "Palermo", "Catania"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo"]),
        "-ERR wrong number of arguments for 'geodist' command\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOHASH", "str", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOHASH"]),
        "-ERR wrong number of arguments for 'geohash' command\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOPOS", "str", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOPOS"]),
        "-ERR wrong number of arguments for 'geopos' command\r\n"
    );
    // Search argument errors, in Redis's order of checking.
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "bybox",
            "a",
            "10",
            "km"
        ]),
        "-ERR need numeric width\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "bybox",
            "10",
            "a",
            "km"
        ]),
        "-ERR need numeric height\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "bybox",
            "-1",
            "10",
            "km"
        ]),
        "-ERR height or width cannot be negative\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "bybox",
            "10",
            "-1",
            "km"
        ]),
        "-ERR height or width cannot be negative\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "bybox",
            "10",
            "10",
            "kmx"
        ]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "a",
            "km"
        ]),
        "-ERR need numeric radius\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "-1",
            "km"
        ]),
        "-ERR radius cannot be negative\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "kmz"
        ]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "nope",
            "byradius",
            "1",
            "km"
        ]),
        "-ERR could not decode requested zset member\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOSEARCH", "Sicily", "byradius", "1", "km"]),
        "-ERR wrong number of arguments for 'geosearch' command\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOsearch",
            "Sicily",
            "byradius",
            "1",
            "km",
            "asc",
            "withdist"
        ]),
        "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOsearch\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOsearch",
            "Sicily",
            "frommember",
            "Palermo",
            "asc",
            "withdist",
            "withhash"
        ]),
        "-ERR exactly one of BYRADIUS and BYBOX can be specified for GEOsearch\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOSEARCH", "Sicily", "frommember", "Palermo"]),
        "-ERR wrong number of arguments for 'geosearch' command\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km",
            "any"
        ]),
        "-ERR the ANY argument requires COUNT argument\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km",
            "count",
            "0"
        ]),
        "-ERR COUNT must be > 0\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km",
            "count",
            "-3"
        ]),
        "-ERR COUNT must be > 0\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km",
            "count",
            "x"
        ]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km",
            "count"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km",
            "store",
            "x"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km",
            "storedist"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "frommember",
            "Palermo",
            "fromlonlat",
            "1",
            "2",
            "byradius",
            "1",
            "km"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "fromlonlat",
            "1",
            "2",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "fromlonlat",
            "1",
            "2",
            "byradius",
            "1",
            "km",
            "bybox",
            "1",
            "1",
            "km"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "fromlonlat",
            "1",
            "200",
            "byradius",
            "1",
            "km"
        ]),
        "-ERR invalid longitude,latitude pair 1.000000,200.000000\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "fromlonlat",
            "x",
            "2",
            "byradius",
            "1",
            "km"
        ]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "str",
            "fromlonlat",
            "x",
            "2",
            "byradius",
            "1",
            "km"
        ]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "nokey",
            "fromlonlat",
            "x",
            "2",
            "byradius",
            "1",
            "km"
        ]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "nokey",
            "frommember",
            "zz",
            "byradius",
            "1",
            "km",
            "any"
        ]),
        "-ERR the ANY argument requires COUNT argument\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "nokey",
            "frommember",
            "zz",
            "byradius",
            "1",
            "km",
            "withdist"
        ]),
        "*0\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "fromlonlat",
            "15",
            "37",
            "bybox",
            "1",
            "1",
            "km",
            "extra"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCHSTORE",
            "dst",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km",
            "withdist"
        ]),
        "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCHSTORE",
            "dst",
            "Sicily",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km",
            "store",
            "x"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCHSTORE",
            "dst",
            "str",
            "frommember",
            "Palermo",
            "byradius",
            "1",
            "km"
        ]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEOSEARCHSTORE", "dst", "Sicily", "frommember", "Palermo"]),
        "-ERR wrong number of arguments for 'geosearchstore' command\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "store"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "store", "d", "withdist"]),
        "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "withhash", "storedist", "d"]),
        "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS_RO",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "store",
            "d"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUSBYMEMBER_RO",
            "Sicily",
            "Palermo",
            "200",
            "km",
            "storedist",
            "d"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "frommember",
            "x"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "bybox",
            "1",
            "1",
            "km"
        ]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "-200", "km"]),
        "-ERR radius cannot be negative\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "x", "km"]),
        "-ERR need numeric radius\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "kmx"]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "97", "200", "km"]),
        "-ERR invalid longitude,latitude pair 15.000000,97.000000\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "x", "37", "200", "km"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "str", "15", "37", "200", "km"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200"]),
        "-ERR wrong number of arguments for 'georadius' command\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER", "Sicily", "nope", "200", "km"]),
        "-ERR could not decode requested zset member\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER", "nokey", "nope", "200", "kmx"]),
        "*0\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER", "nokey", "nope", "x", "km"]),
        "*0\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER", "nokey", "nope", "200", "km", "bad"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER", "Sicily", "nope", "200", "km", "bad"]),
        "-ERR could not decode requested zset member\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "bad"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER", "str", "nope", "200", "km", "bad"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200"]),
        "-ERR wrong number of arguments for 'georadiusbymember' command\r\n"
    );
}

#[test]
fn resp3_coordinates_are_doubles() {
    let s = Server::start();
    let mut raw = s.raw();
    assert_eq!(
        raw.cmd(&[
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania"
        ]),
        ":2\r\n"
    );
    raw.cmd(&["HELLO", "3"]);
    assert_eq!(
        raw.cmd(&["GEOPOS", "Sicily", "Palermo", "nope"]),
        "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "km"]),
        "$8\r\n166.2742\r\n"
    );
    assert_eq!(raw.cmd(&["GEODIST", "Sicily", "Palermo", "nope"]), "_\r\n");
    assert_eq!(
        raw.cmd(&["GEOHASH", "Sicily", "Catania", "nope"]),
        "*2\r\n$11\r\nsqdtr74hyu0\r\n_\r\n"
    );
    assert_eq!(
        raw.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHHASH", "WITHCOORD", "ASC"]),
        "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "10",
            "km",
            "WITHCOORD"
        ]),
        "*1\r\n*2\r\n$7\r\nPalermo\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "GEOSEARCH",
            "nokey",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "10",
            "km",
            "WITHCOORD"
        ]),
        "*0\r\n"
    );
}

/// Runs a command given as raw byte arguments, returning its value.
fn qb<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&[u8]]) -> T {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap()
}

#[test]
fn binary_members_expiry_and_emptied_keys() {
    let s = Server::start();
    let mut c = s.client();
    let odd: &[u8] = b"a\0b\r\nc";
    assert_eq!(
        qb::<i64>(
            &mut c,
            &[
                b"GEOADD",
                b"bk",
                b"13.361389",
                b"38.115556",
                odd,
                b"15.087269",
                b"37.502669",
                b"plain"
            ]
        ),
        2
    );
    let found: Vec<Vec<u8>> = qb(
        &mut c,
        &[b"GEORADIUS", b"bk", b"13.3", b"38.1", b"50", b"km"],
    );
    assert_eq!(found, vec![odd.to_vec()]);
    let hashes: Vec<Option<String>> = qb(&mut c, &[b"GEOHASH", b"bk", odd]);
    assert_eq!(hashes, vec![Some("sqc8b49rny0".to_string())]);
    let d: String = qb(&mut c, &[b"GEODIST", b"bk", odd, b"plain", b"km"]);
    assert_eq!(d, "166.2742");

    // Removing every member removes the key.
    assert_eq!(qb::<i64>(&mut c, &[b"ZREM", b"bk", odd, b"plain"]), 2);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "bk"]), 0);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["GEORADIUS", "bk", "13", "38", "500", "km"]),
        Vec::<String>::new()
    );

    // An expired key reads as missing.
    assert_eq!(
        q::<i64>(
            &mut c,
            &["GEOADD", "ek", "13.361389", "38.115556", "Palermo"]
        ),
        1
    );
    assert_eq!(q::<i64>(&mut c, &["PEXPIRE", "ek", "50"]), 1);
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert_eq!(
        q::<Vec<Option<Vec<f64>>>>(&mut c, &["GEOPOS", "ek", "Palermo"]),
        vec![None]
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["GEODIST", "ek", "Palermo", "Palermo"]),
        None
    );
    assert_eq!(
        q::<Vec<String>>(
            &mut c,
            &[
                "GEOSEARCH",
                "ek",
                "FROMLONLAT",
                "13",
                "38",
                "BYRADIUS",
                "500",
                "km"
            ]
        ),
        Vec::<String>::new()
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "ek"]), 0);
    // Re-created after expiry: only the new member exists.
    assert_eq!(
        q::<i64>(
            &mut c,
            &["GEOADD", "ek", "15.087269", "37.502669", "Catania"]
        ),
        1
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZRANGE", "ek", "0", "-1"]),
        vec!["Catania"]
    );
    assert_eq!(q::<i64>(&mut c, &["TTL", "ek"]), -1);

    // STORE writes a plain zset without the source's TTL.
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "ek", "100"]), 1);
    assert_eq!(
        q::<i64>(
            &mut c,
            &["GEORADIUS", "ek", "15", "37", "100", "km", "STORE", "copy"]
        ),
        1
    );
    assert_eq!(q::<i64>(&mut c, &["TTL", "copy"]), -1);
    assert!(q_err(
        &mut c,
        &[
            "GEOSEARCHSTORE",
            "copy",
            "ek",
            "FROMMEMBER",
            "x",
            "BYRADIUS",
            "1",
            "m"
        ]
    )
    .starts_with("ERR could not decode"));
}

#[test]
fn whole_world_search_returns_each_member_once() {
    let s = Server::start();
    let mut c = s.client();
    let mut n = 0;
    for lon in (-175..=175).step_by(35) {
        for lat in (-80..=80).step_by(20) {
            let m = format!("p{lon}_{lat}");
            let added: i64 = q(
                &mut c,
                &["GEOADD", "world", &lon.to_string(), &lat.to_string(), &m],
            );
            assert_eq!(added, 1);
            n += 1;
        }
    }
    for (lon, lat) in [("0", "0"), ("179", "84"), ("-179.5", "-85"), ("90", "10")] {
        let all: Vec<String> = q(
            &mut c,
            &[
                "GEOSEARCH",
                "world",
                "FROMLONLAT",
                lon,
                lat,
                "BYRADIUS",
                "40000",
                "km",
            ],
        );
        let mut uniq = all.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), all.len(), "duplicates from ({lon}, {lat})");
        assert_eq!(all.len(), n, "search from ({lon}, {lat})");
    }
    // Ordered by distance, and COUNT keeps the nearest.
    let near: Vec<(String, String)> = q(
        &mut c,
        &[
            "GEOSEARCH",
            "world",
            "FROMLONLAT",
            "3.3",
            "1.7",
            "BYRADIUS",
            "40000",
            "km",
            "WITHDIST",
            "ASC",
        ],
    );
    let d: Vec<f64> = near.iter().map(|(_, d)| d.parse().unwrap()).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]));
    let top: Vec<String> = q(
        &mut c,
        &[
            "GEOSEARCH",
            "world",
            "FROMLONLAT",
            "3.3",
            "1.7",
            "BYRADIUS",
            "40000",
            "km",
            "COUNT",
            "5",
        ],
    );
    let first5: Vec<String> = near.iter().take(5).map(|(m, _)| m.clone()).collect();
    assert_eq!(top, first5);
    let far: Vec<String> = q(
        &mut c,
        &[
            "GEOSEARCH",
            "world",
            "FROMLONLAT",
            "3.3",
            "1.7",
            "BYRADIUS",
            "40000",
            "km",
            "COUNT",
            "3",
            "DESC",
        ],
    );
    let last3: Vec<String> = near.iter().rev().take(3).map(|(m, _)| m.clone()).collect();
    assert_eq!(far, last3);
}

#[test]
fn big_set_searches_match_brute_force() {
    let s = Server::start();
    let mut c = s.client();
    // 20,000 points on a 200 x 100 grid with 0.001 degree steps.
    for row in 0..100 {
        let mut cmd = redis::cmd("GEOADD");
        cmd.arg("grid");
        for col in 0..200 {
            let lon = 10.0 + col as f64 * 0.001;
            let lat = 45.0 + row as f64 * 0.001;
            cmd.arg(lon).arg(lat).arg(format!("{col}:{row}"));
        }
        let added: i64 = cmd.query(&mut c).unwrap();
        assert_eq!(added, 200);
    }
    assert_eq!(q::<i64>(&mut c, &["ZCARD", "grid"]), 20_000);
    // Every stored position, from one whole-set search.
    let all: Vec<(String, (f64, f64))> = q(
        &mut c,
        &[
            "GEOSEARCH",
            "grid",
            "FROMLONLAT",
            "10.1",
            "45.05",
            "BYRADIUS",
            "100",
            "km",
            "WITHCOORD",
        ],
    );
    assert_eq!(all.len(), 20_000);

    let cases: &[(f64, f64, f64)] = &[
        (10.05, 45.02, 333.3),
        (10.1999, 45.0999, 1234.5),
        (10.0, 45.0, 77.7),
        (10.12345, 45.0567, 2500.0),
    ];
    for &(lon, lat, radius) in cases {
        let got: Vec<(String, String)> = q(
            &mut c,
            &[
                "GEOSEARCH",
                "grid",
                "FROMLONLAT",
                &lon.to_string(),
                &lat.to_string(),
                "BYRADIUS",
                &radius.to_string(),
                "m",
                "WITHDIST",
                "ASC",
            ],
        );
        let mut want: Vec<(f64, &str)> = all
            .iter()
            .map(|(m, (x, y))| (haversine(lon, lat, *x, *y), m.as_str()))
            .filter(|(d, _)| *d <= radius)
            .collect();
        want.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(!want.is_empty());
        assert_eq!(
            got.len(),
            want.len(),
            "radius {radius} around ({lon}, {lat})"
        );
        for ((gm, gd), (wd, _)) in got.iter().zip(&want) {
            let gd: f64 = gd.parse().unwrap();
            assert!((gd - wd).abs() < 0.0001, "{gm}: {gd} vs {wd}");
        }
        let got_set: std::collections::BTreeSet<&str> =
            got.iter().map(|(m, _)| m.as_str()).collect();
        let want_set: std::collections::BTreeSet<&str> = want.iter().map(|(_, m)| *m).collect();
        assert_eq!(got_set, want_set);
    }
    // A box: points within half the width east-west and half the height
    // north-south.
    let (lon, lat, w, h) = (10.08, 45.04, 1500.0, 600.0);
    let got: Vec<String> = q(
        &mut c,
        &[
            "GEOSEARCH",
            "grid",
            "FROMLONLAT",
            "10.08",
            "45.04",
            "BYBOX",
            "1.5",
            "0.6",
            "km",
        ],
    );
    let r = std::f64::consts::PI / 180.0;
    let want: std::collections::BTreeSet<&str> = all
        .iter()
        .filter(|(_, (x, y))| {
            6372797.560856 * (y * r - lat * r).abs() <= h / 2.0
                && haversine(*x, *y, lon, *y) <= w / 2.0
        })
        .map(|(m, _)| m.as_str())
        .collect();
    let got_set: std::collections::BTreeSet<&str> = got.iter().map(|m| m.as_str()).collect();
    assert_eq!(got_set.len(), got.len());
    assert_eq!(got_set, want);
    // COUNT n ANY stops after n matches; STORE of a big result reads back.
    let any: Vec<String> = q(
        &mut c,
        &[
            "GEOSEARCH",
            "grid",
            "FROMLONLAT",
            "10.1",
            "45.05",
            "BYRADIUS",
            "10",
            "km",
            "COUNT",
            "7",
            "ANY",
        ],
    );
    assert_eq!(any.len(), 7);
    let stored: i64 = q(
        &mut c,
        &[
            "GEOSEARCHSTORE",
            "copy",
            "grid",
            "FROMLONLAT",
            "10.1",
            "45.05",
            "BYRADIUS",
            "100",
            "km",
            "STOREDIST",
        ],
    );
    assert_eq!(stored, 20_000);
    assert_eq!(q::<i64>(&mut c, &["ZCARD", "copy"]), 20_000);
    let nearest: Vec<String> = q(&mut c, &["ZRANGE", "copy", "0", "0"]);
    let first: Vec<String> = q(
        &mut c,
        &[
            "GEOSEARCH",
            "grid",
            "FROMLONLAT",
            "10.1",
            "45.05",
            "BYRADIUS",
            "100",
            "km",
            "COUNT",
            "1",
        ],
    );
    assert_eq!(nearest, first);
}
