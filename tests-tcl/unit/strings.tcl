# String commands (Redis 7 behaviour) plus kvrocks CAS / CAD.

start_server {tags {strings}} {

    # ---- SET / GET ---------------------------------------------------------

    test "SET and GET a simple value" {
        r flushall
        assert_equal OK [r set foo bar]
        assert_equal bar [r get foo]
    }

    test "GET of a missing key is nil" {
        assert_equal {} [r get no-such-key]
        assert_equal 0 [r exists no-such-key]
    }

    test "SET overwrites an existing value" {
        r set foo one
        assert_equal OK [r set foo two]
        assert_equal two [r get foo]
    }

    test "SET and GET an empty string" {
        r set empty ""
        assert_equal {} [r get empty]
        assert_equal 1 [r exists empty]
        assert_equal 0 [r strlen empty]
    }

    test "Values are binary safe (NUL, CR, LF)" {
        set v "a\x00b\r\nc\x00\r\n"
        r set bin $v
        assert_equal $v [r get bin]
        assert_equal [string length $v] [r strlen bin]
    }

    test "Values with every byte 0..255 round-trip" {
        set v ""
        for {set i 0} {$i < 256} {incr i} { append v [format %c $i] }
        r set allbytes $v
        assert_equal $v [r get allbytes]
        assert_equal 256 [r strlen allbytes]
    }

    test "Keys are binary safe" {
        set k "key\x00with\r\nbytes"
        r set $k v1
        assert_equal v1 [r get $k]
        assert_equal {} [r get "key"]
        assert_equal 1 [r del $k]
    }

    test "A 1 MB value round-trips" {
        set v [string repeat "0123456789abcdef" 65536]
        assert_equal OK [r set big $v]
        assert_equal $v [r get big]
        assert_equal 1048576 [r strlen big]
        r del big
    }

    test "Many small keys SET then GET back" {
        r flushall
        for {set i 0} {$i < 200} {incr i} { r set key:$i val:$i }
        for {set i 0} {$i < 200} {incr i} {
            assert_equal val:$i [r get key:$i]
        }
        assert_equal 200 [r dbsize]
    }

    test "SET / GET wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'set' command" {r set onlykey}
        assert_error "ERR wrong number of arguments for 'get' command" {r get}
        assert_error "ERR wrong number of arguments for 'get' command" {r get a b}
    }

    # ---- SET options -------------------------------------------------------

    test "SET EX sets a TTL in seconds" {
        r del foo
        assert_equal OK [r set foo bar ex 100]
        assert_range [r ttl foo] 98 100
        assert_range [r pttl foo] 98000 100000
    }

    test "SET PX sets a TTL in milliseconds" {
        assert_equal OK [r set foo bar px 100000]
        assert_range [r pttl foo] 98000 100000
    }

    test "SET EXAT sets an absolute expire time in seconds" {
        set at [expr {[clock seconds] + 200}]
        assert_equal OK [r set foo bar exat $at]
        assert_range [r ttl foo] 198 200
        assert_equal $at [r expiretime foo]
    }

    test "SET PXAT sets an absolute expire time in milliseconds" {
        set at [expr {[clock milliseconds] + 200000}]
        assert_equal OK [r set foo bar pxat $at]
        assert_range [r pttl foo] 198000 200000
        assert_equal $at [r pexpiretime foo]
    }

    test "SET options are case insensitive" {
        assert_equal OK [r set foo bar Ex 100]
        assert_range [r ttl foo] 98 100
        assert_equal OK [r SET foo bar pX 100000]
        assert_range [r ttl foo] 98 100
    }

    test "SET without options clears an existing TTL" {
        r set foo bar ex 100
        r set foo baz
        assert_equal -1 [r ttl foo]
    }

    test "SET NX sets only a missing key" {
        r del foo
        assert_equal OK [r set foo 1 nx]
        assert_equal {} [r set foo 2 nx]
        assert_equal 1 [r get foo]
    }

    test "SET XX sets only an existing key" {
        r del foo
        assert_equal {} [r set foo 1 xx]
        assert_equal 0 [r exists foo]
        r set foo 1
        assert_equal OK [r set foo 2 xx]
        assert_equal 2 [r get foo]
    }

    test "SET NX with EX" {
        r del foo
        assert_equal OK [r set foo 1 nx ex 100]
        assert_range [r ttl foo] 98 100
        assert_equal {} [r set foo 2 nx ex 100]
        assert_equal 1 [r get foo]
    }

    test "SET KEEPTTL keeps the existing TTL" {
        r set foo bar ex 100
        assert_equal OK [r set foo baz keepttl]
        assert_equal baz [r get foo]
        assert_range [r ttl foo] 98 100
    }

    test "SET KEEPTTL on a key without TTL" {
        r set foo bar
        assert_equal OK [r set foo baz keepttl]
        assert_equal -1 [r ttl foo]
    }

    test "SET GET returns the old value" {
        r set foo old
        assert_equal old [r set foo new get]
        assert_equal new [r get foo]
    }

    test "SET GET on a missing key returns nil and sets it" {
        r del foo
        assert_equal {} [r set foo new get]
        assert_equal new [r get foo]
    }

    test "SET GET with EX sets the TTL" {
        r set foo old
        assert_equal old [r set foo new ex 100 get]
        assert_range [r ttl foo] 98 100
    }

    test "SET GET with KEEPTTL" {
        r set foo old ex 100
        assert_equal old [r set foo new keepttl get]
        assert_range [r ttl foo] 98 100
    }

    test "SET NX GET: existing key returns its value and is not changed" {
        r set foo v1
        assert_equal v1 [r set foo v2 nx get]
        assert_equal v1 [r get foo]
    }

    test "SET NX GET: missing key is set and nil returned" {
        r del foo
        assert_equal {} [r set foo v1 nx get]
        assert_equal v1 [r get foo]
    }

    test "SET XX GET: missing key stays missing" {
        r del foo
        assert_equal {} [r set foo v1 xx get]
        assert_equal 0 [r exists foo]
        r set foo v1
        assert_equal v1 [r set foo v2 xx get]
        assert_equal v2 [r get foo]
    }

    test "SET with conflicting or unknown options is a syntax error" {
        assert_error "ERR syntax error" {r set foo bar nx xx}
        assert_error "ERR syntax error" {r set foo bar ex 10 px 100}
        assert_error "ERR syntax error" {r set foo bar ex 10 exat 100000000000}
        assert_error "ERR syntax error" {r set foo bar keepttl ex 10}
        assert_error "ERR syntax error" {r set foo bar ex 10 keepttl}
        assert_error "ERR syntax error" {r set foo bar foo}
        assert_error "ERR syntax error" {r set foo bar ex}
        assert_error "ERR syntax error" {r set foo bar px}
        assert_error "ERR syntax error" {r set foo bar exat}
    }

    test "SET with an invalid expire time" {
        r set foo keep
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar ex 0}
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar ex -1}
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar px 0}
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar px -100}
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar exat 0}
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar pxat 0}
        assert_error "ERR invalid expire time in 'set' command" {r set foo bar ex 9999999999999999}
        assert_equal keep [r get foo]
    }

    test "SET with a non-integer expire time" {
        assert_error "ERR value is not an integer or out of range" {r set foo bar ex abc}
        assert_error "ERR value is not an integer or out of range" {r set foo bar px 1.5}
    }

    # ---- SETNX / SETEX / PSETEX --------------------------------------------

    test "SETNX" {
        r del foo
        assert_equal 1 [r setnx foo 1]
        assert_equal 0 [r setnx foo 2]
        assert_equal 1 [r get foo]
    }

    test "SETNX does not touch an existing key's TTL" {
        r set foo 1 ex 100
        assert_equal 0 [r setnx foo 2]
        assert_range [r ttl foo] 98 100
    }

    test "SETEX sets value and TTL" {
        assert_equal OK [r setex foo 100 bar]
        assert_equal bar [r get foo]
        assert_range [r ttl foo] 98 100
    }

    test "SETEX with an invalid expire time" {
        assert_error "ERR invalid expire time in 'setex' command" {r setex foo 0 bar}
        assert_error "ERR invalid expire time in 'setex' command" {r setex foo -10 bar}
        assert_error "ERR value is not an integer or out of range" {r setex foo abc bar}
        assert_error "ERR wrong number of arguments for 'setex' command" {r setex foo 10}
    }

    test "PSETEX sets value and TTL in milliseconds" {
        assert_equal OK [r psetex foo 100000 bar]
        assert_equal bar [r get foo]
        assert_range [r pttl foo] 98000 100000
    }

    test "PSETEX with an invalid expire time" {
        assert_error "ERR invalid expire time in 'psetex' command" {r psetex foo 0 bar}
        assert_error "ERR invalid expire time in 'psetex' command" {r psetex foo -1 bar}
        assert_error "ERR value is not an integer or out of range" {r psetex foo 1x bar}
    }

    # ---- MGET / MSET / MSETNX ----------------------------------------------

    test "MSET then MGET" {
        r flushall
        assert_equal OK [r mset a 1 b 2 c 3]
        assert_equal {1 2 3} [r mget a b c]
    }

    test "MGET with missing keys returns nil entries" {
        assert_equal {1 {} 3 {}} [r mget a nokey1 c nokey2]
        assert_equal 4 [llength [r mget a nokey1 c nokey2]]
    }

    test "MGET with a repeated key" {
        assert_equal {1 1 1} [r mget a a a]
    }

    test "MSET overwrites and the last duplicate wins" {
        r mset a x a y
        assert_equal y [r get a]
    }

    test "MSET clears TTLs of the keys it writes" {
        r set a 1 ex 100
        r mset a 2
        assert_equal -1 [r ttl a]
    }

    test "MSET / MGET wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'mset' command" {r mset a}
        assert_error "ERR wrong number of arguments for 'mset' command" {r mset a 1 b}
        assert_error "ERR wrong number of arguments for 'mget' command" {r mget}
    }

    test "MSETNX sets all keys when none exists" {
        r del x1 x2 x3
        assert_equal 1 [r msetnx x1 1 x2 2 x3 3]
        assert_equal {1 2 3} [r mget x1 x2 x3]
    }

    test "MSETNX sets nothing when any key exists" {
        r del y1 y3
        r set y2 old
        assert_equal 0 [r msetnx y1 1 y2 2 y3 3]
        assert_equal {{} old {}} [r mget y1 y2 y3]
    }

    test "MSETNX wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'msetnx' command" {r msetnx a 1 b}
    }

    # ---- GETSET / GETDEL / GETEX -------------------------------------------

    test "GETSET returns the old value" {
        r set foo old
        assert_equal old [r getset foo new]
        assert_equal new [r get foo]
    }

    test "GETSET on a missing key" {
        r del foo
        assert_equal {} [r getset foo new]
        assert_equal new [r get foo]
    }

    test "GETSET clears the TTL" {
        r set foo old ex 100
        r getset foo new
        assert_equal -1 [r ttl foo]
    }

    test "GETDEL returns the value and deletes the key" {
        r set foo bar
        assert_equal bar [r getdel foo]
        assert_equal 0 [r exists foo]
        assert_equal {} [r getdel foo]
    }

    test "GETEX without options returns the value and keeps the TTL" {
        r set foo bar ex 100
        assert_equal bar [r getex foo]
        assert_range [r ttl foo] 98 100
        r set foo bar
        assert_equal bar [r getex foo]
        assert_equal -1 [r ttl foo]
    }

    test "GETEX EX / PX set a TTL" {
        r set foo bar
        assert_equal bar [r getex foo ex 100]
        assert_range [r ttl foo] 98 100
        assert_equal bar [r getex foo px 200000]
        assert_range [r pttl foo] 198000 200000
    }

    test "GETEX EXAT / PXAT set an absolute expire time" {
        r set foo bar
        set at [expr {[clock seconds] + 300}]
        assert_equal bar [r getex foo exat $at]
        assert_equal $at [r expiretime foo]
        set pat [expr {[clock milliseconds] + 400000}]
        assert_equal bar [r getex foo pxat $pat]
        assert_equal $pat [r pexpiretime foo]
    }

    test "GETEX PERSIST removes the TTL" {
        r set foo bar ex 100
        assert_equal bar [r getex foo persist]
        assert_equal -1 [r ttl foo]
    }

    test "GETEX on a missing key" {
        r del foo
        assert_equal {} [r getex foo]
        assert_equal {} [r getex foo ex 100]
        assert_equal 0 [r exists foo]
    }

    test "GETEX errors" {
        r set foo bar
        assert_error "ERR invalid expire time in 'getex' command" {r getex foo ex 0}
        assert_error "ERR invalid expire time in 'getex' command" {r getex foo px -5}
        assert_error "ERR value is not an integer or out of range" {r getex foo ex abc}
        assert_error "ERR syntax error" {r getex foo persist ex 10}
        assert_error "ERR syntax error" {r getex foo ex 10 px 100}
        assert_error "ERR syntax error" {r getex foo bogus}
        assert_error "ERR syntax error" {r getex foo ex}
        assert_equal -1 [r ttl foo]
    }

    # ---- INCR family -------------------------------------------------------

    test "INCR on a missing key creates it at 1" {
        r del counter
        assert_equal 1 [r incr counter]
        assert_equal 2 [r incr counter]
        assert_equal 2 [r get counter]
    }

    test "INCRBY / DECR / DECRBY" {
        r set counter 10
        assert_equal 15 [r incrby counter 5]
        assert_equal 14 [r decr counter]
        assert_equal 4 [r decrby counter 10]
        assert_equal -6 [r decrby counter 10]
        assert_equal -1 [r incrby counter 5]
        assert_equal -11 [r incrby counter -10]
    }

    test "DECR on a missing key creates it at -1" {
        r del counter
        assert_equal -1 [r decr counter]
        r del counter
        assert_equal -5 [r decrby counter 5]
    }

    test "INCR works on a value that was SET as a string" {
        r set counter 41
        assert_equal 42 [r incr counter]
        r set counter -7
        assert_equal -6 [r incr counter]
    }

    test "INCR against a non-integer value fails" {
        r set counter abc
        assert_error "ERR value is not an integer or out of range" {r incr counter}
        r set counter 1.5
        assert_error "ERR value is not an integer or out of range" {r incr counter}
        r set counter ""
        assert_error "ERR value is not an integer or out of range" {r incr counter}
        assert_equal {} [r get counter]
    }

    test "INCR rejects spaces, leading zeros and a plus sign" {
        foreach v [list " 1" "1 " "01" "+1" "1\x00"] {
            r set counter $v
            assert_error "ERR value is not an integer or out of range" {r incr counter} "value '$v'"
        }
    }

    test "INCR against a value longer than any integer fails" {
        r set counter 123456789012345678901234567890
        assert_error "ERR value is not an integer or out of range" {r incr counter}
    }

    test "INCRBY with a non-integer increment fails" {
        r set counter 1
        assert_error "ERR value is not an integer or out of range" {r incrby counter abc}
        assert_error "ERR value is not an integer or out of range" {r incrby counter 1.5}
        assert_error "ERR value is not an integer or out of range" {r decrby counter 99999999999999999999}
        assert_equal 1 [r get counter]
    }

    test "INCR at the int64 limits" {
        r set counter 9223372036854775806
        assert_equal 9223372036854775807 [r incr counter]
        assert_error "ERR increment or decrement would overflow" {r incr counter}
        assert_error "ERR increment or decrement would overflow" {r incrby counter 1}
        assert_equal 9223372036854775807 [r get counter]
        r set counter -9223372036854775807
        assert_equal -9223372036854775808 [r decr counter]
        assert_error "ERR increment or decrement would overflow" {r decr counter}
        assert_error "ERR increment or decrement would overflow" {r incrby counter -1}
        assert_equal -9223372036854775808 [r get counter]
    }

    test "DECRBY with the minimum int64 decrement" {
        r set counter 0
        assert_error "ERR decrement would overflow" {r decrby counter -9223372036854775808}
        assert_equal 0 [r get counter]
    }

    test "INCR keeps the TTL" {
        r set counter 5 ex 100
        assert_equal 6 [r incr counter]
        assert_range [r ttl counter] 98 100
    }

    test "INCR / DECR wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'incr' command" {r incr}
        assert_error "ERR wrong number of arguments for 'incrby' command" {r incrby counter}
        assert_error "ERR wrong number of arguments for 'decr' command" {r decr a b}
    }

    # ---- INCRBYFLOAT -------------------------------------------------------

    test "INCRBYFLOAT on a missing key" {
        r del f
        assert_equal 1 [r incrbyfloat f 1]
        assert_equal 1 [r get f]
        r del f
        assert_equal 2.5 [r incrbyfloat f 2.5]
    }

    test "INCRBYFLOAT basic arithmetic" {
        r set f 10.5
        assert_equal 10.6 [r incrbyfloat f 0.1]
        assert_equal 10.6 [r get f]
        r set f 3
        assert_equal 4.5 [r incrbyfloat f 1.5]
        r set f 10
        assert_equal 9.5 [r incrbyfloat f -0.5]
        r set f 1
        assert_equal 2.1 [r incrbyfloat f 1.10]
    }

    test "INCRBYFLOAT with exponent notation and integral results" {
        r set f 5.0e3
        assert_equal 5200 [r incrbyfloat f 2.0e2]
        r set f 3.0
        assert_equal 3 [r incrbyfloat f 0]
        r set f 1
        assert_equal 1 [r incrbyfloat f 0.0]
    }

    test "INCRBYFLOAT against a non-float value fails" {
        r set f abc
        assert_error "ERR value is not a valid float" {r incrbyfloat f 1}
        r set f " 1"
        assert_error "ERR value is not a valid float" {r incrbyfloat f 1}
        assert_equal " 1" [r get f]
    }

    test "INCRBYFLOAT with a non-float increment fails" {
        r set f 1
        assert_error "ERR value is not a valid float" {r incrbyfloat f abc}
        assert_error "ERR value is not a valid float" {r incrbyfloat f ""}
        assert_error "ERR value is not a valid float" {r incrbyfloat f "1 "}
        assert_error "ERR value is not a valid float" {r incrbyfloat f nan}
        assert_equal 1 [r get f]
    }

    test "INCRBYFLOAT producing infinity fails" {
        r set f 1
        assert_error "ERR increment would produce NaN or Infinity" {r incrbyfloat f inf}
        assert_equal 1 [r get f]
    }

    test "INCRBYFLOAT keeps the TTL" {
        r set f 1 ex 100
        assert_equal 2.5 [r incrbyfloat f 1.5]
        assert_range [r ttl f] 98 100
    }

    # ---- APPEND / STRLEN ---------------------------------------------------

    test "APPEND creates a missing key" {
        r del s
        assert_equal 5 [r append s hello]
        assert_equal hello [r get s]
    }

    test "APPEND to an existing value returns the new length" {
        r set s hello
        assert_equal 11 [r append s " world"]
        assert_equal "hello world" [r get s]
        assert_equal 11 [r append s ""]
    }

    test "APPEND is binary safe" {
        r set s "a\x00"
        assert_equal 5 [r append s "\r\n\x00"]
        assert_equal "a\x00\r\n\x00" [r get s]
    }

    test "APPEND keeps the TTL" {
        r set s abc ex 100
        r append s def
        assert_range [r ttl s] 98 100
    }

    test "APPEND to an integer value" {
        r set s 12
        r incr s
        assert_equal 4 [r append s 45]
        assert_equal 1345 [r get s]
    }

    test "STRLEN" {
        r set s hello
        assert_equal 5 [r strlen s]
        assert_equal 0 [r strlen no-such-key]
        r set s 12345
        assert_equal 5 [r strlen s]
    }

    # ---- GETRANGE / SUBSTR -------------------------------------------------

    test "GETRANGE with positive indexes" {
        r set s "Hello World"
        assert_equal Hello [r getrange s 0 4]
        assert_equal "Hello World" [r getrange s 0 10]
        assert_equal d [r getrange s 10 10]
        assert_equal o [r getrange s 4 4]
    }

    test "GETRANGE with negative indexes" {
        r set s "Hello World"
        assert_equal World [r getrange s -5 -1]
        assert_equal rld [r getrange s -3 -1]
        assert_equal "lo World" [r getrange s 3 -1]
        assert_equal "Hello World" [r getrange s 0 -1]
        assert_equal "Hello World" [r getrange s -100 100]
    }

    test "GETRANGE with an empty or out of range result" {
        r set s "Hello World"
        assert_equal {} [r getrange s 5 2]
        assert_equal {} [r getrange s -1 -5]
        assert_equal {} [r getrange s 11 11]
        assert_equal {} [r getrange s 100 200]
        assert_equal {} [r getrange s -1 0]
    }

    test "GETRANGE with start 0 and an end before the string start (Redis 7.0 quirk)" {
        # Redis 7.0 clamps end to 0 and returns the first byte.
        r set s "Hello World"
        assert_equal H [r getrange s 0 -100]
    }

    test "GETRANGE on a missing key or empty value" {
        assert_equal {} [r getrange no-such-key 0 -1]
        r set s ""
        assert_equal {} [r getrange s 0 -1]
    }

    test "GETRANGE on an integer value" {
        r set s 1234
        r incr s
        assert_equal 235 [r getrange s 1 -1]
    }

    test "GETRANGE with non-integer indexes" {
        r set s "Hello"
        assert_error "ERR value is not an integer or out of range" {r getrange s 0 a}
        assert_error "ERR value is not an integer or out of range" {r getrange s x 1}
    }

    test "SUBSTR is an alias of GETRANGE" {
        r set s "Hello World"
        assert_equal Hello [r substr s 0 4]
        assert_equal World [r substr s -5 -1]
        assert_equal {} [r substr no-such-key 0 -1]
    }

    # ---- SETRANGE ----------------------------------------------------------

    test "SETRANGE overwrites part of a value" {
        r set s "Hello World"
        assert_equal 11 [r setrange s 6 Redis]
        assert_equal "Hello Redis" [r get s]
    }

    test "SETRANGE extends the value" {
        r set s "Hello"
        assert_equal 11 [r setrange s 5 " World"]
        assert_equal "Hello World" [r get s]
    }

    test "SETRANGE pads with zero bytes" {
        r del s
        assert_equal 8 [r setrange s 5 abc]
        assert_equal "\x00\x00\x00\x00\x00abc" [r get s]
        r set s ab
        assert_equal 6 [r setrange s 4 cd]
        assert_equal "ab\x00\x00cd" [r get s]
    }

    test "SETRANGE with an empty value" {
        r del s
        assert_equal 0 [r setrange s 0 ""]
        assert_equal 0 [r exists s]
        assert_equal 0 [r setrange s 10 ""]
        assert_equal 0 [r exists s]
        r set s hello
        assert_equal 5 [r setrange s 1 ""]
        assert_equal 5 [r setrange s 100 ""]
        assert_equal hello [r get s]
    }

    test "SETRANGE keeps the TTL" {
        r set s hello ex 100
        r setrange s 0 J
        assert_equal Jello [r get s]
        assert_range [r ttl s] 98 100
    }

    test "SETRANGE with a negative offset" {
        r set s hello
        assert_error "ERR offset is out of range" {r setrange s -1 x}
        assert_equal hello [r get s]
    }

    test "SETRANGE beyond the maximum string size" {
        assert_error "ERR string exceeds maximum allowed size (proto-max-bulk-len)" {r setrange s 536870912 x}
        assert_error "ERR value is not an integer or out of range" {r setrange s abc x}
    }

    # ---- CAS / CAD (kvrocks extensions) ------------------------------------

    tags {ferrocks} {
        test "CAS swaps when the old value matches" {
            r set casKey old
            assert_equal 1 [r cas casKey old new]
            assert_equal new [r get casKey]
        }

        test "CAS does nothing when the value differs" {
            r set casKey current
            assert_equal 0 [r cas casKey other new]
            assert_equal current [r get casKey]
        }

        test "CAS on a missing key returns -1" {
            r del casKey
            assert_equal -1 [r cas casKey old new]
            assert_equal 0 [r exists casKey]
        }

        test "CAS with EX sets a TTL" {
            r set casKey old
            assert_equal 1 [r cas casKey old new ex 100]
            assert_range [r ttl casKey] 98 100
        }

        test "CAS with PX sets a TTL" {
            r set casKey old
            assert_equal 1 [r cas casKey old new px 100000]
            assert_range [r pttl casKey] 98000 100000
        }

        test "CAS with EX does not set the TTL when the value differs" {
            r set casKey old
            assert_equal 0 [r cas casKey other new ex 100]
            assert_equal -1 [r ttl casKey]
        }

        test "CAS is binary safe" {
            r set casKey "a\x00b"
            assert_equal 0 [r cas casKey "a\x00c" x]
            assert_equal 1 [r cas casKey "a\x00b" "\r\n"]
            assert_equal "\r\n" [r get casKey]
        }

        test "CAS errors" {
            assert_error "*wrong number of arguments*" {r cas casKey old}
            assert_error "*ERR*" {r cas casKey old new ex}
            assert_error "*ERR*" {r cas casKey old new ex abc}
            assert_error "*ERR*" {r cas casKey old new bogus 10}
        }

        test "CAD deletes when the value matches" {
            r set cadKey v
            assert_equal 1 [r cad cadKey v]
            assert_equal 0 [r exists cadKey]
        }

        test "CAD does nothing when the value differs" {
            r set cadKey v
            assert_equal 0 [r cad cadKey other]
            assert_equal v [r get cadKey]
        }

        test "CAD on a missing key returns -1" {
            r del cadKey
            assert_equal -1 [r cad cadKey v]
        }

        test "CAD errors" {
            assert_error "*wrong number of arguments*" {r cad cadKey}
            assert_error "*wrong number of arguments*" {r cad cadKey a b}
        }
    }
}
