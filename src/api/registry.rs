//! Model registry endpoints of MLflow's REST API (`registered-models/*`, `model-versions/*`):
//! MLflow's methods, request fields and response JSON, with the checks MLflow's handlers make
//! before the store's (required fields, `max_results` bounds).

use super::tracking::{paged, parse, required, to_json};
use super::{not_found, ApiError, ApiResult};
use crate::registry::{
    ModelSearch, NewModelVersion, SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
};
use crate::tracking::entities::de_string_list;
use crate::tracking::{KeyValue, Store};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

/// A string field that may arrive as a JSON number (`"version": 3` from a hand-written call).
fn de_lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => return Err(serde::de::Error::custom(format!("{other} is not a string"))),
    })
}

/// A bool field: JSON true/false, or "true"/"false" (any case) as MLflow reads query strings.
fn de_lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "Invalid boolean value: {}, must be 'true' or 'false'.",
                other
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or(other.to_string())
            )))
        }
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Fields {
    name: Option<String>,
    new_name: Option<String>,
    description: Option<String>,
    tags: Vec<KeyValue>,
    key: Option<String>,
    value: Option<String>,
    alias: Option<String>,
    #[serde(deserialize_with = "de_lenient_string")]
    version: Option<String>,
    source: Option<String>,
    run_id: Option<String>,
    run_link: Option<String>,
    model_id: Option<String>,
    stage: Option<String>,
    #[serde(deserialize_with = "de_lenient_bool")]
    archive_existing_versions: bool,
    #[serde(deserialize_with = "de_string_list")]
    stages: Vec<String>,
    filter: Option<String>,
    /// Kept as sent: MLflow's bound check quotes the value and names its JSON type.
    max_results: Option<Value>,
    #[serde(deserialize_with = "de_string_list")]
    order_by: Vec<String>,
    page_token: Option<String>,
}

fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// MLflow's handler check of `max_results`: an integer no larger than `limit`, else its message.
fn max_results(value: &Option<Value>, limit: i64) -> ApiResult<Option<i64>> {
    let Some(v) = value.as_ref().filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let parsed = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) if n <= limit => Ok(Some(n)),
        _ => Err(ApiError::invalid(format!(
            "Invalid value {} for parameter 'max_results' supplied:  Hint: Value was of type '{}'. \
             See the API docs for more information about request parameters.",
            serde_json::to_string(v).unwrap_or_default(),
            python_type(v)
        ))),
    }
}

/// A repeated field in a response, omitted when empty as proto JSON omits it.
fn listed(key: &str, items: Value) -> Value {
    match items {
        Value::Array(a) if a.is_empty() => json!({}),
        items => json!({ key: items }),
    }
}

impl Fields {
    fn search(&self, limit: i64) -> ApiResult<ModelSearch> {
        Ok(ModelSearch {
            filter: self.filter.clone().unwrap_or_default(),
            max_results: max_results(&self.max_results, limit)?,
            order_by: self.order_by.clone(),
            page_token: self.page_token.clone().filter(|t| !t.is_empty()),
        })
    }
}

