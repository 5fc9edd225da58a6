"""Every real MLflow bundle in tests/fixtures: `flowbook import` → `flowbook export` in both formats →
real MLflow reads each export and every fact of expected.json holds. The mlruns export is opened by
MLflow 3.17.2 (file store allowed) and by MLflow 2.22.1; the mlflow.db export by MLflow 3.17.2's
SQL store directly (no migration) and through a real `mlflow server` serving its artifacts."""

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


def check(python, uri, expected, cwd, *extra):
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true")
    out = subprocess.run([python, str(HERE / "check_expected.py"), uri, str(expected), *extra],
                         capture_output=True, text=True, cwd=cwd, env=env)
    assert out.returncode == 0, f"{python} on {uri}:\n{out.stdout}\n{out.stderr[-4000:]}"
    return out.stdout


@pytest.mark.parametrize("bundle", BUNDLES)
def test_exports_of_every_real_bundle_open_in_real_mlflow(bundle, workdir):
    with zipfile.ZipFile(FIXTURES / bundle) as z:
        z.extract("expected.json", workdir)
    expected = workdir / "expected.json"
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

    # mlflow.db: the SQL store opens it at head (no migration), and `mlflow server` serves artifacts.
    db_files = workdir / "db-export"
    with zipfile.ZipFile(db_zip) as z:
        z.extractall(db_files)
    check(sys.executable, f"sqlite:///{db_files / 'mlflow.db'}", expected, db_files)
    server = start_mlflow(db_files)
    try:
        check(sys.executable, server.uri, expected, db_files, *ARTIFACT)
    finally:
        server.stop()
