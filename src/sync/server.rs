//! An MLflow tracking server as push and pull see it: its REST API 2.0 and its artifact proxy,
//! over whatever [`Remote`] carries the bytes. Every refusal becomes a message naming the server,
//! the call and MLflow's own `error_code` and `message`.

use crate::api::{ApiError, ApiResult, ErrorCode};
use serde_json::Value;

/// One HTTP request, as a [`Remote`] sends it.
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// How requests reach the server: a blocking client natively, `fetch` in the browser's worker.
/// `Err` is a transport failure (refused, unreachable, CORS), said in words.
// Used generically on one thread: the browser's futures are not Send, so no bound is wanted.
#[allow(async_fn_in_trait)]
pub trait Remote {
    async fn send(&mut self, request: HttpRequest) -> Result<(u16, Vec<u8>), String>;
}

/// A borrowed transport is one too (a caller keeps its server between syncs).
impl<R: Remote> Remote for &mut R {
    async fn send(&mut self, request: HttpRequest) -> Result<(u16, Vec<u8>), String> {
        (**self).send(request).await
    }
}

/// A listed artifact: its path relative to the listed root, and whether it is a folder.
pub struct Listed {
    pub path: String,
    pub is_dir: bool,
}

pub struct Server<R: Remote> {
    remote: R,
    base: String,
    token: Option<String>,
}

/// Percent-encodes `s` for a URL; `/` is kept when `keep_slash` (artifact paths).
pub(crate) fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The server's answer to a failed call, as one sentence.
pub(crate) fn refusal(base: &str, what: &str, status: u16, body: &[u8]) -> ApiError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let code = parsed
        .as_ref()
        .and_then(|v| v["error_code"].as_str())
        .unwrap_or("")
        .to_string();
    let message = match parsed.as_ref().and_then(|v| v["message"].as_str()) {
        Some(m) => m.to_string(),
        None => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                "(no message)".to_string()
            } else {
                text.chars().take(300).collect()
            }
        }
    };
    let hint = match status {
        401 | 403 => {
            " (the server wants credentials: give a token with --token or MLFLOW_TRACKING_TOKEN)"
        }
        404 if code.is_empty() => " (is this an MLflow tracking server?)",
        _ => "",
    };
    let error_code = match code.as_str() {
        "RESOURCE_ALREADY_EXISTS" => ErrorCode::ResourceAlreadyExists,
        "RESOURCE_DOES_NOT_EXIST" => ErrorCode::ResourceDoesNotExist,
        "INVALID_PARAMETER_VALUE" => ErrorCode::InvalidParameterValue,
        "PERMISSION_DENIED" => ErrorCode::PermissionDenied,
        "INVALID_STATE" => ErrorCode::InvalidState,
        "BAD_REQUEST" => ErrorCode::BadRequest,
        _ => ErrorCode::InternalError,
    };
    let shown = if code.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status} {code}")
    };
    ApiError::new(
        error_code,
        format!("the MLflow server at {base} refused {what} ({shown}): {message}{hint}"),
    )
}

impl<R: Remote> Server<R> {
    /// `url` is the tracking URI (`http://host:5000`, perhaps under a path); `token` is sent as
    /// `Authorization: Bearer <token>`.
    pub fn new(remote: R, url: &str, token: Option<String>) -> ApiResult<Server<R>> {
        let base = url.trim().trim_end_matches('/').to_string();
        let host = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"));
        if host.is_none_or(|h| h.is_empty() || h.starts_with('/')) {
            return Err(ApiError::invalid(format!(
                "'{url}' is not an MLflow tracking server URL: give http://HOST:PORT or https://HOST"
            )));
        }
        Ok(Server {
            remote,
            base,
            token: token.filter(|t| !t.trim().is_empty()),
        })
    }

    /// The server's URL as the mapping table keys it.
    pub fn url(&self) -> &str {
        &self.base
    }

