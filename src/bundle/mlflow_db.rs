//! The `mlflow.db` bundle: a zip of the database (MLflow's tables only) and `mlartifacts/<path>`
//! for every artifact, which `mlflow server --backend-store-uri sqlite:///mlflow.db
//! --artifacts-destination ./mlartifacts`, run in the unzipped folder, serves as it is: the runs'
//! `mlflow-artifacts:/<path>` URIs resolve to `mlartifacts/<path>`.

use super::merge::{
    DatasetRecord, ExperimentRecord, ImportSummary, LoggedModelMetric, LoggedModelRecord, Merge,
    RegisteredModelRecord, RunRecord, VersionRecord,
};
use super::source::Source;
use super::{query_all, query_key_values};
use crate::api::{ApiError, ApiResult};
use crate::tracking::{KeyValue, Metric, Store};
use rusqlite::{Connection, MAIN_DB};
use std::io::{Seek, Write};
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

/// Flowbook's own objects: artifacts (written out as files), and this store's bookkeeping, which
/// means nothing in another store (its sync mapping to a server, a learner's lesson progress).
/// Feature tables stay: a model logged with a lookup spec needs its table wherever it goes.
const DROP_FLOWBOOK_OBJECTS: &str = "DROP TABLE IF EXISTS flowbook_artifacts; \
     DROP TABLE IF EXISTS flowbook_sync; DROP TABLE IF EXISTS flowbook_lesson_progress; \
     DROP INDEX IF EXISTS flowbook_runs_experiment; DROP INDEX IF EXISTS flowbook_runs_newest; \
     DROP INDEX IF EXISTS flowbook_runs_oldest; VACUUM;";

