//! A training run, tracked: split, prepare, fit, evaluate, and log to the store as MLflow would.
//! Without autolog the run holds what a course notebook logs by hand (the parameters set, the
//! validation metrics); with autolog, every estimator parameter (defaults included), training and
//! validation metrics, the model (MLflow 3 logged model + MLmodel), the dataset input, and plots.

use super::data::{Dataset, Task};
use super::estimators::Estimator;
use super::features::{FeatureLookup, Joiner};
use super::model::{self, PostProcess, Saved};
use super::prep::{self, Preprocessor};
use super::{metrics, plots};
use crate::api::{ApiError, ApiResult};
use crate::tracking::{DatasetInput, KeyValue, Metric, ModelOutput, Store};
use serde_json::json;

/// What to train and how to record it.
#[derive(Debug, Clone)]
pub struct TrainSpec {
    pub experiment: String,
    pub data: Dataset,
    pub estimator: Estimator,
    /// The parameters the user set (what a notebook's `log_params` would log).
    pub explicit_params: Vec<(String, String)>,
    pub run_name: Option<String>,
    pub autolog: bool,
    /// Log the model even without autolog (`mlflow.<flavor>.log_model`).
    pub log_model: bool,
    pub validation_fraction: f64,
    /// When set, the last rows are the validation split (a separate validation file), in order.
    pub valid_rows: Option<usize>,
    pub seed: u64,
    pub scale: bool,
    pub parent_run_id: Option<String>,
    pub tags: Vec<(String, String)>,
    /// Post-processing of a wrapped (pyfunc-style) model.
    pub post: Vec<PostProcess>,
    /// Feature tables to join by key (the data then holds only keys and the other inputs).
    pub lookups: Vec<FeatureLookup>,
}

impl TrainSpec {
    /// Row indices of the training and validation splits.
    pub fn split(&self) -> Result<(Vec<usize>, Vec<usize>), String> {
        let n = self.data.nrows();
        match self.valid_rows {
            Some(v) if v < n => Ok(((0..n - v).collect(), (n - v..n).collect())),
            Some(_) => Err("the validation rows leave nothing to train on".into()),
            None => prep::split(n, self.validation_fraction, self.seed),
        }
    }

    pub fn new(experiment: &str, data: Dataset, estimator: Estimator) -> TrainSpec {
        TrainSpec {
            experiment: experiment.to_string(),
            data,
            estimator,
            explicit_params: Vec::new(),
            run_name: None,
            autolog: false,
            log_model: false,
            validation_fraction: 0.25,
            valid_rows: None,
            seed: 42,
            scale: false,
            parent_run_id: None,
            tags: Vec::new(),
            post: Vec::new(),
            lookups: Vec::new(),
        }
    }
}

/// What a training run produced.
#[derive(Debug, Clone)]
pub struct Trained {
    pub run_id: String,
    pub experiment_id: String,
    pub metrics: Vec<(String, f64)>,
    /// `runs:/<run>/model` when a model was logged.
    pub model_uri: Option<String>,
    pub model_id: Option<String>,
    pub saved: Saved,
}

fn invalid(e: String) -> ApiError {
    ApiError::invalid(e)
}

/// The experiment named, created when absent.
pub fn experiment_id(store: &mut Store, name: &str) -> ApiResult<String> {
    match store.get_experiment_by_name(name) {
        Ok(e) => Ok(e.experiment_id),
        Err(_) => store.create_experiment(name, None, &[]),
    }
}

/// A fitted model, its metrics (training and validation), and the rows of each split.
pub type Fitted = (Saved, Vec<(String, f64)>, Vec<usize>, Vec<usize>);

