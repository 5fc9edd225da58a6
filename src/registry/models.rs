//! Registered models: create, get, rename (versions, tags and aliases follow), update, delete
//! (with everything under it), search, latest versions per stage, tags and aliases.

use super::entities::{ModelVersion, RegisteredModel, RegisteredModelAlias};
use super::search::{self, ModelSearch};
use super::validation::{
    canonical_stage, parse_version, py_repr, validate_alias_name, validate_alias_not_reserved,
    validate_model_name, validate_model_renaming, validate_registered_model_tag, validate_tag_name,
    ALL_STAGES, IS_PROMPT_TAG_KEY, STAGE_DELETED_INTERNAL,
};
use super::versions::{load_version, version_row_exists};
use super::WORKSPACE;
use crate::api::{ApiError, ApiResult};
use crate::clock::now_ms;
use crate::tracking::{KeyValue, Store};
use rusqlite::{params, Connection, OptionalExtension};

/// Search answers at most this many registered models per page (MLflow's threshold).
pub const SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD: i64 = 1000;
/// A page's size when the request names none (the proto's default).
pub const SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT: i64 = 100;

/// The order `latest_versions` come in. `get` lists stages in the order their first version was
/// made (MLflow walks the versions by number); `search` lists them by stage name (MLflow's
/// window query). Clients see lists, so the order is kept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LatestOrder {
    FirstSeen,
    ByStage,
}

pub(crate) struct ModelRow {
    pub name: String,
    pub creation_time: Option<i64>,
    pub last_updated_time: Option<i64>,
    pub description: Option<String>,
}

pub(crate) fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Registered Model with name={name} not found"))
}

