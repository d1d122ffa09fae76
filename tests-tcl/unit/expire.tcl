# Key expiration (Redis 7 behaviour) and TTL persistence across restarts.

start_server {tags {expire}} {

    # ---- EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT -------------------------------

    test "EXPIRE sets a TTL" {
        r flushall
        r set k v
        assert_equal 1 [r expire k 100]
        assert_range [r ttl k] 98 100
        assert_range [r pttl k] 98000 100000
    }

    test "EXPIRE on a missing key returns 0" {
        assert_equal 0 [r expire no-such-key 100]
        assert_equal 0 [r exists no-such-key]
    }

    test "EXPIRE replaces an existing TTL" {
        r set k v ex 100
        assert_equal 1 [r expire k 500]
        assert_range [r ttl k] 498 500
        assert_equal 1 [r expire k 50]
        assert_range [r ttl k] 48 50
    }

    test "PEXPIRE sets a TTL in milliseconds" {
        r set k v
        assert_equal 1 [r pexpire k 150000]
        assert_range [r pttl k] 148000 150000
        assert_range [r ttl k] 148 150
        assert_equal 0 [r pexpire no-such-key 1000]
    }

    test "EXPIREAT sets an absolute expire time" {
        r set k v
        set at [expr {[clock seconds] + 100}]
        assert_equal 1 [r expireat k $at]
        assert_range [r ttl k] 98 100
        assert_equal $at [r expiretime k]
        assert_equal 0 [r expireat no-such-key $at]
    }

    test "PEXPIREAT sets an absolute expire time in milliseconds" {
        r set k v
        set at [expr {[clock milliseconds] + 100000}]
        assert_equal 1 [r pexpireat k $at]
        assert_range [r pttl k] 98000 100000
        assert_equal $at [r pexpiretime k]
        assert_equal 0 [r pexpireat no-such-key $at]
    }

    test "EXPIRE with a negative or zero time deletes the key" {
        r set k v
        assert_equal 1 [r expire k -1]
        assert_equal 0 [r exists k]
        r set k v
        assert_equal 1 [r expire k 0]
        assert_equal {} [r get k]
        r set k v
        assert_equal 1 [r pexpire k -100]
        assert_equal 0 [r exists k]
    }

    test "EXPIREAT / PEXPIREAT in the past delete the key" {
        r set k v
        assert_equal 1 [r expireat k 1]
        assert_equal 0 [r exists k]
        r set k v
        assert_equal 1 [r pexpireat k [expr {[clock milliseconds] - 1000}]]
        assert_equal 0 [r exists k]
    }

    test "EXPIRE with a non-integer time" {
        r set k v
        assert_error "ERR value is not an integer or out of range" {r expire k abc}
        assert_error "ERR value is not an integer or out of range" {r pexpire k 1.5}
        assert_error "ERR value is not an integer or out of range" {r expireat k ""}
        assert_equal -1 [r ttl k]
    }

    test "EXPIRE with a time that overflows" {
        r set k v
        assert_error "ERR invalid expire time in 'expire' command" {r expire k 9223372036854775807}
        assert_error "ERR invalid expire time in 'pexpire' command" {r pexpire k 9223372036854775807}
        assert_error "ERR invalid expire time in 'expireat' command" {r expireat k 9223372036854775807}
        assert_equal 1 [r exists k]
        assert_equal -1 [r ttl k]
    }

    test "EXPIRE wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'expire' command" {r expire k}
        assert_error "ERR wrong number of arguments for 'pexpireat' command" {r pexpireat k}
    }

    # ---- NX / XX / GT / LT -------------------------------------------------

    test "EXPIRE NX sets a TTL only when there is none" {
        r set k v
        assert_equal 1 [r expire k 100 nx]
        assert_range [r ttl k] 98 100
        assert_equal 0 [r expire k 200 nx]
        assert_range [r ttl k] 98 100
    }

    test "EXPIRE XX sets a TTL only when there is one" {
        r set k v
        assert_equal 0 [r expire k 100 xx]
        assert_equal -1 [r ttl k]
        r expire k 100
        assert_equal 1 [r expire k 200 xx]
        assert_range [r ttl k] 198 200
    }

    test "EXPIRE GT sets a TTL only when it is greater" {
        r set k v ex 100
        assert_equal 0 [r expire k 50 gt]
        assert_range [r ttl k] 98 100
        assert_equal 1 [r expire k 200 gt]
        assert_range [r ttl k] 198 200
    }

    test "EXPIRE LT sets a TTL only when it is lower" {
        r set k v ex 100
        assert_equal 0 [r expire k 200 lt]
        assert_range [r ttl k] 98 100
        assert_equal 1 [r expire k 50 lt]
        assert_range [r ttl k] 48 50
    }

    test "EXPIRE GT / LT on a key without TTL (no TTL counts as infinite)" {
        r set k v
        assert_equal 0 [r expire k 100 gt]
        assert_equal -1 [r ttl k]
        assert_equal 1 [r expire k 100 lt]
        assert_range [r ttl k] 98 100
    }

    test "EXPIRE XX GT and XX LT combine" {
        r set k v
        assert_equal 0 [r expire k 100 xx gt]
        assert_equal 0 [r expire k 100 xx lt]
        assert_equal -1 [r ttl k]
        r expire k 100
        assert_equal 1 [r expire k 200 xx gt]
        assert_equal 1 [r expire k 50 xx lt]
        assert_range [r ttl k] 48 50
    }

    test "PEXPIRE / EXPIREAT / PEXPIREAT accept NX XX GT LT" {
        r set k v
        assert_equal 1 [r pexpire k 100000 nx]
        assert_equal 0 [r pexpire k 200000 nx]
        set at [expr {[clock seconds] + 300}]
        assert_equal 1 [r expireat k $at gt]
        assert_equal $at [r expiretime k]
        set pat [expr {[clock milliseconds] + 50000}]
        assert_equal 1 [r pexpireat k $pat lt]
        assert_equal $pat [r pexpiretime k]
        assert_equal 0 [r pexpireat k [expr {$pat + 1000}] lt]
        assert_equal 1 [r pexpireat k [expr {$pat + 1000}] xx]
    }

    test "EXPIRE options are case insensitive" {
        r set k v
        assert_equal 1 [r expire k 100 NX]
        assert_equal 1 [r expire k 200 Gt]
        assert_range [r ttl k] 198 200
    }

    test "EXPIRE with incompatible options" {
        r set k v
        assert_error "ERR NX and XX, GT or LT options at the same time are not compatible" {r expire k 100 nx xx}
        assert_error "ERR NX and XX, GT or LT options at the same time are not compatible" {r expire k 100 nx gt}
        assert_error "ERR NX and XX, GT or LT options at the same time are not compatible" {r expire k 100 nx lt}
        assert_error "ERR NX and XX, GT or LT options at the same time are not compatible" {r pexpire k 100 xx nx}
        assert_error "ERR GT and LT options at the same time are not compatible" {r expire k 100 gt lt}
        assert_error "ERR GT and LT options at the same time are not compatible" {r expireat k 100 lt gt}
        assert_equal -1 [r ttl k]
    }

    test "EXPIRE with an unknown option" {
        r set k v
        assert_error "ERR Unsupported option foo" {r expire k 100 foo}
        assert_error "ERR Unsupported option bar" {r pexpire k 100 nx bar}
        assert_equal -1 [r ttl k]
    }

    # ---- TTL / PTTL / EXPIRETIME / PEXPIRETIME / PERSIST ----------------------

    test "TTL and PTTL of a missing key are -2" {
        assert_equal -2 [r ttl no-such-key]
        assert_equal -2 [r pttl no-such-key]
    }

    test "TTL and PTTL of a key without TTL are -1" {
        r set k v
        assert_equal -1 [r ttl k]
        assert_equal -1 [r pttl k]
    }

    test "PTTL counts down" {
        r set k v px 5000
        set first [r pttl k]
        after 30
        set second [r pttl k]
        assert_range $first 4800 5000
        assert {$second < $first}
    }

    test "EXPIRETIME / PEXPIRETIME" {
        assert_equal -2 [r expiretime no-such-key]
        assert_equal -2 [r pexpiretime no-such-key]
        r set k v
        assert_equal -1 [r expiretime k]
        assert_equal -1 [r pexpiretime k]
        r expireat k 4000000000
        assert_equal 4000000000 [r expiretime k]
        assert_equal 4000000000000 [r pexpiretime k]
        r pexpireat k 4000000000123
        assert_equal 4000000000123 [r pexpiretime k]
        assert_equal 4000000000 [r expiretime k]
    }

    test "EXPIRETIME follows a relative EXPIRE" {
        r set k v
        set before [clock seconds]
        r expire k 1000
        assert_range [r expiretime k] [expr {$before + 999}] [expr {$before + 1001}]
    }

    test "PERSIST removes the TTL" {
        r set k v ex 100
        assert_equal 1 [r persist k]
        assert_equal -1 [r ttl k]
        assert_equal v [r get k]
    }

    test "PERSIST on a key without TTL or a missing key returns 0" {
        r set k v
        assert_equal 0 [r persist k]
        assert_equal 0 [r persist no-such-key]
    }

    test "SET KEEPTTL keeps a TTL set by EXPIRE" {
        r set k v
        r expire k 100
        r set k w keepttl
        assert_range [r ttl k] 98 100
        r set k x
        assert_equal -1 [r ttl k]
    }

    # ---- keys really expire ------------------------------------------------

    test "A key with PX 100 is gone after 200 ms" {
        r set k v px 100
        assert_equal v [r get k]
        assert_equal 1 [r exists k]
        after 200
        assert_equal {} [r get k]
        assert_equal 0 [r exists k]
        assert_equal -2 [r ttl k]
        assert_equal -2 [r pttl k]
    }

    test "A key with PEXPIRE 100 is gone after 200 ms" {
        r set k v
        r pexpire k 100
        after 200
        assert_equal {} [r get k]
        assert_equal 0 [r exists k]
    }

    test "Expired keys are not returned by KEYS, SCAN, MGET or TYPE" {
        r flushall
        r set alive 1
        r set dying 1 px 100
        after 200
        assert_equal {alive} [r keys *]
        assert_equal {alive} [lindex [r scan 0 count 100] 1]
        assert_equal {1 {}} [r mget alive dying]
        assert_equal none [r type dying]
        assert_equal 1 [r exists alive dying]
    }

    test "Expired keys disappear from DBSIZE" {
        r flushall
        for {set i 0} {$i < 20} {incr i} { r set vol:$i v px 50 }
        r set keeper v
        wait_for_condition 100 20 {[r dbsize] == 1} {
            fail "expired keys still counted by DBSIZE: [r dbsize]"
        }
    }

    test "An expired key can be set again without its old TTL" {
        r set k v px 50
        after 100
        assert_equal OK [r set k w]
        assert_equal -1 [r ttl k]
        assert_equal w [r get k]
    }

    test "SET NX succeeds on an expired key" {
        r set k v px 50
        after 100
        assert_equal OK [r set k w nx]
        assert_equal w [r get k]
    }

    test "INCR on an expired key starts from zero" {
        r set counter 100 px 50
        after 100
        assert_equal 1 [r incr counter]
        assert_equal -1 [r ttl counter]
    }

    test "EXPIRE on an expired key returns 0" {
        r set k v px 50
        after 100
        assert_equal 0 [r expire k 100]
        assert_equal 0 [r persist k]
    }

    test "PERSIST saves a key from expiring" {
        r set k v px 100
        r persist k
        after 200
        assert_equal v [r get k]
    }

    test "GETEX PX makes a key expire" {
        r set k v
        assert_equal v [r getex k px 100]
        after 200
        assert_equal 0 [r exists k]
    }

    # ---- persistence of TTLs (ferrocks only: redis runs without RDB/AOF) ----

    tags {ferrocks} {
        test "TTL survives a server restart" {
            r flushall
            r set k v ex 1000
            r set plain v
            set at [expr {[clock milliseconds] + 500000}]
            r set abs v pxat $at
            restart_server
            assert_equal v [r get k]
            assert_range [r ttl k] 990 1000
            assert_equal -1 [r ttl plain]
            assert_equal $at [r pexpiretime abs]
        }

        test "A key that expired while the server was down stays gone" {
            r set short v px 300
            restart_server
            wait_for_condition 50 20 {[r exists short] == 0} {
                fail "key with an elapsed TTL came back after restart"
            }
            assert_equal {} [r get short]
        }

        test "PERSIST survives a server restart" {
            r set k v ex 100
            r persist k
            restart_server
            assert_equal -1 [r ttl k]
            assert_equal v [r get k]
        }

        test "Keys and TTLs survive kill -9" {
            r flushall
            r set k1 v1
            r set k2 v2 ex 1000
            r del k1
            r set k3 v3
            kill9_server
            assert_equal {} [r get k1]
            assert_equal v2 [r get k2]
            assert_range [r ttl k2] 990 1000
            assert_equal v3 [r get k3]
        }
    }
}
