# Cluster mode from an operator's point of view: kvrocks-style CLUSTERX
# topology commands pushed to two nodes, the Redis CLUSTER views of it,
# routing (MOVED / CROSSSLOT / ASK), DUMP / RESTORE / MIGRATE, the errors of
# bad input (which must leave the topology as it was) and persistence.
#
# Blocks that use CLUSTERX are tagged ferrocks (redis-server has no
# CLUSTERX); the others also pass against redis-server.

# ---------------------------------------------------------------------------

start_server {tags {cluster}} {
    test "CLUSTER commands with cluster support disabled" {
        # Redis: "cluster support disabled"; kvrocks: "not enabled".
        foreach cmd {{cluster info} {cluster nodes} {cluster slots} {cluster keyslot foo}
                     {cluster myid} {cluster countkeysinslot 1} {readonly} {asking}} {
            assert_error "*luster*" {r {*}$cmd} "$cmd"
        }
        # Keys of every slot are served locally.
        assert_equal OK [r mset foo 1 bar 2]
        assert_equal {1 2} [r mget foo bar]
        assert_match "*cluster_enabled:0*" [r info cluster]
    }

    test "CLUSTERX with cluster support disabled" {
        foreach cmd [list {clusterx version} {clusterx myid} \
                [list clusterx setnodeid [random_node_id]] \
                [list clusterx setnodes "[random_node_id] 127.0.0.1 7000 master - 0-16383" 1]] {
            assert_error "ERR Cluster mode is not enabled" {r {*}$cmd} "$cmd"
        }
        assert_error "ERR Cluster mode is not enabled" {r cluster info}
    } {ferrocks}
}

start_server {tags {cluster} overrides {cluster-enabled yes}} {
    test "CLUSTER KEYSLOT reference values" {
        foreach {key slot} {
            foo 12182 bar 5061 hello 866 somekey 11058
            foo{hash_tag} 2515 bar{hash_tag} 2515
            user1000 3443 {{user1000}.following} 3443 {{user1000}.followers} 3443
            foo{}{bar} 8363 foo{{bar}} 4015 foo{bar}{zap} 5061
        } {
            assert_equal $slot [r cluster keyslot $key] "keyslot of $key"
        }
        assert_equal 0 [r cluster keyslot ""]
    }

    test "INFO cluster says cluster_enabled:1" {
        assert_match "*cluster_enabled:1*" [r info cluster]
    }
}

# ---------------------------------------------------------------------------
# Two ferrocks nodes: node 1 (outer server, client $n1) owns 0-8191, node 2
# (inner server, `r`) owns 8192-16383.

