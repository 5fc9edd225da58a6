//! The ML engine natively: training runs tracked as MLflow records them, models loaded back by every
//! URI form, the custom (pyfunc-style) wrapper, the course's selection workflow in the registry,
//! a TPE search as nested runs, and clear errors for bad requests.
#![cfg(not(target_arch = "wasm32"))]

use flowbook::api;
use flowbook::ml::data::{self, Column, Frame};
use flowbook::ml::estimators::Estimator;
use flowbook::ml::model::{self, PostProcess};
use flowbook::ml::train::{self, TrainSpec};
use flowbook::ml::tuning::{self, Algo, SearchSpec};
use flowbook::tracking::Store;
use serde_json::{json, Value};

fn call(store: &mut Store, method: &str, endpoint: &str, body: Value) -> Value {
    api::call(store, method, endpoint, body).unwrap_or_else(|e| panic!("{endpoint}: {}", e.message))
}

fn lasso(alpha: &str) -> Estimator {
    Estimator::new("Lasso")
        .unwrap()
        .set("alpha", alpha)
        .unwrap()
}

fn spec(name: &str, est: Estimator) -> TrainSpec {
    let mut s = TrainSpec::new("course", data::builtin("taxi-trips", 600, 7).unwrap(), est);
    s.run_name = Some(name.into());
    s
}

#[test]
fn a_manual_run_logs_what_the_notebook_logs_and_autolog_logs_everything() {
    let mut store = Store::open_in_memory().unwrap();
    let mut manual = spec("lasso-0.1", lasso("0.1"));
    manual.explicit_params = vec![("alpha".into(), "0.1".into())];
    manual.tags = vec![
        ("developer".into(), "marcus".into()),
        ("model".into(), "lasso".into()),
    ];
    let t = train::train(&mut store, &manual).unwrap();
    let run = store.get_run(&t.run_id).unwrap();
    assert_eq!(run.info.status, "FINISHED");
    assert_eq!(run.info.run_name, "lasso-0.1");
    assert_eq!(run.data.params.len(), 1);
    assert_eq!(run.tag("developer"), Some("marcus"));
    assert!(run.metric("val_root_mean_squared_error").unwrap() > 0.0);
    assert!(run.metric("training_root_mean_squared_error").is_none());
    assert!(t.model_uri.is_none());

    let mut auto = spec("autolog", lasso("0.01"));
    auto.autolog = true;
    let t = train::train(&mut store, &auto).unwrap();
    let run = store.get_run(&t.run_id).unwrap();
    let names: Vec<&str> = run.data.params.iter().map(|p| p.key.as_str()).collect();
    for p in [
        "alpha",
        "max_iter",
        "tol",
        "fit_intercept",
        "selection",
        "warm_start",
    ] {
        assert!(names.contains(&p), "autolog logs {p} (defaults included)");
    }
    assert_eq!(run.param("max_iter"), Some("1000"));
    for m in [
        "training_root_mean_squared_error",
        "val_root_mean_squared_error",
        "val_r2_score",
        "val_mean_absolute_error",
    ] {
        assert!(run.metric(m).is_some(), "{m}");
    }
    let files = store
        .list_artifacts(
            &format!("{}/{}/artifacts", t.experiment_id, t.run_id),
            "plots",
        )
        .unwrap();
    let plots: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert!(
        plots.contains(&"plots/predicted_vs_actual.svg") && plots.contains(&"plots/residuals.svg"),
        "{plots:?}"
    );
    // The fitted preprocessor is an artifact of its own, and reads back as the model's.
    let pre = store
        .get_artifact(&format!(
            "{}/{}/artifacts/preprocessor/preprocessor.json",
            t.experiment_id, t.run_id
        ))
        .unwrap();
    let pre: flowbook::ml::prep::Preprocessor = serde_json::from_slice(&pre).unwrap();
    assert_eq!(pre.feature_names(), t.saved.preprocessor.feature_names());
    let history = call(&mut store, "GET", "runs/get", json!({"run_id": t.run_id}));
    assert_eq!(
        history["run"]["inputs"]["dataset_inputs"][0]["dataset"]["name"],
        "taxi-trips"
    );
    assert_eq!(
        history["run"]["outputs"]["model_outputs"][0]["model_id"],
        json!(t.model_id.clone().unwrap())
    );
}

