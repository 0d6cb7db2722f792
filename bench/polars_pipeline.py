#!/usr/bin/env python3
"""The reference pipeline `make bench` times against `dataset build`: the same work a skilled
engineer would write with Polars — read both tables from SQLite, run the coverage gates,
compute props_v1 (bench/props_v1_polars.py), write one LZ4 Arrow IPC file per season with
pyarrow, SHA-256 every file.

    python bench/polars_pipeline.py --db league.sqlite --out DIR [--season 2015 ...] [--spec Schemas/features/props_v1.json]

Exit 0 with the files in DIR (and DIR/sha256.json), or 2 when a coverage gate fails.
"""
import argparse
import hashlib
import json
import pathlib
import sqlite3
import sys

import polars as pl
import pyarrow as pa
import pyarrow.feather as feather

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import props_v1_polars  # noqa: E402

PGS_COLUMNS = [
    "player_lookup", "game_id", "game_date", "season_year", "team_abbr", "opponent_team_abbr", "is_home",
    "minutes_played", "points", "fg_attempts", "three_pt_makes", "three_pt_attempts", "ft_attempts",
    "offensive_rebounds", "defensive_rebounds", "assists", "turnovers", "usage_rate", "is_dnp",
]
PGS_SCHEMA = {
    "player_lookup": pl.Utf8, "game_id": pl.Utf8, "game_date": pl.Utf8, "season_year": pl.Int32,
    "team_abbr": pl.Utf8, "opponent_team_abbr": pl.Utf8, "is_home": pl.Int8, "minutes_played": pl.Float64,
    "points": pl.Int32, "fg_attempts": pl.Int32, "three_pt_makes": pl.Int32, "three_pt_attempts": pl.Int32,
    "ft_attempts": pl.Int32, "offensive_rebounds": pl.Int32, "defensive_rebounds": pl.Int32, "assists": pl.Int32,
    "turnovers": pl.Int32, "usage_rate": pl.Float64, "is_dnp": pl.Int8,
}
PCF_COLUMNS = ["player_lookup", "game_date", "fatigue_score", "shot_zone_mismatch_score", "pace_score",
               "usage_spike_score", "total_composite_adjustment"]
PCF_SCHEMA = {"player_lookup": pl.Utf8, "game_date": pl.Utf8, "fatigue_score": pl.Int32,
              "shot_zone_mismatch_score": pl.Float64, "pace_score": pl.Float64, "usage_spike_score": pl.Float64,
              "total_composite_adjustment": pl.Float64}


def read_table(con, sql, params, schema):
    cur = con.execute(sql, params)
    rows = cur.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


def read_source(db, seasons):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    if not seasons:
        seasons = [r[0] for r in con.execute("SELECT DISTINCT season_year FROM player_game_summary ORDER BY 1")]
    marks = ",".join("?" * len(seasons))
    pgs = read_table(con, f"SELECT {', '.join(PGS_COLUMNS)} FROM player_game_summary WHERE season_year IN ({marks})",
                     seasons, PGS_SCHEMA)
    ranges = " OR ".join("game_date BETWEEN ? AND ?" for _ in seasons)
    bounds = [b for s in seasons for b in (f"{s}-10-01", f"{s + 1}-09-30")]
    pcf = read_table(con, f"SELECT {', '.join(PCF_COLUMNS)} FROM player_composite_factors WHERE {ranges}",
                     bounds, PCF_SCHEMA)
    con.close()
    pgs = pgs.with_columns(pl.col("game_date").str.to_date(), pl.col("is_home").cast(pl.Boolean))
    pcf = pcf.with_columns(pl.col("game_date").str.to_date())
    return seasons, pgs, pcf


def coverage_gates(pgs, pcf):
    """The four coverage gates of gates.md with their default thresholds; returns failures."""
    failures = []
    active = pgs.filter(props_v1_polars.ACTIVE)
    fields = ["minutes_played", "points", "fg_attempts", "ft_attempts", "turnovers"]
    share = active.select([pl.col(f).is_not_null().mean().alias(f) for f in fields]).row(0, named=True)
    for f, v in share.items():
        if v is not None and v < 0.99:
            failures.append(f"source_field_coverage: {f} {v:.2%}")
    usage = active.group_by("season_year").agg(pl.col("usage_rate").is_not_null().mean().alias("share"))
    for s, v in usage.iter_rows():
        if v < 0.95:
            failures.append(f"usage_rate_coverage: season {s} {v:.2%}")
    opening = pgs.group_by("season_year").agg(pl.col("game_date").min().alias("opening"))
    expected = (
        pgs.select("season_year", "game_date").unique().join(opening, on="season_year")
        .filter((pl.col("game_date") - pl.col("opening")).dt.total_days() >= 14)
    )
    pcf_dates = pcf.group_by("game_date").agg(pl.col("player_lookup").n_unique().alias("pcf_players"))
    act = active.group_by("game_date").agg(pl.col("player_lookup").n_unique().alias("active_players"))
    per_date = expected.join(pcf_dates, on="game_date", how="left").join(act, on="game_date", how="left")
    covered = per_date.filter(pl.col("pcf_players").is_not_null()).height
    if per_date.height and covered / per_date.height < 0.95:
        failures.append(f"pcf_date_coverage: {covered} of {per_date.height} dates")
    ratio = per_date.with_columns(
        (pl.col("pcf_players").fill_null(0) / pl.col("active_players")).alias("r"))
    low = ratio.filter(pl.col("r") < 0.90).height
    if per_date.height and low / per_date.height > 0.05:
        failures.append(f"pcf_player_coverage: {low} of {per_date.height} dates below 90%")
    return failures


def main():
    root = pathlib.Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--season", type=int, action="append", default=[])
    ap.add_argument("--spec", default=str(root / "Schemas" / "features" / "props_v1.json"))
    ap.add_argument("--batch-rows", type=int, default=8192)
    args = ap.parse_args()
    spec = props_v1_polars.load_spec(args.spec)
    seasons, pgs, pcf = read_source(args.db, args.season)
    failures = coverage_gates(pgs, pcf)
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(2)
    tables = props_v1_polars.compute(pgs, pcf, spec)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    hashes = {}
    for season in sorted(tables):
        label = f"{season}-{(season + 1) % 100:02d}"
        path = out / f"{label}.arrow"
        table = tables[season].to_arrow()
        # The snapshot format uses utf8 (32-bit offsets); polars hands out large_string.
        schema = pa.schema([f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f for f in table.schema])
        feather.write_feather(table.cast(schema), str(path), compression="lz4", chunksize=args.batch_rows)
        hashes[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (out / "sha256.json").write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
