use super::native::block_on;
use super::server::refusal;
use super::*;
use crate::api::ErrorCode;
use crate::tracking::validation::validate_batch_limits;

fn kv(prefix: &str, n: usize) -> Vec<KeyValue> {
    (0..n)
        .map(|i| KeyValue::new(format!("{prefix}{i}"), i.to_string()))
        .collect()
}

fn metrics(n: usize) -> Vec<Metric> {
    (0..n)
        .map(|i| Metric {
            key: format!("m{}", i % 7),
            value: i as f64,
            timestamp: i as i64,
            step: i as i64,
        })
        .collect()
}

fn failed_push(store: &mut Store, request: &PushRequest) -> ApiError {
    block_on(push(
        native::Http::default(),
        store,
        request,
        &mut |_, _| {},
    ))
    .unwrap_err()
}

#[test]
fn batches_stay_within_mlflow_limits_and_keep_every_entity_once_in_order() {
    for (np, nt, nm) in [
        (0, 0, 0),
        (3, 2, 5),
        (100, 100, 800),
        (101, 0, 0),
        (150, 250, 2500),
        (0, 0, 2000),
        (99, 1, 1901),
    ] {
        let (p, t, m) = (kv("p", np), kv("t", nt), metrics(nm));
        let out = batches(&p, &t, &m);
        for b in &out {
            validate_batch_limits(b.metrics.len(), b.params.len(), b.tags.len())
                .unwrap_or_else(|e| panic!("{np}/{nt}/{nm}: {}", e.message));
            assert!(!(b.params.is_empty() && b.tags.is_empty() && b.metrics.is_empty()));
        }
        let all_p: Vec<_> = out.iter().flat_map(|b| b.params.clone()).collect();
        let all_t: Vec<_> = out.iter().flat_map(|b| b.tags.clone()).collect();
        let all_m: Vec<_> = out.iter().flat_map(|b| b.metrics.clone()).collect();
        assert_eq!((all_p, all_t, all_m), (p, t, m), "{np}/{nt}/{nm}");
        // As few requests as the limits allow.
        let least = np
            .div_ceil(100)
            .max(nt.div_ceil(100))
            .max((np + nt + nm).div_ceil(1000));
        assert_eq!(out.len(), least, "{np}/{nt}/{nm}");
    }
}

#[test]
fn a_refusal_names_the_server_the_call_and_mlflows_error() {
    let body =
        br#"{"error_code": "INVALID_PARAMETER_VALUE", "message": "Param 'a' already logged"}"#;
    let e = refusal("http://h:5000", "POST runs/log-batch", 400, body);
    assert_eq!(e.error_code, ErrorCode::InvalidParameterValue);
    assert_eq!(
        e.message,
        "the MLflow server at http://h:5000 refused POST runs/log-batch (HTTP 400 INVALID_PARAMETER_VALUE): Param 'a' already logged"
    );
    let e = refusal("http://h", "GET runs/get", 404, b"<html>Not Found</html>");
    assert!(
        e.message
            .contains("(HTTP 404): <html>Not Found</html> (is this an MLflow tracking server?)"),
        "{}",
        e.message
    );
    let e = refusal("http://h", "POST runs/create", 401, b"");
    assert!(
        e.message.contains("(no message)") && e.message.contains("--token"),
        "{}",
        e.message
    );
}

#[test]
fn requests_are_checked_before_anything_is_sent() {
    let e = PushRequest::parse(&json!({"experiments": ["a"]})).unwrap_err();
    assert_eq!(e.message, "give the tracking server's URL ('url')");
    let e = PushRequest::parse(&json!({"url": "http://x", "experiments": "a"})).unwrap_err();
    assert!(
        e.message.contains("must be a list of names"),
        "{}",
        e.message
    );
    let e = PullRequest::parse(&json!({"url": "http://x"})).unwrap_err();
    assert_eq!(
        e.message,
        "give the name of the experiment to pull ('experiment')"
    );
    let r =
        PullRequest::parse(&json!({"url": " http://x/ ", "experiment": "e", "token": ""})).unwrap();
    assert_eq!(
        (r.url.as_str(), r.token, r.filter.as_str()),
        ("http://x/", None, "")
    );
    for bad in ["localhost:5000", "ftp://x", "http://", "http:///x"] {
        let e = Server::new(native::Http::default(), bad, None)
            .err()
            .expect(bad);
        assert!(
            e.message.contains("is not an MLflow tracking server URL"),
            "{}",
            e.message
        );
    }
}

