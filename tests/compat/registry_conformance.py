"""The model registry with the real `mlflow` client, run once against each server: registered
models, versions, tags, aliases, stages, search, download URIs and loading models by their
registry URIs. Every step records what the client saw (see conformance.Transcript), so the two
servers' transcripts can be compared step by step."""

import re
import tempfile
import time
import warnings
from pathlib import Path

import mlflow
import numpy as np
import requests
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion, RegisteredModel

from conformance import Transcript

warnings.filterwarnings("ignore", category=FutureWarning)


class RegistryTranscript(Transcript):
    def message(self, text: str) -> str:
        """Also without the port, which the client's retry error names for 5xx answers."""
        return re.sub(r"port=\d+", "port=<port>", super().message(text))

    def raw(self, name, method, endpoint, body):
        """One request without the client, to compare what it hides (the body of a 5xx answer)."""
        url = f"{self.uri}/api/2.0/mlflow/{endpoint}"
        r = requests.get(url, params=body) if method == "GET" else requests.request(method, url, json=body)
        answer = r.json()
        self.steps.append((name, ("raw", r.status_code, self.norm({k: answer.get(k) for k in ("error_code", "message")}))))


MODEL = "nyc-taxi-regressor"


def mv_view(mv: ModelVersion) -> dict:
    """What a user reads off a model version, without wall-clock times."""
    return {
        "name": mv.name,
        "version": str(mv.version),
        "stage": mv.current_stage,
        "description": mv.description,
        "source": mv.source,
        "run_id": mv.run_id,
        "run_link": mv.run_link,
        "status": mv.status,
        "status_message": mv.status_message,
        # The REST client reads an absent user as "", MLflow's SQL store answers None.
        "user_id": mv.user_id or None,
        "tags": mv.tags,
        "aliases": sorted(mv.aliases),
        "model_id": mv.model_id,
        "times_set": (mv.creation_timestamp or 0) > 0 and (mv.last_updated_timestamp or 0) >= mv.creation_timestamp,
    }


def rm_view(rm: RegisteredModel) -> dict:
    return {
        "name": rm.name,
        "description": rm.description,
        "tags": rm.tags,
        # Versions as strings: MLflow's REST client reads them so, its SQL store answers ints.
        "aliases": {alias: str(version) for alias, version in rm.aliases.items()},
        "latest_versions": [mv_view(mv) for mv in rm.latest_versions],
        "times_set": (rm.creation_timestamp or 0) > 0 and (rm.last_updated_timestamp or 0) >= rm.creation_timestamp,
    }


def registry_state(client: MlflowClient) -> dict:
    """Everything the registry holds, as the client reads it: to compare a store read over HTTP with
    the same store read by MLflow directly from its database file."""
    models = {}
    for rm in client.search_registered_models(max_results=1000):
        full = client.get_registered_model(rm.name)
        models[rm.name] = {
            **rm_view(full),
            "creation_timestamp": full.creation_timestamp,
            "last_updated_timestamp": full.last_updated_timestamp,
            "versions": {
                str(mv.version): {
                    **mv_view(client.get_model_version(mv.name, mv.version)),
                    "creation_timestamp": mv.creation_timestamp,
                    "last_updated_timestamp": mv.last_updated_timestamp,
                    "download_uri": client.get_model_version_download_uri(mv.name, mv.version),
                }
                for mv in client.search_model_versions(f"name = '{rm.name}'")
            },
        }
    return models


