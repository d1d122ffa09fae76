#!/usr/bin/env bash
# make bench-migrate: moves one slot between two ferrocks nodes three ways
# and prints them side by side:
#   (a) raw-key-value: streamed WriteBatch chunks (CLUSTERX MIGRATE)
#   (b) redis-command: keys re-sent one by one (the per-key baseline)
#   (c) the physical reference: the same number of records of the same
#       sizes written into an empty RocksDB by one local WriteBatch loop.
# Knobs: BENCH_KEYS (default 1000000), BENCH_VALUE_MIN / BENCH_VALUE_MAX
# (value sizes, default 100 / 1024), BENCH_WRITES_PER_SEC (writer load
# during (a), default 10000), BENCH_ONLY_RAW=1 (only (a): the memory-bound
# run of `make bench-migrate-2g`), BENCH_SHAPE (strings | hashes: one hash
# of 1-2 fields per key | bighash: one hash of BENCH_KEYS fields), BENCH_OUT,
# FERROCKS_BIN, LOCAL_WRITE_BIN.
set -euo pipefail

KEYS=${BENCH_KEYS:-1000000}
VMIN=${BENCH_VALUE_MIN:-100}
VMAX=${BENCH_VALUE_MAX:-1024}
ONLY_RAW=${BENCH_ONLY_RAW:-0}
# strings: KEYS string keys; hashes: KEYS hashes of 1-2 fields; bighash:
# one hash of KEYS fields.
SHAPE=${BENCH_SHAPE:-strings}
LOAD=${BENCH_WRITES_PER_SEC:-10000}
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/ferrocks/target}
BIN=${FERROCKS_BIN:-$TARGET/release/ferrocks}
LOCAL=${LOCAL_WRITE_BIN:-$TARGET/release/ferrocks-bench-local-write}
OUT=${BENCH_OUT:-benches/results/migrate.md}
TMP=$(mktemp -d /tmp/ferrocks-bench-migrate.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sleep 0.5; rm -rf "$TMP" 2>/dev/null || true
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

start_node() { # dir port -> pid
  "$BIN" --port "$2" --dir "$1" --bind 127.0.0.1 --cluster-enabled yes ${BENCH_NODE_ARGS:-} >"$1.log" 2>&1 &
  echo $!
}

wait_port() {
  for _ in $(seq 1 200); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "node on port $1 did not start" >&2; exit 1
}

# A hash tag whose keys land in slot $1.
tag_for_slot() {
  python3 - "$1" <<'PY'
import sys
def crc16(d):
    crc = 0
    for x in d:
        crc ^= x << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc
want, i = int(sys.argv[1]), 0
while crc16(f"t{i}".encode()) % 16384 != want:
    i += 1
print(f"t{i}")
PY
}

# RESP SETs of $2 keys with tag $1: values of VMIN..VMAX random letters,
# slices of a 1 MiB random pool (the same scheme as benches/local_write.rs).
gen_fill() {
  python3 - "$1" "$2" "$VMIN" "$VMAX" "$SHAPE" <<'PY'
import sys
tag, n = sys.argv[1], int(sys.argv[2])
vmin, span = int(sys.argv[3]), int(sys.argv[4]) - int(sys.argv[3]) + 1
shape = sys.argv[5]
batch = []
def cmd(*args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
x = 0x9E3779B97F4A7C15
M = (1 << 64) - 1
def nxt():
    global x
    x ^= (x << 13) & M; x ^= x >> 7; x ^= (x << 17) & M
    return x
out = sys.stdout.buffer
pool = bytes(97 + nxt() % 26 for _ in range(1 << 20))
for i in range(n):
    ln = vmin + nxt() % span
    o = nxt() % ((1 << 20) - ln)
    v = pool[o:o + ln]
    if shape == "strings":
        k = f"{{{tag}}}bench:{i}".encode()
        cmd(b"SET", k, v)
    elif shape == "hashes":
        # 1,000,000 small hashes of 1-2 fields: the shape on which a
        # per-key iterator seek dominates.
        k = f"{{{tag}}}bench:{i}".encode()
        if i % 2:
            cmd(b"HSET", k, b"f1", v)
        else:
            half = len(v) // 2
            cmd(b"HSET", k, b"f1", v[:half], b"f2", v[half:])
    else:
        # One big hash: fields in HSETs of 1000.
        batch.extend((f"field:{i}".encode(), v))
        if len(batch) == 2000 or i == n - 1:
            cmd(b"HSET", f"{{{tag}}}bighash".encode(), *batch)
            batch.clear()
PY
}

info_job() { redis-cli -p "$1" info migration | tr -d '\r' | grep '^job_' | tail -1; }
field() { echo "$1" | tr ',:' '\n\n' | awk -F= -v k="$2" '$1==k {print $2}'; }

# Runs one migration of slot $1 with type $2; prints "secs src_peak dst_peak jobline".
run_migration() {
  local slot=$1 type=$2
  redis-cli -p "$P1" config set migrate-type "$type" >/dev/null
  local b1 b2 m1 m2
  b1=$(rss_kb "$N1"); b2=$(rss_kb "$N2"); m1=$b1; m2=$b2
  local start end
  start=$(date +%s.%N)
  redis-cli -p "$P1" clusterx migrate "$slot" "$ID2" async >/dev/null
  while :; do
    local r1 r2 line
    r1=$(rss_kb "$N1"); r2=$(rss_kb "$N2")
    (( r1 > m1 )) && m1=$r1; (( r2 > m2 )) && m2=$r2
    line=$(info_job "$P1")
    case "$line" in *state=success*|*state=failed*) break ;; esac
    sleep 0.05
  done
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $(( (m1 - b1) / 1024 )) $(( (m2 - b2) / 1024 )) $(info_job "$P1")"
}

echo "[bench-migrate] $KEYS records per slot ($SHAPE), values $VMIN..$VMAX B" >&2
P1=$(free_port); P2=$(free_port)
N1=$(start_node "$TMP/n1" "$P1"); PIDS+=("$N1")
N2=$(start_node "$TMP/n2" "$P2"); PIDS+=("$N2")
wait_port "$P1"; wait_port "$P2"
ID1=$(printf 'a%.0s' $(seq 1 40)); ID2=$(printf 'b%.0s' $(seq 1 40))
redis-cli -p "$P1" clusterx setnodeid "$ID1" >/dev/null
redis-cli -p "$P2" clusterx setnodeid "$ID2" >/dev/null
TOPO="$ID1 127.0.0.1 $P1 master - 0-8191
$ID2 127.0.0.1 $P2 master - 8192-16383"
redis-cli -p "$P1" clusterx setnodes "$TOPO" 1 >/dev/null
redis-cli -p "$P2" clusterx setnodes "$TOPO" 1 >/dev/null

SLOT_A=100; SLOT_B=200; SLOT_W=300
TAG_A=$(tag_for_slot $SLOT_A); TAG_B=$(tag_for_slot $SLOT_B)
FILL_TAGS=("$TAG_A" "$TAG_B")
(( ONLY_RAW )) && FILL_TAGS=("$TAG_A")
for t in "${FILL_TAGS[@]}"; do
  echo "[bench-migrate] filling {$t}" >&2
  gen_fill "$t" "$KEYS" | redis-cli -p "$P1" --pipe >/dev/null
done

# A writer keeps writing to the migrating slot A during (a); its latencies
# show the cut-over pause from the client's side.
TAG_W=$TAG_A
python3 - "$P1" "$TAG_W" "$LOAD" >"$TMP/writer.out" <<'PY' &
import socket, sys, time
port, tag, rate = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port)); f = s.makefile("rb")
lat, i, t_end = [], 0, time.time() + 600
interval = 1.0 / max(rate, 1)
nxt = time.time()
while time.time() < t_end:
    k = f"{{{tag}}}w:{i % 1000}".encode()
    t0 = time.time()
    s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nx\r\n" % (len(k), k))
    line = f.readline()
    if line.startswith(b"-MOVED"):
        break
    lat.append(time.time() - t0); i += 1
    nxt += interval
    d = nxt - time.time()
    if d > 0: time.sleep(d)
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0
print(f"{len(lat)} {p(0.5):.2f} {p(0.99):.2f} {max(lat)*1000 if lat else 0:.2f}")
PY
WRITER=$!; PIDS+=("$WRITER")
sleep 0.5

