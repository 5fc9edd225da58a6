//! Bundles in and out, natively: real MLflow's bundles (tests/fixtures) imported with every fact of
//! their expected.json, exported in both formats and imported back with the same facts, merged
//! into a store that holds data, and a corpus of bad bundles refused with the store unchanged.
#![cfg(not(target_arch = "wasm32"))]

use flowbook::api;
use flowbook::bundle::{self, Format, Source};
use flowbook::tracking::Store;
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

const FIXTURES: [&str; 3] = [
    "mlflow3-sqlite-course",
    "mlflow3-filestore-course",
    "mlflow2-filestore-course",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(format!("{name}.zip"))).unwrap()
}

fn expected(zip: &[u8]) -> Value {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut text = String::new();
    archive
        .by_name("expected.json")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn call(store: &mut Store, method: &str, endpoint: &str, body: Value) -> Value {
    api::call(store, method, endpoint, body)
        .unwrap_or_else(|e| panic!("{method} {endpoint}: {}", e.message))
}

fn import(store: &mut Store, zip: &[u8]) -> bundle::ImportSummary {
    bundle::import_zip(store, zip, &mut |_, _| {}).unwrap_or_else(|e| panic!("{}", e.message))
}

fn pairs(list: &Value) -> Value {
    let mut map = serde_json::Map::new();
    for kv in list.as_array().into_iter().flatten() {
        map.insert(kv["key"].as_str().unwrap().to_string(), kv["value"].clone());
    }
    Value::Object(map)
}

/// Every fact of a fixture's expected.json, checked through the engine's REST API.
fn assert_expected_facts(store: &mut Store, expected: &Value, context: &str) {
    let name = expected["experiment"].as_str().unwrap();
    let exp = call(
        store,
        "GET",
        "experiments/get-by-name",
        json!({"experiment_name": name}),
    );
    let exp_id = exp["experiment"]["experiment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let all = call(
        store,
        "POST",
        "runs/search",
        json!({"experiment_ids": [exp_id], "run_view_type": "ALL", "max_results": 1000}),
    );
    let active = call(
        store,
        "POST",
        "runs/search",
        json!({"experiment_ids": [exp_id], "max_results": 1000}),
    );
    let counts = &expected["counts"];
    assert_eq!(
        all["runs"].as_array().unwrap().len() as u64,
        counts["all_runs_in_experiment"].as_u64().unwrap(),
        "{context}: all runs"
    );
    assert_eq!(
        active["runs"].as_array().unwrap().len() as u64,
        counts["active_runs_in_experiment"].as_u64().unwrap(),
        "{context}: active runs"
    );
    for (run_name, facts) in expected["runs"].as_object().unwrap() {
        let run_id = facts["run_id"].as_str().unwrap();
        let run = call(store, "GET", "runs/get", json!({"run_id": run_id}));
        let run = &run["run"];
        assert_eq!(
            run["info"]["run_name"], *run_name,
            "{context}: {run_id} name"
        );
        assert_eq!(
            run["info"]["status"], facts["status"],
            "{context}: {run_name} status"
        );
        let params = pairs(&run["data"]["params"]);
        for (k, v) in facts["params"].as_object().unwrap() {
            assert_eq!(params[k], *v, "{context}: {run_name} param {k}");
        }
        let tags = pairs(&run["data"]["tags"]);
        for (k, v) in facts["tags"].as_object().unwrap() {
            assert_eq!(tags[k], *v, "{context}: {run_name} tag {k}");
        }
        let metrics = pairs(&run["data"]["metrics"]);
        for (k, v) in facts["metrics"].as_object().unwrap() {
            match v.as_f64() {
                Some(v) => assert_eq!(
                    metrics[k].as_f64(),
                    Some(v),
                    "{context}: {run_name} metric {k}"
                ),
                None => assert_eq!(
                    metrics[k],
                    json!("NaN"),
                    "{context}: {run_name} metric {k} is NaN"
                ),
            }
        }
    }
    let deleted = call(
        store,
        "GET",
        "runs/get",
        json!({"run_id": expected["deleted_run"]}),
    );
    assert_eq!(
        deleted["run"]["info"]["lifecycle_stage"], "deleted",
        "{context}"
    );
    let gone = call(
        store,
        "GET",
        "experiments/get-by-name",
        json!({"experiment_name": expected["deleted_experiment"]}),
    );
    assert_eq!(
        gone["experiment"]["lifecycle_stage"], "deleted",
        "{context}"
    );
    for (model, facts) in expected["registered_models"].as_object().unwrap() {
        let m = call(
            store,
            "GET",
            "registered-models/get",
            json!({"name": model}),
        );
        let m = &m["registered_model"];
        assert_eq!(m["description"], facts["description"], "{context}: {model}");
        assert_eq!(pairs(&m["tags"]), facts["tags"], "{context}: {model} tags");
        let aliases: serde_json::Map<String, Value> = m["aliases"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    a["alias"].as_str().unwrap().to_string(),
                    a["version"].clone(),
                )
            })
            .collect();
        // expected.json writes alias versions as numbers or strings, by the writer's MLflow version.
        let want: serde_json::Map<String, Value> = facts["aliases"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), json!(v.to_string().trim_matches('"'))))
            .collect();
        assert_eq!(aliases, want, "{context}: {model} aliases");
        for (version, v) in facts["versions"].as_object().unwrap() {
            let got = call(
                store,
                "GET",
                "model-versions/get",
                json!({"name": model, "version": version}),
            );
            let got = &got["model_version"];
            assert_eq!(got["run_id"], v["run_id"], "{context}: {model} v{version}");
            assert_eq!(
                got["current_stage"], v["stage"],
                "{context}: {model} v{version}"
            );
            assert_eq!(
                got.get("description").cloned().unwrap_or(Value::Null),
                if v["description"].is_null() {
                    Value::Null
                } else {
                    v["description"].clone()
                },
                "{context}: {model} v{version} description"
            );
            assert_eq!(
                pairs(&got["tags"]),
                v["tags"],
                "{context}: {model} v{version} tags"
            );
        }
    }
}

