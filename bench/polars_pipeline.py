#!/usr/bin/env python3
"""The reference pipeline `make bench` times against `dataset build`: the same work a skilled
engineer would write with Polars on this 2-core machine — read both tables from SQLite with
connectorx (columnar; each table split into rowid ranges read on two threads, as connectorx
releases the GIL), run the coverage gates, compute props_v1 (bench/props_v1_polars.py), write
one LZ4 Arrow IPC file per season with pyarrow and SHA-256 it, two seasons at a time.

    python bench/polars_pipeline.py --db league.sqlite --out DIR [--season 2015 ...] [--spec Schemas/features/props_v1.json] [--timings]

Exit 0 with the files in DIR (and DIR/sha256.json), or 2 when a coverage gate fails.
--timings prints wall and CPU seconds (all threads) per phase to stderr.
"""
import argparse
import hashlib
import json
import os
import pathlib
import sys
import time

_START = time.perf_counter(), time.process_time()  # before the heavy imports: --timings reports them
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import connectorx as cx
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
PCF_COLUMNS = ["player_lookup", "game_date", "fatigue_score", "shot_zone_mismatch_score", "pace_score",
               "usage_spike_score", "total_composite_adjustment"]
# connectorx types SQLite columns by their declared type (TEXT → String, INTEGER → Int64, REAL →
# Float64), so a part holding no rows or only NULLs in a column still has that column's type.
PGS_TYPES = {"player_lookup": pl.String, "game_id": pl.String, "game_date": pl.Date, "season_year": pl.Int64,
             "is_home": pl.Int64, "minutes_played": pl.Float64, "points": pl.Int64, "usage_rate": pl.Float64}
PCF_TYPES = {"player_lookup": pl.String, "game_date": pl.Date, "fatigue_score": pl.Int64, "pace_score": pl.Float64}
WORKERS = max(1, min(2, os.cpu_count() or 1))


class Phases:
    """Wall and CPU (all threads) per phase, printed to stderr with --timings."""

    def __init__(self, on):
        self.on, self.rows = on, []
        self.wall, self.cpu = _START
        self.done("import")

    def done(self, name):
        wall, cpu = time.perf_counter(), time.process_time()
        self.rows.append((name, wall - self.wall, cpu - self.cpu))
        self.wall, self.cpu = wall, cpu

    def report(self):
        if self.on:
            for name, wall, cpu in self.rows:
                print(f"phase {name:<8} wall {wall:7.3f} s  cpu {cpu:7.3f} s", file=sys.stderr)


def read_parts(url, queries):
    """Runs the queries on WORKERS threads (connectorx and Polars release the GIL); returns the
    results in query order, each one chunk per column with game_date parsed."""
    def one(sql):
        return cx.read_sql(url, sql, return_type="polars").with_columns(
            pl.col("game_date").str.to_date("%Y-%m-%d")).rechunk()
    with ThreadPoolExecutor(WORKERS) as pool:
        return [f.result() for f in [pool.submit(one, q) for q in queries]]


def rowid_ranges(url, table, parts):
    """`parts` rowid ranges covering the table, so each part is one range scan of the table b-tree."""
    # Two subqueries: SQLite answers a lone min() or max() from the b-tree's edge, but scans the
    # whole table for both in one SELECT.
    # (connectorx cannot type a NULL expression, hence coalesce for an empty table.)
    lo, hi = cx.read_sql(url, f"SELECT coalesce((SELECT min(rowid) FROM {table}), 0) AS lo, "
                              f"coalesce((SELECT max(rowid) FROM {table}), -1) AS hi", return_type="polars").row(0)
    if hi < lo:
        return ["1"]
    step = (hi - lo) // parts + 1
    return [f"rowid BETWEEN {lo + k * step} AND {min(hi, lo + (k + 1) * step - 1)}" for k in range(parts)]


def checked(df, types, table):
    for name, t in types.items():
        if df.schema[name] != t:
            raise SystemExit(f"{table}.{name}: read as {df.schema[name]}, expected {t} (declared column type?)")
    return df


