# RESP protocol handling: inline commands, protocol errors, pipelining,
# HELLO / RESP3, generic command errors.

# A new connection can still talk to the server.
proc assert_server_alive {} {
    set c [redis_client]
    assert_equal PONG [$c ping] "server answers a new connection"
    $c close
}

# Send BYTES on a fresh connection; expect the error reply ERROR (without
# the leading '-') followed by the server closing the connection.
proc assert_protocol_error {bytes error} {
    set c [redis_client]
    $c raw_write $bytes
    set shown [resp::printable [string range $bytes 0 59]]
    if {[string length $bytes] > 60} { append shown "...([string length $bytes] bytes)" }
    if {[catch {$c raw_read_all 3000} got]} {
        $c close
        fail "sent '$shown': expected '-$error' and the connection closed, got $got"
    }
    $c close
    assert_equal "-$error\r\n" $got "reply to '$shown', then close"
    assert_server_alive
}

# Send BYTES on a fresh connection and return the first reply line.
proc raw_first_line {bytes} {
    set c [redis_client]
    $c raw_write $bytes
    set line [$c raw_gets]
    $c close
    return $line
}

start_server {tags {protocol}} {

    # ---- inline commands ---------------------------------------------------

    test "Inline PING" {
        set c [redis_client]
        $c raw_write "PING\r\n"
        assert_equal +PONG [$c raw_gets]
        $c close
    }

    test "Inline command terminated by LF only" {
        assert_equal +PONG [raw_first_line "PING\n"]
    }

    test "Inline commands are case insensitive" {
        assert_equal +PONG [raw_first_line "pInG\r\n"]
    }

    test "Inline SET with a double quoted argument" {
        set c [redis_client]
        $c raw_write "set inlinekey \"a b\"\r\nget inlinekey\r\n"
        assert_equal +OK [$c raw_gets]
        assert_equal {$3} [$c raw_gets]
        assert_equal "a b" [$c raw_gets]
        $c close
        assert_equal "a b" [r get inlinekey]
    }

    test "Inline command with a single quoted argument" {
        set c [redis_client]
        $c raw_write "set inlinekey 'c d'\r\n"
        assert_equal +OK [$c raw_gets]
        $c close
        assert_equal "c d" [r get inlinekey]
    }

    test "Inline double quotes interpret escapes, single quotes do not" {
        set c [redis_client]
        $c raw_write "set esc1 \"A\\x42\\n\"\r\nset esc2 'A\\x42'\r\n"
        assert_equal +OK [$c raw_gets]
        assert_equal +OK [$c raw_gets]
        $c close
        assert_equal "AB\n" [r get esc1]
        assert_equal "A\\x42" [r get esc2]
    }

    test "Inline empty quoted argument" {
        set c [redis_client]
        $c raw_write "set emptyinline \"\"\r\n"
        assert_equal +OK [$c raw_gets]
        $c close
        assert_equal 1 [r exists emptyinline]
        assert_equal 0 [r strlen emptyinline]
    }

    test "Inline command with extra spaces" {
        set c [redis_client]
        $c raw_write "   ECHO    hello   \r\n"
        assert_equal {$5} [$c raw_gets]
        assert_equal hello [$c raw_gets]
        $c close
    }

    test "Empty inline lines are ignored" {
        set c [redis_client]
        $c raw_write "\r\n\r\n   \r\nPING\r\n"
        assert_equal +PONG [$c raw_gets]
        $c close
    }

    test "Several inline commands in one write" {
        set c [redis_client]
        $c raw_write "PING\r\nECHO x\r\nPING\r\n"
        assert_equal +PONG [$c raw_gets]
        assert_equal {$1} [$c raw_gets]
        assert_equal x [$c raw_gets]
        assert_equal +PONG [$c raw_gets]
        $c close
    }

    test "Inline unbalanced quotes" {
        assert_protocol_error "set k \"a b\r\n" "ERR Protocol error: unbalanced quotes in request"
        assert_protocol_error "set k 'a b\r\n" "ERR Protocol error: unbalanced quotes in request"
    }

    test "Inline closing quote followed by a non-space" {
        assert_protocol_error "echo \"a\"b\r\n" "ERR Protocol error: unbalanced quotes in request"
    }

    test "Inline request too big" {
        assert_protocol_error [string repeat x 70000] "ERR Protocol error: too big inline request"
    }

    # ---- multibulk protocol errors -----------------------------------------

    test "Non-numeric multibulk length" {
        assert_protocol_error "*abc\r\n" "ERR Protocol error: invalid multibulk length"
    }

    test "Multibulk length with a sign" {
        assert_protocol_error "*+3\r\n" "ERR Protocol error: invalid multibulk length"
    }

    test "Multibulk length above INT_MAX" {
        assert_protocol_error "*2147483648\r\n" "ERR Protocol error: invalid multibulk length"
    }

    tags {ferrocks} {
        test "Multibulk length too large (3000000)" {
            assert_protocol_error "*3000000\r\n" "ERR Protocol error: invalid multibulk length"
        }
    }

    test "Multibulk element that is not a bulk string" {
        assert_protocol_error "*1\r\nfoo\r\n" "ERR Protocol error: expected '\$', got 'f'"
        assert_protocol_error "*2\r\n\$4\r\nECHO\r\n:1\r\n" "ERR Protocol error: expected '\$', got ':'"
    }

    test "Bulk length over proto-max-bulk-len" {
        assert_protocol_error "*1\r\n\$536870913\r\n" "ERR Protocol error: invalid bulk length"
    }

    test "Non-numeric or negative bulk length" {
        assert_protocol_error "*1\r\n\$abc\r\n" "ERR Protocol error: invalid bulk length"
        assert_protocol_error "*1\r\n\$-1\r\n" "ERR Protocol error: invalid bulk length"
        assert_protocol_error "*1\r\n\$-5\r\n" "ERR Protocol error: invalid bulk length"
    }

    test "Replies before a protocol error are delivered" {
        set c [redis_client]
        $c raw_write "PING\r\n*1\r\n\$4\r\nPING\r\n*abc\r\n"
        assert_equal "+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n" [$c raw_read_all 5000]
        $c close
        assert_server_alive
    }

    test "The connection that got a protocol error is closed, others are not" {
        set other [redis_client]
        assert_equal PONG [$other ping]
        set c [redis_client]
        $c raw_write "*abc\r\n"
        $c raw_read_all 5000
        $c close
        assert_equal PONG [$other ping]
        $other close
    }

    test "Empty and null multibulk are ignored" {
        set c [redis_client]
        $c raw_write "*0\r\n*-1\r\nPING\r\n"
        assert_equal +PONG [$c raw_gets]
        $c close
    }

    test "Empty bulk argument" {
        set c [redis_client]
        $c raw_write "*2\r\n\$4\r\nECHO\r\n\$0\r\n\r\n"
        assert_equal {$0} [$c raw_gets]
        assert_equal {} [$c raw_gets]
        $c close
    }

    test "A command split across many writes" {
        set c [redis_client]
        set bytes [resp::encode {SET splitkey splitvalue}]
        foreach ch [split $bytes ""] {
            $c raw_write $ch
        }
        assert_equal +OK [$c raw_gets]
        $c raw_write "*1\r\n\$4\r\nPI"
        after 50
        $c raw_write "NG\r\n"
        assert_equal +PONG [$c raw_gets]
        $c close
        assert_equal splitvalue [r get splitkey]
    }

    test "A bulk argument larger than the read buffer" {
        set v [string repeat "abcdefgh" 100000]
        set c [redis_client]
        assert_equal OK [$c set bigarg $v]
        assert_equal 800000 [$c strlen bigarg]
        assert_equal $v [$c get bigarg]
        $c close
    }

    # ---- pipelining ----------------------------------------------------------

    test "Pipelining 10000 commands in one write" {
        r del pipecounter
        set c [redis_client]
        set buf ""
        for {set i 0} {$i < 10000} {incr i} {
            append buf [resp::encode {INCR pipecounter}]
        }
        $c raw_write $buf
        set ok 1
        for {set i 1} {$i <= 10000} {incr i} {
            set reply [$c read]
            if {$reply != $i} {
                set ok 0
                fail "reply $i was '$reply'"
            }
        }
        $c close
        assert_equal 10000 [r get pipecounter]
    }

    test "Pipelined SET / GET keep their order" {
        set cmds {}
        for {set i 0} {$i < 2000} {incr i} {
            lappend cmds [list set pk:$i v$i] [list get pk:$i]
        }
        set c [redis_client]
        set replies [$c pipeline $cmds]
        $c close
        assert_equal 4000 [llength $replies]
        for {set i 0} {$i < 2000} {incr i} {
            assert_equal OK [lindex $replies [expr {2 * $i}]]
            assert_equal v$i [lindex $replies [expr {2 * $i + 1}]]
        }
    }

    test "Errors inside a pipeline do not break it" {
        set c [redis_client]
        set replies [$c pipeline {{set pe 1} {get} {incr pe} {nosuchcommand} {get pe}}]
        $c close
        assert_equal OK [lindex $replies 0]
        assert_equal "-ERR wrong number of arguments for 'get' command" [lindex $replies 1]
        assert_equal 2 [lindex $replies 2]
        assert_match "-ERR unknown command 'nosuchcommand'*" [lindex $replies 3]
        assert_equal 2 [lindex $replies 4]
    }

    test "Pipelining 1000 inline commands in one write" {
        set c [redis_client]
        $c raw_write [string repeat "PING\r\n" 1000]
        for {set i 0} {$i < 1000} {incr i} {
            assert_equal +PONG [$c raw_gets]
        }
        $c close
    }

    # ---- generic command errors --------------------------------------------

    test "Unknown command" {
        assert_error "ERR unknown command 'foo', with args beginning with: 'a' 'b' " {r foo a b}
    }

    test "Unknown command without arguments" {
        assert_error "ERR unknown command 'foo', with args beginning with: " {r foo}
    }

    test "Unknown command keeps the name's case" {
        assert_error "ERR unknown command 'FooBar', with args beginning with: 'x' " {r FooBar x}
    }

    test "Unknown command with long arguments is truncated to 128 bytes of arguments" {
        set x [string repeat x 200]
        assert_error "ERR unknown command 'foo', with args beginning with: '[string repeat x 128]' " {r foo $x}
        set a [string repeat a 100]
        set b [string repeat b 100]
        assert_error "ERR unknown command 'foo', with args beginning with: '$a' '[string repeat b 25]' " {r foo $a $b}
    }

    test "Unknown command with many arguments lists only the first ones" {
        set args {}
        foreach l {a b c d e f g h i j k l m n o p q r s t u v w x y z} { lappend args $l }
        foreach l {aa bb cc dd ee ff gg hh} { lappend args $l }
        set expected "ERR unknown command 'foo', with args beginning with: "
        foreach l {a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee} {
            append expected "'$l' "
        }
        assert_error $expected {r foo {*}$args}
    }

    test "Unknown command error replaces newlines in arguments" {
        assert_error "ERR unknown command 'foo', with args beginning with: 'a  b' " {r foo "a\r\nb"}
    }

    test "Wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'get' command" {r get}
        assert_error "ERR wrong number of arguments for 'get' command" {r GET}
        assert_error "ERR wrong number of arguments for 'set' command" {r SeT x}
        assert_error "ERR wrong number of arguments for 'ping' command" {r ping a b}
        assert_error "ERR wrong number of arguments for 'echo' command" {r echo}
        assert_error "ERR wrong number of arguments for 'echo' command" {r echo a b}
    }

    test "Commands are case insensitive" {
        assert_equal OK [r SeT casekey v]
        assert_equal v [r gEt casekey]
        assert_equal v [r GET casekey]
    }

    test "The connection stays usable after command errors" {
        catch {r foo}
        catch {r get}
        assert_equal PONG [r ping]
    }

    # ---- PING / ECHO / QUIT --------------------------------------------------

    test "PING" {
        assert_equal PONG [r ping]
        set c [redis_client]
        $c raw_write "*1\r\n\$4\r\nPING\r\n"
        assert_equal +PONG [$c raw_gets]
        $c close
    }

    test "PING with an argument returns it as a bulk string" {
        assert_equal hello [r ping hello]
        set c [redis_client]
        $c raw_write "*2\r\n\$4\r\nPING\r\n\$5\r\nhello\r\n"
        assert_equal {$5} [$c raw_gets]
        assert_equal hello [$c raw_gets]
        $c close
    }

    test "ECHO" {
        assert_equal hello [r echo hello]
        assert_equal "a\x00b\r\n" [r echo "a\x00b\r\n"]
        assert_equal {} [r echo ""]
    }

    test "QUIT replies OK and closes the connection" {
        set c [redis_client]
        $c raw_write "*1\r\n\$4\r\nQUIT\r\n"
        assert_equal "+OK\r\n" [$c raw_read_all 5000]
        $c close
        assert_server_alive
    }

    test "QUIT in the middle of a pipeline ignores the rest" {
        set c [redis_client]
        $c raw_write "PING\r\nQUIT\r\nSET afterquit 1\r\n"
        assert_equal "+PONG\r\n+OK\r\n" [$c raw_read_all 5000]
        $c close
        assert_equal 0 [r exists afterquit]
    }

    # ---- HELLO / RESP3 -------------------------------------------------------

    test "HELLO 3 returns a map with proto 3" {
        set c [redis_client]
        set res [$c hello 3]
        assert_equal 3 [dict get $res proto]
        foreach field {server version proto id mode role modules} {
            assert {[dict exists $res $field]} "HELLO reply has '$field'"
        }
        assert_equal master [dict get $res role]
        assert_equal standalone [dict get $res mode]
        $c close
    }

    test "HELLO 3 reply is a RESP3 map on the wire" {
        set c [redis_client]
        $c raw_write [resp::encode {HELLO 3}]
        assert_match {%*} [$c raw_gets]
        $c close
    }

    test "After HELLO 3 nil is the RESP3 null" {
        set c [redis_client]
        $c hello 3
        $c raw_write [resp::encode {GET no-such-key}]
        assert_equal _ [$c raw_gets]
        $c close
    }

    test "After HELLO 3 CONFIG GET replies with a map" {
        set c [redis_client]
        $c hello 3
        $c raw_write [resp::encode {CONFIG GET port}]
        assert_equal {%1} [$c raw_gets]
        $c close
        set c [redis_client]
        $c hello 3
        assert_equal [list port [srv port]] [$c config get port]
        $c close
    }

    test "HELLO 2 returns proto 2 as a flat array" {
        set c [redis_client]
        $c raw_write [resp::encode {HELLO 2}]
        set header [$c raw_gets]
        assert_match {\*[1-9]*} $header
        assert {[string range $header 1 end] % 2 == 0} "even number of elements"

        $c close
        set c [redis_client]
        set res [$c hello 2]
        assert_equal 2 [dict get $res proto]
        $c close
    }

    test "HELLO 3 then HELLO 2 switches back to RESP2" {
        set c [redis_client]
        $c hello 3
        $c hello 2
        $c raw_write [resp::encode {GET no-such-key}]
        assert_equal {$-1} [$c raw_gets]
        $c close
    }

    test "HELLO without arguments keeps the protocol" {
        set c [redis_client]
        assert_equal 2 [dict get [$c hello] proto]
        $c close
    }

    test "HELLO with an unsupported protocol version" {
        assert_error "NOPROTO*" {r hello 4}
        assert_error "NOPROTO*" {r hello 1}
        assert_error "ERR Protocol version is not an integer or out of range" {r hello abc}
        assert_equal PONG [r ping]
    }
}
