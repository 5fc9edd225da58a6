//! Model URIs as MLflow reads them (`mlflow/store/artifact/utils/models.py`,
//! `runs_artifact_repo.py`, `models_artifact_repo.py`), resolved to where the files live in this
//! store: an `mlflow-artifacts:/...` URI whose path is the key of `flowbook_artifacts` rows.
//!
//! | URI | means |
//! | --- | --- |
//! | `runs:/<run_id>/<path>` | `<path>` under the run's artifact root (or, as MLflow 3 does, under the run's logged model named by the first segment) |
//! | `models:/<name>/<version>` | that version |
//! | `models:/<name>/<stage>` | the newest version in that stage (any capitalisation) |
//! | `models:/<name>/latest` | the newest version of all stages |
//! | `models:/<name>@<alias>` | the version the alias points to |
//! | `models:/<model_id>` | an MLflow 3 logged model (`m-...`) |
//!
//! `models:/...` URIs may carry a path after the version (`models:/name/1/MLmodel`), as
//! MLflow's `ModelsArtifactRepository` splits them.

use super::validation::uncoded;
use crate::api::{ApiError, ApiResult};
use crate::tracking::artifacts::key_of_uri;
use crate::tracking::Store;
use rusqlite::{params, Connection, OptionalExtension};

/// Python's `urllib.parse.urlsplit`, enough for artifact and model URIs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Url {
    /// Lower-cased, as Python returns it; empty for plain paths.
    pub scheme: String,
    pub netloc: String,
    pub path: String,
    pub query: String,
    pub fragment: String,
}

impl Url {
    pub fn parse(url: &str, allow_fragments: bool) -> Url {
        let url: String = url
            .trim_matches(|c: char| (c as u32) <= 0x20)
            .chars()
            .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
            .collect();
        let mut out = Url::default();
        let mut rest = url.as_str();
        if let Some(i) = rest.find(':') {
            let scheme = &rest[..i];
            let first_alpha = scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic());
            if i > 0
                && first_alpha
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            {
                out.scheme = scheme.to_ascii_lowercase();
                rest = &rest[i + 1..];
            }
        }
        if let Some(after) = rest.strip_prefix("//") {
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            out.netloc = after[..end].to_string();
            rest = &after[end..];
        }
        if allow_fragments {
            if let Some((r, frag)) = rest.split_once('#') {
                out.fragment = frag.to_string();
                rest = r;
            }
        }
        if let Some((r, q)) = rest.split_once('?') {
            out.query = q.to_string();
            rest = r;
        }
        out.path = rest.to_string();
        out
    }

    /// The host of `netloc`, lower-cased, without user info or port.
    pub fn hostname(&self) -> Option<String> {
        let host = self
            .netloc
            .rsplit_once('@')
            .map(|(_, h)| h)
            .unwrap_or(&self.netloc);
        let host = if let Some(rest) = host.strip_prefix('[') {
            rest.split(']').next().unwrap_or("")
        } else {
            host.split(':').next().unwrap_or("")
        };
        (!host.is_empty()).then(|| host.to_ascii_lowercase())
    }
}

/// `%XX` decoding repeated until nothing changes (`+` as a space when `plus` is set).
pub(crate) fn unquote_fully(value: &str, plus: bool) -> String {
    let mut current = value.to_string();
    loop {
        let replaced = if plus {
            current.replace('+', " ")
        } else {
            current.clone()
        };
        let next = crate::api::percent_decode(&replaced);
        if next == current {
            return next;
        }
        current = next;
    }
}

/// A parsed `models:/` URI, as MLflow's `ParsedModelUri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelUri {
    /// `models:/<model_id>`: a logged model.
    LoggedModel { model_id: String },
    /// `models:/<name>/<version>`.
    Version { name: String, version: String },
    /// `models:/<name>/<stage>`: the newest version in the stage.
    Stage { name: String, stage: String },
    /// `models:/<name>/latest`: the newest version of all.
    Latest { name: String },
    /// `models:/<name>@<alias>`.
    Alias { name: String, alias: String },
}

