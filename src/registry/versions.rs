//! Model versions: create (from a run's artifacts, a `runs:/` URI, an MLflow 3 logged model
//! `models:/m-...`, or another registered version), get, update, delete, stage transitions,
//! tags, download URIs and search — with MLflow's source checks and messages.

use super::entities::ModelVersion;
use super::models::{aliases_of, dedup_tags, registered_model_row, ModelRow};
use super::search::{self, ModelSearch};
use super::uri::{parse_model_uri, parse_runs_uri, unquote_fully, version_of, ModelUri, Url};
use super::validation::{
    canonical_stage, normpath, parse_version, uncoded, validate_model_name,
    validate_model_version_tag, validate_tag_name, ACTIVE_STAGES, IS_PROMPT_TAG_KEY,
    MODEL_VERSIONS_TAG, STAGE_ARCHIVED, STAGE_DELETED_INTERNAL, STAGE_NONE,
};
use super::WORKSPACE;
use crate::api::{ApiError, ApiResult};
use crate::clock::now_ms;
use crate::tracking::{KeyValue, Store};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

/// Search answers at most this many versions per page (MLflow's threshold).
pub const SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD: i64 = 200_000;
/// A page's size when the request names none (the proto's default).
pub const SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT: i64 = 200_000;
/// MLflow's status of every version its SQL store creates.
pub const STATUS_READY: &str = "READY";

/// What a new version is made from, as `model-versions/create` carries it. `run_id` and
/// `model_id` are `Some` exactly when the request has the field (MLflow tells "absent" from "").
#[derive(Debug, Clone, Default)]
pub struct NewModelVersion<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub run_id: Option<&'a str>,
    pub model_id: Option<&'a str>,
    pub tags: &'a [KeyValue],
    pub run_link: Option<&'a str>,
    pub description: Option<&'a str>,
}

const VERSION_COLUMNS: &str =
    "name, version, creation_time, last_updated_time, description, user_id, current_stage,
     source, run_id, status, status_message, run_link";

fn version_from_row(r: &rusqlite::Row) -> rusqlite::Result<ModelVersion> {
    Ok(ModelVersion {
        name: r.get(0)?,
        version: r.get::<_, i64>(1)?.to_string(),
        creation_timestamp: r.get(2)?,
        last_updated_timestamp: r.get(3)?,
        description: r.get(4)?,
        user_id: r.get(5)?,
        current_stage: r.get(6)?,
        source: r.get(7)?,
        run_id: r.get(8)?,
        status: r.get(9)?,
        status_message: r.get::<_, Option<String>>(10)?.filter(|m| !m.is_empty()),
        tags: Vec::new(),
        run_link: r.get(11)?,
        aliases: Vec::new(),
    })
}

fn version_tags(conn: &Connection, name: &str, version: i64) -> ApiResult<Vec<KeyValue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM model_version_tags WHERE workspace = ?1 AND name = ?2 AND version = ?3
         ORDER BY rowid",
    )?;
    let tags = stmt
        .query_map(params![WORKSPACE, name, version], |r| {
            Ok(KeyValue {
                key: r.get(0)?,
                value: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(tags)
}

fn not_found(name: &str, version: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!(
        "Model Version (name={name}, version={version}) not found"
    ))
}

/// A version row with its tags (no aliases), deleted or not.
pub(crate) fn load_version(conn: &Connection, name: &str, version: i64) -> ApiResult<ModelVersion> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {VERSION_COLUMNS} FROM model_versions WHERE workspace = ?1 AND name = ?2 AND version = ?3"
    ))?;
    let mut mv = stmt
        .query_row(params![WORKSPACE, name, version], version_from_row)
        .optional()?
        .ok_or_else(|| not_found(name, version))?;
    mv.tags = version_tags(conn, name, version)?;
    Ok(mv)
}

/// A version that is not deleted, with its tags (no aliases), or MLflow's not-found error.
pub(crate) fn live_version(conn: &Connection, name: &str, version: i64) -> ApiResult<ModelVersion> {
    version_row_exists(conn, name, version)?;
    load_version(conn, name, version)
}