fn taxi_rows(n: usize) -> Frame {
    data::taxi_trips(n, 99).features
}

#[test]
fn a_model_loads_back_by_every_uri_form_and_predicts_the_same() {
    let mut store = Store::open_in_memory().unwrap();
    let mut s = spec("model", lasso("0.01"));
    s.log_model = true;
    let t = train::train(&mut store, &s).unwrap();
    let rows = taxi_rows(20);
    let expected = t.saved.predict_values(&rows).unwrap();
    call(
        &mut store,
        "POST",
        "registered-models/create",
        json!({"name": "taxi"}),
    );
    call(
        &mut store,
        "POST",
        "model-versions/create",
        json!({"name": "taxi", "source": format!("models:/{}", t.model_id.clone().unwrap()), "run_id": t.run_id, "model_id": t.model_id}),
    );
    call(
        &mut store,
        "POST",
        "registered-models/alias",
        json!({"name": "taxi", "alias": "champion", "version": "1"}),
    );
    call(
        &mut store,
        "POST",
        "model-versions/transition-stage",
        json!({"name": "taxi", "version": "1", "stage": "Production", "archive_existing_versions": false}),
    );
    for uri in [
        t.model_uri.clone().unwrap(),
        format!("models:/{}", t.model_id.clone().unwrap()),
        "models:/taxi/1".into(),
        "models:/taxi@champion".into(),
        "models:/taxi/Production".into(),
    ] {
        let loaded = model::load(&store, &uri).unwrap_or_else(|e| panic!("{uri}: {}", e.message));
        assert_eq!(loaded.predict_values(&rows).unwrap(), expected, "{uri}");
    }
    let mlmodel = store
        .get_artifact(&format!(
            "{}/MLmodel",
            store
                .resolve_model_artifact_key("models:/taxi@champion")
                .unwrap()
        ))
        .unwrap();
    let text = String::from_utf8(mlmodel).unwrap();
    for field in [
        "flavors:",
        "flowbook:",
        "signature:",
        "saved_input_example_info:",
        "model_size_bytes:",
        "model_id: m-",
    ] {
        assert!(text.contains(field), "MLmodel has {field}:\n{text}");
    }
    let e = model::load(&store, "models:/taxi@nope").unwrap_err();
    assert!(e.message.contains("nope"), "{}", e.message);
}

#[test]
fn a_wrapped_model_post_processes_its_predictions() {
    let mut store = Store::open_in_memory().unwrap();
    let mut s = spec("wrapped", lasso("0.01"));
    s.log_model = true;
    let plain = train::train(&mut store, &s).unwrap();
    s.post = vec![
        PostProcess::Adjust {
            function: "add".into(),
            argument: 2.0,
        },
        PostProcess::Wrap {
            key: "predictions".into(),
        },
    ];
    let wrapped = train::train(&mut store, &s).unwrap();
    let rows = taxi_rows(5);
    let base = plain.saved.predict_values(&rows).unwrap();
    let loaded = model::load(&store, &wrapped.model_uri.unwrap()).unwrap();
    let out = loaded.predict(&rows).unwrap();
    let values: Vec<f64> = out["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (w, b) in values.iter().zip(&base) {
        assert!((w - (b + 2.0)).abs() < 1e-9);
    }
}

