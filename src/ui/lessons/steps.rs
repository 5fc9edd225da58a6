//! What a lesson cell's "Run" does: the same step as its Python code, performed by the engine in
//! the worker through the API the other views use. Each step answers an [`Outcome`], which is kept
//! in the store as the learner's progress and links to where its result lives.

use super::super::client::{Client, OnProgress};
use std::rc::Rc;

/// A step's progress reporter; steps that train several times hand each job its own box.
pub type Reporter = Rc<dyn Fn(usize, usize)>;

fn boxed(report: &Reporter) -> OnProgress {
    let report = report.clone();
    Box::new(move |done, total| report(done, total))
}
use super::super::fmt_metric;
use crate::lessons::Step;
use crate::ml::monitor::{Histogram, RESIDUALS};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The experiment the course's notebook uses, unless a step names another.
pub const COURSE_EXPERIMENT: &str = "nyc-taxi-experiment";
const REGISTERED_MODEL: &str = "nyc-taxi-regressor";
const RMSE: &str = "val_root_mean_squared_error";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// What a step did: a sentence, ids to link to, and what to show (tables, text, a chart).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub summary: String,
    #[serde(default)]
    pub experiment_id: Option<String>,
    #[serde(default)]
    pub run_id: Option<String>,
    #[serde(default)]
    pub run_ids: Vec<String>,
    #[serde(default)]
    pub model_name: Option<String>,
    #[serde(default)]
    pub tables: Vec<Table>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub histogram: Option<(String, Histogram)>,
    /// A download made by the step (an object URL: valid in this page only, so not kept).
    #[serde(skip)]
    pub download: Option<(String, String)>,
}

fn arg<'a>(step: &'a Step, key: &str) -> Option<&'a str> {
    step.args.get(key).map(String::as_str)
}

fn experiment(step: &Step) -> String {
    arg(step, "experiment")
        .unwrap_or(COURSE_EXPERIMENT)
        .to_string()
}

/// Runs one step.
pub async fn run(client: Client, step: Step, report: Reporter) -> Result<Outcome, String> {
    let on_progress = boxed(&report);
    match step.name.as_str() {
        "create-experiment" => create_experiment(client, &step).await,
        "train" | "autolog" => {
            let mut request = train_request(&step);
            if step.name == "autolog" {
                request["autolog"] = json!(true);
            }
            train(client, request, on_progress).await
        }
        "show-runs" => show_runs(client, &step).await,
        "show-file-store" => show_file_store(client, &step).await,
        "show-sql-tables" => show_sql_tables(client).await,
        "tune" => tune(client, &step, on_progress).await,
        "log-model" => log_model(client, &step, on_progress).await,
        "load-model" => load_model(client, &step, on_progress).await,
        "custom-model" => custom_model(client, &step, on_progress).await,
        "register" => register(client, &step, report).await,
        "stages-aliases" => stages_and_aliases(client, &step).await,
        "choose-champion" => choose_champion(client, &step).await,
        "feature-table" => feature_table(client).await,
        "feature-lookup" => feature_lookup(client, &step, on_progress).await,
        "data-drift" => drift(client, &step, "linear-data-drift", on_progress).await,
        "concept-drift" => drift(client, &step, "linear-concept-drift", on_progress).await,
        "export" => export(client, on_progress).await,
        other => Err(format!("Flowbook has no step named '{other}'")),
    }
}

async fn call(client: Client, method: &str, endpoint: &str, body: Value) -> Result<Value, String> {
    client
        .call(method, endpoint, body)
        .await
        .map_err(|e| e.message)
}

async fn write(client: Client, method: &str, endpoint: &str, body: Value) -> Result<Value, String> {
    client
        .write(method, endpoint, body)
        .await
        .map_err(|e| e.message)
}

async fn experiment_id(client: Client, name: &str) -> Result<String, String> {
    let found = call(
        client,
        "GET",
        "experiments/get-by-name",
        json!({"experiment_name": name}),
    )
    .await;
    match found {
        Ok(v) => Ok(v["experiment"]["experiment_id"]
            .as_str()
            .unwrap_or("0")
            .to_string()),
        Err(_) => {
            let created =
                write(client, "POST", "experiments/create", json!({"name": name})).await?;
            Ok(created["experiment_id"].as_str().unwrap_or("0").to_string())
        }
    }
}

