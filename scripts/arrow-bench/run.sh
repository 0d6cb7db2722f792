#!/usr/bin/env bash
# Builds the Arrow IPC benchmark in release mode and runs it on the real 2022-23 logs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
swift build -c release --package-path "$here" --scratch-path "$root/.build-arrow-bench" >&2
"$root/.build-arrow-bench/release/bench" "${1:-$root/../shared/realdata/raw/antbap23_player_logs/player_logs_2022-23.csv}"
