#!/usr/bin/env bash
# Where a ferrocks server spends its CPU during one redis-benchmark row.
#
#   bash benches/profile_client.sh get 16        # GET -P 16
#   PROFILE_TOP=30 bash benches/profile_client.sh set 1
#
# Starts a fresh server on an empty data dir (the embedded defaults plus
# `dir`), fills the keyspace with a SET run when the row reads, then runs
# the row under `perf record -g` attached to the server and prints the
# hottest symbols (children and self). Needs `perf` (Debian linux-perf).
#
#   FERROCKS_BIN   binary (default $HOME/.cache/ferrocks/target/release/ferrocks)
#   PROFILE_N      requests of the profiled row (default 1000000)
#   PROFILE_TOP    lines of the report (default 25)
#   PROFILE_ARGS   extra server arguments, e.g. "--rocksdb.write_buffer_size 128"
set -euo pipefail

TEST=${1:?usage: profile_client.sh TEST PIPELINE}
PIPELINE=${2:-16}
BIN=${FERROCKS_BIN:-$HOME/.cache/ferrocks/target/release/ferrocks}
N=${PROFILE_N:-1000000}
TOP=${PROFILE_TOP:-25}
PORT=${PROFILE_PORT:-6391}
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 2; }

WORK=$(mktemp -d)
SERVER=""
cleanup() {
    [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck disable=SC2086
"$BIN" --port "$PORT" --dir "$WORK/data" ${PROFILE_ARGS:-} >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done

bench() {
    redis-benchmark -p "$PORT" -c 50 -d 100 -r 100000 -q "$@"
}
case $TEST in
    get | incr) bench -t set -n 200000 -P 16 >/dev/null ;;
esac

perf record -g -F 999 -p "$SERVER" -o "$WORK/perf.data" 2>/dev/null &
PERF=$!
sleep 0.5
bench -t "$TEST" -n "$N" -P "$PIPELINE"
kill -INT "$PERF"
wait "$PERF" 2>/dev/null || true
echo "--- children (inclusive) ---"
perf report -i "$WORK/perf.data" --children --stdio --no-header --percent-limit 2 -g none 2>/dev/null | grep -v "^#" |
    grep -v '^$' | head -n "$TOP"
echo "--- self ---"
perf report -i "$WORK/perf.data" --no-children --stdio --no-header -g none 2>/dev/null | grep -v "^#" |
    grep -v '^$' | head -n "$TOP"
