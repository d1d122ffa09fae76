#!/usr/bin/env python3
"""redis-py's RedisCluster against a running ferrocks cluster.

    python3 tests/py/test_cluster.py PORT1 PORT2 PORT3 ...

The nodes listen on 127.0.0.1 and together own all 16384 slots. The script
writes and reads 10,000 keys (some with a TTL) through RedisCluster, checks
with plain connections that each key sits on the node owning its slot, and
exercises hash-tagged multi-key commands and multi-slot deletes. It prints
one line per check and exits 1 if any check failed (2 on bad usage or a
missing redis module). It needs no pytest.
"""

import sys
import traceback

try:
    import redis
    from redis.cluster import ClusterNode, RedisCluster
    from redis.crc import key_slot
except ImportError as e:  # pragma: no cover - reported to the caller
    print(f"redis-py is not installed: {e}")
    sys.exit(2)

N_KEYS = 10_000
TTL_MS = 600_000
BATCH = 1000

FAILURES = []
PASSED = []


def check(name):
    """Decorator: run a check, record pass or failure, never raise."""

    def wrap(fn):
        def run(*args):
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - report every failure
                FAILURES.append(name)
                print(f"[err] {name}")
                traceback.print_exc(file=sys.stdout)
            else:
                PASSED.append(name)
                print(f"[ok] {name}")

        return run

    return wrap


def value_for(i):
    v = f"value-{i}:".encode() + b"\x00\r\n\xff" + bytes([i % 251]) * (i % 97)
    return v


def keys_and_values():
    for i in range(N_KEYS):
        yield i, f"py:{i}".encode(), value_for(i), (TTL_MS if i % 10 == 0 else None)


def slot_owners(port):
    """slot -> (host, port) from CLUSTER SLOTS of one node."""
    plain = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    owners = {}
    for entry in plain.execute_command("CLUSTER SLOTS"):
        start, end, master = entry[0], entry[1], entry[2]
        host = master[0].decode() if isinstance(master[0], bytes) else master[0]
        for s in range(int(start), int(end) + 1):
            owners[s] = (host, int(master[1]))
    plain.close()
    return owners


@check("RedisCluster discovers every node as a primary")
def discovers_nodes(rc, ports):
    nodes = rc.get_primaries()
    got = sorted(n.port for n in nodes)
    assert got == sorted(ports), f"primaries {got}, expected {sorted(ports)}"
    owners = slot_owners(ports[0])
    assert len(owners) == 16384, f"CLUSTER SLOTS covers {len(owners)} slots"


@check("CLUSTER SLOTS: ranges in slot order, nodes as [ip, port, id]")
def slots_shape(rc, ports):
    for port in ports:
        plain = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        entries = plain.execute_command("CLUSTER SLOTS")
        plain.close()
        starts = [int(e[0]) for e in entries]
        assert starts == sorted(starts), f"node {port}: starts {starts}"
        for e in entries:
            for node in e[2:]:
                assert len(node) == 3, f"node {port}: entry {e!r}"
                node_id = node[2].decode() if isinstance(node[2], bytes) else node[2]
                assert len(node_id) == 40, f"node {port}: id {node_id!r}"
        # What the cluster client itself learned from it.
        got = {n.port for n in rc.get_nodes()}
        assert port in got, f"{port} not among {got}"


@check("10,000 keys written through pipelines and read back")
def write_and_read(rc, ports):
    items = list(keys_and_values())
    for start in range(0, len(items), BATCH):
        pipe = rc.pipeline()
        for _, key, value, ttl in items[start : start + BATCH]:
            if ttl is None:
                pipe.set(key, value)
            else:
                pipe.set(key, value, px=ttl)
        replies = pipe.execute()
        assert all(r is True for r in replies), replies[:5]
    bad = []
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        pipe = rc.pipeline()
        for _, key, _, _ in chunk:
            pipe.get(key)
            pipe.pttl(key)
        replies = pipe.execute()
        for n, (_, key, value, ttl) in enumerate(chunk):
            got, pttl = replies[2 * n], replies[2 * n + 1]
            if got != value:
                bad.append(f"{key!r}: GET {got!r}, expected {value!r}")
            elif ttl is None and pttl != -1:
                bad.append(f"{key!r}: PTTL {pttl}, expected -1")
            elif ttl is not None and not 0 < pttl <= ttl:
                bad.append(f"{key!r}: PTTL {pttl}, expected 1..{ttl}")
    assert not bad, f"{len(bad)} mismatches: {bad[:10]}"


@check("single commands are routed to the owner")
def single_commands(rc, ports):
    for i, key, value, _ in keys_and_values():
        if i % 25:
            continue
        got = rc.get(key)
        assert got == value, f"{key!r}: {got!r}"
    for i in range(200):
        key = f"pycounter:{i}"
        assert rc.incrby(key, i) == i
        assert rc.incr(key) == i + 1


@check("each key is stored on the node owning its slot")
def placement(rc, ports):
    owners = slot_owners(ports[0])
    plains = {p: redis.Redis(host="127.0.0.1", port=p, socket_timeout=10) for p in ports}
    total = sum(c.dbsize() for c in plains.values())
    assert total == N_KEYS + 200, f"DBSIZE over all nodes is {total}"
    for i, key, _, _ in keys_and_values():
        if i % 101:
            continue
        host, port = owners[key_slot(key)]
        assert host == "127.0.0.1", host
        assert plains[port].exists(key) == 1, f"{key!r} not on its owner {port}"
        for other, c in plains.items():
            if other == port:
                continue
            try:
                c.exists(key)
            except redis.exceptions.ResponseError as e:
                # redis-py maps MOVED to a ResponseError subclass.
                assert "MOVED" in str(e) or type(e).__name__ == "MovedError", e
            else:
                raise AssertionError(f"{key!r}: node {other} answered instead of MOVED")
    for c in plains.values():
        c.close()


@check("hash-tagged multi-key commands")
def hash_tags(rc, ports):
    mapping = {b"{pyuser}.a": b"1", b"{pyuser}.b": b"2", b"{pyuser}.c": b"3"}
    assert rc.mset(mapping) is True
    assert rc.mget(list(mapping)) == list(mapping.values())
    assert rc.delete(*mapping) == 3


@check("multi-slot delete through the cluster client")
def delete_many(rc, ports):
    keys = [f"py:{i}".encode() for i in range(0, 1000, 7)]
    deleted = rc.delete(*keys)
    assert deleted == len(keys), f"deleted {deleted} of {len(keys)}"
    assert all(rc.get(k) is None for k in keys[:20])


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    ports = [int(p) for p in argv[1:]]
    rc = RedisCluster(
        startup_nodes=[ClusterNode("127.0.0.1", p) for p in ports],
        socket_timeout=10,
        socket_connect_timeout=10,
    )
    for fn in (discovers_nodes, slots_shape, write_and_read, single_commands, placement, hash_tags, delete_many):
        fn(rc, ports)
    rc.close()
    print(f"{len(PASSED)} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
