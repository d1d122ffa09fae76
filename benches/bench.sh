#!/usr/bin/env bash
# benches/bench.sh - ferrocks vs. in-memory redis-server, measured with redis-benchmark.
#
# Usage:  bash benches/bench.sh            (or: make bench)
#         BENCH_QUICK=1 bash benches/bench.sh    # ~1 minute smoke run
#
# What it does, in order:
#   1. Idle-connection memory: starts a fresh ferrocks (empty temp data dir), opens
#      BENCH_IDLE_CONNS connections with benches/idle_conns.py (PING/+PONG on each,
#      held open while RSS is read), reports the RSS delta, stops the server.
#      Same for a fresh redis-server.
#   2. Throughput/latency: starts a fresh ferrocks, samples its VmRSS in the
#      background, runs redis-benchmark for SET GET INCR MSET HSET HGET LPUSH LPOP
#      SADD SPOP ZADD ZRANGE_100 LRANGE_100 at -P 1 and -P 16,
#      reads VmHWM (peak RSS), stops it. Same for a fresh redis-server.
#   3. Prints a markdown report on stdout (progress goes to stderr) and writes the
#      same report to benches/results/latest.md.
# Each measurement gets its own fresh server process, so the peak RSS of the
# benchmark phase is not inflated by the idle-connection test and vice versa.
# Both servers listen on free loopback ports; an EXIT trap stops them (SIGTERM,
# SIGKILL after 15 s) and removes the temp dir whatever happens.
#
# Time cap (about BENCH_TIME_CAP seconds per run): unless BENCH_QUICK=1, every run
# is preceded by a short probe run (1/50 of the requests, at least 10000) that
# measures ops/s; the real run then uses
#     -n = min(BENCH_REQUESTS, probe_ops_per_s * BENCH_TIME_CAP * 0.85)
# so it finishes in about BENCH_TIME_CAP seconds. The -n actually used is shown in
# the report (it can differ between ferrocks and redis; ops/s stay comparable).
# As a safety net every redis-benchmark call also runs under
# `timeout 1.5*BENCH_TIME_CAP+5`; a run killed that way shows as "timeout".
#
# Environment knobs:
#   FERROCKS_BIN      ferrocks binary (default $HOME/.cache/ferrocks/target/release/ferrocks).
#                     May point at redis-server to self-test this script; it then
#                     also gets --save "" --appendonly no.
#   FERROCKS_ARGS     extra ferrocks arguments, word-split, e.g. "--some-key value"
#   REDIS_BIN         redis-server binary (default: redis-server on PATH)
#   REDIS_BENCHMARK   redis-benchmark binary (default: redis-benchmark on PATH)
#   BENCH_REQUESTS    requests per run (-n), default 1000000
#   BENCH_CLIENTS     parallel connections (-c), default 50
#   BENCH_QUICK=1     smoke run: 10000 requests per run, no probe runs
#   BENCH_TESTS       space-separated rows to run (default: all), e.g. "set get incr mset"
#   BENCH_TIME_CAP    target seconds per run, default 20
#   BENCH_IDLE_CONNS  connections for the idle-memory test, default 1000
#   BENCH_OUT         report file, default benches/results/latest.md
#   BENCH_KEEP_TMP=1  keep the temp dir (server logs, data dirs) for inspection

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$BENCH_DIR")"

FERROCKS_BIN="${FERROCKS_BIN:-$HOME/.cache/ferrocks/target/release/ferrocks}"
FERROCKS_ARGS="${FERROCKS_ARGS:-}"
REDIS_BIN="${REDIS_BIN:-$(command -v redis-server || echo redis-server)}"
REDIS_BENCHMARK="${REDIS_BENCHMARK:-redis-benchmark}"
QUICK="${BENCH_QUICK:-0}"
if [[ "$QUICK" == 1 ]]; then
    REQUESTS="${BENCH_REQUESTS:-10000}"
else
    REQUESTS="${BENCH_REQUESTS:-1000000}"
fi
CLIENTS="${BENCH_CLIENTS:-50}"
TIME_CAP="${BENCH_TIME_CAP:-20}"
IDLE_CONNS="${BENCH_IDLE_CONNS:-1000}"
OUT_FILE="${BENCH_OUT:-$BENCH_DIR/results/latest.md}"

