"""`dataset validate` seen from outside: the --json report validates against
Schemas/gate-report.schema.json with jsonschema (code that knows nothing of ours), the table and
exit codes are what gates.md promises. The database is built from the real 2022-23 box scores by
the Swift test helper's mapping, redone here in Python with sqlite3 so this test stands alone."""
import csv
import json
import pathlib
import shutil
import sqlite3
import unicodedata

import jsonschema
import pytest

from conftest import REALDATA, ROOT, run

SCHEMA = json.loads((ROOT / "Schemas" / "gate-report.schema.json").read_text())


def lookup(name):
    text = unicodedata.normalize("NFKD", name).lower()
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


@pytest.fixture(scope="module")
def real_db(tmp_path_factory):
    """PGS from player_logs_2022-23.csv (November and December only, for speed) and a PCF row
    for every player-game after the bootstrap days, written after the PGS rows it depends on."""
    db = tmp_path_factory.mktemp("gates") / "league.sqlite"
    con = sqlite3.connect(db)
    con.executescript((ROOT / "Schemas" / "source.sql").read_text())
    with open(REALDATA / "player_logs_2022-23.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["GAME_DATE"] < "2023-01-01"]
    teams = {}
    for r in rows:
        teams.setdefault(r["GAME_ID"], set()).add(r["TEAM_ABBREVIATION"])
    opening = min(r["GAME_DATE"] for r in rows)
    import datetime as dt
    first_pcf = (dt.date.fromisoformat(opening) + dt.timedelta(days=14)).isoformat()
    for i, r in enumerate(rows):
        opp = next(t for t in teams[r["GAME_ID"]] if t != r["TEAM_ABBREVIATION"])
        minutes = int(r["MIN"])
        day_after = (dt.date.fromisoformat(r["GAME_DATE"]) + dt.timedelta(days=1)).isoformat()
        con.execute(
            "INSERT INTO player_game_summary VALUES (?,?,?,?,?,2022,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (lookup(r["PLAYER_NAME"]), r["PLAYER_NAME"], r["PLAYER_ID"], r["GAME_ID"], r["GAME_DATE"],
             r["TEAM_ABBREVIATION"], opp, 1 if "vs." in r["MATCHUP"] else 0, float(minutes),
             int(r["PTS"]), int(r["FGM"]), int(r["FGA"]), int(r["FG3M"]), int(r["FG3A"]), int(r["FTM"]), int(r["FTA"]),
             int(r["OREB"]), int(r["DREB"]), int(r["AST"]), int(r["STL"]), int(r["BLK"]), int(r["TOV"]), int(r["PF"]),
             int(r["PLUS_MINUS"]), 20.0 + (i % 17) if minutes > 0 else None, 1 if minutes == 0 else 0,
             day_after + "T09:00:00Z"))
        if r["GAME_DATE"] >= first_pcf:
            zone, pace, spike = (i % 21) / 2 - 5, (i % 13) / 4 - 1.5, (i % 7) / 3 - 1
            con.execute(
                "INSERT INTO player_composite_factors VALUES (?,?,?,?,?,?,?,?,'t',?)",
                (lookup(r["PLAYER_NAME"]), r["GAME_DATE"], r["GAME_ID"], 60 + (i % 3) * 20, zone, pace, spike,
                 zone + pace + spike, r["GAME_DATE"] + "T12:00:00Z"))
    con.commit()
    con.close()
    return db


