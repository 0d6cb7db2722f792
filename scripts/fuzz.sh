#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of fuzz/ with -sanitize=fuzzer,address, seeds each
# from real files the tool itself writes (an Arrow file and a manifest from a snapshot of the
# shipped 2022-23 sample, real NBA.com CSV lines), and runs each for FUZZ_SECONDS (default 60).
# Crashes land in fuzz-artifacts/<target>/ (ignored by git); turn each into a regression test.
# Prints executions per target; exits non-zero when any target found a crash.
# Leak detection is off: FoundationEssentials leaks a 4 KiB buffer each time
# FileManager.contents(atPath:) reads a 0-byte file (found by FuzzManifest; not our code).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"FuzzArrowReader FuzzManifest FuzzCSVLine FuzzSpecJSON FuzzSQLiteRead"}
ART="$ROOT/fuzz-artifacts"
WORK="$ART/work"
mkdir -p "$WORK"

echo "== building the tool (debug) to write seed files"
(cd "$ROOT" && swift build --product dataset) >/dev/null || exit 1
BIN="$ROOT/.build/debug/dataset"

echo "== seeds from real files"
SEEDS="$ART/seeds"
rm -rf "$SEEDS" "$WORK/Datasets" "$WORK"/seed.* "$WORK/synth.sqlite"
mkdir -p "$SEEDS"/{FuzzArrowReader,FuzzManifest,FuzzCSVLine,FuzzSpecJSON,FuzzSQLiteRead}
# The rows of the first 4 games of the shipped sample (opening night, hence
# --include-bootstrap): a real snapshot small enough (~20 KB) that executions stay fast.
lz4 -dc "$ROOT/Datasets/sample/player_logs_2022-23.csv.lz4" |
  awk -F, 'NR == 1 { print; next } !($7 in seen) { if (n >= 4) next; seen[$7] = 1; n++ } { print }' > "$WORK/seed.csv"
"$BIN" import --db "$WORK/seed.sqlite" --quiet "$WORK/seed.csv" || exit 1
"$BIN" build --db "$WORK/seed.sqlite" --season 2022-23 --out "$WORK/Datasets" --dataset seed --batch-rows 128 \
  --include-bootstrap >/dev/null || exit 1
VERSION="$WORK/Datasets/seed/v1"
ARROW="$VERSION/2022-23.arrow"
MANIFEST="$VERSION/manifest.json"
"$BIN" arrow-sample --out "$SEEDS/FuzzArrowReader/sample.arrow" >/dev/null || exit 1
cp "$ARROW" "$SEEDS/FuzzArrowReader/season-head.arrow"
cp "$MANIFEST" "$SEEDS/FuzzManifest/manifest.json"
CSV="$ROOT/../shared/realdata/raw/antbap23_player_logs/player_logs_2022-23.csv"
if [ -f "$CSV" ]; then
  head -n 30 "$CSV" > "$SEEDS/FuzzCSVLine/head30.csv"
  # One whole real game (both teams), so the parser gets past game pairing.
  awk -F, -v g="$(sed -n 2p "$CSV" | cut -d, -f7)" 'NR == 1 || $7 == g' "$CSV" > "$SEEDS/FuzzCSVLine/one-game.csv"
  head -n 5 "$CSV" | sed 's/$/\r/' > "$SEEDS/FuzzCSVLine/crlf.csv"
  (printf '\xef\xbb\xbf'; head -n 3 "$CSV") > "$SEEDS/FuzzCSVLine/bom.csv"
else
  lz4 -dc "$ROOT/Datasets/sample/player_logs_2022-23.csv.lz4" | head -n 30 > "$SEEDS/FuzzCSVLine/head30.csv"
