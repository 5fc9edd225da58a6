//! The engine side of the ML speed benchmark (BENCHMARKS.md, "ML engine"): the same cases run
//! natively (`benches/ml.rs`) and compiled to wasm32 in the browser's worker (the `bench-ml` job,
//! driven by `benches/ml_browser.mjs`); `benches/sklearn_ml.py` runs them with scikit-learn on
//! the very rows [`split_csv`] writes out.
//!
//! Fit times are the median of `repeats` samples; a sample fits repeatedly until `min_ms` have
//! passed and is the mean time per fit, so that sub-millisecond fits are timed well even where the
//! clock is coarse (the browser's). Scores are validation R² and RMSE, as Flowbook logs them.

use super::data::{self, Column, Dataset};
use super::estimators::Estimator;
use super::metrics;
use super::train::TrainSpec;
use super::tuning::{self, Algo, SearchSpec};
use crate::tracking::Store;
use serde_json::{json, Value};

/// Estimator parameters by scikit-learn's names, as text.
pub type Params = &'static [(&'static str, &'static str)];

/// The data sets, estimators and parameters of the fit table.
pub const CASES: [(&str, &str, Params); 6] = [
    ("diabetes", "Lasso", &[("alpha", "0.1")]),
    (
        "diabetes",
        "DecisionTreeRegressor",
        &[("random_state", "0")],
    ),
    (
        "diabetes",
        "RandomForestRegressor",
        &[("n_estimators", "100"), ("random_state", "0")],
    ),
    ("winequality", "Lasso", &[("alpha", "0.1")]),
    (
        "winequality",
        "DecisionTreeRegressor",
        &[("random_state", "0")],
    ),
    (
        "winequality",
        "RandomForestRegressor",
        &[("n_estimators", "100"), ("random_state", "0")],
    ),
];

/// The TPE search: data set, estimator, fixed parameters, and the space (the app's default).
pub const TPE: (&str, &str, Params, &str) = (
    "winequality",
    "DecisionTreeRegressor",
    &[("random_state", "0")],
    r#"{"max_depth": ["quniform", 1, 12, 1], "min_samples_leaf": ["quniform", 1, 20, 1]}"#,
);
pub const TPE_TRIALS: usize = 50;
pub const TPE_SEED: u64 = 42;

/// Milliseconds from an arbitrary origin, as finely as the target's clock allows.
#[cfg(not(target_arch = "wasm32"))]
fn now() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

/// `performance.now()` of the worker or page (falls back to `Date.now()`).
#[cfg(target_arch = "wasm32")]
fn now() -> f64 {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::JsCast;
    Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| {
            let f = Reflect::get(&p, &"now".into()).ok()?;
            f.dyn_into::<Function>().ok()?.call0(&p).ok()?.as_f64()
        })
        .unwrap_or_else(js_sys::Date::now)
}

fn estimator(name: &str, params: &[(&str, &str)]) -> Result<Estimator, String> {
    params
        .iter()
        .try_fold(Estimator::new(name)?, |e, (k, v)| e.set(k, v))
}

/// A training spec with the engine's defaults (validation fraction 0.25, seed 42).
fn spec(dataset: &str, estimator: Estimator) -> Result<TrainSpec, String> {
    Ok(TrainSpec::new(
        "bench-ml",
        data::builtin(dataset, 0, 0)?,
        estimator,
    ))
}

/// The training and validation sets of the engine's seeded split.
fn sets(dataset: &str) -> Result<(Dataset, Dataset), String> {
    let spec = spec(dataset, Estimator::new("Lasso")?)?;
    let (train, valid) = spec.split()?;
    Ok((spec.data.take(&train), spec.data.take(&valid)))
}

fn to_csv(set: &Dataset) -> String {
    let mut out = set.features.names.join(",");
    out.push_str(",target\n");
    for row in 0..set.nrows() {
        for column in &set.features.columns {
            match column {
                Column::Numeric(v) => out.push_str(&format!("{:?},", v[row])),
                Column::Text(v) => out.push_str(&format!("{},", v[row])),
            }
        }
        out.push_str(&format!("{:?}\n", set.target[row]));
    }
    out
}

/// The training and validation rows of `dataset` as CSV (header, then `target` last), exactly
/// the rows the benchmark fits on, each number written so that it parses back to the same f64.
pub fn split_csv(dataset: &str) -> Result<(String, String), String> {
    let (train, valid) = sets(dataset)?;
    Ok((to_csv(&train), to_csv(&valid)))
}

