"""Writes an MLflow 3 file store (`mlruns/`) of RUNS runs × METRICS metrics × STEPS steps, each run with
params and tags, in MLflow's own file layout (what `mlflow.log_metric` would leave, written directly
because logging two million points through the client takes hours).

usage: python make_mlruns.py DIR [RUNS METRICS STEPS]"""
import os
import sys
import uuid

import yaml


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main(root, runs=1000, metrics=20, steps=100):
    mlruns = os.path.join(root, "mlruns")
    t0 = 1_700_000_000_000
    for exp_id, name in (("0", "Default"), ("1", "bench")):
        write(os.path.join(mlruns, exp_id, "meta.yaml"), yaml.safe_dump({
            "artifact_location": f"file://{mlruns}/{exp_id}", "creation_time": t0, "experiment_id": exp_id,
            "last_update_time": t0, "lifecycle_stage": "active", "name": name}))
    for r in range(runs):
        run_id = uuid.UUID(int=r + 1).hex
        run_dir = os.path.join(mlruns, "1", run_id)
        write(os.path.join(run_dir, "meta.yaml"), yaml.safe_dump({
            "artifact_uri": f"file://{run_dir}/artifacts", "end_time": t0 + r * 1000 + 900,
            "entry_point_name": "", "experiment_id": "1", "lifecycle_stage": "active", "run_id": run_id,
            "run_name": f"run-{r}", "run_uuid": run_id, "source_name": "", "source_type": 4, "source_version": "",
            "start_time": t0 + r * 1000, "status": 3, "tags": [], "user_id": "bench"}))
        os.makedirs(os.path.join(run_dir, "artifacts"), exist_ok=True)
        for p in range(5):
            write(os.path.join(run_dir, "params", f"param_{p}"), str(r * p))
        for key, value in (("mlflow.runName", f"run-{r}"), ("mlflow.user", "bench"), ("team", "a")):
            write(os.path.join(run_dir, "tags", key), value)
        for m in range(metrics):
            lines = "".join(f"{t0 + r * 1000 + s} {1.0 / (1 + s + m + r % 7)} {s}\n" for s in range(steps))
            write(os.path.join(run_dir, "metrics", f"metric_{m}"), lines)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], *(int(a) for a in args[1:4]))