pub(super) fn dispatch(
    store: &mut Store,
    method: &str,
    endpoint: &str,
    json: Value,
) -> ApiResult<Value> {
    let f: Fields = parse(json)?;
    let empty = || Ok(json!({}));
    let model = |m| Ok(json!({ "registered_model": to_json(&m)? }));
    let version = |v| Ok(json!({ "model_version": to_json(&v)? }));
    match (method, endpoint) {
        ("POST", "registered-models/create") => {
            let name = required(&f.name, "name")?;
            model(store.create_registered_model(
                name,
                &f.tags,
                Some(f.description.as_deref().unwrap_or("")),
            )?)
        }
        ("GET", "registered-models/get") => {
            model(store.get_registered_model(required(&f.name, "name")?)?)
        }
        ("PATCH", "registered-models/update") => {
            let name = required(&f.name, "name")?;
            model(
                store
                    .update_registered_model(name, Some(f.description.as_deref().unwrap_or("")))?,
            )
        }
        ("POST", "registered-models/rename") => {
            let name = required(&f.name, "name")?;
            let new_name = required(&f.new_name, "new_name")?;
            model(store.rename_registered_model(name, new_name)?)
        }
        ("DELETE", "registered-models/delete") => {
            store.delete_registered_model(required(&f.name, "name")?)?;
            empty()
        }
        ("GET", "registered-models/search") => {
            let q = f.search(SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD)?;
            let (models, token) = store.search_registered_models(&q)?;
            Ok(paged(listed("registered_models", to_json(&models)?), token))
        }
        ("GET" | "POST", "registered-models/get-latest-versions") => {
            let name = required(&f.name, "name")?;
            let versions = store.get_latest_versions(name, &f.stages)?;
            Ok(listed("model_versions", to_json(&versions)?))
        }
        ("POST", "registered-models/set-tag") => {
            let name = required(&f.name, "name")?;
            let key = required(&f.key, "key")?;
            store.set_registered_model_tag(name, key, f.value.as_deref().unwrap_or(""))?;
            empty()
        }
        ("DELETE", "registered-models/delete-tag") => {
            let name = required(&f.name, "name")?;
            store.delete_registered_model_tag(name, required(&f.key, "key")?)?;
            empty()
        }
        ("POST", "registered-models/alias") => {
            let name = required(&f.name, "name")?;
            let alias = required(&f.alias, "alias")?;
            let v = required(&f.version, "version")?;
            store.set_registered_model_alias(name, alias, v)?;
            empty()
        }
        ("DELETE", "registered-models/alias") => {
            let name = required(&f.name, "name")?;
            store.delete_registered_model_alias(name, required(&f.alias, "alias")?)?;
            empty()
        }
        ("GET", "registered-models/alias") => {
            let name = required(&f.name, "name")?;
            version(store.get_model_version_by_alias(name, required(&f.alias, "alias")?)?)
        }
        ("POST", "model-versions/create") => {
            let name = required(&f.name, "name")?;
            let source = required(&f.source, "source")?;
            version(store.create_model_version(&NewModelVersion {
                name,
                source,
                run_id: f.run_id.as_deref(),
                model_id: f.model_id.as_deref(),
                tags: &f.tags,
                run_link: f.run_link.as_deref(),
                description: f.description.as_deref(),
            })?)
        }
        ("GET", "model-versions/get") => {
            let name = required(&f.name, "name")?;
            version(store.get_model_version(name, required(&f.version, "version")?)?)
        }
        ("PATCH", "model-versions/update") => {
            let name = required(&f.name, "name")?;
            let v = required(&f.version, "version")?;
            version(store.update_model_version(name, v, f.description.as_deref())?)
        }
        ("POST", "model-versions/transition-stage") => {
            let name = required(&f.name, "name")?;
            let v = required(&f.version, "version")?;
            let stage = required(&f.stage, "stage")?;
            version(store.transition_model_version_stage(
                name,
                v,
                stage,
                f.archive_existing_versions,
            )?)
        }
        ("DELETE", "model-versions/delete") => {
            let name = required(&f.name, "name")?;
            store.delete_model_version(name, required(&f.version, "version")?)?;
            empty()
        }
        ("GET", "model-versions/get-download-uri") => {
            // MLflow's handler checks no field here: the store's own messages answer.
            let uri = store.get_model_version_download_uri(
                f.name.as_deref().unwrap_or(""),
                f.version.as_deref().unwrap_or(""),
            )?;
            Ok(json!({ "artifact_uri": uri }))
        }
        ("GET", "model-versions/search") => {
            let q = f.search(SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD)?;
            let (versions, token) = store.search_model_versions(&q)?;
            Ok(paged(listed("model_versions", to_json(&versions)?), token))
        }
        ("POST", "model-versions/set-tag") => {
            let name = required(&f.name, "name")?;
            let v = required(&f.version, "version")?;
            let key = required(&f.key, "key")?;
            store.set_model_version_tag(name, v, key, f.value.as_deref().unwrap_or(""))?;
            empty()
        }
        ("DELETE", "model-versions/delete-tag") => {
            let name = required(&f.name, "name")?;
            let v = required(&f.version, "version")?;
            store.delete_model_version_tag(name, v, required(&f.key, "key")?)?;
            empty()
        }
        _ => Err(not_found(method, endpoint)),
    }
}
