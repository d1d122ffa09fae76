#!/usr/bin/env bash
# make bench-migrate: moves one slot between two ferrocks nodes three ways
# and prints them side by side:
#   (a) raw-key-value: streamed WriteBatch chunks (CLUSTERX MIGRATE), in the
#       destination's default import mode, and again on a second slot of
#       the same data with migrate-import-mode write (skipped, with a line
#       saying so, if the binary does not know that key)
#   (b) redis-command: keys re-sent one by one (the per-key baseline)
#   (c) the physical reference: the same records (strings, or hashes'
#       metadata and field records) of the same sizes written into an
#       empty RocksDB by one local WriteBatch loop.
# Before each measured move both nodes' data dirs are evicted from the page
# cache (posix_fadvise DONTNEED); the page cache the move adds to each dir
# (fincore, sampled every second and at success, peak kept) is reported
# next to the peak RSS growth.
# Knobs: BENCH_KEYS (default 1000000), BENCH_VALUE_MIN / BENCH_VALUE_MAX
# (value sizes, default 100 / 1024), BENCH_WRITES_PER_SEC (writer load
# during (a), default 10000), BENCH_ONLY_RAW=1 (only (a) in the default
# import mode: the memory-bound run of `make bench-migrate-2g`), BENCH_SHAPE
# (strings | hashes: one hash of 1-2 fields per key | bighash: one hash of
# BENCH_KEYS fields | docs: JSON-like string documents, (a) moved with
# migrate-compression lz4 and again with none; (b), (c), (d) not run),
# BENCH_PERF=1 (perf record on both nodes during (a), top symbols in the
# results), BENCH_PERF_KEEP (a dir to keep the perf.data files in),
# BENCH_SETTLE_SECS (longest wait for the nodes' flushes and compactions
# before a move, default 60), BENCH_OUT, FERROCKS_BIN, LOCAL_WRITE_BIN.
set -euo pipefail

KEYS=${BENCH_KEYS:-1000000}
VMIN=${BENCH_VALUE_MIN:-100}
VMAX=${BENCH_VALUE_MAX:-1024}
ONLY_RAW=${BENCH_ONLY_RAW:-0}
# strings: KEYS string keys; hashes: KEYS hashes of 1-2 fields; bighash:
# one hash of KEYS fields; docs: KEYS string keys holding JSON documents.
SHAPE=${BENCH_SHAPE:-strings}
case $SHAPE in
  strings|hashes|bighash|docs) ;;
  *) echo "BENCH_SHAPE must be strings, hashes, bighash or docs" >&2; exit 2 ;;
esac
LOAD=${BENCH_WRITES_PER_SEC:-10000}
PERF=${BENCH_PERF:-0}
PERF_KEEP=${BENCH_PERF_KEEP:-}
SETTLE=${BENCH_SETTLE_SECS:-60}
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

# "bytes path" of each regular file under dir $1 with pages in the page
# cache. Files that vanish between the listing and fincore (compaction, WAL
# recycling) are left out instead of failing the run.
pc_list() {
  { find "$1" -type f -print0 2>/dev/null \
      | xargs -0 -r fincore --bytes --noheadings --output RES,FILE 2>/dev/null || true; } \
    | awk '$1 ~ /^[0-9]+$/ && $1 > 0'
}

# Bytes of the regular files under dir $1 that sit in the page cache.
pc_bytes() { pc_list "$1" | pc_sum; }
pc_sum() { awk '{s += $1} END {printf "%.0f\n", s}'; }

# From a pc_list listing on stdin: the three files with the most pages in
# the page cache as "name MiB" pairs, and what the others hold together.
pc_top() {
  sort -rn \
    | awk '{n = split($2, p, "/")}
           NR <= 3 {printf "%s%s %.0f", (NR > 1 ? ", " : ""), p[n], $1 / 1048576; next}
           {rest += $1; others++}
           END {if (others) printf ", %d more files %.0f", others, rest / 1048576; print ""}'
}

