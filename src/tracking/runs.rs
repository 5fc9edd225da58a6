//! Runs and what is logged to them: params, metrics (full history + MLflow's `latest_metrics`),
//! tags, dataset inputs and model outputs.

use super::experiments::check_active as check_experiment_active;
use super::paging;
use super::search::{self, RunSearch};
use super::validation::{
    parse_experiment_id, validate_batch_limits, validate_metric, validate_param, validate_run_id,
    validate_tag, MAX_DATASET_DIGEST_SIZE, MAX_DATASET_NAME_SIZE, MAX_DATASET_SOURCE_SIZE,
    MAX_INPUT_TAG_KEY_SIZE, MAX_INPUT_TAG_VALUE_SIZE,
};
use super::{
    new_id, DatasetInput, KeyValue, Metric, ModelInput, ModelOutput, Run, RunData, RunInfo,
    RunInputs, RunOutputs, Store, ACTIVE,
};
use crate::api::{ApiError, ApiResult};
use crate::clock::now_ms;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

pub const RUN_NAME_TAG: &str = "mlflow.runName";
pub const PARENT_RUN_TAG: &str = "mlflow.parentRunId";
pub const USER_TAG: &str = "mlflow.user";
pub const NOTE_TAG: &str = "mlflow.note.content";
pub const RUN_STATUSES: [&str; 5] = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];

/// MLflow stores NaN as 0 with `is_nan`, and ±inf as ±f64::MAX (SQL has no infinities).
fn sanitize(value: f64) -> (f64, bool) {
    if value.is_nan() {
        (0.0, true)
    } else if value.is_infinite() {
        (if value > 0.0 { f64::MAX } else { f64::MIN }, false)
    } else {
        (value, false)
    }
}

fn stored_value(value: f64, is_nan: bool) -> f64 {
    if is_nan {
        f64::NAN
    } else {
        value
    }
}

/// A readable random run name, like MLflow's `<adjective>-<noun>-<number>`.
fn random_run_name() -> String {
    const ADJECTIVES: [&str; 16] = [
        "bold", "brave", "bright", "calm", "clever", "gentle", "glad", "keen", "lively", "merry",
        "quick", "quiet", "shy", "swift", "warm", "wise",
    ];
    const NOUNS: [&str; 16] = [
        "ant", "bass", "bee", "crab", "deer", "doe", "finch", "fox", "gull", "hare", "lark",
        "mole", "owl", "seal", "toad", "wren",
    ];
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    format!(
        "{}-{}-{}",
        ADJECTIVES[bytes[0] as usize % 16],
        NOUNS[bytes[1] as usize % 16],
        u16::from_le_bytes([bytes[2], bytes[3]]) % 1000
    )
}

pub(crate) fn run_row(conn: &Connection, run_id: &str) -> ApiResult<(i64, String)> {
    conn.query_row(
        "SELECT experiment_id, lifecycle_stage FROM runs WHERE run_uuid = ?1",
        [run_id],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?
                    .unwrap_or_else(|| ACTIVE.into()),
            ))
        },
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("Run with id={run_id} not found")))
}

/// The run must exist and be active; returns its experiment id.
pub(crate) fn check_run_active(conn: &Connection, run_id: &str) -> ApiResult<i64> {
    let (experiment_id, stage) = run_row(conn, run_id)?;
    if stage != ACTIVE {
        return Err(ApiError::invalid(format!(
            "The run {run_id} must be in the 'active' state. Current state is {stage}."
        )));
    }
    Ok(experiment_id)
}

/// Rows per multi-row INSERT: one statement step per chunk rather than per point (bulk logging
/// and bundle imports spend most of their time here).
const METRIC_CHUNK: usize = 64;

fn multi_row_metric_insert() -> String {
    let row = "(?, ?, ?, ?, ?, ?)";
    format!(
        "INSERT OR IGNORE INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES {}",
        vec![row; METRIC_CHUNK].join(", ")
    )
}

