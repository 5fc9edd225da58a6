//! The push mapping: which remote object each local one became, per server URL. Flowbook's own
//! bookkeeping table beside MLflow's (real MLflow ignores it). A row is written before an object
//! is created remotely (`remote_id` empty: the create may or may not have reached the server), then
//! holds the remote id, and `done` is set only after the object's last step — so a push that stops
//! anywhere resumes exactly where it stopped, creating nothing twice.

use crate::api::ApiResult;
use crate::tracking::Store;
use rusqlite::{params, OptionalExtension};

const TABLE_SQL: &str = "
CREATE TABLE IF NOT EXISTS flowbook_sync (
    server TEXT NOT NULL,
    kind TEXT NOT NULL,
    local_id TEXT NOT NULL,
    remote_id TEXT NOT NULL DEFAULT '',
    done INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (server, kind, local_id)
);
";

/// What a local object is known as on a server.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// Never sent.
    Unknown,
    /// Its create was sent, and whether it arrived is not known.
    Pending,
    /// Created remotely as `id`; `done` once every step after the create was also sent.
    Remote { id: String, done: bool },
}

pub fn ensure_table(store: &mut Store) -> ApiResult<()> {
    store.connection().execute_batch(TABLE_SQL)?;
    Ok(())
}

pub fn get(store: &Store, server: &str, kind: &str, local: &str) -> ApiResult<Mapped> {
    let row: Option<(String, bool)> = store
        .connection()
        .query_row(
            "SELECT remote_id, done FROM flowbook_sync WHERE server = ?1 AND kind = ?2 AND local_id = ?3",
            params![server, kind, local],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        None => Mapped::Unknown,
        Some((id, _)) if id.is_empty() => Mapped::Pending,
        Some((id, done)) => Mapped::Remote { id, done },
    })
}

/// The remote id of a local object, when it has one.
pub fn remote_id(
    store: &Store,
    server: &str,
    kind: &str,
    local: &str,
) -> ApiResult<Option<String>> {
    Ok(match get(store, server, kind, local)? {
        Mapped::Remote { id, .. } => Some(id),
        _ => None,
    })
}

/// Whether some local object already maps to the remote `id`.
pub fn is_claimed(store: &Store, server: &str, kind: &str, id: &str) -> ApiResult<bool> {
    Ok(store
        .connection()
        .query_row(
            "SELECT 1 FROM flowbook_sync WHERE server = ?1 AND kind = ?2 AND remote_id = ?3",
            params![server, kind, id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub fn set(
    store: &mut Store,
    server: &str,
    kind: &str,
    local: &str,
    remote: &str,
    done: bool,
) -> ApiResult<()> {
    store.connection().execute(
        "INSERT OR REPLACE INTO flowbook_sync (server, kind, local_id, remote_id, done) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![server, kind, local, remote, done],
    )?;
    Ok(())
}
