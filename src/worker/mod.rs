//! The Web Worker host (wasm only): owns the store on OPFS and answers the UI's API requests.
//!
//! Messages are JSON strings. UI → worker: `{"id", "method", "endpoint", "body"}` or
//! `{"control": "takeover"}`. Worker → UI: `{"id", "ok": …}` / `{"id", "error": {error_code, message}}`,
//! and `{"status": {"state": "ready"|"locked"|"taken-over"|"failed", "storage": "opfs"|"memory", "notice"}}`.
//!
//! One tab owns the store at a time: the worker holds the Web Lock `flowbook-store` while the database
//! is open. A second tab is told the store is held elsewhere and may take it over (`steal`), upon which
//! the first worker closes its database and says so.

mod http;

use crate::api::{self, ApiError};
use crate::bundle;
use crate::tracking::Store;
use js_sys::{Function, Object, Promise, Reflect};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

const LOCK_NAME: &str = "flowbook-store";
const DB_PATH: &str = "/mlflow.db";

#[derive(Default)]
struct State {
    store: Option<Store>,
    /// Requests that arrived before the store opened, answered once it has.
    pending: Vec<String>,
    pool: Option<sqlite_wasm_vfs::sahpool::OpfsSAHPoolUtil>,
    /// Set by a `{"control": "cancel"}` message; a running search stops after its current trial.
    cancel: bool,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(value: &Value) {
    let _ = scope().post_message(&JsValue::from_str(&value.to_string()));
}

fn status(state: &str, storage: Option<&str>, notice: Option<String>) {
    post(&json!({"status": {"state": state, "storage": storage, "notice": notice}}));
}

/// A raw HTTP-shaped request (artifact downloads, bundles): answered with the bytes as a Uint8Array.
fn answer_raw(id: &Value, raw: &Value, body: Vec<u8>) {
    let text = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let query = raw
        .get("query")
        .and_then(Value::as_object)
        .map(|q| {
            q.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let request = api::Request {
        method: text("method"),
        path: text("path"),
        query,
        body,
    };
    let response = with_store(|store| Ok(api::handle(store, &request)))
        .unwrap_or_else(|e| api::Response::error(&e));
    post_response(id, &response);
}

/// Runs `f` on the open store, or says the store is not open in this tab.
fn with_store<T>(f: impl FnOnce(&mut Store) -> Result<T, ApiError>) -> Result<T, ApiError> {
    STATE.with(|s| match s.borrow_mut().store.as_mut() {
        Some(store) => f(store),
        None => Err(ApiError::new(
            api::ErrorCode::InvalidState,
            "the store is not open in this tab",
        )),
    })
}

/// An HTTP-shaped answer as an object `{id, status, content_type, bytes}` (bytes as a Uint8Array).
fn post_response(id: &Value, response: &api::Response) {
    let reply = Object::new();
    let _ = Reflect::set(
        &reply,
        &"id".into(),
        &JsValue::from_f64(id.as_f64().unwrap_or(-1.0)),
    );
    let _ = Reflect::set(
        &reply,
        &"status".into(),
        &JsValue::from_f64(f64::from(response.status)),
    );
    let _ = Reflect::set(
        &reply,
        &"content_type".into(),
        &response.content_type.into(),
    );
    let _ = Reflect::set(
        &reply,
        &"bytes".into(),
        &js_sys::Uint8Array::from(&response.body[..]),
    );
    let _ = scope().post_message(&reply);
}

/// Posts a job's `{"progress": {id, done, total}}`, at most once per percent.
fn progress_reporter(id: &Value) -> impl FnMut(usize, usize) + '_ {
    let mut last = usize::MAX;
    move |done: usize, total: usize| {
        let percent = done * 100 / total.max(1);
        if percent != last {
            last = percent;
            post(&json!({"progress": {"id": id, "done": done, "total": total}}));
        }
    }
}

/// Long jobs (bundle import and export, evaluation, training, push and pull) that report progress
/// as they go, then answer like any request.
fn run_job(id: &Value, msg: &Value, body: Vec<u8>, files: Option<Vec<(String, Vec<u8>)>>) {
    let mut progress = progress_reporter(id);
    match msg.get("job").and_then(Value::as_str) {
        Some("import") => {
            let result = with_store(|store| {
                let mut source = match files {
                    Some(files) => bundle::Source::files(files)?,
                    None => bundle::Source::zip(&body)?,
                };
                bundle::import(store, &mut source, &mut progress)
            });
            match result {
                Ok(summary) => post(&json!({"id": id, "ok": api::import_summary_json(&summary)})),
                Err(e) => post(&json!({"id": id, "error": e})),
            }
        }
        Some("export") => {
            let response = with_store(|store| {
                let format = bundle::Format::parse(msg["format"].as_str().unwrap_or(""))?;
                let out = std::io::Cursor::new(Vec::new());
                let (out, _) = bundle::export(store, format, out, &mut progress)?;
                Ok(api::Response {
                    status: 200,
                    content_type: "application/zip",
                    body: out.into_inner(),
                })
            })
            .unwrap_or_else(|e| api::Response::error(&e));
            post_response(id, &response);
        }
        Some("evaluate") => {
            let result = crate::ml::request::parse_evaluation(&msg["request"])
                .map_err(ApiError::invalid)
                .and_then(|r| {
                    with_store(|store| {
                        crate::ml::monitor::evaluate(
                            store,
                            &r.experiment,
                            &r.model_uri,
                            &r.reference,
                            &r.current,
                        )
                    })
                });
            match result.and_then(|e| {
                let experiment_id = with_store(|s| Ok(s.get_run(&e.run_id)?.info.experiment_id))?;
                Ok((e, experiment_id))
            }) {
                Ok((e, experiment_id)) => post(
                    &json!({"id": id, "ok": {"evaluation": e, "experiment_id": experiment_id}}),
                ),
                Err(e) => post(&json!({"id": id, "error": e})),
            }
        }
        Some(job @ ("push" | "pull")) => {
            wasm_bindgen_futures::spawn_local(sync_job(
                id.clone(),
                job == "push",
                msg["request"].clone(),
            ));
        }
        Some("train") => {
            STATE.with(|s| s.borrow_mut().cancel = false);
            wasm_bindgen_futures::spawn_local(train_job(id.clone(), msg["request"].clone()));
        }
        Some("bench-ml") => match crate::ml::bench::run(&msg["request"]) {
            Ok(v) => post(&json!({"id": id, "ok": v})),
            Err(e) => post(&json!({"id": id, "error": ApiError::invalid(e)})),
        },
        other => {
            post(&json!({"id": id, "error": ApiError::invalid(format!("unknown job {other:?}"))}))
        }
    }
}

/// The store as the sync engine reaches it: one short borrow per step, never across an await,
/// so the UI's requests are answered while a push or pull waits on the network.
struct WorkerStore;

impl crate::sync::Local for WorkerStore {
    fn with<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        with_store(f)
    }
}

/// `push` or `pull` with an MLflow server: `request` as the CLI's flags (see `crate::sync`);
/// answers the summary `{created, skipped, notes, summary}`.
async fn sync_job(id: Value, push: bool, request: Value) {
    use crate::sync;
    let mut progress = progress_reporter(&id);
    let result = if push {
        match sync::PushRequest::parse(&request) {
            Ok(r) => sync::push(http::Fetch, &mut WorkerStore, &r, &mut progress)
                .await
                .map(|s| s.to_json("pushed", &r.url)),
            Err(e) => Err(e),
        }
    } else {
        match sync::PullRequest::parse(&request) {
            Ok(r) => sync::pull(http::Fetch, &mut WorkerStore, &r, &mut progress)
                .await
                .map(|s| s.to_json("pulled", &r.url)),
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(v) => post(&json!({"id": id, "ok": v})),
        Err(e) => post(&json!({"id": id, "error": e})),
    }
}

/// A training run or a search. A search runs one trial per turn of the event loop, so progress is
/// posted as trials finish and a cancel message is seen between trials.
async fn train_job(id: Value, request: Value) {
    use crate::ml::{request, train, tuning};
    let fail = |e: ApiError| post(&json!({"id": id, "error": e}));
    let job = match request::parse(&request) {
        Ok(job) => job,
        Err(e) => return fail(ApiError::invalid(e)),
    };
    match job {
        request::Request::Train(spec) => {
            post(&json!({"progress": {"id": id, "done": 0, "total": 1}}));
            sleep_ms(0).await;
            match with_store(|store| train::train(store, &spec)) {
                Ok(t) => post(&json!({"id": id, "ok": {
                    "run_id": t.run_id, "experiment_id": t.experiment_id,
                    "metrics": t.metrics, "model_uri": t.model_uri, "model_id": t.model_id,
                }})),
                Err(e) => fail(e),
            }
        }
        request::Request::Search(spec) => {
            let mut searcher = match with_store(|store| tuning::Searcher::start(store, &spec)) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            loop {
                post(
                    &json!({"progress": {"id": id, "done": searcher.done(), "total": searcher.total()}}),
                );
                sleep_ms(0).await;
                if STATE.with(|s| s.borrow().cancel) {
                    break;
                }
                match with_store(|store| searcher.step(store)) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return fail(e),
                }
            }
            post(
                &json!({"progress": {"id": id, "done": searcher.done(), "total": searcher.total()}}),
            );
            let finished = with_store(|store| {
                let outcome = searcher.finish(store)?;
                let experiment_id = store.get_run(&outcome.parent_run_id)?.info.experiment_id;
                Ok((outcome, experiment_id))
            });
            match finished {
                Ok((o, experiment_id)) => post(&json!({"id": id, "ok": {
                    "experiment_id": experiment_id,
                    "parent_run_id": o.parent_run_id,
                    "best_run_id": o.best.as_ref().map(|b| b.run_id.clone()),
                    "best_params": o.best.as_ref().map(|b| b.params.clone()),
                    "best_loss": o.best.as_ref().map(|b| b.loss),
                    "loss_metric": o.loss_metric,
                    "trials": o.trials.len(),
                    "cancelled": o.cancelled,
                }})),
                Err(e) => fail(e),
            }
        }
    }
}

fn answer(text: &str) {
    answer_with_body(text, Vec::new(), None)
}

/// A request, with the bytes it carries (a bundle zip, or a picked folder's files) when it has them.
fn answer_with_body(text: &str, body: Vec<u8>, files: Option<Vec<(String, Vec<u8>)>>) {
    let parsed: Result<Value, _> = serde_json::from_str(text);
    let Ok(msg) = parsed else {
        return post(
            &json!({"id": null, "error": {"error_code": "BAD_REQUEST", "message": "malformed message"}}),
        );
    };
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    if let Some(raw) = msg.get("raw") {
        return answer_raw(&id, raw, body);
    }
    if msg.get("job").is_some() {
        return run_job(&id, &msg, body, files);
    }
    let method = msg
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_string();
    let endpoint = msg
        .get("endpoint")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let json_body = msg.get("body").cloned().unwrap_or_else(|| json!({}));
    let result = STATE.with(|s| match s.borrow_mut().store.as_mut() {
        Some(store) => api::call(store, &method, &endpoint, json_body),
        None => Err(ApiError::new(
            api::ErrorCode::InvalidState,
            "the store is not open in this tab",
        )),
    });
    match result {
        Ok(v) => post(&json!({"id": id, "ok": v})),
        Err(e) => post(&json!({"id": id, "error": e})),
    }
}

fn on_message(text: String) {
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        if v.get("control").and_then(Value::as_str) == Some("takeover") {
            wasm_bindgen_futures::spawn_local(acquire(true));
            return;
        }
        if v.get("control").and_then(Value::as_str) == Some("cancel") {
            STATE.with(|s| s.borrow_mut().cancel = true);
            return;
        }
    }
    let open = STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.store.is_none() {
            s.pending.push(text.clone());
            false
        } else {
            true
        }
    });
    if open {
        answer(&text);
    }
}

