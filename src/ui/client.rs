//! The UI's side of the worker: sends MLflow API requests as messages and resolves each answer.
//! The UI never touches the store; everything goes through here.

use crate::api::{ApiError, ErrorCode};
use futures_channel::oneshot;
use leptos::prelude::*;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

/// Where the store stands, as the worker reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreStatus {
    Starting,
    Ready {
        storage: String,
        notice: Option<String>,
    },
    /// Another tab holds the store; this one may take it over.
    Locked(String),
    TakenOver(String),
    Failed(String),
}

type Reply = oneshot::Sender<Result<Value, ApiError>>;

/// A raw answer (artifact bytes) from the worker.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

enum Pending {
    Json(Reply),
    Raw(oneshot::Sender<RawResponse>),
}

/// What a long job (bundle import or export) reports as it runs: (done, total).
pub type OnProgress = Box<dyn Fn(usize, usize)>;

/// The bytes a request carries beside its JSON.
pub enum Payload {
    None,
    /// One file (a bundle zip).
    Bytes(js_sys::Uint8Array),
    /// A picked folder: an Array of `{path, bytes}` objects.
    Files(js_sys::Array),
}

struct Connection {
    worker: Worker,
    next_id: u64,
    waiting: HashMap<u64, Pending>,
    progress: HashMap<u64, OnProgress>,
    /// Messages written before the worker could listen (its wasm loads asynchronously and a
    /// message posted before then is lost); sent when it first reports its status.
    outbox: Option<Vec<String>>,
}

impl Connection {
    /// Registers the reply and posts the request (with its payload as a message object).
    fn enqueue(
        &mut self,
        pending: Pending,
        request: impl FnOnce(u64) -> Value,
        payload: Payload,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.waiting.insert(id, pending);
        let text = request(id).to_string();
        let (key, value): (&str, JsValue) = match payload {
            Payload::None => {
                self.send(text);
                return id;
            }
            Payload::Bytes(bytes) => ("body", bytes.into()),
            Payload::Files(files) => ("files", files.into()),
        };
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"json".into(), &text.into());
        let _ = js_sys::Reflect::set(&message, &key.into(), &value);
        let _ = self.worker.post_message(&message);
        id
    }

    fn send(&mut self, text: String) {
        match self.outbox.as_mut() {
            Some(outbox) => outbox.push(text),
            None => {
                let _ = self.worker.post_message(&JsValue::from_str(&text));
            }
        }
    }
}