fn first_artifact_text(store: &mut Store, run_id: &str, path: &str) -> String {
    let run = call(store, "GET", "runs/get", json!({"run_id": run_id}));
    let uri = run["run"]["info"]["artifact_uri"]
        .as_str()
        .unwrap()
        .to_string();
    let key = flowbook::tracking::artifacts::key_of_uri(&format!("{uri}/{path}")).unwrap();
    String::from_utf8(store.get_artifact(&key).unwrap()).unwrap()
}

#[test]
fn every_real_mlflow_bundle_imports_with_every_fact() {
    for name in FIXTURES {
        let zip = fixture(name);
        let mut store = Store::open_in_memory().unwrap();
        let summary = import(&mut store, &zip);
        assert!(
            summary.runs >= 10 && summary.artifacts > 5,
            "{name}: {summary}"
        );
        assert_expected_facts(&mut store, &expected(&zip), name);
    }
}

#[test]
fn exports_in_both_formats_import_back_with_every_fact_and_artifact() {
    for name in FIXTURES {
        let zip = fixture(name);
        let facts = expected(&zip);
        let mut store = Store::open_in_memory().unwrap();
        import(&mut store, &zip);
        let note_run = facts["runs"]["artifacts-and-notes"]["run_id"]
            .as_str()
            .unwrap()
            .to_string();
        let readme = first_artifact_text(&mut store, &note_run, "notes/readme.txt");
        for format in [Format::Mlruns, Format::MlflowDb] {
            let (bytes, summary) = bundle::export_bytes(&store, format).unwrap();
            assert_eq!(summary.bytes, bytes.len());
            let mut back = Store::open_in_memory().unwrap();
            import(&mut back, &bytes);
            let context = format!("{name} → {format:?}");
            assert_expected_facts(&mut back, &facts, &context);
            assert_eq!(
                first_artifact_text(&mut back, &note_run, "notes/readme.txt"),
                readme,
                "{context}"
            );
            // Metric histories survive whole, not only the latest values.
            for (run_name, run) in facts["runs"].as_object().unwrap() {
                let id = run["run_id"].as_str().unwrap();
                for key in run["metrics"].as_object().unwrap().keys() {
                    let q = json!({"run_id": id, "metric_key": key});
                    let a = call(&mut store, "GET", "metrics/get-history", q.clone());
                    let b = call(&mut back, "GET", "metrics/get-history", q);
                    assert_eq!(a, b, "{context}: {run_name} {key} history");
                }
            }
        }
    }
}

