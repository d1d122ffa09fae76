# Pure-TCL RESP client used by the ferrocks test suite.
#
#   set c [resp::connect 127.0.0.1 6379]
#   $c set foo bar            ;# => OK
#   $c get foo                ;# => bar
#   $c get nosuchkey          ;# => {} (nil is the empty string)
#   catch {$c get} e          ;# e => "ERR wrong number of arguments for 'get' command"
#
# Methods that are not sent to the server (everything else is a command):
#   close                     close the connection (never raises)
#   send CMD ?ARG ...?        write one command, do not read the reply
#   read                      read one reply (server errors raise TCL errors)
#   pipeline {{CMD ..} ...}   write all commands in one write, read all replies;
#                             returns the list of replies, with server errors
#                             kept in place as "-ERR ..." strings
#   raw_write BYTES           write bytes exactly as given (then flush)
#   raw_gets                  read one line (CRLF stripped) without parsing
#   raw_read N                read exactly N bytes
#   raw_read_all ?MS?         read everything until the server closes the
#                             connection (error if it does not within MS ms)
#   closed_by_server ?MS?     1 if the server closes the connection (EOF)
#                             within MS ms with no more data, 0 otherwise
#   fd | port | host          introspection
#   timeout ?MS?              get/set the per-read timeout (default 10000 ms)
#
# Replies: simple strings / bulk strings / integers / doubles / big numbers
# are returned as strings, nil (RESP2 $-1 / *-1, RESP3 _) as {}, booleans as
# 1/0, arrays / sets / pushes as TCL lists, maps as flat key value lists
# (usable with dict get), verbatim strings without their 4-byte format
# prefix; attributes are read and discarded.  Error replies (- and !) raise
# a TCL error whose message is the error text without the leading '-', and
# whose errorCode is {REDIS ERRORPREFIX message}.
#
# Values are binary: the socket uses -translation binary, so each TCL char
# 0..255 is one byte on the wire.  Arguments containing chars above 255 are
# sent UTF-8 encoded.

namespace eval resp {
    variable seq 0
    variable state
    variable ready
    variable default_timeout 10000
}

proc resp::connect {host port args} {
    variable seq
    variable state
    variable default_timeout
    set timeout $default_timeout
    foreach {k v} $args {
        switch -- $k {
            -timeout { set timeout $v }
            default { error "resp::connect: unknown option $k" }
        }
    }
    set fd [socket $host $port]
    fconfigure $fd -translation binary -blocking 0 -buffering full -buffersize 65536
    set id [incr seq]
    set name ::resp::client$id
    set state($id,fd) $fd
    set state($id,host) $host
    set state($id,port) $port
    set state($id,timeout) $timeout
    proc $name {args} "::resp::dispatch $id {*}\$args"
    return $name
}

proc resp::dispatch {id args} {
    variable state
    if {![info exists state($id,fd)]} {
        error "RESP client $id is closed"
    }
    set fd $state($id,fd)
    set method [lindex $args 0]
    switch -exact -- $method {
        close {
            catch {fconfigure $fd -blocking 1}
            catch {close $fd}
            array unset state $id,*
            rename ::resp::client$id {}
            return
        }
        send {
            write_command $fd [lrange $args 1 end]
            flush $fd
            return
        }
        read { return [read_reply $id] }
        pipeline {
            set cmds [lindex $args 1]
            foreach cmd $cmds { write_command $fd $cmd }
            flush $fd
            set out {}
            foreach cmd $cmds {
                if {[catch {read_reply $id} reply opts]} {
                    if {[lindex [dict get $opts -errorcode] 0] ne "REDIS"} {
                        return -options $opts $reply
                    }
                    set reply "-$reply"
                }
                lappend out $reply
            }
            return $out
        }
        raw_write {
            puts -nonewline $fd [lindex $args 1]
            flush $fd
            return
        }
        raw_gets { return [read_line $id] }
        raw_read { return [read_bytes $id [lindex $args 1]] }
        raw_read_all {
            set ms [expr {[llength $args] > 1 ? [lindex $args 1] : $state($id,timeout)}]
            return [read_until_eof $id $ms]
        }
        closed_by_server {
            set ms [expr {[llength $args] > 1 ? [lindex $args 1] : 2000}]
            if {[catch {read_until_eof $id $ms} data]} { return 0 }
            return [expr {$data eq ""}]
        }
        fd { return $fd }
        port { return $state($id,port) }
        host { return $state($id,host) }
        timeout {
            if {[llength $args] > 1} { set state($id,timeout) [lindex $args 1] }
            return $state($id,timeout)
        }
        default {
            write_command $fd $args
            flush $fd
            return [read_reply $id]
        }
    }
}