/// Opens the database on OPFS (sahpool); where OPFS is missing, in memory with a notice.
async fn open_store() -> Result<&'static str, String> {
    let pool_result = sqlite_wasm_vfs::sahpool::install::<sqlite_wasm_rs::WasmOsCallback>(
        &sqlite_wasm_vfs::sahpool::OpfsSAHPoolCfg::default(),
        true,
    )
    .await;
    let (store, storage) = match pool_result {
        Ok(pool) => {
            if pool.is_paused() {
                pool.resume()
                    .await
                    .map_err(|e| format!("cannot resume OPFS storage: {e}"))?;
            }
            // A first visit starts from the schema already built (one write), not 150 statements.
            use sqlite_wasm_rs::vfs::{transfer::DbTransfer, VfsFilesManager};
            if !pool.contains(DB_PATH).map_err(|e| e.to_string())? {
                pool.import_db(DB_PATH, crate::tracking::EMPTY_STORE_IMAGE)
                    .map_err(|e| format!("cannot create the store on OPFS: {e}"))?;
            }
            STATE.with(|s| s.borrow_mut().pool = Some(pool));
            let conn = rusqlite::Connection::open(DB_PATH).map_err(|e| e.to_string())?;
            // The journal stays between transactions (its header is cleared): creating and deleting
            // it would claim and free a pool slot, with a flush each, on every commit.
            conn.pragma_update(None, "journal_mode", "PERSIST")
                .map_err(|e| e.to_string())?;
            // Every page read is a call into OPFS: a page cache of up to 64 MB (SQLite's default is
            // 2 MB) keeps a large experiment's runs, params and tags in memory after the first read.
            conn.pragma_update(None, "cache_size", -65_536i64)
                .map_err(|e| e.to_string())?;
            (Store::from_connection(conn).map_err(|e| e.message)?, "opfs")
        }
        Err(_) => (Store::open_in_memory().map_err(|e| e.message)?, "memory"),
    };
    let pending = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.store = Some(store);
        std::mem::take(&mut s.pending)
    });
    for text in pending {
        answer(&text);
    }
    Ok(storage)
}

