"""The registry's conformance suite: one workflow with the real client against a fresh real
`mlflow server` and a fresh `flowbook server` (every step's answer, errors included, must be the
same), and a registry made through `flowbook server` read back by real MLflow straight from the
database file."""

import json

from mlflow import MlflowClient

from conftest import start_flowbook
from registry_conformance import registry_state, run_registry_workflow


def differences(a, b, path="") -> list[str]:
    """Where two nested values differ, one line per leaf."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in differences(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_flowbook_registry_answers_every_step_as_real_mlflow(servers):
    real = run_registry_workflow(servers["mlflow"].uri)
    ours = run_registry_workflow(servers["flowbook"].uri)
    assert [name for name, _ in ours.steps] == [name for name, _ in real.steps]
    mismatches = [
        f"step {name!r}:\n  mlflow:   {json.dumps(r, default=str)}\n  flowbook: {json.dumps(o, default=str)}"
        for (name, r), (_, o) in zip(real.steps, ours.steps)
        if r != o
    ]
    assert not mismatches, f"{len(mismatches)} of {len(real.steps)} steps differ:\n" + "\n".join(mismatches)
    kinds = {result[0] for _, result in real.steps}
    assert kinds == {"ok", "error", "raw"}


def test_real_mlflow_reads_a_flowbook_registry_from_the_database(workdir):
    server = start_flowbook(workdir)
    try:
        run_registry_workflow(server.uri)
        served = registry_state(MlflowClient(server.uri, server.uri))
    finally:
        server.stop()
    # What the workflow left: models with versions in several stages, aliases, tags, descriptions.
    model = served["nyc-taxi-regressor"]
    assert {v["stage"] for v in model["versions"].values()} >= {"Production", "Archived"}
    assert set(model["aliases"]) == {"Champion", "Fastest", "Best"}
    assert model["versions"]["1"]["tags"]["evaluation_status"] == "passed"
    assert served["zeta-model"]["tags"] == {"team": "mlops"}

    db = f"sqlite:///{workdir / 'mlflow.db'}"
    direct = registry_state(MlflowClient(tracking_uri=db, registry_uri=db))
    diff = differences(served, direct)
    assert not diff, "served over HTTP != read from the file:\n" + "\n".join(diff)
