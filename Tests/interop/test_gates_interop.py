"""`dataset validate` seen from outside: the --json report validates against
Schemas/gate-report.schema.json with jsonschema (code that knows nothing of ours), the table and
exit codes are what gates.md promises, on the real 2022-23 season imported by `dataset import`."""
import json
import shutil
import sqlite3

import jsonschema
import pytest

from conftest import REALDATA, ROOT, SAMPLE, run

SCHEMA = json.loads((ROOT / "Schemas" / "gate-report.schema.json").read_text())


@pytest.fixture(scope="module")
def real_db(sample_db):
    """The real 2022-23 season, imported by `dataset import` (conftest's sample_db)."""
    return sample_db


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
    con.execute("DELETE FROM player_composite_factors WHERE game_date BETWEEN '2022-12-01' AND '2022-12-10'")
    con.commit()
    missing = [d for (d,) in con.execute(
        "SELECT DISTINCT game_date FROM player_game_summary WHERE game_date BETWEEN '2022-12-01' AND '2022-12-10' ORDER BY 1")]
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
    # Those dates are also at 0 % of their players, more than 5 % of the dates: pcf_player_coverage fails too.
    assert table.stdout.rstrip().endswith("2 gates failed (pcf_date_coverage, pcf_player_coverage): refusing")
    players = next(l for l in table.stdout.splitlines() if "pcf_player_coverage" in l)
    assert players.split()[0] == "FAIL" and f"{len(missing)} of {expected} dates below 90 %" in players
    over = run("validate", "--db", db, "--season", "2022", "--json",
               "--override", "pcf_date_coverage", "--reason", "re-run queued",
               "--override", "pcf_player_coverage", "--reason", "same dates")
    report = json.loads(over.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["passed"] is True
    assert report["gates"][0]["overridden"] is True
    assert report["gates"][0]["override_reason"] == "re-run queued"
    assert report["gates"][1]["override_reason"] == "same dates"


@pytest.mark.parametrize("args,message", [
    (["--season", "2022-24"], "error: invalid season '2022-24': its second part must be the year after 2022 (the season starting in 2022 is 2022-23); expected a season like 2022-23, its start year 2022, or current"),
    (["--season", "2022", "--end-date", "last week"], "error: invalid --end-date 'last week': expected YYYY-MM-DD, today, yesterday, tomorrow or today-N (N days before today; any letter case; resolved in America/New_York)"),
    (["--season", "2022", "--override", "value_ranges"], "error: 1 --override but 0 --reason: each overridden gate needs its own --reason \"why\""),
    (["--season", "2022", "--override", "value_ranges", "--reason", "a", "--override", "value_ranges", "--reason", "b"],
     "error: --override value_ranges is given twice: give each gate one --override and one --reason"),
    (["--season", "2022", "--override", "point_in_time", "--reason", "float drift"],
     "error: --override point_in_time: the point-in-time check cannot be overridden (a feature that sees its own game or a later one is never fit to train on)"),
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


@pytest.mark.parametrize("command", ["validate", "build"])
def test_json_callers_get_errors_on_stdout_too(real_db, tmp_path, command):
    # A scheduler that parses stdout must not get nothing when the input is unusable (3) or
    # the command line is wrong (1).
    out = ["--out", tmp_path / "Datasets"] if command == "build" else []
    missing = run(command, "--db", tmp_path / "none.sqlite", "--season", "2022", "--json", *out, check=False)
    assert missing.returncode == 3
    assert json.loads(missing.stdout) == {"error": {"exit_code": 3, "message": missing.stderr.rstrip("\n"), "reason": None}}
    bad = run(command, "--db", real_db, "--season", "2022-24", "--json", *out, check=False)
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["error"]["exit_code"] == 1
    assert "invalid season '2022-24'" in json.loads(bad.stdout)["error"]["message"]


def test_scheduler_literal_yesterday_is_accepted(real_db):
    proc = run("validate", "--db", real_db, "--season", "2022", "--start-date", "2022-12-01", "--end-date", "YESTERDAY", "--json")
    report = json.loads(proc.stdout)
    assert report["end_date"]["keyword"] == "yesterday"
    assert report["end_date"]["time_zone"] == "America/New_York"
    assert report["start_date"] == {"given": "2022-12-01", "keyword": None, "date": "2022-12-01", "time_zone": "America/New_York"}


@pytest.mark.skipif(not (REALDATA / "player_logs_2021-22.csv").exists(), reason="real data not present")
def test_count_gates_are_judged_per_season(tmp_path):
    """GATES.md: a threshold is never applied to seasons pooled, and a season's verdict does not
    depend on the other seasons asked for. duplicate_keys, game_integrity and pcf_staleness
    counted all seasons together (session 13 review): 20 stale rows in one season and 31 in the
    other passed `fail_above_count: 40` alone and failed together."""
    db = tmp_path / "two.sqlite"
    run("import", "--db", db, REALDATA / "player_logs_2021-22.csv", SAMPLE, "--quiet")
    with sqlite3.connect(db) as con:
        for season, n in ((2021, 20), (2022, 31)):
            # PCF rows after each player's first game depend on earlier PGS rows: stamped long
            # before them, they are stale.
            con.execute(
                f"""UPDATE player_composite_factors SET processed_at = '2000-01-01T00:00:00.000000Z'
                WHERE rowid IN (SELECT rowid FROM player_composite_factors
                  WHERE game_date BETWEEN '{season}-12-01' AND '{season + 1}-03-01' ORDER BY rowid LIMIT {n})""")
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"pcf_staleness": {"fail_above_count": 40}}))

    def staleness(*seasons):
        args = [a for s in seasons for a in ("--season", s)]
        report = json.loads(run("validate", "--db", db, *args, "--config", config, "--json", check=False).stdout)
        return next(g for g in report["gates"] if g["name"] == "pcf_staleness")

    alone = [staleness("2021-22"), staleness("2022-23")]
    both = staleness("2021-22", "2022-23")
    assert [g["value"] for g in alone] == [20, 31] and [g["status"] for g in alone] == ["pass", "pass"]
    assert both["status"] == "pass" and both["value"] == 31
    assert both["figure"].startswith("2021-22: 20 of ") and "; 2022-23: 31 of " in both["figure"]
    assert all(line[:8] in ("2021-22 ", "2022-23 ") for line in both["evidence"])
    # With the threshold below one season's count, that season fails alone and together.
    config.write_text(json.dumps({"pcf_staleness": {"fail_above_count": 25}}))
    assert [staleness("2021-22")["status"], staleness("2022-23")["status"], staleness("2021-22", "2022-23")["status"]] == [
        "pass", "fail", "fail"]