fn params_json(params: &[(&str, &str)]) -> Value {
    params
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One case: the median fit time and the validation scores.
fn fit_case(
    dataset: &str,
    name: &str,
    params: &[(&str, &str)],
    repeats: usize,
    min_ms: f64,
    seeds: u64,
) -> Result<Value, String> {
    let (train, valid) = sets(dataset)?;
    let x = train.features.numeric_matrix()?;
    let xv = valid.features.numeric_matrix()?;
    let est = estimator(name, params)?;
    let mut samples = Vec::new();
    let mut model = est.fit(x.view(), &train.target)?;
    for _ in 0..repeats.max(1) {
        let (start, mut fits) = (now(), 0usize);
        while fits == 0 || now() - start < min_ms {
            model = est.fit(x.view(), &train.target)?;
            fits += 1;
        }
        samples.push((now() - start) / fits as f64);
    }
    let pred = model.predict(xv.view())?;
    // A seeded estimator's score over random_state 0…seeds-1: another random stream than
    // scikit-learn's (NumPy's) lands elsewhere in the same spread, so the means are compared.
    let mut over_seeds = Vec::new();
    if params.iter().any(|(k, _)| *k == "random_state") {
        for seed in 0..seeds {
            let seed = seed.to_string();
            let pick = |k: &str, v| {
                if k == "random_state" {
                    seed.as_str()
                } else {
                    v
                }
            };
            let seeded: Vec<(&str, &str)> = params.iter().map(|&(k, v)| (k, pick(k, v))).collect();
            let m = estimator(name, &seeded)?.fit(x.view(), &train.target)?;
            over_seeds.push(metrics::r2(&valid.target, &m.predict(xv.view())?));
        }
    }
    let mut out = json!({
        "dataset": dataset,
        "model": name,
        "params": params_json(params),
        "train_rows": train.nrows(),
        "valid_rows": valid.nrows(),
        "digest": format!("{}-{}", train.digest(), valid.digest()),
        "fit_ms": median(samples),
        "val_r2": metrics::r2(&valid.target, &pred),
        "val_rmse": metrics::rmse(&valid.target, &pred),
    });
    if !over_seeds.is_empty() {
        out["val_r2_seeds"] = json!(over_seeds);
    }
    Ok(out)
}

/// The 50-trial TPE search as Flowbook runs it: each trial a tracked nested run (in a store in
/// memory), hyperopt's defaults (20 startup trials, γ = 0.25, 24 candidates).
fn tpe_case() -> Result<Value, String> {
    let (dataset, name, params, space) = TPE;
    let space_json: Value = serde_json::from_str(space).map_err(|e| e.to_string())?;
    let search = SearchSpec {
        base: spec(dataset, estimator(name, params)?)?,
        space: tuning::parse_space(&space_json)?,
        algo: Algo::tpe(),
        max_evals: TPE_TRIALS,
        seed: TPE_SEED,
    };
    let mut store = Store::open_in_memory().map_err(|e| e.to_string())?;
    let start = now();
    let outcome =
        tuning::search(&mut store, &search, &mut |_, _| true).map_err(|e| e.to_string())?;
    let ms = now() - start;
    let best = outcome.best.ok_or("the search found no trial")?;
    Ok(json!({
        "dataset": dataset,
        "model": name,
        "fixed": params_json(params),
        "space": space_json,
        "trials": outcome.trials.len(),
        "search_ms": ms,
        "best_val_rmse": best.loss,
        "best_params": best.params.into_iter().map(|(k, v)| (k, json!(v))).collect::<Value>(),
    }))
}

/// Runs the benchmark: `{"repeats": 5, "min_ms": 50, "tpe": true, "seeds": 0}` (all optional) →
/// `{"fits": [case…], "tpe": {…}}`.
pub fn run(request: &Value) -> Result<Value, String> {
    let repeats = request["repeats"].as_u64().unwrap_or(5) as usize;
    let min_ms = request["min_ms"].as_f64().unwrap_or(50.0);
    let seeds = request["seeds"].as_u64().unwrap_or(0);
    let fits = CASES
        .iter()
        .map(|(d, m, p)| fit_case(d, m, p, repeats, min_ms, seeds))
        .collect::<Result<Vec<_>, _>>()?;
    let tpe = if request["tpe"].as_bool().unwrap_or(true) {
        tpe_case()?
    } else {
        Value::Null
    };
    Ok(json!({"fits": fits, "tpe": tpe}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_written_out_is_the_one_fitted_and_parses_back_exactly() {
        let (train, valid) = split_csv("diabetes").unwrap();
        let (t, v) = sets("diabetes").unwrap();
        assert_eq!(train.lines().count(), t.nrows() + 1);
        assert_eq!(valid.lines().count(), v.nrows() + 1);
        let first: Vec<f64> = train
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(*first.last().unwrap(), t.target[0]);
        let out = run(&json!({"repeats": 1, "min_ms": 0, "tpe": false})).unwrap();
        assert_eq!(out["fits"].as_array().unwrap().len(), CASES.len());
        assert!(out["fits"][0]["val_r2"].as_f64().unwrap() > 0.3);
    }

    #[test]
    fn lasso_on_uncentred_data_scores_as_scikit_learn() {
        // scikit-learn 1.9.1, `Lasso(alpha=0.1)` on the CSVs `split_csv("winequality")` writes
        // (columns far from mean 0, where the intercept needs `X` centred).
        let (train, valid) = sets("winequality").unwrap();
        let x = train.features.numeric_matrix().unwrap();
        let xv = valid.features.numeric_matrix().unwrap();
        let model = estimator("Lasso", &[("alpha", "0.1")])
            .unwrap()
            .fit(x.view(), &train.target)
            .unwrap();
        let pred = model.predict(xv.view()).unwrap();
        let (r2, rmse) = (0.21926447930450144, 0.7316230402255207);
        assert!((metrics::r2(&valid.target, &pred) / r2 - 1.0).abs() < 0.01);
        assert!((metrics::rmse(&valid.target, &pred) / rmse - 1.0).abs() < 0.01);
    }
}