/// MLflow's `_get_sql_model_version` check: name valid, version live.
pub(crate) fn version_row_exists(conn: &Connection, name: &str, version: i64) -> ApiResult<()> {
    validate_model_name(name)?;
    conn.query_row(
        "SELECT 1 FROM model_versions WHERE workspace = ?1 AND name = ?2 AND version = ?3 AND current_stage != ?4",
        params![WORKSPACE, name, version, STAGE_DELETED_INTERNAL],
        |_| Ok(()),
    )
    .optional()?
    .ok_or_else(|| not_found(name, version))
}

/// A live version with its tags and aliases: what get/update/transition answer.
fn version_with_aliases(conn: &Connection, name: &str, version: i64) -> ApiResult<ModelVersion> {
    let mut mv = live_version(conn, name, version)?;
    mv.aliases = aliases_of(conn, name, version)?;
    Ok(mv)
}

/// Where a version's files are: its storage location, else its source (MLflow's download URI).
pub(crate) fn download_uri(conn: &Connection, name: &str, version: &str) -> ApiResult<String> {
    validate_model_name(name)?;
    let v = parse_version(version)?;
    version_row_exists(conn, name, v)?;
    let (storage, source): (Option<String>, Option<String>) = conn.query_row(
        "SELECT storage_location, source FROM model_versions WHERE workspace = ?1 AND name = ?2 AND version = ?3",
        params![WORKSPACE, name, v],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(storage
        .filter(|s| !s.is_empty())
        .or(source)
        .unwrap_or_default())
}

struct LoggedModelRef {
    experiment_id: i64,
    artifact_location: String,
    source_run_id: Option<String>,
}

fn logged_model(conn: &Connection, model_id: &str) -> ApiResult<LoggedModelRef> {
    conn.query_row(
        "SELECT experiment_id, artifact_location, source_run_id FROM logged_models
         WHERE model_id = ?1 AND lifecycle_stage IS NOT 'deleted'",
        [model_id],
        |r| {
            Ok(LoggedModelRef {
                experiment_id: r.get(0)?,
                artifact_location: r.get(1)?,
                source_run_id: r.get(2)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("Logged model with ID '{model_id}' not found.")))
}

fn run_artifact_uri(conn: &Connection, run_id: &str) -> ApiResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT artifact_uri FROM runs WHERE run_uuid = ?1",
            [run_id],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .map(Option::unwrap_or_default))
}

// --- Source checks, as MLflow's server makes them before it registers a version. ---

fn invalid_source(source: &str, field: &str) -> ApiError {
    ApiError::invalid(format!(
        "Invalid model version source: '{source}'. The {field} request parameter must identify the resource \
         that contains the source."
    ))
}

/// Schemes whose artifact repositories connect to the host the URI names (MLflow's host policy).
fn rejected_host_scheme(source: &str) -> Option<String> {
    const HOST_ADDRESSED: [&str; 10] = [
        "ftp",
        "sftp",
        "hdfs",
        "viewfs",
        "http",
        "https",
        "mlflow-artifacts",
        "r2",
        "b2",
        "abfss",
    ];
    let url = Url::parse(source, true);
    if !HOST_ADDRESSED.contains(&url.scheme.as_str()) {
        return None;
    }
    if url.scheme == "mlflow-artifacts" && url.netloc.is_empty() {
        return None;
    }
    Some(url.scheme)
}

/// `file:` URIs and plain paths.
fn is_local_uri(uri: &str) -> ApiResult<bool> {
    let url = Url::parse(uri, true);
    if url.scheme.is_empty() {
        return Ok(true);
    }
    let remote = url
        .hostname()
        .is_some_and(|h| !(h == "." || h.starts_with("localhost") || h.starts_with("127.0.0.1")));
    if url.scheme == "file" {
        if remote {
            return Err(uncoded(format!(
                "{uri} is not a valid remote uri. For remote access on windows, please consider using a different \
                 scheme such as SMB (e.g. smb://<hostname>/<path>)."
            )));
        }
        return Ok(true);
    }
    Ok(false)
}

/// The absolute path a local source names (`file:` stripped, `.`/`..` resolved).
fn local_path(uri: &str) -> String {
    let url = Url::parse(uri, true);
    let path = if url.scheme == "file" {
        crate::api::percent_decode(&url.path)
    } else {
        uri.to_string()
    };
    normpath(&path)
}

/// Sources must be absolute paths without `..` or `.` segments (a path-traversal guard).
fn check_no_relative_paths(source: &str) -> ApiResult<()> {
    let message = || {
        ApiError::invalid(format!(
            "Invalid model version source: '{source}'. If supplying a source as an http, https, local file path, \
             ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path \
             references present. Please provide an absolute path."
        ))
    };
    let unquoted = unquote_fully(source, true);
    let path = Url::parse(&unquoted, true).path;
    let mut collapsed = String::with_capacity(path.len());
    for c in path.trim_end_matches('/').chars() {
        if !(c == '/' && collapsed.ends_with('/')) {
            collapsed.push(c);
        }
    }
    if collapsed.contains('\0') || unquoted.split('/').any(|p| p == "..") {
        return Err(message());
    }
    if !collapsed.starts_with('/') || normpath(&collapsed) != collapsed {
        return Err(message());
    }
    Ok(())
}

fn uri_parts(uri: &str) -> (String, String, Vec<String>) {
    let url = Url::parse(uri, true);
    let parts = url
        .path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| unquote_fully(p, false))
        .collect();
    (url.scheme, url.netloc.to_lowercase(), parts)
}

