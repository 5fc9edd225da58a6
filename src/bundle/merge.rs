//! Writing a bundle's records into a store that may already hold data, in the caller's one
//! transaction (so a failed import leaves the store as it was). The clash rule, also in
//! ARCHITECTURE.md:
//!
//! - an experiment whose **name** the store already has receives the bundle's runs (the store's
//!   experiment keeps its id, tags and state); otherwise the bundle's id is kept when free, and the
//!   next free id is used when not;
//! - a **run** or **logged model** whose id the store already has is left as it is in the store, and
//!   the bundle's copy (params, metrics, tags, inputs, artifacts) is skipped — importing the same
//!   bundle twice changes nothing;
//! - a **dataset** with the same (experiment, name, digest) is shared;
//! - a **registered model** whose name the store has receives the bundle's versions, except those
//!   it already holds (same run and source); new ones are numbered after the store's last version;
//!   an alias the store's model already uses stays where it is; the store's description and tags win.
//!
//! Every such decision is reported in [`ImportSummary::notes`].

use crate::api::{ApiError, ApiResult};
use crate::tracking::{KeyValue, Metric};
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::{HashMap, HashSet};

/// What an import did, for the one-line summary and the notes a user reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSummary {
    pub experiments: i64,
    pub runs: i64,
    pub registered_models: i64,
    pub model_versions: i64,
    pub artifacts: i64,
    /// Runs and logged models the store already held (left as they were).
    pub skipped: i64,
    /// Clash decisions, one sentence each.
    pub notes: Vec<String>,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} experiments, {} runs, {} registered models, {} model versions, {} artifacts",
            self.experiments,
            self.runs,
            self.registered_models,
            self.model_versions,
            self.artifacts
        )?;
        if self.skipped > 0 {
            write!(
                f,
                " ({} already in the store, kept as they were)",
                self.skipped
            )?;
        }
        Ok(())
    }
}

pub struct ExperimentRecord {
    pub id: String,
    pub name: String,
    pub lifecycle_stage: String,
    pub creation_time: Option<i64>,
    pub last_update_time: Option<i64>,
    pub tags: Vec<KeyValue>,
}

pub struct RunRecord {
    pub run_id: String,
    pub experiment_id: String,
    pub name: Option<String>,
    pub source_type: String,
    pub source_name: String,
    pub entry_point_name: String,
    pub user_id: String,
    pub status: String,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub source_version: String,
    pub lifecycle_stage: String,
    /// Where the writer kept its artifacts; relocated into this store when it named the bundle.
    pub artifact_uri: Option<String>,
    pub deleted_time: Option<i64>,
}

pub struct DatasetRecord {
    pub uuid: String,
    pub experiment_id: String,
    pub name: String,
    pub digest: String,
    pub source_type: String,
    pub source: String,
    pub schema: Option<String>,
    pub profile: Option<String>,
}

pub struct LoggedModelRecord {
    pub model_id: String,
    pub experiment_id: String,
    pub name: String,
    pub artifact_location: String,
    pub creation_time: i64,
    pub last_updated_time: i64,
    pub status: i64,
    pub lifecycle_stage: String,
    pub model_type: Option<String>,
    pub source_run_id: Option<String>,
    pub status_message: Option<String>,
}

pub struct LoggedModelMetric {
    pub name: String,
    pub timestamp: i64,
    pub step: i64,
    pub value: f64,
    pub run_id: String,
    pub dataset_name: Option<String>,
    pub dataset_digest: Option<String>,
}

impl LoggedModelMetric {
    /// Every metric of a logged model in `conn`, by name, step and time.
    pub fn read_all(conn: &rusqlite::Connection, model_id: &str) -> ApiResult<Vec<Self>> {
        super::query_all(
            conn,
            "SELECT metric_name, metric_timestamp_ms, metric_step, metric_value, run_id, dataset_name, dataset_digest
             FROM logged_model_metrics WHERE model_id = ?1 ORDER BY metric_name, metric_step, metric_timestamp_ms",
            [model_id],
            |r| {
                Ok(LoggedModelMetric {
                    name: r.get(0)?,
                    timestamp: r.get(1)?,
                    step: r.get(2)?,
                    value: r.get::<_, Option<f64>>(3)?.unwrap_or(f64::NAN),
                    run_id: r.get(4)?,
                    dataset_name: r.get(5)?,
                    dataset_digest: r.get(6)?,
                })
            },
        )
    }
}