/// Asks for the store's Web Lock (`steal` takes it from another tab) and opens the store once held.
async fn acquire(steal: bool) {
    let (tx, rx) = futures_channel::oneshot::channel::<bool>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let held = !lock.is_null();
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(held);
        }
        if held {
            // Hold the lock for the life of the worker: a promise that never settles.
            Promise::new(&mut |_, _| {}).into()
        } else {
            Promise::resolve(&JsValue::NULL).into()
        }
    });
    let locks = Reflect::get(&scope().navigator(), &"locks".into())
        .ok()
        .filter(|l| !l.is_undefined());
    let Some(locks) = locks else {
        // No Web Locks: nothing can coordinate tabs, so open and say so.
        return report_open(
            open_store().await,
            Some("This browser cannot coordinate tabs (no Web Locks).".into()),
        );
    };
    let options = Object::new();
    let key = if steal { "steal" } else { "ifAvailable" };
    let _ = Reflect::set(&options, &key.into(), &JsValue::TRUE);
    let request: Function = match Reflect::get(&locks, &"request".into()).and_then(|f| f.dyn_into())
    {
        Ok(f) => f,
        Err(_) => return report_open(open_store().await, None),
    };
    let held_until = match request.call3(&locks, &LOCK_NAME.into(), &options, &callback) {
        Ok(p) => p.unchecked_into::<Promise>(),
        Err(_) => return report_open(open_store().await, None),
    };
    // When another tab steals the lock, this promise rejects: close the store here.
    let on_stolen = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        release();
        status(
            "taken-over",
            None,
            Some("Another tab took over the Flowbook store.".into()),
        );
    });
    let _ = held_until.catch(&on_stolen);
    on_stolen.forget();
    if !rx.await.unwrap_or(false) {
        return status(
            "locked",
            None,
            Some("Flowbook is open in another tab, which holds the store.".into()),
        );
    }
    // A stolen store is released by the other worker asynchronously: retry opening for a while.
    let mut last_error = String::new();
    for _ in 0..(if steal { 25 } else { 1 }) {
        match open_store().await {
            Ok(storage) => return report_open(Ok(storage), None),
            Err(e) => last_error = e,
        }
        sleep_ms(200).await;
    }
    status(
        "failed",
        None,
        Some(format!("The store could not open: {last_error}")),
    );
}

