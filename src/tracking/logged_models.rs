//! MLflow 3's logged models (`/api/2.0/mlflow/logged-models`): what `mlflow.<flavor>.log_model`
//! creates before it uploads the model's files, then finalizes.

use super::experiments::check_active as check_experiment_active;
use super::validation::parse_experiment_id;
use super::{KeyValue, LoggedModel, LoggedModelData, LoggedModelInfo, Metric, Store};
use crate::api::{ApiError, ApiResult};
use crate::clock::now_ms;
use rusqlite::{params, Connection, OptionalExtension};

pub const STATUSES: [&str; 4] = [
    "LOGGED_MODEL_STATUS_UNSPECIFIED",
    "LOGGED_MODEL_PENDING",
    "LOGGED_MODEL_READY",
    "LOGGED_MODEL_UPLOAD_FAILED",
];

pub fn status_code(name: &str) -> ApiResult<i64> {
    STATUSES
        .iter()
        .position(|s| *s == name)
        .map(|i| i as i64)
        .or_else(|| name.parse::<i64>().ok().filter(|n| (0..4).contains(n)))
        .ok_or_else(|| ApiError::invalid(format!("Invalid logged model status '{name}'")))
}

fn load(conn: &Connection, model_id: &str) -> ApiResult<LoggedModel> {
    let mut info = conn
        .query_row(
            "SELECT model_id, experiment_id, name, creation_timestamp_ms, last_updated_timestamp_ms, artifact_location,
                    status, model_type, source_run_id, status_message
             FROM logged_models WHERE model_id = ?1 AND lifecycle_stage IS NOT 'deleted'",
            [model_id],
            |r| {
                Ok(LoggedModelInfo {
                    model_id: r.get(0)?,
                    experiment_id: r.get::<_, i64>(1)?.to_string(),
                    name: r.get(2)?,
                    creation_timestamp_ms: r.get(3)?,
                    last_updated_timestamp_ms: r.get(4)?,
                    artifact_uri: r.get(5)?,
                    status: STATUSES.get(r.get::<_, i64>(6)? as usize).unwrap_or(&STATUSES[0]).to_string(),
                    model_type: r.get(7)?,
                    source_run_id: r.get(8)?,
                    status_message: r.get(9)?,
                    tags: Vec::new(),
                })
            },
        )
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("Logged model with ID '{model_id}' not found.")))?;
    let kv = |sql: &str| -> ApiResult<Vec<KeyValue>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map([model_id], |r| {
                Ok(KeyValue {
                    key: r.get(0)?,
                    value: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    };
    info.tags = kv(
        "SELECT tag_key, tag_value FROM logged_model_tags WHERE model_id = ?1 ORDER BY tag_key",
    )?;
    let params = kv("SELECT param_key, param_value FROM logged_model_params WHERE model_id = ?1 ORDER BY param_key")?;
    let mut stmt = conn.prepare_cached(
        "SELECT metric_name, metric_value, metric_timestamp_ms, metric_step FROM logged_model_metrics
         WHERE model_id = ?1 ORDER BY metric_name, metric_step",
    )?;
    let metrics = stmt
        .query_map([model_id], |r| {
            Ok(Metric {
                key: r.get(0)?,
                value: r.get::<_, Option<f64>>(1)?.unwrap_or(f64::NAN),
                timestamp: r.get(2)?,
                step: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(LoggedModel {
        info,
        data: LoggedModelData { params, metrics },
    })
}

fn experiment_of(conn: &Connection, model_id: &str) -> ApiResult<i64> {
    conn.query_row(
        "SELECT experiment_id FROM logged_models WHERE model_id = ?1 AND lifecycle_stage IS NOT 'deleted'",
        [model_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("Logged model with ID '{model_id}' not found.")))
}

impl Store {
    pub fn create_logged_model(
        &mut self,
        experiment_id: &str,
        name: Option<&str>,
        model_type: Option<&str>,
        source_run_id: Option<&str>,
        params: &[KeyValue],
        tags: &[KeyValue],
    ) -> ApiResult<LoggedModel> {
        let experiment_id = parse_experiment_id(experiment_id)?;
        if let Some(n) = name {
            if n.contains('/') || n.contains(':') {
                return Err(ApiError::invalid(format!(
                    "Invalid model name '{n}'. Names cannot contain '/' or ':'."
                )));
            }
        }
        let model_id = format!("m-{}", super::new_id());
        let name = name
            .filter(|n| !n.is_empty())
            .unwrap_or("model")
            .to_string();
        self.write(|tx| {
            check_experiment_active(tx, experiment_id)?;
            let location: String = tx.query_row(
                "SELECT artifact_location FROM experiments WHERE experiment_id = ?1",
                [experiment_id],
                |r| r.get::<_, Option<String>>(0).map(Option::unwrap_or_default),
            )?;
            let now = now_ms();
            tx.execute(
                "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms,
                     last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, 'active', ?6, ?7)",
                params![
                    model_id,
                    experiment_id,
                    name,
                    format!("{}/models/{model_id}/artifacts", location.trim_end_matches('/')),
                    now,
                    model_type,
                    source_run_id.filter(|s| !s.is_empty())
                ],
            )?;
            for p in params {
                tx.execute(
                    "INSERT OR REPLACE INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES (?1, ?2, ?3, ?4)",
                    params![model_id, experiment_id, p.key, p.value],
                )?;
            }
            for t in tags {
                tx.execute(
                    "INSERT OR REPLACE INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4)",
                    params![model_id, experiment_id, t.key, t.value],
                )?;
            }
            Ok(())
        })?;
        self.get_logged_model(&model_id)
    }

    pub fn get_logged_model(&self, model_id: &str) -> ApiResult<LoggedModel> {
        load(self.connection(), model_id)
    }

    pub fn finalize_logged_model(
        &mut self,
        model_id: &str,
        status: &str,
    ) -> ApiResult<LoggedModel> {
        let code = status_code(status)?;
        self.write(|tx| {
            experiment_of(tx, model_id)?;
            tx.execute(
                "UPDATE logged_models SET status = ?1, last_updated_timestamp_ms = ?2 WHERE model_id = ?3",
                params![code, now_ms(), model_id],
            )?;
            Ok(())
        })?;
        self.get_logged_model(model_id)
    }

    pub fn delete_logged_model(&mut self, model_id: &str) -> ApiResult<()> {
        self.write(|tx| {
            experiment_of(tx, model_id)?;
            tx.execute(
                "UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = ?1 WHERE model_id = ?2",
                params![now_ms(), model_id],
            )?;
            Ok(())
        })
    }

    pub fn set_logged_model_tags(&mut self, model_id: &str, tags: &[KeyValue]) -> ApiResult<()> {
        self.write(|tx| {
            let experiment_id = experiment_of(tx, model_id)?;
            for t in tags {
                tx.execute(
                    "INSERT OR REPLACE INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4)",
                    params![model_id, experiment_id, t.key, t.value],
                )?;
            }
            Ok(())
        })
    }

    pub fn delete_logged_model_tag(&mut self, model_id: &str, key: &str) -> ApiResult<()> {
        self.write(|tx| {
            experiment_of(tx, model_id)?;
            let n = tx.execute(
                "DELETE FROM logged_model_tags WHERE model_id = ?1 AND tag_key = ?2",
                params![model_id, key],
            )?;
            if n == 0 {
                return Err(ApiError::not_found(format!(
                    "No tag with key '{key}' found for model with ID '{model_id}'."
                )));
            }
            Ok(())
        })
    }

    pub fn log_logged_model_params(
        &mut self,
        model_id: &str,
        params: &[KeyValue],
    ) -> ApiResult<()> {
        self.write(|tx| {
            let experiment_id = experiment_of(tx, model_id)?;
            for p in params {
                tx.execute(
                    "INSERT OR REPLACE INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES (?1, ?2, ?3, ?4)",
                    params![model_id, experiment_id, p.key, p.value],
                )?;
            }
            Ok(())
        })
    }

    /// Logged models of the given experiments, newest first; `source_run_id` narrows to one run.
    pub fn search_logged_models(
        &self,
        experiment_ids: &[String],
        source_run_id: Option<&str>,
    ) -> ApiResult<Vec<LoggedModel>> {
        let ids = experiment_ids
            .iter()
            .map(|e| parse_experiment_id(e))
            .collect::<ApiResult<Vec<_>>>()?;
        let ids_json =
            serde_json::to_string(&ids).map_err(|e| ApiError::internal(e.to_string()))?;
        let mut stmt = self.connection().prepare_cached(
            "SELECT model_id FROM logged_models WHERE lifecycle_stage IS NOT 'deleted'
               AND experiment_id IN (SELECT value FROM json_each(?1))
               AND (?2 IS NULL OR source_run_id = ?2)
             ORDER BY creation_timestamp_ms DESC, model_id",
        )?;
        let model_ids = stmt
            .query_map(params![ids_json, source_run_id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        model_ids
            .iter()
            .map(|id| self.get_logged_model(id))
            .collect()
    }
}