pub struct RegisteredModelRecord {
    pub name: String,
    pub creation_time: Option<i64>,
    pub last_updated_time: Option<i64>,
    pub description: Option<String>,
    pub tags: Vec<KeyValue>,
}

pub struct VersionRecord {
    pub name: String,
    pub version: i64,
    pub creation_time: Option<i64>,
    pub last_updated_time: Option<i64>,
    pub description: Option<String>,
    pub user_id: Option<String>,
    pub current_stage: String,
    pub source: Option<String>,
    pub run_id: Option<String>,
    pub status: String,
    pub status_message: Option<String>,
    pub run_link: Option<String>,
    pub storage_location: Option<String>,
    pub tags: Vec<KeyValue>,
}

/// The writer: maps the bundle's ids to the store's as records arrive.
pub struct Merge<'t> {
    tx: &'t Transaction<'t>,
    /// Bundle experiment id → store experiment id.
    experiments: HashMap<String, i64>,
    /// Runs and logged models taken from the bundle (others were skipped).
    taken: HashSet<String>,
    /// Bundle dataset uuid → store dataset uuid.
    datasets: HashMap<String, String>,
    /// (model name, bundle version) → store version.
    versions: HashMap<(String, i64), i64>,
    pub summary: ImportSummary,
}

fn exists(tx: &Transaction, sql: &str, p: impl rusqlite::Params) -> ApiResult<bool> {
    Ok(tx.query_row(sql, p, |_| Ok(())).optional()?.is_some())
}

impl<'t> Merge<'t> {
    pub fn new(tx: &'t Transaction<'t>) -> Self {
        Merge {
            tx,
            experiments: HashMap::new(),
            taken: HashSet::new(),
            datasets: HashMap::new(),
            versions: HashMap::new(),
            summary: ImportSummary::default(),
        }
    }

    /// The store's id for a bundle experiment id (which must have been imported first).
    pub fn experiment_id(&self, bundle_id: &str) -> ApiResult<i64> {
        self.experiments.get(bundle_id).copied().ok_or_else(|| {
            ApiError::invalid(format!(
                "the bundle names experiment {bundle_id}, which it does not hold"
            ))
        })
    }

    /// Whether the run or logged model `id` is being imported (not skipped as already present).
    pub fn taken(&self, id: &str) -> bool {
        self.taken.contains(id)
    }

