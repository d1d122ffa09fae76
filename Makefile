# ferrocks: `make run` starts a server, `make test` runs every test.
# Cargo's target directory lives outside the clone so RocksDB (about 18
# minutes to compile) is built once and reused by later builds and CI.

CARGO_TARGET_DIR ?= $(HOME)/.cache/ferrocks/target
export CARGO_TARGET_DIR
BIN := $(CARGO_TARGET_DIR)/release/ferrocks
export FERROCKS_BIN ?= $(BIN)

# kvrocks-controller and its end-to-end script (shared/ beside the clone).
CONTROLLER_DIR ?= ../shared/kvrocks-controller

.PHONY: run build test test-rust test-tcl deps bench bench-migrate bench-migrate-2g bench-mget bench-bigkey fmt clippy e2e-controller chaos fuzz

build: deps
	cargo build --release

run: build
	$(BIN) -c conf/ferrocks.conf

# Installs what a fresh Debian machine lacks: libclang for RocksDB's
# bindings, redis-tools (redis-cli, redis-benchmark), redis-server (the
# reference the benchmarks compare against), tcl for tests-tcl, redis-py
# for the cluster client tests, and etcd, curl and jq for e2e-controller.
deps:
	@missing=""; \
	command -v clang >/dev/null 2>&1 && [ -n "$$(ls /usr/lib/llvm-*/lib/libclang*.so* 2>/dev/null)" ] || missing="$$missing libclang-dev clang"; \
	command -v redis-cli >/dev/null 2>&1 || missing="$$missing redis-tools"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v tclsh >/dev/null 2>&1 || missing="$$missing tcl"; \
	command -v pip3 >/dev/null 2>&1 || missing="$$missing python3-pip"; \
	command -v etcd >/dev/null 2>&1 || missing="$$missing etcd-server"; \
	command -v curl >/dev/null 2>&1 || missing="$$missing curl"; \
	command -v jq >/dev/null 2>&1 || missing="$$missing jq"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@python3 -c "import redis" 2>/dev/null || python3 -m pip install -q redis || python3 -m pip install -q --break-system-packages redis

# The migration tests run three times: with everything else in the
# defaults (sst import mode, one stream per core), then with snapshot
# chunks on the write path over one stream, then over four streams.
MIGRATION_TESTS = --test slot_migration --test slot_migration_restart --test slot_migration_faults
MIGRATION_RUNS = \
	FERROCKS_TEST_ARGS="migrate-import-mode write,migrate-parallelism 1" cargo test --release $(MIGRATION_TESTS) && \
	FERROCKS_TEST_ARGS="migrate-parallelism 4" cargo test --release $(MIGRATION_TESTS) --test slot_migration_sst

test: deps
	cargo test --release
	$(MIGRATION_RUNS)
	cargo build --release
	tclsh tests-tcl/run.tcl

test-rust: deps
	cargo test --release
	$(MIGRATION_RUNS)

test-tcl: build
	tclsh tests-tcl/run.tcl

# kvrocks-controller creates a two-shard cluster of release-build nodes and
# moves a slot (CONTROLLER_DIR/e2e, MODE=create). Passes when the script ends
# with E2E OK and no node refused a topology push for its node ids or for
# carrying the version it already has.
e2e-controller: build
	@[ -f "$(CONTROLLER_DIR)/e2e" ] || { echo "e2e-controller: no $(CONTROLLER_DIR)/e2e (set CONTROLLER_DIR to the kvrocks-controller folder)" >&2; exit 2; }
	@out=$$(mktemp); \
	MODE=$${MODE:-create} bash "$(CONTROLLER_DIR)/e2e" "$(BIN)" 2>&1 | tee "$$out"; \
	grep -qx 'E2E OK' "$$out" || { echo "e2e-controller: FAILED (no E2E OK)" >&2; rm -f "$$out"; exit 1; }; \
	if sed -n '/^NOTE  topology pushes the nodes refused/,$$p' "$$out" | grep -qiE 'node id|cluster version'; then \
		echo "e2e-controller: FAILED (a node refused a topology push for its node id or its version)" >&2; rm -f "$$out"; exit 1; \
	fi; \
	rm -f "$$out"; echo "e2e-controller: passed"

bench: build
	bash benches/bench.sh

# BENCH_KEYS=N selects the slot size (default 1,000,000 keys, about 0.5 GB).
# The fourth run moves JSON-like documents with migrate-compression lz4 and
# none. Every run reports page cache added per side next to RSS;
# BENCH_PERF=1 adds a perf profile of both nodes during (a).
bench-migrate: build
	bash benches/migrate.sh
	BENCH_SHAPE=hashes BENCH_OUT=benches/results/migrate-hashes.md bash benches/migrate.sh
	BENCH_SHAPE=bighash BENCH_KEYS=3000000 BENCH_VALUE_MIN=100 BENCH_VALUE_MAX=100 \
		BENCH_OUT=benches/results/migrate-bighash.md bash benches/migrate.sh
	BENCH_SHAPE=docs BENCH_KEYS=300000 BENCH_OUT=benches/results/migrate-docs.md bash benches/migrate.sh

# The memory bound: one slot of 2,000,000 keys of 1 KiB (about 2 GB) moved
# with raw-key-value only; peak RSS growth and page cache added by the move
# are reported for both nodes.
bench-migrate-2g: build
	BENCH_KEYS=2000000 BENCH_VALUE_MIN=1024 BENCH_VALUE_MAX=1024 BENCH_ONLY_RAW=1 \
		BENCH_OUT=benches/results/migrate-2g.md bash benches/migrate.sh

# Peak RSS of one MGET of 5,000 values of 100 KiB, ferrocks beside redis-server.
bench-mget: build
	python3 benches/mget_memory.py

# RSS while paging through a 1M-member hash, set, sorted set and list
# (BIG_MEMBERS=10000000 for the 10M demonstration).
bench-bigkey: build
	python3 benches/bigkey_memory.py

# The chaos loop over slot migrations (tests/chaos.rs): three nodes, a
# writer, slots moved around while a random node is killed with -9.
# `make chaos N=50` (or CHAOS_ROUNDS=50) runs more rounds, CHAOS_SEED=... replays a run; the short
# version (3 rounds) runs inside `make test`.
N ?= 20
CHAOS_ROUNDS ?= $(N)
chaos: deps
	CHAOS_ROUNDS=$(CHAOS_ROUNDS) cargo test --release --test chaos -- --nocapture

# Differential fuzzing against redis-server: new random seeds for SECS
# seconds (default 600); FUZZ_CASES=n sequences per seed, FUZZ_SEED=s to
# start from (and replay) a seed.
SECS ?= 600
fuzz: deps
	FUZZ_SECS=$(SECS) cargo test --release --test differential differential_random_seed -- --nocapture

fmt:
	cargo fmt --all

clippy:
	cargo clippy --release --all-targets -- -D warnings
