# Bitmap commands (Redis 7 behaviour): SETBIT GETBIT BITCOUNT BITPOS BITOP
# BITFIELD BITFIELD_RO. ferrocks keeps bitmaps made by SETBIT in 1 KiB
# fragments; the same bytes as a string must give the same replies.

# The bits of a value as a string of 0/1 characters.
proc bits_of {v} {
    binary scan $v B* b
    return $b
}

# Redis's range rules: negatives from the end, clamped; {} when empty.
proc model_span {len start end} {
    if {$start < 0} { set start [expr {max(0, $len + $start)}] }
    if {$end < 0} { set end [expr {max(0, $len + $end)}] }
    if {$end >= $len} { set end [expr {$len - 1}] }
    if {$len == 0 || $start > $end} { return {} }
    return [list $start $end]
}

# BITCOUNT of value v over a byte or bit range.
proc model_bitcount {v start end unit} {
    # Redis 7.0: two negative indexes with start after end count nothing,
    # even when both would clamp to the first byte (BITPOS has no such rule).
    if {$start < 0 && $end < 0 && $start > $end} { return 0 }
    set b [bits_of $v]
    set len [expr {$unit eq "bit" ? [string length $b] : [string length $v]}]
    set span [model_span $len $start $end]
    if {$span eq {}} { return 0 }
    lassign $span s e
    if {$unit eq "byte"} { set s [expr {$s * 8}]; set e [expr {$e * 8 + 7}] }
    return [expr {[string length [string map {0 {}} [string range $b $s $e]]]}]
}

# BITPOS of value v with an explicit end.
proc model_bitpos {v bit start end unit} {
    set b [bits_of $v]
    set len [expr {$unit eq "bit" ? [string length $b] : [string length $v]}]
    set span [model_span $len $start $end]
    if {$span eq {}} { return -1 }
    lassign $span s e
    if {$unit eq "byte"} { set s [expr {$s * 8}]; set e [expr {$e * 8 + 7}] }
    set i [string first $bit [string range $b $s $e]]
    if {$i < 0} { return -1 }
    return [expr {$s + $i}]
}

# A pseudo-random value of n bytes with long zero and 0xff runs.
proc make_value {n seed} {
    expr {srand($seed)}
    set v ""
    set i 0
    while {$i < $n} {
        set run [expr {int(rand() * 300) + 1}]
        set kind [expr {int(rand() * 3)}]
        for {set j 0} {$j < $run && $i < $n} {incr j; incr i} {
            if {$kind == 0} {
                append v "\x00"
            } elseif {$kind == 1} {
                append v "\xff"
            } else {
                append v [format %c [expr {int(rand() * 256)}]]
            }
        }
    }
    return $v
}

# Builds key as the bytes of v with SETBIT only (a bitmap in ferrocks).
proc setbits {key v} {
    set b [bits_of $v]
    set cmds {}
    set i 0
    foreach c [split $b ""] {
        if {$c eq "1"} { lappend cmds [list setbit $key $i 1] }
        incr i
    }
    lappend cmds [list setbit $key [expr {$i - 1}] [string index $b end]]
    foreach reply [r pipeline $cmds] {
        if {[string match -* $reply]} { error $reply }
    }
}

