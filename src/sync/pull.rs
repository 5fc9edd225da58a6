//! Pull: an experiment (or the runs of it a filter selects), with metric histories, dataset inputs,
//! artifacts, the logged models its runs output and the registry versions made from its runs, from
//! an MLflow server into the store. Everything is fetched first and written in one transaction
//! through the bundle importer's merge ([`crate::bundle::merge`]): ids are kept, a run already here
//! is left as it is, and a failure anywhere leaves the store as it was.

use super::server::{Remote, Server};
use super::{Local, PullRequest, SyncSummary};
use crate::api::{ApiError, ApiResult, ErrorCode};
use crate::bundle::merge::{
    DatasetRecord, ExperimentRecord, LoggedModelMetric, LoggedModelRecord, Merge,
    RegisteredModelRecord, RunRecord, VersionRecord,
};
use crate::tracking::artifacts::key_of_uri;
use crate::tracking::{KeyValue, Metric, Run};
use serde_json::{json, Value};

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn key_values(v: &Value) -> Vec<KeyValue> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some(KeyValue::new(
                t["key"].as_str()?,
                t["value"].as_str().unwrap_or(""),
            ))
        })
        .collect()
}

/// One run as fetched: the run, every metric's full history, and its artifact files.
struct Fetched {
    run: Run,
    metrics: Vec<Metric>,
    artifacts: Vec<(String, Vec<u8>)>,
}

struct FetchedModel {
    info: Value,
    data: Value,
    artifacts: Vec<(String, Vec<u8>)>,
}

