//! Native tests of the tracking engine through its public API: MLflow's rules, transactions,
//! and a database real MLflow 3.17.2 wrote (tests/fixtures) read back as real MLflow reads it.
#![cfg(not(target_arch = "wasm32"))]

use flowbook::api::{self, ErrorCode, Request};
use flowbook::tracking::{KeyValue, Metric, Store};
use serde_json::{json, Value};
use std::io::Read;
use std::path::PathBuf;

fn store() -> Store {
    Store::open_in_memory().expect("in-memory store")
}

fn metric(key: &str, value: f64, step: i64, timestamp: i64) -> Metric {
    Metric {
        key: key.into(),
        value,
        step,
        timestamp,
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "flowbook-test-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_new_store_has_mlflows_default_experiment() {
    let s = store();
    let e = s.get_experiment("0").unwrap();
    assert_eq!(e.name, "Default");
    assert_eq!(e.lifecycle_stage, "active");
    assert_eq!(e.artifact_location, "mlflow-artifacts:/0");
}

#[test]
fn experiments_follow_mlflows_lifecycle_and_errors() {
    let mut s = store();
    let id = s
        .create_experiment("exp", None, &[KeyValue::new("team", "a")])
        .unwrap();
    assert_eq!(id, "1");
    let e = s.create_experiment("exp", None, &[]).unwrap_err();
    assert_eq!(e.error_code, ErrorCode::ResourceAlreadyExists);
    assert!(s.create_experiment("", None, &[]).is_err());
    assert_eq!(
        s.get_experiment_by_name("exp").unwrap().tags,
        vec![KeyValue::new("team", "a")]
    );
    assert_eq!(
        s.get_experiment("42").unwrap_err().error_code,
        ErrorCode::ResourceDoesNotExist
    );
    assert_eq!(
        s.get_experiment("abc").unwrap_err().error_code,
        ErrorCode::InvalidParameterValue
    );

    let run = s.create_run(&id, "u", Some(1), Some("r"), &[]).unwrap();
    s.delete_experiment(&id).unwrap();
    assert_eq!(s.get_experiment(&id).unwrap().lifecycle_stage, "deleted");
    assert_eq!(
        s.get_run(&run.info.run_id).unwrap().info.lifecycle_stage,
        "deleted",
        "deleting cascades to runs"
    );
    assert_eq!(
        s.rename_experiment(&id, "x").unwrap_err().error_code,
        ErrorCode::InvalidState
    );
    assert_eq!(
        s.create_run(&id, "u", None, None, &[])
            .unwrap_err()
            .error_code,
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        s.delete_experiment(&id).unwrap_err().error_code,
        ErrorCode::ResourceDoesNotExist
    );
    s.restore_experiment(&id).unwrap();
    assert_eq!(
        s.get_run(&run.info.run_id).unwrap().info.lifecycle_stage,
        "active"
    );
    s.rename_experiment(&id, "renamed").unwrap();
    assert_eq!(s.get_experiment(&id).unwrap().name, "renamed");
    assert_eq!(
        s.delete_experiment_tag(&id, "nope").unwrap_err().error_code,
        ErrorCode::ResourceDoesNotExist
    );
}

#[test]
fn runs_keep_params_immutable_and_metrics_latest_by_step() {
    let mut s = store();
    let run = s
        .create_run(
            "0",
            "ann",
            Some(1000),
            Some("lasso"),
            &[KeyValue::new("model", "lasso")],
        )
        .unwrap();
    let id = run.info.run_id.clone();
    assert_eq!(run.info.status, "RUNNING");
    assert_eq!(run.tag("mlflow.runName"), Some("lasso"));
    assert_eq!(
        run.info.artifact_uri,
        format!("mlflow-artifacts:/0/{id}/artifacts")
    );

    s.log_param(&id, "alpha", "0.1").unwrap();
    s.log_param(&id, "alpha", "0.1").unwrap();
    let e = s.log_param(&id, "alpha", "0.2").unwrap_err();
    assert_eq!(e.error_code, ErrorCode::InvalidParameterValue);
    assert!(
        e.message.contains("Changing param values is not allowed"),
        "{}",
        e.message
    );

    s.log_metric(&id, &metric("rmse", 3.0, 0, 10), None)
        .unwrap();
    s.log_metric(&id, &metric("rmse", 1.0, 2, 5), None).unwrap();
    s.log_metric(&id, &metric("rmse", 2.0, 1, 20), None)
        .unwrap();
    s.log_metric(&id, &metric("loss", f64::NAN, 0, 1), None)
        .unwrap();
    s.log_metric(&id, &metric("big", f64::INFINITY, 0, 1), None)
        .unwrap();
    let run = s.get_run(&id).unwrap();
    assert_eq!(
        run.metric("rmse"),
        Some(1.0),
        "the latest metric is the one with the highest step"
    );
    assert!(run.metric("loss").unwrap().is_nan());
    assert_eq!(
        run.metric("big"),
        Some(f64::MAX),
        "MLflow stores +inf as the largest double"
    );

    let (history, token) = s.get_metric_history(&id, "rmse", None, None).unwrap();
    assert_eq!(
        history.iter().map(|m| m.value).collect::<Vec<_>>(),
        vec![1.0, 3.0, 2.0],
        "ordered by timestamp"
    );
    assert!(token.is_none());
    let (page, token) = s.get_metric_history(&id, "rmse", Some(2), None).unwrap();
    assert_eq!(page.len(), 2);
    let (rest, last) = s
        .get_metric_history(&id, "rmse", Some(2), token.as_deref())
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert!(last.is_none());

    s.set_tag(&id, "mlflow.runName", "renamed").unwrap();
    assert_eq!(
        s.get_run(&id).unwrap().info.run_name,
        "renamed",
        "the runName tag renames the run"
    );
    let info = s
        .update_run(&id, Some("FINISHED"), Some(2000), None)
        .unwrap();
    assert_eq!(
        (info.status.as_str(), info.end_time),
        ("FINISHED", Some(2000))
    );
    assert_eq!(
        s.update_run(&id, Some("DONE"), None, None)
            .unwrap_err()
            .error_code,
        ErrorCode::InvalidParameterValue
    );
    s.delete_run(&id).unwrap();
    assert_eq!(
        s.log_param(&id, "beta", "1").unwrap_err().error_code,
        ErrorCode::InvalidParameterValue
    );
    s.restore_run(&id).unwrap();
    s.log_param(&id, "beta", "1").unwrap();
    assert_eq!(
        s.get_run("0123").unwrap_err().error_code,
        ErrorCode::ResourceDoesNotExist
    );
}

#[test]
fn a_failed_batch_writes_nothing() {
    let mut s = store();
    let id = s.create_run("0", "u", None, None, &[]).unwrap().info.run_id;
    s.log_param(&id, "alpha", "0.1").unwrap();
    let metrics: Vec<Metric> = (0..10).map(|i| metric("m", i as f64, i, i)).collect();
    // The second param contradicts what was logged: the whole batch must be refused.
    let e = s
        .log_batch(
            &id,
            &metrics,
            &[KeyValue::new("beta", "1"), KeyValue::new("alpha", "0.5")],
            &[KeyValue::new("t", "v")],
        )
        .unwrap_err();
    assert_eq!(e.error_code, ErrorCode::InvalidParameterValue);
    let run = s.get_run(&id).unwrap();
    assert!(run.metric("m").is_none(), "no metric of the failed batch");
    assert!(run.param("beta").is_none(), "no param of the failed batch");
    assert!(run.tag("t").is_none(), "no tag of the failed batch");

    let too_many: Vec<Metric> = (0..1001).map(|i| metric("m", 0.0, i, 0)).collect();
    assert!(s
        .log_batch(&id, &too_many, &[], &[])
        .unwrap_err()
        .message
        .contains("at most 1000 metrics"));
    let dup = s
        .log_batch(
            &id,
            &[],
            &[KeyValue::new("k", "1"), KeyValue::new("k", "2")],
            &[],
        )
        .unwrap_err();
    assert!(
        dup.message.contains("Duplicate parameter keys"),
        "{}",
        dup.message
    );
    s.log_batch(&id, &metrics, &[KeyValue::new("beta", "1")], &[])
        .unwrap();
    assert_eq!(s.get_run(&id).unwrap().metric("m"), Some(9.0));
}

#[test]
fn the_dispatcher_speaks_mlflow_json_and_never_panics_on_bad_requests() {
    let mut s = store();
    let created = api::call(&mut s, "POST", "experiments/create", json!({"name": "e"})).unwrap();
    assert_eq!(created, json!({"experiment_id": "1"}));
    let run = api::call(
        &mut s,
        "POST",
        "runs/create",
        json!({"experiment_id": "1", "start_time": 5}),
    )
    .unwrap();
    let run_id = run["run"]["info"]["run_id"].as_str().unwrap().to_string();
    api::call(
        &mut s,
        "POST",
        "runs/log-metric",
        json!({"run_id": run_id, "key": "m", "value": "NaN", "timestamp": 1, "step": 0}),
    )
    .unwrap();
    let got = api::call(&mut s, "GET", "runs/get", json!({"run_id": run_id})).unwrap();
    assert_eq!(got["run"]["data"]["metrics"][0]["value"], json!("NaN"));

    let bad_bodies: Vec<&[u8]> = vec![
        b"{",
        b"[]",
        b"null",
        b"{\"name\": 5}",
        b"\xff\xfe",
        b"{\"experiment_id\": {\"a\": 1}}",
    ];
    for (method, path) in [
        ("POST", "/api/2.0/mlflow/experiments/create"),
        ("POST", "/api/2.0/mlflow/runs/log-batch"),
        ("POST", "/api/2.0/mlflow/runs/search"),
        ("POST", "/api/2.0/mlflow/runs/log-metric"),
        (
            "PUT",
            "/api/2.0/mlflow-artifacts/artifacts/../../etc/passwd",
        ),
        ("GET", "/api/2.0/mlflow/nope"),
        ("GET", "/nowhere"),
    ] {
        for body in &bad_bodies {
            let r = api::handle(
                &mut s,
                &Request {
                    method: method.into(),
                    path: path.into(),
                    query: vec![],
                    body: body.to_vec(),
                },
            );
            assert!(
                r.status >= 400,
                "{method} {path} {body:?} gave {}",
                r.status
            );
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            assert!(
                v["error_code"].is_string() && v["message"].is_string(),
                "{v}"
            );
        }
    }
    let r = api::handle(
        &mut s,
        &Request {
            method: "GET".into(),
            path: "/api/2.0/mlflow/experiments/get".into(),
            query: vec![("experiment_id".into(), "7".into())],
            body: vec![],
        },
    );
    assert_eq!(r.status, 404);
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap()["error_code"],
        "RESOURCE_DOES_NOT_EXIST"
    );
}