start_server {tags {bitmap}} {

    test "SETBIT and GETBIT basics" {
        r flushall
        assert_equal 0 [r setbit b 1 1]
        assert_equal 1 [r setbit b 1 1]
        assert_equal 0 [r setbit b 7 1]
        assert_equal "\x41" [r get b]
        assert_equal 1 [r getbit b 1]
        assert_equal 0 [r getbit b 2]
        assert_equal 0 [r getbit b 1000000]
        assert_equal 0 [r getbit missing 0]
        assert_equal string [r type b]
        assert_equal 1 [r setbit b 7 0]
        assert_equal "\x40" [r get b]
    }

    test "SETBIT past the end grows the value with zeros" {
        assert_equal 0 [r setbit z 100 0]
        assert_equal 13 [r strlen z]
        assert_equal [string repeat "\x00" 13] [r get z]
    }

    test "SETBIT and GETBIT argument errors" {
        assert_error "ERR bit offset is not an integer or out of range" {r setbit b 4294967296 1}
        assert_error "ERR bit offset is not an integer or out of range" {r setbit b -1 1}
        assert_error "ERR bit offset is not an integer or out of range" {r getbit b x}
        assert_error "ERR bit is not an integer or out of range" {r setbit b 0 2}
        assert_error "ERR bit is not an integer or out of range" {r setbit b 0 01}
        assert_error "ERR wrong number of arguments for 'setbit' command" {r setbit b 0}
        r lpush list a
        assert_error "WRONGTYPE*" {r setbit list 0 1}
        assert_error "WRONGTYPE*" {r getbit list 0}
        assert_error "WRONGTYPE*" {r bitcount list}
        assert_error "WRONGTYPE*" {r bitpos list 1}
    }

    test "SETBIT at the last offset is fast and reads back" {
        r del big
        set t [clock milliseconds]
        assert_equal 0 [r setbit big 4294967295 1]
        assert_equal 536870912 [r strlen big]
        assert_equal "\x00\x01" [r getrange big -2 -1]
        assert_equal 1 [r getbit big 4294967295]
        assert_equal 1 [r bitcount big -1 -1]
        assert_equal 4294967295 [r bitpos big 1 -1]
        assert_equal 0 [r bitpos big 0]
        r del big
        assert_lessthan [expr {[clock milliseconds] - $t}] 10000
    }

    test "SETBIT on a string keeps its bytes and its TTL" {
        r set s foobar
        r expire s 100
        assert_equal 0 [r setbit s 7 1]
        assert_equal goobar [r get s]
        assert_morethan [r ttl s] 0
        assert_equal 7 [r append s "!"]
        assert_equal "goobar!" [r get s]
    }

    test "String commands read a bitmap" {
        r del n
        foreach bit {2 3 7} { r setbit n $bit 1 }
        assert_equal 1 [r get n]
        assert_equal 1 [r strlen n]
        assert_equal {1 {}} [r mget n nokey]
        assert_equal 2 [r incr n]
        assert_equal 1 [r getbit n 6]
        r del b
        r setbit b 15 1
        assert_equal "\x01" [r getrange b 1 1]
        assert_equal 4 [r append b xy]
        assert_equal "\x00\x01xy" [r get b]
        r del g
        r setbit g 1 1
        assert_equal "\x40" [r getset g new]
        assert_equal new [r get g]
    }

    test "BITCOUNT and BITPOS: bitmap, string and model agree" {
        set v [make_value 3000 7]
        r set str $v
        setbits bm $v
        assert_equal $v [r get bm]
        assert_equal [model_bitcount $v 0 -1 byte] [r bitcount str]
        assert_equal [model_bitcount $v 0 -1 byte] [r bitcount bm]
        expr {srand(11)}
        for {set i 0} {$i < 150} {incr i} {
            set unit [expr {rand() < 0.5 ? "byte" : "bit"}]
            set max [expr {$unit eq "byte" ? 3200 : 25600}]
            set s [expr {int(rand() * 2 * $max) - $max}]
            set e [expr {int(rand() * 2 * $max) - $max}]
            set want [model_bitcount $v $s $e $unit]
            assert_equal $want [r bitcount str $s $e $unit]
            assert_equal $want [r bitcount bm $s $e $unit]
            foreach bit {0 1} {
                set want [model_bitpos $v $bit $s $e $unit]
                assert_equal $want [r bitpos str $bit $s $e $unit]
                assert_equal $want [r bitpos bm $bit $s $e $unit]
            }
        }
    }

    test "BITPOS looks past the end for 0 only without an explicit end" {
        set ones [string repeat "\xff" 2100]
        r set ones $ones
        setbits ones_bm $ones
        foreach k {ones ones_bm} {
            assert_equal 16800 [r bitpos $k 0]
            assert_equal 16800 [r bitpos $k 0 1]
            assert_equal -1 [r bitpos $k 0 0 -1]
            assert_equal -1 [r bitpos $k 0 8 -1 bit]
            assert_equal -1 [r bitpos $k 0 3000]
        }
        assert_equal -1 [r bitpos nokey 1]
        assert_equal 0 [r bitpos nokey 0]
    }

    test "BITCOUNT of two negative indexes in reverse order is 0" {
        r set s3 "\xff\xf0\x00"
        assert_equal 0 [r bitcount s3 -4 -5]
        assert_equal 8 [r bitcount s3 -5 -4]
        assert_equal 0 [r bitpos s3 1 -4 -5]
        assert_equal -1 [r bitpos s3 0 -4 -5]
        r setbit bm3 0 1
        assert_equal 0 [r bitcount bm3 -4 -5]
        assert_equal 1 [r bitcount bm3 -5 -4]
        assert_equal 0 [r bitpos bm3 1 -4 -5]
    }

    test "BITCOUNT and BITPOS argument errors" {
        r set s foobar
        assert_error "ERR syntax error" {r bitcount s 0}
        assert_error "ERR syntax error" {r bitcount s 0 1 foo}
        assert_error "ERR value is not an integer or out of range" {r bitcount s 0 x}
        assert_error "ERR The bit argument must be 1 or 0." {r bitpos s 2}
        assert_error "ERR syntax error" {r bitpos s 1 0 1 bit x}
        assert_equal 0 [r bitcount nokey 0]
    }

    test "BITOP AND OR XOR NOT with unequal lengths" {
        r set a "\xff\x0f"
        r set b "\x0f\xf0\x01\x80"
        assert_equal 4 [r bitop and d a b]
        assert_equal "\x0f\x00\x00\x00" [r get d]
        assert_equal 4 [r bitop or d a b]
        assert_equal "\xff\xff\x01\x80" [r get d]
        assert_equal 4 [r bitop xor d a b]
        assert_equal "\xf0\xff\x01\x80" [r get d]
        assert_equal 2 [r bitop not d a]
        assert_equal "\x00\xf0" [r get d]
        assert_equal 4 [r bitop and d a b nokey]
        assert_equal "\x00\x00\x00\x00" [r get d]
    }

    test "BITOP over bitmaps spanning several fragments" {
        set v [make_value 3000 3]
        set w [make_value 2000 5]
        setbits bv $v
        r set sw $w
        assert_equal 3000 [r bitop xor out bv sw]
        set got [r get out]
        binary scan $v cu* vb
        binary scan $w cu* wb
        set want ""
        for {set i 0} {$i < 3000} {incr i} {
            set x [lindex $vb $i]
            set y [expr {$i < 2000 ? [lindex $wb $i] : 0}]
            append want [format %c [expr {$x ^ $y}]]
        }
        assert_equal $want $got
    }

    test "BITOP replaces the destination and deletes it when empty" {
        r del dl
        r rpush dl x
        r expire dl 100
        assert_equal 4 [r bitop or dl b]
        assert_equal "\x0f\xf0\x01\x80" [r get dl]
        assert_equal -1 [r ttl dl]
        assert_equal 0 [r bitop or dl nokey1 nokey2]
        assert_equal 0 [r exists dl]
        assert_error "ERR syntax error" {r bitop foo d a}
        assert_error "ERR BITOP NOT must be called with a single source key." {r bitop not d a b}
        assert_error "WRONGTYPE*" {r bitop and d a list}
    }

    test "BITFIELD GET SET INCRBY and overflow modes" {
        r set s x
        assert_equal {120 120 255 9187343239835811841 -72057594037927934} \
            [r bitfield s get u8 0 set i8 0 -1 get u8 0 incrby u63 0 1 get i64 0]
        assert_equal {-128 -72 {}} \
            [r bitfield s overflow sat incrby i8 0 -200 overflow wrap incrby i8 0 -200 overflow fail set u4 0 20]
        assert_equal {184 8} [r bitfield_ro s get u8 0 get u4 4]
        r del u
        assert_equal {0 4 0 3 0} \
            [r bitfield u set u8 #1 250 incrby u8 #1 10 overflow sat incrby u8 #1 -10 incrby u2 100 7 get u8 8]
        assert_equal 13 [r strlen u]
    }

    test "BITFIELD on a bitmap matches the string" {
        r del bf
        foreach bit {1 2 3 4} { r setbit bf $bit 1 }
        assert_equal {120 120 255} [r bitfield bf get u8 0 set i8 0 -1 get u8 0]
        assert_equal {-1 -128} [r bitfield bf get i8 0 overflow sat incrby i8 0 -200]
    }

    test "BITFIELD reads of a missing key create nothing" {
        assert_equal {0 0} [r bitfield nk get u8 0 get i4 100]
        assert_equal {} [r bitfield nk]
        assert_equal 0 [r exists nk]
        assert_equal {{}} [r bitfield nk2 overflow fail incrby u2 100 5]
        assert_equal 13 [r strlen nk2]
    }

    test "BITFIELD argument errors" {
        assert_error "ERR Invalid bitfield type*" {r bitfield k get u64 0}
        assert_error "ERR Invalid bitfield type*" {r bitfield k get i65 0}
        assert_error "ERR Invalid bitfield type*" {r bitfield k get i0 0}
        assert_error "ERR bit offset is not an integer or out of range" {r bitfield k get u8 -1}
        assert_error "ERR bit offset is not an integer or out of range" {r bitfield k get u8 #536870912}
        assert_error "ERR value is not an integer or out of range" {r bitfield k set u8 0 x}
        assert_error "ERR Invalid OVERFLOW type specified" {r bitfield k overflow foo}
        assert_error "ERR syntax error" {r bitfield k foo}
        assert_error "ERR syntax error" {r bitfield k get u8}
        assert_error "ERR BITFIELD_RO only supports the GET subcommand" {r bitfield_ro k set u8 0 1}
        assert_error "WRONGTYPE*" {r bitfield list get u8 0}
    }

    test "Bitmaps expire and can be deleted" {
        r del x
        r setbit x 9 1
        r pexpire x 50
        after 150
        assert_equal 0 [r exists x]
        assert_equal 0 [r getbit x 9]
        r setbit x 0 1
        assert_equal 1 [r bitcount x]
        assert_equal 1 [r del x]
        assert_equal 0 [r bitcount x]
    }
}
