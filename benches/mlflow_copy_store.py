"""Real MLflow's own way to turn a SQL store into a file store (it has no export command): read every
experiment and run with SqlAlchemyStore, write them with FileStore.log_batch (params, tags, every
metric point). The baseline of Flowbook's export in benches/bundles.py.

usage: MLFLOW_ALLOW_FILE_STORE=true python mlflow_copy_store.py MLFLOW_DB TARGET_MLRUNS"""
import sys

from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.store.tracking.file_store import FileStore
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore


def main(db, target):
    src = SqlAlchemyStore(f"sqlite:///{db}", "./mlartifacts")
    dst = FileStore(target)
    for exp in src.search_experiments(view_type=ViewType.ALL):
        exp_id = exp.experiment_id if exp.name == "Default" else dst.create_experiment(exp.name)
        token = None
        while True:
            runs = src.search_runs([exp.experiment_id], "", ViewType.ALL, max_results=1000, page_token=token)
            for run in runs:
                new = dst.create_run(exp_id, run.info.user_id, run.info.start_time, [], run.info.run_name)
                metrics = [Metric(m.key, m.value, m.timestamp, m.step)
                           for key in run.data.metrics for m in src.get_metric_history(run.info.run_id, key)]
                params = [Param(k, v) for k, v in run.data.params.items()]
                tags = [RunTag(k, v) for k, v in run.data.tags.items() if k != "mlflow.runName"]
                # MLflow's batch limit is 1000 entities in all: params and tags first, then metrics.
                dst.log_batch(new.info.run_id, [], params, tags)
                for i in range(0, len(metrics), 1000):
                    dst.log_batch(new.info.run_id, metrics[i:i + 1000], [], [])
                dst.update_run_info(new.info.run_id, run.info.status, run.info.end_time, None)
            token = runs.token
            if not token:
                break


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