def test_json_errors_carry_a_reason_a_scheduler_can_branch_on(real_db, tmp_path):
    """A review (session 17): a daily window over the All-Star break, the off-season or a season
    not yet started exits 3 like broken input, and the envelope gave a DAG only text to match."""
    def reason(*args):
        proc = run(*args, "--json", check=False)
        assert proc.returncode == 3, proc.stderr
        return json.loads(proc.stdout)["error"]["reason"]
    # The 2022-23 All-Star break: no game from 2023-02-17 to 2023-02-22.
    assert reason("validate", "--db", real_db, "--season", "2022-23", "--start-date", "2023-02-18",
                  "--end-date", "2023-02-21") == "no_rows_in_window"
    assert reason("validate", "--db", real_db, "--season", "2019-20") == "season_not_in_database"
    # The current season before its rows arrived: nothing yet, not the export's gap.
    assert reason("build", "--db", real_db, "--season", "current", "--out", tmp_path / "Datasets") == "no_rows_in_window"
    assert reason("build", "--db", real_db, "--season", "2022-23", "--end-date", "2022-10-25",
                  "--out", tmp_path / "Datasets") == "no_feature_rows"
    assert reason("validate", "--db", tmp_path / "none.sqlite", "--season", "2022-23") is None


def test_a_failed_gate_over_bootstrap_days_is_a_failed_gate(real_db, tmp_path):
    """The regression review (session 17): a usage_rate hole in a season's first week gave
    exit 3 with reason no_feature_rows ("nothing to do") instead of the failed gate."""
    holed = tmp_path / "holed.sqlite"
    shutil.copy(real_db, holed)
    with sqlite3.connect(holed) as conn:
        conn.execute("UPDATE player_game_summary SET usage_rate = NULL WHERE game_date <= '2022-10-25'")
    window = ["--season", "2022-23", "--end-date", "2022-10-25", "--json"]
    refused = run("build", "--db", holed, *window, "--out", tmp_path / "Datasets", check=False)
    assert refused.returncode == 2, refused.stderr
    report = json.loads(refused.stdout)
    jsonschema.validate(report, SCHEMA)
    assert not report["passed"]
    # validate's JSON carries what build will then do, beside the gates.
    checked = run("validate", "--db", real_db, *window)
    notes = json.loads(checked.stdout)["notes"]
    assert len(notes) == 1 and notes[0].startswith("season 2022-23 to 2022-10-25 has no row to compute features for"), notes
    assert notes[0].endswith("`dataset build` refuses it (exit 3)")
