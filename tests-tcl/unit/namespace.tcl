# requirepass authentication (Redis behaviour) and kvrocks-style NAMESPACE
# (ferrocks only): the requirepass token is the admin; NAMESPACE ADD name token
# creates a namespace whose clients (AUTH token) see their own keyspace.
# ferrocks stores namespaces as config lines "namespace.NAME TOKEN".

# A new client authenticated with PASSWORD.
proc authed_client {password} {
    set c [redis_client]
    assert_equal OK [$c auth $password]
    return $c
}

start_server {tags {auth}} {
    test "AUTH without a configured password is an error" {
        assert_error "ERR*without any password configured*" {r auth foo}
        assert_equal PONG [r ping]
    }
}

start_server {tags {auth} requirepass foobared config "# namespace test config\n"} {

    # ---- requirepass: standard Redis behaviour -----------------------------

    test "Commands without AUTH get NOAUTH" {
        set c [redis_client]
        assert_error "NOAUTH*" {$c get foo}
        assert_error "NOAUTH*" {$c set foo bar}
        assert_error "NOAUTH*" {$c ping}
        $c close
    }

    test "AUTH with a wrong password gets WRONGPASS" {
        set c [redis_client]
        assert_error "WRONGPASS*" {$c auth wrong}
        assert_error "NOAUTH*" {$c get foo}
        $c close
    }

    test "AUTH with the right password" {
        set c [redis_client]
        assert_equal OK [$c auth foobared]
        assert_equal PONG [$c ping]
        assert_equal OK [$c set authkey v]
        assert_equal v [$c get authkey]
        $c close
    }

    test "A failed AUTH after a good one keeps the connection usable" {
        set c [authed_client foobared]
        catch {$c auth wrong}
        assert_equal PONG [$c ping]
        $c close
    }

    test "AUTH wrong number of arguments" {
        set c [redis_client]
        assert_error "ERR wrong number of arguments for 'auth' command" {$c auth}
        $c close
    }

    # ---- NAMESPACE (ferrocks only) -----------------------------------------

    tags {ferrocks} {
        test "NAMESPACE ADD / GET" {
            set admin [authed_client foobared]
            assert_equal OK [$admin namespace add ns1 token1]
            assert_equal token1 [$admin namespace get ns1]
            $admin close
        }

        test "NAMESPACE GET * lists name/token pairs" {
            set admin [authed_client foobared]
            assert_equal OK [$admin namespace add ns2 token2]
            set all [$admin namespace get *]
            assert {[llength $all] % 2 == 0}
            assert_equal token1 [dict get $all ns1]
            assert_equal token2 [dict get $all ns2]
            $admin close
        }

        test "NAMESPACE GET of a missing namespace" {
            set admin [authed_client foobared]
            set code [catch {$admin namespace get no-such-ns} res]
            assert {($code == 0 && $res eq "") || ($code == 1 && [string match *ERR* $res])} "got '$res'"
            $admin close
        }

        test "NAMESPACE ADD with a token already in use is an error" {
            set admin [authed_client foobared]
            assert_error "*ERR*" {$admin namespace add ns-dup token1}
            assert_error "*ERR*" {$admin namespace add ns-dup2 foobared}
            $admin close
        }

        test "NAMESPACE entries are config lines namespace.NAME" {
            set admin [authed_client foobared]
            assert_equal {namespace.ns1 token1} [$admin config get namespace.ns1]
            $admin close
        }

        test "A namespace token authenticates" {
            set c [redis_client]
            assert_equal OK [$c auth token1]
            assert_equal PONG [$c ping]
            $c close
        }

        test "A namespace sees its own keyspace" {
            set admin [authed_client foobared]
            set ns [authed_client token1]
            $admin flushdb
            $ns flushdb
            $admin set shared from-admin
            $admin set adminonly 1
            assert_equal {} [$ns get shared]
            assert_equal {} [$ns get adminonly]
            assert_equal 0 [$ns exists adminonly]
            $ns set shared from-ns
            $ns set nsonly 1
            assert_equal from-admin [$admin get shared]
            assert_equal from-ns [$ns get shared]
            assert_equal {} [$admin get nsonly]
            $admin close
            $ns close
        }

        test "DBSIZE and KEYS are per namespace" {
            set admin [authed_client foobared]
            set ns [authed_client token1]
            $admin flushdb
            $ns flushdb
            $admin mset a 1 b 2 c 3
            $ns mset x 1
            assert_equal 3 [$admin dbsize]
            assert_equal 1 [$ns dbsize]
            assert_equal {a b c} [lsort [$admin keys *]]
            assert_equal {x} [$ns keys *]
            assert_equal {x} [lindex [$ns scan 0 count 100] 1]
            $admin close
            $ns close
        }

        test "Two namespaces are isolated from each other" {
            set ns1 [authed_client token1]
            set ns2 [authed_client token2]
            $ns1 flushdb
            $ns2 flushdb
            $ns1 set k one
            $ns2 set k two
            assert_equal one [$ns1 get k]
            assert_equal two [$ns2 get k]
            $ns1 del k
            assert_equal two [$ns2 get k]
            $ns1 close
            $ns2 close
        }

        test "FLUSHDB in a namespace leaves the default namespace alone" {
            set admin [authed_client foobared]
            set ns [authed_client token1]
            $admin set keepme 1
            $ns set dropme 1
            assert_equal OK [$ns flushdb]
            assert_equal 0 [$ns dbsize]
            assert_equal 1 [$admin get keepme]
            $admin close
            $ns close
        }

        test "FLUSHDB in the default namespace leaves a namespace alone" {
            set admin [authed_client foobared]
            set ns [authed_client token1]
            $ns set keepme 1
            $admin set dropme 1
            assert_equal OK [$admin flushdb]
            assert_equal 0 [$admin dbsize]
            assert_equal 1 [$ns get keepme]
            $admin close
            $ns close
        }

        test "A namespace client cannot run NAMESPACE" {
            set ns [authed_client token1]
            assert_error "*" {$ns namespace get *}
            assert_error "*" {$ns namespace add evil eviltoken}
            assert_error "*" {$ns namespace del ns2}
            $ns close
            set admin [authed_client foobared]
            assert_equal token2 [$admin namespace get ns2]
            set code [catch {$admin namespace get evil} res]
            assert {$res eq "" || $code == 1} "namespace 'evil' must not exist, got '$res'"
            $admin close
        }

        test "NAMESPACE SET changes the token" {
            set admin [authed_client foobared]
            set ns [authed_client token1]
            $ns set survivor 1
            $ns close
            assert_equal OK [$admin namespace set ns1 token1b]
            assert_equal token1b [$admin namespace get ns1]
            set c [redis_client]
            assert_error "*" {$c auth token1}
            assert_equal OK [$c auth token1b]
            assert_equal 1 [$c get survivor]
            $c close
            $admin close
        }

        test "Namespaces survive a restart" {
            restart_server
            set admin [authed_client foobared]
            assert_equal token1b [$admin namespace get ns1]
            assert_equal token2 [$admin namespace get ns2]
            set ns [authed_client token1b]
            assert_equal 1 [$ns get survivor]
            $admin close
            $ns close
        }

        test "NAMESPACE DEL removes the namespace" {
            set admin [authed_client foobared]
            assert_equal OK [$admin namespace del ns2]
            set code [catch {$admin namespace get ns2} res]
            assert {($code == 0 && $res eq "") || $code == 1} "got '$res'"
            set c [redis_client]
            assert_error "*" {$c auth token2}
            assert_error "NOAUTH*" {$c get k}
            $c close
            $admin close
        }

        test "NAMESPACE with a bad subcommand or arity is an error" {
            set admin [authed_client foobared]
            assert_error "*ERR*" {$admin namespace bogus x}
            assert_error "*ERR*" {$admin namespace add onlyname}
            $admin close
        }
    }
}