fn improper_model_uri(uri: &str) -> ApiError {
    uncoded(format!(
        "Not a proper models:/ URI: {uri}. Models URIs must be of the form 'models:/name/suffix' or \
         'models:/name@alias' where suffix is a version, stage, or the string 'latest' and where alias \
         is a registered model alias. Only one of suffix or alias can be defined at a time."
    ))
}

/// Parses `models:/...` exactly as MLflow's `_parse_model_uri` (errors are MLflow's, INTERNAL_ERROR
/// as MLflow raises them without a code).
pub fn parse_model_uri(uri: &str) -> ApiResult<ModelUri> {
    let parsed = Url::parse(uri, false);
    if parsed.scheme != "models" {
        return Err(improper_model_uri(uri));
    }
    let path = parsed.path.as_str();
    if !path.starts_with('/') || path.len() <= 1 {
        return Err(improper_model_uri(uri));
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if parts.len() > 2 || parts[0].trim().is_empty() {
        return Err(improper_model_uri(uri));
    }
    if parts.len() == 2 {
        let (name, suffix) = (parts[0].to_string(), parts[1]);
        if suffix.trim().is_empty() {
            return Err(improper_model_uri(uri));
        }
        if suffix.chars().all(|c| c.is_ascii_digit()) {
            return Ok(ModelUri::Version {
                name,
                version: suffix.to_string(),
            });
        }
        if suffix.to_lowercase() == "latest" {
            return Ok(ModelUri::Latest { name });
        }
        return Ok(ModelUri::Stage {
            name,
            stage: suffix.to_string(),
        });
    }
    if path.contains('@') {
        return match parts[0].rsplit_once('@') {
            Some((name, alias)) if !alias.trim().is_empty() => Ok(ModelUri::Alias {
                name: name.to_string(),
                alias: alias.to_string(),
            }),
            _ => Err(improper_model_uri(uri)),
        };
    }
    Ok(ModelUri::LoggedModel {
        model_id: parts[0].to_string(),
    })
}

fn improper_runs_uri(uri: &str) -> ApiError {
    uncoded(format!(
        "Not a proper runs:/ URI: {uri}. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'"
    ))
}

/// `runs:/<run_id>/<path>` into the run id and the path (None when empty), as MLflow's
/// `RunsArtifactRepository.parse_runs_uri`.
pub fn parse_runs_uri(uri: &str) -> ApiResult<(String, Option<String>)> {
    let parsed = Url::parse(uri, true);
    if parsed.scheme != "runs" {
        return Err(improper_runs_uri(uri));
    }
    let path = parsed.path.as_str();
    if !path.starts_with('/') || path.len() <= 1 {
        return Err(improper_runs_uri(uri));
    }
    let mut parts = path[1..].split('/');
    let run_id = parts.next().unwrap_or("").to_string();
    if run_id.is_empty() {
        return Err(improper_runs_uri(uri));
    }
    let rest: Vec<&str> = parts.collect();
    let artifact_path = Some(rest.join("/")).filter(|p| !p.is_empty());
    Ok((run_id, artifact_path))
}

/// MLflow's `ModelsArtifactRepository.split_models_uri`: `models:/name/1/path` into
/// (`models:/name/1`, `path`), `models:/name@alias/path` into (`models:/name@alias`, `path`).
pub fn split_models_uri(uri: &str) -> (String, String) {
    let uri = uri.trim_end_matches('/');
    let parsed = Url::parse(uri, true);
    let path = parsed.path.as_str();
    if path.matches('/').count() >= 2 && !path.ends_with('/') {
        let splits: Vec<&str> = path.splitn(4, '/').collect();
        let cut = if splits.get(1).is_some_and(|s| s.contains('@')) {
            2
        } else {
            3
        };
        let cut = cut.min(splits.len());
        let base = splits[..cut].join("/");
        let rest = splits[cut..].join("/");
        let prefix = if parsed.netloc.is_empty() {
            "models:".to_string()
        } else {
            format!("models://{}", parsed.netloc)
        };
        return (format!("{prefix}{base}"), rest);
    }
    (uri.to_string(), String::new())
}

fn join_uri(base: &str, path: &str) -> String {
    let path = path.trim_matches('/');
    if path.is_empty() {
        base.to_string()
    } else {
        format!("{}/{path}", base.trim_end_matches('/'))
    }
}

/// Whether any artifact row lies at or under `uri` (only `mlflow-artifacts:` URIs can be asked).
fn has_artifacts(conn: &Connection, uri: &str) -> ApiResult<bool> {
    let Ok(key) = key_of_uri(uri) else {
        return Ok(false);
    };
    let found = conn
        .query_row(
            "SELECT 1 FROM flowbook_artifacts WHERE path = ?1 OR (path > ?2 AND path < ?3) LIMIT 1",
            params![key, format!("{key}/"), format!("{key}0")],
            |_| Ok(()),
        )
        .optional()?;
    Ok(found.is_some())
}

fn logged_model_location(conn: &Connection, model_id: &str) -> ApiResult<String> {
    conn.query_row(
        "SELECT artifact_location FROM logged_models WHERE model_id = ?1 AND lifecycle_stage IS NOT 'deleted'",
        [model_id],
        |r| r.get::<_, String>(0),
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("Logged model with ID '{model_id}' not found.")))
}

