# MULTI / EXEC / DISCARD (Redis 7 behaviour).

start_server {tags {multi}} {

    test "MULTI queues commands and EXEC runs them in order" {
        r del a b
        assert_equal OK [r multi]
        assert_equal QUEUED [r set a 1]
        assert_equal QUEUED [r incr a]
        assert_equal QUEUED [r get a]
        assert_equal {OK 2 2} [r exec]
        assert_equal 2 [r get a]
    }

    test "DISCARD drops the queue" {
        r set d before
        r multi
        r set d after
        assert_equal OK [r discard]
        assert_equal before [r get d]
    }

    test "EXEC and DISCARD without MULTI are errors" {
        assert_error "ERR EXEC without MULTI" {r exec}
        assert_error "ERR DISCARD without MULTI" {r discard}
    }

    test "MULTI cannot be nested and the transaction goes on" {
        r multi
        assert_error "ERR MULTI calls can not be nested" {r multi}
        r set n 1
        assert_equal {OK} [r exec]
    }

    test "A bad command while queueing aborts EXEC" {
        r set keep v
        r multi
        assert_error "ERR unknown command*" {r nosuchcommand}
        r set keep changed
        assert_error "EXECABORT Transaction discarded because of previous errors." {r exec}
        assert_equal v [r get keep]
    }

    test "Wrong arity while queueing aborts EXEC" {
        r multi
        assert_error "ERR wrong number of arguments for 'get' command" {r get}
        assert_error "EXECABORT*" {r exec}
    }

    test "A runtime error inside EXEC does not stop the others" {
        r set s notanumber
        r multi
        r incr s
        r set t ok
        set res [r exec]
        assert_equal 2 [llength $res]
        assert_match "*not an integer*" [lindex $res 0]
        assert_equal OK [lindex $res 1]
        assert_equal ok [r get t]
        assert_equal notanumber [r get s]
    }

    test "Other clients see nothing of a transaction until EXEC" {
        set c2 [redis_client]
        r del iso
        r multi
        r set iso 1
        assert_equal {} [$c2 get iso]
        r exec
        assert_equal 1 [$c2 get iso]
        $c2 close
    }
}
