# DUMP / RESTORE in Redis's payload format (Redis 7 behaviour).

proc unhex {h} { binary format H* $h }

# Payloads captured from redis-server 7.0 (RDB version 10).
set ::redis_payload(hash) [unhex 10151500000004008266310382763103826632036401ff0a00d6c981a26e1cdba6]
set ::redis_payload(list) [unhex 1201020f0f00000003008161028162020301ff0a00dca1e67d50055048]
set ::redis_payload(set) [unhex 0b0e02000000030000000100020003000a00a5025ce26d6e4d1b]
set ::redis_payload(zset) [unhex 1114140000000400816102010181620283322e3504ff0a00d44c6ea4f644d9d7]
set ::redis_payload(hll) [unhex 002148594c4c0100000000000000000000805c7b8044768050b184498c80426d80425a0a00471edbd9f013d59b]
set ::redis_payload(string) [unhex 000568656c6c6f0a006372df766534200a]

# Valid checksums (RDB version 9) around objects that cannot load.
set ::bad_object(stream) [unhex 0f000900bea04ec1d550e37a]
set ::bad_object(empty-set) [unhex 02000900ea3c68cccf0f5a59]
set ::bad_object(duplicate) [unhex 020301610162016109006a8b2a5cba483adf]
set ::bad_object(nan-score) [unhex 05010161000000000000f87f0900200b786552d23a96]

