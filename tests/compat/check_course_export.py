"""Opens the two exports the browser test downloaded with real MLflow 3.17.2 and checks the course's runs
and the champion alias are there. Called by tests/browser/course.test.mjs (not collected by pytest).

usage: python check_course_export.py MLRUNS_ZIP MLFLOW_DB_ZIP EXPERIMENT MODEL BEST_RUN_ID"""
import os
import sys
import tempfile
import zipfile

from mlflow import MlflowClient
from mlflow.entities import ViewType


def check(uri, experiment, model, best):
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, f"{uri}: no experiment {experiment}"
    runs = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=1000)
    by_name = {r.info.run_name: r for r in runs}
    for name, alpha in (("lasso-0.1", "0.1"), ("lasso-0.01", "0.01")):
        assert by_name[name].data.params["alpha"] == alpha, (uri, name)
        assert "val_root_mean_squared_error" in by_name[name].data.metrics
    trials = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    assert len(trials) >= 4, f"{uri}: the search's trials are nested runs ({len(trials)})"
    champion = client.get_model_version_by_alias(model, "champion")
    assert champion.run_id == best, (uri, champion.run_id, best)
    print(uri, "ok:", len(runs), "runs, champion is version", champion.version)


def main(mlruns_zip, db_zip, experiment, model, best):
    with tempfile.TemporaryDirectory() as d:
        for name, bundle in (("mlruns", mlruns_zip), ("db", db_zip)):
            with zipfile.ZipFile(bundle) as z:
                z.extractall(os.path.join(d, name))
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        os.chdir(os.path.join(d, "mlruns"))
        check("./mlruns", experiment, model, best)
        check(f"sqlite:///{os.path.join(d, 'db', 'mlflow.db')}", experiment, model, best)


if __name__ == "__main__":
    main(*sys.argv[1:6])
