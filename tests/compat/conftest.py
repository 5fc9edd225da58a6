"""Shared harness of the compatibility tests: real MLflow (from the venv) and `flowbook server`,
each started fresh on loopback with its own store."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# MLflow's client retries 5xx answers with exponential backoff (minutes per failing call); one quick
# retry keeps error paths fast and is the same for both servers.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def mlflow_uris_do_not_leak():
    """`mlflow.set_tracking_uri` / `set_registry_uri` also export MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI so
    that subprocesses inherit them; a test that used them would send every later subprocess (and client) to a
    server that has since stopped. Each test starts and ends with neither set."""
    import mlflow.tracking._model_registry.utils as registry_utils
    import mlflow.tracking._tracking_service.utils as tracking_utils

    def reset():
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            os.environ.pop(name, None)
        tracking_utils._tracking_uri = None
        registry_utils._registry_uri = None

    reset()
    yield
    reset()


def flowbook_bin() -> str:
    explicit = os.environ.get("FLOWBOOK_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache/flowbook/target"))
    for profile in ("release", "debug"):
        candidate = Path(target) / profile / "flowbook"
        if candidate.exists():
            return str(candidate)
    raise RuntimeError("flowbook binary not found: set FLOWBOOK_BIN or build it with cargo build")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, kind, proc, port, workdir, log):
        self.kind, self.proc, self.port, self.workdir, self.log = kind, proc, port, workdir, log
        self.uri = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited: {Path(self.log).read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.uri + "/api/2.0/mlflow/experiments/get?experiment_id=0", timeout=2):
                    return self
            except Exception:
                time.sleep(0.3)
        raise RuntimeError(f"{self.kind} server did not start: {Path(self.log).read_text()[-3000:]}")

    def stop(self, kill=False):
        """End the server and everything it started (`mlflow server` serves from a uvicorn child):
        each server leads its own process group. `kill` ends it at once, as a crash would."""
        if self.proc.poll() is None:
            self._signal_group(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait()
        # Children that outlived the leader still hold the port: end them too.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass


def start_flowbook(workdir: Path, db_name="mlflow.db") -> Server:
    port = free_port()
    log = workdir / "flowbook-server.log"
    proc = subprocess.Popen(
        [flowbook_bin(), "server", "--db", str(workdir / db_name), "--host", "127.0.0.1", "--port", str(port)],
        stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True,
    )
    return Server("flowbook", proc, port, workdir, log).wait_ready()


def start_mlflow(workdir: Path, db_name="mlflow.db", port=None) -> Server:
    port = port or free_port()
    log = workdir / "mlflow-server.log"
    mlflow_cli = str(Path(sys.executable).parent / "mlflow")
    proc = subprocess.Popen(
        [mlflow_cli, "server", "--backend-store-uri", f"sqlite:///{workdir / db_name}",
         "--artifacts-destination", str(workdir / "mlartifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True,
    )
    return Server("mlflow", proc, port, workdir, log).wait_ready()


@pytest.fixture
def workdir():
    d = Path(tempfile.mkdtemp(prefix="flowbook-compat-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def servers(workdir):
    """A fresh real `mlflow server` and a fresh `flowbook server`, side by side."""
    (workdir / "mlflow").mkdir()
    (workdir / "flowbook").mkdir()
    started = []
    try:
        started.append(start_mlflow(workdir / "mlflow"))
        started.append(start_flowbook(workdir / "flowbook"))
        yield {s.kind: s for s in started}
    finally:
        for s in started:
            s.stop()


def unzip_fixture(name: str, dest: Path) -> dict:
    with zipfile.ZipFile(FIXTURES / name) as z:
        z.extractall(dest)
    return json.loads((dest / "expected.json").read_text())
