# Set commands (Redis 7 behaviour).

start_server {tags {set}} {

    # ---- SADD / SREM / SCARD / SISMEMBER -------------------------------------

    test "SADD returns the number of new members" {
        r flushall
        assert_equal 3 [r sadd s a b c]
        assert_equal 1 [r sadd s c d d]
        assert_equal 4 [r scard s]
        assert_equal 0 [r scard nosuchkey]
        assert_equal {a b c d} [lsort [r smembers s]]
        assert_equal {} [r smembers nosuchkey]
    }

    test "SISMEMBER and SMISMEMBER" {
        assert_equal 1 [r sismember s a]
        assert_equal 0 [r sismember s z]
        assert_equal 0 [r sismember nosuchkey a]
        assert_equal {1 0 1 1} [r smismember s a z d a]
        assert_equal {0 0} [r smismember nosuchkey a b]
    }

    test "SREM counts removed members once" {
        assert_equal 1 [r srem s a a z]
        assert_equal 0 [r srem nosuchkey a]
        assert_equal 3 [r scard s]
    }

    test "Removing the last member deletes the key" {
        assert_equal 3 [r srem s b c d]
        assert_equal 0 [r exists s]
        assert_equal none [r type s]
        assert_equal 1 [r sadd s x]
        assert_equal {x} [r smembers s]
        assert_equal set [r type s]
    }

    test "SMEMBERS is a set in RESP3" {
        set c [redis_client]
        $c hello 3
        $c del one
        $c sadd one m
        $c send smembers one
        assert_equal "~1" [$c raw_gets]
        assert_equal {$1} [$c raw_gets]
        assert_equal m [$c raw_gets]
        $c close
    }

    # ---- SPOP / SRANDMEMBER --------------------------------------------------

    test "SRANDMEMBER without and with a count" {
        r del rp
        r sadd rp a b c d e
        for {set i 0} {$i < 20} {incr i} {
            assert_match {[abcde]} [r srandmember rp]
        }
        set three [r srandmember rp 3]
        assert_equal 3 [llength [lsort -unique $three]]
        assert_equal {a b c d e} [lsort [r srandmember rp 10]]
        assert_equal {} [r srandmember rp 0]
        set many [r srandmember rp -50]
        assert_equal 50 [llength $many]
        assert_equal {a b c d e} [lsort -unique $many]
        assert_equal 5 [r scard rp]
        assert_equal {} [r srandmember nosuchkey]
        assert_equal {} [r srandmember nosuchkey 3]
    }

    test "SRANDMEMBER errors" {
        assert_error "ERR value is not an integer or out of range" {r srandmember rp x}
        assert_error "ERR syntax error" {r srandmember rp 1 2}
        assert_error "ERR value is out of range, value must between*" {r srandmember rp -9223372036854775808}
    }

    test "SPOP removes what it returns" {
        set one [r spop rp]
        assert_equal 0 [r sismember rp $one]
        set two [r spop rp 2]
        assert_equal 2 [llength $two]
        foreach m $two { assert_equal 0 [r sismember rp $m] }
        assert_equal 2 [r scard rp]
        assert_equal {} [r spop rp 0]
        set rest [r spop rp 10]
        assert_equal {a b c d e} [lsort [concat $one $two $rest]]
        assert_equal 0 [r exists rp]
        assert_equal {} [r spop rp]
        assert_equal {} [r spop rp 3]
    }

    test "SPOP errors" {
        assert_error "ERR value is out of range, must be positive" {r spop rp -1}
        assert_error "ERR value is out of range, must be positive" {r spop rp x}
        assert_error "ERR syntax error" {r spop rp 1 2}
    }

    # ---- SMOVE ---------------------------------------------------------------

    test "SMOVE moves a member" {
        r del src dst
        r sadd src a b
        r sadd dst b c
        assert_equal 1 [r smove src dst a]
        assert_equal {b} [r smembers src]
        assert_equal {a b c} [lsort [r smembers dst]]
        assert_equal 0 [r smove src dst zz]
        assert_equal 1 [r smove src dst b]
        assert_equal 0 [r exists src]
        assert_equal 3 [r scard dst]
        assert_equal 1 [r smove dst dst a]
        assert_equal 0 [r smove dst dst zz]
        assert_equal 0 [r smove nosuchkey dst a]
    }

    test "SMOVE types" {
        r set mvstr x
        assert_equal 0 [r smove nosuchkey mvstr a]
        assert_error "WRONGTYPE*" {r smove dst mvstr zz}
        assert_error "WRONGTYPE*" {r smove mvstr dst a}
        assert_equal 3 [r scard dst]
    }

    # ---- Set algebra ---------------------------------------------------------

    test "SINTER, SUNION and SDIFF" {
        r del g_a g_b g_c
        r sadd g_a 1 2 3 4
        r sadd g_b 2 3 5
        r sadd g_c 3 4 5 6
        assert_equal {2 3} [lsort [r sinter g_a g_b]]
        assert_equal {3} [lsort [r sinter g_a g_b g_c]]
        assert_equal {} [r sinter g_a g_none]
        assert_equal {1 2 3 4 5 6} [lsort [r sunion g_a g_b g_c]]
        assert_equal {2 3 5} [lsort [r sunion g_none g_b]]
        assert_equal {1 4} [lsort [r sdiff g_a g_b]]
        assert_equal {1} [lsort [r sdiff g_a g_b g_c]]
        assert_equal {} [r sdiff g_none g_a]
        assert_equal {} [r sdiff g_a g_a]
    }

    test "Set algebra checks every key's type" {
        r set g_str x
        foreach cmd {sinter sunion sdiff} {
            assert_error "WRONGTYPE*" {r $cmd g_none g_str}
            assert_error "WRONGTYPE*" {r $cmd g_a g_str}
        }
    }

    test "STORE forms replace the destination" {
        assert_equal 2 [r sinterstore g_d g_a g_b]
        assert_equal {2 3} [lsort [r smembers g_d]]
        assert_equal 5 [r sunionstore g_d g_b g_c]
        assert_equal {2 3 4 5 6} [lsort [r smembers g_d]]
        assert_equal 2 [r sdiffstore g_d g_a g_c]
        assert_equal {1 2} [lsort [r smembers g_d]]
        assert_equal 4 [r sunionstore g_d g_d g_b]
        assert_equal {1 2 3 5} [lsort [r smembers g_d]]
        r set g_dst v ex 100
        assert_equal 2 [r sinterstore g_dst g_a g_c]
        assert_equal set [r type g_dst]
        assert_equal -1 [r ttl g_dst]
    }

    test "STORE with an empty result deletes the destination" {
        assert_equal 0 [r sinterstore g_dst g_a g_none]
        assert_equal 0 [r exists g_dst]
        assert_equal 0 [r sdiffstore g_dst g_none]
        assert_equal 0 [r exists g_dst]
        assert_error "WRONGTYPE*" {r sunionstore g_d g_a g_str}
        assert_equal {1 2 3 5} [lsort [r smembers g_d]]
    }

    test "SINTERCARD" {
        assert_equal 2 [r sintercard 2 g_a g_b]
        assert_equal 4 [r sintercard 1 g_a]
        assert_equal 3 [r sintercard 1 g_a limit 3]
        assert_equal 4 [r sintercard 1 g_a LIMIT 0]
        assert_equal 0 [r sintercard 2 g_a g_none]
        assert_error "ERR numkeys should be greater than 0" {r sintercard 0 g_a}
        assert_error "ERR Number of keys can't be greater than number of args" {r sintercard 3 g_a g_b}
        assert_error "ERR LIMIT can't be negative" {r sintercard 1 g_a limit -1}
        assert_error "ERR syntax error" {r sintercard 1 g_a limit}
        assert_error "WRONGTYPE*" {r sintercard 2 g_none g_str}
    }

    test "Set algebra results are sets in RESP3" {
        set c [redis_client]
        $c hello 3
        $c send sinter g_a g_b
        assert_equal "~2" [$c raw_gets]
        $c close
    }

    # ---- Big sets --------------------------------------------------------------

    test "SSCAN of a big set returns every member once" {
        r del b_big b_third
        for {set i 0} {$i < 6000} {incr i 1000} {
            set args {}
            for {set j $i} {$j < $i + 1000} {incr j} { lappend args m:$j }
            r sadd b_big {*}$args
        }
        set args {}
        for {set j 0} {$j < 6000} {incr j 3} { lappend args m:$j }
        r sadd b_third {*}$args
        assert_equal 6000 [r scard b_big]
        set seen [dict create]
        set cursor 0
        while 1 {
            lassign [r sscan b_big $cursor count 200] cursor items
            foreach m $items {
                assert {![dict exists $seen $m]} "$m returned twice"
                dict set seen $m 1
            }
            if {$cursor eq "0"} break
        }
        assert_equal 6000 [dict size $seen]
        assert_equal {0 {}} [r sscan nosuchkey 0]
    }

    test "Set algebra on big sets" {
        assert_equal 2000 [r sintercard 2 b_big b_third]
        assert_equal 10 [r sintercard 2 b_big b_third limit 10]
        assert_equal 4000 [r sdiffstore b_rest b_big b_third]
        assert_equal 0 [r sismember b_rest m:3]
        assert_equal 6000 [r sunionstore b_all b_rest b_third]
        assert_equal 2000 [llength [r sinter b_third b_big]]
    }

    test "Random picks on a big set" {
        assert_equal 100 [llength [lsort -unique [r srandmember b_big 100]]]
        set picks [r srandmember b_big -500]
        assert_equal 500 [llength $picks]
        assert_morethan [llength [lsort -unique $picks]] 250
        set popped [r spop b_big 100]
        assert_equal 100 [llength [lsort -unique $popped]]
        assert_equal 5900 [r scard b_big]
        assert_equal 0 [r sismember b_big [lindex $popped 0]]
    }

    # ---- Types, binary data, expiry ------------------------------------------

    test "Set commands on a string are WRONGTYPE" {
        r set str x
        foreach cmd {
            {sadd str m} {srem str m} {scard str} {sismember str m}
            {smismember str m} {smembers str} {spop str} {spop str 2}
            {srandmember str} {srandmember str -2} {sinter str} {sunion str}
            {sdiff str} {sintercard 1 str} {sscan str 0}
        } {
            assert_error "WRONGTYPE*" {r {*}$cmd}
        }
        assert_equal x [r get str]
    }

    test "Members are binary safe" {
        set m1 "m\x00\r\n1"
        set m2 "\xff\x00"
        r del bin
        assert_equal 3 [r sadd bin $m1 $m2 ""]
        assert_equal 1 [r sismember bin $m1]
        assert_equal 0 [r sismember bin m]
        assert_equal [lsort [list "" $m1 $m2]] [lsort [r smembers bin]]
        assert_equal 3 [r srem bin $m1 $m2 ""]
        assert_equal 0 [r exists bin]
    }

    test "An expired set is gone, and a new one starts empty" {
        r del sexp
        r sadd sexp old1 old2
        r pexpire sexp 100
        after 200
        assert_equal 0 [r exists sexp]
        assert_equal 0 [r scard sexp]
        assert_equal 0 [r sismember sexp old1]
        assert_equal 1 [r sadd sexp new]
        assert_equal {new} [r smembers sexp]
        assert_equal -1 [r ttl sexp]
    }

    test "SADD and SUNIONSTORE in MULTI" {
        r del t_x t_y
        r multi
        r sadd t_x 1 2
        r sunionstore t_y t_x
        r scard t_y
        assert_equal {2 2 2} [r exec]
    }
}