# Fixed workload shape.
VALUE_SIZE=100
KEYSPACE=100000
# A test is a redis-benchmark -t name, or "label:COMMAND ARGS" for a custom
# command (HGET reads the fields the HSET run wrote; ZRANGE_100 reads a
# 1000-member sorted set filled before the suite).
TESTS=(set get incr mset hset "hget:HGET myhash element:__rand_int__" lpush lpop sadd spop zadd
       "zrange_100:ZRANGE bench:zset 0 99" lrange_100)
# BENCH_TESTS="set get incr mset" keeps only the named rows.
if [[ -n "${BENCH_TESTS:-}" ]]; then
    KEEP=()
    for t in "${TESTS[@]}"; do
        [[ " $BENCH_TESTS " == *" ${t%%:*} "* ]] && KEEP+=("$t")
    done
    TESTS=("${KEEP[@]}")
fi
PIPELINES=(1 16)
SERVERS=(ferrocks redis)

# Runtime state, keyed by server kind ("ferrocks" / "redis").
WORK_DIR=""
SAMPLER_PID=""
declare -A PID=() PORT=() LOG=()
declare -A SHUTDOWN=()   # how the server stopped after the benchmark phase
declare -A PEAK_HWM=()   # VmHWM (KiB) at the end of the benchmark phase
declare -A PEAK_SAMPLED=() # max sampled VmRSS (KiB) during the benchmark phase
declare -A END_RSS=()    # VmRSS (KiB) at the end of the benchmark phase
declare -A IDLE=()       # "before_kib after_kib opened" from idle_conns.py
declare -A RESULT=()     # [kind|test|pipeline] = "rps p50 p99 n" or a failure word
WARNINGS=()

# ---------------------------------------------------------------- utilities

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
warn() { log "WARNING: $*"; WARNINGS+=("$*"); }

# True if FERROCKS_BIN is really a redis-server (self-test mode).
ferrocks_is_redis() { [[ "$(basename "$FERROCKS_BIN")" == redis-server* ]]; }

# True while PID exists and is not a zombie (an exited child we have not reaped
# yet still answers `kill -0`, so check the state in /proc instead).
is_running() {
    local pid=$1 state
    [[ -r "/proc/$pid/stat" ]] || return 1
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ -n "$state" && "$state" != Z ]]
}

# Print a /proc/PID/status field in KiB (VmRSS, VmHWM, ...), or nothing.
proc_kib() {
    local pid=$1 field=$2
    awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null || true
}

# Ask the kernel for a currently free loopback TCP port.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ------------------------------------------------------------ preflight/setup

check_tools() {
    [[ -x "$FERROCKS_BIN" ]] || die "ferrocks binary not found: $FERROCKS_BIN (build it, or set FERROCKS_BIN)"
    local tool
    for tool in "$REDIS_BIN" "$REDIS_BENCHMARK" redis-cli python3 timeout awk; do
        command -v "$tool" >/dev/null || die "required tool not found: $tool"
    done
    [[ -f "$BENCH_DIR/idle_conns.py" ]] || die "missing $BENCH_DIR/idle_conns.py"
}

# The idle test holds IDLE_CONNS sockets in python and the server needs as many
# fds; both inherit this shell's soft limit, so raise it (within the hard limit).
raise_fd_limit() {
    local need=$((IDLE_CONNS + CLIENTS + 512)) want soft hard
    want=$(( need > 4096 ? need : 4096 ))
    soft=$(ulimit -Sn)
    hard=$(ulimit -Hn)
    [[ "$soft" == unlimited ]] && return 0
    if [[ "$hard" != unlimited ]] && (( hard < need )); then
        die "open-files hard limit $hard is below the $need needed; raise it (ulimit -Hn)"
    fi
    if [[ "$hard" != unlimited ]] && (( want > hard )); then want=$hard; fi
    if (( soft < want )); then
        ulimit -Sn "$want"
        log "raised open-files limit from $soft to $want"
    fi
}

make_work_dir() {
    WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferrocks-bench.XXXXXX")
}

# EXIT trap: stop whatever is still running, then remove the temp dir.
cleanup() {
    local rc=$?
    set +e
    stop_sampler
    local kind
    for kind in "${!PID[@]}"; do stop_server "$kind"; done
    if [[ -n "$WORK_DIR" && -d "$WORK_DIR" ]]; then
        if [[ "${BENCH_KEEP_TMP:-0}" == 1 || $rc -ne 0 ]]; then
            log "temp dir kept for inspection: $WORK_DIR"
        else
            rm -rf "$WORK_DIR"
        fi
    fi
    exit "$rc"
}

# ------------------------------------------------------------ server control

