//! Push: the chosen experiments (or all) with their runs, logged models and registry entries, to
//! an MLflow server. What to send is read from the store up front; each object's data is read just
//! before it is sent. The mapping table ([`super::map`]) makes a second push create nothing and a
//! push cut short resume where it stopped. Locally only that bookkeeping table is written.

use super::map::{self, Mapped};
use super::server::{Remote, Server};
use super::{batches, Local, PushRequest, SyncSummary};
use crate::api::{ApiError, ApiResult, ErrorCode};
use crate::bundle::merge::LoggedModelMetric;
use crate::tracking::artifacts::key_of_uri;
use crate::tracking::{KeyValue, Metric, Run, Store, ViewType, ARTIFACT_ROOT, DELETED};
use rusqlite::params;
use serde_json::{json, Value};
use std::collections::HashSet;

const PARENT_TAG: &str = "mlflow.parentRunId";

struct ExperimentPlan {
    id: String,
    name: String,
    deleted: bool,
    tags: Vec<KeyValue>,
}

/// What a push sends, decided before anything is sent.
struct Plan {
    experiments: Vec<ExperimentPlan>,
    /// (run, experiment), parents before their children.
    runs: Vec<(String, String)>,
    /// (logged model, experiment).
    logged_models: Vec<(String, String)>,
    registered_models: Vec<String>,
    versions: Vec<(String, i64)>,
}