/// A copy of the store with MLflow's tables only (the store itself is never touched), as an open
/// connection (for counting) and a reader of its bytes. Natively the copy is a temporary file, so a
/// large store is streamed into the zip rather than held in memory twice.
#[cfg(not(target_arch = "wasm32"))]
fn mlflow_tables(store: &Store) -> ApiResult<(Connection, Box<dyn std::io::Read>)> {
    /// The copy's file, removed when the export is done with it (or fails).
    struct TempFile(std::path::PathBuf, Option<std::fs::File>);
    impl std::io::Read for TempFile {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1.as_mut().map_or(Ok(0), |f| f.read(buf))
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let mut temp = TempFile(
        std::env::temp_dir().join(format!("flowbook-export-{}.db", crate::tracking::new_id())),
        None,
    );
    store
        .connection()
        .execute("VACUUM INTO ?1", [temp.0.to_string_lossy()])?;
    let copy = Connection::open(&temp.0)?;
    copy.execute_batch(DROP_FLOWBOOK_OBJECTS)?;
    temp.1 = Some(
        std::fs::File::open(&temp.0)
            .map_err(|e| ApiError::internal(format!("cannot read the temporary copy: {e}")))?,
    );
    Ok((copy, Box::new(temp)))
}

/// In the browser the copy is made in memory (there is no temporary file to stream from).
#[cfg(target_arch = "wasm32")]
fn mlflow_tables(store: &Store) -> ApiResult<(Connection, Box<dyn std::io::Read>)> {
    let mut copy = Connection::open_in_memory()?;
    {
        // All pages in one step: run_to_completion sleeps between steps, which wasm cannot.
        let backup = rusqlite::backup::Backup::new(store.connection(), &mut copy)?;
        backup.step(-1)?;
    }
    copy.execute_batch(DROP_FLOWBOOK_OBJECTS)?;
    let bytes = copy.serialize(MAIN_DB)?.to_vec();
    Ok((copy, Box::new(std::io::Cursor::new(bytes))))
}

/// Writes the store as an `mlflow.db` bundle (a zip) into `out`.
pub fn write<W: Write + Seek>(
    store: &Store,
    out: W,
    progress: &mut dyn FnMut(usize, usize),
) -> ApiResult<(W, ExportSummary)> {
    let (copy, mut database) = mlflow_tables(store)?;
    let summary = ExportSummary {
        experiments: count(&copy, "experiments")?,
        runs: count(&copy, "runs")?,
        registered_models: count(&copy, "registered_models")?,
        artifacts: count(store.connection(), "flowbook_artifacts")?,
        bytes: 0,
    };
    drop(copy);
    let mut zip = zip::ZipWriter::new(out);
    // Fast deflate: a database compresses well even at level 1, and level 6 takes three times as long.
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    zip.start_file("mlflow.db", options).map_err(zip_error)?;
    std::io::copy(&mut database, &mut zip).map_err(zip_error)?;
    drop(database);
    let mut stmt = store
        .connection()
        .prepare("SELECT path, content FROM flowbook_artifacts ORDER BY path")?;
    let mut rows = stmt.query([])?;
    let total = summary.artifacts.max(0) as usize + 1;
    let mut done = 1;
    progress(done, total);
    while let Some(row) = rows.next()? {
        let path: String = row.get(0)?;
        let content: Vec<u8> = row.get(1)?;
        zip.start_file(format!("mlartifacts/{path}"), options)
            .map_err(zip_error)?;
        zip.write_all(&content).map_err(zip_error)?;
        done += 1;
        progress(done, total);
    }
    let out = zip.finish().map_err(zip_error)?;
    Ok((out, summary))
}

/// Opens an `mlflow.db` bundle: the database at `db_path` of the source, its artifacts under
/// `mlartifacts/` (or `mlruns/`, where `mlflow ui` keeps them) beside it. Into an empty store the
/// database is taken whole (every MLflow table); into one that holds data, its experiments, runs,
/// logged models and registry are merged by the rule of [`super::merge`].
pub fn import(
    store: &mut Store,
    source: &mut Source,
    db_path: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> ApiResult<ImportSummary> {
    let prefix = db_path.trim_end_matches("mlflow.db").to_string();
    let db = source.read(db_path)?;
    if !db.starts_with(b"SQLite format 3\0") {
        return Err(ApiError::invalid(format!(
            "'{db_path}' is not an SQLite database"
        )));
    }
    let mut conn = Connection::open_in_memory()?;
    conn.deserialize_read_exact(MAIN_DB, &db[..], db.len(), false)
        .map_err(|e| ApiError::invalid(format!("'{db_path}' cannot be read: {e}")))?;
    drop(db);
    // Validates the schema revision (and creates Flowbook's table) exactly as opening a store does.
    let mut staged = Store::from_connection(conn)
        .map_err(|e| ApiError::invalid(format!("'{db_path}': {}", e.message)))?;
    let artifacts: Vec<(String, String)> = ["mlartifacts", "mlruns"]
        .iter()
        .flat_map(|dir| {
            source
                .under(&format!("{prefix}{dir}"))
                .map(|(p, k)| (p.to_string(), k.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let total = artifacts.len() + 1;
    let held: i64 = store.connection().query_row(
        "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM registered_models) + (SELECT count(*) FROM experiments WHERE experiment_id != 0)",
        [],
        |r| r.get(0),
    )?;
    if held > 0 {
        return store.write(|tx| {
            let mut merge = Merge::new(tx);
            merge_database(staged.connection(), &mut merge)?;
            for (i, (path, key)) in artifacts.iter().enumerate() {
                merge.artifact(key, &source.read(path)?)?;
                progress(i + 2, total);
            }
            Ok(merge.summary)
        });
    }
    let mut artifact_count = 0;
    staged.write(|tx| {
        let merge = Merge::new(tx);
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
                    tx.execute(&format!("UPDATE {table} SET {column} = ?1 WHERE {key} = ?2"), rusqlite::params![merge.relocate(&loc), id])?;
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
                    rusqlite::params![merge.relocate(&loc), name, version],
                )?;
            }
        }
        let mut insert = tx.prepare("INSERT OR REPLACE INTO flowbook_artifacts (path, content) VALUES (?1, ?2)")?;
        for (i, (path, key)) in artifacts.iter().enumerate() {
            let key = crate::tracking::artifacts::clean_relative_path(key)?;
            insert.execute(rusqlite::params![key, source.read(path)?])?;
            artifact_count += 1;
            progress(i + 2, total);
        }
        Ok(())
    })?;
    let summary = ImportSummary {
        experiments: count(staged.connection(), "experiments")?,
        runs: count(staged.connection(), "runs")?,
        registered_models: count(staged.connection(), "registered_models")?,
        model_versions: count(staged.connection(), "model_versions")?,
        artifacts: artifact_count,
        ..Default::default()
    };
    // One backup step of every page: the store takes the staged database in one transaction. (The
    // store is out of WAL mode here — `bundle::import` sees to it — as SQLite refuses a backup into a
    // WAL database of another page size.)
    let backup = rusqlite::backup::Backup::new(staged.connection(), store.connection_mut())?;
    backup.step(-1)?;
    progress(total, total);
    Ok(summary)
}

/// Feeds another MLflow database's experiments, runs, logged models and registry through `merge`.
fn merge_database(src: &Connection, merge: &mut Merge) -> ApiResult<()> {
    let experiments = query_all(
        src,
        "SELECT experiment_id, name, lifecycle_stage, creation_time, last_update_time FROM experiments ORDER BY experiment_id",
        [],
        |r| Ok((r.get::<_, i64>(0)?.to_string(), r.get(1)?, r.get::<_, Option<String>>(2)?, r.get(3)?, r.get(4)?)),
    )?;
    for (id, name, stage, created, updated) in experiments {
        let tags = query_key_values(
            src,
            "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1",
            [&id],
        )?;
        merge.experiment(&ExperimentRecord {
            id,
            name,
            lifecycle_stage: stage.unwrap_or_else(|| "active".into()),
            creation_time: created,
            last_update_time: updated,
            tags,
        })?;
    }
    for d in query_all(
        src,
        "SELECT dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile FROM datasets",
        [],
        |r| Ok(DatasetRecord { uuid: r.get(0)?, experiment_id: r.get::<_, i64>(1)?.to_string(), name: r.get(2)?, digest: r.get(3)?, source_type: r.get(4)?, source: r.get(5)?, schema: r.get(6)?, profile: r.get(7)? }),
    )? {
        merge.dataset(&d)?;
    }
    let runs = query_all(
        src,
        "SELECT run_uuid, experiment_id, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, deleted_time FROM runs",
        [],
        |r| Ok(RunRecord {
            run_id: r.get(0)?,
            experiment_id: r.get::<_, i64>(1)?.to_string(),
            name: r.get(2)?,
            source_type: r.get::<_, Option<String>>(3)?.unwrap_or_else(|| "UNKNOWN".into()),
            source_name: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            entry_point_name: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            user_id: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
            status: r.get::<_, Option<String>>(7)?.unwrap_or_else(|| "FINISHED".into()),
            start_time: r.get(8)?,
            end_time: r.get(9)?,
            source_version: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
            lifecycle_stage: r.get::<_, Option<String>>(11)?.unwrap_or_else(|| "active".into()),
            artifact_uri: r.get(12)?,
            deleted_time: r.get(13)?,
        }),
    )?;
    for run in runs {
        if !merge.run(&run)? {
            continue;
        }
        let id = &run.run_id;
        merge.params(
            id,
            &query_key_values(
                src,
                "SELECT key, value FROM params WHERE run_uuid = ?1",
                [id],
            )?,
        )?;
        merge.tags(
            id,
            &query_key_values(src, "SELECT key, value FROM tags WHERE run_uuid = ?1", [id])?,
        )?;
        let metrics = query_all(
            src,
            "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1",
            [id],
            |r| {
                Ok(Metric {
                    key: r.get(0)?,
                    value: if r.get::<_, bool>(4)? {
                        f64::NAN
                    } else {
                        r.get(1)?
                    },
                    timestamp: r.get(2)?,
                    step: r.get(3)?,
                })
            },
        )?;
        merge.metrics(id, &metrics)?;
        let inputs = query_all(
            src,
            "SELECT input_uuid, source_id FROM inputs WHERE source_type = 'DATASET' AND destination_type = 'RUN' AND destination_id = ?1",
            [id],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )?;
        for (input, dataset) in inputs {
            let tags = query_key_values(
                src,
                "SELECT name, value FROM input_tags WHERE input_uuid = ?1",
                [&input],
            )?;
            merge.dataset_input(id, &dataset, &tags)?;
        }
    }
    let models = query_all(
        src,
        "SELECT model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id, status_message FROM logged_models",
        [],
        |r| Ok(LoggedModelRecord { model_id: r.get(0)?, experiment_id: r.get::<_, i64>(1)?.to_string(), name: r.get(2)?, artifact_location: r.get(3)?, creation_time: r.get(4)?, last_updated_time: r.get(5)?, status: r.get(6)?, lifecycle_stage: r.get::<_, Option<String>>(7)?.unwrap_or_else(|| "active".into()), model_type: r.get(8)?, source_run_id: r.get(9)?, status_message: r.get(10)? }),
    )?;
    for m in models {
        if !merge.logged_model(&m)? {
            continue;
        }
        let id = &m.model_id;
        let params = query_key_values(
            src,
            "SELECT param_key, param_value FROM logged_model_params WHERE model_id = ?1",
            [id],
        )?;
        let tags = query_key_values(
            src,
            "SELECT tag_key, tag_value FROM logged_model_tags WHERE model_id = ?1",
            [id],
        )?;
        let metrics = LoggedModelMetric::read_all(src, id)?;
        merge.logged_model_details(id, &params, &tags, &metrics)?;
    }
    let outputs = query_all(
        src,
        "SELECT source_id, destination_id, step FROM inputs WHERE source_type = 'RUN_OUTPUT' AND destination_type = 'MODEL_OUTPUT'",
        [],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)),
    )?;
    for (run, model, step) in outputs {
        if merge.taken(&run) {
            merge.model_output(&run, &model, step)?;
        }
    }
    let registered = query_all(
        src,
        "SELECT name, creation_time, last_updated_time, description FROM registered_models ORDER BY name",
        [],
        |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    for (name, created, updated, description) in registered {
        let tags = query_key_values(
            src,
            "SELECT key, value FROM registered_model_tags WHERE name = ?1",
            [&name],
        )?;
        merge.registered_model(&RegisteredModelRecord {
            name: name.clone(),
            creation_time: created,
            last_updated_time: updated,
            description,
            tags,
        })?;
        let versions = query_all(
            src,
            "SELECT version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, status, status_message, run_link, storage_location FROM model_versions WHERE name = ?1 ORDER BY version",
            [&name],
            |r| Ok(VersionRecord { name: name.clone(), version: r.get(0)?, creation_time: r.get(1)?, last_updated_time: r.get(2)?, description: r.get(3)?, user_id: r.get(4)?, current_stage: r.get::<_, Option<String>>(5)?.unwrap_or_else(|| "None".into()), source: r.get(6)?, run_id: r.get(7)?, status: r.get::<_, Option<String>>(8)?.unwrap_or_else(|| "READY".into()), status_message: r.get(9)?, run_link: r.get(10)?, storage_location: r.get(11)?, tags: Vec::new() }),
        )?;
        for mut v in versions {
            v.tags = query_all(
                src,
                "SELECT key, value FROM model_version_tags WHERE name = ?1 AND version = ?2",
                rusqlite::params![name, v.version],
                |r| {
                    Ok(KeyValue::new(
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    ))
                },
            )?;
            merge.model_version(&v)?;
        }
        let aliases = query_all(
            src,
            "SELECT alias, version FROM registered_model_aliases WHERE name = ?1",
            [&name],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )?;
        for (alias, version) in aliases {
            merge.alias(&name, &alias, version)?;
        }
    }
    Ok(())
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
        store
            .connection()
            .execute_batch(
                "CREATE TABLE flowbook_sync (x); CREATE TABLE flowbook_lesson_progress (x);",
            )
            .unwrap();
        let (bytes, summary) =
            crate::bundle::export_bytes(&store, crate::bundle::Format::MlflowDb).unwrap();
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
                "SELECT count(*) FROM sqlite_master WHERE name IN \
                 ('flowbook_artifacts', 'flowbook_sync', 'flowbook_lesson_progress')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "Flowbook's own tables stay home");
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