#[test]
fn an_unreachable_server_is_named_and_the_store_keeps_its_data() {
    let mut store = Store::open_in_memory().unwrap();
    crate::api::call(
        &mut store,
        "POST",
        "experiments/create",
        json!({"name": "e"}),
    )
    .unwrap();
    // Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
    let request = PushRequest::parse(&json!({"url": "http://127.0.0.1:9"})).unwrap();
    let e = failed_push(&mut store, &request);
    assert!(
        e.message.starts_with(
            "cannot reach the MLflow server at http://127.0.0.1:9 (GET experiments/get-by-name): "
        ),
        "{}",
        e.message
    );
    let e = block_on(pull(
        native::Http::default(),
        &mut store,
        &PullRequest::parse(&json!({"url": "http://127.0.0.1:9", "experiment": "e"})).unwrap(),
        &mut |_, _| {},
    ))
    .unwrap_err();
    assert!(
        e.message
            .starts_with("cannot reach the MLflow server at http://127.0.0.1:9"),
        "{}",
        e.message
    );
    let n: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM experiments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn a_push_names_an_unknown_experiment_before_sending_anything() {
    let mut store = Store::open_in_memory().unwrap();
    let request =
        PushRequest::parse(&json!({"url": "http://127.0.0.1:9", "experiments": ["nope"]})).unwrap();
    let e = failed_push(&mut store, &request);
    assert_eq!(e.message, "this store has no experiment named 'nope'");
}

/// Flowbook's own MLflow REST implementation as the far end, in process: a real server's code,
/// reached without a socket.
struct InProcess(Store);

impl Remote for InProcess {
    async fn send(&mut self, r: HttpRequest) -> Result<(u16, Vec<u8>), String> {
        let rest = r
            .url
            .strip_prefix("http://flowbook.test")
            .ok_or("wrong host")?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let query = query
            .split('&')
            .filter(|q| !q.is_empty())
            .map(|q| {
                let (k, v) = q.split_once('=').unwrap_or((q, ""));
                (crate::api::percent_decode(k), crate::api::percent_decode(v))
            })
            .collect();
        let response = crate::api::handle(
            &mut self.0,
            &crate::api::Request {
                method: r.method.to_string(),
                path: crate::api::percent_decode(path),
                query,
                body: r.body.unwrap_or_default(),
            },
        );
        Ok((response.status, response.body))
    }
}

/// A store with one experiment "e", and that experiment's id.
fn store_with_experiment() -> (Store, String) {
    let mut store = Store::open_in_memory().unwrap();
    let exp = crate::api::call(
        &mut store,
        "POST",
        "experiments/create",
        json!({"name": "e"}),
    )
    .unwrap();
    let id = exp["experiment_id"].as_str().unwrap().to_string();
    (store, id)
}

fn count(store: &Store, sql: &str) -> i64 {
    store.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_second_push_creates_nothing_and_a_pull_brings_the_same_data_back() {
    let (mut local, exp) = store_with_experiment();
    let parent = local
        .create_run(&exp, "u", Some(1), Some("parent"), &[])
        .unwrap()
        .info
        .run_id;
    let child = local
        .create_run(
            &exp,
            "u",
            Some(2),
            Some("child"),
            &[KeyValue::new("mlflow.parentRunId", &parent)],
        )
        .unwrap()
        .info
        .run_id;
    for chunk in metrics(2500).chunks(1000) {
        local.log_batch(&child, chunk, &[], &[]).unwrap();
    }
    let params = kv("p", 120);
    local
        .log_batch(&child, &[], &params[..100], &kv("t", 3))
        .unwrap();
    local.log_batch(&child, &[], &params[100..], &[]).unwrap();
    local
        .put_artifact(&format!("{exp}/{child}/artifacts/notes/a.txt"), b"hello")
        .unwrap();
    let mut server = InProcess(Store::open_in_memory().unwrap());
    let request = PushRequest::parse(&json!({"url": "http://flowbook.test"})).unwrap();
    let mut seen = Vec::new();
    let first = block_on(push(&mut server, &mut local, &request, &mut |d, t| {
        seen.push((d, t))
    }))
    .unwrap();
    assert_eq!(
        (
            first.created.runs,
            first.created.artifacts,
            first.created.experiments
        ),
        (2, 1, 1)
    );
    assert_eq!(seen.first(), Some(&(0, 2)));
    assert_eq!(seen.last(), Some(&(2, 2)));
    let second = block_on(push(&mut server, &mut local, &request, &mut |_, _| {})).unwrap();
    assert_eq!((second.created.runs, second.skipped.runs), (0, 2));
    let remote = &server.0;
    assert_eq!(count(remote, "SELECT count(*) FROM runs"), 2);
    assert_eq!(count(remote, "SELECT count(*) FROM metrics"), 2500);
    assert_eq!(count(remote, "SELECT count(*) FROM params"), 120);
    let remote_parent: String = remote
        .connection()
        .query_row("SELECT run_uuid FROM runs WHERE name = 'parent'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let tagged: String = remote
        .connection()
        .query_row(
            "SELECT value FROM tags WHERE key = 'mlflow.parentRunId'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        tagged, remote_parent,
        "the parent tag names the remote parent"
    );

    let mut back = Store::open_in_memory().unwrap();
    let pulled = block_on(pull(
        &mut server,
        &mut back,
        &PullRequest::parse(&json!({"url": "http://flowbook.test", "experiment": "e"})).unwrap(),
        &mut |_, _| {},
    ))
    .unwrap();
    assert_eq!((pulled.created.runs, pulled.created.artifacts), (2, 1));
    assert_eq!(count(&back, "SELECT count(*) FROM metrics"), 2500);
    let child_back: String = back
        .connection()
        .query_row("SELECT run_uuid FROM runs WHERE name = 'child'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let art = back
        .list_artifacts(
            &format!(
                "{}/{child_back}/artifacts",
                back.get_run(&child_back).unwrap().info.experiment_id
            ),
            "notes",
        )
        .unwrap();
    assert_eq!(art.len(), 1);
}

#[test]
fn a_create_whose_answer_was_lost_is_found_on_the_server_not_made_twice() {
    let (mut local, exp) = store_with_experiment();
    let a = local
        .create_run(&exp, "u", Some(5), Some("a"), &[])
        .unwrap()
        .info
        .run_id;
    // Same start time, other name: the lookup must tell them apart.
    local
        .create_run(&exp, "u", Some(5), Some("b"), &[])
        .unwrap();
    let mut server = InProcess(Store::open_in_memory().unwrap());
    let request = PushRequest::parse(&json!({"url": "http://flowbook.test"})).unwrap();
    block_on(push(&mut server, &mut local, &request, &mut |_, _| {})).unwrap();
    let before = map::remote_id(&local, "http://flowbook.test", "run", &a)
        .unwrap()
        .unwrap();
    // As if the push had stopped between sending runs/create for `a` and reading its answer.
    map::set(&mut local, "http://flowbook.test", "run", &a, "", false).unwrap();
    let again = block_on(push(&mut server, &mut local, &request, &mut |_, _| {})).unwrap();
    assert_eq!((again.created.runs, again.skipped.runs), (1, 1));
    assert_eq!(count(&server.0, "SELECT count(*) FROM runs"), 2);
    let after = map::remote_id(&local, "http://flowbook.test", "run", &a)
        .unwrap()
        .unwrap();
    assert_eq!(after, before);
}
