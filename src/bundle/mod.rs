//! Bundles: MLflow `mlruns` file stores and `mlflow.db` files, in and out, as zips or folders.
//!
//! Import detects the kind of bundle ([`Kind::detect`]), reads it file by file from a [`Source`]
//! and writes it in one transaction (all or nothing). Export writes either format into any
//! `Write + Seek` (a file natively, a buffer in the browser). Both report progress as
//! `(done, total)` so a UI can draw a bar.

pub mod merge;
pub mod mlflow_db;
pub mod mlruns;
pub mod source;
pub mod yaml;

pub use merge::ImportSummary;
pub use mlflow_db::ExportSummary;
pub use source::{Source, MAX_RATIO, MAX_TOTAL_BYTES};

use crate::api::{ApiError, ApiResult};
use crate::tracking::{KeyValue, Store};
use rusqlite::Connection;
use std::io::{Seek, Write};

/// Every row of a query, mapped (the readers and writers of both formats query MLflow's tables).
pub(crate) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnMut(&rusqlite::Row) -> rusqlite::Result<T>,
) -> ApiResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let out = stmt
        .query_map(p, f)?
        .collect::<rusqlite::Result<Vec<T>>>()?;
    Ok(out)
}

/// Rows of (key, value) — params, tags — with a NULL value read as "".
pub(crate) fn query_key_values(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> ApiResult<Vec<KeyValue>> {
    query_all(conn, sql, p, |r| {
        Ok(KeyValue::new(
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?.unwrap_or_default(),
        ))
    })
}

/// What a bundle holds, found by looking at its paths.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// An `mlflow.db` at this path (its artifacts beside it).
    MlflowDb(String),
    /// An `mlruns` store rooted at this folder ("" for the bundle's top).
    Mlruns(String),
}

impl Kind {
    /// An `mlflow.db` wins over an `mlruns` folder beside it (which then holds its artifacts, as
    /// `mlflow ui --backend-store-uri sqlite:///mlflow.db` keeps them).
    pub fn detect(source: &Source) -> ApiResult<Kind> {
        let db = source
            .paths()
            .filter(|p| *p == "mlflow.db" || p.ends_with("/mlflow.db"))
            .min_by_key(|p| p.matches('/').count());
        if let Some(db) = db {
            return Ok(Kind::MlflowDb(db.to_string()));
        }
        if let Some(root) = mlruns::find_root(source.paths()) {
            return Ok(Kind::Mlruns(root));
        }
        Err(ApiError::invalid(
            "the bundle holds neither an mlflow.db nor an mlruns store (no <experiment id>/meta.yaml)",
        ))
    }
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    /// `mlruns/` file store, as MLflow 2.x and 3.x read it.
    Mlruns,
    /// `mlflow.db` + `mlartifacts/`, for `mlflow server --backend-store-uri sqlite:///mlflow.db`.
    MlflowDb,
}

impl Format {
    pub fn parse(name: &str) -> ApiResult<Format> {
        match name {
            "mlruns" => Ok(Format::Mlruns),
            "mlflow-db" => Ok(Format::MlflowDb),
            other => Err(ApiError::invalid(format!(
                "Unknown export format '{other}': expected 'mlruns' or 'mlflow-db'"
            ))),
        }
    }

    /// The file name a download of this format gets.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Mlruns => "flowbook-mlruns.zip",
            Format::MlflowDb => "flowbook-mlflow-db.zip",
        }
    }
}

/// Imports whatever the source holds. All or nothing: on any error the store is as it was.
pub fn import(
    store: &mut Store,
    source: &mut Source,
    progress: &mut dyn FnMut(usize, usize),
) -> ApiResult<ImportSummary> {
    let kind = Kind::detect(source)?;
    // One large transaction: in WAL mode every page would be written twice (to the WAL, then by the
    // checkpoint); a rollback journal writes new pages once. The store returns to WAL after.
    let wal = store
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))?
        .eq_ignore_ascii_case("wal");
    if wal {
        store
            .connection()
            .pragma_update(None, "journal_mode", "DELETE")?;
    }
    let result = match kind {
        Kind::MlflowDb(path) => mlflow_db::import(store, source, &path, progress),
        Kind::Mlruns(root) => store.write(|tx| {
            let mut merge = merge::Merge::new(tx);
            mlruns::read(source, &root, &mut merge, progress)?;
            Ok(merge.summary)
        }),
    };
    if wal {
        store
            .connection()
            .pragma_update(None, "journal_mode", "WAL")?;
    }
    result
}

/// Imports a zip's bytes.
pub fn import_zip(
    store: &mut Store,
    bytes: &[u8],
    progress: &mut dyn FnMut(usize, usize),
) -> ApiResult<ImportSummary> {
    import(store, &mut Source::zip(bytes)?, progress)
}

/// Writes the store in `format` into `out`; the summary counts the bytes written.
pub fn export<W: Write + Seek>(
    store: &Store,
    format: Format,
    out: W,
    progress: &mut dyn FnMut(usize, usize),
) -> ApiResult<(W, ExportSummary)> {
    let (mut out, mut summary) = match format {
        Format::Mlruns => mlruns::write(store, out, progress)?,
        Format::MlflowDb => mlflow_db::write(store, out, progress)?,
    };
    summary.bytes = out
        .stream_position()
        .map_err(|e| ApiError::internal(format!("cannot write the bundle: {e}")))?
        as usize;
    Ok((out, summary))
}

/// Exports into memory (the browser's download, the HTTP route).
pub fn export_bytes(store: &Store, format: Format) -> ApiResult<(Vec<u8>, ExportSummary)> {
    let (out, summary) = export(
        store,
        format,
        std::io::Cursor::new(Vec::new()),
        &mut |_, _| {},
    )?;
    Ok((out.into_inner(), summary))
}
