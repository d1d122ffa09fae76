# HyperLogLog commands (Redis 7 behaviour): PFADD PFCOUNT PFMERGE. The
# counts are those redis-server 7.0 gives for the same elements: ferrocks
# uses the same hash, registers and estimator.

# PFADDs prefix$from .. prefix$($to-1) to key, 1000 elements per command.
proc pf_add_range {key prefix from to} {
    set cmds {}
    for {set s $from} {$s < $to} {incr s 1000} {
        set cmd [list pfadd $key]
        for {set i $s} {$i < min($to, $s + 1000)} {incr i} { lappend cmd $prefix$i }
        lappend cmds $cmd
    }
    r pipeline $cmds
}

start_server {tags {hll}} {

    test "PFADD returns 1 only when a register changes" {
        r flushall
        assert_equal 1 [r pfadd k a b c]
        assert_equal 0 [r pfadd k a b]
        assert_equal 1 [r pfadd k a d]
        assert_equal 4 [r pfcount k]
        assert_equal string [r type k]
    }

    test "PFADD without elements creates an empty key once" {
        assert_equal 1 [r pfadd empty]
        assert_equal 0 [r pfadd empty]
        assert_equal 1 [r exists empty]
        assert_equal 0 [r pfcount empty]
    }

    test "PFCOUNT of missing keys is 0" {
        assert_equal 0 [r pfcount nokey]
        assert_equal 0 [r pfcount nokey nokey2]
    }

    test "Elements are binary safe" {
        assert_equal 1 [r pfadd bin "a\x00b" "a\r\nb" ""]
        assert_equal 3 [r pfcount bin]
    }

    test "PFCOUNT equals redis-server's on 1k 10k 100k elements" {
        foreach {n want} {1000 1008 10000 9973 100000 100853} {
            pf_add_range h$n e 0 $n
            assert_equal $want [r pfcount h$n]
        }
        assert_equal 100853 [r pfcount h1000 h10000 h100000 nokey]
    }

    test "PFCOUNT stays within 2% on 100k elements" {
        set got [r pfcount h100000]
        assert_range $got 98000 102000
    }

    test "PFMERGE unions its sources into the destination" {
        pf_add_range a e 0 600
        pf_add_range b e 400 1000
        assert_equal 606 [r pfcount a]
        assert_equal OK [r pfmerge u a b nokey]
        assert_equal 1008 [r pfcount u]
        assert_equal 1008 [r pfcount a b]
        assert_equal 606 [r pfcount a]
    }

    test "PFMERGE keeps the destination's registers and TTL" {
        pf_add_range d e 1000 10000
        r expire d 1000
        assert_equal OK [r pfmerge d u]
        assert_equal 9973 [r pfcount d]
        assert_morethan [r ttl d] 0
    }

    test "PFMERGE of nothing creates an empty HLL" {
        assert_equal OK [r pfmerge fresh]
        assert_equal 1 [r exists fresh]
        assert_equal 0 [r pfcount fresh]
        assert_equal OK [r pfmerge fresh2 nokey]
        assert_equal 0 [r pfcount fresh2]
    }

    test "HLL commands on strings and other types" {
        r set str hello
        r lpush list a
        assert_error "WRONGTYPE Key is not a valid HyperLogLog string value." {r pfadd str a}
        assert_error "WRONGTYPE Key is not a valid HyperLogLog string value." {r pfcount str}
        assert_error "WRONGTYPE Key is not a valid HyperLogLog string value." {r pfcount k str}
        assert_error "WRONGTYPE Key is not a valid HyperLogLog string value." {r pfmerge dest str}
        assert_error "WRONGTYPE Key is not a valid HyperLogLog string value." {r pfmerge str k}
        assert_equal 0 [r exists dest]
        assert_error "WRONGTYPE Operation against a key holding the wrong kind of value" {r pfadd list a}
        assert_error "WRONGTYPE Operation against a key holding the wrong kind of value" {r pfcount list}
        assert_error "WRONGTYPE Operation against a key holding the wrong kind of value" {r pfmerge list}
        assert_error "ERR wrong number of arguments for 'pfadd' command" {r pfadd}
    }

    test "A bitmap is not an HLL" {
        r setbit bits 7 1
        assert_error "WRONGTYPE Key is not a valid HyperLogLog string value." {r pfadd bits a}
    }

    test "HLL keys expire and can be deleted and overwritten" {
        r pfadd t a
        r pexpire t 50
        after 150
        assert_equal 0 [r exists t]
        assert_equal 0 [r pfcount t]
        assert_equal 1 [r pfadd t z]
        assert_equal 1 [r pfcount t]
        assert_equal 1 [r del t]
        assert_equal 0 [r pfcount t]
        r pfadd t a
        r set t plain
        assert_error "WRONGTYPE Key is not a valid HyperLogLog string value." {r pfcount t}
    }

    test "GET of an HLL can be SET back and counted" {
        r del hs
        pf_add_range hs e 0 3000
        assert_equal 2979 [r pfcount hs]
        set raw [r get hs]
        assert_equal HYLL [string range $raw 0 3]
        assert_equal HYLL [r getrange hs 0 3]
        r set hcopy $raw
        assert_equal 2979 [r pfcount hcopy]
        assert_equal 0 [r pfadd hcopy e1]
        assert_equal 1 [r pfadd hcopy new-element]
        assert_equal 2980 [r pfcount hcopy]
    }

    test "A sparse HYLL string from redis-server is an HLL" {
        r set sp [binary format H* 48594c4c01000000000000000000008060f38050b1844bfb80425a]
        assert_equal 3 [r pfcount sp]
        assert_equal OK [r pfmerge sp hs]
        assert_equal 2983 [r pfcount sp]
        r set bad [string range [r get hs] 0 99]
        assert_error "WRONGTYPE Key is not a valid HyperLogLog string value." {r pfcount bad}
    }
}
