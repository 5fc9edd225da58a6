//! The tracking store: MLflow's experiments, runs, metrics, params, tags, inputs, logged models
//! and artifacts, kept in SQLite under MLflow's own schema (so the database *is* an `mlflow.db`).
//!
//! Every mutating operation runs in one transaction: a failed call leaves the store as it was.

pub mod artifacts;
pub mod entities;
mod experiments;
mod logged_models;
pub mod paging;
pub mod runs;
pub mod search;
pub mod validation;

use crate::api::{ApiError, ApiResult};
use rusqlite::{Connection, OptionalExtension, Transaction};

pub use entities::*;
pub use search::ViewType;

/// The alembic revision of MLflow 3.17.2's schema, which `schema.sql` creates.
pub const SCHEMA_REVISION: &str = "dc11669786a5";
const SCHEMA_SQL: &str = include_str!("schema.sql");

/// Flowbook's own tables, beside MLflow's. Artifacts live in the database so that the browser
/// store is one file on OPFS; `mlflow-artifacts:/<path>` URIs name rows of this table.
const FLOWBOOK_SQL: &str = "
CREATE TABLE IF NOT EXISTS flowbook_artifacts (
    path TEXT PRIMARY KEY NOT NULL,
    content BLOB NOT NULL
);
-- MLflow's schema has no index on runs.experiment_id: every search would scan all runs.
CREATE INDEX IF NOT EXISTS flowbook_runs_experiment ON runs (experiment_id, lifecycle_stage);
-- The runs of an experiment already in MLflow's default order (newest first, no start time last, run id
-- for ties) and in its reverse by time: a page of the runs table is an index walk, not a sort of them all.
CREATE INDEX IF NOT EXISTS flowbook_runs_newest ON runs (experiment_id, lifecycle_stage,
    (CASE WHEN start_time IS NULL THEN 1 ELSE 0 END), start_time DESC, run_uuid);
CREATE INDEX IF NOT EXISTS flowbook_runs_oldest ON runs (experiment_id, lifecycle_stage,
    (CASE WHEN start_time IS NULL THEN 1 ELSE 0 END), start_time, run_uuid);
";

/// MLflow's schema and Flowbook's tables already created (no rows but alembic's): a new store in
/// the browser starts as a copy of this image, one write on OPFS, rather than by running the 150
/// statements of `schema.sql` there (most of a second). The test
/// `the_empty_store_image_holds_the_schema` keeps it equal to `schema.sql` and rewrites it on request.
pub const EMPTY_STORE_IMAGE: &[u8] = include_bytes!("empty-store.db");

pub const DEFAULT_EXPERIMENT_ID: i64 = 0;
pub const DEFAULT_EXPERIMENT_NAME: &str = "Default";
/// Artifact root of a store served with MLflow's artifact proxy (`mlflow server` default).
pub const ARTIFACT_ROOT: &str = "mlflow-artifacts:";