    async fn exchange(
        &mut self,
        method: &'static str,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
        what: &str,
    ) -> ApiResult<Vec<u8>> {
        let mut headers = Vec::new();
        if let Some(t) = content_type {
            headers.push(("Content-Type".to_string(), t.to_string()));
        }
        if let Some(token) = &self.token {
            headers.push(("Authorization".to_string(), format!("Bearer {token}")));
        }
        let request = HttpRequest {
            method,
            url: format!("{}{path}", self.base),
            headers,
            body,
        };
        let (status, body) = self.remote.send(request).await.map_err(|e| {
            ApiError::internal(format!(
                "cannot reach the MLflow server at {} ({what}): {e}",
                self.base
            ))
        })?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(refusal(&self.base, what, status, &body))
        }
    }

    /// One REST call: `endpoint` as after `/api/2.0/mlflow/`; GET and DELETE send `body`'s
    /// fields as the query string, the others send it as JSON.
    pub async fn call(
        &mut self,
        method: &'static str,
        endpoint: &str,
        body: Value,
    ) -> ApiResult<Value> {
        let what = format!("{method} {endpoint}");
        let path = format!("/api/2.0/mlflow/{endpoint}");
        let bytes = if method == "GET" {
            let query: Vec<String> = body
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    format!("{}={}", encode(k, false), encode(&v, false))
                })
                .collect();
            let path = if query.is_empty() {
                path
            } else {
                format!("{path}?{}", query.join("&"))
            };
            self.exchange(method, &path, None, None, &what).await?
        } else {
            let json = serde_json::to_vec(&body).map_err(|e| ApiError::internal(e.to_string()))?;
            self.exchange(method, &path, Some("application/json"), Some(json), &what)
                .await?
        };
        if bytes.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::internal(format!(
                "the MLflow server at {} answered {what} with something that is not JSON: {e}",
                self.base
            ))
        })
    }

    /// Uploads one artifact through the proxy: `key` is the path of an `mlflow-artifacts:/` URI.
    pub async fn upload(&mut self, key: &str, content: Vec<u8>) -> ApiResult<()> {
        let path = format!("/api/2.0/mlflow-artifacts/artifacts/{}", encode(key, true));
        self.exchange(
            "PUT",
            &path,
            Some("application/octet-stream"),
            Some(content),
            &format!("the upload of artifact {key}"),
        )
        .await
        .map(|_| ())
    }

    pub async fn download(&mut self, key: &str) -> ApiResult<Vec<u8>> {
        let path = format!("/api/2.0/mlflow-artifacts/artifacts/{}", encode(key, true));
        self.exchange(
            "GET",
            &path,
            None,
            None,
            &format!("the download of artifact {key}"),
        )
        .await
    }

    /// Every file under the artifact folder `key` (recursively), paths relative to `key`.
    pub async fn list_files(&mut self, key: &str) -> ApiResult<Vec<String>> {
        let mut files = Vec::new();
        let mut folders = vec![String::new()];
        while let Some(dir) = folders.pop() {
            for entry in self.list(key, &dir).await? {
                if entry.is_dir {
                    folders.push(entry.path);
                } else {
                    files.push(entry.path);
                }
            }
        }
        files.sort();
        Ok(files)
    }

    async fn list(&mut self, key: &str, dir: &str) -> ApiResult<Vec<Listed>> {
        let full = if dir.is_empty() {
            key.to_string()
        } else {
            format!("{key}/{dir}")
        };
        let what = format!("the listing of artifacts under {full}");
        let path = format!(
            "/api/2.0/mlflow-artifacts/artifacts?path={}",
            encode(&full, false)
        );
        let bytes = self.exchange("GET", &path, None, None, &what).await?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::internal(format!(
                "the MLflow server at {} answered {what} with something that is not JSON: {e}",
                self.base
            ))
        })?;
        let entries = v["files"].as_array().cloned().unwrap_or_default();
        Ok(entries
            .iter()
            .filter_map(|f| {
                let name = f["path"].as_str()?;
                // The proxy answers names relative to the listed folder.
                let name = name.rsplit('/').next().unwrap_or(name);
                let path = if dir.is_empty() {
                    name.to_string()
                } else {
                    format!("{dir}/{name}")
                };
                Some(Listed {
                    path,
                    is_dir: f["is_dir"].as_bool().unwrap_or(false),
                })
            })
            .collect())
    }
}