#[test]
fn the_course_selection_workflow_sets_champion_fastest_and_best() {
    let mut store = Store::open_in_memory().unwrap();
    call(
        &mut store,
        "POST",
        "registered-models/create",
        json!({"name": "taxi-duration"}),
    );
    let mut results = Vec::new();
    for (i, alpha) in ["1.0", "0.1", "0.01"].iter().enumerate() {
        let mut s = spec(&format!("lasso-{alpha}"), lasso(alpha));
        s.log_model = true;
        let t = train::train(&mut store, &s).unwrap();
        let rmse = t
            .metrics
            .iter()
            .find(|(k, _)| k == "val_root_mean_squared_error")
            .unwrap()
            .1;
        let v = call(
            &mut store,
            "POST",
            "model-versions/create",
            json!({"name": "taxi-duration", "source": t.model_uri.clone().unwrap(), "run_id": t.run_id}),
        );
        let version = v["model_version"]["version"].as_str().unwrap().to_string();
        // Prediction time: measured on this machine, so only its order matters; a fixed cost per
        // version index keeps the test deterministic while exercising the tags.
        let millis = 10.0 + i as f64;
        for (k, val) in [
            ("test_rmse", rmse.to_string()),
            ("prediction_time_ms", millis.to_string()),
            ("evaluation_status", "passed".into()),
        ] {
            call(
                &mut store,
                "POST",
                "model-versions/set-tag",
                json!({"name": "taxi-duration", "version": version, "key": k, "value": val}),
            );
        }
        results.push((version, rmse, millis));
    }
    let versions = call(
        &mut store,
        "GET",
        "model-versions/search",
        json!({"filter": "name='taxi-duration'"}),
    );
    let tagged: Vec<(String, f64, f64)> = versions["model_versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let tag = |k: &str| {
                v["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["key"] == k)
                    .unwrap()["value"]
                    .as_str()
                    .unwrap()
                    .parse::<f64>()
                    .unwrap()
            };
            (
                v["version"].as_str().unwrap().to_string(),
                tag("test_rmse"),
                tag("prediction_time_ms"),
            )
        })
        .collect();
    let best = tagged
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0
        .clone();
    let fastest = tagged
        .iter()
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .unwrap()
        .0
        .clone();
    for (alias, version) in [("Best", &best), ("Fastest", &fastest), ("Champion", &best)] {
        call(
            &mut store,
            "POST",
            "registered-models/alias",
            json!({"name": "taxi-duration", "alias": alias, "version": version}),
        );
    }
    let champion = call(
        &mut store,
        "GET",
        "registered-models/alias",
        json!({"name": "taxi-duration", "alias": "Champion"}),
    );
    let want = results
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0
        .clone();
    assert_eq!(champion["model_version"]["version"], json!(want));
    let fast = call(
        &mut store,
        "GET",
        "registered-models/alias",
        json!({"name": "taxi-duration", "alias": "Fastest"}),
    );
    assert_eq!(fast["model_version"]["version"], "1");
}