def run_registry_workflow(uri: str) -> Transcript:
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    t = RegistryTranscript(uri)
    s = t.step

    from sklearn.linear_model import Lasso

    X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 4.0], [4.0, 3.0], [5.0, 6.0]])
    y = X @ np.array([1.5, -0.5]) + 1.0
    mlflow.set_experiment("registry")

    # Runs with an MLflow 3 model each (files under the logged model), and one whose model files
    # are the run's own artifacts (how MLflow 2 logged them).
    runs = []
    for alpha in (0.01, 0.1, 1.0):
        with mlflow.start_run(run_name=f"lasso-{alpha}") as run:
            info = mlflow.sklearn.log_model(Lasso(alpha=alpha).fit(X, y), name="model", input_example=X[:2])
            mlflow.log_metric("rmse", alpha)
        runs.append((run.info.run_id, info))
    with mlflow.start_run(run_name="files-in-run") as run:
        with tempfile.TemporaryDirectory() as d:
            mlflow.sklearn.save_model(Lasso(alpha=0.5).fit(X, y), str(Path(d) / "m"))
            mlflow.log_artifacts(str(Path(d) / "m"), "sk_model")
        files_run = run.info.run_id
        files_root = run.info.artifact_uri
    (rid0, info0), (rid1, info1), (rid2, info2) = runs

    # Registering: from a run (MLflow 3 finds the run's logged model), from a logged model, from
    # a run's own files.
    s("register from runs:/", lambda: mv_view(mlflow.register_model(f"runs:/{rid0}/model", MODEL)))
    s("register from models:/m-id", lambda: mv_view(mlflow.register_model(info1.model_uri, MODEL)))
    s("register from run files", lambda: mv_view(mlflow.register_model(f"runs:/{files_run}/sk_model", MODEL)))
    s("register from missing run path", lambda: mv_view(mlflow.register_model(f"runs:/{rid0}/nothing", MODEL)))
    s("logged model lists its versions", lambda: mlflow.get_logged_model(info1.model_id).tags.get("mlflow.modelVersions"))
    s("get registered model", lambda: rm_view(client.get_registered_model(MODEL)))

    # Registered models
    s("create model", lambda: rm_view(client.create_registered_model(
        "scratch", tags={"team": "mlops", "stage": "dev"}, description="a model to play with")))
    s("create duplicate", lambda: client.create_registered_model("scratch"))
    s("create empty name", lambda: client.create_registered_model(""))
    s("create with slash", lambda: client.create_registered_model("a/b"))
    s("create with colon", lambda: client.create_registered_model("a:b"))
    s("create dot-dot", lambda: client.create_registered_model(".."))
    s("get missing model", lambda: client.get_registered_model("nope"))
    s("update description", lambda: rm_view(client.update_registered_model("scratch", description="updated")))
    s("update missing model", lambda: client.update_registered_model("nope", description="x"))
    s("set model tag", lambda: client.set_registered_model_tag("scratch", "owner", "ann"))
    s("overwrite model tag", lambda: client.set_registered_model_tag("scratch", "team", "platform"))
    s("set bad model tag", lambda: client.set_registered_model_tag("scratch", "../x", "v"))
    s("set tag on missing model", lambda: client.set_registered_model_tag("nope", "k", "v"))
    s("delete model tag", lambda: client.delete_registered_model_tag("scratch", "stage"))
    s("delete missing model tag", lambda: client.delete_registered_model_tag("scratch", "stage"))
    s("model tags", lambda: client.get_registered_model("scratch").tags)

    # Versions, explicitly
    s("version from run artifacts", lambda: mv_view(client.create_model_version(
        "scratch", f"{files_root}/sk_model", run_id=files_run, tags={"k": "v"}, description="first",
        run_link="http://example.com/run")))
    s("version from runs:/", lambda: mv_view(client.create_model_version("scratch", f"runs:/{rid2}/model", run_id=rid2)))
    s("version from logged model", lambda: mv_view(client.create_model_version(
        "scratch", info2.model_uri, model_id=info2.model_id)))
    s("version from another version", lambda: mv_view(client.create_model_version("scratch", f"models:/{MODEL}/1")))
    s("version from s3", lambda: mv_view(client.create_model_version("scratch", "s3://bucket/path/model")))
    s("version source outside run", lambda: client.create_model_version("scratch", f"{files_root}/sk_model", run_id=rid0))
    s("version local source", lambda: client.create_model_version("scratch", "/tmp/model"))
    s("version traversal source", lambda: client.create_model_version(
        "scratch", f"{files_root}/../../x", run_id=files_run))
    s("version http source", lambda: client.create_model_version("scratch", "http://example.com/model"))
    s("version of missing model", lambda: client.create_model_version("nope", f"runs:/{rid2}/model", run_id=rid2))
    s("version from missing stage", lambda: client.create_model_version("scratch", f"models:/{MODEL}/Production"))
    t.raw("version from missing stage (raw)", "POST", "model-versions/create",
          {"name": "scratch", "source": f"models:/{MODEL}/Production"})
    t.raw("version from missing logged model (raw)", "POST", "model-versions/create",
          {"name": "scratch", "source": "models:/m-0000", "model_id": "m-0000"})
    s("get version", lambda: mv_view(client.get_model_version("scratch", "1")))
    s("get missing version", lambda: client.get_model_version("scratch", "42"))
    s("get version bad number", lambda: client.get_model_version("scratch", "abc"))
    s("update version", lambda: mv_view(client.update_model_version("scratch", "1", description="better")))
    s("update missing version", lambda: client.update_model_version("scratch", "42", description="x"))
    s("set version tag", lambda: client.set_model_version_tag("scratch", "1", "validated", "yes"))
    s("set version tag missing version", lambda: client.set_model_version_tag("scratch", "42", "k", "v"))
    s("delete version tag", lambda: client.delete_model_version_tag("scratch", "1", "k"))
    s("delete missing version tag", lambda: client.delete_model_version_tag("scratch", "1", "k"))
    s("version tags", lambda: client.get_model_version("scratch", "1").tags)
    s("delete version", lambda: client.delete_model_version("scratch", "5"))
    s("delete version again", lambda: client.delete_model_version("scratch", "5"))
    s("numbers are not reused", lambda: mv_view(client.create_model_version("scratch", "s3://bucket/path/other")))
    s("download uri of run files", lambda: client.get_model_version_download_uri("scratch", "1"))
    s("download uri of runs:/", lambda: client.get_model_version_download_uri("scratch", "2"))
    s("download uri of logged model", lambda: client.get_model_version_download_uri("scratch", "3"))
    s("download uri of another version", lambda: client.get_model_version_download_uri("scratch", "4"))
    s("download uri missing", lambda: client.get_model_version_download_uri("scratch", "42"))

    # Aliases
    s("set alias", lambda: client.set_registered_model_alias(MODEL, "Champion", "1"))
    s("set second alias", lambda: client.set_registered_model_alias(MODEL, "challenger", "2"))
    s("get by alias", lambda: mv_view(client.get_model_version_by_alias(MODEL, "Champion")))
    s("move alias", lambda: client.set_registered_model_alias(MODEL, "Champion", "2"))
    s("get moved alias", lambda: mv_view(client.get_model_version_by_alias(MODEL, "Champion")))
    s("aliases on the model", lambda: client.get_registered_model(MODEL).aliases)
    s("version 1 aliases", lambda: client.get_model_version(MODEL, "1").aliases)
    s("get by latest", lambda: mv_view(client.get_model_version_by_alias(MODEL, "latest")))
    s("reserved alias latest", lambda: client.set_registered_model_alias(MODEL, "Latest", "1"))
    s("reserved alias v1", lambda: client.set_registered_model_alias(MODEL, "v1", "1"))
    s("bad alias", lambda: client.set_registered_model_alias(MODEL, "a.b", "1"))
    s("alias to missing version", lambda: client.set_registered_model_alias(MODEL, "x", "42"))
    s("get missing alias", lambda: client.get_model_version_by_alias(MODEL, "nope"))
    s("delete alias", lambda: client.delete_registered_model_alias(MODEL, "challenger"))
    s("delete missing alias", lambda: client.delete_registered_model_alias(MODEL, "challenger"))
    s("delete alias of missing model", lambda: client.delete_registered_model_alias("nope", "x"))

    # Stages
    s("to staging", lambda: mv_view(client.transition_model_version_stage(MODEL, "1", "staging")))
    s("to production", lambda: mv_view(client.transition_model_version_stage(MODEL, "2", "Production")))
    s("another to production", lambda: mv_view(client.transition_model_version_stage(MODEL, "3", "PRODUCTION")))
    s("production archiving the others", lambda: mv_view(client.transition_model_version_stage(
        MODEL, "1", "Production", archive_existing_versions=True)))

    def archived_together():
        v1, v2, v3 = (client.get_model_version(MODEL, v) for v in ("1", "2", "3"))
        return [v.current_stage for v in (v1, v2, v3)], v2.last_updated_timestamp == v1.last_updated_timestamp

    s("others archived at once", archived_together)
    s("bad stage", lambda: client.transition_model_version_stage(MODEL, "1", "prod"))
    s("archive from None", lambda: client.transition_model_version_stage(MODEL, "1", "None", archive_existing_versions=True))
    t.raw("archive from None (raw)", "POST", "model-versions/transition-stage",
          {"name": MODEL, "version": "1", "stage": "None", "archive_existing_versions": True})
    s("latest versions", lambda: [mv_view(mv) for mv in client.get_latest_versions(MODEL)])
    s("latest production", lambda: [mv_view(mv) for mv in client.get_latest_versions(MODEL, stages=["production"])])
    s("latest none", lambda: [mv_view(mv) for mv in client.get_latest_versions(MODEL, stages=["None"])])
    s("latest bad stage", lambda: client.get_latest_versions(MODEL, stages=["foo"]))
    s("model after stages", lambda: rm_view(client.get_registered_model(MODEL)))

    # Loading models by their registry URIs
    s("load by alias", lambda: [round(v, 9) for v in mlflow.pyfunc.load_model(f"models:/{MODEL}@Champion").predict(X)])
    s("load by version", lambda: [round(v, 9) for v in mlflow.pyfunc.load_model(f"models:/{MODEL}/3").predict(X)])
    s("load by stage", lambda: [round(v, 9) for v in mlflow.pyfunc.load_model(f"models:/{MODEL}/Production").predict(X)])
    s("load by latest", lambda: [round(v, 9) for v in mlflow.pyfunc.load_model(f"models:/{MODEL}/latest").predict(X)])
    s("load run-files version", lambda: [round(v, 9) for v in mlflow.pyfunc.load_model("models:/scratch/1").predict(X)])
    s("load missing alias", lambda: mlflow.pyfunc.load_model(f"models:/{MODEL}@nope"))
    s("load missing version", lambda: mlflow.pyfunc.load_model(f"models:/{MODEL}/42"))

    # Search
    time.sleep(0.01)
    client.create_registered_model("zeta-model", tags={"team": "mlops"})

    def names(**kw):
        return [m.name for m in client.search_registered_models(**kw)]

    def versions(**kw):
        return [(v.name, v.version) for v in client.search_model_versions(**kw)]

    s("search models", lambda: names())
    s("search models views", lambda: [rm_view(m) for m in client.search_registered_models()])
    s("search models LIKE", lambda: names(filter_string="name LIKE '%model%'"))
    s("search models ILIKE", lambda: names(filter_string="name ILIKE 'NYC%'"))
    s("search models by tag", lambda: names(filter_string="tags.team = 'mlops'"))
    s("search models order desc", lambda: names(order_by=["name DESC"]))
    s("search models by update time", lambda: names(order_by=["last_updated_timestamp DESC"]))
    s("search models bad key", lambda: names(filter_string="foo = 'x'"))
    s("search models bad order", lambda: names(order_by=["name SIDEWAYS"]))
    t.raw("search models over the limit (raw)", "GET", "registered-models/search", {"max_results": 5000})
    t.raw("search versions over the limit (raw)", "GET", "model-versions/search", {"max_results": 300000})

    def model_pages():
        first = client.search_registered_models(max_results=2)
        second = client.search_registered_models(max_results=2, page_token=first.token)
        return [m.name for m in first] + ["|"] + [m.name for m in second] + [first.token, second.token]

    s("search models pages", model_pages)
    s("search versions of a model", lambda: versions(filter_string=f"name = '{MODEL}'"))
    s("search versions views", lambda: [mv_view(v) for v in client.search_model_versions(f"name = '{MODEL}'")])
    s("search versions by run", lambda: versions(filter_string=f"run_id = '{rid2}'"))
    s("search versions by tag", lambda: versions(filter_string="tags.validated = 'yes'"))
    s("search versions ordered", lambda: versions(filter_string=f"name = '{MODEL}'", order_by=["version_number ASC"]))
    s("search versions by number", lambda: versions(filter_string=f"name = '{MODEL}' AND version_number >= 2"))
    s("search all versions", lambda: versions())

    def version_pages():
        first = client.search_model_versions(f"name = '{MODEL}'", max_results=2, order_by=["version_number"])
        second = client.search_model_versions(f"name = '{MODEL}'", max_results=2, order_by=["version_number"],
                                              page_token=first.token)
        return [v.version for v in first] + ["|"] + [v.version for v in second] + [first.token, second.token]

    s("search versions pages", version_pages)

    # The course's selection: tag each version with its evaluation, choose aliases by querying.
    for version, rmse, seconds, status in (("1", 5.5, 0.6, "passed"), ("2", 5.1, 0.9, "failed"), ("3", 5.9, 0.1, "passed")):
        client.set_model_version_tag(MODEL, version, "test_rmse", str(rmse))
        client.set_model_version_tag(MODEL, version, "prediction_time", str(seconds))
        client.set_model_version_tag(MODEL, version, "evaluation_status", status)

    def select():
        candidates = client.search_model_versions(f"name = '{MODEL}'")
        scored = [v for v in candidates if "test_rmse" in v.tags]
        passed = [v for v in scored if v.tags["evaluation_status"] == "passed"]
        choice = {
            "Champion": min(passed, key=lambda v: float(v.tags["test_rmse"])).version,
            "Fastest": min(scored, key=lambda v: float(v.tags["prediction_time"])).version,
            "Best": min(scored, key=lambda v: float(v.tags["test_rmse"])).version,
        }
        for alias, version in choice.items():
            client.set_registered_model_alias(MODEL, alias, version)
        return choice

    s("select aliases", select)
    s("aliases after selection", lambda: client.get_registered_model(MODEL).aliases)
    s("load champion", lambda: [round(v, 9) for v in mlflow.pyfunc.load_model(f"models:/{MODEL}@Champion").predict(X)])

    # Rename and delete
    s("rename", lambda: client.rename_registered_model("scratch", "scratch-renamed"))
    s("renamed model", lambda: rm_view(client.get_registered_model("scratch-renamed")))
    s("renamed versions", lambda: mv_view(client.get_model_version("scratch-renamed", "1")))
    s("old name gone", lambda: client.get_registered_model("scratch"))
    s("rename onto existing", lambda: client.rename_registered_model("scratch-renamed", MODEL))
    s("rename missing", lambda: client.rename_registered_model("nope", "x"))
    s("delete model", lambda: client.delete_registered_model("scratch-renamed"))
    s("delete model again", lambda: client.delete_registered_model("scratch-renamed"))
    s("deleted model's versions", lambda: versions(filter_string="name = 'scratch-renamed'"))
    s("final models", lambda: names())
    return t
