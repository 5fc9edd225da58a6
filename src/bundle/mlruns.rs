//! MLflow's `mlruns` file store, read (2.x and 3.x layouts) and written (a layout both open).
//!
//! ```text
//! mlruns/<exp>/meta.yaml                      experiment (deleted ones under mlruns/.trash/<exp>/)
//! mlruns/<exp>/tags/<key>                     experiment tag
//! mlruns/<exp>/datasets/<uuid>/meta.yaml      dataset
//! mlruns/<exp>/<run>/meta.yaml                run; params/, metrics/ ("ts value step" lines), tags/,
//!                                             artifacts/, inputs/<id>/meta.yaml, outputs/<model>/meta.yaml
//! mlruns/<exp>/models/<m-id>/…                MLflow 3 logged model: meta.yaml, params/, tags/, metrics/, artifacts/
//! mlruns/models/<name>/meta.yaml              registered model; tags/, aliases/<alias>, version-<n>/{meta.yaml,tags/}
//! ```

use super::merge::{
    DatasetRecord, ExperimentRecord, LoggedModelMetric, LoggedModelRecord, Merge,
    RegisteredModelRecord, RunRecord, VersionRecord,
};
use super::source::Source;
use super::yaml::{self, Yaml};
use super::{query_all, query_key_values};
use crate::api::{ApiError, ApiResult};
use crate::tracking::{KeyValue, Metric, Store};
use rusqlite::params;
use std::collections::BTreeMap;
use std::io::{Seek, Write};

const RUN_STATUS: [&str; 5] = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];
const SOURCE_TYPE: [&str; 5] = ["NOTEBOOK", "JOB", "PROJECT", "LOCAL", "UNKNOWN"];
/// Directories of an experiment folder that are not runs.
const NOT_RUNS: [&str; 4] = ["tags", "datasets", "models", "traces"];

fn bad(message: String) -> ApiError {
    ApiError::invalid(message)
}

/// The folder of a bundle that is an mlruns store: the parent of `<digits>/meta.yaml`.
pub fn find_root<'s>(paths: impl Iterator<Item = &'s str>) -> Option<String> {
    paths
        .filter_map(|p| {
            let dir = p.strip_suffix("/meta.yaml")?;
            let (parent, exp) = dir.rsplit_once('/').unwrap_or(("", dir));
            let parent = parent.strip_suffix("/.trash").unwrap_or(parent);
            let parent = if parent == ".trash" { "" } else { parent };
            (!exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit())).then(|| parent.to_string())
        })
        .min_by_key(|root| root.matches('/').count() + usize::from(!root.is_empty()))
}

fn join(root: &str, rest: &str) -> String {
    if root.is_empty() {
        rest.to_string()
    } else {
        format!("{root}/{rest}")
    }
}

struct Reader<'s, 'a, 'm, 't> {
    source: &'s mut Source<'a>,
    merge: &'m mut Merge<'t>,
    progress: &'s mut dyn FnMut(usize, usize),
    done: usize,
    total: usize,
}

impl Reader<'_, '_, '_, '_> {
    fn meta(&mut self, path: &str) -> ApiResult<Yaml> {
        let text = self.source.read_text(path)?;
        let doc =
            yaml::parse(&text).map_err(|e| bad(format!("'{path}' is not valid YAML: {e}")))?;
        match doc {
            Yaml::Map(_) => Ok(doc),
            _ => Err(bad(format!("'{path}' is not a YAML mapping"))),
        }
    }

    fn tick(&mut self, files: usize) {
        self.done += files;
        (self.progress)(self.done.min(self.total), self.total);
    }

    /// Files of a `params/` or `tags/` folder: key = path below it, value = content.
    fn key_values(&mut self, dir: &str) -> ApiResult<Vec<KeyValue>> {
        let files: Vec<(String, String)> = self
            .source
            .under(dir)
            .map(|(p, k)| (p.to_string(), k.to_string()))
            .collect();
        let mut out = Vec::with_capacity(files.len());
        for (path, key) in files {
            out.push(KeyValue::new(key, self.source.read_text(&path)?));
        }
        self.tick(out.len());
        Ok(out)
    }

    /// Every line of every metric file under `dir`, parsed; a bad line is named by file and number.
    fn metric_files<T>(
        &mut self,
        dir: &str,
        parse: fn(&str, &str) -> Result<T, String>,
    ) -> ApiResult<Vec<T>> {
        let mut out = Vec::new();
        for (path, key) in self.files_under(dir) {
            let text = self.source.read_text(&path)?;
            for (n, line) in text.lines().enumerate() {
                if !line.trim().is_empty() {
                    out.push(
                        parse(&key, line)
                            .map_err(|why| bad(format!("'{path}' line {}: {why}", n + 1)))?,
                    );
                }
            }
            self.tick(1);
        }
        Ok(out)
    }

    fn files_under(&self, dir: &str) -> Vec<(String, String)> {
        self.source
            .under(dir)
            .map(|(p, k)| (p.to_string(), k.to_string()))
            .collect()
    }

    fn subdirs(&self, dir: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .source
            .under(dir)
            .filter_map(|(_, rest)| rest.split_once('/').map(|(d, _)| d.to_string()))
            .collect();
        out.dedup();
        out
    }

