"""Snapshots seen from outside: the manifest against Schemas/manifest.schema.json (jsonschema),
data files through pyarrow and polars, and the CLI's verify/list/show/diff/build behaviour,
including builds killed with SIGKILL and two builds racing for one dataset."""
import hashlib
import json
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import time

import jsonschema
import polars as pl
import pyarrow as pa
import pyarrow.ipc
import pytest

from conftest import REALDATA, ROOT, SAMPLE, dataset_bin, run

SCHEMA = json.loads((ROOT / "Schemas" / "manifest.schema.json").read_text())
ARROW_TYPES = {"int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(),
               "utf8": pa.string(), "date32": pa.date32()}


def build(db, out, *extra, check=True):
    return run("build", "--quiet", "--db", db, "--season", "2022-23", "--out", out, "--dataset", "props", *extra, check=check)


@pytest.fixture(scope="module")
def snapshot(sample_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("snap") / "Datasets"
    t0 = time.monotonic()
    first = build(sample_db, out)
    return {"db": sample_db, "out": out, "v1": out / "props" / "v1", "first": first,
            "seconds": time.monotonic() - t0}


def manifest_of(folder):
    return json.loads((folder / "manifest.json").read_text())


def test_manifest_validates_against_its_json_schema(snapshot):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    m = manifest_of(snapshot["v1"])
    jsonschema.Draft202012Validator(SCHEMA).validate(m)
    assert (m["dataset"], m["version"], m["parent_version"], m["format"]) == ("props", "v1", None, 1)
    assert [f["path"] for f in m["files"]] == ["2022-23.arrow"]
    assert m["config"]["seasons"] == ["2022-23"]
    assert {g["name"] for g in m["gates"]} >= {"usage_rate_coverage", "point_in_time"}
    # Every object on disk has its keys in sorted order (checked as written, not as parsed).
    unsorted = []

    def hook(pairs):
        keys = [k for k, _ in pairs]
        if keys != sorted(keys):
            unsorted.append(keys)
        return dict(pairs)

    json.loads((snapshot["v1"] / "manifest.json").read_text(), object_pairs_hook=hook)
    assert unsorted == []


def test_manifest_schema_rejects_unknown_and_missing_keys(snapshot):
    m = manifest_of(snapshot["v1"])
    validator = jsonschema.Draft202012Validator(SCHEMA)
    extra = dict(m, note="x")
    assert not validator.is_valid(extra)
    missing = {k: v for k, v in m.items() if k != "content_sha256"}
    assert not validator.is_valid(missing)


def test_files_match_manifest_and_read_with_pyarrow_and_polars(snapshot):
    m = manifest_of(snapshot["v1"])
    for entry in m["files"]:
        path = snapshot["v1"] / entry["path"]
        data = path.read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        with pa.ipc.open_file(path) as reader:
            table = reader.read_all()
            assert reader.num_record_batches == -(-entry["rows"] // m["config"]["batch_rows"])
        assert table.num_rows == entry["rows"]
        assert [(f.name, f.type, f.nullable) for f in table.schema] == [
            (c["name"], ARROW_TYPES[c["type"]], c["nullable"]) for c in m["schema"]]
        # Self-describing without the repository: each column's kind, and which feature set
        # made the file (a file copied out of its version folder).
        spec = json.loads((ROOT / "Schemas" / "features" / "props_v1.json").read_text())
        assert {f.name: f.metadata[b"kind"].decode() for f in table.schema} == {
            c["name"]: c["kind"] for c in spec["columns"]}
        assert table.schema.metadata == {
            b"feature_set": m["feature_set"]["name"].encode(), b"feature_set_version": m["feature_set"]["version"].encode(),
            b"feature_set_sha256": m["feature_set"]["sha256"].encode()}
        frame = pl.read_ipc(path)
        assert frame.height == entry["rows"]
        # Statistics recomputed by polars from the file agree with the manifest.
        for c in m["schema"]:
            s = m["stats"][c["name"]]
            col = frame[c["name"]]
            assert col.null_count() == s["null_count"], c["name"]
            if c["type"] == "float64":
                finite = col.drop_nulls()
                if finite.len() == 0:
                    assert (s["min"], s["mean"], s["histogram"]) == (None, None, None), c["name"]
                    continue
                assert finite.min() == s["min"] and finite.max() == s["max"], c["name"]
                assert finite.mean() == pytest.approx(s["mean"], rel=1e-12, abs=1e-12), c["name"]
                assert finite.std(ddof=0) == pytest.approx(s["std"], rel=1e-9, abs=1e-12), c["name"]
                assert sum(s["histogram"]["counts"]) == finite.len(), c["name"]
            if c["type"] == "utf8":
                assert col.drop_nulls().n_unique() == s["distinct_count"], c["name"]


def test_second_build_of_same_inputs_publishes_nothing(snapshot):
    before = {p.name: p.read_bytes() for p in snapshot["v1"].iterdir()}
    again = build(snapshot["db"], snapshot["out"])
    m = manifest_of(snapshot["v1"])
    assert again.stdout.splitlines()[0] == (
        f"nothing changed: the content equals props/v1 ({m['row_count']} rows); no new version written")
    assert again.stdout.splitlines()[-1] == f"snapshot: {snapshot['v1']}"
    assert sorted(p.name for p in (snapshot["out"] / "props").iterdir()) == [".last-version", ".lock", "v1"]
    assert {p.name: p.read_bytes() for p in snapshot["v1"].iterdir()} == before


def test_build_prints_version_rows_files_gates_and_place(snapshot):
    m = manifest_of(snapshot["v1"])
    f = m["files"][0]
    lines = snapshot["first"].stdout.splitlines()
    assert lines[0] == f"built props/v1: {m['row_count']} rows in 1 file"
    assert lines[1] == f"  2022-23.arrow  {f['rows']} rows  {f['bytes']} bytes  sha256 {f['sha256'][:12]}…"
    assert re.fullmatch(r"gates: \d+ pass(, \d+ warn)?", lines[2])
    assert lines[3] == f"snapshot: {snapshot['v1']}"


def test_timings_name_every_phase_and_the_process_costs_only_when_asked(snapshot, tmp_path):
    """`DATASET_TIMINGS=1` is what an operator reads when a build is slow: every phase's wall
    time and its thread's CPU time (the threads outnumber the cores, so wall time alone
    overstates a phase that waited for a core), the writer threads' CPU, then the process's
    CPU, peak memory and page faults. Without it, stderr is silent."""
    env = {**os.environ, "DATASET_TIMINGS": "1"}
    out = tmp_path / "Datasets"
    proc = subprocess.run([dataset_bin(), "build", "--quiet", "--db", str(snapshot["db"]), "--season", "2022-23",
                           "--out", str(out), "--dataset", "props"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.startswith("timing: ")]
    phases = [re.match(r"timing: (\S.*?)\s{2,}", l).group(1) for l in lines if " ms  (total " in l]
    assert phases == ["options, feature set", "read source", "index inputs, draw sample", "seasons: features, queue",
                      "wait for point-in-time check", "wait for gates, fingerprint", "finish writes, publish"]
    for line in lines:
        if " ms  (total " in line:
            assert re.search(r" [\d.]+ ms  cpu +[\d.]+ ms  \(total [\d.]+ ms\)$", line), line
    cpu_only = {re.match(r"timing: +(\S.*?)\s{2,}", l).group(1): float(re.search(r"cpu +([\d.]+) ms$", l).group(1))
                for l in lines if re.search(r"\(writer threads\)|\(other core\)|\(checker\)|  features", l)}
    assert set(cpu_only) == {"features", "(checker) point-in-time check", "(other core) gates",
                             "(other core) fingerprint", "(writer threads) statistics", "(writer threads) encode, write"}
    assert all(v > 0 for v in cpu_only.values()), cpu_only
    process = lines[-1]
    m = re.fullmatch(r"timing: process: ([\d.]+) ms user \+ ([\d.]+) ms system \(([\d.]+) cores busy\), "
                     r"peak RSS (\d+) MiB, (\d+) page faults \((\d+) from disk\)", process)
    assert m, process
    assert float(m.group(1)) > 0 and int(m.group(4)) > 0 and int(m.group(5)) > 0
    quiet = build(snapshot["db"], tmp_path / "Quiet")
    assert quiet.stderr == ""


def test_database_digest_is_remembered_only_for_an_unchanged_settled_file(sample_db, tmp_path):
    """The manifest's SHA-256 of the database file is remembered between builds (Datasets/.cache)
    while the file is provably unchanged, and is always the file's true digest: a file changed
    less than 3 s before the build is hashed and not remembered, a settled one is remembered,
    `--rehash-source` hashes it again, and a write that keeps size, content and modification
    time still makes the next build hash it."""
    db = tmp_path / "league.sqlite"
    shutil.copyfile(sample_db, db)
    out = tmp_path / "Datasets"
    env = {**os.environ, "DATASET_TIMINGS": "1"}

    def build_once(name, *extra):
        proc = subprocess.run([dataset_bin(), "build", "--quiet", "--db", str(db), "--season", "2022-23",
                               "--out", str(out), "--dataset", name, *extra], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        said = [l for l in proc.stderr.splitlines() if "database SHA-256" in l]
        manifest = json.loads((out / name / "v1" / "manifest.json").read_text())
        assert manifest["source"]["sha256"] == hashlib.sha256(db.read_bytes()).hexdigest()
        return said[0].split("database SHA-256 ")[1].split(" ")[0]

    assert build_once("fresh") == "computed"
    assert not (out / ".cache" / "source-sha256.json").exists()
    time.sleep(3.2)
    assert build_once("settled") == "computed"
    assert (out / ".cache" / "source-sha256.json").exists()
    assert build_once("again") == "remembered"
    assert build_once("forced", "--rehash-source") == "computed"
    assert run("list", "--out", out).stdout.count("\n") == 5  # header and four datasets, no ".cache"
    before = os.stat(db)
    with open(db, "r+b") as f:  # a byte written over with itself: same size and content
        old = f.read(1)
        f.seek(0)
        f.write(old)
    os.utime(db, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(db).st_mtime_ns == before.st_mtime_ns and os.stat(db).st_ctime_ns != before.st_ctime_ns
    assert build_once("edited") == "computed"


def test_verify_ok_then_each_corruption_named(snapshot, tmp_path):
    ok = run("verify", snapshot["out"])
    assert ok.stdout == "ok: 1 version verified\n"
    copy = tmp_path / "Datasets" / "props" / "v1"
    shutil.copytree(snapshot["v1"], copy)
    data = bytearray((copy / "2022-23.arrow").read_bytes())
    old = hashlib.sha256(data).hexdigest()
    data[len(data) // 2] ^= 0x40
    (copy / "2022-23.arrow").write_bytes(bytes(data))
    new = hashlib.sha256(data).hexdigest()
    bad = run("verify", copy, check=False)
    assert bad.returncode == 2
    lines = bad.stdout.splitlines()
    assert lines[0] == f"{copy}/2022-23.arrow: sha256 is {new[:12]}… but the manifest says {old[:12]}…"
    assert bad.stderr == f"verify: {len(lines)} problem{'s' if len(lines) > 1 else ''} in 1 version\n"
    as_json = json.loads(run("verify", copy, "--json", check=False).stdout)
    assert as_json == {"ok": False, "checked": [str(copy)], "failed": [str(copy)], "problems": lines, "notes": []}
    (copy / "manifest.json").write_text("{ not json")
    bad = run("verify", copy / "manifest.json", check=False)
    assert bad.returncode == 2
    assert bad.stdout.startswith(f"{copy}/manifest.json: not valid JSON (")


def test_verify_holds_each_columns_meaning_to_the_files(snapshot, tmp_path):
    """A review edited a column's meaning in the manifest, which verify never compared; the
    Arrow fields carry it too. The dataset's name is not held to its folder's: a copied or
    symlinked dataset folder, or `verify .`, is no damage."""
    root = tmp_path / "Datasets"
    version = root / "props" / "v1"
    shutil.copytree(snapshot["v1"], version)
    (tmp_path / "train").symlink_to(root / "props")
    for target in (tmp_path / "train", root / "props" / "."):
        assert run("verify", target).returncode == 0
    manifest = json.loads((version / "manifest.json").read_text())
    column = manifest["schema"][10]
    stated = column["meaning"]
    column["meaning"] = "edited by hand"
    (version / "manifest.json").write_text(json.dumps(manifest, indent=2))
    for target in (root, root / "props", version):
        bad = run("verify", target, check=False)
        assert bad.returncode == 2
        assert bad.stdout.splitlines() == [
            f"{version}/2022-23.arrow: column {column['name']} means \"{stated}\" in the file "
            f"but the manifest's schema says \"edited by hand\"",
        ]


def test_a_hand_edited_latest_manifest_is_published_again(snapshot, tmp_path):
    """'Nothing changed' must not point at a latest version whose manifest verify fails: a
    review set row_count to 1, then a mean, and the build said nothing changed both times."""
    out = tmp_path / "Datasets"
    shutil.copytree(snapshot["out"], out)
    path = out / "props" / "v1" / "manifest.json"
    m = json.loads(path.read_text())
    rows = m["row_count"]
    m["row_count"] = 1
    path.write_text(json.dumps(m, indent=2))
    again = build(snapshot["db"], out)
    assert again.stderr == (
        f"note: the content equals props/v1, but that version is damaged (manifest.json: row_count is 1 "
        f"but its files' rows add up to {rows}); publishing it again as a new version\n")
    assert again.stdout.startswith("built props/v2:")
    path = out / "props" / "v2" / "manifest.json"
    m = json.loads(path.read_text())
    m["stats"]["points_avg_last_10"]["mean"] += 1
    path.write_text(json.dumps(m, indent=2))
    assert "its manifest's stats of column points_avg_last_10 differ from its files" in build(snapshot["db"], out).stderr
    # What verify says of the manifest alone counts too (a second review: a meaning, a gate's
    # status, built_with_overrides), and a meaning the files do not carry.
    edits = [
        ("gates", lambda m: m["gates"][0].__setitem__("status", "fail"), "props/v3", "props/v4"),
        ("built_with_overrides", lambda m: m.__setitem__("built_with_overrides", True), "props/v4", "props/v5"),
        ("meaning", lambda m: m["schema"][5].__setitem__("meaning", "edited by hand"), "props/v5", "props/v6"),
    ]
    for name, edit, latest, republished in edits:
        path = out / latest / "manifest.json"
        m = json.loads(path.read_text())
        edit(m)
        path.write_text(json.dumps(m, indent=2))
        assert run("verify", out / latest, check=False).returncode == 2, name
        again = build(snapshot["db"], out)
        assert again.stderr.startswith(f"note: the content equals {latest}, but that version is damaged ("), name
        assert again.stdout.startswith(f"built {republished}:"), name
    # A file the manifest does not list fails verify too (a third review).
    (out / "props" / "v6" / "notes.txt").write_text("x")
    stray = build(snapshot["db"], out)
    assert "(notes.txt is not listed in the manifest)" in stray.stderr
    assert stray.stdout.startswith("built props/v7:")
    unchanged = build(snapshot["db"], out)
    assert unchanged.stdout.startswith("nothing changed: the content equals props/v7")
    assert run("verify", out / "props" / "v7").returncode == 0


def test_diff_of_a_build_with_itself_reports_no_drift(snapshot):
    out = run("diff", "props/v1", "props/v1", "--out", snapshot["out"])
    assert out.stdout.splitlines()[-1] == (
        "no drift: no column past PSI 0.2, |mean shift| 0.5 sd or null share 5.0 points")
    report = json.loads(run("diff", "props/v1", snapshot["v1"], "--out", snapshot["out"], "--json").stdout)
    assert report["added_columns"] == [] and report["removed_columns"] == [] and report["type_changes"] == []
    assert all(c["flags"] == [] for c in report["columns"])
    assert all(c["psi"] in (None, 0) and c["mean_shift_sd"] in (None, 0) for c in report["columns"])
    # One folder spelt two ways keeps its name; two roots with the same dataset/version are told
    # apart by their folders (a review read "diff props/v1 → props/v1" for two different ones).
    same = run("diff", "props/v1", f"{snapshot['v1']}/", "--out", snapshot["out"]).stdout.splitlines()
    assert same[0] == "diff props/v1 → props/v1"
    assert same[2] == "files: the season both hold is byte-identical"
    assert report["changed_seasons"] == []


def test_diff_of_two_roots_names_their_folders(snapshot, tmp_path):
    other = tmp_path / "Other" / "props" / "v1"
    shutil.copytree(snapshot["v1"], other)
    head = run("diff", snapshot["v1"], other).stdout.splitlines()[0]
    assert head == f"diff {snapshot['v1']} → {other}"


def test_references_in_the_forms_a_review_tried(snapshot, tmp_path):
    """A dataset folder as a path, links by any name, repeated trailing slashes, and verify by
    dataset/version: each was refused or mislabelled before session 18."""
    root = tmp_path / "D"
    shutil.copytree(snapshot["v1"], root / "props" / "v1")
    (root / "props" / "v2").mkdir()  # made by hand, no manifest: not a version to compare with
    (tmp_path / "latest").symlink_to(root / "props" / "v1")
    (tmp_path / "pinned.json").symlink_to(root / "props" / "v1" / "manifest.json")
    for ref in (str(root / "props"), str(tmp_path / "latest"), str(tmp_path / "pinned.json"), "props/v1//", "props"):
        first = run("diff", ref, "props/v1", "--out", root).stdout.splitlines()[0]
        assert first == "diff props/v1 → props/v1", (ref, first)
    assert run("verify", "props/v1", "--out", root).stdout == "ok: 1 version verified\n"
    assert run("verify", "props", "--out", root).stdout == "ok: 1 version verified\n"
    missing = run("verify", "props/v9", "--out", root, check=False)
    assert missing.returncode == 2 and "props/v9" in missing.stdout
    # A manifest that is not JSON: diff says where, as verify does.
    broken = tmp_path / "broken" / "props" / "v1"
    shutil.copytree(snapshot["v1"], broken)
    (broken / "manifest.json").write_text('{"dataset": "props",\n  "format": 1,,\n}')
    refused = run("diff", broken, "props/v1", "--out", root, check=False)
    assert refused.returncode == 3 and "not valid JSON (line 2" in refused.stderr, refused.stderr


def test_list_and_show(snapshot):
    m = manifest_of(snapshot["v1"])
    listed = json.loads(run("list", "--out", snapshot["out"], "--json").stdout)
    assert listed == [{"dataset": "props", "version": "v1", "created_at": m["created_at"], "rows": m["row_count"],
                       "files": 1, "seasons": ["2022-23"], "gates": listed[0]["gates"],
                       "gate_counts": {s: sum(g["status"] == s for g in m["gates"]) for s in ("pass", "warn", "fail")}
                       | {"overridden": 0},
                       "overrides": [], "parent_version": None, "content_sha256": m["content_sha256"],
                       "feature_set": m["feature_set"], "error": None}]
    assert listed[0]["gates"] == f'{listed[0]["gate_counts"]["pass"]} pass, {listed[0]["gate_counts"]["warn"]} warn'

    text = run("list", "--out", snapshot["out"]).stdout.splitlines()
    assert text[0].split() == ["dataset", "version", "created", "(UTC)", "rows", "files", "seasons", "gates", "overrides"]
    assert text[1].split()[:4] == ["props", "v1", m["created_at"], str(m["row_count"])]
    shown = run("show", "props", "--out", snapshot["out"], "--json").stdout
    assert shown == (snapshot["v1"] / "manifest.json").read_text()
    readable = run("show", "props/v1", "--out", snapshot["out"]).stdout
    assert readable.splitlines()[0] == f"props/v1  ({snapshot['out']}/props/v1)"
    # date32 columns show min and max as dates, the same as the file's own min and max.
    dates = pl.read_ipc(snapshot["v1"] / "2022-23.arrow")["game_date"]
    game_date = next(l.split() for l in readable.splitlines() if l.split()[:1] == ["game_date"])
    assert game_date[4:6] == [str(dates.min()), str(dates.max())]
    a_file = run("list", "--out", snapshot["v1"] / "manifest.json", check=False)
    assert a_file.returncode == 3
    assert a_file.stderr == (f"error: --out {snapshot['v1'] / 'manifest.json'}: is a file, not a folder "
                             "(the root of the snapshots, Datasets by default)\n")
    relative = run("show", "no/such/v1", check=False)  # a relative path, like an absolute one
    assert relative.returncode == 3
    assert relative.stderr == ("error: no/such/v1: no manifest.json there; expected a version folder, "
                               "its manifest.json, dataset/version or dataset name\n")
    missing = run("show", "props/v9", "--out", snapshot["out"], check=False)
    assert missing.returncode == 3
    assert missing.stderr == f"error: {snapshot['out']}/props/v9: no such snapshot version (versions: v1)\n"


def test_output_that_cannot_be_written_is_not_exit_0(snapshot, sample_db, tmp_path):
    """A scheduler saving `--json` to a full disk got exit 0 and a cut-off file. /dev/full
    refuses every write with ENOSPC, as a full disk does."""
    commands = [
        ("show", "props/v1", "--out", snapshot["out"], "--json"),
        ("list", "--out", snapshot["out"]),
        ("verify", snapshot["out"]),
        ("validate", "--db", sample_db, "--season", "2022-23", "--json"),
        ("--help",),
    ]
    for args in commands:
        with open("/dev/full", "w") as full:
            proc = subprocess.run([dataset_bin(), *map(str, args)], stdout=full, stderr=subprocess.PIPE, text=True)
        assert proc.returncode == 3, (args, proc.returncode, proc.stderr)
        assert proc.stderr.endswith("error: writing to standard output failed: No space left on device (errno 28); "
                                    "what it printed is incomplete\n"), (args, proc.stderr)
    # A build whose report is lost still says what it published: exit 3 alone would hide it.
    out = tmp_path / "Datasets"
    with open("/dev/full", "w") as full:
        proc = subprocess.run([dataset_bin(), "build", "--db", str(sample_db), "--season", "2022-23", "--out", str(out),
                               "--dataset", "props", "--json"], stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.endswith("what it printed is incomplete; the build itself succeeded and published "
                                f"props/v1 ({out}/props/v1)\n"), proc.stderr
    assert run("verify", out / "props").returncode == 0
    # A command that fails on its own keeps its exit code (verify of a folder without versions: 2).
    with open("/dev/full", "w") as full:
        proc = subprocess.run([dataset_bin(), "verify", str(tmp_path / "none")], stdout=full, stderr=subprocess.PIPE,
                              text=True)
    assert proc.returncode == 2, proc.stderr


def test_a_non_blocking_pipe_gets_the_whole_output(snapshot):
    """Some process managers hand their children non-blocking pipes: a write into a full one
    fails with EAGAIN. The manifest (80 KB, past the 64 KiB a pipe holds) was cut at 64 KiB."""
    import fcntl
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
    proc = subprocess.Popen([dataset_bin(), "show", "props/v1", "--out", str(snapshot["out"]), "--json"],
                            stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    time.sleep(0.3)  # let the pipe fill before anyone reads
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    assert proc.wait() == 0, proc.stderr.read()
    assert len(data) > 65536 and data == (snapshot["v1"] / "manifest.json").read_bytes()


def test_a_folder_another_user_may_not_read_is_not_called_missing(snapshot):
    """A review ran list, show and verify as a user who may not read a version or dataset
    folder: they said "missing", "no such manifest" and "no snapshots", which sends the on-call
    engineer looking for deleted files. Needs root (to act as nobody) or a non-root user."""
    import tempfile
    as_other = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot act as a user without permissions")
        as_other = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    top = pathlib.Path(tempfile.mkdtemp(prefix="perm-", dir="/tmp"))
    try:
        top.chmod(0o755)
        out = top / "Datasets"
        shutil.copytree(snapshot["out"], out)
        for p in [out, *out.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)

        def other(*args):
            return subprocess.run([*as_other, dataset_bin(), *map(str, args)], capture_output=True, text=True)

        if other("--help").returncode != 0:
            pytest.skip("the dataset binary is not executable by user nobody here")
        version = out / "props" / "v1"
        version.chmod(0o700)
        verify = other("verify", out / "props")
        assert verify.returncode == 2
        assert verify.stdout == f"{version}/manifest.json: cannot be read (permission denied)\n", verify
        show = other("show", "props/v1", "--out", out)
        assert show.returncode == 3
        assert show.stderr == f"error: {version}/manifest.json: cannot read manifest: permission denied\n", show
        version.chmod(0o755)
        (out / "props").chmod(0o711)  # may enter, may not list
        listed = other("list", "--out", out)
        assert listed.returncode == 0
        assert listed.stderr == f"note: {out}/props: cannot be read (permission denied); versions in it are not listed\n"
        verify = other("verify", out / "props")
        assert verify.returncode == 2
        assert verify.stdout == f"{out}/props: cannot be read (permission denied): its versions, if any, are not checked\n"
        show = other("show", "props", "--out", out)
        assert show.returncode == 3 and show.stderr == f"error: {out}/props: cannot be read (permission denied)\n", show
        out.chmod(0o700)
        (out / "props").chmod(0o755)
        root = other("list", "--out", out)
        assert root.returncode == 3 and root.stderr == f"error: --out {out}: cannot be read (permission denied)\n", root
        inner = other("list", "--out", out / "props")
        assert inner.returncode == 3, inner
        assert inner.stderr == f"error: --out {out}/props: cannot be reached (permission denied on a folder above it)\n"
        show = other("show", "props/v1", "--out", out)
        assert show.returncode == 3 and show.stderr == f"error: {out}: cannot be read (permission denied)\n", show
    finally:
        for p in [top, *top.rglob("*")]:
            try:
                p.chmod(0o755 if p.is_dir() else 0o644)
            except OSError:
                pass
        shutil.rmtree(top, ignore_errors=True)


def snapshot_entries(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_sigkill_at_random_points_never_leaves_a_partial_version(snapshot, tmp_path):
    out = tmp_path / "Datasets"
    args = [dataset_bin(), "build", "--db", str(snapshot["db"]), "--season", "2022-23", "--out", str(out),
            "--dataset", "props"]
    # How long one build takes here sets the range of kill times.
    duration = snapshot["seconds"]
    rng = random.Random(20231024)
    delays = sorted(rng.uniform(0.05, duration * 1.05) for _ in range(3))
    for delay in delays:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        entries = snapshot_entries(out / "props")
        # Only whole versions, temporary folders and the lock file may exist.
        assert all(re.fullmatch(r"v[1-9][0-9]*|\.tmp-\d+-[0-9a-f]+|\.lock|\.last-version", e) for e in entries), (delay, entries)
        if any(e.startswith("v") for e in entries):
            assert run("verify", out / "props", check=False).returncode == 0, (delay, entries)
    final = run(*args[1:])
    assert final.stdout.startswith(("built props/v1:", "nothing changed: the content equals props/v1"))
    # Every killed build had the same content, so there is exactly one version and no leftovers
    # (the record of the last version published is written right after the rename, so a kill
    # between the two leaves none until the next publish).
    assert snapshot_entries(out / "props") in ([".lock", "v1"], [".last-version", ".lock", "v1"])
    assert run("verify", out / "props").stdout == "ok: 1 version verified\n"


def test_sigint_sigterm_and_sighup_remove_the_temporary_folder_and_say_so(snapshot, tmp_path):
    """A review interrupted a 75-season build: exit 130/143 with nothing printed and a
    327 MB temporary folder left until the next build. Now the folder goes and stderr says what
    happened; a build interrupted after its publish names the version."""
    out = tmp_path / "Datasets"
    args = [dataset_bin(), "build", "--db", str(snapshot["db"]), "--season", "2022-23", "--out", str(out),
            "--dataset", "props", "--quiet"]
    duration = snapshot["seconds"]
    rng = random.Random(7)
    outcomes = set()
    for number, name in [(signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP")] * 2:
        shutil.rmtree(out, ignore_errors=True)
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.03, duration * 0.9))
        proc.send_signal(number)
        _, err = proc.communicate()
        entries = snapshot_entries(out / "props")
        assert not any(e.startswith(".tmp-") for e in entries), (name, entries, err)
        if proc.returncode == 128 + number:
            outcomes.add("interrupted")
            if "v1" in entries:
                assert err == f"interrupted by {name}: after publishing {out}/props/v1\n", err
            else:
                assert err.startswith(f"interrupted by {name}: nothing was published"), err
        else:
            outcomes.add("finished")
            assert proc.returncode == 0 and entries == [".last-version", ".lock", "v1"], (proc.returncode, entries, err)
        if "v1" in entries:
            assert run("verify", out / "props").returncode == 0
    assert "interrupted" in outcomes


def test_a_signal_ignored_at_start_stays_ignored(snapshot, tmp_path):
    """A shell's `build &` starts with SIGINT ignored; the convention (and the tool before
    session 14) is to leave it so. A review found the new handler stopping such builds."""
    out = tmp_path / "Datasets"
    proc = subprocess.Popen([dataset_bin(), "build", "--db", str(snapshot["db"]), "--season", "2022-23", "--out",
                             str(out), "--dataset", "props", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    time.sleep(snapshot["seconds"] * 0.3)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert snapshot_entries(out / "props") == [".last-version", ".lock", "v1"]


def test_list_of_an_unreadable_manifest_says_null_not_no_seasons(snapshot, tmp_path):
    out = tmp_path / "Datasets"
    shutil.copytree(snapshot["v1"], out / "props" / "v1")
    (out / "props" / "v1" / "manifest.json").write_text('{"trunc')
    listed = json.loads(run("list", "--out", out, "--json").stdout)
    assert listed[0]["seasons"] is None and listed[0]["rows"] is None and listed[0]["error"]


def test_two_concurrent_builds_of_one_dataset_end_consistent(snapshot, tmp_path):
    out = tmp_path / "Datasets"
    procs = [subprocess.Popen([dataset_bin(), "build", "--db", str(snapshot["db"]), "--season", "2022-23", "--out",
                               str(out), "--dataset", "props", "--point-in-time-seed", str(seed)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    results = [p.communicate() + (p.returncode,) for p in procs]
    assert [r[2] for r in results] == [0, 0], results
    published = sorted(re.match(r"built props/(v\d+):", r[0]).group(1) for r in results)
    assert published == ["v1", "v2"]
    for _, err, _ in results:
        # A build slower than the progress interval (a loaded machine, a debug binary) also
        # writes plain progress lines; only the wait notice may appear besides them.
        err = "".join(line for line in err.splitlines(keepends=True) if not line.startswith("build props: "))
        assert err == "" or re.fullmatch(r"another build of props is running \(pid \d+\); waiting up to 600 s…\n", err)
    assert snapshot_entries(out / "props") == [".last-version", ".lock", "v1", "v2"]
    assert manifest_of(out / "props" / "v2")["parent_version"] == "v1"
    assert run("verify", out).stdout == "ok: 2 versions verified\n"


@pytest.mark.skipif(not (REALDATA / "player_logs_2021-22.csv").exists(), reason="real data not present")
def test_real_2021_22_vs_2022_23_drift_is_sensible(tmp_path):
    db = tmp_path / "league.sqlite"
    run("import", "--db", db, REALDATA / "player_logs_2021-22.csv", REALDATA / "player_logs_2022-23.csv", "--quiet")
    out = tmp_path / "Datasets"
    for season in ("2021-22", "2022-23"):
        run("build", "--db", db, "--season", season, "--out", out, "--dataset", f"props_{season}")
    report = json.loads(run("diff", "props_2021-22/v1", "props_2022-23/v1", "--out", out, "--json").stdout)
    assert report["added_columns"] == [] and report["removed_columns"] == [] and report["type_changes"] == []
    assert 20000 < report["rows_a"] < 30000 and 20000 < report["rows_b"] < 30000
    assert report["seasons_a"] == ["2021-22"] and report["seasons_b"] == ["2022-23"]
    text = run("diff", "props_2021-22/v1", "props_2022-23/v1", "--out", out).stdout
    assert "seasons: 2021-22 → 2022-23\n" in text
    flagged = {c["name"]: c["flags"] for c in report["columns"] if c["flags"]}
    # The calendar moves a year: dates and the season column drift completely...
    assert flagged.pop("game_date") == ["psi", "mean_shift"]
    assert flagged.pop("season_year") == ["psi", "mean_shift"]
    # ...while the basketball of two adjacent seasons does not.
    assert flagged == {}
    by_name = {c["name"]: c for c in report["columns"]}
    assert by_name["season_year"]["mean_shift_sd"] == "inf"
    assert abs(by_name["points_avg_season"]["mean_shift_sd"]) < 0.5
    assert by_name["label_points"]["psi"] < 0.1
    assert report["drift"] is True

    # For CI: --fail-on-drift exits 2 on drift after printing the report; the calendar's two
    # columns left out with --ignore, two adjacent seasons are no drift.
    failed = run("diff", "props_2021-22/v1", "props_2022-23/v1", "--out", out, "--fail-on-drift", check=False)
    assert failed.returncode == 2, failed.stderr
    assert failed.stdout.splitlines()[-1].startswith("drift: 2 of ")
    calm = run("diff", "props_2021-22/v1", "props_2022-23/v1", "--out", out, "--ignore", "game_date",
               "--ignore", "season_year", "--fail-on-drift", "--json")
    calm_report = json.loads(calm.stdout)
    assert calm_report["drift"] is False and calm_report["ignored_columns"] == ["game_date", "season_year"]
    typo = run("diff", "props_2021-22/v1", "props_2022-23/v1", "--out", out, "--ignore", "gmae_date", check=False)
    assert typo.returncode == 1 and "--ignore gmae_date: no such column" in typo.stderr

    # A review's two cases on the real 2022-23 season: one PCF row missing made the always-1
    # has_composite_factors "-inf sd" (flagged whatever the threshold); a week of games deleted
    # moved no column past a threshold and read "no drift".
    import sqlite3
    one_row = tmp_path / "one_pcf_row.sqlite"
    shutil.copy(db, one_row)
    with sqlite3.connect(one_row) as conn:
        conn.execute("DELETE FROM player_composite_factors WHERE rowid = (SELECT min(rowid) FROM "
                     "player_composite_factors WHERE game_date = '2023-02-01')")
    run("build", "--db", one_row, "--season", "2022-23", "--out", out, "--dataset", "props_2022-23", "--quiet")
    small = json.loads(run("diff", "props_2022-23/v1", "props_2022-23/v2", "--out", out, "--json").stdout)
    hcf = {c["name"]: c for c in small["columns"]}["has_composite_factors"]
    assert hcf["flags"] == [] and abs(hcf["mean_shift_sd"]) < 0.05, hcf
    assert small["drift"] is False and small["season_rows_fell"] == []
    week = tmp_path / "week_gone.sqlite"
    shutil.copy(db, week)
    with sqlite3.connect(week) as conn:
        for table in ("player_game_summary", "player_composite_factors"):
            conn.execute(f"DELETE FROM {table} WHERE game_date BETWEEN '2023-01-09' AND '2023-01-15'")
    run("build", "--db", week, "--season", "2022-23", "--out", out, "--dataset", "props_2022-23", "--quiet")
    lost = json.loads(run("diff", "props_2022-23/v1", "props_2022-23/v3", "--out", out, "--json").stdout)
    [fell] = lost["season_rows_fell"]
    assert fell["season"] == "2022-23" and fell["rows_b"] < fell["rows_a"] == report["rows_b"]
    assert lost["drift"] is True
    assert "rows fell in season 2022-23" in run("diff", "props_2022-23/v1", "props_2022-23/v3", "--out", out).stdout


def test_failing_gate_refuses_with_report_and_writes_nothing_until_overridden(snapshot, tmp_path):
    import sqlite3
    db = tmp_path / "gappy.sqlite"
    shutil.copy(snapshot["db"], db)
    with sqlite3.connect(db) as conn:
        conn.execute("""DELETE FROM player_composite_factors WHERE game_date IN (
            SELECT DISTINCT game_date FROM player_composite_factors ORDER BY game_date LIMIT 40)""")
    out = tmp_path / "Datasets"
    refused = build(db, out, check=False)
    assert refused.returncode == 2
    m = re.fullmatch(r"build: \d+ gates? failed \(([a-z_, ]+)\): refusing; nothing was written\n", refused.stderr)
    assert m, refused.stderr
    failed = m.group(1).split(", ")
    assert "pcf_date_coverage" in failed
    table = refused.stdout.splitlines()
    assert any(line.startswith("FAIL") and " pcf_date_coverage " in line for line in table)
    assert not out.exists()
    overrides = [a for g in failed for a in ("--override", g, "--reason", f"test: {g} gap is known")]
    # An override of a gate that passes is not needed: said, and not written down.
    built = build(db, out, *overrides, "--override", "duplicate_keys", "--reason", "standing override")
    assert built.stdout.startswith("built props/v1:")
    assert "note: --override duplicate_keys was not needed (the gate did not fail); it is not recorded" in built.stderr
    manifest = manifest_of(out / "props" / "v1")
    assert manifest["built_with_overrides"] is True
    assert manifest["config"]["overrides"] == [{"gate": g, "reason": f"test: {g} gap is known"} for g in failed]
    assert [g["override"] for g in manifest["gates"] if g["name"] in failed] == [
        f"test: {g} gap is known" for g in failed]
    jsonschema.Draft202012Validator(SCHEMA).validate(manifest)
    # The same standing override on a clean export: nothing overridden, nothing marked.
    clean = build(snapshot["db"], tmp_path / "Clean", "--override", "duplicate_keys", "--reason", "standing override")
    assert "it is not recorded" in clean.stderr
    clean_manifest = manifest_of(tmp_path / "Clean" / "props" / "v1")
    assert clean_manifest["built_with_overrides"] is False
    assert clean_manifest["config"]["overrides"] == []


def test_readme_python_snippet_runs_as_written(sample_db, tmp_path):
    """The README's "Reading a snapshot from Python" block, run verbatim where a user runs it:
    beside Datasets/ and Schemas/ (session 12: a review ran it by hand; now CI does)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Reading a snapshot from Python", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    run("build", "--quiet", "--db", sample_db, "--season", "2022-23", "--out", tmp_path / "Datasets")
    (tmp_path / "Schemas").symlink_to(ROOT / "Schemas")
    check = snippet + (
        "\nassert df.height == table.num_rows == manifest['row_count']"
        "\nassert len(features) > 40 and labels and set(features + labels) <= set(df.columns)"
        "\nassert recent.height == dataset.count_rows() == manifest['row_count']"  # 2022-23 is after 2020
    )
    proc = subprocess.run([os.sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def _readme_block_after(marker: str) -> list[str]:
    """The lines after `marker` (which ends with a whole line: output or a `$ …` command) in its
    fenced README block, up to the end of the block or the next `$ ` command."""
    text = (ROOT / "README.md").read_text()
    assert marker in text, f"README no longer shows {marker!r}"
    lines = []
    for line in text.split(marker, 1)[1].split("```", 1)[0].splitlines()[1:]:
        if line.startswith("$ "):
            break
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines


@pytest.mark.skipif(not (REALDATA / "player_logs_2021-22.csv").exists(), reason="real data not present")
def test_readme_build_and_diff_transcripts_are_what_the_tool_prints(tmp_path):
    """A user compares their first build with the README: its file size, SHA-256 and drift
    figures must be today's (session 13: a review found them two changes old). Lines with "…"
    stand for lines left out and are skipped; every other line must appear, in order."""
    run("import", "--db", tmp_path / "league.sqlite", SAMPLE, "--quiet")
    run("import", "--db", tmp_path / "s2122.sqlite", REALDATA / "player_logs_2021-22.csv", "--quiet")
    first = run("build", "--db", "league.sqlite", "--season", "2022-23", cwd=tmp_path).stdout.splitlines()
    head = "built props_v1/v1: 23571 rows in 1 file"
    assert [head] + _readme_block_after("```\n" + head) == first
    again = run("build", "--db", "league.sqlite", "--season", "2022-23", cwd=tmp_path).stdout.splitlines()
    assert _readme_block_after("$ dataset build --db league.sqlite --season 2022-23      # again, same inputs") == again
    run("build", "--db", "s2122.sqlite", "--season", "2021-22", "--dataset", "s2122", "--quiet", cwd=tmp_path)
    diff = run("diff", "s2122/v1", "props_v1/v1", cwd=tmp_path).stdout.splitlines()
    shown = [line for line in _readme_block_after("$ dataset diff s2122/v1 props_v1/v1") if "…" not in line]
    assert len(shown) > 5
    it = iter(diff)
    missing = [line for line in shown if not any(line == d for d in it)]
    assert missing == [], f"README diff lines not printed (in order) by the tool: {missing}\n" + "\n".join(diff)


def test_build_after_an_interrupted_write_rolls_back_and_builds(sample_db, tmp_path):
    """A writer killed mid-transaction leaves a hot journal; the build's own connection rolls
    it back. The build used to hash the file before that rollback and then refuse, blaming
    "a writer" (session 13 review); it now lets the rollback happen first."""
    import sqlite3
    db = tmp_path / "hot.sqlite"
    shutil.copy(sample_db, db)
    killed = subprocess.run([os.sys.executable, "-c", (
        "import sqlite3, os\n"
        f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
        "c.execute('PRAGMA cache_size=5')\n"
        "c.execute('BEGIN')\n"
        "c.execute('UPDATE player_game_summary SET points = points + 1')\n"
        "os._exit(0)\n")])
    assert killed.returncode == 0
    assert (tmp_path / "hot.sqlite-journal").stat().st_size > 0
    built = run("build", "--db", db, "--season", "2022-23", "--out", tmp_path / "Datasets", "--quiet", check=False)
    assert built.returncode == 0, built.stderr
    reference = run("build", "--db", sample_db, "--season", "2022-23", "--out", tmp_path / "Reference", "--quiet")
    assert reference.returncode == 0
    ours = manifest_of(tmp_path / "Datasets" / "props_v1" / "v1")
    theirs = manifest_of(tmp_path / "Reference" / "props_v1" / "v1")
    assert [f["sha256"] for f in ours["files"]] == [f["sha256"] for f in theirs["files"]]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_feature_set_is_never_edited_in_place(sample_db, tmp_path):
    """features-props-v1.md: "changing a definition means a new feature-set version, never an
    edit in place". A review (session 13) edited a window in place and got a new version whose
    manifest still said version 1; another feature set could also land in a dataset silently."""
    out = tmp_path / "Datasets"
    common = ["--db", sample_db, "--season", "2022-23", "--out", out, "--dataset", "fs", "--quiet"]
    run("build", *common)
    original = (ROOT / "Schemas" / "features" / "props_v1.json").read_text()
    assert original.count('"version": 1') == 1 and '"n": 3' in original
    edited = tmp_path / "edited.json"
    edited.write_text(original.replace('"n": 3', '"n": 4', 1))
    refused = run("build", *common, "--feature-set", edited, check=False)
    assert refused.returncode == 3, refused.stderr
    assert "feature set props_v1 version 1 is not the file fs/v1 was built with" in refused.stderr
    assert "never an edit in place; nothing was published" in refused.stderr
    assert snapshot_entries(out / "fs") == [".last-version", ".lock", "v1"]
    # Said before anything else that could stop the build: a failing gate does not hide it.
    import sqlite3
    gappy = tmp_path / "gappy.sqlite"
    shutil.copy(sample_db, gappy)
    with sqlite3.connect(gappy) as conn:
        conn.execute("""DELETE FROM player_composite_factors WHERE game_date IN (
            SELECT DISTINCT game_date FROM player_composite_factors ORDER BY game_date LIMIT 40)""")
    masked = run("build", "--db", gappy, "--season", "2022-23", "--out", out, "--dataset", "fs", "--quiet",
                 "--feature-set", edited, check=False)
    assert masked.returncode == 3 and "never an edit in place" in masked.stderr, masked.stderr
    # A new version of the definition is a new version of the dataset...
    bumped = tmp_path / "bumped.json"
    bumped.write_text(original.replace('"n": 3', '"n": 4', 1).replace('"version": 1', '"version": 2'))
    run("build", *common, "--feature-set", bumped)
    assert manifest_of(out / "fs" / "v2")["feature_set"]["version"] == "2"
    # ...and going back to version 1 with other bytes than v1's is still an edit in place.
    again = run("build", *common, "--feature-set", edited, check=False)
    assert again.returncode == 3 and "the file fs/v1 was built with" in again.stderr, again.stderr
    # Back to the shipped version 1 (v1's bytes) publishes v3; a version 2 with other bytes than
    # v2's is then found in an older version (the latest holds version 1).
    run("build", *common)
    assert manifest_of(out / "fs" / "v3")["feature_set"]["version"] == "1"
    other2 = tmp_path / "other2.json"
    other2.write_text(original.replace('"n": 3', '"n": 5', 1).replace('"version": 1', '"version": 2'))
    older = run("build", *common, "--feature-set", other2, check=False)
    assert older.returncode == 3 and "version 2 is not the file fs/v2 was built with" in older.stderr, older.stderr
    # Another feature set into the same dataset would change the schema under "latest".
    other = run("build", *common, "--feature-set", "example_minutes_v1", check=False)
    assert other.returncode == 1, other.stderr
    assert "dataset fs holds feature set props_v1 (latest fs/v3) and this build computes example_minutes_v1" in other.stderr
    assert snapshot_entries(out / "fs") == [".last-version", ".lock", "v1", "v2", "v3"]
    # Looked up by name, a file must declare that name.
    (tmp_path / "Schemas" / "features").mkdir(parents=True)
    (tmp_path / "Schemas" / "features" / "props_v9.json").write_text(original)
    misnamed = run("build", "--db", sample_db, "--season", "2022-23", "--feature-set", "props_v9", "--quiet",
                   cwd=tmp_path, check=False)
    assert misnamed.returncode == 3, misnamed.stderr
    assert 'which declares the name "props_v1": a feature set looked up by name must declare that name' in misnamed.stderr


def test_an_edit_in_place_is_refused_behind_a_damaged_latest_manifest(sample_db, tmp_path):
    """A review (session 14): with the latest manifest unreadable the check was skipped, and a
    feature set edited in place published v3 beside v1's other bytes for the same version."""
    out = tmp_path / "Datasets"
    common = ["--db", sample_db, "--season", "2022-23", "--out", out, "--dataset", "fs", "--quiet"]
    run("build", *common)
    shutil.copytree(out / "fs" / "v1", out / "fs" / "v2")
    (out / "fs" / "v2" / "manifest.json").write_text("{broken")
    original = (ROOT / "Schemas" / "features" / "props_v1.json").read_text()
    edited = tmp_path / "edited.json"
    edited.write_text(original.replace('"n": 3', '"n": 4', 1))
    refused = run("build", *common, "--feature-set", edited, check=False)
    assert refused.returncode == 3, refused.stderr
    assert "feature set props_v1 version 1 is not the file fs/v1 was built with" in refused.stderr
    assert snapshot_entries(out / "fs") == [".last-version", ".lock", "v1", "v2"]
    # The shipped definition replaces the damaged version, as before.
    run("build", *common)
    assert snapshot_entries(out / "fs") == [".last-version", ".lock", "v1", "v2", "v3"]


def test_schemas_are_found_from_the_executable_not_argv0(sample_db, tmp_path):
    """A review (session 17): run from PATH, argv[0] is the bare name `dataset`, so "beside the
    executable" became the working directory and its parents, and a stray Schemas/ two folders
    up relaxed usage_rate_coverage from 95 % to 10 % without a word. The executable is now the
    kernel's /proc/self/exe, and a thresholds file or feature set that differs from the
    built-in copy is named on stderr."""
    binary = pathlib.Path(dataset_bin()).resolve()
    stray = tmp_path / "Schemas"
    (stray / "features").mkdir(parents=True)
    (stray / "gates.default.json").write_text('{"usage_rate_coverage": {"season_fail_below_percent": 10}}')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    env = dict(os.environ, PATH=f"{binary.parent}:{os.environ.get('PATH', '')}")
    args = ["dataset", "validate", "--db", str(sample_db), "--season", "2022-23", "--json"]
    # From PATH, in a folder whose ../../Schemas is the stray one: the binary's own Schemas/ wins.
    from_path = subprocess.run(args, capture_output=True, text=True, cwd=nested, env=env)
    assert from_path.returncode == 0, from_path.stderr
    thresholds = json.loads(from_path.stdout)["thresholds"]
    assert "note: gate thresholds" not in from_path.stderr, from_path.stderr
    # In the folder that holds the stray Schemas/ (the documented ./Schemas lookup, after the
    # executable's own): said, naming the file and each setting that differs.
    (stray / "features" / "props_v1.json").write_text(
        (ROOT / "Schemas" / "features" / "props_v1.json").read_text().replace('"n": 3', '"n": 4', 1))
    copied = tmp_path / "bin" / "dataset"
    copied.parent.mkdir()
    shutil.copy(binary, copied)
    beside = subprocess.run([str(copied), *args[1:]], capture_output=True, text=True, cwd=tmp_path)
    assert beside.returncode == 0, beside.stderr
    assert (f"note: gate thresholds from {tmp_path}/Schemas/gates.default.json differ from the built-in defaults: "
            "usage_rate_coverage.season_fail_below_percent = 10 (built in: 95)\n") in beside.stderr, beside.stderr
    assert json.loads(beside.stdout)["thresholds"] != thresholds
    built = subprocess.run([str(copied), "build", "--db", str(sample_db), "--season", "2022-23", "--quiet",
                            "--out", str(tmp_path / "Datasets")], capture_output=True, text=True, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert (f"note: feature set props_v1 is read from {tmp_path}/Schemas/features/props_v1.json, which differs "
            "from the props_v1 built into this binary") in built.stderr, built.stderr


def test_every_json_output_validates_against_the_documented_schema(snapshot, tmp_path):
    """Schemas/cli-output.schema.json (session 17: a review found build, verify, list, diff and
    the error envelope documented nowhere, and two shapes for one gate record)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    cli = json.loads((ROOT / "Schemas" / "cli-output.schema.json").read_text())
    registry = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in (cli, SCHEMA)])
    Draft202012Validator.check_schema(cli)

    def check(kind, text):
        value = json.loads(text)
        Draft202012Validator({"$ref": f"{cli['$id']}#/$defs/{kind}"}, registry=registry).validate(value)
        return value

    out = tmp_path / "Datasets"
    shutil.copytree(snapshot["v1"], out / "props" / "v1")
    assert check("build", build(snapshot["db"], out, "--json").stdout)["outcome"] == "unchanged"
    changed = tmp_path / "changed.sqlite"
    shutil.copy(snapshot["db"], changed)
    import sqlite3
    with sqlite3.connect(changed) as conn:
        conn.execute("UPDATE player_game_summary SET minutes_played = minutes_played + 1 "
                     "WHERE rowid % 40 = 0 AND minutes_played BETWEEN 5 AND 40")
    assert check("build", build(changed, out, "--json").stdout)["outcome"] == "published"
    assert check("verify", run("verify", out, "--json").stdout)["ok"]
    drift = check("diff", run("diff", "props/v1", "props/v2", "--out", out, "--json").stdout)
    assert drift["columns"] and drift["changed_seasons"] == ["2022-23"]
    (out / "broken" / "v1").mkdir(parents=True)
    (out / "broken" / "v1" / "manifest.json").write_text('{"trunc')
    assert len(check("list", run("list", "--out", out, "--json").stdout)) == 3
    # The schema is no formality: a file entry the manifest schema does not allow is refused.
    wrong = json.loads(build(changed, out, "--json").stdout)
    wrong["files"][0]["extra"] = 1
    with pytest.raises(Exception):
        check("build", json.dumps(wrong))
    assert not check("verify", run("verify", out, "--json", check=False).stdout)["ok"]
    for args in (["validate", "--db", tmp_path / "none.sqlite", "--season", "2022-23"],
                 ["validate", "--db", snapshot["db"], "--season", "2022-24"],
                 ["validate", "--db", snapshot["db"], "--season", "2019-20"],
                 ["show", "props/v9", "--out", out]):
        proc = run(*args, "--json", check=False)
        assert proc.returncode in (1, 3), proc.stderr
        assert check("error", proc.stdout)["error"]["exit_code"] == proc.returncode
