#!/usr/bin/env bash
# `make bench` (after `make deps build`): synthetic leagues of ~27k, ~270k and ~2M PGS rows
# (cached under bench/cache/), `dataset build` vs the Polars reference pipeline vs the physical
# floor, results printed and written to bench/results/. See bench/run.py and docs/BENCH.md.
# Environment: BENCH_SIZES (seasons per database, default 1,10,75), BENCH_REPEAT (default 3),
# BENCH_ONE_OF (one season out of a database of this many seasons; default the largest size, 0 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/time ]; then
  echo "installing time (apt) for peak-RSS measurements"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
# FeaturesBench reports the kernels' rows/s (SIMD and scalar reference); built when present.
if grep -q '"FeaturesBench"' Package.swift; then
  ${SWIFT:-swift} build ${RELEASE_FLAGS:--c release --static-swift-stdlib} --product FeaturesBench >/dev/null
fi
exec .venv/bin/python bench/run.py --bin .build/release/dataset \
  --sizes "${BENCH_SIZES:-1,10,75}" --repeat "${BENCH_REPEAT:-3}" ${BENCH_ONE_OF:+--one-of "$BENCH_ONE_OF"} "$@"
