# ferrocks: `make run` starts a server, `make test` runs every test.
# Cargo's target directory lives outside the clone so RocksDB (about 18
# minutes to compile) is built once and reused by later builds and CI.

CARGO_TARGET_DIR ?= $(HOME)/.cache/ferrocks/target
export CARGO_TARGET_DIR
BIN := $(CARGO_TARGET_DIR)/release/ferrocks
export FERROCKS_BIN ?= $(BIN)

.PHONY: run build test test-rust test-tcl deps bench bench-migrate bench-migrate-2g fmt clippy fuzz

build: deps
	cargo build --release

run: build
	$(BIN) -c conf/ferrocks.conf

# Installs what a fresh Debian machine lacks: libclang for RocksDB's
# bindings, redis-tools (redis-cli, redis-benchmark), redis-server (the
# reference the benchmarks compare against), tcl for tests-tcl, and redis-py
# for the cluster client tests.
deps:
	@missing=""; \
	command -v clang >/dev/null 2>&1 && [ -n "$$(ls /usr/lib/llvm-*/lib/libclang*.so* 2>/dev/null)" ] || missing="$$missing libclang-dev clang"; \
	command -v redis-cli >/dev/null 2>&1 || missing="$$missing redis-tools"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v tclsh >/dev/null 2>&1 || missing="$$missing tcl"; \
	command -v pip3 >/dev/null 2>&1 || missing="$$missing python3-pip"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@python3 -c "import redis" 2>/dev/null || python3 -m pip install -q redis || python3 -m pip install -q --break-system-packages redis

test: deps
	cargo test --release
	cargo build --release
	tclsh tests-tcl/run.tcl

test-rust: deps
	cargo test --release

test-tcl: build
	tclsh tests-tcl/run.tcl

bench: build
	bash benches/bench.sh

# BENCH_KEYS=N selects the slot size (default 1,000,000 keys, about 0.5 GB).
bench-migrate: build
	bash benches/migrate.sh

# The memory bound: one slot of 2,000,000 keys of 1 KiB (about 2 GB) moved
# with raw-key-value only; peak RSS growth of both nodes is reported.
bench-migrate-2g: build
	BENCH_KEYS=2000000 BENCH_VALUE_MIN=1024 BENCH_VALUE_MAX=1024 BENCH_ONLY_RAW=1 \
		BENCH_OUT=benches/results/migrate-2g.md bash benches/migrate.sh

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
