//! Monitoring: score a registered model (`models:/name@champion`) on new data and log the result as
//! a run — the model's error on reference and current data (concept drift shows as a shift in
//! error), and per feature the two-sample KS statistic and p-value and the PSI (data drift).

use super::data::{Column, Dataset, Task};
use super::drift::{self, ColumnDrift};
use super::{metrics, model};
use crate::api::{ApiError, ApiResult};
use crate::tracking::{KeyValue, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub run_id: String,
    /// The model's metrics on the reference data and on the current data.
    pub reference: Vec<(String, f64)>,
    pub current: Vec<(String, f64)>,
    /// Current error minus reference error (RMSE for regressors, 1 − accuracy for classifiers).
    pub error_shift: f64,
    pub drift: BTreeMap<String, ColumnDrift>,
    /// Per feature, and for the model's residuals (`truth − prediction`, under the key
    /// [`RESIDUALS`]), the reference and current distributions over shared bins: what the
    /// Monitor page draws.
    pub histograms: BTreeMap<String, Histogram>,
}

/// The key of the residuals' histogram among the features'.
pub const RESIDUALS: &str = "residuals";

/// Two samples counted over the same bins, as fractions of each sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

impl Histogram {
    /// `bins` equal-width bins spanning both samples (non-finite values left out).
    pub fn of(reference: &[f64], current: &[f64], bins: usize) -> Histogram {
        let finite = || reference.iter().chain(current).filter(|v| v.is_finite());
        let lo = finite().copied().fold(f64::INFINITY, f64::min);
        let hi = finite().copied().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if !lo.is_finite() {
            (0.0, 1.0)
        } else if hi - lo < 1e-12 {
            (lo - 0.5, hi + 0.5)
        } else {
            (lo, hi)
        };
        let width = (hi - lo) / bins as f64;
        let count = |sample: &[f64]| {
            let mut counts = vec![0.0; bins];
            let n = sample.iter().filter(|v| v.is_finite()).count().max(1) as f64;
            for v in sample.iter().filter(|v| v.is_finite()) {
                let i = (((v - lo) / width) as usize).min(bins - 1);
                counts[i] += 1.0 / n;
            }
            counts
        };
        Histogram {
            edges: (0..=bins).map(|i| lo + width * i as f64).collect(),
            reference: count(reference),
            current: count(current),
        }
    }
}

/// The model's metrics on a data set, its error, and its residuals.
type Scored = (Vec<(String, f64)>, f64, Vec<f64>);

fn score(store: &Store, saved: &model::Saved, set: &Dataset, prefix: &str) -> ApiResult<Scored> {
    let features = saved.with_lookups(store, &set.features)?;
    let pred = saved.predict_values(&features).map_err(ApiError::invalid)?;
    let residuals = set.target.iter().zip(&pred).map(|(t, p)| t - p).collect();
    let (m, e) = match saved.estimator.task() {
        Task::Regression => {
            let m = metrics::regression(prefix, &set.target, &pred);
            let e = metrics::rmse(&set.target, &pred);
            (m, e)
        }
        Task::Classification => {
            let m = metrics::classification(prefix, &set.target, &pred, None);
            let e = 1.0 - metrics::accuracy(&set.target, &pred);
            (m, e)
        }
    };
    Ok((m, e, residuals))
}

/// Evaluates the model at `uri` on `reference` and `current` data and logs one run in `experiment`.
pub fn evaluate(
    store: &mut Store,
    experiment: &str,
    uri: &str,
    reference: &Dataset,
    current: &Dataset,
) -> ApiResult<Evaluation> {
    let saved = model::load(store, uri)?;
    let (ref_metrics, ref_error, ref_residuals) = score(store, &saved, reference, "reference")?;
    let (cur_metrics, cur_error, cur_residuals) = score(store, &saved, current, "current")?;
    let mut drift = BTreeMap::new();
    let mut histograms = BTreeMap::new();
    histograms.insert(
        RESIDUALS.to_string(),
        Histogram::of(&ref_residuals, &cur_residuals, 20),
    );
    for (name, column) in reference
        .features
        .names
        .iter()
        .zip(&reference.features.columns)
    {
        if let (Column::Numeric(a), Some(Column::Numeric(b))) =
            (column, current.features.column(name))
        {
            let d = drift::column_drift(a, b)
                .map_err(|e| ApiError::invalid(format!("column '{name}': {e}")))?;
            drift.insert(name.clone(), d);
            histograms.insert(name.clone(), Histogram::of(a, b, 20));
        }
    }
    let experiment_id = super::train::experiment_id(store, experiment)?;
    let run = store.create_run(
        &experiment_id,
        "learner",
        Some(crate::clock::now_ms()),
        Some(&format!("evaluate {uri}")),
        &[
            KeyValue::new("mlflow.source.name", "flowbook"),
            KeyValue::new("mlflow.user", "learner"),
            KeyValue::new("evaluated_model", uri),
        ],
    )?;
    let now = crate::clock::now_ms();
    let mut logged: Vec<(String, f64)> = ref_metrics.iter().chain(&cur_metrics).cloned().collect();
    logged.push(("error_shift".into(), cur_error - ref_error));
    for (name, d) in &drift {
        let key: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_-./".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        logged.push((format!("drift_ks_statistic_{key}"), d.ks_statistic));
        logged.push((format!("drift_ks_pvalue_{key}"), d.ks_pvalue));
        logged.push((format!("drift_psi_{key}"), d.psi));
    }
    let metrics = super::train::metrics_at(&logged, now);
    let params = [
        KeyValue::new("model_uri", uri),
        KeyValue::new("reference_data", &reference.name),
        KeyValue::new("current_data", &current.name),
    ];
    store.log_batch(&run.info.run_id, &metrics, &params, &[])?;
    let report = serde_json::to_vec_pretty(
        &serde_json::json!({"columns": drift, "error_shift": cur_error - ref_error}),
    )
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let base = crate::tracking::artifacts::key_of_uri(&run.info.artifact_uri)?;
    store.put_artifact(&format!("{base}/drift_report.json"), &report)?;
    store.update_run(
        &run.info.run_id,
        Some("FINISHED"),
        Some(crate::clock::now_ms()),
        None,
    )?;
    Ok(Evaluation {
        run_id: run.info.run_id,
        reference: ref_metrics,
        current: cur_metrics,
        error_shift: cur_error - ref_error,
        drift,
        histograms,
    })
}
