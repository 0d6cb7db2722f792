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
  Each windowed stat gets one previous-game column (the value one row up, NULL on a group's
  first row); rolling_mean / rolling_std (min_samples = n) and the n shifted terms of the
  slope run on that whole column, and a window reaching past its group's first row holds that
  NULL, so it never mixes another player's or season's rows in;
- season mean over non-NULL history values: prefix sums of the previous-game column minus
  their value at the group's first row, divided by the count of non-NULL values. Integer-valued
  stats sum exactly in float64 over the whole column; float stats are summed per group
  (`over` on the sorted group id), because a whole-column float prefix sum of 2M rows loses
  about 1e-8 in absolute terms to rounding;
- last-days windows D−n … D−1: the terms of the n previous rows of the group whose date is
  within n days. With at most one game per date the k-th previous game is at least k days
  back, so n shifts see every game of the window;
- composite factors: left join on (player_lookup, game_date), the first PCF row of a key.
Whole seasons are computed in chunks (CHUNK_ROWS), each one lazy in-memory query; the chunks
are collected together (in parallel). Players become Enum codes in byte order, so the two
sorts and the PCF join use int64 keys.
"""
import json

import polars as pl

ACTIVE = (pl.col("is_dnp").fill_null(0) != 1) & (pl.col("minutes_played") > 0)
POLARS_TYPES = {
    "int32": pl.Int32, "int64": pl.Int64, "float64": pl.Float64, "bool": pl.Boolean, "utf8": pl.Utf8,
    "date32": pl.Date,
}
POS = pl.col("_pos")  # the row's position in its (player, season) group = games in its history


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


# Seasons are computed in chunks of whole seasons of about this many PGS rows: no history
# crosses a season, and a chunk's intermediate columns (~2 MB each) stay in cache, where one
# query over 2M rows spent most of its time on memory traffic and first-touch page faults.
CHUNK_ROWS = 1 << 18


def compute(pgs, pcf, spec, include_bootstrap=False) -> dict:
    """Returns {season_year: DataFrame} with the spec's columns in its order and types.

    pgs/pcf: DataFrames or LazyFrames, game_date as pl.Date."""
    pgs = pgs.collect() if isinstance(pgs, pl.LazyFrame) else pgs
    pcf = pcf.lazy()
    players = player_codes(pgs.lazy())
    sizes = pgs.group_by("season_year").len().sort("season_year").rows()
    # At least one chunk per Polars thread (when there are seasons enough), of equal row counts.
    total = sum(n for _, n in sizes)
    k = max(1, min(len(sizes), pl.thread_pool_size()), -(-total // CHUNK_ROWS))
    chunks, before = [[] for _ in range(k)], 0
    for season, n in sizes:
        chunks[min(k - 1, int((before + n / 2) * k / max(total, 1)))].append(season)
        before += n
    chunks = [c for c in chunks if c]
    by_season = pgs.partition_by("season_year", as_dict=True)
    plans = []
    for chunk in chunks:
        part = pl.concat([by_season[(s,)] for s in chunk])
        # The chunk's PCF rows: every date its PGS rows can join on.
        d0, d1 = part["game_date"].min(), part["game_date"].max()
        plans.append(plan(part, pcf.filter(pl.col("game_date").is_between(d0, d1)), spec, include_bootstrap, players))
    # The in-memory engine: on this query the streaming default (Polars 2) took 2–3× longer.
    # collect_all runs the chunks' queries in parallel.
    out = {}
    for df in pl.collect_all(plans, engine="in-memory"):
        runs = df.select(pl.col("season_year").rle()).unnest("season_year")
        if runs.height != runs["value"].n_unique():  # a season's rows not contiguous in date order
            out.update({int(s): p for (s,), p in df.partition_by("season_year", as_dict=True, maintain_order=True).items()})
            continue
        start = 0
        for length, season in runs.iter_rows():
            out[int(season)] = df.slice(start, length)
            start += length
    return dict(sorted(out.items()))


def player_codes(pgs: pl.LazyFrame) -> pl.Enum:
    """Players as an Enum in byte order of player_lookup: its physical codes make the sorts and
    the PCF join run on one int64 key each instead of strings. Checks the packing's ranges."""
    names, bounds = pl.collect_all([
        pgs.select(pl.col("player_lookup").unique().sort()),
        pgs.select(pl.col("season_year").min().alias("s0"), pl.col("season_year").max().alias("s1"),
                   pl.col("game_date").min().alias("d0"), pl.col("game_date").max().alias("d1")),
    ], engine="in-memory")
    s0, s1, d0, d1 = bounds.row(0)
    epoch = 719163  # date(1970, 1, 1).toordinal()
    if names.height >= 1 << 23 or (s0 is not None and not (0 <= s0 and s1 < 1 << 20)) or (
            d0 is not None and not (-(1 << 19) < d0.toordinal() - epoch and d1.toordinal() - epoch < 1 << 19)):
        raise ValueError(f"cannot pack the history order: {names.height} players, seasons {s0}…{s1}, dates {d0}…{d1}")
    return pl.Enum(names.to_series())


