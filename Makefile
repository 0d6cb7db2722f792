# `make demo` and `make test` are the only two commands a newcomer types; every target that
# needs system packages or the Python venv depends on `deps`.
SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
PY := $(VENV)/bin/python
# Pinned so interop results do not move under us; bump deliberately.
PYTHON_PINS := pyarrow==26.0.1 polars==2.1.0 jsonschema==4.26.0 pytest==9.0.3
PINS_STAMP := $(VENV)/.pins-$(shell echo '$(PYTHON_PINS)' | cksum | cut -d' ' -f1)
RELEASE_BIN := .build/release/dataset
DEBUG_BIN := .build/debug/dataset
SAMPLE_DB := Datasets/sample/league.sqlite

.PHONY: deps system-deps python-deps build debug-build test swift-test interop-test demo bench fuzz format clean

deps: system-deps python-deps

# apt only when a header is missing, so a developer machine is not touched needlessly.
system-deps:
	@if [ ! -f /usr/include/lz4frame.h ] || [ ! -f /usr/include/sqlite3.h ] || ! command -v lz4 >/dev/null || ! command -v sqlite3 >/dev/null || [ ! -x /usr/bin/time ]; then \
	  echo "installing liblz4-dev libsqlite3-dev lz4 sqlite3 time (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblz4-dev libsqlite3-dev lz4 sqlite3 time >/dev/null; \
	fi

python-deps: $(PINS_STAMP)

$(PINS_STAMP):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check $(PYTHON_PINS)
	rm -f $(VENV)/.pins-* && touch $@

build: system-deps
	$(SWIFT) build -c release --product dataset

debug-build: system-deps
	$(SWIFT) build --product dataset

test: deps swift-test interop-test

swift-test: system-deps
	$(SWIFT) test --parallel 2>&1 | tee .build/swift-test.log | grep -vE '^(\[|Test Suite|Test Case|􀟈|✔ Test [a-zA-Z]+\(.*\) passed)' ; exit $${PIPESTATUS[0]}

interop-test: deps debug-build
	DATASET_BIN=$(abspath $(DEBUG_BIN)) $(PY) -m pytest -q Tests/interop

demo: deps build
	@bash scripts/demo.sh $(RELEASE_BIN) $(SAMPLE_DB)

bench: deps build
	@bash scripts/bench.sh

fuzz: system-deps
	@bash scripts/fuzz.sh

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build $(VENV) bench/results
