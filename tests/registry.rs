#![cfg(not(target_arch = "wasm32"))]
//! Native tests of the model registry through the engine's API (`flowbook::api::call` and, for
//! query strings, `flowbook::api::handle`): every operation with MLflow 3.17.2's answers and
//! errors, model URI resolution in every form, and the course's model-selection workflow.

use flowbook::api::{self, ApiError, ErrorCode, Request};
use flowbook::registry::{self, ModelUri};
use flowbook::tracking::artifacts::key_of_uri;
use flowbook::tracking::Store;
use serde_json::{json, Value};

fn store() -> Store {
    Store::open_in_memory().expect("in-memory store")
}

fn ok(s: &mut Store, method: &str, endpoint: &str, body: Value) -> Value {
    api::call(s, method, endpoint, body.clone())
        .unwrap_or_else(|e| panic!("{method} {endpoint} {body}: {e}"))
}

fn err(s: &mut Store, method: &str, endpoint: &str, body: Value) -> ApiError {
    match api::call(s, method, endpoint, body.clone()) {
        Ok(v) => panic!("{method} {endpoint} {body} should fail, answered {v}"),
        Err(e) => e,
    }
}

fn assert_err(e: ApiError, code: ErrorCode, message: &str) {
    assert_eq!((e.error_code, e.message.as_str()), (code, message));
}

/// A run with a model's files under `model/` of its artifacts; returns (run id, artifact root).
fn run_with_model(s: &mut Store, rmse: f64) -> (String, String) {
    let run = ok(
        s,
        "POST",
        "runs/create",
        json!({"experiment_id": "0", "run_name": format!("run-{rmse}")}),
    );
    let id = run["run"]["info"]["run_id"].as_str().unwrap().to_string();
    let root = run["run"]["info"]["artifact_uri"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        s,
        "POST",
        "runs/log-metric",
        json!({"run_id": id, "key": "rmse", "value": rmse, "timestamp": 1, "step": 0}),
    );
    let key = key_of_uri(&root).unwrap();
    s.put_artifact(&format!("{key}/model/MLmodel"), b"flavors: {}")
        .unwrap();
    (id, root)
}

fn create_model(s: &mut Store, name: &str) -> Value {
    ok(s, "POST", "registered-models/create", json!({"name": name}))["registered_model"].clone()
}

fn create_version(s: &mut Store, name: &str, run_id: &str) -> Value {
    ok(
        s,
        "POST",
        "model-versions/create",
        json!({"name": name, "source": format!("runs:/{run_id}/model"), "run_id": run_id}),
    )["model_version"]
        .clone()
}

fn get_version(s: &mut Store, name: &str, version: &str) -> Value {
    ok(
        s,
        "GET",
        "model-versions/get",
        json!({"name": name, "version": version}),
    )["model_version"]
        .clone()
}

fn get_model(s: &mut Store, name: &str) -> Value {
    ok(s, "GET", "registered-models/get", json!({"name": name}))["registered_model"].clone()
}