thread_local! {
    static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

/// A handle on the worker connection; cheap to copy into views.
#[derive(Clone, Copy)]
pub struct Client {
    pub status: RwSignal<StoreStatus>,
    /// Bumped after every successful write, so views re-read what they show.
    pub revision: RwSignal<u64>,
}

fn error_from(v: &Value) -> ApiError {
    let code = match v.get("error_code").and_then(Value::as_str).unwrap_or("") {
        "RESOURCE_ALREADY_EXISTS" => ErrorCode::ResourceAlreadyExists,
        "RESOURCE_DOES_NOT_EXIST" => ErrorCode::ResourceDoesNotExist,
        "INVALID_PARAMETER_VALUE" => ErrorCode::InvalidParameterValue,
        "INVALID_STATE" => ErrorCode::InvalidState,
        "BAD_REQUEST" => ErrorCode::BadRequest,
        "ENDPOINT_NOT_FOUND" => ErrorCode::EndpointNotFound,
        _ => ErrorCode::InternalError,
    };
    ApiError::new(
        code,
        v.get("message")
            .and_then(Value::as_str)
            .unwrap_or("unknown error"),
    )
}

fn on_raw(data: &JsValue) {
    let get = |k: &str| js_sys::Reflect::get(data, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let Some(id) = get("id").as_f64() else { return };
    let pending = CONNECTION.with(|c| {
        c.borrow_mut()
            .as_mut()
            .and_then(|c| c.waiting.remove(&(id as u64)))
    });
    if let Some(Pending::Raw(reply)) = pending {
        let bytes = get("bytes")
            .dyn_into::<js_sys::Uint8Array>()
            .map(|a| a.to_vec())
            .unwrap_or_default();
        let _ = reply.send(RawResponse {
            status: get("status").as_f64().unwrap_or(500.0) as u16,
            content_type: get("content_type").as_string().unwrap_or_default(),
            bytes,
        });
    }
}

/// The worker `src/ui/boot.js` started before this wasm loaded, and the events it kept since.
fn boot_worker() -> Option<(Worker, js_sys::Array)> {
    let global = js_sys::global();
    let boot = js_sys::Reflect::get(&global, &"flowbookBoot".into()).ok()?;
    let field = |name: &str| js_sys::Reflect::get(&boot, &name.into()).ok();
    let worker = field("worker")?.dyn_into::<Worker>().ok()?;
    let early = field("early")?.dyn_into::<js_sys::Array>().ok()?;
    // Adopted once: a second start (there is none today) makes its own worker.
    let _ = js_sys::Reflect::delete_property(
        global.unchecked_ref::<js_sys::Object>(),
        &"flowbookBoot".into(),
    );
    Some((worker, early))
}

fn on_data(client: Client, data: &JsValue) {
    match data.as_string() {
        Some(text) => on_message(client, &text),
        None => on_raw(data),
    }
}

fn worker_failed(client: Client, message: &str) {
    client.status.set(StoreStatus::Failed(format!(
        "the engine worker failed: {message}"
    )));
}

fn on_message(client: Client, text: &str) {
    let Ok(msg) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if let Some(p) = msg.get("progress") {
        let field = |k: &str| p.get(k).and_then(Value::as_u64).unwrap_or(0);
        CONNECTION.with(|c| {
            if let Some(report) = c
                .borrow()
                .as_ref()
                .and_then(|c| c.progress.get(&field("id")))
            {
                report(field("done") as usize, field("total") as usize);
            }
        });
        return;
    }
    if let Some(s) = msg.get("status") {
        CONNECTION.with(|c| {
            if let Some(conn) = c.borrow_mut().as_mut() {
                for text in conn.outbox.take().unwrap_or_default() {
                    conn.send(text);
                }
            }
        });
        let notice = s.get("notice").and_then(Value::as_str).map(str::to_string);
        let status = match s.get("state").and_then(Value::as_str) {
            Some("ready") => StoreStatus::Ready {
                storage: s
                    .get("storage")
                    .and_then(Value::as_str)
                    .unwrap_or("opfs")
                    .to_string(),
                notice,
            },
            Some("locked") => StoreStatus::Locked(notice.unwrap_or_default()),
            Some("taken-over") => StoreStatus::TakenOver(notice.unwrap_or_default()),
            _ => StoreStatus::Failed(notice.unwrap_or_else(|| "the store failed".into())),
        };
        if matches!(status, StoreStatus::Ready { .. }) {
            client.revision.update(|r| *r += 1);
        }
        client.status.set(status);
        return;
    }
    let Some(id) = msg.get("id").and_then(Value::as_u64) else {
        return;
    };
    let reply = CONNECTION.with(|c| c.borrow_mut().as_mut().and_then(|c| c.waiting.remove(&id)));
    if let Some(Pending::Json(reply)) = reply {
        let result = match msg.get("error") {
            Some(e) => Err(error_from(e)),
            None => Ok(msg.get("ok").cloned().unwrap_or(Value::Null)),
        };
        let _ = reply.send(result);
    }
}

/// Sends a request (its `id` added) to the worker; fails when no worker runs.
fn enqueue(
    pending: Pending,
    mut request: Value,
    payload: Payload,
    on_progress: Option<OnProgress>,
) -> Result<u64, ApiError> {
    CONNECTION.with(|c| {
        let mut c = c.borrow_mut();
        let conn = c
            .as_mut()
            .ok_or_else(|| ApiError::internal("the engine worker is not running"))?;
        let id = conn.enqueue(
            pending,
            move |id| {
                request["id"] = json!(id);
                request
            },
            payload,
        );
        if let Some(report) = on_progress {
            conn.progress.insert(id, report);
        }
        Ok(id)
    })
}

fn forget_progress(id: u64) {
    CONNECTION.with(|c| {
        if let Some(conn) = c.borrow_mut().as_mut() {
            conn.progress.remove(&id);
        }
    });
}

/// A raw answer, or the MLflow error its body holds.
fn raw_result(response: Result<RawResponse, oneshot::Canceled>) -> Result<RawResponse, ApiError> {
    let response = response.map_err(|_| ApiError::internal("the engine worker stopped"))?;
    if response.status >= 400 {
        let v: Value = serde_json::from_slice(&response.bytes).unwrap_or(Value::Null);
        return Err(error_from(&v));
    }
    Ok(response)
}

impl Client {
    /// Adopts the worker `boot.js` started while this wasm loaded (or starts one: Trunk's loader
    /// script next to the page, so sub-paths work), then hears what it said meanwhile.
    pub fn start() -> Client {
        let client = Client {
            status: RwSignal::new(StoreStatus::Starting),
            revision: RwSignal::new(0),
        };
        let (worker, early) = match boot_worker() {
            Some(adopted) => adopted,
            None => match Worker::new("./flowbook-worker_loader.js") {
                Ok(worker) => (worker, js_sys::Array::new()),
                Err(_) => {
                    client.status.set(StoreStatus::Failed(
                        "this browser cannot start a Web Worker".into(),
                    ));
                    return client;
                }
            },
        };
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            on_data(client, &e.data())
        });
        worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        handler.forget();
        let on_error =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
                worker_failed(client, &e.message())
            });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        CONNECTION.with(|c| {
            *c.borrow_mut() = Some(Connection {
                worker,
                next_id: 1,
                waiting: HashMap::new(),
                progress: HashMap::new(),
                outbox: Some(Vec::new()),
            })
        });
        for event in early.iter() {
            if let Some(message) = event.dyn_ref::<MessageEvent>() {
                on_data(client, &message.data());
            } else if let Some(error) = event.dyn_ref::<web_sys::ErrorEvent>() {
                worker_failed(client, &error.message());
            }
        }
        client
    }

    /// Sends an API request at once (not when first awaited, so two calls made together are
    /// in the worker's queue together) and resolves with its answer.
    pub fn call(
        &self,
        method: &str,
        endpoint: &str,
        body: Value,
    ) -> impl std::future::Future<Output = Result<Value, ApiError>> {
        let request = json!({"method": method, "endpoint": endpoint, "body": body});
        let (tx, rx) = oneshot::channel();
        let sent = enqueue(Pending::Json(tx), request, Payload::None, None);
        async move {
            sent?;
            rx.await
                .unwrap_or_else(|_| Err(ApiError::internal("the engine worker stopped")))
        }
    }

    /// Posts a JSON request (an API call or a job) and waits for its JSON answer.
    async fn json_request(
        &self,
        request: Value,
        payload: Payload,
        on_progress: Option<OnProgress>,
    ) -> Result<Value, ApiError> {
        let (tx, rx) = oneshot::channel();
        let id = enqueue(Pending::Json(tx), request, payload, on_progress)?;
        let result = rx
            .await
            .unwrap_or_else(|_| Err(ApiError::internal("the engine worker stopped")));
        forget_progress(id);
        result
    }

    /// Imports a bundle (a zip's bytes or a picked folder's files) in the worker, reporting progress.
    pub async fn import(
        &self,
        payload: Payload,
        on_progress: OnProgress,
    ) -> Result<Value, ApiError> {
        let result = self
            .json_request(json!({"job": "import"}), payload, Some(on_progress))
            .await;
        self.revision.update(|r| *r += 1);
        result
    }

    /// Trains (or searches) in the worker, as `crate::ml::request` describes the request.
    pub async fn train(&self, request: Value, on_progress: OnProgress) -> Result<Value, ApiError> {
        let result = self
            .json_request(
                json!({"job": "train", "request": request}),
                Payload::None,
                Some(on_progress),
            )
            .await;
        self.revision.update(|r| *r += 1);
        result
    }

    /// Scores a registered model on reference and current data in the worker (a monitoring run).
    pub async fn evaluate(&self, request: Value) -> Result<Value, ApiError> {
        let result = self
            .json_request(
                json!({"job": "evaluate", "request": request}),
                Payload::None,
                None,
            )
            .await;
        self.revision.update(|r| *r += 1);
        result
    }

    /// Pushes to or pulls from an MLflow server (`job` = `push` | `pull`) in the worker.
    pub async fn sync(
        &self,
        job: &str,
        request: Value,
        on_progress: OnProgress,
    ) -> Result<Value, ApiError> {
        let result = self
            .json_request(
                json!({"job": job, "request": request}),
                Payload::None,
                Some(on_progress),
            )
            .await;
        self.revision.update(|r| *r += 1);
        result
    }

    /// Asks the worker to stop a running search after its current trial.
    pub fn cancel(&self) {
        CONNECTION.with(|c| {
            if let Some(conn) = c.borrow_mut().as_mut() {
                conn.send(r#"{"control":"cancel"}"#.to_string());
            }
        });
    }

    /// Exports the store in `format` (`mlruns` or `mlflow-db`) in the worker, reporting progress.
    pub async fn export(
        &self,
        format: &str,
        on_progress: OnProgress,
    ) -> Result<RawResponse, ApiError> {
        let (tx, rx) = oneshot::channel();
        let request = json!({"job": "export", "format": format});
        let id = enqueue(Pending::Raw(tx), request, Payload::None, Some(on_progress))?;
        let response = rx.await;
        forget_progress(id);
        raw_result(response)
    }

    /// A raw request through MLflow's HTTP routes (e.g. the artifact proxy), answered with bytes.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        query: Value,
    ) -> Result<RawResponse, ApiError> {
        let (tx, rx) = oneshot::channel();
        let request = json!({"raw": {"method": method, "path": path, "query": query}});
        enqueue(Pending::Raw(tx), request, Payload::None, None)?;
        raw_result(rx.await)
    }

    /// A call that changes the store: views showing store data re-read after it succeeds.
    pub async fn write(
        &self,
        method: &str,
        endpoint: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        let result = self.call(method, endpoint, body).await;
        if result.is_ok() {
            self.revision.update(|r| *r += 1);
        }
        result
    }

    pub fn take_over(&self) {
        self.status.set(StoreStatus::Starting);
        CONNECTION.with(|c| {
            if let Some(conn) = c.borrow_mut().as_mut() {
                conn.send(r#"{"control":"takeover"}"#.to_string());
            }
        });
    }
}
