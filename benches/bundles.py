"""Bundle import/export, Flowbook (native release CLI) against real MLflow 3.17.2 on the same data in
one run: an mlruns folder of 1,000 runs × 20 metrics × 100 steps (benches/make_mlruns.py).

- import: `flowbook import DIR --db fb.db` against `mlflow migrate-filestore --source DIR --target sqlite:///…`
- export: `flowbook export --format mlruns|mlflow-db` against real MLflow copying the same SQL store into a
  file store with its own stores (SqlAlchemyStore reads → FileStore.log_batch writes), since MLflow has no
  export command; both write every param, tag and metric point.
Each command runs as its own process; wall time and peak resident memory (wait4's ru_maxrss) are recorded.

usage: python bundles.py FLOWBOOK_BIN WORKDIR OUT_JSON"""
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
RUNS, METRICS, STEPS = 1000, 20, 100


def measure(cmd, env=None):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if status != 0:
        raise SystemExit(f"{cmd[0]} failed: {err[-3000:]}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "stdout": out.strip()[-300:]}


def counts(db):
    with sqlite3.connect(db) as c:
        return c.execute("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM metrics)").fetchone()


def main(flowbook, work, out_json):
    work = Path(work)
    src = work / "src"
    subprocess.run([sys.executable, str(HERE / "make_mlruns.py"), str(src), str(RUNS), str(METRICS), str(STEPS)], check=True)
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true")
    mlflow_cli = str(Path(sys.executable).parent / "mlflow")
    rows = {}
    rows["import"] = {
        "flowbook": measure([flowbook, "import", str(src), "--db", str(work / "fb.db")]),
        "mlflow": measure([mlflow_cli, "migrate-filestore", "--source", str(src / "mlruns"),
                           "--target", f"sqlite:///{work / 'mlflow.db'}"], env),
    }
    want = (RUNS, RUNS * METRICS * STEPS)
    for db in ("fb.db", "mlflow.db"):
        assert counts(work / db) == want, (db, counts(work / db), want)
    rows["export mlruns"] = {
        "flowbook": measure([flowbook, "export", "--db", str(work / "fb.db"), "--format", "mlruns",
                             "--out", str(work / "fb-mlruns.zip")]),
        "mlflow": measure([sys.executable, str(HERE / "mlflow_copy_store.py"), str(work / "mlflow.db"),
                           str(work / "mlflow-copy" / "mlruns")], env),
    }
    rows["export mlflow-db"] = {
        "flowbook": measure([flowbook, "export", "--db", str(work / "fb.db"), "--format", "mlflow-db",
                             "--out", str(work / "fb-db.zip")]),
        "mlflow": rows["export mlruns"]["mlflow"],
    }
    Path(out_json).write_text(json.dumps({"runs": RUNS, "metrics": METRICS, "steps": STEPS, "rows": rows}, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:4])
