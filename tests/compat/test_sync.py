"""`flowbook push` and `flowbook pull` against a real `mlflow server` 3.17.2 on loopback (SQLite
backend, artifacts served by its proxy): every fixture bundle pushed holds every fact of its
expected.json on the server, a second push duplicates nothing, a push cut short by the server's
death resumes complete and unduplicated, and a pull brings the same data back. Error cases leave
the local store as it was."""

import hashlib
import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType

from conftest import FIXTURES, flowbook_bin, free_port, start_flowbook, start_mlflow

HERE = Path(__file__).parent
BUNDLES = ["mlflow3-sqlite-course.zip", "mlflow3-filestore-course.zip", "mlflow2-filestore-course.zip"]
ARTIFACT = ["artifacts-and-notes", "notes/readme.txt"]


def flowbook(*args, ok=True):
    out = subprocess.run([flowbook_bin(), *map(str, args)], capture_output=True, text=True)
    if ok:
        assert out.returncode == 0, out.stderr
    return out


def summary(out):
    return json.loads(out.stdout)


def import_fixture(bundle, store):
    assert flowbook("import", FIXTURES / bundle, "--db", store).stdout.startswith("imported ")
    with zipfile.ZipFile(FIXTURES / bundle) as z:
        return json.loads(z.read("expected.json"))


def run_ids(store, url, out):
    """The push mapping: the fixture's run ids → the server's."""
    with sqlite3.connect(store) as c:
        ids = dict(c.execute("SELECT local_id, remote_id FROM flowbook_sync WHERE kind = 'run' AND server = ?", (url,)))
    out.write_text(json.dumps(ids))
    return ids


def check(uri, expected, workdir, *extra):
    (workdir / "expected.json").write_text(json.dumps(expected))
    out = subprocess.run([sys.executable, str(HERE / "check_expected.py"), *map(str, extra), uri,
                          str(workdir / "expected.json"), *ARTIFACT], capture_output=True, text=True, cwd=workdir)
    assert out.returncode == 0 and "mlflow 3.17.2 ok" in out.stdout, f"{uri}:\n{out.stdout}\n{out.stderr[-4000:]}"


def facts(uri, workdir, name):
    subprocess.run([sys.executable, str(HERE / "check_expected.py"), "--facts", uri, str(workdir / name)],
                   check=True, cwd=workdir, capture_output=True)
    return json.loads((workdir / name).read_text())


def server_counts(uri):
    client = MlflowClient(uri)
    experiments = client.search_experiments(view_type=ViewType.ALL)
    ids = [e.experiment_id for e in experiments]
    return {
        "experiments": len(experiments),
        "runs": len(client.search_runs(ids, run_view_type=ViewType.ALL, max_results=1000)),
        "logged_models": len(client.search_logged_models(ids, max_results=1000)),
        "versions": len(client.search_model_versions(max_results=1000)),
    }


def model_metrics_on_server(uri):
    """Every logged model's metric points on the server, by model name, as the real client reads them."""
    client = MlflowClient(uri)
    ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    return sorted((m.name, k.key, k.step, k.timestamp, repr(k.value))
                  for m in client.search_logged_models(ids, max_results=1000) for k in (m.metrics or []))


def model_metrics_in_store(store):
    with sqlite3.connect(store) as c:
        return sorted((name, key, step, ts, repr(value)) for name, key, step, ts, value in c.execute(
            "SELECT m.name, k.metric_name, k.metric_step, k.metric_timestamp_ms, k.metric_value "
            "FROM logged_model_metrics k JOIN logged_models m USING (model_id)"))


@pytest.fixture(autouse=True)
def no_job_runner(monkeypatch):
    # The server's job runner (huey consumers, for GenAI jobs) is not used here and slows each start.
    monkeypatch.setenv("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")


