# Test declarations and assertions.
#
#   test "name" { body } ?tags?
#   tags {tag ...} { body }         ;# every test inside gets these tags
#
# A test passes when its body returns without error.  Assertion failures and
# any other error fail that test only; the file goes on with the next test.
# Tests whose tags intersect ::harness(skip_tags) are reported as skipped
# (running against redis-server skips the tag "ferrocks").

namespace eval harness {
    variable tag_stack {}
    variable current_test ""
}

proc fail {msg} {
    error $msg {} [list ASSERTION $msg]
}

proc tags {taglist body} {
    set old $::harness::tag_stack
    lappend ::harness::tag_stack {*}$taglist
    try {
        uplevel 1 $body
    } finally {
        set ::harness::tag_stack $old
    }
}

proc harness::test_skipped {alltags} {
    foreach t $alltags {
        if {$t in $::harness(skip_tags)} { return $t }
    }
    return ""
}

proc test {name body {testtags {}}} {
    set alltags [concat $::harness::tag_stack $testtags]
    if {$::harness(only) ne {}} {
        set selected 0
        foreach pat $::harness(only) {
            if {[string match -nocase $pat $name]} { set selected 1 }
        }
        if {!$selected} return
    }
    set skiptag [harness::test_skipped $alltags]
    if {$skiptag ne ""} {
        harness_report skip $::harness(file) $name "tag '$skiptag'" 0
        return
    }
    if {[info exists ::harness::block_error] && $::harness::block_error ne ""} {
        harness_report fail $::harness(file) $name $::harness::block_error 0
        return
    }
    set ::harness::current_test $name
    set start [clock milliseconds]
    set code [catch {uplevel 1 $body} result opts]
    set ms [expr {[clock milliseconds] - $start}]
    set ::harness::current_test ""
    if {$code == 1} {
        set ecode [dict get $opts -errorcode]
        set reason [harness::format_error $result $opts]
        harness_report fail $::harness(file) $name $reason $ms
        harness::after_failure
    } else {
        harness_report pass $::harness(file) $name "" $ms
    }
}

# Describe an error caught while running test code.
proc harness::format_error {result opts} {
    set ecode [dict get $opts -errorcode]
    if {[lindex $ecode 0] eq "ASSERTION"} {
        return $result
    }
    if {[lindex $ecode 0] in {REDIS RESP}} {
        set reason "unexpected error: $result"
        set where [harness::error_location [dict get $opts -errorinfo]]
        if {$where ne ""} { append reason "\n  from: $where" }
        return $reason
    }
    set lines [split [dict get $opts -errorinfo] "\n"]
    if {[llength $lines] > 12} {
        set lines [concat [lrange $lines 0 11] {...}]
    }
    return "exception: [join $lines "\n"]"
}