# Fill the array named by $2 with the command line for server kind $1.
server_command() {
    local kind=$1 port=$2 dir=$3
    local -n _cmd_out=$4
    if [[ "$kind" == ferrocks ]]; then
        _cmd_out=("$FERROCKS_BIN" --port "$port" --dir "$dir" --bind 127.0.0.1)
        # shellcheck disable=SC2206  # word splitting of FERROCKS_ARGS is intended
        [[ -n "$FERROCKS_ARGS" ]] && _cmd_out+=($FERROCKS_ARGS)
        ferrocks_is_redis && _cmd_out+=(--save "" --appendonly no)
    else
        _cmd_out=("$REDIS_BIN" --port "$port" --dir "$dir" --bind 127.0.0.1 --save "" --appendonly no)
    fi
    return 0
}

# Poll until something accepts TCP connections on PORT; fail if PID dies or
# TIMEOUT seconds pass.
wait_for_port() {
    local port=$1 pid=$2 timeout=${3:-60}
    local deadline=$((SECONDS + timeout))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        is_running "$pid" || return 1
        (( SECONDS < deadline )) || return 1
        sleep 0.1
    done
}

# Start a fresh server of kind $1 (fresh port and data dir) and wait until it listens.
start_server() {
    local kind=$1 port dir logf pid
    local -a cmd
    port=$(free_port)
    dir=$(mktemp -d "$WORK_DIR/$kind-data.XXXXXX")
    logf="$dir.log"
    server_command "$kind" "$port" "$dir" cmd
    log "starting $kind on 127.0.0.1:$port: ${cmd[*]@Q}"
    "${cmd[@]}" >"$logf" 2>&1 &
    pid=$!
    PID[$kind]=$pid
    PORT[$kind]=$port
    LOG[$kind]=$logf
    if ! wait_for_port "$port" "$pid" 60; then
        log "--- last lines of $logf ---"
        tail -n 20 "$logf" >&2 || true
        die "$kind did not start listening on port $port"
    fi
    if ! grep -q 'Ready to accept connections' "$logf"; then
        warn "$kind is listening but has not logged 'Ready to accept connections'"
    fi
}

# SIGTERM the server of kind $1, SIGKILL after 15 s; remember how it ended.
stop_server() {
    local kind=$1 pid=${PID[$1]:-} rc=0 deadline
    [[ -n "$pid" ]] || return 0
    if ! is_running "$pid"; then
        wait "$pid" 2>/dev/null || rc=$?
        SHUTDOWN[$kind]="had already exited (status $rc) before SIGTERM"
        unset "PID[$kind]"
        log "stopped $kind: ${SHUTDOWN[$kind]}"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 15))
    while is_running "$pid" && (( SECONDS < deadline )); do sleep 0.1; done
    if is_running "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        SHUTDOWN[$kind]="did not exit within 15 s of SIGTERM (killed)"
    else
        wait "$pid" 2>/dev/null || rc=$?
        if (( rc == 0 )); then
            SHUTDOWN[$kind]="clean (exit 0 on SIGTERM)"
        else
            SHUTDOWN[$kind]="exit status $rc on SIGTERM"
        fi
    fi
    unset "PID[$kind]"
    log "stopped $kind: ${SHUTDOWN[$kind]}"
}

