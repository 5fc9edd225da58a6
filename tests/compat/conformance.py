"""A scripted workflow with the real `mlflow` client, run once against each server. Every step
records what the client saw — a normalized answer, or the error code and message — so the two
servers' transcripts can be compared step by step."""

import math
import os
import re
import tempfile
from pathlib import Path

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException

HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
MODEL_ID = re.compile(r"\bm-[0-9a-f]{32}\b")


class Transcript:
    def __init__(self, uri):
        self.uri = uri
        self.steps = []
        self.ids = {}

    def message(self, text: str) -> str:
        """An error message without what only one server can say: its own address, and the SQL
        statement (with timestamps) that MLflow's SQLAlchemy store appends after ' Error: ('."""
        text = text.replace(self.uri, "<server>")
        text = re.sub(r"port=\d+", "port=<port>", text)
        # MLflow prints Python sets, whose order follows the hash seed: compare them sorted.
        text = re.sub(r"\{('[^']*'(?:, '[^']*')*)\}",
                      lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", text)
        return text.split(" Error: (sqlite3.")[0]

    def alias(self, text: str) -> str:
        """Replaces generated ids (runs, logged models) with stable names in order of appearance."""
        text = MODEL_ID.sub(lambda m: self.ids.setdefault(m.group(0), f"<model{len(self.ids)}>"), text)
        return HEX32.sub(lambda m: self.ids.setdefault(m.group(0), f"<id{len(self.ids)}>"), text)

    def norm(self, value):
        if isinstance(value, dict):
            return {k: self.norm(v) for k, v in sorted(value.items())}
        if isinstance(value, (list, tuple)):
            return [self.norm(v) for v in value]
        if isinstance(value, str):
            return self.alias(value)
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        return value

    def step(self, name, fn):
        try:
            result = ("ok", self.norm(fn()))
        except MlflowException as e:
            result = ("error", e.error_code, self.alias(self.message(e.message)))
        self.steps.append((name, result))
        return result


def run_view(run):
    """What a user reads off a run, without wall-clock times."""
    return {
        "name": run.info.run_name,
        "status": run.info.status,
        "lifecycle": run.info.lifecycle_stage,
        "experiment": run.info.experiment_id,
        "user": run.info.user_id,
        "artifact_uri": run.info.artifact_uri,
        "has_end_time": run.info.end_time is not None,
        "params": run.data.params,
        "metrics": run.data.metrics,
        "tags": {k: v for k, v in run.data.tags.items() if k != "mlflow.source.name"},
        "datasets": [
            {"name": d.dataset.name, "digest": d.dataset.digest, "source_type": d.dataset.source_type,
             "tags": {t.key: t.value for t in d.tags}}
            for d in run.inputs.dataset_inputs
        ],
    }


def experiment_view(e):
    return {"id": e.experiment_id, "name": e.name, "lifecycle": e.lifecycle_stage,
            "artifact_location": e.artifact_location, "tags": e.tags}


def run_workflow(uri: str) -> Transcript:
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    t = Transcript(uri)
    s = t.step

    # Experiments
    exp_id = s("create experiment", lambda: client.create_experiment("conformance", tags={"team": "mlops"}))[1]
    s("create duplicate experiment", lambda: client.create_experiment("conformance"))
    s("create experiment with empty name", lambda: client.create_experiment(""))
    s("get experiment", lambda: experiment_view(client.get_experiment(exp_id)))
    s("get experiment by name", lambda: experiment_view(client.get_experiment_by_name("conformance")))
    s("get missing experiment by name", lambda: client.get_experiment_by_name("nope"))
    s("get missing experiment", lambda: client.get_experiment("424242"))
    s("get experiment with bad id", lambda: client.get_experiment("not-a-number"))
    s("set experiment tag", lambda: client.set_experiment_tag(exp_id, "course", "mlops-zoomcamp"))
    s("delete experiment tag", lambda: client.delete_experiment_tag(exp_id, "course"))
    s("delete missing experiment tag", lambda: client.delete_experiment_tag(exp_id, "course"))
    other = s("create second experiment", lambda: client.create_experiment("second"))[1]
    s("rename experiment", lambda: client.rename_experiment(other, "second-renamed"))
    s("get renamed", lambda: experiment_view(client.get_experiment(other)))

    # Runs and what is logged to them
    mlflow.set_experiment("conformance")
    with mlflow.start_run(run_name="lasso-0.1") as run:
        rid = run.info.run_id
        s("log param", lambda: mlflow.log_param("alpha", 0.1))
        s("log params", lambda: mlflow.log_params({"train-data-path": "./data/green.parquet", "l1": 1}))
        s("log same param again", lambda: mlflow.log_param("alpha", 0.1))
        s("change a param", lambda: client.log_param(rid, "alpha", 0.2))
        s("change params in a batch", lambda: client.log_batch(rid, params=[Param("alpha", "0.3"), Param("l1", "2")]))
        for step in range(5):
            mlflow.log_metric("rmse", 1.0 / (step + 1), step=step, timestamp=1000 + step)
        s("log NaN metric", lambda: mlflow.log_metric("nan_metric", float("nan")))
        s("log inf metric", lambda: mlflow.log_metric("inf_metric", float("inf")))
        s("log -inf metric", lambda: mlflow.log_metric("neg_inf_metric", float("-inf")))
        s("set tags", lambda: mlflow.set_tags({"developer": "marcus", "model": "lasso"}))
        s("set note", lambda: mlflow.set_tag("mlflow.note.content", "# A note\nwith *markdown*"))
        s("log batch", lambda: client.log_batch(
            rid, metrics=[Metric("mae", 0.5, 1000, 0), Metric("mae", 0.4, 1001, 1)],
            params=[Param("batch_param", "x")], tags=[RunTag("batch_tag", "y")]))
        s("log batch over the metric limit", lambda: client.log_batch(
            rid, metrics=[Metric("m", 0.0, 0, i) for i in range(1001)]))
        s("log text artifact", lambda: mlflow.log_text("hello", "notes/readme.txt"))
        s("log dict artifact", lambda: mlflow.log_dict({"alpha": 0.1}, "config/params.json"))
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "preprocessor").mkdir()
            (Path(d) / "preprocessor" / "dv.bin").write_bytes(bytes(range(256)))
            s("log artifacts folder", lambda: mlflow.log_artifacts(str(Path(d) / "preprocessor"), "preprocessor"))
        X = np.arange(12, dtype=float).reshape(6, 2)
        ds = mlflow.data.from_numpy(X, targets=X.sum(axis=1), name="train-data")
        s("log input", lambda: mlflow.log_input(ds, context="training"))
        with mlflow.start_run(run_name="child-1", nested=True) as child:
            mlflow.log_metric("val_rmse", 0.2)
        child_id = child.info.run_id
    s("get finished run", lambda: run_view(client.get_run(rid)))
    s("get child run", lambda: run_view(client.get_run(child_id)))
    s("get missing run", lambda: client.get_run("0" * 32))
    s("metric history", lambda: [(m.key, m.value, m.step, m.timestamp) for m in client.get_metric_history(rid, "rmse")])
    s("metric history of unknown key", lambda: client.get_metric_history(rid, "unknown"))
    s("list artifacts", lambda: [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(rid)])
    s("list artifact folder", lambda: [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(rid, "preprocessor")])
    s("download text", lambda: mlflow.artifacts.load_text(f"runs:/{rid}/notes/readme.txt"))
    s("download dict", lambda: mlflow.artifacts.load_dict(f"runs:/{rid}/config/params.json"))
    with tempfile.TemporaryDirectory() as d:
        s("download binary", lambda: list(Path(client.download_artifacts(rid, "preprocessor/dv.bin", d)).read_bytes()))

    # Tags and run updates
    s("delete tag", lambda: client.delete_tag(rid, "batch_tag"))
    s("delete missing tag", lambda: client.delete_tag(rid, "batch_tag"))
    s("rename run by tag", lambda: client.set_tag(rid, "mlflow.runName", "lasso-alpha-0.1"))
    s("update run", lambda: client.update_run(rid, status="FAILED", name="lasso-final"))
    s("run after update", lambda: run_view(client.get_run(rid)))
    s("create run with conflicting names", lambda: client.create_run(
        exp_id, run_name="a", tags={"mlflow.runName": "b"}))
    s("set terminated", lambda: client.set_terminated(child_id, status="KILLED"))

    # Runs for search
    for alpha, rmse, model in [(0.1, 0.9, "lasso"), (0.01, 0.4, "xgboost"), (1.0, 0.2, "xgb-tuned")]:
        with mlflow.start_run(run_name=f"search-{model}"):
            mlflow.log_params({"alpha": alpha, "model": model})
            mlflow.log_metric("rmse", rmse)
            mlflow.set_tag("model", model)

    def names(filter_string="", order_by=None, view=ViewType.ACTIVE_ONLY, max_results=1000):
        runs = client.search_runs([exp_id], filter_string, run_view_type=view, order_by=order_by,
                                  max_results=max_results)
        return [r.info.run_name for r in runs]

    s("search all", lambda: sorted(names()))
    s("search by metric", lambda: sorted(names("metrics.rmse < 0.5")))
    s("search by param", lambda: names("params.alpha = '0.1'", ["attributes.run_name"]))
    s("search by tag LIKE", lambda: sorted(names("tags.model LIKE 'xg%'")))
    s("search ILIKE", lambda: sorted(names("tags.model ILIKE 'XG%'")))
    s("search three clauses", lambda: names(
        "metrics.rmse < 1 and params.alpha != '5' and tags.model LIKE '%'", ["metrics.rmse DESC"]))
    s("search by status", lambda: sorted(names("attributes.status = 'FAILED'")))
    s("search by run_name IN", lambda: sorted(names("attributes.run_name IN ('search-lasso', 'search-xgboost')")))
    s("search order by param", lambda: names("", ["params.alpha ASC", "attributes.run_name"]))
    s("search order by metric desc", lambda: names("metrics.rmse > 0", ["metrics.rmse DESC"]))
    s("search bad filter", lambda: names("metrics.rmse <<< 3"))
    s("search bad attribute", lambda: names("attributes.nope = 'x'"))
    s("search string against metric", lambda: names("metrics.rmse = 'abc'"))
    s("search with OR", lambda: names("metrics.rmse < 1 OR metrics.rmse > 2"))
    s("search bad order", lambda: names("", ["metrics.rmse SIDEWAYS"]))
    s("search max_results 0", lambda: names("", None, ViewType.ACTIVE_ONLY, 0))

    def paged():
        first = client.search_runs([exp_id], "", max_results=2, order_by=["attributes.run_name"])
        second = client.search_runs([exp_id], "", max_results=2, order_by=["attributes.run_name"],
                                    page_token=first.token)
        return [r.info.run_name for r in first] + ["|"] + [r.info.run_name for r in second]
    s("search pages", paged)

    # Delete and restore
    s("delete run", lambda: client.delete_run(child_id))
    s("active after delete", lambda: sorted(names()))
    s("deleted only", lambda: sorted(names("", None, ViewType.DELETED_ONLY)))
    s("log to deleted run", lambda: client.log_param(child_id, "x", "1"))
    s("restore run", lambda: client.restore_run(child_id))
    s("delete missing run", lambda: client.delete_run("f" * 32))
    s("delete experiment", lambda: client.delete_experiment(other))
    s("deleted experiment", lambda: experiment_view(client.get_experiment(other)))
    s("delete experiment twice", lambda: client.delete_experiment(other))
    s("rename deleted experiment", lambda: client.rename_experiment(other, "zzz"))
    s("search experiments", lambda: [e.name for e in client.search_experiments(order_by=["name"])])
    s("search experiments deleted", lambda: [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)])
    s("search experiments by name", lambda: [e.name for e in client.search_experiments(filter_string="name LIKE 'conf%'")])
    s("search experiments by tag", lambda: [e.name for e in client.search_experiments(filter_string="tags.team = 'mlops'")])
    s("restore experiment", lambda: client.restore_experiment(other))
    s("restore active experiment", lambda: client.restore_experiment(other))

    # Models: mlflow.sklearn.log_model and loading it back
    from sklearn.linear_model import Lasso
    X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 4.0], [4.0, 3.0], [5.0, 6.0]])
    y = X @ np.array([1.5, -0.5]) + 1.0
    with mlflow.start_run(run_name="with-model") as mrun:
        info = mlflow.sklearn.log_model(Lasso(alpha=0.01).fit(X, y), name="model", input_example=X[:2])
    s("model flavors", lambda: sorted(mlflow.models.get_model_info(info.model_uri).flavors))
    s("load model by models:/m-id", lambda: [round(v, 9) for v in mlflow.pyfunc.load_model(info.model_uri).predict(X)])
    s("load model by runs:/", lambda: [round(v, 9) for v in
                                        mlflow.pyfunc.load_model(f"runs:/{mrun.info.run_id}/model").predict(X)])
    s("logged model", lambda: {k: v for k, v in vars(mlflow.get_logged_model(info.model_id)).items()
                               if k in ("_name", "_status", "_source_run_id")})
    s("run outputs", lambda: [o.model_id for o in client.get_run(mrun.info.run_id).outputs.model_outputs])
    return t