fn versions_of(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|v| v["version"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn pause() {
    std::thread::sleep(std::time::Duration::from_millis(3));
}

#[test]
fn registered_models_are_created_read_updated_and_answer_mlflows_shapes() {
    let mut s = store();
    let m = ok(
        &mut s,
        "POST",
        "registered-models/create",
        json!({"name": "taxi", "description": "NYC taxi", "tags": [{"key": "team", "value": "a"}, {"key": "team", "value": "b"}]}),
    )["registered_model"]
        .clone();
    assert_eq!(m["name"], "taxi");
    assert_eq!(m["description"], "NYC taxi");
    assert_eq!(
        m["tags"],
        json!([{"key": "team", "value": "b"}]),
        "one tag per key, the last value wins"
    );
    assert_eq!(m["creation_timestamp"], m["last_updated_timestamp"]);
    assert!(m.get("latest_versions").is_none() && m.get("aliases").is_none());

    let plain = create_model(&mut s, "plain");
    assert!(
        plain.get("description").is_none(),
        "an empty description is omitted"
    );
    assert!(plain.get("tags").is_none());

    assert_err(
        err(
            &mut s,
            "POST",
            "registered-models/create",
            json!({"name": "taxi"}),
        ),
        ErrorCode::ResourceAlreadyExists,
        "Registered Model (name=taxi) already exists.",
    );
    for (body, message) in [
        (json!({}), "Missing value for required parameter 'name'. See the API docs for more information about request parameters."),
        (json!({"name": ""}), "Missing value for required parameter 'name'. See the API docs for more information about request parameters."),
        (json!({"name": "  "}), "Missing value for required parameter 'name'."),
        (json!({"name": "a/b"}), "Invalid model name 'a/b'. Names cannot contain '/' or ':'."),
        (json!({"name": "x:y"}), "Invalid model name 'x:y'. Names cannot contain '/' or ':'."),
        (json!({"name": ".."}), "Invalid value \"..\" for parameter 'name' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '..'"),
        (json!({"name": "t", "tags": [{"key": "a/../b", "value": "v"}]}), "Invalid value \"a/../b\" for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to 'b'"),
        (json!({"name": "t", "tags": [{"key": "k".repeat(251), "value": "v"}]}), "'key' exceeds the maximum length of 250 characters"),
    ] {
        assert_err(err(&mut s, "POST", "registered-models/create", body), ErrorCode::InvalidParameterValue, message);
    }
    assert_err(
        err(
            &mut s,
            "GET",
            "registered-models/get",
            json!({"name": "nope"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Registered Model with name=nope not found",
    );
    assert_eq!(get_model(&mut s, "taxi"), m);

    pause();
    let updated = ok(
        &mut s,
        "PATCH",
        "registered-models/update",
        json!({"name": "taxi", "description": "new"}),
    )["registered_model"]
        .clone();
    assert_eq!(updated["description"], "new");
    assert!(updated["last_updated_timestamp"].as_i64() > m["last_updated_timestamp"].as_i64());
    let cleared = ok(
        &mut s,
        "PATCH",
        "registered-models/update",
        json!({"name": "taxi"}),
    );
    assert!(cleared["registered_model"].get("description").is_none());
    assert_eq!(
        err(
            &mut s,
            "PATCH",
            "registered-models/update",
            json!({"name": "nope", "description": "x"})
        )
        .error_code,
        ErrorCode::ResourceDoesNotExist
    );
    assert_eq!(
        err(
            &mut s,
            "POST",
            "registered-models/update",
            json!({"name": "taxi"})
        )
        .error_code,
        ErrorCode::EndpointNotFound,
        "MLflow's methods only"
    );
}

#[test]
fn tags_are_set_in_place_and_deleted_without_error_when_absent() {
    let mut s = store();
    let (run, _) = run_with_model(&mut s, 1.0);
    create_model(&mut s, "m");
    create_version(&mut s, "m", &run);
    for k in ["zk", "ak", "mk"] {
        ok(
            &mut s,
            "POST",
            "registered-models/set-tag",
            json!({"name": "m", "key": k, "value": "1"}),
        );
        ok(
            &mut s,
            "POST",
            "model-versions/set-tag",
            json!({"name": "m", "version": "1", "key": k, "value": "1"}),
        );
    }
    ok(
        &mut s,
        "POST",
        "registered-models/set-tag",
        json!({"name": "m", "key": "zk", "value": "2"}),
    );
    ok(
        &mut s,
        "POST",
        "model-versions/set-tag",
        json!({"name": "m", "version": "1", "key": "zk", "value": "2"}),
    );
    ok(
        &mut s,
        "POST",
        "registered-models/set-tag",
        json!({"name": "m", "key": "novalue"}),
    );
    let expected = json!([{"key": "zk", "value": "2"}, {"key": "ak", "value": "1"}, {"key": "mk", "value": "1"}]);
    assert_eq!(
        get_version(&mut s, "m", "1")["tags"],
        expected,
        "set in place, in the order first set"
    );
    let mut with_empty = expected.as_array().unwrap().clone();
    with_empty.push(json!({"key": "novalue", "value": ""}));
    assert_eq!(get_model(&mut s, "m")["tags"], Value::Array(with_empty));

    ok(
        &mut s,
        "DELETE",
        "registered-models/delete-tag",
        json!({"name": "m", "key": "ak"}),
    );
    ok(
        &mut s,
        "DELETE",
        "registered-models/delete-tag",
        json!({"name": "m", "key": "ak"}),
    );
    ok(
        &mut s,
        "DELETE",
        "model-versions/delete-tag",
        json!({"name": "m", "version": "1", "key": "ak"}),
    );
    ok(
        &mut s,
        "DELETE",
        "model-versions/delete-tag",
        json!({"name": "m", "version": "1", "key": "ak"}),
    );
    assert!(get_model(&mut s, "m")["tags"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["key"] != "ak"));
    assert_eq!(
        get_version(&mut s, "m", "1")["tags"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    assert_err(
        err(
            &mut s,
            "POST",
            "registered-models/set-tag",
            json!({"name": "nope", "key": "k", "value": "v"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Registered Model with name=nope not found",
    );
    assert_err(
        err(
            &mut s,
            "DELETE",
            "registered-models/delete-tag",
            json!({"name": "nope", "key": "k"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Registered Model with name=nope not found",
    );
    assert_err(
        err(
            &mut s,
            "POST",
            "model-versions/set-tag",
            json!({"name": "m", "version": "9", "key": "k", "value": "v"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Model Version (name=m, version=9) not found",
    );
    assert_err(
        err(&mut s, "POST", "registered-models/set-tag", json!({"name": "m", "key": "../x", "value": "v"})),
        ErrorCode::InvalidParameterValue,
        "Invalid value \"../x\" for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '../x'",
    );
    assert_err(
        err(&mut s, "POST", "model-versions/set-tag", json!({"name": "m", "version": "1", "value": "v"})),
        ErrorCode::InvalidParameterValue,
        "Missing value for required parameter 'key'. See the API docs for more information about request parameters.",
    );
    assert_err(
        err(
            &mut s,
            "POST",
            "model-versions/set-tag",
            json!({"name": "m", "version": "1", "key": "k", "value": "v".repeat(100_001)}),
        ),
        ErrorCode::InvalidParameterValue,
        "'value' exceeds the maximum length of 100000 characters",
    );
}

#[test]
fn versions_are_numbered_past_every_version_ever_made() {
    let mut s = store();
    let (run, root) = run_with_model(&mut s, 1.0);
    let model = create_model(&mut s, "m");
    pause();
    let v1 = create_version(&mut s, "m", &run);
    assert_eq!(v1["version"], "1");
    assert_eq!(v1["current_stage"], "None");
    assert_eq!(v1["status"], "READY");
    assert_eq!(
        v1["description"], "",
        "MLflow answers the request's empty description"
    );
    assert_eq!(v1["run_link"], "");
    assert_eq!(v1["run_id"], run.as_str());
    assert_eq!(v1["source"], format!("runs:/{run}/model"));
    assert!(v1.get("aliases").is_none() && v1.get("user_id").is_none());
    let after = get_model(&mut s, "m");
    assert!(after["last_updated_timestamp"].as_i64() > model["last_updated_timestamp"].as_i64());

    let v2 = ok(
        &mut s,
        "POST",
        "model-versions/create",
        json!({"name": "m", "source": format!("{root}/model"), "run_id": run, "description": "d",
               "run_link": "http://x", "tags": [{"key": "k", "value": "v"}]}),
    )["model_version"]
        .clone();
    assert_eq!(
        (v2["version"].as_str(), v2["description"].as_str()),
        (Some("2"), Some("d"))
    );
    assert_eq!(v2["tags"], json!([{"key": "k", "value": "v"}]));
    let v3 = ok(
        &mut s,
        "POST",
        "model-versions/create",
        json!({"name": "m", "source": "s3://bucket/model"}),
    )["model_version"]
        .clone();
    assert_eq!(
        v3["run_id"], "",
        "no run: MLflow stores the request's empty run id"
    );

    ok(
        &mut s,
        "DELETE",
        "model-versions/delete",
        json!({"name": "m", "version": "3"}),
    );
    assert_err(
        err(
            &mut s,
            "DELETE",
            "model-versions/delete",
            json!({"name": "m", "version": "3"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Model Version (name=m, version=3) not found",
    );
    assert_eq!(
        create_version(&mut s, "m", &run)["version"],
        "4",
        "a deleted number is never reused"
    );
    let row: (String, String, String, Option<String>) = s
        .connection()
        .query_row(
            "SELECT current_stage, source, run_id, description FROM model_versions WHERE name = 'm' AND version = 3",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "Deleted_Internal".into(),
            "REDACTED-SOURCE-PATH".into(),
            "REDACTED-RUN-ID".into(),
            None
        ),
        "MLflow keeps a deleted version's row, redacted"
    );

    pause();
    let upd = ok(
        &mut s,
        "PATCH",
        "model-versions/update",
        json!({"name": "m", "version": "1", "description": "better"}),
    )["model_version"]
        .clone();
    assert_eq!(upd["description"], "better");
    assert!(upd["last_updated_timestamp"].as_i64() > v1["last_updated_timestamp"].as_i64());
    let upd = ok(
        &mut s,
        "PATCH",
        "model-versions/update",
        json!({"name": "m", "version": 1}),
    )["model_version"]
        .clone();
    assert!(
        upd.get("description").is_none(),
        "no description in the request clears it"
    );

    for (body, code, message) in [
        (json!({"name": "m", "version": "42"}), ErrorCode::ResourceDoesNotExist, "Model Version (name=m, version=42) not found"),
        (json!({"name": "zz", "version": "1"}), ErrorCode::ResourceDoesNotExist, "Model Version (name=zz, version=1) not found"),
        (json!({"name": "m", "version": "abc"}), ErrorCode::InvalidParameterValue, "Parameter 'version' must be an integer, got 'abc'."),
        (json!({"name": "m"}), ErrorCode::InvalidParameterValue, "Missing value for required parameter 'version'. See the API docs for more information about request parameters."),
    ] {
        assert_err(err(&mut s, "GET", "model-versions/get", body), code, message);
    }
    assert_err(
        err(
            &mut s,
            "POST",
            "model-versions/create",
            json!({"name": "zz", "source": format!("runs:/{run}/model"), "run_id": run}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Registered Model with name=zz not found",
    );
    assert_err(
        err(&mut s, "POST", "model-versions/create", json!({"name": "m"})),
        ErrorCode::InvalidParameterValue,
        "Missing value for required parameter 'source'. See the API docs for more information about request parameters.",
    );
}

#[test]
fn version_sources_are_checked_as_mlflows_server_checks_them() {
    let mut s = store();
    let (run, root) = run_with_model(&mut s, 1.0);
    let (other, _) = run_with_model(&mut s, 2.0);
    create_model(&mut s, "m");
    let invalid = |source: &str, field: &str| {
        format!("Invalid model version source: '{source}'. The {field} request parameter must identify the resource that contains the source.")
    };
    let art = format!("{root}/model");
    for (body, message) in [
        (json!({"name": "m", "source": art}), invalid(&art, "run_id")),
        (json!({"name": "m", "source": art, "run_id": other}), invalid(&art, "run_id")),
        (json!({"name": "m", "source": format!("runs:/{run}/model")}), invalid(&format!("runs:/{run}/model"), "run_id")),
        (json!({"name": "m", "source": "relative/path"}), "Invalid model version source: 'relative/path'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.".to_string()),
        (json!({"name": "m", "source": "mlflow-artifacts:/0/x/../y", "run_id": run}), "Invalid model version source: 'mlflow-artifacts:/0/x/../y'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.".to_string()),
        (json!({"name": "m", "source": "http://example.com/x"}), "'source' cannot use the 'http' scheme: the 'http' scheme addresses a host other than the tracking server's configured artifact storage, so the server would connect to the host named in the URI. Set the MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the server to allow it.".to_string()),
        (json!({"name": "m", "source": "models://host/m/1"}), "Invalid model version source: 'models://host/m/1'. Registered model sources must use the active model registry.".to_string()),
        (json!({"name": "m", "source": "models:/a/b/c"}), invalid("models:/a/b/c", "model_id")),
    ] {
        assert_err(err(&mut s, "POST", "model-versions/create", body), ErrorCode::InvalidParameterValue, &message);
    }
    // A run id the store does not know is fine with a runs:/ source naming it (as in MLflow).
    let ghost = "0".repeat(32);
    let v = ok(
        &mut s,
        "POST",
        "model-versions/create",
        json!({"name": "m", "source": format!("runs:/{ghost}/model"), "run_id": ghost}),
    );
    assert_eq!(v["model_version"]["version"], "1");
    assert!(
        s.connection()
            .query_row("SELECT count(*) FROM model_versions", [], |r| r
                .get::<_, i64>(0))
            .unwrap()
            == 1,
        "failed creations wrote nothing"
    );
}

#[test]
fn versions_register_other_versions_and_mlflow3_logged_models() {
    let mut s = store();
    let (run, _) = run_with_model(&mut s, 1.0);
    let lm = s
        .create_logged_model("0", Some("model"), None, Some(&run), &[], &[])
        .unwrap();
    let model_id = lm.info.model_id.clone();
    let location = lm.info.artifact_uri.clone();
    assert_eq!(
        location,
        format!("mlflow-artifacts:/0/models/{model_id}/artifacts")
    );
    create_model(&mut s, "sk");

    let v1 = ok(
        &mut s,
        "POST",
        "model-versions/create",
        json!({"name": "sk", "source": format!("models:/{model_id}"), "model_id": model_id}),
    )["model_version"]
        .clone();
    assert_eq!(v1["source"], format!("models:/{model_id}"));
    assert_eq!(v1["run_id"], run.as_str(), "the logged model's source run");
    assert!(
        v1.get("model_id").is_none(),
        "MLflow's SQL store does not answer model_id"
    );
    assert_eq!(
        ok(
            &mut s,
            "GET",
            "model-versions/get-download-uri",
            json!({"name": "sk", "version": "1"})
        ),
        json!({"artifact_uri": location})
    );
    let tag = |s: &Store| {
        s.get_logged_model(&model_id)
            .unwrap()
            .info
            .tags
            .into_iter()
            .find(|t| t.key == "mlflow.modelVersions")
            .map(|t| t.value)
    };
    assert_eq!(
        tag(&s).as_deref(),
        Some(r#"[{"name": "sk", "version": 1}]"#)
    );

    // From the logged model's files with its id: still its run, listed in its tag.
    let v2 = ok(
        &mut s,
        "POST",
        "model-versions/create",
        json!({"name": "sk", "source": location, "model_id": model_id}),
    )["model_version"]
        .clone();
    assert_eq!(
        (v2["version"].as_str(), v2["run_id"].as_str()),
        (Some("2"), Some(run.as_str()))
    );
    assert_eq!(
        tag(&s).as_deref(),
        Some(r#"[{"name": "sk", "version": 1}, {"name": "sk", "version": 2}]"#)
    );

    // From another registered version: pinned to its number, its run inherited.
    ok(
        &mut s,
        "POST",
        "registered-models/alias",
        json!({"name": "sk", "alias": "champ", "version": "1"}),
    );
    create_model(&mut s, "copy");
    for (source, pinned) in [
        ("models:/sk/1", "models:/sk/1"),
        ("models:/sk@champ", "models:/sk/1"),
        ("models:/sk/latest", "models:/sk/2"),
        ("models:/sk/none", "models:/sk/2"),
    ] {
        let v = ok(
            &mut s,
            "POST",
            "model-versions/create",
            json!({"name": "copy", "source": source}),
        )["model_version"]
            .clone();
        assert_eq!(v["source"], pinned, "{source}");
        assert_eq!(v["run_id"], run.as_str());
        let dl = ok(
            &mut s,
            "GET",
            "model-versions/get-download-uri",
            json!({"name": "copy", "version": v["version"]}),
        );
        assert_eq!(dl["artifact_uri"], location.as_str());
    }
    for (body, code, message) in [
        (json!({"name": "copy", "source": format!("models:/{model_id}")}), ErrorCode::InvalidParameterValue,
         format!("Invalid model version source: 'models:/{model_id}'. The model_id request parameter must identify the resource that contains the source.")),
        (json!({"name": "copy", "source": "models:/m-0000", "model_id": "m-0000"}), ErrorCode::InternalError,
         "Unable to fetch model from model URI source artifact location 'models:/m-0000'.Error: Logged model with ID 'm-0000' not found.".into()),
        (json!({"name": "copy", "source": "models:/sk/1", "run_id": "abc"}), ErrorCode::InvalidParameterValue,
         "Invalid model version source: 'models:/sk/1'. The run_id and model_id request parameters must match the referenced model version.".into()),
        (json!({"name": "copy", "source": "models:/sk/Production"}), ErrorCode::InternalError,
         "No versions of model with name 'sk' and stage 'Production' found".into()),
        (json!({"name": "copy", "source": "models:/sk@nope"}), ErrorCode::InvalidParameterValue,
         "Registered model alias nope not found.".into()),
        (json!({"name": "copy", "source": "models:/sk/99"}), ErrorCode::ResourceDoesNotExist,
         "Model Version (name=sk, version=99) not found".into()),
        (json!({"name": "copy", "source": "models:/nope/1"}), ErrorCode::ResourceDoesNotExist,
         "Registered Model with name=nope not found".into()),
    ] {
        assert_err(err(&mut s, "POST", "model-versions/create", body), code, &message);
    }
}

#[test]
fn stages_transition_case_insensitively_and_archive_the_others() {
    let mut s = store();
    let (run, _) = run_with_model(&mut s, 1.0);
    create_model(&mut s, "m");
    for _ in 0..4 {
        create_version(&mut s, "m", &run);
    }
    let t = |s: &mut Store, v: &str, stage: &str, archive: bool| {
        ok(s, "POST", "model-versions/transition-stage",
           json!({"name": "m", "version": v, "stage": stage, "archive_existing_versions": archive}))["model_version"].clone()
    };
    assert_eq!(
        t(&mut s, "1", "production", false)["current_stage"],
        "Production"
    );
    assert_eq!(
        t(&mut s, "2", "PRODUCTION", false)["current_stage"],
        "Production"
    );
    assert_eq!(t(&mut s, "3", "Staging", false)["current_stage"], "Staging");
    let stage = |s: &mut Store, v: &str| {
        get_version(s, "m", v)["current_stage"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        stage(&mut s, "1"),
        "Production",
        "without archiving, two versions share a stage"
    );
    let v4 = t(&mut s, "4", "production", true);
    assert_eq!(v4["current_stage"], "Production");
    assert_eq!(
        (stage(&mut s, "1"), stage(&mut s, "2"), stage(&mut s, "3")),
        ("Archived".into(), "Archived".into(), "Staging".into())
    );
    assert_eq!(
        get_version(&mut s, "m", "1")["last_updated_timestamp"],
        v4["last_updated_timestamp"],
        "archived versions are updated at the transition's time"
    );

    let latest = ok(
        &mut s,
        "POST",
        "registered-models/get-latest-versions",
        json!({"name": "m"}),
    );
    assert_eq!(
        versions_of(&latest["model_versions"]),
        ["2", "3", "4"],
        "newest per stage, stages in the order first seen"
    );
    let latest = ok(
        &mut s,
        "GET",
        "registered-models/get-latest-versions",
        json!({"name": "m", "stages": ["staging", "Production"]}),
    );
    assert_eq!(versions_of(&latest["model_versions"]), ["3", "4"]);
    let none = ok(
        &mut s,
        "POST",
        "registered-models/get-latest-versions",
        json!({"name": "m", "stages": ["None"]}),
    );
    assert_eq!(none, json!({}), "an empty list is omitted");
    assert_eq!(
        versions_of(&get_model(&mut s, "m")["latest_versions"]),
        ["2", "3", "4"]
    );

    assert_err(
        err(&mut s, "POST", "model-versions/transition-stage", json!({"name": "m", "version": "1", "stage": "prod"})),
        ErrorCode::InvalidParameterValue,
        "Invalid Model Version stage: prod. Value must be one of None, Staging, Production, Archived.",
    );
    assert_err(
        err(&mut s, "POST", "model-versions/transition-stage", json!({"name": "m", "version": "1", "stage": "None", "archive_existing_versions": true})),
        ErrorCode::InternalError,
        "Model version transition cannot archive existing model versions because 'None' is not an Active stage. Valid stages are ['Staging', 'Production']",
    );
    assert_err(
        err(
            &mut s,
            "POST",
            "model-versions/transition-stage",
            json!({"name": "m", "version": "9", "stage": "Staging", "archive_existing_versions": true}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Model Version (name=m, version=9) not found",
    );
    assert_eq!(
        stage(&mut s, "3"),
        "Staging",
        "a failed transition archives nothing"
    );
    assert_err(
        err(&mut s, "POST", "registered-models/get-latest-versions", json!({"name": "m", "stages": ["foo"]})),
        ErrorCode::InvalidParameterValue,
        "Invalid Model Version stage: foo. Value must be one of None, Staging, Production, Archived.",
    );
    assert_err(
        err(
            &mut s,
            "POST",
            "registered-models/get-latest-versions",
            json!({"name": "nope"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Registered Model with name=nope not found",
    );
}

#[test]
fn aliases_move_between_versions_and_go_with_a_deleted_version() {
    let mut s = store();
    let (run, _) = run_with_model(&mut s, 1.0);
    create_model(&mut s, "m");
    for _ in 0..3 {
        create_version(&mut s, "m", &run);
    }
    let set = |s: &mut Store, alias: &str, v: &str| {
        ok(
            s,
            "POST",
            "registered-models/alias",
            json!({"name": "m", "alias": alias, "version": v}),
        )
    };
    assert_eq!(set(&mut s, "zeta", "1"), json!({}));
    set(&mut s, "alpha", "1");
    set(&mut s, "Champion", "2");
    assert_eq!(
        get_version(&mut s, "m", "1")["aliases"],
        json!(["alpha", "zeta"])
    );
    set(&mut s, "zeta", "2");
    assert_eq!(
        get_version(&mut s, "m", "1")["aliases"],
        json!(["alpha"]),
        "an alias moves"
    );
    assert_eq!(
        get_version(&mut s, "m", "2")["aliases"],
        json!(["Champion", "zeta"])
    );
    assert_eq!(
        get_model(&mut s, "m")["aliases"],
        json!([{"alias": "Champion", "version": "2"}, {"alias": "alpha", "version": "1"}, {"alias": "zeta", "version": "2"}])
    );
    let by_alias = ok(
        &mut s,
        "GET",
        "registered-models/alias",
        json!({"name": "m", "alias": "Champion"}),
    )["model_version"]
        .clone();
    assert_eq!(
        (by_alias["version"].as_str(), by_alias["aliases"].clone()),
        (Some("2"), json!(["Champion", "zeta"]))
    );
    let latest = ok(
        &mut s,
        "GET",
        "registered-models/alias",
        json!({"name": "m", "alias": "LATEST"}),
    )["model_version"]
        .clone();
    assert_eq!(latest["version"], "3", "'latest' is the newest version");
    assert!(
        get_model(&mut s, "m")["latest_versions"][0]
            .get("aliases")
            .is_none(),
        "a model's latest_versions carry no aliases, as in MLflow"
    );

    for (alias, version, code, message) in [
        ("Latest", "1", ErrorCode::InvalidParameterValue, "'latest' alias name (case insensitive) is reserved."),
        ("v1", "1", ErrorCode::InvalidParameterValue, "Version alias name 'v1' is reserved."),
        ("a.b", "1", ErrorCode::InvalidParameterValue, "Invalid alias name: 'a.b'. Names may only contain alphanumerics, underscores (_), and dashes (-)."),
        ("x", "9", ErrorCode::ResourceDoesNotExist, "Model Version (name=m, version=9) not found"),
        ("x", "abc", ErrorCode::InvalidParameterValue, "Parameter 'version' must be an integer, got 'abc'."),
    ] {
        assert_err(err(&mut s, "POST", "registered-models/alias", json!({"name": "m", "alias": alias, "version": version})), code, message);
    }
    assert_err(
        err(
            &mut s,
            "GET",
            "registered-models/alias",
            json!({"name": "m", "alias": "nope"}),
        ),
        ErrorCode::InvalidParameterValue,
        "Registered model alias nope not found.",
    );
    assert_err(
        err(
            &mut s,
            "GET",
            "registered-models/alias",
            json!({"name": "nope", "alias": "x"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Registered Model with name=nope not found",
    );

    ok(
        &mut s,
        "DELETE",
        "registered-models/alias",
        json!({"name": "m", "alias": "alpha"}),
    );
    ok(
        &mut s,
        "DELETE",
        "registered-models/alias",
        json!({"name": "m", "alias": "alpha"}),
    );
    assert!(get_version(&mut s, "m", "1").get("aliases").is_none());
    assert_err(
        err(
            &mut s,
            "DELETE",
            "registered-models/alias",
            json!({"name": "nope", "alias": "x"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Registered Model with name=nope not found",
    );
    ok(
        &mut s,
        "DELETE",
        "model-versions/delete",
        json!({"name": "m", "version": "2"}),
    );
    assert!(
        get_model(&mut s, "m").get("aliases").is_none(),
        "a deleted version's aliases go with it"
    );
    assert_err(
        err(
            &mut s,
            "GET",
            "registered-models/alias",
            json!({"name": "m", "alias": "Champion"}),
        ),
        ErrorCode::InvalidParameterValue,
        "Registered model alias Champion not found.",
    );
    create_model(&mut s, "empty");
    assert_err(
        err(
            &mut s,
            "GET",
            "registered-models/alias",
            json!({"name": "empty", "alias": "latest"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Latest version not found for model empty.",
    );
}

#[test]
fn renaming_carries_versions_tags_and_aliases_and_deleting_removes_everything() {
    let mut s = store();
    let (run, _) = run_with_model(&mut s, 1.0);
    ok(
        &mut s,
        "POST",
        "registered-models/create",
        json!({"name": "old", "tags": [{"key": "t", "value": "v"}]}),
    );
    create_model(&mut s, "other");
    for _ in 0..3 {
        create_version(&mut s, "old", &run);
    }
    ok(
        &mut s,
        "POST",
        "model-versions/set-tag",
        json!({"name": "old", "version": "1", "key": "k", "value": "v"}),
    );
    ok(
        &mut s,
        "POST",
        "registered-models/alias",
        json!({"name": "old", "alias": "prod", "version": "1"}),
    );
    ok(
        &mut s,
        "DELETE",
        "model-versions/delete",
        json!({"name": "old", "version": "3"}),
    );

    let before = get_model(&mut s, "old");
    pause();
    let renamed = ok(
        &mut s,
        "POST",
        "registered-models/rename",
        json!({"name": "old", "new_name": "new"}),
    )["registered_model"]
        .clone();
    assert_eq!(renamed["name"], "new");
    assert_eq!(renamed["tags"], before["tags"]);
    assert_eq!(
        renamed["aliases"],
        json!([{"alias": "prod", "version": "1"}])
    );
    assert_eq!(renamed["creation_timestamp"], before["creation_timestamp"]);
    let v1 = get_version(&mut s, "new", "1");
    assert_eq!(
        (
            v1["name"].as_str(),
            v1["tags"].clone(),
            v1["aliases"].clone()
        ),
        (
            Some("new"),
            json!([{"key": "k", "value": "v"}]),
            json!(["prod"])
        )
    );
    assert_eq!(
        v1["last_updated_timestamp"], renamed["last_updated_timestamp"],
        "versions are updated by a rename"
    );
    assert_eq!(
        create_version(&mut s, "new", &run)["version"],
        "4",
        "the deleted version moved too"
    );
    assert_err(
        err(
            &mut s,
            "GET",
            "registered-models/get",
            json!({"name": "old"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Registered Model with name=old not found",
    );
    assert_err(
        err(&mut s, "POST", "registered-models/rename", json!({"name": "new", "new_name": "other"})),
        ErrorCode::ResourceAlreadyExists,
        "Registered Model (name=other) already exists. Error: (raised as a result of Query-invoked autoflush; consider using a session.no_autoflush block if this flush is occurring prematurely)\n(sqlite3.IntegrityError) UNIQUE constraint failed: registered_models.workspace, registered_models.name\n[SQL: UPDATE registered_models SET name=? WHERE registered_models.workspace = ? AND registered_models.name = ?]\n[parameters: ('other', 'default', 'new')]\n(Background on this error at: https://sqlalche.me/e/21/gkpj)",
    );
    assert_eq!(
        get_version(&mut s, "new", "1")["name"],
        "new",
        "a failed rename changes nothing"
    );
    assert_err(
        err(
            &mut s,
            "POST",
            "registered-models/rename",
            json!({"name": "nope", "new_name": "x"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Registered Model with name=nope not found",
    );
    assert_err(
        err(&mut s, "POST", "registered-models/rename", json!({"name": "new", "new_name": ""})),
        ErrorCode::InvalidParameterValue,
        "Missing value for required parameter 'new_name'. See the API docs for more information about request parameters.",
    );
    assert_err(
        err(
            &mut s,
            "POST",
            "registered-models/rename",
            json!({"name": "new", "new_name": "a/b"}),
        ),
        ErrorCode::InvalidParameterValue,
        "Invalid model name 'a/b'. Names cannot contain '/' or ':'.",
    );

    ok(
        &mut s,
        "DELETE",
        "registered-models/delete",
        json!({"name": "new"}),
    );
    assert_err(
        err(
            &mut s,
            "DELETE",
            "registered-models/delete",
            json!({"name": "new"}),
        ),
        ErrorCode::ResourceDoesNotExist,
        "Registered Model with name=new not found",
    );
    for table in [
        "model_versions",
        "model_version_tags",
        "registered_model_tags",
        "registered_model_aliases",
    ] {
        let n: i64 = s
            .connection()
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE name IN ('new', 'old')"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "{table} rows of a deleted model");
    }
    create_model(&mut s, "new");
    assert_eq!(
        create_version(&mut s, "new", &run)["version"],
        "1",
        "a re-created model starts again at 1"
    );
}

#[test]
fn search_filters_orders_and_pages_as_mlflow() {
    let mut s = store();
    let (run_a, _) = run_with_model(&mut s, 1.0);
    let (run_b, _) = run_with_model(&mut s, 2.0);
    for name in ["beta", "alpha", "gamma-model"] {
        create_model(&mut s, name);
        pause();
    }
    ok(
        &mut s,
        "POST",
        "registered-models/set-tag",
        json!({"name": "beta", "key": "team", "value": "ops"}),
    );
    create_version(&mut s, "alpha", &run_a);
    pause();
    create_version(&mut s, "alpha", &run_b);
    pause();
    create_version(&mut s, "beta", &run_b);
    ok(
        &mut s,
        "POST",
        "model-versions/set-tag",
        json!({"name": "alpha", "version": "2", "key": "eval", "value": "passed"}),
    );

    let names = |v: &Value| -> Vec<String> {
        v["registered_models"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| m["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let all = ok(&mut s, "GET", "registered-models/search", json!({}));
    assert_eq!(
        names(&all),
        ["alpha", "beta", "gamma-model"],
        "by name by default"
    );
    assert!(all.get("next_page_token").is_none());
    assert_eq!(
        names(&ok(
            &mut s,
            "GET",
            "registered-models/search",
            json!({"filter": "name LIKE '%a'"})
        )),
        ["alpha", "beta"]
    );
    assert_eq!(
        names(&ok(
            &mut s,
            "GET",
            "registered-models/search",
            json!({"filter": "name ILIKE 'GAMMA%'"})
        )),
        ["gamma-model"]
    );
    assert_eq!(
        names(&ok(
            &mut s,
            "GET",
            "registered-models/search",
            json!({"filter": "tags.team = 'ops'"})
        )),
        ["beta"]
    );
    assert_eq!(
        names(&ok(
            &mut s,
            "GET",
            "registered-models/search",
            json!({"order_by": ["timestamp DESC"]})
        )),
        ["beta", "alpha", "gamma-model"],
        "timestamp is the last update time"
    );
    let page1 = ok(
        &mut s,
        "GET",
        "registered-models/search",
        json!({"max_results": 2, "order_by": "name DESC"}),
    );
    assert_eq!(names(&page1), ["gamma-model", "beta"]);
    assert_eq!(
        page1["next_page_token"], "eyJvZmZzZXQiOiAyfQ==",
        "MLflow's token bytes"
    );
    let page2 = ok(
        &mut s,
        "GET",
        "registered-models/search",
        json!({"max_results": 2, "order_by": ["name DESC"], "page_token": page1["next_page_token"]}),
    );
    assert_eq!(names(&page2), ["alpha"]);
    assert!(page2.get("next_page_token").is_none());
    let searched_alpha = &ok(
        &mut s,
        "GET",
        "registered-models/search",
        json!({"filter": "name = 'alpha'"}),
    )["registered_models"][0];
    assert_eq!(versions_of(&searched_alpha["latest_versions"]), ["2"]);
    assert_eq!(
        ok(
            &mut s,
            "GET",
            "registered-models/search",
            json!({"filter": "name = 'zzz'"})
        ),
        json!({})
    );
    assert_err(
        err(&mut s, "GET", "registered-models/search", json!({"max_results": "5000"})),
        ErrorCode::InvalidParameterValue,
        "Invalid value \"5000\" for parameter 'max_results' supplied:  Hint: Value was of type 'str'. See the API docs for more information about request parameters.",
    );
    assert_err(
        err(
            &mut s,
            "GET",
            "registered-models/search",
            json!({"order_by": ["version_number"]}),
        ),
        ErrorCode::InvalidParameterValue,
        "Invalid order by key 'version_number' specified. Valid keys are '{'timestamp', 'name'}'",
    );

    let mvs = |v: &Value| -> Vec<String> {
        v["model_versions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| {
                        format!(
                            "{}/{}",
                            m["name"].as_str().unwrap(),
                            m["version"].as_str().unwrap()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let all = ok(&mut s, "GET", "model-versions/search", json!({}));
    assert_eq!(
        mvs(&all),
        ["beta/1", "alpha/2", "alpha/1"],
        "newest update first by default"
    );
    assert!(all["model_versions"][0].get("aliases").is_none());
    assert_eq!(
        mvs(&ok(
            &mut s,
            "GET",
            "model-versions/search",
            json!({"filter": "name = 'alpha'", "order_by": ["version_number ASC"]})
        )),
        ["alpha/1", "alpha/2"]
    );
    assert_eq!(
        mvs(&ok(
            &mut s,
            "GET",
            "model-versions/search",
            json!({"filter": format!("run_id = '{run_b}'")})
        )),
        ["beta/1", "alpha/2"]
    );
    assert_eq!(
        mvs(&ok(
            &mut s,
            "GET",
            "model-versions/search",
            json!({"filter": "tags.eval = 'passed'"})
        )),
        ["alpha/2"]
    );
    assert_eq!(
        mvs(&ok(
            &mut s,
            "GET",
            "model-versions/search",
            json!({"filter": "name = 'alpha' AND version_number > 1"})
        )),
        ["alpha/2"]
    );
    let page = ok(
        &mut s,
        "GET",
        "model-versions/search",
        json!({"max_results": 1, "order_by": ["name", "version_number"]}),
    );
    assert_eq!(
        (mvs(&page), page["next_page_token"].as_str()),
        (vec!["alpha/1".to_string()], Some("eyJvZmZzZXQiOiAxfQ=="))
    );
    assert_err(
        err(
            &mut s,
            "GET",
            "model-versions/search",
            json!({"max_results": 0}),
        ),
        ErrorCode::InvalidParameterValue,
        "Invalid value for max_results. It must be a positive integer, but got 0",
    );
    ok(
        &mut s,
        "DELETE",
        "model-versions/delete",
        json!({"name": "alpha", "version": "1"}),
    );
    assert_eq!(
        mvs(&ok(
            &mut s,
            "GET",
            "model-versions/search",
            json!({"filter": "name = 'alpha'"})
        )),
        ["alpha/2"],
        "deleted versions are not found"
    );
}

#[test]
fn query_strings_reach_the_registry_with_repeated_fields() {
    let mut s = store();
    for name in ["a", "b", "c"] {
        create_model(&mut s, name);
    }
    let req = Request {
        method: "GET".into(),
        path: "/api/2.0/mlflow/registered-models/search".into(),
        query: vec![
            ("max_results".into(), "2".into()),
            ("order_by".into(), "name DESC".into()),
            ("filter".into(), "name != 'c'".into()),
        ],
        body: Vec::new(),
    };
    let resp = api::handle(&mut s, &req);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let v: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(v["registered_models"][0]["name"], "b");
    assert_eq!(v["registered_models"][1]["name"], "a");

    let req = Request {
        method: "GET".into(),
        path: "/api/2.0/mlflow/registered-models/get".into(),
        query: vec![("name".into(), "nope".into())],
        body: Vec::new(),
    };
    let resp = api::handle(&mut s, &req);
    assert_eq!(resp.status, 404);
    let v: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(
        v,
        json!({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Registered Model with name=nope not found"})
    );

    let req = Request {
        method: "DELETE".into(),
        path: "/ajax-api/2.0/mlflow/registered-models/delete".into(),
        query: Vec::new(),
        body: br#"{"name": "c"}"#.to_vec(),
    };
    assert_eq!(api::handle(&mut s, &req).status, 200);
    assert_eq!(
        s.search_registered_models(&Default::default())
            .unwrap()
            .0
            .len(),
        2
    );
}

#[test]
fn model_uris_resolve_to_this_stores_artifacts_in_every_form() {
    let mut s = store();
    let (run, root) = run_with_model(&mut s, 1.0);
    let run_key = key_of_uri(&root).unwrap();
    // An MLflow 3 model: files under the logged model, none under the run's `model/`.
    let (run3, _) = {
        let r = ok(&mut s, "POST", "runs/create", json!({"experiment_id": "0"}));
        (r["run"]["info"]["run_id"].as_str().unwrap().to_string(), ())
    };
    let lm = s
        .create_logged_model("0", Some("model"), None, Some(&run3), &[], &[])
        .unwrap();
    let lm_key = key_of_uri(&lm.info.artifact_uri).unwrap();
    s.put_artifact(&format!("{lm_key}/MLmodel"), b"flavors: {sklearn: {}}")
        .unwrap();

    create_model(&mut s, "m");
    create_version(&mut s, "m", &run); // 1: a run's files
    ok(
        &mut s,
        "POST",
        "model-versions/create",
        json!({"name": "m", "source": format!("models:/{}", lm.info.model_id), "model_id": lm.info.model_id}),
    ); // 2
    create_version(&mut s, "m", &run); // 3
    ok(
        &mut s,
        "POST",
        "model-versions/transition-stage",
        json!({"name": "m", "version": "2", "stage": "Production"}),
    );
    ok(
        &mut s,
        "POST",
        "model-versions/transition-stage",
        json!({"name": "m", "version": "1", "stage": "Staging"}),
    );
    ok(
        &mut s,
        "POST",
        "registered-models/alias",
        json!({"name": "m", "alias": "Champion", "version": "2"}),
    );

    let run_model = format!("{root}/model");
    let lm_uri = lm.info.artifact_uri.clone();
    for (uri, expected) in [
        (format!("runs:/{run}/model"), run_model.clone()),
        (
            format!("runs:/{run}/model/MLmodel"),
            format!("{run_model}/MLmodel"),
        ),
        (format!("runs:/{run}"), root.clone()),
        (format!("runs:/{run3}/model"), lm_uri.clone()),
        (
            format!("runs:/{run3}/model/MLmodel"),
            format!("{lm_uri}/MLmodel"),
        ),
        ("models:/m/1".to_string(), run_model.clone()),
        ("models:/m/2".to_string(), lm_uri.clone()),
        ("models:/m/Production".to_string(), lm_uri.clone()),
        ("models:/m/staging".to_string(), run_model.clone()),
        ("models:/m/latest".to_string(), run_model.clone()),
        ("models:/m@Champion".to_string(), lm_uri.clone()),
        (
            "models:/m@Champion/MLmodel".to_string(),
            format!("{lm_uri}/MLmodel"),
        ),
        (
            "models:/m/2/MLmodel".to_string(),
            format!("{lm_uri}/MLmodel"),
        ),
        (format!("models:/{}", lm.info.model_id), lm_uri.clone()),
        (
            "s3://bucket/elsewhere".to_string(),
            "s3://bucket/elsewhere".to_string(),
        ),
    ] {
        assert_eq!(s.resolve_model_uri(&uri).unwrap(), expected, "{uri}");
    }
    assert_eq!(
        s.resolve_model_artifact_key("models:/m@Champion/MLmodel")
            .unwrap(),
        format!("{lm_key}/MLmodel")
    );
    assert_eq!(
        s.get_artifact(&s.resolve_model_artifact_key("models:/m/1/MLmodel").unwrap())
            .unwrap(),
        b"flavors: {}"
    );
    assert_eq!(
        s.resolve_model_artifact_key(&format!("runs:/{run}/model"))
            .unwrap(),
        format!("{run_key}/model")
    );

    assert_eq!(
        registry::parse_model_uri("models:/m@Champion").unwrap(),
        ModelUri::Alias {
            name: "m".into(),
            alias: "Champion".into()
        }
    );
    assert_eq!(
        registry::parse_model_uri("models:/").unwrap_err().message,
        "Not a proper models:/ URI: models:/. Models URIs must be of the form 'models:/name/suffix' or 'models:/name@alias' where suffix is a version, stage, or the string 'latest' and where alias is a registered model alias. Only one of suffix or alias can be defined at a time."
    );
    let failing = [
        ("models:/m/b/c", ErrorCode::InvalidParameterValue, "Invalid Model Version stage: b. Value must be one of None, Staging, Production, Archived.".to_string()),
        ("models:", ErrorCode::InternalError, "Not a proper models:/ URI: models:. Models URIs must be of the form 'models:/name/suffix' or 'models:/name@alias' where suffix is a version, stage, or the string 'latest' and where alias is a registered model alias. Only one of suffix or alias can be defined at a time.".to_string()),
        ("runs:/", ErrorCode::InternalError, "Not a proper runs:/ URI: runs:/. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'".to_string()),
        ("models:/nope/1", ErrorCode::ResourceDoesNotExist, "Model Version (name=nope, version=1) not found".to_string()),
        ("models:/m/7", ErrorCode::ResourceDoesNotExist, "Model Version (name=m, version=7) not found".to_string()),
        ("models:/m@nope", ErrorCode::InvalidParameterValue, "Registered model alias nope not found.".to_string()),
        ("models:/nope@x", ErrorCode::ResourceDoesNotExist, "Registered Model with name=nope not found".to_string()),
        ("models:/m/Archived", ErrorCode::InternalError, "No versions of model with name 'm' and stage 'Archived' found".to_string()),
        ("models:/m/nostage", ErrorCode::InvalidParameterValue, "Invalid Model Version stage: nostage. Value must be one of None, Staging, Production, Archived.".to_string()),
        ("models:/m-0000", ErrorCode::ResourceDoesNotExist, "Logged model with ID 'm-0000' not found.".to_string()),
        ("runs:/0123/model", ErrorCode::ResourceDoesNotExist, "Run with id=0123 not found".to_string()),
    ];
    for (uri, code, message) in failing {
        let e = s.resolve_model_uri(uri).unwrap_err();
        assert_eq!(
            (e.error_code, e.message.as_str()),
            (code, message.as_str()),
            "{uri}"
        );
    }
    assert!(
        s.resolve_model_artifact_key("s3://bucket/x").is_err(),
        "not in this store"
    );
}

/// The course's selection workflow: several versions registered from runs, each tagged with its
/// test RMSE, prediction time and evaluation status; the aliases chosen by querying the registry.
#[test]
fn the_course_selects_champion_fastest_and_best_through_the_registry() {
    let mut s = store();
    create_model(&mut s, "nyc-taxi-regressor");
    // (rmse, prediction time in seconds, evaluation)
    let candidates = [
        (6.31, 0.42, "passed"),
        (5.12, 0.97, "failed"), // the best RMSE, but it failed evaluation
        (5.87, 0.13, "passed"), // the fastest
        (5.55, 0.64, "passed"), // the best RMSE that passed: the champion
        (6.02, 0.25, "passed"),
    ];
    for (rmse, seconds, status) in candidates {
        let (run, _) = run_with_model(&mut s, rmse);
        let v = create_version(&mut s, "nyc-taxi-regressor", &run);
        let version = v["version"].as_str().unwrap();
        for (key, value) in [
            ("test_rmse", rmse.to_string()),
            ("prediction_time", seconds.to_string()),
            ("evaluation_status", status.to_string()),
        ] {
            ok(
                &mut s,
                "POST",
                "model-versions/set-tag",
                json!({"name": "nyc-taxi-regressor", "version": version, "key": key, "value": value}),
            );
        }
    }

    // Query the registry as a client would: every version of the model, with its tags.
    let found = ok(
        &mut s,
        "GET",
        "model-versions/search",
        json!({"filter": "name = 'nyc-taxi-regressor'", "order_by": ["version_number ASC"]}),
    );
    let versions = found["model_versions"].as_array().unwrap().clone();
    assert_eq!(versions.len(), 5);
    let tag = |v: &Value, key: &str| -> String {
        v["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == key)
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let num = |v: &Value, key: &str| tag(v, key).parse::<f64>().unwrap();
    let pick = |candidates: Vec<&Value>, key: &str| -> String {
        candidates
            .into_iter()
            .min_by(|a, b| num(a, key).total_cmp(&num(b, key)))
            .unwrap()["version"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let passed: Vec<&Value> = versions
        .iter()
        .filter(|v| tag(v, "evaluation_status") == "passed")
        .collect();
    let champion = pick(passed, "test_rmse");
    let fastest = pick(versions.iter().collect(), "prediction_time");
    let best = pick(versions.iter().collect(), "test_rmse");
    for (alias, version) in [
        ("Champion", &champion),
        ("Fastest", &fastest),
        ("Best", &best),
    ] {
        ok(
            &mut s,
            "POST",
            "registered-models/alias",
            json!({"name": "nyc-taxi-regressor", "alias": alias, "version": version}),
        );
    }

    assert_eq!(
        (champion.as_str(), fastest.as_str(), best.as_str()),
        ("4", "3", "2")
    );
    let by_alias = |s: &mut Store, alias: &str| {
        ok(
            s,
            "GET",
            "registered-models/alias",
            json!({"name": "nyc-taxi-regressor", "alias": alias}),
        )["model_version"]
            .clone()
    };
    let champ = by_alias(&mut s, "Champion");
    assert_eq!(
        (
            tag(&champ, "test_rmse").as_str(),
            tag(&champ, "evaluation_status").as_str()
        ),
        ("5.55", "passed")
    );
    assert_eq!(tag(&by_alias(&mut s, "Fastest"), "prediction_time"), "0.13");
    assert_eq!(by_alias(&mut s, "Best")["aliases"], json!(["Best"]));
    assert_eq!(
        get_model(&mut s, "nyc-taxi-regressor")["aliases"],
        json!([{"alias": "Best", "version": "2"}, {"alias": "Champion", "version": "4"}, {"alias": "Fastest", "version": "3"}])
    );
    // The champion's files are where its URI says.
    let key = s
        .resolve_model_artifact_key("models:/nyc-taxi-regressor@Champion/MLmodel")
        .unwrap();
    assert_eq!(s.get_artifact(&key).unwrap(), b"flavors: {}");
    // Tagged versions are found by their tags too.
    let passed = ok(
        &mut s,
        "GET",
        "model-versions/search",
        json!({"filter": "name = 'nyc-taxi-regressor' AND tags.evaluation_status = 'passed'"}),
    );
    assert_eq!(passed["model_versions"].as_array().unwrap().len(), 4);
}
