#!/usr/bin/env python3
"""`make bench`: times `dataset build` against the Polars reference pipeline and the physical
floor on synthetic leagues of three sizes, side by side in one run.

    python bench/run.py --bin .build/release/dataset [--sizes 1,10,75] [--repeat 3] [--seed N]

For each size (in seasons of about 27k PGS rows): the database is generated once with
`dataset synth` and cached under bench/cache/. Then, before anything is timed, both pipelines
run once and their files are compared column by column (floats within 1e-9 relative, everything
else exact, nulls identical); a difference stops the benchmark. Timed, each `repeat` times
(best wall time kept, peak RSS of that run from /usr/bin/time -v):
- ours:   dataset build --db DB --season … (every season) --out FRESH_DIR
- polars: bench/polars_pipeline.py (read SQLite, coverage gates, props_v1, LZ4 Arrow, SHA-256)
- floor:  the sqlite3 shell scanning the columns we read (`count(column)` of each, so that
          every value is extracted and nothing is printed), then `lz4 -1` over the uncompressed
          Arrow output, then `sha256sum` over the compressed output, one after another.
Then the command users run every day: one season (the middle one) out of the largest database,
`dataset build --season S` against the Polars pipeline given the same season and the floor
restricted to that season's rows; the SHA-256 of the database file, which the manifest requires
of us and the Polars pipeline does not do, is timed beside it (`openssl dgst`, which uses the
CPU's SHA instructions as our build does). Ours is timed twice there: as the first build of
that export (the digest computed), and again with the digest remembered from an earlier build
of the unchanged file (`remembered`: a backfill season by season, another feature set, a re-run).
For each size, `dataset verify` of the snapshot built (what CI runs) is timed too, beside the
`sha256sum` of its files. Prints a table and writes it as JSON to bench/results/ (ignored by git). FeaturesBench output
(kernel rows/s, SIMD vs scalar) is included when that executable was built.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "cache"
# Part of each cached database's name: bumped whenever `dataset synth` writes a different file,
# so a stale cache is regenerated rather than timed. 2: the index on PCF game_date.
SYNTH_FORMAT = 2
RESULTS = ROOT / "bench" / "results"
TIME = "/usr/bin/time"

PGS_READ = ("rowid, player_lookup, player_full_name, universal_player_id, game_id, game_date, season_year, team_abbr, "
            "opponent_team_abbr, is_home, minutes_played, points, fg_makes, fg_attempts, three_pt_makes, "
            "three_pt_attempts, ft_makes, ft_attempts, offensive_rebounds, defensive_rebounds, assists, steals, "
            "blocks, turnovers, personal_fouls, plus_minus, usage_rate, is_dnp, processed_at")
PCF_READ = ("rowid, player_lookup, game_date, game_id, fatigue_score, shot_zone_mismatch_score, pace_score, "
            "usage_spike_score, total_composite_adjustment, calculation_version, processed_at")


def timed(cmd, **kw):
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, peak RSS bytes, CompletedProcess)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        start = time.perf_counter()
        proc = subprocess.run([TIME, "-v", "-o", tf.name, *cmd], capture_output=True, text=True, **kw)
        wall = time.perf_counter() - start
        report = open(tf.name).read()
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    return wall, int(m.group(1)) * 1024 if m else None, proc


def synth_db(binary, seasons, seed):
    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / f"synth-{seasons}s-seed{seed}-f{SYNTH_FORMAT}.sqlite"
    info = CACHE / f"synth-{seasons}s-seed{seed}-f{SYNTH_FORMAT}.json"
    if db.exists() and info.exists():
        return db, json.loads(info.read_text())
    tmp = db.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    print(f"generating {db.name} ({seasons} seasons, seed {seed}) …", flush=True)
    wall, rss, proc = timed([binary, "synth", "--db", tmp, "--seasons", str(seasons), "--seed", str(seed)])
    rows = int(subprocess.run(["sqlite3", tmp, "SELECT count(*) FROM player_game_summary"],
                              capture_output=True, text=True, check=True).stdout)
    meta = {"seasons": seasons, "seed": seed, "pgs_rows": rows, "synth_seconds": wall, "synth_peak_rss": rss,
            "synth_rows_per_second": rows / wall}
    tmp.rename(db)
    info.write_text(json.dumps(meta, indent=1) + "\n")
    print(f"  {rows} PGS rows in {wall:.1f} s ({rows / wall:,.0f} rows/s)", flush=True)
    return db, meta


def season_args(first, n):
    out = []
    for s in range(first, first + n):
        out += ["--season", str(s)]
    return out


def ours_cmd(binary, db, seasons, out, first=2015):
    return [binary, "build", "--db", db, *season_args(first, seasons), "--out", out, "--dataset", "bench"]


def polars_cmd(python, db, seasons, out, first=2015):
    return [python, ROOT / "bench" / "polars_pipeline.py", "--db", db, *season_args(first, seasons), "--out", out]


def our_files(out):
    return sorted((pathlib.Path(out) / "bench" / "v1").glob("*.arrow"))


def compare(ours, theirs):
    """Our files against the Polars files: same names, columns, types, nulls; floats ≤ 1e-9 relative."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.feather as feather
    a_names = [p.name for p in ours]
    b_names = sorted(p.name for p in pathlib.Path(theirs).glob("*.arrow"))
    if a_names != b_names:
        raise SystemExit(f"file sets differ: ours {a_names}, polars {b_names}")
    worst = 0.0

    def first_difference(x, y, name, file):
        xs, ys = x.to_pylist(), y.to_pylist()
        i = next(k for k in range(len(xs)) if xs[k] != ys[k])
        return f"{file}: column {name} row {i}: ours {xs[i]!r}, polars {ys[i]!r}"

    for p in ours:
        a = feather.read_table(p)
        b = feather.read_table(pathlib.Path(theirs) / p.name)
        if a.schema.names != b.schema.names:
            raise SystemExit(f"{p.name}: columns differ:\n ours   {a.schema.names}\n polars {b.schema.names}")
        if a.num_rows != b.num_rows:
            raise SystemExit(f"{p.name}: {a.num_rows} rows here, {b.num_rows} from polars")
        for name in a.schema.names:
            x, y = a.column(name).combine_chunks(), b.column(name).combine_chunks()
            if x.type != y.type:
                raise SystemExit(f"{p.name}: column {name} is {x.type} here, {y.type} from polars")
            if not x.is_null().equals(y.is_null()):
                raise SystemExit(first_difference(x.is_null(), y.is_null(), name + " (is NULL)", p.name))
            if pa.types.is_floating(x.type):
                xv, yv = x.fill_null(0.0), y.fill_null(0.0)
                rel = pc.divide(pc.abs(pc.subtract(xv, yv)), pc.max_element_wise(pc.abs(yv), 1.0))
                m = pc.max(rel).as_py() if len(rel) else 0.0
                worst = max(worst, m or 0.0)
                if m and m > 1e-9:
                    i = pc.index(rel, m).as_py()
                    raise SystemExit(f"{p.name}: column {name} row {i}: ours {xv[i].as_py()!r}, polars {yv[i].as_py()!r}")
            elif not x.equals(y):
                raise SystemExit(first_difference(x, y, name, p.name))
    return worst


