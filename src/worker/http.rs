//! HTTP from the worker with `fetch`, for syncing with an MLflow server the user names. The page's
//! own code never talks to another origin; this is the one place that does, on the user's request.

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, RequestMode, Response, WorkerGlobalScope};

/// A response's status and body.
pub struct Fetched {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One request. A refusal by the network or by CORS reaches us only as a `TypeError` with no
/// detail (browsers hide why), so the message says what the usual causes are.
pub async fn fetch(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Result<Fetched, String> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_mode(RequestMode::Cors);
    if let Some(bytes) = body {
        init.set_body(&Uint8Array::from(bytes).into());
    }
    let request = Request::new_with_str_and_init(url, &init)
        .map_err(|_| format!("'{url}' is not a URL the browser can request"))?;
    for (name, value) in headers {
        request
            .headers()
            .set(name, value)
            .map_err(|_| format!("the header '{name}' cannot be sent"))?;
    }
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    let response = JsFuture::from(scope.fetch_with_request(&request))
        .await
        .map_err(|_| {
            let origin = scope.location().origin();
            format!(
                "the browser could not reach {url}: the server is down or unreachable, or it does not allow \
                 this page's origin ({origin}); start it with `mlflow server --cors-allowed-origins {origin}`"
            )
        })?;
    let response: Response = response
        .dyn_into()
        .map_err(|_| "fetch answered something that is not a response".to_string())?;
    let buffer = JsFuture::from(
        response
            .array_buffer()
            .map_err(|_| "the response body cannot be read".to_string())?,
    )
    .await
    .map_err(|_| format!("the response of {url} was cut off"))?;
    Ok(Fetched {
        status: response.status(),
        body: Uint8Array::new(&buffer).to_vec(),
    })
}

/// The sync engine's transport in the worker.
pub struct Fetch;

impl crate::sync::Remote for Fetch {
    async fn send(&mut self, request: crate::sync::HttpRequest) -> Result<(u16, Vec<u8>), String> {
        let answer = fetch(
            request.method,
            &request.url,
            &request.headers,
            request.body.as_deref(),
        )
        .await?;
        Ok((answer.status, answer.body))
    }
}