def plan(pgs, pcf, spec, include_bootstrap=False, players=None) -> pl.LazyFrame:
    """The computation of whole seasons as one lazy query (output order and types)."""
    pgs, pcf = pgs.lazy(), pcf.lazy()
    schema = pgs.collect_schema()
    players = players if players is not None else player_codes(pgs)
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
        pl.col("_first").cum_sum().set_sorted().alias("_group"),  # sorted: over() slices, no hashing
    )

    # One "previous game" column per windowed stat: the value of the row above, NULL on a
    # group's first row. A last-n window (min_samples = n) of it that reaches past the group's
    # first row holds that NULL and so is NULL itself: no window needs its own group mask.
    sources = list(dict.fromkeys(c["source"] for c in spec["columns"] if c["kind"] == "window" and (
        c["window"]["kind"] == "last_games" or (c["window"]["kind"] == "season" and c["aggregate"] == "mean"))))
    active = active.with_columns(
        [pl.when(POS > 0).then(_source_expr(spec, src).shift(1)).alias(f"_prev_{src}") for src in sources])
    group_start = pl.col("_row") - POS

    exprs = []
    for col in spec["columns"]:
        kind, name = col["kind"], col["name"]
        if kind == "window":
            w = col["window"]
            agg = col["aggregate"]
            if w["kind"] == "last_games":
                n = w["n"]
                prev = pl.col(f"_prev_{col['source']}")
                if agg == "mean":
                    exprs.append(prev.rolling_mean(n, min_samples=n).alias(name))
                elif agg == "std":
                    exprs.append(prev.rolling_std(n, min_samples=n, ddof=1).alias(name))
                elif agg == "slope":
                    # Least-squares slope against positions 0…n−1, oldest first: Σ (k − m)·y_k / Σ (k − m)².
                    # y_k, k = 0 … n−1, is the game n − k rows up: prev shifted by n − 1 − k.
                    m = (n - 1) / 2
                    denom = sum((k - m) ** 2 for k in range(n))
                    total = None
                    for k in range(n):
                        t = prev.shift(n - 1 - k) * ((k - m) / denom)
                        total = t if total is None else total + t
                    exprs.append(total.alias(name))
                else:
                    raise ValueError(f"aggregate {agg} not supported")
            elif w["kind"] == "season":
                if agg == "mean":
                    # Prefix sums of the previous-game column over the whole column, minus
                    # their value on the group's first row (whose previous-game value is NULL).
                    # Integer-valued stats sum exactly in float64 (below 2^53); float stats are
                    # summed per group, because a whole-column float prefix sum of 2M rows loses
                    # about 1e-8 in absolute terms to rounding.
                    prev = pl.col(f"_prev_{col['source']}")
                    if all(schema[p].is_integer() for p in _parts(spec, col["source"])):
                        sums = prev.fill_null(0).cum_sum()
                        total = sums - sums.gather(group_start)
                    else:
                        total = prev.fill_null(0).cum_sum().over("_group")
                    counts = prev.is_not_null().cum_sum()
                    # 0 / 0 (no non-NULL history) is NaN, and NaN becomes NULL: the values are
                    # finite, so no mean is NaN otherwise.
                    exprs.append((total / (counts - counts.gather(group_start))).fill_nan(None).alias(name))
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
            rest = pl.when(POS > 0).then((pl.col("game_date") - pl.col("game_date").shift(1)).dt.total_days())
            if col["measure"] == "days_rest":
                exprs.append(rest.alias(name))
            elif col["measure"] == "back_to_back":
                exprs.append((rest == 1).fill_null(False).alias(name))
            else:
                raise ValueError(f"schedule measure {col['measure']} not supported")
    df = active.with_columns(exprs)

    # Output rows in output order with one gather: the kept rows' positions sorted by _key.
    keep = pl.lit(True) if include_bootstrap else (pl.col("game_date") - pl.col("_opening")).dt.total_days() >= 14
    order = pl.col("_row").filter(keep).sort_by(pl.col("_key").filter(keep))
    comp = [c for c in spec["columns"] if c["kind"] == "composite"]
    pcf_cols = [c["source"] for c in comp if c["source"] != "present"]
    needed = ["_key"]
    for c in spec["columns"]:
        if c["kind"] in ("key", "label"):
            needed += _parts(spec, c["source"])
        elif c["kind"] in ("window", "schedule"):
            needed.append(c["name"])
    needed = [n for n in dict.fromkeys(needed) if n not in pcf_cols]
    df = df.select(pl.col(needed).gather(order))

    if comp:
        # A PCF player absent from PGS gets a NULL code and so a NULL key, which joins nothing.
        # Both sides sorted by _key (a stable sort keeps a key's first PCF row first) make the
        # join a merge join.
        p = (pcf.select(row_key.alias("_key"), *pcf_cols).sort("_key", maintain_order=True)
             .filter((pl.col("_key") != pl.col("_key").shift(1)).fill_null(True))
             .with_columns(pl.lit(True).alias("_present")))
        df = (df.with_columns(pl.col("_key").set_sorted())
              .join(p, on="_key", how="left", maintain_order="left"))

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
    return df.select(out_exprs)
