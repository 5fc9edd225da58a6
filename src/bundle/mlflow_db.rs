//! The `mlflow.db` bundle: a zip of the database (MLflow's tables only) and `mlartifacts/<path>`
//! for every artifact, which `mlflow server --backend-store-uri sqlite:///mlflow.db
//! --artifacts-destination ./mlartifacts`, run in the unzipped folder, serves as it is: the runs'
//! `mlflow-artifacts:/<path>` URIs resolve to `mlartifacts/<path>`.

use crate::api::{ApiError, ApiResult};
use crate::tracking::Store;
use rusqlite::{Connection, MAIN_DB};
use std::io::Write;
use zip::write::SimpleFileOptions;

/// What an export wrote, for the one-line summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportSummary {
    pub experiments: i64,
    pub runs: i64,
    pub registered_models: i64,
    pub artifacts: i64,
    pub bytes: usize,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} experiments, {} runs, {} registered models, {} artifacts ({} bytes zipped)",
            self.experiments, self.runs, self.registered_models, self.artifacts, self.bytes
        )
    }
}

fn count(conn: &Connection, table: &str) -> ApiResult<i64> {
    Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
}

fn zip_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("cannot write the zip: {e}"))
}

/// The store as an `mlflow.db` bundle (zip bytes).
pub fn export(store: &Store) -> ApiResult<(Vec<u8>, ExportSummary)> {
    // A copy through SQLite's backup API, so the store itself is never touched; Flowbook's own
    // table is dropped from the copy, which is then MLflow's schema and nothing else.
    let mut copy = Connection::open_in_memory()?;
    {
        let backup = rusqlite::backup::Backup::new(store.connection(), &mut copy)?;
        backup.run_to_completion(256, std::time::Duration::ZERO, None)?;
    }
    copy.execute_batch(
        "DROP TABLE IF EXISTS flowbook_artifacts; DROP INDEX IF EXISTS flowbook_runs_experiment; VACUUM;",
    )?;
    let summary = ExportSummary {
        experiments: count(&copy, "experiments")?,
        runs: count(&copy, "runs")?,
        registered_models: count(&copy, "registered_models")?,
        artifacts: count(store.connection(), "flowbook_artifacts")?,
        bytes: 0,
    };
    let database = copy.serialize(MAIN_DB)?.to_vec();

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("mlflow.db", options).map_err(zip_error)?;
    zip.write_all(&database).map_err(zip_error)?;
    let mut stmt = store
        .connection()
        .prepare("SELECT path, content FROM flowbook_artifacts ORDER BY path")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let path: String = row.get(0)?;
        let content: Vec<u8> = row.get(1)?;
        zip.start_file(format!("mlartifacts/{path}"), options)
            .map_err(zip_error)?;
        zip.write_all(&content).map_err(zip_error)?;
    }
    let bytes = zip.finish().map_err(zip_error)?.into_inner();
    Ok((
        bytes.clone(),
        ExportSummary {
            bytes: bytes.len(),
            ..summary
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_bundle_holds_mlflows_tables_and_every_artifact() {
        let mut store = Store::open_in_memory().unwrap();
        let run = store.create_run("0", "u", None, Some("r"), &[]).unwrap();
        let key = format!("0/{}/artifacts/notes/readme.txt", run.info.run_id);
        store.put_artifact(&key, b"hello").unwrap();
        let (bytes, summary) = export(&store).unwrap();
        assert_eq!(
            (summary.experiments, summary.runs, summary.artifacts),
            (1, 1, 1)
        );
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut text = String::new();
        zip.by_name(&format!("mlartifacts/{key}"))
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "hello");
        let mut db = Vec::new();
        zip.by_name("mlflow.db")
            .unwrap()
            .read_to_end(&mut db)
            .unwrap();
        let mut conn = Connection::open_in_memory().unwrap();
        conn.deserialize_read_exact(MAIN_DB, &db[..], db.len(), true)
            .unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'flowbook_artifacts'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "Flowbook's own table stays home");
        assert_eq!(
            conn.query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            1
        );
        assert_eq!(
            store.get_run(&run.info.run_id).unwrap().info.run_name,
            "r",
            "the store is untouched"
        );
    }
}

/// Caps on what a bundle may unpack to, checked before anything is read: sized for a browser tab.
pub const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;
/// A larger compression ratio than this is treated as a zip bomb.
pub const MAX_RATIO: u64 = 200;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSummary {
    pub experiments: i64,
    pub runs: i64,
    pub registered_models: i64,
    pub artifacts: i64,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} experiments, {} runs, {} registered models, {} artifacts",
            self.experiments, self.runs, self.registered_models, self.artifacts
        )
    }
}