fn is_uri_within_root(source: &str, root: &str) -> bool {
    let (s_scheme, s_host, s_parts) = uri_parts(source);
    let (r_scheme, r_host, r_parts) = uri_parts(root);
    s_scheme == r_scheme
        && s_host == r_host
        && !r_parts.is_empty()
        && s_parts.len() >= r_parts.len()
        && s_parts[..r_parts.len()] == r_parts[..]
}

fn is_mlflow_artifact_source(source: &str) -> bool {
    let (scheme, _, parts) = uri_parts(source);
    if scheme == "mlflow-artifacts" {
        return true;
    }
    let route = ["api", "2.0", "mlflow-artifacts", "artifacts"];
    (scheme == "http" || scheme == "https")
        && parts
            .windows(route.len())
            .any(|w| w.iter().zip(route).all(|(a, b)| a == b))
}

fn parse_source_model_uri(source: &str) -> ApiResult<ModelUri> {
    parse_model_uri(source).map_err(|_| invalid_source(source, "model_id"))
}

/// A local source is accepted only inside the (local) artifact directory of the resource the
/// request names; MLflow's message then shows the path resolved.
fn check_local_source(source: &str, root: &str, field: &str) -> ApiResult<()> {
    let resolved = local_path(source);
    if is_local_uri(root).unwrap_or(false) {
        let root = local_path(root);
        if resolved == root || resolved.starts_with(&format!("{}/", root.trim_end_matches('/'))) {
            return Ok(());
        }
    }
    Err(local_error(&resolved, field))
}

fn local_error(shown: &str, field: &str) -> ApiError {
    ApiError::invalid(format!(
        "Invalid model version source: '{shown}'. To use a local path as a model version source, the {field} \
         request parameter has to be specified and the local path has to be contained within the artifact \
         directory of the run specified by the {field}."
    ))
}

/// MLflow's `_validate_source_run`.
fn check_source_of_run(conn: &Connection, source: &str, run_id: &str) -> ApiResult<()> {
    let run_root = |conn: &Connection| -> ApiResult<String> {
        run_artifact_uri(conn, run_id)?.ok_or_else(|| invalid_source(source, "run_id"))
    };
    if is_local_uri(source)? {
        if run_id.is_empty() {
            return Err(local_error(source, "run_id"));
        }
        return check_local_source(source, &run_root(conn)?, "run_id");
    }
    check_no_relative_paths(source)?;
    let url = Url::parse(source, true);
    match url.scheme.as_str() {
        "runs" => {
            if !url.netloc.is_empty() {
                return Err(invalid_source(source, "run_id"));
            }
            let (source_run, _) = parse_runs_uri(source)?;
            if !run_id.is_empty() && source_run == run_id {
                return Ok(());
            }
            return Err(invalid_source(source, "run_id"));
        }
        "models" => {
            if !url.netloc.is_empty() {
                return Err(invalid_source(source, "model_id"));
            }
            if matches!(
                parse_source_model_uri(source)?,
                ModelUri::LoggedModel { .. }
            ) {
                return Err(invalid_source(source, "model_id"));
            }
        }
        _ => {}
    }
    if is_mlflow_artifact_source(source) {
        if !run_id.is_empty() && is_uri_within_root(source, &run_root(conn)?) {
            return Ok(());
        }
        return Err(invalid_source(source, "run_id"));
    }
    Ok(())
}