# Samples the page cache of node dir $1 into peak variable $2 (bytes); on a
# new peak, keeps what it is made of in file $3.
pc_sample() {
  local list p
  list=$(pc_list "$1")
  p=$(pc_sum <<<"$list")
  if (( p > ${!2} )); then
    printf -v "$2" '%s' "$p"
    pc_top <<<"$list" >"$3"
  fi
}

# Drops the page cache of every regular file under the given dirs (synced
# first so that dirty pages go too).
evict_cache() {
  python3 - "$@" <<'PY'
import os, stat, sys
for top in sys.argv[1:]:
    for root, _, names in os.walk(top):
        for name in names:
            path = os.path.join(root, name)
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass
            finally:
                os.close(fd)
PY
}

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
# The docs shape writes JSON-like documents of VMIN..VMAX bytes instead:
# the same field names in every value, names, mails, dates and tags from
# small lists, and a "bio" cut from 2 MiB of prose-like text (words of a
# small vocabulary, the common ones more often). Documents shorter than
# their fixed fields are cut at VMIN..VMAX like the others. Every slot
# filled with the same shape gets the same values.
gen_fill() {
  python3 - "$1" "$2" "$VMIN" "$VMAX" "$SHAPE" <<'PY'
import sys, time
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
if shape == "docs":
    firsts = ("maria james wei ana olga pierre kenji fatima lars priya diego "
              "emma noah yuki omar sara ivan chen lena tomas").split()
    lasts = ("garcia smith wang silva petrov martin tanaka khan berg patel "
             "lopez jones brown sato haddad nilsson novak li weber clark").split()
    domains = "example.com mail.example.org corp.example.net users.example.io".split()
    tagset = ("admin beta trial premium mobile desktop eu us apac newsletter "
              "support verified").split()
    vocab = ("the a of and to in is for on with as at by from this that it be "
             "are was i we my our have has not but or an all new more about "
             "work team data user users account project build release update "
             "support server client storage cluster network design service "
             "product customer report market growth years experience engineer "
             "manager designer developer writer student founder open source "
             "coffee music travel photography hiking cooking reading running "
             "football science history art city weekend family friends "
             "currently previously based love enjoy building learning").split()
    words, size = [], 0
    while size < max(2 << 20, 2 * (vmin + span)):
        w = vocab[nxt() % (nxt() % len(vocab) + 1)]
        if not words or words[-1].endswith(". "):
            w = w.capitalize()
        w += ". " if nxt() % 11 == 0 else " "
        words.append(w); size += len(w)
    text = "".join(words).encode()
for i in range(n):
    ln = vmin + nxt() % span
    if shape == "docs":
        user = f"{firsts[nxt() % len(firsts)]}.{lasts[nxt() % len(lasts)]}{nxt() % 1000}"
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1700000000 + i * 37 + nxt() % 30))
        tags = ",".join(f'"{tagset[nxt() % len(tagset)]}"' for _ in range(1 + nxt() % 4))
        score = nxt() % 10000
        head = (f'{{"id":{i},"user":"{user}","email":"{user}@{domains[nxt() % len(domains)]}",'
                f'"created_at":"{when}","tags":[{tags}],"score":{score // 100}.{score % 100:02d},'
                f'"bio":"').encode()
        room = ln - len(head) - 2
        if room > 0:
            o = nxt() % (len(text) - room)
            v = head + text[o:o + room] + b'"}'
        else:
            v = (head + b'"}')[:ln]
        cmd(b"SET", f"{{{tag}}}doc:{i}".encode(), v)
        continue
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

# Waits (at most SETTLE seconds) until neither node runs a flush or a
# compaction, so that a move is not measured on top of the fill's leftovers.
settle() {
  local deadline=$(( SECONDS + SETTLE )) quiet=0 busy
  while (( SECONDS < deadline )); do
    busy=$( { redis-cli -p "$P1" info rocksdb; redis-cli -p "$P2" info rocksdb; } | tr -d '\r' \
      | awk -F: '/^num_running_(compactions|flushes)/ {s += $2} END {print s + 0}')
    if (( busy == 0 )); then
      quiet=$(( quiet + 1 ))
      if (( quiet >= 2 )); then return 0; fi
    else
      quiet=0
    fi
    sleep 0.5
  done
  echo "[bench-migrate] the nodes still flush or compact after ${SETTLE}s; measuring anyway" >&2
}

