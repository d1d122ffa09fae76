#!/usr/bin/env python3
"""Peak memory of one large MGET: ferrocks beside redis-server.

Loads KEYS values of VALUE_KB KiB into a fresh server, resets the process's
peak-RSS counter (/proc/PID/clear_refs, 5), sends one MGET of every key,
reads the reply, and reports the peak RSS growth over the RSS before the
MGET, next to the reply's size. Runs the same against redis-server.

Usage: python3 benches/mget_memory.py   (or: make bench-mget)
Env:   FERROCKS_BIN, FERROCKS_ARGS (--rocksdb.block_cache_size 8), REDIS_BIN,
       MGET_KEYS (5000), MGET_VALUE_KB (100),
       BENCH_OUT (benches/results/mget-memory.md)
"""

import os
import socket
import subprocess
import sys
import tempfile
import time

import redis

KEYS = int(os.environ.get("MGET_KEYS", "5000"))
VALUE_KB = int(os.environ.get("MGET_VALUE_KB", "100"))
HOME = os.environ.get("HOME", "/root")
FERROCKS = os.environ.get(
    "FERROCKS_BIN", f"{HOME}/.cache/ferrocks/target/release/ferrocks")
REDIS = os.environ.get("REDIS_BIN", "redis-server")
# The block cache fills while values are read (256 MiB by default); a small
# one keeps the figure about the reply path. Override to see the default.
FERROCKS_ARGS = os.environ.get(
    "FERROCKS_ARGS", "--rocksdb.block_cache_size 8").split()
OUT = os.environ.get("BENCH_OUT", "benches/results/mget-memory.md")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
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


def measure(kind):
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start(kind, tmp)
        try:
            r = redis.Redis(port=port)
            value = b"v" * (VALUE_KB * 1024)
            pipe = r.pipeline(transaction=False)
            for i in range(KEYS):
                pipe.set(f"mget:{i}", value)
                if i % 200 == 199:
                    pipe.execute()
            pipe.execute()
            time.sleep(1)
            with open(f"/proc/{proc.pid}/clear_refs", "w") as f:
                f.write("5")
            base = status_kib(proc.pid, "VmRSS")
            start_t = time.time()
            values = r.mget([f"mget:{i}" for i in range(KEYS)])
            secs = time.time() - start_t
            peak = status_kib(proc.pid, "VmHWM")
            reply_mib = sum(len(v) for v in values) / (1 << 20)
            assert all(v == value for v in values)
            return (peak - base) / 1024, reply_mib, secs
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def main():
    rows = []
    for kind in ("ferrocks", "redis-server"):
        growth, reply, secs = measure(kind)
        rows.append((kind, growth, reply, secs))
        print(f"{kind}: peak RSS growth {growth:.0f} MiB for a {reply:.0f} MiB "
              f"reply ({growth / reply:.2f}x), {secs:.2f} s", file=sys.stderr)
    lines = [
        "# One MGET of many large values: peak memory",
        "",
        f"{KEYS} keys of {VALUE_KB} KiB, one MGET of all of them; peak RSS "
        "growth over the RSS just before the MGET (VmHWM after clear_refs).",
        f"ferrocks runs with `{' '.join(FERROCKS_ARGS)}` (the block cache fills "
        "as values are read; it is not part of the reply).",
        "",
        "| server | reply MiB | peak RSS growth MiB | growth / reply | seconds |",
        "|---|---|---|---|---|",
    ]
    for kind, growth, reply, secs in rows:
        lines.append(f"| {kind} | {reply:.0f} | {growth:.0f} | "
                     f"{growth / reply:.2f} | {secs:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
