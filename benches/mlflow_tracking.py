"""The same tracking workloads as benches/tracking.rs, on real MLflow 3.17.2's SQLite store
(MlflowClient over sqlite:///, in process). The search, fetch and history workloads read the very
database Flowbook's benchmark wrote (it is MLflow's schema), so both query the same data.

    python benches/mlflow_tracking.py FLOWBOOK_DB SCRATCH_DB RESULTS_JSON"""

import json
import sys
import time

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

BATCHES = 20
CREATE_RUNS = 200


def main(flowbook_db, scratch_db, out):
    results = {}
    flowbook_results = json.load(open(out.replace("mlflow", "flowbook")))
    scratch = MlflowClient(f"sqlite:///{scratch_db}")

    exp = scratch.create_experiment("bench-batch")
    run_id = scratch.create_run(exp, run_name="batch").info.run_id
    t = time.perf_counter()
    for b in range(BATCHES):
        metrics = [Metric(f"m{i % 20}", (b * 1000 + i) * 0.5, 1_700_000_000_000 + b, b * 50 + i // 20) for i in range(1000)]
        scratch.log_batch(run_id, metrics=metrics)
    results["log_batch_metrics_per_s"] = BATCHES * 1000 / (time.perf_counter() - t)

    exp_runs = scratch.create_experiment("bench-runs")
    t = time.perf_counter()
    for i in range(CREATE_RUNS):
        rid = scratch.create_run(exp_runs, run_name=f"r{i}", start_time=1).info.run_id
        scratch.log_batch(rid, params=[Param("alpha", str(i % 7))], metrics=[Metric("rmse", (i % 100) / 100, 1, 0)],
                          tags=[RunTag("model", "lasso" if i % 2 == 0 else "xgboost")])
        scratch.set_terminated(rid, "FINISHED", end_time=2)
    results["create_runs_per_s"] = CREATE_RUNS / (time.perf_counter() - t)

    shared = MlflowClient(f"sqlite:///{flowbook_db}")
    exp_search = flowbook_results["search_experiment_id"]
    flt = "metrics.rmse < 0.5 and params.alpha = '0.1' and tags.model LIKE 'xg%'"
    found = len(shared.search_runs([exp_search], flt, order_by=["metrics.rmse DESC"], max_results=1000))
    reps = 5
    t = time.perf_counter()
    for _ in range(reps):
        shared.search_runs([exp_search], flt, order_by=["metrics.rmse DESC"], max_results=1000)
    results["search_ms"] = (time.perf_counter() - t) * 1000 / reps
    results["search_found"] = found

    t = time.perf_counter()
    fetched, token = 0, None
    while True:
        page = shared.search_runs([exp_search], max_results=1000, page_token=token)
        fetched += len(page)
        token = page.token
        if not token:
            break
    results["fetch_all_s"] = time.perf_counter() - t
    results["fetched"] = fetched

    reps = 3
    t = time.perf_counter()
    for _ in range(reps):
        points = len(shared.get_metric_history(flowbook_results["history_run_id"], "loss"))
    results["history_ms"] = (time.perf_counter() - t) * 1000 / reps
    results["history_points"] = points
    json.dump(results, open(out, "w"), indent=2)


if __name__ == "__main__":
    main(*sys.argv[1:])
