# Helpers shared by the cluster and slot-migration test files.

# A random 40-hex node id.
proc random_node_id {} {
    set id ""
    for {set i 0} {$i < 40} {incr i} {
        append id [format %x [expr {int(rand() * 16)}]]
    }
    return $id
}

# CLUSTERX SETNODES text: one "<id> 127.0.0.1 <port> master - <ranges>" line
# per {id port ranges} triple.
proc nodes_text {nodes} {
    set lines {}
    foreach n $nodes {
        lassign $n id port ranges
        lappend lines [string trim "$id 127.0.0.1 $port master - $ranges"]
    }
    return [join $lines "\n"]
}

# The CLUSTER NODES line of node ID, split into words ("" if absent).
proc cluster_nodes_line {client id} {
    foreach line [split [string trim [$client cluster nodes]] "\n"] {
        if {[lindex $line 0] eq $id} { return $line }
    }
    return ""
}

# One field of CLUSTER INFO.
proc cluster_info_field {client name} {
    foreach line [split [$client cluster info] "\n"] {
        set line [string trim $line]
        if {[string match "$name:*" $line]} {
            return [string range $line [string length "$name:"] end]
        }
    }
    error "CLUSTER INFO has no field $name"
}
