# Server control for the ferrocks test suite.
#
#   start_server {OPTIONS} { body }
#
# OPTIONS is a dict.  Reserved keys:
#   tags      {tag ...}     tags applied to every test in the body
#   overrides {k v ...}     extra config, passed as "--k v" on the command line
#   config    TEXT          written to a config file in the server's temp dir
#                           and passed with "-c FILE" (redis-server: as its
#                           first argument)
#   args      {arg ...}     raw extra command-line arguments
# Any other key is treated as an override, so {requirepass foobared} works.
#
# The server gets a free port, a fresh temp dir (--dir), --bind 127.0.0.1 and
# its stdout+stderr in DIR/stdout.log.  The body runs with a default client:
# `r CMD ARGS...`.  More clients: `set c [redis_client]`, then `$c CMD ...`.
# Inside the body:
#   srv KEY          port host pid dir log config_file client
#   restart_server   SIGTERM, start again on the same dir and port, reconnect r
#   kill9_server ?restart?   SIGKILL (and, unless restart is 0, start again)
#   server_is_alive
# After the body every client is closed, the server gets SIGTERM (SIGKILL if
# still alive after 5 s) and the temp dir is removed.

namespace eval harness {
    variable servers {}
    variable state
    variable sid_seq 0
    variable next_port 0
    variable block_error ""
}