echo "[bench-migrate] (a) raw-key-value" >&2
read -r A_SECS A_SRC A_DST A_LINE < <(run_migration $SLOT_A raw-key-value)
sleep 0.3; kill "$WRITER" 2>/dev/null || true; wait "$WRITER" 2>/dev/null || true
read -r W_N W_P50 W_P99 W_MAX < "$TMP/writer.out" || true
if (( ONLY_RAW )); then
  RAW_A=$(field "$A_LINE" raw_bytes)
  MB() { echo "scale=1; $1 / 1048576" | bc; }
  {
    echo "# ferrocks slot migration: memory bound on a big slot"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); machine: $(nproc) CPUs"
    echo "- one slot of $KEYS string keys, values $VMIN..$VMAX B ($(MB "$RAW_A") MB of records); writer $LOAD SET/s during the move"
    echo "- raw-key-value: $A_SECS s, $(echo "scale=1; $RAW_A / 1048576 / $A_SECS" | bc) MB/s, compression $(field "$A_LINE" compression_ratio)"
    echo "- peak RSS growth during the move: source $A_SRC MiB, destination $A_DST MiB (target <= 64 MiB each)"
    echo "- write pause $(field "$A_LINE" write_pause_ms) ms (server); writer p99 $W_P99 ms, max $W_MAX ms"
    echo "- source's cut-over log: $(grep -o 'writes paused.*' "$TMP/n1.log" | head -1)"
    echo "- job line: \`$A_LINE\`"
  } | tee "$OUT"
  exit 0
