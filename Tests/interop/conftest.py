"""Shared fixtures for the Python interop tests: they run the built `dataset` binary and read
what it writes with pyarrow, polars and jsonschema, code that knows nothing of ours."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata" / "raw" / "antbap23_player_logs"
SAMPLE = ROOT / "Datasets" / "sample" / "player_logs_2022-23.csv.lz4"


def dataset_bin() -> str:
    path = os.environ.get("DATASET_BIN") or str(ROOT / ".build" / "debug" / "dataset")
    if not pathlib.Path(path).exists():
        pytest.fail(f"dataset binary not found at {path}: run `make test-build` or set DATASET_BIN")
    return path


def run(*args, check=True, cwd=None):
    """Runs `dataset ARGS`, returning the CompletedProcess (text mode)."""
    proc = subprocess.run([dataset_bin(), *map(str, args)], capture_output=True, text=True, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"dataset {' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory):
    """The embedded 2022-23 sample imported once per test session."""
    db = tmp_path_factory.mktemp("sample") / "league.sqlite"
    run("import", "--db", db, SAMPLE, "--quiet")
    return db
