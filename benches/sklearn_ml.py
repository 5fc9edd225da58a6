"""ML speed benchmark, scikit-learn side: the same cases as Flowbook's `ml::bench` (read from its
JSON results, so the two cannot drift apart) on the very rows Flowbook fits — the train/validation
CSVs that `cargo bench --bench ml` writes from the engine's seeded split.

    python benches/sklearn_ml.py CSV_DIR FLOWBOOK_NATIVE_JSON RESULTS_JSON

Fit times are timed as Flowbook times them: the median of 5 samples, each sample fitting
repeatedly until 50 ms have passed (mean per fit). Scores are validation R² and RMSE; for the
randomized estimators also the range of R² over random_state 0–9 (`val_r2_seeds`).
The TPE row is hyperopt's `fmin(tpe.suggest)` over the same space, 50 trials, each fitting and
scoring the estimator (no tracking), seeded with 42.
"""
import json
import statistics
import sys
import time

import numpy as np
import sklearn
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Lasso
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.tree import DecisionTreeRegressor

ESTIMATORS = {
    "Lasso": Lasso,
    "DecisionTreeRegressor": DecisionTreeRegressor,
    "RandomForestRegressor": RandomForestRegressor,
}
REPEATS, MIN_MS = 5, 50.0
SEEDS = 10


def load(csv_dir, dataset, part):
    path = f"{csv_dir}/{dataset}-{part}.csv"
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    return data[:, :-1], data[:, -1]


def sk_params(params):
    """Flowbook's text parameters as Python values (scikit-learn's names are the same)."""
    out = {}
    for k, v in params.items():
        if v in ("None", "True", "False"):
            out[k] = {"None": None, "True": True, "False": False}[v]
        else:
            try:
                out[k] = int(v)
            except ValueError:
                out[k] = float(v)
    return out


def timed_fit(make, x, y):
    samples = []
    model = make().fit(x, y)
    for _ in range(REPEATS):
        start, fits = time.perf_counter(), 0
        while fits == 0 or (time.perf_counter() - start) * 1e3 < MIN_MS:
            model = make().fit(x, y)
            fits += 1
        samples.append((time.perf_counter() - start) * 1e3 / fits)
    return statistics.median(samples), model


def space_of(spec):
    space = {}
    for name, expr in spec.items():
        kind, *args = expr
        space[name] = {
            "uniform": hp.uniform,
            "quniform": hp.quniform,
            "loguniform": hp.loguniform,
        }[kind](name, *args)
    return space


def main():
    csv_dir, flowbook_json, out = sys.argv[1:4]
    flowbook = json.load(open(flowbook_json))
    fits = []
    for case in flowbook["fits"]:
        x, y = load(csv_dir, case["dataset"], "train")
        xv, yv = load(csv_dir, case["dataset"], "valid")
        assert len(y) == case["train_rows"] and len(yv) == case["valid_rows"], case
        cls, params = ESTIMATORS[case["model"]], sk_params(case["params"])
        ms, model = timed_fit(lambda: cls(**params), x, y)
        pred = model.predict(xv)
        fit = {
            "dataset": case["dataset"], "model": case["model"], "fit_ms": ms,
            "val_r2": r2_score(yv, pred), "val_rmse": mean_squared_error(yv, pred) ** 0.5,
        }
        if "random_state" in params:
            # Trees break exactly tied splits by a random feature order, forests draw bootstraps:
            # scikit-learn's own spread over seeds is what a different random stream may land in.
            seeds = [r2_score(yv, cls(**{**params, "random_state": s}).fit(x, y).predict(xv))
                     for s in range(SEEDS)]
            fit["val_r2_seeds"] = seeds
        fits.append(fit)
        print(f"{case['dataset']} {case['model']}: {ms:.3f} ms", file=sys.stderr)

    t = flowbook["tpe"]
    x, y = load(csv_dir, t["dataset"], "train")
    xv, yv = load(csv_dir, t["dataset"], "valid")
    fixed = sk_params({k: v for k, v in t.get("fixed", {}).items()})
    cls = ESTIMATORS[t["model"]]
    integer = {"max_depth", "min_samples_leaf", "min_samples_split", "n_estimators"}

    def objective(p):
        p = {k: int(v) if k in integer else v for k, v in p.items()}
        model = cls(**fixed, **p).fit(x, y)
        return {"loss": mean_squared_error(yv, model.predict(xv)) ** 0.5, "status": STATUS_OK}

    trials = Trials()
    start = time.perf_counter()
    best = fmin(objective, space_of(t["space"]), algo=tpe.suggest, max_evals=t["trials"],
                trials=trials, rstate=np.random.default_rng(42), show_progressbar=False)
    search_ms = (time.perf_counter() - start) * 1e3
    result = {
        "sklearn": sklearn.__version__,
        "fits": fits,
        "tpe": {"search_ms": search_ms, "trials": len(trials.trials),
                "best_val_rmse": min(trials.losses()), "best_params": best},
    }
    json.dump(result, open(out, "w"), indent=2)


if __name__ == "__main__":
    main()