pub(crate) fn insert_metrics(conn: &Connection, run_id: &str, metrics: &[Metric]) -> ApiResult<()> {
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let sanitized: Vec<(f64, bool)> = metrics.iter().map(|m| sanitize(m.value)).collect();
    let full_chunks = metrics.len() / METRIC_CHUNK;
    if full_chunks > 0 {
        let mut multi = conn.prepare_cached(&multi_row_metric_insert())?;
        let mut args: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(METRIC_CHUNK * 6);
        for (chunk, values) in metrics
            .chunks_exact(METRIC_CHUNK)
            .zip(sanitized.chunks_exact(METRIC_CHUNK))
        {
            args.clear();
            for (m, (value, is_nan)) in chunk.iter().zip(values) {
                args.extend([
                    &m.key as &dyn rusqlite::ToSql,
                    value,
                    &m.timestamp,
                    &run_id,
                    &m.step,
                    is_nan,
                ]);
            }
            multi.execute(&args[..])?;
        }
    }
    for (m, (value, is_nan)) in metrics
        .iter()
        .zip(&sanitized)
        .skip(full_chunks * METRIC_CHUNK)
    {
        insert.execute(params![m.key, value, m.timestamp, run_id, m.step, is_nan])?;
    }
    // The newest value per key, by MLflow's rule: (step, timestamp, value) compared in order.
    let mut newest: HashMap<&str, (i64, i64, f64, bool)> = HashMap::new();
    for (m, &(value, is_nan)) in metrics.iter().zip(&sanitized) {
        let candidate = (m.step, m.timestamp, value, is_nan);
        match newest.get(m.key.as_str()) {
            Some(old) if (old.0, old.1, old.2) >= (candidate.0, candidate.1, candidate.2) => {}
            _ => {
                newest.insert(&m.key, candidate);
            }
        }
    }
    let mut current = conn.prepare_cached(
        "SELECT step, timestamp, value FROM latest_metrics WHERE run_uuid = ?1 AND key = ?2",
    )?;
    let mut upsert = conn.prepare_cached(
        "INSERT OR REPLACE INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (key, (step, timestamp, value, is_nan)) in newest {
        let old: Option<(i64, Option<i64>, f64)> = current
            .query_row(params![run_id, key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let newer = match old {
            None => true,
            Some((s, t, v)) => (step, timestamp, value) > (s, t.unwrap_or(0), v),
        };
        if newer {
            upsert.execute(params![key, value, timestamp, step, is_nan, run_id])?;
        }
    }
    Ok(())
}

fn insert_params(conn: &Connection, run_id: &str, new: &[KeyValue]) -> ApiResult<()> {
    let mut existing =
        conn.prepare_cached("SELECT value FROM params WHERE run_uuid = ?1 AND key = ?2")?;
    let mut changed = Vec::new();
    let mut insert =
        conn.prepare_cached("INSERT INTO params (key, value, run_uuid) VALUES (?1, ?2, ?3)")?;
    for p in new {
        match existing
            .query_row(params![run_id, p.key], |r| r.get::<_, String>(0))
            .optional()?
        {
            Some(old) if old != p.value => changed.push((p.key.clone(), old, p.value.clone())),
            Some(_) => {}
            None => {
                insert.execute(params![p.key, p.value, run_id])?;
            }
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    if new.len() == 1 {
        let (key, old, value) = &changed[0];
        return Err(ApiError::invalid(format!(
            "Changing param values is not allowed. Param with key='{key}' was already logged with value='{old}' \
             for run ID='{run_id}'. Attempted logging new value '{value}'."
        )));
    }
    let listed = changed
        .iter()
        .map(|(k, o, n)| format!("{{'key': '{k}', 'old_value': '{o}', 'new_value': '{n}'}}"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(ApiError::invalid(format!(
        "Changing param values is not allowed. Params were already logged='[{listed}]' for run ID='{run_id}'."
    )))
}

fn set_tags(conn: &Connection, run_id: &str, tags: &[KeyValue]) -> ApiResult<()> {
    let mut upsert = conn
        .prepare_cached("INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?1, ?2, ?3)")?;
    for t in tags {
        upsert.execute(params![t.key, t.value, run_id])?;
        if t.key == RUN_NAME_TAG {
            // The run name lives both in `runs.name` and in the tag; MLflow keeps them equal.
            conn.execute(
                "UPDATE runs SET name = ?1 WHERE run_uuid = ?2",
                params![t.value, run_id],
            )?;
        }
    }
    Ok(())
}

/// Loads whole runs (info, latest metrics, params, tags, inputs, outputs) for many ids at once.
pub(crate) fn load_runs(conn: &Connection, ids: &[String]) -> ApiResult<Vec<Run>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids_json = serde_json::to_string(ids).map_err(|e| ApiError::internal(e.to_string()))?;
    let in_ids = "(SELECT value FROM json_each(?1))";
    let mut runs: HashMap<String, Run> = HashMap::with_capacity(ids.len());
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage
             FROM runs WHERE run_uuid IN {in_ids}"
        ))?;
        let mut rows = stmt.query([&ids_json])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let info = RunInfo {
                run_id: id.clone(),
                run_uuid: id.clone(),
                run_name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                experiment_id: r.get::<_, Option<i64>>(2)?.unwrap_or(0).to_string(),
                user_id: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                status: r
                    .get::<_, Option<String>>(4)?
                    .unwrap_or_else(|| "RUNNING".into()),
                start_time: r.get::<_, Option<i64>>(5)?.unwrap_or(0),
                end_time: r.get(6)?,
                artifact_uri: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                lifecycle_stage: r
                    .get::<_, Option<String>>(8)?
                    .unwrap_or_else(|| ACTIVE.into()),
            };
            runs.insert(
                id,
                Run {
                    info,
                    data: RunData::default(),
                    inputs: RunInputs::default(),
                    outputs: RunOutputs::default(),
                },
            );
        }
    }
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid IN {in_ids} ORDER BY key"
        ))?;
        let mut rows = stmt.query([&ids_json])?;
        while let Some(r) = rows.next()? {
            if let Some(run) = runs.get_mut(&r.get::<_, String>(0)?) {
                run.data.metrics.push(Metric {
                    key: r.get(1)?,
                    value: stored_value(r.get(2)?, r.get(5)?),
                    timestamp: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                    step: r.get(4)?,
                });
            }
        }
    }
    for (table, target) in [("params", 0), ("tags", 1)] {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT run_uuid, key, value FROM {table} WHERE run_uuid IN {in_ids} ORDER BY key"
        ))?;
        let mut rows = stmt.query([&ids_json])?;
        while let Some(r) = rows.next()? {
            if let Some(run) = runs.get_mut(&r.get::<_, String>(0)?) {
                let kv = KeyValue {
                    key: r.get(1)?,
                    value: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                };
                if target == 0 {
                    run.data.params.push(kv)
                } else {
                    run.data.tags.push(kv)
                }
            }
        }
    }
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source,
                    d.dataset_schema, d.dataset_profile
             FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id
             WHERE i.destination_type = 'RUN' AND i.source_type = 'DATASET' AND i.destination_id IN {in_ids}
             ORDER BY i.rowid"
        ))?;
        let mut tag_stmt = conn.prepare_cached(
            "SELECT name, value FROM input_tags WHERE input_uuid = ?1 ORDER BY name",
        )?;
        let mut rows = stmt.query([&ids_json])?;
        while let Some(r) = rows.next()? {
            let run_id: String = r.get(0)?;
            let input_uuid: String = r.get(1)?;
            let tags = tag_stmt
                .query_map([&input_uuid], |t| {
                    Ok(KeyValue {
                        key: t.get(0)?,
                        value: t.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            if let Some(run) = runs.get_mut(&run_id) {
                run.inputs.dataset_inputs.push(DatasetInput {
                    tags,
                    dataset: super::Dataset {
                        name: r.get(2)?,
                        digest: r.get(3)?,
                        source_type: r.get(4)?,
                        source: r.get(5)?,
                        schema: r.get(6)?,
                        profile: r.get(7)?,
                    },
                });
            }
        }
    }
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT source_type, source_id, destination_id, step FROM inputs
             WHERE source_type IN ('RUN_INPUT', 'RUN_OUTPUT') AND source_id IN {in_ids} ORDER BY rowid"
        ))?;
        let mut rows = stmt.query([&ids_json])?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(0)?;
            if let Some(run) = runs.get_mut(&r.get::<_, String>(1)?) {
                let model_id: String = r.get(2)?;
                if kind == "RUN_INPUT" {
                    run.inputs.model_inputs.push(ModelInput { model_id });
                } else {
                    run.outputs.model_outputs.push(ModelOutput {
                        model_id,
                        step: r.get(3)?,
                    });
                }
            }
        }
    }
    Ok(ids.iter().filter_map(|id| runs.remove(id)).collect())
}

