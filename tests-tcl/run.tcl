#!/usr/bin/env tclsh
# ferrocks TCL test runner.
#
#   tclsh tests-tcl/run.tcl [options] [file ...]
#
# Files: unit/strings, unit/strings.tcl, strings, integration/foo ...
# (default: every tests-tcl/unit/*.tcl, unit/type/*.tcl, then integration/*.tcl).
#
# Options:
#   --only GLOB        run only tests whose name matches GLOB (repeatable)
#   --skip-tag TAG     skip tests carrying TAG (repeatable)
#   --quiet            do not print passing tests
#   --keep-tmp         keep the servers' temp dirs (and logs)
#   --timeout MS       per-reply read timeout of clients (default 10000)
#
# Environment:
#   FERROCKS_BIN     server binary (default $HOME/.cache/ferrocks/target/release/ferrocks)
#   FERROCKS_TARGET  "ferrocks" or "redis"; default: "redis" when the binary's
#                    name starts with redis-server.  Against redis the tag
#                    "ferrocks" is skipped and the server also gets
#                    --save "" --appendonly no.
#
# The last line printed is "N passed, N failed"; the exit code is non-zero
# when a test failed or a file could not run.

set root [file dirname [file normalize [info script]]]

proc usage {} {
    puts stderr "usage: tclsh tests-tcl/run.tcl ?--only GLOB? ?--skip-tag TAG? ?--quiet? ?--keep-tmp? ?--timeout MS? ?file ...?"
    exit 2
}

set opt_only {}
set opt_skip_tags {}
set opt_quiet 0
set opt_keep 0
set opt_timeout 10000
set selected {}
for {set i 0} {$i < [llength $argv]} {incr i} {
    set a [lindex $argv $i]
    switch -exact -- $a {
        --only { lappend opt_only [lindex $argv [incr i]] }
        --skip-tag { lappend opt_skip_tags [lindex $argv [incr i]] }
        --quiet { set opt_quiet 1 }
        --keep-tmp { set opt_keep 1 }
        --timeout { set opt_timeout [lindex $argv [incr i]] }
        -h - --help { usage }
        default {
            if {[string match -* $a]} { usage }
            lappend selected $a
        }
    }
}

# --- server binary and target ---------------------------------------------
if {[info exists env(FERROCKS_BIN)] && $env(FERROCKS_BIN) ne ""} {
    set bin $env(FERROCKS_BIN)
} else {
    set bin [file join $env(HOME) .cache ferrocks target release ferrocks]
}
if {[info exists env(FERROCKS_TARGET)] && $env(FERROCKS_TARGET) ne ""} {
    set target $env(FERROCKS_TARGET)
} elseif {[string match redis-server* [file tail $bin]]} {
    set target redis
} else {
    set target ferrocks
}
if {$target ni {ferrocks redis}} {
    puts stderr "FERROCKS_TARGET must be 'ferrocks' or 'redis'"
    exit 2
}
set skip_tags $opt_skip_tags
if {$target eq "redis"} { lappend skip_tags ferrocks }

if {![file executable $bin]} {
    puts "server binary not found or not executable: $bin (set FERROCKS_BIN)"
    puts "0 passed, 1 failed"
    exit 2
}

set tmproot [expr {[info exists env(TMPDIR)] && $env(TMPDIR) ne "" ? $env(TMPDIR) : "/tmp"}]

# --- test files ------------------------------------------------------------
proc resolve_file {root name} {
    set candidates [list $name "$name.tcl" [file join $root $name] [file join $root "$name.tcl"] \
        [file join $root unit "$name.tcl"] [file join $root integration "$name.tcl"]]
    foreach c $candidates {
        if {[file isfile $c]} { return [file normalize $c] }
    }
    return ""
}

set files {}
if {[llength $selected]} {
    foreach s $selected {
        set f [resolve_file $root $s]
        if {$f eq ""} {
            puts "no such test file: $s"
            puts "0 passed, 1 failed"
            exit 2
        }
        lappend files $f
    }
} else {
    foreach d {unit unit/type integration} {
        lappend files {*}[lsort [glob -nocomplain -directory [file join $root $d] *.tcl]]
    }
}

# --- reporting ---------------------------------------------------------------
set passed 0
set failed 0
set skipped {}
set failures {}
array set live_pids {}

proc relname {f} {
    global root
    if {[string first "$root/" $f] == 0} {
        return [string range $f [string length "$root/"] end]
    }
    return $f
}

proc report {status file name reason ms} {
    global passed failed skipped failures opt_quiet
    set rel [relname $file]
    switch -exact -- $status {
        pass {
            incr passed
            if {!$opt_quiet} { puts "\[ok\]: $name ($ms ms)" }
        }
        fail {
            incr failed
            lappend failures "$rel: $name"
            # The reason again in the summary, so a log cut to its tail
            # still says why.
            lappend failures {*}[lmap l [lrange [split $reason "\n"] 0 11] { string cat "      " $l }]
            puts "\[err\]: $name in $rel"
            foreach line [split $reason "\n"] { puts "    $line" }
        }
        skip {
            lappend skipped "$rel: $name ($reason)"
            if {!$opt_quiet} { puts "\[skip\]: $name" }
        }
    }
    flush stdout
}

proc register_pid {pid} { set ::live_pids($pid) 1 }
proc unregister_pid {pid} { unset -nocomplain ::live_pids($pid) }

proc kill_leftovers {} {
    foreach pid [array names ::live_pids] {
        catch {exec kill -9 $pid}
        unset ::live_pids($pid)
    }
}

# --- run ---------------------------------------------------------------------
puts "ferrocks tcl tests: target=$target bin=$bin"
set libs [list [file join $root lib resp.tcl] [file join $root lib test.tcl] [file join $root lib server.tcl] [file join $root lib cluster.tcl]]
set started [clock milliseconds]
foreach file $files {
    set rel [relname $file]
    puts "=== $rel"
    flush stdout
    set child [interp create]
    $child eval [list array set ::harness [list \
        bin $bin target $target skip_tags $skip_tags only $opt_only \
        keep_tmp $opt_keep tmproot $tmproot startup_timeout 30000 \
        file $file root $root]]
    interp alias $child harness_report {} report
    interp alias $child harness_register_pid {} register_pid
    interp alias $child harness_unregister_pid {} unregister_pid
    interp alias $child exit {} error "exit called from a test file"
    if {[catch {
        foreach l $libs { $child eval [list source $l] }
        $child eval [list set ::resp::default_timeout $opt_timeout]
        $child eval [list source $file]
    } err opts]} {
        report fail $file "file $rel ran to completion" "exception: [dict get $opts -errorinfo]" 0
    }
    catch {interp delete $child}
    kill_leftovers
}
set secs [format %.1f [expr {([clock milliseconds] - $started) / 1000.0}]]

puts ""
if {[llength $skipped]} {
    puts "Skipped tests ([llength $skipped]):"
    foreach s $skipped { puts "  $s" }
}
if {[llength $failures]} {
    puts "Failed tests ($failed):"
    foreach s $failures { puts "  $s" }
}
puts "Finished in $secs s"
puts "$passed passed, $failed failed"
exit [expr {$failed > 0 ? 1 : 0}]
