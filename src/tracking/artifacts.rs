//! Artifacts, kept in Flowbook's `flowbook_artifacts` table and named as MLflow's artifact proxy
//! names them: `mlflow-artifacts:/<experiment>/<run>/artifacts/<path>` is row `<experiment>/<run>/artifacts/<path>`.
//! Paths are checked so that no artifact can name a place outside its root (`..`, absolute paths).

use super::{Store, ARTIFACT_ROOT};
use crate::api::{ApiError, ApiResult};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileInfo {
    pub path: String,
    pub is_dir: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_size: Option<i64>,
}

/// Checks a relative artifact path: no `..`, no absolute path, no empty or `.` segments.
pub fn clean_relative_path(path: &str) -> ApiResult<String> {
    // Leading and trailing slashes are tolerated: the proxy's URLs carry them.
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if trimmed.contains('\\') || trimmed.contains('\0') {
        return Err(ApiError::invalid(format!(
            "Invalid artifact path: '{path}'"
        )));
    }
    for seg in trimmed.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err(ApiError::invalid(format!(
                "Invalid artifact path: '{path}'. Paths must be relative and may not contain '.' or '..' segments."
            )));
        }
    }
    Ok(trimmed.to_string())
}

/// The table key of an artifact URI in this store (`mlflow-artifacts:/x/y` → `x/y`).
pub fn key_of_uri(uri: &str) -> ApiResult<String> {
    let rest = uri.strip_prefix(ARTIFACT_ROOT).ok_or_else(|| {
        ApiError::invalid(format!(
            "artifact URI '{uri}' is not an mlflow-artifacts:/ URI"
        ))
    })?;
    clean_relative_path(rest)
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

impl Store {
    pub fn put_artifact(&mut self, key: &str, content: &[u8]) -> ApiResult<()> {
        let key = clean_relative_path(key)?;
        if key.is_empty() {
            return Err(ApiError::invalid("an artifact needs a file name"));
        }
        self.write(|tx| {
            let is_dir: bool = tx
                .query_row(
                    "SELECT 1 FROM flowbook_artifacts WHERE path > ?1 AND path < ?2 LIMIT 1",
                    params![format!("{key}/"), format!("{key}0")],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if is_dir {
                return Err(ApiError::invalid(format!(
                    "'{key}' is a directory of artifacts; it cannot also be a file"
                )));
            }
            tx.execute(
                "INSERT OR REPLACE INTO flowbook_artifacts (path, content) VALUES (?1, ?2)",
                params![key, content],
            )?;
            Ok(())
        })
    }

    pub fn get_artifact(&self, key: &str) -> ApiResult<Vec<u8>> {
        let key = clean_relative_path(key)?;
        self.connection()
            .query_row(
                "SELECT content FROM flowbook_artifacts WHERE path = ?1",
                [&key],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| ApiError::not_found(format!("No artifact found at '{key}'")))
    }

    pub fn delete_artifacts(&mut self, key: &str) -> ApiResult<()> {
        let key = clean_relative_path(key)?;
        self.write(|tx| {
            tx.execute(
                "DELETE FROM flowbook_artifacts WHERE path = ?1 OR (path > ?2 AND path < ?3)",
                params![key, format!("{key}/"), format!("{key}0")],
            )?;
            Ok(())
        })
    }

    /// Direct children of `dir` (files with sizes, and sub-directories), paths relative to `base`.
    pub fn list_artifacts(&self, base: &str, dir: &str) -> ApiResult<Vec<FileInfo>> {
        let base = clean_relative_path(base)?;
        let dir = clean_relative_path(dir)?;
        let full = join(&base, &dir);
        let prefix = if full.is_empty() {
            String::new()
        } else {
            format!("{full}/")
        };
        let mut stmt = self.connection().prepare_cached(
            "SELECT path, length(content) FROM flowbook_artifacts WHERE path >= ?1 AND path < ?2 ORDER BY path",
        )?;
        // `prefix` .. `prefix` with its last byte raised: every path under the directory.
        let upper = if prefix.is_empty() {
            "\u{10FFFF}".to_string()
        } else {
            format!("{}0", &prefix[..prefix.len() - 1])
        };
        let rows = stmt
            .query_map(params![prefix, upper], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out: Vec<FileInfo> = Vec::new();
        for (path, size) in rows {
            let rest = &path[prefix.len()..];
            let (name, is_dir) = match rest.split_once('/') {
                Some((first, _)) => (first, true),
                None => (rest, false),
            };
            let rel = join(&dir, name);
            if out.last().is_some_and(|f| f.path == rel) {
                continue;
            }
            out.push(FileInfo {
                path: rel,
                is_dir,
                file_size: if is_dir { None } else { Some(size) },
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_list_by_directory_and_refuse_escaping_paths() {
        let mut s = Store::open_in_memory().unwrap();
        s.put_artifact("1/r/artifacts/model/MLmodel", b"flavors: {}")
            .unwrap();
        s.put_artifact("1/r/artifacts/model/model.pkl", b"1234")
            .unwrap();
        s.put_artifact("1/r/artifacts/notes.txt", b"hi").unwrap();
        s.put_artifact("1/r2/artifacts/other.txt", b"x").unwrap();
        let top = s.list_artifacts("1/r/artifacts", "").unwrap();
        assert_eq!(
            top,
            vec![
                FileInfo {
                    path: "model".into(),
                    is_dir: true,
                    file_size: None
                },
                FileInfo {
                    path: "notes.txt".into(),
                    is_dir: false,
                    file_size: Some(2)
                },
            ]
        );
        let model = s.list_artifacts("1/r/artifacts", "model").unwrap();
        assert_eq!(model.len(), 2);
        assert_eq!(model[0].path, "model/MLmodel");
        assert_eq!(
            s.get_artifact("1/r/artifacts/model/model.pkl").unwrap(),
            b"1234"
        );
        for bad in ["../x", "1/../../etc/passwd", "a/./b", "a\\b"] {
            assert!(s.put_artifact(bad, b"x").is_err(), "{bad}");
        }
        assert!(
            s.put_artifact("1/r/artifacts/model", b"x").is_err(),
            "a directory cannot become a file"
        );
        s.delete_artifacts("1/r/artifacts/model").unwrap();
        assert_eq!(s.list_artifacts("1/r/artifacts", "").unwrap().len(), 1);
    }
}
