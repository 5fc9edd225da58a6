"""`flowbook train` writes runs that real MLflow reads: params (autolog logs every default), metrics,
plot artifacts, the dataset input, and an MLflow 3 logged model whose MLmodel real
`mlflow.models.Model.load` parses. Read through `flowbook server` with the real client, and directly
from the database file by MLflow's SQL store. Also `flowbook drift` against SciPy's ks_2samp."""

import json
import subprocess

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.models import Model
from scipy.stats import ks_2samp

from conftest import flowbook_bin, start_flowbook


def flowbook(*args):
    out = subprocess.run([flowbook_bin(), *map(str, args)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_trained_run_and_its_model_are_read_by_real_mlflow(workdir):
    db = workdir / "mlflow.db"
    out = flowbook("train", "--db", db, "--experiment", "course", "--dataset", "diabetes", "--model", "Lasso",
                   "--param", "alpha=0.1", "--autolog", "--run-name", "lasso-autolog")
    run_id = out.split()[1]
    manual = flowbook("train", "--db", db, "--experiment", "course", "--dataset", "taxi-trips", "--model", "Ridge",
                      "--param", "alpha=1.0", "--run-name", "ridge-manual")
    manual_id = manual.split()[1]

    sql = MlflowClient(f"sqlite:///{db}")
    run = sql.get_run(run_id)
    assert run.info.run_name == "lasso-autolog" and run.info.status == "FINISHED"
    assert run.data.params["alpha"] == "0.1" and run.data.params["max_iter"] == "1000"
    assert run.data.params["selection"] == "cyclic"
    for m in ("training_root_mean_squared_error", "val_root_mean_squared_error", "val_r2_score"):
        assert m in run.data.metrics
    assert run.inputs.dataset_inputs[0].dataset.name == "diabetes"
    assert sql.get_run(manual_id).data.params == {"alpha": "1.0"}

    server = start_flowbook(workdir)
    try:
        client = MlflowClient(server.uri)
        mlflow.set_tracking_uri(server.uri)
        names = {f.path for f in client.list_artifacts(run_id, "plots")}
        assert {"plots/predicted_vs_actual.svg", "plots/residuals.svg", "plots/feature_importance.svg"} <= names
        svg = mlflow.artifacts.load_text(f"runs:/{run_id}/plots/residuals.svg")
        assert svg.startswith("<svg")
        models = client.search_logged_models([run.info.experiment_id])
        assert [m.source_run_id for m in models] == [run_id]
        model = Model.load(f"runs:/{run_id}/model")
        assert "flowbook" in model.flavors
        assert model.model_id == models[0].model_id
        assert [c["name"] for c in model.signature.inputs.to_dict()][:3] == ["age", "sex", "body mass index"]
        assert model.saved_input_example_info["type"] == "dataframe"
        assert Model.load(f"models:/{models[0].model_id}").flavors["flowbook"]["model_data"] == "model.json"
    finally:
        server.stop()


def test_drift_matches_scipy(workdir):
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(0, 1, 300), rng.normal(0.3, 1.2, 250)
    (workdir / "ref.csv").write_text("x,y\n" + "\n".join(f"{a},{i}" for i, a in enumerate(ref)) + "\n")
    (workdir / "cur.csv").write_text("x,y\n" + "\n".join(f"{a},{i}" for i, a in enumerate(cur)) + "\n")
    out = json.loads(flowbook("drift", "--reference", workdir / "ref.csv", "--current", workdir / "cur.csv"))
    want = ks_2samp(ref, cur)
    assert abs(out["columns"]["x"]["ks_statistic"] - want.statistic) < 1e-6
    assert abs(out["columns"]["x"]["ks_pvalue"] - want.pvalue) < 1e-6
    assert out["columns"]["x"]["psi"] > 0


@pytest.mark.parametrize("args, message", [
    (["--dataset", "nope", "--model", "Lasso"], "unknown data set 'nope'"),
    (["--dataset", "diabetes", "--model", "SVC"], "unknown model 'SVC'"),
    (["--dataset", "diabetes", "--model", "Lasso", "--param", "alpha=x"], "alpha=x is not a number"),
])
def test_bad_training_requests_fail_with_a_message(workdir, args, message):
    out = subprocess.run([flowbook_bin(), "train", "--db", str(workdir / "x.db"), "--experiment", "e", *args],
                         capture_output=True, text=True)
    assert out.returncode != 0 and message in out.stderr, out.stderr
