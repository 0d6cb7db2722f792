#!/usr/bin/env python3
"""Fits the distributions `dataset synth` draws from, on the real NBA.com player logs, and
writes them as Swift constants to Sources/Synth/FittedParameters.swift.

Run from the repository root (any Python with polars):
    python3 scripts/fit_synth.py [--realdata ../shared/realdata] [--out Sources/Synth/FittedParameters.swift]

What is fitted, per player tier (a player-season's tier is set by its mean minutes per game
played: [0,12), [12,20), [20,28), [28,48]):
- the share of a team's regulars in the tier, and how often a player of the tier appears in
  his team's games;
- mean minutes per game between players (mean, SD) and the game-to-game SD within a player;
- per-36-minute rates of FGA, FTA, OREB, DREB, AST, STL, BLK, TOV, PF: the tier's pooled rate
  and the between-player SD of log(player rate / tier rate);
- the share of FGA that are threes, and 2-point, 3-point, free-throw percentages (tier pooled
  value, between-player SD).
League-wide: the share of team-games that go to overtime and the rate of 0-minute rows.
The generator is deterministic given its seed; these numbers only shape its distributions.
"""
import argparse
import glob
import math
import pathlib

import polars as pl

TIER_BOUNDS = [0.0, 12.0, 20.0, 28.0, 48.0]
RATE_STATS = ["FGA", "FTA", "OREB", "DREB", "AST", "STL", "BLK", "TOV", "PF"]


def main() -> None:
    root = pathlib.Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser()
    ap.add_argument("--realdata", default=str(root.parent / "shared" / "realdata"))
    ap.add_argument("--out", default=str(root / "Sources" / "Synth" / "FittedParameters.swift"))
    args = ap.parse_args()
    files = sorted(glob.glob(f"{args.realdata}/raw/antbap23_player_logs/player_logs_*.csv"))
    if not files:
        raise SystemExit(f"no player_logs_*.csv under {args.realdata}/raw/antbap23_player_logs")
    df = pl.concat([pl.read_csv(f, schema_overrides={"GAME_ID": pl.Utf8}) for f in files])
    df = df.with_columns((pl.col("FGA") - pl.col("FG3A")).alias("FG2A"), (pl.col("FGM") - pl.col("FG3M")).alias("FG2M"))

    # Player-season-team stints: tier by mean minutes over the games played.
    stint = df.group_by(["SEASON_LABEL", "PLAYER_ID", "TEAM_ABBREVIATION"]).agg(
        pl.len().alias("games"),
        pl.col("MIN").mean().alias("mean_min"),
        pl.col("MIN").std().alias("sd_min"),
        pl.col("MIN").sum().alias("tot_min"),
        *[pl.col(s).sum() for s in RATE_STATS + ["FG3A", "FG2A", "FG2M", "FG3M", "FTM"]],
    )
    team_games = df.group_by(["SEASON_LABEL", "TEAM_ABBREVIATION"]).agg(pl.col("GAME_ID").n_unique().alias("team_games"))
    stint = stint.join(team_games, on=["SEASON_LABEL", "TEAM_ABBREVIATION"])
    tier_expr = pl.lit(len(TIER_BOUNDS) - 2)
    for t in reversed(range(len(TIER_BOUNDS) - 2)):
        tier_expr = pl.when(pl.col("mean_min") < TIER_BOUNDS[t + 1]).then(pl.lit(t)).otherwise(tier_expr)
    stint = stint.with_columns(tier_expr.alias("tier"))
    # Regulars: at least 20 games with the team; they define roster make-up and appearance rates.
    regulars = stint.filter(pl.col("games") >= 20)

    tiers = []
    n_reg = regulars.height
    for t in range(len(TIER_BOUNDS) - 1):
        s = stint.filter(pl.col("tier") == t)
        r = regulars.filter(pl.col("tier") == t)
        big = s.filter(pl.col("tot_min") >= 200)
        rates = {}
        for stat in RATE_STATS:
            pooled = s[stat].sum() / s["tot_min"].sum() * 36.0
            pr = (big[stat] / big["tot_min"] * 36.0).to_list()
            logs = [math.log(max(x, pooled * 0.05) / pooled) for x in pr]
            rates[stat] = (pooled, stdev(logs))
        def pct(makes, atts, min_att):
            pooled = s[makes].sum() / s[atts].sum()
            q = s.filter(pl.col(atts) >= min_att)
            return pooled, stdev((q[makes] / q[atts]).to_list())
        three_share = s["FG3A"].sum() / s["FGA"].sum()
        q = big.filter(pl.col("FGA") >= 50)
        tiers.append(dict(
            lower=TIER_BOUNDS[t], upper=TIER_BOUNDS[t + 1],
            roster_share=r.height / n_reg,
            appearance=float((r["games"] / r["team_games"]).mean()),
            mean_min=float(r["mean_min"].mean()), mean_min_sd=float(r["mean_min"].std()),
            game_min_sd=float(r["sd_min"].mean()),
            rates=rates,
            three_share=(three_share, stdev((q["FG3A"] / q["FGA"]).to_list())),
            two_pct=pct("FG2M", "FG2A", 50), three_pct=pct("FG3M", "FG3A", 30), ft_pct=pct("FTM", "FTA", 20),
        ))

    tg = df.group_by(["GAME_ID", "TEAM_ABBREVIATION"]).agg(pl.col("MIN").sum().alias("mins"))
    overtime_share = tg.filter(pl.col("mins") >= 253).height / tg.height
    zero_minute_share = df.filter(pl.col("MIN") == 0).height / df.height
    write_swift(args.out, tiers, overtime_share, zero_minute_share, len(files), df.height)
    print(f"wrote {args.out} from {df.height} rows in {len(files)} files")


