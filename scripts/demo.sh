#!/usr/bin/env bash
# `make demo`: bash scripts/demo.sh BIN DB. Rebuilds the sample database from the real 2022-23
# box scores shipped in Datasets/sample, then shows what landed in it. Later steps (build,
# verify) append here.
set -euo pipefail
BIN=${1:?usage: demo.sh BIN DB}
DB=${2:?usage: demo.sh BIN DB}
SAMPLE_DIR=$(dirname "$0")/../Datasets/sample

rm -f "$DB" "$DB-journal" "$DB-wal" "$DB-shm"
echo "== dataset import --db $DB $SAMPLE_DIR/player_logs_2022-23.csv.lz4"
"$BIN" import --db "$DB" "$SAMPLE_DIR/player_logs_2022-23.csv.lz4"

echo "== importing the same file again changes nothing"
"$BIN" import --db "$DB" "$SAMPLE_DIR/player_logs_2022-23.csv.lz4" | grep -E 'PGS rows|PCF rows'

if command -v sqlite3 >/dev/null; then
  echo "== what was imported"
  sqlite3 -header -column "$DB" <<'SQL'
SELECT season_year, COUNT(*) AS pgs_rows, COUNT(DISTINCT game_date) AS dates,
       COUNT(DISTINCT game_id) AS games, SUM(is_dnp) AS dnp_rows,
       ROUND(AVG(usage_rate), 2) AS mean_usage
FROM player_game_summary GROUP BY season_year;
SELECT COUNT(*) AS pcf_rows, MIN(game_date) AS first_date, MAX(game_date) AS last_date,
       ROUND(AVG(fatigue_score), 1) AS mean_fatigue, ROUND(AVG(pace_score), 3) AS mean_pace,
       ROUND(AVG(usage_spike_score), 3) AS mean_spike
FROM player_composite_factors;
SELECT player_full_name, game_date, team_abbr, opponent_team_abbr, is_home, minutes_played,
       points, ROUND(usage_rate, 1) AS usage_rate
FROM player_game_summary ORDER BY points DESC LIMIT 3;
SQL
fi