#[test]
fn a_tpe_search_runs_nested_trials_and_tags_the_best() {
    let mut store = Store::open_in_memory().unwrap();
    // Numeric data keeps 36 fits quick in a debug build.
    let mut base = TrainSpec::new(
        "course",
        data::builtin("diabetes", 0, 0).unwrap(),
        lasso("1.0"),
    );
    base.run_name = Some("tpe".into());
    let space = tuning::parse_space(&json!({"alpha": ["loguniform", -7, 0]})).unwrap();
    let search = SearchSpec {
        base,
        space,
        algo: Algo::Tpe {
            startup: 5,
            gamma: 0.25,
            candidates: 24,
        },
        max_evals: 12,
        seed: 3,
    };
    let mut seen = Vec::new();
    let outcome = tuning::search(&mut store, &search, &mut |done, total| {
        seen.push((done, total));
        true
    })
    .unwrap();
    assert_eq!(outcome.trials.len(), 12);
    assert_eq!(seen.last(), Some(&(12, 12)));
    let best = outcome.best.clone().unwrap();
    let run = store.get_run(&best.run_id).unwrap();
    assert_eq!(run.tag("best_trial"), Some("true"));
    assert_eq!(
        run.tag("mlflow.parentRunId"),
        Some(outcome.parent_run_id.as_str())
    );
    let parent = store.get_run(&outcome.parent_run_id).unwrap();
    assert_eq!(parent.tag("best_run_id"), Some(best.run_id.as_str()));
    // The same seed gives the same trials.
    let again = tuning::search(&mut store, &search, &mut |_, _| true).unwrap();
    let params = |o: &tuning::SearchOutcome| {
        o.trials
            .iter()
            .map(|t| t.params.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(params(&again), params(&outcome));
    // Cancelling after three trials stops the search and marks the parent KILLED.
    let stopped = tuning::search(&mut store, &search, &mut |done, _| done < 3).unwrap();
    assert!(stopped.cancelled);
    assert_eq!(stopped.trials.len(), 3);
    assert_eq!(
        store.get_run(&stopped.parent_run_id).unwrap().info.status,
        "KILLED"
    );
}

#[test]
fn bad_requests_are_refused_with_a_clear_message() {
    assert!(Estimator::new("SVC")
        .unwrap_err()
        .contains("unknown model 'SVC'"));
    assert!(Estimator::new("Lasso")
        .unwrap()
        .set("alpha", "abc")
        .unwrap_err()
        .contains("alpha=abc is not a number"));
    assert!(Estimator::new("Lasso")
        .unwrap()
        .set("depth", "3")
        .unwrap_err()
        .contains("Lasso has no parameter 'depth'"));
    let mut store = Store::open_in_memory().unwrap();
    let s = TrainSpec::new(
        "c",
        data::builtin("diabetes", 0, 0).unwrap(),
        Estimator::new("LogisticRegression").unwrap(),
    );
    let e = train::train(&mut store, &s).unwrap_err();
    assert!(e.message.contains("classifier"), "{}", e.message);
    let mut frame = Frame::default();
    frame.push("x", Column::Numeric(vec![1.0]));
    let mut s = spec("m", lasso("0.1"));
    s.log_model = true;
    let t = train::train(&mut store, &s).unwrap();
    let loaded = model::load(&store, &t.model_uri.unwrap()).unwrap();
    assert!(loaded.predict(&frame).unwrap_err().contains("no column"));
}

#[test]
fn monitoring_sees_data_drift_in_the_inputs_and_concept_drift_in_the_error() {
    use flowbook::ml::data::Drift;
    use flowbook::ml::monitor;
    let mut store = Store::open_in_memory().unwrap();
    let mut s = TrainSpec::new(
        "monitoring",
        data::linear(400, 1, Drift::None),
        Estimator::new("LinearRegression").unwrap(),
    );
    s.log_model = true;
    let t = train::train(&mut store, &s).unwrap();
    call(
        &mut store,
        "POST",
        "registered-models/create",
        json!({"name": "linear"}),
    );
    call(
        &mut store,
        "POST",
        "model-versions/create",
        json!({"name": "linear", "source": t.model_uri.unwrap(), "run_id": t.run_id}),
    );
    call(
        &mut store,
        "POST",
        "registered-models/alias",
        json!({"name": "linear", "alias": "champion", "version": "1"}),
    );
    let reference = data::linear(300, 2, Drift::None);
    let same = monitor::evaluate(
        &mut store,
        "monitoring",
        "models:/linear@champion",
        &reference,
        &data::linear(300, 3, Drift::None),
    )
    .unwrap();
    assert!(
        same.drift["x"].ks_pvalue > 0.01,
        "no drift: {:?}",
        same.drift["x"]
    );
    assert!(same.error_shift.abs() < 0.3);
    let moved = monitor::evaluate(
        &mut store,
        "monitoring",
        "models:/linear@champion",
        &reference,
        &data::linear(300, 3, Drift::Data),
    )
    .unwrap();
    assert!(
        moved.drift["x"].ks_pvalue < 1e-6 && moved.drift["x"].psi > 0.25,
        "data drift: {:?}",
        moved.drift["x"]
    );
    let concept = monitor::evaluate(
        &mut store,
        "monitoring",
        "models:/linear@champion",
        &reference,
        &data::linear(300, 3, Drift::Concept),
    )
    .unwrap();
    assert!(
        concept.drift["x"].ks_pvalue > 0.01,
        "the inputs did not move"
    );
    assert!(
        concept.error_shift > 8.0,
        "the error moved by about 10: {}",
        concept.error_shift
    );
    let run = store.get_run(&concept.run_id).unwrap();
    assert!(run.metric("error_shift").unwrap() > 8.0 && run.metric("drift_ks_pvalue_x").is_some());
    // The Monitor page's charts: distributions over shared bins, each summing to one; the
    // residuals of the concept-drifted data sit about 10 higher.
    let mean = |h: &monitor::Histogram, of: &[f64]| -> f64 {
        of.iter()
            .enumerate()
            .map(|(i, f)| f * (h.edges[i] + h.edges[i + 1]) / 2.0)
            .sum()
    };
    let residuals = &concept.histograms[monitor::RESIDUALS];
    assert_eq!(residuals.edges.len(), residuals.reference.len() + 1);
    assert!((residuals.current.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    let shift = mean(residuals, &residuals.current) - mean(residuals, &residuals.reference);
    assert!((8.0..12.0).contains(&shift), "residuals moved by {shift}");
    let x = &moved.histograms["x"];
    assert!(mean(x, &x.current) - mean(x, &x.reference) > 1.0, "x moved");
}

#[test]
fn a_model_logged_with_a_lookup_spec_joins_features_by_key_at_prediction() {
    let mut store = Store::open_in_memory().unwrap();
    call(
        &mut store,
        "POST",
        "flowbook/feature-tables/create",
        json!({"builtin": "taxi_zone_features"}),
    );
    let table = call(
        &mut store,
        "GET",
        "flowbook/feature-tables/get",
        json!({"name": "taxi_zone_features"}),
    );
    assert_eq!(table["feature_table"]["primary_key"], "PULocationID");
    assert!(table["feature_table"]["num_rows"].as_u64().unwrap() > 10);

    // The labels hold keys, a distance and the target; the zone features come from the table.
    let mut trips = data::builtin("taxi-trips", 600, 7).unwrap();
    trips.features = trips
        .features
        .without(&["DOLocationID".into(), "PU_DO".into()]);
    let mut s = TrainSpec::new(
        "features",
        trips,
        Estimator::new("LinearRegression").unwrap(),
    );
    s.log_model = true;
    s.lookups = vec![flowbook::ml::features::FeatureLookup {
        table_name: "taxi_zone_features".into(),
        lookup_key: "PULocationID".into(),
    }];
    let trained = train::train(&mut store, &s).unwrap();
    let uri = trained.model_uri.unwrap();
    // The key selects rows; the model's inputs are the distance and the looked-up features.
    assert_eq!(
        trained.saved.preprocessor.input_names(),
        [
            "trip_distance",
            "pu_downtown",
            "pu_busy",
            "pu_avg_speed_mph"
        ]
    );
    let saved = model::load(&store, &uri).unwrap();
    assert_eq!(saved.lookups, s.lookups);
    let key = store.resolve_model_artifact_key(&uri).unwrap();
    let mlmodel =
        String::from_utf8(store.get_artifact(&format!("{key}/MLmodel")).unwrap()).unwrap();
    assert!(mlmodel.contains("feature_lookups"), "{mlmodel}");
    assert!(
        !mlmodel.contains("pu_downtown"),
        "the signature is the input, keys only: {mlmodel}"
    );

    // Same distance, a downtown zone against a fast one: the looked-up features make the difference.
    let out = call(
        &mut store,
        "POST",
        "flowbook/models/predict",
        json!({"model_uri": uri, "dataframe_split": {
            "columns": ["PULocationID", "trip_distance"],
            "data": [["74", 3.0], [7, 3.0]]}}),
    );
    let p: Vec<f64> = serde_json::from_value(out["predictions"].clone()).unwrap();
    assert_eq!(p.len(), 2);
    assert!(p[0] > p[1] + 0.5, "downtown is slower: {p:?}");

    let missing = api::call(
        &mut store,
        "POST",
        "flowbook/models/predict",
        json!({"model_uri": uri, "dataframe_split": {
            "columns": ["PULocationID", "trip_distance"], "data": [[7, 1.0], [999, 3.0]]}}),
    )
    .unwrap_err();
    assert_eq!(
        missing.message,
        "feature table 'taxi_zone_features' has no row with PULocationID = 999 (row 2 of the input)"
    );
    let no_key = api::call(
        &mut store,
        "POST",
        "flowbook/models/predict",
        json!({"model_uri": uri, "dataframe_split": {"columns": ["trip_distance"], "data": [[1.0]]}}),
    )
    .unwrap_err();
    assert!(
        no_key.message.contains("no column 'PULocationID'"),
        "{}",
        no_key.message
    );
}

#[test]
fn feature_tables_refuse_bad_definitions_and_keep_the_store_as_it_was() {
    let mut store = Store::open_in_memory().unwrap();
    let create = |store: &mut Store, body: Value| {
        api::call(store, "POST", "flowbook/feature-tables/create", body)
            .map(|_| ())
            .map_err(|e| e.message)
    };
    let table = |name: &str, key: &str, rows: Value| {
        json!({"name": name, "primary_key": key,
               "data": {"columns": ["zone", "speed"], "data": rows}})
    };
    assert_eq!(
        create(
            &mut store,
            table("zones", "zone", json!([[1, 10.0], [1, 12.0]]))
        ),
        Err("the feature table 'zones' names zone = 1 twice (rows 1 and 2)".into())
    );
    assert!(create(&mut store, table("zones", "id", json!([[1, 10.0]])))
        .unwrap_err()
        .contains("has no column 'id' for its primary key"));
    assert!(
        create(&mut store, table("bad name", "zone", json!([[1, 10.0]])))
            .unwrap_err()
            .contains("not a valid feature table name")
    );
    assert!(create(&mut store, table("zones", "zone", json!([[1]])))
        .unwrap_err()
        .contains("row 1 does not have 2 values"));
    let listed = call(&mut store, "GET", "flowbook/feature-tables/list", json!({}));
    assert_eq!(listed["feature_tables"], json!([]));
    create(
        &mut store,
        table("zones", "zone", json!([[1, 10.0], [2, 12.0]])),
    )
    .unwrap();
    assert!(
        create(&mut store, table("zones", "zone", json!([[1, 10.0]])))
            .unwrap_err()
            .contains("already exists")
    );
    let got = call(
        &mut store,
        "GET",
        "flowbook/feature-tables/get",
        json!({"name": "zones"}),
    );
    assert_eq!(
        got["feature_table"]["rows"],
        json!([[1.0, 10.0], [2.0, 12.0]])
    );
    // Training with a lookup on a table that does not exist names it.
    let mut s = spec("x", lasso("0.1"));
    s.lookups = vec![flowbook::ml::features::FeatureLookup {
        table_name: "nope".into(),
        lookup_key: "PULocationID".into(),
    }];
    assert_eq!(
        train::train(&mut store, &s).unwrap_err().message,
        "no feature table named 'nope'"
    );
}

#[test]
fn the_store_views_show_mlflow_tables_and_the_file_store_layout_of_the_learners_runs() {
    let mut store = Store::open_in_memory().unwrap();
    let mut s = spec("lasso", lasso("0.1"));
    s.explicit_params = vec![("alpha".into(), "0.1".into())];
    let trained = train::train(&mut store, &s).unwrap();
    let tables = call(
        &mut store,
        "GET",
        "flowbook/store/tables",
        json!({"table": "params", "limit": "5"}),
    );
    let names: Vec<&str> = tables["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in [
        "experiments",
        "runs",
        "params",
        "metrics",
        "latest_metrics",
        "tags",
    ] {
        assert!(names.contains(&t), "{t} in {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("flowbook_")));
    assert_eq!(
        tables["table"]["columns"],
        json!(["key", "value", "run_uuid"])
    );
    assert_eq!(
        tables["table"]["rows"],
        json!([["alpha", "0.1", trained.run_id]])
    );
    assert!(api::call(
        &mut store,
        "GET",
        "flowbook/store/tables",
        json!({"table": "x; DROP TABLE runs"})
    )
    .unwrap_err()
    .message
    .contains("no table"));
    let layout = call(
        &mut store,
        "GET",
        "flowbook/store/file-layout",
        json!({"experiment_id": trained.experiment_id}),
    );
    let files = layout["files"].as_array().unwrap();
    let param = files
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{}/params/alpha", trained.run_id))
        })
        .expect("the param file");
    assert_eq!(param["text"], "0.1");
    // Lesson progress is kept in the store and a lesson can be reset.
    call(
        &mut store,
        "POST",
        "flowbook/lessons/progress/set",
        json!({"lesson": "why-track", "cell": 1, "result": {"run_id": "r"}}),
    );
    call(
        &mut store,
        "POST",
        "flowbook/lessons/progress/set",
        json!({"lesson": "tuning", "cell": 0, "result": {}}),
    );
    assert_eq!(
        call(&mut store, "GET", "flowbook/lessons/progress", json!({}))["cells"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    call(
        &mut store,
        "POST",
        "flowbook/lessons/reset",
        json!({"lesson": "why-track"}),
    );
    let left = call(&mut store, "GET", "flowbook/lessons/progress", json!({}));
    assert_eq!(left["cells"][0]["lesson"], "tuning");
    assert_eq!(left["cells"].as_array().unwrap().len(), 1);
}