fi
printf 'a,"b ""c"", d",e\n"multi\nline",2\r\n' > "$SEEDS/FuzzCSVLine/quotes.csv"
# The shipped feature sets and thresholds, and a document with every escape.
cp "$ROOT"/Schemas/features/*.json "$ROOT/Schemas/gates.default.json" "$SEEDS/FuzzSpecJSON/"
printf '{"a": [1, -0.5e-3, true, false, null, "\\u00e9\\ud83c\\udfc0 \\" \\\\ \\/ \\b\\f\\n\\r\\t"]}' > "$SEEDS/FuzzSpecJSON/escapes.json"

# Databases for the direct b-tree read: the imported real rows (no PCF: opening night has no
# history), a synthetic season cut to 160 PGS and 120 PCF rows with two player names long
# enough to spill into overflow pages, and the two in one file; each at 4 KiB and 512-byte pages (small pages: more
# interior pages and overflow chains per byte for the fuzzer to damage).
"$BIN" synth --db "$WORK/synth.sqlite" --seasons 1 --seed 7 >/dev/null || exit 1
python3 - "$WORK/seed.sqlite" "$WORK/synth.sqlite" "$SEEDS/FuzzSQLiteRead" <<'PY' || exit 1
import shutil, sqlite3, sys
real, synth, out = sys.argv[1:4]
con = sqlite3.connect(synth)
con.executescript(
    "DELETE FROM player_game_summary WHERE rowid > 160; DELETE FROM player_composite_factors WHERE rowid > 120;"
    "UPDATE player_game_summary SET player_full_name = printf('%.1500c', 'x') WHERE rowid IN (3, 50);")
con.commit()
con.close()
# Both seasons in one file, as a warehouse export holds many: a request for one of them reads
# it through the selector indexes (SQLiteSource/SelectorIndex.swift).
both = synth + ".both"
shutil.copyfile(synth, both)
con = sqlite3.connect(both)
con.execute("ATTACH ? AS real", (real,))
con.execute("INSERT INTO player_game_summary SELECT * FROM real.player_game_summary")
con.execute("INSERT INTO player_composite_factors SELECT * FROM real.player_composite_factors")
con.commit()
con.close()
for name, source in (("real", real), ("synth", synth), ("both", both)):
    for page in (4096, 512):
        target = f"{out}/{name}-{page}.sqlite"
        shutil.copyfile(source, target)
        con = sqlite3.connect(target)
        con.execute(f"PRAGMA page_size = {page}")
        con.execute("VACUUM")
        con.close()
PY

echo "== building fuzz targets (-sanitize=fuzzer,address)"
(cd "$ROOT/fuzz" && swift build -c debug -Xswiftc -sanitize=fuzzer,address) || exit 1
FBIN="$ROOT/fuzz/.build/debug"

status=0
for t in $TARGETS; do
  corpus="$ART/corpus/$t"
  mkdir -p "$corpus" "$ART/$t"
  echo "== $t for ${SECONDS_EACH} s"
  # The manifest target verifies against the small sample file, not the season file, so that
  # an execution costs a manifest parse, not a whole-file decode.
  # The Swift backtracer reads its own stack in a way ASan reports as an overflow, which buried
  # the real failure message under a second report: precondition messages print without it.
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 FUZZ_ARROW_FILE="$SEEDS/FuzzArrowReader/sample.arrow" FUZZ_MANIFEST="$MANIFEST" \
    "$FBIN/$t" "$corpus" "$SEEDS/$t" -max_total_time="$SECONDS_EACH" -max_len=262144 -rss_limit_mb=2048 -detect_leaks=0 \
    -artifact_prefix="$ART/$t/" -print_final_stats=1 >"$ART/$t.log" 2>&1
  rc=$?
  execs=$(grep -E '^stat::number_of_executed_units' "$ART/$t.log" | tail -n 1 | awk '{print $2}')
  crashes=$(ls "$ART/$t" 2>/dev/null | grep -cE '^(crash|leak|oom|timeout)-')
  echo "$t: ${execs:-?} executions, corpus $(ls "$corpus" | wc -l) inputs, ${crashes} crash/oom/timeout files (exit $rc, log $ART/$t.log)"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then status=1; grep -E 'ERROR|Fatal error|SUMMARY' "$ART/$t.log" | head -5; fi
done
exit $status