# Sanity-check that the server answers the benchmarked commands correctly;
# redis-benchmark would happily count error replies as throughput.
check_commands() {
    local kind=$1 port=${PORT[$1]} got
    local -a checks=(
        "OK|SET bench:check hello"
        "hello|GET bench:check"
        "1|INCR bench:counter"
        "OK|MSET bench:m1 a bench:m2 b"
    )
    local check expected
    for check in "${checks[@]}"; do
        expected=${check%%|*}
        # shellcheck disable=SC2086  # the command is meant to be word-split
        got=$(timeout 5 redis-cli -h 127.0.0.1 -p "$port" ${check#*|} 2>&1) || true
        [[ "$got" == "$expected" ]] ||
            warn "$kind: '${check#*|}' replied '$got' (expected '$expected')"
    done
}

# The 1000-member sorted set ZRANGE_100 reads.
fill_zset() {
    local port=${PORT[$1]}
    python3 -c 'for i in range(1000): print(f"ZADD bench:zset {i} member:{i}")' |
        timeout 60 redis-cli -h 127.0.0.1 -p "$port" >/dev/null ||
        warn "$1: could not fill bench:zset"
}

# ------------------------------------------------------------- RSS sampling

# Record the max VmRSS of PID into FILE every 0.25 s until stopped.
start_sampler() {
    local pid=$1 file=$2
    (
        set +e
        max=0
        while is_running "$pid"; do
            rss=$(proc_kib "$pid" VmRSS)
            if [[ -n "$rss" ]] && (( rss > max )); then
                max=$rss
                echo "$max" >"$file"
            fi
            sleep 0.25
        done
    ) &
    SAMPLER_PID=$!
}

stop_sampler() {
    [[ -n "$SAMPLER_PID" ]] || return 0
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
}

# -------------------------------------------------------------- benchmarking

# Run one redis-benchmark test; print "rps p50_ms p99_ms" parsed from --csv.
# Returns redis-benchmark's status (124 = killed by timeout).
run_benchmark() {
    local port=$1 test=$2 pipeline=$3 requests=$4
    local hard_limit=$(( TIME_CAP * 3 / 2 + 5 )) csv rc=0
    local errf="$WORK_DIR/redis-benchmark.err"
    local -a what=(-t "$test")
    # shellcheck disable=SC2206  # a custom command is meant to be word-split
    [[ "$test" == *:* ]] && what=(${test#*:})
    csv=$(timeout --kill-after=5 "$hard_limit" "$REDIS_BENCHMARK" \
            -h 127.0.0.1 -p "$port" -P "$pipeline" -c "$CLIENTS" \
            -d "$VALUE_SIZE" -r "$KEYSPACE" -n "$requests" --csv "${what[@]}" 2>"$errf") || rc=$?
    if (( rc != 0 )); then
        tail -n 5 "$errf" >&2 || true
        return "$rc"
    fi
    # Columns: test,rps,avg,min,p50,p95,p99,max (all quoted). Skip the header.
    # Some tests print a preparation row first (lrange_100 fills its list
    # with LPUSH): the measured test is the last row.
    awk -F, '{ gsub(/"/, "") } $1 != "test" && $2 ~ /^[0-9.]+$/ { last = $2 " " $5 " " $7; found = 1 }
             END { if (found) print last; exit !found }' <<<"$csv"
}

# Choose -n for one run so that it lasts about TIME_CAP seconds (see header).
choose_requests() {
    local port=$1 test=$2 pipeline=$3
    local probe=$(( REQUESTS / 50 > 10000 ? REQUESTS / 50 : 10000 ))
    if [[ "$QUICK" == 1 ]] || (( REQUESTS <= probe )); then
        echo "$REQUESTS"
        return
    fi
    local res
    if ! res=$(run_benchmark "$port" "$test" "$pipeline" "$probe"); then
        echo "$REQUESTS"   # probe failed; the real run's timeout still protects us
        return
    fi
    awk -v rps="${res%% *}" -v cap="$TIME_CAP" -v max="$REQUESTS" -v min="$probe" 'BEGIN {
        n = int(rps * cap * 0.85 / 1000) * 1000
        if (n > max) n = max
        if (n < min) n = min
        print n
    }'
}

# Run every test x pipeline against the (already started) server of kind $1.
run_suite() {
    local kind=$1 port=${PORT[$1]} pipeline test n res rc
    for pipeline in "${PIPELINES[@]}"; do
        for test in "${TESTS[@]}"; do
            n=$(choose_requests "$port" "$test" "$pipeline")
            log "$kind: $test -P $pipeline -n $n"
            rc=0
            res=$(run_benchmark "$port" "$test" "$pipeline" "$n") || rc=$?
            case $rc in
                0)   RESULT[$kind|${test%%:*}|$pipeline]="$res $n" ;;
                124) RESULT[$kind|${test%%:*}|$pipeline]="timeout"
                     warn "$kind: ${test%%:*} -P $pipeline -n $n hit the timeout" ;;
                *)   RESULT[$kind|${test%%:*}|$pipeline]="failed"
                     warn "$kind: ${test%%:*} -P $pipeline failed (status $rc)" ;;
            esac
        done
    done
}

# ------------------------------------------------------------------- phases

# Phase 1: memory cost of IDLE_CONNS idle connections on a fresh server.
measure_idle_conns() {
    local kind=$1 out
    start_server "$kind"
    sleep 1   # let the fresh server settle before the "before" reading
    log "$kind: opening $IDLE_CONNS idle connections"
    if out=$(python3 "$BENCH_DIR/idle_conns.py" --port "${PORT[$kind]}" \
                --pid "${PID[$kind]}" --count "$IDLE_CONNS"); then
        IDLE[$kind]=$out
    else
        warn "$kind: idle-connection test failed"
    fi
    stop_server "$kind"
}