# Encode a command (list of arguments) as a RESP array of bulk strings.
proc resp::encode {argv} {
    set buf "*[llength $argv]\r\n"
    foreach a $argv {
        if {[regexp {[^\x00-\xff]} $a]} {
            set a [encoding convertto utf-8 $a]
        }
        append buf "\$[string length $a]\r\n$a\r\n"
    }
    return $buf
}

proc resp::write_command {fd argv} {
    puts -nonewline $fd [encode $argv]
}

# Wait until the socket is readable (or timeout).
proc resp::wait_readable {id} {
    variable state
    variable ready
    set fd $state($id,fd)
    set ready($id) ""
    fileevent $fd readable [list set ::resp::ready($id) r]
    set aid [after $state($id,timeout) [list set ::resp::ready($id) t]]
    vwait ::resp::ready($id)
    after cancel $aid
    catch {fileevent $fd readable {}}
    if {$ready($id) eq "t"} {
        error "timeout: no reply from server within $state($id,timeout) ms" {} {RESP TIMEOUT}
    }
}

proc resp::read_line {id} {
    variable state
    set fd $state($id,fd)
    while 1 {
        if {[gets $fd line] >= 0} {
            if {[string index $line end] eq "\r"} {
                set line [string range $line 0 end-1]
            }
            return $line
        }
        if {[eof $fd]} {
            error "connection closed by server" {} {RESP EOF}
        }
        wait_readable $id
    }
}

proc resp::read_bytes {id n} {
    variable state
    set fd $state($id,fd)
    set buf ""
    while {[string length $buf] < $n} {
        append buf [read $fd [expr {$n - [string length $buf]}]]
        if {[string length $buf] >= $n} break
        if {[eof $fd]} {
            error "connection closed by server" {} {RESP EOF}
        }
        wait_readable $id
    }
    return $buf
}

proc resp::read_until_eof {id ms} {
    variable state
    set fd $state($id,fd)
    set old $state($id,timeout)
    set state($id,timeout) $ms
    set buf ""
    try {
        while 1 {
            append buf [read $fd]
            if {[eof $fd]} break
            if {[catch {wait_readable $id}]} {
                error "timeout: connection still open after $ms ms; received '[printable $buf]'" \
                    {} [list RESP TIMEOUT $buf]
            }
        }
    } finally {
        set state($id,timeout) $old
    }
    return $buf
}

proc resp::read_reply {id} {
    set line [read_line $id]
    set type [string index $line 0]
    set payload [string range $line 1 end]
    switch -exact -- $type {
        + { return $payload }
        - { error $payload {} [list REDIS [lindex [split $payload " "] 0] $payload] }
        : - , - ( { return $payload }
        _ { return {} }
        # { return [expr {$payload eq "t" ? 1 : 0}] }
        $ {
            if {$payload < 0} { return {} }
            set data [read_bytes $id [expr {$payload + 2}]]
            return [string range $data 0 end-2]
        }
        = {
            set data [read_bytes $id [expr {$payload + 2}]]
            return [string range $data 4 end-2]
        }
        ! {
            set data [read_bytes $id [expr {$payload + 2}]]
            set msg [string range $data 0 end-2]
            error $msg {} [list REDIS [lindex [split $msg " "] 0] $msg]
        }
        * - ~ - > {
            if {$payload < 0} { return {} }
            set out {}
            for {set i 0} {$i < $payload} {incr i} {
                lappend out [read_element $id]
            }
            return $out
        }
        % {
            set out {}
            for {set i 0} {$i < 2 * $payload} {incr i} {
                lappend out [read_element $id]
            }
            return $out
        }
        | {
            for {set i 0} {$i < 2 * $payload} {incr i} {
                read_reply $id
            }
            return [read_reply $id]
        }
        default {
            error "protocol error: unexpected reply line '[resp::printable $line]'" {} {RESP PROTOCOL}
        }
    }
}

# Read one element of an aggregate: an error inside an array (e.g. one
# failed command of an EXEC) becomes its text instead of raising, so the
# rest of the array is still consumed and the connection stays in sync.
proc resp::read_element {id} {
    if {[catch {read_reply $id} value opts]} {
        if {[lindex [dict get $opts -errorcode] 0] eq "REDIS"} {
            return $value
        }
        return -options $opts $value
    }
    return $value
}

# Make a binary string readable in messages (escape control bytes).
proc resp::printable {s} {
    set out ""
    foreach ch [split $s ""] {
        scan $ch %c c
        if {$ch eq "\\"} {
            append out "\\\\"
        } elseif {$c == 13} {
            append out "\\r"
        } elseif {$c == 10} {
            append out "\\n"
        } elseif {$c < 32 || $c >= 127} {
            append out [format "\\x%02x" $c]
        } else {
            append out $ch
        }
    }
    return $out
}
