# Hash commands (Redis 7 behaviour) plus kvrocks HRANGEBYLEX.

start_server {tags {hash}} {

    # ---- HSET / HGET / HMSET / HSETNX ----------------------------------------

    test "HSET returns the number of new fields" {
        r flushall
        assert_equal 2 [r hset h a 1 b 2]
        assert_equal 1 [r hset h a 10 c 3]
        assert_equal 0 [r hset h a 11]
        assert_equal 3 [r hlen h]
    }

    test "HGET of a field, a missing field and a missing key" {
        assert_equal 11 [r hget h a]
        assert_equal {} [r hget h nosuchfield]
        assert_equal {} [r hget nosuchkey a]
    }

    test "HSET with a field repeated keeps the last value" {
        assert_equal 1 [r hset h d x d y]
        assert_equal y [r hget h d]
        assert_equal 4 [r hlen h]
    }

    test "HSETNX sets only missing fields" {
        assert_equal 0 [r hsetnx h a nope]
        assert_equal 11 [r hget h a]
        assert_equal 1 [r hsetnx h e 5]
        assert_equal 5 [r hget h e]
        assert_equal 1 [r hsetnx newnx f v]
        assert_equal v [r hget newnx f]
    }

    test "HMSET replies OK and HMGET returns nil for missing fields" {
        assert_equal OK [r hmset h f 6 a 12]
        assert_equal {12 {} 6} [r hmget h a nosuchfield f]
        assert_equal {{} {}} [r hmget nosuchkey a b]
    }

    test "HSET / HMSET with an odd number of arguments" {
        assert_error "ERR wrong number of arguments for 'hset' command" {r hset h a}
        assert_error "ERR wrong number of arguments for 'hset' command" {r hset h a 1 b}
        assert_error "ERR wrong number of arguments for 'hmset' command" {r hmset h a 1 b}
        assert_error "ERR wrong number of arguments for 'hsetnx' command" {r hsetnx h a}
    }

    # ---- HEXISTS / HLEN / HSTRLEN / HDEL ------------------------------------

    test "HEXISTS, HLEN and HSTRLEN" {
        assert_equal 1 [r hexists h a]
        assert_equal 0 [r hexists h nosuchfield]
        assert_equal 0 [r hexists nosuchkey a]
        assert_equal 6 [r hlen h]
        assert_equal 0 [r hlen nosuchkey]
        assert_equal 2 [r hstrlen h a]
        assert_equal 0 [r hstrlen h nosuchfield]
        assert_equal 0 [r hstrlen nosuchkey a]
    }

    test "HDEL counts existing fields once" {
        assert_equal 2 [r hdel h a a nosuchfield b]
        assert_equal 0 [r hdel nosuchkey a]
        assert_equal 4 [r hlen h]
        assert_equal {c d e f} [lsort [r hkeys h]]
    }

    test "Deleting the last field deletes the key" {
        r del h2
        r hset h2 only 1
        assert_equal 1 [r hdel h2 only]
        assert_equal 0 [r exists h2]
        assert_equal none [r type h2]
        assert_equal 1 [r hset h2 again 2]
        assert_equal {again} [r hkeys h2]
    }

    # ---- HGETALL / HKEYS / HVALS ---------------------------------------------

    test "HGETALL, HKEYS and HVALS" {
        r del ga
        r hset ga k1 v1 k2 v2 k3 v3
        set all [r hgetall ga]
        assert_equal 6 [llength $all]
        assert_equal v2 [dict get $all k2]
        assert_equal {k1 k2 k3} [lsort [r hkeys ga]]
        assert_equal {v1 v2 v3} [lsort [r hvals ga]]
        assert_equal {} [r hgetall nosuchkey]
        assert_equal {} [r hkeys nosuchkey]
        assert_equal {} [r hvals nosuchkey]
    }

    test "HGETALL is a map in RESP3" {
        set c [redis_client]
        $c hello 3
        $c del m3
        $c hset m3 f v
        $c send hgetall m3
        assert_equal "%1" [$c raw_gets]
        assert_equal {$1} [$c raw_gets]
        assert_equal f [$c raw_gets]
        assert_equal {$1} [$c raw_gets]
        assert_equal v [$c raw_gets]
        $c close
    }

    # ---- HINCRBY / HINCRBYFLOAT ------------------------------------------

    test "HINCRBY creates and increments fields" {
        r del hi
        assert_equal 5 [r hincrby hi n 5]
        assert_equal -2 [r hincrby hi n -7]
        assert_equal -2 [r hget hi n]
    }

    test "HINCRBY errors" {
        r hset hi max 9223372036854775807 s abc sp " 1"
        assert_error "ERR increment or decrement would overflow" {r hincrby hi max 1}
        assert_equal 9223372036854775807 [r hget hi max]
        assert_error "ERR hash value is not an integer" {r hincrby hi s 1}
        assert_error "ERR hash value is not an integer" {r hincrby hi sp 1}
        assert_error "ERR value is not an integer or out of range" {r hincrby hi n 1.5}
    }

    test "HINCRBYFLOAT formats like Redis" {
        r del hf
        assert_equal 10.5 [r hincrbyfloat hf f 10.5]
        assert_equal 10.6 [r hincrbyfloat hf f 0.1]
        assert_equal 0 [r hincrbyfloat hf f -10.6]
        assert_equal 5000 [r hincrbyfloat hf e 5.0e3]
        r hset hf big 99999999999999999999 max 9223372036854775807
        assert_equal 100000000000000000000 [r hincrbyfloat hf big 1]
        assert_equal 9223372036854775808 [r hincrbyfloat hf max 1.5]
    }

    test "HINCRBYFLOAT errors" {
        r hset hf s abc inf inf
        assert_error "ERR hash value is not a float" {r hincrbyfloat hf s 1}
        assert_error "ERR increment would produce NaN or Infinity" {r hincrbyfloat hf inf 1}
        assert_error "ERR value is not a valid float" {r hincrbyfloat hf f abc}
        assert_error "ERR value is NaN or Infinity" {r hincrbyfloat hf f inf}
        r set hstr x
        assert_error "ERR value is not a valid float" {r hincrbyfloat hstr f x}
        assert_error "WRONGTYPE*" {r hincrbyfloat hstr f 1}
    }

    # ---- HSCAN -------------------------------------------------------------

    test "HSCAN of a big hash returns every field once" {
        r del big
        for {set i 0} {$i < 5000} {incr i 500} {
            set args {}
            for {set j $i} {$j < $i + 500} {incr j} { lappend args field:$j value:$j }
            r hset big {*}$args
        }
        assert_equal 5000 [r hlen big]
        set seen [dict create]
        set cursor 0
        set pages 0
        while 1 {
            lassign [r hscan big $cursor count 100] cursor items
            foreach {f v} $items {
                assert {![dict exists $seen $f]} "$f returned twice"
                dict set seen $f $v
            }
            incr pages
            if {$cursor eq "0"} break
        }
        assert_equal 5000 [dict size $seen]
        assert_equal value:4321 [dict get $seen field:4321]
    }

    test "HSCAN MATCH" {
        set found {}
        set cursor 0
        while 1 {
            lassign [r hscan big $cursor match field:123* count 1000] cursor items
            foreach {f v} $items { lappend found $f }
            if {$cursor eq "0"} break
        }
        assert_equal [lsort {field:123 field:1230 field:1231 field:1232 field:1233 field:1234 field:1235 field:1236 field:1237 field:1238 field:1239}] [lsort $found]
    }

    test "HSCAN errors and missing keys" {
        assert_equal {0 {}} [r hscan nosuchkey 0]
        assert_error "ERR invalid cursor" {r hscan big x}
        assert_error "ERR syntax error" {r hscan big 0 count 0}
        assert_error "ERR syntax error" {r hscan big 0 foo bar}
    }

    # ---- HRANDFIELD ----------------------------------------------------------

    test "HRANDFIELD without count" {
        r del rf
        r hset rf a 1 b 2 c 3
        for {set i 0} {$i < 20} {incr i} {
            assert_match {[abc]} [r hrandfield rf]
        }
        assert_equal {} [r hrandfield nosuchkey]
    }

    test "HRANDFIELD with a positive count is distinct" {
        set two [r hrandfield rf 2]
        assert_equal 2 [llength $two]
        assert_equal 2 [llength [lsort -unique $two]]
        assert_equal {a b c} [lsort [r hrandfield rf 10]]
        assert_equal {} [r hrandfield rf 0]
        assert_equal {} [r hrandfield nosuchkey 5]
    }

    test "HRANDFIELD with a negative count may repeat" {
        set many [r hrandfield rf -30]
        assert_equal 30 [llength $many]
        assert_equal {a b c} [lsort -unique $many]
    }

    test "HRANDFIELD WITHVALUES" {
        set pairs [r hrandfield rf -6 withvalues]
        assert_equal 12 [llength $pairs]
        foreach {f v} $pairs { assert_equal [r hget rf $f] $v }
        set all [r hrandfield rf 3 WITHVALUES]
        assert_equal {a 1 b 2 c 3} [lsort -stride 2 $all]
    }

    test "HRANDFIELD WITHVALUES in RESP3 is a list of pairs" {
        set c [redis_client]
        $c hello 3
        set pairs [$c hrandfield rf -4 withvalues]
        assert_equal 4 [llength $pairs]
        foreach p $pairs {
            assert_equal 2 [llength $p]
            assert_equal [r hget rf [lindex $p 0]] [lindex $p 1]
        }
        $c close
    }

    test "HRANDFIELD errors" {
        assert_error "ERR syntax error" {r hrandfield rf 1 withvalue}
        assert_error "ERR syntax error" {r hrandfield rf 1 withvalues x}
        assert_error "ERR value is not an integer or out of range" {r hrandfield rf x}
        assert_error "ERR value is not an integer or out of range" {r hrandfield nosuchkey x}
        assert_error "ERR value is out of range, value must between*" {r hrandfield rf -9223372036854775808}
        assert_error "ERR value is out of range" {r hrandfield rf -4611686018427387904 withvalues}
    }

    test "HRANDFIELD on a big hash" {
        set picked [r hrandfield big 100]
        assert_equal 100 [llength [lsort -unique $picked]]
        set picks [r hrandfield big -300]
        assert_equal 300 [llength $picks]
        assert_morethan [llength [lsort -unique $picks]] 150
        foreach f $picks { assert_match field:* $f }
    }

    # ---- HRANGEBYLEX (kvrocks) ---------------------------------------------

    test "HRANGEBYLEX ranges" {
        r del lex
        r hset lex a 1 b 2 c 3 d 4 e 5
        assert_equal {a 1 b 2 c 3 d 4 e 5} [r hrangebylex lex - +]
        assert_equal {b 2 c 3 d 4} [r hrangebylex lex {[b} {[d}]
        assert_equal {c 3} [r hrangebylex lex (b (d]
        assert_equal {c 3 d 4 e 5} [r hrangebylex lex {[bb} +]
        assert_equal {} [r hrangebylex lex {[d} {[b}]
        assert_equal {} [r hrangebylex nosuchkey - +]
    } {ferrocks}

    test "HRANGEBYLEX REV and LIMIT" {
        assert_equal {e 5 d 4 c 3 b 2 a 1} [r hrangebylex lex + - rev]
        assert_equal {d 4 c 3} [r hrangebylex lex {[d} (b REV]
        assert_equal {b 2 c 3} [r hrangebylex lex - + limit 1 2]
        assert_equal {d 4 e 5} [r hrangebylex lex - + limit 3 -1]
        assert_equal {d 4} [r hrangebylex lex + - rev limit 1 1]
    } {ferrocks}

    test "HRANGEBYLEX errors" {
        assert_error "ERR min or max not valid string range item" {r hrangebylex lex a +}
        assert_error "ERR syntax error" {r hrangebylex lex - + limit 1}
        assert_error "ERR syntax error" {r hrangebylex lex - + foo}
        r set hstr x
        assert_error "WRONGTYPE*" {r hrangebylex hstr - +}
    } {ferrocks}

    # ---- Types, binary data, expiry ----------------------------------------

    test "Hash commands on a string are WRONGTYPE" {
        r set str x
        foreach cmd {
            {hset str f v} {hsetnx str f v} {hget str f} {hmget str f}
            {hdel str f} {hexists str f} {hlen str} {hstrlen str f}
            {hincrby str f 1} {hincrbyfloat str f 1} {hkeys str} {hvals str}
            {hgetall str} {hscan str 0} {hrandfield str} {hrandfield str 2}
        } {
            assert_error "WRONGTYPE*" {r {*}$cmd}
        }
        assert_equal x [r get str]
        r hset ahash f v
        assert_error "WRONGTYPE*" {r get ahash}
    }

    test "Fields and values are binary safe" {
        set f "f\x00\r\nield"
        set v "\x00\xff\r\nvalue"
        r del bin
        assert_equal 2 [r hset bin $f $v "" empty]
        assert_equal $v [r hget bin $f]
        assert_equal empty [r hget bin ""]
        assert_equal [string length $v] [r hstrlen bin $f]
        assert_equal 2 [r hdel bin $f ""]
        assert_equal 0 [r exists bin]
    }

    test "An expired hash is gone, and a new one starts empty" {
        r del exp
        r hset exp old1 1 old2 2
        r pexpire exp 100
        r hset exp old3 3
        assert_morethan [r pttl exp] 0
        after 200
        assert_equal 0 [r exists exp]
        assert_equal {} [r hget exp old1]
        assert_equal 0 [r hlen exp]
        assert_equal 1 [r hset exp new x]
        assert_equal {new} [r hkeys exp]
        assert_equal -1 [r ttl exp]
    }

    test "HSET in MULTI" {
        r del tx
        r multi
        r hset tx f 1
        r hincrby tx f 2
        r hget tx f
        assert_equal {1 3 3} [r exec]
    }
}
