"""The compatibility harness itself: real MLflow from the venv reads a bundle real MLflow wrote,
and Flowbook's copy of MLflow's schema is exactly the one `mlflow db upgrade` creates."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from conftest import ROOT, unzip_fixture


def test_real_mlflow_is_the_pinned_version():
    assert mlflow.__version__ == "3.17.2"


def test_real_mlflow_reads_the_sqlite_fixture(workdir):
    expected = unzip_fixture("mlflow3-sqlite-course.zip", workdir)
    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    exp = client.get_experiment_by_name(expected["experiment"])
    assert exp is not None
    for name, want in expected["runs"].items():
        run = client.get_run(want["run_id"])
        assert run.info.run_name == name
        assert run.data.params == want["params"]
        assert run.info.status == want["status"]


def normalize_ddl(sql: str) -> str:
    """One statement with its whitespace collapsed and, for CREATE TABLE, its column and constraint
    definitions sorted: alembic's batch migrations emit table constraints in an order that follows
    Python's hash seed, so two `mlflow db upgrade` runs differ only in that order."""
    sql = " ".join(sql.split())
    if not sql.upper().startswith("CREATE TABLE"):
        return sql
    head, _, body = sql.partition("(")
    body = body[: body.rfind(")")]
    parts, depth, current = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += (ch == "(") - (ch == ")")
        current += ch
    parts.append(current.strip())
    return f"{head.strip()} ({', '.join(sorted(parts))})"


def dump_schema(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    return sorted(normalize_ddl(r[0]) for r in rows)


def test_flowbook_schema_is_mlflow_head_schema(workdir):
    """src/tracking/schema.sql must be what real MLflow 3.17.2 creates, statement for statement."""
    real = workdir / "real.db"
    subprocess.run([str(Path(sys.executable).parent / "mlflow"), "db", "upgrade", f"sqlite:///{real}"],
                   check=True, capture_output=True)
    ours = workdir / "ours.db"
    con = sqlite3.connect(ours)
    con.executescript((ROOT / "src/tracking/schema.sql").read_text())
    con.close()
    assert dump_schema(ours) == dump_schema(real)
    with sqlite3.connect(ours) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchall() == \
            sqlite3.connect(real).execute("SELECT version_num FROM alembic_version").fetchall()
