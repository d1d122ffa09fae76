#!/usr/bin/env python3
"""Measure the server-side memory cost of N idle client connections.

Reads the server's VmRSS, opens N plain TCP connections, sends PING on each
and waits for +PONG (so the server has really accepted and serviced every
connection), waits a moment for the server to settle, reads VmRSS again while
all sockets are still open, then closes them.

Prints one line on stdout: "<rss_before_kib> <rss_after_kib> <connections>".
Exits non-zero (message on stderr) if any connection fails.

Standard library only. Used by benches/bench.sh.
"""

import argparse
import resource
import socket
import sys
import time

PING = b"*1\r\n$4\r\nPING\r\n"
PONG = b"+PONG\r\n"


def rss_kib(pid):
    """Current resident set size of process `pid`, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def raise_fd_limit(needed):
    """Make sure this process may hold `needed` file descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise RuntimeError(f"fd hard limit {hard} < {needed} needed")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def ping(sock):
    """Send one RESP PING and insist on exactly +PONG back."""
    sock.sendall(PING)
    reply = b""
    while not reply.endswith(b"\r\n"):
        chunk = sock.recv(64)
        if not chunk:
            raise ConnectionError("server closed the connection")
        reply += chunk
    if reply != PONG:
        raise ValueError(f"unexpected reply to PING: {reply!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="server PID")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=1.0,
                        help="seconds to wait before the second RSS reading")
    args = parser.parse_args()

    raise_fd_limit(args.count + 64)
    before = rss_kib(args.pid)
    socks = []
    try:
        for _ in range(args.count):
            sock = socket.create_connection((args.host, args.port), timeout=10)
            socks.append(sock)
            ping(sock)
        time.sleep(args.settle)
        after = rss_kib(args.pid)
    except Exception as err:  # report how far we got, then fail
        print(f"idle_conns: failed after {len(socks)} connections: {err}",
              file=sys.stderr)
        return 1
    finally:
        for sock in socks:
            sock.close()

    print(before, after, len(socks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