fi
echo "[bench-migrate] (b) redis-command" >&2
read -r B_SECS B_SRC B_DST B_LINE < <(run_migration $SLOT_B redis-command)
echo "[bench-migrate] (c) local WriteBatch loop" >&2
read -r C_SECS C_BYTES C_KEYS < <("$LOCAL" "$TMP/local" "$KEYS" 7 64)

RAW_A=$(field "$A_LINE" raw_bytes); WIRE_A=$(field "$A_LINE" wire_bytes)

# (d) the rate limit: slot A goes back from node 2 to node 1 with
# migrate-batch-rate-limit-mb set so the copy lasts about 12 s; wire bytes
# are sampled every 0.25 s and every 5 s window of the snapshot phase
# (after the first second) is compared with the limit.
RATE_MB=${BENCH_RATE_MB:-$(( WIRE_A / 1048576 / 12 > 0 ? WIRE_A / 1048576 / 12 : 1 ))}
echo "[bench-migrate] (d) slot $SLOT_A back at $RATE_MB MB/s" >&2
redis-cli -p "$P2" config set migrate-batch-rate-limit-mb "$RATE_MB" >/dev/null
redis-cli -p "$P2" clusterx migrate "$SLOT_A" "$ID1" async >/dev/null
D_START=$(date +%s.%N)
: >"$TMP/rate.samples"
while :; do
  line=$(info_job "$P2")
  echo "$(date +%s.%N) $(field "$line" wire_bytes) $(field "$line" state)" >>"$TMP/rate.samples"
  case "$line" in *state=success*|*state=failed*) break ;; esac
  sleep 0.25