    pub fn experiment(&mut self, e: &ExperimentRecord) -> ApiResult<i64> {
        if self.experiments.contains_key(&e.id) {
            return Err(ApiError::invalid(format!(
                "the bundle holds experiment {} twice",
                e.id
            )));
        }
        let by_name: Option<i64> = self
            .tx
            .query_row(
                "SELECT experiment_id FROM experiments WHERE name = ?1",
                [&e.name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = by_name {
            if e.name != crate::tracking::DEFAULT_EXPERIMENT_NAME || id != 0 {
                self.summary.notes.push(format!(
                    "experiment '{}' already exists here (id {id}): the incoming runs join it",
                    e.name
                ));
            }
            self.experiments.insert(e.id.clone(), id);
            return Ok(id);
        }
        let wanted: Option<i64> = e.id.parse().ok().filter(|id| *id >= 0);
        let id = match wanted {
            Some(id)
                if !exists(
                    self.tx,
                    "SELECT 1 FROM experiments WHERE experiment_id = ?1",
                    [id],
                )? =>
            {
                id
            }
            _ => {
                let id: i64 = self.tx.query_row(
                    "SELECT coalesce(max(experiment_id), 0) + 1 FROM experiments",
                    [],
                    |r| r.get(0),
                )?;
                self.summary.notes.push(format!(
                    "experiment '{}' had id {} in the bundle, which is taken here: it is experiment {id}",
                    e.name, e.id
                ));
                id
            }
        };
        let stage = lifecycle(&e.lifecycle_stage, &format!("experiment {}", e.id))?;
        self.tx.execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time, workspace)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'default')",
            params![id, e.name, format!("{}/{id}", crate::tracking::ARTIFACT_ROOT), stage, e.creation_time, e.last_update_time],
        )?;
        let mut tag = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO experiment_tags (key, value, experiment_id) VALUES (?1, ?2, ?3)",
        )?;
        for t in &e.tags {
            tag.execute(params![t.key, t.value, id])?;
        }
        self.experiments.insert(e.id.clone(), id);
        self.summary.experiments += 1;
        Ok(id)
    }

    /// Rewrites a location the bundle's writer named (an absolute path of its machine, or an
    /// `mlflow-artifacts:/` URI) into this store's `mlflow-artifacts:/` form, with the experiment
    /// id mapped. Locations outside the bundle (s3://…, models:/…) are kept as they are.
    pub fn relocate(&self, location: &str) -> String {
        let path = if let Some(rest) = location.strip_prefix("mlflow-artifacts:") {
            rest.trim_start_matches('/').to_string()
        } else if (location.contains("://") && !location.starts_with("file://"))
            || location.starts_with("models:/")
            || location.starts_with("runs:/")
        {
            return location.to_string();
        } else {
            let path = location.strip_prefix("file://").unwrap_or(location);
            match ["mlartifacts/", "mlruns/"]
                .iter()
                .find_map(|m| path.rfind(m).map(|i| &path[i + m.len()..]))
            {
                Some(rest) => rest.to_string(),
                None => return location.to_string(),
            }
        };
        let (exp, rest) = path.split_once('/').unwrap_or((&path, ""));
        let exp = self
            .experiments
            .get(exp)
            .map(|id| id.to_string())
            .unwrap_or_else(|| exp.to_string());
        let joined = if rest.is_empty() {
            exp
        } else {
            format!("{exp}/{rest}")
        };
        format!("{}/{joined}", crate::tracking::ARTIFACT_ROOT)
    }

    /// Adds a run unless the store holds its id; returns whether it was taken.
    pub fn run(&mut self, r: &RunRecord) -> ApiResult<bool> {
        crate::tracking::validation::validate_run_id(&r.run_id)
            .map_err(|e| ApiError::invalid(format!("run '{}': {}", r.run_id, e.message)))?;
        if self.taken.contains(&r.run_id) {
            return Err(ApiError::invalid(format!(
                "the bundle holds run {} twice",
                r.run_id
            )));
        }
        if exists(
            self.tx,
            "SELECT 1 FROM runs WHERE run_uuid = ?1",
            [&r.run_id],
        )? {
            self.summary.skipped += 1;
            self.summary.notes.push(format!(
                "run {} is already in the store: kept as it was, the bundle's copy skipped",
                r.run_id
            ));
            return Ok(false);
        }
        let experiment = self.experiment_id(&r.experiment_id)?;
        let what = format!("run {}", r.run_id);
        let status = one_of(
            &r.status,
            &["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"],
            &what,
            "status",
        )?;
        let source_type = one_of(
            &r.source_type,
            &["NOTEBOOK", "JOB", "PROJECT", "LOCAL", "UNKNOWN"],
            &what,
            "source type",
        )?;
        let stage = lifecycle(&r.lifecycle_stage, &what)?;
        let artifact_uri = match &r.artifact_uri {
            Some(uri) => self.relocate(uri),
            None => format!(
                "{}/{experiment}/{}/artifacts",
                crate::tracking::ARTIFACT_ROOT,
                r.run_id
            ),
        };
        self.tx.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![r.run_id, r.name, source_type, r.source_name, r.entry_point_name, r.user_id, status, r.start_time, r.end_time, r.source_version, stage, artifact_uri, experiment, r.deleted_time],
        )?;
        self.taken.insert(r.run_id.clone());
        self.summary.runs += 1;
        Ok(true)
    }

    pub fn params(&mut self, run_id: &str, params: &[KeyValue]) -> ApiResult<()> {
        let mut insert = self
            .tx
            .prepare_cached("INSERT INTO params (key, value, run_uuid) VALUES (?1, ?2, ?3)")?;
        for p in params {
            insert
                .execute(params![p.key, p.value, run_id])
                .map_err(|e| {
                    ApiError::invalid(format!(
                        "run {run_id}: param '{}' cannot be stored: {e}",
                        p.key
                    ))
                })?;
        }
        Ok(())
    }

    pub fn tags(&mut self, run_id: &str, tags: &[KeyValue]) -> ApiResult<()> {
        let mut insert = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?1, ?2, ?3)",
        )?;
        for t in tags {
            insert.execute(params![t.key, t.value, run_id])?;
        }
        Ok(())
    }

    pub fn metrics(&mut self, run_id: &str, metrics: &[Metric]) -> ApiResult<()> {
        crate::tracking::runs::insert_metrics(self.tx, run_id, metrics)
    }

    /// A dataset of a bundle experiment; one the store has (same experiment, name, digest) is shared.
    pub fn dataset(&mut self, d: &DatasetRecord) -> ApiResult<()> {
        let experiment = self.experiment_id(&d.experiment_id)?;
        let existing: Option<String> = self
            .tx
            .query_row(
                "SELECT dataset_uuid FROM datasets WHERE experiment_id = ?1 AND name = ?2 AND digest = ?3",
                params![experiment, d.name, d.digest],
                |r| r.get(0),
            )
            .optional()?;
        let uuid = match existing {
            Some(uuid) => uuid,
            None => {
                self.tx.execute(
                    "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![d.uuid, experiment, d.name, d.digest, d.source_type, d.source, d.schema, d.profile],
                )?;
                d.uuid.clone()
            }
        };
        self.datasets.insert(d.uuid.clone(), uuid);
        Ok(())
    }

    /// A dataset input of a run (`tags` such as `mlflow.data.context`).
    pub fn dataset_input(
        &mut self,
        run_id: &str,
        dataset_uuid: &str,
        tags: &[KeyValue],
    ) -> ApiResult<()> {
        let dataset = self.datasets.get(dataset_uuid).cloned().ok_or_else(|| {
            ApiError::invalid(format!(
                "run {run_id} names dataset {dataset_uuid}, which the bundle does not hold"
            ))
        })?;
        let input = crate::tracking::new_id();
        let added = self.tx.execute(
            "INSERT OR IGNORE INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step) VALUES (?1, 'DATASET', ?2, 'RUN', ?3, 0)",
            params![input, dataset, run_id],
        )?;
        if added > 0 {
            let mut tag = self.tx.prepare_cached(
                "INSERT OR REPLACE INTO input_tags (input_uuid, name, value) VALUES (?1, ?2, ?3)",
            )?;
            for t in tags {
                tag.execute(params![input, t.key, t.value])?;
            }
        }
        Ok(())
    }

    /// A run's logged-model output (MLflow 3).
    pub fn model_output(&mut self, run_id: &str, model_id: &str, step: i64) -> ApiResult<()> {
        self.tx.execute(
            "INSERT OR IGNORE INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step) VALUES (?1, 'RUN_OUTPUT', ?2, 'MODEL_OUTPUT', ?3, ?4)",
            params![crate::tracking::new_id(), run_id, model_id, step],
        )?;
        Ok(())
    }

    /// Adds a logged model unless the store holds its id; returns whether it was taken.
    pub fn logged_model(&mut self, m: &LoggedModelRecord) -> ApiResult<bool> {
        if exists(
            self.tx,
            "SELECT 1 FROM logged_models WHERE model_id = ?1",
            [&m.model_id],
        )? {
            self.summary.skipped += 1;
            self.summary.notes.push(format!(
                "logged model {} is already in the store: kept as it was",
                m.model_id
            ));
            return Ok(false);
        }
        let experiment = self.experiment_id(&m.experiment_id)?;
        let stage = lifecycle(&m.lifecycle_stage, &format!("logged model {}", m.model_id))?;
        self.tx.execute(
            "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id, status_message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![m.model_id, experiment, m.name, self.relocate(&m.artifact_location), m.creation_time, m.last_updated_time, m.status, stage, m.model_type, m.source_run_id, m.status_message],
        )?;
        self.taken.insert(m.model_id.clone());
        Ok(true)
    }

    pub fn logged_model_details(
        &mut self,
        model_id: &str,
        params: &[KeyValue],
        tags: &[KeyValue],
        metrics: &[LoggedModelMetric],
    ) -> ApiResult<()> {
        let experiment: i64 = self.tx.query_row(
            "SELECT experiment_id FROM logged_models WHERE model_id = ?1",
            [model_id],
            |r| r.get(0),
        )?;
        let mut param = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for p in params {
            param.execute(params![model_id, experiment, p.key, p.value])?;
        }
        let mut tag = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for t in tags {
            tag.execute(params![model_id, experiment, t.key, t.value])?;
        }
        let mut metric = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, experiment_id, run_id, dataset_uuid, dataset_name, dataset_digest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9)",
        )?;
        for m in metrics {
            // The metric's run must be in the store (it may be a run the bundle skipped).
            if exists(
                self.tx,
                "SELECT 1 FROM runs WHERE run_uuid = ?1",
                [&m.run_id],
            )? {
                let value = if m.value.is_nan() {
                    None
                } else {
                    Some(m.value)
                };
                metric.execute(params![
                    model_id,
                    m.name,
                    m.timestamp,
                    m.step,
                    value,
                    experiment,
                    m.run_id,
                    m.dataset_name,
                    m.dataset_digest
                ])?;
            }
        }
        Ok(())
    }

    /// A registered model: created, or merged into the store's model of the same name.
    pub fn registered_model(&mut self, m: &RegisteredModelRecord) -> ApiResult<()> {
        crate::registry::validation::validate_model_name(&m.name).map_err(|e| {
            ApiError::invalid(format!("registered model '{}': {}", m.name, e.message))
        })?;
        if exists(
            self.tx,
            "SELECT 1 FROM registered_models WHERE name = ?1",
            [&m.name],
        )? {
            self.summary.notes.push(format!(
                "registered model '{}' already exists here: the incoming versions are added to it",
                m.name
            ));
        } else {
            self.tx.execute(
                "INSERT INTO registered_models (name, creation_time, last_updated_time, description, workspace) VALUES (?1, ?2, ?3, ?4, 'default')",
                params![m.name, m.creation_time, m.last_updated_time, m.description],
            )?;
            self.summary.registered_models += 1;
        }
        let mut tag = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO registered_model_tags (key, value, name, workspace) VALUES (?1, ?2, ?3, 'default')",
        )?;
        for t in &m.tags {
            tag.execute(params![t.key, t.value, m.name])?;
        }
        Ok(())
    }

    pub fn model_version(&mut self, v: &VersionRecord) -> ApiResult<()> {
        let what = format!("registered model '{}' version {}", v.name, v.version);
        let stage = crate::registry::validation::canonical_stage(&v.current_stage)
            .map_err(|e| ApiError::invalid(format!("{what}: {}", e.message)))?;
        let storage = v.storage_location.as_deref().map(|s| self.relocate(s));
        let source = v.source.as_deref().map(|s| self.relocate(s));
        let same: Option<i64> = self
            .tx
            .query_row(
                "SELECT version FROM model_versions WHERE name = ?1 AND run_id IS ?2 AND source IS ?3",
                params![v.name, v.run_id, source],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(existing) = same {
            self.versions.insert((v.name.clone(), v.version), existing);
            return Ok(());
        }
        let number = if exists(
            self.tx,
            "SELECT 1 FROM model_versions WHERE name = ?1 AND version = ?2",
            params![v.name, v.version],
        )? {
            let n: i64 = self.tx.query_row(
                "SELECT max(version) + 1 FROM model_versions WHERE name = ?1",
                [&v.name],
                |r| r.get(0),
            )?;
            self.summary.notes.push(format!(
                "{what} is version {n} here (version {} was taken)",
                v.version
            ));
            n
        } else {
            v.version
        };
        self.tx.execute(
            "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, status, status_message, run_link, storage_location, workspace)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'default')",
            params![v.name, number, v.creation_time, v.last_updated_time, v.description, v.user_id, stage, source, v.run_id, v.status, v.status_message, v.run_link, storage],
        ).map_err(|e| ApiError::invalid(format!("{what} cannot be stored: {e}")))?;
        let mut tag = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO model_version_tags (key, value, name, version, workspace) VALUES (?1, ?2, ?3, ?4, 'default')",
        )?;
        for t in &v.tags {
            tag.execute(params![t.key, t.value, v.name, number])?;
        }
        self.versions.insert((v.name.clone(), v.version), number);
        self.summary.model_versions += 1;
        Ok(())
    }

    /// An alias of a bundle version; kept where it is when the store's model already uses it.
    pub fn alias(&mut self, name: &str, alias: &str, version: i64) -> ApiResult<()> {
        let Some(&number) = self.versions.get(&(name.to_string(), version)) else {
            return Err(ApiError::invalid(format!(
                "alias '{alias}' of registered model '{name}' names version {version}, which the bundle does not hold"
            )));
        };
        let held: Option<i64> = self
            .tx
            .query_row(
                "SELECT version FROM registered_model_aliases WHERE name = ?1 AND alias = ?2",
                params![name, alias],
                |r| r.get(0),
            )
            .optional()?;
        match held {
            Some(v) if v != number => self.summary.notes.push(format!(
                "alias '{alias}' of '{name}' already points to version {v} here: left there"
            )),
            Some(_) => {}
            None => {
                self.tx.execute(
                    "INSERT INTO registered_model_aliases (alias, version, name, workspace) VALUES (?1, ?2, ?3, 'default')",
                    params![alias, number, name],
                )?;
            }
        }
        Ok(())
    }

    /// An artifact file, under its key as the bundle's writer named it (`<experiment>/<run>/artifacts/…`
    /// or `<experiment>/models/<model>/artifacts/…`); skipped when its run or model was skipped.
    pub fn artifact(&mut self, bundle_key: &str, content: &[u8]) -> ApiResult<()> {
        let key = crate::tracking::artifacts::clean_relative_path(bundle_key)?;
        let mut parts = key.split('/').skip(1);
        let owner = match parts.next() {
            Some("models") => parts.next(),
            owner => owner,
        };
        if let Some(owner) = owner {
            let skipped = !self.taken.contains(owner)
                && (exists(self.tx, "SELECT 1 FROM runs WHERE run_uuid = ?1", [owner])?
                    || exists(
                        self.tx,
                        "SELECT 1 FROM logged_models WHERE model_id = ?1",
                        [owner],
                    )?);
            if skipped {
                return Ok(());
            }
        }
        let stored = self.relocate(&format!("{}/{key}", crate::tracking::ARTIFACT_ROOT));
        let stored = crate::tracking::artifacts::key_of_uri(&stored)?;
        self.tx.execute(
            "INSERT OR REPLACE INTO flowbook_artifacts (path, content) VALUES (?1, ?2)",
            params![stored, content],
        )?;
        self.summary.artifacts += 1;
        Ok(())
    }
}

fn lifecycle(stage: &str, what: &str) -> ApiResult<&'static str> {
    one_of(stage, &["active", "deleted"], what, "lifecycle stage")
}

fn one_of(
    value: &str,
    allowed: &[&'static str],
    what: &str,
    field: &str,
) -> ApiResult<&'static str> {
    allowed
        .iter()
        .find(|a| **a == value)
        .copied()
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "{what}: {field} '{value}' is not one of {}",
                allowed.join(", ")
            ))
        })
}