/// Reads every entry of a zip, refusing escaping paths and zip bombs, naming the entry at fault.
fn read_entries(bytes: &[u8]) -> ApiResult<Vec<(String, Vec<u8>)>> {
    let bad = |m: String| ApiError::invalid(m);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("not a readable zip file: {e}")))?;
    let mut total = 0u64;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| bad(format!("zip entry #{i} is unreadable: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| bad(format!("zip entry #{i} has an unreadable name: {e}")))?
            .to_string();
        if entry.enclosed_name().is_none()
            || name.starts_with('/')
            || name.split('/').any(|s| s == "..")
        {
            return Err(bad(format!("zip entry '{name}' points outside the bundle")));
        }
        if entry.is_dir() {
            continue;
        }
        total = total.saturating_add(entry.size());
        if total > MAX_TOTAL_BYTES {
            return Err(bad(format!(
                "the bundle unpacks to more than {MAX_TOTAL_BYTES} bytes (at entry '{name}')"
            )));
        }
        if entry.size() > 1024 * 1024 && entry.size() / entry.compressed_size().max(1) > MAX_RATIO {
            return Err(bad(format!(
                "zip entry '{name}' is compressed more than {MAX_RATIO}:1; refusing a zip bomb"
            )));
        }
        let mut content = Vec::with_capacity(entry.size().min(MAX_TOTAL_BYTES) as usize);
        std::io::Read::by_ref(&mut entry)
            .take(MAX_TOTAL_BYTES + 1)
            .read_to_end(&mut content)
            .map_err(|e| bad(format!("zip entry '{name}' is truncated or corrupt: {e}")))?;
        out.push((name, content));
    }
    Ok(out)
}

