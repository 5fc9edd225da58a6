"""Checks that a tracking store, read by whichever real MLflow runs this script (2.x or 3.x),
shows every fact of a fixture's expected.json, and that a run's artifact reads back.

usage: python check_expected.py TRACKING_URI EXPECTED_JSON [RUN_NAME ARTIFACT_PATH]
Prints the MLflow version and "ok"; any difference raises (non-zero exit).

usage: python check_expected.py --run-ids MAP_JSON TRACKING_URI EXPECTED_JSON [RUN_NAME ARTIFACT_PATH]
The same, on a server the store was pushed to: MAP_JSON maps the fixture's run ids to the server's
(runs, parent tags, the deleted run and registry versions are looked up by the server's ids).

usage: python check_expected.py --facts TRACKING_URI OUT_JSON
Writes what real MLflow 3 reads of the store beyond expected.json — every run's metric histories,
dataset inputs and outputs, and every logged model — for comparing a bundle with its exports.
"""
import json
import math
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType


def check(uri, expected, artifact=None, run_ids=None):
    rid = (lambda i: run_ids.get(i, i)) if run_ids else (lambda i: i)
    client = MlflowClient(uri, registry_uri=uri)
    exp = client.get_experiment_by_name(expected["experiment"])
    assert exp is not None, f"no experiment {expected['experiment']}"
    every = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=1000)
    active = client.search_runs([exp.experiment_id], max_results=1000)
    counts = expected["counts"]
    assert len(every) == counts["all_runs_in_experiment"], (len(every), counts)
    assert len(active) == counts["active_runs_in_experiment"], (len(active), counts)
    for name, facts in expected["runs"].items():
        run = client.get_run(rid(facts["run_id"]))
        assert run.info.run_name == name, (run.info.run_name, name)
        assert run.info.status == facts["status"], (name, run.info.status)
        for k, v in facts["params"].items():
            assert run.data.params.get(k) == v, (name, k)
        for k, v in facts["tags"].items():
            v = rid(v) if k == "mlflow.parentRunId" else v
            assert run.data.tags.get(k) == v, (name, k, run.data.tags.get(k), v)
        for k, v in facts["metrics"].items():
            got = run.data.metrics.get(k)
            assert (v is None and got is not None and math.isnan(got)) or got == v, (name, k, got, v)
    assert client.get_run(rid(expected["deleted_run"])).info.lifecycle_stage == "deleted"
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
            assert got.run_id == rid(v["run_id"]), (version, got.run_id)
            assert got.current_stage == v["stage"], (version, got.current_stage)
            assert (got.description or None) == v["description"], (version, got.description)
            assert dict(got.tags) == v["tags"], (version, got.tags)
    if artifact:
        run_name, path = artifact
        run_id = rid(expected["runs"][run_name]["run_id"])
        mlflow.set_tracking_uri(uri)
        text = mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")
        assert text, f"{path} of {run_name} is empty"
        print("artifact:", path, len(text), "characters")
    print("mlflow", mlflow.__version__, "ok")


def facts(uri):
    client = MlflowClient(uri)
    out = {"runs": {}, "logged_models": []}
    experiments = client.search_experiments(view_type=ViewType.ALL)
    for exp in experiments:
        for run in client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=1000):
            # A file store may repeat an identical point (same step, time and value); MLflow's SQL
            # schema keys metrics on exactly those, so a database holds it once: compare as sets.
            histories = {
                key: sorted({(m.step, m.timestamp, repr(m.value)) for m in client.get_metric_history(run.info.run_id, key)})
                for key in run.data.metrics
            }
            inputs = sorted(
                (d.dataset.name, d.dataset.digest, d.dataset.source_type, sorted((t.key, t.value) for t in d.tags))
                for d in (run.inputs.dataset_inputs if run.inputs else [])
            )
            outputs = sorted(o.model_id for o in (run.outputs.model_outputs if run.outputs else []))
            out["runs"][run.info.run_id] = {"histories": histories, "inputs": inputs, "outputs": outputs,
                                            "experiment": exp.name, "lifecycle": run.info.lifecycle_stage}
    ids = [e.experiment_id for e in experiments]
    for model in client.search_logged_models(ids, max_results=1000):
        out["logged_models"].append({
            "model_id": model.model_id, "name": model.name, "source_run_id": model.source_run_id,
            "status": str(model.status), "params": model.params, "tags": {k: v for k, v in model.tags.items()},
            "metrics": sorted((m.key, m.step, repr(m.value)) for m in (model.metrics or [])),
        })
    out["logged_models"].sort(key=lambda m: m["model_id"])
    return out


if __name__ == "__main__":
    if sys.argv[1] == "--facts":
        with open(sys.argv[3], "w") as f:
            json.dump(facts(sys.argv[2]), f, indent=1, sort_keys=True)
        sys.exit(0)
    args, run_ids = sys.argv[1:], None
    if args[0] == "--run-ids":
        with open(args[1]) as f:
            run_ids = json.load(f)
        args = args[2:]
    uri, expected_path = args[0], args[1]
    with open(expected_path) as f:
        expected = json.load(f)
    check(uri, expected, tuple(args[2:4]) if len(args) >= 4 else None, run_ids)