# Phase 2: throughput, latency and peak RSS on a fresh server.
benchmark_server() {
    local kind=$1 pid sample_file="$WORK_DIR/$1.rss-max"
    start_server "$kind"
    pid=${PID[$kind]}
    check_commands "$kind"
    fill_zset "$kind"
    start_sampler "$pid" "$sample_file"
    run_suite "$kind"
    stop_sampler
    PEAK_HWM[$kind]=$(proc_kib "$pid" VmHWM)
    END_RSS[$kind]=$(proc_kib "$pid" VmRSS)
    PEAK_SAMPLED[$kind]=$(cat "$sample_file" 2>/dev/null || true)
    stop_server "$kind"
}

# ---------------------------------------------------------------- reporting

kib_to_mib() {
    [[ -n "${1:-}" ]] || { echo "n/a"; return; }
    awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
}

# 1234567.8 -> 1,234,568
fmt_ops() {
    awk -v x="$1" 'BEGIN {
        s = sprintf("%.0f", x); out = ""
        while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
        print s out
    }'
}

# The comparison targets (shown, not enforced).
target_for() {
    case "$1|$2" in
        get\|16) echo ">= 0.60x" ;;
        set\|16) echo ">= 0.45x" ;;
        incr\|16 | mset\|16) echo ">= 0.40x" ;;
        get\|1 | set\|1) echo ">= 0.80x" ;;
        *) echo "-" ;;
    esac
}

# One row of the throughput table.
throughput_row() {
    local test=$1 pipeline=$2
    local f=${RESULT[ferrocks|$test|$pipeline]:-missing} r=${RESULT[redis|$test|$pipeline]:-missing}
    local f_rps f_p50 f_p99 f_n r_rps r_p50 r_p99 r_n ratio="n/a"
    local f_ops="$f" r_ops="$r" f_lat="n/a" r_lat="n/a" f_req="-" r_req="-"
    read -r f_rps f_p50 f_p99 f_n <<<"$f" || true
    read -r r_rps r_p50 r_p99 r_n <<<"$r" || true
    if [[ -n "${f_n:-}" ]]; then f_ops=$(fmt_ops "$f_rps"); f_lat="$f_p50 / $f_p99"; f_req=$(fmt_ops "$f_n"); fi
    if [[ -n "${r_n:-}" ]]; then r_ops=$(fmt_ops "$r_rps"); r_lat="$r_p50 / $r_p99"; r_req=$(fmt_ops "$r_n"); fi
    if [[ -n "${f_n:-}" && -n "${r_n:-}" ]]; then
        ratio=$(awk -v a="$f_rps" -v b="$r_rps" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')
    fi
    printf '| %s | %s | %s | %s | **%s** | %s | %s | %s | %s / %s |\n' \
        "${test^^}" "$pipeline" "$f_ops" "$r_ops" "$ratio" "$(target_for "$test" "$pipeline")" \
        "$f_lat" "$r_lat" "$f_req" "$r_req"
}

# "x MiB (y KiB/conn)" from the idle test's "before after opened".
idle_delta() {
    local before after opened
    read -r before after opened <<<"${IDLE[$1]:-}" || true
    [[ -n "${opened:-}" ]] || { echo "n/a"; return; }
    awk -v b="$before" -v a="$after" -v n="$opened" \
        'BEGIN { printf "%.1f MiB (%.1f KiB/conn)", (a - b) / 1024, (a - b) / n }'
}

idle_before_after() {
    local before after opened
    read -r before after opened <<<"${IDLE[$1]:-}" || true
    [[ -n "${opened:-}" ]] || { echo "n/a"; return; }
    echo "$(kib_to_mib "$before") -> $(kib_to_mib "$after") ($opened conns)"
}

ferrocks_version() {
    if ferrocks_is_redis; then
        echo "SELF-TEST: FERROCKS_BIN is $("$FERROCKS_BIN" --version)"
        return
    fi
    local version commit
    version=$(awk -F'"' '/^version *=/ { print $2; exit }' "$REPO_DIR/Cargo.toml" 2>/dev/null || true)
    commit=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo "no commit")
    if [[ -n "$(git -C "$REPO_DIR" status --porcelain 2>/dev/null || true)" ]]; then commit+="+dirty"; fi
    echo "${version:-unknown} (git $commit, binary built $(date -r "$FERROCKS_BIN" '+%F %T'))"
}

