"""Every Python block the lessons show (src/lessons/*.md) runs with the real MLflow of the venv,
in order, in one interpreter — as a learner runs them in one notebook — on data generated here:
trip files shaped like the NYC green-taxi months the course reads, and a bundle exported by
`flowbook export` for lesson 10. Then what the code left in its tracking store is checked."""

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from conftest import ROOT, flowbook_bin

LESSONS = ROOT / "src" / "lessons"


def python_blocks(text: str):
    """(cell title, code) for each ```python block, by the lesson format of src/lessons.rs."""
    cell, blocks, fence, lines = None, [], None, []
    for line in text.splitlines():
        if fence is None and line.startswith("## "):
            cell = line[3:].strip()
        elif fence is None and line.startswith("```"):
            fence, lines = line[3:].strip(), []
        elif fence is not None and line == "```":
            if fence == "python":
                blocks.append((cell, "\n".join(lines)))
            fence = None
        elif fence is not None:
            lines.append(line)
    return blocks


def green_taxi_month(path: Path, month: int, rows: int, seed: int):
    """Trips with the columns of the TLC green-taxi files the course's read_dataframe uses."""
    rng = np.random.default_rng(seed)
    busy = np.array([7, 41, 74, 75, 166])
    other = np.arange(1, 21) * 13 % 263 + 1
    zone = lambda: np.where(rng.random(rows) < 0.6, rng.choice(busy, rows), rng.choice(other, rows))
    pu, do = zone(), zone()
    miles = np.maximum(np.abs(pu - do) % 40 * 0.3 + 0.5 + np.abs(rng.normal(size=rows)) * 0.8, 0.1)
    slow = np.where(np.isin(pu, [74, 75, 166]), 1.3, 1.0)
    minutes = 3.0 + miles * 3.2 * slow + rng.normal(size=rows) * 2.0
    minutes[: rows // 50] = 90.0  # a few outliers that read_dataframe's 1–60 minute filter drops
    start = pd.Timestamp(2021, month, 1) + pd.to_timedelta(rng.integers(0, 27 * 86400, rows), unit="s")
    pd.DataFrame({
        "VendorID": 2,
        "lpep_pickup_datetime": start,
        "lpep_dropoff_datetime": start + pd.to_timedelta(minutes * 60, unit="s").round("s"),
        "PULocationID": pu.astype("int64"),
        "DOLocationID": do.astype("int64"),
        "passenger_count": 1.0,
        "trip_distance": miles.round(2),
    }).to_parquet(path)


def flowbook(*args):
    out = subprocess.run([flowbook_bin(), *map(str, args)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


DRIVER = r"""
import json, sys, traceback, warnings
warnings.simplefilter("ignore")
namespace = {"__name__": "__main__"}
for lesson, cell, code in json.load(open(sys.argv[1])):
    print(f"=== {lesson} / {cell}", flush=True)
    try:
        exec(compile(code, f"{lesson}: {cell}", "exec"), namespace)
    except Exception:
        traceback.print_exc()
        print(f"FAILED {lesson} / {cell}", flush=True)
        sys.exit(1)
print("ALL CELLS RAN", flush=True)
"""


def test_every_python_snippet_of_the_lessons_runs_with_real_mlflow(tmp_path):
    files = sorted(LESSONS.glob("*.md"))
    assert len(files) >= 10
    cells = [(f.stem, cell, code) for f in files for cell, code in python_blocks(f.read_text())]
    # Every cell of every lesson shows Python (the Rust parser requires it too).
    headings = sum(1 for f in files for line in f.read_text().splitlines() if line.startswith("## "))
    assert len(cells) == headings, "a cell without its ```python block"

    (tmp_path / "data").mkdir()
    green_taxi_month(tmp_path / "data/green_tripdata_2021-01.parquet", 1, 3000, seed=1)
    green_taxi_month(tmp_path / "data/green_tripdata_2021-02.parquet", 2, 1500, seed=2)
    store = tmp_path / "flowbook-store.db"
    for alpha in ("0.1", "0.01"):
        flowbook("train", "--db", store, "--experiment", "nyc-taxi-experiment", "--dataset", "taxi-trips",
                 "--model", "Lasso", "--param", f"alpha={alpha}")
    flowbook("export", "--db", store, "--format", "mlflow-db", "--out", tmp_path / "mlflow-db.zip")

    (tmp_path / "cells.json").write_text(json.dumps(cells))
    (tmp_path / "driver.py").write_text(DRIVER)
    out = subprocess.run([sys.executable, "driver.py", "cells.json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0 and "ALL CELLS RAN" in out.stdout, log[-6000:]
    for _, cell, _ in cells:
        assert f"/ {cell}\n" in out.stdout, f"cell {cell!r} did not run"

    # What the lessons' code did, read back from the notebook's own store.
    db = sqlite3.connect(tmp_path / "mlflow.db")
    one = lambda sql, *a: db.execute(sql, a).fetchall()
    alphas = {v for (v,) in one("SELECT p.value FROM params p JOIN runs r ON r.run_uuid = p.run_uuid "
                                "JOIN experiments e ON e.experiment_id = r.experiment_id "
                                "WHERE e.name = 'nyc-taxi-experiment' AND p.key = 'alpha'")}
    assert {"0.1", "0.01"} <= alphas
    assert one("SELECT value FROM tags WHERE key = 'developer'")[0] == ("marcus",)
    # Lesson 3: ten trials nested under the search's parent.
    parent = one("SELECT run_uuid FROM runs WHERE name = 'tpe-search'")[0][0]
    assert one("SELECT count(*) FROM tags WHERE key = 'mlflow.parentRunId' AND value = ?", parent) == [(10,)]
    # Lesson 4: autolog logged the tree's defaults, not only max_depth.
    tree = one("SELECT run_uuid FROM runs WHERE name = 'tree-autolog'")[0][0]
    tree_params = {k for (k,) in one("SELECT key FROM params WHERE run_uuid = ?", tree)}
    assert {"max_depth", "min_samples_split", "criterion"} <= tree_params
    # Lesson 7: three versions, the old stages and the aliases.
    versions = one("SELECT version, current_stage FROM model_versions WHERE name = 'nyc-taxi-regressor' ORDER BY version")
    assert [v for v, _ in versions] == [1, 2, 3]
    assert dict(versions)[3] == "Production" and dict(versions)[2] == "Staging"
    aliases = {a for (a,) in one("SELECT alias FROM registered_model_aliases WHERE name = 'nyc-taxi-regressor'")}
    assert {"champion", "challenger", "Champion", "Best", "Fastest"} <= aliases
    tags = {k for (k,) in one("SELECT key FROM model_version_tags WHERE name = 'nyc-taxi-regressor'")}
    assert {"test_rmse", "prediction_time_ms", "evaluation_status"} <= tags
    # Lesson 2 wrote a file store; lesson 8 refused a key its table lacks; lesson 10 read the export.
    assert list((tmp_path / "mlruns").glob("*/*/params/alpha"))
    assert "refused: \"feature table 'taxi_zone_features' has no row with PULocationID = 999\"" in out.stdout
    assert re.search(r"^nyc-taxi-experiment 2 runs$", out.stdout, re.M), out.stdout[-3000:]
    # Lesson 6's wrapper answered a dict of rounded predictions.
    assert re.search(r"\{'predictions': \[\d+\.\d, ", out.stdout), out.stdout[-3000:]
