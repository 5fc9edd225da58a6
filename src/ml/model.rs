//! MLflow models for what Flowbook trains: a folder with an `MLmodel` file (flavors, signature, input
//! example, size, model id) that real `mlflow.models.Model.load` parses, the fitted model as JSON
//! (the `flowbook` flavor) and its preprocessor. A [`Wrapper`] is the analogue of MLflow's pyfunc
//! `PythonModel`: a model plus a post-processing step, logged and loaded as one model.

use super::data::{Column, Frame};
use super::estimators::{Estimator, Model};
use super::features::{FeatureLookup, Joiner};
use super::prep::Preprocessor;
use crate::api::{ApiError, ApiResult};
use crate::bundle::yaml::{self, Yaml};
use crate::tracking::Store;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const FLAVOR: &str = "flowbook";
pub const MODEL_FILE: &str = "model.json";

/// What a loaded model computes after the estimator: the analogue of a pyfunc `PythonModel.predict`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PostProcess {
    /// A function of Flowbook's "custom library" ([`library`]) applied to each prediction.
    Adjust { function: String, argument: f64 },
    /// Predictions returned as `{"<key>": [...]}`.
    Wrap { key: String },
}

/// The custom library a wrapper may call, by name (as `code_paths` modules are in MLflow).
pub mod library {
    pub const FUNCTIONS: [&str; 4] = ["add", "scale", "round", "clip_min"];

    pub fn apply(function: &str, argument: f64, value: f64) -> Result<f64, String> {
        Ok(match function {
            "add" => value + argument,
            "scale" => value * argument,
            "round" => (value * 10f64.powf(argument)).round() / 10f64.powf(argument),
            "clip_min" => value.max(argument),
            other => {
                return Err(format!(
                    "the custom library has no function '{other}' (it has {})",
                    FUNCTIONS.join(", ")
                ))
            }
        })
    }
}

/// A saved model: the estimator's description, the fitted model, its preprocessor, and the
/// post-processing steps of a wrapper (none for a plain model).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub estimator: Estimator,
    pub model: Model,
    pub preprocessor: Preprocessor,
    #[serde(default)]
    pub post: Vec<PostProcess>,
    /// Feature tables joined by key before the preprocessor (a model logged with a lookup spec).
    #[serde(default)]
    pub lookups: Vec<FeatureLookup>,
    /// The columns the lookups add: not part of the model's input.
    #[serde(default)]
    pub looked_up: Vec<String>,
}

impl Saved {
    /// Predictions for a frame of raw features (the preprocessor applied first), then the
    /// post-processing steps: an array of numbers, or whatever the wrapper makes of it.
    pub fn predict(&self, features: &Frame) -> Result<Value, String> {
        let x = self.preprocessor.transform(features)?;
        let mut values = self.model.predict(x.view())?;
        let mut out = None;
        for step in &self.post {
            match step {
                PostProcess::Adjust { function, argument } => {
                    for v in &mut values {
                        *v = library::apply(function, *argument, *v)?;
                    }
                }
                PostProcess::Wrap { key } => out = Some(key.clone()),
            }
        }
        Ok(match out {
            Some(key) => json!({ key: values }),
            None => json!(values),
        })
    }

    /// The input with the features of the lookup spec joined from the store's feature tables (the
    /// input itself for a model without lookups).
    pub fn with_lookups(&self, store: &Store, input: &Frame) -> ApiResult<Frame> {
        if self.lookups.is_empty() {
            return Ok(input.clone());
        }
        Joiner::load(store, &self.lookups)?
            .join(input)
            .map_err(ApiError::invalid)
    }

    /// Predictions for the model's input: features looked up in the store first, when it has a
    /// lookup spec.
    pub fn predict_input(&self, store: &Store, input: &Frame) -> ApiResult<Value> {
        let features = self.with_lookups(store, input)?;
        self.predict(&features).map_err(ApiError::invalid)
    }

    /// The numbers of a prediction, whether wrapped or not.
    pub fn predict_values(&self, features: &Frame) -> Result<Vec<f64>, String> {
        let v = self.predict(features)?;
        let list = match &v {
            Value::Array(_) => &v,
            Value::Object(map) => map.values().next().unwrap_or(&Value::Null),
            _ => &Value::Null,
        };
        Ok(list
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default())
    }
}

/// The MLflow signature of a frame's columns, as `mlflow.models.infer_signature` writes it.
fn signature(features: &Frame) -> Yaml {
    let inputs: Vec<Value> = features
        .names
        .iter()
        .zip(&features.columns)
        .map(|(name, column)| {
            let ty = match column {
                Column::Numeric(_) => "double",
                Column::Text(_) => "string",
            };
            json!({"type": ty, "name": name, "required": true})
        })
        .collect();
    let outputs = json!([{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]);
    Yaml::Map(vec![
        ("inputs".into(), Yaml::Str(Value::Array(inputs).to_string())),
        ("outputs".into(), Yaml::Str(outputs.to_string())),
        ("params".into(), Yaml::Null),
    ])
}

/// An input example in pandas' `split` orient, as MLflow saves `input_example.json`.
fn input_example(features: &Frame, rows: usize) -> Value {
    let n = features.nrows().min(rows);
    let data: Vec<Value> = (0..n)
        .map(|i| {
            Value::Array(
                features
                    .columns
                    .iter()
                    .map(|c| match c {
                        Column::Numeric(v) => json!(v[i]),
                        Column::Text(v) => json!(v[i]),
                    })
                    .collect(),
            )
        })
        .collect();
    json!({"columns": features.names, "data": data})
}

fn utc_time(ms: i64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm), as MLflow writes it.
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s, micro) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000 * 1000,
    );
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{micro:06}")
}