def floor_scan_sql(season=None):
    """`count(column)` for every column we read: SQLite visits every row and extracts every value
    (count needs its NULL-ness), and formats nothing. Printing the rows instead costs 2.5–3.7×
    as much (measured: 1.85 against 0.49 s at 273k rows), time spent on text no pipeline needs,
    so this is the cheapest honest scan and the hardest floor to beat. With `season`, only that
    season's rows, as SQLite finds them: PGS through its season_year index, PCF by game date
    (a scan of the whole table, as PCF has no index)."""
    def counts(columns):
        return ", ".join(f"count({c})" for c in columns.split(", "))
    pgs_where = f" WHERE season_year = {season}" if season is not None else ""
    pcf_where = (f" WHERE game_date BETWEEN '{season}-10-01' AND '{season + 1}-09-30'"
                 if season is not None else "")
    return (f"SELECT {counts(PGS_READ)} FROM player_game_summary{pgs_where}; "
            f"SELECT {counts(PCF_READ)} FROM player_composite_factors{pcf_where};")


def floor_steps(db, compressed, uncompressed_dir, season=None):
    sql = floor_scan_sql(season)
    raw = sorted(str(p) for p in pathlib.Path(uncompressed_dir).glob("*.arrow"))
    return [
        ("sqlite3 scan", ["sh", "-c", f'sqlite3 -readonly "$0" "$1" > /dev/null', str(db), sql]),
        ("lz4 -1", ["lz4", "-1", "-q", "-f", "-m", *raw]),
        ("sha256sum", ["sha256sum", *map(str, compressed)]),
    ]


