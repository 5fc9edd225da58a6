//! Flowbook's own JSON endpoints under `/api/2.0/flowbook/`, beside MLflow's: a run search's count and
//! keys (so a table can ask for only the rows in view), feature tables,
//! predictions by model URI (MLflow's scoring-server shapes), a learner's lesson progress, and
//! read-only views of the store as MLflow's two backends would hold it (for the lessons).

use super::{ApiError, ApiResult};
use crate::ml::features::{self, FeatureTable};
use crate::ml::model;
use crate::tracking::Store;
use rusqlite::types::ValueRef;
use serde_json::{json, Value};
use std::io::Read;

const PROGRESS_SQL: &str = "
CREATE TABLE IF NOT EXISTS flowbook_lesson_progress (
    lesson TEXT NOT NULL,
    cell INTEGER NOT NULL,
    result TEXT NOT NULL,
    time INTEGER NOT NULL,
    PRIMARY KEY (lesson, cell)
)";

fn text<'a>(json: &'a Value, name: &str) -> ApiResult<&'a str> {
    json.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid(format!("Missing value for required parameter '{name}'.")))
}

pub(super) fn dispatch(
    store: &mut Store,
    method: &str,
    endpoint: &str,
    json: Value,
) -> ApiResult<Value> {
    match (method, endpoint) {
        ("POST", "feature-tables/create") => {
            let table = if let Some(builtin) = json.get("builtin").and_then(Value::as_str) {
                match builtin {
                    "taxi_zone_features" => features::taxi_zones(),
                    other => {
                        return Err(ApiError::invalid(format!(
                            "there is no built-in feature table '{other}' (there is taxi_zone_features)"
                        )))
                    }
                }
            } else {
                let data = json.get("data").ok_or_else(|| {
                    ApiError::invalid(
                        "give the table's \"data\" as {\"columns\": [...], \"data\": [[...]]}",
                    )
                })?;
                let frame = features::frame_from_split(data).map_err(ApiError::invalid)?;
                FeatureTable::new(
                    text(&json, "name")?,
                    text(&json, "primary_key")?,
                    json.get("description")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                    frame,
                )?
            };
            let replace = json.get("replace").and_then(Value::as_bool) == Some(true);
            features::create(store, &table, replace)?;
            Ok(json!({"feature_table": table.to_json()}))
        }
        ("GET", "feature-tables/get") => {
            Ok(json!({"feature_table": features::get(store, text(&json, "name")?)?.to_json()}))
        }
        ("GET", "feature-tables/list") => Ok(json!({"feature_tables": features::list(store)?})),
        ("POST", "feature-tables/delete") => {
            features::delete(store, text(&json, "name")?)?;
            Ok(json!({}))
        }
        ("POST", "models/predict") => predict(store, &json),
        ("GET", "lessons/progress") => progress(store),
        ("POST", "lessons/progress/set") => set_progress(store, &json),
        ("POST", "lessons/reset") => reset_lesson(store, text(&json, "lesson")?),
        ("GET" | "POST", "runs/count") => {
            let q = super::tracking::run_search(json)?;
            Ok(json!({"count": crate::tracking::search::count_runs(store.connection(), &q)?}))
        }
        ("GET" | "POST", "runs/keys") => {
            let q = super::tracking::run_search(json)?;
            let keys = crate::tracking::search::run_keys(store.connection(), &q)?;
            Ok(json!({"metrics": keys.metrics, "params": keys.params, "tags": keys.tags}))
        }
        ("GET", "store/tables") => tables(store, &json),
        ("GET", "store/file-layout") => file_layout(store, &json),
        _ => Err(super::not_found(
            method,
            &format!("/api/2.0/flowbook/{endpoint}"),
        )),
    }
}

/// `{"model_uri", "dataframe_split": {"columns", "data"}}` → `{"predictions": ...}`, as MLflow's
/// scoring server answers `/invocations`.
fn predict(store: &mut Store, json: &Value) -> ApiResult<Value> {
    let uri = text(json, "model_uri")?;
    let split = json.get("dataframe_split").ok_or_else(|| {
        ApiError::invalid(
            "give the input as \"dataframe_split\": {\"columns\": [...], \"data\": [[...]]}",
        )
    })?;
    let input = features::frame_from_split(split).map_err(ApiError::invalid)?;
    let saved = model::load(store, uri)?;
    Ok(json!({"predictions": saved.predict_input(store, &input)?}))
}

fn ensure_progress(store: &Store) -> ApiResult<()> {
    store.connection().execute_batch(PROGRESS_SQL)?;
    Ok(())
}