/// A `runs:/` URI to the artifact URI it names. As MLflow 3's `RunsArtifactRepository`, when the
/// run holds nothing at that path and its first segment is the name of a model the run logged,
/// the path is read from that logged model instead (`runs:/<run>/model` of `log_model(name="model")`).
fn resolve_runs_uri(conn: &Connection, uri: &str) -> ApiResult<String> {
    let (run_id, path) = parse_runs_uri(uri)?;
    let root: String = conn
        .query_row(
            "SELECT artifact_uri FROM runs WHERE run_uuid = ?1",
            [&run_id],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("Run with id={run_id} not found")))?
        .unwrap_or_default();
    let path = path.unwrap_or_default();
    let direct = join_uri(&root, &path);
    if path.is_empty() || has_artifacts(conn, &direct)? {
        return Ok(direct);
    }
    let (first, rest) = path.split_once('/').unwrap_or((path.as_str(), ""));
    let model: Option<String> = conn
        .query_row(
            "SELECT artifact_location FROM logged_models
             WHERE source_run_id = ?1 AND name = ?2 AND lifecycle_stage IS NOT 'deleted'
             ORDER BY creation_timestamp_ms DESC LIMIT 1",
            params![run_id, first],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match model {
        Some(location) => join_uri(&location, rest),
        None => direct,
    })
}

/// The version a name-based `models:/` URI names, as MLflow's `get_model_name_and_version`.
pub(crate) fn version_of(conn: &Connection, parsed: &ModelUri) -> ApiResult<(String, String)> {
    use super::models::{latest_versions, registered_model_row};
    match parsed {
        ModelUri::LoggedModel { .. } => Err(ApiError::invalid(
            "a logged model URI names no registered model version",
        )),
        ModelUri::Version { name, version } => Ok((name.clone(), version.clone())),
        ModelUri::Alias { name, alias } => {
            let mv = super::models::version_by_alias(conn, name, alias)?;
            Ok((name.clone(), mv.version))
        }
        ModelUri::Stage { name, .. } | ModelUri::Latest { name } => {
            let stage = match parsed {
                ModelUri::Stage { stage, .. } => Some(stage.as_str()),
                _ => None,
            };
            registered_model_row(conn, name)?;
            let stages: Vec<String> = stage.map(|s| vec![s.to_string()]).unwrap_or_default();
            let latest = latest_versions(conn, name, &stages)?;
            match latest.iter().map(|mv| mv.number()).max() {
                Some(v) => Ok((name.clone(), v.to_string())),
                None => Err(uncoded(format!(
                    "No versions of model with name '{name}'{} found",
                    stage
                        .map(|s| format!(" and stage '{s}'"))
                        .unwrap_or_default()
                ))),
            }
        }
    }
}

