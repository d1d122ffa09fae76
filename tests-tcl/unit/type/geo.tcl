# Geo commands (Redis 7.0 behaviour): points are sorted-set members whose
# scores are 52-bit geohashes. Expected values are redis-server's replies.

# Great-circle distance in meters, the formula the servers use.
proc geo_haversine {lon1 lat1 lon2 lat2} {
    set r [expr {acos(-1) / 180.0}]
    set u [expr {sin(($lat2 * $r - $lat1 * $r) / 2.0)}]
    set v [expr {sin(($lon2 * $r - $lon1 * $r) / 2.0)}]
    expr {2.0 * 6372797.560856 * asin(sqrt($u * $u + cos($lat1 * $r) * cos($lat2 * $r) * $v * $v))}
}

proc geo_sicily {} {
    r del Sicily
    r geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania \
        12.758489 38.788135 edge1 17.241510 38.788135 edge2
}

start_server {tags {geo}} {

    # ---- GEOADD / GEOPOS / GEOHASH / GEODIST -------------------------------

    test "GEOADD stores geohash scores in a plain sorted set" {
        r flushall
        assert_equal 2 [r geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania]
        assert_equal zset [r type Sicily]
        assert_equal {Palermo 3479099956230698 Catania 3479447370796909} [r zrange Sicily 0 -1 withscores]
        assert_equal 3479099956230698 [r zscore Sicily Palermo]
        assert_equal 0 [r geoadd Sicily 13.361389 38.115556 Palermo]
    }

    test "GEOPOS returns the decoded cell centers and nil for missing members" {
        assert_equal {{13.36138933897018433 38.11555639549629859} {15.08726745843887329 37.50266842333162032} {}} \
            [r geopos Sicily Palermo Catania nope]
        assert_equal {{}} [r geopos nokey a]
        assert_equal {} [r geopos Sicily]
    }

    test "GEOHASH returns 11-character standard geohashes" {
        assert_equal {sqc8b49rny0 sqdtr74hyu0 {}} [r geohash Sicily Palermo Catania nope]
        assert_equal {{} {}} [r geohash nokey a b]
    }

    test "GEODIST in every unit, 4 decimals" {
        assert_equal 166274.1516 [r geodist Sicily Palermo Catania]
        assert_equal 166274.1516 [r geodist Sicily Palermo Catania m]
        assert_equal 166.2742 [r geodist Sicily Palermo Catania KM]
        assert_equal 103.3182 [r geodist Sicily Palermo Catania mi]
        assert_equal 545518.8700 [r geodist Sicily Palermo Catania ft]
        assert_equal 0.0000 [r geodist Sicily Palermo Palermo]
        assert_equal {} [r geodist Sicily Palermo nope]
        assert_equal {} [r geodist nokey Palermo Catania]
    }

    test "GEOADD NX XX CH" {
        assert_equal 1 [r geoadd Sicily NX 13.361389 38.115556 Palermo 12.758489 38.788135 edge1]
        assert_equal 0 [r geoadd Sicily XX 17.241510 38.788135 edge2 15.087269 37.502669 Catania]
        assert_equal 0 [r exists nokey]
        assert_equal 1 [r geoadd Sicily XX CH 15.087269 37.5 Catania]
        assert_equal 2 [r geoadd Sicily ch 15.087269 37.502669 Catania 17.241510 38.788135 edge2]
        assert_equal 4 [r zcard Sicily]
        assert_equal 0 [r geoadd nokey XX 1 2 a]
        assert_equal 0 [r exists nokey]
    }

    test "Coordinates on the limits of the map" {
        r del limits
        assert_equal 3 [r geoadd limits -180 -85.05112878 sw 180 85.05112878 ne 0 0 zero]
        assert_equal {sw 0 zero 3377699720527872 ne 13510798882111488} [r zrange limits 0 -1 withscores]
        assert_equal {{-179.99999731779098511 -85.05112751263942528} {180 85.0511287799999991} {0.00000268220901489 0.00000126736058093}} \
            [r geopos limits sw ne zero]
        assert_equal {00bh0hbj200 bp05b5048p0 s0000000000} [r geohash limits sw ne zero]
        assert_equal 18919.8446 [r geodist limits sw ne km]
    }

    test "GEOADD errors and nothing written on error" {
        assert_error "ERR syntax error" {r geoadd k nx xx 1 2 a}
        assert_error "ERR syntax error" {r geoadd k nx 1 2}
        assert_error "ERR syntax error" {r geoadd k gt 1 2 a}
        assert_error "ERR value is not a valid float" {r geoadd k 1 2 a x y b}
        assert_error "ERR invalid longitude,latitude pair 200.000000,1.000000" {r geoadd k 1 2 a 200 1 b}
        assert_error "ERR invalid longitude,latitude pair 1.000000,85.060000" {r geoadd k 1 85.06 a}
        assert_error "ERR invalid longitude,latitude pair inf,1.000000" {r geoadd k inf 1 a}
        assert_error "ERR value is not a valid float" {r geoadd k nan 1 a}
        assert_equal 0 [r exists k]
        assert_error "ERR wrong number of arguments for 'geoadd' command" {r geoadd k 1 2}
        r set str x
        assert_error "WRONGTYPE*" {r geoadd str 1 2 a}
        assert_error "WRONGTYPE*" {r geopos str a}
        assert_error "WRONGTYPE*" {r geohash str a}
        assert_error "WRONGTYPE*" {r geodist str a b}
        assert_error "WRONGTYPE*" {r georadius str 15 37 200 km}
        assert_error "WRONGTYPE*" {r geosearch str fromlonlat 15 37 byradius 1 km}
        assert_error "ERR unsupported unit provided. please use M, KM, FT, MI" {r geodist Sicily Palermo Catania kmx}
        assert_error "ERR syntax error" {r geodist Sicily Palermo Catania km x}
    }

    # ---- GEORADIUS / GEORADIUSBYMEMBER -------------------------------------

    test "GEORADIUS plain and with options" {
        geo_sicily
        assert_equal {Palermo Catania} [r georadius Sicily 15 37 200 km]
        assert_equal {{Palermo 190.4424} {Catania 56.4413}} [r georadius Sicily 15 37 200 km withdist]
        assert_equal {{Palermo 3479099956230698} {Catania 3479447370796909}} [r georadius Sicily 15 37 200 km withhash]
        assert_equal {{Palermo {13.36138933897018433 38.11555639549629859}} {Catania {15.08726745843887329 37.50266842333162032}}} \
            [r georadius Sicily 15 37 200 km withcoord]
        assert_equal {{Palermo 190.4424 3479099956230698 {13.36138933897018433 38.11555639549629859}} {Catania 56.4413 3479447370796909 {15.08726745843887329 37.50266842333162032}}} \
            [r georadius Sicily 15 37 200 km withhash withcoord withdist]
    }

    test "GEORADIUS ASC DESC COUNT ANY" {
        assert_equal {Catania Palermo} [r georadius Sicily 15 37 200 km asc]
        assert_equal {Palermo Catania} [r georadius Sicily 15 37 200 km desc]
        assert_equal {{edge1 279.7405} {edge2 279.7403} {Palermo 190.4424} {Catania 56.4413}} \
            [r georadius Sicily 15 37 300 km desc withdist]
        assert_equal {Catania Palermo} [r georadius Sicily 15 37 300 km count 2]
        assert_equal {edge1 edge2} [r georadius Sicily 15 37 300 km count 2 desc]
        assert_equal {Palermo} [r georadius Sicily 15 37 300 km count 1 any]
        assert_equal {{Catania 56.4413} {Palermo 190.4424} {edge1 279.7405}} \
            [r georadius Sicily 15 37 300 km count 3 any asc withdist]
        assert_equal {Catania} [r georadius Sicily 15 37 300 km count 2 count 1]
        assert_equal {} [r georadius Sicily 15 37 1 km]
        assert_equal {} [r georadius nokey 15 37 200 km]
    }

    test "GEORADIUS in m, mi and ft" {
        assert_equal {{Palermo 190442.4298} {Catania 56441.2579}} [r georadius Sicily 15 37 200000 m withdist]
        assert_equal {{Catania 35.0711} {Palermo 118.3357}} [r georadius Sicily 15 37 124.3 mi withdist asc]
        assert_equal {{Catania 185174.7305} {Palermo 624811.1215}} [r georadius Sicily 15 37 656168 ft withdist asc]
    }

    test "GEORADIUSBYMEMBER and the _RO variants" {
        assert_equal {{Palermo 0.0000} {edge1 91.4007} {Catania 166.2742}} \
            [r georadiusbymember Sicily Palermo 200 km withdist asc]
        assert_equal {{Palermo 0.0000}} [r georadiusbymember Sicily Palermo 0 km withdist]
        assert_equal {{Catania 56.4413} {Palermo 190.4424}} [r georadius_ro Sicily 15 37 200 km withdist asc]
        assert_equal {edge2 Catania Palermo edge1} [r georadiusbymember_ro Sicily edge1 400 km desc]
        assert_equal {} [r georadiusbymember nokey Palermo 200 km]
        assert_error "ERR could not decode requested zset member" {r georadiusbymember Sicily nope 200 km}
        assert_error "ERR syntax error" {r georadius_ro Sicily 15 37 200 km store d}
        assert_error "ERR syntax error" {r georadiusbymember_ro Sicily Palermo 200 km storedist d}
    }

    test "GEORADIUS argument errors" {
        assert_error "ERR radius cannot be negative" {r georadius Sicily 15 37 -200 km}
        assert_error "ERR need numeric radius" {r georadius Sicily 15 37 x km}
        assert_error "ERR unsupported unit provided. please use M, KM, FT, MI" {r georadius Sicily 15 37 200 kmx}
        assert_error "ERR invalid longitude,latitude pair 15.000000,97.000000" {r georadius Sicily 15 97 200 km}
        assert_error "ERR syntax error" {r georadius Sicily 15 37 200 km store}
        assert_error "ERR syntax error" {r georadius Sicily 15 37 200 km frommember x}
        assert_error "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options" \
            {r georadius Sicily 15 37 200 km store d withdist}
        assert_error "ERR the ANY argument requires COUNT argument" {r georadius Sicily 15 37 200 km any}
        assert_error "ERR COUNT must be > 0" {r georadius Sicily 15 37 200 km count 0}
        assert_error "ERR value is not an integer or out of range" {r georadius Sicily 15 37 200 km count x}
        assert_error "ERR wrong number of arguments for 'georadius' command" {r georadius Sicily 15 37 200}
        # A missing key skips the member and radius checks.
        assert_equal {} [r georadiusbymember nokey nope x km]
        assert_error "ERR syntax error" {r georadiusbymember nokey nope 200 km bad}
    }

    # ---- GEOSEARCH ---------------------------------------------------------

    test "GEOSEARCH BYBOX and BYRADIUS from a point or a member" {
        assert_equal {{Catania 56.4413 {15.08726745843887329 37.50266842333162032}} {Palermo 190.4424 {13.36138933897018433 38.11555639549629859}} {edge2 279.7403 {17.24151045083999634 38.78813451624225195}} {edge1 279.7405 {12.7584877610206604 38.78813451624225195}}} \
            [r geosearch Sicily fromlonlat 15 37 bybox 400 400 km asc withcoord withdist]
        assert_equal {{edge1 3479273021651468} {edge2 3481342659049484} {Palermo 3479099956230698} {Catania 3479447370796909}} \
            [r geosearch Sicily fromlonlat 15 37 bybox 400 400 km desc withhash]
        assert_equal {Catania} [r geosearch Sicily fromlonlat 15 37 bybox 200 200 km asc]
        assert_equal {} [r geosearch Sicily fromlonlat 15 37 bybox 400 100 km asc]
        assert_equal {Catania} [r geosearch Sicily fromlonlat 15 37 bybox 100 400 km asc]
        assert_equal {Catania Palermo} [r geosearch Sicily fromlonlat 15 37 byradius 200 km asc]
        assert_equal {{Catania 166.2742} {edge1 91.4007} {Palermo 0.0000}} \
            [r geosearch Sicily frommember Palermo byradius 200 km withdist desc]
        assert_equal {{Palermo 0.0000} {edge1 56.7939}} \
            [r geosearch Sicily frommember Palermo bybox 400 400 mi withdist asc count 2]
        assert_equal {Palermo edge1} [r geosearch Sicily frommember Catania byradius 300 km count 2 any]
        assert_equal {Catania Palermo edge2 edge1} [r geosearch Sicily byradius 300 km frommember Catania asc]
        assert_equal {} [r geosearch nokey frommember Catania byradius 300 km]
    }

    test "GEOSEARCH argument errors" {
        assert_error "ERR need numeric width" {r geosearch Sicily frommember Palermo bybox a 10 km}
        assert_error "ERR need numeric height" {r geosearch Sicily frommember Palermo bybox 10 a km}
        assert_error "ERR height or width cannot be negative" {r geosearch Sicily frommember Palermo bybox -1 10 km}
        assert_error "ERR could not decode requested zset member" {r geosearch Sicily frommember nope byradius 1 km}
        assert_error "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch" \
            {r geosearch Sicily byradius 1 km asc withdist}
        assert_error "ERR exactly one of BYRADIUS and BYBOX can be specified for GEOsearch" \
            {r GEOsearch Sicily frommember Palermo asc withdist withhash}
        assert_error "ERR syntax error" {r geosearch Sicily frommember Palermo fromlonlat 1 2 byradius 1 km}
        assert_error "ERR syntax error" {r geosearch Sicily fromlonlat 1 2 byradius 1 km bybox 1 1 km}
        assert_error "ERR syntax error" {r geosearch Sicily frommember Palermo byradius 1 km store x}
        assert_error "ERR syntax error" {r geosearch Sicily frommember Palermo byradius 1 km storedist}
        assert_error "ERR the ANY argument requires COUNT argument" {r geosearch nokey frommember zz byradius 1 km any}
        assert_error "ERR wrong number of arguments for 'geosearch' command" {r geosearch Sicily frommember Palermo}
        assert_error "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options" \
            {r geosearchstore dst Sicily frommember Palermo byradius 1 km withdist}
    }

    # ---- STORE / STOREDIST / GEOSEARCHSTORE -------------------------------

    test "GEORADIUS STORE and STOREDIST write sorted sets" {
        assert_equal 2 [r georadius Sicily 15 37 200 km store dst]
        assert_equal {Palermo 3479099956230698 Catania 3479447370796909} [r zrange dst 0 -1 withscores]
        assert_equal 4 [r georadius Sicily 15 37 300 km storedist dst]
        assert_equal {Catania 56.441257870158204 Palermo 190.44242984775784 edge2 279.7403417843143 edge1 279.74045213563431} \
            [r zrange dst 0 -1 withscores]
        assert_equal 1 [r georadius Sicily 15 37 300 km desc count 1 store dst]
        assert_equal {edge1 3479273021651468} [r zrange dst 0 -1 withscores]
        assert_equal 2 [r georadiusbymember Sicily Palermo 100 mi storedist dst2]
        assert_equal {Palermo 0 edge1 56.793877369489529} [r zrange dst2 0 -1 withscores]
    }

    test "An empty STORE result deletes the destination" {
        r set str x
        assert_equal 0 [r georadius Sicily 15 37 1 km store str]
        assert_equal 0 [r exists str]
        r set str x
        assert_equal 0 [r georadius nokey 15 37 1 km store str]
        assert_equal 0 [r exists str]
        r set str x
        assert_equal 2 [r georadius Sicily 15 37 200 km store str]
        assert_equal zset [r type str]
    }

    test "GEOSEARCHSTORE with and without STOREDIST" {
        assert_equal 3 [r geosearchstore gs Sicily fromlonlat 15 37 bybox 400 400 km asc count 3]
        assert_equal {Palermo 3479099956230698 Catania 3479447370796909 edge2 3481342659049484} [r zrange gs 0 -1 withscores]
        assert_equal 3 [r geosearchstore gs Sicily fromlonlat 15 37 bybox 400 400 km asc count 3 storedist]
        assert_equal {Catania 56.441257870158204 Palermo 190.44242984775784 edge2 279.7403417843143} [r zrange gs 0 -1 withscores]
        assert_equal 0 [r geosearchstore gs Sicily fromlonlat 0 0 byradius 1 km]
        assert_equal 0 [r exists gs]
        assert_equal 2 [r geosearchstore Sicily Sicily frommember Palermo byradius 100 km storedist]
        assert_equal {Palermo 0 edge1 91.400658605814272} [r zrange Sicily 0 -1 withscores]
    }

    # ---- Edges, RESP3, binary members, big sets ----------------------------

    test "Searches near the antimeridian and the poles" {
        r del edges
        r geoadd edges 179.99 0 east -179.99 0 west 0 85 north 0 -85 south 179.5 84.9 corner
        assert_equal {{east 1.1125} {west 1.1125}} [r georadius edges -180 0 5 km withdist asc]
        assert_equal {{north 5.5614}} [r geosearch edges fromlonlat 0 85.05 byradius 100 km withdist]
        assert_equal {{corner 12.1522}} [r geosearch edges fromlonlat 180 85 bybox 200 100 km withdist]
        assert_equal {{north 9454.2355} {corner 10577.5995} {south 9454.2355}} \
            [r geosearch edges fromlonlat 0 0 byradius 20000 km withdist]
    }

    test "RESP3 replies coordinates as doubles" {
        r del Sicily
        r geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
        r hello 3
        assert_equal {{13.36138933897018433 38.11555639549629859} {}} [r geopos Sicily Palermo nope]
        assert_equal 166.2742 [r geodist Sicily Palermo Catania km]
        assert_equal {{Catania 56.4413 3479447370796909 {15.08726745843887329 37.50266842333162032}}} \
            [r georadius Sicily 15 37 100 km withdist withhash withcoord]
        r hello 2
    }

    test "Members are binary safe" {
        set m "a\x00b\r\nc"
        r del bk
        assert_equal 1 [r geoadd bk 13.361389 38.115556 $m]
        assert_equal [list $m] [r georadius bk 13.3 38.1 50 km]
        assert_equal sqc8b49rny0 [lindex [r geohash bk $m] 0]
        assert_equal 1 [r zrem bk $m]
        assert_equal 0 [r exists bk]
    }

    test "Expired keys read as missing" {
        r del ek
        r geoadd ek 13.361389 38.115556 Palermo
        r pexpire ek 50
        after 120
        assert_equal {{}} [r geopos ek Palermo]
        assert_equal {} [r georadius ek 13 38 500 km]
        assert_equal 0 [r exists ek]
    }

    test "A 20k member set: searches agree with brute force" {
        r del grid
        for {set row 0} {$row < 100} {incr row} {
            set args {}
            for {set col 0} {$col < 200} {incr col} {
                lappend args [expr {10.0 + $col * 0.001}] [expr {45.0 + $row * 0.001}] "$col:$row"
            }
            r geoadd grid {*}$args
        }
        assert_equal 20000 [r zcard grid]
        set all [r geosearch grid fromlonlat 10.1 45.05 byradius 100 km withcoord]
        assert_equal 20000 [llength $all]
        foreach {lon lat radius} {10.05 45.02 333.3 10.1999 45.0999 1234.5 10.0 45.0 77.7} {
            set want {}
            foreach item $all {
                lassign $item m xy
                lassign $xy x y
                if {[geo_haversine $lon $lat $x $y] <= $radius} { lappend want $m }
            }
            set got [r georadius grid $lon $lat $radius m]
            assert {[llength $want] > 0}
            assert_equal [lsort $want] [lsort $got] "radius $radius around $lon $lat"
        }
        set asc [r geosearch grid fromlonlat 10.05 45.02 byradius 333.3 m withdist asc]
        set prev 0
        foreach item $asc {
            assert {[lindex $item 1] >= $prev}
            set prev [lindex $item 1]
        }
        assert_equal 7 [llength [r geosearch grid fromlonlat 10.1 45.05 byradius 10 km count 7 any]]
        assert_equal 20000 [r geosearchstore copy grid fromlonlat 10.1 45.05 byradius 100 km storedist]
        assert_equal [r geosearch grid fromlonlat 10.1 45.05 byradius 100 km count 1] [r zrange copy 0 0]
    }
}
