"""props_v1 recomputed independently of the Swift engine, from the imported 2022-23 sample.

The tables are read with Python's sqlite3 module, shaped with polars, and every feature is
computed from the wording of shared/spec/features-props-v1.md with plain Python (no code or
spec file shared with the Swift side beyond the column names). Every value of every column
of `dataset features-csv` must match: keys, ints and bools exactly, floats within 1e-9
relative (1e-12 absolute for values at zero, e.g. a flat slope)."""
import csv
import datetime as dt
import math
import sqlite3

import polars as pl

from conftest import run

SEASON = 2022
STATS = {
    "points": "points", "minutes": "minutes_played", "usage_rate": "usage_rate", "fga": "fg_attempts",
    "fg3a": "three_pt_attempts", "fta": "ft_attempts", "rebounds": "rebounds", "assists": "assists",
    "turnovers": "turnovers", "threes": "three_pt_makes",
}
FACTORS = ["fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score", "total_composite_adjustment"]


def read_table(con, sql):
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return pl.DataFrame({n: [r[i] for r in rows] for i, n in enumerate(names)}, strict=False)


def expected_rows(db):
    con = sqlite3.connect(str(db))
    pgs = read_table(con, f"SELECT rowid AS rid, * FROM player_game_summary WHERE season_year = {SEASON}")
    pcf = read_table(con, "SELECT rowid AS rid, * FROM player_composite_factors")
    has_schedule = con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'schedule'").fetchone()[0] == 1
    sched_dates = []
    if has_schedule:
        sched_dates = [r[0] for r in con.execute(f"SELECT game_date FROM schedule WHERE season_year = {SEASON}")]
    con.close()

    opening = dt.date.fromisoformat(min(sched_dates) if sched_dates else pgs["game_date"].min())
    pgs = pgs.with_columns(
        pl.col("game_date").str.to_date().alias("d"),
        pl.when(pl.col("offensive_rebounds").is_null() | pl.col("defensive_rebounds").is_null())
        .then(None).otherwise(pl.col("offensive_rebounds") + pl.col("defensive_rebounds")).alias("rebounds"),
    )
    active = pgs.filter((pl.col("is_dnp").is_null() | (pl.col("is_dnp") != 1)) & (pl.col("minutes_played") > 0))
    active = active.sort(["d", "rid"])
    # First PCF row (by rowid) per (player, date), as the engine's documented tie rule.
    factors = {}
    for r in pcf.sort("rid").iter_rows(named=True):
        factors.setdefault((r["player_lookup"], r["game_date"]), r)

    history = {}
    for r in active.iter_rows(named=True):
        history.setdefault((r["player_lookup"], r["season_year"]), []).append(r)

    out = []
    for r in active.iter_rows(named=True):
        day = (r["d"] - opening).days
        if 0 <= day < 14:
            continue
        h = [g for g in history[(r["player_lookup"], r["season_year"])] if g["d"] < r["d"]]
        row = {
            "game_date": r["game_date"], "season_year": r["season_year"], "player_lookup": r["player_lookup"],
            "game_id": r["game_id"], "team_abbr": r["team_abbr"], "opponent_team_abbr": r["opponent_team_abbr"],
            "is_home": None if r["is_home"] is None else bool(r["is_home"]),
        }
        for name, col in STATS.items():
            for n in (3, 5, 10):
                vals = [g[col] for g in h[-n:] if g[col] is not None]
                row[f"{name}_avg_last_{n}"] = sum(vals) / len(vals) if len(vals) >= n else None
            vals = [g[col] for g in h if g[col] is not None]
            row[f"{name}_avg_season"] = sum(vals) / len(vals) if vals else None
        for name in ("points", "minutes", "usage_rate"):
            vals = [g[STATS[name]] for g in h[-10:] if g[STATS[name]] is not None]
            if len(vals) == 10:
                m = sum(vals) / 10
                row[f"{name}_std_last_10"] = math.sqrt(sum((v - m) ** 2 for v in vals) / 9)
            else:
                row[f"{name}_std_last_10"] = None
        vals = [g["points"] for g in h[-10:] if g["points"] is not None]
        if len(vals) == 10:
            xm, ym = 4.5, sum(vals) / 10
            row["points_slope_last_10"] = sum((x - xm) * (y - ym) for x, y in enumerate(vals)) / sum((x - xm) ** 2 for x in range(10))
        else:
            row["points_slope_last_10"] = None
        rest = (r["d"] - h[-1]["d"]).days if h else None
        row["days_rest"] = rest
        row["back_to_back"] = rest == 1
        week = [g for g in h if (r["d"] - g["d"]).days <= 7]
        row["games_last_7_days"] = len(week)
        row["minutes_last_7_days"] = float(sum(g["minutes_played"] for g in week))
        row["games_played_season"] = len(h)
        f = factors.get((r["player_lookup"], r["game_date"]))
        for c in FACTORS:
            row[c] = None if f is None else f[c]
        row["has_composite_factors"] = f is not None
        row["label_points"] = r["points"]
        row["label_rebounds"] = r["rebounds"]
        row["label_assists"] = r["assists"]
        row["label_threes"] = r["three_pt_makes"]
        row["label_minutes"] = r["minutes_played"]
        out.append(row)
    out.sort(key=lambda x: (x["game_date"], x["player_lookup"].encode()))
    return out