/// Any model URI (`runs:/`, `models:/` in all its forms) or artifact URI to the artifact URI
/// where its files are: `mlflow-artifacts:/...` for everything this store holds.
pub fn resolve_artifact_uri(conn: &Connection, uri: &str) -> ApiResult<String> {
    let mut current = uri.to_string();
    // A version may be registered from another version or a run: follow, but not forever.
    for _ in 0..16 {
        let scheme = Url::parse(&current, true).scheme;
        match scheme.as_str() {
            "runs" => current = resolve_runs_uri(conn, &current)?,
            "models" => {
                let (base, path) = split_models_uri(&current);
                let parsed = parse_model_uri(&base)?;
                let location = match &parsed {
                    ModelUri::LoggedModel { model_id } => logged_model_location(conn, model_id)?,
                    _ => {
                        let (name, version) = version_of(conn, &parsed)?;
                        super::versions::download_uri(conn, &name, &version)?
                    }
                };
                current = join_uri(&location, &path);
            }
            _ => return Ok(current),
        }
    }
    Err(ApiError::invalid(format!(
        "Model URI '{uri}' refers to itself through too many registered versions"
    )))
}

/// Like [`resolve_artifact_uri`], then the key of the `flowbook_artifacts` rows under it.
pub fn resolve_artifact_key(conn: &Connection, uri: &str) -> ApiResult<String> {
    key_of_uri(&resolve_artifact_uri(conn, uri)?)
}

impl Store {
    /// See [`resolve_artifact_uri`].
    pub fn resolve_model_uri(&self, uri: &str) -> ApiResult<String> {
        resolve_artifact_uri(self.connection(), uri)
    }

    /// See [`resolve_artifact_key`].
    pub fn resolve_model_artifact_key(&self, uri: &str) -> ApiResult<String> {
        resolve_artifact_key(self.connection(), uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_as_python_does() {
        let u = Url::parse("mlflow-artifacts://Host:5000/a/b?x=1#f", true);
        assert_eq!(u.scheme, "mlflow-artifacts");
        assert_eq!(u.netloc, "Host:5000");
        assert_eq!(u.hostname().as_deref(), Some("host"));
        assert_eq!(
            (u.path.as_str(), u.query.as_str(), u.fragment.as_str()),
            ("/a/b", "x=1", "f")
        );
        assert_eq!(Url::parse("relative/path", true).scheme, "");
        assert_eq!(Url::parse("1abc:/x", true).scheme, "");
        assert_eq!(Url::parse("RUNS:/abc", true).scheme, "runs");
    }

    #[test]
    fn model_uris_parse_as_mlflow_parses_them() {
        let v = |n: &str, s: &str| ModelUri::Version {
            name: n.into(),
            version: s.into(),
        };
        assert_eq!(parse_model_uri("models:/m/3").unwrap(), v("m", "3"));
        assert_eq!(
            parse_model_uri("models:/m/Production").unwrap(),
            ModelUri::Stage {
                name: "m".into(),
                stage: "Production".into()
            }
        );
        assert_eq!(
            parse_model_uri("models:/m/LATEST").unwrap(),
            ModelUri::Latest { name: "m".into() }
        );
        assert_eq!(
            parse_model_uri("models:/m@champ").unwrap(),
            ModelUri::Alias {
                name: "m".into(),
                alias: "champ".into()
            }
        );
        assert_eq!(
            parse_model_uri("models:/m-abc").unwrap(),
            ModelUri::LoggedModel {
                model_id: "m-abc".into()
            }
        );
        for bad in [
            "models:/",
            "models:/a/b/c",
            "models:/m/ ",
            "models:/m@",
            "runs:/x",
            "models:m/1",
        ] {
            assert!(parse_model_uri(bad).is_err(), "{bad}");
        }
        assert_eq!(
            split_models_uri("models:/m/1/MLmodel"),
            ("models:/m/1".to_string(), "MLmodel".to_string())
        );
        assert_eq!(
            split_models_uri("models:/m@a/dir/f"),
            ("models:/m@a".to_string(), "dir/f".to_string())
        );
        assert_eq!(
            split_models_uri("models:/m/1"),
            ("models:/m/1".to_string(), String::new())
        );
        assert_eq!(
            parse_runs_uri("runs:/abc/model/x").unwrap(),
            ("abc".to_string(), Some("model/x".to_string()))
        );
        assert_eq!(
            parse_runs_uri("runs:/abc").unwrap(),
            ("abc".to_string(), None)
        );
        assert!(parse_runs_uri("runs:/").is_err());
    }
}