/// Fits and evaluates without touching the store.
pub fn fit(spec: &TrainSpec) -> Result<Fitted, String> {
    if spec.estimator.task() == Task::Classification && spec.data.task != Task::Classification {
        let distinct = {
            let mut t = spec.data.target.clone();
            t.sort_by(f64::total_cmp);
            t.dedup();
            t.len()
        };
        if distinct > 20 || spec.data.target.iter().any(|v| v.fract() != 0.0) {
            return Err(format!(
                "{} is a classifier, but the target '{}' holds continuous values",
                spec.estimator.name, spec.data.target_name
            ));
        }
    }
    let (train, valid) = spec.split()?;
    let train_set = spec.data.take(&train);
    let valid_set = spec.data.take(&valid);
    // Lookup keys select rows of feature tables; they are not features themselves.
    let keys: Vec<String> = spec.lookups.iter().map(|l| l.lookup_key.clone()).collect();
    let pre = Preprocessor::fit(&train_set.features.without(&keys), spec.scale)?;
    let x_train = pre.transform(&train_set.features)?;
    let fitted = spec.estimator.fit(x_train.view(), &train_set.target)?;
    let mut measured = Vec::new();
    for (prefix, set) in [("training", &train_set), ("val", &valid_set)] {
        if set.nrows() == 0 {
            continue;
        }
        let x = pre.transform(&set.features)?;
        let pred = fitted.predict(x.view())?;
        let values = match spec.estimator.task() {
            Task::Regression => metrics::regression(prefix, &set.target, &pred),
            Task::Classification => {
                let proba = fitted.predict_proba(x.view());
                let classes = fitted.classes().unwrap_or_default();
                metrics::classification(
                    prefix,
                    &set.target,
                    &pred,
                    proba.as_ref().map(|p| (p, &classes[..])),
                )
            }
        };
        measured.extend(values);
    }
    let saved = Saved {
        estimator: spec.estimator.clone(),
        model: fitted,
        preprocessor: pre,
        post: spec.post.clone(),
        lookups: spec.lookups.clone(),
        looked_up: Vec::new(),
    };
    Ok((saved, measured, train, valid))
}

/// Named values as metrics at step 0, all logged at `timestamp`.
pub(crate) fn metrics_at(values: &[(String, f64)], timestamp: i64) -> Vec<Metric> {
    values
        .iter()
        .map(|(k, v)| Metric {
            key: k.clone(),
            value: *v,
            timestamp,
            step: 0,
        })
        .collect()
}

/// Trains and records one run. A failure to fit is recorded as a FAILED run with the reason.
pub fn train(store: &mut Store, spec: &TrainSpec) -> ApiResult<Trained> {
    let joined;
    let spec = if spec.lookups.is_empty() {
        spec
    } else {
        joined = with_features(store, spec)?;
        &joined
    };
    let experiment_id = experiment_id(store, &spec.experiment)?;
    let mut tags = vec![
        KeyValue::new("mlflow.source.name", "flowbook"),
        KeyValue::new("mlflow.source.type", "LOCAL"),
        KeyValue::new("mlflow.user", "learner"),
        KeyValue::new("estimator_name", &spec.estimator.name),
        KeyValue::new("estimator_class", spec.estimator.class_path()),
    ];
    if let Some(parent) = &spec.parent_run_id {
        tags.push(KeyValue::new("mlflow.parentRunId", parent));
    }
    tags.extend(spec.tags.iter().map(|(k, v)| KeyValue::new(k, v)));
    let run = store.create_run(
        &experiment_id,
        "learner",
        Some(crate::clock::now_ms()),
        spec.run_name.as_deref(),
        &tags,
    )?;
    let run_id = run.info.run_id.clone();
    match record(store, spec, &experiment_id, &run_id) {
        Ok(trained) => {
            store.update_run(
                &run_id,
                Some("FINISHED"),
                Some(crate::clock::now_ms()),
                None,
            )?;
            Ok(trained)
        }
        Err(e) => {
            let _ = store.set_tag(&run_id, "flowbook.error", &e.message);
            store.update_run(&run_id, Some("FAILED"), Some(crate::clock::now_ms()), None)?;
            Err(e)
        }
    }
}

/// The spec with its data's features joined from the feature tables of its lookups.
fn with_features(store: &Store, spec: &TrainSpec) -> ApiResult<TrainSpec> {
    let joiner = Joiner::load(store, &spec.lookups)?;
    let mut out = spec.clone();
    out.data.features = joiner.join(&spec.data.features).map_err(invalid)?;
    Ok(out)
}