# The first command of the test body in an error trace (skipping the
# client's own frames).
proc harness::error_location {info} {
    foreach {- q} [regexp -all -inline -line {^\s*"(.*)"$} $info] {
        if {[regexp {^(error |read_reply|read_line|read_bytes|wait_readable|::resp::|\$c \{\*\}|\[\$c |resp::)} $q]} continue
        return $q
    }
    return ""
}

# After a failed test the default client may hold unread replies (or the
# server may be gone); replace it with a fresh connection when possible.
proc harness::after_failure {} {
    if {[info commands ::harness::reset_default_client] ne ""} {
        catch {::harness::reset_default_client}
    }
}

# Append a detail text (shortened) to an assertion message.
proc harness::with_detail {msg detail} {
    if {$detail eq ""} { return $msg }
    if {[string length $detail] > 400} {
        set detail "[string range $detail 0 399]..."
    }
    return "$msg ($detail)"
}

proc harness::show {v} {
    set s [resp::printable $v]
    if {[string length $s] > 300} {
        set s "[string range $s 0 299]...([string length $v] bytes)"
    }
    return $s
}

proc assert {cond {detail ""}} {
    if {![uplevel 1 [list expr $cond]]} {
        set msg "assertion failed: $cond"
        fail [harness::with_detail $msg $detail]
    }
}

proc assert_equal {expected actual {detail ""}} {
    if {$expected ne $actual} {
        set msg "Expected '[harness::show $actual]' to equal '[harness::show $expected]'"
        fail [harness::with_detail $msg $detail]
    }
}

proc assert_not_equal {unexpected actual {detail ""}} {
    if {$unexpected eq $actual} {
        set msg "Expected '[harness::show $actual]' to differ from '[harness::show $unexpected]'"
        fail [harness::with_detail $msg $detail]
    }
}

proc assert_match {pattern actual {detail ""}} {
    if {![string match $pattern $actual]} {
        set msg "Expected '[harness::show $actual]' to match '[harness::show $pattern]'"
        fail [harness::with_detail $msg $detail]
    }
}

proc assert_no_match {pattern actual {detail ""}} {
    if {[string match $pattern $actual]} {
        set msg "Expected '[harness::show $actual]' not to match '[harness::show $pattern]'"
        fail [harness::with_detail $msg $detail]
    }
}

# assert_error PATTERN CODE: CODE must raise an error whose message matches
# the glob PATTERN.  Returns the error message.
proc assert_error {pattern code {detail ""}} {
    if {[catch {uplevel 1 $code} err opts]} {
        if {[lindex [dict get $opts -errorcode] 0] eq "ASSERTION"} {
            return -options $opts $err
        }
        if {![string match $pattern $err]} {
            fail [harness::with_detail "Expected error matching '[harness::show $pattern]' but got error '[harness::show $err]'" $detail]
        }
        return $err
    }
    fail [harness::with_detail "Expected error matching '[harness::show $pattern]' but got reply '[harness::show $err]'" $detail]
}

proc assert_range {value min max {detail ""}} {
    if {![string is double -strict $value] || $value < $min || $value > $max} {
        set msg "Expected '[harness::show $value]' to be between $min and $max"
        fail [harness::with_detail $msg $detail]
    }
}

proc assert_morethan {value min {detail ""}} {
    if {![string is double -strict $value] || $value <= $min} {
        fail [harness::with_detail "Expected '[harness::show $value]' to be more than $min" $detail]
    }
}

proc assert_lessthan {value max {detail ""}} {
    if {![string is double -strict $value] || $value >= $max} {
        fail [harness::with_detail "Expected '[harness::show $value]' to be less than $max" $detail]
    }
}

# Compare two lists ignoring order.
proc assert_equal_unordered {expected actual {detail ""}} {
    assert_equal [lsort $expected] [lsort $actual] $detail
}

# wait_for_condition MAXTRIES DELAY_MS {expr} {else-body}
# Evaluates the expression up to MAXTRIES times, DELAY_MS apart; runs the
# else body (normally a `fail`) if it never became true.
proc wait_for_condition {maxtries delay cond elsebody} {
    for {set i 0} {$i < $maxtries} {incr i} {
        if {[uplevel 1 [list expr $cond]]} { return }
        after $delay
    }
    uplevel 1 $elsebody
}

# Current time in milliseconds / seconds.
proc now_ms {} { clock milliseconds }
proc now_s {} { clock seconds }

# A random string of LEN characters drawn from the printable ASCII range.
proc randstring {len} {
    set s ""
    for {set i 0} {$i < $len} {incr i} {
        append s [format %c [expr {33 + int(rand() * 94)}]]
    }
    return $s
}

# A random binary string of LEN bytes (any value 0..255).
proc randbytes {len} {
    set s ""
    for {set i 0} {$i < $len} {incr i} {
        append s [format %c [expr {int(rand() * 256)}]]
    }
    return $s
}

proc target_is_redis {} { expr {$::harness(target) eq "redis"} }
proc target_is_ferrocks {} { expr {$::harness(target) eq "ferrocks"} }