def best_of(repeat, make_cmd, before=None):
    best = None
    for _ in range(repeat):
        if before:
            before()
        wall, rss, _ = timed(make_cmd())
        if best is None or wall < best[0]:
            best = (wall, rss)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / ".build" / "release" / "dataset"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--sizes", default="1,10,75", help="seasons per database (about 27k PGS rows each)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one-of", type=int, default=None,
                    help="also build one season out of the database of this many seasons "
                         "(default: the largest of --sizes; 0: skip)")
    ap.add_argument("--seed", type=int, default=20231024)
    ap.add_argument("--features-bench", default=str(ROOT / ".build" / "release" / "FeaturesBench"))
    args = ap.parse_args()
    if args.one_of is None:
        largest = max(int(s) for s in args.sizes.split(","))
        args.one_of = largest if largest > 1 else 0
    if not shutil.which(TIME):
        raise SystemExit(f"{TIME} is missing: install the Debian package `time` (make system-deps does)")
    binary = str(pathlib.Path(args.bin).resolve())
    results = []
    work = pathlib.Path(tempfile.mkdtemp(prefix="dataset-bench-"))
    try:
        for seasons in [int(s) for s in args.sizes.split(",")]:
            db, meta = synth_db(binary, seasons, args.seed)
            entry = measure(args, work, db, f"{meta['pgs_rows']:,}", meta["pgs_rows"],
                            lambda out: ours_cmd(binary, db, seasons, out),
                            lambda out: polars_cmd(args.python, db, seasons, out))
            entry.update({"seasons": seasons, "synth": meta})
            results.append(entry)
            print_table([entry])
        if args.one_of:
            # The daily command: one season out of a warehouse export that holds many.
            seasons = args.one_of
            db, meta = synth_db(binary, seasons, args.seed)
            season = 2015 + seasons // 2
            rows = int(subprocess.run(
                ["sqlite3", "-readonly", str(db), f"SELECT count(*) FROM player_game_summary WHERE season_year = {season}"],
                check=True, capture_output=True, text=True).stdout)
            entry = measure(args, work, db, f"1 of {seasons}", rows,
                            lambda out: ours_cmd(binary, db, 1, out, first=season),
                            lambda out: polars_cmd(args.python, db, 1, out, first=season), season=season)
            entry.update({"seasons": 1, "season": season, "of_seasons": seasons, "synth": meta})
            # The same build again on the same export (a backfill season by season, another
            # feature set, a re-run): the database digest is remembered in <out>/.cache, so only
            # the built dataset is removed between runs. The first build of a new export hashes.
            out_dir = work / "out-remembered"
            shutil.rmtree(out_dir, ignore_errors=True)
            subprocess.run(ours_cmd(binary, db, 1, out_dir, first=season), check=True, capture_output=True)
            wall, rss = best_of(args.repeat, lambda: ours_cmd(binary, db, 1, out_dir, first=season),
                                lambda: shutil.rmtree(out_dir / "bench", ignore_errors=True))
            entry["tools"]["dataset build, digest remembered"] = {"wall": wall, "peak_rss": rss}
            # Not in the floor as the issue defines it, but work the manifest requires of us (the
            # database file's SHA-256) and the Polars pipeline does not do.
            # OpenSSL uses the CPU's SHA instructions, as our build does (through swift-crypto);
            # coreutils' sha256sum does not, and takes several times as long.
            hasher = (["openssl", "dgst", "-sha256", str(db)] if shutil.which("openssl") else
                      [args.python, "-c", "import hashlib, sys; print(hashlib.file_digest(open(sys.argv[1], 'rb'), "
                       "'sha256').hexdigest())", str(db)])
            w, r = best_of(args.repeat, lambda: hasher)
            entry["database_sha256"] = {"wall": w, "peak_rss": r, "bytes": pathlib.Path(db).stat().st_size,
                                        "command": hasher[0]}
            results.append(entry)
            print_table([entry])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    micro = None
    if pathlib.Path(args.features_bench).exists():
        # One real-size season: the kernels' rows/s with the SIMD and the scalar reference kernel.
        # Best of 15: right after the 2M-row builds, best of 5 was still noise (the SIMD kernel
        # came out slower than the scalar one in two make-bench runs, 1.2x faster when idle).
        db, _ = synth_db(binary, 1, args.seed)
        proc = subprocess.run([args.features_bench, "--db", str(db), "--season", "2015", "--runs", "15",
                               "--spec", str(ROOT / "Schemas" / "features" / "props_v1.json")],
                              capture_output=True, text=True)
        micro = {"command": args.features_bench, "exit": proc.returncode, "output": proc.stdout + proc.stderr}
    print("\nall sizes:")
    print_table(results)
    if micro:
        print("\nkernel micro-benchmarks (FeaturesBench):\n" + micro["output"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    doc = {"created_at": stamp, "commit": commit, "machine": machine(), "repeat": args.repeat,
           "timing": "best wall time of `repeat` runs; peak RSS of that run (/usr/bin/time -v)",
           "sizes": results, "micro": micro}
    path = RESULTS / f"bench-{stamp}.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"\nwritten {path.relative_to(ROOT)}")


def measure(args, work, db, label, rows, ours, polars, season=None):
    """Checks that both pipelines write the same files, then times ours, Polars and the floor."""
    check_ours, check_polars = work / "check-ours", work / "check-polars"
    for d in (check_ours, check_polars):
        shutil.rmtree(d, ignore_errors=True)
    subprocess.run(ours(check_ours), check=True, capture_output=True)
    subprocess.run(polars(check_polars), check=True, capture_output=True)
    files = our_files(check_ours)
    worst = compare(files, check_polars)
    print(f"{label} ({rows:,} rows): outputs agree ({len(files)} files, largest float difference {worst:.1e} relative)",
          flush=True)
    # The floor's lz4 input: our tables, uncompressed, written by pyarrow.
    raw_dir = work / "raw"
    shutil.rmtree(raw_dir, ignore_errors=True)
    raw_dir.mkdir()
    import pyarrow.feather as feather
    for f in files:
        feather.write_feather(feather.read_table(f), str(raw_dir / f.name), compression="uncompressed")
    out_dir = work / "out"

    def fresh():
        shutil.rmtree(out_dir, ignore_errors=True)

    entry = {"label": label, "pgs_rows": rows, "max_float_rel_diff": worst, "tools": {}}
    wall, rss = best_of(args.repeat, lambda: ours(out_dir), fresh)
    entry["tools"]["dataset build"] = {"wall": wall, "peak_rss": rss}
    wall, rss = best_of(args.repeat, lambda: polars(out_dir), fresh)
    entry["tools"]["polars"] = {"wall": wall, "peak_rss": rss}
    steps = {}
    for name, cmd in floor_steps(db, files, raw_dir, season):
        w, r = best_of(args.repeat, lambda cmd=cmd: cmd)
        steps[name] = {"wall": w, "peak_rss": r}
    entry["tools"]["floor"] = {"wall": sum(s["wall"] for s in steps.values()),
                               "peak_rss": max(s["peak_rss"] or 0 for s in steps.values()), "steps": steps}
    # What CI runs on every snapshot: sizes, SHA-256, every batch decoded, statistics recomputed.
    # Beside the `sha256sum` step above, the least any check of the files must do.
    wall, rss = best_of(args.repeat, lambda: [str(pathlib.Path(args.bin).resolve()), "verify", str(check_ours / "bench" / "v1")])
    entry["verify"] = {"wall": wall, "peak_rss": rss}
    return entry


def machine():
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "system": platform.platform()}


def print_table(entries):
    head = f"{'PGS rows':>10} {'pipeline':<14} {'wall s':>8} {'rows/s':>12} {'peak RSS MiB':>13} {'vs polars':>10} {'vs floor':>9}"
    print(head)
    print("-" * len(head))
    for e in entries:
        polars = e["tools"]["polars"]["wall"]
        floor = e["tools"]["floor"]["wall"]
        for name in ("dataset build", "dataset build, digest remembered", "polars", "floor"):
            if name not in e["tools"]:
                continue
            t = e["tools"][name]
            rss = f"{t['peak_rss'] / 2**20:,.0f}" if t["peak_rss"] else "?"
            label = e.get("label", f"{e['pgs_rows']:,}")
            shown = "  remembered" if name == "dataset build, digest remembered" else name
            print(f"{label:>10} {shown:<14} {t['wall']:>8.3f} {e['pgs_rows'] / t['wall']:>12,.0f} {rss:>13} "
                  f"{polars / t['wall']:>9.2f}× {floor / t['wall']:>8.2f}×")
        steps = e["tools"]["floor"]["steps"]
        print(f"{'':>10} {'  floor steps':<14} " + ", ".join(f"{k} {v['wall']:.3f} s" for k, v in steps.items()))
        if "verify" in e:
            v = e["verify"]
            rss = f"{v['peak_rss'] / 2**20:,.0f} MiB" if v["peak_rss"] else "?"
            print(f"{'':>10} {'  verify':<14} `dataset verify` of the snapshot {v['wall']:.3f} s, peak RSS {rss} "
                  f"(`sha256sum` of its files alone: {steps['sha256sum']['wall']:.3f} s)")
        if "database_sha256" in e:
            d = e["database_sha256"]
            print(f"{'':>10} {'  not in floor':<14} SHA-256 of the {d['bytes'] / 2**20:,.0f} MiB database file "
                  f"({pathlib.Path(d['command']).name}) {d['wall']:.3f} s: the manifest requires it, "
                  "the Polars pipeline does not compute it")


if __name__ == "__main__":
    main()