    fn experiment(&mut self, dir: &str) -> ApiResult<()> {
        let meta_path = format!("{dir}/meta.yaml");
        let meta = self.meta(&meta_path)?;
        let id = id_field(&meta, "experiment_id", &meta_path)?;
        let record = ExperimentRecord {
            name: str_field(&meta, "name", &meta_path)?,
            lifecycle_stage: opt_str(&meta, "lifecycle_stage", &meta_path)?
                .unwrap_or_else(|| "active".into()),
            creation_time: opt_i64(&meta, "creation_time", &meta_path)?,
            last_update_time: opt_i64(&meta, "last_update_time", &meta_path)?,
            tags: self.key_values(&format!("{dir}/tags"))?,
            id: id.clone(),
        };
        self.merge.experiment(&record)?;
        self.tick(1);
        for uuid in self.subdirs(&format!("{dir}/datasets")) {
            let path = format!("{dir}/datasets/{uuid}/meta.yaml");
            let m = self.meta(&path)?;
            self.merge.dataset(&DatasetRecord {
                uuid: uuid.clone(),
                experiment_id: id.clone(),
                name: str_field(&m, "name", &path)?,
                digest: str_field(&m, "digest", &path)?,
                source_type: str_field(&m, "source_type", &path)?,
                source: str_field(&m, "source", &path)?,
                schema: opt_str(&m, "schema", &path)?,
                profile: opt_str(&m, "profile", &path)?,
            })?;
            self.tick(1);
        }
        for run in self.subdirs(dir) {
            if !NOT_RUNS.contains(&run.as_str()) {
                self.run(&format!("{dir}/{run}"), &run, &id)?;
            }
        }
        for model in self.subdirs(&format!("{dir}/models")) {
            self.logged_model(&format!("{dir}/models/{model}"), &model, &id)?;
        }
        Ok(())
    }

    fn run(&mut self, dir: &str, dir_name: &str, experiment: &str) -> ApiResult<()> {
        let meta_path = format!("{dir}/meta.yaml");
        if !self.source.contains(&meta_path) {
            return Err(bad(format!(
                "'{dir}' has no meta.yaml: it is not a run folder"
            )));
        }
        let meta = self.meta(&meta_path)?;
        let run_id = str_field(&meta, "run_id", &meta_path)
            .or_else(|_| str_field(&meta, "run_uuid", &meta_path))?;
        if run_id != dir_name {
            return Err(bad(format!(
                "'{meta_path}' names run '{run_id}', but its folder is '{dir_name}'"
            )));
        }
        let tags = self.key_values(&format!("{dir}/tags"))?;
        let name = opt_str(&meta, "run_name", &meta_path)?.or_else(|| {
            tags.iter()
                .find(|t| t.key == "mlflow.runName")
                .map(|t| t.value.clone())
        });
        let record = RunRecord {
            run_id: run_id.clone(),
            experiment_id: experiment.to_string(),
            name,
            source_type: enum_field(&meta, "source_type", &SOURCE_TYPE, &meta_path, "LOCAL")?,
            source_name: opt_str(&meta, "source_name", &meta_path)?.unwrap_or_default(),
            entry_point_name: opt_str(&meta, "entry_point_name", &meta_path)?.unwrap_or_default(),
            user_id: opt_str(&meta, "user_id", &meta_path)?.unwrap_or_default(),
            status: enum_field(&meta, "status", &RUN_STATUS, &meta_path, "FINISHED")?,
            start_time: opt_i64(&meta, "start_time", &meta_path)?,
            end_time: opt_i64(&meta, "end_time", &meta_path)?,
            source_version: opt_str(&meta, "source_version", &meta_path)?.unwrap_or_default(),
            lifecycle_stage: opt_str(&meta, "lifecycle_stage", &meta_path)?
                .unwrap_or_else(|| "active".into()),
            artifact_uri: opt_str(&meta, "artifact_uri", &meta_path)?,
            deleted_time: opt_i64(&meta, "deleted_time", &meta_path)?,
        };
        if !self.merge.run(&record)? {
            return Ok(());
        }
        self.tick(1);
        self.merge.tags(&run_id, &tags)?;
        let params = self.key_values(&format!("{dir}/params"))?;
        self.merge.params(&run_id, &params)?;
        let metrics = self.metric_files(&format!("{dir}/metrics"), metric_line)?;
        self.merge.metrics(&run_id, &metrics)?;
        for input in self.subdirs(&format!("{dir}/inputs")) {
            let path = format!("{dir}/inputs/{input}/meta.yaml");
            let m = self.meta(&path)?;
            if opt_str(&m, "source_type", &path)?.as_deref() == Some("DATASET") {
                let dataset = str_field(&m, "source_id", &path)?;
                self.merge
                    .dataset_input(&run_id, &dataset, &map_field(&m, "tags", &path)?)?;
            }
            self.tick(1);
        }
        for model in self.subdirs(&format!("{dir}/outputs")) {
            let path = format!("{dir}/outputs/{model}/meta.yaml");
            let m = self.meta(&path)?;
            let step = opt_i64(&m, "step", &path)?.unwrap_or(0);
            self.merge.model_output(&run_id, &model, step)?;
            self.tick(1);
        }
        let key_prefix = format!("{experiment}/{run_id}/artifacts");
        self.artifacts(&format!("{dir}/artifacts"), &key_prefix)
    }

    fn artifacts(&mut self, dir: &str, key_prefix: &str) -> ApiResult<()> {
        for (path, rel) in self.files_under(dir) {
            let content = self.source.read(&path)?;
            self.merge
                .artifact(&format!("{key_prefix}/{rel}"), &content)?;
            self.tick(1);
        }
        Ok(())
    }

