"""Every real MLflow bundle in tests/fixtures: `flowbook import` → `flowbook export` in both formats →
real MLflow reads each export and every fact of expected.json holds. The mlruns export is opened by
MLflow 3.17.2 (file store allowed) and by MLflow 2.22.1; the mlflow.db export by MLflow 3.17.2's
SQL store directly (no migration) and through a real `mlflow server` serving its artifacts."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, flowbook_bin, start_mlflow

HERE = Path(__file__).parent
BUNDLES = ["mlflow3-sqlite-course.zip", "mlflow3-filestore-course.zip", "mlflow2-filestore-course.zip"]
ARTIFACT = ["artifacts-and-notes", "notes/readme.txt"]


def mlflow2_python():
    python = os.environ.get("FLOWBOOK_MLFLOW2_PYTHON")
    if not python or not Path(python).exists():
        pytest.fail("FLOWBOOK_MLFLOW2_PYTHON is not set: run through scripts/test.sh (it installs MLflow 2.22.1)")
    return python


def flowbook(*args):
    out = subprocess.run([flowbook_bin(), *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def facts(uri, cwd, out):
    """What real MLflow 3.17.2 reads beyond expected.json (histories, inputs, outputs, logged models)."""
    check(sys.executable, "--facts", uri, cwd, out)
    return json.loads(Path(out).read_text())


def check(python, uri, expected, cwd, *extra):
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true")
    out = subprocess.run([python, str(HERE / "check_expected.py"), uri, str(expected), *map(str, extra)],
                         capture_output=True, text=True, cwd=cwd, env=env)
    assert out.returncode == 0, f"{python} on {uri}:\n{out.stdout}\n{out.stderr[-4000:]}"
    return out.stdout


@pytest.mark.parametrize("bundle", BUNDLES)
def test_exports_of_every_real_bundle_open_in_real_mlflow(bundle, workdir):
    original = workdir / "original"
    with zipfile.ZipFile(FIXTURES / bundle) as z:
        z.extractall(original)
    expected = original / "expected.json"
    if (original / "mlflow.db").exists():
        before = facts(f"sqlite:///{original / 'mlflow.db'}", original, workdir / "before.json")
    else:
        before = facts("./mlruns", original, workdir / "before.json")
    assert before["runs"], "the fixture reads back"
    store = workdir / "store.db"
    summary = flowbook("import", str(FIXTURES / bundle), "--db", str(store))
    assert summary.startswith("imported ") and " 10 runs" in summary, summary

    mlruns_zip, db_zip = workdir / "mlruns.zip", workdir / "db.zip"
    assert flowbook("export", "--db", str(store), "--format", "mlruns", "--out", str(mlruns_zip)).startswith("exported ")
    assert flowbook("export", "--db", str(store), "--format", "mlflow-db", "--out", str(db_zip)).startswith("exported ")

    # mlruns: opened where it is unzipped, as `mlflow ui` would be, by MLflow 3.x and 2.x.
    files = workdir / "mlruns-export"
    with zipfile.ZipFile(mlruns_zip) as z:
        z.extractall(files)
    out3 = check(sys.executable, "./mlruns", expected, files, *ARTIFACT)
    assert "mlflow 3.17.2 ok" in out3
    out2 = check(mlflow2_python(), "./mlruns", expected, files, *ARTIFACT)
    assert "mlflow 2.22.1 ok" in out2
    assert facts("./mlruns", files, workdir / "mlruns.json") == before, "histories, inputs and logged models survive"

    # mlflow.db: the SQL store opens it at head (no migration), and `mlflow server` serves artifacts.
    db_files = workdir / "db-export"
    with zipfile.ZipFile(db_zip) as z:
        z.extractall(db_files)
    check(sys.executable, f"sqlite:///{db_files / 'mlflow.db'}", expected, db_files)
    assert facts(f"sqlite:///{db_files / 'mlflow.db'}", db_files, workdir / "db.json") == before
    server = start_mlflow(db_files)
    try:
        check(sys.executable, server.uri, expected, db_files, *ARTIFACT)
    finally:
        server.stop()


@pytest.mark.parametrize("bundle, message", [
    ("bad/zip-bomb.zip", "refusing a zip bomb"),
    ("bad/metric-garbage.zip", "metrics/rmse' line 2"),
    ("bad/fake-mlflow-db.zip", "is not an SQLite database"),
])
def test_the_cli_refuses_a_bad_bundle_with_its_message_and_a_failing_exit(bundle, message, workdir):
    out = subprocess.run([flowbook_bin(), "import", str(FIXTURES / bundle), "--db", str(workdir / "s.db")],
                         capture_output=True, text=True)
    assert out.returncode != 0 and message in out.stderr, out.stderr
    missing = subprocess.run([flowbook_bin(), "export", "--db", str(workdir / "none.db"), "--format", "mlruns",
                              "--out", str(workdir / "x.zip")], capture_output=True, text=True)
    assert missing.returncode != 0 and "no store at" in missing.stderr
    assert not (workdir / "x.zip").exists()
