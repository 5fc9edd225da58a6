//! Tracking endpoints of MLflow's REST API: request fields in, response JSON out.

use super::{not_found, ApiError, ApiResult, ErrorCode, Request, Response};
use crate::tracking::artifacts::{clean_relative_path, key_of_uri};
use crate::tracking::entities::{de_i64, de_opt_i64, de_string_list};
use crate::tracking::search::{ExperimentSearch, RunSearch, ViewType};
use crate::tracking::{DatasetInput, KeyValue, Metric, ModelInput, ModelOutput, Store};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

pub(super) fn parse<T: DeserializeOwned>(json: Value) -> ApiResult<T> {
    serde_json::from_value(json).map_err(|e| ApiError::invalid(format!("Invalid request: {e}")))
}

pub(super) fn required<'a>(value: &'a Option<String>, name: &str) -> ApiResult<&'a str> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid(format!("Missing value for required parameter '{name}'. See the API docs for more information about request parameters.")))
}

fn de_view<'de, D: Deserializer<'de>>(d: D) -> Result<ViewType, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    let text = match v {
        None | Some(Value::Null) => return Ok(ViewType::ActiveOnly),
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
    };
    ViewType::parse(&text).map_err(|e| serde::de::Error::custom(e.message))
}

/// Adds `next_page_token` only when there is a next page, as MLflow does.
pub(super) fn paged(mut body: Value, token: Option<String>) -> Value {
    if let (Some(t), Some(map)) = (token, body.as_object_mut()) {
        map.insert("next_page_token".into(), Value::String(t));
    }
    body
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<Value> {
    serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Fields {
    experiment_id: Option<String>,
    experiment_name: Option<String>,
    name: Option<String>,
    new_name: Option<String>,
    artifact_location: Option<String>,
    tags: Vec<KeyValue>,
    key: Option<String>,
    value: Option<String>,
    run_id: Option<String>,
    run_uuid: Option<String>,
    user_id: Option<String>,
    run_name: Option<String>,
    #[serde(deserialize_with = "de_opt_i64")]
    start_time: Option<i64>,
    #[serde(deserialize_with = "de_opt_i64")]
    end_time: Option<i64>,
    status: Option<String>,
    metric_key: Option<String>,
    path: Option<String>,
    page_token: Option<String>,
    #[serde(deserialize_with = "de_opt_i64")]
    max_results: Option<i64>,
    filter: Option<String>,
    #[serde(deserialize_with = "de_string_list")]
    order_by: Vec<String>,
    #[serde(deserialize_with = "de_string_list")]
    experiment_ids: Vec<String>,
    #[serde(deserialize_with = "de_view")]
    view_type: ViewType,
    #[serde(deserialize_with = "de_view")]
    run_view_type: ViewType,
    model_id: Option<String>,
    model_type: Option<String>,
    source_run_id: Option<String>,
    params: Vec<KeyValue>,
    metrics: Vec<Metric>,
    datasets: Vec<DatasetInput>,
    models: Vec<Value>,
}

#[derive(Deserialize)]
struct MetricFields {
    key: Option<String>,
    #[serde(deserialize_with = "crate::tracking::entities::de_metric_value")]
    value: f64,
    #[serde(default, deserialize_with = "de_i64")]
    timestamp: i64,
    #[serde(default, deserialize_with = "de_i64")]
    step: i64,
}

/// A `runs/search` request's fields as a search; Flowbook's `runs/count` and `runs/keys` read the same.
pub(super) fn run_search(json: Value) -> ApiResult<RunSearch> {
    parse::<Fields>(json).map(|f| f.run_search())
}

impl Fields {
    fn run_search(&self) -> RunSearch {
        RunSearch {
            experiment_ids: self.experiment_ids.clone(),
            filter: self.filter.clone().unwrap_or_default(),
            view: self.run_view_type,
            max_results: self.max_results,
            order_by: self.order_by.clone(),
            page_token: self.page_token.clone(),
        }
    }

    fn run_id(&self) -> ApiResult<&str> {
        match required(&self.run_id, "run_id") {
            Ok(id) => Ok(id),
            Err(e) => self.run_uuid.as_deref().filter(|s| !s.is_empty()).ok_or(e),
        }
    }
}

pub(super) fn dispatch(
    store: &mut Store,
    method: &str,
    endpoint: &str,
    json: Value,
) -> ApiResult<Value> {
    if let Some(rest) = endpoint.strip_prefix("logged-models") {
        return logged_models(store, method, rest.trim_start_matches('/'), json);
    }
    if method == "POST" && endpoint == "runs/log-metric" {
        // A metric's value may be "NaN"/"Infinity", so it is read with its own rules.
        let f: Fields = parse(without(&json, &["value"]))?;
        let m: MetricFields = parse(json)?;
        let key = required(&m.key, "key")?;
        let metric = Metric {
            key: key.to_string(),
            value: m.value,
            timestamp: m.timestamp,
            step: m.step,
        };
        store.log_metric(f.run_id()?, &metric, f.model_id.as_deref())?;
        return Ok(json!({}));
    }
    let f: Fields = parse(json)?;
    let empty = || Ok(json!({}));
    match (method, endpoint) {
        ("POST", "experiments/create") => {
            let name = required(&f.name, "name")?;
            let id = store.create_experiment(name, f.artifact_location.as_deref(), &f.tags)?;
            Ok(json!({ "experiment_id": id }))
        }
        ("GET", "experiments/get") => {
            let e = store.get_experiment(required(&f.experiment_id, "experiment_id")?)?;
            Ok(json!({ "experiment": to_json(&e)? }))
        }
        ("GET", "experiments/get-by-name") => {
            let e =
                store.get_experiment_by_name(required(&f.experiment_name, "experiment_name")?)?;
            Ok(json!({ "experiment": to_json(&e)? }))
        }
        ("GET" | "POST", "experiments/search") => {
            let q = ExperimentSearch {
                filter: f.filter.clone().unwrap_or_default(),
                view: f.view_type,
                max_results: f.max_results,
                order_by: f.order_by.clone(),
                page_token: f.page_token.clone(),
            };
            let (experiments, token) = store.search_experiments(&q)?;
            Ok(paged(
                json!({ "experiments": to_json(&experiments)? }),
                token,
            ))
        }
        ("POST", "experiments/update") => {
            let new_name = required(&f.new_name, "new_name")?;
            store.rename_experiment(required(&f.experiment_id, "experiment_id")?, new_name)?;
            empty()
        }
        ("POST", "experiments/delete") => {
            store.delete_experiment(required(&f.experiment_id, "experiment_id")?)?;
            empty()
        }
        ("POST", "experiments/restore") => {
            store.restore_experiment(required(&f.experiment_id, "experiment_id")?)?;
            empty()
        }
        ("POST", "experiments/set-experiment-tag") => {
            let id = required(&f.experiment_id, "experiment_id")?;
            store.set_experiment_tag(
                id,
                required(&f.key, "key")?,
                f.value.as_deref().unwrap_or(""),
            )?;
            empty()
        }
        ("POST", "experiments/delete-experiment-tag") => {
            store.delete_experiment_tag(
                required(&f.experiment_id, "experiment_id")?,
                required(&f.key, "key")?,
            )?;
            empty()
        }
        ("POST", "runs/create") => {
            let run = store.create_run(
                f.experiment_id.as_deref().unwrap_or("0"),
                f.user_id.as_deref().unwrap_or(""),
                f.start_time,
                f.run_name.as_deref(),
                &f.tags,
            )?;
            Ok(json!({ "run": to_json(&run)? }))
        }
        ("GET", "runs/get") => Ok(json!({ "run": to_json(&store.get_run(f.run_id()?)?)? })),
        ("POST", "runs/update") => {
            let info = store.update_run(
                f.run_id()?,
                f.status.as_deref(),
                f.end_time,
                f.run_name.as_deref(),
            )?;
            Ok(json!({ "run_info": to_json(&info)? }))
        }
        ("POST", "runs/delete") => {
            store.delete_run(f.run_id()?)?;
            empty()
        }
        ("POST", "runs/restore") => {
            store.restore_run(f.run_id()?)?;
            empty()
        }
        ("POST", "runs/log-parameter") => {
            store.log_param(
                f.run_id()?,
                required(&f.key, "key")?,
                f.value.as_deref().unwrap_or(""),
            )?;
            empty()
        }
        ("POST", "runs/set-tag") => {
            store.set_tag(
                f.run_id()?,
                required(&f.key, "key")?,
                f.value.as_deref().unwrap_or(""),
            )?;
            empty()
        }
        ("POST", "runs/delete-tag") => {
            store.delete_tag(f.run_id()?, required(&f.key, "key")?)?;
            empty()
        }
        ("POST", "runs/log-batch") => {
            store.log_batch(f.run_id()?, &f.metrics, &f.params, &f.tags)?;
            empty()
        }
        ("POST", "runs/log-inputs") => {
            let models = f
                .models
                .iter()
                .cloned()
                .map(parse::<ModelInput>)
                .collect::<ApiResult<Vec<_>>>()?;
            store.log_inputs(f.run_id()?, &f.datasets, &models)?;
            empty()
        }
        ("POST", "runs/outputs") => {
            let models = f
                .models
                .iter()
                .cloned()
                .map(parse::<ModelOutput>)
                .collect::<ApiResult<Vec<_>>>()?;
            store.log_outputs(f.run_id()?, &models)?;
            empty()
        }
        ("GET" | "POST", "runs/search") => {
            let (runs, token) = store.search_runs(&f.run_search())?;
            Ok(paged(json!({ "runs": to_json(&runs)? }), token))
        }
        ("GET", "metrics/get-history") => {
            let key = required(&f.metric_key, "metric_key")?;
            let (metrics, token) = store.get_metric_history(
                f.run_id()?,
                key,
                f.max_results,
                f.page_token.as_deref(),
            )?;
            Ok(paged(json!({ "metrics": to_json(&metrics)? }), token))
        }
        ("GET", "artifacts/list") => {
            let run = store.get_run(f.run_id()?)?;
            let base = key_of_uri(&run.info.artifact_uri)?;
            let files = store.list_artifacts(&base, f.path.as_deref().unwrap_or(""))?;
            Ok(json!({ "root_uri": run.info.artifact_uri, "files": to_json(&files)? }))
        }
        ("GET", "server-info") => Ok(json!({
            "store_type": "SqlStore",
            "workspaces_enabled": false,
            "trace_archival_enabled": false,
            "multipart_uploads_enabled": false,
            "multipart_downloads_enabled": false,
            "presigned_upload_run_id_supported": false,
            "presigned_upload_model_id_supported": false,
            "features_enabled": { "gateway": false },
        })),
        _ => Err(not_found(method, endpoint)),
    }
}

fn without(json: &Value, keys: &[&str]) -> Value {
    let mut out = json.clone();
    if let Some(map) = out.as_object_mut() {
        for k in keys {
            map.remove(*k);
        }
    }
    out
}

/// `source_run_id = '…'` and `name = '…'` clauses joined by AND: what MLflow's clients send
/// when they look a logged model up.
fn logged_model_filter(filter: &str) -> ApiResult<Vec<(String, String)>> {
    let mut clauses = Vec::new();
    for clause in filter.split(" AND ").filter(|c| !c.trim().is_empty()) {
        let (k, v) = clause.split_once('=').ok_or_else(|| {
            ApiError::invalid(format!("Invalid logged model filter clause: '{clause}'"))
        })?;
        let v = v.trim().trim_matches(|c| c == '\'' || c == '"');
        clauses.push((k.trim().to_string(), v.to_string()));
    }
    Ok(clauses)
}

fn logged_models(store: &mut Store, method: &str, rest: &str, json: Value) -> ApiResult<Value> {
    let f: Fields = parse(json)?;
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let model = |store: &Store, id: &str| -> ApiResult<Value> {
        Ok(json!({ "model": to_json(&store.get_logged_model(id)?)? }))
    };
    match (method, parts.as_slice()) {
        ("POST", []) => {
            let m = store.create_logged_model(
                required(&f.experiment_id, "experiment_id")?,
                f.name.as_deref(),
                f.model_type.as_deref(),
                f.source_run_id.as_deref(),
                &f.params,
                &f.tags,
            )?;
            Ok(json!({ "model": to_json(&m)? }))
        }
        ("POST", ["search"]) => {
            let mut run = None;
            let mut name = None;
            for (k, v) in logged_model_filter(f.filter.as_deref().unwrap_or(""))? {
                match k.as_str() {
                    "source_run_id" => run = Some(v),
                    "name" => name = Some(v),
                    other => {
                        return Err(ApiError::invalid(format!(
                            "Flowbook cannot filter logged models by '{other}'"
                        )))
                    }
                }
            }
            let mut models = store.search_logged_models(&f.experiment_ids, run.as_deref())?;
            if let Some(n) = name {
                models.retain(|m| m.info.name == n);
            }
            Ok(json!({ "models": to_json(&models)? }))
        }
        ("GET", [id]) => model(store, id),
        ("PATCH", [id]) => {
            let status = f.status.as_deref().unwrap_or("LOGGED_MODEL_READY");
            let m = store.finalize_logged_model(id, status)?;
            Ok(json!({ "model": to_json(&m)? }))
        }
        ("DELETE", [id]) => {
            store.delete_logged_model(id)?;
            Ok(json!({}))
        }
        ("PATCH", [id, "tags"]) => {
            store.set_logged_model_tags(id, &f.tags)?;
            Ok(json!({}))
        }
        ("DELETE", [id, "tags", key]) => {
            store.delete_logged_model_tag(id, key)?;
            Ok(json!({}))
        }
        ("POST", [id, "params"]) => {
            store.log_logged_model_params(id, &f.params)?;
            Ok(json!({}))
        }
        ("GET", [id, "artifacts", "directories"]) => {
            let m = store.get_logged_model(id)?;
            let base = key_of_uri(&m.info.artifact_uri)?;
            let files = store.list_artifacts(&base, f.path.as_deref().unwrap_or(""))?;
            Ok(json!({ "root_uri": m.info.artifact_uri, "files": to_json(&files)? }))
        }
        _ => Err(not_found(method, &format!("logged-models/{rest}"))),
    }
}

/// MLflow's artifact proxy: GET downloads (or lists, without a path), PUT uploads, DELETE removes.
pub(super) fn artifact_proxy(store: &mut Store, req: &Request, path: &str) -> ApiResult<Response> {
    let path = clean_relative_path(&percent_decode(path))?;
    match (req.method.as_str(), path.is_empty()) {
        ("GET", true) => {
            let dir = req
                .query
                .iter()
                .find(|(k, _)| k == "path")
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            let files: Vec<Value> = store
                .list_artifacts("", dir)?
                .into_iter()
                .map(|f| {
                    let name = f.path.rsplit('/').next().unwrap_or("").to_string();
                    let mut v = json!({ "path": name, "is_dir": f.is_dir });
                    if let Some(size) = f.file_size {
                        v["file_size"] = json!(size);
                    }
                    v
                })
                .collect();
            Ok(Response::json(200, &json!({ "files": files })))
        }
        ("GET", false) => Ok(Response::bytes(store.get_artifact(&path)?)),
        ("PUT", false) => {
            store.put_artifact(&path, &req.body)?;
            Ok(Response::json(200, &json!({})))
        }
        ("DELETE", false) => {
            store.delete_artifacts(&path)?;
            Ok(Response::json(200, &json!({})))
        }
        _ => Err(ApiError::new(
            ErrorCode::EndpointNotFound,
            format!("No API endpoint for {} {}", req.method, req.path),
        )),
    }
}

/// `%XX` escapes of a URL path, decoded; invalid escapes are kept as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