fn strings(store: &Store, sql: &str, p: impl rusqlite::Params) -> ApiResult<Vec<Vec<String>>> {
    let mut stmt = store.connection().prepare(sql)?;
    let n = stmt.column_count();
    let rows = stmt
        .query_map(p, |r| {
            (0..n)
                .map(|i| {
                    r.get::<_, Option<rusqlite::types::Value>>(i)
                        .map(|v| match v {
                            Some(rusqlite::types::Value::Integer(i)) => i.to_string(),
                            Some(rusqlite::types::Value::Text(s)) => s,
                            Some(rusqlite::types::Value::Real(f)) => f.to_string(),
                            _ => String::new(),
                        })
                })
                .collect::<rusqlite::Result<Vec<String>>>()
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Orders runs so that a parent run is created before its children (whose tag names it).
fn parents_first(runs: Vec<Vec<String>>) -> Vec<(String, String)> {
    let ids: HashSet<String> = runs.iter().map(|r| r[0].clone()).collect();
    let mut placed = HashSet::new();
    let mut out = Vec::with_capacity(runs.len());
    let mut rest = runs;
    while !rest.is_empty() {
        let before = rest.len();
        rest.retain(|r| {
            let ready = r[2].is_empty() || !ids.contains(&r[2]) || placed.contains(&r[2]);
            if ready {
                placed.insert(r[0].clone());
                out.push((r[0].clone(), r[1].clone()));
            }
            !ready
        });
        if rest.len() == before {
            // A cycle of parent tags: no order satisfies it, so keep the store's order.
            out.extend(rest.drain(..).map(|r| (r[0].clone(), r[1].clone())));
        }
    }
    out
}

fn read_plan(store: &Store, names: &[String]) -> ApiResult<Plan> {
    let all = store.all_experiments(ViewType::All)?;
    for name in names {
        if !all.iter().any(|e| &e.name == name) {
            return Err(ApiError::not_found(format!(
                "this store has no experiment named '{name}'"
            )));
        }
    }
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|e| names.is_empty() || names.contains(&e.name))
        .collect();
    let ids = serde_json::to_string(
        &chosen
            .iter()
            .map(|e| e.experiment_id.parse::<i64>().unwrap_or(-1))
            .collect::<Vec<_>>(),
    )
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let runs = strings(
        store,
        "SELECT r.run_uuid, r.experiment_id,
                coalesce((SELECT value FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = 'mlflow.parentRunId'), '')
         FROM runs r WHERE r.experiment_id IN (SELECT value FROM json_each(?1))
         ORDER BY r.start_time, r.run_uuid",
        [&ids],
    )?;
    let logged_models = strings(
        store,
        "SELECT model_id, experiment_id FROM logged_models WHERE experiment_id IN (SELECT value FROM json_each(?1))
         ORDER BY creation_timestamp_ms, model_id",
        [&ids],
    )?
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect();
    // All of the registry with everything; otherwise the versions of the pushed runs and their models.
    let versions: Vec<(String, i64)> = strings(
        store,
        "SELECT name, version FROM model_versions
         WHERE ?2 OR run_id IN (SELECT run_uuid FROM runs WHERE experiment_id IN (SELECT value FROM json_each(?1)))
         ORDER BY name, version",
        params![ids, names.is_empty()],
    )?
    .into_iter()
    .map(|r| (r[0].clone(), r[1].parse().unwrap_or(0)))
    .collect();
    let mut registered_models: Vec<String> = if names.is_empty() {
        strings(
            store,
            "SELECT name FROM registered_models ORDER BY name",
            [],
        )?
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
    } else {
        versions.iter().map(|(n, _)| n.clone()).collect()
    };
    registered_models.dedup();
    Ok(Plan {
        experiments: chosen
            .into_iter()
            .map(|e| ExperimentPlan {
                deleted: e.lifecycle_stage == DELETED,
                id: e.experiment_id,
                name: e.name,
                tags: e.tags,
            })
            .collect(),
        runs: parents_first(runs),
        logged_models,
        registered_models,
        versions,
    })
}

/// A run as it is sent: everything but its artifacts' bytes, which are read one file at a time.
struct RunSnapshot {
    run: Run,
    metrics: Vec<Metric>,
    artifact_key: Option<String>,
    artifacts: Vec<String>,
    /// Local id of the parent, and its remote id when it was pushed.
    parent: Option<(String, Option<String>)>,
}

fn artifact_files(store: &Store, key: &str) -> ApiResult<Vec<String>> {
    let prefix = format!("{key}/");
    Ok(strings(
        store,
        "SELECT substr(path, ?3) FROM flowbook_artifacts WHERE path > ?1 AND path < ?2 ORDER BY path",
        params![prefix, format!("{key}0"), prefix.len() as i64 + 1],
    )?
    .into_iter()
    .map(|r| r[0].clone())
    .collect())
}

fn read_run(store: &Store, server: &str, run_id: &str) -> ApiResult<RunSnapshot> {
    let run = store.get_run(run_id)?;
    let mut stmt = store.connection().prepare_cached(
        "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1 ORDER BY key, timestamp, step",
    )?;
    let metrics = stmt
        .query_map([run_id], |r| {
            let nan: bool = r.get(4)?;
            Ok(Metric {
                key: r.get(0)?,
                value: if nan { f64::NAN } else { r.get(1)? },
                timestamp: r.get(2)?,
                step: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let artifact_key = key_of_uri(&run.info.artifact_uri).ok();
    let artifacts = match &artifact_key {
        Some(key) => artifact_files(store, key)?,
        None => Vec::new(),
    };
    let parent = match run.tag(PARENT_TAG) {
        Some(p) => Some((p.to_string(), map::remote_id(store, server, "run", p)?)),
        None => None,
    };
    Ok(RunSnapshot {
        run,
        metrics,
        artifact_key,
        artifacts,
        parent,
    })
}

/// A logged model's metric points logged in one run, with that run's id on the server.
struct RunModelMetrics {
    run_id: String,
    remote_run: Option<String>,
    run_deleted: bool,
    metrics: Vec<LoggedModelMetric>,
}

fn model_metrics_by_run(
    store: &Store,
    server: &str,
    model_id: &str,
) -> ApiResult<Vec<RunModelMetrics>> {
    let mut groups: Vec<RunModelMetrics> = Vec::new();
    for m in LoggedModelMetric::read_all(store.connection(), model_id)? {
        match groups.iter_mut().find(|g| g.run_id == m.run_id) {
            Some(g) => g.metrics.push(m),
            None => {
                let deleted = strings(
                    store,
                    "SELECT 1 FROM runs WHERE run_uuid = ?1 AND lifecycle_stage = 'deleted'",
                    [&m.run_id],
                )?;
                groups.push(RunModelMetrics {
                    run_id: m.run_id.clone(),
                    remote_run: map::remote_id(store, server, "run", &m.run_id)?,
                    run_deleted: !deleted.is_empty(),
                    metrics: vec![m],
                })
            }
        }
    }
    Ok(groups)
}

fn read_artifact(store: &Store, key: &str) -> ApiResult<Vec<u8>> {
    store.get_artifact(key)
}

/// The remote artifact root of an object: the key of its `mlflow-artifacts:/` URI. A server
/// that does not proxy artifacts gives other URIs, which the REST API cannot write to.
fn remote_key(url: &str, uri: &str) -> ApiResult<String> {
    key_of_uri(uri).map_err(|_| {
        ApiError::invalid(format!(
            "the MLflow server at {url} gives artifact location '{uri}', which its REST API cannot write to: \
             start it with --serve-artifacts (the default) so that locations are {ARTIFACT_ROOT}/…"
        ))
    })
}

struct Push<'a, R: Remote, L: Local> {
    server: &'a mut Server<R>,
    local: &'a mut L,
    url: String,
    summary: SyncSummary,
}

fn id_of(v: &Value, pointer: &str, what: &str) -> ApiResult<String> {
    match v.pointer(pointer) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(ApiError::internal(format!(
            "the MLflow server's answer to {what} has no {pointer}"
        ))),
    }
}

impl<R: Remote, L: Local> Push<'_, R, L> {
    fn mapped(&mut self, kind: &str, local: &str) -> ApiResult<Mapped> {
        let url = self.url.clone();
        self.local.with(|s| map::get(s, &url, kind, local))
    }

    fn record(&mut self, kind: &str, local: &str, remote: &str, done: bool) -> ApiResult<()> {
        let url = self.url.clone();
        self.local
            .with(|s| map::set(s, &url, kind, local, remote, done))
    }

    fn claimed(&mut self, kind: &str, remote: &str) -> ApiResult<bool> {
        let url = self.url.clone();
        self.local.with(|s| map::is_claimed(s, &url, kind, remote))
    }

    /// Sets each tag with one call of `endpoint`, on the object `owner` names.
    async fn set_tags(&mut self, endpoint: &str, owner: Value, tags: &[KeyValue]) -> ApiResult<()> {
        for t in tags {
            let mut body = owner.clone();
            body["key"] = json!(t.key);
            body["value"] = json!(t.value);
            self.server.call("POST", endpoint, body).await?;
        }
        Ok(())
    }

    /// The remote id of a local experiment: found by name, or created with its tags.
    async fn experiment(&mut self, e: &ExperimentPlan, plan: &Plan) -> ApiResult<String> {
        let pending_runs = {
            let mut any = false;
            for (run, exp) in &plan.runs {
                if exp == &e.id
                    && !matches!(self.mapped("run", run)?, Mapped::Remote { done: true, .. })
                {
                    any = true;
                    break;
                }
            }
            any
        };
        let found = match self
            .server
            .call(
                "GET",
                "experiments/get-by-name",
                json!({"experiment_name": e.name}),
            )
            .await
        {
            Ok(v) => Some(v),
            Err(err) if err.error_code == ErrorCode::ResourceDoesNotExist => None,
            Err(err) => return Err(err),
        };
        let id = match found {
            Some(v) => {
                let id = id_of(&v, "/experiment/experiment_id", "experiments/get-by-name")?;
                let remote_deleted = v["experiment"]["lifecycle_stage"] == DELETED;
                if remote_deleted && pending_runs {
                    // No run can be created in a deleted experiment; one deleted here is deleted again at the end.
                    self.server
                        .call("POST", "experiments/restore", json!({"experiment_id": id}))
                        .await?;
                    self.summary.notes.push(format!(
                        "experiment '{}' was deleted on the server: restored to receive runs",
                        e.name
                    ));
                }
                self.summary.skipped.experiments += 1;
                // Said once: on the first push to this server, when the name was someone else's.
                if matches!(self.mapped("experiment", &e.id)?, Mapped::Unknown)
                    && e.name != crate::tracking::DEFAULT_EXPERIMENT_NAME
                {
                    self.summary.notes.push(format!(
                        "experiment '{}' already exists on the server (id {id}): runs join it",
                        e.name
                    ));
                }
                id
            }
            None => {
                let v = self
                    .server
                    .call("POST", "experiments/create", json!({"name": e.name}))
                    .await?;
                self.summary.created.experiments += 1;
                id_of(&v, "/experiment_id", "experiments/create")?
            }
        };
        self.set_tags(
            "experiments/set-experiment-tag",
            json!({"experiment_id": id}),
            &e.tags,
        )
        .await?;
        self.record("experiment", &e.id, &id, true)?;
        Ok(id)
    }

    /// A run created earlier whose answer was lost: same experiment, start time, name and user,
    /// and not the remote copy of another local run.
    async fn find_created_run(&mut self, remote_exp: &str, run: &Run) -> ApiResult<Option<Value>> {
        let v = self
            .server
            .call(
                "POST",
                "runs/search",
                json!({"experiment_ids": [remote_exp], "run_view_type": "ALL", "max_results": 1000,
                       "filter": format!("attributes.start_time = {}", run.info.start_time)}),
            )
            .await?;
        for candidate in v["runs"].as_array().into_iter().flatten() {
            let info = &candidate["info"];
            let id = info["run_id"].as_str().unwrap_or_default().to_string();
            if info["run_name"] == run.info.run_name.as_str()
                && info["user_id"].as_str().unwrap_or("") == run.info.user_id
                && !self.claimed("run", &id)?
            {
                return Ok(Some(info.clone()));
            }
        }
        Ok(None)
    }

    async fn run(&mut self, run_id: &str, remote_exp: &str) -> ApiResult<()> {
        let url = self.url.clone();
        let mapped = self.mapped("run", run_id)?;
        if let Mapped::Remote { done: true, .. } = mapped {
            self.summary.skipped.runs += 1;
            return Ok(());
        }
        let snap = self.local.with(|s| read_run(s, &url, run_id))?;
        let info = &snap.run.info;
        let existing = match mapped {
            Mapped::Remote { id, .. } => {
                let v = self
                    .server
                    .call("GET", "runs/get", json!({"run_id": id}))
                    .await?;
                Some(v["run"]["info"].clone())
            }
            Mapped::Pending => self.find_created_run(remote_exp, &snap.run).await?,
            Mapped::Unknown => None,
        };
        let remote = match existing {
            Some(info) => info,
            None => {
                self.record("run", run_id, "", false)?;
                let v = self
                    .server
                    .call(
                        "POST",
                        "runs/create",
                        json!({"experiment_id": remote_exp, "user_id": info.user_id,
                               "start_time": info.start_time, "run_name": info.run_name, "tags": []}),
                    )
                    .await?;
                v["run"]["info"].clone()
            }
        };
        let remote_id = id_of(&remote, "/run_id", "runs/create")?;
        self.record("run", run_id, &remote_id, false)?;
        let mut tags = snap.run.data.tags.clone();
        if let Some((parent, remote_parent)) = &snap.parent {
            match remote_parent {
                Some(p) => {
                    for t in tags.iter_mut().filter(|t| t.key == PARENT_TAG) {
                        t.value = p.clone();
                    }
                }
                None => self.summary.notes.push(format!(
                    "run {run_id}'s parent {parent} is not pushed: its parent tag names the local id"
                )),
            }
        }
        for b in batches(&snap.run.data.params, &tags, &snap.metrics) {
            self.server
                .call(
                    "POST",
                    "runs/log-batch",
                    json!({"run_id": remote_id, "params": b.params, "tags": b.tags, "metrics": b.metrics}),
                )
                .await?;
        }
        if !snap.run.inputs.dataset_inputs.is_empty() {
            self.server
                .call(
                    "POST",
                    "runs/log-inputs",
                    json!({"run_id": remote_id, "datasets": snap.run.inputs.dataset_inputs}),
                )
                .await?;
        }
        if let (Some(key), false) = (&snap.artifact_key, snap.artifacts.is_empty()) {
            let remote_root = remote_key(&url, remote["artifact_uri"].as_str().unwrap_or(""))?;
            self.artifacts(key, &remote_root, &snap.artifacts).await?;
        }
        let mut update = json!({"run_id": remote_id, "status": info.status});
        if let Some(end) = info.end_time {
            update["end_time"] = json!(end);
        }
        self.server.call("POST", "runs/update", update).await?;
        if info.lifecycle_stage == DELETED {
            self.server
                .call("POST", "runs/delete", json!({"run_id": remote_id}))
                .await?;
        }
        self.record("run", run_id, &remote_id, true)?;
        self.summary.created.runs += 1;
        Ok(())
    }

    async fn artifacts(
        &mut self,
        local_root: &str,
        remote_root: &str,
        files: &[String],
    ) -> ApiResult<()> {
        for file in files {
            let key = format!("{local_root}/{file}");
            let content = self.local.with(|s| read_artifact(s, &key))?;
            self.server
                .upload(&format!("{remote_root}/{file}"), content)
                .await?;
            self.summary.created.artifacts += 1;
        }
        Ok(())
    }

    async fn logged_model(&mut self, model_id: &str, remote_exp: &str) -> ApiResult<()> {
        let url = self.url.clone();
        let mapped = self.mapped("logged_model", model_id)?;
        if let Mapped::Remote { done: true, .. } = mapped {
            self.summary.skipped.logged_models += 1;
            return Ok(());
        }
        let (model, files, outputs, source_run, metrics) = self.local.with(|s| {
            let model = s.get_logged_model(model_id)?;
            let key = key_of_uri(&model.info.artifact_uri).ok();
            let files = match &key {
                Some(k) => artifact_files(s, k)?,
                None => Vec::new(),
            };
            // The runs that output this model, by their remote ids (those pushed).
            let mut outputs = Vec::new();
            for r in strings(
                s,
                "SELECT source_id, step FROM inputs WHERE source_type = 'RUN_OUTPUT' AND destination_type = 'MODEL_OUTPUT' AND destination_id = ?1",
                [model_id],
            )? {
                if let Some(remote) = map::remote_id(s, &url, "run", &r[0])? {
                    outputs.push((remote, r[1].parse::<i64>().unwrap_or(0)));
                }
            }
            let source_run = match &model.info.source_run_id {
                Some(r) => map::remote_id(s, &url, "run", r)?,
                None => None,
            };
            let metrics = model_metrics_by_run(s, &url, model_id)?;
            Ok((model, files, outputs, source_run, metrics))
        })?;
        let existing = match mapped {
            Mapped::Remote { id, .. } => {
                let v = self
                    .server
                    .call("GET", &format!("logged-models/{id}"), json!({}))
                    .await?;
                Some(v["model"]["info"].clone())
            }
            Mapped::Pending => {
                let v = self
                    .server
                    .call(
                        "POST",
                        "logged-models/search",
                        json!({"experiment_ids": [remote_exp], "max_results": 1000}),
                    )
                    .await?;
                let mut found = None;
                for m in v["models"].as_array().into_iter().flatten() {
                    let info = &m["info"];
                    let id = info["model_id"].as_str().unwrap_or_default().to_string();
                    if info["name"] == model.info.name.as_str()
                        && info["source_run_id"].as_str() == source_run.as_deref()
                        && !self.claimed("logged_model", &id)?
                    {
                        found = Some(info.clone());
                        break;
                    }
                }
                found
            }
            Mapped::Unknown => None,
        };
        let remote = match existing {
            Some(info) => info,
            None => {
                self.record("logged_model", model_id, "", false)?;
                let mut body = json!({"experiment_id": remote_exp, "name": model.info.name,
                                      "params": model.data.params, "tags": model.info.tags});
                if let Some(t) = &model.info.model_type {
                    body["model_type"] = json!(t);
                }
                if let Some(r) = &source_run {
                    body["source_run_id"] = json!(r);
                }
                let v = self.server.call("POST", "logged-models", body).await?;
                v["model"]["info"].clone()
            }
        };
        let remote_id = id_of(&remote, "/model_id", "logged-models")?;
        self.record("logged_model", model_id, &remote_id, false)?;
        if !files.is_empty() {
            let local_root = key_of_uri(&model.info.artifact_uri)?;
            let remote_root = remote_key(&url, remote["artifact_uri"].as_str().unwrap_or(""))?;
            self.artifacts(&local_root, &remote_root, &files).await?;
        }
        self.model_metrics(model_id, &remote_id, metrics).await?;
        if model.info.status != "LOGGED_MODEL_PENDING" {
            self.server
                .call(
                    "PATCH",
                    &format!("logged-models/{remote_id}"),
                    json!({"model_id": remote_id, "status": model.info.status}),
                )
                .await?;
        }
        for (run, step) in outputs {
            self.server
                .call(
                    "POST",
                    "runs/outputs",
                    json!({"run_id": run, "models": [{"model_id": remote_id, "step": step}]}),
                )
                .await?;
        }
        self.record("logged_model", model_id, &remote_id, true)?;
        self.summary.created.logged_models += 1;
        Ok(())
    }

    /// A logged model's metrics travel as `runs/log-batch` metrics naming the model, as MLflow's
    /// client sends them; MLflow also adds each to the run's history, which holds it already (a
    /// point logged twice is stored once, so a resumed push sends them again safely).
    async fn model_metrics(
        &mut self,
        model_id: &str,
        remote_model: &str,
        metrics: Vec<RunModelMetrics>,
    ) -> ApiResult<()> {
        for group in metrics {
            let Some(remote_run) = group.remote_run.filter(|_| !group.run_deleted) else {
                let why = if group.run_deleted {
                    "is deleted"
                } else {
                    "is not pushed"
                };
                self.summary.notes.push(format!(
                    "logged model {model_id}: {} metric points of run {} are not pushed: the run {why}",
                    group.metrics.len(),
                    group.run_id
                ));
                continue;
            };
            for chunk in group
                .metrics
                .chunks(crate::tracking::validation::MAX_METRICS_PER_BATCH)
            {
                let metrics: Vec<Value> = chunk
                    .iter()
                    .map(|m| {
                        let point = Metric {
                            key: m.name.clone(),
                            value: m.value,
                            timestamp: m.timestamp,
                            step: m.step,
                        };
                        let mut v = json!(point);
                        v["model_id"] = json!(remote_model);
                        if let (Some(n), Some(d)) = (&m.dataset_name, &m.dataset_digest) {
                            v["dataset_name"] = json!(n);
                            v["dataset_digest"] = json!(d);
                        }
                        v
                    })
                    .collect();
                self.server
                    .call(
                        "POST",
                        "runs/log-batch",
                        json!({"run_id": remote_run, "metrics": metrics}),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn registered_model(&mut self, name: &str) -> ApiResult<()> {
        let local = self.local.with(|s| s.get_registered_model(name))?;
        let found = match self
            .server
            .call("GET", "registered-models/get", json!({"name": name}))
            .await
        {
            Ok(v) => Some(v["registered_model"].clone()),
            Err(e) if e.error_code == ErrorCode::ResourceDoesNotExist => None,
            Err(e) => return Err(e),
        };
        match found {
            None => {
                let mut body = json!({"name": name, "tags": local.tags});
                if let Some(d) = &local.description {
                    body["description"] = json!(d);
                }
                self.server
                    .call("POST", "registered-models/create", body)
                    .await?;
                self.summary.created.registered_models += 1;
            }
            Some(remote) => {
                self.summary.skipped.registered_models += 1;
                let description = local.description.clone().unwrap_or_default();
                if !description.is_empty() && remote["description"].as_str() != Some(&description) {
                    self.server
                        .call(
                            "PATCH",
                            "registered-models/update",
                            json!({"name": name, "description": description}),
                        )
                        .await?;
                }
                self.set_tags(
                    "registered-models/set-tag",
                    json!({"name": name}),
                    &local.tags,
                )
                .await?;
            }
        }
        Ok(())
    }

    /// A version's source with local ids replaced by remote ones: `models:/<id>`, `runs:/<id>/…`,
    /// or a location under a pushed run's or logged model's artifacts.
    async fn map_source(&mut self, source: &str) -> ApiResult<String> {
        let url = self.url.clone();
        let under = self.local.with(|s| {
            if let Some(rest) = source.strip_prefix("models:/") {
                if let Some(id) = map::remote_id(s, &url, "logged_model", rest)? {
                    return Ok(Err(format!("models:/{id}")));
                }
            }
            if let Some(rest) = source.strip_prefix("runs:/") {
                let (run, path) = rest.split_once('/').unwrap_or((rest, ""));
                if let Some(id) = map::remote_id(s, &url, "run", run)? {
                    return Ok(Err(format!("runs:/{id}/{path}")));
                }
            }
            let owners = strings(
                s,
                "SELECT 'run', run_uuid, artifact_uri FROM runs WHERE substr(?1, 1, length(artifact_uri)) = artifact_uri
                 UNION ALL
                 SELECT 'logged_model', model_id, artifact_location FROM logged_models
                 WHERE substr(?1, 1, length(artifact_location)) = artifact_location",
                [source],
            )?;
            for o in owners {
                let rest = &source[o[2].len()..];
                if rest.is_empty() || rest.starts_with('/') {
                    if let Some(id) = map::remote_id(s, &url, &o[0], &o[1])? {
                        return Ok(Ok((o[0].clone(), id, rest.to_string())));
                    }
                }
            }
            Ok(Err(source.to_string()))
        })?;
        let (kind, id, rest) = match under {
            Err(ready) => return Ok(ready),
            Ok(under) => under,
        };
        let uri = if kind == "run" {
            let v = self
                .server
                .call("GET", "runs/get", json!({"run_id": id}))
                .await?;
            v["run"]["info"]["artifact_uri"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        } else {
            let v = self
                .server
                .call("GET", &format!("logged-models/{id}"), json!({}))
                .await?;
            v["model"]["info"]["artifact_uri"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        Ok(format!("{uri}{rest}"))
    }

    async fn version(&mut self, name: &str, number: i64) -> ApiResult<()> {
        let url = self.url.clone();
        let local_key = format!("{name}/{number}");
        let mapped = self.mapped("model_version", &local_key)?;
        if let Mapped::Remote { done: true, .. } = mapped {
            self.summary.skipped.model_versions += 1;
            return Ok(());
        }
        let v = self
            .local
            .with(|s| s.get_model_version(name, &number.to_string()))?;
        let run_id = match &v.run_id {
            Some(r) if !r.is_empty() => {
                let remote = self.local.with(|s| map::remote_id(s, &url, "run", r))?;
                Some(remote.ok_or_else(|| {
                    ApiError::invalid(format!(
                        "registered model '{name}' version {number} comes from run {r}, which is not pushed"
                    ))
                })?)
            }
            _ => None,
        };
        let source = match &v.source {
            Some(s) => Some(self.map_source(s).await?),
            None => None,
        };
        let existing = match mapped {
            Mapped::Remote { id, .. } => Some(id),
            Mapped::Pending => {
                self.find_created_version(name, run_id.as_deref(), source.as_deref())
                    .await?
            }
            Mapped::Unknown => None,
        };
        let remote_version = match existing {
            Some(n) => n,
            None => {
                self.record("model_version", &local_key, "", false)?;
                let mut body = json!({"name": name, "tags": v.tags});
                for (k, val) in [
                    ("source", &source),
                    ("run_id", &run_id),
                    ("description", &v.description),
                    ("run_link", &v.run_link),
                ] {
                    if let Some(val) = val {
                        body[k] = json!(val);
                    }
                }
                if let Some(m) = source.as_deref().and_then(|s| s.strip_prefix("models:/")) {
                    if m.starts_with("m-") {
                        body["model_id"] = json!(m);
                    }
                }
                let answer = self
                    .server
                    .call("POST", "model-versions/create", body)
                    .await?;
                id_of(&answer, "/model_version/version", "model-versions/create")?
            }
        };
        self.record("model_version", &local_key, &remote_version, false)?;
        if let Some(stage) = v.current_stage.as_deref().filter(|s| *s != "None") {
            self.server
                .call(
                    "POST",
                    "model-versions/transition-stage",
                    json!({"name": name, "version": remote_version, "stage": stage,
                           "archive_existing_versions": false}),
                )
                .await?;
        }
        self.record("model_version", &local_key, &remote_version, true)?;
        self.summary.created.model_versions += 1;
        Ok(())
    }

    /// A version created earlier whose answer was lost: same model, run and source.
    async fn find_created_version(
        &mut self,
        name: &str,
        run_id: Option<&str>,
        source: Option<&str>,
    ) -> ApiResult<Option<String>> {
        let filter = match run_id {
            Some(r) => format!("run_id = '{r}'"),
            None if !name.contains('\'') => format!("name = '{name}'"),
            None => return Ok(None),
        };
        let v = self
            .server
            .call(
                "GET",
                "model-versions/search",
                json!({"filter": filter, "max_results": 1000}),
            )
            .await?;
        for mv in v["model_versions"].as_array().into_iter().flatten() {
            let version = mv["version"].as_str().unwrap_or_default().to_string();
            if mv["name"] == name
                && mv["source"].as_str() == source
                && !self.claimed("model_version", &format!("{name}/{version}"))?
            {
                return Ok(Some(version));
            }
        }
        Ok(None)
    }

    async fn aliases(&mut self, name: &str) -> ApiResult<()> {
        let url = self.url.clone();
        let local = self.local.with(|s| s.get_registered_model(name))?;
        for a in &local.aliases {
            let key = format!("{name}/{}", a.version);
            let Some(remote) = self
                .local
                .with(|s| map::remote_id(s, &url, "model_version", &key))?
            else {
                continue;
            };
            self.server
                .call(
                    "POST",
                    "registered-models/alias",
                    json!({"name": name, "alias": a.alias, "version": remote}),
                )
                .await?;
        }
        Ok(())
    }
}

/// Pushes to the server named in `request`. `progress(done, total)` counts runs, logged models and
/// model versions. On failure, what was sent stays on the server and is recorded in the mapping,
/// so the next push resumes.
pub async fn push<R: Remote, L: Local>(
    remote: R,
    local: &mut L,
    request: &PushRequest,
    progress: &mut dyn FnMut(usize, usize),
) -> ApiResult<SyncSummary> {
    let mut server = Server::new(remote, &request.url, request.token.clone())?;
    local.with(map::ensure_table)?;
    let plan = local.with(|s| read_plan(s, &request.experiments))?;
    let url = server.url().to_string();
    let mut push = Push {
        server: &mut server,
        local,
        url,
        summary: SyncSummary::default(),
    };
    let total = plan.runs.len() + plan.logged_models.len() + plan.versions.len();
    let mut done = 0;
    progress(done, total);
    let mut remote_experiments = std::collections::HashMap::new();
    for e in &plan.experiments {
        let id = push.experiment(e, &plan).await?;
        remote_experiments.insert(e.id.clone(), id);
    }
    let remote_experiment = |local: &str| {
        remote_experiments.get(local).cloned().ok_or_else(|| {
            ApiError::internal(format!(
                "experiment {local} was not pushed before its contents"
            ))
        })
    };
    for (run, exp) in &plan.runs {
        push.run(run, &remote_experiment(exp)?).await?;
        done += 1;
        progress(done, total);
    }
    for (model, exp) in &plan.logged_models {
        push.logged_model(model, &remote_experiment(exp)?).await?;
        done += 1;
        progress(done, total);
    }
    for name in &plan.registered_models {
        push.registered_model(name).await?;
    }
    for (name, version) in &plan.versions {
        push.version(name, *version).await?;
        done += 1;
        progress(done, total);
    }
    for name in &plan.registered_models {
        push.aliases(name).await?;
    }
    for e in plan.experiments.iter().filter(|e| e.deleted) {
        let id = &remote_experiment(&e.id)?;
        let v = push
            .server
            .call("GET", "experiments/get", json!({"experiment_id": id}))
            .await?;
        if v["experiment"]["lifecycle_stage"] != DELETED {
            push.server
                .call("POST", "experiments/delete", json!({"experiment_id": id}))
                .await?;
        }
    }
    Ok(push.summary)
}