#[test]
fn a_folder_imports_like_its_zip() {
    let zip = fixture("mlflow3-filestore-course");
    let dir = std::env::temp_dir().join(format!("flowbook-folder-{}", std::process::id()));
    zip::ZipArchive::new(std::io::Cursor::new(&zip))
        .unwrap()
        .extract(&dir)
        .unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let mut source = Source::folder(&dir).unwrap();
    bundle::import(&mut store, &mut source, &mut |_, _| {}).unwrap();
    assert_expected_facts(&mut store, &expected(&zip), "folder");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn importing_into_a_store_with_data_keeps_both_and_says_what_it_did() {
    let zip = fixture("mlflow3-filestore-course");
    let facts = expected(&zip);
    let mut store = Store::open_in_memory().unwrap();
    // The store's own work: an experiment that takes the bundle's id 1… and a model of the same name.
    let mine = store.create_experiment("mine", None, &[]).unwrap();
    let run = store
        .create_run(&mine, "me", None, Some("my-run"), &[])
        .unwrap();
    call(
        &mut store,
        "POST",
        "registered-models/create",
        json!({"name": "nyc-taxi-regressor", "description": "mine"}),
    );
    call(
        &mut store,
        "POST",
        "model-versions/create",
        json!({"name": "nyc-taxi-regressor", "source": format!("runs:/{}/model", run.info.run_id), "run_id": run.info.run_id}),
    );
    call(
        &mut store,
        "POST",
        "registered-models/alias",
        json!({"name": "nyc-taxi-regressor", "alias": "champion", "version": "1"}),
    );
    let first = import(&mut store, &zip);
    assert_eq!(first.runs, 10);
    assert!(
        first
            .notes
            .iter()
            .any(|n| n.contains("'nyc-taxi-regressor' already exists here")),
        "{:?}",
        first.notes
    );
    assert!(
        first.notes.iter().any(|n| n.contains("is version 3 here")),
        "bundle versions are numbered after the store's: {:?}",
        first.notes
    );
    assert!(
        first.notes.iter().any(|n| n.contains("alias 'champion'")),
        "{:?}",
        first.notes
    );
    // The store's own run and alias are untouched; the bundle's runs all arrived.
    assert_eq!(
        store.get_run(&run.info.run_id).unwrap().info.run_name,
        "my-run"
    );
    let model = call(
        &mut store,
        "GET",
        "registered-models/get",
        json!({"name": "nyc-taxi-regressor"}),
    );
    assert_eq!(model["registered_model"]["description"], "mine");
    assert_eq!(model["registered_model"]["aliases"][0]["version"], "1");
    let lasso = facts["runs"]["lasso-0.1"]["run_id"].as_str().unwrap();
    assert_eq!(store.get_run(lasso).unwrap().info.run_name, "lasso-0.1");
    // The same bundle again changes nothing.
    let second = import(&mut store, &zip);
    assert_eq!(
        (second.runs, second.experiments, second.model_versions),
        (0, 0, 0)
    );
    assert_eq!(
        second.skipped,
        10 + 3,
        "ten runs and three logged models were already there"
    );
    let versions = call(
        &mut store,
        "GET",
        "model-versions/search",
        json!({"filter": "name='nyc-taxi-regressor'"}),
    );
    assert_eq!(versions["model_versions"].as_array().unwrap().len(), 3);
    // An mlflow.db bundle merges by the same rule.
    let merged = import(&mut store, &fixture("mlflow3-sqlite-course"));
    assert!(merged.runs >= 10, "{merged}");
    assert!(
        merged
            .notes
            .iter()
            .any(|n| n.contains("experiment 'nyc-taxi-experiment' already exists")),
        "{:?}",
        merged.notes
    );
}

#[test]
fn the_bad_bundle_corpus_is_refused_and_the_store_is_unchanged() {
    let dir = fixtures().join("bad");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    import(&mut store, &fixture("mlflow3-filestore-course"));
    let snapshot = |s: &mut Store| {
        s.connection_mut()
            .serialize(rusqlite::MAIN_DB)
            .unwrap()
            .to_vec()
    };
    let before = snapshot(&mut store);
    let cases = expected.as_object().unwrap();
    assert!(cases.len() >= 15);
    for (file, message) in cases {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let err = bundle::import_zip(&mut store, &bytes, &mut |_, _| {})
            .err()
            .unwrap_or_else(|| panic!("{file} was accepted"));
        let message = message.as_str().unwrap();
        assert!(
            err.message.contains(message),
            "{file}: expected '{message}' in '{}'",
            err.message
        );
        println!("{file}: {}", err.message);
        assert!(snapshot(&mut store) == before, "{file} changed the store");
    }
}

#[test]
fn progress_is_reported_up_to_the_total() {
    let zip = fixture("mlflow3-filestore-course");
    let mut store = Store::open_in_memory().unwrap();
    let mut seen = Vec::new();
    bundle::import_zip(&mut store, &zip, &mut |done, total| {
        seen.push((done, total))
    })
    .unwrap();
    assert!(seen.len() > 10);
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress never goes back"
    );
    let (done, total) = *seen.last().unwrap();
    assert_eq!(done, total);
}

#[test]
fn a_database_bundle_opens_into_a_store_on_disk() {
    // A store file is in WAL mode with its own page size; the bundle's database is taken whole.
    let dir = std::env::temp_dir().join(format!("flowbook-disk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let zip = fixture("mlflow3-sqlite-course");
    {
        let mut store = Store::open(&dir.join("mlflow.db")).unwrap();
        import(&mut store, &zip);
    }
    let mut reopened = Store::open(&dir.join("mlflow.db")).unwrap();
    assert_expected_facts(&mut reopened, &expected(&zip), "on disk");
    std::fs::remove_dir_all(&dir).unwrap();
}
