"""Prints the "ML engine" table of BENCHMARKS.md from the three result files of one run:
Flowbook native (`cargo bench --bench ml`), Flowbook wasm in Chromium (`benches/ml_browser.mjs`)
and scikit-learn (`benches/sklearn_ml.py`).

    python benches/ml_report.py NATIVE_JSON WASM_JSON SKLEARN_JSON

Checks, each failure printed as a warning row under the table: native and wasm fit the same
rows (data digests) and, being the same code, score alike to 1e-9; Lasso scores within 1% of
scikit-learn (validation R², relative). Trees (whose exactly tied splits are broken by a random
feature order) and forests (bootstraps) use a random stream other than scikit-learn's, so a single
seed's score is not comparable: both sides score random_state 0–9, and the mean scores pass when
within 1% (trees) / 5% (forests) of each other or within three standard errors of their
difference (no significant difference). The TPE search's best loss is within 5% of hyperopt's.
"""
import json
import statistics
import sys

SHORT = {"Lasso": "Lasso", "DecisionTreeRegressor": "DecisionTree", "RandomForestRegressor": "RandomForest"}
TOLERANCE = {"Lasso": 0.01, "DecisionTreeRegressor": 0.01, "RandomForestRegressor": 0.05}


def ms(v):
    return f"{v:,.1f} ms" if v >= 10 else f"{v:,.2f} ms" if v >= 1 else f"{v:,.3f} ms"


def close(a, b, rel):
    return abs(a - b) <= rel * max(abs(b), 1e-12)


def spread_of(scores):
    return f"{statistics.fmean(scores):.4f} ± {statistics.stdev(scores):.4f}"


def same_mean(a, b, rel):
    """Whether two samples of scores have the same mean: within `rel`, or within three standard
    errors of their difference (Welch)."""
    mean_a, mean_b = statistics.fmean(a), statistics.fmean(b)
    error = (statistics.variance(a) / len(a) + statistics.variance(b) / len(b)) ** 0.5
    return close(mean_a, mean_b, rel) or abs(mean_a - mean_b) <= 3 * error


def main():
    native, wasm, sk = (json.load(open(p)) for p in sys.argv[1:4])
    warnings = []
    print(f"| data set × estimator | scikit-learn {sk['sklearn']} fit | Flowbook native fit | "
          "Flowbook wasm fit | wasm / scikit-learn | val R² scikit-learn / native / wasm |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for n, w, s in zip(native["fits"], wasm["fits"], sk["fits"]):
        name = f"{n['dataset']} × {SHORT[n['model']]}"
        assert (n["dataset"], n["model"]) == (w["dataset"], w["model"]) == (s["dataset"], s["model"])
        ratio = w["fit_ms"] / s["fit_ms"]
        goal = "" if ratio <= 2 else " ✗"
        seeded = "val_r2_seeds" in s
        spread = (f"; mean over seeds 0–{len(s['val_r2_seeds']) - 1}: {spread_of(s['val_r2_seeds'])} / "
                  f"{spread_of(n['val_r2_seeds'])}" if seeded else "")
        print(f"| {name} | {ms(s['fit_ms'])} | {ms(n['fit_ms'])} | {ms(w['fit_ms'])} | "
              f"**{ratio:.2f}×**{goal} | {s['val_r2']:.4f} / {n['val_r2']:.4f} / {w['val_r2']:.4f}{spread} |")
        if n["digest"] != w["digest"]:
            warnings.append(f"{name}: native and wasm fitted different rows ({n['digest']} vs {w['digest']})")
        if not close(n["val_r2"], w["val_r2"], 1e-9):
            warnings.append(f"{name}: native and wasm scores differ ({n['val_r2']} vs {w['val_r2']})")
        tol = TOLERANCE[n["model"]]
        if seeded:
            # Two random streams: the same estimator is the same when its mean score over seeds is.
            mean_s, mean_n = statistics.fmean(s["val_r2_seeds"]), statistics.fmean(n["val_r2_seeds"])
            if not same_mean(n["val_r2_seeds"], s["val_r2_seeds"], tol):
                warnings.append(f"{name}: Flowbook's mean R² over seeds {mean_n:.4f} is neither within {tol:.0%} "
                                f"of scikit-learn's {mean_s:.4f} nor within three standard errors")
        elif not close(n["val_r2"], s["val_r2"], tol):
            warnings.append(f"{name}: R² {n['val_r2']:.4f} is not within {tol:.0%} of scikit-learn's {s['val_r2']:.4f}")
    nt, wt, st = native["tpe"], wasm["tpe"], sk["tpe"]
    ratio = wt["search_ms"] / st["search_ms"]
    goal = "" if ratio <= 2 else " ✗"
    print(f"| TPE, {nt['trials']} trials: {nt['dataset']} × {SHORT[nt['model']]} (best val RMSE) | "
          f"{ms(st['search_ms'])} (hyperopt 0.3.0) | {ms(nt['search_ms'])} | {ms(wt['search_ms'])} | "
          f"**{ratio:.2f}×**{goal} | {st['best_val_rmse']:.4f} / {nt['best_val_rmse']:.4f} / "
          f"{wt['best_val_rmse']:.4f} |")
    if not close(nt["best_val_rmse"], wt["best_val_rmse"], 1e-9):
        warnings.append("TPE: native and wasm searches found different best losses")
    if not close(nt["best_val_rmse"], st["best_val_rmse"], 0.05):
        warnings.append(f"TPE: Flowbook's best RMSE {nt['best_val_rmse']:.4f} is not within 5% of "
                        f"hyperopt's {st['best_val_rmse']:.4f}")
    for w in warnings:
        print(f"| ⚠ {w} | | | | | |")
    print()
    print(f"TPE best parameters: hyperopt {st['best_params']}, Flowbook native {nt['best_params']}, "
          f"wasm {wt['best_params']}. Browser: {wasm.get('user_agent', '?')}")


if __name__ == "__main__":
    main()
