# Sorted set commands (Redis 7 behaviour; scores print as Redis 7.0 prints
# them). ZRANK/ZREVRANK WITHSCORE came with Redis 7.2: tagged ferrocks.

start_server {tags {zset}} {

    # ---- ZADD / ZINCRBY / ZSCORE / ZCARD ------------------------------------

    test "ZADD counts new members, CH counts changed ones" {
        r flushall
        assert_equal 2 [r zadd z 1 a 2 b]
        assert_equal 1 [r zadd z 5 a 3 c]
        assert_equal 2 [r zadd z ch 6 a 3 c 4 d]
        assert_equal 4 [r zcard z]
        assert_equal 0 [r zcard nosuchkey]
        assert_equal 6 [r zscore z a]
        assert_equal {} [r zscore z nosuchmember]
        assert_equal {} [r zscore nosuchkey a]
    }

    test "ZADD with a repeated member keeps the last score" {
        r del r
        assert_equal 1 [r zadd r 1 x 2 x 3 x]
        assert_equal 3 [r zscore r x]
        assert_equal 1 [r zcard r]
    }

    test "ZADD NX / XX" {
        r del z
        r zadd z 1 a
        assert_equal 1 [r zadd z nx 100 a 2 b]
        assert_equal 1 [r zscore z a]
        assert_equal 1 [r zadd z xx ch 10 a 3 c]
        assert_equal 10 [r zscore z a]
        assert_equal {} [r zscore z c]
        assert_equal 0 [r zadd nokey xx 1 a]
        assert_equal 0 [r exists nokey]
    }

    test "ZADD GT / LT update one way but still add" {
        r del z
        r zadd z 5 a 5 b
        assert_equal 2 [r zadd z gt ch 1 a 9 b 1 new]
        assert_equal {5 9 1} [r zmscore z a b new]
        assert_equal 1 [r zadd z lt ch 100 a 0 b]
        assert_equal {5 0} [r zmscore z a b]
        assert_equal 1 [r zadd z xx gt ch 6 a 7 missing]
        assert_equal {} [r zscore z missing]
    }

    test "ZADD INCR and ZINCRBY return the new score" {
        r del z
        assert_equal 3 [r zadd z incr 3 a]
        assert_equal 5.5 [r zadd z incr 2.5 a]
        assert_equal {} [r zadd z nx incr 1 a]
        assert_equal {} [r zadd z xx incr 1 zz]
        assert_equal {} [r zadd z gt incr -1 a]
        assert_equal 4 [r zincrby z -1.5 a]
        assert_equal 2 [r zincrby z 2 fresh]
        assert_equal {4 2} [r zmscore z a fresh]
    }

    test "ZADD option errors" {
        assert_error "ERR XX and NX options at the same time are not compatible" {r zadd z nx xx 1 a}
        assert_error "ERR GT, LT, and/or NX options at the same time are not compatible" {r zadd z gt lt 1 a}
        assert_error "ERR GT, LT, and/or NX options at the same time are not compatible" {r zadd z nx lt 1 a}
        assert_error "ERR INCR option supports a single increment-element pair" {r zadd z incr 1 a 2 b}
        assert_error "ERR syntax error" {r zadd z 1 a 2}
        assert_error "ERR syntax error" {r zadd z foo 1 a}
        assert_error "ERR wrong number of arguments for 'zadd' command" {r zadd z 1}
        assert_error "ERR wrong number of arguments for 'zincrby' command" {r zincrby z 1}
    }

    test "Scores: invalid floats and NaN results" {
        foreach bad {nan -nan 1e400 1e-400 {} { 1} {1 } abc 1x 0x} {
            assert_error "ERR value is not a valid float" [list r zadd z $bad a]
        }
        assert_error "ERR value is not a valid float" {r zincrby z abc a}
        r del n
        r zadd n inf a
        assert_error "ERR resulting score is not a number (NaN)" {r zincrby n -inf a}
        assert_error "ERR resulting score is not a number (NaN)" {r zadd n incr -inf a}
        assert_equal inf [r zscore n a]
    }

    test "Scores print like Redis 7.0" {
        r del f
        foreach {in out} {
            0.1 0.10000000000000001
            1.5 1.5
            -3 -3
            1e17 1e+17
            123456789012345678 1.2345678901234568e+17
            1e300 1.0000000000000001e+300
            1e-300 1e-300
            0.00001 1.0000000000000001e-05
            inf inf
            +inf inf
            -inf -inf
            Infinity inf
            0x10 16
            -0 0
            .5 0.5
        } {
            r zadd f $in m
            assert_equal $out [r zscore f m] "zadd $in"
            assert_equal [list m $out] [r zrange f 0 -1 withscores] "zrange $in"
        }
    }

    test "ZMSCORE" {
        r del z
        r zadd z 1 a 2.5 b
        assert_equal {1 {} 2.5} [r zmscore z a x b]
        assert_equal {{}} [r zmscore nosuchkey a]
        assert_error "ERR wrong number of arguments for 'zmscore' command" {r zmscore z}
    }

    # ---- Ranges ----------------------------------------------------------

    test "ZRANGE by index, negative indexes, WITHSCORES, REV" {
        r del z
        r zadd z 1 a 2 b 3 c 4 d -inf lo inf hi
        assert_equal {lo a b c d hi} [r zrange z 0 -1]
        assert_equal {d hi} [r zrange z -2 -1]
        assert_equal {lo a} [r zrange z -100 1]
        assert_equal {d hi} [r zrange z 4 100]
        assert_equal {} [r zrange z 3 1]
        assert_equal {} [r zrange z 6 10]
        assert_equal {hi inf d 4} [r zrevrange z 0 1 withscores]
        assert_equal {hi d} [r zrange z 0 1 rev]
        assert_equal {} [r zrange nosuchkey 0 -1]
    }

    test "ZRANGEBYSCORE / ZREVRANGEBYSCORE with exclusive ends and LIMIT" {
        assert_equal {a b c} [r zrangebyscore z 1 3]
        assert_equal {b} [r zrangebyscore z (1 (3]
        assert_equal {lo} [r zrangebyscore z -inf (1]
        assert_equal {hi} [r zrangebyscore z (4 +inf]
        assert_equal {b 2} [r zrangebyscore z 1 3 withscores limit 1 1]
        assert_equal {d hi} [r zrangebyscore z -inf +inf limit 4 -1]
        assert_equal {} [r zrangebyscore z -inf +inf limit -1 2]
        assert_equal {} [r zrangebyscore z -inf +inf limit 0 0]
        assert_equal {} [r zrangebyscore z 3 1]
        assert_equal {} [r zrangebyscore z (2 (2]
        assert_equal {c 3 b 2} [r zrevrangebyscore z 3 (1 withscores]
        assert_equal {d c} [r zrevrangebyscore z +inf -inf limit 1 2]
        assert_equal {d hi} [r zrange z (3 +inf byscore]
        assert_equal {c b} [r zrange z 3 1 byscore rev limit 0 2]
        assert_equal 3 [r zcount z (1 4]
        assert_equal 6 [r zcount z -inf +inf]
        assert_equal 0 [r zcount nosuchkey -inf +inf]
    }

    test "Lex ranges on a set with one score" {
        r del l
        r zadd l 0 a 0 b 0 c 0 d 0 e 0 f 0 {}
        assert_equal {{} a b c d e f} [r zrangebylex l - +]
        assert_equal {b c d} [r zrangebylex l {[b} (e]
        assert_equal {d e} [r zrangebylex l (b {[e} limit 1 2]
        assert_equal {{}} [r zrangebylex l {[} (a]
        assert_equal {d c b a {}} [r zrevrangebylex l (e -]
        assert_equal {f e} [r zrevrangebylex l + {[bb} limit 0 2]
        assert_equal {c d e f} [r zrange l {[c} + bylex]
        assert_equal {c b} [r zrange l {[c} (a bylex rev]
        assert_equal {} [r zrangebylex l + -]
        assert_equal {} [r zrangebylex l (c (c]
        assert_equal 4 [r zlexcount l (a {[e}]
        assert_equal 7 [r zlexcount l - +]
    }

    test "Range errors" {
        assert_error "ERR min or max is not a float" {r zrangebyscore z a 1}
        assert_error "ERR min or max is not a float" {r zrangebyscore z {[1} 2}
        assert_error "ERR min or max is not a float" {r zcount z 1 x}
        assert_error "ERR min or max not valid string range item" {r zrangebylex l a +}
        assert_error "ERR min or max not valid string range item" {r zlexcount l - b}
        assert_error "ERR min or max not valid string range item" {r zrange z 0 -1 bylex}
        assert_error "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX" {r zrange z 0 -1 limit 0 1}
        assert_error "ERR syntax error, WITHSCORES not supported in combination with BYLEX" {r zrangebylex l - + withscores}
        assert_error "ERR syntax error" {r zrange z 0 -1 byscore bylex}
        assert_error "ERR syntax error" {r zrange z 0 -1 rev rev}
        assert_error "ERR syntax error" {r zrange z 0 -1 limit 1}
        assert_error "ERR syntax error" {r zrangebyscore z 0 1 byscore}
        assert_error "ERR syntax error" {r zrevrange z 0 1 rev}
        assert_error "ERR value is not an integer or out of range" {r zrange z a 1}
        assert_error "ERR value is not an integer or out of range" {r zrangebyscore z 0 1 limit x 1}
    }

    test "ZRANK / ZREVRANK" {
        assert_equal 0 [r zrank z lo]
        assert_equal 3 [r zrank z c]
        assert_equal 2 [r zrevrank z c]
        assert_equal 0 [r zrevrank z hi]
        assert_equal {} [r zrank z nosuchmember]
        assert_equal {} [r zrank nosuchkey a]
    }

    test "ZRANK / ZREVRANK WITHSCORE (Redis 7.2)" {
        assert_equal {3 3} [r zrank z c withscore]
        assert_equal {0 inf} [r zrevrank z hi withscore]
        assert_equal {} [r zrank z nosuchmember withscore]
        assert_error "ERR syntax error" {r zrank z a foo}
    } {ferrocks}

    # ---- Big sets --------------------------------------------------------

    test "A 20k-member set: rank, score and lex windows" {
        r del big lex
        for {set i 0} {$i < 20000} {incr i 1000} {
            set args {}
            set largs {}
            for {set j $i} {$j < $i + 1000} {incr j} {
                lappend args [expr {2 * $j}] [format m%05d $j]
                lappend largs 0 [format k%05d $j]
            }
            r zadd big {*}$args
            r zadd lex {*}$largs
        }
        assert_equal 20000 [r zcard big]
        assert_equal {m00000 m00001} [r zrange big 0 1]
        assert_equal {m10000 m10001} [r zrange big 10000 10001]
        assert_equal {m19998 m19999} [r zrange big -2 -1]
        assert_equal {m19999 m19998} [r zrevrange big 0 1]
        assert_equal {m15999 m15998} [r zrevrange big 4000 4001]
        assert_equal {m10001 m10002} [r zrangebyscore big (20000 20004]
        assert_equal {m00060 m00061 m00062} [r zrangebyscore big 100 +inf limit 10 3]
        assert_equal 1000 [r zcount big 1000 (3000]
        assert_equal 12345 [r zrank big m12345]
        assert_equal 7654 [r zrevrank big m12345]
        assert_equal 19999 [r zrank big m19999]
        assert_equal {k12345 k12346} [r zrangebylex lex {[k12345} + limit 0 2]
        assert_equal {k00499 k00498} [r zrevrangebylex lex (k00500 - limit 0 2]
        assert_equal 10000 [r zlexcount lex {[k1} (k2]
        assert_equal 10000 [r zremrangebyrank big 5000 14999]
        assert_equal {m04999 m15000} [r zrange big 4999 5000]
        assert_equal 5000 [r zremrangebyscore big 30000 +inf]
        assert_equal 10000 [r zremrangebylex lex - (k10000]
        assert_equal 10000 [r zcard lex]
    }

    test "ZSCAN visits every member of a big set once" {
        set seen [dict create]
        set cursor 0
        while 1 {
            lassign [r zscan lex $cursor count 500] cursor items
            foreach {m s} $items {
                assert {![dict exists $seen $m]}
                assert_equal 0 $s
                dict set seen $m 1
            }
            if {$cursor eq "0"} break
        }
        assert_equal 10000 [dict size $seen]
        assert_equal {0 {}} [r zscan nosuchkey 0]
        assert_error "ERR invalid cursor" {r zscan lex x}
    }

    # ---- Removals --------------------------------------------------------

    test "ZREM and ZREMRANGEBY*, emptied keys disappear" {
        r del z
        r zadd z 1 a 2 b 3 c 4 d 5 e
        assert_equal 1 [r zrem z a nosuch a]
        assert_equal 0 [r zrem nosuchkey a]
        assert_equal 2 [r zremrangebyrank z -2 -1]
        assert_equal 0 [r zremrangebyrank z 5 10]
        assert_equal 1 [r zremrangebyscore z (2 +inf]
        assert_equal 1 [r zremrangebylex z {[b} {[b}]
        assert_equal 0 [r exists z]
        assert_equal none [r type z]
        assert_equal 0 [r zremrangebyscore z -inf +inf]
        assert_error "ERR value is not an integer or out of range" {r zremrangebyrank z a 1}
        assert_error "ERR min or max is not a float" {r zremrangebyscore z a 1}
        assert_error "ERR min or max not valid string range item" {r zremrangebylex z a +}
    }

    test "Members are binary safe" {
        r del bin
        set m1 "a\x00b"
        set m2 "\r\n"
        assert_equal 3 [r zadd bin 1 $m1 2 $m2 3 {}]
        assert_equal [list $m1 $m2 {}] [r zrange bin 0 -1]
        assert_equal 2 [r zscore bin $m2]
        assert_equal 2 [r zrank bin {}]
        assert_equal 1 [r zrem bin $m1]
        assert_equal {} [r zscore bin a]
    }

    # ---- Pops and random members -----------------------------------------

    test "ZPOPMIN / ZPOPMAX" {
        r del z
        r zadd z 1 a 2 b 3 c 4 d
        assert_equal {a 1} [r zpopmin z]
        assert_equal {d 4 c 3} [r zpopmax z 2]
        assert_equal {} [r zpopmin z 0]
        assert_equal {} [r zpopmin nosuchkey]
        assert_error "ERR value is out of range, must be positive" {r zpopmin z -1}
        assert_error "ERR syntax error" {r zpopmin z 1 2}
        assert_equal {b 2} [r zpopmax z 10]
        assert_equal 0 [r exists z]
    }

    test "ZPOP reply shapes in RESP3" {
        set c [redis_client]
        $c hello 3
        $c del p
        $c zadd p 1 a 2 b
        $c send zpopmin p
        assert_equal "*2" [$c raw_gets]
        assert_equal {$1} [$c raw_gets]
        assert_equal a [$c raw_gets]
        assert_equal ",1" [$c raw_gets]
        $c send zpopmin p 1
        assert_equal "*1" [$c raw_gets]
        assert_equal "*2" [$c raw_gets]
        assert_equal {$1} [$c raw_gets]
        assert_equal b [$c raw_gets]
        assert_equal ",2" [$c raw_gets]
        $c zadd p 0.1 x
        $c send zscore p x
        assert_equal ",0.10000000000000001" [$c raw_gets]
        $c send zrange p 0 -1 withscores
        assert_equal "*1" [$c raw_gets]
        assert_equal "*2" [$c raw_gets]
        assert_equal {$1} [$c raw_gets]
        assert_equal x [$c raw_gets]
        assert_equal ",0.10000000000000001" [$c raw_gets]
        $c close
    }

    test "ZMPOP" {
        r del z2
        r zadd z2 1 a 2 b 3 c
        assert_equal {z2 {{c 3} {b 2}}} [r zmpop 2 nosuchkey z2 max count 2]
        assert_equal {z2 {{a 1}}} [r zmpop 1 z2 min count 10]
        assert_equal {} [r zmpop 1 z2 min]
        assert_error "ERR numkeys should be greater than 0" {r zmpop 0 z min}
        assert_error "ERR syntax error" {r zmpop 1 z foo}
        assert_error "ERR syntax error" {r zmpop 3 z min}
        assert_error "ERR count should be greater than 0" {r zmpop 1 z min count 0}
        assert_error "ERR syntax error" {r zmpop 1 z min count 1 count 2}
    }

    test "ZRANDMEMBER" {
        r del rz
        r zadd rz 1 a 2 b 3 c 4 d 5 e
        for {set i 0} {$i < 20} {incr i} {
            assert_match {[abcde]} [r zrandmember rz]
        }
        set three [r zrandmember rz 3]
        assert_equal 3 [llength [lsort -unique $three]]
        assert_equal {e d c b a} [r zrandmember rz 10]
        assert_equal {e 5 d 4 c 3 b 2 a 1} [r zrandmember rz 5 withscores]
        set rep [r zrandmember rz -50]
        assert_equal 50 [llength $rep]
        foreach m $rep { assert_match {[abcde]} $m }
        foreach {m s} [r zrandmember rz -4 withscores] {
            assert_equal [r zscore rz $m] $s
        }
        assert_equal {} [r zrandmember rz 0]
        assert_equal {} [r zrandmember nosuchkey 3]
        assert_equal {} [r zrandmember nosuchkey]
        assert_error "ERR value is not an integer or out of range" {r zrandmember rz x}
        assert_error "ERR syntax error" {r zrandmember rz 1 foo}
        assert_error "ERR value is out of range" {r zrandmember rz -4611686018427387904 withscores}
    }

    # ---- Set operations ----------------------------------------------------

    test "ZUNION / ZINTER / ZDIFF with WEIGHTS, AGGREGATE and plain sets" {
        r del z1 z2 plain
        r zadd z1 1 a 2 b 3 c
        r zadd z2 10 b 20 c 30 d
        r sadd plain c d e
        assert_equal {a 1 b 12 c 23 d 30} [r zunion 2 z1 z2 withscores]
        assert_equal {a 2 b 9 d 15 c 16} [r zunion 2 z1 z2 weights 2 0.5 withscores]
        assert_equal {a 1 b 10 c 20 d 30} [r zunion 2 z1 z2 aggregate max withscores]
        assert_equal {b 12 c 23} [r zinter 2 z1 z2 withscores]
        assert_equal {c 24} [r zinter 3 z1 z2 plain withscores]
        assert_equal {} [r zinter 2 z1 nosuchkey]
        assert_equal {a 1} [r zdiff 2 z1 z2 withscores]
        assert_equal {b} [r zdiff 2 z2 plain]
        assert_equal {c 1 d 1 e 1} [r zunion 2 plain nosuchkey withscores]
        assert_equal 2 [r zintercard 2 z1 z2]
        assert_equal 1 [r zintercard 2 z1 z2 limit 1]
    }

    test "inf * 0 and inf + -inf aggregate to 0" {
        r del inf
        r zadd inf inf p -inf n
        assert_equal {n 0 p 0} [r zunion 1 inf weights 0 withscores]
        assert_equal {n 0 p 0} [r zunion 2 inf inf weights 1 -1 withscores]
        assert_equal {n -inf p inf} [r zinter 2 inf inf aggregate max withscores]
    }

    test "ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE replace the destination" {
        r set dst string
        assert_equal 4 [r zunionstore dst 2 z1 z2 weights 1 2]
        assert_equal {a 1 b 22 c 43 d 60} [r zrange dst 0 -1 withscores]
        r expire dst 100
        assert_equal 2 [r zinterstore dst 2 z1 z2 aggregate min]
        assert_equal -1 [r ttl dst]
        assert_equal {b 2 c 3} [r zrange dst 0 -1 withscores]
        assert_equal 1 [r zdiffstore dst 2 z2 z1]
        assert_equal {d 30} [r zrange dst 0 -1 withscores]
        assert_equal 3 [r zunionstore z1 2 z1 z1]
        assert_equal {a 2 b 4 c 6} [r zrange z1 0 -1 withscores]
        assert_equal 0 [r zinterstore dst 2 z1 nosuchkey]
        assert_equal 0 [r exists dst]
    }

    test "ZRANGESTORE" {
        assert_equal 2 [r zrangestore dst2 z2 1 -1]
        assert_equal {c d} [r zrange dst2 0 -1]
        assert_equal 1 [r zrangestore dst2 z2 (10 +inf byscore limit 1 1]
        assert_equal {d} [r zrange dst2 0 -1]
        assert_equal 2 [r zrangestore dst2 z2 {[c} - bylex rev]
        assert_equal {b c} [r zrange dst2 0 -1]
        assert_equal 0 [r zrangestore dst2 nosuchkey 0 -1]
        assert_equal 0 [r exists dst2]
        assert_error "ERR syntax error" {r zrangestore dst2 z2 0 -1 withscores}
    }

    test "Set operation errors" {
        r set str v
        assert_error "ERR at least 1 input key is needed for 'zunionstore' command" {r zunionstore d 0 z1}
        assert_error "ERR at least 1 input key is needed for 'zunion' command" {r zunion -1 z1}
        assert_error "ERR at least 1 input key is needed for 'zintercard' command" {r zintercard 0 z1}
        assert_error "ERR syntax error" {r zunionstore d 2 z1}
        assert_error "ERR syntax error" {r zinter 1 z1 weights 1 2}
        assert_error "ERR weight value is not a float" {r zinter 1 z1 weights x}
        assert_error "ERR syntax error" {r zinter 1 z1 aggregate avg}
        assert_error "ERR syntax error" {r zunionstore d 1 z1 withscores}
        assert_error "ERR syntax error" {r zdiff 1 z1 weights 1}
        assert_error "ERR LIMIT can't be negative" {r zintercard 1 z1 limit -1}
        assert_error "WRONGTYPE*" {r zinter 2 z1 str weights x}
        assert_error "WRONGTYPE*" {r zunionstore d 1 str}
    }

    # ---- Types and expiry --------------------------------------------------

    test "Sorted set commands on a string are WRONGTYPE" {
        r set str v
        foreach cmd {
            {zadd str 1 a} {zincrby str 1 a} {zrem str a} {zcard str}
            {zcount str 0 1} {zlexcount str - +} {zscore str a} {zmscore str a}
            {zrank str a} {zrange str 0 -1} {zrangebyscore str 0 1}
            {zrangebylex str - +} {zremrangebyrank str 0 1} {zpopmin str}
            {zmpop 1 str min} {zrandmember str} {zunion 1 str} {zscan str 0}
        } {
            assert_error "WRONGTYPE*" [list r {*}$cmd]
        }
        # Arguments are checked before the type, as in Redis.
        assert_error "ERR value is not a valid float" {r zadd str x a}
    }

    test "An expired sorted set is gone, and re-created empty" {
        r del ez
        r zadd ez 1 a 2 b
        r pexpire ez 100
        after 250
        assert_equal 0 [r exists ez]
        assert_equal 0 [r zcard ez]
        assert_equal {} [r zrange ez 0 -1]
        assert_equal 1 [r zadd ez 5 c]
        assert_equal {c 5} [r zrange ez 0 -1 withscores]
        assert_equal -1 [r ttl ez]
    }

    test "RENAME and COPY keep both orders" {
        r del ez ez2 ez3
        r zadd ez 2 y 1 x
        r rename ez ez2
        assert_equal {x 1 y 2} [r zrangebyscore ez2 -inf +inf withscores]
        r copy ez2 ez3
        assert_equal 1 [r zrank ez3 y]
        assert_equal {y} [r zrangebylex ez3 (x +]
    }
}