def same(want, got):
    """`got` is the CSV text; `want` the Python value."""
    if want is None:
        return got == ""
    if got == "":
        return False
    if isinstance(want, bool):
        return got == ("true" if want else "false")
    if isinstance(want, int):
        return int(got) == want
    if isinstance(want, float):
        return math.isclose(float(got), want, rel_tol=1e-9, abs_tol=1e-12)
    return got == str(want)


def test_props_v1_matches_independent_polars_recomputation(sample_db, tmp_path):
    out = tmp_path / "props_v1.csv"
    run("features-csv", "--db", sample_db, "--season", "2022-23", "--out", out)
    with open(out, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        got = list(reader)
    want = expected_rows(sample_db)
    assert len(want) > 20000, f"the real 2022-23 sample should give >20k rows, got {len(want)}"
    assert header == list(want[0].keys())
    assert len(got) == len(want)
    mismatches = []
    for i, (w, g) in enumerate(zip(want, got)):
        for c, cell in zip(header, g):
            if not same(w[c], cell):
                mismatches.append(f"row {i} {w['player_lookup']} {w['game_date']} {c}: swift {cell!r}, python {w[c]!r}")
    assert mismatches == [], f"{len(mismatches)} mismatches, first: " + "\n".join(mismatches[:10])
    # The comparison covered real values, not only NULLs.
    nonnull = sum(1 for row in got for cell in row if cell != "")
    assert nonnull > 0.8 * len(got) * len(header)


def test_second_feature_set_from_json_only(sample_db, tmp_path):
    out = tmp_path / "example.csv"
    spec = __import__("pathlib").Path(__file__).resolve().parents[2] / "Schemas" / "features" / "example_minutes_v1.json"
    proc = run("features-csv", "--db", sample_db, "--season", "2022", "--out", out, "--feature-set", spec)
    with open(out, newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["game_date", "player_lookup", "minutes_last_game", "minutes_sum_last_14_days", "minutes_std_last_5",
                      "minutes_slope_season", "points_sum_last_3", "usage_rate_count_last_10", "label_minutes"]
    assert proc.stdout.startswith("example_minutes_v1: ")


def test_bad_feature_set_is_exit_3_naming_the_field(sample_db, tmp_path):
    spec = tmp_path / "bad.json"
    spec.write_text('{"name": "bad", "version": 1, "columns": [{"name": "x", "kind": "window", "source": "points", '
                    '"window": {"kind": "last_games", "n": 0}, "aggregate": "mean", "min_periods": 0, "type": "float64"}]}')
    proc = run("features-csv", "--db", sample_db, "--season", "2022", "--out", tmp_path / "x.csv", "--feature-set", spec, check=False)
    assert proc.returncode == 3
    assert proc.stderr == f'error: feature spec {spec}: columns[0] ("x").window.n: must be at least 1, got 0\n'