pub const ACTIVE: &str = "active";
pub const DELETED: &str = "deleted";

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating when absent) an `mlflow.db` at `path`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn open(path: &std::path::Path) -> ApiResult<Store> {
        let conn = Connection::open(path).map_err(|e| {
            ApiError::internal(format!("cannot open database {}: {e}", path.display()))
        })?;
        // Larger pages for a new database (an existing one keeps its own): shallower B-trees, and
        // bulk writes such as a bundle import run faster. Must precede the switch to WAL.
        conn.pragma_update(None, "page_size", 4_096i64)?;
        // WAL: one fsync per checkpoint rather than per commit; MLflow reads WAL databases as they are.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Reads through a memory map rather than read(2) copies; checkpoints less often.
        conn.pragma_update(None, "mmap_size", 268_435_456i64)?;
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
        Store::from_connection(conn)
    }

    pub fn open_in_memory() -> ApiResult<Store> {
        Store::from_connection(Connection::open_in_memory()?)
    }

    /// Adopts an open connection: creates MLflow's schema in an empty database, refuses a database
    /// at another schema revision (with the command that upgrades it) or one that is not SQLite.
    pub fn from_connection(conn: Connection) -> ApiResult<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Store { conn };
        store.ensure_schema()?;
        Ok(store)
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The connection for whole-database operations (a bundle's backup into this store).
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn ensure_schema(&mut self) -> ApiResult<()> {
        let has_alembic: bool = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='alembic_version'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| ApiError::invalid(format!("not an SQLite database: {e}")))?
            > 0;
        if !has_alembic {
            let tables: i64 = self.conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table'",
                [],
                |r| r.get(0),
            )?;
            if tables > 0 {
                return Err(ApiError::invalid(
                    "this SQLite database is not an MLflow tracking database (it has no alembic_version table)",
                ));
            }
            create_schema(&mut self.conn)?;
        } else {
            let rev: Option<String> = self
                .conn
                .query_row("SELECT version_num FROM alembic_version", [], |r| r.get(0))
                .optional()?;
            if rev.as_deref() != Some(SCHEMA_REVISION) {
                return Err(ApiError::invalid(format!(
                    "the database is at MLflow schema revision {}, Flowbook reads revision {SCHEMA_REVISION} \
                     (MLflow 3.17.2); upgrade it first with `mlflow db upgrade sqlite:///PATH`",
                    rev.as_deref().unwrap_or("(none)")
                )));
            }
        }
        self.conn.execute_batch(FLOWBOOK_SQL)?;
        let has_default: bool =
            self.conn
                .query_row("SELECT count(*) FROM experiments", [], |r| {
                    r.get::<_, i64>(0)
                })?
                > 0;
        if !has_default {
            // As MLflow's SQL store does on first use: experiment 0, "Default".
            let now = crate::clock::now_ms();
            self.conn.execute(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time, workspace)
                 VALUES (?1, ?2, ?3, 'active', ?4, ?4, 'default')",
                rusqlite::params![
                    DEFAULT_EXPERIMENT_ID,
                    DEFAULT_EXPERIMENT_NAME,
                    format!("{ARTIFACT_ROOT}/{DEFAULT_EXPERIMENT_ID}"),
                    now
                ],
            )?;
        }
        Ok(())
    }

    /// Runs `f` in one transaction: committed when it returns Ok, rolled back otherwise.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction) -> ApiResult<T>) -> ApiResult<T> {
        let tx = self.conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// MLflow's schema and Flowbook's tables, in one transaction (one commit, however many statements).
fn create_schema(conn: &mut Connection) -> ApiResult<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA_SQL)?;
    tx.execute_batch(FLOWBOOK_SQL)?;
    tx.commit()?;
    Ok(())
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a database's schema is: its tables, indexes and their SQL, its page size and its
    /// alembic revision. (Bytes differ between SQLite versions; this does not.)
    fn schema_of(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
            .unwrap();
        let mut out: Vec<String> = stmt
            .query_map([], |r| {
                Ok(format!(
                    "{} {} {} {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?
                ))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let page_size: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        // An empty or foreign file has neither table: it differs, and the test says how to rewrite it.
        let revision: String = conn
            .query_row("SELECT version_num FROM alembic_version", [], |r| r.get(0))
            .unwrap_or_default();
        let experiments: i64 = conn
            .query_row("SELECT count(*) FROM experiments", [], |r| r.get(0))
            .unwrap_or(-1);
        out.push(format!(
            "page_size {page_size}, revision {revision}, {experiments} experiments"
        ));
        out
    }

    #[test]
    fn the_empty_store_image_holds_the_schema() {
        let dir = std::env::temp_dir().join(format!("flowbook-image-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fresh_path = dir.join("fresh.db");
        let mut fresh = Connection::open(&fresh_path).unwrap();
        fresh.pragma_update(None, "page_size", 4_096i64).unwrap();
        create_schema(&mut fresh).unwrap();
        fresh.execute_batch("VACUUM").unwrap();
        let image_path = dir.join("image.db");
        std::fs::write(&image_path, EMPTY_STORE_IMAGE).unwrap();
        let image = Connection::open(&image_path).unwrap();
        if schema_of(&image) != schema_of(&fresh) {
            let target = concat!(env!("CARGO_MANIFEST_DIR"), "/src/tracking/empty-store.db");
            if std::env::var_os("FLOWBOOK_WRITE_STORE_IMAGE").is_some() {
                drop(fresh);
                std::fs::copy(&fresh_path, target).unwrap();
            }
            panic!(
                "src/tracking/empty-store.db is not the schema of schema.sql; rewrite it with \
                 FLOWBOOK_WRITE_STORE_IMAGE=1 cargo test --lib the_empty_store_image, then rebuild"
            );
        }
        // A store opened on the image is a whole MLflow store: the Default experiment is added.
        drop(image);
        let store = Store::from_connection(Connection::open(&image_path).unwrap()).unwrap();
        let names: String = store
            .connection()
            .query_row(
                "SELECT name FROM experiments WHERE experiment_id = 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(names, DEFAULT_EXPERIMENT_NAME);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
