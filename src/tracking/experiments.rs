//! Experiments: create, get, rename, delete/restore (cascading to runs, as MLflow does), tags.

use super::search::{self, ExperimentSearch, ViewType};
use super::validation::{parse_experiment_id, validate_experiment_name, validate_experiment_tag};
use super::{Experiment, KeyValue, Store, ACTIVE, ARTIFACT_ROOT, DELETED};
use crate::api::{ApiError, ApiResult, ErrorCode};
use crate::clock::now_ms;
use rusqlite::{params, Connection, OptionalExtension};

const EXPERIMENT_COLUMNS: &str =
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";

fn read_experiment(conn: &Connection, row: &rusqlite::Row) -> rusqlite::Result<Experiment> {
    let id: i64 = row.get(0)?;
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1 ORDER BY key",
    )?;
    let tags = stmt
        .query_map([id], |r| {
            Ok(KeyValue {
                key: r.get(0)?,
                value: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Experiment {
        experiment_id: id.to_string(),
        name: row.get(1)?,
        artifact_location: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
        lifecycle_stage: row
            .get::<_, Option<String>>(3)?
            .unwrap_or_else(|| ACTIVE.into()),
        creation_time: row.get(4)?,
        last_update_time: row.get(5)?,
        tags,
    })
}

pub(crate) fn lifecycle_of(conn: &Connection, id: i64) -> ApiResult<String> {
    conn.query_row(
        "SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?1",
        [id],
        |r| r.get::<_, Option<String>>(0),
    )
    .optional()?
    .map(|s| s.unwrap_or_else(|| ACTIVE.into()))
    .ok_or_else(|| ApiError::not_found(format!("No Experiment with id={id} exists")))
}

pub(crate) fn check_active(conn: &Connection, id: i64) -> ApiResult<()> {
    let stage = lifecycle_of(conn, id)?;
    if stage != ACTIVE {
        return Err(ApiError::invalid(format!(
            "The experiment {id} must be in the 'active' state. Current state is {stage}."
        )));
    }
    Ok(())
}

impl Store {
    pub fn create_experiment(
        &mut self,
        name: &str,
        artifact_location: Option<&str>,
        tags: &[KeyValue],
    ) -> ApiResult<String> {
        validate_experiment_name(name)?;
        for t in tags {
            validate_experiment_tag(&t.key, &t.value)?;
        }
        self.write(|tx| {
            let exists: bool = tx
                .query_row("SELECT 1 FROM experiments WHERE name = ?1 AND workspace = 'default'", [name], |_| Ok(()))
                .optional()?
                .is_some();
            if exists {
                return Err(ApiError::exists(format!("Experiment(name={name}) already exists.")));
            }
            let now = now_ms();
            tx.execute(
                "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time, workspace)
                 VALUES (?1, ?2, 'active', ?3, ?3, 'default')",
                params![name, artifact_location.filter(|s| !s.is_empty()), now],
            )?;
            let id = tx.last_insert_rowid();
            if artifact_location.is_none_or(|s| s.is_empty()) {
                tx.execute(
                    "UPDATE experiments SET artifact_location = ?1 WHERE experiment_id = ?2",
                    params![format!("{ARTIFACT_ROOT}/{id}"), id],
                )?;
            }
            let mut stmt = tx.prepare_cached("INSERT OR REPLACE INTO experiment_tags (key, value, experiment_id) VALUES (?1, ?2, ?3)")?;
            for t in tags {
                stmt.execute(params![t.key, t.value, id])?;
            }
            Ok(id.to_string())
        })
    }

    pub fn get_experiment(&self, experiment_id: &str) -> ApiResult<Experiment> {
        let id = parse_experiment_id(experiment_id)?;
        let conn = &self.conn;
        conn.query_row(
            &format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE experiment_id = ?1"),
            [id],
            |row| read_experiment(conn, row),
        )
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("No Experiment with id={id} exists")))
    }

    pub fn get_experiment_by_name(&self, name: &str) -> ApiResult<Experiment> {
        let conn = &self.conn;
        conn.query_row(
            &format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE name = ?1 AND workspace = 'default'"),
            [name],
            |row| read_experiment(conn, row),
        )
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("Could not find experiment with name '{name}'")))
    }

    pub fn search_experiments(
        &self,
        q: &ExperimentSearch,
    ) -> ApiResult<(Vec<Experiment>, Option<String>)> {
        let (ids, token) = search::search_experiments(&self.conn, q)?;
        let experiments = ids
            .iter()
            .map(|id| self.get_experiment(&id.to_string()))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok((experiments, token))
    }

    pub fn rename_experiment(&mut self, experiment_id: &str, new_name: &str) -> ApiResult<()> {
        validate_experiment_name(new_name)?;
        let id = parse_experiment_id(experiment_id)?;
        self.write(|tx| {
            if lifecycle_of(tx, id)? != ACTIVE {
                return Err(ApiError::new(ErrorCode::InvalidState, "Cannot rename a non-active experiment."));
            }
            let taken: Option<i64> = tx
                .query_row("SELECT experiment_id FROM experiments WHERE name = ?1 AND workspace = 'default'", [new_name], |r| r.get(0))
                .optional()?;
            if taken.is_some_and(|other| other != id) {
                return Err(ApiError::exists(format!("Experiment(name={new_name}) already exists.")));
            }
            tx.execute(
                "UPDATE experiments SET name = ?1, last_update_time = ?2 WHERE experiment_id = ?3",
                params![new_name, now_ms(), id],
            )?;
            Ok(())
        })
    }

    /// Marks the experiment and all its runs deleted (soft delete, as MLflow's SQL store does).
    pub fn delete_experiment(&mut self, experiment_id: &str) -> ApiResult<()> {
        let id = parse_experiment_id(experiment_id)?;
        self.write(|tx| {
            if lifecycle_of(tx, id)? != ACTIVE {
                return Err(ApiError::not_found(format!("No Experiment with id={id} exists")));
            }
            let now = now_ms();
            tx.execute(
                "UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ?1 WHERE experiment_id = ?2",
                params![now, id],
            )?;
            tx.execute(
                "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ?1 WHERE experiment_id = ?2",
                params![now, id],
            )?;
            Ok(())
        })
    }

    pub fn restore_experiment(&mut self, experiment_id: &str) -> ApiResult<()> {
        let id = parse_experiment_id(experiment_id)?;
        self.write(|tx| {
            if lifecycle_of(tx, id)? != DELETED {
                return Err(ApiError::not_found(format!("No Experiment with id={id} exists")));
            }
            tx.execute(
                "UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ?1 WHERE experiment_id = ?2",
                params![now_ms(), id],
            )?;
            tx.execute(
                "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ?1",
                [id],
            )?;
            Ok(())
        })
    }

    pub fn set_experiment_tag(
        &mut self,
        experiment_id: &str,
        key: &str,
        value: &str,
    ) -> ApiResult<()> {
        validate_experiment_tag(key, value)?;
        let id = parse_experiment_id(experiment_id)?;
        self.write(|tx| {
            check_active(tx, id)?;
            tx.execute(
                "INSERT OR REPLACE INTO experiment_tags (key, value, experiment_id) VALUES (?1, ?2, ?3)",
                params![key, value, id],
            )?;
            Ok(())
        })
    }

    pub fn delete_experiment_tag(&mut self, experiment_id: &str, key: &str) -> ApiResult<()> {
        let id = parse_experiment_id(experiment_id)?;
        self.write(|tx| {
            check_active(tx, id)?;
            let n = tx.execute(
                "DELETE FROM experiment_tags WHERE experiment_id = ?1 AND key = ?2",
                params![id, key],
            )?;
            if n == 0 {
                return Err(ApiError::not_found(format!(
                    "No tag with name: {key} in experiment with id {id}"
                )));
            }
            Ok(())
        })
    }

    /// Every experiment, any lifecycle stage, in id order (for exports and the UI's list).
    pub fn all_experiments(&self, view: ViewType) -> ApiResult<Vec<Experiment>> {
        let conn = &self.conn;
        let mut stmt = conn.prepare(&format!(
            "SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE workspace = 'default' ORDER BY experiment_id"
        ))?;
        let all = stmt
            .query_map([], |row| read_experiment(conn, row))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(all
            .into_iter()
            .filter(|e| match view {
                ViewType::ActiveOnly => e.lifecycle_stage == ACTIVE,
                ViewType::DeletedOnly => e.lifecycle_stage == DELETED,
                ViewType::All => true,
            })
            .collect())
    }
}
