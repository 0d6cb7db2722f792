#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of fuzz/ with -sanitize=fuzzer,address, seeds each
# from real files the tool itself writes (an Arrow file and a manifest from a snapshot of the
# shipped 2022-23 sample, real NBA.com CSV lines), and runs each for FUZZ_SECONDS (default 60).
# Crashes land in fuzz-artifacts/<target>/ (ignored by git); turn each into a regression test.
# Prints executions per target; exits non-zero when any target found a crash.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"FuzzArrowReader FuzzManifest FuzzCSVLine"}
ART="$ROOT/fuzz-artifacts"
WORK="$ART/work"
mkdir -p "$WORK"

echo "== building the tool (debug) to write seed files"
(cd "$ROOT" && swift build --product dataset) >/dev/null || exit 1
BIN="$ROOT/.build/debug/dataset"

echo "== seeds from real files"
SEEDS="$ART/seeds"
rm -rf "$SEEDS" "$WORK/Datasets" "$WORK/seed.sqlite"
mkdir -p "$SEEDS"/{FuzzArrowReader,FuzzManifest,FuzzCSVLine}
"$BIN" import --db "$WORK/seed.sqlite" --quiet "$ROOT/Datasets/sample/player_logs_2022-23.csv.lz4" || exit 1
"$BIN" build --db "$WORK/seed.sqlite" --season 2022-23 --out "$WORK/Datasets" --batch-rows 512 >/dev/null || exit 1
VERSION=$(ls -d "$WORK"/Datasets/*/v1)
ARROW="$VERSION/2022-23.arrow"
MANIFEST="$VERSION/manifest.json"
# A whole season file is ~1 MB; libFuzzer mutates small inputs far faster, so the Arrow seeds
# are the tool's own writer output for a few rows (uncompressed and LZ4) plus the sample table.
"$BIN" arrow-sample --out "$SEEDS/FuzzArrowReader/sample.arrow" >/dev/null 2>&1 || true
head -c 200000 "$ARROW" >/dev/null && cp "$ARROW" "$SEEDS/FuzzArrowReader/season.arrow"
cp "$MANIFEST" "$SEEDS/FuzzManifest/manifest.json"
CSV="$ROOT/../shared/realdata/raw/antbap23_player_logs/player_logs_2022-23.csv"
if [ -f "$CSV" ]; then
  head -n 30 "$CSV" > "$SEEDS/FuzzCSVLine/head30.csv"
  head -n 5 "$CSV" | sed 's/$/\r/' > "$SEEDS/FuzzCSVLine/crlf.csv"
  (printf '\xef\xbb\xbf'; head -n 3 "$CSV") > "$SEEDS/FuzzCSVLine/bom.csv"
else
  lz4 -dc "$ROOT/Datasets/sample/player_logs_2022-23.csv.lz4" | head -n 30 > "$SEEDS/FuzzCSVLine/head30.csv"
fi
printf 'a,"b ""c"", d",e\n"multi\nline",2\r\n' > "$SEEDS/FuzzCSVLine/quotes.csv"

echo "== building fuzz targets (-sanitize=fuzzer,address)"
(cd "$ROOT/fuzz" && swift build -c debug -Xswiftc -sanitize=fuzzer,address) || exit 1
FBIN="$ROOT/fuzz/.build/debug"

status=0
for t in $TARGETS; do
  corpus="$ART/corpus/$t"
  mkdir -p "$corpus" "$ART/$t"
  echo "== $t for ${SECONDS_EACH} s"
  FUZZ_ARROW_FILE="$ARROW" FUZZ_MANIFEST="$MANIFEST" \
    "$FBIN/$t" "$corpus" "$SEEDS/$t" -max_total_time="$SECONDS_EACH" -max_len=1100000 -rss_limit_mb=2048 \
    -artifact_prefix="$ART/$t/" -print_final_stats=1 >"$ART/$t.log" 2>&1
  rc=$?
  execs=$(grep -E '^stat::number_of_executed_units' "$ART/$t.log" | awk '{print $2}')
  crashes=$(ls "$ART/$t" 2>/dev/null | grep -cE '^(crash|leak|oom|timeout)-')
  echo "$t: ${execs:-?} executions, corpus $(ls "$corpus" | wc -l) inputs, ${crashes} crash/oom/timeout files (exit $rc, log $ART/$t.log)"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then status=1; grep -E 'ERROR|Fatal error|SUMMARY' "$ART/$t.log" | head -5; fi
done
exit $status