# A process is gone when none of its threads runs any more: after kill -9
# the main thread turns zombie first, while the others are still closing
# the process's files (its listening socket, the database lock).
proc harness::proc_alive {pid} {
    set tasks [glob -nocomplain /proc/$pid/task/*]
    if {[llength $tasks] == 0} { set tasks [list /proc/$pid] }
    foreach t $tasks {
        if {[catch {open $t/stat r} f]} continue
        set data [read $f]
        close $f
        if {[regexp {\) (\S)} $data -> st] && $st ni {Z X}} { return 1 }
    }
    return 0
}

proc harness::port_is_free {port} {
    if {[catch {socket -server harness::nop -myaddr 127.0.0.1 $port} s]} { return 0 }
    close $s
    if {![catch {socket 127.0.0.1 $port} c]} {
        close $c
        return 0
    }
    return 1
}
proc harness::nop {args} {}

proc harness::find_free_port {} {
    variable next_port
    if {$next_port == 0} {
        set next_port [expr {21000 + ([pid] % 400) * 50}]
    }
    for {set i 0} {$i < 2000} {incr i} {
        incr next_port
        if {$next_port > 60000} { set next_port 21000 }
        if {[port_is_free $next_port]} { return $next_port }
    }
    error "no free TCP port found"
}

proc harness::tail_file {path {n 25}} {
    if {[catch {open $path r} f]} { return "(no log at $path)" }
    fconfigure $f -translation binary
    set lines [split [string trimright [read $f] "\n"] "\n"]
    close $f
    return [join [lrange $lines end-[expr {$n - 1}] end] "\n"]
}

proc harness::read_from {path offset} {
    if {[catch {open $path r} f]} { return "" }
    fconfigure $f -translation binary
    seek $f $offset
    set data [read $f]
    close $f
    return $data
}

proc harness::server_command {sid} {
    variable state
    set cmd [list $::harness(bin)]
    if {$state($sid,config_file) ne ""} {
        if {$::harness(target) eq "redis"} {
            lappend cmd $state($sid,config_file)
        } else {
            lappend cmd -c $state($sid,config_file)
        }
    }
    lappend cmd --port $state($sid,port) --dir $state($sid,dir) --bind 127.0.0.1
    if {$::harness(target) eq "redis"} {
        lappend cmd --save "" --appendonly no
    }
    foreach {k v} $state($sid,overrides) {
        lappend cmd --$k $v
    }
    lappend cmd {*}$state($sid,args)
    return $cmd
}

# Launch the server process and wait until its port accepts connections.
# With keep_port 0 a port that turns out to be taken is replaced by another.
proc harness::spawn {sid keep_port} {
    variable state
    for {set attempt 0} {$attempt < 8} {incr attempt} {
        set cmd [server_command $sid]
        set log $state($sid,log)
        set f [open $log a]
        puts $f "### harness: starting [clock format [clock seconds]]: $cmd"
        close $f
        set offset [file size $log]
        set pid [exec {*}$cmd >>& $log < /dev/null &]
        set state($sid,pid) $pid
        set state($sid,expect_dead_ok) 0
        harness_register_pid $pid
        set res [wait_ready $sid]
        if {$res eq "ready"} { return }
        if {$res eq "timeout"} {
            catch {exec kill -9 $pid}
            error "server did not accept connections within $::harness(startup_timeout) ms\n--- log tail:\n[tail_file $log]"
        }
        # The process died: retry only if its port was taken.
        set out [read_from $log $offset]
        if {![regexp -nocase {already in use|addrinuse|os error 98} $out]} {
            set lines [split [string trimright $out "\n"] "\n"]
            error "server exited during startup\ncommand: $cmd\n--- output:\n[join [lrange $lines end-24 end] "\n"]"
        }
        if {$keep_port} {
            after 250
        } else {
            set state($sid,port) [find_free_port]
        }
    }
    error "server could not bind its port\n--- log tail:\n[tail_file $state($sid,log)]"
}

proc harness::wait_ready {sid} {
    variable state
    set deadline [expr {[clock milliseconds] + $::harness(startup_timeout)}]
    while {[clock milliseconds] < $deadline} {
        if {![proc_alive $state($sid,pid)]} { return dead }
        if {![catch {socket 127.0.0.1 $state($sid,port)} s]} {
            close $s
            if {[proc_alive $state($sid,pid)]} { return ready }
            return dead
        }
        after 20
    }
    return timeout
}

proc harness::stop_process {pid} {
    if {![proc_alive $pid]} return
    catch {exec kill -TERM $pid}
    set deadline [expr {[clock milliseconds] + 5000}]
    while {[proc_alive $pid] && [clock milliseconds] < $deadline} { after 10 }
    if {[proc_alive $pid]} {
        catch {exec kill -9 $pid}
        set deadline [expr {[clock milliseconds] + 5000}]
        while {[proc_alive $pid] && [clock milliseconds] < $deadline} { after 10 }
    }
    harness_unregister_pid $pid
}

# Delete a server's temp dir once its process is gone. A delete that races
# with something still writing there is retried; one that keeps failing is
# reported as a failure of its own, naming what was left, instead of
# escaping as an error that ends the whole file.
proc harness::remove_dir {dir pid} {
    for {set attempt 0} {$attempt < 20} {incr attempt} {
        if {![catch {file delete -force $dir} err]} return
        after 100
    }
    set left [lrange [glob -nocomplain -directory $dir -tails *] 0 19]
    harness_report fail $::harness(file) "server dir $dir is removed after the block" \
        "$err\nserver pid $pid alive: [proc_alive $pid]\nleft in the dir: $left" 0
}

proc harness::top {} {
    variable servers
    if {[llength $servers] == 0} { error "no server running (use start_server)" }
    return [lindex $servers end]
}

proc harness::close_clients {sid} {
    variable state
    foreach c $state($sid,clients) {
        if {[info commands $c] ne ""} { catch {$c close} }
    }
    set state($sid,clients) {}
    set state($sid,client) ""
}

proc harness::connect_default {sid} {
    variable state
    set c [resp::connect 127.0.0.1 $state($sid,port)]
    lappend state($sid,clients) $c
    set state($sid,client) $c
}

proc harness::reset_default_client {} {
    variable state
    variable servers
    if {[llength $servers] == 0} return
    set sid [top]
    if {$state($sid,client) ne "" && [info commands $state($sid,client)] ne ""} {
        catch {$state($sid,client) close}
    }
    set state($sid,client) ""
    if {[proc_alive $state($sid,pid)]} {
        connect_default $sid
    }
}

proc harness::check_log {sid} {
    variable state
    if {[catch {open $state($sid,log) r} f]} return
    fconfigure $f -translation binary
    set data [read $f]
    close $f
    set bad {}
    foreach line [split $data "\n"] {
        if {[regexp {panicked at|RUST_BACKTRACE|AddressSanitizer|=== REDIS BUG REPORT} $line]} {
            lappend bad $line
        }
    }
    if {[llength $bad]} {
        harness_report fail $::harness(file) "server log of $state($sid,dir) is clean" \
            "server log contains:\n[join [lrange $bad 0 9] "\n"]" 0
    }
}

proc start_server {opts body} {
    variable ::harness::state
    set overrides {}
    set conftext ""
    set have_conf 0
    set btags {}
    set extra {}
    if {[llength $opts] % 2} { error "start_server: options must be a dict" }
    foreach {k v} $opts {
        switch -exact -- $k {
            tags { lappend btags {*}$v }
            overrides { lappend overrides {*}$v }
            config { set conftext $v; set have_conf 1 }
            args { lappend extra {*}$v }
            default { lappend overrides $k $v }
        }
    }

    set old_tags $::harness::tag_stack
    lappend ::harness::tag_stack {*}$btags
    try {
        if {[harness::test_skipped $::harness::tag_stack] ne ""} {
            # Every test in here is skipped; run the body only to list them.
            set ::harness::skipping_block 1
            try {
                catch {uplevel 1 $body}
            } finally {
                set ::harness::skipping_block 0
            }
            return
        }

        set sid [incr ::harness::sid_seq]
        set dir [file join $::harness(tmproot) "ferrocks-tcl.[pid].$sid"]
        file delete -force $dir
        file mkdir $dir
        set state($sid,dir) $dir
        set state($sid,log) [file join $dir stdout.log]
        set state($sid,overrides) $overrides
        set state($sid,args) $extra
        set state($sid,clients) {}
        set state($sid,client) ""
        set state($sid,pid) 0
        set state($sid,config_file) ""
        set state($sid,expect_dead_ok) 0
        if {$have_conf} {
            set name [expr {$::harness(target) eq "redis" ? "redis.conf" : "ferrocks.conf"}]
            set state($sid,config_file) [file join $dir $name]
            set f [open $state($sid,config_file) w]
            puts -nonewline $f $conftext
            close $f
        }
        set state($sid,port) [harness::find_free_port]

        if {[catch {harness::spawn $sid 0} err]} {
            # Fail every test of this block with the startup error.
            harness_report fail $::harness(file) "server starts with options {$opts}" "server failed to start: $err" 0
            set ::harness::block_error "server failed to start (see the failure above)"
            try {
                catch {uplevel 1 $body}
            } finally {
                set ::harness::block_error ""
                if {!$::harness(keep_tmp)} { harness::remove_dir $dir $state($sid,pid) }
            }
            return
        }

        lappend ::harness::servers $sid
        try {
            harness::connect_default $sid
            if {[catch {uplevel 1 $body} err opts]} {
                harness_report fail $::harness(file) "error outside of a test" \
                    [harness::format_error $err $opts] 0
            }
        } finally {
            harness::close_clients $sid
            if {!$state($sid,expect_dead_ok) && ![harness::proc_alive $state($sid,pid)]} {
                harness_report fail $::harness(file) "server still alive at end of block" \
                    "server process exited unexpectedly\n--- log tail:\n[harness::tail_file $state($sid,log)]" 0
            }
            harness::stop_process $state($sid,pid)
            harness::check_log $sid
            set ::harness::servers [lrange $::harness::servers 0 end-1]
            if {!$::harness(keep_tmp)} {
                harness::remove_dir $dir $state($sid,pid)
            } else {
                puts "  (kept server dir $dir)"
            }
            array unset state $sid,*
        }
    } finally {
        set ::harness::tag_stack $old_tags
    }
}
set ::harness::skipping_block 0

proc srv {{key client}} {
    set sid [harness::top]
    if {![info exists ::harness::state($sid,$key)]} {
        error "srv: unknown key '$key'"
    }
    return $::harness::state($sid,$key)
}

# The default client of the innermost running server.
proc r {args} {
    if {$::harness::skipping_block} { error "server not started (skipped block)" }
    set c [srv client]
    if {$c eq ""} { error "no default client (server down?)" }
    return [$c {*}$args]
}

# Open another client to the innermost running server.  It is closed
# automatically at the end of the start_server body.
proc redis_client {args} {
    set sid [harness::top]
    set c [resp::connect 127.0.0.1 $::harness::state($sid,port) {*}$args]
    lappend ::harness::state($sid,clients) $c
    return $c
}
proc redis_deferring_client {args} { redis_client {*}$args }

proc server_is_alive {} {
    harness::proc_alive [srv pid]
}

# SIGTERM the server, wait for it to exit, start it again on the same dir
# and port and reconnect the default client (other clients are closed).
proc restart_server {} {
    set sid [harness::top]
    harness::close_clients $sid
    harness::stop_process $::harness::state($sid,pid)
    harness::spawn $sid 1
    harness::connect_default $sid
}

# SIGKILL the server; unless RESTART is 0 start it again (same dir/port).
proc kill9_server {{restart 1}} {
    set sid [harness::top]
    harness::close_clients $sid
    set pid $::harness::state($sid,pid)
    catch {exec kill -9 $pid}
    set deadline [expr {[clock milliseconds] + 5000}]
    while {[harness::proc_alive $pid] && [clock milliseconds] < $deadline} { after 10 }
    harness_unregister_pid $pid
    set ::harness::state($sid,expect_dead_ok) 1
    if {$restart} {
        harness::spawn $sid 1
        harness::connect_default $sid
    }
}