    fn logged_model(&mut self, dir: &str, dir_name: &str, experiment: &str) -> ApiResult<()> {
        let meta_path = format!("{dir}/meta.yaml");
        let meta = self.meta(&meta_path)?;
        let model_id = str_field(&meta, "model_id", &meta_path)?;
        if model_id != dir_name {
            return Err(bad(format!(
                "'{meta_path}' names model '{model_id}', but its folder is '{dir_name}'"
            )));
        }
        let record = LoggedModelRecord {
            model_id: model_id.clone(),
            experiment_id: experiment.to_string(),
            name: str_field(&meta, "name", &meta_path)?,
            artifact_location: opt_str(&meta, "artifact_location", &meta_path)?.unwrap_or_else(
                || format!("mlflow-artifacts:/{experiment}/models/{model_id}/artifacts"),
            ),
            creation_time: opt_i64(&meta, "creation_timestamp", &meta_path)?.unwrap_or(0),
            last_updated_time: opt_i64(&meta, "last_updated_timestamp", &meta_path)?.unwrap_or(0),
            status: opt_i64(&meta, "status", &meta_path)?.unwrap_or(0),
            lifecycle_stage: opt_str(&meta, "lifecycle_stage", &meta_path)?
                .unwrap_or_else(|| "active".into()),
            model_type: opt_str(&meta, "model_type", &meta_path)?,
            source_run_id: opt_str(&meta, "source_run_id", &meta_path)?,
            status_message: opt_str(&meta, "status_message", &meta_path)?,
        };
        self.tick(1);
        if !self.merge.logged_model(&record)? {
            return Ok(());
        }
        let params = self.key_values(&format!("{dir}/params"))?;
        let tags = self.key_values(&format!("{dir}/tags"))?;
        let metrics = self.metric_files(&format!("{dir}/metrics"), model_metric_line)?;
        self.merge
            .logged_model_details(&model_id, &params, &tags, &metrics)?;
        self.artifacts(
            &format!("{dir}/artifacts"),
            &format!("{experiment}/models/{model_id}/artifacts"),
        )
    }

    fn registered_model(&mut self, dir: &str) -> ApiResult<()> {
        let meta_path = format!("{dir}/meta.yaml");
        let meta = self.meta(&meta_path)?;
        let name = str_field(&meta, "name", &meta_path)?;
        let tags = self.key_values(&format!("{dir}/tags"))?;
        self.merge.registered_model(&RegisteredModelRecord {
            name: name.clone(),
            creation_time: opt_i64(&meta, "creation_timestamp", &meta_path)?,
            last_updated_time: opt_i64(&meta, "last_updated_timestamp", &meta_path)?,
            description: opt_str(&meta, "description", &meta_path)?,
            tags,
        })?;
        self.tick(1);
        let mut versions: Vec<(i64, String)> = self
            .subdirs(dir)
            .into_iter()
            .filter_map(|d| Some((d.strip_prefix("version-")?.parse().ok()?, d)))
            .collect();
        versions.sort();
        for (_, folder) in versions {
            let path = format!("{dir}/{folder}/meta.yaml");
            let m = self.meta(&path)?;
            let tags = self.key_values(&format!("{dir}/{folder}/tags"))?;
            self.merge.model_version(&VersionRecord {
                name: name.clone(),
                version: id_field(&m, "version", &path)?
                    .parse()
                    .map_err(|_| bad(format!("'{path}': version is not a number")))?,
                creation_time: opt_i64(&m, "creation_timestamp", &path)?,
                last_updated_time: opt_i64(&m, "last_updated_timestamp", &path)?,
                description: opt_str(&m, "description", &path)?,
                user_id: opt_str(&m, "user_id", &path)?,
                current_stage: opt_str(&m, "current_stage", &path)?
                    .unwrap_or_else(|| "None".into()),
                source: opt_str(&m, "source", &path)?,
                run_id: opt_str(&m, "run_id", &path)?,
                status: opt_str(&m, "status", &path)?.unwrap_or_else(|| "READY".into()),
                status_message: opt_str(&m, "status_message", &path)?,
                run_link: opt_str(&m, "run_link", &path)?,
                storage_location: opt_str(&m, "storage_location", &path)?,
                tags,
            })?;
            self.tick(1);
        }
        // Aliases: files under aliases/ (2.x and 3.x), or the model's meta.yaml map.
        let mut aliases: BTreeMap<String, i64> = BTreeMap::new();
        if let Some(Yaml::Map(entries)) = meta.get("aliases") {
            for (alias, v) in entries {
                let version = v.as_i64().ok_or_else(|| {
                    bad(format!(
                        "'{meta_path}': alias '{alias}' does not name a version"
                    ))
                })?;
                aliases.insert(alias.clone(), version);
            }
        }
        for (path, alias) in self.files_under(&format!("{dir}/aliases")) {
            let text = self.source.read_text(&path)?;
            let version = text
                .trim()
                .parse()
                .map_err(|_| bad(format!("'{path}' does not hold a version number")))?;
            aliases.insert(alias, version);
            self.tick(1);
        }
        for (alias, version) in aliases {
            self.merge.alias(&name, &alias, version)?;
        }
        Ok(())
    }
}