# Top symbols (self time) of perf.data $1 into $2, or why there are none.
perf_top() {
  if [[ -s $1 ]]; then
    { perf report -i "$1" --no-children --fields overhead,sym --stdio -g none 2>/dev/null || true; } \
      | grep -v '^#' | grep -v '^[[:space:]]*$' | head -12 >"$2" || true
  fi
  if [[ ! -s $2 ]]; then
    echo "no profile: perf report found no samples (perf record said: $(grep -v '^\[ perf record: Woken' "$1.log" 2>/dev/null | tail -1))" >"$2"
  fi
  if [[ -n $PERF_KEEP && -s $1 ]]; then
    mkdir -p "$PERF_KEEP" && cp "$1" "$PERF_KEEP/" || true
  fi
}

# Runs one migration of slot $1 with type $2 (BENCH_PERF=1 and a label $3:
# under perf record, reports in $TMP/perf-$3-{src,dst}.txt); prints
# "secs src_rss dst_rss src_pagecache dst_pagecache jobline" (peak growth,
# MiB).
run_migration() {
  local slot=$1 type=$2 label=${3:-}
  redis-cli -p "$P1" config set migrate-type "$type" >/dev/null
  settle
  evict_cache "$TMP/n1" "$TMP/n2"
  local c1 c2 k1 k2
  c1=$(pc_bytes "$TMP/n1"); c2=$(pc_bytes "$TMP/n2"); k1=$c1; k2=$c2
  local perf1="" perf2=""
  if [[ $PERF == 1 && -n $label ]]; then
    perf record -F 499 -g -p "$N1" -o "$TMP/perf-$label-src.data" >"$TMP/perf-$label-src.data.log" 2>&1 &
    perf1=$!
    perf record -F 499 -g -p "$N2" -o "$TMP/perf-$label-dst.data" >"$TMP/perf-$label-dst.data.log" 2>&1 &
    perf2=$!
    sleep 0.5
    kill -0 "$perf1" 2>/dev/null || echo "[bench-migrate] perf record on the source stopped: $(tail -1 "$TMP/perf-$label-src.data.log")" >&2
    kill -0 "$perf2" 2>/dev/null || echo "[bench-migrate] perf record on the destination stopped: $(tail -1 "$TMP/perf-$label-dst.data.log")" >&2
  fi
  local b1 b2 m1 m2
  b1=$(rss_kb "$N1"); b2=$(rss_kb "$N2"); m1=$b1; m2=$b2
  local start end now next_pc
  start=$(date +%s.%N)
  redis-cli -p "$P1" clusterx migrate "$slot" "$ID2" async >/dev/null
  next_pc=$(( ${EPOCHREALTIME/./} + 1000000 ))
  while :; do
    local r1 r2 line p
    r1=$(rss_kb "$N1"); r2=$(rss_kb "$N2")
    (( r1 > m1 )) && m1=$r1; (( r2 > m2 )) && m2=$r2
    now=${EPOCHREALTIME/./}
    if (( now >= next_pc )); then
      pc_sample "$TMP/n1" k1 "$TMP/pctop-$slot-src"
      pc_sample "$TMP/n2" k2 "$TMP/pctop-$slot-dst"
      next_pc=$(( now + 1000000 ))
    fi
    line=$(info_job "$P1")
    case "$line" in *state=success*|*state=failed*) break ;; esac
    sleep 0.05
  done
  end=$(date +%s.%N)
  pc_sample "$TMP/n1" k1 "$TMP/pctop-$slot-src"
  pc_sample "$TMP/n2" k2 "$TMP/pctop-$slot-dst"
  case "$line" in *state=failed*) echo "[bench-migrate] slot $slot: the migration failed: $line" >&2 ;; esac
  if [[ -n $perf1 ]]; then
    kill -INT "$perf1" "$perf2" 2>/dev/null || true
    wait "$perf1" 2>/dev/null || true; wait "$perf2" 2>/dev/null || true
    perf_top "$TMP/perf-$label-src.data" "$TMP/perf-$label-src.txt"
    perf_top "$TMP/perf-$label-dst.data" "$TMP/perf-$label-dst.txt"
  fi
  echo "$(echo "$end - $start" | bc) $(( (m1 - b1) / 1024 )) $(( (m2 - b2) / 1024 ))" \
    "$(( (k1 - c1) / 1048576 )) $(( (k2 - c2) / 1048576 )) $(info_job "$P1")"
}

