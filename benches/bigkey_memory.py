#!/usr/bin/env python3
"""Memory while reading big keys: ferrocks beside redis-server.

Fills one hash of BIG_MEMBERS fields, and one set, one sorted set and one
list of the same size, then reads them the way a client pages through a big
key: full HSCAN, SSCAN and ZSCAN (COUNT 1000), ZRANGE windows of 100 by score
spread across the whole set, ZRANGE windows of 100 by rank at 20 ranks spread
across it, LRANGE windows of 100 across the whole list, then
HLEN/SCARD/ZCARD/LLEN and DEL of each. The server's RSS is sampled every 0.1
s during each phase and printed, with the time each phase took. A server
whose memory grows with the key would show it here.

Usage: python3 benches/bigkey_memory.py   (or: make bench-bigkey)
Env:   FERROCKS_BIN, FERROCKS_ARGS (--rocksdb.block_cache_size 64), REDIS_BIN,
       BIG_MEMBERS (1000000), BENCH_OUT (benches/results/bigkey-memory.md),
       BENCH_ONLY_FERROCKS=1 (skip redis-server: for sizes it cannot hold)
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

MEMBERS = int(os.environ.get("BIG_MEMBERS", "1000000"))
HOME = os.environ.get("HOME", "/root")
FERROCKS = os.environ.get(
    "FERROCKS_BIN", f"{HOME}/.cache/ferrocks/target/release/ferrocks")
REDIS = os.environ.get("REDIS_BIN", "redis-server")
FERROCKS_ARGS = os.environ.get(
    "FERROCKS_ARGS", "--rocksdb.block_cache_size 64").split()
OUT = os.environ.get("BENCH_OUT", "benches/results/bigkey-memory.md")
ONLY_FERROCKS = os.environ.get("BENCH_ONLY_FERROCKS", "0") == "1"
# Windows are read at this many evenly spread places (1000 at 1M members).
STEP = 100 * max(1, MEMBERS // 100000)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(kind, tmp):
    port = free_port()
    if kind == "ferrocks":
        cmd = [FERROCKS, "--port", str(port), "--dir", os.path.join(tmp, "f")]
        cmd += FERROCKS_ARGS
    else:
        cmd = [REDIS, "--port", str(port), "--save", "", "--appendonly", "no",
               "--dir", tmp]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            redis.Redis(port=port).ping()
            return proc, port
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{kind} did not start")


class Sampler:
    """Samples a process's RSS every 0.1 s until stopped; keeps the max."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, rss_kib(pid), False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.1)

    def finish(self):
        self.stop = True
        self.thread.join()
        return max(self.peak, rss_kib(self.pid))


def fill(r):
    pipe = r.pipeline(transaction=False)
    for i in range(0, MEMBERS, 1000):
        top = min(i + 1000, MEMBERS)
        pipe.hset("big:hash", mapping={f"field:{j}": f"value:{j}" for j in range(i, top)})
        pipe.sadd("big:set", *[f"member:{j}" for j in range(i, top)])
        pipe.zadd("big:zset", {f"member:{j}": j for j in range(i, top)})
        pipe.rpush("big:list", *[f"item:{j}" for j in range(i, top)])
        if i % 20000 == 0:
            pipe.execute()
    pipe.execute()


def phases(r):
    def scan(it):
        def run():
            n = sum(1 for _ in it())
            assert n == MEMBERS, n
        return run

    def zranges_by_score():
        for start in range(0, MEMBERS, STEP):
            got = r.zrange("big:zset", start, "+inf", byscore=True, offset=0, num=100)
            assert len(got) == min(100, MEMBERS - start), (start, len(got))

    def zranges_by_rank():
        for i in range(20):
            start = i * (MEMBERS // 20)
            assert len(r.zrange("big:zset", start, start + 99)) > 0

    def lranges():
        for start in range(0, MEMBERS, STEP):
            assert len(r.lrange("big:list", start, start + 99)) > 0

    def sizes():
        assert r.hlen("big:hash") == MEMBERS
        assert r.scard("big:set") == MEMBERS
        assert r.zcard("big:zset") == MEMBERS
        assert r.llen("big:list") == MEMBERS

    def deletes():
        assert r.delete("big:hash", "big:set", "big:zset", "big:list") == 4

    windows = len(range(0, MEMBERS, STEP))
    return [("HSCAN of the whole hash (COUNT 1000)",
             scan(lambda: r.hscan_iter("big:hash", count=1000))),
            ("SSCAN of the whole set (COUNT 1000)",
             scan(lambda: r.sscan_iter("big:set", count=1000))),
            ("ZSCAN of the whole zset (COUNT 1000)",
             scan(lambda: r.zscan_iter("big:zset", count=1000))),
            (f"ZRANGE BYSCORE windows of 100 at {windows:,} places", zranges_by_score),
            ("ZRANGE by rank windows of 100 at 20 places", zranges_by_rank),
            (f"LRANGE windows of 100 at {windows:,} places", lranges),
            ("HLEN + SCARD + ZCARD + LLEN", sizes),
            ("DEL of all four", deletes)]


def block_cache_mib(r, kind):
    """ferrocks's block-cache usage (one cache shared by every column
    family), so RSS growth can be told apart from the cache filling up to
    its configured size."""
    if kind != "ferrocks":
        return 0
    info = r.info("rocksdb")
    return int(info.get("block_cache_usage[metadata]", 0)) / 1048576


def measure(kind):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start(kind, tmp)
        try:
            r = redis.Redis(port=port)
            t0 = time.time()
            fill(r)
            fill_secs = time.time() - t0
            time.sleep(1)
            base = rss_kib(proc.pid)
            for name, run in phases(r):
                s = Sampler(proc.pid)
                t0 = time.time()
                run()
                secs = time.time() - t0
                peak = s.finish()
                rows.append((name, secs, base, peak, block_cache_mib(r, kind)))
            return fill_secs, rows
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main():
    kinds = ("ferrocks",) if ONLY_FERROCKS else ("ferrocks", "redis")
    results = {k: measure(k) for k in kinds}
    if ONLY_FERROCKS:
        results["redis"] = (0.0, [(n, 0.0, 0, 0, 0) for n, *_ in results["ferrocks"][1]])
    lines = [
        "# Memory while reading big keys",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
        f"- one hash, one set, one sorted set and one list of {MEMBERS:,} members each"
        + (" (redis-server not run: BENCH_ONLY_FERROCKS=1)" if ONLY_FERROCKS else ""),
        f"- ferrocks args: `{' '.join(FERROCKS_ARGS)}`; redis-server in memory",
        f"- fill time: ferrocks {results['ferrocks'][0]:.1f} s, "
        f"redis {results['redis'][0]:.1f} s",
        "",
        "| phase | ferrocks s | ferrocks RSS before -> peak (MiB) "
        "| ferrocks block cache after (MiB) "
        "| redis s | redis RSS before -> peak (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for (name, fs, fb, fp, fc), (_, rs, rb, rp, _) in zip(results["ferrocks"][1],
                                                          results["redis"][1]):
        lines.append(f"| {name} | {fs:.2f} | {fb / 1024:.0f} -> {fp / 1024:.0f} "
                     f"| {fc:.0f} | {rs:.2f} | {rb / 1024:.0f} -> {rp / 1024:.0f} |")
    report = "\n".join(lines) + "\n"
    print(report)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(report)


if __name__ == "__main__":
    main()