impl Store {
    pub fn create_run(
        &mut self,
        experiment_id: &str,
        user_id: &str,
        start_time: Option<i64>,
        run_name: Option<&str>,
        tags: &[KeyValue],
    ) -> ApiResult<Run> {
        let experiment_id = parse_experiment_id(if experiment_id.is_empty() {
            "0"
        } else {
            experiment_id
        })?;
        for (i, t) in tags.iter().enumerate() {
            validate_tag(&t.key, &t.value, &format!("tags[{i}]"))?;
        }
        let run_name = run_name.filter(|s| !s.is_empty());
        let tag_name = tags
            .iter()
            .find(|t| t.key == RUN_NAME_TAG)
            .map(|t| t.value.as_str());
        if let (Some(a), Some(b)) = (run_name, tag_name) {
            if a != b {
                return Err(ApiError::invalid(format!(
                    "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values \
                     (run_name='{a}', mlflow.runName='{b}')."
                )));
            }
        }
        let name = run_name
            .or(tag_name)
            .map(str::to_string)
            .unwrap_or_else(random_run_name);
        let run_id = new_id();
        self.write(|tx| {
            let experiment = tx
                .query_row("SELECT artifact_location FROM experiments WHERE experiment_id = ?1", [experiment_id], |r| {
                    r.get::<_, Option<String>>(0)
                })
                .optional()?
                .ok_or_else(|| ApiError::not_found(format!("No Experiment with id={experiment_id} exists")))?;
            check_experiment_active(tx, experiment_id)?;
            let artifact_uri = format!("{}/{run_id}/artifacts", experiment.unwrap_or_default().trim_end_matches('/'));
            tx.execute(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time,
                                   end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)
                 VALUES (?1, ?2, 'UNKNOWN', '', '', ?3, 'RUNNING', ?4, NULL, '', 'active', ?5, ?6, NULL)",
                params![run_id, name, user_id, start_time.unwrap_or_else(now_ms), artifact_uri, experiment_id],
            )?;
            let mut all_tags = tags.to_vec();
            if tag_name.is_none() {
                all_tags.push(KeyValue::new(RUN_NAME_TAG, name.clone()));
            }
            set_tags(tx, &run_id, &all_tags)?;
            Ok(())
        })?;
        self.get_run(&run_id)
    }

    pub fn get_run(&self, run_id: &str) -> ApiResult<Run> {
        load_runs(&self.conn, &[run_id.to_string()])?
            .pop()
            .ok_or_else(|| ApiError::not_found(format!("Run with id={run_id} not found")))
    }

    pub fn update_run(
        &mut self,
        run_id: &str,
        status: Option<&str>,
        end_time: Option<i64>,
        run_name: Option<&str>,
    ) -> ApiResult<RunInfo> {
        if let Some(s) = status {
            if !RUN_STATUSES.contains(&s) {
                return Err(ApiError::invalid(format!(
                    "Invalid value '{s}' for parameter 'status': expected one of {}",
                    RUN_STATUSES.join(", ")
                )));
            }
        }
        self.write(|tx| {
            check_run_active(tx, run_id)?;
            if let Some(s) = status {
                tx.execute(
                    "UPDATE runs SET status = ?1 WHERE run_uuid = ?2",
                    params![s, run_id],
                )?;
            }
            if let Some(t) = end_time {
                tx.execute(
                    "UPDATE runs SET end_time = ?1 WHERE run_uuid = ?2",
                    params![t, run_id],
                )?;
            }
            if let Some(name) = run_name.filter(|n| !n.is_empty()) {
                set_tags(tx, run_id, &[KeyValue::new(RUN_NAME_TAG, name)])?;
            }
            Ok(())
        })?;
        Ok(self.get_run(run_id)?.info)
    }

    pub fn delete_run(&mut self, run_id: &str) -> ApiResult<()> {
        self.write(|tx| {
            run_row(tx, run_id)?;
            tx.execute(
                "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ?1 WHERE run_uuid = ?2",
                params![now_ms(), run_id],
            )?;
            Ok(())
        })
    }

    pub fn restore_run(&mut self, run_id: &str) -> ApiResult<()> {
        self.write(|tx| {
            run_row(tx, run_id)?;
            tx.execute("UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?1", [run_id])?;
            Ok(())
        })
    }

    pub fn log_param(&mut self, run_id: &str, key: &str, value: &str) -> ApiResult<()> {
        validate_param(key, value, "")?;
        self.write(|tx| {
            check_run_active(tx, run_id)?;
            insert_params(tx, run_id, &[KeyValue::new(key, value)])
        })
    }

    pub fn log_metric(
        &mut self,
        run_id: &str,
        metric: &Metric,
        model_id: Option<&str>,
    ) -> ApiResult<()> {
        validate_metric(&metric.key, metric.timestamp, "")?;
        self.write(|tx| {
            let experiment_id = check_run_active(tx, run_id)?;
            insert_metrics(tx, run_id, std::slice::from_ref(metric))?;
            if let Some(model_id) = model_id.filter(|m| !m.is_empty()) {
                tx.execute(
                    "INSERT OR REPLACE INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step,
                         metric_value, experiment_id, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![model_id, metric.key, metric.timestamp, metric.step, sanitize(metric.value).0, experiment_id, run_id],
                )?;
            }
            Ok(())
        })
    }

    pub fn set_tag(&mut self, run_id: &str, key: &str, value: &str) -> ApiResult<()> {
        validate_tag(key, value, "")?;
        self.write(|tx| {
            check_run_active(tx, run_id)?;
            set_tags(tx, run_id, &[KeyValue::new(key, value)])
        })
    }

    pub fn delete_tag(&mut self, run_id: &str, key: &str) -> ApiResult<()> {
        self.write(|tx| {
            check_run_active(tx, run_id)?;
            let n = tx.execute(
                "DELETE FROM tags WHERE run_uuid = ?1 AND key = ?2",
                params![run_id, key],
            )?;
            if n == 0 {
                return Err(ApiError::not_found(format!(
                    "No tag with name: {key} in run with id {run_id}"
                )));
            }
            Ok(())
        })
    }

    /// MLflow's `log-batch`: validated as a whole first, then written in one transaction.
    pub fn log_batch(
        &mut self,
        run_id: &str,
        metrics: &[Metric],
        params: &[KeyValue],
        tags: &[KeyValue],
    ) -> ApiResult<()> {
        validate_run_id(run_id)?;
        // Batches repeat a few keys many times: each distinct key is checked once.
        let mut checked: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for (i, m) in metrics.iter().enumerate() {
            if m.timestamp < 0 || checked.insert(m.key.as_str()) {
                validate_metric(&m.key, m.timestamp, &format!("metrics[{i}]"))?;
            }
        }
        for (i, p) in params.iter().enumerate() {
            validate_param(&p.key, &p.value, &format!("params[{i}]"))?;
        }
        for (i, t) in tags.iter().enumerate() {
            validate_tag(&t.key, &t.value, &format!("tags[{i}]"))?;
        }
        validate_batch_limits(metrics.len(), params.len(), tags.len())?;
        let mut seen = HashMap::new();
        let mut dupes = Vec::new();
        for p in params {
            if seen.insert(p.key.as_str(), ()).is_some() && !dupes.contains(&p.key) {
                dupes.push(p.key.clone());
            }
        }
        if !dupes.is_empty() {
            return Err(ApiError::invalid(format!(
                "Duplicate parameter keys have been submitted: {dupes:?}. Please ensure the request contains only one param value per param key."
            ).replace('"', "'")));
        }
        self.write(|tx| {
            check_run_active(tx, run_id)?;
            insert_params(tx, run_id, params)?;
            insert_metrics(tx, run_id, metrics)?;
            set_tags(tx, run_id, tags)
        })
    }

    pub fn log_inputs(
        &mut self,
        run_id: &str,
        datasets: &[DatasetInput],
        models: &[ModelInput],
    ) -> ApiResult<()> {
        for (i, d) in datasets.iter().enumerate() {
            let ds = &d.dataset;
            let path = format!("dataset_inputs[{i}].dataset");
            for (value, limit, field) in [
                (&ds.name, MAX_DATASET_NAME_SIZE, "name"),
                (&ds.digest, MAX_DATASET_DIGEST_SIZE, "digest"),
                (&ds.source, MAX_DATASET_SOURCE_SIZE, "source"),
            ] {
                if value.chars().count() > limit {
                    return Err(ApiError::invalid(
                        super::validation::exceeds_maximum_length(
                            &format!("{path}.{field}"),
                            limit,
                        ),
                    ));
                }
            }
            for t in &d.tags {
                if t.key.chars().count() > MAX_INPUT_TAG_KEY_SIZE
                    || t.value.chars().count() > MAX_INPUT_TAG_VALUE_SIZE
                {
                    return Err(ApiError::invalid(format!(
                        "Input tag '{}' exceeds the key limit of {MAX_INPUT_TAG_KEY_SIZE} or the value limit of {MAX_INPUT_TAG_VALUE_SIZE} characters",
                        t.key
                    )));
                }
            }
        }
        self.write(|tx| {
            let experiment_id = check_run_active(tx, run_id)?;
            for d in datasets {
                let ds = &d.dataset;
                let existing: Option<String> = tx
                    .query_row(
                        "SELECT dataset_uuid FROM datasets WHERE experiment_id = ?1 AND name = ?2 AND digest = ?3",
                        params![experiment_id, ds.name, ds.digest],
                        |r| r.get(0),
                    )
                    .optional()?;
                let dataset_uuid = match existing {
                    Some(id) => id,
                    None => {
                        let id = new_id();
                        tx.execute(
                            "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source,
                                                   dataset_schema, dataset_profile) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            params![id, experiment_id, ds.name, ds.digest, ds.source_type, ds.source, ds.schema, ds.profile],
                        )?;
                        id
                    }
                };
                let linked: Option<String> = tx
                    .query_row(
                        "SELECT input_uuid FROM inputs WHERE source_type = 'DATASET' AND source_id = ?1
                         AND destination_type = 'RUN' AND destination_id = ?2",
                        params![dataset_uuid, run_id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if linked.is_none() {
                    let input_uuid = new_id();
                    tx.execute(
                        "INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step)
                         VALUES (?1, 'DATASET', ?2, 'RUN', ?3, 0)",
                        params![input_uuid, dataset_uuid, run_id],
                    )?;
                    for t in &d.tags {
                        tx.execute(
                            "INSERT OR REPLACE INTO input_tags (input_uuid, name, value) VALUES (?1, ?2, ?3)",
                            params![input_uuid, t.key, t.value],
                        )?;
                    }
                }
            }
            for m in models {
                tx.execute(
                    "INSERT OR IGNORE INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step)
                     VALUES (?1, 'RUN_INPUT', ?2, 'MODEL_INPUT', ?3, 0)",
                    params![new_id(), run_id, m.model_id],
                )?;
            }
            Ok(())
        })
    }

    pub fn log_outputs(&mut self, run_id: &str, models: &[ModelOutput]) -> ApiResult<()> {
        self.write(|tx| {
            check_run_active(tx, run_id)?;
            for m in models {
                tx.execute(
                    "INSERT OR IGNORE INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step)
                     VALUES (?1, 'RUN_OUTPUT', ?2, 'MODEL_OUTPUT', ?3, ?4)",
                    params![new_id(), run_id, m.model_id, m.step],
                )?;
            }
            Ok(())
        })
    }

    /// One page of a metric's history, ordered as MLflow orders it (timestamp, step, value).
    pub fn get_metric_history(
        &self,
        run_id: &str,
        key: &str,
        max_results: Option<i64>,
        page_token: Option<&str>,
    ) -> ApiResult<(Vec<Metric>, Option<String>)> {
        run_row(&self.conn, run_id)?;
        let offset = paging::parse_page_token(page_token)?;
        let limit = max_results.map(|m| m + 1).unwrap_or(-1);
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1 AND key = ?2
             ORDER BY timestamp, step, value LIMIT ?3 OFFSET ?4",
        )?;
        let mut metrics = stmt
            .query_map(params![run_id, key, limit, offset], |r| {
                Ok(Metric {
                    key: r.get(0)?,
                    value: stored_value(r.get(1)?, r.get(4)?),
                    timestamp: r.get(2)?,
                    step: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut token = None;
        if let Some(m) = max_results {
            if metrics.len() as i64 > m {
                metrics.truncate(m as usize);
                token = Some(paging::page_token(offset + m));
            }
        }
        Ok((metrics, token))
    }

    pub fn search_runs(&self, q: &RunSearch) -> ApiResult<(Vec<Run>, Option<String>)> {
        let (ids, token) = search::search_runs(&self.conn, q)?;
        Ok((load_runs(&self.conn, &ids)?, token))
    }
}