MB() { echo "scale=1; $1 / 1048576" | bc; }
rate() { echo "scale=1; $1 / 1048576 / $2" | bc; }
kps() { echo "scale=0; $1 / $2" | bc; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f\n", a / b; else print "-"}'; }
# One table row: label secs src_rss dst_rss src_pc dst_pc jobline pause-note.
row() {
  local raw wire
  raw=$(field "$7" raw_bytes); wire=$(field "$7" wire_bytes)
  echo "| $1 | $2 | $(rate "${raw:-0}" "$2") | $(kps "$KEYS" "$2") | $(ratio "$wire" "$raw") | $3 / $4 | $5 / $6 | $(field "$7" write_pause_ms) ms$8 |"
}
# The largest files at a row's page-cache peaks: label $1, slot $2.
pc_top_lines() {
  local src dst
  src=$(cat "$TMP/pctop-$2-src" 2>/dev/null); dst=$(cat "$TMP/pctop-$2-dst" 2>/dev/null)
  echo "- page cache at the peaks of $1, largest files (MiB): source ${src:-none}; destination ${dst:-none}"
}
TABLE_HEAD="| method | seconds | MB/s | keys/s | wire/raw | peak RSS growth src / dst (MiB) | page cache added src / dst (MiB) | write pause |
|---|---:|---:|---:|---:|---:|---:|---:|"
# The perf section of the results (BENCH_PERF=1), for the move labelled $1.
perf_section() {
  [[ $PERF == 1 ]] || return 0
  echo
  echo "## where the time goes"
  echo
  echo "perf record -F 499 -g on each node during (a) (self time, top symbols):"
  local side
  for side in src dst; do
    echo
    if [[ $side == src ]]; then echo "source:"; else echo "destination:"; fi
    echo
    echo '```'
    cat "$TMP/perf-$1-$side.txt" 2>/dev/null || echo "no profile"
    echo '```'
  done
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

if [[ $PERF == 1 ]] && ! command -v perf >/dev/null 2>&1; then
  echo "[bench-migrate] BENCH_PERF=1 but no perf on PATH: no profile" >&2; PERF=0
fi

# Slots: A (a), B (b), I (a) with migrate-import-mode write, N (a) of the
# docs shape with migrate-compression none. Each holds the same records.
SLOT_A=100; SLOT_B=200; SLOT_I=400; SLOT_N=500
TAG_A=$(tag_for_slot $SLOT_A); TAG_B=$(tag_for_slot $SLOT_B)
TAG_I=$(tag_for_slot $SLOT_I); TAG_N=$(tag_for_slot $SLOT_N)
# The destination's import mode: empty if the binary has no such key.
IMPORT_MODE=$(redis-cli -p "$P2" config get migrate-import-mode | tr -d '\r' | sed -n 2p)
FILL_TAGS=("$TAG_A")
if (( ! ONLY_RAW )); then
  [[ $SHAPE != docs ]] && FILL_TAGS+=("$TAG_B")
  [[ $SHAPE == docs ]] && FILL_TAGS+=("$TAG_N")
  if [[ -n $IMPORT_MODE ]]; then
    FILL_TAGS+=("$TAG_I")
  else
    echo "[bench-migrate] this binary has no migrate-import-mode: the import-mode write row is skipped" >&2
  fi
fi
for t in "${FILL_TAGS[@]}"; do
  echo "[bench-migrate] filling {$t}" >&2
  gen_fill "$t" "$KEYS" | redis-cli -p "$P1" --pipe >/dev/null
done
if [[ $SHAPE == docs ]]; then
  COMPRESSION_WAS=$(redis-cli -p "$P1" config get migrate-compression | tr -d '\r' | sed -n 2p)
  redis-cli -p "$P1" config set migrate-compression lz4 >/dev/null
fi

# A writer keeps writing to the migrating slot during every (a) row; its
# latencies show the cut-over pause from the client's side. start_writer
# $1=tag $2=file runs it in the background (pid in WRITER) until the slot
# answers MOVED, then it writes "count p50 p99 max" (ms) to the file.
start_writer() {
  python3 - "$P1" "$1" "$LOAD" >"$2" <<'PY' &
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
}

# One (a) row: slot $2 (keys of tag $3) moved with raw-key-value under the
# writer, perf label $4 (optional). Sets $1_SECS $1_SRC $1_DST $1_PCS $1_PCD
# $1_LINE (see run_migration) and the writer's $1_WN $1_WP50 $1_WP99 $1_WMAX.
run_a() {
  start_writer "$3" "$TMP/writer-$2.out"
  sleep 0.5
  read -r "$1_SECS" "$1_SRC" "$1_DST" "$1_PCS" "$1_PCD" "$1_LINE" < <(run_migration "$2" raw-key-value "${4:-}")
  sleep 0.3; kill "$WRITER" 2>/dev/null || true; wait "$WRITER" 2>/dev/null || true
  read -r "$1_WN" "$1_WP50" "$1_WP99" "$1_WMAX" < "$TMP/writer-$2.out" || true
}
# The pause column's client side: $1 = p99, $2 = max.
client_note() { echo " (server); client p99 $1 ms, max $2 ms"; }

A_NAME="(a) raw-key-value"
[[ -n $IMPORT_MODE ]] && A_NAME="$A_NAME, import-mode $IMPORT_MODE"
[[ $SHAPE == docs ]] && A_NAME="$A_NAME, lz4"
echo "[bench-migrate] $A_NAME" >&2
run_a A $SLOT_A "$TAG_A" a
RAW_A=$(field "$A_LINE" raw_bytes); WIRE_A=$(field "$A_LINE" wire_bytes)
if (( ONLY_RAW )); then
  {
    echo "# ferrocks slot migration: memory bound on a big slot"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); machine: $(nproc) CPUs"
    echo "- one slot of $KEYS records ($SHAPE), values $VMIN..$VMAX B ($(MB "$RAW_A") MB of records); writer $LOAD SET/s during the move"
    echo "- raw-key-value${IMPORT_MODE:+ (import-mode $IMPORT_MODE)}: $A_SECS s, $(rate "$RAW_A" "$A_SECS") MB/s, wire/raw $(ratio "$WIRE_A" "$RAW_A")"
    echo "- peak RSS growth during the move: source $A_SRC MiB, destination $A_DST MiB (target <= 64 MiB each)"
    echo "- page cache added by the move (data dirs evicted before it): source $A_PCS MiB, destination $A_PCD MiB (target <= 64 MiB each)"
    pc_top_lines "the move" $SLOT_A
    echo "- write pause $(field "$A_LINE" write_pause_ms) ms (server); writer p99 $A_WP99 ms, max $A_WMAX ms"
    [[ $PERF == 1 ]] && echo "- timed under perf record on both nodes"
    echo "- source's cut-over log: $(grep -o 'writes paused.*' "$TMP/n1.log" | head -1)"
    echo "- job line: \`$A_LINE\`"
    perf_section a
  } | tee "$OUT"
  exit 0
fi

# (a) again on slot N with migrate-compression none (docs shape only).
if [[ $SHAPE == docs ]]; then
  echo "[bench-migrate] (a) raw-key-value, migrate-compression none" >&2
  redis-cli -p "$P1" config set migrate-compression none >/dev/null
  run_a N $SLOT_N "$TAG_N"
  redis-cli -p "$P1" config set migrate-compression "${COMPRESSION_WAS:-lz4}" >/dev/null
fi

# (a) again on slot I with the destination in migrate-import-mode write.
I_LINE=""
if [[ -n $IMPORT_MODE ]]; then
  if [[ $(redis-cli -p "$P2" config set migrate-import-mode write | tr -d '\r') == OK ]]; then
    echo "[bench-migrate] (a) raw-key-value, import-mode write" >&2
    run_a I $SLOT_I "$TAG_I"
    redis-cli -p "$P2" config set migrate-import-mode "$IMPORT_MODE" >/dev/null
  else
    echo "[bench-migrate] CONFIG SET migrate-import-mode write refused: the import-mode write row is skipped" >&2
  fi
fi
I_NAME="(a) raw-key-value, import-mode write"
[[ $SHAPE == docs ]] && I_NAME="$I_NAME, lz4"

if [[ $SHAPE == docs ]]; then
  echo "[bench-migrate] docs shape: (b) redis-command, (c) local write and (d) rate limit are not run" >&2
  {
    echo "# ferrocks slot migration benchmark: compressible documents"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "- one slot of $KEYS JSON-like documents (string values), $VMIN..$VMAX B ($(MB "$RAW_A") MB of records); two nodes on loopback; each row moves its own slot of the same documents"
    echo "- writer during each row: $LOAD SET/s target to the migrating slot"
    echo "- both data dirs are evicted from the page cache before each move; page cache added = peak of fincore over the node's dir (every second and at success) minus the value after eviction"
    echo "- (b) redis-command, (c) local write and (d) rate limit are not run for this shape (see migrate.md)"
    [[ $PERF == 1 ]] && echo "- the first row is timed under perf record on both nodes"
    echo
    echo "$TABLE_HEAD"
    row "$A_NAME" "$A_SECS" "$A_SRC" "$A_DST" "$A_PCS" "$A_PCD" "$A_LINE" "$(client_note "$A_WP99" "$A_WMAX")"
    row "(a) raw-key-value${IMPORT_MODE:+, import-mode $IMPORT_MODE}, none" "$N_SECS" "$N_SRC" "$N_DST" "$N_PCS" "$N_PCD" "$N_LINE" "$(client_note "$N_WP99" "$N_WMAX")"
    [[ -n $I_LINE ]] && row "$I_NAME" "$I_SECS" "$I_SRC" "$I_DST" "$I_PCS" "$I_PCD" "$I_LINE" "$(client_note "$I_WP99" "$I_WMAX")"
    echo
    echo "- wire/raw with lz4: $(ratio "$WIRE_A" "$RAW_A") (target <= 0.50); speed with lz4 / without: $(ratio "$N_SECS" "$A_SECS")x"
    echo "- targets: peak RSS growth and page cache added <= 64 MiB each side; write pause p99 <= 50 ms under 10k writes/s"
    echo "- writer: $A_WN / $N_WN${I_LINE:+ / $I_WN} SETs acknowledged, p50 $A_WP50 / $N_WP50${I_LINE:+ / $I_WP50} ms"
    echo "- job lines: \`$A_LINE\`"
    echo "  \`$N_LINE\`"
    [[ -n $I_LINE ]] && echo "  \`$I_LINE\`"
    [[ -z $I_LINE ]] && echo "- import-mode write not measured: the binary has no migrate-import-mode or refused write"
    perf_section a
  } | tee "$OUT"
  exit 0
fi

echo "[bench-migrate] (b) redis-command" >&2
read -r B_SECS B_SRC B_DST B_PCS B_PCD B_LINE < <(run_migration $SLOT_B redis-command)
echo "[bench-migrate] (c) local WriteBatch loop" >&2
read -r C_SECS C_BYTES C_KEYS < <("$LOCAL" "$TMP/local" "$KEYS" 7 64 "$SHAPE")

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
{
  echo "# ferrocks slot migration benchmark"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  case $SHAPE in
    strings) echo "- one slot of $KEYS string keys, values $VMIN..$VMAX B ($(MB "$C_BYTES") MB of records); two nodes on loopback" ;;
    hashes) echo "- one slot of $KEYS hashes of 1-2 fields, $VMIN..$VMAX B per key ($(MB "$RAW_A") MB of records); two nodes on loopback; (c) writes the same hashes (metadata and field records)" ;;
    bighash) echo "- one hash of $KEYS fields, values $VMIN..$VMAX B ($(MB "$RAW_A") MB of records) in one slot; two nodes on loopback; keys/s counts fields; (c) writes the same hash (field records and its metadata)" ;;
  esac
  echo "- writer during each (a) row: $LOAD SET/s target to the migrating slot; none during (b)"
  echo "- both data dirs are evicted from the page cache before each move; page cache added = peak of fincore over the node's dir (every second and at success) minus the value after eviction"
  [[ $PERF == 1 ]] && echo "- the first (a) row is timed under perf record on both nodes"
  echo
  echo "$TABLE_HEAD"
  row "$A_NAME" "$A_SECS" "$A_SRC" "$A_DST" "$A_PCS" "$A_PCD" "$A_LINE" "$(client_note "$A_WP99" "$A_WMAX")"
  [[ -n $I_LINE ]] && row "$I_NAME" "$I_SECS" "$I_SRC" "$I_DST" "$I_PCS" "$I_PCD" "$I_LINE" "$(client_note "$I_WP99" "$I_WMAX")"
  row "(b) redis-command" "$B_SECS" "$B_SRC" "$B_DST" "$B_PCS" "$B_PCD" "$B_LINE" ""
  echo "| (c) local WriteBatch loop | $C_SECS | $(rate "$C_BYTES" "$C_SECS") | $(kps "$C_KEYS" "$C_SECS") | - | - | - | - |"
  echo
  echo "Rate limit (d): slot A moved back at migrate-batch-rate-limit-mb $RATE_MB in $D_SECS s; $D_WINDOWS sliding 5 s windows of the snapshot phase (after its first second): wire rate $D_MIN .. $D_MAX MB/s, worst deviation from the limit $D_WORST % (target <= 10 %)."
  echo
  echo
  echo "- a/b speed-up: $(echo "scale=1; $B_SECS / $A_SECS" | bc)x (target >= 10x; kvrocks reports 2.75x)"
  echo "- a/c: $(echo "scale=2; $C_SECS / $A_SECS" | bc)x of the local-write reference (target >= 1.0x)"
  [[ -n $I_LINE ]] && echo "- speed in import-mode $IMPORT_MODE / write: $(ratio "$I_SECS" "$A_SECS")x"
  [[ -z $I_LINE ]] && echo "- import-mode write not measured: the binary has no migrate-import-mode or refused write"
  echo "- targets: peak RSS growth and page cache added <= 64 MiB each side; write pause p99 <= 50 ms under 10k writes/s"
  echo "- writer: $A_WN${I_LINE:+ / $I_WN} SETs acknowledged, p50 $A_WP50${I_LINE:+ / $I_WP50} ms"
  echo "- source's cut-over log (a): $(grep -o 'writes paused.*' "$TMP/n1.log" | head -1)"
  pc_top_lines "(a) $IMPORT_MODE" $SLOT_A
  [[ -n $I_LINE ]] && pc_top_lines "(a) write" $SLOT_I
  pc_top_lines "(b) redis-command" $SLOT_B
  echo "- job lines: \`$A_LINE\`"
  [[ -n $I_LINE ]] && echo "  \`$I_LINE\`"
  echo "  \`$B_LINE\`"
  echo "  \`$D_LINE\`"
  perf_section a
} | tee "$OUT"
