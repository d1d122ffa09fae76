# CONFIG GET / SET / REWRITE / RESETSTAT.

# Read a whole file.
proc slurp {path} {
    set f [open $path r]
    set data [read $f]
    close $f
    return $data
}

# Index of the first line of LINES equal to LINE (after trimming), or -1.
proc line_index {lines line} {
    set i 0
    foreach l $lines {
        if {[string trim $l] eq $line} { return $i }
        incr i
    }
    return -1
}

start_server {tags {config}} {

    # ---- CONFIG GET --------------------------------------------------------

    test "CONFIG GET port" {
        assert_equal [list port [srv port]] [r config get port]
    }

    test "CONFIG GET maxclients" {
        set res [r config get maxclients]
        assert_equal 2 [llength $res]
        assert_equal maxclients [lindex $res 0]
        assert {[string is integer -strict [lindex $res 1]] && [lindex $res 1] > 0}
    }

    test "CONFIG GET bind" {
        set res [r config get bind]
        assert_equal bind [lindex $res 0]
        assert_match *127.0.0.1* [lindex $res 1]
    }

    test "CONFIG GET dir" {
        set res [r config get dir]
        assert_equal dir [lindex $res 0]
        assert_equal [file normalize [srv dir]] [file normalize [lindex $res 1]]
    }

    test "CONFIG GET with a glob pattern" {
        set res [r config get slowlog*]
        assert {[llength $res] % 2 == 0}
        assert {[dict exists $res slowlog-max-len]}
        assert {[dict exists $res slowlog-log-slower-than]}
        foreach {k v} $res { assert_match slowlog* $k }
        assert {[string is integer -strict [dict get $res slowlog-max-len]]}
    }

    test "CONFIG GET with ? and * patterns" {
        set res [r config get slowlog-max-le?]
        assert_equal slowlog-max-len [lindex $res 0]
        set res [r config get *max-len]
        assert {[dict exists $res slowlog-max-len]}
        foreach {k v} $res { assert_match *max-len $k }
    }

    test "CONFIG GET * returns name/value pairs" {
        set res [r config get *]
        assert {[llength $res] % 2 == 0}
        assert {[llength $res] > 10}
        assert {[dict exists $res port]}
        assert {[dict exists $res maxclients]}
        assert_equal [srv port] [dict get $res port]
    }

    test "CONFIG GET of an unknown key is an empty list" {
        assert_equal {} [r config get no-such-config-key]
        assert_equal {} [r config get no-such-*-pattern]
    }

    test "CONFIG GET with several patterns" {
        set res [r config get port timeout]
        assert_equal 4 [llength $res]
        assert_equal [srv port] [dict get $res port]
        assert {[dict exists $res timeout]}
    }

    test "CONFIG GET wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'config|get' command" {r config get}
        assert_error "ERR wrong number of arguments for 'config' command" {r config}
    }

    # ---- CONFIG SET --------------------------------------------------------

    test "CONFIG SET slowlog-max-len then GET reflects it" {
        assert_equal OK [r config set slowlog-max-len 200]
        assert_equal {slowlog-max-len 200} [r config get slowlog-max-len]
        assert_equal OK [r config set slowlog-max-len 128]
        assert_equal {slowlog-max-len 128} [r config get slowlog-max-len]
    }

    test "CONFIG SET timeout then GET reflects it" {
        assert_equal OK [r config set timeout 30]
        assert_equal {timeout 30} [r config get timeout]
        assert_equal OK [r config set timeout 0]
        assert_equal {timeout 0} [r config get timeout]
    }

    test "CONFIG SET maxclients then GET reflects it" {
        set old [lindex [r config get maxclients] 1]
        assert_equal OK [r config set maxclients 500]
        assert_equal {maxclients 500} [r config get maxclients]
        r config set maxclients $old
        assert_equal [list maxclients $old] [r config get maxclients]
    }

    test "CONFIG SET slowlog-log-slower-than" {
        assert_equal OK [r config set slowlog-log-slower-than 5000]
        assert_equal {slowlog-log-slower-than 5000} [r config get slowlog-log-slower-than]
        r config set slowlog-log-slower-than 10000
    }

    test "CONFIG SET is visible to other clients" {
        r config set slowlog-max-len 321
        set c [redis_client]
        assert_equal {slowlog-max-len 321} [$c config get slowlog-max-len]
        $c close
        r config set slowlog-max-len 128
    }

    test "CONFIG SET with several pairs" {
        assert_equal OK [r config set timeout 10 slowlog-max-len 300]
        assert_equal {timeout 10} [r config get timeout]
        assert_equal {slowlog-max-len 300} [r config get slowlog-max-len]
        r config set timeout 0 slowlog-max-len 128
    }

    test "CONFIG SET with an invalid value is an error and changes nothing" {
        r config set slowlog-max-len 128
        assert_error "*ERR*" {r config set slowlog-max-len abc}
        assert_equal {slowlog-max-len 128} [r config get slowlog-max-len]
        assert_error "*ERR*" {r config set timeout -1}
        assert_equal {timeout 0} [r config get timeout]
        assert_error "*ERR*" {r config set maxclients 0}
    }

    test "CONFIG SET of an immutable key is an error: dir" {
        set before [r config get dir]
        assert_error "*ERR*" {r config set dir /tmp}
        assert_equal $before [r config get dir]
    }

    test "CONFIG SET of an immutable key is an error: daemonize" {
        assert_error "*ERR*" {r config set daemonize yes}
    }

    test "CONFIG SET of an unknown key is an error" {
        assert_error "*ERR*" {r config set no-such-config-key 1}
        assert_equal {} [r config get no-such-config-key]
    }

    test "CONFIG SET wrong number of arguments" {
        assert_error "ERR wrong number of arguments for 'config|set' command" {r config set}
        assert_error "ERR wrong number of arguments for 'config|set' command" {r config set timeout}
    }

    test "CONFIG with an unknown subcommand" {
        assert_error "ERR unknown subcommand 'foo'. Try CONFIG HELP." {r config foo}
    }

    tags {ferrocks} {
        test "CONFIG SET of an immutable key is an error: port" {
            assert_error "*ERR*" {r config set port [expr {[srv port] + 1}]}
            assert_equal [list port [srv port]] [r config get port]
            assert_equal PONG [r ping]
        }
    }

    # ---- CONFIG RESETSTAT --------------------------------------------------

    test "CONFIG RESETSTAT" {
        assert_equal OK [r config resetstat]
        assert_error "ERR wrong number of arguments for 'config|resetstat' command" {r config resetstat x}
    }

    # ---- CONFIG REWRITE without a file -------------------------------------

    test "CONFIG REWRITE without a config file is an error" {
        assert_error "*ERR*" {r config rewrite}
    }
}

