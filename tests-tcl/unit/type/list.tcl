# List commands (Redis 7 behaviour). Blocking variants are not covered.

proc raw_reply {args} {
    r raw_write [resp::encode $args]
    r raw_gets
}

start_server {tags {list}} {

    # ---- push / pop ------------------------------------------------------

    test "LPUSH and RPUSH build the list in order" {
        r del l
        assert_equal 2 [r rpush l c d]
        assert_equal 4 [r lpush l b a]
        assert_equal {a b c d} [r lrange l 0 -1]
        assert_equal 4 [r llen l]
    }

    test "LPUSH with several values pushes them one by one" {
        r del l
        r lpush l 1 2 3
        assert_equal {3 2 1} [r lrange l 0 -1]
    }

    test "LPOP and RPOP take from the ends" {
        r del l
        r rpush l a b c
        assert_equal a [r lpop l]
        assert_equal c [r rpop l]
        assert_equal {b} [r lrange l 0 -1]
    }

    test "Popping the last element deletes the key" {
        r del l
        r rpush l only
        assert_equal only [r rpop l]
        assert_equal 0 [r exists l]
        assert_equal 0 [r llen l]
        assert_equal {} [r lpop l]
    }

    test "LPOP / RPOP with a count" {
        r del l
        r rpush l a b c d e
        assert_equal {a b} [r lpop l 2]
        assert_equal {e d} [r rpop l 2]
        assert_equal {c} [r lpop l 10]
        assert_equal 0 [r exists l]
    }

    test "LPOP count 0 is an empty array, a missing key with a count is a nil array" {
        r del l
        r rpush l a
        assert_equal {*0} [raw_reply lpop l 0]
        assert_equal {*-1} [raw_reply lpop nokey 0]
        assert_equal {*-1} [raw_reply rpop nokey 3]
        assert_equal {$-1} [raw_reply lpop nokey]
        assert_equal 1 [r llen l]
    }

    test "LPOP with a negative or non-numeric count" {
        assert_error "ERR value is out of range, must be positive" {r lpop l -1}
        assert_error "ERR value is out of range, must be positive" {r rpop l abc}
        assert_error "ERR value is out of range, must be positive" {r lpop nokey -1}
        assert_error "ERR wrong number of arguments for 'lpop' command" {r lpop l 1 2}
    }

    test "LPUSHX / RPUSHX only touch existing lists" {
        r del l
        assert_equal 0 [r lpushx l a]
        assert_equal 0 [r rpushx l a b]
        assert_equal 0 [r exists l]
        r rpush l m
        assert_equal 3 [r lpushx l b a]
        assert_equal 5 [r rpushx l y z]
        assert_equal {a b m y z} [r lrange l 0 -1]
    }

    test "Interleaved pushes and pops at both ends match a model" {
        r del l
        set model {}
        expr {srand(42)}
        for {set i 0} {$i < 500} {incr i} {
            set op [expr {int(rand() * 4)}]
            switch $op {
                0 { r lpush l v$i; set model [linsert $model 0 v$i] }
                1 { r rpush l v$i; lappend model v$i }
                2 {
                    assert_equal [lindex $model 0] [r lpop l]
                    set model [lrange $model 1 end]
                }
                3 {
                    assert_equal [lindex $model end] [r rpop l]
                    set model [lrange $model 0 end-1]
                }
            }
        }
        assert_equal $model [r lrange l 0 -1]
        assert_equal [llength $model] [r llen l]
    }

    # ---- LINDEX / LRANGE ---------------------------------------------------

    test "LINDEX with positive and negative indexes" {
        r del l
        r rpush l a b c d e
        assert_equal a [r lindex l 0]
        assert_equal e [r lindex l 4]
        assert_equal e [r lindex l -1]
        assert_equal a [r lindex l -5]
        assert_equal {} [r lindex l 5]
        assert_equal {} [r lindex l -6]
        assert_equal {} [r lindex l 9223372036854775807]
    }

    test "LINDEX errors and missing keys" {
        assert_error "ERR value is not an integer or out of range" {r lindex l x}
        # A missing key is nil before the index is parsed.
        assert_equal {} [r lindex nokey x]
        assert_equal {} [r lindex nokey 0]
    }

    test "LRANGE index rules" {
        assert_equal {b c} [r lrange l 1 2]
        assert_equal {d e} [r lrange l -2 -1]
        assert_equal {a b} [r lrange l -100 1]
        assert_equal {d e} [r lrange l 3 100]
        assert_equal {} [r lrange l 2 1]
        assert_equal {} [r lrange l 5 10]
        assert_equal {} [r lrange l 0 -6]
        assert_equal {a b c d e} [r lrange l -9223372036854775808 9223372036854775807]
        assert_equal {*0} [raw_reply lrange nokey 0 -1]
        assert_error "ERR value is not an integer or out of range" {r lrange l a 1}
        assert_error "ERR value is not an integer or out of range" {r lrange nokey 0 b}
    }

    # ---- LSET --------------------------------------------------------------

    test "LSET replaces elements" {
        r del l
        r rpush l a b c
        assert_equal OK [r lset l 1 B]
        assert_equal OK [r lset l -1 C]
        assert_equal {a B C} [r lrange l 0 -1]
    }

    test "LSET errors" {
        assert_error "ERR index out of range" {r lset l 3 x}
        assert_error "ERR index out of range" {r lset l -4 x}
        assert_error "ERR value is not an integer or out of range" {r lset l x x}
        assert_error "ERR no such key" {r lset nokey 0 x}
        assert_error "ERR no such key" {r lset nokey x x}
        assert_equal 0 [r exists nokey]
    }

    # ---- LINSERT -----------------------------------------------------------

    test "LINSERT BEFORE and AFTER" {
        r del l
        r rpush l a b c
        assert_equal 4 [r linsert l BEFORE a 0]
        assert_equal 5 [r linsert l after c d]
        assert_equal 6 [r linsert l AFTER a a2]
        assert_equal 7 [r linsert l before c b2]
        assert_equal {0 a a2 b b2 c d} [r lrange l 0 -1]
    }

    test "LINSERT with a missing pivot or key, bad position" {
        assert_equal -1 [r linsert l BEFORE zz x]
        assert_equal 0 [r linsert nokey BEFORE a x]
        assert_equal 0 [r exists nokey]
        assert_error "ERR syntax error" {r linsert l middle a x}
        assert_error "ERR syntax error" {r linsert nokey middle a x}
    }

    test "LINSERT uses the first pivot only" {
        r del l
        r rpush l p p p
        assert_equal 4 [r linsert l AFTER p x]
        assert_equal {p x p p} [r lrange l 0 -1]
    }

    # ---- LREM --------------------------------------------------------------

    test "LREM from the head, the tail, and all" {
        r del l
        r rpush l a x b x c x d
        assert_equal 2 [r lrem l 2 x]
        assert_equal {a b c x d} [r lrange l 0 -1]
        r del l
        r rpush l a x b x c x d
        assert_equal 2 [r lrem l -2 x]
        assert_equal {a x b c d} [r lrange l 0 -1]
        r del l
        r rpush l a x b x c x d
        assert_equal 3 [r lrem l 0 x]
        assert_equal {a b c d} [r lrange l 0 -1]
        assert_equal 0 [r lrem l 1 nothere]
        assert_equal 0 [r lrem nokey 0 a]
    }

    test "LREM removing everything deletes the key" {
        r del l
        r rpush l z z z
        assert_equal 3 [r lrem l 0 z]
        assert_equal 0 [r exists l]
    }

    test "LREM with a bad count" {
        assert_error "ERR value is not an integer or out of range" {r lrem l x a}
        assert_error "ERR value is not an integer or out of range" {r lrem nokey x a}
    }

    # ---- LTRIM -------------------------------------------------------------

    test "LTRIM keeps a range" {
        r del l
        r rpush l a b c d e
        assert_equal OK [r ltrim l 1 -2]
        assert_equal {b c d} [r lrange l 0 -1]
        assert_equal OK [r ltrim l -100 100]
        assert_equal {b c d} [r lrange l 0 -1]
        assert_equal OK [r ltrim l 1 1]
        assert_equal {c} [r lrange l 0 -1]
    }

    test "LTRIM to an empty range deletes the key" {
        r del l
        r rpush l a b c
        assert_equal OK [r ltrim l 1 0]
        assert_equal 0 [r exists l]
        r rpush l a b
        assert_equal OK [r ltrim l 5 10]
        assert_equal 0 [r exists l]
        assert_equal OK [r ltrim nokey 0 1]
        assert_error "ERR value is not an integer or out of range" {r ltrim l a 1}
    }

    test "A capped list with LPUSH + LTRIM" {
        r del l
        for {set i 0} {$i < 100} {incr i} {
            r lpush l $i
            r ltrim l 0 9
        }
        assert_equal {99 98 97 96 95 94 93 92 91 90} [r lrange l 0 -1]
    }

    # ---- LPOS --------------------------------------------------------------

    test "LPOS basics, RANK, COUNT and MAXLEN" {
        r del l
        r rpush l a b c a b c a
        assert_equal 0 [r lpos l a]
        assert_equal 2 [r lpos l c]
        assert_equal 3 [r lpos l a RANK 2]
        assert_equal 6 [r lpos l a RANK -1]
        assert_equal 0 [r lpos l a RANK -3]
        assert_equal {} [r lpos l a RANK 4]
        assert_equal {0 3 6} [r lpos l a COUNT 0]
        assert_equal {0 3} [r lpos l a COUNT 2]
        assert_equal {6 3} [r lpos l a RANK -1 COUNT 2]
        assert_equal {0 3} [r lpos l a COUNT 0 MAXLEN 4]
        assert_equal {} [r lpos l a RANK -2 COUNT 2 MAXLEN 3]
        assert_equal {3} [r lpos l a RANK 1 COUNT 1 RANK 2]
    }

    test "LPOS with no match or no key" {
        assert_equal {$-1} [raw_reply lpos l zz]
        assert_equal {*0} [raw_reply lpos l zz COUNT 1]
        assert_equal {$-1} [raw_reply lpos nokey a]
        assert_equal {*0} [raw_reply lpos nokey a COUNT 1]
    }

    test "LPOS errors" {
        set rank0 "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
        assert_error $rank0 {r lpos l a RANK 0}
        assert_error $rank0 {r lpos nokey a RANK 0}
        assert_error "ERR COUNT can't be negative" {r lpos l a COUNT -1}
        assert_error "ERR MAXLEN can't be negative" {r lpos l a MAXLEN -1}
        assert_error "ERR value is not an integer or out of range" {r lpos l a RANK x}
        assert_error "ERR syntax error" {r lpos l a RANK}
        assert_error "ERR syntax error" {r lpos l a FOO 1}
    }

    # ---- LMOVE / RPOPLPUSH -------------------------------------------------

    test "LMOVE between two lists" {
        r del src dst
        r rpush src a b c
        assert_equal a [r lmove src dst LEFT RIGHT]
        assert_equal c [r lmove src dst right left]
        assert_equal {b} [r lrange src 0 -1]
        assert_equal {c a} [r lrange dst 0 -1]
        assert_equal b [r lmove src dst LEFT LEFT]
        assert_equal 0 [r exists src]
        assert_equal {b c a} [r lrange dst 0 -1]
        assert_equal {} [r lmove src dst LEFT LEFT]
    }

    test "LMOVE and RPOPLPUSH on one key rotate it" {
        r del l
        r rpush l a b c
        assert_equal a [r lmove l l LEFT RIGHT]
        assert_equal {b c a} [r lrange l 0 -1]
        assert_equal a [r lmove l l RIGHT LEFT]
        assert_equal {a b c} [r lrange l 0 -1]
        assert_equal c [r rpoplpush l l]
        assert_equal {c a b} [r lrange l 0 -1]
        r del one
        r rpush one only
        assert_equal only [r lmove one one LEFT RIGHT]
        assert_equal {only} [r lrange one 0 -1]
    }

    test "RPOPLPUSH moves the last element" {
        r del a b
        r rpush a 1 2 3
        assert_equal 3 [r rpoplpush a b]
        assert_equal 2 [r rpoplpush a b]
        assert_equal {2 3} [r lrange b 0 -1]
        assert_equal {} [r rpoplpush nokey b]
    }

    test "LMOVE syntax and arity" {
        assert_error "ERR syntax error" {r lmove a b MIDDLE LEFT}
        assert_error "ERR syntax error" {r lmove a b LEFT UP}
        assert_error "ERR wrong number of arguments for 'lmove' command" {r lmove a b LEFT}
    }

    # ---- LMPOP -------------------------------------------------------------

    test "LMPOP pops from the first non-empty list" {
        r del m1 m2
        r rpush m2 a b c
        assert_equal {m2 a} [r lmpop 2 m1 m2 LEFT]
        assert_equal {m2 {c b}} [r lmpop 2 m1 m2 RIGHT COUNT 5]
        assert_equal 0 [r exists m2]
        assert_equal {*-1} [raw_reply lmpop 2 m1 m2 LEFT]
        r rpush m1 x y
        r rpush m2 z
        assert_equal {m1 {x y}} [r lmpop 2 m1 m2 left count 2]
        assert_equal {m2 z} [r lmpop 2 m1 m2 left]
    }

    test "LMPOP errors" {
        assert_error "ERR numkeys should be greater than 0" {r lmpop 0 m1 LEFT}
        assert_error "ERR numkeys should be greater than 0" {r lmpop -1 m1 LEFT}
        assert_error "ERR numkeys should be greater than 0" {r lmpop x m1 LEFT}
        assert_error "ERR syntax error" {r lmpop 2 m1 LEFT}
        assert_error "ERR syntax error" {r lmpop 1 m1 MIDDLE}
        assert_error "ERR syntax error" {r lmpop 1 m1 LEFT COUNT}
        assert_error "ERR count should be greater than 0" {r lmpop 1 m1 LEFT COUNT 0}
        assert_error "ERR count should be greater than 0" {r lmpop 1 m1 LEFT COUNT x}
        assert_error "ERR syntax error" {r lmpop 1 m1 LEFT COUNT 1 COUNT 2}
        assert_error "ERR syntax error" {r lmpop 1 m1 LEFT FOO}
        assert_error "ERR wrong number of arguments for 'lmpop' command" {r lmpop 1 m1}
    }

    # ---- types, arity, binary ---------------------------------------------

    test "List commands on a string are WRONGTYPE" {
        r del wl
        r set str v
        r rpush wl a
        foreach cmd {
            {lpush str a} {rpush str a} {lpushx str a} {rpushx str a}
            {lpop str} {rpop str 0} {llen str} {lindex str 0} {lindex str x}
            {lrange str 0 -1} {lset str 0 x} {lset str x x}
            {linsert str BEFORE a b} {lrem str 0 a} {ltrim str 0 1} {lpos str a}
            {lmove str wl LEFT LEFT} {lmove wl str LEFT LEFT} {rpoplpush wl str}
            {lmpop 2 nokey str LEFT}
        } {
            assert_error "WRONGTYPE*" {r {*}$cmd} $cmd
        }
        assert_equal {a} [r lrange wl 0 -1]
        assert_equal v [r get str]
        assert_equal {} [r lmove nokey str LEFT LEFT]
        assert_equal {wl a} [r lmpop 2 wl str LEFT]
    }

    test "Other commands see a list as WRONGTYPE, TYPE says list" {
        r del wl
        r rpush wl a
        assert_error "WRONGTYPE*" {r get wl}
        assert_equal list [r type wl]
    }

    test "Arity errors" {
        foreach {name cmd} {
            lpush {lpush k} rpush {rpush k} lpushx {lpushx k} rpushx {rpushx k}
            lpop {lpop} rpop {rpop} llen {llen k x} lindex {lindex k}
            lrange {lrange k 0} lset {lset k 0} linsert {linsert k before a}
            lrem {lrem k 0} ltrim {ltrim k 0} lpos {lpos k}
            rpoplpush {rpoplpush a}
        } {
            assert_error "ERR wrong number of arguments for '$name' command" {r {*}$cmd}
        }
    }

    test "Elements are binary safe" {
        r del l
        set v1 "a\x00b"
        set v2 "\r\n"
        set v3 ""
        for {set i 0} {$i < 256} {incr i} { append v3 [format %c $i] }
        r rpush l $v1 $v2 "" $v3
        assert_equal [list $v1 $v2 "" $v3] [r lrange l 0 -1]
        assert_equal 1 [r lpos l $v2]
        assert_equal 5 [r linsert l AFTER $v1 "\x00"]
        assert_equal "\x00" [r lindex l 1]
        assert_equal 1 [r lrem l 0 ""]
        assert_equal $v3 [r rpop l]
    }

    test "Binary keys" {
        set k "k\x00\r\nk"
        r del $k
        r lpush $k v
        assert_equal 1 [r llen $k]
        assert_equal 0 [r llen k]
    }

    # ---- big lists, expiry ------------------------------------------------

    test "A 20000-element list: windows, LINDEX, LSET, LINSERT, LREM in the middle" {
        r del big
        set n 20000
        for {set i 0} {$i < $n} {incr i 500} {
            set args {}
            for {set j $i} {$j < $i + 500} {incr j} { lappend args e$j }
            r rpush big {*}$args
        }
        assert_equal $n [r llen big]
        assert_equal e10000 [r lindex big 10000]
        assert_equal e10000 [r lindex big -10000]
        assert_equal {e9998 e9999 e10000 e10001} [r lrange big 9998 10001]
        assert_equal {e9998 e9999} [r lrange big -10002 -10001]
        assert_equal 15000 [r lpos big e15000]
        assert_equal OK [r lset big 12000 mid]
        assert_equal mid [r lindex big 12000]
        assert_equal [expr {$n + 1}] [r linsert big BEFORE e10000 ins]
        assert_equal {e9999 ins e10000} [r lrange big 9999 10001]
        assert_equal e19999 [r lindex big -1]
        assert_equal 1 [r lrem big 0 ins]
        assert_equal 1 [r lrem big -1 mid]
        assert_equal [expr {$n - 1}] [r llen big]
        assert_equal {e11999 e12001} [r lrange big 11999 12000]
        assert_equal OK [r ltrim big 5000 5004]
        assert_equal {e5000 e5001 e5002 e5003 e5004} [r lrange big 0 -1]
    }

    test "An expired list is gone, and a new push starts fresh" {
        r del l
        r rpush l a b
        r pexpire l 100
        r rpush l c
        assert_morethan [r pttl l] 0
        after 200
        assert_equal 0 [r llen l]
        assert_equal 0 [r exists l]
        assert_equal 1 [r rpush l new]
        assert_equal {new} [r lrange l 0 -1]
        assert_equal -1 [r ttl l]
    }

    test "DEL then a new list under the same name" {
        r del l
        r rpush l a b c
        assert_equal 1 [r del l]
        assert_equal 1 [r lpush l z]
        assert_equal {z} [r lrange l 0 -1]
    }

    test "List commands inside MULTI" {
        r del l
        r multi
        r rpush l 1 2
        r lrange l 0 -1
        assert_equal {2 {1 2}} [r exec]
    }
}
