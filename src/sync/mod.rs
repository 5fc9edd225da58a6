//! Sync with a real MLflow tracking server through its REST API: push this store's experiments,
//! runs, logged models and registry to it ([`push`]), or pull an experiment back ([`pull`]).
//!
//! One implementation serves the CLI and the browser: it is generic over [`Remote`] (how a request
//! travels — a blocking client natively, `fetch` in the worker) and over [`Local`] (how the store is
//! reached — directly, or through the worker's thread-local, one short step at a time so that no
//! borrow of the store is held while a request is awaited).

mod map;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
mod pull;
mod push;
mod server;

pub use pull::pull;
pub use push::push;
pub use server::{HttpRequest, Remote, Server};

use crate::api::{ApiError, ApiResult};
use crate::tracking::validation::{
    MAX_ENTITIES_PER_BATCH, MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH,
};
use crate::tracking::{KeyValue, Metric, Store};
use serde::Serialize;
use serde_json::{json, Value};

/// Access to the local store for one step at a time.
pub trait Local {
    fn with<T>(&mut self, f: impl FnOnce(&mut Store) -> ApiResult<T>) -> ApiResult<T>;
}

impl Local for Store {
    fn with<T>(&mut self, f: impl FnOnce(&mut Store) -> ApiResult<T>) -> ApiResult<T> {
        f(self)
    }
}

/// `{"url", "token"?, "experiments"?: [names]}` — no experiments named: all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct PushRequest {
    pub url: String,
    pub token: Option<String>,
    pub experiments: Vec<String>,
}

/// `{"url", "token"?, "experiment": name, "filter"?: MLflow runs filter}`.
#[derive(Debug, Clone, PartialEq)]
pub struct PullRequest {
    pub url: String,
    pub token: Option<String>,
    pub experiment: String,
    pub filter: String,
}

fn text_field(v: &Value, key: &str) -> ApiResult<Option<String>> {
    match &v[key] {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_string())),
        other => Err(ApiError::invalid(format!(
            "'{key}' must be a string, not {other}"
        ))),
    }
}

fn required(v: &Value, key: &str, what: &str) -> ApiResult<String> {
    text_field(v, key)?.ok_or_else(|| ApiError::invalid(format!("give {what} ('{key}')")))
}

impl PushRequest {
    pub fn parse(v: &Value) -> ApiResult<PushRequest> {
        let experiments = match &v["experiments"] {
            Value::Null => Vec::new(),
            Value::Array(names) => names
                .iter()
                .map(|n| {
                    n.as_str().map(str::to_string).ok_or_else(|| {
                        ApiError::invalid(format!("'experiments' must list names, not {n}"))
                    })
                })
                .collect::<ApiResult<_>>()?,
            other => {
                return Err(ApiError::invalid(format!(
                    "'experiments' must be a list of names, not {other}"
                )))
            }
        };
        Ok(PushRequest {
            url: required(v, "url", "the tracking server's URL")?,
            token: text_field(v, "token")?,
            experiments,
        })
    }
}

impl PullRequest {
    pub fn parse(v: &Value) -> ApiResult<PullRequest> {
        Ok(PullRequest {
            url: required(v, "url", "the tracking server's URL")?,
            token: text_field(v, "token")?,
            experiment: required(v, "experiment", "the name of the experiment to pull")?,
            filter: text_field(v, "filter")?.unwrap_or_default(),
        })
    }
}

/// How many objects of each kind a sync created, or found already there.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub experiments: i64,
    pub runs: i64,
    pub logged_models: i64,
    pub registered_models: i64,
    pub model_versions: i64,
    pub artifacts: i64,
}

impl Counts {
    fn describe(&self) -> String {
        format!(
            "{} experiments, {} runs, {} logged models, {} registered models, {} model versions, {} artifacts",
            self.experiments,
            self.runs,
            self.logged_models,
            self.registered_models,
            self.model_versions,
            self.artifacts
        )
    }
}

/// What a push or pull did: `created` (sent or written), `skipped` (already there), notes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncSummary {
    pub created: Counts,
    pub skipped: Counts,
    pub notes: Vec<String>,
}

impl SyncSummary {
    /// The answer of the CLI and the worker: `{created, skipped, notes, summary}`.
    pub fn to_json(&self, verb: &str, url: &str) -> Value {
        let direction = if verb == "pushed" { "to" } else { "from" };
        let mut summary = format!("{verb} {} {direction} {url}", self.created.describe());
        if self.skipped != Counts::default() {
            summary.push_str(&format!(
                "; already there, left as they were: {}",
                self.skipped.describe()
            ));
        }
        json!({
            "created": self.created,
            "skipped": self.skipped,
            "notes": self.notes,
            "summary": summary,
        })
    }
}

/// One `runs/log-batch` request's share of a run's data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
    pub metrics: Vec<Metric>,
}

/// Splits a run's data into `runs/log-batch` requests within MLflow's limits (1000 metrics,
/// 100 params, 100 tags, 1000 in all per request), in as few requests as those allow.
pub fn batches(params: &[KeyValue], tags: &[KeyValue], metrics: &[Metric]) -> Vec<Batch> {
    let (mut p, mut t, mut m) = (0, 0, 0);
    let mut out = Vec::new();
    while p < params.len() || t < tags.len() || m < metrics.len() {
        let np = (params.len() - p).min(MAX_PARAMS_TAGS_PER_BATCH);
        let nt = (tags.len() - t).min(MAX_PARAMS_TAGS_PER_BATCH);
        let nm = (metrics.len() - m)
            .min(MAX_METRICS_PER_BATCH)
            .min(MAX_ENTITIES_PER_BATCH - np - nt);
        out.push(Batch {
            params: params[p..p + np].to_vec(),
            tags: tags[t..t + nt].to_vec(),
            metrics: metrics[m..m + nm].to_vec(),
        });
        (p, t, m) = (p + np, t + nt, m + nm);
    }
    out
}

// Natively only: the tests reach real servers over the blocking transport.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
