# Slot migration from the operator's side: CLUSTERX MIGRATE (sync and
# async), the migrate-* settings, INFO migration, CLUSTER INFO's kvrocks
# fields, CLUSTER MIGRATION STATUS / IMPORT, and the refusals.
# Everything here is ferrocks-only (tagged ferrocks).

# A hash tag whose keys land in `slot`, found with CLUSTER KEYSLOT.
proc sm_tag_for_slot {client slot} {
    for {set i 0} {$i < 100000} {incr i} {
        if {[$client cluster keyslot "t$i"] == $slot} { return "t$i" }
    }
    error "no tag for slot $slot"
}

proc sm_info_job {client} {
    foreach line [split [$client info migration] "\n"] {
        set line [string trim $line]
        if {[string match "job_*" $line]} { set last $line }
    }
    if {[info exists last]} { return $last }
    return ""
}

start_server {tags {slotmigrate ferrocks} overrides {cluster-enabled yes}} {
    set p1 0
    set n1 ""
    catch {set p1 [srv port]}
    catch {set n1 [redis_client]}
    set id1 [random_node_id]

    start_server {overrides {cluster-enabled yes}} {
        set p2 0
        catch {set p2 [srv port]}
        set id2 [random_node_id]
        set topo [nodes_text [list [list $id1 $p1 0-8191] [list $id2 $p2 8192-16383]]]

        test "Two nodes share a topology" {
            assert_equal OK [$n1 clusterx setnodeid $id1]
            assert_equal OK [r clusterx setnodeid $id2]
            assert_equal OK [$n1 clusterx setnodes $topo 1]
            assert_equal OK [r clusterx setnodes $topo 1]
        }

        test "Bad MIGRATE requests are refused" {
            assert_error "*doesn't belong to me*" {$n1 clusterx migrate 9000 $id2}
            assert_error "*myself*" {$n1 clusterx migrate 100 $id1}
            assert_error "*destination node*" {$n1 clusterx migrate 100 [random_node_id]}
            assert_error "*out of range*" {$n1 clusterx migrate 16384 $id2}
            assert_error "*syntax*" {$n1 clusterx migrate 100 $id2 sometimes}
            assert_error "ERR CLUSTERX command, CLUSTERX VERSION|MYID|SETNODEID|SETNODES|SETSLOT|MIGRATE" {$n1 clusterx migrate 100}
        }

        test "migrate-* settings change at run time" {
            assert_equal OK [$n1 config set migrate-window 4 migrate-batch-size-kb 32]
            assert_equal {migrate-window 4} [$n1 config get migrate-window]
            assert_equal OK [$n1 config set migrate-compression none]
            assert_equal OK [$n1 config set migrate-compression lz4]
            assert_error "*migrate-compression*" {$n1 config set migrate-compression zip}
            assert_equal OK [$n1 config set migrate-checkpoint no]
            assert_equal {migrate-checkpoint no} [$n1 config get migrate-checkpoint]
            assert_equal OK [$n1 config set migrate-checkpoint yes]
            assert_equal OK [$n1 config set migrate-import-flush-mb 8]
            assert_equal {migrate-import-flush-mb 8} [$n1 config get migrate-import-flush-mb]
            assert_error "*migrate-import-flush-mb*" {$n1 config set migrate-import-flush-mb -1}
        }

        test "CLUSTERX SLOTDUMP pages through a slot's raw records" {
            set tag [sm_tag_for_slot $n1 100]
            for {set i 0} {$i < 40} {incr i} { $n1 set "{$tag}d$i" [string repeat x 100] }
            set cursor 0
            set rows 0
            set pages 0
            while 1 {
                lassign [$n1 clusterx slotdump 100 $cursor 512] cursor page
                incr rows [llength $page]
                incr pages
                foreach rec $page { assert_equal metadata [lindex $rec 0] }
                if {$cursor eq "0"} break
            }
            assert_equal 40 $rows
            assert {$pages > 5}
            assert_error "*invalid cursor*" {$n1 clusterx slotdump 100 garbage}
            assert_error "*out of range*" {$n1 clusterx slotdump 100 0 0}
            for {set i 0} {$i < 40} {incr i} { $n1 del "{$tag}d$i" }
        }

        test "CLUSTERX MIGRATE sync moves a slot and reports it" {
            set tag [sm_tag_for_slot $n1 100]
            for {set i 0} {$i < 500} {incr i} { $n1 set "{$tag}k$i" "value-$i" }
            $n1 set "{$tag}ttl" x ex 1000
            assert_equal OK [$n1 clusterx migrate 100 $id2 sync 30]
            assert_equal 0 [$n1 cluster countkeysinslot 100]
            assert_equal 501 [r cluster countkeysinslot 100]
            assert_equal value-7 [r get "{$tag}k7"]
            assert_range [r ttl "{$tag}ttl"] 900 1000
            assert_error "MOVED 100 127.0.0.1:$p2" {$n1 get "{$tag}k7"}
            # The move is a local change on both nodes: no version change
            # of their own (as in kvrocks); both know the new owner.
            assert_equal 1 [$n1 clusterx version]
            assert_equal 1 [r clusterx version]
            assert_match "* connected 100 8192-16383" [cluster_nodes_line $n1 $id2]
            assert_match "* connected 100 8192-16383" [cluster_nodes_line r $id2]
            set job [sm_info_job $n1]
            foreach field {state=success phase=cutover eta_seconds=0 keys=501 raw_bytes= wire_bytes= compression_ratio= chunks= retransmits=0 chunk_size= write_pause_ms=} {
                assert_match "*$field*" $job
            }
            assert_equal 100 [cluster_info_field $n1 migrating_slot]
            assert_equal 100 [cluster_info_field $n1 migrating_slot(s)]
            assert_equal $id2 [cluster_info_field $n1 destination_node]
            assert_equal success [cluster_info_field $n1 migrating_state]
            assert_equal 100 [cluster_info_field r importing_slot]
            assert_equal success [cluster_info_field r import_state]
        }

        test "CLUSTERX MIGRATE async, then STATUS shows the job" {
            set tag [sm_tag_for_slot $n1 101]
            for {set i 0} {$i < 200} {incr i} { $n1 set "{$tag}k$i" v }
            assert_equal OK [$n1 clusterx migrate 101 $id2 async]
            wait_for_condition 100 50 {
                [string match "*slots=101-101*state=success*" [sm_info_job $n1]]
            } {
                fail "job did not finish: [sm_info_job $n1]"
            }
            assert_match "*success*" [$n1 cluster migration status all]
            assert_equal 200 [r cluster countkeysinslot 101]
        }

        test "CLUSTER MIGRATION IMPORT runs on the destination" {
            set tag [sm_tag_for_slot $n1 102]
            $n1 set "{$tag}x" y
            assert_equal OK [r cluster migration import 102 102]
            wait_for_condition 100 50 {
                [r cluster countkeysinslot 102] == 1
            } {
                fail "slot 102 did not arrive"
            }
            assert_equal y [r get "{$tag}x"]
            assert_error "*already mine*" {r cluster migration import 102 102}
        }
    }
}
