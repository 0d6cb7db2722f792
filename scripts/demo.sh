#!/usr/bin/env bash
# `make demo`: bash scripts/demo.sh BIN DB. The main job end to end on real data:
# import the 2022-23 box scores shipped in Datasets/sample → validate → build → verify, then
# print where the snapshot is and the lines a training job uses to open it.
set -euo pipefail
BIN=${1:?usage: demo.sh BIN DB}
DB=${2:?usage: demo.sh BIN DB}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SAMPLE="$ROOT/Datasets/sample/player_logs_2022-23.csv.lz4"
OUT="$ROOT/Datasets"
PY="$ROOT/.venv/bin/python"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -f "$DB" "$DB-journal" "$DB-wal" "$DB-shm"
step "dataset import --db $DB $(basename "$SAMPLE")"
"$BIN" import --db "$DB" "$SAMPLE"

step "dataset validate --db $DB --season 2022-23"
"$BIN" validate --db "$DB" --season 2022-23

step "dataset build --db $DB --season 2022-23 --out $OUT"
"$BIN" build --db "$DB" --season 2022-23 --out "$OUT"

# The newest version: the one just published, or the identical one a rerun found unchanged.
SNAPSHOT=$(ls -d "$OUT"/props_v1/v* | sort -V | tail -1)

step "dataset verify $SNAPSHOT"
"$BIN" verify "$SNAPSHOT"

step "open it from Python"
ARROW=$(ls "$SNAPSHOT"/*.arrow | head -1)
cat <<PY
import polars as pl
df = pl.read_ipc("$ARROW")

import pyarrow.feather as feather
table = feather.read_table("$ARROW")
PY
"$PY" -c "import polars as pl; df = pl.read_ipc('$ARROW'); print('polars reads', df.shape, 'from', '$ARROW')"
