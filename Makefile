# `make demo` and `make test` are the only two commands a newcomer types; every target that
# needs system packages or the Python venv depends on `deps`.
SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
PY := $(VENV)/bin/python
# Pinned so interop results do not move under us; bump deliberately. connectorx: the bench's
# Polars reference reads SQLite with it (columnar, on two threads; bench/polars_pipeline.py).
PYTHON_PINS := pyarrow==26.0.1 polars==2.1.0 jsonschema==4.26.0 pytest==9.0.3 connectorx==0.4.6
PINS_STAMP := $(VENV)/.pins-$(shell echo '$(PYTHON_PINS)' | cksum | cut -d' ' -f1)
RELEASE_BIN := .build/release/dataset
# The Swift runtime and Foundation linked in: the dynamic loader's symbol binding of a dozen
# shared libraries was 4–10 ms of every run (perf stat, `dataset --help`: 11.4 → 7.2 ms CPU),
# a sixth of the one-season build budget. Also makes the binary copyable to a machine without
# the toolchain. Exported so scripts/bench.sh builds its harnesses the same way (one set of flags
# per build folder, or SwiftPM rebuilds everything on each switch).
export RELEASE_FLAGS := -c release --static-swift-stdlib
# Tests run optimised (with -enable-testing for @testable imports) in their own build folder:
# the real-season fixtures take seconds optimised and minutes in debug, and the interop tests
# then reuse the very same binary instead of compiling the package a second time.
TEST_FLAGS := -c release -Xswiftc -enable-testing --scratch-path .build-test
TEST_BIN := .build-test/release/dataset
SAMPLE_DB := Datasets/sample/league.sqlite

.PHONY: deps system-deps python-deps build test-build test swift-test interop-test demo bench fuzz format format-check clean

deps: system-deps python-deps

# apt only when a header is missing, so a developer machine is not touched needlessly.
system-deps:
	@if [ ! -f /usr/include/lz4frame.h ] || [ ! -f /usr/include/sqlite3.h ] || ! command -v lz4 >/dev/null || ! command -v sqlite3 >/dev/null || [ ! -x /usr/bin/time ]; then \
	  echo "installing liblz4-dev libsqlite3-dev lz4 sqlite3 time (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblz4-dev libsqlite3-dev lz4 sqlite3 time >/dev/null; \
	fi
	@# Headless Chromium renders `dataset report` pages to PNG in Tests/interop/test_report.py.
	@if ! command -v chromium >/dev/null; then \
	  echo "installing chromium (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

python-deps: $(PINS_STAMP)

$(PINS_STAMP):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check $(PYTHON_PINS)
	rm -f $(VENV)/.pins-* && touch $@

build: system-deps
	$(SWIFT) build $(RELEASE_FLAGS) --product dataset

# One build of everything, tests included; `swift test --skip-build` then runs exactly that build,
# and the interop tests use the `dataset` binary it produced (no second compile).
test-build: system-deps
	$(SWIFT) build $(TEST_FLAGS) --build-tests

test: deps format-check swift-test interop-test

swift-test: test-build
	$(SWIFT) test $(TEST_FLAGS) --skip-build

interop-test: deps test-build
	DATASET_BIN=$(abspath $(TEST_BIN)) $(PY) -m pytest -q Tests/interop

demo: deps build
	@bash scripts/demo.sh $(RELEASE_BIN) $(SAMPLE_DB)

bench: deps build
	@bash scripts/bench.sh

fuzz: system-deps
	@bash scripts/fuzz.sh

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

# Layout drift fails `make test` (about 10 s): by session 17 it had grown to 2,222 findings
# unnoticed. Only layout: the lint-only rules (force unwraps) would need code changes.
format-check:
	@changed=$$( { echo Package.swift; find Sources Tests -name '*.swift' | sort; } | while IFS= read -r f; do \
	  $(SWIFT) format "$$f" | cmp -s - "$$f" || echo "$$f"; done); \
	if [ -n "$$changed" ]; then echo "swift format would change these files (run make format):"; echo "$$changed"; exit 1; fi

clean:
	rm -rf .build .build-test $(VENV) bench/results