def stdev(xs):
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if len(xs) < 2:
        return 0.0
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def f(x: float) -> str:
    return f"{x:.6g}" if "e" not in f"{x:.6g}" else f"{x:.6f}"


def write_swift(path, tiers, overtime_share, zero_minute_share, n_files, n_rows):
    lines = [
        "// GENERATED by scripts/fit_synth.py from ../shared/realdata (NBA.com player logs,",
        f"// {n_files} regular seasons, {n_rows} rows). Do not edit: change the script and rerun it.",
        "",
        "extension SynthParameters {",
        "  /// Fitted on the real sample; see scripts/fit_synth.py for what each number measures.",
        "  public static let fitted = SynthParameters(",
        "    tiers: [",
    ]
    for t in tiers:
        r = t["rates"]
        lines += [
            "      TierParameters(",
            f"        minutesRange: {f(t['lower'])}..<{f(t['upper'])}, rosterShare: {f(t['roster_share'])}, appearance: {f(t['appearance'])},",
            f"        meanMinutes: Spread(mean: {f(t['mean_min'])}, sd: {f(t['mean_min_sd'])}), gameMinutesSD: {f(t['game_min_sd'])},",
            "        per36: [",
            *[f"          .{k.lower()}: Spread(mean: {f(r[k][0])}, sd: {f(r[k][1])})," for k in RATE_STATS],
            "        ],",
            f"        threeShare: Spread(mean: {f(t['three_share'][0])}, sd: {f(t['three_share'][1])}),",
            f"        twoPointPct: Spread(mean: {f(t['two_pct'][0])}, sd: {f(t['two_pct'][1])}),",
            f"        threePointPct: Spread(mean: {f(t['three_pct'][0])}, sd: {f(t['three_pct'][1])}),",
            f"        freeThrowPct: Spread(mean: {f(t['ft_pct'][0])}, sd: {f(t['ft_pct'][1])})),",
        ]
    lines += [
        "    ],",
        f"    overtimeShare: {f(overtime_share)},",
        f"    zeroMinuteShare: {f(zero_minute_share)})",
        "}",
        "",
    ]
    pathlib.Path(path).write_text("\n".join(lines))


if __name__ == "__main__":
    main()