async fn all_pages<R: Remote>(
    server: &mut Server<R>,
    method: &'static str,
    endpoint: &str,
    body: Value,
    field: &str,
) -> ApiResult<Vec<Value>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = body.clone();
        if let Some(t) = &token {
            request["page_token"] = json!(t);
        }
        let page = server.call(method, endpoint, request).await?;
        out.extend(page[field].as_array().cloned().unwrap_or_default());
        token = page["next_page_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Every file under an `mlflow-artifacts:/` location, keyed as the location's path plus the file's.
async fn artifacts<R: Remote>(
    server: &mut Server<R>,
    uri: &str,
    notes: &mut Vec<String>,
) -> ApiResult<Vec<(String, Vec<u8>)>> {
    let Ok(root) = key_of_uri(uri) else {
        notes.push(format!(
            "artifacts at '{uri}' are not served by the server's artifact proxy: not pulled"
        ));
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for file in server.list_files(&root).await? {
        let key = format!("{root}/{file}");
        let content = server.download(&key).await?;
        out.push((key, content));
    }
    Ok(out)
}

pub async fn pull<R: Remote, L: Local>(
    remote: R,
    local: &mut L,
    request: &PullRequest,
    progress: &mut dyn FnMut(usize, usize),
) -> ApiResult<SyncSummary> {
    let mut server = Server::new(remote, &request.url, request.token.clone())?;
    let url = server.url().to_string();
    let mut notes = Vec::new();
    let experiment = match server
        .call(
            "GET",
            "experiments/get-by-name",
            json!({"experiment_name": request.experiment}),
        )
        .await
    {
        Ok(v) => v["experiment"].clone(),
        Err(e) if e.error_code == ErrorCode::ResourceDoesNotExist => {
            return Err(ApiError::not_found(format!(
                "the MLflow server at {url} has no experiment named '{}'",
                request.experiment
            )))
        }
        Err(e) => return Err(e),
    };
    let experiment_id = experiment["experiment_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let runs = all_pages(
        &mut server,
        "POST",
        "runs/search",
        json!({"experiment_ids": [experiment_id], "filter": request.filter,
               "run_view_type": "ALL", "max_results": 1000}),
        "runs",
    )
    .await?;
    let total = runs.len() + 1;
    progress(0, total);
    let mut fetched = Vec::new();
    let mut model_ids: Vec<String> = Vec::new();
    let mut versions = Vec::new();
    for (i, value) in runs.into_iter().enumerate() {
        let run: Run = serde_json::from_value(value).map_err(|e| {
            ApiError::internal(format!(
                "the MLflow server at {url} answered runs/search with a run Flowbook cannot read: {e}"
            ))
        })?;
        let run_id = run.info.run_id.clone();
        let mut metrics = Vec::new();
        for key in run.data.metrics.iter().map(|m| m.key.clone()) {
            let history = all_pages(
                &mut server,
                "GET",
                "metrics/get-history",
                json!({"run_id": run_id, "metric_key": key, "max_results": 25000}),
                "metrics",
            )
            .await?;
            for m in history {
                metrics.push(serde_json::from_value::<Metric>(m).map_err(|e| {
                    ApiError::internal(format!(
                        "metric '{key}' of run {run_id} from {url} cannot be read: {e}"
                    ))
                })?);
            }
        }
        let files = artifacts(&mut server, &run.info.artifact_uri, &mut notes).await?;
        for output in &run.outputs.model_outputs {
            if !model_ids.contains(&output.model_id) {
                model_ids.push(output.model_id.clone());
            }
        }
        versions.extend(
            all_pages(
                &mut server,
                "GET",
                "model-versions/search",
                json!({"filter": format!("run_id = '{run_id}'"), "max_results": 1000}),
                "model_versions",
            )
            .await?,
        );
        fetched.push(Fetched {
            run,
            metrics,
            artifacts: files,
        });
        progress(i + 1, total);
    }
    let mut models = Vec::new();
    for id in &model_ids {
        let v = server
            .call("GET", &format!("logged-models/{id}"), json!({}))
            .await?;
        let info = v["model"]["info"].clone();
        let files = artifacts(
            &mut server,
            info["artifact_uri"].as_str().unwrap_or(""),
            &mut notes,
        )
        .await?;
        models.push(FetchedModel {
            info,
            data: v["model"]["data"].clone(),
            artifacts: files,
        });
    }
    let mut registered = Vec::new();
    let mut names: Vec<String> = versions.iter().filter_map(|v| text(&v["name"])).collect();
    names.sort();
    names.dedup();
    for name in &names {
        let v = server
            .call("GET", "registered-models/get", json!({"name": name}))
            .await?;
        registered.push(v["registered_model"].clone());
    }
    versions.sort_by_key(|v| (text(&v["name"]), int(&v["version"])));
    let mut summary = local.with(|store| {
        store.write(|tx| {
            write(
                &mut Merge::new(tx),
                &experiment,
                &fetched,
                &models,
                &registered,
                &versions,
            )
        })
    })?;
    summary.notes.splice(0..0, notes);
    progress(total, total);
    Ok(summary)
}

fn write(
    m: &mut Merge,
    experiment: &Value,
    runs: &[Fetched],
    models: &[FetchedModel],
    registered: &[Value],
    versions: &[Value],
) -> ApiResult<SyncSummary> {
    let mut summary = SyncSummary::default();
    let exp_id = text(&experiment["experiment_id"]).unwrap_or_default();
    m.experiment(&ExperimentRecord {
        id: exp_id.clone(),
        name: text(&experiment["name"]).unwrap_or_default(),
        lifecycle_stage: text(&experiment["lifecycle_stage"]).unwrap_or_else(|| "active".into()),
        creation_time: int(&experiment["creation_time"]),
        last_update_time: int(&experiment["last_update_time"]),
        tags: key_values(&experiment["tags"]),
    })?;
    for f in runs {
        let info = &f.run.info;
        let tag = |k: &str| f.run.tag(k).unwrap_or("").to_string();
        let source_type = match f.run.tag("mlflow.source.type") {
            Some(t @ ("NOTEBOOK" | "JOB" | "PROJECT" | "LOCAL")) => t.to_string(),
            _ => "UNKNOWN".to_string(),
        };
        let taken = m.run(&RunRecord {
            run_id: info.run_id.clone(),
            experiment_id: exp_id.clone(),
            name: Some(info.run_name.clone()),
            source_type,
            source_name: tag("mlflow.source.name"),
            entry_point_name: tag("mlflow.project.entryPoint"),
            user_id: info.user_id.clone(),
            status: info.status.clone(),
            start_time: Some(info.start_time),
            end_time: info.end_time,
            source_version: tag("mlflow.source.git.commit"),
            lifecycle_stage: info.lifecycle_stage.clone(),
            artifact_uri: Some(info.artifact_uri.clone()),
            deleted_time: (info.lifecycle_stage == crate::tracking::DELETED)
                .then_some(info.end_time)
                .flatten(),
        })?;
        if !taken {
            summary.skipped.runs += 1;
            continue;
        }
        summary.created.runs += 1;
        m.params(&info.run_id, &f.run.data.params)?;
        m.tags(&info.run_id, &f.run.data.tags)?;
        m.metrics(&info.run_id, &f.metrics)?;
        for input in &f.run.inputs.dataset_inputs {
            let d = &input.dataset;
            let uuid = crate::tracking::new_id();
            m.dataset(&DatasetRecord {
                uuid: uuid.clone(),
                experiment_id: exp_id.clone(),
                name: d.name.clone(),
                digest: d.digest.clone(),
                source_type: d.source_type.clone(),
                source: d.source.clone(),
                schema: d.schema.clone(),
                profile: d.profile.clone(),
            })?;
            m.dataset_input(&info.run_id, &uuid, &input.tags)?;
        }
        for (key, content) in &f.artifacts {
            m.artifact(key, content)?;
        }
    }
    for model in models {
        let i = &model.info;
        let model_id = text(&i["model_id"]).unwrap_or_default();
        let status = match i["status"].as_str() {
            Some("LOGGED_MODEL_PENDING") => 1,
            Some("LOGGED_MODEL_READY") => 2,
            Some("LOGGED_MODEL_UPLOAD_FAILED") => 3,
            _ => 0,
        };
        let taken = m.logged_model(&LoggedModelRecord {
            model_id: model_id.clone(),
            experiment_id: exp_id.clone(),
            name: text(&i["name"]).unwrap_or_else(|| "model".into()),
            artifact_location: text(&i["artifact_uri"]).unwrap_or_default(),
            creation_time: int(&i["creation_timestamp_ms"]).unwrap_or(0),
            last_updated_time: int(&i["last_updated_timestamp_ms"]).unwrap_or(0),
            status,
            lifecycle_stage: "active".into(),
            model_type: text(&i["model_type"]),
            source_run_id: text(&i["source_run_id"]),
            status_message: text(&i["status_message"]),
        })?;
        if !taken {
            summary.skipped.logged_models += 1;
            continue;
        }
        summary.created.logged_models += 1;
        let metrics: Vec<LoggedModelMetric> = model.data["metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| {
                Some(LoggedModelMetric {
                    name: text(&x["key"])?,
                    timestamp: int(&x["timestamp"]).unwrap_or(0),
                    step: int(&x["step"]).unwrap_or(0),
                    value: serde_json::from_value::<Metric>(
                        json!({"key": "", "value": x["value"]}),
                    )
                    .map(|m| m.value)
                    .unwrap_or(f64::NAN),
                    run_id: text(&x["run_id"])?,
                    dataset_name: text(&x["dataset_name"]),
                    dataset_digest: text(&x["dataset_digest"]),
                })
            })
            .collect();
        m.logged_model_details(
            &model_id,
            &key_values(&model.data["params"]),
            &key_values(&i["tags"]),
            &metrics,
        )?;
        let outputs: Vec<(&str, i64)> = runs
            .iter()
            .filter(|f| m.taken(&f.run.info.run_id))
            .flat_map(|f| {
                f.run
                    .outputs
                    .model_outputs
                    .iter()
                    .filter(|o| o.model_id == model_id)
                    .map(|o| (f.run.info.run_id.as_str(), o.step))
            })
            .collect();
        for (run, step) in outputs {
            m.model_output(run, &model_id, step)?;
        }
        for (key, content) in &model.artifacts {
            m.artifact(key, content)?;
        }
    }
    for r in registered {
        m.registered_model(&RegisteredModelRecord {
            name: text(&r["name"]).unwrap_or_default(),
            creation_time: int(&r["creation_timestamp"]),
            last_updated_time: int(&r["last_updated_timestamp"]),
            description: text(&r["description"]),
            tags: key_values(&r["tags"]),
        })?;
    }
    for v in versions {
        m.model_version(&VersionRecord {
            name: text(&v["name"]).unwrap_or_default(),
            version: int(&v["version"]).unwrap_or(0),
            creation_time: int(&v["creation_timestamp"]),
            last_updated_time: int(&v["last_updated_timestamp"]),
            description: text(&v["description"]),
            user_id: text(&v["user_id"]),
            current_stage: text(&v["current_stage"]).unwrap_or_else(|| "None".into()),
            source: text(&v["source"]),
            run_id: text(&v["run_id"]),
            status: text(&v["status"]).unwrap_or_else(|| "READY".into()),
            status_message: text(&v["status_message"]),
            run_link: text(&v["run_link"]),
            storage_location: None,
            tags: key_values(&v["tags"]),
        })?;
    }
    for r in registered {
        let name = text(&r["name"]).unwrap_or_default();
        for a in r["aliases"].as_array().into_iter().flatten() {
            let (Some(alias), Some(version)) = (text(&a["alias"]), int(&a["version"])) else {
                continue;
            };
            // Only aliases of pulled versions: others point at versions of runs not pulled.
            if versions.iter().any(|v| {
                text(&v["name"]).as_deref() == Some(&name) && int(&v["version"]) == Some(version)
            }) {
                m.alias(&name, &alias, version)?;
            }
        }
    }
    let s = &m.summary;
    summary.created.experiments = s.experiments;
    summary.created.registered_models = s.registered_models;
    summary.created.model_versions = s.model_versions;
    summary.created.artifacts = s.artifacts;
    summary.notes = s.notes.clone();
    Ok(summary)
}