start_server {tags {dump}} {

    test "DUMP of a missing key is nil" {
        r flushall
        assert_equal {} [r dump nosuchkey]
    }

    test "DUMP / RESTORE a string, binary safe" {
        set v "a\x00b\r\nc\xff"
        r set s $v
        set p [r dump s]
        assert_equal OK [r restore s2 0 $p]
        assert_equal $v [r get s2]
        r set n 12345
        assert_equal OK [r restore n2 0 [r dump n]]
        assert_equal 12345 [r get n2]
        r set long [string repeat abcd 2000]
        assert_equal OK [r restore long2 0 [r dump long]]
        assert_equal [string repeat abcd 2000] [r get long2]
    }

    test "DUMP / RESTORE a list keeps the order" {
        r del l
        r rpush l b c "x\x00y"
        r lpush l a
        assert_equal OK [r restore l2 0 [r dump l]]
        assert_equal [list a b c "x\x00y"] [r lrange l2 0 -1]
    }

    test "DUMP / RESTORE a set, a sorted set and a hash" {
        r sadd st 1 2 a "\r\n"
        r zadd zs 1.5 a -inf b 3 c
        r hset hs f1 v1 f2 "" "\x00" "\xff"
        foreach k {st zs hs} { assert_equal OK [r restore $k:copy 0 [r dump $k]] }
        assert_equal [lsort [r smembers st]] [lsort [r smembers st:copy]]
        assert_equal {b -inf a 1.5 c 3} [r zrange zs:copy 0 -1 withscores]
        assert_equal [lsort [r hgetall hs]] [lsort [r hgetall hs:copy]]
        assert_equal "\xff" [r hget hs:copy "\x00"]
    }

    test "DUMP / RESTORE big keys" {
        set args {}
        for {set i 0} {$i < 3000} {incr i} { lappend args f$i v$i }
        r hset bigh {*}$args
        r rpush bigl {*}$args
        assert_equal OK [r restore bigh2 0 [r dump bigh]]
        assert_equal OK [r restore bigl2 0 [r dump bigl]]
        assert_equal 3000 [r hlen bigh2]
        assert_equal v2999 [r hget bigh2 f2999]
        assert_equal 6000 [r llen bigl2]
        assert_equal {f1500 v1500} [r lrange bigl2 3000 3001]
    }

    test "DUMP / RESTORE a HyperLogLog" {
        r pfadd hll a b c d e f
        assert_equal OK [r restore hll2 0 [r dump hll]]
        assert_equal 6 [r pfcount hll2]
        assert_equal 1 [r pfadd hll2 g]
        assert_equal 7 [r pfcount hll2]
    }

    test "DUMP / RESTORE a bitmap gives its bytes" {
        r setbit bm 7 1
        r setbit bm 100 1
        assert_equal OK [r restore bm2 0 [r dump bm]]
        assert_equal [r get bm] [r get bm2]
        assert_equal 2 [r bitcount bm2]
    }

    test "Payloads written by redis-server 7.0 restore" {
        foreach k {hash list set zset hll string} {
            assert_equal OK [r restore redis:$k 0 $::redis_payload($k) replace]
        }
        assert_equal {f1 v1 f2 100} [r hgetall redis:hash]
        assert_equal {a b 3} [r lrange redis:list 0 -1]
        assert_equal {1 2 3} [lsort [r smembers redis:set]]
        assert_equal {a 1 b 2.5} [r zrange redis:zset 0 -1 withscores]
        assert_equal 5 [r pfcount redis:hll]
        assert_equal hello [r get redis:string]
    }

    test "Payloads of Redis 7.2 / 7.4 (RDB 11, 12, set listpack) restore" {
        # RDB 11: the string "hi"; RDB 12: a set as a listpack {a b}.
        assert_equal OK [r restore v11 0 [unhex 000268690b00c6b4229b73aef29d]]
        assert_equal hi [r get v11]
        assert_equal OK [r restore v12 0 [unhex 140d0d0000000200816102816202ff0c00a84583074e16a194]]
        assert_equal {a b} [lsort [r smembers v12]]
    } {ferrocks}

    test "RESTORE of an existing key is BUSYKEY unless REPLACE" {
        r set k v
        set p [r dump s]
        assert_error "BUSYKEY Target key name already exists." {r restore k 0 $p}
        # BUSYKEY comes before the checks of the TTL and the payload.
        assert_error "BUSYKEY*" {r restore k abc garbage}
        assert_equal OK [r restore k 0 $p replace]
        assert_equal [r get s] [r get k]
        assert_equal OK [r restore k 0 [r dump bigh] replace]
        assert_equal hash [r type k]
    }

    test "RESTORE with a TTL, ABSTTL, and an expire time in the past" {
        set p [r dump st]
        assert_equal OK [r restore t1 10000 $p]
        assert_range [r pttl t1] 9000 10000
        assert_equal OK [r restore t2 [expr {[now_ms] + 20000}] $p absttl]
        assert_range [r pttl t2] 19000 20000
        assert_equal OK [r restore t3 1 $p absttl]
        assert_equal 0 [r exists t3]
        r set t4 old
        assert_equal OK [r restore t4 1 $p absttl replace]
        assert_equal 0 [r exists t4]
        assert_equal OK [r restore t5 100 $p]
        after 200
        assert_equal 0 [r exists t5]
    }

    test "RESTORE argument errors" {
        set p [r dump st]
        assert_error "ERR Invalid TTL value, must be >= 0" {r restore x -1 $p}
        assert_error "ERR value is not an integer or out of range" {r restore x abc $p}
        assert_error "ERR syntax error" {r restore x 0 $p foo}
        assert_error "ERR Invalid IDLETIME value, must be >= 0" {r restore x 0 $p idletime -1}
        assert_error "ERR Invalid FREQ value, must be >= 0 and <= 255" {r restore x 0 $p freq 256}
        assert_error "ERR syntax error" {r restore x 0 $p freq 1 idletime 1}
        assert_error "ERR wrong number of arguments for 'restore' command" {r restore x 0}
        assert_equal 0 [r exists x]
        assert_equal OK [r restore x 0 $p idletime 10]
    }

    test "Damaged payloads are refused" {
        set p [r dump bigh]
        set wrong "ERR DUMP payload version or checksum are wrong"
        assert_error $wrong {r restore d 0 garbage}
        assert_error $wrong {r restore d 0 ""}
        assert_error $wrong {r restore d 0 [string range $p 0 end-1]}
        assert_error $wrong {r restore d 0 [string range $p 0 20]}
        foreach i {0 1 5 100 2000} {
            set b [string replace $p $i $i [format %c [expr {[scan [string index $p $i] %c] ^ 0x10}]]]
            assert_error $wrong {r restore d 0 $b}
        }
        foreach i {1 2 3 5 8} {
            set b [string replace $p end-$i end-$i [format %c [expr {[scan [string index $p end-$i] %c] ^ 1}]]]
            assert_error $wrong {r restore d 0 $b}
        }
        foreach name {stream empty-set duplicate nan-score} {
            assert_error "ERR Bad data format" {r restore d 0 $::bad_object($name)}
        }
        assert_equal 0 [r exists d]
        assert_equal PONG [r ping]
    }
}