# ---- CONFIG REWRITE with a config file ---------------------------------------

set conftext {# ferrocks test config: first comment
slowlog-max-len 100

# second comment (kept in place)
timeout 0
# last comment
}

start_server [list tags {config} config $conftext] {

    test "The server reads its config file" {
        assert_equal {slowlog-max-len 100} [r config get slowlog-max-len]
    }

    test "CONFIG REWRITE keeps comments and writes the new value" {
        assert_equal OK [r config set slowlog-max-len 250]
        assert_equal OK [r config rewrite]
        set lines [split [slurp [srv config_file]] "\n"]
        set c1 [line_index $lines "# ferrocks test config: first comment"]
        set c2 [line_index $lines "# second comment (kept in place)"]
        set c3 [line_index $lines "# last comment"]
        assert {$c1 >= 0 && $c2 >= 0 && $c3 >= 0} "comments still present"
        assert {$c1 < $c2 && $c2 < $c3} "comments in their original order"
        assert {[line_index $lines "slowlog-max-len 250"] >= 0} "new value written"
        assert {[line_index $lines "slowlog-max-len 100"] < 0} "old value removed"
    }

    test "CONFIG REWRITE updates the value in place" {
        set lines [split [slurp [srv config_file]] "\n"]
        set c1 [line_index $lines "# ferrocks test config: first comment"]
        set c2 [line_index $lines "# second comment (kept in place)"]
        set v [line_index $lines "slowlog-max-len 250"]
        assert {$c1 < $v && $v < $c2} "value line stays between the first and second comment"
    }

    test "CONFIG REWRITE twice keeps the file stable" {
        r config set timeout 15
        assert_equal OK [r config rewrite]
        set first [slurp [srv config_file]]
        assert_equal OK [r config rewrite]
        assert_equal $first [slurp [srv config_file]]
        set lines [split $first "\n"]
        assert {[line_index $lines "timeout 15"] >= 0}
        assert_equal 1 [llength [lsearch -all -regexp $lines {^\s*slowlog-max-len\s}]]
    }

    test "The rewritten config file is used after a restart" {
        restart_server
        assert_equal {slowlog-max-len 250} [r config get slowlog-max-len]
        assert_equal {timeout 15} [r config get timeout]
        set lines [split [slurp [srv config_file]] "\n"]
        assert {[line_index $lines "# last comment"] >= 0}
    }
}
