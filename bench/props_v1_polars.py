"""An independent Polars implementation of a feature-set spec (Schemas/features/props_v1.json),
written from shared/spec/features-props-v1.md, not from our Swift code. bench/polars_pipeline.py
times it as the reference a skilled engineer would write; interop tests may import it to
recompute our files.

Rules implemented (features-props-v1.md):
- rows: ACTIVE PGS rows (is_dnp not 1 and minutes_played > 0) of the requested seasons, minus
  bootstrap days (days 0–13 after the season's first PGS game date) unless include_bootstrap;
  sorted by game_date, then player_lookup bytes;
- history: the player's active rows of the same season strictly before the row's date. All
  active rows are sorted once by (player, season, date); a row's history is then the `_pos`
  rows just above it in its group (`_pos` = its position in the group). This equals "strictly
  before" when a player has at most one active row per date (the duplicate_keys gate
  guarantees that before any build);
- last-n mean/std/slope: NULL unless all n values of the last n history games are non-NULL.
  They run on the whole sorted column (shift(1), then rolling_mean / rolling_std, or the n
  shifted terms of the slope) and are masked to NULL where `_pos` < n, so a window never
  reaches into another player's or season's rows;
- season mean over non-NULL history values: prefix sums. Integer-valued sources use one
  cumulative sum over the whole column (exact in int64) minus its value at the group's first
  row; float sources are summed per group (`over`), because a whole-column float prefix sum
  of 2M rows loses about 1e-8 in absolute terms to rounding;
- last-days windows D−n … D−1: the terms of the n previous rows of the group whose date is
  within n days. With at most one game per date the k-th previous game is at least k days
  back, so n shifts see every game of the window;
- composite factors: left join on (player_lookup, game_date), the first PCF row of a key.
The whole computation is one lazy query, collected once.
"""
import json

import polars as pl

ACTIVE = (pl.col("is_dnp").fill_null(0) != 1) & (pl.col("minutes_played") > 0)
POLARS_TYPES = {
    "int32": pl.Int32, "int64": pl.Int64, "float64": pl.Float64, "bool": pl.Boolean, "utf8": pl.Utf8,
    "date32": pl.Date,
}
POS = pl.col("_pos")


def load_spec(path):
    with open(path) as f:
        return json.load(f)


def _parts(spec, name):
    """The source columns a (possibly derived) stat is the sum of."""
    for d in spec.get("derived_sources", []):
        if d["name"] == name:
            if d["op"] != "sum":
                raise ValueError(f"derived source op {d['op']} not supported")
            return list(d["of"])
    return [name]


def _source_expr(spec, name, cast=pl.Float64):
    expr = None
    for part in _parts(spec, name):
        e = pl.col(part).cast(cast)
        expr = e if expr is None else expr + e  # NULL if any part is NULL: polars addition propagates NULL
    return expr


def _masked(expr, n):
    """expr where the row has at least n history games in its group, else NULL."""
    return pl.when(POS >= n).then(expr)


def compute(pgs, pcf, spec, include_bootstrap=False) -> dict:
    """Returns {season_year: DataFrame} with the spec's columns in its order and types.

    pgs/pcf: DataFrames or LazyFrames, game_date as pl.Date."""
    # The in-memory engine: on this query the streaming default (Polars 2) took 2–3× longer.
    df = plan(pgs, pcf, spec, include_bootstrap).collect(engine="in-memory")
    return {int(s): part for (s,), part in df.partition_by("season_year", as_dict=True, maintain_order=True).items()}