/// Reads the mlruns store at `root` of the bundle into the store (through `merge`).
pub fn read(
    source: &mut Source,
    root: &str,
    merge: &mut Merge,
    progress: &mut dyn FnMut(usize, usize),
) -> ApiResult<()> {
    let total = source.len();
    let mut experiments: Vec<(i64, String)> = Vec::new();
    let trash = join(root, ".trash");
    for base in [root.to_string(), trash] {
        let dirs: Vec<String> = source
            .paths()
            .filter_map(|p| {
                let rest = if base.is_empty() {
                    p
                } else {
                    p.strip_prefix(&base)?.strip_prefix('/')?
                };
                let (exp, file) = rest.split_once('/')?;
                (file == "meta.yaml" && !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| exp.to_string())
            })
            .collect();
        for exp in dirs {
            let order = exp.parse().unwrap_or(i64::MAX);
            experiments.push((order, join(&base, &exp)));
        }
    }
    experiments.sort();
    let mut reader = Reader {
        source,
        merge,
        progress,
        done: 0,
        total,
    };
    for (_, dir) in &experiments {
        reader.experiment(dir)?;
    }
    let registry = join(root, "models");
    for model in reader.subdirs(&registry) {
        reader.registered_model(&format!("{registry}/{model}"))?;
    }
    let total = reader.total;
    (reader.progress)(total, total);
    Ok(())
}

fn field<'y>(meta: &'y Yaml, key: &str) -> Option<&'y Yaml> {
    meta.get(key).filter(|v| !v.is_null())
}

fn str_field(meta: &Yaml, key: &str, path: &str) -> ApiResult<String> {
    opt_str(meta, key, path)?.ok_or_else(|| bad(format!("'{path}' has no {key}")))
}

fn opt_str(meta: &Yaml, key: &str, path: &str) -> ApiResult<Option<String>> {
    match field(meta, key) {
        None => Ok(None),
        Some(Yaml::Str(s)) => Ok(Some(s.clone())),
        Some(Yaml::Int(i)) => Ok(Some(i.to_string())),
        Some(Yaml::Float(f)) => Ok(Some(f.to_string())),
        Some(Yaml::Bool(b)) => Ok(Some(if *b { "True" } else { "False" }.to_string())),
        Some(_) => Err(bad(format!("'{path}': {key} is not text"))),
    }
}

/// An id MLflow writes as a quoted string ('123') or, in older files, as a number.
fn id_field(meta: &Yaml, key: &str, path: &str) -> ApiResult<String> {
    match field(meta, key) {
        Some(Yaml::Str(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Yaml::Int(i)) => Ok(i.to_string()),
        _ => Err(bad(format!("'{path}' has no valid {key}"))),
    }
}

fn opt_i64(meta: &Yaml, key: &str, path: &str) -> ApiResult<Option<i64>> {
    match field(meta, key) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(format!("'{path}': {key} is not a whole number"))),
    }
}

/// A proto enum MLflow writes as its number (status: 3) or, by hand, as its name.
fn enum_field(
    meta: &Yaml,
    key: &str,
    names: &[&str],
    path: &str,
    default: &str,
) -> ApiResult<String> {
    match field(meta, key) {
        None => Ok(default.to_string()),
        Some(Yaml::Int(n)) => usize::try_from(*n - 1)
            .ok()
            .and_then(|i| names.get(i))
            .map(|s| s.to_string())
            .ok_or_else(|| bad(format!("'{path}': {key} {n} is not a known value"))),
        Some(Yaml::Str(s)) if names.contains(&s.as_str()) => Ok(s.clone()),
        Some(_) => Err(bad(format!("'{path}': {key} is not a known value"))),
    }
}

fn map_field(meta: &Yaml, key: &str, path: &str) -> ApiResult<Vec<KeyValue>> {
    match field(meta, key) {
        None => Ok(Vec::new()),
        Some(Yaml::Map(entries)) => entries
            .iter()
            .map(|(k, v)| match v {
                Yaml::Str(s) => Ok(KeyValue::new(k.clone(), s.clone())),
                Yaml::Null => Ok(KeyValue::new(k.clone(), "")),
                other => Ok(KeyValue::new(
                    k.clone(),
                    opt_str(&Yaml::Map(vec![(k.clone(), other.clone())]), k, path)?
                        .unwrap_or_default(),
                )),
            })
            .collect(),
        Some(Yaml::Seq(items)) if items.is_empty() => Ok(Vec::new()),
        Some(_) => Err(bad(format!("'{path}': {key} is not a mapping"))),
    }
}

/// One line of a run's metric file: `timestamp value [step [dataset_name dataset_digest]]` (the
/// dataset fields, MLflow 3's, have no column in MLflow's SQL schema and are dropped as its SQL store does).
fn metric_line(key: &str, line: &str) -> Result<Metric, String> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    if ![2, 3, 5].contains(&parts.len()) {
        return Err(format!("'{line}' is not 'timestamp value step'"));
    }
    Ok(Metric {
        key: key.to_string(),
        timestamp: parts[0]
            .parse()
            .map_err(|_| format!("timestamp '{}' is not a whole number", parts[0]))?,
        value: parse_value(parts[1])?,
        step: match parts.get(2) {
            Some(s) => s
                .parse()
                .map_err(|_| format!("step '{s}' is not a whole number"))?,
            None => 0,
        },
    })
}

