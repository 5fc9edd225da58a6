"""Prints the Markdown comparison table of two benchmark result files (Flowbook, MLflow)."""

import json
import platform
import sys

ROWS = [
    # key, label, higher_is_better, unit, goal
    ("log_batch_metrics_per_s", "log-batch throughput (1000 metrics per batch)", True, "metrics/s", 50),
    ("create_runs_per_s", "create run + log_batch + terminate", True, "runs/s", None),
    ("search_ms", "search 10,000 runs, 3-clause filter + order", False, "ms", 20),
    ("fetch_all_s", "fetch all 10,000 runs (pages of 1000)", False, "s", 20),
    ("history_ms", "metric history of 100,000 points", False, "ms", None),
]


def main(flowbook_path, mlflow_path):
    fb, ml = json.load(open(flowbook_path)), json.load(open(mlflow_path))
    assert fb["search_found"] == ml["search_found"], (fb["search_found"], ml["search_found"])
    assert fb["fetched"] == ml["fetched"] == 10000
    assert fb["history_points"] == ml["history_points"] == 100000
    print(f"Machine: {platform.machine()}, Python {platform.python_version()}; both searches found {fb['search_found']} runs.\n")
    print("| workload | Flowbook | MLflow 3.17.2 | ratio | goal |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for key, label, higher, unit, goal in ROWS:
        ratio = fb[key] / ml[key] if higher else ml[key] / fb[key]
        goal_text = f"≥ {goal}×" if goal else "—"
        print(f"| {label} | {fb[key]:,.1f} {unit} | {ml[key]:,.1f} {unit} | **{ratio:,.1f}×** | {goal_text} |")




def bundles(path):
    """The bundle table, from benches/bundles.py's result file."""
    data = json.load(open(path))
    size = f"{data['runs']:,} runs × {data['metrics']} metrics × {data['steps']} steps"
    print(f"\nBundles ({size}):\n")
    print("| workload | Flowbook (peak memory) | MLflow 3.17.2 (peak memory) | ratio | goal |")
    print("| --- | ---: | ---: | ---: | ---: |")
    baseline = {
        "import": "`mlflow migrate-filestore`",
        "export mlruns": "SQL store → FileStore copy",
        "export mlflow-db": "SQL store → FileStore copy",
    }
    for label, row in data["rows"].items():
        fb, ml = row["flowbook"], row["mlflow"]
        ratio = ml["seconds"] / fb["seconds"]
        print(f"| {label} | {fb['seconds']:,.1f} s ({fb['peak_mb']:,.0f} MB) | {ml['seconds']:,.1f} s "
              f"({ml['peak_mb']:,.0f} MB, {baseline[label]}) | **{ratio:,.1f}×** | ≥ 20× |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
    if len(sys.argv) > 3:
        bundles(sys.argv[3])
