"""The conformance suite: one workflow with the real client against a fresh real `mlflow server`
and a fresh `flowbook server`; every step's answer (errors included) must be the same."""

import json

from conformance import run_workflow


def test_flowbook_answers_every_step_as_real_mlflow(servers):
    real = run_workflow(servers["mlflow"].uri)
    ours = run_workflow(servers["flowbook"].uri)
    assert [name for name, _ in ours.steps] == [name for name, _ in real.steps]
    mismatches = [
        f"step {name!r}:\n  mlflow:   {json.dumps(r, default=str)}\n  flowbook: {json.dumps(o, default=str)}"
        for (name, r), (_, o) in zip(real.steps, ours.steps)
        if r != o
    ]
    assert not mismatches, f"{len(mismatches)} of {len(real.steps)} steps differ:\n" + "\n".join(mismatches)
    # The suite must exercise both paths: answers and MLflow's errors.
    kinds = {result[0] for _, result in real.steps}
    assert kinds == {"ok", "error"}