/// MLflow's `_validate_source_model`.
fn check_source_of_model(conn: &Connection, source: &str, model_id: &str) -> ApiResult<()> {
    let model_root = |conn: &Connection| -> ApiResult<String> {
        match logged_model(conn, model_id) {
            Ok(m) => Ok(m.artifact_location),
            Err(e) if e.error_code == crate::api::ErrorCode::ResourceDoesNotExist => {
                Err(invalid_source(source, "model_id"))
            }
            Err(e) => Err(e),
        }
    };
    if is_local_uri(source)? {
        return check_local_source(source, &model_root(conn)?, "model_id");
    }
    check_no_relative_paths(source)?;
    let url = Url::parse(source, true);
    match url.scheme.as_str() {
        "models" => {
            if !url.netloc.is_empty() {
                return Err(invalid_source(source, "model_id"));
            }
            if let ModelUri::LoggedModel { model_id: id } = parse_source_model_uri(source)? {
                if id == model_id {
                    return Ok(());
                }
                return Err(invalid_source(source, "model_id"));
            }
        }
        "runs" => return Err(invalid_source(source, "model_id")),
        _ => {}
    }
    if is_mlflow_artifact_source(source) {
        if is_uri_within_root(source, &model_root(conn)?) {
            return Ok(());
        }
        return Err(invalid_source(source, "model_id"));
    }
    Ok(())
}