fn progress(store: &mut Store) -> ApiResult<Value> {
    ensure_progress(store)?;
    let mut stmt = store.connection().prepare(
        "SELECT lesson, cell, result, time FROM flowbook_lesson_progress ORDER BY lesson, cell",
    )?;
    let cells = stmt
        .query_map([], |r| {
            let result: String = r.get(2)?;
            Ok(json!({
                "lesson": r.get::<_, String>(0)?,
                "cell": r.get::<_, i64>(1)?,
                "result": serde_json::from_str::<Value>(&result).unwrap_or(Value::Null),
                "time": r.get::<_, i64>(3)?,
            }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({"cells": cells}))
}

fn set_progress(store: &mut Store, json: &Value) -> ApiResult<Value> {
    ensure_progress(store)?;
    let lesson = text(json, "lesson")?.to_string();
    let cell = json
        .get("cell")
        .and_then(Value::as_i64)
        .filter(|c| *c >= 0)
        .ok_or_else(|| ApiError::invalid("'cell' must be a cell number"))?;
    let result = json
        .get("result")
        .cloned()
        .unwrap_or(Value::Null)
        .to_string();
    store.write(|tx| {
        tx.execute(
            "INSERT OR REPLACE INTO flowbook_lesson_progress (lesson, cell, result, time) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![lesson, cell, result, crate::clock::now_ms()],
        )?;
        Ok(())
    })?;
    Ok(json!({}))
}

fn reset_lesson(store: &mut Store, lesson: &str) -> ApiResult<Value> {
    ensure_progress(store)?;
    store.write(|tx| {
        tx.execute(
            "DELETE FROM flowbook_lesson_progress WHERE lesson = ?1",
            [lesson],
        )?;
        Ok(())
    })?;
    Ok(json!({}))
}

/// MLflow's tables with their row counts; with `table`, its columns and first `limit` rows.
fn tables(store: &mut Store, json: &Value) -> ApiResult<Value> {
    let conn = store.connection();
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'flowbook_%' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut listed = Vec::new();
    for name in &names {
        let count: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{name}\""), [], |r| {
            r.get(0)
        })?;
        listed.push(json!({"name": name, "rows": count}));
    }
    let mut out = json!({"tables": listed});
    if let Some(table) = json.get("table").and_then(Value::as_str) {
        // Only a name from the list above reaches the SQL text.
        let name = names
            .iter()
            .find(|n| *n == table)
            .ok_or_else(|| ApiError::not_found(format!("the store has no table '{table}'")))?;
        let limit = json
            .get("limit")
            .and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_i64()))
            .unwrap_or(20)
            .clamp(1, 200);
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{name}\" LIMIT {limit}"))?;
        let columns: Vec<String> = stmt.column_names().map(str::to_string).collect();
        let width = columns.len();
        let rows = stmt
            .query_map([], |r| {
                (0..width)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(n) => json!(n),
                            ValueRef::Real(x) => json!(x),
                            ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                            ValueRef::Blob(b) => json!(format!("<{} bytes>", b.len())),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })?
            .collect::<Result<Vec<_>, _>>()?;
        out["table"] = json!({"name": name, "columns": columns, "rows": rows});
    }
    Ok(out)
}

/// The store as MLflow's file store lays it out (what an mlruns export writes): each path, its
/// size, and the text of small files. With `experiment_id`, only that experiment's folder.
fn file_layout(store: &mut Store, json: &Value) -> ApiResult<Value> {
    let (bytes, _) = crate::bundle::export_bytes(store, crate::bundle::Format::Mlruns)?;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ApiError::internal(format!("the export cannot be read back: {e}")))?;
    let prefix = json
        .get("experiment_id")
        .and_then(Value::as_str)
        .map(|id| format!("mlruns/{id}/"));
    let mut files = Vec::new();
    let mut total = 0usize;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| ApiError::internal(format!("the export cannot be read back: {e}")))?;
        let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
        if entry.is_dir() || prefix.as_ref().is_some_and(|p| !name.starts_with(p)) {
            continue;
        }
        total += 1;
        if files.len() >= 400 {
            continue;
        }
        let size = entry.size();
        let mut preview = Value::Null;
        if size <= 200 && !name.contains("/artifacts/") {
            let mut text = String::new();
            if entry.read_to_string(&mut text).is_ok() {
                preview = json!(text);
            }
        }
        files.push(json!({"path": name, "size": size, "text": preview}));
    }
    Ok(json!({"files": files, "total": total}))
}
