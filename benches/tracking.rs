//! Tracking-engine benchmark: Flowbook's engine, natively, through the same API dispatcher the
//! server and the browser use (JSON in, JSON out). `scripts/bench.sh` runs it beside
//! `benches/mlflow_tracking.py` (real MLflow 3.17.2's SQLite store) on the same database file
//! and writes the comparison table of BENCHMARKS.md.
//!
//!   cargo bench --bench tracking -- DB_PATH RESULTS_JSON

#![cfg_attr(target_arch = "wasm32", allow(unused))]

use flowbook::api;
use flowbook::tracking::Store;
use serde_json::{json, Value};
use std::time::Instant;

const RUNS: usize = 10_000;
const BATCHES: usize = 200;
const HISTORY_POINTS: usize = 100_000;
const CREATE_RUNS: usize = 2_000;
const MODELS: [&str; 4] = ["lasso", "xgboost", "xgb-tuned", "ridge"];

fn call(store: &mut Store, method: &str, endpoint: &str, body: Value) -> Value {
    api::call(store, method, endpoint, body).unwrap_or_else(|e| panic!("{endpoint}: {e}"))
}

fn create_run(store: &mut Store, experiment_id: &str, name: &str) -> String {
    let run = call(
        store,
        "POST",
        "runs/create",
        json!({"experiment_id": experiment_id, "run_name": name, "start_time": 1}),
    );
    run["run"]["info"]["run_id"].as_str().unwrap().to_string()
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let db = args.get(1).expect("usage: tracking DB_PATH RESULTS_JSON");
    let out = args.get(2).expect("usage: tracking DB_PATH RESULTS_JSON");
    let _ = std::fs::remove_file(db);
    let mut store = Store::open(std::path::Path::new(db)).expect("open store");
    let mut results = serde_json::Map::new();

    // 1. log-batch throughput: batches of 1000 metrics (MLflow's limit) into one run.
    let exp = call(
        &mut store,
        "POST",
        "experiments/create",
        json!({"name": "bench-batch"}),
    )["experiment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let run_id = create_run(&mut store, &exp, "batch");
    let t = Instant::now();
    for b in 0..BATCHES {
        let metrics: Vec<Value> = (0..1000)
            .map(|i| json!({"key": format!("m{}", i % 20), "value": (b * 1000 + i) as f64 * 0.5, "timestamp": 1_700_000_000_000i64 + b as i64, "step": b * 50 + i / 20}))
            .collect();
        call(
            &mut store,
            "POST",
            "runs/log-batch",
            json!({"run_id": run_id, "metrics": metrics}),
        );
    }
    let secs = t.elapsed().as_secs_f64();
    results.insert(
        "log_batch_metrics_per_s".into(),
        json!((BATCHES * 1000) as f64 / secs),
    );

    // 2. create run + log_batch (params, metrics, tags) + terminate.
    let exp_runs = call(
        &mut store,
        "POST",
        "experiments/create",
        json!({"name": "bench-runs"}),
    )["experiment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let t = Instant::now();
    for i in 0..CREATE_RUNS {
        let id = create_run(&mut store, &exp_runs, &format!("r{i}"));
        call(
            &mut store,
            "POST",
            "runs/log-batch",
            json!({"run_id": id,
            "params": [{"key": "alpha", "value": format!("{}", i % 7)}],
            "metrics": [{"key": "rmse", "value": (i % 100) as f64 / 100.0, "timestamp": 1, "step": 0}],
            "tags": [{"key": "model", "value": if i % 2 == 0 { "lasso" } else { "xgboost" }}]}),
        );
        call(
            &mut store,
            "POST",
            "runs/update",
            json!({"run_id": id, "status": "FINISHED", "end_time": 2}),
        );
    }
    results.insert(
        "create_runs_per_s".into(),
        json!(CREATE_RUNS as f64 / t.elapsed().as_secs_f64()),
    );

    // The search corpus: 10,000 runs with params, metrics and tags (written, not timed).
    let exp_search = call(
        &mut store,
        "POST",
        "experiments/create",
        json!({"name": "bench-search"}),
    )["experiment_id"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..RUNS {
        let id = create_run(&mut store, &exp_search, &format!("s{i}"));
        call(
            &mut store,
            "POST",
            "runs/log-batch",
            json!({"run_id": id,
            "params": [{"key": "alpha", "value": format!("0.{}", i % 10)}, {"key": "max_depth", "value": format!("{}", i % 8)}],
            "metrics": [{"key": "rmse", "value": (i % 1000) as f64 / 1000.0, "timestamp": 1, "step": 0},
                        {"key": "mae", "value": (i % 500) as f64 / 500.0, "timestamp": 1, "step": 0}],
            "tags": [{"key": "model", "value": MODELS[i % 4]}]}),
        );
    }

    // 3. search with a three-clause filter and an order.
    let filter = "metrics.rmse < 0.5 and params.alpha = '0.1' and tags.model LIKE 'xg%'";
    let search = json!({"experiment_ids": [exp_search], "filter": filter, "order_by": ["metrics.rmse DESC"], "max_results": 1000});
    let found = call(&mut store, "POST", "runs/search", search.clone())["runs"]
        .as_array()
        .map_or(0, Vec::len);
    let reps = 20;
    let t = Instant::now();
    for _ in 0..reps {
        call(&mut store, "POST", "runs/search", search.clone());
    }
    results.insert(
        "search_ms".into(),
        json!(t.elapsed().as_secs_f64() * 1000.0 / reps as f64),
    );
    results.insert("search_found".into(), json!(found));

    // 4. fetch all 10,000 runs, page by page (MLflow's default page of 1000).
    let t = Instant::now();
    let mut token: Option<String> = None;
    let mut fetched = 0;
    loop {
        let mut body = json!({"experiment_ids": [exp_search], "max_results": 1000});
        if let Some(tok) = &token {
            body["page_token"] = json!(tok);
        }
        let page = call(&mut store, "POST", "runs/search", body);
        fetched += page["runs"].as_array().map_or(0, Vec::len);
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(tok) => token = Some(tok.to_string()),
            None => break,
        }
    }
    results.insert("fetch_all_s".into(), json!(t.elapsed().as_secs_f64()));
    results.insert("fetched".into(), json!(fetched));

    // 5. metric history of 100,000 points.
    let hist_run = create_run(&mut store, &exp, "history");
    for b in 0..HISTORY_POINTS / 1000 {
        let metrics: Vec<Value> = (0..1000)
            .map(|i| json!({"key": "loss", "value": 1.0 / ((b * 1000 + i) as f64 + 1.0), "timestamp": 1_700_000_000_000i64 + (b * 1000 + i) as i64, "step": b * 1000 + i}))
            .collect();
        call(
            &mut store,
            "POST",
            "runs/log-batch",
            json!({"run_id": hist_run, "metrics": metrics}),
        );
    }
    let reps = 5;
    let t = Instant::now();
    let mut points = 0;
    for _ in 0..reps {
        points = call(
            &mut store,
            "GET",
            "metrics/get-history",
            json!({"run_id": hist_run, "metric_key": "loss"}),
        )["metrics"]
            .as_array()
            .map_or(0, Vec::len);
    }
    results.insert(
        "history_ms".into(),
        json!(t.elapsed().as_secs_f64() * 1000.0 / reps as f64),
    );
    results.insert("history_points".into(), json!(points));
    results.insert("search_experiment_id".into(), json!(exp_search));
    results.insert("history_run_id".into(), json!(hist_run));
    drop(store);
    std::fs::write(
        out,
        serde_json::to_string_pretty(&Value::Object(results)).unwrap(),
    )
    .expect("write results");
}