machine_info() {
    local cpu mem
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    echo "$(nproc) CPUs (nproc), ${cpu:-unknown CPU}, $mem RAM, $(uname -sr)"
}

render_report() {
    local mode="full"
    [[ "$QUICK" == 1 ]] && mode="quick (BENCH_QUICK=1)"
    echo "# ferrocks benchmark"
    echo
    echo "- date: $(date -u '+%F %T UTC')"
    echo "- machine: $(machine_info)"
    echo "- ferrocks: $(ferrocks_version); \`$FERROCKS_BIN${FERROCKS_ARGS:+ $FERROCKS_ARGS}\`"
    echo "- redis-server: $("$REDIS_BIN" --version) (in-memory: \`--save \"\" --appendonly no\`)"
    echo "- redis-benchmark: $("$REDIS_BENCHMARK" --version)"
    echo "- workload: \`-c $CLIENTS -d $VALUE_SIZE -r $KEYSPACE\`, up to $(fmt_ops "$REQUESTS") requests per run, mode: $mode"
    echo
    echo "## Throughput and latency"
    echo
    echo "| test | -P | ferrocks ops/s | redis ops/s | ratio f/r | target | ferrocks p50 / p99 ms | redis p50 / p99 ms | requests f / r |"
    echo "|---|---:|---:|---:|---:|---|---:|---:|---:|"
    local pipeline test
    for pipeline in "${PIPELINES[@]}"; do
        for test in "${TESTS[@]}"; do throughput_row "${test%%:*}" "$pipeline"; done
    done
    echo
    echo "## Memory"
    echo
    echo "| metric | ferrocks | redis |"
    echo "|---|---:|---:|"
    echo "| peak RSS during benchmark (VmHWM) | $(kib_to_mib "${PEAK_HWM[ferrocks]:-}") | $(kib_to_mib "${PEAK_HWM[redis]:-}") |"
    echo "| max sampled VmRSS (every 0.25 s) | $(kib_to_mib "${PEAK_SAMPLED[ferrocks]:-}") | $(kib_to_mib "${PEAK_SAMPLED[redis]:-}") |"
    echo "| VmRSS after benchmark | $(kib_to_mib "${END_RSS[ferrocks]:-}") | $(kib_to_mib "${END_RSS[redis]:-}") |"
    echo "| RSS before -> with $IDLE_CONNS idle conns | $(idle_before_after ferrocks) | $(idle_before_after redis) |"
    echo "| memory of $IDLE_CONNS idle connections | $(idle_delta ferrocks) | $(idle_delta redis) |"
    echo "| shutdown on SIGTERM | ${SHUTDOWN[ferrocks]:-n/a} | ${SHUTDOWN[redis]:-n/a} |"
    echo
    echo "## Targets (for comparison, not pass/fail)"
    echo
    echo "- \`-P 16\`: GET >= 0.6x redis, SET >= 0.45x redis, INCR and MSET >= 0.4x redis"
    echo "- \`-P 1\`: GET and SET >= 0.8x redis"
    echo
    echo "## Notes"
    echo
    echo "- Client and servers share this machine; redis-benchmark is single-threaded and competes for CPU."
    echo "- Without BENCH_QUICK, -n per run is calibrated by a probe run to last about ${TIME_CAP} s (see benches/bench.sh)."
    echo "- MSET sets 10 keys per request (redis-benchmark default); ops/s counts MSET commands."
    echo "- GET hit rate depends on how many of the $KEYSPACE keys the preceding SET run wrote."
    echo "- Each phase (idle connections, benchmark) uses a fresh server process and an empty data dir."
    if (( ${#WARNINGS[@]} > 0 )); then
        echo
        echo "## Warnings"
        echo
        local w
        for w in "${WARNINGS[@]}"; do echo "- $w"; done
    fi
}

# --------------------------------------------------------------------- main

main() {
    check_tools
    raise_fd_limit
    make_work_dir
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local kind
    for kind in "${SERVERS[@]}"; do measure_idle_conns "$kind"; done
    for kind in "${SERVERS[@]}"; do benchmark_server "$kind"; done

    local report="$WORK_DIR/report.md"
    render_report >"$report"
    mkdir -p "$(dirname "$OUT_FILE")"
    cp "$report" "$OUT_FILE"
    cat "$report"
    log "report written to $OUT_FILE"
}

main "$@"