/// Extracts a fixture zip written by real MLflow into a temp dir and returns it with expected.json.
fn unzip_fixture(name: &str) -> (PathBuf, Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let dir = temp_dir(name);
    archive.extract(&dir).unwrap();
    let mut expected = String::new();
    std::fs::File::open(dir.join("expected.json"))
        .unwrap()
        .read_to_string(&mut expected)
        .unwrap();
    (dir, serde_json::from_str(&expected).unwrap())
}

#[test]
fn a_database_real_mlflow_wrote_reads_back_as_mlflow_reports_it() {
    let (dir, expected) = unzip_fixture("mlflow3-sqlite-course.zip");
    let s = Store::open(&dir.join("mlflow.db")).expect("Flowbook opens real MLflow's database");
    let experiment = s
        .get_experiment_by_name(expected["experiment"].as_str().unwrap())
        .unwrap();
    let runs = expected["runs"].as_object().unwrap();
    assert!(runs.len() >= 5);
    for (name, want) in runs {
        let run = s.get_run(want["run_id"].as_str().unwrap()).unwrap();
        assert_eq!(run.info.run_name, *name);
        assert_eq!(run.info.experiment_id, experiment.experiment_id);
        assert_eq!(run.info.status, want["status"].as_str().unwrap(), "{name}");
        let params: serde_json::Map<String, Value> = run
            .data
            .params
            .iter()
            .map(|p| (p.key.clone(), json!(p.value)))
            .collect();
        assert_eq!(Value::Object(params), want["params"], "{name}");
        for (key, value) in want["metrics"].as_object().unwrap() {
            let got = run
                .metric(key)
                .unwrap_or_else(|| panic!("{name} lacks metric {key}"));
            match value.as_f64() {
                Some(v) => assert_eq!(got, v, "{name}.{key}"),
                None => assert!(got.is_nan(), "{name}.{key} is NaN in MLflow"),
            }
        }
        for (key, value) in want["tags"].as_object().unwrap() {
            assert_eq!(run.tag(key), value.as_str(), "{name} tag {key}");
        }
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_file_that_is_not_an_mlflow_database_is_refused_and_left_alone() {
    let dir = temp_dir("notdb");
    let path = dir.join("mlflow.db");
    std::fs::write(&path, b"this is not sqlite at all, just text").unwrap();
    let err = Store::open(&path).err().expect("refused");
    assert!(err.message.contains("not"), "{}", err.message);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"this is not sqlite at all, just text"
    );

    let other = dir.join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE notes (x TEXT);")
        .unwrap();
    let err = Store::open(&other).err().expect("refused");
    assert!(
        err.message.contains("not an MLflow tracking database"),
        "{}",
        err.message
    );
    std::fs::remove_dir_all(dir).ok();
}