done
D_SECS=$(echo "$(date +%s.%N) - $D_START" | bc)
D_LINE=$(info_job "$P2")
read -r D_WINDOWS D_MIN D_MAX D_WORST < <(python3 - "$TMP/rate.samples" "$RATE_MB" <<'PY'
import sys
limit = int(sys.argv[2]) * 1048576
rows = []
for l in open(sys.argv[1]):
    p = l.split()
    if len(p) == 3 and p[1].isdigit():
        rows.append((float(p[0]), int(p[1]), p[2]))
snap = [r for r in rows if r[2] == "snapshot"]
if not snap:
    print("0 0 0 0"); sys.exit()
t0 = snap[0][0] + 1.0
rates = []
for i, (t, b, _) in enumerate(snap):
    if t < t0:
        continue
    for t2, b2, _ in snap[i:]:
        if t2 - t >= 5.0:
            rates.append((b2 - b) / (t2 - t))
            break
if not rates:
    print("0 0 0 0"); sys.exit()
lo, hi = min(rates), max(rates)
worst = max(abs(r - limit) / limit for r in rates) * 100
print(len(rates), f"{lo / 1048576:.2f}", f"{hi / 1048576:.2f}", f"{worst:.1f}")
PY
)
MB() { echo "scale=1; $1 / 1048576" | bc; }
rate() { echo "scale=1; $1 / 1048576 / $2" | bc; }
kps() { echo "scale=0; $1 / $2" | bc; }
{
  echo "# ferrocks slot migration benchmark"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  case $SHAPE in
    strings) echo "- one slot of $KEYS string keys, values $VMIN..$VMAX B ($(MB "$C_BYTES") MB of records); two nodes on loopback" ;;
    hashes) echo "- one slot of $KEYS hashes of 1-2 fields, $VMIN..$VMAX B per key ($(MB "$RAW_A") MB of records); two nodes on loopback; (c) writes the same number of string records" ;;
    bighash) echo "- one hash of $KEYS fields, values $VMIN..$VMAX B ($(MB "$RAW_A") MB of records) in one slot; two nodes on loopback; keys/s counts fields; (c) writes the same number of string records" ;;
  esac
  echo "- writer during (a): $LOAD SET/s target to the migrating slot"
  echo
  echo "| method | seconds | MB/s | keys/s | compression | peak RSS growth src / dst (MiB) | write pause |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  echo "| (a) raw-key-value | $A_SECS | $(rate "$RAW_A" "$A_SECS") | $(kps "$KEYS" "$A_SECS") | $(field "$A_LINE" compression_ratio) | $A_SRC / $A_DST | $(field "$A_LINE" write_pause_ms) ms (server); client p99 $W_P99 ms, max $W_MAX ms |"
  echo "| (b) redis-command | $B_SECS | $(rate "$(field "$B_LINE" raw_bytes)" "$B_SECS") | $(kps "$KEYS" "$B_SECS") | 1.00 | $B_SRC / $B_DST | $(field "$B_LINE" write_pause_ms) ms |"
  echo "| (c) local WriteBatch loop | $C_SECS | $(rate "$C_BYTES" "$C_SECS") | $(kps "$C_KEYS" "$C_SECS") | - | - | - |"
  echo
  echo "Rate limit (d): slot A moved back at migrate-batch-rate-limit-mb $RATE_MB in $D_SECS s; $D_WINDOWS sliding 5 s windows of the snapshot phase (after its first second): wire rate $D_MIN .. $D_MAX MB/s, worst deviation from the limit $D_WORST % (target <= 10 %)."
  echo
  echo
  echo "- a/b speed-up: $(echo "scale=1; $B_SECS / $A_SECS" | bc)x (target >= 10x; kvrocks reports 2.75x)"
  echo "- a/c: $(echo "scale=2; $C_SECS / $A_SECS" | bc)x of the local-write reference (target >= 0.5x)"
  echo "- targets: peak RSS growth <= 64 MiB each side; write pause p99 <= 50 ms under 10k writes/s"
  echo "- writer: $W_N SETs acknowledged, p50 $W_P50 ms"
  echo "- source's cut-over log (a): $(grep -o 'writes paused.*' "$TMP/n1.log" | head -1)"
  echo "- job lines: \`$A_LINE\`"
  echo "  \`$B_LINE\`"
  echo "  \`$D_LINE\`"
} | tee "$OUT"