/// The files of a model folder: `MLmodel`, `model.json`, `input_example.json`.
pub fn files(
    saved: &Saved,
    sample: &Frame,
    model_id: Option<&str>,
    run_id: &str,
    artifact_path: &str,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let model_json = serde_json::to_vec(saved).map_err(|e| e.to_string())?;
    let example = serde_json::to_vec(&input_example(sample, 5)).map_err(|e| e.to_string())?;
    let size = (model_json.len() + example.len()) as i64;
    let flavor = Yaml::Map(vec![
        ("code".into(), Yaml::Null),
        ("estimator".into(), Yaml::Str(saved.estimator.class_path())),
        (
            "flowbook_version".into(),
            Yaml::Str(env!("CARGO_PKG_VERSION").into()),
        ),
        (
            "feature_lookups".into(),
            Yaml::Seq(
                saved
                    .lookups
                    .iter()
                    .map(|l| Yaml::Str(serde_json::to_string(l).unwrap_or_default()))
                    .collect(),
            ),
        ),
        ("model_data".into(), Yaml::Str(MODEL_FILE.into())),
        (
            "post_processing".into(),
            Yaml::Seq(
                saved
                    .post
                    .iter()
                    .map(|p| Yaml::Str(serde_json::to_string(p).unwrap_or_default()))
                    .collect(),
            ),
        ),
    ]);
    let mut mlmodel: Vec<(String, Yaml)> = vec![
        ("artifact_path".into(), Yaml::Str(artifact_path.into())),
        ("flavors".into(), Yaml::Map(vec![(FLAVOR.into(), flavor)])),
        ("model_size_bytes".into(), Yaml::Int(size)),
        ("model_uuid".into(), Yaml::Str(crate::tracking::new_id())),
        ("run_id".into(), Yaml::Str(run_id.into())),
        (
            "saved_input_example_info".into(),
            Yaml::Map(vec![
                (
                    "artifact_path".into(),
                    Yaml::Str("input_example.json".into()),
                ),
                ("pandas_orient".into(), Yaml::Str("split".into())),
                ("serving_input_path".into(), Yaml::Null),
                ("type".into(), Yaml::Str("dataframe".into())),
            ]),
        ),
        ("signature".into(), signature(sample)),
        (
            "utc_time_created".into(),
            Yaml::Str(utc_time(crate::clock::now_ms())),
        ),
    ];
    if let Some(id) = model_id {
        mlmodel.push(("model_id".into(), Yaml::Str(id.into())));
    }
    mlmodel.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(vec![
        (
            "MLmodel".into(),
            yaml::dump(&Yaml::Map(mlmodel)).into_bytes(),
        ),
        (MODEL_FILE.into(), model_json),
        ("input_example.json".into(), example),
    ])
}

/// Loads a model by any URI MLflow accepts (`runs:/…`, `models:/name/1`, `models:/name@alias`,
/// `models:/name/Production`, `models:/m-…`): reads its MLmodel and the `flowbook` flavor's data.
pub fn load(store: &Store, uri: &str) -> ApiResult<Saved> {
    let key = store.resolve_model_artifact_key(uri)?;
    let read = |name: &str| {
        store.get_artifact(&format!("{key}/{name}")).map_err(|_| {
            ApiError::not_found(format!("{uri} has no {name}: it is not a model folder"))
        })
    };
    let mlmodel = String::from_utf8(read("MLmodel")?)
        .map_err(|_| ApiError::invalid(format!("the MLmodel of {uri} is not text")))?;
    let doc = yaml::parse(&mlmodel)
        .map_err(|e| ApiError::invalid(format!("the MLmodel of {uri} is not valid YAML: {e}")))?;
    let flavor = doc.get("flavors").and_then(|f| f.get(FLAVOR)).ok_or_else(|| {
        ApiError::invalid(format!(
            "{uri} is not a Flowbook model (its MLmodel has no '{FLAVOR}' flavor); Flowbook cannot run Python models"
        ))
    })?;
    let data = flavor
        .get("model_data")
        .and_then(Yaml::as_str)
        .unwrap_or(MODEL_FILE);
    serde_json::from_slice(&read(data)?)
        .map_err(|e| ApiError::invalid(format!("the model data of {uri} cannot be read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_are_civil_dates() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00.000000");
        assert_eq!(utc_time(1_795_478_946_456), "2026-11-24 00:09:06.456000");
    }

    #[test]
    fn the_custom_library_names_its_functions() {
        assert_eq!(library::apply("add", 2.0, 1.0), Ok(3.0));
        assert!(library::apply("nope", 0.0, 1.0)
            .unwrap_err()
            .contains("has no function 'nope'"));
    }
}
