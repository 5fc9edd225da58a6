//! The engine's API: MLflow's REST API 2.0 (same paths, same JSON, same error codes) behind one
//! dispatcher. `flowbook server`, the browser worker and the UI are thin adapters around [`handle`].

mod error;
mod flowbook;
mod registry;
mod tracking;

pub use tracking::percent_decode;

pub use error::{ApiError, ApiResult, ErrorCode};

use crate::tracking::Store;
use serde_json::Value;

/// An HTTP-shaped request, whatever carried it (a socket, a worker message, a UI call).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// The path as MLflow's server routes it, e.g. `/api/2.0/mlflow/runs/get`.
    pub path: String,
    /// Decoded query parameters in order (GET requests carry their fields here).
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &Value) -> Response {
        Response {
            status,
            content_type: "application/json",
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }
    pub fn error(e: &ApiError) -> Response {
        Response::json(
            e.error_code.http_status(),
            &serde_json::json!({"error_code": e.error_code.as_str(), "message": e.message}),
        )
    }
    pub fn bytes(body: Vec<u8>) -> Response {
        Response {
            status: 200,
            content_type: "application/octet-stream",
            body,
        }
    }
}

/// Where a request goes, once the version prefix is stripped.
enum Route<'a> {
    /// `/api/<v>/mlflow/<endpoint>` or `/ajax-api/<v>/mlflow/<endpoint>`.
    Mlflow(&'a str),
    /// `/api/2.0/mlflow-artifacts/artifacts[/<path>]`.
    ArtifactProxy(&'a str),
    /// `/api/2.0/flowbook/export?format=mlruns|mlflow-db`: the store as a bundle (Flowbook's own route).
    Export,
    /// `POST /api/2.0/flowbook/import` with a bundle zip as the body.
    Import,
    /// `/api/2.0/flowbook/<endpoint>`: Flowbook's own JSON endpoints (feature tables, predictions,
    /// lesson progress, store views).
    Flowbook(&'a str),
}

fn route(path: &str) -> Option<Route<'_>> {
    let rest = path
        .strip_prefix("/api/")
        .or_else(|| path.strip_prefix("/ajax-api/"))?;
    let (_version, rest) = rest.split_once('/')?;
    match rest {
        "flowbook/export" => return Some(Route::Export),
        "flowbook/import" => return Some(Route::Import),
        _ => {}
    }
    if let Some(endpoint) = rest.strip_prefix("flowbook/") {
        return Some(Route::Flowbook(endpoint));
    }
    if let Some(endpoint) = rest.strip_prefix("mlflow/") {
        return Some(Route::Mlflow(endpoint));
    }
    let artifacts = rest.strip_prefix("mlflow-artifacts/artifacts")?;
    if artifacts.is_empty() || artifacts.starts_with('/') {
        return Some(Route::ArtifactProxy(artifacts.trim_start_matches('/')));
    }
    None
}

/// A request's fields as JSON: the body for POST/PATCH/DELETE, the query string for GET.
/// A field given more than once in a query becomes a list (MLflow's repeated fields).
fn request_json(req: &Request) -> ApiResult<Value> {
    let mut fields = serde_json::Map::new();
    for (k, v) in &req.query {
        match fields.get_mut(k) {
            None => {
                fields.insert(k.clone(), Value::String(v.clone()));
            }
            Some(Value::Array(list)) => list.push(Value::String(v.clone())),
            Some(first) => {
                let first = first.take();
                fields.insert(
                    k.clone(),
                    Value::Array(vec![first, Value::String(v.clone())]),
                );
            }
        }
    }
    if req.method != "GET" && !req.body.iter().all(u8::is_ascii_whitespace) {
        let body: Value = serde_json::from_slice(&req.body).map_err(|e| {
            ApiError::new(
                ErrorCode::BadRequest,
                format!("Malformed JSON in the request body: {e}"),
            )
        })?;
        match body {
            Value::Object(map) => fields.extend(map),
            _ => {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "The request body must be a JSON object",
                ))
            }
        }
    }
    Ok(Value::Object(fields))
}

/// Serves one request. Never panics on bad input: every failure is an MLflow error response.
pub fn handle(store: &mut Store, req: &Request) -> Response {
    let result = match route(&req.path) {
        Some(Route::Mlflow(endpoint)) => request_json(req)
            .and_then(|json| dispatch(store, &req.method, endpoint, json))
            .map(|v| Response::json(200, &v)),
        Some(Route::Flowbook(endpoint)) => request_json(req)
            .and_then(|json| flowbook::dispatch(store, &req.method, endpoint, json))
            .map(|v| Response::json(200, &v)),
        Some(Route::ArtifactProxy(path)) => tracking::artifact_proxy(store, req, path),
        Some(Route::Export) => export(store, req),
        Some(Route::Import) if req.method == "POST" => {
            crate::bundle::import_zip(store, &req.body, &mut |_, _| {})
                .map(|s| Response::json(200, &import_summary_json(&s)))
        }
        Some(Route::Import) | None => Err(not_found(&req.method, &req.path)),
    };
    result.unwrap_or_else(|e| Response::error(&e))
}

/// The same dispatcher for callers that already hold JSON (the worker, the UI, tests): `endpoint`
/// as after `/api/2.0/mlflow/`, or `flowbook/<endpoint>` for Flowbook's own.
pub fn call(store: &mut Store, method: &str, endpoint: &str, json: Value) -> ApiResult<Value> {
    let endpoint = endpoint.trim_start_matches('/');
    match endpoint.strip_prefix("flowbook/") {
        Some(own) => flowbook::dispatch(store, method, own, json),
        None => dispatch(store, method, endpoint, json),
    }
}

/// One endpoint (the part after `/mlflow/`) to its handler: the registry's or the tracking store's.
fn dispatch(store: &mut Store, method: &str, endpoint: &str, json: Value) -> ApiResult<Value> {
    if endpoint.starts_with("registered-models/") || endpoint.starts_with("model-versions/") {
        registry::dispatch(store, method, endpoint, json)
    } else {
        tracking::dispatch(store, method, endpoint, json)
    }
}

fn export(store: &mut Store, req: &Request) -> ApiResult<Response> {
    let format = req
        .query
        .iter()
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if req.method != "GET" {
        return Err(not_found(&req.method, &req.path));
    }
    let format = crate::bundle::Format::parse(format)?;
    let (bytes, _) = crate::bundle::export_bytes(store, format)?;
    Ok(Response {
        status: 200,
        content_type: "application/zip",
        body: bytes,
    })
}

/// An import's summary as the import route and the worker answer it.
pub fn import_summary_json(s: &crate::bundle::ImportSummary) -> Value {
    serde_json::json!({
        "experiments": s.experiments,
        "runs": s.runs,
        "registered_models": s.registered_models,
        "model_versions": s.model_versions,
        "artifacts": s.artifacts,
        "skipped": s.skipped,
        "notes": s.notes,
        "summary": s.to_string(),
    })
}

pub(crate) fn not_found(method: &str, path: &str) -> ApiError {
    ApiError::new(
        ErrorCode::EndpointNotFound,
        format!("No API endpoint for {method} {path}"),
    )
}