async fn create_experiment(client: Client, step: &Step) -> Result<Outcome, String> {
    let name = arg(step, "name").unwrap_or(COURSE_EXPERIMENT).to_string();
    let id = experiment_id(client, &name).await?;
    Ok(Outcome {
        summary: format!(
            "Experiment '{name}' is ready (id {id}): the runs you train next land in it."
        ),
        experiment_id: Some(id),
        ..Outcome::default()
    })
}

/// Step arguments that are not estimator parameters.
const TRAIN_KEYS: [&str; 8] = [
    "model",
    "dataset",
    "tags",
    "autolog",
    "log_model",
    "experiment",
    "run_name",
    "rows",
];

/// A training request from a `train` step: every other argument is an estimator parameter.
fn train_request(step: &Step) -> Value {
    let model = arg(step, "model").unwrap_or("Lasso");
    let params: serde_json::Map<String, Value> = step
        .args
        .iter()
        .filter(|(k, _)| !TRAIN_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let tags: BTreeMap<String, String> = arg(step, "tags")
        .unwrap_or("")
        .split(',')
        .filter_map(|pair| pair.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let run_name = arg(step, "run_name")
        .map(str::to_string)
        .unwrap_or_else(|| {
            let values: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            if values.is_empty() {
                model.to_lowercase()
            } else {
                format!("{}-{}", model.to_lowercase(), values.join("-"))
            }
        });
    json!({
        "experiment": experiment(step),
        "dataset": arg(step, "dataset").unwrap_or("taxi-trips"),
        "rows": arg(step, "rows").and_then(|r| r.parse::<u64>().ok()).unwrap_or(2000),
        "model": model,
        "params": params,
        "tags": tags,
        "autolog": arg(step, "autolog") == Some("true"),
        "log_model": arg(step, "log_model") == Some("true"),
        "run_name": run_name,
    })
}

fn val_metrics(answer: &Value) -> Vec<(String, f64)> {
    answer["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m[0].as_str()?.to_string(), m[1].as_f64()?)))
        .filter(|(k, _)| k.starts_with("val_"))
        .collect()
}

async fn train(client: Client, request: Value, on_progress: OnProgress) -> Result<Outcome, String> {
    let name = request["run_name"].as_str().unwrap_or("").to_string();
    let answer = client
        .train(request, on_progress)
        .await
        .map_err(|e| e.message)?;
    let shown: Vec<String> = val_metrics(&answer)
        .iter()
        .filter(|(k, _)| k == RMSE || k == "val_r2_score")
        .map(|(k, v)| format!("{k} = {}", fmt_metric(*v)))
        .collect();
    Ok(Outcome {
        summary: format!("Run '{name}' finished: {}.", shown.join(", ")),
        experiment_id: answer["experiment_id"].as_str().map(str::to_string),
        run_id: answer["run_id"].as_str().map(str::to_string),
        text: answer["model_uri"]
            .as_str()
            .map(|uri| format!("Its model: {uri}")),
        ..Outcome::default()
    })
}

fn runs_of(answer: &Value) -> Vec<Value> {
    answer["runs"].as_array().cloned().unwrap_or_default()
}

fn param(run: &Value, key: &str) -> String {
    run["data"]["params"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["key"] == key)
        .and_then(|p| p["value"].as_str())
        .unwrap_or("")
        .to_string()
}

fn metric(run: &Value, key: &str) -> Option<f64> {
    run["data"]["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["key"] == key)
        .and_then(|m| m["value"].as_f64())
}

async fn search_runs(
    client: Client,
    experiment_id: &str,
    filter: &str,
) -> Result<Vec<Value>, String> {
    let answer = call(
        client,
        "POST",
        "runs/search",
        json!({"experiment_ids": [experiment_id], "filter": filter,
               "order_by": [format!("metrics.{RMSE} ASC")], "max_results": 200}),
    )
    .await?;
    Ok(runs_of(&answer))
}

async fn show_runs(client: Client, step: &Step) -> Result<Outcome, String> {
    let id = experiment_id(client, &experiment(step)).await?;
    let runs = search_runs(client, &id, "").await?;
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r["info"]["run_name"].as_str().unwrap_or("").to_string(),
                param(r, "alpha"),
                metric(r, RMSE).map(fmt_metric).unwrap_or_default(),
            ]
        })
        .collect();
    Ok(Outcome {
        summary: format!(
            "{} runs in '{}', best first (lowest validation RMSE).",
            rows.len(),
            experiment(step)
        ),
        experiment_id: Some(id),
        tables: vec![Table {
            caption: "search_runs(order_by=[\"metrics.rmse ASC\"])".into(),
            columns: vec!["run name".into(), "params.alpha".into(), RMSE.into()],
            rows,
        }],
        ..Outcome::default()
    })
}

async fn show_file_store(client: Client, step: &Step) -> Result<Outcome, String> {
    let id = experiment_id(client, &experiment(step)).await?;
    let layout = call(
        client,
        "GET",
        "flowbook/store/file-layout",
        json!({"experiment_id": id}),
    )
    .await?;
    let files = layout["files"].as_array().cloned().unwrap_or_default();
    if files.is_empty() {
        return Err("the experiment has no runs yet: run lesson 1 first".into());
    }
    let lines: Vec<String> = files
        .iter()
        .filter(|f| !f["path"].as_str().unwrap_or("").contains("/artifacts/"))
        .take(60)
        .map(|f| {
            let path = f["path"].as_str().unwrap_or("");
            match f["text"].as_str() {
                Some(t) if !path.ends_with(".yaml") => format!("{path}    ← {}", t.trim()),
                _ => path.to_string(),
            }
        })
        .collect();
    Ok(Outcome {
        summary: format!(
            "Your runs as MLflow's file store writes them: {} files, one per param, tag and metric.",
            layout["total"]
        ),
        experiment_id: Some(id),
        text: Some(lines.join("\n")),
        ..Outcome::default()
    })
}

fn table_of(answer: &Value, caption: &str) -> Table {
    let t = &answer["table"];
    Table {
        caption: caption.into(),
        columns: t["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c.as_str().unwrap_or("").to_string())
            .collect(),
        rows: t["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                r.as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        Value::Null => "NULL".into(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect(),
    }
}

async fn show_sql_tables(client: Client) -> Result<Outcome, String> {
    let params = call(
        client,
        "GET",
        "flowbook/store/tables",
        json!({"table": "params", "limit": "8"}),
    )
    .await?;
    let metrics = call(
        client,
        "GET",
        "flowbook/store/tables",
        json!({"table": "latest_metrics", "limit": "8"}),
    )
    .await?;
    let counts = Table {
        caption: "The tables of your store (MLflow's schema) and their rows".into(),
        columns: vec!["table".into(), "rows".into()],
        rows: params["tables"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["rows"].as_i64().unwrap_or(0) > 0)
            .map(|t| {
                vec![
                    t["name"].as_str().unwrap_or("").to_string(),
                    t["rows"].to_string(),
                ]
            })
            .collect(),
    };
    Ok(Outcome {
        summary: "The same facts as rows of MLflow's tables: this browser's store is an mlflow.db."
            .into(),
        tables: vec![
            counts,
            table_of(&params, "SELECT * FROM params LIMIT 8"),
            table_of(&metrics, "SELECT * FROM latest_metrics LIMIT 8"),
        ],
        ..Outcome::default()
    })
}

async fn tune(client: Client, step: &Step, on_progress: OnProgress) -> Result<Outcome, String> {
    let model = arg(step, "model").unwrap_or("Lasso");
    let trials: u64 = arg(step, "trials")
        .and_then(|t| t.parse().ok())
        .unwrap_or(10);
    let space: Value =
        serde_json::from_str(super::super::train::default_space(model)).unwrap_or(json!({}));
    let request = json!({
        "experiment": experiment(step),
        "dataset": arg(step, "dataset").unwrap_or("taxi-trips"),
        "model": model,
        "run_name": format!("{}-search", arg(step, "algo").unwrap_or("tpe")),
        "tune": {"algo": arg(step, "algo").unwrap_or("tpe"), "max_evals": trials, "space": space},
    });
    let answer = client
        .train(request, on_progress)
        .await
        .map_err(|e| e.message)?;
    let experiment_id = answer["experiment_id"].as_str().unwrap_or("0").to_string();
    let parent = answer["parent_run_id"].as_str().unwrap_or("").to_string();
    let children = search_runs(
        client,
        &experiment_id,
        &format!("tags.mlflow.parentRunId = '{parent}'"),
    )
    .await?;
    let keys: Vec<String> = space
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let rows = children
        .iter()
        .take(10)
        .map(|r| {
            let mut row = vec![r["info"]["run_name"].as_str().unwrap_or("").to_string()];
            row.extend(keys.iter().map(|k| param(r, k)));
            row.push(metric(r, RMSE).map(fmt_metric).unwrap_or_default());
            row
        })
        .collect();
    let mut columns = vec!["trial".to_string()];
    columns.extend(keys.iter().cloned());
    columns.push(RMSE.into());
    Ok(Outcome {
        summary: format!(
            "{} trials as nested runs under '{}'; the best has {} = {}.",
            answer["trials"],
            answer["loss_metric"].as_str().unwrap_or("loss"),
            answer["loss_metric"].as_str().unwrap_or("loss"),
            answer["best_loss"]
                .as_f64()
                .map(fmt_metric)
                .unwrap_or_default()
        )
        .replacen(
            &format!(
                "under '{}'",
                answer["loss_metric"].as_str().unwrap_or("loss")
            ),
            "under one parent run",
            1,
        ),
        experiment_id: Some(experiment_id),
        run_id: Some(parent),
        run_ids: children
            .iter()
            .filter_map(|r| r["info"]["run_id"].as_str().map(str::to_string))
            .collect(),
        tables: vec![Table {
            caption: "The trials, best first".into(),
            columns,
            rows,
        }],
        ..Outcome::default()
    })
}

/// Trains with a logged model and answers the training answer.
async fn train_with_model(
    client: Client,
    request: Value,
    on_progress: OnProgress,
) -> Result<Value, String> {
    let mut request = request;
    request["log_model"] = json!(true);
    client
        .train(request, on_progress)
        .await
        .map_err(|e| e.message)
}

async fn artifact_text(client: Client, path: &str) -> Result<String, String> {
    let r = client
        .raw(
            "GET",
            &format!("/api/2.0/mlflow-artifacts/artifacts/{path}"),
            json!({}),
        )
        .await
        .map_err(|e| e.message)?;
    String::from_utf8(r.bytes).map_err(|_| format!("{path} is not text"))
}

async fn log_model(
    client: Client,
    step: &Step,
    on_progress: OnProgress,
) -> Result<Outcome, String> {
    let mut request = train_request(step);
    request["run_name"] = json!("lasso-with-model");
    let answer = train_with_model(client, request, on_progress).await?;
    let experiment_id = answer["experiment_id"].as_str().unwrap_or("0").to_string();
    let run_id = answer["run_id"].as_str().unwrap_or("").to_string();
    let model_id = answer["model_id"].as_str().unwrap_or("").to_string();
    let mlmodel = artifact_text(
        client,
        &format!("{experiment_id}/models/{model_id}/artifacts/MLmodel"),
    )
    .await?;
    Ok(Outcome {
        summary: format!(
            "Logged the preprocessor (preprocessor/preprocessor.json) and the model: runs:/{run_id}/model, also models:/{model_id}. Its MLmodel file:"
        ),
        experiment_id: Some(experiment_id),
        run_id: Some(run_id),
        text: Some(mlmodel),
        ..Outcome::default()
    })
}

/// Five rows of the taxi-trip data in pandas' `split` orient, as a scoring request takes them.
fn taxi_rows(columns: &[&str]) -> Value {
    let data = crate::ml::data::taxi_trips(5, 99);
    let names: Vec<&str> = columns.to_vec();
    let rows: Vec<Value> = (0..data.nrows())
        .map(|i| {
            Value::Array(
                names
                    .iter()
                    .map(|n| match data.features.column(n) {
                        Some(crate::ml::data::Column::Numeric(v)) => json!(v[i]),
                        Some(crate::ml::data::Column::Text(v)) => json!(v[i]),
                        None => Value::Null,
                    })
                    .collect(),
            )
        })
        .collect();
    json!({"columns": names, "data": rows})
}

async fn predict(client: Client, uri: &str, split: Value) -> Result<Value, String> {
    call(
        client,
        "POST",
        "flowbook/models/predict",
        json!({"model_uri": uri, "dataframe_split": split}),
    )
    .await
}

fn inputs_and_predictions(split: &Value, predictions: &[f64]) -> Table {
    let mut columns: Vec<String> = split["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c.as_str().unwrap_or("").to_string())
        .collect();
    columns.push("prediction".into());
    let rows = split["data"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(predictions)
        .map(|(row, p)| {
            let mut cells: Vec<String> = row
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect();
            cells.push(fmt_metric(*p));
            cells
        })
        .collect();
    Table {
        caption: "model.predict(X_val[:5])".into(),
        columns,
        rows,
    }
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_f64)
        .collect()
}

/// The newest run of the experiment that logged a model, or a fresh one.
async fn a_run_with_a_model(
    client: Client,
    step: &Step,
    on_progress: OnProgress,
) -> Result<(String, String), String> {
    let id = experiment_id(client, &experiment(step)).await?;
    let answer = call(
        client,
        "POST",
        "runs/search",
        json!({"experiment_ids": [id], "order_by": ["attributes.start_time DESC"], "max_results": 200}),
    )
    .await?;
    let found = runs_of(&answer).into_iter().find(|r| {
        r["outputs"]["model_outputs"]
            .as_array()
            .is_some_and(|o| !o.is_empty())
            && r["data"]["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|t| t["key"] != "mlflow.parentRunId")
    });
    if let Some(run) = found {
        return Ok((id, run["info"]["run_id"].as_str().unwrap_or("").to_string()));
    }
    let mut request = train_request(step);
    request["run_name"] = json!("lasso-with-model");
    let answer = train_with_model(client, request, on_progress).await?;
    Ok((id, answer["run_id"].as_str().unwrap_or("").to_string()))
}

async fn load_model(
    client: Client,
    step: &Step,
    on_progress: OnProgress,
) -> Result<Outcome, String> {
    let (experiment_id, run_id) = a_run_with_a_model(client, step, on_progress).await?;
    let uri = format!("runs:/{run_id}/model");
    let split = taxi_rows(&["PULocationID", "DOLocationID", "PU_DO", "trip_distance"]);
    let answer = predict(client, &uri, split.clone()).await?;
    Ok(Outcome {
        summary: format!("Loaded {uri} and predicted the duration of five trips (minutes)."),
        experiment_id: Some(experiment_id),
        run_id: Some(run_id),
        tables: vec![inputs_and_predictions(
            &split,
            &numbers(&answer["predictions"]),
        )],
        ..Outcome::default()
    })
}

async fn custom_model(
    client: Client,
    step: &Step,
    on_progress: OnProgress,
) -> Result<Outcome, String> {
    let mut request = train_request(step);
    request["run_name"] = json!("wrapped-model");
    request["post"] = json!([
        {"step": "adjust", "function": "round", "argument": 1},
        {"step": "wrap", "key": "predictions"},
    ]);
    let answer = train_with_model(client, request, on_progress).await?;
    let run_id = answer["run_id"].as_str().unwrap_or("").to_string();
    let split = taxi_rows(&["PULocationID", "DOLocationID", "PU_DO", "trip_distance"]);
    let predicted = predict(client, &format!("runs:/{run_id}/model"), split).await?;
    Ok(Outcome {
        summary: "The wrapped model rounds each prediction with the custom library's round(…, 1) and answers a dict:".into(),
        experiment_id: answer["experiment_id"].as_str().map(str::to_string),
        run_id: Some(run_id),
        text: Some(
            serde_json::to_string_pretty(&predicted["predictions"]).unwrap_or_default(),
        ),
        ..Outcome::default()
    })
}

fn versions_table(versions: &[Value]) -> Table {
    let tag = |v: &Value, k: &str| {
        v["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["key"] == k)
            .and_then(|t| t["value"].as_str())
            .unwrap_or("")
            .to_string()
    };
    Table {
        caption: "The versions".into(),
        columns: [
            "version",
            "stage",
            "aliases",
            "test_rmse",
            "prediction_time_ms",
            "run",
        ]
        .map(String::from)
        .to_vec(),
        rows: versions
            .iter()
            .map(|v| {
                vec![
                    v["version"].as_str().unwrap_or("").to_string(),
                    v["current_stage"].as_str().unwrap_or("None").to_string(),
                    v["aliases"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a.as_str().map(|a| format!("@{a}")))
                        .collect::<Vec<_>>()
                        .join(" "),
                    tag(v, "test_rmse"),
                    tag(v, "prediction_time_ms"),
                    v["run_id"].as_str().unwrap_or("").to_string(),
                ]
            })
            .collect(),
    }
}

async fn versions(client: Client, name: &str) -> Result<Vec<Value>, String> {
    let answer = call(
        client,
        "GET",
        "model-versions/search",
        json!({"filter": format!("name='{name}'"), "order_by": ["version_number ASC"]}),
    )
    .await?;
    let mut list = answer["model_versions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.sort_by_key(|v| v["version"].as_str().and_then(|s| s.parse::<i64>().ok()));
    // As in MLflow, a search answers versions without their aliases; the model has them all.
    let model = call(
        client,
        "GET",
        "registered-models/get",
        json!({"name": name}),
    )
    .await?;
    let aliases = model["registered_model"]["aliases"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for v in &mut list {
        let of_version: Vec<Value> = aliases
            .iter()
            .filter(|a| a["version"] == v["version"])
            .map(|a| a["alias"].clone())
            .collect();
        v["aliases"] = Value::Array(of_version);
    }
    Ok(list)
}

fn model_name(step: &Step) -> String {
    arg(step, "name").unwrap_or(REGISTERED_MODEL).to_string()
}

async fn register(client: Client, step: &Step, report: Reporter) -> Result<Outcome, String> {
    let name = model_name(step);
    let id = experiment_id(client, &experiment(step)).await?;
    // Three candidates with models, as the course registers its best runs.
    let mut candidates = Vec::new();
    for (model, params, run_name) in [
        ("Lasso", json!({"alpha": "0.1"}), "candidate-lasso-0.1"),
        ("Lasso", json!({"alpha": "0.01"}), "candidate-lasso-0.01"),
        ("Ridge", json!({"alpha": "1.0"}), "candidate-ridge"),
    ] {
        let request = json!({"experiment": experiment(step), "dataset": "taxi-trips", "model": model,
                             "params": params, "run_name": run_name, "log_model": true});
        let answer = train_with_model(client, request, boxed(&report)).await?;
        candidates.push(answer);
    }
    if let Err(e) = write(
        client,
        "POST",
        "registered-models/create",
        json!({"name": name}),
    )
    .await
    {
        if !e.contains("already exists") {
            return Err(e);
        }
    }
    for c in &candidates {
        let model_id = c["model_id"].as_str().unwrap_or("");
        write(
            client,
            "POST",
            "model-versions/create",
            json!({"name": name, "source": format!("models:/{model_id}"),
                   "run_id": c["run_id"], "model_id": model_id}),
        )
        .await?;
    }
    let list = versions(client, &name).await?;
    Ok(Outcome {
        summary: format!(
            "Registered {} versions of '{name}'; it now has {}.",
            candidates.len(),
            list.len()
        ),
        experiment_id: Some(id),
        model_name: Some(name),
        tables: vec![versions_table(&list)],
        ..Outcome::default()
    })
}

async fn stages_and_aliases(client: Client, step: &Step) -> Result<Outcome, String> {
    let name = model_name(step);
    let list = versions(client, &name).await?;
    if list.len() < 2 {
        return Err(format!(
            "'{name}' needs two versions first: run the cell that registers them"
        ));
    }
    let version = |i: usize| list[i]["version"].as_str().unwrap_or("1").to_string();
    let (older, newer) = (version(list.len() - 2), version(list.len() - 1));
    write(
        client,
        "POST",
        "model-versions/transition-stage",
        json!({"name": name, "version": older, "stage": "Staging", "archive_existing_versions": false}),
    )
    .await?;
    write(
        client,
        "POST",
        "model-versions/transition-stage",
        json!({"name": name, "version": newer, "stage": "Production", "archive_existing_versions": true}),
    )
    .await?;
    for (alias, v) in [("champion", &newer), ("challenger", &older)] {
        write(
            client,
            "POST",
            "registered-models/alias",
            json!({"name": name, "alias": alias, "version": v}),
        )
        .await?;
    }
    write(
        client,
        "PATCH",
        "model-versions/update",
        json!({"name": name, "version": newer, "description": "The model in production: lowest validation RMSE so far."}),
    )
    .await?;
    let list = versions(client, &name).await?;
    Ok(Outcome {
        summary: format!(
            "Version {newer} is in Production and @champion; version {older} is in Staging and @challenger."
        ),
        model_name: Some(name),
        tables: vec![versions_table(&list)],
        ..Outcome::default()
    })
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

async fn choose_champion(client: Client, step: &Step) -> Result<Outcome, String> {
    let name = model_name(step);
    let list = versions(client, &name).await?;
    if list.is_empty() {
        return Err(format!(
            "'{name}' has no versions yet: run the cell that registers them"
        ));
    }
    let split = taxi_rows(&["PULocationID", "DOLocationID", "PU_DO", "trip_distance"]);
    let mut scored = Vec::new();
    for v in &list {
        let version = v["version"].as_str().unwrap_or("").to_string();
        let run = call(client, "GET", "runs/get", json!({"run_id": v["run_id"]})).await?;
        let rmse = metric(&run["run"], RMSE).unwrap_or(f64::INFINITY);
        let started = now_ms();
        predict(client, &format!("models:/{name}/{version}"), split.clone()).await?;
        let millis = now_ms() - started;
        for (k, value) in [
            ("test_rmse", format!("{rmse:.4}")),
            ("prediction_time_ms", format!("{millis:.1}")),
            ("evaluation_status", "passed".to_string()),
        ] {
            write(
                client,
                "POST",
                "model-versions/set-tag",
                json!({"name": name, "version": version, "key": k, "value": value}),
            )
            .await?;
        }
        scored.push((version, rmse, millis));
    }
    let pick = |by: fn(&(String, f64, f64)) -> f64| {
        scored
            .iter()
            .min_by(|a, b| by(a).total_cmp(&by(b)))
            .map(|s| s.0.clone())
            .unwrap_or_default()
    };
    let (best, fastest) = (pick(|s| s.1), pick(|s| s.2));
    for (alias, v) in [("Champion", &best), ("Best", &best), ("Fastest", &fastest)] {
        write(
            client,
            "POST",
            "registered-models/alias",
            json!({"name": name, "alias": alias, "version": v}),
        )
        .await?;
    }
    let list = versions(client, &name).await?;
    Ok(Outcome {
        summary: format!(
            "Tagged every version with its test RMSE, prediction time and evaluation status: @Champion and @Best → version {best} (lowest RMSE), @Fastest → version {fastest}."
        ),
        model_name: Some(name),
        tables: vec![versions_table(&list)],
        ..Outcome::default()
    })
}

fn feature_rows(table: &Value) -> Table {
    Table {
        caption: format!(
            "Feature table {} (primary key {})",
            table["name"].as_str().unwrap_or(""),
            table["primary_key"].as_str().unwrap_or("")
        ),
        columns: table["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["name"].as_str().unwrap_or("").to_string())
            .collect(),
        rows: table["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .take(12)
            .map(|r| {
                r.as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect()
            })
            .collect(),
    }
}

async fn feature_table(client: Client) -> Result<Outcome, String> {
    let answer = write(
        client,
        "POST",
        "flowbook/feature-tables/create",
        json!({"builtin": "taxi_zone_features", "replace": true}),
    )
    .await?;
    let table = &answer["feature_table"];
    Ok(Outcome {
        summary: format!(
            "Created the feature table '{}': {} rows, one per pick-up zone.",
            table["name"].as_str().unwrap_or(""),
            table["num_rows"]
        ),
        tables: vec![feature_rows(table)],
        ..Outcome::default()
    })
}

async fn feature_lookup(
    client: Client,
    step: &Step,
    on_progress: OnProgress,
) -> Result<Outcome, String> {
    let table = call(
        client,
        "GET",
        "flowbook/feature-tables/get",
        json!({"name": "taxi_zone_features"}),
    )
    .await;
    if table.is_err() {
        feature_table(client).await?;
    }
    let request = json!({
        "experiment": experiment(step), "dataset": "taxi-trips", "model": "LinearRegression",
        "run_name": "zone-features-lookup", "columns": ["PULocationID", "trip_distance"],
        "feature_lookups": [{"table_name": "taxi_zone_features", "lookup_key": "PULocationID"}],
    });
    let answer = train_with_model(client, request, on_progress).await?;
    let run_id = answer["run_id"].as_str().unwrap_or("").to_string();
    let uri = format!("runs:/{run_id}/model");
    let split =
        json!({"columns": ["PULocationID", "trip_distance"], "data": [["74", 3.0], ["7", 3.0]]});
    let predicted = predict(client, &uri, split.clone()).await?;
    let missing = predict(
        client,
        &uri,
        json!({"columns": ["PULocationID", "trip_distance"], "data": [["999", 3.0]]}),
    )
    .await
    .err()
    .unwrap_or_default();
    let mut table = inputs_and_predictions(&split, &numbers(&predicted["predictions"]));
    table.caption =
        "Given only the key and the distance, the model looks up the zone's features".into();
    Ok(Outcome {
        summary: "Trained with features looked up by PULocationID; at prediction only the key is given. A downtown zone (74) is slower than zone 7 at the same distance.".into(),
        experiment_id: answer["experiment_id"].as_str().map(str::to_string),
        run_id: Some(run_id),
        tables: vec![table],
        text: Some(format!("A key the table does not hold:\n{missing}")),
        ..Outcome::default()
    })
}

async fn drift(
    client: Client,
    step: &Step,
    current: &str,
    on_progress: OnProgress,
) -> Result<Outcome, String> {
    let experiment = arg(step, "experiment").unwrap_or("monitoring").to_string();
    let request = json!({"experiment": experiment, "dataset": "linear", "model": "LinearRegression",
                         "run_name": "linear-model", "rows": 1000});
    let trained = train_with_model(client, request, on_progress).await?;
    let uri = format!("runs:/{}/model", trained["run_id"].as_str().unwrap_or(""));
    let answer = client
        .evaluate(json!({
            "experiment": experiment, "model_uri": uri,
            "reference": {"dataset": "linear", "rows": 500, "seed": 1},
            "current": {"dataset": current, "rows": 500, "seed": 2},
        }))
        .await
        .map_err(|e| e.message)?;
    let e = &answer["evaluation"];
    let histograms: BTreeMap<String, Histogram> =
        serde_json::from_value(e["histograms"].clone()).unwrap_or_default();
    let d = &e["drift"]["x"];
    let shift = e["error_shift"].as_f64().unwrap_or(0.0);
    let concept = current.contains("concept");
    let (summary, chart) = if concept {
        (
            format!(
                "The inputs did not move (KS p-value {:.3}), but the error did: RMSE shift {shift:+.3}. That is concept drift.",
                d["ks_pvalue"].as_f64().unwrap_or(f64::NAN)
            ),
            histograms.get(RESIDUALS).map(|h| ("residual".to_string(), h.clone())),
        )
    } else {
        (
            format!(
                "x moved: KS statistic {:.3}, p-value {:.2e}, PSI {:.3}. That is data drift.",
                d["ks_statistic"].as_f64().unwrap_or(f64::NAN),
                d["ks_pvalue"].as_f64().unwrap_or(f64::NAN),
                d["psi"].as_f64().unwrap_or(f64::NAN)
            ),
            histograms.get("x").map(|h| ("x".to_string(), h.clone())),
        )
    };
    Ok(Outcome {
        summary,
        experiment_id: answer["experiment_id"].as_str().map(str::to_string),
        run_id: e["run_id"].as_str().map(str::to_string),
        histogram: chart,
        ..Outcome::default()
    })
}

async fn export(client: Client, on_progress: OnProgress) -> Result<Outcome, String> {
    let r = client
        .export("mlflow-db", on_progress)
        .await
        .map_err(|e| e.message)?;
    let size = r.bytes.len();
    let url = super::super::transfer::object_url(&r.bytes, "application/zip")?;
    Ok(Outcome {
        summary: format!("Your store as an mlflow.db bundle ({size} bytes): unzip it and open it with real MLflow."),
        download: Some((url, "mlflow-db.zip".into())),
        ..Outcome::default()
    })
}