def plan(pgs, pcf, spec, include_bootstrap=False) -> pl.LazyFrame:
    """The whole computation as one lazy query (all seasons, output order and types)."""
    pgs, pcf = pgs.lazy(), pcf.lazy()
    schema = pgs.collect_schema()
    # Players as integer codes in byte order of player_lookup, so both sorts and the PCF join
    # run on one int64 key each instead of strings.
    names, bounds = pl.collect_all([
        pgs.select(pl.col("player_lookup").unique().sort()),
        pgs.select(pl.col("season_year").min().alias("s0"), pl.col("season_year").max().alias("s1"),
                   pl.col("game_date").min().alias("d0"), pl.col("game_date").max().alias("d1")),
    ])
    players = pl.Enum(names.to_series())
    s0, s1, d0, d1 = bounds.row(0)
    if names.height >= 1 << 23 or (s0 is not None and not (0 <= s0 and s1 < 1 << 20)) or (
            d0 is not None and not (-(1 << 19) < d0.toordinal() - 719163 and d1.toordinal() - 719163 < 1 << 19)):
        raise ValueError(f"cannot pack the history order: {names.height} players, seasons {s0}…{s1}, dates {d0}…{d1}")
    code = pl.col("player_lookup").cast(players, strict=False).to_physical().cast(pl.Int64)
    days = pl.col("game_date").to_physical().cast(pl.Int64)
    row_key = days * (1 << 32) + code  # output order (game_date, player_lookup) and the PCF join key
    opening = pgs.group_by("season_year").agg(pl.col("game_date").min().alias("_opening"))
    active = (
        pgs.filter(ACTIVE)
        .join(opening, on="season_year", how="left")
        .with_columns(code.alias("_code"), row_key.alias("_key"))
        # (player, season, date) packed: code < 2^23, 0 <= season < 2^20, |date| < 2^19 days.
        .with_columns((pl.col("_code") * (1 << 40) + pl.col("season_year").cast(pl.Int64) * (1 << 20)
                       + days + (1 << 19)).alias("_history_order"))
        .sort("_history_order")
    )
    first = ((pl.col("_code") != pl.col("_code").shift(1))
             | (pl.col("season_year") != pl.col("season_year").shift(1))).fill_null(True)
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    active = active.with_columns(first.alias("_first"), row.alias("_row")).with_columns(
        (pl.col("_row") - pl.when("_first").then("_row").forward_fill()).alias("_pos"),
        pl.col("_first").cum_sum().alias("_group"),
    )

    exprs = []
    float_season_sums = {}
    for col in spec["columns"]:
        kind, name = col["kind"], col["name"]
        if kind == "window":
            w = col["window"]
            agg = col["aggregate"]
            if w["kind"] == "last_games":
                n = w["n"]
                prev = _source_expr(spec, col["source"]).shift(1)
                if agg == "mean":
                    exprs.append(_masked(prev.rolling_mean(n, min_samples=n), n).alias(name))
                elif agg == "std":
                    exprs.append(_masked(prev.rolling_std(n, min_samples=n, ddof=1), n).alias(name))
                elif agg == "slope":
                    # Least-squares slope against positions 0…n−1, oldest first: Σ (k − m)·y_k / Σ (k − m)².
                    m = (n - 1) / 2
                    denom = sum((k - m) ** 2 for k in range(n))
                    v = _source_expr(spec, col["source"])
                    total = None
                    for k in range(n):
                        t = v.shift(n - k) * ((k - m) / denom)
                        total = t if total is None else total + t
                    exprs.append(_masked(total, n).alias(name))
                else:
                    raise ValueError(f"aggregate {agg} not supported")
            elif w["kind"] == "season":
                if agg == "mean":
                    parts = _parts(spec, col["source"])
                    present = pl.lit(True)
                    for p in parts:
                        present = present & pl.col(p).is_not_null()
                    count = present.cast(pl.Int64)
                    if all(schema[p].is_integer() for p in parts):
                        value = _source_expr(spec, col["source"], pl.Int64).fill_null(0)
                        before = value.cum_sum() - value  # this row's exclusive prefix sum
                        total = before - pl.when("_first").then(before).forward_fill()
                    else:
                        value = _source_expr(spec, col["source"]).fill_null(0)
                        total = (value.cum_sum() - value).over("_group")
                    c_before = count.cum_sum() - count
                    c = c_before - pl.when("_first").then(c_before).forward_fill()
                    exprs.append(pl.when(c > 0).then(total.cast(pl.Float64) / c).alias(name))
                elif agg == "count":
                    exprs.append(POS.alias(name))
                else:
                    raise ValueError(f"aggregate {agg} not supported")
            elif w["kind"] == "last_days":
                n = w["n"]
                total = None
                for k in range(1, n + 1):
                    inside = (POS >= k) & ((pl.col("game_date") - pl.col("game_date").shift(k)).dt.total_days() <= n)
                    if agg == "count":
                        term = inside.cast(pl.Int32)
                    elif agg == "sum":
                        term = pl.when(inside).then(_source_expr(spec, col["source"]).shift(k).fill_null(0)).otherwise(0.0)
                    else:
                        raise ValueError(f"aggregate {agg} not supported")
                    total = term if total is None else total + term
                exprs.append(total.alias(name))
            else:
                raise ValueError(f"window kind {w['kind']} not supported")
        elif kind == "schedule":
            rest = _masked((pl.col("game_date") - pl.col("game_date").shift(1)).dt.total_days(), 1)
            if col["measure"] == "days_rest":
                exprs.append(rest.alias(name))
            elif col["measure"] == "back_to_back":
                exprs.append((rest == 1).fill_null(False).alias(name))
            else:
                raise ValueError(f"schedule measure {col['measure']} not supported")
    df = active.with_columns(exprs)

    if not include_bootstrap:
        df = df.filter((pl.col("game_date") - pl.col("_opening")).dt.total_days() >= 14)

    comp = [c for c in spec["columns"] if c["kind"] == "composite"]
    if comp:
        pcf_cols = [c["source"] for c in comp if c["source"] != "present"]
        # A PCF player absent from PGS gets a NULL code and so a NULL key, which joins nothing.
        p = pcf.select(row_key.alias("_key"), *pcf_cols).unique(
            subset=["_key"], keep="first", maintain_order=True
        ).with_columns(pl.lit(True).alias("_present"))
        df = df.drop([c for c in pcf_cols if c in schema]).join(p, on="_key", how="left")

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
    return df.sort("_key").select(out_exprs)