/// One line of a logged model's metric file: `timestamp value step run_id [dataset_name dataset_digest]`.
fn model_metric_line(key: &str, line: &str) -> Result<LoggedModelMetric, String> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    if parts.len() != 4 && parts.len() != 6 {
        return Err(format!("'{line}' is not 'timestamp value step run_id'"));
    }
    Ok(LoggedModelMetric {
        name: key.to_string(),
        timestamp: parts[0]
            .parse()
            .map_err(|_| format!("timestamp '{}' is not a whole number", parts[0]))?,
        value: parse_value(parts[1])?,
        step: parts[2]
            .parse()
            .map_err(|_| format!("step '{}' is not a whole number", parts[2]))?,
        run_id: parts[3].to_string(),
        dataset_name: parts.get(4).map(|s| s.to_string()),
        dataset_digest: parts.get(5).map(|s| s.to_string()),
    })
}

fn parse_value(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .map_err(|_| format!("value '{text}' is not a number"))
}

/// A metric value as Python's `repr(float)` writes it, which MLflow's reader parses back.
fn python_float(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else if v == v.trunc() && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v:?}")
    }
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

fn s(v: &str) -> Yaml {
    Yaml::Str(v.to_string())
}

fn opt(v: Option<String>) -> Yaml {
    v.map(Yaml::Str).unwrap_or(Yaml::Null)
}

fn int(v: Option<i64>) -> Yaml {
    v.map(Yaml::Int).unwrap_or(Yaml::Null)
}

fn map(entries: Vec<(&str, Yaml)>) -> Yaml {
    let mut entries: Vec<(String, Yaml)> = entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Yaml::Map(entries)
}

/// What an export wrote, for the one-line summary.
pub use super::mlflow_db::ExportSummary;

struct Writer<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
    artifacts: i64,
}

impl<W: Write + Seek> Writer<W> {
    fn file(&mut self, path: &str, content: &[u8]) -> ApiResult<()> {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        self.zip
            .start_file(path, options)
            .and_then(|_| self.zip.write_all(content).map_err(Into::into))
            .map_err(|e| ApiError::internal(format!("cannot write the zip at '{path}': {e}")))
    }

    /// Empty folders too: MLflow's file store only finds a run whose `metrics/`, `params/` and
    /// `artifacts/` folders exist.
    fn folders(&mut self, dir: &str, names: &[&str]) -> ApiResult<()> {
        for name in names {
            let path = format!("{dir}/{name}/");
            self.zip
                .add_directory(&path, zip::write::SimpleFileOptions::default())
                .map_err(|e| {
                    ApiError::internal(format!("cannot write the zip at '{path}': {e}"))
                })?;
        }
        Ok(())
    }

    fn yaml(&mut self, path: &str, value: &Yaml) -> ApiResult<()> {
        self.file(path, yaml::dump(value).as_bytes())
    }

    fn key_values(&mut self, dir: &str, rows: &[KeyValue]) -> ApiResult<()> {
        for kv in rows {
            self.file(&format!("{dir}/{}", kv.key), kv.value.as_bytes())?;
        }
        Ok(())
    }

    /// A run's or logged model's folder: meta.yaml, the folders MLflow requires, params/ and tags/.
    fn entity_folder(
        &mut self,
        store: &Store,
        dir: &str,
        meta: &Yaml,
        id: &str,
        params_sql: &str,
        tags_sql: &str,
    ) -> ApiResult<()> {
        self.yaml(&format!("{dir}/meta.yaml"), meta)?;
        self.folders(dir, &["metrics", "params", "tags", "artifacts"])?;
        self.key_values(
            &format!("{dir}/params"),
            &query_key_values(store.connection(), params_sql, [id])?,
        )?;
        self.key_values(
            &format!("{dir}/tags"),
            &query_key_values(store.connection(), tags_sql, [id])?,
        )
    }

    /// Every artifact under `key` (a `flowbook_artifacts` path prefix) into `dir`.
    fn artifacts(&mut self, store: &Store, key: &str, dir: &str) -> ApiResult<()> {
        let mut stmt = store.connection().prepare_cached(
            "SELECT path, content FROM flowbook_artifacts WHERE path > ?1 AND path < ?2 ORDER BY path",
        )?;
        let mut rows = stmt.query(params![format!("{key}/"), format!("{key}0")])?;
        while let Some(row) = rows.next()? {
            let path: String = row.get(0)?;
            let content: Vec<u8> = row.get(1)?;
            self.file(&format!("{dir}/{}", &path[key.len() + 1..]), &content)?;
            self.artifacts += 1;
        }
        Ok(())
    }
}

/// The artifact key (in `flowbook_artifacts`) an artifact URI of this store names, if any.
fn local_key(uri: &str) -> Option<String> {
    crate::tracking::artifacts::key_of_uri(uri).ok()
}

/// A location in the exported layout: artifacts keyed `<exp>/…` sit at `mlruns/<exp>/…`, relative
/// to the folder the zip is unpacked in (where `mlflow ui` is started).
fn exported(uri: &str, experiment_dirs: &BTreeMap<String, String>) -> String {
    match local_key(uri) {
        Some(key) => {
            let (exp, rest) = key.split_once('/').unwrap_or((&key, ""));
            let dir = experiment_dirs
                .get(exp)
                .cloned()
                .unwrap_or_else(|| format!("mlruns/{exp}"));
            if rest.is_empty() {
                dir
            } else {
                format!("{dir}/{rest}")
            }
        }
        None => uri.to_string(),
    }
}