def test_real_season_passes_and_json_matches_schema(real_db):
    proc = run("validate", "--db", real_db, "--season", "2022-23", "--json")
    report = json.loads(proc.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["passed"] is True
    assert [g["name"] for g in report["gates"]] == [
        "pcf_date_coverage", "pcf_player_coverage", "usage_rate_coverage", "source_field_coverage",
        "duplicate_keys", "game_integrity", "value_ranges", "pcf_staleness", "constant_features"]
    con = sqlite3.connect(real_db)
    expected = con.execute(
        "SELECT count(DISTINCT game_date) FROM player_game_summary WHERE game_date >= "
        "date((SELECT min(game_date) FROM player_game_summary), '+14 days')").fetchone()[0]
    gate = report["gates"][0]
    assert gate["figure"] == f"PCF covers {expected} of {expected} expected dates (100.0 %)"
    assert gate["value"] == 100.0
    assert report["seasons"][0]["expected_dates"] == expected
    assert report["thresholds"]["pcf_date_coverage"]["fail_below_percent"] == 95


def test_failed_gate_exits_2_with_evidence_in_json_and_table(real_db, tmp_path):
    db = tmp_path / "damaged.sqlite"
    shutil.copy(real_db, db)
    con = sqlite3.connect(db)
    con.execute("DELETE FROM player_composite_factors WHERE game_date BETWEEN '2022-12-01' AND '2022-12-06'")
    con.commit()
    missing = [d for (d,) in con.execute(
        "SELECT DISTINCT game_date FROM player_game_summary WHERE game_date BETWEEN '2022-12-01' AND '2022-12-06' ORDER BY 1")]
    expected = con.execute(
        "SELECT count(DISTINCT game_date) FROM player_game_summary WHERE game_date >= "
        "date((SELECT min(game_date) FROM player_game_summary), '+14 days')").fetchone()[0]
    proc = run("validate", "--db", db, "--season", "2022", "--json", check=False)
    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    jsonschema.validate(report, SCHEMA)
    gate = report["gates"][0]
    assert gate["status"] == "fail"
    assert gate["evidence"] == missing
    assert gate["evidence_total"] == len(missing)
    table = run("validate", "--db", db, "--season", "2022", check=False)
    assert table.returncode == 2
    assert "\x1b[" not in table.stdout  # not a terminal: no colour
    line = next(l for l in table.stdout.splitlines() if "pcf_date_coverage" in l)
    assert line.split()[0] == "FAIL"
    assert f"PCF covers {expected - len(missing)} of {expected} expected dates" in line
    assert line.endswith(f"missing: {missing[0]}, {missing[1]}, {missing[2]}, … ({len(missing)} in all)")
    assert table.stdout.rstrip().endswith("1 gate failed (pcf_date_coverage): refusing")
    over = run("validate", "--db", db, "--season", "2022", "--json",
               "--override", "pcf_date_coverage", "--reason", "re-run queued")
    report = json.loads(over.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["passed"] is True
    assert report["gates"][0]["overridden"] is True
    assert report["gates"][0]["override_reason"] == "re-run queued"


@pytest.mark.parametrize("args,message", [
    (["--season", "2022-24"], "error: invalid season '2022-24': 2022 is followed by 2022-23, expected a season like 2022-23, its start year 2022, or current"),
    (["--season", "2022", "--end-date", "last week"], "error: invalid --end-date 'last week': expected YYYY-MM-DD, today, yesterday, tomorrow or today-N (N days before today; any letter case; resolved in America/New_York)"),
    (["--season", "2022", "--override", "value_ranges"], "error: 1 --override but 0 --reason: each overridden gate needs its own --reason \"why\""),
])
def test_usage_errors_exit_1(real_db, args, message):
    proc = run("validate", "--db", real_db, *args, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == message


def test_unknown_gate_in_config_exits_1(real_db, tmp_path):
    cfg = tmp_path / "gates.json"
    cfg.write_text('{"pcf_date_coverage": {"fail_below_percent": 99}, "usage_coverage": {}}')
    proc = run("validate", "--db", real_db, "--season", "2022", "--config", cfg, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith(f"error: {cfg}: unknown gate 'usage_coverage': the gates are pcf_date_coverage,")


def test_missing_season_names_the_seasons_present(real_db):
    proc = run("validate", "--db", real_db, "--season", "2019-20", check=False)
    assert proc.returncode == 3
    assert proc.stderr.strip() == f"error: {real_db}: no player_game_summary rows for season 2019-20 (seasons in the database: 2022-23)"


def test_scheduler_literal_yesterday_is_accepted(real_db):
    proc = run("validate", "--db", real_db, "--season", "2022", "--start-date", "2022-12-01", "--end-date", "YESTERDAY", "--json")
    report = json.loads(proc.stdout)
    assert report["end_date"]["keyword"] == "yesterday"
    assert report["end_date"]["time_zone"] == "America/New_York"
    assert report["start_date"] == {"given": "2022-12-01", "keyword": None, "date": "2022-12-01", "time_zone": "America/New_York"}