start_server {tags {cluster ferrocks} overrides {cluster-enabled yes}} {
    # (The catches let a skipped run, against redis-server, still list
    # every test of the block as skipped.)
    set p1 0
    set n1 ""
    catch {set p1 [srv port]}
    catch {set n1 [redis_client]}
    set id1 [random_node_id]

    start_server {overrides {cluster-enabled yes}} {
        set p2 0
        catch {set p2 [srv port]}
        set id2 [random_node_id]
        set topo1 [nodes_text [list [list $id1 $p1 0-8191] [list $id2 $p2 8192-16383]]]

        test "CLUSTERX SETNODEID, MYID and VERSION before any topology" {
            assert_equal -1 [r clusterx version]
            assert_equal -1 [$n1 clusterx version]
            foreach sub {nodes slots info} {
                assert_error "CLUSTERDOWN The cluster is not initialized" {r cluster $sub}
            }
            # Any 40 characters make an id (kvrocks checks the length only).
            set mixed vQ1qtzlEFS0et4D09XkANfwa1aRvFlx4z8xtuDO9
            assert_equal OK [r clusterx setnodeid $mixed]
            assert_equal $mixed [r clusterx myid]
            assert_equal OK [$n1 clusterx setnodeid $id1]
            assert_equal OK [r clusterx setnodeid $id2]
            assert_equal $id1 [$n1 clusterx myid]
            assert_equal $id2 [r clusterx myid]
            assert_equal $id2 [r cluster myid]
            assert_error "ERR Invalid cluster node id" {r clusterx setnodeid abc}
            assert_error "ERR Invalid cluster node id" {r clusterx setnodeid [string repeat g 39]}
            assert_error "ERR Invalid cluster node id" {r clusterx setnodeid [string repeat a 41]}
            assert_equal $id2 [r clusterx myid]
        }

        test "CLUSTERX SETNODES pushes one topology to both nodes" {
            assert_equal OK [$n1 clusterx setnodes $topo1 1]
            assert_equal OK [r clusterx setnodes $topo1 1]
            assert_equal 1 [$n1 clusterx version]
            assert_equal 1 [r clusterx version]
        }

        test "CLUSTER NODES shows both nodes in Redis format" {
            set b1 [expr {$p1 + 10000}]
            set b2 [expr {$p2 + 10000}]
            assert_equal "$id1 127.0.0.1:$p1@$b1 myself,master - 0 0 1 connected 0-8191" \
                [cluster_nodes_line $n1 $id1]
            assert_equal "$id2 127.0.0.1:$p2@$b2 master - 0 0 1 connected 8192-16383" \
                [cluster_nodes_line $n1 $id2]
            assert_equal "$id2 127.0.0.1:$p2@$b2 myself,master - 0 0 1 connected 8192-16383" \
                [cluster_nodes_line r $id2]
            assert_equal "$id1 127.0.0.1:$p1@$b1 master - 0 0 1 connected 0-8191" \
                [cluster_nodes_line r $id1]
            assert_equal 2 [llength [split [string trim [r cluster nodes]] "\n"]]
        }

        test "CLUSTER SLOTS, SHARDS and INFO" {
            # In slot order, each node as [ip port id] (kvrocks's shape).
            set slots [r cluster slots]
            assert_equal 2 [llength $slots]
            lassign [lindex $slots 0] s e node
            assert_equal {0 8191} [list $s $e]
            assert_equal [list 127.0.0.1 $p1 $id1] $node
            lassign [lindex $slots 1] s e node
            assert_equal {8192 16383} [list $s $e]
            assert_equal [list 127.0.0.1 $p2 $id2] $node

            set shards [r cluster shards]
            assert_equal 2 [llength $shards]
            foreach shard $shards {
                set nodes [dict get $shard nodes]
                assert_equal 1 [llength $nodes]
                set node [lindex $nodes 0]
                if {[dict get $node id] eq $id1} {
                    assert_equal {0 8191} [dict get $shard slots]
                    assert_equal $p1 [dict get $node port]
                } else {
                    assert_equal $id2 [dict get $node id]
                    assert_equal {8192 16383} [dict get $shard slots]
                }
                assert_equal master [dict get $node role]
            }

            foreach c [list $n1 r] {
                assert_equal ok [cluster_info_field $c cluster_state]
                assert_equal 16384 [cluster_info_field $c cluster_slots_assigned]
                assert_equal 2 [cluster_info_field $c cluster_known_nodes]
                assert_equal 1 [cluster_info_field $c cluster_current_epoch]
            }
        }

        test "MOVED for keys of the other node" {
            # foo is slot 12182 (node 2), bar is slot 5061 (node 1).
            assert_error "MOVED 12182 127.0.0.1:$p2" {$n1 get foo}
            assert_error "MOVED 12182 127.0.0.1:$p2" {$n1 set foo v}
            assert_error "MOVED 5061 127.0.0.1:$p1" {r get bar}
            assert_equal OK [r set foo v]
            assert_equal v [r get foo]
            assert_equal OK [$n1 set bar w]
            assert_equal w [$n1 get bar]
        }

        test "CROSSSLOT and hash tags" {
            assert_error "CROSSSLOT Keys in request don't hash to the same slot" {$n1 mset bar 1 hello 2}
            assert_error "CROSSSLOT Keys in request don't hash to the same slot" {$n1 mget bar hello}
            assert_equal OK [$n1 mset {{user1000}.following} a {{user1000}.followers} b]
            assert_equal {a b} [$n1 mget {{user1000}.following} {{user1000}.followers}]
            assert_error "MOVED 3443 127.0.0.1:$p1" {r mget {{user1000}.following} {{user1000}.followers}}
        }

        test "Keyless commands run on both nodes" {
            assert_equal PONG [$n1 ping]
            assert_equal PONG [r ping]
            assert_equal 1 [r dbsize]
            assert_equal 3 [$n1 dbsize]
        }

        test "COUNTKEYSINSLOT and GETKEYSINSLOT" {
            assert_equal 2 [$n1 cluster countkeysinslot 3443]
            assert_equal [lsort [list "{user1000}.following" "{user1000}.followers"]] \
                [lsort [$n1 cluster getkeysinslot 3443 10]]
            assert_equal 1 [llength [$n1 cluster getkeysinslot 3443 1]]
            assert_equal 0 [$n1 cluster countkeysinslot 100]
            assert_equal {} [$n1 cluster getkeysinslot 100 10]
            assert_error "ERR*" {$n1 cluster countkeysinslot 16384}
        }

        test "Bad CLUSTERX SETNODES input is refused and changes nothing" {
            set before_nodes [r cluster nodes]
            set good2 "$id2 127.0.0.1 $p2 master - 8192-16383"
            foreach {text version pattern} [list \
                "xyz 127.0.0.1 $p1 master - 0-8191\n$good2" 2 "ERR Invalid cluster node id" \
                "$id1 127.0.0.1 $p1 master - 0-16384\n$good2" 2 "ERR Slot is out of range" \
                "$id1 127.0.0.1 $p1 master - 16384\n$good2" 2 "ERR Slot is out of range" \
                "$id1 127.0.0.1 $p1 master - -1\n$good2" 2 "ERR Slot is out of range" \
                "$id1 127.0.0.1 $p1 master - 10-5\n$good2" 2 "ERR Slot is out of range" \
                $topo1 0 "ERR Invalid cluster version" \
                $topo1 abc "ERR Invalid version" \
                "$id1 127.0.0.1 $p1 master\n$good2" 2 "ERR Invalid cluster nodes info" \
                "$id1 127.0.0.1 notaport master - 0-8191\n$good2" 2 "ERR Invalid cluster node port" \
                "$id1 127.0.0.1 70000 master - 0-8191\n$good2" 2 "ERR Invalid cluster node port" \
                "$id1 127.0.0.1 $p1 boss - 0-8191\n$good2" 2 "ERR Invalid cluster node role" \
                "$id1 127.0.0.1 $p1 master - 0-8192\n$good2" 2 "ERR Slot distribution is overlapped" \
                "$id1 127.0.0.1 $p1 master - 0-8191 $good2" 2 "ERR Invalid nodes definition: Missing newline between node entries." \
                "$id1 127.0.0.1\x00 $p1 master - 0-8191\n$good2" 2 "ERR Invalid cluster node host" \
                "" 2 "ERR Invalid cluster nodes info" \
                "$id1 127.0.0.1 $p1 master - 0-8191" 2 "ERR Invalid cluster nodes info: this node*" \
                "$id1 127.0.0.1 $p1 master -\n$id2 127.0.0.1 $p2 master -" 2 "ERR Invalid cluster nodes info: no slot*" \
            ] {
                assert_error $pattern {r clusterx setnodes $text $version} "SETNODES {$text} $version"
                assert_equal 1 [r clusterx version]
                assert_equal $before_nodes [r cluster nodes]
                assert_equal $id2 [r clusterx myid]
            }
            # The version in force: OK, and nothing changes (kvrocks).
            assert_equal OK [r clusterx setnodes "$id2 127.0.0.1 $p2 master - 0-16383" 1]
            assert_equal $before_nodes [r cluster nodes]
        }

        test "CLUSTERX SETSLOT needs exactly version + 1" {
            set before_nodes [r cluster nodes]
            assert_error "ERR Invalid cluster version" {r clusterx setslot 100 node $id2 1}
            assert_error "ERR Invalid cluster version" {r clusterx setslot 100 node $id2 3}
            assert_error "ERR Slot is out of range" {r clusterx setslot 16384 node $id2 2}
            assert_error "ERR No this node in the cluster" {r clusterx setslot 100 node [random_node_id] 2}
            assert_equal 1 [r clusterx version]
            assert_equal $before_nodes [r cluster nodes]

            assert_equal OK [r clusterx setslot 100 node $id2 2]
            assert_equal OK [$n1 clusterx setslot 100 node $id2 2]
            assert_equal 2 [r clusterx version]
            assert_equal 2 [$n1 clusterx version]
            assert_match "* connected 0-99 101-8191" [cluster_nodes_line r $id1]
            assert_match "* connected 100 8192-16383" [cluster_nodes_line $n1 $id2]
            assert_error "MOVED 100 127.0.0.1:$p2" {$n1 get {{t10648}x}}
        }

        test "ASK and ASKING while a slot is moved by hand" {
            # bar (slot 5061) lives on node 1; move the slot to node 2.
            $n1 set {{bar}1} one
            assert_equal OK [r cluster setslot 5061 importing $id1]
            assert_equal OK [$n1 cluster setslot 5061 migrating $id2]
            assert_match "*\\\[5061->-$id2\\\]*" [cluster_nodes_line $n1 $id1]
            assert_match "*\\\[5061-<-$id1\\\]*" [cluster_nodes_line r $id2]

            assert_equal one [$n1 get {{bar}1}]
            assert_error "ASK 5061 127.0.0.1:$p2" {$n1 get {{bar}2}}
            assert_error "MOVED 5061 127.0.0.1:$p1" {r get {{bar}2}}
            assert_equal OK [r asking]
            assert_equal {} [r get {{bar}2}]
            assert_error "MOVED 5061 127.0.0.1:$p1" {r get {{bar}2}}
            assert_equal OK [r asking]
            assert_equal OK [r set {{bar}2} two]

            assert_equal OK [$n1 migrate 127.0.0.1 $p2 {{bar}1} 0 5000]
            assert_equal NOKEY [$n1 migrate 127.0.0.1 $p2 {{bar}1} 0 5000]
            # Like Redis, the slot can only be handed over once it is empty:
            # "bar" (written by an earlier test) moves too.
            assert_error "*still hold keys*" {$n1 cluster setslot 5061 node $id2}
            assert_equal OK [$n1 migrate 127.0.0.1 $p2 "" 0 5000 keys bar]
            assert_error "ASK 5061 127.0.0.1:$p2" {$n1 get {{bar}1}}

            assert_equal OK [r cluster setslot 5061 node $id2]
            assert_equal OK [$n1 cluster setslot 5061 node $id2]
            assert_error "MOVED 5061 127.0.0.1:$p2" {$n1 get {{bar}1}}
            assert_equal one [r get {{bar}1}]
            assert_equal two [r get {{bar}2}]
            assert_no_match "*\\\[*" [$n1 cluster nodes]
            assert_no_match "*\\\[*" [r cluster nodes]
        }

        test "DUMP and RESTORE between the nodes" {
            # {t10648} is slot 100, owned by node 2 since the SETSLOT above.
            r set {{t10648}src} "hello\x00world" px 600000
            set payload [r dump {{t10648}src}]
            assert_equal OK [r restore {{t10648}copy} 0 $payload]
            assert_equal "hello\x00world" [r get {{t10648}copy}]
            assert_equal -1 [r pttl {{t10648}copy}]
            assert_error "BUSYKEY Target key name already exists." {r restore {{t10648}copy} 0 $payload}
            assert_equal OK [r restore {{t10648}copy} 5000 $payload replace]
            assert_range [r pttl {{t10648}copy}] 1 5000
            set bad [string replace $payload 3 3 [format %c [expr {([scan [string index $payload 3] %c] + 1) % 256}]]]
            assert_error "ERR DUMP payload version or checksum are wrong" {r restore {{t10648}bad} 0 $bad}
            assert_error "ERR DUMP payload version or checksum are wrong" {r restore {{t10648}bad} 0 garbage}
            assert_equal 0 [r exists {{t10648}bad}]
            assert_equal {} [r dump {{t10648}missing}]
        }

        test "CLUSTER NODES is the same on both nodes after the moves" {
            assert_equal [lsort [split [string trim [string map {myself, ""} [$n1 cluster nodes]]] "\n"]] \
                [lsort [split [string trim [string map {myself, ""} [r cluster nodes]]] "\n"]]
        }

        test "Topology survives a restart" {
            set before_nodes [r cluster nodes]
            set before_version [r clusterx version]
            restart_server
            assert_equal $id2 [r clusterx myid]
            assert_equal $before_version [r clusterx version]
            assert_equal $before_nodes [r cluster nodes]
            assert_error "MOVED 100 127.0.0.1:$p2" {$n1 get {{t10648}x}}
        }
    }
}
