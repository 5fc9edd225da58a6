"""Checks that a tracking store, read by whichever real MLflow runs this script (2.x or 3.x),
shows every fact of a fixture's expected.json, and that a run's artifact reads back.

usage: python check_expected.py TRACKING_URI EXPECTED_JSON [RUN_NAME ARTIFACT_PATH]
Prints the MLflow version and "ok"; any difference raises (non-zero exit).
"""
import json
import math
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType


def check(uri, expected, artifact=None):
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(expected["experiment"])
    assert exp is not None, f"no experiment {expected['experiment']}"
    every = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=1000)
    active = client.search_runs([exp.experiment_id], max_results=1000)
    counts = expected["counts"]
    assert len(every) == counts["all_runs_in_experiment"], (len(every), counts)
    assert len(active) == counts["active_runs_in_experiment"], (len(active), counts)
    for name, facts in expected["runs"].items():
        run = client.get_run(facts["run_id"])
        assert run.info.run_name == name, (run.info.run_name, name)
        assert run.info.status == facts["status"], (name, run.info.status)
        for k, v in facts["params"].items():
            assert run.data.params.get(k) == v, (name, k)
        for k, v in facts["tags"].items():
            assert run.data.tags.get(k) == v, (name, k, run.data.tags.get(k), v)
        for k, v in facts["metrics"].items():
            got = run.data.metrics.get(k)
            assert (v is None and got is not None and math.isnan(got)) or got == v, (name, k, got, v)
    assert client.get_run(expected["deleted_run"]).info.lifecycle_stage == "deleted"
    gone = client.get_experiment_by_name(expected["deleted_experiment"])
    assert gone is not None and gone.lifecycle_stage == "deleted"
    for model, facts in expected["registered_models"].items():
        m = client.get_registered_model(model)
        assert m.description == facts["description"], (m.description, facts["description"])
        assert dict(m.tags) == facts["tags"], (m.tags, facts["tags"])
        want = {a: str(v) for a, v in facts["aliases"].items()}
        assert {a: str(v) for a, v in m.aliases.items()} == want, (m.aliases, want)
        for version, v in facts["versions"].items():
            got = client.get_model_version(model, version)
            assert got.run_id == v["run_id"], (version, got.run_id)
            assert got.current_stage == v["stage"], (version, got.current_stage)
            assert (got.description or None) == v["description"], (version, got.description)
            assert dict(got.tags) == v["tags"], (version, got.tags)
    if artifact:
        run_name, path = artifact
        run_id = expected["runs"][run_name]["run_id"]
        mlflow.set_tracking_uri(uri)
        text = mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")
        assert text, f"{path} of {run_name} is empty"
        print("artifact:", path, len(text), "characters")
    print("mlflow", mlflow.__version__, "ok")


if __name__ == "__main__":
    uri, expected_path = sys.argv[1], sys.argv[2]
    with open(expected_path) as f:
        expected = json.load(f)
    check(uri, expected, tuple(sys.argv[3:5]) if len(sys.argv) >= 5 else None)
