"""Round trip: a store written through `flowbook server` by the real client is read by real MLflow
directly from the database file, with every experiment, run, param, metric history and tag intact."""

import math
import subprocess
import zipfile

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType

from conftest import flowbook_bin, start_flowbook, start_mlflow


def test_a_flowbook_database_reads_back_in_real_mlflow(workdir):
    server = start_flowbook(workdir)
    try:
        mlflow.set_tracking_uri(server.uri)
        client = MlflowClient(server.uri)
        exp_id = client.create_experiment("roundtrip", tags={"team": "mlops"})
        mlflow.set_experiment("roundtrip")
        written = {}
        for alpha in (0.1, 0.01):
            with mlflow.start_run(run_name=f"lasso-{alpha}") as run:
                mlflow.log_params({"alpha": alpha, "long": "x" * 5000})
                for step in range(20):
                    mlflow.log_metric("rmse", 1.0 / (alpha * 100 + step + 1), step=step, timestamp=1000 + step)
                mlflow.log_metric("nan_metric", float("nan"))
                mlflow.set_tags({"developer": "marcus", "mlflow.note.content": "a *note*"})
                mlflow.log_text(f"alpha={alpha}", "notes/readme.txt")
                mlflow.log_dict({"alpha": alpha}, "config/params.json")
                with mlflow.start_run(run_name=f"child-{alpha}", nested=True) as child:
                    mlflow.log_metric("val_rmse", alpha)
            written[run.info.run_id] = alpha
            written[child.info.run_id] = None
        client.delete_run(child.info.run_id)
        doomed = client.create_experiment("deleted-one")
        client.delete_experiment(doomed)
        expected = {rid: client.get_run(rid) for rid in written}
        histories = {rid: client.get_metric_history(rid, "rmse") for rid in written}
    finally:
        server.stop()

    real = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    exp = real.get_experiment(exp_id)
    assert exp.name == "roundtrip" and exp.tags == {"team": "mlops"}
    assert real.get_experiment(doomed).lifecycle_stage == "deleted"
    runs = real.search_runs([exp_id], run_view_type=ViewType.ALL, max_results=100)
    assert {r.info.run_id for r in runs} == set(written)
    for rid, want in expected.items():
        got = real.get_run(rid)
        assert got.info.run_name == want.info.run_name
        assert got.info.status == want.info.status == "FINISHED"
        assert got.info.lifecycle_stage == want.info.lifecycle_stage
        assert got.data.params == want.data.params
        assert got.data.tags == want.data.tags
        assert got.data.metrics.keys() == want.data.metrics.keys()
        for key, value in want.data.metrics.items():
            assert (math.isnan(value) and math.isnan(got.data.metrics[key])) or got.data.metrics[key] == value
        got_history = [(m.step, m.value, m.timestamp) for m in real.get_metric_history(rid, "rmse")]
        assert got_history == [(m.step, m.value, m.timestamp) for m in histories[rid]]
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 2 and all(len(real.get_metric_history(p.info.run_id, "rmse")) == 20 for p in parents)

    # Exported as an mlflow.db bundle, a real `mlflow server` opens it with no migration and
    # serves every artifact from mlartifacts/.
    bundle = workdir / "bundle.zip"
    out = subprocess.run([flowbook_bin(), "export", "--db", str(workdir / "mlflow.db"), "--format", "mlflow-db",
                          "--out", str(bundle)], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("exported ") and "runs" in out.stdout
    unzipped = workdir / "unzipped"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(unzipped)
    mlflow_server = start_mlflow(unzipped)
    try:
        mlflow.set_tracking_uri(mlflow_server.uri)
        over_http = MlflowClient(mlflow_server.uri)
        assert over_http.get_experiment_by_name("roundtrip").experiment_id == exp_id
        assert len(over_http.search_runs([exp_id], "metrics.rmse < 1", run_view_type=ViewType.ALL)) == 2
        for rid, alpha in written.items():
            if alpha is not None:
                assert mlflow.artifacts.load_text(f"runs:/{rid}/notes/readme.txt") == f"alpha={alpha}"
                assert mlflow.artifacts.load_dict(f"runs:/{rid}/config/params.json") == {"alpha": alpha}
                assert {f.path for f in over_http.list_artifacts(rid)} == {"notes", "config"}
    finally:
        mlflow_server.stop()
