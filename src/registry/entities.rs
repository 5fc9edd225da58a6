//! The registry's entities in the JSON shapes of MLflow's REST API 2.0 (`model_registry.proto`):
//! versions are strings, timestamps int64 numbers, unset fields omitted as MLflow omits them.

use crate::tracking::KeyValue;
use serde::Serialize;

/// An alias as a registered model lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredModelAlias {
    pub alias: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVersion {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_stage: Option<String>,
    /// Present even when empty: MLflow stores the request's "" and answers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_link: Option<String>,
    /// Filled where MLflow fills it (get, create, update, transition, by-alias, latest versions),
    /// empty in search results and in a registered model's `latest_versions`, as in MLflow.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl ModelVersion {
    /// The version as a number (MLflow keeps it an INTEGER and answers it as a string).
    pub fn number(&self) -> i64 {
        self.version.parse().unwrap_or(0)
    }
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisteredModel {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<i64>,
    /// Omitted when unset or 0, as MLflow's `to_proto` does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<i64>,
    /// Omitted when empty, as MLflow's `to_proto` does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The newest version in each stage.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub latest_versions: Vec<ModelVersion>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<RegisteredModelAlias>,
}

impl RegisteredModel {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }
    /// The version an alias points to.
    pub fn alias(&self, alias: &str) -> Option<&str> {
        self.aliases
            .iter()
            .find(|a| a.alias == alias)
            .map(|a| a.version.as_str())
    }
}
