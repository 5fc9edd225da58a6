//! `flowbook server`: MLflow's REST API over HTTP, a thin adapter around [`crate::api::handle`],
//! so the real `mlflow` client can be pointed at a Flowbook store.

use crate::api::{self, Request};
use crate::tracking::Store;
use std::io::Read;

/// Largest request body accepted (artifact uploads included).
const MAX_BODY: u64 = 512 * 1024 * 1024;

fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let decode = |s: &str| api::percent_decode(&s.replace('+', " "));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    (path.to_string(), pairs)
}

/// Serves until the process is stopped. Requests are handled one at a time against one connection:
/// SQLite has one writer anyway, and this keeps every request a single transaction.
pub fn serve(mut store: Store, host: &str, port: u16) -> Result<(), String> {
    let server = tiny_http::Server::http((host, port))
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
    eprintln!("flowbook server listening on http://{host}:{port}");
    for mut request in server.incoming_requests() {
        let (path, query) = split_url(request.url());
        let mut body = Vec::new();
        let read = request
            .as_reader()
            .take(MAX_BODY + 1)
            .read_to_end(&mut body);
        let response = if read.is_err() || body.len() as u64 > MAX_BODY {
            api::Response::error(&api::ApiError::new(
                api::ErrorCode::BadRequest,
                format!("request body unreadable or larger than {MAX_BODY} bytes"),
            ))
        } else {
            let req = Request {
                method: request.method().as_str().to_uppercase(),
                path,
                query,
                body,
            };
            api::handle(&mut store, &req)
        };
        let header = tiny_http::Header::from_bytes("Content-Type", response.content_type)
            .expect("static header is valid");
        let reply = tiny_http::Response::from_data(response.body)
            .with_status_code(response.status)
            .with_header(header);
        if let Err(e) = request.respond(reply) {
            eprintln!("flowbook server: could not send a response: {e}");
        }
    }
    Ok(())
}