def read_source(db, seasons):
    url = "sqlite://" + urllib.parse.quote(str(pathlib.Path(db).resolve()))
    if not pathlib.Path(db).is_file():
        raise SystemExit(f"{db}: no such database file")
    if not seasons:
        seasons = cx.read_sql(url, "SELECT DISTINCT season_year FROM player_game_summary ORDER BY 1",
                              return_type="polars").to_series().to_list()
    # Adjacent seasons coalesced into one range each: 75 OR'd date ranges cost PCF's scan as much
    # as reading it.
    runs = []
    for s in sorted(set(int(s) for s in seasons)):
        if runs and runs[-1][1] == s - 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    # Seasons covering everything from the first season to the last are read by rowid-range
    # scans of the tables: `+` keeps SQLite off the indexes on season_year and game_date, whose
    # row-by-row lookups are slower than a scan then. Fewer seasons (one season of a warehouse
    # export) are looked up through the indexes, as SQLite chooses. (SQLite answers a lone
    # min() or max() of an indexed column from the index's edge.)
    first, last = cx.read_sql(url, "SELECT coalesce((SELECT min(season_year) FROM player_game_summary), 0) AS lo, "
                                   "coalesce((SELECT max(season_year) FROM player_game_summary), -1) AS hi",
                              return_type="polars").row(0)
    scan = "+" if sum(1 for s in set(int(s) for s in seasons) if first <= s <= last) == last - first + 1 else ""
    in_seasons = " OR ".join(f"{scan}season_year BETWEEN {a} AND {b}" for a, b in runs) or "0"
    in_dates = " OR ".join(f"{scan}game_date BETWEEN '{a}-10-01' AND '{b + 1}-09-30'" for a, b in runs) or "0"
    pgs_q = [f"SELECT {', '.join(PGS_COLUMNS)} FROM player_game_summary WHERE ({in_seasons}) AND {r}"
             for r in rowid_ranges(url, "player_game_summary", WORKERS)]
    pcf_q = [f"SELECT {', '.join(PCF_COLUMNS)} FROM player_composite_factors WHERE ({in_dates}) AND {r}"
             for r in rowid_ranges(url, "player_composite_factors", WORKERS)]
    parts = read_parts(url, pgs_q + pcf_q)
    pgs = checked(pl.concat(parts[:len(pgs_q)]), PGS_TYPES, "player_game_summary")
    pcf = checked(pl.concat(parts[len(pgs_q):]), PCF_TYPES, "player_composite_factors")
    pgs = pgs.with_columns(pl.col("is_home").cast(pl.Boolean))
    return seasons, pgs, pcf


def coverage_gates(pgs, pcf):
    """The four coverage gates of gates.md with their default thresholds; returns failures.
    Three lazy queries, collected together (in parallel)."""
    failures = []
    pgs, pcf = pgs.lazy(), pcf.lazy()
    active = pgs.filter(props_v1_polars.ACTIVE)
    fields = ["minutes_played", "points", "fg_attempts", "ft_attempts", "turnovers"]
    share_q = active.select([pl.col(f).is_not_null().mean().alias(f) for f in fields])
    usage_q = (active.group_by("season_year").agg(pl.col("usage_rate").is_not_null().mean().alias("share"))
               .sort("season_year"))
    opening = pgs.group_by("season_year").agg(pl.col("game_date").min().alias("opening"))
    expected = (
        pgs.select("season_year", "game_date").unique().join(opening, on="season_year")
        .filter((pl.col("game_date") - pl.col("opening")).dt.total_days() >= 14)
    )
    pcf_dates = pcf.group_by("game_date").agg(pl.col("player_lookup").n_unique().alias("pcf_players"))
    act = active.group_by("game_date").agg(pl.col("player_lookup").n_unique().alias("active_players"))
    per_date_q = expected.join(pcf_dates, on="game_date", how="left").join(act, on="game_date", how="left")
    share, usage, per_date = pl.collect_all([share_q, usage_q, per_date_q], engine="in-memory")
    for f, v in share.row(0, named=True).items():
        if v is not None and v < 0.99:
            failures.append(f"source_field_coverage: {f} {v:.2%}")
    for s, v in usage.iter_rows():
        if v < 0.95:
            failures.append(f"usage_rate_coverage: season {s} {v:.2%}")
    covered = per_date.filter(pl.col("pcf_players").is_not_null()).height
    if per_date.height and covered / per_date.height < 0.95:
        failures.append(f"pcf_date_coverage: {covered} of {per_date.height} dates")
    ratio = per_date.with_columns(
        (pl.col("pcf_players").fill_null(0) / pl.col("active_players")).alias("r"))
    low = ratio.filter(pl.col("r") < 0.90).height
    if per_date.height and low / per_date.height > 0.05:
        failures.append(f"pcf_player_coverage: {low} of {per_date.height} dates below 90%")
    return failures


def write_season(path, df, batch_rows):
    """One LZ4 Arrow IPC file and its SHA-256; pyarrow and hashlib release the GIL."""
    table = df.to_arrow()
    # The snapshot format uses utf8 (32-bit offsets); polars hands out large_string.
    schema = pa.schema([f.with_type(pa.string()) if pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type)
                        else f for f in table.schema])
    feather.write_feather(table.cast(schema), str(path), compression="lz4", chunksize=batch_rows)
    return path.name, hashlib.sha256(path.read_bytes()).hexdigest()


def main():
    root = pathlib.Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--season", type=int, action="append", default=[])
    ap.add_argument("--spec", default=str(root / "Schemas" / "features" / "props_v1.json"))
    ap.add_argument("--batch-rows", type=int, default=8192)
    ap.add_argument("--timings", action="store_true", help="print wall and CPU seconds per phase to stderr")
    args = ap.parse_args()
    phases = Phases(args.timings)
    spec = props_v1_polars.load_spec(args.spec)
    seasons, pgs, pcf = read_source(args.db, args.season)
    phases.done("read")
    failures = coverage_gates(pgs, pcf)
    phases.done("gates")
    if failures:
        phases.report()
        print("\n".join(failures), file=sys.stderr)
        sys.exit(2)
    tables = props_v1_polars.compute(pgs, pcf, spec)
    phases.done("compute")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(out / f"{season}-{(season + 1) % 100:02d}.arrow", tables[season]) for season in sorted(tables)]
    with ThreadPoolExecutor(WORKERS) as pool:
        hashes = dict(pool.map(lambda job: write_season(*job, args.batch_rows), jobs))
    (out / "sha256.json").write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
    phases.done("write+hash")
    phases.report()


if __name__ == "__main__":
    main()