/// The model's row (after MLflow's name validation), or MLflow's not-found error.
pub(crate) fn registered_model_row(conn: &Connection, name: &str) -> ApiResult<ModelRow> {
    validate_model_name(name)?;
    conn.query_row(
        "SELECT name, creation_time, last_updated_time, description FROM registered_models
         WHERE workspace = ?1 AND name = ?2",
        params![WORKSPACE, name],
        |r| {
            Ok(ModelRow {
                name: r.get(0)?,
                creation_time: r.get(1)?,
                last_updated_time: r.get(2)?,
                description: r.get(3)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| not_found(name))
}

pub(crate) fn model_tags(conn: &Connection, name: &str) -> ApiResult<Vec<KeyValue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM registered_model_tags WHERE workspace = ?1 AND name = ?2 ORDER BY rowid",
    )?;
    let tags = stmt
        .query_map(params![WORKSPACE, name], |r| {
            Ok(KeyValue {
                key: r.get(0)?,
                value: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(tags)
}

/// (alias, version) pairs of a model, by alias name (the primary key's order, as MLflow lists them).
pub(crate) fn model_aliases(conn: &Connection, name: &str) -> ApiResult<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT alias, version FROM registered_model_aliases WHERE workspace = ?1 AND name = ?2 ORDER BY alias",
    )?;
    let aliases = stmt
        .query_map(params![WORKSPACE, name], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(aliases)
}

/// The aliases pointing at one version.
pub(crate) fn aliases_of(conn: &Connection, name: &str, version: i64) -> ApiResult<Vec<String>> {
    Ok(model_aliases(conn, name)?
        .into_iter()
        .filter(|(_, v)| *v == version)
        .map(|(a, _)| a)
        .collect())
}

/// The newest live version of each stage, in `order`.
fn latest_per_stage(
    conn: &Connection,
    name: &str,
    order: LatestOrder,
) -> ApiResult<Vec<ModelVersion>> {
    let mut stmt = conn.prepare_cached(
        "SELECT version, current_stage FROM model_versions
         WHERE workspace = ?1 AND name = ?2 AND current_stage != ?3 ORDER BY version",
    )?;
    let rows = stmt
        .query_map(params![WORKSPACE, name, STAGE_DELETED_INTERNAL], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // (stage, newest version), in the order each stage first appears.
    let mut latest: Vec<(Option<String>, i64)> = Vec::new();
    for (version, stage) in rows {
        match latest.iter_mut().find(|(s, _)| *s == stage) {
            Some(entry) => entry.1 = entry.1.max(version),
            None => latest.push((stage, version)),
        }
    }
    if order == LatestOrder::ByStage {
        latest.sort_by(|a, b| a.0.cmp(&b.0));
    }
    latest
        .into_iter()
        .map(|(_, v)| load_version(conn, name, v))
        .collect()
}

/// MLflow's `get_latest_versions`: the newest version of each requested stage (all stages when
/// none is named), each with its aliases.
pub(crate) fn latest_versions(
    conn: &Connection,
    name: &str,
    stages: &[String],
) -> ApiResult<Vec<ModelVersion>> {
    registered_model_row(conn, name)?;
    let wanted: Vec<&str> = if stages.is_empty() {
        ALL_STAGES.to_vec()
    } else {
        stages
            .iter()
            .map(|s| canonical_stage(s))
            .collect::<ApiResult<_>>()?
    };
    let aliases = model_aliases(conn, name)?;
    let mut out = latest_per_stage(conn, name, LatestOrder::FirstSeen)?;
    out.retain(|mv| {
        mv.current_stage
            .as_deref()
            .is_some_and(|s| wanted.contains(&s))
    });
    for mv in &mut out {
        let n = mv.number();
        mv.aliases = aliases
            .iter()
            .filter(|(_, v)| *v == n)
            .map(|(a, _)| a.clone())
            .collect();
    }
    Ok(out)
}

pub(crate) fn load_registered_model(
    conn: &Connection,
    name: &str,
    order: LatestOrder,
) -> ApiResult<RegisteredModel> {
    let row = registered_model_row(conn, name)?;
    Ok(RegisteredModel {
        latest_versions: latest_per_stage(conn, &row.name, order)?,
        tags: model_tags(conn, &row.name)?,
        aliases: model_aliases(conn, &row.name)?
            .into_iter()
            .map(|(alias, v)| RegisteredModelAlias {
                alias,
                version: v.to_string(),
            })
            .collect(),
        creation_timestamp: row.creation_time,
        last_updated_timestamp: row.last_updated_time.filter(|t| *t != 0),
        description: row.description.filter(|d| !d.is_empty()),
        name: row.name,
    })
}

/// MLflow's `get_model_version_by_alias`, `latest` included.
pub(crate) fn version_by_alias(
    conn: &Connection,
    name: &str,
    alias: &str,
) -> ApiResult<ModelVersion> {
    validate_model_name(name)?;
    validate_alias_name(alias)?;
    if alias.to_lowercase() == "latest" {
        let latest = latest_versions(conn, name, &[])?;
        return latest
            .into_iter()
            .max_by_key(|mv| mv.number())
            .ok_or_else(|| {
                ApiError::not_found(format!("Latest version not found for model {name}."))
            });
    }
    registered_model_row(conn, name)?;
    let version: Option<i64> = conn
        .query_row(
            "SELECT version FROM registered_model_aliases WHERE workspace = ?1 AND name = ?2 AND alias = ?3",
            params![WORKSPACE, name, alias],
            |r| r.get(0),
        )
        .optional()?;
    let version = version
        .ok_or_else(|| ApiError::invalid(format!("Registered model alias {alias} not found.")))?;
    let mut mv = super::versions::live_version(conn, name, version)?;
    mv.aliases = aliases_of(conn, name, version)?;
    Ok(mv)
}

/// Inserts or updates a tag in place (keeping its position, as MLflow's `session.merge` does).
fn upsert_model_tag(conn: &Connection, name: &str, key: &str, value: &str) -> ApiResult<()> {
    conn.execute(
        "INSERT INTO registered_model_tags (key, value, name, workspace) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (workspace, key, name) DO UPDATE SET value = excluded.value",
        params![key, value, name, WORKSPACE],
    )?;
    Ok(())
}

/// Tags with one entry per key, the last value winning, in first-seen order (a Python dict).
pub(crate) fn dedup_tags(tags: &[KeyValue]) -> Vec<KeyValue> {
    let mut out: Vec<KeyValue> = Vec::new();
    for t in tags {
        match out.iter_mut().find(|o| o.key == t.key) {
            Some(o) => o.value = t.value.clone(),
            None => out.push(t.clone()),
        }
    }
    out
}

fn is_prompt(tags: &[KeyValue]) -> bool {
    tags.iter().any(|t| t.key == IS_PROMPT_TAG_KEY)
}

impl Store {
    /// MLflow's `create_registered_model`. `description` is stored as given (the REST API gives
    /// "" when the request has none).
    pub fn create_registered_model(
        &mut self,
        name: &str,
        tags: &[KeyValue],
        description: Option<&str>,
    ) -> ApiResult<RegisteredModel> {
        validate_model_name(name)?;
        for t in tags {
            validate_registered_model_tag(&t.key, &t.value)?;
        }
        self.write(|tx| {
            if registered_model_row(tx, name).is_ok() {
                let existing_is_prompt = is_prompt(&model_tags(tx, name)?);
                let new_is_prompt = is_prompt(tags);
                let entity = |p: bool| if p { "Prompt" } else { "Registered Model" };
                if existing_is_prompt != new_is_prompt {
                    return Err(ApiError::exists(format!(
                        "Tried to create a {} with name {}, but the name is already taken by a {}. \
                         MLflow does not allow creating a model and a prompt with the same name.",
                        entity(new_is_prompt).to_lowercase(),
                        py_repr(name),
                        entity(existing_is_prompt).to_lowercase()
                    )));
                }
                return Err(ApiError::exists(format!(
                    "{} (name={name}) already exists.",
                    entity(new_is_prompt)
                )));
            }
            let now = now_ms();
            tx.execute(
                "INSERT INTO registered_models (name, creation_time, last_updated_time, description, workspace)
                 VALUES (?1, ?2, ?2, ?3, ?4)",
                params![name, now, description, WORKSPACE],
            )?;
            for t in dedup_tags(tags) {
                upsert_model_tag(tx, name, &t.key, &t.value)?;
            }
            load_registered_model(tx, name, LatestOrder::FirstSeen)
        })
    }

    pub fn get_registered_model(&self, name: &str) -> ApiResult<RegisteredModel> {
        load_registered_model(self.connection(), name, LatestOrder::FirstSeen)
    }

    /// Sets the description (None clears it) and the model's last update time.
    pub fn update_registered_model(
        &mut self,
        name: &str,
        description: Option<&str>,
    ) -> ApiResult<RegisteredModel> {
        self.write(|tx| {
            registered_model_row(tx, name)?;
            tx.execute(
                "UPDATE registered_models SET description = ?1, last_updated_time = ?2
                 WHERE workspace = ?3 AND name = ?4",
                params![description, now_ms(), WORKSPACE, name],
            )?;
            load_registered_model(tx, name, LatestOrder::FirstSeen)
        })
    }

    /// Renames a model; its versions (deleted ones included), their tags, the model's tags and
    /// aliases follow, as MLflow's ON UPDATE CASCADE foreign keys make them.
    pub fn rename_registered_model(
        &mut self,
        name: &str,
        new_name: &str,
    ) -> ApiResult<RegisteredModel> {
        validate_model_renaming(new_name)?;
        self.write(|tx| {
            registered_model_row(tx, name)?;
            let now = now_ms();
            if new_name != name {
                let taken: bool = tx
                    .query_row(
                        "SELECT 1 FROM registered_models WHERE workspace = ?1 AND name = ?2",
                        params![WORKSPACE, new_name],
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some();
                if taken {
                    // MLflow reports the failed UPDATE as SQLAlchemy prints it.
                    return Err(ApiError::exists(format!(
                        "Registered Model (name={new_name}) already exists. Error: (raised as a result of Query-invoked \
                         autoflush; consider using a session.no_autoflush block if this flush is occurring prematurely)\n\
                         (sqlite3.IntegrityError) UNIQUE constraint failed: registered_models.workspace, registered_models.name\n\
                         [SQL: UPDATE registered_models SET name=? WHERE registered_models.workspace = ? AND registered_models.name = ?]\n\
                         [parameters: ({}, {}, {})]\n\
                         (Background on this error at: https://sqlalche.me/e/21/gkpj)",
                        py_repr(new_name),
                        py_repr(WORKSPACE),
                        py_repr(name)
                    )));
                }
                tx.execute(
                    "UPDATE registered_models SET name = ?1 WHERE workspace = ?2 AND name = ?3",
                    params![new_name, WORKSPACE, name],
                )?;
                for table in [
                    "model_versions",
                    "model_version_tags",
                    "registered_model_tags",
                    "registered_model_aliases",
                ] {
                    tx.execute(
                        &format!("UPDATE {table} SET name = ?1 WHERE workspace = ?2 AND name = ?3"),
                        params![new_name, WORKSPACE, name],
                    )?;
                }
            }
            tx.execute(
                "UPDATE model_versions SET last_updated_time = ?1 WHERE workspace = ?2 AND name = ?3",
                params![now, WORKSPACE, new_name],
            )?;
            tx.execute(
                "UPDATE registered_models SET last_updated_time = ?1 WHERE workspace = ?2 AND name = ?3",
                params![now, WORKSPACE, new_name],
            )?;
            load_registered_model(tx, new_name, LatestOrder::FirstSeen)
        })
    }

    /// Deletes a model with all its versions (deleted ones included), their tags, its tags and aliases.
    pub fn delete_registered_model(&mut self, name: &str) -> ApiResult<()> {
        self.write(|tx| {
            registered_model_row(tx, name)?;
            for table in [
                "model_version_tags",
                "model_versions",
                "registered_model_tags",
                "registered_model_aliases",
                "registered_models",
            ] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE workspace = ?1 AND name = ?2"),
                    params![WORKSPACE, name],
                )?;
            }
            Ok(())
        })
    }

    /// MLflow's `search_registered_models`: a page of models and the token of the next page.
    pub fn search_registered_models(
        &self,
        q: &ModelSearch,
    ) -> ApiResult<(Vec<RegisteredModel>, Option<String>)> {
        let max = q
            .max_results
            .unwrap_or(SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT);
        if max > SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD {
            return Err(ApiError::invalid(format!(
                "Invalid value for request parameter max_results. It must be at most \
                 {SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD}, but got value {max}"
            )));
        }
        let q = ModelSearch {
            max_results: Some(max),
            ..q.clone()
        };
        let (names, token) = search::search_registered_models(self.connection(), &q)?;
        let models = names
            .iter()
            .map(|n| load_registered_model(self.connection(), n, LatestOrder::ByStage))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok((models, token))
    }

    /// MLflow's `get_latest_versions`: the newest version per stage (all stages when `stages`
    /// is empty; stage names in any capitalisation).
    pub fn get_latest_versions(
        &self,
        name: &str,
        stages: &[String],
    ) -> ApiResult<Vec<ModelVersion>> {
        latest_versions(self.connection(), name, stages)
    }

    pub fn set_registered_model_tag(
        &mut self,
        name: &str,
        key: &str,
        value: &str,
    ) -> ApiResult<()> {
        validate_model_name(name)?;
        validate_registered_model_tag(key, value)?;
        self.write(|tx| {
            registered_model_row(tx, name)?;
            upsert_model_tag(tx, name, key, value)
        })
    }

    /// Deletes a tag; a missing tag is no error (as in MLflow), a missing model is.
    pub fn delete_registered_model_tag(&mut self, name: &str, key: &str) -> ApiResult<()> {
        validate_model_name(name)?;
        validate_tag_name(key)?;
        self.write(|tx| {
            registered_model_row(tx, name)?;
            tx.execute(
                "DELETE FROM registered_model_tags WHERE workspace = ?1 AND name = ?2 AND key = ?3",
                params![WORKSPACE, name, key],
            )?;
            Ok(())
        })
    }

    /// Points `alias` at a version, moving it if it pointed elsewhere.
    pub fn set_registered_model_alias(
        &mut self,
        name: &str,
        alias: &str,
        version: &str,
    ) -> ApiResult<()> {
        validate_model_name(name)?;
        validate_alias_name(alias)?;
        validate_alias_not_reserved(alias)?;
        let version = parse_version(version)?;
        self.write(|tx| {
            version_row_exists(tx, name, version)?;
            tx.execute(
                "INSERT INTO registered_model_aliases (alias, version, name, workspace) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (workspace, name, alias) DO UPDATE SET version = excluded.version",
                params![alias, version, name, WORKSPACE],
            )?;
            Ok(())
        })
    }

    /// Deletes an alias; a missing alias is no error (as in MLflow), a missing model is.
    pub fn delete_registered_model_alias(&mut self, name: &str, alias: &str) -> ApiResult<()> {
        validate_model_name(name)?;
        validate_alias_name(alias)?;
        self.write(|tx| {
            registered_model_row(tx, name)?;
            tx.execute(
                "DELETE FROM registered_model_aliases WHERE workspace = ?1 AND name = ?2 AND alias = ?3",
                params![WORKSPACE, name, alias],
            )?;
            Ok(())
        })
    }

    /// The version an alias points to; `latest` (any case) is the newest version.
    pub fn get_model_version_by_alias(&self, name: &str, alias: &str) -> ApiResult<ModelVersion> {
        version_by_alias(self.connection(), name, alias)
    }
}
