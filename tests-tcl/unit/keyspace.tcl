# Keyspace commands (Redis 7 behaviour, string keys only).

# Run a full SCAN iteration with extra arguments; returns every key seen
# (possibly with duplicates) and checks the cursor protocol.
proc scan_all {args} {
    set cursor 0
    set keys {}
    set rounds 0
    while 1 {
        set res [r scan $cursor {*}$args]
        assert_equal 2 [llength $res] "SCAN reply is {cursor keys}"
        set cursor [lindex $res 0]
        lappend keys {*}[lindex $res 1]
        if {$cursor eq "0"} break
        if {[incr rounds] > 100000} { fail "SCAN did not terminate" }
    }
    return $keys
}

start_server {tags {keyspace}} {

    # ---- DEL / UNLINK / EXISTS ---------------------------------------------

    test "DEL of a single key" {
        r flushall
        r set foo bar
        assert_equal 1 [r del foo]
        assert_equal 0 [r exists foo]
        assert_equal 0 [r del foo]
    }

    test "DEL counts only existing keys" {
        r mset a 1 b 2 c 3
        assert_equal 2 [r del a b nokey]
        assert_equal {{} {} 3} [r mget a b c]
    }

    test "DEL with a repeated key counts it once" {
        r set a 1
        assert_equal 1 [r del a a a]
    }

    test "UNLINK counts like DEL" {
        r mset a 1 b 2 c 3
        assert_equal 3 [r unlink a b c nokey]
        assert_equal 0 [r unlink a]
        r set c 1
        assert_equal 1 [r unlink c c]
        assert_equal 0 [r dbsize]
    }

    test "DEL / UNLINK / EXISTS need a key" {
        assert_error "ERR wrong number of arguments for 'del' command" {r del}
        assert_error "ERR wrong number of arguments for 'unlink' command" {r unlink}
        assert_error "ERR wrong number of arguments for 'exists' command" {r exists}
    }

    test "EXISTS counts existing keys" {
        r flushall
        r mset a 1 b 2
        assert_equal 1 [r exists a]
        assert_equal 0 [r exists nokey]
        assert_equal 2 [r exists a b nokey]
    }

    test "EXISTS counts repeated keys each time" {
        assert_equal 3 [r exists a a b]
        assert_equal 4 [r exists a a a a nokey]
    }

    # ---- TYPE --------------------------------------------------------------

    test "TYPE of a string and of a missing key" {
        r set s v
        assert_equal string [r type s]
        assert_equal none [r type no-such-key]
        r set n 12
        r incr n
        assert_equal string [r type n]
    }

    test "TYPE wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'type' command" {r type}
    }

    # ---- KEYS --------------------------------------------------------------

    test "KEYS with * returns every key" {
        r flushall
        foreach k {foo fob fxo bar abc foobar} { r set $k 1 }
        assert_equal [lsort {foo fob fxo bar abc foobar}] [lsort [r keys *]]
    }

    test "KEYS on an empty database" {
        r flushall
        assert_equal {} [r keys *]
    }

    test "KEYS with prefix and suffix patterns" {
        r flushall
        foreach k {foo fob fxo bar abc foobar} { r set $k 1 }
        assert_equal {foo foobar} [lsort [r keys foo*]]
        assert_equal {bar foobar} [lsort [r keys *bar]]
        assert_equal {foo foobar} [lsort [r keys *oo*]]
        assert_equal {} [r keys nomatch*]
        assert_equal {foo} [r keys foo]
    }

    test "KEYS with ?" {
        assert_equal {fob foo fxo} [lsort [r keys f??]]
        assert_equal {fob foo} [lsort [r keys fo?]]
        assert_equal {} [r keys ????????]
    }

    test "KEYS with character classes" {
        assert_equal {foo} [r keys {f[a-o]o}]
        assert_equal {fob foo} [lsort [r keys {fo[bo]}]]
        assert_equal {fxo} [r keys {f[^o]o}]
        assert_equal {abc bar} [lsort [r keys {[ab]*}]]
        assert_equal {abc} [r keys {[a-a]b?}]
    }

    test "KEYS with escaped special characters" {
        r flushall
        foreach k {a*b axb a?c abc {f[o} fxo} { r set $k 1 }
        assert_equal {a*b} [r keys {a\*b}]
        assert_equal {a?c} [r keys {a\?c}]
        assert_equal [list {f[o}] [r keys {f\[o}]
        assert_equal {a*b axb} [lsort [r keys {a*b}]]
    }

    test "KEYS is case sensitive" {
        r flushall
        r set Foo 1
        r set foo 1
        assert_equal {Foo} [r keys F*]
        assert_equal {foo} [r keys f*]
    }

    test "KEYS matches binary keys" {
        r flushall
        r set "k\x00ey" 1
        r set other 1
        assert_equal [list "k\x00ey"] [r keys k*]
    }

    test "KEYS wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'keys' command" {r keys}
    }

    # ---- SCAN --------------------------------------------------------------

    test "SCAN on an empty database" {
        r flushall
        assert_equal {0 {}} [r scan 0]
    }

    test "SCAN returns every key exactly once over a full iteration" {
        r flushall
        set expected {}
        for {set i 0} {$i < 1000} {incr i} {
            r set key:$i $i
            lappend expected key:$i
        }
        set seen [scan_all]
        assert_equal [lsort $expected] [lsort -unique $seen]
        assert_equal 1000 [llength [lsort -unique $seen]]
    }

    test "SCAN with COUNT" {
        foreach count {1 5 100 10000} {
            set seen [lsort -unique [scan_all count $count]]
            assert_equal 1000 [llength $seen] "COUNT $count"
        }
    }

    test "SCAN with a small COUNT needs more than one call" {
        set res [r scan 0 count 10]
        assert_not_equal 0 [lindex $res 0]
        assert_range [llength [lindex $res 1]] 1 100
    }

    test "SCAN with MATCH" {
        r flushall
        for {set i 0} {$i < 200} {incr i} {
            r set a:$i 1
            r set b:$i 1
        }
        set seen [lsort -unique [scan_all match a:*]]
        assert_equal 200 [llength $seen]
        foreach k $seen { assert_match a:* $k }
        set seen [lsort -unique [scan_all match b:1? count 7]]
        assert_equal [lsort [list b:10 b:11 b:12 b:13 b:14 b:15 b:16 b:17 b:18 b:19]] $seen
        assert_equal {} [scan_all match nomatch*]
    }

    test "SCAN with TYPE string" {
        set seen [lsort -unique [scan_all type string count 50]]
        assert_equal 400 [llength $seen]
        assert_equal 400 [llength [lsort -unique [scan_all type STRING]]]
    }

    test "SCAN with MATCH, COUNT and TYPE together" {
        set seen [lsort -unique [scan_all match b:* count 20 type string]]
        assert_equal 200 [llength $seen]
    }

    test "SCAN sees keys that exist for the whole iteration despite concurrent writes" {
        r flushall
        for {set i 0} {$i < 300} {incr i} { r set stable:$i 1 }
        set cursor 0
        set seen {}
        set n 0
        while 1 {
            set res [r scan $cursor count 20]
            set cursor [lindex $res 0]
            lappend seen {*}[lindex $res 1]
            r set volatile:[incr n] 1
            if {$cursor eq "0"} break
        }
        set stable {}
        foreach k [lsort -unique $seen] {
            if {[string match stable:* $k]} { lappend stable $k }
        }
        assert_equal 300 [llength $stable]
    }

    test "SCAN errors" {
        assert_error "ERR invalid cursor" {r scan abc}
        assert_error "ERR syntax error" {r scan 0 count 0}
        assert_error "ERR value is not an integer or out of range" {r scan 0 count abc}
        assert_error "ERR syntax error" {r scan 0 match}
        assert_error "ERR syntax error" {r scan 0 count}
        assert_error "ERR syntax error" {r scan 0 foo bar}
        assert_error "ERR wrong number of arguments for 'scan' command" {r scan}
    }

    # ---- RANDOMKEY / DBSIZE ------------------------------------------------

    test "RANDOMKEY on an empty database is nil" {
        r flushall
        assert_equal {} [r randomkey]
    }

    test "RANDOMKEY returns an existing key" {
        r mset a 1 b 2 c 3
        for {set i 0} {$i < 20} {incr i} {
            assert {[r randomkey] in {a b c}}
        }
        r flushall
        r set only 1
        assert_equal only [r randomkey]
    }

    test "DBSIZE follows SET and DEL" {
        r flushall
        assert_equal 0 [r dbsize]
        r mset a 1 b 2 c 3
        assert_equal 3 [r dbsize]
        r set a 2
        assert_equal 3 [r dbsize]
        r del b
        assert_equal 2 [r dbsize]
    }

    # ---- RENAME / RENAMENX -------------------------------------------------

    test "RENAME moves the value" {
        r flushall
        r set src v
        assert_equal OK [r rename src dst]
        assert_equal 0 [r exists src]
        assert_equal v [r get dst]
    }

    test "RENAME overwrites the destination" {
        r set src new
        r set dst old
        assert_equal OK [r rename src dst]
        assert_equal new [r get dst]
        assert_equal 1 [r dbsize]
    }

    test "RENAME of a missing key" {
        r del src
        assert_error "ERR no such key" {r rename src dst}
    }

    test "RENAME a key to itself" {
        r set same v
        assert_equal OK [r rename same same]
        assert_equal v [r get same]
        r del same
        assert_error "ERR no such key" {r rename same same}
    }

    test "RENAME keeps the TTL" {
        r set src v ex 100
        r rename src dst
        assert_range [r ttl dst] 98 100
    }

    test "RENAME onto a key with TTL takes the source's (missing) TTL" {
        r set src v
        r set dst w ex 100
        r rename src dst
        assert_equal -1 [r ttl dst]
    }

    test "RENAMENX" {
        r flushall
        r set src v
        r set taken w
        assert_equal 0 [r renamenx src taken]
        assert_equal v [r get src]
        assert_equal w [r get taken]
        assert_equal 1 [r renamenx src free]
        assert_equal 0 [r exists src]
        assert_equal v [r get free]
    }

    test "RENAMENX of a missing key and to itself" {
        assert_error "ERR no such key" {r renamenx nosrc dst}
        r set self v
        assert_equal 0 [r renamenx self self]
        assert_equal v [r get self]
    }

    test "RENAME wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'rename' command" {r rename a}
        assert_error "ERR wrong number of arguments for 'renamenx' command" {r renamenx a}
    }

    # ---- COPY --------------------------------------------------------------

    test "COPY to a new key" {
        r flushall
        r set src v
        assert_equal 1 [r copy src dst]
        assert_equal v [r get src]
        assert_equal v [r get dst]
    }

    test "COPY does not overwrite without REPLACE" {
        r set src new
        r set dst old
        assert_equal 0 [r copy src dst]
        assert_equal old [r get dst]
    }

    test "COPY REPLACE overwrites" {
        assert_equal 1 [r copy src dst replace]
        assert_equal new [r get dst]
        assert_equal 1 [r copy src dst REPLACE]
    }

    test "COPY of a missing key" {
        r del nosrc dst2
        assert_equal 0 [r copy nosrc dst2]
        assert_equal 0 [r copy nosrc dst2 replace]
        assert_equal 0 [r exists dst2]
    }

    test "COPY copies the TTL" {
        r set src v ex 100
        r del dst
        assert_equal 1 [r copy src dst]
        assert_range [r ttl dst] 98 100
    }

    test "COPY errors" {
        r set src v
        assert_error "ERR source and destination objects are the same" {r copy src src}
        assert_error "ERR syntax error" {r copy src dst foo}
        assert_error "ERR wrong number of arguments for 'copy' command" {r copy src}
    }

    test "COPY of a binary value is independent from the source" {
        r set src "a\x00b"
        r copy src dst replace
        r append src c
        assert_equal "a\x00b" [r get dst]
        assert_equal "a\x00bc" [r get src]
    }

    # ---- FLUSHDB / FLUSHALL ------------------------------------------------

    test "FLUSHDB removes every key" {
        r mset a 1 b 2 c 3
        assert_equal OK [r flushdb]
        assert_equal 0 [r dbsize]
        assert_equal {} [r keys *]
    }

    test "FLUSHALL removes every key" {
        r mset a 1 b 2 c 3
        r set t v ex 100
        assert_equal OK [r flushall]
        assert_equal 0 [r dbsize]
        assert_equal {} [r get a]
    }

    test "FLUSHDB / FLUSHALL accept SYNC and ASYNC" {
        r set a 1
        assert_equal OK [r flushdb sync]
        r set a 1
        assert_equal OK [r flushdb async]
        wait_for_condition 50 20 {[r dbsize] == 0} { fail "FLUSHDB ASYNC left keys" }
        r set a 1
        assert_equal OK [r flushall sync]
        r set a 1
        assert_equal OK [r flushall async]
        wait_for_condition 50 20 {[r dbsize] == 0} { fail "FLUSHALL ASYNC left keys" }
    }

    test "FLUSHDB / FLUSHALL with a bad argument" {
        assert_error "ERR syntax error" {r flushdb foo}
        assert_error "ERR syntax error" {r flushall foo}
    }

    test "Keys can be written again after FLUSHALL" {
        r set a 1
        r flushall
        r set a 2
        assert_equal 2 [r get a]
        assert_equal 1 [r dbsize]
    }

    # ---- SELECT ------------------------------------------------------------

    test "SELECT 0 and SELECT 5 answer OK" {
        assert_equal OK [r select 0]
        assert_equal OK [r select 5]
        assert_equal OK [r select 0]
    }

    test "SELECT with a non-integer index" {
        assert_error "ERR value is not an integer or out of range" {r select abc}
        assert_error "ERR wrong number of arguments for 'select' command" {r select}
    }

    tags {ferrocks} {
        test "SELECT of any index changes nothing" {
            set c [redis_client]
            $c flushall
            $c set sel v
            assert_equal OK [$c select 5]
            assert_equal v [$c get sel]
            assert_equal 1 [$c dbsize]
            assert_equal OK [$c select 1000]
            assert_equal v [$c get sel]
            $c set sel2 w
            assert_equal OK [$c select 0]
            assert_equal w [$c get sel2]
            $c close
        }
    }
}