def user_data(store):
    """Every row of every MLflow table (not Flowbook's sync bookkeeping), hashed."""
    digest = hashlib.sha256()
    with sqlite3.connect(store) as c:
        tables = [r[0] for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'flowbook_sync' ORDER BY name")]
        for t in tables:
            for row in sorted(map(repr, c.execute(f'SELECT * FROM "{t}"'))):
                digest.update(f"{t}{row}".encode())
    return digest.hexdigest()


@pytest.mark.parametrize("bundle", BUNDLES)
def test_a_pushed_fixture_holds_every_fact_on_a_real_server_twice_pushed_once_stored_and_pulls_back(bundle, workdir):
    (workdir / "server").mkdir()
    server = start_mlflow(workdir / "server")
    try:
        store = workdir / "store.db"
        expected = import_fixture(bundle, store)
        before = user_data(store)
        first = summary(flowbook("push", "--db", store, "--to", server.uri))
        assert first["created"]["runs"] == 10 and first["created"]["model_versions"] == 2, first
        assert first["created"]["artifacts"] > 0, first
        assert user_data(store) == before, "a push writes only its bookkeeping locally"
        ids = run_ids(store, server.uri, workdir / "ids.json")
        assert len(ids) == 10 and not set(ids) & set(ids.values()), "every run has its own id on the server"
        check(server.uri, expected, workdir, "--run-ids", workdir / "ids.json")
        counts = server_counts(server.uri)
        local_metrics = model_metrics_in_store(store)
        assert local_metrics or bundle.startswith("mlflow2"), "MLflow 3's logged models carry metrics"
        assert model_metrics_on_server(server.uri) == local_metrics, "logged models keep their metrics"

        again = summary(flowbook("push", "--db", store, "--to", server.uri))
        assert again["created"] == {k: 0 for k in again["created"]}, again
        assert again["skipped"]["runs"] == 10 and again["skipped"]["model_versions"] == 2, again
        assert server_counts(server.uri) == counts, "nothing was duplicated"
        assert model_metrics_on_server(server.uri) == local_metrics, "no metric point was duplicated"

        # Pull back into an empty store: the experiment and the deleted one (its name is still taken).
        back = workdir / "back.db"
        pulled = summary(flowbook("pull", "--db", back, "--from", server.uri, "--experiment", expected["experiment"]))
        assert pulled["created"]["runs"] == 10 and pulled["created"]["model_versions"] == 2, pulled
        flowbook("pull", "--db", back, "--from", server.uri, "--experiment", expected["deleted_experiment"])
        on_server = facts(server.uri, workdir, "server.json")
    finally:
        server.stop()
    (workdir / "back").mkdir()
    (workdir / "back" / "mlflow.db").write_bytes(back.read_bytes())
    served = start_flowbook(workdir / "back")
    try:
        # The pulled store keeps the server's ids: the same mapping reads it.
        check(served.uri, expected, workdir, "--run-ids", workdir / "ids.json")
        assert facts(served.uri, workdir, "back.json") == on_server, "histories, inputs and logged models come back"
    finally:
        served.stop()


def test_a_push_cut_short_by_the_server_resumes_complete_and_unduplicated(workdir):
    (workdir / "server").mkdir()
    store = workdir / "store.db"
    expected = import_fixture("mlflow3-sqlite-course.zip", store)
    server = start_mlflow(workdir / "server")
    port = server.port
    push = subprocess.Popen([flowbook_bin(), "push", "--db", str(store), "--to", server.uri],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Progress is "\r<done>/<total>" on stderr: kill the server once four objects are sent.
        seen = b""
        while b"\r4/" not in seen:
            byte = push.stderr.read(1)
            assert byte, f"the push ended before the server was killed: {seen!r}"
            seen += byte
        server.stop(kill=True)
        _, err = push.communicate(timeout=120)
    finally:
        if push.poll() is None:
            push.kill()
    assert push.returncode != 0
    assert f"cannot reach the MLflow server at {server.uri}" in err.decode(), err
    with sqlite3.connect(store) as c:
        done = c.execute("SELECT count(*) FROM flowbook_sync WHERE kind = 'run' AND done = 1").fetchone()[0]
    assert 4 <= done < 10, f"{done} runs were recorded complete"

    server = start_mlflow(workdir / "server", port=port)
    try:
        resumed = summary(flowbook("push", "--db", store, "--to", server.uri))
        assert resumed["skipped"]["runs"] == done and resumed["created"]["runs"] == 10 - done, resumed
        run_ids(store, server.uri, workdir / "ids.json")
        check(server.uri, expected, workdir, "--run-ids", workdir / "ids.json")
        counts = server_counts(server.uri)
        assert (counts["runs"], counts["logged_models"], counts["versions"]) == (10, 3, 2), counts
        assert model_metrics_on_server(server.uri) == model_metrics_in_store(store)
    finally:
        server.stop()


def test_errors_name_the_problem_and_leave_the_store_as_it_was(workdir):
    store = workdir / "store.db"
    import_fixture("mlflow2-filestore-course.zip", store)
    before = user_data(store)
    nobody = f"http://127.0.0.1:{free_port()}"
    out = flowbook("push", "--db", store, "--to", nobody, ok=False)
    assert out.returncode != 0 and f"cannot reach the MLflow server at {nobody}" in out.stderr, out.stderr
    out = flowbook("push", "--db", store, "--to", "localhost:5000", ok=False)
    assert out.returncode != 0 and "'localhost:5000' is not an MLflow tracking server URL" in out.stderr
    out = flowbook("push", "--db", store, "--to", nobody, "--experiment", "no-such", ok=False)
    assert out.returncode != 0 and "this store has no experiment named 'no-such'" in out.stderr

    (workdir / "server").mkdir()
    server = start_mlflow(workdir / "server")
    try:
        flowbook("push", "--db", store, "--to", server.uri, "--experiment", "nyc-taxi-experiment")
        snapshot = user_data(store)
        out = flowbook("pull", "--db", store, "--from", server.uri, "--experiment", "nyc-taxi-experiment",
                       "--filter", "metrics.rmse <<< 1", ok=False)
        assert out.returncode != 0, out.stdout
        assert f"the MLflow server at {server.uri} refused POST runs/search (HTTP 400 INVALID_PARAMETER_VALUE)" \
            in out.stderr, out.stderr
        out = flowbook("pull", "--db", store, "--from", server.uri, "--experiment", "absent", ok=False)
        assert f"the MLflow server at {server.uri} has no experiment named 'absent'" in out.stderr, out.stderr
        assert user_data(store) == snapshot
        # With the server gone, a pull fails and writes nothing.
        server.stop()
        out = flowbook("pull", "--db", store, "--from", server.uri, "--experiment", "nyc-taxi-experiment", ok=False)
        assert out.returncode != 0 and "cannot reach the MLflow server" in out.stderr
    finally:
        server.stop()
    assert user_data(store) == snapshot
    assert snapshot == before, "pushing changed no user data"