/// A location written by the machine that made the bundle, as this store names it: the part after
/// `mlartifacts/` (or `mlruns/`) becomes an `mlflow-artifacts:/` URI.
fn relocate(location: &str) -> String {
    if location.starts_with("mlflow-artifacts:")
        || location.starts_with("models:/")
        || location.starts_with("runs:/")
    {
        return location.to_string();
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    for marker in ["mlartifacts/", "mlruns/"] {
        if let Some(i) = path.rfind(marker) {
            return format!("mlflow-artifacts:/{}", &path[i + marker.len()..]);
        }
    }
    location.to_string()
}

use std::io::Read;

/// Opens an `mlflow.db` bundle (zip of `mlflow.db` + `mlartifacts/`) as this store's content.
/// Only into a store that holds nothing yet: merging into existing data is refused with a message,
/// and a refused or failed import leaves the store exactly as it was.
pub fn import(store: &mut Store, zip_bytes: &[u8]) -> ApiResult<ImportSummary> {
    let entries = read_entries(zip_bytes)?;
    let (prefix, db) = entries
        .iter()
        .find(|(n, _)| n == "mlflow.db" || n.ends_with("/mlflow.db"))
        .map(|(n, c)| (n.trim_end_matches("mlflow.db").to_string(), c))
        .ok_or_else(|| ApiError::invalid("the bundle has no mlflow.db"))?;
    if !db.starts_with(b"SQLite format 3\0") {
        return Err(ApiError::invalid(format!(
            "'{prefix}mlflow.db' is not an SQLite database"
        )));
    }
    let held: i64 = store.connection().query_row(
        "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM registered_models) + (SELECT count(*) FROM experiments WHERE experiment_id != 0)",
        [],
        |r| r.get(0),
    )?;
    if held > 0 {
        return Err(ApiError::new(
            crate::api::ErrorCode::InvalidState,
            "this store already holds experiments or runs: an mlflow.db bundle opens only into an empty store (export this one first)",
        ));
    }
    let mut source = Connection::open_in_memory()?;
    source
        .deserialize_read_exact(MAIN_DB, &db[..], db.len(), false)
        .map_err(|e| ApiError::invalid(format!("'{prefix}mlflow.db' cannot be read: {e}")))?;
    // Validates the schema revision (and creates Flowbook's table) exactly as opening a store does.
    let mut staged = Store::from_connection(source)
        .map_err(|e| ApiError::invalid(format!("'{prefix}mlflow.db': {}", e.message)))?;
    staged.write(|tx| {
        for (table, column, key) in [
            ("experiments", "artifact_location", "experiment_id"),
            ("runs", "artifact_uri", "run_uuid"),
            ("logged_models", "artifact_location", "model_id"),
        ] {
            let rows: Vec<(rusqlite::types::Value, Option<String>)> = tx
                .prepare(&format!("SELECT {key}, {column} FROM {table}"))?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, location) in rows {
                if let Some(loc) = location {
                    tx.execute(&format!("UPDATE {table} SET {column} = ?1 WHERE {key} = ?2"), rusqlite::params![relocate(&loc), id])?;
                }
            }
        }
        let versions: Vec<(String, i64, Option<String>)> = tx
            .prepare("SELECT name, version, storage_location FROM model_versions")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (name, version, location) in versions {
            if let Some(loc) = location {
                tx.execute(
                    "UPDATE model_versions SET storage_location = ?1 WHERE name = ?2 AND version = ?3",
                    rusqlite::params![relocate(&loc), name, version],
                )?;
            }
        }
        let artifacts = format!("{prefix}mlartifacts/");
        for (name, content) in &entries {
            if let Some(key) = name.strip_prefix(&artifacts) {
                let key = crate::tracking::artifacts::clean_relative_path(key)?;
                tx.execute("INSERT OR REPLACE INTO flowbook_artifacts (path, content) VALUES (?1, ?2)", rusqlite::params![key, content])?;
            }
        }
        Ok(())
    })?;
    let summary = ImportSummary {
        experiments: count(staged.connection(), "experiments")?,
        runs: count(staged.connection(), "runs")?,
        registered_models: count(staged.connection(), "registered_models")?,
        artifacts: count(staged.connection(), "flowbook_artifacts")?,
    };
    // One backup step of every page: the store takes the staged database in one transaction.
    let backup = rusqlite::backup::Backup::new(staged.connection(), store.connection_mut())?;
    backup.step(-1)?;
    Ok(summary)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod import_tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/mlflow3-sqlite-course.zip"
        ))
        .unwrap()
    }

    #[test]
    fn real_mlflows_database_bundle_opens_with_its_artifacts() {
        let mut store = Store::open_in_memory().unwrap();
        let summary = import(&mut store, &fixture()).unwrap();
        assert!(
            summary.runs >= 8 && summary.registered_models == 1 && summary.artifacts > 10,
            "{summary}"
        );
        let exp = store.get_experiment_by_name("nyc-taxi-experiment").unwrap();
        assert_eq!(
            exp.artifact_location,
            format!("mlflow-artifacts:/{}", exp.experiment_id)
        );
        let run = store.get_run("21db8332843c4e4ba61bd11854c52739").unwrap();
        assert_eq!(
            run.info.artifact_uri,
            "mlflow-artifacts:/1/21db8332843c4e4ba61bd11854c52739/artifacts"
        );
        let files = store
            .list_artifacts("1/21db8332843c4e4ba61bd11854c52739/artifacts", "")
            .unwrap();
        assert_eq!(files[0].path, "preprocessor");
        // A second import is refused and changes nothing.
        let e = import(&mut store, &fixture()).unwrap_err();
        assert!(
            e.message.contains("only into an empty store"),
            "{}",
            e.message
        );
        assert_eq!(store.get_run(&run.info.run_id).unwrap(), run);
    }

    #[test]
    fn bad_bundles_are_refused_naming_the_problem() {
        let mut store = Store::open_in_memory().unwrap();
        let mut zip_of = |entries: &[(&str, &[u8])]| {
            let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            for (n, c) in entries {
                w.start_file(*n, SimpleFileOptions::default()).unwrap();
                w.write_all(c).unwrap();
            }
            import(&mut store, &w.finish().unwrap().into_inner())
                .unwrap_err()
                .message
        };
        assert!(zip_of(&[("notes.txt", b"x")]).contains("no mlflow.db"));
        assert!(
            zip_of(&[("mlflow.db", b"definitely not sqlite")]).contains("not an SQLite database")
        );
        assert!(zip_of(&[("../evil/mlflow.db", b"x")]).contains("points outside the bundle"));
        let e = import(&mut store, b"PK\x03\x04 truncated").unwrap_err();
        assert!(e.message.contains("not a readable zip"), "{}", e.message);
        let e = import(&mut store, &fixture()[..1000]).unwrap_err();
        assert!(e.message.contains("zip"), "{}", e.message);
        assert_eq!(
            store
                .all_experiments(crate::tracking::ViewType::All)
                .unwrap()
                .len(),
            1,
            "nothing was written"
        );
    }
}
