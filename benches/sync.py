"""Push to a real `mlflow server` 3.17.2, side by side in one run: `flowbook push` of a store of
RUNS runs × 20 metrics × 100 steps (with params and tags) against the real Python client logging the
same data with `log_batch` at MLflow's limits (1000 entities per call). Each side gets its own fresh
server of the same kind (SQLite backend, artifact proxy, one worker) on loopback. The Python side is
handed the data in memory before its clock starts; Flowbook's time includes reading its store.
Both servers are checked to hold every run and metric point afterwards.

usage: python benches/sync.py FLOWBOOK_BIN WORKDIR OUT_JSON [RUNS]"""
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tests" / "compat"))
from conftest import start_mlflow  # noqa: E402

# The server's job runner (GenAI jobs) is not used here; both sides run without it.
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")

METRICS, STEPS = 20, 100


def load(db):
    """Every run of the store with its params, tags and full metric histories."""
    c = sqlite3.connect(db)
    runs = []
    for run_id, name, start, end, status in c.execute(
            "SELECT run_uuid, name, start_time, end_time, status FROM runs ORDER BY start_time"):
        runs.append({
            "name": name, "start": start, "end": end, "status": status,
            "params": [Param(k, v) for k, v in c.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,))],
            "tags": [RunTag(k, v) for k, v in c.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,))],
            "metrics": [Metric(k, v, t, s) for k, v, t, s in c.execute(
                "SELECT key, value, timestamp, step FROM metrics WHERE run_uuid = ?", (run_id,))],
        })
    return runs


def log_with_client(uri, runs):
    client = MlflowClient(uri)
    exp = client.create_experiment("bench")
    for r in runs:
        run = client.create_run(exp, start_time=r["start"], run_name=r["name"])
        run_id = run.info.run_id
        params, tags, metrics = r["params"], r["tags"], r["metrics"]
        # MLflow's limits per call: 100 params, 100 tags, 1000 metrics, 1000 entities in all.
        while params or tags or metrics:
            p, t = params[:100], tags[:100]
            m = metrics[:1000 - len(p) - len(t)]
            client.log_batch(run_id, metrics=m, params=p, tags=t)
            params, tags, metrics = params[len(p):], tags[len(t):], metrics[len(m):]
        client.set_terminated(run_id, status=r["status"], end_time=r["end"])


def points(server_dir):
    c = sqlite3.connect(server_dir / "mlflow.db")
    return (c.execute("SELECT count(*) FROM runs").fetchone()[0],
            c.execute("SELECT count(*) FROM metrics").fetchone()[0])


def main(flowbook, work, out_json, runs=1000):
    work = Path(work)
    subprocess.run([sys.executable, str(HERE / "make_mlruns.py"), str(work / "src"), str(runs), str(METRICS),
                    str(STEPS)], check=True)
    store = work / "store.db"
    subprocess.run([flowbook, "import", str(work / "src" / "mlruns"), "--db", str(store)], check=True,
                   capture_output=True)
    data = load(store)
    expected = (runs, runs * METRICS * STEPS)

    (work / "python").mkdir()
    server = start_mlflow(work / "python")
    try:
        t = time.perf_counter()
        log_with_client(server.uri, data)
        python_s = time.perf_counter() - t
    finally:
        server.stop()
    assert points(work / "python") == expected, points(work / "python")

    (work / "flowbook").mkdir()
    server = start_mlflow(work / "flowbook")
    try:
        t = time.perf_counter()
        subprocess.run([flowbook, "push", "--db", str(store), "--to", server.uri], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        flowbook_s = time.perf_counter() - t
    finally:
        server.stop()
    assert points(work / "flowbook") == expected, points(work / "flowbook")

    result = {"runs": runs, "points": expected[1], "flowbook_push_s": flowbook_s, "python_log_batch_s": python_s,
              "ratio": python_s / flowbook_s}
    Path(out_json).write_text(json.dumps(result, indent=1))
    print(f"| push {runs:,} runs × {METRICS} metrics × {STEPS} steps to `mlflow server` | "
          f"{flowbook_s:,.1f} s | {python_s:,.1f} s | **{python_s / flowbook_s:.2f}×** | ≥ 0.5× (within 2× of MLflow) |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], *(int(a) for a in sys.argv[4:5]))
