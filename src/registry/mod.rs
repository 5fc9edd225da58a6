//! The model registry: registered models, versions, tags, aliases and stages on MLflow's own
//! tables (`registered_models`, `model_versions`, `registered_model_tags`, `model_version_tags`,
//! `registered_model_aliases`; every row in workspace `default`), with MLflow 3.17.2's rules,
//! numbering, timestamps and messages. Operations are `impl Store` methods, each one transaction;
//! [`uri`] resolves `runs:/` and `models:/` URIs to the artifacts this store holds.
//!
//! What MLflow does and Flowbook reproduces:
//! - versions are numbered one past the highest ever made for the model: a deleted version keeps
//!   its row (stage `Deleted_Internal`, source and run redacted), so numbers are never reused;
//! - a version registered from an MLflow 3 logged model (`models:/m-...`) keeps that URI as its
//!   `source`, takes the logged model's artifact location as its storage location (what
//!   `get-download-uri` answers) and its source run as `run_id`, and is listed in the logged
//!   model's `mlflow.modelVersions` tag; `model_id` is not answered (MLflow's SQL store does not);
//! - stages are read in any capitalisation and answered canonically (None, Staging, Production,
//!   Archived); aliases move when set again and go with their version when it is deleted.

pub mod entities;
mod models;
mod search;
pub mod uri;
pub mod validation;
mod versions;

pub use entities::{ModelVersion, RegisteredModel, RegisteredModelAlias};
pub use models::{
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT, SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
};
pub use search::ModelSearch;
pub use uri::{
    parse_model_uri, parse_runs_uri, resolve_artifact_key, resolve_artifact_uri, ModelUri,
};
pub use versions::{
    NewModelVersion, SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD, STATUS_READY,
};

/// MLflow's single-tenant workspace: every registry row Flowbook writes or reads is in it.
pub const WORKSPACE: &str = "default";