fn report_open(result: Result<&'static str, String>, notice: Option<String>) {
    match result {
        Ok("memory") => status(
            "ready",
            Some("memory"),
            Some("This browser has no OPFS storage: your work lives in memory and is lost on reload. Export it to keep it.".into()),
        ),
        Ok(storage) => status("ready", Some(storage), notice),
        Err(e) => status("failed", None, Some(format!("The store could not open: {e}"))),
    }
}

fn release() {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.store = None;
        if let Some(pool) = s.pool.take() {
            let _ = pool.pause();
        }
    });
}

async fn sleep_ms(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The worker's entry point.
pub fn start() {
    console_error_panic_hook::set_once();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| {
        let data = e.data();
        if let Some(text) = data.as_string() {
            on_message(text);
        } else if let Some(text) = Reflect::get(&data, &"json".into())
            .ok()
            .and_then(|j| j.as_string())
        {
            // A request with bytes: the store must be open (the UI only offers it then).
            let body = Reflect::get(&data, &"body".into())
                .ok()
                .and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok())
                .map(|b| b.to_vec())
                .unwrap_or_default();
            let files = Reflect::get(&data, &"files".into())
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Array>().ok())
                .map(|files| {
                    files
                        .iter()
                        .map(|f| {
                            let path = Reflect::get(&f, &"path".into())
                                .ok()
                                .and_then(|p| p.as_string())
                                .unwrap_or_default();
                            let bytes = Reflect::get(&f, &"bytes".into())
                                .ok()
                                .and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok())
                                .map(|b| b.to_vec())
                                .unwrap_or_default();
                            (path, bytes)
                        })
                        .collect()
                });
            answer_with_body(&text, body, files);
        }
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    wasm_bindgen_futures::spawn_local(acquire(false));
}