/// Writes the store as an `mlruns` zip: every experiment, run, param, metric history, tag, dataset
/// input, logged model, artifact and the registry, as MLflow 2.x and 3.x file stores read them.
pub fn write<W: Write + Seek>(
    store: &Store,
    out: W,
    progress: &mut dyn FnMut(usize, usize),
) -> ApiResult<(W, ExportSummary)> {
    let mut w = Writer {
        zip: zip::ZipWriter::new(out),
        artifacts: 0,
    };
    let experiments = query_all(
        store.connection(),
        "SELECT experiment_id, name, lifecycle_stage, creation_time, last_update_time FROM experiments ORDER BY experiment_id",
        [],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, Option<i64>>(3)?, r.get::<_, Option<i64>>(4)?)),
    )?;
    let dirs: BTreeMap<String, String> = experiments
        .iter()
        .map(|(id, _, stage, ..)| {
            let dir = if stage.as_deref() == Some("deleted") {
                format!("mlruns/.trash/{id}")
            } else {
                format!("mlruns/{id}")
            };
            (id.to_string(), dir)
        })
        .collect();
    let total_runs: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))?;
    let mut runs_done = 0usize;
    let mut summary = ExportSummary::default();
    for (id, name, stage, created, updated) in &experiments {
        let dir = &dirs[&id.to_string()];
        summary.experiments += 1;
        let stage = stage.clone().unwrap_or_else(|| "active".into());
        w.yaml(
            &format!("{dir}/meta.yaml"),
            &map(vec![
                ("artifact_location", s(dir)),
                ("creation_time", int(*created)),
                ("experiment_id", s(&id.to_string())),
                ("last_update_time", int(*updated)),
                ("lifecycle_stage", s(&stage)),
                ("name", s(name)),
            ]),
        )?;
        let tags = query_key_values(
            store.connection(),
            "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1",
            [id],
        )?;
        w.key_values(&format!("{dir}/tags"), &tags)?;
        type DatasetRow = (
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let datasets: Vec<DatasetRow> = query_all(
        store.connection(),
            "SELECT dataset_uuid, name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile FROM datasets WHERE experiment_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )?;
        for (uuid, name, digest, source_type, source, schema, profile) in datasets {
            w.yaml(
                &format!("{dir}/datasets/{uuid}/meta.yaml"),
                &map(vec![
                    ("digest", s(&digest)),
                    ("name", s(&name)),
                    ("profile", opt(profile)),
                    ("schema", opt(schema)),
                    ("source", s(&source)),
                    ("source_type", s(&source_type)),
                ]),
            )?;
        }
        let run_ids: Vec<String> = query_all(
            store.connection(),
            "SELECT run_uuid FROM runs WHERE experiment_id = ?1 ORDER BY start_time, run_uuid",
            [id],
            |r| r.get(0),
        )?;
        for run_id in run_ids {
            write_run(store, &mut w, &dirs, dir, id, &run_id)?;
            summary.runs += 1;
            runs_done += 1;
            progress(runs_done, total_runs.max(1) as usize);
        }
        let models: Vec<String> = query_all(
        store.connection(),
            "SELECT model_id FROM logged_models WHERE experiment_id = ?1 ORDER BY creation_timestamp_ms",
            [id],
            |r| r.get(0),
        )?;
        for model_id in models {
            write_logged_model(store, &mut w, &dirs, dir, id, &model_id)?;
        }
    }
    summary.registered_models = write_registry(store, &mut w, &dirs)?;
    summary.artifacts = w.artifacts;
    let out = w
        .zip
        .finish()
        .map_err(|e| ApiError::internal(format!("cannot finish the zip: {e}")))?;
    progress(total_runs.max(1) as usize, total_runs.max(1) as usize);
    Ok((out, summary))
}

fn write_run<W: Write + Seek>(
    store: &Store,
    w: &mut Writer<W>,
    dirs: &BTreeMap<String, String>,
    exp_dir: &str,
    experiment: &i64,
    run_id: &str,
) -> ApiResult<()> {
    let dir = format!("{exp_dir}/{run_id}");
    type RunRow = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
    );
    let r: RunRow = store.connection().query_row(
        "SELECT name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, deleted_time FROM runs WHERE run_uuid = ?1",
        [run_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?)),
    )?;
    let number = |names: &[&str], v: &Option<String>, default: i64| {
        v.as_deref()
            .and_then(|v| names.iter().position(|n| *n == v))
            .map(|i| i as i64 + 1)
            .unwrap_or(default)
    };
    let artifact_uri = r.10.clone().unwrap_or_default();
    let mut meta = vec![
        ("artifact_uri", s(&exported(&artifact_uri, dirs))),
        ("end_time", int(r.7)),
        ("entry_point_name", s(r.3.as_deref().unwrap_or(""))),
        ("experiment_id", s(&experiment.to_string())),
        ("lifecycle_stage", s(r.9.as_deref().unwrap_or("active"))),
        ("run_id", s(run_id)),
        ("run_name", s(r.0.as_deref().unwrap_or(""))),
        ("run_uuid", s(run_id)),
        ("source_name", s(r.2.as_deref().unwrap_or(""))),
        ("source_type", Yaml::Int(number(&SOURCE_TYPE, &r.1, 4))),
        ("source_version", s(r.8.as_deref().unwrap_or(""))),
        ("start_time", int(r.6)),
        ("status", Yaml::Int(number(&RUN_STATUS, &r.5, 3))),
        ("tags", Yaml::Seq(Vec::new())),
        ("user_id", s(r.4.as_deref().unwrap_or(""))),
    ];
    if let Some(t) = r.11 {
        meta.push(("deleted_time", Yaml::Int(t)));
    }
    w.entity_folder(
        store,
        &dir,
        &map(meta),
        run_id,
        "SELECT key, value FROM params WHERE run_uuid = ?1",
        "SELECT key, value FROM tags WHERE run_uuid = ?1",
    )?;
    let metrics: Vec<(String, i64, f64, i64, bool)> = query_all(
        store.connection(),
        "SELECT key, timestamp, value, step, is_nan FROM metrics WHERE run_uuid = ?1 ORDER BY key, step, timestamp",
        [run_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let mut files: BTreeMap<&str, String> = BTreeMap::new();
    for (key, ts, value, step, is_nan) in &metrics {
        let value = if *is_nan { f64::NAN } else { *value };
        let text = files.entry(key).or_default();
        text.push_str(&format!("{ts} {} {step}\n", python_float(value)));
    }
    for (key, text) in files {
        w.file(&format!("{dir}/metrics/{key}"), text.as_bytes())?;
    }
    let inputs: Vec<(String, String)> = query_all(
        store.connection(),
        "SELECT input_uuid, source_id FROM inputs WHERE destination_type = 'RUN' AND destination_id = ?1 AND source_type = 'DATASET'",
        [run_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    for (input, dataset) in inputs {
        let tags = query_key_values(
            store.connection(),
            "SELECT name, value FROM input_tags WHERE input_uuid = ?1",
            [&input],
        )?;
        let tags = Yaml::Map(
            tags.into_iter()
                .map(|kv| (kv.key, Yaml::Str(kv.value)))
                .collect(),
        );
        w.yaml(
            &format!("{dir}/inputs/{input}/meta.yaml"),
            &map(vec![
                ("destination_id", s(&dataset)),
                ("destination_type", s("RUN")),
                ("source_id", s(&dataset)),
                ("source_type", s("DATASET")),
                ("tags", tags),
            ]),
        )?;
    }
    let outputs: Vec<(String, i64)> = query_all(
        store.connection(),
        "SELECT destination_id, step FROM inputs WHERE source_type = 'RUN_OUTPUT' AND source_id = ?1 AND destination_type = 'MODEL_OUTPUT'",
        [run_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    for (model, step) in outputs {
        w.yaml(
            &format!("{dir}/outputs/{model}/meta.yaml"),
            &map(vec![
                ("destination_id", s(&model)),
                ("destination_type", s("MODEL_OUTPUT")),
                ("source_id", s(&model)),
                ("source_type", s("RUN_OUTPUT")),
                ("step", Yaml::Int(step)),
                ("tags", Yaml::Map(Vec::new())),
            ]),
        )?;
    }
    if let Some(key) = local_key(&artifact_uri) {
        w.artifacts(store, &key, &format!("{dir}/artifacts"))?;
    }
    Ok(())
}

fn write_logged_model<W: Write + Seek>(
    store: &Store,
    w: &mut Writer<W>,
    dirs: &BTreeMap<String, String>,
    exp_dir: &str,
    experiment: &i64,
    model_id: &str,
) -> ApiResult<()> {
    let dir = format!("{exp_dir}/models/{model_id}");
    type ModelRow = (
        String,
        String,
        i64,
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let m: ModelRow = store.connection().query_row(
        "SELECT name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id, status_message FROM logged_models WHERE model_id = ?1",
        [model_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
    )?;
    let mut meta = vec![
        ("artifact_location", s(&exported(&m.1, dirs))),
        ("creation_timestamp", Yaml::Int(m.2)),
        ("experiment_id", s(&experiment.to_string())),
        ("last_updated_timestamp", Yaml::Int(m.3)),
        ("model_id", s(model_id)),
        ("model_type", opt(m.6)),
        ("name", s(&m.0)),
        ("source_run_id", opt(m.7)),
        ("status", Yaml::Int(m.4)),
        ("status_message", opt(m.8)),
    ];
    if m.5.as_deref() == Some("deleted") {
        meta.push(("lifecycle_stage", s("deleted")));
    }
    w.entity_folder(
        store,
        &dir,
        &map(meta),
        model_id,
        "SELECT param_key, param_value FROM logged_model_params WHERE model_id = ?1",
        "SELECT tag_key, tag_value FROM logged_model_tags WHERE model_id = ?1",
    )?;
    let metrics = LoggedModelMetric::read_all(store.connection(), model_id)?;
    let mut files: BTreeMap<&str, String> = BTreeMap::new();
    for m in &metrics {
        let text = files.entry(&m.name).or_default();
        let (ts, value, step, run) = (m.timestamp, python_float(m.value), m.step, &m.run_id);
        match (&m.dataset_name, &m.dataset_digest) {
            (Some(n), Some(d)) => text.push_str(&format!("{ts} {value} {step} {run} {n} {d}\n")),
            _ => text.push_str(&format!("{ts} {value} {step} {run}\n")),
        }
    }
    for (name, text) in files {
        w.file(&format!("{dir}/metrics/{name}"), text.as_bytes())?;
    }
    if let Some(key) = local_key(&m.1) {
        w.artifacts(store, &key, &format!("{dir}/artifacts"))?;
    }
    Ok(())
}

fn write_registry<W: Write + Seek>(
    store: &Store,
    w: &mut Writer<W>,
    dirs: &BTreeMap<String, String>,
) -> ApiResult<i64> {
    type ModelRow = (String, Option<i64>, Option<i64>, Option<String>);
    let models: Vec<ModelRow> = query_all(
        store.connection(),
        "SELECT name, creation_time, last_updated_time, description FROM registered_models ORDER BY name",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    for (name, created, updated, description) in &models {
        let dir = format!("mlruns/models/{name}");
        let aliases: Vec<(String, i64)> = query_all(
            store.connection(),
            "SELECT alias, version FROM registered_model_aliases WHERE name = ?1 ORDER BY alias",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        w.yaml(
            &format!("{dir}/meta.yaml"),
            &map(vec![
                (
                    "aliases",
                    Yaml::Map(
                        aliases
                            .iter()
                            .map(|(a, v)| (a.clone(), Yaml::Str(v.to_string())))
                            .collect(),
                    ),
                ),
                ("creation_timestamp", int(*created)),
                ("description", opt(description.clone())),
                ("last_updated_timestamp", int(*updated)),
                ("name", s(name)),
            ]),
        )?;
        for (alias, version) in &aliases {
            w.file(
                &format!("{dir}/aliases/{alias}"),
                version.to_string().as_bytes(),
            )?;
        }
        let tags = query_key_values(
            store.connection(),
            "SELECT key, value FROM registered_model_tags WHERE name = ?1",
            [name],
        )?;
        w.key_values(&format!("{dir}/tags"), &tags)?;
        type VersionRow = (
            i64,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let versions: Vec<VersionRow> = query_all(
        store.connection(),
            "SELECT version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, status, status_message, run_link, storage_location FROM model_versions WHERE name = ?1 ORDER BY version",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?)),
        )?;
        for v in versions {
            let vdir = format!("{dir}/version-{}", v.0);
            let source = v.6.clone().unwrap_or_default();
            let mut meta = vec![
                (
                    "aliases",
                    Yaml::Seq(
                        aliases
                            .iter()
                            .filter(|(_, n)| *n == v.0)
                            .map(|(a, _)| s(a))
                            .collect(),
                    ),
                ),
                ("creation_timestamp", int(v.1)),
                ("current_stage", s(v.5.as_deref().unwrap_or("None"))),
                ("description", opt(v.3.clone())),
                ("last_updated_timestamp", int(v.2)),
                ("name", s(name)),
                ("run_id", opt(v.7.clone())),
                ("run_link", opt(v.10.clone())),
                ("source", s(&exported(&source, dirs))),
                ("status", s(v.8.as_deref().unwrap_or("READY"))),
                ("status_message", opt(v.9.clone())),
                (
                    "storage_location",
                    opt(v.11.as_deref().map(|l| exported(l, dirs))),
                ),
                ("user_id", opt(v.4.clone())),
                ("version", Yaml::Int(v.0)),
            ];
            if let Some(model_id) = source.strip_prefix("models:/m-") {
                meta.push(("model_id", s(&format!("m-{model_id}"))));
            }
            w.yaml(&format!("{vdir}/meta.yaml"), &map(meta))?;
            let tags = query_key_values(
                store.connection(),
                "SELECT key, value FROM model_version_tags WHERE name = ?1 AND version = ?2",
                params![name, v.0],
            )?;
            w.key_values(&format!("{vdir}/tags"), &tags)?;
        }
    }
    Ok(models.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_lines_of_every_mlflow_version_parse_and_garbage_is_named() {
        let m = metric_line("rmse", "1795478946636 0.37779084745503094 0").unwrap();
        assert_eq!(
            (m.timestamp, m.value, m.step),
            (1795478946636, 0.37779084745503094, 0)
        );
        assert!(metric_line("x", "17 nan 2").unwrap().value.is_nan());
        assert_eq!(
            metric_line("x", "17 -inf").unwrap().value,
            f64::NEG_INFINITY
        );
        assert!(metric_line("x", "17 abc 0")
            .unwrap_err()
            .contains("'abc' is not a number"));
        assert!(metric_line("x", "garbage")
            .unwrap_err()
            .contains("not 'timestamp value step'"));
        assert!(metric_line("x", "1.5 2 0")
            .unwrap_err()
            .contains("timestamp"));
    }

    #[test]
    fn floats_are_written_as_python_reprs() {
        assert_eq!(python_float(1.0), "1.0");
        assert_eq!(python_float(0.1), "0.1");
        assert_eq!(python_float(f64::NAN), "nan");
        assert_eq!(python_float(-f64::INFINITY), "-inf");
        assert_eq!(python_float(1e-7).parse::<f64>().unwrap(), 1e-7);
    }

    #[test]
    fn the_store_root_is_found_at_any_depth() {
        let paths = [
            "x/mlruns/0/meta.yaml",
            "x/mlruns/12/r/meta.yaml",
            "x/mlruns/models/m/meta.yaml",
        ];
        assert_eq!(find_root(paths.into_iter()).as_deref(), Some("x/mlruns"));
        assert_eq!(find_root(["0/meta.yaml"].into_iter()).as_deref(), Some(""));
        assert_eq!(
            find_root([".trash/5/meta.yaml"].into_iter()).as_deref(),
            Some("")
        );
        assert_eq!(find_root(["a/b.txt"].into_iter()), None);
    }
}