fn record(
    store: &mut Store,
    spec: &TrainSpec,
    experiment_id: &str,
    run_id: &str,
) -> ApiResult<Trained> {
    let (mut saved, measured, train, _) = fit(spec).map_err(invalid)?;
    if !spec.lookups.is_empty() {
        saved.looked_up = Joiner::load(store, &spec.lookups)?.feature_names();
    }
    let now = crate::clock::now_ms();
    let params: Vec<KeyValue> = if spec.autolog {
        saved
            .estimator
            .params()
            .iter()
            .map(|(k, v)| KeyValue::new(k, v))
            .collect()
    } else {
        spec.explicit_params
            .iter()
            .map(|(k, v)| KeyValue::new(k, v))
            .collect()
    };
    let logged: Vec<(String, f64)> = if spec.autolog {
        measured.clone()
    } else {
        measured
            .iter()
            .filter(|(k, _)| k.starts_with("val_"))
            .cloned()
            .collect()
    };
    let metrics = metrics_at(&logged, now);
    store.log_batch(run_id, &metrics, &params, &[])?;
    let mut out = Trained {
        run_id: run_id.to_string(),
        experiment_id: experiment_id.to_string(),
        metrics: measured,
        model_uri: None,
        model_id: None,
        saved,
    };
    if spec.autolog {
        let train_set = spec.data.take(&train);
        let profile = json!({"num_rows": train_set.nrows(), "num_elements": train_set.nrows() * (train_set.features.names.len() + 1)});
        let schema = json!({"mlflow_colspec": train_set.features.names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()});
        store.log_inputs(
            run_id,
            &[DatasetInput {
                tags: vec![KeyValue::new("mlflow.data.context", "train")],
                dataset: crate::tracking::Dataset {
                    name: spec.data.name.clone(),
                    digest: train_set.digest(),
                    source_type: "code".into(),
                    source: json!({"tags": {"mlflow.source.name": "flowbook"}}).to_string(),
                    schema: Some(schema.to_string()),
                    profile: Some(profile.to_string()),
                },
            }],
            &[],
        )?;
        let artifacts = store.get_run(run_id)?.info.artifact_uri;
        let base = crate::tracking::artifacts::key_of_uri(&artifacts)?;
        for (name, content) in plots::for_run(spec, &out.saved).map_err(invalid)? {
            store.put_artifact(&format!("{base}/{name}"), &content)?;
        }
    }
    if spec.autolog || spec.log_model {
        // The fitted preprocessor on its own, as the course logs its DictVectorizer.
        let artifacts = store.get_run(run_id)?.info.artifact_uri;
        let base = crate::tracking::artifacts::key_of_uri(&artifacts)?;
        let pre = serde_json::to_vec_pretty(&out.saved.preprocessor)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        store.put_artifact(&format!("{base}/preprocessor/preprocessor.json"), &pre)?;
        let (uri, id) = log_model(store, spec, &out.saved, experiment_id, run_id)?;
        out.model_uri = Some(uri);
        out.model_id = Some(id);
    }
    Ok(out)
}

/// Logs a model as MLflow 3 does: a logged model named `model` from the run, its folder holding the
/// MLmodel, the fitted model and an input example; `runs:/<run>/model` and `models:/<id>` name it.
pub fn log_model(
    store: &mut Store,
    spec: &TrainSpec,
    saved: &Saved,
    experiment_id: &str,
    run_id: &str,
) -> ApiResult<(String, String)> {
    let params: Vec<KeyValue> = saved
        .estimator
        .params()
        .iter()
        .map(|(k, v)| KeyValue::new(k, v))
        .collect();
    let logged = store.create_logged_model(
        experiment_id,
        Some("model"),
        Some("flowbook"),
        Some(run_id),
        &params,
        &[KeyValue::new("mlflow.source.name", "flowbook")],
    )?;
    let base = crate::tracking::artifacts::key_of_uri(&logged.info.artifact_uri)?;
    // The model's input: what a caller passes (keys, not the features looked up by them).
    let sample = spec
        .data
        .features
        .without(&saved.looked_up)
        .take(&(0..spec.data.nrows().min(5)).collect::<Vec<_>>());
    for (name, content) in
        model::files(saved, &sample, Some(&logged.info.model_id), run_id, "model")
            .map_err(invalid)?
    {
        store.put_artifact(&format!("{base}/{name}"), &content)?;
    }
    store.log_outputs(
        run_id,
        &[ModelOutput {
            model_id: logged.info.model_id.clone(),
            step: 0,
        }],
    )?;
    store.finalize_logged_model(&logged.info.model_id, "LOGGED_MODEL_READY")?;
    Ok((format!("runs:/{run_id}/model"), logged.info.model_id))
}