/// Python's `json.dumps` (default separators, ASCII only): how MLflow writes JSON tag values.
fn py_json_dumps(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        let mut buf = [0u16; 2];
                        for unit in c.encode_utf16(&mut buf) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(py_json_dumps)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    py_json_dumps(&Value::String(k.clone())),
                    py_json_dumps(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Adds `{"name": ..., "version": N}` to the logged model's `mlflow.modelVersions` tag, as
/// MLflow's server does when a version is registered from a logged model.
fn tag_logged_model(conn: &Connection, model_id: &str, name: &str, version: i64) -> ApiResult<()> {
    let model = logged_model(conn, model_id)?;
    let entry = serde_json::json!({ "name": name, "version": version });
    let existing: Option<String> = conn
        .query_row(
            "SELECT tag_value FROM logged_model_tags WHERE model_id = ?1 AND tag_key = ?2",
            params![model_id, MODEL_VERSIONS_TAG],
            |r| r.get(0),
        )
        .optional()?;
    let mut list = match existing
        .filter(|s| !s.is_empty())
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
    {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    if !list.contains(&entry) {
        list.push(entry);
    }
    let value = py_json_dumps(&Value::Array(list));
    conn.execute(
        "INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (model_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
        params![model_id, model.experiment_id, MODEL_VERSIONS_TAG, value],
    )?;
    Ok(())
}

fn touch_model(conn: &Connection, name: &str, now: i64) -> ApiResult<()> {
    conn.execute(
        "UPDATE registered_models SET last_updated_time = ?1 WHERE workspace = ?2 AND name = ?3",
        params![now, WORKSPACE, name],
    )?;
    Ok(())
}

fn upsert_version_tag(
    conn: &Connection,
    name: &str,
    version: i64,
    key: &str,
    value: &str,
) -> ApiResult<()> {
    conn.execute(
        "INSERT INTO model_version_tags (key, value, name, version, workspace) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (workspace, key, name, version) DO UPDATE SET value = excluded.value",
        params![key, value, name, version, WORKSPACE],
    )?;
    Ok(())
}

fn is_prompt_model(conn: &Connection, name: &str) -> ApiResult<bool> {
    let value: Option<Option<String>> = conn
        .query_row(
            "SELECT value FROM registered_model_tags WHERE workspace = ?1 AND name = ?2 AND key = ?3",
            params![WORKSPACE, name, IS_PROMPT_TAG_KEY],
            |r| r.get(0),
        )
        .optional()?;
    Ok(value.flatten().is_some_and(|v| v.to_lowercase() == "true"))
}

fn create_version(conn: &Connection, req: &NewModelVersion) -> ApiResult<ModelVersion> {
    let mut source = req.source.to_string();
    // What the request says, "" for absent fields as MLflow's proto reads them.
    let mut run_id: Option<String> = Some(req.run_id.unwrap_or("").to_string());
    let mut model_id: Option<String> = Some(req.model_id.unwrap_or("").to_string());
    let truthy = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());

    if let Some(scheme) = rejected_host_scheme(&source) {
        return Err(ApiError::invalid(format!(
            "'source' cannot use the '{scheme}' scheme: the '{scheme}' scheme addresses a host other than the \
             tracking server's configured artifact storage, so the server would connect to the host named in \
             the URI. Set the MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the \
             server to allow it."
        )));
    }

    // A registered version as the source: pin it to `models:/<name>/<version>`, inherit its run.
    let url = Url::parse(&source, true);
    if url.scheme == "models" {
        if !url.netloc.is_empty() {
            return Err(ApiError::invalid(format!(
                "Invalid model version source: '{source}'. Registered model sources must use the active model registry."
            )));
        }
        let parsed = parse_source_model_uri(&source)?;
        if !matches!(parsed, ModelUri::LoggedModel { .. }) {
            let source_name = match &parsed {
                ModelUri::Version { name, .. }
                | ModelUri::Stage { name, .. }
                | ModelUri::Latest { name }
                | ModelUri::Alias { name, .. } => name.clone(),
                ModelUri::LoggedModel { .. } => unreachable!(),
            };
            registered_model_row(conn, &source_name)?;
            if is_prompt_model(conn, &source_name)? {
                return Err(ApiError::invalid(format!(
                    "Invalid model version source: '{source}'. Prompt versions cannot be used as model version sources."
                )));
            }
            let (name, version) = version_of(conn, &parsed)?;
            let v = parse_version(&version)?;
            let source_version = live_version(conn, &name, v)?;
            let src_run = source_version.run_id.clone().unwrap_or_default();
            if req.run_id.is_some_and(|r| r != src_run)
                || req.model_id.is_some_and(|m| !m.is_empty())
            {
                return Err(ApiError::invalid(format!(
                    "Invalid model version source: '{source}'. The run_id and model_id request parameters must match \
                     the referenced model version."
                )));
            }
            source = format!("models:/{name}/{}", source_version.version);
            if req.run_id.is_none() {
                run_id = source_version.run_id;
            }
            if req.model_id.is_none() {
                model_id = None;
            }
        }
    }
    if truthy(&model_id) {
        check_source_of_model(conn, &source, model_id.as_deref().unwrap_or(""))?;
    } else {
        check_source_of_run(conn, &source, run_id.as_deref().unwrap_or(""))?;
    }

    // The store: validate, find where the files are, number the version.
    validate_model_name(req.name)?;
    for t in req.tags {
        validate_model_version_tag(&t.key, &t.value)?;
    }
    let mut storage_location = source.clone();
    if Url::parse(&source, true).scheme == "models" {
        let unable = |e: ApiError| {
            uncoded(format!(
                "Unable to fetch model from model URI source artifact location '{source}'.Error: {}",
                e.message
            ))
        };
        match parse_model_uri(&source).map_err(unable)? {
            ModelUri::LoggedModel { model_id: id } => {
                let model = logged_model(conn, &id).map_err(unable)?;
                storage_location = model.artifact_location;
                if !truthy(&run_id) {
                    run_id = model.source_run_id;
                }
            }
            ModelUri::Version { name, version } => {
                storage_location = download_uri(conn, &name, &version).map_err(unable)?;
            }
            _ => {}
        }
    }
    if !truthy(&run_id) && truthy(&model_id) {
        run_id = logged_model(conn, model_id.as_deref().unwrap_or(""))?.source_run_id;
    }
    let ModelRow { name, .. } = registered_model_row(conn, req.name)?;
    let now = now_ms();
    touch_model(conn, &name, now)?;
    let max: Option<i64> = conn.query_row(
        "SELECT max(version) FROM model_versions WHERE workspace = ?1 AND name = ?2",
        params![WORKSPACE, name],
        |r| r.get(0),
    )?;
    let version = max.unwrap_or(0) + 1;
    conn.execute(
        "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id,
             current_stage, source, run_id, status, status_message, run_link, storage_location, workspace)
         VALUES (?1, ?2, ?3, ?3, ?4, NULL, ?5, ?6, ?7, ?8, NULL, ?9, ?10, ?11)",
        params![
            name,
            version,
            now,
            req.description.unwrap_or(""),
            STAGE_NONE,
            source,
            run_id,
            STATUS_READY,
            req.run_link.unwrap_or(""),
            storage_location,
            WORKSPACE
        ],
    )?;
    for t in dedup_tags(req.tags) {
        upsert_version_tag(conn, &name, version, &t.key, &t.value)?;
    }
    if let Some(id) = model_id.as_deref().filter(|m| !m.is_empty()) {
        tag_logged_model(conn, id, &name, version)?;
    }
    version_with_aliases(conn, &name, version)
}

impl Store {
    /// MLflow's `model-versions/create`: the server's source checks, then the store's. The new
    /// version is numbered one past the highest ever made for the model (deleted ones count) and
    /// is `READY` in stage `None` at once.
    pub fn create_model_version(&mut self, req: &NewModelVersion) -> ApiResult<ModelVersion> {
        self.write(|tx| create_version(tx, req))
    }

    pub fn get_model_version(&self, name: &str, version: &str) -> ApiResult<ModelVersion> {
        validate_model_name(name)?;
        let v = parse_version(version)?;
        version_with_aliases(self.connection(), name, v)
    }

    /// Sets the description (None clears it) and the version's last update time.
    pub fn update_model_version(
        &mut self,
        name: &str,
        version: &str,
        description: Option<&str>,
    ) -> ApiResult<ModelVersion> {
        validate_model_name(name)?;
        let v = parse_version(version)?;
        self.write(|tx| {
            version_row_exists(tx, name, v)?;
            tx.execute(
                "UPDATE model_versions SET description = ?1, last_updated_time = ?2
                 WHERE workspace = ?3 AND name = ?4 AND version = ?5",
                params![description, now_ms(), WORKSPACE, name, v],
            )?;
            version_with_aliases(tx, name, v)
        })
    }

    /// Moves a version to a stage (any capitalisation); with `archive_existing_versions` the
    /// other versions in that stage (Staging or Production only) move to Archived.
    pub fn transition_model_version_stage(
        &mut self,
        name: &str,
        version: &str,
        stage: &str,
        archive_existing_versions: bool,
    ) -> ApiResult<ModelVersion> {
        let canonical = canonical_stage(stage)?;
        if archive_existing_versions && !ACTIVE_STAGES.contains(&canonical) {
            return Err(uncoded(format!(
                "Model version transition cannot archive existing model versions because '{stage}' is not an \
                 Active stage. Valid stages are {}",
                super::validation::py_list_repr(&ACTIVE_STAGES)
            )));
        }
        validate_model_name(name)?;
        let v = parse_version(version)?;
        self.write(|tx| {
            version_row_exists(tx, name, v)?;
            let now = now_ms();
            if archive_existing_versions {
                tx.execute(
                    "UPDATE model_versions SET current_stage = ?1, last_updated_time = ?2
                     WHERE workspace = ?3 AND name = ?4 AND version != ?5 AND current_stage = ?6",
                    params![STAGE_ARCHIVED, now, WORKSPACE, name, v, canonical],
                )?;
            }
            tx.execute(
                "UPDATE model_versions SET current_stage = ?1, last_updated_time = ?2
                 WHERE workspace = ?3 AND name = ?4 AND version = ?5",
                params![canonical, now, WORKSPACE, name, v],
            )?;
            touch_model(tx, name, now)?;
            version_with_aliases(tx, name, v)
        })
    }

    /// Deletes a version as MLflow does: the row stays (stage `Deleted_Internal`, source and run
    /// redacted) so its number is never reused; its aliases go, its tags stay.
    pub fn delete_model_version(&mut self, name: &str, version: &str) -> ApiResult<()> {
        let v = parse_version(version)?;
        self.write(|tx| {
            version_row_exists(tx, name, v)?;
            let now = now_ms();
            touch_model(tx, name, now)?;
            tx.execute(
                "DELETE FROM registered_model_aliases WHERE workspace = ?1 AND name = ?2 AND version = ?3",
                params![WORKSPACE, name, v],
            )?;
            tx.execute(
                "UPDATE model_versions SET current_stage = ?1, last_updated_time = ?2, description = NULL,
                     user_id = NULL, source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID',
                     run_link = 'REDACTED-RUN-LINK', status_message = NULL
                 WHERE workspace = ?3 AND name = ?4 AND version = ?5",
                params![STAGE_DELETED_INTERNAL, now, WORKSPACE, name, v],
            )?;
            Ok(())
        })
    }

    /// Where the version's files are (`artifact_uri` of `get-download-uri`).
    pub fn get_model_version_download_uri(&self, name: &str, version: &str) -> ApiResult<String> {
        download_uri(self.connection(), name, version)
    }

    /// MLflow's `search_model_versions` (no aliases on the versions, as in MLflow).
    pub fn search_model_versions(
        &self,
        q: &ModelSearch,
    ) -> ApiResult<(Vec<ModelVersion>, Option<String>)> {
        let max = q
            .max_results
            .unwrap_or(SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT);
        if max < 1 {
            return Err(ApiError::invalid(format!(
                "Invalid value for max_results. It must be a positive integer, but got {max}"
            )));
        }
        if max > SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD {
            return Err(ApiError::invalid(format!(
                "Invalid value for request parameter max_results. It must be at most \
                 {SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD}, but got value {max}"
            )));
        }
        let q = ModelSearch {
            max_results: Some(max),
            ..q.clone()
        };
        let (keys, token) = search::search_model_versions(self.connection(), &q)?;
        let versions = keys
            .iter()
            .map(|(name, v)| load_version(self.connection(), name, *v))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok((versions, token))
    }

    pub fn set_model_version_tag(
        &mut self,
        name: &str,
        version: &str,
        key: &str,
        value: &str,
    ) -> ApiResult<()> {
        validate_model_name(name)?;
        let v = parse_version(version)?;
        validate_model_version_tag(key, value)?;
        self.write(|tx| {
            version_row_exists(tx, name, v)?;
            upsert_version_tag(tx, name, v, key, value)
        })
    }

    /// Deletes a version's tag; a missing tag is no error (as in MLflow), a missing version is.
    pub fn delete_model_version_tag(
        &mut self,
        name: &str,
        version: &str,
        key: &str,
    ) -> ApiResult<()> {
        validate_model_name(name)?;
        let v = parse_version(version)?;
        validate_tag_name(key)?;
        self.write(|tx| {
            version_row_exists(tx, name, v)?;
            tx.execute(
                "DELETE FROM model_version_tags WHERE workspace = ?1 AND name = ?2 AND version = ?3 AND key = ?4",
                params![WORKSPACE, name, v, key],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_tag_values_are_written_as_python_writes_them() {
        let v = serde_json::json!([{"name": "sk", "version": 1}, {"name": "é", "version": "2"}]);
        assert_eq!(
            py_json_dumps(&v),
            r#"[{"name": "sk", "version": 1}, {"name": "\u00e9", "version": "2"}]"#
        );
    }

    #[test]
    fn source_paths_must_be_absolute_without_traversal() {
        assert!(check_no_relative_paths("s3://bucket/path/model").is_ok());
        assert!(check_no_relative_paths("runs:/abc/model").is_ok());
        assert!(check_no_relative_paths("s3://bucket").is_err());
        assert!(check_no_relative_paths("mlflow-artifacts:/1/x/../y").is_err());
        assert!(check_no_relative_paths("mlflow-artifacts:/1/x/%2e%2e/y").is_err());
        assert!(check_no_relative_paths("mlflow-artifacts:/1/./y").is_err());
        assert!(is_uri_within_root(
            "mlflow-artifacts:/1/abc/artifacts/model",
            "mlflow-artifacts:/1/abc/artifacts"
        ));
        assert!(!is_uri_within_root(
            "mlflow-artifacts:/1/abcd/artifacts/model",
            "mlflow-artifacts:/1/abc/artifacts"
        ));
        assert_eq!(rejected_host_scheme("http://x/y").as_deref(), Some("http"));
        assert_eq!(rejected_host_scheme("mlflow-artifacts:/x"), None);
        assert_eq!(
            rejected_host_scheme("mlflow-artifacts://host/x").as_deref(),
            Some("mlflow-artifacts")
        );
    }
}
