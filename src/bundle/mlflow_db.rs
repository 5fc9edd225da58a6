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
    copy.execute_batch("DROP TABLE IF EXISTS flowbook_artifacts; VACUUM;")?;
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
