"""Regenerates src/tracking/schema.sql from real MLflow: `mlflow db upgrade` on an empty database,
then every CREATE statement and the rows MLflow seeds (alembic_version, the default workspace).
Run with the venv's python: `~/.cache/flowbook/venv/bin/python tests/compat/dump_schema.py`."""

import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import mlflow

ROOT = Path(__file__).resolve().parents[2]


def main():
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "schema.db"
        subprocess.run([str(Path(sys.executable).parent / "mlflow"), "db", "upgrade", f"sqlite:///{db}"],
                       check=True, capture_output=True)
        con = sqlite3.connect(db)
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        out = [
            f"-- MLflow's own SQL schema, as `mlflow db upgrade sqlite:///x.db` of MLflow {mlflow.__version__} creates it",
            f"-- (alembic head {revision}). Generated, not hand-written: regenerate with",
            "-- `python3 tests/compat/dump_schema.py` rather than editing.",
            "",
        ]
        for (sql,) in con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"):
            out += [sql.strip() + ";", ""]
        for table in ("alembic_version", "workspaces"):
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
            for row in con.execute(f"SELECT * FROM {table}"):
                vals = ",".join("NULL" if v is None else "'" + str(v).replace("'", "''") + "'" for v in row)
                out.append(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({vals});")
        (ROOT / "src/tracking/schema.sql").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
