"""An independent Polars implementation of a feature-set spec (Schemas/features/props_v1.json),
written from shared/spec/features-props-v1.md, not from our Swift code. bench/polars_pipeline.py
times it as the reference a skilled engineer would write; interop tests may import it to
recompute our files.

Rules implemented (features-props-v1.md):
- rows: ACTIVE PGS rows (is_dnp not 1 and minutes_played > 0) of the requested seasons, minus
  bootstrap days (days 0–13 after the season's first PGS game date) unless include_bootstrap;
  sorted by game_date, then player_lookup bytes;
- history: the player's active rows of the same season strictly before the row's date. The
  rolling windows use shift(1) over (player, season) sorted by date, which equals "strictly
  before" when a player has at most one active row per date (the duplicate_keys gate
  guarantees that before any build);
- last-n mean/std/slope: NULL unless all n values of the last n history games are non-NULL;
  season mean over non-NULL history values; last-days windows D−7 … D−1.
"""
import json

import polars as pl

ACTIVE = (pl.col("is_dnp").fill_null(0) != 1) & (pl.col("minutes_played") > 0)
POLARS_TYPES = {
    "int32": pl.Int32, "int64": pl.Int64, "float64": pl.Float64, "bool": pl.Boolean, "utf8": pl.Utf8,
    "date32": pl.Date,
}


def load_spec(path):
    with open(path) as f:
        return json.load(f)


def _source_expr(spec, name):
    for d in spec.get("derived_sources", []):
        if d["name"] == name:
            if d["op"] != "sum":
                raise ValueError(f"derived source op {d['op']} not supported")
            expr = None
            for part in d["of"]:
                expr = pl.col(part).cast(pl.Float64) if expr is None else expr + pl.col(part).cast(pl.Float64)
            return expr  # NULL if any part is NULL: polars addition propagates NULL
    return pl.col(name).cast(pl.Float64)


def compute(pgs: pl.DataFrame, pcf: pl.DataFrame, spec, include_bootstrap=False) -> dict:
    """Returns {season_year: DataFrame} with the spec's columns in its order and types."""
    opening = pgs.group_by("season_year").agg(pl.col("game_date").min().alias("_opening"))
    active = (
        pgs.filter(ACTIVE)
        .join(opening, on="season_year")
        .sort(["player_lookup", "season_year", "game_date"])
    )
    over = ["player_lookup", "season_year"]
    exprs = []
    lag_needed = {}
    for col in spec["columns"]:
        kind, name = col["kind"], col["name"]
        if kind == "window":
            w = col["window"]
            if w["kind"] == "last_games":
                src = _source_expr(spec, col["source"]).shift(1).over(over)
                n = w["n"]
                agg = col["aggregate"]
                if agg == "mean":
                    exprs.append(
                        _source_expr(spec, col["source"]).shift(1).rolling_mean(n, min_samples=n).over(over).alias(name))
                elif agg == "std":
                    exprs.append(
                        _source_expr(spec, col["source"]).shift(1).rolling_std(n, min_samples=n, ddof=1).over(over).alias(name))
                elif agg == "slope":
                    lag_needed[name] = (col["source"], n)
                else:
                    raise ValueError(f"aggregate {agg} not supported")
                del src
            elif w["kind"] == "season":
                if col["aggregate"] == "mean":
                    v = _source_expr(spec, col["source"])
                    s = v.fill_null(0).cum_sum().shift(1).over(over)
                    c = v.is_not_null().cast(pl.Int64).cum_sum().shift(1).over(over)
                    exprs.append(pl.when(c > 0).then(s / c).otherwise(None).alias(name))
                elif col["aggregate"] == "count":
                    exprs.append((pl.int_range(pl.len()).over(over)).cast(pl.Int32).alias(name))
            # last_days windows are computed below with a date-indexed rolling window.
        elif kind == "schedule":
            prev = pl.col("game_date").shift(1).over(over)
            rest = (pl.col("game_date") - prev).dt.total_days().cast(pl.Int32)
            if col["measure"] == "days_rest":
                exprs.append(rest.alias(name))
            elif col["measure"] == "back_to_back":
                exprs.append((rest == 1).fill_null(False).alias(name))
    df = active.with_columns(exprs)
    for name, (source, n) in lag_needed.items():
        # Least-squares slope against positions 0…n−1, oldest first: Σ (k − m)·y_k / Σ (k − m)².
        m = (n - 1) / 2
        denom = sum((k - m) ** 2 for k in range(n))
        v = _source_expr(spec, source)
        terms = [(v.shift(n - k).over(over)) * ((k - m) / denom) for k in range(n)]
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        df = df.with_columns(total.alias(name))

    day_cols = [c for c in spec["columns"] if c["kind"] == "window" and c["window"]["kind"] == "last_days"]
    if day_cols:
        period = {c["window"]["n"] for c in day_cols}
        if len(period) != 1:
            raise ValueError("one last_days period supported")
        days = period.pop()
        aggs = []
        for c in day_cols:
            if c["aggregate"] == "count":
                aggs.append(pl.len().cast(pl.Int32).alias(c["name"]))
            else:
                aggs.append(_source_expr(spec, c["source"]).sum().alias(c["name"]))
        rolled = (
            df.select(list(dict.fromkeys(["player_lookup", "season_year", "game_date", "offensive_rebounds",
                                          "defensive_rebounds", *[c["source"] for c in day_cols if "source" in c]])))
            .rolling(index_column="game_date", period=f"{days}d", closed="left", group_by=over)
            .agg(aggs)
        )
        df = df.join(rolled, on=["player_lookup", "season_year", "game_date"], how="left")
        for c in day_cols:
            df = df.with_columns(pl.col(c["name"]).fill_null(0))

    if not include_bootstrap:
        df = df.filter((pl.col("game_date") - pl.col("_opening")).dt.total_days() >= 14)

    comp = [c for c in spec["columns"] if c["kind"] == "composite"]
    if comp:
        pcf_cols = [c["source"] for c in comp if c["source"] != "present"]
        p = pcf.select(["player_lookup", "game_date", *pcf_cols]).unique(
            subset=["player_lookup", "game_date"], keep="first", maintain_order=True
        ).with_columns(pl.lit(True).alias("_present"))
        df = df.drop([c for c in pcf_cols if c in df.columns]).join(p, on=["player_lookup", "game_date"], how="left")

    out_exprs = []
    for c in spec["columns"]:
        t = POLARS_TYPES[c["type"]]
        name, kind = c["name"], c["kind"]
        if kind == "key":
            e = pl.col(c["source"])
        elif kind == "label":
            e = _source_expr(spec, c["source"])
        elif kind == "composite":
            e = pl.col("_present").fill_null(False) if c["source"] == "present" else pl.col(c["source"])
        else:
            e = pl.col(name)
        out_exprs.append(e.cast(t).alias(name))
    df = df.sort(["game_date", "player_lookup"]).select(out_exprs)
    return {int(s): part for (s,), part in df.partition_by("season_year", as_dict=True, maintain_order=True).items()}
